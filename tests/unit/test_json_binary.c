/*
 * TiDB binary JSON -> MySQL binary JSON and TiDB JSON text, and JSON text -> MySQL binary
 * JSON (protocol/json_binary.c).
 * TiDB inputs are built here by a small encoder written from TiDB's layout
 * (pingcap/tidb pkg/types/json_binary.go appendBinaryJSON; spec tidb-binlog.md 4.6.5),
 * checked once against the spec's hand-derived {"a":1} bytes.
 * The text path is checked three ways: byte vectors; every TiDB document of this file
 * printed as text and converted back (check_text_path) must give the bytes the binary path
 * gives; and MySQL output is read back (json_mysql_read.h) and printed by the existing
 * decoder, which must print TiDB's canonical text.
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

#include "json_mysql_read.h"

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

/* ---------------------------------------------------------------- the text path */

/*
 * Where tr_json_to_text(B) then tr_json_text_to_mysql gives other bytes than
 * tr_json_to_mysql(B): the values whose TiDB type the text does not carry. Keyed by the
 * text TiDB prints for B; the hex is what that text converts to. Every other document that
 * goes through expect_text, expect_mysql or to_mysql must come back byte for byte.
 */
static const struct {
    const char *text;
    const char *mysql_hex;
} text_differs[] = {
    /* Integral doubles print without a fraction in TiDB v3 - v8.3 (marshalFloat64To), so
     * the text reads them as integers (parseBinaryNumber); "-0" is ParseInt's 0. A double
     * past the uint64 range (1e20 prints as 100000000000000000000) stays a double. */
    {"1", "05 01 00"},
    {"0", "05 00 00"},
    {"-0", "05 00 00"},
    {"9007199254740992", "09 00 00 00 00 00 00 20 00"},
    /* A uint64 below 2^63 prints as any integer and reads back as int64 (ParseInt comes
     * before ParseUint), which MySQL stores in a signed type. */
    {"65535", "07 ff ff 00 00"},
    {"65536", "07 00 00 01 00"},
    /* Dates, times and opaque values print as strings (jsonMarshalTimeTo,
     * jsonMarshalDurationTo, jsonMarshalOpaqueTo) and come back as those strings. */
    {"\"2024-01-02 03:04:05.678901\"",
     "0c 1a 32 30 32 34 2d 30 31 2d 30 32 20 30 33 3a 30 34 3a 30 35 2e 36 37 38 39 30 31"},
    {"\"2024-01-02\"", "0c 0a 32 30 32 34 2d 30 31 2d 30 32"},
    {"\"-01:02:03.500000\"", "0c 10 2d 30 31 3a 30 32 3a 30 33 2e 35 30 30 30 30 30"},
    {"\"base64:type246:AQID\"", "0c 13 62 61 73 65 36 34 3a 74 79 70 65 32 34 36 3a 41 51 49 44"},
    /* Invalid UTF-8 in a TiDB string prints as \ufffd per bad byte (Go's encoding/json),
     * which reads back as U+FFFD (ef bf bd). */
    {"\"\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd\"",
     "0c 1e ef bf bd 7c ef bf bd ef bf bd 7c ef bf bd ef bf bd ef bf bd 7c"
     " ef bf bd ef bf bd ef bf bd"},
};
static bool text_differs_seen[TR_ARRAY_LEN(text_differs)];

/* text -> MySQL bytes -> (reader) TiDB bytes -> text, into *canon; 0 or the failing step. */
static int text_round_trip(const uint8_t *text, size_t len, tr_buf_t *mysql, tr_buf_t *canon,
                           const char **why)
{
    int r = tr_json_text_to_mysql(mysql, text, len, why);
    if (r != 0) {
        return r;
    }
    tr_buf_t tidb;
    tr_buf_init(&tidb, 0);
    if (tr_test_mysql_json_to_tidb(mysql->data, mysql->len, &tidb, why) != 0) {
        tr_buf_cleanup(&tidb);
        return -1;
    }
    /* The binary path re-encodes the value read back to the very same bytes. */
    tr_buf_t again;
    tr_buf_init(&again, 0);
    r = tr_json_to_mysql(&again, tidb.data, tidb.len, why);
    EXPECT_EQ_INT(r, 0);
    EXPECT_EQ_MEM(again.data, again.len, mysql->data, mysql->len);
    tr_buf_cleanup(&again);
    r = tr_json_to_text(canon, tidb.data, tidb.len, why);
    tr_buf_cleanup(&tidb);
    return r;
}

/* The text path over the TiDB document d (see text_differs). */
static void check_text_path(const uint8_t *d, size_t n)
{
    tr_buf_t bin;
    tr_buf_t text;
    tr_buf_t viatext;
    tr_buf_t canon;
    tr_buf_init(&bin, 0);
    tr_buf_init(&text, 0);
    tr_buf_init(&viatext, 0);
    tr_buf_init(&canon, 0);
    const char *why = NULL;
    EXPECT_EQ_INT(tr_json_to_mysql(&bin, d, n, &why), 0);
    EXPECT_EQ_INT(tr_json_to_text(&text, d, n, &why), 0);
    int r = text_round_trip(text.data, text.len, &viatext, &canon, &why);
    EXPECT_EQ_INT(r, 0);
    if (r != 0) {
        fprintf(stderr, "    why: %s\n    text: %.*s\n", why,
                (int)(text.len < 200 ? text.len : 200), (const char *)text.data);
    }
    size_t k = 0;
    while (k < TR_ARRAY_LEN(text_differs) &&
           (strlen(text_differs[k].text) != text.len ||
            memcmp(text_differs[k].text, text.data, text.len) != 0)) {
        k++;
    }
    if (k == TR_ARRAY_LEN(text_differs)) {
        EXPECT_EQ_MEM(viatext.data, viatext.len, bin.data, bin.len);
        /* TiDB's text is canonical: it reads back to itself. */
        EXPECT_EQ_MEM(canon.data, canon.len, text.data, text.len);
    } else {
        uint8_t want[128];
        size_t wn = tr_test_unhex(text_differs[k].mysql_hex, want, sizeof(want));
        EXPECT_EQ_MEM(viatext.data, viatext.len, want, wn);
        EXPECT_TRUE(bin.len != wn || memcmp(bin.data, want, wn) != 0); /* a real difference */
        text_differs_seen[k] = true;
    }
    tr_buf_cleanup(&bin);
    tr_buf_cleanup(&text);
    tr_buf_cleanup(&viatext);
    tr_buf_cleanup(&canon);
}

/* ---------------------------------------------------------------- helpers */

static void expect_text(tj_t v, const char *want)
{
    size_t n;
    uint8_t *d = tj_doc(v, &n);
    check_text_path(d, n);
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
    check_text_path(d, n);
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
    check_text_path(d, n);
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
    check_text_path(d, n);
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
        /* ... and as documents they take the text path (integral ones are text_differs). */
        size_t dn;
        uint8_t *d = tj_doc(tj_dbl(cases[i].v), &dn);
        check_text_path(d, dn);
        free(d);
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

/* ---------------------------------------------------------------- JSON text -> MySQL */

/* Converts text (exactly len bytes, in its own allocation so ASan sees any overread). */
static int text_to_mysql(const char *text, size_t len, tr_buf_t *out, const char **why)
{
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    int r = tr_json_text_to_mysql(out, copy, len, why);
    free(copy);
    return r;
}

static void expect_text_mysql(const char *text, const char *want_hex)
{
    static uint8_t want[80000];
    size_t wn = tr_test_unhex(want_hex, want, sizeof(want));
    tr_buf_t out;
    tr_buf_init(&out, 0);
    const char *why = NULL;
    int r = text_to_mysql(text, strlen(text), &out, &why);
    EXPECT_EQ_INT(r, 0);
    if (r != 0) {
        fprintf(stderr, "    text: %s\n    why: %s\n", text, why);
    }
    EXPECT_EQ_MEM(out.data, out.len, want, wn);
    tr_buf_cleanup(&out);
}

/* text -> MySQL -> text as TiDB prints it (the existing decoder, keys in TiDB's order). */
static void expect_canonical_n(const char *text, size_t len, const char *want)
{
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    tr_buf_t mysql;
    tr_buf_t canon;
    tr_buf_init(&mysql, 0);
    tr_buf_init(&canon, 0);
    const char *why = NULL;
    int r = text_round_trip(copy, len, &mysql, &canon, &why);
    EXPECT_EQ_INT(r, 0);
    if (r != 0) {
        fprintf(stderr, "    text: %.*s\n    why: %s\n", (int)(len < 200 ? len : 200), text, why);
    }
    EXPECT_EQ_MEM(canon.data, canon.len, want, strlen(want));
    tr_buf_cleanup(&mysql);
    tr_buf_cleanup(&canon);
    free(copy);
}

static void expect_canonical(const char *text, const char *want)
{
    expect_canonical_n(text, strlen(text), want);
}

static void expect_bad_n(const char *text, size_t len, int want_rc)
{
    tr_buf_t out;
    tr_buf_init(&out, 0);
    const char *why = NULL;
    int r = text_to_mysql(text, len, &out, &why);
    EXPECT_EQ_INT(r, want_rc);
    EXPECT_TRUE(why != NULL);
    if (r != want_rc) {
        fprintf(stderr, "    accepted or wrong code: %.*s\n", (int)(len < 80 ? len : 80), text);
    }
    tr_buf_cleanup(&out);
}

static void expect_bad(const char *text)
{
    expect_bad_n(text, strlen(text), TR_EMALFORMED);
}

/* "[[...[inner]...]]" with n brackets around inner, malloc'd. */
static char *nest(int n, const char *inner)
{
    size_t il = strlen(inner);
    char *s = malloc(2 * (size_t)n + il + 1);
    memset(s, '[', (size_t)n);
    memcpy(s + n, inner, il);
    memset(s + n + il, ']', (size_t)n);
    s[2 * (size_t)n + il] = '\0';
    return s;
}

TR_TEST(text_mysql_published_vectors)
{
    /* go-mysql-org/go-mysql replication/row_event_test.go TestParseJson: MySQL 5.7 wrote
     * {"key1": "value1", "key2": "value2"} as these 41 bytes (small object: count, size,
     * key entries, value entries, keys, values; json_binary.cc's layout comment). */
    const char *kv = "00 02 00 28 00 12 00 04 00 16 00 04 00 0c 1a 00 0c 21 00"
                     " 6b 65 79 31 6b 65 79 32 06 76 61 6c 75 65 31 06 76 61 6c 75 65 32";
    expect_text_mysql("{\"key1\": \"value1\", \"key2\": \"value2\"}", kv);
    /* ... whatever the member order, spacing or escapes of the text, and the last of
     * duplicated keys wins (TiDB decodes into a Go map). */
    expect_text_mysql(
        "\r\n\t {\"key2\":\"old\" , \"k\\u0065y1\":\"value1\",\"key2\":\"val\\u0075e2\"} ", kv);
    /* TestJsonCompatibility (MySQL after 5.7.22): {} and {"a":1234} (int16 inlined). */
    expect_text_mysql("{}", "00 00 00 04 00");
    expect_text_mysql("{\"a\":1234}", "00 01 00 0c 00 0b 00 01 00 05 d2 04 61");
    /* TestParseJson's long text row: {"text": <2750 bytes>} is a small object whose string
     * length takes two var_len bytes (be 15 = 0x3e + 0x15 << 7 = 2750). */
    size_t n = 2750;
    char *text = malloc(n + 16);
    char *hex = malloc(3 * n + 128);
    int k = snprintf(text, 16, "{\"text\": \"");
    memset(text + k, 'L', n);
    memcpy(text + k + n, "\"}", 3);
    size_t h = (size_t)snprintf(hex, 128, "00 01 00 cf 0a 0b 00 04 00 0c 0f 00 74 65 78 74 be 15");
    for (size_t i = 0; i < n; i++) {
        memcpy(hex + h, " 4c", 3);
        h += 3;
    }
    hex[h] = '\0';
    expect_text_mysql(text, hex);
    free(text);
    free(hex);
}

TR_TEST(text_mysql_scalars)
{
    /* Typing: pingcap/tidb pkg/types/json_binary.go parseBinaryNumber (ParseInt, then
     * ParseUint, then ParseFloat; '.', 'e', 'E' mean ParseFloat). Bytes: json_binary.cc
     * serialize_json_value (ints in the smallest of int16/int32/int64, uint16/32/64; a
     * top-level value is never inlined; doubles by float8store, IEEE little-endian). */
    expect_text_mysql("0", "05 00 00");
    expect_text_mysql("-0", "05 00 00"); /* ParseInt("-0") = 0 */
    expect_text_mysql("32767", "05 ff 7f");
    expect_text_mysql("-32768", "05 00 80");
    expect_text_mysql("32768", "07 00 80 00 00");
    /* TiDB types 65535 as int64, so MySQL sees an int that needs int32, not a uint16. */
    expect_text_mysql("65535", "07 ff ff 00 00");
    expect_text_mysql("-2147483648", "07 00 00 00 80");
    expect_text_mysql("2147483648", "09 00 00 00 80 00 00 00 00");
    expect_text_mysql("9223372036854775807", "09 ff ff ff ff ff ff ff 7f");
    expect_text_mysql("-9223372036854775808", "09 00 00 00 00 00 00 00 80");
    expect_text_mysql("9223372036854775808", "0a 00 00 00 00 00 00 00 80"); /* ParseUint */
    expect_text_mysql("18446744073709551615", "0a ff ff ff ff ff ff ff ff");
    expect_text_mysql("18446744073709551616", "0b 00 00 00 00 00 00 f0 43"); /* 2^64 */
    expect_text_mysql("-9223372036854775809", "0b 00 00 00 00 00 00 e0 c3"); /* -2^63 */
    expect_text_mysql("1.0", "0b 00 00 00 00 00 00 f0 3f");
    expect_text_mysql("1e2", "0b 00 00 00 00 00 00 59 40");
    expect_text_mysql("1E+2", "0b 00 00 00 00 00 00 59 40");
    expect_text_mysql("-0.0", "0b 00 00 00 00 00 00 00 80");
    expect_text_mysql("1.5", "0b 00 00 00 00 00 00 f8 3f");
    expect_text_mysql("0.1", "0b 9a 99 99 99 99 99 b9 3f");
    expect_text_mysql("1.7976931348623157e308", "0b ff ff ff ff ff ff ef 7f");
    expect_text_mysql("4.9e-324", "0b 01 00 00 00 00 00 00 00"); /* the least subnormal */
    expect_text_mysql("1e-400", "0b 00 00 00 00 00 00 00 00");   /* underflow: ParseFloat's 0 */
    /* A 101-digit integer (past uint64: ParseFloat) and a number of more than 63 characters
     * (read through out) are doubles like any other: 1e100 = 0x54b249ad2594c37d. */
    char big[128];
    big[0] = '1';
    memset(big + 1, '0', 100);
    big[101] = '\0';
    expect_text_mysql(big, "0b 7d c3 94 25 ad 49 b2 54");
    char frac[128];
    memcpy(frac, "0.", 2);
    memset(frac + 2, '0', 80);
    memcpy(frac + 82, "5e81", 5); /* 0.000...05e81 = 0.5e1 = 5 */
    expect_text_mysql(frac, "0b 00 00 00 00 00 00 14 40");
    expect_text_mysql("true", "04 01");
    expect_text_mysql("false", "04 02");
    expect_text_mysql("null", "04 00");
    expect_text_mysql("\"\"", "0c 00");
    expect_text_mysql(" \"ab\" ", "0c 02 61 62");
    /* Out of the double range: ParseFloat's range error, which TiDB refuses. */
    expect_bad("1e400");
    expect_bad("-1e400");
    expect_bad("[1.7976931348623159e308]");
    char huge[420];
    huge[0] = '9';
    memset(huge + 1, '9', 400);
    huge[401] = '\0';
    expect_bad(huge);
}

TR_TEST(text_mysql_strings)
{
    /* Escapes decode to UTF-8 (RFC 8259 section 7); a surrogate pair is one code point. */
    expect_text_mysql("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "0c 08 22 5c 2f 08 0c 0a 0d 09");
    expect_text_mysql("\"\\u0041\\u00e9\\u20AC\\uD83D\\uDE00\"",
                      "0c 0a 41 c3 a9 e2 82 ac f0 9f 98 80");
    expect_text_mysql("\"\\u0000\"", "0c 01 00");
    expect_text_mysql("\"\xe6\x97\xa5\x7f\"", "0c 04 e6 97 a5 7f"); /* raw UTF-8 and DEL pass */
    /* 128 bytes take two var_len bytes (json_binary.cc append_variable_length). */
    char s[140];
    s[0] = '"';
    memset(s + 1, 'z', 128);
    memcpy(s + 129, "\"", 2);
    char hex[600];
    size_t h = (size_t)snprintf(hex, sizeof(hex), "0c 80 01");
    for (int i = 0; i < 128; i++) {
        memcpy(hex + h, " 7a", 3);
        h += 3;
    }
    hex[h] = '\0';
    expect_text_mysql(s, hex);
    /* Refused: what RFC 8259 does not allow, and what is not UTF-8 (TiDB would put U+FFFD
     * for the last two kinds; its own text never holds them). */
    expect_bad("\"abc");
    expect_bad("\"a\\x\"");
    expect_bad("\"a\\'\"");
    expect_bad("\"\\u12\"");
    expect_bad("\"\\u12G4\"");
    expect_bad("\"\\");
    expect_bad("\"\\u");
    expect_bad("\"a\tb\"");
    expect_bad("\"a\nb\"");
    expect_bad("\"\x1f\"");
    expect_bad_n("\"a\0b\"", 5, TR_EMALFORMED);
    expect_bad("\"\\ud800\"");
    expect_bad("\"\\udc00\\ud800\"");
    expect_bad("\"\\ud800\\u0041\"");
    expect_bad("\"\\ud800\\ud800\"");
    expect_bad("\"\\ud800x\"");
    expect_bad("\"\x80\"");
    expect_bad("\"\xc0\xaf\"");
    expect_bad("\"\xed\xa0\x80\"");
    expect_bad("\"\xf4\x90\x80\x80\"");
    expect_bad("\"\xe2\x82\"");
    expect_bad("\"\xff\"");
}

TR_TEST(text_mysql_containers)
{
    /* Small array: literal and int16 inlined, int32 and string after the entries
     * (json_binary.cc attempt_inline_value: int32 inline only in large containers). */
    expect_text_mysql("[null, -1, 40000, 70000, \"s\"]",
                      "02 05 00 1d 00 | 04 00 00 | 05 ff ff | 07 13 00 | 07 17 00 | 0c 1b 00 |"
                      " 40 9c 00 00 | 70 11 01 00 | 01 73");
    /* Keys in MySQL's order, length then bytes (json_dom.h Json_key_comparator). */
    expect_text_mysql("{\"b\":3,\"ab\":2,\"a\":1,\"ba\":4}",
                      "00 04 00 26 00 | 20 00 01 00 | 21 00 01 00 | 22 00 02 00 | 24 00 02 00 |"
                      " 05 01 00 | 05 03 00 | 05 02 00 | 05 04 00 | 61 62 61 62 62 61");
    /* Duplicates: the last wins, however the key is spelled. */
    expect_text_mysql("{\"a\":1,\"a\":2,\"\\u0061\":3}", "00 01 00 0c 00 0b 00 01 00 05 03 00 61");
    expect_text_mysql("[[],{},\"\",[{}]]", "02 04 00 24 00 | 02 10 00 | 00 14 00 | 0c 18 00 |"
                                           " 02 19 00 | 00 00 04 00 | 00 00 04 00 | 00 |"
                                           " 01 00 0b 00 00 07 00 | 00 00 04 00");
    expect_text_mysql("{\"\":null}", "00 01 00 0b 00 0b 00 00 00 04 00 00");
    /* A 65535-byte key: allowed, and its object does not fit 64 KiB, so it is large
     * (4-byte count, size, offsets; int16 inlined in 4 bytes). 65536 bytes: refused. */
    size_t kn = 65535;
    char *t = malloc(kn + 16);
    t[0] = '{';
    t[1] = '"';
    memset(t + 2, 'k', kn);
    memcpy(t + 2 + kn, "\":1}", 5);
    static char hex[3 * 65535 + 128];
    size_t h = (size_t)snprintf(hex, 128,
                                "01 01 00 00 00 12 00 01 00 13 00 00 00 ff ff"
                                " 05 01 00 00 00");
    for (size_t i = 0; i < kn; i++) {
        memcpy(hex + h, " 6b", 3);
        h += 3;
    }
    hex[h] = '\0';
    expect_text_mysql(t, hex);
    free(t);
    t = malloc(kn + 17);
    t[0] = '{';
    t[1] = '"';
    memset(t + 2, 'k', kn + 1);
    memcpy(t + 3 + kn, "\":1}", 5);
    expect_bad(t);
    free(t);
}

TR_TEST(text_mysql_many_keys)
{
    /* 300 keys in a scrambled order, 60 of them given twice (the later value wins): past
     * the insertion sort, so the heapsort orders them; the bytes must be the binary path's
     * for the same object (keys given to the TiDB encoder in bytewise order). */
    enum { N = 300 };
    char keys[N][16];
    const char *sorted[N];
    tj_t vals[N];
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
    }
    for (int i = 0; i < N; i++) {
        sorted[i] = keys[i];
    }
    for (int i = 1; i < N; i++) { /* bytewise order, TiDB's */
        for (int j = i; j > 0 && strcmp(sorted[j], sorted[j - 1]) < 0; j--) {
            const char *x = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = x;
        }
    }
    for (int i = 0; i < N; i++) {
        int num = atoi(sorted[i] + 1);
        vals[i] = num % 5 == 0 ? tj_int(-num) : tj_int(num);
    }
    tr_buf_t text;
    tr_buf_init(&text, 0);
    tr_buf_put_u8(&text, '{');
    for (int i = 0; i < N; i++) {
        int k = (i * 7) % N; /* a permutation: 7 is prime to N */
        if (k % 5 == 0) {
            tr_buf_printf(&text, "\"k%d\":%d,", k, k); /* overwritten below */
        }
        tr_buf_printf(&text, "\"k%d\":%d,", k, k);
    }
    /* the duplicates' final values come last */
    for (int k = 0; k < N; k += 5) {
        tr_buf_printf(&text, "\"k%d\":%d,", k, -k);
    }
    text.data[text.len - 1] = '}';
    size_t dn;
    uint8_t *d = tj_doc(tj_container(N, sorted, vals), &dn);
    tr_buf_t want;
    tr_buf_t got;
    tr_buf_init(&want, 0);
    tr_buf_init(&got, 0);
    const char *why = NULL;
    EXPECT_EQ_INT(tr_json_to_mysql(&want, d, dn, &why), 0);
    EXPECT_EQ_INT(tr_json_text_to_mysql(&got, text.data, text.len, &why), 0);
    EXPECT_EQ_MEM(got.data, got.len, want.data, want.len);
    free(d);
    tr_buf_cleanup(&want);
    tr_buf_cleanup(&got);
    tr_buf_cleanup(&text);
    /* Escaped keys sort by their decoded bytes. */
    d = tj_doc(tj_obj(5, "A", tj_int(5), "a", tj_int(2), "b", tj_int(1), "z", tj_int(4), "\xc3\xa9",
                      tj_int(3)),
               &dn);
    tr_buf_init(&want, 0);
    EXPECT_EQ_INT(tr_json_to_mysql(&want, d, dn, &why), 0);
    tr_buf_init(&got, 0);
    const char *esc = "{\"\\u0062\":1,\"a\":2,\"\\u00e9\":3,\"z\":4,\"\\u0041\":5}";
    EXPECT_EQ_INT(text_to_mysql(esc, strlen(esc), &got, &why), 0);
    EXPECT_EQ_MEM(got.data, got.len, want.data, want.len);
    free(d);
    tr_buf_cleanup(&want);
    tr_buf_cleanup(&got);
}

/* The text path and the binary path give the same bytes for text and the TiDB value v. */
static void expect_same_as_binary(const uint8_t *text, size_t len, tj_t v)
{
    size_t dn;
    uint8_t *d = tj_doc(v, &dn);
    tr_buf_t bin;
    tr_buf_t got;
    tr_buf_init(&bin, 0);
    tr_buf_init(&got, 0);
    const char *why = NULL;
    EXPECT_EQ_INT(tr_json_to_mysql(&bin, d, dn, &why), 0);
    int r = tr_json_text_to_mysql(&got, text, len, &why);
    EXPECT_EQ_INT(r, 0);
    if (r != 0) {
        fprintf(stderr, "    why: %s\n", why);
    }
    EXPECT_EQ_MEM(got.data, got.len, bin.data, bin.len);
    tr_buf_cleanup(&bin);
    tr_buf_cleanup(&got);
    free(d);
}

TR_TEST(text_mysql_large_formats)
{
    /* Small unless it does not fit 64 KiB, decided as json_binary.cc serialize_json_value
     * decides it (a small container whose child does not fit is retried large as a whole;
     * the children of a large one retry themselves): checked against the binary path. */
    size_t big = 70000;
    char *s = malloc(big + 1);
    memset(s, 'x', big);
    s[big] = '\0';
    tr_buf_t t;
    /* The boundary: ["x"*L] takes 4 + 3 + 3 + L bytes small, so L = 65525 fits, 65526 not. */
    for (size_t l = 65524; l <= 65527; l++) {
        tr_buf_init(&t, 0);
        tr_buf_printf(&t, "[\"%.*s\"]", (int)l, s);
        expect_same_as_binary(t.data, t.len, tj_arr(1, tj_strn(s, l)));
        tr_buf_cleanup(&t);
    }
    /* Two strings that fit alone, not together. */
    tr_buf_init(&t, 0);
    tr_buf_printf(&t, "[\"%.*s\", \"%.*s\", 7]", 40000, s, 40000, s);
    expect_same_as_binary(t.data, t.len,
                          tj_arr(3, tj_strn(s, 40000), tj_strn(s, 40000), tj_int(7)));
    tr_buf_cleanup(&t);
    /* 20 levels, small siblings around the path at each, the big string at the bottom:
     * every container on the path is large, every sibling small. */
    tr_buf_init(&t, 0);
    for (int i = 0; i < 20; i++) {
        tr_buf_printf(&t, "[{\"k%d\": [%d, 70000]}, ", i, i);
    }
    tr_buf_printf(&t, "\"%s\"", s);
    for (int i = 0; i < 20; i++) {
        tr_buf_printf(&t, ", \"after\"]");
    }
    tj_t v = tj_strn(s, big);
    for (int i = 19; i >= 0; i--) {
        char key[16];
        snprintf(key, sizeof(key), "k%d", i);
        v = tj_arr(3, tj_obj(1, key, tj_arr(2, tj_int(i), tj_int(70000))), v, tj_str("after"));
    }
    expect_same_as_binary(t.data, t.len, v);
    tr_buf_cleanup(&t);
    /* The same through objects, with a duplicated key on the path (the last one wins). */
    tr_buf_init(&t, 0);
    for (int i = 0; i < 20; i++) {
        tr_buf_printf(&t, "{\"p\": 0, \"a\": [true], \"p\": ");
    }
    tr_buf_printf(&t, "\"%s\"", s);
    for (int i = 0; i < 20; i++) {
        tr_buf_printf(&t, ", \"z\": null}");
    }
    v = tj_strn(s, big);
    for (int i = 0; i < 20; i++) {
        v = tj_obj(3, "a", tj_arr(1, tj_lit(1)), "p", v, "z", tj_lit(0));
    }
    expect_same_as_binary(t.data, t.len, v);
    tr_buf_cleanup(&t);
    /* More members than a small count holds. */
    enum { MANY = 70000 };
    tr_buf_init(&t, 0);
    tr_buf_put_u8(&t, '[');
    tj_t *vals = malloc(MANY * sizeof(*vals));
    for (int i = 0; i < MANY; i++) {
        tr_buf_printf(&t, "%s%d", i ? "," : "", i % 3 == 0 ? -1 : 1);
        vals[i] = tj_int(i % 3 == 0 ? -1 : 1);
    }
    tr_buf_put_u8(&t, ']');
    expect_same_as_binary(t.data, t.len, tj_container(MANY, NULL, vals));
    tr_buf_cleanup(&t);
    free(vals);
    free(s);
}

TR_TEST(text_round_trip_canonical)
{
    /* text -> MySQL -> read back -> printed by tr_json_to_text: TiDB's String() of the
     * document TiDB parses from the text (keys bytewise, ", " and ": ", marshalFloat64To). */
    /* pingcap/tidb pkg/types/json_binary_test.go TestBinaryJSONMarshalUnmarshal */
    expect_canonical("{\"a\": [1, \"2\", {\"aa\": \"bb\"}, 4, null], \"b\": true, \"c\": null}",
                     "{\"a\": [1, \"2\", {\"aa\": \"bb\"}, 4, null], \"b\": true, \"c\": null}");
    expect_canonical("[{\"a\": 1, \"b\": true}, 3, 3.5, \"hello, world\", null, true]",
                     "[{\"a\": 1, \"b\": true}, 3, 3.5, \"hello, world\", null, true]");
    expect_canonical("{\"c\":null,\"b\":true,\"a\":[1,\"2\",{\"aa\":\"bb\"},4,null]}",
                     "{\"a\": [1, \"2\", {\"aa\": \"bb\"}, 4, null], \"b\": true, \"c\": null}");
    expect_canonical(" \t\n{ \"a\" : 1 ,\r\n\"b\":[ ] }  ", "{\"a\": 1, \"b\": []}");
    expect_canonical("{\"a\":1,\"b\":2,\"a\":3}", "{\"a\": 3, \"b\": 2}");
    expect_canonical("{\"ab\":1,\"b\":2,\"a\":3}", "{\"a\": 3, \"ab\": 1, \"b\": 2}");
    expect_canonical("[1.0, 1e2, -0.0, -0, 1.5e-7, 1e21, 18446744073709551616, 0.1, 2.50]",
                     "[1, 100, -0, 0, 1.5e-7, 1e+21, 18446744073709552000, 0.1, 2.5]");
    expect_canonical("[-9223372036854775808, 9223372036854775807, 9223372036854775808,"
                     " 18446744073709551615, -9223372036854775809]",
                     "[-9223372036854775808, 9223372036854775807, 9223372036854775808, "
                     "18446744073709551615, -9223372036854776000]");
    expect_canonical("\"\\u0041\\/\\b\\f\\n\\r\\t\\\"\\\\\\u2028\\u00e9\\ud83d\\ude00\"",
                     "\"A/\\u0008\\u000c\\n\\r\\t\\\"\\\\\\u2028\xc3\xa9\xf0\x9f\x98\x80\"");
    expect_canonical("{}", "{}");
    expect_canonical("[]", "[]");
    expect_canonical("\"\"", "\"\"");
    expect_canonical("[[],{},[{}]]", "[[], {}, [{}]]");
    expect_canonical("{\"\\u00e9\":{\"z\":[true,false]},\"\":0}",
                     "{\"\": 0, \"\xc3\xa9\": {\"z\": [true, false]}}");
    expect_canonical("  false  ", "false");
}

TR_TEST(text_nesting_limit)
{
    /* Levels as tr_json_to_mysql counts them: the document is level 1, each container adds
     * one. TiDB's parser takes up to level 101 (maxJSONDepth 100 against GetElemDepth() - 1);
     * TR_JSON_MAX_DEPTH (128) is the limit here. */
    tr_buf_t out;
    const char *why = NULL;
    struct {
        int arrays;
        const char *inner;
        int rc;
    } cases[] = {
        {100, "1", 0},                           /* TiDB's deepest: 1 at level 101 */
        {TR_JSON_MAX_DEPTH - 1, "1", 0},         /* 1 at level 128 */
        {TR_JSON_MAX_DEPTH, "", 0},              /* the innermost [] at level 128 */
        {TR_JSON_MAX_DEPTH - 1, "{}", 0},        /* {} at level 128 */
        {TR_JSON_MAX_DEPTH, "1", TR_EMALFORMED}, /* 1 at level 129 */
        {TR_JSON_MAX_DEPTH, "{}", TR_EMALFORMED},
        {TR_JSON_MAX_DEPTH + 1, "", TR_EMALFORMED},
        {100000, "", TR_EMALFORMED}, /* refused before any recursion this deep */
    };
    for (size_t i = 0; i < TR_ARRAY_LEN(cases); i++) {
        char *s = nest(cases[i].arrays, cases[i].inner);
        tr_buf_init(&out, 0);
        EXPECT_EQ_INT(text_to_mysql(s, strlen(s), &out, &why), cases[i].rc);
        if (cases[i].rc == 0) {
            /* the same document through the binary path gives the same bytes */
            tj_t v = strcmp(cases[i].inner, "1") == 0    ? tj_int(1)
                     : strcmp(cases[i].inner, "{}") == 0 ? tj_obj(0)
                                                         : tj_arr(0);
            int wraps = cases[i].arrays - (cases[i].inner[0] == '\0' ? 1 : 0);
            for (int k = 0; k < wraps; k++) {
                v = tj_arr(1, v);
            }
            size_t dn;
            uint8_t *d = tj_doc(v, &dn);
            tr_buf_t bin;
            tr_buf_init(&bin, 0);
            EXPECT_EQ_INT(tr_json_to_mysql(&bin, d, dn, &why), 0);
            EXPECT_EQ_MEM(out.data, out.len, bin.data, bin.len);
            tr_buf_cleanup(&bin);
            free(d);
        } else {
            EXPECT_TRUE(why != NULL);
        }
        tr_buf_cleanup(&out);
        free(s);
    }
    /* objects count as arrays do */
    tr_buf_t t;
    tr_buf_init(&t, 0);
    for (int i = 0; i < TR_JSON_MAX_DEPTH; i++) {
        tr_buf_append(&t, "{\"a\":", 5);
    }
    tr_buf_append(&t, "1", 1);
    for (int i = 0; i < TR_JSON_MAX_DEPTH; i++) {
        tr_buf_put_u8(&t, '}');
    }
    tr_buf_init(&out, 0);
    EXPECT_EQ_INT(tr_json_text_to_mysql(&out, t.data, t.len, &why), TR_EMALFORMED);
    tr_buf_cleanup(&out);
    tr_buf_init(&out, 0);
    EXPECT_EQ_INT(tr_json_text_to_mysql(&out, t.data + 5, t.len - 6, &why), 0);
    tr_buf_cleanup(&out);
    tr_buf_cleanup(&t);
}

TR_TEST(text_malformed)
{
    /* Not JSON as Go's encoding/json reads it (RFC 8259), each with a reason. */
    static const char *const bad[] = {"",
                                      " ",
                                      "\t\r\n",
                                      "{",
                                      "}",
                                      "[",
                                      "]",
                                      "[1,]",
                                      "[,1]",
                                      "[1 2]",
                                      "[1,,2]",
                                      "{\"a\"}",
                                      "{\"a\":}",
                                      "{\"a\" 1}",
                                      "{a:1}",
                                      "{'a':1}",
                                      "{\"a\":1,}",
                                      "{,}",
                                      "{\"a\":1 \"b\":2}",
                                      "{1:2}",
                                      "01",
                                      "-01",
                                      "00",
                                      "+1",
                                      "1.",
                                      ".5",
                                      "1.e5",
                                      "1e",
                                      "1e+",
                                      "-",
                                      "--1",
                                      "-a",
                                      "0x10",
                                      "1_000",
                                      "NaN",
                                      "Infinity",
                                      "-Infinity",
                                      "tru",
                                      "True",
                                      "nul",
                                      "nulll",
                                      "nullx",
                                      "'a'",
                                      "[1]]",
                                      "{} {}",
                                      "1 2",
                                      "\"a\" \"b\"",
                                      "\xef\xbb\xbf{}",
                                      "/**/1",
                                      "[1] //",
                                      "[1e5x]",
                                      "{\"a\":tru}",
                                      "[\"a\":1]",
                                      "{\"a\",1}"};
    for (size_t i = 0; i < TR_ARRAY_LEN(bad); i++) {
        expect_bad(bad[i]);
    }
    expect_bad_n("{}\0", 3, TR_EMALFORMED); /* a NUL after the document is text after it */
    expect_bad_n("\0", 1, TR_EMALFORMED);
    /* Every prefix of a document is an error or (where it is a document too) converts;
     * every one-byte change converts or fails with a reason: never a crash or overread. */
    const char *doc = "{\"b\": [1, -2.5e3, \"x\\u00e9\\ud83d\\ude00\", {\"c\": null, \"\": true}],"
                      " \"a\": 18446744073709551615, \"b\": false}";
    size_t n = strlen(doc);
    for (size_t k = 0; k < n; k++) {
        tr_buf_t out;
        tr_buf_init(&out, 0);
        const char *why = NULL;
        int r = text_to_mysql(doc, k, &out, &why);
        EXPECT_TRUE(r == TR_EMALFORMED && why != NULL);
        tr_buf_cleanup(&out);
    }
    char *m = malloc(n);
    memcpy(m, doc, n);
    for (size_t k = 0; k < n; k++) {
        for (int bit = 0; bit < 8; bit++) {
            m[k] ^= (char)(1u << bit);
            tr_buf_t out;
            tr_buf_init(&out, 0);
            const char *why = NULL;
            int r = text_to_mysql(m, n, &out, &why);
            EXPECT_TRUE(r == 0 || (r == TR_EMALFORMED && why != NULL));
            if (r == 0) { /* what converts is well-formed MySQL JSON */
                tr_buf_t tidb;
                tr_buf_init(&tidb, 0);
                EXPECT_EQ_INT(tr_test_mysql_json_to_tidb(out.data, out.len, &tidb, &why), 0);
                tr_buf_cleanup(&tidb);
            }
            tr_buf_cleanup(&out);
            m[k] ^= (char)(1u << bit);
        }
    }
    free(m);
}

TR_TEST(text_output_buffer)
{
    const char *doc = "{\"b\":{\"d\":1,\"c\":[2,{\"f\":3,\"e\":\"four\"}]},\"a\":5,\"aa\":[]}";
    tr_buf_t alone;
    tr_buf_init(&alone, 0);
    const char *why = NULL;
    EXPECT_EQ_INT(text_to_mysql(doc, strlen(doc), &alone, &why), 0);
    /* Appended after what out holds (a row image's length prefix), which stays as it was. */
    tr_buf_t out;
    tr_buf_init(&out, 0);
    tr_buf_append(&out, "\xAA\xBB\xCC\xDD", 4);
    EXPECT_EQ_INT(text_to_mysql(doc, strlen(doc), &out, &why), 0);
    EXPECT_EQ_MEM(out.data, 4, "\xAA\xBB\xCC\xDD", 4);
    EXPECT_EQ_MEM(out.data + 4, out.len - 4, alone.data, alone.len);
    tr_buf_cleanup(&out);
    /* out's limit: too small is TR_ETOOBIG with a reason; the output plus the documented
     * working room is enough: 12 bytes for each of the 5 containers, and 16 per member of
     * the objects being written at once (3 + 2 + 2 at most). */
    for (size_t lim = 1; lim < alone.len; lim++) {
        tr_buf_init(&out, lim);
        why = NULL;
        EXPECT_EQ_INT(text_to_mysql(doc, strlen(doc), &out, &why), TR_ETOOBIG);
        EXPECT_TRUE(why != NULL);
        tr_buf_cleanup(&out);
    }
    tr_buf_init(&out, alone.len + 12 * 5 + 16 * (3 + 2 + 2));
    EXPECT_EQ_INT(text_to_mysql(doc, strlen(doc), &out, &why), 0);
    EXPECT_EQ_MEM(out.data, out.len, alone.data, alone.len);
    tr_buf_cleanup(&out);
    /* Scalars need no working room: the exact size is enough. */
    const char *str = "  \"a\\u00e9\"  ";
    tr_buf_t a;
    tr_buf_init(&a, 0);
    EXPECT_EQ_INT(text_to_mysql(str, strlen(str), &a, &why), 0);
    tr_buf_init(&out, a.len);
    EXPECT_EQ_INT(text_to_mysql(str, strlen(str), &out, &why), 0);
    EXPECT_EQ_MEM(out.data, out.len, a.data, a.len);
    tr_buf_cleanup(&out);
    tr_buf_cleanup(&a);
    tr_buf_cleanup(&alone);
}

TR_TEST(text_differs_all_seen)
{
    /* Every exception of text_differs is a real one (the table cannot go stale). */
    uint8_t b[12];
    static const double integral[] = {1.0, 0.0, -0.0, 9007199254740992.0};
    for (size_t i = 0; i < TR_ARRAY_LEN(integral); i++) {
        size_t n;
        uint8_t *d = tj_doc(tj_dbl(integral[i]), &n);
        check_text_path(d, n);
        free(d);
    }
    expect_mysql(tj_uint(65535), "06 ff ff");
    expect_mysql(tj_uint(65536), "08 00 00 01 00");
    uint64_t ct = (uint64_t)2024 << 50 | (uint64_t)1 << 46 | (uint64_t)2 << 41 | (uint64_t)3 << 36 |
                  (uint64_t)4 << 30 | (uint64_t)5 << 24 | (uint64_t)678901 << 4;
    tr_store_u64le(b, ct);
    expect_text(tj_raw(0x0F, b, 8), "\"2024-01-02 03:04:05.678901\"");
    expect_text(tj_raw(0x0E, b, 8), "\"2024-01-02\"");
    int64_t ns = -((int64_t)3723 * 1000000000 + 500000000);
    tr_store_u64le(b, (uint64_t)ns);
    tr_store_u32le(b + 8, 1);
    expect_text(tj_raw(0x11, b, 12), "\"-01:02:03.500000\"");
    uint8_t opq[] = {0xF6, 0x03, 0x01, 0x02, 0x03};
    expect_text(tj_raw(0x0D, opq, sizeof(opq)), "\"base64:type246:AQID\"");
    expect_text(tj_str("\x80|\xc0\xaf|\xed\xa0\x80|\xf0\x9f\x98"),
                "\"\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd\"");
    for (size_t k = 0; k < TR_ARRAY_LEN(text_differs); k++) {
        EXPECT_TRUE(text_differs_seen[k]);
        if (!text_differs_seen[k]) {
            fprintf(stderr, "    never seen: %s\n", text_differs[k].text);
        }
    }
}

TR_TEST_MAIN()
