/*
 * UTF-8 decoding and encoding. Pure.
 */
#ifndef TR_COMMON_UTF8_H
#define TR_COMMON_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the sequence at p[0..len) (len >= 1): its length 1..4 with the code point in *cp,
 * or 0 when it is not valid UTF-8 (an overlong form, a surrogate, above U+10FFFF, a stray
 * continuation byte, or cut short by len); valid is what Go's utf8.DecodeRune accepts. */
size_t tr_utf8_decode(const uint8_t *p, size_t len, uint32_t *cp);

/* Writes code point cp (at most U+10FFFF, no surrogate) as UTF-8 into out; its length 1..4.
 * Inline: the JSON string decoders call it per escaped character. */
static inline size_t tr_utf8_encode(uint8_t out[4], uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | cp >> 6);
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | cp >> 12);
        out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | cp >> 18);
    out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

#endif
