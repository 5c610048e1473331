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
#include "relay/relay.h"
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

/* Gives the server the relay for SHOW RELAY STATUS (keeps it). Thread: loop. */
void tr_server_set_relay(tr_server_t *srv, tr_relay_t *relay);

/* Detaches the relay: released(arg) runs on the loop once no admin job uses
 * it any more (at once when none does); then it may be stopped. Thread: loop. */
void tr_server_release_relay(tr_server_t *srv, void (*released)(void *arg), void *arg);

/* Closes listeners and every session; done(arg) runs on the loop once every
 * handle is closed and the server is freed. Thread: loop. */
void tr_server_close(tr_server_t *srv, void (*done)(void *arg), void *arg);

#endif
