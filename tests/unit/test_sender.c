/*
 * Sender threads (server/sender.h) over real sockets (a UNIX stream
 * socketpair) on a real libuv loop: jobs arrive complete and in order while
 * the reader is slow (the socket fills, EPOLLOUT), a detach cancels what was
 * not written and is reported after every job, a closed peer fails the
 * channel, and stop waits for the last channel.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "server/sender.h"
#include "tr_test.h"

#define JOB_LEN (64 * 1024)
#define MAX_JOBS 256

typedef struct {
    tr_send_job_t job;
    int index;
} tjob_t;

static struct {
    tr_sender_t *s;
    tr_send_chan_t *ch;
    tjob_t jobs[MAX_JOBS];
    uint8_t *data[MAX_JOBS];
    int queued;
    int done;          /* completions seen */
    int ok, cancelled, failed;
    bool in_order;
    bool detach_when_done;
    bool detached;
    bool detached_after_jobs;
    bool closed;
} st;

static void on_done(tr_send_job_t *job)
{
    tjob_t *j = (tjob_t *)(void *)job;
    st.in_order = st.in_order && j->index == st.done;
    st.done++;
    if (job->status == 0) {
        st.ok++;
    } else if (job->status == -ECANCELED) {
        st.cancelled++;
    } else {
        st.failed++;
    }
    if (st.detach_when_done && st.done == st.queued) {
        tr_sender_detach(st.ch);
    }
}

static void on_closed(void *arg)
{
    (void)arg;
    st.closed = true;
}

static void on_detached(void *arg)
{
    (void)arg;
    st.detached = true;
    st.detached_after_jobs = st.done == st.queued;
    tr_sender_stop(st.s, on_closed, NULL);
}

static const tr_sender_cbs_t cbs = {.done = on_done, .detached = on_detached};

static uint8_t pattern(int job, size_t k)
{
    return (uint8_t)(job * 31 + (int)(k * 7) + (int)(k >> 9));
}

static void setup(int jobs)
{
    memset(&st, 0, sizeof(st));
    st.in_order = true;
    for (int i = 0; i < jobs; i++) {
        st.data[i] = malloc(JOB_LEN);
        for (size_t k = 0; k < JOB_LEN; k++) {
            st.data[i][k] = pattern(i, k);
        }
        st.jobs[i].index = i;
        st.jobs[i].job.data = st.data[i];
        st.jobs[i].job.len = JOB_LEN;
    }
}

static void teardown(int jobs)
{
    for (int i = 0; i < jobs; i++) {
        free(st.data[i]);
    }
}

typedef struct {
    int fd;
    size_t want;
    size_t got;
    bool match;
    int slow_every; /* sleep 1 ms every this many reads (0 = never) */
} reader_t;

static void *reader_main(void *arg)
{
    reader_t *r = arg;
    uint8_t buf[16384];
    int reads = 0;
    while (r->got < r->want) {
        ssize_t n = read(r->fd, buf, sizeof(buf));
        if (n <= 0) {
            break;
        }
        for (ssize_t i = 0; i < n; i++) {
            size_t at = r->got + (size_t)i;
            if (buf[i] != pattern((int)(at / JOB_LEN), at % JOB_LEN)) {
                r->match = false;
            }
        }
        r->got += (size_t)n;
        if (r->slow_every > 0 && ++reads % r->slow_every == 0) {
            usleep(1000);
        }
    }
    return NULL;
}

static void run_until_closed(uv_loop_t *loop)
{
    for (int i = 0; i < 20000 && !st.closed; i++) {
        uv_run(loop, UV_RUN_ONCE);
    }
}

TR_TEST(sender_writes_every_job_in_order_to_a_slow_reader)
{
    enum { N = 160 }; /* 10 MiB: far more than the socket buffers */
    setup(N);
    int sv[2];
    EXPECT_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    (void)fcntl(sv[1], F_SETFL, 0); /* the reader blocks */
    uv_loop_t loop;
    uv_loop_init(&loop);
    EXPECT_EQ_INT(tr_sender_start(&loop, 2, &cbs, &st.s), 0);
    st.ch = tr_sender_open(st.s, sv[0], NULL);
    EXPECT_TRUE(st.ch != NULL);
    reader_t r = {.fd = sv[1], .want = (size_t)N * JOB_LEN, .match = true, .slow_every = 16};
    pthread_t th;
    pthread_create(&th, NULL, reader_main, &r);
    st.detach_when_done = true;
    for (int i = 0; i < N; i++) {
        st.queued++;
        EXPECT_EQ_INT(tr_sender_queue(st.ch, &st.jobs[i].job), 0);
    }
    run_until_closed(&loop);
    pthread_join(th, NULL);
    EXPECT_TRUE(st.closed);
    EXPECT_EQ_INT(st.ok, N);
    EXPECT_TRUE(st.in_order);
    EXPECT_TRUE(st.detached && st.detached_after_jobs);
    EXPECT_EQ_U64(r.got, (uint64_t)N * JOB_LEN);
    EXPECT_TRUE(r.match);
    EXPECT_EQ_INT(uv_loop_close(&loop), 0);
    close(sv[0]);
    close(sv[1]);
    teardown(N);
}

static void on_detach_timer(uv_timer_t *t)
{
    (void)t;
    tr_sender_detach(st.ch);
}

TR_TEST(sender_detach_cancels_what_was_not_written)
{
    enum { N = 100 }; /* nobody reads: the socket fills after a few jobs */
    setup(N);
    int sv[2];
    EXPECT_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    EXPECT_EQ_INT(tr_sender_start(&loop, 1, &cbs, &st.s), 0);
    st.ch = tr_sender_open(st.s, sv[0], NULL);
    for (int i = 0; i < N; i++) {
        st.queued++;
        EXPECT_EQ_INT(tr_sender_queue(st.ch, &st.jobs[i].job), 0);
    }
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(&t, on_detach_timer, 100, 0);
    run_until_closed(&loop);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_TRUE(st.closed);
    EXPECT_EQ_INT(st.done, N);
    EXPECT_TRUE(st.in_order);
    EXPECT_TRUE(st.cancelled > 0 && st.cancelled < N);
    EXPECT_EQ_INT(st.ok + st.cancelled, N);
    EXPECT_TRUE(st.detached && st.detached_after_jobs);
    EXPECT_EQ_INT(uv_loop_close(&loop), 0);
    close(sv[0]);
    close(sv[1]);
    teardown(N);
}

TR_TEST(sender_fails_the_channel_when_the_peer_is_gone)
{
    enum { N = 4 };
    setup(N);
    int sv[2];
    EXPECT_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    close(sv[1]);
    uv_loop_t loop;
    uv_loop_init(&loop);
    EXPECT_EQ_INT(tr_sender_start(&loop, 1, &cbs, &st.s), 0);
    st.ch = tr_sender_open(st.s, sv[0], NULL);
    st.queued = 2;
    EXPECT_EQ_INT(tr_sender_queue(st.ch, &st.jobs[0].job), 0);
    EXPECT_EQ_INT(tr_sender_queue(st.ch, &st.jobs[1].job), 0);
    for (int i = 0; i < 2000 && st.done < 2; i++) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    EXPECT_EQ_INT(st.failed, 2); /* EPIPE, no SIGPIPE */
    EXPECT_TRUE(tr_sender_queue(st.ch, &st.jobs[2].job) < 0);
    tr_sender_detach(st.ch);
    run_until_closed(&loop);
    EXPECT_TRUE(st.closed && st.detached);
    EXPECT_EQ_INT(uv_loop_close(&loop), 0);
    close(sv[0]);
    teardown(N);
}

TR_TEST_MAIN()
