/*
 * Socket writes done by helper threads, for connections that stream a lot
 * (binlog dumps). Serving a fleet is dominated by the kernel's work in
 * send(): copying into socket buffers and, on loopback, delivering to the
 * reader. On the loop thread that caps serving at one core; a sender runs
 * that work on a few threads while the loop keeps framing batches.
 *
 * The loop thread queues jobs on a channel (one per connection, bound to one
 * thread); the thread writes them in order with non-blocking sendmsg and
 * waits for EPOLLOUT when the socket is full. Completed jobs and detached
 * channels come back on the loop thread through a uv_async_t, in order:
 * every job of a channel is reported before the channel's detach. The
 * bytes of a queued job must stay unchanged until its completion.
 *
 * Thread: every function on the loop thread.
 */
#ifndef TR_SERVER_SENDER_H
#define TR_SERVER_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

typedef struct tr_sender tr_sender_t;
typedef struct tr_send_chan tr_send_chan_t;

typedef struct tr_send_job {
    struct tr_send_job *next; /* sender's */
    const uint8_t *data;
    size_t len;
    size_t sent;              /* sender's */
    int status;               /* at completion: 0, or a negative errno (-ECANCELED: detached) */
} tr_send_job_t;

typedef struct {
    void (*done)(tr_send_job_t *job);   /* a job completed (written, failed or cancelled) */
    void (*detached)(void *chan_arg);   /* tr_sender_detach finished: the fd is forgotten */
} tr_sender_cbs_t;

/* Starts threads (1..TR_SENDER_MAX_THREADS) and the loop's async handle. */
#define TR_SENDER_MAX_THREADS 8
int tr_sender_start(uv_loop_t *loop, int threads, const tr_sender_cbs_t *cbs, tr_sender_t **out);
/* Once every channel is detached: joins the threads, closes the handle, then
 * closed(arg) and the sender is freed. */
void tr_sender_stop(tr_sender_t *s, void (*closed)(void *arg), void *arg);

/* A channel for a connected, non-blocking socket (the caller keeps the fd open
 * until detached(arg)). NULL when the sender is stopping. */
tr_send_chan_t *tr_sender_open(tr_sender_t *s, int fd, void *arg);
/* Queues job (its data, len set). Returns 0, or the channel's write error
 * (negative errno): then the job is not taken. */
int tr_sender_queue(tr_send_chan_t *ch, tr_send_job_t *job);
/* Drops the queued jobs (completed with -ECANCELED), stops using the fd, then
 * detached(arg); the channel is freed after that callback. */
void tr_sender_detach(tr_send_chan_t *ch);

#endif
