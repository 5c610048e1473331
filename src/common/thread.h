/*
 * Names the calling thread (at most 15 bytes show), so top -H, perf --sort comm and
 * /proc/PID/task/TID/comm tell tirelay's threads apart. Thread: the one named.
 */
#ifndef TR_COMMON_THREAD_H
#define TR_COMMON_THREAD_H

#include <sys/prctl.h>

static inline void tr_thread_name(const char *name)
{
    (void)prctl(PR_SET_NAME, name, 0, 0, 0);
}

#endif
