/*
 * MySQL client/server packet framing: the 4-byte packet header, sequence ids
 * and the 16 MiB continuation rule, for decoding client packets and framing
 * server responses.
 *
 * Pure codec: no I/O, no logging, no allocation in decoders.
 * Follows shared/spec/mysql-replication-source.md section 1 (MySQL internals
 * "MySQL Packets"; go-mysql packet/conn.go, MaxScale pinloki send_event).
 *
 * Packet header (one frame):
 * | off | size | field                                               |
 * |-----|------|-----------------------------------------------------|
 * |   0 |    3 | payload length (LE), 0..0xFFFFFF                     |
 * |   3 |    1 | sequence id (wraps at 255)                           |
 * |   4 |    n | payload                                              |
 * A frame whose length is exactly 0xFFFFFF is continued by the next frame
 * (possibly empty); the logical packet is the concatenation of the payloads.
 */
#ifndef TR_PROTOCOL_WIRE_H
#define TR_PROTOCOL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/defs.h"

#define TR_WIRE_HEADER_LEN  4
#define TR_WIRE_MAX_PAYLOAD 0xFFFFFFu /* largest payload of one frame */

/* One logical packet found at the start of a byte range. */
typedef struct {
    uint8_t first_seq;    /* sequence id of the first frame */
    uint8_t last_seq;     /* sequence id of the last frame (the one to answer after) */
    size_t payload_len;   /* total payload bytes over every frame */
    size_t n_frames;      /* 1 unless the packet was split at 16 MiB */
    tr_slice_t payload;   /* view of the payload when n_frames == 1, else {NULL, 0} */
} tr_wire_packet_t;

/*
 * Decodes one logical packet (all its frames) at p. max_payload bounds the
 * total payload (0 = no bound). Returns the bytes it occupies on the wire
 * (> 0), TR_EINCOMPLETE when more bytes are needed (nothing committed), or
 * TR_ETOOBIG (payload over max_payload, detected from the headers alone) /
 * TR_ESEQUENCE (continuation frame with a non-consecutive sequence id) with
 * *why set. For a multi-frame packet, copy the payload out with
 * tr_wire_packet_gather. Thread: any.
 */
ssize_t tr_wire_packet_decode(const uint8_t *p, size_t len, size_t max_payload,
                              tr_wire_packet_t *out, const char **why);

/*
 * Copies the payload of a packet decoded from p (the same bytes passed to
 * tr_wire_packet_decode) into dst, which must hold pkt->payload_len bytes.
 */
void tr_wire_packet_gather(const uint8_t *p, const tr_wire_packet_t *pkt, uint8_t *dst);

/*
 * Starts a packet in b: reserves the 4-byte header and returns the offset of
 * the header, to pass to tr_wire_end. The payload is appended to b between
 * the two calls.
 */
size_t tr_wire_begin(tr_buf_t *b);

/*
 * Finishes the packet started at start: writes the header with *seq and
 * increments *seq (wrapping) per frame; a payload of 0xFFFFFF bytes or more
 * is split into continuation frames in place (a trailing empty frame is
 * added when the payload is an exact multiple of 0xFFFFFF).
 */
void tr_wire_end(tr_buf_t *b, size_t start, uint8_t *seq);

/* Appends payload[0..len) as one framed packet (split as needed). */
void tr_wire_put_packet(tr_buf_t *b, uint8_t *seq, const void *payload, size_t len);

/* Bytes a payload of len bytes occupies on the wire once framed. */
size_t tr_wire_framed_size(size_t len);

#endif
