/*
 * Fuzz target: the SQL subset classifier (protocol/sqlcmd.c tr_sql_parse),
 * then what the session does with its output: unquote every string, match
 * SHOW filters with LIKE, answer catalogue statements (protocol/catalog_query.c)
 * over a small fixed catalogue in both flavours, and split multi-statement
 * text. Every view must lie inside the statement text.
 */
#include "fuzz.h"

#include <string.h>

#include "common/buf.h"
#include "protocol/catalog.h"
#include "protocol/catalog_query.h"
#include "protocol/sqlcmd.h"
#include "protocol/tidb_schema.h"

static const uint8_t *g_base;
static size_t g_size;

static void check_view(tr_slice_t s)
{
    if (s.len > 0) {
        FUZZ_CHECK(s.p >= g_base && s.p + s.len <= g_base + g_size);
    }
}

static void use_string(tr_slice_t raw)
{
    char out[64];
    check_view(raw);
    (void)tr_sql_unquote(raw, out, sizeof(out));
    (void)tr_sql_unquote(raw, out, 1);
}

static void check_expr(const tr_sql_expr_t *e)
{
    check_view(e->text);
    check_view(e->name);
    check_view(e->fn_name);
    FUZZ_CHECK(e->nargs <= TR_SQL_MAX_ARGS);
    for (size_t i = 0; i < e->nargs; i++) {
        if (e->args[i].is_str) {
            use_string(e->args[i].raw);
        } else {
            check_view(e->args[i].raw);
        }
    }
    if (e->kind == TR_SQL_EXPR_STR) {
        use_string(e->name);
    }
}

/* d.t (id INT PRIMARY KEY, v VARCHAR(10) UNIQUE, j JSON, e ENUM('a','b')), d.v a view. */
static tr_catalog_t *fixed_catalog(void)
{
    static tr_catalog_t *cat;
    if (cat != NULL) {
        return cat;
    }
    cat = tr_catalog_new();
    tr_catalog_add_db(cat, "d", "utf8mb4", "utf8mb4_bin");
    tr_cat_table_t *t = tr_cat_table_new(1, "d", "t", "utf8mb4", "utf8mb4_bin", "c");
    static char *elems[] = {"a", "b"};
    tr_cat_column_t c;
    memset(&c, 0, sizeof(c));
    c.comment = "";
    c.name = "id", c.tp = TR_TIDB_TP_LONG, c.flag = 1, c.flen = 11, c.charset = "binary";
    (void)tr_cat_table_add_column(t, &c);
    c.name = "v", c.tp = TR_TIDB_TP_VARCHAR, c.flag = 0, c.flen = 10, c.charset = "utf8mb4";
    c.default_kind = TR_CAT_DEFAULT_VALUE, c.default_text = "x", c.default_len = 1;
    (void)tr_cat_table_add_column(t, &c);
    c.name = "j", c.tp = TR_TIDB_TP_JSON, c.default_kind = TR_CAT_DEFAULT_NULL;
    (void)tr_cat_table_add_column(t, &c);
    c.name = "e", c.tp = TR_TIDB_TP_ENUM, c.elems = elems, c.n_elems = 2;
    (void)tr_cat_table_add_column(t, &c);
    tr_cat_index_col_t pk = {0, -1};
    tr_cat_index_col_t uk = {1, 3};
    tr_cat_table_add_index(t, "PRIMARY", true, true, false, 1, "", &pk, 1);
    tr_cat_table_add_index(t, "uv", false, true, false, 1, "k", &uk, 1);
    tr_cat_table_finish(t);
    tr_catalog_add_table(cat, t);
    tr_cat_table_unref(t);
    t = tr_cat_table_new(2, "d", "v", "", "", "");
    t->is_view = true;
    t->view_select = strdup("SELECT 1");
    tr_cat_table_finish(t);
    tr_catalog_add_table(cat, t);
    tr_cat_table_unref(t);
    tr_catalog_seal(cat);
    return cat;
}

static bool var_at(void *arg, size_t i, const char **name, const char **value)
{
    (void)arg;
    if (i > 0) {
        return false;
    }
    *name = "server_id";
    *value = "1";
    return true;
}

static void answer(const tr_sql_cmd_t *cmd)
{
    if (!tr_catq_handles(cmd->kind)) {
        return;
    }
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        for (int db = 0; db < 3; db++) {
            tr_buf_t out;
            tr_buf_init(&out, 0);
            uint8_t seq = 1;
            tr_catq_ctx_t ctx = {db == 2 ? NULL : fixed_catalog(), (tr_flavor_t)f,
                                 db == 0 ? "" : db == 1 ? "d" : "information_schema", &out, &seq,
                                 f == 1, 2, var_at, NULL};
            int rc = tr_catq_answer(&ctx, cmd);
            FUZZ_CHECK(rc >= 0 && out.len > 4);
            tr_buf_cleanup(&out);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tr_sql_cmd_t cmd; /* ~10 KiB: kept off the stack as the session does */
    const char *why = NULL;
    g_base = data;
    g_size = size;
    tr_sql_parse((const char *)data, size, &cmd, &why);
    FUZZ_CHECK(cmd.kind != TR_SQL_UNKNOWN || why != NULL);
    FUZZ_CHECK(cmd.n_sel <= TR_SQL_MAX_ITEMS && cmd.n_set <= TR_SQL_MAX_ITEMS &&
               cmd.n_show <= TR_SQL_MAX_ITEMS);
    for (size_t i = 0; i < cmd.n_sel; i++) {
        check_expr(&cmd.sel[i].expr);
        check_view(cmd.sel[i].alias);
    }
    for (size_t i = 0; i < cmd.n_set; i++) {
        check_view(cmd.set[i].name);
        check_expr(&cmd.set[i].value);
    }
    for (size_t i = 0; i < cmd.n_show; i++) {
        tr_sql_show_filter_t *f = &cmd.show[i];
        check_view(f->pattern);
        (void)tr_sql_like((const char *)f->pattern.p, f->pattern.len, "gtid_mode", 9);
        (void)tr_sql_like((const char *)f->pattern.p, f->pattern.len,
                          "binlog_transaction_dependency_history_size", 42);
    }
    check_view(cmd.show_db);
    use_string(cmd.log_name);
    use_string(cmd.purge_arg);
    answer(&cmd);
    size_t next = 0;
    size_t first = tr_sql_next_statement((const char *)data, size, &next);
    FUZZ_CHECK(first <= size && next <= size && first <= next);
    return 0;
}
