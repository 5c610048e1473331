/*
 * Translation of TiDB transactions into binlog events, checked end to end:
 * a Binlog built from the bytes of shared/spec/tidb-binlog.md 3.6/4.7 (and a
 * hand-encoded second table with decimal/text/unsigned/NULL, update and
 * delete) goes through tr_translate_txn into a binlog file after a
 * FORMAT_DESCRIPTION, and `mariadb-binlog -vv --base64-output=decode-rows`
 * must print the expected row values. Skips the mariadb-binlog part when the
 * tool is not installed. Also: runs of one kind follow `sequence` whatever the
 * mutation's field order, a malformed mutation writes nothing, and the arena
 * use does not grow with the row count.
 */
#include "tr_test.h"

#include <unistd.h>

#include "common/err.h"
#include "common/mem.h"
#include "protocol/binlog_event.h"
#include "protocol/tidb_binlog.h"
#include "relay/filter.h"
#include "relay/schema.h"
#include "relay/translate.h"

/* ---- tiny protobuf writer for building test binlogs ---- */
static void pb_varint(tr_buf_t *b, uint64_t v)
{
    while (v >= 0x80) {
        tr_buf_put_u8(b, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    tr_buf_put_u8(b, (uint8_t)v);
}
static void pb_int(tr_buf_t *b, int num, uint64_t v)
{
    pb_varint(b, (uint64_t)num << 3);
    pb_varint(b, v);
}
static void pb_bytes(tr_buf_t *b, int num, const uint8_t *p, size_t n)
{
    pb_varint(b, (uint64_t)num << 3 | 2);
    pb_varint(b, n);
    tr_buf_append(b, p, n);
}

static const char *job_schema =
    "{\"id\":2,\"type\":1,\"schema_id\":1,\"schema_name\":\"d\",\"state\":6,"
    "\"query\":\"CREATE DATABASE d\",\"binlog\":{\"SchemaVersion\":10,"
    "\"DBInfo\":{\"id\":1,\"db_name\":{\"O\":\"d\",\"L\":\"d\"}},\"TableInfo\":null}}";

/* Table of spec 4.7: t(id INT PRIMARY KEY, name VARCHAR(10), c DATETIME(6)), id 45. */
static const char *job_t =
    "{\"id\":3,\"type\":3,\"schema_id\":1,\"table_id\":45,\"schema_name\":\"d\",\"table_name\":\"t\","
    "\"state\":6,\"query\":\"CREATE TABLE t(id INT PRIMARY KEY, name VARCHAR(10), c DATETIME(6))\","
    "\"binlog\":{\"SchemaVersion\":11,\"TableInfo\":{\"id\":45,\"name\":{\"O\":\"t\"},"
    "\"pk_is_handle\":true,\"cols\":["
    "{\"id\":1,\"name\":{\"O\":\"id\"},\"offset\":0,\"state\":5,\"type\":{\"Tp\":3,\"Flag\":4099,"
    "\"Flen\":11,\"Decimal\":0,\"Charset\":\"binary\",\"Collate\":\"binary\"}},"
    "{\"id\":2,\"name\":{\"O\":\"name\"},\"offset\":1,\"state\":5,\"type\":{\"Tp\":15,\"Flag\":0,"
    "\"Flen\":10,\"Decimal\":0,\"Charset\":\"utf8mb4\",\"Collate\":\"utf8mb4_bin\"}},"
    "{\"id\":3,\"name\":{\"O\":\"c\"},\"offset\":2,\"state\":5,\"type\":{\"Tp\":12,\"Flag\":128,"
    "\"Flen\":26,\"Decimal\":6,\"Charset\":\"binary\",\"Collate\":\"binary\"}}]}}}";

/* u(id BIGINT UNSIGNED PRIMARY KEY, amount DECIMAL(10,2), note TEXT NULL, k TINYINT NOT NULL) */
static const char *job_u =
    "{\"id\":4,\"type\":3,\"schema_id\":1,\"table_id\":46,\"schema_name\":\"d\",\"table_name\":\"u\","
    "\"state\":6,\"query\":\"CREATE TABLE u(...)\","
    "\"binlog\":{\"SchemaVersion\":12,\"TableInfo\":{\"id\":46,\"name\":{\"O\":\"u\"},"
    "\"pk_is_handle\":true,\"cols\":["
    "{\"id\":1,\"name\":{\"O\":\"id\"},\"offset\":0,\"state\":5,\"type\":{\"Tp\":8,\"Flag\":4131,"
    "\"Flen\":20,\"Decimal\":0,\"Charset\":\"binary\",\"Collate\":\"binary\"}},"
    "{\"id\":2,\"name\":{\"O\":\"amount\"},\"offset\":1,\"state\":5,\"type\":{\"Tp\":246,\"Flag\":0,"
    "\"Flen\":10,\"Decimal\":2,\"Charset\":\"binary\",\"Collate\":\"binary\"}},"
    "{\"id\":3,\"name\":{\"O\":\"note\"},\"offset\":2,\"state\":5,\"type\":{\"Tp\":252,\"Flag\":16,"
    "\"Flen\":65535,\"Decimal\":0,\"Charset\":\"utf8mb4\",\"Collate\":\"utf8mb4_bin\"}},"
    "{\"id\":4,\"name\":{\"O\":\"k\"},\"offset\":3,\"state\":5,\"type\":{\"Tp\":1,\"Flag\":1,"
    "\"Flen\":4,\"Decimal\":0,\"Charset\":\"binary\",\"Collate\":\"binary\"}}]}}}";

static tr_schema_t *make_schema(void)
{
    tr_schema_t *s = tr_schema_new();
    const char *why = NULL;
    EXPECT_EQ_INT(tr_schema_add_job(s, 2, job_schema, strlen(job_schema), &why), 0);
    EXPECT_EQ_INT(tr_schema_add_job(s, 3, job_t, strlen(job_t), &why), 0);
    EXPECT_EQ_INT(tr_schema_add_job(s, 4, job_u, strlen(job_u), &why), 0);
    EXPECT_EQ_INT(tr_schema_advance(s, 12, &why), 0);
    return s;
}

/* spec 4.7 insert row of t */
static const char *row_t_insert = "08 0E 08 04 02 06 61 62 63 08 06 09 86 80 80 A8 90 86 91 D9 19";
static const char *rows_u[] = {
    /* insert id 5: amount 123.45 (10,2), note 'hi', k -1 */
    "08 0A  08 04 06 0A 02 80 00 00 7B 2D  08 06 02 04 68 69  08 08 08 01",
    /* insert id 6: amount as a (5,2) datum, note omitted (NULL), k 3 */
    "08 0C  08 04 06 05 02 80 7B 2D  08 08 08 06",
    /* update id 5: note 'hi' -> NULL */
    ("08 02 08 0A 08 04 06 0A 02 80 00 00 7B 2D 08 06 02 04 68 69 08 08 08 01"
     "08 02 08 0A 08 04 06 0A 02 80 00 00 7B 2D 08 06 00 08 08 08 01"),
    /* delete id 6 */
    "08 02 08 0C 08 04 06 0A 02 80 00 00 7B 2D 08 06 00 08 08 08 06",
};

/* Builds binlog bytes of one DML transaction touching t and u. */
static size_t build_dml(uint8_t *out, size_t cap)
{
    uint8_t row[128];
    tr_buf_t mt, mu, pv, bl;
    tr_buf_init(&mt, 0);
    tr_buf_init(&mu, 0);
    tr_buf_init(&pv, 0);
    tr_buf_init(&bl, 0);
    pb_int(&mt, 1, 45);
    size_t n = tr_test_unhex(row_t_insert, row, sizeof(row));
    pb_bytes(&mt, 2, row, n);
    pb_int(&mt, 7, 0);
    pb_int(&mu, 1, 46);
    n = tr_test_unhex(rows_u[0], row, sizeof(row));
    pb_bytes(&mu, 2, row, n);
    n = tr_test_unhex(rows_u[1], row, sizeof(row));
    pb_bytes(&mu, 2, row, n);
    n = tr_test_unhex(rows_u[2], row, sizeof(row));
    pb_bytes(&mu, 3, row, n);
    n = tr_test_unhex(rows_u[3], row, sizeof(row));
    pb_bytes(&mu, 6, row, n);
    static const uint8_t seq[] = {0, 0, 1, 4}; /* packed sequence */
    pb_bytes(&mu, 7, seq, sizeof(seq));
    pb_int(&pv, 1, 12);
    pb_bytes(&pv, 2, mt.data, mt.len);
    pb_bytes(&pv, 2, mu.data, mu.len);
    pb_int(&bl, 1, 1);
    pb_int(&bl, 2, 445644799999999995ull);
    pb_int(&bl, 3, 445644800000000005ull);
    pb_bytes(&bl, 5, pv.data, pv.len);
    pb_int(&bl, 7, 0);
    pb_int(&bl, 8, 0);
    size_t len = bl.len < cap ? bl.len : 0;
    memcpy(out, bl.data, len);
    tr_buf_cleanup(&mt);
    tr_buf_cleanup(&mu);
    tr_buf_cleanup(&pv);
    tr_buf_cleanup(&bl);
    return len;
}

static void fill_ctx(tr_txn_ctx_t *ctx, uint64_t gno, int64_t commit_ts)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->gtid_no = gno;
    for (int i = 0; i < 16; i++) {
        ctx->server_uuid[i] = (uint8_t)(0x11 * (i % 16));
    }
    ctx->server_id = 1;
    ctx->gtid_domain_id = 0;
    ctx->last_committed = (int64_t)gno - 1;
    ctx->sequence_number = (int64_t)gno;
    ctx->timestamp = tr_tso_seconds(commit_ts);
    ctx->commit_ts_us = tr_tso_micros(commit_ts);
}

/* Writes magic + FDE + the transactions of the test into path; returns 0 on success. */
static int write_file(const char *path, tr_flavor_t flavor)
{
    tr_schema_t *s = make_schema();
    tr_buf_t out;
    tr_buf_init(&out, 0);
    tr_buf_append(&out, tr_binlog_magic, TR_BINLOG_MAGIC_LEN);
    tr_evt_writer_t w;
    tr_evt_writer_init(&w, &out, TR_BINLOG_MAGIC_LEN, flavor, 1, true);
    w.timestamp = 1700000000;
    tr_evt_put_fde(&w, flavor == TR_FLAVOR_MYSQL ? "8.0.36-tirelay" : "10.11.6-MariaDB-tirelay",
                   1700000000);
    tr_arena_t arena;
    tr_arena_init(&arena, 4096);
    const char *why = NULL;

    /* 1: DDL CREATE DATABASE (job 2), 2: CREATE TABLE t (job 3) */
    tr_tidb_binlog_t ddl;
    memset(&ddl, 0, sizeof(ddl));
    ddl.tp = TR_TIDB_BINLOG_COMMIT;
    ddl.commit_ts = 445644790000000000ll;
    ddl.ddl_job_id = 2;
    ddl.ddl_query = tr_slice("CREATE DATABASE `d`;", 20);
    tr_txn_ctx_t ctx;
    fill_ctx(&ctx, 1, ddl.commit_ts);
    w.timestamp = ctx.timestamp;
    int rc = tr_translate_txn(&ddl, s, &ctx, &w, &arena, &why);
    EXPECT_EQ_INT(rc, 0);
    ddl.ddl_job_id = 3;
    const char *q = "CREATE TABLE `t` (`id` INT PRIMARY KEY,`name` VARCHAR(10),`c` DATETIME(6));";
    ddl.ddl_query = tr_slice(q, strlen(q));
    fill_ctx(&ctx, 2, ddl.commit_ts);
    rc = tr_translate_txn(&ddl, s, &ctx, &w, &arena, &why);
    EXPECT_EQ_INT(rc, 0);

    /* 3: the DML transaction */
    uint8_t bin[1024];
    size_t n = build_dml(bin, sizeof(bin));
    tr_tidb_binlog_t b;
    EXPECT_EQ_INT(tr_tidb_binlog_decode(bin, n, &b, &why), (ssize_t)n);
    fill_ctx(&ctx, 3, b.commit_ts);
    w.timestamp = ctx.timestamp;
    rc = tr_translate_txn(&b, s, &ctx, &w, &arena, &why);
    if (rc != 0) {
        fprintf(stderr, "translate: %s\n", why ? why : "?");
    }
    EXPECT_EQ_INT(rc, 0);
    EXPECT_TRUE(tr_buf_ok(&out));

    /* Every truncation of the row-carrying payload fails cleanly (or decodes less). */
    for (size_t k = 0; k < n; k++) {
        tr_buf_t scratch;
        tr_buf_init(&scratch, 0);
        tr_evt_writer_t w2;
        tr_evt_writer_init(&w2, &scratch, 4, flavor, 1, true);
        tr_tidb_binlog_t bt;
        uint8_t *copy = malloc(k > 0 ? k : 1); /* exact size: ASan sees any over-read */
        memcpy(copy, bin, k);
        if (tr_tidb_binlog_decode(copy, k, &bt, &why) >= 0) {
            tr_arena_reset(&arena);
            int trc = tr_translate_txn(&bt, s, &ctx, &w2, &arena, &why);
            EXPECT_TRUE(trc <= 0);
        }
        free(copy);
        tr_buf_cleanup(&scratch);
    }

    FILE *f = fopen(path, "wb");
    EXPECT_TRUE(f != NULL);
    if (f != NULL) {
        EXPECT_EQ_INT(fwrite(out.data, 1, out.len, f), out.len);
        EXPECT_EQ_INT(fclose(f), 0);
    }
    tr_arena_cleanup(&arena);
    tr_buf_cleanup(&out);
    tr_schema_free(s);
    return f != NULL && rc == 0 ? 0 : -1;
}

/* Runs mariadb-binlog on path and returns its stdout (malloc'd) or NULL. */
static char *decode_file(const char *path)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "mariadb-binlog -vv --base64-output=decode-rows %s 2>&1", path);
    FILE *p = popen(cmd, "r");
    if (p == NULL) {
        return NULL;
    }
    size_t cap = 1 << 16;
    size_t len = 0;
    char *text = malloc(cap);
    size_t got;
    while ((got = fread(text + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (len + 1 == cap) {
            cap *= 2;
            text = realloc(text, cap);
        }
    }
    text[len] = '\0';
    (void)pclose(p);
    return text;
}

static bool have_tool(void)
{
    return system("command -v mariadb-binlog >/dev/null 2>&1") == 0;
}

#define EXPECT_CONTAINS(text, needle)                                                              \
    do {                                                                                           \
        if (strstr((text), (needle)) == NULL) {                                                    \
            TR_FAIL_AT("output lacks: %s", (needle));                                              \
        }                                                                                          \
    } while (0)

static void check_output(const char *text)
{
    EXPECT_CONTAINS(text, "CREATE DATABASE `d`");
    EXPECT_CONTAINS(text, "use `d`");
    EXPECT_CONTAINS(text, "### INSERT INTO `d`.`t`\n### SET\n###   @1=7 /* INT meta=0 nullable=0 is_null=0 */\n"
                          "###   @2='abc' /* VARSTRING(40) meta=40 nullable=1 is_null=0 */\n"
                          "###   @3='2024-01-02 03:04:05.000006' /* DATETIME(6) meta=6 nullable=1 is_null=0 */");
    EXPECT_CONTAINS(text, "### INSERT INTO `d`.`u`\n### SET\n###   @1=5");
    EXPECT_CONTAINS(text, "###   @2=123.45 /* DECIMAL(10,2) meta=2562 nullable=1 is_null=0 */");
    EXPECT_CONTAINS(text, "###   @3='hi'");
    EXPECT_CONTAINS(text, "###   @4=-1 (255) /* TINYINT meta=0 nullable=0 is_null=0 */");
    EXPECT_CONTAINS(text, "###   @1=6");
    EXPECT_CONTAINS(text, "###   @3=NULL");
    EXPECT_CONTAINS(text, "### UPDATE `d`.`u`\n### WHERE\n###   @1=5");
    EXPECT_CONTAINS(text, "### DELETE FROM `d`.`u`\n### WHERE\n###   @1=6");
    EXPECT_CONTAINS(text, "STMT_END_F");
    EXPECT_TRUE(strstr(text, "ERROR") == NULL);
}

TR_TEST(mysql_flavor_decodes_with_mariadb_binlog)
{
    char path[] = "/tmp/tr_translate_mysql_XXXXXX";
    int fd = mkstemp(path);
    EXPECT_TRUE(fd >= 0);
    if (fd < 0) {
        return;
    }
    (void)close(fd);
    EXPECT_EQ_INT(write_file(path, TR_FLAVOR_MYSQL), 0);
    if (have_tool()) {
        char *text = decode_file(path);
        EXPECT_TRUE(text != NULL);
        if (text != NULL) {
            check_output(text);
            if (getenv("TR_TEST_VERBOSE") != NULL) {
                fputs(text, stderr);
            }
            free(text);
        }
    }
    (void)unlink(path);
}

TR_TEST(mariadb_flavor_decodes_with_mariadb_binlog)
{
    char path[] = "/tmp/tr_translate_maria_XXXXXX";
    int fd = mkstemp(path);
    EXPECT_TRUE(fd >= 0);
    if (fd < 0) {
        return;
    }
    (void)close(fd);
    EXPECT_EQ_INT(write_file(path, TR_FLAVOR_MARIADB), 0);
    if (have_tool()) {
        char *text = decode_file(path);
        EXPECT_TRUE(text != NULL);
        if (text != NULL) {
            check_output(text);
            EXPECT_CONTAINS(text, "GTID 0-1-3 trans");
            /* the DDL runs without CHECK constraint checks on a MariaDB replica */
            EXPECT_CONTAINS(text, "@@session.check_constraint_checks=0");
            if (getenv("TR_TEST_VERBOSE") != NULL) {
                fputs(text, stderr);
            }
            free(text);
        }
    }
    (void)unlink(path);
}

TR_TEST(unknown_table_and_skips)
{
    tr_schema_t *s = tr_schema_new();
    uint8_t bin[1024];
    size_t n = build_dml(bin, sizeof(bin));
    tr_tidb_binlog_t b;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_tidb_binlog_decode(bin, n, &b, &why), (ssize_t)n);
    tr_buf_t out;
    tr_buf_init(&out, 0);
    tr_evt_writer_t w;
    tr_evt_writer_init(&w, &out, 4, TR_FLAVOR_MYSQL, 1, true);
    tr_arena_t arena;
    tr_arena_init(&arena, 1024);
    tr_txn_ctx_t ctx;
    fill_ctx(&ctx, 1, b.commit_ts);
    EXPECT_EQ_INT(tr_translate_txn(&b, s, &ctx, &w, &arena, &why), TR_ENOTFOUND);
    EXPECT_EQ_INT(out.len, 0);
    tr_tidb_binlog_t sv;
    memset(&sv, 0, sizeof(sv));
    sv.ddl_job_id = 99;
    sv.ddl_query = tr_slice("  SELECT SETVAL(d.s, 10)", 24);
    EXPECT_TRUE(tr_translate_skips(&sv, s));
    sv.ddl_query = tr_slice("CREATE TABLE x(a int)", 21);
    EXPECT_TRUE(!tr_translate_skips(&sv, s));
    EXPECT_TRUE(!tr_translate_skips(&b, s));
    tr_arena_cleanup(&arena);
    tr_buf_cleanup(&out);
    tr_schema_free(s);
}

/* ---- statement order, field order, malformed mutations, memory (the PrewriteValue reader) ---- */

/* A Binlog whose only mutation (table u) holds rows_u[idx[i]] in statement order, the
 * mutation's fields laid out as TiDB writes them (rows by field, then `sequence`) or,
 * with seq_first, with a packed sequence first and table_id last. extra_insert adds an
 * inserted row no sequence entry names. */
static void build_u(tr_buf_t *bl, const int *idx, size_t n, bool seq_first, bool extra_insert)
{
    static const int field[] = {2, 2, 3, 6};
    static const uint8_t kind[] = {0, 0, 1, 4};
    uint8_t row[128];
    tr_buf_t m, pv;
    tr_buf_init(&m, 0);
    tr_buf_init(&pv, 0);
    uint8_t *seq = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        seq[i] = kind[idx[i]];
    }
    if (seq_first) {
        pb_bytes(&m, 7, seq, n);
    } else {
        pb_int(&m, 1, 46);
    }
    for (int f = 2; f <= 6; f++) {
        for (size_t i = 0; i < n; i++) {
            if (field[idx[i]] == f) {
                size_t len = tr_test_unhex(rows_u[idx[i]], row, sizeof(row));
                pb_bytes(&m, f, row, len);
            }
        }
    }
    if (extra_insert) {
        size_t len = tr_test_unhex(rows_u[0], row, sizeof(row));
        pb_bytes(&m, 2, row, len);
    }
    if (seq_first) {
        pb_int(&m, 1, 46);
    } else {
        for (size_t i = 0; i < n; i++) {
            pb_int(&m, 7, seq[i]);
        }
    }
    pb_int(&pv, 1, 12);
    pb_bytes(&pv, 2, m.data, m.len);
    pb_int(bl, 1, 1);
    pb_int(bl, 2, 445644799999999995ull);
    pb_int(bl, 3, 445644800000000005ull);
    pb_bytes(bl, 5, pv.data, pv.len);
    free(seq);
    tr_buf_cleanup(&m);
    tr_buf_cleanup(&pv);
}

typedef struct {
    size_t calls;
} flush_count_t;

static int count_flush(void *arg, tr_evt_writer_t *w)
{
    ((flush_count_t *)arg)->calls++;
    (void)w;
    return 0; /* keeps the bytes in w->out: the test reads them all at the end */
}

/* Translates the Binlog in bl (MySQL flavour) into out; returns tr_translate_txn's code. */
static int translate_bytes(const tr_buf_t *bl, tr_schema_t *s, tr_buf_t *out, tr_arena_t *arena,
                           flush_count_t *fc, const char **why)
{
    tr_tidb_binlog_t b;
    if (tr_tidb_binlog_decode(bl->data, bl->len, &b, why) < 0) {
        return TR_EMALFORMED;
    }
    tr_evt_writer_t w;
    tr_evt_writer_init(&w, out, 4, TR_FLAVOR_MYSQL, 1, true);
    tr_txn_ctx_t ctx;
    fill_ctx(&ctx, 1, b.commit_ts);
    w.timestamp = ctx.timestamp;
    if (fc != NULL) {
        ctx.flush = count_flush;
        ctx.flush_arg = fc;
        ctx.flush_bytes = 1;
    }
    return tr_translate_txn(&b, s, &ctx, &w, arena, why);
}

TR_TEST(runs_follow_the_sequence_whatever_the_field_order)
{
    tr_schema_t *s = make_schema();
    /* insert, insert, update, delete, insert: four runs, each TABLE_MAP + one rows event
     * with STMT_END (MySQL rpl_rli closes table maps at STMT_END). */
    static const int idx[] = {0, 1, 2, 3, 0};
    tr_buf_t outs[2];
    for (int layout = 0; layout < 2; layout++) {
        tr_buf_t bl;
        tr_buf_init(&bl, 0);
        tr_buf_init(&outs[layout], 0);
        build_u(&bl, idx, TR_ARRAY_LEN(idx), layout == 1, false);
        tr_arena_t arena;
        tr_arena_init(&arena, 1024);
        const char *why = NULL;
        EXPECT_EQ_INT(translate_bytes(&bl, s, &outs[layout], &arena, NULL, &why), 0);
        tr_arena_cleanup(&arena);
        tr_buf_cleanup(&bl);
    }
    EXPECT_EQ_MEM(outs[1].data, outs[1].len, outs[0].data, outs[0].len);
    static const uint8_t want_types[] = {
        TR_EVT_GTID,       TR_EVT_QUERY,       TR_EVT_TABLE_MAP, TR_EVT_WRITE_ROWS,
        TR_EVT_TABLE_MAP,  TR_EVT_UPDATE_ROWS, TR_EVT_TABLE_MAP, TR_EVT_DELETE_ROWS,
        TR_EVT_TABLE_MAP,  TR_EVT_WRITE_ROWS,  TR_EVT_XID};
    uint8_t types[32];
    size_t n_types = 0;
    size_t rows_events_with_stmt_end = 0;
    for (size_t pos = 0; pos + 19 <= outs[0].len && n_types < sizeof(types);) {
        const uint8_t *h = outs[0].data + pos;
        uint32_t size = (uint32_t)h[9] | (uint32_t)h[10] << 8 | (uint32_t)h[11] << 16 |
                        (uint32_t)h[12] << 24;
        types[n_types++] = h[4];
        if (h[4] >= TR_EVT_WRITE_ROWS && h[4] <= TR_EVT_DELETE_ROWS && size >= 27) {
            uint16_t flags = (uint16_t)(h[19 + 6] | h[19 + 7] << 8); /* after the table id */
            rows_events_with_stmt_end += (flags & TR_ROWS_STMT_END) != 0;
        }
        if (size < 19) {
            break;
        }
        pos += size;
    }
    EXPECT_EQ_MEM(types, n_types, want_types, sizeof(want_types));
    EXPECT_EQ_INT(rows_events_with_stmt_end, 4);
    tr_buf_cleanup(&outs[0]);
    tr_buf_cleanup(&outs[1]);
    tr_schema_free(s);
}

/* ---- tr_translate_rows (the TiCDC path) against the Pump path ---- */

typedef struct {
    const tr_table_info_t *t;
    int32_t op;
    tr_datum_t vals[2][8];
    bool present[2][8];
} test_row_t;

typedef struct {
    test_row_t rows[8];
    size_t n;
    size_t at;
} test_rows_t;

/* Decodes a Pump row value (one image, or an UPDATE's two) into public-column datums. */
static void decode_row(test_row_t *r, const tr_table_info_t *t, int32_t op, const char *hex,
                       uint8_t *buf, size_t cap)
{
    size_t n = tr_test_unhex(hex, buf, cap);
    memset(r, 0, sizeof(*r));
    r->t = t;
    r->op = op;
    size_t at = 0;
    const char *why = NULL;
    if (op == TR_TIDB_MUT_INSERT && t->pk_is_handle) {
        /* An inserted row starts with its handle, the int primary key. */
        tr_datum_t hd;
        ssize_t m = tr_datum_decode(buf, n, &hd, &why);
        EXPECT_TRUE(m > 0);
        for (size_t k = 0; k < t->n_public; k++) {
            if (t->cols[t->public_idx[k]].id == t->handle_col_id) {
                r->vals[0][k] = hd;
                r->present[0][k] = true;
            }
        }
        at = m > 0 ? (size_t)m : n;
    }
    tr_datum_row_iter_t it = tr_datum_row_iter(buf + at, n - at);
    int64_t id;
    tr_datum_t d;
    int h = 0;
    while (tr_datum_row_next(&it, &id, &d, &why) > 0) {
        for (size_t k = 0; k < t->n_public; k++) {
            if (t->cols[t->public_idx[k]].id == id) {
                if (r->present[h][k]) {
                    h = 1; /* the after image starts where a column repeats */
                }
                r->vals[h][k] = d;
                r->present[h][k] = true;
            }
        }
    }
}

static int test_next(void *arg, tr_row_change_t *row, const char **why)
{
    (void)why;
    test_rows_t *a = arg;
    if (a->at == a->n) {
        return 0;
    }
    test_row_t *r = &a->rows[a->at++];
    row->t = r->t;
    row->db = "d";
    row->table = r->t->name;
    row->op = r->op;
    for (int h = 0; h < 2; h++) {
        row->vals[h] = r->vals[h];
        row->present[h] = r->present[h];
    }
    return 1;
}

TR_TEST(rows_iterator_writes_what_the_pump_path_writes)
{
    tr_schema_t *s = make_schema();
    const tr_table_info_t *t = tr_schema_table(s, 45);
    const tr_table_info_t *u = tr_schema_table(s, 46);
    EXPECT_TRUE(t != NULL && u != NULL);
    static uint8_t bufs[8][128];
    static test_rows_t rows;
    memset(&rows, 0, sizeof(rows));
    decode_row(&rows.rows[0], t, TR_TIDB_MUT_INSERT, row_t_insert, bufs[0], 128);
    decode_row(&rows.rows[1], u, TR_TIDB_MUT_INSERT, rows_u[0], bufs[1], 128);
    decode_row(&rows.rows[2], u, TR_TIDB_MUT_INSERT, rows_u[1], bufs[2], 128);
    decode_row(&rows.rows[3], u, TR_TIDB_MUT_UPDATE, rows_u[2], bufs[3], 128);
    decode_row(&rows.rows[4], u, TR_TIDB_MUT_DELETE_ROW, rows_u[3], bufs[4], 128);
    rows.n = 5;
    EXPECT_TRUE(rows.rows[3].present[1][0]); /* the update's after image was found */

    uint8_t bin[1024];
    size_t n = build_dml(bin, sizeof(bin));
    tr_buf_t bl, want, got;
    tr_buf_init(&bl, 0);
    tr_buf_init(&want, 0);
    tr_buf_init(&got, 0);
    tr_buf_append(&bl, bin, n);
    tr_arena_t arena;
    tr_arena_init(&arena, 1024);
    const char *why = NULL;
    EXPECT_EQ_INT(translate_bytes(&bl, s, &want, &arena, NULL, &why), 0);

    tr_evt_writer_t w;
    tr_evt_writer_init(&w, &got, 4, TR_FLAVOR_MYSQL, 1, true);
    tr_txn_ctx_t ctx;
    fill_ctx(&ctx, 1, 445644800000000005ll);
    w.timestamp = ctx.timestamp;
    tr_row_iter_t it = {test_next, &rows};
    EXPECT_EQ_INT(tr_translate_rows(&it, &ctx, &w, &why), 0);
    EXPECT_EQ_MEM(got.data, got.len, want.data, want.len);

    /* No rows: nothing written. */
    rows.n = 0;
    rows.at = 0;
    tr_buf_reset(&got);
    tr_evt_writer_init(&w, &got, 4, TR_FLAVOR_MYSQL, 1, true);
    EXPECT_EQ_INT(tr_translate_rows(&it, &ctx, &w, &why), TR_TRANSLATE_FILTERED);
    EXPECT_EQ_INT(got.len, 0);
    tr_arena_cleanup(&arena);
    tr_buf_cleanup(&bl);
    tr_buf_cleanup(&want);
    tr_buf_cleanup(&got);
    tr_schema_free(s);
}

TR_TEST(malformed_mutation_writes_nothing)
{
    tr_schema_t *s = make_schema();
    static const int idx[] = {0, 2, 3};
    tr_buf_t bl;
    tr_buf_init(&bl, 0);
    build_u(&bl, idx, TR_ARRAY_LEN(idx), false, true); /* an inserted row with no entry */
    tr_buf_t out;
    tr_buf_init(&out, 0);
    tr_arena_t arena;
    tr_arena_init(&arena, 1024);
    flush_count_t fc = {0};
    const char *why = NULL;
    EXPECT_EQ_INT(translate_bytes(&bl, s, &out, &arena, &fc, &why), TR_EMALFORMED);
    EXPECT_TRUE(why != NULL);
    EXPECT_EQ_INT(out.len, 0);
    EXPECT_EQ_INT(fc.calls, 0);
    tr_arena_cleanup(&arena);
    tr_buf_cleanup(&out);
    tr_buf_cleanup(&bl);
    tr_schema_free(s);
}

/* Translation memory does not grow with the rows: the arena holds the same per-table
 * scratch for 20 rows and for 20000 (it held 20 bytes per row when the PrewriteValue was
 * unpacked into arrays). */
TR_TEST(arena_use_is_constant_in_rows)
{
    tr_schema_t *s = make_schema();
    size_t used[2];
    size_t out_len[2];
    static const size_t counts[2] = {20, 20000};
    for (int i = 0; i < 2; i++) {
        int *idx = malloc(counts[i] * sizeof(int));
        for (size_t k = 0; k < counts[i]; k++) {
            idx[k] = (int)(k % 4); /* insert, insert, update, delete, ... */
        }
        tr_buf_t bl;
        tr_buf_init(&bl, 0);
        build_u(&bl, idx, counts[i], false, false);
        tr_buf_t out;
        tr_buf_init(&out, 0);
        tr_arena_t arena;
        tr_arena_init(&arena, 1024);
        const char *why = NULL;
        EXPECT_EQ_INT(translate_bytes(&bl, s, &out, &arena, NULL, &why), 0);
        used[i] = arena.used_bytes;
        out_len[i] = out.len;
        tr_arena_cleanup(&arena);
        tr_buf_cleanup(&out);
        tr_buf_cleanup(&bl);
        free(idx);
    }
    EXPECT_TRUE(out_len[1] > 500 * out_len[0]); /* the rows were written */
    EXPECT_EQ_INT(used[1], used[0]);
    EXPECT_TRUE(used[0] < 4096);
    tr_schema_free(s);
}

/* DDL Query events carry Q_CHARSET_CODE (status var 4) = utf8mb4_general_ci (45) for client,
 * connection and server: TiDB's DDL text is UTF-8 with 4-byte characters (MySQL
 * log_event.cc Query_log_event: the replica sets character_set_client from it; with
 * utf8mb3 (33) an ENUM element U+1F600 became '????' on a real replica, test_types.py). */
TR_TEST(ddl_query_charset_is_utf8mb4)
{
    tr_schema_t *s = make_schema();
    for (int flavor = 0; flavor < 2; flavor++) {
        tr_buf_t out;
        tr_buf_init(&out, 0);
        tr_evt_writer_t w;
        tr_evt_writer_init(&w, &out, 4, flavor ? TR_FLAVOR_MARIADB : TR_FLAVOR_MYSQL, 1, true);
        tr_arena_t arena;
        tr_arena_init(&arena, 1024);
        const char *why = NULL;
        tr_tidb_binlog_t ddl;
        memset(&ddl, 0, sizeof(ddl));
        ddl.tp = TR_TIDB_BINLOG_COMMIT;
        ddl.commit_ts = 445644790000000000ll;
        ddl.ddl_job_id = 2;
        ddl.ddl_query = tr_slice("CREATE DATABASE `d`;", 20);
        tr_txn_ctx_t ctx;
        fill_ctx(&ctx, 1, ddl.commit_ts);
        EXPECT_EQ_INT(tr_translate_txn(&ddl, s, &ctx, &w, &arena, &why), 0);
        /* client and connection utf8mb4_general_ci (45); server: the collation the job's
         * DBInfo names (utf8mb4_bin, 46), so a database created without a charset gets
         * TiDB's default and not the replica server's */
        static const uint8_t q_charset[] = {4, 45, 0, 45, 0, 46, 0};
        bool found = false;
        for (size_t i = 0; i + sizeof(q_charset) <= out.len && !found; i++) {
            found = memcmp(out.data + i, q_charset, sizeof(q_charset)) == 0;
        }
        EXPECT_TRUE(found);
        /* Q_FLAGS2 (status var 0): MariaDB explicit_defaults_for_timestamp (1 << 24) and
         * no CHECK constraint checks (1 << 15); MySQL 0 */
        static const uint8_t f2_maria[] = {0, 0x00, 0x80, 0x00, 0x01};
        found = false;
        for (size_t i = 0; i + sizeof(f2_maria) <= out.len && !found; i++) {
            found = memcmp(out.data + i, f2_maria, sizeof(f2_maria)) == 0;
        }
        EXPECT_TRUE(found == (flavor == 1));
        tr_arena_cleanup(&arena);
        tr_buf_cleanup(&out);
    }
    tr_schema_free(s);
}

/* ---- table shapes (spec 4.2-4.4): common handles and tables without a primary key ---- */

#define COL(id, name, off, tp, flag, flen, cs)                                                     \
    "{\"id\":" #id ",\"name\":{\"O\":\"" name "\"},\"offset\":" #off ",\"state\":5,\"type\":{\"Tp\":" \
    #tp ",\"Flag\":" #flag ",\"Flen\":" #flen ",\"Decimal\":0,\"Charset\":\"" cs                  \
    "\",\"Collate\":\"" cs "_bin\"}}"
#define PRIMARY(cols)                                                                              \
    "\"index_info\":[{\"id\":1,\"idx_name\":{\"O\":\"PRIMARY\",\"L\":\"primary\"},\"idx_cols\":[" cols \
    "],\"state\":5,\"is_unique\":true,\"is_primary\":true}]"

/* ch(info VARCHAR(8), code VARCHAR(8) PRIMARY KEY CLUSTERED, qty INT): the key column is not
 * the first one. */
static const char *job_ch =
    "{\"id\":5,\"type\":3,\"schema_id\":1,\"table_id\":47,\"schema_name\":\"d\",\"table_name\":\"ch\","
    "\"state\":6,\"query\":\"CREATE TABLE ch(...)\",\"binlog\":{\"SchemaVersion\":13,\"TableInfo\":{"
    "\"id\":47,\"name\":{\"O\":\"ch\"},\"pk_is_handle\":false,\"is_common_handle\":true,"
    PRIMARY("{\"name\":{\"O\":\"code\"},\"offset\":1,\"length\":-1}") ",\"cols\":["
    COL(1, "info", 0, 15, 0, 8, "utf8mb4") "," COL(2, "code", 1, 15, 4099, 8, "utf8mb4") ","
    COL(3, "qty", 2, 3, 128, 11, "binary") "]}}}";

/* cc(region VARCHAR(4), id INT, v INT, PRIMARY KEY(id, region) CLUSTERED): index order is not
 * column order. */
static const char *job_cc =
    "{\"id\":6,\"type\":3,\"schema_id\":1,\"table_id\":48,\"schema_name\":\"d\",\"table_name\":\"cc\","
    "\"state\":6,\"query\":\"CREATE TABLE cc(...)\",\"binlog\":{\"SchemaVersion\":14,\"TableInfo\":{"
    "\"id\":48,\"name\":{\"O\":\"cc\"},\"pk_is_handle\":false,\"is_common_handle\":true,"
    PRIMARY("{\"name\":{\"O\":\"id\"},\"offset\":1,\"length\":-1},"
            "{\"name\":{\"O\":\"region\"},\"offset\":0,\"length\":-1}") ",\"cols\":["
    COL(1, "region", 0, 15, 4099, 4, "utf8mb4") "," COL(2, "id", 1, 3, 4227, 11, "binary") ","
    COL(3, "v", 2, 3, 128, 11, "binary") "]}}}";

/* np(a INT, s VARCHAR(4)): no primary key, the handle is _tidb_rowid (column id -1). */
static const char *job_np =
    "{\"id\":7,\"type\":3,\"schema_id\":1,\"table_id\":49,\"schema_name\":\"d\",\"table_name\":\"np\","
    "\"state\":6,\"query\":\"CREATE TABLE np(...)\",\"binlog\":{\"SchemaVersion\":15,\"TableInfo\":{"
    "\"id\":49,\"name\":{\"O\":\"np\"},\"pk_is_handle\":false,\"is_common_handle\":false,"
    "\"index_info\":null,\"cols\":["
    COL(1, "a", 0, 3, 128, 11, "binary") "," COL(2, "s", 1, 15, 0, 4, "utf8mb4") "]}}}";

typedef struct {
    int field; /* TableMutation field: 2 inserted, 3 updated, 6 deleted rows */
    const char *hex;
} shape_row_t;

static const struct {
    int64_t table_id;
    shape_row_t rows[3];
} shape_muts[] = {
    /* ch: insert ('ab','k10',5): prefix 'k10', body without the full-length key column;
     * update qty 5 -> 6 (full rows, key included) */
    {47,
     {{2, "02 06 6B 31 30  08 02 02 04 61 62  08 06 08 0A"},
      {3, "08 02 02 04 61 62 08 04 02 06 6B 31 30 08 06 08 0A"
          "08 02 02 04 61 62 08 04 02 06 6B 31 30 08 06 08 0C"},
      {0, NULL}}},
    /* cc: insert ('eu',7,9): prefix in index order (id 7, region 'eu'), body only v; delete */
    {48,
     {{2, "08 0E 02 04 65 75  08 06 08 12"},
      {6, "08 02 02 04 65 75 08 04 08 0E 08 06 08 12"},
      {0, NULL}}},
    /* np: insert (1,'x') with handle 3; update a 1 -> 2 and delete, each half ending with the
     * (-1, handle 3) pair 08 01 08 06 */
    {49,
     {{2, "08 06  08 02 08 02 08 04 02 02 78"},
      {3, "08 02 08 02 08 04 02 02 78 08 01 08 06  08 02 08 04 08 04 02 02 78 08 01 08 06"},
      {6, "08 02 08 04 08 04 02 02 78 08 01 08 06"}}},
};

static size_t build_shapes(uint8_t *out, size_t cap)
{
    uint8_t row[128];
    tr_buf_t pv, bl;
    tr_buf_init(&pv, 0);
    tr_buf_init(&bl, 0);
    pb_int(&pv, 1, 15);
    for (size_t i = 0; i < TR_ARRAY_LEN(shape_muts); i++) {
        tr_buf_t m;
        tr_buf_init(&m, 0);
        pb_int(&m, 1, (uint64_t)shape_muts[i].table_id);
        uint8_t seq[3];
        size_t nseq = 0;
        for (size_t k = 0; k < 3 && shape_muts[i].rows[k].hex != NULL; k++) {
            size_t n = tr_test_unhex(shape_muts[i].rows[k].hex, row, sizeof(row));
            pb_bytes(&m, shape_muts[i].rows[k].field, row, n);
            int f = shape_muts[i].rows[k].field;
            seq[nseq++] = f == 2 ? 0 : f == 3 ? 1 : 4; /* Insert, Update, DeleteRow */
        }
        pb_bytes(&m, 7, seq, nseq);
        pb_bytes(&pv, 2, m.data, m.len);
        tr_buf_cleanup(&m);
    }
    pb_int(&bl, 1, 1);
    pb_int(&bl, 2, 445644799999999995ull);
    pb_int(&bl, 3, 445644800000000005ull);
    pb_bytes(&bl, 5, pv.data, pv.len);
    size_t len = bl.len < cap ? bl.len : 0;
    memcpy(out, bl.data, len);
    tr_buf_cleanup(&pv);
    tr_buf_cleanup(&bl);
    return len;
}

TR_TEST(table_shapes_common_handle_and_rowid)
{
    const char *why = NULL;
    tr_schema_t *s = tr_schema_new();
    EXPECT_EQ_INT(tr_schema_add_job(s, 2, job_schema, strlen(job_schema), &why), 0);
    EXPECT_EQ_INT(tr_schema_add_job(s, 5, job_ch, strlen(job_ch), &why), 0);
    EXPECT_EQ_INT(tr_schema_add_job(s, 6, job_cc, strlen(job_cc), &why), 0);
    EXPECT_EQ_INT(tr_schema_add_job(s, 7, job_np, strlen(job_np), &why), 0);
    EXPECT_EQ_INT(tr_schema_advance(s, 15, &why), 0);
    uint8_t bin[1024];
    size_t n = build_shapes(bin, sizeof(bin));
    tr_tidb_binlog_t b;
    EXPECT_EQ_INT(tr_tidb_binlog_decode(bin, n, &b, &why), (ssize_t)n);
    for (int flavor = 0; flavor < 2; flavor++) {
        char path[] = "/tmp/tr_translate_shapes_XXXXXX";
        int fd = mkstemp(path);
        EXPECT_TRUE(fd >= 0);
        if (fd < 0) {
            break;
        }
        (void)close(fd);
        tr_flavor_t fl = flavor ? TR_FLAVOR_MARIADB : TR_FLAVOR_MYSQL;
        tr_buf_t out;
        tr_buf_init(&out, 0);
        tr_buf_append(&out, tr_binlog_magic, TR_BINLOG_MAGIC_LEN);
        tr_evt_writer_t w;
        tr_evt_writer_init(&w, &out, TR_BINLOG_MAGIC_LEN, fl, 1, true);
        w.timestamp = 1700000000;
        tr_evt_put_fde(&w, flavor ? "10.11.6-MariaDB-tirelay" : "8.0.36-tirelay", 1700000000);
        tr_arena_t arena;
        tr_arena_init(&arena, 4096);
        tr_txn_ctx_t ctx;
        fill_ctx(&ctx, 1, b.commit_ts);
        int rc = tr_translate_txn(&b, s, &ctx, &w, &arena, &why);
        if (rc != 0) {
            fprintf(stderr, "translate: %s\n", why ? why : "?");
        }
        EXPECT_EQ_INT(rc, 0);
        FILE *f = fopen(path, "wb");
        EXPECT_TRUE(f != NULL);
        if (f != NULL) {
            EXPECT_EQ_INT(fwrite(out.data, 1, out.len, f), out.len);
            EXPECT_EQ_INT(fclose(f), 0);
        }
        if (rc == 0 && have_tool()) {
            char *text = decode_file(path);
            EXPECT_TRUE(text != NULL);
            if (text != NULL) {
                EXPECT_CONTAINS(text, "### INSERT INTO `d`.`ch`\n### SET\n###   @1='ab'");
                EXPECT_CONTAINS(text, "###   @2='k10'");
                EXPECT_CONTAINS(text, "### UPDATE `d`.`ch`\n### WHERE\n###   @1='ab'");
                EXPECT_CONTAINS(text, "###   @3=6 /* INT meta=0 nullable=1 is_null=0 */");
                EXPECT_CONTAINS(text, "### INSERT INTO `d`.`cc`\n### SET\n###   @1='eu' /* VARSTRING(16) "
                                      "meta=16 nullable=0 is_null=0 */\n###   @2=7 /* INT meta=0 "
                                      "nullable=0 is_null=0 */\n###   @3=9");
                EXPECT_CONTAINS(text, "### DELETE FROM `d`.`cc`\n### WHERE\n###   @1='eu'");
                EXPECT_CONTAINS(text, "### INSERT INTO `d`.`np`\n### SET\n###   @1=1 /* INT meta=0 "
                                      "nullable=1 is_null=0 */\n###   @2='x'");
                EXPECT_CONTAINS(text, "### UPDATE `d`.`np`\n### WHERE\n###   @1=1");
                EXPECT_CONTAINS(text, "### SET\n###   @1=2 /* INT meta=0 nullable=1 is_null=0 */\n"
                                      "###   @2='x'");
                EXPECT_CONTAINS(text, "### DELETE FROM `d`.`np`\n### WHERE\n###   @1=2");
                EXPECT_TRUE(strstr(text, "ERROR") == NULL);
                if (getenv("TR_TEST_VERBOSE") != NULL) {
                    fputs(text, stderr);
                }
                free(text);
            }
        }
        tr_arena_cleanup(&arena);
        tr_buf_cleanup(&out);
        (void)unlink(path);
    }
    tr_schema_free(s);
}

/* ---- value conversions: JSON per flavour, latin1, a _ci clustered key ---- */

/* jx(k VARCHAR(8) COLLATE utf8mb4_general_ci PRIMARY KEY CLUSTERED, j JSON,
 *    l VARCHAR(4) CHARACTER SET latin1) */
static const char *job_jx =
    "{\"id\":8,\"type\":3,\"schema_id\":1,\"table_id\":51,\"schema_name\":\"d\",\"table_name\":\"jx\","
    "\"state\":6,\"query\":\"CREATE TABLE jx(...)\",\"binlog\":{\"SchemaVersion\":16,\"TableInfo\":{"
    "\"id\":51,\"name\":{\"O\":\"jx\"},\"pk_is_handle\":false,\"is_common_handle\":true,"
    PRIMARY("{\"name\":{\"O\":\"k\"},\"offset\":0,\"length\":-1}") ",\"cols\":["
    "{\"id\":1,\"name\":{\"O\":\"k\"},\"offset\":0,\"state\":5,\"type\":{\"Tp\":15,\"Flag\":4099,"
    "\"Flen\":8,\"Decimal\":0,\"Charset\":\"utf8mb4\",\"Collate\":\"utf8mb4_general_ci\"}},"
    COL(2, "j", 1, 245, 128, -1, "binary") "," COL(3, "l", 2, 15, 0, 4, "latin1") "]}}}";

TR_TEST(json_latin1_and_ci_key_values)
{
    /* Insert ('ab', '{"a": 1}', 'é€'): the handle datum is the general_ci sort key of 'ab'
     * (00 41 00 42, pkg/util/collate/general_ci.go), the body keeps 'ab' (tables.go CanSkip:
     * NeedRestoredData); JSON {"a":1} as spec 4.6.5; 'é€' as a utf8mb4 client sent it. */
    static const char *row =
        "02 08 00 41 00 42"
        " 08 02 02 04 61 62"
        " 08 04 0A 01 01 00 00 00 1C 00 00 00 13 00 00 00 01 00 09 14 00 00 00 61"
        "   01 00 00 00 00 00 00 00"
        " 08 06 02 0A C3 A9 E2 82 AC";
    const char *why = NULL;
    tr_schema_t *s = tr_schema_new();
    EXPECT_EQ_INT(tr_schema_add_job(s, 2, job_schema, strlen(job_schema), &why), 0);
    EXPECT_EQ_INT(tr_schema_add_job(s, 8, job_jx, strlen(job_jx), &why), 0);
    EXPECT_EQ_INT(tr_schema_advance(s, 16, &why), 0);
    uint8_t r[128];
    size_t rn = tr_test_unhex(row, r, sizeof(r));
    tr_buf_t m, pv, bl;
    tr_buf_init(&m, 0);
    tr_buf_init(&pv, 0);
    tr_buf_init(&bl, 0);
    pb_int(&m, 1, 51);
    pb_bytes(&m, 2, r, rn);
    uint8_t seq[1] = {0};
    pb_bytes(&m, 7, seq, 1);
    pb_int(&pv, 1, 16);
    pb_bytes(&pv, 2, m.data, m.len);
    pb_int(&bl, 1, 1);
    pb_int(&bl, 2, 445644799999999995ull);
    pb_int(&bl, 3, 445644800000000005ull);
    pb_bytes(&bl, 5, pv.data, pv.len);
    tr_tidb_binlog_t b;
    EXPECT_EQ_INT(tr_tidb_binlog_decode(bl.data, bl.len, &b, &why), (ssize_t)bl.len);
    for (int flavor = 0; flavor < 2; flavor++) {
        tr_buf_t out;
        tr_buf_init(&out, 0);
        tr_evt_writer_t w;
        tr_evt_writer_init(&w, &out, 4, flavor ? TR_FLAVOR_MARIADB : TR_FLAVOR_MYSQL, 1, true);
        tr_arena_t arena;
        tr_arena_init(&arena, 4096);
        tr_txn_ctx_t ctx;
        fill_ctx(&ctx, 1, b.commit_ts);
        EXPECT_EQ_INT(tr_translate_txn(&b, s, &ctx, &w, &arena, &why), 0);
        /* row image: NULL bitmap (unused bits set), k 'ab' (1-byte length), j, l in latin1 */
        uint8_t want[64];
        size_t wn = tr_test_unhex(flavor ? "F8 02 61 62  08 00 00 00 7B 22 61 22 3A 20 31 7D  02 E9 80"
                                         : "F8 02 61 62  0D 00 00 00 00 01 00 0C 00 0B 00 01 00 05 01 00"
                                           " 61  02 E9 80",
                                  want, sizeof(want));
        bool found = false;
        for (size_t i = 0; i + wn <= out.len && !found; i++) {
            found = memcmp(out.data + i, want, wn) == 0;
        }
        EXPECT_TRUE(found);
        if (!found) {
            tr_test_hex("output", out.data, out.len);
        }
        tr_arena_cleanup(&arena);
        tr_buf_cleanup(&out);
    }
    tr_buf_cleanup(&m);
    tr_buf_cleanup(&pv);
    tr_buf_cleanup(&bl);
    tr_schema_free(s);
}

/* [filter]: a dropped table's mutation is left out, a kept one's TABLE_MAP carries the
 * renamed database; when every table is dropped nothing is written (TR_TRANSLATE_FILTERED). */
static bool has_bytes(const tr_buf_t *b, const void *needle, size_t n)
{
    for (size_t i = 0; i + n <= b->len; i++) {
        if (memcmp(b->data + i, needle, n) == 0) {
            return true;
        }
    }
    return false;
}

static int translate_filtered(const char *const *rules, size_t n_rules, tr_buf_t *out,
                              const char **why)
{
    tr_filter_rule_t fr[4];
    memset(fr, 0, sizeof(fr));
    for (size_t i = 0; i < n_rules; i++) {
        const char *eq = strchr(rules[i], '=');
        for (int k = 0; k < TR_FILTER_KIND_COUNT; k++) {
            if (strncmp(rules[i], tr_config_filter_key((tr_filter_kind_t)k), (size_t)(eq - rules[i])) == 0 &&
                strlen(tr_config_filter_key((tr_filter_kind_t)k)) == (size_t)(eq - rules[i])) {
                fr[i].kind = (tr_filter_kind_t)k;
            }
        }
        snprintf(fr[i].text, sizeof(fr[i].text), "%s", eq + 1);
    }
    tr_filter_t *f = NULL;
    size_t bad = 0;
    EXPECT_EQ_INT(tr_filter_new(fr, n_rules, &f, &bad, why), 0);
    tr_schema_t *s = make_schema();
    tr_arena_t arena;
    tr_arena_init(&arena, 4096);
    uint8_t bin[1024];
    size_t n = build_dml(bin, sizeof(bin));
    tr_tidb_binlog_t b;
    EXPECT_EQ_INT(tr_tidb_binlog_decode(bin, n, &b, why), (ssize_t)n);
    tr_txn_ctx_t ctx;
    fill_ctx(&ctx, 3, b.commit_ts);
    ctx.filter = f;
    int rc = 0;
    for (int f2 = 0; f2 < TR_FLAVOR_COUNT && rc >= 0; f2++) {
        tr_buf_reset(out);
        tr_evt_writer_t w;
        tr_evt_writer_init(&w, out, 4, (tr_flavor_t)f2, 1, true);
        tr_arena_reset(&arena);
        int r2 = tr_translate_txn(&b, s, &ctx, &w, &arena, why);
        EXPECT_TRUE(f2 == 0 || r2 == rc); /* the same answer in both flavours */
        rc = r2;
    }
    tr_arena_cleanup(&arena);
    tr_schema_free(s);
    tr_filter_free(f);
    return rc;
}

TR_TEST(filter_drops_and_renames_tables)
{
    tr_buf_t out;
    tr_buf_init(&out, 0);
    const char *why = NULL;
    static const uint8_t map_t[] = {1, 'd', 0, 1, 't', 0};
    static const uint8_t map_u[] = {1, 'd', 0, 1, 'u', 0};
    static const uint8_t map_u2[] = {2, 'd', '2', 0, 1, 'u', 0};
    static const uint8_t map_x[] = {1, 'x', 0, 1, 'y', 0};

    const char *none[] = {"ignore-db=other"};
    EXPECT_EQ_INT(translate_filtered(none, 1, &out, &why), 0);
    EXPECT_TRUE(has_bytes(&out, map_t, sizeof(map_t)) && has_bytes(&out, map_u, sizeof(map_u)));

    const char *drop_t[] = {"ignore-table=d.t", "rewrite-db=d->d2"};
    EXPECT_EQ_INT(translate_filtered(drop_t, 2, &out, &why), 0);
    EXPECT_TRUE(!has_bytes(&out, map_t, sizeof(map_t)) && has_bytes(&out, map_u2, sizeof(map_u2)));
    EXPECT_TRUE(!has_bytes(&out, map_u, sizeof(map_u)));

    const char *ren_t[] = {"rewrite-table=D.T->x.y", "wild-do-table=d.%"};
    EXPECT_EQ_INT(translate_filtered(ren_t, 2, &out, &why), 0);
    EXPECT_TRUE(has_bytes(&out, map_x, sizeof(map_x)) && has_bytes(&out, map_u, sizeof(map_u)));

    const char *all[] = {"ignore-db=d"};
    EXPECT_EQ_INT(translate_filtered(all, 1, &out, &why), TR_TRANSLATE_FILTERED);
    EXPECT_EQ_INT(out.len, 0);
    const char *only_other[] = {"do-table=d.zz"};
    EXPECT_EQ_INT(translate_filtered(only_other, 1, &out, &why), TR_TRANSLATE_FILTERED);
    EXPECT_EQ_INT(out.len, 0);
    tr_buf_cleanup(&out);
}

TR_TEST_MAIN()
