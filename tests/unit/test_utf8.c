/*
 * Unit tests of common/utf8.c: every length of sequence, the boundaries of the well-formed
 * table (overlongs, surrogates, above U+10FFFF), stray and missing continuation bytes.
 */
#include "common/utf8.h"
#include "tr_test.h"

/* The decoded length of s[0..len) and, when valid, its code point in *cp. */
static size_t decode(const char *s, size_t len, uint32_t *cp)
{
    *cp = 0xFFFFFFFFu;
    return tr_utf8_decode((const uint8_t *)s, len, cp);
}

TR_TEST(valid)
{
    static const struct {
        const char *s;
        size_t len;
        uint32_t cp;
    } ok[] = {
        {"A", 1, 0x41},
        {"\x00", 1, 0},
        {"\x7f", 1, 0x7F},
        {"\xc2\x80", 2, 0x80},
        {"\xc3\xa9", 2, 0xE9},
        {"\xdf\xbf", 2, 0x7FF},
        {"\xe0\xa0\x80", 3, 0x800},
        {"\xe2\x80\xa8", 3, 0x2028},
        {"\xed\x9f\xbf", 3, 0xD7FF},
        {"\xee\x80\x80", 3, 0xE000},
        {"\xef\xbf\xbf", 3, 0xFFFF},
        {"\xf0\x90\x80\x80", 4, 0x10000},
        {"\xf0\x9f\x98\x80", 4, 0x1F600},
        {"\xf4\x8f\xbf\xbf", 4, 0x10FFFF},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint32_t cp;
        EXPECT_EQ_U64(decode(ok[i].s, ok[i].len, &cp), ok[i].len);
        EXPECT_EQ_U64(cp, ok[i].cp);
        /* What follows a sequence is not read. */
        char more[8] = {0};
        for (size_t k = 0; k < ok[i].len; k++) {
            more[k] = ok[i].s[k];
        }
        more[ok[i].len] = '\x80';
        EXPECT_EQ_U64(decode(more, ok[i].len + 1, &cp), ok[i].len);
    }
}

TR_TEST(invalid)
{
    static const struct {
        const char *s;
        size_t len;
    } bad[] = {
        {"\x80", 1}, /* continuation byte first */
        {"\xbf", 1},
        {"\xc0\x80", 2},         /* overlong NUL */
        {"\xc1\xbf", 2},         /* overlong */
        {"\xe0\x9f\xbf", 3},     /* overlong 3-byte */
        {"\xed\xa0\x80", 3},     /* surrogate U+D800 */
        {"\xed\xbf\xbf", 3},     /* surrogate U+DFFF */
        {"\xf0\x8f\xbf\xbf", 4}, /* overlong 4-byte */
        {"\xf4\x90\x80\x80", 4}, /* U+110000 */
        {"\xf5\x80\x80\x80", 4}, /* no such lead byte */
        {"\xff", 1},
        {"\xc3", 1}, /* cut short */
        {"\xe2\x80", 2},
        {"\xf0\x9f\x98", 3},
        {"\xc3\x41", 2},         /* second byte not a continuation */
        {"\xe2\x80\x41", 3},     /* third byte not a continuation */
        {"\xf0\x9f\x98\xc0", 4}, /* fourth byte not a continuation */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint32_t cp;
        if (decode(bad[i].s, bad[i].len, &cp) != 0) {
            TR_FAIL_AT("accepted case %zu", i);
        }
    }
}

TR_TEST_MAIN()
