/*
 * Unit tests of the TiCDC record log (src/relay/cdc_log.c): records in heap chunks while
 * under the budget, then in unlinked spill files; a record's bytes stay put until it is
 * released, in any order; shrink gives back the tail of the last record; chunks go once
 * full and released; a spill directory that cannot be used is an error, not a crash.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "relay/cdc_log.h"
#include "tr_test.h"

TR_TEST(cdc_log_heap_then_files)
{
    char dir[] = "/tmp/tr-cdc-log-XXXXXX";
    EXPECT_TRUE(mkdtemp(dir) != NULL);
    tr_cdc_log_t *l = tr_cdc_log_new(dir, 2 * TR_CDC_LOG_HEAP_CHUNK);
    enum { N = 3000 };
    static uint8_t *recs[N];
    int err = 0;
    for (int i = 0; i < N; i++) {
        size_t len = 8192;
        recs[i] = tr_cdc_log_alloc(l, len, &err);
        EXPECT_TRUE(recs[i] != NULL);
        if (recs[i] == NULL) {
            return;
        }
        EXPECT_TRUE(((uintptr_t)recs[i] & 7u) == 0);
        memset(recs[i], i & 0xff, 100);
        tr_cdc_log_shrink(l, recs[i], 100); /* only the first 100 bytes kept */
    }
    tr_cdc_log_stats_t st;
    tr_cdc_log_stats(l, &st);
    EXPECT_EQ_U64(st.live, N);
    EXPECT_TRUE(st.heap_bytes <= 2 * TR_CDC_LOG_HEAP_CHUNK);
    /* 3000 records of 100 bytes after shrinking fit in the heap chunks. */
    EXPECT_EQ_U64(st.file_bytes, 0);
    for (int i = 0; i < N; i++) {
        EXPECT_TRUE(recs[i][0] == (uint8_t)(i & 0xff) && recs[i][99] == (uint8_t)(i & 0xff));
    }
    /* Past the budget: records spill to files. */
    static uint8_t *big[40];
    for (int i = 0; i < 40; i++) {
        big[i] = tr_cdc_log_alloc(l, 1u << 20, &err);
        EXPECT_TRUE(big[i] != NULL);
        memset(big[i], 0x5a, 1u << 20);
    }
    tr_cdc_log_stats(l, &st);
    EXPECT_TRUE(st.file_bytes > 0);
    EXPECT_TRUE(st.spilled >= 1);
    /* Release in another order than allocation. */
    for (int i = N - 1; i >= 0; i -= 2) {
        tr_cdc_log_release(l, recs[i]);
    }
    for (int i = 0; i < N; i += 2) {
        tr_cdc_log_release(l, recs[i]);
    }
    for (int i = 0; i < 40; i++) {
        EXPECT_TRUE(big[i][0] == 0x5a && big[i][(1u << 20) - 1] == 0x5a);
        tr_cdc_log_release(l, big[i]);
    }
    tr_cdc_log_stats(l, &st);
    EXPECT_EQ_U64(st.live, 0);
    /* Only the current chunk remains. */
    EXPECT_TRUE(st.heap_bytes + st.file_bytes <= TR_CDC_LOG_FILE_CHUNK);
    tr_cdc_log_free(l);
    EXPECT_EQ_INT(rmdir(dir), 0); /* the spill files were unlinked */
}

TR_TEST(cdc_log_record_larger_than_a_chunk)
{
    tr_cdc_log_t *l = tr_cdc_log_new("/tmp", 64u << 20);
    int err = 0;
    uint8_t *r = tr_cdc_log_alloc(l, 9u << 20, &err);
    EXPECT_TRUE(r != NULL);
    memset(r, 1, 9u << 20);
    uint8_t *s = tr_cdc_log_alloc(l, 16, &err);
    EXPECT_TRUE(s != NULL);
    tr_cdc_log_release(l, r);
    tr_cdc_log_release(l, s);
    tr_cdc_log_free(l);
}

TR_TEST(cdc_log_unusable_spill_dir)
{
    tr_cdc_log_t *l = tr_cdc_log_new("/nonexistent/tirelay", 0);
    int err = 0;
    void *r = tr_cdc_log_alloc(l, 64, &err);
    EXPECT_TRUE(r == NULL);
    EXPECT_EQ_INT(err, -ENOENT);
    tr_cdc_log_free(l);
}

/* Chunks freed while records keep coming are kept and reused; tr_cdc_log_trim gives them
 * back, and the log goes on with fresh ones (ASan sees every chunk freed once). */
TR_TEST(cdc_log_spare_chunks_reused_then_trimmed)
{
    tr_cdc_log_t *l = tr_cdc_log_new("/tmp", 64 * TR_CDC_LOG_HEAP_CHUNK);
    int err = 0;
    for (int round = 0; round < 3; round++) {
        /* Six chunks' worth of 64 KiB records, all released: five chunks become spares. */
        enum { N = 6 * (TR_CDC_LOG_HEAP_CHUNK / (64u << 10)) };
        static void *recs[N];
        for (int i = 0; i < N; i++) {
            recs[i] = tr_cdc_log_alloc(l, (64u << 10) - 64, &err);
            EXPECT_TRUE(recs[i] != NULL);
            if (recs[i] == NULL) {
                tr_cdc_log_free(l);
                return;
            }
            memset(recs[i], round, 64);
        }
        for (int i = 0; i < N; i++) {
            EXPECT_TRUE(((uint8_t *)recs[i])[63] == (uint8_t)round);
            tr_cdc_log_release(l, recs[i]);
        }
        tr_cdc_log_stats_t st;
        tr_cdc_log_stats(l, &st);
        EXPECT_EQ_U64(st.live, 0);
        EXPECT_EQ_U64(st.heap_bytes, TR_CDC_LOG_HEAP_CHUNK); /* the current chunk only */
        if (round == 1) {
            tr_cdc_log_trim(l);
            tr_cdc_log_trim(l); /* nothing left: a no-op */
        }
    }
    tr_cdc_log_free(l);
}

TR_TEST_MAIN()
