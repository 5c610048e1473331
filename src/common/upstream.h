/*
 * The upstream's status as the serving side and the metrics show it: a plain
 * snapshot the relay fills (relay/relay.h tr_relay_status) and main hands to
 * the server through a callback (server/server.h tr_server_upstream_t), so the
 * two sides share this type and no header. One row per source: a Pump, or a
 * partition of the TiCDC topic.
 */
#ifndef TR_COMMON_UPSTREAM_H
#define TR_COMMON_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A source that is online and pulled but has delivered nothing (a Pump writes a fake
 * binlog every 3 s when idle) for this long shows as unreachable. */
#define TR_UPSTREAM_UNREACHABLE_MS 15000

/* Upstream error kinds, counted for tirelay_errors_total{kind} (/metrics). */
typedef enum {
    TR_UPSTREAM_ERR_MALFORMED = 0, /* a queued binlog or prewrite value did not decode */
    TR_UPSTREAM_ERR_DROPPED,       /* duplicate or out-of-order binlog dropped by the merge */
    TR_UPSTREAM_ERR_REFUSED,       /* the merge refused a delivered binlog */
    TR_UPSTREAM_ERR_SCHEMA,        /* DDL history read or apply failed */
    TR_UPSTREAM_ERR_TRANSLATE,     /* a transaction could not be translated */
    TR_UPSTREAM_ERR_STORE,         /* append or group commit failed */
    TR_UPSTREAM_ERR_COUNT
} tr_upstream_err_t;

/* Stable snake_case name of kind ("malformed_binlog", ...). */
const char *tr_upstream_err_name(tr_upstream_err_t kind);

/* One source (a Pump, or a partition of the TiCDC topic) as the status shows it. */
typedef struct {
    const char *kind;       /* static text: "pump" or "partition" (NULL reads as "pump") */
    char node_id[128];      /* etcd node id (static mode: the address) */
    char addr[256];         /* host:port pulled */
    const char *state;      /* static text: its etcd state (online, pausing, paused, closing,
                             * offline, unknown; static mode: online) */
    bool is_pulling;        /* a client runs for it */
    bool in_merge;          /* still a merge source (false: offline and drained) */
    bool is_unreachable;    /* online and pulled, but nothing received lately */
    int64_t last_ts;        /* last commit_ts received (binlog or fake); 0 = none this run */
    int64_t recv_ms;        /* wall clock (ms since the epoch) of that delivery; 0 = none */
    int64_t silent_ms;      /* since that delivery, or since the source joined when none */
    uint64_t binlogs;       /* deliveries accepted this run, fake binlogs included */
    size_t queued;          /* transactions waiting in the merge */
} tr_upstream_source_t;

typedef struct {
    int64_t now_ms;          /* wall clock when taken */
    bool is_discovery;       /* sources from etcd (else the static list) */
    const char *input;       /* static text: "static", "discovery" or "ticdc-kafka" */
    bool has_failed;         /* translation stopped on an error it cannot get past */
    bool is_store_full;      /* the file system is full: appending paused, retried with backoff */
    int64_t merge_watermark; /* every binlog at or below it has been released or never comes */
    int64_t merge_last_ts;   /* commit_ts of the last released transaction */
    int64_t durable_ts;      /* watermark known durable (our Drainer maxCommitTS) */
    tr_upstream_source_t *sources; /* owned (tr_upstream_status_cleanup) */
    size_t n_sources;
    uint64_t rows;           /* row changes in transactions committed this run */
    uint64_t errors[TR_UPSTREAM_ERR_COUNT]; /* this run */
    int64_t writer_busy_ms;  /* the writer has been on one transaction or commit this long (0 idle) */
} tr_upstream_status_t;

/* Frees st's sources (st itself is the caller's). */
void tr_upstream_status_cleanup(tr_upstream_status_t *st);

#endif
