/*
 * The TiCDC path's record log (cdc_log.h). Each record is preceded by a pointer to its
 * chunk, so a release needs nothing but the record. A chunk counts its live records plus
 * one reference while it is the consumer's current chunk; whoever drops the count to zero
 * (the consumer moving on, or the writer releasing the last record) frees it, so the two
 * threads never race on a free.
 * Spill chunks come from spool.c (tr_spool_scratch_map: unlinked, reserved, mapped).
 */
#include "relay/cdc_log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "common/mem.h"
#include "relay/spool.h"

typedef struct chunk chunk_t;

/* Freed heap chunks kept for reuse, at most (128 MiB; tr_cdc_log_trim frees them when the
 * input goes idle). On a backlog of a 64-partition topic the log swings by about one fetch
 * of every partition (librdkafka fetches up to 1 MiB per partition): with 8 kept chunks the
 * rest were fresh pages to fault in (bench/README.md "TiCDC ingest"). */
#define SPARE_CHUNKS 32

struct chunk {
    tr_cdc_log_t *log;
    _Atomic uint64_t refs; /* live records, plus 1 while it is the current chunk */
    uint8_t *base;
    size_t cap;
    size_t used;
    tr_spool_scratch_t scratch; /* spill file (base NULL for a heap chunk) */
};

struct tr_cdc_log {
    char *dir;
    size_t heap_budget;
    chunk_t *cur;   /* consumer thread */
    size_t last_at; /* offset of the last record's slot in cur (shrink) */
    _Atomic uint64_t heap_bytes;
    _Atomic uint64_t file_bytes;
    _Atomic uint64_t live;
    _Atomic uint64_t spilled;
    /* Freed standard heap chunks kept for reuse: a new chunk's first touch of fresh pages
     * (page faults, zeroing) cost about 6% of the ingest CPU under perf, 10% of the
     * consumer thread's. */
    pthread_mutex_t spare_mu;
    uint8_t *spare[SPARE_CHUNKS];
    size_t n_spare;
};

/* A record's slot: the chunk pointer, then the record, 8-byte aligned. */
#define SLOT_HEAD sizeof(chunk_t *)

static size_t align8(size_t n)
{
    return (n + 7u) & ~(size_t)7u;
}

tr_cdc_log_t *tr_cdc_log_new(const char *spill_dir, size_t heap_budget)
{
    tr_cdc_log_t *l = tr_calloc(1, sizeof(*l));
    l->dir = tr_strdup(spill_dir != NULL && spill_dir[0] != '\0' ? spill_dir : ".");
    l->heap_budget = heap_budget;
    pthread_mutex_init(&l->spare_mu, NULL);
    return l;
}

static void chunk_free(chunk_t *c)
{
    tr_cdc_log_t *l = c->log;
    if (c->scratch.base != NULL) {
        tr_spool_scratch_unmap(&c->scratch);
        atomic_fetch_sub(&l->file_bytes, c->cap);
    } else {
        bool kept = false;
        if (c->cap == TR_CDC_LOG_HEAP_CHUNK) {
            pthread_mutex_lock(&l->spare_mu);
            if (l->n_spare < SPARE_CHUNKS) {
                l->spare[l->n_spare++] = c->base;
                kept = true;
            }
            pthread_mutex_unlock(&l->spare_mu);
        }
        if (!kept) {
            tr_free(c->base);
        }
        atomic_fetch_sub(&l->heap_bytes, c->cap);
    }
    tr_free(c);
}

static void chunk_unref(chunk_t *c)
{
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1) {
        chunk_free(c);
    }
}

/* An unlinked file of cap bytes, reserved and mapped (spool.c). */
static int spill_chunk(tr_cdc_log_t *l, chunk_t *c)
{
    tr_spool_scratch_t sc;
    int rc = tr_spool_scratch_map(l->dir, c->cap, &sc);
    if (rc != 0) {
        return rc;
    }
    c->scratch = sc;
    c->base = sc.base;
    return 0;
}

static chunk_t *chunk_new(tr_cdc_log_t *l, size_t need, int *err)
{
    chunk_t *c = tr_calloc(1, sizeof(*c));
    c->log = l;
    bool heap = atomic_load(&l->heap_bytes) + TR_CDC_LOG_HEAP_CHUNK <= l->heap_budget;
    size_t size = heap ? TR_CDC_LOG_HEAP_CHUNK : TR_CDC_LOG_FILE_CHUNK;
    c->cap = need > size ? align8(need) : size;
    if (heap) {
        if (c->cap == TR_CDC_LOG_HEAP_CHUNK) {
            pthread_mutex_lock(&l->spare_mu);
            c->base = l->n_spare > 0 ? l->spare[--l->n_spare] : NULL;
            pthread_mutex_unlock(&l->spare_mu);
        }
        if (c->base == NULL) {
            c->base = tr_malloc(c->cap);
        }
        atomic_fetch_add(&l->heap_bytes, c->cap);
    } else {
        int rc = spill_chunk(l, c);
        if (rc != 0) {
            *err = rc;
            tr_free(c);
            return NULL;
        }
        atomic_fetch_add(&l->file_bytes, c->cap);
        atomic_fetch_add(&l->spilled, 1);
    }
    atomic_init(&c->refs, 1);
    return c;
}

void *tr_cdc_log_alloc(tr_cdc_log_t *l, size_t len, int *err)
{
    size_t need = SLOT_HEAD + align8(len);
    chunk_t *c = l->cur;
    if (c == NULL || c->cap - c->used < need) {
        chunk_t *n = chunk_new(l, need, err);
        if (n == NULL) {
            return NULL;
        }
        if (c != NULL) {
            chunk_unref(c); /* no longer current */
        }
        l->cur = c = n;
    }
    uint8_t *slot = c->base + c->used;
    memcpy(slot, &c, sizeof(c));
    l->last_at = c->used;
    c->used += need;
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&l->live, 1, memory_order_relaxed);
    return slot + SLOT_HEAD;
}

void tr_cdc_log_shrink(tr_cdc_log_t *l, void *rec, size_t len)
{
    chunk_t *c = l->cur;
    if (c == NULL || (uint8_t *)rec != c->base + l->last_at + SLOT_HEAD) {
        return; /* not the last record: keep its room */
    }
    c->used = l->last_at + SLOT_HEAD + align8(len);
}

void tr_cdc_log_release(tr_cdc_log_t *l, void *rec)
{
    if (rec == NULL) {
        return;
    }
    chunk_t *c;
    memcpy(&c, (uint8_t *)rec - SLOT_HEAD, sizeof(c));
    atomic_fetch_sub_explicit(&l->live, 1, memory_order_relaxed);
    chunk_unref(c);
}

void tr_cdc_log_stats(tr_cdc_log_t *l, tr_cdc_log_stats_t *out)
{
    out->heap_bytes = atomic_load_explicit(&l->heap_bytes, memory_order_relaxed);
    out->file_bytes = atomic_load_explicit(&l->file_bytes, memory_order_relaxed);
    out->live = atomic_load_explicit(&l->live, memory_order_relaxed);
    out->spilled = atomic_load_explicit(&l->spilled, memory_order_relaxed);
}

void tr_cdc_log_trim(tr_cdc_log_t *l)
{
    pthread_mutex_lock(&l->spare_mu);
    size_t n = l->n_spare;
    uint8_t *spare[SPARE_CHUNKS];
    memcpy(spare, l->spare, n * sizeof(spare[0]));
    l->n_spare = 0;
    pthread_mutex_unlock(&l->spare_mu);
    for (size_t i = 0; i < n; i++) {
        tr_free(spare[i]);
    }
    if (n > 0) {
        tr_mem_trim(); /* heap chunks (tr_mem_tune): free alone keeps them resident */
    }
}

void tr_cdc_log_free(tr_cdc_log_t *l)
{
    if (l == NULL) {
        return;
    }
    /* Records still live at the end (a stop mid-transaction) go with their chunks: every
     * chunk is reachable only through its records, so the caller releases them first; the
     * current chunk's own reference is dropped here. */
    if (l->cur != NULL) {
        chunk_unref(l->cur);
    }
    for (size_t i = 0; i < l->n_spare; i++) {
        tr_free(l->spare[i]);
    }
    pthread_mutex_destroy(&l->spare_mu);
    tr_free(l->dir);
    tr_free(l);
}
