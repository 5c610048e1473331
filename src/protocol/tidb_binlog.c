/*
 * TiDB Binlog protobuf messages, read and written by hand from the wire
 * format (varint tags, length-delimited fields): the outer binlog.Binlog and
 * pump's PullBinlogResp are read as views without allocating, PrewriteValue
 * is unpacked with its arrays in the caller's arena (row bytes stay views),
 * and PullBinlogReq is encoded. Unknown fields are skipped; a known field with
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
    pb_field_t f;
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

/* Counts the varints in a packed repeated field; -1 if malformed. */
static long packed_count(tr_slice_t s)
{
    pb_rd_t r = pb_rd(s.p, s.len);
    long n = 0;
    uint64_t v;
    while (r.pos < r.len) {
        if (pb_varint(&r, &v) < 0) {
            return -1;
        }
        n++;
    }
    return n;
}

static int mutation_decode(tr_slice_t m, tr_arena_t *arena, tr_tidb_mutation_t *out,
                           const char **why)
{
    memset(out, 0, sizeof(*out));
    /* Pass 1: count repeated elements and check wire types. */
    pb_rd_t r = pb_rd(m.p, m.len);
    pb_field_t f;
    int rc;
    size_t n_seq = 0;
    while ((rc = pb_next(&r, &f)) > 0) {
        switch (f.num) {
        case 1:
            if (f.wt != WT_VARINT) {
                goto bad_type;
            }
            out->table_id = (int64_t)f.v;
            break;
        case 2:
        case 3:
        case 6:
            if (f.wt != WT_LEN) {
                goto bad_type;
            }
            if (f.num == 2) {
                out->n_inserted++;
            } else if (f.num == 3) {
                out->n_updated++;
            } else {
                out->n_deleted++;
            }
            break;
        case 7:
            if (f.wt == WT_VARINT) {
                n_seq++;
            } else if (f.wt == WT_LEN) {
                long c = packed_count(f.s);
                if (c < 0) {
                    *why = "mutation: malformed packed sequence";
                    return TR_EMALFORMED;
                }
                n_seq += (size_t)c;
            } else {
                goto bad_type;
            }
            break;
        default: /* deleted_ids, deleted_pks (obsolete) and unknown fields */
            break;
        }
    }
    if (rc < 0) {
        *why = "mutation: truncated or malformed protobuf";
        return TR_EMALFORMED;
    }
    out->inserted_rows = tr_arena_alloc(arena, (out->n_inserted + 1) * sizeof(tr_slice_t));
    out->updated_rows = tr_arena_alloc(arena, (out->n_updated + 1) * sizeof(tr_slice_t));
    out->deleted_rows = tr_arena_alloc(arena, (out->n_deleted + 1) * sizeof(tr_slice_t));
    out->sequence = tr_arena_alloc(arena, (n_seq + 1) * sizeof(int32_t));
    /* Pass 2: fill (the bytes were validated by pass 1). */
    size_t ni = 0;
    size_t nu = 0;
    size_t nd = 0;
    r = pb_rd(m.p, m.len);
    while (pb_next(&r, &f) > 0) {
        if (f.num == 2) {
            out->inserted_rows[ni++] = f.s;
        } else if (f.num == 3) {
            out->updated_rows[nu++] = f.s;
        } else if (f.num == 6) {
            out->deleted_rows[nd++] = f.s;
        } else if (f.num == 7 && f.wt == WT_VARINT) {
            out->sequence[out->n_sequence++] = (int32_t)f.v;
        } else if (f.num == 7) {
            pb_rd_t pr = pb_rd(f.s.p, f.s.len);
            uint64_t v;
            while (pr.pos < pr.len && pb_varint(&pr, &v) == 0) {
                out->sequence[out->n_sequence++] = (int32_t)v;
            }
        }
    }
    return 0;
bad_type:
    *why = "mutation: known field with wrong wire type";
    return TR_EMALFORMED;
}

int tr_tidb_prewrite_decode(const uint8_t *p, size_t len, tr_arena_t *arena,
                            tr_tidb_prewrite_t *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    pb_rd_t r = pb_rd(p, len);
    pb_field_t f;
    int rc;
    size_t n = 0;
    while ((rc = pb_next(&r, &f)) > 0) {
        if (f.num == 1) {
            if (f.wt != WT_VARINT) {
                *why = "prewrite: schema_version is not a varint";
                return TR_EMALFORMED;
            }
            out->schema_version = (int64_t)f.v;
        } else if (f.num == 2) {
            if (f.wt != WT_LEN) {
                *why = "prewrite: mutation is not a message";
                return TR_EMALFORMED;
            }
            n++;
        }
    }
    if (rc < 0) {
        *why = "prewrite: truncated or malformed protobuf";
        return TR_EMALFORMED;
    }
    out->mutations = tr_arena_alloc(arena, (n + 1) * sizeof(tr_tidb_mutation_t));
    r = pb_rd(p, len);
    while (pb_next(&r, &f) > 0) {
        if (f.num != 2) {
            continue;
        }
        rc = mutation_decode(f.s, arena, &out->mutations[out->n_mutations], why);
        if (rc < 0) {
            return rc;
        }
        out->n_mutations++;
    }
    return 0;
}
