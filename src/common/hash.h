/*
 * A fast non-cryptographic 64-bit hash of bytes for in-memory tables (duplicate detection,
 * name interning). Eight bytes per step (four such lanes on long inputs), each folded in
 * with a 64x64->128 multiply (the construction of wyhash-style hashes); well mixed for
 * table indexes, not for adversaries: callers compare the bytes behind equal hashes. Pure.
 */
#ifndef TR_COMMON_HASH_H
#define TR_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

__extension__ typedef unsigned __int128 tr_hash_u128_t;

static inline uint64_t tr_hash_mix(uint64_t a, uint64_t b)
{
    tr_hash_u128_t r = (tr_hash_u128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* The len (< 8) bytes at p as one word that holds each of them: two overlapping loads for
 * 4..7 bytes, the first, middle and last byte for 1..3 (the caller mixes len in, which
 * makes the word unique for each length). No byte loop: most keys hashed here are short. */
static inline uint64_t tr_hash_tail(const uint8_t *p, size_t len)
{
    if (len >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + len - 4, 4);
        return (uint64_t)a << 32 | b;
    }
    if (len == 0) {
        return 0;
    }
    return (uint64_t)p[0] << 16 | (uint64_t)p[len >> 1] << 8 | p[len - 1];
}

static inline uint64_t tr_hash_bytes(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t h = seed ^ tr_hash_mix(len, 0x9E3779B97F4A7C15ull);
    if (len >= 64) {
        /* Four lanes of eight bytes, so that the multiplies run side by side instead of
         * each waiting for the one before (row images are hundreds of bytes). */
        uint64_t l0 = h;
        uint64_t l1 = h ^ 0x589965CC75374CC3ull;
        uint64_t l2 = h ^ 0x1D8E4E27C47D124Full;
        uint64_t l3 = h ^ 0xE7037ED1A0B428DBull;
        do {
            uint64_t v[4];
            memcpy(v, p, sizeof(v));
            l0 = tr_hash_mix(l0 ^ v[0], 0xA0761D6478BD642Full);
            l1 = tr_hash_mix(l1 ^ v[1], 0xE7037ED1A0B428DBull);
            l2 = tr_hash_mix(l2 ^ v[2], 0x8EBC6AF09C88C6E3ull);
            l3 = tr_hash_mix(l3 ^ v[3], 0x589965CC75374CC3ull);
            p += 32;
            len -= 32;
        } while (len >= 32);
        h = tr_hash_mix(l0 ^ l2, 0x1D8E4E27C47D124Full) ^
            tr_hash_mix(l1 ^ l3, 0xA0761D6478BD642Full);
    }
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = tr_hash_mix(h ^ v, 0xA0761D6478BD642Full);
        p += 8;
        len -= 8;
    }
    h = tr_hash_mix(h ^ tr_hash_tail(p, len) ^ ((uint64_t)len << 56), 0xE7037ED1A0B428DBull);
    return tr_hash_mix(h, 0x8EBC6AF09C88C6E3ull);
}

#endif
