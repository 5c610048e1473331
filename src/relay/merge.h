/*
 * K-way merge of per-Pump binlog streams by commit_ts (shared/spec/tidb-binlog.md
 * section 5.2). A binlog is released only when every source has shown a
 * commit_ts at or above it (its queued head or, for fake binlogs, its
 * watermark), so nothing is emitted before it is safe. Ties on commit_ts are
 * broken by source id; a commit_ts at or below the last released one is
 * dropped as a duplicate. Pure: no locking, no I/O (the relay locks around it).
 */
#ifndef TR_RELAY_MERGE_H
#define TR_RELAY_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/defs.h"

typedef struct tr_merge tr_merge_t;

typedef struct {
    int64_t commit_ts;
    uint32_t source_id;
    void *data; /* opaque, owned by the caller (released or dropped items are returned) */
} tr_merge_item_t;

/* last_ts: commit_ts already emitted (checkpoint). Returns owned (tr_merge_free). */
tr_merge_t *tr_merge_new(int64_t last_ts);
void tr_merge_free(tr_merge_t *m);
/* Adds a source that has shown nothing yet (it blocks every release until it
 * pushes or records a watermark). Returns 0 or -EEXIST. */
int tr_merge_add_source(tr_merge_t *m, uint32_t source_id) TR_MUSTCHECK;
/* Removes a source (offline Pump); its queued items are handed back through
 * drop (may be NULL). Unknown ids are ignored. */
void tr_merge_remove_source(tr_merge_t *m, uint32_t source_id, void (*drop)(void *data));
/* Queues a real binlog of a source (commit_ts increasing per source; one that
 * is not is still queued and comes back dropped if it ends up at or below the
 * last release). Also raises the source's watermark. Returns 0 or TR_ENOTFOUND. */
int tr_merge_push(tr_merge_t *m, uint32_t source_id, int64_t commit_ts, void *data) TR_MUSTCHECK;
/* Records a fake binlog: the source promises nothing at or below commit_ts is
 * still to come. A lower value than the source's watermark is ignored.
 * Returns 0 or TR_ENOTFOUND. */
int tr_merge_watermark(tr_merge_t *m, uint32_t source_id, int64_t commit_ts) TR_MUSTCHECK;
/* Releases the next item if it is safe; false if none. Duplicates/out-of-order
 * items are returned with *dropped = true so the caller can free them. */
bool tr_merge_pop(tr_merge_t *m, tr_merge_item_t *out, bool *dropped);
/* Joining mode (the TiCDC inputs, whose partitions each carry part of a transaction): an
 * item whose commit_ts equals the last released one is released too, so the caller can
 * join it to that transaction; only lower ones come back dropped. Off by default. */
void tr_merge_set_join(tr_merge_t *m, bool join);
/* What tr_merge_pop would return next, left in place; false when nothing is releasable. */
bool tr_merge_peek(tr_merge_t *m, tr_merge_item_t *out, bool *dropped);
/* Whether tr_merge_pop would return an item now (released or dropped). */
bool tr_merge_can_pop(tr_merge_t *m);
/* Number of items queued for a source. */
size_t tr_merge_queued(const tr_merge_t *m, uint32_t source_id);
/* Lowest commit_ts every source has reached (the merge watermark): once every
 * releasable item has been popped, nothing at or below it is still to come.
 * A queued head H counts as H - 1, an unseen source as last_ts; never below
 * tr_merge_last_ts. */
int64_t tr_merge_watermark_ts(const tr_merge_t *m);
int64_t tr_merge_last_ts(const tr_merge_t *m);

#endif
