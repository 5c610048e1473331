/*
 * TiDB datum codec, value form (see tidb_datum.h for the flag table).
 * Decoding returns views into the row bytes; nothing is allocated, so a row
 * can be decoded per event without touching the heap. Every length is
 * checked against the bytes left: truncated or overlong input is
 * TR_EMALFORMED, never a read past the end.
 * Pure codec: no I/O, no logging.
 * Follows shared/spec/tidb-binlog.md 4.6 (TiDB pkg/util/codec/codec.go,
 * number.go, float.go, decimal.go; pkg/types/time.go ToPackedUint;
 * pkg/types/mydecimal.go WriteBin; pkg/types/json_binary.go).
 */
#include "protocol/tidb_datum.h"

#include <stdio.h>
#include <string.h>

#include "common/endian.h"
#include "common/err.h"

/* ---------------------------------------------------------------- varints */

ssize_t tr_datum_uvarint(const uint8_t *p, size_t len, uint64_t *v)
{
    uint64_t x = 0;
    unsigned shift = 0;
    for (size_t i = 0; i < len && i < 10; i++) {
        uint8_t b = p[i];
        if (b < 0x80) {
            if (i == 9 && b > 1) {
                return TR_EMALFORMED; /* overflows 64 bits */
            }
            *v = x | (uint64_t)b << shift;
            return (ssize_t)(i + 1);
        }
        x |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    }
    return TR_EMALFORMED; /* truncated or longer than 10 bytes */
}

ssize_t tr_datum_varint(const uint8_t *p, size_t len, int64_t *v)
{
    uint64_t ux;
    ssize_t n = tr_datum_uvarint(p, len, &ux);
    if (n < 0) {
        return n;
    }
    uint64_t x = ux >> 1;
    if (ux & 1) {
        x = ~x;
    }
    *v = (int64_t)x;
    return n;
}

/* ---------------------------------------------------------------- decimal */

static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
static const uint32_t pow10_u32[10] = {1,      10,      100,      1000,      10000,
                                       100000, 1000000, 10000000, 100000000, 1000000000};

int tr_datum_decimal_bin_size(int precision, int frac)
{
    if (precision < 1 || precision > 65 || frac < 0 || frac > 30 || frac > precision) {
        return -1;
    }
    int intg = precision - frac;
    return (intg / 9) * 4 + dig2bytes[intg % 9] + (frac / 9) * 4 + dig2bytes[frac % 9];
}

/* Reads an n-byte big-endian group, undoing the sign mask. */
static uint32_t read_group(const uint8_t *p, int n, uint8_t mask)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++) {
        v = v << 8 | (uint8_t)(p[i] ^ mask);
    }
    return v;
}

int tr_datum_decimal_to_str(const uint8_t *bin, size_t len, int precision, int frac, char *out,
                            size_t cap)
{
    int size = tr_datum_decimal_bin_size(precision, frac);
    if (size < 0 || (size_t)size != len || cap < 100) {
        return TR_EMALFORMED;
    }
    uint8_t tmp[40];
    memcpy(tmp, bin, len);
    tmp[0] ^= 0x80;
    uint8_t mask = (bin[0] & 0x80) ? 0 : 0xFF; /* high bit clear = negative */
    int intg = precision - frac;
    int intg0 = intg / 9;
    int intg0x = intg % 9;
    int frac0 = frac / 9;
    int frac0x = frac % 9;

    char digits[100]; /* integer digits, leading zeros included */
    size_t nd = 0;
    const uint8_t *p = tmp;
    if (intg0x > 0) {
        int nb = dig2bytes[intg0x];
        uint32_t v = read_group(p, nb, mask);
        if (v >= pow10_u32[intg0x]) {
            return TR_EMALFORMED;
        }
        nd += (size_t)snprintf(digits + nd, sizeof(digits) - nd, "%0*u", intg0x, v);
        p += nb;
    }
    for (int i = 0; i < intg0; i++) {
        uint32_t v = read_group(p, 4, mask);
        if (v >= pow10_u32[9]) {
            return TR_EMALFORMED;
        }
        nd += (size_t)snprintf(digits + nd, sizeof(digits) - nd, "%09u", v);
        p += 4;
    }
    char fdigits[40];
    size_t nf = 0;
    for (int i = 0; i < frac0; i++) {
        uint32_t v = read_group(p, 4, mask);
        if (v >= pow10_u32[9]) {
            return TR_EMALFORMED;
        }
        nf += (size_t)snprintf(fdigits + nf, sizeof(fdigits) - nf, "%09u", v);
        p += 4;
    }
    if (frac0x > 0) {
        int nb = dig2bytes[frac0x];
        uint32_t v = read_group(p, nb, mask);
        if (v >= pow10_u32[frac0x]) {
            return TR_EMALFORMED;
        }
        nf += (size_t)snprintf(fdigits + nf, sizeof(fdigits) - nf, "%0*u", frac0x, v);
    }
    /* Strip leading zeros of the integer part (keep one). */
    size_t start = 0;
    while (start < nd && digits[start] == '0') {
        start++;
    }
    bool is_zero = start == nd;
    for (size_t i = 0; i < nf && is_zero; i++) {
        is_zero = fdigits[i] == '0';
    }
    size_t n = 0;
    if (mask != 0 && !is_zero) {
        out[n++] = '-';
    }
    if (start == nd) {
        out[n++] = '0';
    } else {
        memcpy(out + n, digits + start, nd - start);
        n += nd - start;
    }
    if (nf > 0) {
        out[n++] = '.';
        memcpy(out + n, fdigits, nf);
        n += nf;
    }
    out[n] = '\0';
    return (int)n;
}

/* ---------------------------------------------------------------- JSON */

ssize_t tr_datum_json_len(uint8_t tp, const uint8_t *p, size_t len)
{
    switch (tp) {
    case 0x01: /* object */
    case 0x03: /* array */
    {
        if (len < 8) {
            return TR_EMALFORMED;
        }
        uint32_t size = tr_load_u32le(p + 4);
        if (size < 8 || size > len) {
            return TR_EMALFORMED;
        }
        return (ssize_t)size;
    }
    case 0x04: /* literal */
        return len >= 1 ? 1 : TR_EMALFORMED;
    case 0x09: /* int64 */
    case 0x0A: /* uint64 */
    case 0x0B: /* double */
    case 0x0E: /* date */
    case 0x0F: /* datetime */
    case 0x10: /* timestamp */
        return len >= 8 ? 8 : TR_EMALFORMED;
    case 0x11: /* duration: ns + fsp */
        return len >= 12 ? 12 : TR_EMALFORMED;
    case 0x0C: /* string */
    {
        uint64_t n;
        ssize_t k = tr_datum_uvarint(p, len, &n);
        if (k < 0 || n > len - (size_t)k) {
            return TR_EMALFORMED;
        }
        return k + (ssize_t)n;
    }
    case 0x0D: /* opaque: mysql type, uvarint length, bytes */
    {
        if (len < 1) {
            return TR_EMALFORMED;
        }
        uint64_t n;
        ssize_t k = tr_datum_uvarint(p + 1, len - 1, &n);
        if (k < 0 || n > len - 1 - (size_t)k) {
            return TR_EMALFORMED;
        }
        return 1 + k + (ssize_t)n;
    }
    default:
        return TR_EMALFORMED;
    }
}

/* ---------------------------------------------------------------- datum */

ssize_t tr_datum_decode(const uint8_t *p, size_t len, tr_datum_t *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    if (len < 1) {
        *why = "datum: empty";
        return TR_EMALFORMED;
    }
    uint8_t flag = p[0];
    const uint8_t *q = p + 1;
    size_t left = len - 1;
    out->flag = flag;
    switch (flag) {
    case TR_DATUM_FLAG_NIL:
        out->kind = TR_DATUM_NULL;
        return 1;
    case TR_DATUM_FLAG_MAX:
        out->kind = TR_DATUM_MAX;
        return 1;
    case TR_DATUM_FLAG_INT:
    case TR_DATUM_FLAG_DURATION:
    case TR_DATUM_FLAG_UINT:
    case TR_DATUM_FLAG_FLOAT: {
        if (left < 8) {
            *why = "datum: truncated fixed-size value";
            return TR_EMALFORMED;
        }
        uint64_t u = tr_load_u64be(q);
        if (flag == TR_DATUM_FLAG_UINT) {
            out->kind = TR_DATUM_UINT;
            out->u = u;
        } else if (flag == TR_DATUM_FLAG_FLOAT) {
            if (u & 0x8000000000000000ull) {
                u &= ~0x8000000000000000ull;
            } else {
                u = ~u;
            }
            double d;
            memcpy(&d, &u, sizeof(d));
            out->kind = TR_DATUM_FLOAT;
            out->f = d;
        } else {
            out->kind = flag == TR_DATUM_FLAG_INT ? TR_DATUM_INT : TR_DATUM_DURATION;
            out->i = (int64_t)(u ^ 0x8000000000000000ull);
        }
        return 9;
    }
    case TR_DATUM_FLAG_VARINT: {
        ssize_t n = tr_datum_varint(q, left, &out->i);
        if (n < 0) {
            *why = "datum: bad varint";
            return TR_EMALFORMED;
        }
        out->kind = TR_DATUM_INT;
        return 1 + n;
    }
    case TR_DATUM_FLAG_UVARINT: {
        ssize_t n = tr_datum_uvarint(q, left, &out->u);
        if (n < 0) {
            *why = "datum: bad uvarint";
            return TR_EMALFORMED;
        }
        out->kind = TR_DATUM_UINT;
        return 1 + n;
    }
    case TR_DATUM_FLAG_COMPACT_BYTES: {
        int64_t n;
        ssize_t k = tr_datum_varint(q, left, &n);
        if (k < 0 || n < 0 || (uint64_t)n > left - (size_t)k) {
            *why = "datum: bad compact bytes length";
            return TR_EMALFORMED;
        }
        out->kind = TR_DATUM_BYTES;
        out->bytes = tr_slice(q + k, (size_t)n);
        return 1 + k + (ssize_t)n;
    }
    case TR_DATUM_FLAG_BYTES: {
        size_t off = 0;
        for (;;) {
            if (left - off < 9) {
                *why = "datum: truncated memcomparable bytes";
                return TR_EMALFORMED;
            }
            uint8_t marker = q[off + 8];
            off += 9;
            if (marker != 0xFF) {
                if (marker < 0xFF - 8) {
                    *why = "datum: bad memcomparable marker";
                    return TR_EMALFORMED;
                }
                break;
            }
        }
        out->kind = TR_DATUM_BYTES;
        out->bytes = tr_slice(q, off);
        return 1 + (ssize_t)off;
    }
    case TR_DATUM_FLAG_DECIMAL: {
        if (left < 2) {
            *why = "datum: truncated decimal header";
            return TR_EMALFORMED;
        }
        int size = tr_datum_decimal_bin_size(q[0], q[1]);
        if (size < 0) {
            *why = "datum: bad decimal precision/frac";
            return TR_EMALFORMED;
        }
        if ((size_t)size > left - 2) {
            *why = "datum: truncated decimal";
            return TR_EMALFORMED;
        }
        out->kind = TR_DATUM_DECIMAL;
        out->precision = q[0];
        out->frac = q[1];
        out->bytes = tr_slice(q + 2, (size_t)size);
        return 3 + size;
    }
    case TR_DATUM_FLAG_JSON: {
        if (left < 1) {
            *why = "datum: truncated json";
            return TR_EMALFORMED;
        }
        ssize_t n = tr_datum_json_len(q[0], q + 1, left - 1);
        if (n < 0) {
            *why = "datum: bad or truncated json";
            return TR_EMALFORMED;
        }
        out->kind = TR_DATUM_JSON;
        out->bytes = tr_slice(q, 1 + (size_t)n);
        return 2 + n;
    }
    default:
        *why = "datum: unknown flag";
        return TR_EMALFORMED;
    }
}

/* ---------------------------------------------------------------- packed time */

int tr_tidb_time_unpack(uint64_t packed, tr_tidb_time_t *out)
{
    uint64_t ymdhms = packed >> 24;
    uint64_t ymd = ymdhms >> 17;
    uint64_t hms = ymdhms & ((1u << 17) - 1);
    uint64_t ym = ymd >> 5;
    out->microsecond = (uint32_t)(packed & 0xFFFFFF);
    out->day = (int)(ymd & 31);
    out->month = (int)(ym % 13);
    out->year = (int)(ym / 13);
    out->second = (int)(hms & 63);
    out->minute = (int)((hms >> 6) & 63);
    out->hour = (int)(hms >> 12);
    if (out->year > 9999 || out->hour > 23 || out->minute > 59 || out->second > 59 ||
        out->microsecond > 999999) {
        return TR_EMALFORMED;
    }
    return 0;
}

uint64_t tr_tidb_time_pack(const tr_tidb_time_t *t)
{
    uint64_t ymd = ((uint64_t)t->year * 13 + (uint64_t)t->month) << 5 | (uint64_t)t->day;
    uint64_t hms = (uint64_t)t->hour << 12 | (uint64_t)t->minute << 6 | (uint64_t)t->second;
    return (ymd << 17 | hms) << 24 | t->microsecond;
}

/* ---------------------------------------------------------------- row iterator */

int tr_datum_row_next(tr_datum_row_iter_t *it, int64_t *col_id, tr_datum_t *val,
                      const char **why)
{
    if (it->pos >= it->len) {
        return 0;
    }
    tr_datum_t id;
    ssize_t n = tr_datum_decode(it->p + it->pos, it->len - it->pos, &id, why);
    if (n < 0) {
        return (int)n;
    }
    if (id.kind != TR_DATUM_INT) {
        *why = "row: column id is not an int datum";
        return TR_EMALFORMED;
    }
    size_t pos = it->pos + (size_t)n;
    if (pos >= it->len) {
        *why = "row: column id without value";
        return TR_EMALFORMED;
    }
    n = tr_datum_decode(it->p + pos, it->len - pos, val, why);
    if (n < 0) {
        return (int)n;
    }
    it->pos = pos + (size_t)n;
    *col_id = id.i;
    return 1;
}
