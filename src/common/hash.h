/*
 * A fast non-cryptographic 64-bit hash of bytes for in-memory tables (duplicate detection,
 * name interning). Eight bytes per step, each folded in with a 64x64->128 multiply (the
 * construction of wyhash-style hashes); well mixed for table indexes, not for adversaries:
 * callers compare the bytes behind equal hashes. Pure.
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

static inline uint64_t tr_hash_bytes(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t h = seed ^ tr_hash_mix(len, 0x9E3779B97F4A7C15ull);
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = tr_hash_mix(h ^ v, 0xA0761D6478BD642Full);
        p += 8;
        len -= 8;
    }
    uint64_t v = 0;
    memcpy(&v, p, len);
    h = tr_hash_mix(h ^ v ^ ((uint64_t)len << 56), 0xE7037ED1A0B428DBull);
    return tr_hash_mix(h, 0x8EBC6AF09C88C6E3ull);
}

#endif
