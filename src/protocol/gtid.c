/*
 * MySQL GTID sets and MariaDB GTID lists (see gtid.h). Pure codec: no I/O,
 * no logging. Sets keep each sid's intervals sorted and merged, so equality
 * of sets is equality of their interval arrays and every operation is a
 * linear merge.
 */
#include "protocol/gtid.h"

#include <stdio.h>
#include <string.h>

#include "common/endian.h"
#include "common/err.h"
#include "common/hex.h"
#include "common/mem.h"
#include "common/uuid.h"

/* ------------------------------------------------------------ set basics */

void tr_gtid_set_init(tr_gtid_set_t *s)
{
    memset(s, 0, sizeof(*s));
}

void tr_gtid_set_cleanup(tr_gtid_set_t *s)
{
    for (size_t i = 0; i < s->cap; i++) {
        tr_free(s->sids[i].iv);
    }
    tr_free(s->sids);
    memset(s, 0, sizeof(*s));
}

void tr_gtid_set_clear(tr_gtid_set_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        s->sids[i].n = 0;
    }
    s->n = 0;
}

static const char *norm_tag(const char *tag)
{
    return tag == NULL ? "" : tag;
}

static int sid_cmp(const uint8_t uuid[16], const char *tag, const tr_gtid_sid_t *e)
{
    int c = memcmp(uuid, e->uuid, 16);
    if (c != 0) {
        return c;
    }
    return strcmp(tag, e->tag);
}

/* Index of (uuid, tag) or of the insertion point (*found false). */
static size_t sid_search(const tr_gtid_set_t *s, const uint8_t uuid[16], const char *tag,
                         bool *found)
{
    size_t lo = 0;
    size_t hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = sid_cmp(uuid, tag, &s->sids[mid]);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    *found = false;
    return lo;
}

static tr_gtid_sid_t *sid_get(tr_gtid_set_t *s, const uint8_t uuid[16], const char *tag)
{
    tag = norm_tag(tag);
    bool found;
    size_t at = sid_search(s, uuid, tag, &found);
    if (found) {
        return &s->sids[at];
    }
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 4;
        s->sids = tr_realloc(s->sids, ncap * sizeof(*s->sids));
        memset(s->sids + s->cap, 0, (ncap - s->cap) * sizeof(*s->sids));
        s->cap = ncap;
    }
    /* Slots past n keep their interval arrays: rotate the spare one into place. */
    tr_gtid_sid_t spare = s->sids[s->n];
    memmove(s->sids + at + 1, s->sids + at, (s->n - at) * sizeof(*s->sids));
    s->sids[at] = spare;
    tr_gtid_sid_t *e = &s->sids[at];
    memcpy(e->uuid, uuid, 16);
    snprintf(e->tag, sizeof(e->tag), "%s", tag);
    e->n = 0;
    s->n++;
    return e;
}

const tr_gtid_sid_t *tr_gtid_set_find(const tr_gtid_set_t *s, const uint8_t uuid[16],
                                      const char *tag)
{
    bool found;
    size_t at = sid_search(s, uuid, norm_tag(tag), &found);
    return found ? &s->sids[at] : NULL;
}

static void sid_drop_empty(tr_gtid_set_t *s)
{
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->sids[i].n > 0) {
            if (w != i) {
                tr_gtid_sid_t t = s->sids[w];
                s->sids[w] = s->sids[i];
                s->sids[i] = t;
            }
            w++;
        }
    }
    s->n = w;
}

/* Adds [start, end) to e keeping the array sorted and merged. */
static void iv_add(tr_gtid_sid_t *e, uint64_t start, uint64_t end)
{
    /* First interval that ends at or after start (touching intervals merge). */
    size_t i = 0;
    while (i < e->n && e->iv[i].end < start) {
        i++;
    }
    size_t j = i;
    while (j < e->n && e->iv[j].start <= end) {
        if (e->iv[j].start < start) {
            start = e->iv[j].start;
        }
        if (e->iv[j].end > end) {
            end = e->iv[j].end;
        }
        j++;
    }
    /* Replace iv[i..j) by one interval. */
    if (j == i) {
        if (e->n == e->cap) {
            e->cap = e->cap ? e->cap * 2 : 4;
            e->iv = tr_realloc(e->iv, e->cap * sizeof(*e->iv));
        }
        memmove(e->iv + i + 1, e->iv + i, (e->n - i) * sizeof(*e->iv));
        e->n++;
    } else if (j > i + 1) {
        memmove(e->iv + i + 1, e->iv + j, (e->n - j) * sizeof(*e->iv));
        e->n -= j - i - 1;
    }
    e->iv[i].start = start;
    e->iv[i].end = end;
}

void tr_gtid_set_add(tr_gtid_set_t *s, const uint8_t uuid[16], const char *tag, uint64_t start,
                     uint64_t end)
{
    if (end <= start) {
        return;
    }
    iv_add(sid_get(s, uuid, tag), start, end);
}

static bool iv_contains(const tr_gtid_sid_t *e, uint64_t gno)
{
    size_t lo = 0;
    size_t hi = e->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (gno < e->iv[mid].start) {
            hi = mid;
        } else if (gno >= e->iv[mid].end) {
            lo = mid + 1;
        } else {
            return true;
        }
    }
    return false;
}

bool tr_gtid_set_contains(const tr_gtid_set_t *s, const uint8_t uuid[16], const char *tag,
                          uint64_t gno)
{
    const tr_gtid_sid_t *e = tr_gtid_set_find(s, uuid, tag);
    return e != NULL && iv_contains(e, gno);
}

bool tr_gtid_set_is_empty(const tr_gtid_set_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->sids[i].n > 0) {
            return false;
        }
    }
    return true;
}

bool tr_gtid_set_is_subset(const tr_gtid_set_t *a, const tr_gtid_set_t *b)
{
    for (size_t i = 0; i < a->n; i++) {
        const tr_gtid_sid_t *ea = &a->sids[i];
        if (ea->n == 0) {
            continue;
        }
        const tr_gtid_sid_t *eb = tr_gtid_set_find(b, ea->uuid, ea->tag);
        if (eb == NULL) {
            return false;
        }
        /* Each interval of a must lie inside one interval of b (b is merged). */
        size_t j = 0;
        for (size_t k = 0; k < ea->n; k++) {
            while (j < eb->n && eb->iv[j].end <= ea->iv[k].start) {
                j++;
            }
            if (j == eb->n || eb->iv[j].start > ea->iv[k].start || eb->iv[j].end < ea->iv[k].end) {
                return false;
            }
        }
    }
    return true;
}

void tr_gtid_set_union(tr_gtid_set_t *dst, const tr_gtid_set_t *src)
{
    for (size_t i = 0; i < src->n; i++) {
        const tr_gtid_sid_t *e = &src->sids[i];
        for (size_t k = 0; k < e->n; k++) {
            tr_gtid_set_add(dst, e->uuid, e->tag, e->iv[k].start, e->iv[k].end);
        }
    }
}

/* Removes [start, end) from e. */
static void iv_remove(tr_gtid_sid_t *e, uint64_t start, uint64_t end)
{
    size_t i = 0;
    while (i < e->n) {
        tr_gno_interval_t *v = &e->iv[i];
        if (v->end <= start || v->start >= end) {
            i++;
            continue;
        }
        if (v->start < start && v->end > end) {
            /* Split into two. */
            uint64_t old_end = v->end;
            v->end = start;
            if (e->n == e->cap) {
                e->cap = e->cap * 2;
                e->iv = tr_realloc(e->iv, e->cap * sizeof(*e->iv));
            }
            memmove(e->iv + i + 2, e->iv + i + 1, (e->n - i - 1) * sizeof(*e->iv));
            e->iv[i + 1].start = end;
            e->iv[i + 1].end = old_end;
            e->n++;
            return;
        }
        if (v->start < start) {
            v->end = start;
            i++;
        } else if (v->end > end) {
            v->start = end;
            i++;
        } else {
            memmove(e->iv + i, e->iv + i + 1, (e->n - i - 1) * sizeof(*e->iv));
            e->n--;
        }
    }
}

void tr_gtid_set_subtract(tr_gtid_set_t *dst, const tr_gtid_set_t *src)
{
    for (size_t i = 0; i < src->n; i++) {
        const tr_gtid_sid_t *e = &src->sids[i];
        bool found;
        size_t at = sid_search(dst, e->uuid, e->tag, &found);
        if (!found) {
            continue;
        }
        for (size_t k = 0; k < e->n; k++) {
            iv_remove(&dst->sids[at], e->iv[k].start, e->iv[k].end);
        }
    }
    sid_drop_empty(dst);
}

/* ------------------------------------------------------------ text form */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool parse_u64(const char *p, size_t len, uint64_t *out)
{
    if (len == 0 || len > 19) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    *out = v;
    return true;
}

static bool is_tag_char(char c, bool first)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (!first && c >= '0' && c <= '9');
}

/* One "uuid(:x)*" item, trimmed. */
static int parse_item(tr_gtid_set_t *s, const char *p, size_t len, const char **why)
{
    size_t colon = 0;
    while (colon < len && p[colon] != ':') {
        colon++;
    }
    uint8_t uuid[16];
    size_t ulen = colon;
    while (ulen > 0 && is_space(p[ulen - 1])) {
        ulen--;
    }
    /* MySQL also reads the braced form; we take the dashed and undashed ones. */
    if (tr_uuid_parse(p, ulen, true, uuid) != 0) {
        *why = "malformed uuid in GTID set";
        return TR_EMALFORMED;
    }
    char tag[TR_GTID_TAG_MAX + 1] = "";
    bool any = false;
    size_t i = colon;
    while (i < len) {
        i++; /* skip ':' */
        size_t b = i;
        while (i < len && p[i] != ':') {
            i++;
        }
        const char *c = p + b;
        size_t clen = i - b;
        while (clen > 0 && is_space(c[0])) {
            c++;
            clen--;
        }
        while (clen > 0 && is_space(c[clen - 1])) {
            clen--;
        }
        if (clen > 0 && is_tag_char(c[0], true)) {
            if (clen > TR_GTID_TAG_MAX) {
                *why = "GTID tag too long";
                return TR_EMALFORMED;
            }
            for (size_t k = 0; k < clen; k++) {
                if (!is_tag_char(c[k], k == 0)) {
                    *why = "malformed GTID tag";
                    return TR_EMALFORMED;
                }
                tag[k] = (char)(c[k] >= 'A' && c[k] <= 'Z' ? c[k] + 32 : c[k]);
            }
            tag[clen] = '\0';
            continue;
        }
        size_t dash = 0;
        while (dash < clen && c[dash] != '-') {
            dash++;
        }
        uint64_t a;
        uint64_t z;
        if (!parse_u64(c, dash, &a)) {
            *why = "malformed GTID interval";
            return TR_EMALFORMED;
        }
        z = a;
        if (dash < clen && !parse_u64(c + dash + 1, clen - dash - 1, &z)) {
            *why = "malformed GTID interval";
            return TR_EMALFORMED;
        }
        if (a == 0 || z < a || z >= (uint64_t)TR_GTID_MAX_GNO) {
            *why = "GTID interval out of range";
            return TR_EMALFORMED;
        }
        tr_gtid_set_add(s, uuid, tag, a, z + 1);
        any = true;
    }
    (void)any; /* "uuid" alone (or "uuid:tag") names an empty part of the set */
    return 0;
}

int tr_gtid_set_parse(tr_gtid_set_t *s, const char *text, size_t len, const char **why)
{
    tr_gtid_set_clear(s);
    size_t i = 0;
    while (i < len) {
        size_t b = i;
        while (i < len && text[i] != ',') {
            i++;
        }
        size_t e = i;
        while (b < e && is_space(text[b])) {
            b++;
        }
        while (e > b && is_space(text[e - 1])) {
            e--;
        }
        if (e == b) {
            if (i < len || b != 0) {
                /* "a,,b" or a trailing comma: MySQL rejects empty items */
                bool only_space = true;
                for (size_t k = 0; k < len; k++) {
                    only_space = only_space && is_space(text[k]);
                }
                if (!only_space) {
                    *why = "empty item in GTID set";
                    return TR_EMALFORMED;
                }
            }
        } else {
            int r = parse_item(s, text + b, e - b, why);
            if (r != 0) {
                return r;
            }
        }
        if (i < len) {
            i++;
        }
    }
    sid_drop_empty(s);
    return 0;
}

void tr_gtid_uuid_format(const uint8_t uuid[16], char out[37])
{
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[o++] = '-';
        }
        out[o++] = tr_hex_char(uuid[i] >> 4);
        out[o++] = tr_hex_char(uuid[i]);
    }
    out[o] = '\0';
}

typedef struct {
    char *out;
    size_t cap;
    size_t len;
} sink_t;

static void sink_put(sink_t *k, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (k->len + 1 < k->cap) {
            k->out[k->len] = p[i];
        }
        k->len++;
    }
}

static void sink_u64(sink_t *k, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
    sink_put(k, tmp, (size_t)n);
}

static void sink_end(sink_t *k)
{
    if (k->cap > 0) {
        k->out[k->len < k->cap ? k->len : k->cap - 1] = '\0';
    }
}

size_t tr_gtid_set_format(const tr_gtid_set_t *s, const char *sep, char *out, size_t cap)
{
    sink_t k = {out, cap, 0};
    bool first = true;
    for (size_t i = 0; i < s->n; i++) {
        const tr_gtid_sid_t *e = &s->sids[i];
        if (e->n == 0) {
            continue;
        }
        /* MySQL prints one uuid once, with its tags in order: uuid:1-3:tag:5 */
        bool same_uuid = i > 0 && !first && memcmp(s->sids[i - 1].uuid, e->uuid, 16) == 0;
        if (!same_uuid) {
            if (!first) {
                sink_put(&k, sep, strlen(sep));
            }
            char u[37];
            tr_gtid_uuid_format(e->uuid, u);
            sink_put(&k, u, 36);
        }
        first = false;
        if (e->tag[0] != '\0') {
            sink_put(&k, ":", 1);
            sink_put(&k, e->tag, strlen(e->tag));
        }
        for (size_t j = 0; j < e->n; j++) {
            sink_put(&k, ":", 1);
            sink_u64(&k, e->iv[j].start);
            if (e->iv[j].end - 1 > e->iv[j].start) {
                sink_put(&k, "-", 1);
                sink_u64(&k, e->iv[j].end - 1);
            }
        }
    }
    sink_end(&k);
    return k.len;
}

/* ------------------------------------------------------------ binary form */

ssize_t tr_gtid_set_decode(const uint8_t *p, size_t len, tr_gtid_set_t *s, const char **why)
{
    tr_gtid_set_clear(s);
    tr_rd_t r = tr_rd(p, len);
    uint64_t head = tr_rd_u64le(&r);
    if (r.err) {
        *why = "GTID set shorter than its 8-byte header";
        return TR_EMALFORMED;
    }
    bool tagged = (head & 0xFF) == 0x01 && (head >> 56) == 0x01;
    uint64_t n_sids = tagged ? (head >> 8) & 0xFFFFFFFFFFFFull : head;
    if (n_sids > TR_GTID_MAX_SIDS) {
        *why = "GTID set has too many sids";
        return TR_ETOOBIG;
    }
    size_t total_ivs = 0;
    for (uint64_t i = 0; i < n_sids; i++) {
        const uint8_t *uuid = tr_rd_bytes(&r, 16);
        char tag[TR_GTID_TAG_MAX + 1] = "";
        if (tagged) {
            uint8_t tl = tr_rd_u8(&r);
            /* Tag length is stored shifted left by one (varlen unsigned, one byte for <= 63). */
            if (tl & 1) {
                *why = "unsupported tag length encoding in GTID set";
                return TR_EMALFORMED;
            }
            size_t n = tl >> 1;
            if (n > TR_GTID_TAG_MAX) {
                *why = "GTID tag too long";
                return TR_EMALFORMED;
            }
            const uint8_t *t = tr_rd_bytes(&r, n);
            if (r.err) {
                break;
            }
            for (size_t k = 0; k < n; k++) {
                if (!is_tag_char((char)t[k], k == 0)) {
                    *why = "malformed GTID tag";
                    return TR_EMALFORMED;
                }
                tag[k] = (char)t[k];
            }
            tag[n] = '\0';
        }
        uint64_t n_iv = tr_rd_u64le(&r);
        if (r.err) {
            break;
        }
        if (n_iv > tr_rd_left(&r) / 16 || total_ivs + n_iv > TR_GTID_MAX_IVS) {
            *why = "GTID set interval count exceeds its data";
            return TR_EMALFORMED;
        }
        total_ivs += (size_t)n_iv;
        uint64_t prev_end = 0;
        for (uint64_t k = 0; k < n_iv; k++) {
            uint64_t a = tr_rd_u64le(&r);
            uint64_t z = tr_rd_u64le(&r);
            if (a == 0 || z <= a || a < prev_end || z > (uint64_t)TR_GTID_MAX_GNO) {
                *why = "GTID set interval out of order or out of range";
                return TR_EMALFORMED;
            }
            prev_end = z;
            tr_gtid_set_add(s, uuid, tag, a, z);
        }
    }
    if (r.err) {
        *why = "GTID set truncated";
        return TR_EMALFORMED;
    }
    return (ssize_t)r.pos;
}

static bool has_tags(const tr_gtid_set_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->sids[i].n > 0 && s->sids[i].tag[0] != '\0') {
            return true;
        }
    }
    return false;
}

static size_t n_nonempty(const tr_gtid_set_t *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        n += s->sids[i].n > 0;
    }
    return n;
}

size_t tr_gtid_set_encoded_len(const tr_gtid_set_t *s)
{
    bool tagged = has_tags(s);
    size_t len = 8;
    for (size_t i = 0; i < s->n; i++) {
        const tr_gtid_sid_t *e = &s->sids[i];
        if (e->n == 0) {
            continue;
        }
        len += 16 + 8 + 16 * e->n;
        if (tagged) {
            len += 1 + strlen(e->tag);
        }
    }
    return len;
}

void tr_gtid_set_encode(const tr_gtid_set_t *s, tr_buf_t *out)
{
    bool tagged = has_tags(s);
    uint64_t n = n_nonempty(s);
    if (tagged) {
        tr_buf_put_u64le(out, 0x01ull | (n << 8) | (0x01ull << 56));
    } else {
        tr_buf_put_u64le(out, n);
    }
    for (size_t i = 0; i < s->n; i++) {
        const tr_gtid_sid_t *e = &s->sids[i];
        if (e->n == 0) {
            continue;
        }
        tr_buf_append(out, e->uuid, 16);
        if (tagged) {
            size_t tl = strlen(e->tag);
            tr_buf_put_u8(out, (uint8_t)(tl << 1));
            tr_buf_append(out, e->tag, tl);
        }
        tr_buf_put_u64le(out, e->n);
        for (size_t k = 0; k < e->n; k++) {
            tr_buf_put_u64le(out, e->iv[k].start);
            tr_buf_put_u64le(out, e->iv[k].end);
        }
    }
}

/* ------------------------------------------------------------ MariaDB lists */

int tr_maria_gtid_list_parse(const char *text, size_t len, tr_maria_gtid_t *out, size_t cap,
                             size_t *n, const char **why)
{
    *n = 0;
    size_t i = 0;
    while (i < len) {
        size_t b = i;
        while (i < len && text[i] != ',') {
            i++;
        }
        size_t e = i;
        while (b < e && is_space(text[b])) {
            b++;
        }
        while (e > b && is_space(text[e - 1])) {
            e--;
        }
        bool comma = i < len;
        if (comma) {
            i++;
        }
        if (e == b || (comma && i >= len)) {
            if (e == b && !comma && *n == 0) {
                break; /* all blank */
            }
            *why = "empty item in GTID list";
            return TR_EMALFORMED;
        }
        uint64_t v[3];
        size_t k = 0;
        size_t p = b;
        bool at_end = false;
        while (k < 3 && !at_end) {
            size_t q = p;
            while (q < e && text[q] != '-') {
                q++;
            }
            if (!parse_u64(text + p, q - p, &v[k])) {
                *why = "malformed GTID (expected domain-server-seq)";
                return TR_EMALFORMED;
            }
            k++;
            at_end = q == e;
            p = q + 1;
        }
        if (k != 3 || !at_end || v[0] > UINT32_MAX || v[1] > UINT32_MAX) {
            *why = "malformed GTID (expected domain-server-seq)";
            return TR_EMALFORMED;
        }
        for (size_t j = 0; j < *n; j++) {
            if (out[j].domain_id == (uint32_t)v[0]) {
                *why = "two GTIDs in the same replication domain";
                return TR_EMALFORMED;
            }
        }
        if (*n == cap) {
            *why = "too many GTIDs in list";
            return TR_ETOOBIG;
        }
        out[*n].domain_id = (uint32_t)v[0];
        out[*n].server_id = (uint32_t)v[1];
        out[*n].seq_no = v[2];
        (*n)++;
    }
    return 0;
}

size_t tr_maria_gtid_list_format(const tr_maria_gtid_t *g, size_t n, char *out, size_t cap)
{
    sink_t k = {out, cap, 0};
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            sink_put(&k, ",", 1);
        }
        sink_u64(&k, g[i].domain_id);
        sink_put(&k, "-", 1);
        sink_u64(&k, g[i].server_id);
        sink_put(&k, "-", 1);
        sink_u64(&k, g[i].seq_no);
    }
    sink_end(&k);
    return k.len;
}

/* ------------------------------------------------------------ event peeks */

int tr_gtid_peek_mysql(const uint8_t *ev, size_t len, uint8_t uuid[16], uint64_t *gno,
                       const char **why)
{
    /* header, flags u8, sid[16], gno u64 */
    if (len < TR_EVT_HEADER_LEN + 1 + 16 + 8 || ev[4] != TR_EVT_GTID) {
        *why = "not a GTID_LOG_EVENT";
        return TR_EMALFORMED;
    }
    memcpy(uuid, ev + TR_EVT_HEADER_LEN + 1, 16);
    *gno = tr_load_u64le(ev + TR_EVT_HEADER_LEN + 17);
    return 0;
}

int tr_gtid_peek_maria(const uint8_t *ev, size_t len, tr_maria_gtid_t *g, uint8_t *flags2,
                       const char **why)
{
    /* header, seq_no u64, domain_id u32, flags2 u8 */
    if (len < TR_EVT_HEADER_LEN + 13 || ev[4] != TR_EVT_MARIA_GTID) {
        *why = "not a MariaDB GTID_EVENT";
        return TR_EMALFORMED;
    }
    g->server_id = tr_load_u32le(ev + 5);
    g->seq_no = tr_load_u64le(ev + TR_EVT_HEADER_LEN);
    g->domain_id = tr_load_u32le(ev + TR_EVT_HEADER_LEN + 8);
    *flags2 = ev[TR_EVT_HEADER_LEN + 12];
    return 0;
}

bool tr_gtid_peek_is_commit(const uint8_t *ev, size_t len, bool has_crc)
{
    /* post-header: thread_id u32, exec_time u32, db_len u8, error_code u16, status_len u16 */
    size_t end = has_crc ? len - TR_EVT_CRC_LEN : len;
    if (len < TR_EVT_HEADER_LEN + 13 + (has_crc ? TR_EVT_CRC_LEN : 0) || ev[4] != TR_EVT_QUERY) {
        return false;
    }
    size_t db_len = ev[TR_EVT_HEADER_LEN + 8];
    size_t status_len = tr_load_u16le(ev + TR_EVT_HEADER_LEN + 11);
    size_t q = TR_EVT_HEADER_LEN + 13 + status_len + db_len + 1;
    if (q > end) {
        return false;
    }
    size_t n = end - q;
    return (n == 6 && memcmp(ev + q, "COMMIT", 6) == 0) ||
           (n == 8 && memcmp(ev + q, "ROLLBACK", 8) == 0);
}
