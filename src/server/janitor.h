/*
 * The serving side's one periodic owner of maintenance (pgbouncer's janitor): every
 * second, on the loop, it frees the write buffers and the shared dump batches nobody
 * used for a second, and runs retention ([store] expire-logs-seconds,
 * max-binlog-total-size) when configured. Nothing else in the server keeps a timer for
 * housekeeping. Thread: loop.
 */
#ifndef TR_SERVER_JANITOR_H
#define TR_SERVER_JANITOR_H

#include "server/server_internal.h"

#define TR_JANITOR_TICK_MS 1000

/* Starts the tick (a handle counted in srv->open_handles). */
void tr_janitor_start(tr_server_t *srv);
/* Closes the tick's handle (on_closed runs when libuv has). */
void tr_janitor_stop(tr_server_t *srv, uv_close_cb on_closed);

#endif
