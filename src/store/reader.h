/*
 * A cursor over one flavour's committed binlog events: the only way bytes of a
 * binlog file are read outside the store's writer. Dumps, SHOW BINLOG EVENTS,
 * position lookups and recovery's check all walk events through it.
 *
 * A reader is a small value (no allocation, one descriptor): it holds the file
 * it reads, the offset of its next event and the readable end. Bytes are read
 * in batches of whole events into a buffer the caller passes in, one pread per
 * batch, so readers waiting at the end of the binlog hold no buffers and a
 * thread may serve many readers from one scratch buffer. The readable end is
 * the committed size the store reported when the reader last looked
 * (tr_store_reader_refresh): events being written are never seen.
 *
 * Errors are returned, never logged: TR_ECORRUPT with a static *why for bytes
 * that are not events (a header that does not decode, a size past the limit or
 * past the readable end), -errno for I/O. Thread: one at a time per reader.
 */
#ifndef TR_STORE_READER_H
#define TR_STORE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/defs.h"
#include "protocol/binlog_event.h"
#include "store/binlog_file.h"
#include "store/store.h"

/* Largest event a reader accepts (MySQL's max_log_event_size, 1 GiB). */
#define TR_STORE_MAX_EVENT (1024u * 1024 * 1024)

typedef struct {
    tr_store_t *store;        /* NULL for a reader of one descriptor (tr_store_reader_attach) */
    const tr_store_io_t *io;  /* system calls (NULL = the real ones) */
    tr_flavor_t flavor;
    tr_binlog_file_t file;    /* the file read; file.size is the readable end */
    int fd;                   /* -1 when closed */
    bool owns_fd;
    uint64_t pos;             /* offset of the next event */
} tr_store_reader_t;

/* One event of a batch: its bytes (in the batch buffer, writable: the caller may rewrite
 * an event in place before sending it) and where it ends in the file. */
typedef struct {
    uint8_t *p;
    size_t len;               /* = h.event_size */
    tr_evt_header_t h;
    uint64_t end_pos;         /* file offset after it */
} tr_store_event_t;

/*
 * Opens a reader of flavour f's file (as the store listed it: tr_store_file_by_name,
 * _first, _next) at pos, which must be 4 or an event boundary the caller knows. The
 * readable end is file->size. Returns 0 or -errno.
 */
int tr_store_reader_open(tr_store_reader_t *r, tr_store_t *s, tr_flavor_t f,
                         const tr_binlog_file_t *file, uint64_t pos) TR_MUSTCHECK;

/* A reader of an open descriptor (recovery: the store's own file), readable up to end.
 * The descriptor stays the caller's. */
void tr_store_reader_attach(tr_store_reader_t *r, const tr_store_io_t *io, int fd, uint64_t pos,
                            uint64_t end);

/* Closes the descriptor (when the reader opened it). Idempotent. */
void tr_store_reader_close(tr_store_reader_t *r);

/*
 * Reads the whole events after r->pos, at most max bytes of them but always the next
 * event whole whatever its size, into batch (reset first), and moves r->pos past them.
 * Returns the bytes read: 0 at the readable end; TR_ECORRUPT with *why when the next
 * bytes are no event (the batch then holds nothing and r->pos is unchanged: the events
 * before a bad one come in a batch of their own first); -errno.
 * Iterate the events with tr_store_batch_next.
 */
int64_t tr_store_reader_read(tr_store_reader_t *r, tr_buf_t *batch, size_t max,
                             const char **why) TR_MUSTCHECK;

/*
 * The next event of a batch tr_store_reader_read filled, starting at *off (0 for the
 * first; advanced past the event). start_pos is the file offset of the batch's first
 * byte (r->pos before the read). Returns false after the last.
 */
bool tr_store_batch_next(tr_buf_t *batch, uint64_t start_pos, size_t *off,
                         tr_store_event_t *ev);

/*
 * Moves the cursor from r->pos to pos, reading the events between in batches into
 * scratch, calling fn(arg, ev) for each when fn is not NULL. Returns 0 when pos is an
 * event boundary, TR_EMALFORMED when an event spans it (r->pos is then past that
 * event), TR_ECORRUPT with *why, or -errno.
 */
int tr_store_reader_walk(tr_store_reader_t *r, uint64_t pos, tr_buf_t *scratch,
                         void (*fn)(void *arg, const tr_store_event_t *ev), void *arg,
                         const char **why) TR_MUSTCHECK;

/*
 * Reads the event at offset pos of the reader's file into out (reset first), whole,
 * without moving the cursor (the FORMAT_DESCRIPTION at 4). Returns 0, TR_ECORRUPT
 * with *why, TR_EINCOMPLETE when no whole event is readable there, or -errno.
 */
int tr_store_reader_event_at(tr_store_reader_t *r, uint64_t pos, tr_buf_t *out,
                             const char **why) TR_MUSTCHECK;

/*
 * At the readable end: asks the store for the file's committed size again. Returns 1 when
 * more bytes are readable, 0 when not, TR_ENOTFOUND when the file is gone (purged).
 */
int tr_store_reader_refresh(tr_store_reader_t *r) TR_MUSTCHECK;

/*
 * Moves to the file after the current one (after its ROTATE), at offset 4. Returns 0,
 * TR_ENOTFOUND when there is none yet (the reader is unchanged), or -errno.
 */
int tr_store_reader_next_file(tr_store_reader_t *r) TR_MUSTCHECK;

/*
 * Recovery's check of the store's own file (fd, io may be NULL): it starts with the
 * binlog magic and its events, walked from offset 4, end exactly at `end`, each with a
 * valid CRC32.
 * Returns 0; TR_ECORRUPT with *why (and *good_end = last valid event boundary)
 * when they do not; or -errno.
 */
int tr_store_reader_verify(const tr_store_io_t *io, int fd, uint64_t end, uint64_t *good_end,
                           const char **why) TR_MUSTCHECK;

#endif
