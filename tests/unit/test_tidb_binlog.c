/*
 * TiDB Binlog protobuf codec: the worked bytes of shared/spec/tidb-binlog.md
 * section 3.6 (fake binlog, PullBinlogReq, a streamed C-binlog with one
 * insert); the PrewriteValue reader: rows in statement order whatever the
 * field order (TiDB's gogo order, sequence first, interleaved, packed and
 * unpacked sequence), malformed mutations, and every truncation read from an
 * exact-size copy so ASan sees any read past the end.
 */
#include "tr_test.h"

#include "common/err.h"
#include "common/buf.h"
#include "common/defs.h"
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

/* ---- a tiny protobuf writer (binlog.proto field numbers) ---- */
static void pb_varint(tr_buf_t *b, uint64_t v)
{
    while (v >= 0x80) {
        tr_buf_put_u8(b, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    tr_buf_put_u8(b, (uint8_t)v);
}
static void pb_int(tr_buf_t *b, int num, uint64_t v)
{
    pb_varint(b, (uint64_t)num << 3);
    pb_varint(b, v);
}
static void pb_bytes(tr_buf_t *b, int num, const uint8_t *p, size_t n)
{
    pb_varint(b, (uint64_t)num << 3 | 2);
    pb_varint(b, n);
    tr_buf_append(b, p, n);
}

/*
 * Walks a whole PrewriteValue from an exact-size heap copy of p[0..len) (ASan
 * catches any read past the end): every mutation and every row. Appends to
 * trace (if not NULL) "M" + table_id, then per row the kind and the row bytes,
 * counts rows in *rows, and returns 0 or the first error.
 */
static int walk_copy(const uint8_t *p, size_t len, tr_buf_t *trace, size_t *rows)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    memcpy(copy, p, len);
    const char *why = NULL;
    tr_tidb_prewrite_iter_t it;
    int rc = tr_tidb_prewrite_iter_init(&it, copy, len, &why);
    tr_tidb_mutation_t m;
    while (rc == 0 && (rc = tr_tidb_prewrite_next(&it, &m, &why)) > 0) {
        rc = 0;
        if (trace != NULL) {
            tr_buf_put_u8(trace, 'M');
            tr_buf_append(trace, &m.table_id, sizeof(m.table_id));
        }
        tr_tidb_rows_t cur;
        tr_tidb_rows_init(&cur, &m);
        int32_t kind;
        tr_slice_t row;
        while ((rc = tr_tidb_rows_next(&cur, &kind, &row, &why)) > 0) {
            (*rows)++;
            if (trace != NULL) {
                tr_buf_put_u8(trace, (uint8_t)kind);
                tr_buf_put_u8(trace, (uint8_t)row.len);
                tr_buf_append(trace, row.p, row.len);
            }
        }
    }
    if (rc < 0 && (why == NULL || why[0] == '\0')) {
        TR_FAIL_AT("error %d without a reason", rc);
    }
    free(copy);
    return rc;
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

    const char *pwhy = NULL;
    tr_tidb_prewrite_iter_t it;
    EXPECT_EQ_INT(tr_tidb_prewrite_iter_init(&it, bl.prewrite_value.p, bl.prewrite_value.len,
                                             &pwhy),
                  0);
    EXPECT_EQ_INT(it.schema_version, 12);
    EXPECT_EQ_INT(it.n_mutations, 1);
    tr_tidb_mutation_t m;
    EXPECT_EQ_INT(tr_tidb_prewrite_next(&it, &m, &pwhy), 1);
    EXPECT_EQ_INT(m.table_id, 45);
    EXPECT_EQ_INT(m.n_inserted, 1);
    EXPECT_EQ_INT(m.n_updated, 0);
    EXPECT_EQ_INT(m.n_deleted, 0);
    EXPECT_EQ_INT(m.n_sequence, 1);
    tr_tidb_rows_t cur;
    tr_tidb_rows_init(&cur, &m);
    int32_t kind = -1;
    tr_slice_t row = tr_slice(NULL, 0);
    EXPECT_EQ_INT(tr_tidb_rows_next(&cur, &kind, &row, &pwhy), 1);
    EXPECT_EQ_INT(kind, TR_TIDB_MUT_INSERT);
    EXPECT_EQ_MEM(row.p, row.len, row47, sizeof(row47));
    EXPECT_EQ_INT(tr_tidb_rows_next(&cur, &kind, &row, &pwhy), 0);
    EXPECT_EQ_INT(tr_tidb_prewrite_next(&it, &m, &pwhy), 0);
    int64_t version = 0;
    EXPECT_EQ_INT(tr_tidb_prewrite_schema_version(bl.prewrite_value.p, bl.prewrite_value.len,
                                                  &version, &pwhy),
                  0);
    EXPECT_EQ_INT(version, 12);

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
    /* The PrewriteValue cut anywhere, in an exact-size copy so that ASan sees any
     * read past the end: an error, or (cut between fields) a shorter message. */
    for (size_t k = 0; k < bl.prewrite_value.len; k++) {
        size_t rows = 0;
        int rc = walk_copy(bl.prewrite_value.p, k, NULL, &rows);
        EXPECT_TRUE(rc == 0 || rc == TR_EMALFORMED);
        EXPECT_EQ_INT(rows, 0); /* the one row's sequence entry is the last byte */
    }
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
    tr_buf_t trace;
    tr_buf_init(&trace, 0);
    size_t rows = 0;
    EXPECT_EQ_INT(walk_copy(pv, sizeof(pv), &trace, &rows), 0);
    EXPECT_EQ_INT(rows, 3);
    static const uint8_t want[] = {'M', 7, 0, 0, 0, 0, 0, 0, 0,
                                   TR_TIDB_MUT_INSERT, 1, 0xAA,
                                   TR_TIDB_MUT_DELETE_ROW, 1, 0xCC,
                                   TR_TIDB_MUT_INSERT, 1, 0xBB};
    EXPECT_EQ_MEM(trace.data, trace.len, want, sizeof(want));
    tr_buf_cleanup(&trace);

    const char *why = NULL;
    tr_tidb_prewrite_iter_t it;
    EXPECT_EQ_INT(tr_tidb_prewrite_iter_init(&it, pv, sizeof(pv), &why), 0);
    tr_tidb_mutation_t m;
    EXPECT_EQ_INT(tr_tidb_prewrite_next(&it, &m, &why), 1);
    EXPECT_EQ_INT(m.n_inserted, 2);
    EXPECT_EQ_INT(m.n_deleted, 1);
    EXPECT_EQ_INT(m.n_sequence, 3);
    EXPECT_TRUE(m.body.p == pv + 4 && m.body.len == 17); /* a view, not a copy */

    /* Wrong wire type for a known field. */
    static const uint8_t bad[] = {0x0A, 0x01, 0x00};
    EXPECT_EQ_INT(tr_tidb_prewrite_iter_init(&it, bad, sizeof(bad), &why), TR_EMALFORMED);
    /* A group is rejected. */
    static const uint8_t grp[] = {0x0B, 0x0C};
    tr_tidb_binlog_t bl;
    EXPECT_EQ_INT(tr_tidb_binlog_decode(grp, sizeof(grp), &bl, &why), TR_EMALFORMED);
}

/* ---- one statement list, many encodings ---- */

typedef struct {
    int32_t kind;
    uint8_t fill; /* row bytes: `len` times this byte */
    uint8_t len;
} stmt_t;

/* Insert, insert, update, delete, insert, update, update, delete, insert: five runs. */
static const stmt_t stmts[] = {
    {TR_TIDB_MUT_INSERT, 0x10, 3},     {TR_TIDB_MUT_INSERT, 0x11, 1},
    {TR_TIDB_MUT_UPDATE, 0x20, 4},     {TR_TIDB_MUT_DELETE_ROW, 0x40, 2},
    {TR_TIDB_MUT_INSERT, 0x12, 130},   {TR_TIDB_MUT_UPDATE, 0x21, 1},
    {TR_TIDB_MUT_UPDATE, 0x22, 2},     {TR_TIDB_MUT_DELETE_ROW, 0x41, 5},
    {TR_TIDB_MUT_INSERT, 0x13, 0},
};

enum {
    L_GOGO,        /* as TiDB's gogo marshaller: table_id, rows by field, unpacked sequence */
    L_GOGO_PACKED, /* the same with one packed sequence */
    L_SEQ_FIRST,   /* packed sequence first, row lists in reverse field order, table_id last */
    L_INTERLEAVED, /* each row followed by its own unpacked entry; table_id in the middle */
    L_SPLIT,       /* sequence spread over packed/unpacked/empty fields, legacy and unknown
                    * fields in between */
    L_COUNT
};

static int field_of(int32_t kind)
{
    return kind == TR_TIDB_MUT_INSERT ? 2 : kind == TR_TIDB_MUT_UPDATE ? 3 : 6;
}

static void put_row(tr_buf_t *m, const stmt_t *st)
{
    uint8_t row[256];
    memset(row, st->fill, st->len);
    pb_bytes(m, field_of(st->kind), row, st->len);
}

/* The TableMutation of stmts[] in layout l. bounds (optional) receives the
 * offset after each field; returns the field count. */
static size_t build_mutation(tr_buf_t *m, int l, int64_t table_id, size_t *bounds)
{
    size_t n = TR_ARRAY_LEN(stmts);
    size_t nf = 0;
    uint8_t seq[16];
    for (size_t i = 0; i < n; i++) {
        seq[i] = (uint8_t)stmts[i].kind;
    }
#define MARK()                                                                                     \
    do {                                                                                           \
        if (bounds != NULL) {                                                                      \
            bounds[nf] = m->len;                                                                   \
        }                                                                                          \
        nf++;                                                                                      \
    } while (0)
    static const int32_t order[3] = {TR_TIDB_MUT_INSERT, TR_TIDB_MUT_UPDATE,
                                     TR_TIDB_MUT_DELETE_ROW};
    switch (l) {
    case L_GOGO:
    case L_GOGO_PACKED:
        pb_int(m, 1, (uint64_t)table_id);
        MARK();
        for (int k = 0; k < 3; k++) {
            for (size_t i = 0; i < n; i++) {
                if (stmts[i].kind == order[k]) {
                    put_row(m, &stmts[i]);
                    MARK();
                }
            }
        }
        if (l == L_GOGO_PACKED) {
            pb_bytes(m, 7, seq, n);
            MARK();
        } else {
            for (size_t i = 0; i < n; i++) {
                pb_int(m, 7, seq[i]);
                MARK();
            }
        }
        break;
    case L_SEQ_FIRST:
        pb_bytes(m, 7, seq, n);
        for (int k = 2; k >= 0; k--) {
            for (size_t i = 0; i < n; i++) {
                if (stmts[i].kind == order[k]) {
                    put_row(m, &stmts[i]);
                }
            }
        }
        pb_int(m, 1, (uint64_t)table_id);
        break;
    case L_INTERLEAVED:
        for (size_t i = 0; i < n; i++) {
            put_row(m, &stmts[i]);
            pb_int(m, 7, seq[i]);
            if (i == n / 2) {
                pb_int(m, 1, (uint64_t)table_id);
            }
        }
        break;
    default: { /* L_SPLIT */
        static const uint8_t legacy_pk[] = {0x01, 0x02};
        pb_int(m, 1, 999); /* overridden below: the last table_id wins */
        pb_bytes(m, 7, seq, 3);
        pb_int(m, 4, 17);                 /* deleted_ids (legacy): skipped */
        pb_bytes(m, 5, legacy_pk, 2);     /* deleted_pks (legacy): skipped */
        for (size_t i = 0; i < n; i++) {
            put_row(m, &stmts[i]);
            if (i == 4) {
                pb_bytes(m, 7, seq, 0);   /* an empty packed field */
                pb_int(m, 20, 5);         /* unknown fields */
                pb_bytes(m, 21, legacy_pk, 2);
            }
        }
        pb_int(m, 7, seq[3]);
        pb_bytes(m, 7, seq + 4, n - 4);
        pb_int(m, 1, (uint64_t)table_id);
        break;
    }
    }
#undef MARK
    return nf;
}

/* PrewriteValue{schema_version, mutation of table 50, mutation of table 51} in layout l. */
static void build_pv(tr_buf_t *pv, int l, bool version_last)
{
    tr_buf_t m;
    tr_buf_init(&m, 0);
    if (!version_last) {
        pb_int(pv, 1, 77);
    }
    for (int64_t t = 50; t <= 51; t++) {
        tr_buf_reset(&m);
        build_mutation(&m, l, t, NULL);
        pb_bytes(pv, 2, m.data, m.len);
    }
    if (version_last) {
        pb_int(pv, 1, 77);
    }
    tr_buf_cleanup(&m);
}

TR_TEST(rows_in_statement_order_whatever_the_field_order)
{
    /* What every layout must yield: stmts[] twice, under tables 50 and 51. */
    tr_buf_t want;
    tr_buf_init(&want, 0);
    for (int64_t t = 50; t <= 51; t++) {
        tr_buf_put_u8(&want, 'M');
        tr_buf_append(&want, &t, sizeof(t));
        for (size_t i = 0; i < TR_ARRAY_LEN(stmts); i++) {
            uint8_t row[256];
            memset(row, stmts[i].fill, stmts[i].len);
            tr_buf_put_u8(&want, (uint8_t)stmts[i].kind);
            tr_buf_put_u8(&want, stmts[i].len);
            tr_buf_append(&want, row, stmts[i].len);
        }
    }
    for (int l = 0; l < L_COUNT; l++) {
        for (int vl = 0; vl < 2; vl++) {
            tr_buf_t pv;
            tr_buf_t trace;
            tr_buf_init(&pv, 0);
            tr_buf_init(&trace, 0);
            build_pv(&pv, l, vl != 0);
            size_t rows = 0;
            EXPECT_EQ_INT(walk_copy(pv.data, pv.len, &trace, &rows), 0);
            EXPECT_EQ_INT(rows, 2 * TR_ARRAY_LEN(stmts));
            EXPECT_EQ_MEM(trace.data, trace.len, want.data, want.len);
            int64_t version = 0;
            const char *why = NULL;
            EXPECT_EQ_INT(tr_tidb_prewrite_schema_version(pv.data, pv.len, &version, &why), 0);
            EXPECT_EQ_INT(version, 77);
            tr_buf_cleanup(&pv);
            tr_buf_cleanup(&trace);
        }
    }
    tr_buf_cleanup(&want);
}

TR_TEST(every_truncation_is_an_error_or_a_shorter_message)
{
    for (int l = 0; l < L_COUNT; l++) {
        tr_buf_t pv;
        tr_buf_init(&pv, 0);
        build_pv(&pv, l, false);
        for (size_t k = 0; k < pv.len; k++) {
            size_t rows = 0;
            int rc = walk_copy(pv.data, k, NULL, &rows);
            EXPECT_TRUE(rc == 0 || rc == TR_EMALFORMED);
        }
        tr_buf_cleanup(&pv);
    }
    /* A mutation cut inside a field is malformed; cut between fields before its first
     * sequence entry it has no statement order (no rows); cut later, its sequence no
     * longer matches its rows. */
    tr_buf_t m;
    tr_buf_init(&m, 0);
    size_t bounds[32];
    size_t nf = build_mutation(&m, L_GOGO, 50, bounds);
    size_t seq_start = bounds[nf - TR_ARRAY_LEN(stmts) - 1];
    for (size_t k = 0; k < m.len; k++) {
        tr_buf_t pv;
        tr_buf_init(&pv, 0);
        pb_bytes(&pv, 2, m.data, k);
        bool at_bound = k == 0;
        for (size_t i = 0; i < nf; i++) {
            at_bound = at_bound || bounds[i] == k;
        }
        size_t rows = 0;
        int rc = walk_copy(pv.data, pv.len, NULL, &rows);
        if (at_bound && k <= seq_start) {
            EXPECT_EQ_INT(rc, 0);
        } else {
            EXPECT_EQ_INT(rc, TR_EMALFORMED);
        }
        EXPECT_EQ_INT(rows, 0);
        tr_buf_cleanup(&pv);
    }
    tr_buf_cleanup(&m);
}

/* PrewriteValue{mutation{body}} from hex, walked. */
static int walk_mutation_hex(const char *hex, size_t *rows)
{
    uint8_t body[128];
    size_t n = tr_test_unhex(hex, body, sizeof(body));
    tr_buf_t pv;
    tr_buf_init(&pv, 0);
    pb_bytes(&pv, 2, body, n);
    *rows = 0;
    int rc = walk_copy(pv.data, pv.len, NULL, rows);
    tr_buf_cleanup(&pv);
    return rc;
}

TR_TEST(malformed_mutations)
{
    static const struct {
        const char *hex;
        int rc;
        size_t rows;
    } cases[] = {
        /* table_id, one insert row, sequence as given */
        {"08 07 12 01 AA 38 00", 0, 1},
        {"08 07 12 01 AA 38 02", TR_EMALFORMED, 0},          /* DeleteID: legacy kind */
        {"08 07 12 01 AA 38 03", TR_EMALFORMED, 0},          /* DeletePK: legacy kind */
        {"08 07 12 01 AA 38 05", TR_EMALFORMED, 0},          /* unknown kind */
        {"08 07 12 01 AA 38 80 80 80 80 10", TR_EMALFORMED, 0}, /* 2^32, not Insert */
        {"08 07 12 01 AA 38 FF FF FF FF FF FF FF FF FF 01", TR_EMALFORMED, 0}, /* -1 */
        {"08 07 12 01 AA 38 00 38 00", TR_EMALFORMED, 0},    /* an entry with no row left */
        {"08 07 12 01 AA 38 01", TR_EMALFORMED, 0},          /* update entry, no updated row */
        {"08 07 12 01 AA 12 01 BB 38 00", TR_EMALFORMED, 0}, /* a row left unconsumed */
        {"08 07 12 01 AA 1A 01 BB 38 00", TR_EMALFORMED, 0}, /* an updated row unconsumed */
        {"08 07 12 01 AA", 0, 0},                            /* no sequence: no rows */
        {"08 07 22 01 AA 2A 01 BB", 0, 0},                   /* legacy fields only */
        {"0A 01 07 12 01 AA 38 00", TR_EMALFORMED, 0},       /* table_id not a varint */
        {"08 07 10 01 38 00", TR_EMALFORMED, 0},             /* inserted_rows not bytes */
        {"08 07 30 01 38 04", TR_EMALFORMED, 0},             /* deleted_rows not bytes */
        {"08 07 12 01 AA 3D 00 00 00 00", TR_EMALFORMED, 0}, /* sequence as fixed32 */
        {"08 07 12 01 AA 3A 01 80", TR_EMALFORMED, 0},       /* packed varint cut short */
        {"08 07 12 01 AA 3A 00 3A 01 00", 0, 1},             /* empty packed field, then one */
        {"08 07 12 05 AA 38 00", TR_EMALFORMED, 0},          /* row longer than the message */
        {"08 07 13 14 38 00", TR_EMALFORMED, 0},             /* a group */
        {"08 07 12 01 AA 38 00 00 00", TR_EMALFORMED, 0},    /* field number 0 */
    };
    for (size_t i = 0; i < TR_ARRAY_LEN(cases); i++) {
        size_t rows = 0;
        int rc = walk_mutation_hex(cases[i].hex, &rows);
        if (rc != cases[i].rc || rows != cases[i].rows) {
            TR_FAIL_AT("case %zu (%s): rc %d rows %zu", i, cases[i].hex, rc, rows);
        }
    }
    /* Errors come from tr_tidb_prewrite_next, before any row is yielded. */
    static const uint8_t pv[] = {0x12, 0x07, 0x08, 0x07, 0x12, 0x01, 0xAA, 0x38, 0x01};
    const char *why = NULL;
    tr_tidb_prewrite_iter_t it;
    EXPECT_EQ_INT(tr_tidb_prewrite_iter_init(&it, pv, sizeof(pv), &why), 0);
    tr_tidb_mutation_t m;
    why = NULL;
    EXPECT_EQ_INT(tr_tidb_prewrite_next(&it, &m, &why), TR_EMALFORMED);
    EXPECT_TRUE(why != NULL && strstr(why, "sequence") != NULL);
    /* Top level: a mutation that is not a message, schema_version that is not a varint. */
    static const uint8_t top1[] = {0x10, 0x01};
    static const uint8_t top2[] = {0x0A, 0x00};
    int64_t version = -1;
    EXPECT_EQ_INT(tr_tidb_prewrite_schema_version(top1, sizeof(top1), &version, &why),
                  TR_EMALFORMED);
    EXPECT_EQ_INT(tr_tidb_prewrite_schema_version(top2, sizeof(top2), &version, &why),
                  TR_EMALFORMED);
    EXPECT_EQ_INT(version, 0);
    /* Absent schema_version reads as 0; the last one wins. */
    static const uint8_t top3[] = {0x08, 0x05, 0x12, 0x00, 0x08, 0x09};
    EXPECT_EQ_INT(tr_tidb_prewrite_schema_version(top3, sizeof(top3), &version, &why), 0);
    EXPECT_EQ_INT(version, 9);
    EXPECT_EQ_INT(tr_tidb_prewrite_schema_version(top3 + 2, 2, &version, &why), 0);
    EXPECT_EQ_INT(version, 0);
}

/* The cursor checks on its own too (a mutation whose counts do not match its body). */
TR_TEST(row_cursor_checks_its_counts)
{
    static const uint8_t body[] = {0x08, 0x07, 0x12, 0x01, 0xAA, 0x38, 0x00};
    const char *why = NULL;
    int32_t kind;
    tr_slice_t row;
    tr_tidb_rows_t cur;
    tr_tidb_mutation_t m = {.table_id = 7, .body = tr_slice(body, sizeof(body)),
                            .n_inserted = 1, .n_sequence = 2};
    tr_tidb_rows_init(&cur, &m); /* one entry more than the body has */
    EXPECT_EQ_INT(tr_tidb_rows_next(&cur, &kind, &row, &why), 1);
    EXPECT_EQ_INT(tr_tidb_rows_next(&cur, &kind, &row, &why), TR_EMALFORMED);
    m.n_sequence = 1;
    m.n_inserted = 0; /* the entry finds no row left */
    tr_tidb_rows_init(&cur, &m);
    EXPECT_EQ_INT(tr_tidb_rows_next(&cur, &kind, &row, &why), TR_EMALFORMED);
    m.n_inserted = 2; /* a row is left over */
    tr_tidb_rows_init(&cur, &m);
    EXPECT_EQ_INT(tr_tidb_rows_next(&cur, &kind, &row, &why), 1);
    why = NULL;
    EXPECT_EQ_INT(tr_tidb_rows_next(&cur, &kind, &row, &why), TR_EMALFORMED);
    EXPECT_TRUE(why != NULL);
    m.n_inserted = 2; /* counted rows the body does not hold */
    m.n_sequence = 2;
    static const uint8_t body2[] = {0x08, 0x07, 0x12, 0x01, 0xAA, 0x38, 0x00, 0x38, 0x00};
    m.body = tr_slice(body2, sizeof(body2));
    tr_tidb_rows_init(&cur, &m);
    EXPECT_EQ_INT(tr_tidb_rows_next(&cur, &kind, &row, &why), 1);
    EXPECT_EQ_INT(tr_tidb_rows_next(&cur, &kind, &row, &why), TR_EMALFORMED);
    m.n_sequence = 0; /* no statement order: nothing, whatever the lists hold */
    tr_tidb_rows_init(&cur, &m);
    EXPECT_EQ_INT(tr_tidb_rows_next(&cur, &kind, &row, &why), 0);
}

TR_TEST_MAIN()
