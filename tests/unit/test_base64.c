/*
 * Unit tests of protocol/base64.c: the RFC 4648 section 10 vectors both ways, optional
 * padding, what the decoder refuses (whitespace, '=' inside, a lone character over a
 * group, characters outside the alphabet), long input across the encoder's pieces, and the
 * output buffer's limit.
 */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "protocol/base64.h"
#include "tr_test.h"

/* 0 and the decoded bytes in out, or the error. */
static int decode(const char *s, tr_buf_t *out)
{
    tr_buf_reset(out);
    return tr_base64_decode(s, strlen(s), out);
}

TR_TEST(rfc4648_vectors)
{
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        tr_buf_t b;
        tr_buf_init(&b, 0);
        tr_base64_encode((const uint8_t *)in[i], strlen(in[i]), &b);
        EXPECT_EQ_MEM(b.data, b.len, out[i], strlen(out[i]));
        EXPECT_EQ_INT(decode(out[i], &b), 0);
        EXPECT_EQ_MEM(b.data, b.len, in[i], strlen(in[i]));
        tr_buf_cleanup(&b);
    }
}

TR_TEST(all_byte_values)
{
    uint8_t bytes[256];
    for (int i = 0; i < 256; i++) {
        bytes[i] = (uint8_t)i;
    }
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_base64_encode(bytes, 3, &b);
    EXPECT_EQ_MEM(b.data, b.len, "AAEC", 4);
    tr_buf_reset(&b);
    tr_base64_encode(bytes + 0xFB, 5, &b); /* '+' and '/', the last two letters */
    EXPECT_EQ_MEM(b.data, b.len, "+/z9/v8=", 8);
    tr_buf_reset(&b);
    tr_base64_encode(bytes, sizeof(bytes), &b);
    EXPECT_EQ_U64(b.len, 344);
    tr_buf_t d;
    tr_buf_init(&d, 0);
    EXPECT_EQ_INT(tr_base64_decode((const char *)b.data, b.len, &d), 0);
    EXPECT_EQ_MEM(d.data, d.len, bytes, sizeof(bytes));
    tr_buf_cleanup(&d);
    tr_buf_cleanup(&b);
}

TR_TEST(padding_optional)
{
    tr_buf_t b;
    tr_buf_init(&b, 0);
    /* Unpadded, padded, and over-padded forms decode alike (Go's RawStdEncoding and
     * StdEncoding texts both reach us). */
    const char *one[] = {"Zg", "Zg=", "Zg==", "Zg==="};
    for (size_t i = 0; i < 4; i++) {
        EXPECT_EQ_INT(decode(one[i], &b), 0);
        EXPECT_EQ_MEM(b.data, b.len, "f", 1);
    }
    const char *two[] = {"Zm8", "Zm8="};
    for (size_t i = 0; i < 2; i++) {
        EXPECT_EQ_INT(decode(two[i], &b), 0);
        EXPECT_EQ_MEM(b.data, b.len, "fo", 2);
    }
    EXPECT_EQ_INT(decode("Zm9vYg", &b), 0);
    EXPECT_EQ_MEM(b.data, b.len, "foob", 4);
    EXPECT_EQ_INT(decode("====", &b), 0); /* only padding: nothing */
    EXPECT_EQ_U64(b.len, 0);
    /* Bits below the last whole byte are not checked (as before: "Zh" is not canonical). */
    EXPECT_EQ_INT(decode("Zh", &b), 0);
    EXPECT_EQ_MEM(b.data, b.len, "f", 1);
    tr_buf_cleanup(&b);
}

TR_TEST(invalid_input)
{
    tr_buf_t b;
    tr_buf_init(&b, 0);
    const char *bad[] = {
        "Zm9v!",        /* outside the alphabet */
        "Z",            /* one character over a group */
        "Zm9vY",        /* the same after a whole group */
        "Z===",         /* the same with padding */
        "Zm9v\n",       /* whitespace, which EVP_DecodeBlock alone would trim */
        " Zm9v",        /* leading whitespace */
        "Zm 9v",        /* inner whitespace */
        "Zm=v",         /* padding inside, which EVP_DecodeBlock reads as zero bits */
        "Zg==Zg==",     /* two padded groups */
        "Zm9v-",        /* '-' is URL-safe base64 (and EVP's end-of-data mark) */
        "Zm9v_w",       /* '_' is URL-safe base64 */
        "Zm9v\xc3\xa9", /* a byte above 0x7F */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tr_buf_reset(&b);
        tr_buf_append(&b, "x", 1);
        if (tr_base64_decode(bad[i], strlen(bad[i]), &b) != TR_EMALFORMED) {
            TR_FAIL_AT("accepted \"%s\"", bad[i]);
        }
        EXPECT_EQ_MEM(b.data, b.len, "x", 1); /* nothing appended */
    }
    /* A NUL inside the given length is a character like any other. */
    EXPECT_EQ_INT(tr_base64_decode("Zm\0v", 4, &b), TR_EMALFORMED);
    tr_buf_cleanup(&b);
}

TR_TEST(long_input_round_trip)
{
    /* Longer than one EVP call's piece (3 KiB in, 4 KiB out), at every remainder mod 3. */
    enum { N = 10000 };
    uint8_t *p = malloc(N);
    EXPECT_TRUE(p != NULL);
    if (p == NULL) {
        return;
    }
    uint32_t seed = 7;
    for (size_t i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
    static const size_t lens[] = {3071, 3072, 3073, 3074, 6144, N - 1, N};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        tr_buf_t e;
        tr_buf_init(&e, 0);
        tr_base64_encode(p, lens[i], &e);
        EXPECT_EQ_U64(e.len, (lens[i] + 2) / 3 * 4);
        tr_buf_t d;
        tr_buf_init(&d, 0);
        EXPECT_EQ_INT(tr_base64_decode((const char *)e.data, e.len, &d), 0);
        EXPECT_EQ_MEM(d.data, d.len, p, lens[i]);
        tr_buf_cleanup(&d);
        tr_buf_cleanup(&e);
    }
    free(p);
}

TR_TEST(buffer_limit)
{
    tr_buf_t b;
    tr_buf_init(&b, 8);
    tr_base64_encode((const uint8_t *)"foobar", 6, &b);
    EXPECT_TRUE(tr_buf_ok(&b));
    tr_base64_encode((const uint8_t *)"f", 1, &b);
    EXPECT_TRUE(!tr_buf_ok(&b));
    tr_buf_cleanup(&b);
    tr_buf_init(&b, 2);
    EXPECT_EQ_INT(decode("Zm9v", &b), 0); /* the limit is the buffer's sticky flag */
    EXPECT_TRUE(!tr_buf_ok(&b));
    tr_buf_cleanup(&b);
}

TR_TEST_MAIN()
