/*
 * Client sessions (see session.h). Input loop per STYLE.md section 9: append
 * to the connection's input, decode packets with protocol/wire, dispatch on
 * the session state, answer into one output buffer written once per read.
 * Never logs passwords, scrambles or row data.
 */
#include "server/session.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"
#include "protocol/command.h"
#include "protocol/result.h"
#include "protocol/wire.h"
#include "server/dump.h"
#include "server/session_internal.h"

const char *tr_sess_state_name(tr_sess_state_t st)
{
    switch (st) {
    case TR_SESS_AUTH:
        return "auth";
    case TR_SESS_AUTH_SWITCH:
        return "auth_switch";
    case TR_SESS_COMMAND:
        return "command";
    case TR_SESS_DUMP:
        return "dump";
    case TR_SESS_CLOSING:
        return "closing";
    }
    return "?";
}

/* ---------------------------------------------------------------- lifetime */

static void sess_link(tr_sess_t *s)
{
    tr_server_t *srv = s->srv;
    s->prev = NULL;
    s->next = srv->sessions;
    if (srv->sessions != NULL) {
        srv->sessions->prev = s;
    }
    srv->sessions = s;
    srv->n_sessions++;
}

static void sess_unlink(tr_sess_t *s)
{
    tr_server_t *srv = s->srv;
    if (s->prev != NULL) {
        s->prev->next = s->next;
    } else {
        srv->sessions = s->next;
    }
    if (s->next != NULL) {
        s->next->prev = s->prev;
    }
    srv->n_sessions--;
}

void tr_sess_unref(tr_sess_t *s)
{
    if (--s->refs > 0) {
        return;
    }
    sess_unlink(s);
    for (size_t i = 0; i < s->n_vars; i++) {
        tr_free(s->vars[i].value);
    }
    tr_free(s->vars);
    tr_buf_cleanup(&s->out);
    tr_catalog_unref(s->view.cat);
    tr_server_t *srv = s->srv;
    tr_free(s);
    tr_server_sess_gone(srv);
}

static void on_conn_closed(void *arg)
{
    tr_sess_t *s = arg;
    s->conn = NULL;
    tr_sess_unref(s);
}

static void on_dump_closed(void *arg)
{
    tr_sess_unref(arg);
}

/* Stops a pending delayed denial (its peer entry no longer waits for it). */

static void sess_close(tr_sess_t *s, bool graceful)
{
    if (s->state == TR_SESS_CLOSING) {
        return;
    }
    tr_sess_deny_cancel(s);
    s->state = TR_SESS_CLOSING;
    if (s->dump != NULL) {
        tr_dump_t *d = s->dump;
        s->dump = NULL;
        tr_dump_close(d, on_dump_closed, s);
    }
    if (s->conn != NULL) {
        tr_conn_close(s->conn, graceful);
    }
}

void tr_sess_close(tr_sess_t *s)
{
    sess_close(s, false);
}

void tr_sess_finish(tr_sess_t *s)
{
    sess_close(s, true);
}

static const char *sess_peer(const tr_sess_t *s)
{
    return s->conn ? tr_conn_peer(s->conn) : "?";
}

static int sess_send(tr_sess_t *s, tr_buf_t *b)
{
    if (s->conn == NULL || s->state == TR_SESS_CLOSING) {
        tr_buf_reset(b);
        return TR_ECLOSED;
    }
    return tr_conn_write(s->conn, b);
}

static int sess_send_ref(tr_sess_t *s, const uint8_t *data, size_t len, void (*release)(void *ref),
                     void *ref)
{
    if (s->conn == NULL || s->state == TR_SESS_CLOSING) {
        release(ref);
        return TR_ECLOSED;
    }
    return tr_conn_write_ref(s->conn, data, len, release, ref);
}

static bool sess_offload(tr_sess_t *s)
{
    return s->conn != NULL && s->state != TR_SESS_CLOSING && tr_conn_offload(s->conn);
}

static size_t sess_queued_bytes(const tr_sess_t *s)
{
    return s->conn ? tr_conn_queued_bytes(s->conn) : 0;
}

/* Sends whatever the current exchange produced. */
void tr_sess_flush(tr_sess_t *s)
{
    if (tr_buf_unread(&s->out) == 0) {
        return;
    }
    if (!tr_buf_ok(&s->out)) {
        sess_log(TR_LOG_ERROR, s, "response too large, closing%s", "");
        tr_sess_close(s);
        return;
    }
    if (sess_send(s, &s->out) != 0) {
        tr_sess_close(s);
    }
}

static void admin_defer(void *ctx);
static void admin_deliver(void *ctx, const tr_buf_t *answer, uint8_t seq);

/* ---------------------------------------------------------------- responses */

void tr_sess_put_ok(tr_sess_t *s)
{
    size_t h = tr_wire_begin(&s->out);
    tr_res_put_ok(&s->out, 0, 0, s->status, 0);
    tr_wire_end(&s->out, h, &s->seq);
}

void tr_sess_put_err(tr_sess_t *s, uint16_t code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0) {
        n = 0;
    }
    size_t len = (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
    size_t h = tr_wire_begin(&s->out);
    tr_res_put_err(&s->out, code, tr_res_sqlstate(code), msg, len);
    tr_wire_end(&s->out, h, &s->seq);
}

/* Sends ERR (code, its SQLSTATE, formatted message), logs once, closes after the flush. */
void tr_sess_fail(tr_sess_t *s, uint16_t code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0) {
        msg[0] = '\0';
    }
    s->srv->errors[code == TR_ER_ACCESS_DENIED || code == 3159 ? TR_SRV_ERR_AUTH
                   : code == TR_ER_MASTER_FATAL_READ           ? TR_SRV_ERR_DUMP
                                                               : TR_SRV_ERR_CLIENT]++;
    sess_log(TR_LOG_WARN, s, "session failed: %s code=%u state=%s", msg, (unsigned)code,
             tr_sess_state_name(s->state));
    if (s->state != TR_SESS_CLOSING && s->conn != NULL) {
        tr_sess_put_err(s, code, "%s", msg);
        tr_sess_flush(s);
    }
    sess_close(s, true);
}

/* ---------------------------------------------------------------- admin support */

static void on_data(tr_conn_t *c, void *arg);

static bool sess_replica(const tr_sess_t *s, tr_sess_replica_t *out)
{
    if (!s->registered || s->state == TR_SESS_CLOSING) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    out->server_id = s->replica_server_id;
    snprintf(out->host, sizeof(out->host), "%s",
             s->replica_host[0] ? s->replica_host : (s->conn ? tr_conn_peer_ip(s->conn) : ""));
    out->port = s->replica_port;
    out->master_id = s->replica_master_id;
    const char *uuid = tr_sess_uvar(s, "replica_uuid");
    if (uuid == NULL) {
        uuid = tr_sess_uvar(s, "slave_uuid");
    }
    snprintf(out->uuid, sizeof(out->uuid), "%s", uuid ? uuid : "");
    return true;
}

static const tr_dump_t *sess_dump(const tr_sess_t *s)
{
    return s->state == TR_SESS_DUMP ? s->dump : NULL;
}

static void sess_hold(tr_sess_t *s)
{
    TR_ASSERT(!s->held);
    s->held = true;
    s->refs++;
    if (s->conn != NULL) {
        tr_conn_pause(s->conn);
    }
}

static bool sess_is_live(const tr_sess_t *s)
{
    return s->state != TR_SESS_CLOSING && s->conn != NULL;
}

static void sess_unhold(tr_sess_t *s)
{
    TR_ASSERT(s->held);
    s->held = false;
    if (sess_is_live(s)) {
        tr_sess_flush(s);
    }
    if (sess_is_live(s)) {
        tr_conn_resume(s->conn);
        if (tr_buf_unread(tr_conn_input(s->conn)) > 0) {
            on_data(s->conn, s); /* statements the client sent meanwhile */
        }
    } else {
        tr_buf_reset(&s->out);
    }
    tr_sess_unref(s);
}

/* An operator statement answered off the loop (server/admin.h tr_admin_reply_t). */
static void admin_defer(void *ctx)
{
    sess_hold(ctx);
}

static void admin_deliver(void *ctx, const tr_buf_t *answer, uint8_t seq)
{
    tr_sess_t *s = ctx;
    if (sess_is_live(s)) {
        tr_buf_append(&s->out, tr_buf_head(answer), tr_buf_unread(answer));
        s->seq = seq;
    }
    sess_unhold(s); /* may free s */
}

void tr_sess_admin_reply(tr_sess_t *s, tr_admin_reply_t *r)
{
    tr_admin_reply_t v = {s->srv,
                          s->flavor,
                          s->id,
                          s->user,
                          &s->out,
                          &s->seq,
                          (s->caps & TR_CLIENT_DEPRECATE_EOF) != 0,
                          s->status,
                          s,
                          admin_defer,
                          admin_deliver};
    *r = v;
}

/* ---------------------------------------------------------------- commands */

/* The session as a dump's sink (server/dump.h tr_dump_sink_t). */
static const char *sink_uvar(void *ctx, const char *name)
{
    return tr_sess_uvar(ctx, name);
}

static int sink_send(void *ctx, tr_buf_t *b)
{
    return sess_send(ctx, b);
}

static int sink_send_ref(void *ctx, const uint8_t *p, size_t len, void (*release)(void *ref),
                         void *ref)
{
    return sess_send_ref(ctx, p, len, release, ref);
}

static size_t sink_queued(void *ctx)
{
    return sess_queued_bytes(ctx);
}

static bool sink_offload(void *ctx)
{
    return sess_offload(ctx);
}

static void sink_fail(void *ctx, uint16_t code, const char *msg)
{
    tr_sess_fail(ctx, code, "%s", msg);
}

static void sink_close(void *ctx, bool flush)
{
    sess_close(ctx, flush);
}

static void start_dump(tr_sess_t *s, const tr_cmd_dump_t *d, bool is_gtid)
{
    const char *state = is_gtid ? NULL : tr_sess_uvar(s, "slave_connect_state");
    const char *file = (const char *)d->file.p;
    size_t file_len = d->file.len;
    uint64_t pos = d->pos;
    if (state != NULL && s->flavor == TR_FLAVOR_MYSQL) {
        /* MariaDB GTID positioning needs the MariaDB file set (mariadb-listen). */
        if (state[0] != '\0') {
            tr_sess_fail(s, TR_ER_MASTER_FATAL_READ,
                         "MariaDB GTID positioning (@slave_connect_state='%.64s') is served on "
                         "tirelay's MariaDB listener (mariadb-listen); use MASTER_USE_GTID=no here",
                         state);
            return;
        }
        /* An empty state means: from the start of every binlog (spec 4.5). */
        file = "";
        file_len = 0;
        pos = 4;
    }
    sess_log(TR_LOG_INFO, s,
             "binlog dump requested file=%.*s pos=%" PRIu64 " flags=0x%x replica_server_id=%" PRIu32,
             (int)file_len, file, pos, (unsigned)d->flags, d->server_id);
    s->state = TR_SESS_DUMP;
    if (d->server_id != 0) {
        /* One dump per replica server_id: the newcomer replaces the old one
         * (MySQL kill_zombie_dump_threads, spec 4.4). Per listener: each listener is a
         * primary of its own, so one server_id may follow both. */
        for (tr_sess_t *o = s->srv->sessions; o != NULL; o = o->next) {
            if (o != s && o->state == TR_SESS_DUMP && o->dump_server_id == d->server_id &&
                o->flavor == s->flavor) {
                sess_log(TR_LOG_INFO, o, "replaced by a new dump server_id=%" PRIu32 " new_sess=%" PRIu32,
                         d->server_id, s->id);
                tr_sess_fail(o, TR_ER_MASTER_FATAL_READ,
                             "A slave with the same server_uuid/server_id as this slave has "
                             "connected to the master");
            }
        }
    }
    s->dump_server_id = d->server_id;
    tr_dump_sink_t sink = {s, s->id, sess_peer(s), s->flavor, &s->seq, sink_uvar,
                           sink_send, sink_send_ref, sink_queued, sink_offload, sink_fail,
                           sink_close};
    tr_dump_t *dump = NULL;
    int rc = is_gtid ? tr_dump_start_gtid(s->srv, &sink, d->flags, d->server_id, file, file_len,
                                          pos, d->gtid_data.p, d->gtid_data.len, &dump)
                     : tr_dump_start(s->srv, &sink, pos, d->flags, d->server_id, file, file_len,
                                     &dump);
    if (rc != 0) {
        return; /* the dump ended the session */
    }
    if (s->state == TR_SESS_CLOSING) {
        /* The first write failed and closed the session: release the dump. */
        tr_dump_close(dump, NULL, NULL);
        return;
    }
    s->dump = dump;
    s->refs++;
    tr_dump_run(dump);
}

static void handle_command(tr_sess_t *s, const uint8_t *p, size_t len)
{
    tr_cmd_t c;
    const char *why = NULL;
    if (tr_cmd_decode(p, len, &c, &why) < 0) {
        tr_sess_fail(s, TR_ER_PARSE, "malformed command packet: %s", why);
        return;
    }
    switch (c.com) {
    case TR_COM_QUIT:
        tr_sess_close(s);
        return;
    case TR_COM_PING:
    case TR_COM_RESET_CONNECTION:
        tr_sess_put_ok(s);
        return;
    case TR_COM_INIT_DB:
        if (tr_sess_select_db(s, (const char *)c.u.text.p, c.u.text.len)) {
            tr_sess_put_ok(s);
        } else {
            tr_sess_put_err(s, TR_ER_BAD_DB, "Unknown database '%.*s'",
                    (int)(c.u.text.len < 200 ? c.u.text.len : 200), (const char *)c.u.text.p);
        }
        return;
    case TR_COM_QUERY:
        tr_sess_queries(s, c.u.text);
        return;
    case TR_COM_PROCESS_KILL:
        tr_sess_kill(s, c.u.kill_id);
        return;
    case TR_COM_REGISTER_SLAVE:
        s->registered = true;
        s->replica_server_id = c.u.reg.server_id;
        s->replica_port = c.u.reg.port;
        s->replica_master_id = c.u.reg.master_id;
        snprintf(s->replica_host, sizeof(s->replica_host), "%.*s", (int)c.u.reg.host.len,
                 (const char *)c.u.reg.host.p);
        sess_log(TR_LOG_INFO, s, "replica registered server_id=%" PRIu32 " port=%u",
                 c.u.reg.server_id, (unsigned)c.u.reg.port);
        tr_sess_put_ok(s);
        return;
    case TR_COM_BINLOG_DUMP:
        tr_sess_flush(s);
        start_dump(s, &c.u.dump, false);
        return;
    case TR_COM_BINLOG_DUMP_GTID:
        tr_sess_flush(s);
        start_dump(s, &c.u.dump, true);
        return;
    default:
        tr_sess_put_err(s, TR_ER_UNKNOWN_COM, "Unknown command");
        return;
    }
}

/* ---------------------------------------------------------------- input loop */

static void on_data(tr_conn_t *c, void *arg)
{
    tr_sess_t *s = arg;
    tr_buf_t *in = tr_conn_input(c);
    uint8_t *gather = NULL;
    /* A held answer or a delayed denial is pending: read nothing more meanwhile. */
    while (s->state != TR_SESS_CLOSING && !s->held && s->deny_timer == NULL) {
        tr_wire_packet_t pkt;
        const char *why = NULL;
        ssize_t n = tr_wire_packet_decode(tr_buf_head(in), tr_buf_unread(in), TR_SRV_MAX_PACKET,
                                          &pkt, &why);
        if (n == TR_EINCOMPLETE) {
            break;
        }
        if (n < 0) {
            tr_sess_fail(s, TR_ER_NET_PACKETS_OUT_OF_ORDER, "bad packet: %s", why);
            break;
        }
        const uint8_t *payload = pkt.payload.p;
        if (pkt.n_frames > 1) {
            gather = tr_realloc(gather, pkt.payload_len + 1);
            tr_wire_packet_gather(tr_buf_head(in), &pkt, gather);
            payload = gather;
        }
        s->seq = (uint8_t)(pkt.last_seq + 1);
        switch (s->state) {
        case TR_SESS_AUTH:
            tr_sess_auth(s, payload, pkt.payload_len);
            break;
        case TR_SESS_AUTH_SWITCH:
            tr_sess_auth_more(s, payload, pkt.payload_len);
            break;
        case TR_SESS_COMMAND:
            handle_command(s, payload, pkt.payload_len);
            break;
        case TR_SESS_DUMP:
            /* Replicas send nothing during a dump but COM_QUIT (semi-sync ACKs
             * later); anything else is ignored, as MySQL does. */
            if (pkt.payload_len >= 1 && payload[0] == TR_COM_QUIT) {
                tr_sess_close(s);
            }
            break;
        case TR_SESS_CLOSING:
            break;
        }
        in->off += (size_t)n;
        tr_sess_flush(s);
        if (s->start_tls) {
            /* After the SSLRequest: the remaining input is the TLS ClientHello. */
            s->start_tls = false;
            int rc = tr_conn_start_tls(c, s->srv->tls);
            if (rc != 0) {
                const char *tw = tr_conn_tls_error(c);
                s->srv->errors[TR_SRV_ERR_TLS]++;
                sess_log(TR_LOG_WARN, s, "TLS handshake failed err=%s tls_err=%s", tr_strerror(rc),
                         tw ? tw : "-");
                tr_sess_finish(s); /* flushes the alert, if OpenSSL made one */
                break;
            }
        }
    }
    tr_free(gather);
    if (s->conn != NULL && s->state != TR_SESS_CLOSING) {
        tr_buf_compact(in);
        if (tr_buf_unread(in) == 0 && in->cap > 0) {
            /* Nothing pending (between statements; a dump's replica sends
             * nothing): keep no read buffer, the next read reserves one. */
            size_t limit = in->limit;
            tr_buf_cleanup(in);
            in->limit = limit;
        }
    }
}

static void on_drain(tr_conn_t *c, int status, void *arg)
{
    tr_sess_t *s = arg;
    if (status < 0) {
        sess_log(TR_LOG_INFO, s, "write failed, closing err=%s", tr_strerror(status));
        tr_sess_close(s);
        return;
    }
    if (s->state == TR_SESS_DUMP && s->dump != NULL) {
        tr_dump_proceed(s->dump);
    }
}

/* Text of a libuv/errno code or a project code (the connection reports both). */
static const char *status_text(int status)
{
    return status <= -1000 && status > -2000 ? tr_strerror(status) : uv_strerror(status);
}

static void on_error(tr_conn_t *c, int status, void *arg)
{
    tr_sess_t *s = arg;
    const char *tw = tr_conn_tls_error(c);
    sess_log(s->quiet ? TR_LOG_DEBUG : status == UV_EOF ? TR_LOG_INFO : TR_LOG_WARN, s,
             "client disconnected state=%s err=%s%s%s", tr_sess_state_name(s->state),
             status_text(status), tw ? " tls_err=" : "", tw ? tw : "");
    if (tw != NULL) {
        tr_sess_finish(s); /* let the TLS alert already queued reach the peer */
    } else {
        tr_sess_close(s);
    }
}

static const tr_conn_cbs_t conn_cbs = {on_data, on_drain, on_error, on_conn_closed};

/* A new session on a connection that attach makes (an accepted socket or an adopted one):
 * linked into the server and greeted. */
static void sess_new(tr_server_t *srv, tr_flavor_t flavor,
                     int (*attach)(tr_sess_t *s, void *src), void *src)
{
    tr_sess_t *s = tr_calloc(1, sizeof(*s));
    s->srv = srv;
    s->flavor = flavor;
    s->state = TR_SESS_AUTH;
    s->id = ++srv->next_conn_id;
    s->refs = 1;
    s->status = TR_SERVER_STATUS_AUTOCOMMIT;
    tr_buf_init(&s->out, 0);
    int rc = attach(s, src);
    if (rc != 0) {
        tr_log_warn("sess", "accept failed err=%s", tr_strerror(rc));
        tr_buf_cleanup(&s->out);
        tr_free(s);
        return;
    }
    sess_link(s);
    const char *ip = tr_conn_peer_ip(s->conn);
    for (size_t i = 0; i < TR_SRV_AUTH_PEERS; i++) {
        if (srv->auth_peers[i].throttled && strcmp(srv->auth_peers[i].ip, ip) == 0) {
            s->quiet = true;
        }
    }
    sess_log(s->quiet ? TR_LOG_DEBUG : TR_LOG_INFO, s, "client connected%s", "");
    tr_sess_new_scramble(s);
    /* MySQL 8.0 greets with caching_sha2_password, MariaDB with native. */
    s->auth_plugin = flavor == TR_FLAVOR_MYSQL ? TR_AUTH_SHA2 : TR_AUTH_NATIVE;
    uint32_t caps = TR_SERVER_CAPS | (tr_tls_enabled(srv->tls) ? TR_CLIENT_SSL : 0);
    tr_hs_greeting_t g = {flavor == TR_FLAVOR_MARIADB ? TR_SRV_MARIA_VERSION_HANDSHAKE
                                                      : TR_SRV_VERSION_HANDSHAKE,
                          s->id,                    s->scramble,
                          caps,                     CHARSET_UTF8MB4_GENERAL, TR_SERVER_STATUS_AUTOCOMMIT,
                          s->auth_plugin};
    s->seq = 0;
    size_t h = tr_wire_begin(&s->out);
    tr_hs_greeting_encode(&s->out, &g);
    tr_wire_end(&s->out, h, &s->seq);
    tr_sess_flush(s);
}

static int open_accepted(tr_sess_t *s, void *listener)
{
    return tr_conn_accept(listener, &conn_cbs, s, TR_SRV_MAX_PACKET + 2 * 65536, &s->conn);
}

static int open_fd(tr_sess_t *s, void *fd)
{
    return tr_conn_open(s->srv->loop, *(int *)fd, &conn_cbs, s, TR_SRV_MAX_PACKET + 2 * 65536,
                        &s->conn);
}

void tr_sess_accept(tr_server_t *srv, uv_stream_t *listener, tr_flavor_t flavor)
{
    sess_new(srv, flavor, open_accepted, listener);
}

void tr_sess_adopt(tr_server_t *srv, int fd, tr_flavor_t flavor)
{
    sess_new(srv, flavor, open_fd, &fd);
}

void tr_sess_each(tr_server_t *srv, bool (*fn)(void *arg, const tr_sess_info_t *s), void *arg)
{
    for (tr_sess_t *s = srv->sessions; s != NULL; s = s->next) {
        if (s->state == TR_SESS_CLOSING) {
            continue;
        }
        tr_sess_info_t info;
        memset(&info, 0, sizeof(info));
        info.id = s->id;
        info.flavor = s->flavor;
        info.user = s->user;
        info.peer = sess_peer(s);
        info.is_replica = sess_replica(s, &info.replica);
        info.dump = sess_dump(s);
        if (!fn(arg, &info)) {
            return;
        }
    }
}

void tr_sess_notify_all(tr_server_t *srv)
{
    for (tr_sess_t *s = srv->sessions; s != NULL;) {
        tr_sess_t *next = s->next; /* notify may close s (not free it) */
        tr_sess_notify(s);
        s = next;
    }
}

void tr_sess_close_all(tr_server_t *srv)
{
    for (tr_sess_t *s = srv->sessions; s != NULL; s = s->next) {
        tr_sess_close(s);
    }
}

void tr_sess_notify(tr_sess_t *s)
{
    if (s->state == TR_SESS_DUMP && s->dump != NULL) {
        tr_dump_notify(s->dump);
    }
}
