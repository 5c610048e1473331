/*
 * The store: binlog files of every enabled flavour plus the sqlite index,
 * appended atomically per group commit and read by dump sessions.
 *
 * Writer side (one thread, the relay's writer):
 *   pos = tr_store_txn_pos(s, f)            for each enabled flavour f
 *   encode events at pos, tr_store_txn_append(s, f, bytes, len)
 *   tr_store_txn_end(s, &info)              marks the transaction complete
 *   ... more transactions ...
 *   tr_store_commit(s)                      group commit: write, fsync (per sync
 *                                            policy), commit index rows, rotate
 *                                            files past max-binlog-size, publish
 *                                            the new readable ends, call notify.
 * Durability order: file bytes, then fsync, then the index commit. Readers
 * only ever see bytes up to the last committed transaction.
 *
 * Reader side (any thread): file lookups return a snapshot of a file's
 * path and readable size; the bytes below that size never change.
 *
 * On open, every active file is cut back to the last indexed transaction end,
 * files the index does not know are removed, and the checkpoint of the last
 * committed transaction is returned so pulling resumes after it.
 *
 * Layout: <dir>/index.sqlite, <dir>/binlog/<flavour>/<basename>.NNNNNN and
 * <basename>.index (one file name per line, as MySQL keeps it).
 * The store does not include uv.h; notify is a plain callback.
 */
#ifndef TR_STORE_STORE_H
#define TR_STORE_STORE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/defs.h"
#include "common/metrics.h"
#include "protocol/binlog_event.h"
#include "protocol/catalog.h"

typedef struct tr_store tr_store_t;

typedef enum {
    TR_SYNC_COMMIT = 0, /* fsync files then index at every group commit (default) */
    TR_SYNC_NONE = 1,   /* no fsync: the OS decides (fast, unsafe on power loss) */
} tr_sync_mode_t;

typedef struct {
    const char *dir;            /* store root directory (created if missing) */
    const char *basename;       /* binlog base name, e.g. "tirelay-bin" */
    uint64_t max_binlog_size;   /* rotate after a transaction ends past this size */
    tr_sync_mode_t sync;
    uint32_t server_id;         /* header server_id of every event */
    uint8_t server_uuid[16];    /* MySQL GTID source id */
    uint32_t gtid_domain_id;    /* MariaDB GTID domain */
    uint64_t gtid_start;        /* GTID number of the first transaction ever */
    uint32_t first_timestamp;   /* header timestamp of a file created before any transaction;
                                 * 0 is taken as 1: MariaDB marks fake events with timestamp 0
                                 * and mariadb-binlog skips a GTID_LIST that carries it */
    bool flavors[TR_FLAVOR_COUNT]; /* which flavours have file sets */
    const char *server_version[TR_FLAVOR_COUNT]; /* FORMAT_DESCRIPTION server version per flavour */
    const struct tr_store_io *io; /* file-system calls (store/binlog_file.h); NULL = the real
                                   * ones. Tests inject faults through it. keeps */
} tr_store_opts_t;

/*
 * True for the errors after which tr_store_commit keeps every pending transaction so
 * the caller can call it again later: the file system is full (ENOSPC, EDQUOT). Any
 * other commit error discards them (as tr_store_abort).
 */
static inline bool tr_store_err_is_full(int rc)
{
    return rc == -ENOSPC || rc == -EDQUOT;
}

/* The last committed transaction, as recovered at open. */
typedef struct {
    bool has_txn;           /* false on a fresh store */
    int64_t commit_ts;      /* TiDB commit TSO of the last transaction */
    int64_t schema_version; /* schema version after it */
    uint64_t gtid_no;       /* its GTID number (next is gtid_no + 1) */
} tr_store_checkpoint_t;

/* A transaction the writer has appended to every enabled flavour. */
typedef struct {
    uint64_t gtid_no;
    int64_t commit_ts;
    int64_t schema_version;
    uint32_t timestamp; /* header timestamp used for its events (seconds) */
} tr_txn_info_t;

/*
 * Opens (or creates) the store and recovers it. Returns 0 and an owned store in
 * *out (free with tr_store_free), with the checkpoint in *cp; or a negative
 * code (TR_ECORRUPT, TR_ESQLITE, -errno) with a message in *why (static or
 * valid until the next call). Logs its recovery decisions. Thread: any (once).
 */
int tr_store_open(const tr_store_opts_t *opts, tr_store_t **out, tr_store_checkpoint_t *cp,
                  const char **why) TR_MUSTCHECK;
void tr_store_free(tr_store_t *s);

typedef void (*tr_store_notify_cb)(void *arg);
/* Called on the writer thread after each commit made new bytes readable. keeps arg. */
void tr_store_set_notify(tr_store_t *s, tr_store_notify_cb cb, void *arg);

/* ---- writer thread ---- */

/* File offset at which the next appended byte of flavour f will land. */
uint64_t tr_store_txn_pos(tr_store_t *s, tr_flavor_t f);
/* GTID number of the first transaction of flavour f's active file (the next one to be
 * written when the file holds none yet). MySQL's logical clock counts from it, so it is
 * the same before and after a restart. */
uint64_t tr_store_file_first_gtid(const tr_store_t *s, tr_flavor_t f);

/* Appends complete events (encoded for tr_store_txn_pos) to flavour f. Not yet durable
 * or visible. Returns 0 or -errno; after an error the pending transaction is discarded
 * by tr_store_abort. Bytes that do not fit on a full file system stay in memory (no
 * error here): tr_store_commit reports it. After a failed fsync every call returns
 * that error (the store writes nothing more until it is reopened). */
int tr_store_txn_append(tr_store_t *s, tr_flavor_t f, const uint8_t *p, size_t len) TR_MUSTCHECK;
/* Marks the end of a transaction appended to every enabled flavour. */
int tr_store_txn_end(tr_store_t *s, const tr_txn_info_t *info) TR_MUSTCHECK;
/* Drops every appended but uncommitted byte (after an error). */
void tr_store_abort(tr_store_t *s);
/*
 * Group commit of every ended transaction; rotation happens here. Returns 0 or a
 * negative code; on error nothing new became visible. When tr_store_err_is_full(rc)
 * the pending transactions are kept (bytes partly written are cut back, no torn
 * event is left in a file) and the caller retries later or calls tr_store_abort;
 * after any other error they are discarded. A failed fsync is fatal for the store:
 * the kernel may have dropped the pages it could not write and marked them clean, so
 * a retried fsync could succeed without the bytes being on disk ("fsyncgate"); every
 * later append and commit returns the same error and the store must be reopened
 * (recovery cuts each file back to its last committed transaction).
 */
int tr_store_commit(tr_store_t *s) TR_MUSTCHECK;
/* Schema history (DDL jobs as their history JSON, copied): kept in memory and written
 * to the index in the next group commit's sqlite transaction, so every committed
 * transaction's table versions are on disk with it. */
void tr_store_add_schema_job(tr_store_t *s, int64_t job_id, int64_t schema_version,
                             const char *json, size_t len);
/* Calls fn for every stored DDL job in job id order (at start, before the writer runs).
 * Returns 0, fn's non-zero result, or TR_ESQLITE with *why. */
typedef int (*tr_store_schema_job_fn)(void *arg, int64_t job_id, const char *json, size_t len);
int tr_store_schema_jobs(tr_store_t *s, tr_store_schema_job_fn fn, void *arg,
                         const char **why) TR_MUSTCHECK;
/* The upstream position after the last ended transaction, as the relay writes it (an
 * input's offsets, e.g. Kafka partitions): kept and written in the next group commit's
 * sqlite transaction, so the stored position is always that of the last committed
 * transaction. A commit with no transaction stores a new position alone. Copies text;
 * replaces a pending one; tr_store_abort drops it. */
void tr_store_set_position(tr_store_t *s, const char *text);
/* The stored position (returns owned in *out, tr_free; NULL when none was ever stored).
 * Returns 0 or TR_ESQLITE with *why. At start, before the writer runs. */
int tr_store_position(tr_store_t *s, char **out, const char **why) TR_MUSTCHECK;
/* The schema catalogue clients read (protocol/catalog.h). takes cat (may be NULL). With now
 * false it becomes current at the next successful tr_store_commit, before notify (the
 * catalogue of the schema after the group's last transaction; replaces any pending one);
 * with now true at once (at start). */
void tr_store_set_catalog(tr_store_t *s, tr_catalog_t *cat, bool now);

/* True when ended-but-uncommitted transactions are waiting. */
bool tr_store_has_pending(const tr_store_t *s);

/* ---- readers (any thread) ---- */

typedef struct {
    uint32_t seq;          /* file number (1 = .000001) */
    char name[96];         /* base name, e.g. "tirelay-bin.000001" */
    char path[512];        /* full path to open */
    uint64_t size;         /* readable bytes (committed end for the active file) */
    bool is_active;        /* the file still being written */
    uint64_t first_gno;    /* GTID number of the file's first transaction (the next one to be
                            * written while it holds none): its PREVIOUS_GTIDS / GTID_LIST
                            * header covers every number below */
} tr_binlog_file_t;

/* Looks a file up by base name. TR_ENOTFOUND if it does not exist (or was purged). */
int tr_store_file_by_name(tr_store_t *s, tr_flavor_t f, const char *name, tr_binlog_file_t *out);
/* The file after seq; TR_ENOTFOUND if seq is the last one. */
int tr_store_file_next(tr_store_t *s, tr_flavor_t f, uint32_t seq, tr_binlog_file_t *out);
/* The oldest / newest file. */
int tr_store_file_first(tr_store_t *s, tr_flavor_t f, tr_binlog_file_t *out);
int tr_store_file_last(tr_store_t *s, tr_flavor_t f, tr_binlog_file_t *out);
/* All files oldest first; returns owned array in *files (free with tr_free). */
int tr_store_list_files(tr_store_t *s, tr_flavor_t f, tr_binlog_file_t **files, size_t *n);
/* The current catalogue, referenced (tr_catalog_unref), or NULL before the first one. */
tr_catalog_t *tr_store_catalog(tr_store_t *s);
/* Last committed transaction (has_txn false if none). */
void tr_store_last_txn(tr_store_t *s, tr_store_checkpoint_t *out);
/* One consistent view for a session holding FLUSH TABLES WITH READ LOCK: the catalogue,
 * flavour f's last file and the last committed transaction, taken together under the
 * store lock (a commit publishes all three at once). */
typedef struct {
    tr_catalog_t *cat;          /* referenced (tr_catalog_unref), NULL before the first */
    bool has_file;
    tr_binlog_file_t file;      /* flavour f's last file, valid when has_file */
    tr_store_checkpoint_t last; /* tr_store_last_txn */
} tr_store_view_t;
void tr_store_view(tr_store_t *s, tr_flavor_t f, tr_store_view_t *out);
bool tr_store_flavor_enabled(const tr_store_t *s, tr_flavor_t f);
/* The file-system calls the store makes (its readers make the same). */
const struct tr_store_io *tr_store_io(const tr_store_t *s);

/* ---- statistics (any thread) ---- */

/* Counters since open and the current disk usage, for /metrics. */
typedef struct {
    uint64_t txns;                        /* transactions committed */
    uint64_t group_commits;               /* successful group commits */
    uint64_t bytes[TR_FLAVOR_COUNT];      /* binlog bytes made readable (events, headers) */
    uint64_t disk_bytes[TR_FLAVOR_COUNT]; /* readable bytes of every file still present */
    uint64_t files[TR_FLAVOR_COUNT];      /* binlog files present */
    tr_hist_snap_t fsync;                 /* fdatasync of binlog files (sync = commit) */
    tr_hist_snap_t commit;                /* whole group commits: write, fsync, index */
} tr_store_stats_t;

/* Fills out. Counters are relaxed atomics; the file list is read under the
 * store mutex (never held across I/O). */
void tr_store_stats(tr_store_t *s, tr_store_stats_t *out);

/* ---- purge (any thread; one purge at a time per store) ---- */

/*
 * Deletes the files of flavour f numbered below before_seq, oldest first; the
 * active file is never deleted (before_seq is clamped to it). Order: the files
 * leave the published list (new lookups no longer find them), their index
 * rows are deleted (a second sqlite connection, so the writer is not
 * disturbed), <basename>.index is rewritten, then the files are unlinked. A
 * reader that still holds a snapshot of a purged file keeps its open fd;
 * callers check that no reader uses them (the store does not track readers).
 * Transaction rows stay in the index. Returns 0 with the number of files
 * removed in *n_purged, or a negative code with *why (valid until the next
 * call on this store). Logs each removed file.
 */
int tr_store_purge(tr_store_t *s, tr_flavor_t f, uint32_t before_seq, size_t *n_purged,
                   const char **why) TR_MUSTCHECK;

/* ---- lookups (any thread; may block on sqlite: not for the loop thread) ---- */

typedef enum {
    TR_STORE_FIND_TSO = 0, /* the last transaction with commit_ts <= key */
    TR_STORE_FIND_GTID,    /* the transaction numbered key */
    TR_STORE_FIND_POS,     /* the last transaction of file seq of flavour f ending at or
                            * before offset key */
} tr_store_find_t;

/* A committed transaction as the index keeps it. */
typedef struct {
    uint64_t gtid_no;
    int64_t commit_ts;
    int64_t schema_version;
    uint32_t timestamp;                 /* header timestamp of its events (seconds) */
    bool has_pos[TR_FLAVOR_COUNT];      /* false when the flavour was disabled then */
    uint32_t seq[TR_FLAVOR_COUNT];      /* file holding it, per flavour */
    uint64_t end[TR_FLAVOR_COUNT];      /* offset just after it in that file */
} tr_store_txn_t;

/*
 * Finds a committed transaction in the index through the store's own lookup
 * connection (opened on first use, one lookup at a time). Rows of purged
 * files' transactions stay in the index: callers compare seq with the
 * oldest file still listed. f and seq are used by TR_STORE_FIND_POS only.
 * Returns 0, TR_ENOTFOUND, or TR_ESQLITE with *why (valid until
 * the next lookup).
 */
int tr_store_find_txn(tr_store_t *s, tr_store_find_t by, int64_t key, tr_flavor_t f,
                      uint32_t seq, tr_store_txn_t *out, const char **why) TR_MUSTCHECK;

#endif
