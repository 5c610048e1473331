/*
 * The TiCDC path's record log: decoded messages (row changes, DDL) waiting between the
 * consumer thread, which appends them, and the writer thread, which releases each one once
 * written (or dropped). Records live in chunks: heap chunks while their total stays under
 * the memory budget, then chunks in unlinked files of the spill directory, mapped shared,
 * so that a transaction larger than memory costs disk and page cache instead of heap (as
 * the Pump path's spool does). A record never moves; a chunk is freed once it is full and
 * every record in it was released.
 *
 * Threads: tr_cdc_log_alloc / _shrink on one thread (the consumer); tr_cdc_log_release
 * and tr_cdc_log_stats on any.
 */
#ifndef TR_RELAY_CDC_LOG_H
#define TR_RELAY_CDC_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "common/defs.h"

typedef struct tr_cdc_log tr_cdc_log_t;

/* Heap chunks hold this much; a larger record gets a chunk of its own. */
#define TR_CDC_LOG_HEAP_CHUNK (4u << 20)
/* Spill-file chunks hold this much. */
#define TR_CDC_LOG_FILE_CHUNK (64u << 20)

/* A log spilling to unlinked files in spill_dir (borrows; copied) once heap chunks reach
 * heap_budget bytes. Never fails: a spill directory that cannot be used shows at the first
 * spill (tr_cdc_log_alloc). Returns owned (tr_cdc_log_free). */
tr_cdc_log_t *tr_cdc_log_new(const char *spill_dir, size_t heap_budget);
/* Frees every chunk, released or not. NULL is a no-op. */
void tr_cdc_log_free(tr_cdc_log_t *l);

/*
 * Room for a record of up to len bytes (8-byte aligned; len > 0), or NULL with *err set to
 * the negative errno of a spill file that could not be created or sized (-ENOSPC, ...).
 * The record is live until tr_cdc_log_release. Consumer thread.
 */
void *tr_cdc_log_alloc(tr_cdc_log_t *l, size_t len, int *err);
/* Gives back the tail of the record tr_cdc_log_alloc returned last: it is len bytes long
 * (len <= what was asked). Consumer thread. */
void tr_cdc_log_shrink(tr_cdc_log_t *l, void *rec, size_t len);
/* The record is no longer needed. Any thread. */
void tr_cdc_log_release(tr_cdc_log_t *l, void *rec);

typedef struct {
    uint64_t heap_bytes;  /* heap chunks in use now (freed ones kept for reuse not counted) */
    uint64_t file_bytes;  /* spill-file chunks allocated now */
    uint64_t live;        /* records not released */
    uint64_t spilled;     /* spill-file chunks ever created */
} tr_cdc_log_stats_t;
void tr_cdc_log_stats(tr_cdc_log_t *l, tr_cdc_log_stats_t *out);
/* Gives the heap chunks kept for reuse back to the system (the input is idle). Any thread. */
void tr_cdc_log_trim(tr_cdc_log_t *l);

#endif
