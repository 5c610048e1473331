/*
 * Prometheus metrics and the health check over HTTP ([metrics] listen):
 *   GET /metrics  text exposition format 0.0.4 of every tirelay_* metric;
 *   GET /healthz  200 "ok" when ready, 503 "not ready: <reason>" while the
 *                 merge is stalled (a Pump the merge waits for sent nothing,
 *                 not even a fake binlog, for [metrics] health-stall-seconds),
 *                 the writer is stuck on one step that long, or it failed.
 * Served by libmicrohttpd on its own internal polling thread, bound to the
 * configured address only. Each module keeps its own counters (relaxed
 * atomics; no lock per row) and this one gathers them per scrape: store and
 * relay statistics are read on the HTTP thread, the sessions' dump positions
 * are copied on the loop thread (uv_async round trip) since only it may
 * touch sessions.
 */
#ifndef TR_METRICS_H
#define TR_METRICS_H

#include <uv.h>

#include "common/defs.h"
#include "common/config.h"
#include "relay/relay.h"
#include "server/server.h"
#include "store/store.h"

typedef struct tr_metrics tr_metrics_t;

/*
 * Starts serving on cfg->metrics_listen (the caller checks it is set). keeps
 * loop, cfg, store, srv and relay: they must outlive the metrics server
 * (stop it first). Returns 0 or a negative code with *why (static text).
 * Thread: loop.
 */
int tr_metrics_start(uv_loop_t *loop, const tr_config_t *cfg, tr_store_t *store,
                     tr_server_t *srv, tr_relay_t *relay, tr_metrics_t **out,
                     const char **why) TR_MUSTCHECK;

/*
 * Stops the HTTP thread (a scrape in progress is answered 503) and frees
 * once the loop has closed the async handle. NULL is a no-op. Thread: loop.
 */
void tr_metrics_stop(tr_metrics_t *m);

#endif
