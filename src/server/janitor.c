/* Periodic maintenance of the serving side (janitor.h). */
#include "server/janitor.h"

#include "server/admin.h"
#include "server/conn.h"
#include "server/dump.h"

static void on_tick(uv_timer_t *t)
{
    tr_server_t *srv = t->data;
    uint64_t now = uv_now(srv->loop);
    tr_conn_pool_trim(now);
    tr_dump_shared_trim(srv, now, TR_DUMP_SHARED_IDLE_MS);
    if (srv->cfg->expire_logs_seconds > 0 || srv->cfg->max_binlog_total_size > 0) {
        tr_admin_retention(srv);
    }
}

void tr_janitor_start(tr_server_t *srv)
{
    (void)uv_timer_init(srv->loop, &srv->janitor);
    srv->janitor.data = srv;
    srv->open_handles++;
    srv->has_janitor = true;
    (void)uv_timer_start(&srv->janitor, on_tick, TR_JANITOR_TICK_MS, TR_JANITOR_TICK_MS);
}

void tr_janitor_stop(tr_server_t *srv, uv_close_cb on_closed)
{
    if (srv->has_janitor) {
        srv->has_janitor = false;
        uv_close((uv_handle_t *)&srv->janitor, on_closed);
    }
}
