/*
 * Upstream orchestration (see relay.h). Threads: each pump client thread
 * calls on_binlog, which queues the payload into the merge under r->mu
 * (blocking while that Pump's queue is full); the writer thread pops
 * released transactions, translates and stores them, and commits a group
 * whenever the merge has nothing more to release or the group is large.
 * Holds no byte layouts: decoding lives in protocol/, translation in
 * translate.c, durability in store/.
 */
#include "relay/relay.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "protocol/tidb_binlog.h"
#include "relay/merge.h"
#include "relay/pump_client.h"
#include "relay/schema.h"
#include "relay/schema_fetch.h"
#include "relay/translate.h"

#define MAX_QUEUED_PER_PUMP 1024 /* transactions waiting per Pump before it blocks */
#define MAX_GROUP_TXNS      512  /* transactions per group commit at most */

typedef struct {
    size_t len;
    uint8_t payload[];
} pending_t;

struct tr_relay {
    const tr_config_t *cfg;
    tr_store_t *store;

    pthread_mutex_t mu;
    pthread_cond_t ready; /* writer: something may be releasable, or stop */
    pthread_cond_t space; /* pumps: queue space freed, or stop */
    tr_merge_t *merge;    /* under mu */
    bool stopping;        /* under mu */

    tr_pump_client_t *pumps[TR_CONFIG_MAX_PUMPS];
    size_t n_pumps;

    pthread_t writer;
    bool writer_started;
    atomic_bool failed;

    /* Writer-thread state. */
    tr_schema_t *schema;
    tr_schema_fetch_t *fetch;
    tr_arena_t arena;
    tr_buf_t out;
    uint64_t next_gtid_no;
    size_t group_txns;       /* ended, not yet committed */
};

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
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->mu);
    if (!r->stopping) {
        (void)pthread_cond_timedwait(&r->space, &r->mu, &ts);
    }
    pthread_mutex_unlock(&r->mu);
}

/* ---------------------------------------------------------------- pump side */

static int on_binlog(void *arg, uint32_t pump_id, const uint8_t *payload, size_t len,
                     const tr_tidb_binlog_t *b)
{
    tr_relay_t *r = arg;
    pthread_mutex_lock(&r->mu);
    if (r->stopping) {
        pthread_mutex_unlock(&r->mu);
        return -1;
    }
    int rc = 0;
    if (tr_tidb_binlog_is_fake(b)) {
        rc = tr_merge_watermark(r->merge, pump_id, b->commit_ts);
    } else if (b->tp == TR_TIDB_BINLOG_COMMIT) {
        while (!r->stopping && tr_merge_queued(r->merge, pump_id) >= MAX_QUEUED_PER_PUMP) {
            pthread_cond_wait(&r->space, &r->mu);
        }
        if (r->stopping) {
            pthread_mutex_unlock(&r->mu);
            return -1;
        }
        pending_t *p = tr_malloc(sizeof(*p) + len);
        p->len = len;
        memcpy(p->payload, payload, len);
        rc = tr_merge_push(r->merge, pump_id, b->commit_ts, p);
        if (rc != 0) {
            tr_free(p);
        }
    }
    if (rc == 0) {
        pthread_cond_signal(&r->ready);
    }
    pthread_mutex_unlock(&r->mu);
    if (rc != 0) {
        tr_log_warn("relay", "merge refused a binlog pump=%" PRIu32 " commit_ts=%" PRId64 " err=%s",
                    pump_id, b->commit_ts, tr_strerror(rc));
    }
    return rc;
}

/* ---------------------------------------------------------------- writer side */

/* Fetches DDL history until `done` holds or the relay stops. Backs off on errors. */
static int fetch_jobs(tr_relay_t *r)
{
    const char *why = NULL;
    int rc = tr_schema_fetch_new_jobs(r->fetch, r->schema, &why);
    if (rc < 0) {
        tr_log_warn("schema", "cannot read DDL history: %s", why ? why : tr_strerror(rc));
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
        tr_log_error("schema", "cannot apply DDL history up to version %" PRId64 ": %s", version,
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

/* Translates and appends one transaction to every enabled flavour. */
static int write_txn(tr_relay_t *r, const tr_tidb_binlog_t *b, int64_t schema_version)
{
    tr_txn_ctx_t ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.gtid_no = r->next_gtid_no;
    memcpy(ctx.server_uuid, r->cfg->server_uuid_bin, 16);
    ctx.server_id = r->cfg->server_id;
    ctx.gtid_domain_id = r->cfg->gtid_domain_id;
    ctx.timestamp = tr_tso_seconds(b->commit_ts);
    ctx.commit_ts_us = tr_tso_micros(b->commit_ts);
    next_clock(r, &ctx);

    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (!tr_store_flavor_enabled(r->store, (tr_flavor_t)f)) {
            continue;
        }
        int rc = 0;
        for (int attempt = 0; attempt < 2; attempt++) {
            tr_buf_reset(&r->out);
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
            if (rc == TR_ENOTFOUND && attempt == 0) {
                /* A table the schema does not know yet: fetch newer history once. */
                (void)fetch_jobs(r);
                if (advance_schema(r, schema_version) != 0) {
                    return TR_ESCHEMA;
                }
                continue;
            }
            if (rc != 0) {
                tr_log_error("translate",
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
            tr_log_error("store", "append failed: %s", tr_strerror(rc));
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
        tr_log_error("store", "cannot end transaction: %s", tr_strerror(rc));
        return rc;
    }
    r->next_gtid_no++;
    r->group_txns++;
    return 0;
}

static int process(tr_relay_t *r, const pending_t *p)
{
    tr_tidb_binlog_t b;
    const char *why = NULL;
    ssize_t n = tr_tidb_binlog_decode(p->payload, p->len, &b, &why);
    if (n < 0) {
        tr_log_error("relay", "malformed binlog payload, relay stopped: %s", why ? why : "?");
        return (int)n;
    }
    tr_arena_reset(&r->arena);
    int64_t version;
    if (b.ddl_job_id > 0) {
        /* Sequence setval pseudo-DDLs carry fabricated job ids that never reach the history. */
        if (b.ddl_query.len >= 13 && strncasecmp((const char *)b.ddl_query.p, "select setval", 13) == 0) {
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
        version = tr_schema_job(r->schema, b.ddl_job_id)->schema_version;
    } else {
        tr_tidb_prewrite_t pv;
        int rc = tr_tidb_prewrite_decode(b.prewrite_value.p, b.prewrite_value.len, &r->arena, &pv,
                                         &why);
        if (rc != 0) {
            tr_log_error("relay", "malformed prewrite value, relay stopped: %s commit_ts=%" PRId64,
                         why ? why : "?", b.commit_ts);
            return rc;
        }
        version = pv.schema_version;
    }
    if (version > tr_schema_applied_version(r->schema) && advance_schema(r, version) != 0) {
        return TR_ESCHEMA;
    }
    return write_txn(r, &b, tr_schema_applied_version(r->schema));
}

static int commit_group(tr_relay_t *r)
{
    if (r->group_txns == 0) {
        return 0;
    }
    int rc = tr_store_commit(r->store);
    if (rc != 0) {
        tr_log_error("store", "group commit failed, nothing new became visible: %s",
                     tr_strerror(rc));
        tr_store_abort(r->store);
        return rc;
    }
    r->group_txns = 0;
    return 0;
}

static void fail_stop(tr_relay_t *r)
{
    atomic_store(&r->failed, true);
    tr_store_abort(r->store);
    r->group_txns = 0;
    tr_log_error("relay", "translation stopped; replicas keep being served what is durable. "
                          "Fix the cause and restart tirelay to resume from the last commit.");
    pthread_mutex_lock(&r->mu);
    while (!r->stopping) {
        pthread_cond_wait(&r->ready, &r->mu);
    }
    pthread_mutex_unlock(&r->mu);
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
            pthread_cond_wait(&r->ready, &r->mu);
        }
        pthread_cond_broadcast(&r->space);
        pthread_mutex_unlock(&r->mu);

        pending_t *p = item.data;
        if (dropped) {
            tr_log_warn("relay", "dropped duplicate or out-of-order binlog commit_ts=%" PRId64
                                 " pump=%" PRIu32,
                        item.commit_ts, item.source_id);
            tr_free(p);
            continue;
        }
        int rc = process(r, p);
        tr_free(p);
        if (rc == TR_ECLOSED) {
            continue; /* stopping */
        }
        if (rc != 0) {
            fail_stop(r);
            return NULL;
        }
        if (r->group_txns >= MAX_GROUP_TXNS && commit_group(r) != 0) {
            fail_stop(r);
            return NULL;
        }
    }
}

/* ---------------------------------------------------------------- lifecycle */

static void drop_pending(void *data)
{
    tr_free(data);
}

int tr_relay_start(const tr_config_t *cfg, tr_store_t *store, const tr_store_checkpoint_t *cp,
                   tr_relay_t **out, const char **why)
{
    tr_relay_t *r = tr_calloc(1, sizeof(*r));
    r->cfg = cfg;
    r->store = store;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->ready, NULL);
    pthread_cond_init(&r->space, NULL);
    atomic_init(&r->failed, false);
    int64_t start_ts = cp->has_txn ? cp->commit_ts : cfg->initial_commit_ts;
    r->next_gtid_no = cp->has_txn ? cp->gtid_no + 1 : cfg->gtid_start;
    r->merge = tr_merge_new(start_ts);
    r->schema = tr_schema_new();
    r->fetch = tr_schema_fetch_new(cfg);
    tr_arena_init(&r->arena, 256 * 1024);
    tr_buf_init(&r->out, 1024u * 1024 * 1024);

    if (cfg->n_pumps == 0) {
        *why = "no Pump configured ([upstream] pumps); pd-urls discovery is not available yet";
        tr_relay_stop(r);
        return TR_EUNSUPPORTED;
    }
    for (size_t i = 0; i < cfg->n_pumps; i++) {
        if (tr_merge_add_source(r->merge, (uint32_t)i) != 0) {
            *why = "cannot add merge source";
            tr_relay_stop(r);
            return TR_EUNSUPPORTED;
        }
    }
    if (pthread_create(&r->writer, NULL, writer_main, r) != 0) {
        *why = "cannot start the writer thread";
        tr_relay_stop(r);
        return -EAGAIN;
    }
    r->writer_started = true;
    for (size_t i = 0; i < cfg->n_pumps; i++) {
        char addr[300];
        snprintf(addr, sizeof(addr), "%s:%u", cfg->pumps[i].host, cfg->pumps[i].port);
        tr_pump_client_opts_t o = {
            .pump_id = (uint32_t)i,
            .addr = addr,
            .cluster_id = cfg->cluster_id,
            .start_commit_ts = start_ts,
            .deliver = on_binlog,
            .arg = r,
        };
        int rc = tr_pump_client_start(&o, &r->pumps[i]);
        if (rc != 0) {
            *why = "cannot start a pump client";
            tr_relay_stop(r);
            return rc;
        }
        r->n_pumps++;
        tr_log_info("relay", "pulling from pump addr=%s start_commit_ts=%" PRId64, addr, start_ts);
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
    for (size_t i = 0; i < r->n_pumps; i++) {
        tr_pump_client_stop(r->pumps[i]);
    }
    if (r->writer_started) {
        pthread_join(r->writer, NULL);
    }
    tr_merge_item_t item;
    bool dropped;
    while (r->merge != NULL && tr_merge_pop(r->merge, &item, &dropped)) {
        tr_free(item.data);
    }
    for (size_t i = 0; r->merge != NULL && i < r->cfg->n_pumps; i++) {
        tr_merge_remove_source(r->merge, (uint32_t)i, drop_pending);
    }
    tr_merge_free(r->merge);
    tr_schema_fetch_free(r->fetch);
    tr_schema_free(r->schema);
    tr_arena_cleanup(&r->arena);
    tr_buf_cleanup(&r->out);
    pthread_cond_destroy(&r->ready);
    pthread_cond_destroy(&r->space);
    pthread_mutex_destroy(&r->mu);
    tr_free(r);
}

bool tr_relay_failed(tr_relay_t *r)
{
    return atomic_load(&r->failed);
}
