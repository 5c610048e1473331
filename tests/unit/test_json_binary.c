/*
 * TiDB binary JSON -> MySQL binary JSON and TiDB JSON text (protocol/json_binary.c).
 * TiDB inputs are built here by a small encoder written from TiDB's layout
 * (pingcap/tidb pkg/types/json_binary.go appendBinaryJSON; spec tidb-binlog.md 4.6.5),
 * checked once against the spec's hand-derived {"a":1} bytes.
 * Sources of the expected values are cited next to each vector.
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>

#include "tr_test.h"

#include "common/buf.h"
#include "common/endian.h"
#include "common/err.h"
#include "protocol/json_binary.h"

/* ---------------------------------------------------------------- TiDB encoder (test only) */

typedef struct {
    uint8_t tp;
    uint8_t *p;
    size_t len;
} tj_t;

static tj_t tj_raw(uint8_t tp, const void *p, size_t len)
{
    tj_t v = {tp, malloc(len + 1), len};
    memcpy(v.p, p, len);
    return v;
}

static tj_t tj_lit(uint8_t code)
{
    return tj_raw(0x04, &code, 1);
}

static tj_t tj_int(int64_t i)
{
    uint8_t b[8];
    tr_store_u64le(b, (uint64_t)i);
    return tj_raw(0x09, b, 8);
}

static tj_t tj_uint(uint64_t u)
{
    uint8_t b[8];
    tr_store_u64le(b, u);
    return tj_raw(0x0A, b, 8);
}

static tj_t tj_dbl(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    uint8_t b[8];
    tr_store_u64le(b, u);
    return tj_raw(0x0B, b, 8);
}

static tj_t tj_strn(const char *s, size_t n)
{
    uint8_t *b = malloc(n + 10);
    size_t k = 0;
    uint64_t x = n;
    while (x >= 0x80) {
        b[k++] = (uint8_t)(x | 0x80);
        x >>= 7;
    }
    b[k++] = (uint8_t)x;
    memcpy(b + k, s, n);
    tj_t v = {0x0C, b, k + n};
    return v;
}

static tj_t tj_str(const char *s)
{
    return tj_strn(s, strlen(s));
}

/* Container of n values (keys == NULL: array). Keys must be given in TiDB (bytewise) order.
 * Takes ownership of the values. */
static tj_t tj_container(size_t n, const char *const *keys, tj_t *vals)
{
    bool is_obj = keys != NULL;
    size_t head = 8 + n * (is_obj ? 6 : 0) + n * 5;
    size_t cap = head;
    for (size_t i = 0; i < n; i++) {
        cap += (is_obj ? strlen(keys[i]) : 0) + vals[i].len;
    }
    uint8_t *b = calloc(1, cap);
    size_t off = head;
    for (size_t i = 0; is_obj && i < n; i++) {
        size_t kl = strlen(keys[i]);
        tr_store_u32le(b + 8 + i * 6, (uint32_t)off);
        tr_store_u16le(b + 8 + i * 6 + 4, (uint16_t)kl);
        memcpy(b + off, keys[i], kl);
        off += kl;
    }
    size_t ve = 8 + n * (is_obj ? 6 : 0);
    for (size_t i = 0; i < n; i++) {
        b[ve + i * 5] = vals[i].tp;
        if (vals[i].tp == 0x04) {
            b[ve + i * 5 + 1] = vals[i].p[0];
        } else {
            tr_store_u32le(b + ve + i * 5 + 1, (uint32_t)off);
            memcpy(b + off, vals[i].p, vals[i].len);
            off += vals[i].len;
        }
        free(vals[i].p);
    }
    tr_store_u32le(b, (uint32_t)n);
    tr_store_u32le(b + 4, (uint32_t)off);
    tj_t v = {is_obj ? 0x01 : 0x03, b, off};
    return v;
}

static tj_t tj_arr(size_t n, ...)
{
    tj_t vals[16];
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        vals[i] = va_arg(ap, tj_t);
    }
    va_end(ap);
    return tj_container(n, NULL, vals);
}

/* tj_obj(n, "k1", v1, "k2", v2, ...) */
static tj_t tj_obj(size_t n, ...)
{
    const char *keys[16];
    tj_t vals[16];
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        keys[i] = va_arg(ap, const char *);
        vals[i] = va_arg(ap, tj_t);
    }
    va_end(ap);
    return tj_container(n, keys, vals);
}

/* Datum bytes (type byte + value) of v; frees v. */
static uint8_t *tj_doc(tj_t v, size_t *len)
{
    uint8_t *d = malloc(v.len + 1);
    d[0] = v.tp;
    memcpy(d + 1, v.p, v.len);
    *len = v.len + 1;
    free(v.p);
    return d;
}

/* ---------------------------------------------------------------- helpers */

static void expect_text(tj_t v, const char *want)
{
    size_t n;
    uint8_t *d = tj_doc(v, &n);
    tr_buf_t out;
    tr_buf_init(&out, 0);
    const char *why = NULL;
    int r = tr_json_to_text(&out, d, n, &why);
    EXPECT_EQ_INT(r, 0);
    if (r != 0) {
        fprintf(stderr, "    why: %s\n", why);
    }
    EXPECT_EQ_MEM(out.data, out.len, want, strlen(want));
    tr_buf_cleanup(&out);
    free(d);
}

static void expect_mysql(tj_t v, const char *want_hex)
{
    size_t n;
    uint8_t *d = tj_doc(v, &n);
    uint8_t want[512];
    size_t wn = tr_test_unhex(want_hex, want, sizeof(want));
    tr_buf_t out;
    tr_buf_init(&out, 0);
    const char *why = NULL;
    int r = tr_json_to_mysql(&out, d, n, &why);
    EXPECT_EQ_INT(r, 0);
    if (r != 0) {
        fprintf(stderr, "    why: %s\n", why);
    }
    EXPECT_EQ_MEM(out.data, out.len, want, wn);
    tr_buf_cleanup(&out);
    free(d);
}

/* Converts v to MySQL binary; returns it (caller frees) with its length. */
static uint8_t *to_mysql(tj_t v, size_t *out_len)
{
    size_t n;
    uint8_t *d = tj_doc(v, &n);
    tr_buf_t out;
    tr_buf_init(&out, 0);
    const char *why = NULL;
    int r = tr_json_to_mysql(&out, d, n, &why);
    EXPECT_EQ_INT(r, 0);
    free(d);
    *out_len = out.len;
    return out.data; /* owned by the caller now */
}

/* ---------------------------------------------------------------- tests */

TR_TEST(spec_example_decodes)
{
    /* shared/spec/tidb-binlog.md 4.6.5 (hand-derived from json_binary.go): {"a":1}. */
    uint8_t d[64];
    size_t n = tr_test_unhex("01 | 01 00 00 00 | 1C 00 00 00 | 13 00 00 00 01 00 | 09 14 00 00 00 |"
                             " 61 | 01 00 00 00 00 00 00 00",
                             d, sizeof(d));
    size_t bn;
    uint8_t *built = tj_doc(tj_obj(1, "a", tj_int(1)), &bn);
    EXPECT_EQ_MEM(built, bn, d, n); /* the test encoder agrees with the spec */
    free(built);
    tr_buf_t out;
    tr_buf_init(&out, 0);
    const char *why;
    EXPECT_EQ_INT(tr_json_to_text(&out, d, n, &why), 0);
    EXPECT_EQ_MEM(out.data, out.len, "{\"a\": 1}", 8);
    tr_buf_reset(&out);
    /* MySQL: small object, int16 inlined (same shape as go-mysql's {"a":1234} below). */
    EXPECT_EQ_INT(tr_json_to_mysql(&out, d, n, &why), 0);
    uint8_t want[16];
    size_t wn = tr_test_unhex("00 01 00 0c 00 0b 00 01 00 05 01 00 61", want, sizeof(want));
    EXPECT_EQ_MEM(out.data, out.len, want, wn);
    tr_buf_cleanup(&out);
}

TR_TEST(text_matches_tidb_tests)
{
    /* pingcap/tidb pkg/types/json_binary_test.go TestBinaryJSONMarshalUnmarshal: the text
     * String() prints for documents parsed from these very strings. */
    expect_text(tj_obj(3, "a",
                       tj_arr(5, tj_int(1), tj_str("2"), tj_obj(1, "aa", tj_str("bb")), tj_int(4),
                              tj_lit(0)),
                       "b", tj_lit(1), "c", tj_lit(0)),
                "{\"a\": [1, \"2\", {\"aa\": \"bb\"}, 4, null], \"b\": true, \"c\": null}");
    expect_text(tj_obj(3, "aaaaaaaaaaa",
                       tj_arr(4, tj_int(1), tj_str("2"), tj_obj(1, "aa", tj_str("bb")), tj_dbl(4.1)),
                       "bbbbbbbbbb", tj_lit(1), "ccccccccc", tj_str("d")),
                "{\"aaaaaaaaaaa\": [1, \"2\", {\"aa\": \"bb\"}, 4.1], \"bbbbbbbbbb\": true, "
                "\"ccccccccc\": \"d\"}");
    expect_text(tj_arr(6, tj_obj(2, "a", tj_int(1), "b", tj_lit(1)), tj_int(3), tj_dbl(3.5),
                       tj_str("hello, world"), tj_lit(0), tj_lit(1)),
                "[{\"a\": 1, \"b\": true}, 3, 3.5, \"hello, world\", null, true]");
    expect_text(tj_obj(1, "a", tj_str("&<>")), "{\"a\": \"&<>\"}");
    /* TestGetKeys: {"age": 19, "name": "Tom"} (keys in TiDB's bytewise order). */
    expect_text(tj_obj(2, "age", tj_int(19), "name", tj_str("Tom")),
                "{\"age\": 19, \"name\": \"Tom\"}");
    expect_text(tj_obj(0), "{}");
    expect_text(tj_arr(0), "[]");
    expect_text(tj_lit(2), "false");
    expect_text(tj_int(INT64_MIN), "-9223372036854775808");
    expect_text(tj_uint(UINT64_MAX), "18446744073709551615");
}

TR_TEST(text_escapes)
{
    /* Go encoding/json escapes as TiDB's jsonMarshalStringTo applies them (\b, \f, other
     * controls as \u00xx; invalid UTF-8 bytes as \ufffd; U+2028/U+2029 escaped). */
    expect_text(tj_str("q\"b\\s/\n\r\t\b\f\x01\x1f\x7f<&>"),
                "\"q\\\"b\\\\s/\\n\\r\\t\\u0008\\u000c\\u0001\\u001f\x7f<&>\"");
    expect_text(tj_str("\xe2\x80\xa8|\xe2\x80\xa9|\xe2\x82\xac|\xf0\x9f\x98\x80"),
                "\"\\u2028|\\u2029|\xe2\x82\xac|\xf0\x9f\x98\x80\"");
    /* invalid: lone continuation, overlong, surrogate, truncated 4-byte sequence */
    expect_text(tj_str("\x80|\xc0\xaf|\xed\xa0\x80|\xf0\x9f\x98"),
                "\"\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd\"");
    expect_text(tj_obj(1, "k\"\n", tj_str("")), "{\"k\\\"\\n\": \"\"}");
}

TR_TEST(text_doubles)
{
    /* TiDB marshalFloat64To (v3 - v8.3): strconv.AppendFloat(f, 'f' or 'e', -1, 64) with 'e'
     * for |f| < 1e-6 or >= 1e21, then "e-07" -> "e-7"; no ".0" for integral values. */
    static const struct {
        double v;
        const char *text;
    } cases[] = {
        {0.1, "0.1"},
        {1.0, "1"},
        {-2.5, "-2.5"},
        {3.5, "3.5"},
        {1e21, "1e+21"},
        {1e20, "100000000000000000000"},
        {1e-7, "1e-7"},
        {1.5e-7, "1.5e-7"},
        {1e-6, "0.000001"},
        {1.25e-3, "0.00125"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {-1.7976931348623157e308, "-1.7976931348623157e+308"},
        {9007199254740993.0, "9007199254740992"},
        {123456789.1234567, "123456789.1234567"},
        {1e-10, "1e-10"},
        {0.0, "0"},
        {-0.0, "-0"},
    };
    for (size_t i = 0; i < TR_ARRAY_LEN(cases); i++) {
        char buf[40];
        size_t n = tr_json_format_double(cases[i].v, buf, sizeof(buf));
        EXPECT_EQ_STR(buf, cases[i].text);
        EXPECT_EQ_INT(n, strlen(cases[i].text));
    }
}

TR_TEST(mysql_published_vectors)
{
    /* go-mysql-org/go-mysql replication/row_event_test.go TestParseJson: MySQL 5.7 wrote
     * {"key1": "value1", "key2": "value2"} as these 41 bytes. */
    expect_mysql(tj_obj(2, "key1", tj_str("value1"), "key2", tj_str("value2")),
                 "00 02 00 28 00 12 00 04 00 16 00 04 00 0c 1a 00 0c 21 00"
                 " 6b 65 79 31 6b 65 79 32 06 76 61 6c 75 65 31 06 76 61 6c 75 65 32");
    /* TestJsonCompatibility (after MySQL 5.7.22): {} and {"a":1234}. */
    expect_mysql(tj_obj(0), "00 00 00 04 00");
    expect_mysql(tj_obj(1, "a", tj_int(1234)), "00 01 00 0c 00 0b 00 01 00 05 d2 04 61");
}

TR_TEST(mysql_scalars_and_inlining)
{
    /* json_binary.cc serialize_json_value: ints by size, top-level scalars not inlined. */
    expect_mysql(tj_int(-1), "05 ff ff");
    expect_mysql(tj_int(32768), "07 00 80 00 00");
    expect_mysql(tj_int(-2147483649LL), "09 ff ff ff 7f ff ff ff ff");
    expect_mysql(tj_uint(65535), "06 ff ff");
    expect_mysql(tj_uint(65536), "08 00 00 01 00");
    expect_mysql(tj_uint(UINT64_MAX), "0a ff ff ff ff ff ff ff ff");
    expect_mysql(tj_dbl(1.5), "0b 00 00 00 00 00 00 f8 3f");
    expect_mysql(tj_lit(1), "04 01");
    expect_mysql(tj_str("ab"), "0c 02 61 62");
    /* Small array: literal and int16 inline, int32 out of line (attempt_inline_value). */
    expect_mysql(tj_arr(3, tj_lit(2), tj_int(-2), tj_int(70000)),
                 "02 03 00 11 00 | 04 02 00 | 05 fe ff | 07 0d 00 | 70 11 01 00");
    /* Object keys in MySQL order (length, then bytes) from TiDB's bytewise order. */
    expect_mysql(tj_obj(4, "a", tj_int(1), "ab", tj_int(2), "b", tj_int(3), "ba", tj_int(4)),
                 "00 04 00 26 00 | 20 00 01 00 | 21 00 01 00 | 22 00 02 00 | 24 00 02 00 |"
                 " 05 01 00 | 05 03 00 | 05 02 00 | 05 04 00 | 61 62 61 62 62 61");
}

TR_TEST(mysql_large_format)
{
    /* A container larger than 64 KiB is large; so is every small-format ancestor, while
     * containers that fit stay small (json_binary.cc serialize_json_value retries). */
    size_t big_n = 70000;
    char *big = malloc(big_n);
    memset(big, 'x', big_n);
    size_t n;
    uint8_t *m = to_mysql(tj_obj(2, "a", tj_arr(2, tj_int(-1), tj_int(70000)), "b",
                                 tj_arr(1, tj_strn(big, big_n))),
                          &n);
    /* object: large (01), count 2, size; key entries 6 bytes; value entries 5 bytes */
    EXPECT_EQ_INT(m[0], 0x01);
    EXPECT_EQ_INT(tr_load_u32le(m + 1), 2);
    EXPECT_EQ_INT(tr_load_u32le(m + 5), n - 1);
    size_t ve = 1 + 8 + 2 * 6;
    EXPECT_EQ_INT(m[ve], 0x02);     /* "a": [-1, 70000] fits: small array */
    EXPECT_EQ_INT(m[ve + 5], 0x03); /* "b": large array */
    uint32_t a_off = tr_load_u32le(m + ve + 1);
    uint8_t want_a[] = {0x02, 0x00, 0x0e, 0x00, 0x05, 0xff, 0xff, 0x07, 0x0a, 0x00,
                        0x70, 0x11, 0x01, 0x00};
    EXPECT_EQ_MEM(m + 1 + a_off, 14, want_a, 14);
    free(m);
    /* Large array: int16 -1 inlined as 4 bytes (int4store of the int32), int32 inlined too. */
    m = to_mysql(tj_arr(3, tj_int(-1), tj_int(70000), tj_strn(big, big_n)), &n);
    EXPECT_EQ_INT(m[0], 0x03);
    uint8_t want_e[] = {0x05, 0xff, 0xff, 0xff, 0xff, 0x07, 0x70, 0x11, 0x01, 0x00, 0x0c};
    EXPECT_EQ_MEM(m + 9, 11, want_e, 11);
    EXPECT_EQ_INT(tr_load_u32le(m + 20), 8 + 15);
    free(m);
    free(big);
}

TR_TEST(mysql_times)
{
    /* TiDB CoreTime (core_time.go: year<<50 | month<<46 | day<<41 | hour<<36 | minute<<30 |
     * second<<24 | microsecond<<4) -> MySQL opaque DATETIME (12) with
     * TIME_to_longlong_datetime_packed. */
    uint64_t ct = (uint64_t)2024 << 50 | (uint64_t)1 << 46 | (uint64_t)2 << 41 |
                  (uint64_t)3 << 36 | (uint64_t)4 << 30 | (uint64_t)5 << 24 |
                  (uint64_t)678901 << 4;
    uint8_t b[8];
    tr_store_u64le(b, ct);
    uint64_t ymd = (2024ull * 13 + 1) << 5 | 2;
    uint64_t packed = ((ymd << 17 | 3u << 12 | 4u << 6 | 5u) << 24) + 678901;
    char want[128];
    snprintf(want, sizeof(want), "0f 0c 08 %02x %02x %02x %02x %02x %02x %02x %02x",
             (unsigned)(packed & 0xff), (unsigned)(packed >> 8 & 0xff),
             (unsigned)(packed >> 16 & 0xff), (unsigned)(packed >> 24 & 0xff),
             (unsigned)(packed >> 32 & 0xff), (unsigned)(packed >> 40 & 0xff),
             (unsigned)(packed >> 48 & 0xff), (unsigned)(packed >> 56 & 0xff));
    expect_mysql(tj_raw(0x0F, b, 8), want);
    expect_text(tj_raw(0x0F, b, 8), "\"2024-01-02 03:04:05.678901\"");
    expect_text(tj_raw(0x0E, b, 8), "\"2024-01-02\"");
    /* Duration -01:02:03.5 (ns, fsp 1) -> TIME opaque (11), negated packed value. */
    uint8_t dur[12];
    int64_t ns = -((int64_t)3723 * 1000000000 + 500000000);
    tr_store_u64le(dur, (uint64_t)ns);
    tr_store_u32le(dur + 8, 1);
    int64_t tp = -(int64_t)(((uint64_t)(1u << 12 | 2u << 6 | 3u) << 24) + 500000);
    snprintf(want, sizeof(want), "0f 0b 08 %02x %02x %02x %02x %02x %02x %02x %02x",
             (unsigned)((uint64_t)tp & 0xff), (unsigned)((uint64_t)tp >> 8 & 0xff),
             (unsigned)((uint64_t)tp >> 16 & 0xff), (unsigned)((uint64_t)tp >> 24 & 0xff),
             (unsigned)((uint64_t)tp >> 32 & 0xff), (unsigned)((uint64_t)tp >> 40 & 0xff),
             (unsigned)((uint64_t)tp >> 48 & 0xff), (unsigned)((uint64_t)tp >> 56 & 0xff));
    expect_mysql(tj_raw(0x11, dur, 12), want);
    expect_text(tj_raw(0x11, dur, 12), "\"-01:02:03.500000\"");
    /* Opaque passes through; its text is base64 (jsonMarshalOpaqueTo). */
    uint8_t opq[] = {0xF6, 0x03, 0x01, 0x02, 0x03};
    expect_mysql(tj_raw(0x0D, opq, sizeof(opq)), "0f f6 03 01 02 03");
    expect_text(tj_raw(0x0D, opq, sizeof(opq)), "\"base64:type246:AQID\"");
}

TR_TEST(malformed_inputs)
{
    size_t n;
    uint8_t *d = tj_doc(tj_obj(2, "a", tj_arr(2, tj_str("xy"), tj_dbl(0.5)), "b",
                               tj_obj(1, "c", tj_lit(0))),
                        &n);
    /* every prefix: an error, never a crash or a read past the end (ASan) */
    for (size_t k = 0; k < n; k++) {
        uint8_t *p = malloc(k + 1);
        memcpy(p, d, k);
        tr_buf_t out;
        tr_buf_init(&out, 0);
        const char *why = NULL;
        EXPECT_TRUE(tr_json_to_mysql(&out, p, k, &why) < 0);
        EXPECT_TRUE(why != NULL);
        tr_buf_reset(&out);
        EXPECT_TRUE(tr_json_to_text(&out, p, k, &why) < 0);
        tr_buf_cleanup(&out);
        free(p);
    }
    /* every single-byte corruption: 0 or an error, never a crash */
    for (size_t k = 0; k < n; k++) {
        for (int bit = 0; bit < 8; bit++) {
            d[k] ^= (uint8_t)(1u << bit);
            tr_buf_t out;
            tr_buf_init(&out, 0);
            const char *why = NULL;
            int r1 = tr_json_to_mysql(&out, d, n, &why);
            EXPECT_TRUE(r1 == 0 || why != NULL);
            tr_buf_reset(&out);
            int r2 = tr_json_to_text(&out, d, n, &why);
            EXPECT_TRUE(r2 == 0 || why != NULL);
            tr_buf_cleanup(&out);
            d[k] ^= (uint8_t)(1u << bit);
        }
    }
    free(d);
    /* keys out of TiDB order are refused for MySQL (its readers binary-search keys) */
    d = tj_doc(tj_obj(2, "b", tj_int(1), "a", tj_int(2)), &n);
    tr_buf_t out;
    tr_buf_init(&out, 0);
    const char *why = NULL;
    EXPECT_EQ_INT(tr_json_to_mysql(&out, d, n, &why), TR_EMALFORMED);
    tr_buf_cleanup(&out);
    free(d);
    /* nesting deeper than TR_JSON_MAX_DEPTH */
    tj_t v = tj_int(1);
    for (int i = 0; i < TR_JSON_MAX_DEPTH + 5; i++) {
        v = tj_arr(1, v);
    }
    d = tj_doc(v, &n);
    tr_buf_init(&out, 0);
    EXPECT_EQ_INT(tr_json_to_mysql(&out, d, n, &why), TR_EMALFORMED);
    tr_buf_reset(&out);
    EXPECT_EQ_INT(tr_json_to_text(&out, d, n, &why), TR_EMALFORMED);
    tr_buf_cleanup(&out);
    free(d);
    /* the output buffer limit is TR_ETOOBIG */
    d = tj_doc(tj_arr(2, tj_str("0123456789"), tj_str("abcdefghij")), &n);
    tr_buf_init(&out, 16);
    EXPECT_EQ_INT(tr_json_to_mysql(&out, d, n, &why), TR_ETOOBIG);
    tr_buf_cleanup(&out);
    tr_buf_init(&out, 16);
    EXPECT_EQ_INT(tr_json_to_text(&out, d, n, &why), TR_ETOOBIG);
    tr_buf_cleanup(&out);
    free(d);
}

TR_TEST_MAIN()
