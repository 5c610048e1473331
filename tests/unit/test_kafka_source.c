/*
 * The Kafka source (relay/kafka_source.c) against librdkafka's in-process mock cluster
 * (rdkafka_mock.h) on loopback: each test starts its own cluster, creates its topic with
 * rd_kafka_mock_topic_create and fills it with a librdkafka producer whose delivery reports
 * give each message's partition and offset, so every message consumed is checked against
 * what was produced there (payload bytes, once only, in offset order per partition).
 * Covers: open and the partition count; start at the beginning and at given offsets;
 * batches spanning several partitions; views staying valid until the next poll; pause and
 * resume (nothing of a paused partition arrives, nothing is lost or repeated); the mirror
 * commit seen by a second consumer of the group (default group id and [kafka] group.id);
 * a missing topic; an offset beyond the log end (auto.offset.reset=error) as a fatal poll
 * error naming topic and partition; an authentication failure; a prompt close while the
 * broker is down; unreachable brokers; refused properties; the property check; librdkafka's
 * log and error lines through tr_log without property values. Every test ends with
 * rd_kafka_wait_destroyed: no client handle left behind.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "relay/kafka_source.h"
#include "tr_test.h"

#define WAIT_MS   20000 /* generous: ASan builds on a shared two-core machine */
#define MAX_PARTS 8
#define GROUP     "tirelay-test"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    (void)nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------- mock cluster */

/* One produced message, as its delivery report placed it. */
typedef struct {
    int32_t partition;
    int64_t offset; /* -1 until delivered */
    uint8_t *payload;
    size_t len;
    int seen; /* times consumed */
} expect_t;

typedef struct {
    rd_kafka_t *owner; /* the mock cluster's handle: never connects */
    rd_kafka_mock_cluster_t *mc;
    rd_kafka_t *prod;
    char brokers[256];
    expect_t *msgs;
    size_t n_msgs;
    size_t cap_msgs;
    int delivery_failures;
} mock_t;

/* librdkafka's own lines from the test's clients: only errors, to stderr. */
static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    if (level <= 3) {
        fprintf(stderr, "  [test client %s] %s: %s\n", rd_kafka_name(rk), fac, buf);
    }
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    mock_t *mk = opaque;
    expect_t *e = &mk->msgs[(size_t)(uintptr_t)m->_private];
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "  delivery failed: %s\n", rd_kafka_err2str(m->err));
        mk->delivery_failures++;
        return;
    }
    e->partition = m->partition;
    e->offset = m->offset;
}

static rd_kafka_t *client_new(rd_kafka_type_t type, const char *brokers, const char *group,
                              void *opaque)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];
    rd_kafka_conf_set_log_cb(conf, quiet_log);
    rd_kafka_conf_set_opaque(conf, opaque);
    if (brokers != NULL && rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr,
                                             sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "  %s\n", errstr);
    }
    if (group != NULL &&
        rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "  %s\n", errstr);
    }
    if (type == RD_KAFKA_PRODUCER) {
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        (void)rd_kafka_conf_set(conf, "linger.ms", "2", errstr, sizeof(errstr));
    }
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "  rd_kafka_new: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

/* A one-broker cluster with topic (partitions) if topic is not NULL, and a producer. */
static bool mock_start(mock_t *mk, const char *topic, int partitions)
{
    memset(mk, 0, sizeof(*mk));
    mk->owner = client_new(RD_KAFKA_PRODUCER, NULL, NULL, mk);
    if (mk->owner == NULL) {
        return false;
    }
    mk->mc = rd_kafka_mock_cluster_new(mk->owner, 1);
    if (mk->mc == NULL) {
        return false;
    }
    snprintf(mk->brokers, sizeof(mk->brokers), "%s", rd_kafka_mock_cluster_bootstraps(mk->mc));
    if (topic != NULL &&
        rd_kafka_mock_topic_create(mk->mc, topic, partitions, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return false;
    }
    mk->prod = client_new(RD_KAFKA_PRODUCER, mk->brokers, NULL, mk);
    return mk->prod != NULL;
}

static void mock_stop(mock_t *mk)
{
    if (mk->prod != NULL) {
        rd_kafka_destroy(mk->prod);
    }
    if (mk->mc != NULL) {
        rd_kafka_mock_cluster_destroy(mk->mc);
    }
    if (mk->owner != NULL) {
        rd_kafka_destroy(mk->owner);
    }
    for (size_t i = 0; i < mk->n_msgs; i++) {
        free(mk->msgs[i].payload);
    }
    free(mk->msgs);
    EXPECT_EQ_INT(rd_kafka_wait_destroyed(10000), 0);
}

/* Produces count messages to partition (lengths vary from 0 to about 2 KiB, one of 64 KiB)
 * and waits for their delivery reports. */
static void produce(mock_t *mk, const char *topic, int32_t partition, int count)
{
    for (int i = 0; i < count; i++) {
        if (mk->n_msgs == mk->cap_msgs) {
            mk->cap_msgs = mk->cap_msgs ? mk->cap_msgs * 2 : 256;
            mk->msgs = realloc(mk->msgs, mk->cap_msgs * sizeof(*mk->msgs));
        }
        size_t idx = mk->n_msgs++;
        expect_t *e = &mk->msgs[idx];
        memset(e, 0, sizeof(*e));
        e->partition = -1;
        e->offset = -1;
        e->len = idx % 97 == 5 ? 65536 : (idx * 37) % 2100;
        if (e->len > 0) {
            e->payload = malloc(e->len);
            int head = snprintf((char *)e->payload, e->len, "p%d #%zu ", partition, idx);
            for (size_t b = head > 0 ? (size_t)head : 0; b < e->len; b++) {
                e->payload[b] = (uint8_t)(b * 131 + idx * 7);
            }
        }
        rd_kafka_resp_err_t err = rd_kafka_producev(
            mk->prod, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_VALUE(e->payload, e->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_OPAQUE((void *)(uintptr_t)idx), RD_KAFKA_V_END);
        EXPECT_EQ_INT(err, RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    EXPECT_EQ_INT(rd_kafka_flush(mk->prod, WAIT_MS), RD_KAFKA_RESP_ERR_NO_ERROR);
    EXPECT_EQ_INT(mk->delivery_failures, 0);
}

/* ---------------------------------------------------------------- consuming */

typedef struct {
    size_t got[MAX_PARTS];   /* messages per partition */
    int64_t last[MAX_PARTS]; /* last offset per partition (-1: none) */
    size_t total;
    int bad; /* unknown, repeated, misordered or wrong bytes */
} tally_t;

static void tally_init(tally_t *t)
{
    memset(t, 0, sizeof(*t));
    for (int p = 0; p < MAX_PARTS; p++) {
        t->last[p] = -1;
    }
}

/* Checks one consumed message against what was produced there. */
static void check_msg(mock_t *mk, tally_t *t, const tr_kafka_msg_t *m)
{
    if (m->partition < 0 || m->partition >= MAX_PARTS) {
        TR_FAIL_AT("partition %d out of range", m->partition);
        t->bad++;
        return;
    }
    if (m->offset <= t->last[m->partition]) {
        TR_FAIL_AT("partition %d: offset %lld after %lld", m->partition, (long long)m->offset,
                   (long long)t->last[m->partition]);
        t->bad++;
    }
    t->last[m->partition] = m->offset;
    t->got[m->partition]++;
    t->total++;
    for (size_t i = 0; i < mk->n_msgs; i++) {
        expect_t *e = &mk->msgs[i];
        if (e->partition == m->partition && e->offset == m->offset) {
            if (e->seen++ != 0) {
                TR_FAIL_AT("partition %d offset %lld consumed twice", m->partition,
                           (long long)m->offset);
                t->bad++;
            }
            if (m->payload == NULL || m->len != e->len ||
                (e->len > 0 && memcmp(m->payload, e->payload, e->len) != 0)) {
                TR_FAIL_AT("partition %d offset %lld: payload differs (len %zu, want %zu)",
                           m->partition, (long long)m->offset, m->len, e->len);
                t->bad++;
            }
            return;
        }
    }
    TR_FAIL_AT("partition %d offset %lld was never produced", m->partition, (long long)m->offset);
    t->bad++;
}

/* Polls (batches of max) until the tally reaches want messages or the deadline passes;
 * returns the last poll's result if it was an error, else 0. */
static int consume_until(tr_kafka_source_t *k, mock_t *mk, tally_t *t, size_t want, size_t max,
                         int wait_ms)
{
    tr_kafka_msg_t msgs[256];
    char err[512];
    int64_t deadline = tr_clock_mono_ms() + wait_ms;
    while (t->total < want && tr_clock_mono_ms() < deadline) {
        int n = tr_kafka_source_poll(k, 100, msgs, max < 256 ? max : 256, err, sizeof(err));
        if (n < 0) {
            fprintf(stderr, "  poll: %s\n", err);
            return n;
        }
        for (int i = 0; i < n; i++) {
            check_msg(mk, t, &msgs[i]);
        }
    }
    return 0;
}

static tr_kafka_source_config_t source_config(const mock_t *mk, const char *topic,
                                              const tr_config_kv_t *props, size_t n_props)
{
    tr_kafka_source_config_t c = {
        .brokers = mk->brokers,
        .topic = topic,
        .group_id = GROUP,
        .props = props,
        .n_props = n_props,
    };
    return c;
}

static tr_kafka_source_t *open_source(const mock_t *mk, const char *topic,
                                      const tr_config_kv_t *props, size_t n_props)
{
    tr_kafka_source_config_t c = source_config(mk, topic, props, n_props);
    tr_kafka_source_t *k = NULL;
    char err[512] = "";
    int rc = tr_kafka_source_open(&c, WAIT_MS, &k, err, sizeof(err));
    if (rc != 0) {
        TR_FAIL_AT("open %s: %d %s", topic, rc, err);
        return NULL;
    }
    return k;
}

static bool start_source(tr_kafka_source_t *k, const int64_t *offsets)
{
    char err[512] = "";
    int rc = tr_kafka_source_start(k, offsets, err, sizeof(err));
    if (rc != 0) {
        TR_FAIL_AT("start: %d %s", rc, err);
    }
    return rc == 0;
}

static const int64_t all_beginning[MAX_PARTS] = {
    TR_KAFKA_BEGINNING, TR_KAFKA_BEGINNING, TR_KAFKA_BEGINNING, TR_KAFKA_BEGINNING,
    TR_KAFKA_BEGINNING, TR_KAFKA_BEGINNING, TR_KAFKA_BEGINNING, TR_KAFKA_BEGINNING,
};

/* Polls for quiet_ms and fails on any message. */
static void expect_nothing(tr_kafka_source_t *k, mock_t *mk, tally_t *t, int quiet_ms)
{
    size_t before = t->total;
    int rc = consume_until(k, mk, t, SIZE_MAX, 64, quiet_ms);
    EXPECT_EQ_INT(rc, 0);
    EXPECT_EQ_U64(t->total, before);
}

/* ---------------------------------------------------------------- tests */

TR_TEST(open_reads_partition_count)
{
    mock_t mk;
    EXPECT_TRUE(mock_start(&mk, "three", 3));
    tr_kafka_source_t *k = open_source(&mk, "three", NULL, 0);
    if (k != NULL) {
        EXPECT_EQ_INT(tr_kafka_source_partitions(k), 3);
        EXPECT_EQ_INT(tr_kafka_source_high(k, 0), -1); /* nothing fetched yet */
        EXPECT_EQ_INT(tr_kafka_source_high(k, 3), -1);
        EXPECT_EQ_INT(tr_kafka_source_high(k, -1), -1);
        EXPECT_EQ_INT(tr_kafka_source_pause(k, 3, true), TR_ENOTFOUND);
    }
    tr_kafka_source_close(k);
    tr_kafka_source_close(NULL);
    mock_stop(&mk);
}

TR_TEST(every_message_once_from_beginning)
{
    mock_t mk;
    EXPECT_TRUE(mock_start(&mk, "four", 4));
    for (int32_t p = 0; p < 4; p++) {
        produce(&mk, "four", p, 60);
    }
    tr_kafka_source_t *k = open_source(&mk, "four", NULL, 0);
    if (k != NULL && start_source(k, all_beginning)) {
        tally_t t;
        tally_init(&t);
        /* Batches of 16 over 4 partitions: batches mix partitions. */
        EXPECT_EQ_INT(consume_until(k, &mk, &t, 240, 16, WAIT_MS), 0);
        EXPECT_EQ_U64(t.total, 240);
        EXPECT_EQ_INT(t.bad, 0);
        for (int32_t p = 0; p < 4; p++) {
            EXPECT_EQ_U64(t.got[p], 60);
            EXPECT_EQ_INT(t.last[p], 59);
            EXPECT_EQ_INT(tr_kafka_source_high(k, p), 60);
        }
        expect_nothing(k, &mk, &t, 300);
        /* New messages arrive after the log end was reached. */
        produce(&mk, "four", 2, 5);
        EXPECT_EQ_INT(consume_until(k, &mk, &t, 245, 64, WAIT_MS), 0);
        EXPECT_EQ_U64(t.got[2], 65);
        EXPECT_EQ_INT(t.bad, 0);
        for (size_t i = 0; i < mk.n_msgs; i++) {
            EXPECT_EQ_INT(mk.msgs[i].seen, 1);
        }
    }
    tr_kafka_source_close(k);
    mock_stop(&mk);
}

TR_TEST(start_at_given_offsets)
{
    mock_t mk;
    EXPECT_TRUE(mock_start(&mk, "offsets", 4));
    for (int32_t p = 0; p < 4; p++) {
        produce(&mk, "offsets", p, 20);
    }
    tr_kafka_source_t *k = open_source(&mk, "offsets", NULL, 0);
    /* p0 from 5, p1 from the beginning, p2 its last message, p3 at its end (nothing yet). */
    const int64_t offsets[4] = {5, TR_KAFKA_BEGINNING, 19, 20};
    if (k != NULL && start_source(k, offsets)) {
        tally_t t;
        tally_init(&t);
        EXPECT_EQ_INT(consume_until(k, &mk, &t, 36, 64, WAIT_MS), 0);
        EXPECT_EQ_U64(t.got[0], 15);
        EXPECT_EQ_U64(t.got[1], 20);
        EXPECT_EQ_U64(t.got[2], 1);
        EXPECT_EQ_U64(t.got[3], 0);
        EXPECT_EQ_INT(t.bad, 0);
        expect_nothing(k, &mk, &t, 300);
        for (size_t i = 0; i < mk.n_msgs; i++) {
            const expect_t *e = &mk.msgs[i];
            EXPECT_EQ_INT(e->seen, e->offset >= (e->partition == 1 ? 0 : offsets[e->partition]));
        }
        produce(&mk, "offsets", 3, 3);
        EXPECT_EQ_INT(consume_until(k, &mk, &t, 39, 64, WAIT_MS), 0);
        EXPECT_EQ_U64(t.got[3], 3);
        EXPECT_EQ_INT(t.last[3], 22);
        EXPECT_EQ_INT(t.bad, 0);
    }
    /* A negative offset other than TR_KAFKA_BEGINNING is refused. */
    const int64_t bad[4] = {0, -1, 0, 0};
    char err[256] = "";
    if (k != NULL) {
        EXPECT_TRUE(tr_kafka_source_start(k, bad, err, sizeof(err)) < 0);
        EXPECT_TRUE(strstr(err, "partition 1") != NULL);
    }
    tr_kafka_source_close(k);
    mock_stop(&mk);
}

TR_TEST(views_valid_until_next_poll)
{
    mock_t mk;
    EXPECT_TRUE(mock_start(&mk, "views", 2));
    produce(&mk, "views", 0, 40);
    produce(&mk, "views", 1, 40);
    tr_kafka_source_t *k = open_source(&mk, "views", NULL, 0);
    if (k != NULL && start_source(k, all_beginning)) {
        tally_t t;
        tally_init(&t);
        int64_t deadline = tr_clock_mono_ms() + WAIT_MS;
        int batches = 0;
        while (t.total < 80 && tr_clock_mono_ms() < deadline) {
            tr_kafka_msg_t msgs[32];
            char err[256];
            int n = tr_kafka_source_poll(k, 100, msgs, 32, err, sizeof(err));
            EXPECT_TRUE(n >= 0);
            if (n <= 0) {
                continue;
            }
            batches++;
            /* Between polls the client goes on: more messages are fetched and queued, other
             * calls are made, time passes. The views must still hold their bytes. */
            produce(&mk, "views", batches % 2, 3);
            (void)tr_kafka_source_high(k, 0);
            EXPECT_EQ_INT(tr_kafka_source_pause(k, 1, true), 0);
            EXPECT_EQ_INT(tr_kafka_source_pause(k, 1, false), 0);
            sleep_ms(50);
            for (int i = 0; i < n; i++) {
                check_msg(&mk, &t, &msgs[i]);
            }
        }
        EXPECT_TRUE(t.total >= 80);
        EXPECT_TRUE(batches >= 2);
        EXPECT_EQ_INT(t.bad, 0);
    }
    tr_kafka_source_close(k);
    mock_stop(&mk);
}

TR_TEST(pause_and_resume)
{
    mock_t mk;
    EXPECT_TRUE(mock_start(&mk, "pause", 2));
    produce(&mk, "pause", 0, 30);
    produce(&mk, "pause", 1, 30);
    tr_kafka_source_t *k = open_source(&mk, "pause", NULL, 0);
    if (k != NULL && start_source(k, all_beginning)) {
        tally_t t;
        tally_init(&t);
        /* Take partition 0's messages one at a time until one came, and let the fetcher
         * queue the rest: pausing must also drop what is already queued. */
        int64_t deadline = tr_clock_mono_ms() + WAIT_MS;
        while (t.got[0] == 0 && tr_clock_mono_ms() < deadline) {
            tr_kafka_msg_t m;
            char err[256];
            int n = tr_kafka_source_poll(k, 100, &m, 1, err, sizeof(err));
            EXPECT_TRUE(n >= 0);
            if (n == 1) {
                check_msg(&mk, &t, &m);
            }
        }
        sleep_ms(200);
        EXPECT_EQ_INT(tr_kafka_source_pause(k, 0, true), 0);
        size_t p0_at_pause = t.got[0];
        EXPECT_TRUE(p0_at_pause >= 1 && p0_at_pause < 30);
        produce(&mk, "pause", 0, 10);
        produce(&mk, "pause", 1, 10);
        /* Partition 1 runs to its end; partition 0 gives nothing more. */
        size_t want = t.total + (40 - t.got[1]);
        EXPECT_EQ_INT(consume_until(k, &mk, &t, want, 64, WAIT_MS), 0);
        EXPECT_EQ_U64(t.got[1], 40);
        EXPECT_EQ_U64(t.got[0], p0_at_pause);
        expect_nothing(k, &mk, &t, 500);
        EXPECT_EQ_U64(t.got[0], p0_at_pause);
        /* Resumed: the rest of partition 0, each message once, none skipped. */
        EXPECT_EQ_INT(tr_kafka_source_pause(k, 0, false), 0);
        EXPECT_EQ_INT(consume_until(k, &mk, &t, 80, 64, WAIT_MS), 0);
        EXPECT_EQ_U64(t.got[0], 40);
        EXPECT_EQ_INT(t.last[0], 39);
        expect_nothing(k, &mk, &t, 300);
        EXPECT_EQ_INT(t.bad, 0);
        for (size_t i = 0; i < mk.n_msgs; i++) {
            EXPECT_EQ_INT(mk.msgs[i].seen, 1);
        }
    }
    tr_kafka_source_close(k);
    mock_stop(&mk);
}

/* The group's committed offsets of partitions 0..n-1 as another consumer sees them, once
 * they equal want (polling src meanwhile, which serves its commit callbacks). */
static bool committed_equals(mock_t *mk, tr_kafka_source_t *src, const char *group,
                             const int64_t *want, int n)
{
    rd_kafka_t *rk = client_new(RD_KAFKA_CONSUMER, mk->brokers, group, NULL);
    if (rk == NULL) {
        return false;
    }
    bool equal = false;
    int64_t deadline = tr_clock_mono_ms() + WAIT_MS;
    while (!equal && tr_clock_mono_ms() < deadline) {
        tr_kafka_msg_t msgs[8];
        char err[256];
        (void)tr_kafka_source_poll(src, 50, msgs, 8, err, sizeof(err));
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(n);
        for (int p = 0; p < n; p++) {
            (void)rd_kafka_topic_partition_list_add(list, "mirror", p);
        }
        if (rd_kafka_committed(rk, list, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            equal = true;
            for (int p = 0; p < n; p++) {
                equal = equal && list->elems[p].offset == want[p];
            }
        }
        rd_kafka_topic_partition_list_destroy(list);
    }
    rd_kafka_destroy(rk);
    return equal;
}

TR_TEST(mirror_commit_is_visible_to_the_group)
{
    mock_t mk;
    EXPECT_TRUE(mock_start(&mk, "mirror", 3));
    for (int32_t p = 0; p < 3; p++) {
        produce(&mk, "mirror", p, 6);
    }
    /* The default group id. */
    tr_kafka_source_t *k = open_source(&mk, "mirror", NULL, 0);
    if (k != NULL && start_source(k, all_beginning)) {
        tally_t t;
        tally_init(&t);
        EXPECT_EQ_INT(consume_until(k, &mk, &t, 18, 64, WAIT_MS), 0);
        const int64_t next[3] = {6, 3, -1}; /* partition 2: nothing to mirror */
        tr_kafka_source_mirror(k, next);
        const int64_t want[3] = {6, 3, RD_KAFKA_OFFSET_INVALID};
        EXPECT_TRUE(committed_equals(&mk, k, GROUP, want, 3));
        const int64_t later[3] = {-1, 5, 1};
        tr_kafka_source_mirror(k, later);
        const int64_t want_later[3] = {6, 5, 1};
        EXPECT_TRUE(committed_equals(&mk, k, GROUP, want_later, 3));
        /* In a row, faster than the commits complete: the last offset of each partition
         * wins. */
        const int64_t a[3] = {1, 1, 1};
        const int64_t b[3] = {2, -1, 2};
        const int64_t c[3] = {3, -1, -1};
        tr_kafka_source_mirror(k, a);
        tr_kafka_source_mirror(k, b);
        tr_kafka_source_mirror(k, c);
        const int64_t want_last[3] = {3, 1, 2};
        EXPECT_TRUE(committed_equals(&mk, k, GROUP, want_last, 3));
    }
    tr_kafka_source_close(k);
    /* [kafka] group.id overrides the default. */
    const tr_config_kv_t props[] = {{.key = "group.id", .value = "tirelay-other"}};
    k = open_source(&mk, "mirror", props, 1);
    const int64_t offsets[3] = {2, 2, 2};
    if (k != NULL && start_source(k, offsets)) {
        const int64_t next[3] = {4, 5, 6};
        tr_kafka_source_mirror(k, next);
        EXPECT_TRUE(committed_equals(&mk, k, "tirelay-other", next, 3));
        /* The default group kept what it had. */
        const int64_t want_default[3] = {3, 1, 2};
        EXPECT_TRUE(committed_equals(&mk, k, GROUP, want_default, 3));
    }
    tr_kafka_source_close(k);
    mock_stop(&mk);
}

TR_TEST(close_is_prompt_while_the_broker_is_down)
{
    mock_t mk;
    EXPECT_TRUE(mock_start(&mk, "down", 2));
    produce(&mk, "down", 0, 3);
    tr_kafka_source_t *k = open_source(&mk, "down", NULL, 0);
    if (k != NULL && start_source(k, all_beginning)) {
        tally_t t;
        tally_init(&t);
        EXPECT_EQ_INT(consume_until(k, &mk, &t, 3, 64, WAIT_MS), 0);
        EXPECT_EQ_INT(rd_kafka_mock_broker_set_down(mk.mc, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
        expect_nothing(k, &mk, &t, 300); /* the client notices */
        /* Mirror commits that cannot complete; polls go on without error meanwhile. */
        const int64_t next[2] = {3, -1};
        for (int i = 0; i < 5; i++) {
            tr_kafka_source_mirror(k, next);
            tr_kafka_msg_t msgs[4];
            char err[256];
            EXPECT_EQ_INT(tr_kafka_source_poll(k, 100, msgs, 4, err, sizeof(err)), 0);
        }
    }
    int64_t t0 = tr_clock_mono_ms();
    tr_kafka_source_close(k);
    int64_t elapsed_ms = tr_clock_mono_ms() - t0;
    fprintf(stderr, "  close took %lld ms\n", (long long)elapsed_ms);
    EXPECT_TRUE(elapsed_ms < 5000);
    mock_stop(&mk);
}

TR_TEST(missing_topic_is_a_clear_error)
{
    mock_t mk;
    EXPECT_TRUE(mock_start(&mk, "present", 2));
    tr_kafka_source_config_t c = source_config(&mk, "absent-topic", NULL, 0);
    tr_kafka_source_t *k = (tr_kafka_source_t *)&mk; /* must be reset to NULL */
    char err[512] = "";
    EXPECT_EQ_INT(tr_kafka_source_open(&c, WAIT_MS, &k, err, sizeof(err)), TR_ENOTFOUND);
    EXPECT_TRUE(k == NULL);
    EXPECT_TRUE(strstr(err, "no such topic absent-topic") != NULL);
    fprintf(stderr, "  (expected) %s\n", err);
    mock_stop(&mk);
}

TR_TEST(offset_beyond_log_end_is_fatal)
{
    mock_t mk;
    EXPECT_TRUE(mock_start(&mk, "short", 2));
    produce(&mk, "short", 0, 5);
    produce(&mk, "short", 1, 5);
    tr_kafka_source_t *k = open_source(&mk, "short", NULL, 0);
    const int64_t offsets[2] = {TR_KAFKA_BEGINNING, 100};
    if (k != NULL && start_source(k, offsets)) {
        tally_t t;
        tally_init(&t);
        int rc = consume_until(k, &mk, &t, SIZE_MAX, 64, WAIT_MS);
        EXPECT_EQ_INT(rc, TR_EUPSTREAM);
        EXPECT_TRUE(t.got[1] == 0);
        EXPECT_EQ_INT(t.bad, 0);
        /* Sticky, and named. */
        tr_kafka_msg_t msgs[4];
        char err[512] = "";
        EXPECT_EQ_INT(tr_kafka_source_poll(k, 0, msgs, 4, err, sizeof(err)), TR_EUPSTREAM);
        EXPECT_TRUE(strstr(err, "topic short partition 1") != NULL);
        EXPECT_TRUE(strstr(err, "out of range") != NULL);
        fprintf(stderr, "  (expected) %s\n", err);
    }
    tr_kafka_source_close(k);
    mock_stop(&mk);
}

/* Runs fn with stderr (tr_log's output) going to a file; returns the text written. */
static char *capture_stderr(void (*fn)(void *), void *arg)
{
    char path[] = "/tmp/tr_kafka_logXXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        return NULL;
    }
    (void)unlink(path);
    (void)fflush(stderr);
    int saved = dup(2);
    (void)dup2(fd, 2);
    fn(arg);
    (void)fflush(stderr);
    (void)dup2(saved, 2);
    (void)close(saved);
    off_t len = lseek(fd, 0, SEEK_END);
    char *text = calloc(1, (size_t)(len > 0 ? len : 0) + 1);
    if (len > 0 && pread(fd, text, (size_t)len, 0) != len) {
        text[0] = '\0';
    }
    (void)close(fd);
    return text;
}

typedef struct {
    const char *brokers;
    int rc;
    int64_t elapsed_ms;
    char err[512];
} unreachable_t;

#define SECRET "hunter2-s3cret"

static void open_unreachable(void *arg)
{
    unreachable_t *u = arg;
    /* SASL over plain TCP with a password, reconnecting every 10 ms for a second: many
     * connection errors, which must come out rate-limited and without the password. */
    const tr_config_kv_t props[] = {
        {.key = "security.protocol", .value = "SASL_PLAINTEXT"},
        {.key = "sasl.mechanisms", .value = "PLAIN"},
        {.key = "sasl.username", .value = "tirelay"},
        {.key = "sasl.password", .value = SECRET},
        {.key = "reconnect.backoff.ms", .value = "10"},
        {.key = "reconnect.backoff.max.ms", .value = "10"},
        {.key = "debug", .value = "conf"},
    };
    tr_kafka_source_config_t c = {
        .brokers = u->brokers,
        .topic = "any",
        .group_id = GROUP,
        .props = props,
        .n_props = TR_ARRAY_LEN(props),
    };
    tr_kafka_source_t *k = NULL;
    int64_t t0 = tr_clock_mono_ms();
    u->rc = tr_kafka_source_open(&c, 1000, &k, u->err, sizeof(u->err));
    u->elapsed_ms = tr_clock_mono_ms() - t0;
    tr_kafka_source_close(k);
}

static size_t count_lines(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        char buf[2048];
        snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) ? len : sizeof(buf) - 1), line);
        n += strstr(buf, needle) != NULL;
        line = end != NULL ? end + 1 : NULL;
    }
    return n;
}

TR_TEST(unreachable_brokers_logged_without_secrets)
{
    tr_log_level_t level = tr_log_get_level();
    tr_log_set_level(TR_LOG_DEBUG); /* debug=conf lines included */
    unreachable_t u = {.brokers = "127.0.0.1:1"};
    char *log = capture_stderr(open_unreachable, &u);
    tr_log_set_level(level);
    EXPECT_TRUE(u.rc < 0);
    EXPECT_TRUE(strstr(u.err, "127.0.0.1:1") != NULL);
    EXPECT_TRUE(strstr(u.err, SECRET) == NULL);
    EXPECT_TRUE(u.elapsed_ms < 8000);
    EXPECT_TRUE(log != NULL);
    if (log != NULL) {
        EXPECT_TRUE(strstr(log, SECRET) == NULL);
        /* librdkafka's configuration dump (debug=conf) came through tr_log. */
        EXPECT_TRUE(count_lines(log, "DEBUG kafka") > 0);
        EXPECT_TRUE(strstr(log, "sasl.username") != NULL);
        /* About 100 connection failures, a handful of lines. */
        size_t warn = count_lines(log, "WARN  kafka") + count_lines(log, "ERROR kafka");
        fprintf(stderr, "  open: %d %s (%lld ms), %zu WARN/ERROR lines\n", u.rc, u.err,
                (long long)u.elapsed_ms, warn);
        EXPECT_TRUE(warn >= 1);
        EXPECT_TRUE(warn <= 10);
    }
    free(log);
    EXPECT_EQ_INT(rd_kafka_wait_destroyed(10000), 0);
}

TR_TEST(authentication_failure_is_fatal)
{
    /* The 2.0.2 mock broker has no SASL: librdkafka reports an authentication failure. */
    mock_t mk;
    EXPECT_TRUE(mock_start(&mk, "sasl", 1));
    const tr_config_kv_t props[] = {
        {.key = "security.protocol", .value = "SASL_PLAINTEXT"},
        {.key = "sasl.mechanisms", .value = "PLAIN"},
        {.key = "sasl.username", .value = "tirelay"},
        {.key = "sasl.password", .value = SECRET},
    };
    tr_kafka_source_config_t c = source_config(&mk, "sasl", props, TR_ARRAY_LEN(props));
    tr_kafka_source_t *k = NULL;
    char err[512] = "";
    EXPECT_EQ_INT(tr_kafka_source_open(&c, 1000, &k, err, sizeof(err)), TR_EAUTH);
    EXPECT_TRUE(k == NULL);
    EXPECT_TRUE(strstr(err, "authentication failed") != NULL);
    EXPECT_TRUE(strstr(err, SECRET) == NULL);
    fprintf(stderr, "  (expected) %s\n", err);
    mock_stop(&mk);
}

TR_TEST(open_refuses_bad_properties_without_values)
{
    mock_t mk;
    EXPECT_TRUE(mock_start(&mk, "props", 1));
    const tr_config_kv_t unknown[] = {{.key = "no.such.property", .value = SECRET}};
    const tr_config_kv_t invalid[] = {{.key = "security.protocol", .value = SECRET}};
    const tr_config_kv_t *cases[] = {unknown, invalid};
    for (size_t i = 0; i < TR_ARRAY_LEN(cases); i++) {
        tr_kafka_source_config_t c = source_config(&mk, "props", cases[i], 1);
        tr_kafka_source_t *k = NULL;
        char err[512] = "";
        EXPECT_EQ_INT(tr_kafka_source_open(&c, WAIT_MS, &k, err, sizeof(err)), TR_ECONFIG);
        EXPECT_TRUE(k == NULL);
        EXPECT_TRUE(strstr(err, cases[i][0].key) != NULL);
        EXPECT_TRUE(strstr(err, SECRET) == NULL);
        fprintf(stderr, "  (expected) %s\n", err);
    }
    /* No group id anywhere: refused (the mirror needs one). */
    tr_kafka_source_config_t c = source_config(&mk, "props", NULL, 0);
    c.group_id = NULL;
    tr_kafka_source_t *k = NULL;
    char err[512] = "";
    EXPECT_EQ_INT(tr_kafka_source_open(&c, WAIT_MS, &k, err, sizeof(err)), TR_ECONFIG);
    EXPECT_TRUE(strstr(err, "group.id") != NULL);
    /* ... unless [kafka] sets it. */
    const tr_config_kv_t group[] = {{.key = "group.id", .value = "g"}};
    c.props = group;
    c.n_props = 1;
    EXPECT_EQ_INT(tr_kafka_source_open(&c, WAIT_MS, &k, err, sizeof(err)), 0);
    EXPECT_TRUE(k != NULL);
    tr_kafka_source_close(k);
    mock_stop(&mk);
}

TR_TEST(property_check)
{
    static const char *const good[][2] = {
        {"security.protocol", "SASL_SSL"},
        {"sasl.mechanisms", "SCRAM-SHA-512"},
        {"sasl.username", "tirelay"},
        {"sasl.password", "secret"},
        {"ssl.ca.location", "/etc/ssl/certs/kafka-ca.pem"},
        {"group.id", "tirelay-1"},
        {"fetch.max.bytes", "1048576"},
        {"session.timeout.ms", "10000"},
        {"client.rack", "zone-a"},
    };
    for (size_t i = 0; i < TR_ARRAY_LEN(good); i++) {
        const char *why = NULL;
        int rc = tr_kafka_property_check(good[i][0], good[i][1], &why);
        if (rc != 0) {
            TR_FAIL_AT("%s refused: %s", good[i][0], why ? why : "?");
        }
    }
    static const char *const bad[][2] = {
        {"no.such.property", SECRET},
        {"security.protocol", SECRET},
        {"fetch.max.bytes", SECRET},
        {"session.timeout.ms", "-5"},
    };
    for (size_t i = 0; i < TR_ARRAY_LEN(bad); i++) {
        const char *why = NULL;
        EXPECT_EQ_INT(tr_kafka_property_check(bad[i][0], bad[i][1], &why), TR_ECONFIG);
        EXPECT_TRUE(why != NULL && why[0] != '\0');
        EXPECT_TRUE(why == NULL || strstr(why, bad[i][1]) == NULL);
    }
    const char *why = NULL;
    EXPECT_EQ_INT(tr_kafka_property_check("no.such.property", "x", &why), TR_ECONFIG);
    EXPECT_EQ_STR(why, "not a librdkafka property");
}

TR_TEST_MAIN()
