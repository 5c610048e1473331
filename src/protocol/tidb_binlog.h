/*
 * TiDB Binlog messages as a Pump streams them (shared/spec/tidb-binlog.md
 * sections 2-3; proto files in src/protocol/proto/). The outer Binlog is read
 * as views into the payload without allocating; PrewriteValue and its
 * TableMutations are unpacked into a caller's arena.
 * Pure codec: no I/O, no logging.
 */
#ifndef TR_PROTOCOL_TIDB_BINLOG_H
#define TR_PROTOCOL_TIDB_BINLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/mem.h"

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

typedef struct {
    int64_t table_id;
    tr_slice_t *inserted_rows;
    size_t n_inserted;
    tr_slice_t *updated_rows;
    size_t n_updated;
    tr_slice_t *deleted_rows;
    size_t n_deleted;
    int32_t *sequence;  /* TR_TIDB_MUT_* in statement order */
    size_t n_sequence;
} tr_tidb_mutation_t;

typedef struct {
    int64_t schema_version;
    tr_tidb_mutation_t *mutations;
    size_t n_mutations;
} tr_tidb_prewrite_t;

/* Decodes a PrewriteValue; arrays come from arena, row bytes are views into p
 * (accepts packed and unpacked `sequence`). Returns 0 or TR_EMALFORMED. */
int tr_tidb_prewrite_decode(const uint8_t *p, size_t len, tr_arena_t *arena,
                            tr_tidb_prewrite_t *out, const char **why);

#endif
