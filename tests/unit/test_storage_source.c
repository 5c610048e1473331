/*
 * Unit tests of the TiCDC storage-sink scanner (src/relay/storage_source.c):
 * the names of data, index and schema files of both architectures (tiflow/ticdc
 * pkg/cloudstorage path.go, generator.go: CDC<n>, CDC_<dispatcher>_<n>,
 * schema_<ver>_<%010d crc>), date directories, the metadata and schema files,
 * the DDL message built from a schema file, the stored position's text; then
 * the scanner on a temporary directory: streams and their keys, dates, lines
 * (CRLF, a partial tail, a gap in the numbers), the spec 2.3 repeat rule, and a
 * resume at a stored cursor.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/mem.h"
#include "protocol/canal_json.h"
#include "relay/storage_source.h"
#include "tr_test.h"

TR_TEST(storage_data_names)
{
    tr_storage_data_name_t d;
    EXPECT_TRUE(tr_storage_parse_data_name("CDC00000000000000000001.json", &d));
    EXPECT_EQ_U64(d.number, 1);
    EXPECT_EQ_INT(d.width, 20);
    EXPECT_EQ_INT(d.ext, TR_STORAGE_EXT_JSON);
    EXPECT_EQ_STR(d.dispatcher, "");
    EXPECT_TRUE(tr_storage_parse_data_name("CDC000042.json", &d)); /* the docs' 6 digits */
    EXPECT_EQ_U64(d.number, 42);
    EXPECT_EQ_INT(d.width, 6);
    EXPECT_TRUE(tr_storage_parse_data_name("CDC000007.csv", &d));
    EXPECT_EQ_INT(d.ext, TR_STORAGE_EXT_CSV);
    /* New architecture, enable-table-across-nodes: the dispatcher id is
     * GID.String(), two u64 in decimal. */
    EXPECT_TRUE(tr_storage_parse_data_name(
        "CDC_1234567890123456789018446744073709551615_00000000000000000003.json", &d));
    EXPECT_EQ_STR(d.dispatcher, "1234567890123456789018446744073709551615");
    EXPECT_EQ_U64(d.number, 3);
    EXPECT_TRUE(tr_storage_parse_data_name("CDC_ab-12_000009.json", &d));
    EXPECT_EQ_STR(d.dispatcher, "ab-12");
    EXPECT_EQ_U64(d.number, 9);
    const char *bad[] = {
        "CDC.index",
        "CDC00000000000000000001.json.tmp.5b2c0e7e-8a4e-4a8b-9a53-0d5d2a5c4f1e",
        "CDC00000000000000000001.json.tmp",
        "cdc000001.json",
        "CDC.json",
        "CDC_000001.json", /* an empty dispatcher */
        "CDC__000001.json",
        "CDC_a b_000001.json", /* not a dispatcher id */
        "CDC00000x001.json",
        "CDC000001.parquet",
        "CDC123456789012345678901.json", /* more than 20 digits */
        "CDC99999999999999999999.json",  /* above 2^64 */
        "schema_1_0000000001.json",
        "metadata",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (tr_storage_parse_data_name(bad[i], &d)) {
            TR_FAIL_AT("accepted as a data file: %s", bad[i]);
        }
    }
    char buf[128];
    EXPECT_TRUE(tr_storage_parse_data_name("CDC00000000000000000009.json", &d));
    EXPECT_TRUE(tr_storage_data_name(&d, 10, buf, sizeof(buf)));
    EXPECT_EQ_STR(buf, "CDC00000000000000000010.json");
    EXPECT_TRUE(tr_storage_parse_data_name("CDC_77_000001.csv", &d));
    EXPECT_TRUE(tr_storage_data_name(&d, 1234567, buf, sizeof(buf)));
    EXPECT_EQ_STR(buf, "CDC_77_1234567.csv");
    EXPECT_TRUE(!tr_storage_data_name(&d, 1, buf, 8));
}

TR_TEST(storage_index_and_schema_names)
{
    char disp[80];
    EXPECT_TRUE(tr_storage_parse_index_name("CDC.index", disp, sizeof(disp)));
    EXPECT_EQ_STR(disp, "");
    EXPECT_TRUE(tr_storage_parse_index_name("CDC_445566.index", disp, sizeof(disp)));
    EXPECT_EQ_STR(disp, "445566");
    EXPECT_TRUE(!tr_storage_parse_index_name("CDC_.index", disp, sizeof(disp)));
    EXPECT_TRUE(!tr_storage_parse_index_name("CDC.index.tmp.x", disp, sizeof(disp)));
    EXPECT_TRUE(!tr_storage_parse_index_name("CDC00000000000000000001.json", disp, sizeof(disp)));

    tr_storage_data_name_t d;
    const char *idx = "CDC00000000000000000004.json\n";
    EXPECT_TRUE(tr_storage_parse_index((const uint8_t *)idx, strlen(idx), &d));
    EXPECT_EQ_U64(d.number, 4);
    EXPECT_TRUE(tr_storage_parse_index((const uint8_t *)"CDC_9_000002.json", 17, &d));
    EXPECT_EQ_STR(d.dispatcher, "9");
    EXPECT_TRUE(!tr_storage_parse_index((const uint8_t *)"\n", 1, &d));
    EXPECT_TRUE(!tr_storage_parse_index((const uint8_t *)"garbage\n", 8, &d));

    uint64_t v = 0;
    uint32_t crc = 0;
    EXPECT_TRUE(
        tr_storage_parse_schema_name("schema_470953688047550464_1917555237.json", &v, &crc));
    EXPECT_EQ_U64(v, 470953688047550464ull);
    EXPECT_EQ_U64(crc, 1917555237u);
    EXPECT_TRUE(tr_storage_parse_schema_name("schema_1_0000000000.json", &v, &crc));
    EXPECT_EQ_U64(v, 1);
    EXPECT_EQ_U64(crc, 0);
    const char *bad[] = {
        "schema_1_000000001.json",   /* 9 digits: %010d always writes 10 */
        "schema_1_00000000001.json", /* 11 */
        "schema__0000000001.json",        "schema_1_4294967296.json", /* above u32 */
        "schema_1_0000000001.json.tmp.x", "schema_x_0000000001.json", "schema_1_0000000001.jso",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (tr_storage_parse_schema_name(bad[i], &v, &crc)) {
            TR_FAIL_AT("accepted as a schema file: %s", bad[i]);
        }
    }
}

TR_TEST(storage_dates)
{
    EXPECT_EQ_INT(tr_storage_date_kind("2026"), TR_STORAGE_DATE_YEAR);
    EXPECT_EQ_INT(tr_storage_date_kind("2026-12"), TR_STORAGE_DATE_MONTH);
    EXPECT_EQ_INT(tr_storage_date_kind("2026-12-06"), TR_STORAGE_DATE_DAY);
    EXPECT_EQ_INT(tr_storage_date_kind("2026-13"), TR_STORAGE_DATE_NONE);
    EXPECT_EQ_INT(tr_storage_date_kind("2026-00-01"), TR_STORAGE_DATE_NONE);
    EXPECT_EQ_INT(tr_storage_date_kind("2026-01-32"), TR_STORAGE_DATE_NONE);
    EXPECT_EQ_INT(tr_storage_date_kind("2026-1-01"), TR_STORAGE_DATE_NONE);
    EXPECT_EQ_INT(tr_storage_date_kind("470953688047550464"), TR_STORAGE_DATE_NONE);
    EXPECT_EQ_INT(tr_storage_date_kind("202"), TR_STORAGE_DATE_NONE);
    EXPECT_EQ_INT(tr_storage_date_kind("meta"), TR_STORAGE_DATE_NONE);
}

TR_TEST(storage_metadata_and_schema_files)
{
    int64_t c = 0;
    const char *why = NULL;
    const char *m = "{\"checkpoint-ts\":470953688353996800}";
    EXPECT_EQ_INT(tr_storage_parse_metadata((const uint8_t *)m, strlen(m), &c, &why), 0);
    EXPECT_EQ_U64((uint64_t)c, 470953688353996800ull);
    const char *bad[] = {"",
                         "{",
                         "[]",
                         "{\"checkpoint\":1}",
                         "{\"checkpoint-ts\":\"1\"}",
                         "{\"checkpoint-ts\":0}",
                         "{\"checkpoint-ts\":-5}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        EXPECT_EQ_INT(tr_storage_parse_metadata((const uint8_t *)bad[i], strlen(bad[i]), &c, &why),
                      TR_EMALFORMED);
        EXPECT_TRUE(why != NULL);
    }

    /* As the simulator and tiflow write it: MarshalIndent with 4 spaces, \u003c
     * escapes. */
    const char *f = "{\n    \"Table\": \"t_orders\",\n    \"Schema\": "
                    "\"simdb\",\n    \"Version\": 1,\n"
                    "    \"TableVersion\": 470953688047550464,\n"
                    "    \"Query\": \"ALTER TABLE `t_orders` ADD COLUMN `x` INT "
                    "DEFAULT \\u003c\",\n"
                    "    \"Type\": 5,\n    \"TableColumns\": [],\n    "
                    "\"TableColumnsTotal\": 0\n}";
    tr_storage_schema_t s;
    EXPECT_EQ_INT(tr_storage_parse_schema((const uint8_t *)f, strlen(f), &s, &why), 0);
    EXPECT_EQ_STR(s.schema, "simdb");
    EXPECT_EQ_STR(s.table, "t_orders");
    EXPECT_EQ_STR(s.query, "ALTER TABLE `t_orders` ADD COLUMN `x` INT DEFAULT <");
    EXPECT_EQ_U64((uint64_t)s.table_version, 470953688047550464ull);
    EXPECT_EQ_INT(s.type, 5);

    /* The DDL message parses as canal-json: a DDL with the schema file's fields.
     */
    size_t len = 0;
    char *msg = tr_storage_ddl_message(&s, &len);
    tr_canal_msg_t cm;
    EXPECT_EQ_INT(tr_canal_parse((const uint8_t *)msg, len, &cm, &why), 0);
    EXPECT_EQ_INT(cm.kind, TR_CANAL_DDL);
    EXPECT_TRUE(cm.has_commit_ts);
    EXPECT_EQ_U64(cm.commit_ts, 470953688047550464ull);
    EXPECT_TRUE(tr_canal_str_eq(&cm.database, "simdb", 5));
    EXPECT_TRUE(tr_canal_str_eq(&cm.table, "t_orders", 8));
    EXPECT_TRUE(tr_canal_str_eq(&cm.sql, s.query, strlen(s.query)));
    tr_free(msg);
    tr_storage_schema_cleanup(&s);

    /* A database-level file (Table ""), a table that just started (Query ""). */
    const char *db = "{\"Table\":\"\",\"Schema\":\"d\",\"Version\":1,\"TableVersion\":7,"
                     "\"Query\":\"CREATE DATABASE `d`\",\"Type\":1,\"TableColumns\":null,"
                     "\"TableColumnsTotal\":0}";
    EXPECT_EQ_INT(tr_storage_parse_schema((const uint8_t *)db, strlen(db), &s, &why), 0);
    EXPECT_EQ_STR(s.table, "");
    EXPECT_EQ_STR(s.query, "CREATE DATABASE `d`");
    tr_storage_schema_cleanup(&s);
    const char *start = "{\"Table\":\"t\",\"Schema\":\"d\",\"TableVersion\":9,\"Query\":\"\"}";
    EXPECT_EQ_INT(tr_storage_parse_schema((const uint8_t *)start, strlen(start), &s, &why), 0);
    EXPECT_EQ_STR(s.query, "");
    tr_storage_schema_cleanup(&s);
    const char *bads[] = {
        "not json",
        "{\"Table\":\"t\",\"TableVersion\":9}", /* no Schema */
        "{\"Schema\":\"d\",\"Table\":\"t\"}",   /* no TableVersion */
        "{\"Schema\":\"d\",\"Table\":\"t\",\"TableVersion\":\"9\"}",
        "{\"Schema\":\"d\",\"Table\":1,\"TableVersion\":9}",
        "{\"Schema\":\"d\",\"Table\":\"t\",\"TableVersion\":9,\"Query\":3}",
        "{\"Schema\":\"d\\u0000x\",\"Table\":\"t\",\"TableVersion\":9}",
    };
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        why = NULL;
        EXPECT_EQ_INT(tr_storage_parse_schema((const uint8_t *)bads[i], strlen(bads[i]), &s, &why),
                      TR_EMALFORMED);
        EXPECT_TRUE(why != NULL && s.schema == NULL && s.table == NULL);
    }
}

TR_TEST(storage_position_text)
{
    tr_storage_pos_stream_t st[3];
    memset(st, 0, sizeof(st));
    st[0].key = "db/t/446/2";
    snprintf(st[0].cur.file, sizeof(st[0].cur.file), "2026-12-06/CDC00000000000000000003.json");
    st[0].cur.line = 12;
    st[0].cur.byte = 4096;
    st[1].key = "my db/100%/446#77_88"; /* a space and a percent sign are escaped */
    snprintf(st[1].cur.file, sizeof(st[1].cur.file), "CDC_77_88_000001.json");
    st[2].key = "db/u/9";
    tr_storage_position_t p = {470953688353996800ll, 3, st};
    char *text = tr_storage_position_format("/data/ti cdc", &p);
    EXPECT_EQ_STR(text, "ticdc-storage v1 checkpoint=470953688353996800 streams=3 "
                        "dir=/data/ti%20cdc\n"
                        "db/t/446/2 2026-12-06/CDC00000000000000000003.json 12 4096\n"
                        "my%20db/100%25/446#77_88 CDC_77_88_000001.json 0 0\n"
                        "db/u/9 - 0 0\n");
    tr_storage_position_t q;
    char root[256];
    const char *why = NULL;
    EXPECT_EQ_INT(tr_storage_position_parse(text, &q, root, sizeof(root), &why), 0);
    EXPECT_EQ_STR(root, "/data/ti cdc");
    EXPECT_EQ_U64((uint64_t)q.checkpoint, 470953688353996800ull);
    EXPECT_EQ_INT(q.n, 3);
    EXPECT_EQ_STR(q.streams[1].key, "my db/100%/446#77_88");
    EXPECT_EQ_STR(q.streams[0].cur.file, "2026-12-06/CDC00000000000000000003.json");
    EXPECT_EQ_INT(q.streams[0].cur.line, 12);
    EXPECT_EQ_INT(q.streams[0].cur.byte, 4096);
    EXPECT_EQ_STR(q.streams[2].cur.file, "");
    tr_storage_position_cleanup(&q);

    EXPECT_EQ_INT(tr_storage_position_parse("ticdc-kafka v1 topic=t partitions=4\n0 1 2\n", &q,
                                            NULL, 0, &why),
                  TR_ECONFIG);
    /* Every truncation of a good text is refused (never half a position). */
    size_t n = strlen(text);
    char *cut = tr_malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        memcpy(cut, text, i);
        cut[i] = '\0';
        int rc = tr_storage_position_parse(cut, &q, NULL, 0, &why);
        if (rc == 0) {
            TR_FAIL_AT("a position cut at %zu bytes parsed", i);
            tr_storage_position_cleanup(&q);
        }
    }
    tr_free(cut);
    EXPECT_EQ_INT(tr_storage_position_parse("ticdc-storage v1 checkpoint=1 streams=1 dir=/d\n"
                                            "k %zz 0 0\n",
                                            &q, NULL, 0, &why),
                  TR_ECORRUPT);
    tr_free(text);
}

/* ---------------------------------------------------------------- the scanner */

static char g_root[256];
static char g_warn[4096];
static int g_warns;

static void on_warn(void *arg, const char *msg)
{
    (void)arg;
    g_warns++;
    snprintf(g_warn, sizeof(g_warn), "%s", msg);
}

static void mkdirs(const char *rel)
{
    char path[1400];
    (void)mkdir(g_root, 0755);
    snprintf(path, sizeof(path), "%s/%s", g_root, rel);
    for (char *p = path + strlen(g_root) + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            (void)mkdir(path, 0755);
            *p = '/';
        }
    }
    (void)mkdir(path, 0755);
}

static void put(const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", g_root, rel);
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", rel);
    char *slash = strrchr(dir, '/');
    if (slash != NULL) {
        *slash = '\0';
        mkdirs(dir);
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        TR_FAIL_AT("cannot write %s", path);
        return;
    }
    fputs(text, f);
    fclose(f);
}

static void rm_rf(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", path);
    }
}

static size_t stream_of(tr_storage_source_t *s, const char *key)
{
    for (size_t i = 0; i < tr_storage_source_streams(s); i++) {
        if (strcmp(tr_storage_stream_key(s, i), key) == 0) {
            return i;
        }
    }
    TR_FAIL_AT("no stream %s", key);
    return 0;
}

/* The stream's lines now, "|"-joined as "<line>:<text>", taking them. */
static void drain(tr_storage_source_t *s, size_t i, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    tr_storage_line_t l;
    char err[256];
    int rc;
    while ((rc = tr_storage_stream_peek(s, i, 1 << 20, &l, err, sizeof(err))) == 1) {
        n += (size_t)snprintf(out + n, cap - n, "%s%lld:%.*s", n ? "|" : "", (long long)l.line,
                              (int)l.len, (const char *)l.p);
        tr_storage_stream_take(s, i);
    }
    if (rc < 0) {
        TR_FAIL_AT("peek: %s", err);
    }
}

TR_TEST(storage_scanner)
{
    snprintf(g_root, sizeof(g_root), "/tmp/tr_storage_test.%d", (int)getpid());
    rm_rf(g_root);
    mkdirs("");
    tr_storage_hooks_t hooks = {on_warn, NULL};
    tr_storage_source_t *s = tr_storage_source_new(g_root, &hooks);
    int64_t c = 0;
    char err[512];
    EXPECT_EQ_INT(tr_storage_source_checkpoint(s, &c, err, sizeof(err)), 0); /* none yet */
    put("metadata", "{\"checkpoint-ts\":500}");
    EXPECT_EQ_INT(tr_storage_source_checkpoint(s, &c, err, sizeof(err)), 1);
    EXPECT_EQ_INT(c, 500);

    put("db/meta/schema_10_0000000001.json",
        "{\"Table\":\"\",\"Schema\":\"db\",\"TableVersion\":10,\"Query\":"
        "\"CREATE DATABASE db\"}");
    put("db/t/meta/schema_20_0000000002.json",
        "{\"Table\":\"t\",\"Schema\":\"db\",\"TableVersion\":20,\"Query\":"
        "\"CREATE TABLE t(i int)\"}");
    put("db/t/meta/schema_30_0000000003.json",
        "{\"Table\":\"t\",\"Schema\":\"db\",\"TableVersion\":30,\"Query\":\"\"}");
    put("db/u/meta/schema_20_0000000004.json", /* the same DDL for two tables */
        "{\"Table\":\"u\",\"Schema\":\"db\",\"TableVersion\":20,\"Query\":"
        "\"CREATE TABLE t(i int)\"}");
    /* t: a day directory, CRLF lines, file 2 ends with a partial line, file 4
     * skips 3. */
    put("db/t/20/2026-12-06/CDC00000000000000000001.json", "a1\r\na2\r\n");
    put("db/t/20/2026-12-06/CDC00000000000000000002.json", "b1\r\nb2-partial");
    put("db/t/20/2026-12-06/meta/CDC.index", "CDC00000000000000000002.json\n");
    /* u: physical partition 77, no date; new-architecture dispatcher files. */
    put("db/u/20/77/CDC_5_000001.json", "d1\r\n");
    put("db/u/20/77/meta/CDC_5.index", "CDC_5_000001.json\n");
    put("db/u/20/77/CDC00000000000000000001.json.tmp.abc", "never\r\n");
    /* A year directory at depth 5 is a date, at depth 4 a partition id (see the
     * header). */
    put("db/v/20/88/2026/CDC000001.json", "y1\n");
    put("db/w/20/2026/CDC000001.json", "z1\n");
    EXPECT_EQ_INT(tr_storage_source_scan(s, err, sizeof(err)), 0);
    EXPECT_EQ_INT(tr_storage_source_streams(s), 4);
    EXPECT_EQ_STR(tr_storage_stream_key(s, 0), "db/t/20");
    EXPECT_EQ_STR(tr_storage_stream_key(s, 1), "db/u/20/77#5");
    EXPECT_EQ_STR(tr_storage_stream_key(s, 2), "db/v/20/88");
    EXPECT_EQ_STR(tr_storage_stream_key(s, 3), "db/w/20/2026");
    char name[64];
    tr_storage_stream_table(s, 1, name, sizeof(name));
    EXPECT_EQ_STR(name, "db.u");

    tr_storage_ddl_t *ddls = NULL;
    size_t nd = 0;
    EXPECT_EQ_INT(tr_storage_source_ddls(s, 0, 500, &ddls, &nd, err, sizeof(err)), 0);
    EXPECT_EQ_INT(nd, 2); /* the empty Query is no DDL; the repeated one counts once */
    EXPECT_EQ_STR(ddls[0].def.query, "CREATE DATABASE db");
    EXPECT_EQ_STR(ddls[1].path, "db/t/meta/schema_20_0000000002.json");
    tr_storage_ddls_free(ddls, nd);
    EXPECT_EQ_INT(tr_storage_source_ddls(s, 10, 19, &ddls, &nd, err, sizeof(err)), 0);
    EXPECT_EQ_INT(nd, 0);
    tr_storage_ddls_free(ddls, nd);

    char out[1024];
    size_t t = stream_of(s, "db/t/20");
    drain(s, t, out, sizeof(out));
    EXPECT_EQ_STR(out, "1:a1|2:a2|1:b1"); /* the partial line waits */
    drain(s, stream_of(s, "db/u/20/77#5"), out, sizeof(out));
    EXPECT_EQ_STR(out, "1:d1");
    drain(s, stream_of(s, "db/v/20/88"), out, sizeof(out));
    EXPECT_EQ_STR(out, "1:y1");
    tr_storage_source_rest(s);

    /* The partial line completes; the index names 3, which is not there yet:
     * wait. */
    put("db/t/20/2026-12-06/CDC00000000000000000002.json", "b1\r\nb2\r\n");
    put("db/t/20/2026-12-06/meta/CDC.index", "CDC00000000000000000003.json\n");
    EXPECT_EQ_INT(tr_storage_source_scan(s, err, sizeof(err)), 0);
    t = stream_of(s, "db/t/20");
    drain(s, t, out, sizeof(out));
    EXPECT_EQ_STR(out, "2:b2");
    tr_storage_source_rest(s);
    char *pos = tr_storage_source_position(s, 500);
    EXPECT_TRUE(strstr(pos, "\ndb/t/20 2026-12-06/CDC00000000000000000002.json 2 8\n") != NULL);

    /* 3 never comes (TiCDC died between index and data), 4 does: 3 is skipped
     * with a warning; a new day starts again at 1. */
    put("db/t/20/2026-12-06/CDC00000000000000000004.json", "e1\r\n");
    put("db/t/20/2026-12-07/CDC00000000000000000001.json", "f1\r\nf2\r\n");
    g_warns = 0;
    EXPECT_EQ_INT(tr_storage_source_scan(s, err, sizeof(err)), 0);
    t = stream_of(s, "db/t/20");
    drain(s, t, out, sizeof(out));
    EXPECT_EQ_STR(out, "1:e1|1:f1|2:f2");
    EXPECT_EQ_INT(g_warns, 1);
    EXPECT_TRUE(strstr(g_warn, "numbers 3..3") != NULL);
    tr_storage_source_rest(s);

    /* A resumed scanner starts at the stored cursor (line 2 of file 2: "b2"
     * next). */
    tr_storage_position_t p;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_storage_position_parse(pos, &p, NULL, 0, &why), 0);
    EXPECT_EQ_INT(p.checkpoint, 500);
    tr_storage_source_t *s2 = tr_storage_source_new(g_root, &hooks);
    p.streams[0].cur.line = 1;
    p.streams[0].cur.byte = 4;
    tr_storage_source_resume(s2, &p);
    EXPECT_EQ_INT(tr_storage_source_scan(s2, err, sizeof(err)), 0);
    drain(s2, stream_of(s2, "db/t/20"), out, sizeof(out));
    EXPECT_EQ_STR(out, "2:b2|1:e1|1:f1|2:f2");
    tr_storage_source_rest(s2);
    tr_storage_source_free(s2);
    /* A stored offset that is not at a line's end is refused. */
    s2 = tr_storage_source_new(g_root, &hooks);
    p.streams[0].cur.byte = 3;
    tr_storage_source_resume(s2, &p);
    EXPECT_EQ_INT(tr_storage_source_scan(s2, err, sizeof(err)), 0);
    tr_storage_line_t l;
    EXPECT_EQ_INT(
        tr_storage_stream_peek(s2, stream_of(s2, "db/t/20"), 1 << 20, &l, err, sizeof(err)),
        TR_ECORRUPT);
    tr_storage_source_rest(s2);
    tr_storage_source_free(s2);
    tr_storage_position_cleanup(&p);
    tr_free(pos);

    /* A csv file stops the scan. */
    put("db/x/20/CDC000001.csv", "1,2\r\n");
    EXPECT_EQ_INT(tr_storage_source_scan(s, err, sizeof(err)), TR_EUNSUPPORTED);
    EXPECT_TRUE(strstr(err, "canal-json") != NULL);
    tr_storage_source_free(s);
    rm_rf(g_root);
}

TR_TEST(storage_repeats)
{
    snprintf(g_root, sizeof(g_root), "/tmp/tr_storage_rep.%d", (int)getpid());
    rm_rf(g_root);
    /* Two transactions (ts 5: two identical keyless rows; ts 7), then a TiCDC
     * restart from 4 writes both again in file 2, then ts 9. */
    put("d/t/1/CDC000001.json", "5\n5\n7\n");
    put("d/t/1/CDC000002.json", "5\n5\n7\n9\n");
    tr_storage_source_t *s = tr_storage_source_new(g_root, NULL);
    char err[256];
    EXPECT_EQ_INT(tr_storage_source_scan(s, err, sizeof(err)), 0);
    tr_storage_line_t l;
    char got[64];
    size_t n = 0;
    while (tr_storage_stream_peek(s, 0, 1 << 20, &l, err, sizeof(err)) == 1) {
        int64_t ts = l.p[0] - '0';
        if (!tr_storage_stream_is_repeat(s, 0, ts)) {
            got[n++] = (char)l.p[0];
        }
        tr_storage_stream_take(s, 0);
    }
    got[n] = '\0';
    EXPECT_EQ_STR(got, "5579");
    tr_storage_source_rest(s);
    tr_storage_source_free(s);
    rm_rf(g_root);
}

TR_TEST_MAIN()
