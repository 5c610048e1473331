/*
 * crcbench: CRC-32 (zlib polynomial) implementations over binlog-event-sized buffers
 * (issue 15 point 5: tirelay's tr_crc32 against libdeflate_crc32, with zlib's crc32_z as the
 * reference). Since that issue tr_crc32 is a call to libdeflate_crc32, so the two columns
 * show what the wrapper costs; the A/B against the PCLMULQDQ folding it replaced was run with
 * this program built at that commit (bench/README.md).
 *
 *   tr_crcbench [--seconds S] [--binlog FILE ...]
 *
 * Sizes: 50 B to 64 KiB (the events ingest writes: GTID, QUERY, TABLE_MAP, XID are
 * 30-200 bytes; rows events up to row-event-max-bytes, 8 KiB by default, more for one
 * large row) and 1 MiB. Small buffers are taken in turn from a 256 KiB working set (an
 * event is checksummed right after it is encoded, so it is in cache); each figure is the
 * best of 5 rounds of at least S/5 seconds (default S = 1), the implementations alternating
 * round by round. --binlog: the events of binlog files (walked by their event_size, CRC over
 * each event without its last 4 bytes, as the writer does; the first MiB of events), as one
 * more line per file.
 *
 * Prints per size and implementation ns per buffer and MB/s (10^6 bytes per second).
 * Exits non-zero if the implementations disagree.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libdeflate.h>
#include <zlib.h>

#include "common/clock.h"
#include "common/endian.h"
#include "protocol/crc32.h"

typedef uint32_t (*crc_fn)(uint32_t crc, const void *buf, size_t len);

static uint32_t crc_zlib(uint32_t crc, const void *buf, size_t len)
{
    return (uint32_t)crc32_z(crc, buf, len);
}

static uint32_t crc_libdeflate(uint32_t crc, const void *buf, size_t len)
{
    return libdeflate_crc32(crc, buf, len);
}

static const struct {
    const char *name;
    crc_fn fn;
} impls[] = {
    {"tr_crc32", tr_crc32},
    {"libdeflate_crc32", crc_libdeflate},
    {"zlib crc32_z", crc_zlib},
};
enum { N_IMPLS = sizeof(impls) / sizeof(impls[0]), ROUNDS = 5 };

/* One buffer: where it starts and how long it is. */
typedef struct {
    const uint8_t *p;
    size_t len;
} span_t;

static volatile uint32_t sink;

/* Seconds per pass over the spans (best of ROUNDS), and the bytes of one pass. */
static void measure(const span_t *spans, size_t n, double round_s, double best[N_IMPLS])
{
    for (int i = 0; i < N_IMPLS; i++) {
        best[i] = 1e30;
    }
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < N_IMPLS; i++) {
            uint32_t acc = 0;
            size_t passes = 0;
            double t0 = (double)tr_clock_mono_ns() / 1e9;
            double t = t0;
            do {
                for (size_t k = 0; k < n; k++) {
                    acc ^= impls[i].fn(0, spans[k].p, spans[k].len);
                }
                passes++;
                t = (double)tr_clock_mono_ns() / 1e9;
            } while (t - t0 < round_s);
            sink ^= acc;
            double per_pass = (t - t0) / (double)passes;
            if (per_pass < best[i]) {
                best[i] = per_pass;
            }
        }
    }
}

static bool agree(const span_t *spans, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        uint32_t want = crc_zlib(0, spans[k].p, spans[k].len);
        for (int i = 0; i < N_IMPLS; i++) {
            if (impls[i].fn(0, spans[k].p, spans[k].len) != want) {
                fprintf(stderr, "%s disagrees at length %zu\n", impls[i].name, spans[k].len);
                return false;
            }
        }
    }
    return true;
}

static void report(const char *label, const span_t *spans, size_t n, double round_s)
{
    size_t bytes = 0;
    for (size_t k = 0; k < n; k++) {
        bytes += spans[k].len;
    }
    double best[N_IMPLS];
    measure(spans, n, round_s, best);
    printf("%-22s", label);
    for (int i = 0; i < N_IMPLS; i++) {
        double ns = best[i] * 1e9 / (double)n;
        double mbs = (double)bytes / best[i] / 1e6;
        printf(" | %10.1f ns %9.0f MB/s", ns, mbs);
    }
    printf(" | %.2f\n", best[1] / best[0]);
}

/* The events of one binlog file as spans (CRC over all but the trailing 4 bytes). */
static span_t *binlog_spans(const char *path, uint8_t **data, size_t *n_out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return NULL;
    }
    struct stat st;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (fstat(fileno(f), &st) == 0 && st.st_size > 0) {
        len = (size_t)st.st_size;
        buf = malloc(len);
    }
    if (buf != NULL && fread(buf, 1, len, f) != len) {
        free(buf);
        buf = NULL;
    }
    (void)fclose(f);
    if (buf == NULL) {
        fprintf(stderr, "%s: cannot read\n", path);
        return NULL;
    }
    size_t n = 0;
    size_t scap = 1024;
    span_t *spans = malloc(scap * sizeof(*spans));
    size_t taken = 0; /* the first MiB of events: a hot working set, as on ingest */
    for (size_t off = 4; spans != NULL && off + 19 <= len && taken < (1u << 20);) {
        uint32_t size = tr_load_u32le(buf + off + 9);
        if (size < 19 + 4 || size > len - off) {
            break;
        }
        if (n == scap) {
            span_t *more = realloc(spans, 2 * scap * sizeof(*spans));
            if (more == NULL) {
                break; /* the events so far */
            }
            spans = more;
            scap *= 2;
        }
        spans[n].p = buf + off;
        spans[n].len = size - 4;
        taken += size;
        n++;
        off += size;
    }
    *data = buf;
    *n_out = n;
    return spans;
}

int main(int argc, char **argv)
{
    double seconds = 1.0;
    int first_file = argc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atof(argv[++i]);
        } else if (strcmp(argv[i], "--binlog") == 0) {
            first_file = i + 1;
            break;
        } else {
            fprintf(stderr, "usage: %s [--seconds S] [--binlog FILE ...]\n", argv[0]);
            return 2;
        }
    }
    double round_s = seconds / ROUNDS;

    enum { WORKING_SET = 256 << 10, BIG = 1 << 20 };
    uint8_t *arena = malloc(BIG + 64);
    if (arena == NULL) {
        return 1;
    }
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < BIG + 64; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        arena[i] = (uint8_t)x;
    }

    printf("columns: ns per buffer, MB/s (10^6 B/s), best of %d rounds\n", ROUNDS);
    printf("%-22s", "buffer");
    for (int i = 0; i < N_IMPLS; i++) {
        printf(" | %-29s", impls[i].name);
    }
    printf(" | libdeflate/tr time\n");

    static const size_t sizes[] = {50,   64,   100,   200,   500,   1024, 2048,
                                   4096, 8192, 16384, 32768, 65536, BIG};
    int rc = 0;
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        size_t len = sizes[s];
        size_t n = len >= WORKING_SET ? 1 : WORKING_SET / len;
        span_t *spans = malloc(n * sizeof(*spans));
        if (spans == NULL) {
            return 1;
        }
        for (size_t k = 0; k < n; k++) {
            spans[k].p = arena + (k * len) % (BIG - len + 1) + (k & 7); /* odd alignments too */
            spans[k].len = len;
        }
        if (!agree(spans, n)) {
            rc = 1;
        }
        char label[32];
        (void)snprintf(label, sizeof(label), "%zu B", len);
        report(label, spans, n, round_s);
        free(spans);
    }
    for (int i = first_file; i < argc; i++) {
        uint8_t *data = NULL;
        size_t n = 0;
        span_t *spans = binlog_spans(argv[i], &data, &n);
        if (spans == NULL || n == 0) {
            fprintf(stderr, "%s: no events\n", argv[i]);
            rc = 1;
            free(spans);
            free(data);
            continue;
        }
        size_t bytes = 0;
        for (size_t k = 0; k < n; k++) {
            bytes += spans[k].len;
        }
        if (!agree(spans, n)) {
            rc = 1;
        }
        char label[64];
        (void)snprintf(label, sizeof(label), "binlog %zu ev %zu B", n, bytes / n);
        report(label, spans, n, round_s);
        free(spans);
        free(data);
    }
    free(arena);
    return rc;
}
