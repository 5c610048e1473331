/*
 * Schema catalogue from the schema tracker (see catalog_build.h).
 * Column defaults follow TiDB's ColumnInfo: "default" null means DEFAULT NULL for
 * a nullable column and no default for a NOT NULL one; CURRENT_TIMESTAMP[(fsp)]
 * is kept as text; default_is_expr marks expressions; BIT values are in
 * default_bit (pkg/meta/model column.go, pkg/ddl ddl_api.go setDefaultValue).
 */
#include "relay/catalog_build.h"

#include <string.h>
#include <strings.h>

#include "common/mem.h"

typedef struct {
    const tr_schema_t *s;
    const tr_filter_t *f;
    const tr_catalog_t *prev;
    tr_catalog_t *out;
} build_t;

static bool is_now(const char *v)
{
    static const char now[] = "CURRENT_TIMESTAMP";
    size_t n = sizeof(now) - 1;
    return v != NULL && strncasecmp(v, now, n) == 0 && (v[n] == '\0' || v[n] == '(');
}

void tr_catalog_column_of(const tr_tidb_column_t *c, tr_cat_column_t *out)
{
    memset(out, 0, sizeof(*out));
    out->name = c->name;
    out->tp = c->tp;
    out->flag = c->flag;
    out->flen = c->flen;
    out->decimal = c->decimal;
    out->charset = c->charset;
    out->collation = c->collate;
    out->elems = c->elems;
    out->n_elems = c->n_elems;
    out->comment = c->comment;
    out->auto_increment = (c->flag & TR_TIDB_FLAG_AUTO_INCREMENT) != 0;
    out->on_update_now = (c->flag & TR_TIDB_FLAG_ON_UPDATE_NOW) != 0;
    bool nullable = (c->flag & TR_TIDB_FLAG_NOT_NULL) == 0;
    if (c->is_generated) {
        /* no DEFAULT clause; a nullable one's default is NULL (MariaDB's COLUMN_DEFAULT) */
        out->gen_expr = c->gen_expr;
        out->gen_stored = c->is_stored;
        out->default_kind = nullable ? TR_CAT_DEFAULT_NULL : TR_CAT_DEFAULT_NONE;
        return;
    }
    if (out->auto_increment) {
        out->default_kind = TR_CAT_DEFAULT_NONE;
    } else if (c->tp == TR_TIDB_TP_BIT && c->default_bit != NULL) {
        out->default_kind = TR_CAT_DEFAULT_BIT;
        out->default_text = (char *)c->default_bit;
        out->default_len = c->default_bit_len;
    } else if (c->default_value == NULL) {
        out->default_kind = nullable ? TR_CAT_DEFAULT_NULL : TR_CAT_DEFAULT_NONE;
    } else if (is_now(c->default_value) &&
               (c->tp == TR_TIDB_TP_TIMESTAMP || c->tp == TR_TIDB_TP_DATETIME)) {
        out->default_kind = TR_CAT_DEFAULT_NOW;
    } else {
        out->default_kind = c->default_is_expr ? TR_CAT_DEFAULT_EXPR : TR_CAT_DEFAULT_VALUE;
        out->default_text = c->default_value;
        out->default_len = strlen(c->default_value);
    }
}

/* Position among the table's shown (public, not hidden) columns of the column at offset,
 * or -1. */
static long shown_index(const tr_table_info_t *t, int offset)
{
    long n = 0;
    for (size_t k = 0; k < t->n_public; k++) {
        const tr_tidb_column_t *c = &t->cols[t->public_idx[k]];
        if (c->hidden) {
            continue;
        }
        if (c->offset == offset) {
            return n;
        }
        n++;
    }
    return -1;
}

static tr_cat_table_t *build_table(const build_t *b, const tr_table_info_t *t, const char *db,
                                   const char *name)
{
    const char *charset = t->charset;
    const char *collate = t->collate;
    if (charset[0] == '\0') {
        const char *dcs = tr_schema_db_charset(b->s, t->schema_id);
        charset = dcs != NULL ? dcs : "";
        const char *dco = tr_schema_db_collation(b->s, t->schema_id);
        collate = dco != NULL ? dco : "";
    }
    tr_cat_table_t *ct = tr_cat_table_new(t->binlog_table_id, db, name, charset, collate,
                                          t->comment);
    ct->is_view = t->is_view;
    if (t->is_view) {
        ct->view_select = tr_strdup(t->view_select != NULL ? t->view_select : "");
    }
    for (size_t k = 0; k < t->n_public; k++) {
        const tr_tidb_column_t *c = &t->cols[t->public_idx[k]];
        if (c->hidden) {
            continue;
        }
        tr_cat_column_t cc;
        tr_catalog_column_of(c, &cc);
        (void)tr_cat_table_add_column(ct, &cc);
    }
    if (t->pk_is_handle) {
        /* The int handle is the primary key; TiDB lists no index for it. */
        long pos = shown_index(t, t->cols[t->handle_col].offset);
        if (pos >= 0) {
            tr_cat_index_col_t ic = {(size_t)pos, -1};
            tr_cat_table_add_index(ct, "PRIMARY", true, true, false, 1, "", &ic, 1);
        }
    }
    for (size_t i = 0; i < t->n_indexes; i++) {
        const tr_tidb_index_t *x = &t->indexes[i];
        tr_cat_index_col_t *cols = tr_calloc(x->n_cols + 1, sizeof(*cols));
        bool ok = x->n_cols > 0;
        for (size_t k = 0; k < x->n_cols && ok; k++) {
            long pos = shown_index(t, x->cols[k].offset);
            ok = pos >= 0; /* an expression index over a hidden column is not shown */
            cols[k].col = (size_t)(pos >= 0 ? pos : 0);
            cols[k].length = x->cols[k].length;
        }
        if (ok) {
            tr_cat_table_add_index(ct, x->name, x->is_primary, x->is_unique, x->is_invisible,
                                   x->type, x->comment, cols, x->n_cols);
        }
        tr_free(cols);
    }
    ct->part_type = t->n_parts > 0 ? t->part_type : 0;
    if (ct->part_type != 0) {
        tr_free(ct->part_expr);
        tr_free(ct->part_columns);
        ct->part_expr = tr_strdup(t->part_expr != NULL ? t->part_expr : "");
        ct->part_columns = tr_strdup(t->part_columns != NULL ? t->part_columns : "");
        for (size_t i = 0; i < t->n_parts; i++) {
            const tr_tidb_partition_def_t *p = &t->part_defs[i];
            tr_cat_table_add_partition(ct, p->name, p->less_than, p->in_values, p->comment);
        }
    }
    tr_cat_table_finish(ct);
    return ct;
}

static void add_table(void *arg, const tr_table_info_t *t)
{
    const build_t *b = arg;
    const char *db = tr_schema_db_name(b->s, t->schema_id);
    if (db == NULL || t->is_sequence || tr_filter_is_system_db(db)) {
        return;
    }
    const char *out_db = db;
    const char *out_name = t->name;
    if (b->f != NULL) {
        if (!tr_filter_table_kept(b->f, db, t->name)) {
            return;
        }
        tr_filter_table_name(b->f, db, t->name, &out_db, &out_name);
    }
    tr_cat_table_t *ct = tr_catalog_find_version(b->prev, t->binlog_table_id);
    if (ct != NULL && strcmp(ct->db, out_db) == 0 && strcmp(ct->name, out_name) == 0) {
        tr_catalog_add_table(b->out, ct);
        return;
    }
    ct = build_table(b, t, out_db, out_name);
    tr_catalog_add_table(b->out, ct);
    tr_cat_table_unref(ct);
}

static void add_db(void *arg, int64_t id, const char *name, const char *charset,
                   const char *collation)
{
    const build_t *b = arg;
    if (tr_filter_is_system_db(name)) {
        return;
    }
    const char *out = name;
    if (b->f != NULL) {
        if (!tr_filter_db_kept(b->f, name)) {
            return;
        }
        out = tr_filter_db_name(b->f, name);
    }
    tr_catalog_add_db(b->out, out, charset, collation);
}

tr_catalog_t *tr_catalog_build(const tr_schema_t *s, const tr_filter_t *f,
                               const tr_catalog_t *prev)
{
    build_t b = {s, f, prev, tr_catalog_new()};
    tr_schema_each_db(s, add_db, &b);
    tr_schema_each_table(s, add_table, &b);
    tr_catalog_seal(b.out);
    return b.out;
}
