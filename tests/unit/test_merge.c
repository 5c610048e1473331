/*
 * Unit tests of the k-way merge (src/relay/merge.c): release rules with
 * queued heads and watermarks, sources that have shown nothing, ties,
 * duplicates, removal, ring growth, and a randomized comparison against a
 * brute-force model (every release is safe, nothing safe is held back, and
 * the final output is the sorted set of distinct commit_ts); tr_merge_can_pop
 * and tr_merge_peek predict every pop (the answer is remembered between them).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "relay/merge.h"
#include "tr_test.h"

/* Pops one item; returns its commit_ts, -1 if none, or -(ts + 1000000) if dropped. */
static int64_t pop1(tr_merge_t *m, uint32_t *src)
{
    tr_merge_item_t it;
    bool dropped = false;
    bool can = tr_merge_can_pop(m); /* must predict every pop, and so must peek */
    tr_merge_item_t peeked;
    bool peek_dropped = false;
    bool peek = tr_merge_peek(m, &peeked, &peek_dropped);
    if (!tr_merge_pop(m, &it, &dropped)) {
        EXPECT_TRUE(!can && !peek);
        return -1;
    }
    EXPECT_TRUE(can && peek);
    EXPECT_TRUE(peeked.commit_ts == it.commit_ts && peeked.source_id == it.source_id &&
                peek_dropped == dropped);
    if (src != NULL) {
        *src = it.source_id;
    }
    return dropped ? -(it.commit_ts + 1000000) : it.commit_ts;
}

#define PUSH(m, s, ts) EXPECT_EQ_INT(tr_merge_push((m), (s), (ts), NULL), 0)
#define MARK(m, s, ts) EXPECT_EQ_INT(tr_merge_watermark((m), (s), (ts)), 0)

TR_TEST(merge_single_source)
{
    tr_merge_t *m = tr_merge_new(0);
    EXPECT_EQ_INT(tr_merge_add_source(m, 1), 0);
    EXPECT_EQ_INT(pop1(m, NULL), -1);
    PUSH(m, 1, 10);
    PUSH(m, 1, 20);
    EXPECT_EQ_U64(tr_merge_queued(m, 1), 2);
    EXPECT_EQ_INT(pop1(m, NULL), 10);
    EXPECT_EQ_INT(pop1(m, NULL), 20);
    EXPECT_EQ_INT(pop1(m, NULL), -1);
    EXPECT_EQ_INT(tr_merge_last_ts(m), 20);
    EXPECT_EQ_U64(tr_merge_queued(m, 1), 0);
    tr_merge_free(m);
}

TR_TEST(merge_interleaving_two_sources)
{
    tr_merge_t *m = tr_merge_new(0);
    EXPECT_EQ_INT(tr_merge_add_source(m, 1), 0);
    EXPECT_EQ_INT(tr_merge_add_source(m, 2), 0);
    PUSH(m, 1, 10);
    EXPECT_EQ_INT(pop1(m, NULL), -1); /* source 2 has shown nothing */
    PUSH(m, 2, 5);
    uint32_t src = 0;
    EXPECT_EQ_INT(pop1(m, &src), 5); /* 10 queued on 1 covers 5 */
    EXPECT_EQ_INT(src, 2);
    EXPECT_EQ_INT(pop1(m, NULL), -1); /* 2 is idle at watermark 5 < 10 */
    PUSH(m, 2, 20);
    EXPECT_EQ_INT(pop1(m, &src), 10);
    EXPECT_EQ_INT(src, 1);
    EXPECT_EQ_INT(pop1(m, NULL), -1); /* 1 idle at 10 < 20 */
    MARK(m, 1, 19);
    EXPECT_EQ_INT(pop1(m, NULL), -1);
    MARK(m, 1, 20); /* promise covers 20 itself */
    EXPECT_EQ_INT(pop1(m, NULL), 20);
    EXPECT_EQ_INT(pop1(m, NULL), -1);
    tr_merge_free(m);
}

TR_TEST(merge_idle_sources_with_watermarks)
{
    tr_merge_t *m = tr_merge_new(100);
    for (uint32_t s = 1; s <= 3; s++) {
        EXPECT_EQ_INT(tr_merge_add_source(m, s), 0);
    }
    PUSH(m, 2, 150);
    PUSH(m, 2, 160);
    PUSH(m, 2, 170);
    MARK(m, 1, 155);
    EXPECT_EQ_INT(pop1(m, NULL), -1); /* 3 has shown nothing */
    MARK(m, 3, 200);
    EXPECT_EQ_INT(pop1(m, NULL), 150);
    EXPECT_EQ_INT(pop1(m, NULL), -1); /* 1 reaches only 155 */
    EXPECT_EQ_INT(tr_merge_watermark_ts(m), 155);
    MARK(m, 1, 150); /* a lower fake does not lower the watermark */
    EXPECT_EQ_INT(pop1(m, NULL), -1);
    MARK(m, 1, 1000);
    EXPECT_EQ_INT(pop1(m, NULL), 160);
    EXPECT_EQ_INT(pop1(m, NULL), 170);
    EXPECT_EQ_INT(pop1(m, NULL), -1);
    /* Idle everywhere: 2 at 170, 3 at 200, 1 at 1000. */
    EXPECT_EQ_INT(tr_merge_watermark_ts(m), 170);
    EXPECT_EQ_INT(tr_merge_last_ts(m), 170);
    tr_merge_free(m);
}

TR_TEST(merge_blocking_source_with_nothing_seen)
{
    tr_merge_t *m = tr_merge_new(0);
    EXPECT_EQ_INT(tr_merge_add_source(m, 1), 0);
    EXPECT_EQ_INT(tr_merge_add_source(m, 2), 0);
    EXPECT_EQ_INT(tr_merge_add_source(m, 3), 0);
    PUSH(m, 1, 1);
    MARK(m, 2, 1000000);
    for (int i = 0; i < 3; i++) {
        EXPECT_EQ_INT(pop1(m, NULL), -1);
    }
    EXPECT_EQ_INT(tr_merge_watermark_ts(m), 0);
    /* Even a fake below the head is enough to show presence, but not to release. */
    MARK(m, 3, 0);
    EXPECT_EQ_INT(pop1(m, NULL), -1);
    MARK(m, 3, 1);
    EXPECT_EQ_INT(pop1(m, NULL), 1);
    tr_merge_free(m);
}

TR_TEST(merge_ties_broken_by_source_id)
{
    tr_merge_t *m = tr_merge_new(0);
    /* Added in reverse order so array order differs from id order. */
    EXPECT_EQ_INT(tr_merge_add_source(m, 9), 0);
    EXPECT_EQ_INT(tr_merge_add_source(m, 4), 0);
    PUSH(m, 9, 10);
    PUSH(m, 4, 10);
    uint32_t src = 0;
    EXPECT_EQ_INT(pop1(m, &src), 10);
    EXPECT_EQ_INT(src, 4);
    EXPECT_EQ_INT(pop1(m, &src), -(10 + 1000000)); /* the twin is a duplicate */
    EXPECT_EQ_INT(src, 9);
    EXPECT_EQ_INT(pop1(m, NULL), -1);
    tr_merge_free(m);
}

TR_TEST(merge_duplicates_dropped)
{
    tr_merge_t *m = tr_merge_new(50);
    EXPECT_EQ_INT(tr_merge_add_source(m, 1), 0);
    EXPECT_EQ_INT(tr_merge_add_source(m, 2), 0);
    /* At or below the checkpoint: handed back at once, even while 2 is silent. */
    PUSH(m, 1, 40);
    PUSH(m, 1, 50);
    PUSH(m, 1, 60);
    EXPECT_EQ_INT(pop1(m, NULL), -(40 + 1000000));
    EXPECT_EQ_INT(pop1(m, NULL), -(50 + 1000000));
    EXPECT_EQ_INT(pop1(m, NULL), -1);
    EXPECT_EQ_INT(tr_merge_last_ts(m), 50);
    MARK(m, 2, 60);
    EXPECT_EQ_INT(pop1(m, NULL), 60);
    /* A source that goes backwards: queued, then dropped at the head. */
    PUSH(m, 2, 55);
    EXPECT_EQ_INT(pop1(m, NULL), -(55 + 1000000));
    PUSH(m, 2, 60);
    EXPECT_EQ_INT(pop1(m, NULL), -(60 + 1000000));
    EXPECT_EQ_INT(tr_merge_last_ts(m), 60);
    tr_merge_free(m);
}

TR_TEST(merge_data_pointers_returned)
{
    int a = 1;
    int b = 2;
    tr_merge_t *m = tr_merge_new(0);
    EXPECT_EQ_INT(tr_merge_add_source(m, 1), 0);
    EXPECT_EQ_INT(tr_merge_push(m, 1, 5, &a), 0);
    EXPECT_EQ_INT(tr_merge_push(m, 1, 6, &b), 0);
    tr_merge_item_t it;
    bool dropped = true;
    EXPECT_TRUE(tr_merge_pop(m, &it, &dropped));
    EXPECT_TRUE(!dropped && it.data == &a && it.commit_ts == 5 && it.source_id == 1);
    EXPECT_TRUE(tr_merge_pop(m, &it, &dropped));
    EXPECT_TRUE(!dropped && it.data == &b && it.commit_ts == 6);
    tr_merge_free(m);
}

static int g_dropped;
static void count_drop(void *data)
{
    (void)data;
    g_dropped++;
}

TR_TEST(merge_remove_source)
{
    tr_merge_t *m = tr_merge_new(0);
    EXPECT_EQ_INT(tr_merge_add_source(m, 1), 0);
    EXPECT_EQ_INT(tr_merge_add_source(m, 2), 0);
    EXPECT_EQ_INT(tr_merge_add_source(m, 3), 0);
    PUSH(m, 1, 10);
    PUSH(m, 3, 30);
    PUSH(m, 3, 40);
    MARK(m, 2, 5); /* 2 blocks 10 */
    EXPECT_EQ_INT(pop1(m, NULL), -1);
    g_dropped = 0;
    tr_merge_remove_source(m, 3, count_drop);
    EXPECT_EQ_INT(g_dropped, 2);
    EXPECT_EQ_U64(tr_merge_queued(m, 3), 0);
    EXPECT_EQ_INT(tr_merge_push(m, 3, 50, NULL), TR_ENOTFOUND);
    EXPECT_EQ_INT(pop1(m, NULL), -1); /* 2 still blocks */
    tr_merge_remove_source(m, 2, count_drop);
    EXPECT_EQ_INT(g_dropped, 2);
    EXPECT_EQ_INT(pop1(m, NULL), 10);
    /* Removing an unknown source is a no-op; NULL drop is allowed. */
    tr_merge_remove_source(m, 77, count_drop);
    PUSH(m, 1, 11);
    tr_merge_remove_source(m, 1, NULL);
    EXPECT_EQ_INT(pop1(m, NULL), -1);
    EXPECT_EQ_INT(tr_merge_watermark_ts(m), 10); /* no sources: the last release */
    /* Re-added: it starts unseen. */
    EXPECT_EQ_INT(tr_merge_add_source(m, 1), 0);
    EXPECT_EQ_INT(tr_merge_add_source(m, 2), 0);
    PUSH(m, 1, 12);
    EXPECT_EQ_INT(pop1(m, NULL), -1);
    MARK(m, 2, 12);
    EXPECT_EQ_INT(pop1(m, NULL), 12);
    tr_merge_free(m);
}

TR_TEST(merge_errors)
{
    tr_merge_t *m = tr_merge_new(0);
    EXPECT_EQ_INT(tr_merge_add_source(m, 1), 0);
    EXPECT_EQ_INT(tr_merge_add_source(m, 1), -EEXIST);
    EXPECT_EQ_INT(tr_merge_push(m, 2, 1, NULL), TR_ENOTFOUND);
    EXPECT_EQ_INT(tr_merge_watermark(m, 2, 1), TR_ENOTFOUND);
    EXPECT_EQ_U64(tr_merge_queued(m, 2), 0);
    tr_merge_free(m);
    tr_merge_free(NULL);
}

TR_TEST(merge_watermark_ts)
{
    tr_merge_t *m = tr_merge_new(7);
    EXPECT_EQ_INT(tr_merge_watermark_ts(m), 7);
    EXPECT_EQ_INT(tr_merge_add_source(m, 1), 0);
    EXPECT_EQ_INT(tr_merge_add_source(m, 2), 0);
    EXPECT_EQ_INT(tr_merge_watermark_ts(m), 7); /* unseen sources start after last_ts */
    PUSH(m, 1, 20);
    MARK(m, 2, 15);
    EXPECT_EQ_INT(tr_merge_watermark_ts(m), 15);
    MARK(m, 2, 30);
    /* 20 is now releasable but not yet popped: settled only below it. */
    EXPECT_EQ_INT(tr_merge_watermark_ts(m), 19);
    EXPECT_EQ_INT(pop1(m, NULL), 20);
    EXPECT_EQ_INT(tr_merge_watermark_ts(m), 20);
    MARK(m, 1, 40);
    EXPECT_EQ_INT(tr_merge_watermark_ts(m), 30);
    tr_merge_free(m);
}

TR_TEST(merge_ring_growth_and_wrap)
{
    tr_merge_t *m = tr_merge_new(0);
    EXPECT_EQ_INT(tr_merge_add_source(m, 1), 0);
    EXPECT_EQ_INT(tr_merge_add_source(m, 2), 0);
    MARK(m, 2, 1);
    int64_t next_push = 2;
    int64_t next_pop = 2;
    uint64_t seed = 12345;
    /* Pushes and pops in uneven bursts so the ring wraps and grows repeatedly. */
    for (int round = 0; round < 200; round++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int n_push = (int)((seed >> 33) % 40);
        for (int i = 0; i < n_push; i++) {
            PUSH(m, 1, next_push++);
        }
        MARK(m, 2, next_push);
        int n_pop = (int)((seed >> 45) % 40);
        for (int i = 0; i < n_pop; i++) {
            int64_t ts = pop1(m, NULL);
            if (ts == -1) {
                break;
            }
            EXPECT_EQ_INT(ts, next_pop);
            next_pop++;
        }
        EXPECT_EQ_U64(tr_merge_queued(m, 1), (uint64_t)(next_push - next_pop));
    }
    for (int64_t ts; (ts = pop1(m, NULL)) != -1;) {
        EXPECT_EQ_INT(ts, next_pop);
        next_pop++;
    }
    EXPECT_EQ_INT(next_pop, next_push);
    tr_merge_free(m);
}

/* ---------------------------------------------------------------- model test */

#define MODEL_SOURCES 5
#define MODEL_EVENTS  60

typedef struct {
    int64_t ts;
    bool is_fake;
} model_event_t;

typedef struct {
    model_event_t ev[MODEL_EVENTS];
    int n;    /* events generated */
    int next; /* next event to deliver */
    /* Model state: FIFO of delivered real ts not yet popped, watermark. */
    int64_t queue[MODEL_EVENTS];
    int q_head;
    int q_tail;
    bool seen;
    int64_t watermark;
    bool removed;
} model_src_t;

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng_state >> 33) % n);
}

/* Brute force: is there any queued item that the rules allow to go out now? */
static bool model_has_release(model_src_t *src, int64_t last)
{
    for (int s = 0; s < MODEL_SOURCES; s++) {
        if (src[s].removed) {
            continue;
        }
        for (int k = src[s].q_head; k < src[s].q_tail; k++) {
            if (src[s].queue[k] <= last) {
                return true; /* a drop */
            }
        }
    }
    for (int s = 0; s < MODEL_SOURCES; s++) {
        if (src[s].removed || src[s].q_head == src[s].q_tail) {
            continue;
        }
        int64_t c = src[s].queue[src[s].q_head];
        bool ok = true;
        for (int t = 0; t < MODEL_SOURCES && ok; t++) {
            if (t == s || src[t].removed) {
                continue;
            }
            if (src[t].q_head < src[t].q_tail) {
                int64_t h = src[t].queue[src[t].q_head];
                ok = h > c || (h == c && t > s);
            } else {
                ok = src[t].seen && src[t].watermark >= c;
            }
        }
        if (ok) {
            return true;
        }
    }
    return false;
}

static void model_run(uint64_t seed, bool with_removal)
{
    rng_state = seed;
    model_src_t src[MODEL_SOURCES];
    memset(src, 0, sizeof(src));
    int64_t initial_last = 20;
    /* Each source gets a strictly increasing stream of real and fake binlogs
     * from a small shared range, so cross-source duplicates happen. */
    for (int s = 0; s < MODEL_SOURCES; s++) {
        int64_t ts = (int64_t)rnd(10);
        src[s].n = 10 + (int)rnd(MODEL_EVENTS - 10);
        for (int i = 0; i < src[s].n; i++) {
            ts += 1 + (int64_t)rnd(6);
            src[s].ev[i].ts = ts;
            src[s].ev[i].is_fake = rnd(10) < 3;
        }
    }
    tr_merge_t *m = tr_merge_new(initial_last);
    for (int s = 0; s < MODEL_SOURCES; s++) {
        EXPECT_EQ_INT(tr_merge_add_source(m, (uint32_t)(s + 1)), 0);
    }
    int64_t last = initial_last;
    int64_t released[MODEL_SOURCES * MODEL_EVENTS];
    int n_released = 0;
    int n_dropped = 0;
    int n_pushed = 0;
    int removed_queued = 0;
    int removed_src = with_removal ? (int)rnd(MODEL_SOURCES) : -1;
    int remove_at = with_removal ? (int)rnd(100) : -1;

    for (int step = 0;; step++) {
        if (step == remove_at) {
            model_src_t *r = &src[removed_src];
            g_dropped = 0;
            tr_merge_remove_source(m, (uint32_t)(removed_src + 1), count_drop);
            removed_queued = r->q_tail - r->q_head;
            EXPECT_EQ_INT(g_dropped, removed_queued);
            r->removed = true;
        }
        /* Deliver one event from a random source that has events left. */
        int alive[MODEL_SOURCES];
        int n_alive = 0;
        for (int s = 0; s < MODEL_SOURCES; s++) {
            if (!src[s].removed && src[s].next < src[s].n) {
                alive[n_alive++] = s;
            }
        }
        if (n_alive == 0) {
            break;
        }
        int s = alive[rnd((uint32_t)n_alive)];
        model_event_t *e = &src[s].ev[src[s].next++];
        if (e->is_fake) {
            EXPECT_EQ_INT(tr_merge_watermark(m, (uint32_t)(s + 1), e->ts), 0);
        } else {
            EXPECT_EQ_INT(tr_merge_push(m, (uint32_t)(s + 1), e->ts, NULL), 0);
            src[s].queue[src[s].q_tail++] = e->ts;
            n_pushed++;
        }
        src[s].seen = true;
        src[s].watermark = e->ts;

        /* Pop everything available and check each release against the model. */
        for (;;) {
            bool expect = model_has_release(src, last);
            tr_merge_item_t it;
            bool dropped = false;
            bool can = tr_merge_can_pop(m);
            tr_merge_item_t peeked;
            bool peek_dropped = false;
            bool peek = tr_merge_peek(m, &peeked, &peek_dropped);
            bool got = tr_merge_pop(m, &it, &dropped);
            EXPECT_EQ_INT(got, expect);
            EXPECT_EQ_INT(can, got);
            EXPECT_EQ_INT(peek, got);
            EXPECT_TRUE(!got || (peeked.commit_ts == it.commit_ts &&
                                 peeked.source_id == it.source_id && peek_dropped == dropped));
            if (!got || !expect) {
                break;
            }
            int i = (int)it.source_id - 1;
            EXPECT_TRUE(i >= 0 && i < MODEL_SOURCES && !src[i].removed);
            EXPECT_TRUE(src[i].q_head < src[i].q_tail);
            EXPECT_EQ_INT(it.commit_ts, src[i].queue[src[i].q_head]);
            src[i].q_head++;
            if (dropped) {
                EXPECT_TRUE(it.commit_ts <= last);
                n_dropped++;
                continue;
            }
            /* Safe: every other source has nothing still to come below it. */
            EXPECT_TRUE(it.commit_ts > last);
            for (int t = 0; t < MODEL_SOURCES; t++) {
                if (t == i || src[t].removed) {
                    continue;
                }
                for (int k = src[t].next; k < src[t].n; k++) {
                    if (!src[t].ev[k].is_fake) {
                        EXPECT_TRUE(src[t].ev[k].ts >= it.commit_ts);
                        break;
                    }
                }
                for (int k = src[t].q_head; k < src[t].q_tail; k++) {
                    EXPECT_TRUE(src[t].queue[k] >= it.commit_ts);
                }
            }
            last = it.commit_ts;
            released[n_released++] = it.commit_ts;
        }
    }
    /* Every source has finished: a final watermark from each lets all go. */
    for (int s = 0; s < MODEL_SOURCES; s++) {
        if (!src[s].removed) {
            EXPECT_EQ_INT(tr_merge_watermark(m, (uint32_t)(s + 1), INT64_MAX), 0);
        }
    }
    for (;;) {
        tr_merge_item_t it;
        bool dropped = false;
        if (!tr_merge_pop(m, &it, &dropped)) {
            break;
        }
        if (dropped) {
            n_dropped++;
        } else {
            EXPECT_TRUE(it.commit_ts > last);
            last = it.commit_ts;
            released[n_released++] = it.commit_ts;
        }
    }
    EXPECT_EQ_INT(n_released + n_dropped + removed_queued, n_pushed);
    for (int s = 0; s < MODEL_SOURCES; s++) {
        EXPECT_EQ_U64(tr_merge_queued(m, (uint32_t)(s + 1)), 0);
    }
    if (!with_removal) {
        /* Output = sorted distinct real commit_ts above the checkpoint. */
        int64_t want[MODEL_SOURCES * MODEL_EVENTS];
        int n_want = 0;
        for (int64_t ts = initial_last + 1; ts <= 10 + 6 * MODEL_EVENTS; ts++) {
            bool any = false;
            for (int s = 0; s < MODEL_SOURCES && !any; s++) {
                for (int i = 0; i < src[s].n; i++) {
                    if (!src[s].ev[i].is_fake && src[s].ev[i].ts == ts) {
                        any = true;
                        break;
                    }
                }
            }
            if (any) {
                want[n_want++] = ts;
            }
        }
        EXPECT_EQ_INT(n_released, n_want);
        if (n_released == n_want) {
            EXPECT_EQ_MEM(released, sizeof(int64_t) * (size_t)n_released, want,
                          sizeof(int64_t) * (size_t)n_want);
        }
    }
    tr_merge_free(m);
}

TR_TEST(merge_randomized_against_model)
{
    for (uint64_t seed = 1; seed <= 400; seed++) {
        int before = tr_test_failures;
        model_run(seed, false);
        if (tr_test_failures != before) {
            fprintf(stderr, "    seed %llu\n", (unsigned long long)seed);
            break;
        }
    }
}

TR_TEST(merge_randomized_with_removal)
{
    for (uint64_t seed = 1000; seed <= 1300; seed++) {
        int before = tr_test_failures;
        model_run(seed, true);
        if (tr_test_failures != before) {
            fprintf(stderr, "    seed %llu\n", (unsigned long long)seed);
            break;
        }
    }
}

/* Joining mode (TiCDC): equal commit_ts from several sources all come out, ordered by
 * source id, each one peeked before it is popped; only lower ones are dropped. */
TR_TEST(merge_join_equal_commit_ts)
{
    tr_merge_t *m = tr_merge_new(5);
    tr_merge_set_join(m, true);
    for (uint32_t s = 0; s < 3; s++) {
        EXPECT_EQ_INT(tr_merge_add_source(m, s), 0);
    }
    PUSH(m, 2, 10);
    PUSH(m, 0, 10);
    MARK(m, 0, 12);
    tr_merge_item_t it;
    bool dropped = true;
    EXPECT_TRUE(!tr_merge_peek(m, &it, &dropped)); /* source 1 has shown nothing */
    MARK(m, 1, 10);
    EXPECT_TRUE(tr_merge_peek(m, &it, &dropped));
    EXPECT_TRUE(!dropped);
    EXPECT_EQ_INT(it.commit_ts, 10);
    EXPECT_EQ_INT(it.source_id, 0);
    uint32_t src = 99;
    EXPECT_EQ_INT(pop1(m, &src), 10);
    EXPECT_EQ_INT(src, 0);
    EXPECT_TRUE(tr_merge_peek(m, &it, &dropped) && it.source_id == 2 && !dropped);
    EXPECT_EQ_INT(pop1(m, &src), 10); /* joined, not a duplicate */
    EXPECT_EQ_INT(src, 2);
    EXPECT_EQ_INT(pop1(m, NULL), -1);
    PUSH(m, 1, 9); /* below the last release: dropped */
    EXPECT_EQ_INT(pop1(m, NULL), -(9 + 1000000));
    tr_merge_free(m);

    /* Without it, the second one is a duplicate, as with Pumps. */
    m = tr_merge_new(5);
    EXPECT_EQ_INT(tr_merge_add_source(m, 0), 0);
    EXPECT_EQ_INT(tr_merge_add_source(m, 1), 0);
    PUSH(m, 0, 10);
    PUSH(m, 1, 10);
    EXPECT_EQ_INT(pop1(m, NULL), 10);
    EXPECT_EQ_INT(pop1(m, NULL), -(10 + 1000000));
    tr_merge_free(m);
}

TR_TEST_MAIN()
