/* Cursor over committed binlog events (store/reader.h). */
#include "store/reader.h"

#include <fcntl.h>
#include <string.h>

#include "common/err.h"

/* Bytes read per batch when recovery checks a file, and when a cursor walks to a position. */
#define VERIFY_BATCH (256u * 1024)
#define WALK_BATCH   (256u * 1024)

int tr_store_reader_open(tr_store_reader_t *r, tr_store_t *s, tr_flavor_t f,
                         const tr_binlog_file_t *file, uint64_t pos)
{
    memset(r, 0, sizeof(*r));
    r->fd = -1;
    r->store = s;
    r->io = tr_store_io(s);
    r->flavor = f;
    r->file = *file;
    r->pos = pos;
    int fd = r->io->open(file->path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    r->fd = fd;
    r->owns_fd = true;
    return 0;
}

void tr_store_reader_attach(tr_store_reader_t *r, const tr_store_io_t *io, int fd, uint64_t pos,
                            uint64_t end)
{
    memset(r, 0, sizeof(*r));
    r->io = io != NULL ? io : tr_store_io_default();
    r->fd = fd;
    r->pos = pos;
    r->file.size = end;
}

void tr_store_reader_close(tr_store_reader_t *r)
{
    if (r->fd >= 0 && r->owns_fd) {
        tr_bfile_close(r->io, r->fd);
    }
    r->fd = -1;
    r->owns_fd = false;
}

/* Decodes the header at p (n bytes available) of the event at file offset pos, checking
 * what a reader relies on. 0, or TR_ECORRUPT with *why. */
static int check_header(const tr_store_reader_t *r, const uint8_t *p, size_t n, uint64_t pos,
                        tr_evt_header_t *h, const char **why)
{
    const char *hwhy = NULL;
    if (tr_evt_header_decode(p, n, h, &hwhy) < 0) {
        *why = "bogus data in log event";
        return TR_ECORRUPT;
    }
    if (h->event_size > TR_STORE_MAX_EVENT) {
        *why = "log event entry exceeded max_allowed_packet";
        return TR_ECORRUPT;
    }
    if (pos + h->event_size > r->file.size) {
        *why = "binlog truncated in the middle of event; consider out of disk space on master";
        return TR_ECORRUPT;
    }
    return 0;
}

int64_t tr_store_reader_read(tr_store_reader_t *r, tr_buf_t *batch, size_t max,
                             const char **why)
{
    tr_buf_reset(batch);
    if (r->pos >= r->file.size) {
        return 0;
    }
    uint64_t avail = r->file.size - r->pos;
    if (avail < TR_EVT_HEADER_LEN) {
        *why = "binlog truncated in the middle of event; consider out of disk space on master";
        return TR_ECORRUPT;
    }
    size_t want = avail < max ? (size_t)avail : max;
    if (want < TR_EVT_HEADER_LEN) {
        want = TR_EVT_HEADER_LEN;
    }
    uint8_t *p = tr_buf_extend(batch, want);
    if (p == NULL) {
        return TR_ETOOBIG; /* the batch buffer's limit */
    }
    int rc = tr_bfile_pread(r->io, r->fd, p, want, r->pos);
    if (rc != 0) {
        tr_buf_reset(batch);
        if (rc == TR_EINCOMPLETE) {
            *why = "binlog truncated in the middle of event; consider out of disk space on master";
            return TR_ECORRUPT;
        }
        return rc;
    }
    /* Whole events only: walk the headers, keep what ends inside the batch. */
    size_t off = 0;
    while (want - off >= TR_EVT_HEADER_LEN) {
        tr_evt_header_t h;
        rc = check_header(r, p + off, want - off, r->pos + off, &h, why);
        if (rc != 0) {
            if (off > 0) {
                break; /* the events before it first; the next read reports it */
            }
            tr_buf_reset(batch);
            return rc;
        }
        if (h.event_size > want - off) {
            if (off > 0) {
                break; /* the next batch starts with it */
            }
            /* One event larger than max: read it whole. */
            tr_buf_reset(batch);
            p = tr_buf_extend(batch, h.event_size);
            if (p == NULL) {
                return TR_ETOOBIG; /* the batch buffer's limit */
            }
            rc = tr_bfile_pread(r->io, r->fd, p, h.event_size, r->pos);
            if (rc != 0) {
                tr_buf_reset(batch);
                return rc == TR_EINCOMPLETE ? TR_ECORRUPT : rc;
            }
            want = h.event_size;
        }
        off += h.event_size;
    }
    if (off == 0) {
        tr_buf_reset(batch);
        *why = "binlog truncated in the middle of event; consider out of disk space on master";
        return TR_ECORRUPT;
    }
    batch->len = batch->off + off;
    r->pos += off;
    return (int64_t)off;
}

bool tr_store_batch_next(tr_buf_t *batch, uint64_t start_pos, size_t *off, tr_store_event_t *ev)
{
    size_t n = tr_buf_unread(batch);
    if (*off + TR_EVT_HEADER_LEN > n) {
        return false;
    }
    uint8_t *p = batch->data + batch->off + *off;
    const char *why = NULL;
    if (tr_evt_header_decode(p, n - *off, &ev->h, &why) < 0 || ev->h.event_size > n - *off) {
        return false; /* tr_store_reader_read checked every header: not reached */
    }
    ev->p = p;
    ev->len = ev->h.event_size;
    *off += ev->len;
    ev->end_pos = start_pos + *off;
    return true;
}

int tr_store_reader_walk(tr_store_reader_t *r, uint64_t pos, tr_buf_t *scratch,
                         void (*fn)(void *arg, const tr_store_event_t *ev), void *arg,
                         const char **why)
{
    while (r->pos < pos) {
        uint64_t start = r->pos;
        /* Never read past pos: a batch ends at the last event boundary at or before it,
         * or holds the one event that spans it. */
        uint64_t left = pos - start;
        int64_t n = tr_store_reader_read(r, scratch, left < WALK_BATCH ? (size_t)left : WALK_BATCH,
                                         why);
        if (n < 0) {
            return (int)n;
        }
        if (n == 0) {
            return TR_EMALFORMED; /* pos is past the readable end */
        }
        size_t off = 0;
        tr_store_event_t ev;
        while (tr_store_batch_next(scratch, start, &off, &ev)) {
            if (fn != NULL) {
                fn(arg, &ev);
            }
        }
    }
    return r->pos == pos ? 0 : TR_EMALFORMED;
}

int tr_store_reader_event_at(tr_store_reader_t *r, uint64_t pos, tr_buf_t *out, const char **why)
{
    tr_buf_reset(out);
    if (pos + TR_EVT_HEADER_LEN > r->file.size) {
        return TR_EINCOMPLETE;
    }
    uint8_t hdr[TR_EVT_HEADER_LEN];
    int rc = tr_bfile_pread(r->io, r->fd, hdr, sizeof(hdr), pos);
    if (rc != 0) {
        return rc;
    }
    tr_evt_header_t h;
    rc = check_header(r, hdr, sizeof(hdr), pos, &h, why);
    if (rc != 0) {
        return rc;
    }
    uint8_t *p = tr_buf_extend(out, h.event_size);
    if (p == NULL) {
        return TR_ETOOBIG; /* the batch buffer's limit */
    }
    rc = tr_bfile_pread(r->io, r->fd, p, h.event_size, pos);
    if (rc != 0) {
        tr_buf_reset(out);
        return rc == TR_EINCOMPLETE ? TR_ECORRUPT : rc;
    }
    return 0;
}

int tr_store_reader_refresh(tr_store_reader_t *r)
{
    if (r->store == NULL) {
        return 0;
    }
    tr_binlog_file_t cur;
    int rc = tr_store_file_by_name(r->store, r->flavor, r->file.name, &cur);
    if (rc != 0) {
        return rc;
    }
    bool more = cur.size > r->file.size;
    r->file = cur;
    return more ? 1 : 0;
}

int tr_store_reader_next_file(tr_store_reader_t *r)
{
    if (r->store == NULL) {
        return TR_ENOTFOUND;
    }
    tr_binlog_file_t next;
    int rc = tr_store_file_next(r->store, r->flavor, r->file.seq, &next);
    if (rc != 0) {
        return rc;
    }
    tr_store_reader_t n;
    rc = tr_store_reader_open(&n, r->store, r->flavor, &next, TR_BINLOG_MAGIC_LEN);
    if (rc != 0) {
        return rc;
    }
    tr_store_reader_close(r);
    *r = n;
    return 0;
}

int tr_store_reader_verify(const tr_store_io_t *io, int fd, uint64_t end, uint64_t *good_end,
                    const char **why)
{
    *good_end = 0;
    uint8_t magic[TR_BINLOG_MAGIC_LEN];
    int r = tr_bfile_pread(io, fd, magic, sizeof(magic), 0);
    if (r == TR_EINCOMPLETE || (r == 0 && memcmp(magic, tr_binlog_magic, sizeof(magic)) != 0)) {
        *why = "missing binlog magic";
        return TR_ECORRUPT;
    }
    if (r < 0) {
        return r;
    }
    *good_end = TR_BINLOG_MAGIC_LEN;
    tr_store_reader_t rd;
    tr_store_reader_attach(&rd, io, fd, TR_BINLOG_MAGIC_LEN, end);
    tr_buf_t batch;
    tr_buf_init(&batch, 0);
    int rc = 0;
    for (;;) {
        uint64_t start = rd.pos;
        int64_t n = tr_store_reader_read(&rd, &batch, VERIFY_BATCH, why);
        if (n <= 0) {
            rc = n == TR_EINCOMPLETE ? TR_ECORRUPT : (int)n;
            break;
        }
        size_t off = 0;
        tr_store_event_t ev;
        while (tr_store_batch_next(&batch, start, &off, &ev)) {
            if (ev.len < TR_EVT_HEADER_LEN + TR_EVT_CRC_LEN || tr_evt_check_crc(ev.p, ev.len) != 0) {
                *why = ev.len < TR_EVT_HEADER_LEN + TR_EVT_CRC_LEN ? "event size does not fit"
                                                                  : "event CRC32 mismatch";
                rc = TR_ECORRUPT;
                break;
            }
            *good_end = ev.end_pos;
        }
        if (rc != 0) {
            break;
        }
    }
    tr_buf_cleanup(&batch);
    tr_store_reader_close(&rd);
    return rc;
}
