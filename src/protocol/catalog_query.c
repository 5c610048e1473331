/*
 * Catalogue statements (see catalog_query.h). Every statement reads one of a
 * few virtual tables: a generator fills one row of cells at a time into a
 * scratch buffer; the rows the WHERE (and a SHOW's LIKE) keep are copied out,
 * sorted by ORDER BY, cut by LIMIT and written as a text result set. A
 * generator skips whole tables when the WHERE pins TABLE_SCHEMA or TABLE_NAME
 * with "=" (the common per-table question costs one table, not the schema).
 * Pure: no I/O, no logging.
 */
#include "protocol/catalog_query.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/mem.h"
#include "protocol/result.h"
#include "protocol/tidb_schema.h"
#include "protocol/wire.h"

#define MAX_COLS 32 /* widest virtual table, both sides of a join */

/* ---------------------------------------------------------------- cells and generators */

typedef struct {
    const char *lit; /* static text, or NULL: scratch at off */
    size_t off;
    size_t len;
    bool null;
} cell_t;

typedef struct gen gen_t;

typedef struct {
    const char *name;
    bool num;
} vcol_t;

typedef struct {
    const char *name;                 /* information_schema name (upper case) */
    const vcol_t *cols[TR_FLAVOR_COUNT];
    size_t ncols[TR_FLAVOR_COUNT];
    bool (*next)(gen_t *g);           /* fills g->cells; false when done */
    int db_col;                       /* column pinned by "db = '...'" (-1 none) */
    int table_col;                    /* column pinned by "table = '...'" (-1 none) */
    bool any_column;                  /* an always empty table: every column name resolves */
} vtab_t;

struct gen {
    const tr_catq_ctx_t *ctx;
    const tr_catalog_t *cat;
    tr_flavor_t f;
    const char *want_db;          /* prefilter: only this database (NULL = any) */
    const char *want_table;       /* prefilter: only this table */
    const tr_cat_table_t *only;   /* SHOW COLUMNS / INDEX: this table */
    const char *show_db;          /* SHOW TABLES / TABLE STATUS: this database */
    size_t a, b, c;               /* iteration state */
    bool started;
    tr_buf_t *scratch;
    cell_t cells[MAX_COLS];
};

static size_t n_tables(const gen_t *g)
{
    return g->cat != NULL ? tr_catalog_n_tables(g->cat) : 0;
}

static void c_lit(gen_t *g, size_t i, const char *s)
{
    g->cells[i].lit = s;
    g->cells[i].len = s != NULL ? strlen(s) : 0;
    g->cells[i].null = s == NULL;
}

static void c_null(gen_t *g, size_t i)
{
    c_lit(g, i, NULL);
}

/* Starts a cell written into the scratch buffer; c_end closes it. */
static size_t c_begin(gen_t *g)
{
    return g->scratch->len;
}

static void c_end(gen_t *g, size_t i, size_t start)
{
    g->cells[i].lit = NULL;
    g->cells[i].off = start;
    g->cells[i].len = g->scratch->len - start;
    g->cells[i].null = false;
}

static void c_str(gen_t *g, size_t i, const char *s)
{
    if (s == NULL) {
        c_null(g, i);
        return;
    }
    size_t st = c_begin(g);
    tr_buf_append(g->scratch, s, strlen(s));
    c_end(g, i, st);
}

/* A definition's text as the flavour keeps it (tr_cat_text). */
static void c_text(gen_t *g, size_t i, const char *s)
{
    size_t st = c_begin(g);
    tr_cat_text(g->scratch, s, strlen(s), g->f);
    c_end(g, i, st);
}

static void c_u64(gen_t *g, size_t i, uint64_t v)
{
    size_t st = c_begin(g);
    tr_buf_printf(g->scratch, "%" PRIu64, v);
    c_end(g, i, st);
}

/* True when the table passes the prefilter (and belongs to the SHOW's database). */
static bool table_wanted(const gen_t *g, const tr_cat_table_t *t)
{
    if (g->want_db != NULL && strcasecmp(g->want_db, t->db) != 0) {
        return false;
    }
    if (g->want_table != NULL && strcasecmp(g->want_table, t->name) != 0) {
        return false;
    }
    return g->show_db == NULL || strcmp(g->show_db, t->db) == 0;
}

/* The next table (g->a) passing the prefilter, from g->a on; NULL at the end. */
static const tr_cat_table_t *seek_table(gen_t *g)
{
    if (g->only != NULL) {
        return g->a == 0 ? g->only : NULL;
    }
    for (; g->a < n_tables(g); g->a++) {
        const tr_cat_table_t *t = tr_catalog_table_at(g->cat, g->a);
        if (table_wanted(g, t)) {
            return t;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- SCHEMATA */

static const vcol_t schemata_my[] = {
    {"CATALOG_NAME", false},   {"SCHEMA_NAME", false}, {"DEFAULT_CHARACTER_SET_NAME", false},
    {"DEFAULT_COLLATION_NAME", false}, {"SQL_PATH", false}, {"DEFAULT_ENCRYPTION", false},
};
static const vcol_t schemata_maria[] = {
    {"CATALOG_NAME", false},   {"SCHEMA_NAME", false}, {"DEFAULT_CHARACTER_SET_NAME", false},
    {"DEFAULT_COLLATION_NAME", false}, {"SQL_PATH", false}, {"SCHEMA_COMMENT", false},
};

/* Row 0 is information_schema itself, then the catalogue's databases (g->a - 1). */
static bool db_row(gen_t *g, const char **name, const char **cs, const char **co)
{
    size_t n = g->cat != NULL ? tr_catalog_n_dbs(g->cat) : 0;
    for (; g->a <= n; g->a++) {
        if (g->a == 0) {
            *name = "information_schema";
            *cs = "utf8mb3";
            *co = "utf8mb3_general_ci";
        } else {
            const tr_cat_db_t *d = tr_catalog_db_at(g->cat, g->a - 1);
            *name = d->name;
            *cs = tr_cat_charset_name(d->charset, g->f);
            *co = tr_cat_collation_name(d->collation, g->f);
        }
        if (g->want_db == NULL || strcasecmp(g->want_db, *name) == 0) {
            g->a++;
            return true;
        }
    }
    return false;
}

static bool next_schemata(gen_t *g)
{
    const char *name;
    const char *cs;
    const char *co;
    if (!db_row(g, &name, &cs, &co)) {
        return false;
    }
    c_lit(g, 0, "def");
    c_str(g, 1, name);
    c_str(g, 2, cs);
    c_str(g, 3, co);
    c_null(g, 4);
    c_lit(g, 5, g->f == TR_FLAVOR_MARIADB ? "" : "NO");
    return true;
}

static const vcol_t show_databases[] = {{"Database", false}};

static bool next_show_databases(gen_t *g)
{
    const char *name;
    const char *cs;
    const char *co;
    if (!db_row(g, &name, &cs, &co)) {
        return false;
    }
    c_str(g, 0, name);
    return true;
}

/* ---------------------------------------------------------------- TABLES */

static const vcol_t tables_cols[] = {
    {"TABLE_CATALOG", false}, {"TABLE_SCHEMA", false},  {"TABLE_NAME", false},
    {"TABLE_TYPE", false},    {"ENGINE", false},        {"VERSION", true},
    {"ROW_FORMAT", false},    {"TABLE_ROWS", true},     {"AVG_ROW_LENGTH", true},
    {"DATA_LENGTH", true},    {"MAX_DATA_LENGTH", true}, {"INDEX_LENGTH", true},
    {"DATA_FREE", true},      {"AUTO_INCREMENT", true}, {"CREATE_TIME", false},
    {"UPDATE_TIME", false},   {"CHECK_TIME", false},    {"TABLE_COLLATION", false},
    {"CHECKSUM", true},       {"CREATE_OPTIONS", false}, {"TABLE_COMMENT", false},
    {"MAX_INDEX_LENGTH", true}, {"TEMPORARY", false},
};

/* Fills cells from `first` on with the TABLES / SHOW TABLE STATUS facts after the name:
 * Engine .. Comment (18 cells less Name), plus Max_index_length and Temporary for
 * MariaDB. tirelay holds no rows: sizes are 0, AUTO_INCREMENT and times NULL. */
static void table_status_cells(gen_t *g, const tr_cat_table_t *t, size_t first)
{
    size_t i = first;
    bool view = t->is_view;
    c_lit(g, i++, view ? NULL : "InnoDB");
    c_lit(g, i++, view ? NULL : "10");
    c_lit(g, i++, view ? NULL : "Dynamic");
    for (int k = 0; k < 6; k++) { /* rows, avg, data, max data, index, free */
        c_lit(g, i++, view ? NULL : "0");
    }
    c_null(g, i++); /* AUTO_INCREMENT */
    c_null(g, i++); /* CREATE_TIME */
    c_null(g, i++); /* UPDATE_TIME */
    c_null(g, i++); /* CHECK_TIME */
    c_str(g, i++, view ? NULL : tr_cat_collation_name(t->collation, g->f));
    c_null(g, i++); /* CHECKSUM */
    c_lit(g, i++, view ? NULL : t->part_type != 0 ? "partitioned" : "");
    if (view) {
        c_lit(g, i++, "VIEW");
    } else {
        c_text(g, i++, t->comment);
    }
    if (g->f == TR_FLAVOR_MARIADB) {
        c_lit(g, i++, view ? NULL : "0");
        c_lit(g, i++, view ? NULL : "N");
    }
}

static bool next_tables(gen_t *g)
{
    const tr_cat_table_t *t = seek_table(g);
    if (t == NULL) {
        return false;
    }
    g->a++;
    c_lit(g, 0, "def");
    c_str(g, 1, t->db);
    c_str(g, 2, t->name);
    c_lit(g, 3, t->is_view ? "VIEW" : "BASE TABLE");
    table_status_cells(g, t, 4);
    return true;
}

static const vcol_t table_status_cols[] = {
    {"Name", false},         {"Engine", false},        {"Version", true},
    {"Row_format", false},   {"Rows", true},           {"Avg_row_length", true},
    {"Data_length", true},   {"Max_data_length", true}, {"Index_length", true},
    {"Data_free", true},     {"Auto_increment", true}, {"Create_time", false},
    {"Update_time", false},  {"Check_time", false},    {"Collation", false},
    {"Checksum", true},      {"Create_options", false}, {"Comment", false},
    {"Max_index_length", true}, {"Temporary", false},
};

static bool next_table_status(gen_t *g)
{
    const tr_cat_table_t *t = seek_table(g);
    if (t == NULL) {
        return false;
    }
    g->a++;
    c_str(g, 0, t->name);
    table_status_cells(g, t, 1);
    return true;
}

/* information_schema's own tables, for SHOW TABLES FROM information_schema. */
static const char *const is_tables[] = {
    "CHECK_CONSTRAINTS", "COLLATION_CHARACTER_SET_APPLICABILITY", "COLUMNS", "EVENTS",
    "GLOBAL_VARIABLES", "KEY_COLUMN_USAGE", "PARAMETERS", "REFERENTIAL_CONSTRAINTS", "ROUTINES",
    "SCHEMATA", "SESSION_VARIABLES", "STATISTICS", "TABLES", "TABLE_CONSTRAINTS", "TRIGGERS",
    "VIEWS",
};

static vcol_t show_tables_cols[2] = {{"Tables_in_", false}, {"Table_type", false}};

static bool next_show_tables(gen_t *g)
{
    if (g->show_db == NULL) { /* information_schema */
        if (g->a >= TR_ARRAY_LEN(is_tables)) {
            return false;
        }
        c_lit(g, 0, is_tables[g->a++]);
        c_lit(g, 1, "SYSTEM VIEW");
        return true;
    }
    const tr_cat_table_t *t = seek_table(g);
    if (t == NULL) {
        return false;
    }
    g->a++;
    c_str(g, 0, t->name);
    c_lit(g, 1, t->is_view ? "VIEW" : "BASE TABLE");
    return true;
}

/* ---------------------------------------------------------------- COLUMNS */

static const vcol_t columns_my[] = {
    {"TABLE_CATALOG", false},          {"TABLE_SCHEMA", false},
    {"TABLE_NAME", false},             {"COLUMN_NAME", false},
    {"ORDINAL_POSITION", true},        {"COLUMN_DEFAULT", false},
    {"IS_NULLABLE", false},            {"DATA_TYPE", false},
    {"CHARACTER_MAXIMUM_LENGTH", true}, {"CHARACTER_OCTET_LENGTH", true},
    {"NUMERIC_PRECISION", true},       {"NUMERIC_SCALE", true},
    {"DATETIME_PRECISION", true},      {"CHARACTER_SET_NAME", false},
    {"COLLATION_NAME", false},         {"COLUMN_TYPE", false},
    {"COLUMN_KEY", false},             {"EXTRA", false},
    {"PRIVILEGES", false},             {"COLUMN_COMMENT", false},
    {"GENERATION_EXPRESSION", false},  {"SRS_ID", true},
};
static const vcol_t columns_maria[] = {
    {"TABLE_CATALOG", false},          {"TABLE_SCHEMA", false},
    {"TABLE_NAME", false},             {"COLUMN_NAME", false},
    {"ORDINAL_POSITION", true},        {"COLUMN_DEFAULT", false},
    {"IS_NULLABLE", false},            {"DATA_TYPE", false},
    {"CHARACTER_MAXIMUM_LENGTH", true}, {"CHARACTER_OCTET_LENGTH", true},
    {"NUMERIC_PRECISION", true},       {"NUMERIC_SCALE", true},
    {"DATETIME_PRECISION", true},      {"CHARACTER_SET_NAME", false},
    {"COLLATION_NAME", false},         {"COLUMN_TYPE", false},
    {"COLUMN_KEY", false},             {"EXTRA", false},
    {"PRIVILEGES", false},             {"COLUMN_COMMENT", false},
    {"IS_GENERATED", false},           {"GENERATION_EXPRESSION", false},
};

#define PRIVILEGES "select,insert,update,references"

/* The next (table, column) pair: g->a table, g->b column. */
static bool seek_column(gen_t *g, const tr_cat_table_t **tp, const tr_cat_column_t **cp)
{
    for (;;) {
        const tr_cat_table_t *t = seek_table(g);
        if (t == NULL) {
            return false;
        }
        if (g->b < t->n_cols) {
            *tp = t;
            *cp = &t->cols[g->b++];
            return true;
        }
        g->a++;
        g->b = 0;
    }
}

static bool next_columns(gen_t *g)
{
    const tr_cat_table_t *t;
    const tr_cat_column_t *c;
    if (!seek_column(g, &t, &c)) {
        return false;
    }
    tr_flavor_t f = g->f;
    c_lit(g, 0, "def");
    c_str(g, 1, t->db);
    c_str(g, 2, t->name);
    c_str(g, 3, c->name);
    c_u64(g, 4, g->b);
    size_t st = c_begin(g);
    if (tr_cat_column_default_is(c, f, g->scratch)) {
        c_end(g, 5, st);
    } else {
        c_null(g, 5);
    }
    c_lit(g, 6, tr_cat_column_nullable(c) ? "YES" : "NO");
    c_lit(g, 7, tr_cat_data_type(c, f));
    uint64_t chars;
    uint64_t octets;
    if (tr_cat_column_char_length(c, f, &chars, &octets)) {
        c_u64(g, 8, chars);
        c_u64(g, 9, octets);
    } else {
        c_null(g, 8);
        c_null(g, 9);
    }
    uint64_t prec;
    uint64_t scale;
    bool has_scale;
    if (tr_cat_column_numeric(c, &prec, &has_scale, &scale)) {
        c_u64(g, 10, prec);
        if (has_scale) {
            c_u64(g, 11, scale);
        } else {
            c_null(g, 11);
        }
    } else {
        c_null(g, 10);
        c_null(g, 11);
    }
    uint64_t fsp;
    if (tr_cat_column_datetime_precision(c, &fsp)) {
        c_u64(g, 12, fsp);
    } else {
        c_null(g, 12);
    }
    c_lit(g, 13, tr_cat_column_charset(c, f));
    c_lit(g, 14, tr_cat_column_collation(c, f));
    st = c_begin(g);
    tr_cat_column_type(c, f, g->scratch);
    c_end(g, 15, st);
    c_lit(g, 16, c->key);
    st = c_begin(g);
    tr_cat_column_extra(c, f, g->scratch);
    c_end(g, 17, st);
    c_lit(g, 18, PRIVILEGES);
    c_text(g, 19, c->comment);
    if (f == TR_FLAVOR_MARIADB) {
        c_lit(g, 20, c->gen_expr != NULL ? "ALWAYS" : "NEVER");
        c_str(g, 21, c->gen_expr);
    } else {
        c_str(g, 20, c->gen_expr != NULL ? c->gen_expr : "");
        c_null(g, 21);
    }
    return true;
}

static const vcol_t show_columns_cols[] = {
    {"Field", false}, {"Type", false},  {"Collation", false}, {"Null", false},    {"Key", false},
    {"Default", false}, {"Extra", false}, {"Privileges", false}, {"Comment", false},
};

static bool next_show_columns(gen_t *g)
{
    const tr_cat_table_t *t;
    const tr_cat_column_t *c;
    if (!seek_column(g, &t, &c)) {
        return false;
    }
    tr_flavor_t f = g->f;
    c_str(g, 0, c->name);
    size_t st = c_begin(g);
    tr_cat_column_type(c, f, g->scratch);
    c_end(g, 1, st);
    c_lit(g, 2, tr_cat_column_collation(c, f));
    c_lit(g, 3, tr_cat_column_nullable(c) ? "YES" : "NO");
    c_lit(g, 4, c->key);
    st = c_begin(g);
    if (tr_cat_column_default_show(c, f, g->scratch)) {
        c_end(g, 5, st);
    } else {
        c_null(g, 5);
    }
    st = c_begin(g);
    tr_cat_column_extra(c, f, g->scratch);
    c_end(g, 6, st);
    c_lit(g, 7, PRIVILEGES);
    c_text(g, 8, c->comment);
    return true;
}

/* ---------------------------------------------------------------- indexes */

static const vcol_t statistics_my[] = {
    {"TABLE_CATALOG", false}, {"TABLE_SCHEMA", false}, {"TABLE_NAME", false},
    {"NON_UNIQUE", true},     {"INDEX_SCHEMA", false}, {"INDEX_NAME", false},
    {"SEQ_IN_INDEX", true},   {"COLUMN_NAME", false},  {"COLLATION", false},
    {"CARDINALITY", true},    {"SUB_PART", true},      {"PACKED", false},
    {"NULLABLE", false},      {"INDEX_TYPE", false},   {"COMMENT", false},
    {"INDEX_COMMENT", false}, {"IS_VISIBLE", false},   {"EXPRESSION", false},
};
static const vcol_t statistics_maria[] = {
    {"TABLE_CATALOG", false}, {"TABLE_SCHEMA", false}, {"TABLE_NAME", false},
    {"NON_UNIQUE", true},     {"INDEX_SCHEMA", false}, {"INDEX_NAME", false},
    {"SEQ_IN_INDEX", true},   {"COLUMN_NAME", false},  {"COLLATION", false},
    {"CARDINALITY", true},    {"SUB_PART", true},      {"PACKED", false},
    {"NULLABLE", false},      {"INDEX_TYPE", false},   {"COMMENT", false},
    {"INDEX_COMMENT", false}, {"IGNORED", false},
};

/* The next (table, index, part): g->a, g->b, g->c; unique_only skips other indexes. */
static bool seek_index_part(gen_t *g, bool unique_only, const tr_cat_table_t **tp,
                            const tr_cat_index_t **xp, size_t *part)
{
    for (;;) {
        const tr_cat_table_t *t = seek_table(g);
        if (t == NULL) {
            return false;
        }
        for (; g->b < t->n_idx; g->b++, g->c = 0) {
            const tr_cat_index_t *x = &t->idx[g->b];
            if ((unique_only && !x->is_unique) || g->c >= x->n_cols) {
                continue;
            }
            *tp = t;
            *xp = x;
            *part = g->c++;
            return true;
        }
        g->a++;
        g->b = 0;
        g->c = 0;
    }
}

/* The shared facts of STATISTICS and SHOW INDEX, from Non_unique on. */
static void index_cells(gen_t *g, const tr_cat_table_t *t, const tr_cat_index_t *x, size_t part,
                        size_t non_unique, bool stats)
{
    const tr_cat_index_col_t *ic = &x->cols[part];
    const tr_cat_column_t *c = &t->cols[ic->col];
    size_t i = non_unique;
    c_lit(g, i++, x->is_unique ? "0" : "1");
    if (stats) {
        c_str(g, i++, t->db);
    }
    c_str(g, i++, x->name);
    c_u64(g, i++, part + 1);
    c_str(g, i++, c->name);
    c_lit(g, i++, "A");
    c_lit(g, i++, "0");
    if (ic->length >= 0) {
        c_u64(g, i++, (uint64_t)ic->length);
    } else {
        c_null(g, i++);
    }
    c_null(g, i++);
    c_lit(g, i++, tr_cat_column_nullable(c) ? "YES" : "");
    c_lit(g, i++, x->type);
    c_lit(g, i++, "");
    c_text(g, i++, x->comment);
    if (g->f == TR_FLAVOR_MARIADB) {
        c_lit(g, i++, x->is_invisible ? "YES" : "NO");
    } else {
        c_lit(g, i++, x->is_invisible ? "NO" : "YES");
        c_null(g, i++);
    }
}

static bool next_statistics(gen_t *g)
{
    const tr_cat_table_t *t;
    const tr_cat_index_t *x;
    size_t part;
    if (!seek_index_part(g, false, &t, &x, &part)) {
        return false;
    }
    c_lit(g, 0, "def");
    c_str(g, 1, t->db);
    c_str(g, 2, t->name);
    index_cells(g, t, x, part, 3, true);
    return true;
}

static const vcol_t show_index_my[] = {
    {"Table", false},        {"Non_unique", true},  {"Key_name", false}, {"Seq_in_index", true},
    {"Column_name", false},  {"Collation", false},  {"Cardinality", true}, {"Sub_part", true},
    {"Packed", false},       {"Null", false},       {"Index_type", false}, {"Comment", false},
    {"Index_comment", false}, {"Visible", false},   {"Expression", false},
};
static const vcol_t show_index_maria[] = {
    {"Table", false},        {"Non_unique", true},  {"Key_name", false}, {"Seq_in_index", true},
    {"Column_name", false},  {"Collation", false},  {"Cardinality", true}, {"Sub_part", true},
    {"Packed", false},       {"Null", false},       {"Index_type", false}, {"Comment", false},
    {"Index_comment", false}, {"Ignored", false},
};

static bool next_show_index(gen_t *g)
{
    const tr_cat_table_t *t;
    const tr_cat_index_t *x;
    size_t part;
    if (!seek_index_part(g, false, &t, &x, &part)) {
        return false;
    }
    c_str(g, 0, t->name);
    index_cells(g, t, x, part, 1, false);
    return true;
}

static const vcol_t key_column_usage_cols[] = {
    {"CONSTRAINT_CATALOG", false},  {"CONSTRAINT_SCHEMA", false},
    {"CONSTRAINT_NAME", false},     {"TABLE_CATALOG", false},
    {"TABLE_SCHEMA", false},        {"TABLE_NAME", false},
    {"COLUMN_NAME", false},         {"ORDINAL_POSITION", true},
    {"POSITION_IN_UNIQUE_CONSTRAINT", true}, {"REFERENCED_TABLE_SCHEMA", false},
    {"REFERENCED_TABLE_NAME", false}, {"REFERENCED_COLUMN_NAME", false},
};

static bool next_key_column_usage(gen_t *g)
{
    const tr_cat_table_t *t;
    const tr_cat_index_t *x;
    size_t part;
    if (!seek_index_part(g, true, &t, &x, &part)) {
        return false;
    }
    c_lit(g, 0, "def");
    c_str(g, 1, t->db);
    c_str(g, 2, x->name);
    c_lit(g, 3, "def");
    c_str(g, 4, t->db);
    c_str(g, 5, t->name);
    c_str(g, 6, t->cols[x->cols[part].col].name);
    c_u64(g, 7, part + 1);
    for (size_t i = 8; i < 12; i++) {
        c_null(g, i);
    }
    return true;
}

/* ---------------------------------------------------------------- constraints, views */

static const vcol_t table_constraints_my[] = {
    {"CONSTRAINT_CATALOG", false}, {"CONSTRAINT_SCHEMA", false}, {"CONSTRAINT_NAME", false},
    {"TABLE_SCHEMA", false},       {"TABLE_NAME", false},        {"CONSTRAINT_TYPE", false},
    {"ENFORCED", false},
};
static const vcol_t table_constraints_maria[] = {
    {"CONSTRAINT_CATALOG", false}, {"CONSTRAINT_SCHEMA", false}, {"CONSTRAINT_NAME", false},
    {"TABLE_SCHEMA", false},       {"TABLE_NAME", false},        {"CONSTRAINT_TYPE", false},
};

static bool is_json_check(const gen_t *g, const tr_cat_column_t *c)
{
    return g->f == TR_FLAVOR_MARIADB && c->tp == TR_TIDB_TP_JSON;
}

/* Unique keys (g->b < n_idx), then MariaDB's json_valid checks (columns). */
static bool next_table_constraints(gen_t *g)
{
    for (;;) {
        const tr_cat_table_t *t = seek_table(g);
        if (t == NULL) {
            return false;
        }
        while (g->b < t->n_idx + t->n_cols) {
            size_t k = g->b++;
            const char *name;
            const char *type;
            if (k < t->n_idx) {
                if (!t->idx[k].is_unique) {
                    continue;
                }
                name = t->idx[k].name;
                type = t->idx[k].is_primary ? "PRIMARY KEY" : "UNIQUE";
            } else {
                const tr_cat_column_t *c = &t->cols[k - t->n_idx];
                if (!is_json_check(g, c)) {
                    continue;
                }
                name = c->name;
                type = "CHECK";
            }
            c_lit(g, 0, "def");
            c_str(g, 1, t->db);
            c_str(g, 2, name);
            c_str(g, 3, t->db);
            c_str(g, 4, t->name);
            c_lit(g, 5, type);
            c_lit(g, 6, "YES");
            return true;
        }
        g->a++;
        g->b = 0;
    }
}

static const vcol_t check_constraints_my[] = {
    {"CONSTRAINT_CATALOG", false}, {"CONSTRAINT_SCHEMA", false}, {"CONSTRAINT_NAME", false},
    {"CHECK_CLAUSE", false},
};
static const vcol_t check_constraints_maria[] = {
    {"CONSTRAINT_CATALOG", false}, {"CONSTRAINT_SCHEMA", false}, {"TABLE_NAME", false},
    {"CONSTRAINT_NAME", false},    {"LEVEL", false},             {"CHECK_CLAUSE", false},
};

static bool next_check_constraints(gen_t *g)
{
    const tr_cat_table_t *t;
    const tr_cat_column_t *c;
    while (seek_column(g, &t, &c)) {
        if (!is_json_check(g, c)) {
            continue;
        }
        c_lit(g, 0, "def");
        c_str(g, 1, t->db);
        c_str(g, 2, t->name);
        c_str(g, 3, c->name);
        c_lit(g, 4, "Column");
        size_t st = c_begin(g);
        tr_buf_printf(g->scratch, "json_valid(`%s`)", c->name);
        c_end(g, 5, st);
        return true;
    }
    return false;
}

static const vcol_t views_my[] = {
    {"TABLE_CATALOG", false}, {"TABLE_SCHEMA", false},         {"TABLE_NAME", false},
    {"VIEW_DEFINITION", false}, {"CHECK_OPTION", false},       {"IS_UPDATABLE", false},
    {"DEFINER", false},       {"SECURITY_TYPE", false},        {"CHARACTER_SET_CLIENT", false},
    {"COLLATION_CONNECTION", false},
};
static const vcol_t views_maria[] = {
    {"TABLE_CATALOG", false}, {"TABLE_SCHEMA", false},         {"TABLE_NAME", false},
    {"VIEW_DEFINITION", false}, {"CHECK_OPTION", false},       {"IS_UPDATABLE", false},
    {"DEFINER", false},       {"SECURITY_TYPE", false},        {"CHARACTER_SET_CLIENT", false},
    {"COLLATION_CONNECTION", false}, {"ALGORITHM", false},
};

static bool next_views(gen_t *g)
{
    for (;;) {
        const tr_cat_table_t *t = seek_table(g);
        if (t == NULL) {
            return false;
        }
        g->a++;
        if (!t->is_view) {
            continue;
        }
        c_lit(g, 0, "def");
        c_str(g, 1, t->db);
        c_str(g, 2, t->name);
        c_str(g, 3, t->view_select);
        c_lit(g, 4, "NONE");
        c_lit(g, 5, "NO");
        c_lit(g, 6, "root@%");
        c_lit(g, 7, "DEFINER");
        c_lit(g, 8, "utf8mb4");
        c_lit(g, 9, "utf8mb4_general_ci");
        c_lit(g, 10, "UNDEFINED");
        return true;
    }
}

/* ---------------------------------------------------------------- collations, variables */

static const vcol_t ccsa_cols[] = {{"COLLATION_NAME", false}, {"CHARACTER_SET_NAME", false}};

/* TiDB's collations (pkg/parser/charset), shown under each flavour's names. */
static const char *const collations[][2] = {
    {"ascii_bin", "ascii"},          {"ascii_general_ci", "ascii"},
    {"binary", "binary"},            {"gbk_bin", "gbk"},
    {"gbk_chinese_ci", "gbk"},       {"gb18030_bin", "gb18030"},
    {"gb18030_chinese_ci", "gb18030"}, {"latin1_bin", "latin1"},
    {"latin1_swedish_ci", "latin1"}, {"utf8_bin", "utf8"},
    {"utf8_general_ci", "utf8"},     {"utf8_unicode_ci", "utf8"},
    {"utf8mb4_0900_ai_ci", "utf8mb4"}, {"utf8mb4_0900_bin", "utf8mb4"},
    {"utf8mb4_bin", "utf8mb4"},      {"utf8mb4_general_ci", "utf8mb4"},
    {"utf8mb4_unicode_ci", "utf8mb4"},
};

static bool next_ccsa(gen_t *g)
{
    if (g->a >= TR_ARRAY_LEN(collations)) {
        return false;
    }
    const char *co = collations[g->a][0];
    const char *cs = collations[g->a][1];
    g->a++;
    c_lit(g, 0, strcmp(co, "binary") == 0 ? "binary" : tr_cat_collation_name(co, g->f));
    c_lit(g, 1, strcmp(cs, "binary") == 0 ? "binary" : tr_cat_charset_name(cs, g->f));
    return true;
}

static const vcol_t variables_cols[] = {{"VARIABLE_NAME", false}, {"VARIABLE_VALUE", false}};

static bool next_variables(gen_t *g)
{
    const char *name;
    const char *value;
    if (g->ctx->vars == NULL || !g->ctx->vars(g->ctx->vars_arg, g->a, &name, &value)) {
        return false;
    }
    g->a++;
    size_t st = c_begin(g);
    for (const char *p = name; *p; p++) {
        char ch = *p;
        tr_buf_put_u8(g->scratch, (uint8_t)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch));
    }
    c_end(g, 0, st);
    c_str(g, 1, value);
    return true;
}

static bool next_empty(gen_t *g)
{
    (void)g;
    return false;
}

/* ---------------------------------------------------------------- the virtual tables */

#define VT(name, my, maria, next, dbc, tc)                                                         \
    {name, {my, maria}, {TR_ARRAY_LEN(my), TR_ARRAY_LEN(maria)}, next, dbc, tc, false}

static const vtab_t vtabs[] = {
    VT("SCHEMATA", schemata_my, schemata_maria, next_schemata, 1, -1),
    /* MySQL 8 has no MAX_INDEX_LENGTH and TEMPORARY, MariaDB's last two columns */
    {"TABLES", {tables_cols, tables_cols}, {21, TR_ARRAY_LEN(tables_cols)}, next_tables, 1, 2,
     false},
    VT("COLUMNS", columns_my, columns_maria, next_columns, 1, 2),
    VT("STATISTICS", statistics_my, statistics_maria, next_statistics, 1, 2),
    VT("KEY_COLUMN_USAGE", key_column_usage_cols, key_column_usage_cols, next_key_column_usage, 4,
       5),
    VT("TABLE_CONSTRAINTS", table_constraints_my, table_constraints_maria,
       next_table_constraints, 3, 4),
    VT("CHECK_CONSTRAINTS", check_constraints_my, check_constraints_maria,
       next_check_constraints, 1, -1),
    VT("VIEWS", views_my, views_maria, next_views, 1, 2),
    VT("COLLATION_CHARACTER_SET_APPLICABILITY", ccsa_cols, ccsa_cols, next_ccsa, -1, -1),
    VT("GLOBAL_VARIABLES", variables_cols, variables_cols, next_variables, -1, -1),
    VT("SESSION_VARIABLES", variables_cols, variables_cols, next_variables, -1, -1),
};

static const char *const empty_tables[] = {"TRIGGERS", "ROUTINES", "EVENTS", "PARAMETERS",
                                           "REFERENTIAL_CONSTRAINTS"};
static const vtab_t empty_vtab = {"", {NULL, NULL}, {0, 0}, next_empty, -1, -1, true};

static const vtab_t vt_show_databases = VT("", show_databases, show_databases,
                                           next_show_databases, 0, -1);
static const vtab_t vt_table_status = {"",
                                       {table_status_cols, table_status_cols},
                                       {18, TR_ARRAY_LEN(table_status_cols)},
                                       next_table_status,
                                       -1,
                                       0,
                                       false};
static const vtab_t vt_show_columns = VT("", show_columns_cols, show_columns_cols,
                                         next_show_columns, -1, -1);
static const vtab_t vt_show_index = VT("", show_index_my, show_index_maria, next_show_index, -1,
                                       -1);

static const vtab_t *find_vtab(const char *name)
{
    for (size_t i = 0; i < TR_ARRAY_LEN(vtabs); i++) {
        if (strcasecmp(vtabs[i].name, name) == 0) {
            return &vtabs[i];
        }
    }
    for (size_t i = 0; i < TR_ARRAY_LEN(empty_tables); i++) {
        if (strcasecmp(empty_tables[i], name) == 0) {
            return &empty_vtab;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- answers */

static void put_err(const tr_catq_ctx_t *ctx, uint16_t code, const char *fmt, ...)
    TR_PRINTF(3, 4);
static void put_err(const tr_catq_ctx_t *ctx, uint16_t code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
    size_t h = tr_wire_begin(ctx->out);
    tr_res_put_err(ctx->out, code, tr_res_sqlstate(code), msg, len);
    tr_wire_end(ctx->out, h, ctx->seq);
}

/* A name from the statement (backquoted names keep `` doubled in the raw text). */
static void name_of(tr_slice_t raw, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < raw.len && n + 1 < cap; i++) {
        out[n++] = (char)raw.p[i];
        if (raw.p[i] == '`' && i + 1 < raw.len && raw.p[i + 1] == '`') {
            i++;
        }
    }
    out[n] = '\0';
}

static bool is_info_schema(const char *db)
{
    return strcasecmp(db, "information_schema") == 0;
}

bool tr_catq_has_db(const tr_catalog_t *cat, const char *db)
{
    return is_info_schema(db) || (cat != NULL && tr_catalog_find_db(cat, db) != NULL);
}

/* The database a statement names, else the session's; false (ERR sent) when none. */
static bool target_db(const tr_catq_ctx_t *ctx, tr_slice_t named, char *out, size_t cap)
{
    if (named.len > 0) {
        name_of(named, out, cap);
    } else {
        snprintf(out, cap, "%s", ctx->db);
    }
    if (out[0] == '\0') {
        put_err(ctx, TR_ER_NO_DB, "No database selected");
        return false;
    }
    return true;
}

/* The table a statement names; NULL (ERR sent) when unknown. */
static const tr_cat_table_t *target_table(const tr_catq_ctx_t *ctx, const tr_sql_cmd_t *q)
{
    char db[256];
    char name[256];
    if (!target_db(ctx, q->obj_db, db, sizeof(db))) {
        return NULL;
    }
    name_of(q->obj_name, name, sizeof(name));
    const tr_cat_table_t *t = ctx->cat != NULL ? tr_catalog_find_table(ctx->cat, db, name) : NULL;
    if (t == NULL) {
        put_err(ctx, TR_ER_NO_SUCH_TABLE, "Table '%s.%s' doesn't exist", db, name);
    }
    return t;
}

static void show_create_table(const tr_catq_ctx_t *ctx, const tr_sql_cmd_t *q)
{
    const tr_cat_table_t *t = target_table(ctx, q);
    if (t == NULL) {
        return;
    }
    tr_buf_t text;
    tr_buf_init(&text, 0);
    tr_cat_show_create_table(t, ctx->flavor, &text);
    tr_res_col_t view_cols[4] = {tr_res_col_str("View"), tr_res_col_str("Create View"),
                                 tr_res_col_str("character_set_client"),
                                 tr_res_col_str("collation_connection")};
    tr_res_col_t table_cols[2] = {tr_res_col_str("Table"), tr_res_col_str("Create Table")};
    tr_res_writer_t w;
    tr_res_begin(&w, ctx->out, ctx->seq, ctx->deprecate_eof, t->is_view ? view_cols : table_cols,
                 t->is_view ? 4 : 2);
    tr_res_row_begin(&w);
    tr_res_cell_str(&w, t->name);
    tr_res_cell(&w, (const char *)text.data, text.len);
    if (t->is_view) {
        tr_res_cell_str(&w, "utf8mb4");
        tr_res_cell_str(&w, "utf8mb4_general_ci");
    }
    tr_res_row_end(&w);
    tr_res_end(&w, ctx->status);
    tr_buf_cleanup(&text);
}

static void show_create_db(const tr_catq_ctx_t *ctx, const tr_sql_cmd_t *q)
{
    char db[256];
    name_of(q->obj_name, db, sizeof(db));
    tr_cat_db_t is = {"information_schema", "utf8", "utf8_general_ci"};
    const tr_cat_db_t *d = is_info_schema(db) ? &is
                           : ctx->cat != NULL ? tr_catalog_find_db(ctx->cat, db)
                                              : NULL;
    if (d == NULL) {
        put_err(ctx, TR_ER_BAD_DB, "Unknown database '%s'", db);
        return;
    }
    tr_buf_t text;
    tr_buf_init(&text, 0);
    tr_cat_show_create_db(d, q->if_not_exists, ctx->flavor, &text);
    tr_res_col_t cols[2] = {tr_res_col_str("Database"), tr_res_col_str("Create Database")};
    tr_res_writer_t w;
    tr_res_begin(&w, ctx->out, ctx->seq, ctx->deprecate_eof, cols, 2);
    tr_res_row_begin(&w);
    tr_res_cell_str(&w, d->name);
    tr_res_cell(&w, (const char *)text.data, text.len);
    tr_res_row_end(&w);
    tr_res_end(&w, ctx->status);
    tr_buf_cleanup(&text);
}

/* ---------------------------------------------------------------- query engine */

/* One side of the FROM clause. */
typedef struct {
    const vtab_t *vt;
    const vcol_t *cols;
    size_t ncols;
    char table[128];   /* the table's name (for qualifiers) */
    char alias[128];   /* its alias, "" if none */
    size_t first;      /* index of its first column in a combined row */
} side_t;

/* An output column: a combined-row column, a constant, or COUNT(*). */
typedef struct {
    int col;           /* >= 0: combined-row column */
    bool is_count;
    bool has_text;     /* a constant: e->lits at text_off (else SQL NULL) when col < 0 */
    size_t text_off;
    bool num;
    char label[256];
} outcol_t;

typedef struct {
    const tr_catq_ctx_t *ctx;
    const tr_sql_cmd_t *q;
    side_t side[2];
    size_t nsides;
    size_t ncols;                 /* combined-row columns */
    /* the row being evaluated */
    const char *cp[MAX_COLS];
    size_t cl[MAX_COLS];
    bool cn[MAX_COLS];
    /* literals of the WHERE, unquoted once: per cond node a/b and per list entry */
    char *lit_a[TR_SQL_MAX_CONDS];
    char *lit_b[TR_SQL_MAX_CONDS];
    char *lit_list[TR_SQL_MAX_LIST];
    int col_a[TR_SQL_MAX_CONDS]; /* resolved column of operand a (-1: not a column) */
    int col_b[TR_SQL_MAX_CONDS];
    int col_list[TR_SQL_MAX_LIST];
    tr_buf_t lits;
    /* kept rows: each row is ncols cells (u32 length, 0xFFFFFFFF = NULL, bytes) */
    tr_buf_t store;
    size_t *rows;
    size_t nrows;
    size_t caprows;
    /* the like filter of a SHOW (on column 0) */
    char *like;
    /* ORDER BY keys: combined column or output position */
    int order_col[TR_SQL_MAX_ORDER];
    bool order_desc[TR_SQL_MAX_ORDER];
    bool order_num[TR_SQL_MAX_ORDER];
    size_t norder;
    outcol_t out[MAX_COLS * 2];
    size_t nout;
} engine_t;

static bool label_eq(tr_slice_t s, const char *name)
{
    char buf[256];
    name_of(s, buf, sizeof(buf));
    return strcasecmp(buf, name) == 0;
}

/* Resolves [qual.]name to a combined-row column; -1 when unknown. An always empty table
 * takes any name (as column 0: it has no rows). */
static int resolve(const engine_t *e, tr_slice_t qual, tr_slice_t name)
{
    for (size_t s = 0; s < e->nsides; s++) {
        const side_t *sd = &e->side[s];
        if (qual.len > 0 && !label_eq(qual, sd->alias[0] ? sd->alias : sd->table)) {
            continue;
        }
        if (sd->vt->any_column) {
            return (int)sd->first;
        }
        for (size_t i = 0; i < sd->ncols; i++) {
            if (label_eq(name, sd->cols[i].name)) {
                return (int)(sd->first + i);
            }
        }
    }
    return -1;
}

static bool col_is_num(const engine_t *e, int col)
{
    for (size_t s = 0; s < e->nsides; s++) {
        const side_t *sd = &e->side[s];
        if (!sd->vt->any_column && (size_t)col >= sd->first && (size_t)col < sd->first + sd->ncols) {
            return sd->cols[(size_t)col - sd->first].num;
        }
    }
    return false;
}

/* Unquotes literal operand o into e->lits (returns NULL for NULL/columns); the session's
 * database for DATABASE(). Column operands resolve into *col. */
static char *prepare_operand(engine_t *e, const tr_sql_opd_t *o, int *col, bool *bad)
{
    *col = -1;
    char tmp[1024];
    switch (o->kind) {
    case TR_SQL_OPD_COLUMN:
        *col = resolve(e, o->qual, o->name);
        if (*col < 0) {
            char n[256];
            name_of(o->name, n, sizeof(n));
            put_err(e->ctx, TR_ER_BAD_FIELD, "Unknown column '%s' in 'where clause'", n);
            *bad = true;
        }
        return NULL;
    case TR_SQL_OPD_STR:
        (void)tr_sql_unquote(o->name, tmp, sizeof(tmp));
        return tr_strdup(tmp);
    case TR_SQL_OPD_NUM:
        snprintf(tmp, sizeof(tmp), "%.*s", (int)o->name.len, (const char *)o->name.p);
        return tr_strdup(tmp);
    case TR_SQL_OPD_DATABASE:
        return e->ctx->db[0] != '\0' ? tr_strdup(e->ctx->db) : NULL;
    case TR_SQL_OPD_NULL:
        return NULL;
    }
    return NULL;
}

static bool prepare_where(engine_t *e)
{
    bool bad = false;
    const tr_sql_cmd_t *q = e->q;
    for (size_t i = 0; i < q->n_cond && !bad; i++) {
        const tr_sql_cond_t *c = &q->cond[i];
        e->col_a[i] = e->col_b[i] = -1;
        if (c->kind >= TR_SQL_COND_CMP) {
            e->lit_a[i] = prepare_operand(e, &c->a, &e->col_a[i], &bad);
        }
        if (!bad && (c->kind == TR_SQL_COND_CMP || c->kind == TR_SQL_COND_LIKE)) {
            e->lit_b[i] = prepare_operand(e, &c->b, &e->col_b[i], &bad);
        }
    }
    for (size_t i = 0; i < q->n_list && !bad; i++) {
        e->lit_list[i] = prepare_operand(e, &q->list[i], &e->col_list[i], &bad);
    }
    return !bad;
}

/* A value of the row being evaluated: a column cell or a literal. */
typedef struct {
    const char *p;
    size_t len;
    bool null;
    bool num; /* a number column, or a number literal */
} val_t;

static val_t value_of(const engine_t *e, int col, const char *lit, const tr_sql_opd_t *o)
{
    val_t v = {NULL, 0, true, false};
    if (col >= 0) {
        v.p = e->cp[col];
        v.len = e->cl[col];
        v.null = e->cn[col];
        v.num = col_is_num(e, col);
    } else if (lit != NULL) {
        v.p = lit;
        v.len = strlen(lit);
        v.null = false;
        v.num = o->kind == TR_SQL_OPD_NUM;
    }
    return v;
}

static int ci_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    for (size_t i = 0; i < n; i++) {
        int x = (unsigned char)a[i];
        int y = (unsigned char)b[i];
        x = x >= 'A' && x <= 'Z' ? x + 32 : x;
        y = y >= 'A' && y <= 'Z' ? y + 32 : y;
        if (x != y) {
            return x < y ? -1 : 1;
        }
    }
    /* trailing spaces do not count (PAD SPACE collations) */
    while (an > n && a[an - 1] == ' ') {
        an--;
    }
    while (bn > n && b[bn - 1] == ' ') {
        bn--;
    }
    return an < bn ? -1 : an > bn;
}

static bool parse_number(const char *p, size_t len, double *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, p, len);
    buf[len] = '\0';
    char *end = NULL;
    *out = strtod(buf, &end);
    return end != NULL && *end == '\0';
}

static int compare(val_t a, val_t b)
{
    double x;
    double y;
    if ((a.num || b.num) && parse_number(a.p, a.len, &x) && parse_number(b.p, b.len, &y)) {
        return x < y ? -1 : x > y;
    }
    return ci_cmp(a.p, a.len, b.p, b.len);
}

/* Three-valued: 1 true, 0 false, -1 unknown (NULL). */
static int eval(const engine_t *e, int node, int depth)
{
    const tr_sql_cond_t *c = &e->q->cond[node];
    if (depth > 64) {
        return -1;
    }
    switch (c->kind) {
    case TR_SQL_COND_AND: {
        int l = eval(e, c->left, depth + 1);
        if (l == 0) {
            return 0;
        }
        int r = eval(e, c->right, depth + 1);
        return r == 0 ? 0 : (l == 1 && r == 1) ? 1 : -1;
    }
    case TR_SQL_COND_OR: {
        int l = eval(e, c->left, depth + 1);
        if (l == 1) {
            return 1;
        }
        int r = eval(e, c->right, depth + 1);
        return r == 1 ? 1 : (l == 0 && r == 0) ? 0 : -1;
    }
    case TR_SQL_COND_NOT: {
        int v = eval(e, c->left, depth + 1);
        return v < 0 ? -1 : !v;
    }
    case TR_SQL_COND_IS_NULL: {
        val_t a = value_of(e, e->col_a[node], e->lit_a[node], &c->a);
        return a.null != c->negate;
    }
    case TR_SQL_COND_CMP: {
        val_t a = value_of(e, e->col_a[node], e->lit_a[node], &c->a);
        val_t b = value_of(e, e->col_b[node], e->lit_b[node], &c->b);
        if (a.null || b.null) {
            return -1;
        }
        int r = compare(a, b);
        switch (c->op) {
        case TR_SQL_CMP_EQ:
            return r == 0;
        case TR_SQL_CMP_NE:
            return r != 0;
        case TR_SQL_CMP_LT:
            return r < 0;
        case TR_SQL_CMP_LE:
            return r <= 0;
        case TR_SQL_CMP_GT:
            return r > 0;
        case TR_SQL_CMP_GE:
            return r >= 0;
        }
        return -1;
    }
    case TR_SQL_COND_LIKE: {
        val_t a = value_of(e, e->col_a[node], e->lit_a[node], &c->a);
        val_t b = value_of(e, e->col_b[node], e->lit_b[node], &c->b);
        if (a.null || b.null) {
            return -1;
        }
        return tr_sql_like(b.p, b.len, a.p, a.len) != c->negate;
    }
    case TR_SQL_COND_IN: {
        val_t a = value_of(e, e->col_a[node], e->lit_a[node], &c->a);
        if (a.null) {
            return -1;
        }
        bool saw_null = false;
        for (size_t i = c->list_first; i < (size_t)c->list_first + c->list_n; i++) {
            val_t b = value_of(e, e->col_list[i], e->lit_list[i], &e->q->list[i]);
            if (b.null) {
                saw_null = true;
            } else if (compare(a, b) == 0) {
                return !c->negate;
            }
        }
        return saw_null ? -1 : c->negate;
    }
    }
    return -1;
}

/* Column c of the side's prefilter ("c = 'literal'" at the top level of the WHERE). */
static const char *pinned(const engine_t *e, int node, int col)
{
    if (node < 0 || col < 0) {
        return NULL;
    }
    const tr_sql_cond_t *c = &e->q->cond[node];
    if (c->kind == TR_SQL_COND_AND) {
        const char *v = pinned(e, c->left, col);
        return v != NULL ? v : pinned(e, c->right, col);
    }
    if (c->kind == TR_SQL_COND_CMP && c->op == TR_SQL_CMP_EQ) {
        if (e->col_a[node] == col && e->lit_b[node] != NULL && c->b.kind == TR_SQL_OPD_STR) {
            return e->lit_b[node];
        }
        if (e->col_b[node] == col && e->lit_a[node] != NULL && c->a.kind == TR_SQL_OPD_STR) {
            return e->lit_a[node];
        }
    }
    return NULL;
}

static void engine_cleanup(engine_t *e)
{
    for (size_t i = 0; i < TR_SQL_MAX_CONDS; i++) {
        tr_free(e->lit_a[i]);
        tr_free(e->lit_b[i]);
    }
    for (size_t i = 0; i < TR_SQL_MAX_LIST; i++) {
        tr_free(e->lit_list[i]);
    }
    tr_free(e->like);
    tr_free(e->rows);
    tr_buf_cleanup(&e->store);
    tr_buf_cleanup(&e->lits);
}

static void gen_init(gen_t *g, const engine_t *e, const side_t *sd, tr_buf_t *scratch)
{
    memset(g, 0, sizeof(*g));
    g->ctx = e->ctx;
    g->cat = e->ctx->cat;
    g->f = e->ctx->flavor;
    g->scratch = scratch;
    if (sd == &e->side[0]) {
        g->want_db = pinned(e, e->q->where, sd->vt->db_col >= 0 ? sd->vt->db_col : -1);
        g->want_table = pinned(e, e->q->where, sd->vt->table_col >= 0 ? sd->vt->table_col : -1);
    }
}

/* Points the row view at cells [first, first + n) of a generator. */
static void view_cells(engine_t *e, size_t first, const gen_t *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const cell_t *c = &g->cells[i];
        e->cp[first + i] = c->lit != NULL ? c->lit : (const char *)g->scratch->data + c->off;
        if (c->null) {
            e->cp[first + i] = "";
        }
        e->cl[first + i] = c->len;
        e->cn[first + i] = c->null;
    }
}

static void view_stored(engine_t *e, size_t first, const tr_buf_t *store, size_t off, size_t n)
{
    const uint8_t *p = store->data + off;
    for (size_t i = 0; i < n; i++) {
        uint32_t len = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                       (uint32_t)p[3] << 24;
        p += 4;
        e->cn[first + i] = len == UINT32_MAX;
        e->cl[first + i] = len == UINT32_MAX ? 0 : len;
        e->cp[first + i] = (const char *)p;
        p += len == UINT32_MAX ? 0 : len;
    }
}

static void keep_row(engine_t *e)
{
    if (e->nrows == e->caprows) {
        e->caprows = e->caprows ? 2 * e->caprows : 64;
        e->rows = tr_realloc(e->rows, e->caprows * sizeof(*e->rows));
    }
    e->rows[e->nrows++] = e->store.len;
    for (size_t i = 0; i < e->ncols; i++) {
        tr_buf_put_u32le(&e->store, e->cn[i] ? UINT32_MAX : (uint32_t)e->cl[i]);
        if (!e->cn[i]) {
            tr_buf_append(&e->store, e->cp[i], e->cl[i]);
        }
    }
}

static bool row_matches(const engine_t *e)
{
    if (e->like != NULL &&
        (e->cn[0] || !tr_sql_like(e->like, strlen(e->like), e->cp[0], e->cl[0]))) {
        return false;
    }
    return e->q->where < 0 || eval(e, e->q->where, 0) == 1;
}

/* Runs the FROM clause: every combined row the WHERE keeps goes to e->store. ja, jb: the
 * combined-row columns of the join condition (resolved; unused without a join). */
static void run_rows(engine_t *e, const gen_t *proto, int ja, int jb)
{
    tr_buf_t scratch;
    tr_buf_init(&scratch, 0);
    tr_buf_t right;
    tr_buf_init(&right, 0);
    size_t *rrows = NULL;
    size_t nr = 0;
    if (e->nsides == 2) {
        /* the joined table, whole (COLLATION_CHARACTER_SET_APPLICABILITY: a few rows) */
        gen_t g;
        gen_init(&g, e, &e->side[1], &scratch);
        while (e->side[1].vt->next(&g)) {
            rrows = tr_realloc(rrows, (nr + 1) * sizeof(*rrows));
            rrows[nr++] = right.len;
            for (size_t i = 0; i < e->side[1].ncols; i++) {
                const cell_t *c = &g.cells[i];
                const char *p = c->lit != NULL ? c->lit : (const char *)scratch.data + c->off;
                tr_buf_put_u32le(&right, c->null ? UINT32_MAX : (uint32_t)c->len);
                if (!c->null) {
                    tr_buf_append(&right, p, c->len);
                }
            }
            tr_buf_reset(&scratch);
        }
    }
    gen_t g = *proto;
    g.scratch = &scratch;
    while (e->side[0].vt->next(&g)) {
        view_cells(e, 0, &g, e->side[0].ncols);
        if (e->nsides == 1) {
            if (row_matches(e)) {
                keep_row(e);
            }
        } else {
            bool any = false;
            for (size_t k = 0; k < nr; k++) {
                view_stored(e, e->side[1].first, &right, rrows[k], e->side[1].ncols);
                val_t a = {e->cp[ja], e->cl[ja], e->cn[ja], false};
                val_t b = {e->cp[jb], e->cl[jb], e->cn[jb], false};
                if (!a.null && !b.null && compare(a, b) == 0) {
                    any = true;
                    if (row_matches(e)) {
                        keep_row(e);
                    }
                }
            }
            if (!any) {
                for (size_t i = 0; i < e->side[1].ncols; i++) {
                    e->cp[e->side[1].first + i] = "";
                    e->cl[e->side[1].first + i] = 0;
                    e->cn[e->side[1].first + i] = true;
                }
                if (row_matches(e)) {
                    keep_row(e);
                }
            }
        }
        tr_buf_reset(&scratch);
    }
    tr_free(rrows);
    tr_buf_cleanup(&right);
    tr_buf_cleanup(&scratch);
}

/* ORDER BY: a stable merge sort of the kept rows. */
static int row_cmp(engine_t *e, size_t ra, size_t rb)
{
    const char *ap[MAX_COLS];
    size_t al[MAX_COLS];
    bool an[MAX_COLS];
    view_stored(e, 0, &e->store, ra, e->ncols);
    memcpy(ap, e->cp, sizeof(ap));
    memcpy(al, e->cl, sizeof(al));
    memcpy(an, e->cn, sizeof(an));
    view_stored(e, 0, &e->store, rb, e->ncols);
    for (size_t k = 0; k < e->norder; k++) {
        int c = e->order_col[k];
        int r;
        if (an[c] || e->cn[c]) {
            r = an[c] == e->cn[c] ? 0 : an[c] ? -1 : 1; /* NULL first */
        } else {
            val_t a = {ap[c], al[c], false, e->order_num[k]};
            val_t b = {e->cp[c], e->cl[c], false, e->order_num[k]};
            r = compare(a, b);
        }
        if (r != 0) {
            return e->order_desc[k] ? -r : r;
        }
    }
    return 0;
}

static void merge_sort(engine_t *e, size_t *a, size_t *tmp, size_t n)
{
    if (n < 2) {
        return;
    }
    size_t h = n / 2;
    merge_sort(e, a, tmp, h);
    merge_sort(e, a + h, tmp, n - h);
    size_t i = 0;
    size_t j = h;
    size_t k = 0;
    while (i < h && j < n) {
        tmp[k++] = row_cmp(e, a[j], a[i]) < 0 ? a[j++] : a[i++];
    }
    while (i < h) {
        tmp[k++] = a[i++];
    }
    while (j < n) {
        tmp[k++] = a[j++];
    }
    memcpy(a, tmp, n * sizeof(*a));
}

static void write_rows(engine_t *e)
{
    const tr_catq_ctx_t *ctx = e->ctx;
    tr_res_col_t cols[MAX_COLS * 2];
    for (size_t i = 0; i < e->nout; i++) {
        cols[i] = e->out[i].num ? tr_res_col_num(e->out[i].label) : tr_res_col_str(e->out[i].label);
    }
    bool count = e->nout > 0 && e->out[0].is_count;
    tr_res_writer_t w;
    tr_res_begin(&w, ctx->out, ctx->seq, ctx->deprecate_eof, cols, e->nout);
    uint64_t offset = e->q->limit_offset;
    uint64_t limit = e->q->has_limit ? e->q->limit : UINT64_MAX;
    size_t n = count ? 1 : e->nrows;
    for (size_t r = 0; r < n; r++) {
        if (!count && r < offset) {
            continue;
        }
        if (limit-- == 0) {
            break;
        }
        if (!count) {
            view_stored(e, 0, &e->store, e->rows[r], e->ncols);
        }
        tr_res_row_begin(&w);
        for (size_t i = 0; i < e->nout; i++) {
            const outcol_t *o = &e->out[i];
            if (o->is_count) {
                tr_res_cell_u64(&w, e->nrows);
            } else if (o->col >= 0 && !count) {
                tr_res_cell(&w, e->cn[o->col] ? NULL : e->cp[o->col], e->cl[o->col]);
            } else {
                tr_res_cell_str(&w, o->has_text ? (const char *)e->lits.data + o->text_off : NULL);
            }
        }
        tr_res_row_end(&w);
    }
    tr_res_end(&w, ctx->status);
}

static void add_out_col(engine_t *e, int col, const char *label)
{
    outcol_t *o = &e->out[e->nout++];
    memset(o, 0, sizeof(*o));
    o->col = col;
    o->num = col >= 0 && col_is_num(e, col);
    snprintf(o->label, sizeof(o->label), "%s", label);
}

/* The select list. False (ERR sent) for an unknown column. */
static bool project(engine_t *e)
{
    const tr_sql_cmd_t *q = e->q;
    for (size_t i = 0; i < q->n_sel; i++) {
        const tr_sql_sel_item_t *it = &q->sel[i];
        const tr_sql_expr_t *x = &it->expr;
        char label[256];
        if (it->alias.len > 0) {
            if (it->alias.p[-1] == '\'' || it->alias.p[-1] == '"') {
                (void)tr_sql_unquote(it->alias, label, sizeof(label));
            } else {
                name_of(it->alias, label, sizeof(label));
            }
        } else if (x->kind == TR_SQL_EXPR_IDENT) {
            name_of(x->name, label, sizeof(label));
        } else {
            snprintf(label, sizeof(label), "%.*s", (int)x->text.len, (const char *)x->text.p);
        }
        if (e->nout + MAX_COLS > TR_ARRAY_LEN(e->out)) { /* room for a whole side */
            put_err(e->ctx, TR_ER_PARSE, "too many columns selected");
            return false;
        }
        switch (x->kind) {
        case TR_SQL_EXPR_STAR:
            for (size_t s = 0; s < e->nsides; s++) {
                const side_t *sd = &e->side[s];
                if (x->qual.len > 0 && !label_eq(x->qual, sd->alias[0] ? sd->alias : sd->table)) {
                    continue;
                }
                if (sd->vt->any_column) {
                    put_err(e->ctx, TR_ER_PARSE,
                            "SELECT * from information_schema.%s: name the columns", sd->table);
                    return false;
                }
                for (size_t c = 0; c < sd->ncols; c++) {
                    add_out_col(e, (int)(sd->first + c), sd->cols[c].name);
                }
            }
            break;
        case TR_SQL_EXPR_IDENT: {
            int col = resolve(e, x->qual, x->name);
            if (col < 0) {
                put_err(e->ctx, TR_ER_BAD_FIELD, "Unknown column '%s' in 'field list'", label);
                return false;
            }
            add_out_col(e, col, label);
            break;
        }
        case TR_SQL_EXPR_COUNT:
            add_out_col(e, -1, label);
            e->out[e->nout - 1].is_count = true;
            e->out[e->nout - 1].num = true;
            break;
        case TR_SQL_EXPR_NULL:
            add_out_col(e, -1, label);
            break;
        case TR_SQL_EXPR_STR:
        case TR_SQL_EXPR_NUM: {
            char v[256];
            if (x->kind == TR_SQL_EXPR_STR) {
                (void)tr_sql_unquote(x->name, v, sizeof(v));
            } else {
                snprintf(v, sizeof(v), "%.*s", (int)x->name.len, (const char *)x->name.p);
            }
            add_out_col(e, -1, label);
            outcol_t *o = &e->out[e->nout - 1];
            o->has_text = true;
            o->text_off = e->lits.len;
            tr_buf_append(&e->lits, v, strlen(v) + 1);
            o->num = x->kind == TR_SQL_EXPR_NUM;
            break;
        }
        default:
            put_err(e->ctx, TR_ER_PARSE,
                    "You have an error in your SQL syntax; tirelay answers column names, "
                    "literals and COUNT(*) from information_schema");
            return false;
        }
    }
    return true;
}

static bool order_keys(engine_t *e)
{
    const tr_sql_cmd_t *q = e->q;
    for (size_t k = 0; k < q->n_order; k++) {
        const tr_sql_order_t *o = &q->order[k];
        int col = -1;
        if (o->key.kind == TR_SQL_OPD_NUM) {
            uint64_t pos = strtoull((const char *)o->key.name.p, NULL, 10);
            if (pos >= 1 && pos <= e->nout) {
                col = e->out[pos - 1].col;
            }
        } else {
            for (size_t i = 0; i < e->nout && col < 0 && o->key.qual.len == 0; i++) {
                if (label_eq(o->key.name, e->out[i].label)) {
                    col = e->out[i].col;
                }
            }
            if (col < 0) {
                col = resolve(e, o->key.qual, o->key.name);
            }
        }
        if (col < 0) {
            char n[256];
            name_of(o->key.name, n, sizeof(n));
            put_err(e->ctx, TR_ER_BAD_FIELD, "Unknown column '%s' in 'order clause'", n);
            return false;
        }
        e->order_col[e->norder] = col;
        e->order_desc[e->norder] = o->desc;
        e->order_num[e->norder] = col_is_num(e, col);
        e->norder++;
    }
    return true;
}

static void side_init(side_t *sd, const vtab_t *vt, tr_flavor_t f, tr_slice_t table,
                      tr_slice_t alias, size_t first)
{
    memset(sd, 0, sizeof(*sd));
    sd->vt = vt;
    sd->cols = vt->cols[f];
    sd->ncols = vt->any_column ? 1 : vt->ncols[f];
    name_of(table, sd->table, sizeof(sd->table));
    name_of(alias, sd->alias, sizeof(sd->alias));
    sd->first = first;
}

/* Runs e (sides set) with the given output columns and proto generator. */
static void run(engine_t *e, gen_t *proto)
{
    if (!prepare_where(e)) {
        return;
    }
    if (e->q->has_like) {
        char tmp[1024];
        (void)tr_sql_unquote(e->q->like, tmp, sizeof(tmp));
        e->like = tr_strdup(tmp);
    }
    gen_t g0;
    gen_init(&g0, e, &e->side[0], NULL);
    proto->ctx = e->ctx;
    proto->cat = e->ctx->cat;
    proto->f = e->ctx->flavor;
    proto->want_db = g0.want_db;
    proto->want_table = g0.want_table;
    if (!order_keys(e)) {
        return;
    }
    /* The join condition's columns, checked before any row is read: an unknown one is an
     * error, as in MySQL (and would index the row at -1). */
    int join_cols[2] = {-1, -1};
    for (size_t k = 0; k < 2 && e->nsides == 2; k++) {
        const tr_sql_opd_t *o = k == 0 ? &e->q->join_a : &e->q->join_b;
        join_cols[k] = resolve(e, o->qual, o->name);
        if (join_cols[k] < 0) {
            char n[256];
            name_of(o->name, n, sizeof(n));
            put_err(e->ctx, TR_ER_BAD_FIELD, "Unknown column '%s' in 'on clause'", n);
            return;
        }
    }
    run_rows(e, proto, join_cols[0], join_cols[1]);
    if (e->norder > 0 && e->nrows > 1) {
        size_t *tmp = tr_malloc(e->nrows * sizeof(*tmp));
        merge_sort(e, e->rows, tmp, e->nrows);
        tr_free(tmp);
    }
    write_rows(e);
}

static void engine_init(engine_t *e, const tr_catq_ctx_t *ctx, const tr_sql_cmd_t *q)
{
    memset(e, 0, sizeof(*e));
    e->ctx = ctx;
    e->q = q;
    tr_buf_init(&e->lits, 0);
    tr_buf_init(&e->store, 0);
}

static void select_catalog(const tr_catq_ctx_t *ctx, const tr_sql_cmd_t *q)
{
    char table[128];
    name_of(q->from_table, table, sizeof(table));
    const vtab_t *vt = find_vtab(table);
    if (vt == NULL) {
        put_err(ctx, TR_ER_UNKNOWN_TABLE, "Unknown table '%s' in information_schema", table);
        return;
    }
    const vtab_t *jt = NULL;
    if (q->has_join) {
        char jn[128];
        name_of(q->join_table, jn, sizeof(jn));
        jt = find_vtab(jn);
        if (jt == NULL || (q->join_db.len > 0 && !tr_sql_eq(q->join_db, "information_schema"))) {
            put_err(ctx, TR_ER_UNKNOWN_TABLE, "Unknown table '%s' in information_schema", jn);
            return;
        }
    }
    engine_t *e = tr_calloc(1, sizeof(*e));
    engine_init(e, ctx, q);
    side_init(&e->side[0], vt, ctx->flavor, q->from_table, q->from_alias, 0);
    e->nsides = 1;
    if (jt != NULL) {
        side_init(&e->side[1], jt, ctx->flavor, q->join_table, q->join_alias, e->side[0].ncols);
        e->nsides = 2;
    }
    e->ncols = e->side[0].ncols + (jt != NULL ? e->side[1].ncols : 0);
    if (e->ncols <= MAX_COLS && project(e)) {
        gen_t g;
        memset(&g, 0, sizeof(g));
        run(e, &g);
    }
    engine_cleanup(e);
    tr_free(e);
}

/* A SHOW statement over virtual table vt: output columns out_idx (of vt's) in order. */
static void show_over(const tr_catq_ctx_t *ctx, const tr_sql_cmd_t *q, const vtab_t *vt,
                      const size_t *out_idx, size_t n_out, gen_t *proto, const char *label0)
{
    engine_t *e = tr_calloc(1, sizeof(*e));
    engine_init(e, ctx, q);
    side_init(&e->side[0], vt, ctx->flavor, tr_slice(NULL, 0), tr_slice(NULL, 0), 0);
    e->nsides = 1;
    e->ncols = e->side[0].ncols;
    for (size_t i = 0; i < n_out; i++) {
        add_out_col(e, (int)out_idx[i], i == 0 && label0 != NULL ? label0
                                                                 : e->side[0].cols[out_idx[i]].name);
    }
    run(e, proto);
    engine_cleanup(e);
    tr_free(e);
}

static void show_databases_answer(const tr_catq_ctx_t *ctx, const tr_sql_cmd_t *q)
{
    static const size_t cols[] = {0};
    gen_t g;
    memset(&g, 0, sizeof(g));
    show_over(ctx, q, &vt_show_databases, cols, 1, &g, NULL);
}

static void show_tables(const tr_catq_ctx_t *ctx, const tr_sql_cmd_t *q)
{
    char db[256];
    if (!target_db(ctx, q->show_db, db, sizeof(db))) {
        return;
    }
    if (!tr_catq_has_db(ctx->cat, db)) {
        put_err(ctx, TR_ER_BAD_DB, "Unknown database '%s'", db);
        return;
    }
    char label[300];
    snprintf(label, sizeof(label), "Tables_in_%s", db);
    vtab_t vt = VT("", show_tables_cols, show_tables_cols, next_show_tables, -1, 0);
    gen_t g;
    memset(&g, 0, sizeof(g));
    g.show_db = is_info_schema(db) ? NULL : db;
    static const size_t cols[] = {0, 1};
    /* the first column is named after the database; WHERE may use that name */
    vcol_t named[2] = {{label, false}, {"Table_type", false}};
    vt.cols[0] = vt.cols[1] = named;
    show_over(ctx, q, &vt, cols, q->show_full ? 2 : 1, &g, NULL);
}

static void show_table_status(const tr_catq_ctx_t *ctx, const tr_sql_cmd_t *q)
{
    char db[256];
    if (!target_db(ctx, q->show_db, db, sizeof(db))) {
        return;
    }
    if (!tr_catq_has_db(ctx->cat, db)) {
        put_err(ctx, TR_ER_BAD_DB, "Unknown database '%s'", db);
        return;
    }
    gen_t g;
    memset(&g, 0, sizeof(g));
    g.show_db = db;
    size_t cols[TR_ARRAY_LEN(table_status_cols)];
    size_t n = vt_table_status.ncols[ctx->flavor];
    for (size_t i = 0; i < n; i++) {
        cols[i] = i;
    }
    if (is_info_schema(db)) {
        g.show_db = "\001"; /* no table of the catalogue */
    }
    show_over(ctx, q, &vt_table_status, cols, n, &g, NULL);
}

static void show_columns(const tr_catq_ctx_t *ctx, const tr_sql_cmd_t *q)
{
    const tr_cat_table_t *t = target_table(ctx, q);
    if (t == NULL) {
        return;
    }
    gen_t g;
    memset(&g, 0, sizeof(g));
    g.only = t;
    static const size_t full[] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    static const size_t brief[] = {0, 1, 3, 4, 5, 6};
    show_over(ctx, q, &vt_show_columns, q->show_full ? full : brief, q->show_full ? 9 : 6, &g,
              NULL);
}

static void show_index(const tr_catq_ctx_t *ctx, const tr_sql_cmd_t *q)
{
    const tr_cat_table_t *t = target_table(ctx, q);
    if (t == NULL) {
        return;
    }
    gen_t g;
    memset(&g, 0, sizeof(g));
    g.only = t;
    size_t cols[16];
    size_t n = vt_show_index.ncols[ctx->flavor];
    for (size_t i = 0; i < n; i++) {
        cols[i] = i;
    }
    show_over(ctx, q, &vt_show_index, cols, n, &g, NULL);
}

/* SELECT from a table of a database: tirelay has the schema, not the rows. */
static void select_table(const tr_catq_ctx_t *ctx, const tr_sql_cmd_t *q)
{
    char db[256];
    char name[256];
    if (!target_db(ctx, q->from_db, db, sizeof(db))) {
        return;
    }
    name_of(q->from_table, name, sizeof(name));
    if (ctx->cat == NULL || tr_catalog_find_table(ctx->cat, db, name) == NULL) {
        put_err(ctx, TR_ER_NO_SUCH_TABLE, "Table '%s.%s' doesn't exist", db, name);
        return;
    }
    put_err(ctx, TR_ER_NOT_SUPPORTED_YET,
            "tirelay holds no table data: it serves the binlog and the schema of `%s`.`%s`; read "
            "rows and snapshots from TiDB (e.g. Dumpling)",
            db, name);
}

/* SELECT without FROM db.: the catalogue when the current database is information_schema,
 * else a table's rows (which tirelay does not hold). */
static void select_in_current_db(const tr_catq_ctx_t *ctx, const tr_sql_cmd_t *q)
{
    if (q->from_db.len > 0 || is_info_schema(ctx->db)) {
        select_catalog(ctx, q);
    } else {
        select_table(ctx, q);
    }
}

typedef void (*catq_answer_fn)(const tr_catq_ctx_t *ctx, const tr_sql_cmd_t *q);

static const struct {
    tr_sql_kind_t kind;
    catq_answer_fn answer;
} catq_statements[] = {
    {TR_SQL_SHOW_DATABASES, show_databases_answer},
    {TR_SQL_SHOW_TABLES, show_tables},
    {TR_SQL_SHOW_TABLE_STATUS, show_table_status},
    {TR_SQL_SHOW_COLUMNS, show_columns},
    {TR_SQL_SHOW_INDEX, show_index},
    {TR_SQL_SHOW_CREATE_TABLE, show_create_table},
    {TR_SQL_SHOW_CREATE_DB, show_create_db},
    {TR_SQL_SELECT_CATALOG, select_in_current_db},
    {TR_SQL_SELECT_TABLE, select_table},
};

static catq_answer_fn catq_answer_of(tr_sql_kind_t kind)
{
    for (size_t i = 0; i < sizeof(catq_statements) / sizeof(catq_statements[0]); i++) {
        if (catq_statements[i].kind == kind) {
            return catq_statements[i].answer;
        }
    }
    return NULL;
}

bool tr_catq_handles(tr_sql_kind_t kind)
{
    return catq_answer_of(kind) != NULL;
}

int tr_catq_answer(const tr_catq_ctx_t *ctx, const tr_sql_cmd_t *q)
{
    size_t start = ctx->out->len;
    catq_answer_fn answer = catq_answer_of(q->kind);
    if (answer != NULL) {
        answer(ctx, q);
    } else {
        put_err(ctx, TR_ER_PARSE, "not a catalogue statement");
    }
    /* An ERR packet: 4-byte header then 0xFF. */
    if (ctx->out->len > start + 4 && ctx->out->data[start + 4] == 0xFF) {
        return ctx->out->data[start + 5] | ctx->out->data[start + 6] << 8;
    }
    return 0;
}
