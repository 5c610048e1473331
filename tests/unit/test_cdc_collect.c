/*
 * Unit tests of the TiCDC collector (src/relay/cdc_collect.c): release at the watermark
 * in (commit_ts, offset) order, one group per commit_ts, DDL after the rows sharing its
 * commit_ts, the three redelivery rules (each case of shared/spec/ticdc.md Corrections 3:
 * at or below the watermark, above it and keyed, keyless with identical rows in one
 * transaction, keyless replay), shadows below the checkpoint, positions, and a randomized
 * restart: stopping at any commit and resuming from the stored positions emits exactly
 * what an uninterrupted run emits after that commit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "protocol/tidb_binlog.h"
#include "relay/cdc_collect.h"
#include "tr_test.h"

#define MAX_OUT 4096

typedef struct {
    uint32_t source;
    int64_t ts;
    char text[64]; /* the record's data */
    int64_t offset;
    tr_cdc_rec_t *rec;
} out_row_t;

typedef struct {
    out_row_t rows[MAX_OUT];
    size_t n;
    size_t groups;
    int64_t marks[8];
    size_t released;
} sink_t;

static void on_emit(void *arg, uint32_t source, int64_t ts, tr_cdc_rec_t *first, size_t n)
{
    sink_t *s = arg;
    size_t k = 0;
    s->groups++;
    for (tr_cdc_rec_t *r = first; r != NULL; r = r->next, k++) {
        EXPECT_EQ_INT(r->commit_ts, ts);
        out_row_t *o = &s->rows[s->n++];
        o->source = source;
        o->ts = ts;
        o->offset = r->offset;
        o->rec = r;
        snprintf(o->text, sizeof(o->text), "%.*s", (int)r->len, (const char *)r->data);
    }
    EXPECT_EQ_INT(k, n);
}

static void on_mark(void *arg, uint32_t source, int64_t ts)
{
    sink_t *s = arg;
    if (source < 8) {
        s->marks[source] = ts;
    }
}

static void on_release(void *arg, tr_cdc_rec_t *r)
{
    ((sink_t *)arg)->released++;
    free(r);
}

static tr_cdc_rec_t *mk(int32_t part, int64_t off, int kind, bool keyed, uint32_t table, int64_t ts,
                        const char *text)
{
    size_t len = strlen(text);
    tr_cdc_rec_t *r = calloc(1, sizeof(*r) + len);
    r->part = part;
    r->offset = off;
    r->kind = (uint8_t)kind;
    r->op = TR_TIDB_MUT_INSERT;
    r->flags = keyed ? TR_CDC_KEYED : 0;
    r->table = table;
    r->layout = 1;
    r->commit_ts = ts;
    r->len = (uint32_t)len;
    memcpy(r->data, text, len);
    r->hash = tr_hash_bytes(text, len, (uint64_t)ts * 31 + table);
    return r;
}

static tr_cdc_collect_t *mkc(sink_t *s, uint32_t n, int64_t last)
{
    memset(s, 0, sizeof(*s));
    tr_cdc_collect_cb_t cb = {on_emit, on_mark, on_release, s};
    return tr_cdc_collect_new(n, last, &cb);
}

/* Hands every emitted record back as committed. */
static void commit_all(tr_cdc_collect_t *c, sink_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->rows[i].rec != NULL) {
            tr_cdc_collect_done(c, s->rows[i].rec);
            free(s->rows[i].rec);
            s->rows[i].rec = NULL;
        }
    }
}

TR_TEST(cdc_release_order_and_groups)
{
    sink_t s;
    tr_cdc_collect_t *c = mkc(&s, 2, 0);
    /* Partition 0: tables interleave, commit_ts not in arrival order across tables. */
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 0, TR_CDC_ROW, true, 1, 20, "a20")));
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 1, TR_CDC_ROW, true, 2, 10, "b10")));
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 2, TR_CDC_ROW, true, 1, 20, "c20")));
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 3, TR_CDC_ROW, true, 2, 30, "d30")));
    tr_cdc_collect_watermark(c, 0, 4, 25);
    EXPECT_EQ_INT(s.n, 3);
    EXPECT_EQ_INT(s.groups, 2);
    EXPECT_EQ_STR(s.rows[0].text, "b10");
    EXPECT_EQ_STR(s.rows[1].text, "a20");
    EXPECT_EQ_STR(s.rows[2].text, "c20");
    EXPECT_EQ_INT(s.marks[0], 25);
    EXPECT_EQ_INT(s.marks[2], 25); /* the DDL source follows partition 0 */
    EXPECT_EQ_INT(s.marks[1], 0);
    tr_cdc_part_stats_t st;
    tr_cdc_collect_stats(c, 0, &st);
    EXPECT_EQ_INT(st.pending, 1);
    /* Position: the oldest live record, a20 at offset 0 (emitted, not committed). */
    int64_t off, w;
    tr_cdc_collect_position(c, 0, &off, &w);
    EXPECT_EQ_INT(off, 0);
    EXPECT_EQ_INT(w, 0);
    commit_all(c, &s);
    tr_cdc_collect_position(c, 0, &off, &w);
    EXPECT_EQ_INT(off, 3); /* d30 still pending */
    EXPECT_EQ_INT(w, 0);
    tr_cdc_collect_watermark(c, 0, 5, 40);
    commit_all(c, &s);
    tr_cdc_collect_position(c, 0, &off, &w);
    EXPECT_EQ_INT(off, 6);
    EXPECT_EQ_INT(w, 40);
    tr_cdc_collect_free(c);
}

TR_TEST(cdc_ddl_after_rows_of_its_ts)
{
    sink_t s;
    tr_cdc_collect_t *c = mkc(&s, 1, 0);
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 0, TR_CDC_DDL, false, 1, 50, "alter")));
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 1, TR_CDC_ROW, true, 1, 50, "row50")));
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 2, TR_CDC_ROW, true, 1, 40, "row40")));
    tr_cdc_collect_watermark(c, 0, 3, 60);
    EXPECT_EQ_INT(s.n, 3);
    /* Sorted by (ts, offset): row40, then ts 50: the DDL (offset 0) and the row (offset 1)
     * leave as separate items on separate sources; the merge's source order (rows first)
     * puts the row before the DDL. */
    EXPECT_EQ_STR(s.rows[0].text, "row40");
    EXPECT_EQ_INT(s.rows[0].source, 0);
    EXPECT_EQ_STR(s.rows[1].text, "alter");
    EXPECT_EQ_INT(s.rows[1].source, 1);
    EXPECT_EQ_STR(s.rows[2].text, "row50");
    EXPECT_EQ_INT(s.rows[2].source, 0);
    commit_all(c, &s);
    tr_cdc_collect_free(c);
}

TR_TEST(cdc_rule1_at_or_below_watermark)
{
    sink_t s;
    tr_cdc_collect_t *c = mkc(&s, 1, 0);
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 0, TR_CDC_ROW, true, 1, 10, "x")));
    tr_cdc_collect_watermark(c, 0, 1, 10);
    EXPECT_EQ_INT(s.n, 1);
    EXPECT_TRUE(!tr_cdc_collect_add(c, mk(0, 2, TR_CDC_ROW, true, 1, 10, "x")));
    EXPECT_TRUE(!tr_cdc_collect_add(c, mk(0, 3, TR_CDC_ROW, false, 1, 5, "y")));
    EXPECT_TRUE(!tr_cdc_collect_add(c, mk(0, 4, TR_CDC_DDL, false, 1, 9, "ddl")));
    tr_cdc_part_stats_t st;
    tr_cdc_collect_stats(c, 0, &st);
    EXPECT_EQ_INT(st.dropped, 3);
    EXPECT_EQ_INT(s.released, 3);
    commit_all(c, &s);
    tr_cdc_collect_free(c);
}

TR_TEST(cdc_rule2_keyed_and_ddl_repeats_above_watermark)
{
    sink_t s;
    tr_cdc_collect_t *c = mkc(&s, 1, 0);
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 0, TR_CDC_ROW, true, 1, 10, "k1")));
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 1, TR_CDC_ROW, true, 1, 10, "k2")));
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 2, TR_CDC_DDL, false, 1, 11, "ddl")));
    /* A replay of everything above the last watermark. */
    EXPECT_TRUE(!tr_cdc_collect_add(c, mk(0, 3, TR_CDC_ROW, true, 1, 10, "k1")));
    EXPECT_TRUE(!tr_cdc_collect_add(c, mk(0, 4, TR_CDC_ROW, true, 1, 10, "k2")));
    EXPECT_TRUE(!tr_cdc_collect_add(c, mk(0, 5, TR_CDC_DDL, false, 1, 11, "ddl")));
    /* Same key and ts in another table, or another ts: different rows. */
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 6, TR_CDC_ROW, true, 2, 10, "k1")));
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 7, TR_CDC_ROW, true, 1, 12, "k1")));
    tr_cdc_collect_watermark(c, 0, 8, 20);
    EXPECT_EQ_INT(s.n, 5);
    EXPECT_EQ_STR(s.rows[0].text, "k1");
    EXPECT_EQ_STR(s.rows[1].text, "k2");
    EXPECT_EQ_STR(s.rows[2].text, "k1"); /* table 2 at ts 10 */
    EXPECT_EQ_STR(s.rows[3].text, "ddl");
    EXPECT_EQ_INT(s.rows[4].ts, 12);
    commit_all(c, &s);
    tr_cdc_collect_free(c);
}

TR_TEST(cdc_rule3_keyless_identical_rows_survive)
{
    sink_t s;
    tr_cdc_collect_t *c = mkc(&s, 1, 0);
    /* force-replicate: two identical rows of a keyless table in one transaction. */
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 0, TR_CDC_ROW, false, 3, 10, "same")));
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 1, TR_CDC_ROW, false, 3, 10, "same")));
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 2, TR_CDC_ROW, false, 3, 10, "other")));
    tr_cdc_collect_watermark(c, 0, 3, 10);
    EXPECT_EQ_INT(s.n, 3);
    commit_all(c, &s);
    tr_cdc_collect_free(c);
}

TR_TEST(cdc_rule3_keyless_replay_after_a_signal)
{
    sink_t s;
    tr_cdc_collect_t *c = mkc(&s, 1, 0);
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 0, TR_CDC_ROW, true, 1, 5, "k")));
    tr_cdc_collect_watermark(c, 0, 1, 5);
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 2, TR_CDC_ROW, false, 3, 10, "same")));
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 3, TR_CDC_ROW, false, 3, 10, "same")));
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 4, TR_CDC_ROW, false, 3, 10, "tail")));
    /* TiCDC restarts from checkpoint 4: the row at 5 comes again (a drop: the signal),
     * then the whole keyless group. */
    EXPECT_TRUE(!tr_cdc_collect_add(c, mk(0, 5, TR_CDC_ROW, true, 1, 5, "k")));
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 6, TR_CDC_ROW, false, 3, 10, "same")));
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 7, TR_CDC_ROW, false, 3, 10, "same")));
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 8, TR_CDC_ROW, false, 3, 10, "tail")));
    tr_cdc_collect_watermark(c, 0, 9, 10);
    EXPECT_EQ_INT(s.n, 4); /* k, then one copy of the group */
    EXPECT_EQ_STR(s.rows[1].text, "same");
    EXPECT_EQ_STR(s.rows[2].text, "same");
    EXPECT_EQ_STR(s.rows[3].text, "tail");
    EXPECT_EQ_INT(s.rows[1].offset, 6);
    tr_cdc_part_stats_t st;
    tr_cdc_collect_stats(c, 0, &st);
    EXPECT_EQ_INT(st.discarded, 3);
    commit_all(c, &s);
    tr_cdc_collect_free(c);
}

TR_TEST(cdc_shadows_below_the_checkpoint)
{
    sink_t s;
    tr_cdc_collect_t *c = mkc(&s, 1, 100);
    tr_cdc_collect_resume(c, 0, 7, 50);
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 7, TR_CDC_ROW, true, 1, 90, "old")));
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 8, TR_CDC_ROW, true, 1, 100, "old2")));
    EXPECT_TRUE(!tr_cdc_collect_add(c, mk(0, 9, TR_CDC_ROW, true, 1, 90, "old"))); /* rule 2 */
    EXPECT_TRUE(tr_cdc_collect_add(c, mk(0, 10, TR_CDC_ROW, true, 1, 110, "new")));
    tr_cdc_collect_watermark(c, 0, 11, 120);
    EXPECT_EQ_INT(s.n, 1);
    EXPECT_EQ_STR(s.rows[0].text, "new");
    tr_cdc_part_stats_t st;
    tr_cdc_collect_stats(c, 0, &st);
    EXPECT_EQ_INT(st.shadows, 2);
    commit_all(c, &s);
    tr_cdc_collect_free(c);
}

/* ---------------------------------------------------------------- restart */

typedef struct {
    int32_t part;
    int kind; /* 0 watermark, 1 row */
    bool keyed;
    uint32_t table;
    int64_t ts;
    char text[24];
} msg_t;

#define NPARTS 3
#define MAXMSG 600

typedef struct {
    msg_t m[NPARTS][MAXMSG];
    size_t n[NPARTS];
} topic_t;

/* A topic as TiCDC writes one: transactions of keyed and keyless rows spread over the
 * partitions, watermarks to every partition, and replays (a stretch of a partition sent
 * again, starting a little below the last watermark). */
static void make_topic(topic_t *t, unsigned seed)
{
    memset(t, 0, sizeof(*t));
    srand(seed);
    int64_t ts = 100;
    for (int step = 0; step < 120; step++) {
        int r = rand() % 10;
        if (r < 6) {
            ts += 1 + rand() % 3;
            int rows = 1 + rand() % 4;
            for (int i = 0; i < rows; i++) {
                uint32_t table = (uint32_t)(1 + rand() % 4);
                int32_t p = (int32_t)(table % NPARTS);
                bool keyed = table != 4;
                msg_t *m = &t->m[p][t->n[p]++];
                m->part = p;
                m->kind = 1;
                m->keyed = keyed;
                m->table = table;
                m->ts = ts;
                snprintf(m->text, sizeof(m->text), keyed ? "r%d.%d" : "kl%d", (int)ts,
                         keyed ? i : rand() % 2);
            }
        } else if (r < 9) {
            for (int32_t p = 0; p < NPARTS; p++) {
                msg_t *m = &t->m[p][t->n[p]++];
                m->part = p;
                m->ts = ts;
            }
        } else {
            int32_t p = rand() % NPARTS;
            size_t back = 1 + (size_t)rand() % 6;
            size_t from = t->n[p] > back ? t->n[p] - back : 0;
            size_t end = t->n[p];
            for (size_t i = from; i < end && t->n[p] < MAXMSG; i++) {
                t->m[p][t->n[p]++] = t->m[p][i];
            }
        }
        if (t->n[0] > MAXMSG - 40 || t->n[1] > MAXMSG - 40 || t->n[2] > MAXMSG - 40) {
            break;
        }
    }
    for (int32_t p = 0; p < NPARTS; p++) { /* a final watermark */
        msg_t *m = &t->m[p][t->n[p]++];
        m->part = p;
        m->ts = ts + 1;
    }
}

static void feed(tr_cdc_collect_t *c, const topic_t *t, int32_t p, size_t off)
{
    const msg_t *m = &t->m[p][off];
    if (m->kind == 0) {
        tr_cdc_collect_watermark(c, (uint32_t)p, (int64_t)off, m->ts);
    } else {
        (void)tr_cdc_collect_add(c, mk(p, (int64_t)off, TR_CDC_ROW, m->keyed, m->table, m->ts,
                                       m->text));
    }
}

/* The merged output, as (ts, text) lines, of records at ts > after; a crude merge: once
 * every partition's watermark passed a ts, its rows are final. */
static size_t collect_lines(const sink_t *s, int64_t after, char lines[][96], size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n && k < cap; i++) {
        if (s->rows[i].ts > after) {
            snprintf(lines[k++], 96, "%lld %u %s", (long long)s->rows[i].ts, s->rows[i].source,
                     s->rows[i].text);
        }
    }
    return k;
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

TR_TEST(cdc_restart_anywhere_emits_the_same)
{
    static topic_t t;
    static sink_t full, first, second;
    static char want[MAX_OUT][96], got[MAX_OUT][96];
    for (unsigned seed = 1; seed <= 40; seed++) {
        make_topic(&t, seed);
        /* Uninterrupted: round-robin over partitions. */
        tr_cdc_collect_cb_t cb = {on_emit, on_mark, on_release, &full};
        memset(&full, 0, sizeof(full));
        tr_cdc_collect_t *c = tr_cdc_collect_new(NPARTS, 0, &cb);
        size_t pos[NPARTS] = {0};
        for (bool more = true; more;) {
            more = false;
            for (int32_t p = 0; p < NPARTS; p++) {
                if (pos[p] < t.n[p]) {
                    feed(c, &t, p, pos[p]++);
                    more = true;
                }
            }
        }
        commit_all(c, &full);
        tr_cdc_collect_free(c);

        /* Interrupted: stop after a random number of rounds; the "checkpoint" T is the
         * lowest watermark (what the merge could have released), records at or below it
         * committed; resume from the positions with last_ts = T. */
        size_t stop = (size_t)rand() % (t.n[0] + 1);
        cb.arg = &first;
        memset(&first, 0, sizeof(first));
        c = tr_cdc_collect_new(NPARTS, 0, &cb);
        memset(pos, 0, sizeof(pos));
        for (size_t round = 0; round < stop; round++) {
            for (int32_t p = 0; p < NPARTS; p++) {
                if (pos[p] < t.n[p]) {
                    feed(c, &t, p, pos[p]++);
                }
            }
        }
        int64_t T = INT64_MAX;
        for (uint32_t p = 0; p < NPARTS; p++) {
            tr_cdc_part_stats_t st;
            tr_cdc_collect_stats(c, p, &st);
            T = st.watermark < T ? st.watermark : T;
        }
        for (size_t i = 0; i < first.n; i++) {
            if (first.rows[i].ts <= T && first.rows[i].rec != NULL) {
                tr_cdc_collect_done(c, first.rows[i].rec);
                free(first.rows[i].rec);
                first.rows[i].rec = NULL;
            }
        }
        int64_t roff[NPARTS], rw[NPARTS];
        for (uint32_t p = 0; p < NPARTS; p++) {
            tr_cdc_collect_position(c, p, &roff[p], &rw[p]);
        }
        commit_all(c, &first);
        tr_cdc_collect_free(c);

        cb.arg = &second;
        memset(&second, 0, sizeof(second));
        c = tr_cdc_collect_new(NPARTS, T, &cb);
        for (uint32_t p = 0; p < NPARTS; p++) {
            tr_cdc_collect_resume(c, p, roff[p], rw[p]);
            pos[p] = (size_t)roff[p];
        }
        for (bool more = true; more;) {
            more = false;
            for (int32_t p = 0; p < NPARTS; p++) {
                if (pos[p] < t.n[p]) {
                    feed(c, &t, p, pos[p]++);
                    more = true;
                }
            }
        }
        commit_all(c, &second);
        tr_cdc_collect_free(c);

        /* The rows after T: the same multiset (order within a ts may differ only across
         * partitions, which the merge orders by source). */
        size_t nw = collect_lines(&full, T, want, MAX_OUT);
        size_t ng = collect_lines(&second, T, got, MAX_OUT);
        qsort(want, nw, 96, cmp_line);
        qsort(got, ng, 96, cmp_line);
        EXPECT_EQ_INT(ng, nw);
        for (size_t i = 0; i < nw && i < ng; i++) {
            EXPECT_EQ_STR(got[i], want[i]);
        }
        /* And the rows up to T were all emitted before the stop. */
        size_t before = 0, full_before = 0;
        for (size_t i = 0; i < first.n; i++) {
            before += first.rows[i].ts <= T;
        }
        for (size_t i = 0; i < full.n; i++) {
            full_before += full.rows[i].ts <= T;
        }
        EXPECT_EQ_INT(before, full_before);
    }
}

/* Every true row appears exactly once when the topic carries replays: the output equals
 * the topic without its replayed stretches. */
TR_TEST(cdc_replays_leave_one_copy)
{
    sink_t *s = calloc(1, sizeof(*s));
    tr_cdc_collect_cb_t cb = {on_emit, on_mark, on_release, s};
    tr_cdc_collect_t *c = tr_cdc_collect_new(1, 0, &cb);
    const char *rows[] = {"a", "b", "c"};
    int64_t off = 0;
    for (int64_t ts = 10; ts <= 30; ts += 10) {
        for (int rep = 0; rep < 2; rep++) { /* each transaction sent twice in a row */
            for (size_t i = 0; i < 3; i++) {
                (void)tr_cdc_collect_add(c, mk(0, off++, TR_CDC_ROW, true, 1, ts, rows[i]));
            }
        }
        tr_cdc_collect_watermark(c, 0, off++, ts);
        /* and once more after its watermark */
        (void)tr_cdc_collect_add(c, mk(0, off++, TR_CDC_ROW, true, 1, ts, rows[0]));
    }
    EXPECT_EQ_INT(s->n, 9);
    commit_all(c, s);
    tr_cdc_collect_free(c);
    free(s);
}

TR_TEST_MAIN()
