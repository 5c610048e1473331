/*
 * Test support, shared by tests/unit/test_json_binary.c and tests/fuzz/fuzz_json_text.c:
 * reads MySQL binary JSON back so that protocol/json_binary.c's own decoders can look at it.
 *
 * tr_test_mysql_json_to_tidb checks a MySQL binary JSON document (type byte + value) against
 * the layout mysql-server sql-common/json_binary.cc writes (offsets and sizes inside their
 * container, keys stored back to back in key order, values back to back in entry order,
 * literals and 16-bit integers inlined, 32-bit ones only in large containers, keys strictly
 * ascending by length then bytes, the container's size field its exact length) and rewrites
 * it as TiDB binary JSON (pingcap/tidb pkg/types/json_binary.go appendBinaryJSON: 8-byte
 * integers, keys sorted bytewise, literals inlined). tr_json_to_text then prints it as TiDB
 * does and tr_json_to_mysql must give the very same MySQL bytes back. Written from the
 * format, independently of the encoder under test; allocates freely (test code only).
 */
#ifndef TR_TESTS_UNIT_JSON_MYSQL_READ_H
#define TR_TESTS_UNIT_JSON_MYSQL_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/endian.h"

#define MJR_MAX_DEPTH 200

typedef struct {
    const uint8_t *key; /* a view into the MySQL document */
    uint16_t key_len;
    uint32_t entry; /* index of the member in MySQL order */
} mjr_member_t;

static int mjr_member_cmp(const void *a, const void *b)
{
    const mjr_member_t *x = a;
    const mjr_member_t *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = n > 0 ? memcmp(x->key, y->key, n) : 0;
    if (c != 0) {
        return c;
    }
    return x->key_len < y->key_len ? -1 : x->key_len > y->key_len ? 1 : 0;
}

/* MySQL's var_len (json_binary.cc read_variable_length): at most 5 bytes, 7 bits each. */
static bool mjr_var_len(const uint8_t *p, size_t avail, uint32_t *len, size_t *used)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 5 && i < avail; i++) {
        v |= (uint64_t)(p[i] & 0x7F) << (7 * i);
        if ((p[i] & 0x80) == 0) {
            if (v > UINT32_MAX || (i > 0 && p[i] == 0)) {
                return false; /* too long, or not the shortest form */
            }
            *len = (uint32_t)v;
            *used = i + 1;
            return true;
        }
    }
    return false;
}

static void mjr_uvarint(tr_buf_t *out, uint64_t n)
{
    while (n >= 0x80) {
        tr_buf_put_u8(out, (uint8_t)(n | 0x80));
        n >>= 7;
    }
    tr_buf_put_u8(out, (uint8_t)n);
}

static int mjr_value(uint8_t type, const uint8_t *p, size_t avail, tr_buf_t *out,
                     uint8_t *tidb_type, size_t *used, int depth, const char **why);

/* An inlined value of a value entry (tidb_type set), or false when type is not inlined. */
static bool mjr_inline(uint8_t type, const uint8_t *v, bool large, uint8_t *tidb_type,
                       uint64_t *bits)
{
    switch (type) {
    case 0x04:
        *tidb_type = 0x04;
        *bits = v[0];
        return true;
    case 0x05:
        *tidb_type = 0x09;
        *bits = (uint64_t)(int64_t)(int16_t)tr_load_u16le(v);
        return true;
    case 0x06:
        *tidb_type = 0x0A;
        *bits = tr_load_u16le(v);
        return true;
    case 0x07:
        *tidb_type = 0x09;
        *bits = (uint64_t)(int64_t)(int32_t)tr_load_u32le(v);
        return large;
    case 0x08:
        *tidb_type = 0x0A;
        *bits = tr_load_u32le(v);
        return large;
    default:
        return false;
    }
}

static int mjr_container(uint8_t type, const uint8_t *p, size_t avail, tr_buf_t *out, size_t *used,
                         int depth, const char **why)
{
    bool is_obj = type == 0x00 || type == 0x01;
    bool large = type == 0x01 || type == 0x03;
    size_t osz = large ? 4 : 2;
    if (avail < 2 * osz) {
        *why = "reader: truncated container header";
        return -1;
    }
    uint32_t n = large ? tr_load_u32le(p) : tr_load_u16le(p);
    uint32_t size = large ? tr_load_u32le(p + osz) : tr_load_u16le(p + osz);
    size_t kes = 2 + osz;
    size_t ves = 1 + osz;
    size_t entries_end = 2 * osz + (size_t)n * ((is_obj ? kes : 0) + ves);
    if (size > avail || entries_end > size) {
        *why = "reader: container size out of range";
        return -1;
    }
    mjr_member_t *m = calloc(n + 1, sizeof(*m));
    size_t next = entries_end; /* where the next key, then value, must start */
    for (uint32_t i = 0; is_obj && i < n; i++) {
        const uint8_t *e = p + 2 * osz + (size_t)i * kes;
        uint32_t off = large ? tr_load_u32le(e) : tr_load_u16le(e);
        m[i].key_len = tr_load_u16le(e + osz);
        if (off != next || (uint64_t)off + m[i].key_len > size) {
            free(m);
            *why = "reader: key not where the previous one ends";
            return -1;
        }
        m[i].key = p + off;
        m[i].entry = i;
        next = off + m[i].key_len;
        if (i > 0 && (m[i].key_len < m[i - 1].key_len ||
                      (m[i].key_len == m[i - 1].key_len &&
                       memcmp(m[i - 1].key, m[i].key, m[i].key_len) >= 0))) {
            free(m);
            *why = "reader: keys not strictly ascending by length, then bytes";
            return -1;
        }
    }
    /* Values in MySQL's entry order, each into its own buffer (TiDB orders them by key). */
    tr_buf_t *vals = calloc(n + 1, sizeof(*vals));
    uint8_t *types = calloc(n + 1, 1);
    int r = 0;
    size_t vals_at = 2 * osz + (is_obj ? (size_t)n * kes : 0);
    for (uint32_t i = 0; i < n && r == 0; i++) {
        const uint8_t *e = p + vals_at + (size_t)i * ves;
        tr_buf_init(&vals[i], 0);
        uint64_t bits;
        if (mjr_inline(e[0], e + 1, large, &types[i], &bits)) {
            if (types[i] == 0x04) {
                if (bits > 2) {
                    *why = "reader: bad literal";
                    r = -1;
                }
                tr_buf_put_u8(&vals[i], (uint8_t)bits);
            } else {
                tr_buf_put_u64le(&vals[i], bits);
            }
            continue;
        }
        uint32_t off = large ? tr_load_u32le(e + 1) : tr_load_u16le(e + 1);
        if (off != next || off >= size) {
            *why = "reader: value not where the previous one ends";
            r = -1;
            break;
        }
        size_t vused;
        r = mjr_value(e[0], p + off, size - off, &vals[i], &types[i], &vused, depth + 1, why);
        next = off + vused;
    }
    if (r == 0 && next != size) {
        *why = "reader: container size is not its length";
        r = -1;
    }
    if (r == 0) {
        /* TiDB layout: count, size, key entries, value entries, keys, values. */
        if (is_obj) {
            qsort(m, n, sizeof(*m), mjr_member_cmp);
        }
        size_t start = out->len;
        size_t head = 8 + (size_t)n * ((is_obj ? 6 : 0) + 5);
        tr_buf_put_zeros(out, head);
        tr_store_u32le(out->data + start, n);
        for (uint32_t k = 0; is_obj && k < n; k++) {
            tr_store_u32le(out->data + start + 8 + (size_t)k * 6, (uint32_t)(out->len - start));
            tr_store_u16le(out->data + start + 8 + (size_t)k * 6 + 4, m[k].key_len);
            tr_buf_append(out, m[k].key, m[k].key_len);
        }
        size_t ve = start + 8 + (is_obj ? (size_t)n * 6 : 0);
        for (uint32_t k = 0; k < n; k++) {
            uint32_t i = is_obj ? m[k].entry : k;
            out->data[ve + (size_t)k * 5] = types[i];
            if (types[i] == 0x04) {
                out->data[ve + (size_t)k * 5 + 1] = vals[i].data[0];
                continue;
            }
            tr_store_u32le(out->data + ve + (size_t)k * 5 + 1, (uint32_t)(out->len - start));
            tr_buf_append(out, vals[i].data, vals[i].len);
        }
        tr_store_u32le(out->data + start + 4, (uint32_t)(out->len - start));
        *used = size;
    }
    for (uint32_t i = 0; i < n; i++) {
        tr_buf_cleanup(&vals[i]);
    }
    free(vals);
    free(types);
    free(m);
    return r;
}

/* One value of MySQL type type at p (avail bytes): its TiDB form appended to out. */
static int mjr_value(uint8_t type, const uint8_t *p, size_t avail, tr_buf_t *out,
                     uint8_t *tidb_type, size_t *used, int depth, const char **why)
{
    if (depth > MJR_MAX_DEPTH) {
        *why = "reader: nested too deeply";
        return -1;
    }
    static const uint8_t widths[] = {[0x04] = 1, [0x05] = 2, [0x06] = 2, [0x07] = 4,
                                     [0x08] = 4, [0x09] = 8, [0x0A] = 8, [0x0B] = 8};
    switch (type) {
    case 0x00:
    case 0x01:
    case 0x02:
    case 0x03:
        *tidb_type = type <= 0x01 ? 0x01 : 0x03;
        return mjr_container(type, p, avail, out, used, depth, why);
    case 0x04:
    case 0x05:
    case 0x06:
    case 0x07:
    case 0x08:
    case 0x09:
    case 0x0A:
    case 0x0B: {
        size_t w = widths[type];
        if (avail < w) {
            *why = "reader: truncated scalar";
            return -1;
        }
        uint64_t bits;
        if (type == 0x09 || type == 0x0A || type == 0x0B) {
            bits = tr_load_u64le(p);
            *tidb_type = type; /* int64, uint64, double: the same codes in TiDB */
        } else if (!mjr_inline(type, p, true, tidb_type, &bits)) {
            *why = "reader: bad scalar";
            return -1;
        }
        if (*tidb_type == 0x04) {
            if (bits > 2) {
                *why = "reader: bad literal";
                return -1;
            }
            tr_buf_put_u8(out, (uint8_t)bits);
        } else {
            tr_buf_put_u64le(out, bits);
        }
        *used = w;
        return 0;
    }
    case 0x0C:
    case 0x0F: {
        size_t at = type == 0x0F ? 1 : 0; /* opaque: field type byte first */
        uint32_t n;
        size_t k;
        if (avail < at + 1 || !mjr_var_len(p + at, avail - at, &n, &k) || n > avail - at - k) {
            *why = "reader: bad string or opaque length";
            return -1;
        }
        if (type == 0x0F) {
            tr_buf_put_u8(out, p[0]);
        }
        mjr_uvarint(out, n);
        tr_buf_append(out, p + at + k, n);
        *tidb_type = type == 0x0F ? 0x0D : 0x0C;
        *used = at + k + n;
        return 0;
    }
    default:
        *why = "reader: unknown type";
        return -1;
    }
}

/*
 * Appends to tidb the TiDB binary JSON document (type byte + value) of the MySQL binary JSON
 * document m (exactly len bytes). Returns 0, or -1 with *why when m is not what
 * json_binary.cc writes.
 */
static int tr_test_mysql_json_to_tidb(const uint8_t *m, size_t len, tr_buf_t *tidb,
                                      const char **why)
{
    if (len < 2) {
        *why = "reader: document shorter than 2 bytes";
        return -1;
    }
    size_t type_at = tidb->len;
    tr_buf_put_u8(tidb, 0);
    uint8_t tp;
    size_t used = 0;
    int r = mjr_value(m[0], m + 1, len - 1, tidb, &tp, &used, 1, why);
    if (r != 0) {
        return r;
    }
    if (used != len - 1) {
        *why = "reader: bytes after the document";
        return -1;
    }
    tidb->data[type_at] = tp;
    return 0;
}

#endif
