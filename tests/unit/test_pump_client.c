/*
 * Pump client against a real gRPC server: tests/tools/fake_pump.py (Python
 * grpcio on /usr/bin/python3, 127.0.0.1, free port) streams scripted
 * binlogs. Checks the delivered sequence (fake binlogs included, a backwards
 * and an undecodable message dropped), that every reconnect resumes from the
 * last delivered commit_ts (the fake pump logs the offsets it was asked
 * for), that a callback error restarts the stream, and that stop is prompt
 * both mid-stream and while backing off from an unreachable Pump. Spooling:
 * a 12 MiB message arrives as a mapped, already unlinked file; a spool write
 * error reconnects without loss. Faults from tests/tools/h2_fault_pump.py
 * (python3-h2, raw HTTP/2): compressed flag, bad flag byte, error trailers,
 * a message cut by the server, RST_STREAM; it also checks the request headers.
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/mem.h"
#include "protocol/tidb_binlog.h"
#include "relay/pump_client.h"
#include "tr_test.h"

extern char **environ;

#define BASE       445644800000000000LL /* fake_pump.py BASE */
#define CLUSTER_ID 6789ULL

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    (void)nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------- fake pump */

typedef struct {
    pid_t pid;
    char dir[64];
    char port_file[128];
    char log_file[128];
    int port;
} fake_pump_t;

/* Starts tests/tools/<script> with --port-file, --log-file and up to two more
 * arguments (NULL-terminated). */
static bool pump_script_start(fake_pump_t *fp, const char *script_name, const char *arg1,
                              const char *arg2)
{
    memset(fp, 0, sizeof(*fp));
    snprintf(fp->dir, sizeof(fp->dir), "/tmp/tr_pump_test_XXXXXX");
    if (mkdtemp(fp->dir) == NULL) {
        return false;
    }
    snprintf(fp->port_file, sizeof(fp->port_file), "%s/port", fp->dir);
    snprintf(fp->log_file, sizeof(fp->log_file), "%s/offsets", fp->dir);
    char script[1024];
    snprintf(script, sizeof(script), "%s/tests/tools/%s", TR_SOURCE_DIR, script_name);
    char *argv[] = {"/usr/bin/python3", script,          "--port-file",     fp->port_file,
                    "--log-file",       fp->log_file,    (char *)arg1,      (char *)arg2,
                    NULL};
    if (posix_spawn(&fp->pid, argv[0], NULL, NULL, argv, environ) != 0) {
        return false;
    }
    for (int64_t deadline = tr_clock_mono_ms() + 8000; tr_clock_mono_ms() < deadline;
         sleep_ms(20)) {
        FILE *f = fopen(fp->port_file, "r");
        if (f != NULL) {
            int ok = fscanf(f, "%d", &fp->port);
            (void)fclose(f);
            if (ok == 1 && fp->port > 0) {
                return true;
            }
        }
        int status;
        if (waitpid(fp->pid, &status, WNOHANG) == fp->pid) {
            fp->pid = 0;
            return false;
        }
    }
    return false;
}

static bool fake_pump_start(fake_pump_t *fp)
{
    return pump_script_start(fp, "fake_pump.py", NULL, NULL);
}

static void fake_pump_stop(fake_pump_t *fp)
{
    if (fp->pid > 0) {
        (void)kill(fp->pid, SIGTERM);
        int status;
        for (int64_t deadline = tr_clock_mono_ms() + 3000; tr_clock_mono_ms() < deadline;
             sleep_ms(10)) {
            if (waitpid(fp->pid, &status, WNOHANG) == fp->pid) {
                fp->pid = 0;
                break;
            }
        }
        if (fp->pid > 0) {
            (void)kill(fp->pid, SIGKILL);
            (void)waitpid(fp->pid, &status, 0);
        }
    }
    (void)unlink(fp->port_file);
    (void)unlink(fp->log_file);
    (void)rmdir(fp->dir);
}

/* Reads the "<cluster_id> <offset>" lines the fake pump logged (others skipped). */
static int read_offsets(const fake_pump_t *fp, uint64_t *cluster, int64_t *offsets, int cap)
{
    FILE *f = fopen(fp->log_file, "r");
    if (f == NULL) {
        return 0;
    }
    int n = 0;
    unsigned long long c;
    long long off;
    char line[512];
    while (n < cap && fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "%llu %lld", &c, &off) != 2) {
            continue; /* the fault pump's other lines (PING, BADHEADERS ...) */
        }
        cluster[n] = c;
        offsets[n] = off;
        n++;
    }
    (void)fclose(f);
    return n;
}

/* ---------------------------------------------------------------- sink */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int64_t ts[64];
    bool fake[64];
    int n;
    int fail_once_at; /* return an error the first time this (BASE-relative) ts arrives */
    bool failed;
    uint32_t bad_pump_id;
    bool bad_payload;
} sink_t;

static int sink_deliver(void *arg, uint32_t pump_id, const uint8_t *payload, size_t len,
                        const tr_tidb_binlog_t *b)
{
    sink_t *s = arg;
    pthread_mutex_lock(&s->mu);
    if (pump_id != 7) {
        s->bad_pump_id = pump_id;
    }
    /* The payload is the marshalled Binlog: it decodes to the same view. */
    tr_tidb_binlog_t again;
    const char *why = NULL;
    if (tr_tidb_binlog_decode(payload, len, &again, &why) != (ssize_t)len ||
        again.commit_ts != b->commit_ts) {
        s->bad_payload = true;
    }
    int rc = 0;
    if (!s->failed && b->commit_ts == BASE + s->fail_once_at) {
        s->failed = true;
        rc = -1;
    } else if (s->n < 64) {
        s->ts[s->n] = b->commit_ts - BASE;
        s->fake[s->n] = tr_tidb_binlog_is_fake(b);
        s->n++;
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static bool sink_wait(sink_t *s, int n, int timeout_ms)
{
    struct timespec until = tr_clock_deadline(CLOCK_REALTIME, timeout_ms);
    pthread_mutex_lock(&s->mu);
    while (s->n < n) {
        if (pthread_cond_timedwait(&s->cond, &s->mu, &until) == ETIMEDOUT) {
            break;
        }
    }
    bool ok = s->n >= n;
    pthread_mutex_unlock(&s->mu);
    return ok;
}

/* ---------------------------------------------------------------- tests */

TR_TEST(pump_client_streams_resumes_and_stops)
{
    fake_pump_t fp;
    if (!fake_pump_start(&fp)) {
        TR_FAIL_AT("fake pump did not start (python3-grpcio missing?)");
        fake_pump_stop(&fp);
        return;
    }
    sink_t sink;
    memset(&sink, 0, sizeof(sink));
    pthread_mutex_init(&sink.mu, NULL);
    pthread_cond_init(&sink.cond, NULL);
    sink.fail_once_at = 160;

    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", fp.port);
    tr_pump_client_opts_t opts = {
        .pump_id = 7,
        .addr = addr,
        .cluster_id = CLUSTER_ID,
        .start_commit_ts = BASE + 90,
        .deliver = sink_deliver,
        .arg = &sink,
    };
    tr_pump_client_t *pc = NULL;
    EXPECT_EQ_INT(tr_pump_client_start(&opts, &pc), 0);
    /* 100 110f 120 130 | reconnect | 140 150f (160 refused once) | reconnect | 160 */
    bool all = sink_wait(&sink, 7, 8000);
    EXPECT_TRUE(all);
    /* last_ts moves once the callback has returned. */
    for (int64_t deadline = tr_clock_mono_ms() + 2000;
         tr_pump_client_last_ts(pc) != BASE + 160 && tr_clock_mono_ms() < deadline;) {
        sleep_ms(5);
    }
    EXPECT_EQ_INT(tr_pump_client_last_ts(pc), BASE + 160);

    int64_t t0 = tr_clock_mono_ms();
    tr_pump_client_stop(pc);
    int64_t stop_ms = tr_clock_mono_ms() - t0;
    EXPECT_TRUE(stop_ms < 1000);

    static const int64_t want_ts[] = {100, 110, 120, 130, 140, 150, 160};
    static const bool want_fake[] = {false, true, false, false, false, true, false};
    EXPECT_EQ_INT(sink.n, 7);
    for (int i = 0; i < sink.n && i < 7; i++) {
        EXPECT_EQ_INT(sink.ts[i], want_ts[i]);
        EXPECT_EQ_INT(sink.fake[i], want_fake[i]);
    }
    EXPECT_EQ_INT(sink.bad_pump_id, 0);
    EXPECT_TRUE(!sink.bad_payload);

    uint64_t cluster[8];
    int64_t offsets[8];
    int n = read_offsets(&fp, cluster, offsets, 8);
    /* 90 at start, 130 after the server ended the stream, 150 after the
     * callback refused 160. */
    EXPECT_EQ_INT(n, 3);
    static const int64_t want_off[] = {90, 130, 150};
    for (int i = 0; i < n && i < 3; i++) {
        EXPECT_EQ_U64(cluster[i], CLUSTER_ID);
        EXPECT_EQ_INT(offsets[i] - BASE, want_off[i]);
    }
    fake_pump_stop(&fp);
    pthread_mutex_destroy(&sink.mu);
    pthread_cond_destroy(&sink.cond);
}

/* A port nothing listens on: bind to port 0, read the port, close. */
static int dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sa);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &sl) == 0) {
        port = ntohs(sa.sin_port);
    }
    (void)close(fd);
    return port;
}

TR_TEST(pump_client_unreachable_stops_promptly)
{
    sink_t sink;
    memset(&sink, 0, sizeof(sink));
    pthread_mutex_init(&sink.mu, NULL);
    pthread_cond_init(&sink.cond, NULL);
    int port = dead_port();
    EXPECT_TRUE(port > 0);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    tr_pump_client_opts_t opts = {
        .pump_id = 7,
        .addr = addr,
        .cluster_id = CLUSTER_ID,
        .start_commit_ts = 5,
        .deliver = sink_deliver,
        .arg = &sink,
    };
    tr_pump_client_t *pc = NULL;
    EXPECT_EQ_INT(tr_pump_client_start(&opts, &pc), 0);
    sleep_ms(700); /* a few failed attempts and backoffs */
    int64_t t0 = tr_clock_mono_ms();
    tr_pump_client_stop(pc);
    EXPECT_TRUE(tr_clock_mono_ms() - t0 < 1000);
    EXPECT_EQ_INT(sink.n, 0);
    pthread_mutex_destroy(&sink.mu);
    pthread_cond_destroy(&sink.cond);
}

TR_TEST(pump_client_backs_off_on_rejection)
{
    fake_pump_t fp;
    if (!fake_pump_start(&fp)) {
        TR_FAIL_AT("fake pump did not start");
        fake_pump_stop(&fp);
        return;
    }
    sink_t sink;
    memset(&sink, 0, sizeof(sink));
    pthread_mutex_init(&sink.mu, NULL);
    pthread_cond_init(&sink.cond, NULL);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", fp.port);
    tr_pump_client_opts_t opts = {
        .pump_id = 7,
        .addr = addr,
        .cluster_id = 1, /* the fake pump expects 6789 */
        .start_commit_ts = BASE + 90,
        .deliver = sink_deliver,
        .arg = &sink,
    };
    tr_pump_client_t *pc = NULL;
    EXPECT_EQ_INT(tr_pump_client_start(&opts, &pc), 0);
    sleep_ms(1200);
    int64_t t0 = tr_clock_mono_ms();
    tr_pump_client_stop(pc);
    EXPECT_TRUE(tr_clock_mono_ms() - t0 < 1000);
    EXPECT_EQ_INT(sink.n, 0);
    uint64_t cluster[16];
    int64_t offsets[16];
    int n = read_offsets(&fp, cluster, offsets, 16);
    /* Attempts at about 0, 0.1, 0.3, 0.7 s (100 ms doubling): a handful, not a hot loop. */
    EXPECT_TRUE(n >= 2 && n <= 6);
    for (int i = 0; i < n; i++) {
        EXPECT_EQ_U64(cluster[i], 1);
        EXPECT_EQ_INT(offsets[i] - BASE, 90);
    }
    fake_pump_stop(&fp);
    pthread_mutex_destroy(&sink.mu);
    pthread_cond_destroy(&sink.cond);
}

TR_TEST(pump_client_rejects_bad_options)
{
    tr_pump_client_opts_t opts;
    memset(&opts, 0, sizeof(opts));
    tr_pump_client_t *pc = (tr_pump_client_t *)&opts;
    EXPECT_EQ_INT(tr_pump_client_start(&opts, &pc), TR_ECONFIG);
    EXPECT_TRUE(pc == NULL);
    tr_pump_client_stop(NULL);
    tr_pump_client_cancel(NULL);
}

/* deliver_owned: the callback keeps some message buffers (the relay queues them without a
 * copy); they stay valid after the client moved on, and the rest are freed by the client
 * (under ASan a use after free or a double free would abort). */
typedef struct {
    sink_t sink;
    tr_spool_msg_t *kept[64];
    const uint8_t *payload[64];
    size_t len[64];
    int n_kept;
    bool payload_outside;
} owner_t;

static int owner_deliver(void *arg, uint32_t pump_id, tr_spool_msg_t **msg,
                         const uint8_t *payload, size_t len, const tr_tidb_binlog_t *b)
{
    owner_t *o = arg;
    int rc = sink_deliver(&o->sink, pump_id, payload, len, b);
    pthread_mutex_lock(&o->sink.mu);
    const uint8_t *data = tr_spool_msg_data(*msg);
    if (payload < data || payload + len > data + tr_spool_msg_len(*msg)) {
        o->payload_outside = true;
    }
    if (rc == 0 && !tr_tidb_binlog_is_fake(b) && o->n_kept < 64) {
        o->kept[o->n_kept] = *msg;
        o->payload[o->n_kept] = payload;
        o->len[o->n_kept] = len;
        o->n_kept++;
        *msg = NULL;
    }
    pthread_mutex_unlock(&o->sink.mu);
    return rc;
}

TR_TEST(pump_client_owned_delivery_keeps_buffers)
{
    fake_pump_t fp;
    if (!fake_pump_start(&fp)) {
        TR_FAIL_AT("fake pump did not start (python3-grpcio missing?)");
        fake_pump_stop(&fp);
        return;
    }
    owner_t *o = calloc(1, sizeof(*o));
    pthread_mutex_init(&o->sink.mu, NULL);
    pthread_cond_init(&o->sink.cond, NULL);
    o->sink.fail_once_at = 160;
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", fp.port);
    tr_pump_client_opts_t opts = {
        .pump_id = 7,
        .addr = addr,
        .cluster_id = CLUSTER_ID,
        .start_commit_ts = BASE + 90,
        .deliver_owned = owner_deliver,
        .arg = o,
    };
    tr_pump_client_opts_t both = opts;
    both.deliver = sink_deliver;
    tr_pump_client_t *pc = NULL;
    EXPECT_EQ_INT(tr_pump_client_start(&both, &pc), TR_ECONFIG);
    EXPECT_EQ_INT(tr_pump_client_start(&opts, &pc), 0);
    EXPECT_TRUE(sink_wait(&o->sink, 7, 8000));
    tr_pump_client_stop(pc);
    EXPECT_EQ_INT(o->sink.n, 7);
    EXPECT_TRUE(!o->sink.bad_payload);
    EXPECT_TRUE(!o->payload_outside);
    /* Commits 100 120 130 140 160 were kept (160 after its refused first delivery). */
    static const int64_t want[] = {100, 120, 130, 140, 160};
    EXPECT_EQ_INT(o->n_kept, 5);
    for (int i = 0; i < o->n_kept; i++) {
        tr_tidb_binlog_t b;
        const char *why = NULL;
        EXPECT_EQ_INT(tr_tidb_binlog_decode(o->payload[i], o->len[i], &b, &why),
                      (ssize_t)o->len[i]);
        if (i < 5) {
            EXPECT_EQ_INT(b.commit_ts - BASE, want[i]);
        }
        tr_spool_msg_free(o->kept[i]);
    }
    fake_pump_stop(&fp);
    pthread_mutex_destroy(&o->sink.mu);
    pthread_cond_destroy(&o->sink.cond);
    free(o);
}

/* ---------------------------------------------------------------- spooling and faults */

/* Lines of the fake pump's log that start with prefix. */
static int count_log_lines(const fake_pump_t *fp, const char *prefix)
{
    FILE *f = fopen(fp->log_file, "r");
    if (f == NULL) {
        return 0;
    }
    char line[512];
    int n = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, prefix, strlen(prefix)) == 0) {
            n++;
        }
    }
    (void)fclose(f);
    return n;
}

/* Entries of dir other than the fake pump's own files (leftover spool files). */
static int foreign_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return -1;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            strcmp(e->d_name, "port") != 0 && strcmp(e->d_name, "offsets") != 0) {
            n++;
        }
    }
    (void)closedir(d);
    return n;
}

typedef struct {
    owner_t o;
    bool is_file[64];
} spool_owner_t;

static int spool_owner_deliver(void *arg, uint32_t pump_id, tr_spool_msg_t **msg,
                               const uint8_t *payload, size_t len, const tr_tidb_binlog_t *b)
{
    spool_owner_t *so = arg;
    bool file = tr_spool_msg_is_file(*msg);
    int before = so->o.n_kept;
    int rc = owner_deliver(&so->o, pump_id, msg, payload, len, b);
    if (so->o.n_kept > before) {
        so->is_file[before] = file;
    }
    return rc;
}

static spool_owner_t *spool_owner_new(void)
{
    spool_owner_t *so = calloc(1, sizeof(*so));
    pthread_mutex_init(&so->o.sink.mu, NULL);
    pthread_cond_init(&so->o.sink.cond, NULL);
    return so;
}

static void spool_owner_free(spool_owner_t *so)
{
    for (int i = 0; i < so->o.n_kept; i++) {
        tr_spool_msg_free(so->o.kept[i]);
    }
    pthread_mutex_destroy(&so->o.sink.mu);
    pthread_cond_destroy(&so->o.sink.cond);
    free(so);
}

#define BIG_PAD (12 << 20) /* above TR_PUMP_SPOOL_MIN_BYTES */

/* The payload of a kept big binlog: commit_ts 110 and its 12 MiB of 'r'. */
static void check_big(const spool_owner_t *so, int i)
{
    tr_tidb_binlog_t b;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_tidb_binlog_decode(so->o.payload[i], so->o.len[i], &b, &why),
                  (ssize_t)so->o.len[i]);
    EXPECT_EQ_INT(b.commit_ts - BASE, 110);
    EXPECT_TRUE(b.prewrite_value.len > BIG_PAD);
    const uint8_t *end = b.prewrite_value.p + b.prewrite_value.len;
    EXPECT_TRUE(end[-1] == 'r' && end[-BIG_PAD] == 'r');
}

TR_TEST(pump_client_spools_a_big_message_to_a_mapped_file)
{
    fake_pump_t fp;
    char big[32];
    snprintf(big, sizeof(big), "%d", BIG_PAD);
    if (!pump_script_start(&fp, "fake_pump.py", "--big", big)) {
        TR_FAIL_AT("fake pump did not start");
        fake_pump_stop(&fp);
        return;
    }
    spool_owner_t *so = spool_owner_new();
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", fp.port);
    tr_pump_client_opts_t opts = {
        .pump_id = 7,
        .addr = addr,
        .cluster_id = CLUSTER_ID,
        .start_commit_ts = BASE + 90,
        .deliver_owned = spool_owner_deliver,
        .arg = so,
        .spool_dir = fp.dir,
    };
    tr_pump_client_t *pc = NULL;
    EXPECT_EQ_INT(tr_pump_client_start(&opts, &pc), 0);
    EXPECT_TRUE(sink_wait(&so->o.sink, 3, 20000));
    tr_pump_client_stop(pc);
    EXPECT_EQ_INT(so->o.n_kept, 3);
    EXPECT_TRUE(!so->o.payload_outside);
    if (so->o.n_kept == 3) {
        EXPECT_TRUE(!so->is_file[0]);
        EXPECT_TRUE(so->is_file[1]);
        EXPECT_TRUE(!so->is_file[2]);
        check_big(so, 1);
        /* Dropping the pages loses nothing: they fault back in from the file. */
        tr_spool_msg_release_pages(so->o.kept[1]);
        check_big(so, 1);
    }
    /* The spool file was unlinked at once: nothing shows in the directory. */
    EXPECT_EQ_INT(foreign_files(fp.dir), 0);
    spool_owner_free(so);
    uint64_t cluster[8];
    int64_t offsets[8];
    EXPECT_EQ_INT(read_offsets(&fp, cluster, offsets, 8), 1);
    fake_pump_stop(&fp);
}

/* The standard script with every message spooled (threshold 1 byte): skips,
 * backwards drops and a refused delivery free their files. */
TR_TEST(pump_client_spools_every_message_with_a_low_threshold)
{
    fake_pump_t fp;
    if (!fake_pump_start(&fp)) {
        TR_FAIL_AT("fake pump did not start");
        fake_pump_stop(&fp);
        return;
    }
    spool_owner_t *so = spool_owner_new();
    so->o.sink.fail_once_at = 160;
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", fp.port);
    tr_pump_client_opts_t opts = {
        .pump_id = 7,
        .addr = addr,
        .cluster_id = CLUSTER_ID,
        .start_commit_ts = BASE + 90,
        .deliver_owned = spool_owner_deliver,
        .arg = so,
        .spool_dir = fp.dir,
        .spool_min_bytes = 1,
    };
    tr_pump_client_t *pc = NULL;
    EXPECT_EQ_INT(tr_pump_client_start(&opts, &pc), 0);
    EXPECT_TRUE(sink_wait(&so->o.sink, 7, 8000));
    tr_pump_client_stop(pc);
    EXPECT_EQ_INT(so->o.sink.n, 7);
    EXPECT_EQ_INT(so->o.n_kept, 5);
    for (int i = 0; i < so->o.n_kept; i++) {
        EXPECT_TRUE(so->is_file[i]);
    }
    EXPECT_EQ_INT(foreign_files(fp.dir), 0);
    spool_owner_free(so);
    fake_pump_stop(&fp);
}

/* A spool write error (here EFBIG from RLIMIT_FSIZE, as ENOSPC would be) drops the
 * stream; the client reconnects from the last delivered commit_ts and loses nothing
 * once the file can be written. */
TR_TEST(pump_client_spool_write_error_reconnects_without_loss)
{
    fake_pump_t fp;
    char big[32];
    snprintf(big, sizeof(big), "%d", BIG_PAD);
    if (!pump_script_start(&fp, "fake_pump.py", "--big", big)) {
        TR_FAIL_AT("fake pump did not start");
        fake_pump_stop(&fp);
        return;
    }
    struct rlimit old_lim;
    EXPECT_EQ_INT(getrlimit(RLIMIT_FSIZE, &old_lim), 0);
    struct rlimit lim = old_lim;
    lim.rlim_cur = 1 << 20;
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    EXPECT_EQ_INT(setrlimit(RLIMIT_FSIZE, &lim), 0);

    spool_owner_t *so = spool_owner_new();
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", fp.port);
    tr_pump_client_opts_t opts = {
        .pump_id = 7,
        .addr = addr,
        .cluster_id = CLUSTER_ID,
        .start_commit_ts = BASE + 90,
        .deliver_owned = spool_owner_deliver,
        .arg = so,
        .spool_dir = fp.dir,
    };
    tr_pump_client_t *pc = NULL;
    EXPECT_EQ_INT(tr_pump_client_start(&opts, &pc), 0);
    /* 100 arrives, then 110 cannot be spooled: the client asks again from 100. */
    int64_t deadline = tr_clock_mono_ms() + 10000;
    while (count_log_lines(&fp, "6789 ") < 2 && tr_clock_mono_ms() < deadline) {
        sleep_ms(20);
    }
    EXPECT_TRUE(count_log_lines(&fp, "6789 ") >= 2);
    pthread_mutex_lock(&so->o.sink.mu);
    EXPECT_EQ_INT(so->o.sink.n, 1);
    pthread_mutex_unlock(&so->o.sink.mu);
    EXPECT_EQ_INT(setrlimit(RLIMIT_FSIZE, &old_lim), 0);
    (void)signal(SIGXFSZ, old_sig);

    EXPECT_TRUE(sink_wait(&so->o.sink, 3, 20000));
    tr_pump_client_stop(pc);
    static const int64_t want[] = {100, 110, 120};
    EXPECT_EQ_INT(so->o.sink.n, 3);
    for (int i = 0; i < so->o.sink.n && i < 3; i++) {
        EXPECT_EQ_INT(so->o.sink.ts[i], want[i]);
    }
    if (so->o.n_kept == 3) {
        EXPECT_TRUE(so->is_file[1]);
        check_big(so, 1);
    }
    uint64_t cluster[32];
    int64_t offsets[32];
    int n = read_offsets(&fp, cluster, offsets, 32);
    EXPECT_TRUE(n >= 2);
    for (int i = 0; i < n; i++) {
        EXPECT_EQ_INT(offsets[i] - BASE, i == 0 ? 90 : 100);
    }
    EXPECT_EQ_INT(foreign_files(fp.dir), 0);
    spool_owner_free(so);
    fake_pump_stop(&fp);
}

/*
 * tests/tools/h2_fault_pump.py: the first connection streams C(100), then
 * misbehaves (scenario); the client must deliver nothing of the bad part, drop the
 * stream and resume from 100 on a new connection, which streams C(110). The
 * server also checks the request headers (a BADHEADERS line otherwise).
 */
static void run_fault_opts(const char *scenario, int keepalive_ms)
{
    fake_pump_t fp;
    char arg[64];
    snprintf(arg, sizeof(arg), "--scenario=%s", scenario);
    if (!pump_script_start(&fp, "h2_fault_pump.py", arg, NULL)) {
        TR_FAIL_AT("h2 fault pump did not start (python3-h2 missing?)");
        fake_pump_stop(&fp);
        return;
    }
    spool_owner_t *so = spool_owner_new();
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", fp.port);
    tr_pump_client_opts_t opts = {
        .pump_id = 7,
        .addr = addr,
        .cluster_id = CLUSTER_ID,
        .start_commit_ts = BASE + 90,
        .deliver_owned = spool_owner_deliver,
        .arg = so,
        .spool_dir = fp.dir,
        .keepalive_time_ms = keepalive_ms,
        .keepalive_wait_ms = keepalive_ms,
    };
    tr_pump_client_t *pc = NULL;
    EXPECT_EQ_INT(tr_pump_client_start(&opts, &pc), 0);
    bool got = sink_wait(&so->o.sink, 2, 10000);
    if (!got) {
        fprintf(stderr, "scenario %s: only %d binlogs delivered\n", scenario, so->o.sink.n);
    }
    EXPECT_TRUE(got);
    int64_t t0 = tr_clock_mono_ms();
    tr_pump_client_stop(pc);
    EXPECT_TRUE(tr_clock_mono_ms() - t0 < 1000);
    EXPECT_EQ_INT(so->o.sink.n, 2);
    if (so->o.sink.n == 2) {
        EXPECT_EQ_INT(so->o.sink.ts[0], 100);
        EXPECT_EQ_INT(so->o.sink.ts[1], 110);
    }
    EXPECT_EQ_INT(count_log_lines(&fp, "BADHEADERS"), 0);
    uint64_t cluster[8];
    int64_t offsets[8];
    int n = read_offsets(&fp, cluster, offsets, 8);
    EXPECT_EQ_INT(n, 2);
    for (int i = 0; i < n && i < 2; i++) {
        EXPECT_EQ_INT(offsets[i] - BASE, i == 0 ? 90 : 100);
    }
    EXPECT_EQ_INT(foreign_files(fp.dir), 0);
    spool_owner_free(so);
    fake_pump_stop(&fp);
}

static void run_fault(const char *scenario)
{
    run_fault_opts(scenario, 0);
}

/* A peer that stops answering is found dead by PING (300 ms here) and left. */
TR_TEST(pump_client_drops_a_peer_that_ignores_pings)
{
    run_fault_opts("deaf", 300);
}

/* An idle peer that answers PINGs is kept, and is not pinged again without data in
 * between (grpc-go's enforcement would count strikes). */
TR_TEST(pump_client_keeps_an_idle_peer_that_answers_pings)
{
    fake_pump_t fp;
    if (!pump_script_start(&fp, "h2_fault_pump.py", "--scenario=idle", NULL)) {
        TR_FAIL_AT("h2 fault pump did not start (python3-h2 missing?)");
        fake_pump_stop(&fp);
        return;
    }
    sink_t sink;
    memset(&sink, 0, sizeof(sink));
    pthread_mutex_init(&sink.mu, NULL);
    pthread_cond_init(&sink.cond, NULL);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", fp.port);
    tr_pump_client_opts_t opts = {
        .pump_id = 7,
        .addr = addr,
        .cluster_id = CLUSTER_ID,
        .start_commit_ts = BASE + 90,
        .deliver = sink_deliver,
        .arg = &sink,
        .keepalive_time_ms = 200,
        .keepalive_wait_ms = 200,
    };
    tr_pump_client_t *pc = NULL;
    EXPECT_EQ_INT(tr_pump_client_start(&opts, &pc), 0);
    EXPECT_TRUE(sink_wait(&sink, 1, 8000));
    sleep_ms(1500); /* several keepalive periods */
    tr_pump_client_stop(pc);
    EXPECT_EQ_INT(sink.n, 1);
    EXPECT_EQ_INT(count_log_lines(&fp, "6789 "), 1); /* never reconnected */
    EXPECT_EQ_INT(count_log_lines(&fp, "PING"), 1);  /* one PING, no second without data */
    fake_pump_stop(&fp);
    pthread_mutex_destroy(&sink.mu);
    pthread_cond_destroy(&sink.cond);
}

TR_TEST(pump_client_rejects_a_compressed_message)
{
    run_fault("compressed");
}

TR_TEST(pump_client_rejects_a_malformed_prefix)
{
    run_fault("badflag");
}

TR_TEST(pump_client_reconnects_after_an_error_status)
{
    run_fault("status");
}

TR_TEST(pump_client_drops_a_message_cut_by_the_server)
{
    run_fault("midclose");
}

TR_TEST(pump_client_reconnects_after_rst_stream)
{
    run_fault("reset");
}

int main(int argc, char **argv)
{
    tr_pump_client_global_init();
    int passed = 0;
    int failed = 0;
    for (int i = 0; i < tr_test_count; i++) {
        if (argc > 1 && strstr(tr_test_cases[i].name, argv[1]) == NULL) {
            continue;
        }
        tr_test_failures = 0;
        tr_test_cases[i].fn();
        if (tr_test_failures == 0) {
            passed++;
        } else {
            failed++;
            fprintf(stderr, "FAIL %s\n", tr_test_cases[i].name);
        }
    }
    tr_pump_client_global_shutdown();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
