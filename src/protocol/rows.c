/*
 * Row images of rows events: the NULL bitmap and the binary value of each
 * MySQL column type, appended to a tr_buf_t (failures are sticky in the
 * buffer). Nothing here allocates per row beyond the buffer's own growth.
 *
 * Pure codec: no I/O, no logging.
 * Encodings follow shared/spec/mysql-replication-source.md section 7.2, MySQL
 * decimal2bin (strings/decimal.cc), my_datetime_packed_to_binary and
 * my_time_packed_to_binary (mysys/my_time.cc), checked against the readers in
 * go-mysql replication/row_event.go (decodeDecimal, decodeTime2 ...).
 */
#include "protocol/rows.h"

#include <string.h>

#include "common/endian.h"
#include "common/err.h"
#include "common/utf8.h"

/* ------------------------------------------------------------ metadata */

uint16_t tr_rows_string_meta(uint8_t real_type, uint32_t max_len)
{
    /* MySQL Field_string::do_save_field_metadata: lengths above 255 fold bits 8-9 of
     * the length into bits 4-5 of the (inverted) real type byte. */
    uint8_t hi = (uint8_t)(real_type ^ ((max_len & 0x300) >> 4));
    return (uint16_t)((uint16_t)hi << 8 | (max_len & 0xFF));
}

void tr_rows_string_meta_decode(uint16_t meta, uint8_t *real_type, uint32_t *max_len)
{
    uint8_t b0 = (uint8_t)(meta >> 8);
    uint8_t b1 = (uint8_t)meta;
    if ((b0 & 0x30) != 0x30) {
        *max_len = (uint32_t)b1 | ((uint32_t)((b0 & 0x30) ^ 0x30) << 4);
        *real_type = (uint8_t)(b0 | 0x30);
    } else {
        *max_len = b1;
        *real_type = b0;
    }
}

/* ------------------------------------------------------------ images */

void tr_rows_image_begin(tr_rows_image_t *img, tr_buf_t *out, size_t ncols)
{
    size_t n = (ncols + 7) / 8;
    img->out = out;
    img->ncols = ncols;
    img->bitmap_off = out->len;
    uint8_t *p = tr_buf_extend(out, n);
    if (p != NULL) {
        /* Bits past the last column are set, as MySQL's and MariaDB's pack_row leave them. */
        memset(p, 0, n);
        if (ncols % 8 != 0) {
            p[n - 1] = (uint8_t)(0xFFu << (ncols % 8));
        }
    }
}

void tr_rows_image_null(tr_rows_image_t *img, size_t col_index)
{
    if (col_index >= img->ncols || !tr_buf_ok(img->out)) {
        return;
    }
    img->out->data[img->bitmap_off + col_index / 8] |= (uint8_t)(1u << (col_index % 8));
}

/* ------------------------------------------------------------ numbers */

static void put_be(tr_buf_t *out, uint64_t v, size_t n)
{
    uint8_t *p = tr_buf_extend(out, n);
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        p[n - 1 - i] = (uint8_t)(v >> (8 * i));
    }
}

void tr_rows_put_uint_n(tr_buf_t *out, uint64_t v, size_t nbytes)
{
    if (nbytes > 8) {
        nbytes = 8;
    }
    uint8_t *p = tr_buf_extend(out, nbytes);
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < nbytes; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

void tr_rows_put_int(tr_buf_t *out, uint8_t type, int64_t v)
{
    size_t n;
    switch (type) {
    case TR_MYSQL_TYPE_TINY:
        n = 1;
        break;
    case TR_MYSQL_TYPE_SHORT:
        n = 2;
        break;
    case TR_MYSQL_TYPE_INT24:
        n = 3;
        break;
    case TR_MYSQL_TYPE_LONG:
        n = 4;
        break;
    default:
        n = 8;
        break;
    }
    tr_rows_put_uint_n(out, (uint64_t)v, n);
}

void tr_rows_put_float(tr_buf_t *out, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof(bits));
    tr_buf_put_u32le(out, bits);
}

void tr_rows_put_double(tr_buf_t *out, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    tr_buf_put_u64le(out, bits);
}

/* ------------------------------------------------------------ decimal */

#define DIG_PER_DEC 9
static const uint8_t dig2bytes[DIG_PER_DEC + 1] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};

size_t tr_decimal_bin_size(int precision, int scale)
{
    if (precision < 0 || scale < 0 || scale > precision) {
        return 0;
    }
    int intg = precision - scale;
    return (size_t)(intg / DIG_PER_DEC) * 4 + dig2bytes[intg % DIG_PER_DEC] +
           (size_t)(scale / DIG_PER_DEC) * 4 + dig2bytes[scale % DIG_PER_DEC];
}

void tr_rows_put_decimal_bin(tr_buf_t *out, const uint8_t *bin, size_t len)
{
    if (len > 0) {
        tr_buf_append(out, bin, len);
    }
}

/* Value of n decimal digits d[0..n) (n <= 9). */
static uint32_t digits_value(const char *d, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++) {
        v = v * 10 + (uint32_t)(d[i] - '0');
    }
    return v;
}

/* Big-endian store of v in n (1..4) bytes. */
static void store_be(uint8_t *p, uint32_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

int tr_rows_put_decimal_str(tr_buf_t *out, const char *text, size_t len, int precision, int scale)
{
    /* Widest DECIMAL is (65, 30); MySQL rejects more. */
    if (precision < 1 || precision > 65 || scale < 0 || scale > 30 || scale > precision) {
        return TR_EMALFORMED;
    }
    size_t i = 0;
    bool negative = false;
    if (i < len && (text[i] == '-' || text[i] == '+')) {
        negative = text[i] == '-';
        i++;
    }
    size_t int_start = i;
    while (i < len && text[i] >= '0' && text[i] <= '9') {
        i++;
    }
    size_t int_end = i;
    size_t frac_start = i;
    size_t frac_end = i;
    if (i < len && text[i] == '.') {
        i++;
        frac_start = i;
        while (i < len && text[i] >= '0' && text[i] <= '9') {
            i++;
        }
        frac_end = i;
    }
    if (i != len || (int_end == int_start && frac_end == frac_start)) {
        return TR_EMALFORMED;
    }
    while (int_start < int_end && text[int_start] == '0') {
        int_start++;
    }
    int intg = precision - scale;
    if ((int)(int_end - int_start) > intg) {
        return TR_ETOOBIG;
    }
    /* Fraction digits beyond the scale would be lost: refuse unless they are zeros. */
    for (size_t k = frac_start + (size_t)scale; k < frac_end; k++) {
        if (text[k] != '0') {
            return TR_ETOOBIG;
        }
    }
    /* Digits laid out as intg integer digits (left-padded) and scale fraction
     * digits (right-padded): at most 65 digits. */
    char digits[65];
    int ndig = intg + scale;
    memset(digits, '0', sizeof(digits));
    size_t nint = int_end - int_start;
    if (nint > 0) {
        memcpy(digits + intg - (int)nint, text + int_start, nint);
    }
    size_t nfrac = frac_end - frac_start;
    if (nfrac > (size_t)scale) {
        nfrac = (size_t)scale;
    }
    if (nfrac > 0) {
        memcpy(digits + intg, text + frac_start, nfrac);
    }
    bool all_zero = true;
    for (int k = 0; k < ndig; k++) {
        if (digits[k] != '0') {
            all_zero = false;
            break;
        }
    }
    if (all_zero) {
        negative = false; /* MySQL has no negative zero */
    }
    size_t size = tr_decimal_bin_size(precision, scale);
    uint8_t *p = tr_buf_extend(out, size);
    if (p == NULL) {
        return TR_ETOOBIG;
    }
    uint8_t *q = p;
    const char *d = digits;
    int lead = intg % DIG_PER_DEC;
    if (lead > 0) {
        store_be(q, digits_value(d, lead), dig2bytes[lead]);
        q += dig2bytes[lead];
        d += lead;
    }
    for (int k = 0; k < intg / DIG_PER_DEC; k++) {
        store_be(q, digits_value(d, DIG_PER_DEC), 4);
        q += 4;
        d += DIG_PER_DEC;
    }
    for (int k = 0; k < scale / DIG_PER_DEC; k++) {
        store_be(q, digits_value(d, DIG_PER_DEC), 4);
        q += 4;
        d += DIG_PER_DEC;
    }
    int trail = scale % DIG_PER_DEC;
    if (trail > 0) {
        store_be(q, digits_value(d, trail), dig2bytes[trail]);
    }
    if (negative) {
        for (size_t k = 0; k < size; k++) {
            p[k] = (uint8_t)~p[k];
        }
    }
    p[0] ^= 0x80;
    return 0;
}

/* ------------------------------------------------------------ temporal */

/* Fractional part bytes for fsp (1-2: 1 byte of 1/100 s, 3-4: 2 bytes BE of 1/10000 s,
 * 5-6: 3 bytes BE of microseconds). frac may be negative (TIME2): its low bytes are
 * stored, as MySQL's casts do. */
static void put_frac(tr_buf_t *out, uint8_t fsp, int64_t frac)
{
    switch (fsp) {
    case 1:
    case 2:
        put_be(out, (uint64_t)(frac / 10000), 1);
        break;
    case 3:
    case 4:
        put_be(out, (uint64_t)(frac / 100), 2);
        break;
    case 5:
    case 6:
        put_be(out, (uint64_t)frac, 3);
        break;
    default:
        break;
    }
}

/* Microseconds truncated to fsp digits. */
static uint32_t trunc_usec(uint8_t fsp, uint32_t us)
{
    static const uint32_t div[7] = {1000000, 100000, 10000, 1000, 100, 10, 1};
    if (fsp > 6) {
        fsp = 6;
    }
    us %= 1000000;
    return us - us % div[fsp];
}

void tr_rows_put_datetime2(tr_buf_t *out, uint8_t fsp, int year, int month, int day, int hour,
                           int minute, int second, uint32_t microsecond)
{
    uint64_t ym = (uint64_t)year * 13 + (uint64_t)month;
    uint64_t ymd = (ym << 5) | (uint64_t)day;
    uint64_t hms = ((uint64_t)hour << 12) | ((uint64_t)minute << 6) | (uint64_t)second;
    uint64_t intpart = (ymd << 17) | hms;
    put_be(out, intpart + UINT64_C(0x8000000000), 5);
    put_frac(out, fsp, trunc_usec(fsp, microsecond));
}

void tr_rows_put_timestamp2(tr_buf_t *out, uint8_t fsp, uint32_t seconds, uint32_t microsecond)
{
    put_be(out, seconds, 4);
    put_frac(out, fsp, trunc_usec(fsp, microsecond));
}

/* Floor division by 2^24 of a signed value without shifting negatives. */
static int64_t floor_div24(int64_t v)
{
    const int64_t d = INT64_C(1) << 24;
    int64_t q = v / d;
    if (v % d != 0 && v < 0) {
        q--;
    }
    return q;
}

void tr_rows_put_time2(tr_buf_t *out, uint8_t fsp, bool negative, uint32_t hours, uint32_t minutes,
                       uint32_t seconds, uint32_t microsecond)
{
    /* MySQL packed time: ((h<<12 | m<<6 | s) << 24) + usec, negated for negative times. */
    uint32_t us = trunc_usec(fsp, microsecond);
    int64_t hms = ((int64_t)hours << 12) | ((int64_t)minutes << 6) | (int64_t)seconds;
    int64_t packed = hms * (INT64_C(1) << 24) + us;
    if (negative) {
        packed = -packed;
    }
    if (fsp >= 5) {
        put_be(out, (uint64_t)(packed + INT64_C(0x800000000000)), 6);
        return;
    }
    /* Integer part is the floor; the fraction is C's truncated remainder (negative for
     * negative times): readers add one to the integer part when both are negative. */
    int64_t intpart = floor_div24(packed);
    int64_t frac = packed % (INT64_C(1) << 24);
    put_be(out, (uint64_t)(intpart + 0x800000), 3);
    if (fsp > 0) {
        put_frac(out, fsp, frac);
    }
}

void tr_rows_put_date(tr_buf_t *out, int year, int month, int day)
{
    uint32_t v = (uint32_t)day | ((uint32_t)month << 5) | ((uint32_t)year << 9);
    tr_buf_put_u24le(out, v);
}

void tr_rows_put_year(tr_buf_t *out, int year)
{
    /* Callers pass 0 or 1901..2155; unsigned arithmetic keeps any other int defined. */
    tr_buf_put_u8(out, year == 0 ? 0 : (uint8_t)((unsigned)year - 1900u));
}

/* ------------------------------------------------------------ strings */

void tr_rows_put_varchar(tr_buf_t *out, uint32_t max_len, const uint8_t *p, size_t n)
{
    /* A value longer than its prefix can say would corrupt the event: fail the buffer. */
    if (n > (max_len < 256 ? 255u : 65535u)) {
        out->failed = true;
        return;
    }
    if (max_len < 256) {
        tr_buf_put_u8(out, (uint8_t)n);
    } else {
        tr_buf_put_u16le(out, (uint16_t)n);
    }
    if (n > 0) {
        tr_buf_append(out, p, n);
    }
}

void tr_rows_put_char(tr_buf_t *out, uint32_t max_len, uint8_t pad, const uint8_t *p, size_t n)
{
    while (n > 0 && p[n - 1] == pad) {
        n--;
    }
    tr_rows_put_varchar(out, max_len, p, n);
}

void tr_rows_put_blob(tr_buf_t *out, uint8_t prefix_len, const uint8_t *p, size_t n)
{
    if (prefix_len < 1 || prefix_len > 4) {
        prefix_len = 4;
    }
    if (prefix_len < 4 && (uint64_t)n >> (8 * prefix_len) != 0) {
        out->failed = true;
        return;
    }
    tr_rows_put_uint_n(out, n, prefix_len);
    if (n > 0) {
        tr_buf_append(out, p, n);
    }
}

/* cp1252 0x80..0x9F as Unicode (MySQL strings/ctype-latin1.cc to_uni_latin1): the five
 * bytes cp1252 leaves undefined map to the C1 control of the same value. */
static const uint16_t latin1_80_9f[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static int latin1_byte(uint32_t cp)
{
    if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF)) {
        return (int)cp;
    }
    for (int i = 0; i < 32; i++) {
        if (latin1_80_9f[i] == cp) {
            return 0x80 + i;
        }
    }
    return -1;
}

size_t tr_rows_latin1_from_utf8(uint8_t *p, size_t n)
{
    size_t r = 0;
    size_t w = 0;
    while (r < n) {
        uint32_t cp;
        size_t k = tr_utf8_decode(p + r, n - r, &cp);
        if (k == 0) {
            p[w++] = p[r++]; /* not UTF-8: already a latin1 byte */
            continue;
        }
        int b = latin1_byte(cp);
        p[w++] = b < 0 ? (uint8_t)'?' : (uint8_t)b;
        r += k;
    }
    return w;
}

void tr_rows_put_bit(tr_buf_t *out, uint32_t bits, uint64_t v)
{
    size_t n = (bits + 7) / 8;
    if (n > 8) {
        n = 8;
    }
    put_be(out, v, n);
}
