/*
 * Classifier and parser for the small SQL subset replicas, binlog tools, CDC
 * clients and operators send to a replication source: SET of user/system
 * variables, SELECT of variables/functions/literals, SHOW VARIABLES, SHOW
 * MASTER STATUS / BINARY LOGS, KILL, transaction no-ops, the admin statements
 * (SHOW BINLOG EVENTS, SHOW REPLICAS / SLAVE HOSTS, PURGE / FLUSH BINARY
 * LOGS, tirelay's SHOW RELAY STATUS and SHOW BINLOG POSITION FOR TSO | GTID |
 * POSITION), SHOW GRANTS / SHOW STATUS, and the schema catalogue statements
 * CDC clients send (SHOW DATABASES, SHOW [FULL] TABLES, SHOW [FULL] COLUMNS,
 * DESCRIBE, SHOW CREATE TABLE | DATABASE, SHOW INDEX, SHOW TABLE STATUS, USE,
 * and SELECT from information_schema with WHERE (=, <>, <, >, IN, LIKE,
 * IS NULL, AND, OR, NOT), ORDER BY, LIMIT and one LEFT JOIN; answered by
 * protocol/catalog_query.h). A SELECT from any other table is
 * TR_SQL_SELECT_TABLE (tirelay holds no rows). Several statements separated by
 * ';' are split by tr_sql_next_statement. Everything else is TR_SQL_UNKNOWN
 * (the session answers ERR 1064).
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
#define TR_SQL_MAX_CONDS  64  /* WHERE nodes */
#define TR_SQL_MAX_LIST   64  /* IN list values, all IN lists of a WHERE together */
#define TR_SQL_MAX_ORDER  8   /* ORDER BY keys */

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
    TR_SQL_SHOW_DATABASES,      /* SHOW DATABASES / SCHEMAS [LIKE|WHERE]: like / where */
    TR_SQL_SHOW_STATUS,         /* SHOW [GLOBAL|SESSION] STATUS [filter] (filters in show) */
    TR_SQL_SHOW_TABLES,         /* SHOW [FULL] TABLES [FROM|IN db] [LIKE|WHERE]: show_full,
                                 * show_db, like / where */
    TR_SQL_SELECT_CATALOG,      /* SELECT items FROM information_schema.T [alias] [LEFT JOIN
                                 * ...] [WHERE] [ORDER BY] [LIMIT]: sel[], from_*, join_*,
                                 * where, order[], has_limit/limit/limit_offset */
    TR_SQL_SELECT_TABLE,        /* SELECT ... FROM a table of a database (from_db may be empty:
                                 * the session's): tirelay holds no rows */
    TR_SQL_SHOW_COLUMNS,        /* SHOW [FULL] COLUMNS|FIELDS FROM t [FROM db], DESCRIBE t [col]:
                                 * show_full, obj_db, obj_name, like / where */
    TR_SQL_SHOW_CREATE_TABLE,   /* SHOW CREATE TABLE|VIEW [db.]t: obj_db, obj_name */
    TR_SQL_SHOW_CREATE_DB,      /* SHOW CREATE DATABASE|SCHEMA [IF NOT EXISTS] db: obj_name,
                                 * if_not_exists */
    TR_SQL_SHOW_INDEX,          /* SHOW INDEX|INDEXES|KEYS FROM t [FROM db] [WHERE]: obj_db,
                                 * obj_name, where */
    TR_SQL_SHOW_TABLE_STATUS,   /* SHOW TABLE STATUS [FROM db] [LIKE|WHERE]: show_db, like, where */
    TR_SQL_USE,                 /* USE db: obj_name */
    TR_SQL_SHOW_RELAY_STATUS,   /* SHOW RELAY STATUS: admin */
    TR_SQL_SHOW_BINLOG_POSITION, /* SHOW BINLOG POSITION FOR TSO n | GTID 'g' | POSITION 'f' n:
                                  * admin (pos_by, pos_tso, pos_arg, pos_pos) */
    TR_SQL_LOCK_FOR_SNAPSHOT,   /* FLUSH TABLES [t, ...] WITH READ LOCK, LOCK TABLES FOR BACKUP,
                                 * LOCK INSTANCE FOR BACKUP (a snapshot tool's global lock) */
    TR_SQL_UNLOCK,              /* UNLOCK TABLES | INSTANCE */
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
    TR_SQL_EXPR_IDENT,   /* bare word (SET x = ON), or a column of a catalogue SELECT: name,
                          * qual (the table or alias before the dot; len 0 if none) */
    TR_SQL_EXPR_STAR,    /* * or qual.* in a catalogue SELECT */
    TR_SQL_EXPR_COUNT,   /* COUNT(*) in a catalogue SELECT */
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
    tr_slice_t qual;       /* IDENT / STAR in a catalogue SELECT: qualifier (len 0 if none) */
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

/* An operand of a WHERE condition. */
typedef enum {
    TR_SQL_OPD_COLUMN = 0, /* [qual.]name */
    TR_SQL_OPD_STR,        /* quoted string: name = raw contents (tr_sql_unquote) */
    TR_SQL_OPD_NUM,        /* number: name = its text */
    TR_SQL_OPD_NULL,
    TR_SQL_OPD_DATABASE,   /* DATABASE() / SCHEMA(): the session's database */
} tr_sql_opd_kind_t;

typedef struct {
    tr_sql_opd_kind_t kind;
    tr_slice_t qual;       /* COLUMN: table or alias before the dot (len 0 if none) */
    tr_slice_t name;       /* COLUMN name (raw: backquoted names keep doubled backquotes),
                            * STR raw contents, NUM text */
    bool is_quoted;        /* COLUMN written in backquotes */
} tr_sql_opd_t;

typedef enum {
    TR_SQL_COND_AND = 0,   /* left AND right */
    TR_SQL_COND_OR,        /* left OR right */
    TR_SQL_COND_NOT,       /* NOT left */
    TR_SQL_COND_CMP,       /* a op b */
    TR_SQL_COND_IN,        /* a [NOT] IN (list[list_first .. list_first + list_n)) */
    TR_SQL_COND_LIKE,      /* a [NOT] LIKE b */
    TR_SQL_COND_IS_NULL,   /* a IS [NOT] NULL */
} tr_sql_cond_kind_t;

typedef enum {
    TR_SQL_CMP_EQ = 0,
    TR_SQL_CMP_NE,
    TR_SQL_CMP_LT,
    TR_SQL_CMP_LE,
    TR_SQL_CMP_GT,
    TR_SQL_CMP_GE,
} tr_sql_cmp_t;

typedef struct {
    tr_sql_cond_kind_t kind;
    tr_sql_cmp_t op;       /* CMP */
    bool negate;           /* NOT IN, NOT LIKE, IS NOT NULL */
    uint8_t left;          /* AND / OR / NOT: child nodes */
    uint8_t right;
    tr_sql_opd_t a;
    tr_sql_opd_t b;
    uint8_t list_first;    /* IN */
    uint8_t list_n;
} tr_sql_cond_t;

typedef struct {
    tr_sql_opd_t key;      /* a column, or a NUM: the position of a select item */
    bool desc;
} tr_sql_order_t;

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
    /* Catalogue statements */
    bool show_full;        /* SHOW FULL TABLES / COLUMNS */
    tr_slice_t show_db;    /* SHOW TABLES / TABLE STATUS FROM|IN db (len 0: the session's) */
    bool has_like;         /* LIKE 'pattern' of a SHOW (like: raw contents) */
    tr_slice_t like;
    int where;             /* root of the WHERE condition in cond[], -1 = none */
    tr_sql_cond_t cond[TR_SQL_MAX_CONDS];
    size_t n_cond;
    tr_sql_opd_t list[TR_SQL_MAX_LIST];
    size_t n_list;
    tr_slice_t obj_db;     /* the database of the table named (len 0: the session's) */
    tr_slice_t obj_name;   /* the table (or database for SHOW CREATE DATABASE / USE) */
    bool if_not_exists;    /* SHOW CREATE DATABASE IF NOT EXISTS */
    tr_slice_t from_db;    /* SELECT: FROM [from_db.]from_table [[AS] from_alias] */
    tr_slice_t from_table;
    tr_slice_t from_alias;
    bool has_join;         /* LEFT JOIN [join_db.]join_table [[AS] join_alias] ON join_a = join_b */
    tr_slice_t join_db;
    tr_slice_t join_table;
    tr_slice_t join_alias;
    tr_sql_opd_t join_a;
    tr_sql_opd_t join_b;
    tr_sql_order_t order[TR_SQL_MAX_ORDER];
    size_t n_order;
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
 * Splits a COM_QUERY text holding several statements: the length of the first one
 * (up to, not including, a ';' outside strings, quoted names and comments; the whole
 * text when there is none) and in *next the offset where the rest starts (len when
 * nothing follows but whitespace and ';'). A trailing ';' alone ends the text.
 */
size_t tr_sql_next_statement(const char *sql, size_t len, size_t *next);

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
