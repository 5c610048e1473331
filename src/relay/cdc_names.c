/*
 * Interned names (cdc_names.h). Entries live in pages of PAGE_ENTRIES pointers reached
 * through a fixed directory, so a lookup never sees an array being reallocated; the
 * interning thread publishes a page pointer before handing out any id inside it. A hash
 * table (interning thread only) finds an existing id.
 */
#include "relay/cdc_names.h"

#include <stdatomic.h>
#include <string.h>

#include "common/hash.h"
#include "common/mem.h"

#define PAGE_ENTRIES 1024u
#define MAX_PAGES    4096u /* 4M names of each kind */

typedef struct {
    uint64_t hash;
    uint32_t id;
} slot_t;

/* One kind of name: entries by id, plus the interning hash table. */
typedef struct {
    void *_Atomic pages[MAX_PAGES];
    uint32_t next_id; /* the last id given */
    slot_t *slots;    /* open addressing, id 0 = empty */
    size_t cap;
} dict_t;

struct tr_cdc_names {
    dict_t tables;
    dict_t layouts;
};

static void *dict_get(const dict_t *d, uint32_t id)
{
    if (id == 0) {
        return NULL;
    }
    uint32_t i = id - 1;
    if (i / PAGE_ENTRIES >= MAX_PAGES) {
        return NULL;
    }
    void **page =
        atomic_load_explicit(&((dict_t *)d)->pages[i / PAGE_ENTRIES], memory_order_acquire);
    return page != NULL ? page[i % PAGE_ENTRIES] : NULL;
}

/* Stores entry e under a new id; 0 when the directory is full. */
static uint32_t dict_add(dict_t *d, void *e)
{
    uint32_t i = d->next_id;
    if (i / PAGE_ENTRIES >= MAX_PAGES) {
        return 0;
    }
    void **page = atomic_load_explicit(&d->pages[i / PAGE_ENTRIES], memory_order_relaxed);
    if (page == NULL) {
        page = tr_calloc(PAGE_ENTRIES, sizeof(void *));
        atomic_store_explicit(&d->pages[i / PAGE_ENTRIES], page, memory_order_release);
    }
    page[i % PAGE_ENTRIES] = e;
    d->next_id = i + 1;
    return i + 1;
}

static void dict_index(dict_t *d, uint64_t h, uint32_t id);

static void dict_grow(dict_t *d)
{
    slot_t *old = d->slots;
    size_t old_cap = d->cap;
    d->cap = old_cap ? old_cap * 2 : 256;
    d->slots = tr_calloc(d->cap, sizeof(slot_t));
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].id != 0) {
            dict_index(d, old[i].hash, old[i].id);
        }
    }
    tr_free(old);
}

static void dict_index(dict_t *d, uint64_t h, uint32_t id)
{
    size_t i = (size_t)h & (d->cap - 1);
    while (d->slots[i].id != 0) {
        i = (i + 1) & (d->cap - 1);
    }
    d->slots[i].hash = h;
    d->slots[i].id = id;
}

/* Gives e (hash h) the next id and indexes it; 0 when the directory is full (e not kept). */
static uint32_t dict_insert(dict_t *d, uint64_t h, void *e)
{
    uint32_t id = dict_add(d, e);
    if (id == 0) {
        return 0;
    }
    if ((d->next_id + 1) * 2 > d->cap) {
        dict_grow(d);
    }
    dict_index(d, h, id);
    return id;
}

static void dict_cleanup(dict_t *d, void (*free_entry)(void *))
{
    for (uint32_t id = 1; id <= d->next_id; id++) {
        free_entry(dict_get(d, id));
    }
    for (size_t p = 0; p < MAX_PAGES; p++) {
        tr_free(atomic_load(&d->pages[p]));
    }
    tr_free(d->slots);
}

/* ---------------------------------------------------------------- tables */

static void table_free(void *e)
{
    tr_cdc_table_name_t *t = e;
    if (t != NULL) {
        tr_free((char *)t->db);
        tr_free((char *)t->table);
        tr_free(t);
    }
}

static uint64_t table_hash(const char *db, size_t db_len, const char *table, size_t table_len)
{
    return tr_hash_bytes(table, table_len, tr_hash_bytes(db, db_len, 0x7461626c65ull));
}

uint32_t tr_cdc_names_table(tr_cdc_names_t *n, const char *db, size_t db_len, const char *table,
                            size_t table_len)
{
    dict_t *d = &n->tables;
    uint64_t h = table_hash(db, db_len, table, table_len);
    if (d->cap != 0) {
        for (size_t i = (size_t)h & (d->cap - 1); d->slots[i].id != 0; i = (i + 1) & (d->cap - 1)) {
            if (d->slots[i].hash != h) {
                continue;
            }
            const tr_cdc_table_name_t *t = dict_get(d, d->slots[i].id);
            if (t->db_len == db_len && t->table_len == table_len &&
                memcmp(t->db, db, db_len) == 0 && memcmp(t->table, table, table_len) == 0) {
                return d->slots[i].id;
            }
        }
    }
    tr_cdc_table_name_t *t = tr_calloc(1, sizeof(*t));
    t->db = tr_strndup(db, db_len);
    t->db_len = db_len;
    t->table = tr_strndup(table, table_len);
    t->table_len = table_len;
    uint32_t id = dict_insert(d, h, t);
    if (id == 0) {
        table_free(t);
    }
    return id;
}

const tr_cdc_table_name_t *tr_cdc_names_table_get(const tr_cdc_names_t *n, uint32_t id)
{
    return dict_get(&n->tables, id);
}

/* ---------------------------------------------------------------- layouts */

/* A layout and its names in one allocation: the struct, lens[], names[], then the text. */
static void layout_free(void *e)
{
    tr_free(e);
}

static uint64_t layout_hash(const tr_slice_t *names, const tr_slice_t *types, size_t count)
{
    uint64_t h = tr_hash_mix(count, 0x6c61796f7574ull);
    for (size_t i = 0; i < count; i++) {
        h = tr_hash_bytes(names[i].p, names[i].len, h);
        h = tr_hash_bytes(types[i].p, types[i].len, h);
    }
    return h;
}

static bool slices_eq(const char *const *have, const size_t *lens, const tr_slice_t *want,
                      size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (lens[i] != want[i].len || memcmp(have[i], want[i].p, want[i].len) != 0) {
            return false;
        }
    }
    return true;
}

static bool layout_eq(const tr_cdc_layout_t *l, const tr_slice_t *names, const tr_slice_t *types,
                      size_t count)
{
    return l->n == count && slices_eq(l->names, l->lens, names, count) &&
           slices_eq(l->types, l->type_lens, types, count);
}

/* Copies count slices as NUL-terminated strings at *text, pointing ptrs/lens at them. */
static void copy_slices(const tr_slice_t *in, size_t count, const char **ptrs, size_t *lens,
                        char **text)
{
    char *p = *text;
    for (size_t i = 0; i < count; i++) {
        if (in[i].len > 0) {
            memcpy(p, in[i].p, in[i].len);
        }
        p[in[i].len] = '\0';
        ptrs[i] = p;
        lens[i] = in[i].len;
        p += in[i].len + 1;
    }
    *text = p;
}

uint32_t tr_cdc_names_layout(tr_cdc_names_t *n, const tr_slice_t *names, const tr_slice_t *types,
                             size_t count)
{
    dict_t *d = &n->layouts;
    uint64_t h = layout_hash(names, types, count);
    if (d->cap != 0) {
        for (size_t i = (size_t)h & (d->cap - 1); d->slots[i].id != 0; i = (i + 1) & (d->cap - 1)) {
            if (d->slots[i].hash == h &&
                layout_eq(dict_get(d, d->slots[i].id), names, types, count)) {
                return d->slots[i].id;
            }
        }
    }
    size_t text = 0;
    for (size_t i = 0; i < count; i++) {
        text += names[i].len + 1 + types[i].len + 1;
    }
    size_t head = sizeof(tr_cdc_layout_t) + 2 * count * (sizeof(size_t) + sizeof(char *));
    uint8_t *mem = tr_malloc(head + text);
    tr_cdc_layout_t *l = (tr_cdc_layout_t *)mem;
    size_t *lens = (size_t *)(mem + sizeof(tr_cdc_layout_t));
    size_t *type_lens = lens + count;
    const char **ptrs = (const char **)(type_lens + count);
    const char **type_ptrs = ptrs + count;
    char *p = (char *)(mem + head);
    copy_slices(names, count, ptrs, lens, &p);
    copy_slices(types, count, type_ptrs, type_lens, &p);
    l->n = count;
    l->names = ptrs;
    l->lens = lens;
    l->types = type_ptrs;
    l->type_lens = type_lens;
    uint32_t id = dict_insert(d, h, l);
    if (id == 0) {
        tr_free(mem);
    }
    return id;
}

const tr_cdc_layout_t *tr_cdc_names_layout_get(const tr_cdc_names_t *n, uint32_t id)
{
    return dict_get(&n->layouts, id);
}

tr_cdc_names_t *tr_cdc_names_new(void)
{
    return tr_calloc(1, sizeof(tr_cdc_names_t));
}

void tr_cdc_names_free(tr_cdc_names_t *n)
{
    if (n == NULL) {
        return;
    }
    dict_cleanup(&n->tables, table_free);
    dict_cleanup(&n->layouts, layout_free);
    tr_free(n);
}
