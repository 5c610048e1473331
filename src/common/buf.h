/*
 * Byte views and buffers.
 *  - tr_slice_t: borrowed view of bytes.
 *  - tr_buf_t: owned growable bytes with a read offset, a hard size limit and a
 *    sticky failure flag: encoders append freely and the caller checks
 *    tr_buf_ok() once afterwards.
 *  - tr_rd_t: bounded little-endian reader over a slice; underflow sets rd.err
 *    (checked once per message) and reads return 0.
 * Pure: no I/O.
 */
#ifndef TR_COMMON_BUF_H
#define TR_COMMON_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/defs.h"

typedef struct {
    const uint8_t *p;
    size_t len;
} tr_slice_t;

static inline tr_slice_t tr_slice(const void *p, size_t len)
{
    tr_slice_t s = {(const uint8_t *)p, len};
    return s;
}

typedef struct {
    uint8_t *data;
    size_t len;   /* bytes written */
    size_t off;   /* read offset, <= len */
    size_t cap;   /* allocated bytes */
    size_t limit; /* hard maximum for len; 0 = SIZE_MAX */
    bool failed;  /* sticky: an append would have exceeded limit */
} tr_buf_t;

void tr_buf_init(tr_buf_t *b, size_t limit);
void tr_buf_cleanup(tr_buf_t *b);
/* Empties the buffer (len = off = 0, failed = false), keeps the allocation. */
void tr_buf_reset(tr_buf_t *b);
/* Drops bytes before off, moving the unread bytes to the front. */
void tr_buf_compact(tr_buf_t *b);
/* Makes room for n more bytes; returns a pointer to write them or NULL (and sets failed). */
uint8_t *tr_buf_reserve(tr_buf_t *b, size_t n);
/* tr_buf_extend when the room is not there yet (grows, or fails past the limit). */
uint8_t *tr_buf_extend_slow(tr_buf_t *b, size_t n);

/* Appends n uninitialised bytes and returns a pointer to them (NULL if failed).
 * Inline: encoders call it for every field of every row. */
static inline uint8_t *tr_buf_extend(tr_buf_t *b, size_t n)
{
    if (!b->failed && n <= b->cap - b->len && (b->limit == 0 || n <= b->limit - b->len)) {
        uint8_t *p = b->data + b->len;
        b->len += n;
        return p;
    }
    return tr_buf_extend_slow(b, n);
}

static inline void tr_buf_append(tr_buf_t *b, const void *p, size_t n)
{
    uint8_t *d = tr_buf_extend(b, n);
    if (d != NULL && n > 0) {
        memcpy(d, p, n);
    }
}

static inline void tr_buf_put_u8(tr_buf_t *b, uint8_t v)
{
    uint8_t *d = tr_buf_extend(b, 1);
    if (d != NULL) {
        d[0] = v;
    }
}

void tr_buf_put_u16le(tr_buf_t *b, uint16_t v);
void tr_buf_put_u24le(tr_buf_t *b, uint32_t v);
void tr_buf_put_u32le(tr_buf_t *b, uint32_t v);
void tr_buf_put_u48le(tr_buf_t *b, uint64_t v);
void tr_buf_put_u64le(tr_buf_t *b, uint64_t v);
void tr_buf_put_zeros(tr_buf_t *b, size_t n);
/* MySQL length-encoded integer. */
void tr_buf_put_lenenc(tr_buf_t *b, uint64_t v);
/* lenenc length + bytes. */
void tr_buf_put_lenenc_str(tr_buf_t *b, const void *p, size_t n);
/* printf-style append (no NUL stored). */
void tr_buf_printf(tr_buf_t *b, const char *fmt, ...) TR_PRINTF(2, 3);

static inline bool tr_buf_ok(const tr_buf_t *b)
{
    return !b->failed;
}
static inline size_t tr_buf_unread(const tr_buf_t *b)
{
    return b->len - b->off;
}
static inline const uint8_t *tr_buf_head(const tr_buf_t *b)
{
    return b->data + b->off;
}

/* Size in bytes of v as a MySQL length-encoded integer (1, 3, 4 or 9). */
size_t tr_lenenc_size(uint64_t v);

typedef struct {
    const uint8_t *p;
    size_t len;
    size_t pos;
    bool err; /* set on any read past the end; reads then return 0 */
} tr_rd_t;

static inline tr_rd_t tr_rd(const void *p, size_t len)
{
    tr_rd_t r = {(const uint8_t *)p, len, 0, false};
    return r;
}
static inline size_t tr_rd_left(const tr_rd_t *r)
{
    return r->pos <= r->len ? r->len - r->pos : 0;
}
uint8_t tr_rd_u8(tr_rd_t *r);
uint16_t tr_rd_u16le(tr_rd_t *r);
uint32_t tr_rd_u24le(tr_rd_t *r);
uint32_t tr_rd_u32le(tr_rd_t *r);
uint64_t tr_rd_u48le(tr_rd_t *r);
uint64_t tr_rd_u64le(tr_rd_t *r);
/* MySQL lenenc integer; *is_null set for 0xFB when is_null != NULL (0xFB is an error otherwise). */
uint64_t tr_rd_lenenc(tr_rd_t *r, bool *is_null);
/* Returns a view of the next n bytes (NULL and err on underflow). */
const uint8_t *tr_rd_bytes(tr_rd_t *r, size_t n);
/* NUL-terminated string: returns view and length (excluding NUL), consumes the NUL. */
const char *tr_rd_cstr(tr_rd_t *r, size_t *len);
void tr_rd_skip(tr_rd_t *r, size_t n);

#endif
