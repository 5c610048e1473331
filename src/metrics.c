/*
 * /metrics and /healthz (see metrics.h) on libmicrohttpd's internal polling
 * thread. Metric names follow the Prometheus conventions
 * (https://prometheus.io/docs/practices/naming/): tirelay_ prefix, base units
 * in the name (_seconds, _bytes), _total on counters, TSOs as _commit_ts
 * gauges printed as exact integers next to a _timestamp_seconds form.
 *
 * Threads: the HTTP thread handles requests one at a time (MHD's internal
 * polling thread without thread-per-connection). For a scrape it asks the
 * loop for a copy of the server statistics through `async` and waits on
 * `cond` (at most SCRAPE_WAIT_MS, and never once stopping is set, so
 * tr_metrics_stop on the loop cannot deadlock with a waiting scrape).
 */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/metrics.h"
#include "common/tso.h"

#define SCRAPE_WAIT_MS   5000 /* the loop must answer a statistics request within this */
#define MAX_CONNECTIONS  32
#define CONN_TIMEOUT_S   30
#define CONTENT_TYPE_PROM "text/plain; version=0.0.4; charset=utf-8"

struct tr_metrics {
    uv_loop_t *loop;
    const tr_config_t *cfg;
    tr_store_t *store;
    tr_server_t *srv;
    tr_relay_t *relay;
    struct MHD_Daemon *daemon;
    char addr_text[300];

    uv_async_t async;       /* HTTP thread -> loop: copy the server statistics */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool want;              /* (mu) a request waits for srv_stats */
    bool have;              /* (mu) srv_stats is filled */
    bool stopping;          /* (mu) no more loop round trips */
    tr_server_stats_t srv_stats; /* (mu) */
};

/* ------------------------------------------------------------ loop side */

static void on_async(uv_async_t *h)
{
    tr_metrics_t *m = h->data;
    pthread_mutex_lock(&m->mu);
    if (m->want && !m->have) {
        tr_server_stats(m->srv, &m->srv_stats);
        m->have = true;
        pthread_cond_broadcast(&m->cond);
    }
    pthread_mutex_unlock(&m->mu);
}

/* HTTP thread: a copy of the server statistics, or false when the loop did not answer. */
static bool fetch_server_stats(tr_metrics_t *m, tr_server_stats_t *out)
{
    struct timespec deadline = tr_clock_deadline(CLOCK_REALTIME, SCRAPE_WAIT_MS);
    pthread_mutex_lock(&m->mu);
    if (m->stopping) {
        pthread_mutex_unlock(&m->mu);
        return false;
    }
    m->want = true;
    m->have = false;
    uv_async_send(&m->async);
    int rc = 0;
    while (!m->have && !m->stopping && rc != ETIMEDOUT) {
        rc = pthread_cond_timedwait(&m->cond, &m->mu, &deadline);
    }
    bool ok = m->have;
    if (ok) {
        *out = m->srv_stats;
        memset(&m->srv_stats, 0, sizeof(m->srv_stats));
    }
    m->want = false;
    m->have = false;
    pthread_mutex_unlock(&m->mu);
    return ok;
}

/* ------------------------------------------------------------ rendering */

static void render_relay(tr_buf_t *b, const tr_upstream_status_t *st, double now)
{
    tr_prom_family(b, "tirelay_pump_info", "gauge",
                   "A Pump the relay knows (value 1): its address, etcd state and whether it is "
                   "being pulled.");
    for (size_t i = 0; i < st->n_sources; i++) {
        const tr_upstream_source_t *p = &st->sources[i];
        tr_prom_sample(b, "tirelay_pump_info", 1, "pump", p->node_id, "addr", p->addr, "state",
                       p->state, "pulling", p->is_pulling ? "true" : "false",
                       "in_merge", p->in_merge ? "true" : "false", (const char *)NULL);
    }
    tr_prom_family(b, "tirelay_pump_received_commit_ts", "gauge",
                   "Last commit_ts (TSO) received from the Pump, fake binlogs included (0: none "
                   "since start).");
    for (size_t i = 0; i < st->n_sources; i++) {
        tr_prom_sample_i64(b, "tirelay_pump_received_commit_ts", st->sources[i].last_ts, "pump",
                           st->sources[i].node_id, (const char *)NULL);
    }
    tr_prom_family(b, "tirelay_pump_received_timestamp_seconds", "gauge",
                   "Physical time of the last commit_ts received from the Pump (Unix seconds).");
    for (size_t i = 0; i < st->n_sources; i++) {
        tr_prom_sample(b, "tirelay_pump_received_timestamp_seconds",
                       tr_tso_unix_s(st->sources[i].last_ts), "pump", st->sources[i].node_id,
                       (const char *)NULL);
    }
    tr_prom_family(b, "tirelay_pump_lag_seconds", "gauge",
                   "Now minus the physical time of the last commit_ts received from the Pump "
                   "(an idle Pump sends a fake binlog every few seconds; 0 before the first).");
    for (size_t i = 0; i < st->n_sources; i++) {
        int64_t ts = st->sources[i].last_ts;
        tr_prom_sample(b, "tirelay_pump_lag_seconds", ts > 0 ? now - tr_tso_unix_s(ts) : 0.0,
                       "pump", st->sources[i].node_id, (const char *)NULL);
    }
    tr_prom_family(b, "tirelay_pump_last_receive_age_seconds", "gauge",
                   "Seconds since the Pump delivered anything (or since it joined).");
    for (size_t i = 0; i < st->n_sources; i++) {
        tr_prom_sample(b, "tirelay_pump_last_receive_age_seconds",
                       (double)st->sources[i].silent_ms / 1000.0, "pump", st->sources[i].node_id,
                       (const char *)NULL);
    }
    tr_prom_family(b, "tirelay_pump_binlogs_received_total", "counter",
                   "Binlogs received from the Pump, fake binlogs included.");
    for (size_t i = 0; i < st->n_sources; i++) {
        tr_prom_sample(b, "tirelay_pump_binlogs_received_total", (double)st->sources[i].binlogs,
                       "pump", st->sources[i].node_id, (const char *)NULL);
    }
    tr_prom_family(b, "tirelay_pump_queued_transactions", "gauge",
                   "Transactions from the Pump waiting in the merge.");
    for (size_t i = 0; i < st->n_sources; i++) {
        tr_prom_sample(b, "tirelay_pump_queued_transactions", (double)st->sources[i].queued, "pump",
                       st->sources[i].node_id, (const char *)NULL);
    }

    tr_prom_family(b, "tirelay_merge_watermark_commit_ts", "gauge",
                   "Merge watermark: every commit_ts at or below it has arrived from every Pump.");
    tr_prom_sample_i64(b, "tirelay_merge_watermark_commit_ts", st->merge_watermark,
                       (const char *)NULL);
    tr_prom_family(b, "tirelay_merge_watermark_timestamp_seconds", "gauge",
                   "Physical time of the merge watermark (Unix seconds).");
    tr_prom_sample(b, "tirelay_merge_watermark_timestamp_seconds",
                   tr_tso_unix_s(st->merge_watermark), (const char *)NULL);
    tr_prom_family(b, "tirelay_merge_released_commit_ts", "gauge",
                   "Last commit_ts the merge released to the writer.");
    tr_prom_sample_i64(b, "tirelay_merge_released_commit_ts", st->merge_last_ts,
                       (const char *)NULL);
    tr_prom_family(b, "tirelay_durable_commit_ts", "gauge",
                   "Every binlog at or below this commit_ts is durable (the maxCommitTS tirelay "
                   "reports as a Drainer).");
    tr_prom_sample_i64(b, "tirelay_durable_commit_ts", st->durable_ts, (const char *)NULL);
    tr_prom_family(b, "tirelay_rows_written_total", "counter",
                   "Row changes in committed transactions since start.");
    tr_prom_sample(b, "tirelay_rows_written_total", (double)st->rows, (const char *)NULL);
    tr_prom_family(b, "tirelay_writer_failed", "gauge",
                   "1 once translation stopped on an error it cannot get past (restart to resume).");
    tr_prom_sample(b, "tirelay_writer_failed", st->has_failed ? 1 : 0, (const char *)NULL);
}

static void render_errors(tr_buf_t *b, const tr_upstream_status_t *rs, const tr_server_stats_t *ss)
{
    tr_prom_family(b, "tirelay_errors_total", "counter",
                   "Errors since start by kind: upstream and writer (malformed_binlog, "
                   "binlog_dropped, merge_refused, schema, translate, store) and clients "
                   "(auth_denied, client_error, dump_failed, dump_stalled, tls_handshake).");
    for (int k = 0; k < TR_UPSTREAM_ERR_COUNT; k++) {
        tr_prom_sample(b, "tirelay_errors_total", (double)rs->errors[k], "kind",
                       tr_upstream_err_name((tr_upstream_err_t)k), (const char *)NULL);
    }
    for (int k = 0; k < TR_SRV_ERR_COUNT; k++) {
        tr_prom_sample(b, "tirelay_errors_total", (double)ss->errors[k], "kind",
                       tr_server_err_name((tr_server_err_t)k), (const char *)NULL);
    }
}

static void render_store(tr_buf_t *b, tr_store_t *store, const tr_store_stats_t *st)
{
    tr_prom_family(b, "tirelay_transactions_written_total", "counter",
                   "Transactions committed to the binlog (DML and DDL) since start.");
    tr_prom_sample(b, "tirelay_transactions_written_total", (double)st->txns, (const char *)NULL);
    tr_prom_family(b, "tirelay_group_commits_total", "counter", "Group commits since start.");
    tr_prom_sample(b, "tirelay_group_commits_total", (double)st->group_commits,
                   (const char *)NULL);
    tr_prom_family(b, "tirelay_binlog_written_bytes_total", "counter",
                   "Binlog bytes made readable since start, per flavour's file set.");
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (tr_store_flavor_enabled(store, (tr_flavor_t)f)) {
            tr_prom_sample(b, "tirelay_binlog_written_bytes_total", (double)st->bytes[f], "flavor",
                           tr_flavor_name((tr_flavor_t)f), (const char *)NULL);
        }
    }
    tr_prom_family(b, "tirelay_binlog_disk_usage_bytes", "gauge",
                   "Readable bytes of every binlog file present, per flavour.");
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (tr_store_flavor_enabled(store, (tr_flavor_t)f)) {
            tr_prom_sample(b, "tirelay_binlog_disk_usage_bytes", (double)st->disk_bytes[f],
                           "flavor", tr_flavor_name((tr_flavor_t)f), (const char *)NULL);
        }
    }
    tr_prom_family(b, "tirelay_binlog_files", "gauge", "Binlog files present, per flavour.");
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (tr_store_flavor_enabled(store, (tr_flavor_t)f)) {
            tr_prom_sample(b, "tirelay_binlog_files", (double)st->files[f], "flavor",
                           tr_flavor_name((tr_flavor_t)f), (const char *)NULL);
        }
    }
    tr_store_checkpoint_t last;
    tr_store_last_txn(store, &last);
    tr_prom_family(b, "tirelay_last_committed_commit_ts", "gauge",
                   "commit_ts of the last transaction committed to the binlog.");
    tr_prom_sample_i64(b, "tirelay_last_committed_commit_ts", last.has_txn ? last.commit_ts : 0,
                       (const char *)NULL);
    tr_prom_family(b, "tirelay_last_committed_gtid_number", "gauge",
                   "GTID number of the last transaction committed to the binlog.");
    tr_prom_sample(b, "tirelay_last_committed_gtid_number",
                   last.has_txn ? (double)last.gtid_no : 0.0, (const char *)NULL);
    tr_prom_family(b, "tirelay_store_fsync_duration_seconds", "histogram",
                   "fdatasync of binlog files at group commits (sync = commit).");
    tr_prom_histogram(b, "tirelay_store_fsync_duration_seconds", &st->fsync);
    tr_prom_family(b, "tirelay_store_commit_duration_seconds", "histogram",
                   "Whole group commits: write, fsync, index commit.");
    tr_prom_histogram(b, "tirelay_store_commit_duration_seconds", &st->commit);
}

/* Bytes of flavour f's files from (seq, pos) to the readable end. */
static uint64_t bytes_behind(const tr_binlog_file_t *files, size_t n, uint32_t seq, uint64_t pos)
{
    uint64_t behind = 0;
    for (size_t i = 0; i < n; i++) {
        if (files[i].seq > seq) {
            behind += files[i].size;
        } else if (files[i].seq == seq && files[i].size > pos) {
            behind += files[i].size - pos;
        }
    }
    return behind;
}

static void render_server(tr_buf_t *b, tr_store_t *store, const tr_server_stats_t *st)
{
    tr_prom_family(b, "tirelay_client_connections", "gauge",
                   "MySQL-protocol client connections (replicas, tools, admin sessions).");
    tr_prom_sample(b, "tirelay_client_connections", (double)st->sessions, (const char *)NULL);
    tr_prom_family(b, "tirelay_replicas_connected", "gauge",
                   "Connections running a binlog dump (replicas, mariadb-binlog, CDC clients).");
    tr_prom_sample(b, "tirelay_replicas_connected", (double)st->n_dumps, (const char *)NULL);
    tr_prom_family(b, "tirelay_dump_batches_total", "counter",
                   "Batches of binlog events sent to dumps since start: read from the binlog "
                   "and framed (how=\"framed\"), or sent as framed for another dump at the same "
                   "point (how=\"shared\").");
    tr_prom_sample(b, "tirelay_dump_batches_total", (double)st->batches_framed, "how", "framed",
                   (const char *)NULL);
    tr_prom_sample(b, "tirelay_dump_batches_total", (double)st->batches_shared, "how", "shared",
                   (const char *)NULL);

    tr_binlog_file_t *files[TR_FLAVOR_COUNT] = {NULL};
    size_t nfiles[TR_FLAVOR_COUNT] = {0};
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (tr_store_flavor_enabled(store, (tr_flavor_t)f) &&
            tr_store_list_files(store, (tr_flavor_t)f, &files[f], &nfiles[f]) != 0) {
            files[f] = NULL;
            nfiles[f] = 0;
        }
    }
    tr_store_checkpoint_t last;
    tr_store_last_txn(store, &last);
    uint32_t head_ts = last.has_txn ? tr_tso_seconds(last.commit_ts) : 0;

    static const char *const names[] = {
        "tirelay_replica_file_index", "tirelay_replica_file_position_bytes",
        "tirelay_replica_behind_bytes", "tirelay_replica_lag_seconds"};
    static const char *const helps[] = {
        "Number of the binlog file the replica reads (1 = .000001).",
        "Offset in that file of the next byte to send.",
        "Committed binlog bytes not yet sent to the replica.",
        ("Binlog time between the newest committed transaction and the last event sent "
         "(0 when caught up).")};
    for (size_t k = 0; k < TR_ARRAY_LEN(names); k++) {
        tr_prom_family(b, names[k], "gauge", helps[k]);
        for (size_t i = 0; i < st->n_dumps; i++) {
            const tr_server_dump_stats_t *d = &st->dumps[i];
            char sess[16];
            char sid[16];
            snprintf(sess, sizeof(sess), "%" PRIu32, d->sess_id);
            snprintf(sid, sizeof(sid), "%" PRIu32, d->server_id);
            double v = 0;
            switch (k) {
            case 0:
                v = d->file_seq;
                break;
            case 1:
                v = (double)d->pos;
                break;
            case 2:
                v = (double)bytes_behind(files[d->flavor], nfiles[d->flavor], d->file_seq, d->pos);
                break;
            default:
                if (d->caught_up) {
                    v = 0;
                } else if (d->last_event_ts == 0) {
                    continue; /* nothing sent yet: unknown */
                } else {
                    v = head_ts > d->last_event_ts ? (double)(head_ts - d->last_event_ts) : 0;
                }
                break;
            }
            tr_prom_sample(b, names[k], v, "sess", sess, "server_id", sid, "peer", d->peer,
                           "user", d->user, "flavor", tr_flavor_name(d->flavor), "mode", d->mode,
                           (const char *)NULL);
        }
    }
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        tr_free(files[f]);
    }
}

/* ------------------------------------------------------------ HTTP */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *type,
                             const void *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL) {
        return MHD_NO;
    }
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result r = MHD_queue_response(conn, code, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned code, const char *text)
{
    return reply(conn, code, "text/plain; charset=utf-8", text, strlen(text));
}

static enum MHD_Result serve_metrics(tr_metrics_t *m, struct MHD_Connection *conn)
{
    tr_server_stats_t ss;
    if (!fetch_server_stats(m, &ss)) {
        return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                          "the event loop did not answer (stopping or blocked)\n");
    }
    tr_store_stats_t st;
    tr_store_stats(m->store, &st);
    double now = tr_clock_wall_s();
    tr_buf_t b;
    tr_buf_init(&b, 64u << 20);
    tr_prom_family(&b, "tirelay_build_info", "gauge", "tirelay version (value 1).");
    tr_prom_sample(&b, "tirelay_build_info", 1, "version", TR_VERSION, (const char *)NULL);
    char why[512];
    bool ready = tr_relay_ready(m->relay, m->cfg->health_stall_ms, why, sizeof(why));
    tr_prom_family(&b, "tirelay_ready", "gauge", "1 when /healthz answers 200.");
    tr_prom_sample(&b, "tirelay_ready", ready ? 1 : 0, (const char *)NULL);
    tr_upstream_status_t rs;
    if (tr_relay_status(m->relay, &rs) != 0) {
        memset(&rs, 0, sizeof(rs));
    }
    render_relay(&b, &rs, now);
    render_store(&b, m->store, &st);
    render_server(&b, m->store, &ss);
    render_errors(&b, &rs, &ss);
    tr_upstream_status_cleanup(&rs);
    tr_free(ss.dumps);
    enum MHD_Result r;
    if (!tr_buf_ok(&b)) {
        r = reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics too large\n");
    } else {
        r = reply(conn, MHD_HTTP_OK, CONTENT_TYPE_PROM, b.data, b.len);
    }
    tr_buf_cleanup(&b);
    return r;
}

static enum MHD_Result serve_health(tr_metrics_t *m, struct MHD_Connection *conn)
{
    char why[512];
    if (tr_relay_ready(m->relay, m->cfg->health_stall_ms, why, sizeof(why))) {
        return reply_text(conn, MHD_HTTP_OK, "ok\n");
    }
    char text[600];
    snprintf(text, sizeof(text), "not ready: %s\n", why);
    return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, text);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    tr_metrics_t *m = cls;
    if (*req_cls == NULL) {
        /* First call: headers only. Answer on the second (body, if any, ignored). */
        *req_cls = m;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    }
    if (strcmp(url, "/metrics") == 0) {
        return serve_metrics(m, conn);
    }
    if (strcmp(url, "/healthz") == 0) {
        return serve_health(m, conn);
    }
    if (strcmp(url, "/") == 0) {
        return reply_text(conn, MHD_HTTP_OK, "tirelay: see /metrics and /healthz\n");
    }
    return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics or /healthz\n");
}

/* libmicrohttpd's own messages go to our log as WARN lines. */
TR_PRINTF(2, 0) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (n < 0) {
        return;
    }
    size_t len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r')) {
        msg[--len] = '\0';
    }
    tr_log_warn("metrics", "http: %s", msg);
}

/* ------------------------------------------------------------ lifecycle */

int tr_metrics_start(uv_loop_t *loop, const tr_config_t *cfg, tr_store_t *store,
                     tr_server_t *srv, tr_relay_t *relay, tr_metrics_t **out, const char **why)
{
    const tr_addr_t *a = &cfg->metrics_listen;
    char port[8];
    snprintf(port, sizeof(port), "%u", a->port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    struct addrinfo *ai = NULL;
    if (getaddrinfo(a->host, port, &hints, &ai) != 0 || ai == NULL) {
        *why = "[metrics] listen: cannot resolve the host";
        return TR_ECONFIG;
    }
    tr_metrics_t *m = tr_calloc(1, sizeof(*m));
    m->loop = loop;
    m->cfg = cfg;
    m->store = store;
    m->srv = srv;
    m->relay = relay;
    bool v6 = strchr(a->host, ':') != NULL;
    snprintf(m->addr_text, sizeof(m->addr_text), "%s%.256s%s:%u", v6 ? "[" : "", a->host,
             v6 ? "]" : "", a->port);
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cond, NULL);
    int rc = uv_async_init(loop, &m->async, on_async);
    if (rc != 0) {
        freeaddrinfo(ai);
        pthread_cond_destroy(&m->cond);
        pthread_mutex_destroy(&m->mu);
        tr_free(m);
        *why = "cannot create the metrics async handle";
        return rc;
    }
    m->async.data = m;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    m->daemon = MHD_start_daemon(
        flags, a->port, NULL, NULL, on_request, m, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, m,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (m->daemon == NULL) {
        *why = "cannot listen on [metrics] listen (address in use or not local?)";
        m->stopping = true;
        tr_metrics_stop(m);
        return -EADDRINUSE;
    }
    tr_log_info("metrics", "serving /metrics and /healthz addr=%s health_stall_s=%u",
                m->addr_text, cfg->health_stall_ms / 1000);
    *out = m;
    return 0;
}

static void on_async_closed(uv_handle_t *h)
{
    tr_metrics_t *m = h->data;
    tr_free(m->srv_stats.dumps);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->mu);
    tr_free(m);
}

void tr_metrics_stop(tr_metrics_t *m)
{
    if (m == NULL) {
        return;
    }
    pthread_mutex_lock(&m->mu);
    m->stopping = true;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->mu);
    if (m->daemon != NULL) {
        MHD_stop_daemon(m->daemon); /* joins the HTTP thread */
        m->daemon = NULL;
        tr_log_info("metrics", "stopped addr=%s", m->addr_text);
    }
    uv_close((uv_handle_t *)&m->async, on_async_closed);
}
