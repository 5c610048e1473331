/*
 * Row value encodings against bytes computed by hand from the rules in
 * shared/spec/mysql-replication-source.md section 7.2 (MySQL decimal2bin,
 * my_datetime_packed_to_binary, my_time_packed_to_binary); the same values
 * also go through the real mariadb-binlog in test_binlog_event.c.
 */
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "protocol/rows.h"
#include "tr_test.h"

static void expect_hex(const tr_buf_t *b, const char *hex)
{
    uint8_t want[64];
    size_t n = tr_test_unhex(hex, want, sizeof(want));
    EXPECT_EQ_MEM(b->data, b->len, want, n);
}

#define CHECK(expr, hex)                                                                           \
    do {                                                                                           \
        tr_buf_t b_;                                                                               \
        tr_buf_init(&b_, 0);                                                                       \
        tr_buf_t *b = &b_;                                                                         \
        expr;                                                                                      \
        EXPECT_TRUE(tr_buf_ok(b));                                                                 \
        expect_hex(b, hex);                                                                        \
        tr_buf_cleanup(&b_);                                                                       \
    } while (0)

TR_TEST(decimal)
{
    /* DECIMAL(5,2): 3 integer digits -> 2 bytes, 2 fraction digits -> 1 byte. */
    CHECK(EXPECT_EQ_INT(tr_rows_put_decimal_str(b, "123.45", 6, 5, 2), 0), "80 7b 2d");
    CHECK(EXPECT_EQ_INT(tr_rows_put_decimal_str(b, "-123.45", 7, 5, 2), 0), "7f 84 d2");
    CHECK(EXPECT_EQ_INT(tr_rows_put_decimal_str(b, "0.05", 4, 5, 2), 0), "80 00 05");
    CHECK(EXPECT_EQ_INT(tr_rows_put_decimal_str(b, "-0.00", 5, 5, 2), 0), "80 00 00");
    CHECK(EXPECT_EQ_INT(tr_rows_put_decimal_str(b, "1.230", 5, 5, 2), 0), "80 01 17");
    /* DECIMAL(10,2): 8 integer digits -> 4 bytes. */
    CHECK(EXPECT_EQ_INT(tr_rows_put_decimal_str(b, "1234567.89", 10, 10, 2), 0), "80 12 d6 87 59");
    /* DECIMAL(18,9): one full group each side. */
    CHECK(EXPECT_EQ_INT(tr_rows_put_decimal_str(b, "1.5", 3, 18, 9), 0), "80 00 00 01 1d cd 65 00");
    /* DECIMAL(20,0): 2 leading digits (1 byte) + 2 full groups. */
    CHECK(EXPECT_EQ_INT(tr_rows_put_decimal_str(b, "12345678901234567890", 20, 20, 0), 0),
          "8c 14 9a a4 35 0d fb 38 d2");
    EXPECT_EQ_INT(tr_decimal_bin_size(5, 2), 3);
    EXPECT_EQ_INT(tr_decimal_bin_size(10, 2), 5);
    EXPECT_EQ_INT(tr_decimal_bin_size(18, 9), 8);
    EXPECT_EQ_INT(tr_decimal_bin_size(65, 30), 30);
    tr_buf_t b;
    tr_buf_init(&b, 0);
    EXPECT_EQ_INT(tr_rows_put_decimal_str(&b, "1234.5", 6, 5, 2), TR_ETOOBIG);
    EXPECT_EQ_INT(tr_rows_put_decimal_str(&b, "1.234", 5, 5, 2), TR_ETOOBIG);
    EXPECT_EQ_INT(tr_rows_put_decimal_str(&b, "1e5", 3, 5, 2), TR_EMALFORMED);
    EXPECT_EQ_INT(tr_rows_put_decimal_str(&b, "-", 1, 5, 2), TR_EMALFORMED);
    EXPECT_EQ_INT(tr_rows_put_decimal_str(&b, "", 0, 5, 2), TR_EMALFORMED);
    EXPECT_EQ_INT(tr_rows_put_decimal_str(&b, "1", 1, 66, 2), TR_EMALFORMED);
    EXPECT_EQ_INT(b.len, 0);
    tr_buf_cleanup(&b);
}

TR_TEST(temporal)
{
    CHECK(tr_rows_put_datetime2(b, 0, 2024, 2, 29, 13, 14, 15, 0), "99 b2 ba d3 8f");
    CHECK(tr_rows_put_datetime2(b, 6, 2024, 2, 29, 13, 14, 15, 123456), "99 b2 ba d3 8f 01 e2 40");
    CHECK(tr_rows_put_datetime2(b, 2, 2024, 2, 29, 13, 14, 15, 123456), "99 b2 ba d3 8f 0c");
    CHECK(tr_rows_put_datetime2(b, 0, 1000, 1, 1, 0, 0, 0, 0), "8c b2 42 00 00");
    CHECK(tr_rows_put_timestamp2(b, 3, 1700000000, 123456), "65 53 f1 00 04 ce");
    CHECK(tr_rows_put_timestamp2(b, 0, 0, 0), "00 00 00 00");
    /* TIME2 */
    CHECK(tr_rows_put_time2(b, 0, false, 1, 0, 0, 0), "80 10 00");
    CHECK(tr_rows_put_time2(b, 0, true, 1, 0, 0, 0), "7f f0 00");
    CHECK(tr_rows_put_time2(b, 1, true, 0, 0, 0, 500000), "7f ff ff ce");
    CHECK(tr_rows_put_time2(b, 3, true, 0, 0, 0, 500000), "7f ff ff ec 78");
    CHECK(tr_rows_put_time2(b, 6, false, 0, 0, 1, 1), "80 00 01 00 00 01");
    CHECK(tr_rows_put_time2(b, 6, true, 0, 0, 1, 1), "7f ff fe ff ff ff");
    CHECK(tr_rows_put_time2(b, 0, false, 838, 59, 59, 0), "b4 6e fb");
    CHECK(tr_rows_put_date(b, 2024, 2, 29), "5d d0 0f");
    CHECK(tr_rows_put_year(b, 2024), "7c");
    CHECK(tr_rows_put_year(b, 0), "00");
}

TR_TEST(numbers_strings_bits)
{
    CHECK(tr_rows_put_int(b, TR_MYSQL_TYPE_TINY, -1), "ff");
    CHECK(tr_rows_put_int(b, TR_MYSQL_TYPE_SHORT, 0x1234), "34 12");
    CHECK(tr_rows_put_int(b, TR_MYSQL_TYPE_INT24, -2), "fe ff ff");
    CHECK(tr_rows_put_int(b, TR_MYSQL_TYPE_LONG, 1), "01 00 00 00");
    CHECK(tr_rows_put_int(b, TR_MYSQL_TYPE_LONGLONG, (int64_t)UINT64_C(0x8000000000000000)),
          "00 00 00 00 00 00 00 80");
    CHECK(tr_rows_put_float(b, 1.5f), "00 00 c0 3f");
    CHECK(tr_rows_put_double(b, -2.0), "00 00 00 00 00 00 00 c0");
    CHECK(tr_rows_put_varchar(b, 10, (const uint8_t *)"ab", 2), "02 61 62");
    CHECK(tr_rows_put_varchar(b, 300, (const uint8_t *)"ab", 2), "02 00 61 62");
    CHECK(tr_rows_put_char(b, 765, ' ', (const uint8_t *)"x", 1), "01 00 78");
    /* trailing pad bytes are left out, as Field_string::pack does: spaces of a CHAR,
     * 0x00 of a BINARY; a value that is only padding is empty */
    CHECK(tr_rows_put_char(b, 40, ' ', (const uint8_t *)"ab  ", 4), "02 61 62");
    CHECK(tr_rows_put_char(b, 8, 0, (const uint8_t *)"ab\0\0\0", 5), "02 61 62");
    CHECK(tr_rows_put_char(b, 8, 0, (const uint8_t *)"a\0b\0", 4), "03 61 00 62");
    CHECK(tr_rows_put_char(b, 8, ' ', (const uint8_t *)"ab\0", 3), "03 61 62 00");
    CHECK(tr_rows_put_char(b, 8, 0, (const uint8_t *)"\0\0", 2), "00");
    CHECK(tr_rows_put_blob(b, 3, (const uint8_t *)"xyz", 3), "03 00 00 78 79 7a");
    CHECK(tr_rows_put_uint_n(b, 0x0102, 2), "02 01");
    CHECK(tr_rows_put_bit(b, 10, 0x2AA), "02 aa");
    CHECK(tr_rows_put_bit(b, 1, 1), "01");
    CHECK(tr_rows_put_bit(b, 64, UINT64_C(0x0102030405060708)), "01 02 03 04 05 06 07 08");
    /* Values longer than their prefix fail the buffer instead of corrupting it. */
    tr_buf_t b;
    tr_buf_init(&b, 0);
    uint8_t big[300] = {0};
    tr_rows_put_varchar(&b, 200, big, sizeof(big));
    EXPECT_TRUE(!tr_buf_ok(&b));
    tr_buf_cleanup(&b);
    tr_buf_init(&b, 0);
    tr_rows_put_blob(&b, 1, big, sizeof(big));
    EXPECT_TRUE(!tr_buf_ok(&b));
    tr_buf_cleanup(&b);
}

TR_TEST(string_meta)
{
    /* CHAR(255) utf8mb3 = 765 bytes: meta 0xDEFD as in the captured mysql.global_priv
     * TABLE_MAP (tests/vectors/binlog/mbin.000001, "STRING(765) meta=57085"). */
    EXPECT_EQ_INT(tr_rows_string_meta(254, 765), 57085);
    EXPECT_EQ_INT(tr_rows_string_meta(254, 384), 61056);
    EXPECT_EQ_INT(tr_rows_string_meta(254, 12), 0xFE0C);
    EXPECT_EQ_INT(tr_rows_string_meta(247, 1), 0xF701);
    EXPECT_EQ_INT(tr_rows_string_meta(248, 8), 0xF808);
    uint8_t t;
    uint32_t len;
    tr_rows_string_meta_decode(57085, &t, &len);
    EXPECT_EQ_INT(t, 254);
    EXPECT_EQ_INT(len, 765);
    tr_rows_string_meta_decode(0xF701, &t, &len);
    EXPECT_EQ_INT(t, 247);
    EXPECT_EQ_INT(len, 1);
    for (uint32_t l = 0; l < 1024; l++) {
        tr_rows_string_meta_decode(tr_rows_string_meta(254, l), &t, &len);
        EXPECT_EQ_INT(t, 254);
        EXPECT_EQ_INT(len, l);
    }
}

TR_TEST(null_bitmap)
{
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_rows_image_t img;
    tr_rows_image_begin(&img, &b, 3);
    tr_rows_image_null(&img, 1);
    tr_rows_image_null(&img, 7); /* out of range: ignored */
    expect_hex(&b, "fa");
    tr_buf_reset(&b);
    tr_rows_image_begin(&img, &b, 9);
    tr_rows_image_null(&img, 8);
    tr_rows_image_null(&img, 0);
    expect_hex(&b, "01 ff");
    tr_buf_reset(&b);
    tr_rows_image_begin(&img, &b, 8);
    expect_hex(&b, "00");
    tr_buf_cleanup(&b);
}

TR_TEST(latin1_from_utf8)
{
    /* MySQL's latin1 is cp1252 with the five undefined bytes mapped to U+0081.. (mysql-server
     * strings/ctype-latin1.cc to_uni_latin1); unmappable characters become '?' as MySQL's
     * conversion stores them; bytes that are not UTF-8 stay (a latin1 client's bytes). */
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"abc \t~", "abc \t~"},
        {"\xc3\xa9\xc3\xbc\xc3\x9f\xc3\xbf\xc2\xa0", "\xe9\xfc\xdf\xff\xa0"},
        {"\xe2\x82\xac|\xc5\xb8|\xe2\x84\xa2|\xc2\x81|\xc2\x9d", "\x80|\x9f|\x99|\x81|\x9d"},
        {"\xe4\xb8\xad\xf0\x9f\x98\x80\xc4\x80", "???"},
        {"\xe9t\xe9", "\xe9t\xe9"},             /* latin1 bytes from a latin1 client */
        {"\xc3(\xe2\x82", "\xc3(\xe2\x82"},    /* truncated sequences: kept byte by byte */
        {"\xed\xa0\x80", "\xed\xa0\x80"},     /* a surrogate is not UTF-8 */
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buf[64];
        size_t n = strlen(cases[i].in);
        memcpy(buf, cases[i].in, n);
        size_t m = tr_rows_latin1_from_utf8(buf, n);
        EXPECT_EQ_MEM(buf, m, cases[i].out, strlen(cases[i].out));
    }
}

TR_TEST_MAIN()
