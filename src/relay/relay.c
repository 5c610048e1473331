/*
 * Upstream orchestration (see relay.h): start, stop, status and the one failure path
 * here; the Pumps in members.c, the DDL history in ddl.c, the writer thread in writer.c
 * (relay_internal.h holds what they share). Threads: each pump client thread
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
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"

#include "relay/relay_internal.h"
#include "relay/ticdc.h"

/*
 * The upstream's one failure path: counts the error for tirelay_errors_total{kind} and
 * logs it once, at the level its consequence has (WARN when the relay goes on, ERROR when
 * it stops or loses what it was doing), under the component that knows the detail. Every
 * error the upstream meets goes through here, so a count never lacks its line.
 */
void tr_relay_error(tr_relay_t *r, tr_upstream_err_t kind, tr_log_level_t level,
                           const char *comp, const char *fmt, ...) TR_PRINTF(5, 6);
void tr_relay_error(tr_relay_t *r, tr_upstream_err_t kind, tr_log_level_t level,
                           const char *comp, const char *fmt, ...)
{
    atomic_fetch_add_explicit(&r->errors[kind], 1, memory_order_relaxed);
    va_list ap;
    va_start(ap, fmt);
    tr_vlog(level, comp, fmt, ap);
    va_end(ap);
}

bool tr_relay_is_stopping(tr_relay_t *r)
{
    pthread_mutex_lock(&r->mu);
    bool s = r->stopping;
    pthread_mutex_unlock(&r->mu);
    return s;
}

/* Sleeps up to ms, returning early when the relay stops. */
void tr_relay_nap(tr_relay_t *r, int ms)
{
    struct timespec ts = tr_clock_deadline(CLOCK_REALTIME, ms);
    pthread_mutex_lock(&r->mu);
    if (!r->stopping) {
        (void)pthread_cond_timedwait(&r->space, &r->mu, &ts);
    }
    pthread_mutex_unlock(&r->mu);
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
    tr_schema_fetch_set_sink(r->fetch, tr_relay_keep_job, r);
    tr_arena_init(&r->arena, 256 * 1024);
    tr_buf_init(&r->out, 1024u * 1024 * 1024);
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        tr_evt_tm_cache_init(&r->tm_cache[f]);
    }
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
    int rc = tr_store_schema_jobs(store, tr_relay_load_job, r, why);
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
    tr_relay_refresh_catalog(r, true);
    bool discovery = cfg->pd_urls[0] != '\0';
    if (tr_config_input(cfg) == TR_INPUT_TICDC_KAFKA ||
        tr_config_input(cfg) == TR_INPUT_TICDC_STORAGE) {
        rc = tr_relay_cdc_start(r, cp, why);
        if (rc == 0 && pthread_create(&r->writer, NULL, tr_relay_cdc_writer_main, r) != 0) {
            *why = "cannot start the writer thread";
            rc = -EAGAIN;
        }
        if (rc != 0) {
            tr_relay_stop(r);
            return rc;
        }
        r->writer_started = true;
        *out = r;
        return 0;
    }
    if (!discovery && cfg->n_pumps == 0) {
        *why = "no Pump configured: set [upstream] pumps or pd-urls";
        tr_relay_stop(r);
        return TR_ECONFIG;
    }
    if (tr_spool_pager_new(PAGER_INTERVAL_MS, &r->pager) != 0) {
        /* Only memory use suffers: large transactions stay resident while translated. */
        tr_log_warn("relay", "cannot start the spool pager thread");
    }
    if (pthread_create(&r->writer, NULL, tr_relay_writer_main, r) != 0) {
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
        tr_relay_reconcile(r, list, cfg->n_pumps);
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
        .on_pumps = tr_relay_on_pumps,
        .progress = tr_relay_progress_ts,
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
        tr_relay_stop_client(r, r->members[i]);
    }
    pthread_mutex_unlock(&r->members_mu);
    tr_relay_cdc_stop_input(r);
    if (r->writer_started) {
        pthread_join(r->writer, NULL);
    }
    tr_relay_cdc_free(r);
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
        tr_merge_remove_source(r->merge, r->members[i]->source_id, tr_relay_drop_pending);
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
        tr_evt_tm_cache_cleanup(&r->tm_cache[f]);
    }
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
    if (r->cdc == NULL) {
        out->input = out->is_discovery ? "discovery" : "static";
    } else {
        out->input =
            tr_config_input(r->cfg) == TR_INPUT_TICDC_STORAGE ? "ticdc-storage" : "ticdc-kafka";
    }
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
    if (r->cdc != NULL) {
        tr_relay_cdc_status(r, out);
        out->merge_watermark = tr_merge_watermark_ts(r->merge);
        out->merge_last_ts = tr_merge_last_ts(r->merge);
        pthread_mutex_unlock(&r->mu);
        pthread_mutex_unlock(&r->members_mu);
        return 0;
    }
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
