/*
 * Fuzz target: row decoding against fixed table schemas — the input is a
 * PrewriteValue whose rows go through tr_translate_txn (relay/translate.c:
 * TiDB datum codec -> MySQL row images) in both output flavours. The schema
 * holds the tables of tests/unit/test_translate.c (t: int/varchar/datetime(6);
 * u: bigint unsigned/decimal/text/tinyint; ch, cc: clustered common handles;
 * np: no primary key, _tidb_rowid) plus v, a column-type matrix
 * (float, double, date, time(2), timestamp(6), datetime(3), year, bit(17),
 * enum, set, char, varbinary, blob, decimal(65,30), json). TableInfo JSON shapes follow
 * pingcap/tidb pkg/meta/model/table.go and column.go as in the unit tests.
 */
#include "fuzz.h"

#include <string.h>

#include "common/buf.h"
#include "common/mem.h"
#include "protocol/binlog_event.h"
#include "protocol/tidb_binlog.h"
#include "relay/schema.h"
#include "relay/translate.h"

#define COLX(id, name, off, tp, flag, flen, dec, cs, extra)                                        \
    "{\"id\":" #id ",\"name\":{\"O\":\"" name "\"},\"offset\":" #off ",\"state\":5,\"type\":{\"Tp\":" \
    #tp ",\"Flag\":" #flag ",\"Flen\":" #flen ",\"Decimal\":" #dec ",\"Charset\":\"" cs          \
    "\",\"Collate\":\"" cs "_bin\"" extra "}}"
#define COL(id, name, off, tp, flag, flen, cs) COLX(id, name, off, tp, flag, flen, 0, cs, "")
#define PRIMARY(cols)                                                                              \
    "\"index_info\":[{\"id\":1,\"idx_name\":{\"O\":\"PRIMARY\",\"L\":\"primary\"},\"idx_cols\":[" cols \
    "],\"state\":5,\"is_unique\":true,\"is_primary\":true}]"
#define JOB(id, tid, name, ver, body)                                                              \
    "{\"id\":" #id ",\"type\":3,\"schema_id\":1,\"table_id\":" #tid ",\"schema_name\":\"d\","     \
    "\"table_name\":\"" name "\",\"state\":6,\"query\":\"CREATE TABLE " name "(...)\","          \
    "\"binlog\":{\"SchemaVersion\":" #ver ",\"TableInfo\":{\"id\":" #tid ",\"name\":{\"O\":\""    \
    name "\"}," body "}}}"

static const char *const jobs[] = {
    "{\"id\":2,\"type\":1,\"schema_id\":1,\"schema_name\":\"d\",\"state\":6,"
    "\"query\":\"CREATE DATABASE d\",\"binlog\":{\"SchemaVersion\":10,"
    "\"DBInfo\":{\"id\":1,\"db_name\":{\"O\":\"d\",\"L\":\"d\"}},\"TableInfo\":null}}",
    JOB(3, 45, "t", 11,
        "\"pk_is_handle\":true,\"cols\":[" COL(1, "id", 0, 3, 4099, 11, "binary") ","
        COL(2, "name", 1, 15, 0, 10, "utf8mb4") "," COLX(3, "c", 2, 12, 128, 26, 6, "binary", "")
        "]"),
    JOB(4, 46, "u", 12,
        "\"pk_is_handle\":true,\"cols\":[" COL(1, "id", 0, 8, 4131, 20, "binary") ","
        COLX(2, "amount", 1, 246, 0, 10, 2, "binary", "") ","
        COL(3, "note", 2, 252, 16, 65535, "utf8mb4") "," COL(4, "k", 3, 1, 1, 4, "binary") "]"),
    JOB(5, 47, "ch", 13,
        "\"pk_is_handle\":false,\"is_common_handle\":true,"
        PRIMARY("{\"name\":{\"O\":\"code\"},\"offset\":1,\"length\":-1}") ",\"cols\":["
        COL(1, "info", 0, 15, 0, 8, "utf8mb4") "," COL(2, "code", 1, 15, 4099, 8, "utf8mb4") ","
        COL(3, "qty", 2, 3, 128, 11, "binary") "]"),
    JOB(6, 48, "cc", 14,
        "\"pk_is_handle\":false,\"is_common_handle\":true,"
        PRIMARY("{\"name\":{\"O\":\"id\"},\"offset\":1,\"length\":-1},"
                "{\"name\":{\"O\":\"region\"},\"offset\":0,\"length\":-1}") ",\"cols\":["
        COL(1, "region", 0, 15, 4099, 4, "utf8mb4") "," COL(2, "id", 1, 3, 4227, 11, "binary") ","
        COL(3, "v", 2, 3, 128, 11, "binary") "]"),
    JOB(7, 49, "np", 15,
        "\"pk_is_handle\":false,\"is_common_handle\":false,\"index_info\":null,\"cols\":["
        COL(1, "a", 0, 3, 128, 11, "binary") "," COL(2, "s", 1, 15, 0, 4, "utf8mb4") "]"),
    JOB(8, 50, "v", 16,
        "\"pk_is_handle\":true,\"cols\":[" COL(1, "id", 0, 3, 4099, 11, "binary") ","
        COLX(2, "f", 1, 4, 0, 12, -1, "binary", "") "," COLX(3, "d", 2, 5, 0, 22, -1, "binary", "")
        "," COL(4, "dt", 3, 10, 128, 10, "binary") ","
        COLX(5, "tm", 4, 11, 128, 13, 2, "binary", "") ","
        COLX(6, "ts", 5, 7, 128, 26, 6, "binary", "") ","
        COLX(7, "dtm", 6, 12, 128, 23, 3, "binary", "") "," COL(8, "y", 7, 13, 96, 4, "binary")
        "," COL(9, "b", 8, 16, 160, 17, "binary") ","
        COLX(10, "e", 9, 247, 0, 1, 0, "utf8mb4", ",\"Elems\":[\"a\",\"b\",\"c\"]") ","
        COLX(11, "st", 10, 248, 0, 5, 0, "utf8mb4", ",\"Elems\":[\"x\",\"y\",\"z\"]") ","
        COL(12, "ch", 11, 254, 0, 4, "utf8mb4") "," COL(13, "vb", 12, 15, 128, 8, "binary") ","
        COL(14, "bl", 13, 252, 144, 65535, "binary") ","
        COLX(15, "dx", 14, 246, 0, 65, 30, "binary", "") ","
        COL(16, "l1", 15, 15, 0, 6, "latin1") "," COL(17, "j", 16, 245, 128, -1, "binary")
        "]"),
};

static tr_schema_t *g_schema;

static void init_schema(void)
{
    g_schema = tr_schema_new();
    const char *why = NULL;
    for (size_t i = 0; i < TR_ARRAY_LEN(jobs); i++) {
        if (tr_schema_add_job(g_schema, (int64_t)i + 2, jobs[i], strlen(jobs[i]), &why) != 0) {
            fprintf(stderr, "fuzz_translate: job %zu does not parse: %s\n", i + 2, why);
            abort();
        }
    }
    if (tr_schema_advance(g_schema, 16, &why) != 0) {
        fprintf(stderr, "fuzz_translate: schema does not advance: %s\n", why);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (g_schema == NULL) {
        init_schema();
    }
    tr_tidb_binlog_t b;
    memset(&b, 0, sizeof(b));
    b.tp = TR_TIDB_BINLOG_COMMIT;
    b.start_ts = 445644799999999995ll;
    b.commit_ts = 445644800000000005ll;
    b.prewrite_value = tr_slice(data, size);
    tr_arena_t arena;
    tr_arena_init(&arena, 4096);
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        tr_txn_ctx_t ctx;
        memset(&ctx, 0, sizeof(ctx));
        ctx.gtid_no = 7;
        ctx.server_id = 1;
        ctx.last_committed = 6;
        ctx.sequence_number = 7;
        ctx.timestamp = tr_tso_seconds(b.commit_ts);
        ctx.commit_ts_us = tr_tso_micros(b.commit_ts);
        ctx.row_event_max_bytes = 256;
        tr_buf_t out;
        tr_buf_init(&out, (size_t)64 << 20);
        tr_evt_writer_t w;
        tr_evt_writer_init(&w, &out, 4, (tr_flavor_t)f, 1, true);
        w.timestamp = ctx.timestamp;
        const char *why = NULL;
        int rc = tr_translate_txn(&b, g_schema, &ctx, &w, &arena, &why);
        if (getenv("TR_FUZZ_VERBOSE") != NULL) {
            fprintf(stderr, "flavor %d: rc=%d events=%zu bytes why=%s\n", f, rc, out.len,
                    why ? why : "-");
        }
        if (rc == 0) {
            /* Every event written is complete and checksummed. */
            size_t off = 0;
            while (off < out.len) {
                tr_evt_header_t h;
                FUZZ_CHECK(tr_evt_header_decode(out.data + off, out.len - off, &h, &why) > 0);
                FUZZ_CHECK(h.event_size <= out.len - off);
                FUZZ_CHECK(tr_evt_check_crc(out.data + off, h.event_size) == 0);
                off += h.event_size;
            }
        } else {
            FUZZ_CHECK(why != NULL);
        }
        tr_buf_cleanup(&out);
        tr_arena_reset(&arena);
    }
    tr_arena_cleanup(&arena);
    return 0;
}
