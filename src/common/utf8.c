/*
 * UTF-8 decoding (see utf8.h), by the well-formed byte sequences of the Unicode standard
 * (table 3-7): the second byte's range depends on the first, which is how overlong forms,
 * surrogates and code points above U+10FFFF are refused.
 */
#include "common/utf8.h"

size_t tr_utf8_decode(const uint8_t *p, size_t len, uint32_t *cp)
{
    uint8_t b = p[0];
    size_t need;
    uint8_t lo = 0x80;
    uint8_t hi = 0xBF;
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b >= 0xC2 && b <= 0xDF) {
        need = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 3;
        lo = b == 0xE0 ? 0xA0 : 0x80;
        hi = b == 0xED ? 0x9F : 0xBF;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 4;
        lo = b == 0xF0 ? 0x90 : 0x80;
        hi = b == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (len < need || p[1] < lo || p[1] > hi) {
        return 0;
    }
    uint32_t c = b & (need == 2 ? 0x1F : need == 3 ? 0x0F : 0x07);
    for (size_t i = 1; i < need; i++) {
        if (i >= 2 && (p[i] < 0x80 || p[i] > 0xBF)) {
            return 0;
        }
        c = c << 6 | (p[i] & 0x3F);
    }
    *cp = c;
    return need;
}
