/*
 * The statements a client sends in the command phase: SET, SELECT of variables and
 * functions, SHOW VARIABLES | STATUS | MASTER STATUS | BINARY LOGS, the schema
 * catalogue (protocol/catalog_query.h), USE, KILL, snapshot locks, and the operator
 * statements (server/admin.h), routed by one table; multi-statement queries.
 * Entry points in session_internal.h (tr_sess_queries, tr_sess_select_db,
 * tr_sess_uvar). Thread: loop.
 */
#ifndef TR_SERVER_SESSION_SQL_H
#define TR_SERVER_SESSION_SQL_H

#include "server/session_internal.h"

#endif
