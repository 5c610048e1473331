/*
 * Unit tests of protocol/tidb_node.c: Status JSON as TiDB Binlog writes it
 * (shared/spec/tidb-binlog.md section 6.1) and etcd v3 gateway
 * bodies/responses as captured from etcd 3.4.23's /v3/kv/range and /v3/kv/txn.
 */
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "protocol/tidb_node.h"
#include "tr_test.h"

TR_TEST(status_decode_pump)
{
    const char *j = "{\"nodeId\":\"host1:8250\",\"host\":\"10.0.0.1:8250\",\"state\":\"online\","
                    "\"isAlive\":true,\"score\":0,\"label\":null,"
                    "\"maxCommitTS\":445644800000000005,\"updateTS\":445644800000000000}";
    tr_node_status_t st;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_node_status_decode((const uint8_t *)j, strlen(j), &st, &why), 0);
    EXPECT_EQ_STR(st.node_id, "host1:8250");
    EXPECT_EQ_STR(st.host, "10.0.0.1:8250");
    EXPECT_EQ_INT(st.state, TR_NODE_ONLINE);
    EXPECT_EQ_U64((uint64_t)st.max_commit_ts, 445644800000000005ull);
    EXPECT_EQ_U64((uint64_t)st.update_ts, 445644800000000000ull);
}

TR_TEST(status_decode_bad)
{
    tr_node_status_t st;
    const char *why = NULL;
    const char *cases[] = {"", "[]", "{\"host\":\"a\"}", "{\"nodeId\":5}",
                           "{\"nodeId\":\"a\",\"maxCommitTS\":\"x\"}", "{\"nodeId\":\"a\""};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        EXPECT_EQ_INT(tr_node_status_decode((const uint8_t *)cases[i], strlen(cases[i]), &st, &why),
                      TR_EMALFORMED);
    }
    const char *odd = "{\"nodeId\":\"a\",\"state\":\"weird\"}";
    EXPECT_EQ_INT(tr_node_status_decode((const uint8_t *)odd, strlen(odd), &st, &why), 0);
    EXPECT_EQ_INT(st.state, TR_NODE_UNKNOWN);
}

TR_TEST(status_round_trip)
{
    tr_node_status_t a = {.node_id = "relay:3307", .host = "127.0.0.1:3307",
                          .state = TR_NODE_PAUSED, .max_commit_ts = 1234567890123, .update_ts = 7};
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_node_status_encode(&a, &b);
    tr_node_status_t c;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_node_status_decode(b.data, b.len, &c, &why), 0);
    EXPECT_EQ_STR(c.node_id, a.node_id);
    EXPECT_EQ_STR(c.host, a.host);
    EXPECT_EQ_INT(c.state, TR_NODE_PAUSED);
    EXPECT_EQ_U64((uint64_t)c.max_commit_ts, 1234567890123ull);
    tr_buf_cleanup(&b);
}

TR_TEST(range_body)
{
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_etcd_range_prefix_body("/tidb-binlog/v1/pumps/", &b);
    /* range_end = "/tidb-binlog/v1/pumps0" */
    const char *want = "{\"key\":\"L3RpZGItYmlubG9nL3YxL3B1bXBzLw==\","
                       "\"range_end\":\"L3RpZGItYmlubG9nL3YxL3B1bXBzMA==\"}";
    EXPECT_EQ_MEM(b.data, b.len, want, strlen(want));
    tr_buf_cleanup(&b);
}

static int seen;
static void on_kv(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    EXPECT_EQ_MEM(k, kl, "/tidb-binlog/v1/pumps/a", 23);
    tr_node_status_t st;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_node_status_decode(v, vl, &st, &why), 0);
    EXPECT_EQ_U64((uint64_t)st.max_commit_ts, 12);
    seen++;
}

TR_TEST(range_and_txn_responses)
{
    /* Captured from etcd 3.4.23. */
    const char *range =
        "{\"header\":{\"cluster_id\":\"15118495548433857066\",\"member_id\":\"13668033151171901709\","
        "\"revision\":\"2\",\"raft_term\":\"2\"},\"kvs\":[{\"key\":\"L3RpZGItYmlubG9nL3YxL3B1bXBzL2E=\","
        "\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\",\"value\":"
        "\"eyJub2RlSWQiOiJhIiwic3RhdGUiOiJvbmxpbmUiLCJtYXhDb21taXRUUyI6MTJ9\"}],\"count\":\"1\"}";
    const char *why = NULL;
    EXPECT_EQ_INT(tr_etcd_range_decode(range, strlen(range), on_kv, NULL, &why), 1);
    EXPECT_EQ_INT(seen, 1);
    const char *empty = "{\"header\":{\"revision\":\"2\"}}";
    EXPECT_EQ_INT(tr_etcd_range_decode(empty, strlen(empty), on_kv, NULL, &why), 0);
    bool ok = true;
    EXPECT_EQ_INT(tr_etcd_txn_decode(empty, strlen(empty), &ok, &why), 0);
    EXPECT_EQ_INT(ok, 0);
    const char *yes = "{\"header\":{\"revision\":\"2\"},\"succeeded\":true,\"responses\":[]}";
    EXPECT_EQ_INT(tr_etcd_txn_decode(yes, strlen(yes), &ok, &why), 0);
    EXPECT_EQ_INT(ok, 1);
    const char *err = "{\"error\":\"bad\",\"code\":3,\"message\":\"bad\"}";
    EXPECT_EQ_INT(tr_etcd_txn_decode(err, strlen(err), &ok, &why), TR_EMALFORMED);
}

TR_TEST(txn_body)
{
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_etcd_put_txn_body("k", (const uint8_t *)"v", 1, true, &b);
    const char *want = "{\"compare\":[{\"target\":\"MOD\",\"key\":\"aw==\",\"result\":\"EQUAL\","
                       "\"mod_revision\":\"0\"}],\"success\":[{\"request_put\":{\"key\":\"aw==\","
                       "\"value\":\"dg==\"}}]}";
    EXPECT_EQ_MEM(b.data, b.len, want, strlen(want));
    tr_buf_cleanup(&b);
}

TR_TEST_MAIN()
