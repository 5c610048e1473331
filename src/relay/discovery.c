/*
 * Pump discovery and Drainer registration in etcd (see discovery.h).
 *
 * One thread owns one libcurl easy handle. Each round it POSTs JSON to the
 * etcd v3 gateway of the current URL; a transport failure moves on to the
 * next URL of pd-urls. Our entry is written as TB pkg/etcd/etcd.go does:
 * an update txn If(ModRevision > 0) Then Put, and when that compare fails
 * (no key yet) a create txn If(ModRevision == 0) Then Put. Keys carry no
 * lease, as in TiDB Binlog: the entry survives a crash with state online.
 *
 * updateTS is an approximate TSO from the wall clock (ms << 18): tirelay
 * does not talk to PD's TSO service, and Drainer's own value is also an
 * estimate (last TSO + elapsed time).
 *
 * The Notify server (end of file) runs on relay/h2_server.c's thread: a call
 * asks the discovery thread for a list (a ticket) and is answered when that
 * list has finished; the discovery thread wakes the server through a hook.
 */
#include "relay/discovery.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/tso.h"
#include "common/thread.h"
#include "protocol/grpc_frame.h"
#include "protocol/grpc_request.h"
#include "relay/h2_server.h"

#define MAX_URLS          16
#define MAX_PUMPS         256
#define HTTP_TIMEOUT_MS   3000
#define CONNECT_TIMEOUT_MS 1000
#define MAX_RESPONSE      (64u * 1024 * 1024)

struct tr_discovery {
    char *urls[MAX_URLS];
    size_t n_urls;
    size_t cur_url;
    char node_id[128];
    char host[256];
    uint32_t detect_interval_ms;
    uint32_t heartbeat_ms;
    bool stop_offline;
    tr_discovery_pumps_cb on_pumps;
    tr_discovery_progress_cb progress;
    void *arg;

    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stopping;        /* under mu */
    bool notify;          /* under mu: list again now */
    uint64_t refresh_asked; /* under mu: tr_discovery_refresh requests so far */
    uint64_t refresh_done;  /* under mu: requests answered by a finished list */
    int refresh_rc;         /* under mu: result of that list */
    void (*refresh_hook)(void *); /* under mu: called (under mu) when requests are answered */
    void *refresh_hook_arg;

    /* Discovery thread only. */
    CURL *curl;
    tr_buf_t req;
    tr_buf_t resp;
    tr_node_status_t pumps[MAX_PUMPS];
    size_t n_pumps;
    bool list_failing;    /* last list failed (log on change only) */
    bool beat_failing;    /* last heartbeat failed */
    int64_t last_reported_ts;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    (void)curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---------------------------------------------------------------- HTTP */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    tr_buf_t *b = arg;
    tr_buf_append(b, p, size * n);
    return tr_buf_ok(b) ? size * n : 0;
}

/* POSTs d->req to <url><path>; the body lands in d->resp. Tries each URL once,
 * starting from the last one that worked. Returns 0 or TR_EUPSTREAM with *why. */
static int post(tr_discovery_t *d, const char *path, const char **why)
{
    for (size_t attempt = 0; attempt < d->n_urls; attempt++) {
        char url[1200];
        snprintf(url, sizeof(url), "%s%s", d->urls[d->cur_url], path);
        tr_buf_reset(&d->resp);
        curl_easy_reset(d->curl);
        (void)curl_easy_setopt(d->curl, CURLOPT_URL, url);
        (void)curl_easy_setopt(d->curl, CURLOPT_NOSIGNAL, 1L);
        (void)curl_easy_setopt(d->curl, CURLOPT_POST, 1L);
        (void)curl_easy_setopt(d->curl, CURLOPT_POSTFIELDS, (const char *)d->req.data);
        (void)curl_easy_setopt(d->curl, CURLOPT_POSTFIELDSIZE, (long)d->req.len);
        (void)curl_easy_setopt(d->curl, CURLOPT_TIMEOUT_MS, (long)HTTP_TIMEOUT_MS);
        (void)curl_easy_setopt(d->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
        (void)curl_easy_setopt(d->curl, CURLOPT_WRITEFUNCTION, on_body);
        (void)curl_easy_setopt(d->curl, CURLOPT_WRITEDATA, &d->resp);
        CURLcode cc = curl_easy_perform(d->curl);
        long status = 0;
        if (cc == CURLE_OK) {
            (void)curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &status);
            if (status == 200) {
                return 0;
            }
            *why = "etcd answered with an HTTP error status";
        } else {
            *why = curl_easy_strerror(cc);
        }
        d->cur_url = (d->cur_url + 1) % d->n_urls;
    }
    return TR_EUPSTREAM;
}

/* ---------------------------------------------------------------- pumps */

static void on_kv(void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
                  size_t value_len)
{
    tr_discovery_t *d = arg;
    if (d->n_pumps == MAX_PUMPS) {
        return;
    }
    tr_node_status_t *st = &d->pumps[d->n_pumps];
    const char *why = NULL;
    int rc = tr_node_status_decode(value, value_len, st, &why);
    if (rc != 0) {
        tr_log_warn("discovery", "ignoring a Pump entry that does not decode key=%.*s: %s",
                    (int)(key_len < 200 ? key_len : 200), (const char *)key, why ? why : "?");
        return;
    }
    d->n_pumps++;
}

static int list_pumps(tr_discovery_t *d)
{
    tr_buf_reset(&d->req);
    tr_etcd_range_prefix_body(TR_NODE_PUMPS_PREFIX, &d->req);
    const char *why = NULL;
    int rc = post(d, "/v3/kv/range", &why);
    if (rc == 0) {
        d->n_pumps = 0;
        rc = tr_etcd_range_decode((const char *)d->resp.data, d->resp.len, on_kv, d, &why);
    }
    if (rc < 0) {
        if (!d->list_failing) {
            tr_log_warn("discovery", "cannot list Pumps in etcd (retrying every %u ms): %s",
                        d->detect_interval_ms, why ? why : tr_strerror(rc));
        }
        d->list_failing = true;
        return rc;
    }
    if (d->list_failing) {
        tr_log_info("discovery", "listing Pumps in etcd works again pumps=%zu", d->n_pumps);
    }
    d->list_failing = false;
    d->on_pumps(d->arg, d->pumps, d->n_pumps);
    return 0;
}

/* ---------------------------------------------------------------- our entry */

static int put_status(tr_discovery_t *d, tr_node_state_t state, const char **why)
{
    tr_node_status_t st;
    memset(&st, 0, sizeof(st));
    snprintf(st.node_id, sizeof(st.node_id), "%s", d->node_id);
    snprintf(st.host, sizeof(st.host), "%s", d->host);
    st.state = state;
    st.max_commit_ts = d->progress(d->arg);
    st.update_ts = tr_clock_wall_ms() << TR_TSO_LOGICAL_BITS;
    tr_buf_t value;
    tr_buf_init(&value, 64 * 1024);
    tr_node_status_encode(&st, &value);
    char key[300];
    snprintf(key, sizeof(key), "%s%s", TR_NODE_DRAINERS, d->node_id);
    int rc = 0;
    for (int create = 0; create < 2; create++) {
        tr_buf_reset(&d->req);
        tr_etcd_put_txn_body(key, value.data, value.len, create == 1, &d->req);
        if (!tr_buf_ok(&value) || !tr_buf_ok(&d->req)) {
            *why = "status too large";
            rc = TR_ETOOBIG;
            break;
        }
        rc = post(d, "/v3/kv/txn", why);
        bool ok = false;
        if (rc == 0) {
            rc = tr_etcd_txn_decode((const char *)d->resp.data, d->resp.len, &ok, why);
        }
        if (rc != 0 || ok) {
            break;
        }
        if (create == 1) {
            *why = "the key changed between the update and the create txn";
            rc = TR_EUPSTREAM;
        }
    }
    tr_buf_cleanup(&value);
    if (rc == 0) {
        d->last_reported_ts = st.max_commit_ts;
    }
    return rc;
}

static void heartbeat(tr_discovery_t *d)
{
    const char *why = NULL;
    int rc = put_status(d, TR_NODE_ONLINE, &why);
    if (rc != 0) {
        if (!d->beat_failing) {
            tr_log_warn("discovery", "cannot refresh our Drainer entry in etcd node_id=%s: %s",
                        d->node_id, why ? why : tr_strerror(rc));
        }
        d->beat_failing = true;
        return;
    }
    if (d->beat_failing) {
        tr_log_info("discovery", "Drainer entry refreshed again node_id=%s max_commit_ts=%" PRId64,
                    d->node_id, d->last_reported_ts);
    }
    d->beat_failing = false;
}

/* ---------------------------------------------------------------- thread */

static void *discovery_thread(void *arg)
{
    tr_thread_name("tr-discovery");
    tr_discovery_t *d = arg;
    int64_t next_list = 0;
    int64_t next_beat = 0;
    for (;;) {
        pthread_mutex_lock(&d->mu);
        bool stopping = d->stopping;
        bool notify = d->notify;
        d->notify = false;
        uint64_t asked = d->refresh_asked;
        pthread_mutex_unlock(&d->mu);
        if (stopping) {
            break;
        }
        int64_t now = tr_clock_mono_ms();
        if (now >= next_beat) {
            heartbeat(d);
            next_beat = tr_clock_mono_ms() + d->heartbeat_ms;
        }
        if (notify || now >= next_list) {
            int rc = list_pumps(d);
            next_list = tr_clock_mono_ms() + d->detect_interval_ms;
            pthread_mutex_lock(&d->mu);
            if (asked > d->refresh_done) {
                d->refresh_done = asked;
                d->refresh_rc = rc;
                pthread_cond_broadcast(&d->cond);
                if (d->refresh_hook != NULL) {
                    d->refresh_hook(d->refresh_hook_arg);
                }
            }
            pthread_mutex_unlock(&d->mu);
        }
        int64_t wake = next_beat < next_list ? next_beat : next_list;
        int64_t delay = wake - tr_clock_mono_ms();
        if (delay <= 0) {
            continue;
        }
        struct timespec until = tr_clock_deadline(CLOCK_MONOTONIC, delay);
        pthread_mutex_lock(&d->mu);
        while (!d->stopping && !d->notify) {
            if (pthread_cond_timedwait(&d->cond, &d->mu, &until) == ETIMEDOUT) {
                break;
            }
        }
        pthread_mutex_unlock(&d->mu);
    }
    return NULL;
}

/* ---------------------------------------------------------------- public */

static void free_discovery(tr_discovery_t *d)
{
    for (size_t i = 0; i < d->n_urls; i++) {
        tr_free(d->urls[i]);
    }
    if (d->curl != NULL) {
        curl_easy_cleanup(d->curl);
    }
    tr_buf_cleanup(&d->req);
    tr_buf_cleanup(&d->resp);
    tr_free(d);
}

static int parse_urls(tr_discovery_t *d, const char *list)
{
    const char *p = list;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        size_t n = strcspn(p, ", ");
        if (n == 0) {
            break;
        }
        if (d->n_urls == MAX_URLS) {
            return TR_ECONFIG;
        }
        /* Accept bare host:port as http://host:port; drop a trailing '/'. */
        bool has_scheme = strstr(p, "://") != NULL && (size_t)(strstr(p, "://") - p) < n;
        size_t len = n;
        while (len > 0 && p[len - 1] == '/') {
            len--;
        }
        char *u = tr_malloc(len + 8);
        snprintf(u, len + 8, "%s%.*s", has_scheme ? "" : "http://", (int)len, p);
        d->urls[d->n_urls++] = u;
        p += n;
    }
    return d->n_urls > 0 ? 0 : TR_ECONFIG;
}

int tr_discovery_start(const tr_discovery_opts_t *o, tr_discovery_t **out)
{
    *out = NULL;
    if (o->pd_urls == NULL || o->on_pumps == NULL || o->progress == NULL || o->node_id == NULL ||
        o->node_id[0] == '\0' || strlen(o->node_id) >= sizeof(((tr_discovery_t *)0)->node_id)) {
        return TR_ECONFIG;
    }
    (void)pthread_once(&curl_once, curl_init_once);
    tr_discovery_t *d = tr_calloc(1, sizeof(*d));
    tr_buf_init(&d->req, 1024 * 1024);
    tr_buf_init(&d->resp, MAX_RESPONSE);
    if (parse_urls(d, o->pd_urls) != 0) {
        free_discovery(d);
        return TR_ECONFIG;
    }
    snprintf(d->node_id, sizeof(d->node_id), "%s", o->node_id);
    snprintf(d->host, sizeof(d->host), "%s", o->host != NULL ? o->host : "");
    d->detect_interval_ms = o->detect_interval_ms > 0 ? o->detect_interval_ms : 5000;
    d->heartbeat_ms = o->heartbeat_ms > 0 ? o->heartbeat_ms : 1000;
    d->stop_offline = o->stop_offline;
    d->on_pumps = o->on_pumps;
    d->progress = o->progress;
    d->arg = o->arg;
    d->curl = curl_easy_init();
    if (d->curl == NULL) {
        free_discovery(d);
        return -ENOMEM;
    }
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);
    if (rc == 0) {
        rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        if (rc == 0) {
            rc = pthread_cond_init(&d->cond, &ca);
        }
        (void)pthread_condattr_destroy(&ca);
    }
    if (rc != 0) {
        free_discovery(d);
        return -rc;
    }
    (void)pthread_mutex_init(&d->mu, NULL);
    rc = pthread_create(&d->thread, NULL, discovery_thread, d);
    if (rc != 0) {
        (void)pthread_mutex_destroy(&d->mu);
        (void)pthread_cond_destroy(&d->cond);
        free_discovery(d);
        return -rc;
    }
    tr_log_info("discovery", "discovery started pd_urls=%s node_id=%s host=%s detect_interval_ms=%u",
                o->pd_urls, d->node_id, d->host, d->detect_interval_ms);
    *out = d;
    return 0;
}

void tr_discovery_notify(tr_discovery_t *d)
{
    if (d == NULL) {
        return;
    }
    pthread_mutex_lock(&d->mu);
    d->notify = true;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->mu);
}

uint64_t tr_discovery_refresh_ask(tr_discovery_t *d)
{
    if (d == NULL) {
        return 0;
    }
    pthread_mutex_lock(&d->mu);
    uint64_t ticket = ++d->refresh_asked;
    d->notify = true;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->mu);
    return ticket;
}

bool tr_discovery_refresh_result(tr_discovery_t *d, uint64_t ticket, int *rc)
{
    if (d == NULL) {
        *rc = 0;
        return true;
    }
    pthread_mutex_lock(&d->mu);
    bool done = true;
    if (d->refresh_done >= ticket) {
        *rc = d->refresh_rc;
    } else if (d->stopping) {
        *rc = -ECANCELED;
    } else {
        done = false;
    }
    pthread_mutex_unlock(&d->mu);
    return done;
}

void tr_discovery_set_refresh_hook(tr_discovery_t *d, void (*fn)(void *arg), void *arg)
{
    if (d == NULL) {
        return;
    }
    pthread_mutex_lock(&d->mu);
    d->refresh_hook = fn;
    d->refresh_hook_arg = arg;
    pthread_mutex_unlock(&d->mu);
}

void tr_discovery_stop(tr_discovery_t *d)
{
    if (d == NULL) {
        return;
    }
    pthread_mutex_lock(&d->mu);
    d->stopping = true;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->mu);
    int rc = pthread_join(d->thread, NULL);
    TR_ASSERT(rc == 0);
    const char *why = NULL;
    tr_node_state_t final = d->stop_offline ? TR_NODE_OFFLINE : TR_NODE_PAUSED;
    rc = put_status(d, final, &why);
    if (rc != 0) {
        tr_log_warn("discovery", "cannot write our final state to etcd node_id=%s state=%s: %s",
                    d->node_id, tr_node_state_name(final), why ? why : tr_strerror(rc));
    } else {
        tr_log_info("discovery", "Drainer entry written node_id=%s state=%s max_commit_ts=%" PRId64,
                    d->node_id, tr_node_state_name(final), d->last_reported_ts);
    }
    (void)pthread_mutex_destroy(&d->mu);
    (void)pthread_cond_destroy(&d->cond);
    free_discovery(d);
}

/* ---------------------------------------------------------------- Notify */

/*
 * /binlog.Cistern/Notify (TB proto pump.proto, drainer/server.go): a Pump
 * starting for the first time calls it on every online Drainer and exits when
 * one fails. Drainer answers after its Pump list was re-read, with that
 * read's error; so do we. NotifyReq and NotifyResp are empty messages: the
 * request is only checked to be protobuf wire format (proto3 skips unknown
 * fields) and the answer is a zero-length message.
 *
 * Served by relay/h2_server.c (gRPC over cleartext HTTP/2, see its header for
 * what it accepts and its bounds). A call never blocks that thread: it takes
 * a ticket from tr_discovery_refresh_ask, and proceed answers once the list
 * is done (the discovery thread's hook wakes the server) or NOTIFY_REFRESH_MS
 * have passed. Concurrent calls share one list.
 */

#define NOTIFY_PATH       "/binlog.Cistern/Notify"
#define NOTIFY_REFRESH_MS 10000
#define NOTIFY_POLL_NS    (500 * 1000000LL) /* fallback if a wake-up was missed */
#define NOTIFY_WARN_NS    (10 * 1000000000LL)

struct tr_notify_server {
    _Atomic(tr_h2_server_t *) h2;
    tr_discovery_t *disc; /* borrowed; NULL in static mode */
    char addr[300];

    /* Server thread only. */
    uint64_t served;
    int64_t last_warn_ns;
    uint64_t warns_suppressed;
};

typedef struct {
    uint64_t ticket;
    int64_t deadline_ns;
} notify_call_t;

static const char *const notify_paths[] = {NOTIFY_PATH};

/* Answers a call with the result of its list. */
static void notify_answer(tr_notify_server_t *s, tr_h2_call_t *call, int rc)
{
    s->served++;
    if (rc == 0) {
        tr_h2_call_send(call, "", 0); /* NotifyResp{} */
        tr_h2_call_finish(call, TR_GRPC_OK, NULL);
        tr_log_info("discovery", "Notify: %s (notification %" PRIu64 ") peer=%s",
                    s->disc != NULL ? "Pump list re-read" : "answered, static mode has no Pump list",
                    s->served, tr_h2_call_peer(call));
        return;
    }
    char msg[200];
    snprintf(msg, sizeof(msg), "tirelay cannot re-read the Pump list from etcd: %s",
             tr_strerror(rc));
    tr_log_warn("discovery", "Notify: %s peer=%s", msg, tr_h2_call_peer(call));
    tr_h2_call_finish(call, TR_GRPC_UNAVAILABLE, msg);
}

static void notify_on_call(void *arg, tr_h2_call_t *call, int path_idx, tr_slice_t msg)
{
    tr_notify_server_t *s = arg;
    const char *why = NULL;
    if (tr_grpc_req_check_protobuf(msg.p, msg.len, &why) != 0) {
        int64_t now = (int64_t)tr_clock_mono_ns();
        if (s->last_warn_ns == 0 || now - s->last_warn_ns >= NOTIFY_WARN_NS) {
            tr_log_warn("discovery", "Notify: request is not a NotifyReq peer=%s why=\"%s\" "
                        "bytes=%zu suppressed=%" PRIu64,
                        tr_h2_call_peer(call), why, msg.len, s->warns_suppressed);
            s->last_warn_ns = now;
            s->warns_suppressed = 0;
        } else {
            s->warns_suppressed++;
        }
        char text[160];
        snprintf(text, sizeof(text), "NotifyReq does not decode: %s", why);
        tr_h2_call_finish(call, TR_GRPC_INVALID_ARGUMENT, text);
        return;
    }
    if (s->disc == NULL) {
        notify_answer(s, call, 0); /* static mode: no list to re-read */
        return;
    }
    notify_call_t *nc = tr_calloc(1, sizeof(*nc));
    nc->ticket = tr_discovery_refresh_ask(s->disc);
    nc->deadline_ns = (int64_t)tr_clock_mono_ns() + (int64_t)NOTIFY_REFRESH_MS * 1000000LL;
    tr_h2_call_set_data(call, nc);
}

static int64_t notify_proceed(void *arg, tr_h2_call_t *call, int64_t now_ns)
{
    tr_notify_server_t *s = arg;
    notify_call_t *nc = tr_h2_call_data(call);
    if (nc == NULL) {
        return INT64_MAX; /* answered in notify_on_call */
    }
    int rc = 0;
    if (tr_discovery_refresh_result(s->disc, nc->ticket, &rc)) {
        notify_answer(s, call, rc);
        return INT64_MAX;
    }
    if (now_ns >= nc->deadline_ns) {
        notify_answer(s, call, -ETIMEDOUT);
        return INT64_MAX;
    }
    int64_t next = now_ns + NOTIFY_POLL_NS;
    return next < nc->deadline_ns ? next : nc->deadline_ns;
}

static void notify_on_close(void *arg, tr_h2_call_t *call)
{
    tr_free(tr_h2_call_data(call));
}

/* Discovery thread, under its lock: a list finished. */
static void notify_wake(void *arg)
{
    tr_notify_server_t *s = arg;
    tr_h2_server_t *h2 = atomic_load(&s->h2);
    if (h2 != NULL) {
        tr_h2_server_wake(h2);
    }
}

int tr_notify_server_start(const char *addr, tr_discovery_t *d, tr_notify_server_t **out,
                           const char **why)
{
    *out = NULL;
    tr_notify_server_t *s = tr_calloc(1, sizeof(*s));
    snprintf(s->addr, sizeof(s->addr), "%s", addr);
    s->disc = d;
    atomic_init(&s->h2, NULL);
    tr_h2_server_opts_t o = {
        .addr = s->addr,
        .log_name = "notify",
        .paths = notify_paths,
        .n_paths = TR_ARRAY_LEN(notify_paths),
        .on_call = notify_on_call,
        .proceed = notify_proceed,
        .on_close = notify_on_close,
        .arg = s,
    };
    tr_h2_server_t *h2 = NULL;
    const char *what = NULL;
    int rc = tr_h2_server_start(&o, &h2, &what);
    (void)what;
    if (rc != 0) {
        /* The caller logs *why once; name the setting. */
        if (rc == -EADDRINUSE) {
            *why = "cannot listen on [upstream] notify-listen: address in use";
        } else if (rc == TR_ECONFIG) {
            *why = "[upstream] notify-listen is not host:port";
        } else {
            *why = "cannot listen on [upstream] notify-listen (cannot resolve it, or not a local "
                   "address?)";
        }
        tr_free(s);
        return rc;
    }
    atomic_store(&s->h2, h2);
    tr_discovery_set_refresh_hook(d, notify_wake, s);
    tr_log_info("discovery", "serving /binlog.Cistern/Notify addr=%s port=%d", s->addr,
                tr_h2_server_port(h2));
    *out = s;
    return 0;
}

int tr_notify_server_port(const tr_notify_server_t *s)
{
    return tr_h2_server_port(atomic_load(&s->h2));
}

void tr_notify_server_stop(tr_notify_server_t *s)
{
    if (s == NULL) {
        return;
    }
    tr_discovery_set_refresh_hook(s->disc, NULL, NULL); /* no wake-up after this */
    tr_h2_server_stop(atomic_load(&s->h2));
    tr_free(s);
}
