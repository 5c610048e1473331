/*
 * The TiCDC path's collector: turns each partition's messages (row changes, DDL and
 * TIDB_WATERMARK, at-least-once) into what the merge takes from a Pump, per-stream
 * ordered groups and watermarks, with the redelivered copies removed
 * (shared/spec/ticdc.md sections 3.1-3.2 and Corrections 3 and 6; docs/decisions.md
 * "TiCDC: redelivery and positions" gives the argument). Per partition p:
 *
 *   1. A row or DDL at or below W_p (p's last watermark) is a redelivery: dropped.
 *   2. A keyed row (pkNames given) or a DDL identical (commit_ts, table, kind, images or
 *      statement) to one still pending in p is a redelivery: dropped. Keyed rows of one
 *      transaction are never identical, so nothing true is lost.
 *   3. A keyless table may hold identical rows in one transaction (force-replicate). Its
 *      rows are kept unless p has just shown a replay (a drop by rules 1-2 since the
 *      group's last row) and the row equals one of the group's pending rows: then the
 *      group's rows from that one on are discarded and the replay re-adds them.
 *   Every drop bumps p's replay epoch (rule 3's signal).
 *
 * DDL counts from partition 0 only, where canal-json sends it (a copy on another partition,
 * as protocols that broadcast DDL send, is dropped). When W_p rises, the pending rows at or
 * below it leave in (commit_ts, offset) order, one group per commit_ts, as merge source p; DDLs (partition 0) leave one by one as source
 * n_parts with partition 0's watermark, so that rows sharing a DDL's commit_ts come first
 * (they were read with the schema before it: tiflow cdc/entry/mounter.go). Rows at or
 * below the checkpoint the collector started from were written before a restart: they
 * are released without leaving ("shadows"), and still count for rule 2.
 *
 * Positions: a record stays live from tr_cdc_collect_add until tr_cdc_collect_done (the
 * writer committed it) or a drop. A partition's position is its oldest live record's
 * offset and the watermark it arrived under, or, with none live, the next offset and W_p:
 * reading again from there (rules as above) makes the same decisions, so a restart writes
 * the same bytes.
 *
 * Pure: no locking, no I/O; the caller serialises every call.
 */
#ifndef TR_RELAY_CDC_COLLECT_H
#define TR_RELAY_CDC_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/defs.h"

enum { TR_CDC_ROW = 1, TR_CDC_DDL = 2 };

enum {
    TR_CDC_KEYED = 1u << 0,     /* the row's table has a key (pkNames non-empty) */
    TR_CDC_PENDING = 1u << 1,   /* collector: waiting for its partition's watermark */
    TR_CDC_DISCARDED = 1u << 2, /* collector: rule 3 removed it; released at the next walk */
};

typedef struct tr_cdc_rec tr_cdc_rec_t;

/*
 * A decoded message. The producer fills everything from commit_ts to data; the links
 * belong to the collector (pending), then to whoever holds the group (next: the group's
 * chain in order).
 */
struct tr_cdc_rec {
    tr_cdc_rec_t *live_prev, *live_next; /* the partition's live records, arrival order */
    tr_cdc_rec_t *next;                  /* pending list, then the group's chain */
    tr_cdc_rec_t *hnext;                 /* rule 2's hash chain */
    int64_t commit_ts;
    int64_t offset;    /* in the partition (the storage path: a line number) */
    int64_t w_arrival; /* collector: W_p when it arrived */
    uint64_t hash;     /* of the content (commit_ts, table, kind, op, data) */
    uint32_t len;      /* bytes of data */
    uint32_t table;    /* interned (database, table) */
    uint32_t layout;   /* rows: interned column layout */
    int32_t part;
    uint8_t kind; /* TR_CDC_ROW or TR_CDC_DDL */
    uint8_t op;   /* rows: TR_TIDB_MUT_INSERT, _UPDATE or _DELETE_ROW */
    uint8_t flags;
    uint8_t pad;
    uint32_t epoch; /* collector: rule 3 */
    uint32_t pad2;
    uint8_t data[]; /* rows: the image(s); DDL: the statement */
};

typedef struct {
    /* A group of rows of one partition and commit_ts (source = partition), or one DDL
     * (source = n_parts, n = 1), chained through next in order; the receiver owns it
     * until it hands each record to tr_cdc_collect_done. */
    void (*emit)(void *arg, uint32_t source, int64_t ts, tr_cdc_rec_t *first, size_t n);
    /* Nothing at or below ts is still to come from source. */
    void (*watermark)(void *arg, uint32_t source, int64_t ts);
    /* A record the collector dropped, discarded or released as a shadow: give it back. */
    void (*release)(void *arg, tr_cdc_rec_t *rec);
    void *arg;
} tr_cdc_collect_cb_t;

typedef struct tr_cdc_collect tr_cdc_collect_t;

/* n_parts partitions (merge sources 0..n_parts-1, the DDLs n_parts), resuming after
 * checkpoint last_ts. Returns owned (tr_cdc_collect_free). */
tr_cdc_collect_t *tr_cdc_collect_new(uint32_t n_parts, int64_t last_ts,
                                     const tr_cdc_collect_cb_t *cb);
/* Releases the records still pending through cb->release (emitted ones belong to their
 * receiver), then frees. NULL is a no-op. */
void tr_cdc_collect_free(tr_cdc_collect_t *c);

/* Where partition p resumes: the next offset to read and the watermark in force there
 * (a stored position; without one, offset 0 and the checkpoint). Before any add. */
void tr_cdc_collect_resume(tr_cdc_collect_t *c, uint32_t p, int64_t offset, int64_t w);

/* A row or DDL read at rec->offset of rec->part (offsets increasing per partition).
 * The collector owns it from here. Returns true when kept, false when dropped. */
bool tr_cdc_collect_add(tr_cdc_collect_t *c, tr_cdc_rec_t *rec);
/* A TIDB_WATERMARK read at offset of p: releases what it makes safe (cb->emit, then
 * cb->watermark). */
void tr_cdc_collect_watermark(tr_cdc_collect_t *c, uint32_t p, int64_t offset, int64_t ts);
/* A message of p at offset that carries nothing (skipped by the reader). */
void tr_cdc_collect_skip(tr_cdc_collect_t *c, uint32_t p, int64_t offset);

/* The writer committed rec: it leaves its partition's live list (the caller releases
 * it). */
void tr_cdc_collect_done(tr_cdc_collect_t *c, tr_cdc_rec_t *rec);

/* Partition p's position now (see the header). */
void tr_cdc_collect_position(const tr_cdc_collect_t *c, uint32_t p, int64_t *offset, int64_t *w);

typedef struct {
    int64_t watermark; /* W_p (INT64_MIN: none yet) */
    int64_t next_offset;
    uint64_t pending; /* rows and DDLs waiting for the watermark */
    uint64_t dropped; /* redeliveries dropped since start */
    uint64_t discarded;
    uint64_t shadows;
} tr_cdc_part_stats_t;
void tr_cdc_collect_stats(const tr_cdc_collect_t *c, uint32_t p, tr_cdc_part_stats_t *out);
uint32_t tr_cdc_collect_parts(const tr_cdc_collect_t *c);

#endif
