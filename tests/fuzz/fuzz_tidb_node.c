/*
 * Fuzz target: what tirelay reads from PD's etcd (protocol/tidb_node.c): the
 * node-status JSON of Pumps and Drainers (a decoded status re-encodes and
 * decodes to the same fields), the /v3/kv/range and /v3/kv/txn responses of
 * the etcd JSON gateway, and their base64 values.
 */
#include "fuzz.h"

#include <string.h>

#include "common/buf.h"
#include "protocol/base64.h"
#include "protocol/tidb_node.h"

static void on_kv(void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
                  size_t value_len)
{
    tr_node_status_t st;
    const char *why = NULL;
    if (tr_node_status_decode(value, value_len, &st, &why) != 0) {
        FUZZ_CHECK(why != NULL);
    }
    (void)key;
    (void)key_len;
    (*(size_t *)arg)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = NULL;
    tr_node_status_t st;
    if (tr_node_status_decode(data, size, &st, &why) == 0) {
        FUZZ_CHECK(memchr(st.node_id, 0, sizeof(st.node_id)) != NULL);
        FUZZ_CHECK(memchr(st.host, 0, sizeof(st.host)) != NULL);
        tr_buf_t b;
        tr_buf_init(&b, 0);
        tr_node_status_encode(&st, &b);
        tr_node_status_t st2;
        FUZZ_CHECK(tr_node_status_decode(b.data, b.len, &st2, &why) == 0);
        FUZZ_CHECK(strcmp(st.node_id, st2.node_id) == 0 && strcmp(st.host, st2.host) == 0);
        FUZZ_CHECK(st.max_commit_ts == st2.max_commit_ts && st.state == st2.state);
        tr_buf_cleanup(&b);
    }
    size_t n = 0;
    int r = tr_etcd_range_decode((const char *)data, size, on_kv, &n, &why);
    FUZZ_CHECK(r < 0 || (size_t)r == n);
    bool ok;
    if (tr_etcd_txn_decode((const char *)data, size, &ok, &why) != 0) {
        FUZZ_CHECK(why != NULL);
    }
    tr_buf_t out;
    tr_buf_init(&out, 0);
    if (tr_base64_decode((const char *)data, size, &out) == 0) {
        tr_buf_t again;
        tr_buf_init(&again, 0);
        tr_base64_encode(out.data, out.len, &again);
        tr_buf_cleanup(&again);
    }
    tr_buf_cleanup(&out);
    return 0;
}
