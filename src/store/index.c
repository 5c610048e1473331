/*
 * sqlite index of the store (see index.h): prepared statements on one
 * connection, WAL journal. The only file that includes sqlite3.h; it never
 * logs (errors go back with sqlite's message in *why).
 */
#include "store/index.h"

#include <errno.h>

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "common/err.h"
#include "common/mem.h"

enum {
    ST_FILES,
    ST_LAST_TXN,
    ST_LAST_TXN_IN_FILE0,
    ST_LAST_TXN_IN_FILE1,
    ST_FIRST_GTID_IN_FILE0,
    ST_FIRST_GTID_IN_FILE1,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_PUT_TXN,
    ST_PUT_TXNS, /* PUT_TXN_BATCH rows in one statement */
    ST_PUT_FILE,
    ST_CLOSE_FILE,
    ST_PUT_SCHEMA_JOB,
    ST_SCHEMA_JOBS,
    ST_PUT_META,
    ST_GET_META,
    ST_COUNT,
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_FILES] = "SELECT seq, name, created, header_end, size FROM files WHERE flavor = ?1 "
                 "ORDER BY seq",
    [ST_LAST_TXN] = "SELECT gtid_no, commit_ts, schema_version, timestamp, seq0, end0, seq1, end1 "
                    "FROM txns ORDER BY gtid_no DESC LIMIT 1",
    [ST_LAST_TXN_IN_FILE0] = "SELECT gtid_no, commit_ts, schema_version, timestamp, seq0, end0, "
                             "seq1, end1 FROM txns WHERE seq0 = ?1 ORDER BY gtid_no DESC LIMIT 1",
    [ST_LAST_TXN_IN_FILE1] = "SELECT gtid_no, commit_ts, schema_version, timestamp, seq0, end0, "
                             "seq1, end1 FROM txns WHERE seq1 = ?1 ORDER BY gtid_no DESC LIMIT 1",
    [ST_FIRST_GTID_IN_FILE0] = "SELECT MIN(gtid_no) FROM txns WHERE seq0 = ?1",
    [ST_FIRST_GTID_IN_FILE1] = "SELECT MIN(gtid_no) FROM txns WHERE seq1 = ?1",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_PUT_TXN] = "INSERT INTO txns(gtid_no, commit_ts, schema_version, timestamp, seq0, end0, "
                   "seq1, end1) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_PUT_TXNS] = NULL, /* built by put_txns_sql */
    [ST_PUT_FILE] = "INSERT INTO files(flavor, seq, name, created, header_end, size) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
    [ST_CLOSE_FILE] = "UPDATE files SET size = ?3 WHERE flavor = ?1 AND seq = ?2",
    [ST_PUT_SCHEMA_JOB] = "INSERT OR IGNORE INTO schema_jobs(job_id, schema_version, job_meta) "
                          "VALUES (?1, ?2, ?3)",
    [ST_SCHEMA_JOBS] = "SELECT job_id, job_meta FROM schema_jobs ORDER BY job_id",
    [ST_PUT_META] = "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
    [ST_GET_META] = "SELECT value FROM meta WHERE key = ?1",
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS files(flavor INTEGER NOT NULL, seq INTEGER NOT NULL, "
    "  name TEXT NOT NULL, created INTEGER NOT NULL, header_end INTEGER NOT NULL, size INTEGER, "
    "  PRIMARY KEY(flavor, seq));"
    "CREATE TABLE IF NOT EXISTS txns(gtid_no INTEGER PRIMARY KEY, commit_ts INTEGER NOT NULL, "
    "  schema_version INTEGER NOT NULL, timestamp INTEGER NOT NULL, "
    "  seq0 INTEGER, end0 INTEGER, seq1 INTEGER, end1 INTEGER);"
    "CREATE INDEX IF NOT EXISTS txns_seq0 ON txns(seq0);"
    "CREATE INDEX IF NOT EXISTS txns_seq1 ON txns(seq1);"
    "CREATE INDEX IF NOT EXISTS txns_commit_ts ON txns(commit_ts);"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
    /* added with the schema history (an index file from before gets it empty on open) */
    "CREATE TABLE IF NOT EXISTS schema_jobs(job_id INTEGER PRIMARY KEY, "
    "  schema_version INTEGER NOT NULL, job_meta BLOB NOT NULL);";

/* Transactions per INSERT of ST_PUT_TXNS: one statement step for many rows costs about half
 * of as many single-row steps (bench/README.md "sqlite index"). */
#define PUT_TXN_BATCH 32
#define TXN_PARAMS 8 /* the ? of PUT_TXNS_ROW */
#define PUT_TXNS_HEAD                                                                             \
    "INSERT INTO txns(gtid_no, commit_ts, schema_version, timestamp, seq0, end0, seq1, end1) "   \
    "VALUES "
#define PUT_TXNS_ROW "(?,?,?,?,?,?,?,?),"

static void put_txns_sql(char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "%s", PUT_TXNS_HEAD);
    for (int i = 0; i < PUT_TXN_BATCH; i++) {
        n += (size_t)snprintf(out + n, cap - n, "%s", PUT_TXNS_ROW);
    }
    out[n - 1] = '\0'; /* the last row's comma */
}

struct tr_index {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    char msg[256];
};

static int fail(tr_index_t *idx, const char *what, const char **why)
{
    snprintf(idx->msg, sizeof(idx->msg), "sqlite: %s: %s", what,
             idx->db ? sqlite3_errmsg(idx->db) : "out of memory");
    *why = idx->msg;
    /* A full disk is the store's retryable condition, whichever file hit it. */
    if (idx->db != NULL && (sqlite3_extended_errcode(idx->db) & 0xff) == SQLITE_FULL) {
        return -ENOSPC;
    }
    return TR_ESQLITE;
}

int tr_index_open(const char *path, bool full_sync, tr_index_t **out, char *msg, size_t msg_len)
{
    tr_index_t *idx = tr_calloc(1, sizeof(*idx));
    const char *what = "open";
    int rc = sqlite3_open_v2(path, &idx->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        goto err;
    }
    (void)sqlite3_busy_timeout(idx->db, 5000);
    char pragmas[160];
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=OFF;",
             full_sync ? "FULL" : "OFF");
    what = "schema";
    if (sqlite3_exec(idx->db, pragmas, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(idx->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
        goto err;
    }
    what = "prepare";
    char batch[sizeof(PUT_TXNS_HEAD) + PUT_TXN_BATCH * sizeof(PUT_TXNS_ROW)];
    put_txns_sql(batch, sizeof(batch));
    for (int i = 0; i < ST_COUNT; i++) {
        const char *sql = i == ST_PUT_TXNS ? batch : stmt_sql[i];
        if (sqlite3_prepare_v2(idx->db, sql, -1, &idx->st[i], NULL) != SQLITE_OK) {
            goto err;
        }
    }
    *out = idx;
    return 0;
err:
    snprintf(msg, msg_len, "sqlite %s %s: %s", what, path,
             idx->db ? sqlite3_errmsg(idx->db) : "out of memory");
    tr_index_free(idx);
    return TR_ESQLITE;
}

void tr_index_free(tr_index_t *idx)
{
    if (idx == NULL) {
        return;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        (void)sqlite3_finalize(idx->st[i]);
    }
    (void)sqlite3_close(idx->db);
    tr_free(idx);
}

/* Runs a statement that returns no rows. */
static int exec_stmt(tr_index_t *idx, int which, const char *what, const char **why)
{
    sqlite3_stmt *st = idx->st[which];
    int rc = sqlite3_step(st);
    int r = 0;
    if (rc != SQLITE_DONE) {
        r = fail(idx, what, why);
    }
    (void)sqlite3_reset(st);
    (void)sqlite3_clear_bindings(st);
    return r;
}

int tr_index_files(tr_index_t *idx, tr_flavor_t f, tr_index_file_t **files, size_t *n,
                   const char **why)
{
    sqlite3_stmt *st = idx->st[ST_FILES];
    (void)sqlite3_bind_int(st, 1, (int)f);
    size_t cap = 8;
    size_t count = 0;
    tr_index_file_t *arr = tr_malloc(cap * sizeof(*arr));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            cap *= 2;
            arr = tr_realloc(arr, cap * sizeof(*arr));
        }
        tr_index_file_t *e = &arr[count++];
        memset(e, 0, sizeof(*e));
        e->seq = (uint32_t)sqlite3_column_int64(st, 0);
        const unsigned char *name = sqlite3_column_text(st, 1);
        snprintf(e->name, sizeof(e->name), "%s", name ? (const char *)name : "");
        e->created = sqlite3_column_int64(st, 2);
        e->header_end = (uint64_t)sqlite3_column_int64(st, 3);
        e->is_closed = sqlite3_column_type(st, 4) != SQLITE_NULL;
        e->size = e->is_closed ? (uint64_t)sqlite3_column_int64(st, 4) : 0;
    }
    int r = 0;
    if (rc != SQLITE_DONE) {
        r = fail(idx, "list files", why);
        tr_free(arr);
        arr = NULL;
        count = 0;
    }
    (void)sqlite3_reset(st);
    (void)sqlite3_clear_bindings(st);
    *files = arr;
    *n = count;
    return r;
}

static int read_txn(tr_index_t *idx, sqlite3_stmt *st, tr_index_txn_t *out, const char *what,
                    const char **why)
{
    int rc = sqlite3_step(st);
    int r = 0;
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof(*out));
        out->gtid_no = (uint64_t)sqlite3_column_int64(st, 0);
        out->commit_ts = sqlite3_column_int64(st, 1);
        out->schema_version = sqlite3_column_int64(st, 2);
        out->timestamp = (uint32_t)sqlite3_column_int64(st, 3);
        for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
            out->has_pos[f] = sqlite3_column_type(st, 4 + 2 * f) != SQLITE_NULL;
            out->seq[f] = (uint32_t)sqlite3_column_int64(st, 4 + 2 * f);
            out->end[f] = (uint64_t)sqlite3_column_int64(st, 5 + 2 * f);
        }
    } else if (rc == SQLITE_DONE) {
        r = TR_ENOTFOUND;
    } else {
        r = fail(idx, what, why);
    }
    (void)sqlite3_reset(st);
    (void)sqlite3_clear_bindings(st);
    return r;
}

int tr_index_last_txn(tr_index_t *idx, tr_index_txn_t *out, const char **why)
{
    return read_txn(idx, idx->st[ST_LAST_TXN], out, "last txn", why);
}

int tr_index_last_txn_in_file(tr_index_t *idx, tr_flavor_t f, uint32_t seq, tr_index_txn_t *out,
                              const char **why)
{
    sqlite3_stmt *st = idx->st[f == TR_FLAVOR_MYSQL ? ST_LAST_TXN_IN_FILE0 : ST_LAST_TXN_IN_FILE1];
    (void)sqlite3_bind_int64(st, 1, seq);
    return read_txn(idx, st, out, "last txn in file", why);
}

int tr_index_first_gtid_in_file(tr_index_t *idx, tr_flavor_t f, uint32_t seq, uint64_t *gtid_no,
                                const char **why)
{
    sqlite3_stmt *st =
        idx->st[f == TR_FLAVOR_MYSQL ? ST_FIRST_GTID_IN_FILE0 : ST_FIRST_GTID_IN_FILE1];
    (void)sqlite3_bind_int64(st, 1, seq);
    int rc = sqlite3_step(st);
    int r = 0;
    if (rc != SQLITE_ROW) {
        r = fail(idx, "first gtid in file", why);
    } else if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
        r = TR_ENOTFOUND;
    } else {
        *gtid_no = (uint64_t)sqlite3_column_int64(st, 0);
    }
    (void)sqlite3_reset(st);
    (void)sqlite3_clear_bindings(st);
    return r;
}

int tr_index_begin(tr_index_t *idx, const char **why)
{
    return exec_stmt(idx, ST_BEGIN, "begin", why);
}

int tr_index_commit(tr_index_t *idx, const char **why)
{
    return exec_stmt(idx, ST_COMMIT, "commit", why);
}

void tr_index_rollback(tr_index_t *idx)
{
    if (!sqlite3_get_autocommit(idx->db)) {
        const char *why = NULL;
        (void)exec_stmt(idx, ST_ROLLBACK, "rollback", &why);
    }
}

/* Binds t as the row whose first parameter is number first. */
static void bind_txn(sqlite3_stmt *st, int first, const tr_index_txn_t *t)
{
    (void)sqlite3_bind_int64(st, first, (sqlite3_int64)t->gtid_no);
    (void)sqlite3_bind_int64(st, first + 1, t->commit_ts);
    (void)sqlite3_bind_int64(st, first + 2, t->schema_version);
    (void)sqlite3_bind_int64(st, first + 3, t->timestamp);
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (t->has_pos[f]) {
            (void)sqlite3_bind_int64(st, first + 4 + 2 * f, t->seq[f]);
            (void)sqlite3_bind_int64(st, first + 5 + 2 * f, (sqlite3_int64)t->end[f]);
        } else {
            (void)sqlite3_bind_null(st, first + 4 + 2 * f);
            (void)sqlite3_bind_null(st, first + 5 + 2 * f);
        }
    }
}

int tr_index_put_txns(tr_index_t *idx, const tr_index_txn_t *t, size_t n, const char **why)
{
    size_t i = 0;
    for (; n - i >= PUT_TXN_BATCH; i += PUT_TXN_BATCH) {
        for (int k = 0; k < PUT_TXN_BATCH; k++) {
            bind_txn(idx->st[ST_PUT_TXNS], 1 + TXN_PARAMS * k, &t[i + (size_t)k]);
        }
        int r = exec_stmt(idx, ST_PUT_TXNS, "insert txns", why);
        if (r != 0) {
            return r;
        }
    }
    for (; i < n; i++) {
        bind_txn(idx->st[ST_PUT_TXN], 1, &t[i]);
        int r = exec_stmt(idx, ST_PUT_TXN, "insert txn", why);
        if (r != 0) {
            return r;
        }
    }
    return 0;
}

int tr_index_put_file(tr_index_t *idx, tr_flavor_t f, const tr_index_file_t *file,
                      const char **why)
{
    sqlite3_stmt *st = idx->st[ST_PUT_FILE];
    (void)sqlite3_bind_int(st, 1, (int)f);
    (void)sqlite3_bind_int64(st, 2, file->seq);
    (void)sqlite3_bind_text(st, 3, file->name, -1, SQLITE_TRANSIENT);
    (void)sqlite3_bind_int64(st, 4, file->created);
    (void)sqlite3_bind_int64(st, 5, (sqlite3_int64)file->header_end);
    return exec_stmt(idx, ST_PUT_FILE, "insert file", why);
}

int tr_index_close_file(tr_index_t *idx, tr_flavor_t f, uint32_t seq, uint64_t size,
                        const char **why)
{
    sqlite3_stmt *st = idx->st[ST_CLOSE_FILE];
    (void)sqlite3_bind_int(st, 1, (int)f);
    (void)sqlite3_bind_int64(st, 2, seq);
    (void)sqlite3_bind_int64(st, 3, (sqlite3_int64)size);
    return exec_stmt(idx, ST_CLOSE_FILE, "close file", why);
}

int tr_index_purge_files(tr_index_t *idx, tr_flavor_t f, uint32_t before_seq, const char **why)
{
    /* Prepared here, not in stmt_sql: purges are rare and run on their own connection. */
    sqlite3_stmt *st = NULL;
    if (sqlite3_exec(idx->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        return fail(idx, "purge begin", why);
    }
    int r = 0;
    if (sqlite3_prepare_v2(idx->db, "DELETE FROM files WHERE flavor = ?1 AND seq < ?2", -1, &st,
                           NULL) != SQLITE_OK) {
        r = fail(idx, "purge prepare", why);
    } else {
        (void)sqlite3_bind_int(st, 1, (int)f);
        (void)sqlite3_bind_int64(st, 2, before_seq);
        if (sqlite3_step(st) != SQLITE_DONE) {
            r = fail(idx, "purge files", why);
        }
    }
    (void)sqlite3_finalize(st);
    if (r == 0 && sqlite3_exec(idx->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        r = fail(idx, "purge commit", why);
    }
    if (r != 0) {
        (void)sqlite3_exec(idx->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return r;
}

/* ------------------------------------------------------------ lookups
 * Prepared on each call, not in stmt_sql: operators' lookups are rare and run
 * on their own connection (tr_store's lookup connection, worker threads). */

static int lookup_txn(tr_index_t *idx, const char *sql, int64_t a, int64_t b, int64_t c,
                      tr_index_txn_t *out, const char **why)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(idx->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return fail(idx, "lookup prepare", why);
    }
    int n = sqlite3_bind_parameter_count(st);
    if (n >= 1) {
        (void)sqlite3_bind_int64(st, 1, a);
    }
    if (n >= 2) {
        (void)sqlite3_bind_int64(st, 2, b);
    }
    if (n >= 3) {
        (void)sqlite3_bind_int64(st, 3, c);
    }
    int r = read_txn(idx, st, out, "lookup", why);
    (void)sqlite3_finalize(st);
    return r;
}

#define TXN_COLS "gtid_no, commit_ts, schema_version, timestamp, seq0, end0, seq1, end1"

int tr_index_txn_at_tso(tr_index_t *idx, int64_t ts, tr_index_txn_t *out, const char **why)
{
    /* Merged order is commit_ts order, so the highest commit_ts <= ts is also the last
     * such transaction; the txns_commit_ts index answers it. */
    return lookup_txn(idx,
                      "SELECT " TXN_COLS " FROM txns WHERE commit_ts <= ?1 "
                      "ORDER BY commit_ts DESC, gtid_no DESC LIMIT 1",
                      ts, 0, 0, out, why);
}

int tr_index_txn_by_gtid(tr_index_t *idx, uint64_t gtid_no, tr_index_txn_t *out,
                         const char **why)
{
    if (gtid_no > INT64_MAX) {
        return TR_ENOTFOUND;
    }
    return lookup_txn(idx, "SELECT " TXN_COLS " FROM txns WHERE gtid_no = ?1", (int64_t)gtid_no,
                      0, 0, out, why);
}

int tr_index_txn_at_pos(tr_index_t *idx, tr_flavor_t f, uint32_t seq, uint64_t pos,
                        tr_index_txn_t *out, const char **why)
{
    if (pos > INT64_MAX) {
        pos = INT64_MAX;
    }
    return lookup_txn(idx,
                      f == TR_FLAVOR_MYSQL
                          ? "SELECT " TXN_COLS " FROM txns WHERE seq0 = ?1 AND end0 <= ?2 "
                            "ORDER BY gtid_no DESC LIMIT 1"
                          : "SELECT " TXN_COLS " FROM txns WHERE seq1 = ?1 AND end1 <= ?2 "
                            "ORDER BY gtid_no DESC LIMIT 1",
                      seq, (int64_t)pos, 0, out, why);
}

int tr_index_put_schema_job(tr_index_t *idx, int64_t job_id, int64_t schema_version,
                            const char *json, size_t len, const char **why)
{
    sqlite3_stmt *st = idx->st[ST_PUT_SCHEMA_JOB];
    (void)sqlite3_bind_int64(st, 1, job_id);
    (void)sqlite3_bind_int64(st, 2, schema_version);
    (void)sqlite3_bind_blob64(st, 3, json, len, SQLITE_STATIC);
    return exec_stmt(idx, ST_PUT_SCHEMA_JOB, "insert schema job", why);
}

int tr_index_schema_jobs(tr_index_t *idx, tr_index_schema_job_fn fn, void *arg, const char **why)
{
    sqlite3_stmt *st = idx->st[ST_SCHEMA_JOBS];
    int rc;
    int r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const void *p = sqlite3_column_blob(st, 1);
        int n = sqlite3_column_bytes(st, 1);
        r = fn(arg, sqlite3_column_int64(st, 0), p != NULL ? (const char *)p : "",
               n > 0 ? (size_t)n : 0);
        if (r != 0) {
            break;
        }
    }
    if (r == 0 && rc != SQLITE_DONE) {
        r = fail(idx, "read schema jobs", why);
    }
    (void)sqlite3_reset(st);
    return r;
}

int tr_index_put_meta(tr_index_t *idx, const char *key, const char *value, const char **why)
{
    sqlite3_stmt *st = idx->st[ST_PUT_META];
    (void)sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    return exec_stmt(idx, ST_PUT_META, "write meta", why);
}

int tr_index_get_meta(tr_index_t *idx, const char *key, char **out, const char **why)
{
    sqlite3_stmt *st = idx->st[ST_GET_META];
    (void)sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int r = 0;
    *out = NULL;
    if (rc == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(st, 0);
        *out = tr_strdup(v != NULL ? (const char *)v : "");
    } else if (rc == SQLITE_DONE) {
        r = TR_ENOTFOUND;
    } else {
        r = fail(idx, "read meta", why);
    }
    (void)sqlite3_reset(st);
    (void)sqlite3_clear_bindings(st);
    return r;
}
