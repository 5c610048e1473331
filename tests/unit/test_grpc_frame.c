/*
 * gRPC message prefix and status trailer helpers (protocol/grpc_frame.c) against
 * the layouts of grpc/grpc doc/PROTOCOL-HTTP2.md: every prefix length, the flag
 * byte, big-endian lengths, grpc-status values and percent-encoded grpc-message.
 */
#include "common/err.h"
#include "protocol/grpc_frame.h"
#include "tr_test.h"

TR_TEST(grpc_prefix_round_trip_and_truncation)
{
    uint8_t p[TR_GRPC_PREFIX_LEN];
    tr_grpc_prefix_encode(p, 0x01020304u);
    static const uint8_t want[] = {0x00, 0x01, 0x02, 0x03, 0x04};
    EXPECT_EQ_MEM(p, sizeof(p), want, sizeof(want));
    tr_grpc_prefix_t pf;
    const char *why = NULL;
    for (size_t n = 0; n < TR_GRPC_PREFIX_LEN; n++) {
        EXPECT_EQ_INT(tr_grpc_prefix_decode(p, n, &pf, &why), TR_EINCOMPLETE);
    }
    EXPECT_EQ_INT(tr_grpc_prefix_decode(p, sizeof(p), &pf, &why), TR_GRPC_PREFIX_LEN);
    EXPECT_TRUE(!pf.compressed);
    EXPECT_EQ_U64(pf.len, 0x01020304u);

    static const uint8_t max_len[] = {0x00, 0xff, 0xff, 0xff, 0xff};
    EXPECT_EQ_INT(tr_grpc_prefix_decode(max_len, 5, &pf, &why), 5);
    EXPECT_EQ_U64(pf.len, 0xffffffffu);
}

TR_TEST(grpc_prefix_flag_byte)
{
    tr_grpc_prefix_t pf;
    const char *why = NULL;
    static const uint8_t compressed[] = {0x01, 0x00, 0x00, 0x00, 0x07};
    EXPECT_EQ_INT(tr_grpc_prefix_decode(compressed, 5, &pf, &why), 5);
    EXPECT_TRUE(pf.compressed);
    EXPECT_EQ_U64(pf.len, 7);
    for (int flag = 2; flag < 256; flag++) {
        uint8_t bad[] = {(uint8_t)flag, 0, 0, 0, 1};
        why = NULL;
        EXPECT_EQ_INT(tr_grpc_prefix_decode(bad, 5, &pf, &why), TR_EMALFORMED);
        EXPECT_TRUE(why != NULL);
    }
}

TR_TEST(grpc_status_values)
{
    int code = -1;
    EXPECT_EQ_INT(tr_grpc_status_parse((const uint8_t *)"0", 1, &code), 0);
    EXPECT_EQ_INT(code, 0);
    EXPECT_EQ_INT(tr_grpc_status_parse((const uint8_t *)"14", 2, &code), 0);
    EXPECT_EQ_INT(code, 14);
    EXPECT_EQ_STR(tr_grpc_status_name(14), "UNAVAILABLE");
    EXPECT_EQ_STR(tr_grpc_status_name(9), "FAILED_PRECONDITION");
    EXPECT_EQ_STR(tr_grpc_status_name(16), "UNAUTHENTICATED");
    EXPECT_EQ_STR(tr_grpc_status_name(17), "?");
    EXPECT_EQ_STR(tr_grpc_status_name(-1), "?");
    EXPECT_EQ_INT(tr_grpc_status_parse((const uint8_t *)"", 0, &code), TR_EMALFORMED);
    EXPECT_EQ_INT(tr_grpc_status_parse((const uint8_t *)"1a", 2, &code), TR_EMALFORMED);
    EXPECT_EQ_INT(tr_grpc_status_parse((const uint8_t *)"-1", 2, &code), TR_EMALFORMED);
    EXPECT_EQ_INT(tr_grpc_status_parse((const uint8_t *)"1234567890", 10, &code), TR_EMALFORMED);
}

TR_TEST(grpc_message_percent_decoding)
{
    char out[32];
    const char *m = "pump%20is%20closing";
    EXPECT_EQ_INT(tr_grpc_message_decode((const uint8_t *)m, strlen(m), out, sizeof(out)), 15);
    EXPECT_EQ_STR(out, "pump is closing");
    /* Unprintable and quoting bytes become '?'; a lone '%' stays. */
    const char *odd = "a%0Ab%22c%5Cd%zz%4";
    tr_grpc_message_decode((const uint8_t *)odd, strlen(odd), out, sizeof(out));
    EXPECT_EQ_STR(out, "a?b?c?d%zz%4");
    /* Truncated to the buffer. */
    tr_grpc_message_decode((const uint8_t *)m, strlen(m), out, 5);
    EXPECT_EQ_STR(out, "pump");
    static const uint8_t utf8[] = {0xc3, 0xa9};
    tr_grpc_message_decode(utf8, sizeof(utf8), out, sizeof(out));
    EXPECT_EQ_STR(out, "??");
}

TR_TEST(grpc_message_percent_encoding)
{
    char out[64];
    EXPECT_EQ_INT(tr_grpc_message_encode("unknown method", out, sizeof(out)), 14);
    EXPECT_EQ_STR(out, "unknown method");
    /* '%' and bytes outside 0x20-0x7E are escaped; the decoder gives the text back. */
    tr_grpc_message_encode("50% \xc3\xa9\n", out, sizeof(out));
    EXPECT_EQ_STR(out, "50%25 %C3%A9%0A");
    char back[64];
    tr_grpc_message_decode((const uint8_t *)"50%25 ok", 8, back, sizeof(back));
    EXPECT_EQ_STR(back, "50% ok");
    /* Cut before a whole escape, never inside one. */
    tr_grpc_message_encode("ab%", out, 5);
    EXPECT_EQ_STR(out, "ab");
    tr_grpc_message_encode("abcdef", out, 4);
    EXPECT_EQ_STR(out, "abc");
    tr_grpc_message_encode("", out, 1);
    EXPECT_EQ_STR(out, "");
}

TR_TEST_MAIN()
