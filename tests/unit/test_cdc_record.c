/*
 * Unit tests of canal-json message -> collector record (src/relay/cdc_record.c): the
 * table and layout interned (column names in "data" order, types from "mysqlType"
 * whatever its order), values unescaped into the record, UPDATE with its before image
 * first, NULLs, watermarks, DDL, content hashes equal for equal messages, and the
 * changefeed settings refused with a reason.
 */
#include <string.h>

#include "common/err.h"
#include "protocol/tidb_binlog.h"
#include "relay/cdc_record.h"
#include "tr_test.h"

typedef struct {
    tr_cdc_names_t *names;
    tr_cdc_log_t *log;
    tr_cdc_reader_t *rd;
} fx_t;

static void fx_init(fx_t *f)
{
    f->names = tr_cdc_names_new();
    f->log = tr_cdc_log_new("/tmp", 16u << 20);
    f->rd = tr_cdc_reader_new(f->names, f->log);
}

static void fx_free(fx_t *f)
{
    tr_cdc_reader_free(f->rd);
    tr_cdc_log_free(f->log);
    tr_cdc_names_free(f->names);
}

static int rd(fx_t *f, const char *msg, tr_cdc_rec_t **rec, int64_t *wm, const char **why)
{
    *rec = NULL;
    return tr_cdc_read(f->rd, (const uint8_t *)msg, strlen(msg), 2, 77, rec, wm, why);
}

/* The next value of img as a C string, "NULL" for NULL. */
static const char *val(tr_cdc_image_t *img, char *buf, size_t cap)
{
    const uint8_t *t;
    size_t n;
    if (!tr_cdc_value(img, &t, &n)) {
        return "NULL";
    }
    if (n >= cap) {
        n = cap - 1;
    }
    memcpy(buf, t, n);
    buf[n] = '\0';
    return buf;
}

static const char *ins =
    "{\"id\":0,\"database\":\"shop\",\"table\":\"orders\",\"pkNames\":[\"id\"],\"isDdl\":false,"
    "\"type\":\"INSERT\",\"es\":1700000000000,\"ts\":1700000000100,\"sql\":\"\","
    "\"sqlType\":{\"id\":-5,\"note\":12,\"bin\":2004},"
    "\"mysqlType\":{\"note\":\"varchar\",\"bin\":\"blob\",\"id\":\"bigint\"},"
    "\"old\":null,\"data\":[{\"id\":\"42\",\"note\":\"caf\\u00e9 \\\"x\\\"\",\"bin\":\"\\u0000\\u00ff\"}],"
    "\"_tidb\":{\"commitTs\":445566778899}}";

TR_TEST(cdc_record_insert)
{
    fx_t f;
    fx_init(&f);
    tr_cdc_rec_t *r;
    int64_t wm = 0;
    const char *why = NULL;
    EXPECT_EQ_INT(rd(&f, ins, &r, &wm, &why), TR_CDC_READ_RECORD);
    EXPECT_EQ_INT(r->kind, TR_CDC_ROW);
    EXPECT_EQ_INT(r->op, TR_TIDB_MUT_INSERT);
    EXPECT_EQ_INT(r->commit_ts, 445566778899);
    EXPECT_EQ_INT(r->part, 2);
    EXPECT_EQ_INT(r->offset, 77);
    EXPECT_TRUE((r->flags & TR_CDC_KEYED) != 0);
    const tr_cdc_table_name_t *t = tr_cdc_names_table_get(f.names, r->table);
    EXPECT_EQ_STR(t->db, "shop");
    EXPECT_EQ_STR(t->table, "orders");
    const tr_cdc_layout_t *l = tr_cdc_names_layout_get(f.names, r->layout);
    EXPECT_EQ_INT(l->n, 3);
    EXPECT_EQ_STR(l->names[0], "id");
    EXPECT_EQ_STR(l->types[0], "bigint");
    EXPECT_EQ_STR(l->names[1], "note");
    EXPECT_EQ_STR(l->types[1], "varchar");
    EXPECT_EQ_STR(l->types[2], "blob");
    char b[64];
    tr_cdc_image_t img = tr_cdc_image(r);
    EXPECT_EQ_STR(val(&img, b, sizeof(b)), "42");
    EXPECT_EQ_STR(val(&img, b, sizeof(b)), "caf\xc3\xa9 \"x\"");
    const uint8_t *p = NULL;
    size_t n = 0;
    EXPECT_TRUE(tr_cdc_value(&img, &p, &n));
    EXPECT_EQ_MEM(p, n, "\x00\xc3\xbf", 3); /* still latin-1 characters in UTF-8 */
    EXPECT_TRUE(img.p == img.end);
    /* The same message again: same ids, same hash. */
    tr_cdc_rec_t *r2;
    EXPECT_EQ_INT(rd(&f, ins, &r2, &wm, &why), TR_CDC_READ_RECORD);
    EXPECT_EQ_INT(r2->table, r->table);
    EXPECT_EQ_INT(r2->layout, r->layout);
    EXPECT_EQ_U64(r2->hash, r->hash);
    EXPECT_EQ_MEM(r2->data, r2->len, r->data, r->len);
    tr_cdc_log_release(f.log, r);
    tr_cdc_log_release(f.log, r2);
    fx_free(&f);
}

TR_TEST(cdc_record_update_delete_keyless)
{
    fx_t f;
    fx_init(&f);
    tr_cdc_rec_t *r;
    int64_t wm = 0;
    const char *why = NULL;
    const char *upd =
        "{\"database\":\"d\",\"table\":\"t\",\"pkNames\":null,\"isDdl\":false,\"type\":\"UPDATE\","
        "\"mysqlType\":{\"b\":\"int\",\"a\":\"int\"},"
        "\"old\":[{\"a\":\"1\",\"b\":null}],\"data\":[{\"a\":\"1\",\"b\":\"2\"}],"
        "\"_tidb\":{\"commitTs\":5}}";
    EXPECT_EQ_INT(rd(&f, upd, &r, &wm, &why), TR_CDC_READ_RECORD);
    EXPECT_EQ_INT(r->op, TR_TIDB_MUT_UPDATE);
    EXPECT_TRUE((r->flags & TR_CDC_KEYED) == 0);
    char b[16];
    tr_cdc_image_t img = tr_cdc_image(r);
    EXPECT_EQ_STR(val(&img, b, sizeof(b)), "1");
    EXPECT_EQ_STR(val(&img, b, sizeof(b)), "NULL");
    EXPECT_EQ_STR(val(&img, b, sizeof(b)), "1");
    EXPECT_EQ_STR(val(&img, b, sizeof(b)), "2");
    tr_cdc_log_release(f.log, r);
    const char *del =
        "{\"database\":\"d\",\"table\":\"t\",\"pkNames\":null,\"isDdl\":false,\"type\":\"DELETE\","
        "\"mysqlType\":{\"a\":\"int\",\"b\":\"int\"},"
        "\"data\":[{\"a\":\"1\",\"b\":\"2\"}],\"old\":null,\"_tidb\":{\"commitTs\":6}}";
    EXPECT_EQ_INT(rd(&f, del, &r, &wm, &why), TR_CDC_READ_RECORD);
    EXPECT_EQ_INT(r->op, TR_TIDB_MUT_DELETE_ROW);
    tr_cdc_log_release(f.log, r);
    /* only-output-updated-columns: "old" lacks columns. */
    const char *partial =
        "{\"database\":\"d\",\"table\":\"t\",\"pkNames\":[\"a\"],\"isDdl\":false,\"type\":\"UPDATE\","
        "\"mysqlType\":{\"a\":\"int\",\"b\":\"int\"},"
        "\"old\":[{\"b\":\"1\"}],\"data\":[{\"a\":\"1\",\"b\":\"2\"}],\"_tidb\":{\"commitTs\":7}}";
    EXPECT_EQ_INT(rd(&f, partial, &r, &wm, &why), TR_EUNSUPPORTED);
    EXPECT_TRUE(why != NULL && strstr(why, "only-output-updated-columns") != NULL);
    tr_cdc_log_stats_t st;
    tr_cdc_log_stats(f.log, &st);
    EXPECT_EQ_U64(st.live, 0); /* nothing kept from the refused message */
    fx_free(&f);
}

TR_TEST(cdc_record_ddl_watermark_and_refusals)
{
    fx_t f;
    fx_init(&f);
    tr_cdc_rec_t *r;
    int64_t wm = 0;
    const char *why = NULL;
    const char *ddl = "{\"database\":\"d\",\"table\":\"t\",\"pkNames\":null,\"isDdl\":true,"
                      "\"type\":\"ALTER\",\"sql\":\"ALTER TABLE t ADD c INT COMMENT '\\u00e9'\","
                      "\"data\":null,\"old\":null,\"_tidb\":{\"commitTs\":9}}";
    EXPECT_EQ_INT(rd(&f, ddl, &r, &wm, &why), TR_CDC_READ_RECORD);
    EXPECT_EQ_INT(r->kind, TR_CDC_DDL);
    EXPECT_EQ_MEM(r->data, r->len, "ALTER TABLE t ADD c INT COMMENT '\xc3\xa9'", 36);
    tr_cdc_log_release(f.log, r);
    const char *mark = "{\"database\":\"\",\"table\":\"\",\"isDdl\":false,\"type\":\"TIDB_WATERMARK\","
                       "\"data\":null,\"old\":null,\"_tidb\":{\"watermarkTs\":123456}}";
    EXPECT_EQ_INT(rd(&f, mark, &r, &wm, &why), TR_CDC_READ_WATERMARK);
    EXPECT_EQ_INT(wm, 123456);
    EXPECT_TRUE(r == NULL);
    const char *noext = "{\"database\":\"d\",\"table\":\"t\",\"isDdl\":false,\"type\":\"INSERT\","
                        "\"data\":[{\"a\":\"1\"}],\"old\":null}";
    EXPECT_TRUE(rd(&f, noext, &r, &wm, &why) < 0);
    const char *handle = "{\"database\":\"d\",\"table\":\"t\",\"isDdl\":false,\"type\":\"DELETE\","
                         "\"data\":[{\"a\":\"1\"}],\"old\":null,"
                         "\"_tidb\":{\"commitTs\":9,\"onlyHandleKey\":true}}";
    EXPECT_EQ_INT(rd(&f, handle, &r, &wm, &why), TR_EUNSUPPORTED);
    EXPECT_TRUE(why != NULL && strstr(why, "large-message-handle-option") != NULL);
    EXPECT_TRUE(rd(&f, "{\"database\":", &r, &wm, &why) < 0);
    const char *number = "{\"database\":\"d\",\"table\":\"t\",\"isDdl\":false,\"type\":\"INSERT\","
                         "\"data\":[{\"a\":1}],\"old\":null,\"_tidb\":{\"commitTs\":9}}";
    EXPECT_EQ_INT(rd(&f, number, &r, &wm, &why), TR_EMALFORMED);
    tr_cdc_log_stats_t st;
    tr_cdc_log_stats(f.log, &st);
    EXPECT_EQ_U64(st.live, 0);
    fx_free(&f);
}

/* A row wider than any before it (the reader's room for members grows and the message is
 * read again) and an UPDATE of 40 columns: every value in order. The same columns with
 * "mysqlType" in another member order or spacing share one layout, another type does not. */
TR_TEST(cdc_record_wide_rows_and_type_order)
{
    fx_t f;
    fx_init(&f);
    tr_cdc_rec_t *r;
    int64_t wm = 0;
    const char *why = NULL;
    enum { W = 40 };
    char types[W * 24 + 16], types_rev[W * 24 + 16], old[W * 24 + 16], data[W * 24 + 16];
    size_t nt = 0, nr = 0, no = 0, nd = 0;
    for (int i = 0; i < W; i++) {
        nt += (size_t)snprintf(types + nt, sizeof(types) - nt, "%s\"c%d\":\"int\"", i ? "," : "",
                               i);
        nr += (size_t)snprintf(types_rev + nr, sizeof(types_rev) - nr, "%s\"c%d\":\"int\"",
                               i ? "," : "", W - 1 - i);
        no += (size_t)snprintf(old + no, sizeof(old) - no, "%s\"c%d\":\"%d\"", i ? "," : "", i,
                               i);
        nd += (size_t)snprintf(data + nd, sizeof(data) - nd, "%s\"c%d\":%s", i ? "," : "", i,
                               i % 7 == 3 ? "null" : "\"v\"");
    }
#define WIDE_MSG                                                                                   \
    "{\"database\":\"d\",\"table\":\"wide\",\"pkNames\":[\"c0\"],\"isDdl\":false,"                  \
    "\"type\":\"UPDATE\",\"mysqlType\":{%s},\"old\":[{%s}],\"data\":[{%s}],"                        \
    "\"_tidb\":{\"commitTs\":11}}"
    char msg[4 * sizeof(types)];
    snprintf(msg, sizeof(msg), WIDE_MSG, types, old, data);
    EXPECT_EQ_INT(rd(&f, msg, &r, &wm, &why), TR_CDC_READ_RECORD);
    if (r == NULL) {
        fx_free(&f);
        return;
    }
    const tr_cdc_layout_t *l = tr_cdc_names_layout_get(f.names, r->layout);
    EXPECT_EQ_INT(l->n, W);
    EXPECT_EQ_STR(l->names[W - 1], "c39");
    char b[16], want[16];
    tr_cdc_image_t img = tr_cdc_image(r);
    for (int i = 0; i < W; i++) {
        snprintf(want, sizeof(want), "%d", i);
        EXPECT_EQ_STR(val(&img, b, sizeof(b)), want);
    }
    for (int i = 0; i < W; i++) {
        EXPECT_EQ_STR(val(&img, b, sizeof(b)), i % 7 == 3 ? "NULL" : "v");
    }
    EXPECT_TRUE(img.p == img.end);
    uint32_t layout = r->layout;
    tr_cdc_log_release(f.log, r);
    snprintf(msg, sizeof(msg), WIDE_MSG, types_rev, old, data);
    EXPECT_EQ_INT(rd(&f, msg, &r, &wm, &why), TR_CDC_READ_RECORD);
    if (r != NULL) {
        EXPECT_EQ_INT(r->layout, layout);
        tr_cdc_log_release(f.log, r);
    }
    /* Spaces around a member's ':' change its text, not its layout; another type does. */
    char *c5 = strstr(types, "\"c5\":\"int\"");
    memcpy(c5, "\"c5\":\"bit\"", 10);
    snprintf(msg, sizeof(msg), WIDE_MSG, types, old, data);
    EXPECT_EQ_INT(rd(&f, msg, &r, &wm, &why), TR_CDC_READ_RECORD);
    if (r != NULL) {
        EXPECT_TRUE(r->layout != layout);
        tr_cdc_log_release(f.log, r);
    }
    memcpy(c5, "\"c5\":\"int\"", 10);
    char spaced[sizeof(types) + 8];
    snprintf(spaced, sizeof(spaced), "\"c0\" : \"int\",%s", types + strlen("\"c0\":\"int\","));
    snprintf(msg, sizeof(msg), WIDE_MSG, spaced, old, data);
    EXPECT_EQ_INT(rd(&f, msg, &r, &wm, &why), TR_CDC_READ_RECORD);
    if (r != NULL) {
        EXPECT_EQ_INT(r->layout, layout);
        tr_cdc_log_release(f.log, r);
    }
    fx_free(&f);
}

TR_TEST_MAIN()
