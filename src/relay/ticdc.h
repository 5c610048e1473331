/*
 * The TiCDC inputs of the relay (ticdc.c): TiCDC's canal-json over Kafka (one merge source
 * per partition) or from a storage sink's directory (one source for every table stream),
 * plus one source for DDL, positions stored with the binlog index. Only the relay's own
 * files include this.
 */
#ifndef TR_RELAY_TICDC_H
#define TR_RELAY_TICDC_H

#include "common/upstream.h"
#include "store/store.h"

struct tr_relay;
typedef struct tr_cdc tr_cdc_t;

/* Opens the topic (or the storage directory), resumes at the stored position (or the
 * beginning) and starts the consumer (poller) thread; r->cdc is set even on failure
 * (tr_relay_cdc_free cleans up). */
int tr_relay_cdc_start(struct tr_relay *r, const tr_store_checkpoint_t *cp, const char **why);
/* The writer thread's body on this input (arg: the relay). */
void *tr_relay_cdc_writer_main(void *arg);
/* Joins the consumer or poller thread (the relay is stopping). */
void tr_relay_cdc_stop_input(struct tr_relay *r);
/* After the writer stopped: releases everything. NULL r->cdc is a no-op. */
void tr_relay_cdc_free(struct tr_relay *r);
/* One status row per partition (storage: per table). Caller holds r->mu. */
void tr_relay_cdc_status(struct tr_relay *r, tr_upstream_status_t *out);

#endif
