/* Histograms and the Prometheus text format writer (see metrics.h). */
#include "common/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double tr_hist_disk_bounds_s[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                        0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                        0.5,     1.0,    2.5,     5.0,    10.0};
const size_t tr_hist_disk_n_bounds = TR_ARRAY_LEN(tr_hist_disk_bounds_s);

void tr_hist_init(tr_hist_t *h, const double *bounds_s, size_t n)
{
    TR_ASSERT(n <= TR_HIST_MAX_BOUNDS);
    h->bounds_s = bounds_s;
    h->n_bounds = n;
    for (size_t i = 0; i <= TR_HIST_MAX_BOUNDS; i++) {
        atomic_init(&h->counts[i], 0);
    }
    atomic_init(&h->sum_ns, 0);
}

void tr_hist_observe_ns(tr_hist_t *h, uint64_t ns)
{
    double s = (double)ns / 1e9;
    size_t i = 0;
    while (i < h->n_bounds && s > h->bounds_s[i]) {
        i++;
    }
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
}

void tr_hist_snapshot(const tr_hist_t *h, tr_hist_snap_t *out)
{
    memset(out, 0, sizeof(*out));
    out->bounds_s = h->bounds_s;
    out->n_bounds = h->n_bounds;
    uint64_t acc = 0;
    for (size_t i = 0; i <= h->n_bounds; i++) {
        acc += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
        out->cumulative[i] = acc;
    }
    out->count = acc;
    out->sum_s = (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9;
}

/* ------------------------------------------------------------ exposition */

int tr_prom_name_ok(const char *name, int is_label)
{
    if (name == NULL || name[0] == '\0') {
        return 0;
    }
    for (const char *p = name; *p != '\0'; p++) {
        char c = *p;
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (c == ':' && !is_label);
        int digit = c >= '0' && c <= '9';
        if (!alpha && !(digit && p != name)) {
            return 0;
        }
    }
    return 1;
}

void tr_prom_family(tr_buf_t *b, const char *name, const char *type, const char *help)
{
    TR_ASSERT(tr_prom_name_ok(name, 0));
    tr_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_escaped(tr_buf_t *b, const char *v)
{
    for (const char *p = v; *p != '\0'; p++) {
        if (*p == '\\') {
            tr_buf_append(b, "\\\\", 2);
        } else if (*p == '"') {
            tr_buf_append(b, "\\\"", 2);
        } else if (*p == '\n') {
            tr_buf_append(b, "\\n", 2);
        } else {
            tr_buf_put_u8(b, (uint8_t)*p);
        }
    }
}

/* name{k="v",...} (no value). */
static void put_series(tr_buf_t *b, const char *name, const char *suffix, va_list ap,
                       const char *extra_k, const char *extra_v)
{
    tr_buf_printf(b, "%s%s", name, suffix);
    int n = 0;
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (k == NULL) {
            break;
        }
        const char *v = va_arg(ap, const char *);
        TR_ASSERT(tr_prom_name_ok(k, 1));
        tr_buf_printf(b, "%s%s=\"", n++ == 0 ? "{" : ",", k);
        put_escaped(b, v != NULL ? v : "");
        tr_buf_put_u8(b, '"');
    }
    if (extra_k != NULL) {
        tr_buf_printf(b, "%s%s=\"%s\"", n++ == 0 ? "{" : ",", extra_k, extra_v);
    }
    if (n > 0) {
        tr_buf_put_u8(b, '}');
    }
}

static void put_double(tr_buf_t *b, double v)
{
    if (isnan(v)) {
        tr_buf_printf(b, " NaN\n");
    } else if (isinf(v)) {
        tr_buf_printf(b, " %s\n", v > 0 ? "+Inf" : "-Inf");
    } else if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        tr_buf_printf(b, " %" PRId64 "\n", (int64_t)v);
    } else {
        /* Shortest of 15 or 17 significant digits that reads back as the same double. */
        char text[40];
        snprintf(text, sizeof(text), "%.15g", v);
        if (strtod(text, NULL) != v) {
            snprintf(text, sizeof(text), "%.17g", v);
        }
        tr_buf_printf(b, " %s\n", text);
    }
}

void tr_prom_sample(tr_buf_t *b, const char *name, double value, ...)
{
    va_list ap;
    va_start(ap, value);
    put_series(b, name, "", ap, NULL, NULL);
    va_end(ap);
    put_double(b, value);
}

void tr_prom_sample_i64(tr_buf_t *b, const char *name, int64_t value, ...)
{
    va_list ap;
    va_start(ap, value);
    put_series(b, name, "", ap, NULL, NULL);
    va_end(ap);
    tr_buf_printf(b, " %" PRId64 "\n", value);
}

/* Calls put_series with no labels from a va_list-less context. */
static void put_plain(tr_buf_t *b, const char *name, const char *suffix, const char *k,
                      const char *v, ...)
{
    va_list ap;
    va_start(ap, v);
    put_series(b, name, suffix, ap, k, v);
    va_end(ap);
}

void tr_prom_histogram(tr_buf_t *b, const char *name, const tr_hist_snap_t *s)
{
    char le[32];
    for (size_t i = 0; i <= s->n_bounds; i++) {
        if (i < s->n_bounds) {
            snprintf(le, sizeof(le), "%g", s->bounds_s[i]);
        } else {
            snprintf(le, sizeof(le), "+Inf");
        }
        put_plain(b, name, "_bucket", "le", le, (const char *)NULL);
        tr_buf_printf(b, " %" PRIu64 "\n", s->cumulative[i]);
    }
    put_plain(b, name, "_sum", NULL, NULL, (const char *)NULL);
    put_double(b, s->sum_s);
    put_plain(b, name, "_count", NULL, NULL, (const char *)NULL);
    tr_buf_printf(b, " %" PRIu64 "\n", s->count);
}
