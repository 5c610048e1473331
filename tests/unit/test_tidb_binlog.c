/*
 * TiDB Binlog protobuf codec: the worked bytes of shared/spec/tidb-binlog.md
 * section 3.6 (fake binlog, PullBinlogReq, a streamed C-binlog with one
 * insert), packed and unpacked `sequence`, and every truncation.
 */
#include "tr_test.h"

#include "common/err.h"
#include "common/mem.h"
#include "protocol/tidb_binlog.h"

static size_t load_hex(const char *rel, uint8_t *out, size_t cap)
{
    size_t len = 0;
    uint8_t *text = tr_test_read_file(rel, &len);
    if (text == NULL) {
        return 0;
    }
    char *s = malloc(len + 1);
    memcpy(s, text, len);
    s[len] = '\0';
    size_t n = tr_test_unhex(s, out, cap);
    free(s);
    free(text);
    return n;
}

TR_TEST(fake_binlog)
{
    uint8_t b[64];
    size_t n = load_hex("tests/vectors/tidb/fake_binlog.hex", b, sizeof(b));
    EXPECT_EQ_INT(n, 26);
    tr_tidb_binlog_t bl;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_tidb_binlog_decode(b, n, &bl, &why), 26);
    EXPECT_EQ_INT(bl.tp, TR_TIDB_BINLOG_ROLLBACK);
    EXPECT_EQ_U64(bl.start_ts, 445644800000000005ull);
    EXPECT_EQ_U64(bl.commit_ts, 445644800000000005ull);
    EXPECT_TRUE(tr_tidb_binlog_is_fake(&bl));
    EXPECT_EQ_INT(bl.ddl_job_id, 0);
    EXPECT_EQ_INT(bl.prewrite_value.len, 0);
}

TR_TEST(pull_req_encode)
{
    tr_buf_t out;
    tr_buf_init(&out, 0);
    tr_tidb_pull_req_encode(&out, 6789, 445644800000000005ll);
    static const uint8_t want[] = {0x08, 0x85, 0x35, 0x12, 0x0A, 0x10, 0x85, 0x80,
                                   0x80, 0x80, 0xDA, 0xF2, 0xCF, 0x97, 0x06};
    EXPECT_EQ_MEM(out.data, out.len, want, sizeof(want));
    tr_buf_reset(&out);
    tr_tidb_pull_req_encode(&out, 0, 0);
    static const uint8_t want0[] = {0x12, 0x00};
    EXPECT_EQ_MEM(out.data, out.len, want0, sizeof(want0));
    tr_buf_cleanup(&out);
}

static const uint8_t row47[] = {0x08, 0x0E, 0x08, 0x04, 0x02, 0x06, 0x61, 0x62, 0x63, 0x08, 0x06,
                                0x09, 0x86, 0x80, 0x80, 0xA8, 0x90, 0x86, 0x91, 0xD9, 0x19};

TR_TEST(pull_resp_insert)
{
    uint8_t b[256];
    size_t n = load_hex("tests/vectors/tidb/pull_resp_insert.hex", b, sizeof(b));
    EXPECT_EQ_INT(n, 87);
    tr_slice_t payload;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_tidb_pull_resp_payload(b, n, &payload, &why), 0);
    EXPECT_EQ_INT(payload.len, 59);
    tr_tidb_binlog_t bl;
    EXPECT_EQ_INT(tr_tidb_binlog_decode(payload.p, payload.len, &bl, &why), 59);
    EXPECT_EQ_INT(bl.tp, TR_TIDB_BINLOG_COMMIT);
    EXPECT_EQ_U64(bl.start_ts, 445644799999999995ull);
    EXPECT_EQ_U64(bl.commit_ts, 445644800000000005ull);
    EXPECT_TRUE(!tr_tidb_binlog_is_fake(&bl));
    EXPECT_EQ_INT(bl.prewrite_value.len, 31);

    tr_arena_t arena;
    tr_arena_init(&arena, 4096);
    tr_tidb_prewrite_t pw;
    EXPECT_EQ_INT(tr_tidb_prewrite_decode(bl.prewrite_value.p, bl.prewrite_value.len, &arena, &pw,
                                          &why),
                  0);
    EXPECT_EQ_INT(pw.schema_version, 12);
    EXPECT_EQ_INT(pw.n_mutations, 1);
    if (pw.n_mutations == 1) {
        tr_tidb_mutation_t *m = &pw.mutations[0];
        EXPECT_EQ_INT(m->table_id, 45);
        EXPECT_EQ_INT(m->n_inserted, 1);
        EXPECT_EQ_INT(m->n_updated, 0);
        EXPECT_EQ_INT(m->n_deleted, 0);
        EXPECT_EQ_INT(m->n_sequence, 1);
        EXPECT_EQ_INT(m->sequence[0], TR_TIDB_MUT_INSERT);
        EXPECT_EQ_MEM(m->inserted_rows[0].p, m->inserted_rows[0].len, row47, sizeof(row47));
    }
    tr_arena_cleanup(&arena);

    /* Every truncation: an error or a shorter valid message, never a crash. */
    for (size_t k = 0; k < n; k++) {
        tr_slice_t pl;
        int rc = tr_tidb_pull_resp_payload(b, k, &pl, &why);
        EXPECT_TRUE(rc == 0 || rc == TR_EMALFORMED);
    }
    for (size_t k = 0; k < payload.len; k++) {
        ssize_t rc = tr_tidb_binlog_decode(payload.p, k, &bl, &why);
        EXPECT_TRUE(rc == (ssize_t)k || rc == TR_EMALFORMED);
    }
    tr_arena_init(&arena, 256);
    const uint8_t *pv = payload.p + 25;
    for (size_t k = 0; k < 31; k++) {
        int rc = tr_tidb_prewrite_decode(pv, k, &arena, &pw, &why);
        EXPECT_TRUE(rc == 0 || rc == TR_EMALFORMED);
        tr_arena_reset(&arena);
    }
    tr_arena_cleanup(&arena);
}

TR_TEST(prewrite_sequence_packed_and_unpacked)
{
    /* PrewriteValue{schema_version 3, mutation{table 7, inserted x2, deleted x1,
     * sequence packed [0,4] then unpacked [0]}}; hand-built from binlog.proto. */
    static const uint8_t pv[] = {
        0x08, 0x03,                         /* schema_version 3 */
        0x12, 0x11,                         /* mutation len 17 */
        0x08, 0x07,                         /* table_id 7 */
        0x12, 0x01, 0xAA,                   /* inserted_rows[0] */
        0x12, 0x01, 0xBB,                   /* inserted_rows[1] */
        0x32, 0x01, 0xCC,                   /* deleted_rows[0] */
        0x3A, 0x02, 0x00, 0x04,             /* sequence packed [Insert, DeleteRow] */
        0x38, 0x00,                         /* sequence unpacked Insert */
    };
    tr_arena_t arena;
    tr_arena_init(&arena, 1024);
    tr_tidb_prewrite_t pw;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_tidb_prewrite_decode(pv, sizeof(pv), &arena, &pw, &why), 0);
    EXPECT_EQ_INT(pw.schema_version, 3);
    EXPECT_EQ_INT(pw.n_mutations, 1);
    if (pw.n_mutations != 1) {
        tr_arena_cleanup(&arena);
        return;
    }
    tr_tidb_mutation_t *m = &pw.mutations[0];
    EXPECT_EQ_INT(m->table_id, 7);
    EXPECT_EQ_INT(m->n_inserted, 2);
    EXPECT_EQ_INT(m->n_deleted, 1);
    EXPECT_EQ_INT(m->n_sequence, 3);
    EXPECT_EQ_INT(m->sequence[0], 0);
    EXPECT_EQ_INT(m->sequence[1], 4);
    EXPECT_EQ_INT(m->sequence[2], 0);
    EXPECT_EQ_INT(m->inserted_rows[1].p[0], 0xBB);
    EXPECT_EQ_INT(m->deleted_rows[0].p[0], 0xCC);

    /* Wrong wire type for a known field. */
    static const uint8_t bad[] = {0x0A, 0x01, 0x00};
    EXPECT_EQ_INT(tr_tidb_prewrite_decode(bad, sizeof(bad), &arena, &pw, &why), TR_EMALFORMED);
    /* A group is rejected. */
    static const uint8_t grp[] = {0x0B, 0x0C};
    tr_tidb_binlog_t bl;
    EXPECT_EQ_INT(tr_tidb_binlog_decode(grp, sizeof(grp), &bl, &why), TR_EMALFORMED);
    tr_arena_cleanup(&arena);
}

TR_TEST_MAIN()
