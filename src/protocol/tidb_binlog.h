/*
 * TiDB Binlog messages as a Pump streams them (shared/spec/tidb-binlog.md
 * sections 2-3; proto files in src/protocol/proto/). The outer Binlog is read
 * as views into the payload without allocating; PrewriteValue and its
 * TableMutations are walked in place (iterator + row cursor, no allocation).
 * Pure codec: no I/O, no logging.
 */
#ifndef TR_PROTOCOL_TIDB_BINLOG_H
#define TR_PROTOCOL_TIDB_BINLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/defs.h"

enum {
    TR_TIDB_BINLOG_PREWRITE = 0,
    TR_TIDB_BINLOG_COMMIT = 1,
    TR_TIDB_BINLOG_ROLLBACK = 2,
};

enum {
    TR_TIDB_MUT_INSERT = 0,
    TR_TIDB_MUT_UPDATE = 1,
    TR_TIDB_MUT_DELETE_ID = 2,
    TR_TIDB_MUT_DELETE_PK = 3,
    TR_TIDB_MUT_DELETE_ROW = 4,
};

/* binlog.Binlog, fields as views into the decoded payload. */
typedef struct {
    int32_t tp;
    int64_t start_ts;
    int64_t commit_ts;
    tr_slice_t prewrite_value; /* len 0 when absent */
    tr_slice_t ddl_query;
    int64_t ddl_job_id;        /* > 0: a DDL binlog */
    int32_t ddl_schema_state;
} tr_tidb_binlog_t;

/* A Pump fake binlog (watermark): tp Rollback with start_ts == commit_ts. */
static inline bool tr_tidb_binlog_is_fake(const tr_tidb_binlog_t *b)
{
    return b->start_ts == b->commit_ts;
}

/*
 * Decodes a marshalled binlog.Binlog. Returns len (all consumed) or
 * TR_EMALFORMED with *why. Unknown fields are skipped. Does not allocate.
 */
ssize_t tr_tidb_binlog_decode(const uint8_t *p, size_t len, tr_tidb_binlog_t *out,
                              const char **why);

/*
 * Extracts Entity.payload from a marshalled PullBinlogResp (the bytes a Pump
 * streams). Returns 0 and a view in *payload, or TR_EMALFORMED with *why.
 */
int tr_tidb_pull_resp_payload(const uint8_t *p, size_t len, tr_slice_t *payload, const char **why);

/* Encodes PullBinlogReq{clusterID, startFrom{offset}} into out. */
void tr_tidb_pull_req_encode(tr_buf_t *out, uint64_t cluster_id, int64_t offset);

/*
 * PrewriteValue, read in place (no allocation, no copy, O(1) memory in rows):
 *
 *   PrewriteValue   1 schema_version varint | 2 mutations TableMutation (repeated)
 *   TableMutation   1 table_id varint | 2 inserted_rows bytes | 3 updated_rows bytes |
 *                   4 deleted_ids (legacy, skipped) | 5 deleted_pks (legacy, skipped) |
 *                   6 deleted_rows bytes | 7 sequence MutationType (packed or not)
 *
 * Fields may come in any order (TiDB's gogo marshaller writes them by number, so
 * `sequence` follows the rows) and a repeated field's elements may be spread over
 * several occurrences. tr_tidb_prewrite_next walks the mutations and checks each
 * in one pass; tr_tidb_rows_next then yields its rows in statement order with
 * forward-only cursors (one over the sequence entries, one per row list), as
 * Drainer's sequence_iterator.go does (tidb-binlog drainer/translator).
 */

/* One TableMutation, checked by tr_tidb_prewrite_next. */
typedef struct {
    int64_t table_id;   /* 0 when absent */
    tr_slice_t body;    /* the marshalled TableMutation: returns view into the PrewriteValue */
    size_t n_inserted;  /* inserted_rows elements */
    size_t n_updated;   /* updated_rows elements */
    size_t n_deleted;   /* deleted_rows elements */
    size_t n_sequence;  /* sequence entries: the rows tr_tidb_rows_next yields */
    size_t first[4];    /* body offset of the first inserted, updated, deleted row and
                         * sequence field (where the row cursor starts looking) */
} tr_tidb_mutation_t;

/* Forward-only walk over the mutations of one PrewriteValue. */
typedef struct {
    const uint8_t *p;       /* the PrewriteValue (keeps: must outlive the walk) */
    size_t len;
    size_t pos;             /* next top-level field */
    int64_t schema_version; /* last schema_version field, 0 when absent */
    size_t n_mutations;     /* mutations fields in the message */
} tr_tidb_prewrite_iter_t;

/*
 * Starts a walk over the PrewriteValue p[0..len): one pass over its top-level
 * fields fills schema_version and n_mutations (mutations themselves are not
 * looked into). Returns 0 or TR_EMALFORMED with *why (truncated or malformed
 * protobuf, schema_version not a varint, a mutation not length-delimited).
 */
int tr_tidb_prewrite_iter_init(tr_tidb_prewrite_iter_t *it, const uint8_t *p, size_t len,
                               const char **why) TR_MUSTCHECK;

/*
 * Next mutation in message order. Checks it in one pass over its fields: the
 * protobuf framing, the wire type of each known field, every sequence entry is
 * Insert (0), Update (1) or DeleteRow (4) (DeleteID/DeletePK are legacy kinds
 * TiDB does not write), and each kind names exactly as many rows as its list
 * holds. A mutation without any sequence entry yields no rows, whatever its
 * lists hold (Drainer walks `sequence` only; TiDB always writes it).
 * Returns 1 (*m filled; m->body is a view into the PrewriteValue), 0 after the
 * last mutation, or TR_EMALFORMED with *why.
 */
int tr_tidb_prewrite_next(tr_tidb_prewrite_iter_t *it, tr_tidb_mutation_t *m,
                          const char **why) TR_MUSTCHECK;

/*
 * The schema_version of a PrewriteValue without looking into its mutations
 * (the cost of tr_tidb_prewrite_iter_init). Returns 0 or TR_EMALFORMED as
 * tr_tidb_prewrite_iter_init does.
 */
int tr_tidb_prewrite_schema_version(const uint8_t *p, size_t len, int64_t *schema_version,
                                    const char **why) TR_MUSTCHECK;

/* Cursor over one mutation's rows in statement order (caller storage, no cleanup). */
typedef struct {
    const uint8_t *p;     /* mutation body (view) */
    size_t len;
    size_t seq_pos;       /* next field to look at for sequence entries */
    size_t packed_pos;    /* unread part [packed_pos, packed_end) of a packed sequence */
    size_t packed_end;
    size_t seq_left;      /* sequence entries not yet yielded */
    size_t row_pos[3];    /* next field to look at: inserted, updated, deleted rows */
    size_t row_left[3];   /* rows not yet yielded, same order */
} tr_tidb_rows_t;

/* Starts at the first row of m (borrows m; keeps m->body). */
void tr_tidb_rows_init(tr_tidb_rows_t *c, const tr_tidb_mutation_t *m);

/*
 * Next row in statement order: *kind is TR_TIDB_MUT_INSERT, _UPDATE or
 * _DELETE_ROW and *row the row bytes (returns view into the mutation body).
 * Returns 1, 0 after the last row, or TR_EMALFORMED with *why: a sequence
 * entry with no row of its kind left, rows left over after the last entry, an
 * unknown kind, or malformed bytes (none of which can happen after
 * tr_tidb_prewrite_next accepted the mutation).
 */
int tr_tidb_rows_next(tr_tidb_rows_t *c, int32_t *kind, tr_slice_t *row,
                      const char **why) TR_MUSTCHECK;

#endif
