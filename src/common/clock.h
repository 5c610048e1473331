/*
 * Clock readings for the I/O layers (codecs never read clocks: callers pass
 * `now`). CLOCK_MONOTONIC for intervals and deadlines, CLOCK_REALTIME for
 * what is compared with TSOs or shown to operators. Thread: any.
 */
#ifndef TR_COMMON_CLOCK_H
#define TR_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t tr_clock_mono_ns(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CLOCK_MONOTONIC in milliseconds. */
static inline int64_t tr_clock_mono_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* CLOCK_REALTIME in milliseconds since the Unix epoch. */
static inline int64_t tr_clock_wall_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The time on clock ms milliseconds from now (ms >= 0): the deadline pthread_cond_timedwait
 * takes (CLOCK_REALTIME, unless the condition variable was set up with
 * pthread_condattr_setclock). */
static inline struct timespec tr_clock_deadline(clockid_t clock, int64_t ms)
{
    struct timespec ts;
    (void)clock_gettime(clock, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* CLOCK_REALTIME in seconds since the Unix epoch, with its fraction. */
static inline double tr_clock_wall_s(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
