/*
 * Test fixture: a tirelay MySQL-protocol server over a synthetic store, with
 * no upstream. Creates (or reopens) a store in DIR, appends N small DML
 * transactions (GTID, BEGIN, TABLE_MAP d.t, WRITE_ROWS, XID; MySQL flavour)
 * through the store API, serves them with tr_server_start on 127.0.0.1:PORT
 * (user repl / password pw, server_id 42) and, every EVERY_MS milliseconds
 * (0 = never), appends and commits one more transaction and notifies the
 * server. Prints "READY <port>" on stdout once listening. Environment
 * TR_FIXTURE_SERVER_CONF / TR_FIXTURE_USERS_CONF add config lines to [server]
 * and [users]; repl is in [server] admin-users unless the [server] lines set it.
 *
 * Usage: tr_serve_fixture DIR PORT N [MAX_BINLOG_SIZE [EVERY_MS [LOG_LEVEL]]]
 * Built by tests/integration/server_e2e.sh (test-only tooling).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "common/buf.h"
#include "common/log.h"
#include "protocol/binlog_event.h"
#include "protocol/rows.h"
#include "common/config.h"
#include "server/server.h"
#include "store/store.h"

static const uint8_t uuid[16] = {0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1,
                                 0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x11};

static tr_store_t *store;
static tr_server_t *server;
static uint64_t next_gno = 1;

static int add_txn(uint64_t gno)
{
    uint32_t ts = 1700000000u + (uint32_t)gno;
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_evt_writer_t w;
    tr_evt_writer_init(&w, &b, tr_store_txn_pos(store, TR_FLAVOR_MYSQL), TR_FLAVOR_MYSQL, 42, true);
    w.timestamp = ts;
    tr_gtid_event_t g;
    memset(&g, 0, sizeof(g));
    memcpy(g.uuid, uuid, 16);
    g.gno = gno;
    g.sequence_number = 1;
    g.commit_ts_us = (uint64_t)ts * 1000000;
    tr_evt_put_gtid(&w, &g);
    tr_query_event_t q;
    memset(&q, 0, sizeof(q));
    q.sql = "BEGIN";
    q.sql_len = 5;
    q.db = "";
    tr_evt_put_query(&w, &q);
    tr_col_def_t cols[2] = {
        {.type = TR_MYSQL_TYPE_LONG, .name = "id"},
        {.type = TR_MYSQL_TYPE_VARCHAR, .meta = 40, .nullable = true, .name = "v"},
    };
    tr_evt_put_table_map(&w, 100, "d", 1, "t", 1, cols, 2);
    tr_evt_rows_begin(&w, TR_EVT_WRITE_ROWS, 100, 2);
    tr_rows_image_t img;
    tr_rows_image_begin(&img, &b, 2);
    tr_rows_put_int(&b, TR_MYSQL_TYPE_LONG, (int64_t)gno);
    tr_rows_put_varchar(&b, 40, (const uint8_t *)"value", 5);
    tr_evt_rows_end(&w, TR_ROWS_STMT_END);
    tr_evt_put_xid(&w, gno);
    int r = tr_store_txn_append(store, TR_FLAVOR_MYSQL, b.data, b.len);
    tr_buf_cleanup(&b);
    if (r != 0) {
        return r;
    }
    tr_txn_info_t info = {gno, (int64_t)gno * 1000, 1, ts};
    return tr_store_txn_end(store, &info);
}

static void on_store_commit(void *arg)
{
    tr_server_notify(arg);
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    if (add_txn(next_gno++) != 0 || tr_store_commit(store) != 0) {
        fprintf(stderr, "fixture: append failed\n");
        exit(1);
    }
}

static uv_timer_t tick;
static uv_signal_t sig;

static void on_server_closed(void *arg)
{
    fprintf(stderr, "fixture: server closed\n");
}

/* Clean shutdown: server (and its sessions) first, then our own handles. */
static void on_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    tr_server_close(server, on_server_closed, NULL);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_close((uv_handle_t *)&sig, NULL);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s DIR PORT N [MAX_BINLOG_SIZE [EVERY_MS [LOG_LEVEL]]]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    unsigned port = (unsigned)strtoul(argv[2], NULL, 10);
    uint64_t n = strtoull(argv[3], NULL, 10);
    uint64_t max_size = argc > 4 ? strtoull(argv[4], NULL, 10) : 1024 * 1024;
    uint64_t every_ms = argc > 5 ? strtoull(argv[5], NULL, 10) : 0;
    tr_log_set_level(argc > 6 ? (tr_log_level_t)tr_log_level_parse(argv[6]) : TR_LOG_INFO);
    signal(SIGPIPE, SIG_IGN);

    static tr_config_t cfg;
    char text[4096];
    char err[256];
    /* Optional extra lines for [server] (e.g. tls-cert, require-tls) and
     * [users] (tests/integration/test_auth.py). */
    const char *xs = getenv("TR_FIXTURE_SERVER_CONF");
    const char *xu = getenv("TR_FIXTURE_USERS_CONF");
    /* repl is an admin account unless the extra [server] lines say who is. */
    bool xa = xs != NULL && strstr(xs, "admin-users") != NULL;
    snprintf(text, sizeof(text),
             "[server]\nlisten = 127.0.0.1:%u\nserver-id = 42\n"
             "server-uuid = 3e11fa47-71ca-11e1-9e33-c80aa9429511\n%s\n%s\n"
             "[users]\nrepl = pw\n%s\n[upstream]\npumps = 127.0.0.1:1\ntidb = root:@127.0.0.1:1\n",
             port, xs ? xs : "", xa ? "" : "admin-users = repl", xu ? xu : "");
    tr_config_defaults(&cfg);
    if (tr_config_parse(&cfg, text, "fixture", NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "fixture: config: %s\n", err);
        return 1;
    }
    /* The server keeps its RSA key pair in the store directory: DIR, not ./tirelay-data. */
    snprintf(cfg.store_dir, sizeof(cfg.store_dir), "%s", dir);
    tr_store_opts_t o;
    memset(&o, 0, sizeof(o));
    o.dir = dir;
    o.basename = "tirelay-bin";
    o.max_binlog_size = max_size;
    o.sync = TR_SYNC_NONE;
    o.server_id = 42;
    memcpy(o.server_uuid, uuid, 16);
    o.gtid_start = 1;
    o.flavors[TR_FLAVOR_MYSQL] = true;
    o.server_version[TR_FLAVOR_MYSQL] = "8.0.36-tirelay";
    tr_store_checkpoint_t cp;
    const char *why = NULL;
    if (tr_store_open(&o, &store, &cp, &why) != 0) {
        fprintf(stderr, "fixture: store: %s\n", why ? why : "?");
        return 1;
    }
    next_gno = cp.has_txn ? cp.gtid_no + 1 : 1;
    for (uint64_t i = 0; i < n; i++) {
        if (add_txn(next_gno++) != 0) {
            fprintf(stderr, "fixture: append failed\n");
            return 1;
        }
        if ((i + 1) % 100 == 0 && tr_store_commit(store) != 0) {
            fprintf(stderr, "fixture: commit failed\n");
            return 1;
        }
    }
    if (tr_store_commit(store) != 0) {
        fprintf(stderr, "fixture: commit failed\n");
        return 1;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    if (tr_server_start(&loop, &cfg, store, &server, &why) != 0) {
        fprintf(stderr, "fixture: server: %s\n", why ? why : "?");
        return 1;
    }
    tr_store_set_notify(store, on_store_commit, server);
    uv_timer_init(&loop, &tick);
    if (every_ms > 0) {
        uv_timer_start(&tick, on_tick, every_ms, every_ms);
    }
    uv_signal_init(&loop, &sig);
    uv_signal_start(&sig, on_signal, SIGTERM);
    printf("READY %u\n", port);
    fflush(stdout);
    uv_run(&loop, UV_RUN_DEFAULT);
    tr_store_free(store);
    int rc = uv_loop_close(&loop);
    fprintf(stderr, "fixture: stopped loop_close=%d\n", rc);
    return rc == 0 ? 0 : 1;
}
