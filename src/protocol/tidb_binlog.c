/*
 * TiDB Binlog protobuf messages, read and written by hand from the wire
 * format (varint tags, length-delimited fields): the outer binlog.Binlog and
 * pump's PullBinlogResp are read as views without allocating, PrewriteValue
 * is walked in place by an iterator over its mutations and a row cursor per
 * mutation (no allocation, O(1) memory whatever the row count; every walk is
 * forward-only so a mutation costs a few passes over its field headers), and
 * PullBinlogReq is encoded. Unknown fields are skipped; a known field with
 * the wrong wire type, a truncated field or a group is TR_EMALFORMED.
 * Pure codec: no I/O, no logging.
 * Follows shared/spec/tidb-binlog.md section 3 (binlog.proto, pump.proto;
 * protobuf encoding rules from protobuf.dev "Encoding").
 */
#include "protocol/tidb_binlog.h"

#include <string.h>

#include "common/err.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

/* One protobuf field: number, wire type, and its value. */
typedef struct {
    uint32_t num;
    int wt;
    uint64_t v;   /* WT_VARINT, WT_I64, WT_I32 */
    tr_slice_t s; /* WT_LEN */
} pb_field_t;

typedef struct {
    const uint8_t *p;
    size_t len;
    size_t pos;
} pb_rd_t;

static int pb_varint(pb_rd_t *r, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (r->pos >= r->len) {
            return TR_EMALFORMED;
        }
        uint8_t b = r->p[r->pos++];
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (b < 0x80) {
            if (i == 9 && b > 1) {
                return TR_EMALFORMED;
            }
            *v = x;
            return 0;
        }
    }
    return TR_EMALFORMED;
}

/* Reads the next field. Returns 1 (field), 0 (end) or TR_EMALFORMED. */
static int pb_next(pb_rd_t *r, pb_field_t *f)
{
    if (r->pos >= r->len) {
        return 0;
    }
    uint64_t key;
    if (pb_varint(r, &key) < 0) {
        return TR_EMALFORMED;
    }
    f->num = (uint32_t)(key >> 3);
    f->wt = (int)(key & 7);
    if (f->num == 0 || key >> 3 > 0x1FFFFFFF) {
        return TR_EMALFORMED;
    }
    switch (f->wt) {
    case WT_VARINT:
        return pb_varint(r, &f->v) < 0 ? TR_EMALFORMED : 1;
    case WT_I64:
    case WT_I32: {
        size_t n = f->wt == WT_I64 ? 8 : 4;
        if (r->len - r->pos < n) {
            return TR_EMALFORMED;
        }
        f->v = 0;
        for (size_t i = 0; i < n; i++) {
            f->v |= (uint64_t)r->p[r->pos + i] << (8 * i);
        }
        r->pos += n;
        return 1;
    }
    case WT_LEN: {
        uint64_t n;
        if (pb_varint(r, &n) < 0 || n > r->len - r->pos) {
            return TR_EMALFORMED;
        }
        f->s = tr_slice(r->p + r->pos, (size_t)n);
        r->pos += (size_t)n;
        return 1;
    }
    default: /* groups (3, 4) and reserved types */
        return TR_EMALFORMED;
    }
}

static pb_rd_t pb_rd(const uint8_t *p, size_t len)
{
    pb_rd_t r = {p, len, 0};
    return r;
}

/* ---------------------------------------------------------------- Binlog */

ssize_t tr_tidb_binlog_decode(const uint8_t *p, size_t len, tr_tidb_binlog_t *out,
                              const char **why)
{
    memset(out, 0, sizeof(*out));
    pb_rd_t r = pb_rd(p, len);
    pb_field_t f = {0}; // gcc -O3 cannot see that the wire-type check guards f.v and f.s
    int rc;
    while ((rc = pb_next(&r, &f)) > 0) {
        int want_wt = (f.num >= 4 && f.num <= 6) ? WT_LEN : WT_VARINT;
        if (f.num >= 1 && f.num <= 8 && f.wt != want_wt) {
            *why = "binlog: known field with wrong wire type";
            return TR_EMALFORMED;
        }
        switch (f.num) {
        case 1:
            out->tp = (int32_t)f.v;
            break;
        case 2:
            out->start_ts = (int64_t)f.v;
            break;
        case 3:
            out->commit_ts = (int64_t)f.v;
            break;
        case 5:
            out->prewrite_value = f.s;
            break;
        case 6:
            out->ddl_query = f.s;
            break;
        case 7:
            out->ddl_job_id = (int64_t)f.v;
            break;
        case 8:
            out->ddl_schema_state = (int32_t)f.v;
            break;
        default: /* 4 prewrite_key and unknown fields */
            break;
        }
    }
    if (rc < 0) {
        *why = "binlog: truncated or malformed protobuf";
        return TR_EMALFORMED;
    }
    return (ssize_t)len;
}

/* ---------------------------------------------------------------- PullBinlogResp */

int tr_tidb_pull_resp_payload(const uint8_t *p, size_t len, tr_slice_t *payload, const char **why)
{
    *payload = tr_slice(NULL, 0);
    pb_rd_t r = pb_rd(p, len);
    pb_field_t f;
    int rc;
    while ((rc = pb_next(&r, &f)) > 0) {
        if (f.num != 1) {
            continue;
        }
        if (f.wt != WT_LEN) {
            *why = "pull resp: entity is not a message";
            return TR_EMALFORMED;
        }
        /* Entity: a later occurrence of a message field merges; payload (bytes) replaces. */
        pb_rd_t e = pb_rd(f.s.p, f.s.len);
        pb_field_t g;
        int erc;
        while ((erc = pb_next(&e, &g)) > 0) {
            if (g.num == 2) {
                if (g.wt != WT_LEN) {
                    *why = "pull resp: payload is not bytes";
                    return TR_EMALFORMED;
                }
                *payload = g.s;
            }
        }
        if (erc < 0) {
            *why = "pull resp: malformed entity";
            return TR_EMALFORMED;
        }
    }
    if (rc < 0) {
        *why = "pull resp: truncated or malformed protobuf";
        return TR_EMALFORMED;
    }
    return 0;
}

/* ---------------------------------------------------------------- PullBinlogReq */

static void put_varint(tr_buf_t *out, uint64_t v)
{
    while (v >= 0x80) {
        tr_buf_put_u8(out, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    tr_buf_put_u8(out, (uint8_t)v);
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

void tr_tidb_pull_req_encode(tr_buf_t *out, uint64_t cluster_id, int64_t offset)
{
    /* proto3: zero scalars are omitted; startFrom is always written. */
    if (cluster_id != 0) {
        tr_buf_put_u8(out, 0x08);
        put_varint(out, cluster_id);
    }
    size_t pos_len = offset != 0 ? 1 + varint_size((uint64_t)offset) : 0;
    tr_buf_put_u8(out, 0x12);
    put_varint(out, pos_len);
    if (offset != 0) {
        tr_buf_put_u8(out, 0x10);
        put_varint(out, (uint64_t)offset);
    }
}

/* ---------------------------------------------------------------- PrewriteValue */

enum { F_TABLE_ID = 1, F_INSERTED = 2, F_UPDATED = 3, F_DELETED = 6, F_SEQUENCE = 7 };

/* Row list of a MutationType: 0 inserted, 1 updated, 2 deleted rows; -1 for the
 * legacy DeleteID/DeletePK and unknown values. */
static int list_of_kind(uint64_t kind)
{
    switch (kind) {
    case TR_TIDB_MUT_INSERT:
        return 0;
    case TR_TIDB_MUT_UPDATE:
        return 1;
    case TR_TIDB_MUT_DELETE_ROW:
        return 2;
    default:
        return -1;
    }
}

static const uint32_t list_field[3] = {F_INSERTED, F_UPDATED, F_DELETED};

int tr_tidb_prewrite_iter_init(tr_tidb_prewrite_iter_t *it, const uint8_t *p, size_t len,
                               const char **why)
{
    memset(it, 0, sizeof(*it));
    it->p = p;
    it->len = len;
    pb_rd_t r = pb_rd(p, len);
    pb_field_t f;
    int rc;
    while ((rc = pb_next(&r, &f)) > 0) {
        if (f.num == 1) {
            if (f.wt != WT_VARINT) {
                *why = "prewrite: schema_version is not a varint";
                return TR_EMALFORMED;
            }
            it->schema_version = (int64_t)f.v;
        } else if (f.num == 2) {
            if (f.wt != WT_LEN) {
                *why = "prewrite: mutation is not a message";
                return TR_EMALFORMED;
            }
            it->n_mutations++;
        }
    }
    if (rc < 0) {
        *why = "prewrite: truncated or malformed protobuf";
        return TR_EMALFORMED;
    }
    return 0;
}

int tr_tidb_prewrite_schema_version(const uint8_t *p, size_t len, int64_t *schema_version,
                                    const char **why)
{
    tr_tidb_prewrite_iter_t it;
    int rc = tr_tidb_prewrite_iter_init(&it, p, len, why);
    *schema_version = rc == 0 ? it.schema_version : 0;
    return rc;
}

/* Counts one sequence entry into per_list; TR_EMALFORMED for a kind we cannot replay. */
static int count_kind(uint64_t kind, size_t per_list[3], const char **why)
{
    int l = list_of_kind(kind);
    if (l < 0) {
        *why = kind == TR_TIDB_MUT_DELETE_ID || kind == TR_TIDB_MUT_DELETE_PK
                   ? "mutation: legacy DeleteID/DeletePK entry in sequence (TiDB writes DeleteRow)"
                   : "mutation: unknown mutation type in sequence";
        return TR_EMALFORMED;
    }
    per_list[l]++;
    return 0;
}

/* One pass over a TableMutation: framing, wire types, kinds and counts. */
static int mutation_check(tr_slice_t body, tr_tidb_mutation_t *m, const char **why)
{
    memset(m, 0, sizeof(*m));
    m->body = body;
    size_t seq_per_list[3] = {0, 0, 0};
    bool seen[4] = {false, false, false, false};
    pb_rd_t r = pb_rd(body.p, body.len);
    pb_field_t f;
    int rc;
    size_t at = 0; /* offset of the field being read */
    for (; (rc = pb_next(&r, &f)) > 0; at = r.pos) {
        int slot = f.num == F_INSERTED ? 0
                   : f.num == F_UPDATED ? 1
                   : f.num == F_DELETED ? 2
                   : f.num == F_SEQUENCE ? 3
                                         : -1;
        if (slot >= 0 && !seen[slot]) {
            seen[slot] = true;
            m->first[slot] = at;
        }
        switch (f.num) {
        case F_TABLE_ID:
            if (f.wt != WT_VARINT) {
                goto bad_type;
            }
            m->table_id = (int64_t)f.v;
            break;
        case F_INSERTED:
        case F_UPDATED:
        case F_DELETED:
            if (f.wt != WT_LEN) {
                goto bad_type;
            }
            if (f.num == F_INSERTED) {
                m->n_inserted++;
            } else if (f.num == F_UPDATED) {
                m->n_updated++;
            } else {
                m->n_deleted++;
            }
            break;
        case F_SEQUENCE:
            if (f.wt == WT_VARINT) {
                if (count_kind(f.v, seq_per_list, why) < 0) {
                    return TR_EMALFORMED;
                }
                m->n_sequence++;
            } else if (f.wt == WT_LEN) {
                pb_rd_t pr = pb_rd(f.s.p, f.s.len);
                while (pr.pos < pr.len) {
                    uint64_t v;
                    if (pb_varint(&pr, &v) < 0) {
                        *why = "mutation: malformed packed sequence";
                        return TR_EMALFORMED;
                    }
                    if (count_kind(v, seq_per_list, why) < 0) {
                        return TR_EMALFORMED;
                    }
                    m->n_sequence++;
                }
            } else {
                goto bad_type;
            }
            break;
        default: /* deleted_ids, deleted_pks (legacy) and unknown fields */
            break;
        }
    }
    if (rc < 0) {
        *why = "mutation: truncated or malformed protobuf";
        return TR_EMALFORMED;
    }
    if (m->n_sequence == 0) {
        return 0; /* no statement order: nothing to replay (see the header) */
    }
    const size_t n_rows[3] = {m->n_inserted, m->n_updated, m->n_deleted};
    for (int l = 0; l < 3; l++) {
        if (seq_per_list[l] > n_rows[l]) {
            *why = "mutation: sequence names more rows of a kind than the mutation holds";
            return TR_EMALFORMED;
        }
        if (seq_per_list[l] < n_rows[l]) {
            *why = "mutation: rows that no sequence entry names";
            return TR_EMALFORMED;
        }
    }
    return 0;
bad_type:
    *why = "mutation: known field with wrong wire type";
    return TR_EMALFORMED;
}

int tr_tidb_prewrite_next(tr_tidb_prewrite_iter_t *it, tr_tidb_mutation_t *m, const char **why)
{
    pb_rd_t r = {it->p, it->len, it->pos};
    pb_field_t f;
    int rc;
    while ((rc = pb_next(&r, &f)) > 0) {
        if (f.num != 2) {
            continue;
        }
        it->pos = r.pos;
        if (f.wt != WT_LEN) { /* iter_init checked it; a caller's own iterator might not */
            *why = "prewrite: mutation is not a message";
            return TR_EMALFORMED;
        }
        return mutation_check(f.s, m, why) < 0 ? TR_EMALFORMED : 1;
    }
    it->pos = r.pos;
    if (rc < 0) {
        *why = "prewrite: truncated or malformed protobuf";
        return TR_EMALFORMED;
    }
    return 0;
}

void tr_tidb_rows_init(tr_tidb_rows_t *c, const tr_tidb_mutation_t *m)
{
    memset(c, 0, sizeof(*c));
    c->p = m->body.p;
    c->len = m->body.len;
    c->seq_left = m->n_sequence;
    /* Fields before the first of a kind have other numbers: skipping them changes nothing. */
    c->seq_pos = m->first[3] <= c->len ? m->first[3] : c->len;
    for (int l = 0; l < 3; l++) {
        c->row_pos[l] = m->first[l] <= c->len ? m->first[l] : c->len;
    }
    if (m->n_sequence > 0) {
        c->row_left[0] = m->n_inserted;
        c->row_left[1] = m->n_updated;
        c->row_left[2] = m->n_deleted;
    }
}

/* Next sequence entry: from the packed field being read, else from the next
 * sequence field at or after seq_pos. Returns 1, 0 (no more fields) or TR_EMALFORMED. */
static int next_entry(tr_tidb_rows_t *c, uint64_t *kind)
{
    for (;;) {
        if (c->packed_pos < c->packed_end) {
            pb_rd_t pr = {c->p, c->packed_end, c->packed_pos};
            if (pb_varint(&pr, kind) < 0) {
                return TR_EMALFORMED;
            }
            c->packed_pos = pr.pos;
            return 1;
        }
        pb_rd_t r = {c->p, c->len, c->seq_pos};
        pb_field_t f = {0}; // as above: for gcc -O3 -Wmaybe-uninitialized
        int rc;
        do {
            rc = pb_next(&r, &f);
        } while (rc > 0 && f.num != F_SEQUENCE);
        c->seq_pos = r.pos;
        if (rc <= 0) {
            return rc;
        }
        if (f.wt == WT_VARINT) {
            *kind = f.v;
            return 1;
        }
        if (f.wt != WT_LEN) {
            return TR_EMALFORMED;
        }
        c->packed_pos = (size_t)(f.s.p - c->p);
        c->packed_end = c->packed_pos + f.s.len; /* an empty packed field: look further */
    }
}

int tr_tidb_rows_next(tr_tidb_rows_t *c, int32_t *kind, tr_slice_t *row, const char **why)
{
    if (c->seq_left == 0) {
        if (c->row_left[0] + c->row_left[1] + c->row_left[2] > 0) {
            *why = "mutation: rows that no sequence entry names";
            return TR_EMALFORMED;
        }
        return 0;
    }
    uint64_t k;
    int rc = next_entry(c, &k);
    if (rc <= 0) {
        *why = rc == 0 ? "mutation: fewer sequence entries than counted"
                       : "mutation: truncated or malformed sequence";
        return TR_EMALFORMED;
    }
    int l = list_of_kind(k);
    if (l < 0) {
        *why = "mutation: unknown or legacy mutation type in sequence";
        return TR_EMALFORMED;
    }
    if (c->row_left[l] == 0) {
        *why = "mutation: sequence entry with no row of its kind left";
        return TR_EMALFORMED;
    }
    pb_rd_t r = {c->p, c->len, c->row_pos[l]};
    pb_field_t f;
    do {
        rc = pb_next(&r, &f);
    } while (rc > 0 && f.num != list_field[l]);
    c->row_pos[l] = r.pos;
    if (rc <= 0 || f.wt != WT_LEN) {
        *why = rc == 0 ? "mutation: sequence entry with no row of its kind left"
                       : "mutation: truncated or malformed row field";
        return TR_EMALFORMED;
    }
    c->seq_left--;
    c->row_left[l]--;
    *kind = (int32_t)k;
    *row = f.s;
    return 1;
}
