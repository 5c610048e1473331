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
    int open_handles;        /* listeners + async + janitor still open */
    /* The upstream's status (tr_server_set_upstream); admin jobs that use it off
     * the loop are counted so that it is stopped only after them. */
    tr_server_upstream_t upstream;
    bool has_upstream;
    int upstream_users;
    void (*upstream_released)(void *arg);
    void *upstream_released_arg;
    bool has_sender;         /* dump writes offloaded to sender threads (conn.h) */
    uv_timer_t janitor;      /* periodic maintenance (janitor.h) */
    bool has_janitor;
    uint64_t idle_commits;   /* janitor: group commits seen at its last tick */
    bool idle_trimmed;       /* janitor: the heap was trimmed since the last activity */
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
/* The same on a connected socket (takes fd). */
void tr_sess_adopt(tr_server_t *srv, int fd, tr_flavor_t flavor);
/* Wakes the session's dump, if any. */
void tr_sess_notify(tr_sess_t *s);
/* Closes the session (drops unsent output). Idempotent. */
void tr_sess_close(tr_sess_t *s);
/* Wakes every session's dump (new committed bytes). */
void tr_sess_notify_all(tr_server_t *srv);
/* Closes every session (the server is closing). */
void tr_sess_close_all(tr_server_t *srv);


/* A registered replica as SHOW REPLICAS lists it. */
typedef struct {
    uint32_t server_id;
    char host[64];           /* report_host from COM_REGISTER_SLAVE, else the peer address */
    uint16_t port;
    uint32_t master_id;
    char uuid[64];           /* @replica_uuid / @slave_uuid ("" if unset) */
} tr_sess_replica_t;

/* One live session as the operator statements and the statistics see it (session.c
 * fills it; nothing outside session.c sees the session itself). */
typedef struct {
    uint32_t id;
    tr_flavor_t flavor;      /* the listener's */
    const char *user;        /* "" before login */
    const char *peer;        /* ip:port */
    bool is_replica;         /* sent COM_REGISTER_SLAVE (replica valid) */
    tr_sess_replica_t replica;
    const tr_dump_t *dump;   /* its running dump, or NULL */
} tr_sess_info_t;

/* Calls fn for every live session (not closing), in connection order, until it returns
 * false. Thread: loop. */
void tr_sess_each(tr_server_t *srv, bool (*fn)(void *arg, const tr_sess_info_t *s), void *arg);

/* ---- server.c ---- */

/* A session was freed (and unlinked from srv->sessions): finishes a pending close. */
void tr_server_sess_gone(tr_server_t *srv);

/* The upstream for an admin job, copied into *out: false when detached. Counted until
 * tr_server_upstream_done. */
bool tr_server_upstream_use(tr_server_t *srv, tr_server_upstream_t *out);
void tr_server_upstream_done(tr_server_t *srv);

#endif
