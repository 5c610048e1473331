/*
 * The TiCDC path's Kafka consumer: the changefeed's topic over librdkafka, every partition
 * assigned to this one consumer by hand (no group rebalancing: tirelay keeps its own
 * positions in its index), messages handed out in batches with partition and offset. The
 * only file that includes rdkafka.h. The consumer group's committed offsets are a mirror
 * for monitoring only (tr_kafka_source_mirror), never read back.
 *
 * Threads: one thread owns a source (open, start, poll, pause, mirror, close);
 * tr_kafka_property_check on any.
 */
#ifndef TR_RELAY_KAFKA_SOURCE_H
#define TR_RELAY_KAFKA_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/defs.h"

typedef struct tr_kafka_source tr_kafka_source_t;

/* Start offset meaning "the partition's first retained message". */
#define TR_KAFKA_BEGINNING (-2)

typedef struct {
    const char *brokers;          /* "host:port,..." ([upstream] ticdc-kafka) */
    const char *topic;            /* [upstream] ticdc-topic */
    const char *group_id;         /* used when props set no group.id */
    const tr_config_kv_t *props;  /* [kafka] properties, set as written, after ours */
    size_t n_props;
} tr_kafka_source_config_t;

typedef struct {
    int32_t partition;
    int64_t offset;
    const uint8_t *payload; /* view, valid until the next tr_kafka_source_poll or close */
    size_t len;
} tr_kafka_msg_t;

/*
 * Creates the consumer (enable.auto.commit=false, enable.auto.offset.store=false,
 * auto.offset.reset=error, enable.partition.eof=false, then the [kafka] properties) and
 * reads the topic's metadata within timeout_ms. Returns 0, or a negative code with a
 * one-line reason in err (a property librdkafka refuses, brokers unreachable, no such
 * topic); secrets (property values) never appear in err.
 */
int tr_kafka_source_open(const tr_kafka_source_config_t *c, int timeout_ms,
                         tr_kafka_source_t **out, char *err, size_t cap) TR_MUSTCHECK;
/* The topic's partition count (from open). */
int32_t tr_kafka_source_partitions(const tr_kafka_source_t *k);
/* Assigns every partition p at offsets[p] (the next offset to read, or
 * TR_KAFKA_BEGINNING). Returns 0 or a negative code with err. */
int tr_kafka_source_start(tr_kafka_source_t *k, const int64_t *offsets, char *err,
                          size_t cap) TR_MUSTCHECK;
/*
 * Up to max messages, waiting at most timeout_ms for the first; the previous batch's views
 * end here. Returns the count (0 on timeout), or a negative code with err when consuming
 * cannot go on without losing data (an offset out of range: the topic no longer holds the
 * position, a partition gone, authentication failed for good). Transient broker errors
 * are retried by librdkafka and only logged.
 */
int tr_kafka_source_poll(tr_kafka_source_t *k, int timeout_ms, tr_kafka_msg_t *msgs, size_t max,
                         char *err, size_t cap);
/* Stops (or resumes) fetching one partition: back-pressure. Returns 0 or a negative code. */
int tr_kafka_source_pause(tr_kafka_source_t *k, int32_t partition, bool pause);
/* The partition's end offset as last seen (from fetch responses, no network call); -1 if
 * unknown. For lag in the status. */
int64_t tr_kafka_source_high(tr_kafka_source_t *k, int32_t partition);
/* Commits next_offsets[p] (one per partition, < 0 = skip) to the consumer group,
 * asynchronously: a mirror for monitoring tools. Failures are only logged. */
void tr_kafka_source_mirror(tr_kafka_source_t *k, const int64_t *next_offsets);
/* Closes (leaves the group without committing more) and frees. NULL is a no-op. */
void tr_kafka_source_close(tr_kafka_source_t *k);

/* Whether librdkafka accepts key = value as a consumer property (--check-config); 0, or
 * TR_ECONFIG with *why (static text; never contains the value). */
int tr_kafka_property_check(const char *key, const char *value, const char **why);

#endif
