/*
 * Schema tracker id mapping across DDL: partitions (physical ids resolve to the
 * partitioned table), TRUNCATE TABLE / TRUNCATE PARTITION (new ids), RENAME TABLE
 * and multi-table RENAME TABLES (newSchemaIDs from raw_args, MultipleTableInfos),
 * EXCHANGE PARTITION (partition and table trade ids), DROP DATABASE, versions
 * applied in order. Job JSON in the shapes of shared/spec/tidb-binlog.md 7.4
 * (pingcap/tidb pkg/meta/model job.go, table.go, partition PartitionInfo).
 */
#include "tr_test.h"

#include <stdarg.h>

#include "common/err.h"
#include "protocol/tidb_schema.h"
#include "relay/schema.h"

static char buf[16384];

/* A table: id INT primary key handle, column v; parts = NULL or "p_id,p_id,..." */
static const char *table_json(int64_t id, const char *name, const char *parts)
{
    static char t[4096];
    char pj[1024] = "null";
    if (parts != NULL) {
        char defs[900] = "";
        char copy[256];
        snprintf(copy, sizeof(copy), "%s", parts);
        int k = 0;
        for (char *tok = strtok(copy, ","); tok != NULL; tok = strtok(NULL, ",")) {
            size_t n = strlen(defs);
            snprintf(defs + n, sizeof(defs) - n, "%s{\"id\":%s,\"name\":{\"O\":\"p%d\",\"L\":\"p%d\"}}",
                     k ? "," : "", tok, k, k);
            k++;
        }
        snprintf(pj, sizeof(pj), "{\"type\":2,\"expr\":\"`id`\",\"enable\":true,\"num\":%d,"
                 "\"definitions\":[%s]}", k, defs);
    }
    snprintf(t, sizeof(t),
             "{\"id\":%lld,\"name\":{\"O\":\"%s\",\"L\":\"%s\"},\"pk_is_handle\":true,"
             "\"cols\":[{\"id\":1,\"name\":{\"O\":\"id\",\"L\":\"id\"},\"offset\":0,\"state\":5,"
             "\"type\":{\"Tp\":3,\"Flag\":3,\"Flen\":11,\"Decimal\":0,\"Charset\":\"binary\","
             "\"Collate\":\"binary\",\"Elems\":null}},"
             "{\"id\":2,\"name\":{\"O\":\"v\",\"L\":\"v\"},\"offset\":1,\"state\":5,"
             "\"type\":{\"Tp\":3,\"Flag\":0,\"Flen\":11,\"Decimal\":0,\"Charset\":\"binary\","
             "\"Collate\":\"binary\",\"Elems\":null}}],\"partition\":%s}",
             (long long)id, name, name, pj);
    return t;
}

/* A finished (synced) job. tinfo/dbinfo/multi/raw_args are JSON texts or "null". */
static const char *job(int64_t id, int type, int64_t schema_id, int64_t table_id, int64_t ver,
                       const char *dbinfo, const char *tinfo, const char *multi,
                       const char *raw_args)
{
    snprintf(buf, sizeof(buf),
             "{\"id\":%lld,\"type\":%d,\"schema_id\":%lld,\"table_id\":%lld,\"schema_name\":\"d\","
             "\"table_name\":\"t\",\"state\":6,\"query\":\"q\",\"raw_args\":%s,\"binlog\":{"
             "\"SchemaVersion\":%lld,\"DBInfo\":%s,\"TableInfo\":%s,\"FinishedTS\":1,"
             "\"MultipleTableInfos\":%s}}",
             (long long)id, type, (long long)schema_id, (long long)table_id, raw_args,
             (long long)ver, dbinfo, tinfo, multi);
    return buf;
}

static void add(tr_schema_t *s, int64_t id, const char *js)
{
    const char *why = NULL;
    int rc = tr_schema_add_job(s, id, js, strlen(js), &why);
    if (rc != 0) {
        TR_FAIL_AT("job %lld: %s", (long long)id, why ? why : "?");
    }
}

static void advance(tr_schema_t *s, int64_t v)
{
    const char *why = NULL;
    int rc = tr_schema_advance(s, v, &why);
    if (rc != 0) {
        TR_FAIL_AT("advance %lld: %s", (long long)v, why ? why : "?");
    }
}

static int64_t id_of(tr_schema_t *s, int64_t id)
{
    const tr_table_info_t *t = tr_schema_table(s, id);
    return t != NULL ? t->id : -1;
}

static const char *name_of(tr_schema_t *s, int64_t id)
{
    const tr_table_info_t *t = tr_schema_table(s, id);
    return t != NULL ? t->name : "(none)";
}

static void two_dbs(tr_schema_t *s)
{
    add(s, 2, job(2, 1, 10, 0, 1, "{\"id\":10,\"db_name\":{\"O\":\"d\",\"L\":\"d\"}}", "null",
                  "null", "null"));
    add(s, 3, job(3, 1, 11, 0, 2, "{\"id\":11,\"db_name\":{\"O\":\"e\",\"L\":\"e\"}}", "null",
                  "null", "null"));
}

TR_TEST(partition_ids_map_to_parent)
{
    tr_schema_t *s = tr_schema_new();
    two_dbs(s);
    add(s, 21, job(21, 3, 10, 20, 3, "null", table_json(20, "pt", "22,23,24"), "null", "null"));
    advance(s, 3);
    EXPECT_EQ_INT(id_of(s, 20), 20);
    EXPECT_EQ_INT(id_of(s, 22), 20);
    EXPECT_EQ_INT(id_of(s, 24), 20);
    EXPECT_EQ_INT(id_of(s, 25), -1);
    EXPECT_EQ_INT(tr_schema_table(s, 23)->n_parts, 3);
    EXPECT_EQ_STR(tr_schema_db_name(s, tr_schema_table(s, 23)->schema_id), "d");
    /* TRUNCATE PARTITION p1 (23): new physical id 26 (pkg/ddl partition.go onTruncateTablePartition) */
    add(s, 27, job(27, 23, 10, 20, 4, "null", table_json(20, "pt", "22,26,24"), "null", "null"));
    /* ADD PARTITION: 28 */
    add(s, 29, job(29, 19, 10, 20, 6, "null", table_json(20, "pt", "22,26,24,28"), "null", "null"));
    /* DROP PARTITION p0 (22) */
    add(s, 30, job(30, 20, 10, 20, 8, "null", table_json(20, "pt", "26,24,28"), "null", "null"));
    advance(s, 4);
    EXPECT_EQ_INT(id_of(s, 23), -1);
    EXPECT_EQ_INT(id_of(s, 26), 20);
    EXPECT_EQ_INT(id_of(s, 28), -1); /* not applied yet: version 6 > 4 */
    advance(s, 8);
    EXPECT_EQ_INT(id_of(s, 28), 20);
    EXPECT_EQ_INT(id_of(s, 22), -1);
    EXPECT_EQ_INT(id_of(s, 24), 20);
    /* TRUNCATE TABLE: new table id 31 and new partition ids */
    add(s, 35, job(35, 11, 10, 20, 9, "null", table_json(31, "pt", "32,33,34"), "null", "null"));
    advance(s, 9);
    EXPECT_EQ_INT(id_of(s, 20), -1);
    EXPECT_EQ_INT(id_of(s, 26), -1);
    EXPECT_EQ_INT(id_of(s, 31), 31);
    EXPECT_EQ_INT(id_of(s, 33), 31);
    /* DROP TABLE: the partitions go too */
    add(s, 36, job(36, 4, 10, 31, 12, "null", table_json(31, "pt", "32,33,34"), "null", "null"));
    advance(s, 12);
    EXPECT_EQ_INT(id_of(s, 31), -1);
    EXPECT_EQ_INT(id_of(s, 32), -1);
    tr_schema_free(s);
}

TR_TEST(exchange_partition_swaps_ids)
{
    tr_schema_t *s = tr_schema_new();
    two_dbs(s);
    add(s, 41, job(41, 3, 10, 40, 3, "null", table_json(40, "pt", "42,43"), "null", "null"));
    add(s, 51, job(51, 3, 11, 50, 4, "null", table_json(50, "nt", NULL), "null", "null"));
    /* ALTER TABLE pt EXCHANGE PARTITION p0 WITH TABLE e.nt: job of nt (table 50, schema 11),
     * TableInfo = pt with partition p0's id now 50; nt continues as table 42. */
    add(s, 52, job(52, 42, 11, 50, 5, "null", table_json(40, "pt", "50,43"), "null",
                   "[42,10,40,\"p0\",true]"));
    advance(s, 5);
    EXPECT_EQ_INT(id_of(s, 50), 40);
    EXPECT_EQ_INT(id_of(s, 43), 40);
    EXPECT_EQ_INT(id_of(s, 42), 42);
    EXPECT_EQ_STR(name_of(s, 42), "nt");
    EXPECT_EQ_STR(tr_schema_db_name(s, tr_schema_table(s, 42)->schema_id), "e");
    EXPECT_EQ_STR(tr_schema_db_name(s, tr_schema_table(s, 50)->schema_id), "d");
    /* and back again: nt (now 42) exchanged with partition p0 (now 50) */
    add(s, 53, job(53, 42, 11, 42, 6, "null", table_json(40, "pt", "42,43"), "null",
                   "[50,10,40,\"p0\",true]"));
    advance(s, 6);
    EXPECT_EQ_INT(id_of(s, 42), 40);
    EXPECT_EQ_INT(id_of(s, 50), 50);
    EXPECT_EQ_STR(name_of(s, 50), "nt");
    /* a later ALTER on nt carries its TableInfo under its current id */
    add(s, 54, job(54, 5, 11, 50, 8, "null", table_json(50, "nt2", NULL), "null", "null"));
    advance(s, 8);
    EXPECT_EQ_STR(name_of(s, 50), "nt2");
    tr_schema_free(s);
}

TR_TEST(rename_tables_and_database_drop)
{
    tr_schema_t *s = tr_schema_new();
    two_dbs(s);
    add(s, 61, job(61, 3, 10, 60, 3, "null", table_json(60, "a", NULL), "null", "null"));
    add(s, 63, job(63, 3, 10, 62, 4, "null", table_json(62, "b", "64,65"), "null", "null"));
    /* RENAME TABLE d.a TO e.a2: job schema_id = the new schema (ddl_api.go renameTable) */
    add(s, 66, job(66, 14, 11, 60, 5, "null", table_json(60, "a2", NULL), "null", "null"));
    advance(s, 5);
    EXPECT_EQ_STR(name_of(s, 60), "a2");
    EXPECT_EQ_STR(tr_schema_db_name(s, tr_schema_table(s, 60)->schema_id), "e");
    /* RENAME TABLE e.a2 TO d.a3, d.b TO e.b2 (ActionRenameTables, raw_args v1:
     * [oldSchemaIDs, newSchemaIDs, newTableNames, oldTableIDs, oldSchemaNames, oldTableNames]) */
    char multi[2 * 4096 + 8];
    char t1[4096];
    snprintf(t1, sizeof(t1), "%s", table_json(60, "a3", NULL));
    snprintf(multi, sizeof(multi), "[%s,%s]", t1, table_json(62, "b2", "64,65"));
    char js[sizeof(buf)];
    snprintf(js, sizeof(js), "%s",
             job(67, 47, 11, 60, 6, "null", "null", multi,
                 "[[11,10],[10,11],[{\"O\":\"a3\",\"L\":\"a3\"},{\"O\":\"b2\",\"L\":\"b2\"}],"
                 "[60,62],[{\"O\":\"e\",\"L\":\"e\"},{\"O\":\"d\",\"L\":\"d\"}]]"));
    add(s, 67, js);
    advance(s, 6);
    EXPECT_EQ_STR(name_of(s, 60), "a3");
    EXPECT_EQ_STR(tr_schema_db_name(s, tr_schema_table(s, 60)->schema_id), "d");
    EXPECT_EQ_STR(name_of(s, 65), "b2");
    EXPECT_EQ_STR(tr_schema_db_name(s, tr_schema_table(s, 65)->schema_id), "e");
    /* DROP DATABASE e: b2 and its partitions go, a3 (in d) stays */
    add(s, 68, job(68, 2, 11, 0, 9, "{\"id\":11,\"db_name\":{\"O\":\"e\",\"L\":\"e\"}}", "null",
                   "null", "null"));
    advance(s, 9);
    EXPECT_EQ_INT(id_of(s, 62), -1);
    EXPECT_EQ_INT(id_of(s, 64), -1);
    EXPECT_EQ_INT(id_of(s, 60), 60);
    EXPECT_TRUE(tr_schema_db_name(s, 11) == NULL);
    tr_schema_free(s);
}

/* DROP COLUMN: the history holds the finished job only; rows written while the column was
 * being dropped carry older schema versions and keep the version before. */
TR_TEST(versions_apply_in_order_not_before)
{
    tr_schema_t *s = tr_schema_new();
    two_dbs(s);
    add(s, 71, job(71, 3, 10, 70, 3, "null", table_json(70, "t", NULL), "null", "null"));
    advance(s, 3);
    add(s, 72, job(72, 6, 10, 70, 7, "null", table_json(70, "t_dropped", NULL), "null", "null"));
    advance(s, 5); /* DML at the delete-only version */
    EXPECT_EQ_STR(name_of(s, 70), "t");
    advance(s, 7);
    EXPECT_EQ_STR(name_of(s, 70), "t_dropped");
    EXPECT_EQ_INT(tr_schema_job(s, 72)->type, TR_TIDB_ACTION_DROP_COLUMN);
    tr_schema_free(s);
}

TR_TEST(bad_multi_infos_rejected)
{
    tr_schema_t *s = tr_schema_new();
    const char *js = job(81, 47, 10, 80, 3, "null", "null", "[3]", "[[1],[2]]");
    const char *why = NULL;
    EXPECT_TRUE(tr_schema_add_job(s, 81, js, strlen(js), &why) != 0);
    js = job(82, 3, 10, 80, 3, "null", "{\"id\":80,\"partition\":7}", "null", "null");
    EXPECT_TRUE(tr_schema_add_job(s, 82, js, strlen(js), &why) != 0);
    tr_schema_free(s);
}

static uint64_t tid_of(tr_schema_t *s, int64_t id)
{
    const tr_table_info_t *t = tr_schema_table(s, id);
    return t != NULL ? t->binlog_table_id : 0;
}

/* The whole history of table_ids_follow_definitions, applied up to version v. */
static tr_schema_t *tid_history(int64_t v)
{
    tr_schema_t *s = tr_schema_new();
    two_dbs(s);
    add(s, 91, job(91, 3, 10, 90, 3, "null", table_json(90, "a", NULL), "null", "null"));
    add(s, 93, job(93, 3, 10, 92, 4, "null", table_json(92, "pt", "94,95"), "null", "null"));
    add(s, 96, job(96, 5, 10, 90, 5, "null", table_json(90, "a", NULL), "null", "null"));
    add(s, 97, job(97, 14, 11, 90, 6, "null", table_json(90, "a2", NULL), "null", "null"));
    add(s, 98, job(98, 11, 11, 90, 7, "null", table_json(99, "a2", NULL), "null", "null"));
    add(s, 100, job(100, 23, 10, 92, 8, "null", table_json(92, "pt", "94,101"), "null", "null"));
    add(s, 102, job(102, 42, 11, 99, 9, "null", table_json(92, "pt", "99,101"), "null",
                    "[94,10,92,\"p0\",true]"));
    add(s, 103, job(103, 26, 10, 0, 10, "{\"id\":10,\"db_name\":{\"O\":\"d\",\"L\":\"d\"}}",
                    "null", "null", "null"));
    advance(s, v);
    return s;
}

/* Binlog table ids (issue 14): a new one for every DDL that makes a new version of a
 * table current, the same one between two DDLs, never one given before, and a
 * function of the history alone. */
TR_TEST(table_ids_follow_definitions)
{
    tr_schema_t *s = tid_history(4);
    uint64_t a = tid_of(s, 90);
    uint64_t pt = tid_of(s, 92);
    EXPECT_TRUE(a != 0 && pt != 0 && a != pt);
    EXPECT_EQ_U64(tid_of(s, 95), pt); /* a partition's rows use the parent's id */
    advance(s, 4);                    /* no DDL: same ids */
    EXPECT_EQ_U64(tid_of(s, 90), a);
    uint64_t seen[16] = {a, pt};
    size_t n_seen = 2;
    /* ADD COLUMN (5), RENAME to another database (6), TRUNCATE (7, new TiDB id 99),
     * TRUNCATE PARTITION (8), EXCHANGE PARTITION (9: both tables): each a new id. */
    const struct {
        int64_t version;
        int64_t table;
    } steps[] = {{5, 90}, {6, 90}, {7, 99}, {8, 92}, {9, 92}, {9, 94}};
    for (size_t i = 0; i < TR_ARRAY_LEN(steps); i++) {
        advance(s, steps[i].version);
        uint64_t id = tid_of(s, steps[i].table);
        EXPECT_TRUE(id != 0);
        for (size_t k = 0; k < n_seen; k++) {
            EXPECT_TRUE(seen[k] != id);
        }
        seen[n_seen++] = id;
    }
    EXPECT_EQ_STR(name_of(s, 94), "a2"); /* the exchanged table lives on as 94 */
    /* ALTER DATABASE touches no table: ids stay. */
    uint64_t before = tid_of(s, 92);
    advance(s, 10);
    EXPECT_EQ_U64(tid_of(s, 92), before);
    /* Replaying the stored history at once (a restart) gives the same ids. */
    tr_schema_t *r = tid_history(10);
    EXPECT_EQ_U64(tid_of(r, 92), tid_of(s, 92));
    EXPECT_EQ_U64(tid_of(r, 94), tid_of(s, 94));
    EXPECT_EQ_U64(tid_of(r, 99), tid_of(s, 99));
    tr_schema_free(r);
    tr_schema_free(s);
}

TR_TEST(table_ids_skip_reserved_values)
{
    EXPECT_EQ_U64(tr_schema_table_id_after(0), 1);
    EXPECT_EQ_U64(tr_schema_table_id_after(41), 42);
    /* 0x00FFFFFF (MySQL's dummy id with 4-byte table ids) and 0xFFFFFFFFFFFF (the 6-byte
     * field all ones) are never handed out. */
    EXPECT_EQ_U64(tr_schema_table_id_after(0x00FFFFFEull), 0x01000000ull);
    EXPECT_EQ_U64(tr_schema_table_id_after(0xFFFFFFFFFFFEull), 0x1000000000000ull);
}

TR_TEST_MAIN()
