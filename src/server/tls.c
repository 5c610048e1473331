/*
 * Server TLS context and RSA key (see tls.h). Errors carry OpenSSL's reason
 * string; nothing here logs or touches sockets.
 */
#include "server/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "common/mem.h"

#define RSA_BITS        2048
#define TR_TLS_PATH_MAX 1024

/* Mozilla "intermediate" TLS 1.2 suites: ECDHE/DHE key exchange, AEAD only.
 * TLS 1.3 uses OpenSSL's default suites (all AEAD). */
#define TLS12_CIPHERS                                                                              \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                                   \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                                   \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"                                   \
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384"

struct tr_tls {
    SSL_CTX *ctx;     /* NULL without a certificate */
    EVP_PKEY *rsa;    /* private key for caching_sha2_password's RSA path */
    char *rsa_pem;    /* its public half, PEM */
    size_t rsa_pem_len;
};

/* Writes "what: OpenSSL reason" into err and clears OpenSSL's error queue. */
static int fail(char *err, size_t err_len, const char *what, const char *path)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    snprintf(err, err_len, "%s%s%s: %s", what, path ? " " : "", path ? path : "",
             reason ? reason : "unknown OpenSSL error");
    ERR_clear_error();
    return TR_ECONFIG;
}

/* True (err set) when path cannot be opened for reading. */
static bool unreadable(const char *path, const char *what, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        int e = errno;
        snprintf(err, err_len, "%s %s: %s", what, path, strerror(e));
        return true;
    }
    (void)fclose(f);
    return false;
}

static int make_ctx(tr_tls_t *t, const char *cert_path, const char *key_path, char *err,
                    size_t err_len)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        return fail(err, err_len, "cannot create the TLS context", NULL);
    }
    t->ctx = ctx;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
        return fail(err, err_len, "cannot configure TLS versions/ciphers", NULL);
    }
    /* CLEANSE_PLAINTEXT: OpenSSL wipes its copy of what it decrypted (a
     * caching_sha2_password full-path login sends the password itself). */
    (void)SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                       SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                       SSL_OP_CLEANSE_PLAINTEXT);
    (void)SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (SSL_CTX_set_num_tickets(ctx, 0) != 1) {
        return fail(err, err_len, "cannot disable TLS 1.3 session tickets", NULL);
    }
    /* Memory BIOs: SSL_write never writes partially, buffers are ours. */
    (void)SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    /* A file that cannot be opened gets the system's reason (OpenSSL would
     * only say "system lib"). */
    if (unreadable(cert_path, "[server] tls-cert: cannot load certificate", err, err_len) ||
        unreadable(key_path, "[server] tls-key: cannot load private key", err, err_len)) {
        return TR_ECONFIG;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
        return fail(err, err_len, "[server] tls-cert: cannot load certificate", cert_path);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1) {
        /* OpenSSL compares the key with the certificate as it loads it. */
        bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
        return fail(err, err_len,
                    mismatch ? "[server] tls-key: does not match tls-cert"
                             : "[server] tls-key: cannot load private key",
                    key_path);
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        return fail(err, err_len, "[server] tls-key: does not match tls-cert", key_path);
    }
    return 0;
}

/* A new pair of RSA_BITS into t->rsa. */
static int gen_rsa(tr_tls_t *t, char *err, size_t err_len)
{
    t->rsa = EVP_RSA_gen(RSA_BITS);
    return t->rsa != NULL ? 0 : fail(err, err_len, "cannot generate the RSA key pair", NULL);
}

/* Writes key (private: mode 0600, else its public half, 0644) to path through a temporary
 * file renamed over it, synced. Returns 0 or -errno. */
static int save_key(const char *path, EVP_PKEY *key, bool private_part)
{
    char tmp[TR_TLS_PATH_MAX + 8];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        return -ENAMETOOLONG;
    }
    (void)unlink(tmp); /* a leftover keeps its own mode: start afresh */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, private_part ? 0600 : 0644);
    if (fd < 0) {
        return -errno;
    }
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        int e = errno;
        close(fd);
        (void)unlink(tmp);
        return -e;
    }
    errno = 0; /* OpenSSL's failures need not set it: then -EIO */
    int ok = private_part ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
                          : PEM_write_PUBKEY(f, key);
    int rc = ok == 1 && fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : (errno ? -errno : -EIO);
    if (fclose(f) != 0 && rc == 0) {
        rc = -errno;
    }
    ERR_clear_error();
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -errno;
    }
    if (rc != 0) {
        (void)unlink(tmp);
    }
    return rc;
}

/*
 * caching_sha2_password's key pair without a TLS RSA key: private_key.pem and public_key.pem
 * in dir, as mysqld keeps them in its datadir (caching_sha2_password_private_key_path), so
 * the public key clients pin (--server-public-key-path) survives a restart and starting
 * costs no key generation (0.1-0.5 s of CPU). Absent: generated and saved; a save that
 * fails leaves the key in memory with a warning in err. A missing public_key.pem is written
 * again from the private key. Present but not an RSA private key of RSA_BITS or more:
 * TR_ECONFIG naming the file.
 */
static int dir_rsa(tr_tls_t *t, const char *dir, char *err, size_t err_len)
{
    char priv[TR_TLS_PATH_MAX], pub[TR_TLS_PATH_MAX];
    if (snprintf(priv, sizeof(priv), "%s/private_key.pem", dir) >= (int)sizeof(priv) ||
        snprintf(pub, sizeof(pub), "%s/public_key.pem", dir) >= (int)sizeof(pub)) {
        snprintf(err, err_len, "[store] dir: path too long for private_key.pem");
        return TR_ECONFIG;
    }
    FILE *f = fopen(priv, "r");
    if (f != NULL) {
        t->rsa = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
        if (t->rsa == NULL || EVP_PKEY_get_base_id(t->rsa) != EVP_PKEY_RSA ||
            EVP_PKEY_get_bits(t->rsa) < RSA_BITS) {
            ERR_clear_error();
            snprintf(err, err_len,
                     "%s: not an RSA private key of %d bits or more (remove it and "
                     "tirelay makes a new pair)",
                     priv, RSA_BITS);
            return TR_ECONFIG;
        }
        if (access(pub, F_OK) != 0 && errno == ENOENT) {
            /* Lost (or removed): the file clients pin is the loaded key's half again. */
            int rc = save_key(pub, t->rsa, false);
            if (rc != 0) {
                snprintf(err, err_len, "cannot save %s (%s)", pub, strerror(-rc));
            }
        }
        return 0;
    }
    if (errno != ENOENT) {
        snprintf(err, err_len, "cannot read %s: %s", priv, strerror(errno));
        return TR_ECONFIG;
    }
    int rc = gen_rsa(t, err, err_len);
    if (rc != 0) {
        return rc;
    }
    /* The public file first: a private file is only ever found with its public half. */
    rc = save_key(pub, t->rsa, false);
    const char *which = pub;
    if (rc == 0) {
        rc = save_key(priv, t->rsa, true);
        which = priv;
    }
    if (rc != 0) {
        snprintf(err, err_len, "cannot save %s (%s): the RSA key pair lives until exit", which,
                 strerror(-rc));
    }
    return 0;
}

static int make_rsa(tr_tls_t *t, const char *dir, char *err, size_t err_len)
{
    EVP_PKEY *key = t->ctx ? SSL_CTX_get0_privatekey(t->ctx) : NULL;
    if (key != NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
        EVP_PKEY_get_bits(key) >= RSA_BITS) {
        if (EVP_PKEY_up_ref(key) != 1) {
            return fail(err, err_len, "cannot reference the RSA key", NULL);
        }
        t->rsa = key;
    } else {
        int rc = dir != NULL && dir[0] != '\0' ? dir_rsa(t, dir, err, err_len)
                                               : gen_rsa(t, err, err_len);
        if (rc != 0) {
            return rc;
        }
    }
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_PUBKEY(bio, t->rsa) != 1) {
        BIO_free(bio);
        return fail(err, err_len, "cannot encode the RSA public key", NULL);
    }
    char *p = NULL;
    long n = BIO_get_mem_data(bio, &p);
    if (n <= 0 || p == NULL) {
        BIO_free(bio);
        return fail(err, err_len, "cannot encode the RSA public key", NULL);
    }
    t->rsa_pem = tr_malloc((size_t)n + 1);
    memcpy(t->rsa_pem, p, (size_t)n);
    t->rsa_pem[n] = '\0';
    t->rsa_pem_len = (size_t)n;
    BIO_free(bio);
    return 0;
}

int tr_tls_new(const char *cert_path, const char *key_path, const char *rsa_dir, tr_tls_t **out,
               char *err, size_t err_len)
{
    tr_tls_t *t = tr_calloc(1, sizeof(*t));
    int rc = 0;
    if (err_len > 0) {
        err[0] = '\0';
    }
    if (cert_path != NULL && cert_path[0] != '\0') {
        rc = make_ctx(t, cert_path, key_path, err, err_len);
    }
    if (rc == 0) {
        rc = make_rsa(t, rsa_dir, err, err_len);
    }
    if (rc != 0) {
        tr_tls_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void tr_tls_free(tr_tls_t *t)
{
    if (t == NULL) {
        return;
    }
    SSL_CTX_free(t->ctx);
    EVP_PKEY_free(t->rsa);
    tr_free(t->rsa_pem);
    tr_free(t);
}

bool tr_tls_enabled(const tr_tls_t *t)
{
    return t != NULL && t->ctx != NULL;
}

SSL_CTX *tr_tls_ssl_ctx(const tr_tls_t *t)
{
    return t ? t->ctx : NULL;
}

const char *tr_tls_rsa_public_pem(const tr_tls_t *t, size_t *len)
{
    *len = t->rsa_pem_len;
    return t->rsa_pem;
}

size_t tr_tls_rsa_size(const tr_tls_t *t)
{
    return (size_t)EVP_PKEY_get_size(t->rsa);
}

int tr_tls_rsa_decrypt(const tr_tls_t *t, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                       size_t *out_len)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(t->rsa, NULL);
    size_t n = cap;
    int ok = ctx != NULL && EVP_PKEY_decrypt_init(ctx) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) == 1 &&
             EVP_PKEY_decrypt(ctx, out, &n, in, len) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        ERR_clear_error(); /* a bad ciphertext is the client's problem, not ours */
        return TR_EAUTH;
    }
    *out_len = n;
    return 0;
}
