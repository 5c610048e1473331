/*
 * One client TCP connection on the loop: reads into an input buffer, writes
 * whole buffers (one uv_write each, ownership taken), reports the bytes still
 * queued for backpressure, and closes gracefully (pending writes flushed)
 * or at once. TLS (OpenSSL memory BIOs) will live here, so everything above
 * sees plaintext.
 *
 * I/O layer: owns a uv_tcp_t; holds no protocol knowledge. Thread: loop.
 */
#ifndef TR_RELAY_CONN_H
#define TR_RELAY_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "common/buf.h"
#include "common/defs.h"

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

/* Input buffer: decode at tr_buf_head, consume by advancing off. */
tr_buf_t *tr_conn_input(tr_conn_t *c);

/*
 * Queues b's unread bytes as one write; takes b's storage (b is left empty
 * and reusable). Returns 0, or a negative code when the connection is
 * closing or uv_write failed (the bytes are dropped).
 */
int tr_conn_write(tr_conn_t *c, tr_buf_t *b) TR_MUSTCHECK;

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

#endif
