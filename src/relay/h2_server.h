/*
 * A small gRPC server over cleartext HTTP/2 (libnghttp2, prior knowledge: the
 * connection starts with the HTTP/2 preface, as gRPC clients send it to an
 * insecure channel). Short form `h2`. It serves the few calls tirelay answers
 * (the Drainer's /binlog.Cistern/Notify, relay/discovery.c) and the
 * benchmark's fake Pump (bench/feeder.c, PullBinlogs), without gRPC core.
 *
 * One thread owns the listening sockets, every connection and every call; it
 * polls them with an eventfd that other threads use to wake it or stop it.
 * The request side (headers, the one request message, what to refuse) is the
 * pure protocol/grpc_request.c; this file moves bytes and owns lifetimes.
 *
 * A call is routed by :path. Once its request message is whole, on_call gets
 * it; the handler answers then (tr_h2_call_send + tr_h2_call_finish), or keeps
 * the call open and answers from proceed, which is called while the call's
 * queued output is below its high-water mark and the call is due (a response
 * is a producer: STYLE.md section 14). on_close ends every call on_call saw.
 * Everything the server refuses it answers itself with a grpc-status
 * (protocol/grpc_request.h has the table) and logs, rate-limited.
 *
 * Bounds, so no client can exhaust memory or hold the thread: at most
 * max_conns connections (more are accepted and closed at once), max_streams
 * streams per connection, a request message of at most max_request_bytes
 * (checked from its prefix before anything is allocated), header fields of
 * 16 KiB per stream, conn_mem_bytes for nghttp2's own allocations per
 * connection (HPACK tables, frames, streams), 64 KiB of serialized output per
 * connection plus out_high_water per call. A connection that has not sent a
 * whole request within request_timeout_ms, a request not complete within it
 * (slowloris), a connection idle for idle_timeout_ms and a peer that stops
 * reading for write_timeout_ms are closed. Garbage that is not the HTTP/2
 * preface closes the connection at once. Handlers run on the server thread
 * and must not block.
 */
#ifndef TR_RELAY_H2_SERVER_H
#define TR_RELAY_H2_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/defs.h"

typedef struct tr_h2_server tr_h2_server_t;
typedef struct tr_h2_call tr_h2_call_t;

/* A request to paths[path_idx] arrived whole with its one message (view,
 * valid during the call). Server thread. */
typedef void (*tr_h2_call_cb)(void *arg, tr_h2_call_t *call, int path_idx, tr_slice_t msg);
/* The call is open and unfinished, its queued output is below
 * out_high_water, and it is due: the time it last returned has passed,
 * tr_h2_server_wake ran, or its output drained after filling up (the first
 * call comes right after on_call). Returns the CLOCK_MONOTONIC nanoseconds
 * at which it wants to run again (INT64_MAX: only on a wake or a drain).
 * Server thread. */
typedef int64_t (*tr_h2_proceed_cb)(void *arg, tr_h2_call_t *call, int64_t now_ns);
/* The call is over: answered and sent, reset by the client, its connection
 * closed, or the server stopping. Runs once for every call on_call saw; the
 * call is invalid afterwards. Server thread. */
typedef void (*tr_h2_close_cb)(void *arg, tr_h2_call_t *call);

typedef struct {
    const char *addr;         /* "host:port" or "[v6]:port" (borrowed); port 0: any free one */
    const char *log_name;     /* log component (borrowed; keeps) */
    const char *const *paths; /* served :path values (keeps) */
    size_t n_paths;
    tr_h2_call_cb on_call;
    tr_h2_proceed_cb proceed; /* NULL: every call is answered in on_call */
    tr_h2_close_cb on_close;  /* may be NULL */
    void *arg;                /* keeps */
    /* Limits; 0 takes the default in brackets. */
    uint32_t max_conns;          /* open connections [32] */
    uint32_t max_streams;        /* SETTINGS_MAX_CONCURRENT_STREAMS [4] */
    uint32_t max_request_bytes;  /* request message bytes [4096] */
    uint32_t request_timeout_ms; /* first request / a whole request / an answered stream's end [10000] */
    uint32_t idle_timeout_ms;    /* a connection without streams [60000] */
    uint32_t write_timeout_ms;   /* queued output making no progress [10000]; UINT32_MAX: never */
    size_t conn_mem_bytes;       /* nghttp2 allocations per connection [1 MiB] */
    size_t out_high_water;       /* queued output per call before proceed pauses [64 KiB] */
    uint32_t max_frame_bytes;    /* DATA frame payload we send, capped by the peer [16384] */
} tr_h2_server_opts_t;

/* Counters since start, readable from any thread. */
typedef struct {
    uint64_t conns_accepted; /* connections taken on */
    uint64_t conns_refused;  /* closed at once: max_conns reached */
    uint64_t conns_dropped;  /* closed for bad input, a timeout or the memory bound */
    uint64_t conns_open;     /* open now */
    uint64_t calls_served;   /* handed to on_call */
    uint64_t calls_refused;  /* answered by the server with an error status */
} tr_h2_server_stats_t;

/*
 * Listens on o->addr (every address the host resolves to) and starts the
 * thread. Returns 0, TR_ECONFIG (bad address or options), or a negative errno
 * (cannot resolve, bind or listen) with *why. Any thread.
 */
int tr_h2_server_start(const tr_h2_server_opts_t *o, tr_h2_server_t **out, const char **why)
    TR_MUSTCHECK;
/* The TCP port listened on (useful with port 0). Any thread. */
int tr_h2_server_port(const tr_h2_server_t *s);
/* Makes every open, unfinished call due (proceed runs soon). Any thread,
 * also inside a lock: it only sets a flag and writes the eventfd. */
void tr_h2_server_wake(tr_h2_server_t *s);
/* Copies the counters. Any thread. */
void tr_h2_server_stats(const tr_h2_server_t *s, tr_h2_server_stats_t *out);
/* Closes every connection (on_close runs for open calls), joins the thread,
 * frees. NULL: no-op. Any thread but the server's. */
void tr_h2_server_stop(tr_h2_server_t *s);

/* Per-call handler data (not freed by the server). Server thread. */
void tr_h2_call_set_data(tr_h2_call_t *c, void *data);
void *tr_h2_call_data(const tr_h2_call_t *c);
/* The client address ("127.0.0.1:5123") for logs: returns view, valid while the call is. */
const char *tr_h2_call_peer(const tr_h2_call_t *c);
/* Queues one response message (copied, with its 5-byte prefix); the response
 * HEADERS go first. Ignored after tr_h2_call_finish. Server thread. */
void tr_h2_call_send(tr_h2_call_t *c, const void *msg, size_t len);
/* Bytes queued by tr_h2_call_send and not yet taken by HTTP/2. Server thread. */
size_t tr_h2_call_queued(const tr_h2_call_t *c);
/* Ends the response after the queued messages: trailers grpc-status and, when
 * message is not empty, grpc-message (percent-encoded here; cut to 200
 * bytes). With nothing queued it is a Trailers-Only response. Only the first
 * finish counts. Server thread. */
void tr_h2_call_finish(tr_h2_call_t *c, int grpc_status, const char *message);

#endif
