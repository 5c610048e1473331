/*
 * A client session of the MySQL-protocol front: the per-connection state
 * machine (greeting -> auth -> command phase -> dump -> closed), native
 * password authentication against the configured users, the answers to the
 * queries replicas, tools and CDC clients send before a dump (spec 3.4), and
 * per-connection user variables. Three files make it (session_internal.h holds
 * what they share): session.c (lifetime, input loop, commands, the dump's sink),
 * session_sql.c (the statement table and the answers) and session_auth.c (login
 * and failed-login throttling). What server.c and admin.c use of it is declared
 * in server/server_internal.h.
 *
 * I/O layer: runs on the loop thread; bytes are decoded by src/protocol
 * codecs and written through server/conn. Follows
 * shared/spec/mysql-replication-source.md sections 2-4.
 */
#ifndef TR_SERVER_SESSION_H
#define TR_SERVER_SESSION_H

#include "server/server_internal.h"

typedef enum {
    TR_SESS_AUTH = 0,     /* greeting sent, waiting for HandshakeResponse41 */
    TR_SESS_AUTH_SWITCH,  /* AuthSwitchRequest sent, waiting for the auth data */
    TR_SESS_COMMAND,      /* command phase */
    TR_SESS_DUMP,         /* streaming binlog events */
    TR_SESS_CLOSING,
} tr_sess_state_t;

/* "auth", "command", ... for logs. */
const char *tr_sess_state_name(tr_sess_state_t st);

#endif
