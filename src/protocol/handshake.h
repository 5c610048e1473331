/*
 * Connection phase messages: the server's HandshakeV10 greeting, the client's
 * HandshakeResponse41 (and its 32-byte SSLRequest prefix), AuthSwitchRequest,
 * and capability flags.
 *
 * Pure codec: no I/O, no logging, no randomness (the caller passes the 20
 * random scramble bytes in; tr_hs_scramble_sanitize makes them safe).
 * Follows shared/spec/mysql-replication-source.md sections 2.1, 2.2 and 2.6
 * (MySQL internals "Protocol::HandshakeV10" / "HandshakeResponse41";
 * MariaDB Connector/C mariadb_lib.c; go-mysql server/initial_handshake.go).
 *
 * HandshakeV10 payload:
 * | size | field                                                        |
 * |------|--------------------------------------------------------------|
 * |    1 | protocol version 0x0A                                        |
 * |  n+1 | server version, NUL-terminated                               |
 * |    4 | connection id (LE)                                           |
 * |    8 | scramble[0..8)                                               |
 * |    1 | filler 0x00                                                  |
 * |    2 | capabilities, low 16 bits                                    |
 * |    1 | character set (collation id)                                 |
 * |    2 | status flags                                                 |
 * |    2 | capabilities, high 16 bits                                   |
 * |    1 | scramble length + 1 (21) if CLIENT_PLUGIN_AUTH, else 0       |
 * |   10 | reserved zeros (MariaDB ext. caps when CLIENT_MYSQL clear)   |
 * |   13 | scramble[8..20) + 0x00                                       |
 * |  n+1 | auth plugin name, NUL-terminated (if CLIENT_PLUGIN_AUTH)     |
 *
 * HandshakeResponse41 payload:
 * | size | field                                                        |
 * |------|--------------------------------------------------------------|
 * |    4 | client capabilities                                          |
 * |    4 | max packet size                                              |
 * |    1 | character set                                                |
 * |   23 | filler (MariaDB: last 4 = extended capabilities)             |
 * |  n+1 | user name, NUL-terminated        (absent in an SSLRequest)   |
 * |    * | auth response: lenenc (PLUGIN_AUTH_LENENC_CLIENT_DATA), or   |
 * |      | 1-byte length (SECURE_CONNECTION), or NUL-terminated         |
 * |  n+1 | database, NUL-terminated (if CONNECT_WITH_DB)                |
 * |  n+1 | auth plugin name, NUL-terminated (if PLUGIN_AUTH)            |
 * |    * | connect attributes: lenenc total + pairs (if CONNECT_ATTRS)  |
 */
#ifndef TR_PROTOCOL_HANDSHAKE_H
#define TR_PROTOCOL_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/defs.h"

/* Capability flags. */
#define TR_CLIENT_LONG_PASSWORD                  0x00000001u
#define TR_CLIENT_FOUND_ROWS                     0x00000002u
#define TR_CLIENT_LONG_FLAG                      0x00000004u
#define TR_CLIENT_CONNECT_WITH_DB                0x00000008u
#define TR_CLIENT_COMPRESS                       0x00000020u
#define TR_CLIENT_LOCAL_FILES                    0x00000080u
#define TR_CLIENT_PROTOCOL_41                    0x00000200u
#define TR_CLIENT_SSL                            0x00000800u
#define TR_CLIENT_TRANSACTIONS                   0x00002000u
#define TR_CLIENT_SECURE_CONNECTION              0x00008000u
#define TR_CLIENT_MULTI_STATEMENTS               0x00010000u
#define TR_CLIENT_MULTI_RESULTS                  0x00020000u
#define TR_CLIENT_PS_MULTI_RESULTS               0x00040000u
#define TR_CLIENT_PLUGIN_AUTH                    0x00080000u
#define TR_CLIENT_CONNECT_ATTRS                  0x00100000u
#define TR_CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA 0x00200000u
#define TR_CLIENT_SESSION_TRACK                  0x00800000u
#define TR_CLIENT_DEPRECATE_EOF                  0x01000000u
#define TR_CLIENT_QUERY_ATTRIBUTES               0x08000000u

/* What tirelay advertises (spec 2.1): no COMPRESS, SESSION_TRACK,
 * QUERY_ATTRIBUTES or DEPRECATE_EOF; SSL is added only when TLS is configured.
 * MULTI_STATEMENTS: Canal sends several SHOW CREATE TABLEs in one query. */
#define TR_SERVER_CAPS                                                                             \
    (TR_CLIENT_LONG_PASSWORD | TR_CLIENT_FOUND_ROWS | TR_CLIENT_LONG_FLAG |                        \
     TR_CLIENT_CONNECT_WITH_DB | TR_CLIENT_PROTOCOL_41 | TR_CLIENT_TRANSACTIONS |                  \
     TR_CLIENT_SECURE_CONNECTION | TR_CLIENT_MULTI_STATEMENTS | TR_CLIENT_MULTI_RESULTS |          \
     TR_CLIENT_PS_MULTI_RESULTS | TR_CLIENT_PLUGIN_AUTH | TR_CLIENT_CONNECT_ATTRS |                 \
     TR_CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA)

#define TR_SERVER_STATUS_AUTOCOMMIT   0x0002u
#define TR_SERVER_MORE_RESULTS_EXISTS 0x0008u

#define TR_SCRAMBLE_LEN 20

#define TR_AUTH_NATIVE "mysql_native_password"
#define TR_AUTH_SHA2   "caching_sha2_password"

typedef struct {
    const char *server_version; /* NUL-terminated, e.g. "8.0.36-tirelay" */
    uint32_t conn_id;
    const uint8_t *scramble;    /* TR_SCRAMBLE_LEN bytes, none of them 0x00 */
    uint32_t caps;              /* advertised capabilities */
    uint8_t charset;            /* collation id */
    uint16_t status;
    const char *auth_plugin;    /* NUL-terminated */
} tr_hs_greeting_t;

/* Appends the HandshakeV10 payload (no packet header). */
void tr_hs_greeting_encode(tr_buf_t *b, const tr_hs_greeting_t *g);

/*
 * Decodes a HandshakeV10 payload (used by tests and tools). String fields are
 * views into p; the scramble is copied to scramble_buf. Returns len or
 * TR_EMALFORMED with *why.
 */
ssize_t tr_hs_greeting_decode(const uint8_t *p, size_t len, tr_hs_greeting_t *out,
                              uint8_t scramble_buf[TR_SCRAMBLE_LEN], const char **why);

/*
 * Maps 20 random bytes in place onto printable ASCII 0x21..0x7E excluding '$'
 * so no scramble byte is 0x00 (clients read scramble parts as C strings).
 */
void tr_hs_scramble_sanitize(uint8_t s[TR_SCRAMBLE_LEN]);

typedef struct {
    bool is_ssl_request;      /* only the 32-byte prefix was sent: start TLS */
    uint32_t caps;            /* client capabilities as sent */
    uint32_t max_packet;
    uint8_t charset;
    uint32_t mariadb_ext_caps; /* last 4 filler bytes when CLIENT_MYSQL is clear */
    tr_slice_t user;          /* view, no NUL */
    tr_slice_t auth_response; /* view */
    tr_slice_t database;      /* view; len 0 if absent */
    tr_slice_t auth_plugin;   /* view; len 0 if absent or empty */
    bool has_auth_plugin;     /* the plugin name field was sent (CLIENT_PLUGIN_AUTH and bytes
                                 left for it), possibly empty */
    tr_slice_t attrs;         /* raw connect attributes (view); len 0 if absent */
} tr_hs_response_t;

/*
 * Decodes a HandshakeResponse41 or SSLRequest payload. Fields are parsed
 * according to the client's capabilities. Returns len or TR_EMALFORMED /
 * TR_EUNSUPPORTED (no CLIENT_PROTOCOL_41) with *why.
 */
ssize_t tr_hs_response_decode(const uint8_t *p, size_t len, tr_hs_response_t *out,
                              const char **why);

/* Appends an AuthSwitchRequest payload: 0xFE, plugin NUL, 20-byte scramble, 0x00. */
void tr_hs_auth_switch_encode(tr_buf_t *b, const char *plugin,
                              const uint8_t scramble[TR_SCRAMBLE_LEN]);

/*
 * Appends an AuthMoreData payload: 0x01 followed by data (caching_sha2_password:
 * one status byte 0x03/0x04, or the PEM public key).
 */
void tr_hs_auth_more_encode(tr_buf_t *b, const void *data, size_t len);

/* Encodes a HandshakeResponse41 (client side; tests and tools). Fields as in
 * tr_hs_response_t; is_ssl_request writes only the 32-byte prefix; the plugin
 * name is written when CLIENT_PLUGIN_AUTH and has_auth_plugin are both set. */
void tr_hs_response_encode(tr_buf_t *b, const tr_hs_response_t *r);

#endif
