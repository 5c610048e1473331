/*
 * One client TCP connection on the loop: reads into an input buffer, writes
 * whole buffers (one uv_write each, ownership taken), reports the bytes still
 * queued for backpressure, and closes gracefully (pending writes flushed)
 * or at once. TLS lives here too (OpenSSL with memory BIOs: ciphertext read
 * from the socket goes into the SSL object, plaintext comes out into the
 * input buffer; writes are encrypted and the records queued as one uv_write),
 * so everything above sees plaintext, before and after tr_conn_start_tls.
 *
 * I/O layer: owns a uv_tcp_t; holds no protocol knowledge. Thread: loop.
 */
#ifndef TR_SERVER_CONN_H
#define TR_SERVER_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "common/buf.h"
#include "common/defs.h"
#include "server/tls.h"

typedef struct tr_conn tr_conn_t;

typedef struct {
    /* New bytes were appended to tr_conn_input(c). */
    void (*on_data)(tr_conn_t *c, void *arg);
    /* A write completed (status 0) or failed. */
    void (*on_drain)(tr_conn_t *c, int status, void *arg);
    /* The peer closed the connection or a read failed (status < 0: UV_EOF, ...). */
    void (*on_error)(tr_conn_t *c, int status, void *arg);
    /* The handle is closed and c is freed; runs once, after every write callback. */
    void (*on_closed)(void *arg);
} tr_conn_cbs_t;

/*
 * Accepts a pending connection on listener and starts reading. keeps cbs and
 * arg. max_input bounds the unread input (bytes). Returns 0 and the owned
 * connection in *out (release with tr_conn_close), or a negative libuv code.
 */
int tr_conn_accept(uv_stream_t *listener, const tr_conn_cbs_t *cbs, void *arg, size_t max_input,
                   tr_conn_t **out) TR_MUSTCHECK;
/* The same on a connected socket (a socketpair end in tests); takes fd (closed with the
 * connection, also on error). */
int tr_conn_open(uv_loop_t *loop, int fd, const tr_conn_cbs_t *cbs, void *arg, size_t max_input,
                 tr_conn_t **out) TR_MUSTCHECK;

/* Input buffer: decode at tr_buf_head, consume by advancing off. */
tr_buf_t *tr_conn_input(tr_conn_t *c);

/*
 * Queues b's unread bytes as one write; takes b's storage (b is left empty
 * and reusable). Returns 0, or a negative code when the connection is
 * closing or uv_write failed (the bytes are dropped).
 */
int tr_conn_write(tr_conn_t *c, tr_buf_t *b) TR_MUSTCHECK;

/*
 * Queues len bytes at data without taking or copying them: the caller holds
 * a reference that keeps them unchanged until release(ref), which runs
 * exactly once — after the kernel took the bytes, at once (TLS encrypts them
 * into its own output; closing; failure), or when the write is cancelled.
 * Returns 0 or a negative code as tr_conn_write. Shared dump batches.
 */
int tr_conn_write_ref(tr_conn_t *c, const uint8_t *data, size_t len, void (*release)(void *ref),
                      void *ref) TR_MUSTCHECK;

/*
 * Write storage recycled through a small pool (loop thread only; dump
 * batches). tr_conn_pool_buf gives an empty b without storage
 * TR_CONN_POOL_BUF bytes from the pool (no-op when b has storage);
 * tr_conn_write returns storage of that size to the pool once written;
 * tr_conn_pool_done hands b's storage back itself (b left empty);
 * tr_conn_pool_trim frees what the pool keeps once no buffer was taken for a
 * second, then the heap's free pages (idle replicas then hold nothing);
 * tr_conn_pool_release frees the pool now (at shutdown). now_ms: the loop's
 * clock (uv_now).
 */
#define TR_CONN_POOL_BUF (320u * 1024)
void tr_conn_pool_buf(tr_buf_t *b, uint64_t now_ms);
void tr_conn_pool_done(tr_buf_t *b);
void tr_conn_pool_trim(uint64_t now_ms);
/* When a buffer was last taken from the pool (the loop's clock; 0: never). */
uint64_t tr_conn_pool_last_use(void);
void tr_conn_pool_release(void);

/*
 * Offloaded writes (server/sender.h): tr_conn_sender_start starts sender
 * threads for the loop (idempotent); tr_conn_offload moves a connection's
 * later writes to one of them — plaintext connections only, and only once
 * nothing is queued in libuv, so the byte stream keeps the order of the
 * calls (false: it stays on the loop; try again later). Completions,
 * on_drain and closing behave as before. tr_conn_sender_stop: once every
 * offloaded connection is closed, the threads end and closed(arg) runs.
 */
int tr_conn_sender_start(uv_loop_t *loop, int threads);
bool tr_conn_offload(tr_conn_t *c);
void tr_conn_sender_stop(void (*closed)(void *arg), void *arg);

/* Bytes accepted by tr_conn_write and not yet handed to the kernel. */
size_t tr_conn_queued_bytes(const tr_conn_t *c);

/* "ip:port" of the peer and the ip alone (valid while c lives). */
const char *tr_conn_peer(const tr_conn_t *c);
const char *tr_conn_peer_ip(const tr_conn_t *c);

/* Stops / restarts reading. */
void tr_conn_pause(tr_conn_t *c);
void tr_conn_resume(tr_conn_t *c);

/*
 * Closes: graceful = flush queued writes first (uv_shutdown), else drop them.
 * Idempotent; on_closed runs once afterwards and then c is freed.
 */
void tr_conn_close(tr_conn_t *c, bool graceful);

bool tr_conn_is_closing(const tr_conn_t *c);

/*
 * Switches the connection to TLS as the server side (after the MySQL
 * SSLRequest). Every input byte not yet consumed (tr_conn_input's unread
 * part) is taken as the start of the client's TLS handshake. Handshake
 * records are answered as they arrive; on_data reports decrypted bytes only.
 * Plaintext that the buffered bytes already yield is appended to the input
 * buffer without an on_data call (the caller is inside its input loop).
 * A failed handshake or a bad record later reports on_error(UV_EPROTO)
 * (tr_conn_tls_error says why). tls keeps (must outlive c).
 * Returns 0, TR_ECLOSED, UV_EPROTO (bad bytes already buffered) or
 * TR_EUNSUPPORTED (tls has no certificate, or TLS already started).
 */
int tr_conn_start_tls(tr_conn_t *c, const tr_tls_t *tls) TR_MUSTCHECK;

/* True once tr_conn_start_tls succeeded (the handshake may still be running). */
bool tr_conn_is_tls(const tr_conn_t *c);

/* Negotiated protocol ("TLSv1.3") and cipher, or NULL before the handshake ends. */
const char *tr_conn_tls_version(const tr_conn_t *c);
const char *tr_conn_tls_cipher(const tr_conn_t *c);

/* OpenSSL's reason for the last TLS failure on c (static string) or NULL. */
const char *tr_conn_tls_error(const tr_conn_t *c);

#endif
