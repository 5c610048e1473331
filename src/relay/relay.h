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

#endif
