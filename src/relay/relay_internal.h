/*
 * The relay itself, shared by the files that make it (nothing else sees it): relay.c
 * (start, stop, status, the one failure path), members.c (the Pumps: their clients
 * feeding the merge, and membership from etcd), ddl.c (the DDL history: fetching jobs,
 * bringing the schema to a version, preparing a DDL's statement) and writer.c (the
 * writer thread: releasing, translating, storing, committing in groups).
 */
#ifndef TR_RELAY_RELAY_INTERNAL_H
#define TR_RELAY_RELAY_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "common/mem.h"
#include "protocol/tidb_binlog.h"
#include "protocol/tidb_node.h"
#include "protocol/tidb_schema.h"
#include "relay/discovery.h"
#include "relay/filter.h"
#include "relay/merge.h"
#include "relay/pump_client.h"
#include "relay/relay.h"
#include "relay/schema.h"
#include "relay/schema_fetch.h"
#include "relay/spool.h"
#include "relay/translate.h"

#define MAX_QUEUED_PER_PUMP 1024       /* transactions waiting per Pump before it blocks */
#define LOW_QUEUED_PER_PUMP 512        /* a blocked Pump is woken once its queue is down to this */
#define MAX_GROUP_TXNS      512        /* transactions per group commit at most */
#define MAX_MEMBERS         256        /* Pumps known at once */
#define OFFLINE_WARN_MS     30000      /* an offline Pump not drained yet: one warning per period */
#define TXN_FLUSH_BYTES     (1u << 20) /* translated output handed to the store at this size */
#define PAGER_INTERVAL_MS   2 /* a mapped message's pages are dropped this often while in use */

/* One Pump. Fields marked (mu) are read by pump threads or the writer under
 * r->mu; the rest belong to whoever holds r->members_mu. */
typedef struct {
    char node_id[128];
    char host[256];
    uint32_t source_id;       /* merge source id, never reused */
    tr_node_state_t state;    /* last state applied */
    tr_pump_client_t *client; /* NULL while not pulling */
    int64_t resume_ts;        /* restart point of a stopped client */
    int64_t offline_max;      /* (mu) leave once pulled_ts reaches it; when leaving */
    int64_t pulled_ts;        /* (mu) last commit_ts pushed or watermarked (or the start offset) */
    bool leaving;             /* (mu) offline: leave the merge once drained */
    bool in_merge;            /* (mu) false once the writer removed the source */
    bool cancelling;          /* (mu) the client is being stopped: refuse deliveries */
    int64_t warned_ms;        /* last "offline not drained" warning */
    int64_t recv_ms;          /* (mu) wall clock of the last delivery (0 = none yet) */
    int64_t joined_ms;        /* wall clock when it joined the merge */
    uint64_t binlogs;         /* (mu) deliveries accepted, fake binlogs included */
} member_t;

/* A queued transaction: the pump client's message (heap buffer or spool-file
 * mapping), kept as is (no copy). */
typedef struct {
    tr_spool_msg_t *msg;    /* owned */
    const uint8_t *payload; /* the marshalled binlog.Binlog inside msg */
    size_t len;
} pending_t;

static inline void pending_free(pending_t *p)
{
    if (p != NULL) {
        tr_spool_msg_free(p->msg);
        tr_free(p);
    }
}

struct tr_relay {
    const tr_config_t *cfg;
    tr_store_t *store;

    pthread_mutex_t mu;
    pthread_cond_t ready; /* writer: something may be releasable, or stop */
    pthread_cond_t space; /* pumps: queue space freed, or stop; TiCDC: records released */
    tr_merge_t *merge;    /* under mu */
    bool stopping;        /* under mu */

    /* Members: the array changes under both locks, so pump threads (mu) and
     * the discovery thread (members_mu) each see it consistent. */
    pthread_mutex_t members_mu;
    member_t *members[MAX_MEMBERS];
    size_t n_members;
    uint32_t next_source_id;
    tr_discovery_t *discovery;
    tr_notify_server_t *notify; /* /binlog.Cistern/Notify, when notify-listen is set */
    _Atomic int64_t durable_ts; /* our Drainer maxCommitTS, see the file comment */

    pthread_t writer;
    bool writer_started;
    atomic_bool failed;
    int64_t started_ms; /* wall clock at start (status: unreachable since) */

    /* Writer-thread state. */
    tr_schema_t *schema;
    tr_schema_fetch_t *fetch;
    tr_arena_t arena;
    tr_buf_t out;
    tr_evt_tm_cache_t tm_cache[TR_FLAVOR_COUNT]; /* TABLE_MAP bodies per flavour */
    tr_buf_t ddl_sql[TR_FLAVOR_COUNT]; /* a DDL's statement per flavour (dialect rewriter) */
    bool ddl_sql_set;                  /* write_txn uses ddl_sql, not the binlog's text */
    tr_filter_t *filter;               /* [filter] rules, compiled once (writer thread) */
    tr_buf_t ddl_tmp;                  /* the filter's renaming of one ddl_sql */
    const char *ddl_db;                /* DDL default database after renames; NULL = as is */
    uint64_t filtered_txns;            /* DML transactions the filter dropped entirely */
    tr_catalog_t *catalog;             /* the last catalogue built (shares unchanged tables) */
    uint64_t catalog_gen;              /* tr_schema_generation it was built at */
    uint64_t next_gtid_no;
    size_t group_txns;   /* ended, not yet committed */
    uint64_t group_rows; /* row changes of those */

    /* Statistics (tr_relay_status), relaxed atomics: updated per transaction or
     * per group, never per row. */
    _Atomic uint64_t rows_written;
    _Atomic uint64_t errors[TR_UPSTREAM_ERR_COUNT];
    atomic_bool store_full;        /* wait_for_space is retrying a group (status, readiness) */
    _Atomic int64_t busy_since_ms; /* writer: monotonic ms it took the current step; 0 = idle */
    tr_spool_pager_t *pager;       /* drops the pages of a spooled message being processed */

    struct tr_cdc *cdc; /* the TiCDC input (ticdc.c), NULL on the Pump path */
};

/* ---- relay.c ---- */

/* The upstream's one failure path: counts the error for tirelay_errors_total{kind} and
 * logs it once, at the level its consequence has (WARN when the relay goes on, ERROR when
 * it stops or loses what it was doing), under the component that knows the detail. */
void tr_relay_error(tr_relay_t *r, tr_upstream_err_t kind, tr_log_level_t level, const char *comp,
                    const char *fmt, ...) TR_PRINTF(5, 6);
bool tr_relay_is_stopping(tr_relay_t *r);
/* Sleeps up to ms, returning early when the relay stops. */
void tr_relay_nap(tr_relay_t *r, int ms);

/* ---- members.c: the Pumps (merge sources, pump clients, membership from etcd) ---- */

/* Frees a queued transaction the merge drops (its free callback). */
void tr_relay_drop_pending(void *data);
/* Stops m's pump client (it stays a merge source). Caller holds members_mu. */
void tr_relay_stop_client(tr_relay_t *r, member_t *m);
/* Applies a Pump list from etcd or the static configuration (relay.c's header). */
void tr_relay_reconcile(tr_relay_t *r, const tr_node_status_t *pumps, size_t n);
/* The discovery thread's callback with a new Pump list (arg: the relay). */
void tr_relay_on_pumps(void *arg, const tr_node_status_t *pumps, size_t n);
/* The commit_ts released so far, which discovery publishes as our Drainer's progress. */
int64_t tr_relay_progress_ts(void *arg);
/* Removes offline Pumps that have been drained. Caller holds mu (writer thread). */
void tr_relay_reap_offline(tr_relay_t *r);

/* ---- ddl.c: the DDL history (jobs, the schema at a version, a DDL's statements) ---- */

/* The store's schema_jobs callbacks: keep a fetched job, load the kept ones at start. */
void tr_relay_keep_job(void *arg, int64_t job_id, const char *json, size_t len);
int tr_relay_load_job(void *arg, int64_t job_id, const char *json, size_t len);
/* Reads new jobs from TiDB's history (counted and logged on failure). */
int tr_relay_fetch_jobs(tr_relay_t *r);
/* Waits (fetching again with backoff) until job_id is in the history, or the relay stops. */
int tr_relay_wait_for_job(tr_relay_t *r, int64_t job_id);
/* Applies the history up to schema version. */
int tr_relay_advance_schema(tr_relay_t *r, int64_t version);
/* The statements a DDL binlog writes, by [upstream] ddl-unsupported; *write false when none. */
int tr_relay_prepare_ddl(tr_relay_t *r, const tr_tidb_binlog_t *b, const tr_ddl_job_t *job,
                         bool *write);
/* [filter] on a DDL: renames applied, or ddl-unsupported when it cannot be done safely. */
int tr_relay_filter_ddl(tr_relay_t *r, const tr_tidb_binlog_t *b, const tr_ddl_job_t *job,
                        const char *cross_why, bool *write);

/* ---- writer.c: the writer thread (release, translate, store, commit in groups) ---- */

/* Translates one transaction for the flavour of w (see tr_relay_write_txn). */
typedef int (*tr_relay_translate_fn)(void *arg, const tr_txn_ctx_t *ctx, tr_evt_writer_t *w,
                                     const char **why);
/* Appends one transaction to every enabled flavour through fn; counts it in the group. */
int tr_relay_write_txn(tr_relay_t *r, int64_t commit_ts, int64_t schema_version,
                       tr_relay_translate_fn fn, void *arg, bool refetch, const char *what_key,
                       int64_t what_value);
/* The writer's wait for work, shared by both inputs: true with the next releasable item
 * (caller holds mu); false when the writer is to end (mu not held): the relay stops (the
 * group committed first), or a group commit failed (fail-stopped here, which returns once
 * the relay stops). Commits the group whenever nothing more is releasable; an idle TiCDC
 * input stores its position and wakes every TR_RELAY_CDC_IDLE_MS to do it again. */
bool tr_relay_next_item(tr_relay_t *r, tr_merge_item_t *item, bool *dropped);
/* Makes the group durable and visible (one fsync); 0 when there is nothing to commit. */
int tr_relay_commit_group(tr_relay_t *r);
/* A transaction just ended past max-binlog-size in some flavour: commit now. */
bool tr_relay_rotation_due(tr_relay_t *r);
/* The writer cannot go on: what is durable stays served; waits for the stop. */
void tr_relay_fail_stop(tr_relay_t *r);
/* Publishes the merge watermark as durable progress. Caller holds mu. */
void tr_relay_note_durable(tr_relay_t *r);

/* ---- ticdc.c: the TiCDC inputs (r->cdc) ---- */

/* Hands the committed transactions' records to the collector and stores the position
 * with the group (before tr_store_commit), then releases them (after). */
void tr_relay_cdc_before_commit(tr_relay_t *r);
void tr_relay_cdc_after_commit(tr_relay_t *r);
/* An idle TiCDC input stores its position alone (when it moved) at most this often, so the
 * topic's retention never passes it while nothing is written. */
#define TR_RELAY_CDC_IDLE_MS 1000
/* The writer found nothing to release: store the position if due (not after a failure). */
void tr_relay_cdc_idle(tr_relay_t *r);

/* Builds the schema catalogue for the store when the schema changed: at once (now) or at
 * the next group commit. */
void tr_relay_refresh_catalog(tr_relay_t *r, bool now);
/* The writer thread's body (arg: the relay). */
void *tr_relay_writer_main(void *arg);

#endif
