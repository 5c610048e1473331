/*
 * TiDB datum codec: the worked values of shared/spec/tidb-binlog.md 4.6.3,
 * 4.6.4, 4.6.6 and the row of 4.7, vectors from TiDB's own tests (cited next
 * to each), and every truncation of each vector (an error, never a crash).
 */
#include "tr_test.h"

#include "common/err.h"
#include "protocol/tidb_datum.h"

static size_t hex(const char *s, uint8_t *out)
{
    return tr_test_unhex(s, out, 256);
}

/* Decodes a whole vector, checks it consumes everything, then every prefix fails. */
static uint8_t b_last[256]; /* the caller's views point here */

static void decode_all(const char *h, tr_datum_t *d)
{
    uint8_t *b = b_last;
    size_t n = hex(h, b);
    const char *why = NULL;
    ssize_t rc = tr_datum_decode(b, n, d, &why);
    if (rc != (ssize_t)n) {
        TR_FAIL_AT("decode %s: rc %zd (%s)", h, rc, why ? why : "");
    }
    for (size_t k = 0; k < n; k++) {
        tr_datum_t t;
        rc = tr_datum_decode(b, k, &t, &why);
        if (rc != TR_EMALFORMED) {
            TR_FAIL_AT("prefix %zu of %s: rc %zd", k, h, rc);
        }
    }
    /* decode again for the caller (views into b are not used after return) */
    (void)tr_datum_decode(b, n, d, &why);
}

TR_TEST(spec_small_examples)
{
    tr_datum_t d;
    decode_all("08 02", &d);
    EXPECT_EQ_INT(d.kind, TR_DATUM_INT);
    EXPECT_EQ_INT(d.i, 1);
    decode_all("08 01", &d);
    EXPECT_EQ_INT(d.i, -1);
    decode_all("08 C8 01", &d);
    EXPECT_EQ_INT(d.i, 100);
    decode_all("08 05", &d);
    EXPECT_EQ_INT(d.i, -3);
    decode_all("09 FF FF FF FF FF FF FF FF FF 01", &d);
    EXPECT_EQ_INT(d.kind, TR_DATUM_UINT);
    EXPECT_EQ_U64(d.u, UINT64_MAX);
    decode_all("02 06 61 62 63", &d);
    EXPECT_EQ_INT(d.kind, TR_DATUM_BYTES);
    EXPECT_EQ_MEM(d.bytes.p, d.bytes.len, "abc", 3);
    decode_all("05 BF F8 00 00 00 00 00 00", &d);
    EXPECT_EQ_INT(d.kind, TR_DATUM_FLOAT);
    EXPECT_TRUE(d.f == 1.5);
    decode_all("05 40 07 FF FF FF FF FF FF", &d);
    EXPECT_TRUE(d.f == -1.5);
    decode_all("08 80 B8 BD C1 DA D8 01", &d);
    EXPECT_EQ_INT(d.i, 3723000000000ll);
    decode_all("09 02", &d);
    EXPECT_EQ_U64(d.u, 2);
    decode_all("00", &d);
    EXPECT_EQ_INT(d.kind, TR_DATUM_NULL);
    decode_all("03 80 00 00 00 00 00 00 01", &d);
    EXPECT_EQ_INT(d.kind, TR_DATUM_INT);
    EXPECT_EQ_INT(d.i, 1);
    decode_all("04 00 00 00 00 00 00 00 07", &d);
    EXPECT_EQ_U64(d.u, 7);
    decode_all("07 7F FF FF FF FF FF FF FF", &d);
    EXPECT_EQ_INT(d.kind, TR_DATUM_DURATION);
    EXPECT_EQ_INT(d.i, -1);
    /* memcomparable bytes: spec 4.6.1 examples ([] and [1,2,3]) */
    decode_all("01 00 00 00 00 00 00 00 00 F7", &d);
    EXPECT_EQ_INT(d.bytes.len, 9);
    decode_all("01 01 02 03 00 00 00 00 00 FA", &d);
    EXPECT_EQ_INT(d.kind, TR_DATUM_BYTES);
}

TR_TEST(varint_limits)
{
    /* Go binary.PutVarint(math.MinInt64) / MaxInt64 (encoding/binary varint_test.go values). */
    tr_datum_t d;
    decode_all("08 FF FF FF FF FF FF FF FF FF 01", &d);
    EXPECT_EQ_INT(d.i, INT64_MIN);
    decode_all("08 FE FF FF FF FF FF FF FF FF 01", &d);
    EXPECT_EQ_INT(d.i, INT64_MAX);
    uint8_t b[16];
    const char *why;
    /* 11-byte and overflowing varints are malformed */
    size_t n = hex("09 FF FF FF FF FF FF FF FF FF 02", b);
    EXPECT_EQ_INT(tr_datum_decode(b, n, &d, &why), TR_EMALFORMED);
    n = hex("09 80 80 80 80 80 80 80 80 80 80 01", b);
    EXPECT_EQ_INT(tr_datum_decode(b, n, &d, &why), TR_EMALFORMED);
    n = hex("02 01", b); /* negative length -1 */
    EXPECT_EQ_INT(tr_datum_decode(b, n, &d, &why), TR_EMALFORMED);
    n = hex("0B", b);
    EXPECT_EQ_INT(tr_datum_decode(b, n, &d, &why), TR_EMALFORMED);
}

TR_TEST(decimal)
{
    tr_datum_t d;
    char s[128];
    /* spec 4.6.4 (hand-derived from mydecimal.go WriteBin) */
    decode_all("06 05 02 80 7B 2D", &d);
    EXPECT_EQ_INT(d.kind, TR_DATUM_DECIMAL);
    EXPECT_EQ_INT(d.precision, 5);
    EXPECT_EQ_INT(d.frac, 2);
    EXPECT_EQ_INT(tr_datum_decimal_to_str(d.bytes.p, d.bytes.len, 5, 2, s, sizeof(s)), 6);
    EXPECT_EQ_STR(s, "123.45");
    decode_all("06 05 02 7F 84 D2", &d);
    EXPECT_TRUE(tr_datum_decimal_to_str(d.bytes.p, d.bytes.len, 5, 2, s, sizeof(s)) > 0);
    EXPECT_EQ_STR(s, "-123.45");
    /* pkg/types/mydecimal.go WriteBin comment: 1234567890.1234 as (14,4) */
    decode_all("06 0E 04 81 0D FB 38 D2 04 D2", &d);
    EXPECT_TRUE(tr_datum_decimal_to_str(d.bytes.p, d.bytes.len, 14, 4, s, sizeof(s)) > 0);
    EXPECT_EQ_STR(s, "1234567890.1234");
    /* zero with scale, and a value with no integer digits: DECIMAL(10,2) 0.05 */
    uint8_t b[16];
    size_t n = hex("80 00 00 00 05", b);
    EXPECT_TRUE(tr_datum_decimal_to_str(b, n, 10, 2, s, sizeof(s)) > 0);
    EXPECT_EQ_STR(s, "0.05");
    n = hex("80 00 00 00 00", b);
    EXPECT_TRUE(tr_datum_decimal_to_str(b, n, 10, 2, s, sizeof(s)) > 0);
    EXPECT_EQ_STR(s, "0.00");
    /* out-of-range digit group */
    n = hex("FF FF FF FF 05", b);
    EXPECT_EQ_INT(tr_datum_decimal_to_str(b, n, 10, 2, s, sizeof(s)), TR_EMALFORMED);
    /* bad precision */
    const char *why;
    n = hex("06 00 00", b);
    EXPECT_EQ_INT(tr_datum_decode(b, n, &d, &why), TR_EMALFORMED);
    EXPECT_EQ_INT(tr_datum_decimal_bin_size(10, 2), 5);
    EXPECT_EQ_INT(tr_datum_decimal_bin_size(65, 30), 30);
}

TR_TEST(packed_time)
{
    tr_datum_t d;
    decode_all("09 86 80 80 A8 90 86 91 D9 19", &d);
    EXPECT_EQ_U64(d.u, 0x19B2443105000006ull);
    tr_tidb_time_t t;
    EXPECT_EQ_INT(tr_tidb_time_unpack(d.u, &t), 0);
    EXPECT_EQ_INT(t.year, 2024);
    EXPECT_EQ_INT(t.month, 1);
    EXPECT_EQ_INT(t.day, 2);
    EXPECT_EQ_INT(t.hour, 3);
    EXPECT_EQ_INT(t.minute, 4);
    EXPECT_EQ_INT(t.second, 5);
    EXPECT_EQ_INT(t.microsecond, 6);
    EXPECT_EQ_U64(tr_tidb_time_pack(&t), d.u);
    EXPECT_EQ_INT(tr_tidb_time_unpack(0, &t), 0);
    EXPECT_EQ_INT(t.year, 0);
    EXPECT_EQ_INT(t.month, 0);
    /* pkg/types/time_test.go TestToPackedUint-style round trip of 9999-12-31 23:59:59.999999 */
    tr_tidb_time_t mx = {9999, 12, 31, 23, 59, 59, 999999};
    EXPECT_EQ_INT(tr_tidb_time_unpack(tr_tidb_time_pack(&mx), &t), 0);
    EXPECT_EQ_INT(t.year, 9999);
    EXPECT_EQ_INT(t.microsecond, 999999);
    /* hour 31 does not exist */
    tr_tidb_time_t bad = {2024, 1, 1, 31, 0, 0, 0};
    EXPECT_EQ_INT(tr_tidb_time_unpack(tr_tidb_time_pack(&bad), &t), TR_EMALFORMED);
}

TR_TEST(json)
{
    tr_datum_t d;
    /* spec 4.6.5 (hand-derived from json_binary.go) */
    decode_all("0A 01 01 00 00 00 1C 00 00 00 13 00 00 00 01 00 09 14 00 00 00 61"
               " 01 00 00 00 00 00 00 00",
               &d);
    EXPECT_EQ_INT(d.kind, TR_DATUM_JSON);
    EXPECT_EQ_INT(d.bytes.len, 29);
    decode_all("0A 0C 02 61 62", &d);
    EXPECT_EQ_INT(d.bytes.len, 4);
    decode_all("0A 04 01", &d);
    decode_all("0A 11 00 00 00 00 00 00 00 00 00 00 00 00", &d);
}

TR_TEST(row_iterator)
{
    /* spec 4.7 update element: old half then new half, cols 1,2,3 twice */
    uint8_t b[128];
    size_t n = hex("08 02 08 0E 08 04 02 06 61 62 63 08 06 09 86 80 80 A8 90 86 91 D9 19"
                   "08 02 08 0E 08 04 02 02 78 08 06 09 86 80 80 A8 90 86 91 D9 19",
                   b);
    tr_datum_row_iter_t it = tr_datum_row_iter(b, n);
    int64_t ids[8];
    tr_datum_t vals[8];
    int cnt = 0;
    int rc;
    const char *why = NULL;
    while (cnt < 8 && (rc = tr_datum_row_next(&it, &ids[cnt], &vals[cnt], &why)) > 0) {
        cnt++;
    }
    EXPECT_EQ_INT(rc, 0);
    EXPECT_EQ_INT(cnt, 6);
    EXPECT_EQ_INT(ids[0], 1);
    EXPECT_EQ_INT(vals[0].i, 7);
    EXPECT_EQ_INT(ids[4], 2);
    EXPECT_EQ_MEM(vals[4].bytes.p, vals[4].bytes.len, "x", 1);
    /* the empty row */
    uint8_t z = 0;
    it = tr_datum_row_iter(&z, 1);
    EXPECT_EQ_INT(tr_datum_row_next(&it, &ids[0], &vals[0], &why), 0);
    /* every truncation ends in an error or fewer pairs, never a crash */
    for (size_t k = 0; k < n; k++) {
        it = tr_datum_row_iter(b, k);
        while ((rc = tr_datum_row_next(&it, &ids[0], &vals[0], &why)) > 0) {
        }
        EXPECT_TRUE(rc == 0 || rc == TR_EMALFORMED);
    }
    /* a column id that is not an int */
    n = hex("02 00 00", b);
    it = tr_datum_row_iter(b, n);
    EXPECT_EQ_INT(tr_datum_row_next(&it, &ids[0], &vals[0], &why), TR_EMALFORMED);
}

TR_TEST_MAIN()
