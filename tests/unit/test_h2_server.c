/*
 * The gRPC server on libnghttp2 (relay/h2_server.c) and the Notify server on
 * it (relay/discovery.c, static mode), over loopback sockets only. A small
 * HTTP/2 client written here with nghttp2 plays gRPC clients, good and bad:
 * a unary call (HEADERS, DATA, trailers grpc-status 0), refusals with their
 * grpc-status (unknown method 12, not POST 405, not application/grpc 415,
 * half a message / no message / two messages / bad flag byte 3, a declared
 * length over the limit 8), a deferred answer woken from another thread, a
 * server stream paced by the high-water mark, and raw sockets for what no
 * client library sends: garbage instead of the preface, half a frame and
 * silence, a request dribbled slower than the request timeout, more
 * connections than allowed. After every abuse a good call still works.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "common/err.h"
#include "common/mem.h"
#include "protocol/grpc_frame.h"
#include "relay/discovery.h"
#include "relay/h2_server.h"
#include "tr_test.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    (void)nanosleep(&ts, NULL);
}

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* True when the server closes fd (EOF or reset) within timeout_ms; bytes it
 * sends before (a GOAWAY, SETTINGS) are read and dropped. */
static bool closed_by_peer(int fd, int timeout_ms)
{
    int64_t until = mono_ms() + timeout_ms;
    for (;;) {
        int64_t left = until - mono_ms();
        if (left <= 0) {
            return false;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0) {
            continue;
        }
        uint8_t buf[4096];
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            return true;
        }
    }
}

static bool send_all(int fd, const void *p, size_t n)
{
    return send(fd, p, n, MSG_NOSIGNAL) == (ssize_t)n;
}

/* ---------------------------------------------------------------- a small client */

typedef struct {
    int fd;
    nghttp2_session *h2;
    int32_t stream_id;
    const uint8_t *body; /* request DATA bytes */
    size_t body_len;
    size_t body_off;
    bool end_stream; /* END_STREAM after the body (false: hold the stream open) */
    /* Response. */
    int http_status;
    char content_type[64];
    bool has_grpc_status;
    int grpc_status;
    char grpc_message[256];
    uint8_t data[1 << 16];
    size_t data_len;
    size_t data_total; /* all DATA bytes, also past data[] */
    bool closed;
    uint32_t close_code;
    bool conn_lost;
} client_t;

static ssize_t cl_send(nghttp2_session *h2, const uint8_t *data, size_t len, int flags, void *ud)
{
    client_t *c = ud;
    ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
    if (n < 0) {
        return errno == EAGAIN ? NGHTTP2_ERR_WOULDBLOCK : NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return n;
}

static ssize_t cl_body(nghttp2_session *h2, int32_t stream_id, uint8_t *buf, size_t len,
                       uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    client_t *c = ud;
    size_t n = c->body_len - c->body_off;
    n = n < len ? n : len;
    memcpy(buf, c->body + c->body_off, n);
    c->body_off += n;
    if (c->body_off == c->body_len) {
        if (!c->end_stream) {
            return n > 0 ? (ssize_t)n : NGHTTP2_ERR_DEFERRED;
        }
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return (ssize_t)n;
}

static int cl_header(nghttp2_session *h2, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *ud)
{
    client_t *c = ud;
    char v[256];
    size_t n = valuelen < sizeof(v) - 1 ? valuelen : sizeof(v) - 1;
    memcpy(v, value, n);
    v[n] = '\0';
    if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
        c->http_status = atoi(v);
    } else if (namelen == 12 && memcmp(name, "content-type", 12) == 0) {
        snprintf(c->content_type, sizeof(c->content_type), "%.63s", v);
    } else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0) {
        c->has_grpc_status = true;
        c->grpc_status = atoi(v);
    } else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0) {
        tr_grpc_message_decode(value, valuelen, c->grpc_message, sizeof(c->grpc_message));
    }
    return 0;
}

static int cl_data(nghttp2_session *h2, uint8_t flags, int32_t stream_id, const uint8_t *data,
                   size_t len, void *ud)
{
    client_t *c = ud;
    size_t room = sizeof(c->data) - c->data_len;
    size_t n = len < room ? len : room;
    memcpy(c->data + c->data_len, data, n);
    c->data_len += n;
    c->data_total += len;
    return 0;
}

static int cl_close(nghttp2_session *h2, int32_t stream_id, uint32_t code, void *ud)
{
    client_t *c = ud;
    if (stream_id == c->stream_id) {
        c->closed = true;
        c->close_code = code;
    }
    return 0;
}

static bool client_open(client_t *c, int port)
{
    memset(c, 0, sizeof(*c));
    c->fd = connect_port(port);
    if (c->fd < 0) {
        return false;
    }
    nghttp2_session_callbacks *cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_send_callback(cbs, cl_send);
    nghttp2_session_callbacks_set_on_header_callback(cbs, cl_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, cl_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, cl_close);
    nghttp2_session_client_new(&c->h2, cbs, c);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, NULL, 0);
    return true;
}

static void client_close(client_t *c)
{
    if (c->h2 != NULL) {
        nghttp2_session_del(c->h2);
    }
    if (c->fd >= 0) {
        close(c->fd);
    }
    c->h2 = NULL;
    c->fd = -1;
}

#define HV(n, v) {(uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE}

/* Submits a request: method, path, content-type (NULL: none), body bytes. */
static void client_request(client_t *c, const char *method, const char *path, const char *ctype,
                           const uint8_t *body, size_t len, bool end_stream)
{
    nghttp2_nv nva[6] = {
        HV(":method", method), HV(":scheme", "http"), HV(":path", path),
        HV(":authority", "localhost"), HV("te", "trailers"),
    };
    size_t n = 5;
    if (ctype != NULL) {
        nva[n++] = (nghttp2_nv)HV("content-type", ctype);
    }
    c->body = body;
    c->body_len = len;
    c->body_off = 0;
    c->end_stream = end_stream;
    nghttp2_data_provider prd = {.source.ptr = NULL, .read_callback = cl_body};
    bool no_body = len == 0 && end_stream;
    c->stream_id = nghttp2_submit_request(c->h2, NULL, nva, n, no_body ? NULL : &prd, NULL);
}

/* Runs the session until the stream closes, the connection is lost or timeout_ms. */
static void client_run(client_t *c, int timeout_ms)
{
    int64_t until = mono_ms() + timeout_ms;
    while (!c->closed && !c->conn_lost) {
        if (nghttp2_session_send(c->h2) != 0) {
            c->conn_lost = true;
            break;
        }
        int64_t left = until - mono_ms();
        if (left <= 0) {
            break;
        }
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, (int)(left < 50 ? left : 50)) <= 0) {
            continue;
        }
        uint8_t buf[16384];
        ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
        if (r <= 0) {
            c->conn_lost = true;
            break;
        }
        if (nghttp2_session_mem_recv(c->h2, buf, (size_t)r) < 0) {
            c->conn_lost = true;
        }
    }
}

/* One call on a new connection. */
static void call_once(client_t *c, int port, const char *method, const char *path,
                      const char *ctype, const uint8_t *body, size_t len)
{
    if (!client_open(c, port)) {
        TR_FAIL_AT("cannot connect to port %d", port);
        return;
    }
    client_request(c, method, path, ctype, body, len, true);
    client_run(c, 5000);
}

/* ---------------------------------------------------------------- the server under test */

#define PATH_ECHO   "/test.Svc/Echo"
#define PATH_LATER  "/test.Svc/Later"
#define PATH_STREAM "/test.Svc/Stream"

static const char *const test_paths[] = {PATH_ECHO, PATH_LATER, PATH_STREAM};

typedef struct {
    atomic_bool release; /* Later calls may answer */
    atomic_int closed;   /* on_close count */
    atomic_int calls;    /* on_call count */
} handler_t;

typedef struct {
    int sent;
} stream_state_t;

static void h_call(void *arg, tr_h2_call_t *call, int idx, tr_slice_t msg)
{
    handler_t *h = arg;
    atomic_fetch_add(&h->calls, 1);
    if (idx == 0) { /* echo the request message twice, then OK */
        tr_h2_call_send(call, msg.p, msg.len);
        tr_h2_call_send(call, msg.p, msg.len);
        tr_h2_call_finish(call, TR_GRPC_OK, NULL);
    } else if (idx == 2) {
        tr_h2_call_set_data(call, tr_calloc(1, sizeof(stream_state_t)));
    }
}

static int64_t h_proceed(void *arg, tr_h2_call_t *call, int64_t now_ns)
{
    handler_t *h = arg;
    stream_state_t *st = tr_h2_call_data(call);
    if (st == NULL) { /* Later */
        if (atomic_load(&h->release)) {
            tr_h2_call_send(call, "later", 5);
            tr_h2_call_finish(call, TR_GRPC_UNAVAILABLE, "answered later: 100%");
        }
        return INT64_MAX; /* woken by tr_h2_server_wake */
    }
    /* Stream: 1 KiB messages while under the high-water mark, 2000 in all. */
    static uint8_t kib[1024];
    while (st->sent < 2000 && tr_h2_call_queued(call) < 8192) {
        kib[0] = (uint8_t)st->sent;
        tr_h2_call_send(call, kib, sizeof(kib));
        st->sent++;
    }
    if (st->sent == 2000) {
        tr_h2_call_finish(call, TR_GRPC_OK, NULL);
    }
    return INT64_MAX;
}

static void h_close(void *arg, tr_h2_call_t *call)
{
    handler_t *h = arg;
    tr_free(tr_h2_call_data(call));
    atomic_fetch_add(&h->closed, 1);
}

static tr_h2_server_t *start_server(handler_t *h, uint32_t max_conns, uint32_t request_timeout_ms)
{
    memset(h, 0, sizeof(*h));
    tr_h2_server_opts_t o = {
        .addr = "127.0.0.1:0",
        .log_name = "h2test",
        .paths = test_paths,
        .n_paths = 3,
        .on_call = h_call,
        .proceed = h_proceed,
        .on_close = h_close,
        .arg = h,
        .max_conns = max_conns,
        .max_request_bytes = 1024,
        .request_timeout_ms = request_timeout_ms,
        .out_high_water = 8192,
    };
    tr_h2_server_t *s = NULL;
    const char *why = NULL;
    int rc = tr_h2_server_start(&o, &s, &why);
    if (rc != 0) {
        TR_FAIL_AT("server did not start: %s", why ? why : "?");
        return NULL;
    }
    EXPECT_TRUE(tr_h2_server_port(s) > 0);
    return s;
}

static const uint8_t hello[] = {0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'};

/* A good unary call works: the server is still healthy. */
static void expect_echo_works(int port)
{
    client_t c;
    call_once(&c, port, "POST", PATH_ECHO, "application/grpc", hello, sizeof(hello));
    EXPECT_TRUE(c.closed);
    EXPECT_EQ_INT(c.close_code, NGHTTP2_NO_ERROR);
    EXPECT_EQ_INT(c.http_status, 200);
    EXPECT_EQ_STR(c.content_type, "application/grpc");
    EXPECT_TRUE(c.has_grpc_status);
    EXPECT_EQ_INT(c.grpc_status, 0);
    uint8_t want[20];
    memcpy(want, hello, 10);
    memcpy(want + 10, hello, 10);
    EXPECT_EQ_MEM(c.data, c.data_len, want, sizeof(want));
    client_close(&c);
}

static bool wait_stat(tr_h2_server_t *s, size_t offset, uint64_t want, int timeout_ms)
{
    int64_t until = mono_ms() + timeout_ms;
    for (;;) {
        tr_h2_server_stats_t st;
        tr_h2_server_stats(s, &st);
        if (*(uint64_t *)((char *)&st + offset) >= want) {
            return true;
        }
        if (mono_ms() > until) {
            return false;
        }
        sleep_ms(10);
    }
}

/* ---------------------------------------------------------------- tests */

TR_TEST(h2_unary_call_and_refusals)
{
    handler_t h;
    tr_h2_server_t *s = start_server(&h, 8, 2000);
    if (s == NULL) {
        return;
    }
    int port = tr_h2_server_port(s);
    expect_echo_works(port);

    struct {
        const char *method, *path, *ctype;
        const uint8_t *body;
        size_t len;
        int http, grpc;
    } cases[] = {
        {"POST", "/test.Svc/Nope", "application/grpc", hello, sizeof(hello), 200, 12},
        {"GET", PATH_ECHO, "application/grpc", NULL, 0, 405, 12},
        {"POST", PATH_ECHO, "application/json", hello, sizeof(hello), 415, 3},
        {"POST", PATH_ECHO, NULL, hello, sizeof(hello), 415, 3},
        {"POST", PATH_ECHO, "application/grpc", hello, 7, 200, 3},                /* half */
        {"POST", PATH_ECHO, "application/grpc", hello, 3, 200, 3},                /* half prefix */
        {"POST", PATH_ECHO, "application/grpc", NULL, 0, 200, 3},                 /* none */
        {"POST", PATH_ECHO, "application/grpc", (const uint8_t *)"\x02\0\0\0\0", 5, 200, 3},
        {"POST", PATH_ECHO, "application/grpc", (const uint8_t *)"\x00\x7f\xff\xff\xff", 5, 200, 8},
        {"POST", PATH_ECHO, "application/grpc", (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0", 10, 200,
         3}, /* two empty messages */
    };
    for (size_t i = 0; i < TR_ARRAY_LEN(cases); i++) {
        client_t c;
        call_once(&c, port, cases[i].method, cases[i].path, cases[i].ctype, cases[i].body,
                  cases[i].len);
        if (!c.closed || c.http_status != cases[i].http || !c.has_grpc_status ||
            c.grpc_status != cases[i].grpc) {
            TR_FAIL_AT("case %zu: closed=%d http=%d grpc=%d(%d) message=\"%s\"", i, c.closed,
                       c.http_status, c.has_grpc_status ? c.grpc_status : -1, cases[i].grpc,
                       c.grpc_message);
        }
        EXPECT_TRUE(c.grpc_message[0] != '\0');
        EXPECT_EQ_INT(c.data_len, 0); /* Trailers-Only */
        client_close(&c);
    }
    tr_h2_server_stats_t st;
    tr_h2_server_stats(s, &st);
    EXPECT_EQ_U64(st.calls_refused, TR_ARRAY_LEN(cases));
    EXPECT_EQ_U64(st.calls_served, 1);
    expect_echo_works(port);
    tr_h2_server_stop(s);
    EXPECT_EQ_INT(atomic_load(&h.calls), 2);
    EXPECT_EQ_INT(atomic_load(&h.closed), 2);
}

TR_TEST(h2_refused_before_the_request_ends_resets_the_stream)
{
    handler_t h;
    tr_h2_server_t *s = start_server(&h, 8, 2000);
    if (s == NULL) {
        return;
    }
    /* Over the limit from the prefix, the rest never sent: answered at once,
     * then RST_STREAM(NO_ERROR) tells the client to stop. */
    client_t c;
    if (client_open(&c, tr_h2_server_port(s))) {
        client_request(&c, "POST", PATH_ECHO, "application/grpc",
                       (const uint8_t *)"\x00\x00\x10\x00\x00", 5, false);
        client_run(&c, 1500);
        EXPECT_TRUE(c.closed);
        EXPECT_EQ_INT(c.grpc_status, TR_GRPC_RESOURCE_EXHAUSTED);
        EXPECT_EQ_INT(c.close_code, NGHTTP2_NO_ERROR);
    }
    client_close(&c);
    tr_h2_server_stop(s);
}

static void *release_later(void *arg)
{
    void **a = arg;
    handler_t *h = a[0];
    sleep_ms(200);
    atomic_store(&h->release, true);
    tr_h2_server_wake(a[1]);
    return NULL;
}

TR_TEST(h2_deferred_answer_and_server_stream)
{
    handler_t h;
    tr_h2_server_t *s = start_server(&h, 8, 2000);
    if (s == NULL) {
        return;
    }
    int port = tr_h2_server_port(s);
    /* Later: answered from proceed once another thread wakes the server. */
    void *args[2] = {&h, s};
    pthread_t t;
    pthread_create(&t, NULL, release_later, args);
    int64_t t0 = mono_ms();
    client_t c;
    call_once(&c, port, "POST", PATH_LATER, "application/grpc", hello, sizeof(hello));
    int64_t took = mono_ms() - t0;
    pthread_join(t, NULL);
    EXPECT_TRUE(c.closed);
    EXPECT_TRUE(took >= 150 && took < 3000);
    EXPECT_EQ_INT(c.http_status, 200);
    EXPECT_EQ_INT(c.grpc_status, TR_GRPC_UNAVAILABLE);
    EXPECT_EQ_STR(c.grpc_message, "answered later: 100%");
    static const uint8_t later[] = {0, 0, 0, 0, 5, 'l', 'a', 't', 'e', 'r'};
    EXPECT_EQ_MEM(c.data, c.data_len, later, sizeof(later));
    client_close(&c);

    /* Stream: 2000 messages of 1 KiB produced 8 KiB at a time, all in order. */
    call_once(&c, port, "POST", PATH_STREAM, "application/grpc", hello, sizeof(hello));
    EXPECT_TRUE(c.closed);
    EXPECT_EQ_INT(c.grpc_status, 0);
    EXPECT_EQ_U64(c.data_total, 2000u * (5 + 1024));
    EXPECT_EQ_INT(c.data[5], 0);
    EXPECT_EQ_INT(c.data[5 + 1029], 1);
    client_close(&c);
    tr_h2_server_stop(s);
    EXPECT_EQ_INT(atomic_load(&h.closed), 2);
}

TR_TEST(h2_garbage_half_frames_and_slow_clients)
{
    handler_t h;
    tr_h2_server_t *s = start_server(&h, 8, 500);
    if (s == NULL) {
        return;
    }
    int port = tr_h2_server_port(s);
    size_t dropped = offsetof(tr_h2_server_stats_t, conns_dropped);

    /* Not the preface (an HTTP/1.1 request, TLS, random bytes): closed at once. */
    static const struct {
        const char *p;
        size_t len;
    } garbage[] = {
        {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27},
        {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11}, /* a TLS ClientHello */
        {"\xff\xfe\xfd\x00garbage", 11},
    };
    for (size_t i = 0; i < 3; i++) {
        int fd = connect_port(port);
        EXPECT_TRUE(send_all(fd, garbage[i].p, garbage[i].len));
        int64_t t0 = mono_ms();
        EXPECT_TRUE(closed_by_peer(fd, 3000));
        EXPECT_TRUE(mono_ms() - t0 < 400); /* not the timeout: at once */
        close(fd);
    }
    EXPECT_TRUE(wait_stat(s, dropped, 3, 2000));

    /* The preface, then half a frame header, then silence: dropped after the timeout. */
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    int fd = connect_port(port);
    EXPECT_TRUE(send_all(fd, preface, sizeof(preface) - 1));
    EXPECT_TRUE(send_all(fd, "\x00\x00\x06\x04", 4)); /* 4 of a SETTINGS header's 9 bytes */
    EXPECT_TRUE(closed_by_peer(fd, 3000));
    close(fd);
    EXPECT_TRUE(wait_stat(s, dropped, 4, 2000));

    /* A connection that never sends a byte: dropped after the timeout too. */
    fd = connect_port(port);
    EXPECT_TRUE(closed_by_peer(fd, 3000));
    close(fd);

    /* Half a frame then the client closes: nothing to answer, nothing leaks. */
    fd = connect_port(port);
    EXPECT_TRUE(send_all(fd, preface, sizeof(preface) - 1));
    EXPECT_TRUE(send_all(fd, "\x00\x00", 2));
    close(fd);

    /* Slowloris on a stream: HEADERS and 3 bytes of the message, the rest never comes. */
    client_t c;
    if (client_open(&c, port)) {
        client_request(&c, "POST", PATH_ECHO, "application/grpc", hello, 3, false);
        int64_t t0 = mono_ms();
        client_run(&c, 3000);
        EXPECT_TRUE(c.closed);
        EXPECT_EQ_INT(c.grpc_status, TR_GRPC_DEADLINE_EXCEEDED);
        EXPECT_TRUE(mono_ms() - t0 >= 400);
    }
    client_close(&c);

    expect_echo_works(port);
    tr_h2_server_stop(s);
    EXPECT_EQ_INT(atomic_load(&h.calls), 1);
}

TR_TEST(h2_connection_limit)
{
    handler_t h;
    tr_h2_server_t *s = start_server(&h, 4, 2000);
    if (s == NULL) {
        return;
    }
    int port = tr_h2_server_port(s);
    int fds[6];
    for (int i = 0; i < 6; i++) {
        fds[i] = connect_port(port);
    }
    /* Four are kept; the two over the limit are closed at once. */
    EXPECT_TRUE(wait_stat(s, offsetof(tr_h2_server_stats_t, conns_refused), 2, 2000));
    tr_h2_server_stats_t st;
    tr_h2_server_stats(s, &st);
    EXPECT_EQ_U64(st.conns_open, 4);
    EXPECT_TRUE(closed_by_peer(fds[4], 1000) || closed_by_peer(fds[5], 1000));
    for (int i = 0; i < 6; i++) {
        close(fds[i]);
    }
    /* Once they are gone, calls work again. */
    int64_t until = mono_ms() + 2000;
    do {
        tr_h2_server_stats(s, &st);
        sleep_ms(10);
    } while (st.conns_open > 0 && mono_ms() < until);
    expect_echo_works(port);
    tr_h2_server_stop(s);
}

TR_TEST(h2_bad_options_and_addresses)
{
    tr_h2_server_opts_t o = {.addr = "127.0.0.1:0", .paths = test_paths, .n_paths = 3};
    tr_h2_server_t *s = NULL;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_h2_server_start(&o, &s, &why), TR_ECONFIG); /* no on_call */
    o.on_call = h_call;
    o.addr = "no-port";
    EXPECT_EQ_INT(tr_h2_server_start(&o, &s, &why), TR_ECONFIG);
    EXPECT_TRUE(s == NULL);
    /* In use. */
    handler_t h;
    tr_h2_server_t *a = start_server(&h, 4, 1000);
    if (a != NULL) {
        char addr[64];
        snprintf(addr, sizeof(addr), "127.0.0.1:%d", tr_h2_server_port(a));
        o.addr = addr;
        EXPECT_EQ_INT(tr_h2_server_start(&o, &s, &why), -EADDRINUSE);
        tr_h2_server_stop(a);
    }
    tr_h2_server_stop(NULL);
}

/* ---------------------------------------------------------------- Notify */

TR_TEST(notify_server_static_mode)
{
    tr_notify_server_t *ns = NULL;
    const char *why = NULL;
    int rc = tr_notify_server_start("127.0.0.1:0", NULL, &ns, &why);
    EXPECT_EQ_INT(rc, 0);
    if (rc != 0) {
        return;
    }
    int port = tr_notify_server_port(ns);
    /* NotifyReq{}: an empty NotifyResp and OK. */
    static const uint8_t empty[] = {0, 0, 0, 0, 0};
    client_t c;
    call_once(&c, port, "POST", "/binlog.Cistern/Notify", "application/grpc", empty, 5);
    EXPECT_TRUE(c.closed);
    EXPECT_EQ_INT(c.http_status, 200);
    EXPECT_EQ_INT(c.grpc_status, 0);
    EXPECT_EQ_MEM(c.data, c.data_len, empty, sizeof(empty));
    client_close(&c);
    /* Unknown fields are fine (proto3). */
    static const uint8_t unknown[] = {0, 0, 0, 0, 2, 0x08, 0x01};
    call_once(&c, port, "POST", "/binlog.Cistern/Notify", "application/grpc", unknown, 7);
    EXPECT_EQ_INT(c.grpc_status, 0);
    client_close(&c);
    /* Not protobuf: INVALID_ARGUMENT. */
    static const uint8_t junk[] = {0, 0, 0, 0, 3, 0xff, 0xff, 0xff};
    call_once(&c, port, "POST", "/binlog.Cistern/Notify", "application/grpc", junk, 8);
    EXPECT_EQ_INT(c.grpc_status, TR_GRPC_INVALID_ARGUMENT);
    EXPECT_TRUE(strstr(c.grpc_message, "NotifyReq") != NULL);
    client_close(&c);
    /* Other Cistern methods are not served. */
    call_once(&c, port, "POST", "/binlog.Cistern/DumpBinlog", "application/grpc", empty, 5);
    EXPECT_EQ_INT(c.grpc_status, TR_GRPC_UNIMPLEMENTED);
    client_close(&c);
    /* Garbage on the port, then a good call. */
    int fd = connect_port(port);
    static const char junk_bytes[] = "\x01\x02\x03 not http/2 at all";
    EXPECT_TRUE(send_all(fd, junk_bytes, sizeof(junk_bytes) - 1));
    EXPECT_TRUE(closed_by_peer(fd, 2000));
    close(fd);
    call_once(&c, port, "POST", "/binlog.Cistern/Notify", "application/grpc", empty, 5);
    EXPECT_EQ_INT(c.grpc_status, 0);
    client_close(&c);
    tr_notify_server_stop(ns);
}

TR_TEST_MAIN()
