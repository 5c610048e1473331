/*
 * Metric building blocks: a latency histogram updated with relaxed atomics
 * (cheap on hot paths, any number of writer threads, read at scrape time)
 * and a writer of the Prometheus text exposition format (version 0.0.4,
 * https://prometheus.io/docs/instrumenting/exposition_formats/) into a
 * tr_buf_t. Pure: no I/O, no clock, no globals; each module keeps its own
 * counters and src/metrics.c gathers them when scraped.
 */
#ifndef TR_COMMON_METRICS_H
#define TR_COMMON_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/defs.h"

#define TR_HIST_MAX_BOUNDS 24

#if defined(__GNUC__) || defined(__clang__)
#define TR_PROM_SENTINEL __attribute__((sentinel))
#else
#define TR_PROM_SENTINEL
#endif

/* A histogram of durations. Buckets are not cumulative here (one counter per
 * bucket, the last one is +Inf); the exposition makes them cumulative. */
typedef struct {
    const double *bounds_s;                       /* keeps: upper bounds in seconds, increasing */
    size_t n_bounds;                              /* <= TR_HIST_MAX_BOUNDS */
    _Atomic uint64_t counts[TR_HIST_MAX_BOUNDS + 1];
    _Atomic uint64_t sum_ns;                      /* total observed nanoseconds */
} tr_hist_t;

/* A copy of a histogram taken at one moment (counts are cumulative). */
typedef struct {
    const double *bounds_s;
    size_t n_bounds;
    uint64_t cumulative[TR_HIST_MAX_BOUNDS + 1]; /* [i] = observations <= bounds_s[i]; last = all */
    uint64_t count;
    double sum_s;
} tr_hist_snap_t;

/* Bounds suited to fsync and other disk latencies: 50 us .. 10 s. */
extern const double tr_hist_disk_bounds_s[];
extern const size_t tr_hist_disk_n_bounds;

/* Initialises h with bounds (keeps them; n <= TR_HIST_MAX_BOUNDS). Thread: before sharing. */
void tr_hist_init(tr_hist_t *h, const double *bounds_s, size_t n);
/* Records one duration. Thread: any (relaxed atomics, no lock). */
void tr_hist_observe_ns(tr_hist_t *h, uint64_t ns);
/* Copies h into out. Thread: any (a concurrent observation may be half seen:
 * count and sum can differ by one observation, which Prometheus tolerates). */
void tr_hist_snapshot(const tr_hist_t *h, tr_hist_snap_t *out);

/* ---- exposition writer ---- */

/*
 * True when name is a valid metric or label name ([a-zA-Z_:][a-zA-Z0-9_:]*,
 * no ':' for labels).
 */
int tr_prom_name_ok(const char *name, int is_label);

/* Appends "# HELP name help\n# TYPE name type\n" (type: counter, gauge,
 * histogram). help must not contain a newline or backslash. */
void tr_prom_family(tr_buf_t *b, const char *name, const char *type, const char *help);

/*
 * Appends one sample line: name{k1="v1",...} value. The labels are given as
 * NULL-terminated pairs of strings after value; values are escaped (\\, \",
 * \n). value is printed as an integer when it is one (exactly below 2^53),
 * else with the fewest of 15 or 17 significant digits that read back exactly.
 *   tr_prom_sample(b, "tirelay_errors_total", 3, "kind", "auth", NULL);
 */
void tr_prom_sample(tr_buf_t *b, const char *name, double value, ...) TR_PROM_SENTINEL;
/* Same, for an exact 64-bit integer (a TSO is above 2^53: printed in full). */
void tr_prom_sample_i64(tr_buf_t *b, const char *name, int64_t value, ...) TR_PROM_SENTINEL;
/* Appends the _bucket/_sum/_count lines of histogram base name (the family
 * line is the caller's). */
void tr_prom_histogram(tr_buf_t *b, const char *name, const tr_hist_snap_t *s);

#endif
