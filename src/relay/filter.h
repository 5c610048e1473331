/*
 * Replication filter: which TiDB databases and tables reach the binlog files,
 * and under which names ([filter] in conf/tirelay.cnf).
 *
 * Rules are MySQL's replication filters applied at the source, with MySQL's
 * option names less the "replicate-" prefix: do-db, ignore-db, do-table,
 * ignore-table, wild-do-table, wild-ignore-table (LIKE patterns: % and _,
 * backslash escapes), rewrite-db = from->to, rewrite-table = db.t->db2.t2.
 * Every rule matches TiDB's names (before any rewrite), case-insensitively
 * (TiDB's names are). The system schemas (mysql, sys, INFORMATION_SCHEMA,
 * PERFORMANCE_SCHEMA, METRICS_SCHEMA, INSPECTION_SCHEMA) never replicate.
 *
 * Evaluation of a table db.t (as MySQL documents for replicate-* options,
 * "How Servers Evaluate Replication Filtering Rules"):
 *   1. a system schema: dropped;
 *   2. database rules: with any do-db, db must be one of them; otherwise a
 *      db named by ignore-db is dropped;
 *   3. no table rules: kept. Else the first of: a do-table naming db.t keeps
 *      it, an ignore-table drops it, a wild-do-table matching keeps it, a
 *      wild-ignore-table matching drops it;
 *   4. nothing matched: dropped when any do-table or wild-do-table exists,
 *      else kept.
 * A database-level statement (CREATE/DROP/ALTER DATABASE) on db: steps 1-2,
 * then step 3 with the table rules that concern the whole database: a
 * do-table naming db or a wild-do-table whose database pattern matches db
 * keeps it, a wild-ignore-table matching db with table pattern "%" drops it;
 * step 4 as above. So a database is created on replicas when some of its
 * tables may replicate.
 *
 * Rewrites: a rewrite-table rule names one table; otherwise rewrite-db
 * renames the database of every table in it.
 *
 * Pure: no I/O, no logging. Compiled once; per table the verdict and names
 * are cached by table id (tr_filter_lookup), so rows cost one hash probe.
 */
#ifndef TR_RELAY_FILTER_H
#define TR_RELAY_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/defs.h"
#include "common/config.h"
#include "relay/schema.h"

typedef struct tr_filter tr_filter_t;

/*
 * Checks the syntax of one rule (text without surrounding spaces). Returns 0,
 * or TR_ECONFIG with *why (static) saying what is wrong and what is accepted.
 */
int tr_filter_rule_check(tr_filter_kind_t kind, const char *text, const char **why) TR_MUSTCHECK;

/*
 * Compiles rules (borrowed; the filter keeps copies). Returns 0 with *out
 * (owned, tr_filter_free), or TR_ECONFIG with *why (static) and *bad the index
 * of the offending rule: a rule tr_filter_rule_check refuses, or a source
 * renamed twice by rules of the same kind.
 */
int tr_filter_new(const tr_filter_rule_t *rules, size_t n, tr_filter_t **out, size_t *bad,
                  const char **why) TR_MUSTCHECK;
void tr_filter_free(tr_filter_t *f);
/* tr_filter_new without keeping the filter: the loader's check (tr_config_checks_t). */
int tr_filter_check(const tr_filter_rule_t *rules, size_t n, size_t *bad,
                    const char **why) TR_MUSTCHECK;
/* The checks of the configuration loader that belong to this module. */
extern const tr_config_checks_t tr_filter_config_checks;

/* True when the filter has any rule (the system schemas are dropped either way). */
bool tr_filter_has_rules(const tr_filter_t *f);
/* True for mysql, sys, INFORMATION_SCHEMA, PERFORMANCE_SCHEMA, METRICS_SCHEMA,
 * INSPECTION_SCHEMA (any case): pingcap/tidb pkg/util/filter/schema.go IsSystemSchema. */
bool tr_filter_is_system_db(const char *db);

/* Verdict for rows and DDL of table db.t; for a database-level statement on db. */
bool tr_filter_table_kept(const tr_filter_t *f, const char *db, const char *table);
bool tr_filter_db_kept(const tr_filter_t *f, const char *db);

/* Names replicas see. Return views: a rule's text (valid while f lives) or the argument. */
const char *tr_filter_db_name(const tr_filter_t *f, const char *db);
void tr_filter_table_name(const tr_filter_t *f, const char *db, const char *table,
                          const char **db_out, const char **table_out);

/* The cached verdict of one table. */
typedef struct {
    int64_t table_id;
    bool kept;
    const char *db;    /* name replicas see: a rule's text or the db argument of the lookup */
    const char *table; /* likewise */
} tr_filter_entry_t;

/*
 * Verdict and names of table table_id called db.table in schema generation
 * gen (the schema's applied version): cached, so a hit costs one probe and
 * allocates nothing; a new gen empties the cache (schema changes). The entry
 * and the names it points to are valid until the next call with another gen
 * (db and table, borrowed, must live that long: the schema's names do).
 * Single-threaded (the writer).
 */
const tr_filter_entry_t *tr_filter_lookup(tr_filter_t *f, int64_t gen, int64_t table_id,
                                          const char *db, const char *table);

/* A DDL job's verdict. */
typedef enum {
    TR_FILTER_JOB_DROP = 0,  /* every table (or the database) it touches is filtered out */
    TR_FILTER_JOB_KEEP = 1,  /* every one is kept */
    TR_FILTER_JOB_CROSS = 2, /* some kept, some not (a RENAME across the filter boundary,
                                CREATE TABLES in both): follows [upstream] ddl-unsupported */
} tr_filter_job_t;

/*
 * Decides DDL job j from the names it touches, before the schema applies it
 * (a renamed table's old name comes from s). *db_out is the default database
 * replicas see for it (renamed; a view of j's or a rule's name). *why
 * (static) says why for CROSS, else NULL.
 */
tr_filter_job_t tr_filter_job(const tr_filter_t *f, const tr_schema_t *s, const tr_ddl_job_t *j,
                              const char **db_out, const char **why);

/*
 * Rewrites the names in DDL statement sql (len bytes) for replicas, default
 * database default_db (TiDB's name), appending the result to out: qualified
 * references db.t and db.t.c, the database of CREATE/DROP/ALTER DATABASE and
 * unqualified table names where a table name stands (after TABLE, VIEW,
 * REFERENCES, LIKE, ON of an index, RENAME ... TO, FROM/JOIN of a view) get
 * the renamed names (a table renamed into another database becomes
 * qualified); strings, comments and everything else are copied as they are.
 * Returns 0, or TR_EUNSUPPORTED with *why (static) when a reference cannot be
 * rewritten safely (a renamed table's name standing where it may be a column,
 * db.x inside a SELECT that may be table.column of a renamed database, an
 * unterminated quote) or names a table or database the filter drops; out
 * then holds the best rewrite (ddl-unsupported = pass writes it).
 */
int tr_filter_ddl_text(const tr_filter_t *f, const char *default_db, const char *sql, size_t len,
                       tr_buf_t *out, const char **why) TR_MUSTCHECK;

#endif
