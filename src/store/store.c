/*
 * The store (see store.h): binlog files of every enabled flavour plus the
 * sqlite index, written by one writer thread and read as snapshots by any
 * thread.
 *
 * Writer: tr_store_txn_append buffers bytes per flavour; tr_store_commit
 * writes them with one pwrite per flavour, fdatasyncs each touched file
 * (TR_SYNC_COMMIT), rotates files past max_binlog_size (ROTATE appended to
 * the old file, the next file created with its header events), then commits
 * one sqlite transaction holding every transaction row and file change, and
 * only then publishes the new readable ends under the mutex and calls notify.
 * The index runs with synchronous=FULL under TR_SYNC_COMMIT (OFF under
 * TR_SYNC_NONE): after a power loss the index never claims bytes the files
 * lost. Durability order: file bytes, fsync, index commit (spec: DESIGN.md).
 *
 * Recovery at open: every file the index lists must exist; the active file
 * is checked event by event (sizes and CRC32) up to the end of its last
 * indexed transaction (or of its header events) and cut back there; files
 * newer than the index knows are deleted. This module logs those decisions;
 * binlog_file.c and index.c never log.
 *
 * File bytes are deterministic: FORMAT_DESCRIPTION has created = 0; header
 * events of a new file and the ROTATE closing the old one carry the timestamp
 * of the last transaction before them (opts->first_timestamp for the first file).
 */
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "store/binlog_file.h"
#include "store/index.h"
#include "store/reader.h"

#define COMP "store"
/* Pending bytes of one flavour are written early past this size (memory bound). */
#define FLUSH_BYTES (8u << 20)

typedef struct {
    bool enabled;
    char dir[512];      /* <dir>/binlog/<flavour> */
    int fd;             /* active file, -1 if none */
    uint32_t seq;       /* active file number */
    char name[96];      /* active file base name */
    uint64_t first_gno; /* GTID number of the active file's first transaction */
    uint64_t committed; /* readable end of the active file */
    uint64_t written;   /* bytes on disk; file offset of pending.data[0] */
    tr_buf_t pending;   /* appended, not yet written */
    /* Published file list (guarded by the store mutex). */
    tr_binlog_file_t *files;
    size_t nfiles;
    size_t cap;
} flavor_t;

struct schema_job {
    int64_t job_id;
    int64_t schema_version;
    char *json;
    size_t len;
};

struct tr_store {
    const tr_store_io_t *io; /* file-system calls (tests inject faults) */
    int fatal;               /* sticky error after a failed fsync: nothing more is written */
    bool full;               /* the last write hit ENOSPC/EDQUOT (pending bytes kept) */
    char *dir;
    char *basename;
    char *version[TR_FLAVOR_COUNT];
    uint64_t max_binlog_size;
    tr_sync_mode_t sync;
    uint32_t server_id;
    uint8_t server_uuid[16];
    uint32_t gtid_domain_id;
    uint64_t gtid_start;
    uint32_t first_timestamp;     /* opts->first_timestamp, never 0 */

    tr_index_t *idx;
    flavor_t fl[TR_FLAVOR_COUNT];
    pthread_mutex_t mu;
    pthread_mutex_t index_file_mu; /* serialises <basename>.index rewrites (writer, purge) */
    tr_store_checkpoint_t last;   /* last committed txn (mutex for readers) */
    uint32_t last_timestamp;      /* its header timestamp */
    tr_index_txn_t *pend;         /* ended, uncommitted */
    size_t npend;
    size_t cap_pend;
    uint64_t last_pending_gtid;   /* gtid of the newest ended txn (0 = none) */
    struct schema_job *sjobs;     /* DDL jobs learnt, stored with the next group commit */
    char *position;               /* upstream position, stored with the next group commit */
    size_t nsjobs;
    tr_store_notify_cb notify;
    void *notify_arg;
    tr_catalog_t *catalog;         /* the schema as of the last committed transaction (mu) */
    tr_catalog_t *catalog_pending; /* the writer's next one, published at its commit */
    char msg[1400];
    /* Operators' lookups: their own connection, opened on first use. */
    pthread_mutex_t lookup_mu;
    tr_index_t *lookup_idx;
    char lookup_msg[600];
    /* Statistics (tr_store_stats): written by the writer, read by any thread. */
    _Atomic uint64_t st_txns;
    _Atomic uint64_t st_commits;
    _Atomic uint64_t st_bytes[TR_FLAVOR_COUNT];
    tr_hist_t st_fsync;
    tr_hist_t st_commit;
};

/* fdatasync of a binlog file, timed for the fsync latency histogram. */
static int timed_sync(tr_store_t *s, int fd)
{
    uint64_t t0 = tr_clock_mono_ns();
    int r = tr_bfile_sync(s->io, fd);
    tr_hist_observe_ns(&s->st_fsync, tr_clock_mono_ns() - t0);
    return r;
}

/* ------------------------------------------------------------ helpers */

static int make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        return -errno;
    }
    return 0;
}

static void file_name(const tr_store_t *s, uint32_t seq, char *out, size_t len)
{
    snprintf(out, len, "%s.%06u", s->basename, seq);
}

static void file_path(const tr_store_t *s, tr_flavor_t f, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", s->fl[f].dir, name);
}

static const char *const default_version[TR_FLAVOR_COUNT] = {
    "8.0.36-tirelay",
    "10.11.99-MariaDB-tirelay-log",
};

/* Writes <basename>.index (one "./name" per line) atomically: a temporary file,
 * written, synced (TR_SYNC_COMMIT), then renamed over the old one. */
static int write_index_file(tr_store_t *s, tr_flavor_t f)
{
    flavor_t *fl = &s->fl[f];
    char path[700];
    char tmp[720];
    snprintf(path, sizeof(path), "%s/%s.index", fl->dir, s->basename);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    tr_buf_t text;
    tr_buf_init(&text, 0);
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < fl->nfiles; i++) {
        tr_buf_printf(&text, "./%s\n", fl->files[i].name);
    }
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_lock(&s->index_file_mu);
    int fd = s->io->open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int r = fd < 0 ? -errno : 0;
    if (r == 0) {
        r = tr_bfile_pwrite(s->io, fd, text.data, text.len, 0);
    }
    if (r == 0 && s->sync == TR_SYNC_COMMIT) {
        r = tr_bfile_sync(s->io, fd);
    }
    if (fd >= 0 && s->io->close(fd) != 0 && r == 0) {
        r = -errno;
    }
    if (r == 0 && s->io->rename(tmp, path) != 0) {
        r = -errno;
    }
    if (r != 0 && fd >= 0) {
        (void)s->io->unlink(tmp);
    }
    pthread_mutex_unlock(&s->index_file_mu);
    tr_buf_cleanup(&text);
    return r;
}

/* Appends a published entry (caller holds the mutex or is single-threaded). */
static tr_binlog_file_t *push_file(tr_store_t *s, tr_flavor_t f, uint32_t seq, const char *name,
                                   uint64_t size, bool active, uint64_t first_gno)
{
    flavor_t *fl = &s->fl[f];
    if (fl->nfiles == fl->cap) {
        fl->cap = fl->cap ? fl->cap * 2 : 16;
        fl->files = tr_realloc(fl->files, fl->cap * sizeof(*fl->files));
    }
    tr_binlog_file_t *e = &fl->files[fl->nfiles++];
    memset(e, 0, sizeof(*e));
    e->seq = seq;
    snprintf(e->name, sizeof(e->name), "%s", name);
    file_path(s, f, name, e->path, sizeof(e->path));
    e->size = size;
    e->is_active = active;
    e->first_gno = first_gno;
    return e;
}

/*
 * Builds the header events of a new file of flavour f: magic, FORMAT_DESCRIPTION,
 * then PREVIOUS_GTIDS { uuid : 1 .. next_gno-1 } (MySQL) or GTID_LIST
 * { domain-server-(next_gno-1) } + BINLOG_CHECKPOINT (MariaDB).
 */
static void build_header(const tr_store_t *s, tr_flavor_t f, const char *name, uint32_t timestamp,
                         uint64_t next_gno, tr_buf_t *out)
{
    tr_buf_append(out, tr_binlog_magic, TR_BINLOG_MAGIC_LEN);
    tr_evt_writer_t w;
    tr_evt_writer_init(&w, out, TR_BINLOG_MAGIC_LEN, f, s->server_id, true);
    w.timestamp = timestamp;
    tr_evt_put_fde(&w, s->version[f], 0);
    if (f == TR_FLAVOR_MYSQL) {
        tr_gno_interval_t iv = {1, next_gno};
        tr_evt_put_previous_gtids(&w, s->server_uuid, &iv, next_gno > 1 ? 1 : 0);
    } else {
        tr_maria_gtid_t g = {s->gtid_domain_id, s->server_id, next_gno - 1};
        tr_evt_put_maria_gtid_list(&w, &g, next_gno > 1 ? 1 : 0);
        tr_evt_put_maria_checkpoint(&w, name, strlen(name));
    }
}

/* fdatasync of a binlog file. A failure is fatal for the store (see tr_store_commit):
 * recorded in s->fatal and logged here, once. */
static int sync_file(tr_store_t *s, int fd, const char *name)
{
    int r = timed_sync(s, fd);
    if (r != 0 && s->fatal == 0) {
        s->fatal = r;
        tr_log_error(COMP, "fsync failed, the store stops writing: a failed fsync is never "
                           "retried (the kernel may have dropped the unwritten pages); restart "
                           "tirelay to recover from the last commit file=%s err=%s",
                     name, tr_strerror(r));
    }
    return r;
}

/* Creates file seq of flavour f on disk with its header; returns fd and header end. */
static int create_file(tr_store_t *s, tr_flavor_t f, uint32_t seq, uint32_t timestamp,
                       uint64_t next_gno, int *fd_out, uint64_t *header_end)
{
    char name[96];
    char path[700];
    file_name(s, seq, name, sizeof(name));
    file_path(s, f, name, path, sizeof(path));
    tr_buf_t hdr;
    tr_buf_init(&hdr, 0);
    build_header(s, f, name, timestamp, next_gno, &hdr);
    int fd = -1;
    int r = tr_bfile_open(s->io, path, true, &fd);
    if (r == 0) {
        r = tr_bfile_pwrite(s->io, fd, hdr.data, hdr.len, 0);
    }
    if (r == 0 && s->sync == TR_SYNC_COMMIT) {
        r = sync_file(s, fd, name);
        if (r == 0) {
            r = tr_bfile_sync_dir(s->io, s->fl[f].dir);
        }
    }
    if (r != 0) {
        snprintf(s->msg, sizeof(s->msg), "cannot create binlog file %s: %s", path,
                 tr_strerror(r));
        if (fd >= 0) {
            tr_bfile_close(s->io, fd);
            (void)s->io->unlink(path);
        }
        tr_buf_cleanup(&hdr);
        return r;
    }
    *fd_out = fd;
    *header_end = hdr.len;
    tr_buf_cleanup(&hdr);
    return 0;
}

/* Next GTID number after the last committed one. */
static uint64_t next_gno_after(const tr_store_t *s, const tr_store_checkpoint_t *cp)
{
    return cp->has_txn ? cp->gtid_no + 1 : (s->gtid_start > 0 ? s->gtid_start : 1);
}

/* Parses "<basename>.<digits>" into seq; false if the name is something else. */
static bool parse_seq(const tr_store_t *s, const char *name, uint32_t *seq)
{
    size_t bl = strlen(s->basename);
    if (strncmp(name, s->basename, bl) != 0 || name[bl] != '.') {
        return false;
    }
    const char *d = name + bl + 1;
    size_t n = strlen(d);
    if (n < 6 || n > 9) {
        return false;
    }
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (d[i] < '0' || d[i] > '9') {
            return false;
        }
        v = v * 10 + (uint32_t)(d[i] - '0');
    }
    *seq = v;
    return true;
}

/* Deletes files of flavour f numbered above max_seq (not in the index). */
static int remove_unknown_files(tr_store_t *s, tr_flavor_t f, uint32_t max_seq)
{
    DIR *d = opendir(s->fl[f].dir);
    if (d == NULL) {
        return -errno;
    }
    struct dirent *de;
    bool removed = false;
    while ((de = readdir(d)) != NULL) {
        uint32_t seq;
        if (!parse_seq(s, de->d_name, &seq) || seq <= max_seq) {
            continue;
        }
        char path[800];
        snprintf(path, sizeof(path), "%s/%s", s->fl[f].dir, de->d_name);
        tr_log_info(COMP, "recovery: removing binlog file the index does not know file=%s",
                    path);
        if (s->io->unlink(path) != 0) {
            int r = -errno;
            (void)closedir(d);
            return r;
        }
        removed = true;
    }
    (void)closedir(d);
    if (removed && s->sync == TR_SYNC_COMMIT) {
        return tr_bfile_sync_dir(s->io, s->fl[f].dir);
    }
    return 0;
}

/* ------------------------------------------------------------ open / recover */

static int fresh_flavor(tr_store_t *s, tr_flavor_t f, const char **why)
{
    flavor_t *fl = &s->fl[f];
    int fd;
    uint64_t hend;
    int r = create_file(s, f, 1, s->last.has_txn ? s->last_timestamp : s->first_timestamp,
                        next_gno_after(s, &s->last), &fd, &hend);
    if (r != 0) {
        *why = s->msg;
        return r;
    }
    tr_index_file_t ent;
    memset(&ent, 0, sizeof(ent));
    ent.seq = 1;
    file_name(s, 1, ent.name, sizeof(ent.name));
    ent.header_end = hend;
    const char *iwhy = NULL;
    r = tr_index_begin(s->idx, &iwhy);
    if (r == 0) {
        r = tr_index_put_file(s->idx, f, &ent, &iwhy);
    }
    if (r == 0) {
        r = tr_index_commit(s->idx, &iwhy);
    }
    if (r != 0) {
        tr_index_rollback(s->idx);
        snprintf(s->msg, sizeof(s->msg), "%s", iwhy ? iwhy : "index error");
        *why = s->msg;
        tr_bfile_close(s->io, fd);
        return r;
    }
    fl->fd = fd;
    fl->seq = 1;
    fl->first_gno = next_gno_after(s, &s->last);
    snprintf(fl->name, sizeof(fl->name), "%s", ent.name);
    fl->committed = fl->written = hend;
    push_file(s, f, 1, ent.name, hend, true, fl->first_gno);
    tr_log_info(COMP, "created first binlog file flavor=%s file=%s", tr_flavor_name(f), fl->name);
    return 0;
}

static int recover_flavor(tr_store_t *s, tr_flavor_t f, const char **why)
{
    flavor_t *fl = &s->fl[f];
    tr_index_file_t *files = NULL;
    size_t n = 0;
    int r = tr_index_files(s->idx, f, &files, &n, why);
    if (r != 0) {
        return r;
    }
    r = remove_unknown_files(s, f, n > 0 ? files[n - 1].seq : 0);
    if (r != 0) {
        snprintf(s->msg, sizeof(s->msg), "cannot clean %s: %s", fl->dir, tr_strerror(r));
        *why = s->msg;
        tr_free(files);
        return r;
    }
    if (n == 0) {
        tr_free(files);
        return fresh_flavor(s, f, why);
    }
    for (size_t i = 0; i < n; i++) {
        char path[700];
        struct stat st;
        file_path(s, f, files[i].name, path, sizeof(path));
        if (stat(path, &st) != 0) {
            snprintf(s->msg, sizeof(s->msg),
                     "binlog file %s is listed in the index but missing (%s)", path,
                     strerror(errno));
            *why = s->msg;
            tr_free(files);
            return TR_ECORRUPT;
        }
        if (files[i].is_closed && (uint64_t)st.st_size < files[i].size) {
            snprintf(s->msg, sizeof(s->msg),
                     "binlog file %s is shorter (%lld) than the index says (%llu)", path,
                     (long long)st.st_size, (unsigned long long)files[i].size);
            *why = s->msg;
            tr_free(files);
            return TR_ECORRUPT;
        }
    }
    tr_index_file_t *act = &files[n - 1];
    uint64_t end = act->header_end;
    tr_index_txn_t t;
    const char *iwhy = NULL;
    r = tr_index_last_txn_in_file(s->idx, f, act->seq, &t, &iwhy);
    if (r == 0) {
        end = t.end[f];
    } else if (r != TR_ENOTFOUND) {
        *why = iwhy;
        tr_free(files);
        return r;
    }
    char path[700];
    file_path(s, f, act->name, path, sizeof(path));
    int fd;
    r = tr_bfile_open(s->io, path, false, &fd);
    uint64_t size = 0;
    if (r == 0) {
        r = tr_bfile_size(fd, &size);
    }
    if (r != 0) {
        snprintf(s->msg, sizeof(s->msg), "cannot open binlog file %s: %s", path, tr_strerror(r));
        *why = s->msg;
        tr_free(files);
        return r;
    }
    uint64_t good = 0;
    const char *vwhy = NULL;
    if (size < end) {
        snprintf(s->msg, sizeof(s->msg),
                 "binlog file %s is shorter (%llu) than its last committed transaction end "
                 "(%llu): committed bytes were lost",
                 path, (unsigned long long)size, (unsigned long long)end);
        r = TR_ECORRUPT;
    } else if ((r = tr_store_reader_verify(s->io, fd, end, &good, &vwhy)) != 0) {
        snprintf(s->msg, sizeof(s->msg), "binlog file %s is damaged before its committed end %llu"
                 " at offset %llu: %s", path, (unsigned long long)end, (unsigned long long)good,
                 vwhy ? vwhy : tr_strerror(r));
    }
    if (r == 0 && size > end) {
        tr_log_info(COMP, "recovery: cutting uncommitted bytes flavor=%s file=%s from=%llu to=%llu",
                    tr_flavor_name(f), act->name, (unsigned long long)size,
                    (unsigned long long)end);
        r = tr_bfile_truncate(s->io, fd, end);
        if (r == 0 && s->sync == TR_SYNC_COMMIT) {
            r = tr_bfile_sync(s->io, fd);
        }
        if (r != 0) {
            snprintf(s->msg, sizeof(s->msg), "cannot truncate %s: %s", path, tr_strerror(r));
        }
    }
    if (r != 0) {
        *why = s->msg;
        tr_bfile_close(s->io, fd);
        tr_free(files);
        return r;
    }
    fl->fd = fd;
    fl->seq = act->seq;
    /* The file's first transaction, or the next one when it holds none yet. */
    fl->first_gno = next_gno_after(s, &s->last);
    uint64_t first = 0;
    r = tr_index_first_gtid_in_file(s->idx, f, act->seq, &first, &iwhy);
    if (r == 0) {
        fl->first_gno = first;
    } else if (r != TR_ENOTFOUND) {
        *why = iwhy;
        tr_free(files);
        return r;
    }
    r = 0;
    snprintf(fl->name, sizeof(fl->name), "%s", act->name);
    fl->committed = fl->written = end;
    for (size_t i = 0; i < n; i++) {
        bool active = i == n - 1;
        /* A file's first GTID; a file without transactions starts where the next one does. */
        uint64_t fg = fl->first_gno;
        if (!active) {
            r = tr_index_first_gtid_in_file(s->idx, f, files[i].seq, &fg, &iwhy);
            if (r == TR_ENOTFOUND) {
                fg = 0;
                r = 0;
            } else if (r != 0) {
                *why = iwhy;
                tr_free(files);
                return r;
            }
        }
        push_file(s, f, files[i].seq, files[i].name, active ? end : files[i].size, active, fg);
    }
    for (size_t i = fl->nfiles; i-- > 1;) {
        if (fl->files[i - 1].first_gno == 0) {
            fl->files[i - 1].first_gno = fl->files[i].first_gno;
        }
    }
    tr_free(files);
    return 0;
}

int tr_store_open(const tr_store_opts_t *opts, tr_store_t **out, tr_store_checkpoint_t *cp,
                  const char **why)
{
    *why = "";
    if (opts->dir == NULL || opts->dir[0] == '\0') {
        *why = "store dir is empty";
        return TR_ECONFIG;
    }
    tr_store_t *s = tr_calloc(1, sizeof(*s));
    s->io = opts->io != NULL ? opts->io : tr_store_io_default();
    s->dir = tr_strdup(opts->dir);
    s->basename = tr_strdup(opts->basename && opts->basename[0] ? opts->basename : "tirelay-bin");
    s->max_binlog_size = opts->max_binlog_size ? opts->max_binlog_size : (UINT64_C(1) << 30);
    s->sync = opts->sync;
    s->server_id = opts->server_id;
    memcpy(s->server_uuid, opts->server_uuid, 16);
    s->gtid_domain_id = opts->gtid_domain_id;
    s->gtid_start = opts->gtid_start;
    s->first_timestamp = opts->first_timestamp > 0 ? opts->first_timestamp : 1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->index_file_mu, NULL);
    pthread_mutex_init(&s->lookup_mu, NULL);
    tr_hist_init(&s->st_fsync, tr_hist_disk_bounds_s, tr_hist_disk_n_bounds);
    tr_hist_init(&s->st_commit, tr_hist_disk_bounds_s, tr_hist_disk_n_bounds);
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        s->fl[f].fd = -1;
        s->fl[f].enabled = opts->flavors[f];
        s->version[f] = tr_strdup(opts->server_version[f] && opts->server_version[f][0]
                                      ? opts->server_version[f]
                                      : default_version[f]);
        tr_buf_init(&s->fl[f].pending, 0);
        snprintf(s->fl[f].dir, sizeof(s->fl[f].dir), "%s/binlog/%s", s->dir,
                 tr_flavor_name((tr_flavor_t)f));
    }
    char path[600];
    int r = make_dir(s->dir);
    snprintf(path, sizeof(path), "%s/binlog", s->dir);
    if (r == 0) {
        r = make_dir(path);
    }
    for (int f = 0; r == 0 && f < TR_FLAVOR_COUNT; f++) {
        if (s->fl[f].enabled) {
            r = make_dir(s->fl[f].dir);
        }
    }
    if (r != 0) {
        snprintf(s->msg, sizeof(s->msg), "cannot create store directories under %s: %s", s->dir,
                 tr_strerror(r));
        goto fail;
    }
    snprintf(path, sizeof(path), "%s/index.sqlite", s->dir);
    r = tr_index_open(path, s->sync == TR_SYNC_COMMIT, &s->idx, s->msg, sizeof(s->msg));
    if (r != 0) {
        goto fail;
    }
    tr_index_txn_t t;
    const char *iwhy = NULL;
    r = tr_index_last_txn(s->idx, &t, &iwhy);
    if (r == 0) {
        s->last.has_txn = true;
        s->last.gtid_no = t.gtid_no;
        s->last.commit_ts = t.commit_ts;
        s->last.schema_version = t.schema_version;
        s->last_timestamp = t.timestamp;
    } else if (r != TR_ENOTFOUND) {
        snprintf(s->msg, sizeof(s->msg), "%s", iwhy);
        goto fail;
    }
    r = 0;
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (!s->fl[f].enabled) {
            continue;
        }
        const char *fwhy = NULL;
        r = recover_flavor(s, (tr_flavor_t)f, &fwhy);
        if (r != 0) {
            if (fwhy != s->msg) {
                snprintf(s->msg, sizeof(s->msg), "%s", fwhy ? fwhy : tr_strerror(r));
            }
            goto fail;
        }
        r = write_index_file(s, (tr_flavor_t)f);
        if (r != 0) {
            snprintf(s->msg, sizeof(s->msg), "cannot write %s.index: %s", s->basename,
                     tr_strerror(r));
            goto fail;
        }
        tr_log_info(COMP, "opened flavor=%s file=%s pos=%llu", tr_flavor_name((tr_flavor_t)f),
                    s->fl[f].name, (unsigned long long)s->fl[f].committed);
    }
    s->last_pending_gtid = s->last.has_txn ? s->last.gtid_no : 0;
    *cp = s->last;
    *out = s;
    return 0;
fail: {
    /* The store (and its message) is gone when this returns; the contract keeps *why
     * valid until the next call, so it lives in a per-thread buffer. */
    static _Thread_local char open_err[sizeof(s->msg)];
    snprintf(open_err, sizeof(open_err), "%s", s->msg[0] ? s->msg : "store open failed");
    *why = open_err;
    tr_store_free(s);
}
    return r;
}

void tr_store_free(tr_store_t *s)
{
    if (s == NULL) {
        return;
    }
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (s->fl[f].fd >= 0) {
            tr_bfile_close(s->io, s->fl[f].fd);
        }
        tr_buf_cleanup(&s->fl[f].pending);
        tr_free(s->fl[f].files);
        tr_free(s->version[f]);
    }
    tr_index_free(s->idx);
    tr_index_free(s->lookup_idx);
    for (size_t i = 0; i < s->nsjobs; i++) {
        tr_free(s->sjobs[i].json);
    }
    tr_free(s->sjobs);
    tr_free(s->position);
    tr_catalog_unref(s->catalog);
    tr_catalog_unref(s->catalog_pending);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->index_file_mu);
    pthread_mutex_destroy(&s->lookup_mu);
    tr_free(s->pend);
    tr_free(s->dir);
    tr_free(s->basename);
    tr_free(s);
}

void tr_store_set_notify(tr_store_t *s, tr_store_notify_cb cb, void *arg)
{
    s->notify = cb;
    s->notify_arg = arg;
}

/* ------------------------------------------------------------ writer */

uint64_t tr_store_file_first_gtid(const tr_store_t *s, tr_flavor_t f)
{
    return s->fl[f].first_gno;
}

uint64_t tr_store_txn_pos(tr_store_t *s, tr_flavor_t f)
{
    return s->fl[f].written + s->fl[f].pending.len;
}

/* Cuts flavour f's active file back to the bytes the store accounts for (after a failed
 * or undone write). If that fails too, recovery at the next open cuts them; readers
 * never see bytes past the committed end either way. */
static void cut_back(tr_store_t *s, tr_flavor_t f)
{
    flavor_t *fl = &s->fl[f];
    int r = tr_bfile_truncate(s->io, fl->fd, fl->written);
    if (r != 0) {
        tr_log_warn(COMP, "cannot cut a partial write flavor=%s file=%s pos=%llu err=%s",
                    tr_flavor_name(f), fl->name, (unsigned long long)fl->written,
                    tr_strerror(r));
    }
}

static int flush_pending(tr_store_t *s, tr_flavor_t f)
{
    flavor_t *fl = &s->fl[f];
    if (fl->pending.len == 0) {
        return 0;
    }
    int r = tr_bfile_pwrite(s->io, fl->fd, fl->pending.data, fl->pending.len, fl->written);
    if (r != 0) {
        /* Part of the bytes may be in the file: cut them, so no torn event is left past
         * what the store knows (recovery would cut it too). The bytes stay pending. */
        cut_back(s, f);
        return r;
    }
    fl->written += fl->pending.len;
    tr_buf_reset(&fl->pending);
    return 0;
}

int tr_store_txn_append(tr_store_t *s, tr_flavor_t f, const uint8_t *p, size_t len)
{
    if ((unsigned)f >= TR_FLAVOR_COUNT || !s->fl[f].enabled) {
        return -EINVAL;
    }
    if (s->fatal != 0) {
        return s->fatal;
    }
    flavor_t *fl = &s->fl[f];
    tr_buf_append(&fl->pending, p, len);
    if (!tr_buf_ok(&fl->pending)) {
        return -ENOMEM;
    }
    if (fl->pending.len >= FLUSH_BYTES && !s->full) {
        int r = flush_pending(s, f);
        if (tr_store_err_is_full(r)) {
            /* Kept in memory; the commit tries again and reports it. */
            s->full = true;
            return 0;
        }
        return r;
    }
    return 0;
}

int tr_store_txn_end(tr_store_t *s, const tr_txn_info_t *info)
{
    if (info->gtid_no <= s->last_pending_gtid) {
        return TR_ESEQUENCE;
    }
    if (s->npend == s->cap_pend) {
        s->cap_pend = s->cap_pend ? s->cap_pend * 2 : 64;
        s->pend = tr_realloc(s->pend, s->cap_pend * sizeof(*s->pend));
    }
    tr_index_txn_t *t = &s->pend[s->npend++];
    memset(t, 0, sizeof(*t));
    t->gtid_no = info->gtid_no;
    t->commit_ts = info->commit_ts;
    t->schema_version = info->schema_version;
    t->timestamp = info->timestamp;
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (s->fl[f].enabled) {
            t->has_pos[f] = true;
            t->seq[f] = s->fl[f].seq;
            t->end[f] = tr_store_txn_pos(s, (tr_flavor_t)f);
        }
    }
    s->last_pending_gtid = info->gtid_no;
    return 0;
}

bool tr_store_has_pending(const tr_store_t *s)
{
    return s->npend > 0;
}

void tr_store_abort(tr_store_t *s)
{
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        flavor_t *fl = &s->fl[f];
        if (!fl->enabled) {
            continue;
        }
        tr_buf_reset(&fl->pending);
        if (fl->written > fl->committed) {
            int r = tr_bfile_truncate(s->io, fl->fd, fl->committed);
            if (r != 0) {
                /* Recovery at the next open cuts them anyway; readers never see them. */
                tr_log_warn(COMP, "cannot cut uncommitted bytes flavor=%s file=%s err=%s",
                            tr_flavor_name((tr_flavor_t)f), fl->name, tr_strerror(r));
            }
        }
        fl->written = fl->committed;
    }
    s->npend = 0;
    s->full = false;
    s->last_pending_gtid = s->last.has_txn ? s->last.gtid_no : 0;
    tr_free(s->position); /* it was the position after the dropped transactions */
    s->position = NULL;
}

/* Rotation plan of one flavour inside a commit. */
typedef struct {
    bool rotate;
    uint64_t old_size; /* old file size including its ROTATE */
    int new_fd;
    uint32_t new_seq;
    char new_name[96];
    uint64_t new_header_end;
} rotation_t;

static int rotate_prepare(tr_store_t *s, tr_flavor_t f, const tr_index_txn_t *lastt,
                          rotation_t *rot)
{
    flavor_t *fl = &s->fl[f];
    rot->new_seq = fl->seq + 1;
    file_name(s, rot->new_seq, rot->new_name, sizeof(rot->new_name));
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_evt_writer_t w;
    tr_evt_writer_init(&w, &b, fl->written, f, s->server_id, true);
    w.timestamp = lastt->timestamp;
    tr_evt_put_rotate(&w, TR_BINLOG_MAGIC_LEN, rot->new_name, strlen(rot->new_name), false);
    int r = tr_bfile_pwrite(s->io, fl->fd, b.data, b.len, fl->written);
    if (r == 0 && s->sync == TR_SYNC_COMMIT) {
        r = sync_file(s, fl->fd, fl->name);
    }
    rot->old_size = fl->written + b.len;
    tr_buf_cleanup(&b);
    if (r != 0) {
        /* No partial ROTATE stays behind the last transaction. */
        cut_back(s, f);
        snprintf(s->msg, sizeof(s->msg), "cannot write ROTATE to %s: %s", fl->name,
                 tr_strerror(r));
        return r;
    }
    tr_store_checkpoint_t cp = {true, lastt->commit_ts, lastt->schema_version, lastt->gtid_no};
    r = create_file(s, f, rot->new_seq, lastt->timestamp, next_gno_after(s, &cp), &rot->new_fd,
                    &rot->new_header_end);
    if (r != 0) {
        cut_back(s, f);
        return r;
    }
    rot->rotate = true;
    return 0;
}

static void rotate_undo(tr_store_t *s, tr_flavor_t f, rotation_t *rot)
{
    if (!rot->rotate) {
        return;
    }
    char path[700];
    file_path(s, f, rot->new_name, path, sizeof(path));
    tr_bfile_close(s->io, rot->new_fd);
    (void)s->io->unlink(path);
    /* The old file ends at its last transaction again, without the ROTATE. */
    cut_back(s, f);
    rot->rotate = false;
}

static void drop_schema_jobs(tr_store_t *s)
{
    for (size_t i = 0; i < s->nsjobs; i++) {
        tr_free(s->sjobs[i].json);
    }
    tr_free(s->sjobs);
    s->sjobs = NULL;
    s->nsjobs = 0;
}

void tr_store_add_schema_job(tr_store_t *s, int64_t job_id, int64_t schema_version,
                             const char *json, size_t len)
{
    s->sjobs = tr_realloc(s->sjobs, (s->nsjobs + 1) * sizeof(*s->sjobs));
    struct schema_job *j = &s->sjobs[s->nsjobs++];
    j->job_id = job_id;
    j->schema_version = schema_version;
    j->json = tr_malloc(len + 1);
    memcpy(j->json, json, len);
    j->json[len] = '\0';
    j->len = len;
}

int tr_store_schema_jobs(tr_store_t *s, tr_store_schema_job_fn fn, void *arg, const char **why)
{
    return tr_index_schema_jobs(s->idx, fn, arg, why);
}

#define POSITION_KEY "upstream_position"

void tr_store_set_position(tr_store_t *s, const char *text)
{
    tr_free(s->position);
    s->position = tr_strdup(text);
}

int tr_store_position(tr_store_t *s, char **out, const char **why)
{
    int r = tr_index_get_meta(s->idx, POSITION_KEY, out, why);
    return r == TR_ENOTFOUND ? 0 : r;
}

/* A position that moved without a transaction (nothing but watermarks, or only rows the
 * filter drops): stored alone, so a restart does not read all of that again. */
static int commit_position_only(tr_store_t *s)
{
    const char *why = NULL;
    int r = tr_index_begin(s->idx, &why);
    if (r == 0) {
        r = tr_index_put_meta(s->idx, POSITION_KEY, s->position, &why);
    }
    if (r == 0) {
        r = tr_index_commit(s->idx, &why);
    }
    if (r != 0) {
        tr_index_rollback(s->idx);
        if (!tr_store_err_is_full(r)) {
            tr_log_error(COMP, "cannot store the upstream position: %s",
                         why ? why : tr_strerror(r));
        }
        return r;
    }
    tr_free(s->position);
    s->position = NULL;
    return 0;
}

int tr_store_commit(tr_store_t *s)
{
    if (s->fatal != 0) {
        return s->fatal;
    }
    if (s->npend == 0) {
        return s->position != NULL ? commit_position_only(s) : 0;
    }
    uint64_t t0 = tr_clock_mono_ns();
    const tr_index_txn_t *lastt = &s->pend[s->npend - 1];
    rotation_t rot[TR_FLAVOR_COUNT];
    memset(rot, 0, sizeof(rot));
    int r = 0;
    const char *why = NULL;
    for (int f = 0; r == 0 && f < TR_FLAVOR_COUNT; f++) {
        flavor_t *fl = &s->fl[f];
        if (!fl->enabled) {
            continue;
        }
        r = flush_pending(s, (tr_flavor_t)f);
        if (r == 0 && s->sync == TR_SYNC_COMMIT && fl->written > fl->committed) {
            r = sync_file(s, fl->fd, fl->name);
        }
        if (r != 0) {
            snprintf(s->msg, sizeof(s->msg), "cannot write %s: %s", fl->name, tr_strerror(r));
            why = s->msg;
        }
    }
    /* Rotate at a transaction boundary only: nothing appended after the last end. */
    for (int f = 0; r == 0 && f < TR_FLAVOR_COUNT; f++) {
        flavor_t *fl = &s->fl[f];
        if (fl->enabled && lastt->end[f] >= s->max_binlog_size && fl->written == lastt->end[f]) {
            r = rotate_prepare(s, (tr_flavor_t)f, lastt, &rot[f]);
            why = s->msg;
        }
    }
    if (r == 0) {
        r = tr_index_begin(s->idx, &why);
    }
    if (r == 0) {
        r = tr_index_put_txns(s->idx, s->pend, s->npend, &why);
    }
    /* The DDL jobs these transactions were decoded with become durable with them. */
    for (size_t i = 0; r == 0 && i < s->nsjobs; i++) {
        r = tr_index_put_schema_job(s->idx, s->sjobs[i].job_id, s->sjobs[i].schema_version,
                                    s->sjobs[i].json, s->sjobs[i].len, &why);
    }
    /* The upstream position after the last of them: a restart resumes exactly there. */
    if (r == 0 && s->position != NULL) {
        r = tr_index_put_meta(s->idx, POSITION_KEY, s->position, &why);
    }
    for (int f = 0; r == 0 && f < TR_FLAVOR_COUNT; f++) {
        if (!rot[f].rotate) {
            continue;
        }
        r = tr_index_close_file(s->idx, (tr_flavor_t)f, s->fl[f].seq, rot[f].old_size, &why);
        if (r == 0) {
            tr_index_file_t ent;
            memset(&ent, 0, sizeof(ent));
            ent.seq = rot[f].new_seq;
            snprintf(ent.name, sizeof(ent.name), "%s", rot[f].new_name);
            ent.header_end = rot[f].new_header_end;
            r = tr_index_put_file(s->idx, (tr_flavor_t)f, &ent, &why);
        }
    }
    if (r == 0) {
        r = tr_index_commit(s->idx, &why);
    }
    if (r != 0) {
        tr_index_rollback(s->idx);
        for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
            rotate_undo(s, (tr_flavor_t)f, &rot[f]);
        }
        if (s->fatal == 0 && tr_store_err_is_full(r)) {
            /* Keep every pending transaction for the caller's retry (it logs). */
            s->full = true;
            return r;
        }
        tr_log_error(COMP, "group commit failed txns=%zu first_gtid=%llu err=%s", s->npend,
                     (unsigned long long)s->pend[0].gtid_no, why ? why : tr_strerror(r));
        tr_store_abort(s);
        return r;
    }
    drop_schema_jobs(s);
    tr_free(s->position);
    s->position = NULL;
    /* Publish. */
    int old_fds[TR_FLAVOR_COUNT];
    pthread_mutex_lock(&s->mu);
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        flavor_t *fl = &s->fl[f];
        old_fds[f] = -1;
        if (!fl->enabled) {
            continue;
        }
        tr_binlog_file_t *act = &fl->files[fl->nfiles - 1];
        uint64_t added = rot[f].rotate ? rot[f].old_size - fl->committed + rot[f].new_header_end
                                       : lastt->end[f] - fl->committed;
        atomic_fetch_add_explicit(&s->st_bytes[f], added, memory_order_relaxed);
        if (rot[f].rotate) {
            act->size = rot[f].old_size;
            act->is_active = false;
            old_fds[f] = fl->fd;
            fl->fd = rot[f].new_fd;
            fl->seq = rot[f].new_seq;
            fl->first_gno = lastt->gtid_no + 1;
            snprintf(fl->name, sizeof(fl->name), "%s", rot[f].new_name);
            fl->committed = fl->written = rot[f].new_header_end;
            push_file(s, (tr_flavor_t)f, fl->seq, fl->name, fl->committed, true, fl->first_gno);
        } else {
            fl->committed = lastt->end[f];
            act->size = fl->committed;
        }
    }
    s->last.has_txn = true;
    s->last.gtid_no = lastt->gtid_no;
    s->last.commit_ts = lastt->commit_ts;
    s->last.schema_version = lastt->schema_version;
    s->last_timestamp = lastt->timestamp;
    atomic_fetch_add_explicit(&s->st_txns, s->npend, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->st_commits, 1, memory_order_relaxed);
    s->npend = 0;
    s->full = false;
    if (s->catalog_pending != NULL) {
        /* Before dumps are woken: a client that sees the new TABLE_MAPs and asks for the
         * table's columns gets the new definition. */
        tr_catalog_t *old = s->catalog;
        s->catalog = s->catalog_pending;
        s->catalog_pending = NULL;
        pthread_mutex_unlock(&s->mu);
        tr_catalog_unref(old);
    } else {
        pthread_mutex_unlock(&s->mu);
    }
    tr_hist_observe_ns(&s->st_commit, tr_clock_mono_ns() - t0);
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (!rot[f].rotate) {
            continue;
        }
        tr_bfile_close(s->io, old_fds[f]);
        tr_log_info(COMP, "rotated flavor=%s file=%s gtid=%llu", tr_flavor_name((tr_flavor_t)f),
                    s->fl[f].name, (unsigned long long)s->last.gtid_no);
        int wr = write_index_file(s, (tr_flavor_t)f);
        if (wr != 0) {
            /* The sqlite index is the truth; the .index file is rewritten at every open. */
            tr_log_warn(COMP, "cannot rewrite %s.index flavor=%s err=%s", s->basename,
                        tr_flavor_name((tr_flavor_t)f), tr_strerror(wr));
        }
    }
    if (s->notify != NULL) {
        s->notify(s->notify_arg);
    }
    return 0;
}

/* ------------------------------------------------------------ catalogue */

void tr_store_set_catalog(tr_store_t *s, tr_catalog_t *cat, bool now)
{
    tr_catalog_t *old = NULL;
    pthread_mutex_lock(&s->mu);
    if (now) {
        old = s->catalog;
        s->catalog = cat;
    } else {
        old = s->catalog_pending;
        s->catalog_pending = cat;
    }
    pthread_mutex_unlock(&s->mu);
    tr_catalog_unref(old);
}

tr_catalog_t *tr_store_catalog(tr_store_t *s)
{
    pthread_mutex_lock(&s->mu);
    tr_catalog_t *c = s->catalog;
    if (c != NULL) {
        tr_catalog_ref(c);
    }
    pthread_mutex_unlock(&s->mu);
    return c;
}

/* ------------------------------------------------------------ statistics */

void tr_store_stats(tr_store_t *s, tr_store_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    out->txns = atomic_load_explicit(&s->st_txns, memory_order_relaxed);
    out->group_commits = atomic_load_explicit(&s->st_commits, memory_order_relaxed);
    pthread_mutex_lock(&s->mu);
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        const flavor_t *fl = &s->fl[f];
        out->bytes[f] = atomic_load_explicit(&s->st_bytes[f], memory_order_relaxed);
        for (size_t i = 0; fl->enabled && i < fl->nfiles; i++) {
            out->disk_bytes[f] += fl->files[i].size;
        }
        out->files[f] = fl->enabled ? fl->nfiles : 0;
    }
    pthread_mutex_unlock(&s->mu);
    tr_hist_snapshot(&s->st_fsync, &out->fsync);
    tr_hist_snapshot(&s->st_commit, &out->commit);
}

/* ------------------------------------------------------------ readers */

static int find_locked(tr_store_t *s, tr_flavor_t f, bool (*match)(const tr_binlog_file_t *,
                                                                    const void *),
                       const void *key, tr_binlog_file_t *out)
{
    if ((unsigned)f >= TR_FLAVOR_COUNT || !s->fl[f].enabled) {
        return TR_ENOTFOUND;
    }
    int r = TR_ENOTFOUND;
    pthread_mutex_lock(&s->mu);
    flavor_t *fl = &s->fl[f];
    for (size_t i = 0; i < fl->nfiles; i++) {
        if (match(&fl->files[i], key)) {
            *out = fl->files[i];
            r = 0;
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

static bool match_name(const tr_binlog_file_t *e, const void *key)
{
    return strcmp(e->name, (const char *)key) == 0;
}

static bool match_after(const tr_binlog_file_t *e, const void *key)
{
    return e->seq > *(const uint32_t *)key;
}

static bool match_any(const tr_binlog_file_t *e, const void *key)
{
    return true;
}

int tr_store_file_by_name(tr_store_t *s, tr_flavor_t f, const char *name, tr_binlog_file_t *out)
{
    return find_locked(s, f, match_name, name, out);
}

int tr_store_file_next(tr_store_t *s, tr_flavor_t f, uint32_t seq, tr_binlog_file_t *out)
{
    return find_locked(s, f, match_after, &seq, out);
}

int tr_store_file_first(tr_store_t *s, tr_flavor_t f, tr_binlog_file_t *out)
{
    return find_locked(s, f, match_any, NULL, out);
}

int tr_store_file_last(tr_store_t *s, tr_flavor_t f, tr_binlog_file_t *out)
{
    if ((unsigned)f >= TR_FLAVOR_COUNT || !s->fl[f].enabled) {
        return TR_ENOTFOUND;
    }
    int r = TR_ENOTFOUND;
    pthread_mutex_lock(&s->mu);
    if (s->fl[f].nfiles > 0) {
        *out = s->fl[f].files[s->fl[f].nfiles - 1];
        r = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

int tr_store_list_files(tr_store_t *s, tr_flavor_t f, tr_binlog_file_t **files, size_t *n)
{
    *files = NULL;
    *n = 0;
    if ((unsigned)f >= TR_FLAVOR_COUNT || !s->fl[f].enabled) {
        return TR_ENOTFOUND;
    }
    pthread_mutex_lock(&s->mu);
    size_t cnt = s->fl[f].nfiles;
    tr_binlog_file_t *arr = tr_malloc((cnt ? cnt : 1) * sizeof(*arr));
    if (cnt > 0) {
        memcpy(arr, s->fl[f].files, cnt * sizeof(*arr));
    }
    pthread_mutex_unlock(&s->mu);
    *files = arr;
    *n = cnt;
    return 0;
}

void tr_store_last_txn(tr_store_t *s, tr_store_checkpoint_t *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->last;
    pthread_mutex_unlock(&s->mu);
}

void tr_store_view(tr_store_t *s, tr_flavor_t f, tr_store_view_t *out)
{
    memset(out, 0, sizeof(*out));
    bool enabled = (unsigned)f < TR_FLAVOR_COUNT && s->fl[f].enabled;
    pthread_mutex_lock(&s->mu);
    out->cat = s->catalog;
    if (out->cat != NULL) {
        tr_catalog_ref(out->cat);
    }
    if (enabled && s->fl[f].nfiles > 0) {
        out->file = s->fl[f].files[s->fl[f].nfiles - 1];
        out->has_file = true;
    }
    out->last = s->last;
    pthread_mutex_unlock(&s->mu);
}

const tr_store_io_t *tr_store_io(const tr_store_t *s)
{
    return s->io;
}

bool tr_store_flavor_enabled(const tr_store_t *s, tr_flavor_t f)
{
    return (unsigned)f < TR_FLAVOR_COUNT && s->fl[f].enabled;
}

/* ------------------------------------------------------------ purge */

int tr_store_purge(tr_store_t *s, tr_flavor_t f, uint32_t before_seq, size_t *n_purged,
                   const char **why)
{
    *n_purged = 0;
    if ((unsigned)f >= TR_FLAVOR_COUNT || !s->fl[f].enabled) {
        *why = "flavour not enabled";
        return TR_ENOTFOUND;
    }
    flavor_t *fl = &s->fl[f];
    /* Unpublish first: from here on no new reader can find these files. */
    pthread_mutex_lock(&s->mu);
    size_t n = 0;
    while (n + 1 < fl->nfiles && fl->files[n].seq < before_seq && !fl->files[n].is_active) {
        n++;
    }
    tr_binlog_file_t *gone = NULL;
    if (n > 0) {
        gone = tr_malloc(n * sizeof(*gone));
        memcpy(gone, fl->files, n * sizeof(*gone));
        memmove(fl->files, fl->files + n, (fl->nfiles - n) * sizeof(*fl->files));
        fl->nfiles -= n;
    }
    pthread_mutex_unlock(&s->mu);
    if (n == 0) {
        return 0;
    }
    uint32_t upto = gone[n - 1].seq + 1;
    /* The index next: a crash after this leaves stray old files, which are harmless
     * (recovery only removes files above the newest one it knows); the reverse
     * order could leave the index naming files that no longer exist. */
    char path[600];
    snprintf(path, sizeof(path), "%s/index.sqlite", s->dir);
    static _Thread_local char msg[600];
    tr_index_t *idx = NULL;
    int r = tr_index_open(path, s->sync == TR_SYNC_COMMIT, &idx, msg, sizeof(msg));
    if (r == 0) {
        const char *iwhy = NULL;
        r = tr_index_purge_files(idx, f, upto, &iwhy);
        if (r != 0) {
            snprintf(msg, sizeof(msg), "%s", iwhy ? iwhy : "index error");
        }
        tr_index_free(idx);
    }
    if (r != 0) {
        /* Put the files back: nothing was deleted. */
        pthread_mutex_lock(&s->mu);
        if (fl->nfiles + n > fl->cap) {
            fl->cap = fl->nfiles + n;
            fl->files = tr_realloc(fl->files, fl->cap * sizeof(*fl->files));
        }
        memmove(fl->files + n, fl->files, fl->nfiles * sizeof(*fl->files));
        memcpy(fl->files, gone, n * sizeof(*gone));
        fl->nfiles += n;
        pthread_mutex_unlock(&s->mu);
        tr_free(gone);
        *why = msg;
        return r;
    }
    int wr = write_index_file(s, f);
    if (wr != 0) {
        tr_log_warn(COMP, "cannot rewrite %s.index flavor=%s err=%s", s->basename,
                    tr_flavor_name(f), tr_strerror(wr));
    }
    for (size_t i = 0; i < n; i++) {
        if (s->io->unlink(gone[i].path) != 0 && errno != ENOENT) {
            tr_log_warn(COMP, "purge: cannot remove file=%s err=%s", gone[i].path,
                        strerror(errno));
            continue;
        }
        tr_log_info(COMP, "purged binlog file flavor=%s file=%s size=%llu", tr_flavor_name(f),
                    gone[i].name, (unsigned long long)gone[i].size);
    }
    if (s->sync == TR_SYNC_COMMIT && tr_bfile_sync_dir(s->io, fl->dir) != 0) {
        tr_log_warn(COMP, "purge: cannot sync directory %s", fl->dir);
    }
    tr_free(gone);
    *n_purged = n;
    return 0;
}

/* ------------------------------------------------------------ lookups */

int tr_store_find_txn(tr_store_t *s, tr_store_find_t by, int64_t key, tr_flavor_t f,
                      uint32_t seq, tr_store_txn_t *out, const char **why)
{
    pthread_mutex_lock(&s->lookup_mu);
    int r = 0;
    if (s->lookup_idx == NULL) {
        char path[600];
        snprintf(path, sizeof(path), "%s/index.sqlite", s->dir);
        r = tr_index_open(path, s->sync == TR_SYNC_COMMIT, &s->lookup_idx, s->lookup_msg,
                          sizeof(s->lookup_msg));
        if (r != 0) {
            *why = s->lookup_msg;
        }
    }
    tr_index_txn_t t;
    const char *iwhy = NULL;
    if (r == 0) {
        switch (by) {
        case TR_STORE_FIND_TSO:
            r = tr_index_txn_at_tso(s->lookup_idx, key, &t, &iwhy);
            break;
        case TR_STORE_FIND_GTID:
            r = key < 0 ? TR_ENOTFOUND : tr_index_txn_by_gtid(s->lookup_idx, (uint64_t)key, &t, &iwhy);
            break;
        case TR_STORE_FIND_POS:
            r = key < 0 ? TR_ENOTFOUND
                        : tr_index_txn_at_pos(s->lookup_idx, f, seq, (uint64_t)key, &t, &iwhy);
            break;
        default:
            r = TR_EUNSUPPORTED;
            break;
        }
        if (r != 0 && r != TR_ENOTFOUND) {
            snprintf(s->lookup_msg, sizeof(s->lookup_msg), "%s", iwhy ? iwhy : tr_strerror(r));
            *why = s->lookup_msg;
        }
    }
    if (r == 0) {
        memset(out, 0, sizeof(*out));
        out->gtid_no = t.gtid_no;
        out->commit_ts = t.commit_ts;
        out->schema_version = t.schema_version;
        out->timestamp = t.timestamp;
        for (int i = 0; i < TR_FLAVOR_COUNT; i++) {
            out->has_pos[i] = t.has_pos[i];
            out->seq[i] = t.seq[i];
            out->end[i] = t.end[i];
        }
    }
    pthread_mutex_unlock(&s->lookup_mu);
    return r;
}
