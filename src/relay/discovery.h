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
 * It also serves /binlog.Cistern/Notify (gRPC core server API, insecure
 * HTTP/2) on [upstream] notify-listen, the address we advertise in etcd: a
 * Pump starting for the first time calls it on every online Drainer and
 * exits if a call fails. The answer (empty NotifyResp, status OK) is sent
 * once the Pump list has been re-read; a failed read is answered UNAVAILABLE.
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
/* Asks for an immediate re-read of the Pump list and waits until a list
 * started after this call has finished: 0, its error, -ETIMEDOUT after
 * timeout_ms or -ECANCELED when stopping. NULL (static mode) returns 0.
 * Any thread but the discovery thread. */
int tr_discovery_refresh(tr_discovery_t *d, uint32_t timeout_ms) TR_MUSTCHECK;
/* Stops the thread, writes our final state (paused/offline) once, frees.
 * NULL is a no-op. */
void tr_discovery_stop(tr_discovery_t *d);

typedef struct tr_notify_server tr_notify_server_t;

/* Serves /binlog.Cistern/Notify on addr ("host:port"); each call runs
 * tr_discovery_refresh(d) (d borrowed, may be NULL: answered OK at once).
 * Returns 0 or a negative code with *why. Stop it before d. */
int tr_notify_server_start(const char *addr, tr_discovery_t *d, tr_notify_server_t **out,
                           const char **why) TR_MUSTCHECK;
/* Shuts the server down (in-flight calls cancelled), joins, frees. NULL: no-op. */
void tr_notify_server_stop(tr_notify_server_t *s);

#endif
