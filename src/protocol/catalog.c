/*
 * Schema catalogue (see catalog.h): the model, its ordering rules and how each
 * flavour prints a definition. Pure: no I/O, no logging.
 */
#include "protocol/catalog.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "protocol/tidb_schema.h"

struct tr_catalog {
    atomic_int refs;
    tr_cat_db_t *dbs;        /* sorted by name once sealed */
    size_t n_dbs;
    size_t cap_dbs;
    tr_cat_table_t **tables; /* sorted by (db, name) once sealed; one reference each */
    size_t n_tables;
    size_t cap_tables;
    tr_cat_table_t **by_version; /* the same tables sorted by version (sealed) */
};

static char *dup0(const char *s)
{
    return tr_strdup(s != NULL ? s : "");
}

/* ---------------------------------------------------------------- tables */

tr_cat_table_t *tr_cat_table_new(uint64_t version, const char *db, const char *name,
                                 const char *charset, const char *collation, const char *comment)
{
    tr_cat_table_t *t = tr_calloc(1, sizeof(*t));
    atomic_init((atomic_int *)&t->refs, 1);
    t->version = version;
    t->db = dup0(db);
    t->name = dup0(name);
    t->charset = dup0(charset);
    t->collation = dup0(collation);
    t->comment = dup0(comment);
    t->part_expr = dup0("");
    t->part_columns = dup0("");
    return t;
}

/* A generated column's expression as the servers print it: TiDB restores function
 * arguments as "f(a, b)", MySQL and MariaDB as "f(a,b)" (a space after a comma outside
 * quotes is dropped). */
static char *server_expr(const char *e)
{
    size_t n = strlen(e);
    char *out = tr_malloc(n + 1);
    size_t k = 0;
    char quote = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = e[i];
        out[k++] = ch;
        if (quote != 0) {
            if (ch == '\\' && quote != '`' && i + 1 < n) {
                out[k++] = e[++i];
            } else if (ch == quote) {
                quote = 0;
            }
        } else if (ch == '\'' || ch == '"' || ch == '`') {
            quote = ch;
        } else if (ch == ',' && i + 1 < n && e[i + 1] == ' ') {
            i++;
        }
    }
    out[k] = '\0';
    return out;
}

tr_cat_column_t *tr_cat_table_add_column(tr_cat_table_t *t, const tr_cat_column_t *c)
{
    t->cols = tr_realloc(t->cols, (t->n_cols + 1) * sizeof(*t->cols));
    tr_cat_column_t *d = &t->cols[t->n_cols++];
    *d = *c;
    d->name = dup0(c->name);
    d->charset = dup0(c->charset);
    d->collation = dup0(c->collation);
    d->comment = dup0(c->comment);
    d->gen_expr = c->gen_expr != NULL ? server_expr(c->gen_expr) : NULL;
    d->default_text = NULL;
    if (c->default_text != NULL) {
        d->default_text = tr_malloc(c->default_len + 1);
        memcpy(d->default_text, c->default_text, c->default_len);
        d->default_text[c->default_len] = '\0';
    }
    d->elems = NULL;
    if (c->n_elems > 0) {
        d->elems = tr_calloc(c->n_elems, sizeof(char *));
        for (size_t i = 0; i < c->n_elems; i++) {
            d->elems[i] = dup0(c->elems[i]);
        }
    }
    memset(d->key, 0, sizeof(d->key));
    return d;
}

void tr_cat_table_add_index(tr_cat_table_t *t, const char *name, bool is_primary, bool is_unique,
                            bool is_invisible, int tidb_type, const char *comment,
                            const tr_cat_index_col_t *cols, size_t n_cols)
{
    t->idx = tr_realloc(t->idx, (t->n_idx + 1) * sizeof(*t->idx));
    tr_cat_index_t *x = &t->idx[t->n_idx++];
    memset(x, 0, sizeof(*x));
    x->name = dup0(name);
    x->is_primary = is_primary;
    x->is_unique = is_unique || is_primary;
    x->is_invisible = is_invisible;
    x->type = tidb_type == 2 ? "HASH" : tidb_type == 3 ? "RTREE" : "BTREE";
    x->comment = dup0(comment);
    x->cols = tr_calloc(n_cols + 1, sizeof(*x->cols));
    memcpy(x->cols, cols, n_cols * sizeof(*cols));
    x->n_cols = n_cols;
}

void tr_cat_table_add_partition(tr_cat_table_t *t, const char *name, const char *less_than,
                                const char *in_values, const char *comment)
{
    t->parts = tr_realloc(t->parts, (t->n_parts + 1) * sizeof(*t->parts));
    tr_cat_partition_t *p = &t->parts[t->n_parts++];
    p->name = dup0(name);
    p->less_than = less_than != NULL ? tr_strdup(less_than) : NULL;
    p->in_values = in_values != NULL ? tr_strdup(in_values) : NULL;
    p->comment = dup0(comment);
}

static bool index_has_null_part(const tr_cat_table_t *t, const tr_cat_index_t *x)
{
    for (size_t k = 0; k < x->n_cols; k++) {
        if (tr_cat_column_nullable(&t->cols[x->cols[k].col])) {
            return true;
        }
    }
    return false;
}

static bool index_has_prefix_part(const tr_cat_index_t *x)
{
    for (size_t k = 0; k < x->n_cols; k++) {
        if (x->cols[k].length >= 0) {
            return true;
        }
    }
    return false;
}

/* The order servers keep keys in (MariaDB/MySQL sql_table.cc sort_keys): unique keys
 * first, among them those without nullable parts, then PRIMARY, then those without
 * prefix parts; otherwise the order of definition. */
typedef struct {
    tr_cat_index_t x;
    size_t pos;
    bool has_null;
    bool has_prefix;
} sort_key_t;

static int cmp_keys(const void *pa, const void *pb)
{
    const sort_key_t *a = pa;
    const sort_key_t *b = pb;
    if (a->x.is_unique != b->x.is_unique) {
        return a->x.is_unique ? -1 : 1;
    }
    if (a->x.is_unique) {
        if (a->has_null != b->has_null) {
            return a->has_null ? 1 : -1;
        }
        if (a->x.is_primary != b->x.is_primary) {
            return a->x.is_primary ? -1 : 1;
        }
        if (a->has_prefix != b->has_prefix) {
            return a->has_prefix ? 1 : -1;
        }
    }
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

void tr_cat_table_finish(tr_cat_table_t *t)
{
    if (t->n_idx > 1) {
        sort_key_t *k = tr_calloc(t->n_idx, sizeof(*k));
        for (size_t i = 0; i < t->n_idx; i++) {
            k[i].x = t->idx[i];
            k[i].pos = i;
            k[i].has_null = index_has_null_part(t, &t->idx[i]);
            k[i].has_prefix = index_has_prefix_part(&t->idx[i]);
        }
        qsort(k, t->n_idx, sizeof(*k), cmp_keys);
        for (size_t i = 0; i < t->n_idx; i++) {
            t->idx[i] = k[i].x;
        }
        tr_free(k);
    }
    /* The primary key: PRIMARY, else the first unique key over whole NOT NULL columns
     * (open_binary_frm promotes it), whose columns then show PRI. */
    size_t primary = t->n_idx;
    for (size_t i = 0; i < t->n_idx && primary == t->n_idx; i++) {
        const tr_cat_index_t *x = &t->idx[i];
        if (x->is_primary ||
            (x->is_unique && !index_has_null_part(t, x) && !index_has_prefix_part(x))) {
            primary = i;
        }
    }
    /* COLUMN_KEY: PRI for the primary key's columns, else from the first part of a key:
     * UNI for a one-column unique key, MUL for any other (PRI > UNI > MUL). */
    uint8_t *rank = tr_calloc(t->n_cols + 1, 1);
    for (size_t i = 0; i < t->n_idx; i++) {
        const tr_cat_index_t *x = &t->idx[i];
        for (size_t k = 0; k < x->n_cols; k++) {
            size_t c = x->cols[k].col;
            uint8_t r = 0;
            if (i == primary) {
                r = 3;
            } else if (k == 0) {
                r = (x->is_unique && x->n_cols == 1) ? 2 : 1;
            }
            if (r > rank[c]) {
                rank[c] = r;
            }
        }
    }
    static const char *const names[] = {"", "MUL", "UNI", "PRI"};
    for (size_t c = 0; c < t->n_cols; c++) {
        memcpy(t->cols[c].key, names[rank[c]], strlen(names[rank[c]]) + 1);
    }
    tr_free(rank);
}

void tr_cat_table_ref(tr_cat_table_t *t)
{
    atomic_fetch_add_explicit((atomic_int *)&t->refs, 1, memory_order_relaxed);
}

void tr_cat_table_unref(tr_cat_table_t *t)
{
    if (t == NULL ||
        atomic_fetch_sub_explicit((atomic_int *)&t->refs, 1, memory_order_acq_rel) != 1) {
        return;
    }
    for (size_t i = 0; i < t->n_cols; i++) {
        tr_cat_column_t *c = &t->cols[i];
        tr_free(c->name);
        tr_free(c->charset);
        tr_free(c->collation);
        tr_free(c->comment);
        tr_free(c->gen_expr);
        tr_free(c->default_text);
        for (size_t k = 0; k < c->n_elems; k++) {
            tr_free(c->elems[k]);
        }
        tr_free(c->elems);
    }
    for (size_t i = 0; i < t->n_idx; i++) {
        tr_free(t->idx[i].name);
        tr_free(t->idx[i].comment);
        tr_free(t->idx[i].cols);
    }
    for (size_t i = 0; i < t->n_parts; i++) {
        tr_free(t->parts[i].name);
        tr_free(t->parts[i].less_than);
        tr_free(t->parts[i].in_values);
        tr_free(t->parts[i].comment);
    }
    tr_free(t->parts);
    tr_free(t->idx);
    tr_free(t->cols);
    tr_free(t->db);
    tr_free(t->name);
    tr_free(t->view_select);
    tr_free(t->charset);
    tr_free(t->collation);
    tr_free(t->comment);
    tr_free(t->part_expr);
    tr_free(t->part_columns);
    tr_free(t);
}

/* ---------------------------------------------------------------- catalogue */

tr_catalog_t *tr_catalog_new(void)
{
    tr_catalog_t *c = tr_calloc(1, sizeof(*c));
    atomic_init(&c->refs, 1);
    return c;
}

void tr_catalog_add_db(tr_catalog_t *c, const char *name, const char *charset,
                       const char *collation)
{
    for (size_t i = 0; i < c->n_dbs; i++) {
        if (strcmp(c->dbs[i].name, name) == 0) {
            return; /* two TiDB databases renamed to one: the first one's charset */
        }
    }
    if (c->n_dbs == c->cap_dbs) {
        c->cap_dbs = c->cap_dbs ? 2 * c->cap_dbs : 16;
        c->dbs = tr_realloc(c->dbs, c->cap_dbs * sizeof(*c->dbs));
    }
    tr_cat_db_t *d = &c->dbs[c->n_dbs++];
    d->name = dup0(name);
    d->charset = dup0(charset != NULL && *charset ? charset : "utf8mb4");
    d->collation = dup0(collation != NULL && *collation ? collation : "utf8mb4_bin");
}

void tr_catalog_add_table(tr_catalog_t *c, tr_cat_table_t *t)
{
    if (c->n_tables == c->cap_tables) {
        c->cap_tables = c->cap_tables ? 2 * c->cap_tables : 64;
        c->tables = tr_realloc(c->tables, c->cap_tables * sizeof(*c->tables));
    }
    tr_cat_table_ref(t);
    c->tables[c->n_tables++] = t;
}

static int cmp_db(const void *a, const void *b)
{
    return strcmp(((const tr_cat_db_t *)a)->name, ((const tr_cat_db_t *)b)->name);
}

static int cmp_table(const void *a, const void *b)
{
    const tr_cat_table_t *x = *(tr_cat_table_t *const *)a;
    const tr_cat_table_t *y = *(tr_cat_table_t *const *)b;
    int r = strcmp(x->db, y->db);
    return r != 0 ? r : strcmp(x->name, y->name);
}

static int cmp_version(const void *a, const void *b)
{
    uint64_t x = (*(tr_cat_table_t *const *)a)->version;
    uint64_t y = (*(tr_cat_table_t *const *)b)->version;
    return x < y ? -1 : x > y;
}

void tr_catalog_seal(tr_catalog_t *c)
{
    for (size_t i = 0; i < c->n_tables; i++) {
        tr_catalog_add_db(c, c->tables[i]->db, NULL, NULL); /* no-op when present */
    }
    if (c->n_dbs > 1) {
        qsort(c->dbs, c->n_dbs, sizeof(*c->dbs), cmp_db);
    }
    if (c->n_tables > 1) {
        qsort(c->tables, c->n_tables, sizeof(*c->tables), cmp_table);
    }
    c->by_version = tr_calloc(c->n_tables + 1, sizeof(*c->by_version));
    if (c->n_tables > 0) {
        memcpy(c->by_version, c->tables, c->n_tables * sizeof(*c->tables));
    }
    if (c->n_tables > 1) {
        qsort(c->by_version, c->n_tables, sizeof(*c->by_version), cmp_version);
    }
}

void tr_catalog_ref(tr_catalog_t *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

void tr_catalog_unref(tr_catalog_t *c)
{
    if (c == NULL || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1) {
        return;
    }
    for (size_t i = 0; i < c->n_dbs; i++) {
        tr_free(c->dbs[i].name);
        tr_free(c->dbs[i].charset);
        tr_free(c->dbs[i].collation);
    }
    for (size_t i = 0; i < c->n_tables; i++) {
        tr_cat_table_unref(c->tables[i]);
    }
    tr_free(c->dbs);
    tr_free(c->tables);
    tr_free(c->by_version);
    tr_free(c);
}

size_t tr_catalog_n_dbs(const tr_catalog_t *c)
{
    return c->n_dbs;
}

const tr_cat_db_t *tr_catalog_db_at(const tr_catalog_t *c, size_t i)
{
    return &c->dbs[i];
}

size_t tr_catalog_n_tables(const tr_catalog_t *c)
{
    return c->n_tables;
}

const tr_cat_table_t *tr_catalog_table_at(const tr_catalog_t *c, size_t i)
{
    return c->tables[i];
}

const tr_cat_db_t *tr_catalog_find_db(const tr_catalog_t *c, const char *db)
{
    size_t lo = 0;
    size_t hi = c->n_dbs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(c->dbs[mid].name, db);
        if (r == 0) {
            return &c->dbs[mid];
        }
        if (r < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

const tr_cat_table_t *tr_catalog_find_table(const tr_catalog_t *c, const char *db,
                                            const char *table)
{
    size_t lo = 0;
    size_t hi = c->n_tables;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const tr_cat_table_t *t = c->tables[mid];
        int r = strcmp(t->db, db);
        if (r == 0) {
            r = strcmp(t->name, table);
        }
        if (r == 0) {
            return t;
        }
        if (r < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

tr_cat_table_t *tr_catalog_find_version(const tr_catalog_t *c, uint64_t version)
{
    if (c == NULL || c->by_version == NULL) {
        return NULL;
    }
    size_t lo = 0;
    size_t hi = c->n_tables;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t v = c->by_version[mid]->version;
        if (v == version) {
            return c->by_version[mid];
        }
        if (v < version) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- names */

const char *tr_cat_charset_name(const char *cs, tr_flavor_t f)
{
    (void)f;
    if (cs == NULL || *cs == '\0' || strcmp(cs, "binary") == 0) {
        return NULL;
    }
    return strcmp(cs, "utf8") == 0 ? "utf8mb3" : cs;
}

const char *tr_cat_collation_name(const char *co, tr_flavor_t f)
{
    static const struct {
        const char *tidb;
        const char *mysql;
        const char *mariadb;
    } map[] = {
        {"utf8_bin", "utf8mb3_bin", "utf8mb3_bin"},
        {"utf8_general_ci", "utf8mb3_general_ci", "utf8mb3_general_ci"},
        {"utf8_unicode_ci", "utf8mb3_unicode_ci", "utf8mb3_unicode_ci"},
        /* MariaDB 10.11 has no 0900 collations: the ones the DDL rewriter gives
         * (ddl_rewrite.c map_collation). */
        {"utf8mb4_0900_ai_ci", "utf8mb4_0900_ai_ci", "utf8mb4_uca1400_nopad_ai_ci"},
        {"utf8mb4_0900_bin", "utf8mb4_0900_bin", "utf8mb4_nopad_bin"},
    };
    if (co == NULL || *co == '\0' || strcmp(co, "binary") == 0) {
        return NULL;
    }
    for (size_t i = 0; i < TR_ARRAY_LEN(map); i++) {
        if (strcmp(co, map[i].tidb) == 0) {
            return f == TR_FLAVOR_MARIADB ? map[i].mariadb : map[i].mysql;
        }
    }
    return co;
}

static bool is_string_tp(uint8_t tp)
{
    switch (tp) {
    case TR_TIDB_TP_VARCHAR:
    case TR_TIDB_TP_VAR_STRING:
    case TR_TIDB_TP_STRING:
    case TR_TIDB_TP_TINY_BLOB:
    case TR_TIDB_TP_BLOB:
    case TR_TIDB_TP_MEDIUM_BLOB:
    case TR_TIDB_TP_LONG_BLOB:
    case TR_TIDB_TP_ENUM:
    case TR_TIDB_TP_SET:
        return true;
    default:
        return false;
    }
}

static bool is_binary_str(const tr_cat_column_t *c)
{
    return tr_cat_charset_name(c->charset, TR_FLAVOR_MYSQL) == NULL;
}

/* A character column: text types, CHAR/VARCHAR and ENUM/SET that are not binary. */
static bool is_char_col(const tr_cat_column_t *c)
{
    if (c->tp == TR_TIDB_TP_ENUM || c->tp == TR_TIDB_TP_SET) {
        return true;
    }
    return is_string_tp(c->tp) && !is_binary_str(c);
}

const char *tr_cat_column_charset(const tr_cat_column_t *c, tr_flavor_t f)
{
    if (c->tp == TR_TIDB_TP_JSON) {
        return f == TR_FLAVOR_MARIADB ? "utf8mb4" : NULL;
    }
    if (!is_char_col(c)) {
        return NULL;
    }
    const char *cs = tr_cat_charset_name(c->charset, f);
    return cs != NULL ? cs : "utf8mb4";
}

const char *tr_cat_column_collation(const tr_cat_column_t *c, tr_flavor_t f)
{
    if (c->tp == TR_TIDB_TP_JSON) {
        return f == TR_FLAVOR_MARIADB ? "utf8mb4_bin" : NULL;
    }
    if (!is_char_col(c)) {
        return NULL;
    }
    const char *co = tr_cat_collation_name(c->collation, f);
    if (co != NULL) {
        return co;
    }
    /* TiDB's default collation of a charset is its _bin one (pkg/parser/charset). */
    const char *cs = tr_cat_column_charset(c, f);
    return strcmp(cs, "utf8mb3") == 0 ? "utf8mb3_bin"
           : strcmp(cs, "latin1") == 0 ? "latin1_bin"
           : strcmp(cs, "ascii") == 0  ? "ascii_bin"
                                       : "utf8mb4_bin";
}

/* ---------------------------------------------------------------- types */

bool tr_cat_column_nullable(const tr_cat_column_t *c)
{
    return (c->flag & TR_TIDB_FLAG_NOT_NULL) == 0;
}

static bool is_unsigned(const tr_cat_column_t *c)
{
    return (c->flag & TR_TIDB_FLAG_UNSIGNED) != 0;
}

static bool is_zerofill(const tr_cat_column_t *c)
{
    return (c->flag & TR_TIDB_FLAG_ZEROFILL) != 0;
}

static int fsp_of(const tr_cat_column_t *c)
{
    return c->decimal < 0 ? 0 : c->decimal > 6 ? 6 : c->decimal;
}

void tr_cat_text(tr_buf_t *out, const char *s, size_t n, tr_flavor_t f)
{
    if (f != TR_FLAVOR_MARIADB) {
        tr_buf_append(out, s, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (((uint8_t)s[i] & 0xF8) == 0xF0) { /* lead byte of a 4-byte sequence */
            tr_buf_put_u8(out, '?');
            while (i + 1 < n && ((uint8_t)s[i + 1] & 0xC0) == 0x80) {
                i++;
            }
        } else {
            tr_buf_put_u8(out, (uint8_t)s[i]);
        }
    }
}

/* Quoted SQL string as SHOW prints one: ' doubled, \ and control characters escaped;
 * MariaDB's text as its table definitions keep it (tr_cat_text). */
static void put_quoted(tr_buf_t *out, const char *s, size_t n, tr_flavor_t f)
{
    tr_buf_t t;
    tr_buf_init(&t, 0);
    tr_cat_text(&t, s, n, f);
    tr_buf_put_u8(out, '\'');
    for (size_t i = 0; i < t.len; i++) {
        char ch = (char)t.data[i];
        switch (ch) {
        case '\'':
            tr_buf_append(out, "''", 2);
            break;
        case '\\':
            tr_buf_append(out, "\\\\", 2);
            break;
        case '\0':
            tr_buf_append(out, "\\0", 2);
            break;
        case '\n':
            tr_buf_append(out, "\\n", 2);
            break;
        case '\r':
            tr_buf_append(out, "\\r", 2);
            break;
        case '\032':
            tr_buf_append(out, "\\Z", 2);
            break;
        default:
            tr_buf_put_u8(out, (uint8_t)ch);
            break;
        }
    }
    tr_buf_put_u8(out, '\'');
    tr_buf_cleanup(&t);
}

static void put_str(tr_buf_t *out, const char *s)
{
    tr_buf_append(out, s, strlen(s));
}

static void put_int_type(tr_buf_t *out, const tr_cat_column_t *c, const char *name, int wsigned,
                         int wunsigned)
{
    int w = c->flen > 0 ? c->flen : is_unsigned(c) ? wunsigned : wsigned;
    tr_buf_printf(out, "%s(%d)", name, w);
}

static void put_sign(tr_buf_t *out, const tr_cat_column_t *c)
{
    if (is_unsigned(c)) {
        put_str(out, " unsigned");
    }
    if (is_zerofill(c)) {
        put_str(out, " zerofill");
    }
}

/* ENUM/SET members. */
static void put_elems(tr_buf_t *out, const tr_cat_column_t *c, tr_flavor_t f)
{
    tr_buf_put_u8(out, '(');
    for (size_t i = 0; i < c->n_elems; i++) {
        if (i > 0) {
            tr_buf_put_u8(out, ',');
        }
        put_quoted(out, c->elems[i], strlen(c->elems[i]), f);
    }
    tr_buf_put_u8(out, ')');
}

static const char *blob_name(uint8_t tp, bool binary)
{
    switch (tp) {
    case TR_TIDB_TP_TINY_BLOB:
        return binary ? "tinyblob" : "tinytext";
    case TR_TIDB_TP_MEDIUM_BLOB:
        return binary ? "mediumblob" : "mediumtext";
    case TR_TIDB_TP_LONG_BLOB:
        return binary ? "longblob" : "longtext";
    default:
        return binary ? "blob" : "text";
    }
}

const char *tr_cat_data_type(const tr_cat_column_t *c, tr_flavor_t f)
{
    switch (c->tp) {
    case TR_TIDB_TP_TINY:
        return "tinyint";
    case TR_TIDB_TP_SHORT:
        return "smallint";
    case TR_TIDB_TP_INT24:
        return "mediumint";
    case TR_TIDB_TP_LONG:
        return "int";
    case TR_TIDB_TP_LONGLONG:
        return "bigint";
    case TR_TIDB_TP_FLOAT:
        return "float";
    case TR_TIDB_TP_DOUBLE:
        return "double";
    case TR_TIDB_TP_NEWDECIMAL:
        return "decimal";
    case TR_TIDB_TP_DATE:
    case TR_TIDB_TP_NEWDATE:
        return "date";
    case TR_TIDB_TP_DATETIME:
        return "datetime";
    case TR_TIDB_TP_TIMESTAMP:
        return "timestamp";
    case TR_TIDB_TP_DURATION:
        return "time";
    case TR_TIDB_TP_YEAR:
        return "year";
    case TR_TIDB_TP_VARCHAR:
    case TR_TIDB_TP_VAR_STRING:
        return is_binary_str(c) ? "varbinary" : "varchar";
    case TR_TIDB_TP_STRING:
        return is_binary_str(c) ? "binary" : "char";
    case TR_TIDB_TP_TINY_BLOB:
    case TR_TIDB_TP_BLOB:
    case TR_TIDB_TP_MEDIUM_BLOB:
    case TR_TIDB_TP_LONG_BLOB:
        return blob_name(c->tp, is_binary_str(c));
    case TR_TIDB_TP_ENUM:
        return "enum";
    case TR_TIDB_TP_SET:
        return "set";
    case TR_TIDB_TP_BIT:
        return "bit";
    case TR_TIDB_TP_JSON:
        return f == TR_FLAVOR_MARIADB ? "longtext" : "json";
    case TR_TIDB_TP_GEOMETRY:
        return "geometry";
    default:
        return "unknown";
    }
}

void tr_cat_column_type(const tr_cat_column_t *c, tr_flavor_t f, tr_buf_t *out)
{
    int fsp = fsp_of(c);
    switch (c->tp) {
    case TR_TIDB_TP_TINY:
        put_int_type(out, c, "tinyint", 4, 3);
        put_sign(out, c);
        return;
    case TR_TIDB_TP_SHORT:
        put_int_type(out, c, "smallint", 6, 5);
        put_sign(out, c);
        return;
    case TR_TIDB_TP_INT24:
        put_int_type(out, c, "mediumint", 9, 8);
        put_sign(out, c);
        return;
    case TR_TIDB_TP_LONG:
        put_int_type(out, c, "int", 11, 10);
        put_sign(out, c);
        return;
    case TR_TIDB_TP_LONGLONG:
        put_int_type(out, c, "bigint", 20, 20);
        put_sign(out, c);
        return;
    case TR_TIDB_TP_FLOAT:
    case TR_TIDB_TP_DOUBLE:
        put_str(out, c->tp == TR_TIDB_TP_FLOAT ? "float" : "double");
        if (c->decimal >= 0 && c->flen > 0) {
            tr_buf_printf(out, "(%d,%d)", c->flen, c->decimal);
        }
        put_sign(out, c);
        return;
    case TR_TIDB_TP_NEWDECIMAL:
        tr_buf_printf(out, "decimal(%d,%d)", c->flen > 0 ? c->flen : 10,
                      c->decimal > 0 ? c->decimal : 0);
        put_sign(out, c);
        return;
    case TR_TIDB_TP_DATETIME:
    case TR_TIDB_TP_TIMESTAMP:
    case TR_TIDB_TP_DURATION:
        put_str(out, tr_cat_data_type(c, f));
        if (fsp > 0) {
            tr_buf_printf(out, "(%d)", fsp);
        }
        return;
    case TR_TIDB_TP_YEAR:
        put_str(out, "year(4)");
        return;
    case TR_TIDB_TP_VARCHAR:
    case TR_TIDB_TP_VAR_STRING:
    case TR_TIDB_TP_STRING:
        tr_buf_printf(out, "%s(%d)", tr_cat_data_type(c, f),
                      c->flen >= 0 ? c->flen : c->tp == TR_TIDB_TP_STRING ? 1 : 0);
        return;
    case TR_TIDB_TP_ENUM:
    case TR_TIDB_TP_SET:
        put_str(out, c->tp == TR_TIDB_TP_ENUM ? "enum" : "set");
        put_elems(out, c, f);
        return;
    case TR_TIDB_TP_BIT:
        tr_buf_printf(out, "bit(%d)", c->flen > 0 ? c->flen : 1);
        return;
    default:
        put_str(out, tr_cat_data_type(c, f));
        return;
    }
}

/* ---------------------------------------------------------------- lengths */

static uint64_t blob_max(uint8_t tp)
{
    switch (tp) {
    case TR_TIDB_TP_TINY_BLOB:
        return 255;
    case TR_TIDB_TP_MEDIUM_BLOB:
        return 16777215;
    case TR_TIDB_TP_LONG_BLOB:
    case TR_TIDB_TP_JSON:
        return 4294967295u;
    default:
        return 65535;
    }
}

bool tr_cat_column_char_length(const tr_cat_column_t *c, tr_flavor_t f, uint64_t *chars,
                               uint64_t *octets)
{
    uint64_t maxlen = is_char_col(c) ? tr_tidb_charset_maxlen(c->charset) : 1;
    switch (c->tp) {
    case TR_TIDB_TP_VARCHAR:
    case TR_TIDB_TP_VAR_STRING:
    case TR_TIDB_TP_STRING:
        *chars = c->flen > 0 ? (uint64_t)c->flen : 0;
        *octets = *chars * maxlen;
        return true;
    case TR_TIDB_TP_TINY_BLOB:
    case TR_TIDB_TP_BLOB:
    case TR_TIDB_TP_MEDIUM_BLOB:
    case TR_TIDB_TP_LONG_BLOB:
        *octets = blob_max(c->tp);
        /* MariaDB counts the text types in bytes; MySQL in characters */
        *chars = f == TR_FLAVOR_MYSQL && is_char_col(c) ? *octets / maxlen : *octets;
        return true;
    case TR_TIDB_TP_JSON:
        if (f != TR_FLAVOR_MARIADB) {
            return false;
        }
        *chars = *octets = blob_max(c->tp);
        return true;
    case TR_TIDB_TP_ENUM:
    case TR_TIDB_TP_SET: {
        uint64_t n = 0;
        for (size_t i = 0; i < c->n_elems; i++) {
            uint64_t len = 0; /* characters: UTF-8 lead bytes */
            for (const char *p = c->elems[i]; *p; p++) {
                len += ((uint8_t)*p & 0xC0) != 0x80;
            }
            if (c->tp == TR_TIDB_TP_ENUM) {
                n = len > n ? len : n;
            } else {
                n += len + (i > 0 ? 1 : 0);
            }
        }
        *chars = n;
        *octets = n * maxlen;
        return true;
    }
    default:
        return false;
    }
}

bool tr_cat_column_numeric(const tr_cat_column_t *c, uint64_t *precision, bool *has_scale,
                           uint64_t *scale)
{
    *has_scale = true;
    *scale = 0;
    switch (c->tp) {
    case TR_TIDB_TP_TINY:
        *precision = 3;
        return true;
    case TR_TIDB_TP_SHORT:
        *precision = 5;
        return true;
    case TR_TIDB_TP_INT24:
        *precision = is_unsigned(c) ? 8 : 7;
        return true;
    case TR_TIDB_TP_LONG:
        *precision = 10;
        return true;
    case TR_TIDB_TP_LONGLONG:
        *precision = is_unsigned(c) ? 20 : 19;
        return true;
    case TR_TIDB_TP_FLOAT:
    case TR_TIDB_TP_DOUBLE:
        if (c->decimal >= 0 && c->flen > 0) {
            *precision = (uint64_t)c->flen;
            *scale = (uint64_t)c->decimal;
        } else {
            *precision = c->tp == TR_TIDB_TP_FLOAT ? 12 : 22;
            *has_scale = false;
        }
        return true;
    case TR_TIDB_TP_NEWDECIMAL:
        *precision = c->flen > 0 ? (uint64_t)c->flen : 10;
        *scale = c->decimal > 0 ? (uint64_t)c->decimal : 0;
        return true;
    case TR_TIDB_TP_BIT:
        *precision = c->flen > 0 ? (uint64_t)c->flen : 1;
        *has_scale = false;
        return true;
    default:
        return false;
    }
}

bool tr_cat_column_datetime_precision(const tr_cat_column_t *c, uint64_t *fsp)
{
    if (c->tp == TR_TIDB_TP_DATETIME || c->tp == TR_TIDB_TP_TIMESTAMP ||
        c->tp == TR_TIDB_TP_DURATION) {
        *fsp = (uint64_t)fsp_of(c);
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------- defaults and extra */

/* Numbers print unquoted in MariaDB (Field::val_str of a numeric field). */
static bool is_numeric_tp(uint8_t tp)
{
    switch (tp) {
    case TR_TIDB_TP_TINY:
    case TR_TIDB_TP_SHORT:
    case TR_TIDB_TP_INT24:
    case TR_TIDB_TP_LONG:
    case TR_TIDB_TP_LONGLONG:
    case TR_TIDB_TP_FLOAT:
    case TR_TIDB_TP_DOUBLE:
    case TR_TIDB_TP_NEWDECIMAL:
    case TR_TIDB_TP_YEAR:
        return true;
    default:
        return false;
    }
}

static void put_now(tr_buf_t *out, const tr_cat_column_t *c, tr_flavor_t f)
{
    int fsp = fsp_of(c);
    if (f == TR_FLAVOR_MARIADB) {
        if (fsp > 0) {
            tr_buf_printf(out, "current_timestamp(%d)", fsp);
        } else {
            put_str(out, "current_timestamp()");
        }
    } else if (fsp > 0) {
        tr_buf_printf(out, "CURRENT_TIMESTAMP(%d)", fsp);
    } else {
        put_str(out, "CURRENT_TIMESTAMP");
    }
}

static void put_bit_literal(tr_buf_t *out, const char *bytes, size_t n)
{
    put_str(out, "b'");
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        for (int b = 7; b >= 0; b--) {
            bool one = ((uint8_t)bytes[i] >> b) & 1;
            if (one || any) {
                tr_buf_put_u8(out, one ? '1' : '0');
                any = true;
            }
        }
    }
    if (!any) {
        tr_buf_put_u8(out, '0');
    }
    tr_buf_put_u8(out, '\'');
}

static bool is_blob_tp(uint8_t tp)
{
    return tp == TR_TIDB_TP_TINY_BLOB || tp == TR_TIDB_TP_BLOB || tp == TR_TIDB_TP_MEDIUM_BLOB ||
           tp == TR_TIDB_TP_LONG_BLOB || tp == TR_TIDB_TP_JSON;
}

bool tr_cat_column_default_show(const tr_cat_column_t *c, tr_flavor_t f, tr_buf_t *out)
{
    switch (c->default_kind) {
    case TR_CAT_DEFAULT_VALUE:
        if (f == TR_FLAVOR_MARIADB && is_blob_tp(c->tp)) {
            /* MariaDB keeps a BLOB/TEXT default as an expression: SHOW COLUMNS quotes it */
            put_quoted(out, c->default_text, c->default_len, f);
            return true;
        }
        tr_cat_text(out, c->default_text, c->default_len, f);
        return true;
    case TR_CAT_DEFAULT_EXPR:
        tr_cat_text(out, c->default_text, c->default_len, f);
        return true;
    case TR_CAT_DEFAULT_NOW:
        put_now(out, c, f);
        return true;
    case TR_CAT_DEFAULT_BIT:
        put_bit_literal(out, c->default_text, c->default_len);
        return true;
    default:
        return false;
    }
}

bool tr_cat_column_default_is(const tr_cat_column_t *c, tr_flavor_t f, tr_buf_t *out)
{
    if (f != TR_FLAVOR_MARIADB) {
        return tr_cat_column_default_show(c, f, out);
    }
    switch (c->default_kind) {
    case TR_CAT_DEFAULT_NULL:
        put_str(out, "NULL"); /* MariaDB 10.2.7+: the literal NULL */
        return true;
    case TR_CAT_DEFAULT_VALUE:
        if (is_numeric_tp(c->tp)) {
            tr_buf_append(out, c->default_text, c->default_len);
        } else {
            put_quoted(out, c->default_text, c->default_len, f);
        }
        return true;
    default:
        return tr_cat_column_default_show(c, f, out);
    }
}

void tr_cat_column_extra(const tr_cat_column_t *c, tr_flavor_t f, tr_buf_t *out)
{
    size_t start = out->len;
    if (c->auto_increment) {
        put_str(out, "auto_increment");
    }
    if (f == TR_FLAVOR_MYSQL &&
        (c->default_kind == TR_CAT_DEFAULT_NOW || c->default_kind == TR_CAT_DEFAULT_EXPR)) {
        put_str(out, out->len > start ? " DEFAULT_GENERATED" : "DEFAULT_GENERATED");
    }
    if (c->on_update_now) {
        put_str(out, out->len > start ? " on update " : "on update ");
        put_now(out, c, f);
    }
    if (c->gen_expr != NULL) {
        put_str(out, out->len > start ? " " : "");
        put_str(out, c->gen_stored ? "STORED GENERATED" : "VIRTUAL GENERATED");
    }
}

/* ---------------------------------------------------------------- SHOW CREATE */

static void put_ident(tr_buf_t *out, const char *s)
{
    tr_buf_put_u8(out, '`');
    for (; *s; s++) {
        if (*s == '`') {
            tr_buf_put_u8(out, '`');
        }
        tr_buf_put_u8(out, (uint8_t)*s);
    }
    tr_buf_put_u8(out, '`');
}

/* TEXT, BLOB, JSON and GEOMETRY have no DEFAULT NULL in MySQL's SHOW CREATE TABLE. */
static bool mysql_no_default_null(const tr_cat_column_t *c)
{
    switch (c->tp) {
    case TR_TIDB_TP_TINY_BLOB:
    case TR_TIDB_TP_BLOB:
    case TR_TIDB_TP_MEDIUM_BLOB:
    case TR_TIDB_TP_LONG_BLOB:
    case TR_TIDB_TP_GEOMETRY:
        return true;
    default:
        return false;
    }
}

static void put_column_def(tr_buf_t *out, const tr_cat_table_t *t, const tr_cat_column_t *c,
                           tr_flavor_t f)
{
    put_str(out, "  ");
    put_ident(out, c->name);
    tr_buf_put_u8(out, ' ');
    tr_cat_column_type(c, f, out);
    const char *cs = tr_cat_column_charset(c, f);
    const char *co = tr_cat_column_collation(c, f);
    const char *tcs = tr_cat_charset_name(t->charset, f);
    const char *tco = tr_cat_collation_name(t->collation, f);
    if (cs != NULL &&
        (tcs == NULL || strcmp(cs, tcs) != 0 || tco == NULL || strcmp(co, tco) != 0)) {
        tr_buf_printf(out, " CHARACTER SET %s COLLATE %s", cs, co);
    }
    if (c->gen_expr != NULL) {
        tr_buf_printf(out, " GENERATED ALWAYS AS (%s) %s", c->gen_expr,
                      c->gen_stored ? "STORED" : "VIRTUAL");
        if (f == TR_FLAVOR_MYSQL && !tr_cat_column_nullable(c)) {
            put_str(out, " NOT NULL");
        }
    } else {
        if (!tr_cat_column_nullable(c)) {
            put_str(out, " NOT NULL");
        } else if (c->tp == TR_TIDB_TP_TIMESTAMP) {
            put_str(out, " NULL");
        }
        switch (c->default_kind) {
        case TR_CAT_DEFAULT_NULL:
            if (f == TR_FLAVOR_MARIADB || !mysql_no_default_null(c)) {
                put_str(out, " DEFAULT NULL");
            }
            break;
        case TR_CAT_DEFAULT_VALUE:
            put_str(out, " DEFAULT ");
            if (f == TR_FLAVOR_MARIADB && is_numeric_tp(c->tp)) {
                tr_buf_append(out, c->default_text, c->default_len);
            } else {
                put_quoted(out, c->default_text, c->default_len, f);
            }
            break;
        case TR_CAT_DEFAULT_NOW:
            put_str(out, " DEFAULT ");
            put_now(out, c, f);
            break;
        case TR_CAT_DEFAULT_EXPR:
            put_str(out, f == TR_FLAVOR_MARIADB ? " DEFAULT " : " DEFAULT (");
            tr_cat_text(out, c->default_text, c->default_len, f);
            put_str(out, f == TR_FLAVOR_MARIADB ? "" : ")");
            break;
        case TR_CAT_DEFAULT_BIT:
            put_str(out, " DEFAULT ");
            put_bit_literal(out, c->default_text, c->default_len);
            break;
        case TR_CAT_DEFAULT_NONE:
            break;
        }
        if (c->on_update_now) {
            put_str(out, " ON UPDATE ");
            put_now(out, c, f);
        }
        if (c->auto_increment) {
            put_str(out, " AUTO_INCREMENT");
        }
    }
    if (c->comment[0] != '\0') {
        put_str(out, " COMMENT ");
        put_quoted(out, c->comment, strlen(c->comment), f);
    }
    if (f == TR_FLAVOR_MARIADB && c->tp == TR_TIDB_TP_JSON) {
        put_str(out, " CHECK (json_valid(");
        put_ident(out, c->name);
        put_str(out, "))");
    }
}

static void put_index_def(tr_buf_t *out, const tr_cat_table_t *t, const tr_cat_index_t *x,
                          tr_flavor_t f)
{
    put_str(out, "  ");
    if (x->is_primary) {
        put_str(out, "PRIMARY KEY ");
    } else {
        put_str(out, x->is_unique ? "UNIQUE KEY " : "KEY ");
        put_ident(out, x->name);
        tr_buf_put_u8(out, ' ');
    }
    tr_buf_put_u8(out, '(');
    for (size_t k = 0; k < x->n_cols; k++) {
        if (k > 0) {
            tr_buf_put_u8(out, ',');
        }
        put_ident(out, t->cols[x->cols[k].col].name);
        if (x->cols[k].length >= 0) {
            tr_buf_printf(out, "(%d)", x->cols[k].length);
        }
    }
    tr_buf_put_u8(out, ')');
    if (strcmp(x->type, "BTREE") != 0) {
        tr_buf_printf(out, " USING %s", x->type);
    }
    if (x->comment[0] != '\0') {
        put_str(out, " COMMENT ");
        put_quoted(out, x->comment, strlen(x->comment), f);
    }
    if (x->is_invisible) {
        put_str(out, f == TR_FLAVOR_MARIADB ? " IGNORED" : " /*!80000 INVISIBLE */");
    }
}

static void put_partitions(tr_buf_t *out, const tr_cat_table_t *t, tr_flavor_t f)
{
    static const char *const kinds[] = {"", "RANGE", "HASH", "LIST", "KEY"};
    if (t->part_type <= 0 || t->part_type > 4) {
        return;
    }
    bool maria = f == TR_FLAVOR_MARIADB;
    put_str(out, maria ? "\n PARTITION BY " : "\n/*!50100 PARTITION BY ");
    put_str(out, kinds[t->part_type]);
    if (t->part_columns[0] != '\0') {
        tr_buf_printf(out, maria ? "  COLUMNS(%s)" : " COLUMNS(%s)", t->part_columns);
    } else {
        tr_buf_printf(out, " (%s)", t->part_expr);
    }
    if (t->part_type == 2 || t->part_type == 4) {
        tr_buf_printf(out, "\nPARTITIONS %zu", t->n_parts);
    } else {
        put_str(out, "\n(");
        for (size_t i = 0; i < t->n_parts; i++) {
            const tr_cat_partition_t *p = &t->parts[i];
            put_str(out, i > 0 ? ",\n PARTITION " : "PARTITION ");
            if (maria) {
                put_ident(out, p->name);
            } else {
                put_str(out, p->name);
            }
            if (t->part_type == 1) {
                bool maxv = p->less_than != NULL && strcmp(p->less_than, "MAXVALUE") == 0 &&
                            t->part_columns[0] == '\0';
                if (maxv) {
                    put_str(out, " VALUES LESS THAN MAXVALUE");
                } else {
                    tr_buf_printf(out, " VALUES LESS THAN (%s)", p->less_than ? p->less_than : "");
                }
            } else {
                tr_buf_printf(out, " VALUES IN (%s)", p->in_values ? p->in_values : "");
            }
            if (p->comment[0] != '\0') {
                put_str(out, " COMMENT = ");
                put_quoted(out, p->comment, strlen(p->comment), f);
            }
            put_str(out, " ENGINE = InnoDB");
        }
        tr_buf_put_u8(out, ')');
    }
    if (!maria) {
        put_str(out, " */");
    }
}

void tr_cat_show_create_table(const tr_cat_table_t *t, tr_flavor_t f, tr_buf_t *out)
{
    if (t->is_view) {
        put_str(out, "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`%` SQL SECURITY DEFINER VIEW ");
        put_ident(out, t->name);
        put_str(out, " AS ");
        put_str(out, t->view_select);
        return;
    }
    put_str(out, "CREATE TABLE ");
    put_ident(out, t->name);
    put_str(out, " (\n");
    for (size_t i = 0; i < t->n_cols; i++) {
        if (i > 0) {
            put_str(out, ",\n");
        }
        put_column_def(out, t, &t->cols[i], f);
    }
    for (size_t i = 0; i < t->n_idx; i++) {
        put_str(out, ",\n");
        put_index_def(out, t, &t->idx[i], f);
    }
    put_str(out, "\n) ENGINE=InnoDB");
    const char *cs = tr_cat_charset_name(t->charset, f);
    const char *co = tr_cat_collation_name(t->collation, f);
    if (cs != NULL) {
        tr_buf_printf(out, " DEFAULT CHARSET=%s", cs);
        if (co != NULL) {
            tr_buf_printf(out, " COLLATE=%s", co);
        }
    }
    if (t->comment[0] != '\0') {
        put_str(out, " COMMENT=");
        put_quoted(out, t->comment, strlen(t->comment), f);
    }
    put_partitions(out, t, f);
}

void tr_cat_show_create_db(const tr_cat_db_t *d, bool if_not_exists, tr_flavor_t f,
                           tr_buf_t *out)
{
    put_str(out, if_not_exists ? "CREATE DATABASE /*!32312 IF NOT EXISTS*/ " : "CREATE DATABASE ");
    put_ident(out, d->name);
    const char *cs = tr_cat_charset_name(d->charset, f);
    const char *co = tr_cat_collation_name(d->collation, f);
    tr_buf_printf(out, " /*!40100 DEFAULT CHARACTER SET %s", cs != NULL ? cs : "utf8mb4");
    if (co != NULL) {
        tr_buf_printf(out, " COLLATE %s", co);
    }
    put_str(out, " */");
}
