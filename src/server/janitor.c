/* Periodic maintenance of the serving side (janitor.h). */
#include "server/janitor.h"

#include "common/mem.h"
#include "server/admin.h"
#include "server/conn.h"
#include "server/dump.h"

/*
 * After a burst the process idles with the heap pages it freed still resident (tr_mem_tune
 * keeps buffers under 32 MiB on the heap, with a 64 MiB trim threshold per arena). Once a whole
 * tick passed with no group commit and no dump batch taken, they go back to the system,
 * once per idle stretch (the pool and the TiCDC record log trim when they free theirs).
 */
static void idle_trim(tr_server_t *srv, uint64_t now)
{
    tr_store_stats_t st;
    tr_store_stats(srv->store, &st);
    uint64_t used = tr_conn_pool_last_use();
    if (st.group_commits != srv->idle_commits || (used != 0 && now - used < TR_JANITOR_TICK_MS)) {
        srv->idle_commits = st.group_commits;
        srv->idle_trimmed = false;
        return;
    }
    if (!srv->idle_trimmed) {
        srv->idle_trimmed = true;
        tr_mem_trim();
    }
}

static void on_tick(uv_timer_t *t)
{
    tr_server_t *srv = t->data;
    uint64_t now = uv_now(srv->loop);
    tr_conn_pool_trim(now);
    idle_trim(srv, now);
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
