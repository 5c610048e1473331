/*
 * The session itself, shared by the three files that make it (no other file sees it):
 * session.c (lifetime, input loop, commands, dumps), session_sql.c (the statements a
 * client sends in the command phase) and session_auth.c (login and failed-login
 * throttling). Thread: loop, everything.
 */
#ifndef TR_SERVER_SESSION_INTERNAL_H
#define TR_SERVER_SESSION_INTERNAL_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "common/buf.h"
#include "common/log.h"
#include "protocol/handshake.h"
#include "protocol/sqlcmd.h"
#include "server/admin.h"
#include "server/conn.h"
#include "server/session.h"
#include "store/store.h"

#define MAX_UVARS     64
#define MAX_VALUE_LEN 4096
#define CHARSET_UTF8MB4_GENERAL 45

typedef struct {
    char name[64]; /* lower case */
    char *value;   /* NULL = SQL NULL */
    bool is_num;
} uvar_t;

struct tr_sess {
    tr_server_t *srv;
    tr_conn_t *conn;
    tr_sess_t *next;
    tr_sess_t *prev;
    uint32_t id;
    tr_flavor_t flavor;
    tr_sess_state_t state;
    int refs;                  /* conn + dump; freed at 0 */
    uint8_t scramble[TR_SCRAMBLE_LEN];
    const char *auth_plugin;   /* TR_AUTH_NATIVE / TR_AUTH_SHA2 being verified */
    uint8_t auth_step;         /* auth_step_t once past the HandshakeResponse */
    bool start_tls;            /* SSLRequest consumed: switch the connection to TLS */
    uint32_t caps;             /* negotiated */
    char user[64];
    char db[256];              /* current database ("" = none) */
    uint8_t seq;               /* next sequence id to send */
    uint16_t status;           /* server status of the answer being built (autocommit, and
                                  MORE_RESULTS before the last statement of a batch) */
    tr_buf_t out;              /* pending output of the current read */
    uvar_t *vars;              /* user variables, grown on demand up to MAX_UVARS */
    size_t n_vars;
    size_t cap_vars;
    tr_sql_cmd_t *sql;         /* the statement being answered (the shared parse scratch) */
    tr_dump_t *dump;
    bool registered;
    uint32_t dump_server_id;   /* server_id of the running dump (0 = none / non-blocking) */
    uint32_t replica_server_id;
    uint16_t replica_port;
    uint32_t replica_master_id;
    char replica_host[64];     /* report_host of COM_REGISTER_SLAVE */
    bool held;                 /* an answer is being computed off the loop (tr_sess_hold) */
    uv_timer_t *deny_timer;    /* a throttled peer's failed login: ERR sent when it fires */
    char deny_msg[200];        /* that ERR's message */
    bool quiet;                /* from a throttled peer: (dis)connects logged at DEBUG */
    /* Held from FLUSH TABLES WITH READ LOCK (or LOCK TABLES|INSTANCE FOR BACKUP) to UNLOCK:
     * the catalogue, SHOW MASTER STATUS and the GTID variables answer from this one view,
     * as a primary whose writes the lock stops would (a snapshot tool reads the position
     * and then the schema). */
    bool locked;
    tr_store_view_t view;
};

#define sess_log(lvl, s, fmt, ...)                                                                 \
    tr_log(lvl, "sess", fmt " sess=%" PRIu32 " peer=%s", __VA_ARGS__, (s)->id,                    \
           (s)->conn ? tr_conn_peer((s)->conn) : "?")

/* ---- session.c ---- */

/* Drops a reference (connection, dump, timer, admin job); frees s at the last. */
void tr_sess_unref(tr_sess_t *s);
/* Sends whatever the current exchange produced (closes on an oversized answer). */
void tr_sess_flush(tr_sess_t *s);
/* OK / ERR (code, its SQLSTATE, formatted message) into the pending output. */
void tr_sess_put_ok(tr_sess_t *s);
void tr_sess_put_err(tr_sess_t *s, uint16_t code, const char *fmt, ...) TR_PRINTF(3, 4);
/* Sends ERR, logs it once and closes after the flush. */
void tr_sess_fail(tr_sess_t *s, uint16_t code, const char *fmt, ...) TR_PRINTF(3, 4);
/* Closes after the queued output has been flushed. */
void tr_sess_finish(tr_sess_t *s);
/* The reply object of an operator statement asked by s (server/admin.h). */
void tr_sess_admin_reply(tr_sess_t *s, tr_admin_reply_t *r);

/* ---- session_sql.c ---- */

/* COM_QUERY: one statement, or several with CLIENT_MULTI_STATEMENTS. */
void tr_sess_queries(tr_sess_t *s, tr_slice_t text);
/* USE db / COM_INIT_DB / the handshake's database: true when selected, false when the
 * catalogue has no such database (the caller answers ERR 1049). */
bool tr_sess_select_db(tr_sess_t *s, const char *db, size_t len);
/* KILL [CONNECTION | QUERY] id / COM_PROCESS_KILL: answers OK or ERR 1094 / 1095. */
void tr_sess_kill(tr_sess_t *s, uint64_t id);
/* A user variable's value (NUL-terminated), NULL when unset or NULL. */
const char *tr_sess_uvar(const tr_sess_t *s, const char *name);

/* ---- session_auth.c ---- */

/* The HandshakeResponse41 (or SSLRequest) in the auth state. */
void tr_sess_auth(tr_sess_t *s, const uint8_t *p, size_t len);
/* The client's answer to an AuthSwitchRequest or to auth-more data. */
void tr_sess_auth_more(tr_sess_t *s, const uint8_t *p, size_t len);
/* A fresh 20-byte nonce for the greeting or a switch. */
void tr_sess_new_scramble(tr_sess_t *s);
/* Cancels a throttled login's pending ERR (the session is closing). */
void tr_sess_deny_cancel(tr_sess_t *s);

#endif
