/*
 * The schema catalogue tirelay serves to clients: the databases, tables,
 * columns and indexes of the replicated schema as of the last transaction
 * written, with the filter's renames applied, and how each flavour shows them
 * (MySQL: as TiDB and MySQL 5.7 write types, `int(11)`; MariaDB 10.11: its
 * own names, JSON as `longtext`, utf8 as utf8mb3). Answers SHOW COLUMNS,
 * SHOW CREATE TABLE, information_schema and the rest (protocol/catalog_query.h).
 *
 * A catalogue is immutable once built and reference counted (tr_catalog_ref /
 * tr_catalog_unref are atomic): the writer builds a new one when the schema
 * changes and the store publishes it; sessions on any thread read it. Tables
 * are shared between successive catalogues (a DDL rebuilds only the tables it
 * touched).
 *
 * Pure: no I/O, no logging. Type and default rules follow the servers'
 * Field::sql_type / Column_definition printing as observed on MariaDB 10.11
 * (tests/integration/test_catalog.py compares with a real replica) and
 * MySQL 5.7/8.0's documentation of SHOW COLUMNS and information_schema.
 */
#ifndef TR_PROTOCOL_CATALOG_H
#define TR_PROTOCOL_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/defs.h"
#include "protocol/binlog_event.h"

/* A column default as TiDB records it. */
typedef enum {
    TR_CAT_DEFAULT_NONE = 0, /* no DEFAULT clause (NOT NULL without one, auto_increment,
                              * generated columns) */
    TR_CAT_DEFAULT_NULL,     /* DEFAULT NULL */
    TR_CAT_DEFAULT_VALUE,    /* a literal: text is the value (unquoted) */
    TR_CAT_DEFAULT_NOW,      /* CURRENT_TIMESTAMP, with the column's fsp */
    TR_CAT_DEFAULT_EXPR,     /* an expression: text */
    TR_CAT_DEFAULT_BIT,      /* a BIT value: text holds its bytes (big-endian) */
} tr_cat_default_t;

typedef struct {
    char *name;
    uint8_t tp;              /* TiDB/MySQL type code (tidb_schema.h TR_TIDB_TP_*) */
    uint32_t flag;           /* TiDB FieldType flags (NOT NULL, UNSIGNED, ZEROFILL, ...) */
    int flen;                /* display width / length (-1 = unspecified) */
    int decimal;             /* scale / fsp (-1 = unspecified) */
    char *charset;           /* TiDB's name; "" or "binary" for binary and non-strings */
    char *collation;         /* TiDB's name */
    char **elems;            /* ENUM/SET members */
    size_t n_elems;
    tr_cat_default_t default_kind;
    char *default_text;      /* VALUE/EXPR text, BIT bytes (default_len of them) */
    size_t default_len;
    bool on_update_now;      /* ON UPDATE CURRENT_TIMESTAMP */
    bool auto_increment;
    char *comment;
    char *gen_expr;          /* generated column expression; NULL when not generated */
    bool gen_stored;
    char key[4];             /* COLUMN_KEY: "PRI", "UNI", "MUL" or "" (tr_cat_table_finish) */
} tr_cat_column_t;

typedef struct {
    size_t col;              /* index into the table's columns */
    int length;              /* prefix length (characters); -1 = whole column */
} tr_cat_index_col_t;

typedef struct {
    char *name;              /* "PRIMARY" for the primary key */
    bool is_primary;
    bool is_unique;
    bool is_invisible;
    const char *type;        /* "BTREE", "HASH", "RTREE" (static) */
    char *comment;
    tr_cat_index_col_t *cols;
    size_t n_cols;
} tr_cat_index_t;

/* A partition clause (SHOW CREATE TABLE). */
typedef struct {
    char *name;
    char *less_than;         /* RANGE bound values (NULL otherwise) */
    char *in_values;         /* LIST values (NULL otherwise) */
    char *comment;
} tr_cat_partition_t;

typedef struct tr_cat_table {
    int refs;                /* atomic */
    uint64_t version;        /* identifies this definition (the binlog table id) */
    char *db;                /* database name replicas see */
    char *name;              /* table name replicas see */
    bool is_view;
    char *view_select;       /* views: the SELECT text */
    char *charset;           /* table default charset (TiDB's name) */
    char *collation;
    char *comment;
    tr_cat_column_t *cols;
    size_t n_cols;
    tr_cat_index_t *idx;     /* in the order servers list them: PRIMARY, then UNIQUE keys
                              * without nullable columns, other UNIQUE keys, the rest */
    size_t n_idx;
    int part_type;           /* 0 none, 1 RANGE, 2 HASH, 3 LIST, 4 KEY */
    char *part_expr;         /* partition expression, or "" */
    char *part_columns;      /* RANGE/LIST COLUMNS column list ("`a`,`b`"), or "" */
    tr_cat_partition_t *parts;
    size_t n_parts;
} tr_cat_table_t;

typedef struct {
    char *name;
    char *charset;           /* TiDB's names */
    char *collation;
} tr_cat_db_t;

typedef struct tr_catalog tr_catalog_t;

/* ---- building (the writer) ---- */

/* A new table with its strings copied; columns and indexes are appended with
 * tr_cat_table_add_column / _add_index, then tr_cat_table_finish orders the
 * indexes and derives each column's key. Returns owned (refs 1). */
tr_cat_table_t *tr_cat_table_new(uint64_t version, const char *db, const char *name,
                                 const char *charset, const char *collation, const char *comment);
/* Appends a copy of c (its strings and elems are copied). Returns the new column. */
tr_cat_column_t *tr_cat_table_add_column(tr_cat_table_t *t, const tr_cat_column_t *c);
/* Appends an index over cols (copied). */
void tr_cat_table_add_index(tr_cat_table_t *t, const char *name, bool is_primary, bool is_unique,
                            bool is_invisible, int tidb_type, const char *comment,
                            const tr_cat_index_col_t *cols, size_t n_cols);
void tr_cat_table_add_partition(tr_cat_table_t *t, const char *name, const char *less_than,
                                const char *in_values, const char *comment);
void tr_cat_table_finish(tr_cat_table_t *t);
void tr_cat_table_ref(tr_cat_table_t *t);
void tr_cat_table_unref(tr_cat_table_t *t);

/* An empty catalogue (refs 1); databases and tables are added, then sorted by
 * tr_catalog_seal. The catalogue keeps a reference to each table added. */
tr_catalog_t *tr_catalog_new(void);
void tr_catalog_add_db(tr_catalog_t *c, const char *name, const char *charset,
                       const char *collation);
void tr_catalog_add_table(tr_catalog_t *c, tr_cat_table_t *t);
/* Sorts databases and tables by name; a table whose database was not added gets one
 * (utf8mb4). Call once, before sharing. */
void tr_catalog_seal(tr_catalog_t *c);

void tr_catalog_ref(tr_catalog_t *c);
void tr_catalog_unref(tr_catalog_t *c); /* NULL: no-op */

/* ---- reading (any thread, a sealed catalogue) ---- */

size_t tr_catalog_n_dbs(const tr_catalog_t *c);
const tr_cat_db_t *tr_catalog_db_at(const tr_catalog_t *c, size_t i);
size_t tr_catalog_n_tables(const tr_catalog_t *c);
const tr_cat_table_t *tr_catalog_table_at(const tr_catalog_t *c, size_t i);
/* Exact-name lookups (database and table names are case-sensitive, as with
 * lower_case_table_names = 0); information_schema is not a catalogue database. */
const tr_cat_db_t *tr_catalog_find_db(const tr_catalog_t *c, const char *db);
const tr_cat_table_t *tr_catalog_find_table(const tr_catalog_t *c, const char *db,
                                            const char *table);
/* A table of the catalogue with this version (binlog table id), or NULL: lets a rebuild
 * share tables that did not change. */
tr_cat_table_t *tr_catalog_find_version(const tr_catalog_t *c, uint64_t version);

/* ---- how each flavour shows a definition ---- */

/* Charset and collation names of flavour f for TiDB's names ("utf8" is utf8mb3; MariaDB
 * has no 0900 collations); NULL for "" and "binary" (binary and non-string columns). */
const char *tr_cat_charset_name(const char *tidb_charset, tr_flavor_t f);
const char *tr_cat_collation_name(const char *tidb_collation, tr_flavor_t f);
/* The column's charset and collation as the flavour shows them (JSON on MariaDB:
 * utf8mb4 / utf8mb4_bin), NULL for non-character columns. */
const char *tr_cat_column_charset(const tr_cat_column_t *c, tr_flavor_t f);
const char *tr_cat_column_collation(const tr_cat_column_t *c, tr_flavor_t f);
/* COLUMN_TYPE ("int(10) unsigned", "enum('a','b')", "longtext" for MariaDB's JSON). */
void tr_cat_column_type(const tr_cat_column_t *c, tr_flavor_t f, tr_buf_t *out);
/* DATA_TYPE ("int", "varchar", "json" / "longtext"). */
const char *tr_cat_data_type(const tr_cat_column_t *c, tr_flavor_t f);
bool tr_cat_column_nullable(const tr_cat_column_t *c);
/* EXTRA: auto_increment, on update ..., VIRTUAL/STORED GENERATED, MySQL's DEFAULT_GENERATED. */
void tr_cat_column_extra(const tr_cat_column_t *c, tr_flavor_t f, tr_buf_t *out);
/* The default as SHOW COLUMNS shows it (false: NULL) and as information_schema.COLUMNS
 * COLUMN_DEFAULT shows it (MariaDB quotes literals and writes NULL as 'NULL'). */
bool tr_cat_column_default_show(const tr_cat_column_t *c, tr_flavor_t f, tr_buf_t *out);
bool tr_cat_column_default_is(const tr_cat_column_t *c, tr_flavor_t f, tr_buf_t *out);
/* Numeric facts of information_schema.COLUMNS; false when NULL there. */
bool tr_cat_column_char_length(const tr_cat_column_t *c, tr_flavor_t f, uint64_t *chars,
                               uint64_t *octets);
bool tr_cat_column_numeric(const tr_cat_column_t *c, uint64_t *precision, bool *has_scale,
                           uint64_t *scale);
bool tr_cat_column_datetime_precision(const tr_cat_column_t *c, uint64_t *fsp);

/* Text of a definition (comment, default, member) as flavour f keeps it: MariaDB's table
 * definitions are utf8mb3, a 4-byte character reads back as '?' (seen on 10.11). */
void tr_cat_text(tr_buf_t *out, const char *s, size_t n, tr_flavor_t f);

/* SHOW CREATE TABLE / SHOW CREATE VIEW text, and SHOW CREATE DATABASE. */
void tr_cat_show_create_table(const tr_cat_table_t *t, tr_flavor_t f, tr_buf_t *out);
void tr_cat_show_create_db(const tr_cat_db_t *d, bool if_not_exists, tr_flavor_t f,
                           tr_buf_t *out);

#endif
