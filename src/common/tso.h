/*
 * TiDB timestamps (TSOs, PD's oracle): physical milliseconds since the Unix
 * epoch << 18 | an 18-bit logical counter. What commit_ts, the merge
 * watermark and initial-commit-ts hold. Pure.
 */
#ifndef TR_COMMON_TSO_H
#define TR_COMMON_TSO_H

#include <stdint.h>

#define TR_TSO_LOGICAL_BITS 18

/* Physical part of tso: milliseconds since the epoch. tso >= 0. */
static inline int64_t tr_tso_ms(int64_t tso)
{
    return (int64_t)((uint64_t)tso >> TR_TSO_LOGICAL_BITS);
}

/* Physical part of tso in whole seconds (a binlog event header's timestamp). */
static inline uint32_t tr_tso_seconds(int64_t tso)
{
    return (uint32_t)((uint64_t)tr_tso_ms(tso) / 1000u);
}

/* Physical part of tso in microseconds. */
static inline uint64_t tr_tso_micros(int64_t tso)
{
    return (uint64_t)tr_tso_ms(tso) * 1000u;
}

/* Physical part of tso in seconds with its millisecond fraction (Prometheus timestamps); 0
 * for tso <= 0, which stands for no timestamp yet. */
static inline double tr_tso_unix_s(int64_t tso)
{
    return tso > 0 ? (double)tr_tso_ms(tso) / 1000.0 : 0.0;
}

#endif
