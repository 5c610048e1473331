/*
 * Sender threads (see sender.h).
 *
 * Each thread has an epoll set (an eventfd for wake-ups, plus the channels
 * waiting for EPOLLOUT, armed one-shot), a work list of channels that have
 * something to do, and one mutex (w->mu) over its channels' queues and
 * flags. The sender's mutex (s->mu) guards the lists handed back to the
 * loop; when both are held, w->mu is taken first.
 *
 * A channel is on at most one work list at a time: ch->queued stays set
 * from the moment it is put on the list until the thread starts serving it,
 * so ch->next_work is never rewritten while a thread walks it. Serving a
 * channel is one sendmsg of up to IOV_MAX_JOBS queued jobs; a channel with
 * more goes to the back of the list, so channels take turns.
 */
#include "server/sender.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/thread.h"

#define IOV_MAX_JOBS 32
#define EPOLL_EVENTS 64

typedef struct worker worker_t;

struct tr_send_chan {
    tr_sender_t *s;
    worker_t *w;
    int fd;
    void *arg;
    tr_send_job_t *head, *tail; /* (w->mu) queued jobs, head partly sent */
    bool queued;                /* (w->mu) on w's work list, or being walked */
    bool waiting_out;           /* (w->mu) socket full: EPOLLOUT armed */
    bool detach;                /* (w->mu) the loop asked to detach */
    int failed;                 /* (w->mu) first write error, negative errno */
    tr_send_chan_t *next_work;
};

struct worker {
    tr_sender_t *s;
    pthread_t th;
    bool started;
    pthread_mutex_t mu;
    int ep;
    int evfd;
    tr_send_chan_t *work_head, *work_tail; /* (mu) */
    bool stop;                             /* (mu) */
};

struct tr_sender {
    uv_loop_t *loop;
    uv_async_t async;
    tr_sender_cbs_t cbs;
    pthread_mutex_t mu;
    tr_send_job_t *done_head, *done_tail; /* (mu) completed jobs, in order */
    tr_send_chan_t *detached;             /* (mu) detached channels, in order (reversed) */
    worker_t workers[TR_SENDER_MAX_THREADS];
    int n;
    int next;      /* loop: round-robin for tr_sender_open */
    size_t chans;  /* loop: channels not yet reported detached */
    bool stopping; /* loop */
    void (*closed)(void *arg);
    void *closed_arg;
};

/* ---------------------------------------------------------------- worker side */

static void work_push(worker_t *w, tr_send_chan_t *ch)
{
    ch->queued = true;
    ch->next_work = NULL;
    if (w->work_tail != NULL) {
        w->work_tail->next_work = ch;
    } else {
        w->work_head = ch;
    }
    w->work_tail = ch;
}

static void wake(worker_t *w)
{
    uint64_t one = 1;
    ssize_t n;
    do {
        n = write(w->evfd, &one, sizeof(one));
    } while (n < 0 && errno == EINTR);
}

/* Moves ch's jobs from its head through `upto` (exclusive; NULL = all) to the
 * done list with status. w->mu held. Returns whether any moved. */
static bool complete(tr_send_chan_t *ch, tr_send_job_t *upto, int status)
{
    if (ch->head == NULL || ch->head == upto) {
        return false;
    }
    tr_sender_t *s = ch->s;
    tr_send_job_t *first = ch->head;
    tr_send_job_t *last = first;
    last->status = status;
    while (last->next != upto) {
        last = last->next;
        last->status = status;
    }
    ch->head = upto;
    if (upto == NULL) {
        ch->tail = NULL;
    }
    last->next = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->done_tail != NULL) {
        s->done_tail->next = first;
    } else {
        s->done_head = first;
    }
    s->done_tail = last;
    pthread_mutex_unlock(&s->mu);
    return true;
}

/* One turn of ch. Returns whether the loop has something to collect. */
static bool serve(worker_t *w, tr_send_chan_t *ch)
{
    tr_sender_t *s = w->s;
    pthread_mutex_lock(&w->mu);
    ch->queued = false;
    if (ch->detach) {
        (void)complete(ch, NULL, -ECANCELED);
        (void)epoll_ctl(w->ep, EPOLL_CTL_DEL, ch->fd, NULL);
        ch->queued = true; /* never on a list again */
        pthread_mutex_lock(&s->mu);
        ch->next_work = s->detached;
        s->detached = ch;
        pthread_mutex_unlock(&s->mu);
        pthread_mutex_unlock(&w->mu);
        return true;
    }
    if (ch->failed != 0 || ch->head == NULL || ch->waiting_out) {
        pthread_mutex_unlock(&w->mu);
        return false;
    }
    struct iovec iov[IOV_MAX_JOBS];
    int cnt = 0;
    for (tr_send_job_t *j = ch->head; j != NULL && cnt < IOV_MAX_JOBS; j = j->next) {
        iov[cnt].iov_base = (void *)(uintptr_t)(j->data + j->sent);
        iov[cnt].iov_len = j->len - j->sent;
        cnt++;
    }
    pthread_mutex_unlock(&w->mu);

    /* The jobs in iov stay queued (only this thread removes them), and the loop only
     * appends, so the bytes are stable without the lock. */
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = iov;
    msg.msg_iovlen = (size_t)cnt;
    ssize_t n;
    do {
        n = sendmsg(ch->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    int err = n < 0 ? errno : 0;

    bool collect = false;
    pthread_mutex_lock(&w->mu);
    if (n > 0) {
        size_t left = (size_t)n;
        tr_send_job_t *j = ch->head;
        while (j != NULL && left >= j->len - j->sent) {
            left -= j->len - j->sent;
            j->sent = j->len;
            j = j->next;
        }
        if (j != NULL) {
            j->sent += left;
        }
        collect = complete(ch, j, 0);
    }
    if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK)) {
        struct epoll_event ev = {.events = EPOLLOUT | EPOLLONESHOT, .data.ptr = ch};
        ch->waiting_out = epoll_ctl(w->ep, EPOLL_CTL_MOD, ch->fd, &ev) == 0;
        if (!ch->waiting_out) {
            ch->failed = -errno;
            collect = complete(ch, NULL, ch->failed) || collect;
        }
    } else if (n < 0) {
        ch->failed = -err;
        collect = complete(ch, NULL, ch->failed) || collect;
    } else if ((ch->head != NULL || ch->detach) && !ch->queued) {
        work_push(w, ch); /* more to send: after the others' turn */
    }
    pthread_mutex_unlock(&w->mu);
    return collect;
}

static void *worker_main(void *arg)
{
    tr_thread_name("tr-sender");
    worker_t *w = arg;
    struct epoll_event evs[EPOLL_EVENTS];
    for (;;) {
        pthread_mutex_lock(&w->mu);
        int timeout = w->work_head != NULL ? 0 : -1;
        pthread_mutex_unlock(&w->mu);
        int n = epoll_wait(w->ep, evs, EPOLL_EVENTS, timeout);
        pthread_mutex_lock(&w->mu);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == w) {
                uint64_t v;
                (void)!read(w->evfd, &v, sizeof(v));
                continue;
            }
            tr_send_chan_t *ch = evs[i].data.ptr;
            ch->waiting_out = false; /* one-shot: disarmed by the event */
            if (!ch->queued) {
                work_push(w, ch);
            }
        }
        if (w->stop) {
            pthread_mutex_unlock(&w->mu);
            return NULL;
        }
        tr_send_chan_t *list = w->work_head;
        w->work_head = w->work_tail = NULL;
        pthread_mutex_unlock(&w->mu);
        bool collect = false;
        while (list != NULL) {
            tr_send_chan_t *ch = list;
            list = ch->next_work; /* read while ch->queued still holds it */
            collect = serve(w, ch) || collect;
        }
        if (collect) {
            (void)uv_async_send(&w->s->async);
        }
    }
}

/* ---------------------------------------------------------------- loop side */

static void on_async(uv_async_t *a)
{
    tr_sender_t *s = a->data;
    pthread_mutex_lock(&s->mu);
    tr_send_job_t *done = s->done_head;
    tr_send_chan_t *det = s->detached;
    s->done_head = s->done_tail = NULL;
    s->detached = NULL;
    pthread_mutex_unlock(&s->mu);
    while (done != NULL) {
        tr_send_job_t *j = done;
        done = j->next;
        j->next = NULL;
        s->cbs.done(j);
    }
    /* Reversed on the list: report in the order they were detached. */
    tr_send_chan_t *rev = NULL;
    while (det != NULL) {
        tr_send_chan_t *ch = det;
        det = ch->next_work;
        ch->next_work = rev;
        rev = ch;
    }
    while (rev != NULL) {
        tr_send_chan_t *ch = rev;
        rev = ch->next_work;
        void *arg = ch->arg;
        tr_free(ch);
        s->chans--;
        s->cbs.detached(arg);
    }
    if (s->stopping && s->chans == 0 && s->closed != NULL) {
        tr_sender_stop(s, s->closed, s->closed_arg);
    }
}

static void stop_workers(tr_sender_t *s)
{
    for (int i = 0; i < s->n; i++) {
        worker_t *w = &s->workers[i];
        if (w->started) {
            pthread_mutex_lock(&w->mu);
            w->stop = true;
            pthread_mutex_unlock(&w->mu);
            wake(w);
            (void)pthread_join(w->th, NULL);
            w->started = false;
        }
        if (w->ep >= 0) {
            (void)close(w->ep);
        }
        if (w->evfd >= 0) {
            (void)close(w->evfd);
        }
        w->ep = w->evfd = -1;
        pthread_mutex_destroy(&w->mu);
    }
    s->n = 0;
}

int tr_sender_start(uv_loop_t *loop, int threads, const tr_sender_cbs_t *cbs, tr_sender_t **out)
{
    if (threads < 1) {
        threads = 1;
    }
    if (threads > TR_SENDER_MAX_THREADS) {
        threads = TR_SENDER_MAX_THREADS;
    }
    tr_sender_t *s = tr_calloc(1, sizeof(*s));
    s->loop = loop;
    s->cbs = *cbs;
    pthread_mutex_init(&s->mu, NULL);
    int rc = 0;
    for (int i = 0; i < threads && rc == 0; i++) {
        worker_t *w = &s->workers[i];
        w->s = s;
        pthread_mutex_init(&w->mu, NULL);
        s->n = i + 1;
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        w->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
        if (w->ep < 0 || w->evfd < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, w->evfd, &ev) != 0) {
            rc = -errno;
            break;
        }
        rc = -pthread_create(&w->th, NULL, worker_main, w);
        w->started = rc == 0;
    }
    if (rc == 0) {
        rc = uv_async_init(loop, &s->async, on_async);
    }
    if (rc != 0) {
        stop_workers(s);
        pthread_mutex_destroy(&s->mu);
        tr_free(s);
        return rc;
    }
    s->async.data = s;
    *out = s;
    return 0;
}

static void on_async_closed(uv_handle_t *h)
{
    tr_sender_t *s = h->data;
    void (*closed)(void *) = s->closed;
    void *arg = s->closed_arg;
    pthread_mutex_destroy(&s->mu);
    tr_free(s);
    if (closed != NULL) {
        closed(arg);
    }
}

void tr_sender_stop(tr_sender_t *s, void (*closed)(void *arg), void *arg)
{
    s->stopping = true;
    s->closed = closed;
    s->closed_arg = arg;
    if (s->chans > 0 || uv_is_closing((uv_handle_t *)&s->async)) {
        return; /* on_async finishes once the last channel is detached */
    }
    stop_workers(s);
    uv_close((uv_handle_t *)&s->async, on_async_closed);
}

tr_send_chan_t *tr_sender_open(tr_sender_t *s, int fd, void *arg)
{
    if (s->stopping) {
        return NULL;
    }
    worker_t *w = &s->workers[s->next];
    s->next = (s->next + 1) % s->n;
    tr_send_chan_t *ch = tr_calloc(1, sizeof(*ch));
    ch->s = s;
    ch->w = w;
    ch->fd = fd;
    ch->arg = arg;
    /* Registered disarmed (one-shot, no events); armed on EAGAIN. */
    struct epoll_event ev = {.events = EPOLLONESHOT, .data.ptr = ch};
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        tr_free(ch);
        return NULL;
    }
    s->chans++;
    return ch;
}

int tr_sender_queue(tr_send_chan_t *ch, tr_send_job_t *job)
{
    worker_t *w = ch->w;
    job->next = NULL;
    job->sent = 0;
    job->status = 0;
    pthread_mutex_lock(&w->mu);
    if (ch->failed != 0 || ch->detach) {
        int rc = ch->failed != 0 ? ch->failed : -ECANCELED;
        pthread_mutex_unlock(&w->mu);
        return rc;
    }
    if (ch->tail != NULL) {
        ch->tail->next = job;
    } else {
        ch->head = job;
    }
    ch->tail = job;
    bool kick = !ch->queued && !ch->waiting_out;
    if (kick) {
        work_push(w, ch);
    }
    pthread_mutex_unlock(&w->mu);
    if (kick) {
        wake(w);
    }
    return 0;
}

void tr_sender_detach(tr_send_chan_t *ch)
{
    worker_t *w = ch->w;
    pthread_mutex_lock(&w->mu);
    bool kick = !ch->detach && !ch->queued;
    ch->detach = true;
    if (kick) {
        work_push(w, ch);
    }
    pthread_mutex_unlock(&w->mu);
    if (kick) {
        wake(w);
    }
}
