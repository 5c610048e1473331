/* Allocation wrappers and the bump arena (see mem.h). */
#include "common/mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__ /* defined by the headers above */
#include <malloc.h>
#endif

static void oom(size_t n)
{
    fprintf(stderr, "tirelay: out of memory allocating %zu bytes\n", n);
    abort();
}

void *tr_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        oom(n);
    }
    return p;
}

void *tr_calloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (p == NULL) {
        oom(count * n);
    }
    return p;
}

void *tr_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) {
        oom(n);
    }
    return q;
}

char *tr_strdup(const char *s)
{
    return tr_strndup(s, strlen(s));
}

char *tr_strndup(const char *s, size_t n)
{
    char *p = tr_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void tr_free(void *p)
{
    free(p);
}

void tr_mem_tune(void)
{
#ifdef __GLIBC__
    /* From mmap every such buffer (librdkafka's fetch responses, 16 MiB by the Kafka
     * source's default, dump batches, record-log chunks) was fresh pages to fault in and
     * zero: a third of the Kafka fetch thread. Fixed values also stop glibc's dynamic
     * threshold. */
    (void)mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    (void)mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
#endif
}

void tr_mem_trim(void)
{
#ifdef __GLIBC__
    (void)malloc_trim(0);
#endif
}

struct tr_arena_chunk {
    tr_arena_chunk_t *next;
    size_t cap;
    size_t used;
    _Alignas(16) unsigned char data[];
};

void tr_arena_init(tr_arena_t *a, size_t chunk_bytes)
{
    a->head = NULL;
    a->chunk_bytes = chunk_bytes ? chunk_bytes : 64 * 1024;
    a->used_bytes = 0;
}

void tr_arena_cleanup(tr_arena_t *a)
{
    tr_arena_chunk_t *c = a->head;
    while (c != NULL) {
        tr_arena_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used_bytes = 0;
}

void tr_arena_reset(tr_arena_t *a)
{
    if (a->head == NULL) {
        return;
    }
    /* Keep the oldest chunk (the last in the list) when it is the default size. */
    tr_arena_chunk_t *c = a->head;
    tr_arena_chunk_t *keep = NULL;
    while (c != NULL) {
        tr_arena_chunk_t *next = c->next;
        if (next == NULL && c->cap == a->chunk_bytes) {
            keep = c;
        } else {
            free(c);
        }
        c = next;
    }
    if (keep != NULL) {
        keep->used = 0;
        keep->next = NULL;
    }
    a->head = keep;
    a->used_bytes = 0;
}

void *tr_arena_alloc(tr_arena_t *a, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (need == 0) {
        need = 16;
    }
    tr_arena_chunk_t *c = a->head;
    if (c == NULL || c->cap - c->used < need) {
        size_t cap = need > a->chunk_bytes ? need : a->chunk_bytes;
        tr_arena_chunk_t *nc = tr_malloc(sizeof(*nc) + cap);
        nc->cap = cap;
        nc->used = 0;
        if (c != NULL && cap > a->chunk_bytes) {
            /* Oversized chunk: put it behind the head so the head keeps serving small requests. */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            a->head = nc;
        }
        c = nc;
    }
    void *p = c->data + c->used;
    c->used += need;
    a->used_bytes += need;
    return p;
}

char *tr_arena_strndup(tr_arena_t *a, const char *s, size_t n)
{
    char *p = tr_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
