/*
 * feeder: serves /binlog.Pump/PullBinlogs from pre-encoded files (bench/gen_stream.py)
 * as fast as gRPC core sends, for the benchmarks of issue 8.
 *
 *   feeder --cluster-id N [--fake-ms 200] [--rate TXN/S] [--log FILE]
 *          --pump HOST:PORT=FILE [--pump HOST:PORT=FILE | --pump HOST:PORT=-]...
 *
 * One gRPC core server (grpc/grpc.h, as src/relay/discovery.c serves Notify) and one
 * thread per Pump address. A file is a sequence of [u32 LE length][u64 LE commit_ts]
 * [PullBinlogResp] records in commit_ts order; '-' is an idle Pump (fake binlogs only).
 * A call gets every record with commit_ts > startFrom.offset, one message at a time
 * (gRPC allows one outstanding send per call), then, like a Pump that gets no writes,
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
 * every fake binlog sent (ns: CLOCK_MONOTONIC just before the send was handed to gRPC).
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

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "proto/binlog.pb-c.h"
#include "proto/pump.pb-c.h"

#define MAX_PUMPS   64
#define PULL_METHOD "/binlog.Pump/PullBinlogs"
#define MARKER      "@@TS"
#define MARKER_DIG  20

enum { TAG_NEW = 1, TAG_RECV, TAG_SEND, TAG_CLOSE, TAG_STATUS, TAG_SHUTDOWN };

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
    pthread_t thread;
    grpc_server *server;
    grpc_completion_queue *cq;
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
static volatile sig_atomic_t g_stop;
static uint64_t g_t0_ns;
static _Atomic uint64_t g_sched_t0; /* latency mode: set when the first Pump with a file is pulled */

static uint64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t tso_next(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    uint64_t now = ((uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u) << 18;
    uint64_t prev = atomic_load(&g_tso);
    for (;;) {
        uint64_t next = now > prev ? now : prev + 1;
        if (atomic_compare_exchange_weak(&g_tso, &prev, next)) {
            return next;
        }
    }
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
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

/* A fake binlog: PullBinlogResp{entity{pos{}, payload=Binlog{tp=Rollback, ts, ts}, meta}}. */
static grpc_byte_buffer *fake_message(uint64_t ts)
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
    uint8_t out[160];
    size_t n = binlog__pull_binlog_resp__pack(&resp, out);
    grpc_slice s = grpc_slice_from_copied_buffer((const char *)out, n);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return bb;
}

/* Latency mode: the record re-stamped with a fresh TSO and the marker with the send time. */
static grpc_byte_buffer *stamped_message(const rec_t *r, uint64_t *ts_out, uint64_t *ns_out)
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
    uint64_t ns = mono_ns();
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
    grpc_slice s = grpc_slice_malloc(n);
    binlog__pull_binlog_resp__pack(resp, GRPC_SLICE_START_PTR(s));
    resp->entity->payload.data = old_payload;
    free(bbuf);
    binlog__binlog__free_unpacked(b, NULL);
    binlog__pull_binlog_resp__free_unpacked(resp, NULL);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    *ts_out = ts;
    *ns_out = ns;
    return bb;
}

typedef struct {
    pump_t *p;
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array md;
    grpc_byte_buffer *req;
    int cancelled;
    bool closed;      /* RECV_CLOSE_ON_SERVER completed: the client went away */
    bool send_busy;   /* one send outstanding */
    bool md_sent;
    bool active;      /* the request was read */
    bool status_sent, status_done, close_done;
    size_t next;      /* next record */
    uint64_t last_ts; /* last commit_ts sent */
    uint64_t last_send_ns;
} call_t;

static void start_send(call_t *c, grpc_byte_buffer *bb)
{
    grpc_op ops[2];
    memset(ops, 0, sizeof(ops));
    size_t n = 0;
    if (!c->md_sent) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        c->md_sent = true;
    }
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n++].data.send_message.send_message = bb;
    grpc_call_error e = grpc_call_start_batch(c->call, ops, n, (void *)(intptr_t)TAG_SEND, NULL);
    grpc_byte_buffer_destroy(bb);
    if (e != GRPC_CALL_OK) {
        fprintf(stderr, "feeder: pump %d: send refused (%d)\n", c->p->idx, (int)e);
        c->closed = true;
        return;
    }
    c->send_busy = true;
}

static gpr_timespec short_wait(void)
{
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(50, GPR_TIMESPAN));
}

/* Sends what is due now; returns the deadline of the next thing to send. */
static gpr_timespec pump_due(call_t *c)
{
    pump_t *p = c->p;
    uint64_t now = mono_ns();
    uint64_t wake = now + (uint64_t)g_fake_ms * 1000000u;
    {
        if (c->next < p->nrecs && g_rate <= 0) {
            const rec_t *r = &p->recs[c->next++];
            grpc_slice s = grpc_slice_from_static_buffer(r->data, r->len);
            c->last_ts = r->commit_ts;
            c->last_send_ns = now;
            start_send(c, grpc_raw_byte_buffer_create(&s, 1));
            return short_wait();
        }
        if (c->next < p->nrecs) {
            /* latency mode: transaction k of all is due at t0 + k / rate */
            uint64_t k = atomic_load(&g_sent_txns);
            uint64_t due = g_sched_t0 + (uint64_t)((double)k * 1e9 / g_rate);
            if (now >= due && atomic_compare_exchange_strong(&g_sent_txns, &k, k + 1)) {
                uint64_t ts, ns;
                grpc_byte_buffer *bb = stamped_message(&p->recs[c->next++], &ts, &ns);
                c->last_ts = ts;
                c->last_send_ns = ns;
                start_send(c, bb);
                log_line('T', p->idx, ts, ns);
                return short_wait();
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
            c->last_ts = ts;
            c->last_send_ns = now;
            start_send(c, fake_message(ts));
            log_line('F', p->idx, ts, now);
            return short_wait();
        }
        if (fake_due < wake) {
            wake = fake_due;
        }
    }
    if (g_stop) {
        wake = now + 1000000u;
    }
    int64_t d = (int64_t)(wake - now);
    if (d > 50000000) {
        d = 50000000; /* notice g_stop */
    }
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_nanos(d, GPR_TIMESPAN));
}

static void request_call(call_t *c)
{
    c->call = NULL;
    grpc_call_details_init(&c->details);
    grpc_metadata_array_init(&c->md);
    if (grpc_server_request_call(c->p->server, &c->call, &c->details, &c->md, c->p->cq, c->p->cq,
                                 (void *)(intptr_t)TAG_NEW) != GRPC_CALL_OK) {
        die("%s", "cannot request a call");
    }
}

static void finish_call(call_t *c, grpc_status_code code, const char *msg)
{
    grpc_slice details = grpc_slice_from_copied_string(msg);
    grpc_op ops[2];
    memset(ops, 0, sizeof(ops));
    size_t n = 0;
    if (!c->md_sent) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        c->md_sent = true;
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = code;
    ops[n++].data.send_status_from_server.status_details = &details;
    if (grpc_call_start_batch(c->call, ops, n, (void *)(intptr_t)TAG_STATUS, NULL) ==
        GRPC_CALL_OK) {
        c->status_sent = true;
    } else {
        c->status_sent = c->status_done = true;
    }
    grpc_slice_unref(details);
}

/* The call can go once its status is sent, its close seen and no send is outstanding. */
static bool call_over(const call_t *c)
{
    return c->status_sent && c->status_done && c->close_done && !c->send_busy;
}

static void maybe_finish(call_t *c)
{
    if (c->closed && !c->send_busy && !c->status_sent) {
        finish_call(c, GRPC_STATUS_CANCELLED, "closed");
    }
}

static void *pump_thread(void *arg)
{
    pump_t *p = arg;
    call_t c;
    memset(&c, 0, sizeof(c));
    c.p = p;
    request_call(&c);
    bool shutting = false;
    for (;;) {
        gpr_timespec deadline;
        if (c.active && !shutting && !c.send_busy && !c.closed) {
            deadline = pump_due(&c);
        } else {
            deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                    gpr_time_from_millis(50, GPR_TIMESPAN));
        }
        grpc_event ev = grpc_completion_queue_next(p->cq, deadline, NULL);
        if (g_stop && !shutting) {
            shutting = true;
            grpc_server_shutdown_and_notify(p->server, p->cq, (void *)(intptr_t)TAG_SHUTDOWN);
            grpc_server_cancel_all_calls(p->server);
        }
        if (ev.type == GRPC_QUEUE_SHUTDOWN) {
            break;
        }
        if (ev.type != GRPC_OP_COMPLETE) {
            continue;
        }
        switch ((intptr_t)ev.tag) {
        case TAG_NEW: {
            if (!ev.success) {
                break; /* shutting down */
            }
            grpc_op op;
            memset(&op, 0, sizeof(op));
            op.op = GRPC_OP_RECV_MESSAGE;
            op.data.recv_message.recv_message = &c.req;
            grpc_call_start_batch(c.call, &op, 1, (void *)(intptr_t)TAG_RECV, NULL);
            break;
        }
        case TAG_RECV: {
            uint64_t offset = 0;
            uint64_t cid = 0;
            bool ok = ev.success && c.req != NULL &&
                      grpc_slice_eq(c.details.method, grpc_slice_from_static_string(PULL_METHOD));
            if (ok) {
                grpc_byte_buffer_reader rd;
                grpc_byte_buffer_reader_init(&rd, c.req);
                grpc_slice all = grpc_byte_buffer_reader_readall(&rd);
                grpc_byte_buffer_reader_destroy(&rd);
                Binlog__PullBinlogReq *req = binlog__pull_binlog_req__unpack(
                    NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
                grpc_slice_unref(all);
                if (req == NULL) {
                    ok = false;
                } else {
                    cid = req->clusterid;
                    offset = req->startfrom ? (uint64_t)req->startfrom->offset : 0;
                    binlog__pull_binlog_req__free_unpacked(req, NULL);
                }
            }
            if (c.req != NULL) {
                grpc_byte_buffer_destroy(c.req);
                c.req = NULL;
            }
            grpc_op op;
            memset(&op, 0, sizeof(op));
            op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
            op.data.recv_close_on_server.cancelled = &c.cancelled;
            grpc_call_start_batch(c.call, &op, 1, (void *)(intptr_t)TAG_CLOSE, NULL);
            c.active = true;
            if (!ok) {
                finish_call(&c, GRPC_STATUS_INVALID_ARGUMENT, "bad PullBinlogs request");
                break;
            }
            if (cid != g_cluster_id) {
                finish_call(&c, GRPC_STATUS_FAILED_PRECONDITION, "cluster ID are mismatch");
                break;
            }
            fprintf(stderr, "feeder: pump %d: PullBinlogs from %" PRIu64 "\n", p->idx, offset);
            c.next = 0;
            while (c.next < p->nrecs && p->recs[c.next].commit_ts <= offset) {
                c.next++;
            }
            c.last_ts = offset;
            c.last_send_ns = p->path == NULL ? 0 : mono_ns(); /* idle: a fake at once */
            if (p->path != NULL) {
                uint64_t zero = 0;
                atomic_compare_exchange_strong(&g_sched_t0, &zero, mono_ns() + 500000000u);
            }
            break;
        }
        case TAG_SEND:
            c.send_busy = false;
            if (!ev.success) {
                c.closed = true;
            }
            maybe_finish(&c);
            break;
        case TAG_CLOSE:
            c.close_done = true;
            c.closed = true;
            maybe_finish(&c);
            break;
        case TAG_STATUS:
            c.status_done = true;
            break;
        case TAG_SHUTDOWN:
            grpc_completion_queue_shutdown(p->cq);
            break;
        default:
            break;
        }
        if (c.active && call_over(&c)) {
            grpc_call_unref(c.call);
            grpc_call_details_destroy(&c.details);
            grpc_metadata_array_destroy(&c.md);
            memset(&c, 0, sizeof(c));
            c.p = p;
            if (!shutting) {
                request_call(&c); /* serve the next call (a relay that reconnects) */
            }
        }
    }
    return NULL;
}

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

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
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    grpc_init();
    for (int i = 0; i < g_npumps; i++) {
        pump_t *p = &g_pumps[i];
        p->cq = grpc_completion_queue_create_for_next(NULL);
        grpc_arg args[1];
        args[0].type = GRPC_ARG_INTEGER;
        args[0].key = GRPC_ARG_MAX_SEND_MESSAGE_LENGTH;
        args[0].value.integer = -1;
        grpc_channel_args ca = {1, args};
        p->server = grpc_server_create(&ca, NULL);
        grpc_server_register_completion_queue(p->server, p->cq, NULL);
        grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
        int port = grpc_server_add_http2_port(p->server, p->addr, creds);
        grpc_server_credentials_release(creds);
        if (port <= 0) {
            die("cannot listen on %s", p->addr);
        }
        grpc_server_start(p->server);
    }
    g_t0_ns = mono_ns();
    for (int i = 0; i < g_npumps; i++) {
        pthread_create(&g_pumps[i].thread, NULL, pump_thread, &g_pumps[i]);
    }
    fprintf(stderr, "feeder: %d pumps, %zu records, serving\n", g_npumps, total);
    for (int i = 0; i < g_npumps; i++) {
        pthread_join(g_pumps[i].thread, NULL);
        grpc_server_destroy(g_pumps[i].server);
        grpc_completion_queue_destroy(g_pumps[i].cq);
    }
    if (g_log != NULL) {
        fclose(g_log);
    }
    grpc_shutdown();
    return 0;
}
