/*
 * Answers the catalogue statements (protocol/sqlcmd.h: SHOW DATABASES, SHOW
 * [FULL] TABLES | COLUMNS, DESCRIBE, SHOW CREATE TABLE | DATABASE, SHOW INDEX,
 * SHOW TABLE STATUS, SELECT from information_schema) from a catalogue
 * (protocol/catalog.h), as a text result set or an ERR packet with the error a
 * MySQL or MariaDB server gives for the same mistake (1049 unknown database,
 * 1146 no such table, 1054 unknown column, 1109 unknown information_schema
 * table, 1046 no database selected).
 *
 * information_schema here has SCHEMATA, TABLES, COLUMNS, STATISTICS,
 * KEY_COLUMN_USAGE, TABLE_CONSTRAINTS, VIEWS, CHECK_CONSTRAINTS (MariaDB's
 * json_valid checks of JSON columns), COLLATION_CHARACTER_SET_APPLICABILITY,
 * GLOBAL_VARIABLES and SESSION_VARIABLES (from the session's variables), with
 * each flavour's column list, and the always empty TRIGGERS, ROUTINES, EVENTS,
 * PARAMETERS and REFERENTIAL_CONSTRAINTS. Names compare case-insensitively,
 * as information_schema's utf8_general_ci columns do.
 *
 * Pure: no I/O, no logging. Output goes to a buffer as framed packets.
 */
#ifndef TR_PROTOCOL_CATALOG_QUERY_H
#define TR_PROTOCOL_CATALOG_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/defs.h"
#include "protocol/catalog.h"
#include "protocol/sqlcmd.h"

/* A server variable for GLOBAL_VARIABLES / SESSION_VARIABLES (name as SHOW VARIABLES
 * lists it); false past the last one. */
typedef bool (*tr_catq_var_fn)(void *arg, size_t i, const char **name, const char **value);

typedef struct {
    const tr_catalog_t *cat; /* borrows; NULL = no schema yet (empty) */
    tr_flavor_t flavor;
    const char *db;          /* the session's database ("" = none) */
    tr_buf_t *out;           /* borrows: framed packets are appended */
    uint8_t *seq;            /* borrows: packet sequence id, advanced */
    bool deprecate_eof;      /* client negotiated CLIENT_DEPRECATE_EOF */
    uint16_t status;         /* server status of the final EOF/OK (e.g. MORE_RESULTS) */
    tr_catq_var_fn vars;     /* may be NULL: no variables */
    void *vars_arg;
} tr_catq_ctx_t;

/* True for the statement kinds tr_catq_answer handles. */
bool tr_catq_handles(tr_sql_kind_t kind);

/* Answers q into ctx->out. Returns 0 when a result set was written, else the error code
 * of the ERR packet written. USE is not answered here (tr_catq_has_db decides). */
int tr_catq_answer(const tr_catq_ctx_t *ctx, const tr_sql_cmd_t *q);

/* True when db names a database clients may select: information_schema (any case) or a
 * database of cat. */
bool tr_catq_has_db(const tr_catalog_t *cat, const char *db);

#endif
