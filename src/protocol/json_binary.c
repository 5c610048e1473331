/*
 * TiDB binary JSON -> MySQL binary JSON / TiDB's JSON text (see json_binary.h
 * for both layouts). Every offset and length read from the TiDB bytes is
 * checked against the enclosing container before use, so malformed input is
 * TR_EMALFORMED, never a read out of bounds.
 *
 * MySQL encoding follows mysql-server sql-common/json_binary.cc
 * (serialize_json_value / serialize_json_object / serialize_json_array /
 * attempt_inline_value): each container first tries the small format; if it
 * does not fit and its parent is small, the parent retries as large; the
 * top-level document and the children of a large container retry themselves.
 * Keys are ordered as MySQL's Json_object map orders them (length, then
 * bytes). TiDB stores keys sorted bytewise (json_binary.go appendBinaryObject),
 * so a stable pass by ascending length gives MySQL's order; the permutation is
 * kept inside the output buffer (in the value-entry area that is not written
 * yet), so nothing is allocated.
 * Date/time values: TiDB CoreTime (pkg/types/core_time.go bit fields) is
 * turned into MySQL's packed longlong (mysys my_time.cc
 * TIME_to_longlong_{date,datetime,time}_packed: ((ymd << 17 | hms) << 24) + us).
 *
 * Text follows TiDB pkg/types/json_binary.go MarshalJSON as released with
 * TiDB Binlog (v3 - v8.3): jsonMarshalStringTo (Go encoding/json escapes:
 * \" \\ \n \r \t, other bytes < 0x20 as \u00xx, invalid UTF-8 bytes as
 * \ufffd, U+2028/U+2029 escaped), marshalFloat64To (strconv 'f'/'e' with
 * shortest digits, 'e' below 1e-6 and from 1e21, "e-07" cleaned to "e-7"),
 * opaque as "base64:typeNN:...", times with 6 fractional digits.
 * Pure codec: no I/O, no logging.
 */
#include "protocol/json_binary.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/endian.h"
#include "common/err.h"
#include "common/hex.h"
#include "common/utf8.h"
#include "protocol/base64.h"
#include "protocol/tidb_datum.h"

enum {
    TJ_OBJECT = 0x01,
    TJ_ARRAY = 0x03,
    TJ_LITERAL = 0x04,
    TJ_INT64 = 0x09,
    TJ_UINT64 = 0x0A,
    TJ_DOUBLE = 0x0B,
    TJ_STRING = 0x0C,
    TJ_OPAQUE = 0x0D,
    TJ_DATE = 0x0E,
    TJ_DATETIME = 0x0F,
    TJ_TIMESTAMP = 0x10,
    TJ_DURATION = 0x11,
};

enum {
    MJ_SMALL_OBJECT = 0x00,
    MJ_LARGE_OBJECT = 0x01,
    MJ_SMALL_ARRAY = 0x02,
    MJ_LARGE_ARRAY = 0x03,
    MJ_LITERAL = 0x04,
    MJ_INT16 = 0x05,
    MJ_UINT16 = 0x06,
    MJ_INT32 = 0x07,
    MJ_UINT32 = 0x08,
    MJ_INT64 = 0x09,
    MJ_UINT64 = 0x0A,
    MJ_DOUBLE = 0x0B,
    MJ_STRING = 0x0C,
    MJ_OPAQUE = 0x0F,
};

/* MySQL field types used as opaque tags (include/field_types.h). */
enum {
    MYT_TIMESTAMP = 7,
    MYT_DATE = 10,
    MYT_TIME = 11,
    MYT_DATETIME = 12,
};

#define TIDB_HDR 8       /* count u32, size u32 */
#define TIDB_KEY_ENTRY 6 /* offset u32, length u16 */
#define TIDB_VAL_ENTRY 5 /* type u8, offset u32 */
#define SMALL_MAX 0xFFFFu
#define EMIT_TOO_BIG 1   /* internal: retry in the large format */

/* One TiDB value: type and its bytes (exactly the value, after validation). */
typedef struct {
    uint8_t tp;
    const uint8_t *p;
    size_t len;
} jv_t;

/* ---------------------------------------------------------------- TiDB side */

/* Decodes the value of type tp at p (avail bytes) into v, checking its length. */
static int jv_make(uint8_t tp, const uint8_t *p, size_t avail, jv_t *v, const char **why)
{
    ssize_t n = tr_datum_json_len(tp, p, avail);
    if (n < 0) {
        *why = "json: bad or truncated value";
        return TR_EMALFORMED;
    }
    if (tp == TJ_LITERAL && p[0] > 2) {
        *why = "json: bad literal";
        return TR_EMALFORMED;
    }
    v->tp = tp;
    v->p = p;
    v->len = (size_t)n;
    return 0;
}

static uint32_t jv_count(const jv_t *v)
{
    return tr_load_u32le(v->p);
}

/* Checks a container's header against its entries; returns the element count. */
static int container_check(const jv_t *v, uint32_t *count, const char **why)
{
    uint64_t n = jv_count(v);
    uint64_t per = v->tp == TJ_OBJECT ? TIDB_KEY_ENTRY + TIDB_VAL_ENTRY : TIDB_VAL_ENTRY;
    if (TIDB_HDR + n * per > v->len) {
        *why = "json: container entries exceed its size";
        return TR_EMALFORMED;
    }
    *count = (uint32_t)n;
    return 0;
}

/* Element i of a container (value entry i). */
static int jv_child(const jv_t *v, uint32_t count, uint32_t i, jv_t *out, const char **why)
{
    size_t entries = TIDB_HDR + (v->tp == TJ_OBJECT ? (size_t)count * TIDB_KEY_ENTRY : 0);
    const uint8_t *e = v->p + entries + (size_t)i * TIDB_VAL_ENTRY;
    uint8_t tp = e[0];
    if (tp == TJ_LITERAL) {
        return jv_make(tp, e + 1, 1, out, why);
    }
    uint32_t off = tr_load_u32le(e + 1);
    if (off >= v->len) {
        *why = "json: value offset out of range";
        return TR_EMALFORMED;
    }
    return jv_make(tp, v->p + off, v->len - off, out, why);
}

/* Key i of an object. */
static int jv_key(const jv_t *v, uint32_t i, tr_slice_t *key, const char **why)
{
    const uint8_t *e = v->p + TIDB_HDR + (size_t)i * TIDB_KEY_ENTRY;
    uint32_t off = tr_load_u32le(e);
    uint16_t klen = tr_load_u16le(e + 4);
    if ((uint64_t)off + klen > v->len) {
        *why = "json: key out of range";
        return TR_EMALFORMED;
    }
    *key = tr_slice(v->p + off, klen);
    return 0;
}

static uint16_t key_len_at(const jv_t *v, uint32_t i)
{
    return tr_load_u16le(v->p + TIDB_HDR + (size_t)i * TIDB_KEY_ENTRY + 4);
}

/* String value: uvarint length + bytes (length already validated by jv_make). */
static tr_slice_t jv_string(const jv_t *v)
{
    uint64_t n = 0;
    ssize_t k = tr_datum_uvarint(v->p, v->len, &n);
    return tr_slice(v->p + k, (size_t)n);
}

/* CoreTime fields (pkg/types/core_time.go). */
typedef struct {
    unsigned year, month, day, hour, minute, second, micro;
} core_time_t;

static core_time_t core_time(uint64_t t)
{
    core_time_t c;
    c.year = (unsigned)(t >> 50 & 0x3FFF);
    c.month = (unsigned)(t >> 46 & 0xF);
    c.day = (unsigned)(t >> 41 & 0x1F);
    c.hour = (unsigned)(t >> 36 & 0x1F);
    c.minute = (unsigned)(t >> 30 & 0x3F);
    c.second = (unsigned)(t >> 24 & 0x3F);
    c.micro = (unsigned)(t >> 4 & 0xFFFFF);
    return c;
}

static int check_time(const core_time_t *c, const char **why)
{
    if (c->year > 9999 || c->month > 12 || c->day > 31 || c->hour > 23 || c->minute > 59 ||
        c->second > 59 || c->micro > 999999) {
        *why = "json: time value out of range";
        return TR_EMALFORMED;
    }
    return 0;
}

/* ---------------------------------------------------------------- MySQL side */

static void put_var_len(tr_buf_t *out, uint64_t n)
{
    do {
        uint8_t b = (uint8_t)(n & 0x7F);
        n >>= 7;
        if (n != 0) {
            b |= 0x80;
        }
        tr_buf_put_u8(out, b);
    } while (n != 0);
}

/* int2store / int4store of an offset, size or inlined value at pos. */
static void write_off(tr_buf_t *out, size_t pos, uint64_t v, bool large)
{
    if (large) {
        tr_store_u32le(out->data + pos, (uint32_t)v);
    } else {
        tr_store_u16le(out->data + pos, (uint16_t)v);
    }
}

static bool fits_i16(int64_t v)
{
    return v >= INT16_MIN && v <= INT16_MAX;
}

static bool fits_i32(int64_t v)
{
    return v >= INT32_MIN && v <= INT32_MAX;
}

/*
 * attempt_inline_value for a literal (bits = its code) or a TJ_INT64 / TJ_UINT64 number
 * (bits = its 8 bytes): writes type + inlined value into the entry at pos, or returns false
 * when the value does not fit there.
 */
static bool inline_scalar(tr_buf_t *out, size_t pos, bool large, uint8_t tp, uint64_t bits)
{
    uint8_t type;
    if (tp == TJ_LITERAL) {
        type = MJ_LITERAL;
    } else if (tp == TJ_INT64) {
        int64_t i = (int64_t)bits;
        if (fits_i16(i)) {
            type = MJ_INT16;
        } else if (large && fits_i32(i)) {
            type = MJ_INT32;
        } else {
            return false;
        }
    } else if (tp == TJ_UINT64) {
        if (bits <= UINT16_MAX) {
            type = MJ_UINT16;
        } else if (large && bits <= UINT32_MAX) {
            type = MJ_UINT32;
        } else {
            return false;
        }
    } else {
        return false;
    }
    out->data[pos] = type;
    /* MySQL casts the int32 inlined value to size_t, then stores 2 or 4 bytes of it. */
    write_off(out, pos + 1, bits, large);
    return true;
}

/* The same for a TiDB value. */
static bool try_inline(tr_buf_t *out, const jv_t *v, size_t pos, bool large)
{
    if (v->tp == TJ_LITERAL) {
        return inline_scalar(out, pos, large, v->tp, v->p[0]);
    }
    if (v->tp == TJ_INT64 || v->tp == TJ_UINT64) {
        return inline_scalar(out, pos, large, v->tp, tr_load_u64le(v->p));
    }
    return false;
}

/*
 * serialize_json_value for a literal (bits = its code) or a TJ_INT64 / TJ_UINT64 /
 * TJ_DOUBLE number (bits = its 8 bytes): appends the value in the smallest MySQL type that
 * holds it and returns that type.
 */
static uint8_t put_scalar(tr_buf_t *out, uint8_t tp, uint64_t bits)
{
    switch (tp) {
    case TJ_LITERAL:
        tr_buf_put_u8(out, (uint8_t)bits);
        return MJ_LITERAL;
    case TJ_INT64: {
        int64_t i = (int64_t)bits;
        if (fits_i16(i)) {
            tr_buf_put_u16le(out, (uint16_t)i);
            return MJ_INT16;
        }
        if (fits_i32(i)) {
            tr_buf_put_u32le(out, (uint32_t)i);
            return MJ_INT32;
        }
        tr_buf_put_u64le(out, bits);
        return MJ_INT64;
    }
    case TJ_UINT64:
        if (bits <= UINT16_MAX) {
            tr_buf_put_u16le(out, (uint16_t)bits);
            return MJ_UINT16;
        }
        if (bits <= UINT32_MAX) {
            tr_buf_put_u32le(out, (uint32_t)bits);
            return MJ_UINT32;
        }
        tr_buf_put_u64le(out, bits);
        return MJ_UINT64;
    default: /* TJ_DOUBLE: float8store, the IEEE bits little-endian */
        tr_buf_put_u64le(out, bits);
        return MJ_DOUBLE;
    }
}

static int emit_value(tr_buf_t *out, const jv_t *v, size_t type_pos, bool small_parent, int depth,
                      const char **why);

/* Reserves n zero bytes; TR_ETOOBIG when the buffer limit is hit. */
static int zeros(tr_buf_t *out, size_t n)
{
    tr_buf_put_zeros(out, n);
    return tr_buf_ok(out) ? 0 : TR_ETOOBIG;
}

/*
 * Builds the MySQL key order of object v into the area [base, base + n * w)
 * of out: TiDB's (bytewise sorted) key indexes, stably regrouped by ascending
 * key length. w = 2 (small: n <= 65535) or 4.
 */
static int key_order(tr_buf_t *out, const jv_t *v, uint32_t n, size_t base, bool large,
                     const char **why)
{
    uint32_t k = 0;
    int64_t prev_len = -1;
    while (k < n) {
        uint32_t next_len = UINT32_MAX;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t l = key_len_at(v, i);
            if ((int64_t)l > prev_len && l < next_len) {
                next_len = l;
            }
        }
        tr_slice_t last = {NULL, 0};
        for (uint32_t i = 0; i < n; i++) {
            if (key_len_at(v, i) != next_len) {
                continue;
            }
            tr_slice_t key;
            int r = jv_key(v, i, &key, why);
            if (r != 0) {
                return r;
            }
            if (last.p != NULL && memcmp(last.p, key.p, key.len) >= 0) {
                *why = "json: object keys not in TiDB order";
                return TR_EMALFORMED;
            }
            last = key;
            write_off(out, base + (size_t)k * (large ? 4 : 2), i, large);
            k++;
        }
        prev_len = next_len;
    }
    return 0;
}

static uint32_t read_off(const tr_buf_t *out, size_t pos, bool large)
{
    return large ? tr_load_u32le(out->data + pos) : tr_load_u16le(out->data + pos);
}

/* serialize_json_object / serialize_json_array in one format. */
static int emit_container(tr_buf_t *out, const jv_t *v, bool large, int depth, const char **why)
{
    uint32_t n;
    int r = container_check(v, &n, why);
    if (r != 0) {
        return r;
    }
    bool is_obj = v->tp == TJ_OBJECT;
    size_t osz = large ? 4 : 2;
    size_t kes = 2 + osz;
    size_t ves = 1 + osz;
    if (!large && n > SMALL_MAX) {
        return EMIT_TOO_BIG;
    }
    size_t start = out->len;
    size_t keys_at = start + 2 * osz;
    size_t vals_at = keys_at + (is_obj ? (size_t)n * kes : 0);
    size_t end_entries = vals_at + (size_t)n * ves;
    if ((r = zeros(out, end_entries - start)) != 0) {
        return r;
    }
    write_off(out, start, n, large);
    size_t perm_at = end_entries - (size_t)n * (large ? 4 : 2);
    if (is_obj) {
        if ((r = key_order(out, v, n, perm_at, large, why)) != 0) {
            return r;
        }
        uint64_t key_off = end_entries - start;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t i = read_off(out, perm_at + (size_t)k * (large ? 4 : 2), large);
            uint16_t klen = key_len_at(v, i);
            if (!large && key_off > SMALL_MAX) {
                return EMIT_TOO_BIG;
            }
            if (key_off > UINT32_MAX) {
                *why = "json: document larger than 4 GiB";
                return TR_ETOOBIG;
            }
            write_off(out, keys_at + (size_t)k * kes, key_off, large);
            tr_store_u16le(out->data + keys_at + (size_t)k * kes + osz, klen);
            key_off += klen;
        }
        for (uint32_t k = 0; k < n; k++) {
            uint32_t i = read_off(out, perm_at + (size_t)k * (large ? 4 : 2), large);
            tr_slice_t key;
            if ((r = jv_key(v, i, &key, why)) != 0) {
                return r;
            }
            tr_buf_append(out, key.p, key.len);
        }
        if (!tr_buf_ok(out)) {
            return TR_ETOOBIG;
        }
    }
    for (uint32_t k = 0; k < n; k++) {
        size_t entry = vals_at + (size_t)k * ves;
        /* The permutation slot of k lies at or after entry k: read it before writing. */
        uint32_t i = is_obj ? read_off(out, perm_at + (size_t)k * (large ? 4 : 2), large) : k;
        jv_t child;
        if ((r = jv_child(v, n, i, &child, why)) != 0) {
            return r;
        }
        if (try_inline(out, &child, entry, large)) {
            continue;
        }
        if (is_obj) {
            memset(out->data + entry, 0, ves); /* clear the permutation bytes it held */
        }
        uint64_t off = out->len - start;
        if (!large && off > SMALL_MAX) {
            return EMIT_TOO_BIG;
        }
        if (off > UINT32_MAX) {
            *why = "json: document larger than 4 GiB";
            return TR_ETOOBIG;
        }
        write_off(out, entry + 1, off, large);
        if ((r = emit_value(out, &child, entry, !large, depth + 1, why)) != 0) {
            return r;
        }
    }
    uint64_t bytes = out->len - start;
    if (!large && bytes > SMALL_MAX) {
        return EMIT_TOO_BIG;
    }
    if (bytes > UINT32_MAX) {
        *why = "json: document larger than 4 GiB";
        return TR_ETOOBIG;
    }
    write_off(out, start + osz, bytes, large);
    return 0;
}

/* MySQL opaque: field type, variable length, bytes. */
static void put_opaque(tr_buf_t *out, uint8_t field_type, const uint8_t *p, size_t n)
{
    tr_buf_put_u8(out, field_type);
    put_var_len(out, n);
    tr_buf_append(out, p, n);
}

static int emit_time(tr_buf_t *out, const jv_t *v, const char **why)
{
    if (v->tp == TJ_DURATION) {
        int64_t ns = (int64_t)tr_load_u64le(v->p);
        bool neg = ns < 0;
        uint64_t mag = neg ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
        uint64_t us = mag / 1000;
        uint64_t secs = us / 1000000;
        if (secs / 3600 > 838) {
            *why = "json: duration out of range";
            return TR_EMALFORMED;
        }
        uint64_t hms = (secs / 3600) << 12 | (secs / 60 % 60) << 6 | (secs % 60);
        int64_t packed = (int64_t)((hms << 24) + us % 1000000);
        uint8_t b[8];
        tr_store_u64le(b, (uint64_t)(neg ? -packed : packed));
        put_opaque(out, MYT_TIME, b, 8);
        return 0;
    }
    core_time_t c = core_time(tr_load_u64le(v->p));
    int r = check_time(&c, why);
    if (r != 0) {
        return r;
    }
    uint64_t ymd = ((uint64_t)c.year * 13 + c.month) << 5 | c.day;
    uint64_t hms = (uint64_t)c.hour << 12 | (uint64_t)c.minute << 6 | c.second;
    uint64_t packed;
    uint8_t ft;
    if (v->tp == TJ_DATE) {
        packed = (ymd << 17) << 24;
        ft = MYT_DATE;
    } else {
        packed = ((ymd << 17 | hms) << 24) + c.micro;
        ft = v->tp == TJ_DATETIME ? MYT_DATETIME : MYT_TIMESTAMP;
    }
    uint8_t b[8];
    tr_store_u64le(b, packed);
    put_opaque(out, ft, b, 8);
    return 0;
}

/* serialize_json_value: appends v and sets the type byte at type_pos. */
static int emit_value(tr_buf_t *out, const jv_t *v, size_t type_pos, bool small_parent, int depth,
                      const char **why)
{
    if (depth > TR_JSON_MAX_DEPTH) {
        *why = "json: nested too deeply";
        return TR_EMALFORMED;
    }
    size_t start = out->len;
    uint8_t type;
    switch (v->tp) {
    case TJ_OBJECT:
    case TJ_ARRAY: {
        bool is_obj = v->tp == TJ_OBJECT;
        out->data[type_pos] = is_obj ? MJ_SMALL_OBJECT : MJ_SMALL_ARRAY;
        int r = emit_container(out, v, false, depth, why);
        if (r == EMIT_TOO_BIG) {
            if (small_parent) {
                return EMIT_TOO_BIG;
            }
            out->len = start;
            out->data[type_pos] = is_obj ? MJ_LARGE_OBJECT : MJ_LARGE_ARRAY;
            r = emit_container(out, v, true, depth, why);
            if (r == EMIT_TOO_BIG) {
                *why = "json: document too large";
                return TR_ETOOBIG;
            }
        }
        return r;
    }
    case TJ_LITERAL:
        type = put_scalar(out, v->tp, v->p[0]);
        break;
    case TJ_INT64:
    case TJ_UINT64:
    case TJ_DOUBLE:
        type = put_scalar(out, v->tp, tr_load_u64le(v->p));
        break;
    case TJ_STRING: {
        tr_slice_t s = jv_string(v);
        if (s.len > UINT32_MAX) {
            *why = "json: string longer than 4 GiB";
            return TR_ETOOBIG;
        }
        put_var_len(out, s.len);
        tr_buf_append(out, s.p, s.len);
        type = MJ_STRING;
        break;
    }
    case TJ_OPAQUE: {
        uint64_t n = 0;
        ssize_t k = tr_datum_uvarint(v->p + 1, v->len - 1, &n);
        put_opaque(out, v->p[0], v->p + 1 + k, (size_t)n);
        type = MJ_OPAQUE;
        break;
    }
    case TJ_DATE:
    case TJ_DATETIME:
    case TJ_TIMESTAMP:
    case TJ_DURATION: {
        int r = emit_time(out, v, why);
        if (r != 0) {
            return r;
        }
        type = MJ_OPAQUE;
        break;
    }
    default:
        *why = "json: unknown value type";
        return TR_EMALFORMED;
    }
    if (!tr_buf_ok(out)) {
        return TR_ETOOBIG;
    }
    out->data[type_pos] = type;
    return 0;
}

static int top_value(const uint8_t *tidb, size_t len, jv_t *v, const char **why)
{
    if (len < 2) {
        *why = "json: empty value";
        return TR_EMALFORMED;
    }
    int r = jv_make(tidb[0], tidb + 1, len - 1, v, why);
    if (r == 0 && v->len != len - 1) {
        *why = "json: trailing bytes after the value";
        return TR_EMALFORMED;
    }
    return r;
}

int tr_json_to_mysql(tr_buf_t *out, const uint8_t *tidb, size_t len, const char **why)
{
    *why = NULL;
    jv_t v;
    int r = top_value(tidb, len, &v, why);
    if (r != 0) {
        return r;
    }
    size_t type_pos = out->len;
    tr_buf_put_u8(out, 0);
    if (!tr_buf_ok(out)) {
        return TR_ETOOBIG;
    }
    r = emit_value(out, &v, type_pos, false, 1, why);
    if (r == TR_ETOOBIG && *why == NULL) {
        *why = "json: output buffer limit";
    }
    return r;
}

/* ---------------------------------------------------------------- text */

size_t tr_json_format_double(double v, char *out, size_t cap)
{
    if (v == 0) {
        return (size_t)snprintf(out, cap, "%s", signbit(v) ? "-0" : "0");
    }
    /* Shortest digits that read back as v (the closest such string: %.*e rounds correctly). */
    char e[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec - 1, v);
        if (strtod(e, NULL) == v) {
            break;
        }
    }
    /* e = [-]d[.ddd]e(+|-)xx */
    const char *p = e;
    bool neg = *p == '-';
    if (neg) {
        p++;
    }
    char digits[24] = {0}; /* always filled (%e prints a digit); gcc -O2 cannot tell */
    size_t nd = 0;
    for (; *p != 'e'; p++) {
        if (*p != '.') {
            digits[nd++] = *p;
        }
    }
    int exp10 = atoi(p + 1);
    double a = fabs(v);
    size_t n = 0;
    if (neg) {
        out[n++] = '-';
    }
    if (a < 1e-6 || a >= 1e21) {
        out[n++] = digits[0];
        if (nd > 1) {
            out[n++] = '.';
            memcpy(out + n, digits + 1, nd - 1);
            n += nd - 1;
        }
        /* Go: at least two exponent digits, then TiDB turns e-0X into e-X. */
        n += (size_t)snprintf(out + n, cap - n, "e%c%d", exp10 < 0 ? '-' : '+', abs(exp10));
        return n;
    }
    if (exp10 >= 0) {
        for (int i = 0; i <= exp10; i++) {
            out[n++] = (size_t)i < nd ? digits[i] : '0';
        }
        if ((size_t)exp10 + 1 < nd) {
            out[n++] = '.';
            memcpy(out + n, digits + exp10 + 1, nd - (size_t)exp10 - 1);
            n += nd - (size_t)exp10 - 1;
        }
    } else {
        out[n++] = '0';
        out[n++] = '.';
        for (int i = 0; i < -exp10 - 1; i++) {
            out[n++] = '0';
        }
        memcpy(out + n, digits, nd);
        n += nd;
    }
    out[n] = '\0';
    return n;
}

static void text_string(tr_buf_t *out, const uint8_t *s, size_t n)
{
    tr_buf_put_u8(out, '"');
    size_t start = 0;
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        if (b < 0x80) {
            if (b >= 0x20 && b != '"' && b != '\\') {
                i++;
                continue;
            }
            tr_buf_append(out, s + start, i - start);
            char esc[6] = {'\\', (char)b, 0, 0, 0, 0};
            size_t el = 2;
            if (b == '\n') {
                esc[1] = 'n';
            } else if (b == '\r') {
                esc[1] = 'r';
            } else if (b == '\t') {
                esc[1] = 't';
            } else if (b < 0x20) {
                memcpy(esc, "\\u00", 4);
                esc[4] = tr_hex_char(b >> 4);
                esc[5] = tr_hex_char(b);
                el = 6;
            }
            tr_buf_append(out, esc, el);
            start = ++i;
            continue;
        }
        uint32_t cp = 0;
        size_t k = tr_utf8_decode(s + i, n - i, &cp);
        if (k == 0 || cp == 0x2028 || cp == 0x2029) {
            tr_buf_append(out, s + start, i - start);
            if (k == 0) {
                tr_buf_append(out, "\\ufffd", 6);
                k = 1;
            } else {
                tr_buf_append(out, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
            }
            i += k;
            start = i;
            continue;
        }
        i += k;
    }
    tr_buf_append(out, s + start, n - start);
    tr_buf_put_u8(out, '"');
}

static int text_value(tr_buf_t *out, const jv_t *v, int depth, const char **why)
{
    if (depth > TR_JSON_MAX_DEPTH) {
        *why = "json: nested too deeply";
        return TR_EMALFORMED;
    }
    switch (v->tp) {
    case TJ_OBJECT:
    case TJ_ARRAY: {
        uint32_t n;
        int r = container_check(v, &n, why);
        if (r != 0) {
            return r;
        }
        bool is_obj = v->tp == TJ_OBJECT;
        tr_buf_put_u8(out, is_obj ? '{' : '[');
        for (uint32_t i = 0; i < n; i++) {
            if (i > 0) {
                tr_buf_append(out, ", ", 2);
            }
            if (is_obj) {
                tr_slice_t key;
                if ((r = jv_key(v, i, &key, why)) != 0) {
                    return r;
                }
                text_string(out, key.p, key.len);
                tr_buf_append(out, ": ", 2);
            }
            jv_t child;
            if ((r = jv_child(v, n, i, &child, why)) != 0) {
                return r;
            }
            if ((r = text_value(out, &child, depth + 1, why)) != 0) {
                return r;
            }
        }
        tr_buf_put_u8(out, is_obj ? '}' : ']');
        break;
    }
    case TJ_LITERAL:
        tr_buf_printf(out, "%s", v->p[0] == 1 ? "true" : v->p[0] == 2 ? "false" : "null");
        break;
    case TJ_INT64:
        tr_buf_printf(out, "%lld", (long long)(int64_t)tr_load_u64le(v->p));
        break;
    case TJ_UINT64:
        tr_buf_printf(out, "%llu", (unsigned long long)tr_load_u64le(v->p));
        break;
    case TJ_DOUBLE: {
        uint64_t bits = tr_load_u64le(v->p);
        double d;
        memcpy(&d, &bits, sizeof(d));
        if (!isfinite(d)) {
            *why = "json: NaN or infinite double";
            return TR_EMALFORMED;
        }
        char buf[40];
        size_t n = tr_json_format_double(d, buf, sizeof(buf));
        tr_buf_append(out, buf, n);
        break;
    }
    case TJ_STRING: {
        tr_slice_t s = jv_string(v);
        text_string(out, s.p, s.len);
        break;
    }
    case TJ_OPAQUE: {
        uint64_t n = 0;
        ssize_t k = tr_datum_uvarint(v->p + 1, v->len - 1, &n);
        tr_buf_printf(out, "\"base64:type%u:", (unsigned)v->p[0]);
        tr_base64_encode(v->p + 1 + k, (size_t)n, out);
        tr_buf_put_u8(out, '"');
        break;
    }
    case TJ_DATE:
    case TJ_DATETIME:
    case TJ_TIMESTAMP: {
        core_time_t c = core_time(tr_load_u64le(v->p));
        int r = check_time(&c, why);
        if (r != 0) {
            return r;
        }
        if (v->tp == TJ_DATE) {
            tr_buf_printf(out, "\"%04u-%02u-%02u\"", c.year, c.month, c.day);
        } else {
            tr_buf_printf(out, "\"%04u-%02u-%02u %02u:%02u:%02u.%06u\"", c.year, c.month, c.day,
                          c.hour, c.minute, c.second, c.micro);
        }
        break;
    }
    case TJ_DURATION: {
        int64_t ns = (int64_t)tr_load_u64le(v->p);
        bool neg = ns < 0;
        uint64_t mag = neg ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
        uint64_t us = mag / 1000;
        uint64_t secs = us / 1000000;
        tr_buf_printf(out, "\"%s%02llu:%02llu:%02llu.%06llu\"", neg ? "-" : "",
                      (unsigned long long)(secs / 3600), (unsigned long long)(secs / 60 % 60),
                      (unsigned long long)(secs % 60), (unsigned long long)(us % 1000000));
        break;
    }
    default:
        *why = "json: unknown value type";
        return TR_EMALFORMED;
    }
    return tr_buf_ok(out) ? 0 : TR_ETOOBIG;
}

int tr_json_to_text(tr_buf_t *out, const uint8_t *tidb, size_t len, const char **why)
{
    *why = NULL;
    jv_t v;
    int r = top_value(tidb, len, &v, why);
    if (r != 0) {
        return r;
    }
    r = text_value(out, &v, 1, why);
    if (r == TR_ETOOBIG && *why == NULL) {
        *why = "json: output buffer limit";
    }
    return r;
}

/* ---------------------------------------------------------------- JSON text -> MySQL */

/*
 * JSON text is converted without building a tree of values, in two passes over the text:
 *  1. check_value reads the whole document once as Go's encoding/json reads it (RFC 8259:
 *     no leading zeros, no '+', no trailing commas, whitespace = space, tab, LF, CR) and
 *     checks everything that makes text unacceptable: grammar, raw control characters and
 *     invalid UTF-8 in strings, escapes (a \u surrogate must be a high-low pair), object
 *     keys longer than 65535 bytes, nesting. Numbers out of double range are found in 2.
 *     It also appends to out a table of the containers, in text order, 12 bytes each:
 *     the offsets of '{' or '[' and past the closing bracket (u32 each), and the member
 *     count shifted left by one (u32, bit 0: found too big for the small format).
 *  2. jt_value writes the MySQL document from the checked text, after the table. A
 *     container finds its entry by binary search, reserves its header and entries, then
 *     writes its values in order, retrying in the large format as emit_value does (the
 *     same checks on the same offsets, so both input forms choose the same formats). The
 *     table lets the writer step over a nested container at once, so each level does not
 *     scan its content again, and a container whose small attempt failed is marked there
 *     and goes straight to the large format when an enclosing container retries: the time
 *     stays linear in the text whatever the nesting. At the end the document is moved down
 *     over the table (offsets are relative to their container, so nothing in it changes).
 * An object needs its members in MySQL's key order (length, then bytes) with duplicated
 * keys reduced to their last occurrence (TiDB decodes the text into a Go map; MySQL keeps
 * the last duplicate too since 8.0.3, refman "The JSON Data Type"). The writer appends an
 * index of the members (16 bytes each: key offset in the text u32, decoded key length u16,
 * has-escapes u8, pad, the first 8 decoded key bytes as a big-endian u64 so that most
 * comparisons need not read the text) to out where the object would start, sorts and
 * reduces it in place, writes the object after it and moves the object down over it. out
 * is therefore the only memory used: while the call runs it also holds the container table,
 * 16 bytes per member of every object being written (the objects enclosing the one being
 * written included), and a copy of any number longer than 63 characters for strtod.
 *
 * Numbers are typed as TiDB's appendBinaryNumber / parseBinaryNumber types a json.Number:
 * a token with '.', 'e' or 'E' is strconv.ParseFloat's double; otherwise ParseInt
 * (int64), else ParseUint (uint64), else ParseFloat. "-0" is therefore int64 0, and
 * "-0.0" the double -0. ParseFloat's only error on a valid token is overflow, which
 * TiDB refuses ("1e400"); underflow gives 0 or a subnormal. glibc's strtod rounds as
 * ParseFloat does (correctly) and reads JSON's '.' as long as LC_NUMERIC is "C", which
 * tirelay never changes.
 */
typedef struct {
    const uint8_t *t; /* the text */
    size_t len;       /* at most UINT32_MAX (table and index entries hold u32 offsets) */
    const char **why;
    tr_buf_t *out;   /* the output, which also holds the container table */
    size_t table_at; /* the table's first entry in out */
    size_t ntable;   /* its entries, once pass 1 is done */
} jtext_t;

#define TEXT_TABLE_ENTRY  12 /* start u32, end u32, member count << 1 | too big for small u32 */
#define TEXT_INDEX_ENTRY  16 /* key offset u32, key length u16, escaped u8, pad u8, prefix u64 */
#define TEXT_SHORT_NUMBER 64 /* number tokens shorter than this are copied on the stack */

static int jt_bad(const jtext_t *x, const char *what)
{
    *x->why = what;
    return TR_EMALFORMED;
}

static bool jt_is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* The first offset at or after p that is not JSON whitespace. */
static size_t jt_ws(const jtext_t *x, size_t p)
{
    while (p < x->len) {
        uint8_t c = x->t[p];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            break;
        }
        p++;
    }
    return p;
}

/*
 * The \u escape at t[p] ('\\', 'u'): its code point in *cp and its length (6, or 12 for a
 * surrogate pair); 0 when the hex digits are bad or a surrogate is not part of a pair.
 */
static size_t jt_u_escape(const jtext_t *x, size_t p, uint32_t *cp)
{
    long hi = x->len - p >= 6 ? tr_hex4(x->t + p + 2) : -1;
    if (hi < 0 || (hi >= 0xDC00 && hi <= 0xDFFF)) {
        return 0;
    }
    if (hi < 0xD800 || hi > 0xDBFF) {
        *cp = (uint32_t)hi;
        return 6;
    }
    long lo = x->len - p >= 12 && x->t[p + 6] == '\\' && x->t[p + 7] == 'u'
                  ? tr_hex4(x->t + p + 8)
                  : -1;
    if (lo < 0xDC00 || lo > 0xDFFF) {
        return 0;
    }
    *cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
    return 12;
}

/* ---- pass 1: checking */

/*
 * Checks the string at t[p] ('"'). Sets *end past its closing quote, *dlen to its length
 * once decoded and *escaped when it holds an escape.
 */
static int check_string(const jtext_t *x, size_t p, size_t *end, size_t *dlen, bool *escaped)
{
    size_t i = p + 1;
    size_t n = 0;
    bool esc = false;
    for (;;) {
        if (i >= x->len) {
            return jt_bad(x, "json: unterminated string");
        }
        uint8_t b = x->t[i];
        if (b == '"') {
            break;
        }
        if (b < 0x20) {
            return jt_bad(x, "json: control character in a string");
        }
        if (b == '\\') {
            if (i + 1 >= x->len) {
                return jt_bad(x, "json: unterminated string");
            }
            esc = true;
            switch (x->t[i + 1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                n++;
                i += 2;
                continue;
            case 'u': {
                uint32_t cp;
                uint8_t u8[4];
                size_t k = jt_u_escape(x, i, &cp);
                if (k == 0) {
                    return jt_bad(x, "json: bad \\u escape or lone surrogate");
                }
                n += tr_utf8_encode(u8, cp);
                i += k;
                continue;
            }
            default:
                return jt_bad(x, "json: bad escape in a string");
            }
        }
        if (b < 0x80) {
            n++;
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = tr_utf8_decode(x->t + i, x->len - i, &cp);
        if (k == 0) {
            return jt_bad(x, "json: invalid UTF-8 in a string");
        }
        n += k;
        i += k;
    }
    *end = i + 1;
    *dlen = n;
    *escaped = esc;
    return 0;
}

/* Checks the number token at t[p] ('-' or a digit); *end is the offset past it. */
static int check_number(const jtext_t *x, size_t p, size_t *end)
{
    size_t i = p;
    if (x->t[i] == '-') {
        i++;
    }
    if (i < x->len && x->t[i] == '0') {
        i++; /* a digit after it is refused by the caller: "01" is not JSON */
    } else if (i < x->len && jt_is_digit(x->t[i])) {
        while (i < x->len && jt_is_digit(x->t[i])) {
            i++;
        }
    } else {
        return jt_bad(x, "json: bad number");
    }
    if (i < x->len && x->t[i] == '.') {
        i++;
        if (i >= x->len || !jt_is_digit(x->t[i])) {
            return jt_bad(x, "json: bad number");
        }
        while (i < x->len && jt_is_digit(x->t[i])) {
            i++;
        }
    }
    if (i < x->len && (x->t[i] == 'e' || x->t[i] == 'E')) {
        i++;
        if (i < x->len && (x->t[i] == '+' || x->t[i] == '-')) {
            i++;
        }
        if (i >= x->len || !jt_is_digit(x->t[i])) {
            return jt_bad(x, "json: bad number");
        }
        while (i < x->len && jt_is_digit(x->t[i])) {
            i++;
        }
    }
    *end = i;
    return 0;
}

/* Completes the table entry at slot of a container: its end and member count. */
static int table_close(const jtext_t *x, size_t slot, size_t end, uint32_t n)
{
    tr_store_u32le(x->out->data + slot + 4, (uint32_t)end);
    tr_store_u32le(x->out->data + slot + 8, n << 1);
    return 0;
}

/*
 * Checks the value at t[p] (whitespace skipped) at nesting level depth (the document is
 * level 1, each container adds one, as emit_value counts); *end is the offset past it.
 * Appends the table entries of the containers (see above).
 */
static int check_value(const jtext_t *x, size_t p, int depth, size_t *end)
{
    if (depth > TR_JSON_MAX_DEPTH) {
        return jt_bad(x, "json: nested too deeply");
    }
    if (p >= x->len) {
        return jt_bad(x, "json: unexpected end of text");
    }
    uint8_t c = x->t[p];
    size_t dlen;
    bool esc;
    if (c == '{' || c == '[') {
        bool is_obj = c == '{';
        uint8_t close = is_obj ? '}' : ']';
        size_t slot = x->out->len;
        uint8_t *e = tr_buf_extend(x->out, TEXT_TABLE_ENTRY);
        if (e == NULL) {
            return TR_ETOOBIG;
        }
        tr_store_u32le(e, (uint32_t)p);
        uint32_t n = 0;
        p = jt_ws(x, p + 1);
        if (p < x->len && x->t[p] == close) {
            *end = p + 1;
            return table_close(x, slot, *end, n);
        }
        for (;;) {
            int r;
            if (is_obj) {
                if (p >= x->len || x->t[p] != '"') {
                    return jt_bad(x, "json: expected a string key");
                }
                if ((r = check_string(x, p, &p, &dlen, &esc)) != 0) {
                    return r;
                }
                if (dlen > UINT16_MAX) {
                    return jt_bad(x, "json: object key longer than 65535 bytes");
                }
                p = jt_ws(x, p);
                if (p >= x->len || x->t[p] != ':') {
                    return jt_bad(x, "json: expected ':'");
                }
                p = jt_ws(x, p + 1);
            }
            if ((r = check_value(x, p, depth + 1, &p)) != 0) {
                return r;
            }
            n++; /* < 2^31: each member takes at least two bytes of the text */
            p = jt_ws(x, p);
            if (p < x->len && x->t[p] == ',') {
                p = jt_ws(x, p + 1);
                continue;
            }
            if (p < x->len && x->t[p] == close) {
                *end = p + 1;
                return table_close(x, slot, *end, n);
            }
            return jt_bad(x, is_obj ? "json: expected ',' or '}'" : "json: expected ',' or ']'");
        }
    }
    if (c == '"') {
        return check_string(x, p, end, &dlen, &esc);
    }
    if (c == '-' || jt_is_digit(c)) {
        return check_number(x, p, end);
    }
    static const char *const words[] = {"null", "true", "false"};
    for (size_t i = 0; i < TR_ARRAY_LEN(words); i++) {
        size_t n = strlen(words[i]);
        if (x->len - p >= n && memcmp(x->t + p, words[i], n) == 0) {
            *end = p + n;
            return 0;
        }
    }
    return jt_bad(x, "json: unexpected character");
}

/* ---- pass 2: writing (the text is checked: these only skip and decode) */

/* The offset past the string at t[p] ('"'). */
static size_t skip_string(const jtext_t *x, size_t p)
{
    p++;
    while (p < x->len && x->t[p] != '"') {
        p += x->t[p] == '\\' ? 2 : 1;
    }
    return p + 1;
}

/* The table entry of the container at t[p] (a view into out: valid until out grows). */
static uint8_t *table_entry(const jtext_t *x, size_t p)
{
    uint8_t *table = x->out->data + x->table_at;
    size_t lo = 0;
    size_t hi = x->ntable; /* the entry is in [lo, hi): pass 1 made one for every container */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tr_load_u32le(table + mid * TEXT_TABLE_ENTRY) <= p) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return table + lo * TEXT_TABLE_ENTRY;
}

/* The offset past the value at t[p]. */
static size_t skip_value(const jtext_t *x, size_t p)
{
    uint8_t c = x->t[p];
    if (c == '"') {
        return skip_string(x, p);
    }
    if (c == '{' || c == '[') {
        return tr_load_u32le(table_entry(x, p) + 4);
    }
    /* a number or a literal: letters, digits, '-', '+', '.' */
    while (p < x->len &&
           (jt_is_digit(x->t[p]) || ((x->t[p] | 0x20) >= 'a' && (x->t[p] | 0x20) <= 'z') ||
            x->t[p] == '-' || x->t[p] == '+' || x->t[p] == '.')) {
        p++;
    }
    return p;
}

/*
 * Members of the container at t[p] ('{' or '['): member_first gives the offset of the first
 * (its key in an object, its value in an array) or 0 when there is none, member_next the one
 * after member m or 0; member_value the value of the object member whose key is at m.
 */
static size_t member_first(const jtext_t *x, size_t p)
{
    p = jt_ws(x, p + 1);
    return p < x->len && x->t[p] != '}' && x->t[p] != ']' ? p : 0;
}

static size_t member_value(const jtext_t *x, size_t m)
{
    size_t p = jt_ws(x, skip_string(x, m)); /* at ':' */
    return jt_ws(x, p + 1);
}

static size_t member_next(const jtext_t *x, size_t m, bool is_obj)
{
    size_t p = jt_ws(x, skip_value(x, is_obj ? member_value(x, m) : m));
    return p < x->len && x->t[p] == ',' ? jt_ws(x, p + 1) : 0;
}

/* The character of a string at t[*p] (not its closing quote) as UTF-8 into b: its length. */
static size_t string_char(const jtext_t *x, size_t *p, uint8_t b[4])
{
    size_t i = *p;
    if (x->t[i] != '\\') {
        b[0] = x->t[i];
        *p = i + 1;
        return 1;
    }
    uint8_t c = x->t[i + 1];
    *p = i + 2;
    switch (c) {
    case 'b':
        b[0] = '\b';
        break;
    case 'f':
        b[0] = '\f';
        break;
    case 'n':
        b[0] = '\n';
        break;
    case 'r':
        b[0] = '\r';
        break;
    case 't':
        b[0] = '\t';
        break;
    case 'u': {
        uint32_t cp = 0;
        *p = i + jt_u_escape(x, i, &cp);
        return tr_utf8_encode(b, cp);
    }
    default: /* '"', '\\', '/' */
        b[0] = c;
        break;
    }
    return 1;
}

/* Decoded length of the string at t[p] ('"'). */
static size_t string_len(const jtext_t *x, size_t p)
{
    size_t n = 0;
    size_t i = p + 1;
    while (i < x->len && x->t[i] != '"') {
        uint8_t b[4];
        n += string_char(x, &i, b);
    }
    return n;
}

/* Appends the decoded bytes of the string at t[p] ('"'): runs without escapes as they are. */
static void put_string_text(const jtext_t *x, tr_buf_t *out, size_t p)
{
    size_t i = p + 1;
    size_t run = i;
    while (i < x->len && x->t[i] != '"') {
        if (x->t[i] != '\\') {
            i++;
            continue;
        }
        tr_buf_append(out, x->t + run, i - run);
        uint8_t b[4];
        size_t n = string_char(x, &i, b);
        tr_buf_append(out, b, n);
        run = i;
    }
    tr_buf_append(out, x->t + run, i - run);
}

/* A literal or a number read from the text: a TJ_* code and put_scalar's bits. */
typedef struct {
    uint8_t tp;
    uint64_t bits;
} jt_scalar_t;

/*
 * The literal or number at t[p] (see the typing rules above). A number token of
 * TEXT_SHORT_NUMBER characters or more is copied to the end of out for strtod and
 * removed again.
 */
static int jt_scalar(const jtext_t *x, tr_buf_t *out, size_t p, jt_scalar_t *s)
{
    uint8_t c = x->t[p];
    if (c == 'n' || c == 't' || c == 'f') {
        s->tp = TJ_LITERAL;
        s->bits = c == 'n' ? 0 : c == 't' ? 1 : 2;
        return 0;
    }
    size_t end = skip_value(x, p);
    bool neg = c == '-';
    size_t digits_at = p + (neg ? 1 : 0);
    bool is_int = true;
    for (size_t i = digits_at; i < end && is_int; i++) {
        is_int = jt_is_digit(x->t[i]);
    }
    if (is_int) {
        uint64_t mag = 0;
        bool fits = true;
        for (size_t i = digits_at; i < end && fits; i++) {
            unsigned d = (unsigned)(x->t[i] - '0');
            fits = mag <= (UINT64_MAX - d) / 10;
            mag = mag * 10 + d;
        }
        /* ParseInt: [-2^63, 2^63 - 1]; then ParseUint: [0, 2^64 - 1]; then ParseFloat. */
        if (fits && !neg) {
            s->tp = mag <= INT64_MAX ? TJ_INT64 : TJ_UINT64;
            s->bits = mag;
            return 0;
        }
        if (fits && mag <= (uint64_t)INT64_MAX + 1) {
            s->tp = TJ_INT64;
            s->bits = (uint64_t)0 - mag; /* the two's complement of -mag */
            return 0;
        }
    }
    size_t n = end - p;
    char short_copy[TEXT_SHORT_NUMBER];
    char *z = short_copy;
    size_t mark = out->len;
    if (n >= sizeof(short_copy)) {
        z = (char *)tr_buf_extend(out, n + 1);
        if (z == NULL) {
            return TR_ETOOBIG;
        }
    }
    memcpy(z, x->t + p, n);
    z[n] = '\0';
    double d = strtod(z, NULL);
    out->len = mark;
    if (!isfinite(d)) {
        return jt_bad(x, "json: number out of double range");
    }
    s->tp = TJ_DOUBLE;
    memcpy(&s->bits, &d, sizeof(d));
    return 0;
}

/* ---- object index */

static const uint8_t *index_entry(const tr_buf_t *out, size_t at, size_t i)
{
    return out->data + at + i * TEXT_INDEX_ENTRY;
}

/* Reads the decoded key of an index entry byte by byte. */
typedef struct {
    size_t p;     /* next text offset to decode */
    uint8_t b[4]; /* the character being read */
    uint8_t n;    /* its length */
    uint8_t i;    /* bytes of it already returned */
} key_reader_t;

static uint8_t key_byte(const jtext_t *x, key_reader_t *k)
{
    if (k->i == k->n) {
        k->n = (uint8_t)string_char(x, &k->p, k->b);
        k->i = 0;
    }
    return k->b[k->i++];
}

/*
 * MySQL's key order (Json_key_comparator: length, then bytes) of two index entries: the
 * lengths, then the prefixes (equal lengths pad both alike), then the bytes after them.
 */
static int key_cmp(const jtext_t *x, const uint8_t *a, const uint8_t *b)
{
    uint16_t la = tr_load_u16le(a + 4);
    uint16_t lb = tr_load_u16le(b + 4);
    if (la != lb) {
        return la < lb ? -1 : 1;
    }
    uint64_t xa = tr_load_u64le(a + 8);
    uint64_t xb = tr_load_u64le(b + 8);
    if (xa != xb || la <= 8) {
        return xa < xb ? -1 : xa > xb ? 1 : 0;
    }
    uint32_t pa = tr_load_u32le(a) + 1;
    uint32_t pb = tr_load_u32le(b) + 1;
    if (a[6] == 0 && b[6] == 0) {
        return memcmp(x->t + pa + 8, x->t + pb + 8, la - 8u);
    }
    key_reader_t ka = {pa, {0}, 0, 0};
    key_reader_t kb = {pb, {0}, 0, 0};
    for (uint16_t i = 0; i < la; i++) {
        uint8_t ca = key_byte(x, &ka);
        uint8_t cb = key_byte(x, &kb);
        if (ca != cb) {
            return ca < cb ? -1 : 1;
        }
    }
    return 0;
}

/* Sorting order of the index: the key, then the position in the text (unique). */
static bool index_less(const jtext_t *x, const uint8_t *a, const uint8_t *b)
{
    int c = key_cmp(x, a, b);
    return c != 0 ? c < 0 : tr_load_u32le(a) < tr_load_u32le(b);
}

static void index_swap(uint8_t *a, uint8_t *b)
{
    uint8_t t[TEXT_INDEX_ENTRY];
    memcpy(t, a, sizeof(t));
    memcpy(a, b, sizeof(t));
    memcpy(b, t, sizeof(t));
}

static void index_sift(const jtext_t *x, uint8_t *e, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n) {
            return;
        }
        if (child + 1 < n &&
            index_less(x, e + child * TEXT_INDEX_ENTRY, e + (child + 1) * TEXT_INDEX_ENTRY)) {
            child++;
        }
        if (!index_less(x, e + root * TEXT_INDEX_ENTRY, e + child * TEXT_INDEX_ENTRY)) {
            return;
        }
        index_swap(e + root * TEXT_INDEX_ENTRY, e + child * TEXT_INDEX_ENTRY);
        root = child;
    }
}

static void index_heapsort(const jtext_t *x, uint8_t *e, size_t n)
{
    for (size_t i = n / 2; i-- > 0;) {
        index_sift(x, e, i, n);
    }
    for (size_t end = n - 1; end > 0; end--) {
        index_swap(e, e + end * TEXT_INDEX_ENTRY);
        index_sift(x, e, 0, end);
    }
}

/*
 * Sorts n entries at e by index_less (a strict order: no two entries are equal), in place:
 * quicksort on the median of three, the smaller side first so that the recursion stays
 * under log2 n deep; insertion sort below 17 entries; heapsort for a part that is still
 * being split after budget levels, so the worst case stays n log n.
 */
static void index_sort(const jtext_t *x, uint8_t *e, size_t n, int budget)
{
    const size_t w = TEXT_INDEX_ENTRY;
    while (n > 16) {
        if (budget-- == 0) {
            index_heapsort(x, e, n);
            return;
        }
        uint8_t *a = e;
        uint8_t *b = e + n / 2 * w;
        uint8_t *c = e + (n - 1) * w;
        if (index_less(x, b, a)) {
            index_swap(a, b);
        }
        if (index_less(x, c, b)) {
            index_swap(b, c);
            if (index_less(x, b, a)) {
                index_swap(a, b);
            }
        }
        /* Hoare's partition: e[0] < pivot < e[n - 1] keep both scans in range, and the
         * parts [0, j] and [j + 1, n) are both non-empty. */
        uint8_t pivot[TEXT_INDEX_ENTRY];
        memcpy(pivot, b, w);
        size_t i = 0;
        size_t j = n - 1;
        for (;;) {
            while (index_less(x, e + i * w, pivot)) {
                i++;
            }
            while (index_less(x, pivot, e + j * w)) {
                j--;
            }
            if (i >= j) {
                break;
            }
            index_swap(e + i * w, e + j * w);
            i++;
            j--;
        }
        size_t left = j + 1;
        if (left < n - left) {
            index_sort(x, e, left, budget);
            e += left * w;
            n -= left;
        } else {
            index_sort(x, e + left * w, n - left, budget);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && index_less(x, e + j * w, e + (j - 1) * w); j--) {
            index_swap(e + j * w, e + (j - 1) * w);
        }
    }
}

/*
 * Appends the index of the object at t[p] to out, in MySQL's key order with each duplicated
 * key reduced to its last occurrence; *count is the number of entries left.
 */
static int object_index(const jtext_t *x, tr_buf_t *out, size_t p, uint32_t *count)
{
    size_t at = out->len;
    size_t n = 0;
    for (size_t m = member_first(x, p); m != 0; m = member_next(x, m, true)) {
        uint8_t *e = tr_buf_extend(out, TEXT_INDEX_ENTRY);
        if (e == NULL) {
            return TR_ETOOBIG;
        }
        size_t end = skip_string(x, m);
        size_t klen = string_len(x, m); /* checked: <= 65535 */
        tr_store_u32le(e, (uint32_t)m);
        tr_store_u16le(e + 4, (uint16_t)klen);
        e[6] = memchr(x->t + m + 1, '\\', end - m - 2) != NULL;
        e[7] = 0;
        key_reader_t k = {m + 1, {0}, 0, 0};
        uint64_t prefix = 0;
        for (size_t i = 0; i < 8; i++) {
            prefix = prefix << 8 | (i < klen ? key_byte(x, &k) : 0);
        }
        tr_store_u64le(e + 8, prefix);
        n++;
    }
    uint8_t *e = out->data + at;
    int budget = 0;
    for (size_t k = n; k > 1; k >>= 1) {
        budget += 2;
    }
    index_sort(x, e, n, budget);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n &&
            key_cmp(x, e + i * TEXT_INDEX_ENTRY, e + (i + 1) * TEXT_INDEX_ENTRY) == 0) {
            continue; /* a later occurrence follows: it wins */
        }
        if (kept != i) {
            memcpy(e + kept * TEXT_INDEX_ENTRY, e + i * TEXT_INDEX_ENTRY, TEXT_INDEX_ENTRY);
        }
        kept++;
    }
    out->len = at + kept * TEXT_INDEX_ENTRY;
    *count = (uint32_t)kept; /* < 2^31: each member takes at least two bytes of the text */
    return 0;
}

/* ---- the writer */

static int jt_value(const jtext_t *x, tr_buf_t *out, size_t p, size_t type_pos, bool small_parent);

static int jt_offset(const jtext_t *x, uint64_t off, bool large)
{
    if (!large && off > SMALL_MAX) {
        return EMIT_TOO_BIG;
    }
    if (off > UINT32_MAX) {
        *x->why = "json: document larger than 4 GiB";
        return TR_ETOOBIG;
    }
    return 0;
}

/*
 * One member's value at t[p] for the value entry at entry of the container that starts at
 * start: inlined if it can be, else appended and its offset written.
 */
static int jt_entry(const jtext_t *x, tr_buf_t *out, size_t p, size_t start, size_t entry,
                    bool large)
{
    uint8_t c = x->t[p];
    bool is_scalar = c != '{' && c != '[' && c != '"';
    jt_scalar_t s = {0, 0};
    int r;
    if (is_scalar) {
        if ((r = jt_scalar(x, out, p, &s)) != 0) {
            return r;
        }
        if (inline_scalar(out, entry, large, s.tp, s.bits)) {
            return 0;
        }
    }
    uint64_t off = out->len - start;
    if ((r = jt_offset(x, off, large)) != 0) {
        return r;
    }
    if (c == '"' && !large && off + 1 + string_len(x, p) > SMALL_MAX) {
        return EMIT_TOO_BIG; /* the container would end past 64 KiB: known before writing */
    }
    write_off(out, entry + 1, off, large);
    if (!is_scalar) {
        return jt_value(x, out, p, entry, !large);
    }
    uint8_t type = put_scalar(out, s.tp, s.bits);
    if (!tr_buf_ok(out)) {
        return TR_ETOOBIG;
    }
    out->data[entry] = type;
    return 0;
}

/*
 * serialize_json_object / serialize_json_array of the container at t[p] with n members in
 * one format, written at the end of out; an object's index is the n entries at index_at,
 * just before, and the object is moved down over it once written.
 */
static int jt_container(const jtext_t *x, tr_buf_t *out, size_t p, size_t index_at, uint32_t n,
                        bool large)
{
    bool is_obj = x->t[p] == '{';
    int r;
    if (!large && n > SMALL_MAX) {
        return EMIT_TOO_BIG;
    }
    size_t osz = large ? 4 : 2;
    size_t kes = 2 + osz;
    size_t ves = 1 + osz;
    size_t start = out->len; /* the container's bytes start here until moved to index_at */
    size_t keys_at = start + 2 * osz;
    size_t vals_at = keys_at + (is_obj ? (size_t)n * kes : 0);
    size_t end_entries = vals_at + (size_t)n * ves;
    if ((r = zeros(out, end_entries - start)) != 0) {
        return r;
    }
    write_off(out, start, n, large);
    if (is_obj) {
        uint64_t key_off = end_entries - start;
        for (uint32_t k = 0; k < n; k++) {
            uint16_t klen = tr_load_u16le(index_entry(out, index_at, k) + 4);
            if ((r = jt_offset(x, key_off, large)) != 0) {
                return r;
            }
            write_off(out, keys_at + (size_t)k * kes, key_off, large);
            tr_store_u16le(out->data + keys_at + (size_t)k * kes + osz, klen);
            key_off += klen;
        }
        for (uint32_t k = 0; k < n; k++) {
            put_string_text(x, out, tr_load_u32le(index_entry(out, index_at, k)));
        }
        if (!tr_buf_ok(out)) {
            return TR_ETOOBIG;
        }
    }
    size_t m = is_obj ? 0 : member_first(x, p);
    for (uint32_t k = 0; k < n; k++) {
        size_t vp = is_obj ? member_value(x, tr_load_u32le(index_entry(out, index_at, k))) : m;
        if ((r = jt_entry(x, out, vp, start, vals_at + (size_t)k * ves, large)) != 0) {
            return r;
        }
        if (!is_obj) {
            m = member_next(x, m, false);
        }
    }
    uint64_t bytes = out->len - start;
    if ((r = jt_offset(x, bytes, large)) != 0) {
        return r;
    }
    write_off(out, start + osz, bytes, large);
    if (start != index_at) {
        memmove(out->data + index_at, out->data + start, (size_t)bytes);
        out->len = index_at + (size_t)bytes;
    }
    return 0;
}

/* serialize_json_value of the value at t[p]: appends it and sets the type byte at type_pos. */
static int jt_value(const jtext_t *x, tr_buf_t *out, size_t p, size_t type_pos, bool small_parent)
{
    uint8_t c = x->t[p];
    uint8_t type;
    if (c == '{' || c == '[') {
        bool is_obj = c == '{';
        uint32_t flags = tr_load_u32le(table_entry(x, p) + 8);
        if ((flags & 1) != 0 && small_parent) {
            return EMIT_TOO_BIG; /* known: too big for the small format, so is the parent */
        }
        size_t index_at = out->len;
        uint32_t n = flags >> 1;
        int r;
        if (is_obj && (r = object_index(x, out, p, &n)) != 0) {
            return r;
        }
        size_t start = out->len; /* after the index, which both formats use */
        r = EMIT_TOO_BIG;
        if ((flags & 1) == 0) {
            out->data[type_pos] = is_obj ? MJ_SMALL_OBJECT : MJ_SMALL_ARRAY;
            r = jt_container(x, out, p, index_at, n, false);
            if (r == EMIT_TOO_BIG) {
                /* Its small form exceeds 64 KiB: it goes large at once in any retry. */
                uint8_t *e = table_entry(x, p) + 8;
                tr_store_u32le(e, flags | 1);
            }
        }
        if (r == EMIT_TOO_BIG) {
            if (small_parent) {
                return EMIT_TOO_BIG;
            }
            out->len = start;
            out->data[type_pos] = is_obj ? MJ_LARGE_OBJECT : MJ_LARGE_ARRAY;
            r = jt_container(x, out, p, index_at, n, true);
            if (r == EMIT_TOO_BIG) {
                *x->why = "json: document too large";
                return TR_ETOOBIG;
            }
        }
        return r;
    }
    if (c == '"') {
        put_var_len(out, string_len(x, p)); /* < 4 GiB: the text is */
        put_string_text(x, out, p);
        type = MJ_STRING;
    } else {
        jt_scalar_t s;
        int r = jt_scalar(x, out, p, &s);
        if (r != 0) {
            return r;
        }
        type = put_scalar(out, s.tp, s.bits);
    }
    if (!tr_buf_ok(out)) {
        return TR_ETOOBIG;
    }
    out->data[type_pos] = type;
    return 0;
}

int tr_json_text_to_mysql(tr_buf_t *out, const uint8_t *text, size_t len, const char **why)
{
    *why = NULL;
    if (len > UINT32_MAX) {
        *why = "json: text longer than 4 GiB";
        return TR_ETOOBIG;
    }
    jtext_t x = {text, len, why, out, out->len, 0};
    size_t p = jt_ws(&x, 0);
    if (p == len) {
        return jt_bad(&x, "json: empty document");
    }
    size_t end;
    int r = check_value(&x, p, 1, &end);
    if (r == 0 && jt_ws(&x, end) != len) {
        r = jt_bad(&x, "json: text after the document");
    }
    size_t doc_at = out->len;
    x.ntable = (doc_at - x.table_at) / TEXT_TABLE_ENTRY;
    if (r == 0) {
        tr_buf_put_u8(out, 0);
        r = tr_buf_ok(out) ? jt_value(&x, out, p, doc_at, false) : TR_ETOOBIG;
    }
    if (r == 0 && doc_at != x.table_at) {
        memmove(out->data + x.table_at, out->data + doc_at, out->len - doc_at);
        out->len -= doc_at - x.table_at;
    }
    if (r == TR_ETOOBIG && *why == NULL) {
        *why = "json: output buffer limit";
    }
    return r;
}
