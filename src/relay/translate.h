/*
 * Translation of one committed TiDB transaction (DML or DDL binlog) into the
 * binlog events of one output flavour, appended through an event writer:
 *   MySQL   DML: GTID(33), QUERY "BEGIN", TABLE_MAP..., WRITE/UPDATE/DELETE_ROWS v2..., XID
 *   MySQL   DDL: GTID(33, flags 1), QUERY <ddl>
 * (MariaDB flavour comes later: GTID(162), TABLE_MAP, rows, XID.)
 * Rows are decoded with TiDB's datum codec against the table version the
 * schema tracker holds for the transaction's schema_version.
 * Pure: no I/O; the caller brings the schema up to date first.
 */
#ifndef TR_RELAY_TRANSLATE_H
#define TR_RELAY_TRANSLATE_H

#include <stdint.h>

#include "common/defs.h"
#include "common/mem.h"
#include "common/tso.h"
#include "protocol/binlog_event.h"
#include "protocol/tidb_binlog.h"
#include "protocol/tidb_datum.h"
#include "relay/filter.h"
#include "relay/schema.h"

/* Identity and numbering of the transaction being written. */
typedef struct {
    uint64_t gtid_no;         /* GTID number (gtid-start based) */
    uint8_t server_uuid[16];  /* MySQL SID */
    uint32_t server_id;
    uint32_t gtid_domain_id;  /* MariaDB */
    int64_t last_committed;   /* MySQL logical clock (per file) */
    int64_t sequence_number;
    uint32_t timestamp;       /* header timestamp: commit_ts physical seconds */
    uint64_t commit_ts_us;    /* commit_ts physical part in microseconds */
    uint32_t row_event_max_bytes; /* new rows event once one holds this much; 0 = 8192 */
    /* Streaming (optional): between two events, once w->out holds flush_bytes
     * or more, flush(flush_arg, w) is called; it hands the bytes on (stores
     * them), empties w->out and rebases w (tr_evt_writer_rebase) at the new
     * file offset, returning 0 or a negative code that aborts the translation.
     * The translation itself stays free of I/O; the hook is the caller's. */
    /* DDL: the statement to write for this flavour (the dialect rewriter's output);
     * NULL = the binlog's ddl_query (or the job's query) as is. */
    const char *ddl_sql;
    size_t ddl_sql_len;
    const char *ddl_db;       /* DDL: default database to write; NULL = the job's schema */
    /* DML: tables the filter drops are left out, kept ones carry the names it gives
     * (TABLE_MAP); NULL = every table as TiDB names it. Looked up per table touched with
     * the schema's applied version as cache generation. */
    tr_filter_t *filter;
    int (*flush)(void *flush_arg, tr_evt_writer_t *w);
    void *flush_arg;
    size_t flush_bytes;
    uint64_t *rows_out;       /* optional: row changes written are added here (metrics) */
    tr_evt_tm_cache_t *tm_cache; /* optional: TABLE_MAP bodies of this flavour to reuse */
} tr_txn_ctx_t;

/*
 * Appends the events of binlog b (tp Commit, not fake) to w (whose timestamp
 * and server_id the caller set). DML: b->prewrite_value is read in place
 * (borrowed for the call); arena only gets per-table scratch, O(tables x
 * columns) and never per row (reset by the caller after storing). DDL
 * (b->ddl_job_id > 0): the query is written as is in a QUERY event with the
 * job's schema as default db.
 * Returns 0, TR_TRANSLATE_FILTERED (ctx->filter drops every table touched: nothing
 * written), TR_ENOTFOUND (a table id the schema does not know: caller
 * refreshes the schema and retries), TR_EMALFORMED/TR_ESCHEMA (row bytes do not
 * match the schema, or a malformed PrewriteValue), TR_ETOOBIG, or ctx->flush's
 * error; *why explains. TR_ENOTFOUND, TR_EUNSUPPORTED and a malformed
 * PrewriteValue structure (protobuf framing, sequence vs rows) come before any
 * event (and any flush). On error the caller discards w's buffer and what flush
 * stored (tr_store_abort).
 */
/* tr_translate_txn's answer for a DML transaction whose every table the filter drops:
 * nothing was written (and no GTID is to be used). */
#define TR_TRANSLATE_FILTERED 1

int tr_translate_txn(const tr_tidb_binlog_t *b, tr_schema_t *schema, const tr_txn_ctx_t *ctx,
                     tr_evt_writer_t *w, tr_arena_t *arena, const char **why) TR_MUSTCHECK;

/*
 * Row changes already decoded (TiCDC's canal-json path): each one a table version, the
 * names its TABLE_MAP carries (the filter's), the kind (TR_TIDB_MUT_INSERT, _UPDATE,
 * _DELETE) and its image(s) as one datum per public column of t (present[k] false: no
 * value, NULL or the zero value as on the Pump path). vals[0] is the only image, or an
 * UPDATE's before image; vals[1] its after image. Views, valid until the next call.
 */
typedef struct {
    const tr_table_info_t *t;
    const char *db;
    const char *table;
    int32_t op;
    const tr_datum_t *vals[2];
    const bool *present[2];
} tr_row_change_t;

/* The rows of one transaction, in the order they are to be written: next returns 1 with a
 * row, 0 at the end, or a negative code with *why (the translation stops with it). */
typedef struct {
    int (*next)(void *arg, tr_row_change_t *row, const char **why);
    void *arg;
} tr_row_iter_t;

/*
 * Appends one DML transaction made of its rows: GTID, (MySQL: QUERY BEGIN), then per run
 * of rows of one table and kind a TABLE_MAP and rows events split near
 * ctx->row_event_max_bytes, the last carrying STMT_END, then XID; streamed through
 * ctx->flush as tr_translate_txn does. No allocation. Returns 0, TR_TRANSLATE_FILTERED
 * (it gave no row: nothing written), an error of the iterator, a value that does not fit
 * its column (TR_ESCHEMA, TR_EMALFORMED, TR_EUNSUPPORTED) or ctx->flush's error, with *why.
 * On error the caller discards what was written.
 */
int tr_translate_rows(const tr_row_iter_t *it, const tr_txn_ctx_t *ctx, tr_evt_writer_t *w,
                      const char **why) TR_MUSTCHECK;

/*
 * Appends a DDL job as GTID + QUERY: ctx->ddl_sql when set, else sql (the job's query when
 * sql_len is 0), with the job's schema (or ctx->ddl_db) as default database; database
 * DDL runs without one. Never fails (a too-large output is the buffer's sticky error).
 */
void tr_translate_ddl(const tr_ddl_job_t *job, const char *sql, size_t sql_len,
                      const tr_txn_ctx_t *ctx, tr_evt_writer_t *w);

/* True when the binlog produces no events (e.g. `select setval` pseudo-DDL). */
bool tr_translate_skips(const tr_tidb_binlog_t *b, const tr_schema_t *schema);

#endif
