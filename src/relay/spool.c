/*
 * Owned received messages, on the heap or in an unlinked spool file (see
 * spool.h). The file is written with plain write(2) as the bytes arrive (no
 * user-space copy of the message is kept), then mapped read-only and shared:
 * its pages belong to the page cache, so the reader's resident set holds only
 * what it touched since the last tr_spool_msg_release_pages.
 *
 * Holds no byte layouts; does file I/O and no logging (callers log, they know
 * the Pump).
 */
#define _GNU_SOURCE /* O_TMPFILE */
#include "relay/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/thread.h"

struct tr_spool_msg {
    size_t len;    /* announced length in bytes */
    size_t filled; /* bytes appended so far */
    bool is_file;
    bool finished;
    uint8_t *heap; /* heap message: tr_malloc'd, len bytes */
    int fd;        /* file message: open until finished, then -1 */
    void *map;     /* file message once finished: len bytes, PROT_READ, MAP_SHARED */
};

tr_spool_msg_t *tr_spool_msg_heap(size_t len)
{
    tr_spool_msg_t *m = tr_calloc(1, sizeof(*m));
    m->len = len;
    m->heap = tr_malloc(len > 0 ? len : 1);
    m->fd = -1;
    return m;
}

/* An unlinked 0600 file in dir, or a negative errno. */
static int open_unlinked(const char *dir)
{
#ifdef O_TMPFILE
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) {
        return fd;
    }
    /* EOPNOTSUPP/EISDIR: the file system has no O_TMPFILE; anything else is final. */
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
        return -errno;
    }
#endif
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/tirelay-spool.XXXXXX", dir);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        return -ENAMETOOLONG;
    }
    /* mkstemp creates the file with mode 0600. */
    int tfd = mkstemp(path);
    if (tfd < 0) {
        return -errno;
    }
    if (unlink(path) != 0) {
        int e = errno;
        (void)close(tfd);
        return -e;
    }
    if (fcntl(tfd, F_SETFD, FD_CLOEXEC) != 0) {
        int e = errno;
        (void)close(tfd);
        return -e;
    }
    return tfd;
}

int tr_spool_scratch_map(const char *dir, size_t len, tr_spool_scratch_t *out)
{
    int fd = open_unlinked(dir);
    if (fd < 0) {
        return fd;
    }
    /* Reserved first: writing through a mapping of a sparse file on a full disk raises
     * SIGBUS instead of returning ENOSPC. */
    int rc = posix_fallocate(fd, 0, (off_t)len);
    if (rc != 0) {
        (void)close(fd);
        return -rc;
    }
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        rc = -errno;
        (void)close(fd);
        return rc;
    }
    out->fd = fd;
    out->base = p;
    out->len = len;
    return 0;
}

void tr_spool_scratch_unmap(tr_spool_scratch_t *s)
{
    if (s->base != NULL) {
        (void)munmap(s->base, s->len);
        (void)close(s->fd); /* the unlinked file's space goes with it */
        s->base = NULL;
        s->fd = -1;
    }
}

int tr_spool_msg_file(const char *dir, size_t len, tr_spool_msg_t **out)
{
    *out = NULL;
    if (len == 0) {
        return -EINVAL; /* an empty mapping does not exist */
    }
    int fd = open_unlinked(dir);
    if (fd < 0) {
        return fd;
    }
    tr_spool_msg_t *m = tr_calloc(1, sizeof(*m));
    m->len = len;
    m->is_file = true;
    m->fd = fd;
    *out = m;
    return 0;
}

int tr_spool_msg_append(tr_spool_msg_t *m, const uint8_t *p, size_t n)
{
    if (m->finished || n > m->len - m->filled) {
        return TR_ETOOBIG;
    }
    if (!m->is_file) {
        memcpy(m->heap + m->filled, p, n);
        m->filled += n;
        return 0;
    }
    while (n > 0) {
        ssize_t w = write(m->fd, p, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (w == 0) {
            return -EIO;
        }
        p += w;
        n -= (size_t)w;
        m->filled += (size_t)w;
    }
    return 0;
}

size_t tr_spool_msg_filled(const tr_spool_msg_t *m)
{
    return m->filled;
}

int tr_spool_msg_finish(tr_spool_msg_t *m)
{
    if (m->filled != m->len) {
        return TR_EINCOMPLETE;
    }
    if (m->finished) {
        return 0;
    }
    if (m->is_file) {
        void *map = mmap(NULL, m->len, PROT_READ, MAP_SHARED, m->fd, 0);
        if (map == MAP_FAILED) {
            return -errno;
        }
        (void)close(m->fd); /* the mapping keeps the file */
        m->fd = -1;
        m->map = map;
    }
    m->finished = true;
    return 0;
}

const uint8_t *tr_spool_msg_data(const tr_spool_msg_t *m)
{
    return m->is_file ? (const uint8_t *)m->map : m->heap;
}

size_t tr_spool_msg_len(const tr_spool_msg_t *m)
{
    return m->len;
}

bool tr_spool_msg_is_file(const tr_spool_msg_t *m)
{
    return m->is_file;
}

void tr_spool_msg_release_pages(tr_spool_msg_t *m)
{
    if (m->is_file && m->map != NULL) {
        /* A shared file mapping loses no data: the pages stay in the page cache. */
        (void)madvise(m->map, m->len, MADV_DONTNEED);
    }
}

void tr_spool_msg_free(tr_spool_msg_t *m)
{
    if (m == NULL) {
        return;
    }
    if (m->map != NULL) {
        (void)munmap(m->map, m->len);
    }
    if (m->fd >= 0) {
        (void)close(m->fd);
    }
    tr_free(m->heap);
    tr_free(m);
}

/* ------------------------------------------------------------ pager */

struct tr_spool_pager {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int interval_ms;
    tr_spool_msg_t *watched; /* (mu) */
    bool stopping;           /* (mu) */
};

static void *pager_main(void *arg)
{
    tr_thread_name("tr-spool");
    tr_spool_pager_t *pg = arg;
    pthread_mutex_lock(&pg->mu);
    while (!pg->stopping) {
        if (pg->watched == NULL) {
            pthread_cond_wait(&pg->cond, &pg->mu); /* idle: no wakeups */
            continue;
        }
        struct timespec until = tr_clock_deadline(CLOCK_MONOTONIC, pg->interval_ms);
        (void)pthread_cond_timedwait(&pg->cond, &pg->mu, &until);
        if (pg->watched != NULL && !pg->stopping) {
            /* Under mu: unwatch (and so the free) waits for this call. */
            tr_spool_msg_release_pages(pg->watched);
        }
    }
    pthread_mutex_unlock(&pg->mu);
    return NULL;
}

int tr_spool_pager_new(int interval_ms, tr_spool_pager_t **out)
{
    *out = NULL;
    tr_spool_pager_t *pg = tr_calloc(1, sizeof(*pg));
    pg->interval_ms = interval_ms > 0 ? interval_ms : 1;
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);
    if (rc == 0) {
        rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        if (rc == 0) {
            rc = pthread_cond_init(&pg->cond, &ca);
        }
        (void)pthread_condattr_destroy(&ca);
    }
    if (rc != 0) {
        tr_free(pg);
        return -rc;
    }
    (void)pthread_mutex_init(&pg->mu, NULL);
    rc = pthread_create(&pg->thread, NULL, pager_main, pg);
    if (rc != 0) {
        (void)pthread_cond_destroy(&pg->cond);
        (void)pthread_mutex_destroy(&pg->mu);
        tr_free(pg);
        return -rc;
    }
    *out = pg;
    return 0;
}

void tr_spool_pager_watch(tr_spool_pager_t *pg, tr_spool_msg_t *m)
{
    if (pg == NULL || m == NULL || !m->is_file) {
        return;
    }
    pthread_mutex_lock(&pg->mu);
    pg->watched = m;
    pthread_cond_signal(&pg->cond);
    pthread_mutex_unlock(&pg->mu);
}

void tr_spool_pager_unwatch(tr_spool_pager_t *pg)
{
    if (pg == NULL) {
        return;
    }
    pthread_mutex_lock(&pg->mu);
    pg->watched = NULL;
    pthread_mutex_unlock(&pg->mu);
}

void tr_spool_pager_free(tr_spool_pager_t *pg)
{
    if (pg == NULL) {
        return;
    }
    pthread_mutex_lock(&pg->mu);
    pg->stopping = true;
    pthread_cond_signal(&pg->cond);
    pthread_mutex_unlock(&pg->mu);
    (void)pthread_join(pg->thread, NULL);
    (void)pthread_cond_destroy(&pg->cond);
    (void)pthread_mutex_destroy(&pg->mu);
    tr_free(pg);
}
