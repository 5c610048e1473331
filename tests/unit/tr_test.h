/*
 * Minimal unit-test harness: TR_TEST(name) { ... } defines a test that
 * registers itself; EXPECT_* record failures with file:line and keep going;
 * TR_TEST_MAIN() runs them all and prints "N passed, N failed".
 * Include from exactly one .c per test executable.
 */
#ifndef TR_TESTS_TR_TEST_H
#define TR_TESTS_TR_TEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*tr_test_fn)(void);
struct tr_test_case {
    const char *name;
    tr_test_fn fn;
};

static struct tr_test_case tr_test_cases[512];
static int tr_test_count;
static int tr_test_failures; /* failures inside the current test */

#define TR_TEST(tname)                                                                             \
    static void test_##tname(void);                                                                \
    __attribute__((constructor)) static void register_##tname(void)                                \
    {                                                                                              \
        tr_test_cases[tr_test_count].name = #tname;                                                \
        tr_test_cases[tr_test_count].fn = test_##tname;                                            \
        tr_test_count++;                                                                           \
    }                                                                                              \
    static void test_##tname(void)

#define TR_FAIL_AT(...)                                                                            \
    do {                                                                                           \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                          \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        tr_test_failures++;                                                                        \
    } while (0)

#define EXPECT_TRUE(c)                                                                             \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            TR_FAIL_AT("expected true: %s", #c);                                                   \
        }                                                                                          \
    } while (0)

#define EXPECT_EQ_INT(a, b)                                                                        \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        if (va_ != vb_) {                                                                          \
            TR_FAIL_AT("%s == %s: %lld != %lld", #a, #b, va_, vb_);                                \
        }                                                                                          \
    } while (0)

#define EXPECT_EQ_U64(a, b)                                                                        \
    do {                                                                                           \
        uint64_t va_ = (uint64_t)(a), vb_ = (uint64_t)(b);                                         \
        if (va_ != vb_) {                                                                          \
            TR_FAIL_AT("%s == %s: %" PRIu64 " != %" PRIu64, #a, #b, va_, vb_);                     \
        }                                                                                          \
    } while (0)

#define EXPECT_EQ_STR(a, b)                                                                        \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        if (sa_ == NULL || sb_ == NULL || strcmp(sa_, sb_) != 0) {                                 \
            TR_FAIL_AT("%s == %s: \"%s\" != \"%s\"", #a, #b, sa_ ? sa_ : "(null)",                 \
                       sb_ ? sb_ : "(null)");                                                      \
        }                                                                                          \
    } while (0)

static inline void tr_test_hex(const char *label, const uint8_t *p, size_t n)
{
    fprintf(stderr, "    %s (%zu):", label, n);
    for (size_t i = 0; i < n && i < 256; i++) {
        fprintf(stderr, "%s%02x", i % 32 == 0 ? "\n      " : " ", p[i]);
    }
    fprintf(stderr, "\n");
}

#define EXPECT_EQ_MEM(a, alen, b, blen)                                                            \
    do {                                                                                           \
        const uint8_t *ma_ = (const uint8_t *)(a), *mb_ = (const uint8_t *)(b);                    \
        size_t la_ = (size_t)(alen), lb_ = (size_t)(blen);                                         \
        if (la_ != lb_ || (la_ > 0 && memcmp(ma_, mb_, la_) != 0)) {                               \
            TR_FAIL_AT("%s == %s: bytes differ", #a, #b);                                          \
            tr_test_hex("got", ma_, la_);                                                          \
            tr_test_hex("want", mb_, lb_);                                                         \
        }                                                                                          \
    } while (0)

/* Parses hex text ("0a 1b ..", whitespace and '#' comments to end of line ignored). */
static inline size_t tr_test_unhex(const char *text, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = text; *p; p++) {
        if (*p == '#') {
            while (*p && *p != '\n') {
                p++;
            }
            if (!*p) {
                break;
            }
            continue;
        }
        int v;
        if (*p >= '0' && *p <= '9') {
            v = *p - '0';
        } else if (*p >= 'a' && *p <= 'f') {
            v = *p - 'a' + 10;
        } else if (*p >= 'A' && *p <= 'F') {
            v = *p - 'A' + 10;
        } else {
            continue;
        }
        if (hi < 0) {
            hi = v;
        } else {
            if (n < cap) {
                out[n] = (uint8_t)(hi << 4 | v);
            }
            n++;
            hi = -1;
        }
    }
    return n;
}

/* Reads a whole file relative to the source tree; returns malloc'd bytes or NULL. */
static inline uint8_t *tr_test_read_file(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", TR_SOURCE_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    (void)fseek(f, 0, SEEK_END);
    long n = ftell(f);
    (void)fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
    size_t got = fread(p, 1, (size_t)n, f);
    (void)fclose(f);
    *len = got;
    return p;
}

#define TR_TEST_MAIN()                                                                             \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        int passed = 0, failed = 0;                                                                \
        for (int i = 0; i < tr_test_count; i++) {                                                  \
            if (argc > 1 && strstr(tr_test_cases[i].name, argv[1]) == NULL) {                      \
                continue;                                                                          \
            }                                                                                      \
            tr_test_failures = 0;                                                                  \
            tr_test_cases[i].fn();                                                                 \
            if (tr_test_failures == 0) {                                                           \
                passed++;                                                                          \
            } else {                                                                               \
                failed++;                                                                          \
                fprintf(stderr, "FAIL %s\n", tr_test_cases[i].name);                               \
            }                                                                                      \
        }                                                                                          \
        printf("%d passed, %d failed\n", passed, failed);                                          \
        return failed == 0 && passed > 0 ? 0 : 1;                                                  \
    }

#endif
