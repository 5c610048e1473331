/*
 * MySQL packet framing (see wire.h). Pure: no I/O, no logging; decoders
 * return views and never allocate.
 */
#include "protocol/wire.h"

#include <string.h>

#include "common/endian.h"
#include "common/err.h"

ssize_t tr_wire_packet_decode(const uint8_t *p, size_t len, size_t max_payload,
                              tr_wire_packet_t *out, const char **why)
{
    size_t off = 0;
    size_t total = 0;
    size_t frames = 0;
    uint8_t first_seq = 0;
    uint8_t last_seq = 0;

    for (;;) {
        if (len - off < TR_WIRE_HEADER_LEN) {
            return TR_EINCOMPLETE;
        }
        size_t flen = tr_load_u24le(p + off);
        uint8_t seq = p[off + 3];
        if (frames == 0) {
            first_seq = seq;
        } else if (seq != (uint8_t)(last_seq + 1)) {
            *why = "continuation frame has a non-consecutive sequence id";
            return TR_ESEQUENCE;
        }
        last_seq = seq;
        total += flen;
        frames++;
        if (max_payload != 0 && total > max_payload) {
            *why = "packet larger than max_packet_bytes";
            return TR_ETOOBIG;
        }
        if (len - off - TR_WIRE_HEADER_LEN < flen) {
            return TR_EINCOMPLETE;
        }
        off += TR_WIRE_HEADER_LEN + flen;
        if (flen < TR_WIRE_MAX_PAYLOAD) {
            break;
        }
    }
    out->first_seq = first_seq;
    out->last_seq = last_seq;
    out->payload_len = total;
    out->n_frames = frames;
    if (frames == 1) {
        out->payload = tr_slice(p + TR_WIRE_HEADER_LEN, total);
    } else {
        out->payload = tr_slice(NULL, 0);
    }
    return (ssize_t)off;
}

void tr_wire_packet_gather(const uint8_t *p, const tr_wire_packet_t *pkt, uint8_t *dst)
{
    size_t off = 0;
    size_t done = 0;
    for (size_t i = 0; i < pkt->n_frames; i++) {
        size_t flen = tr_load_u24le(p + off);
        memcpy(dst + done, p + off + TR_WIRE_HEADER_LEN, flen);
        done += flen;
        off += TR_WIRE_HEADER_LEN + flen;
    }
}

size_t tr_wire_begin(tr_buf_t *b)
{
    size_t start = b->len;
    tr_buf_put_zeros(b, TR_WIRE_HEADER_LEN);
    return start;
}

size_t tr_wire_framed_size(size_t len)
{
    /* One header per full frame plus one for the (possibly empty) last frame. */
    return len + TR_WIRE_HEADER_LEN * (len / TR_WIRE_MAX_PAYLOAD + 1);
}

void tr_wire_end(tr_buf_t *b, size_t start, uint8_t *seq)
{
    if (!tr_buf_ok(b) || b->len < start + TR_WIRE_HEADER_LEN) {
        return;
    }
    size_t len = b->len - start - TR_WIRE_HEADER_LEN;
    if (len < TR_WIRE_MAX_PAYLOAD) {
        tr_store_u24le(b->data + start, (uint32_t)len);
        b->data[start + 3] = (*seq)++;
        return;
    }
    /* Split in place: grow by the extra headers, then move the chunks to
     * their final places from the last one backwards. */
    size_t n_frames = len / TR_WIRE_MAX_PAYLOAD + 1;
    size_t extra = (n_frames - 1) * TR_WIRE_HEADER_LEN;
    if (tr_buf_extend(b, extra) == NULL) {
        return;
    }
    uint8_t *base = b->data + start;
    for (size_t i = n_frames; i-- > 0;) {
        size_t src = TR_WIRE_HEADER_LEN + i * TR_WIRE_MAX_PAYLOAD;
        size_t dst = i * (TR_WIRE_MAX_PAYLOAD + TR_WIRE_HEADER_LEN);
        size_t flen = i + 1 < n_frames ? TR_WIRE_MAX_PAYLOAD : len - i * TR_WIRE_MAX_PAYLOAD;
        memmove(base + dst + TR_WIRE_HEADER_LEN, base + src, flen);
        tr_store_u24le(base + dst, (uint32_t)flen);
    }
    for (size_t i = 0; i < n_frames; i++) {
        base[i * (TR_WIRE_MAX_PAYLOAD + TR_WIRE_HEADER_LEN) + 3] = (*seq)++;
    }
}

void tr_wire_put_packet(tr_buf_t *b, uint8_t *seq, const void *payload, size_t len)
{
    size_t start = tr_wire_begin(b);
    tr_buf_append(b, payload, len);
    tr_wire_end(b, start, seq);
}
