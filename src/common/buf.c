/* Buffers and the bounded reader (see buf.h). */
#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/endian.h"
#include "common/mem.h"

void tr_buf_init(tr_buf_t *b, size_t limit)
{
    memset(b, 0, sizeof(*b));
    b->limit = limit;
}

void tr_buf_cleanup(tr_buf_t *b)
{
    tr_free(b->data);
    memset(b, 0, sizeof(*b));
}

void tr_buf_reset(tr_buf_t *b)
{
    b->len = 0;
    b->off = 0;
    b->failed = false;
}

void tr_buf_compact(tr_buf_t *b)
{
    if (b->off == 0) {
        return;
    }
    size_t unread = b->len - b->off;
    if (unread > 0) {
        memmove(b->data, b->data + b->off, unread);
    }
    b->len = unread;
    b->off = 0;
}

uint8_t *tr_buf_reserve(tr_buf_t *b, size_t n)
{
    if (b->failed) {
        return NULL;
    }
    size_t limit = b->limit ? b->limit : SIZE_MAX;
    if (n > limit - b->len) {
        b->failed = true;
        return NULL;
    }
    size_t need = b->len + n;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need) {
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        }
        b->data = tr_realloc(b->data, cap);
        b->cap = cap;
    }
    return b->data + b->len;
}

uint8_t *tr_buf_extend_slow(tr_buf_t *b, size_t n)
{
    uint8_t *p = tr_buf_reserve(b, n);
    if (p != NULL) {
        b->len += n;
    }
    return p;
}

void tr_buf_put_u16le(tr_buf_t *b, uint16_t v)
{
    uint8_t *d = tr_buf_extend(b, 2);
    if (d != NULL) {
        tr_store_u16le(d, v);
    }
}

void tr_buf_put_u24le(tr_buf_t *b, uint32_t v)
{
    uint8_t *d = tr_buf_extend(b, 3);
    if (d != NULL) {
        tr_store_u24le(d, v);
    }
}

void tr_buf_put_u32le(tr_buf_t *b, uint32_t v)
{
    uint8_t *d = tr_buf_extend(b, 4);
    if (d != NULL) {
        tr_store_u32le(d, v);
    }
}

void tr_buf_put_u48le(tr_buf_t *b, uint64_t v)
{
    uint8_t *d = tr_buf_extend(b, 6);
    if (d != NULL) {
        tr_store_u48le(d, v);
    }
}

void tr_buf_put_u64le(tr_buf_t *b, uint64_t v)
{
    uint8_t *d = tr_buf_extend(b, 8);
    if (d != NULL) {
        tr_store_u64le(d, v);
    }
}

void tr_buf_put_zeros(tr_buf_t *b, size_t n)
{
    uint8_t *d = tr_buf_extend(b, n);
    if (d != NULL && n > 0) {
        memset(d, 0, n);
    }
}

size_t tr_lenenc_size(uint64_t v)
{
    if (v < 251) {
        return 1;
    }
    if (v < (1u << 16)) {
        return 3;
    }
    if (v < (1u << 24)) {
        return 4;
    }
    return 9;
}

void tr_buf_put_lenenc(tr_buf_t *b, uint64_t v)
{
    if (v < 251) {
        tr_buf_put_u8(b, (uint8_t)v);
    } else if (v < (1u << 16)) {
        tr_buf_put_u8(b, 0xFC);
        tr_buf_put_u16le(b, (uint16_t)v);
    } else if (v < (1u << 24)) {
        tr_buf_put_u8(b, 0xFD);
        tr_buf_put_u24le(b, (uint32_t)v);
    } else {
        tr_buf_put_u8(b, 0xFE);
        tr_buf_put_u64le(b, v);
    }
}

void tr_buf_put_lenenc_str(tr_buf_t *b, const void *p, size_t n)
{
    tr_buf_put_lenenc(b, n);
    tr_buf_append(b, p, n);
}

void tr_buf_printf(tr_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    uint8_t *d = tr_buf_reserve(b, (size_t)n + 1);
    if (d == NULL) {
        return;
    }
    va_start(ap, fmt);
    (void)vsnprintf((char *)d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static const uint8_t *take(tr_rd_t *r, size_t n)
{
    if (r->err || n > tr_rd_left(r)) {
        r->err = true;
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

uint8_t tr_rd_u8(tr_rd_t *r)
{
    const uint8_t *p = take(r, 1);
    return p ? p[0] : 0;
}

uint16_t tr_rd_u16le(tr_rd_t *r)
{
    const uint8_t *p = take(r, 2);
    return p ? tr_load_u16le(p) : 0;
}

uint32_t tr_rd_u24le(tr_rd_t *r)
{
    const uint8_t *p = take(r, 3);
    return p ? tr_load_u24le(p) : 0;
}

uint32_t tr_rd_u32le(tr_rd_t *r)
{
    const uint8_t *p = take(r, 4);
    return p ? tr_load_u32le(p) : 0;
}

uint64_t tr_rd_u48le(tr_rd_t *r)
{
    const uint8_t *p = take(r, 6);
    return p ? tr_load_u48le(p) : 0;
}

uint64_t tr_rd_u64le(tr_rd_t *r)
{
    const uint8_t *p = take(r, 8);
    return p ? tr_load_u64le(p) : 0;
}

uint64_t tr_rd_lenenc(tr_rd_t *r, bool *is_null)
{
    if (is_null != NULL) {
        *is_null = false;
    }
    uint8_t first = tr_rd_u8(r);
    if (r->err) {
        return 0;
    }
    switch (first) {
    case 0xFB:
        if (is_null != NULL) {
            *is_null = true;
        } else {
            r->err = true;
        }
        return 0;
    case 0xFC:
        return tr_rd_u16le(r);
    case 0xFD:
        return tr_rd_u24le(r);
    case 0xFE:
        return tr_rd_u64le(r);
    case 0xFF:
        r->err = true;
        return 0;
    default:
        return first;
    }
}

const uint8_t *tr_rd_bytes(tr_rd_t *r, size_t n)
{
    return take(r, n);
}

const char *tr_rd_cstr(tr_rd_t *r, size_t *len)
{
    if (r->err) {
        return NULL;
    }
    size_t left = tr_rd_left(r);
    const uint8_t *start = r->p + r->pos;
    const uint8_t *nul = memchr(start, 0, left);
    if (nul == NULL) {
        r->err = true;
        return NULL;
    }
    size_t n = (size_t)(nul - start);
    r->pos += n + 1;
    if (len != NULL) {
        *len = n;
    }
    return (const char *)start;
}

void tr_rd_skip(tr_rd_t *r, size_t n)
{
    (void)take(r, n);
}
