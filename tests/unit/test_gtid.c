/*
 * Unit tests for protocol/gtid: MySQL GTID set text and binary forms (byte
 * vectors from go-mysql's mysql_gtid_test.go, the tagged one captured with
 * Wireshark from MySQL 8.4's mysqlbinlog --read-from-remote-source=BINLOG-DUMP-GTIDS),
 * set algebra (cases from go-mysql's Minus/Add tests), MariaDB GTID lists and
 * event peeks against events our own encoder writes.
 */
#include "tr_test.h"

#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "protocol/binlog_event.h"
#include "protocol/gtid.h"

static void fmt(const tr_gtid_set_t *s, char *out, size_t cap)
{
    size_t n = tr_gtid_set_format(s, ",", out, cap);
    EXPECT_TRUE(n < cap);
}

static int parse(tr_gtid_set_t *s, const char *t)
{
    const char *why = NULL;
    return tr_gtid_set_parse(s, t, strlen(t), &why);
}

TR_TEST(gtid_parse_format_normalises)
{
    tr_gtid_set_t s;
    tr_gtid_set_init(&s);
    char out[512];
    EXPECT_EQ_INT(parse(&s, "de278ad0-2106-11e4-9f8e-6edd0ca20947:1:2:3:4:6:5"), 0);
    fmt(&s, out, sizeof(out));
    EXPECT_EQ_STR(out, "de278ad0-2106-11e4-9f8e-6edd0ca20947:1-6");
    EXPECT_EQ_INT(parse(&s, "DE278AD0-2106-11E4-9F8E-6EDD0CA20947:6-7:1-4:10-20"), 0);
    fmt(&s, out, sizeof(out));
    EXPECT_EQ_STR(out, "de278ad0-2106-11e4-9f8e-6edd0ca20947:1-4:6-7:10-20");
    EXPECT_EQ_INT(parse(&s, "\n  3E11FA47-71CA-11E1-9E33-C80AA9429562:21-60,\n"
                            "  519CE70F-A893-11E9-A95A-B32DC65A7026:58\n"),
                  0);
    fmt(&s, out, sizeof(out));
    EXPECT_EQ_STR(out, "3e11fa47-71ca-11e1-9e33-c80aa9429562:21-60,"
                       "519ce70f-a893-11e9-a95a-b32dc65a7026:58");
    EXPECT_EQ_U64(tr_gtid_set_format(&s, ",\n", out, sizeof(out)), 36 + 6 + 2 + 36 + 3);
    /* Duplicated uuid items merge. */
    EXPECT_EQ_INT(parse(&s, "de278ad0-2106-11e4-9f8e-6edd0ca20947:38137-38142,"
                            "de278ad0-2106-11e4-9f8e-6edd0ca20947:38137-38143"),
                  0);
    fmt(&s, out, sizeof(out));
    EXPECT_EQ_STR(out, "de278ad0-2106-11e4-9f8e-6edd0ca20947:38137-38143");
    /* Tags. */
    EXPECT_EQ_INT(parse(&s, "de278ad0-2106-11e4-9f8e-6edd0ca20947:1-2:mytag:1-10:12-14:16:18-20"), 0);
    fmt(&s, out, sizeof(out));
    EXPECT_EQ_STR(out, "de278ad0-2106-11e4-9f8e-6edd0ca20947:1-2:mytag:1-10:12-14:16:18-20");
    /* Empty and malformed. */
    EXPECT_EQ_INT(parse(&s, ""), 0);
    EXPECT_TRUE(tr_gtid_set_is_empty(&s));
    EXPECT_EQ_INT(parse(&s, "  \n"), 0);
    EXPECT_EQ_INT(parse(&s, ","), TR_EMALFORMED);
    EXPECT_EQ_INT(parse(&s, "de278ad0-2106-11e4-9f8e-6edd0ca2094:1"), TR_EMALFORMED);
    EXPECT_EQ_INT(parse(&s, "de278ad0-2106-11e4-9f8e-6edd0ca20947:0"), TR_EMALFORMED);
    EXPECT_EQ_INT(parse(&s, "de278ad0-2106-11e4-9f8e-6edd0ca20947:5-3"), TR_EMALFORMED);
    EXPECT_EQ_INT(parse(&s, "de278ad0-2106-11e4-9f8e-6edd0ca20947:1-x"), TR_EMALFORMED);
    tr_gtid_set_cleanup(&s);
}

/* go-mysql TestMysqlGTIDSet: the tagged set as MySQL's mysqlbinlog sent it. */
static const uint8_t wire_tagged[] = {
    0x1,  0x2,  0x0,  0x0,  0x0,  0x0,  0x0,  0x1,  0xde, 0x27, 0x8a, 0xd0, 0x21, 0x6,  0x11,
    0xe4, 0x9f, 0x8e, 0x6e, 0xdd, 0xc,  0xa2, 0x9,  0x47, 0x0,  0x1,  0x0,  0x0,  0x0,  0x0,
    0x0,  0x0,  0x0,  0x1,  0x0,  0x0,  0x0,  0x0,  0x0,  0x0,  0x0,  0x3,  0x0,  0x0,  0x0,
    0x0,  0x0,  0x0,  0x0,  0xde, 0x27, 0x8a, 0xd0, 0x21, 0x6,  0x11, 0xe4, 0x9f, 0x8e, 0x6e,
    0xdd, 0xc,  0xa2, 0x9,  0x47, 0xa,  0x6d, 0x79, 0x74, 0x61, 0x67, 0x4,  0x0,  0x0,  0x0,
    0x0,  0x0,  0x0,  0x0,  0x1,  0x0,  0x0,  0x0,  0x0,  0x0,  0x0,  0x0,  0xb,  0x0,  0x0,
    0x0,  0x0,  0x0,  0x0,  0x0,  0xc,  0x0,  0x0,  0x0,  0x0,  0x0,  0x0,  0x0,  0xf,  0x0,
    0x0,  0x0,  0x0,  0x0,  0x0,  0x0,  0x10, 0x0,  0x0,  0x0,  0x0,  0x0,  0x0,  0x0,  0x11,
    0x0,  0x0,  0x0,  0x0,  0x0,  0x0,  0x0,  0x12, 0x0,  0x0,  0x0,  0x0,  0x0,  0x0,  0x0,
    0x15, 0x0,  0x0,  0x0,  0x0,  0x0,  0x0,  0x0,
};

/* go-mysql TestMysqlGTIDSet_Encode case 0: classic format. */
static const uint8_t wire_classic[] = {
    0x1, 0x0,  0x0,  0x0,  0x0,  0x0,  0x0,  0x0,  0x7, 0x1a, 0x4e, 0xcc, 0x1b, 0xf9,
    0x11, 0xf1, 0xa8, 0x38, 0xe6, 0xdd, 0x18, 0x7, 0xd0, 0x29, 0x1,  0x0,  0x0,  0x0,
    0x0, 0x0,  0x0,  0x0,  0x1,  0x0,  0x0,  0x0,  0x0, 0x0,  0x0,  0x0,  0x3,  0x0,
    0x0, 0x0,  0x0,  0x0,  0x0,  0x0,
};

TR_TEST(gtid_binary_vectors_round_trip)
{
    tr_gtid_set_t s;
    tr_gtid_set_init(&s);
    const char *why = NULL;
    char out[512];
    EXPECT_EQ_INT(tr_gtid_set_decode(wire_tagged, sizeof(wire_tagged), &s, &why),
                  (ssize_t)sizeof(wire_tagged));
    fmt(&s, out, sizeof(out));
    EXPECT_EQ_STR(out, "de278ad0-2106-11e4-9f8e-6edd0ca20947:1-2:mytag:1-10:12-14:16:18-20");
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_gtid_set_encode(&s, &b);
    EXPECT_EQ_MEM(b.data, b.len, wire_tagged, sizeof(wire_tagged));
    EXPECT_EQ_U64(tr_gtid_set_encoded_len(&s), sizeof(wire_tagged));

    EXPECT_EQ_INT(tr_gtid_set_decode(wire_classic, sizeof(wire_classic), &s, &why),
                  (ssize_t)sizeof(wire_classic));
    fmt(&s, out, sizeof(out));
    EXPECT_EQ_STR(out, "071a4ecc-1bf9-11f1-a838-e6dd1807d029:1-2");
    tr_buf_reset(&b);
    tr_gtid_set_encode(&s, &b);
    EXPECT_EQ_MEM(b.data, b.len, wire_classic, sizeof(wire_classic));

    /* Every truncation is an error, never a crash; an 8-byte zero set is empty. */
    for (size_t k = 0; k < sizeof(wire_tagged); k++) {
        ssize_t r = tr_gtid_set_decode(wire_tagged, k, &s, &why);
        EXPECT_TRUE(r < 0 || (k == 8 && r == 8));
    }
    static const uint8_t zero[8] = {0};
    EXPECT_EQ_INT(tr_gtid_set_decode(zero, 8, &s, &why), 8);
    EXPECT_TRUE(tr_gtid_set_is_empty(&s));
    static const uint8_t one_sid_no_data[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_TRUE(tr_gtid_set_decode(one_sid_no_data, 8, &s, &why) < 0);
    /* Huge interval count must not allocate or read past the end. */
    uint8_t bad[8 + 16 + 8];
    memcpy(bad, wire_classic, sizeof(bad));
    memset(bad + 24, 0xff, 8);
    EXPECT_TRUE(tr_gtid_set_decode(bad, sizeof(bad), &s, &why) < 0);
    /* Intervals out of order are malformed. */
    uint8_t rev[sizeof(wire_classic)];
    memcpy(rev, wire_classic, sizeof(rev));
    rev[32] = 3;
    rev[40] = 1;
    EXPECT_TRUE(tr_gtid_set_decode(rev, sizeof(rev), &s, &why) < 0);
    tr_buf_cleanup(&b);
    tr_gtid_set_cleanup(&s);
}

static void check_op(const char *l, const char *r, bool minus, const char *want)
{
    tr_gtid_set_t a;
    tr_gtid_set_t b;
    tr_gtid_set_init(&a);
    tr_gtid_set_init(&b);
    EXPECT_EQ_INT(parse(&a, l), 0);
    EXPECT_EQ_INT(parse(&b, r), 0);
    if (minus) {
        tr_gtid_set_subtract(&a, &b);
    } else {
        tr_gtid_set_union(&a, &b);
    }
    char out[512];
    fmt(&a, out, sizeof(out));
    /* compare case-insensitively: the cases are written in upper case */
    char up[512];
    size_t i = 0;
    for (; out[i] != '\0' && i + 1 < sizeof(up); i++) {
        up[i] = (char)(out[i] >= 'a' && out[i] <= 'z' ? out[i] - 32 : out[i]);
    }
    up[i] = '\0';
    EXPECT_EQ_STR(up, want);
    tr_gtid_set_cleanup(&a);
    tr_gtid_set_cleanup(&b);
}

TR_TEST(gtid_union_subtract)
{
    const char *u = "3E11FA47-71CA-11E1-9E33-C80AA9429562";
    (void)u;
    check_op("3E11FA47-71CA-11E1-9E33-C80AA9429562:23", "3E11FA47-71CA-11E1-9E33-C80AA9429562:28-57",
             false, "3E11FA47-71CA-11E1-9E33-C80AA9429562:23:28-57");
    check_op("3E11FA47-71CA-11E1-9E33-C80AA9429562:23-27",
             "3E11FA47-71CA-11E1-9E33-C80AA9429562:28-57", false,
             "3E11FA47-71CA-11E1-9E33-C80AA9429562:23-57");
    check_op("3E11FA47-71CA-11E1-9E33-C80AA9429562:20-57:60-90",
             "3E11FA47-71CA-11E1-9E33-C80AA9429562:23", true,
             "3E11FA47-71CA-11E1-9E33-C80AA9429562:20-22:24-57:60-90");
    check_op("3E11FA47-71CA-11E1-9E33-C80AA9429562:20-57:60-90",
             "3E11FA47-71CA-11E1-9E33-C80AA9429562:22-70", true,
             "3E11FA47-71CA-11E1-9E33-C80AA9429562:20-21:71-90");
    check_op("3E11FA47-71CA-11E1-9E33-C80AA9429562:28-57",
             "3E11FA47-71CA-11E1-9E33-C80AA9429562:28-57", true, "");
    check_op("3E11FA47-71CA-11E1-9E33-C80AA9429562:23", "ABCDEF12-1234-5678-9012-345678901234:1-1000",
             true, "3E11FA47-71CA-11E1-9E33-C80AA9429562:23");
    check_op("582A11ED-786C-11EC-ACCC-E0356662B76E:1-209692",
             "582A11ED-786C-11EC-ACCC-E0356662B76E:2-146519", true,
             "582A11ED-786C-11EC-ACCC-E0356662B76E:1:146520-209692");
}

TR_TEST(gtid_contains_subset)
{
    tr_gtid_set_t a;
    tr_gtid_set_t b;
    tr_gtid_set_init(&a);
    tr_gtid_set_init(&b);
    EXPECT_EQ_INT(parse(&a, "3E11FA47-71CA-11E1-9E33-C80AA9429562:23"), 0);
    EXPECT_EQ_INT(parse(&b, "3E11FA47-71CA-11E1-9E33-C80AA9429562:21-57"), 0);
    EXPECT_TRUE(tr_gtid_set_is_subset(&a, &b));
    EXPECT_TRUE(!tr_gtid_set_is_subset(&b, &a));
    const tr_gtid_sid_t *e = &b.sids[0];
    EXPECT_TRUE(tr_gtid_set_contains(&b, e->uuid, NULL, 21));
    EXPECT_TRUE(tr_gtid_set_contains(&b, e->uuid, "", 57));
    EXPECT_TRUE(!tr_gtid_set_contains(&b, e->uuid, NULL, 58));
    EXPECT_TRUE(!tr_gtid_set_contains(&b, e->uuid, "tag", 30));
    EXPECT_EQ_INT(parse(&a, "3E11FA47-71CA-11E1-9E33-C80AA9429562:21-30:40-57"), 0);
    EXPECT_TRUE(tr_gtid_set_is_subset(&a, &b));
    EXPECT_EQ_INT(parse(&b, "3E11FA47-71CA-11E1-9E33-C80AA9429562:21-30:41-57"), 0);
    EXPECT_TRUE(!tr_gtid_set_is_subset(&a, &b));
    tr_gtid_set_clear(&a);
    EXPECT_TRUE(tr_gtid_set_is_subset(&a, &b));
    tr_gtid_set_cleanup(&a);
    tr_gtid_set_cleanup(&b);
}

TR_TEST(maria_gtid_list_parse_format)
{
    tr_maria_gtid_t g[4];
    size_t n = 9;
    const char *why = NULL;
    const char *t = " 0-1-100 , 2-5-7";
    EXPECT_EQ_INT(tr_maria_gtid_list_parse(t, strlen(t), g, 4, &n, &why), 0);
    EXPECT_EQ_U64(n, 2);
    EXPECT_EQ_U64(g[0].domain_id, 0);
    EXPECT_EQ_U64(g[0].server_id, 1);
    EXPECT_EQ_U64(g[0].seq_no, 100);
    EXPECT_EQ_U64(g[1].domain_id, 2);
    char out[64];
    EXPECT_EQ_U64(tr_maria_gtid_list_format(g, n, out, sizeof(out)), 13);
    EXPECT_EQ_STR(out, "0-1-100,2-5-7");
    EXPECT_EQ_INT(tr_maria_gtid_list_parse("", 0, g, 4, &n, &why), 0);
    EXPECT_EQ_U64(n, 0);
    static const char *const bad[] = {"0-1", "0-1-2-3", "a-1-2", "0-1-2,", "0-1-2,0-2-3",
                                      "4294967296-1-1", "0--1"};
    for (size_t i = 0; i < TR_ARRAY_LEN(bad); i++) {
        EXPECT_TRUE(tr_maria_gtid_list_parse(bad[i], strlen(bad[i]), g, 4, &n, &why) < 0);
    }
    EXPECT_EQ_INT(tr_maria_gtid_list_parse("1-1-1,2-2-2", 11, g, 1, &n, &why), TR_ETOOBIG);
}

TR_TEST(gtid_event_peeks)
{
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_evt_writer_t w;
    tr_evt_writer_init(&w, &b, 4, TR_FLAVOR_MARIADB, 77, true);
    tr_evt_put_maria_gtid(&w, 1234, 9, TR_MARIA_FL_STANDALONE, 0);
    tr_maria_gtid_t g;
    uint8_t f2 = 0;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_gtid_peek_maria(b.data, b.len, &g, &f2, &why), 0);
    EXPECT_EQ_U64(g.seq_no, 1234);
    EXPECT_EQ_U64(g.domain_id, 9);
    EXPECT_EQ_U64(g.server_id, 77);
    EXPECT_EQ_INT(f2, TR_MARIA_FL_STANDALONE);
    EXPECT_TRUE(tr_gtid_peek_maria(b.data, 20, &g, &f2, &why) < 0);

    tr_buf_reset(&b);
    tr_evt_writer_init(&w, &b, 4, TR_FLAVOR_MYSQL, 77, true);
    tr_gtid_event_t ge;
    memset(&ge, 0, sizeof(ge));
    for (int i = 0; i < 16; i++) {
        ge.uuid[i] = (uint8_t)(i * 7);
    }
    ge.gno = 99;
    ge.sequence_number = 1;
    tr_evt_put_gtid(&w, &ge);
    uint8_t uuid[16];
    uint64_t gno = 0;
    EXPECT_EQ_INT(tr_gtid_peek_mysql(b.data, b.len, uuid, &gno, &why), 0);
    EXPECT_EQ_U64(gno, 99);
    EXPECT_EQ_MEM(uuid, 16, ge.uuid, 16);
    EXPECT_TRUE(tr_gtid_peek_maria(b.data, b.len, &g, &f2, &why) < 0);
    tr_buf_cleanup(&b);
}

TR_TEST_MAIN()
