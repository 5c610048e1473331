/*
 * Binlog dump streaming (see dump.h). Reads committed bytes of store files
 * with pread in bounded batches, frames each event as one packet
 * "0x00 + event" (split past 16 MiB by protocol/wire) and writes each batch
 * with one uv_write. Never holds more than TR_SRV_WRITE_HIGH queued bytes.
 * The read scratch is shared by all dumps and each batch's output is handed
 * to the connection, so a dump waiting at the end of the binlog holds no
 * buffers: an idle replica costs its session, connection and this struct.
 * Events are sent as stored, except where a filter applies: the GTID start of
 * either flavour, and MariaDB's replacement events for MariaDB-listener
 * clients below capability 4 (compat_event, rewritten in the read scratch).
 */
#include "server/dump.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/endian.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "protocol/binlog_event.h"
#include "protocol/command.h"
#include "protocol/gtid.h"
#include "protocol/handshake.h"
#include "protocol/maria_compat.h"
#include "protocol/result.h"
#include "protocol/wire.h"
#include "server/conn.h"
#include "store/reader.h"

#define FD_MAX_LEN       4096 /* sanity bound for a FORMAT_DESCRIPTION event */
#define FD_CREATED_OFF   (TR_EVT_HEADER_LEN + 2 + 50) /* body: version u16, server version[50] */
#define FD_MIN_LEN       (FD_CREATED_OFF + 4 + 1 + 1 + 4)
#define BATCHES_PER_PUMP 4
#define STALL_TICK_MS    1000 /* stall check period of dumps without heartbeats */
_Static_assert(TR_CONN_POOL_BUF >= TR_DUMP_BATCH + TR_DUMP_BATCH / 4,
               "a pooled write buffer holds a batch and its packet headers");

/* How the dump chose its start and what it filters. */
typedef enum {
    MODE_FILEPOS = 0, /* COM_BINLOG_DUMP by file/position: every event is sent */
    MODE_MARIA_GTID,  /* MariaDB @slave_connect_state (spec 4.5) */
    MODE_MYSQL_GTID,  /* MySQL COM_BINLOG_DUMP_GTID (spec 4.3/4.4) */
} dump_mode_t;

/* MariaDB event-group skipping (sql_repl.cc gtid_skip_group). */
enum { SKIP_NOT = 0, SKIP_STANDALONE, SKIP_TRANSACTION };

/* MySQL error texts (share/messages_to_clients.txt). */
#define MSG_NO_AUTO_POSITION                                                                       \
    "The replication sender thread cannot start in AUTO_POSITION mode: this server has "          \
    "GTID_MODE = OFF instead of ON."
#define MSG_SLAVE_HAS_MORE                                                                         \
    "Slave has more GTIDs than the master has, using the master's SERVER_UUID. This may "         \
    "indicate that the end of the binary log was truncated or that the last binary log file was " \
    "lost, e.g., after a power or disk failure when sync_binlog != 1. The master may or may not " \
    "have rolled back transactions that were already replicated to the slave. Suggest to "        \
    "replicate any transactions that master has rolled back from slave to master, and/or commit " \
    "empty transactions on master to account for transactions that have been committed on "      \
    "master but are not included in GTID_EXECUTED."
#define MSG_PURGED_REQUIRED                                                                        \
    "Cannot replicate because the source purged required binary logs. Replicate the missing "     \
    "transactions from elsewhere, or provision a new replica from backup. Consider increasing "   \
    "the source's binary log expiration period. The GTID set sent by the replica is '%s', and "   \
    "the missing transactions are '%s'."
/* MariaDB texts (sql_repl.cc). */
#define MSG_CHECKSUM_UNAWARE                                                                       \
    "Slave can not handle replication events with the checksum that master is configured to log"
#define MSG_MARIA_NOT_IN_BINLOG                                                                    \
    "Error: connecting slave requested to start from GTID %u-%u-%llu, which is not in the "       \
    "master's binlog"
#define MSG_MARIA_DIVERGED                                                                         \
    MSG_MARIA_NOT_IN_BINLOG ". Since the master's binlog contains GTIDs with higher sequence "    \
                            "numbers, it probably means that the slave has diverged due to "      \
                            "executing extra erroneous transactions"
#define MSG_MARIA_HOLE                                                                             \
    "The binlog on the master is missing the GTID %u-%u-%llu requested by the slave (even "       \
    "though both a prior and a subsequent sequence number does exist), and GTID strict mode is "  \
    "enabled"
#define MSG_MARIA_TOO_OLD                                                                          \
    "Could not find GTID state requested by slave in any binlog files. Probably the slave state " \
    "is too old and required binlog files have been purged."

struct tr_dump {
    tr_dump_sink_t sink;    /* the session's side (copied at start) */
    tr_server_t *srv;
    tr_flavor_t flavor;
    uv_timer_t timer;
    bool closed;
    void (*done)(void *arg);
    void *done_arg;

    bool blocking;
    bool session_crc;       /* @master_binlog_checksum / @source_binlog_checksum is CRC32 */
    uint64_t hb_period_ms;  /* 0 = no heartbeats */
    uint64_t last_send_ms;  /* uv_now of the last packet sent */

    tr_store_reader_t rd;   /* the file read (rd.file, its size refreshed at its end) and
                             * rd.pos, the offset of the next event to send */
    bool fd_has_crc;        /* checksum algorithm of the FD last sent */
    bool after_rotate;      /* the last event sent was the file's real ROTATE */
    bool waiting;           /* caught up: waiting for tr_dump_notify */
    bool pumping;           /* re-entrancy guard */
    uint64_t events_sent;
    uint32_t last_event_ts;  /* header timestamp of the last event sent (not 0) */
    uint32_t server_id;      /* the replica's, from its dump request */
    uint64_t stalled_since_ms; /* first tick with bytes queued and no write completed since; 0 = not */

    dump_mode_t mode;
    /* MariaDB listener, @mariadb_slave_capability below 4: MariaDB's replacement events
     * (protocol/maria_compat; sql_repl.cc send_event_to_slave). */
    bool compat;
    int capability;         /* the client's @mariadb_slave_capability (0 = unset) */
    bool send_annotate;     /* MariaDB dump flag 0x02 (BINLOG_SEND_ANNOTATE_ROWS_EVENT) */
    uint8_t compat_key;     /* 0 = events as stored; else which replacements (shared batches) */
    bool per_event;         /* events pass filter_event and/or compat_event */
    bool hb_v2;             /* MySQL flavour, dump flag 0x02: HEARTBEAT_LOG_EVENT_V2 */
    /* MariaDB GTID positioning (mode MARIA_GTID; sql_repl.cc send_event_to_slave). */
    bool m_has_req;         /* our domain still has a start GTID to reach */
    tr_maria_gtid_t m_req;  /* the replica's last GTID in our domain */
    bool m_empty_domain;    /* we had nothing in that domain at connect: re-check later */
    bool m_strict;          /* @slave_gtid_strict_mode */
    int m_skip;             /* SKIP_*: skipping the current event group */
    bool m_fake_list;       /* send a fake GTID_LIST once the current group is skipped */
    uint64_t m_state_seq;   /* last GTID number of our domain seen so far (0 = none) */
    /* MySQL COM_BINLOG_DUMP_GTID (mode MYSQL_GTID; rpl_binlog_sender.cc). */
    tr_gtid_set_t exclude;  /* the replica's executed set: transactions not to send */
    bool y_skipping;        /* inside a transaction of the exclude set */
    uint64_t y_skipped_end; /* end offset of skipped events not yet announced; 0 = none */
};

#define dump_log(lvl, d, fmt, ...)                                                                 \
    tr_log(lvl, "dump", fmt " sess=%" PRIu32 " peer=%s file=%s pos=%" PRIu64, __VA_ARGS__,        \
           (d)->sink.id, (d)->sink.peer, (d)->rd.file.name, (d)->rd.pos)

/* Ends the dump with ERR 1236 and the formatted message (the sink logs and closes). */
static void sink_fail(const tr_dump_sink_t *k, const char *fmt, ...) TR_PRINTF(2, 3);
static void sink_fail(const tr_dump_sink_t *k, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0) {
        msg[0] = '\0';
    }
    k->fail(k->ctx, TR_ER_MASTER_FATAL_READ, msg);
}

#define fail(d, ...) sink_fail(&(d)->sink, __VA_ARGS__)

/*
 * One return convention in this file: a function that may end the dump returns 0, or
 * TR_ECLOSED once it has ended the sink (an ERR sent, or the connection closed), and
 * the caller then stops; anything else it produces comes back through out-parameters.
 */

/* Closes the connection at once (queued output dropped). */
static void sink_close(tr_dump_t *d)
{
    d->sink.close(d->sink.ctx, false);
}


/*
 * Read scratch shared by every dump (loop thread only): a batch is read,
 * framed into the dump's output and done with before pump() returns, so one
 * buffer serves all dumps and an idle replica keeps none. Capacity past
 * RD_KEEP (one oversized event) is released after the pump.
 */
#define RD_KEEP (2u * TR_DUMP_BATCH)
static tr_buf_t rd_scratch;

static tr_buf_t *rd_scratch_buf(void)
{
    return &rd_scratch;
}

static void rd_trim(void)
{
    if (rd_scratch.cap > RD_KEEP) {
        tr_buf_cleanup(&rd_scratch);
    }
}

/*
 * Framed batches shared between dumps. Two dumps that read the same file from
 * the same offset with the same next packet sequence id send byte-identical
 * packets: replicas attached alike (a fleet started from one position) and
 * replicas waiting at the end of the binlog when a group commit lands. The
 * first one reads and frames the batch and keeps it in srv->shared; the
 * others write that storage (reference counted) instead of reading and
 * framing it again, so a batch costs one pread and one framing per fleet,
 * not per replica. Only batches that every event passes unfiltered are
 * shared (file/position dumps, MariaDB GTID dumps past their start GTID).
 * A client without MariaDB's GTID capability gets replacement events in place
 * of MariaDB's own (compat_event), so a batch also carries which replacements
 * it holds (compat_key) and serves only dumps that need the same ones.
 * Committed bytes never change, so an entry serves any dump that knows the
 * file to be at least that long. Loop thread only.
 */
typedef struct tr_shared_batch {
    unsigned refs; /* srv->shared's + one per write in flight */
    tr_flavor_t flavor;
    uint8_t compat_key; /* the framing dump's (0 = events as stored) */
    uint32_t file_seq;
    uint64_t pos;    /* file offset of the first event */
    uint64_t end;    /* file offset after the last */
    uint8_t seq_in;  /* packet sequence id of the first packet */
    uint8_t seq_out; /* and the one after the last */
    bool after_rotate;
    uint32_t last_ts;    /* header timestamp of the last event that has one (0 = none) */
    uint64_t events;
    uint64_t used_ms;    /* uv_now of the last dump that sent it */
    tr_buf_t buf;        /* the framed packets (pool storage) */
} shared_batch_t;

static void shared_unref(void *ref)
{
    shared_batch_t *sb = ref;
    if (--sb->refs == 0) {
        tr_conn_pool_done(&sb->buf);
        tr_free(sb);
    }
}

void tr_dump_shared_trim(tr_server_t *srv, uint64_t now_ms, uint64_t idle_ms)
{
    for (int i = 0; i < TR_SRV_SHARED_SLOTS; i++) {
        shared_batch_t *sb = srv->shared[i];
        if (sb != NULL && (idle_ms == 0 || now_ms - sb->used_ms >= idle_ms)) {
            srv->shared[i] = NULL;
            shared_unref(sb);
        }
    }
}

/* Whether every event from d->rd.pos on is sent as it is (no GTID filtering left). */
static bool shareable(const tr_dump_t *d)
{
    return d->mode == MODE_FILEPOS ||
           (d->mode == MODE_MARIA_GTID && !d->m_has_req && d->m_skip == SKIP_NOT &&
            !d->m_fake_list);
}

static shared_batch_t *shared_find(tr_dump_t *d, uint8_t seq)
{
    for (int i = 0; i < TR_SRV_SHARED_SLOTS; i++) {
        shared_batch_t *sb = d->srv->shared[i];
        if (sb != NULL && sb->pos == d->rd.pos && sb->file_seq == d->rd.file.seq &&
            sb->seq_in == seq && sb->flavor == d->flavor && sb->compat_key == d->compat_key &&
            sb->end <= d->rd.file.size) {
            return sb;
        }
    }
    return NULL;
}

/* Keeps sb in a free slot, else in place of the least recently used. */
static void shared_keep(tr_server_t *srv, shared_batch_t *sb)
{
    int victim = 0;
    for (int i = 0; i < TR_SRV_SHARED_SLOTS; i++) {
        if (srv->shared[i] == NULL) {
            victim = i;
            break;
        }
        if (srv->shared[i]->used_ms < srv->shared[victim]->used_ms) {
            victim = i;
        }
    }
    if (srv->shared[victim] != NULL) {
        shared_unref(srv->shared[victim]);
    }
    sb->refs++;
    srv->shared[victim] = sb;
}

/* Appends "0x00 + ev" as one (possibly split) packet. */
static void put_event_packet(tr_dump_t *d, tr_buf_t *out, const uint8_t *ev, size_t len)
{
    size_t h = tr_wire_begin(out);
    tr_buf_put_u8(out, 0x00);
    tr_buf_append(out, ev, len);
    tr_wire_end(out, h, d->sink.seq);
}

/* Sends out (taking its storage): 0, or TR_ECLOSED after closing the sink (an answer
 * past its size limit, or the connection is gone). */
static int send_out(tr_dump_t *d, tr_buf_t *out)
{
    d->last_send_ms = uv_now(d->srv->loop);
    if (!tr_buf_ok(out) || d->sink.send(d->sink.ctx, out) != 0) {
        sink_close(d);
        return TR_ECLOSED;
    }
    return 0;
}

/* Our own last GTID number: the last committed transaction, else what the
 * first file's header says came before (gtid-start - 1); 0 = none at all. */
static uint64_t last_gno(tr_server_t *srv, tr_flavor_t f)
{
    tr_store_checkpoint_t cp;
    tr_store_last_txn(srv->store, &cp);
    if (cp.has_txn) {
        return cp.gtid_no;
    }
    tr_binlog_file_t first;
    if (tr_store_file_first(srv->store, f, &first) == 0 && first.first_gno > 1) {
        return first.first_gno - 1;
    }
    return 0;
}

/* A HEARTBEAT (v2 when the MySQL replica asked for it) naming the current file at pos. */
static void put_heartbeat(tr_dump_t *d, tr_buf_t *out, uint64_t pos)
{
    size_t ph = tr_wire_begin(out);
    tr_buf_put_u8(out, 0x00);
    tr_evt_writer_t w;
    tr_evt_writer_init(&w, out, 0, d->flavor, d->srv->cfg->server_id, d->fd_has_crc);
    if (d->hb_v2) {
        tr_evt_put_heartbeat_v2(&w, pos, d->rd.file.name, strlen(d->rd.file.name));
    } else {
        tr_evt_put_heartbeat(&w, (uint32_t)pos, d->rd.file.name, strlen(d->rd.file.name));
    }
    tr_wire_end(out, ph, d->sink.seq);
}

/*
 * MariaDB's fake GTID_LIST (sql_repl.cc fake_gtid_list_event): the binlog
 * state reached so far, timestamp 0, LOG_EVENT_ARTIFICIAL_F, log_pos = end_pos
 * so the replica moves its old-style position over the skipped groups.
 */
static void put_fake_gtid_list(tr_dump_t *d, tr_buf_t *out, uint64_t end_pos)
{
    const tr_config_t *cfg = d->srv->cfg;
    tr_maria_gtid_t g = {cfg->gtid_domain_id, cfg->server_id, d->m_state_seq};
    size_t ph = tr_wire_begin(out);
    tr_buf_put_u8(out, 0x00);
    size_t ev = out->len;
    tr_evt_writer_t w;
    tr_evt_writer_init(&w, out, 0, d->flavor, cfg->server_id, d->fd_has_crc);
    w.timestamp = 0;
    tr_evt_put_maria_gtid_list(&w, &g, d->m_state_seq > 0 ? 1 : 0);
    if (tr_buf_ok(out)) {
        uint8_t *e = out->data + ev;
        size_t len = out->len - ev;
        tr_store_u32le(e + 13, (uint32_t)end_pos);
        tr_store_u16le(e + 17, TR_EVF_ARTIFICIAL);
        if (d->fd_has_crc) {
            tr_evt_update_crc(e, len);
        }
    }
    tr_wire_end(out, ph, d->sink.seq);
}

/* MariaDB Log_event::is_part_of_group: events that never end a group. */
static bool part_of_group(uint8_t type)
{
    switch (type) {
    case TR_EVT_MARIA_GTID:
    case 5:  /* INTVAR */
    case 13: /* RAND */
    case 14: /* USER_VAR */
    case TR_EVT_TABLE_MAP:
    case TR_EVT_MARIA_ANNOTATE_ROWS:
        return true;
    default:
        return false;
    }
}

enum { GTID_ERR_NOT_IN_BINLOG, GTID_ERR_DIVERGED, GTID_ERR_HOLE };

/* Sends ERR 1236 with one of MariaDB's GTID messages (sql_repl.cc). */
static void fail_gtid(tr_dump_t *d, int which, const tr_maria_gtid_t *g)
{
    unsigned dom = (unsigned)g->domain_id;
    unsigned srv = (unsigned)g->server_id;
    unsigned long long seq = (unsigned long long)g->seq_no;
    switch (which) {
    case GTID_ERR_DIVERGED:
        fail(d, MSG_MARIA_DIVERGED, dom, srv, seq);
        break;
    case GTID_ERR_HOLE:
        fail(d, MSG_MARIA_HOLE, dom, srv, seq);
        break;
    default:
        fail(d, MSG_MARIA_NOT_IN_BINLOG, dom, srv, seq);
        break;
    }
}

/* sql_repl.cc give_error_start_pos_missing_in_binlog. */
static void fail_missing(tr_dump_t *d, const tr_maria_gtid_t *req)
{
    uint64_t have = last_gno(d->srv, TR_FLAVOR_MARIADB);
    bool diverged = have > 0 && have >= req->seq_no;
    fail_gtid(d, diverged ? GTID_ERR_DIVERGED : GTID_ERR_NOT_IN_BINLOG, req);
}


/*
 * The GTID filters, per event read from the file (ev, len bytes, ending at
 * file offset end_pos). May append a HEARTBEAT to out first (MySQL: the end
 * of a skipped range is announced before the next event sent, as
 * Binlog_sender does). Sets *send (false: the event is skipped); 0 or TR_ECLOSED.
 */
static int filter_event(tr_dump_t *d, const uint8_t *ev, size_t len, uint64_t end_pos,
                        tr_buf_t *out, bool *send)
{
    uint8_t type = ev[4];
    const char *why = NULL;
    if (d->mode == MODE_MYSQL_GTID) {
        if (type == TR_EVT_GTID) {
            uint8_t uuid[16];
            uint64_t gno;
            if (tr_gtid_peek_mysql(ev, len, uuid, &gno, &why) != 0) {
                fail(d, "Failed to read Gtid_log_event: corrupt binlog");
                return TR_ECLOSED;
            }
            d->y_skipping = tr_gtid_set_contains(&d->exclude, uuid, NULL, gno);
        } else if (type == TR_EVT_ANONYMOUS_GTID || type == TR_EVT_ROTATE ||
                   type == TR_EVT_FORMAT_DESCRIPTION || type == TR_EVT_PREVIOUS_GTIDS) {
            d->y_skipping = d->y_skipping && type != TR_EVT_ANONYMOUS_GTID &&
                            type != TR_EVT_ROTATE;
            if (type != TR_EVT_ANONYMOUS_GTID) {
                goto send_mysql; /* never skipped */
            }
        }
        if (d->y_skipping) {
            d->y_skipped_end = end_pos;
            *send = false;
            return 0;
        }
    send_mysql:
        if (d->y_skipped_end > 0) {
            put_heartbeat(d, out, d->y_skipped_end);
            d->y_skipped_end = 0;
        }
        *send = true;
        return 0;
    }
    if (d->mode != MODE_MARIA_GTID) {
        *send = true;
        return 0;
    }
    if (type == TR_EVT_MARIA_GTID) {
        tr_maria_gtid_t g;
        uint8_t flags2;
        if (tr_gtid_peek_maria(ev, len, &g, &flags2, &why) != 0) {
            fail(d, "Failed to read Gtid_log_event: corrupt binlog");
            return TR_ECLOSED;
        }
        if (g.domain_id == d->srv->cfg->gtid_domain_id) {
            d->m_state_seq = g.seq_no;
        }
        if (d->m_has_req && g.domain_id == d->m_req.domain_id) {
            if (d->m_empty_domain) {
                /* START_ON_EMPTY_DOMAIN: the domain appeared; the request must be in it. */
                if (g.server_id != d->m_req.server_id || g.seq_no < d->m_req.seq_no) {
                    fail_missing(d, &d->m_req);
                    return TR_ECLOSED;
                }
                d->m_empty_domain = false;
            }
            if (g.server_id != d->m_req.server_id || g.seq_no <= d->m_req.seq_no) {
                d->m_skip = (flags2 & TR_MARIA_FL_STANDALONE) ? SKIP_STANDALONE : SKIP_TRANSACTION;
            }
            if (g.server_id == d->m_req.server_id && g.seq_no >= d->m_req.seq_no) {
                if (d->m_strict && g.seq_no > d->m_req.seq_no) {
                    fail_gtid(d, GTID_ERR_HOLE, &d->m_req);
                    return TR_ECLOSED;
                }
                d->m_fake_list = true;
                d->m_has_req = false;
            }
        }
    }
    switch (d->m_skip) {
    case SKIP_STANDALONE:
        if (!part_of_group(type)) {
            d->m_skip = SKIP_NOT;
        }
        *send = false;
        return 0;
    case SKIP_TRANSACTION:
        if (type == TR_EVT_XID || (type == TR_EVT_QUERY && tr_gtid_peek_is_commit(ev, len, d->fd_has_crc))) {
            d->m_skip = SKIP_NOT;
        }
        *send = false;
        return 0;
    default:
        *send = true;
        return 0;
    }
}

/*
 * MariaDB's replacement of MariaDB-only events for a client below capability 4
 * (maria_compat.h has the rules): ev, an event about to be sent, is rewritten
 * in place (it lives in the read scratch) or left out. Applied after the GTID
 * filters, as send_event_to_slave does; the fake GTID_LIST of a GTID start
 * does not come through here, so such a client gets it as it is, as from
 * MariaDB. Sets *send (false: left out); 0, or TR_ECLOSED after failing the
 * dump with MariaDB's text.
 */
static int compat_event(tr_dump_t *d, uint8_t *ev, size_t len, bool *send)
{
    const char *why = NULL;
    int act = tr_maria_compat_rewrite(ev, len, d->capability, d->send_annotate, d->fd_has_crc,
                                      &why);
    if (act < 0) {
        fail(d, "%s", why);
        return TR_ECLOSED;
    }
    *send = act != TR_MCOMPAT_OMIT;
    return 0;
}

/*
 * Starts d->rd.file at start_pos: fake ROTATE (checksummed per the session's
 * variable for the first file, else per the last FD), then the file's FD.
 * For the first file, validates start_pos (> size, not an event boundary).
 * 0 or TR_ECLOSED.
 */
static int start_file(tr_dump_t *d, uint64_t start_pos, bool first, tr_buf_t *out)
{
    const char *why = NULL;
    tr_buf_t *scratch = rd_scratch_buf();
    if (first) {
        tr_binlog_file_t f = d->rd.file;
        int rc = tr_store_reader_open(&d->rd, d->srv->store, d->flavor, &f, TR_BINLOG_MAGIC_LEN);
        if (rc != 0) {
            fail(d, "Could not open log file: %s", tr_strerror(rc));
            return TR_ECLOSED;
        }
    }
    /* The file's FORMAT_DESCRIPTION, copied: the walk below reuses the scratch. */
    uint8_t fde[FD_MAX_LEN];
    tr_evt_header_t h;
    int rc = tr_store_reader_event_at(&d->rd, TR_BINLOG_MAGIC_LEN, scratch, &why);
    if (rc != 0 || tr_evt_header_decode(tr_buf_head(scratch), tr_buf_unread(scratch), &h, &why) < 0 ||
        h.type != TR_EVT_FORMAT_DESCRIPTION || h.event_size < FD_MIN_LEN ||
        h.event_size > FD_MAX_LEN) {
        fail(d, "Could not find format_description_event in binlog file");
        return TR_ECLOSED;
    }
    memcpy(fde, tr_buf_head(scratch), h.event_size);
    uint64_t fde_end = TR_BINLOG_MAGIC_LEN + (uint64_t)h.event_size;
    d->rd.pos = fde_end;
    if (first && start_pos > 4) {
        /* start_pos must be an event boundary. */
        rc = tr_store_reader_walk(&d->rd, start_pos, scratch, NULL, NULL, &why);
        if (rc != 0) {
            fail(d, "Client requested master to start replication from impossible position");
            return TR_ECLOSED;
        }
    }
    bool rotate_crc = first ? d->session_crc : d->fd_has_crc;
    d->fd_has_crc = fde[h.event_size - TR_EVT_CRC_LEN - 1] == 1;

    /* Fake ROTATE: timestamp 0, log_pos 0, ARTIFICIAL, body = start position + name. */
    tr_evt_writer_t w;
    size_t ph = tr_wire_begin(out);
    tr_buf_put_u8(out, 0x00);
    tr_evt_writer_init(&w, out, 0, d->flavor, d->srv->cfg->server_id, rotate_crc);
    tr_evt_put_rotate(&w, start_pos, d->rd.file.name, strlen(d->rd.file.name), true);
    tr_wire_end(out, ph, d->sink.seq);

    /* FORMAT_DESCRIPTION as the file has it, IN_USE cleared; past 4, log_pos and created 0. */
    uint16_t flags = tr_load_u16le(fde + 17);
    tr_store_u16le(fde + 17, (uint16_t)(flags & ~TR_EVF_BINLOG_IN_USE));
    if (start_pos > 4) {
        tr_store_u32le(fde + 13, 0);
        tr_store_u32le(fde + FD_CREATED_OFF, 0);
    }
    if (d->fd_has_crc) {
        tr_evt_update_crc(fde, h.event_size);
    }
    put_event_packet(d, out, fde, h.event_size);
    d->rd.pos = start_pos > 4 ? start_pos : fde_end;
    tr_buf_reset(scratch);
    d->after_rotate = false;
    d->y_skipping = false; /* transactions never span files */
    return 0;
}

/*
 * Appends up to TR_DUMP_BATCH bytes of complete events from d->rd.pos; *consumed is
 * their size in the file (0 when caught up). 0 or TR_ECLOSED.
 */
static int read_batch(tr_dump_t *d, tr_buf_t *out, uint64_t *consumed)
{
    uint64_t start = d->rd.pos;
    tr_buf_t *batch = rd_scratch_buf();
    const char *why = NULL;
    *consumed = 0;
    int64_t n = tr_store_reader_read(&d->rd, batch, TR_DUMP_BATCH, &why);
    if (n < 0) {
        if (n == TR_ECORRUPT) {
            fail(d, "%s", why);
        } else {
            fail(d, "I/O error reading log event: %s", tr_strerror((int)n));
        }
        return TR_ECLOSED;
    }
    size_t off = 0;
    tr_store_event_t ev;
    while (tr_store_batch_next(batch, start, &off, &ev)) {
        bool send = true;
        if (d->per_event) {
            if (d->mode != MODE_FILEPOS &&
                filter_event(d, ev.p, ev.len, ev.end_pos, out, &send) != 0) {
                return TR_ECLOSED;
            }
            if (send && d->compat && compat_event(d, ev.p, ev.len, &send) != 0) {
                return TR_ECLOSED;
            }
        }
        if (send) {
            put_event_packet(d, out, ev.p, ev.len);
            d->events_sent++;
            d->last_event_ts = ev.h.timestamp != 0 ? ev.h.timestamp : d->last_event_ts;
        }
        d->after_rotate = ev.h.type == TR_EVT_ROTATE && !(ev.h.flags & TR_EVF_ARTIFICIAL);
        if (d->m_fake_list && d->m_skip == SKIP_NOT) {
            put_fake_gtid_list(d, out, ev.end_pos);
            d->m_fake_list = false;
        }
    }
    *consumed = (uint64_t)n;
    return 0;
}

/*
 * Sends the next batch from srv->shared, or reads and frames it there for
 * the next dump (a shareable dump with unread bytes). Whatever out holds is
 * sent first. 0 or TR_ECLOSED.
 */
static int send_shared(tr_dump_t *d, tr_buf_t *out)
{
    tr_server_t *srv = d->srv;
    uint64_t now = uv_now(srv->loop);
    if (tr_buf_unread(out) > 0 && send_out(d, out) != 0) {
        return TR_ECLOSED;
    }
    uint8_t *seq = d->sink.seq;
    shared_batch_t *sb = shared_find(d, *seq);
    if (sb != NULL) {
        d->rd.pos = sb->end;
        *seq = sb->seq_out;
        d->events_sent += sb->events;
        d->last_event_ts = sb->last_ts != 0 ? sb->last_ts : d->last_event_ts;
        d->after_rotate = sb->after_rotate;
        sb->refs++; /* the write's */
        srv->batches_shared++;
    } else {
        sb = tr_calloc(1, sizeof(*sb));
        sb->refs = 1; /* the write's */
        sb->flavor = d->flavor;
        sb->compat_key = d->compat_key;
        sb->file_seq = d->rd.file.seq;
        sb->pos = d->rd.pos;
        sb->seq_in = *seq;
        tr_conn_pool_buf(&sb->buf, now);
        uint64_t events = d->events_sent;
        uint32_t last_ts = d->last_event_ts;
        d->last_event_ts = 0;
        uint64_t n = 0;
        int rc = read_batch(d, &sb->buf, &n);
        sb->last_ts = d->last_event_ts;
        d->last_event_ts = d->last_event_ts != 0 ? d->last_event_ts : last_ts;
        if (rc != 0 || n == 0 || d->closed || !tr_buf_ok(&sb->buf)) {
            shared_unref(sb);
            if (rc == 0 && !d->closed) {
                sink_close(d); /* nothing read below the known size, or too large */
            }
            return TR_ECLOSED;
        }
        sb->end = d->rd.pos;
        sb->seq_out = *seq;
        sb->events = d->events_sent - events;
        sb->after_rotate = d->after_rotate;
        srv->batches_framed++;
        if (sb->buf.cap == TR_CONN_POOL_BUF) {
            shared_keep(srv, sb); /* not an oversized event's batch */
        }
    }
    sb->used_ms = now;
    d->last_send_ms = now;
    if (d->sink.send_ref(d->sink.ctx, sb->buf.data, sb->buf.len, shared_unref, sb) != 0) {
        sink_close(d);
        return TR_ECLOSED;
    }
    return 0;
}

/* At the end of the readable bytes: next file or more bytes (*more: keep pumping), EOF
 * (the end of a non-blocking dump: TR_ECLOSED) or wait. 0 or TR_ECLOSED. */
static int at_end(tr_dump_t *d, tr_buf_t *out, bool *more)
{
    *more = false;
    if (d->after_rotate) {
        int rc = tr_store_reader_next_file(&d->rd);
        if (rc == 0) {
            dump_log(TR_LOG_DEBUG, d, "switched to the next file%s", "");
            *more = true;
            return start_file(d, 4, false, out);
        }
        if (rc != TR_ENOTFOUND) {
            fail(d, "could not find next log: %s", tr_strerror(rc));
            return TR_ECLOSED;
        }
    } else {
        int rc = tr_store_reader_refresh(&d->rd);
        if (rc < 0) {
            fail(d, "could not find log file: %s", tr_strerror(rc));
            return TR_ECLOSED;
        }
        if (rc > 0) {
            *more = true;
            return 0;
        }
    }
    if (d->y_skipped_end > 0) {
        /* Caught up inside skipped transactions: tell the replica where we are. */
        put_heartbeat(d, out, d->y_skipped_end);
        d->y_skipped_end = 0;
    }
    if (!d->blocking) {
        size_t h = tr_wire_begin(out);
        tr_res_put_eof(out, 0, TR_SERVER_STATUS_AUTOCOMMIT);
        tr_wire_end(out, h, d->sink.seq);
        if (send_out(d, out) != 0) {
            return TR_ECLOSED;
        }
        dump_log(TR_LOG_INFO, d, "non-blocking dump complete events=%" PRIu64, d->events_sent);
        d->sink.close(d->sink.ctx, true);
        return TR_ECLOSED;
    }
    d->waiting = true;
    return 0;
}

static void pump(tr_dump_t *d)
{
    if (d->pumping || d->closed || d->waiting) {
        return;
    }
    d->pumping = true;
    /* A streaming dump's socket writes are done by a sender thread, so that
     * serving a fleet is not capped at the loop's one core (tried again at
     * every pump until libuv has nothing of the session's queued). */
    (void)d->sink.offload(d->sink.ctx);
    tr_buf_t out;
    tr_buf_init(&out, 0);
    int writes = 0;
    /* Every exit either has a write in flight (tr_dump_drain continues), is
     * waiting for tr_dump_notify, or the dump is closed. */
    while (!d->closed && writes < BATCHES_PER_PUMP &&
           d->sink.queued(d->sink.ctx) <= TR_SRV_WRITE_HIGH) {
        if (shareable(d) && d->rd.pos < d->rd.file.size) {
            if (send_shared(d, &out) != 0) {
                break;
            }
            writes++;
            continue;
        }
        /* Storage for a whole batch from the connection's pool (it takes the
         * storage with the write and recycles it): growing from empty by doubling
         * cost a chain of reallocs, fresh mmaps their page faults. */
        tr_conn_pool_buf(&out, uv_now(d->srv->loop));
        uint64_t n = 0;
        if (read_batch(d, &out, &n) != 0 || d->closed) {
            break;
        }
        if (n == 0) {
            bool more = false;
            if (at_end(d, &out, &more) != 0 || !more || d->closed) {
                break;
            }
        }
        if (tr_buf_unread(&out) >= TR_DUMP_BATCH) {
            if (send_out(d, &out) != 0) {
                break;
            }
            writes++;
        }
    }
    if (!d->closed && tr_buf_unread(&out) > 0) {
        (void)send_out(d, &out);
    }
    tr_conn_pool_done(&out);
    rd_trim();
    d->pumping = false;
}

/*
 * Hard limit for a client that stopped reading: pump() never queues past
 * TR_SRV_WRITE_HIGH (plus one pump's batches), so memory is bounded, but a
 * dump that has bytes queued and saw no write complete for
 * dump_stall_timeout_ms (its client read nothing while the kernel buffers
 * are full) is closed. Every completed write (tr_dump_drain) restarts the
 * clock, so a slow but reading client is never cut. Checked on every timer
 * tick (the heartbeat period, or STALL_TICK_MS without heartbeats). 0, or
 * TR_ECLOSED when it closed the session.
 */
static int check_stall(tr_dump_t *d, uint64_t now)
{
    size_t queued = d->sink.queued(d->sink.ctx);
    if (queued == 0) {
        d->stalled_since_ms = 0;
        return 0;
    }
    if (d->stalled_since_ms == 0) {
        d->stalled_since_ms = now;
        return 0;
    }
    if (now - d->stalled_since_ms < d->srv->cfg->dump_stall_timeout_ms) {
        return 0;
    }
    d->srv->errors[TR_SRV_ERR_DUMP_STALLED]++;
    dump_log(TR_LOG_WARN, d,
             "dump stalled: client read nothing, closing queued_bytes=%zu stalled_ms=%" PRIu64,
             queued, now - d->stalled_since_ms);
    sink_close(d);
    return TR_ECLOSED;
}

static void on_timer(uv_timer_t *t)
{
    tr_dump_t *d = t->data;
    if (d->closed) {
        return;
    }
    uint64_t now = uv_now(d->srv->loop);
    if (check_stall(d, now) != 0 || d->hb_period_ms == 0 || !d->waiting) {
        return;
    }
    if (now - d->last_send_ms + 5 < d->hb_period_ms) {
        return;
    }
    /* Idle: a HEARTBEAT at the end of what was sent in the current file. */
    tr_buf_t out;
    tr_buf_init(&out, 0);
    put_heartbeat(d, &out, d->y_skipped_end > 0 ? d->y_skipped_end : d->rd.pos);
    d->y_skipped_end = 0;
    (void)send_out(d, &out);
    tr_buf_cleanup(&out);
}

static bool is_crc32(const char *v)
{
    return v != NULL && strcasecmp(v, "CRC32") == 0;
}

static uint64_t heartbeat_ms(const tr_dump_sink_t *k, const tr_config_t *cfg)
{
    const char *v = k->uvar(k->ctx, "source_heartbeat_period");
    if (v == NULL) {
        v = k->uvar(k->ctx, "master_heartbeat_period");
    }
    if (v == NULL) {
        return cfg->heartbeat_default_ms;
    }
    /* Nanoseconds as an integer (MariaDB may send a decimal; the integer part is enough). */
    uint64_t ns = 0;
    for (const char *p = v; *p >= '0' && *p <= '9'; p++) {
        ns = ns * 10 + (uint64_t)(*p - '0');
        if (ns > UINT64_MAX / 100) {
            break;
        }
    }
    uint64_t ms = ns / 1000000;
    return ns > 0 && ms == 0 ? 1 : ms;
}

/* Resolves file/pos of a dump request (empty name = first file). 0, or TR_ECLOSED after
 * failing the dump with MySQL's message. */
static int resolve_file(tr_server_t *srv, const tr_dump_sink_t *k, const char *file,
                        size_t file_len, uint64_t pos, tr_binlog_file_t *f)
{
    tr_flavor_t flavor = k->flavor;
    int rc;
    if (file_len == 0) {
        rc = tr_store_file_first(srv->store, flavor, f);
    } else {
        char name[sizeof(f->name)];
        if (file_len >= sizeof(name)) {
            rc = TR_ENOTFOUND;
        } else {
            memcpy(name, file, file_len);
            name[file_len] = '\0';
            rc = tr_store_file_by_name(srv->store, flavor, name, f);
        }
    }
    if (rc != 0) {
        sink_fail(k,
                     "Could not find first log file name in binary log index file");
        return TR_ECLOSED;
    }
    if (pos < 4) {
        sink_fail(k,
                     "Client requested master to start replication from position < 4");
        return TR_ECLOSED;
    }
    if (pos > f->size) {
        sink_fail(k,
                     "Client requested master to start replication from position > file size");
        return TR_ECLOSED;
    }
    return 0;
}

/*
 * Checksum negotiation, as both real servers do it (MariaDB sql_repl.cc
 * send_format_descriptor_event / is_slave_checksum_aware, MySQL
 * Binlog_sender::check_start_file): a client that set
 * @master_binlog_checksum / @source_binlog_checksum to anything is
 * "checksum aware" and gets the events exactly as stored (CRC32, the FD says
 * so); the variable only decides whether the first fake ROTATE, sent before
 * any FD, carries a CRC ('CRC32') or not ('NONE', what mariadb-binlog and
 * mysqlbinlog send). A client that never set it cannot know the FD's
 * checksum byte exists, and since our files are always CRC32 it is refused
 * with ERR 1236 and the servers' text. (Stripping CRCs for it would change
 * event sizes while log_pos still counts stored bytes, which MySQL replicas
 * use for their positions.) 0, or TR_ECLOSED after failing the dump.
 */
static int require_checksum_aware(const tr_dump_sink_t *k)
{
    if (k->uvar(k->ctx, "master_binlog_checksum") != NULL ||
        k->uvar(k->ctx, "source_binlog_checksum") != NULL) {
        return 0;
    }
    sink_fail(k, "%s", MSG_CHECKSUM_UNAWARE);
    return TR_ECLOSED;
}

static tr_dump_t *dump_new(tr_server_t *srv, const tr_dump_sink_t *k, const tr_binlog_file_t *f,
                           uint16_t flags, uint32_t replica_server_id)
{
    tr_dump_t *d = tr_calloc(1, sizeof(*d));
    d->sink = *k;
    d->srv = srv;
    d->flavor = k->flavor;
    d->rd.fd = -1;
    d->rd.file = *f;
    d->server_id = replica_server_id;
    d->blocking = !(flags & TR_DUMP_NON_BLOCK) && replica_server_id != 0;
    d->session_crc = is_crc32(k->uvar(k->ctx, "source_binlog_checksum")) ||
                     is_crc32(k->uvar(k->ctx, "master_binlog_checksum"));
    d->hb_period_ms = d->blocking ? heartbeat_ms(k, srv->cfg) : 0;
    /* Flag 0x02 is USE_HEARTBEAT_EVENT_V2 from MySQL 8.0.26+ replicas, but
     * BINLOG_SEND_ANNOTATE_ROWS_EVENT from MariaDB clients (spec 4.2). */
    d->hb_v2 = d->flavor == TR_FLAVOR_MYSQL && (flags & TR_DUMP_FLAG_2) != 0;
    if (d->flavor == TR_FLAVOR_MARIADB) {
        d->capability = tr_maria_compat_capability(k->uvar(k->ctx, "mariadb_slave_capability"));
        d->send_annotate = (flags & TR_DUMP_FLAG_2) != 0;
        /* A capable client (every MariaDB replica, mariadb-binlog) gets the stored bytes:
         * the one rule left for it, leaving ANNOTATE_ROWS out unless flag 0x02 asks for
         * them, never applies because our files hold none (translate.c writes no 160). */
        d->compat = d->capability < TR_MARIA_CAP_GTID;
    }
    if (d->compat) {
        /* Clients of one key get identical bytes: capabilities below 0 act as 0. */
        int level = d->capability < 0 ? 0 : d->capability;
        d->compat_key = (uint8_t)(1 + level * 2 + (d->send_annotate ? 1 : 0));
    }
    tr_gtid_set_init(&d->exclude);
    int rc = uv_timer_init(srv->loop, &d->timer);
    TR_ASSERT(rc == 0); /* uv_timer_init cannot fail on a live loop */
    d->timer.data = d;
    return d;
}

/* Sends the start of d->rd.file at pos and arms the timer: 0 with *out_d = d, or
 * TR_ECLOSED after ending the sink (d is released). */
static const char *const mode_names[] = {"file", "mariadb-gtid", "mysql-gtid"};

static int dump_begin(tr_dump_t *d, uint64_t pos, tr_dump_t **out_d)
{
    *out_d = NULL;
    d->per_event = d->mode != MODE_FILEPOS || d->compat;
    tr_buf_t out;
    tr_buf_init(&out, 0);
    if (start_file(d, pos, true, &out) != 0) {
        /* The session was failed: it will close d through tr_dump_close... but it
         * does not know d yet, so release it here. */
        tr_buf_cleanup(&out);
        d->closed = true;
        tr_dump_close(d, NULL, NULL);
        return TR_ECLOSED;
    }
    /* file= and pos= of this line are where the stream starts. */
    char compat[48] = "";
    if (d->compat) {
        /* Told once: this client gets MariaDB's replacement events. */
        snprintf(compat, sizeof(compat), " mariadb_slave_capability=%d", d->capability);
    }
    dump_log(TR_LOG_INFO, d,
             "dump started mode=%s server_id=%" PRIu32 " blocking=%d checksum=%s heartbeat_ms=%" PRIu64
             "%s",
             mode_names[d->mode], d->server_id, (int)d->blocking, d->session_crc ? "CRC32" : "NONE",
             d->hb_period_ms, compat);
    /* Before the stream's first bytes, while libuv has nothing of the session's queued. */
    (void)d->sink.offload(d->sink.ctx);
    if (send_out(d, &out) != 0) {
        tr_buf_cleanup(&out);
        tr_dump_close(d, NULL, NULL);
        return TR_ECLOSED;
    }
    tr_buf_cleanup(&out);
    /* The timer sends heartbeats and watches for stalled clients (check_stall). */
    uint64_t tick = d->hb_period_ms > 0 ? d->hb_period_ms : STALL_TICK_MS;
    int rc = uv_timer_start(&d->timer, on_timer, tick, tick);
    TR_ASSERT(rc == 0);
    *out_d = d;
    return 0;
}

static bool uvar_true(const tr_dump_sink_t *k, const char *name)
{
    const char *v = k->uvar(k->ctx, name);
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

#define MAX_STATE_GTIDS 256

/*
 * MariaDB GTID positioning (spec 4.5; sql_repl.cc check_slave_start_position
 * + gtid_find_binlog_file + contains_all_slave_gtid). Our binlogs hold one
 * domain (gtid-domain-id) written by one server id, numbered without gaps;
 * each file's GTID_LIST holds that domain's last GTID before the file
 * (first_gno - 1). Sets up d's MariaDB state and picks the start file into
 * *f. 0 or TR_ECLOSED.
 */
static int maria_position(tr_dump_t *d, const char *state, tr_binlog_file_t *f)
{
    const tr_dump_sink_t *k = &d->sink;
    const tr_config_t *cfg = d->srv->cfg;
    tr_maria_gtid_t req[MAX_STATE_GTIDS];
    size_t n = 0;
    const char *why = NULL;
    if (tr_maria_gtid_list_parse(state, strlen(state), req, MAX_STATE_GTIDS, &n, &why) != 0) {
        sink_fail(k,
                     "Out of memory or malformed slave request when obtaining start position "
                     "from GTID state (%s)",
                     why);
        return TR_ECLOSED;
    }
    d->m_strict = uvar_true(&d->sink, "slave_gtid_strict_mode");
    bool ignore_dup = uvar_true(&d->sink, "slave_gtid_ignore_duplicates");
    uint64_t have = last_gno(d->srv, TR_FLAVOR_MARIADB); /* our binlog state: D-S-have */
    const tr_maria_gtid_t *ours = NULL;
    for (size_t i = 0; i < n; i++) {
        if (req[i].domain_id != cfg->gtid_domain_id) {
            continue; /* a domain we never write: START_ON_EMPTY_DOMAIN, never matches */
        }
        ours = &req[i];
        if (have == 0) {
            d->m_empty_domain = true; /* re-checked when the domain shows up */
        } else if (req[i].server_id == cfg->server_id && have >= req[i].seq_no) {
            /* in our binlog */
        } else if (ignore_dup && have < req[i].seq_no) {
            /* the replica may have it from elsewhere (multi-path setups) */
        } else {
            fail_missing(d, &req[i]);
            return TR_ECLOSED;
        }
    }
    if (ours != NULL) {
        d->m_has_req = true;
        d->m_req = *ours;
    }
    /* Newest file whose GTID_LIST the request covers. */
    tr_binlog_file_t *files = NULL;
    size_t nf = 0;
    if (tr_store_list_files(d->srv->store, TR_FLAVOR_MARIADB, &files, &nf) != 0 || nf == 0) {
        tr_free(files);
        sink_fail(k, "Binary log is not open");
        return TR_ECLOSED;
    }
    bool found = false;
    for (size_t i = nf; i-- > 0 && !found;) {
        uint64_t list_seq = files[i].first_gno > 0 ? files[i].first_gno - 1 : 0;
        if (list_seq == 0) {
            found = true;
        } else if (ours == NULL) {
            continue; /* the replica needs this domain from its very beginning */
        } else if (ours->server_id == cfg->server_id && ours->seq_no <= list_seq) {
            if (ours->seq_no < list_seq) {
                continue; /* in an earlier file */
            }
            found = true;
            d->m_has_req = false; /* the last GTID before this file: nothing to skip */
        } else {
            found = true;
        }
        if (found) {
            *f = files[i];
            d->m_state_seq = list_seq;
        }
    }
    tr_free(files);
    if (!found) {
        sink_fail(k, "%s", MSG_MARIA_TOO_OLD);
        return TR_ECLOSED;
    }
    d->m_fake_list = false;
    return 0;
}

int tr_dump_start(tr_server_t *srv, const tr_dump_sink_t *k, uint64_t pos, uint16_t flags,
                  uint32_t replica_server_id, const char *file, size_t file_len, tr_dump_t **out)
{
    *out = NULL;
    tr_flavor_t flavor = k->flavor;
    const char *state = k->uvar(k->ctx, "slave_connect_state");
    tr_binlog_file_t f;
    memset(&f, 0, sizeof(f));
    bool gtid = flavor == TR_FLAVOR_MARIADB && state != NULL;
    if (!gtid && resolve_file(srv, k, file, file_len, pos, &f) != 0) {
        return TR_ECLOSED;
    }
    if (require_checksum_aware(k) != 0) {
        return TR_ECLOSED;
    }
    tr_dump_t *d = dump_new(srv, k, &f, flags, replica_server_id);
    if (gtid) {
        /* The file and position of the request are ignored (spec 4.5). */
        d->mode = MODE_MARIA_GTID;
        if (maria_position(d, state, &d->rd.file) != 0) {
            d->closed = true;
            tr_dump_close(d, NULL, NULL);
            return TR_ECLOSED;
        }
        pos = 4;
        dump_log(TR_LOG_INFO, d, "gtid start state='%.200s' strict=%d", state, (int)d->m_strict);
    }
    return dump_begin(d, pos, out);
}

int tr_dump_start_gtid(tr_server_t *srv, const tr_dump_sink_t *k, uint16_t flags,
                       uint32_t replica_server_id, const char *file, size_t file_len, uint64_t pos,
                       const uint8_t *gtid_data, size_t gtid_len, tr_dump_t **out)
{
    *out = NULL;
    const tr_config_t *cfg = srv->cfg;
    if (k->flavor != TR_FLAVOR_MYSQL) {
        /* The MariaDB flavour has no MySQL GTIDs (a MariaDB primary would not
         * know the command at all). */
        sink_fail(k, "%s", MSG_NO_AUTO_POSITION);
        return TR_ECLOSED;
    }
    tr_gtid_set_t set;
    tr_gtid_set_init(&set);
    const char *why = NULL;
    ssize_t used = tr_gtid_set_decode(gtid_data, gtid_len, &set, &why);
    if (used < 0) {
        tr_gtid_set_cleanup(&set);
        sink_fail(k, "Malformed GTID_set encoding (%s)", why);
        return TR_ECLOSED;
    }
    uint64_t have = last_gno(srv, TR_FLAVOR_MYSQL);
    /* The replica must not have GTIDs of our uuid we never wrote (any tag: we write none). */
    for (size_t i = 0; i < set.n; i++) {
        const tr_gtid_sid_t *e = &set.sids[i];
        if (e->n > 0 && memcmp(e->uuid, cfg->server_uuid_bin, 16) == 0 &&
            (e->tag[0] != '\0' || e->iv[e->n - 1].end - 1 > have)) {
            tr_gtid_set_cleanup(&set);
            sink_fail(k, "%s", MSG_SLAVE_HAS_MORE);
            return TR_ECLOSED;
        }
    }
    /* gtid_purged = what the oldest file's PREVIOUS_GTIDS claims. */
    tr_binlog_file_t *files = NULL;
    size_t nf = 0;
    if (tr_store_list_files(srv->store, TR_FLAVOR_MYSQL, &files, &nf) != 0 || nf == 0) {
        tr_free(files);
        tr_gtid_set_cleanup(&set);
        sink_fail(k, "Binary log is not open");
        return TR_ECLOSED;
    }
    tr_gtid_set_t missing;
    tr_gtid_set_init(&missing);
    if (files[0].first_gno > 1) {
        tr_gtid_set_add(&missing, cfg->server_uuid_bin, NULL, 1, files[0].first_gno);
        tr_gtid_set_subtract(&missing, &set);
    }
    if (!tr_gtid_set_is_empty(&missing)) {
        char *a = tr_malloc(4096);
        char *b = tr_malloc(4096);
        (void)tr_gtid_set_format(&set, ",\n", a, 4096);
        (void)tr_gtid_set_format(&missing, ",\n", b, 4096);
        sink_fail(k, MSG_PURGED_REQUIRED, a, b);
        tr_free(a);
        tr_free(b);
        tr_free(files);
        tr_gtid_set_cleanup(&missing);
        tr_gtid_set_cleanup(&set);
        return TR_ECLOSED;
    }
    tr_gtid_set_cleanup(&missing);
    /* Start file: a name in the request is honoured (binlog-connector's
     * useBinlogFilenamePositionInGtidMode); else the newest file whose
     * PREVIOUS_GTIDS {uuid:1..first_gno-1} the replica has. */
    tr_binlog_file_t f = files[0];
    for (size_t i = nf; i-- > 0;) {
        const tr_gtid_sid_t *e = tr_gtid_set_find(&set, cfg->server_uuid_bin, NULL);
        bool covered = files[i].first_gno <= 1 ||
                       (e != NULL && e->n > 0 && e->iv[0].start == 1 &&
                        e->iv[0].end >= files[i].first_gno);
        if (covered) {
            f = files[i];
            break;
        }
    }
    tr_free(files);
    uint64_t start = 4;
    if (file_len > 0 && file[0] != '\0') {
        if (resolve_file(srv, k, file, file_len, pos, &f) != 0) {
            tr_gtid_set_cleanup(&set);
            return TR_ECLOSED;
        }
        start = pos;
    }
    if (require_checksum_aware(k) != 0) {
        tr_gtid_set_cleanup(&set);
        return TR_ECLOSED;
    }
    tr_dump_t *d = dump_new(srv, k, &f, flags, replica_server_id);
    d->mode = MODE_MYSQL_GTID;
    tr_gtid_set_cleanup(&d->exclude);
    d->exclude = set; /* takes the storage */
    char *text = tr_malloc(1024);
    (void)tr_gtid_set_format(&d->exclude, ",", text, 1024);
    dump_log(TR_LOG_INFO, d, "gtid dump requested replica_set='%s' heartbeat_v2=%d", text,
             (int)d->hb_v2);
    tr_free(text);
    return dump_begin(d, start, out);
}

/* tr_dump_gtid_pos_at: counts the GTID events of a walk. */
typedef struct {
    uint8_t type_gtid;
    uint64_t count;
} gtid_count_t;

static void count_gtid(void *arg, const tr_store_event_t *ev)
{
    gtid_count_t *c = arg;
    c->count += ev->h.type == c->type_gtid;
}

int tr_dump_gtid_pos_at(tr_server_t *srv, tr_flavor_t flavor, const char *name, uint64_t pos,
                        char *out, size_t cap)
{
    tr_binlog_file_t f;
    if (tr_store_file_by_name(srv->store, flavor, name, &f) != 0 || pos > f.size) {
        return TR_ENOTFOUND;
    }
    tr_store_reader_t rd;
    int rc = tr_store_reader_open(&rd, srv->store, flavor, &f, TR_BINLOG_MAGIC_LEN);
    if (rc != 0) {
        return rc;
    }
    /* Walk the events from the magic to pos, counting GTID events (every transaction
     * has one, numbered without gaps from the file's first). */
    gtid_count_t c = {flavor == TR_FLAVOR_MARIADB ? TR_EVT_MARIA_GTID : TR_EVT_GTID, 0};
    const char *why = NULL;
    rc = tr_store_reader_walk(&rd, pos < TR_BINLOG_MAGIC_LEN ? TR_BINLOG_MAGIC_LEN : pos,
                              rd_scratch_buf(), count_gtid, &c, &why);
    tr_store_reader_close(&rd);
    if (rc != 0) {
        return rc == TR_ECORRUPT ? TR_EMALFORMED : rc; /* TR_EMALFORMED: not an event boundary */
    }
    uint64_t count = c.count;
    uint64_t gno = f.first_gno - 1 + count;
    const tr_config_t *cfg = srv->cfg;
    if (gno == 0) {
        if (cap > 0) {
            out[0] = '\0';
        }
    } else if (flavor == TR_FLAVOR_MARIADB) {
        tr_maria_gtid_t g = {cfg->gtid_domain_id, cfg->server_id, gno};
        (void)tr_maria_gtid_list_format(&g, 1, out, cap);
    } else {
        char u[37];
        tr_gtid_uuid_format(cfg->server_uuid_bin, u);
        snprintf(out, cap, "%s:1-%llu", u, (unsigned long long)gno);
    }
    return 0;
}

void tr_dump_run(tr_dump_t *d)
{
    pump(d);
}

void tr_dump_notify(tr_dump_t *d)
{
    if (d->closed || !d->waiting) {
        return;
    }
    d->waiting = false;
    pump(d);
}

void tr_dump_proceed(tr_dump_t *d)
{
    d->stalled_since_ms = 0; /* a write completed: the client is reading */
    if (!d->closed && !d->waiting && d->sink.queued(d->sink.ctx) < TR_SRV_WRITE_LOW) {
        pump(d);
    }
}

static void on_timer_closed(uv_handle_t *h)
{
    tr_dump_t *d = h->data;
    void (*done)(void *) = d->done;
    void *arg = d->done_arg;
    tr_store_reader_close(&d->rd);
    tr_gtid_set_cleanup(&d->exclude);
    tr_free(d);
    if (done != NULL) {
        done(arg);
    }
}

void tr_dump_close(tr_dump_t *d, void (*done)(void *arg), void *arg)
{
    if (!d->closed) {
        /* Where the client stopped: a replica resumes from about here. */
        dump_log(TR_LOG_INFO, d, "dump ended mode=%s server_id=%" PRIu32 " events=%" PRIu64,
                 mode_names[d->mode], d->server_id, d->events_sent);
    }
    d->closed = true;
    d->done = done;
    d->done_arg = arg;
    if (!uv_is_closing((uv_handle_t *)&d->timer)) {
        uv_close((uv_handle_t *)&d->timer, on_timer_closed);
    }
}

uint32_t tr_dump_file_seq(const tr_dump_t *d)
{
    return d->rd.file.seq;
}

void tr_dump_stats(const tr_dump_t *d, tr_server_dump_stats_t *out)
{
    out->server_id = d->server_id;
    out->mode = mode_names[d->mode];
    snprintf(out->file, sizeof(out->file), "%s", d->rd.file.name);
    out->file_seq = d->rd.file.seq;
    out->pos = d->rd.pos;
    out->caught_up = d->waiting;
    out->last_event_ts = d->last_event_ts;
}
