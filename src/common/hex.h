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

/* The lower-case hex digit of the low 4 bits of v. */
static inline char tr_hex_char(unsigned v)
{
    return "0123456789abcdef"[v & 15];
}

#endif
