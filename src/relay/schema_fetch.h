/*
 * Reads TiDB's DDL history over its SQL port with libmariadb:
 *   SELECT job_id, job_meta FROM mysql.tidb_ddl_history WHERE job_id > ? ORDER BY job_id
 * and feeds the jobs to the schema tracker. Blocking: call on the writer
 * thread. The only file that includes mysql.h.
 */
#ifndef TR_RELAY_SCHEMA_FETCH_H
#define TR_RELAY_SCHEMA_FETCH_H

#include "common/defs.h"
#include "common/config.h"
#include "relay/schema.h"

typedef struct tr_schema_fetch tr_schema_fetch_t;

/* keeps cfg. Does not connect yet. */
tr_schema_fetch_t *tr_schema_fetch_new(const tr_config_t *cfg);
void tr_schema_fetch_free(tr_schema_fetch_t *f);
/* Called with the JSON of every job the fetcher added to the tracker (to persist it). */
typedef void (*tr_schema_fetch_sink_fn)(void *arg, int64_t job_id, const char *json, size_t len);
void tr_schema_fetch_set_sink(tr_schema_fetch_t *f, tr_schema_fetch_sink_fn fn, void *arg);
/* Connects if needed and adds every job newer than tr_schema_max_job_id(s).
 * Returns the number of jobs added (>= 0) or TR_EUPSTREAM with *why (static or
 * valid until the next call); reconnects on the next call after an error. */
int tr_schema_fetch_new_jobs(tr_schema_fetch_t *f, tr_schema_t *s, const char **why) TR_MUSTCHECK;

#endif
