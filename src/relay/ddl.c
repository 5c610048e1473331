/*
 * The DDL history of the relay (relay_internal.h declares the functions): jobs fetched
 * from TiDB and kept in the store, the schema brought to a transaction's version, and a
 * DDL binlog's statement for each flavour through the rewriter and the filter.
 */
#include "relay/ddl.h"

#include <inttypes.h>
#include <string.h>

#include "common/err.h"
#include "protocol/ddl_rewrite.h"

/* Every job fetched from TiDB's history goes to the store's schema_jobs table with the
 * next group commit (schema history survives restarts without TiDB). */
void tr_relay_keep_job(void *arg, int64_t job_id, const char *json, size_t len)
{
    tr_relay_t *r = arg;
    const tr_ddl_job_t *j = tr_schema_job(r->schema, job_id);
    tr_store_add_schema_job(r->store, job_id, j != NULL ? j->schema_version : 0, json, len);
}

/* Loads the schema history kept in the store (tr_relay_start, before the writer runs). */
int tr_relay_load_job(void *arg, int64_t job_id, const char *json, size_t len)
{
    tr_relay_t *r = arg;
    const char *why = NULL;
    int rc = tr_schema_add_job(r->schema, job_id, json, len, &why);
    if (rc != 0) {
        tr_log_error("schema", "stored DDL job cannot be read job_id=%" PRId64 ": %s", job_id,
                     why != NULL ? why : tr_strerror(rc));
    }
    return rc;
}

/* Fetches DDL history until `done` holds or the relay stops. Backs off on errors. */
int tr_relay_fetch_jobs(tr_relay_t *r)
{
    const char *why = NULL;
    int rc = tr_schema_fetch_new_jobs(r->fetch, r->schema, &why);
    if (rc < 0) {
        tr_relay_error(r, TR_UPSTREAM_ERR_SCHEMA, TR_LOG_WARN, "schema",
                       "cannot read DDL history: %s", why ? why : tr_strerror(rc));
    }
    return rc;
}

/* Makes sure DDL job job_id is known, polling the history with backoff (TiDB
 * writes the history row before the binlog, but a replica of it may lag). */
int tr_relay_wait_for_job(tr_relay_t *r, int64_t job_id)
{
    int delay_ms = 50;
    for (int attempt = 0;; attempt++) {
        if (tr_schema_job(r->schema, job_id) != NULL) {
            return 0;
        }
        if (tr_relay_is_stopping(r)) {
            return TR_ECLOSED;
        }
        (void)tr_relay_fetch_jobs(r);
        if (tr_schema_job(r->schema, job_id) != NULL) {
            return 0;
        }
        if (attempt == 20) {
            tr_log_warn("schema", "DDL job not in the history yet, still waiting job_id=%" PRId64,
                        job_id);
        }
        tr_relay_nap(r, delay_ms);
        delay_ms = delay_ms < 2000 ? delay_ms * 2 : 2000;
    }
}

/* Brings the schema to `version`, fetching newer jobs first when needed. */
int tr_relay_advance_schema(tr_relay_t *r, int64_t version)
{
    if (version > tr_schema_max_version(r->schema)) {
        (void)tr_relay_fetch_jobs(r);
    }
    const char *why = NULL;
    int rc = tr_schema_advance(r->schema, version, &why);
    if (rc != 0) {
        tr_relay_error(r, TR_UPSTREAM_ERR_SCHEMA, TR_LOG_ERROR, "schema",
                       "cannot apply DDL history up to version %" PRId64 ": %s", version,
                       why ? why : tr_strerror(rc));
    }
    return rc;
}

/* A DDL binlog: the statement each flavour writes (protocol/ddl_rewrite.h), or nothing.
 * Statements without a MySQL meaning are skipped (INFO); one the rewriter cannot make safe
 * goes by [upstream] ddl-unsupported: stop (error, the relay stops translating), skip
 * (WARN), pass (TiDB's text as is). Returns 0 with *write, or TR_EUNSUPPORTED. */
int tr_relay_prepare_ddl(tr_relay_t *r, const tr_tidb_binlog_t *b, const tr_ddl_job_t *job,
                       bool *write)
{
    const char *sql = (const char *)b->ddl_query.p;
    size_t len = b->ddl_query.len;
    if (len == 0) {
        sql = job->query;
        len = strlen(job->query);
    }
    int n_write = 0;
    int n_skip = 0;
    const char *skip_why = NULL;
    const char *bad_why = NULL;
    const char *bad_flavor = "";
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (!tr_store_flavor_enabled(r->store, (tr_flavor_t)f)) {
            continue;
        }
        tr_buf_reset(&r->ddl_sql[f]);
        const char *why = NULL;
        tr_ddl_verdict_t v = tr_ddl_rewrite(sql, len, (tr_flavor_t)f, &r->ddl_sql[f], &why);
        if (v == TR_DDL_WRITE && !tr_buf_ok(&r->ddl_sql[f])) {
            v = TR_DDL_UNSUPPORTED;
            why = "statement too large";
        }
        if (v == TR_DDL_WRITE) {
            n_write++;
        } else if (v == TR_DDL_SKIP) {
            n_skip++;
            skip_why = why;
        } else {
            bad_why = why;
            bad_flavor = tr_flavor_name((tr_flavor_t)f);
        }
    }
    if (bad_why == NULL && n_write > 0 && n_skip > 0) {
        bad_why = "one flavour has no meaning for it, the other does";
        bad_flavor = "both";
    }
    *write = false;
    if (bad_why != NULL) {
        switch ((tr_ddl_policy_t)r->cfg->ddl_unsupported) {
        case TR_DDL_POLICY_SKIP:
            tr_log_warn("relay",
                        "skipping a DDL a replica could not take (ddl-unsupported = skip): %s "
                        "flavor=%s job_id=%" PRId64 " commit_ts=%" PRId64 " query=%.*s",
                        bad_why, bad_flavor, b->ddl_job_id, b->commit_ts, (int)len, sql);
            return 0;
        case TR_DDL_POLICY_PASS:
            tr_log_warn("relay",
                        "writing a DDL as TiDB logged it although a replica may reject it "
                        "(ddl-unsupported = pass): %s flavor=%s job_id=%" PRId64 " query=%.*s",
                        bad_why, bad_flavor, b->ddl_job_id, (int)len, sql);
            for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
                tr_buf_reset(&r->ddl_sql[f]);
                tr_buf_append(&r->ddl_sql[f], sql, len);
            }
            *write = true;
            return 0;
        case TR_DDL_POLICY_STOP:
        default:
            tr_log_error("relay",
                         "DDL cannot be made safe for a replica, relay stopped before writing it: "
                         "%s flavor=%s job_id=%" PRId64 " commit_ts=%" PRId64 " query=%.*s "
                         "([upstream] ddl-unsupported = skip or pass lets it through)",
                         bad_why, bad_flavor, b->ddl_job_id, b->commit_ts, (int)len, sql);
            return TR_EUNSUPPORTED;
        }
    }
    if (n_write == 0) {
        tr_log_info("relay", "skipping a DDL without a MySQL meaning (%s) job_id=%" PRId64
                             " query=%.*s",
                    skip_why != NULL ? skip_why : "?", b->ddl_job_id, (int)len, sql);
        return 0;
    }
    *write = true;
    return 0;
}

/* [filter] on a DDL the rewriter lets through: names renamed in every flavour's statement
 * (relay/filter.h tr_filter_ddl_text). A RENAME or CREATE TABLES across the filter
 * boundary (cross_why) or a reference the filter cannot rewrite safely follows
 * [upstream] ddl-unsupported like any unsafe DDL: stop, skip, or pass (written with the
 * renames that could be made). */
int tr_relay_filter_ddl(tr_relay_t *r, const tr_tidb_binlog_t *b, const tr_ddl_job_t *job,
                      const char *cross_why, bool *write)
{
    const char *bad_why = cross_why;
    const char *db = job->schema_name;
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (!tr_store_flavor_enabled(r->store, (tr_flavor_t)f)) {
            continue;
        }
        tr_buf_reset(&r->ddl_tmp);
        const char *why = NULL;
        if (tr_filter_ddl_text(r->filter, db, (const char *)r->ddl_sql[f].data, r->ddl_sql[f].len,
                               &r->ddl_tmp, &why) != 0 &&
            bad_why == NULL) {
            bad_why = why;
        }
        if (!tr_buf_ok(&r->ddl_tmp)) {
            bad_why = "statement too large";
            continue;
        }
        tr_buf_t t = r->ddl_sql[f];
        r->ddl_sql[f] = r->ddl_tmp;
        r->ddl_tmp = t;
    }
    if (bad_why == NULL) {
        return 0;
    }
    const tr_buf_t *q = &r->ddl_sql[tr_store_flavor_enabled(r->store, TR_FLAVOR_MYSQL)
                                        ? TR_FLAVOR_MYSQL
                                        : TR_FLAVOR_MARIADB];
    switch ((tr_ddl_policy_t)r->cfg->ddl_unsupported) {
    case TR_DDL_POLICY_SKIP:
        tr_log_warn("relay",
                    "skipping a DDL the filter cannot apply safely (ddl-unsupported = skip): %s "
                    "job_id=%" PRId64 " commit_ts=%" PRId64 " query=%.*s",
                    bad_why, b->ddl_job_id, b->commit_ts, (int)q->len, (const char *)q->data);
        *write = false;
        return 0;
    case TR_DDL_POLICY_PASS:
        tr_log_warn("relay",
                    "writing a DDL the filter cannot apply safely, a replica may reject it "
                    "(ddl-unsupported = pass): %s job_id=%" PRId64 " query=%.*s",
                    bad_why, b->ddl_job_id, (int)q->len, (const char *)q->data);
        return 0;
    case TR_DDL_POLICY_STOP:
    default:
        tr_relay_error(r, TR_UPSTREAM_ERR_TRANSLATE, TR_LOG_ERROR, "relay",
                       "DDL cannot be filtered safely, relay stopped before writing it: %s "
                       "job_id=%" PRId64 " commit_ts=%" PRId64 " query=%.*s "
                       "([upstream] ddl-unsupported = skip or pass lets it through)",
                       bad_why, b->ddl_job_id, b->commit_ts, (int)q->len, (const char *)q->data);
        *write = false;
        return TR_EUNSUPPORTED;
    }
}
