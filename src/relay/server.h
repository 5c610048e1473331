/*
 * The MySQL-protocol front: listeners for each enabled flavour on one libuv
 * loop, client sessions (handshake, auth, the queries replicas and tools send,
 * admin statements) and binlog dumps served from the store's files.
 */
#ifndef TR_RELAY_SERVER_H
#define TR_RELAY_SERVER_H

#include <uv.h>

#include "common/defs.h"
#include "relay/config.h"
#include "store/store.h"

typedef struct tr_server tr_server_t;

/*
 * Binds every configured listener on loop and starts accepting. keeps loop,
 * cfg and store (must outlive the server). Returns 0 or a negative libuv/TR
 * code with *why (static text). Thread: loop.
 */
int tr_server_start(uv_loop_t *loop, const tr_config_t *cfg, tr_store_t *store,
                    tr_server_t **out, const char **why) TR_MUSTCHECK;

/* New committed binlog bytes are readable: wakes waiting dumps. Thread: any
 * (uses uv_async_send); safe to call from the store's notify callback. */
void tr_server_notify(tr_server_t *srv);

/* Closes listeners and every session; done(arg) runs on the loop once every
 * handle is closed and the server is freed. Thread: loop. */
void tr_server_close(tr_server_t *srv, void (*done)(void *arg), void *arg);

#endif
