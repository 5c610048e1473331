/*
 * Internals shared by the files of the server module (server.c, session.c,
 * dump.c): the server object and the session services the dump uses.
 * Not a public interface. Thread: loop, everything.
 */
#ifndef TR_SERVER_SERVER_INTERNAL_H
#define TR_SERVER_SERVER_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "common/defs.h"
#include "protocol/binlog_event.h"
#include "common/config.h"
#include "server/server.h"
#include "server/tls.h"
#include "store/store.h"

/*
 * Version strings of the MySQL-flavour listener. The handshake (read by
 * replicas: MariaDB and MySQL both only need a leading major >= 5) and the
 * stored FORMAT_DESCRIPTION say 8.0.36. SELECT VERSION() / @@version answer
 * 5.7.99-tirelay instead: MariaDB's mariadb-binlog 10.11 accepts only a
 * major version of 3, 4, 5 or 10 from VERSION() (client/mysqlbinlog.cc
 * check_master_version; verified against this server answering "8.0.36-tirelay":
 * "Could not find server version: Master reported unrecognized MariaDB version
 * '8.0.36-tirelay'."), while MySQL's mysqlbinlog accepts a leading 5, 8 or 9.
 */
#define TR_SRV_VERSION_HANDSHAKE "8.0.36-tirelay"
#define TR_SRV_VERSION_SQL       "5.7.99-tirelay"
#define TR_SRV_VERSION_COMMENT   "tirelay"
/*
 * Version strings of the MariaDB-flavour listener, as a MariaDB 10.11 primary
 * sends them: the handshake carries the "5.5.5-" prefix (Connector/C and the
 * replica strip it; MariaDB servers before 11.0 always send it), VERSION() /
 * @@version answer without it (mariadb-binlog 10.11 accepts a leading 10).
 */
#define TR_SRV_MARIA_VERSION_HANDSHAKE "5.5.5-10.11.6-MariaDB-tirelay"
#define TR_SRV_MARIA_VERSION_SQL       "10.11.6-MariaDB-tirelay-log"
#define TR_SRV_MARIA_VERSION_COMMENT   "tirelay (MariaDB flavour)"

#define TR_SRV_MAX_PACKET   (16u * 1024 * 1024)   /* largest client packet we accept */
#define TR_SRV_MAX_EVENT    (1024u * 1024 * 1024) /* max_log_event_size */
#define TR_SRV_WRITE_HIGH   (4u * 1024 * 1024)    /* stop reading binlog above this queue */
#define TR_SRV_WRITE_LOW    (1u * 1024 * 1024)    /* resume below this */
/* Framed dump batches kept for other dumps (dump.c): 128 x 256 KiB of binlog. With
 * 32 a fleet of 100 readers drifted apart and half its batches were framed again;
 * with 128, 99% were shared (bench/serve.py). Dropped after a second unused. */
#define TR_SRV_SHARED_SLOTS 128
#define TR_SRV_SENDERS      4 /* sender threads for dump writes, at most (one per core) */

typedef struct tr_sess tr_sess_t;
typedef struct tr_dump tr_dump_t;

/* Failed logins of one peer address (session.c deny): after TR_SRV_AUTH_FREE_FAILS
 * failures within TR_SRV_AUTH_WINDOW_MS of each other the peer is throttled — each later
 * failure is answered TR_SRV_AUTH_DELAY_MS late and counted instead of logged (one line
 * when throttling starts, then a count at most once per window). Successful logins are
 * never delayed. */
#define TR_SRV_AUTH_PEERS      64     /* peers tracked (least recently failing replaced) */
#define TR_SRV_AUTH_FREE_FAILS 5
#define TR_SRV_AUTH_WINDOW_MS  60000
#define TR_SRV_AUTH_DELAY_MS   500
#define TR_SRV_AUTH_MAX_DELAYED 64    /* delayed answers pending per peer; more are immediate */
typedef struct {
    char ip[64];           /* "" = free slot */
    uint32_t fails;        /* failures since the window opened */
    uint64_t last_fail_ms; /* uv_now of the last failure */
    uint64_t reported_ms;  /* last log line about this peer */
    uint32_t unreported;   /* failures not logged since reported_ms */
    uint32_t delayed;      /* sessions waiting for their delayed ERR */
    bool throttled;
} tr_auth_peer_t;

struct tr_server {
    uv_loop_t *loop;
    const tr_config_t *cfg;  /* keeps */
    tr_store_t *store;       /* keeps */
    uv_tcp_t listen_mysql;
    bool has_mysql;
    uv_tcp_t listen_mariadb; /* MariaDB-flavour listener (cfg->mariadb_listen) */
    bool has_mariadb;
    uv_async_t notify;
    tr_tls_t *tls;           /* owned: TLS context (if configured) + RSA key */
    /* caching_sha2_password fast-path cache, one flag per cfg->users entry:
     * set = the fast path may succeed (MySQL: after one full authentication). */
    bool sha2_cached[TR_CONFIG_MAX_USERS];
    tr_auth_peer_t auth_peers[TR_SRV_AUTH_PEERS]; /* failed-login throttling (session.c) */
    tr_sess_t *sessions;     /* doubly linked list of live sessions */
    size_t n_sessions;
    uint32_t next_conn_id;
    bool closing;
    int open_handles;        /* listener + async (+ retention timer) still open */
    /* The upstream's status (tr_server_set_upstream); admin jobs that use it off
     * the loop are counted so that it is stopped only after them. */
    tr_server_upstream_t upstream;
    bool has_upstream;
    int upstream_users;
    void (*upstream_released)(void *arg);
    void *upstream_released_arg;
    bool has_sender;         /* dump writes offloaded to sender threads (conn.h) */
    uv_timer_t retention;    /* expire-logs-seconds / max-binlog-total-size checks */
    bool has_retention;
    uint32_t retention_held_seq[TR_FLAVOR_COUNT]; /* last "file kept for a dump" logged */
    uint64_t errors[TR_SRV_ERR_COUNT]; /* tr_server_stats */
    /* Framed dump batches kept for other dumps at the same point (dump.c). */
    struct tr_shared_batch *shared[TR_SRV_SHARED_SLOTS];
    uint64_t batches_framed; /* dump batches read and framed */
    uint64_t batches_shared; /* dump batches sent from shared[] instead */
    void (*done)(void *arg);
    void *done_arg;
};

/* ---- session.c ---- */

/* Accepts a connection from listener and sends the greeting. Logs failures. */
void tr_sess_accept(tr_server_t *srv, uv_stream_t *listener, tr_flavor_t flavor);
/* Wakes the session's dump, if any. */
void tr_sess_notify(tr_sess_t *s);
/* Closes the session (drops unsent output). Idempotent. */
void tr_sess_close(tr_sess_t *s);
uint32_t tr_sess_id(const tr_sess_t *s);
tr_sess_t *tr_sess_next(const tr_sess_t *s);

/* Services used by dump.c. */
tr_server_t *tr_sess_server(const tr_sess_t *s);
tr_flavor_t tr_sess_flavor(const tr_sess_t *s);
/* Value of a user variable (NUL-terminated) or NULL when unset / NULL. */
const char *tr_sess_uvar(const tr_sess_t *s, const char *name);
/* Next packet sequence id (advanced by the writer). */
uint8_t *tr_sess_seq(tr_sess_t *s);
/* Queues framed bytes (takes b's storage). Returns 0 or a negative code. */
int tr_sess_send(tr_sess_t *s, tr_buf_t *b) TR_MUSTCHECK;
/* Queues bytes borrowed until release(ref) (tr_conn_write_ref). */
int tr_sess_send_ref(tr_sess_t *s, const uint8_t *data, size_t len, void (*release)(void *ref),
                     void *ref) TR_MUSTCHECK;
size_t tr_sess_queued_bytes(const tr_sess_t *s);
/* Moves the session's writes to a sender thread (tr_conn_offload); true once moved. */
bool tr_sess_offload(tr_sess_t *s);
/* Sends ERR (code, its SQLSTATE, formatted message), logs once, closes after the flush. */
void tr_sess_fail(tr_sess_t *s, uint16_t code, const char *fmt, ...) TR_PRINTF(3, 4);
/* tr_sess_fail with a va_list (for wrappers that add their own context). */
void tr_sess_vfail(tr_sess_t *s, uint16_t code, const char *fmt, va_list ap) TR_PRINTF(3, 0);
/* Closes after the queued output has been flushed (end of a non-blocking dump). */
void tr_sess_finish(tr_sess_t *s);
const char *tr_sess_peer(const tr_sess_t *s);

/* Admin support (session.c): a registered replica as SHOW REPLICAS lists it. */
typedef struct {
    uint32_t server_id;
    char host[64];           /* report_host from COM_REGISTER_SLAVE, else the peer address */
    uint16_t port;
    uint32_t master_id;
    char uuid[64];           /* @replica_uuid / @slave_uuid ("" if unset) */
} tr_sess_replica_t;
/* True (and *out filled) when s sent COM_REGISTER_SLAVE and is not closing. */
bool tr_sess_replica(const tr_sess_t *s, tr_sess_replica_t *out);
/* The session's running dump, or NULL. */
const tr_dump_t *tr_sess_dump(const tr_sess_t *s);
/* The authenticated user name. */
const char *tr_sess_user(const tr_sess_t *s);

/*
 * Answers computed off the loop (admin lookups in uv_queue_work): tr_sess_hold
 * stops reading and answering the session's statements and keeps it
 * allocated; the answer is then appended to tr_sess_out (with the sequence
 * ids of tr_sess_seq) and tr_sess_unhold sends it, answers whatever the
 * client sent meanwhile and drops the reference (the session may be freed:
 * do not touch it afterwards). If the client went away meanwhile,
 * tr_sess_is_live is false and unhold just drops the reference.
 */
void tr_sess_hold(tr_sess_t *s);
void tr_sess_unhold(tr_sess_t *s);
bool tr_sess_is_live(const tr_sess_t *s);
tr_buf_t *tr_sess_out(tr_sess_t *s);
bool tr_sess_deprecate_eof(const tr_sess_t *s);

/* ---- dump.c ---- */

/* Number of the file the dump currently reads (admin: PURGE never removes it). */
uint32_t tr_dump_file_seq(const tr_dump_t *d);
/* Fills the dump's mode, server_id, file, pos, caught_up and last_event_ts. */
void tr_dump_stats(const tr_dump_t *d, tr_server_dump_stats_t *out);

/* Validates a COM_BINLOG_DUMP and sends the fake ROTATE + FD; on a bad
 * request it answers ERR 1236 through tr_sess_fail itself and returns NULL.
 * The session stores the returned dump (so tr_dump_close can reach it),
 * then calls tr_dump_run to stream. */
tr_dump_t *tr_dump_start(tr_sess_t *s, uint64_t pos, uint16_t flags, uint32_t replica_server_id,
                         const char *file, size_t file_len);
/* COM_BINLOG_DUMP_GTID (MySQL auto-positioning, spec 4.3/4.4): gtid_data is
 * the replica's encoded executed set; file (may be empty) and pos as sent.
 * Same contract as tr_dump_start. */
tr_dump_t *tr_dump_start_gtid(tr_sess_t *s, uint16_t flags, uint32_t replica_server_id,
                              const char *file, size_t file_len, uint64_t pos,
                              const uint8_t *gtid_data, size_t gtid_len);
/* GTID position of file name at pos in flavour f, as binlog_gtid_pos() answers it:
 * "D-S-N" (MariaDB) or "uuid:1-N" (MySQL), "" before the first GTID. Reads the
 * file (loop thread, headers only). Returns 0, TR_ENOTFOUND (no such file, pos
 * past its end), TR_EMALFORMED (pos is not an event boundary) or -errno. */
int tr_dump_gtid_pos_at(tr_server_t *srv, tr_flavor_t f, const char *name, uint64_t pos,
                        char *out, size_t cap);
/* Streams events (may finish or fail the session before returning). */
void tr_dump_run(tr_dump_t *d);
/* New readable bytes may exist. */
void tr_dump_notify(tr_dump_t *d);
/* A write completed: continue if the queue drained. */
void tr_dump_drain(tr_dump_t *d);
/* Stops the dump; done(arg) runs once its timer handle is closed. */
void tr_dump_close(tr_dump_t *d, void (*done)(void *arg), void *arg);
/* Drops the shared batches nobody used for a second (all of them: idle_ms 0). */
void tr_dump_shared_trim(tr_server_t *srv, uint64_t now_ms, uint64_t idle_ms);

/* ---- server.c ---- */

/* A session was freed (and unlinked from srv->sessions): finishes a pending close. */
void tr_server_sess_gone(tr_server_t *srv);

/* The upstream for an admin job, copied into *out: false when detached. Counted until
 * tr_server_upstream_done. */
bool tr_server_upstream_use(tr_server_t *srv, tr_server_upstream_t *out);
void tr_server_upstream_done(tr_server_t *srv);

#endif
