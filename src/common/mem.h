/*
 * Allocation wrappers that abort on out-of-memory (there are no OOM error
 * paths in tirelay), and a bump arena for per-transaction scratch memory.
 */
#ifndef TR_COMMON_MEM_H
#define TR_COMMON_MEM_H

#include <stddef.h>

void *tr_malloc(size_t n);
void *tr_calloc(size_t count, size_t n);
void *tr_realloc(void *p, size_t n);
char *tr_strdup(const char *s);
char *tr_strndup(const char *s, size_t n);
void tr_free(void *p);

/*
 * The process's heap policy (glibc; no-ops elsewhere). tr_mem_tune, once at start before
 * any thread: buffers up to 32 MiB are reused from the heap, up to 64 MiB of free heap top
 * kept per arena (docs/decisions.md "Heap and mmap"). tr_mem_trim gives the free pages of
 * every arena back to the system: for the moments a burst has ended (idle replicas and an
 * idle input hold nothing).
 */
void tr_mem_tune(void);
void tr_mem_trim(void);

/*
 * Bump allocator. Memory is handed out from chunks and released all at once by
 * tr_arena_reset (keeps the first chunk for reuse) or tr_arena_cleanup.
 * Not thread-safe; one arena per owner.
 */
typedef struct tr_arena_chunk tr_arena_chunk_t;
typedef struct {
    tr_arena_chunk_t *head; /* newest chunk */
    size_t chunk_bytes;     /* default chunk size */
    size_t used_bytes;      /* bytes handed out since the last reset */
} tr_arena_t;

void tr_arena_init(tr_arena_t *a, size_t chunk_bytes);
void tr_arena_cleanup(tr_arena_t *a);
/* Frees every chunk but the first; all pointers handed out become invalid. */
void tr_arena_reset(tr_arena_t *a);
/* Returns 16-byte aligned memory valid until the next reset; never NULL. */
void *tr_arena_alloc(tr_arena_t *a, size_t n);
char *tr_arena_strndup(tr_arena_t *a, const char *s, size_t n);

#endif
