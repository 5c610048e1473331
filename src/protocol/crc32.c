/*
 * CRC-32 (see crc32.h). The folding follows the method of Gopal et al.,
 * "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ
 * Instruction" (Intel, 2009); the constants are derived here at start-up.
 *
 * Why folding works. Reading the message as a polynomial over GF(2), the
 * CRC register after a prefix depends only on that prefix mod P. A 128-bit
 * block X followed by D more bits of message contributes X * x^D, so X can be
 * replaced by any value congruent to X * x^D mod P and XORed into the block D
 * bits later. With the reflected bit order of this CRC, a 16-byte
 * little-endian load puts the first 8 bytes (the high-degree half L) in the
 * low 64 bits and the last 8 (H) in the high 64 bits: X = L * x^64 + H. The
 * carry-less product of a 64-bit reflected half and a 33-bit constant
 * reflect32(K) << 1 lands, read as a 128-bit reflected block, on
 * L * K * x^32, so the constants are K = x^(D+32) mod P for L and
 * x^(D-32) mod P for H. Four lanes are folded 64 bytes (D = 512) at a time,
 * then into one (D = 128), then 16 bytes at a time. What is left, a 128-bit
 * value congruent to the message so far, is run through the table CRC from
 * register 0, followed by the last < 16 bytes.
 */
#include "protocol/crc32.h"

#include <pthread.h>
#include <zlib.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TR_CRC_CLMUL 1
#endif

#define CLMUL_MIN_LEN 64 /* shorter buffers: the table is as fast */

uint32_t tr_crc32_portable(uint32_t crc, const void *buf, size_t len)
{
    return (uint32_t)crc32_z(crc, buf, len);
}

#ifdef TR_CRC_CLMUL

static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static bool use_clmul;
static uint64_t k512_lo, k512_hi; /* fold 4 lanes over 512 bits */
static uint64_t k128_lo, k128_hi; /* fold one block over 128 bits */

/* x^n mod P in normal bit order (bit i = coefficient of x^i), P = 0x104C11DB7. */
static uint32_t xpow_mod(unsigned n)
{
    uint64_t r = 1;
    for (unsigned i = 0; i < n; i++) {
        r <<= 1;
        if (r & 0x100000000ull) {
            r ^= 0x104C11DB7ull;
        }
    }
    return (uint32_t)r;
}

/* reflect32(x^n mod P) << 1: the multiplier for a 64-bit half (file comment). */
static uint64_t fold_const(unsigned n)
{
    uint32_t k = xpow_mod(n);
    uint32_t r = 0;
    for (int i = 0; i < 32; i++) {
        if (k & (1u << i)) {
            r |= 1u << (31 - i);
        }
    }
    return (uint64_t)r << 1;
}

static void setup(void)
{
    __builtin_cpu_init();
    use_clmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    k512_lo = fold_const(512 + 32);
    k512_hi = fold_const(512 - 32);
    k128_lo = fold_const(128 + 32);
    k128_hi = fold_const(128 - 32);
}

__attribute__((target("pclmul,sse4.1"))) static inline __m128i fold(__m128i x, __m128i k,
                                                                    __m128i next)
{
    __m128i lo = _mm_clmulepi64_si128(x, k, 0x00); /* L * k_lo */
    __m128i hi = _mm_clmulepi64_si128(x, k, 0x11); /* H * k_hi */
    return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
}

__attribute__((target("pclmul,sse4.1"))) static inline __m128i load16(const uint8_t *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

/* len >= CLMUL_MIN_LEN. */
__attribute__((target("pclmul,sse4.1"))) static uint32_t crc_clmul(uint32_t crc, const uint8_t *p,
                                                                  size_t len)
{
    const __m128i k512 = _mm_set_epi64x((long long)k512_hi, (long long)k512_lo);
    const __m128i k128 = _mm_set_epi64x((long long)k128_hi, (long long)k128_lo);
    /* The register (~crc) applies to the first 32 bits of the message. */
    __m128i x0 = _mm_xor_si128(load16(p), _mm_cvtsi32_si128((int)~crc));
    __m128i x1 = load16(p + 16);
    __m128i x2 = load16(p + 32);
    __m128i x3 = load16(p + 48);
    p += 64;
    len -= 64;
    while (len >= 64) {
        x0 = fold(x0, k512, load16(p));
        x1 = fold(x1, k512, load16(p + 16));
        x2 = fold(x2, k512, load16(p + 32));
        x3 = fold(x3, k512, load16(p + 48));
        p += 64;
        len -= 64;
    }
    __m128i x = fold(x0, k128, x1);
    x = fold(x, k128, x2);
    x = fold(x, k128, x3);
    while (len >= 16) {
        x = fold(x, k128, load16(p));
        p += 16;
        len -= 16;
    }
    uint8_t last[16];
    _mm_storeu_si128((__m128i *)(void *)last, x);
    /* zlib's crc32(c, m) is ~update(~c, m): the register from 0 over the folded block is
     * ~crc32(~0, last), and the result ~update(reg, tail) is crc32(~reg, tail). */
    uint32_t reg = ~(uint32_t)crc32_z(0xFFFFFFFFul, last, sizeof(last));
    return (uint32_t)crc32_z(~reg, p, len);
}

bool tr_crc32_accelerated(void)
{
    pthread_once(&setup_once, setup);
    return use_clmul;
}

uint32_t tr_crc32(uint32_t crc, const void *buf, size_t len)
{
    if (len >= CLMUL_MIN_LEN && tr_crc32_accelerated()) {
        return crc_clmul(crc, buf, len);
    }
    return tr_crc32_portable(crc, buf, len);
}

#else

bool tr_crc32_accelerated(void)
{
    return false;
}

uint32_t tr_crc32(uint32_t crc, const void *buf, size_t len)
{
    return tr_crc32_portable(crc, buf, len);
}

#endif
