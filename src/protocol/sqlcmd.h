/*
 * Classifier and parser for the small SQL subset replicas, binlog tools, CDC
 * clients and operators send to a replication source: SET of user/system
 * variables, SELECT of variables/functions/literals, SHOW VARIABLES, SHOW
 * MASTER STATUS / BINARY LOGS, KILL, transaction no-ops, the admin statements
 * (SHOW BINLOG EVENTS, SHOW REPLICAS / SLAVE HOSTS, PURGE / FLUSH BINARY
 * LOGS, tirelay's SHOW RELAY STATUS and SHOW BINLOG POSITION FOR TSO | GTID |
 * POSITION), the CDC probes SHOW GRANTS / SHOW DATABASES / SHOW STATUS /
 * SHOW [FULL] TABLES and column SELECTs from information_schema (answered
 * with an empty result: tirelay serves no tables). Everything else is
 * TR_SQL_UNKNOWN (the session answers ERR 1064).
 *
 * Pure: no I/O, no logging, no allocation; results are views into the
 * statement text. Keywords and @@ names are case-insensitive; whitespace,
 * comments and one trailing ';' are ignored.
 * Follows shared/spec/mysql-replication-source.md sections 3.1-3.4 and the
 * statements captured in shared/vectors/mariadb-10.11/master-general-log.txt.
 */
#ifndef TR_PROTOCOL_SQLCMD_H
#define TR_PROTOCOL_SQLCMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/defs.h"

#define TR_SQL_MAX_ITEMS  32  /* SELECT / SET items, SHOW filters */
#define TR_SQL_MAX_TOKENS 512 /* longer statements are TR_SQL_UNKNOWN */

typedef enum {
    TR_SQL_UNKNOWN = 0,         /* not understood: ERR 1064 */
    TR_SQL_EMPTY,               /* only whitespace/comments */
    TR_SQL_NOOP,                /* SET of session settings, COMMIT, ROLLBACK, BEGIN, USE...: OK */
    TR_SQL_SET,                 /* SET with at least one @user variable (items in set[]) */
    TR_SQL_SELECT,              /* items in sel[] */
    TR_SQL_SHOW_VARIABLES,      /* filters in show */
    TR_SQL_SHOW_MASTER_STATUS,  /* SHOW MASTER STATUS / BINARY LOG STATUS / BINLOG STATUS */
    TR_SQL_SHOW_BINARY_LOGS,    /* SHOW BINARY LOGS / SHOW MASTER LOGS */
    TR_SQL_KILL,                /* kill_id */
    TR_SQL_SHOW_BINLOG_EVENTS,  /* SHOW BINLOG EVENTS [IN 'f'] [FROM pos] [LIMIT [off,] n]: admin */
    TR_SQL_SHOW_REPLICAS,       /* SHOW REPLICAS / SHOW SLAVE HOSTS: admin (is_slave_hosts) */
    TR_SQL_PURGE_LOGS,          /* PURGE BINARY|MASTER LOGS TO 'f' | BEFORE 'datetime': admin */
    TR_SQL_FLUSH_LOGS,          /* FLUSH BINARY LOGS: admin */
    TR_SQL_SHOW_GRANTS,         /* SHOW GRANTS [FOR ...] (CDC probe) */
    TR_SQL_SHOW_DATABASES,      /* SHOW DATABASES / SCHEMAS [LIKE ...] (CDC probe) */
    TR_SQL_SHOW_STATUS,         /* SHOW [GLOBAL|SESSION] STATUS [filter] (filters in show) */
    TR_SQL_SHOW_TABLES,         /* SHOW [FULL] TABLES [FROM|IN db] [LIKE|WHERE ...]: show_full, show_db */
    TR_SQL_SELECT_EMPTY,        /* SELECT col [AS a], ... FROM information_schema.t ...: column
                                 * names in sel[] (expr IDENT, alias); always zero rows */
    TR_SQL_SHOW_RELAY_STATUS,   /* SHOW RELAY STATUS: admin */
    TR_SQL_SHOW_BINLOG_POSITION, /* SHOW BINLOG POSITION FOR TSO n | GTID 'g' | POSITION 'f' n:
                                  * admin (pos_by, pos_tso, pos_arg, pos_pos) */
} tr_sql_kind_t;

typedef enum {
    TR_SQL_POS_BY_TSO = 0,      /* FOR TSO <pos_tso> */
    TR_SQL_POS_BY_GTID,         /* FOR GTID '<pos_arg>' */
    TR_SQL_POS_BY_POSITION,     /* FOR POSITION '<pos_arg>' <pos_pos> */
} tr_sql_pos_by_t;

typedef enum {
    TR_SQL_SCOPE_DEFAULT = 0,
    TR_SQL_SCOPE_GLOBAL,
    TR_SQL_SCOPE_SESSION,
} tr_sql_scope_t;

typedef enum {
    TR_SQL_EXPR_NULL = 0,
    TR_SQL_EXPR_NUM,     /* numeric literal: text; ival valid when is_int */
    TR_SQL_EXPR_STR,     /* quoted string: name = raw contents (unquote with tr_sql_unquote) */
    TR_SQL_EXPR_SYSVAR,  /* @@[scope.]name: name, scope */
    TR_SQL_EXPR_USERVAR, /* @name: name */
    TR_SQL_EXPR_FUNC,    /* fn(args): fn, args */
    TR_SQL_EXPR_IDENT,   /* bare word (SET x = ON): name */
} tr_sql_expr_kind_t;

typedef enum {
    TR_SQL_FN_OTHER = 0,
    TR_SQL_FN_UNIX_TIMESTAMP,
    TR_SQL_FN_VERSION,
    TR_SQL_FN_DATABASE,
    TR_SQL_FN_CONNECTION_ID,
    TR_SQL_FN_USER,          /* USER(), CURRENT_USER() */
    TR_SQL_FN_BINLOG_GTID_POS,
    TR_SQL_FN_GTID_SUBTRACT,  /* GTID_SUBTRACT('set', 'set') (Debezium) */
    TR_SQL_FN_GTID_SUBSET,    /* GTID_SUBSET('set', 'set') */
} tr_sql_fn_t;

#define TR_SQL_MAX_ARGS 4

/* A function argument: a literal only (string or number). */
typedef struct {
    bool is_str;
    tr_slice_t raw;   /* string contents (escaped) or number text */
    int64_t ival;
} tr_sql_arg_t;

typedef struct {
    tr_sql_expr_kind_t kind;
    tr_slice_t text;       /* the expression as written (default column name) */
    tr_slice_t name;       /* variable name / string contents / identifier */
    tr_sql_scope_t scope;  /* SYSVAR */
    bool is_int;           /* NUM fits int64 */
    int64_t ival;          /* NUM */
    tr_sql_fn_t fn;        /* FUNC */
    tr_slice_t fn_name;    /* FUNC name as written */
    tr_sql_arg_t args[TR_SQL_MAX_ARGS];
    size_t nargs;
} tr_sql_expr_t;

typedef struct {
    tr_sql_expr_t expr;
    tr_slice_t alias; /* len 0 if none; for a quoted alias, the raw contents */
} tr_sql_sel_item_t;

typedef struct {
    bool is_user;          /* @name = value */
    tr_slice_t name;       /* variable name (without @/@@/scope) */
    tr_sql_scope_t scope;
    tr_sql_expr_t value;
} tr_sql_set_item_t;

typedef struct {
    bool is_like;          /* LIKE pattern (with % and _) or exact name */
    tr_slice_t pattern;    /* raw string contents */
} tr_sql_show_filter_t;

typedef struct {
    tr_sql_kind_t kind;
    /* TR_SQL_SELECT */
    tr_sql_sel_item_t sel[TR_SQL_MAX_ITEMS];
    size_t n_sel;
    bool has_limit;
    uint64_t limit;
    /* TR_SQL_SET */
    tr_sql_set_item_t set[TR_SQL_MAX_ITEMS];
    size_t n_set;
    /* TR_SQL_SHOW_VARIABLES */
    tr_sql_scope_t show_scope;
    tr_sql_show_filter_t show[TR_SQL_MAX_ITEMS];
    size_t n_show;         /* 0 = every variable */
    /* TR_SQL_SHOW_TABLES */
    bool show_full;        /* SHOW FULL TABLES: adds the Table_type column */
    tr_slice_t show_db;    /* FROM|IN db (len 0: the session's database) */
    /* TR_SQL_KILL */
    uint64_t kill_id;
    bool kill_query_only;  /* KILL QUERY */
    /* TR_SQL_SHOW_BINLOG_EVENTS (has_limit/limit above give the row count) */
    tr_slice_t log_name;   /* IN 'name' (raw string contents; len 0 = first file) */
    bool has_from;
    uint64_t from_pos;
    uint64_t limit_offset; /* LIMIT offset, n */
    /* TR_SQL_SHOW_REPLICAS */
    bool is_slave_hosts;   /* spelled SHOW SLAVE HOSTS (MySQL: Slave_UUID column name) */
    /* TR_SQL_PURGE_LOGS */
    bool purge_before;     /* BEFORE 'datetime' (purge_arg), else TO 'name' */
    tr_slice_t purge_arg;  /* raw string contents */
    /* TR_SQL_SHOW_BINLOG_POSITION */
    tr_sql_pos_by_t pos_by;
    uint64_t pos_tso;      /* FOR TSO (<= INT64_MAX) */
    tr_slice_t pos_arg;    /* FOR GTID / FOR POSITION: raw string contents */
    uint64_t pos_pos;      /* FOR POSITION: the offset */
} tr_sql_cmd_t;

/*
 * Parses one statement. Never fails: unsupported text yields kind
 * TR_SQL_UNKNOWN with *why set (a static string). out is large (~10 KiB);
 * callers keep one per session rather than on a small stack.
 */
void tr_sql_parse(const char *sql, size_t len, tr_sql_cmd_t *out, const char **why);

/*
 * Unescapes the raw contents of a quoted string (backslash escapes and
 * doubled quotes) into out (at most cap - 1 bytes, NUL-terminated). Returns
 * the unescaped length (which may exceed cap - 1 when truncated).
 */
size_t tr_sql_unquote(tr_slice_t raw, char *out, size_t cap);

/* Case-insensitive SQL LIKE: '%' any run, '_' one character, '\' escapes. */
bool tr_sql_like(const char *pattern, size_t plen, const char *s, size_t slen);

/* Case-insensitive comparison of a slice with a NUL-terminated word. */
bool tr_sql_eq(tr_slice_t s, const char *word);

#endif
