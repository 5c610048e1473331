/*
 * The TiCDC Kafka source over librdkafka (kafka_source.h has the contract): one consumer,
 * every partition of one topic assigned by hand with rd_kafka_assign, no group membership.
 * The only file that includes rdkafka.h.
 *
 * Queues: rd_kafka_poll_set_consumer forwards librdkafka's main queue (error and offset
 * commit callbacks) to the consumer queue, so every callback but the log callback runs on
 * the owner's thread inside tr_kafka_source_poll (or close). The log callback runs on
 * librdkafka's own threads: it only formats, rate-limits under a mutex and calls tr_log.
 *
 * Batches: rd_kafka_consume_batch_queue waits until the array is full or the timeout has
 * passed, so a poll takes what is queued without waiting, and only when nothing is waits
 * for one message and then takes what came with it. The rd_kafka_message_t's handed out
 * are kept until the next poll (the views' lifetime) and destroyed there.
 *
 * Secrets: property values may be passwords. Messages we write name keys, never values;
 * librdkafka's own texts (rd_kafka_new's errstr, log lines, error callback reasons) go out
 * with every whole-word occurrence of a secret-looking property's value replaced by "***"
 * (in open's err: of every property's value).
 *
 * Errors: see classify(). Transient ones (broker down, leader moving, timeouts) are
 * retried by librdkafka and only logged, rate-limited; those that lose data or cannot heal
 * (the position no longer in the log, the topic or partition gone, authentication)
 * become a sticky fatal error that every later poll returns.
 */
#include "relay/kafka_source.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"

#define COMP "kafka"

/* Rate limits: a kind of warning is written at most `burst` times per window, then counted
 * and the count reported with the next one written. */
#define LIMIT_WINDOW_MS 10000
#define BURST_MSG_ERR   1 /* error messages in the consumer queue */
#define BURST_ERROR_CB  3 /* the error callback */
#define BURST_COMMIT    1 /* mirror commits that failed */
#define BURST_LOG       5 /* librdkafka's own WARN/ERROR lines */

_Static_assert(TR_KAFKA_BEGINNING == RD_KAFKA_OFFSET_BEGINNING,
               "TR_KAFKA_BEGINNING is librdkafka's logical offset");

typedef struct {
    int64_t window_start_ms;
    unsigned n_in_window;
    uint64_t suppressed; /* swallowed since the last line written */
} limit_t;

struct tr_kafka_source {
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue; /* the consumer queue (the main queue is forwarded to it) */
    char *topic;
    int32_t n_partitions;

    rd_kafka_message_t **batch; /* the last poll's messages: what the views point into */
    size_t n_batch;
    size_t cap_batch;

    bool mirror_in_flight; /* one mirror commit at a time: the rest wait in mirror_next */
    bool has_mirror_next;
    int64_t *mirror_next; /* per partition, -1 = nothing newer to commit */

    int fatal;           /* sticky: the code every poll returns from now on (0 = none) */
    char fatal_why[512]; /* its text */

    /* Values of secret-looking properties: redacted from librdkafka's texts. Set before
     * rd_kafka_new, read-only until rd_kafka_destroy has joined librdkafka's threads. */
    char **secrets;
    size_t n_secrets;

    limit_t msg_limit;    /* owner thread */
    limit_t error_limit;  /* owner thread (error callback) */
    limit_t commit_limit; /* owner thread (mirror and its callback) */
    pthread_mutex_t log_lock;
    limit_t log_limit; /* under log_lock: the log callback runs on any librdkafka thread */
};

/* ---------------------------------------------------------------- helpers */

/* True when a warning may be written now; *dropped is how many were swallowed before it. */
static bool limit_allow(limit_t *l, unsigned burst, uint64_t *dropped)
{
    int64_t now = tr_clock_mono_ms();
    if (l->n_in_window == 0 || now - l->window_start_ms >= LIMIT_WINDOW_MS) {
        l->window_start_ms = now;
        l->n_in_window = 0;
    }
    if (l->n_in_window >= burst) {
        l->suppressed++;
        return false;
    }
    l->n_in_window++;
    *dropped = l->suppressed;
    l->suppressed = 0;
    return true;
}

static bool word_char(char ch)
{
    return isalnum((unsigned char)ch) != 0;
}

/* Copies src into dst (cap > 0 bytes, always terminated), each occurrence of one of the n
 * values that is not part of a longer word replaced by "***". */
static void redact(char *dst, size_t cap, const char *src, const char *const *values, size_t n)
{
    size_t o = 0;
    size_t i = 0;
    while (src[i] != '\0' && o + 1 < cap) {
        size_t match = 0;
        if (i == 0 || !word_char(src[i - 1])) {
            for (size_t v = 0; v < n; v++) {
                size_t len = strlen(values[v]);
                if (len > match && strncmp(src + i, values[v], len) == 0 &&
                    !word_char(src[i + len])) {
                    match = len;
                }
            }
        }
        if (match > 0) {
            for (const char *s = "***"; *s != '\0' && o + 1 < cap; s++) {
                dst[o++] = *s;
            }
            i += match;
        } else {
            dst[o++] = src[i++];
        }
    }
    dst[o] = '\0';
}

/* Whether a property's value is to be treated as a secret in log lines (the values of all
 * properties are kept out of open's err). */
static bool secret_key(const char *key)
{
    static const char *const markers[] = {"password", "secret",      "pem",     "jaas",
                                          "token",    "oauthbearer", "ssl_key", "credential"};
    for (size_t i = 0; i < TR_ARRAY_LEN(markers); i++) {
        if (strstr(key, markers[i]) != NULL) {
            return true;
        }
    }
    return false;
}

static void redact_secrets(const tr_kafka_source_t *k, char *dst, size_t cap, const char *src)
{
    redact(dst, cap, src, (const char *const *)k->secrets, k->n_secrets);
}

static void release_batch(tr_kafka_source_t *k)
{
    for (size_t i = 0; i < k->n_batch; i++) {
        rd_kafka_message_destroy(k->batch[i]);
    }
    k->n_batch = 0;
}

/* Makes code the sticky fatal error with its text (the first one wins). */
static void set_fatal(tr_kafka_source_t *k, int code, const char *why)
{
    if (k->fatal != 0) {
        return;
    }
    k->fatal = code;
    snprintf(k->fatal_why, sizeof(k->fatal_why), "%s", why);
    tr_log_error(COMP, "consuming cannot go on: %s", why);
}

/* What an error code means for the consumer: 0 = transient (librdkafka retries), else the
 * fatal code. *what is a short explanation. */
static int classify(rd_kafka_resp_err_t e, const char **what)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
        *what = "offset out of range: the topic no longer holds this position";
        return TR_EUPSTREAM;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        *what = "the topic or partition is gone";
        return TR_EUPSTREAM;
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
        *what = "authentication failed";
        return TR_EAUTH;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
        *what = "not authorized";
        return TR_EAUTH;
    case RD_KAFKA_RESP_ERR__FATAL:
        *what = "librdkafka raised a fatal error";
        return TR_EUPSTREAM;
    default:
        *what = "transient";
        return 0;
    }
}

/* ---------------------------------------------------------------- librdkafka callbacks */

/* librdkafka's syslog levels on ours; its debug lines (set with the debug property) are
 * tirelay DEBUG lines. */
static tr_log_level_t log_level_of(int level)
{
    if (level <= 3) {
        return TR_LOG_ERROR;
    }
    if (level == 4) {
        return TR_LOG_WARN;
    }
    if (level == 5) {
        return TR_LOG_INFO;
    }
    return TR_LOG_DEBUG;
}

/* Any librdkafka thread (and the caller's, inside rd_kafka_new and rd_kafka_destroy). */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    tr_log_level_t lvl = log_level_of(level);
    if (strcmp(fac, "FAIL") == 0 && lvl < TR_LOG_DEBUG) {
        /* A broker connection failed: the error callback reports the same text. */
        lvl = TR_LOG_DEBUG;
    }
    if (!tr_log_enabled(lvl)) {
        return;
    }
    tr_kafka_source_t *k = rd_kafka_opaque(rk);
    uint64_t dropped = 0;
    if (k != NULL && lvl <= TR_LOG_WARN) {
        (void)pthread_mutex_lock(&k->log_lock);
        bool ok = limit_allow(&k->log_limit, BURST_LOG, &dropped);
        (void)pthread_mutex_unlock(&k->log_lock);
        if (!ok) {
            return;
        }
    }
    char text[1024];
    if (k != NULL) {
        redact_secrets(k, text, sizeof(text), buf);
    } else {
        snprintf(text, sizeof(text), "%s", buf);
    }
    if (dropped > 0) {
        tr_log(lvl, COMP, "librdkafka: %s fac=%s suppressed=%" PRIu64, text, fac, dropped);
    } else {
        tr_log(lvl, COMP, "librdkafka: %s fac=%s", text, fac);
    }
}

/* The owner's thread, from a poll or close (the main queue is forwarded there). */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    tr_kafka_source_t *k = opaque;
    char text[256];
    redact_secrets(k, text, sizeof(text), reason);
    rd_kafka_resp_err_t e = (rd_kafka_resp_err_t)err;
    bool is_fatal = e == RD_KAFKA_RESP_ERR__FATAL;
    if (is_fatal) {
        char fatal_text[512];
        e = rd_kafka_fatal_error(rk, fatal_text, sizeof(fatal_text));
        redact_secrets(k, text, sizeof(text), fatal_text);
    }
    const char *what;
    int code = classify(e, &what);
    if (is_fatal && code == 0) {
        code = TR_EUPSTREAM;
        what = "librdkafka raised a fatal error";
    }
    if (code != 0) {
        char why[512];
        snprintf(why, sizeof(why), "topic %s: %s: %s (%s)", k->topic, what, text,
                 rd_kafka_err2name(e));
        set_fatal(k, code, why);
        return;
    }
    uint64_t dropped;
    if (limit_allow(&k->error_limit, BURST_ERROR_CB, &dropped)) {
        tr_log_warn(COMP, "client error, retrying: %s err=%s topic=%s suppressed=%" PRIu64, text,
                    rd_kafka_err2name(e), k->topic, dropped);
    }
}

static void mirror_send(tr_kafka_source_t *k, const int64_t *next_offsets);

/* The owner's thread: the result of a mirror commit; sends the offsets that waited. */
static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    tr_kafka_source_t *k = opaque;
    k->mirror_in_flight = false;
    rd_kafka_resp_err_t first = err;
    char where[48] = "";
    for (int i = 0; offsets != NULL && i < offsets->cnt && first == RD_KAFKA_RESP_ERR_NO_ERROR;
         i++) {
        if (offsets->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            first = offsets->elems[i].err;
            snprintf(where, sizeof(where), " partition=%" PRId32, offsets->elems[i].partition);
        }
    }
    uint64_t dropped;
    if (first != RD_KAFKA_RESP_ERR_NO_ERROR &&
        limit_allow(&k->commit_limit, BURST_COMMIT, &dropped)) {
        tr_log_warn(COMP,
                    "mirror commit failed (monitoring only) topic=%s%s err=%s: %s "
                    "suppressed=%" PRIu64,
                    k->topic, where, rd_kafka_err2name(first), rd_kafka_err2str(first), dropped);
    }
    if (k->has_mirror_next) {
        k->has_mirror_next = false;
        mirror_send(k, k->mirror_next);
        for (int32_t p = 0; p < k->n_partitions; p++) {
            k->mirror_next[p] = -1;
        }
    }
}

/* ---------------------------------------------------------------- open and close */

/* Sets one property; on refusal writes err naming the key and returns TR_ECONFIG. The
 * value never appears in err (librdkafka's errstr quotes it, so it is not used). */
static int set_prop(rd_kafka_conf_t *conf, const char *key, const char *value, char *err,
                    size_t cap)
{
    char errstr[512];
    rd_kafka_conf_res_t r = rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr));
    if (r == RD_KAFKA_CONF_OK) {
        return 0;
    }
    snprintf(err, cap, "[kafka] %s: %s", key,
             r == RD_KAFKA_CONF_UNKNOWN ? "not a librdkafka property"
                                        : "librdkafka refuses this value");
    return TR_ECONFIG;
}

/* Creates the handle with our properties, then the configuration's. */
static int create_handle(tr_kafka_source_t *k, const tr_kafka_source_config_t *c, char *err,
                         size_t cap)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    const struct {
        const char *key;
        const char *value;
    } ours[] = {
        {"bootstrap.servers", c->brokers},
        {"group.id", c->group_id},
        {"client.id", "tirelay"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "error"},
        {"enable.partition.eof", "false"},
        /* No group membership: this only bounds how long closing waits for a mirror commit
         * in flight (librdkafka's default, 45 s, while the coordinator is away). */
        {"session.timeout.ms", "2000"},
        /* A fetch response is one buffer: at 16 MiB (librdkafka's default is 50) it stays
         * under tr_mem_tune's mmap threshold and is reused instead of faulted in afresh. */
        {"fetch.max.bytes", "16777216"},
    };
    for (size_t i = 0; i < TR_ARRAY_LEN(ours); i++) {
        if (ours[i].value == NULL || ours[i].value[0] == '\0') {
            continue;
        }
        char errstr[512];
        if (rd_kafka_conf_set(conf, ours[i].key, ours[i].value, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
            /* Our own values (brokers, group id, constants) are no secrets. */
            snprintf(err, cap, "cannot set %s: %s", ours[i].key, errstr);
            rd_kafka_conf_destroy(conf);
            return TR_ECONFIG;
        }
    }
    for (size_t i = 0; i < c->n_props; i++) {
        int rc = set_prop(conf, c->props[i].key, c->props[i].value, err, cap);
        if (rc != 0) {
            rd_kafka_conf_destroy(conf);
            return rc;
        }
    }
    char group[256];
    size_t group_len = sizeof(group);
    if (rd_kafka_conf_get(conf, "group.id", group, &group_len) != RD_KAFKA_CONF_OK ||
        group[0] == '\0') {
        snprintf(err, cap, "no consumer group id: set [kafka] group.id");
        rd_kafka_conf_destroy(conf);
        return TR_ECONFIG;
    }
    char errstr[512];
    k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (k->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        /* rd_kafka_new's text may quote a value: each property's value is redacted. */
        const char **values = tr_calloc(c->n_props + 1, sizeof(*values));
        for (size_t i = 0; i < c->n_props; i++) {
            values[i] = c->props[i].value;
        }
        char text[512];
        redact(text, sizeof(text), errstr, values, c->n_props);
        tr_free(values);
        snprintf(err, cap, "cannot create the Kafka consumer: %s", text);
        return TR_ECONFIG;
    }
    rd_kafka_resp_err_t e = rd_kafka_poll_set_consumer(k->rk);
    k->queue = rd_kafka_queue_get_consumer(k->rk);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR || k->queue == NULL) {
        snprintf(err, cap, "cannot get the consumer queue: %s", rd_kafka_err2str(e));
        return TR_EUPSTREAM;
    }
    return 0;
}

/* Reads the topic's partition count. Asks for every topic's metadata: a request naming the
 * topic (or a topic handle, which makes one) lets brokers that predate
 * allow.auto.create.topics (Metadata v4), librdkafka 2.0.2's mock cluster among them,
 * create a topic that was misspelt. */
static int read_metadata(tr_kafka_source_t *k, const char *brokers, int timeout_ms, char *err,
                         size_t cap)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(k->rk, 1 /* all topics */, NULL, &md, timeout_ms);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* Serve the callbacks queued meanwhile (an authentication failure is one) through
         * the consumer queue: rd_kafka_poll is not allowed once the main queue is
         * forwarded. Nothing is assigned, so no message can come. */
        rd_kafka_message_t *m[8];
        ssize_t n = rd_kafka_consume_batch_queue(k->queue, 0, m, TR_ARRAY_LEN(m));
        for (ssize_t i = 0; i < n; i++) {
            rd_kafka_message_destroy(m[i]);
        }
        if (k->fatal != 0) {
            snprintf(err, cap, "%s", k->fatal_why);
            return k->fatal;
        }
        snprintf(err, cap, "no metadata from brokers %s within %d ms: %s (%s)", brokers, timeout_ms,
                 rd_kafka_err2str(e), rd_kafka_err2name(e));
        return TR_EUPSTREAM;
    }
    const struct rd_kafka_metadata_topic *t = NULL;
    for (int i = 0; i < md->topic_cnt && t == NULL; i++) {
        if (strcmp(md->topics[i].topic, k->topic) == 0) {
            t = &md->topics[i];
        }
    }
    int rc = 0;
    if (t == NULL || t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        snprintf(err, cap, "no such topic %s on brokers %s (or not authorized to describe it)",
                 k->topic, brokers);
        rc = TR_ENOTFOUND;
    } else if (t->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char *what;
        rc = classify(t->err, &what);
        snprintf(err, cap, "topic %s: %s (%s)", k->topic, rd_kafka_err2str(t->err),
                 rd_kafka_err2name(t->err));
        rc = rc != 0 ? rc : TR_EUPSTREAM;
    } else if (t->partition_cnt <= 0) {
        snprintf(err, cap, "topic %s has no partitions", k->topic);
        rc = TR_EUPSTREAM;
    } else {
        for (int i = 0; i < t->partition_cnt && rc == 0; i++) {
            if (t->partitions[i].id < 0 || t->partitions[i].id >= t->partition_cnt) {
                snprintf(err, cap, "topic %s: partition id %" PRId32 " outside 0..%d", k->topic,
                         t->partitions[i].id, t->partition_cnt - 1);
                rc = TR_EUPSTREAM;
            }
        }
        k->n_partitions = t->partition_cnt;
    }
    rd_kafka_metadata_destroy(md);
    return rc;
}

int tr_kafka_source_open(const tr_kafka_source_config_t *c, int timeout_ms, tr_kafka_source_t **out,
                         char *err, size_t cap)
{
    *out = NULL;
    if (c->topic == NULL || c->topic[0] == '\0' || c->brokers == NULL || c->brokers[0] == '\0') {
        snprintf(err, cap, "Kafka source needs brokers and a topic");
        return TR_ECONFIG;
    }
    tr_kafka_source_t *k = tr_calloc(1, sizeof(*k));
    (void)pthread_mutex_init(&k->log_lock, NULL);
    k->topic = tr_strdup(c->topic);
    k->secrets = tr_calloc(c->n_props + 1, sizeof(*k->secrets));
    for (size_t i = 0; i < c->n_props; i++) {
        if (secret_key(c->props[i].key) && c->props[i].value[0] != '\0') {
            k->secrets[k->n_secrets++] = tr_strdup(c->props[i].value);
        }
    }
    int rc = create_handle(k, c, err, cap);
    if (rc == 0) {
        rc = read_metadata(k, c->brokers, timeout_ms, err, cap);
    }
    if (rc != 0) {
        tr_kafka_source_close(k);
        return rc;
    }
    k->mirror_next = tr_malloc((size_t)k->n_partitions * sizeof(*k->mirror_next));
    for (int32_t p = 0; p < k->n_partitions; p++) {
        k->mirror_next[p] = -1;
    }
    tr_log_info(COMP, "consumer open topic=%s partitions=%" PRId32 " brokers=%s", k->topic,
                k->n_partitions, c->brokers);
    *out = k;
    return 0;
}

int32_t tr_kafka_source_partitions(const tr_kafka_source_t *k)
{
    return k->n_partitions;
}

void tr_kafka_source_close(tr_kafka_source_t *k)
{
    if (k == NULL) {
        return;
    }
    /* Messages hold references on their partitions: destroy them before the handle. */
    release_batch(k);
    if (k->rk != NULL) {
        if (k->queue != NULL) {
            rd_kafka_queue_destroy(k->queue);
        }
        /* Not rd_kafka_consumer_close: with no subscription there is no membership to leave,
         * and it waits for mirror commits still in flight, without end while the group
         * coordinator is unreachable. Destroying drops them. */
        rd_kafka_destroy_flags(k->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    }
    for (size_t i = 0; i < k->n_secrets; i++) {
        tr_free(k->secrets[i]);
    }
    tr_free(k->secrets);
    tr_free(k->batch);
    tr_free(k->mirror_next);
    tr_free(k->topic);
    (void)pthread_mutex_destroy(&k->log_lock);
    tr_free(k);
}

/* ---------------------------------------------------------------- consuming */

int tr_kafka_source_start(tr_kafka_source_t *k, const int64_t *offsets, char *err, size_t cap)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(k->n_partitions);
    for (int32_t p = 0; p < k->n_partitions; p++) {
        if (offsets[p] < 0 && offsets[p] != TR_KAFKA_BEGINNING) {
            snprintf(err, cap, "topic %s partition %" PRId32 ": bad start offset %" PRId64,
                     k->topic, p, offsets[p]);
            rd_kafka_topic_partition_list_destroy(list);
            return -EINVAL;
        }
        rd_kafka_topic_partition_list_add(list, k->topic, p)->offset = offsets[p];
    }
    rd_kafka_resp_err_t e = rd_kafka_assign(k->rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, cap, "topic %s: cannot assign partitions: %s (%s)", k->topic,
                 rd_kafka_err2str(e), rd_kafka_err2name(e));
        return TR_EUPSTREAM;
    }
    tr_log_info(COMP, "consuming topic=%s partitions=%" PRId32, k->topic, k->n_partitions);
    return 0;
}

/* Hands out the good messages of the n just consumed (kept in k->batch), destroys the
 * rest, and turns error messages into logs or the fatal error. Returns the count. */
static size_t take_batch(tr_kafka_source_t *k, size_t n, tr_kafka_msg_t *msgs)
{
    static const uint8_t empty[1];
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        rd_kafka_message_t *m = k->batch[i];
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            msgs[kept].partition = m->partition;
            msgs[kept].offset = m->offset;
            msgs[kept].payload = m->payload != NULL ? m->payload : empty;
            msgs[kept].len = m->payload != NULL ? m->len : 0;
            k->batch[kept++] = m;
            continue;
        }
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            const char *what;
            int code = classify(m->err, &what);
            char text[256];
            redact_secrets(k, text, sizeof(text), rd_kafka_message_errstr(m));
            const char *topic = m->rkt != NULL ? rd_kafka_topic_name(m->rkt) : k->topic;
            if (code != 0) {
                char why[512];
                if (m->offset >= 0) {
                    snprintf(why, sizeof(why),
                             "topic %s partition %" PRId32 " offset %" PRId64 ": %s: %s (%s)",
                             topic, m->partition, m->offset, what, text, rd_kafka_err2name(m->err));
                } else {
                    snprintf(why, sizeof(why), "topic %s partition %" PRId32 ": %s: %s (%s)", topic,
                             m->partition, what, text, rd_kafka_err2name(m->err));
                }
                set_fatal(k, code, why);
            } else {
                uint64_t dropped;
                if (limit_allow(&k->msg_limit, BURST_MSG_ERR, &dropped)) {
                    tr_log_warn(COMP,
                                "consumer error, retrying: %s topic=%s partition=%" PRId32
                                " err=%s suppressed=%" PRIu64,
                                text, topic, m->partition, rd_kafka_err2name(m->err), dropped);
                }
            }
        }
        rd_kafka_message_destroy(m);
    }
    k->n_batch = kept;
    return kept;
}

int tr_kafka_source_poll(tr_kafka_source_t *k, int timeout_ms, tr_kafka_msg_t *msgs, size_t max,
                         char *err, size_t cap)
{
    release_batch(k);
    if (max > INT_MAX) {
        max = INT_MAX; /* the count is returned as an int */
    }
    if (k->fatal == 0 && max > 0) {
        if (k->cap_batch < max) {
            k->batch = tr_realloc(k->batch, max * sizeof(*k->batch));
            k->cap_batch = max;
        }
        /* What is queued, without waiting; else wait for one, then take what came along. */
        ssize_t n = rd_kafka_consume_batch_queue(k->queue, 0, k->batch, max);
        if (n == 0 && timeout_ms != 0) {
            n = rd_kafka_consume_batch_queue(k->queue, timeout_ms, k->batch, 1);
            if (n == 1 && max > 1) {
                ssize_t more = rd_kafka_consume_batch_queue(k->queue, 0, k->batch + 1, max - 1);
                n += more > 0 ? more : 0;
            }
        }
        if (n < 0) {
            rd_kafka_resp_err_t e = rd_kafka_last_error();
            snprintf(err, cap, "topic %s: consuming failed: %s", k->topic, rd_kafka_err2str(e));
            return TR_EUPSTREAM;
        }
        size_t kept = take_batch(k, (size_t)n, msgs);
        if (kept > 0) {
            return (int)kept; /* a fatal error found meanwhile comes with the next poll */
        }
    }
    if (k->fatal != 0) {
        snprintf(err, cap, "%s", k->fatal_why);
        return k->fatal;
    }
    return 0;
}

int tr_kafka_source_pause(tr_kafka_source_t *k, int32_t partition, bool pause)
{
    if (partition < 0 || partition >= k->n_partitions) {
        return TR_ENOTFOUND;
    }
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    (void)rd_kafka_topic_partition_list_add(list, k->topic, partition);
    rd_kafka_resp_err_t e =
        pause ? rd_kafka_pause_partitions(k->rk, list) : rd_kafka_resume_partitions(k->rk, list);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        e = list->elems[0].err;
    }
    rd_kafka_topic_partition_list_destroy(list);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        tr_log_warn(COMP, "cannot %s topic=%s partition=%" PRId32 ": %s",
                    pause ? "pause" : "resume", k->topic, partition, rd_kafka_err2str(e));
        return TR_EUPSTREAM;
    }
    return 0;
}

int64_t tr_kafka_source_high(tr_kafka_source_t *k, int32_t partition)
{
    if (partition < 0 || partition >= k->n_partitions) {
        return -1;
    }
    int64_t low = -1;
    int64_t high = -1;
    if (rd_kafka_get_watermark_offsets(k->rk, k->topic, partition, &low, &high) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0) {
        return -1;
    }
    return high;
}

/* Commits next_offsets (< 0 = skip) asynchronously; on_commit gets the result. */
static void mirror_send(tr_kafka_source_t *k, const int64_t *next_offsets)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(k->n_partitions);
    for (int32_t p = 0; p < k->n_partitions; p++) {
        if (next_offsets[p] >= 0) {
            rd_kafka_topic_partition_list_add(list, k->topic, p)->offset = next_offsets[p];
        }
    }
    if (list->cnt > 0) {
        rd_kafka_resp_err_t e = rd_kafka_commit(k->rk, list, 1 /* async */);
        uint64_t dropped;
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            k->mirror_in_flight = true;
        } else if (limit_allow(&k->commit_limit, BURST_COMMIT, &dropped)) {
            tr_log_warn(COMP,
                        "mirror commit failed (monitoring only) topic=%s err=%s: %s "
                        "suppressed=%" PRIu64,
                        k->topic, rd_kafka_err2name(e), rd_kafka_err2str(e), dropped);
        }
    }
    rd_kafka_topic_partition_list_destroy(list);
}

/* At most one commit is in flight: while the coordinator is away they would pile up (and
 * each one holds up closing). Offsets given meanwhile are merged, newest first, and sent
 * when it completes. */
void tr_kafka_source_mirror(tr_kafka_source_t *k, const int64_t *next_offsets)
{
    if (!k->mirror_in_flight) {
        mirror_send(k, next_offsets);
        return;
    }
    for (int32_t p = 0; p < k->n_partitions; p++) {
        if (next_offsets[p] >= 0) {
            k->mirror_next[p] = next_offsets[p];
            k->has_mirror_next = true;
        }
    }
}

/* ---------------------------------------------------------------- property check */

int tr_kafka_property_check(const char *key, const char *value, const char **why)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];
    rd_kafka_conf_res_t r = rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr));
    rd_kafka_conf_destroy(conf);
    switch (r) {
    case RD_KAFKA_CONF_OK:
        return 0;
    case RD_KAFKA_CONF_UNKNOWN:
        *why = "not a librdkafka property";
        return TR_ECONFIG;
    default:
        /* errstr quotes the value: not passed on. */
        *why = "librdkafka refuses this value (see its CONFIGURATION.md)";
        return TR_ECONFIG;
    }
}
