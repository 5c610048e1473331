/*
 * Schema history tracker: TiDB DDL jobs (the JSON of mysql.tidb_ddl_history
 * job_meta, shared/spec/tidb-binlog.md section 7) are queued by schema
 * version and applied in order, giving the table model (columns, types,
 * handle layout) in force at any transaction's schema_version.
 * Pure: no I/O (schema_fetch.c feeds it).
 */
#ifndef TR_RELAY_SCHEMA_H
#define TR_RELAY_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/defs.h"
#include "protocol/tidb_schema.h"

typedef struct tr_schema tr_schema_t;

tr_schema_t *tr_schema_new(void);
void tr_schema_free(tr_schema_t *s);

/* Queues one DDL job from its JSON (copied). Jobs that are not done/synced or
 * have SchemaVersion 0 are ignored. Returns 0 or TR_EMALFORMED with *why. */
int tr_schema_add_job(tr_schema_t *s, int64_t job_id, const char *json, size_t len,
                      const char **why) TR_MUSTCHECK;
/* Applies every queued job with SchemaVersion <= version. Returns 0 or TR_ESCHEMA. */
int tr_schema_advance(tr_schema_t *s, int64_t version, const char **why) TR_MUSTCHECK;
/*
 * Table ids of the binlog (TABLE_MAP and rows events), as MySQL and MariaDB hand them
 * out: a table gets a new one whenever a DDL job makes a new version of it current
 * (CREATE, every ALTER, RENAME, TRUNCATE, partition DDL, both sides of EXCHANGE
 * PARTITION), keeps it until the next such job, and no id is ever given twice. Ids
 * count 1, 2, 3 ... in the order jobs are applied (schema-version order) and skip the
 * values clients reserve (0x00FFFFFF, MySQL's old dummy id, and 0xFFFFFFFFFFFF), so
 * they are a function of the DDL history alone: the same on every relay and after a
 * restart, which replays the stored history (docs/decisions.md "Table ids").
 * tr_table_info_t.binlog_table_id holds a table's current id.
 */
/* The binlog table id handed out after id (id + 1, past the reserved values). */
uint64_t tr_schema_table_id_after(uint64_t id);

/* Table by TiDB table id at the current version, or the partitioned table a partition's
 * physical id belongs to; NULL if unknown or dropped. */
const tr_table_info_t *tr_schema_table(const tr_schema_t *s, int64_t table_id);
/* Table by database and table name at the current version (a scan: callers cache by
 * tr_schema_generation); NULL if none. Views and sequences count; names compare exactly. */
const tr_table_info_t *tr_schema_table_by_name(const tr_schema_t *s, const char *db,
                                               const char *table);
/* The jobs fetched but not applied yet, in the order tr_schema_advance applies them
 * (schema version); *jobs is a view valid until the next add or advance. */
size_t tr_schema_queued(tr_schema_t *s, const tr_ddl_job_t *const **jobs);
/* Schema (database) name by schema id; NULL if unknown. */
const char *tr_schema_db_name(const tr_schema_t *s, int64_t schema_id);
/* A queued or applied job by id (DDL binlogs): NULL if not fetched yet. */
const tr_ddl_job_t *tr_schema_job(const tr_schema_t *s, int64_t job_id);
/* Highest job id fetched so far (fetch newer ones with job_id > this). */
int64_t tr_schema_max_job_id(const tr_schema_t *s);
/* Counts the jobs applied so far: changes whenever a table or database definition does. */
uint64_t tr_schema_generation(const tr_schema_t *s);
/* Calls fn for every current database (id, name, default charset and collation as its
 * last CREATE/ALTER DATABASE job set them, "" when unknown). */
typedef void (*tr_schema_db_fn)(void *arg, int64_t id, const char *name, const char *charset,
                                const char *collation);
void tr_schema_each_db(const tr_schema_t *s, tr_schema_db_fn fn, void *arg);
/* Calls fn for every current table, view and sequence (partitions are not separate). */
typedef void (*tr_schema_table_fn)(void *arg, const tr_table_info_t *t);
void tr_schema_each_table(const tr_schema_t *s, tr_schema_table_fn fn, void *arg);
/* A database's default charset and collation ("" when unknown), NULL for an unknown id. */
const char *tr_schema_db_charset(const tr_schema_t *s, int64_t schema_id);
const char *tr_schema_db_collation(const tr_schema_t *s, int64_t schema_id);
/* Highest SchemaVersion among fetched jobs, and the version applied so far. */
int64_t tr_schema_max_version(const tr_schema_t *s);
int64_t tr_schema_applied_version(const tr_schema_t *s);

#endif
