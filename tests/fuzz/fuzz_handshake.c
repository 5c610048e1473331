/*
 * Fuzz target: the client's HandshakeResponse41 / SSLRequest
 * (protocol/handshake.c tr_hs_response_decode) and what the session does with
 * its auth response (protocol/auth.c: native and caching_sha2 scramble checks,
 * the full-path message after AuthMoreData 0x04 with and without TLS, the
 * RSA path's unscrambling), and the greeting decoder tools use. Every
 * returned view must lie inside the input.
 */
#include "fuzz.h"

#include <string.h>

#include "protocol/auth.h"
#include "protocol/handshake.h"

static const uint8_t scramble[20] = "0123456789abcdefghij";

static void auth(const uint8_t *resp, size_t len)
{
    uint8_t native[TR_AUTH_NATIVE_LEN];
    uint8_t sha2[TR_AUTH_SHA2_LEN];
    tr_auth_native_hash("pw", 2, native);
    tr_auth_sha2_hash("pw", 2, sha2);
    (void)tr_auth_is_empty_response(resp, len);
    if (tr_auth_native_verify(scramble, native, resp, len) == 0) {
        /* Only the right scramble of "pw" passes. */
        uint8_t want[20];
        tr_auth_native_scramble("pw", 2, scramble, want);
        FUZZ_CHECK(len == 20 && memcmp(resp, want, 20) == 0);
    }
    if (tr_auth_sha2_verify(scramble, sha2, resp, len) == 0) {
        uint8_t want[32];
        tr_auth_sha2_scramble("pw", 2, scramble, want);
        FUZZ_CHECK(len == 32 && memcmp(resp, want, 32) == 0);
    }
}

static void sha2_full(const uint8_t *p, size_t len)
{
    uint8_t sha2[TR_AUTH_SHA2_LEN];
    tr_auth_sha2_hash("pw", 2, sha2);
    for (int secure = 0; secure < 2; secure++) {
        tr_auth_sha2_msg_t m;
        const char *why = NULL;
        ssize_t n = tr_auth_sha2_msg_decode(len ? p : NULL, len, secure != 0, &m, &why);
        if (n < 0) {
            FUZZ_CHECK(why != NULL);
            continue;
        }
        FUZZ_CHECK((size_t)n == len);
        if (m.kind == TR_AUTH_SHA2_MSG_CLEARTEXT) {
            FUZZ_CHECK(m.len < len || len == 0);
            if (tr_auth_sha2_check_cleartext(sha2, m.p, m.len) == 0) {
                FUZZ_CHECK(m.len == 2 && memcmp(m.p, "pw", 2) == 0);
            }
        } else if (m.kind == TR_AUTH_SHA2_MSG_RSA) {
            FUZZ_CHECK(m.len <= TR_AUTH_SHA2_MAX_RSA_LEN);
            /* As if the ciphertext had decrypted to these bytes. */
            uint8_t plain[TR_AUTH_SHA2_MAX_RSA_LEN];
            memcpy(plain, m.p, m.len);
            if (tr_auth_sha2_check_rsa_plain(sha2, scramble, plain, m.len) == 0) {
                FUZZ_CHECK(m.len == 3);
            }
        }
    }
}

static void check_view(tr_slice_t s, const uint8_t *data, size_t size)
{
    if (s.len > 0) {
        FUZZ_CHECK(s.p >= data && s.p + s.len <= data + size);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tr_hs_response_t r;
    const char *why = NULL;
    ssize_t n = tr_hs_response_decode(data, size, &r, &why);
    if (n >= 0) {
        FUZZ_CHECK((size_t)n <= size);
        check_view(r.user, data, size);
        check_view(r.auth_response, data, size);
        check_view(r.database, data, size);
        check_view(r.auth_plugin, data, size);
        check_view(r.attrs, data, size);
        auth(r.auth_response.p, r.auth_response.len);
    } else {
        FUZZ_CHECK(why != NULL);
    }
    tr_hs_greeting_t g;
    uint8_t greet_scramble[TR_SCRAMBLE_LEN];
    (void)tr_hs_greeting_decode(data, size, &g, greet_scramble, &why);
    sha2_full(data, size);
    return 0;
}
