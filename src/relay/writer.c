/*
 * The writer thread of the relay (relay_internal.h declares the functions): pops
 * released transactions in commit_ts order, brings the schema to each one's version,
 * translates it for every flavour, appends it to the store and commits in groups, pausing
 * while the disk is full.
 */
#include "relay/writer.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/thread.h"
#include "relay/catalog_build.h"


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
 * transaction; nothing is visible before tr_store_txn_end and the group commit. fn
 * translates for one flavour (called once per flavour, again after a refetch); with
 * refetch, a table it does not know (TR_ENOTFOUND before anything was flushed) makes the
 * writer read newer history once and try again. Errors name the transaction by its
 * commit_ts and what_key=what_value, formatted only then (not once per transaction). */
int tr_relay_write_txn(tr_relay_t *r, int64_t commit_ts, int64_t schema_version,
                       tr_relay_translate_fn fn, void *arg, bool refetch, const char *what_key,
                       int64_t what_value)
{
    uint64_t rows = 0; /* counted by the translator (the same for every flavour) */
    tr_txn_ctx_t ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.gtid_no = r->next_gtid_no;
    memcpy(ctx.server_uuid, r->cfg->server_uuid_bin, 16);
    ctx.server_id = r->cfg->server_id;
    ctx.gtid_domain_id = r->cfg->gtid_domain_id;
    ctx.timestamp = tr_tso_seconds(commit_ts);
    ctx.commit_ts_us = tr_tso_micros(commit_ts);
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
        ctx.tm_cache = &r->tm_cache[f];
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
            rc = fn(arg, &ctx, &w, &why);
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
            if (rc == TR_ENOTFOUND && refetch && attempt == 0 && !st.flushed) {
                /* A table the schema does not know yet: fetch newer history once. */
                (void)tr_relay_fetch_jobs(r);
                if (tr_relay_advance_schema(r, schema_version) != 0) {
                    return TR_ESCHEMA;
                }
                continue;
            }
            if (rc != 0) {
                tr_relay_error(r, TR_UPSTREAM_ERR_TRANSLATE, TR_LOG_ERROR, "translate",
                               "cannot translate transaction, relay stopped before writing it: %s "
                               "commit_ts=%" PRId64 " %s=%" PRId64 " flavor=%s",
                               why ? why : tr_strerror(rc), commit_ts, what_key, what_value,
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
            tr_relay_error(r, TR_UPSTREAM_ERR_STORE, TR_LOG_ERROR, "store", "append failed: %s",
                           tr_strerror(rc));
            return rc;
        }
    }
    tr_txn_info_t info = {
        .gtid_no = ctx.gtid_no,
        .commit_ts = commit_ts,
        .schema_version = schema_version,
        .timestamp = ctx.timestamp,
    };
    int rc = tr_store_txn_end(r->store, &info);
    if (rc != 0) {
        tr_relay_error(r, TR_UPSTREAM_ERR_STORE, TR_LOG_ERROR, "store",
                       "cannot end transaction: %s", tr_strerror(rc));
        return rc;
    }
    r->next_gtid_no++;
    r->group_txns++;
    r->group_rows += rows;
    return 0;
}

/* The Pump path's translation of one binlog (tr_relay_translate_fn). */
typedef struct {
    tr_relay_t *r;
    const tr_tidb_binlog_t *b;
} binlog_arg_t;

static int translate_binlog(void *arg, const tr_txn_ctx_t *ctx, tr_evt_writer_t *w,
                            const char **why)
{
    binlog_arg_t *a = arg;
    return tr_translate_txn(a->b, a->r->schema, ctx, w, &a->r->arena, why);
}

static int write_txn(tr_relay_t *r, const tr_tidb_binlog_t *b, int64_t schema_version)
{
    binlog_arg_t a = {r, b};
    return tr_relay_write_txn(r, b->commit_ts, schema_version, translate_binlog, &a, true,
                              "start_ts", b->start_ts);
}

static int process(tr_relay_t *r, const pending_t *p)
{
    tr_tidb_binlog_t b;
    const char *why = NULL;
    ssize_t n = tr_tidb_binlog_decode(p->payload, p->len, &b, &why);
    if (n < 0) {
        tr_relay_error(r, TR_UPSTREAM_ERR_MALFORMED, TR_LOG_ERROR, "relay",
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
        int rc = tr_relay_wait_for_job(r, b.ddl_job_id);
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
        rc = tr_relay_prepare_ddl(r, &b, job, &write);
        if (rc == 0 && write && tr_filter_has_rules(r->filter)) {
            rc = tr_relay_filter_ddl(r, &b, job, filter_why, &write);
        }
        if (rc == TR_EUNSUPPORTED) {
            /* Stop after what came before: the transactions already ended are whole and
             * valid, so make them durable before the relay stops translating. */
            if (tr_relay_commit_group(r) != 0) {
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
            tr_relay_error(r, TR_UPSTREAM_ERR_MALFORMED, TR_LOG_ERROR, "relay",
                           "malformed prewrite value, relay stopped: %s commit_ts=%" PRId64,
                           why ? why : "?", b.commit_ts);
            return rc;
        }
    }
    if (version > tr_schema_applied_version(r->schema) && tr_relay_advance_schema(r, version) != 0) {
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
    tr_relay_error(r, TR_UPSTREAM_ERR_STORE, TR_LOG_ERROR, "store",
                   "disk full, appending paused (replicas keep being served what is durable); "
                   "retrying with backoff txns=%zu err=%s",
                   r->group_txns, tr_strerror(rc));
    int delay_ms = 100;
    int tries = 0;
    atomic_store(&r->store_full, true);
    while (tr_store_err_is_full(rc)) {
        if (tr_relay_is_stopping(r)) {
            return TR_ECLOSED;
        }
        tr_relay_nap(r, delay_ms);
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
void tr_relay_refresh_catalog(tr_relay_t *r, bool now)
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

/* Commits the transactions ended since the last commit (one fsync), with the input's
 * position when it keeps one (r->cdc: the TiCDC path). Nothing to commit: 0. */
int tr_relay_commit_group(tr_relay_t *r)
{
    if (r->group_txns == 0) {
        return 0;
    }
    tr_relay_refresh_catalog(r, false);
    if (r->cdc != NULL) {
        tr_relay_cdc_before_commit(r);
    }
    int rc = tr_store_commit(r->store);
    if (tr_store_err_is_full(rc)) {
        rc = wait_for_space(r, rc);
    }
    if (rc != 0) {
        tr_relay_error(r, TR_UPSTREAM_ERR_STORE, TR_LOG_ERROR, "store",
                       "group commit failed, nothing new became visible: %s", tr_strerror(rc));
        tr_store_abort(r->store);
        return rc;
    }
    if (r->cdc != NULL) {
        tr_relay_cdc_after_commit(r);
    }
    atomic_fetch_add_explicit(&r->rows_written, r->group_rows, memory_order_relaxed);
    r->group_txns = 0;
    r->group_rows = 0;
    return 0;
}

/* True when a transaction just ended past max-binlog-size in some flavour. Committing at
 * once makes the store rotate right after that transaction, so where files end depends
 * only on the stream, not on how transactions happened to be grouped (determinism). */
bool tr_relay_rotation_due(tr_relay_t *r)
{
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (tr_store_flavor_enabled(r->store, (tr_flavor_t)f) &&
            tr_store_txn_pos(r->store, (tr_flavor_t)f) >= r->cfg->max_binlog_size) {
            return true;
        }
    }
    return false;
}

void tr_relay_fail_stop(tr_relay_t *r)
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

/* Everything released is committed and nothing more is releasable: the merge
 * watermark is durable progress. Caller holds mu (writer thread). */
void tr_relay_note_durable(tr_relay_t *r)
{
    int64_t w = tr_merge_watermark_ts(r->merge);
    if (w > atomic_load(&r->durable_ts)) {
        atomic_store(&r->durable_ts, w);
    }
}

bool tr_relay_next_item(tr_relay_t *r, tr_merge_item_t *item, bool *dropped)
{
    pthread_mutex_lock(&r->mu);
    for (;;) {
        if (r->stopping) {
            pthread_mutex_unlock(&r->mu);
            /* Commit what is complete before leaving. */
            if (tr_relay_commit_group(r) != 0) {
                atomic_store(&r->failed, true);
            }
            return false;
        }
        tr_relay_reap_offline(r);
        if (tr_merge_pop(r->merge, item, dropped)) {
            atomic_store_explicit(&r->busy_since_ms, tr_clock_mono_ms(), memory_order_relaxed);
            return true;
        }
        if (r->group_txns > 0) {
            /* Nothing more to release now: make the group durable and visible. */
            pthread_mutex_unlock(&r->mu);
            if (tr_relay_commit_group(r) != 0) {
                tr_relay_fail_stop(r); /* returns when the relay stops */
                return false;
            }
            pthread_mutex_lock(&r->mu);
            continue;
        }
        if (r->cdc != NULL) {
            /* Idle: the TiCDC input's position moves with the watermarks alone. */
            pthread_mutex_unlock(&r->mu);
            tr_relay_cdc_idle(r);
            pthread_mutex_lock(&r->mu);
            if (tr_merge_can_pop(r->merge) || r->stopping) {
                continue;
            }
        }
        tr_relay_note_durable(r);
        atomic_store_explicit(&r->busy_since_ms, 0, memory_order_relaxed);
        if (r->cdc != NULL) {
            struct timespec ts = tr_clock_deadline(CLOCK_REALTIME, TR_RELAY_CDC_IDLE_MS);
            (void)pthread_cond_timedwait(&r->ready, &r->mu, &ts);
        } else {
            pthread_cond_wait(&r->ready, &r->mu);
        }
    }
}

void *tr_relay_writer_main(void *arg)
{
    tr_thread_name("tr-writer");
    tr_relay_t *r = arg;
    for (;;) {
        tr_merge_item_t item;
        bool dropped = false;
        if (!tr_relay_next_item(r, &item, &dropped)) {
            return NULL;
        }
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
            tr_relay_error(r, TR_UPSTREAM_ERR_DROPPED, TR_LOG_WARN, "relay",
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
            tr_relay_fail_stop(r);
            return NULL;
        }
        if ((r->group_txns >= MAX_GROUP_TXNS || tr_relay_rotation_due(r)) &&
            tr_relay_commit_group(r) != 0) {
            tr_relay_fail_stop(r);
            return NULL;
        }
    }
}
