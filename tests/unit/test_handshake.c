/* Unit tests for protocol/handshake: HandshakeV10, HandshakeResponse41,
 * SSLRequest, AuthSwitchRequest. Vectors: tests/vectors/mysql/ captures of a
 * real MariaDB 10.11.19 server and the libmariadb 3.3 client. */
#include "tr_test.h"

#include "common/buf.h"
#include "common/err.h"
#include "protocol/handshake.h"

#include "vec_packets.inc"

#define CLI_VEC "tests/vectors/mysql/mariadb-10.11-cli-session.txt"
#define MBL_VEC "tests/vectors/mysql/mariadb-binlog-10.11-dump.txt"

TR_TEST(greeting_decode_real_mariadb_and_reencode)
{
    vec_packet_t pk[64];
    size_t n = vec_read_packets(CLI_VEC, pk, 64);
    EXPECT_TRUE(n > 0 && strcmp(pk[0].dir, "S>C") == 0);
    const uint8_t *p = pk[0].bytes + 4;
    size_t len = pk[0].len - 4;
    tr_hs_greeting_t g;
    uint8_t scr[TR_SCRAMBLE_LEN];
    const char *why = NULL;
    EXPECT_EQ_INT(tr_hs_greeting_decode(p, len, &g, scr, &why), (ssize_t)len);
    EXPECT_EQ_STR(g.server_version, "5.5.5-10.11.19-MariaDB-0+deb12u1-log");
    EXPECT_EQ_INT(g.conn_id, 5);
    EXPECT_EQ_STR(g.auth_plugin, TR_AUTH_NATIVE);
    EXPECT_EQ_MEM(scr, 20, "Z(SMg>>\\66M`{j%q/2Ov", 20);
    EXPECT_TRUE(g.caps & TR_CLIENT_PLUGIN_AUTH);
    /* MariaDB clears CLIENT_MYSQL (bit 0) and puts extended caps in the reserved
     * bytes, so our encoder (reserved = zeros) matches only up to those bytes. */
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_hs_greeting_encode(&b, &g);
    EXPECT_EQ_INT(b.len, len);
    EXPECT_EQ_MEM(b.data, 1 + 37 + 4 + 9 + 2 + 1 + 2 + 2 + 1, p, 1 + 37 + 4 + 9 + 2 + 1 + 2 + 2 + 1);
    size_t tail = 1 + 37 + 4 + 9 + 2 + 1 + 2 + 2 + 1 + 10;
    EXPECT_EQ_MEM(b.data + tail, len - tail, p + tail, len - tail);
    /* Truncations are errors, never crashes. */
    for (size_t k = 0; k < len; k++) {
        EXPECT_TRUE(tr_hs_greeting_decode(p, k, &g, scr, &why) < 0);
    }
    tr_buf_cleanup(&b);
    vec_free_packets(pk, n);
}

TR_TEST(greeting_golden_tirelay)
{
    /* Our greeting, byte for byte (layout per MySQL internals HandshakeV10). */
    const uint8_t scramble[20] = "ABCDEFGHIJKLMNOPQRST";
    tr_hs_greeting_t g = {"8.0.36-tirelay", 7, scramble, TR_SERVER_CAPS, 45,
                          TR_SERVER_STATUS_AUTOCOMMIT, TR_AUTH_NATIVE};
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_hs_greeting_encode(&b, &g);
    uint8_t want[256];
    size_t wn = tr_test_unhex("0a 382e302e33362d7469726 56c617900" /* 10, "8.0.36-tirelay\0" */
                              "07000000 4142434445464748 00"     /* conn id, scramble[0..8), filler */
                              "0fa2 2d 0200 3f00 15"             /* caps lo, charset, status, caps hi, 21 */
                              "00000000000000000000"             /* reserved */
                              "494a4b4c4d4e4f5051525354 00"      /* scramble[8..20) NUL */
                              "6d7973716c5f6e61746976655f70617373776f726400",
                              want, sizeof(want));
    EXPECT_EQ_MEM(b.data, b.len, want, wn);
    tr_buf_cleanup(&b);
}

TR_TEST(scramble_sanitize_has_no_nul_or_dollar)
{
    uint8_t s[20];
    for (int round = 0; round < 256; round++) {
        for (int i = 0; i < 20; i++) {
            s[i] = (uint8_t)(round + i * 13);
        }
        tr_hs_scramble_sanitize(s);
        for (int i = 0; i < 20; i++) {
            EXPECT_TRUE(s[i] >= 0x21 && s[i] <= 0x7E && s[i] != '$');
        }
    }
}

static void check_response(const char *vec, const char *want_user, size_t want_auth_len)
{
    vec_packet_t pk[64];
    size_t n = vec_read_packets(vec, pk, 64);
    EXPECT_TRUE(n > 1 && strcmp(pk[1].dir, "C>S") == 0);
    const uint8_t *p = pk[1].bytes + 4;
    size_t len = pk[1].len - 4;
    tr_hs_response_t r;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_hs_response_decode(p, len, &r, &why), (ssize_t)len);
    EXPECT_TRUE(!r.is_ssl_request);
    EXPECT_EQ_MEM(r.user.p, r.user.len, want_user, strlen(want_user));
    EXPECT_EQ_INT(r.auth_response.len, want_auth_len);
    EXPECT_EQ_MEM(r.auth_plugin.p, r.auth_plugin.len, TR_AUTH_NATIVE, strlen(TR_AUTH_NATIVE));
    EXPECT_TRUE(r.attrs.len > 0);
    EXPECT_EQ_INT(r.database.len, 0);
    /* Re-encoding gives the same bytes. */
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_hs_response_encode(&b, &r);
    EXPECT_EQ_MEM(b.data, b.len, p, len);
    tr_buf_cleanup(&b);
    /* Every truncation is an error (or, at exactly 32 bytes, an SSLRequest
     * only when CLIENT_SSL is set — it is not here). */
    for (size_t k = 0; k < len; k++) {
        ssize_t rc = tr_hs_response_decode(p, k, &r, &why);
        if (rc >= 0) {
            /* The optional trailing fields may legally be absent. */
            EXPECT_TRUE(k > 32 + 5);
        }
    }
    vec_free_packets(pk, n);
}

TR_TEST(response_decode_real_clients)
{
    check_response(CLI_VEC, "repl", 20);
    check_response(MBL_VEC, "repl", 20);
}

TR_TEST(ssl_request)
{
    tr_hs_response_t r;
    memset(&r, 0, sizeof(r));
    r.is_ssl_request = true;
    r.caps = TR_CLIENT_PROTOCOL_41 | TR_CLIENT_SSL | TR_CLIENT_SECURE_CONNECTION | 1;
    r.max_packet = 1 << 24;
    r.charset = 45;
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_hs_response_encode(&b, &r);
    EXPECT_EQ_INT(b.len, 32);
    tr_hs_response_t d;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_hs_response_decode(b.data, b.len, &d, &why), 32);
    EXPECT_TRUE(d.is_ssl_request);
    EXPECT_EQ_INT(d.max_packet, 1 << 24);
    /* Without CLIENT_SSL a 32-byte response is malformed. */
    b.data[1] &= (uint8_t)~0x08;
    EXPECT_EQ_INT(tr_hs_response_decode(b.data, b.len, &d, &why), TR_EMALFORMED);
    /* Pre-4.1 clients are refused. */
    b.data[1] &= (uint8_t)~0x02;
    EXPECT_EQ_INT(tr_hs_response_decode(b.data, b.len, &d, &why), TR_EUNSUPPORTED);
    tr_buf_cleanup(&b);
}

TR_TEST(response_lenenc_overflow_is_error)
{
    /* caps with LENENC client data; user "u"; auth length says 0xFC 0xFF 0xFF. */
    uint8_t p[64];
    size_t n = tr_test_unhex("00a22000 00000001 2d 00000000000000000000000000000000000000 00000000"
                             "7500 fcffff 0102",
                             p, sizeof(p));
    tr_hs_response_t r;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_hs_response_decode(p, n, &r, &why), TR_EMALFORMED);
}

TR_TEST(auth_switch_golden)
{
    const uint8_t scramble[20] = "ABCDEFGHIJKLMNOPQRST";
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_hs_auth_switch_encode(&b, TR_AUTH_NATIVE, scramble);
    EXPECT_EQ_INT(b.len, 1 + 22 + 20 + 1);
    EXPECT_EQ_INT(b.data[0], 0xFE);
    EXPECT_EQ_INT(b.data[b.len - 1], 0);
    EXPECT_EQ_MEM(b.data + 23, 20, scramble, 20);
    tr_buf_cleanup(&b);
}

TR_TEST(auth_more_golden)
{
    tr_buf_t b;
    tr_buf_init(&b, 0);
    const uint8_t fast = 0x03;
    tr_hs_auth_more_encode(&b, &fast, 1);
    EXPECT_EQ_INT(b.len, 2);
    EXPECT_EQ_INT(b.data[0], 0x01);
    EXPECT_EQ_INT(b.data[1], 0x03);
    tr_buf_reset(&b);
    tr_hs_auth_more_encode(&b, "-----BEGIN", 10);
    EXPECT_EQ_MEM(b.data, b.len, "\x01-----BEGIN", 11);
    tr_buf_cleanup(&b);
}

TR_TEST(greeting_sha2_with_ssl_roundtrip)
{
    const uint8_t scr[20] = "ABCDEFGHIJKLMNOPQRST";
    tr_hs_greeting_t g = {"8.0.36-tirelay", 7, scr, TR_SERVER_CAPS | TR_CLIENT_SSL, 45,
                          TR_SERVER_STATUS_AUTOCOMMIT, TR_AUTH_SHA2};
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_hs_greeting_encode(&b, &g);
    tr_hs_greeting_t d;
    uint8_t sbuf[20];
    const char *why = NULL;
    EXPECT_EQ_INT(tr_hs_greeting_decode(b.data, b.len, &d, sbuf, &why), (ssize_t)b.len);
    EXPECT_TRUE((d.caps & TR_CLIENT_SSL) != 0);
    EXPECT_TRUE(strcmp(d.auth_plugin, TR_AUTH_SHA2) == 0);
    EXPECT_EQ_MEM(sbuf, 20, scr, 20);
    /* Every truncation of the greeting is an error, never a crash. */
    for (size_t n = 0; n < b.len; n++) {
        EXPECT_TRUE(tr_hs_greeting_decode(b.data, n, &d, sbuf, &why) < 0);
    }
    tr_buf_cleanup(&b);
}

/*
 * Login shapes a real server accepts (issue 14), as HandshakeResponse41 bytes laid
 * out by the servers' parsers (mysql-server sql/auth/sql_authentication.cc and
 * MariaDB sql/sql_acl.cc, parse_client_handshake_packet): capabilities (4),
 * max packet (4), charset (1), 23 filler bytes, user NUL, auth data, then the
 * optional database, plugin name and attributes. The 32 auth bytes below are
 * a caching_sha2_password scramble's length; their values do not matter here.
 */
#define AUTH32 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define FILL23 "0000000000000000000000000000000000000000000000"

static void decode_hex(const char *hex, tr_hs_response_t *r, size_t *len, uint8_t *buf)
{
    *len = tr_test_unhex(hex, buf, 512);
    const char *why = NULL;
    EXPECT_EQ_INT(tr_hs_response_decode(buf, *len, r, &why), (ssize_t)*len);
}

TR_TEST(response_plugin_auth_without_plugin_name)
{
    /* caps PROTOCOL_41|SECURE_CONNECTION|PLUGIN_AUTH|LENENC|TRANSACTIONS|LONG_PASSWORD|
     * MULTI_RESULTS, "repl", 32 bytes of auth data, and nothing after: the driver of
     * issue 14 point 1. */
    uint8_t buf[512];
    size_t n;
    tr_hs_response_t r;
    decode_hex("01a22a00 00000001 2d" FILL23 "7265706c00 20" AUTH32, &r, &n, buf);
    EXPECT_TRUE((r.caps & TR_CLIENT_PLUGIN_AUTH) != 0);
    EXPECT_TRUE(!r.has_auth_plugin);
    EXPECT_EQ_INT(r.auth_plugin.len, 0);
    EXPECT_EQ_INT(r.auth_response.len, 32);
    /* With an empty name: the field is there, empty (MySQL and MariaDB then switch to
     * the account's plugin). */
    decode_hex("01a22a00 00000001 2d" FILL23 "7265706c00 20" AUTH32 "00", &r, &n, buf);
    EXPECT_TRUE(r.has_auth_plugin);
    EXPECT_EQ_INT(r.auth_plugin.len, 0);
    /* Unknown plugin name. */
    decode_hex("01a22a00 00000001 2d" FILL23 "7265706c00 20" AUTH32
               "636c69656e745f6564323535313900", /* client_ed25519 */
               &r, &n, buf);
    EXPECT_TRUE(r.has_auth_plugin);
    EXPECT_EQ_MEM(r.auth_plugin.p, r.auth_plugin.len, "client_ed25519", 14);
    /* Re-encoding keeps the field absent, empty or named as it came. */
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_hs_response_encode(&b, &r);
    EXPECT_EQ_MEM(b.data, b.len, buf, n);
    tr_buf_cleanup(&b);
}

TR_TEST(response_pre_plugin_auth_native_scramble)
{
    /* A 4.1 client without CLIENT_PLUGIN_AUTH: PROTOCOL_41|SECURE_CONNECTION|
     * LONG_PASSWORD|TRANSACTIONS, a 1-byte length and the 20-byte native scramble. */
    uint8_t buf[512];
    size_t n;
    tr_hs_response_t r;
    decode_hex("01a20000 00000001 08" FILL23 "7265706c00 14"
               "0102030405060708090a0b0c0d0e0f1011121314",
               &r, &n, buf);
    EXPECT_TRUE((r.caps & TR_CLIENT_PLUGIN_AUTH) == 0);
    EXPECT_TRUE(!r.has_auth_plugin);
    EXPECT_EQ_INT(r.auth_response.len, 20);
    EXPECT_EQ_INT(r.charset, 8);
}

TR_TEST(response_connect_with_db_and_attrs)
{
    /* CONNECT_WITH_DB "information_schema", plugin mysql_native_password and
     * CONNECT_ATTRS {_client_name: zongji, _pid: 42} (lenenc total, lenenc pairs). */
    uint8_t buf[512];
    size_t n;
    tr_hs_response_t r;
    decode_hex("09a23a00 00000001 21" FILL23 "7265706c00 14"
               "0102030405060708090a0b0c0d0e0f1011121314"
               "696e666f726d6174696f6e5f736368656d6100"                 /* database */
               "6d7973716c5f6e61746976655f70617373776f726400"         /* plugin */
               "1c 0c5f636c69656e745f6e616d65 067a6f6e676a69 045f706964 023432",
               &r, &n, buf);
    EXPECT_EQ_MEM(r.database.p, r.database.len, "information_schema", 18);
    EXPECT_EQ_MEM(r.auth_plugin.p, r.auth_plugin.len, TR_AUTH_NATIVE, strlen(TR_AUTH_NATIVE));
    EXPECT_EQ_INT(r.attrs.len, 0x1c);
    EXPECT_EQ_MEM(r.attrs.p, 13, "\x0c_client_name", 13);
    /* Attributes longer than the packet are malformed, as the servers refuse them. */
    buf[n - 29] = 0x1d;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_hs_response_decode(buf, n, &r, &why), TR_EMALFORMED);
}

TR_TEST_MAIN()
