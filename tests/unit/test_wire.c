/* Unit tests for protocol/wire: framing, 16 MiB continuation, truncation. */
#include "tr_test.h"

#include "common/buf.h"
#include "common/err.h"
#include "protocol/wire.h"

#include "vec_packets.inc"

#define CLI_VEC "tests/vectors/mysql/mariadb-10.11-cli-session.txt"

TR_TEST(wire_decodes_every_captured_packet)
{
    vec_packet_t pk[64];
    size_t n = vec_read_packets(CLI_VEC, pk, 64);
    EXPECT_TRUE(n >= 10);
    for (size_t i = 0; i < n; i++) {
        tr_wire_packet_t w;
        const char *why = NULL;
        ssize_t r = tr_wire_packet_decode(pk[i].bytes, pk[i].len, 0, &w, &why);
        EXPECT_EQ_INT(r, (ssize_t)pk[i].len);
        EXPECT_EQ_INT(w.n_frames, 1);
        EXPECT_EQ_INT(w.payload_len, pk[i].len - 4);
        EXPECT_TRUE(w.payload.p == pk[i].bytes + 4);
        /* Every strict prefix needs more input. */
        for (size_t k = 0; k < pk[i].len; k++) {
            EXPECT_EQ_INT(tr_wire_packet_decode(pk[i].bytes, k, 0, &w, &why), TR_EINCOMPLETE);
        }
        /* Re-framing the payload with the same seq gives the same bytes. */
        tr_buf_t b;
        tr_buf_init(&b, 0);
        uint8_t seq = pk[i].bytes[3];
        tr_wire_put_packet(&b, &seq, pk[i].bytes + 4, pk[i].len - 4);
        EXPECT_EQ_MEM(b.data, b.len, pk[i].bytes, pk[i].len);
        EXPECT_EQ_INT(seq, (uint8_t)(pk[i].bytes[3] + 1));
        tr_buf_cleanup(&b);
    }
    vec_free_packets(pk, n);
}

TR_TEST(wire_golden_ok_packet)
{
    /* OK after auth from the capture: 07 00 00 02 | 00 00 00 02 00 00 00 */
    const uint8_t want[] = {0x07, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00};
    tr_buf_t b;
    tr_buf_init(&b, 0);
    uint8_t seq = 2;
    size_t h = tr_wire_begin(&b);
    const uint8_t payload[] = {0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00};
    tr_buf_append(&b, payload, sizeof(payload));
    tr_wire_end(&b, h, &seq);
    EXPECT_EQ_MEM(b.data, b.len, want, sizeof(want));
    EXPECT_EQ_INT(seq, 3);
    tr_buf_cleanup(&b);
}

static void check_split(size_t len)
{
    tr_buf_t b;
    tr_buf_init(&b, 0);
    uint8_t *payload = malloc(len + 1);
    for (size_t i = 0; i < len; i++) {
        payload[i] = (uint8_t)(i * 7 + 3);
    }
    uint8_t seq = 254;
    tr_buf_put_u8(&b, 0xAA); /* something before the packet */
    tr_wire_put_packet(&b, &seq, payload, len);
    EXPECT_TRUE(tr_buf_ok(&b));
    EXPECT_EQ_INT(b.len, 1 + tr_wire_framed_size(len));
    size_t frames = len / TR_WIRE_MAX_PAYLOAD + 1;
    EXPECT_EQ_INT(seq, (uint8_t)(254 + frames));

    tr_wire_packet_t w;
    const char *why = NULL;
    ssize_t r = tr_wire_packet_decode(b.data + 1, b.len - 1, 0, &w, &why);
    EXPECT_EQ_INT(r, (ssize_t)(b.len - 1));
    EXPECT_EQ_INT(w.n_frames, frames);
    EXPECT_EQ_INT(w.payload_len, len);
    EXPECT_EQ_INT(w.first_seq, 254);
    EXPECT_EQ_INT(w.last_seq, (uint8_t)(254 + frames - 1));
    uint8_t *got = malloc(len + 1);
    tr_wire_packet_gather(b.data + 1, &w, got);
    EXPECT_TRUE(memcmp(got, payload, len) == 0);
    /* A few truncation points, including inside the second header. */
    size_t cuts[] = {0, 3, 4, 100, TR_WIRE_MAX_PAYLOAD + 4, TR_WIRE_MAX_PAYLOAD + 6, b.len - 2};
    for (size_t i = 0; i < TR_ARRAY_LEN(cuts); i++) {
        if (cuts[i] >= b.len - 1) {
            continue;
        }
        EXPECT_EQ_INT(tr_wire_packet_decode(b.data + 1, cuts[i], 0, &w, &why), TR_EINCOMPLETE);
    }
    /* Limit checked from headers alone. */
    EXPECT_EQ_INT(tr_wire_packet_decode(b.data + 1, 10, 1000, &w, &why), TR_ETOOBIG);
    free(got);
    free(payload);
    tr_buf_cleanup(&b);
}

TR_TEST(wire_split_16mib)
{
    check_split(TR_WIRE_MAX_PAYLOAD - 1);
    check_split(TR_WIRE_MAX_PAYLOAD);      /* exact: trailing empty frame */
    check_split(TR_WIRE_MAX_PAYLOAD + 10);
    check_split(2 * (size_t)TR_WIRE_MAX_PAYLOAD); /* two full + empty */
}

TR_TEST(wire_bad_continuation_sequence)
{
    /* Hand-built: a full frame with seq 0 followed by a frame with seq 5. */
    size_t len = TR_WIRE_MAX_PAYLOAD + 4 + 4 + 1;
    uint8_t *p = calloc(1, len);
    p[0] = p[1] = p[2] = 0xFF;
    p[3] = 0;
    size_t o = 4 + TR_WIRE_MAX_PAYLOAD;
    p[o] = 1;
    p[o + 3] = 5;
    tr_wire_packet_t w;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_wire_packet_decode(p, len, 0, &w, &why), TR_ESEQUENCE);
    EXPECT_TRUE(why != NULL);
    free(p);
}

TR_TEST(wire_empty_packet)
{
    const uint8_t p[] = {0, 0, 0, 7};
    tr_wire_packet_t w;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_wire_packet_decode(p, 4, 0, &w, &why), 4);
    EXPECT_EQ_INT(w.payload_len, 0);
    EXPECT_EQ_INT(w.first_seq, 7);
}

TR_TEST_MAIN()
