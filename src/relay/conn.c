/*
 * Client TCP connection (see conn.h). Thin libuv glue: no protocol
 * knowledge, no logging of payload bytes.
 */
#include "relay/conn.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"

#define READ_CHUNK (64 * 1024)

struct tr_conn {
    uv_tcp_t tcp;
    uv_shutdown_t shutdown_req;
    tr_conn_cbs_t cbs;
    void *arg;
    tr_buf_t in;
    size_t max_input;
    size_t queued_bytes; /* written but not yet completed */
    bool closing;
    bool reading;
    char peer[64];
    char peer_ip[48];
};

typedef struct {
    uv_write_t req;
    tr_conn_t *conn;
    uint8_t *data;
    size_t len;
} write_req_t;

static void on_close(uv_handle_t *h)
{
    tr_conn_t *c = h->data;
    void (*cb)(void *) = c->cbs.on_closed;
    void *arg = c->arg;
    tr_buf_cleanup(&c->in);
    tr_free(c);
    if (cb != NULL) {
        cb(arg);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    tr_conn_t *c = h->data;
    tr_buf_compact(&c->in);
    uint8_t *p = tr_buf_reserve(&c->in, READ_CHUNK);
    if (p == NULL) {
        /* Input limit reached: a zero-length buffer makes libuv report UV_ENOBUFS. */
        buf->base = NULL;
        buf->len = 0;
        return;
    }
    buf->base = (char *)p;
    buf->len = READ_CHUNK;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    tr_conn_t *c = s->data;
    if (c->closing) {
        return;
    }
    if (n < 0) {
        if (c->cbs.on_error != NULL) {
            c->cbs.on_error(c, (int)n, c->arg);
        }
        return;
    }
    if (n == 0) {
        return;
    }
    /* on_alloc reserved room at the end of c->in; commit the bytes read. */
    c->in.len += (size_t)n;
    if (c->cbs.on_data != NULL) {
        c->cbs.on_data(c, c->arg);
    }
}

int tr_conn_accept(uv_stream_t *listener, const tr_conn_cbs_t *cbs, void *arg, size_t max_input,
                   tr_conn_t **out)
{
    tr_conn_t *c = tr_calloc(1, sizeof(*c));
    int rc = uv_tcp_init(listener->loop, &c->tcp);
    if (rc != 0) {
        tr_free(c);
        return rc;
    }
    c->tcp.data = c;
    c->cbs = *cbs;
    c->arg = arg;
    c->max_input = max_input;
    tr_buf_init(&c->in, max_input);
    rc = uv_accept(listener, (uv_stream_t *)&c->tcp);
    if (rc == 0) {
        (void)uv_tcp_nodelay(&c->tcp, 1);
        struct sockaddr_storage ss;
        int len = sizeof(ss);
        snprintf(c->peer, sizeof(c->peer), "?");
        snprintf(c->peer_ip, sizeof(c->peer_ip), "?");
        if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
            char ip[46] = "";
            int port = 0;
            if (ss.ss_family == AF_INET) {
                const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
                (void)uv_ip4_name(a, ip, sizeof(ip));
                port = ntohs(a->sin_port);
            } else if (ss.ss_family == AF_INET6) {
                const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
                (void)uv_ip6_name(a, ip, sizeof(ip));
                port = ntohs(a->sin6_port);
            }
            snprintf(c->peer_ip, sizeof(c->peer_ip), "%s", ip);
            snprintf(c->peer, sizeof(c->peer), "%s:%d", ip, port);
        }
        rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
        c->reading = rc == 0;
    }
    if (rc != 0) {
        /* The handle is initialised: it must be closed, but nobody is told. */
        c->closing = true;
        c->cbs.on_closed = NULL;
        uv_close((uv_handle_t *)&c->tcp, on_close);
        return rc;
    }
    *out = c;
    return 0;
}

tr_buf_t *tr_conn_input(tr_conn_t *c)
{
    return &c->in;
}

static void on_write(uv_write_t *req, int status)
{
    write_req_t *w = (write_req_t *)req;
    tr_conn_t *c = w->conn;
    c->queued_bytes -= w->len;
    tr_free(w->data);
    tr_free(w);
    if (!c->closing && c->cbs.on_drain != NULL) {
        c->cbs.on_drain(c, status, c->arg);
    }
}

int tr_conn_write(tr_conn_t *c, tr_buf_t *b)
{
    size_t n = tr_buf_unread(b);
    if (c->closing) {
        tr_buf_reset(b);
        return TR_ECLOSED;
    }
    if (n == 0) {
        return 0;
    }
    write_req_t *w = tr_malloc(sizeof(*w));
    w->conn = c;
    if (b->off == 0) {
        /* Take the storage itself: no copy. */
        w->data = b->data;
        w->len = n;
        size_t limit = b->limit;
        b->data = NULL;
        b->cap = 0;
        b->len = 0;
        b->off = 0;
        b->failed = false;
        b->limit = limit;
    } else {
        w->data = tr_malloc(n);
        memcpy(w->data, tr_buf_head(b), n);
        w->len = n;
        tr_buf_reset(b);
    }
    uv_buf_t ub = uv_buf_init((char *)w->data, (unsigned int)w->len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &ub, 1, on_write);
    if (rc != 0) {
        tr_free(w->data);
        tr_free(w);
        return rc;
    }
    c->queued_bytes += w->len;
    return 0;
}

size_t tr_conn_queued_bytes(const tr_conn_t *c)
{
    return c->queued_bytes;
}

const char *tr_conn_peer(const tr_conn_t *c)
{
    return c->peer;
}

const char *tr_conn_peer_ip(const tr_conn_t *c)
{
    return c->peer_ip;
}

void tr_conn_pause(tr_conn_t *c)
{
    if (c->reading && !c->closing) {
        (void)uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
}

void tr_conn_resume(tr_conn_t *c)
{
    if (!c->reading && !c->closing) {
        c->reading = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0;
    }
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    tr_conn_t *c = req->data;
    uv_close((uv_handle_t *)&c->tcp, on_close);
}

void tr_conn_close(tr_conn_t *c, bool graceful)
{
    if (c->closing) {
        return;
    }
    c->closing = true;
    if (c->reading) {
        (void)uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
    if (graceful) {
        c->shutdown_req.data = c;
        if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) == 0) {
            return;
        }
    }
    uv_close((uv_handle_t *)&c->tcp, on_close);
}

bool tr_conn_is_closing(const tr_conn_t *c)
{
    return c->closing;
}
