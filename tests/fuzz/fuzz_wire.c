/*
 * Fuzz target: MySQL packet framing (protocol/wire.c) as the session input
 * loop uses it — decode packets one after another from the start of the
 * input with the server's size limit, gathering multi-frame payloads.
 */
#include "fuzz.h"

#include <string.h>

#include "common/err.h"
#include "protocol/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    /* The first byte picks a payload limit so the TR_ETOOBIG path is reached too. */
    size_t max_payload = size > 0 && (data[0] & 1) ? 64 : (size_t)64 << 20;
    while (off < size) {
        tr_wire_packet_t pkt;
        const char *why = NULL;
        ssize_t n = tr_wire_packet_decode(data + off, size - off, max_payload, &pkt, &why);
        if (n <= 0) {
            FUZZ_CHECK(n == TR_EINCOMPLETE || why != NULL);
            break;
        }
        FUZZ_CHECK((size_t)n <= size - off);
        FUZZ_CHECK(pkt.payload_len <= (size_t)n);
        if (pkt.n_frames > 1) {
            uint8_t *dst = malloc(pkt.payload_len ? pkt.payload_len : 1);
            tr_wire_packet_gather(data + off, &pkt, dst);
            free(dst);
        } else {
            FUZZ_CHECK(pkt.payload.len == pkt.payload_len);
            FUZZ_CHECK(pkt.payload_len == 0 || pkt.payload.p >= data + off);
        }
        off += (size_t)n;
    }
    return 0;
}
