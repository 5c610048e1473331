/*
 * feeder: serves /binlog.Pump/PullBinlogs from pre-encoded files (bench/gen_stream.py)
 * as fast as HTTP/2 flow control lets it, for the benchmarks of issue 8.
 *
 *   feeder --cluster-id N [--fake-ms 200] [--rate TXN/S] [--log FILE]
 *          --pump HOST:PORT=FILE [--pump HOST:PORT=FILE | --pump HOST:PORT=-]...
 *
 * One gRPC server per Pump address, each on its own thread: src/relay/h2_server.c, the
 * cleartext HTTP/2 server on libnghttp2 that also serves tirelay's Notify (gRPC core is
 * not used). A file is a sequence of [u32 LE length][u64 LE commit_ts][PullBinlogResp]
 * records in commit_ts order; '-' is an idle Pump (fake binlogs only). A call gets every
 * record with commit_ts > startFrom.offset, queued while less than OUT_HIGH_WATER bytes
 * wait for the connection (HTTP/2 flow control paces it), then, like a Pump that gets no
 * writes,
 * a fake binlog (tp=Rollback, start_ts = commit_ts = a fresh TSO; shared/spec/tidb-binlog.md
 * section 5.1, pingcap/tidb-binlog pump/storage genFakeBinlog) every --fake-ms, so the
 * relay's merge releases the last transaction.
 *
 * --rate R (latency mode): the records of all Pumps with a file are sent at R transactions
 * per second in total, each re-stamped at send time: start_ts/commit_ts (Binlog and Meta)
 * become a fresh TSO, and the first '@@TS' + 20 digits marker in the record (gen_stream.py
 * --marker) gets the send time as CLOCK_MONOTONIC nanoseconds (absolute: the same clock for
 * every process on the machine). --log FILE records
 * "T <pump> <commit_ts> <ns>" for every transaction sent and "F <pump> <commit_ts> <ns>" for
 * every fake binlog sent (ns: CLOCK_MONOTONIC just before the message was queued on the
 * HTTP/2 stream; it is written to the socket in the same loop turn unless flow control
 * holds it).
 *
 * TSOs come from one allocator for all Pumps: max(previous + 1, wall clock ms << 18), so
 * commit_ts grows across Pumps as PD's oracle makes it (pingcap/tidb oracle: physical << 18
 * | logical).
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proto/binlog.pb-c.h"
#include "proto/pump.pb-c.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/tso.h"
#include "protocol/grpc_frame.h"
#include "relay/h2_server.h"

#define MAX_PUMPS      64
#define PULL_METHOD    "/binlog.Pump/PullBinlogs"
#define MARKER         "@@TS"
#define MARKER_DIG     20
#define OUT_HIGH_WATER (4u << 20)   /* queued bytes per call before waiting for the socket */
#define FRAME_BYTES    (256u << 10) /* DATA frames (tirelay accepts up to 1 MiB) */

typedef struct {
    const uint8_t *data; /* PullBinlogResp bytes */
    uint32_t len;
    uint64_t commit_ts;
} rec_t;

typedef struct {
    int idx;
    char addr[256];
    const char *path; /* NULL: idle */
    rec_t *recs;
    size_t nrecs;
    tr_h2_server_t *server;
} pump_t;

static pump_t g_pumps[MAX_PUMPS];
static int g_npumps;
static uint64_t g_cluster_id;
static int g_fake_ms = 200;
static double g_rate; /* transactions/s over all pumps with a file; 0: full speed */
static FILE *g_log;
static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint_fast64_t g_tso;
static atomic_uint_fast64_t g_sent_txns; /* latency mode: the global send schedule */
static _Atomic uint64_t g_sched_t0; /* latency mode: set when the first Pump with a file is pulled */

static uint64_t tso_next(void)
{
    uint64_t now = (uint64_t)tr_clock_wall_ms() << TR_TSO_LOGICAL_BITS;
    uint64_t prev = atomic_load(&g_tso);
    for (;;) {
        uint64_t next = now > prev ? now : prev + 1;
        if (atomic_compare_exchange_weak(&g_tso, &prev, next)) {
            return next;
        }
    }
}

TR_PRINTF(1, 2) TR_NORETURN static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "feeder: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static void load_file(pump_t *p)
{
    int fd = open(p->path, O_RDONLY);
    if (fd < 0) {
        die("cannot open %s", p->path);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        die("cannot stat %s", p->path);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *m = size ? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_POPULATE, fd, 0)
                      : NULL;
    close(fd);
    if (size && m == MAP_FAILED) {
        die("cannot map %s", p->path);
    }
    size_t cap = 1024;
    p->recs = malloc(cap * sizeof(rec_t));
    for (size_t off = 0; off < size;) {
        if (size - off < 12) {
            die("truncated record header in %s", p->path);
        }
        uint32_t len;
        uint64_t ts;
        memcpy(&len, m + off, 4);
        memcpy(&ts, m + off + 4, 8);
        if (size - off - 12 < len) {
            die("truncated record in %s", p->path);
        }
        if (p->nrecs == cap) {
            cap *= 2;
            p->recs = realloc(p->recs, cap * sizeof(rec_t));
        }
        p->recs[p->nrecs++] = (rec_t){m + off + 12, len, ts};
        off += 12 + (size_t)len;
    }
}

static void log_line(char kind, int pump, uint64_t ts, uint64_t ns)
{
    if (g_log == NULL) {
        return;
    }
    pthread_mutex_lock(&g_log_mu);
    fprintf(g_log, "%c %d %" PRIu64 " %" PRIu64 "\n", kind, pump, ts, ns);
    pthread_mutex_unlock(&g_log_mu);
}

/* A fake binlog: PullBinlogResp{entity{pos{}, payload=Binlog{tp=Rollback, ts, ts}, meta}}
 * into out (160 bytes). Returns its length. */
static size_t fake_message(uint64_t ts, uint8_t *out)
{
    Binlog__Binlog b = BINLOG__BINLOG__INIT;
    b.has_tp = 1;
    b.tp = BINLOG__BINLOG_TYPE__Rollback;
    b.has_start_ts = b.has_commit_ts = 1;
    b.start_ts = b.commit_ts = (int64_t)ts;
    b.has_ddl_job_id = b.has_ddl_schema_state = 1;
    uint8_t payload[64];
    size_t plen = binlog__binlog__pack(&b, payload);
    Binlog__Pos pos = BINLOG__POS__INIT;
    Binlog__Meta meta = BINLOG__META__INIT;
    meta.startts = meta.committs = (int64_t)ts;
    Binlog__Entity ent = BINLOG__ENTITY__INIT;
    ent.pos = &pos;
    ent.payload.data = payload;
    ent.payload.len = plen;
    ent.meta = &meta;
    Binlog__PullBinlogResp resp = BINLOG__PULL_BINLOG_RESP__INIT;
    resp.entity = &ent;
    return binlog__pull_binlog_resp__pack(&resp, out);
}

/* Latency mode: the record re-stamped with a fresh TSO and the marker with the send time,
 * queued on the call. */
static void send_stamped(tr_h2_call_t *call, const rec_t *r, uint64_t *ts_out, uint64_t *ns_out)
{
    Binlog__PullBinlogResp *resp = binlog__pull_binlog_resp__unpack(NULL, r->len, r->data);
    if (resp == NULL || resp->entity == NULL) {
        die("%s", "a record is not a PullBinlogResp");
    }
    Binlog__Binlog *b = binlog__binlog__unpack(NULL, resp->entity->payload.len,
                                               resp->entity->payload.data);
    if (b == NULL) {
        die("%s", "a record's payload is not a Binlog");
    }
    uint64_t ts = tso_next();
    uint64_t ns = tr_clock_mono_ns();
    b->start_ts = (int64_t)ts - 1;
    b->commit_ts = (int64_t)ts;
    if (resp->entity->meta != NULL) {
        resp->entity->meta->startts = (int64_t)ts - 1;
        resp->entity->meta->committs = (int64_t)ts;
    }
    if (b->has_prewrite_value) {
        uint8_t *mk = memmem(b->prewrite_value.data, b->prewrite_value.len, MARKER, 4);
        if (mk != NULL && (size_t)(b->prewrite_value.data + b->prewrite_value.len - mk) >=
                              4 + MARKER_DIG) {
            char dig[MARKER_DIG + 1];
            snprintf(dig, sizeof(dig), "%020" PRIu64, ns);
            memcpy(mk + 4, dig, MARKER_DIG);
        }
    }
    size_t blen = binlog__binlog__get_packed_size(b);
    uint8_t *bbuf = malloc(blen);
    binlog__binlog__pack(b, bbuf);
    uint8_t *old_payload = resp->entity->payload.data;
    resp->entity->payload.data = bbuf;
    resp->entity->payload.len = blen;
    size_t n = binlog__pull_binlog_resp__get_packed_size(resp);
    uint8_t *out = malloc(n);
    binlog__pull_binlog_resp__pack(resp, out);
    resp->entity->payload.data = old_payload;
    free(bbuf);
    binlog__binlog__free_unpacked(b, NULL);
    binlog__pull_binlog_resp__free_unpacked(resp, NULL);
    tr_h2_call_send(call, out, n);
    free(out);
    *ts_out = ts;
    *ns_out = ns;
}

/* One PullBinlogs call. */
typedef struct {
    pump_t *p;
    size_t next;           /* next record */
    uint64_t last_ts;      /* last commit_ts sent */
    uint64_t last_send_ns; /* CLOCK_MONOTONIC of the last message queued */
} call_t;

static void on_call(void *arg, tr_h2_call_t *call, int path_idx, tr_slice_t msg)
{
    pump_t *p = arg;
    Binlog__PullBinlogReq *req = binlog__pull_binlog_req__unpack(NULL, msg.len, msg.p);
    if (req == NULL) {
        tr_h2_call_finish(call, TR_GRPC_INVALID_ARGUMENT, "bad PullBinlogs request");
        return;
    }
    uint64_t cid = req->clusterid;
    uint64_t offset = req->startfrom ? (uint64_t)req->startfrom->offset : 0;
    binlog__pull_binlog_req__free_unpacked(req, NULL);
    if (cid != g_cluster_id) {
        tr_h2_call_finish(call, TR_GRPC_FAILED_PRECONDITION, "cluster ID are mismatch");
        return;
    }
    fprintf(stderr, "feeder: pump %d: PullBinlogs from %" PRIu64 "\n", p->idx, offset);
    call_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        die("%s", "out of memory");
    }
    c->p = p;
    while (c->next < p->nrecs && p->recs[c->next].commit_ts <= offset) {
        c->next++;
    }
    c->last_ts = offset;
    c->last_send_ns = p->path == NULL ? 0 : tr_clock_mono_ns(); /* idle: a fake at once */
    if (p->path != NULL) {
        uint64_t zero = 0;
        atomic_compare_exchange_strong(&g_sched_t0, &zero, tr_clock_mono_ns() + 500000000u);
    }
    tr_h2_call_set_data(call, c);
}

/* Queues what is due now, while the call takes more; returns when to look again. */
static int64_t proceed(void *arg, tr_h2_call_t *call, int64_t now_ns)
{
    call_t *c = tr_h2_call_data(call);
    if (c == NULL) {
        return INT64_MAX; /* refused in on_call */
    }
    pump_t *p = c->p;
    while (tr_h2_call_queued(call) < OUT_HIGH_WATER) {
        uint64_t now = tr_clock_mono_ns();
        uint64_t wake = now + (uint64_t)g_fake_ms * 1000000u;
        if (c->next < p->nrecs && g_rate <= 0) {
            const rec_t *r = &p->recs[c->next++];
            tr_h2_call_send(call, r->data, r->len);
            c->last_ts = r->commit_ts;
            c->last_send_ns = now;
            continue;
        }
        if (c->next < p->nrecs) {
            /* latency mode: transaction k of all is due at t0 + k / rate */
            uint64_t k = atomic_load(&g_sent_txns);
            uint64_t due = g_sched_t0 + (uint64_t)((double)k * 1e9 / g_rate);
            if (now >= due && atomic_compare_exchange_strong(&g_sent_txns, &k, k + 1)) {
                uint64_t ts, ns;
                send_stamped(call, &p->recs[c->next++], &ts, &ns);
                c->last_ts = ts;
                c->last_send_ns = ns;
                log_line('T', p->idx, ts, ns);
                continue;
            }
            if (due > now && due < wake) {
                wake = due;
            } else if (due <= now) {
                wake = now + 20000; /* another pump took slot k: look again soon */
            }
        }
        uint64_t fake_due = c->last_send_ns + (uint64_t)g_fake_ms * 1000000u;
        if (now >= fake_due) {
            uint64_t ts = tso_next();
            uint8_t out[160];
            tr_h2_call_send(call, out, fake_message(ts, out));
            c->last_ts = ts;
            c->last_send_ns = now;
            log_line('F', p->idx, ts, now);
            continue;
        }
        if (fake_due < wake) {
            wake = fake_due;
        }
        return (int64_t)wake;
    }
    return INT64_MAX; /* full: called again once the connection has taken some */
}

static void on_close(void *arg, tr_h2_call_t *call)
{
    free(tr_h2_call_data(call));
}

static const char *const g_paths[] = {PULL_METHOD};

int main(int argc, char **argv)
{
    const char *log_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL) {
            die("%s needs a value", a);
        }
        i++;
        if (strcmp(a, "--cluster-id") == 0) {
            g_cluster_id = strtoull(v, NULL, 10);
        } else if (strcmp(a, "--fake-ms") == 0) {
            g_fake_ms = atoi(v);
        } else if (strcmp(a, "--rate") == 0) {
            g_rate = atof(v);
        } else if (strcmp(a, "--log") == 0) {
            log_path = v;
        } else if (strcmp(a, "--pump") == 0) {
            if (g_npumps == MAX_PUMPS) {
                die("%s", "too many pumps");
            }
            const char *eq = strchr(v, '=');
            if (eq == NULL || (size_t)(eq - v) >= sizeof(g_pumps[0].addr)) {
                die("--pump %s: expected HOST:PORT=FILE", v);
            }
            pump_t *p = &g_pumps[g_npumps];
            p->idx = g_npumps++;
            memcpy(p->addr, v, (size_t)(eq - v));
            p->path = strcmp(eq + 1, "-") == 0 ? NULL : eq + 1;
        } else {
            die("unknown option %s", a);
        }
    }
    if (g_npumps == 0) {
        die("%s", "no --pump");
    }
    if (log_path != NULL) {
        g_log = fopen(log_path, "w");
        if (g_log == NULL) {
            die("cannot write %s", log_path);
        }
        setvbuf(g_log, NULL, _IOFBF, 1 << 20);
    }
    size_t total = 0;
    for (int i = 0; i < g_npumps; i++) {
        if (g_pumps[i].path != NULL) {
            load_file(&g_pumps[i]);
            total += g_pumps[i].nrecs;
        }
    }
    /* The server threads inherit the blocked signals; main waits for them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    for (int i = 0; i < g_npumps; i++) {
        pump_t *p = &g_pumps[i];
        tr_h2_server_opts_t o = {
            .addr = p->addr,
            .log_name = "feeder",
            .paths = g_paths,
            .n_paths = 1,
            .on_call = on_call,
            .proceed = proceed,
            .on_close = on_close,
            .arg = p,
            .max_conns = 16,
            .write_timeout_ms = UINT32_MAX, /* tirelay may stop reading (backpressure) */
            .conn_mem_bytes = 64u << 20,
            .out_high_water = OUT_HIGH_WATER,
            .max_frame_bytes = FRAME_BYTES,
        };
        const char *why = NULL;
        int rc = tr_h2_server_start(&o, &p->server, &why);
        if (rc != 0) {
            die("cannot listen on %s: %s (%s)", p->addr, why, tr_strerror(rc));
        }
    }
    fprintf(stderr, "feeder: %d pumps, %zu records, serving\n", g_npumps, total);
    int sig = 0;
    sigwait(&sigs, &sig);
    for (int i = 0; i < g_npumps; i++) {
        tr_h2_server_stop(g_pumps[i].server);
    }
    if (g_log != NULL) {
        fclose(g_log);
    }
    return 0;
}
