/*
 * Reads TiDB's DDL history over its SQL port with libmariadb and feeds each
 * job to the schema tracker:
 *   SELECT job_id, job_meta FROM mysql.tidb_ddl_history WHERE job_id > N ORDER BY job_id
 * Blocking (connect 5 s, read/write 30 s timeouts): call on the writer thread,
 * never on the loop. The only file that includes mysql.h. Errors come back as
 * TR_EUPSTREAM with a why that stays valid until the next call; the
 * connection is dropped and made again on the next call.
 * Follows shared/spec/tidb-binlog.md 7.2-7.3 and DESIGN.md "Schema".
 */
#include "relay/schema_fetch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "common/err.h"
#include "common/mem.h"

struct tr_schema_fetch {
    const tr_config_t *cfg; /* keeps */
    MYSQL *conn;            /* NULL when not connected */
    char why[512];          /* last error text */
    tr_schema_fetch_sink_fn sink;
    void *sink_arg;
};

void tr_schema_fetch_set_sink(tr_schema_fetch_t *f, tr_schema_fetch_sink_fn fn, void *arg)
{
    f->sink = fn;
    f->sink_arg = arg;
}

tr_schema_fetch_t *tr_schema_fetch_new(const tr_config_t *cfg)
{
    tr_schema_fetch_t *f = tr_calloc(1, sizeof(*f));
    f->cfg = cfg;
    return f;
}

static void disconnect(tr_schema_fetch_t *f)
{
    if (f->conn != NULL) {
        mysql_close(f->conn);
        f->conn = NULL;
    }
}

void tr_schema_fetch_free(tr_schema_fetch_t *f)
{
    if (f == NULL) {
        return;
    }
    disconnect(f);
    tr_free(f);
}

static int fail(tr_schema_fetch_t *f, const char *what, const char **why)
{
    if (f->conn != NULL) {
        snprintf(f->why, sizeof(f->why), "%s: %s (%u)", what, mysql_error(f->conn),
                 mysql_errno(f->conn));
    } else {
        snprintf(f->why, sizeof(f->why), "%s", what);
    }
    disconnect(f);
    *why = f->why;
    return TR_EUPSTREAM;
}

static int do_connect(tr_schema_fetch_t *f, const char **why)
{
    const tr_config_t *c = f->cfg;
    if (c->tidb.host[0] == '\0') {
        return fail(f, "no [upstream] tidb endpoint configured", why);
    }
    f->conn = mysql_init(NULL);
    if (f->conn == NULL) {
        return fail(f, "mysql_init failed", why);
    }
    unsigned int connect_s = 5;
    unsigned int rw_s = 30;
    if (mysql_optionsv(f->conn, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s) != 0 ||
        mysql_optionsv(f->conn, MYSQL_OPT_READ_TIMEOUT, &rw_s) != 0 ||
        mysql_optionsv(f->conn, MYSQL_OPT_WRITE_TIMEOUT, &rw_s) != 0 ||
        mysql_optionsv(f->conn, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0) {
        return fail(f, "cannot set connection options", why);
    }
    if (mysql_real_connect(f->conn, c->tidb.host, c->tidb_user, c->tidb_password, NULL,
                           c->tidb.port, NULL, 0) == NULL) {
        char what[320];
        snprintf(what, sizeof(what), "cannot connect to TiDB at %s:%u", c->tidb.host,
                 (unsigned)c->tidb.port);
        return fail(f, what, why);
    }
    return 0;
}

int tr_schema_fetch_new_jobs(tr_schema_fetch_t *f, tr_schema_t *s, const char **why)
{
    if (f->conn == NULL && do_connect(f, why) != 0) {
        return TR_EUPSTREAM;
    }
    char sql[160];
    int n = snprintf(sql, sizeof(sql),
                     "SELECT job_id, job_meta FROM mysql.tidb_ddl_history WHERE job_id > %" PRId64
                     " ORDER BY job_id",
                     tr_schema_max_job_id(s));
    if (mysql_real_query(f->conn, sql, (unsigned long)n) != 0) {
        return fail(f, "DDL history query failed", why);
    }
    /* use_result streams rows: the history can be large on old clusters. */
    MYSQL_RES *res = mysql_use_result(f->conn);
    if (res == NULL) {
        return fail(f, "DDL history query returned no result", why);
    }
    if (mysql_num_fields(res) < 2) {
        mysql_free_result(res);
        return fail(f, "DDL history result has fewer than 2 columns", why);
    }
    int added = 0;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        unsigned long *lens = mysql_fetch_lengths(res);
        if (row[0] == NULL || row[1] == NULL || lens == NULL) {
            continue;
        }
        char *end = NULL;
        long long job_id = strtoll(row[0], &end, 10);
        if (end == row[0] || job_id <= 0) {
            mysql_free_result(res);
            return fail(f, "DDL history row with a bad job_id", why);
        }
        const char *jwhy = NULL;
        int rc = tr_schema_add_job(s, (int64_t)job_id, row[1], lens[1], &jwhy);
        if (rc != 0) {
            snprintf(f->why, sizeof(f->why), "DDL job %lld: %s", job_id,
                     jwhy != NULL ? jwhy : tr_strerror(rc));
            mysql_free_result(res);
            disconnect(f);
            *why = f->why;
            return TR_EUPSTREAM;
        }
        if (f->sink != NULL) {
            f->sink(f->sink_arg, (int64_t)job_id, row[1], lens[1]);
        }
        added++;
    }
    bool failed = mysql_errno(f->conn) != 0;
    mysql_free_result(res);
    if (failed) {
        return fail(f, "reading the DDL history failed", why);
    }
    return added;
}
