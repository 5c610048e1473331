/*
 * The server's TLS and RSA material, shared by every connection: the
 * OpenSSL SSL_CTX built from [server] tls-cert / tls-key (TLS 1.2 minimum,
 * forward-secret AEAD ciphers only, no renegotiation, no session tickets or
 * cache), and the RSA key pair caching_sha2_password's full path uses without
 * TLS (spec section 2.5): tls-key itself when it is an RSA key, else a 2048-bit
 * key generated at start, as MySQL does when no key files are configured
 * (sql/auth/sha2_password.cc, auto_generate_rsa_keys).
 *
 * I/O layer (layer 3: the only includer of openssl/ssl.h besides conn.c).
 * Built once at start on the loop thread; read-only afterwards (thread: any).
 */
#ifndef TR_SERVER_TLS_H
#define TR_SERVER_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "common/defs.h"

typedef struct tr_tls tr_tls_t;

/*
 * Loads cert_path + key_path (PEM; both empty = no TLS) and checks that they
 * match. caching_sha2_password's RSA key is the TLS key when that is RSA of
 * 2048 bits or more; else, with rsa_dir, rsa_dir/private_key.pem (made with
 * public_key.pem on the first start, as mysqld does in its datadir); else a
 * pair made now. Returns 0 and the owned object in *out (release with
 * tr_tls_free), err then empty or a warning (the pair could not be saved);
 * or TR_ECONFIG with a message in err (what failed, the path and OpenSSL's
 * reason).
 */
int tr_tls_new(const char *cert_path, const char *key_path, const char *rsa_dir, tr_tls_t **out,
               char *err, size_t err_len) TR_MUSTCHECK;

void tr_tls_free(tr_tls_t *t);

/* True when a certificate is configured: advertise CLIENT_SSL, accept SSLRequest. */
bool tr_tls_enabled(const tr_tls_t *t);

/* The SSL_CTX for new server connections (returns view; NULL when !enabled). */
SSL_CTX *tr_tls_ssl_ctx(const tr_tls_t *t);

/* PEM ("-----BEGIN PUBLIC KEY-----...") of the RSA public key; returns view. */
const char *tr_tls_rsa_public_pem(const tr_tls_t *t, size_t *len);

/*
 * RSA-OAEP (SHA-1, MGF1-SHA-1: what libmysqlclient, libmariadb and pymysql
 * use) decryption with the private key. out must hold cap bytes (at least the
 * key size). Returns 0 and *out_len, or TR_EAUTH when in is not a valid
 * ciphertext for this key.
 */
int tr_tls_rsa_decrypt(const tr_tls_t *t, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                       size_t *out_len) TR_MUSTCHECK;

/* Size of the RSA modulus in bytes (the ciphertext length). */
size_t tr_tls_rsa_size(const tr_tls_t *t);

#endif
