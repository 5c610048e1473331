/*
 * Fuzz target: the client's HandshakeResponse41 / SSLRequest
 * (protocol/handshake.c tr_hs_response_decode), and the greeting decoder
 * tools use. Every returned view must lie inside the input.
 */
#include "fuzz.h"

#include "protocol/handshake.h"

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
    } else {
        FUZZ_CHECK(why != NULL);
    }
    tr_hs_greeting_t g;
    uint8_t scramble[TR_SCRAMBLE_LEN];
    (void)tr_hs_greeting_decode(data, size, &g, scramble, &why);
    return 0;
}
