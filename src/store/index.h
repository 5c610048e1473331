/*
 * The store's sqlite index: binlog files per flavour and one row per
 * committed transaction with its end position in every flavour's file.
 * The only includer of sqlite3.h. Never logs: returns 0 / TR_ESQLITE /
 * TR_ENOTFOUND with a message (valid until the next call) in *why.
 *
 * Schema (WAL mode):
 *   files(flavor, seq, name, created, header_end, size)  PK (flavor, seq);
 *         size is NULL while the file is active, set when it is rotated away.
 *   txns(gtid_no PK, commit_ts, schema_version, timestamp,
 *        seq0, end0, seq1, end1)   seqN/endN: file and end offset in flavour N
 *        (NULL when the flavour is disabled).
 *   meta(key PK, value)  free-form settings.
 *   schema_jobs(job_id PK, schema_version, job_meta)  every TiDB DDL job the
 *        relay learnt (its history JSON as fetched), so a restart decodes rows
 *        without TiDB's history. Created if missing: older index files open
 *        as they are and get the table empty.
 * One sqlite transaction per group commit (tr_index_begin .. tr_index_commit).
 * Thread: the writer thread only (one connection, never shared).
 */
#ifndef TR_STORE_INDEX_H
#define TR_STORE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/defs.h"
#include "protocol/binlog_event.h"

typedef struct tr_index tr_index_t;

typedef struct {
    uint32_t seq;
    char name[96];
    int64_t created;
    uint64_t header_end; /* end of the file's header events */
    bool is_closed;      /* rotated away: size is final */
    uint64_t size;       /* final size when is_closed */
} tr_index_file_t;

typedef struct {
    uint64_t gtid_no;
    int64_t commit_ts;
    int64_t schema_version;
    uint32_t timestamp;
    bool has_pos[TR_FLAVOR_COUNT];
    uint32_t seq[TR_FLAVOR_COUNT];
    uint64_t end[TR_FLAVOR_COUNT];
} tr_index_txn_t;

/* full_sync: synchronous=FULL (else OFF). Returns 0 and an owned index in *out
 * (free with tr_index_free), or TR_ESQLITE with a message written to msg. */
int tr_index_open(const char *path, bool full_sync, tr_index_t **out, char *msg, size_t msg_len)
    TR_MUSTCHECK;
void tr_index_free(tr_index_t *idx);

/* Files of flavour f oldest first: returns owned array (tr_free) in *files. */
int tr_index_files(tr_index_t *idx, tr_flavor_t f, tr_index_file_t **files, size_t *n,
                   const char **why) TR_MUSTCHECK;
/* The last committed transaction; TR_ENOTFOUND when there is none. */
int tr_index_last_txn(tr_index_t *idx, tr_index_txn_t *out, const char **why) TR_MUSTCHECK;
/* The last transaction stored in file seq of flavour f; TR_ENOTFOUND if none. */
/* Lowest GTID number of the transactions in file seq of flavour f; TR_ENOTFOUND if none. */
int tr_index_first_gtid_in_file(tr_index_t *idx, tr_flavor_t f, uint32_t seq, uint64_t *gtid_no,
                                const char **why);
int tr_index_last_txn_in_file(tr_index_t *idx, tr_flavor_t f, uint32_t seq, tr_index_txn_t *out,
                              const char **why) TR_MUSTCHECK;

int tr_index_begin(tr_index_t *idx, const char **why) TR_MUSTCHECK;
int tr_index_commit(tr_index_t *idx, const char **why) TR_MUSTCHECK;
void tr_index_rollback(tr_index_t *idx);
/* Inserts the n transactions t[0..n) (in batches of rows per statement). */
int tr_index_put_txns(tr_index_t *idx, const tr_index_txn_t *t, size_t n, const char **why)
    TR_MUSTCHECK;
int tr_index_put_file(tr_index_t *idx, tr_flavor_t f, const tr_index_file_t *file,
                      const char **why) TR_MUSTCHECK;
/* Marks file seq closed with its final size. */
int tr_index_close_file(tr_index_t *idx, tr_flavor_t f, uint32_t seq, uint64_t size,
                        const char **why) TR_MUSTCHECK;

/* Adds a DDL job (ignored when job_id is there already); call inside a transaction. */
int tr_index_put_schema_job(tr_index_t *idx, int64_t job_id, int64_t schema_version,
                            const char *json, size_t len, const char **why) TR_MUSTCHECK;
/* Calls fn for every stored DDL job in job id order; a non-zero return of fn stops the
 * walk and is returned. */
typedef int (*tr_index_schema_job_fn)(void *arg, int64_t job_id, const char *json, size_t len);
int tr_index_schema_jobs(tr_index_t *idx, tr_index_schema_job_fn fn, void *arg,
                         const char **why) TR_MUSTCHECK;

/* The meta table (key, text value): put inside the caller's transaction; get returns an
 * owned copy in *out (tr_free), or TR_ENOTFOUND. Both may return TR_ESQLITE with *why. */
int tr_index_put_meta(tr_index_t *idx, const char *key, const char *value, const char **why)
    TR_MUSTCHECK;
int tr_index_get_meta(tr_index_t *idx, const char *key, char **out, const char **why) TR_MUSTCHECK;
/* Deletes the rows of files of flavour f numbered below before_seq (one sqlite
 * transaction). May run on a second connection of the same database while the
 * writer uses its own. */
int tr_index_purge_files(tr_index_t *idx, tr_flavor_t f, uint32_t before_seq,
                         const char **why) TR_MUSTCHECK;

/* ---- lookups (prepared per call; any connection) ---- */

/* The last transaction with commit_ts <= ts; TR_ENOTFOUND when none. */
int tr_index_txn_at_tso(tr_index_t *idx, int64_t ts, tr_index_txn_t *out, const char **why)
    TR_MUSTCHECK;
/* The transaction numbered gtid_no; TR_ENOTFOUND when none. */
int tr_index_txn_by_gtid(tr_index_t *idx, uint64_t gtid_no, tr_index_txn_t *out,
                         const char **why) TR_MUSTCHECK;
/* The last transaction of file seq in flavour f that ends at or before pos;
 * TR_ENOTFOUND when none. */
int tr_index_txn_at_pos(tr_index_t *idx, tr_flavor_t f, uint32_t seq, uint64_t pos,
                        tr_index_txn_t *out, const char **why) TR_MUSTCHECK;

#endif
