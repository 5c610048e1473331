/*
 * Client sessions (see session.h). Input loop per STYLE.md section 9: append
 * to the connection's input, decode packets with protocol/wire, dispatch on
 * the session state, answer into one output buffer written once per read.
 * Never logs passwords, scrambles or row data.
 */
#include "server/session.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "protocol/auth.h"
#include "protocol/catalog_query.h"
#include "protocol/command.h"
#include "protocol/gtid.h"
#include "protocol/handshake.h"
#include "protocol/result.h"
#include "protocol/sqlcmd.h"
#include "protocol/wire.h"
#include "server/admin.h"
#include "server/conn.h"
#include "server/dump.h"

#define MAX_UVARS     64
#define MAX_VALUE_LEN 4096
#define CHARSET_UTF8MB4_GENERAL 45

typedef struct {
    char name[64]; /* lower case */
    char *value;   /* NULL = SQL NULL */
    bool is_num;
} uvar_t;

struct tr_sess {
    tr_server_t *srv;
    tr_conn_t *conn;
    tr_sess_t *next;
    tr_sess_t *prev;
    uint32_t id;
    tr_flavor_t flavor;
    tr_sess_state_t state;
    int refs;                  /* conn + dump; freed at 0 */
    uint8_t scramble[TR_SCRAMBLE_LEN];
    const char *auth_plugin;   /* TR_AUTH_NATIVE / TR_AUTH_SHA2 being verified */
    uint8_t auth_step;         /* auth_step_t once past the HandshakeResponse */
    bool start_tls;            /* SSLRequest consumed: switch the connection to TLS */
    uint32_t caps;             /* negotiated */
    char user[64];
    char db[256];              /* current database ("" = none) */
    uint8_t seq;               /* next sequence id to send */
    uint16_t status;           /* server status of the answer being built (autocommit, and
                                  MORE_RESULTS before the last statement of a batch) */
    tr_buf_t out;              /* pending output of the current read */
    uvar_t *vars;              /* user variables, grown on demand up to MAX_UVARS */
    size_t n_vars;
    size_t cap_vars;
    tr_sql_cmd_t *sql;         /* the statement being answered (the shared parse scratch) */
    tr_dump_t *dump;
    bool registered;
    uint32_t dump_server_id;   /* server_id of the running dump (0 = none / non-blocking) */
    uint32_t replica_server_id;
    uint16_t replica_port;
    uint32_t replica_master_id;
    char replica_host[64];     /* report_host of COM_REGISTER_SLAVE */
    bool held;                 /* an answer is being computed off the loop (tr_sess_hold) */
    uv_timer_t *deny_timer;    /* a throttled peer's failed login: ERR sent when it fires */
    char deny_msg[200];        /* that ERR's message */
    bool quiet;                /* from a throttled peer: (dis)connects logged at DEBUG */
    /* Held from FLUSH TABLES WITH READ LOCK (or LOCK TABLES|INSTANCE FOR BACKUP) to UNLOCK:
     * the catalogue, SHOW MASTER STATUS and the GTID variables answer from this one view,
     * as a primary whose writes the lock stops would (a snapshot tool reads the position
     * and then the schema). */
    bool locked;
    tr_store_view_t view;
};

const char *tr_sess_state_name(tr_sess_state_t st)
{
    switch (st) {
    case TR_SESS_AUTH:
        return "auth";
    case TR_SESS_AUTH_SWITCH:
        return "auth_switch";
    case TR_SESS_COMMAND:
        return "command";
    case TR_SESS_DUMP:
        return "dump";
    case TR_SESS_CLOSING:
        return "closing";
    }
    return "?";
}

#define sess_log(lvl, s, fmt, ...)                                                                 \
    tr_log(lvl, "sess", fmt " sess=%" PRIu32 " peer=%s", __VA_ARGS__, (s)->id,                    \
           (s)->conn ? tr_conn_peer((s)->conn) : "?")

/* ---------------------------------------------------------------- lifetime */

static void sess_link(tr_sess_t *s)
{
    tr_server_t *srv = s->srv;
    s->prev = NULL;
    s->next = srv->sessions;
    if (srv->sessions != NULL) {
        srv->sessions->prev = s;
    }
    srv->sessions = s;
    srv->n_sessions++;
}

static void sess_unlink(tr_sess_t *s)
{
    tr_server_t *srv = s->srv;
    if (s->prev != NULL) {
        s->prev->next = s->next;
    } else {
        srv->sessions = s->next;
    }
    if (s->next != NULL) {
        s->next->prev = s->prev;
    }
    srv->n_sessions--;
}

static void sess_unref(tr_sess_t *s)
{
    if (--s->refs > 0) {
        return;
    }
    sess_unlink(s);
    for (size_t i = 0; i < s->n_vars; i++) {
        tr_free(s->vars[i].value);
    }
    tr_free(s->vars);
    tr_buf_cleanup(&s->out);
    tr_catalog_unref(s->view.cat);
    tr_server_t *srv = s->srv;
    tr_free(s);
    tr_server_sess_gone(srv);
}

static void on_conn_closed(void *arg)
{
    tr_sess_t *s = arg;
    s->conn = NULL;
    sess_unref(s);
}

static void on_dump_closed(void *arg)
{
    sess_unref(arg);
}

static void on_deny_timer_closed(uv_handle_t *h)
{
    tr_sess_t *s = h->data;
    tr_free(h);
    sess_unref(s);
}

/* Stops a pending delayed denial (its peer entry no longer waits for it). */
static void deny_timer_cancel(tr_sess_t *s);

static void sess_close(tr_sess_t *s, bool graceful)
{
    if (s->state == TR_SESS_CLOSING) {
        return;
    }
    deny_timer_cancel(s);
    s->state = TR_SESS_CLOSING;
    if (s->dump != NULL) {
        tr_dump_t *d = s->dump;
        s->dump = NULL;
        tr_dump_close(d, on_dump_closed, s);
    }
    if (s->conn != NULL) {
        tr_conn_close(s->conn, graceful);
    }
}

void tr_sess_close(tr_sess_t *s)
{
    sess_close(s, false);
}

static void sess_finish(tr_sess_t *s)
{
    sess_close(s, true);
}

static const char *sess_peer(const tr_sess_t *s)
{
    return s->conn ? tr_conn_peer(s->conn) : "?";
}

static int sess_send(tr_sess_t *s, tr_buf_t *b)
{
    if (s->conn == NULL || s->state == TR_SESS_CLOSING) {
        tr_buf_reset(b);
        return TR_ECLOSED;
    }
    return tr_conn_write(s->conn, b);
}

static int sess_send_ref(tr_sess_t *s, const uint8_t *data, size_t len, void (*release)(void *ref),
                     void *ref)
{
    if (s->conn == NULL || s->state == TR_SESS_CLOSING) {
        release(ref);
        return TR_ECLOSED;
    }
    return tr_conn_write_ref(s->conn, data, len, release, ref);
}

static bool sess_offload(tr_sess_t *s)
{
    return s->conn != NULL && s->state != TR_SESS_CLOSING && tr_conn_offload(s->conn);
}

static size_t sess_queued_bytes(const tr_sess_t *s)
{
    return s->conn ? tr_conn_queued_bytes(s->conn) : 0;
}

/* Sends whatever the current exchange produced. */
static void flush(tr_sess_t *s)
{
    if (tr_buf_unread(&s->out) == 0) {
        return;
    }
    if (!tr_buf_ok(&s->out)) {
        sess_log(TR_LOG_ERROR, s, "response too large, closing%s", "");
        tr_sess_close(s);
        return;
    }
    if (sess_send(s, &s->out) != 0) {
        tr_sess_close(s);
    }
}

static void admin_defer(void *ctx);
static void admin_deliver(void *ctx, const tr_buf_t *answer, uint8_t seq);

/* ---------------------------------------------------------------- responses */

static void put_ok(tr_sess_t *s)
{
    size_t h = tr_wire_begin(&s->out);
    tr_res_put_ok(&s->out, 0, 0, s->status, 0);
    tr_wire_end(&s->out, h, &s->seq);
}

static void put_err(tr_sess_t *s, uint16_t code, const char *fmt, ...) TR_PRINTF(3, 4);
static void put_err(tr_sess_t *s, uint16_t code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0) {
        n = 0;
    }
    size_t len = (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
    size_t h = tr_wire_begin(&s->out);
    tr_res_put_err(&s->out, code, tr_res_sqlstate(code), msg, len);
    tr_wire_end(&s->out, h, &s->seq);
}

/* Sends ERR (code, its SQLSTATE, formatted message), logs once, closes after the flush. */
static void sess_fail(tr_sess_t *s, uint16_t code, const char *fmt, ...) TR_PRINTF(3, 4);
static void sess_fail(tr_sess_t *s, uint16_t code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0) {
        msg[0] = '\0';
    }
    s->srv->errors[code == TR_ER_ACCESS_DENIED || code == 3159 ? TR_SRV_ERR_AUTH
                   : code == TR_ER_MASTER_FATAL_READ           ? TR_SRV_ERR_DUMP
                                                               : TR_SRV_ERR_CLIENT]++;
    sess_log(TR_LOG_WARN, s, "session failed: %s code=%u state=%s", msg, (unsigned)code,
             tr_sess_state_name(s->state));
    if (s->state != TR_SESS_CLOSING && s->conn != NULL) {
        put_err(s, code, "%s", msg);
        flush(s);
    }
    sess_close(s, true);
}

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

static const char *sess_uvar(const tr_sess_t *s, const char *name)
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
            put_err(s, TR_ER_MALFORMED_GTID_SET_SPECIFICATION,
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
            put_err(s, TR_ER_PARSE, "GTID_SUBTRACT result longer than %d bytes", MAX_VALUE_LEN);
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
        put_err(s, TR_ER_PARSE, "You have an error in your SQL syntax; %.*s needs FROM",
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
            put_err(s, TR_ER_UNKNOWN_SYSVAR, "Unknown system variable '%.*s'", (int)e->name.len,
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
        put_err(s, TR_ER_PARSE,
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
            put_err(s, TR_ER_PARSE, "too many user variables");
            return;
        }
    }
    put_ok(s);
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
static bool select_db(tr_sess_t *s, const char *db, size_t len)
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
        put_err(s, TR_ER_MASTER_FATAL_READ, "cannot list binary logs: %s", tr_strerror(rc));
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
    put_err(s, 1227, "Access denied; you need (at least one of) the SUPER, "
                     "REPLICATION SLAVE ADMIN privilege(s) for this operation");
}

static void answer_kill(tr_sess_t *s, uint64_t id)
{
    for (tr_sess_t *o = s->srv->sessions; o != NULL; o = o->next) {
        if (o->id == id && o->state != TR_SESS_CLOSING) {
            if (o != s && !sess_is_admin(s)) {
                /* MySQL: killing another account's thread needs CONNECTION_ADMIN. */
                put_err(s, 1095, "You are not owner of thread %" PRIu64, id);
                return;
            }
            sess_log(TR_LOG_INFO, s, "kill session target=%" PRIu32, o->id);
            if (o != s) {
                tr_sess_close(o);
                put_ok(s);
            } else {
                sess_finish(s);
            }
            return;
        }
    }
    put_err(s, TR_ER_NO_SUCH_THREAD, "Unknown thread id: %" PRIu64, id);
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
    if (tr_catq_handles(s->sql->kind)) {
        answer_catalog(s);
        return;
    }
    switch (s->sql->kind) {
    case TR_SQL_EMPTY:
        put_err(s, 1065, "Query was empty");
        break;
    case TR_SQL_NOOP:
        put_ok(s);
        break;
    case TR_SQL_LOCK_FOR_SNAPSHOT:
    case TR_SQL_UNLOCK:
        lock_for_snapshot(s, s->sql->kind == TR_SQL_LOCK_FOR_SNAPSHOT);
        put_ok(s);
        break;
    case TR_SQL_SET:
        answer_set(s);
        break;
    case TR_SQL_SELECT:
        answer_select(s);
        break;
    case TR_SQL_SHOW_VARIABLES:
        answer_show_variables(s);
        break;
    case TR_SQL_SHOW_STATUS:
        answer_show_status(s);
        break;
    case TR_SQL_USE: {
        char name[256];
        size_t n = tr_sql_unquote(s->sql->obj_name, name, sizeof(name));
        if (select_db(s, name, n)) {
            put_ok(s);
        } else {
            put_err(s, TR_ER_BAD_DB, "Unknown database '%.200s'", name);
        }
        break;
    }
    case TR_SQL_SHOW_MASTER_STATUS:
        answer_master_status(s);
        break;
    case TR_SQL_SHOW_BINARY_LOGS:
        answer_binary_logs(s);
        break;
    case TR_SQL_KILL:
        answer_kill(s, s->sql->kill_id);
        break;
    case TR_SQL_SHOW_REPLICAS:
    case TR_SQL_PURGE_LOGS:
    case TR_SQL_FLUSH_LOGS:
    case TR_SQL_SHOW_RELAY_STATUS:
    case TR_SQL_SHOW_BINLOG_POSITION:
        /* Statements that change state or show tirelay's internals and its other
         * clients: [server] admin-users only. */
        if (!sess_is_admin(s)) {
            put_denied(s);
            break;
        }
        /* fall through */
    case TR_SQL_SHOW_BINLOG_EVENTS:
    case TR_SQL_SHOW_GRANTS: {
        /* Any account: what MySQL's REPLICATION SLAVE + REPLICATION CLIENT allow
         * (reading the binlog) and the CDC probes' SHOW GRANTS. */
        tr_admin_reply_t r = {s->srv,
                              s->flavor,
                              s->id,
                              s->user,
                              &s->out,
                              &s->seq,
                              (s->caps & TR_CLIENT_DEPRECATE_EOF) != 0,
                              s->status,
                              s,
                              admin_defer,
                              admin_deliver};
        tr_admin_query(&r, s->sql);
        break;
    }
    case TR_SQL_UNKNOWN:
        put_err(s, TR_ER_PARSE,
                "You have an error in your SQL syntax; tirelay does not support this statement "
                "(%s)",
                why ? why : "syntax error");
        break;
    default: /* catalogue statements, answered above */
        break;
    }
}

/* Statements answered off the loop (the session is held until the answer comes). */
static bool answered_later(tr_sql_kind_t kind)
{
    return kind == TR_SQL_SHOW_BINLOG_EVENTS || kind == TR_SQL_SHOW_RELAY_STATUS ||
           kind == TR_SQL_SHOW_BINLOG_POSITION;
}

/*
 * COM_QUERY: one statement, or with CLIENT_MULTI_STATEMENTS several separated by ';'
 * (Canal sends its SHOW CREATE TABLEs so), answered in order as one result per
 * statement, each but the last with SERVER_MORE_RESULTS_EXISTS; the first error ends
 * the batch, as in MySQL. A statement answered off the loop is refused inside a batch.
 */
static void handle_queries(tr_sess_t *s, tr_slice_t text)
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
            put_err(s, TR_ER_PARSE,
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

/* ---------------------------------------------------------------- admin support */

static void on_data(tr_conn_t *c, void *arg);

static bool sess_replica(const tr_sess_t *s, tr_sess_replica_t *out)
{
    if (!s->registered || s->state == TR_SESS_CLOSING) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    out->server_id = s->replica_server_id;
    snprintf(out->host, sizeof(out->host), "%s",
             s->replica_host[0] ? s->replica_host : (s->conn ? tr_conn_peer_ip(s->conn) : ""));
    out->port = s->replica_port;
    out->master_id = s->replica_master_id;
    const char *uuid = sess_uvar(s, "replica_uuid");
    if (uuid == NULL) {
        uuid = sess_uvar(s, "slave_uuid");
    }
    snprintf(out->uuid, sizeof(out->uuid), "%s", uuid ? uuid : "");
    return true;
}

static const tr_dump_t *sess_dump(const tr_sess_t *s)
{
    return s->state == TR_SESS_DUMP ? s->dump : NULL;
}

static void sess_hold(tr_sess_t *s)
{
    TR_ASSERT(!s->held);
    s->held = true;
    s->refs++;
    if (s->conn != NULL) {
        tr_conn_pause(s->conn);
    }
}

static bool sess_is_live(const tr_sess_t *s)
{
    return s->state != TR_SESS_CLOSING && s->conn != NULL;
}

static void sess_unhold(tr_sess_t *s)
{
    TR_ASSERT(s->held);
    s->held = false;
    if (sess_is_live(s)) {
        flush(s);
    }
    if (sess_is_live(s)) {
        tr_conn_resume(s->conn);
        if (tr_buf_unread(tr_conn_input(s->conn)) > 0) {
            on_data(s->conn, s); /* statements the client sent meanwhile */
        }
    } else {
        tr_buf_reset(&s->out);
    }
    sess_unref(s);
}

/* An operator statement answered off the loop (server/admin.h tr_admin_reply_t). */
static void admin_defer(void *ctx)
{
    sess_hold(ctx);
}

static void admin_deliver(void *ctx, const tr_buf_t *answer, uint8_t seq)
{
    tr_sess_t *s = ctx;
    if (sess_is_live(s)) {
        tr_buf_append(&s->out, tr_buf_head(answer), tr_buf_unread(answer));
        s->seq = seq;
    }
    sess_unhold(s); /* may free s */
}

/* ---------------------------------------------------------------- commands */

/* The session as a dump's sink (server/dump.h tr_dump_sink_t). */
static const char *sink_uvar(void *ctx, const char *name)
{
    return sess_uvar(ctx, name);
}

static int sink_send(void *ctx, tr_buf_t *b)
{
    return sess_send(ctx, b);
}

static int sink_send_ref(void *ctx, const uint8_t *p, size_t len, void (*release)(void *ref),
                         void *ref)
{
    return sess_send_ref(ctx, p, len, release, ref);
}

static size_t sink_queued(void *ctx)
{
    return sess_queued_bytes(ctx);
}

static bool sink_offload(void *ctx)
{
    return sess_offload(ctx);
}

static void sink_fail(void *ctx, uint16_t code, const char *msg)
{
    sess_fail(ctx, code, "%s", msg);
}

static void sink_close(void *ctx, bool flush)
{
    sess_close(ctx, flush);
}

static void start_dump(tr_sess_t *s, const tr_cmd_dump_t *d, bool is_gtid)
{
    const char *state = is_gtid ? NULL : sess_uvar(s, "slave_connect_state");
    const char *file = (const char *)d->file.p;
    size_t file_len = d->file.len;
    uint64_t pos = d->pos;
    if (state != NULL && s->flavor == TR_FLAVOR_MYSQL) {
        /* MariaDB GTID positioning needs the MariaDB file set (mariadb-listen). */
        if (state[0] != '\0') {
            sess_fail(s, TR_ER_MASTER_FATAL_READ,
                         "MariaDB GTID positioning (@slave_connect_state='%.64s') is served on "
                         "tirelay's MariaDB listener (mariadb-listen); use MASTER_USE_GTID=no here",
                         state);
            return;
        }
        /* An empty state means: from the start of every binlog (spec 4.5). */
        file = "";
        file_len = 0;
        pos = 4;
    }
    sess_log(TR_LOG_INFO, s,
             "binlog dump requested file=%.*s pos=%" PRIu64 " flags=0x%x replica_server_id=%" PRIu32,
             (int)file_len, file, pos, (unsigned)d->flags, d->server_id);
    s->state = TR_SESS_DUMP;
    if (d->server_id != 0) {
        /* One dump per replica server_id: the newcomer replaces the old one
         * (MySQL kill_zombie_dump_threads, spec 4.4). Per listener: each listener is a
         * primary of its own, so one server_id may follow both. */
        for (tr_sess_t *o = s->srv->sessions; o != NULL; o = o->next) {
            if (o != s && o->state == TR_SESS_DUMP && o->dump_server_id == d->server_id &&
                o->flavor == s->flavor) {
                sess_log(TR_LOG_INFO, o, "replaced by a new dump server_id=%" PRIu32 " new_sess=%" PRIu32,
                         d->server_id, s->id);
                sess_fail(o, TR_ER_MASTER_FATAL_READ,
                             "A slave with the same server_uuid/server_id as this slave has "
                             "connected to the master");
            }
        }
    }
    s->dump_server_id = d->server_id;
    tr_dump_sink_t sink = {s, s->id, sess_peer(s), s->flavor, &s->seq, sink_uvar,
                           sink_send, sink_send_ref, sink_queued, sink_offload, sink_fail,
                           sink_close};
    tr_dump_t *dump = is_gtid ? tr_dump_start_gtid(s->srv, &sink, d->flags, d->server_id, file,
                                                   file_len, pos, d->gtid_data.p, d->gtid_data.len)
                              : tr_dump_start(s->srv, &sink, pos, d->flags, d->server_id, file,
                                              file_len);
    if (dump == NULL) {
        return;
    }
    if (s->state == TR_SESS_CLOSING) {
        /* The first write failed and closed the session: release the dump. */
        tr_dump_close(dump, NULL, NULL);
        return;
    }
    s->dump = dump;
    s->refs++;
    tr_dump_run(dump);
}

static void handle_command(tr_sess_t *s, const uint8_t *p, size_t len)
{
    tr_cmd_t c;
    const char *why = NULL;
    if (tr_cmd_decode(p, len, &c, &why) < 0) {
        sess_fail(s, TR_ER_PARSE, "malformed command packet: %s", why);
        return;
    }
    switch (c.com) {
    case TR_COM_QUIT:
        tr_sess_close(s);
        return;
    case TR_COM_PING:
    case TR_COM_RESET_CONNECTION:
        put_ok(s);
        return;
    case TR_COM_INIT_DB:
        if (select_db(s, (const char *)c.u.text.p, c.u.text.len)) {
            put_ok(s);
        } else {
            put_err(s, TR_ER_BAD_DB, "Unknown database '%.*s'",
                    (int)(c.u.text.len < 200 ? c.u.text.len : 200), (const char *)c.u.text.p);
        }
        return;
    case TR_COM_QUERY:
        handle_queries(s, c.u.text);
        return;
    case TR_COM_PROCESS_KILL:
        answer_kill(s, c.u.kill_id);
        return;
    case TR_COM_REGISTER_SLAVE:
        s->registered = true;
        s->replica_server_id = c.u.reg.server_id;
        s->replica_port = c.u.reg.port;
        s->replica_master_id = c.u.reg.master_id;
        snprintf(s->replica_host, sizeof(s->replica_host), "%.*s", (int)c.u.reg.host.len,
                 (const char *)c.u.reg.host.p);
        sess_log(TR_LOG_INFO, s, "replica registered server_id=%" PRIu32 " port=%u",
                 c.u.reg.server_id, (unsigned)c.u.reg.port);
        put_ok(s);
        return;
    case TR_COM_BINLOG_DUMP:
        flush(s);
        start_dump(s, &c.u.dump, false);
        return;
    case TR_COM_BINLOG_DUMP_GTID:
        flush(s);
        start_dump(s, &c.u.dump, true);
        return;
    default:
        put_err(s, TR_ER_UNKNOWN_COM, "Unknown command");
        return;
    }
}

/* ---------------------------------------------------------------- authentication */

/*
 * Connection phase (spec 2.1-2.7). The greeting names the listener's plugin:
 * caching_sha2_password on the MySQL listener (MySQL 8.0's default),
 * mysql_native_password on the MariaDB listener. Every user has both
 * verifiers, so each behaves like an account of whichever of the two plugins
 * the client prefers: a response for the greeting's plugin is checked at
 * once; a client that answers with the other one (whose data a server must
 * not use: it was not made for this nonce) gets an AuthSwitchRequest to that
 * plugin with a fresh nonce, as MySQL and MariaDB do when the account's
 * plugin differs (sql_authentication.cc / sql_acl.cc server_mpvio_read_packet);
 * MariaDB replicas and libmariadb's --default-auth=mysql_native_password take
 * this path on the MySQL listener. Any other plugin is switched to the
 * listener's.
 *
 * caching_sha2_password: fast path when the user's cache flag is set (all of
 * them unless [server] caching-sha2-prefill = off, else after one full login,
 * as MySQL); otherwise the full path: 0x01 0x04, then the password in clear
 * over TLS, or (without TLS) an optional 0x02 public-key request answered with
 * 0x01 + PEM and the RSA-encrypted password. An unknown user takes the same
 * path a known one would and ends in the same ERR 1045.
 */

#define TR_ER_SECURE_TRANSPORT_REQUIRED 3159

typedef enum {
    AUTH_SWITCHED = 1, /* waiting for the answer to an AuthSwitchRequest */
    AUTH_SHA2_FULL,    /* sent 0x01 0x04: password, or 0x02 without TLS */
    AUTH_SHA2_RSA,     /* sent the public key: RSA ciphertext */
} auth_step_t;

/* The peer entry of ip, taking the free or least recently failing slot. */
static tr_auth_peer_t *auth_peer(tr_server_t *srv, const char *ip)
{
    tr_auth_peer_t *victim = &srv->auth_peers[0];
    for (size_t i = 0; i < TR_SRV_AUTH_PEERS; i++) {
        tr_auth_peer_t *p = &srv->auth_peers[i];
        if (strcmp(p->ip, ip) == 0) {
            return p;
        }
        if (victim->ip[0] != '\0' &&
            (p->ip[0] == '\0' || (p->delayed == 0 && p->last_fail_ms < victim->last_fail_ms))) {
            victim = p;
        }
    }
    memset(victim, 0, sizeof(*victim));
    snprintf(victim->ip, sizeof(victim->ip), "%s", ip);
    return victim;
}

static tr_auth_peer_t *sess_auth_peer(tr_sess_t *s)
{
    return auth_peer(s->srv, s->conn != NULL ? tr_conn_peer_ip(s->conn) : "?");
}

static void deny_timer_cancel(tr_sess_t *s)
{
    if (s->deny_timer == NULL) {
        return;
    }
    tr_auth_peer_t *p = sess_auth_peer(s);
    if (p->delayed > 0) {
        p->delayed--;
    }
    (void)uv_timer_stop(s->deny_timer);
    uv_close((uv_handle_t *)s->deny_timer, on_deny_timer_closed);
    s->deny_timer = NULL;
}

static void on_deny_timer(uv_timer_t *t)
{
    tr_sess_t *s = t->data;
    deny_timer_cancel(s); /* closes the timer (the session keeps its ref until then) */
    if (s->state == TR_SESS_CLOSING || s->conn == NULL) {
        return;
    }
    /* Counted for the peer, not logged: the session closes quietly after the ERR. */
    put_err(s, TR_ER_ACCESS_DENIED, "%s", s->deny_msg);
    flush(s);
    sess_finish(s);
}

static void deny(tr_sess_t *s, bool used_password)
{
    const char *ip = s->conn ? tr_conn_peer_ip(s->conn) : "";
    char msg[sizeof(s->deny_msg)];
    snprintf(msg, sizeof(msg), "Access denied for user '%s'@'%s' (using password: %s)", s->user,
             ip, used_password ? "YES" : "NO");
    tr_auth_peer_t *p = sess_auth_peer(s);
    uint64_t now = uv_now(s->srv->loop);
    if (p->fails > 0 && now - p->last_fail_ms > TR_SRV_AUTH_WINDOW_MS) {
        if (p->unreported > 0) {
            tr_log_warn("sess", "failed logins from peer while throttled count=%" PRIu32
                                " peer_ip=%s",
                        p->unreported, p->ip);
        }
        p->fails = 0;
        p->unreported = 0;
        p->throttled = false;
    }
    p->fails++;
    p->last_fail_ms = now;
    if (p->fails <= TR_SRV_AUTH_FREE_FAILS) {
        sess_fail(s, TR_ER_ACCESS_DENIED, "%s", msg);
        return;
    }
    if (!p->throttled) {
        p->throttled = true;
        p->reported_ms = now;
        tr_log_warn("sess",
                    "repeated failed logins from peer, throttling: each further failure is "
                    "answered %d ms late and counted, not logged fails=%" PRIu32
                    " peer_ip=%s last_user=%s",
                    TR_SRV_AUTH_DELAY_MS, p->fails, p->ip, s->user);
    } else {
        p->unreported++;
        if (now - p->reported_ms >= TR_SRV_AUTH_WINDOW_MS) {
            tr_log_warn("sess", "failed logins from peer while throttled count=%" PRIu32
                                " peer_ip=%s",
                        p->unreported, p->ip);
            p->unreported = 0;
            p->reported_ms = now;
        }
    }
    if (s->conn == NULL || p->delayed >= TR_SRV_AUTH_MAX_DELAYED) {
        put_err(s, TR_ER_ACCESS_DENIED, "%s", msg);
        flush(s);
        sess_finish(s);
        return;
    }
    snprintf(s->deny_msg, sizeof(s->deny_msg), "%s", msg);
    s->deny_timer = tr_malloc(sizeof(*s->deny_timer));
    (void)uv_timer_init(s->srv->loop, s->deny_timer);
    s->deny_timer->data = s;
    s->refs++; /* dropped when the timer handle is closed */
    p->delayed++;
    (void)uv_timer_start(s->deny_timer, on_deny_timer, TR_SRV_AUTH_DELAY_MS, 0);
}

static bool is_tls(const tr_sess_t *s)
{
    return s->conn != NULL && tr_conn_is_tls(s->conn);
}

static void auth_ok(tr_sess_t *s, const char *how)
{
    if (s->db[0] != '\0') {
        /* CLIENT_CONNECT_WITH_DB: MySQL and MariaDB change to it once the account is
         * authenticated; an unknown database ends the login with ERR 1049. */
        char want[sizeof(s->db)];
        snprintf(want, sizeof(want), "%s", s->db);
        s->db[0] = '\0';
        if (!select_db(s, want, strlen(want))) {
            sess_fail(s, TR_ER_BAD_DB, "Unknown database '%.200s'", want);
            return;
        }
    }
    s->state = TR_SESS_COMMAND;
    put_ok(s);
    const char *ver = s->conn ? tr_conn_tls_version(s->conn) : NULL;
    sess_log(TR_LOG_INFO, s, "client authenticated user=%s plugin=%s path=%s tls=%s", s->user,
             s->auth_plugin, how, ver ? ver : "off");
}

/* The configured user, or NULL (unknown, or the anonymous empty name). */
static const tr_user_t *auth_user(const tr_sess_t *s)
{
    return s->user[0] == '\0' ? NULL : tr_config_user(s->srv->cfg, s->user);
}

static bool *sha2_cache_flag(tr_sess_t *s, const tr_user_t *u)
{
    return &s->srv->sha2_cached[u - s->srv->cfg->users];
}

static void new_scramble(tr_sess_t *s)
{
    if (RAND_bytes(s->scramble, TR_SCRAMBLE_LEN) != 1) {
        /* RAND_bytes failing is a broken invariant of the process. */
        tr_fatal("sess", "RAND_bytes failed");
    }
    tr_hs_scramble_sanitize(s->scramble);
}

static void check_native(tr_sess_t *s, const uint8_t *resp, size_t resp_len)
{
    const tr_user_t *u = auth_user(s);
    bool empty = tr_auth_is_empty_response(resp, resp_len);
    bool ok = false;
    if (u != NULL) {
        if (u->empty_password) {
            ok = empty;
        } else if (!empty) {
            ok = tr_auth_native_verify(s->scramble, u->native_hash, resp, resp_len) == 0;
        }
    }
    if (!ok) {
        deny(s, !empty);
        return;
    }
    auth_ok(s, "scramble");
}

/* First caching_sha2_password response (scramble of the current nonce). */
static void check_sha2(tr_sess_t *s, const uint8_t *resp, size_t resp_len)
{
    const tr_user_t *u = auth_user(s);
    bool empty = tr_auth_is_empty_response(resp, resp_len);
    if (empty) {
        /* MySQL: an empty response is only right for an empty password; no
         * fast/full path marker. */
        if (u != NULL && u->empty_password) {
            auth_ok(s, "empty");
        } else {
            deny(s, false);
        }
        return;
    }
    bool cached = u != NULL ? *sha2_cache_flag(s, u) : s->srv->cfg->caching_sha2_prefill;
    if (cached) {
        if (u == NULL || u->empty_password ||
            tr_auth_sha2_verify(s->scramble, u->sha2_hash, resp, resp_len) != 0) {
            deny(s, true);
            return;
        }
        const uint8_t fast = TR_AUTH_SHA2_FAST_OK;
        size_t h = tr_wire_begin(&s->out);
        tr_hs_auth_more_encode(&s->out, &fast, 1);
        tr_wire_end(&s->out, h, &s->seq);
        auth_ok(s, "fast");
        return;
    }
    const uint8_t full = TR_AUTH_SHA2_FULL;
    size_t h = tr_wire_begin(&s->out);
    tr_hs_auth_more_encode(&s->out, &full, 1);
    tr_wire_end(&s->out, h, &s->seq);
    s->auth_step = AUTH_SHA2_FULL;
    s->state = TR_SESS_AUTH_SWITCH; /* later auth packets: handle_auth_more */
}

/* Full path: the password itself (over TLS, or after RSA decryption). */
static void check_sha2_cleartext(tr_sess_t *s, const uint8_t *pw, size_t len, const char *how)
{
    const tr_user_t *u = auth_user(s);
    bool ok = false;
    if (u != NULL) {
        ok = u->empty_password ? len == 0 : tr_auth_sha2_check_cleartext(u->sha2_hash, pw, len) == 0;
    }
    if (!ok) {
        deny(s, true);
        return;
    }
    *sha2_cache_flag(s, u) = true;
    auth_ok(s, how);
}

static void handle_sha2_full(tr_sess_t *s, const uint8_t *p, size_t len)
{
    tr_auth_sha2_msg_t m;
    const char *why = NULL;
    if (tr_auth_sha2_msg_decode(p, len, is_tls(s), &m, &why) < 0) {
        sess_log(TR_LOG_DEBUG, s, "bad caching_sha2_password full-auth packet: %s", why);
        deny(s, true);
        return;
    }
    switch (m.kind) {
    case TR_AUTH_SHA2_MSG_CLEARTEXT: {
        /* The password itself: checked from a copy, and the packet bytes (our
         * input buffer) wiped first, so no clear copy outlives this call. A
         * password longer than a config line cannot match anyway. */
        uint8_t pw[256];
        size_t n = m.len <= sizeof(pw) ? m.len : 0;
        memcpy(pw, m.p, n);
        OPENSSL_cleanse((void *)(uintptr_t)m.p, m.len);
        if (m.len > sizeof(pw)) {
            deny(s, true);
            return;
        }
        check_sha2_cleartext(s, pw, n, "full-tls");
        OPENSSL_cleanse(pw, sizeof(pw));
        return;
    }
    case TR_AUTH_SHA2_MSG_REQUEST_KEY: {
        if (s->auth_step != AUTH_SHA2_FULL) {
            deny(s, true); /* asked twice */
            return;
        }
        size_t pem_len = 0;
        const char *pem = tr_tls_rsa_public_pem(s->srv->tls, &pem_len);
        size_t h = tr_wire_begin(&s->out);
        tr_hs_auth_more_encode(&s->out, pem, pem_len);
        tr_wire_end(&s->out, h, &s->seq);
        s->auth_step = AUTH_SHA2_RSA;
        return;
    }
    case TR_AUTH_SHA2_MSG_RSA: {
        uint8_t plain[TR_AUTH_SHA2_MAX_RSA_LEN];
        size_t n = 0;
        if (tr_tls_rsa_decrypt(s->srv->tls, m.p, m.len, plain, sizeof(plain), &n) != 0) {
            sess_log(TR_LOG_DEBUG, s, "RSA-encrypted password does not decrypt len=%zu", m.len);
            deny(s, true);
            return;
        }
        const tr_user_t *u = auth_user(s);
        bool ok = false;
        if (u != NULL && !u->empty_password) {
            ok = tr_auth_sha2_check_rsa_plain(u->sha2_hash, s->scramble, plain, n) == 0;
        } else if (u != NULL) {
            /* empty password: plain is just NUL ^ scramble[0] */
            ok = n == 1 && (plain[0] ^ s->scramble[0]) == 0;
        }
        OPENSSL_cleanse(plain, sizeof(plain));
        if (!ok) {
            deny(s, true);
            return;
        }
        *sha2_cache_flag(s, u) = true;
        auth_ok(s, "full-rsa");
        return;
    }
    }
}

/* Answers with an AuthSwitchRequest to plugin, with a fresh nonce (spec 2.6). */
static void auth_switch(tr_sess_t *s, const char *plugin)
{
    s->auth_plugin = plugin;
    new_scramble(s);
    size_t h = tr_wire_begin(&s->out);
    tr_hs_auth_switch_encode(&s->out, plugin, s->scramble);
    tr_wire_end(&s->out, h, &s->seq);
    s->auth_step = AUTH_SWITCHED;
    s->state = TR_SESS_AUTH_SWITCH;
}

/*
 * The plugin the client's auth data was made for: mysql_native_password or
 * caching_sha2_password, or NULL for a name we do not serve (an empty one
 * included). Without CLIENT_PLUGIN_AUTH it is the 4.1 native scramble. A
 * client that sets CLIENT_PLUGIN_AUTH but sends no name field follows each
 * flavour's server: MySQL reads the missing name as "" and switches to the
 * account's plugin (sql_authentication.cc parse_client_handshake_packet);
 * MariaDB takes the data as a native scramble ("some clients lie", sql_acl.cc
 * parse_client_handshake_packet).
 */
static const char *client_plugin(const tr_sess_t *s, const tr_hs_response_t *r)
{
    if (!(r->caps & TR_CLIENT_PLUGIN_AUTH)) {
        return TR_AUTH_NATIVE;
    }
    if (!r->has_auth_plugin) {
        return s->flavor == TR_FLAVOR_MARIADB ? TR_AUTH_NATIVE : NULL;
    }
    if (tr_sql_eq(r->auth_plugin, TR_AUTH_NATIVE)) {
        return TR_AUTH_NATIVE;
    }
    if (tr_sql_eq(r->auth_plugin, TR_AUTH_SHA2)) {
        return TR_AUTH_SHA2;
    }
    return NULL;
}

static void handle_auth(tr_sess_t *s, const uint8_t *p, size_t len)
{
    tr_hs_response_t r;
    const char *why = NULL;
    if (tr_hs_response_decode(p, len, &r, &why) < 0) {
        sess_fail(s, TR_ER_HANDSHAKE, "Bad handshake (%s)", why);
        return;
    }
    if (r.is_ssl_request) {
        if (!tr_tls_enabled(s->srv->tls) || is_tls(s)) {
            sess_fail(s, TR_ER_HANDSHAKE, "Bad handshake (%s)",
                         is_tls(s) ? "second SSLRequest" : "TLS is not configured");
            return;
        }
        /* The TLS handshake starts once this packet is consumed (on_data). */
        s->start_tls = true;
        return;
    }
    snprintf(s->user, sizeof(s->user), "%.*s", (int)r.user.len, (const char *)r.user.p);
    if (s->srv->cfg->require_tls && !is_tls(s)) {
        sess_fail(s, TR_ER_SECURE_TRANSPORT_REQUIRED,
                     "Connections using insecure transport are prohibited while "
                     "--require_secure_transport=ON.");
        return;
    }
    s->caps = r.caps & (TR_SERVER_CAPS | TR_CLIENT_SSL);
    if (r.database.len > 0) {
        snprintf(s->db, sizeof(s->db), "%.*s", (int)r.database.len, (const char *)r.database.p);
    }
    const char *client = client_plugin(s, &r);
    if (client != NULL && strcmp(client, s->auth_plugin) == 0) {
        /* The greeting's plugin: its data answers our nonce. */
        if (strcmp(client, TR_AUTH_SHA2) == 0) {
            check_sha2(s, r.auth_response.p, r.auth_response.len);
        } else {
            check_native(s, r.auth_response.p, r.auth_response.len);
        }
        return;
    }
    if (!(r.caps & TR_CLIENT_PLUGIN_AUTH)) {
        /* A pre-plugin client (4.1 native scramble) on the caching_sha2_password
         * greeting: it cannot be switched, and its account has the native verifier. */
        s->auth_plugin = TR_AUTH_NATIVE;
        check_native(s, r.auth_response.p, r.auth_response.len);
        return;
    }
    /* The client's data was not made for the greeting's plugin (libmariadb even sends
     * it empty), or it named no plugin we know (empty, or e.g. client_ed25519):
     * switch to its plugin when we have it, else to the listener's. */
    const char *to = client != NULL ? client : s->auth_plugin;
    sess_log(TR_LOG_DEBUG, s, "auth switch from=%.*s to=%s", (int)r.auth_plugin.len,
             (const char *)r.auth_plugin.p, to);
    auth_switch(s, to);
}

/* Every auth-phase packet after the HandshakeResponse. */
static void handle_auth_more(tr_sess_t *s, const uint8_t *p, size_t len)
{
    switch ((auth_step_t)s->auth_step) {
    case AUTH_SWITCHED:
        if (strcmp(s->auth_plugin, TR_AUTH_SHA2) == 0) {
            check_sha2(s, p, len);
        } else {
            check_native(s, p, len);
        }
        return;
    case AUTH_SHA2_FULL:
    case AUTH_SHA2_RSA:
        handle_sha2_full(s, p, len);
        return;
    }
    deny(s, len > 0);
}

/* ---------------------------------------------------------------- input loop */

static void on_data(tr_conn_t *c, void *arg)
{
    tr_sess_t *s = arg;
    tr_buf_t *in = tr_conn_input(c);
    uint8_t *gather = NULL;
    /* A held answer or a delayed denial is pending: read nothing more meanwhile. */
    while (s->state != TR_SESS_CLOSING && !s->held && s->deny_timer == NULL) {
        tr_wire_packet_t pkt;
        const char *why = NULL;
        ssize_t n = tr_wire_packet_decode(tr_buf_head(in), tr_buf_unread(in), TR_SRV_MAX_PACKET,
                                          &pkt, &why);
        if (n == TR_EINCOMPLETE) {
            break;
        }
        if (n < 0) {
            sess_fail(s, TR_ER_NET_PACKETS_OUT_OF_ORDER, "bad packet: %s", why);
            break;
        }
        const uint8_t *payload = pkt.payload.p;
        if (pkt.n_frames > 1) {
            gather = tr_realloc(gather, pkt.payload_len + 1);
            tr_wire_packet_gather(tr_buf_head(in), &pkt, gather);
            payload = gather;
        }
        s->seq = (uint8_t)(pkt.last_seq + 1);
        switch (s->state) {
        case TR_SESS_AUTH:
            handle_auth(s, payload, pkt.payload_len);
            break;
        case TR_SESS_AUTH_SWITCH:
            handle_auth_more(s, payload, pkt.payload_len);
            break;
        case TR_SESS_COMMAND:
            handle_command(s, payload, pkt.payload_len);
            break;
        case TR_SESS_DUMP:
            /* Replicas send nothing during a dump but COM_QUIT (semi-sync ACKs
             * later); anything else is ignored, as MySQL does. */
            if (pkt.payload_len >= 1 && payload[0] == TR_COM_QUIT) {
                tr_sess_close(s);
            }
            break;
        case TR_SESS_CLOSING:
            break;
        }
        in->off += (size_t)n;
        flush(s);
        if (s->start_tls) {
            /* After the SSLRequest: the remaining input is the TLS ClientHello. */
            s->start_tls = false;
            int rc = tr_conn_start_tls(c, s->srv->tls);
            if (rc != 0) {
                const char *tw = tr_conn_tls_error(c);
                s->srv->errors[TR_SRV_ERR_TLS]++;
                sess_log(TR_LOG_WARN, s, "TLS handshake failed err=%s tls_err=%s", tr_strerror(rc),
                         tw ? tw : "-");
                sess_finish(s); /* flushes the alert, if OpenSSL made one */
                break;
            }
        }
    }
    tr_free(gather);
    if (s->conn != NULL && s->state != TR_SESS_CLOSING) {
        tr_buf_compact(in);
        if (tr_buf_unread(in) == 0 && in->cap > 0) {
            /* Nothing pending (between statements; a dump's replica sends
             * nothing): keep no read buffer, the next read reserves one. */
            size_t limit = in->limit;
            tr_buf_cleanup(in);
            in->limit = limit;
        }
    }
}

static void on_drain(tr_conn_t *c, int status, void *arg)
{
    tr_sess_t *s = arg;
    if (status < 0) {
        sess_log(TR_LOG_INFO, s, "write failed, closing err=%s", tr_strerror(status));
        tr_sess_close(s);
        return;
    }
    if (s->state == TR_SESS_DUMP && s->dump != NULL) {
        tr_dump_proceed(s->dump);
    }
}

/* Text of a libuv/errno code or a project code (the connection reports both). */
static const char *status_text(int status)
{
    return status <= -1000 && status > -2000 ? tr_strerror(status) : uv_strerror(status);
}

static void on_error(tr_conn_t *c, int status, void *arg)
{
    tr_sess_t *s = arg;
    const char *tw = tr_conn_tls_error(c);
    sess_log(s->quiet ? TR_LOG_DEBUG : status == UV_EOF ? TR_LOG_INFO : TR_LOG_WARN, s,
             "client disconnected state=%s err=%s%s%s", tr_sess_state_name(s->state),
             status_text(status), tw ? " tls_err=" : "", tw ? tw : "");
    if (tw != NULL) {
        sess_finish(s); /* let the TLS alert already queued reach the peer */
    } else {
        tr_sess_close(s);
    }
}

static const tr_conn_cbs_t conn_cbs = {on_data, on_drain, on_error, on_conn_closed};

void tr_sess_accept(tr_server_t *srv, uv_stream_t *listener, tr_flavor_t flavor)
{
    tr_sess_t *s = tr_calloc(1, sizeof(*s));
    s->srv = srv;
    s->flavor = flavor;
    s->state = TR_SESS_AUTH;
    s->id = ++srv->next_conn_id;
    s->refs = 1;
    s->status = TR_SERVER_STATUS_AUTOCOMMIT;
    tr_buf_init(&s->out, 0);
    int rc = tr_conn_accept(listener, &conn_cbs, s, TR_SRV_MAX_PACKET + 2 * 65536, &s->conn);
    if (rc != 0) {
        tr_log_warn("sess", "accept failed err=%s", tr_strerror(rc));
        tr_buf_cleanup(&s->out);
        tr_free(s);
        return;
    }
    sess_link(s);
    const char *ip = tr_conn_peer_ip(s->conn);
    for (size_t i = 0; i < TR_SRV_AUTH_PEERS; i++) {
        if (srv->auth_peers[i].throttled && strcmp(srv->auth_peers[i].ip, ip) == 0) {
            s->quiet = true;
        }
    }
    sess_log(s->quiet ? TR_LOG_DEBUG : TR_LOG_INFO, s, "client connected%s", "");
    new_scramble(s);
    /* MySQL 8.0 greets with caching_sha2_password, MariaDB with native. */
    s->auth_plugin = flavor == TR_FLAVOR_MYSQL ? TR_AUTH_SHA2 : TR_AUTH_NATIVE;
    uint32_t caps = TR_SERVER_CAPS | (tr_tls_enabled(srv->tls) ? TR_CLIENT_SSL : 0);
    tr_hs_greeting_t g = {flavor == TR_FLAVOR_MARIADB ? TR_SRV_MARIA_VERSION_HANDSHAKE
                                                      : TR_SRV_VERSION_HANDSHAKE,
                          s->id,                    s->scramble,
                          caps,                     CHARSET_UTF8MB4_GENERAL, TR_SERVER_STATUS_AUTOCOMMIT,
                          s->auth_plugin};
    s->seq = 0;
    size_t h = tr_wire_begin(&s->out);
    tr_hs_greeting_encode(&s->out, &g);
    tr_wire_end(&s->out, h, &s->seq);
    flush(s);
}

void tr_sess_each(tr_server_t *srv, bool (*fn)(void *arg, const tr_sess_info_t *s), void *arg)
{
    for (tr_sess_t *s = srv->sessions; s != NULL; s = s->next) {
        if (s->state == TR_SESS_CLOSING) {
            continue;
        }
        tr_sess_info_t info;
        memset(&info, 0, sizeof(info));
        info.id = s->id;
        info.flavor = s->flavor;
        info.user = s->user;
        info.peer = sess_peer(s);
        info.is_replica = sess_replica(s, &info.replica);
        info.dump = sess_dump(s);
        if (!fn(arg, &info)) {
            return;
        }
    }
}

void tr_sess_notify_all(tr_server_t *srv)
{
    for (tr_sess_t *s = srv->sessions; s != NULL;) {
        tr_sess_t *next = s->next; /* notify may close s (not free it) */
        tr_sess_notify(s);
        s = next;
    }
}

void tr_sess_close_all(tr_server_t *srv)
{
    for (tr_sess_t *s = srv->sessions; s != NULL; s = s->next) {
        tr_sess_close(s);
    }
}

void tr_sess_notify(tr_sess_t *s)
{
    if (s->state == TR_SESS_DUMP && s->dump != NULL) {
        tr_dump_notify(s->dump);
    }
}
