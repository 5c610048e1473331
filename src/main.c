/*
 * tirelay: argv, configuration, signals and wiring. Opens the store
 * (recovering it), starts the MySQL-protocol server on the libuv loop and the
 * upstream relay threads, and runs the loop until SIGTERM/SIGINT.
 * Exit codes: 0 clean stop, 1 runtime failure, 2 bad configuration or usage.
 */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "common/config.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/tso.h"
#include "metrics.h"
#include "relay/filter.h"
#include "relay/kafka_source.h"
#include "relay/pump_client.h"
#include "relay/relay.h"
#include "server/server.h"
#include "server/tls.h"
#include "store/store.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

static const char usage_text[] =
    "Usage: tirelay --config FILE [--check-config]\n"
    "       tirelay --version | --help\n"
    "\n"
    "Makes a TiDB cluster look like a MySQL primary: pulls TiDB Binlog from Pumps,\n"
    "writes MySQL binlog files and serves them to replicas and binlog clients.\n"
    "\n"
    "  -c, --config FILE    configuration file (see conf/tirelay.cnf)\n"
    "      --check-config   validate the configuration and exit (0 ok, 2 errors)\n"
    "  -V, --version        print the version and exit\n"
    "  -h, --help           print this help and exit\n";

typedef struct {
    uv_loop_t loop;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    tr_server_t *server;
    tr_relay_t *relay;
    tr_metrics_t *metrics;
    int exit_code;
    bool stopping;
} app_t;

static void on_store_commit(void *arg)
{
    tr_server_notify(arg);
}

static void on_server_closed(void *arg)
{
    app_t *app = arg;
    app->server = NULL;
    uv_close((uv_handle_t *)&app->sigterm, NULL);
    uv_close((uv_handle_t *)&app->sigint, NULL);
}

/* No admin job uses the relay any more: stop it, then the server. */
static void on_relay_released(void *arg)
{
    app_t *app = arg;
    tr_relay_stop(app->relay); /* joins the writer: everything complete is committed */
    app->relay = NULL;
    if (app->server != NULL) {
        tr_server_close(app->server, on_server_closed, app);
    } else {
        on_server_closed(app);
    }
}

/* The server's view of the upstream (server/server.h tr_server_upstream_t). */
static int relay_status(void *arg, tr_upstream_status_t *out)
{
    return tr_relay_status(arg, out);
}

static void on_signal(uv_signal_t *h, int signum)
{
    app_t *app = h->data;
    if (app->stopping) {
        return;
    }
    app->stopping = true;
    tr_log_info("main", "stopping signal=%d", signum);
    tr_metrics_stop(app->metrics); /* reads the relay, the store and the server: first */
    app->metrics = NULL;
    if (app->server != NULL) {
        tr_server_release_upstream(app->server, on_relay_released, app);
    } else {
        on_relay_released(app);
    }
}

static void fill_store_opts(const tr_config_t *cfg, tr_store_opts_t *o, char *dir, size_t dir_len)
{
    memset(o, 0, sizeof(*o));
    snprintf(dir, dir_len, "%s", cfg->store_dir);
    o->dir = dir;
    o->basename = cfg->binlog_basename;
    o->max_binlog_size = cfg->max_binlog_size;
    o->sync = cfg->sync == 0 ? TR_SYNC_COMMIT : TR_SYNC_NONE;
    o->server_id = cfg->server_id;
    memcpy(o->server_uuid, cfg->server_uuid_bin, 16);
    o->gtid_domain_id = cfg->gtid_domain_id;
    o->gtid_start = cfg->gtid_start;
    /* Derived from the configuration, so relays configured alike write the same first file. */
    o->first_timestamp = tr_tso_seconds(cfg->initial_commit_ts);
    /* Each listener serves its own flavour's file set. */
    o->flavors[TR_FLAVOR_MYSQL] = cfg->listen.host[0] != '\0';
    o->flavors[TR_FLAVOR_MARIADB] = cfg->mariadb_listen.host[0] != '\0';
    o->server_version[TR_FLAVOR_MYSQL] = "8.0.36-tirelay";
    o->server_version[TR_FLAVOR_MARIADB] = "10.11.6-MariaDB-tirelay-log";
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'k'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    bool check_only = false;
    int opt;
    /* What a burst leaves free goes back once the process idles (janitor.c), and when the
     * dump pool or the TiCDC record log free theirs (tr_mem_trim). */
    tr_mem_tune();
    while ((opt = getopt_long(argc, argv, "c:Vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case 'k':
            check_only = true;
            break;
        case 'V':
            printf("tirelay %s\n", TR_VERSION);
            return 0;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            fputs(usage_text, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc || config_path == NULL) {
        fputs(config_path == NULL ? "tirelay: --config FILE is required\n"
                                  : "tirelay: unexpected argument\n",
              stderr);
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }

    static tr_config_t cfg;
    static char err[16384];
    /* The loader checks what the upstream will compile or hand on: [filter] rules and
     * [kafka] properties, so --check-config reports them with their lines. */
    tr_config_checks_t checks = tr_filter_config_checks;
    checks.kafka_property = tr_kafka_property_check;
    if (tr_config_load(&cfg, config_path, &checks, err, sizeof(err)) != 0) {
        /* One line per error, each naming file, line and key. */
        int n_errors = 0;
        for (char *line = err, *next = NULL; line != NULL && *line != '\0'; line = next) {
            next = strchr(line, '\n');
            if (next != NULL) {
                *next++ = '\0';
            }
            fprintf(stderr, "tirelay: configuration error: %s\n", line);
            n_errors++;
        }
        fprintf(stderr, "tirelay: %s: %d configuration error%s\n", config_path, n_errors,
                n_errors == 1 ? "" : "s");
        return EXIT_USAGE;
    }
    if (check_only) {
        /* The TLS files are part of the configuration: load them as a start would. */
        tr_tls_t *tls = NULL;
        if (cfg.tls_cert[0] != '\0') {
            if (tr_tls_new(cfg.tls_cert, cfg.tls_key, NULL, &tls, err, sizeof(err)) != 0) {
                fprintf(stderr, "tirelay: configuration error: %s: %s\n", config_path, err);
                fprintf(stderr, "tirelay: %s: 1 configuration error\n", config_path);
                return EXIT_USAGE;
            }
            tr_tls_free(tls);
        }
        printf("%s: configuration ok\n", config_path);
        return 0;
    }
    tr_log_set_level((tr_log_level_t)cfg.log_level);
    signal(SIGPIPE, SIG_IGN);
    /* SIGTERM/SIGINT are held from here until the loop's handlers are installed: one
     * that arrives while the store, the server or the relay starts is then a clean
     * stop, not death by the default action. Threads started meanwhile inherit the
     * mask, so the signals go to this thread. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    (void)pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    tr_store_opts_t sopts;
    char dir[512];
    fill_store_opts(&cfg, &sopts, dir, sizeof(dir));
    tr_store_t *store = NULL;
    tr_store_checkpoint_t cp;
    const char *why = NULL;
    int rc = tr_store_open(&sopts, &store, &cp, &why);
    if (rc != 0) {
        tr_log_error("main", "cannot open the store dir=%s: %s", cfg.store_dir,
                     why ? why : tr_strerror(rc));
        return EXIT_RUNTIME;
    }
    if (cp.has_txn) {
        tr_log_info("main", "resuming after commit_ts=%" PRId64 " gtid_no=%" PRIu64, cp.commit_ts,
                    cp.gtid_no);
    }

    app_t app;
    memset(&app, 0, sizeof(app));
    if (uv_loop_init(&app.loop) != 0) {
        tr_log_error("main", "cannot create the event loop");
        tr_store_free(store);
        return EXIT_RUNTIME;
    }
    rc = tr_server_start(&app.loop, &cfg, store, &app.server, &why);
    if (rc != 0) {
        tr_log_error("main", "cannot start the server: %s (%s)", why ? why : "", tr_strerror(rc));
        /* Run the close callbacks of what the server had opened, then free the loop. */
        (void)uv_run(&app.loop, UV_RUN_DEFAULT);
        (void)uv_loop_close(&app.loop);
        tr_store_free(store);
        return EXIT_RUNTIME;
    }
    tr_store_set_notify(store, on_store_commit, app.server);

    uv_signal_init(&app.loop, &app.sigterm);
    uv_signal_init(&app.loop, &app.sigint);
    app.sigterm.data = &app;
    app.sigint.data = &app;
    tr_pump_client_global_init();
    rc = tr_relay_start(&cfg, store, &cp, &app.relay, &why);
    if (rc != 0) {
        tr_log_error("main", "cannot start the relay: %s", why ? why : tr_strerror(rc));
        app.exit_code = EXIT_RUNTIME;
        app.stopping = true;
        tr_server_close(app.server, on_server_closed, &app); /* closes the signal handles too */
    } else if (cfg.metrics_listen.host[0] != '\0' &&
               (rc = tr_metrics_start(&app.loop, &cfg, store, app.server, app.relay, &app.metrics,
                                      &why)) != 0) {
        tr_log_error("main", "cannot start the metrics server: %s (%s)", why ? why : "",
                     tr_strerror(rc));
        app.exit_code = EXIT_RUNTIME;
        app.stopping = true;
        tr_relay_stop(app.relay);
        app.relay = NULL;
        tr_server_close(app.server, on_server_closed, &app);
    } else {
        tr_server_upstream_t up = {relay_status, app.relay};
        tr_server_set_upstream(app.server, &up);
        uv_signal_start(&app.sigterm, on_signal, SIGTERM);
        uv_signal_start(&app.sigint, on_signal, SIGINT);
        (void)pthread_sigmask(SIG_UNBLOCK, &stop_signals, NULL);
        tr_log_info("main", "tirelay %s started listen=%s:%u mariadb-listen=%s:%u store=%s",
                    TR_VERSION, cfg.listen.host, cfg.listen.port, cfg.mariadb_listen.host,
                    cfg.mariadb_listen.port, cfg.store_dir);
    }
    uv_run(&app.loop, UV_RUN_DEFAULT);
    tr_relay_stop(app.relay);
    tr_store_set_notify(store, NULL, NULL);
    tr_store_free(store);
    tr_pump_client_global_shutdown();
    if (uv_loop_close(&app.loop) != 0) {
        tr_log_warn("main", "event loop closed with handles still open");
    }
    tr_log_info("main", "stopped");
    return app.exit_code;
}
