/*
 * Scramble checks (see auth.h). Pure: libcrypto digests only, no I/O, no
 * logging. Comparisons of secrets use CRYPTO_memcmp.
 */
#include "protocol/auth.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/defs.h"
#include "common/err.h"

/* out = digest(a || b); digest output length is fixed by md. */
static void digest2(const EVP_MD *md, const void *a, size_t alen, const void *b, size_t blen,
                    uint8_t *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    TR_ASSERT(ctx != NULL);
    int ok = EVP_DigestInit_ex(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, a, alen) == 1 &&
             (blen == 0 || EVP_DigestUpdate(ctx, b, blen) == 1) &&
             EVP_DigestFinal_ex(ctx, out, &n) == 1;
    EVP_MD_CTX_free(ctx);
    TR_ASSERT(ok);
}

void tr_auth_native_hash(const void *password, size_t len, uint8_t stored[TR_AUTH_NATIVE_LEN])
{
    uint8_t h1[TR_AUTH_NATIVE_LEN];
    digest2(EVP_sha1(), password, len, NULL, 0, h1);
    digest2(EVP_sha1(), h1, sizeof(h1), NULL, 0, stored);
}

void tr_auth_native_scramble(const void *password, size_t len, const uint8_t scramble[20],
                             uint8_t out[TR_AUTH_NATIVE_LEN])
{
    uint8_t h1[TR_AUTH_NATIVE_LEN];
    uint8_t h2[TR_AUTH_NATIVE_LEN];
    uint8_t mix[TR_AUTH_NATIVE_LEN];
    digest2(EVP_sha1(), password, len, NULL, 0, h1);
    digest2(EVP_sha1(), h1, sizeof(h1), NULL, 0, h2);
    digest2(EVP_sha1(), scramble, 20, h2, sizeof(h2), mix);
    for (size_t i = 0; i < TR_AUTH_NATIVE_LEN; i++) {
        out[i] = h1[i] ^ mix[i];
    }
}

int tr_auth_native_verify(const uint8_t scramble[20], const uint8_t stored[TR_AUTH_NATIVE_LEN],
                          const uint8_t *resp, size_t resp_len)
{
    if (resp_len != TR_AUTH_NATIVE_LEN) {
        return TR_EAUTH;
    }
    uint8_t mix[TR_AUTH_NATIVE_LEN];
    uint8_t x[TR_AUTH_NATIVE_LEN];
    uint8_t check[TR_AUTH_NATIVE_LEN];
    digest2(EVP_sha1(), scramble, 20, stored, TR_AUTH_NATIVE_LEN, mix);
    for (size_t i = 0; i < TR_AUTH_NATIVE_LEN; i++) {
        x[i] = resp[i] ^ mix[i];
    }
    digest2(EVP_sha1(), x, sizeof(x), NULL, 0, check);
    return CRYPTO_memcmp(check, stored, TR_AUTH_NATIVE_LEN) == 0 ? 0 : TR_EAUTH;
}

bool tr_auth_is_empty_response(const uint8_t *resp, size_t resp_len)
{
    return resp_len == 0 || (resp_len == 1 && resp[0] == 0);
}

void tr_auth_sha2_hash(const void *password, size_t len, uint8_t stored[TR_AUTH_SHA2_LEN])
{
    uint8_t h1[TR_AUTH_SHA2_LEN];
    digest2(EVP_sha256(), password, len, NULL, 0, h1);
    digest2(EVP_sha256(), h1, sizeof(h1), NULL, 0, stored);
}

void tr_auth_sha2_scramble(const void *password, size_t len, const uint8_t scramble[20],
                           uint8_t out[TR_AUTH_SHA2_LEN])
{
    uint8_t h1[TR_AUTH_SHA2_LEN];
    uint8_t h2[TR_AUTH_SHA2_LEN];
    uint8_t mix[TR_AUTH_SHA2_LEN];
    digest2(EVP_sha256(), password, len, NULL, 0, h1);
    digest2(EVP_sha256(), h1, sizeof(h1), NULL, 0, h2);
    digest2(EVP_sha256(), h2, sizeof(h2), scramble, 20, mix);
    for (size_t i = 0; i < TR_AUTH_SHA2_LEN; i++) {
        out[i] = h1[i] ^ mix[i];
    }
}

int tr_auth_sha2_verify(const uint8_t scramble[20], const uint8_t stored[TR_AUTH_SHA2_LEN],
                        const uint8_t *resp, size_t resp_len)
{
    if (resp_len != TR_AUTH_SHA2_LEN) {
        return TR_EAUTH;
    }
    uint8_t mix[TR_AUTH_SHA2_LEN];
    uint8_t x[TR_AUTH_SHA2_LEN];
    uint8_t check[TR_AUTH_SHA2_LEN];
    digest2(EVP_sha256(), stored, TR_AUTH_SHA2_LEN, scramble, 20, mix);
    for (size_t i = 0; i < TR_AUTH_SHA2_LEN; i++) {
        x[i] = resp[i] ^ mix[i];
    }
    digest2(EVP_sha256(), x, sizeof(x), NULL, 0, check);
    return CRYPTO_memcmp(check, stored, TR_AUTH_SHA2_LEN) == 0 ? 0 : TR_EAUTH;
}

ssize_t tr_auth_sha2_msg_decode(const uint8_t *p, size_t len, bool is_secure,
                                tr_auth_sha2_msg_t *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    if (len == 0) {
        *why = "empty caching_sha2_password full-auth packet";
        return TR_EMALFORMED;
    }
    if (is_secure) {
        /* password || 0x00 (MySQL and libmariadb send the NUL; an empty
         * password is the single 0x00). */
        if (p[len - 1] != 0 || memchr(p, 0, len - 1) != NULL) {
            *why = "cleartext password is not one NUL-terminated string";
            return TR_EMALFORMED;
        }
        out->kind = TR_AUTH_SHA2_MSG_CLEARTEXT;
        out->p = p;
        out->len = len - 1;
        return (ssize_t)len;
    }
    if (len == 1 && p[0] == TR_AUTH_SHA2_REQUEST_KEY) {
        out->kind = TR_AUTH_SHA2_MSG_REQUEST_KEY;
        return (ssize_t)len;
    }
    if (len > TR_AUTH_SHA2_MAX_RSA_LEN) {
        *why = "RSA-encrypted password longer than a 4096-bit key";
        return TR_EMALFORMED;
    }
    out->kind = TR_AUTH_SHA2_MSG_RSA;
    out->p = p;
    out->len = len;
    return (ssize_t)len;
}

void tr_auth_xor_scramble(uint8_t *buf, size_t len, const uint8_t scramble[20])
{
    for (size_t i = 0; i < len; i++) {
        buf[i] ^= scramble[i % 20];
    }
}

int tr_auth_sha2_check_cleartext(const uint8_t stored[TR_AUTH_SHA2_LEN], const uint8_t *pw,
                                 size_t len)
{
    uint8_t h[TR_AUTH_SHA2_LEN];
    tr_auth_sha2_hash(pw, len, h);
    int ok = CRYPTO_memcmp(h, stored, TR_AUTH_SHA2_LEN) == 0;
    OPENSSL_cleanse(h, sizeof(h));
    return ok ? 0 : TR_EAUTH;
}

int tr_auth_sha2_check_rsa_plain(const uint8_t stored[TR_AUTH_SHA2_LEN], const uint8_t scramble[20],
                                 uint8_t *plain, size_t len)
{
    if (len == 0) {
        return TR_EAUTH;
    }
    tr_auth_xor_scramble(plain, len, scramble);
    if (plain[len - 1] != 0 || memchr(plain, 0, len - 1) != NULL) {
        return TR_EAUTH;
    }
    return tr_auth_sha2_check_cleartext(stored, plain, len - 1);
}
