/*
 * DDL job / TableInfo JSON → column model and MySQL column defs, and the
 * schema history tracker (create/drop schema, create/drop/truncate table,
 * version ordering). Job JSON from tests/vectors/tidb/ (shapes of
 * shared/spec/tidb-binlog.md 7.4).
 */
#include "tr_test.h"

#include "common/err.h"
#include "protocol/rows.h"
#include "protocol/tidb_schema.h"
#include "common/config.h"
#include "relay/schema.h"
#include "relay/schema_fetch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static char *load(const char *rel, size_t *len)
{
    uint8_t *p = tr_test_read_file(rel, len);
    return (char *)p;
}

TR_TEST(parse_create_table_job)
{
    size_t len = 0;
    char *js = load("tests/vectors/tidb/job_create_table.json", &len);
    EXPECT_TRUE(js != NULL);
    if (js == NULL) {
        return;
    }
    tr_ddl_job_t job;
    const char *why = NULL;
    int rc = tr_ddl_job_parse(js, len, &job, &why);
    EXPECT_EQ_INT(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "why: %s\n", why);
        free(js);
        return;
    }
    EXPECT_EQ_INT(job.id, 110);
    EXPECT_EQ_INT(job.type, TR_TIDB_ACTION_CREATE_TABLE);
    EXPECT_EQ_INT(job.schema_id, 104);
    EXPECT_EQ_INT(job.table_id, 109);
    EXPECT_EQ_STR(job.schema_name, "d");
    EXPECT_EQ_STR(job.table_name, "t");
    EXPECT_EQ_INT(job.state, TR_TIDB_JOB_SYNCED);
    EXPECT_EQ_INT(job.schema_version, 57);
    EXPECT_EQ_U64(job.finished_ts, 450123456789012490ull);
    EXPECT_TRUE(!job.has_db_info);
    const tr_table_info_t *t = job.table_info;
    EXPECT_TRUE(t != NULL);
    if (t == NULL) {
        tr_ddl_job_cleanup(&job);
        free(js);
        return;
    }
    EXPECT_EQ_INT(t->id, 109);
    EXPECT_EQ_STR(t->name, "t");
    EXPECT_TRUE(t->pk_is_handle);
    EXPECT_TRUE(!t->is_common_handle);
    EXPECT_EQ_INT(t->handle_col_id, 1);
    EXPECT_EQ_INT(t->n_cols, 5);
    EXPECT_EQ_INT(t->n_public, 5);
    const tr_col_def_t *d = t->public_defs;
    /* id bigint primary key */
    EXPECT_EQ_INT(d[0].type, TR_MYSQL_TYPE_LONGLONG);
    EXPECT_TRUE(!d[0].nullable);
    EXPECT_TRUE(!d[0].is_unsigned);
    EXPECT_EQ_STR(d[0].name, "id");
    /* name varchar(20) utf8mb4_bin: 80 bytes */
    EXPECT_EQ_INT(d[1].type, TR_MYSQL_TYPE_VARCHAR);
    EXPECT_EQ_INT(d[1].meta, 80);
    EXPECT_EQ_INT(d[1].collation, 46);
    EXPECT_TRUE(d[1].nullable);
    /* amount decimal(10,2) */
    EXPECT_EQ_INT(d[2].type, TR_MYSQL_TYPE_NEWDECIMAL);
    EXPECT_EQ_INT(d[2].meta, 10 << 8 | 2);
    EXPECT_EQ_INT(d[2].collation, 0);
    /* ts datetime(3) */
    EXPECT_EQ_INT(d[3].type, TR_MYSQL_TYPE_DATETIME2);
    EXPECT_EQ_INT(d[3].meta, 3);
    /* note text: BLOB with a 2-byte length */
    EXPECT_EQ_INT(d[4].type, TR_MYSQL_TYPE_BLOB);
    EXPECT_EQ_INT(d[4].meta, 2);
    EXPECT_EQ_INT(d[4].collation, 46);
    EXPECT_TRUE(d[4].nullable);
    const tr_tidb_column_t *c = tr_table_info_col(t, 4);
    EXPECT_TRUE(c != NULL && c->decimal == 3 && c->is_supported);
    EXPECT_TRUE(tr_table_info_col(t, 99) == NULL);
    tr_ddl_job_cleanup(&job);

    /* Every truncation fails cleanly. */
    for (size_t k = 0; k < len; k += 7) {
        tr_ddl_job_t j2;
        rc = tr_ddl_job_parse(js, k, &j2, &why);
        EXPECT_EQ_INT(rc, TR_EMALFORMED);
        tr_ddl_job_cleanup(&j2);
    }
    free(js);
}

/* A number outside int64 where an integer is expected is a malformed job, not an
 * undefined conversion (found by fuzz_tidb_schema: "ta":1e28 next to a real job). */
TR_TEST(out_of_range_numbers_are_malformed)
{
    static const char *const docs[] = {
        "{\"id\":1e28,\"type\":3,\"schema_id\":104,\"table_id\":109}",
        "{\"id\":-1e19,\"type\":3,\"schema_id\":104,\"table_id\":109}",
        "{\"id\":110,\"type\":3,\"schema_id\":9.3e18,\"table_id\":109}",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        tr_ddl_job_t job;
        const char *why = NULL;
        int rc = tr_ddl_job_parse(docs[i], strlen(docs[i]), &job, &why);
        EXPECT_TRUE(rc != 0);
        EXPECT_TRUE(why != NULL);
        tr_ddl_job_cleanup(&job); /* also after an error (tidb_schema.h) */
    }
}

/* The definition details the schema catalogue shows: defaults (text, BIT bytes in base64,
 * expressions), comments, generated expressions, hidden columns, flags, CHAR/BINARY pad
 * bytes, public indexes with prefix lengths, RANGE and LIST partitions, view text. Field
 * names and shapes as TiDB's model package writes them (pkg/meta/model: ColumnInfo,
 * IndexInfo, PartitionInfo, ViewInfo). */
TR_TEST(definition_details)
{
    static const char *const job =
        "{\"id\":200,\"type\":3,\"schema_id\":104,\"table_id\":199,\"state\":6,\"query\":\"q\","
        "\"binlog\":{\"SchemaVersion\":80,\"TableInfo\":{\"id\":199,\"name\":{\"O\":\"T\"},"
        "\"charset\":\"utf8mb4\",\"collate\":\"utf8mb4_bin\",\"comment\":\"tc\","
        "\"pk_is_handle\":false,\"cols\":["
        "{\"id\":1,\"name\":{\"O\":\"a\"},\"offset\":0,\"state\":5,\"default\":\"7\","
        "\"comment\":\"ca\",\"generated_expr_string\":\"\",\"type\":{\"Tp\":3,"
        "\"Flag\":4163,\"Flen\":11,\"Decimal\":0,\"Charset\":\"binary\",\"Collate\":\"binary\"}},"
        "{\"id\":2,\"name\":{\"O\":\"b\"},\"offset\":1,\"state\":5,\"default\":null,"
        "\"default_bit\":\"AQI=\",\"generated_expr_string\":\"\",\"type\":{\"Tp\":16,"
        "\"Flag\":0,\"Flen\":16,\"Decimal\":0,\"Charset\":\"binary\",\"Collate\":\"binary\"}},"
        "{\"id\":3,\"name\":{\"O\":\"c\"},\"offset\":2,\"state\":5,\"default\":"
        "\"CURRENT_TIMESTAMP\",\"default_is_expr\":false,\"generated_expr_string\":\"\","
        "\"type\":{\"Tp\":12,\"Flag\":8192,\"Flen\":19,\"Decimal\":0,\"Charset\":\"binary\","
        "\"Collate\":\"binary\"}},"
        "{\"id\":4,\"name\":{\"O\":\"d\"},\"offset\":3,\"state\":5,\"default\":3,"
        "\"generated_expr_string\":\"`a` * 2\",\"generated_stored\":true,\"type\":{\"Tp\":8,"
        "\"Flag\":8388608,\"Flen\":20,\"Decimal\":0,\"Charset\":\"binary\","
        "\"Collate\":\"binary\"}},"
        "{\"id\":5,\"name\":{\"O\":\"e\"},\"offset\":4,\"state\":5,\"generated_expr_string\":"
        "\"\",\"type\":{\"Tp\":254,\"Flag\":128,\"Flen\":8,\"Decimal\":0,\"Charset\":\"binary\","
        "\"Collate\":\"binary\"}},"
        "{\"id\":6,\"name\":{\"O\":\"f\"},\"offset\":5,\"state\":5,\"generated_expr_string\":"
        "\"\",\"type\":{\"Tp\":254,\"Flag\":0,\"Flen\":4,\"Decimal\":0,\"Charset\":\"utf8mb4\","
        "\"Collate\":\"utf8mb4_bin\"}},"
        "{\"id\":7,\"name\":{\"O\":\"_V$_i_0\"},\"offset\":6,\"state\":5,\"hidden\":true,"
        "\"generated_expr_string\":\"lower(`f`)\",\"type\":{\"Tp\":15,\"Flag\":0,\"Flen\":4,"
        "\"Decimal\":0,\"Charset\":\"utf8mb4\",\"Collate\":\"utf8mb4_bin\"}}],"
        "\"index_info\":["
        "{\"id\":1,\"idx_name\":{\"O\":\"k_f\"},\"idx_cols\":[{\"name\":{\"O\":\"f\"},"
        "\"offset\":5,\"length\":2}],\"state\":5,\"comment\":\"ic\",\"index_type\":1,"
        "\"is_unique\":true},"
        "{\"id\":2,\"idx_name\":{\"O\":\"k_new\"},\"idx_cols\":[{\"name\":{\"O\":\"a\"},"
        "\"offset\":0,\"length\":-1}],\"state\":3,\"index_type\":1}],"
        "\"partition\":{\"type\":1,\"expr\":\"`a`\",\"columns\":null,\"definitions\":["
        "{\"id\":301,\"name\":{\"O\":\"p0\"},\"less_than\":[\"10\"],\"comment\":\"\"},"
        "{\"id\":302,\"name\":{\"O\":\"p1\"},\"less_than\":[\"MAXVALUE\"],\"comment\":\"pc\"}]}"
        "}}}";
    tr_ddl_job_t j;
    const char *why = NULL;
    int rc = tr_ddl_job_parse(job, strlen(job), &j, &why);
    EXPECT_EQ_INT(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "why: %s\n", why);
        tr_ddl_job_cleanup(&j);
        return;
    }
    const tr_table_info_t *t = j.table_info;
    EXPECT_EQ_STR(t->charset, "utf8mb4");
    EXPECT_EQ_STR(t->collate, "utf8mb4_bin");
    EXPECT_EQ_STR(t->comment, "tc");
    EXPECT_TRUE(t->view_select == NULL);
    const tr_tidb_column_t *a = tr_table_info_col(t, 1);
    EXPECT_EQ_STR(a->default_value, "7");
    EXPECT_EQ_STR(a->comment, "ca");
    EXPECT_EQ_STR(a->gen_expr, "");
    EXPECT_TRUE((a->flag & TR_TIDB_FLAG_ZEROFILL) != 0 && !a->hidden);
    const tr_tidb_column_t *b = tr_table_info_col(t, 2);
    EXPECT_TRUE(b->default_value == NULL);
    EXPECT_EQ_INT(b->default_bit_len, 2);
    EXPECT_TRUE(b->default_bit != NULL && b->default_bit[0] == 1 && b->default_bit[1] == 2);
    const tr_tidb_column_t *c = tr_table_info_col(t, 3);
    EXPECT_EQ_STR(c->default_value, "CURRENT_TIMESTAMP");
    EXPECT_TRUE((c->flag & TR_TIDB_FLAG_ON_UPDATE_NOW) != 0);
    const tr_tidb_column_t *d = tr_table_info_col(t, 4);
    EXPECT_EQ_STR(d->default_value, "3"); /* a number written as text */
    EXPECT_EQ_STR(d->gen_expr, "`a` * 2");
    EXPECT_TRUE(d->is_generated && d->is_stored);
    EXPECT_EQ_INT(tr_table_info_col(t, 5)->pad_char, 0x00); /* BINARY(8) */
    EXPECT_EQ_INT(tr_table_info_col(t, 6)->pad_char, ' ');  /* CHAR(4) */
    EXPECT_TRUE(tr_table_info_col(t, 7)->hidden);
    /* only the public index; k_f's prefix length kept */
    EXPECT_EQ_INT(t->n_indexes, 1);
    EXPECT_EQ_STR(t->indexes[0].name, "k_f");
    EXPECT_TRUE(t->indexes[0].is_unique && !t->indexes[0].is_primary);
    EXPECT_EQ_STR(t->indexes[0].comment, "ic");
    EXPECT_EQ_INT(t->indexes[0].n_cols, 1);
    EXPECT_EQ_INT(t->indexes[0].cols[0].offset, 5);
    EXPECT_EQ_INT(t->indexes[0].cols[0].length, 2);
    /* RANGE partitions */
    EXPECT_EQ_INT(t->part_type, 1);
    EXPECT_EQ_STR(t->part_expr, "`a`");
    EXPECT_EQ_STR(t->part_columns, "");
    EXPECT_EQ_INT(t->n_parts, 2);
    EXPECT_EQ_INT(t->part_ids[1], 302);
    EXPECT_EQ_STR(t->part_defs[0].name, "p0");
    EXPECT_EQ_STR(t->part_defs[0].less_than, "10");
    EXPECT_EQ_STR(t->part_defs[1].less_than, "MAXVALUE");
    EXPECT_EQ_STR(t->part_defs[1].comment, "pc");
    EXPECT_TRUE(t->part_defs[0].in_values == NULL);
    tr_ddl_job_cleanup(&j);

    /* LIST COLUMNS partitions and a view */
    static const char *const job2 =
        "{\"id\":201,\"type\":3,\"schema_id\":104,\"table_id\":198,\"state\":6,\"query\":\"q\","
        "\"binlog\":{\"SchemaVersion\":81,\"DBInfo\":{\"id\":104,\"db_name\":{\"O\":\"d\"},"
        "\"charset\":\"latin1\",\"collate\":\"latin1_bin\"},\"TableInfo\":{\"id\":198,"
        "\"name\":{\"O\":\"L\"},\"cols\":[{\"id\":1,\"name\":{\"O\":\"a\"},\"offset\":0,"
        "\"state\":5,\"generated_expr_string\":\"\",\"type\":{\"Tp\":3,\"Flag\":0,\"Flen\":11,"
        "\"Decimal\":0,\"Charset\":\"binary\",\"Collate\":\"binary\"}}],"
        "\"partition\":{\"type\":3,\"expr\":\"\",\"columns\":[{\"O\":\"a\"}],\"definitions\":["
        "{\"id\":311,\"name\":{\"O\":\"p0\"},\"in_values\":[[\"1\"],[\"2\"]]},"
        "{\"id\":312,\"name\":{\"O\":\"p1\"},\"in_values\":[[\"3\",\"4\"]]}]},"
        "\"view\":{\"view_select\":\"SELECT 1\"}}}}";
    rc = tr_ddl_job_parse(job2, strlen(job2), &j, &why);
    EXPECT_EQ_INT(rc, 0);
    if (rc == 0) {
        EXPECT_EQ_STR(j.db_charset, "latin1");
        EXPECT_EQ_STR(j.db_collate, "latin1_bin");
        t = j.table_info;
        EXPECT_EQ_STR(t->part_columns, "`a`");
        EXPECT_EQ_STR(t->part_defs[0].in_values, "1,2");
        EXPECT_EQ_STR(t->part_defs[1].in_values, "(3,4)");
        EXPECT_TRUE(t->is_view);
        EXPECT_EQ_STR(t->view_select, "SELECT 1");
        EXPECT_EQ_STR(t->comment, ""); /* absent */
    }
    tr_ddl_job_cleanup(&j);

    /* wrong JSON types are malformed jobs, not crashes */
    static const char *const bad[] = {
        "{\"id\":1,\"type\":3,\"schema_id\":1,\"table_id\":2,\"binlog\":{\"SchemaVersion\":1,"
        "\"TableInfo\":{\"id\":2,\"name\":{\"O\":\"t\"},\"cols\":[],\"index_info\":[7]}}}",
        "{\"id\":1,\"type\":3,\"schema_id\":1,\"table_id\":2,\"binlog\":{\"SchemaVersion\":1,"
        "\"TableInfo\":{\"id\":2,\"name\":{\"O\":\"t\"},\"cols\":[{\"id\":1,\"name\":{\"O\":"
        "\"a\"},\"offset\":0,\"state\":5,\"default_bit\":\"@@@\",\"generated_expr_string\":\"\","
        "\"type\":{\"Tp\":16,\"Flag\":0,\"Flen\":1,\"Decimal\":0}}]}}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rc = tr_ddl_job_parse(bad[i], strlen(bad[i]), &j, &why);
        EXPECT_TRUE(rc != 0);
        tr_ddl_job_cleanup(&j);
    }
}

TR_TEST(column_type_mapping)
{
    /* A TableInfo with the other types: unsigned ints, char, binary, enum, set, bit, json. */
    static const char ti[] =
        "{\"id\":200,\"name\":{\"O\":\"x\",\"L\":\"x\"},\"pk_is_handle\":false,"
        "\"cols\":["
        "{\"id\":1,\"name\":{\"O\":\"a\"},\"offset\":0,\"state\":5,\"type\":{\"Tp\":1,\"Flag\":32,"
        "\"Flen\":3,\"Decimal\":0,\"Charset\":\"binary\",\"Collate\":\"binary\"}},"
        "{\"id\":2,\"name\":{\"O\":\"b\"},\"offset\":1,\"state\":5,\"type\":{\"Tp\":254,\"Flag\":0,"
        "\"Flen\":10,\"Decimal\":0,\"Charset\":\"utf8mb4\",\"Collate\":\"utf8mb4_general_ci\"}},"
        "{\"id\":3,\"name\":{\"O\":\"c\"},\"offset\":2,\"state\":5,\"type\":{\"Tp\":15,\"Flag\":128,"
        "\"Flen\":16,\"Decimal\":0,\"Charset\":\"binary\",\"Collate\":\"binary\"}},"
        "{\"id\":4,\"name\":{\"O\":\"e\"},\"offset\":3,\"state\":5,\"type\":{\"Tp\":247,\"Flag\":0,"
        "\"Flen\":1,\"Decimal\":0,\"Charset\":\"utf8mb4\",\"Collate\":\"utf8mb4_bin\","
        "\"Elems\":[\"x\",\"y\"]}},"
        "{\"id\":5,\"name\":{\"O\":\"s\"},\"offset\":4,\"state\":5,\"type\":{\"Tp\":248,\"Flag\":0,"
        "\"Flen\":3,\"Decimal\":0,\"Charset\":\"utf8mb4\",\"Collate\":\"utf8mb4_bin\","
        "\"Elems\":[\"p\",\"q\",\"r\",\"s\",\"t\",\"u\",\"v\",\"w\",\"z\"]}},"
        "{\"id\":6,\"name\":{\"O\":\"bt\"},\"offset\":5,\"state\":5,\"type\":{\"Tp\":16,\"Flag\":32,"
        "\"Flen\":10,\"Decimal\":0,\"Charset\":\"binary\",\"Collate\":\"binary\"}},"
        "{\"id\":8,\"name\":{\"O\":\"late\"},\"offset\":7,\"state\":2,\"type\":{\"Tp\":3,\"Flag\":0,"
        "\"Flen\":11,\"Decimal\":0,\"Charset\":\"binary\",\"Collate\":\"binary\"}},"
        "{\"id\":7,\"name\":{\"O\":\"j\"},\"offset\":6,\"state\":5,\"type\":{\"Tp\":245,\"Flag\":128,"
        "\"Flen\":-1,\"Decimal\":0,\"Charset\":\"binary\",\"Collate\":\"binary\"}}"
        "]}";
    const char *why = NULL;
    tr_table_info_t *t = tr_table_info_parse(ti, sizeof(ti) - 1, &why);
    EXPECT_TRUE(t != NULL);
    if (t == NULL) {
        fprintf(stderr, "why: %s\n", why);
        return;
    }
    EXPECT_TRUE(!t->pk_is_handle);
    EXPECT_EQ_INT(t->handle_col_id, TR_TIDB_EXTRA_HANDLE_ID);
    EXPECT_EQ_INT(t->n_cols, 8);
    EXPECT_EQ_INT(t->n_public, 7); /* "late" is write-only */
    const tr_col_def_t *d = t->public_defs;
    EXPECT_EQ_INT(d[0].type, TR_MYSQL_TYPE_TINY);
    EXPECT_TRUE(d[0].is_unsigned);
    EXPECT_EQ_INT(d[1].type, TR_MYSQL_TYPE_STRING);
    EXPECT_EQ_INT(d[1].meta, tr_rows_string_meta(TR_MYSQL_TYPE_STRING, 40));
    EXPECT_EQ_INT(d[1].collation, 45);
    EXPECT_EQ_INT(d[2].type, TR_MYSQL_TYPE_VARCHAR);
    EXPECT_EQ_INT(d[2].meta, 16);
    EXPECT_EQ_INT(d[2].collation, 63);
    EXPECT_EQ_INT(d[3].type, TR_MYSQL_TYPE_STRING);
    EXPECT_EQ_INT(d[3].meta, tr_rows_string_meta(TR_MYSQL_TYPE_ENUM, 1));
    EXPECT_EQ_INT(d[4].meta, tr_rows_string_meta(TR_MYSQL_TYPE_SET, 2));
    EXPECT_EQ_INT(d[5].type, TR_MYSQL_TYPE_BIT);
    EXPECT_EQ_INT(d[5].meta, 1 << 8 | 2);
    EXPECT_EQ_STR(d[6].name, "j"); /* sorted by offset */
    /* JSON: MySQL's type 245 with a 4-byte length; the MariaDB-flavour TABLE_MAP writes it as
     * the LONGTEXT MariaDB's JSON is (test_binlog_event.c json_table_map). */
    EXPECT_EQ_INT(d[6].type, TR_MYSQL_TYPE_JSON);
    EXPECT_EQ_INT(d[6].meta, 4);
    EXPECT_EQ_INT(d[6].collation, 46);
    EXPECT_TRUE(t->cols[7].is_supported);
    EXPECT_EQ_INT(t->cols[7].blob_prefix, 4);
    tr_table_info_free(t);

    EXPECT_EQ_INT(tr_tidb_collation_id("utf8mb4_bin"), 46);
    EXPECT_EQ_INT(tr_tidb_collation_id("nope"), 0);
    EXPECT_EQ_INT(tr_tidb_charset_maxlen("utf8"), 3);
    /* wrong JSON types */
    static const char bad[] = "{\"id\":\"x\",\"cols\":[]}";
    EXPECT_TRUE(tr_table_info_parse(bad, sizeof(bad) - 1, &why) == NULL);
    static const char bad2[] = "{\"id\":1,\"cols\":[{\"id\":1}]}";
    EXPECT_TRUE(tr_table_info_parse(bad2, sizeof(bad2) - 1, &why) == NULL);
}

static char *job_json(char *buf, size_t cap, int64_t id, int type, int64_t schema_id,
                      int64_t table_id, int64_t version, const char *binlog_extra)
{
    snprintf(buf, cap,
             "{\"id\":%lld,\"type\":%d,\"schema_id\":%lld,\"table_id\":%lld,\"schema_name\":\"d\","
             "\"state\":6,\"query\":\"q\",\"binlog\":{\"SchemaVersion\":%lld%s}}",
             (long long)id, type, (long long)schema_id, (long long)table_id, (long long)version,
             binlog_extra);
    return buf;
}

TR_TEST(tracker)
{
    tr_schema_t *s = tr_schema_new();
    const char *why = NULL;
    size_t len = 0;
    char *cs = load("tests/vectors/tidb/job_create_schema.json", &len);
    EXPECT_EQ_INT(tr_schema_add_job(s, 105, cs, len, &why), 0);
    free(cs);
    char *ct = load("tests/vectors/tidb/job_create_table.json", &len);
    /* added out of order on purpose */
    EXPECT_EQ_INT(tr_schema_add_job(s, 110, ct, len, &why), 0);
    EXPECT_EQ_INT(tr_schema_add_job(s, 110, ct, len, &why), 0); /* duplicate ignored */
    free(ct);
    EXPECT_EQ_INT(tr_schema_max_job_id(s), 110);
    EXPECT_EQ_INT(tr_schema_max_version(s), 57);
    EXPECT_TRUE(tr_schema_table(s, 109) == NULL);
    EXPECT_EQ_INT(tr_schema_advance(s, 56, &why), 0);
    EXPECT_EQ_STR(tr_schema_db_name(s, 104), "d");
    EXPECT_TRUE(tr_schema_table(s, 109) == NULL);
    EXPECT_EQ_INT(tr_schema_advance(s, 57, &why), 0);
    const tr_table_info_t *t = tr_schema_table(s, 109);
    EXPECT_TRUE(t != NULL && t->schema_id == 104 && t->n_public == 5);
    EXPECT_EQ_INT(tr_schema_applied_version(s), 57);
    EXPECT_TRUE(tr_schema_job(s, 110) != NULL);
    EXPECT_TRUE(tr_schema_job(s, 111) == NULL);

    /* truncate: 109 -> 120 */
    char buf[512];
    char extra[256];
    snprintf(extra, sizeof(extra),
             ",\"TableInfo\":{\"id\":120,\"name\":{\"O\":\"t\"},\"cols\":[]}");
    job_json(buf, sizeof(buf), 121, TR_TIDB_ACTION_TRUNCATE_TABLE, 104, 109, 60, extra);
    EXPECT_EQ_INT(tr_schema_add_job(s, 121, buf, strlen(buf), &why), 0);
    /* a cancelled job is kept (for DDL binlogs) but never applied */
    snprintf(buf, sizeof(buf),
             "{\"id\":122,\"type\":4,\"schema_id\":104,\"table_id\":120,\"state\":5,"
             "\"binlog\":{\"SchemaVersion\":0}}");
    EXPECT_EQ_INT(tr_schema_add_job(s, 122, buf, strlen(buf), &why), 0);
    EXPECT_TRUE(tr_schema_job(s, 122) != NULL);
    EXPECT_EQ_INT(tr_schema_advance(s, 70, &why), 0);
    EXPECT_TRUE(tr_schema_table(s, 109) == NULL);
    EXPECT_TRUE(tr_schema_table(s, 120) != NULL);
    /* drop schema drops its tables */
    job_json(buf, sizeof(buf), 130, TR_TIDB_ACTION_DROP_SCHEMA, 104, 0, 71, "");
    EXPECT_EQ_INT(tr_schema_add_job(s, 130, buf, strlen(buf), &why), 0);
    EXPECT_EQ_INT(tr_schema_advance(s, 71, &why), 0);
    EXPECT_TRUE(tr_schema_table(s, 120) == NULL);
    EXPECT_TRUE(tr_schema_db_name(s, 104) == NULL);
    /* malformed job */
    EXPECT_EQ_INT(tr_schema_add_job(s, 140, "{", 1, &why), TR_EMALFORMED);
    tr_schema_free(s);
}

/* A port on 127.0.0.1 nobody listens on (bound then closed). */
static uint16_t closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        return 1;
    }
    (void)close(fd);
    return ntohs(a.sin_port);
}

TR_TEST(fetch_reports_upstream_errors)
{
    tr_config_t *cfg = calloc(1, sizeof(*cfg));
    tr_config_defaults(cfg);
    snprintf(cfg->tidb.host, sizeof(cfg->tidb.host), "127.0.0.1");
    cfg->tidb.port = closed_port();
    snprintf(cfg->tidb_user, sizeof(cfg->tidb_user), "root");
    tr_schema_t *s = tr_schema_new();
    tr_schema_fetch_t *f = tr_schema_fetch_new(cfg);
    const char *why = NULL;
    EXPECT_EQ_INT(tr_schema_fetch_new_jobs(f, s, &why), TR_EUPSTREAM);
    EXPECT_TRUE(why != NULL && strstr(why, "cannot connect") != NULL);
    /* and again (reconnect attempt), no crash */
    EXPECT_EQ_INT(tr_schema_fetch_new_jobs(f, s, &why), TR_EUPSTREAM);
    tr_schema_fetch_free(f);
    cfg->tidb.host[0] = '\0';
    f = tr_schema_fetch_new(cfg);
    EXPECT_EQ_INT(tr_schema_fetch_new_jobs(f, s, &why), TR_EUPSTREAM);
    tr_schema_fetch_free(f);
    tr_schema_fetch_free(NULL);
    tr_schema_free(s);
    free(cfg);
}

/* Against a real server holding mysql.tidb_ddl_history (root, no password):
 * TR_TEST_TIDB_ADDR=127.0.0.1:PORT, with the rows of tests/vectors/tidb/job_*.json as
 * job ids 105 and 110. Skipped when the variable is unset. */
TR_TEST(fetch_from_server)
{
    const char *addr = getenv("TR_TEST_TIDB_ADDR");
    if (addr == NULL) {
        return;
    }
    tr_config_t *cfg = calloc(1, sizeof(*cfg));
    tr_config_defaults(cfg);
    EXPECT_EQ_INT(tr_addr_parse(&cfg->tidb, addr), 0);
    snprintf(cfg->tidb_user, sizeof(cfg->tidb_user), "root");
    tr_schema_t *s = tr_schema_new();
    tr_schema_fetch_t *f = tr_schema_fetch_new(cfg);
    const char *why = NULL;
    int n = tr_schema_fetch_new_jobs(f, s, &why);
    if (n < 0) {
        fprintf(stderr, "fetch: %s\n", why);
    }
    EXPECT_EQ_INT(n, 2);
    EXPECT_EQ_INT(tr_schema_max_job_id(s), 110);
    EXPECT_EQ_INT(tr_schema_fetch_new_jobs(f, s, &why), 0); /* nothing newer */
    EXPECT_EQ_INT(tr_schema_advance(s, 57, &why), 0);
    const tr_table_info_t *t = tr_schema_table(s, 109);
    EXPECT_TRUE(t != NULL && t->n_public == 5);
    EXPECT_EQ_STR(tr_schema_db_name(s, 104), "d");
    tr_schema_fetch_free(f);
    tr_schema_free(s);
    free(cfg);
}

TR_TEST_MAIN()
