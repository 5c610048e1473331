/*
 * Login: the HandshakeResponse41 (capabilities, SSLRequest, database, attributes), the
 * mysql_native_password and caching_sha2_password checks (fast path, full path over TLS
 * or RSA), auth switches, and failed-login throttling per peer address. Entry points in
 * session_internal.h (tr_sess_auth, tr_sess_auth_more, tr_sess_new_scramble,
 * tr_sess_deny_cancel). Thread: loop.
 */
#ifndef TR_SERVER_SESSION_AUTH_H
#define TR_SERVER_SESSION_AUTH_H

#include "server/session_internal.h"

#endif
