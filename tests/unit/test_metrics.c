/* Unit tests of common/metrics: histogram buckets and the Prometheus text writer. */
#include "tr_test.h"

#include "common/metrics.h"

static char *text(tr_buf_t *b)
{
    tr_buf_put_u8(b, 0);
    return (char *)b->data;
}

TR_TEST(histogram_buckets_are_cumulative)
{
    static const double bounds[] = {0.001, 0.01, 0.1};
    tr_hist_t h;
    tr_hist_init(&h, bounds, 3);
    tr_hist_observe_ns(&h, 500000);     /* 0.5 ms */
    tr_hist_observe_ns(&h, 1000000);    /* exactly 1 ms: le="0.001" includes it */
    tr_hist_observe_ns(&h, 5000000);    /* 5 ms */
    tr_hist_observe_ns(&h, 2000000000); /* 2 s: only +Inf */
    tr_hist_snap_t s;
    tr_hist_snapshot(&h, &s);
    EXPECT_EQ_U64(s.cumulative[0], 2);
    EXPECT_EQ_U64(s.cumulative[1], 3);
    EXPECT_EQ_U64(s.cumulative[2], 3);
    EXPECT_EQ_U64(s.cumulative[3], 4);
    EXPECT_EQ_U64(s.count, 4);
    EXPECT_TRUE(s.sum_s > 2.0064 && s.sum_s < 2.0066);

    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_prom_histogram(&b, "x_seconds", &s);
    EXPECT_EQ_STR(text(&b), "x_seconds_bucket{le=\"0.001\"} 2\n"
                            "x_seconds_bucket{le=\"0.01\"} 3\n"
                            "x_seconds_bucket{le=\"0.1\"} 3\n"
                            "x_seconds_bucket{le=\"+Inf\"} 4\n"
                            "x_seconds_sum 2.0065\n"
                            "x_seconds_count 4\n");
    tr_buf_cleanup(&b);
}

TR_TEST(samples_labels_and_escaping)
{
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_prom_family(&b, "tirelay_x_total", "counter", "Some help.");
    tr_prom_sample(&b, "tirelay_x_total", 3, (const char *)NULL);
    tr_prom_sample(&b, "tirelay_x_total", 0.25, "kind", "a\"b\\c\nd", "k2", "", (const char *)NULL);
    /* A TSO is above 2^53: the integer form prints it exactly. */
    tr_prom_sample_i64(&b, "tirelay_ts", INT64_C(449573200917872641), "pump", "p1",
                       (const char *)NULL);
    EXPECT_EQ_STR(text(&b), "# HELP tirelay_x_total Some help.\n"
                            "# TYPE tirelay_x_total counter\n"
                            "tirelay_x_total 3\n"
                            "tirelay_x_total{kind=\"a\\\"b\\\\c\\nd\",k2=\"\"} 0.25\n"
                            "tirelay_ts{pump=\"p1\"} 449573200917872641\n");
    tr_buf_cleanup(&b);
}

TR_TEST(names)
{
    EXPECT_TRUE(tr_prom_name_ok("tirelay_a:b_1", 0));
    EXPECT_TRUE(!tr_prom_name_ok("tirelay_a:b_1", 1));
    EXPECT_TRUE(!tr_prom_name_ok("1abc", 0));
    EXPECT_TRUE(!tr_prom_name_ok("a-b", 0));
    EXPECT_TRUE(!tr_prom_name_ok("", 1));
    EXPECT_TRUE(tr_prom_name_ok("_x", 1));
}

TR_TEST_MAIN()
