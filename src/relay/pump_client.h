/*
 * One Pump: a thread that streams /binlog.Pump/PullBinlogs over the gRPC core
 * C API, starting after the last commit_ts it already delivered, and hands
 * every binlog payload to a callback. Reconnects with capped backoff from the
 * last delivered commit_ts; drops binlogs whose commit_ts is not above it
 * (logging a Pump that goes backwards) and skips messages that do not decode
 * (rate-limited warning, as Drainer does). The only file besides discovery.c
 * that includes gRPC headers.
 */
#ifndef TR_RELAY_PUMP_CLIENT_H
#define TR_RELAY_PUMP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/defs.h"
#include "protocol/tidb_binlog.h"

typedef struct tr_pump_client tr_pump_client_t;

/*
 * Delivery callback, called on the pump's own thread for each binlog in
 * strictly increasing commit_ts order (fake binlogs included). payload is
 * the marshalled binlog.Binlog, b its decoded view (both valid during the
 * call only). The callback may block (backpressure). Returning non-zero
 * stops the stream (the client reconnects after backoff from the last
 * delivered commit_ts).
 */
typedef int (*tr_pump_deliver_cb)(void *arg, uint32_t pump_id, const uint8_t *payload, size_t len,
                                  const tr_tidb_binlog_t *b);

/*
 * Same, for a consumer that keeps payloads without copying them: *msg is the
 * tr_malloc'd PullBinlogResp holding payload (and the bytes b points into).
 * The callback may take it (set *msg = NULL, free later with tr_free);
 * otherwise the client frees it after the call, whatever the result.
 */
typedef int (*tr_pump_deliver_owned_cb)(void *arg, uint32_t pump_id, uint8_t **msg,
                                        const uint8_t *payload, size_t len,
                                        const tr_tidb_binlog_t *b);

typedef struct {
    uint32_t pump_id;        /* caller's id for this pump (merge source id) */
    const char *addr;        /* "host:port" */
    uint64_t cluster_id;
    int64_t start_commit_ts; /* pull binlogs with commit_ts > this */
    tr_pump_deliver_cb deliver;             /* exactly one of deliver, deliver_owned */
    tr_pump_deliver_owned_cb deliver_owned;
    void *arg;               /* keeps */
} tr_pump_client_opts_t;

/* Starts the pump thread. Returns 0 or a negative code. */
int tr_pump_client_start(const tr_pump_client_opts_t *opts, tr_pump_client_t **out) TR_MUSTCHECK;
/*
 * Asks the pump thread to stop without waiting (any thread): cancels the
 * current call and wakes a backoff sleep. A callback blocked for backpressure
 * is not interrupted: the caller unblocks it (and may return non-zero) so
 * that tr_pump_client_stop can join promptly. NULL is a no-op.
 */
void tr_pump_client_cancel(tr_pump_client_t *pc);
/* Cancels the stream, joins the thread and frees. NULL is a no-op. */
void tr_pump_client_stop(tr_pump_client_t *pc);
/* Last commit_ts delivered (any thread). */
int64_t tr_pump_client_last_ts(const tr_pump_client_t *pc);

/* Process-wide gRPC init/shutdown (main thread, once). */
void tr_pump_client_global_init(void);
void tr_pump_client_global_shutdown(void);

#endif
