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
 */
#ifndef TR_PROTOCOL_AUTH_H
#define TR_PROTOCOL_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#endif
