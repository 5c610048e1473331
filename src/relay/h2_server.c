/*
 * gRPC over cleartext HTTP/2 on one thread (see h2_server.h; grpc/grpc
 * doc/PROTOCOL-HTTP2.md; RFC 9113).
 *
 * Loop, once per wake-up of ppoll: run the calls that are due (proceed),
 * submit what handlers queued (response HEADERS, DATA, trailers), serialize
 * and write each connection's frames, enforce the timers, then wait for the
 * eventfd, the listeners and the connections. Reads go straight from one
 * shared buffer into nghttp2_session_mem_recv; its callbacks build the calls.
 * Writes go through a per-connection staging buffer: nghttp2 is asked for
 * more frames only while less than OUT_STAGE_BYTES wait for the socket, and
 * a connection with unwritten bytes is not read, so a client that sends but
 * never reads stops itself.
 *
 * Memory given to nghttp2 goes through a per-connection allocator with a
 * budget (conn_mem_bytes): past it nghttp2 gets NULL, fails the call with
 * NGHTTP2_ERR_NOMEM and the connection is closed. This is the one place that
 * uses malloc directly: refusing memory is the point, so it must not abort.
 *
 * Lifetimes: a call is created at its request HEADERS and freed in
 * on_stream_close or when its connection closes (nghttp2_session_del does not
 * report streams). Calls are only freed inside nghttp2_session_mem_recv /
 * mem_send or conn_close, never while the loop walks a connection's calls.
 */
#define _GNU_SOURCE /* accept4, ppoll */
#include "relay/h2_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/thread.h"
#include "protocol/grpc_frame.h"
#include "protocol/grpc_request.h"

#define MAX_LISTENERS      4
#define READ_BYTES         (64u << 10)
#define OUT_STAGE_BYTES    (64u << 10) /* serialized frames waiting for the socket */
#define MAX_HEADER_BYTES   (16u << 10) /* per stream, counted as RFC 9113 does (+32 a field) */
#define ACCEPT_PAUSE_NS    (100 * 1000000LL) /* after EMFILE / ENFILE */
#define WARN_INTERVAL_NS   (10 * 1000000000LL)
#define MESSAGE_MAX        256 /* percent-encoded grpc-message */
#define NS_PER_MS          1000000LL

typedef struct conn conn_t;

struct tr_h2_call {
    conn_t *conn;
    tr_h2_call_t *prev, *next; /* the connection's calls */
    int32_t stream_id;
    int64_t start_ns;    /* request HEADERS */
    int64_t finish_ns;   /* tr_h2_call_finish, 0 before */
    size_t header_bytes; /* received header fields, RFC 9113 size */
    tr_grpc_req_t req;
    int path_idx;        /* -1 until routed */
    bool req_done;       /* the client ended its side (END_STREAM) */
    bool handed;         /* on_call ran: on_close is owed */
    bool submitted;      /* response HEADERS submitted */
    bool deferred;       /* the data source waits for more */
    bool finished;       /* the final status is set */
    bool reset_sent;
    bool was_full;       /* output reached out_high_water after proceed */
    int http_status;
    int grpc_status;
    char message[MESSAGE_MAX];
    tr_buf_t out; /* queued messages (prefix + bytes) */
    int64_t due_ns;
    void *data;
};

struct conn {
    tr_h2_server_t *s;
    uint64_t id;
    int fd;
    char peer[64];
    nghttp2_session *h2;
    nghttp2_mem mem;
    size_t mem_used;
    tr_buf_t out;          /* serialized frames not yet written */
    int64_t out_since_ns;  /* last write progress while out is not empty */
    int64_t idle_since_ns; /* accepted, or the last call ended */
    bool served;           /* a request arrived whole on this connection */
    bool answered;         /* a call was answered (served or refused) */
    bool goaway;           /* closing gracefully */
    tr_h2_call_t *calls;
    size_t n_calls;
    uint8_t head[32]; /* first bytes received, for the log of a bad preface */
    size_t head_len;
    bool dead;        /* close at the end of this iteration */
    char why[160];
    bool why_is_bad;  /* the close is the client's fault (counted, logged) */
};

typedef struct {
    int64_t last_ns;
    uint64_t suppressed;
} warn_limit_t;

struct tr_h2_server {
    tr_h2_server_opts_t o;
    char addr[300];
    char name[32];
    const char **paths;
    int lfds[MAX_LISTENERS];
    size_t n_lfds;
    int port;
    int wake_fd;
    pthread_t thread;
    bool thread_started;
    atomic_bool stopping;
    atomic_bool woken;

    /* Server thread only. */
    conn_t **conns;
    size_t n_conns;
    uint8_t *rbuf;
    int64_t accept_paused_until;
    uint64_t next_conn_id;
    warn_limit_t warn_call; /* calls refused */
    warn_limit_t warn_conn; /* connections dropped for bad input */
    warn_limit_t warn_full; /* connections refused, accept failing */

    _Atomic uint64_t st_accepted, st_refused, st_dropped, st_open, st_served, st_call_refused;
};

/* True when a rate-limited warning may be written now (*n: swallowed since). */
static bool warn_allowed(warn_limit_t *w, int64_t now, uint64_t *n)
{
    if (w->last_ns != 0 && now - w->last_ns < WARN_INTERVAL_NS) {
        w->suppressed++;
        return false;
    }
    *n = w->suppressed;
    w->suppressed = 0;
    w->last_ns = now;
    return true;
}

static void hex32(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t w = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && i < 32 && w + 3 < cap; i++) {
        w += (size_t)snprintf(out + w, cap - w, "%02x", p[i]);
    }
}

/* ---------------------------------------------------------------- nghttp2 memory budget */

/* A header before each block keeps its size; 16 bytes keep max_align_t alignment. */
#define MEM_HDR 16

static void *budget_malloc(size_t size, void *ud)
{
    conn_t *c = ud;
    if (size > c->s->o.conn_mem_bytes - c->mem_used || size > SIZE_MAX - MEM_HDR) {
        return NULL;
    }
    uint8_t *p = malloc(size + MEM_HDR);
    if (p == NULL) {
        return NULL;
    }
    memcpy(p, &size, sizeof(size));
    c->mem_used += size;
    return p + MEM_HDR;
}

static void budget_free(void *ptr, void *ud)
{
    if (ptr == NULL) {
        return;
    }
    conn_t *c = ud;
    uint8_t *p = (uint8_t *)ptr - MEM_HDR;
    size_t size;
    memcpy(&size, p, sizeof(size));
    c->mem_used -= size;
    free(p);
}

static void *budget_calloc(size_t n, size_t size, void *ud)
{
    if (size != 0 && n > SIZE_MAX / size) {
        return NULL;
    }
    void *p = budget_malloc(n * size, ud);
    if (p != NULL) {
        memset(p, 0, n * size);
    }
    return p;
}

static void *budget_realloc(void *ptr, size_t size, void *ud)
{
    if (ptr == NULL) {
        return budget_malloc(size, ud);
    }
    conn_t *c = ud;
    uint8_t *p = (uint8_t *)ptr - MEM_HDR;
    size_t old;
    memcpy(&old, p, sizeof(old));
    if (size > old && size - old > c->s->o.conn_mem_bytes - c->mem_used) {
        return NULL;
    }
    if (size > SIZE_MAX - MEM_HDR) {
        return NULL;
    }
    uint8_t *np = realloc(p, size + MEM_HDR);
    if (np == NULL) {
        return NULL;
    }
    memcpy(np, &size, sizeof(size));
    c->mem_used = c->mem_used - old + size;
    return np + MEM_HDR;
}

/* ---------------------------------------------------------------- calls */

static void call_free(tr_h2_call_t *call)
{
    conn_t *c = call->conn;
    if (call->prev != NULL) {
        call->prev->next = call->next;
    } else {
        c->calls = call->next;
    }
    if (call->next != NULL) {
        call->next->prev = call->prev;
    }
    c->n_calls--;
    if (c->n_calls == 0) {
        c->idle_since_ns = (int64_t)tr_clock_mono_ns();
    }
    if (call->handed && c->s->o.on_close != NULL) {
        c->s->o.on_close(c->s->o.arg, call);
    }
    tr_grpc_req_cleanup(&call->req);
    tr_buf_cleanup(&call->out);
    tr_free(call);
}

/* Sets the final status of a call (the first one counts). */
static void call_finish(tr_h2_call_t *call, int http_status, int grpc_status, const char *message)
{
    if (call->finished) {
        return;
    }
    call->finished = true;
    call->finish_ns = (int64_t)tr_clock_mono_ns();
    call->http_status = http_status;
    call->grpc_status = grpc_status;
    call->message[0] = '\0';
    if (message != NULL) {
        (void)tr_grpc_message_encode(message, call->message, 200);
    }
    call->conn->answered = true;
    if (!call->handed) {
        tr_grpc_req_cleanup(&call->req); /* a refused request's bytes are not kept */
    }
}

/* The server refuses a call: answer, count, log (rate-limited). */
static void call_refuse(tr_h2_call_t *call, const tr_grpc_verdict_t *v)
{
    conn_t *c = call->conn;
    tr_h2_server_t *s = c->s;
    call_finish(call, v->http_status, v->grpc_status, v->message);
    atomic_fetch_add(&s->st_call_refused, 1);
    uint64_t n = 0;
    if (warn_allowed(&s->warn_call, (int64_t)tr_clock_mono_ns(), &n)) {
        tr_log_warn(s->name,
                    "call refused peer=%s path=%.64s http_status=%d grpc_status=%d(%s) why=\"%s\" "
                    "suppressed=%" PRIu64,
                    c->peer, call->req.path[0] != '\0' ? call->req.path : "-", v->http_status,
                    v->grpc_status, tr_grpc_status_name(v->grpc_status), v->message, n);
    }
}

/* The client ended its side: hand the request to the handler, or refuse it. */
static void call_request_done(tr_h2_call_t *call)
{
    conn_t *c = call->conn;
    tr_h2_server_t *s = c->s;
    call->req_done = true;
    if (call->finished || call->path_idx < 0) {
        return; /* answered already */
    }
    tr_slice_t msg;
    tr_grpc_verdict_t v;
    if (tr_grpc_req_end(&call->req, &msg, &v) != 0) {
        call_refuse(call, &v);
        return;
    }
    c->served = true;
    call->handed = true;
    call->due_ns = 0;
    atomic_fetch_add(&s->st_served, 1);
    s->o.on_call(s->o.arg, call, call->path_idx, msg);
    tr_grpc_req_cleanup(&call->req);
    if (!call->finished && s->o.proceed == NULL) {
        call_finish(call, 200, TR_GRPC_INTERNAL, "the handler gave no answer");
    }
}

void tr_h2_call_set_data(tr_h2_call_t *c, void *data)
{
    c->data = data;
}

void *tr_h2_call_data(const tr_h2_call_t *c)
{
    return c->data;
}

const char *tr_h2_call_peer(const tr_h2_call_t *c)
{
    return c->conn->peer;
}

void tr_h2_call_send(tr_h2_call_t *c, const void *msg, size_t len)
{
    if (c->finished || len > UINT32_MAX) {
        return;
    }
    uint8_t *p = tr_buf_extend(&c->out, TR_GRPC_PREFIX_LEN + len);
    tr_grpc_prefix_encode(p, (uint32_t)len);
    if (len > 0) {
        memcpy(p + TR_GRPC_PREFIX_LEN, msg, len);
    }
}

size_t tr_h2_call_queued(const tr_h2_call_t *c)
{
    return tr_buf_unread(&c->out);
}

void tr_h2_call_finish(tr_h2_call_t *c, int grpc_status, const char *message)
{
    call_finish(c, 200, grpc_status, message);
}

/* ---------------------------------------------------------------- response */

#define NV(n, v, vl)                                                                               \
    {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vl), NGHTTP2_NV_FLAG_NO_COPY_NAME}

static ssize_t read_body(nghttp2_session *h2, int32_t stream_id, uint8_t *buf, size_t len,
                         uint32_t *data_flags, nghttp2_data_source *src, void *ud)
{
    tr_h2_call_t *call = src->ptr;
    size_t unread = tr_buf_unread(&call->out);
    size_t n = unread < len ? unread : len;
    if (n > 0) {
        memcpy(buf, tr_buf_head(&call->out), n);
        call->out.off += n;
        if (call->out.off == call->out.len) {
            tr_buf_reset(&call->out);
        } else if (call->out.off > (64u << 10) && call->out.off > call->out.len / 2) {
            tr_buf_compact(&call->out);
        }
    }
    if (tr_buf_unread(&call->out) > 0) {
        return (ssize_t)n;
    }
    if (call->finished) {
        char code[16];
        int cl = snprintf(code, sizeof(code), "%d", call->grpc_status);
        nghttp2_nv nva[] = {
            NV("grpc-status", code, (size_t)cl),
            NV("grpc-message", call->message, strlen(call->message)),
        };
        *data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
        int rc = nghttp2_submit_trailer(h2, stream_id, nva, call->message[0] != '\0' ? 2 : 1);
        if (rc != 0) {
            return NGHTTP2_ERR_CALLBACK_FAILURE; /* NOMEM: the connection goes */
        }
        return (ssize_t)n;
    }
    if (n == 0) {
        call->deferred = true;
        return NGHTTP2_ERR_DEFERRED;
    }
    return (ssize_t)n;
}

/* Hands what the handler queued to nghttp2. Returns 0 or an nghttp2 error. */
static int call_submit(tr_h2_call_t *call)
{
    nghttp2_session *h2 = call->conn->h2;
    if (call->reset_sent) {
        return 0;
    }
    if (!call->submitted) {
        char status[8];
        int sl = snprintf(status, sizeof(status), "%d", call->finished ? call->http_status : 200);
        if (call->finished && tr_buf_unread(&call->out) == 0) {
            char code[16];
            int cl = snprintf(code, sizeof(code), "%d", call->grpc_status);
            nghttp2_nv nva[] = {
                NV(":status", status, (size_t)sl),
                NV("content-type", "application/grpc", 16),
                NV("grpc-status", code, (size_t)cl),
                NV("grpc-message", call->message, strlen(call->message)),
            };
            call->submitted = true;
            return nghttp2_submit_response(h2, call->stream_id, nva,
                                           call->message[0] != '\0' ? 4 : 3, NULL);
        }
        if (tr_buf_unread(&call->out) == 0) {
            return 0;
        }
        nghttp2_nv nva[] = {
            NV(":status", "200", 3),
            NV("content-type", "application/grpc", 16),
        };
        nghttp2_data_provider prd;
        prd.source.ptr = call;
        prd.read_callback = read_body;
        call->submitted = true;
        return nghttp2_submit_response(h2, call->stream_id, nva, 2, &prd);
    }
    if (call->deferred && (tr_buf_unread(&call->out) > 0 || call->finished)) {
        call->deferred = false;
        return nghttp2_session_resume_data(h2, call->stream_id);
    }
    return 0;
}

#undef NV

/* ---------------------------------------------------------------- nghttp2 callbacks */

static tr_h2_call_t *stream_call(nghttp2_session *h2, int32_t stream_id)
{
    return nghttp2_session_get_stream_user_data(h2, stream_id);
}

static int on_begin_headers(nghttp2_session *h2, const nghttp2_frame *frame, void *ud)
{
    conn_t *c = ud;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
        return 0;
    }
    tr_h2_call_t *call = tr_calloc(1, sizeof(*call));
    call->conn = c;
    call->stream_id = frame->hd.stream_id;
    call->start_ns = (int64_t)tr_clock_mono_ns();
    call->path_idx = -1;
    tr_grpc_req_init(&call->req, c->s->o.max_request_bytes);
    tr_buf_init(&call->out, 0);
    call->next = c->calls;
    if (c->calls != NULL) {
        c->calls->prev = call;
    }
    c->calls = call;
    c->n_calls++;
    int rc = nghttp2_session_set_stream_user_data(h2, frame->hd.stream_id, call);
    TR_ASSERT(rc == 0);
    return 0;
}

static int on_header(nghttp2_session *h2, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *ud)
{
    tr_h2_call_t *call = stream_call(h2, frame->hd.stream_id);
    if (call == NULL) {
        return 0;
    }
    call->header_bytes += namelen + valuelen + 32;
    if (call->header_bytes > MAX_HEADER_BYTES) {
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* the stream is reset */
    }
    if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        tr_grpc_req_header(&call->req, name, namelen, value, valuelen);
    }
    return 0; /* a client's trailers carry nothing for us */
}

static int on_frame_recv(nghttp2_session *h2, const nghttp2_frame *frame, void *ud)
{
    conn_t *c = ud;
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) {
        return 0;
    }
    tr_h2_call_t *call = stream_call(h2, frame->hd.stream_id);
    if (call == NULL) {
        return 0;
    }
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        tr_grpc_verdict_t v;
        int idx = tr_grpc_req_route(&call->req, (const char *const *)c->s->paths, c->s->o.n_paths,
                                    &v);
        if (idx < 0) {
            call_refuse(call, &v);
        } else {
            call->path_idx = idx;
        }
    }
    if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
        call_request_done(call);
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *h2, uint8_t flags, int32_t stream_id, const uint8_t *data,
                         size_t len, void *ud)
{
    tr_h2_call_t *call = stream_call(h2, stream_id);
    if (call == NULL || call->finished || call->handed) {
        return 0; /* answered already: the rest of the request is dropped */
    }
    tr_grpc_verdict_t v;
    if (tr_grpc_req_data(&call->req, data, len, &v) != 0) {
        call_refuse(call, &v);
    }
    return 0;
}

static int on_frame_send(nghttp2_session *h2, const nghttp2_frame *frame, void *ud)
{
    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
        !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        return 0;
    }
    tr_h2_call_t *call = stream_call(h2, frame->hd.stream_id);
    if (call != NULL && !call->req_done && !call->reset_sent) {
        /* Answered before the client finished its request (RFC 9113 section
         * 8.1): tell it to stop sending. */
        call->reset_sent = true;
        return nghttp2_submit_rst_stream(h2, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                         NGHTTP2_NO_ERROR) == 0
                   ? 0
                   : NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
}

static int on_stream_close(nghttp2_session *h2, int32_t stream_id, uint32_t error_code, void *ud)
{
    tr_h2_call_t *call = stream_call(h2, stream_id);
    if (call != NULL) {
        (void)nghttp2_session_set_stream_user_data(h2, stream_id, NULL);
        call_free(call);
    }
    return 0;
}

static ssize_t frame_length(nghttp2_session *h2, uint8_t frame_type, int32_t stream_id,
                            int32_t session_window, int32_t stream_window,
                            uint32_t remote_max_frame, void *ud)
{
    conn_t *c = ud;
    int64_t n = c->s->o.max_frame_bytes;
    if (n > (int64_t)remote_max_frame) {
        n = remote_max_frame;
    }
    if (n > session_window) {
        n = session_window;
    }
    if (n > stream_window) {
        n = stream_window;
    }
    return n < 1 ? 1 : (ssize_t)n;
}

/* ---------------------------------------------------------------- connections */

TR_PRINTF(3, 4) static void conn_drop(conn_t *c, bool is_bad, const char *fmt, ...)
{
    if (c->dead) {
        return;
    }
    c->dead = true;
    c->why_is_bad = is_bad;
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(c->why, sizeof(c->why), fmt, ap);
    va_end(ap);
}

static void conn_close(tr_h2_server_t *s, size_t idx)
{
    conn_t *c = s->conns[idx];
    if (c->why_is_bad) {
        atomic_fetch_add(&s->st_dropped, 1);
        uint64_t n = 0;
        if (warn_allowed(&s->warn_conn, (int64_t)tr_clock_mono_ns(), &n)) {
            char hex[72];
            hex32(c->head, c->head_len, hex, sizeof(hex));
            tr_log_warn(s->name,
                        "connection dropped peer=%s why=\"%s\" first_bytes=%s suppressed=%" PRIu64,
                        c->peer, c->why, hex[0] != '\0' ? hex : "-", n);
        }
    } else {
        tr_log_debug(s->name, "connection closed peer=%s conn=%" PRIu64 " why=\"%s\"", c->peer,
                     c->id, c->why);
    }
    while (c->calls != NULL) {
        tr_h2_call_t *call = c->calls;
        if (c->h2 != NULL) {
            (void)nghttp2_session_set_stream_user_data(c->h2, call->stream_id, NULL);
        }
        call_free(call);
    }
    if (c->h2 != NULL) {
        nghttp2_session_del(c->h2);
    }
    (void)close(c->fd);
    tr_buf_cleanup(&c->out);
    tr_free(c);
    s->conns[idx] = s->conns[--s->n_conns];
    atomic_fetch_sub(&s->st_open, 1);
}

static int conn_session(conn_t *c)
{
    tr_h2_server_t *s = c->s;
    nghttp2_session_callbacks *cbs = NULL;
    if (nghttp2_session_callbacks_new(&cbs) != 0) {
        return NGHTTP2_ERR_NOMEM;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    nghttp2_session_callbacks_set_data_source_read_length_callback(cbs, frame_length);
    nghttp2_option *opt = NULL;
    int rc = nghttp2_option_new(&opt);
    if (rc == 0) {
        nghttp2_option_set_no_closed_streams(opt, 1);
        c->mem.mem_user_data = c;
        c->mem.malloc = budget_malloc;
        c->mem.free = budget_free;
        c->mem.calloc = budget_calloc;
        c->mem.realloc = budget_realloc;
        rc = nghttp2_session_server_new3(&c->h2, cbs, c, opt, &c->mem);
        nghttp2_option_del(opt);
    }
    nghttp2_session_callbacks_del(cbs);
    if (rc != 0) {
        c->h2 = NULL;
        return rc;
    }
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, s->o.max_streams},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, MAX_HEADER_BYTES},
    };
    return nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, TR_ARRAY_LEN(iv));
}

static void peer_name(const struct sockaddr_storage *sa, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        (void)inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
        snprintf(out, cap, "%s:%u", host, port);
    } else if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        (void)inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
        snprintf(out, cap, "[%s]:%u", host, port);
    } else {
        snprintf(out, cap, "?");
    }
}

static void accept_all(tr_h2_server_t *s, int lfd, int64_t now)
{
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t sl = sizeof(sa);
        int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                uint64_t n = 0;
                if (warn_allowed(&s->warn_full, now, &n)) {
                    tr_log_warn(s->name, "cannot accept, pausing 100 ms: %s suppressed=%" PRIu64,
                                strerror(errno), n);
                }
                s->accept_paused_until = now + ACCEPT_PAUSE_NS;
            }
            return; /* EAGAIN, or an error of this one connection */
        }
        char peer[64];
        peer_name(&sa, peer, sizeof(peer));
        if (s->n_conns >= s->o.max_conns) {
            atomic_fetch_add(&s->st_refused, 1);
            uint64_t n = 0;
            if (warn_allowed(&s->warn_full, now, &n)) {
                tr_log_warn(s->name,
                            "too many connections, refusing peer=%s max_conns=%u "
                            "suppressed=%" PRIu64,
                            peer, s->o.max_conns, n);
            }
            (void)close(fd);
            continue;
        }
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        conn_t *c = tr_calloc(1, sizeof(*c));
        c->s = s;
        c->id = ++s->next_conn_id;
        c->fd = fd;
        snprintf(c->peer, sizeof(c->peer), "%s", peer);
        c->idle_since_ns = now;
        tr_buf_init(&c->out, 0);
        s->conns[s->n_conns++] = c;
        atomic_fetch_add(&s->st_accepted, 1);
        atomic_fetch_add(&s->st_open, 1);
        int rc = conn_session(c);
        if (rc != 0) {
            conn_drop(c, false, "cannot set up the HTTP/2 session: %s", nghttp2_strerror(rc));
        }
        tr_log_debug(s->name, "connection accepted peer=%s conn=%" PRIu64, c->peer, c->id);
    }
}

/* Reads once from a readable connection and feeds nghttp2. */
static void conn_read(tr_h2_server_t *s, conn_t *c)
{
    ssize_t n = recv(c->fd, s->rbuf, READ_BYTES, 0);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            conn_drop(c, false, "recv: %s", strerror(errno));
        }
        return;
    }
    if (n == 0) {
        bool partial = c->calls != NULL || !c->served;
        conn_drop(c, false, partial ? "closed by the client before its call was answered"
                                    : "closed by the client");
        return;
    }
    if (c->head_len < sizeof(c->head)) {
        size_t take = sizeof(c->head) - c->head_len;
        take = take < (size_t)n ? take : (size_t)n;
        memcpy(c->head + c->head_len, s->rbuf, take);
        c->head_len += take;
    }
    ssize_t used = nghttp2_session_mem_recv(c->h2, s->rbuf, (size_t)n);
    if (used < 0) {
        if (used == NGHTTP2_ERR_BAD_CLIENT_MAGIC) {
            conn_drop(c, true, "not the HTTP/2 client preface (gRPC needs h2c prior knowledge)");
        } else if (used == NGHTTP2_ERR_NOMEM) {
            conn_drop(c, true, "HTTP/2 session over its memory bound of %zu bytes",
                      s->o.conn_mem_bytes);
        } else {
            conn_drop(c, true, "HTTP/2: %s", nghttp2_strerror((int)used));
        }
    }
}

/* Serializes and writes frames until the socket pushes back or nothing is left. */
static void conn_flush(conn_t *c, int64_t now)
{
    for (;;) {
        while (tr_buf_unread(&c->out) < OUT_STAGE_BYTES) {
            const uint8_t *p = NULL;
            ssize_t n = nghttp2_session_mem_send(c->h2, &p);
            if (n < 0) {
                conn_drop(c, n == NGHTTP2_ERR_NOMEM, "HTTP/2 send: %s", nghttp2_strerror((int)n));
                return;
            }
            if (n == 0) {
                break;
            }
            if (tr_buf_unread(&c->out) == 0) {
                c->out_since_ns = now;
            }
            tr_buf_append(&c->out, p, (size_t)n);
        }
        size_t unread = tr_buf_unread(&c->out);
        if (unread == 0) {
            return;
        }
        ssize_t w = send(c->fd, tr_buf_head(&c->out), unread, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                conn_drop(c, false, "send: %s", strerror(errno));
            }
            return;
        }
        c->out.off += (size_t)w;
        c->out_since_ns = now;
        if (c->out.off == c->out.len) {
            tr_buf_reset(&c->out);
        } else {
            tr_buf_compact(&c->out);
            return; /* the socket is full */
        }
    }
}

/* Runs the due calls and submits what every call queued. */
static void conn_run_calls(tr_h2_server_t *s, conn_t *c, int64_t now)
{
    for (tr_h2_call_t *call = c->calls; call != NULL; call = call->next) {
        if (call->handed && !call->finished && s->o.proceed != NULL &&
            tr_buf_unread(&call->out) < s->o.out_high_water &&
            (now >= call->due_ns || call->was_full)) {
            call->due_ns = s->o.proceed(s->o.arg, call, now);
            call->was_full = tr_buf_unread(&call->out) >= s->o.out_high_water;
        }
        int rc = call_submit(call);
        if (rc != 0) {
            conn_drop(c, rc == NGHTTP2_ERR_NOMEM, "HTTP/2 submit: %s", nghttp2_strerror(rc));
            return;
        }
    }
}

/* Enforces the timers; returns the next deadline (INT64_MAX: none). */
static int64_t conn_timers(tr_h2_server_t *s, conn_t *c, int64_t now)
{
    int64_t req_ns = (int64_t)s->o.request_timeout_ms * NS_PER_MS;
    int64_t next = INT64_MAX;
    for (tr_h2_call_t *call = c->calls; call != NULL; call = call->next) {
        int64_t due = INT64_MAX;
        if (!call->handed && !call->finished) {
            due = call->start_ns + req_ns;
            if (now >= due) {
                tr_grpc_verdict_t v = {200, TR_GRPC_DEADLINE_EXCEEDED,
                                       "request not complete within the request timeout"};
                call_refuse(call, &v);
                due = call->finish_ns + req_ns;
            }
        } else if (call->finished && !call->reset_sent) {
            due = call->finish_ns + req_ns;
            if (now >= due) {
                /* Answered, but the client neither reads the answer nor ends its side. */
                call->reset_sent = true;
                if (nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, call->stream_id,
                                              NGHTTP2_CANCEL) != 0) {
                    conn_drop(c, true, "cannot reset a stalled stream");
                    return now;
                }
                due = INT64_MAX;
            }
        } else if (call->handed && !call->finished && s->o.proceed != NULL &&
                   tr_buf_unread(&call->out) < s->o.out_high_water) {
            due = call->was_full ? now : call->due_ns; /* drained: produce more at once */
        }
        if (due < next) {
            next = due;
        }
    }
    if (c->n_calls == 0 && !c->goaway) {
        bool known = c->served || c->answered; /* a gRPC client, not a silent socket */
        int64_t idle = known ? (int64_t)s->o.idle_timeout_ms * NS_PER_MS : req_ns;
        int64_t due = c->idle_since_ns + idle;
        if (now >= due) {
            if (!known) {
                conn_drop(c, true, "no whole request within %u ms", s->o.request_timeout_ms);
                return now;
            }
            c->goaway = true; /* graceful: GOAWAY, then nghttp2 wants nothing more */
            if (nghttp2_session_terminate_session(c->h2, NGHTTP2_NO_ERROR) != 0) {
                conn_drop(c, false, "idle");
                return now;
            }
            tr_log_debug(s->name, "idle connection closed peer=%s conn=%" PRIu64, c->peer, c->id);
        } else if (due < next) {
            next = due;
        }
    }
    if (tr_buf_unread(&c->out) > 0 && s->o.write_timeout_ms != UINT32_MAX) {
        int64_t due = c->out_since_ns + (int64_t)s->o.write_timeout_ms * NS_PER_MS;
        if (now >= due) {
            conn_drop(c, true, "the client read nothing for %u ms", s->o.write_timeout_ms);
            return now;
        }
        if (due < next) {
            next = due;
        }
    }
    return next;
}

/* ---------------------------------------------------------------- thread */

static void drain_wake(tr_h2_server_t *s)
{
    uint64_t v;
    while (read(s->wake_fd, &v, sizeof(v)) > 0) {
    }
}

static void *server_thread(void *arg)
{
    tr_thread_name("tr-notify");
    tr_h2_server_t *s = arg;
    size_t max_fds = 1 + s->n_lfds + s->o.max_conns;
    struct pollfd *pfd = tr_calloc(max_fds, sizeof(*pfd));
    conn_t **polled = tr_calloc(max_fds, sizeof(*polled));
    while (!atomic_load(&s->stopping)) {
        int64_t now = (int64_t)tr_clock_mono_ns();
        if (atomic_exchange(&s->woken, false)) {
            for (size_t i = 0; i < s->n_conns; i++) {
                for (tr_h2_call_t *call = s->conns[i]->calls; call != NULL; call = call->next) {
                    call->due_ns = 0;
                }
            }
        }
        int64_t next = INT64_MAX;
        for (size_t i = 0; i < s->n_conns; i++) {
            conn_t *c = s->conns[i];
            if (!c->dead) {
                conn_run_calls(s, c, now);
            }
            if (!c->dead) {
                conn_flush(c, now);
            }
            if (!c->dead) {
                int64_t due = conn_timers(s, c, now);
                next = due < next ? due : next;
            }
            if (!c->dead) {
                conn_run_calls(s, c, now); /* a timer may have answered a call */
                conn_flush(c, now);
            }
            if (!c->dead && !nghttp2_session_want_read(c->h2) &&
                !nghttp2_session_want_write(c->h2) && tr_buf_unread(&c->out) == 0) {
                conn_drop(c, false, c->goaway ? "idle" : "HTTP/2 session ended");
            }
        }
        for (size_t i = s->n_conns; i-- > 0;) {
            if (s->conns[i]->dead) {
                conn_close(s, i);
            }
        }

        size_t n = 0;
        pfd[n++] = (struct pollfd){.fd = s->wake_fd, .events = POLLIN};
        bool accepting = now >= s->accept_paused_until;
        if (!accepting && s->accept_paused_until < next) {
            next = s->accept_paused_until;
        }
        for (size_t i = 0; i < s->n_lfds; i++) {
            pfd[n++] = (struct pollfd){.fd = s->lfds[i], .events = accepting ? POLLIN : 0};
        }
        size_t first_conn = n;
        for (size_t i = 0; i < s->n_conns; i++) {
            conn_t *c = s->conns[i];
            short ev = 0;
            if (tr_buf_unread(&c->out) > 0) {
                ev |= POLLOUT; /* not read until the client takes what it is owed */
            } else {
                ev |= POLLIN;
            }
            polled[n] = c;
            pfd[n++] = (struct pollfd){.fd = c->fd, .events = ev};
        }
        struct timespec ts;
        struct timespec *tsp = NULL;
        if (next != INT64_MAX) {
            int64_t d = next - (int64_t)tr_clock_mono_ns();
            d = d < 0 ? 0 : d;
            ts.tv_sec = (time_t)(d / 1000000000LL);
            ts.tv_nsec = (long)(d % 1000000000LL);
            tsp = &ts;
        }
        int rc = ppoll(pfd, n, tsp, NULL);
        if (rc < 0) {
            continue; /* EINTR */
        }
        if (pfd[0].revents != 0) {
            drain_wake(s);
        }
        now = (int64_t)tr_clock_mono_ns();
        for (size_t i = first_conn; i < n; i++) {
            if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                conn_t *c = polled[i];
                if (!c->dead) {
                    conn_read(s, c);
                }
            }
        }
        for (size_t i = 1; i < first_conn; i++) {
            if (pfd[i].revents & POLLIN) {
                accept_all(s, pfd[i].fd, now);
            }
        }
    }
    while (s->n_conns > 0) {
        conn_t *c = s->conns[s->n_conns - 1];
        if (!c->dead) {
            conn_drop(c, false, "server stopping");
        }
        conn_close(s, s->n_conns - 1);
    }
    tr_free(pfd);
    tr_free(polled);
    return NULL;
}

/* ---------------------------------------------------------------- public */

static void server_free(tr_h2_server_t *s)
{
    for (size_t i = 0; i < s->n_lfds; i++) {
        (void)close(s->lfds[i]);
    }
    if (s->wake_fd >= 0) {
        (void)close(s->wake_fd);
    }
    for (size_t i = 0; i < s->o.n_paths; i++) {
        tr_free((void *)s->paths[i]);
    }
    tr_free(s->paths);
    tr_free(s->conns);
    tr_free(s->rbuf);
    tr_free(s);
}

/* Splits "host:port" / "[v6]:port" into host and port. Returns 0 or TR_ECONFIG. */
static int split_addr(const char *addr, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || colon[1] == '\0' || strlen(colon + 1) >= pcap) {
        return TR_ECONFIG;
    }
    const char *h = addr;
    size_t hl = (size_t)(colon - addr);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= hcap) {
        return TR_ECONFIG;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    snprintf(port, pcap, "%s", colon + 1);
    return 0;
}

static int listen_all(tr_h2_server_t *s, const char **why)
{
    char host[256];
    char port[16];
    if (split_addr(s->addr, host, sizeof(host), port, sizeof(port)) != 0) {
        *why = "listen address is not host:port";
        return TR_ECONFIG;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    struct addrinfo *res = NULL;
    if (getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &res) != 0) {
        *why = "cannot resolve the listen address";
        return -EADDRNOTAVAIL;
    }
    int err = 0;
    for (struct addrinfo *ai = res; ai != NULL && s->n_lfds < MAX_LISTENERS; ai = ai->ai_next) {
        if (s->port != 0) { /* port 0: every address gets the port the first one got */
            if (ai->ai_family == AF_INET) {
                ((struct sockaddr_in *)ai->ai_addr)->sin_port = htons((uint16_t)s->port);
            } else if (ai->ai_family == AF_INET6) {
                ((struct sockaddr_in6 *)ai->ai_addr)->sin6_port = htons((uint16_t)s->port);
            }
        }
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6) {
            (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
            err = errno;
            (void)close(fd);
            continue;
        }
        struct sockaddr_storage sa;
        socklen_t sl = sizeof(sa);
        if (s->port == 0 && getsockname(fd, (struct sockaddr *)&sa, &sl) == 0) {
            s->port = sa.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port)
                                               : ntohs(((struct sockaddr_in *)&sa)->sin_port);
        }
        s->lfds[s->n_lfds++] = fd;
    }
    freeaddrinfo(res);
    if (s->n_lfds == 0) {
        *why = err == EADDRINUSE ? "address in use" : "cannot bind or listen on the address";
        return err != 0 ? -err : -EADDRNOTAVAIL;
    }
    return 0;
}

int tr_h2_server_start(const tr_h2_server_opts_t *o, tr_h2_server_t **out, const char **why)
{
    *out = NULL;
    if (o->addr == NULL || o->on_call == NULL || o->paths == NULL || o->n_paths == 0 ||
        o->n_paths > INT32_MAX) {
        *why = "bad HTTP/2 server options";
        return TR_ECONFIG;
    }
    tr_h2_server_t *s = tr_calloc(1, sizeof(*s));
    s->wake_fd = -1;
    s->o = *o;
    s->o.max_conns = o->max_conns ? o->max_conns : 32;
    s->o.max_streams = o->max_streams ? o->max_streams : 4;
    s->o.max_request_bytes = o->max_request_bytes ? o->max_request_bytes : 4096;
    s->o.request_timeout_ms = o->request_timeout_ms ? o->request_timeout_ms : 10000;
    s->o.idle_timeout_ms = o->idle_timeout_ms ? o->idle_timeout_ms : 60000;
    s->o.write_timeout_ms = o->write_timeout_ms ? o->write_timeout_ms : 10000;
    s->o.conn_mem_bytes = o->conn_mem_bytes ? o->conn_mem_bytes : (1u << 20);
    s->o.out_high_water = o->out_high_water ? o->out_high_water : (64u << 10);
    s->o.max_frame_bytes = o->max_frame_bytes ? o->max_frame_bytes : 16384;
    snprintf(s->addr, sizeof(s->addr), "%s", o->addr);
    snprintf(s->name, sizeof(s->name), "%s", o->log_name != NULL ? o->log_name : "h2");
    s->o.log_name = s->name;
    s->o.addr = s->addr;
    s->paths = tr_calloc(o->n_paths, sizeof(*s->paths));
    for (size_t i = 0; i < o->n_paths; i++) {
        s->paths[i] = tr_strdup(o->paths[i]);
    }
    s->o.paths = (const char *const *)s->paths;
    s->conns = tr_calloc(s->o.max_conns, sizeof(*s->conns));
    s->rbuf = tr_malloc(READ_BYTES);
    atomic_init(&s->stopping, false);
    atomic_init(&s->woken, false);
    int rc = listen_all(s, why);
    if (rc != 0) {
        server_free(s);
        return rc;
    }
    s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->wake_fd < 0) {
        rc = -errno;
        *why = "eventfd";
        server_free(s);
        return rc;
    }
    rc = pthread_create(&s->thread, NULL, server_thread, s);
    if (rc != 0) {
        *why = "cannot start the HTTP/2 server thread";
        server_free(s);
        return -rc;
    }
    s->thread_started = true;
    *out = s;
    return 0;
}

int tr_h2_server_port(const tr_h2_server_t *s)
{
    return s->port;
}

void tr_h2_server_wake(tr_h2_server_t *s)
{
    atomic_store(&s->woken, true);
    uint64_t one = 1;
    /* Only fails when the counter would overflow: it is readable then anyway. */
    (void)!write(s->wake_fd, &one, sizeof(one));
}

void tr_h2_server_stats(const tr_h2_server_t *s, tr_h2_server_stats_t *out)
{
    out->conns_accepted = atomic_load(&s->st_accepted);
    out->conns_refused = atomic_load(&s->st_refused);
    out->conns_dropped = atomic_load(&s->st_dropped);
    out->conns_open = atomic_load(&s->st_open);
    out->calls_served = atomic_load(&s->st_served);
    out->calls_refused = atomic_load(&s->st_call_refused);
}

void tr_h2_server_stop(tr_h2_server_t *s)
{
    if (s == NULL) {
        return;
    }
    atomic_store(&s->stopping, true);
    uint64_t one = 1;
    (void)!write(s->wake_fd, &one, sizeof(one));
    if (s->thread_started) {
        int rc = pthread_join(s->thread, NULL);
        TR_ASSERT(rc == 0);
    }
    server_free(s);
}
