/* Unit tests for protocol/auth: mysql_native_password against a real
 * libmariadb 3.3 response captured from a MariaDB 10.11.19 login (user repl,
 * password 'pw'; tests/vectors/mysql/mariadb-10.11-cli-session.txt), and the
 * caching_sha2_password fast path by round trip. */
#include "tr_test.h"

#include "common/err.h"
#include "protocol/auth.h"
#include "protocol/handshake.h"

#include "vec_packets.inc"

#define CLI_VEC "tests/vectors/mysql/mariadb-10.11-cli-session.txt"

TR_TEST(native_hash_known_value)
{
    /* SHA1(SHA1("pw")) — MariaDB shows it as PASSWORD('pw') =
     * *D821809F681A40A6E379B50D0463EFAE20BDD122 (mysql.user authentication_string). */
    uint8_t h[20];
    uint8_t want[20];
    tr_auth_native_hash("pw", 2, h);
    tr_test_unhex("D821809F681A40A6E379B50D0463EFAE20BDD122", want, 20);
    EXPECT_EQ_MEM(h, 20, want, 20);
}

TR_TEST(native_verify_real_client_response)
{
    vec_packet_t pk[8];
    size_t n = vec_read_packets(CLI_VEC, pk, 8);
    EXPECT_TRUE(n >= 2);
    tr_hs_greeting_t g;
    uint8_t scr[20];
    const char *why = NULL;
    EXPECT_TRUE(tr_hs_greeting_decode(pk[0].bytes + 4, pk[0].len - 4, &g, scr, &why) > 0);
    tr_hs_response_t r;
    EXPECT_TRUE(tr_hs_response_decode(pk[1].bytes + 4, pk[1].len - 4, &r, &why) > 0);
    uint8_t stored[20];
    tr_auth_native_hash("pw", 2, stored);
    EXPECT_EQ_INT(tr_auth_native_verify(scr, stored, r.auth_response.p, r.auth_response.len), 0);
    /* Our client-side computation reproduces the real client's bytes. */
    uint8_t mine[20];
    tr_auth_native_scramble("pw", 2, scr, mine);
    EXPECT_EQ_MEM(mine, 20, r.auth_response.p, r.auth_response.len);
    /* Wrong password, flipped bit, wrong length. */
    uint8_t other[20];
    tr_auth_native_hash("px", 2, other);
    EXPECT_EQ_INT(tr_auth_native_verify(scr, other, r.auth_response.p, 20), TR_EAUTH);
    uint8_t bad[20];
    memcpy(bad, r.auth_response.p, 20);
    bad[7] ^= 1;
    EXPECT_EQ_INT(tr_auth_native_verify(scr, stored, bad, 20), TR_EAUTH);
    EXPECT_EQ_INT(tr_auth_native_verify(scr, stored, r.auth_response.p, 19), TR_EAUTH);
    EXPECT_EQ_INT(tr_auth_native_verify(scr, stored, r.auth_response.p, 0), TR_EAUTH);
    vec_free_packets(pk, n);
}

TR_TEST(empty_response)
{
    const uint8_t z = 0;
    EXPECT_TRUE(tr_auth_is_empty_response(NULL, 0));
    EXPECT_TRUE(tr_auth_is_empty_response(&z, 1));
    const uint8_t one = 1;
    EXPECT_TRUE(!tr_auth_is_empty_response(&one, 1));
}

TR_TEST(sha2_fast_path_roundtrip)
{
    const uint8_t scr[20] = "abcdefghijklmnopqrst";
    uint8_t stored[32];
    uint8_t resp[32];
    tr_auth_sha2_hash("secret", 6, stored);
    tr_auth_sha2_scramble("secret", 6, scr, resp);
    EXPECT_EQ_INT(tr_auth_sha2_verify(scr, stored, resp, 32), 0);
    resp[0] ^= 0x80;
    EXPECT_EQ_INT(tr_auth_sha2_verify(scr, stored, resp, 32), TR_EAUTH);
    EXPECT_EQ_INT(tr_auth_sha2_verify(scr, stored, resp, 20), TR_EAUTH);
}

TR_TEST_MAIN()
