/*
 * Orchestration of the upstream side: one pump client per Pump feeds the
 * merge; a writer thread takes released transactions in commit_ts order,
 * brings the schema up to the transaction's version (fetching DDL history
 * when needed), translates it for every enabled flavour and appends it to
 * the store, committing in groups (one fsync per group). Nothing flows back
 * except the checkpoint the store keeps.
 */
#ifndef TR_RELAY_RELAY_H
#define TR_RELAY_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/defs.h"
#include "protocol/tidb_node.h"
#include "relay/config.h"
#include "store/store.h"

typedef struct tr_relay tr_relay_t;

/*
 * Starts the writer thread and one pump client per configured Pump, resuming
 * after cp (or at cfg->initial_commit_ts on a fresh store). keeps cfg and
 * store. Returns 0 or a negative code with *why.
 */
int tr_relay_start(const tr_config_t *cfg, tr_store_t *store, const tr_store_checkpoint_t *cp,
                   tr_relay_t **out, const char **why) TR_MUSTCHECK;

/* Stops the pump clients and the writer (committing what is complete), joins
 * the threads and frees. NULL is a no-op. Thread: the one that started it. */
void tr_relay_stop(tr_relay_t *r);

/* True once translation stopped on an error it cannot get past (see the log). */
bool tr_relay_failed(tr_relay_t *r);

/* A Pump that is online and pulled but has delivered nothing (binlog or fake
 * binlog; Pumps write a fake one every 3 s when idle) for this long shows as
 * unreachable in the status. */
#define TR_RELAY_UNREACHABLE_MS 15000

/* Upstream error kinds, counted for tirelay_errors_total{kind} (/metrics). */
typedef enum {
    TR_RELAY_ERR_MALFORMED = 0, /* a queued binlog or prewrite value did not decode */
    TR_RELAY_ERR_DROPPED,       /* duplicate or out-of-order binlog dropped by the merge */
    TR_RELAY_ERR_REFUSED,       /* the merge refused a delivered binlog */
    TR_RELAY_ERR_SCHEMA,        /* DDL history read or apply failed */
    TR_RELAY_ERR_TRANSLATE,     /* a transaction could not be translated */
    TR_RELAY_ERR_STORE,         /* append or group commit failed */
    TR_RELAY_ERR_COUNT
} tr_relay_err_t;

/* Stable snake_case name of kind ("malformed_binlog", ...). */
const char *tr_relay_err_name(tr_relay_err_t kind);

/* One Pump as the status shows it. */
typedef struct {
    char node_id[128];      /* etcd node id (static mode: the address) */
    char addr[256];         /* host:port pulled */
    tr_node_state_t state;  /* from etcd (static mode: always online) */
    bool is_pulling;        /* a pump client runs for it */
    bool in_merge;          /* still a merge source (false: offline and drained) */
    bool is_unreachable;    /* online and pulled, but nothing received lately */
    int64_t last_ts;        /* last commit_ts received (binlog or fake); 0 = none this run */
    int64_t recv_ms;        /* wall clock (ms since the epoch) of that delivery; 0 = none */
    int64_t silent_ms;      /* since that delivery, or since the Pump joined when none */
    uint64_t binlogs;       /* deliveries accepted this run, fake binlogs included */
    size_t queued;          /* transactions waiting in the merge */
} tr_relay_pump_status_t;

typedef struct {
    int64_t now_ms;          /* wall clock when taken */
    bool is_discovery;       /* Pumps from etcd (else the static list) */
    bool has_failed;         /* translation stopped (tr_relay_failed) */
    bool is_store_full;      /* the file system is full: appending paused, retried with backoff */
    int64_t merge_watermark; /* every binlog at or below it has been released or never comes */
    int64_t merge_last_ts;   /* commit_ts of the last released transaction */
    int64_t durable_ts;      /* watermark known durable (our Drainer maxCommitTS) */
    tr_relay_pump_status_t *pumps; /* owned (tr_relay_status_cleanup) */
    size_t n_pumps;
    uint64_t rows;           /* row changes in transactions committed this run */
    uint64_t errors[TR_RELAY_ERR_COUNT]; /* this run */
    int64_t writer_busy_ms;  /* the writer has been on one transaction or commit this long (0 idle) */
} tr_relay_status_t;

/*
 * Copies the relay's status into *out (pumps array owned: release with
 * tr_relay_status_cleanup). Takes the membership lock and the merge lock
 * just for the copy; the membership lock may be held while a Pump client is
 * being stopped, so this may wait: call it off the loop thread. Returns 0.
 * Thread: any (the relay must not be stopped meanwhile).
 */
int tr_relay_status(tr_relay_t *r, tr_relay_status_t *out) TR_MUSTCHECK;
void tr_relay_status_cleanup(tr_relay_status_t *st);

/*
 * Readiness for /healthz: false with a one-line reason in why when the writer
 * failed, when a Pump the merge waits for delivered nothing (not even a fake
 * binlog) for stall_ms, or when the writer has been busy on one step for
 * stall_ms (a DDL job missing from the history, a stuck disk). Thread: any,
 * off the loop (as tr_relay_status).
 */
bool tr_relay_ready(tr_relay_t *r, int64_t stall_ms, char *why, size_t cap);

#endif
