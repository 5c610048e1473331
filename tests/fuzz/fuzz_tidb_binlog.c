/*
 * Fuzz target: TiDB Binlog protobufs (protocol/tidb_binlog.c) as the Pump
 * client and the relay decode them: the input is tried as a PullBinlogResp
 * (its Entity.payload then as a Binlog), as a Binlog (its prewrite_value then
 * as a PrewriteValue, walked with the in-place iterator and row cursors), and
 * as a PrewriteValue directly. Every view must lie inside the input.
 */
#include "fuzz.h"

#include "protocol/tidb_binlog.h"

static const uint8_t *g_base;
static size_t g_size;

static void check_view(tr_slice_t s)
{
    if (s.len > 0) {
        FUZZ_CHECK(s.p >= g_base && s.p + s.len <= g_base + g_size);
    }
}

/* The PrewriteValue walk the translator does: every mutation the iterator accepts yields
 * exactly n_sequence rows, each a view inside the input, and never an error afterwards
 * (tidb_binlog.h promises it). */
static void prewrite(const uint8_t *p, size_t n)
{
    tr_tidb_prewrite_iter_t it;
    const char *why = NULL;
    if (tr_tidb_prewrite_iter_init(&it, p, n, &why) != 0) {
        FUZZ_CHECK(why != NULL);
        return;
    }
    int64_t version = 0;
    FUZZ_CHECK(tr_tidb_prewrite_schema_version(p, n, &version, &why) == 0);
    FUZZ_CHECK(version == it.schema_version);
    tr_tidb_mutation_t m;
    int rc;
    size_t seen = 0;
    while ((rc = tr_tidb_prewrite_next(&it, &m, &why)) == 1) {
        seen++;
        check_view(m.body);
        tr_tidb_rows_t c;
        tr_tidb_rows_init(&c, &m);
        int32_t kind;
        tr_slice_t row;
        size_t rows = 0;
        int rr;
        while ((rr = tr_tidb_rows_next(&c, &kind, &row, &why)) == 1) {
            check_view(row);
            FUZZ_CHECK(kind == TR_TIDB_MUT_INSERT || kind == TR_TIDB_MUT_UPDATE ||
                       kind == TR_TIDB_MUT_DELETE_ROW);
            rows++;
        }
        FUZZ_CHECK(rr == 0);
        FUZZ_CHECK(rows == m.n_sequence);
    }
    FUZZ_CHECK(rc == 0 || why != NULL);
    FUZZ_CHECK(seen <= it.n_mutations);
}

static void binlog(const uint8_t *p, size_t n)
{
    tr_tidb_binlog_t b;
    const char *why = NULL;
    ssize_t r = tr_tidb_binlog_decode(p, n, &b, &why);
    if (r < 0) {
        FUZZ_CHECK(why != NULL);
        return;
    }
    FUZZ_CHECK((size_t)r <= n);
    check_view(b.prewrite_value);
    check_view(b.ddl_query);
    if (b.prewrite_value.len > 0) {
        prewrite(b.prewrite_value.p, b.prewrite_value.len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_base = data;
    g_size = size;
    tr_slice_t payload;
    const char *why = NULL;
    if (tr_tidb_pull_resp_payload(data, size, &payload, &why) == 0) {
        check_view(payload);
        binlog(payload.p, payload.len);
    }
    binlog(data, size);
    prewrite(data, size);
    return 0;
}
