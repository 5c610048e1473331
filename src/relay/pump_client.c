/*
 * One Pump puller: a thread that calls /binlog.Pump/PullBinlogs (server
 * streaming) through the gRPC core C API and hands every binlog to the
 * delivery callback, in strictly increasing commit_ts order. Each message
 * is moved out of gRPC's slices into one exact-size buffer (gRPC's copy is
 * released as it goes) that an owning callback may keep: a large transaction
 * is held once, not three times.
 *
 * Follows Drainer's puller (shared/spec/tidb-binlog.md section 2.4, TB
 * drainer/pump.go): request PullBinlogReq{clusterID, startFrom.offset = last
 * delivered commit_ts}; each PullBinlogResp carries Entity.payload, a
 * marshalled binlog.Binlog whose commit_ts is authoritative (Entity.meta is
 * ignored); a commit_ts at or below the last delivered one is dropped with a
 * rate-limited warning; a payload that does not decode is skipped (logged),
 * as Drainer does; on stream end or error the client logs once, backs off
 * (100 ms doubling to 5 s, reset after a delivered binlog) and reconnects
 * from the last delivered commit_ts.
 *
 * This file does I/O and owns a thread; it holds no byte layouts (the
 * messages are read by protocol/tidb_binlog.c). It and discovery.c are the
 * only includers of gRPC headers.
 *
 * Threading: the pump thread owns the channel, the completion queue and the
 * current call. Other threads only touch `stopping` and cancel `call`, both
 * under `mu`; grpc_call_cancel is thread-safe and wakes the completion queue.
 */
#include "relay/pump_client.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"

#define PULL_METHOD       "/binlog.Pump/PullBinlogs"
#define BACKOFF_MIN_MS    100
#define BACKOFF_MAX_MS    5000
#define WARN_INTERVAL_MS  10000 /* repeated warnings of one kind: one line per interval */
#define KEEPALIVE_TIME_MS 30000
#define KEEPALIVE_WAIT_MS 10000
#define MOVE_CHUNK_BYTES  (1u << 20) /* message bytes moved out of gRPC's slices per step */
#define TRIM_EVERY_BYTES  (8u << 20)  /* released slices handed back to the system this often */

/* Completion-queue tags of the three batches a call has in flight. */
enum { TAG_START = 1, TAG_STATUS = 2, TAG_MSG = 3 };

/* First warning of a kind is logged at once, the rest as a count per interval. */
typedef struct {
    int64_t last_ms; /* when the last line was written (0 = never) */
    uint64_t suppressed;
} warn_limit_t;

struct tr_pump_client {
    uint32_t pump_id;
    char *addr;
    uint64_t cluster_id;
    tr_pump_deliver_cb deliver;
    tr_pump_deliver_owned_cb deliver_owned;
    void *arg;
    _Atomic int64_t last_ts; /* last delivered commit_ts; written by the pump thread */

    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond; /* signalled on stop, wakes the backoff sleep */
    bool stopping;       /* guarded by mu */
    grpc_call *call;     /* current call or NULL; guarded by mu */

    /* Pump thread only. */
    grpc_channel *channel;
    grpc_completion_queue *cq;
    tr_buf_t req;
    bool connected; /* delivered something since the last failure was logged */
    warn_limit_t warn_backwards;
    warn_limit_t warn_malformed;
    warn_limit_t warn_stream;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Returns true if a warning should be written now; *suppressed gets the count
 * of warnings swallowed since the previous line. */
static bool warn_allowed(warn_limit_t *w, uint64_t *suppressed)
{
    int64_t now = now_ms();
    if (w->last_ms != 0 && now - w->last_ms < WARN_INTERVAL_MS) {
        w->suppressed++;
        return false;
    }
    *suppressed = w->suppressed;
    w->suppressed = 0;
    w->last_ms = now;
    return true;
}

static bool is_stopping(tr_pump_client_t *pc)
{
    pthread_mutex_lock(&pc->mu);
    bool stopping = pc->stopping;
    pthread_mutex_unlock(&pc->mu);
    return stopping;
}

/* ------------------------------------------------------------ one message */

/*
 * Moves the whole message out of bb into one exact-size tr_malloc'd buffer
 * and destroys bb. An uncompressed buffer gives up its slices as they are
 * copied (1 MiB at a time, malloc_trim every 8 MiB), so the message is never
 * held twice in full; a
 * compressed one goes through the reader. Returns NULL (bb destroyed) when it
 * cannot be read.
 */
static uint8_t *take_message(grpc_byte_buffer *bb, size_t *len)
{
    size_t n = grpc_byte_buffer_length(bb);
    *len = n;
    if (bb->type == GRPC_BB_RAW && bb->data.raw.compression == GRPC_COMPRESS_NONE) {
        uint8_t *msg = tr_malloc(n > 0 ? n : 1);
        grpc_slice_buffer *sb = &bb->data.raw.slice_buffer;
        size_t off = 0;
        while (off < n) {
            size_t chunk = n - off < MOVE_CHUNK_BYTES ? n - off : MOVE_CHUNK_BYTES;
            grpc_slice_buffer_move_first_into_buffer(sb, chunk, msg + off);
            off += chunk;
#ifdef __GLIBC__
            if (off % TRIM_EVERY_BYTES < chunk) {
                /* The slices just released are heap chunks: glibc keeps them unless
                 * asked, and the copy would then cost the message size twice. */
                (void)malloc_trim(0);
            }
#endif
        }
        grpc_byte_buffer_destroy(bb);
        return msg;
    }
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, bb)) {
        grpc_byte_buffer_destroy(bb);
        return NULL;
    }
    uint8_t *msg = NULL;
    size_t cap = 0;
    size_t off = 0;
    grpc_slice sl;
    while (grpc_byte_buffer_reader_next(&reader, &sl)) {
        size_t sl_len = GRPC_SLICE_LENGTH(sl);
        if (off + sl_len > cap) {
            cap = off + sl_len > cap * 2 ? off + sl_len : cap * 2;
            msg = tr_realloc(msg, cap);
        }
        memcpy(msg + off, GRPC_SLICE_START_PTR(sl), sl_len);
        off += sl_len;
        grpc_slice_unref(sl);
    }
    grpc_byte_buffer_reader_destroy(&reader);
    grpc_byte_buffer_destroy(bb);
    if (msg == NULL) {
        msg = tr_malloc(1);
    }
    *len = off;
    return msg;
}

/* Handles one PullBinlogResp (takes bb). Returns 0 to keep streaming, or the
 * callback's non-zero result to end the stream. *delivered is set when a
 * binlog went out. */
static int handle_message(tr_pump_client_t *pc, grpc_byte_buffer *bb, bool *delivered)
{
    size_t len = 0;
    uint8_t *msg = take_message(bb, &len);
    if (msg == NULL) {
        uint64_t n = 0;
        if (warn_allowed(&pc->warn_malformed, &n)) {
            tr_log_warn("pump",
                        "cannot read message, skipped pump=%" PRIu32 " addr=%s suppressed=%" PRIu64,
                        pc->pump_id, pc->addr, n);
        }
        return 0;
    }

    const char *why = NULL;
    tr_slice_t payload;
    tr_tidb_binlog_t b;
    int rc = tr_tidb_pull_resp_payload(msg, len, &payload, &why);
    if (rc == 0) {
        ssize_t n = tr_tidb_binlog_decode(payload.p, payload.len, &b, &why);
        rc = n < 0 ? (int)n : 0;
    }
    if (rc != 0) {
        uint64_t n = 0;
        if (warn_allowed(&pc->warn_malformed, &n)) {
            tr_log_warn("pump",
                        "undecodable binlog skipped pump=%" PRIu32 " addr=%s err=%s why=%s "
                        "bytes=%zu suppressed=%" PRIu64,
                        pc->pump_id, pc->addr, tr_err_name(rc), why ? why : "", len, n);
        }
        tr_free(msg);
        return 0;
    }

    int64_t last = atomic_load(&pc->last_ts);
    if (b.commit_ts <= last) {
        uint64_t n = 0;
        if (warn_allowed(&pc->warn_backwards, &n)) {
            tr_log_warn("pump",
                        "pump went backwards, binlog dropped pump=%" PRIu32 " addr=%s "
                        "commit_ts=%" PRId64 " last_ts=%" PRId64 " suppressed=%" PRIu64,
                        pc->pump_id, pc->addr, b.commit_ts, last, n);
        }
        tr_free(msg);
        return 0;
    }
    int64_t commit_ts = b.commit_ts;
    if (pc->deliver_owned != NULL) {
        rc = pc->deliver_owned(pc->arg, pc->pump_id, &msg, payload.p, payload.len, &b);
    } else {
        rc = pc->deliver(pc->arg, pc->pump_id, payload.p, payload.len, &b);
    }
    if (rc == 0) {
        atomic_store(&pc->last_ts, commit_ts);
        *delivered = true;
    }
    tr_free(msg); /* NULL when the callback kept it */
    return rc;
}

/* ------------------------------------------------------------ one call */

static int start_recv(grpc_call *call, grpc_byte_buffer **recv_buf)
{
    grpc_op op;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = recv_buf;
    return grpc_call_start_batch(call, &op, 1, (void *)(intptr_t)TAG_MSG, NULL);
}

/*
 * Runs one PullBinlogs call to its end. Returns 0 when the stream ended
 * cleanly (server closed with OK), TR_ECLOSED when stopping, TR_EUPSTREAM on a
 * gRPC failure, or the callback's non-zero result. *progressed is set when
 * at least one binlog was delivered.
 */
static int run_call(tr_pump_client_t *pc, bool *progressed)
{
    int64_t offset = atomic_load(&pc->last_ts);
    tr_buf_reset(&pc->req);
    tr_tidb_pull_req_encode(&pc->req, pc->cluster_id, offset);
    if (!tr_buf_ok(&pc->req)) {
        return TR_ETOOBIG; /* cannot happen: the buffer has no limit */
    }

    grpc_call *call = grpc_channel_create_call(pc->channel, NULL, GRPC_PROPAGATE_DEFAULTS, pc->cq,
                                               grpc_slice_from_static_string(PULL_METHOD), NULL,
                                               gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (call == NULL) {
        return TR_EUPSTREAM;
    }
    pthread_mutex_lock(&pc->mu);
    bool stopping = pc->stopping;
    if (!stopping) {
        pc->call = call;
    }
    pthread_mutex_unlock(&pc->mu);
    if (stopping) {
        grpc_call_unref(call);
        return TR_ECLOSED;
    }
    tr_log_debug("pump", "pulling pump=%" PRIu32 " addr=%s offset=%" PRId64, pc->pump_id, pc->addr,
                 offset);

    grpc_slice req_slice = grpc_slice_from_copied_buffer((const char *)pc->req.data, pc->req.len);
    grpc_byte_buffer *send_buf = grpc_raw_byte_buffer_create(&req_slice, 1);
    grpc_slice_unref(req_slice);
    grpc_metadata_array initial_md;
    grpc_metadata_array trailing_md;
    grpc_metadata_array_init(&initial_md);
    grpc_metadata_array_init(&trailing_md);
    grpc_status_code status = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    const char *error_string = NULL;
    grpc_byte_buffer *recv_buf = NULL;
    int pending = 0;
    int rc = 0;
    bool got_status = false;

    grpc_op ops[4];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send_buf;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial_md;
    grpc_call_error err = grpc_call_start_batch(call, ops, 4, (void *)(intptr_t)TAG_START, NULL);
    if (err == GRPC_CALL_OK) {
        pending++;
        grpc_op st;
        memset(&st, 0, sizeof(st));
        st.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
        st.data.recv_status_on_client.trailing_metadata = &trailing_md;
        st.data.recv_status_on_client.status = &status;
        st.data.recv_status_on_client.status_details = &details;
        st.data.recv_status_on_client.error_string = &error_string;
        err = grpc_call_start_batch(call, &st, 1, (void *)(intptr_t)TAG_STATUS, NULL);
    }
    if (err == GRPC_CALL_OK) {
        pending++;
        err = start_recv(call, &recv_buf);
    }
    if (err == GRPC_CALL_OK) {
        pending++;
    } else {
        tr_log_error("pump", "grpc_call_start_batch failed pump=%" PRIu32 " err=%d", pc->pump_id,
                     (int)err);
        rc = TR_EUPSTREAM;
        grpc_call_cancel(call, NULL);
    }

    bool reading = err == GRPC_CALL_OK;
    while (pending > 0) {
        grpc_event ev =
            grpc_completion_queue_next(pc->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type != GRPC_OP_COMPLETE) {
            continue; /* no timeouts are used and the queue is shut down only after the thread */
        }
        pending--;
        intptr_t tag = (intptr_t)ev.tag;
        if (tag == TAG_STATUS) {
            got_status = true;
        } else if (tag == TAG_MSG) {
            if (!ev.success || recv_buf == NULL) {
                reading = false; /* end of stream or failure; the status says which */
                continue;
            }
            grpc_byte_buffer *got = recv_buf;
            recv_buf = NULL;
            int cb_rc = handle_message(pc, got, progressed); /* destroys got */
            if (*progressed && !pc->connected) {
                pc->connected = true;
                tr_log_info("pump", "pump streaming pump=%" PRIu32 " addr=%s offset=%" PRId64,
                            pc->pump_id, pc->addr, offset);
            }
            if (cb_rc != 0) {
                rc = cb_rc;
                reading = false;
                grpc_call_cancel(call, NULL);
            } else if (reading) {
                if (start_recv(call, &recv_buf) == GRPC_CALL_OK) {
                    pending++;
                } else {
                    reading = false;
                    rc = TR_EUPSTREAM;
                    grpc_call_cancel(call, NULL);
                }
            }
        }
        /* TAG_START: a failure there also shows in the status; nothing to do. */
    }

    pthread_mutex_lock(&pc->mu);
    pc->call = NULL;
    stopping = pc->stopping;
    pthread_mutex_unlock(&pc->mu);

    if (stopping) {
        rc = TR_ECLOSED;
    } else if (rc == 0) {
        if (got_status && status == GRPC_STATUS_OK) {
            rc = 0;
        } else {
            rc = TR_EUPSTREAM;
        }
        uint64_t n = 0;
        if (pc->connected || warn_allowed(&pc->warn_stream, &n)) {
            char *msg = grpc_slice_to_c_string(details);
            tr_log_warn("pump",
                        "pump stream ended pump=%" PRIu32 " addr=%s status=%d details=\"%s\" "
                        "last_ts=%" PRId64 " failures_suppressed=%" PRIu64,
                        pc->pump_id, pc->addr, (int)status, msg, atomic_load(&pc->last_ts), n);
            gpr_free(msg);
            if (pc->connected) {
                /* First failure after streaming: logged at once (above); the
                 * failures that follow are counted per interval. */
                pc->warn_stream.last_ms = now_ms();
                pc->warn_stream.suppressed = 0;
            }
        }
        pc->connected = false;
    } else {
        tr_log_info("pump",
                    "pump stream closed by the consumer pump=%" PRIu32 " rc=%d last_ts=%" PRId64,
                    pc->pump_id, rc, atomic_load(&pc->last_ts));
        pc->connected = false;
    }

    if (recv_buf != NULL) {
        grpc_byte_buffer_destroy(recv_buf);
    }
    grpc_byte_buffer_destroy(send_buf);
    grpc_metadata_array_destroy(&initial_md);
    grpc_metadata_array_destroy(&trailing_md);
    grpc_slice_unref(details);
    gpr_free((void *)error_string);
    grpc_call_unref(call);
    return rc;
}

/* ------------------------------------------------------------ thread */

/* Sleeps up to ms unless stopped; returns true if stopping. */
static bool backoff_sleep(tr_pump_client_t *pc, int64_t ms)
{
    struct timespec until;
    (void)clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(ms / 1000);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&pc->mu);
    while (!pc->stopping) {
        if (pthread_cond_timedwait(&pc->cond, &pc->mu, &until) == ETIMEDOUT) {
            break;
        }
    }
    bool stopping = pc->stopping;
    pthread_mutex_unlock(&pc->mu);
    return stopping;
}

static void *pump_thread(void *varg)
{
    tr_pump_client_t *pc = varg;
    int64_t backoff_ms = BACKOFF_MIN_MS;
    while (!is_stopping(pc)) {
        bool progressed = false;
        int rc = run_call(pc, &progressed);
        if (rc == TR_ECLOSED) {
            break;
        }
        if (progressed) {
            backoff_ms = BACKOFF_MIN_MS;
        }
        if (backoff_sleep(pc, backoff_ms)) {
            break;
        }
        if (!progressed) {
            backoff_ms = backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff_ms * 2;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ public */

void tr_pump_client_global_init(void)
{
    grpc_init();
}

void tr_pump_client_global_shutdown(void)
{
    grpc_shutdown();
}

static grpc_channel *make_channel(const char *addr)
{
    grpc_arg args[8];
    size_t n = 0;
    args[n].type = GRPC_ARG_INTEGER;
    args[n].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[n++].value.integer = -1; /* unlimited, as Drainer (TB drainer/util.go maxGrpcMsgSize) */
    args[n].type = GRPC_ARG_INTEGER;
    args[n].key = (char *)GRPC_ARG_KEEPALIVE_TIME_MS;
    args[n++].value.integer = KEEPALIVE_TIME_MS;
    args[n].type = GRPC_ARG_INTEGER;
    args[n].key = (char *)GRPC_ARG_KEEPALIVE_TIMEOUT_MS;
    args[n++].value.integer = KEEPALIVE_WAIT_MS;
    /* The client never sends data after its request, so the default limit of
     * two pings without data would end keepalive early. A Pump streams a fake
     * binlog at least every few seconds, which keeps Go's ping policy happy. */
    args[n].type = GRPC_ARG_INTEGER;
    args[n].key = (char *)GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA;
    args[n++].value.integer = 0;
    /* Keep gRPC's own reconnect backoff within ours (its default grows to 120 s). */
    args[n].type = GRPC_ARG_INTEGER;
    args[n].key = (char *)GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS;
    args[n++].value.integer = BACKOFF_MIN_MS;
    args[n].type = GRPC_ARG_INTEGER;
    args[n].key = (char *)GRPC_ARG_MIN_RECONNECT_BACKOFF_MS;
    args[n++].value.integer = BACKOFF_MIN_MS;
    args[n].type = GRPC_ARG_INTEGER;
    args[n].key = (char *)GRPC_ARG_MAX_RECONNECT_BACKOFF_MS;
    args[n++].value.integer = BACKOFF_MAX_MS;
    grpc_channel_args chargs = {n, args};
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    grpc_channel *ch = grpc_channel_create(addr, creds, &chargs);
    grpc_channel_credentials_release(creds);
    return ch;
}

int tr_pump_client_start(const tr_pump_client_opts_t *opts, tr_pump_client_t **out)
{
    *out = NULL;
    if (opts->addr == NULL || opts->addr[0] == '\0' ||
        (opts->deliver == NULL) == (opts->deliver_owned == NULL)) {
        return TR_ECONFIG;
    }
    tr_pump_client_t *pc = tr_calloc(1, sizeof(*pc));
    pc->pump_id = opts->pump_id;
    pc->addr = tr_strdup(opts->addr);
    pc->cluster_id = opts->cluster_id;
    pc->deliver = opts->deliver;
    pc->deliver_owned = opts->deliver_owned;
    pc->arg = opts->arg;
    atomic_init(&pc->last_ts, opts->start_commit_ts);
    tr_buf_init(&pc->req, 0);

    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);
    if (rc == 0) {
        rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        if (rc == 0) {
            rc = pthread_cond_init(&pc->cond, &ca);
        }
        (void)pthread_condattr_destroy(&ca);
    }
    if (rc != 0) {
        tr_buf_cleanup(&pc->req);
        tr_free(pc->addr);
        tr_free(pc);
        return -rc;
    }
    rc = pthread_mutex_init(&pc->mu, NULL);
    if (rc != 0) {
        (void)pthread_cond_destroy(&pc->cond);
        tr_buf_cleanup(&pc->req);
        tr_free(pc->addr);
        tr_free(pc);
        return -rc;
    }
    pc->channel = make_channel(pc->addr);
    pc->cq = grpc_completion_queue_create_for_next(NULL);
    rc = pthread_create(&pc->thread, NULL, pump_thread, pc);
    if (rc != 0) {
        grpc_channel_destroy(pc->channel);
        grpc_completion_queue_shutdown(pc->cq);
        grpc_completion_queue_destroy(pc->cq);
        (void)pthread_mutex_destroy(&pc->mu);
        (void)pthread_cond_destroy(&pc->cond);
        tr_buf_cleanup(&pc->req);
        tr_free(pc->addr);
        tr_free(pc);
        return -rc;
    }
    tr_log_info("pump", "pump client started pump=%" PRIu32 " addr=%s offset=%" PRId64, pc->pump_id,
                pc->addr, opts->start_commit_ts);
    *out = pc;
    return 0;
}

void tr_pump_client_cancel(tr_pump_client_t *pc)
{
    if (pc == NULL) {
        return;
    }
    pthread_mutex_lock(&pc->mu);
    pc->stopping = true;
    if (pc->call != NULL) {
        grpc_call_cancel(pc->call, NULL);
    }
    pthread_cond_broadcast(&pc->cond);
    pthread_mutex_unlock(&pc->mu);
}

void tr_pump_client_stop(tr_pump_client_t *pc)
{
    if (pc == NULL) {
        return;
    }
    tr_pump_client_cancel(pc);
    int rc = pthread_join(pc->thread, NULL);
    TR_ASSERT(rc == 0);
    grpc_channel_destroy(pc->channel);
    grpc_completion_queue_shutdown(pc->cq);
    for (;;) {
        grpc_event ev =
            grpc_completion_queue_next(pc->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN) {
            break;
        }
    }
    grpc_completion_queue_destroy(pc->cq);
    tr_log_info("pump", "pump client stopped pump=%" PRIu32 " addr=%s last_ts=%" PRId64,
                pc->pump_id, pc->addr, atomic_load(&pc->last_ts));
    (void)pthread_mutex_destroy(&pc->mu);
    (void)pthread_cond_destroy(&pc->cond);
    tr_buf_cleanup(&pc->req);
    tr_free(pc->addr);
    tr_free(pc);
}

int64_t tr_pump_client_last_ts(const tr_pump_client_t *pc)
{
    return atomic_load(&pc->last_ts);
}
