/*
 * Login (session_auth.h): the HandshakeResponse41, the auth plugins and switches, TLS
 * upgrade, and the throttling of peers that keep failing.
 */
#include "server/session_auth.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "common/mem.h"
#include "protocol/auth.h"
#include "protocol/result.h"
#include "protocol/wire.h"

/* ---------------------------------------------------------------- authentication */

/*
 * Connection phase (spec 2.1-2.7). The greeting names the listener's plugin:
 * caching_sha2_password on the MySQL listener (MySQL 8.0's default),
 * mysql_native_password on the MariaDB listener. Every user has both
 * verifiers, so each behaves like an account of whichever of the two plugins
 * the client prefers: a response for the greeting's plugin is checked at
 * once; a client that answers with the other one (whose data a server must
 * not use: it was not made for this nonce) gets an AuthSwitchRequest to that
 * plugin with a fresh nonce, as MySQL and MariaDB do when the account's
 * plugin differs (sql_authentication.cc / sql_acl.cc server_mpvio_read_packet);
 * MariaDB replicas and libmariadb's --default-auth=mysql_native_password take
 * this path on the MySQL listener. Any other plugin is switched to the
 * listener's.
 *
 * caching_sha2_password: fast path when the user's cache flag is set (all of
 * them unless [server] caching-sha2-prefill = off, else after one full login,
 * as MySQL); otherwise the full path: 0x01 0x04, then the password in clear
 * over TLS, or (without TLS) an optional 0x02 public-key request answered with
 * 0x01 + PEM and the RSA-encrypted password. An unknown user takes the same
 * path a known one would and ends in the same ERR 1045.
 */

#define TR_ER_SECURE_TRANSPORT_REQUIRED 3159

static void on_deny_timer_closed(uv_handle_t *h)
{
    tr_sess_t *s = h->data;
    tr_free(h);
    tr_sess_unref(s);
}

typedef enum {
    AUTH_SWITCHED = 1, /* waiting for the answer to an AuthSwitchRequest */
    AUTH_SHA2_FULL,    /* sent 0x01 0x04: password, or 0x02 without TLS */
    AUTH_SHA2_RSA,     /* sent the public key: RSA ciphertext */
} auth_step_t;

/* The peer entry of ip, taking the free or least recently failing slot. */
static tr_auth_peer_t *auth_peer(tr_server_t *srv, const char *ip)
{
    tr_auth_peer_t *victim = &srv->auth_peers[0];
    for (size_t i = 0; i < TR_SRV_AUTH_PEERS; i++) {
        tr_auth_peer_t *p = &srv->auth_peers[i];
        if (strcmp(p->ip, ip) == 0) {
            return p;
        }
        if (victim->ip[0] != '\0' &&
            (p->ip[0] == '\0' || (p->delayed == 0 && p->last_fail_ms < victim->last_fail_ms))) {
            victim = p;
        }
    }
    memset(victim, 0, sizeof(*victim));
    snprintf(victim->ip, sizeof(victim->ip), "%s", ip);
    return victim;
}

static tr_auth_peer_t *sess_auth_peer(tr_sess_t *s)
{
    return auth_peer(s->srv, s->conn != NULL ? tr_conn_peer_ip(s->conn) : "?");
}

void tr_sess_deny_cancel(tr_sess_t *s)
{
    if (s->deny_timer == NULL) {
        return;
    }
    tr_auth_peer_t *p = sess_auth_peer(s);
    if (p->delayed > 0) {
        p->delayed--;
    }
    (void)uv_timer_stop(s->deny_timer);
    uv_close((uv_handle_t *)s->deny_timer, on_deny_timer_closed);
    s->deny_timer = NULL;
}

static void on_deny_timer(uv_timer_t *t)
{
    tr_sess_t *s = t->data;
    tr_sess_deny_cancel(s); /* closes the timer (the session keeps its ref until then) */
    if (s->state == TR_SESS_CLOSING || s->conn == NULL) {
        return;
    }
    /* Counted for the peer, not logged: the session closes quietly after the ERR. */
    tr_sess_put_err(s, TR_ER_ACCESS_DENIED, "%s", s->deny_msg);
    tr_sess_flush(s);
    tr_sess_finish(s);
}

static void deny(tr_sess_t *s, bool used_password)
{
    const char *ip = s->conn ? tr_conn_peer_ip(s->conn) : "";
    char msg[sizeof(s->deny_msg)];
    snprintf(msg, sizeof(msg), "Access denied for user '%s'@'%s' (using password: %s)", s->user,
             ip, used_password ? "YES" : "NO");
    tr_auth_peer_t *p = sess_auth_peer(s);
    uint64_t now = uv_now(s->srv->loop);
    if (p->fails > 0 && now - p->last_fail_ms > TR_SRV_AUTH_WINDOW_MS) {
        if (p->unreported > 0) {
            tr_log_warn("sess", "failed logins from peer while throttled count=%" PRIu32
                                " peer_ip=%s",
                        p->unreported, p->ip);
        }
        p->fails = 0;
        p->unreported = 0;
        p->throttled = false;
    }
    p->fails++;
    p->last_fail_ms = now;
    if (p->fails <= TR_SRV_AUTH_FREE_FAILS) {
        tr_sess_fail(s, TR_ER_ACCESS_DENIED, "%s", msg);
        return;
    }
    if (!p->throttled) {
        p->throttled = true;
        p->reported_ms = now;
        tr_log_warn("sess",
                    "repeated failed logins from peer, throttling: each further failure is "
                    "answered %d ms late and counted, not logged fails=%" PRIu32
                    " peer_ip=%s last_user=%s",
                    TR_SRV_AUTH_DELAY_MS, p->fails, p->ip, s->user);
    } else {
        p->unreported++;
        if (now - p->reported_ms >= TR_SRV_AUTH_WINDOW_MS) {
            tr_log_warn("sess", "failed logins from peer while throttled count=%" PRIu32
                                " peer_ip=%s",
                        p->unreported, p->ip);
            p->unreported = 0;
            p->reported_ms = now;
        }
    }
    if (s->conn == NULL || p->delayed >= TR_SRV_AUTH_MAX_DELAYED) {
        tr_sess_put_err(s, TR_ER_ACCESS_DENIED, "%s", msg);
        tr_sess_flush(s);
        tr_sess_finish(s);
        return;
    }
    snprintf(s->deny_msg, sizeof(s->deny_msg), "%s", msg);
    s->deny_timer = tr_malloc(sizeof(*s->deny_timer));
    (void)uv_timer_init(s->srv->loop, s->deny_timer);
    s->deny_timer->data = s;
    s->refs++; /* dropped when the timer handle is closed */
    p->delayed++;
    (void)uv_timer_start(s->deny_timer, on_deny_timer, TR_SRV_AUTH_DELAY_MS, 0);
}

static bool is_tls(const tr_sess_t *s)
{
    return s->conn != NULL && tr_conn_is_tls(s->conn);
}

static void auth_ok(tr_sess_t *s, const char *how)
{
    if (s->db[0] != '\0') {
        /* CLIENT_CONNECT_WITH_DB: MySQL and MariaDB change to it once the account is
         * authenticated; an unknown database ends the login with ERR 1049. */
        char want[sizeof(s->db)];
        snprintf(want, sizeof(want), "%s", s->db);
        s->db[0] = '\0';
        if (!tr_sess_select_db(s, want, strlen(want))) {
            tr_sess_fail(s, TR_ER_BAD_DB, "Unknown database '%.200s'", want);
            return;
        }
    }
    s->state = TR_SESS_COMMAND;
    tr_sess_put_ok(s);
    const char *ver = s->conn ? tr_conn_tls_version(s->conn) : NULL;
    sess_log(TR_LOG_INFO, s, "client authenticated user=%s plugin=%s path=%s tls=%s", s->user,
             s->auth_plugin, how, ver ? ver : "off");
}

/* The configured user, or NULL (unknown, or the anonymous empty name). */
static const tr_user_t *auth_user(const tr_sess_t *s)
{
    return s->user[0] == '\0' ? NULL : tr_config_user(s->srv->cfg, s->user);
}

static bool *sha2_cache_flag(tr_sess_t *s, const tr_user_t *u)
{
    return &s->srv->sha2_cached[u - s->srv->cfg->users];
}

void tr_sess_new_scramble(tr_sess_t *s)
{
    if (RAND_bytes(s->scramble, TR_SCRAMBLE_LEN) != 1) {
        /* RAND_bytes failing is a broken invariant of the process. */
        tr_fatal("sess", "RAND_bytes failed");
    }
    tr_hs_scramble_sanitize(s->scramble);
}

static void check_native(tr_sess_t *s, const uint8_t *resp, size_t resp_len)
{
    const tr_user_t *u = auth_user(s);
    bool empty = tr_auth_is_empty_response(resp, resp_len);
    bool ok = false;
    if (u != NULL) {
        if (u->empty_password) {
            ok = empty;
        } else if (!empty) {
            ok = tr_auth_native_verify(s->scramble, u->native_hash, resp, resp_len) == 0;
        }
    }
    if (!ok) {
        deny(s, !empty);
        return;
    }
    auth_ok(s, "scramble");
}

/* First caching_sha2_password response (scramble of the current nonce). */
static void check_sha2(tr_sess_t *s, const uint8_t *resp, size_t resp_len)
{
    const tr_user_t *u = auth_user(s);
    bool empty = tr_auth_is_empty_response(resp, resp_len);
    if (empty) {
        /* MySQL: an empty response is only right for an empty password; no
         * fast/full path marker. */
        if (u != NULL && u->empty_password) {
            auth_ok(s, "empty");
        } else {
            deny(s, false);
        }
        return;
    }
    bool cached = u != NULL ? *sha2_cache_flag(s, u) : s->srv->cfg->caching_sha2_prefill;
    if (cached) {
        if (u == NULL || u->empty_password ||
            tr_auth_sha2_verify(s->scramble, u->sha2_hash, resp, resp_len) != 0) {
            deny(s, true);
            return;
        }
        const uint8_t fast = TR_AUTH_SHA2_FAST_OK;
        size_t h = tr_wire_begin(&s->out);
        tr_hs_auth_more_encode(&s->out, &fast, 1);
        tr_wire_end(&s->out, h, &s->seq);
        auth_ok(s, "fast");
        return;
    }
    const uint8_t full = TR_AUTH_SHA2_FULL;
    size_t h = tr_wire_begin(&s->out);
    tr_hs_auth_more_encode(&s->out, &full, 1);
    tr_wire_end(&s->out, h, &s->seq);
    s->auth_step = AUTH_SHA2_FULL;
    s->state = TR_SESS_AUTH_SWITCH; /* later auth packets: handle_auth_more */
}

/* Full path: the password itself (over TLS, or after RSA decryption). */
static void check_sha2_cleartext(tr_sess_t *s, const uint8_t *pw, size_t len, const char *how)
{
    const tr_user_t *u = auth_user(s);
    bool ok = false;
    if (u != NULL) {
        ok = u->empty_password ? len == 0 : tr_auth_sha2_check_cleartext(u->sha2_hash, pw, len) == 0;
    }
    if (!ok) {
        deny(s, true);
        return;
    }
    *sha2_cache_flag(s, u) = true;
    auth_ok(s, how);
}

static void handle_sha2_full(tr_sess_t *s, const uint8_t *p, size_t len)
{
    tr_auth_sha2_msg_t m;
    const char *why = NULL;
    if (tr_auth_sha2_msg_decode(p, len, is_tls(s), &m, &why) < 0) {
        sess_log(TR_LOG_DEBUG, s, "bad caching_sha2_password full-auth packet: %s", why);
        deny(s, true);
        return;
    }
    switch (m.kind) {
    case TR_AUTH_SHA2_MSG_CLEARTEXT: {
        /* The password itself: checked from a copy, and the packet bytes (our
         * input buffer) wiped first, so no clear copy outlives this call. A
         * password longer than a config line cannot match anyway. */
        uint8_t pw[256];
        size_t n = m.len <= sizeof(pw) ? m.len : 0;
        memcpy(pw, m.p, n);
        OPENSSL_cleanse((void *)(uintptr_t)m.p, m.len);
        if (m.len > sizeof(pw)) {
            deny(s, true);
            return;
        }
        check_sha2_cleartext(s, pw, n, "full-tls");
        OPENSSL_cleanse(pw, sizeof(pw));
        return;
    }
    case TR_AUTH_SHA2_MSG_REQUEST_KEY: {
        if (s->auth_step != AUTH_SHA2_FULL) {
            deny(s, true); /* asked twice */
            return;
        }
        size_t pem_len = 0;
        const char *pem = tr_tls_rsa_public_pem(s->srv->tls, &pem_len);
        size_t h = tr_wire_begin(&s->out);
        tr_hs_auth_more_encode(&s->out, pem, pem_len);
        tr_wire_end(&s->out, h, &s->seq);
        s->auth_step = AUTH_SHA2_RSA;
        return;
    }
    case TR_AUTH_SHA2_MSG_RSA: {
        uint8_t plain[TR_AUTH_SHA2_MAX_RSA_LEN];
        size_t n = 0;
        if (tr_tls_rsa_decrypt(s->srv->tls, m.p, m.len, plain, sizeof(plain), &n) != 0) {
            sess_log(TR_LOG_DEBUG, s, "RSA-encrypted password does not decrypt len=%zu", m.len);
            deny(s, true);
            return;
        }
        const tr_user_t *u = auth_user(s);
        bool ok = false;
        if (u != NULL && !u->empty_password) {
            ok = tr_auth_sha2_check_rsa_plain(u->sha2_hash, s->scramble, plain, n) == 0;
        } else if (u != NULL) {
            /* empty password: plain is just NUL ^ scramble[0] */
            ok = n == 1 && (plain[0] ^ s->scramble[0]) == 0;
        }
        OPENSSL_cleanse(plain, sizeof(plain));
        if (!ok) {
            deny(s, true);
            return;
        }
        *sha2_cache_flag(s, u) = true;
        auth_ok(s, "full-rsa");
        return;
    }
    }
}

/* Answers with an AuthSwitchRequest to plugin, with a fresh nonce (spec 2.6). */
static void auth_switch(tr_sess_t *s, const char *plugin)
{
    s->auth_plugin = plugin;
    tr_sess_new_scramble(s);
    size_t h = tr_wire_begin(&s->out);
    tr_hs_auth_switch_encode(&s->out, plugin, s->scramble);
    tr_wire_end(&s->out, h, &s->seq);
    s->auth_step = AUTH_SWITCHED;
    s->state = TR_SESS_AUTH_SWITCH;
}

/*
 * The plugin the client's auth data was made for: mysql_native_password or
 * caching_sha2_password, or NULL for a name we do not serve (an empty one
 * included). Without CLIENT_PLUGIN_AUTH it is the 4.1 native scramble. A
 * client that sets CLIENT_PLUGIN_AUTH but sends no name field follows each
 * flavour's server: MySQL reads the missing name as "" and switches to the
 * account's plugin (sql_authentication.cc parse_client_handshake_packet);
 * MariaDB takes the data as a native scramble ("some clients lie", sql_acl.cc
 * parse_client_handshake_packet).
 */
static const char *client_plugin(const tr_sess_t *s, const tr_hs_response_t *r)
{
    if (!(r->caps & TR_CLIENT_PLUGIN_AUTH)) {
        return TR_AUTH_NATIVE;
    }
    if (!r->has_auth_plugin) {
        return s->flavor == TR_FLAVOR_MARIADB ? TR_AUTH_NATIVE : NULL;
    }
    if (tr_sql_eq(r->auth_plugin, TR_AUTH_NATIVE)) {
        return TR_AUTH_NATIVE;
    }
    if (tr_sql_eq(r->auth_plugin, TR_AUTH_SHA2)) {
        return TR_AUTH_SHA2;
    }
    return NULL;
}

void tr_sess_auth(tr_sess_t *s, const uint8_t *p, size_t len)
{
    tr_hs_response_t r;
    const char *why = NULL;
    if (tr_hs_response_decode(p, len, &r, &why) < 0) {
        tr_sess_fail(s, TR_ER_HANDSHAKE, "Bad handshake (%s)", why);
        return;
    }
    if (r.is_ssl_request) {
        if (!tr_tls_enabled(s->srv->tls) || is_tls(s)) {
            tr_sess_fail(s, TR_ER_HANDSHAKE, "Bad handshake (%s)",
                         is_tls(s) ? "second SSLRequest" : "TLS is not configured");
            return;
        }
        /* The TLS handshake starts once this packet is consumed (on_data). */
        s->start_tls = true;
        return;
    }
    snprintf(s->user, sizeof(s->user), "%.*s", (int)r.user.len, (const char *)r.user.p);
    if (s->srv->cfg->require_tls && !is_tls(s)) {
        tr_sess_fail(s, TR_ER_SECURE_TRANSPORT_REQUIRED,
                     "Connections using insecure transport are prohibited while "
                     "--require_secure_transport=ON.");
        return;
    }
    s->caps = r.caps & (TR_SERVER_CAPS | TR_CLIENT_SSL);
    if (r.database.len > 0) {
        snprintf(s->db, sizeof(s->db), "%.*s", (int)r.database.len, (const char *)r.database.p);
    }
    const char *client = client_plugin(s, &r);
    if (client != NULL && strcmp(client, s->auth_plugin) == 0) {
        /* The greeting's plugin: its data answers our nonce. */
        if (strcmp(client, TR_AUTH_SHA2) == 0) {
            check_sha2(s, r.auth_response.p, r.auth_response.len);
        } else {
            check_native(s, r.auth_response.p, r.auth_response.len);
        }
        return;
    }
    if (!(r.caps & TR_CLIENT_PLUGIN_AUTH)) {
        /* A pre-plugin client (4.1 native scramble) on the caching_sha2_password
         * greeting: it cannot be switched, and its account has the native verifier. */
        s->auth_plugin = TR_AUTH_NATIVE;
        check_native(s, r.auth_response.p, r.auth_response.len);
        return;
    }
    /* The client's data was not made for the greeting's plugin (libmariadb even sends
     * it empty), or it named no plugin we know (empty, or e.g. client_ed25519):
     * switch to its plugin when we have it, else to the listener's. */
    const char *to = client != NULL ? client : s->auth_plugin;
    sess_log(TR_LOG_DEBUG, s, "auth switch from=%.*s to=%s", (int)r.auth_plugin.len,
             (const char *)r.auth_plugin.p, to);
    auth_switch(s, to);
}

/* Every auth-phase packet after the HandshakeResponse. */
void tr_sess_auth_more(tr_sess_t *s, const uint8_t *p, size_t len)
{
    switch ((auth_step_t)s->auth_step) {
    case AUTH_SWITCHED:
        if (strcmp(s->auth_plugin, TR_AUTH_SHA2) == 0) {
            check_sha2(s, p, len);
        } else {
            check_native(s, p, len);
        }
        return;
    case AUTH_SHA2_FULL:
    case AUTH_SHA2_RSA:
        handle_sha2_full(s, p, len);
        return;
    }
    deny(s, len > 0);
}

