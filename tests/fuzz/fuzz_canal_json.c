/*
 * Fuzz target: TiCDC canal-json messages (protocol/canal_json.c) as the relay reads them:
 * tr_canal_parse, then every member of data, old, mysqlType and sqlType and every name of
 * pkNames walked with the iterators; every key and string value decoded and compared with
 * itself (tr_canal_str_eq), read as ISO-8859-1 bytes, converted with tr_canal_value for
 * every column of a fixed table holding one column of each type (a DOUBLE's compared bit
 * for bit with strtod's), and every mysqlType
 * entry matched against each column. The envelope's strings are decoded too.
 *
 * Checks: every view lies inside the input, a decoded string is never longer than its
 * escaped form, and the fields parse promised for the message's kind are there; and
 * tr_canal_parse_images (with little room and with plenty) agrees with tr_canal_parse,
 * the members it read (images, mysqlType) being what the iterator walks.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "protocol/canal_json.h"
#include "protocol/tidb_schema.h"

/* One column of every type tr_canal_value converts, plus an unsupported one (VECTOR). */
#define COL(id, name, tp, flag, flen, dec, cs, extra)                                              \
    "{\"id\":" #id ",\"name\":{\"O\":\"" name "\"},\"offset\":" #id ",\"state\":5,\"type\":{"     \
    "\"Tp\":" #tp ",\"Flag\":" #flag ",\"Flen\":" #flen ",\"Decimal\":" #dec ",\"Charset\":\"" cs \
    "\",\"Collate\":\"" cs "_bin\"" extra "}}"
static const char table_json[] =
    "{\"id\":1,\"name\":{\"O\":\"t\"},\"pk_is_handle\":true,\"cols\":["
    COL(0, "id", 8, 35, 20, 0, "binary", "") "," COL(1, "i8", 1, 0, 4, 0, "binary", "") ","
    COL(2, "u16", 2, 32, 5, 0, "binary", "") "," COL(3, "i24", 9, 0, 9, 0, "binary", "") ","
    COL(4, "i32", 3, 0, 11, 0, "binary", "") "," COL(5, "f", 4, 0, 12, -1, "binary", "") ","
    COL(6, "d", 5, 0, 22, -1, "binary", "") "," COL(7, "dec", 246, 0, 10, 2, "binary", "") ","
    COL(8, "dt", 10, 128, 10, 0, "binary", "") "," COL(9, "dtm", 12, 128, 26, 6, "binary", "")
    "," COL(10, "ts", 7, 128, 23, 3, "binary", "") "," COL(11, "tm", 11, 128, 13, 2, "binary", "")
    "," COL(12, "y", 13, 96, 4, 0, "binary", "") "," COL(13, "vc", 15, 0, 8, 0, "utf8mb4", "")
    "," COL(14, "ch", 254, 0, 4, 0, "utf8mb4", "") ","
    COL(15, "txt", 252, 0, 65535, 0, "utf8mb4", "") ","
    COL(16, "vb", 15, 128, 16, 0, "binary", "") "," COL(17, "bl", 249, 128, 255, 0, "binary", "")
    "," COL(18, "e", 247, 0, 1, 0, "utf8mb4", ",\"Elems\":[\"a\",\"b\",\"c\"]") ","
    COL(19, "s", 248, 0, 5, 0, "utf8mb4", ",\"Elems\":[\"x\",\"y\"]") ","
    COL(20, "b", 16, 32, 17, 0, "binary", "") "," COL(21, "j", 245, 128, -1, 0, "binary", "") ","
    COL(22, "l1", 15, 0, 4, 0, "latin1", "") "," COL(23, "vec", 225, 0, 3, 0, "binary", "")
    "," COL(24, "u64", 8, 32, 20, 0, "binary", "") "]}";

static tr_table_info_t *g_table;
static const uint8_t *g_base;
static size_t g_size;
static uint8_t g_text[1 << 16];
static uint8_t g_bytes[1 << 16];

static void in_input(tr_slice_t s)
{
    if (s.len > 0) {
        FUZZ_CHECK(s.p >= g_base && s.p + s.len <= g_base + g_size);
    }
}

/* Decodes s into g_text; returns its length or -1. */
static ssize_t decode(const tr_canal_str_t *s)
{
    in_input(s->raw);
    if (s->raw.len > sizeof(g_text)) {
        return -1;
    }
    const char *why = NULL;
    ssize_t n = tr_canal_str_decode(s, g_text, &why);
    if (n < 0) {
        FUZZ_CHECK(n == TR_EMALFORMED && why != NULL);
        return -1;
    }
    FUZZ_CHECK((size_t)n <= s->raw.len);
    FUZZ_CHECK(tr_canal_str_eq(s, (const char *)g_text, (size_t)n));
    if (!s->has_escapes) {
        FUZZ_CHECK((size_t)n == s->raw.len && memcmp(g_text, s->raw.p, (size_t)n) == 0);
    }
    return n;
}

static void use_datum(const tr_datum_t *d, const uint8_t *text, size_t len)
{
    if (d->bytes.len > 0) {
        FUZZ_CHECK(d->bytes.p >= text && d->bytes.p + d->bytes.len <= text + len);
    }
    if (d->kind == TR_DATUM_UINT && d->flag == TR_DATUM_FLAG_UINT) {
        tr_tidb_time_t t;
        (void)tr_tidb_time_unpack(d->u, &t);
    }
}

static void use_value(const uint8_t *text, size_t len)
{
    const char *why = NULL;
    for (size_t i = 0; i < g_table->n_cols; i++) {
        const tr_tidb_column_t *c = &g_table->cols[i];
        tr_datum_t d;
        int rc = tr_canal_value(c, text, len, &d, &why);
        if (rc == 0) {
            use_datum(&d, text, len);
            if (c->tp == TR_TIDB_TP_DOUBLE && len < sizeof(g_text)) {
                /* the double strtod reads, bit for bit (canal_json.c's fast_double) */
                static char num[sizeof(g_text) + 1];
                memcpy(num, text, len);
                num[len] = '\0';
                double want = strtod(num, NULL);
                FUZZ_CHECK(memcmp(&want, &d.f, sizeof(want)) == 0);
            }
        } else {
            FUZZ_CHECK((rc == TR_ESCHEMA || rc == TR_EUNSUPPORTED) && why != NULL);
        }
    }
    /* As a binary column's value: the bytes, converted in a copy, then in place. */
    ssize_t n = tr_canal_latin1_bytes(text, len, g_bytes, &why);
    if (n >= 0) {
        FUZZ_CHECK((size_t)n <= len);
        for (size_t i = 0; i < g_table->n_cols; i++) {
            tr_datum_t d;
            if (tr_canal_value(&g_table->cols[i], g_bytes, (size_t)n, &d, &why) == 0) {
                use_datum(&d, g_bytes, (size_t)n);
            }
        }
        memcpy(g_bytes, text, len);
        ssize_t m = tr_canal_latin1_bytes(g_bytes, len, g_bytes, &why);
        FUZZ_CHECK(m == n);
    } else {
        FUZZ_CHECK(n == TR_EMALFORMED && why != NULL);
    }
}

/* Walks a flat object; from_parse: a slice parse returned, which the iterator must walk
 * to its end without an error. */
static void walk_object(tr_slice_t obj, bool is_types, bool from_parse)
{
    in_input(obj);
    tr_canal_obj_iter_t it = tr_canal_obj_iter(obj);
    tr_canal_str_t key;
    tr_canal_val_t val;
    const char *why = NULL;
    int rc;
    while ((rc = tr_canal_obj_next(&it, &key, &val, &why)) > 0) {
        (void)decode(&key);
        in_input(val.str.raw);
        if (val.kind != TR_CANAL_VAL_STRING) {
            continue;
        }
        ssize_t n = decode(&val.str);
        if (n < 0) {
            continue;
        }
        /* g_text is reused by the next decode: take a copy of the value. */
        static uint8_t text[sizeof(g_text)];
        memcpy(text, g_text, (size_t)n);
        if (is_types) {
            for (size_t i = 0; i < g_table->n_cols; i++) {
                (void)tr_canal_type_matches(&g_table->cols[i], text, (size_t)n);
            }
        } else {
            use_value(text, (size_t)n);
        }
    }
    FUZZ_CHECK(rc == 0 || (!from_parse && rc == TR_EMALFORMED && why != NULL));
}

/* The members parse_images read are the iterator's walk of obj. */
static void same_members(tr_slice_t obj, const tr_canal_member_t *mem, size_t n)
{
    tr_canal_obj_iter_t it = tr_canal_obj_iter(obj);
    tr_canal_str_t key;
    tr_canal_val_t val;
    const char *why = NULL;
    size_t i = 0;
    int rc;
    while ((rc = tr_canal_obj_next(&it, &key, &val, &why)) > 0) {
        FUZZ_CHECK(i < n);
        const tr_canal_member_t *m = &mem[i++];
        FUZZ_CHECK(m->key.raw.p == key.raw.p && m->key.raw.len == key.raw.len &&
                   m->key.has_escapes == key.has_escapes && m->val.kind == val.kind &&
                   m->val.str.raw.len == val.str.raw.len &&
                   m->val.str.has_escapes == val.str.has_escapes);
        FUZZ_CHECK(val.kind == TR_CANAL_VAL_NULL || m->val.str.raw.p == val.str.raw.p);
    }
    FUZZ_CHECK(rc == 0 && i == n);
}

static void check_images(const uint8_t *data, size_t size, int rc, const char *why,
                         const tr_canal_msg_t *m)
{
    static tr_canal_member_t members[256];
    for (size_t room = 4; room <= 256; room *= 64) {
        tr_canal_msg_t mi;
        const char *why_i = NULL;
        int rc_i = tr_canal_parse_images(data, size, &mi, members, room, &why_i);
        FUZZ_CHECK(rc_i == rc && (rc == 0 || strcmp(why_i, why) == 0));
        if (rc != 0 || mi.members_needed > room) {
            continue;
        }
        FUZZ_CHECK(mi.kind == m->kind && mi.data.p == m->data.p && mi.data.len == m->data.len &&
                   mi.old.p == m->old.p && mi.old.len == m->old.len);
        if (m->kind == TR_CANAL_INSERT || m->kind == TR_CANAL_UPDATE ||
            m->kind == TR_CANAL_DELETE) {
            same_members(m->data, mi.data_members, mi.n_data_members);
            same_members(m->old, mi.old_members, mi.n_old_members);
            same_members(m->mysql_type, mi.type_members, mi.n_type_members);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (g_table == NULL) {
        const char *why = NULL;
        g_table = tr_table_info_parse(table_json, sizeof(table_json) - 1, &why);
        FUZZ_CHECK(g_table != NULL);
    }
    g_base = data;
    g_size = size;

    tr_canal_msg_t m;
    const char *why = NULL;
    int rc = tr_canal_parse(data, size, &m, &why);
    check_images(data, size, rc, why, &m);
    if (rc != 0) {
        FUZZ_CHECK((rc == TR_EMALFORMED || rc == TR_EUNSUPPORTED) && why != NULL);
        /* Walk a rejected message's bytes as one row object anyway: the iterators must
         * stand on their own. */
        walk_object(tr_slice(data, size), false, false);
        return 0;
    }
    (void)decode(&m.type);
    (void)decode(&m.database);
    (void)decode(&m.table);
    (void)decode(&m.sql);
    switch (m.kind) {
    case TR_CANAL_INSERT:
    case TR_CANAL_UPDATE:
    case TR_CANAL_DELETE:
        FUZZ_CHECK(m.has_commit_ts && m.data.len > 0);
        break;
    case TR_CANAL_WATERMARK:
        FUZZ_CHECK(m.has_watermark_ts);
        break;
    case TR_CANAL_DDL:
        break;
    default:
        FUZZ_CHECK(0);
    }
    walk_object(m.data, false, true);
    walk_object(m.old, false, true);
    walk_object(m.mysql_type, true, true);
    walk_object(m.sql_type, true, true);

    in_input(m.pk_names);
    tr_canal_arr_iter_t ai = tr_canal_arr_iter(m.pk_names);
    tr_canal_str_t name;
    size_t n = 0;
    while ((rc = tr_canal_arr_next(&ai, &name, &why)) > 0) {
        (void)decode(&name);
        n++;
    }
    /* parse checked pkNames: an array of strings, n_pk_names of them */
    FUZZ_CHECK(rc == 0 && n == m.n_pk_names);
    return 0;
}
