/*
 * The MySQL-protocol front (see server.h): binds the MySQL-flavour listener
 * (cfg->listen) and the MariaDB-flavour listener (cfg->mariadb_listen), each
 * enabled when configured; a session's flavour is its listener's. Accepts
 * sessions, fans store notifications out to waiting dumps through a
 * uv_async_t, and closes everything on request.
 *
 * I/O layer, loop thread (tr_server_notify: any thread).
 */
#include "server/server.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "server/admin.h"
#include "server/conn.h"
#include "server/dump.h"
#include "server/janitor.h"
#include "server/server_internal.h"
#include "server/session.h"

#define LISTEN_BACKLOG 128

const char *tr_server_err_name(tr_server_err_t kind)
{
    static const char *const names[TR_SRV_ERR_COUNT] = {
        "auth_denied", "client_error", "dump_failed", "dump_stalled", "tls_handshake",
    };
    return (unsigned)kind < TR_SRV_ERR_COUNT ? names[kind] : "unknown";
}

typedef struct {
    tr_server_stats_t *out;
    size_t cap;
} stats_walk_t;

static bool count_dump(void *arg, const tr_sess_info_t *s)
{
    stats_walk_t *w = arg;
    w->cap += s->dump != NULL;
    return true;
}

static bool add_dump(void *arg, const tr_sess_info_t *s)
{
    stats_walk_t *w = arg;
    if (s->dump == NULL) {
        return true;
    }
    if (w->out->n_dumps == w->cap) {
        return false;
    }
    tr_server_dump_stats_t *o = &w->out->dumps[w->out->n_dumps++];
    o->sess_id = s->id;
    snprintf(o->peer, sizeof(o->peer), "%s", s->peer);
    snprintf(o->user, sizeof(o->user), "%s", s->user);
    o->flavor = s->flavor;
    tr_dump_stats(s->dump, o);
    return true;
}

void tr_server_stats(tr_server_t *srv, tr_server_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    out->sessions = srv->n_sessions;
    memcpy(out->errors, srv->errors, sizeof(out->errors));
    out->batches_framed = srv->batches_framed;
    out->batches_shared = srv->batches_shared;
    stats_walk_t w = {out, 0};
    tr_sess_each(srv, count_dump, &w);
    out->dumps = tr_calloc(w.cap ? w.cap : 1, sizeof(*out->dumps));
    tr_sess_each(srv, add_dump, &w);
}

static void maybe_done(tr_server_t *srv)
{
    if (!srv->closing || srv->open_handles > 0 || srv->n_sessions > 0) {
        return;
    }
    void (*done)(void *) = srv->done;
    void *arg = srv->done_arg;
    tr_log_info("server", "server closed");
    tr_tls_free(srv->tls);
    tr_dump_shared_trim(srv, 0, 0);
    tr_free(srv);
    tr_conn_pool_release();
    if (done != NULL) {
        done(arg);
    }
}

void tr_server_sess_gone(tr_server_t *srv)
{
    maybe_done(srv);
}

static void on_handle_closed(uv_handle_t *h)
{
    tr_server_t *srv = h->data;
    srv->open_handles--;
    maybe_done(srv);
}

static void on_sender_closed(void *arg)
{
    tr_server_t *srv = arg;
    srv->open_handles--;
    maybe_done(srv);
}

static void on_connection(uv_stream_t *listener, int status)
{
    tr_server_t *srv = listener->data;
    if (status < 0) {
        tr_log_warn("server", "accept error err=%s", tr_strerror(status));
        return;
    }
    if (srv->closing) {
        return;
    }
    tr_sess_accept(srv, listener,
                   listener == (uv_stream_t *)&srv->listen_mariadb ? TR_FLAVOR_MARIADB
                                                                   : TR_FLAVOR_MYSQL);
}

static void on_notify(uv_async_t *a)
{
    tr_server_t *srv = a->data;
    tr_sess_notify_all(srv);
}

static int bind_listener(tr_server_t *srv, const tr_addr_t *a, uv_tcp_t *tcp, const char **why)
{
    struct sockaddr_storage ss;
    int rc = uv_ip4_addr(a->host, a->port, (struct sockaddr_in *)&ss);
    if (rc != 0) {
        rc = uv_ip6_addr(a->host, a->port, (struct sockaddr_in6 *)&ss);
    }
    if (rc != 0) {
        *why = "listen address is not a numeric IPv4/IPv6 address";
        return rc;
    }
    rc = uv_tcp_init(srv->loop, tcp);
    if (rc != 0) {
        *why = "uv_tcp_init failed";
        return rc;
    }
    tcp->data = srv;
    srv->open_handles++;
    rc = uv_tcp_bind(tcp, (const struct sockaddr *)&ss, 0);
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *)tcp, LISTEN_BACKLOG, on_connection);
    }
    if (rc != 0) {
        *why = "cannot bind/listen on the listen address";
        return rc;
    }
    return 0;
}

int tr_server_start(uv_loop_t *loop, const tr_config_t *cfg, tr_store_t *store,
                    tr_server_t **out, const char **why)
{
    bool want_mysql = cfg->listen.host[0] != '\0';
    bool want_mariadb = cfg->mariadb_listen.host[0] != '\0';
    if (!want_mysql && !want_mariadb) {
        *why = "no listen address configured (listen / mariadb-listen)";
        return TR_ECONFIG;
    }
    if (want_mysql && !tr_store_flavor_enabled(store, TR_FLAVOR_MYSQL)) {
        *why = "the store has no MySQL-flavour files";
        return TR_ECONFIG;
    }
    if (want_mariadb && !tr_store_flavor_enabled(store, TR_FLAVOR_MARIADB)) {
        *why = "the store has no MariaDB-flavour files";
        return TR_ECONFIG;
    }
    tr_server_t *srv = tr_calloc(1, sizeof(*srv));
    srv->loop = loop;
    srv->cfg = cfg;
    srv->store = store;
    static char tls_err[512]; /* loop thread, startup only: *why must outlive the call */
    int rc = tr_tls_new(cfg->tls_cert, cfg->tls_key, cfg->store_dir, &srv->tls, tls_err,
                        sizeof(tls_err));
    if (rc != 0) {
        tr_free(srv);
        *why = tls_err;
        return rc;
    }
    if (tls_err[0] != '\0') {
        tr_log_warn("server", "%s", tls_err);
    }
    for (size_t i = 0; i < cfg->n_users; i++) {
        srv->sha2_cached[i] = cfg->caching_sha2_prefill;
    }
    rc = uv_async_init(loop, &srv->notify, on_notify);
    if (rc != 0) {
        tr_tls_free(srv->tls);
        tr_free(srv);
        *why = "uv_async_init failed";
        return rc;
    }
    srv->notify.data = srv;
    srv->open_handles = 1;
    rc = 0;
    if (want_mysql) {
        int before = srv->open_handles;
        rc = bind_listener(srv, &cfg->listen, &srv->listen_mysql, why);
        srv->has_mysql = srv->open_handles > before; /* initialised: must be closed */
    }
    if (rc == 0 && want_mariadb) {
        int before = srv->open_handles;
        rc = bind_listener(srv, &cfg->mariadb_listen, &srv->listen_mariadb, why);
        srv->has_mariadb = srv->open_handles > before;
    }
    if (rc != 0) {
        /* Close what was opened; the caller gets no server (done callback unused). */
        srv->closing = true;
        srv->done = NULL;
        uv_close((uv_handle_t *)&srv->notify, on_handle_closed);
        if (srv->has_mysql) {
            uv_close((uv_handle_t *)&srv->listen_mysql, on_handle_closed);
        }
        if (srv->has_mariadb) {
            uv_close((uv_handle_t *)&srv->listen_mariadb, on_handle_closed);
        }
        return rc;
    }
    if (want_mysql) {
        tr_log_info("server", "listening flavor=mysql addr=%s:%u version=%s tls=%s require_tls=%s",
                    cfg->listen.host, (unsigned)cfg->listen.port, TR_SRV_VERSION_HANDSHAKE,
                    tr_tls_enabled(srv->tls) ? "on" : "off", cfg->require_tls ? "on" : "off");
    }
    if (want_mariadb) {
        tr_log_info("server",
                    "listening flavor=mariadb addr=%s:%u version=%s tls=%s require_tls=%s",
                    cfg->mariadb_listen.host, (unsigned)cfg->mariadb_listen.port,
                    TR_SRV_MARIA_VERSION_HANDSHAKE, tr_tls_enabled(srv->tls) ? "on" : "off",
                    cfg->require_tls ? "on" : "off");
    }
    tr_janitor_start(srv);
    if (cfg->expire_logs_seconds > 0 || cfg->max_binlog_total_size > 0) {
        tr_log_info("server", "retention expire_logs_seconds=%llu max_binlog_total_size=%llu",
                    (unsigned long long)cfg->expire_logs_seconds,
                    (unsigned long long)cfg->max_binlog_total_size);
    }
    /* Sender threads for dump writes: one per core, at most TR_SRV_SENDERS. */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int senders = cores < 1 ? 1 : cores > TR_SRV_SENDERS ? TR_SRV_SENDERS : (int)cores;
    rc = tr_conn_sender_start(loop, senders);
    if (rc == 0) {
        srv->open_handles++;
        srv->has_sender = true;
    } else {
        tr_log_warn("server", "sender threads not started, dumps write from the loop err=%s",
                    tr_strerror(rc));
    }
    *out = srv;
    return 0;
}

void tr_server_set_upstream(tr_server_t *srv, const tr_server_upstream_t *up)
{
    srv->upstream = *up;
    srv->has_upstream = true;
}

void tr_server_release_upstream(tr_server_t *srv, void (*released)(void *arg), void *arg)
{
    srv->has_upstream = false;
    if (srv->upstream_users == 0) {
        released(arg);
        return;
    }
    srv->upstream_released = released;
    srv->upstream_released_arg = arg;
}

bool tr_server_upstream_use(tr_server_t *srv, tr_server_upstream_t *out)
{
    if (!srv->has_upstream) {
        return false;
    }
    srv->upstream_users++;
    *out = srv->upstream;
    return true;
}

void tr_server_upstream_done(tr_server_t *srv)
{
    TR_ASSERT(srv->upstream_users > 0);
    if (--srv->upstream_users == 0 && srv->upstream_released != NULL) {
        void (*cb)(void *) = srv->upstream_released;
        srv->upstream_released = NULL;
        cb(srv->upstream_released_arg);
    }
}

void tr_server_adopt(tr_server_t *srv, int fd, tr_flavor_t f)
{
    tr_sess_adopt(srv, fd, f);
}

void tr_server_notify(tr_server_t *srv)
{
    (void)uv_async_send(&srv->notify);
}

void tr_server_close(tr_server_t *srv, void (*done)(void *arg), void *arg)
{
    srv->closing = true;
    srv->done = done;
    srv->done_arg = arg;
    if (srv->has_mysql) {
        uv_close((uv_handle_t *)&srv->listen_mysql, on_handle_closed);
        srv->has_mysql = false;
    }
    if (srv->has_mariadb) {
        uv_close((uv_handle_t *)&srv->listen_mariadb, on_handle_closed);
        srv->has_mariadb = false;
    }
    uv_close((uv_handle_t *)&srv->notify, on_handle_closed);
    tr_janitor_stop(srv, on_handle_closed);
    tr_sess_close_all(srv);
    if (srv->has_sender) {
        /* Its threads end once every offloaded connection is closed. */
        srv->has_sender = false;
        tr_conn_sender_stop(on_sender_closed, srv);
    }
}
