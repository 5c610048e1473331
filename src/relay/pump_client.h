/*
 * One Pump: a thread that streams /binlog.Pump/PullBinlogs over HTTP/2
 * (cleartext, prior knowledge; libnghttp2), starting after the last commit_ts
 * it already delivered, and hands every binlog payload to a callback. A
 * message larger than the spool threshold is written to an unlinked file
 * under the spool directory as it arrives and delivered as a read-only
 * mapping, so a transaction of any size costs disk, not memory. Reconnects
 * with capped backoff from the last delivered commit_ts; drops binlogs whose
 * commit_ts is not above it (logging a Pump that goes backwards) and skips
 * messages that do not decode (rate-limited warning, as Drainer does). The
 * only includer of nghttp2 headers.
 */
#ifndef TR_RELAY_PUMP_CLIENT_H
#define TR_RELAY_PUMP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/defs.h"
#include "protocol/tidb_binlog.h"
#include "relay/spool.h"

/*
 * Messages of at least this many bytes (the gRPC length prefix) are spooled to
 * a file when a spool directory is set; smaller ones are received into one
 * heap buffer. 8 MiB: ordinary transactions never touch the disk, and the
 * heap a Pump can pin is bounded by the queue length times this.
 */
#define TR_PUMP_SPOOL_MIN_BYTES (8u << 20)

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
 * received PullBinlogResp (heap or spool-file mapping) holding payload (and
 * the bytes b points into). The callback may take it (set *msg = NULL, free
 * later with tr_spool_msg_free, from any thread); otherwise the client frees
 * it after the call, whatever the result.
 */
typedef int (*tr_pump_deliver_owned_cb)(void *arg, uint32_t pump_id, tr_spool_msg_t **msg,
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
    const char *spool_dir;   /* borrows (copied): directory for spool files; NULL = never spool */
    size_t spool_min_bytes;  /* spool messages of at least this size; 0 = TR_PUMP_SPOOL_MIN_BYTES */
    int keepalive_time_ms;   /* silence before a PING; 0 = 30000 (tests set less) */
    int keepalive_wait_ms;   /* PING unanswered this long: peer dead; 0 = 10000 */
} tr_pump_client_opts_t;

/* Starts the pump thread. Returns 0, TR_ECONFIG (no "host:port", or not exactly
 * one callback) or a negative errno. */
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

/* Process-wide init/shutdown (main thread, once). Nothing process-wide is
 * needed since the client speaks HTTP/2 itself (discovery.c inits gRPC core
 * for the Notify server); kept so that callers need not change. */
void tr_pump_client_global_init(void);
void tr_pump_client_global_shutdown(void);

#endif
