/*
 * Test tool: a Kafka cluster on loopback for the TiCDC input's tests and the
 * simulator (tests/sim/ticdc.py). It is librdkafka's own mock cluster
 * (rdkafka_mock.h, librdkafka >= 1.4; Debian 12 ships 2.0.2): real Kafka
 * protocol (Metadata, Produce, Fetch, ListOffsets, offset commit, groups),
 * brokers listening on 127.0.0.1 with ephemeral ports, storage in memory.
 *
 * Usage: tr_kafka_mock [--brokers N] --topic NAME:PARTITIONS [--topic ...]
 *                      [--ready-file PATH]
 *
 * Like a broker with size-based retention, each partition keeps only its
 * newest message sets: about 5 MiB or 100000 of them (rdkafka_mock.c sets
 * max_size/max_cnt per partition, with no public setter in 2.0.2); older
 * offsets are trimmed and the log start moves up. Tests keep their volume
 * below that, consume as they go, or produce compressed batches.
 *
 * Creates each topic with PARTITIONS partitions (replication factor 1: the
 * mock cannot take CreateTopics requests in 2.0.2, so topics are made here),
 * prints the bootstrap servers ("127.0.0.1:p1,127.0.0.1:p2") on stdout,
 * writes the same line to PATH atomically (PATH.tmp, then rename), and runs
 * until SIGTERM or SIGINT, then exits 0. Exit 2 on bad arguments, 1 when the
 * cluster cannot be started.
 *
 * Test-only tooling: not part of tirelay and linked only with librdkafka.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define TR_KMOCK_MAX_TOPICS 32

typedef struct {
    const char *name; /* borrowed from argv */
    int partitions;   /* >= 1 */
} kmock_topic_t;

typedef struct {
    int brokers; /* >= 1 */
    kmock_topic_t topics[TR_KMOCK_MAX_TOPICS];
    int topic_count;
    const char *ready_file; /* NULL: stdout only */
} kmock_args_t;

static volatile sig_atomic_t stop_requested;

static void on_signal(int signo)
{
    (void)signo;
    stop_requested = 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: tr_kafka_mock [--brokers N] --topic NAME:PARTITIONS "
                    "[--topic ...] [--ready-file PATH]\n");
}

/* Parses a decimal int in [lo, hi]; 0 on success, -EINVAL otherwise. */
static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        return -EINVAL;
    }
    *out = (int)v;
    return 0;
}

/* NAME:PARTITIONS; the name is cut at the last ':' (argv is modified). */
static int parse_topic(char *spec, kmock_topic_t *out)
{
    char *colon = strrchr(spec, ':');
    if (colon == NULL || colon == spec) {
        return -EINVAL;
    }
    *colon = '\0';
    out->name = spec;
    return parse_int(colon + 1, 1, 10000, &out->partitions);
}

static int parse_args(int argc, char **argv, kmock_args_t *a)
{
    memset(a, 0, sizeof(*a));
    a->brokers = 1;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc) {
            fprintf(stderr, "tr_kafka_mock: %s needs a value\n", opt);
            return -EINVAL;
        }
        char *val = argv[++i];
        if (strcmp(opt, "--brokers") == 0) {
            if (parse_int(val, 1, 16, &a->brokers) != 0) {
                fprintf(stderr, "tr_kafka_mock: bad --brokers %s\n", val);
                return -EINVAL;
            }
        } else if (strcmp(opt, "--topic") == 0) {
            if (a->topic_count == TR_KMOCK_MAX_TOPICS) {
                fprintf(stderr, "tr_kafka_mock: at most %d topics\n", TR_KMOCK_MAX_TOPICS);
                return -EINVAL;
            }
            if (parse_topic(val, &a->topics[a->topic_count]) != 0) {
                fprintf(stderr, "tr_kafka_mock: bad --topic (want NAME:PARTITIONS)\n");
                return -EINVAL;
            }
            a->topic_count++;
        } else if (strcmp(opt, "--ready-file") == 0) {
            a->ready_file = val;
        } else {
            fprintf(stderr, "tr_kafka_mock: unknown option %s\n", opt);
            return -EINVAL;
        }
    }
    if (a->topic_count == 0) {
        fprintf(stderr, "tr_kafka_mock: at least one --topic\n");
        return -EINVAL;
    }
    return 0;
}

/* Writes line + '\n' to path.tmp, then renames it over path. */
static int write_ready_file(const char *path, const char *line)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        return -ENAMETOOLONG;
    }
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        return -errno;
    }
    int rc = 0;
    if (fprintf(f, "%s\n", line) < 0) {
        rc = -EIO;
    }
    if (fclose(f) != 0 && rc == 0) {
        rc = -errno;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -errno;
    }
    if (rc != 0) {
        (void)unlink(tmp);
    }
    return rc;
}

int main(int argc, char **argv)
{
    kmock_args_t args;
    if (parse_args(argc, argv, &args) != 0) {
        usage();
        return 2;
    }

    /* The mock cluster runs on the threads of a client instance; a producer that
     * never produces is the lightest host. */
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "tr_kafka_mock: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "tr_kafka_mock: rd_kafka_new: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, args.brokers);
    if (mc == NULL) {
        fprintf(stderr, "tr_kafka_mock: rd_kafka_mock_cluster_new failed\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < args.topic_count && rc == 0; i++) {
        rd_kafka_resp_err_t err =
            rd_kafka_mock_topic_create(mc, args.topics[i].name, args.topics[i].partitions, 1);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "tr_kafka_mock: topic %s: %s\n", args.topics[i].name,
                    rd_kafka_err2str(err));
            rc = 1;
        }
    }

    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
    if (rc == 0) {
        if (printf("%s\n", bootstrap) < 0 || fflush(stdout) != 0) {
            rc = 1;
        }
    }
    if (rc == 0 && args.ready_file != NULL) {
        int err = write_ready_file(args.ready_file, bootstrap);
        if (err != 0) {
            fprintf(stderr, "tr_kafka_mock: %s: %s\n", args.ready_file, strerror(-err));
            rc = 1;
        }
    }

    if (rc == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0) {
            perror("tr_kafka_mock: sigaction");
            rc = 1;
        }
    }
    while (rc == 0 && !stop_requested) {
        /* pause() could miss a signal that lands before it; a short sleep cannot. */
        (void)usleep(100 * 1000);
    }

    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return rc;
}
