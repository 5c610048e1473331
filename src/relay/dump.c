/*
 * Binlog dump streaming (see dump.h). Reads committed bytes of store files
 * with pread in bounded batches, frames each event as one packet
 * "0x00 + event" (split past 16 MiB by protocol/wire) and writes each batch
 * with one uv_write. Never holds more than TR_SRV_WRITE_HIGH queued bytes.
 */
#include "relay/dump.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/endian.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "protocol/binlog_event.h"
#include "protocol/command.h"
#include "protocol/handshake.h"
#include "protocol/result.h"
#include "protocol/wire.h"

#define FD_MAX_LEN       4096 /* sanity bound for a FORMAT_DESCRIPTION event */
#define FD_CREATED_OFF   (TR_EVT_HEADER_LEN + 2 + 50) /* body: version u16, server version[50] */
#define FD_MIN_LEN       (FD_CREATED_OFF + 4 + 1 + 1 + 4)
#define BATCHES_PER_PUMP 4
#define STALL_TICK_MS    1000 /* stall check period of dumps without heartbeats */

struct tr_dump {
    tr_sess_t *sess;
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

    tr_binlog_file_t file;  /* current file (size refreshed at its end) */
    int fd;                 /* -1 when none */
    bool fd_has_crc;        /* checksum algorithm of the FD last sent */
    uint64_t pos;           /* file offset of the next event to send */
    bool after_rotate;      /* the last event sent was the file's real ROTATE */
    bool waiting;           /* caught up: waiting for tr_dump_notify */
    bool pumping;           /* re-entrancy guard */
    tr_buf_t rd;            /* read scratch, reused */
    uint64_t events_sent;
    uint64_t stalled_since_ms; /* uv_now when the queue was first seen above the high mark; 0 = not */
};

#define dump_log(lvl, d, fmt, ...)                                                                 \
    tr_log(lvl, "dump", fmt " sess=%" PRIu32 " peer=%s file=%s pos=%" PRIu64, __VA_ARGS__,        \
           tr_sess_id((d)->sess), tr_sess_peer((d)->sess), (d)->file.name, (d)->pos)

static void fail(tr_dump_t *d, const char *fmt, ...) TR_PRINTF(2, 3);
static void fail(tr_dump_t *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tr_sess_vfail(d->sess, TR_ER_MASTER_FATAL_READ, fmt, ap);
    va_end(ap);
}

/* Reads exactly len bytes at off (fewer only at end of file). Returns the count or -errno. */
static ssize_t read_at(int fd, uint64_t off, uint8_t *dst, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, dst + got, len - got, (off_t)(off + got));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (n == 0) {
            break;
        }
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static int open_current(tr_dump_t *d)
{
    if (d->fd >= 0) {
        (void)close(d->fd);
    }
    d->fd = open(d->file.path, O_RDONLY | O_CLOEXEC);
    return d->fd < 0 ? -errno : 0;
}

static uint8_t *rd_space(tr_dump_t *d, size_t n)
{
    tr_buf_reset(&d->rd);
    return tr_buf_extend(&d->rd, n);
}

/* Appends "0x00 + ev" as one (possibly split) packet. */
static void put_event_packet(tr_dump_t *d, tr_buf_t *out, const uint8_t *ev, size_t len)
{
    size_t h = tr_wire_begin(out);
    tr_buf_put_u8(out, 0x00);
    tr_buf_append(out, ev, len);
    tr_wire_end(out, h, tr_sess_seq(d->sess));
}

static int send_out(tr_dump_t *d, tr_buf_t *out)
{
    if (!tr_buf_ok(out)) {
        return TR_ETOOBIG;
    }
    d->last_send_ms = uv_now(d->srv->loop);
    return tr_sess_send(d->sess, out);
}

/*
 * Starts d->file at start_pos: fake ROTATE (checksummed per the session's
 * variable for the first file, else per the last FD), then the file's FD.
 * For the first file, validates start_pos (> size, not an event boundary).
 * Returns 0 or -1 after failing the session.
 */
static int start_file(tr_dump_t *d, uint64_t start_pos, bool first, tr_buf_t *out)
{
    int rc = open_current(d);
    if (rc != 0) {
        fail(d, "Could not open log file: %s", tr_strerror(rc));
        return -1;
    }
    uint8_t hdr[TR_EVT_HEADER_LEN];
    tr_evt_header_t h;
    const char *why = NULL;
    if (d->file.size < TR_BINLOG_MAGIC_LEN + TR_EVT_HEADER_LEN ||
        read_at(d->fd, TR_BINLOG_MAGIC_LEN, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
        tr_evt_header_decode(hdr, sizeof(hdr), &h, &why) < 0 ||
        h.type != TR_EVT_FORMAT_DESCRIPTION || h.event_size < FD_MIN_LEN ||
        h.event_size > FD_MAX_LEN || TR_BINLOG_MAGIC_LEN + (uint64_t)h.event_size > d->file.size) {
        fail(d, "Could not find format_description_event in binlog file");
        return -1;
    }
    uint8_t *fde = rd_space(d, h.event_size);
    if (read_at(d->fd, TR_BINLOG_MAGIC_LEN, fde, h.event_size) != (ssize_t)h.event_size) {
        fail(d, "Could not find format_description_event in binlog file");
        return -1;
    }
    uint64_t fde_end = TR_BINLOG_MAGIC_LEN + (uint64_t)h.event_size;
    if (first && start_pos > 4) {
        /* Walk event headers from the FD to start_pos: it must be a boundary. */
        uint64_t off = fde_end;
        while (off < start_pos) {
            tr_evt_header_t eh;
            if (read_at(d->fd, off, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
                tr_evt_header_decode(hdr, sizeof(hdr), &eh, &why) < 0) {
                break;
            }
            off += eh.event_size;
        }
        if (off != start_pos) {
            fail(d, "Client requested master to start replication from impossible position");
            return -1;
        }
    }
    bool rotate_crc = first ? d->session_crc : d->fd_has_crc;
    d->fd_has_crc = fde[h.event_size - TR_EVT_CRC_LEN - 1] == 1;

    /* Fake ROTATE: timestamp 0, log_pos 0, ARTIFICIAL, body = start position + name. */
    tr_evt_writer_t w;
    size_t ph = tr_wire_begin(out);
    tr_buf_put_u8(out, 0x00);
    tr_evt_writer_init(&w, out, 0, d->flavor, d->srv->cfg->server_id, rotate_crc);
    tr_evt_put_rotate(&w, start_pos, d->file.name, strlen(d->file.name), true);
    tr_wire_end(out, ph, tr_sess_seq(d->sess));

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
    d->pos = start_pos > 4 ? start_pos : fde_end;
    d->after_rotate = false;
    return 0;
}

/*
 * Appends up to TR_DUMP_BATCH bytes of complete events from d->pos. Returns
 * the bytes of events consumed (0 when caught up) or -1 after failing.
 */
static ssize_t read_batch(tr_dump_t *d, tr_buf_t *out)
{
    if (d->pos >= d->file.size) {
        return 0;
    }
    uint64_t avail = d->file.size - d->pos;
    size_t want = avail < TR_DUMP_BATCH ? (size_t)avail : TR_DUMP_BATCH;
    uint8_t *p = rd_space(d, want);
    ssize_t got = read_at(d->fd, d->pos, p, want);
    if (got != (ssize_t)want) {
        fail(d, "I/O error reading log event: %s", got < 0 ? tr_strerror((int)got) : "short read");
        return -1;
    }
    size_t off = 0;
    while (want - off >= TR_EVT_HEADER_LEN) {
        tr_evt_header_t h;
        const char *why = NULL;
        if (tr_evt_header_decode(p + off, want - off, &h, &why) < 0 ||
            h.event_size > TR_SRV_MAX_EVENT) {
            fail(d, "bogus data in log event");
            return -1;
        }
        if (h.event_size > want - off) {
            if (off > 0) {
                break; /* next batch starts with this event */
            }
            /* One event larger than the batch: read it whole. */
            if (h.event_size > avail) {
                fail(d, "binlog truncated in the middle of event; consider out of disk space on "
                        "master");
                return -1;
            }
            p = rd_space(d, h.event_size);
            got = read_at(d->fd, d->pos, p, h.event_size);
            if (got != (ssize_t)h.event_size) {
                fail(d, "I/O error reading log event: %s", "short read");
                return -1;
            }
            want = h.event_size;
        }
        put_event_packet(d, out, p + off, h.event_size);
        d->after_rotate = h.type == TR_EVT_ROTATE && !(h.flags & TR_EVF_ARTIFICIAL);
        d->events_sent++;
        off += h.event_size;
    }
    if (off == 0) {
        /* Fewer than 19 bytes left below the committed end. */
        fail(d, "binlog truncated in the middle of event; consider out of disk space on master");
        return -1;
    }
    d->pos += off;
    return (ssize_t)off;
}

/* At the end of the readable bytes: next file, more bytes, EOF or wait.
 * Returns 1 to keep pumping, 0 when done/waiting, -1 after failing. */
static int at_end(tr_dump_t *d, tr_buf_t *out)
{
    tr_store_t *store = d->srv->store;
    if (d->after_rotate) {
        tr_binlog_file_t next;
        int rc = tr_store_file_next(store, d->flavor, d->file.seq, &next);
        if (rc == 0) {
            dump_log(TR_LOG_DEBUG, d, "switching to next file next=%s", next.name);
            d->file = next;
            return start_file(d, 4, false, out) == 0 ? 1 : -1;
        }
        if (rc != TR_ENOTFOUND) {
            fail(d, "could not find next log: %s", tr_strerror(rc));
            return -1;
        }
    } else {
        tr_binlog_file_t cur;
        int rc = tr_store_file_by_name(store, d->flavor, d->file.name, &cur);
        if (rc != 0) {
            fail(d, "could not find log file: %s", tr_strerror(rc));
            return -1;
        }
        if (cur.size > d->file.size) {
            d->file = cur;
            return 1;
        }
        d->file = cur;
    }
    if (!d->blocking) {
        size_t h = tr_wire_begin(out);
        tr_res_put_eof(out, 0, TR_SERVER_STATUS_AUTOCOMMIT);
        tr_wire_end(out, h, tr_sess_seq(d->sess));
        if (send_out(d, out) == 0) {
            dump_log(TR_LOG_INFO, d, "non-blocking dump complete events=%" PRIu64, d->events_sent);
        }
        tr_sess_finish(d->sess);
        return 0;
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
    tr_buf_t out;
    tr_buf_init(&out, 0);
    int writes = 0;
    /* Every exit either has a write in flight (tr_dump_drain continues), is
     * waiting for tr_dump_notify, or the dump is closed. */
    while (!d->closed && writes < BATCHES_PER_PUMP &&
           tr_sess_queued_bytes(d->sess) <= TR_SRV_WRITE_HIGH) {
        ssize_t n = read_batch(d, &out);
        if (n < 0 || d->closed) {
            break;
        }
        if (n == 0) {
            int r = at_end(d, &out);
            if (r <= 0 || d->closed) {
                break;
            }
        }
        if (tr_buf_unread(&out) >= TR_DUMP_BATCH) {
            if (send_out(d, &out) != 0) {
                tr_sess_close(d->sess);
                break;
            }
            writes++;
        }
    }
    if (!d->closed && tr_buf_unread(&out) > 0 && send_out(d, &out) != 0) {
        tr_sess_close(d->sess);
    }
    tr_buf_cleanup(&out);
    d->pumping = false;
}

/*
 * Hard limit for a client that stopped reading: pump() never queues past
 * TR_SRV_WRITE_HIGH (plus one pump's batches), so memory is bounded, but a
 * dump whose queue stays above that mark for dump_stall_timeout_ms has read
 * nothing meanwhile and is closed. Checked on every timer tick (the heartbeat
 * period, or STALL_TICK_MS without heartbeats). Returns true when it closed.
 */
static bool check_stall(tr_dump_t *d, uint64_t now)
{
    size_t queued = tr_sess_queued_bytes(d->sess);
    if (queued <= TR_SRV_WRITE_HIGH) {
        d->stalled_since_ms = 0;
        return false;
    }
    if (d->stalled_since_ms == 0) {
        d->stalled_since_ms = now;
        return false;
    }
    if (now - d->stalled_since_ms < d->srv->cfg->dump_stall_timeout_ms) {
        return false;
    }
    dump_log(TR_LOG_WARN, d, "dump stalled: client read nothing, closing queued_bytes=%zu stalled_ms=%" PRIu64,
             queued, now - d->stalled_since_ms);
    tr_sess_close(d->sess);
    return true;
}

static void on_timer(uv_timer_t *t)
{
    tr_dump_t *d = t->data;
    if (d->closed) {
        return;
    }
    uint64_t now = uv_now(d->srv->loop);
    if (check_stall(d, now) || d->hb_period_ms == 0 || !d->waiting) {
        return;
    }
    if (now - d->last_send_ms + 5 < d->hb_period_ms) {
        return;
    }
    /* Idle: a HEARTBEAT at the end of what was sent in the current file. */
    tr_buf_t out;
    tr_buf_init(&out, 0);
    size_t ph = tr_wire_begin(&out);
    tr_buf_put_u8(&out, 0x00);
    tr_evt_writer_t w;
    tr_evt_writer_init(&w, &out, 0, d->flavor, d->srv->cfg->server_id, d->fd_has_crc);
    tr_evt_put_heartbeat(&w, (uint32_t)d->pos, d->file.name, strlen(d->file.name));
    tr_wire_end(&out, ph, tr_sess_seq(d->sess));
    if (send_out(d, &out) != 0) {
        tr_sess_close(d->sess);
    }
    tr_buf_cleanup(&out);
}

static bool is_crc32(const char *v)
{
    return v != NULL && strcasecmp(v, "CRC32") == 0;
}

static uint64_t heartbeat_ms(tr_sess_t *s, const tr_config_t *cfg)
{
    const char *v = tr_sess_uvar(s, "source_heartbeat_period");
    if (v == NULL) {
        v = tr_sess_uvar(s, "master_heartbeat_period");
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

tr_dump_t *tr_dump_start(tr_sess_t *s, uint64_t pos, uint16_t flags, uint32_t replica_server_id,
                         const char *file, size_t file_len)
{
    tr_server_t *srv = tr_sess_server(s);
    tr_flavor_t flavor = tr_sess_flavor(s);
    tr_binlog_file_t f;
    int rc;
    if (file_len == 0) {
        rc = tr_store_file_first(srv->store, flavor, &f);
    } else {
        char name[sizeof(f.name)];
        if (file_len >= sizeof(name)) {
            rc = TR_ENOTFOUND;
        } else {
            memcpy(name, file, file_len);
            name[file_len] = '\0';
            rc = tr_store_file_by_name(srv->store, flavor, name, &f);
        }
    }
    if (rc != 0) {
        tr_sess_fail(s, TR_ER_MASTER_FATAL_READ,
                     "Could not find first log file name in binary log index file");
        return NULL;
    }
    if (pos < 4) {
        tr_sess_fail(s, TR_ER_MASTER_FATAL_READ,
                     "Client requested master to start replication from position < 4");
        return NULL;
    }
    if (pos > f.size) {
        tr_sess_fail(s, TR_ER_MASTER_FATAL_READ,
                     "Client requested master to start replication from position > file size");
        return NULL;
    }
    tr_dump_t *d = tr_calloc(1, sizeof(*d));
    d->sess = s;
    d->srv = srv;
    d->flavor = flavor;
    d->fd = -1;
    d->file = f;
    d->blocking = !(flags & TR_DUMP_NON_BLOCK) && replica_server_id != 0;
    d->session_crc = is_crc32(tr_sess_uvar(s, "source_binlog_checksum")) ||
                     is_crc32(tr_sess_uvar(s, "master_binlog_checksum"));
    d->hb_period_ms = d->blocking ? heartbeat_ms(s, srv->cfg) : 0;
    tr_buf_init(&d->rd, 0);
    rc = uv_timer_init(srv->loop, &d->timer);
    TR_ASSERT(rc == 0); /* uv_timer_init cannot fail on a live loop */
    d->timer.data = d;
    dump_log(TR_LOG_INFO, d, "dump started blocking=%d checksum=%s heartbeat_ms=%" PRIu64,
             (int)d->blocking, d->session_crc ? "CRC32" : "NONE", d->hb_period_ms);

    tr_buf_t out;
    tr_buf_init(&out, 0);
    if (start_file(d, pos, true, &out) != 0) {
        /* The session was failed: it will close d through tr_dump_close... but it
         * does not know d yet, so release it here. */
        tr_buf_cleanup(&out);
        d->closed = true;
        tr_dump_close(d, NULL, NULL);
        return NULL;
    }
    if (send_out(d, &out) != 0) {
        tr_buf_cleanup(&out);
        tr_dump_close(d, NULL, NULL);
        tr_sess_close(s);
        return NULL;
    }
    tr_buf_cleanup(&out);
    /* The timer sends heartbeats and watches for stalled clients (check_stall). */
    uint64_t tick = d->hb_period_ms > 0 ? d->hb_period_ms : STALL_TICK_MS;
    rc = uv_timer_start(&d->timer, on_timer, tick, tick);
    TR_ASSERT(rc == 0);
    return d;
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

void tr_dump_drain(tr_dump_t *d)
{
    if (!d->closed && !d->waiting && tr_sess_queued_bytes(d->sess) < TR_SRV_WRITE_LOW) {
        pump(d);
    }
}

static void on_timer_closed(uv_handle_t *h)
{
    tr_dump_t *d = h->data;
    void (*done)(void *) = d->done;
    void *arg = d->done_arg;
    if (d->fd >= 0) {
        (void)close(d->fd);
    }
    tr_buf_cleanup(&d->rd);
    tr_free(d);
    if (done != NULL) {
        done(arg);
    }
}

void tr_dump_close(tr_dump_t *d, void (*done)(void *arg), void *arg)
{
    d->closed = true;
    d->done = done;
    d->done_arg = arg;
    if (!uv_is_closing((uv_handle_t *)&d->timer)) {
        uv_close((uv_handle_t *)&d->timer, on_timer_closed);
    }
}

uint32_t tr_dump_file_seq(const tr_dump_t *d)
{
    return d->file.seq;
}
