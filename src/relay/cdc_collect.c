/*
 * The TiCDC collector (cdc_collect.h). Per partition: a doubly linked live list (arrival
 * order, gives the position), a singly linked pending list (arrival order), a chained
 * hash of pending keyed rows and DDLs (rule 2) and a chained hash of open keyless groups
 * (rule 3). The links live in the records, so a pending row costs one bucket pointer of
 * heap and nothing else (a transaction larger than memory stays in the record log).
 */
#include "relay/cdc_collect.h"

#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/mem.h"

/* The rows of one keyless table at one commit_ts still pending in a partition. */
typedef struct kgroup kgroup_t;
struct kgroup {
    kgroup_t *hnext;
    int64_t ts;
    uint32_t table;
    uint32_t epoch; /* the partition's epoch at the group's last row */
};

typedef struct {
    int64_t w;           /* W_p */
    int64_t next_offset; /* after the last message read */
    uint32_t epoch;      /* drops so far (rule 3's signal) */
    tr_cdc_rec_t *live_head, *live_tail;
    tr_cdc_rec_t *pend_head, *pend_tail;
    tr_cdc_rec_t **buckets; /* rule 2, pending keyed rows and DDLs */
    size_t nbuckets;
    size_t nindexed;
    kgroup_t **kbuckets; /* rule 3, open keyless groups */
    size_t nkbuckets;
    size_t nkgroups;
    uint64_t pending;
    uint64_t dropped;
    uint64_t discarded;
    uint64_t shadows;
} part_t;

struct tr_cdc_collect {
    uint32_t n;
    int64_t last_ts;
    tr_cdc_collect_cb_t cb;
    part_t *parts;
    tr_cdc_rec_t **sort; /* scratch for one release */
    size_t sort_cap;
};

tr_cdc_collect_t *tr_cdc_collect_new(uint32_t n_parts, int64_t last_ts,
                                     const tr_cdc_collect_cb_t *cb)
{
    tr_cdc_collect_t *c = tr_calloc(1, sizeof(*c));
    c->n = n_parts;
    c->last_ts = last_ts;
    c->cb = *cb;
    c->parts = tr_calloc(n_parts ? n_parts : 1, sizeof(part_t));
    for (uint32_t p = 0; p < n_parts; p++) {
        c->parts[p].w = last_ts;
    }
    return c;
}

uint32_t tr_cdc_collect_parts(const tr_cdc_collect_t *c)
{
    return c->n;
}

void tr_cdc_collect_resume(tr_cdc_collect_t *c, uint32_t p, int64_t offset, int64_t w)
{
    if (p < c->n) {
        c->parts[p].next_offset = offset;
        c->parts[p].w = w;
    }
}

/* ------------------------------------------------------------ live list */

static void live_append(part_t *pt, tr_cdc_rec_t *r)
{
    r->live_next = NULL;
    r->live_prev = pt->live_tail;
    if (pt->live_tail != NULL) {
        pt->live_tail->live_next = r;
    } else {
        pt->live_head = r;
    }
    pt->live_tail = r;
}

static void live_unlink(part_t *pt, tr_cdc_rec_t *r)
{
    if (r->live_prev != NULL) {
        r->live_prev->live_next = r->live_next;
    } else {
        pt->live_head = r->live_next;
    }
    if (r->live_next != NULL) {
        r->live_next->live_prev = r->live_prev;
    } else {
        pt->live_tail = r->live_prev;
    }
    r->live_prev = r->live_next = NULL;
}

/* ------------------------------------------------------------ rule 2 index */

static bool same_content(const tr_cdc_rec_t *a, const tr_cdc_rec_t *b)
{
    return a->hash == b->hash && a->commit_ts == b->commit_ts && a->table == b->table &&
           a->kind == b->kind && a->op == b->op && a->layout == b->layout && a->len == b->len &&
           memcmp(a->data, b->data, a->len) == 0;
}

static void index_grow(part_t *pt)
{
    size_t cap = pt->nbuckets ? pt->nbuckets * 2 : 64;
    tr_cdc_rec_t **nb = tr_calloc(cap, sizeof(*nb));
    for (size_t i = 0; i < pt->nbuckets; i++) {
        tr_cdc_rec_t *r = pt->buckets[i];
        while (r != NULL) {
            tr_cdc_rec_t *nx = r->hnext;
            size_t j = (size_t)r->hash & (cap - 1);
            r->hnext = nb[j];
            nb[j] = r;
            r = nx;
        }
    }
    tr_free(pt->buckets);
    pt->buckets = nb;
    pt->nbuckets = cap;
}

static const tr_cdc_rec_t *index_find(const part_t *pt, const tr_cdc_rec_t *r)
{
    if (pt->nbuckets == 0) {
        return NULL;
    }
    for (const tr_cdc_rec_t *x = pt->buckets[(size_t)r->hash & (pt->nbuckets - 1)]; x != NULL;
         x = x->hnext) {
        if (same_content(x, r)) {
            return x;
        }
    }
    return NULL;
}

static void index_add(part_t *pt, tr_cdc_rec_t *r)
{
    if (pt->nindexed + 1 > pt->nbuckets) {
        index_grow(pt);
    }
    size_t j = (size_t)r->hash & (pt->nbuckets - 1);
    r->hnext = pt->buckets[j];
    pt->buckets[j] = r;
    pt->nindexed++;
}

static void index_remove(part_t *pt, tr_cdc_rec_t *r)
{
    tr_cdc_rec_t **pp = &pt->buckets[(size_t)r->hash & (pt->nbuckets - 1)];
    while (*pp != NULL && *pp != r) {
        pp = &(*pp)->hnext;
    }
    if (*pp == r) {
        *pp = r->hnext;
        pt->nindexed--;
    }
    r->hnext = NULL;
}

static bool indexed(const tr_cdc_rec_t *r)
{
    return r->kind == TR_CDC_DDL || (r->flags & TR_CDC_KEYED) != 0;
}

/* ------------------------------------------------------------ rule 3 groups */

static size_t kg_slot(const part_t *pt, uint32_t table, int64_t ts)
{
    return (size_t)tr_hash_mix((uint64_t)ts ^ ((uint64_t)table << 48), 0x9E3779B97F4A7C15ull) &
           (pt->nkbuckets - 1);
}

static kgroup_t *kg_find(const part_t *pt, uint32_t table, int64_t ts)
{
    if (pt->nkbuckets == 0) {
        return NULL;
    }
    for (kgroup_t *g = pt->kbuckets[kg_slot(pt, table, ts)]; g != NULL; g = g->hnext) {
        if (g->table == table && g->ts == ts) {
            return g;
        }
    }
    return NULL;
}

static kgroup_t *kg_add(part_t *pt, uint32_t table, int64_t ts)
{
    if (pt->nkgroups + 1 > pt->nkbuckets) {
        size_t old = pt->nkbuckets;
        kgroup_t **ob = pt->kbuckets;
        pt->nkbuckets = old ? old * 2 : 16;
        pt->kbuckets = tr_calloc(pt->nkbuckets, sizeof(*pt->kbuckets));
        for (size_t i = 0; i < old; i++) {
            kgroup_t *g = ob[i];
            while (g != NULL) {
                kgroup_t *nx = g->hnext;
                size_t j = kg_slot(pt, g->table, g->ts);
                g->hnext = pt->kbuckets[j];
                pt->kbuckets[j] = g;
                g = nx;
            }
        }
        tr_free(ob);
    }
    kgroup_t *g = tr_calloc(1, sizeof(*g));
    g->table = table;
    g->ts = ts;
    size_t j = kg_slot(pt, table, ts);
    g->hnext = pt->kbuckets[j];
    pt->kbuckets[j] = g;
    pt->nkgroups++;
    return g;
}

static void kg_remove(part_t *pt, uint32_t table, int64_t ts)
{
    if (pt->nkbuckets == 0) {
        return;
    }
    kgroup_t **pp = &pt->kbuckets[kg_slot(pt, table, ts)];
    while (*pp != NULL && ((*pp)->table != table || (*pp)->ts != ts)) {
        pp = &(*pp)->hnext;
    }
    if (*pp != NULL) {
        kgroup_t *g = *pp;
        *pp = g->hnext;
        tr_free(g);
        pt->nkgroups--;
    }
}

/* Rule 3: r (keyless) repeats a row of its group after a replay signal. Marks the group's
 * pending rows from the first equal one on as discarded. */
static void keyless_replay(part_t *pt, const tr_cdc_rec_t *r)
{
    bool from = false;
    for (tr_cdc_rec_t *x = pt->pend_head; x != NULL; x = x->next) {
        if ((x->flags & (TR_CDC_KEYED | TR_CDC_DISCARDED)) != 0 || x->kind != TR_CDC_ROW ||
            x->table != r->table || x->commit_ts != r->commit_ts) {
            continue;
        }
        if (!from && same_content(x, r)) {
            from = true;
        }
        if (from) {
            x->flags |= TR_CDC_DISCARDED;
            pt->discarded++;
        }
    }
}

static bool group_has_equal(const part_t *pt, const tr_cdc_rec_t *r)
{
    for (const tr_cdc_rec_t *x = pt->pend_head; x != NULL; x = x->next) {
        if ((x->flags & (TR_CDC_KEYED | TR_CDC_DISCARDED)) == 0 && x->kind == TR_CDC_ROW &&
            same_content(x, r)) {
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------ adding */

static void drop(tr_cdc_collect_t *c, part_t *pt, tr_cdc_rec_t *r)
{
    pt->dropped++;
    pt->epoch++;
    c->cb.release(c->cb.arg, r);
}

bool tr_cdc_collect_add(tr_cdc_collect_t *c, tr_cdc_rec_t *r)
{
    if ((uint32_t)r->part >= c->n) {
        c->cb.release(c->cb.arg, r);
        return false;
    }
    part_t *pt = &c->parts[r->part];
    if (r->offset >= pt->next_offset) {
        pt->next_offset = r->offset + 1;
    }
    r->live_prev = r->live_next = r->next = r->hnext = NULL;
    r->flags &= (uint8_t) ~(TR_CDC_PENDING | TR_CDC_DISCARDED);
    if (r->kind == TR_CDC_DDL && r->part != 0) {
        /* canal-json sends DDL to partition 0 only; protocols that broadcast it to every
         * partition repeat partition 0's copy elsewhere. */
        pt->dropped++;
        c->cb.release(c->cb.arg, r);
        return false;
    }
    if (r->commit_ts <= pt->w) { /* rule 1 */
        drop(c, pt, r);
        return false;
    }
    if (indexed(r)) { /* rule 2 */
        if (index_find(pt, r) != NULL) {
            drop(c, pt, r);
            return false;
        }
        index_add(pt, r);
    } else { /* rule 3 */
        kgroup_t *g = kg_find(pt, r->table, r->commit_ts);
        if (g == NULL) {
            g = kg_add(pt, r->table, r->commit_ts);
        } else if (g->epoch != pt->epoch && group_has_equal(pt, r)) {
            keyless_replay(pt, r);
        }
        g->epoch = pt->epoch;
    }
    r->w_arrival = pt->w;
    r->flags |= TR_CDC_PENDING;
    if (pt->pend_tail != NULL) {
        pt->pend_tail->next = r;
    } else {
        pt->pend_head = r;
    }
    pt->pend_tail = r;
    pt->pending++;
    live_append(pt, r);
    return true;
}

void tr_cdc_collect_skip(tr_cdc_collect_t *c, uint32_t p, int64_t offset)
{
    if (p < c->n && offset >= c->parts[p].next_offset) {
        c->parts[p].next_offset = offset + 1;
    }
}

/* ------------------------------------------------------------ releasing */

static int by_ts_offset(const void *a, const void *b)
{
    const tr_cdc_rec_t *x = *(tr_cdc_rec_t *const *)a;
    const tr_cdc_rec_t *y = *(tr_cdc_rec_t *const *)b;
    if (x->commit_ts != y->commit_ts) {
        return x->commit_ts < y->commit_ts ? -1 : 1;
    }
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Takes p's pending records at or below w out of the pending list (and the indexes);
 * releases discarded ones and shadows; returns the rest in c->sort, sorted. */
static size_t take_releasable(tr_cdc_collect_t *c, part_t *pt, int64_t w)
{
    size_t n = 0;
    tr_cdc_rec_t **pp = &pt->pend_head;
    tr_cdc_rec_t *prev = NULL;
    while (*pp != NULL) {
        tr_cdc_rec_t *r = *pp;
        bool discarded = (r->flags & TR_CDC_DISCARDED) != 0;
        if (r->commit_ts > w && !discarded) {
            prev = r;
            pp = &r->next;
            continue;
        }
        *pp = r->next;
        r->next = NULL;
        r->flags &= (uint8_t)~TR_CDC_PENDING;
        pt->pending--;
        if (indexed(r)) {
            index_remove(pt, r);
        } else if (!discarded) {
            kg_remove(pt, r->table, r->commit_ts);
        }
        if (discarded || r->commit_ts <= c->last_ts) {
            if (!discarded) {
                pt->shadows++;
            }
            live_unlink(pt, r);
            c->cb.release(c->cb.arg, r);
            continue;
        }
        if (n == c->sort_cap) {
            c->sort_cap = c->sort_cap ? c->sort_cap * 2 : 256;
            c->sort = tr_realloc(c->sort, c->sort_cap * sizeof(*c->sort));
        }
        c->sort[n++] = r;
    }
    pt->pend_tail = prev;
    if (n > 1) {
        qsort(c->sort, n, sizeof(*c->sort), by_ts_offset);
    }
    return n;
}

void tr_cdc_collect_watermark(tr_cdc_collect_t *c, uint32_t p, int64_t offset, int64_t ts)
{
    if (p >= c->n) {
        return;
    }
    part_t *pt = &c->parts[p];
    if (offset >= pt->next_offset) {
        pt->next_offset = offset + 1;
    }
    if (ts <= pt->w) {
        return;
    }
    pt->w = ts;
    size_t n = take_releasable(c, pt, ts);
    for (size_t i = 0; i < n;) {
        tr_cdc_rec_t *r = c->sort[i];
        if (r->kind == TR_CDC_DDL) {
            c->cb.emit(c->cb.arg, c->n, r->commit_ts, r, 1);
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < n && c->sort[j]->kind == TR_CDC_ROW && c->sort[j]->commit_ts == r->commit_ts) {
            c->sort[j - 1]->next = c->sort[j];
            j++;
        }
        c->sort[j - 1]->next = NULL;
        c->cb.emit(c->cb.arg, p, r->commit_ts, r, j - i);
        i = j;
    }
    c->cb.watermark(c->cb.arg, p, ts);
    if (p == 0) {
        c->cb.watermark(c->cb.arg, c->n, ts);
    }
}

void tr_cdc_collect_done(tr_cdc_collect_t *c, tr_cdc_rec_t *rec)
{
    if ((uint32_t)rec->part < c->n) {
        live_unlink(&c->parts[rec->part], rec);
    }
}

void tr_cdc_collect_position(const tr_cdc_collect_t *c, uint32_t p, int64_t *offset, int64_t *w)
{
    const part_t *pt = &c->parts[p];
    if (pt->live_head != NULL) {
        *offset = pt->live_head->offset;
        *w = pt->live_head->w_arrival;
    } else {
        *offset = pt->next_offset;
        *w = pt->w;
    }
}

void tr_cdc_collect_stats(const tr_cdc_collect_t *c, uint32_t p, tr_cdc_part_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    if (p >= c->n) {
        return;
    }
    const part_t *pt = &c->parts[p];
    out->watermark = pt->w;
    out->next_offset = pt->next_offset;
    out->pending = pt->pending;
    out->dropped = pt->dropped;
    out->discarded = pt->discarded;
    out->shadows = pt->shadows;
}

void tr_cdc_collect_free(tr_cdc_collect_t *c)
{
    if (c == NULL) {
        return;
    }
    for (uint32_t p = 0; p < c->n; p++) {
        part_t *pt = &c->parts[p];
        /* Pending records are released here; emitted ones belong to their receiver. */
        tr_cdc_rec_t *r = pt->pend_head;
        while (r != NULL) {
            tr_cdc_rec_t *nx = r->next;
            c->cb.release(c->cb.arg, r);
            r = nx;
        }
        for (size_t i = 0; i < pt->nkbuckets; i++) {
            kgroup_t *g = pt->kbuckets[i];
            while (g != NULL) {
                kgroup_t *nx = g->hnext;
                tr_free(g);
                g = nx;
            }
        }
        tr_free(pt->kbuckets);
        tr_free(pt->buckets);
    }
    tr_free(c->parts);
    tr_free(c->sort);
    tr_free(c);
}
