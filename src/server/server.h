/*
 * The MySQL-protocol front: listeners for each enabled flavour on one libuv
 * loop, client sessions (handshake, auth, the queries replicas and tools send,
 * admin statements) and binlog dumps served from the store's files.
 */
#ifndef TR_SERVER_SERVER_H
#define TR_SERVER_SERVER_H

#include <uv.h>

#include "common/defs.h"
#include "common/upstream.h"
#include "common/config.h"
#include "store/store.h"

typedef struct tr_server tr_server_t;

/*
 * Binds every configured listener on loop and starts accepting. keeps loop,
 * cfg and store (must outlive the server). Returns 0 or a negative libuv/TR
 * code with *why (static text). Thread: loop.
 */
int tr_server_start(uv_loop_t *loop, const tr_config_t *cfg, tr_store_t *store,
                    tr_server_t **out, const char **why) TR_MUSTCHECK;

/* Serves a connected socket as a client of the listener of flavour f, as if accepted
 * (takes fd; a socketpair end in unit tests). Thread: loop. */
void tr_server_adopt(tr_server_t *srv, int fd, tr_flavor_t f);

/* New committed binlog bytes are readable: wakes waiting dumps. Thread: any
 * (uses uv_async_send); safe to call from the store's notify callback. */
void tr_server_notify(tr_server_t *srv);

/*
 * Where the server reads the upstream's status (SHOW RELAY STATUS, SHOW BINLOG POSITION):
 * main wires the relay in, so this side includes nothing of the upstream. status fills
 * *out (sources owned: tr_upstream_status_cleanup) and returns 0; it may wait on the
 * upstream's locks, so admin jobs call it off the loop thread.
 */
typedef struct {
    int (*status)(void *arg, tr_upstream_status_t *out);
    void *arg;
} tr_server_upstream_t;

/* Gives the server its upstream (copied). Thread: loop. */
void tr_server_set_upstream(tr_server_t *srv, const tr_server_upstream_t *up);

/* Detaches the upstream: released(arg) runs on the loop once no admin job uses
 * it any more (at once when none does); then it may be stopped. Thread: loop. */
void tr_server_release_upstream(tr_server_t *srv, void (*released)(void *arg), void *arg);

/* ---- statistics (loop thread; /metrics) ---- */

/* Client-side error kinds, counted for tirelay_errors_total{kind}. */
typedef enum {
    TR_SRV_ERR_AUTH = 0,     /* access denied (bad user or password, TLS required) */
    TR_SRV_ERR_CLIENT,       /* other failed sessions (malformed packets, bad requests) */
    TR_SRV_ERR_DUMP,         /* a dump refused or ended with ERR 1236 */
    TR_SRV_ERR_DUMP_STALLED, /* a dump whose client read nothing for dump-stall-timeout-ms */
    TR_SRV_ERR_TLS,          /* TLS handshake failed */
    TR_SRV_ERR_COUNT
} tr_server_err_t;

/* Stable snake_case name of kind ("auth_denied", ...). */
const char *tr_server_err_name(tr_server_err_t kind);

/* One running binlog dump (a replica, mariadb-binlog, a CDC client). */
typedef struct {
    uint32_t sess_id;         /* connection id */
    char peer[80];            /* ip:port */
    char user[64];
    uint32_t server_id;       /* the replica's server_id from its dump request (0 = none) */
    tr_flavor_t flavor;       /* the listener's flavour: which file set it reads */
    const char *mode;         /* static text: file, mariadb-gtid, mysql-gtid */
    char file[96];            /* file being read */
    uint32_t file_seq;        /* its number (1 = .000001) */
    uint64_t pos;             /* offset of the next byte to send in it */
    bool caught_up;           /* sent everything committed; waiting for more */
    uint32_t last_event_ts;   /* header timestamp of the last event sent (0 = none yet) */
} tr_server_dump_stats_t;

typedef struct {
    size_t sessions;                /* client connections */
    tr_server_dump_stats_t *dumps;  /* returns owned: free with tr_free */
    size_t n_dumps;
    uint64_t errors[TR_SRV_ERR_COUNT];
    uint64_t batches_framed; /* dump batches read from the binlog and framed */
    uint64_t batches_shared; /* dump batches sent as another dump had framed them */
} tr_server_stats_t;

/* Fills out. Thread: loop. */
void tr_server_stats(tr_server_t *srv, tr_server_stats_t *out);

/* Closes listeners and every session; done(arg) runs on the loop once every
 * handle is closed and the server is freed. Thread: loop. */
void tr_server_close(tr_server_t *srv, void (*done)(void *arg), void *arg);

#endif
