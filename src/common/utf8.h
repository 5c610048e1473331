/*
 * UTF-8 decoding. Pure.
 */
#ifndef TR_COMMON_UTF8_H
#define TR_COMMON_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the sequence at p[0..len) (len >= 1): its length 1..4 with the code point in *cp,
 * or 0 when it is not valid UTF-8 (an overlong form, a surrogate, above U+10FFFF, a stray
 * continuation byte, or cut short by len); valid is what Go's utf8.DecodeRune accepts. */
size_t tr_utf8_decode(const uint8_t *p, size_t len, uint32_t *cp);

#endif
