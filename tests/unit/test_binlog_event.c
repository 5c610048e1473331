/*
 * Binlog event codec tests: decode every event of a real MariaDB 10.11 binlog
 * (tests/vectors/binlog/mbin.000001, see its README) with CRC checks and
 * truncation; golden encodings against the same capture; and a MySQL-flavour
 * file written with our encoders, decoded by the real `mariadb-binlog`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "common/buf.h"
#include "common/endian.h"
#include "common/err.h"
#include "protocol/binlog_event.h"
#include "protocol/crc32.h"
#include "protocol/rows.h"
#include "tr_test.h"

#define VEC "tests/vectors/binlog/mbin.000001"

static uint8_t *load_vec(size_t *len)
{
    uint8_t *p = tr_test_read_file(VEC, len);
    if (p == NULL) {
        fprintf(stderr, "cannot read %s\n", VEC);
    }
    return p;
}

/* Walks events from offset 4; returns count, or -1 on any decode problem. */
static int walk(const uint8_t *p, size_t len, size_t *end)
{
    size_t pos = 4;
    int n = 0;
    while (pos < len) {
        tr_evt_header_t h;
        const char *why = NULL;
        ssize_t r = tr_evt_header_decode(p + pos, len - pos, &h, &why);
        if (r == TR_EINCOMPLETE || h.event_size > len - pos) {
            break;
        }
        if (r < 0) {
            return -1;
        }
        if (tr_evt_check_crc(p + pos, h.event_size) != 0) {
            return -1;
        }
        if (h.log_pos != pos + h.event_size) {
            return -1;
        }
        pos += h.event_size;
        n++;
    }
    *end = pos;
    return n;
}

TR_TEST(decode_mariadb_capture)
{
    size_t len = 0;
    uint8_t *p = load_vec(&len);
    EXPECT_TRUE(p != NULL);
    if (p == NULL) {
        return;
    }
    EXPECT_EQ_INT(len, 2245);
    EXPECT_EQ_MEM(p, 4, tr_binlog_magic, 4);
    size_t end = 0;
    int n = walk(p, len, &end);
    EXPECT_EQ_INT(n, 39);
    EXPECT_EQ_U64(end, len);
    /* First event: FDE, 252 bytes, server id 1. */
    tr_evt_header_t h;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_evt_header_decode(p + 4, len - 4, &h, &why), 19);
    EXPECT_EQ_INT(h.type, TR_EVT_FORMAT_DESCRIPTION);
    EXPECT_EQ_INT(h.event_size, 252);
    EXPECT_EQ_INT(h.log_pos, 256);
    EXPECT_EQ_INT(h.server_id, 1);
    /* The FDE CRC is computed with BINLOG_IN_USE clear: setting it keeps the CRC valid. */
    uint8_t fde[252];
    memcpy(fde, p + 4, sizeof(fde));
    fde[17] |= TR_EVF_BINLOG_IN_USE;
    EXPECT_EQ_INT(tr_evt_check_crc(fde, sizeof(fde)), 0);
    fde[40] ^= 1;
    EXPECT_EQ_INT(tr_evt_check_crc(fde, sizeof(fde)), TR_ECHECKSUM);
    free(p);
}

TR_TEST(truncations_never_crash)
{
    size_t len = 0;
    uint8_t *p = load_vec(&len);
    if (p == NULL) {
        EXPECT_TRUE(false);
        return;
    }
    for (size_t cut = 4; cut <= len; cut++) {
        /* A private copy of exactly cut bytes lets ASan catch over-reads. */
        uint8_t *q = malloc(cut);
        memcpy(q, p, cut);
        size_t end = 0;
        int n = walk(q, cut, &end);
        EXPECT_TRUE(n >= 0);
        EXPECT_TRUE(end <= cut);
        /* The event cut at `end` is incomplete: header decode says so or its size overruns. */
        if (end < cut) {
            tr_evt_header_t h;
            const char *why = NULL;
            ssize_t r = tr_evt_header_decode(q + end, cut - end, &h, &why);
            EXPECT_TRUE(r == TR_EINCOMPLETE || (r == 19 && h.event_size > cut - end));
            EXPECT_TRUE(tr_evt_check_crc(q + end, cut - end) != 0);
        }
        free(q);
    }
    /* Malformed: event_size < 19. */
    uint8_t bad[19] = {0};
    tr_evt_header_t h;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_evt_header_decode(bad, sizeof(bad), &h, &why), TR_EMALFORMED);
    EXPECT_TRUE(why != NULL);
    free(p);
}

/* Compares the event we encoded (whole buffer) with the capture at pos. */
static void expect_same_event(const uint8_t *cap, size_t pos, const tr_buf_t *b)
{
    uint32_t size = tr_load_u32le(cap + pos + 9);
    EXPECT_EQ_MEM(b->data, b->len, cap + pos, size);
}

#define CAP_TS 0x6b0537ffu /* 2026-11-24 07:08:47, header timestamp of the captured DDLs */

TR_TEST(golden_mariadb_header_events)
{
    size_t len = 0;
    uint8_t *p = load_vec(&len);
    if (p == NULL) {
        EXPECT_TRUE(false);
        return;
    }
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_evt_writer_t w;
    tr_evt_writer_init(&w, &b, 4, TR_FLAVOR_MARIADB, 1, true);
    w.timestamp = 0x6b0537fb;
    tr_evt_put_fde(&w, "10.11.19-MariaDB-0+deb12u1-log", 0x6b0537fb);
    expect_same_event(p, 4, &b);
    EXPECT_EQ_U64(tr_evt_writer_pos(&w), 256);

    tr_buf_reset(&b);
    tr_evt_writer_init(&w, &b, 256, TR_FLAVOR_MARIADB, 1, true);
    w.timestamp = 0x6b0537fb;
    tr_evt_put_maria_gtid_list(&w, NULL, 0);
    expect_same_event(p, 256, &b);

    tr_buf_reset(&b);
    tr_evt_writer_init(&w, &b, 285, TR_FLAVOR_MARIADB, 1, true);
    w.timestamp = 0x6b0537fb;
    tr_evt_put_maria_checkpoint(&w, "mbin.000001", 11);
    expect_same_event(p, 285, &b);

    /* GTID 0-1-1 ddl: flags2 STANDALONE | ALLOW_PARALLEL | DDL, header flags 0x08. */
    tr_buf_reset(&b);
    tr_evt_writer_init(&w, &b, 323, TR_FLAVOR_MARIADB, 1, true);
    w.timestamp = CAP_TS;
    tr_evt_put_maria_gtid(&w, 1, 0, 0x29, 0);
    /* The capture sets THREAD_SPECIFIC-like flag 0x08 on the GTID event; patch it in. */
    b.data[17] = 0x08;
    tr_evt_update_crc(b.data, b.len);
    expect_same_event(p, 323, &b);

    /* Real ROTATE closing the file. */
    tr_buf_reset(&b);
    tr_evt_writer_init(&w, &b, 2203, TR_FLAVOR_MARIADB, 1, true);
    w.timestamp = 0x6b053825;
    tr_evt_put_rotate(&w, 4, "mbin.000002", 11, false);
    expect_same_event(p, 2203, &b);

    tr_buf_cleanup(&b);
    free(p);
}

TR_TEST(golden_mariadb_query_table_map_rows_xid)
{
    size_t len = 0;
    uint8_t *p = load_vec(&len);
    if (p == NULL) {
        EXPECT_TRUE(false);
        return;
    }
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_evt_writer_t w;

    /* QUERY "CREATE DATABASE d" at 672. */
    tr_evt_writer_init(&w, &b, 672, TR_FLAVOR_MARIADB, 1, true);
    w.timestamp = CAP_TS;
    tr_query_event_t q;
    memset(&q, 0, sizeof(q));
    q.thread_id = 4;
    q.db = "d";
    q.db_len = 1;
    q.sql = "CREATE DATABASE d";
    q.sql_len = strlen(q.sql);
    q.header_flags = TR_EVF_SUPPRESS_USE;
    q.charset_client = 33;
    q.collation_conn = 33;
    q.collation_server = 8;
    q.sql_mode = 1411383296;
    q.is_ddl = true;
    tr_evt_put_query(&w, &q);
    expect_same_event(p, 672, &b);

    /* TABLE_MAP d.t(id int not null, v varchar(10)) at 1021: same bytes up to the
     * NULL bitmap; the capture has no optional metadata (binlog_row_metadata=NO_LOG). */
    tr_buf_reset(&b);
    tr_evt_writer_init(&w, &b, 1021, TR_FLAVOR_MARIADB, 1, true);
    w.timestamp = CAP_TS;
    tr_col_def_t cols[2] = {
        {.type = TR_MYSQL_TYPE_LONG, .nullable = false, .name = "id"},
        {.type = TR_MYSQL_TYPE_VARCHAR, .meta = 10, .nullable = true, .collation = 33, .name = "v"},
    };
    tr_evt_put_table_map(&w, 18, "d", 1, "t", 1, cols, 2);
    const size_t tm_body = 0x2c - 19 - 4; /* captured body length without CRC */
    EXPECT_TRUE(b.len > 19 + tm_body);
    if (b.len > 19 + tm_body) {
        EXPECT_EQ_MEM(b.data + 19, tm_body, p + 1021 + 19, tm_body);
        /* Then our optional metadata: SIGNEDNESS (1 numeric col, signed), DEFAULT_CHARSET
         * (collation 33, no exceptions), COLUMN_NAME; no PK, no ENUM/SET, and no
         * COLUMN_VISIBILITY in the MariaDB flavour. */
        static const uint8_t opt[] = {0x01, 0x01, 0x00, 0x02, 0x01, 0x21, 0x04,
                                      0x05, 0x02, 'i',  'd',  0x01, 'v'};
        EXPECT_EQ_MEM(b.data + 19 + tm_body, b.len - 19 - tm_body - 4, opt, sizeof(opt));
    }
    EXPECT_EQ_INT(tr_evt_check_crc(b.data, b.len), 0);

    /* WRITE_ROWS_V1 (1,'a'),(2,'b') at 1065: byte-identical. */
    tr_buf_reset(&b);
    tr_evt_writer_init(&w, &b, 1065, TR_FLAVOR_MARIADB, 1, true);
    w.timestamp = CAP_TS;
    tr_evt_rows_begin(&w, TR_EVT_WRITE_ROWS_V1, 18, 2);
    for (int i = 1; i <= 2; i++) {
        tr_rows_image_t img;
        tr_rows_image_begin(&img, &b, 2);
        tr_rows_put_int(&b, TR_MYSQL_TYPE_LONG, i);
        uint8_t v = (uint8_t)('a' + i - 1);
        tr_rows_put_varchar(&b, 10, &v, 1);
    }
    tr_evt_rows_end(&w, TR_ROWS_STMT_END);
    expect_same_event(p, 1065, &b);

    /* XID 5 at 1112. */
    tr_buf_reset(&b);
    tr_evt_writer_init(&w, &b, 1112, TR_FLAVOR_MARIADB, 1, true);
    w.timestamp = CAP_TS;
    tr_evt_put_xid(&w, 5);
    expect_same_event(p, 1112, &b);

    /* WRITE_ROWS_V1 (3,NULL) at 1709 (a later second). */
    tr_buf_reset(&b);
    tr_evt_writer_init(&w, &b, 1709, TR_FLAVOR_MARIADB, 1, true);
    w.timestamp = tr_load_u32le(p + 1709);
    tr_evt_rows_begin(&w, TR_EVT_WRITE_ROWS_V1, 18, 2);
    tr_rows_image_t img;
    tr_rows_image_begin(&img, &b, 2);
    tr_rows_put_int(&b, TR_MYSQL_TYPE_LONG, 3);
    tr_rows_image_null(&img, 1);
    tr_evt_rows_end(&w, TR_ROWS_STMT_END);
    expect_same_event(p, 1709, &b);

    tr_buf_cleanup(&b);
    free(p);
}

TR_TEST(fde_mysql_layout)
{
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_evt_writer_t w;
    tr_evt_writer_init(&w, &b, 4, TR_FLAVOR_MYSQL, 7, true);
    tr_evt_put_fde(&w, "8.0.36-tirelay", 0);
    /* 19 + 2 + 50 + 4 + 1 + 41 + 1 + 4 = 122: the first MySQL 8.0.26+ transaction
     * starts at 157 after an empty PREVIOUS_GTIDS (31 bytes). */
    EXPECT_EQ_INT(b.len, 122);
    uint8_t uuid[16] = {0};
    tr_evt_put_previous_gtids(&w, uuid, NULL, 0);
    EXPECT_EQ_U64(tr_evt_writer_pos(&w), 157);
    EXPECT_EQ_INT(b.data[19 + 2 + 50 + 4], 19);
    EXPECT_EQ_INT(b.data[19 + 2 + 50 + 4 + 1 + 14], 0x62); /* FDE post-header length */
    EXPECT_EQ_INT(b.data[121 - 4], 1);                     /* checksum alg CRC32 */
    EXPECT_EQ_INT(tr_evt_check_crc(b.data, 122), 0);

    /* Artificial rotate: ts 0, log_pos 0, flags 0x20. Heartbeat: log_pos = pos. */
    tr_buf_reset(&b);
    tr_evt_writer_init(&w, &b, 0, TR_FLAVOR_MYSQL, 7, true);
    w.timestamp = 99;
    tr_evt_put_rotate(&w, 4, "x.000001", 8, true);
    EXPECT_EQ_INT(tr_load_u32le(b.data), 0);
    EXPECT_EQ_INT(tr_load_u32le(b.data + 13), 0);
    EXPECT_EQ_INT(tr_load_u16le(b.data + 17), 0x20);
    EXPECT_EQ_INT(tr_load_u32le(b.data + 9), 19 + 8 + 8 + 4);
    size_t off = b.len;
    tr_evt_put_heartbeat(&w, 1234, "x.000001", 8);
    EXPECT_EQ_INT(tr_load_u32le(b.data + off + 13), 1234);
    EXPECT_EQ_INT(b.data[off + 4], TR_EVT_HEARTBEAT);
    EXPECT_EQ_INT(tr_evt_check_crc(b.data + off, b.len - off), 0);

    /* GTID event: 42-byte post-header + 7-byte timestamp + lenenc length + version. */
    tr_buf_reset(&b);
    tr_evt_writer_init(&w, &b, 157, TR_FLAVOR_MYSQL, 7, true);
    tr_gtid_event_t g;
    memset(&g, 0, sizeof(g));
    g.gno = 5;
    g.last_committed = 0;
    g.sequence_number = 1;
    g.commit_ts_us = 1700000000000000ull;
    g.transaction_length = 300;
    g.server_version = 80036;
    tr_evt_put_gtid(&w, &g);
    EXPECT_EQ_INT(b.len, 19 + 42 + 7 + 3 + 4 + 4);
    EXPECT_EQ_INT(b.data[19 + 25], 2);
    EXPECT_EQ_U64(tr_load_u64le(b.data + 19 + 17), 5);
    tr_buf_cleanup(&b);
}

/* ---------------------------------------------------------- mariadb-binlog */

static int write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        return -1;
    }
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

/* Runs mariadb-binlog on path; returns exit status and output (malloc'd) in *out. */
static int run_mariadb_binlog(const char *path, char **out)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "mariadb-binlog -vv --base64-output=decode-rows '%s' 2>&1", path);
    FILE *pp = popen(cmd, "r");
    if (pp == NULL) {
        return -1;
    }
    size_t cap = 1 << 16;
    size_t len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, pp)) > 0) {
        len += n;
        if (cap - len < 1024) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    buf[len] = '\0';
    int st = pclose(pp);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool has(const char *text, const char *needle)
{
    if (strstr(text, needle) == NULL) {
        fprintf(stderr, "    missing in mariadb-binlog output: %s\n", needle);
        return false;
    }
    return true;
}

TR_TEST(mysql_flavour_file_decodes_with_mariadb_binlog)
{
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_buf_append(&b, tr_binlog_magic, 4);
    tr_evt_writer_t w;
    tr_evt_writer_init(&w, &b, 4, TR_FLAVOR_MYSQL, 42, true);
    w.timestamp = 1700000000;
    tr_evt_put_fde(&w, "8.0.36-tirelay", 0);
    uint8_t uuid[16] = {0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1,
                        0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62};
    tr_gno_interval_t iv = {1, 5};
    tr_evt_put_previous_gtids(&w, uuid, &iv, 1);

    /* DDL */
    tr_gtid_event_t g;
    memset(&g, 0, sizeof(g));
    memcpy(g.uuid, uuid, 16);
    g.flags = 1;
    g.gno = 5;
    g.last_committed = 0;
    g.sequence_number = 1;
    g.commit_ts_us = 1700000000123456ull;
    tr_evt_put_gtid(&w, &g);
    tr_query_event_t q;
    memset(&q, 0, sizeof(q));
    q.db = "d";
    q.db_len = 1;
    q.sql = "CREATE TABLE t(id int)";
    q.sql_len = strlen(q.sql);
    q.charset_client = 33;
    q.collation_conn = 33;
    q.collation_server = 45;
    q.is_ddl = true;
    tr_evt_put_query(&w, &q);

    /* DML with many column types. */
    g.flags = 0;
    g.gno = 6;
    g.last_committed = 1;
    g.sequence_number = 2;
    tr_evt_put_gtid(&w, &g);
    q.sql = "BEGIN";
    q.sql_len = 5;
    q.db_len = 0;
    q.is_ddl = false;
    tr_evt_put_query(&w, &q);
    tr_col_def_t cols[] = {
        {.type = TR_MYSQL_TYPE_LONG, .name = "id"},
        {.type = TR_MYSQL_TYPE_VARCHAR, .meta = 40, .nullable = true, .collation = 45, .name = "v"},
        {.type = TR_MYSQL_TYPE_NEWDECIMAL, .meta = (5 << 8) | 2, .name = "d"},
        {.type = TR_MYSQL_TYPE_DATETIME2, .meta = 6, .name = "dt"},
        {.type = TR_MYSQL_TYPE_TIME2, .meta = 3, .name = "tm"},
        {.type = TR_MYSQL_TYPE_DATE, .name = "da"},
        {.type = TR_MYSQL_TYPE_YEAR, .name = "y"},
        {.type = TR_MYSQL_TYPE_DOUBLE, .meta = 8, .name = "f"},
        {.type = TR_MYSQL_TYPE_LONGLONG, .is_unsigned = true, .name = "u"},
        {.type = TR_MYSQL_TYPE_BLOB, .meta = 2, .nullable = true, .name = "b"},
        {.type = TR_MYSQL_TYPE_STRING, .meta = tr_rows_string_meta(254, 12), .name = "c"},
        {.type = TR_MYSQL_TYPE_STRING, .meta = tr_rows_string_meta(247, 1), .name = "e"},
        {.type = TR_MYSQL_TYPE_BIT, .meta = (1 << 8) | 2, .name = "bt"},
        {.type = TR_MYSQL_TYPE_TIMESTAMP2, .meta = 0, .name = "ts"},
        {.type = TR_MYSQL_TYPE_TINY, .name = "ti"},
    };
    size_t nc = sizeof(cols) / sizeof(cols[0]);
    tr_evt_put_table_map(&w, 77, "d", 1, "t", 1, cols, nc);
    tr_evt_rows_begin(&w, TR_EVT_WRITE_ROWS, 77, nc);
    for (int row = 0; row < 2; row++) {
        tr_rows_image_t img;
        tr_rows_image_begin(&img, &b, nc);
        tr_rows_put_int(&b, TR_MYSQL_TYPE_LONG, row + 1);
        if (row == 0) {
            tr_rows_put_varchar(&b, 40, (const uint8_t *)"hello", 5);
        } else {
            tr_rows_image_null(&img, 1);
        }
        EXPECT_EQ_INT(tr_rows_put_decimal_str(&b, row == 0 ? "123.45" : "-123.45", row == 0 ? 6 : 7,
                                              5, 2),
                      0);
        tr_rows_put_datetime2(&b, 6, 2024, 2, 29, 13, 14, 15, 123456);
        tr_rows_put_time2(&b, 3, row == 1, 12, 34, 56, 789000);
        tr_rows_put_date(&b, 2024, 2, 29);
        tr_rows_put_year(&b, 2024);
        tr_rows_put_double(&b, 2.5);
        tr_rows_put_int(&b, TR_MYSQL_TYPE_LONGLONG, (int64_t)UINT64_C(18446744073709551615));
        if (row == 0) {
            tr_rows_put_blob(&b, 2, (const uint8_t *)"blobby", 6);
        } else {
            tr_rows_image_null(&img, 9);
        }
        tr_rows_put_char(&b, 12, ' ', (const uint8_t *)"chr", 3);
        tr_rows_put_uint_n(&b, 2, 1);
        tr_rows_put_bit(&b, 10, 0x2AA);
        tr_rows_put_timestamp2(&b, 0, 1700000000, 0);
        tr_rows_put_int(&b, TR_MYSQL_TYPE_TINY, -5);
    }
    tr_evt_rows_end(&w, TR_ROWS_STMT_END);
    tr_evt_put_xid(&w, 6);
    EXPECT_TRUE(tr_buf_ok(&b));

    char path[] = "/tmp/tr_test_binlog_XXXXXX";
    int fd = mkstemp(path);
    EXPECT_TRUE(fd >= 0);
    if (fd < 0) {
        tr_buf_cleanup(&b);
        return;
    }
    close(fd);
    EXPECT_EQ_INT(write_file(path, b.data, b.len), 0);
    char *out = NULL;
    int st = run_mariadb_binlog(path, &out);
    EXPECT_EQ_INT(st, 0);
    if (out != NULL) {
        bool ok = has(out, "CREATE TABLE t(id int)") && has(out, "@1=1") &&
                  has(out, "@2='hello'") && has(out, "@3=123.45") && has(out, "@3=-123.45") &&
                  has(out, "@4='2024-02-29 13:14:15.123456'") && has(out, "@5='12:34:56.789'") &&
                  has(out, "@5='-12:34:56.789'") && has(out, "@6='2024:02:29'") &&
                  has(out, "@7=2024") && has(out, "@8=2.5") &&
                  has(out, "(18446744073709551615)") && has(out, "@10='blobby'") &&
                  has(out, "@11='chr'") && has(out, "@12=2") && has(out, "@13=b'1010101010'") &&
                  has(out, "@14=1700000000") && has(out, "@15=-5") && has(out, "@2=NULL") &&
                  has(out, "Xid = 6");
        EXPECT_TRUE(ok);
        if (!ok || st != 0) {
            fprintf(stderr, "%s\n", out);
        }
        free(out);
    }
    unlink(path);
    tr_buf_cleanup(&b);
}

TR_TEST(json_table_map)
{
    /* d.t(id INT NOT NULL, j JSON): MySQL writes JSON as type 245 with meta 4 and, not being a
     * character column, outside DEFAULT_CHARSET; MariaDB's JSON is a LONGTEXT utf8mb4_bin
     * (BLOB 252, meta 4, collation 46 in DEFAULT_CHARSET: go-mysql-org/go-mysql
     * replication/row_event_test.go, MariaDB table map "json/geometry as character fields"). */
    tr_col_def_t cols[2] = {
        {.type = TR_MYSQL_TYPE_LONG, .name = "id"},
        {.type = TR_MYSQL_TYPE_JSON, .meta = 4, .nullable = true, .collation = 46, .name = "j"},
    };
    for (int f = 0; f < 2; f++) {
        tr_buf_t b;
        tr_buf_init(&b, 0);
        tr_evt_writer_t w;
        tr_evt_writer_init(&w, &b, 4, f ? TR_FLAVOR_MARIADB : TR_FLAVOR_MYSQL, 1, false);
        tr_evt_put_table_map(&w, 9, "d", 1, "t", 1, cols, 2);
        /* body: table id 6, flags 2, "d\0" with length, "t\0" with length, count 1 */
        const uint8_t *p = b.data + 19 + 6 + 2 + 3 + 3;
        EXPECT_EQ_INT(p[0], 2);
        EXPECT_EQ_INT(p[1], TR_MYSQL_TYPE_LONG);
        EXPECT_EQ_INT(p[2], f ? TR_MYSQL_TYPE_BLOB : TR_MYSQL_TYPE_JSON);
        EXPECT_EQ_INT(p[3], 1); /* metadata length */
        EXPECT_EQ_INT(p[4], 4);
        EXPECT_EQ_INT(p[5], 0x02); /* NULL bitmap: j nullable */
        /* optional metadata: SIGNEDNESS (id), then DEFAULT_CHARSET only for MariaDB */
        static const uint8_t sign[] = {0x01, 0x01, 0x00};
        EXPECT_EQ_MEM(p + 6, 3, sign, 3);
        if (f) {
            static const uint8_t cs[] = {0x02, 0x01, 46, 0x04};
            EXPECT_EQ_MEM(p + 9, 4, cs, 4);
        } else {
            EXPECT_EQ_INT(p[9], 0x04); /* straight to COLUMN_NAME */
        }
        tr_buf_cleanup(&b);
    }
}

/* The TABLE_MAP bodies the cache hands back are the bytes tr_evt_put_table_map writes, for
 * both flavours, names that change under one table id (a filter renaming), another column
 * array under the same id, and ids that share a slot; the header (position, CRC) is the
 * writer's each time. */
TR_TEST(table_map_cache_writes_the_same_bytes)
{
    tr_col_def_t a[2] = {{.type = TR_MYSQL_TYPE_LONG, .name = "id", .pk_pos = 1},
                         {.type = TR_MYSQL_TYPE_VARCHAR, .meta = 40, .collation = 46,
                          .nullable = true, .name = "v"}};
    tr_col_def_t b2[3] = {a[0], a[1],
                          {.type = TR_MYSQL_TYPE_LONGLONG, .is_unsigned = true, .name = "n"}};
    tr_col_def_t c2[2] = {a[0], {.type = TR_MYSQL_TYPE_LONGLONG, .name = "v"}};
    const struct {
        uint64_t id;
        const char *db, *table;
        const tr_col_def_t *cols;
        size_t n;
    } seq[] = {
        {7, "d", "t", a, 2},  {7, "d", "t", a, 2},  {7, "d", "r", a, 2},
        {7, "d", "t", a, 2},  {39, "d", "u", a, 2}, {7, "d", "t", a, 2},
        {7, "d", "t", b2, 3}, {7, "d", "t", b2, 3}, {7, "e", "t", b2, 3},
        {7, "d", "t", a, 2},  {7, "d", "t", c2, 2}, {7, "d", "t", c2, 2},
    };
    for (int f = 0; f < 2; f++) {
        tr_flavor_t fl = f ? TR_FLAVOR_MARIADB : TR_FLAVOR_MYSQL;
        tr_evt_tm_cache_t cache;
        tr_evt_tm_cache_init(&cache);
        tr_buf_t plain, cached;
        tr_buf_init(&plain, 0);
        tr_buf_init(&cached, 0);
        tr_evt_writer_t wp, wc;
        tr_evt_writer_init(&wp, &plain, 4, fl, 1, true);
        tr_evt_writer_init(&wc, &cached, 4, fl, 1, true);
        for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
            tr_evt_put_table_map(&wp, seq[i].id, seq[i].db, strlen(seq[i].db), seq[i].table,
                                 strlen(seq[i].table), seq[i].cols, seq[i].n);
            tr_evt_put_table_map_cached(&wc, &cache, seq[i].id, seq[i].db, strlen(seq[i].db),
                                        seq[i].table, strlen(seq[i].table), seq[i].cols,
                                        seq[i].n);
            EXPECT_EQ_MEM(cached.data, cached.len, plain.data, plain.len);
        }
        tr_buf_cleanup(&plain);
        tr_buf_cleanup(&cached);
        tr_evt_tm_cache_cleanup(&cache);
    }
}

TR_TEST(crc32_equals_zlib)
{
    /* The CRC-32/ISO-HDLC check value (the catalogue's "123456789" vector). */
    EXPECT_EQ_U64(tr_crc32(0, "123456789", 9), 0xCBF43926u);
    /* Every length up to 1,100 at every alignment within 16 bytes, a few long ones,
     * continued from a previous value and in two pieces, against zlib itself. */
    enum { N = 70000 };
    uint8_t *buf = malloc(N + 16);
    EXPECT_TRUE(buf != NULL);
    if (buf == NULL) {
        return;
    }
    uint32_t seed = 12345;
    for (size_t i = 0; i < N + 16; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16);
    }
    int bad = 0;
    for (size_t align = 0; align < 16; align++) {
        for (size_t len = 0; len <= 1100; len++) {
            const uint8_t *p = buf + align;
            uint32_t want = (uint32_t)crc32_z(0, p, len);
            uint32_t prev = (uint32_t)crc32_z(0, buf, 7);
            bad += tr_crc32(0, p, len) != want;
            bad += tr_crc32(prev, p, len) != (uint32_t)crc32_z(prev, p, len);
            bad += tr_crc32(tr_crc32(0, p, len / 3), p + len / 3, len - len / 3) != want;
        }
    }
    static const size_t longs[] = {4096, 65536, 65537, N - 1, N};
    for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++) {
        bad += tr_crc32(0, buf + 3, longs[i]) != (uint32_t)crc32_z(0, buf + 3, longs[i]);
    }
    /* All-ones and all-zero blocks (the register XOR and an empty fold). */
    memset(buf, 0xFF, 256);
    bad += tr_crc32(0, buf, 256) != (uint32_t)crc32_z(0, buf, 256);
    memset(buf, 0, 256);
    bad += tr_crc32(0xFFFFFFFFu, buf, 256) != (uint32_t)crc32_z(0xFFFFFFFFu, buf, 256);
    EXPECT_EQ_INT(bad, 0);
    free(buf);
}

/* The DEFAULT_CHARSET TLV of a TABLE_MAP (MariaDB flavour) for VARCHAR columns of the given
 * collations, found in the event; 1 when want (type, length, bytes) is in it. */
static int table_map_has_tlv(const uint16_t *coll, size_t n, const uint8_t *want, size_t wlen)
{
    tr_col_def_t cols[48];
    static char names[48][24];
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof(names[i]), "c%zu", i);
        cols[i] = (tr_col_def_t){.type = TR_MYSQL_TYPE_VARCHAR, .meta = 40, .collation = coll[i],
                                 .name = names[i]};
    }
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_evt_writer_t w;
    tr_evt_writer_init(&w, &b, 4, TR_FLAVOR_MARIADB, 1, false);
    tr_evt_put_table_map(&w, 9, "d", 1, "t", 1, cols, n);
    int found = 0;
    for (size_t i = 0; !found && i + wlen <= b.len; i++) {
        found = memcmp(b.data + i, want, wlen) == 0;
    }
    tr_buf_cleanup(&b);
    return found;
}

TR_TEST(table_map_default_charset_most_common_first_seen)
{
    /* DEFAULT_CHARSET (TLV 2): lenenc(most common collation), then (ordinal, collation)
     * for the others (MySQL sql/log_event.cc Table_map_log_event::init_charset_field). */
    static const uint16_t a[] = {8, 46, 46}; /* 46 is the most common */
    static const uint8_t ta[] = {0x02, 0x03, 46, 0x00, 8};
    EXPECT_TRUE(table_map_has_tlv(a, 3, ta, sizeof(ta)));
    static const uint16_t c[] = {8, 46}; /* a tie: the first seen */
    static const uint8_t tc[] = {0x02, 0x03, 8, 0x01, 46};
    EXPECT_TRUE(table_map_has_tlv(c, 2, tc, sizeof(tc)));
    /* 40 distinct collations (more than the lookup keeps) then a repeat of the 35th:
     * 35 is the most common (2), every other column is listed with its own. */
    uint16_t m[41];
    uint8_t tm[2 + 1 + 40 * 2];
    size_t k = 0;
    for (int i = 0; i < 40; i++) {
        m[i] = (uint16_t)(i + 1);
    }
    m[40] = 35;
    tm[k++] = 0x02;
    tm[k++] = 1 + 39 * 2;
    tm[k++] = 35;
    for (int i = 0; i < 40; i++) {
        if (i != 34) {
            tm[k++] = (uint8_t)i;
            tm[k++] = (uint8_t)(i + 1);
        }
    }
    EXPECT_TRUE(table_map_has_tlv(m, 41, tm, k));
}

TR_TEST_MAIN()
