/*
 * Password scramble checks for the authentication plugins tirelay serves.
 * mysql_native_password now; the caching_sha2_password fast path sits next
 * to it (the full path needs TLS or RSA and lives in the session).
 *
 * Pure: no I/O, no logging; hashing through libcrypto (EVP digests).
 * Follows shared/spec/mysql-replication-source.md sections 2.4 and 2.5
 * (MySQL sql/auth/password.c scramble/check_scramble; go-mysql server/auth.go).
 *
 * mysql_native_password: the server stores S = SHA1(SHA1(password)); the
 * client sends R = SHA1(password) XOR SHA1(scramble || S).
 * caching_sha2_password (fast path): the server holds S2 = SHA256(SHA256(pw));
 * the client sends R = SHA256(pw) XOR SHA256(S2 || scramble).
 * caching_sha2_password (full path, MySQL sql/auth/sha2_password.cc): the
 * server answers AuthMoreData 0x01 0x04; over TLS the client then sends the
 * password NUL-terminated; without TLS it sends 0x02 (request the public
 * key), receives 0x01 + PEM and sends RSA-OAEP((password || 0x00) XOR
 * scramble repeated). The RSA step itself (a key) lives in server/tls.c; the
 * byte handling and the check live here.
 */
#ifndef TR_PROTOCOL_AUTH_H
#define TR_PROTOCOL_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/defs.h"

#define TR_AUTH_NATIVE_LEN 20
#define TR_AUTH_SHA2_LEN   32

/* stored = SHA1(SHA1(password)). */
void tr_auth_native_hash(const void *password, size_t len, uint8_t stored[TR_AUTH_NATIVE_LEN]);

/* Client side: the 20-byte response for password and scramble (tests, tools). */
void tr_auth_native_scramble(const void *password, size_t len, const uint8_t scramble[20],
                             uint8_t out[TR_AUTH_NATIVE_LEN]);

/*
 * Verifies a mysql_native_password response. Returns 0 when it matches,
 * TR_EAUTH when it does not or has the wrong length.
 */
int tr_auth_native_verify(const uint8_t scramble[20], const uint8_t stored[TR_AUTH_NATIVE_LEN],
                          const uint8_t *resp, size_t resp_len) TR_MUSTCHECK;

/*
 * True for the responses a client sends for an empty password: zero bytes,
 * or one 0x00 byte (libmysql).
 */
bool tr_auth_is_empty_response(const uint8_t *resp, size_t resp_len);

/* stored = SHA256(SHA256(password)). */
void tr_auth_sha2_hash(const void *password, size_t len, uint8_t stored[TR_AUTH_SHA2_LEN]);

/* Client side caching_sha2_password response (tests, tools). */
void tr_auth_sha2_scramble(const void *password, size_t len, const uint8_t scramble[20],
                           uint8_t out[TR_AUTH_SHA2_LEN]);

/* Fast-path check of a caching_sha2_password response. 0 or TR_EAUTH. */
int tr_auth_sha2_verify(const uint8_t scramble[20], const uint8_t stored[TR_AUTH_SHA2_LEN],
                        const uint8_t *resp, size_t resp_len) TR_MUSTCHECK;

/* The second byte of an AuthMoreData 0x01 packet in caching_sha2_password. */
#define TR_AUTH_SHA2_FAST_OK      0x03 /* fast path succeeded, OK follows */
#define TR_AUTH_SHA2_FULL         0x04 /* perform full authentication */
/* What a client sends (without TLS) to ask for the server's RSA public key. */
#define TR_AUTH_SHA2_REQUEST_KEY  0x02
/* Longest RSA ciphertext accepted (a 4096-bit key). */
#define TR_AUTH_SHA2_MAX_RSA_LEN  512

typedef enum {
    TR_AUTH_SHA2_MSG_CLEARTEXT,   /* over TLS: password || 0x00 */
    TR_AUTH_SHA2_MSG_REQUEST_KEY, /* without TLS: 0x02 */
    TR_AUTH_SHA2_MSG_RSA,         /* without TLS: RSA ciphertext */
} tr_auth_sha2_msg_kind_t;

typedef struct {
    tr_auth_sha2_msg_kind_t kind;
    const uint8_t *p; /* view: the password without its NUL, or the ciphertext */
    size_t len;
} tr_auth_sha2_msg_t;

/*
 * Decodes the client's packet after AuthMoreData 0x01 0x04. is_secure: the
 * connection runs TLS (then only a cleartext password is valid). Returns len,
 * or TR_EMALFORMED with *why: a cleartext password without its final NUL or
 * with a NUL inside, an empty packet, a ciphertext longer than
 * TR_AUTH_SHA2_MAX_RSA_LEN. p may be NULL when len is 0.
 */
ssize_t tr_auth_sha2_msg_decode(const uint8_t *p, size_t len, bool is_secure,
                                tr_auth_sha2_msg_t *out, const char **why);

/*
 * XORs buf in place with the scramble repeated over its length: the RSA
 * path's obfuscation (client: before encrypting; server: after decrypting).
 */
void tr_auth_xor_scramble(uint8_t *buf, size_t len, const uint8_t scramble[20]);

/*
 * Full-path check: the password in clear against stored SHA256(SHA256(pw)).
 * 0 when it matches, TR_EAUTH otherwise.
 */
int tr_auth_sha2_check_cleartext(const uint8_t stored[TR_AUTH_SHA2_LEN], const uint8_t *pw,
                                 size_t len) TR_MUSTCHECK;

/*
 * The RSA path after decryption: plain = (password || 0x00) XOR scramble.
 * Unscrambles plain in place, requires the final NUL, then checks as
 * tr_auth_sha2_check_cleartext. 0 or TR_EAUTH.
 */
int tr_auth_sha2_check_rsa_plain(const uint8_t stored[TR_AUTH_SHA2_LEN], const uint8_t scramble[20],
                                 uint8_t *plain, size_t len) TR_MUSTCHECK;

#endif
