/*
 * Pump discovery and Drainer registration in PD's etcd (shared/spec/
 * tidb-binlog.md sections 5.2 and 6.1; TB pkg/node/registry.go,
 * drainer/collector.go). A thread lists /tidb-binlog/v1/pumps/ every detect
 * interval (and at once after tr_discovery_notify) and hands the decoded
 * Status of every Pump to a callback; every second it writes our own Status
 * under /tidb-binlog/v1/drainers/<node-id> (state online, maxCommitTS from a
 * progress callback), and on stop writes state paused (or offline).
 *
 * etcd is reached through its v3 HTTP/JSON gateway (POST /v3/kv/range and
 * /v3/kv/txn on the client URL) with libcurl; the bodies come from
 * protocol/tidb_node.c. This file does I/O and owns a thread; it holds no
 * byte layouts.
 *
 * It also serves /binlog.Cistern/Notify (gRPC over cleartext HTTP/2 with
 * prior knowledge, relay/h2_server.c on libnghttp2) on [upstream]
 * notify-listen, the address we advertise in etcd: a Pump starting for the
 * first time calls it on every online Drainer and exits if a call fails. The
 * answer (empty NotifyResp, status OK) is sent once the Pump list has been
 * re-read; a failed or timed-out read is answered UNAVAILABLE, a request that
 * is not a NotifyReq INVALID_ARGUMENT, another method UNIMPLEMENTED.
 */
#ifndef TR_RELAY_DISCOVERY_H
#define TR_RELAY_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/defs.h"
#include "protocol/tidb_node.h"

typedef struct tr_discovery tr_discovery_t;

/* Called on the discovery thread after each successful list with every Pump
 * whose value decoded (views valid during the call only). May block. */
typedef void (*tr_discovery_pumps_cb)(void *arg, const tr_node_status_t *pumps, size_t n);
/* Called on the discovery thread before each heartbeat: our maxCommitTS. */
typedef int64_t (*tr_discovery_progress_cb)(void *arg);

typedef struct {
    const char *pd_urls;          /* comma-separated etcd client URLs (borrowed) */
    const char *node_id;          /* our Drainer node id (borrowed) */
    const char *host;             /* our advertise host:port (borrowed) */
    uint32_t detect_interval_ms;  /* Pump list period */
    uint32_t heartbeat_ms;        /* our Status refresh period (Drainer: 1000) */
    bool stop_offline;            /* final state offline instead of paused */
    tr_discovery_pumps_cb on_pumps;
    tr_discovery_progress_cb progress;
    void *arg;                    /* keeps */
} tr_discovery_opts_t;

/* Starts the discovery thread; the first list and heartbeat happen at once.
 * Returns 0, TR_ECONFIG (no URL) or a negative errno. Thread: main (it
 * initialises libcurl once per process). */
int tr_discovery_start(const tr_discovery_opts_t *opts, tr_discovery_t **out) TR_MUSTCHECK;
/* Asks for an immediate re-read of the Pump list (any thread). */
void tr_discovery_notify(tr_discovery_t *d);
/* Asks for an immediate re-read of the Pump list without waiting; returns a
 * ticket for tr_discovery_refresh_result. NULL (static mode): 0. Any thread. */
uint64_t tr_discovery_refresh_ask(tr_discovery_t *d);
/* True once a list started after the ask of ticket has finished, with its
 * result in *rc (0 or its error; -ECANCELED when stopping); false while it
 * runs. NULL (static mode): true and 0. Any thread. */
bool tr_discovery_refresh_result(tr_discovery_t *d, uint64_t ticket, int *rc) TR_MUSTCHECK;
/* fn(arg) runs on the discovery thread, under the discovery lock (it may
 * only signal), whenever a finished list answers refresh tickets. NULL
 * clears it; once that call returns fn is not running and will not run.
 * NULL d: no-op. Any thread. */
void tr_discovery_set_refresh_hook(tr_discovery_t *d, void (*fn)(void *arg), void *arg);
/* Stops the thread, writes our final state (paused/offline) once, frees.
 * NULL is a no-op. */
void tr_discovery_stop(tr_discovery_t *d);

typedef struct tr_notify_server tr_notify_server_t;

/* Serves /binlog.Cistern/Notify on addr ("host:port", "[v6]:port"; port 0:
 * a free one); each call re-reads the Pump list of d (keeps d; NULL: static
 * mode, answered OK at once) and is answered with the result. Returns 0 or a
 * negative code (TR_ECONFIG, -EADDRINUSE, ...) with *why. Stop it before d.
 * Any thread. */
int tr_notify_server_start(const char *addr, tr_discovery_t *d, tr_notify_server_t **out,
                           const char **why) TR_MUSTCHECK;
/* The TCP port served (useful with port 0). */
int tr_notify_server_port(const tr_notify_server_t *s);
/* Closes every connection (calls in progress get no answer), joins the
 * server thread, frees. NULL: no-op. Any thread. */
void tr_notify_server_stop(tr_notify_server_t *s);

#endif
