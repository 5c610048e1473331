/*
 * Upstream orchestration (see relay.h). Threads: each pump client thread
 * calls on_binlog, which queues the payload (the client's message buffer,
 * taken over without a copy) into the merge under r->mu
 * (blocking while that Pump's queue is full); the writer thread pops
 * released transactions, translates and stores them, and commits a group
 * whenever the merge has nothing more to release or the group is large.
 * Holds no byte layouts: decoding lives in protocol/, translation in
 * translate.c, durability in store/.
 *
 * Pump membership (shared/spec/tidb-binlog.md section 5.2, TB
 * drainer/collector.go handlePumpStatusUpdate). Static mode: one member per
 * configured address, always online. Discovery mode: the discovery thread
 * reports the etcd Pump list and reconcile() applies it:
 *  - an unknown Pump in any state but offline becomes a merge source that
 *    starts at the merge's last released commit_ts (nothing at or below it
 *    can be released twice) and, unless paused, gets a pump client; all new
 *    sources of one list are added under one lock before any client starts,
 *    so at startup no Pump's binlogs are released before every Pump is in;
 *  - paused: the client stops but the source stays, so the merge waits for
 *    it (as Drainer: a paused Pump may still hold binlogs we have not pulled,
 *    and after a resume it is pulled from where it stopped);
 *  - online again, or a new host: the client (re)starts from the last
 *    commit_ts it delivered; pausing/closing change nothing;
 *  - offline: the Pump leaves the merge once everything up to the
 *    maxCommitTS it published has been pulled and released (the writer
 *    checks this before each pop); then its client stops and it is forgotten.
 * An unreachable Pump still online in etcd stalls output: its source has no
 * head and no watermark, so nothing above its last binlog is released.
 *
 * Our Drainer maxCommitTS (durable_ts) is the merge watermark taken when the
 * writer has committed everything released so far: every binlog at or below
 * it is durable or will never come, which is what a closing Pump waits for.
 */
#include "relay/relay.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "protocol/ddl_rewrite.h"
#include "protocol/tidb_binlog.h"
#include "relay/discovery.h"
#include "relay/catalog_build.h"
#include "relay/filter.h"
#include "relay/merge.h"
#include "relay/pump_client.h"
#include "relay/schema.h"
#include "relay/schema_fetch.h"
#include "relay/spool.h"
#include "relay/translate.h"

#define MAX_QUEUED_PER_PUMP 1024 /* transactions waiting per Pump before it blocks */
#define LOW_QUEUED_PER_PUMP 512  /* a blocked Pump is woken once its queue is down to this */
#define MAX_GROUP_TXNS      512  /* transactions per group commit at most */
#define MAX_MEMBERS         256  /* Pumps known at once */
#define OFFLINE_WARN_MS     30000 /* an offline Pump not drained yet: one warning per period */
#define TXN_FLUSH_BYTES     (1u << 20) /* translated output handed to the store at this size */
#define PAGER_INTERVAL_MS   2  /* a mapped message's pages are dropped this often while in use */

/* One Pump. Fields marked (mu) are read by pump threads or the writer under
 * r->mu; the rest belong to whoever holds r->members_mu. */
typedef struct {
    char node_id[128];
    char host[256];
    uint32_t source_id;       /* merge source id, never reused */
    tr_node_state_t state;    /* last state applied */
    tr_pump_client_t *client; /* NULL while not pulling */
    int64_t resume_ts;        /* restart point of a stopped client */
    int64_t offline_max;      /* (mu) leave once pulled_ts reaches it; when leaving */
    int64_t pulled_ts;        /* (mu) last commit_ts pushed or watermarked (or the start offset) */
    bool leaving;             /* (mu) offline: leave the merge once drained */
    bool in_merge;            /* (mu) false once the writer removed the source */
    bool cancelling;          /* (mu) the client is being stopped: refuse deliveries */
    int64_t warned_ms;        /* last "offline not drained" warning */
    int64_t recv_ms;          /* (mu) wall clock of the last delivery (0 = none yet) */
    int64_t joined_ms;        /* wall clock when it joined the merge */
    uint64_t binlogs;         /* (mu) deliveries accepted, fake binlogs included */
} member_t;

/* A queued transaction: the pump client's message (heap buffer or spool-file
 * mapping), kept as is (no copy). */
typedef struct {
    tr_spool_msg_t *msg;    /* owned */
    const uint8_t *payload; /* the marshalled binlog.Binlog inside msg */
    size_t len;
} pending_t;

static void pending_free(pending_t *p)
{
    if (p != NULL) {
        tr_spool_msg_free(p->msg);
        tr_free(p);
    }
}

struct tr_relay {
    const tr_config_t *cfg;
    tr_store_t *store;

    pthread_mutex_t mu;
    pthread_cond_t ready; /* writer: something may be releasable, or stop */
    pthread_cond_t space; /* pumps: queue space freed, or stop */
    tr_merge_t *merge;    /* under mu */
    bool stopping;        /* under mu */

    /* Members: the array changes under both locks, so pump threads (mu) and
     * the discovery thread (members_mu) each see it consistent. */
    pthread_mutex_t members_mu;
    member_t *members[MAX_MEMBERS];
    size_t n_members;
    uint32_t next_source_id;
    tr_discovery_t *discovery;
    tr_notify_server_t *notify; /* /binlog.Cistern/Notify, when notify-listen is set */
    _Atomic int64_t durable_ts; /* our Drainer maxCommitTS, see the file comment */

    pthread_t writer;
    bool writer_started;
    atomic_bool failed;
    int64_t started_ms;         /* wall clock at start (status: unreachable since) */

    /* Writer-thread state. */
    tr_schema_t *schema;
    tr_schema_fetch_t *fetch;
    tr_arena_t arena;
    tr_buf_t out;
    tr_buf_t ddl_sql[TR_FLAVOR_COUNT]; /* a DDL's statement per flavour (dialect rewriter) */
    bool ddl_sql_set;                  /* write_txn uses ddl_sql, not the binlog's text */
    tr_filter_t *filter;               /* [filter] rules, compiled once (writer thread) */
    tr_buf_t ddl_tmp;                  /* the filter's renaming of one ddl_sql */
    const char *ddl_db;                /* DDL default database after renames; NULL = as is */
    uint64_t filtered_txns;            /* DML transactions the filter dropped entirely */
    tr_catalog_t *catalog;             /* the last catalogue built (shares unchanged tables) */
    uint64_t catalog_gen;              /* tr_schema_generation it was built at */
    uint64_t next_gtid_no;
    size_t group_txns;       /* ended, not yet committed */
    uint64_t group_rows;     /* row changes of those */

    /* Statistics (tr_relay_status), relaxed atomics: updated per transaction or
     * per group, never per row. */
    _Atomic uint64_t rows_written;
    _Atomic uint64_t errors[TR_UPSTREAM_ERR_COUNT];
    atomic_bool store_full;  /* wait_for_space is retrying a group (status, readiness) */
    _Atomic int64_t busy_since_ms; /* writer: monotonic ms it took the current step; 0 = idle */
    tr_spool_pager_t *pager; /* drops the pages of a spooled message being processed */
};

/*
 * The upstream's one failure path: counts the error for tirelay_errors_total{kind} and
 * logs it once, at the level its consequence has (WARN when the relay goes on, ERROR when
 * it stops or loses what it was doing), under the component that knows the detail. Every
 * error the upstream meets goes through here, so a count never lacks its line.
 */
static void upstream_error(tr_relay_t *r, tr_upstream_err_t kind, tr_log_level_t level,
                           const char *comp, const char *fmt, ...) TR_PRINTF(5, 6);
static void upstream_error(tr_relay_t *r, tr_upstream_err_t kind, tr_log_level_t level,
                           const char *comp, const char *fmt, ...)
{
    atomic_fetch_add_explicit(&r->errors[kind], 1, memory_order_relaxed);
    va_list ap;
    va_start(ap, fmt);
    tr_vlog(level, comp, fmt, ap);
    va_end(ap);
}

static bool is_stopping(tr_relay_t *r)
{
    pthread_mutex_lock(&r->mu);
    bool s = r->stopping;
    pthread_mutex_unlock(&r->mu);
    return s;
}

/* Sleeps up to ms, returning early when the relay stops. */
static void nap(tr_relay_t *r, int ms)
{
    struct timespec ts = tr_clock_deadline(CLOCK_REALTIME, ms);
    pthread_mutex_lock(&r->mu);
    if (!r->stopping) {
        (void)pthread_cond_timedwait(&r->space, &r->mu, &ts);
    }
    pthread_mutex_unlock(&r->mu);
}

/* ---------------------------------------------------------------- pump side */

/* The member of a merge source id, or NULL. Caller holds mu or members_mu. */
static member_t *member_by_source(tr_relay_t *r, uint32_t source_id)
{
    for (size_t i = 0; i < r->n_members; i++) {
        if (r->members[i]->source_id == source_id) {
            return r->members[i];
        }
    }
    return NULL;
}

/* Whether deliveries from m are refused now. Caller holds mu. */
static bool refuses(tr_relay_t *r, const member_t *m)
{
    return r->stopping || m == NULL || m->cancelling || !m->in_merge;
}

static int on_binlog(void *arg, uint32_t pump_id, tr_spool_msg_t **msg, const uint8_t *payload,
                     size_t len, const tr_tidb_binlog_t *b)
{
    tr_relay_t *r = arg;
    pthread_mutex_lock(&r->mu);
    member_t *m = member_by_source(r, pump_id);
    if (refuses(r, m)) {
        pthread_mutex_unlock(&r->mu);
        return -1;
    }
    int rc = 0;
    if (tr_tidb_binlog_is_fake(b)) {
        rc = tr_merge_watermark(r->merge, pump_id, b->commit_ts);
    } else if (b->tp == TR_TIDB_BINLOG_COMMIT) {
        while (!refuses(r, m) && tr_merge_queued(r->merge, pump_id) >= MAX_QUEUED_PER_PUMP) {
            pthread_cond_wait(&r->space, &r->mu);
        }
        if (refuses(r, m)) {
            pthread_mutex_unlock(&r->mu);
            return -1;
        }
        pending_t *p = tr_malloc(sizeof(*p));
        p->msg = *msg;
        p->payload = payload;
        p->len = len;
        rc = tr_merge_push(r->merge, pump_id, b->commit_ts, p);
        if (rc == 0) {
            *msg = NULL; /* the queue keeps it */
        } else {
            tr_free(p);
        }
    }
    if (rc == 0) {
        if (b->commit_ts > m->pulled_ts) {
            m->pulled_ts = b->commit_ts;
        }
        m->recv_ms = tr_clock_wall_ms();
        m->binlogs++;
        /* Wake the writer only when it has something to do: a binlog queued
         * behind another Pump's watermark releases nothing, and waking it for
         * each one cost a context switch per binlog (10,000/s at the latency
         * bench's rate). Fake binlogs still wake it (the merge watermark it
         * records as durable moved), and so does any binlog of a leaving Pump
         * (the writer checks whether it is drained). */
        if (tr_tidb_binlog_is_fake(b) || m->leaving || tr_merge_can_pop(r->merge)) {
            pthread_cond_signal(&r->ready);
        }
    }
    pthread_mutex_unlock(&r->mu);
    if (rc != 0) {
        upstream_error(r, TR_UPSTREAM_ERR_REFUSED, TR_LOG_WARN, "relay",
                       "merge refused a binlog pump=%" PRIu32 " commit_ts=%" PRId64 " err=%s",
                       pump_id, b->commit_ts, tr_strerror(rc));
    }
    return rc;
}

/* ---------------------------------------------------------------- writer side */

/* Every job fetched from TiDB's history goes to the store's schema_jobs table with the
 * next group commit (schema history survives restarts without TiDB). */
static void keep_job(void *arg, int64_t job_id, const char *json, size_t len)
{
    tr_relay_t *r = arg;
    const tr_ddl_job_t *j = tr_schema_job(r->schema, job_id);
    tr_store_add_schema_job(r->store, job_id, j != NULL ? j->schema_version : 0, json, len);
}

/* Loads the schema history kept in the store (tr_relay_start, before the writer runs). */
static int load_job(void *arg, int64_t job_id, const char *json, size_t len)
{
    tr_relay_t *r = arg;
    const char *why = NULL;
    int rc = tr_schema_add_job(r->schema, job_id, json, len, &why);
    if (rc != 0) {
        tr_log_error("schema", "stored DDL job cannot be read job_id=%" PRId64 ": %s", job_id,
                     why != NULL ? why : tr_strerror(rc));
    }
    return rc;
}

/* Fetches DDL history until `done` holds or the relay stops. Backs off on errors. */
static int fetch_jobs(tr_relay_t *r)
{
    const char *why = NULL;
    int rc = tr_schema_fetch_new_jobs(r->fetch, r->schema, &why);
    if (rc < 0) {
        upstream_error(r, TR_UPSTREAM_ERR_SCHEMA, TR_LOG_WARN, "schema",
                       "cannot read DDL history: %s", why ? why : tr_strerror(rc));
    }
    return rc;
}

/* Makes sure DDL job job_id is known, polling the history with backoff (TiDB
 * writes the history row before the binlog, but a replica of it may lag). */
static int wait_for_job(tr_relay_t *r, int64_t job_id)
{
    int delay_ms = 50;
    for (int attempt = 0;; attempt++) {
        if (tr_schema_job(r->schema, job_id) != NULL) {
            return 0;
        }
        if (is_stopping(r)) {
            return TR_ECLOSED;
        }
        (void)fetch_jobs(r);
        if (tr_schema_job(r->schema, job_id) != NULL) {
            return 0;
        }
        if (attempt == 20) {
            tr_log_warn("schema", "DDL job not in the history yet, still waiting job_id=%" PRId64,
                        job_id);
        }
        nap(r, delay_ms);
        delay_ms = delay_ms < 2000 ? delay_ms * 2 : 2000;
    }
}

/* Brings the schema to `version`, fetching newer jobs first when needed. */
static int advance_schema(tr_relay_t *r, int64_t version)
{
    if (version > tr_schema_max_version(r->schema)) {
        (void)fetch_jobs(r);
    }
    const char *why = NULL;
    int rc = tr_schema_advance(r->schema, version, &why);
    if (rc != 0) {
        upstream_error(r, TR_UPSTREAM_ERR_SCHEMA, TR_LOG_ERROR, "schema",
                       "cannot apply DDL history up to version %" PRId64 ": %s", version,
                       why ? why : tr_strerror(rc));
    }
    return rc;
}

/* MySQL's logical clock restarts in every binlog file; numbering from the file's first
 * GTID keeps it a pure function of the stream (same bytes after a restart). Transactions
 * are applied one after the other, in commit order. */
static void next_clock(tr_relay_t *r, tr_txn_ctx_t *ctx)
{
    uint64_t first = tr_store_file_first_gtid(r->store, TR_FLAVOR_MYSQL);
    ctx->sequence_number = ctx->gtid_no >= first ? (int64_t)(ctx->gtid_no - first + 1) : 1;
    ctx->last_committed = ctx->sequence_number - 1;
}

/* One flavour's output while a transaction streams into the store. */
typedef struct {
    tr_relay_t *r;
    tr_flavor_t f;
    bool flushed; /* some of the transaction is already in the store */
} stream_t;

/* tr_txn_ctx_t.flush: appends what the translator produced so far (whole events) and
 * continues at the new file end. The bytes stay invisible until the group commit; an
 * error later in the transaction makes the caller abort the store, which cuts them. */
static int flush_out(void *arg, tr_evt_writer_t *w)
{
    stream_t *st = arg;
    if (!tr_buf_ok(w->out)) {
        return TR_ETOOBIG;
    }
    int rc = tr_store_txn_append(st->r->store, st->f, w->out->data, w->out->len);
    if (rc != 0) {
        return rc;
    }
    st->flushed = true;
    tr_buf_reset(w->out);
    tr_evt_writer_rebase(w, tr_store_txn_pos(st->r->store, st->f));
    return 0;
}

/* Translates and appends one transaction to every enabled flavour, streaming: the
 * output goes to the store every TXN_FLUSH_BYTES, so memory does not grow with the
 * transaction; nothing is visible before tr_store_txn_end and the group commit. */
static int write_txn(tr_relay_t *r, const tr_tidb_binlog_t *b, int64_t schema_version)
{
    uint64_t rows = 0; /* counted by the translator (the same for every flavour) */
    tr_txn_ctx_t ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.gtid_no = r->next_gtid_no;
    memcpy(ctx.server_uuid, r->cfg->server_uuid_bin, 16);
    ctx.server_id = r->cfg->server_id;
    ctx.gtid_domain_id = r->cfg->gtid_domain_id;
    ctx.timestamp = tr_tso_seconds(b->commit_ts);
    ctx.commit_ts_us = tr_tso_micros(b->commit_ts);
    ctx.row_event_max_bytes = r->cfg->row_event_max_bytes;
    ctx.flush = flush_out;
    ctx.flush_bytes = TXN_FLUSH_BYTES;
    ctx.rows_out = &rows;
    next_clock(r, &ctx);

    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (!tr_store_flavor_enabled(r->store, (tr_flavor_t)f)) {
            continue;
        }
        int rc = 0;
        stream_t st = {.r = r, .f = (tr_flavor_t)f, .flushed = false};
        ctx.flush_arg = &st;
        ctx.ddl_sql = r->ddl_sql_set ? (const char *)r->ddl_sql[f].data : NULL;
        ctx.ddl_sql_len = r->ddl_sql_set ? r->ddl_sql[f].len : 0;
        ctx.ddl_db = r->ddl_sql_set ? r->ddl_db : NULL;
        ctx.filter = r->filter;
        for (int attempt = 0; attempt < 2; attempt++) {
            rows = 0;
            tr_buf_reset(&r->out);
            /* The row views of the PrewriteValue are decoded again per flavour: the
             * arena holds one decoding at a time. */
            tr_arena_reset(&r->arena);
            tr_evt_writer_t w;
            tr_evt_writer_init(&w, &r->out, tr_store_txn_pos(r->store, (tr_flavor_t)f),
                               (tr_flavor_t)f, r->cfg->server_id, true);
            w.timestamp = ctx.timestamp;
            const char *why = NULL;
            rc = tr_translate_txn(b, r->schema, &ctx, &w, &r->arena, &why);
            if (rc == 0 && !tr_buf_ok(&r->out)) {
                rc = TR_ETOOBIG;
                why = "transaction larger than the output buffer limit";
            }
            if (rc == TR_TRANSLATE_FILTERED) {
                /* Every table it touches is filtered out (the same for every flavour):
                 * nothing is written and no GTID is used, so the numbering stays
                 * contiguous and identical in both flavours. */
                r->filtered_txns++;
                return 0;
            }
            if (rc == TR_ENOTFOUND && attempt == 0 && !st.flushed) {
                /* A table the schema does not know yet: fetch newer history once. */
                (void)fetch_jobs(r);
                if (advance_schema(r, schema_version) != 0) {
                    return TR_ESCHEMA;
                }
                continue;
            }
            if (rc != 0) {
                upstream_error(r, TR_UPSTREAM_ERR_TRANSLATE, TR_LOG_ERROR, "translate",
                               "cannot translate transaction, relay stopped before writing it: %s "
                               "commit_ts=%" PRId64 " start_ts=%" PRId64 " flavor=%s",
                               why ? why : tr_strerror(rc), b->commit_ts, b->start_ts,
                               tr_flavor_name((tr_flavor_t)f));
                return rc;
            }
            break;
        }
        if (rc != 0) {
            return rc;
        }
        rc = tr_store_txn_append(r->store, (tr_flavor_t)f, r->out.data, r->out.len);
        if (rc != 0) {
            upstream_error(r, TR_UPSTREAM_ERR_STORE, TR_LOG_ERROR, "store", "append failed: %s",
                           tr_strerror(rc));
            return rc;
        }
    }
    tr_txn_info_t info = {
        .gtid_no = ctx.gtid_no,
        .commit_ts = b->commit_ts,
        .schema_version = schema_version,
        .timestamp = ctx.timestamp,
    };
    int rc = tr_store_txn_end(r->store, &info);
    if (rc != 0) {
        upstream_error(r, TR_UPSTREAM_ERR_STORE, TR_LOG_ERROR, "store",
                       "cannot end transaction: %s", tr_strerror(rc));
        return rc;
    }
    r->next_gtid_no++;
    r->group_txns++;
    r->group_rows += rows;
    return 0;
}

/* A DDL binlog: the statement each flavour writes (protocol/ddl_rewrite.h), or nothing.
 * Statements without a MySQL meaning are skipped (INFO); one the rewriter cannot make safe
 * goes by [upstream] ddl-unsupported: stop (error, the relay stops translating), skip
 * (WARN), pass (TiDB's text as is). Returns 0 with *write, or TR_EUNSUPPORTED. */
static int prepare_ddl(tr_relay_t *r, const tr_tidb_binlog_t *b, const tr_ddl_job_t *job,
                       bool *write)
{
    const char *sql = (const char *)b->ddl_query.p;
    size_t len = b->ddl_query.len;
    if (len == 0) {
        sql = job->query;
        len = strlen(job->query);
    }
    int n_write = 0;
    int n_skip = 0;
    const char *skip_why = NULL;
    const char *bad_why = NULL;
    const char *bad_flavor = "";
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (!tr_store_flavor_enabled(r->store, (tr_flavor_t)f)) {
            continue;
        }
        tr_buf_reset(&r->ddl_sql[f]);
        const char *why = NULL;
        tr_ddl_verdict_t v = tr_ddl_rewrite(sql, len, (tr_flavor_t)f, &r->ddl_sql[f], &why);
        if (v == TR_DDL_WRITE && !tr_buf_ok(&r->ddl_sql[f])) {
            v = TR_DDL_UNSUPPORTED;
            why = "statement too large";
        }
        if (v == TR_DDL_WRITE) {
            n_write++;
        } else if (v == TR_DDL_SKIP) {
            n_skip++;
            skip_why = why;
        } else {
            bad_why = why;
            bad_flavor = tr_flavor_name((tr_flavor_t)f);
        }
    }
    if (bad_why == NULL && n_write > 0 && n_skip > 0) {
        bad_why = "one flavour has no meaning for it, the other does";
        bad_flavor = "both";
    }
    *write = false;
    if (bad_why != NULL) {
        switch ((tr_ddl_policy_t)r->cfg->ddl_unsupported) {
        case TR_DDL_POLICY_SKIP:
            tr_log_warn("relay",
                        "skipping a DDL a replica could not take (ddl-unsupported = skip): %s "
                        "flavor=%s job_id=%" PRId64 " commit_ts=%" PRId64 " query=%.*s",
                        bad_why, bad_flavor, b->ddl_job_id, b->commit_ts, (int)len, sql);
            return 0;
        case TR_DDL_POLICY_PASS:
            tr_log_warn("relay",
                        "writing a DDL as TiDB logged it although a replica may reject it "
                        "(ddl-unsupported = pass): %s flavor=%s job_id=%" PRId64 " query=%.*s",
                        bad_why, bad_flavor, b->ddl_job_id, (int)len, sql);
            for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
                tr_buf_reset(&r->ddl_sql[f]);
                tr_buf_append(&r->ddl_sql[f], sql, len);
            }
            *write = true;
            return 0;
        case TR_DDL_POLICY_STOP:
        default:
            tr_log_error("relay",
                         "DDL cannot be made safe for a replica, relay stopped before writing it: "
                         "%s flavor=%s job_id=%" PRId64 " commit_ts=%" PRId64 " query=%.*s "
                         "([upstream] ddl-unsupported = skip or pass lets it through)",
                         bad_why, bad_flavor, b->ddl_job_id, b->commit_ts, (int)len, sql);
            return TR_EUNSUPPORTED;
        }
    }
    if (n_write == 0) {
        tr_log_info("relay", "skipping a DDL without a MySQL meaning (%s) job_id=%" PRId64
                             " query=%.*s",
                    skip_why != NULL ? skip_why : "?", b->ddl_job_id, (int)len, sql);
        return 0;
    }
    *write = true;
    return 0;
}

static int commit_group(tr_relay_t *r);

/* [filter] on a DDL the rewriter lets through: names renamed in every flavour's statement
 * (relay/filter.h tr_filter_ddl_text). A RENAME or CREATE TABLES across the filter
 * boundary (cross_why) or a reference the filter cannot rewrite safely follows
 * [upstream] ddl-unsupported like any unsafe DDL: stop, skip, or pass (written with the
 * renames that could be made). */
static int filter_ddl(tr_relay_t *r, const tr_tidb_binlog_t *b, const tr_ddl_job_t *job,
                      const char *cross_why, bool *write)
{
    const char *bad_why = cross_why;
    const char *db = job->schema_name;
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (!tr_store_flavor_enabled(r->store, (tr_flavor_t)f)) {
            continue;
        }
        tr_buf_reset(&r->ddl_tmp);
        const char *why = NULL;
        if (tr_filter_ddl_text(r->filter, db, (const char *)r->ddl_sql[f].data, r->ddl_sql[f].len,
                               &r->ddl_tmp, &why) != 0 &&
            bad_why == NULL) {
            bad_why = why;
        }
        if (!tr_buf_ok(&r->ddl_tmp)) {
            bad_why = "statement too large";
            continue;
        }
        tr_buf_t t = r->ddl_sql[f];
        r->ddl_sql[f] = r->ddl_tmp;
        r->ddl_tmp = t;
    }
    if (bad_why == NULL) {
        return 0;
    }
    const tr_buf_t *q = &r->ddl_sql[tr_store_flavor_enabled(r->store, TR_FLAVOR_MYSQL)
                                        ? TR_FLAVOR_MYSQL
                                        : TR_FLAVOR_MARIADB];
    switch ((tr_ddl_policy_t)r->cfg->ddl_unsupported) {
    case TR_DDL_POLICY_SKIP:
        tr_log_warn("relay",
                    "skipping a DDL the filter cannot apply safely (ddl-unsupported = skip): %s "
                    "job_id=%" PRId64 " commit_ts=%" PRId64 " query=%.*s",
                    bad_why, b->ddl_job_id, b->commit_ts, (int)q->len, (const char *)q->data);
        *write = false;
        return 0;
    case TR_DDL_POLICY_PASS:
        tr_log_warn("relay",
                    "writing a DDL the filter cannot apply safely, a replica may reject it "
                    "(ddl-unsupported = pass): %s job_id=%" PRId64 " query=%.*s",
                    bad_why, b->ddl_job_id, (int)q->len, (const char *)q->data);
        return 0;
    case TR_DDL_POLICY_STOP:
    default:
        upstream_error(r, TR_UPSTREAM_ERR_TRANSLATE, TR_LOG_ERROR, "relay",
                       "DDL cannot be filtered safely, relay stopped before writing it: %s "
                       "job_id=%" PRId64 " commit_ts=%" PRId64 " query=%.*s "
                       "([upstream] ddl-unsupported = skip or pass lets it through)",
                       bad_why, b->ddl_job_id, b->commit_ts, (int)q->len, (const char *)q->data);
        *write = false;
        return TR_EUNSUPPORTED;
    }
}

static int process(tr_relay_t *r, const pending_t *p)
{
    tr_tidb_binlog_t b;
    const char *why = NULL;
    ssize_t n = tr_tidb_binlog_decode(p->payload, p->len, &b, &why);
    if (n < 0) {
        upstream_error(r, TR_UPSTREAM_ERR_MALFORMED, TR_LOG_ERROR, "relay",
                       "malformed binlog payload, relay stopped: %s", why ? why : "?");
        return (int)n;
    }
    int64_t version;
    if (b.ddl_job_id > 0) {
        /* Sequence setval pseudo-DDLs carry fabricated job ids that never reach the history. */
        if (b.ddl_query.len >= 13 &&
            strncasecmp((const char *)b.ddl_query.p, "select setval", 13) == 0) {
            tr_log_info("relay", "skipping pseudo-DDL job_id=%" PRId64, b.ddl_job_id);
            return 0;
        }
        int rc = wait_for_job(r, b.ddl_job_id);
        if (rc != 0) {
            return rc;
        }
        if (tr_translate_skips(&b, r->schema)) {
            tr_log_info("relay", "skipping DDL that did not finish job_id=%" PRId64, b.ddl_job_id);
            return 0;
        }
        const tr_ddl_job_t *job = tr_schema_job(r->schema, b.ddl_job_id);
        bool drop_column =
            job->type == TR_TIDB_ACTION_DROP_COLUMN || job->type == TR_TIDB_ACTION_DROP_COLUMNS;
        if (drop_column && b.ddl_schema_state == TR_TIDB_STATE_DELETE_ONLY) {
            /* TiDB writes this binlog when a dropped column reaches delete-only (pkg/ddl
             * job_worker.go writeBinlog): from here on its rows lack the column, and the
             * binlog is there so that downstream applies the drop now. The DROP is written
             * and the schema advanced to the job's version (the history holds the finished
             * job), so the rows in the window are written without the column: a replica
             * finds the rows of a table without a primary key by their whole image, which
             * a NULL/zero in place of the column's value did not match. */
            tr_log_info("relay", "DROP COLUMN reached delete-only, written now (TiDB's rows lack "
                                 "the column from here on) job_id=%" PRId64,
                        b.ddl_job_id);
        } else if (drop_column && tr_schema_applied_version(r->schema) >= job->schema_version) {
            /* The job's final binlog after its delete-only one was written (above; after a
             * restart the schema starts at the last transaction's version, see
             * tr_relay_start). A TiDB release that sends no delete-only binlog leaves the
             * schema below the job's version here, and the DROP is written now. */
            tr_log_info("relay", "DROP COLUMN already written at delete-only, final binlog "
                                 "skipped job_id=%" PRId64,
                        b.ddl_job_id);
            return 0;
        }
        const char *filter_why = NULL;
        tr_filter_job_t fv = tr_filter_job(r->filter, r->schema, job, &r->ddl_db, &filter_why);
        if (!tr_filter_has_rules(r->filter)) {
            r->ddl_db = NULL; /* no renames: the job's schema as before */
        }
        if (fv == TR_FILTER_JOB_DROP) {
            /* the schema still applies it when a later transaction needs its version */
            tr_log_debug("relay", "DDL filtered out job_id=%" PRId64, b.ddl_job_id);
            return 0;
        }
        bool write = false;
        rc = prepare_ddl(r, &b, job, &write);
        if (rc == 0 && write && tr_filter_has_rules(r->filter)) {
            rc = filter_ddl(r, &b, job, filter_why, &write);
        }
        if (rc == TR_EUNSUPPORTED) {
            /* Stop after what came before: the transactions already ended are whole and
             * valid, so make them durable before the relay stops translating. */
            if (commit_group(r) != 0) {
                tr_log_error("relay", "could not commit the transactions before the DDL");
            }
            return rc;
        }
        if (rc != 0 || !write) {
            return rc;
        }
        r->ddl_sql_set = true;
        version = job->schema_version;
    } else {
        /* Only the version is needed here; translation walks the mutations (and checks them). */
        int rc = tr_tidb_prewrite_schema_version(b.prewrite_value.p, b.prewrite_value.len, &version,
                                                 &why);
        if (rc != 0) {
            upstream_error(r, TR_UPSTREAM_ERR_MALFORMED, TR_LOG_ERROR, "relay",
                           "malformed prewrite value, relay stopped: %s commit_ts=%" PRId64,
                           why ? why : "?", b.commit_ts);
            return rc;
        }
    }
    if (version > tr_schema_applied_version(r->schema) && advance_schema(r, version) != 0) {
        r->ddl_sql_set = false;
        return TR_ESCHEMA;
    }
    int rc = write_txn(r, &b, tr_schema_applied_version(r->schema));
    r->ddl_sql_set = false;
    return rc;
}

/* The file system is full (tr_store_err_is_full): appending pauses — the store keeps the
 * group, replicas keep being served what is durable, the merge queues fill up and the
 * Pump clients wait — and the same group is committed again with capped backoff until it
 * fits. Logged once when it starts and once when it ends. Returns the final commit's
 * result, or TR_ECLOSED when the relay stops first. */
static int wait_for_space(tr_relay_t *r, int rc)
{
    upstream_error(r, TR_UPSTREAM_ERR_STORE, TR_LOG_ERROR, "store",
                   "disk full, appending paused (replicas keep being served what is durable); "
                   "retrying with backoff txns=%zu err=%s",
                   r->group_txns, tr_strerror(rc));
    int delay_ms = 100;
    int tries = 0;
    atomic_store(&r->store_full, true);
    while (tr_store_err_is_full(rc)) {
        if (is_stopping(r)) {
            return TR_ECLOSED;
        }
        nap(r, delay_ms);
        delay_ms = delay_ms >= 5000 ? 10000 : delay_ms * 2;
        tries++;
        rc = tr_store_commit(r->store);
    }
    atomic_store(&r->store_full, false);
    if (rc == 0) {
        tr_log_info("store", "disk space available again, appending resumed retries=%d", tries);
    }
    return rc;
}

/* The catalogue clients read follows the schema of the last transaction written: rebuilt
 * when a DDL job was applied since the last one, handed to the store (now: at once; else
 * published by the next group commit, before replicas are woken). */
static void refresh_catalog(tr_relay_t *r, bool now)
{
    uint64_t gen = tr_schema_generation(r->schema);
    if (r->catalog != NULL && gen == r->catalog_gen) {
        return;
    }
    tr_catalog_t *cat = tr_catalog_build(r->schema, r->filter, r->catalog);
    tr_catalog_unref(r->catalog);
    r->catalog = cat;
    r->catalog_gen = gen;
    tr_catalog_ref(cat);
    tr_store_set_catalog(r->store, cat, now);
}

static int commit_group(tr_relay_t *r)
{
    if (r->group_txns == 0) {
        return 0;
    }
    refresh_catalog(r, false);
    int rc = tr_store_commit(r->store);
    if (tr_store_err_is_full(rc)) {
        rc = wait_for_space(r, rc);
    }
    if (rc != 0) {
        upstream_error(r, TR_UPSTREAM_ERR_STORE, TR_LOG_ERROR, "store",
                       "group commit failed, nothing new became visible: %s", tr_strerror(rc));
        tr_store_abort(r->store);
        return rc;
    }
    atomic_fetch_add_explicit(&r->rows_written, r->group_rows, memory_order_relaxed);
    r->group_txns = 0;
    r->group_rows = 0;
    return 0;
}

/* True when a transaction just ended past max-binlog-size in some flavour. Committing at
 * once makes the store rotate right after that transaction, so where files end depends
 * only on the stream, not on how transactions happened to be grouped (determinism). */
static bool rotation_due(tr_relay_t *r)
{
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (tr_store_flavor_enabled(r->store, (tr_flavor_t)f) &&
            tr_store_txn_pos(r->store, (tr_flavor_t)f) >= r->cfg->max_binlog_size) {
            return true;
        }
    }
    return false;
}

static void fail_stop(tr_relay_t *r)
{
    atomic_store(&r->failed, true);
    tr_store_abort(r->store);
    r->group_txns = 0;
    r->group_rows = 0;
    atomic_store(&r->busy_since_ms, 0);
    tr_log_error("relay", "translation stopped; replicas keep being served what is durable. "
                          "Fix the cause and restart tirelay to resume from the last commit.");
    pthread_mutex_lock(&r->mu);
    while (!r->stopping) {
        pthread_cond_wait(&r->ready, &r->mu);
    }
    pthread_mutex_unlock(&r->mu);
}

static void drop_pending(void *data);

/* Removes offline Pumps that have been drained: nothing queued and pulled up
 * to the maxCommitTS they published. Caller holds mu (writer thread). */
static void reap_offline(tr_relay_t *r)
{
    for (size_t i = 0; i < r->n_members; i++) {
        member_t *m = r->members[i];
        if (!m->in_merge || !m->leaving) {
            continue;
        }
        if (tr_merge_queued(r->merge, m->source_id) == 0 && m->pulled_ts >= m->offline_max) {
            tr_merge_remove_source(r->merge, m->source_id, drop_pending);
            m->in_merge = false;
            tr_log_info("relay", "offline pump left the merge node_id=%s last_ts=%" PRId64,
                        m->node_id, m->pulled_ts);
            tr_discovery_notify(r->discovery); /* stop its client soon */
            continue;
        }
        int64_t now = tr_clock_mono_ms();
        if (now - m->warned_ms >= OFFLINE_WARN_MS) {
            if (m->warned_ms != 0) {
                tr_log_warn("relay",
                            "offline pump not drained yet, output waits for it node_id=%s "
                            "pulled_ts=%" PRId64 " max_commit_ts=%" PRId64,
                            m->node_id, m->pulled_ts, m->offline_max);
            }
            m->warned_ms = now;
        }
    }
}

/* Everything released is committed and nothing more is releasable: the merge
 * watermark is durable progress. Caller holds mu (writer thread). */
static void note_durable(tr_relay_t *r)
{
    int64_t w = tr_merge_watermark_ts(r->merge);
    if (w > atomic_load(&r->durable_ts)) {
        atomic_store(&r->durable_ts, w);
    }
}

static void *writer_main(void *arg)
{
    tr_relay_t *r = arg;
    for (;;) {
        tr_merge_item_t item;
        bool dropped = false;
        pthread_mutex_lock(&r->mu);
        for (;;) {
            if (r->stopping) {
                pthread_mutex_unlock(&r->mu);
                /* Commit what is complete before leaving. */
                if (commit_group(r) != 0) {
                    atomic_store(&r->failed, true);
                }
                return NULL;
            }
            reap_offline(r);
            if (tr_merge_pop(r->merge, &item, &dropped)) {
                break;
            }
            if (r->group_txns > 0) {
                /* Nothing more to release now: make the group durable and visible. */
                pthread_mutex_unlock(&r->mu);
                if (commit_group(r) != 0) {
                    fail_stop(r);
                    return NULL;
                }
                pthread_mutex_lock(&r->mu);
                continue;
            }
            note_durable(r);
            atomic_store_explicit(&r->busy_since_ms, 0, memory_order_relaxed);
            pthread_cond_wait(&r->ready, &r->mu);
        }
        atomic_store_explicit(&r->busy_since_ms, tr_clock_mono_ms(), memory_order_relaxed);
        /* A Pump blocks at MAX_QUEUED_PER_PUMP; waking it for every pop cost a
         * context switch per binlog (a quarter of the ingest CPU under perf).
         * It is woken once its queue has drained to the low mark, and then
         * refills it in one go. Below the mark nobody waits on that queue. */
        if (tr_merge_queued(r->merge, item.source_id) <= LOW_QUEUED_PER_PUMP) {
            pthread_cond_broadcast(&r->space);
        }
        pthread_mutex_unlock(&r->mu);

        pending_t *p = item.data;
        if (dropped) {
            upstream_error(r, TR_UPSTREAM_ERR_DROPPED, TR_LOG_WARN, "relay",
                           "dropped duplicate or out-of-order binlog commit_ts=%" PRId64
                           " pump=%" PRIu32,
                           item.commit_ts, item.source_id);
            pending_free(p);
            continue;
        }
        /* A spooled message is mapped: every pass over it (the mutation check, then the
         * translation per flavour) faults its pages in, and they would stay resident
         * until it is freed. The pager drops them every PAGER_INTERVAL_MS, keeping
         * memory flat; pages still needed come back from the page cache. */
        tr_spool_pager_watch(r->pager, p->msg);
        int rc = process(r, p);
        tr_spool_pager_unwatch(r->pager);
        pending_free(p);
        if (rc == TR_ECLOSED) {
            continue; /* stopping */
        }
        if (rc != 0) {
            fail_stop(r);
            return NULL;
        }
        if ((r->group_txns >= MAX_GROUP_TXNS || rotation_due(r)) && commit_group(r) != 0) {
            fail_stop(r);
            return NULL;
        }
    }
}

/* ---------------------------------------------------------------- membership */

static void drop_pending(void *data)
{
    pending_free(data);
}

static member_t *member_by_node(tr_relay_t *r, const char *node_id)
{
    for (size_t i = 0; i < r->n_members; i++) {
        if (strcmp(r->members[i]->node_id, node_id) == 0) {
            return r->members[i];
        }
    }
    return NULL;
}

/* Starts pulling m from `from`. Caller holds members_mu. */
static void start_client(tr_relay_t *r, member_t *m, int64_t from)
{
    tr_pump_client_opts_t o = {
        .pump_id = m->source_id,
        .addr = m->host,
        .cluster_id = r->cfg->cluster_id,
        .start_commit_ts = from,
        .deliver_owned = on_binlog,
        .arg = r,
        .spool_dir = r->cfg->store_dir, /* large messages: unlinked files next to the store */
    };
    pthread_mutex_lock(&r->mu);
    m->cancelling = false;
    pthread_mutex_unlock(&r->mu);
    int rc = tr_pump_client_start(&o, &m->client);
    if (rc != 0) {
        /* Retried at the next list (discovery) or never (static: a config error). */
        tr_log_error("relay", "cannot start a pump client node_id=%s addr=%s: %s", m->node_id,
                     m->host, tr_strerror(rc));
        m->client = NULL;
        m->resume_ts = from;
        return;
    }
    tr_log_info("relay", "pulling from pump node_id=%s addr=%s start_commit_ts=%" PRId64,
                m->node_id, m->host, from);
}

/* Stops m's client (if any), keeping where it got to. Caller holds members_mu. */
static void stop_client(tr_relay_t *r, member_t *m)
{
    if (m->client == NULL) {
        return;
    }
    pthread_mutex_lock(&r->mu);
    m->cancelling = true; /* a delivery blocked on queue space gives up */
    pthread_cond_broadcast(&r->space);
    pthread_mutex_unlock(&r->mu);
    tr_pump_client_stop(m->client);
    pthread_mutex_lock(&r->mu);
    m->resume_ts = m->pulled_ts; /* the client delivered exactly up to here */
    pthread_mutex_unlock(&r->mu);
    m->client = NULL;
}

/* Frees m after its source left the merge. Caller holds members_mu. */
static void forget_member(tr_relay_t *r, member_t *m)
{
    stop_client(r, m);
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n_members; i++) {
        if (r->members[i] == m) {
            r->members[i] = r->members[--r->n_members];
            break;
        }
    }
    pthread_mutex_unlock(&r->mu);
    tr_log_info("relay", "pump forgotten node_id=%s", m->node_id);
    tr_free(m);
}

/*
 * Applies one Pump list (discovery thread; static mode calls it once at
 * start). New members first join the merge together under one lock, then
 * clients start; then known members follow their state.
 */
static void reconcile(tr_relay_t *r, const tr_node_status_t *pumps, size_t n)
{
    pthread_mutex_lock(&r->members_mu);
    if (is_stopping(r)) {
        pthread_mutex_unlock(&r->members_mu);
        return;
    }
    /* Members whose source the writer removed. */
    for (size_t i = 0; i < r->n_members;) {
        member_t *m = r->members[i];
        pthread_mutex_lock(&r->mu);
        bool gone = !m->in_merge;
        pthread_mutex_unlock(&r->mu);
        if (gone) {
            forget_member(r, m); /* moves the last member into slot i */
        } else {
            i++;
        }
    }

    /* New Pumps join the merge at its last released commit_ts. */
    member_t *fresh[MAX_MEMBERS];
    size_t n_fresh = 0;
    int64_t join_ts = 0;
    pthread_mutex_lock(&r->mu);
    join_ts = tr_merge_last_ts(r->merge);
    for (size_t i = 0; i < n; i++) {
        const tr_node_status_t *st = &pumps[i];
        if (st->state == TR_NODE_OFFLINE || st->state == TR_NODE_UNKNOWN ||
            member_by_node(r, st->node_id) != NULL) {
            continue;
        }
        if (st->host[0] == '\0' || r->n_members == MAX_MEMBERS) {
            tr_log_warn("relay", "pump ignored (no host or too many pumps) node_id=%s",
                        st->node_id);
            continue;
        }
        member_t *m = tr_calloc(1, sizeof(*m));
        snprintf(m->node_id, sizeof(m->node_id), "%s", st->node_id);
        snprintf(m->host, sizeof(m->host), "%s", st->host);
        m->source_id = r->next_source_id++;
        m->state = st->state;
        m->resume_ts = join_ts;
        m->pulled_ts = join_ts;
        m->in_merge = true;
        m->joined_ms = tr_clock_wall_ms();
        int rc = tr_merge_add_source(r->merge, m->source_id);
        TR_ASSERT(rc == 0); /* source ids are never reused */
        r->members[r->n_members++] = m;
        fresh[n_fresh++] = m;
    }
    pthread_mutex_unlock(&r->mu);
    for (size_t i = 0; i < n_fresh; i++) {
        member_t *m = fresh[i];
        tr_log_info("relay", "pump joined node_id=%s addr=%s state=%s join_commit_ts=%" PRId64,
                    m->node_id, m->host, tr_node_state_name(m->state), join_ts);
        if (m->state != TR_NODE_PAUSED) {
            start_client(r, m, join_ts);
        }
    }

    /* Known Pumps follow their state. */
    for (size_t i = 0; i < n; i++) {
        const tr_node_status_t *st = &pumps[i];
        member_t *m = member_by_node(r, st->node_id);
        bool is_fresh = false;
        for (size_t k = 0; k < n_fresh; k++) {
            is_fresh = is_fresh || fresh[k] == m;
        }
        if (m == NULL || is_fresh) {
            continue;
        }
        tr_node_state_t old = m->state;
        m->state = st->state;
        if (st->state != old) {
            tr_log_info("relay", "pump state node_id=%s %s -> %s max_commit_ts=%" PRId64,
                        m->node_id, tr_node_state_name(old), tr_node_state_name(st->state),
                        st->max_commit_ts);
        }
        switch (st->state) {
        case TR_NODE_PAUSED:
            stop_client(r, m); /* the source stays: the merge waits for it */
            break;
        case TR_NODE_ONLINE:
        case TR_NODE_OFFLINE:
            if (m->client != NULL && strcmp(m->host, st->host) != 0 && st->host[0] != '\0') {
                tr_log_info("relay", "pump moved node_id=%s %s -> %s", m->node_id, m->host,
                            st->host);
                stop_client(r, m);
            }
            if (st->host[0] != '\0') {
                snprintf(m->host, sizeof(m->host), "%s", st->host);
            }
            if (st->state == TR_NODE_OFFLINE) {
                pthread_mutex_lock(&r->mu);
                bool drained = m->pulled_ts >= st->max_commit_ts;
                if (!m->leaving) {
                    m->leaving = true;
                    m->offline_max = st->max_commit_ts;
                    pthread_cond_signal(&r->ready); /* the writer checks whether it is drained */
                }
                pthread_mutex_unlock(&r->mu);
                if (drained) {
                    break; /* nothing left to pull */
                }
            }
            if (m->client == NULL) {
                start_client(r, m, m->resume_ts);
            }
            break;
        default:
            break; /* pausing, closing, unknown: no change, as Drainer */
        }
    }
    pthread_mutex_unlock(&r->members_mu);
}

static void on_pumps(void *arg, const tr_node_status_t *pumps, size_t n)
{
    reconcile(arg, pumps, n);
}

static int64_t progress_ts(void *arg)
{
    tr_relay_t *r = arg;
    return atomic_load(&r->durable_ts);
}

/* ---------------------------------------------------------------- lifecycle */

static void notify_addr(const tr_addr_t *a, char *out, size_t cap)
{
    bool v6 = strchr(a->host, ':') != NULL;
    snprintf(out, cap, "%s%.240s%s:%u", v6 ? "[" : "", a->host, v6 ? "]" : "", a->port);
}

/* Serves /binlog.Cistern/Notify on [upstream] notify-listen when set; in
 * static mode a call is answered at once (no list to re-read). */
static int start_notify(tr_relay_t *r, const tr_config_t *cfg, const char **why)
{
    if (cfg->notify_listen.host[0] == '\0') {
        return 0;
    }
    char addr[300];
    notify_addr(&cfg->notify_listen, addr, sizeof(addr));
    return tr_notify_server_start(addr, r->discovery, &r->notify, why);
}

int tr_relay_start(const tr_config_t *cfg, tr_store_t *store, const tr_store_checkpoint_t *cp,
                   tr_relay_t **out, const char **why)
{
    tr_relay_t *r = tr_calloc(1, sizeof(*r));
    r->cfg = cfg;
    r->store = store;
    r->started_ms = tr_clock_wall_ms();
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->members_mu, NULL);
    pthread_cond_init(&r->ready, NULL);
    pthread_cond_init(&r->space, NULL);
    atomic_init(&r->failed, false);
    int64_t start_ts = cp->has_txn ? cp->commit_ts : cfg->initial_commit_ts;
    atomic_init(&r->durable_ts, start_ts);
    r->next_gtid_no = cp->has_txn ? cp->gtid_no + 1 : cfg->gtid_start;
    r->merge = tr_merge_new(start_ts);
    r->schema = tr_schema_new();
    r->fetch = tr_schema_fetch_new(cfg);
    tr_schema_fetch_set_sink(r->fetch, keep_job, r);
    tr_arena_init(&r->arena, 256 * 1024);
    tr_buf_init(&r->out, 1024u * 1024 * 1024);
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        tr_buf_init(&r->ddl_sql[f], 64u * 1024 * 1024);
    }

    tr_buf_init(&r->ddl_tmp, 64u * 1024 * 1024);
    size_t bad_rule = 0;
    if (tr_filter_new(cfg->filter_rules, cfg->n_filter_rules, &r->filter, &bad_rule, why) != 0) {
        tr_relay_stop(r);
        return TR_ECONFIG; /* --check-config reports it with its line */
    }
    *why = NULL;
    int rc = tr_store_schema_jobs(store, load_job, r, why);
    if (rc != 0) {
        if (*why == NULL) {
            *why = "the schema history in the store cannot be read";
        }
        tr_relay_stop(r);
        return rc;
    }
    if (tr_schema_max_job_id(r->schema) > 0) {
        tr_log_info("schema", "schema history loaded from the store: jobs up to job_id=%" PRId64
                              " schema_version=%" PRId64,
                    tr_schema_max_job_id(r->schema), tr_schema_max_version(r->schema));
    }
    if (cp->has_txn && cp->schema_version > 0) {
        /* Start where the last transaction left the schema, as if the relay had not
         * stopped: rows with an older version are decoded with the newer tables, as they
         * are without a restart (a DROP COLUMN written at delete-only stays applied). */
        const char *awhy = NULL;
        if (tr_schema_advance(r->schema, cp->schema_version, &awhy) != 0) {
            tr_log_warn("schema", "cannot apply the stored history up to schema_version=%" PRId64
                                  " at start (retried with the first transaction): %s",
                        cp->schema_version, awhy != NULL ? awhy : "?");
        }
    }
    refresh_catalog(r, true);
    bool discovery = cfg->pd_urls[0] != '\0';
    if (!discovery && cfg->n_pumps == 0) {
        *why = "no Pump configured: set [upstream] pumps or pd-urls";
        tr_relay_stop(r);
        return TR_ECONFIG;
    }
    if (tr_spool_pager_new(PAGER_INTERVAL_MS, &r->pager) != 0) {
        /* Only memory use suffers: large transactions stay resident while translated. */
        tr_log_warn("relay", "cannot start the spool pager thread");
    }
    if (pthread_create(&r->writer, NULL, writer_main, r) != 0) {
        *why = "cannot start the writer thread";
        tr_relay_stop(r);
        return -EAGAIN;
    }
    r->writer_started = true;
    if (!discovery) {
        /* Static mode: every configured Pump, online for good. */
        tr_node_status_t *list = tr_calloc(cfg->n_pumps, sizeof(*list));
        for (size_t i = 0; i < cfg->n_pumps; i++) {
            snprintf(list[i].host, sizeof(list[i].host), "%.240s:%u", cfg->pumps[i].host,
                     cfg->pumps[i].port);
            snprintf(list[i].node_id, sizeof(list[i].node_id), "%.120s", list[i].host);
            list[i].state = TR_NODE_ONLINE;
        }
        reconcile(r, list, cfg->n_pumps);
        tr_free(list);
        rc = start_notify(r, cfg, why);
        if (rc != 0) {
            tr_relay_stop(r);
            return rc;
        }
        *out = r;
        return 0;
    }

    char node_id[128];
    char host[256];
    const tr_addr_t *a = cfg->listen.host[0] != '\0' ? &cfg->listen : &cfg->mariadb_listen;
    if (cfg->node_id[0] != '\0') {
        snprintf(node_id, sizeof(node_id), "%s", cfg->node_id);
    } else {
        char hn[100];
        if (gethostname(hn, sizeof(hn)) != 0) {
            snprintf(hn, sizeof(hn), "tirelay");
        }
        hn[sizeof(hn) - 1] = '\0';
        snprintf(node_id, sizeof(node_id), "%s:%u", hn, a->port);
    }
    if (cfg->advertise_addr[0] != '\0') {
        snprintf(host, sizeof(host), "%s", cfg->advertise_addr);
    } else if (cfg->notify_listen.host[0] != '\0') {
        notify_addr(&cfg->notify_listen, host, sizeof(host));
    } else {
        snprintf(host, sizeof(host), "%.240s:%u", a->host, a->port);
    }
    tr_discovery_opts_t o = {
        .pd_urls = cfg->pd_urls,
        .node_id = node_id,
        .host = host,
        .detect_interval_ms = cfg->detect_interval_ms,
        .heartbeat_ms = 1000,
        .stop_offline = cfg->stop_offline,
        .on_pumps = on_pumps,
        .progress = progress_ts,
        .arg = r,
    };
    tr_discovery_t *d = NULL;
    rc = tr_discovery_start(&o, &d);
    if (rc != 0) {
        *why = "cannot start Pump discovery (check [upstream] pd-urls)";
        tr_relay_stop(r);
        return rc;
    }
    pthread_mutex_lock(&r->mu);
    r->discovery = d;
    pthread_mutex_unlock(&r->mu);
    if (cfg->notify_listen.host[0] == '\0') {
        tr_log_warn("relay", "[upstream] notify-listen is not set: a Pump starting for the first "
                             "time calls /binlog.Cistern/Notify at %s and exits if that fails", host);
    }
    rc = start_notify(r, cfg, why);
    if (rc != 0) {
        tr_relay_stop(r);
        return rc;
    }
    *out = r;
    return 0;
}

void tr_relay_stop(tr_relay_t *r)
{
    if (r == NULL) {
        return;
    }
    pthread_mutex_lock(&r->mu);
    r->stopping = true;
    pthread_cond_broadcast(&r->ready);
    pthread_cond_broadcast(&r->space);
    pthread_mutex_unlock(&r->mu);
    pthread_mutex_lock(&r->members_mu);
    for (size_t i = 0; i < r->n_members; i++) {
        stop_client(r, r->members[i]);
    }
    pthread_mutex_unlock(&r->members_mu);
    if (r->writer_started) {
        pthread_join(r->writer, NULL);
    }
    tr_spool_pager_free(r->pager);
    r->pager = NULL;
    /* Before discovery: a Notify call in progress waits for a list. */
    tr_notify_server_stop(r->notify);
    r->notify = NULL;
    /* After the writer: the final state carries the final durable progress. */
    tr_discovery_stop(r->discovery);
    r->discovery = NULL;
    tr_merge_item_t item;
    bool dropped;
    while (r->merge != NULL && tr_merge_pop(r->merge, &item, &dropped)) {
        pending_free(item.data);
    }
    for (size_t i = 0; i < r->n_members; i++) {
        tr_merge_remove_source(r->merge, r->members[i]->source_id, drop_pending);
        tr_free(r->members[i]);
    }
    r->n_members = 0;
    tr_merge_free(r->merge);
    tr_schema_fetch_free(r->fetch);
    tr_catalog_unref(r->catalog);
    tr_schema_free(r->schema);
    tr_filter_free(r->filter);
    tr_buf_cleanup(&r->ddl_tmp);
    tr_arena_cleanup(&r->arena);
    tr_buf_cleanup(&r->out);
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        tr_buf_cleanup(&r->ddl_sql[f]);
    }
    pthread_cond_destroy(&r->ready);
    pthread_cond_destroy(&r->space);
    pthread_mutex_destroy(&r->members_mu);
    pthread_mutex_destroy(&r->mu);
    tr_free(r);
}

/* ---------------------------------------------------------------- status */

int tr_relay_status(tr_relay_t *r, tr_upstream_status_t *out)
{
    memset(out, 0, sizeof(*out));
    out->now_ms = tr_clock_wall_ms();
    out->is_discovery = r->cfg->pd_urls[0] != '\0';
    out->has_failed = atomic_load(&r->failed);
    out->is_store_full = atomic_load(&r->store_full);
    out->durable_ts = atomic_load(&r->durable_ts);
    out->rows = atomic_load_explicit(&r->rows_written, memory_order_relaxed);
    for (int k = 0; k < TR_UPSTREAM_ERR_COUNT; k++) {
        out->errors[k] = atomic_load_explicit(&r->errors[k], memory_order_relaxed);
    }
    int64_t busy = atomic_load_explicit(&r->busy_since_ms, memory_order_relaxed);
    out->writer_busy_ms = busy != 0 && !out->has_failed ? tr_clock_mono_ms() - busy : 0;
    /* members_mu for the membership fields (state, host: written under it
     * alone), then mu for what pump threads and the writer change; both only
     * for the copy. members_mu can be held while a Pump client is stopped,
     * which is why callers run this off the loop thread. */
    pthread_mutex_lock(&r->members_mu);
    pthread_mutex_lock(&r->mu);
    size_t n = r->n_members;
    out->sources = n ? tr_calloc(n, sizeof(*out->sources)) : NULL;
    for (size_t i = 0; i < n; i++) {
        const member_t *m = r->members[i];
        tr_upstream_source_t *p = &out->sources[i];
        snprintf(p->node_id, sizeof(p->node_id), "%s", m->node_id);
        snprintf(p->addr, sizeof(p->addr), "%s", m->host);
        p->state = tr_node_state_name(m->state);
        p->is_pulling = m->client != NULL;
        p->in_merge = m->in_merge;
        p->last_ts = m->recv_ms != 0 ? m->pulled_ts : 0;
        p->recv_ms = m->recv_ms;
        p->binlogs = m->binlogs;
        p->queued = tr_merge_queued(r->merge, m->source_id);
        int64_t since = m->recv_ms != 0 ? m->recv_ms : m->joined_ms;
        p->silent_ms = out->now_ms - since;
        p->is_unreachable = p->is_pulling && m->state == TR_NODE_ONLINE &&
                            out->now_ms - since > TR_UPSTREAM_UNREACHABLE_MS;
    }
    out->n_sources = n;
    out->merge_watermark = tr_merge_watermark_ts(r->merge);
    out->merge_last_ts = tr_merge_last_ts(r->merge);
    pthread_mutex_unlock(&r->mu);
    pthread_mutex_unlock(&r->members_mu);
    return 0;
}

/* ---------------------------------------------------------------- metrics */

bool tr_relay_ready(tr_relay_t *r, int64_t stall_ms, char *why, size_t cap)
{
    tr_upstream_status_t st;
    if (tr_relay_status(r, &st) != 0) {
        snprintf(why, cap, "relay status unavailable");
        return false;
    }
    bool ok = true;
    if (st.has_failed) {
        snprintf(why, cap, "writer failed: translation stopped (see the log); restart to resume");
        ok = false;
    }
    if (ok && st.is_store_full) {
        snprintf(why, cap, "disk full: appending paused, retrying with backoff (see the log)");
        ok = false;
    }
    for (size_t i = 0; ok && i < st.n_sources; i++) {
        const tr_upstream_source_t *p = &st.sources[i];
        if (p->in_merge && p->silent_ms > stall_ms) {
            snprintf(why, cap,
                     "merge stalled: pump %s (%s, state %s, %s) sent nothing for %" PRId64
                     " s; last commit_ts %" PRId64,
                     p->node_id, p->addr, p->state,
                     p->is_pulling ? "pulling" : "not pulling", p->silent_ms / 1000, p->last_ts);
            ok = false;
        }
    }
    if (ok && st.writer_busy_ms > stall_ms) {
        snprintf(why, cap,
                 "writer stuck for %" PRId64 " s on one step (waiting for DDL history or the disk)",
                 st.writer_busy_ms / 1000);
        ok = false;
    }
    if (ok && st.n_sources == 0) {
        snprintf(why, cap, "no pump known yet");
        ok = false;
    }
    tr_upstream_status_cleanup(&st);
    return ok;
}
