/*
 * kafkabench: how fast the TiCDC Kafka source (relay/kafka_source.c) consumes, against
 * librdkafka's in-process mock cluster on loopback (rdkafka_mock.h: no broker exists on
 * Debian 12). A producer fills one topic once; each run opens a fresh consumer, starts it
 * at the beginning of every partition and polls until every message came back.
 *
 *   tr_kafkabench [--messages N] [--size BYTES] [--partitions P] [--batch MAX]
 *                 [--runs R] [--mode source|raw-batch|raw-poll] [--prop key=value ...]
 *
 * Defaults: 256,000 messages of 1,024 bytes over 64 partitions, polls of at most 1,024
 * messages, 5 runs. The 2.0.2 mock broker keeps about 5 MiB per partition (older message
 * sets are dropped as new ones arrive), so a run needs partitions * 5 MiB > the data; the
 * fill checks every partition still starts at offset 0.
 *
 * Modes: `source` is tr_kafka_source_poll; `raw-batch` and `raw-poll` read the same
 * consumer configuration directly with rd_kafka_consume_batch_queue (the source's call,
 * without the source) or with rd_kafka_consumer_poll one message at a time (the
 * alternative). --prop sets a consumer property (as [kafka] does), e.g. fetch sizes.
 *
 * Prints the machine, then per run: the time from start (assign) to the first message,
 * messages/s and MB/s (10^6 payload bytes) after the first batch (the steady rate) and
 * over the whole run, the polling thread's CPU per message and the whole process's (which
 * includes the mock broker's threads and librdkafka's fetcher); then the medians. The mock
 * broker shares the machine with the consumer.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "common/clock.h"
#include "relay/kafka_source.h"

#define TOPIC     "bench"
#define MAX_RUNS  15
#define MAX_PROPS 16

typedef struct {
    long messages;
    long size;
    int partitions;
    long batch;
    int runs;
    const char *mode;
    tr_config_kv_t props[MAX_PROPS]; /* --prop key=value: consumer properties */
    size_t n_props;
} opts_t;

/* One run's clock. */
typedef struct {
    double w0, t0, p0; /* wall, polling thread CPU, process CPU at start (assign) */
    double first_s;    /* wall when the first batch came (0: none yet) */
    long first_n;      /* messages in that batch */
    double last_s;     /* wall of the last batch */
    long got;
    uint64_t bytes;
    double wall_s;       /* start to last message */
    double first_ms;     /* start to first message */
    double steady_rate;  /* messages/s after the first batch */
    double thread_cpu_s; /* polling thread */
    double process_cpu_s;
} run_t;

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    if (level <= 3) {
        fprintf(stderr, "[%s] %s: %s\n", rd_kafka_name(rk), fac, buf);
    }
}

static int delivery_failures;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        delivery_failures++;
    }
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double process_cpu_s(void)
{
    struct rusage ru;
    (void)getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double wall_s(void)
{
    return (double)tr_clock_mono_ns() / 1e9;
}

static void print_machine(void)
{
    char model[512] = "?";
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "model name", 10) == 0) {
            const char *colon = strchr(line, ':');
            snprintf(model, sizeof(model), "%s", colon != NULL ? colon + 2 : line);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    }
    if (f != NULL) {
        (void)fclose(f);
    }
    char load[128] = "?";
    f = fopen("/proc/loadavg", "r");
    if (f != NULL) {
        if (fgets(load, sizeof(load), f) == NULL) {
            snprintf(load, sizeof(load), "?");
        }
        (void)fclose(f);
    }
    struct utsname u;
    (void)uname(&u);
    load[strcspn(load, "\n")] = '\0';
    printf("machine: nproc=%ld cpu='%s' kernel=%s loadavg=%s librdkafka=%s\n",
           (long)sysconf(_SC_NPROCESSORS_ONLN), model, u.release, load, rd_kafka_version_str());
}

/* Fills the topic (messages round-robin over the partitions) and checks the mock broker
 * kept all of it. */
static bool fill(const char *brokers, const opts_t *o)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];
    rd_kafka_conf_set_log_cb(conf, quiet_log);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "linger.ms", "5", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "producer: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return false;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "producer: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return false;
    }
    uint8_t *payload = malloc((size_t)o->size);
    for (long i = 0; i < o->size; i++) {
        payload[i] = (uint8_t)('a' + i % 26);
    }
    double t0 = wall_s();
    for (long i = 0; i < o->messages; i++) {
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(TOPIC),
                                      RD_KAFKA_V_PARTITION((int32_t)(i % o->partitions)),
                                      RD_KAFKA_V_VALUE(payload, (size_t)o->size),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            (void)rd_kafka_poll(rk, 10);
        }
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e));
            break;
        }
    }
    bool ok = rd_kafka_flush(rk, 120000) == RD_KAFKA_RESP_ERR_NO_ERROR && delivery_failures == 0;
    double fill_s = wall_s() - t0;
    for (int p = 0; ok && p < o->partitions; p++) {
        int64_t low = -1;
        int64_t high = -1;
        if (rd_kafka_query_watermark_offsets(rk, TOPIC, p, &low, &high, 10000) !=
                RD_KAFKA_RESP_ERR_NO_ERROR ||
            low != 0) {
            fprintf(stderr,
                    "partition %d starts at %" PRId64 ": the mock broker keeps about 5 MiB per "
                    "partition; use more partitions or fewer messages\n",
                    p, low);
            ok = false;
        }
    }
    printf("filled: %ld messages of %ld bytes over %d partitions in %.2f s%s\n", o->messages,
           o->size, o->partitions, fill_s, ok ? "" : " (FAILED)");
    free(payload);
    rd_kafka_destroy(rk);
    return ok;
}

static void meter_start(run_t *r)
{
    memset(r, 0, sizeof(*r));
    r->w0 = wall_s();
    r->t0 = thread_cpu_s();
    r->p0 = process_cpu_s();
}

/* Counts a batch; false when nothing came for 30 s (the run is stuck). */
static bool meter_batch(run_t *r, long n, uint64_t bytes)
{
    double now = wall_s();
    if (n > 0) {
        if (r->first_s == 0) {
            r->first_s = now;
            r->first_n = n;
        }
        r->last_s = now;
        r->got += n;
        r->bytes += bytes;
        return true;
    }
    return now - (r->last_s > 0 ? r->last_s : r->w0) < 30;
}

static void meter_end(run_t *r)
{
    r->wall_s = r->last_s - r->w0;
    r->first_ms = (r->first_s - r->w0) * 1e3;
    r->steady_rate =
        r->last_s > r->first_s ? (double)(r->got - r->first_n) / (r->last_s - r->first_s) : 0;
    r->thread_cpu_s = thread_cpu_s() - r->t0;
    r->process_cpu_s = process_cpu_s() - r->p0;
}

/* One run through the source. */
static bool run_source(const char *brokers, const opts_t *o, run_t *r)
{
    tr_kafka_source_config_t c = {.brokers = brokers,
                                  .topic = TOPIC,
                                  .group_id = "kafkabench",
                                  .props = o->props,
                                  .n_props = o->n_props};
    tr_kafka_source_t *k = NULL;
    char err[512];
    if (tr_kafka_source_open(&c, 10000, &k, err, sizeof(err)) != 0) {
        fprintf(stderr, "open: %s\n", err);
        return false;
    }
    int64_t *offsets = malloc((size_t)o->partitions * sizeof(*offsets));
    for (int p = 0; p < o->partitions; p++) {
        offsets[p] = TR_KAFKA_BEGINNING;
    }
    tr_kafka_msg_t *msgs = malloc((size_t)o->batch * sizeof(*msgs));
    meter_start(r);
    bool ok = tr_kafka_source_start(k, offsets, err, sizeof(err)) == 0;
    while (ok && r->got < o->messages) {
        int n = tr_kafka_source_poll(k, 1000, msgs, (size_t)o->batch, err, sizeof(err));
        if (n < 0) {
            ok = false;
            break;
        }
        uint64_t bytes = 0;
        for (int i = 0; i < n; i++) {
            bytes += msgs[i].len;
        }
        if (!meter_batch(r, n, bytes)) {
            snprintf(err, sizeof(err), "stalled at %ld of %ld messages", r->got, o->messages);
            ok = false;
        }
    }
    meter_end(r);
    if (!ok) {
        fprintf(stderr, "consume: %s\n", err);
    }
    ok = ok && r->bytes == (uint64_t)o->messages * (uint64_t)o->size;
    free(msgs);
    free(offsets);
    tr_kafka_source_close(k);
    return ok;
}

/* One run reading librdkafka directly (the source's configuration, without the source). */
static bool run_raw(const char *brokers, const opts_t *o, bool batch, run_t *r)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];
    rd_kafka_conf_set_log_cb(conf, quiet_log);
    static const char *const ours[][2] = {
        {"group.id", "kafkabench"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "error"},
        {"enable.partition.eof", "false"},
        {"session.timeout.ms", "2000"},
    };
    bool ok = rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) ==
              RD_KAFKA_CONF_OK;
    for (size_t i = 0; ok && i < sizeof(ours) / sizeof(ours[0]); i++) {
        ok = rd_kafka_conf_set(conf, ours[i][0], ours[i][1], errstr, sizeof(errstr)) ==
             RD_KAFKA_CONF_OK;
    }
    for (size_t i = 0; ok && i < o->n_props; i++) {
        ok = rd_kafka_conf_set(conf, o->props[i].key, o->props[i].value, errstr, sizeof(errstr)) ==
             RD_KAFKA_CONF_OK;
    }
    rd_kafka_t *rk = ok ? rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr)) : NULL;
    if (rk == NULL) {
        fprintf(stderr, "consumer: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return false;
    }
    (void)rd_kafka_poll_set_consumer(rk);
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(o->partitions);
    for (int p = 0; p < o->partitions; p++) {
        rd_kafka_topic_partition_list_add(list, TOPIC, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_message_t **held = malloc((size_t)o->batch * sizeof(*held));
    size_t n_held = 0;
    meter_start(r);
    ok = rd_kafka_assign(rk, list) == RD_KAFKA_RESP_ERR_NO_ERROR;
    while (ok && r->got < o->messages) {
        /* As the source: the previous batch is destroyed at the next poll. */
        for (size_t i = 0; i < n_held; i++) {
            rd_kafka_message_destroy(held[i]);
        }
        n_held = 0;
        if (batch) {
            ssize_t n = rd_kafka_consume_batch_queue(q, 0, held, (size_t)o->batch);
            if (n == 0) {
                n = rd_kafka_consume_batch_queue(q, 1000, held, 1);
                if (n == 1 && o->batch > 1) {
                    ssize_t more =
                        rd_kafka_consume_batch_queue(q, 0, held + 1, (size_t)o->batch - 1);
                    n += more > 0 ? more : 0;
                }
            }
            n_held = n > 0 ? (size_t)n : 0;
        } else {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);
            while (m != NULL) {
                held[n_held++] = m;
                m = n_held < (size_t)o->batch ? rd_kafka_consumer_poll(rk, 0) : NULL;
            }
        }
        long n = 0;
        uint64_t bytes = 0;
        for (size_t i = 0; i < n_held; i++) {
            if (held[i]->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                fprintf(stderr, "consume: %s\n", rd_kafka_message_errstr(held[i]));
                ok = false;
            } else {
                bytes += held[i]->len;
                n++;
            }
        }
        if (!meter_batch(r, n, bytes)) {
            fprintf(stderr, "stalled at %ld of %ld messages\n", r->got, o->messages);
            ok = false;
        }
    }
    meter_end(r);
    for (size_t i = 0; i < n_held; i++) {
        rd_kafka_message_destroy(held[i]);
    }
    free(held);
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return ok && r->bytes == (uint64_t)o->messages * (uint64_t)o->size;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(void)
{
    fprintf(stderr, "usage: tr_kafkabench [--messages N] [--size BYTES] [--partitions P] "
                    "[--batch MAX] [--runs R] [--mode source|raw-batch|raw-poll] "
                    "[--prop key=value ...]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    opts_t o = {.messages = 256000,
                .size = 1024,
                .partitions = 64,
                .batch = 1024,
                .runs = 5,
                .mode = "source"};
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc) {
            usage();
        }
        const char *k = argv[i];
        const char *v = argv[i + 1];
        if (strcmp(k, "--messages") == 0) {
            o.messages = atol(v);
        } else if (strcmp(k, "--size") == 0) {
            o.size = atol(v);
        } else if (strcmp(k, "--partitions") == 0) {
            o.partitions = atoi(v);
        } else if (strcmp(k, "--batch") == 0) {
            o.batch = atol(v);
        } else if (strcmp(k, "--runs") == 0) {
            o.runs = atoi(v);
        } else if (strcmp(k, "--mode") == 0) {
            o.mode = v;
        } else if (strcmp(k, "--prop") == 0 && o.n_props < MAX_PROPS && strchr(v, '=') != NULL) {
            tr_config_kv_t *kv = &o.props[o.n_props++];
            snprintf(kv->key, sizeof(kv->key), "%.*s", (int)(strchr(v, '=') - v), v);
            snprintf(kv->value, sizeof(kv->value), "%s", strchr(v, '=') + 1);
        } else {
            usage();
        }
    }
    bool is_source = strcmp(o.mode, "source") == 0;
    bool is_batch = strcmp(o.mode, "raw-batch") == 0;
    if ((!is_source && !is_batch && strcmp(o.mode, "raw-poll") != 0) || o.messages <= 0 ||
        o.size <= 0 || o.partitions <= 0 || o.batch <= 0 || o.runs <= 0 || o.runs > MAX_RUNS) {
        usage();
    }
    print_machine();

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, quiet_log);
    char errstr[512];
    rd_kafka_t *owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    rd_kafka_mock_cluster_t *mc = owner != NULL ? rd_kafka_mock_cluster_new(owner, 1) : NULL;
    if (mc == NULL ||
        rd_kafka_mock_topic_create(mc, TOPIC, o.partitions, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "mock cluster: cannot start\n");
        return 1;
    }
    char brokers[256];
    snprintf(brokers, sizeof(brokers), "%s", rd_kafka_mock_cluster_bootstraps(mc));
    int rc = fill(brokers, &o) ? 0 : 1;

    double steady[MAX_RUNS], overall[MAX_RUNS], first_ms[MAX_RUNS];
    double thread_us[MAX_RUNS], process_us[MAX_RUNS];
    for (int r = 0; rc == 0 && r < o.runs; r++) {
        run_t run;
        bool ok = is_source ? run_source(brokers, &o, &run) : run_raw(brokers, &o, is_batch, &run);
        if (!ok) {
            fprintf(stderr, "run %d failed\n", r + 1);
            rc = 1;
            break;
        }
        steady[r] = run.steady_rate;
        overall[r] = (double)o.messages / run.wall_s;
        first_ms[r] = run.first_ms;
        thread_us[r] = run.thread_cpu_s * 1e6 / (double)o.messages;
        process_us[r] = run.process_cpu_s * 1e6 / (double)o.messages;
        printf("run %d mode=%s: first message after %.0f ms; %.0f msgs/s (%.1f MB/s) after it, "
               "%.0f msgs/s over %.3f s; polling thread %.2f us/msg, process %.2f us/msg\n",
               r + 1, o.mode, first_ms[r], steady[r], steady[r] * (double)o.size / 1e6, overall[r],
               run.wall_s, thread_us[r], process_us[r]);
    }
    if (rc == 0) {
        double rate = median(steady, o.runs);
        printf("median mode=%s messages=%ld size=%ld partitions=%d batch=%ld: %.0f msgs/s "
               "(%.1f MB/s) after the first message (%.0f ms), %.0f msgs/s overall; polling "
               "thread %.2f us/msg, process %.2f us/msg\n",
               o.mode, o.messages, o.size, o.partitions, o.batch, rate, rate * (double)o.size / 1e6,
               median(first_ms, o.runs), median(overall, o.runs), median(thread_us, o.runs),
               median(process_us, o.runs));
    }
    if (mc != NULL) {
        rd_kafka_mock_cluster_destroy(mc);
    }
    if (owner != NULL) {
        rd_kafka_destroy(owner);
    }
    return rc;
}
