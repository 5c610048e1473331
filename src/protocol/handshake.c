/*
 * Connection phase codecs (see handshake.h). Pure: no I/O, no logging, no
 * randomness; decoders return views into their input.
 */
#include "protocol/handshake.h"

#include <string.h>

#include "common/err.h"

#define CLIENT_MYSQL 0x00000001u /* MariaDB name for LONG_PASSWORD: clear = MariaDB ext caps */

void tr_hs_greeting_encode(tr_buf_t *b, const tr_hs_greeting_t *g)
{
    bool plugin = (g->caps & TR_CLIENT_PLUGIN_AUTH) != 0;
    tr_buf_put_u8(b, 0x0A);
    tr_buf_append(b, g->server_version, strlen(g->server_version) + 1);
    tr_buf_put_u32le(b, g->conn_id);
    tr_buf_append(b, g->scramble, 8);
    tr_buf_put_u8(b, 0);
    tr_buf_put_u16le(b, (uint16_t)(g->caps & 0xFFFF));
    tr_buf_put_u8(b, g->charset);
    tr_buf_put_u16le(b, g->status);
    tr_buf_put_u16le(b, (uint16_t)(g->caps >> 16));
    tr_buf_put_u8(b, plugin ? TR_SCRAMBLE_LEN + 1 : 0);
    tr_buf_put_zeros(b, 10);
    tr_buf_append(b, g->scramble + 8, TR_SCRAMBLE_LEN - 8);
    tr_buf_put_u8(b, 0);
    if (plugin) {
        tr_buf_append(b, g->auth_plugin, strlen(g->auth_plugin) + 1);
    }
}

ssize_t tr_hs_greeting_decode(const uint8_t *p, size_t len, tr_hs_greeting_t *out,
                              uint8_t scramble_buf[TR_SCRAMBLE_LEN], const char **why)
{
    tr_rd_t r = tr_rd(p, len);
    memset(out, 0, sizeof(*out));
    if (tr_rd_u8(&r) != 0x0A || r.err) {
        *why = "not a HandshakeV10";
        return TR_EMALFORMED;
    }
    size_t n;
    out->server_version = tr_rd_cstr(&r, &n);
    out->conn_id = tr_rd_u32le(&r);
    const uint8_t *s1 = tr_rd_bytes(&r, 8);
    tr_rd_skip(&r, 1);
    uint32_t caps = tr_rd_u16le(&r);
    out->charset = tr_rd_u8(&r);
    out->status = tr_rd_u16le(&r);
    caps |= (uint32_t)tr_rd_u16le(&r) << 16;
    uint8_t slen = tr_rd_u8(&r);
    tr_rd_skip(&r, 10);
    const uint8_t *s2 = tr_rd_bytes(&r, TR_SCRAMBLE_LEN - 8);
    tr_rd_skip(&r, 1);
    out->caps = caps;
    if (r.err || s1 == NULL || s2 == NULL) {
        *why = "truncated HandshakeV10";
        return TR_EMALFORMED;
    }
    if ((caps & TR_CLIENT_PLUGIN_AUTH) && slen != TR_SCRAMBLE_LEN + 1) {
        *why = "unexpected scramble length";
        return TR_EMALFORMED;
    }
    memcpy(scramble_buf, s1, 8);
    memcpy(scramble_buf + 8, s2, TR_SCRAMBLE_LEN - 8);
    out->scramble = scramble_buf;
    if (caps & TR_CLIENT_PLUGIN_AUTH) {
        out->auth_plugin = tr_rd_cstr(&r, &n);
        if (r.err) {
            *why = "unterminated auth plugin name";
            return TR_EMALFORMED;
        }
    }
    return (ssize_t)len;
}

void tr_hs_scramble_sanitize(uint8_t s[TR_SCRAMBLE_LEN])
{
    /* 93 printable characters: 0x21..0x7E without '$' (0x24). */
    for (size_t i = 0; i < TR_SCRAMBLE_LEN; i++) {
        uint8_t c = (uint8_t)(0x21 + s[i] % 93);
        if (c >= 0x24) {
            c++;
        }
        s[i] = c;
    }
}

/* Reads a NUL-terminated string as a slice; sets r->err when unterminated. */
static tr_slice_t rd_cstr_slice(tr_rd_t *r)
{
    size_t n = 0;
    const char *s = tr_rd_cstr(r, &n);
    if (s == NULL) {
        r->err = true;
        return tr_slice(NULL, 0);
    }
    return tr_slice(s, n);
}

ssize_t tr_hs_response_decode(const uint8_t *p, size_t len, tr_hs_response_t *out,
                              const char **why)
{
    tr_rd_t r = tr_rd(p, len);
    memset(out, 0, sizeof(*out));
    out->caps = tr_rd_u32le(&r);
    out->max_packet = tr_rd_u32le(&r);
    out->charset = tr_rd_u8(&r);
    tr_rd_skip(&r, 19);
    out->mariadb_ext_caps = tr_rd_u32le(&r);
    if (r.err) {
        *why = "handshake response shorter than 32 bytes";
        return TR_EMALFORMED;
    }
    if (!(out->caps & TR_CLIENT_PROTOCOL_41)) {
        *why = "client does not speak protocol 4.1";
        return TR_EUNSUPPORTED;
    }
    if (out->caps & CLIENT_MYSQL) {
        out->mariadb_ext_caps = 0;
    }
    if (len == 32) {
        if (!(out->caps & TR_CLIENT_SSL)) {
            *why = "32-byte handshake response without CLIENT_SSL";
            return TR_EMALFORMED;
        }
        out->is_ssl_request = true;
        return (ssize_t)len;
    }
    out->user = rd_cstr_slice(&r);
    if (out->caps & TR_CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) {
        uint64_t n = tr_rd_lenenc(&r, NULL);
        if (!r.err && n > tr_rd_left(&r)) {
            r.err = true;
        }
        const uint8_t *a = r.err ? NULL : tr_rd_bytes(&r, (size_t)n);
        out->auth_response = tr_slice(a, a ? (size_t)n : 0);
    } else if (out->caps & TR_CLIENT_SECURE_CONNECTION) {
        uint8_t n = tr_rd_u8(&r);
        const uint8_t *a = tr_rd_bytes(&r, n);
        out->auth_response = tr_slice(a, a ? n : 0);
    } else {
        out->auth_response = rd_cstr_slice(&r);
    }
    if (r.err) {
        *why = "truncated user name or auth response";
        return TR_EMALFORMED;
    }
    /* Older clients stop after the auth response even when the flags say more. */
    if ((out->caps & TR_CLIENT_CONNECT_WITH_DB) && tr_rd_left(&r) > 0) {
        out->database = rd_cstr_slice(&r);
    }
    if ((out->caps & TR_CLIENT_PLUGIN_AUTH) && tr_rd_left(&r) > 0) {
        out->auth_plugin = rd_cstr_slice(&r);
        out->has_auth_plugin = true;
    }
    if ((out->caps & TR_CLIENT_CONNECT_ATTRS) && tr_rd_left(&r) > 0 && !r.err) {
        uint64_t n = tr_rd_lenenc(&r, NULL);
        if (!r.err && n > tr_rd_left(&r)) {
            r.err = true;
        }
        const uint8_t *a = r.err ? NULL : tr_rd_bytes(&r, (size_t)n);
        out->attrs = tr_slice(a, a ? (size_t)n : 0);
    }
    if (r.err) {
        *why = "truncated handshake response";
        return TR_EMALFORMED;
    }
    return (ssize_t)len;
}

void tr_hs_auth_switch_encode(tr_buf_t *b, const char *plugin,
                              const uint8_t scramble[TR_SCRAMBLE_LEN])
{
    tr_buf_put_u8(b, 0xFE);
    tr_buf_append(b, plugin, strlen(plugin) + 1);
    tr_buf_append(b, scramble, TR_SCRAMBLE_LEN);
    tr_buf_put_u8(b, 0);
}

void tr_hs_auth_more_encode(tr_buf_t *b, const void *data, size_t len)
{
    tr_buf_put_u8(b, 0x01);
    tr_buf_append(b, data, len);
}

void tr_hs_response_encode(tr_buf_t *b, const tr_hs_response_t *r)
{
    tr_buf_put_u32le(b, r->caps);
    tr_buf_put_u32le(b, r->max_packet);
    tr_buf_put_u8(b, r->charset);
    tr_buf_put_zeros(b, 19);
    tr_buf_put_u32le(b, r->mariadb_ext_caps);
    if (r->is_ssl_request) {
        return;
    }
    tr_buf_append(b, r->user.p, r->user.len);
    tr_buf_put_u8(b, 0);
    if (r->caps & TR_CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) {
        tr_buf_put_lenenc_str(b, r->auth_response.p, r->auth_response.len);
    } else if (r->caps & TR_CLIENT_SECURE_CONNECTION) {
        tr_buf_put_u8(b, (uint8_t)r->auth_response.len);
        tr_buf_append(b, r->auth_response.p, r->auth_response.len);
    } else {
        tr_buf_append(b, r->auth_response.p, r->auth_response.len);
        tr_buf_put_u8(b, 0);
    }
    if (r->caps & TR_CLIENT_CONNECT_WITH_DB) {
        tr_buf_append(b, r->database.p, r->database.len);
        tr_buf_put_u8(b, 0);
    }
    if ((r->caps & TR_CLIENT_PLUGIN_AUTH) && r->has_auth_plugin) {
        tr_buf_append(b, r->auth_plugin.p, r->auth_plugin.len);
        tr_buf_put_u8(b, 0);
    }
    if (r->caps & TR_CLIENT_CONNECT_ATTRS) {
        tr_buf_put_lenenc_str(b, r->attrs.p, r->attrs.len);
    }
}
