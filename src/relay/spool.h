/*
 * Owned received messages (a Pump's PullBinlogResp): either one heap buffer or,
 * for a large message, an unlinked spool file filled as the bytes arrive and
 * then mapped read-only, so a transaction of any size costs disk, not memory.
 * The mapping's pages are file-backed: the holder may drop them from its
 * resident set at any time (tr_spool_msg_release_pages) and they fault back
 * in from the page cache or the file when read again.
 *
 * Life of a message: tr_spool_msg_heap or tr_spool_msg_file (its final length
 * is known up front, from the gRPC length prefix), tr_spool_msg_append until
 * that many bytes arrived, tr_spool_msg_finish, then read through
 * tr_spool_msg_data; tr_spool_msg_free at any point (an unfinished file is
 * simply dropped). A message is used by one thread at a time.
 */
#ifndef TR_RELAY_SPOOL_H
#define TR_RELAY_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/defs.h"

typedef struct tr_spool_msg tr_spool_msg_t;

/* A message of len bytes held in one heap buffer. Never fails (tr_malloc). */
tr_spool_msg_t *tr_spool_msg_heap(size_t len);

/*
 * A message of len bytes (len > 0) spooled to a new unlinked file in dir,
 * created with mode 0600 (O_TMPFILE, or mkstemp + unlink where the file system
 * lacks it). Returns 0 or a negative errno (the directory is unusable).
 * *out: returns owned, free with tr_spool_msg_free.
 */
int tr_spool_msg_file(const char *dir, size_t len, tr_spool_msg_t **out) TR_MUSTCHECK;

/* Read-write scratch space in an unlinked file (the TiCDC record log's spill chunks). */
typedef struct {
    int fd;
    void *base;
    size_t len;
} tr_spool_scratch_t;

/* len bytes of a new unlinked file in dir (as tr_spool_msg_file), reserved on disk and
 * mapped shared read-write. Returns 0 or a negative errno (-ENOSPC: the disk is full). */
int tr_spool_scratch_map(const char *dir, size_t len, tr_spool_scratch_t *out) TR_MUSTCHECK;
/* Unmaps and closes (the file's space is freed). */
void tr_spool_scratch_unmap(tr_spool_scratch_t *s);

/*
 * Appends n bytes (borrows p). Returns 0, TR_ETOOBIG past the announced
 * length, or a negative errno of the file write (-ENOSPC, -EIO, -EFBIG ...);
 * after an error the message is unusable (free it).
 */
int tr_spool_msg_append(tr_spool_msg_t *m, const uint8_t *p, size_t n) TR_MUSTCHECK;

/* Bytes appended so far. */
size_t tr_spool_msg_filled(const tr_spool_msg_t *m);

/*
 * Completes a message whose every byte was appended: a file is mapped
 * read-only (MAP_SHARED) and its descriptor closed (the mapping keeps the
 * file; its disk space is freed by tr_spool_msg_free). Returns 0,
 * TR_EINCOMPLETE if bytes are missing, or a negative errno of mmap.
 */
int tr_spool_msg_finish(tr_spool_msg_t *m) TR_MUSTCHECK;

/* The finished message's bytes (returns view, valid until tr_spool_msg_free). */
const uint8_t *tr_spool_msg_data(const tr_spool_msg_t *m);
size_t tr_spool_msg_len(const tr_spool_msg_t *m);
/* Whether the message lives in a spool file (else on the heap). */
bool tr_spool_msg_is_file(const tr_spool_msg_t *m);

/*
 * Drops the resident pages of a finished file message (madvise DONTNEED on
 * the shared read-only mapping; the data stays valid and is read back from the
 * page cache or the file on the next access). No-op for heap messages.
 */
void tr_spool_msg_release_pages(tr_spool_msg_t *m);

/* Frees the buffer, or unmaps/closes the file (freeing its disk space). NULL is a no-op. */
void tr_spool_msg_free(tr_spool_msg_t *m);

/*
 * A pager: a thread that calls tr_spool_msg_release_pages on the watched
 * message every interval_ms while another thread reads it. It bounds the
 * resident set of a mapped message by what the reader touches in one
 * interval, whatever the reader does (checks, decodes, translation passes),
 * at the cost of refaulting pages it still uses from the page cache. Safe
 * because the mapping is shared, read-only and file-backed.
 */
typedef struct tr_spool_pager tr_spool_pager_t;

/* Starts the pager thread. Returns 0 or a negative errno. *out: returns owned,
 * free with tr_spool_pager_free. */
int tr_spool_pager_new(int interval_ms, tr_spool_pager_t **out) TR_MUSTCHECK;
/* Watches m (borrows: m must stay alive until tr_spool_pager_unwatch). A heap
 * message or a NULL pager is a no-op. Any thread. */
void tr_spool_pager_watch(tr_spool_pager_t *pg, tr_spool_msg_t *m);
/* Stops watching; when it returns the pager no longer touches the message. */
void tr_spool_pager_unwatch(tr_spool_pager_t *pg);
/* Stops and joins the thread. NULL is a no-op. */
void tr_spool_pager_free(tr_spool_pager_t *pg);

#endif
