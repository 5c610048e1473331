/*
 * base64 (see base64.h) over OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock.
 *
 * Both take an int length and write a NUL after the text they encode, so input is cut into
 * pieces of at most CHUNK bytes (a multiple of 3, and of 4 characters when decoding) and each
 * piece is written through a small stack buffer or straight into reserved room.
 * EVP_DecodeBlock takes only whole groups of 4 and reads '=' as zero bits, returning 3 bytes
 * per group: a last group of 2 or 3 characters is padded here and cut to 1 or 2 bytes.
 */
#include "protocol/base64.h"

#include <string.h>

#include <openssl/evp.h>

#include "common/err.h"

enum { CHUNK = 3 * 1024 }; /* bytes per EVP_EncodeBlock call: 4 KiB of text */

void tr_base64_encode(const uint8_t *p, size_t len, tr_buf_t *out)
{
    while (len > 0) {
        size_t n = len < CHUNK ? len : CHUNK;
        unsigned char text[CHUNK / 3 * 4 + 1]; /* + the NUL EVP_EncodeBlock writes */
        int k = EVP_EncodeBlock(text, p, (int)n);
        tr_buf_append(out, text, (size_t)k);
        p += n;
        len -= n;
    }
}

static bool in_alphabet(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

int tr_base64_decode(const char *s, size_t len, tr_buf_t *out)
{
    while (len > 0 && s[len - 1] == '=') {
        len--;
    }
    if (len % 4 == 1) {
        return TR_EMALFORMED;
    }
    for (size_t i = 0; i < len; i++) {
        if (!in_alphabet(s[i])) {
            return TR_EMALFORMED;
        }
    }
    size_t whole = len - len % 4;
    for (size_t i = 0; i < whole;) {
        size_t n = whole - i < CHUNK / 3 * 4 ? whole - i : CHUNK / 3 * 4;
        uint8_t *d = tr_buf_extend(out, n / 4 * 3);
        if (d == NULL) {
            return 0; /* out's limit: sticky */
        }
        (void)EVP_DecodeBlock(d, (const unsigned char *)s + i, (int)n); /* valid: n / 4 * 3 */
        i += n;
    }
    if (len > whole) {
        unsigned char last[4] = {'=', '=', '=', '='};
        memcpy(last, s + whole, len - whole);
        unsigned char bytes[3];
        (void)EVP_DecodeBlock(bytes, last, 4);
        tr_buf_append(out, bytes, len - whole - 1); /* 2 characters: 1 byte, 3: 2 */
    }
    return 0;
}
