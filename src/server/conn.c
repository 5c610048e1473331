/*
 * Client TCP connection (see conn.h). Thin libuv glue: no protocol
 * knowledge, no logging of payload bytes.
 *
 * TLS: one SSL object per connection between two memory BIOs. Socket reads
 * land in a raw chunk, go into the read BIO, and SSL_read drains plaintext
 * into the input buffer; whatever OpenSSL produces (handshake records,
 * encrypted application data, alerts, close_notify) is taken from the write
 * BIO and queued as one uv_write, so the order of the byte stream is the
 * order of the calls.
 */
#include "server/conn.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "common/err.h"
#include "common/mem.h"
#include "server/sender.h"

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
    tr_send_chan_t *chan; /* writes offloaded to the sender (tr_conn_offload) */
    bool flush_then_detach; /* closing gracefully: detach once the queue is empty */
    bool graceful;          /* closing: shut down (not just close) once detached */
    SSL *ssl;            /* NULL: plaintext */
    BIO *rbio;           /* owned by ssl: ciphertext from the peer */
    BIO *wbio;           /* owned by ssl: ciphertext to the peer */
    uint8_t *raw;        /* TLS: socket read chunk (READ_CHUNK bytes), only during a read */
    const char *tls_why; /* OpenSSL reason of the last TLS failure */
    char peer[64];
    char peer_ip[48];
};

typedef struct {
    uv_write_t req;
    tr_send_job_t job; /* when the connection's writes are offloaded */
    tr_conn_t *conn;
    uint8_t *data;
    size_t len;
    size_t cap; /* data's allocated size (TR_CONN_POOL_BUF: back to the pool) */
    void (*release)(void *ref); /* set: data is borrowed, release(ref) once written */
    void *ref;
} write_req_t;

/*
 * Recycled write storage (loop thread only). Dump batches are written and
 * freed at a high rate; from mmap (the mmap threshold was 128 KiB then) every
 * one cost page faults, zeroing and an munmap (a fifth of the serving CPU
 * under perf with 100 readers). A few buffers of one size are kept instead: POOL_MAX x
 * TR_CONN_POOL_BUF bounds what stays resident after a burst. Shared dump
 * batches (dump.c) come from here too and return when evicted, so the pool
 * also absorbs the churn of that cache.
 */
#define POOL_MAX     32
#define POOL_IDLE_MS 1000 /* unused this long: tr_conn_pool_trim frees it */
static uint8_t *pool[POOL_MAX];
static int pool_n;
static uint64_t pool_used_ms;

void tr_conn_pool_buf(tr_buf_t *b, uint64_t now_ms)
{
    if (b->cap != 0) {
        return;
    }
    pool_used_ms = now_ms;
    b->data = pool_n > 0 ? pool[--pool_n] : tr_malloc(TR_CONN_POOL_BUF);
    b->cap = TR_CONN_POOL_BUF;
    b->len = 0;
    b->off = 0;
}

static void pool_put(uint8_t *data, size_t cap)
{
    if (cap == TR_CONN_POOL_BUF && pool_n < POOL_MAX) {
        pool[pool_n++] = data;
    } else {
        tr_free(data);
    }
}

void tr_conn_pool_done(tr_buf_t *b)
{
    if (b->data != NULL) {
        pool_put(b->data, b->cap);
    }
    b->data = NULL;
    b->cap = 0;
    b->len = 0;
    b->off = 0;
    b->failed = false;
}

uint64_t tr_conn_pool_last_use(void)
{
    return pool_used_ms;
}

void tr_conn_pool_trim(uint64_t now_ms)
{
    if (pool_n > 0 && now_ms - pool_used_ms >= POOL_IDLE_MS) {
        tr_conn_pool_release();
        /* The replicas went idle: what the burst left free in any arena (write queues,
         * batches; tr_mem_tune keeps buffers below 32 MiB on the heap) goes back. */
        tr_mem_trim();
    }
}

void tr_conn_pool_release(void)
{
    while (pool_n > 0) {
        tr_free(pool[--pool_n]);
    }
}

static void on_close(uv_handle_t *h)
{
    tr_conn_t *c = h->data;
    void (*cb)(void *) = c->cbs.on_closed;
    void *arg = c->arg;
    tr_buf_cleanup(&c->in);
    SSL_free(c->ssl);
    tr_free(c->raw);
    tr_free(c);
    if (cb != NULL) {
        cb(arg);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    tr_conn_t *c = h->data;
    if (c->ssl != NULL) {
        if (c->raw == NULL) {
            c->raw = tr_malloc(READ_CHUNK);
        }
        buf->base = (char *)c->raw;
        buf->len = READ_CHUNK;
        return;
    }
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

/* ---------------------------------------------------------------- raw writes */

static void on_write(uv_write_t *req, int status);

static void write_done(write_req_t *w)
{
    if (w->release != NULL) {
        w->release(w->ref);
    } else {
        pool_put(w->data, w->cap);
    }
    tr_free(w);
}

/* Queues len bytes at data: taken (cap bytes allocated) when release is NULL,
 * else borrowed until release(ref), which runs exactly once. */
static int raw_write(tr_conn_t *c, uint8_t *data, size_t len, size_t cap,
                     void (*release)(void *ref), void *ref)
{
    write_req_t *w = tr_malloc(sizeof(*w));
    w->conn = c;
    w->data = data;
    w->len = len;
    w->cap = cap;
    w->release = release;
    w->ref = ref;
    if (c->chan != NULL) {
        w->job.data = data;
        w->job.len = len;
        int rc = tr_sender_queue(c->chan, &w->job);
        if (rc != 0) {
            write_done(w);
            return rc;
        }
        c->queued_bytes += len;
        return 0;
    }
    uv_buf_t ub = uv_buf_init((char *)w->data, (unsigned int)w->len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &ub, 1, on_write);
    if (rc != 0) {
        write_done(w);
        return rc;
    }
    c->queued_bytes += len;
    return 0;
}

/* ---------------------------------------------------------------- TLS */

/* Remembers OpenSSL's reason for a failure and clears its error queue. */
static int tls_fail(tr_conn_t *c)
{
    unsigned long e = ERR_peek_last_error();
    const char *why = e ? ERR_reason_error_string(e) : NULL;
    c->tls_why = why ? why : "TLS protocol error";
    ERR_clear_error();
    return UV_EPROTO;
}

/* Sends whatever OpenSSL wrote into the write BIO. */
static int tls_flush(tr_conn_t *c)
{
    size_t n = BIO_ctrl_pending(c->wbio);
    if (n == 0) {
        return 0;
    }
    uint8_t *data = tr_malloc(n);
    int got = BIO_read(c->wbio, data, (int)n);
    if (got != (int)n) {
        tr_free(data);
        return tls_fail(c);
    }
    return raw_write(c, data, n, n, NULL, NULL);
}

/*
 * Room for n more bytes in c->in under TLS. The plaintext there may be a
 * password (caching_sha2_password's full path over TLS sends it itself, and
 * the session wipes it where it reads it): making room must leave no other
 * copy, so the tail tr_buf_compact vacates is wiped, and growing copies to a
 * new block and wipes the old one instead of realloc (which would free it
 * with the bytes in it).
 */
static uint8_t *tls_reserve(tr_buf_t *b, size_t n)
{
    size_t old_len = b->len;
    tr_buf_compact(b);
    if (b->len < old_len) {
        OPENSSL_cleanse(b->data + b->len, old_len - b->len);
    }
    size_t limit = b->limit ? b->limit : SIZE_MAX;
    if (b->failed || b->len == 0 || n > limit - b->len || b->len + n <= b->cap) {
        return tr_buf_reserve(b, n); /* no data to move, or no growth */
    }
    /* Within the limit (checked above), and tr_realloc does not return NULL:
     * reserving the new block cannot fail. */
    tr_buf_t nb;
    tr_buf_init(&nb, b->limit);
    tr_buf_reserve(&nb, b->len + n);
    tr_buf_append(&nb, b->data, b->len);
    OPENSSL_cleanse(b->data, b->cap);
    tr_buf_cleanup(b);
    *b = nb;
    return b->data + b->len;
}

/*
 * Advances the handshake and decrypts every complete record into c->in.
 * Returns 0 (*got_data tells whether plaintext arrived), UV_EOF on the
 * peer's close_notify, UV_ENOBUFS past the input limit, UV_EPROTO, or a
 * write error.
 */
static int tls_pump(tr_conn_t *c, bool *got_data)
{
    *got_data = false;
    int rc = 0;
    if (!SSL_is_init_finished(c->ssl)) {
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            rc = e == SSL_ERROR_WANT_READ ? 0 : tls_fail(c);
            int frc = tls_flush(c); /* the handshake answer, or an alert */
            return rc != 0 ? rc : frc;
        }
    }
    for (;;) {
        uint8_t *p = tls_reserve(&c->in, READ_CHUNK);
        if (p == NULL) {
            rc = UV_ENOBUFS;
            break;
        }
        int r = SSL_read(c->ssl, p, READ_CHUNK);
        if (r > 0) {
            c->in.len += (size_t)r;
            *got_data = true;
            continue;
        }
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ) {
            break;
        }
        rc = e == SSL_ERROR_ZERO_RETURN ? UV_EOF : tls_fail(c);
        break;
    }
    int frc = tls_flush(c);
    return rc != 0 ? rc : frc;
}

static void tls_on_read(tr_conn_t *c, const char *p, size_t n)
{
    bool got = false;
    int rc = BIO_write(c->rbio, p, (int)n) == (int)n ? 0 : tls_fail(c);
    if (rc == 0) {
        rc = tls_pump(c, &got);
    }
    if (got && c->cbs.on_data != NULL) {
        c->cbs.on_data(c, c->arg);
    }
    if (rc != 0 && !c->closing && c->cbs.on_error != NULL) {
        c->cbs.on_error(c, rc, c->arg);
    }
}

int tr_conn_start_tls(tr_conn_t *c, const tr_tls_t *tls)
{
    if (c->closing) {
        return TR_ECLOSED;
    }
    if (c->ssl != NULL || !tr_tls_enabled(tls)) {
        return TR_EUNSUPPORTED;
    }
    SSL *ssl = SSL_new(tr_tls_ssl_ctx(tls));
    BIO *rbio = BIO_new(BIO_s_mem());
    BIO *wbio = BIO_new(BIO_s_mem());
    if (ssl == NULL || rbio == NULL || wbio == NULL) {
        SSL_free(ssl);
        BIO_free(rbio);
        BIO_free(wbio);
        return tls_fail(c);
    }
    /* An empty memory BIO reports "retry" instead of EOF. */
    BIO_set_mem_eof_return(rbio, -1);
    BIO_set_mem_eof_return(wbio, -1);
    SSL_set_bio(ssl, rbio, wbio);
    SSL_set_accept_state(ssl);
    c->ssl = ssl;
    c->rbio = rbio;
    c->wbio = wbio;
    /* Bytes after the SSLRequest already are the ClientHello. */
    size_t left = tr_buf_unread(&c->in);
    int rc = 0;
    if (left > 0) {
        rc = BIO_write(rbio, tr_buf_head(&c->in), (int)left) == (int)left ? 0 : tls_fail(c);
    }
    tr_buf_reset(&c->in);
    if (rc == 0 && left > 0) {
        bool got = false;
        rc = tls_pump(c, &got);
    }
    return rc;
}

bool tr_conn_is_tls(const tr_conn_t *c)
{
    return c->ssl != NULL;
}

const char *tr_conn_tls_version(const tr_conn_t *c)
{
    return c->ssl && SSL_is_init_finished(c->ssl) ? SSL_get_version(c->ssl) : NULL;
}

const char *tr_conn_tls_cipher(const tr_conn_t *c)
{
    return c->ssl && SSL_is_init_finished(c->ssl) ? SSL_get_cipher_name(c->ssl) : NULL;
}

const char *tr_conn_tls_error(const tr_conn_t *c)
{
    return c->tls_why;
}

/* ---------------------------------------------------------------- reading */

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
    if (c->ssl != NULL) {
        tls_on_read(c, buf->base, (size_t)n);
        /* The ciphertext is in the read BIO now: an idle TLS connection keeps no chunk. */
        tr_free(c->raw);
        c->raw = NULL;
        return;
    }
    /* on_alloc reserved room at the end of c->in; commit the bytes read. */
    c->in.len += (size_t)n;
    if (c->cbs.on_data != NULL) {
        c->cbs.on_data(c, c->arg);
    }
}

/* Fills c->peer / c->peer_ip from the socket ("?" when it has no IP peer: a socketpair). */
static void note_peer(tr_conn_t *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    snprintf(c->peer, sizeof(c->peer), "?");
    snprintf(c->peer_ip, sizeof(c->peer_ip), "?");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0) {
        return;
    }
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
    } else {
        return;
    }
    snprintf(c->peer_ip, sizeof(c->peer_ip), "%s", ip);
    snprintf(c->peer, sizeof(c->peer), "%s:%d", ip, port);
}

/* A connection on the socket that attach puts into c->tcp (uv_accept or uv_tcp_open). */
static int conn_new(uv_loop_t *loop, int (*attach)(tr_conn_t *c, void *src), void *src,
                    const tr_conn_cbs_t *cbs, void *arg, size_t max_input, tr_conn_t **out)
{
    tr_conn_t *c = tr_calloc(1, sizeof(*c));
    int rc = uv_tcp_init(loop, &c->tcp);
    if (rc != 0) {
        tr_free(c);
        return rc;
    }
    c->tcp.data = c;
    c->cbs = *cbs;
    c->arg = arg;
    c->max_input = max_input;
    tr_buf_init(&c->in, max_input);
    rc = attach(c, src);
    if (rc == 0) {
        (void)uv_tcp_nodelay(&c->tcp, 1);
        note_peer(c);
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

static int attach_accept(tr_conn_t *c, void *listener)
{
    return uv_accept(listener, (uv_stream_t *)&c->tcp);
}

static int attach_fd(tr_conn_t *c, void *fd)
{
    int rc = uv_tcp_open(&c->tcp, *(int *)fd);
    if (rc != 0) {
        (void)close(*(int *)fd); /* not the handle's: ours to close */
    }
    return rc;
}

int tr_conn_accept(uv_stream_t *listener, const tr_conn_cbs_t *cbs, void *arg, size_t max_input,
                   tr_conn_t **out)
{
    return conn_new(listener->loop, attach_accept, listener, cbs, arg, max_input, out);
}

int tr_conn_open(uv_loop_t *loop, int fd, const tr_conn_cbs_t *cbs, void *arg, size_t max_input,
                 tr_conn_t **out)
{
    return conn_new(loop, attach_fd, &fd, cbs, arg, max_input, out);
}

tr_buf_t *tr_conn_input(tr_conn_t *c)
{
    return &c->in;
}

/* A write completed, through libuv or a sender thread: its storage goes, and the
 * connection drains, or, closing gracefully with offloaded writes, detaches once
 * nothing is left (the last bytes may be libuv's, from before the offload). */
static void write_finished(write_req_t *w, int status)
{
    tr_conn_t *c = w->conn;
    c->queued_bytes -= w->len;
    write_done(w);
    if (c->closing) {
        if (c->flush_then_detach && c->queued_bytes == 0) {
            c->flush_then_detach = false;
            tr_sender_detach(c->chan);
        }
        return;
    }
    if (c->cbs.on_drain != NULL) {
        c->cbs.on_drain(c, status, c->arg);
    }
}

static void on_write(uv_write_t *req, int status)
{
    write_finished((write_req_t *)req, status);
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
    if (c->ssl != NULL) {
        /* Memory BIO: SSL_write takes everything at once (or fails). */
        int r = n > INT32_MAX ? -1 : SSL_write(c->ssl, tr_buf_head(b), (int)n);
        tr_buf_reset(b);
        if (r != (int)n) {
            return tls_fail(c);
        }
        return tls_flush(c);
    }
    uint8_t *data;
    size_t cap = n;
    if (b->off == 0) {
        /* Take the storage itself: no copy. */
        data = b->data;
        cap = b->cap;
        size_t limit = b->limit;
        b->data = NULL;
        b->cap = 0;
        b->len = 0;
        b->off = 0;
        b->failed = false;
        b->limit = limit;
    } else {
        data = tr_malloc(n);
        memcpy(data, tr_buf_head(b), n);
        tr_buf_reset(b);
    }
    return raw_write(c, data, n, cap, NULL, NULL);
}

int tr_conn_write_ref(tr_conn_t *c, const uint8_t *data, size_t len, void (*release)(void *ref),
                      void *ref)
{
    if (c->closing) {
        release(ref);
        return TR_ECLOSED;
    }
    if (len == 0) {
        release(ref);
        return 0;
    }
    if (c->ssl != NULL) {
        /* Encrypted into the TLS output at once: the bytes are not kept. */
        int r = len > INT32_MAX ? -1 : SSL_write(c->ssl, data, (int)len);
        release(ref);
        if (r != (int)len) {
            return tls_fail(c);
        }
        return tls_flush(c);
    }
    /* libuv reads the bytes only (uv_buf_t has no const). */
    return raw_write(c, (uint8_t *)(uintptr_t)data, len, 0, release, ref);
}

/* ---------------------------------------------------------------- offloaded writes */

static tr_sender_t *sender; /* loop thread; NULL: every write through libuv */

static void close_now(tr_conn_t *c);

static void on_sent(tr_send_job_t *job)
{
    write_finished((write_req_t *)(void *)((char *)job - offsetof(write_req_t, job)),
                   job->status);
}

static void on_detached(void *arg)
{
    tr_conn_t *c = arg;
    c->chan = NULL;
    close_now(c);
}

int tr_conn_sender_start(uv_loop_t *loop, int threads)
{
    static const tr_sender_cbs_t cbs = {.done = on_sent, .detached = on_detached};
    if (sender != NULL) {
        return 0;
    }
    return tr_sender_start(loop, threads, &cbs, &sender);
}

void tr_conn_sender_stop(void (*closed)(void *arg), void *arg)
{
    tr_sender_t *s = sender;
    sender = NULL;
    if (s != NULL) {
        tr_sender_stop(s, closed, arg);
    } else if (closed != NULL) {
        closed(arg);
    }
}

bool tr_conn_offload(tr_conn_t *c)
{
    if (c->chan != NULL) {
        return true;
    }
    /* Not for TLS (its state is the loop's), and only once libuv has handed
     * every byte to the kernel (callbacks may still be due): the byte stream
     * keeps the order of the calls. */
    if (sender == NULL || c->ssl != NULL || c->closing ||
        uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > 0) {
        return false;
    }
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0) {
        return false;
    }
    c->chan = tr_sender_open(sender, fd, c);
    return c->chan != NULL;
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
    c->graceful = graceful;
    if (c->reading) {
        (void)uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
    if (c->chan != NULL) {
        /* The sender must forget the fd before it is closed: flush first when
         * graceful, then detach (on_detached closes). */
        if (graceful && c->queued_bytes > 0) {
            c->flush_then_detach = true;
        } else {
            tr_sender_detach(c->chan);
        }
        return;
    }
    close_now(c);
}

static void close_now(tr_conn_t *c)
{
    if (c->graceful) {
        if (c->ssl != NULL && SSL_is_init_finished(c->ssl)) {
            /* close_notify; the peer's answer is not awaited. */
            (void)SSL_shutdown(c->ssl);
            if (tls_flush(c) != 0) {
                ERR_clear_error();
            }
        }
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
