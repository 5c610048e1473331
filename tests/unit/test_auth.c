/* Unit tests for protocol/auth: mysql_native_password against a real
 * libmariadb 3.3 response captured from a MariaDB 10.11.19 login (user repl,
 * password 'pw'; tests/vectors/mysql/mariadb-10.11-cli-session.txt); the
 * caching_sha2_password fast path against a response captured from MySQL's
 * Python connector (vector published in Boost.MySQL's unit tests,
 * test/unit/test/impl/internal/sansio/caching_sha2_password.cpp: password
 * "hola"), its full-path packets (every truncation), and the RSA path by a
 * client-side OAEP encryption against server/tls's key. */
#include "tr_test.h"

#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/err.h"
#include "protocol/auth.h"
#include "protocol/handshake.h"
#include "server/tls.h"

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

/* Boost.MySQL's captured caching_sha2_password exchange (see the top). */
static const char *const HOLA_SCRAMBLE = "3e3b0455047016 3a4c1535031576732246081801";
static const char *const HOLA_RESPONSE =
    "a1c1e1e91bb6544ba7374b9c566d693e06ca070298acd10618c690389d88e120";

TR_TEST(sha2_fast_path_captured_client)
{
    uint8_t scr[20];
    uint8_t want[32];
    EXPECT_EQ_INT(tr_test_unhex(HOLA_SCRAMBLE, scr, 20), 20);
    EXPECT_EQ_INT(tr_test_unhex(HOLA_RESPONSE, want, 32), 32);
    uint8_t mine[32];
    tr_auth_sha2_scramble("hola", 4, scr, mine);
    EXPECT_EQ_MEM(mine, 32, want, 32);
    uint8_t stored[32];
    tr_auth_sha2_hash("hola", 4, stored);
    EXPECT_EQ_INT(tr_auth_sha2_verify(scr, stored, want, 32), 0);
    uint8_t other[32];
    tr_auth_sha2_hash("Hola", 4, other);
    EXPECT_EQ_INT(tr_auth_sha2_verify(scr, other, want, 32), TR_EAUTH);
    for (size_t n = 0; n < 32; n++) {
        EXPECT_EQ_INT(tr_auth_sha2_verify(scr, stored, want, n), TR_EAUTH);
    }
}

TR_TEST(sha2_cleartext_check)
{
    uint8_t stored[32];
    tr_auth_sha2_hash("secret", 6, stored);
    EXPECT_EQ_INT(tr_auth_sha2_check_cleartext(stored, (const uint8_t *)"secret", 6), 0);
    EXPECT_EQ_INT(tr_auth_sha2_check_cleartext(stored, (const uint8_t *)"secret", 5), TR_EAUTH);
    EXPECT_EQ_INT(tr_auth_sha2_check_cleartext(stored, (const uint8_t *)"secreT", 6), TR_EAUTH);
    EXPECT_EQ_INT(tr_auth_sha2_check_cleartext(stored, (const uint8_t *)"", 0), TR_EAUTH);
}

TR_TEST(sha2_msg_decode_tls)
{
    const uint8_t pw[] = "secret"; /* 7 bytes with the NUL */
    tr_auth_sha2_msg_t m;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_auth_sha2_msg_decode(pw, 7, true, &m, &why), 7);
    EXPECT_EQ_INT(m.kind, TR_AUTH_SHA2_MSG_CLEARTEXT);
    EXPECT_EQ_MEM(m.p, m.len, "secret", 6);
    /* Every truncation lacks the final NUL. */
    for (size_t n = 0; n < 7; n++) {
        why = NULL;
        EXPECT_EQ_INT(tr_auth_sha2_msg_decode(pw, n, true, &m, &why), TR_EMALFORMED);
        EXPECT_TRUE(why != NULL);
    }
    /* A NUL inside, the empty password, and 0x02 over TLS is a password. */
    EXPECT_EQ_INT(tr_auth_sha2_msg_decode((const uint8_t *)"a\0b", 4, true, &m, &why),
                  TR_EMALFORMED);
    EXPECT_EQ_INT(tr_auth_sha2_msg_decode((const uint8_t *)"", 1, true, &m, &why), 1);
    EXPECT_EQ_INT(m.kind, TR_AUTH_SHA2_MSG_CLEARTEXT);
    EXPECT_EQ_INT(m.len, 0);
    const uint8_t two[2] = {0x02, 0x00};
    EXPECT_EQ_INT(tr_auth_sha2_msg_decode(two, 2, true, &m, &why), 2);
    EXPECT_EQ_INT(m.kind, TR_AUTH_SHA2_MSG_CLEARTEXT);
}

TR_TEST(sha2_msg_decode_plain_transport)
{
    tr_auth_sha2_msg_t m;
    const char *why = NULL;
    const uint8_t req = TR_AUTH_SHA2_REQUEST_KEY;
    EXPECT_EQ_INT(tr_auth_sha2_msg_decode(&req, 1, false, &m, &why), 1);
    EXPECT_EQ_INT(m.kind, TR_AUTH_SHA2_MSG_REQUEST_KEY);
    EXPECT_EQ_INT(tr_auth_sha2_msg_decode(&req, 0, false, &m, &why), TR_EMALFORMED);
    static uint8_t big[TR_AUTH_SHA2_MAX_RSA_LEN + 1];
    EXPECT_EQ_INT(tr_auth_sha2_msg_decode(big, 256, false, &m, &why), 256);
    EXPECT_EQ_INT(m.kind, TR_AUTH_SHA2_MSG_RSA);
    EXPECT_EQ_INT(m.len, 256);
    EXPECT_EQ_INT(tr_auth_sha2_msg_decode(big, sizeof(big), false, &m, &why), TR_EMALFORMED);
}

/* Client side of the RSA path, as pymysql/libmysqlclient do it. */
static size_t client_encrypt(const tr_tls_t *t, const char *pw, const uint8_t scr[20],
                             uint8_t *out, size_t cap)
{
    uint8_t plain[64];
    size_t n = strlen(pw) + 1;
    memcpy(plain, pw, n);
    tr_auth_xor_scramble(plain, n, scr);
    size_t pem_len = 0;
    const char *pem = tr_tls_rsa_public_pem(t, &pem_len);
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
    EVP_PKEY *pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
    size_t outlen = cap;
    int ok = ctx != NULL && EVP_PKEY_encrypt_init(ctx) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
             EVP_PKEY_encrypt(ctx, out, &outlen, plain, n) == 1;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pub);
    return ok ? outlen : 0;
}

TR_TEST(sha2_rsa_path_roundtrip)
{
    tr_tls_t *t = NULL;
    char err[256];
    EXPECT_EQ_INT(tr_tls_new("", "", NULL, &t, err, sizeof(err)), 0);
    if (t == NULL) {
        return;
    }
    EXPECT_TRUE(!tr_tls_enabled(t));
    EXPECT_EQ_INT(tr_tls_rsa_size(t), 256);
    size_t pem_len = 0;
    const char *pem = tr_tls_rsa_public_pem(t, &pem_len);
    EXPECT_TRUE(pem_len > 100 && strncmp(pem, "-----BEGIN PUBLIC KEY-----", 26) == 0);
    const uint8_t scr[20] = "0123456789abcdefghij";
    uint8_t stored[32];
    tr_auth_sha2_hash("a much longer password than twenty bytes", 40, stored);
    uint8_t ct[512];
    size_t n = client_encrypt(t, "a much longer password than twenty bytes", scr, ct, sizeof(ct));
    EXPECT_EQ_INT(n, 256);
    uint8_t plain[512];
    size_t pn = 0;
    EXPECT_EQ_INT(tr_tls_rsa_decrypt(t, ct, n, plain, sizeof(plain), &pn), 0);
    EXPECT_EQ_INT(pn, 41);
    uint8_t copy[512];
    memcpy(copy, plain, pn);
    EXPECT_EQ_INT(tr_auth_sha2_check_rsa_plain(stored, scr, copy, pn), 0);
    /* Another scramble (a replay on a new connection) or password fails. */
    const uint8_t scr2[20] = "0123456789abcdefghiX";
    memcpy(copy, plain, pn);
    EXPECT_EQ_INT(tr_auth_sha2_check_rsa_plain(stored, scr2, copy, pn), TR_EAUTH);
    uint8_t other[32];
    tr_auth_sha2_hash("x", 1, other);
    memcpy(copy, plain, pn);
    EXPECT_EQ_INT(tr_auth_sha2_check_rsa_plain(other, scr, copy, pn), TR_EAUTH);
    EXPECT_EQ_INT(tr_auth_sha2_check_rsa_plain(stored, scr, copy, 0), TR_EAUTH);
    /* Corrupted or truncated ciphertexts do not decrypt. */
    ct[17] ^= 1;
    EXPECT_EQ_INT(tr_tls_rsa_decrypt(t, ct, n, plain, sizeof(plain), &pn), TR_EAUTH);
    ct[17] ^= 1;
    EXPECT_EQ_INT(tr_tls_rsa_decrypt(t, ct, n - 1, plain, sizeof(plain), &pn), TR_EAUTH);
    EXPECT_EQ_INT(tr_tls_rsa_decrypt(t, ct, 1, plain, sizeof(plain), &pn), TR_EAUTH);
    tr_tls_free(t);
}

TR_TEST(tls_bad_files_are_config_errors)
{
    tr_tls_t *t = NULL;
    char err[256] = "";
    EXPECT_EQ_INT(
        tr_tls_new("/nonexistent/cert.pem", "/nonexistent/key.pem", NULL, &t, err, sizeof(err)),
        TR_ECONFIG);
    EXPECT_TRUE(t == NULL);
    EXPECT_TRUE(strstr(err, "tls-cert") != NULL && strstr(err, "/nonexistent/cert.pem") != NULL);
    tr_tls_free(NULL);
}

/* Without a TLS RSA key the pair lives in the store's directory (private_key.pem 0600,
 * public_key.pem), as mysqld's in its datadir: a restart serves the same public key. */
TR_TEST(rsa_pair_kept_in_dir)
{
    char dir[] = "/tmp/tr_test_rsa_XXXXXX";
    EXPECT_TRUE(mkdtemp(dir) != NULL);
    char priv[128], pub[128];
    snprintf(priv, sizeof(priv), "%s/private_key.pem", dir);
    snprintf(pub, sizeof(pub), "%s/public_key.pem", dir);
    tr_tls_t *a = NULL, *b = NULL;
    char err[512] = "x";
    EXPECT_EQ_INT(tr_tls_new("", "", dir, &a, err, sizeof(err)), 0);
    EXPECT_EQ_STR(err, "");
    struct stat st;
    EXPECT_EQ_INT(stat(priv, &st), 0);
    EXPECT_EQ_INT(st.st_mode & 0777, 0600);
    EXPECT_EQ_INT(stat(pub, &st), 0);
    EXPECT_EQ_INT(tr_tls_new("", "", dir, &b, err, sizeof(err)), 0);
    if (a != NULL && b != NULL) {
        size_t la = 0, lb = 0;
        const char *pa = tr_tls_rsa_public_pem(a, &la);
        const char *pb = tr_tls_rsa_public_pem(b, &lb);
        EXPECT_EQ_INT(la, lb);
        EXPECT_TRUE(la == lb && memcmp(pa, pb, la) == 0);
        /* public_key.pem is what the server sends to clients asking for it. */
        char text[1024] = "";
        FILE *f = fopen(pub, "r");
        size_t n = f != NULL ? fread(text, 1, sizeof(text) - 1, f) : 0;
        if (f != NULL) {
            fclose(f);
        }
        EXPECT_TRUE(n == la && memcmp(text, pa, la) == 0);
    }
    /* A lost public_key.pem is written again from the private key. */
    EXPECT_EQ_INT(unlink(pub), 0);
    tr_tls_t *d = NULL;
    EXPECT_EQ_INT(tr_tls_new("", "", dir, &d, err, sizeof(err)), 0);
    EXPECT_EQ_STR(err, "");
    EXPECT_EQ_INT(stat(pub, &st), 0);
    if (a != NULL && d != NULL) {
        size_t la = 0, ld = 0;
        const char *pa = tr_tls_rsa_public_pem(a, &la);
        const char *pd = tr_tls_rsa_public_pem(d, &ld);
        EXPECT_TRUE(la == ld && memcmp(pa, pd, la) == 0);
    }
    tr_tls_free(d);
    tr_tls_free(a);
    tr_tls_free(b);
    /* A damaged private key is an error naming the file, not a silent new pair. */
    FILE *f = fopen(priv, "w");
    if (f != NULL) {
        fputs("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n", f);
        fclose(f);
    }
    tr_tls_t *c = NULL;
    EXPECT_EQ_INT(tr_tls_new("", "", dir, &c, err, sizeof(err)), TR_ECONFIG);
    EXPECT_TRUE(c == NULL);
    EXPECT_TRUE(strstr(err, "private_key.pem") != NULL);
    /* A directory that cannot take the files: the pair still works, with a warning. */
    EXPECT_EQ_INT(unlink(priv), 0);
    EXPECT_EQ_INT(unlink(pub), 0);
    EXPECT_EQ_INT(rmdir(dir), 0);
    EXPECT_EQ_INT(tr_tls_new("", "", "/nonexistent/dir", &c, err, sizeof(err)), 0);
    EXPECT_TRUE(c != NULL && strstr(err, "public_key.pem") != NULL);
    tr_tls_free(c);
}

TR_TEST_MAIN()
