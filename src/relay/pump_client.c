/*
 * One Pump puller: a thread that calls /binlog.Pump/PullBinlogs (server
 * streaming) over its own HTTP/2 connection (libnghttp2, cleartext with prior
 * knowledge, as grpc-go servers accept) and hands every binlog to the
 * delivery callback, in strictly increasing commit_ts order.
 *
 * Why not gRPC core: it hands a message over only once it is complete, in its
 * own slices, so a transaction (TiDB Binlog sends each as ONE PullBinlogResp)
 * cost its whole size in memory. Here the DATA frames are read as they come:
 * a message below the spool threshold goes into one exact-size heap buffer, a
 * larger one is written to an unlinked spool file and delivered as a
 * read-only mapping (relay/spool.h).
 *
 * Follows Drainer's puller (shared/spec/tidb-binlog.md section 2.4, TB
 * drainer/pump.go): request PullBinlogReq{clusterID, startFrom.offset = last
 * delivered commit_ts}; each PullBinlogResp carries Entity.payload, a
 * marshalled binlog.Binlog whose commit_ts is authoritative (Entity.meta is
 * ignored); a commit_ts at or below the last delivered one is dropped with a
 * rate-limited warning; a payload that does not decode is skipped (logged),
 * as Drainer does; on stream end or error the client logs once, backs off
 * (100 ms doubling to 5 s, reset after a delivered binlog) and reconnects
 * from the last delivered commit_ts.
 *
 * gRPC over HTTP/2 (grpc/grpc doc/PROTOCOL-HTTP2.md): request HEADERS
 * :method POST, :scheme http, :path /binlog.Pump/PullBinlogs, :authority,
 * content-type application/grpc (exactly: TB pump/server.go routes on it with
 * cmux), te trailers, user-agent; one Length-Prefixed-Message and END_STREAM.
 * The response is HEADERS (:status 200), DATA with length-prefixed messages,
 * and trailers with grpc-status / grpc-message (or all in one Trailers-Only
 * HEADERS). No grpc-accept-encoding is sent, so a compressed message is an
 * error.
 *
 * Flow control and backpressure: 16 MiB stream and connection windows keep a
 * large transaction flowing at full speed. The callback runs on this thread
 * inside nghttp2's receive call and may block: the socket is then not read,
 * and HTTP/2 and TCP flow control stop the Pump.
 *
 * Liveness: a Pump sends a fake binlog every 3 s when idle (TB pump/server.go
 * genBinlogInterval). After KEEPALIVE_TIME_MS without a byte from the peer the
 * client sends a PING and drops the connection if no answer comes within
 * KEEPALIVE_WAIT_MS. grpc-go servers count a ping as a strike unless they sent
 * data since the previous one (default EnforcementPolicy.MinTime 5 min, three
 * strikes -> GOAWAY too_many_pings; grpc-go internal/transport
 * http2_server.go handlePing, keepalive/keepalive.go), so a second ping
 * without data in between waits PING_NO_DATA_MS.
 *
 * Threading: the pump thread owns the socket and the session. Other threads
 * only set `stopping` and signal the eventfd, which the thread polls together
 * with the socket (and sleeps on while backing off).
 */
#include "relay/pump_client.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/thread.h"
#include "protocol/grpc_frame.h"

#define PULL_PATH          "/binlog.Pump/PullBinlogs"
#define USER_AGENT         "tirelay/" TR_VERSION
#define BACKOFF_MIN_MS     100
#define BACKOFF_MAX_MS     5000
#define WARN_INTERVAL_MS   10000 /* repeated warnings of one kind: one line per interval */
#define CONNECT_TIMEOUT_MS 10000
#define KEEPALIVE_TIME_MS  30000  /* silence before a PING (default) */
#define KEEPALIVE_WAIT_MS  10000  /* PING without answer: the peer is dead (default) */
#define PING_NO_DATA_MS    300000 /* grpc-go EnforcementPolicy.MinTime default */
#define WINDOW_BYTES       (16 << 20) /* stream and connection receive windows */
#define MAX_FRAME_BYTES    (1 << 20)  /* SETTINGS_MAX_FRAME_SIZE we accept */
#define READ_BYTES         (256u << 10)

/* First warning of a kind is logged at once, the rest as a count per interval. */
typedef struct {
    int64_t last_ms; /* when the last line was written (0 = never) */
    uint64_t suppressed;
} warn_limit_t;

struct tr_pump_client {
    uint32_t pump_id;
    char *addr;
    char *host; /* addr split; brackets of an IPv6 literal removed */
    char *port;
    uint64_t cluster_id;
    tr_pump_deliver_cb deliver;
    tr_pump_deliver_owned_cb deliver_owned;
    void *arg;
    char *spool_dir; /* NULL: never spool */
    size_t spool_min_bytes;
    int keepalive_time_ms;
    int keepalive_wait_ms;
    _Atomic int64_t last_ts; /* last delivered commit_ts; written by the pump thread */

    pthread_t thread;
    atomic_bool stopping;
    int wake_fd; /* eventfd, readable once stopping */

    /* Pump thread only. */
    tr_buf_t req;   /* the request body: prefix + PullBinlogReq */
    uint8_t *rbuf;  /* READ_BYTES socket reads */
    bool connected; /* delivered something since the last failure was logged */
    warn_limit_t warn_backwards;
    warn_limit_t warn_malformed;
    warn_limit_t warn_stream;
};

/* One PullBinlogs call on one connection (the pump thread's stack). */
typedef struct {
    tr_pump_client_t *pc;
    int fd;
    nghttp2_session *h2;
    int32_t stream_id;
    size_t req_off; /* request body bytes handed to nghttp2 */
    int64_t offset; /* startFrom.offset asked for */

    /* Response. */
    int http_status;   /* 0 until the response HEADERS */
    bool grpc_content; /* content-type is application/grpc[+...] */
    bool has_grpc_status;
    int grpc_status;
    char grpc_message[256];
    bool stream_closed;
    uint32_t close_code; /* HTTP/2 error code the stream closed with */
    bool got_goaway;
    uint32_t goaway_code;

    /* Message framing. */
    uint8_t prefix[TR_GRPC_PREFIX_LEN];
    size_t prefix_fill;
    tr_spool_msg_t *msg; /* message being received, or NULL between messages */

    /* Liveness. */
    int64_t last_rx_ms;   /* last byte received, or the end of a delivery */
    int64_t ping_sent_ms; /* outstanding PING, 0 if none */
    int64_t last_ping_ms; /* previous PING, 0 if none */
    bool data_since_ping; /* HEADERS or DATA arrived since the previous PING */

    /* Outcome. */
    int cb_rc;       /* the callback's non-zero result */
    bool failed;     /* why[] holds the reason the stream was dropped */
    char why[512];
    bool progressed; /* a binlog was delivered */
} call_t;

/* Returns true if a warning should be written now; *suppressed gets the count
 * of warnings swallowed since the previous line. */
static bool warn_allowed(warn_limit_t *w, uint64_t *suppressed)
{
    int64_t now = tr_clock_mono_ms();
    if (w->last_ms != 0 && now - w->last_ms < WARN_INTERVAL_MS) {
        w->suppressed++;
        return false;
    }
    *suppressed = w->suppressed;
    w->suppressed = 0;
    w->last_ms = now;
    return true;
}

static bool is_stopping(tr_pump_client_t *pc)
{
    return atomic_load(&pc->stopping);
}

/* Records the first reason the call is dropped. */
TR_PRINTF(2, 3) static void call_fail(call_t *c, const char *fmt, ...)
{
    if (c->failed) {
        return;
    }
    c->failed = true;
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(c->why, sizeof(c->why), fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ one message */

/* Decodes, filters and delivers one complete PullBinlogResp (takes msg).
 * Returns 0 to keep streaming or the callback's non-zero result. */
static int handle_message(tr_pump_client_t *pc, tr_spool_msg_t *msg, bool *delivered)
{
    const uint8_t *data = tr_spool_msg_data(msg);
    size_t len = tr_spool_msg_len(msg);
    const char *why = NULL;
    tr_slice_t payload;
    tr_tidb_binlog_t b;
    int rc = tr_tidb_pull_resp_payload(data, len, &payload, &why);
    if (rc == 0) {
        ssize_t n = tr_tidb_binlog_decode(payload.p, payload.len, &b, &why);
        rc = n < 0 ? (int)n : 0;
    }
    if (rc != 0) {
        uint64_t n = 0;
        if (warn_allowed(&pc->warn_malformed, &n)) {
            tr_log_warn("pump",
                        "undecodable binlog skipped pump=%" PRIu32 " addr=%s err=%s why=%s "
                        "bytes=%zu suppressed=%" PRIu64,
                        pc->pump_id, pc->addr, tr_err_name(rc), why ? why : "", len, n);
        }
        tr_spool_msg_free(msg);
        return 0;
    }

    int64_t last = atomic_load(&pc->last_ts);
    if (b.commit_ts <= last) {
        uint64_t n = 0;
        if (warn_allowed(&pc->warn_backwards, &n)) {
            tr_log_warn("pump",
                        "pump went backwards, binlog dropped pump=%" PRIu32 " addr=%s "
                        "commit_ts=%" PRId64 " last_ts=%" PRId64 " suppressed=%" PRIu64,
                        pc->pump_id, pc->addr, b.commit_ts, last, n);
        }
        tr_spool_msg_free(msg);
        return 0;
    }
    int64_t commit_ts = b.commit_ts;
    if (pc->deliver_owned != NULL) {
        rc = pc->deliver_owned(pc->arg, pc->pump_id, &msg, payload.p, payload.len, &b);
    } else {
        rc = pc->deliver(pc->arg, pc->pump_id, payload.p, payload.len, &b);
    }
    if (rc == 0) {
        atomic_store(&pc->last_ts, commit_ts);
        *delivered = true;
    }
    tr_spool_msg_free(msg); /* NULL when the callback kept it */
    return rc;
}

/* A complete message arrived in c->msg: deliver it. Returns 0 or an nghttp2 error. */
static int message_done(call_t *c)
{
    tr_pump_client_t *pc = c->pc;
    tr_spool_msg_t *msg = c->msg;
    c->msg = NULL;
    int rc = tr_spool_msg_finish(msg);
    if (rc != 0) {
        call_fail(c, "cannot map the spooled message of %zu bytes: %s", tr_spool_msg_len(msg),
                  tr_strerror(rc));
        tr_spool_msg_free(msg);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    bool delivered = false;
    rc = handle_message(pc, msg, &delivered);
    c->last_rx_ms = tr_clock_mono_ms(); /* time spent blocked in the callback is not silence */
    if (delivered) {
        c->progressed = true;
        if (!pc->connected) {
            pc->connected = true;
            tr_log_info("pump", "pump streaming pump=%" PRIu32 " addr=%s offset=%" PRId64,
                        pc->pump_id, pc->addr, c->offset);
        }
    }
    if (rc != 0) {
        c->cb_rc = rc;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
}

/* Starts the message a complete prefix announces. Returns 0 or an nghttp2 error. */
static int message_begin(call_t *c)
{
    tr_pump_client_t *pc = c->pc;
    tr_grpc_prefix_t pf;
    const char *why = NULL;
    ssize_t n = tr_grpc_prefix_decode(c->prefix, sizeof(c->prefix), &pf, &why);
    c->prefix_fill = 0;
    if (n < 0) {
        call_fail(c, "%s (byte 0x%02x)", why, c->prefix[0]);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    if (pf.compressed) {
        call_fail(c, "compressed gRPC message (flag 1) of %" PRIu32
                     " bytes although the request accepts identity only",
                  pf.len);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    if (pc->spool_dir != NULL && pf.len > 0 && pf.len >= pc->spool_min_bytes) {
        int rc = tr_spool_msg_file(pc->spool_dir, pf.len, &c->msg);
        if (rc != 0) {
            call_fail(c, "cannot create a spool file for a message of %" PRIu32 " bytes in %s: %s",
                      pf.len, pc->spool_dir, tr_strerror(rc));
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        tr_log_debug("pump", "spooling a message pump=%" PRIu32 " bytes=%" PRIu32, pc->pump_id,
                     pf.len);
    } else {
        c->msg = tr_spool_msg_heap(pf.len);
    }
    if (pf.len == 0) {
        return message_done(c);
    }
    return 0;
}

/* ------------------------------------------------------------ nghttp2 callbacks */

static ssize_t on_send(nghttp2_session *h2, const uint8_t *data, size_t len, int flags, void *ud)
{
    call_t *c = ud;
    ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
    if (n >= 0) {
        return n;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        return NGHTTP2_ERR_WOULDBLOCK;
    }
    call_fail(c, "send: %s", strerror(errno));
    return NGHTTP2_ERR_CALLBACK_FAILURE;
}

static ssize_t read_request(nghttp2_session *h2, int32_t stream_id, uint8_t *buf, size_t len,
                            uint32_t *data_flags, nghttp2_data_source *src, void *ud)
{
    call_t *c = ud;
    tr_buf_t *req = &c->pc->req;
    size_t left = req->len - c->req_off;
    size_t n = left < len ? left : len;
    memcpy(buf, req->data + c->req_off, n);
    c->req_off += n;
    if (c->req_off == req->len) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return (ssize_t)n;
}

static int on_data_chunk(nghttp2_session *h2, uint8_t flags, int32_t stream_id,
                         const uint8_t *data, size_t len, void *ud)
{
    call_t *c = ud;
    if (stream_id != c->stream_id) {
        return 0;
    }
    c->data_since_ping = true;
    while (len > 0) {
        if (is_stopping(c->pc)) {
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        if (c->msg == NULL) {
            size_t take = sizeof(c->prefix) - c->prefix_fill;
            take = take < len ? take : len;
            memcpy(c->prefix + c->prefix_fill, data, take);
            c->prefix_fill += take;
            data += take;
            len -= take;
            if (c->prefix_fill == sizeof(c->prefix)) {
                int rc = message_begin(c);
                if (rc != 0) {
                    return rc;
                }
            }
            continue;
        }
        size_t want = tr_spool_msg_len(c->msg) - tr_spool_msg_filled(c->msg);
        size_t take = want < len ? want : len;
        int rc = tr_spool_msg_append(c->msg, data, take);
        if (rc != 0) {
            call_fail(c, "cannot write the spool file in %s (message of %zu bytes): %s",
                      c->pc->spool_dir ? c->pc->spool_dir : "?", tr_spool_msg_len(c->msg),
                      tr_strerror(rc));
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        data += take;
        len -= take;
        if (take == want) {
            rc = message_done(c);
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

static int on_header(nghttp2_session *h2, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *ud)
{
    call_t *c = ud;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->hd.stream_id != c->stream_id) {
        return 0;
    }
    if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
        int code = 0;
        c->http_status = tr_grpc_status_parse(value, valuelen, &code) == 0 ? code : -1;
    } else if (namelen == 12 && memcmp(name, "content-type", 12) == 0) {
        c->grpc_content = valuelen >= 16 && memcmp(value, "application/grpc", 16) == 0 &&
                          (valuelen == 16 || value[16] == '+' || value[16] == ';');
    } else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0) {
        int code = 0;
        if (tr_grpc_status_parse(value, valuelen, &code) == 0) {
            c->has_grpc_status = true;
            c->grpc_status = code;
        } else {
            c->has_grpc_status = true;
            c->grpc_status = 2; /* UNKNOWN, as PROTOCOL-HTTP2.md asks for a bad value */
        }
    } else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0) {
        (void)tr_grpc_message_decode(value, valuelen, c->grpc_message, sizeof(c->grpc_message));
    }
    return 0;
}

static int on_frame_recv(nghttp2_session *h2, const nghttp2_frame *frame, void *ud)
{
    call_t *c = ud;
    switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
        if (frame->hd.stream_id != c->stream_id) {
            break;
        }
        c->data_since_ping = true;
        if (frame->headers.cat == NGHTTP2_HCAT_RESPONSE) {
            if (c->http_status != 200 && !c->has_grpc_status) {
                call_fail(c, "HTTP status %d without grpc-status: not a gRPC server?",
                          c->http_status);
                return NGHTTP2_ERR_CALLBACK_FAILURE;
            }
            if (!c->grpc_content && !c->has_grpc_status) {
                call_fail(c, "response content-type is not application/grpc: not a gRPC server?");
                return NGHTTP2_ERR_CALLBACK_FAILURE;
            }
        }
        break;
    case NGHTTP2_PING:
        if (frame->hd.flags & NGHTTP2_FLAG_ACK) {
            c->ping_sent_ms = 0;
        }
        break;
    case NGHTTP2_GOAWAY:
        c->got_goaway = true;
        c->goaway_code = frame->goaway.error_code;
        tr_log_info("pump",
                    "pump sent GOAWAY pump=%" PRIu32 " addr=%s code=%s last_stream_id=%" PRId32,
                    c->pc->pump_id, c->pc->addr, nghttp2_http2_strerror(frame->goaway.error_code),
                    frame->goaway.last_stream_id);
        break;
    default:
        break;
    }
    return 0;
}

static int on_stream_close(nghttp2_session *h2, int32_t stream_id, uint32_t error_code, void *ud)
{
    call_t *c = ud;
    if (stream_id == c->stream_id) {
        c->stream_closed = true;
        c->close_code = error_code;
    }
    return 0;
}

/* ------------------------------------------------------------ connection */

/* Waits for fd (events) or the wake fd, up to timeout_ms (-1: forever).
 * Returns the fd's revents, 0 on timeout, or -1 when stopping. */
static int wait_fd(tr_pump_client_t *pc, int fd, short events, int timeout_ms)
{
    struct pollfd p[2] = {{.fd = pc->wake_fd, .events = POLLIN}, {.fd = fd, .events = events}};
    for (;;) {
        if (is_stopping(pc)) {
            return -1;
        }
        int n = poll(p, fd >= 0 ? 2 : 1, timeout_ms);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return 0;
        }
        if (p[0].revents != 0 || is_stopping(pc)) {
            return -1;
        }
        return p[1].revents;
    }
}

/* Opens a TCP connection to the Pump. Returns the socket, TR_ECLOSED when
 * stopping, or another negative code with c->why set. */
static int connect_pump(call_t *c)
{
    tr_pump_client_t *pc = c->pc;
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo *res = NULL;
    int grc = getaddrinfo(pc->host, pc->port, &hints, &res);
    if (grc != 0) {
        call_fail(c, "cannot resolve %s: %s", pc->host, gai_strerror(grc));
        return TR_EUPSTREAM;
    }
    int rc = TR_EUPSTREAM;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        ai->ai_protocol);
        if (fd < 0) {
            call_fail(c, "socket: %s", strerror(errno));
            continue;
        }
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        int err = 0;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            err = errno;
            if (err == EINPROGRESS) {
                int ev = wait_fd(pc, fd, POLLOUT, CONNECT_TIMEOUT_MS);
                if (ev < 0) {
                    (void)close(fd);
                    rc = TR_ECLOSED;
                    break;
                }
                socklen_t sl = sizeof(err);
                if (ev == 0) {
                    err = ETIMEDOUT;
                } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0) {
                    err = errno;
                }
            }
        }
        if (err == 0) {
            rc = fd;
            break;
        }
        c->failed = false; /* keep the last address's reason */
        call_fail(c, "connect: %s", strerror(err));
        (void)close(fd);
    }
    freeaddrinfo(res);
    return rc;
}

/* Creates the session, sends the preface, settings and the request. */
static int start_session(call_t *c)
{
    nghttp2_session_callbacks *cbs = NULL;
    if (nghttp2_session_callbacks_new(&cbs) != 0) {
        call_fail(c, "nghttp2: out of memory");
        return TR_EUPSTREAM;
    }
    nghttp2_session_callbacks_set_send_callback(cbs, on_send);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    int rc = nghttp2_session_client_new(&c->h2, cbs, c);
    nghttp2_session_callbacks_del(cbs);
    if (rc != 0) {
        call_fail(c, "nghttp2_session_client_new: %s", nghttp2_strerror(rc));
        return TR_EUPSTREAM;
    }
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, WINDOW_BYTES},
        {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, MAX_FRAME_BYTES},
    };
    rc = nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, TR_ARRAY_LEN(iv));
    if (rc == 0) {
        rc = nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, WINDOW_BYTES);
    }
    if (rc != 0) {
        call_fail(c, "nghttp2 settings: %s", nghttp2_strerror(rc));
        return TR_EUPSTREAM;
    }
    tr_pump_client_t *pc = c->pc;
#define NV(n, v)                                                                                   \
    {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v),                                     \
     NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE}
    nghttp2_nv nva[] = {
        NV(":method", "POST"),
        NV(":scheme", "http"),
        NV(":path", PULL_PATH),
        NV(":authority", pc->addr),
        NV("content-type", "application/grpc"),
        NV("te", "trailers"),
        NV("user-agent", USER_AGENT),
    };
#undef NV
    nghttp2_data_provider prd;
    memset(&prd, 0, sizeof(prd));
    prd.read_callback = read_request;
    c->req_off = 0;
    c->stream_id = nghttp2_submit_request(c->h2, NULL, nva, TR_ARRAY_LEN(nva), &prd, NULL);
    if (c->stream_id < 0) {
        call_fail(c, "nghttp2_submit_request: %s", nghttp2_strerror(c->stream_id));
        return TR_EUPSTREAM;
    }
    return 0;
}

/* Sends what nghttp2 has queued (as much as the socket takes). */
static int flush_send(call_t *c)
{
    int rc = nghttp2_session_send(c->h2);
    if (rc != 0) {
        call_fail(c, "nghttp2_session_send: %s", nghttp2_strerror(rc));
        return TR_EUPSTREAM;
    }
    return 0;
}

/* Sends a PING when the peer has been silent long enough; fails the call when
 * an earlier one went unanswered. Returns the poll timeout in ms, or -2 when
 * the peer is considered dead. */
static int keepalive(call_t *c)
{
    tr_pump_client_t *pc = c->pc;
    int64_t now = tr_clock_mono_ms();
    if (c->ping_sent_ms != 0) {
        if (c->last_rx_ms > c->ping_sent_ms) {
            c->ping_sent_ms = 0; /* anything received proves the peer alive */
        } else if (now - c->ping_sent_ms >= pc->keepalive_wait_ms) {
            call_fail(c, "no answer to a PING within %d ms: connection considered dead",
                      pc->keepalive_wait_ms);
            return -2;
        } else {
            return (int)(c->ping_sent_ms + pc->keepalive_wait_ms - now);
        }
    }
    int64_t due = c->last_rx_ms + pc->keepalive_time_ms;
    if (!c->data_since_ping && c->last_ping_ms != 0 && c->last_ping_ms + PING_NO_DATA_MS > due) {
        due = c->last_ping_ms + PING_NO_DATA_MS;
    }
    if (now < due) {
        return (int)(due - now);
    }
    uint8_t opaque[8] = {'t', 'i', 'r', 'e', 'l', 'a', 'y', 0};
    if (nghttp2_submit_ping(c->h2, NGHTTP2_FLAG_NONE, opaque) != 0) {
        call_fail(c, "cannot submit a PING");
        return -2;
    }
    tr_log_debug("pump", "pump silent, PING sent pump=%" PRIu32 " addr=%s silent_ms=%" PRId64,
                 pc->pump_id, pc->addr, now - c->last_rx_ms);
    c->ping_sent_ms = now;
    c->last_ping_ms = now;
    c->data_since_ping = false;
    return pc->keepalive_wait_ms;
}

/* Pumps the connection until the stream ends, fails or the client stops. */
static void run_session(call_t *c)
{
    tr_pump_client_t *pc = c->pc;
    c->last_rx_ms = tr_clock_mono_ms();
    while (!c->stream_closed && !c->failed && c->cb_rc == 0) {
        if (flush_send(c) != 0) {
            return;
        }
        if (!nghttp2_session_want_read(c->h2) && !nghttp2_session_want_write(c->h2)) {
            call_fail(c, "HTTP/2 session ended%s", c->got_goaway ? " (GOAWAY)" : "");
            return;
        }
        int timeout = keepalive(c);
        if (timeout == -2) {
            return;
        }
        if (flush_send(c) != 0) { /* a PING just queued */
            return;
        }
        short events = POLLIN;
        if (nghttp2_session_want_write(c->h2)) {
            events |= POLLOUT;
        }
        int ev = wait_fd(pc, c->fd, events, timeout);
        if (ev < 0) {
            return; /* stopping */
        }
        if (ev == 0) {
            continue; /* keepalive time */
        }
        if (ev & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(c->fd, pc->rbuf, READ_BYTES, 0);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                    continue;
                }
                call_fail(c, "recv: %s", strerror(errno));
                return;
            }
            if (n == 0) {
                call_fail(c, "connection closed by the Pump");
                return;
            }
            c->last_rx_ms = tr_clock_mono_ms();
            ssize_t used = nghttp2_session_mem_recv(c->h2, pc->rbuf, (size_t)n);
            if (used < 0) {
                if (!c->failed && c->cb_rc == 0 && !is_stopping(pc)) {
                    call_fail(c, "HTTP/2: %s", nghttp2_strerror((int)used));
                }
                return;
            }
        }
    }
}

/*
 * Runs one PullBinlogs call to its end. Returns 0 when the stream ended
 * cleanly (grpc-status OK), TR_ECLOSED when stopping, TR_EUPSTREAM on a
 * failure (logged, rate-limited), or the callback's non-zero result.
 * *progressed is set when at least one binlog was delivered.
 */
static int run_call(tr_pump_client_t *pc, bool *progressed)
{
    int64_t offset = atomic_load(&pc->last_ts);
    tr_buf_reset(&pc->req);
    uint8_t prefix[TR_GRPC_PREFIX_LEN] = {0};
    tr_buf_append(&pc->req, prefix, sizeof(prefix));
    tr_tidb_pull_req_encode(&pc->req, pc->cluster_id, offset);
    if (!tr_buf_ok(&pc->req)) {
        return TR_ETOOBIG; /* cannot happen: the buffer has no limit */
    }
    tr_grpc_prefix_encode(pc->req.data, (uint32_t)(pc->req.len - TR_GRPC_PREFIX_LEN));

    call_t *c = tr_calloc(1, sizeof(*c));
    c->pc = pc;
    c->fd = -1;
    c->offset = offset;
    tr_log_debug("pump", "pulling pump=%" PRIu32 " addr=%s offset=%" PRId64, pc->pump_id, pc->addr,
                 offset);
    int rc = connect_pump(c);
    if (rc >= 0) {
        c->fd = rc;
        rc = start_session(c);
        if (rc == 0) {
            run_session(c);
        }
    }
    *progressed = c->progressed;

    if (is_stopping(pc)) {
        rc = TR_ECLOSED;
    } else if (c->cb_rc != 0) {
        rc = c->cb_rc;
        tr_log_info("pump",
                    "pump stream closed by the consumer pump=%" PRIu32 " rc=%d last_ts=%" PRId64,
                    pc->pump_id, rc, atomic_load(&pc->last_ts));
        pc->connected = false;
    } else {
        bool partial = c->msg != NULL || c->prefix_fill > 0;
        if (!c->failed && c->stream_closed) {
            if (c->close_code != NGHTTP2_NO_ERROR) {
                call_fail(c, "stream reset by the Pump: %s",
                          nghttp2_http2_strerror(c->close_code));
            } else if (partial) {
                call_fail(c, "stream ended inside a message (%zu of %zu bytes), dropped",
                          c->msg ? tr_spool_msg_filled(c->msg) : 0,
                          c->msg ? tr_spool_msg_len(c->msg) : 0);
            } else if (!c->has_grpc_status) {
                call_fail(c, "stream ended without grpc-status");
            }
        }
        if (c->failed && partial && c->msg != NULL && strstr(c->why, "inside a message") == NULL) {
            size_t used = strlen(c->why);
            (void)snprintf(c->why + used, sizeof(c->why) - used,
                           "; a message of %zu bytes was incomplete (%zu received), dropped",
                           tr_spool_msg_len(c->msg), tr_spool_msg_filled(c->msg));
        }
        rc = !c->failed && c->has_grpc_status && c->grpc_status == 0 ? 0 : TR_EUPSTREAM;
        uint64_t n = 0;
        if (pc->connected || warn_allowed(&pc->warn_stream, &n)) {
            int st = c->has_grpc_status ? c->grpc_status : -1;
            tr_log_warn("pump",
                        "pump stream ended pump=%" PRIu32 " addr=%s grpc_status=%d(%s) "
                        "grpc_message=\"%s\" why=\"%s\" last_ts=%" PRId64
                        " failures_suppressed=%" PRIu64,
                        pc->pump_id, pc->addr, st, c->has_grpc_status ? tr_grpc_status_name(st) : "none",
                        c->grpc_message, c->failed ? c->why : "", atomic_load(&pc->last_ts), n);
            if (pc->connected) {
                /* First failure after streaming: logged at once (above); the
                 * failures that follow are counted per interval. */
                pc->warn_stream.last_ms = tr_clock_mono_ms();
                pc->warn_stream.suppressed = 0;
            }
        }
        pc->connected = false;
    }

    tr_spool_msg_free(c->msg); /* an incomplete message: nothing of it was delivered */
    if (c->h2 != NULL) {
        nghttp2_session_del(c->h2);
    }
    if (c->fd >= 0) {
        (void)close(c->fd);
    }
    tr_free(c);
    return rc;
}

/* ------------------------------------------------------------ thread */

/* Sleeps up to ms unless stopped; returns true if stopping. */
static bool backoff_sleep(tr_pump_client_t *pc, int64_t ms)
{
    int64_t until = tr_clock_mono_ms() + ms;
    for (;;) {
        int64_t left = until - tr_clock_mono_ms();
        if (left <= 0) {
            return is_stopping(pc);
        }
        if (wait_fd(pc, -1, 0, (int)left) < 0) {
            return true;
        }
    }
}

static void *pump_thread(void *varg)
{
    tr_thread_name("tr-pump");
    tr_pump_client_t *pc = varg;
    int64_t backoff_ms = BACKOFF_MIN_MS;
    while (!is_stopping(pc)) {
        bool progressed = false;
        int rc = run_call(pc, &progressed);
        if (rc == TR_ECLOSED) {
            break;
        }
        if (progressed) {
            backoff_ms = BACKOFF_MIN_MS;
        }
        if (backoff_sleep(pc, backoff_ms)) {
            break;
        }
        if (!progressed) {
            backoff_ms = backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff_ms * 2;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ public */

void tr_pump_client_global_init(void)
{
}

void tr_pump_client_global_shutdown(void)
{
}

/* Splits "host:port" / "[v6]:port". Returns 0 or TR_ECONFIG. */
static int split_addr(const char *addr, char **host, char **port)
{
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || colon[1] == '\0' || colon == addr) {
        return TR_ECONFIG;
    }
    const char *h = addr;
    size_t hlen = (size_t)(colon - addr);
    if (h[0] == '[') {
        if (hlen < 3 || h[hlen - 1] != ']') {
            return TR_ECONFIG;
        }
        h++;
        hlen -= 2;
    }
    *host = tr_strndup(h, hlen);
    *port = tr_strdup(colon + 1);
    return 0;
}

static void client_free(tr_pump_client_t *pc)
{
    if (pc->wake_fd >= 0) {
        (void)close(pc->wake_fd);
    }
    tr_buf_cleanup(&pc->req);
    tr_free(pc->rbuf);
    tr_free(pc->spool_dir);
    tr_free(pc->host);
    tr_free(pc->port);
    tr_free(pc->addr);
    tr_free(pc);
}

int tr_pump_client_start(const tr_pump_client_opts_t *opts, tr_pump_client_t **out)
{
    *out = NULL;
    if (opts->addr == NULL || opts->addr[0] == '\0' ||
        (opts->deliver == NULL) == (opts->deliver_owned == NULL)) {
        return TR_ECONFIG;
    }
    tr_pump_client_t *pc = tr_calloc(1, sizeof(*pc));
    pc->wake_fd = -1;
    pc->pump_id = opts->pump_id;
    pc->addr = tr_strdup(opts->addr);
    pc->cluster_id = opts->cluster_id;
    pc->deliver = opts->deliver;
    pc->deliver_owned = opts->deliver_owned;
    pc->arg = opts->arg;
    pc->spool_dir = opts->spool_dir != NULL ? tr_strdup(opts->spool_dir) : NULL;
    pc->spool_min_bytes = opts->spool_min_bytes != 0 ? opts->spool_min_bytes
                                                     : TR_PUMP_SPOOL_MIN_BYTES;
    pc->keepalive_time_ms = opts->keepalive_time_ms > 0 ? opts->keepalive_time_ms
                                                        : KEEPALIVE_TIME_MS;
    pc->keepalive_wait_ms = opts->keepalive_wait_ms > 0 ? opts->keepalive_wait_ms
                                                        : KEEPALIVE_WAIT_MS;
    atomic_init(&pc->last_ts, opts->start_commit_ts);
    atomic_init(&pc->stopping, false);
    tr_buf_init(&pc->req, 0);
    pc->rbuf = tr_malloc(READ_BYTES);
    if (split_addr(pc->addr, &pc->host, &pc->port) != 0) {
        client_free(pc);
        return TR_ECONFIG;
    }
    pc->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (pc->wake_fd < 0) {
        int e = errno;
        client_free(pc);
        return -e;
    }
    int rc = pthread_create(&pc->thread, NULL, pump_thread, pc);
    if (rc != 0) {
        client_free(pc);
        return -rc;
    }
    tr_log_info("pump", "pump client started pump=%" PRIu32 " addr=%s offset=%" PRId64, pc->pump_id,
                pc->addr, opts->start_commit_ts);
    *out = pc;
    return 0;
}

void tr_pump_client_cancel(tr_pump_client_t *pc)
{
    if (pc == NULL) {
        return;
    }
    atomic_store(&pc->stopping, true);
    uint64_t one = 1;
    /* Only fails when the counter would overflow: it is readable then anyway. */
    (void)!write(pc->wake_fd, &one, sizeof(one));
}

void tr_pump_client_stop(tr_pump_client_t *pc)
{
    if (pc == NULL) {
        return;
    }
    tr_pump_client_cancel(pc);
    int rc = pthread_join(pc->thread, NULL);
    TR_ASSERT(rc == 0);
    tr_log_info("pump", "pump client stopped pump=%" PRIu32 " addr=%s last_ts=%" PRId64,
                pc->pump_id, pc->addr, atomic_load(&pc->last_ts));
    client_free(pc);
}

int64_t tr_pump_client_last_ts(const tr_pump_client_t *pc)
{
    return atomic_load(&pc->last_ts);
}
