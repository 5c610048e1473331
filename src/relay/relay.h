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
#include "common/upstream.h"
#include "protocol/tidb_node.h"
#include "common/config.h"
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

/*
 * Copies the relay's status into *out (sources owned: release with
 * tr_upstream_status_cleanup). Takes the membership lock and the merge lock
 * just for the copy; the membership lock may be held while a Pump client is
 * being stopped, so this may wait: call it off the loop thread. Returns 0.
 * Thread: any (the relay must not be stopped meanwhile).
 */
int tr_relay_status(tr_relay_t *r, tr_upstream_status_t *out) TR_MUSTCHECK;

/*
 * Readiness for /healthz: false with a one-line reason in why when the writer
 * failed, when a Pump the merge waits for delivered nothing (not even a fake
 * binlog) for stall_ms, or when the writer has been busy on one step for
 * stall_ms (a DDL job missing from the history, a stuck disk). Thread: any,
 * off the loop (as tr_relay_status).
 */
bool tr_relay_ready(tr_relay_t *r, int64_t stall_ms, char *why, size_t cap);

#endif
