/*
 * Schema history tracker. Every fetched DDL job is kept (by job id, for DDL
 * binlogs); jobs that finished (done/synced) with a schema version newer than
 * the applied one are queued and applied in schema-version order, like
 * Drainer's schema.go handleDDL: databases from binlog.DBInfo, tables from
 * binlog.TableInfo under job.schema_id. Applied tables live in a hash map by
 * TiDB table id and point at the TableInfo of the job that last set them
 * (jobs are never freed before the tracker, so those pointers stay valid).
 * Pure: no I/O, no logging (schema_fetch.c feeds it, relay.c logs).
 * Follows shared/spec/tidb-binlog.md 7.2 and 7.4.
 */
#include "relay/schema.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"

/* ---------------------------------------------------------------- int64 → pointer map */

/* Open addressing with linear probing and backward-shift deletion. */
typedef struct {
    int64_t *keys;
    void **vals; /* NULL = empty slot */
    size_t cap;  /* power of two */
    size_t n;
} idmap_t;

static size_t idmap_hash(int64_t k, size_t cap)
{
    uint64_t x = (uint64_t)k * 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 17) & (cap - 1);
}

static void idmap_cleanup(idmap_t *m)
{
    tr_free(m->keys);
    tr_free(m->vals);
    memset(m, 0, sizeof(*m));
}

static void *idmap_get(const idmap_t *m, int64_t k)
{
    if (m->cap == 0) {
        return NULL;
    }
    for (size_t i = idmap_hash(k, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->vals[i] == NULL) {
            return NULL;
        }
        if (m->keys[i] == k) {
            return m->vals[i];
        }
    }
}

static void idmap_put(idmap_t *m, int64_t k, void *v);

static void idmap_grow(idmap_t *m)
{
    idmap_t old = *m;
    m->cap = old.cap ? old.cap * 2 : 64;
    m->keys = tr_calloc(m->cap, sizeof(int64_t));
    m->vals = tr_calloc(m->cap, sizeof(void *));
    m->n = 0;
    for (size_t i = 0; i < old.cap; i++) {
        if (old.vals[i] != NULL) {
            idmap_put(m, old.keys[i], old.vals[i]);
        }
    }
    idmap_cleanup(&old);
}

static void idmap_put(idmap_t *m, int64_t k, void *v)
{
    if ((m->n + 1) * 2 > m->cap) {
        idmap_grow(m);
    }
    size_t i = idmap_hash(k, m->cap);
    while (m->vals[i] != NULL && m->keys[i] != k) {
        i = (i + 1) & (m->cap - 1);
    }
    if (m->vals[i] == NULL) {
        m->n++;
    }
    m->keys[i] = k;
    m->vals[i] = v;
}

static void idmap_del(idmap_t *m, int64_t k)
{
    if (m->cap == 0) {
        return;
    }
    size_t mask = m->cap - 1;
    size_t i = idmap_hash(k, m->cap);
    while (m->vals[i] != NULL && m->keys[i] != k) {
        i = (i + 1) & mask;
    }
    if (m->vals[i] == NULL) {
        return;
    }
    m->vals[i] = NULL;
    m->n--;
    /* Backward shift: move later entries of the cluster into the hole when allowed. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; m->vals[j] != NULL; j = (j + 1) & mask) {
        size_t home = idmap_hash(m->keys[j], m->cap);
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            m->keys[hole] = m->keys[j];
            m->vals[hole] = m->vals[j];
            m->vals[j] = NULL;
            hole = j;
        }
    }
}

/* ---------------------------------------------------------------- tracker */

typedef struct {
    int64_t id;
    char *name;
    char *charset;   /* DBInfo.charset ("" when unknown) */
    char *collation; /* DBInfo.collate */
} db_t;

struct tr_schema {
    idmap_t jobs;         /* job id → tr_ddl_job_t* (owned) */
    idmap_t tables;       /* table id → tr_table_info_t* (borrowed from a job, or a clone) */
    idmap_t phys;         /* partition (physical table) id → its partitioned table */
    tr_table_info_t **clones; /* shallow copies under another id (exchange partition): */
    size_t n_clones;          /* the struct is owned, its arrays belong to a job */
    idmap_t dbs;          /* schema id → db_t* (owned) */
    tr_ddl_job_t **queue; /* jobs waiting to be applied */
    size_t n_queue;
    size_t cap_queue;
    int64_t max_job_id;
    int64_t max_version;
    int64_t applied_version;     /* highest version asked for by tr_schema_advance */
    int64_t applied_job_version; /* SchemaVersion of the last job applied */
    uint64_t last_table_id;      /* binlog table id given last (0: none yet) */
    uint64_t generation;         /* jobs applied */
};

/* Binlog table ids clients treat as special: never handed out. */
#define TABLE_ID_DUMMY_OLD 0x00FFFFFFull     /* MySQL's dummy id with 4-byte table ids */
#define TABLE_ID_DUMMY     0xFFFFFFFFFFFFull /* the 6-byte field all ones */

uint64_t tr_schema_table_id_after(uint64_t id)
{
    do {
        id++;
    } while (id == TABLE_ID_DUMMY_OLD || id == TABLE_ID_DUMMY);
    return id;
}

/* 2^48 table versions (one per DDL that touches a table) cannot be reached. */
static uint64_t next_table_id(tr_schema_t *s)
{
    s->last_table_id = tr_schema_table_id_after(s->last_table_id);
    return s->last_table_id;
}

tr_schema_t *tr_schema_new(void)
{
    return tr_calloc(1, sizeof(tr_schema_t));
}

void tr_schema_free(tr_schema_t *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->jobs.cap; i++) {
        if (s->jobs.vals[i] != NULL) {
            tr_ddl_job_t *j = s->jobs.vals[i];
            tr_ddl_job_cleanup(j);
            tr_free(j);
        }
    }
    for (size_t i = 0; i < s->dbs.cap; i++) {
        if (s->dbs.vals[i] != NULL) {
            db_t *d = s->dbs.vals[i];
            tr_free(d->name);
            tr_free(d->charset);
            tr_free(d->collation);
            tr_free(d);
        }
    }
    for (size_t i = 0; i < s->n_clones; i++) {
        tr_free(s->clones[i]);
    }
    tr_free(s->clones);
    idmap_cleanup(&s->jobs);
    idmap_cleanup(&s->tables);
    idmap_cleanup(&s->phys);
    idmap_cleanup(&s->dbs);
    tr_free(s->queue);
    tr_free(s);
}

static bool job_finished(const tr_ddl_job_t *j)
{
    return (j->state == TR_TIDB_JOB_DONE || j->state == TR_TIDB_JOB_SYNCED) &&
           j->schema_version > 0;
}

int tr_schema_add_job(tr_schema_t *s, int64_t job_id, const char *json, size_t len,
                      const char **why)
{
    if (idmap_get(&s->jobs, job_id) != NULL) {
        return 0;
    }
    tr_ddl_job_t *j = tr_calloc(1, sizeof(*j));
    int rc = tr_ddl_job_parse(json, len, j, why);
    if (rc != 0) {
        tr_ddl_job_cleanup(j);
        tr_free(j);
        return rc;
    }
    idmap_put(&s->jobs, job_id, j);
    if (job_id > s->max_job_id) {
        s->max_job_id = job_id;
    }
    if (!job_finished(j)) {
        return 0;
    }
    if (j->schema_version > s->max_version) {
        s->max_version = j->schema_version;
    }
    if (j->schema_version <= s->applied_job_version) {
        return 0; /* already in effect (a late job newer than that is still applied) */
    }
    if (s->n_queue == s->cap_queue) {
        s->cap_queue = s->cap_queue ? s->cap_queue * 2 : 16;
        s->queue = tr_realloc(s->queue, s->cap_queue * sizeof(*s->queue));
    }
    s->queue[s->n_queue++] = j;
    return 0;
}

static int cmp_version(const void *a, const void *b)
{
    const tr_ddl_job_t *x = *(tr_ddl_job_t *const *)a;
    const tr_ddl_job_t *y = *(tr_ddl_job_t *const *)b;
    if (x->schema_version != y->schema_version) {
        return x->schema_version < y->schema_version ? -1 : 1;
    }
    return x->id < y->id ? -1 : x->id > y->id;
}

static void put_db(tr_schema_t *s, int64_t id, const char *name, const char *charset,
                   const char *collation)
{
    db_t *d = idmap_get(&s->dbs, id);
    if (d == NULL) {
        d = tr_calloc(1, sizeof(*d));
        d->id = id;
        idmap_put(&s->dbs, id, d);
    } else {
        tr_free(d->name);
        tr_free(d->charset);
        tr_free(d->collation);
    }
    d->name = tr_strdup(name);
    d->charset = tr_strdup(charset);
    d->collation = tr_strdup(collation);
}

/* Removes table id (and the partition ids of its current version). */
static void del_table(tr_schema_t *s, int64_t id)
{
    tr_table_info_t *old = idmap_get(&s->tables, id);
    if (old == NULL) {
        return;
    }
    for (size_t i = 0; i < old->n_parts; i++) {
        if (idmap_get(&s->phys, old->part_ids[i]) == old) {
            idmap_del(&s->phys, old->part_ids[i]);
        }
    }
    idmap_del(&s->tables, id);
}

/* Makes t the current version of table t->id in database schema_id, under a new binlog
 * table id. */
static void put_table_info(tr_schema_t *s, tr_table_info_t *t, int64_t schema_id)
{
    del_table(s, t->id);
    t->schema_id = schema_id;
    t->binlog_table_id = next_table_id(s);
    idmap_put(&s->tables, t->id, t);
    for (size_t i = 0; i < t->n_parts; i++) {
        idmap_put(&s->phys, t->part_ids[i], t);
    }
}

static void put_table(tr_schema_t *s, tr_ddl_job_t *j)
{
    put_table_info(s, j->table_info, j->schema_id);
}

static void drop_db(tr_schema_t *s, int64_t id)
{
    db_t *d = idmap_get(&s->dbs, id);
    if (d != NULL) {
        idmap_del(&s->dbs, id);
        tr_free(d->name);
        tr_free(d->charset);
        tr_free(d->collation);
        tr_free(d);
    }
    /* Drop its tables; deleting while scanning would shift entries, so rescan. */
    for (;;) {
        bool found = false;
        for (size_t i = 0; i < s->tables.cap; i++) {
            tr_table_info_t *t = s->tables.vals[i];
            if (t != NULL && t->schema_id == id) {
                del_table(s, t->id);
                found = true;
                break;
            }
        }
        if (!found) {
            break;
        }
    }
}

static bool has_part(const tr_table_info_t *t, int64_t id)
{
    for (size_t i = 0; i < t->n_parts; i++) {
        if (t->part_ids[i] == id) {
            return true;
        }
    }
    return false;
}

/* EXCHANGE PARTITION p WITH TABLE nt: the job is nt's (job.table_id, job.schema_id) and
 * its TableInfo is the partitioned table after the swap (pingcap/tidb pkg/ddl
 * partition.go onExchangeTablePartition, FinishTableJob with the partitioned table).
 * The partition's physical id and nt's id trade places: p now has nt's old id, and nt
 * lives on under p's old id, which is the one id the old version had and the new lacks. */
static int exchange_partition(tr_schema_t *s, tr_ddl_job_t *j, const char **why)
{
    tr_table_info_t *pt = j->table_info;
    if (pt == NULL) {
        *why = "exchange partition job without binlog.TableInfo";
        return TR_ESCHEMA;
    }
    const tr_table_info_t *pt_old = idmap_get(&s->tables, pt->id);
    tr_table_info_t *nt = idmap_get(&s->tables, j->table_id);
    int64_t nt_new_id = 0;
    for (size_t i = 0; pt_old != NULL && i < pt_old->n_parts; i++) {
        if (!has_part(pt, pt_old->part_ids[i])) {
            nt_new_id = pt_old->part_ids[i];
        }
    }
    int64_t pt_schema = pt_old != NULL ? pt_old->schema_id : j->schema_id;
    if (nt != NULL) {
        del_table(s, nt->id);
    }
    put_table_info(s, pt, pt_schema);
    if (nt != NULL && nt_new_id != 0) {
        tr_table_info_t *c = tr_malloc(sizeof(*c));
        *c = *nt;
        c->id = nt_new_id;
        s->clones = tr_realloc(s->clones, (s->n_clones + 1) * sizeof(*s->clones));
        s->clones[s->n_clones++] = c;
        put_table_info(s, c, nt->schema_id);
    }
    return 0;
}

static int apply_job(tr_schema_t *s, tr_ddl_job_t *j, const char **why)
{
    switch (j->type) {
    case TR_TIDB_ACTION_CREATE_SCHEMA:
    case TR_TIDB_ACTION_MODIFY_SCHEMA_CHARSET:
        if (!j->has_db_info) {
            *why = "schema job without binlog.DBInfo";
            return TR_ESCHEMA;
        }
        put_db(s, j->db_id, j->db_name, j->db_charset, j->db_collate);
        return 0;
    case TR_TIDB_ACTION_DROP_SCHEMA:
        drop_db(s, j->schema_id);
        return 0;
    case TR_TIDB_ACTION_DROP_TABLE:
    case TR_TIDB_ACTION_DROP_VIEW:
    case TR_TIDB_ACTION_DROP_SEQUENCE:
        del_table(s, j->table_id);
        return 0;
    case TR_TIDB_ACTION_TRUNCATE_TABLE:
        /* a new table id (and new partition ids) for the same table */
        if (j->table_info == NULL) {
            *why = "truncate table job without binlog.TableInfo";
            return TR_ESCHEMA;
        }
        del_table(s, j->table_id);
        put_table(s, j);
        return 0;
    case TR_TIDB_ACTION_EXCHANGE_PARTITION:
        return exchange_partition(s, j, why);
    case TR_TIDB_ACTION_RENAME_TABLES:
    case TR_TIDB_ACTION_CREATE_TABLES:
        /* one TableInfo per table (Drainer schema.go handleRenameTables): renamed tables
         * keep their id and move to newSchemaIDs[i] */
        for (size_t i = 0; i < j->n_multi; i++) {
            tr_table_info_t *t = j->multi_infos[i];
            const tr_table_info_t *old = idmap_get(&s->tables, t->id);
            int64_t sid = j->schema_id;
            if (j->type == TR_TIDB_ACTION_RENAME_TABLES) {
                if (i < j->n_new_schema_ids) {
                    sid = j->new_schema_ids[i];
                } else if (old != NULL) {
                    sid = old->schema_id;
                }
            }
            put_table_info(s, t, sid);
        }
        return 0;
    default:
        /* create/rename/recover table, create view/sequence, partition add/drop/truncate
         * (new physical ids) and every ALTER: the job's TableInfo is the table's new
         * definition. Jobs without one change nothing we track. */
        if (j->table_info != NULL) {
            put_table(s, j);
        }
        return 0;
    }
}

int tr_schema_advance(tr_schema_t *s, int64_t version, const char **why)
{
    if (s->n_queue == 0) {
        if (version > s->applied_version) {
            s->applied_version = version;
        }
        return 0;
    }
    qsort(s->queue, s->n_queue, sizeof(*s->queue), cmp_version);
    size_t k = 0;
    while (k < s->n_queue && s->queue[k]->schema_version <= version) {
        int rc = apply_job(s, s->queue[k], why);
        if (rc != 0) {
            /* Drop what was applied; the failing job stays at the head. */
            memmove(s->queue, s->queue + k, (s->n_queue - k) * sizeof(*s->queue));
            s->n_queue -= k;
            return rc;
        }
        s->applied_job_version = s->queue[k]->schema_version;
        s->generation++;
        if (s->applied_job_version > s->applied_version) {
            s->applied_version = s->applied_job_version;
        }
        k++;
    }
    memmove(s->queue, s->queue + k, (s->n_queue - k) * sizeof(*s->queue));
    s->n_queue -= k;
    if (version > s->applied_version) {
        s->applied_version = version;
    }
    return 0;
}

const tr_table_info_t *tr_schema_table(const tr_schema_t *s, int64_t table_id)
{
    const tr_table_info_t *t = idmap_get(&s->tables, table_id);
    return t != NULL ? t : idmap_get(&s->phys, table_id);
}

const char *tr_schema_db_name(const tr_schema_t *s, int64_t schema_id)
{
    const db_t *d = idmap_get(&s->dbs, schema_id);
    return d != NULL ? d->name : NULL;
}

const char *tr_schema_db_charset(const tr_schema_t *s, int64_t schema_id)
{
    const db_t *d = idmap_get(&s->dbs, schema_id);
    return d != NULL ? d->charset : NULL;
}

const char *tr_schema_db_collation(const tr_schema_t *s, int64_t schema_id)
{
    const db_t *d = idmap_get(&s->dbs, schema_id);
    return d != NULL ? d->collation : NULL;
}

uint64_t tr_schema_generation(const tr_schema_t *s)
{
    return s->generation;
}

void tr_schema_each_db(const tr_schema_t *s, tr_schema_db_fn fn, void *arg)
{
    for (size_t i = 0; i < s->dbs.cap; i++) {
        const db_t *d = s->dbs.vals[i];
        if (d != NULL) {
            fn(arg, d->id, d->name, d->charset, d->collation);
        }
    }
}

void tr_schema_each_table(const tr_schema_t *s, tr_schema_table_fn fn, void *arg)
{
    for (size_t i = 0; i < s->tables.cap; i++) {
        if (s->tables.vals[i] != NULL) {
            fn(arg, s->tables.vals[i]);
        }
    }
}

const tr_ddl_job_t *tr_schema_job(const tr_schema_t *s, int64_t job_id)
{
    return idmap_get(&s->jobs, job_id);
}

int64_t tr_schema_max_job_id(const tr_schema_t *s)
{
    return s->max_job_id;
}

int64_t tr_schema_max_version(const tr_schema_t *s)
{
    return s->max_version;
}

int64_t tr_schema_applied_version(const tr_schema_t *s)
{
    return s->applied_version;
}

const tr_table_info_t *tr_schema_table_by_name(const tr_schema_t *s, const char *db,
                                               const char *table)
{
    for (size_t i = 0; i < s->tables.cap; i++) {
        const tr_table_info_t *t = s->tables.vals[i];
        if (t == NULL || t->id != s->tables.keys[i] || strcmp(t->name, table) != 0) {
            continue;
        }
        const char *d = tr_schema_db_name(s, t->schema_id);
        if (d != NULL && strcmp(d, db) == 0) {
            return t;
        }
    }
    return NULL;
}

size_t tr_schema_queued(tr_schema_t *s, const tr_ddl_job_t *const **jobs)
{
    if (s->n_queue > 1) {
        qsort(s->queue, s->n_queue, sizeof(*s->queue), cmp_version);
    }
    *jobs = (const tr_ddl_job_t *const *)s->queue;
    return s->n_queue;
}
