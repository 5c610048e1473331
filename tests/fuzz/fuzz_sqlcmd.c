/*
 * Fuzz target: the SQL subset classifier (protocol/sqlcmd.c tr_sql_parse),
 * then what the session does with its output: unquote every string, match
 * SHOW filters with LIKE. Every view must lie inside the statement text.
 */
#include "fuzz.h"

#include "protocol/sqlcmd.h"

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
    return 0;
}
