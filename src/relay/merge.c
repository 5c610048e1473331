/*
 * K-way merge of per-Pump binlog streams by commit_ts, following Drainer's
 * merger (shared/spec/tidb-binlog.md section 5.2, TB drainer/merge.go) but
 * with watermarks instead of Drainer's blocking "one head per pump" round:
 *
 *  - every source has a FIFO ring of queued real binlogs and a watermark, the
 *    highest commit_ts it has shown (fake binlog or real binlog);
 *  - a source's reach is its queued head commit_ts, or its watermark when its
 *    queue is empty; a source that has shown nothing yet has no reach and
 *    blocks every release;
 *  - the minimum head (ties: lowest source id) is released when every other
 *    source either has a queued head (which is >= it, by minimality) or an
 *    empty queue with watermark >= it (that source promised nothing at or
 *    below its watermark is still to come);
 *  - a head at or below the last released commit_ts is handed back at once
 *    with dropped = true (duplicate or disorder), as Drainer drops it.
 *
 * Pure: no locking, no I/O, no logging (the relay locks around it and logs).
 * The number of sources is small (one per Pump), so sources live in a flat
 * array scanned linearly; items live in per-source power-of-two rings that
 * only grow (amortised, no allocation per item).
 */
#include "relay/merge.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"

typedef struct {
    int64_t commit_ts;
    void *data;
} merge_slot_t;

typedef struct {
    uint32_t id;
    bool has_seen;     /* shown any binlog (real or fake) */
    int64_t watermark; /* highest commit_ts shown; valid when has_seen */
    int64_t head_ts;   /* commit_ts of the oldest item, when count > 0 (the scan reads
                        * the sources' array only, not their rings) */
    merge_slot_t *ring;
    size_t cap;   /* 0 or a power of two */
    size_t head;  /* index of the oldest item */
    size_t count; /* queued items */
} merge_source_t;

struct tr_merge {
    int64_t last_ts; /* commit_ts of the last released item (or the checkpoint) */
    bool join;       /* a head equal to last_ts is released, not dropped */
    merge_source_t *sources;
    size_t n_sources;
    size_t cap_sources;
    /* next_source's answer until something changes (every mutator calls forget): a peek
     * and the pop after it, or a pop and the failed peek after it, scan the sources once
     * (the scan is O(sources); TiCDC has one per Kafka partition). */
    bool next_known;
    bool next_dropped;
    size_t next_idx; /* SIZE_MAX: nothing releasable */
};

static inline void forget(tr_merge_t *m)
{
    m->next_known = false;
}

tr_merge_t *tr_merge_new(int64_t last_ts)
{
    tr_merge_t *m = tr_calloc(1, sizeof(*m));
    m->last_ts = last_ts;
    return m;
}

void tr_merge_free(tr_merge_t *m)
{
    if (m == NULL) {
        return;
    }
    for (size_t i = 0; i < m->n_sources; i++) {
        tr_free(m->sources[i].ring);
    }
    tr_free(m->sources);
    tr_free(m);
}

static merge_source_t *find_source(const tr_merge_t *m, uint32_t source_id)
{
    /* Ids are often the indexes (TiCDC's partitions, Pumps before any leaves). */
    if (source_id < m->n_sources && m->sources[source_id].id == source_id) {
        return &m->sources[source_id];
    }
    for (size_t i = 0; i < m->n_sources; i++) {
        if (m->sources[i].id == source_id) {
            return &m->sources[i];
        }
    }
    return NULL;
}

int tr_merge_add_source(tr_merge_t *m, uint32_t source_id)
{
    if (find_source(m, source_id) != NULL) {
        return -EEXIST;
    }
    if (m->n_sources == m->cap_sources) {
        m->cap_sources = m->cap_sources ? m->cap_sources * 2 : 4;
        m->sources = tr_realloc(m->sources, m->cap_sources * sizeof(*m->sources));
    }
    merge_source_t *s = &m->sources[m->n_sources++];
    memset(s, 0, sizeof(*s));
    s->id = source_id;
    forget(m);
    return 0;
}

void tr_merge_remove_source(tr_merge_t *m, uint32_t source_id, void (*drop)(void *data))
{
    merge_source_t *s = find_source(m, source_id);
    if (s == NULL) {
        return;
    }
    for (size_t k = 0; k < s->count; k++) {
        void *data = s->ring[(s->head + k) & (s->cap - 1)].data;
        if (drop != NULL) {
            drop(data);
        }
    }
    tr_free(s->ring);
    size_t idx = (size_t)(s - m->sources);
    memmove(&m->sources[idx], &m->sources[idx + 1], (m->n_sources - idx - 1) * sizeof(*m->sources));
    m->n_sources--;
    forget(m);
}

static void ring_grow(merge_source_t *s)
{
    size_t new_cap = s->cap ? s->cap * 2 : 16;
    merge_slot_t *ring = tr_malloc(new_cap * sizeof(*ring));
    for (size_t k = 0; k < s->count; k++) {
        ring[k] = s->ring[(s->head + k) & (s->cap - 1)];
    }
    tr_free(s->ring);
    s->ring = ring;
    s->cap = new_cap;
    s->head = 0;
}

int tr_merge_push(tr_merge_t *m, uint32_t source_id, int64_t commit_ts, void *data)
{
    merge_source_t *s = find_source(m, source_id);
    if (s == NULL) {
        return TR_ENOTFOUND;
    }
    if (s->count == s->cap) {
        ring_grow(s);
    }
    merge_slot_t *slot = &s->ring[(s->head + s->count) & (s->cap - 1)];
    slot->commit_ts = commit_ts;
    slot->data = data;
    if (s->count++ == 0) {
        s->head_ts = commit_ts;
    }
    /* A source that goes backwards keeps its higher watermark: the promise it
     * already made stands, and the late item is dropped by pop if it ends up
     * at or below what was released. */
    if (!s->has_seen || commit_ts > s->watermark) {
        s->watermark = commit_ts;
    }
    s->has_seen = true;
    forget(m);
    return 0;
}

int tr_merge_watermark(tr_merge_t *m, uint32_t source_id, int64_t commit_ts)
{
    merge_source_t *s = find_source(m, source_id);
    if (s == NULL) {
        return TR_ENOTFOUND;
    }
    if (!s->has_seen || commit_ts > s->watermark) {
        s->watermark = commit_ts;
    }
    s->has_seen = true;
    forget(m);
    return 0;
}

static inline const merge_slot_t *head_of(const merge_source_t *s)
{
    return &s->ring[s->head];
}

static void take_head(merge_source_t *s, tr_merge_item_t *out)
{
    const merge_slot_t *slot = head_of(s);
    out->commit_ts = slot->commit_ts;
    out->source_id = s->id;
    out->data = slot->data;
    s->head = (s->head + 1) & (s->cap - 1);
    if (--s->count > 0) {
        s->head_ts = head_of(s)->commit_ts;
    }
}

/* The source whose head pop would return next (*dropped: a head at or below
 * last_ts), or NULL when nothing is releasable. */
static merge_source_t *scan_sources(const tr_merge_t *m, bool *dropped)
{
    /* One pass: the lowest head (ties: lowest id), and the lowest reach of the sources with
     * an empty queue (their watermark; one that has shown nothing blocks everything).
     * Heads that can never be released (at or below last_ts) go back first, whatever the
     * other sources are doing. */
    merge_source_t *best = NULL;
    int64_t best_ts = 0;
    bool unseen = false;
    int64_t low_wm = INT64_MAX;
    for (size_t i = 0; i < m->n_sources; i++) {
        merge_source_t *s = &m->sources[i];
        if (s->count == 0) {
            if (!s->has_seen) {
                unseen = true;
            } else if (s->watermark < low_wm) {
                low_wm = s->watermark;
            }
            continue;
        }
        int64_t h = s->head_ts;
        if (h < m->last_ts || (h == m->last_ts && !m->join)) {
            *dropped = true;
            return s;
        }
        if (best == NULL || h < best_ts || (h == best_ts && s->id < best->id)) {
            best = s;
            best_ts = h;
        }
    }
    /* A queued head is >= best_ts by the choice of best; an empty source below it may
     * still send something there. */
    if (best == NULL || unseen || low_wm < best_ts) {
        return NULL;
    }
    *dropped = false;
    return best;
}

/* scan_sources, remembered until the merge changes. */
static merge_source_t *next_source(tr_merge_t *m, bool *dropped)
{
    if (!m->next_known) {
        bool d = false;
        merge_source_t *s = scan_sources(m, &d);
        m->next_idx = s != NULL ? (size_t)(s - m->sources) : SIZE_MAX;
        m->next_dropped = d;
        m->next_known = true;
    }
    if (m->next_idx == SIZE_MAX) {
        return NULL;
    }
    *dropped = m->next_dropped;
    return &m->sources[m->next_idx];
}

bool tr_merge_pop(tr_merge_t *m, tr_merge_item_t *out, bool *dropped)
{
    merge_source_t *s = next_source(m, dropped);
    if (s == NULL) {
        return false;
    }
    take_head(s, out);
    forget(m);
    if (!*dropped) {
        m->last_ts = out->commit_ts;
    }
    return true;
}

void tr_merge_set_join(tr_merge_t *m, bool join)
{
    m->join = join;
    forget(m);
}

bool tr_merge_peek(tr_merge_t *m, tr_merge_item_t *out, bool *dropped)
{
    merge_source_t *s = next_source(m, dropped);
    if (s == NULL) {
        return false;
    }
    const merge_slot_t *slot = head_of(s);
    out->commit_ts = slot->commit_ts;
    out->source_id = s->id;
    out->data = slot->data;
    return true;
}

bool tr_merge_can_pop(tr_merge_t *m)
{
    bool dropped;
    return next_source(m, &dropped) != NULL;
}

size_t tr_merge_queued(const tr_merge_t *m, uint32_t source_id)
{
    const merge_source_t *s = find_source(m, source_id);
    return s != NULL ? s->count : 0;
}

int64_t tr_merge_watermark_ts(const tr_merge_t *m)
{
    /* Nothing at or below the result is still to be released: a source with
     * a queued head H settles everything below H, an idle source everything
     * up to its watermark, and a source that has shown nothing was started
     * after last_ts, so it counts as last_ts. Never less than last_ts. */
    int64_t low = INT64_MAX;
    for (size_t i = 0; i < m->n_sources; i++) {
        const merge_source_t *s = &m->sources[i];
        int64_t reach;
        if (s->count > 0) {
            int64_t h = s->head_ts;
            reach = h > INT64_MIN ? h - 1 : h;
        } else if (s->has_seen) {
            reach = s->watermark;
        } else {
            reach = m->last_ts;
        }
        if (reach < low) {
            low = reach;
        }
    }
    if (m->n_sources == 0 || low < m->last_ts) {
        return m->last_ts;
    }
    return low;
}

int64_t tr_merge_last_ts(const tr_merge_t *m)
{
    return m->last_ts;
}
