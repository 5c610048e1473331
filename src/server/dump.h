/*
 * Binlog dump streaming for one session (COM_BINLOG_DUMP): validates the
 * start file and position, sends the fake ROTATE and the file's
 * FORMAT_DESCRIPTION (IN_USE flag cleared, log_pos/created zeroed when
 * starting past 4, CRC recomputed), then the file's committed events as
 * "0x00 + event" packets (on the MariaDB listener, a client whose
 * @mariadb_slave_capability is below 4 gets MariaDB's same-length
 * replacements of MariaDB-only events, protocol/maria_compat), follows real
 * ROTATEs into the next file, and at
 * the readable end either ends with EOF (non-blocking) or waits for
 * tr_server_notify and sends HEARTBEATs while idle.
 *
 * I/O layer: reads the store's committed events through store/reader.h on
 * the loop thread in bounded batches (TR_DUMP_BATCH bytes), writes one batch
 * per send into its sink (the session), and pauses while the sink's queue is
 * above TR_SRV_WRITE_HIGH. Event bytes are
 * produced by protocol/binlog_event and protocol/wire. Follows
 * shared/spec/mysql-replication-source.md sections 4.2, 4.4 and 5 (MySQL
 * rpl_binlog_sender.cc, MariaDB sql_repl.cc mysql_binlog_send).
 */
#ifndef TR_SERVER_DUMP_H
#define TR_SERVER_DUMP_H

#include "server/server_internal.h"

#define TR_DUMP_BATCH (256u * 1024) /* bytes of events read and written per batch */
#define TR_DUMP_SHARED_IDLE_MS 1000 /* a shared batch nobody sent this long is dropped */

/*
 * The consumer a dump writes into; the session implements it, so the dump never sees a
 * session. The dump is a producer in the shape of h2o's generator: it writes batches
 * through send/send_ref while queued() stays under TR_SRV_WRITE_HIGH, and the session
 * calls tr_dump_proceed when its queue drained, tr_dump_notify when new bytes are
 * committed and tr_dump_close to stop it. fail and close end the connection; the dump
 * stops writing after calling either. Thread: loop.
 */
typedef struct {
    void *ctx;
    uint32_t id;              /* the connection id (logs) */
    const char *peer;         /* ip:port, valid while the dump runs (logs) */
    tr_flavor_t flavor;       /* the listener's: the file set served */
    uint8_t *seq;             /* the next packet sequence id: the dump advances it */
    /* A user variable of the session (lower-case name), NULL when unset or NULL. */
    const char *(*uvar)(void *ctx, const char *name);
    /* Queues framed packets, taking b's storage. 0, or negative (the connection is gone). */
    int (*send)(void *ctx, tr_buf_t *b);
    /* Queues bytes borrowed until release(ref) runs. 0 or negative (release ran). */
    int (*send_ref)(void *ctx, const uint8_t *p, size_t len, void (*release)(void *ref),
                    void *ref);
    /* Bytes queued and not yet written to the socket. */
    size_t (*queued)(void *ctx);
    /* Moves the writes to a sender thread; true once they are. */
    bool (*offload)(void *ctx);
    /* Sends ERR code with msg, logs it once and closes after the flush. */
    void (*fail)(void *ctx, uint16_t code, const char *msg);
    /* Closes: after the queued bytes (flush, the end of a non-blocking dump) or at once. */
    void (*close)(void *ctx, bool flush);
} tr_dump_sink_t;

/* Number of the file the dump currently reads (admin: PURGE never removes it). */
uint32_t tr_dump_file_seq(const tr_dump_t *d);
/* Fills the dump's mode, server_id, file, pos, caught_up and last_event_ts. */
void tr_dump_stats(const tr_dump_t *d, tr_server_dump_stats_t *out);

/* Validates a COM_BINLOG_DUMP and sends the fake ROTATE + FD: 0 with *out, which the
 * caller keeps (tr_dump_close reaches it) and then runs (tr_dump_run); or TR_ECLOSED after
 * ending the sink itself (ERR 1236 for a bad request). sink is copied. */
int tr_dump_start(tr_server_t *srv, const tr_dump_sink_t *sink, uint64_t pos, uint16_t flags,
                  uint32_t replica_server_id, const char *file, size_t file_len,
                  tr_dump_t **out) TR_MUSTCHECK;
/* COM_BINLOG_DUMP_GTID (MySQL auto-positioning, spec 4.3/4.4): gtid_data is the
 * replica's encoded executed set; file (may be empty) and pos as sent. Same contract as
 * tr_dump_start. */
int tr_dump_start_gtid(tr_server_t *srv, const tr_dump_sink_t *sink, uint16_t flags,
                       uint32_t replica_server_id, const char *file, size_t file_len, uint64_t pos,
                       const uint8_t *gtid_data, size_t gtid_len, tr_dump_t **out) TR_MUSTCHECK;
/* GTID position of file name at pos in flavour f, as binlog_gtid_pos() answers it:
 * "D-S-N" (MariaDB) or "uuid:1-N" (MySQL), "" before the first GTID. Reads the file
 * (loop thread). Returns 0, TR_ENOTFOUND (no such file, pos past its end),
 * TR_EMALFORMED (pos is not an event boundary) or -errno. */
int tr_dump_gtid_pos_at(tr_server_t *srv, tr_flavor_t f, const char *name, uint64_t pos,
                        char *out, size_t cap);
/* Streams events (may end the sink before returning). */
void tr_dump_run(tr_dump_t *d);
/* New committed bytes may exist. */
void tr_dump_notify(tr_dump_t *d);
/* A write completed: continue if the queue drained. */
void tr_dump_proceed(tr_dump_t *d);
/* Stops the dump; done(arg) runs once its timer handle is closed. */
void tr_dump_close(tr_dump_t *d, void (*done)(void *arg), void *arg);
/* Drops the shared batches nobody used for idle_ms (all of them: idle_ms 0). */
void tr_dump_shared_trim(tr_server_t *srv, uint64_t now_ms, uint64_t idle_ms);

#endif
