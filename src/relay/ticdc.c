/*
 * The TiCDC inputs: canal-json over Kafka, or the storage sink's directory
 * (shared/spec/ticdc.md sections 1-4; docs/decisions.md "TiCDC: redelivery and
 * positions" and "TiCDC storage sink"). Threads:
 *
 *  - the input thread turns what TiCDC wrote into records (cdc_record.c, no lock) and
 *    feeds them to the collector (cdc_collect.c) under r->mu; the collector pushes groups
 *    of rows (one partition, one commit_ts) and DDLs into the merge, which runs in joining
 *    mode with one source per partition plus one for DDL. Kafka: the consumer thread reads
 *    batches from every partition of the changefeed's topic (kafka_source.c). Storage: the
 *    poller thread reads the metadata checkpoint C every STORAGE_POLL_MS and, when it
 *    moved, every table stream's lines up to C (storage_source.c) as one partition whose
 *    watermark is C (a round);
 *  - the writer thread pops a commit_ts's items from the merge (a transaction: every
 *    partition's rows with that commit_ts), resolves their tables in the DDL history,
 *    writes them through tr_translate_rows, and at each group commit stores the input's
 *    position in the same sqlite transaction as the binlog index (Kafka: every
 *    partition's tr_cdc_collect_position, then mirrored to the consumer group; storage:
 *    the cursors of the last round whose records are all committed).
 *
 * A message that cannot be decoded, a row for a table the history never shows, or a value
 * that does not fit its column stops the input: what was released before it is written
 * and committed, nothing after it; the error names topic, partition and offset (storage:
 * file and line).
 */
#define _GNU_SOURCE
#include "relay/ticdc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/thread.h"
#include "protocol/canal_json.h"
#include "relay/cdc_collect.h"
#include "relay/cdc_log.h"
#include "relay/cdc_names.h"
#include "relay/cdc_record.h"
#include "relay/kafka_source.h"
#include "relay/relay_internal.h"
#include "relay/storage_source.h"

#define POLL_BATCH       1024
#define POLL_TIMEOUT_MS  100
#define HEAP_BUDGET      (256u << 20)  /* records in heap chunks before spilling to files */
#define MAX_LOG_BYTES    (64ull << 30) /* records held at most (then the consumer waits) */
#define READ_AHEAD_BYTES (32ull << 20) /* records held while the writer has work (read_ahead) */
#define READ_AHEAD_MS    20            /* the consumer's wait for the writer, at most */
#define UNKNOWN_WAIT_MS  10000         /* a row's table missing from the history: wait so long */
#define STORAGE_POLL_MS  250           /* the storage input reads the metadata this often */
#define STORAGE_MAX_LINE (1u << 30)    /* bytes of one line of a storage data file, at most */

/* One group of rows (one partition, one commit_ts) or one DDL, as a merge item. */
typedef struct {
    tr_cdc_rec_t *first;
    size_t n;
    uint32_t source;
} group_t;

/* Writer cache: a table name's table version (per schema generation). */
typedef struct {
    uint64_t gen;
    const tr_table_info_t *t;
} name_slot_t;

/* One column of a layout on a table version. */
typedef struct {
    int32_t k;   /* public index, or -1 (not replicated) */
    bool binary; /* a binary string: its text is one character per byte (is_binary) */
} col_map_t;

/* Writer cache: a layout mapped onto a table version. */
typedef struct {
    const tr_table_info_t *t;
    uint64_t gen;
    col_map_t *map; /* by layout column */
    size_t n;
} layout_slot_t;

/* Per partition, what the status shows (under r->mu). */
typedef struct {
    uint64_t messages;
    int64_t recv_ms;
} part_info_t;

/* Storage: one poller round, records below offset end, taken up to checkpoint; its
 * position text is stored once every one of them is committed. */
typedef struct {
    int64_t end;
    int64_t checkpoint;
    char *position;
} round_t;

/* Storage: records seq0 .. seq0+n-1 came from lines line0 .. of file (line 0: a schema
 * file), for error messages. */
typedef struct {
    int64_t seq0;
    int64_t n;
    int64_t line0;
    char *file;
} loc_t;

/* Storage: per table, what the status shows (under r->mu). */
typedef struct {
    char name[200]; /* "schema.table" */
    uint64_t rows;
    int64_t recv_ms;
} table_stat_t;

struct tr_cdc {
    tr_relay_t *r;
    tr_kafka_source_t *ks;
    uint32_t n_parts;
    tr_cdc_names_t *names;
    tr_cdc_log_t *log;
    tr_cdc_reader_t *reader;
    tr_cdc_collect_t *collect; /* under r->mu */
    part_info_t *info;         /* under r->mu */
    pthread_t consumer;
    bool consumer_started;
    _Atomic int64_t *mirror; /* next offsets committed, for the consumer group (-1: none) */
    atomic_bool mirror_due;

    /* Writer thread. */
    group_t **held; /* groups written since the last commit */
    size_t n_held, cap_held;
    group_t **txn; /* the groups of the transaction being written (held once written) */
    size_t n_txn, cap_txn;
    tr_cdc_rec_t **rows; /* one transaction's rows, in writing order */
    size_t n_rows, cap_rows;
    name_slot_t *names_cache;
    size_t names_cap;
    layout_slot_t *layouts_cache;
    size_t layouts_cap;
    tr_datum_t *vals[2];
    bool *present[2];
    size_t vals_cap;
    uint8_t *scratch; /* binary values as bytes */
    size_t scratch_cap;
    char why[512];
    const tr_ddl_job_t *last_job; /* the job of the last DDL written (CREATE TABLES events) */
    char *stored_position;
    int64_t position_ms;

    /* The storage input (is_storage; one partition). Poller thread unless noted. */
    bool is_storage;
    tr_storage_source_t *ss;
    int64_t c_done;         /* every row at or below it was taken */
    int64_t seq;            /* the next record offset */
    char last_problem[256]; /* the last retried problem logged (logged again when it changes) */
    round_t *rounds;        /* under r->mu: rounds not known complete, oldest first */
    size_t n_rounds, cap_rounds;
    char *done_position; /* under r->mu: the last complete round's position */
    loc_t *locs;         /* under r->mu: sources of live records, seq0 order */
    size_t n_locs, cap_locs;
    table_stat_t *tables; /* under r->mu, sorted by name */
    size_t n_tables, cap_tables;
    int64_t storage_ckpt; /* under r->mu: the checkpoint of the last round */
    int64_t ckpt_ms;      /* under r->mu: when it last moved (wall) */
    uint64_t repeats;     /* under r->mu: rows dropped as TiCDC restart repeats */
};

/* ---------------------------------------------------------------- positions */

static char *storage_position_text(tr_cdc_t *c);

/* "ticdc-kafka v1 topic=T partitions=N" then one "p offset watermark" line per partition;
 * storage: storage_position_text. Caller holds r->mu. */
static char *position_text(tr_cdc_t *c)
{
    if (c->is_storage) {
        return storage_position_text(c);
    }
    size_t cap = 128 + strlen(c->r->cfg->ticdc_topic) + (size_t)c->n_parts * 48;
    char *s = tr_malloc(cap);
    size_t n = (size_t)snprintf(s, cap, "ticdc-kafka v1 topic=%s partitions=%" PRIu32 "\n",
                                c->r->cfg->ticdc_topic, c->n_parts);
    for (uint32_t p = 0; p < c->n_parts && n < cap; p++) {
        int64_t off, w;
        tr_cdc_collect_position(c->collect, p, &off, &w);
        n += (size_t)snprintf(s + n, cap - n, "%" PRIu32 " %" PRId64 " %" PRId64 "\n", p, off, w);
    }
    return s;
}

/* Reads a stored position into offsets/ws (n_parts entries). */
static int parse_position(tr_cdc_t *c, const char *text, int64_t *offsets, int64_t *ws,
                          const char **why)
{
    char topic[256];
    unsigned parts = 0;
    int used = 0;
    if (sscanf(text, "ticdc-kafka v1 topic=%255s partitions=%u\n%n", topic, &parts, &used) < 2 ||
        used == 0) {
        *why = "the stored upstream position is not a TiCDC Kafka position (the store was "
               "written from another input)";
        return TR_ECONFIG;
    }
    if (strcmp(topic, c->r->cfg->ticdc_topic) != 0) {
        *why = "the store was written from another topic: [upstream] ticdc-topic differs from "
               "the stored position's";
        return TR_ECONFIG;
    }
    if (parts != c->n_parts) {
        *why = "the topic's partition count changed since the position was stored";
        return TR_ECONFIG;
    }
    const char *p = text + used;
    for (uint32_t i = 0; i < c->n_parts; i++) {
        unsigned idx;
        long long off, w;
        int m = 0;
        if (sscanf(p, "%u %lld %lld\n%n", &idx, &off, &w, &m) != 3 || idx != i || m == 0) {
            *why = "the stored upstream position is damaged";
            return TR_ECORRUPT;
        }
        offsets[i] = off;
        ws[i] = w;
        p += m;
    }
    return 0;
}

/* ---------------------------------------------------------------- collector callbacks */

static void on_emit(void *arg, uint32_t source, int64_t ts, tr_cdc_rec_t *first, size_t n)
{
    tr_cdc_t *c = arg;
    group_t *g = tr_malloc(sizeof(*g));
    g->first = first;
    g->n = n;
    g->source = source;
    if (tr_merge_push(c->r->merge, source, ts, g) != 0) {
        tr_relay_error(c->r, TR_UPSTREAM_ERR_REFUSED, TR_LOG_ERROR, "ticdc",
                       "the merge refused a group source=%" PRIu32, source);
    }
}

static void on_watermark(void *arg, uint32_t source, int64_t ts)
{
    tr_cdc_t *c = arg;
    if (tr_merge_watermark(c->r->merge, source, ts) != 0) {
        tr_log_error("ticdc", "the merge has no source %" PRIu32, source);
    }
}

static void on_release(void *arg, tr_cdc_rec_t *rec)
{
    tr_cdc_t *c = arg;
    tr_cdc_log_release(c->log, rec);
}

static void group_release(tr_cdc_t *c, group_t *g)
{
    tr_cdc_rec_t *r = g->first;
    while (r != NULL) {
        tr_cdc_rec_t *nx = r->next;
        tr_cdc_log_release(c->log, r);
        r = nx;
    }
    tr_free(g);
}

/* ---------------------------------------------------------------- consumer thread */

typedef struct {
    tr_cdc_rec_t *rec;
    int64_t watermark;
    int32_t part;
    int64_t offset;
    int kind; /* TR_CDC_READ_*, or 0: skipped */
} read_t;

/*
 * Whether the consumer should wait for the writer: the log holds over READ_AHEAD_BYTES and
 * the merge has groups the writer can take, so that memory is coming back. Reading further
 * ahead then only grows the log (fresh pages to fault in, and to unmap after: a tenth of the
 * ingest CPU on a backlog, bench/README.md "TiCDC ingest"). With nothing releasable it never
 * waits: the records held may be waiting for a watermark further on in the topic. When it
 * returns true it has waited (at most READ_AHEAD_MS, woken by release_held).
 */
static bool read_ahead_wait(tr_cdc_t *c, const tr_cdc_log_stats_t *ls)
{
    if (ls->heap_bytes + ls->file_bytes <= READ_AHEAD_BYTES) {
        return false;
    }
    tr_relay_t *r = c->r;
    pthread_mutex_lock(&r->mu);
    bool wait = tr_merge_can_pop(r->merge) && !r->stopping;
    if (wait) {
        struct timespec ts = tr_clock_deadline(CLOCK_REALTIME, READ_AHEAD_MS);
        (void)pthread_cond_timedwait(&r->space, &r->mu, &ts);
    }
    pthread_mutex_unlock(&r->mu);
    return wait;
}

static void *consumer_main(void *arg)
{
    tr_thread_name("tr-cdc-kafka");
    tr_cdc_t *c = arg;
    tr_relay_t *r = c->r;
    tr_kafka_msg_t *msgs = tr_calloc(POLL_BATCH, sizeof(*msgs));
    read_t *reads = tr_calloc(POLL_BATCH, sizeof(*reads));
    char err[256];
    for (;;) {
        if (tr_relay_is_stopping(r)) {
            break;
        }
        if (atomic_exchange(&c->mirror_due, false)) {
            int64_t *offs = tr_malloc(c->n_parts * sizeof(int64_t));
            for (uint32_t p = 0; p < c->n_parts; p++) {
                offs[p] = atomic_load(&c->mirror[p]);
            }
            tr_kafka_source_mirror(c->ks, offs);
            tr_free(offs);
        }
        tr_cdc_log_stats_t ls;
        tr_cdc_log_stats(c->log, &ls);
        if (ls.heap_bytes + ls.file_bytes > MAX_LOG_BYTES) {
            tr_relay_nap(r, 100); /* the writer is behind by that much: wait for it */
            continue;
        }
        if (read_ahead_wait(c, &ls)) {
            continue;
        }
        int n = tr_kafka_source_poll(c->ks, POLL_TIMEOUT_MS, msgs, POLL_BATCH, err, sizeof(err));
        if (n < 0) {
            tr_relay_error(r, TR_UPSTREAM_ERR_MALFORMED, TR_LOG_ERROR, "ticdc",
                           "cannot read the topic, input stopped: %s", err);
            atomic_store(&r->failed, true);
            break;
        }
        bool bad = false;
        int k = 0;
        for (; k < n; k++) {
            read_t *rd = &reads[k];
            rd->part = msgs[k].partition;
            rd->offset = msgs[k].offset;
            rd->rec = NULL;
            const char *why = NULL;
            int rc = tr_cdc_read(c->reader, msgs[k].payload, msgs[k].len, rd->part, rd->offset,
                                 &rd->rec, &rd->watermark, &why);
            if (rc < 0) {
                tr_relay_error(
                    r, TR_UPSTREAM_ERR_MALFORMED, TR_LOG_ERROR, "ticdc",
                    "cannot decode a message, input stopped before it (what came "
                    "before is written): %s topic=%s partition=%" PRId32 " offset=%" PRId64,
                    why != NULL ? why : tr_strerror(rc), r->cfg->ticdc_topic, rd->part, rd->offset);
                bad = true;
                break;
            }
            rd->kind = rc;
        }
        pthread_mutex_lock(&r->mu);
        int64_t now = tr_clock_wall_ms();
        for (int i = 0; i < k; i++) {
            read_t *rd = &reads[i];
            if ((uint32_t)rd->part < c->n_parts) {
                c->info[rd->part].messages++;
                c->info[rd->part].recv_ms = now;
            }
            if (rd->kind == TR_CDC_READ_RECORD) {
                (void)tr_cdc_collect_add(c->collect, rd->rec);
            } else if (rd->kind == TR_CDC_READ_WATERMARK) {
                tr_cdc_collect_watermark(c->collect, (uint32_t)rd->part, rd->offset, rd->watermark);
            } else {
                tr_cdc_collect_skip(c->collect, (uint32_t)rd->part, rd->offset);
            }
        }
        if (k > 0) {
            pthread_cond_broadcast(&r->ready);
        }
        pthread_mutex_unlock(&r->mu);
        if (bad) {
            atomic_store(&r->failed, true);
            break;
        }
    }
    tr_free(msgs);
    tr_free(reads);
    return NULL;
}

/* ---------------------------------------------------------------- tables and layouts */

static const tr_table_info_t *table_of(tr_cdc_t *c, uint32_t name_id)
{
    tr_schema_t *s = c->r->schema;
    uint64_t gen = tr_schema_generation(s);
    if (name_id >= c->names_cap) {
        size_t cap = c->names_cap ? c->names_cap : 64;
        while (cap <= name_id) {
            cap *= 2;
        }
        c->names_cache = tr_realloc(c->names_cache, cap * sizeof(*c->names_cache));
        memset(c->names_cache + c->names_cap, 0, (cap - c->names_cap) * sizeof(*c->names_cache));
        c->names_cap = cap;
    }
    name_slot_t *slot = &c->names_cache[name_id];
    if (slot->t != NULL && slot->gen == gen) {
        return slot->t;
    }
    const tr_cdc_table_name_t *nm = tr_cdc_names_table_get(c->names, name_id);
    slot->t = nm != NULL ? tr_schema_table_by_name(s, nm->db, nm->table) : NULL;
    slot->gen = gen;
    return slot->t;
}

/* A binary string column: canal-json writes its bytes as one character each (ISO-8859-1).
 * Numbers, times and JSON also carry charset "binary" in TiDB but are written as text. */
static bool is_binary(const tr_tidb_column_t *col)
{
    switch (col->tp) {
    case TR_TIDB_TP_VARCHAR:
    case TR_TIDB_TP_VAR_STRING:
    case TR_TIDB_TP_STRING:
    case TR_TIDB_TP_TINY_BLOB:
    case TR_TIDB_TP_MEDIUM_BLOB:
    case TR_TIDB_TP_LONG_BLOB:
    case TR_TIDB_TP_BLOB:
        return strcmp(col->charset, "binary") == 0;
    default:
        return false;
    }
}

/* Maps layout_id onto t (public column indexes, in c->layouts_cache[layout_id]), checking
 * once per table version what the rows need: every column of t can be written, the names
 * are t's and the types match. 0, or TR_EUNSUPPORTED / TR_ESCHEMA with c->why. */
static int layout_of(tr_cdc_t *c, uint32_t layout_id, const tr_table_info_t *t,
                     const tr_cdc_table_name_t *nm)
{
    uint64_t gen = tr_schema_generation(c->r->schema);
    if (layout_id >= c->layouts_cap) {
        size_t cap = c->layouts_cap ? c->layouts_cap : 64;
        while (cap <= layout_id) {
            cap *= 2;
        }
        c->layouts_cache = tr_realloc(c->layouts_cache, cap * sizeof(*c->layouts_cache));
        memset(c->layouts_cache + c->layouts_cap, 0,
               (cap - c->layouts_cap) * sizeof(*c->layouts_cache));
        c->layouts_cap = cap;
    }
    layout_slot_t *slot = &c->layouts_cache[layout_id];
    if (slot->t == t && slot->gen == gen && slot->map != NULL) {
        return 0;
    }
    for (size_t k = 0; k < t->n_public; k++) {
        const tr_tidb_column_t *col = &t->cols[t->public_idx[k]];
        if (!col->is_supported) {
            snprintf(c->why, sizeof(c->why), "%s:", col->unsupported_why);
            return TR_EUNSUPPORTED;
        }
    }
    const tr_cdc_layout_t *l = tr_cdc_names_layout_get(c->names, layout_id);
    if (l == NULL) {
        snprintf(c->why, sizeof(c->why), "unknown column layout");
        return TR_ESCHEMA;
    }
    tr_free(slot->map);
    slot->map = tr_malloc((l->n ? l->n : 1) * sizeof(*slot->map));
    slot->n = l->n;
    slot->t = t;
    slot->gen = gen;
    for (size_t i = 0; i < l->n; i++) {
        slot->map[i] = (col_map_t){-1, false};
        bool found = false;
        for (size_t k = 0; k < t->n_public; k++) {
            const tr_tidb_column_t *col = &t->cols[t->public_idx[k]];
            if (strcmp(col->name, l->names[i]) == 0) {
                found = true;
                if (l->type_lens[i] > 0 &&
                    !tr_canal_type_matches(col, (const uint8_t *)l->types[i], l->type_lens[i])) {
                    snprintf(c->why, sizeof(c->why),
                             "column %s.%s.%s is %s in the message but not in the DDL history",
                             nm->db, nm->table, l->names[i], l->types[i]);
                    slot->t = NULL;
                    return TR_ESCHEMA;
                }
                slot->map[i] = (col_map_t){(int32_t)k, is_binary(col)};
                break;
            }
        }
        if (!found) {
            snprintf(c->why, sizeof(c->why),
                     "column %s.%s.%s is not in the table's definition in the DDL history", nm->db,
                     nm->table, l->names[i]);
            slot->t = NULL;
            return TR_ESCHEMA;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- rows */

static int op_rank(const tr_cdc_rec_t *r)
{
    return r->op == TR_TIDB_MUT_DELETE_ROW ? 0 : r->op == TR_TIDB_MUT_UPDATE ? 1 : 2;
}

/* Deletes, then updates, then inserts, each in merge order: a value a row gives up is
 * free before another row takes it (a replica checks unique keys row by row). */
static void order_rows(tr_cdc_t *c)
{
    size_t counts[3] = {0, 0, 0};
    for (size_t i = 0; i < c->n_rows; i++) {
        counts[op_rank(c->rows[i])]++;
    }
    if (counts[0] + counts[1] == 0 || counts[1] + counts[2] == 0 || counts[0] + counts[2] == 0) {
        return; /* one kind only */
    }
    tr_cdc_rec_t **tmp = tr_malloc(c->n_rows * sizeof(*tmp));
    size_t at[3] = {0, counts[0], counts[0] + counts[1]};
    for (size_t i = 0; i < c->n_rows; i++) {
        tmp[at[op_rank(c->rows[i])]++] = c->rows[i];
    }
    memcpy(c->rows, tmp, c->n_rows * sizeof(*tmp));
    tr_free(tmp);
}

static void storage_where(tr_cdc_t *c, int64_t off, char *buf, size_t cap);

static void where(tr_cdc_t *c, const tr_cdc_rec_t *rec, const char *what)
{
    const tr_cdc_table_name_t *nm = tr_cdc_names_table_get(c->names, rec->table);
    size_t n = strlen(c->why);
    if (c->is_storage) {
        char at[400];
        storage_where(c, rec->offset, at, sizeof(at));
        snprintf(c->why + n, sizeof(c->why) - n, "%s%s table=%s.%s commit_ts=%" PRId64 " %s",
                 n ? " " : "", what, nm ? nm->db : "?", nm ? nm->table : "?", rec->commit_ts, at);
        return;
    }
    snprintf(c->why + n, sizeof(c->why) - n,
             "%s%s table=%s.%s commit_ts=%" PRId64 " topic=%s partition=%" PRId32
             " offset=%" PRId64,
             n ? " " : "", what, nm ? nm->db : "?", nm ? nm->table : "?", rec->commit_ts,
             c->r->cfg->ticdc_topic, rec->part, rec->offset);
}

/* Applies queued history jobs that finished before ts, fetching newer ones, until the
 * record's table is known or UNKNOWN_WAIT_MS passed (TiCDC may deliver a row before the
 * history row of its table's DDL is readable: spec Corrections 1). */
static const tr_table_info_t *wait_for_table(tr_cdc_t *c, const tr_cdc_rec_t *rec)
{
    tr_relay_t *r = c->r;
    int64_t deadline = tr_clock_mono_ms() + UNKNOWN_WAIT_MS;
    int delay = 20;
    for (;;) {
        const tr_ddl_job_t *const *jobs;
        size_t n = tr_schema_queued(r->schema, &jobs);
        int64_t version = 0;
        for (size_t i = 0; i < n && (int64_t)jobs[i]->finished_ts < rec->commit_ts; i++) {
            version = jobs[i]->schema_version;
        }
        if (version > 0 && tr_relay_advance_schema(r, version) != 0) {
            return NULL;
        }
        const tr_table_info_t *t = table_of(c, rec->table);
        if (t != NULL || tr_clock_mono_ms() > deadline || tr_relay_is_stopping(r)) {
            return t;
        }
        tr_relay_nap(r, delay);
        delay = delay < 500 ? delay * 2 : 500;
        (void)tr_relay_fetch_jobs(r);
    }
}

/* Checks every row of the transaction before anything is written. */
static int check_rows(tr_cdc_t *c)
{
    for (size_t i = 0; i < c->n_rows; i++) {
        const tr_cdc_rec_t *rec = c->rows[i];
        const tr_table_info_t *t = table_of(c, rec->table);
        if (t == NULL) {
            t = wait_for_table(c, rec);
        }
        if (t == NULL) {
            c->why[0] = '\0';
            where(c, rec, "a row for a table the DDL history does not know");
            return TR_ENOTFOUND;
        }
        const tr_cdc_table_name_t *nm = tr_cdc_names_table_get(c->names, rec->table);
        c->why[0] = '\0';
        int rc = layout_of(c, rec->layout, t, nm);
        if (rc != 0) {
            where(c, rec, "");
            return rc;
        }
        if (t->n_public > c->vals_cap) {
            c->vals_cap = t->n_public;
            for (int h = 0; h < 2; h++) {
                c->vals[h] = tr_realloc(c->vals[h], c->vals_cap * sizeof(tr_datum_t));
                c->present[h] = tr_realloc(c->present[h], c->vals_cap * sizeof(bool));
            }
        }
        if (rec->len > c->scratch_cap) {
            c->scratch_cap = rec->len;
            c->scratch = tr_realloc(c->scratch, c->scratch_cap);
        }
    }
    return 0;
}

typedef struct {
    tr_cdc_t *c;
    size_t i;
} rows_arg_t;

/* One image into vals[h]/present[h]. */
static int read_image(tr_cdc_t *c, const tr_cdc_rec_t *rec, const tr_table_info_t *t,
                      const layout_slot_t *ls, tr_cdc_image_t *img, int h, uint8_t **scratch)
{
    memset(c->present[h], 0, t->n_public * sizeof(bool));
    for (size_t j = 0; j < ls->n; j++) {
        const uint8_t *text = NULL;
        size_t len = 0;
        bool has = tr_cdc_value(img, &text, &len);
        int32_t k = ls->map[j].k;
        if (k < 0) {
            continue;
        }
        tr_datum_t *d = &c->vals[h][k];
        c->present[h][k] = true;
        if (!has) {
            memset(d, 0, sizeof(*d));
            d->kind = TR_DATUM_NULL;
            continue;
        }
        const tr_tidb_column_t *col = &t->cols[t->public_idx[k]];
        const char *why = NULL;
        if (ls->map[j].binary) {
            ssize_t n = tr_canal_latin1_bytes(text, len, *scratch, &why);
            if (n < 0) {
                snprintf(c->why, sizeof(c->why), "column %s: %s:", col->name, why);
                where(c, rec, "");
                return (int)n;
            }
            text = *scratch;
            len = (size_t)n;
            *scratch += n;
        }
        int rc = tr_canal_value(col, text, len, d, &why);
        if (rc != 0) {
            snprintf(c->why, sizeof(c->why), "column %s: %s:", col->name, why ? why : "?");
            where(c, rec, "");
            return rc;
        }
    }
    return 0;
}

/* Asks for the images of rec ahead of their use: a transaction's records were written by
 * the consumer thread, often long before, and sit apart in the record log, so the first
 * read of each one would wait on memory (bench/README.md "TiCDC ingest", fourth round).
 * The headers are warm: order_rows and check_rows just read them. */
static void prefetch_images(const tr_cdc_rec_t *rec)
{
    const char *p = (const char *)rec->data;
    size_t n = rec->len < 512 ? rec->len : 512;
    for (size_t off = 0; off < n; off += 64) {
        __builtin_prefetch(p + off);
    }
}

static int next_row(void *arg, tr_row_change_t *row, const char **why)
{
    rows_arg_t *a = arg;
    tr_cdc_t *c = a->c;
    tr_relay_t *r = c->r;
    while (a->i < c->n_rows) {
        const tr_cdc_rec_t *rec = c->rows[a->i++];
        if (a->i < c->n_rows) {
            prefetch_images(c->rows[a->i]);
        }
        const tr_table_info_t *t = table_of(c, rec->table);
        const char *db = tr_schema_db_name(r->schema, t->schema_id);
        const char *name = t->name;
        if (r->filter != NULL && tr_filter_has_rules(r->filter)) {
            const tr_filter_entry_t *e = tr_filter_lookup(
                r->filter, tr_schema_applied_version(r->schema), t->id, db, t->name);
            if (!e->kept) {
                continue;
            }
            db = e->db;
            name = e->table;
        }
        const layout_slot_t *ls = &c->layouts_cache[rec->layout];
        tr_cdc_image_t img = tr_cdc_image(rec);
        uint8_t *scratch = c->scratch;
        c->why[0] = '\0';
        int rc = read_image(c, rec, t, ls, &img, 0, &scratch);
        if (rc == 0 && rec->op == TR_TIDB_MUT_UPDATE) {
            rc = read_image(c, rec, t, ls, &img, 1, &scratch);
        }
        if (rc != 0) {
            *why = c->why;
            return rc;
        }
        row->t = t;
        row->db = db;
        row->table = name;
        row->op = rec->op;
        row->vals[0] = c->vals[0];
        row->present[0] = c->present[0];
        row->vals[1] = c->vals[1];
        row->present[1] = c->present[1];
        return 1;
    }
    return 0;
}

static int translate_rows(void *arg, const tr_txn_ctx_t *ctx, tr_evt_writer_t *w, const char **why)
{
    rows_arg_t *a = arg;
    a->i = 0;
    tr_row_iter_t it = {next_row, a};
    return tr_translate_rows(&it, ctx, w, why);
}

static int write_rows(tr_cdc_t *c, int64_t ts)
{
    order_rows(c);
    int rc = check_rows(c);
    if (rc != 0) {
        tr_relay_error(c->r, TR_UPSTREAM_ERR_TRANSLATE, TR_LOG_ERROR, "ticdc",
                       "cannot translate transaction, input stopped before writing it: %s", c->why);
        /* Nothing of it was appended: what came before is whole, make it durable. */
        if (tr_relay_commit_group(c->r) != 0) {
            tr_log_error("ticdc", "could not commit the transactions before it");
        }
        return rc;
    }
    rows_arg_t a = {c, 0};
    return tr_relay_write_txn(c->r, ts, tr_schema_applied_version(c->r->schema), translate_rows, &a,
                              false, "rows", (int64_t)c->n_rows);
}

/* ---------------------------------------------------------------- DDL */

typedef struct {
    const tr_ddl_job_t *job;
    const char *sql;
    size_t len;
} ddl_arg_t;

static int translate_ddl(void *arg, const tr_txn_ctx_t *ctx, tr_evt_writer_t *w, const char **why)
{
    ddl_arg_t *a = arg;
    (void)why;
    tr_translate_ddl(a->job, a->sql, a->len, ctx, w);
    return 0;
}

static bool job_matches(const tr_ddl_job_t *j, const tr_cdc_table_name_t *nm, const char *sql,
                        size_t len)
{
    if (strcmp(j->schema_name, nm->db) != 0 && strcmp(j->db_name ? j->db_name : "", nm->db) != 0) {
        return false;
    }
    if (strlen(j->query) == len && memcmp(j->query, sql, len) == 0) {
        return true;
    }
    return nm->table[0] != '\0' && strcmp(j->table_name, nm->table) == 0;
}

/* A table a multi-table job (CREATE TABLES, RENAME TABLES) made or renamed. */
static bool job_has_table(const tr_ddl_job_t *j, const char *table)
{
    for (size_t i = 0; i < j->n_multi; i++) {
        if (j->multi_infos[i] != NULL && strcmp(j->multi_infos[i]->name, table) == 0) {
            return true;
        }
    }
    return false;
}

/* The history job of a DDL event: among the jobs not applied yet, in version order, the
 * first of its database whose query or table matches (the event's commit_ts is not the
 * job's FinishedTS: spec Corrections 1); the jobs before it are applied with it. Waits for
 * the history when it does not have it yet. */
static const tr_ddl_job_t *find_job(tr_cdc_t *c, const tr_cdc_rec_t *rec)
{
    tr_relay_t *r = c->r;
    const tr_cdc_table_name_t *nm = tr_cdc_names_table_get(c->names, rec->table);
    const char *sql = (const char *)rec->data;
    if (c->last_job != NULL && c->last_job->n_multi > 0 && nm->table[0] != '\0' &&
        job_has_table(c->last_job, nm->table) && strcmp(c->last_job->schema_name, nm->db) == 0) {
        return c->last_job;
    }
    int delay = 50;
    for (int attempt = 0;; attempt++) {
        const tr_ddl_job_t *const *jobs;
        size_t n = tr_schema_queued(r->schema, &jobs);
        for (size_t i = 0; i < n; i++) {
            if (job_matches(jobs[i], nm, sql, rec->len) ||
                (jobs[i]->n_multi > 0 && job_has_table(jobs[i], nm->table))) {
                return jobs[i];
            }
        }
        if (tr_relay_is_stopping(r)) {
            return NULL;
        }
        if (attempt == 20) {
            tr_log_warn("ticdc",
                        "DDL not in the history yet, still waiting commit_ts=%" PRId64
                        " db=%s table=%s query=%.*s",
                        rec->commit_ts, nm->db, nm->table, (int)(rec->len > 200 ? 200 : rec->len),
                        sql);
        }
        tr_relay_nap(r, delay);
        delay = delay < 2000 ? delay * 2 : 2000;
        (void)tr_relay_fetch_jobs(r);
    }
}

static int write_ddl(tr_cdc_t *c, const tr_cdc_rec_t *rec)
{
    tr_relay_t *r = c->r;
    const tr_ddl_job_t *job = find_job(c, rec);
    if (job == NULL) {
        return TR_ECLOSED;
    }
    if (job->schema_version > tr_schema_applied_version(r->schema) &&
        tr_relay_advance_schema(r, job->schema_version) != 0) {
        return TR_ESCHEMA;
    }
    c->last_job = job;
    /* The Pump path's DDL steps take a binlog: this one carries the event's statement. */
    tr_tidb_binlog_t b;
    memset(&b, 0, sizeof(b));
    b.commit_ts = rec->commit_ts;
    b.ddl_job_id = job->id;
    b.ddl_query = tr_slice(rec->data, rec->len);
    const char *filter_why = NULL;
    tr_filter_job_t fv = tr_filter_job(r->filter, r->schema, job, &r->ddl_db, &filter_why);
    if (!tr_filter_has_rules(r->filter)) {
        r->ddl_db = NULL;
    }
    if (fv == TR_FILTER_JOB_DROP) {
        return 0;
    }
    bool write = false;
    int rc = tr_relay_prepare_ddl(r, &b, job, &write);
    if (rc == 0 && write && tr_filter_has_rules(r->filter)) {
        rc = tr_relay_filter_ddl(r, &b, job, filter_why, &write);
    }
    if (rc != 0 || !write) {
        return rc;
    }
    r->ddl_sql_set = true;
    ddl_arg_t a = {job, (const char *)rec->data, rec->len};
    rc = tr_relay_write_txn(r, rec->commit_ts, job->schema_version, translate_ddl, &a, false,
                            "job_id", job->id);
    r->ddl_sql_set = false;
    return rc;
}

/* ---------------------------------------------------------------- commits */

static void push_group(group_t ***v, size_t *n, size_t *cap, group_t *g)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *v = tr_realloc(*v, *cap * sizeof(**v));
    }
    (*v)[(*n)++] = g;
}

/* The current transaction's groups were written (or dropped): they settle with the next
 * commit. Until then they stay out of it, so a transaction that fails is not counted as
 * committed in the position the commit before it stores. */
static void hold_txn(tr_cdc_t *c)
{
    for (size_t i = 0; i < c->n_txn; i++) {
        push_group(&c->held, &c->n_held, &c->cap_held, c->txn[i]);
    }
    c->n_txn = 0;
}

/* Hands the held records to the collector as committed and sets the position the commit
 * stores. */
static void settle(tr_cdc_t *c)
{
    tr_relay_t *r = c->r;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < c->n_held; i++) {
        for (tr_cdc_rec_t *rec = c->held[i]->first; rec != NULL; rec = rec->next) {
            tr_cdc_collect_done(c->collect, rec);
        }
    }
    char *text = position_text(c);
    int64_t off, w;
    for (uint32_t p = 0; p < c->n_parts && !c->is_storage; p++) {
        tr_cdc_collect_position(c->collect, p, &off, &w);
        atomic_store(&c->mirror[p], off);
    }
    pthread_mutex_unlock(&r->mu);
    tr_store_set_position(r->store, text);
    tr_free(c->stored_position);
    c->stored_position = text;
    c->position_ms = tr_clock_mono_ms();
}

static void release_held(tr_cdc_t *c)
{
    for (size_t i = 0; i < c->n_held; i++) {
        group_release(c, c->held[i]);
    }
    c->n_held = 0;
    atomic_store(&c->mirror_due, true);
    pthread_cond_broadcast(&c->r->space); /* read_ahead_wait */
}

void tr_relay_cdc_before_commit(tr_relay_t *r)
{
    settle(r->cdc);
}

void tr_relay_cdc_after_commit(tr_relay_t *r)
{
    release_held(r->cdc);
}

/* Idle: store the position alone once in a while (so the topic's retention never passes
 * it while nothing is written), when it moved. */
static void idle_position(tr_cdc_t *c)
{
    if (tr_clock_mono_ms() - c->position_ms < TR_RELAY_CDC_IDLE_MS) {
        return;
    }
    tr_cdc_log_trim(c->log); /* nothing committed for a while: the spare chunks can go */
    pthread_mutex_lock(&c->r->mu);
    char *now = position_text(c);
    pthread_mutex_unlock(&c->r->mu);
    bool same =
        c->n_held == 0 && c->stored_position != NULL && strcmp(now, c->stored_position) == 0;
    tr_free(now);
    c->position_ms = tr_clock_mono_ms();
    if (same) {
        return;
    }
    settle(c);
    int rc = tr_store_commit(c->r->store);
    if (rc != 0) {
        tr_relay_error(c->r, TR_UPSTREAM_ERR_STORE, TR_LOG_WARN, "store",
                       "cannot store the input position (retried): %s", tr_strerror(rc));
        tr_store_abort(c->r->store);
        return;
    }
    release_held(c);
}

void tr_relay_cdc_idle(tr_relay_t *r)
{
    if (!atomic_load(&r->failed)) {
        idle_position(r->cdc);
    }
}

/* ---------------------------------------------------------------- writer thread */

static void add_rows(tr_cdc_t *c, group_t *g)
{
    for (tr_cdc_rec_t *rec = g->first; rec != NULL; rec = rec->next) {
        if (c->n_rows == c->cap_rows) {
            c->cap_rows = c->cap_rows ? c->cap_rows * 2 : 1024;
            c->rows = tr_realloc(c->rows, c->cap_rows * sizeof(*c->rows));
        }
        c->rows[c->n_rows++] = rec;
    }
}

void *tr_relay_cdc_writer_main(void *arg)
{
    tr_thread_name("tr-writer");
    tr_relay_t *r = arg;
    tr_cdc_t *c = r->cdc;
    for (;;) {
        tr_merge_item_t item;
        bool dropped = false;
        if (!tr_relay_next_item(r, &item, &dropped)) {
            return NULL;
        }
        group_t *g = item.data;
        if (dropped) {
            /* Below a released commit_ts: the collector's rules make this impossible; kept
             * safe (never written twice). */
            pthread_mutex_unlock(&r->mu);
            tr_relay_error(r, TR_UPSTREAM_ERR_DROPPED, TR_LOG_WARN, "ticdc",
                           "dropped a group below the released commit_ts commit_ts=%" PRId64,
                           item.commit_ts);
            push_group(&c->held, &c->n_held, &c->cap_held, g);
            continue;
        }
        int rc;
        if (g->source == c->n_parts) { /* a DDL */
            pthread_mutex_unlock(&r->mu);
            push_group(&c->txn, &c->n_txn, &c->cap_txn, g);
            rc = write_ddl(c, g->first);
        } else {
            /* Every other group with this commit_ts is in the merge already (released
             * together with a partition's watermark), and comes next. */
            c->n_rows = 0;
            add_rows(c, g);
            push_group(&c->txn, &c->n_txn, &c->cap_txn, g);
            tr_merge_item_t next;
            bool nd = false;
            while (tr_merge_peek(r->merge, &next, &nd) && !nd && next.commit_ts == item.commit_ts &&
                   ((group_t *)next.data)->source != c->n_parts) {
                (void)tr_merge_pop(r->merge, &next, &nd);
                add_rows(c, next.data);
                push_group(&c->txn, &c->n_txn, &c->cap_txn, next.data);
            }
            pthread_mutex_unlock(&r->mu);
            rc = write_rows(c, item.commit_ts);
        }
        if (rc == TR_ECLOSED) {
            continue;
        }
        if (rc != 0) {
            tr_relay_fail_stop(r);
            return NULL;
        }
        hold_txn(c);
        if ((r->group_txns >= MAX_GROUP_TXNS || tr_relay_rotation_due(r)) &&
            tr_relay_commit_group(r) != 0) {
            tr_relay_fail_stop(r);
            return NULL;
        }
    }
}

/* ---------------------------------------------------------------- the storage input */

/* The position to store: the last round whose records are all committed (the collector's
 * oldest live record is at or past its end). Caller holds r->mu. */
static char *storage_position_text(tr_cdc_t *c)
{
    int64_t off, w;
    tr_cdc_collect_position(c->collect, 0, &off, &w);
    size_t k = 0;
    while (k < c->n_rounds && c->rounds[k].end <= off) {
        k++;
    }
    if (k > 0) {
        tr_free(c->done_position);
        c->done_position = c->rounds[k - 1].position;
        for (size_t i = 0; i + 1 < k; i++) {
            tr_free(c->rounds[i].position);
        }
        memmove(c->rounds, c->rounds + k, (c->n_rounds - k) * sizeof(*c->rounds));
        c->n_rounds -= k;
    }
    size_t j = 0;
    while (j < c->n_locs && c->locs[j].seq0 + c->locs[j].n <= off) {
        tr_free(c->locs[j].file);
        j++;
    }
    if (j > 0) {
        memmove(c->locs, c->locs + j, (c->n_locs - j) * sizeof(*c->locs));
        c->n_locs -= j;
    }
    return tr_strdup(c->done_position);
}

/* "file=F line=N" of a record offset (writer thread). */
static void storage_where(tr_cdc_t *c, int64_t off, char *buf, size_t cap)
{
    pthread_mutex_lock(&c->r->mu);
    size_t lo = 0, hi = c->n_locs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->locs[mid].seq0 <= off) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    const loc_t *l = lo > 0 ? &c->locs[lo - 1] : NULL;
    if (l != NULL && off < l->seq0 + l->n) {
        if (l->line0 > 0) {
            snprintf(buf, cap, "file=%s line=%" PRId64, l->file, l->line0 + (off - l->seq0));
        } else {
            snprintf(buf, cap, "file=%s", l->file);
        }
    } else {
        snprintf(buf, cap, "record=%" PRId64, off);
    }
    pthread_mutex_unlock(&c->r->mu);
}

static void loc_push(loc_t **v, size_t *n, size_t *cap, int64_t seq, const char *file, int64_t line)
{
    if (*n > 0) {
        loc_t *l = &(*v)[*n - 1];
        if (line > 0 && l->line0 > 0 && l->seq0 + l->n == seq && l->line0 + l->n == line &&
            strcmp(l->file, file) == 0) {
            l->n++;
            return;
        }
    }
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *v = tr_realloc(*v, *cap * sizeof(**v));
    }
    (*v)[(*n)++] = (loc_t){seq, 1, line, tr_strdup(file)};
}

/* One round's reading, before it goes to the collector. */
typedef struct {
    tr_cdc_rec_t **recs;
    size_t n, cap;
    loc_t *locs;
    size_t n_locs, cap_locs;
    uint64_t *rows; /* per stream */
    uint64_t repeats;
} round_read_t;

static void round_keep(tr_cdc_t *c, round_read_t *rr, tr_cdc_rec_t *rec, const char *file,
                       int64_t line)
{
    rec->offset = c->seq;
    rec->part = 0;
    if (rr->n == rr->cap) {
        rr->cap = rr->cap ? rr->cap * 2 : 1024;
        rr->recs = tr_realloc(rr->recs, rr->cap * sizeof(*rr->recs));
    }
    rr->recs[rr->n++] = rec;
    loc_push(&rr->locs, &rr->n_locs, &rr->cap_locs, c->seq, file, line);
    c->seq++;
}

/* Gives back a round that does not go to the collector. */
static void round_drop(tr_cdc_t *c, round_read_t *rr)
{
    for (size_t i = 0; i < rr->n; i++) {
        tr_cdc_log_release(c->log, rr->recs[i]);
    }
    for (size_t i = 0; i < rr->n_locs; i++) {
        tr_free(rr->locs[i].file);
    }
    tr_free(rr->recs);
    tr_free(rr->locs);
    tr_free(rr->rows);
    memset(rr, 0, sizeof(*rr));
}

/* A problem the next round may not have (I/O): logged when it differs from the last one. */
static void storage_retry(tr_cdc_t *c, const char *what)
{
    if (strncmp(c->last_problem, what, sizeof(c->last_problem) - 1) != 0) {
        snprintf(c->last_problem, sizeof(c->last_problem), "%.255s", what);
        tr_log_warn("ticdc", "storage input waits (retried every %d ms): %s", STORAGE_POLL_MS,
                    what);
    }
}

/* A problem of the files themselves: the input stops (-1), nothing of the round written. */
static int storage_stop(tr_cdc_t *c, int rc, const char *what)
{
    tr_relay_error(c->r, TR_UPSTREAM_ERR_MALFORMED, TR_LOG_ERROR, "ticdc",
                   "cannot read the storage sink, input stopped before the round that holds it "
                   "(what came before is written): %s (%s) dir=%s",
                   what, tr_strerror(rc), c->r->cfg->ticdc_storage);
    return -1;
}

/* An error from the scanner: files that are wrong stop the input, I/O is retried. */
static int storage_problem(tr_cdc_t *c, int rc, const char *what)
{
    tr_storage_source_rewind(c->ss);
    if (rc == TR_EMALFORMED || rc == TR_EUNSUPPORTED || rc == TR_ETOOBIG || rc == TR_ECORRUPT) {
        return storage_stop(c, rc, what);
    }
    storage_retry(c, what);
    return 0;
}

static table_stat_t *table_stat(tr_cdc_t *c, const char *name)
{
    size_t lo = 0, hi = c->n_tables;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int k = strcmp(c->tables[mid].name, name);
        if (k == 0) {
            return &c->tables[mid];
        }
        if (k < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (c->n_tables == c->cap_tables) {
        c->cap_tables = c->cap_tables ? c->cap_tables * 2 : 16;
        c->tables = tr_realloc(c->tables, c->cap_tables * sizeof(*c->tables));
    }
    memmove(&c->tables[lo + 1], &c->tables[lo], (c->n_tables - lo) * sizeof(*c->tables));
    memset(&c->tables[lo], 0, sizeof(*c->tables));
    snprintf(c->tables[lo].name, sizeof(c->tables[lo].name), "%s", name);
    c->n_tables++;
    return &c->tables[lo];
}

/* Reads stream i's lines up to checkpoint into rr: 0, or what storage_problem returns. */
static int read_stream(tr_cdc_t *c, size_t i, int64_t checkpoint, round_read_t *rr)
{
    tr_relay_t *r = c->r;
    char err[1024];
    for (;;) {
        tr_storage_line_t l;
        int rc = tr_storage_stream_peek(c->ss, i, STORAGE_MAX_LINE, &l, err, sizeof(err));
        if (rc == 0) {
            return 0;
        }
        if (rc < 0) {
            return storage_problem(c, rc, err);
        }
        if (l.len == 0) {
            tr_storage_stream_take(c->ss, i); /* an empty line carries nothing */
            continue;
        }
        tr_cdc_rec_t *rec = NULL;
        int64_t wm = 0;
        const char *why = NULL;
        rc = tr_cdc_read(c->reader, l.p, l.len, 0, c->seq, &rec, &wm, &why);
        if (rc < 0) {
            char what[1200];
            snprintf(what, sizeof(what), "cannot decode a line: %s file=%s line=%" PRId64,
                     why != NULL ? why : tr_strerror(rc), l.file, l.line);
            tr_storage_source_rewind(c->ss);
            return storage_stop(c, rc, what);
        }
        if (rc != TR_CDC_READ_RECORD) {
            tr_storage_stream_take(c->ss, i); /* a watermark: the metadata is the storage's */
            continue;
        }
        if (rec->commit_ts > checkpoint) {
            tr_cdc_log_release(c->log, rec); /* the next round's */
            return 0;
        }
        if (rec->commit_ts <= c->c_done || tr_storage_stream_is_repeat(c->ss, i, rec->commit_ts)) {
            /* Taken before, or a TiCDC restart writing it again (spec 2.3). */
            tr_cdc_log_release(c->log, rec);
            rr->repeats++;
            tr_storage_stream_take(c->ss, i);
            continue;
        }
        round_keep(c, rr, rec, l.file, l.line);
        rr->rows[i]++;
        tr_storage_stream_take(c->ss, i);
        if (tr_relay_is_stopping(r)) {
            return 1;
        }
    }
}

/* One round: 1 when one went to the collector, 0 when none (nothing new, or retried
 * later), -1 when the input stops. */
static int storage_round(tr_cdc_t *c)
{
    tr_relay_t *r = c->r;
    char err[1024];
    int64_t ckpt = 0;
    int rc = tr_storage_source_checkpoint(c->ss, &ckpt, err, sizeof(err));
    if (rc == 0) {
        storage_retry(c, "no metadata file yet (is the changefeed running?)");
        return 0;
    }
    if (rc < 0) {
        storage_retry(c, err);
        return 0;
    }
    if (ckpt <= c->c_done) {
        return 0;
    }
    /* The metadata first, then the listing: every row at or below ckpt is in a listed
     * file (spec 2.3). */
    rc = tr_storage_source_scan(c->ss, err, sizeof(err));
    if (rc != 0) {
        return storage_problem(c, rc, err);
    }
    tr_storage_source_mark(c->ss);
    round_read_t rr;
    memset(&rr, 0, sizeof(rr));
    size_t n_streams = tr_storage_source_streams(c->ss);
    rr.rows = tr_calloc(n_streams ? n_streams : 1, sizeof(*rr.rows));
    tr_storage_ddl_t *ddls = NULL;
    size_t nd = 0;
    rc = tr_storage_source_ddls(c->ss, c->c_done, ckpt, &ddls, &nd, err, sizeof(err));
    if (rc != 0) {
        round_drop(c, &rr);
        return storage_problem(c, rc, err);
    }
    for (size_t i = 0; i < nd; i++) {
        size_t len = 0;
        char *msg = tr_storage_ddl_message(&ddls[i].def, &len);
        tr_cdc_rec_t *rec = NULL;
        int64_t wm = 0;
        const char *why = NULL;
        rc = tr_cdc_read(c->reader, (const uint8_t *)msg, len, 0, c->seq, &rec, &wm, &why);
        tr_free(msg);
        if (rc != TR_CDC_READ_RECORD) {
            char what[1400];
            snprintf(what, sizeof(what), "cannot take the DDL of a schema file: %s file=%s",
                     why != NULL ? why : "not a DDL", ddls[i].path);
            if (rc == TR_CDC_READ_WATERMARK || rc >= 0) {
                rc = TR_EMALFORMED;
            }
            tr_storage_ddls_free(ddls, nd);
            round_drop(c, &rr);
            tr_storage_source_rewind(c->ss);
            return storage_stop(c, rc, what);
        }
        round_keep(c, &rr, rec, ddls[i].path, 0);
    }
    tr_storage_ddls_free(ddls, nd);
    for (size_t i = 0; i < n_streams; i++) {
        rc = read_stream(c, i, ckpt, &rr);
        if (rc != 0) {
            round_drop(c, &rr);
            if (rc > 0) {
                tr_storage_source_rewind(c->ss); /* stopping */
                return 0;
            }
            return rc;
        }
    }
    tr_storage_source_rest(c->ss);
    char *position = tr_storage_source_position(c->ss, ckpt);
    c->last_problem[0] = '\0';

    pthread_mutex_lock(&r->mu);
    int64_t now = tr_clock_wall_ms();
    for (size_t i = 0; i < rr.n; i++) {
        (void)tr_cdc_collect_add(c->collect, rr.recs[i]);
    }
    int64_t wm_off = c->seq++;
    tr_cdc_collect_watermark(c->collect, 0, wm_off, ckpt);
    if (c->n_rounds == c->cap_rounds) {
        c->cap_rounds = c->cap_rounds ? c->cap_rounds * 2 : 16;
        c->rounds = tr_realloc(c->rounds, c->cap_rounds * sizeof(*c->rounds));
    }
    c->rounds[c->n_rounds++] = (round_t){c->seq, ckpt, position};
    for (size_t i = 0; i < rr.n_locs; i++) {
        if (c->n_locs == c->cap_locs) {
            c->cap_locs = c->cap_locs ? c->cap_locs * 2 : 64;
            c->locs = tr_realloc(c->locs, c->cap_locs * sizeof(*c->locs));
        }
        c->locs[c->n_locs++] = rr.locs[i];
    }
    rr.n_locs = 0;
    for (size_t i = 0; i < n_streams; i++) {
        if (!tr_storage_stream_seen(c->ss, i) && rr.rows[i] == 0) {
            continue;
        }
        char name[200];
        tr_storage_stream_table(c->ss, i, name, sizeof(name));
        table_stat_t *ts = table_stat(c, name);
        if (rr.rows[i] > 0) {
            ts->rows += rr.rows[i];
            ts->recv_ms = now;
        }
    }
    c->info[0].messages += rr.n;
    c->info[0].recv_ms = now;
    c->repeats += rr.repeats;
    uint64_t repeats_total = c->repeats;
    c->storage_ckpt = ckpt;
    c->ckpt_ms = now;
    pthread_cond_broadcast(&r->ready);
    pthread_mutex_unlock(&r->mu);
    if (rr.repeats > 0) {
        tr_log_info("ticdc",
                    "dropped rows taken before (a TiCDC restart writes them again in later "
                    "files) rows=%" PRIu64 " total=%" PRIu64 " checkpoint=%" PRId64,
                    rr.repeats, repeats_total, ckpt);
    }
    /* The records belong to the collector now. */
    rr.n = 0;
    round_drop(c, &rr);
    c->c_done = ckpt;
    return 1;
}

static void *storage_main(void *arg)
{
    tr_thread_name("tr-cdc-storage");
    tr_cdc_t *c = arg;
    tr_relay_t *r = c->r;
    while (!tr_relay_is_stopping(r)) {
        tr_cdc_log_stats_t ls;
        tr_cdc_log_stats(c->log, &ls);
        if (ls.heap_bytes + ls.file_bytes > MAX_LOG_BYTES) {
            tr_relay_nap(r, 100); /* the writer is behind by that much: wait for it */
            continue;
        }
        int rc = storage_round(c);
        if (rc < 0) {
            atomic_store(&r->failed, true);
            break;
        }
        tr_relay_nap(r, STORAGE_POLL_MS);
    }
    return NULL;
}

static void storage_status(tr_relay_t *r, tr_cdc_t *c, tr_upstream_status_t *out)
{
    size_t n = c->n_tables;
    out->sources = tr_calloc(n ? n : 1, sizeof(*out->sources));
    out->n_sources = n;
    int64_t since = c->ckpt_ms != 0 ? c->ckpt_ms : r->started_ms;
    for (size_t i = 0; i < n; i++) {
        const table_stat_t *t = &c->tables[i];
        tr_upstream_source_t *s = &out->sources[i];
        s->kind = "partition";
        snprintf(s->node_id, sizeof(s->node_id), "%.120s", t->name);
        snprintf(s->addr, sizeof(s->addr), "%.250s", r->cfg->ticdc_storage);
        s->state = c->consumer_started ? "online" : "stopped";
        s->is_pulling = c->consumer_started;
        s->in_merge = true;
        s->last_ts = c->storage_ckpt;
        s->recv_ms = t->recv_ms;
        /* Silence is the metadata's: an idle table is not a problem, a checkpoint that
         * stopped moving is. */
        s->silent_ms = out->now_ms - since;
        s->binlogs = t->rows;
        s->queued = 0;
        s->is_unreachable = s->is_pulling && s->silent_ms > TR_UPSTREAM_UNREACHABLE_MS;
    }
}

/* ---------------------------------------------------------------- start and stop */

/* The tables as of the start when there is no position and no transaction yet, with
 * initial-commit-ts: the jobs that finished by then. */
static void initial_schema(tr_relay_t *r, const tr_store_checkpoint_t *cp, int64_t last)
{
    if (cp->has_txn || r->cfg->initial_commit_ts <= 0) {
        return;
    }
    (void)tr_relay_fetch_jobs(r);
    const tr_ddl_job_t *const *jobs;
    size_t nq = tr_schema_queued(r->schema, &jobs);
    int64_t version = 0;
    for (size_t i = 0; i < nq && (int64_t)jobs[i]->finished_ts <= last; i++) {
        version = jobs[i]->schema_version;
    }
    if (version > 0) {
        (void)tr_relay_advance_schema(r, version);
    }
}

/* What both inputs share: names, the record log and reader, the collector over n_parts
 * partitions, the merge sources (one per partition, then the DDLs). */
static int common_start(tr_cdc_t *c, int64_t last, const char **why)
{
    tr_relay_t *r = c->r;
    c->names = tr_cdc_names_new();
    c->log = tr_cdc_log_new(r->cfg->store_dir, HEAP_BUDGET);
    c->reader = tr_cdc_reader_new(c->names, c->log);
    c->info = tr_calloc(c->n_parts, sizeof(*c->info));
    c->mirror = tr_calloc(c->n_parts, sizeof(*c->mirror));
    for (uint32_t p = 0; p < c->n_parts; p++) {
        atomic_init(&c->mirror[p], -1);
    }
    tr_cdc_collect_cb_t cb = {on_emit, on_watermark, on_release, c};
    c->collect = tr_cdc_collect_new(c->n_parts, last, &cb);
    tr_merge_set_join(r->merge, true);
    for (uint32_t s = 0; s <= c->n_parts; s++) {
        if (tr_merge_add_source(r->merge, s) != 0) {
            *why = "cannot add merge sources";
            return TR_ECONFIG;
        }
    }
    return 0;
}

static void *storage_main(void *arg);

static void storage_warn(void *arg, const char *message)
{
    tr_cdc_t *c = arg;
    tr_log_warn("ticdc", "%s dir=%s", message, c->r->cfg->ticdc_storage);
}

static int storage_start(tr_cdc_t *c, const tr_store_checkpoint_t *cp, const char **why)
{
    tr_relay_t *r = c->r;
    const tr_config_t *cfg = r->cfg;
    c->is_storage = true;
    c->n_parts = 1;
    tr_storage_hooks_t hooks = {storage_warn, c};
    c->ss = tr_storage_source_new(cfg->ticdc_storage, &hooks);
    int64_t last = tr_merge_last_ts(r->merge);
    int rc = common_start(c, last, why);
    if (rc != 0) {
        return rc;
    }
    char *stored = NULL;
    rc = tr_store_position(r->store, &stored, why);
    if (rc != 0) {
        return rc;
    }
    if (stored != NULL) {
        tr_storage_position_t p;
        char dir[600];
        rc = tr_storage_position_parse(stored, &p, dir, sizeof(dir), why);
        if (rc != 0) {
            tr_free(stored);
            return rc;
        }
        if (strcmp(dir, cfg->ticdc_storage) != 0) {
            tr_log_warn("ticdc",
                        "the stored position was read from another directory (moved or "
                        "mounted elsewhere?): going on with the same streams stored=%s dir=%s",
                        dir, cfg->ticdc_storage);
        }
        c->c_done = p.checkpoint;
        tr_storage_source_resume(c->ss, &p);
        tr_storage_position_cleanup(&p);
        c->done_position = stored;
        tr_log_info("ticdc",
                    "resuming dir=%s at checkpoint=%" PRId64
                    " streams=%zu after commit_ts=%" PRId64,
                    cfg->ticdc_storage, c->c_done, tr_storage_source_streams(c->ss), last);
    } else {
        /* No position: every stream from its first file, rows at or below the checkpoint
         * (or initial-commit-ts) dropped. */
        c->c_done = last;
        c->done_position = tr_storage_source_position(c->ss, last);
        tr_log_info("ticdc",
                    "reading dir=%s from the first files, writing after commit_ts=%" PRId64,
                    cfg->ticdc_storage, last);
        initial_schema(r, cp, last);
    }
    tr_cdc_collect_resume(c->collect, 0, 0, c->c_done);
    c->storage_ckpt = c->c_done;
    c->position_ms = tr_clock_mono_ms();
    if (pthread_create(&c->consumer, NULL, storage_main, c) != 0) {
        *why = "cannot start the storage poller thread";
        return -EAGAIN;
    }
    c->consumer_started = true;
    return 0;
}

static int kafka_start(tr_cdc_t *c, const tr_store_checkpoint_t *cp, const char **why)
{
    tr_relay_t *r = c->r;
    const tr_config_t *cfg = r->cfg;
    char group[64];
    snprintf(group, sizeof(group), "tirelay-%" PRIu32, cfg->server_id);
    tr_kafka_source_config_t kc = {
        .brokers = cfg->ticdc_kafka,
        .topic = cfg->ticdc_topic,
        .group_id = group,
        .props = cfg->kafka,
        .n_props = cfg->n_kafka,
    };
    static char err[300];
    int rc = tr_kafka_source_open(&kc, 10000, &c->ks, err, sizeof(err));
    if (rc != 0) {
        *why = err;
        return rc;
    }
    int32_t n = tr_kafka_source_partitions(c->ks);
    if (n <= 0) {
        *why = "the topic has no partitions";
        return TR_ECONFIG;
    }
    c->n_parts = (uint32_t)n;
    int64_t last = tr_merge_last_ts(r->merge);
    rc = common_start(c, last, why);
    if (rc != 0) {
        return rc;
    }
    int64_t *offsets = tr_calloc(c->n_parts, sizeof(int64_t));
    int64_t *ws = tr_calloc(c->n_parts, sizeof(int64_t));
    char *stored = NULL;
    rc = tr_store_position(r->store, &stored, why);
    if (rc == 0 && stored != NULL) {
        rc = parse_position(c, stored, offsets, ws, why);
        if (rc == 0) {
            tr_log_info("ticdc",
                        "resuming topic=%s partitions=%" PRIu32 " after commit_ts=%" PRId64,
                        cfg->ticdc_topic, c->n_parts, last);
        }
    } else if (rc == 0) {
        /* No position: from the beginning of every partition, rows at or below the
         * checkpoint (or initial-commit-ts) released unwritten as shadows. */
        for (uint32_t p = 0; p < c->n_parts; p++) {
            offsets[p] = TR_KAFKA_BEGINNING;
            ws[p] = last;
        }
        tr_log_info("ticdc",
                    "reading topic=%s partitions=%" PRIu32
                    " from the beginning, writing after commit_ts=%" PRId64,
                    cfg->ticdc_topic, c->n_parts, last);
        initial_schema(r, cp, last);
    }
    tr_free(stored);
    if (rc == 0) {
        for (uint32_t p = 0; p < c->n_parts; p++) {
            tr_cdc_collect_resume(c->collect, p, offsets[p] >= 0 ? offsets[p] : 0, ws[p]);
        }
        rc = tr_kafka_source_start(c->ks, offsets, err, sizeof(err));
        if (rc != 0) {
            *why = err;
        }
    }
    tr_free(offsets);
    tr_free(ws);
    if (rc != 0) {
        return rc;
    }
    c->position_ms = tr_clock_mono_ms();
    if (pthread_create(&c->consumer, NULL, consumer_main, c) != 0) {
        *why = "cannot start the Kafka consumer thread";
        return -EAGAIN;
    }
    c->consumer_started = true;
    return 0;
}

int tr_relay_cdc_start(tr_relay_t *r, const tr_store_checkpoint_t *cp, const char **why)
{
    tr_cdc_t *c = tr_calloc(1, sizeof(*c));
    c->r = r;
    r->cdc = c;
    if (tr_config_input(r->cfg) == TR_INPUT_TICDC_STORAGE) {
        return storage_start(c, cp, why);
    }
    return kafka_start(c, cp, why);
}

void tr_relay_cdc_stop_input(tr_relay_t *r)
{
    tr_cdc_t *c = r->cdc;
    if (c != NULL && c->consumer_started) {
        pthread_join(c->consumer, NULL);
        c->consumer_started = false;
    }
}

void tr_relay_cdc_free(tr_relay_t *r)
{
    tr_cdc_t *c = r->cdc;
    if (c == NULL) {
        return;
    }
    tr_relay_cdc_stop_input(r);
    tr_merge_item_t item;
    bool dropped;
    while (r->merge != NULL && tr_merge_pop(r->merge, &item, &dropped)) {
        group_release(c, item.data);
    }
    for (uint32_t s = 0; r->merge != NULL && s <= c->n_parts; s++) {
        tr_merge_remove_source(r->merge, s, NULL);
    }
    release_held(c);
    for (size_t i = 0; i < c->n_txn; i++) {
        group_release(c, c->txn[i]);
    }
    tr_free(c->txn);
    tr_cdc_collect_free(c->collect);
    tr_kafka_source_close(c->ks);
    tr_cdc_reader_free(c->reader);
    for (size_t i = 0; i < c->layouts_cap; i++) {
        tr_free(c->layouts_cache[i].map);
    }
    tr_free(c->layouts_cache);
    tr_free(c->names_cache);
    tr_free(c->held);
    tr_free(c->rows);
    for (int h = 0; h < 2; h++) {
        tr_free(c->vals[h]);
        tr_free(c->present[h]);
    }
    tr_free(c->scratch);
    tr_free(c->stored_position);
    tr_free(c->info);
    tr_free((void *)c->mirror);
    tr_cdc_log_free(c->log);
    tr_cdc_names_free(c->names);
    tr_storage_source_free(c->ss);
    for (size_t i = 0; i < c->n_rounds; i++) {
        tr_free(c->rounds[i].position);
    }
    tr_free(c->rounds);
    tr_free(c->done_position);
    for (size_t i = 0; i < c->n_locs; i++) {
        tr_free(c->locs[i].file);
    }
    tr_free(c->locs);
    tr_free(c->tables);
    tr_free(c);
    r->cdc = NULL;
}

void tr_relay_cdc_status(tr_relay_t *r, tr_upstream_status_t *out)
{
    tr_cdc_t *c = r->cdc;
    if (c->is_storage) {
        storage_status(r, c, out);
        return;
    }
    out->sources = tr_calloc(c->n_parts, sizeof(*out->sources));
    out->n_sources = c->n_parts;
    for (uint32_t p = 0; p < c->n_parts; p++) {
        tr_upstream_source_t *s = &out->sources[p];
        s->kind = "partition";
        tr_cdc_part_stats_t st;
        tr_cdc_collect_stats(c->collect, p, &st);
        snprintf(s->node_id, sizeof(s->node_id), "%.100s/%" PRIu32, r->cfg->ticdc_topic, p);
        snprintf(s->addr, sizeof(s->addr), "%.250s", r->cfg->ticdc_kafka);
        s->state = c->consumer_started ? "online" : "stopped";
        s->is_pulling = c->consumer_started;
        s->in_merge = true;
        s->last_ts = st.watermark;
        s->recv_ms = c->info[p].recv_ms;
        int64_t since = s->recv_ms != 0 ? s->recv_ms : r->started_ms;
        s->silent_ms = out->now_ms - since;
        s->binlogs = c->info[p].messages;
        s->queued = tr_merge_queued(r->merge, p) + st.pending;
        s->is_unreachable = s->is_pulling && s->silent_ms > TR_UPSTREAM_UNREACHABLE_MS;
    }
}
