/*
 * The statements of the command phase (session_sql.h): one table routes each kind to its
 * answer, with whether it needs an admin account and whether it is answered off the loop.
 */
#include "server/session_sql.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/mem.h"
#include "protocol/catalog_query.h"
#include "protocol/gtid.h"
#include "protocol/result.h"
#include "server/dump.h"

/* ---------------------------------------------------------------- user variables */

static uvar_t *uvar_find(const tr_sess_t *s, const char *lname)
{
    for (size_t i = 0; i < s->n_vars; i++) {
        if (strcmp(s->vars[i].name, lname) == 0) {
            return (uvar_t *)&s->vars[i];
        }
    }
    return NULL;
}

static void lower_name(tr_slice_t in, char *out, size_t cap)
{
    size_t n = in.len < cap - 1 ? in.len : cap - 1;
    for (size_t i = 0; i < n; i++) {
        char c = (char)in.p[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    out[n] = '\0';
}

const char *tr_sess_uvar(const tr_sess_t *s, const char *name)
{
    char lname[64];
    lower_name(tr_slice(name, strlen(name)), lname, sizeof(lname));
    const uvar_t *v = uvar_find(s, lname);
    return v ? v->value : NULL;
}

/* A computed value: text (or NULL) and whether it is numeric. */
typedef struct {
    bool is_null;
    bool is_num;
    char text[MAX_VALUE_LEN];
} value_t;

static bool uvar_set(tr_sess_t *s, tr_slice_t name, const value_t *v)
{
    char lname[64];
    lower_name(name, lname, sizeof(lname));
    uvar_t *u = uvar_find(s, lname);
    if (u == NULL) {
        if (s->n_vars == MAX_UVARS) {
            return false;
        }
        if (s->n_vars == s->cap_vars) {
            s->cap_vars = s->cap_vars ? 2 * s->cap_vars : 8;
            s->vars = tr_realloc(s->vars, s->cap_vars * sizeof(*s->vars));
        }
        u = &s->vars[s->n_vars++];
        memset(u, 0, sizeof(*u));
        snprintf(u->name, sizeof(u->name), "%s", lname);
    }
    tr_free(u->value);
    u->value = v->is_null ? NULL : tr_strdup(v->text);
    u->is_num = v->is_num;
    return true;
}

/* ---------------------------------------------------------------- system variables */

/* Names served by SELECT @@x and SHOW VARIABLES, alphabetical (SHOW order). */
static const char *const sysvar_names[] = {
    "auto_increment_increment", "auto_increment_offset", "autocommit", "binlog_checksum",
    "binlog_format", "binlog_row_image", "binlog_row_metadata", "character_set_client",
    "character_set_connection", "character_set_database", "character_set_results",
    "character_set_server", "collation_connection", "collation_database", "collation_server",
    "enforce_gtid_consistency", "gtid_binlog_pos", "gtid_current_pos", "gtid_domain_id",
    "gtid_executed", "gtid_mode", "gtid_purged", "gtid_slave_pos", "gtid_strict_mode",
    "have_query_cache", "hostname", "init_connect", "interactive_timeout", "license", "log_bin",
    "lower_case_table_names", "max_allowed_packet", "net_buffer_length", "net_read_timeout",
    "net_write_timeout", "performance_schema", "port", "query_cache_size", "query_cache_type",
    "server_id", "server_uuid", "sql_mode", "system_time_zone", "time_zone",
    "transaction_isolation", "transaction_read_only", "tx_isolation", "tx_read_only", "version",
    "version_comment", "wait_timeout",
};

/* Boolean variables: SELECT @@x answers 1/0 (an integer), SHOW VARIABLES ON/OFF. */
static bool sysvar_is_bool(const char *lname)
{
    static const char *const bools[] = {"autocommit", "gtid_strict_mode", "log_bin",
                                        "performance_schema", "transaction_read_only",
                                        "tx_read_only"};
    for (size_t i = 0; i < TR_ARRAY_LEN(bools); i++) {
        if (strcmp(lname, bools[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* Our last GTID number (0 = none): the last committed transaction, else what the
 * oldest file's header says came before it (gtid-start - 1). */
static uint64_t own_last_gno(const tr_sess_t *s)
{
    tr_store_checkpoint_t cp;
    if (s->locked) {
        cp = s->view.last;
    } else {
        tr_store_last_txn(s->srv->store, &cp);
    }
    if (cp.has_txn) {
        return cp.gtid_no;
    }
    tr_binlog_file_t f;
    if (tr_store_file_first(s->srv->store, s->flavor, &f) == 0 && f.first_gno > 1) {
        return f.first_gno - 1;
    }
    return 0;
}

/* "uuid:1-N" (or "" for N = 0) into out. */
static void mysql_gtid_range(const tr_sess_t *s, uint64_t n, char *out, size_t cap)
{
    if (n == 0) {
        out[0] = '\0';
        return;
    }
    tr_gtid_set_t set;
    tr_gtid_set_init(&set);
    tr_gtid_set_add(&set, s->srv->cfg->server_uuid_bin, NULL, 1, n + 1);
    (void)tr_gtid_set_format(&set, ",\n", out, cap);
    tr_gtid_set_cleanup(&set);
}

/*
 * The GTID and identity variables that differ per flavour: MariaDB has
 * gtid_domain_id, gtid_binlog_pos, gtid_current_pos, gtid_slave_pos (all
 * the last GTID we wrote: tirelay applies upstream changes as a replica
 * would, and a MariaDB replica switching to us by GTID wants that position)
 * and gtid_strict_mode, but no server_uuid / gtid_mode / gtid_executed;
 * MySQL the other way round, except gtid_domain_id (see below; a non-empty
 * @slave_connect_state on the MySQL listener is refused at the dump).
 * Returns 1 (v filled), 0 (unknown here: ERR 1193) or -1 (not a GTID variable).
 */
static int gtid_sysvar(const tr_sess_t *s, const char *lname, value_t *v)
{
    bool maria = s->flavor == TR_FLAVOR_MARIADB;
    const tr_config_t *cfg = s->srv->cfg;
    if (strcmp(lname, "gtid_binlog_pos") == 0 || strcmp(lname, "gtid_current_pos") == 0 ||
        strcmp(lname, "gtid_slave_pos") == 0) {
        if (!maria) {
            return 0;
        }
        uint64_t n = own_last_gno(s);
        tr_maria_gtid_t g = {cfg->gtid_domain_id, cfg->server_id, n};
        (void)tr_maria_gtid_list_format(&g, n > 0 ? 1 : 0, v->text, sizeof(v->text));
        return 1;
    }
    if (strcmp(lname, "gtid_domain_id") == 0) {
        /* Both listeners: a MariaDB 10.10+ replica defaults to MASTER_USE_GTID=slave_pos
         * and with an empty position may start from the first file of the MySQL set too. */
        v->is_num = true;
        snprintf(v->text, sizeof(v->text), "%" PRIu32, cfg->gtid_domain_id);
        return 1;
    }
    if (strcmp(lname, "gtid_strict_mode") == 0) {
        if (!maria) {
            return 0;
        }
        v->is_num = true;
        snprintf(v->text, sizeof(v->text), "%s", "1"); /* ON: numbers never have gaps */
        return 1;
    }
    if (strcmp(lname, "server_uuid") == 0 || strcmp(lname, "gtid_mode") == 0 ||
        strcmp(lname, "enforce_gtid_consistency") == 0) {
        if (maria) {
            return 0;
        }
        snprintf(v->text, sizeof(v->text), "%s",
                 lname[0] == 's' ? cfg->server_uuid : "ON"); /* we write GTID_LOG_EVENTs */
        return 1;
    }
    if (strcmp(lname, "gtid_executed") == 0) {
        if (maria) {
            return 0;
        }
        mysql_gtid_range(s, own_last_gno(s), v->text, sizeof(v->text));
        return 1;
    }
    if (strcmp(lname, "gtid_purged") == 0) {
        if (maria) {
            return 0;
        }
        tr_binlog_file_t f;
        uint64_t purged = 0;
        if (tr_store_file_first(s->srv->store, s->flavor, &f) == 0 && f.first_gno > 1) {
            purged = f.first_gno - 1;
        }
        mysql_gtid_range(s, purged, v->text, sizeof(v->text));
        return 1;
    }
    return -1;
}

/* Fills v with the value of system variable lname; false when unknown. */
static bool sysvar_get(const tr_sess_t *s, const char *lname, value_t *v)
{
    const tr_config_t *cfg = s->srv->cfg;
    const char *str = NULL;
    uint64_t num = 0;
    bool is_num = false;
    memset(v, 0, sizeof(v->is_null) + sizeof(v->is_num));
    int g = gtid_sysvar(s, lname, v);
    if (g >= 0) {
        return g == 1;
    }
    if (strcmp(lname, "server_id") == 0) {
        num = cfg->server_id;
        is_num = true;
    } else if (strcmp(lname, "port") == 0) {
        num = s->flavor == TR_FLAVOR_MARIADB ? cfg->mariadb_listen.port : cfg->listen.port;
        is_num = true;
    } else if (strcmp(lname, "binlog_checksum") == 0) {
        str = "CRC32";
    } else if (strcmp(lname, "binlog_format") == 0) {
        str = "ROW";
    } else if (strcmp(lname, "binlog_row_image") == 0 || strcmp(lname, "binlog_row_metadata") == 0) {
        str = "FULL";
    } else if (strcmp(lname, "log_bin") == 0 || strcmp(lname, "autocommit") == 0) {
        num = 1;
        is_num = true;
    } else if (strcmp(lname, "performance_schema") == 0 || strcmp(lname, "tx_read_only") == 0 ||
               strcmp(lname, "transaction_read_only") == 0 ||
               strcmp(lname, "query_cache_size") == 0) {
        num = 0;
        is_num = true;
    } else if (strcmp(lname, "have_query_cache") == 0) {
        str = "NO";
    } else if (strcmp(lname, "query_cache_type") == 0) {
        str = "OFF";
    } else if (strcmp(lname, "license") == 0) {
        str = "GPL";
    } else if (strncmp(lname, "character_set_", 14) == 0) {
        str = "utf8mb4";
    } else if (strncmp(lname, "collation_", 10) == 0) {
        str = "utf8mb4_general_ci";
    } else if (strcmp(lname, "auto_increment_increment") == 0 ||
               strcmp(lname, "auto_increment_offset") == 0) {
        num = 1;
        is_num = true;
    } else if (strcmp(lname, "hostname") == 0) {
        str = "tirelay";
    } else if (strcmp(lname, "init_connect") == 0) {
        str = "";
    } else if (strcmp(lname, "interactive_timeout") == 0 || strcmp(lname, "wait_timeout") == 0) {
        num = 28800;
        is_num = true;
    } else if (strcmp(lname, "lower_case_table_names") == 0) {
        num = 0;
        is_num = true;
    } else if (strcmp(lname, "max_allowed_packet") == 0) {
        num = TR_SRV_MAX_EVENT;
        is_num = true;
    } else if (strcmp(lname, "net_buffer_length") == 0) {
        num = 16384;
        is_num = true;
    } else if (strcmp(lname, "net_read_timeout") == 0) {
        num = 30;
        is_num = true;
    } else if (strcmp(lname, "net_write_timeout") == 0) {
        num = 60;
        is_num = true;
    } else if (strcmp(lname, "sql_mode") == 0) {
        str = "STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION";
    } else if (strcmp(lname, "system_time_zone") == 0) {
        str = "UTC";
    } else if (strcmp(lname, "time_zone") == 0) {
        str = "SYSTEM";
    } else if (strcmp(lname, "transaction_isolation") == 0 || strcmp(lname, "tx_isolation") == 0) {
        str = "REPEATABLE-READ";
    } else if (strcmp(lname, "version") == 0) {
        str = s->flavor == TR_FLAVOR_MARIADB ? TR_SRV_MARIA_VERSION_SQL : TR_SRV_VERSION_SQL;
    } else if (strcmp(lname, "version_comment") == 0) {
        str = s->flavor == TR_FLAVOR_MARIADB ? TR_SRV_MARIA_VERSION_COMMENT
                                             : TR_SRV_VERSION_COMMENT;
    } else {
        return false;
    }
    v->is_num = is_num;
    if (is_num) {
        snprintf(v->text, sizeof(v->text), "%" PRIu64, num);
    } else {
        snprintf(v->text, sizeof(v->text), "%s", str);
    }
    return true;
}

/* ---------------------------------------------------------------- expressions */

#define TR_ER_MALFORMED_GTID_SET_SPECIFICATION 1772

/* GTID_SUBTRACT(a, b) (the GTIDs of a not in b, MySQL's text format with
 * ",\n" between UUIDs) and GTID_SUBSET(a, b) (1/0), as MySQL evaluates them;
 * a malformed set is ERR 1772. */
static int eval_gtid_fn(tr_sess_t *s, const tr_sql_expr_t *e, value_t *v)
{
    static char text[2][MAX_VALUE_LEN]; /* loop thread only */
    tr_gtid_set_t set[2];
    int rc = 0;
    tr_gtid_set_init(&set[0]);
    tr_gtid_set_init(&set[1]);
    for (int i = 0; i < 2 && rc == 0; i++) {
        size_t n = tr_sql_unquote(e->args[i].raw, text[i], sizeof(text[i]));
        const char *why = NULL;
        if (n >= sizeof(text[i]) || tr_gtid_set_parse(&set[i], text[i], n, &why) != 0) {
            tr_sess_put_err(s, TR_ER_MALFORMED_GTID_SET_SPECIFICATION,
                    "Malformed GTID set specification '%.256s'.", text[i]);
            rc = -1;
        }
    }
    if (rc == 0 && e->fn == TR_SQL_FN_GTID_SUBSET) {
        v->is_num = true;
        snprintf(v->text, sizeof(v->text), "%d", tr_gtid_set_is_subset(&set[0], &set[1]) ? 1 : 0);
    } else if (rc == 0) {
        tr_gtid_set_subtract(&set[0], &set[1]);
        if (tr_gtid_set_format(&set[0], ",\n", v->text, sizeof(v->text)) >= sizeof(v->text)) {
            tr_sess_put_err(s, TR_ER_PARSE, "GTID_SUBTRACT result longer than %d bytes", MAX_VALUE_LEN);
            rc = -1;
        }
    }
    tr_gtid_set_cleanup(&set[0]);
    tr_gtid_set_cleanup(&set[1]);
    return rc;
}

/* Evaluates e into v. Returns 0, or sends ERR (1193 unknown variable / 1064)
 * and returns -1. */
static int eval(tr_sess_t *s, const tr_sql_expr_t *e, value_t *v)
{
    memset(v, 0, sizeof(v->is_null) + sizeof(v->is_num));
    v->text[0] = '\0';
    char name[64];
    switch (e->kind) {
    case TR_SQL_EXPR_NULL:
        v->is_null = true;
        return 0;
    case TR_SQL_EXPR_NUM:
        v->is_num = e->is_int;
        snprintf(v->text, sizeof(v->text), "%.*s", (int)e->text.len, (const char *)e->text.p);
        return 0;
    case TR_SQL_EXPR_STR:
        (void)tr_sql_unquote(e->name, v->text, sizeof(v->text));
        return 0;
    case TR_SQL_EXPR_IDENT:
        snprintf(v->text, sizeof(v->text), "%.*s", (int)e->name.len, (const char *)e->name.p);
        return 0;
    case TR_SQL_EXPR_STAR:
    case TR_SQL_EXPR_COUNT:
        /* only in a SELECT ... FROM (catalogue statements) */
        tr_sess_put_err(s, TR_ER_PARSE, "You have an error in your SQL syntax; %.*s needs FROM",
                (int)e->text.len, (const char *)e->text.p);
        return -1;
    case TR_SQL_EXPR_USERVAR: {
        lower_name(e->name, name, sizeof(name));
        const uvar_t *u = uvar_find(s, name);
        if (u == NULL || u->value == NULL) {
            v->is_null = true;
        } else {
            v->is_num = u->is_num;
            snprintf(v->text, sizeof(v->text), "%s", u->value);
        }
        return 0;
    }
    case TR_SQL_EXPR_SYSVAR:
        lower_name(e->name, name, sizeof(name));
        if (!sysvar_get(s, name, v)) {
            tr_sess_put_err(s, TR_ER_UNKNOWN_SYSVAR, "Unknown system variable '%.*s'", (int)e->name.len,
                    (const char *)e->name.p);
            return -1;
        }
        return 0;
    case TR_SQL_EXPR_FUNC:
        switch (e->fn) {
        case TR_SQL_FN_UNIX_TIMESTAMP:
            if (e->nargs != 0) {
                break;
            }
            v->is_num = true;
            snprintf(v->text, sizeof(v->text), "%lld", (long long)time(NULL));
            return 0;
        case TR_SQL_FN_VERSION:
            snprintf(v->text, sizeof(v->text), "%s",
                     s->flavor == TR_FLAVOR_MARIADB ? TR_SRV_MARIA_VERSION_SQL
                                                    : TR_SRV_VERSION_SQL);
            return 0;
        case TR_SQL_FN_DATABASE:
            if (s->db[0] == '\0') {
                v->is_null = true;
            } else {
                snprintf(v->text, sizeof(v->text), "%s", s->db);
            }
            return 0;
        case TR_SQL_FN_CONNECTION_ID:
            v->is_num = true;
            snprintf(v->text, sizeof(v->text), "%" PRIu32, s->id);
            return 0;
        case TR_SQL_FN_USER:
            snprintf(v->text, sizeof(v->text), "%s@%s", s->user,
                     s->conn ? tr_conn_peer_ip(s->conn) : "");
            return 0;
        case TR_SQL_FN_BINLOG_GTID_POS: {
            /* MariaDB's binlog_gtid_pos(file, pos): the GTID position at an event
             * boundary of one of our files; NULL when there is no such file or
             * boundary (replicas in file/pos mode tolerate NULL, spec 3.2 row 8').
             * The MySQL listener answers NULL (its files carry MySQL GTIDs). */
            v->is_null = true;
            if (s->flavor != TR_FLAVOR_MARIADB || e->nargs != 2 || !e->args[0].is_str ||
                e->args[1].is_str || e->args[1].ival < 0) {
                return 0;
            }
            char fname[128];
            size_t fl = tr_sql_unquote(e->args[0].raw, fname, sizeof(fname));
            if (fl >= sizeof(fname)) {
                return 0;
            }
            if (tr_dump_gtid_pos_at(s->srv, s->flavor, fname, (uint64_t)e->args[1].ival, v->text,
                                    sizeof(v->text)) == 0) {
                v->is_null = false;
            }
            return 0;
        }
        case TR_SQL_FN_GTID_SUBTRACT:
        case TR_SQL_FN_GTID_SUBSET:
            if (e->nargs != 2 || !e->args[0].is_str || !e->args[1].is_str) {
                break;
            }
            return eval_gtid_fn(s, e, v);
        case TR_SQL_FN_OTHER:
            break;
        }
        tr_sess_put_err(s, TR_ER_PARSE,
                "You have an error in your SQL syntax; function %.*s is not supported by tirelay",
                (int)e->fn_name.len, (const char *)e->fn_name.p);
        return -1;
    }
    return -1;
}

/* ---------------------------------------------------------------- queries */

static void answer_select(tr_sess_t *s)
{
    const tr_sql_cmd_t *q = s->sql;
    static value_t vals[TR_SQL_MAX_ITEMS]; /* loop thread only */
    tr_res_col_t cols[TR_SQL_MAX_ITEMS];
    char names[TR_SQL_MAX_ITEMS][256];
    for (size_t i = 0; i < q->n_sel; i++) {
        if (eval(s, &q->sel[i].expr, &vals[i]) != 0) {
            return;
        }
        tr_slice_t n = q->sel[i].alias.len > 0 ? q->sel[i].alias : q->sel[i].expr.text;
        if (q->sel[i].alias.len > 0 && q->sel[i].alias.p[-1] == '\'') {
            (void)tr_sql_unquote(n, names[i], sizeof(names[i]));
        } else {
            snprintf(names[i], sizeof(names[i]), "%.*s", (int)n.len, (const char *)n.p);
        }
        cols[i] = vals[i].is_num ? tr_res_col_num(names[i]) : tr_res_col_str(names[i]);
    }
    tr_res_writer_t w;
    tr_res_begin(&w, &s->out, &s->seq, (s->caps & TR_CLIENT_DEPRECATE_EOF) != 0, cols, q->n_sel);
    if (!q->has_limit || q->limit > 0) {
        tr_res_row_begin(&w);
        for (size_t i = 0; i < q->n_sel; i++) {
            tr_res_cell_str(&w, vals[i].is_null ? NULL : vals[i].text);
        }
        tr_res_row_end(&w);
    }
    tr_res_end(&w, s->status);
}

static void answer_set(tr_sess_t *s)
{
    const tr_sql_cmd_t *q = s->sql;
    static value_t v; /* loop thread only */
    /* Evaluate every value first so a failing item leaves nothing half-set. */
    for (size_t i = 0; i < q->n_set; i++) {
        if (q->set[i].is_user && eval(s, &q->set[i].value, &v) != 0) {
            return;
        }
    }
    for (size_t i = 0; i < q->n_set; i++) {
        if (!q->set[i].is_user) {
            continue;
        }
        (void)eval(s, &q->set[i].value, &v);
        if (!uvar_set(s, q->set[i].name, &v)) {
            tr_sess_put_err(s, TR_ER_PARSE, "too many user variables");
            return;
        }
    }
    tr_sess_put_ok(s);
}

static bool show_matches(const tr_sql_cmd_t *q, const char *name)
{
    if (q->n_show == 0) {
        return true;
    }
    char pat[256];
    for (size_t i = 0; i < q->n_show; i++) {
        size_t n = tr_sql_unquote(q->show[i].pattern, pat, sizeof(pat));
        if (n >= sizeof(pat)) {
            continue;
        }
        if (q->show[i].is_like) {
            if (tr_sql_like(pat, n, name, strlen(name))) {
                return true;
            }
        } else if (tr_sql_eq(tr_slice(pat, n), name)) {
            return true;
        }
    }
    return false;
}

static void answer_show_variables(tr_sess_t *s)
{
    tr_res_col_t cols[2] = {tr_res_col_str("Variable_name"), tr_res_col_str("Value")};
    tr_res_writer_t w;
    static value_t v; /* loop thread only */
    tr_res_begin(&w, &s->out, &s->seq, (s->caps & TR_CLIENT_DEPRECATE_EOF) != 0, cols, 2);
    for (size_t i = 0; i < TR_ARRAY_LEN(sysvar_names); i++) {
        if (!show_matches(s->sql, sysvar_names[i]) || !sysvar_get(s, sysvar_names[i], &v)) {
            continue;
        }
        tr_res_row_begin(&w);
        tr_res_cell_str(&w, sysvar_names[i]);
        tr_res_cell_str(&w, !sysvar_is_bool(sysvar_names[i]) ? v.text
                            : strcmp(v.text, "0") == 0      ? "OFF"
                                                            : "ON");
        tr_res_row_end(&w);
    }
    tr_res_end(&w, s->status);
}

/* SHOW [SESSION|GLOBAL] STATUS: the few counters clients probe (Debezium reads
 * Ssl_version; empty without TLS, as MySQL answers). */
static void answer_show_status(tr_sess_t *s)
{
    tr_res_col_t cols[2] = {tr_res_col_str("Variable_name"), tr_res_col_str("Value")};
    const char *ver = s->conn ? tr_conn_tls_version(s->conn) : NULL;
    const char *cipher = s->conn ? tr_conn_tls_cipher(s->conn) : NULL;
    char threads[24];
    snprintf(threads, sizeof(threads), "%zu", s->srv->n_sessions);
    const char *const rows[][2] = {
        {"Ssl_cipher", cipher ? cipher : ""},
        {"Ssl_version", ver ? ver : ""},
        {"Threads_connected", threads},
    };
    tr_res_writer_t w;
    tr_res_begin(&w, &s->out, &s->seq, (s->caps & TR_CLIENT_DEPRECATE_EOF) != 0, cols, 2);
    for (size_t i = 0; i < TR_ARRAY_LEN(rows); i++) {
        if (!show_matches(s->sql, rows[i][0])) {
            continue;
        }
        tr_res_row_begin(&w);
        tr_res_cell_str(&w, rows[i][0]);
        tr_res_cell_str(&w, rows[i][1]);
        tr_res_row_end(&w);
    }
    tr_res_end(&w, s->status);
}

/* GLOBAL_VARIABLES / SESSION_VARIABLES rows: the variables SHOW VARIABLES lists. */
static bool catq_var(void *arg, size_t i, const char **name, const char **value)
{
    static value_t v; /* loop thread only; the caller copies it before the next call */
    const tr_sess_t *s = arg;
    for (; i < TR_ARRAY_LEN(sysvar_names); i++) {
        if (!sysvar_get(s, sysvar_names[i], &v)) {
            continue; /* not a variable of this flavour: the rows after it shift down */
        }
        *name = sysvar_names[i];
        *value = !sysvar_is_bool(sysvar_names[i]) ? v.text : strcmp(v.text, "0") == 0 ? "OFF"
                                                                                       : "ON";
        return true;
    }
    return false;
}

/* The schema catalogue statements (protocol/catalog_query.h), answered from the
 * catalogue of the last transaction written. */
/* The catalogue the session reads: its locked view's, else the store's current one. */
static tr_catalog_t *sess_catalog(tr_sess_t *s)
{
    if (s->locked) {
        if (s->view.cat != NULL) {
            tr_catalog_ref(s->view.cat);
        }
        return s->view.cat;
    }
    return tr_store_catalog(s->srv->store);
}

/* FLUSH TABLES WITH READ LOCK and friends take a view (a second lock replaces it, as the
 * servers keep one global read lock per session); UNLOCK releases it. */
static void lock_for_snapshot(tr_sess_t *s, bool lock)
{
    tr_catalog_unref(s->view.cat);
    memset(&s->view, 0, sizeof(s->view));
    s->locked = lock;
    if (lock) {
        tr_store_view(s->srv->store, s->flavor, &s->view);
    }
}

static void answer_catalog(tr_sess_t *s)
{
    tr_catalog_t *cat = sess_catalog(s);
    tr_catq_ctx_t ctx = {cat, s->flavor, s->db, &s->out, &s->seq,
                         (s->caps & TR_CLIENT_DEPRECATE_EOF) != 0, s->status, catq_var, s};
    (void)tr_catq_answer(&ctx, s->sql);
    tr_catalog_unref(cat);
}

/* USE db, COM_INIT_DB and a handshake's database: information_schema or a database of the
 * catalogue, else ERR 1049 as MySQL answers. Returns true when selected. */
bool tr_sess_select_db(tr_sess_t *s, const char *db, size_t len)
{
    char name[256];
    snprintf(name, sizeof(name), "%.*s", (int)(len < sizeof(name) ? len : sizeof(name) - 1), db);
    tr_catalog_t *cat = sess_catalog(s);
    bool ok = tr_catq_has_db(cat, name);
    tr_catalog_unref(cat);
    if (!ok) {
        return false;
    }
    snprintf(s->db, sizeof(s->db), "%s", name);
    return true;
}

static void answer_master_status(tr_sess_t *s)
{
    tr_res_col_t cols[5] = {tr_res_col_str("File"), tr_res_col_num("Position"),
                            tr_res_col_str("Binlog_Do_DB"), tr_res_col_str("Binlog_Ignore_DB"),
                            tr_res_col_str("Executed_Gtid_Set")};
    size_t ncols = s->flavor == TR_FLAVOR_MYSQL ? 5 : 4;
    tr_binlog_file_t f;
    int rc;
    if (s->locked) {
        f = s->view.file;
        rc = s->view.has_file ? 0 : TR_ENOTFOUND;
    } else {
        rc = tr_store_file_last(s->srv->store, s->flavor, &f);
    }
    tr_res_writer_t w;
    tr_res_begin(&w, &s->out, &s->seq, (s->caps & TR_CLIENT_DEPRECATE_EOF) != 0, cols, ncols);
    if (rc == 0) {
        tr_res_row_begin(&w);
        tr_res_cell_str(&w, f.name);
        tr_res_cell_u64(&w, f.size);
        tr_res_cell_str(&w, "");
        tr_res_cell_str(&w, "");
        if (ncols == 5) {
            char set[512];
            mysql_gtid_range(s, own_last_gno(s), set, sizeof(set));
            tr_res_cell_str(&w, set);
        }
        tr_res_row_end(&w);
    }
    tr_res_end(&w, s->status);
}

static void answer_binary_logs(tr_sess_t *s)
{
    tr_res_col_t cols[3] = {tr_res_col_str("Log_name"), tr_res_col_num("File_size"),
                            tr_res_col_str("Encrypted")};
    size_t ncols = s->flavor == TR_FLAVOR_MYSQL ? 3 : 2;
    tr_binlog_file_t *files = NULL;
    size_t n = 0;
    int rc = tr_store_list_files(s->srv->store, s->flavor, &files, &n);
    if (rc != 0) {
        tr_sess_put_err(s, TR_ER_MASTER_FATAL_READ, "cannot list binary logs: %s", tr_strerror(rc));
        return;
    }
    tr_res_writer_t w;
    tr_res_begin(&w, &s->out, &s->seq, (s->caps & TR_CLIENT_DEPRECATE_EOF) != 0, cols, ncols);
    for (size_t i = 0; i < n; i++) {
        tr_res_row_begin(&w);
        tr_res_cell_str(&w, files[i].name);
        tr_res_cell_u64(&w, files[i].size);
        if (ncols == 3) {
            tr_res_cell_str(&w, "No");
        }
        tr_res_row_end(&w);
    }
    tr_res_end(&w, s->status);
    tr_free(files);
}

/* True when the session's account is listed in [server] admin-users. */
static bool sess_is_admin(const tr_sess_t *s)
{
    const tr_user_t *u = tr_config_user(s->srv->cfg, s->user);
    return u != NULL && u->is_admin;
}

static void put_denied(tr_sess_t *s)
{
    tr_sess_put_err(s, 1227, "Access denied; you need (at least one of) the SUPER, "
                     "REPLICATION SLAVE ADMIN privilege(s) for this operation");
}

void tr_sess_kill(tr_sess_t *s, uint64_t id)
{
    for (tr_sess_t *o = s->srv->sessions; o != NULL; o = o->next) {
        if (o->id == id && o->state != TR_SESS_CLOSING) {
            if (o != s && !sess_is_admin(s)) {
                /* MySQL: killing another account's thread needs CONNECTION_ADMIN. */
                tr_sess_put_err(s, 1095, "You are not owner of thread %" PRIu64, id);
                return;
            }
            sess_log(TR_LOG_INFO, s, "kill session target=%" PRIu32, o->id);
            if (o != s) {
                tr_sess_close(o);
                tr_sess_put_ok(s);
            } else {
                tr_sess_finish(s);
            }
            return;
        }
    }
    tr_sess_put_err(s, TR_ER_NO_SUCH_THREAD, "Unknown thread id: %" PRIu64, id);
}

/* Statements that may carry a password (CHANGE MASTER ... MASTER_PASSWORD, SET
 * PASSWORD, CREATE USER ... IDENTIFIED BY) are never logged as text. */
static bool may_hold_secret(tr_slice_t text)
{
    static const char *const words[] = {"password", "identified"};
    for (size_t w = 0; w < TR_ARRAY_LEN(words); w++) {
        size_t n = strlen(words[w]);
        for (size_t i = 0; i + n <= text.len; i++) {
            if (strncasecmp((const char *)text.p + i, words[w], n) == 0) {
                return true;
            }
        }
    }
    return false;
}

static void answer_empty(tr_sess_t *s)
{
    tr_sess_put_err(s, 1065, "Query was empty");
}

static void answer_lock(tr_sess_t *s)
{
    lock_for_snapshot(s, true);
    tr_sess_put_ok(s);
}

static void answer_unlock(tr_sess_t *s)
{
    lock_for_snapshot(s, false);
    tr_sess_put_ok(s);
}

static void answer_use(tr_sess_t *s)
{
    char name[256];
    size_t n = tr_sql_unquote(s->sql->obj_name, name, sizeof(name));
    if (tr_sess_select_db(s, name, n)) {
        tr_sess_put_ok(s);
    } else {
        tr_sess_put_err(s, TR_ER_BAD_DB, "Unknown database '%.200s'", name);
    }
}

static void answer_kill(tr_sess_t *s)
{
    tr_sess_kill(s, s->sql->kill_id);
}

/*
 * Every statement kind the parser knows (protocol/sqlcmd.h) and who answers it: the
 * session itself, or the operator statements (server/admin.h) through a reply object.
 * admin_only: [server] admin-users accounts only (statements that change state or show
 * tirelay's internals and its other clients); every other account may replicate, read
 * the catalogue and ask what replicas and CDC clients ask (REPLICATION SLAVE + CLIENT).
 * off_loop: answered from libuv's thread pool (the session holds its client meanwhile),
 * so never inside a multi-statement batch.
 */
typedef struct {
    tr_sql_kind_t kind;
    void (*answer)(tr_sess_t *s);
    void (*admin)(const tr_admin_reply_t *r, const tr_sql_cmd_t *q);
    bool admin_only;
    bool off_loop;
} stmt_t;

static const stmt_t statements[] = {
    {TR_SQL_EMPTY, answer_empty, NULL, false, false},
    {TR_SQL_NOOP, tr_sess_put_ok, NULL, false, false},
    {TR_SQL_LOCK_FOR_SNAPSHOT, answer_lock, NULL, false, false},
    {TR_SQL_UNLOCK, answer_unlock, NULL, false, false},
    {TR_SQL_SET, answer_set, NULL, false, false},
    {TR_SQL_SELECT, answer_select, NULL, false, false},
    {TR_SQL_SHOW_VARIABLES, answer_show_variables, NULL, false, false},
    {TR_SQL_SHOW_STATUS, answer_show_status, NULL, false, false},
    {TR_SQL_USE, answer_use, NULL, false, false},
    {TR_SQL_SHOW_MASTER_STATUS, answer_master_status, NULL, false, false},
    {TR_SQL_SHOW_BINARY_LOGS, answer_binary_logs, NULL, false, false},
    {TR_SQL_KILL, answer_kill, NULL, false, false},
    /* the schema catalogue */
    {TR_SQL_SHOW_DATABASES, answer_catalog, NULL, false, false},
    {TR_SQL_SHOW_TABLES, answer_catalog, NULL, false, false},
    {TR_SQL_SELECT_CATALOG, answer_catalog, NULL, false, false},
    {TR_SQL_SELECT_TABLE, answer_catalog, NULL, false, false},
    {TR_SQL_SHOW_COLUMNS, answer_catalog, NULL, false, false},
    {TR_SQL_SHOW_CREATE_TABLE, answer_catalog, NULL, false, false},
    {TR_SQL_SHOW_CREATE_DB, answer_catalog, NULL, false, false},
    {TR_SQL_SHOW_INDEX, answer_catalog, NULL, false, false},
    {TR_SQL_SHOW_TABLE_STATUS, answer_catalog, NULL, false, false},
    /* operator statements */
    {TR_SQL_SHOW_BINLOG_EVENTS, NULL, tr_admin_show_binlog_events, false, true},
    {TR_SQL_SHOW_GRANTS, NULL, tr_admin_show_grants, false, false},
    {TR_SQL_SHOW_REPLICAS, NULL, tr_admin_show_replicas, true, false},
    {TR_SQL_PURGE_LOGS, NULL, tr_admin_purge_logs, true, false},
    {TR_SQL_FLUSH_LOGS, NULL, tr_admin_flush_logs, true, false},
    {TR_SQL_SHOW_RELAY_STATUS, NULL, tr_admin_show_relay_status, true, true},
    {TR_SQL_SHOW_BINLOG_POSITION, NULL, tr_admin_show_binlog_position, true, true},
};

static const stmt_t *statement(tr_sql_kind_t kind)
{
    for (size_t i = 0; i < TR_ARRAY_LEN(statements); i++) {
        if (statements[i].kind == kind) {
            return &statements[i];
        }
    }
    return NULL;
}

static void handle_query(tr_sess_t *s, tr_slice_t text)
{
    /* One parse scratch for every session (loop thread only, ~16 KiB): a
     * statement is answered before the next is parsed. */
    static tr_sql_cmd_t sql_scratch;
    const char *why = NULL;
    s->sql = &sql_scratch;
    tr_sql_parse((const char *)text.p, text.len, s->sql, &why);
    if (tr_log_enabled(TR_LOG_DEBUG)) {
        if (may_hold_secret(text)) {
            sess_log(TR_LOG_DEBUG, s, "query kind=%d sql=<not shown: may hold a password> len=%zu",
                     (int)s->sql->kind, text.len);
        } else {
            sess_log(TR_LOG_DEBUG, s, "query kind=%d sql=%.*s", (int)s->sql->kind,
                     (int)(text.len < 200 ? text.len : 200), (const char *)text.p);
        }
    }
    const stmt_t *st = statement(s->sql->kind);
    if (st == NULL) {
        tr_sess_put_err(s, TR_ER_PARSE,
                        "You have an error in your SQL syntax; tirelay does not support this "
                        "statement (%s)",
                        why ? why : "syntax error");
        return;
    }
    if (st->admin_only && !sess_is_admin(s)) {
        put_denied(s);
        return;
    }
    if (st->answer != NULL) {
        st->answer(s);
        return;
    }
    tr_admin_reply_t r;
    tr_sess_admin_reply(s, &r);
    st->admin(&r, s->sql);
}

/* Statements answered off the loop (the session is held until the answer comes). */
static bool answered_later(tr_sql_kind_t kind)
{
    const stmt_t *st = statement(kind);
    return st != NULL && st->off_loop;
}

/*
 * COM_QUERY: one statement, or with CLIENT_MULTI_STATEMENTS several separated by ';'
 * (Canal sends its SHOW CREATE TABLEs so), answered in order as one result per
 * statement, each but the last with SERVER_MORE_RESULTS_EXISTS; the first error ends
 * the batch, as in MySQL. A statement answered off the loop is refused inside a batch.
 */
void tr_sess_queries(tr_sess_t *s, tr_slice_t text)
{
    const char *p = (const char *)text.p;
    size_t len = text.len;
    size_t next = 0;
    size_t first = tr_sql_next_statement(p, len, &next);
    if (!(s->caps & TR_CLIENT_MULTI_STATEMENTS) || next >= len) {
        handle_query(s, text);
        return;
    }
    for (;;) {
        size_t at = s->out.len;
        s->status = next < len ? TR_SERVER_STATUS_AUTOCOMMIT | TR_SERVER_MORE_RESULTS_EXISTS
                               : TR_SERVER_STATUS_AUTOCOMMIT;
        static tr_sql_cmd_t probe; /* loop thread only */
        const char *why = NULL;
        tr_sql_parse(p, first, &probe, &why);
        if (answered_later(probe.kind)) {
            tr_sess_put_err(s, TR_ER_PARSE,
                    "tirelay answers SHOW BINLOG EVENTS, SHOW RELAY STATUS and SHOW BINLOG "
                    "POSITION one statement per query");
        } else {
            handle_query(s, tr_slice(p, first));
        }
        bool failed = s->out.len > at + 4 && s->out.data[at + 4] == 0xFF;
        if (failed || next >= len || s->held || s->state == TR_SESS_CLOSING) {
            break;
        }
        p += next;
        len -= next;
        first = tr_sql_next_statement(p, len, &next);
    }
    s->status = TR_SERVER_STATUS_AUTOCOMMIT;
}

