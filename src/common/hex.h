/*
 * Hexadecimal digits, both ways. Pure.
 */
#ifndef TR_COMMON_HEX_H
#define TR_COMMON_HEX_H

/* The value 0..15 of the hex digit c (0-9, a-f, A-F), or -1 for any other character. Pass a
 * char as (unsigned char). */
static inline int tr_hex_digit(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* The value of the four hex digits at p (p has at least 4 bytes), or -1: a JSON \u escape. */
static inline long tr_hex4(const unsigned char *p)
{
    int a = tr_hex_digit(p[0]);
    int b = tr_hex_digit(p[1]);
    int c = tr_hex_digit(p[2]);
    int d = tr_hex_digit(p[3]);
    if ((a | b | c | d) < 0) {
        return -1;
    }
    return (long)a << 12 | b << 8 | c << 4 | d;
}

/* The lower-case hex digit of the low 4 bits of v. */
static inline char tr_hex_char(unsigned v)
{
    return "0123456789abcdef"[v & 15];
}

#endif
