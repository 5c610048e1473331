/*
 * canal_json_bench: TiCDC canal-json messages through protocol/canal_json.c against the C JSON
 * libraries Debian 12 ships (jansson 2.14, json-c 0.16, yajl 2.1.0, cJSON 1.7.15), doing the
 * same work the relay does per message:
 *
 *   parse -> kind, commitTs -> walk "old" then "data" -> per column: the decoded text
 *   (escapes resolved, UTF-8 checked), binary columns back to bytes (ISO-8859-1),
 *   tr_canal_value
 *
 * Column lookup and conversion are shared code, so the columns differ by the JSON part only.
 * "full" is all of the above and is the comparison that counts. "parse" is the parse alone
 * (the libraries build and free their DOM, decoding every string; yajl runs no-op callbacks;
 * ours is tr_canal_parse, which validates the grammar but decodes no value: that is left to
 * the walk), so its columns do not do the same work.
 *
 *   tr_canal_json_bench [--seconds S] [--only NAME]
 *
 * --only measures ours and the libraries whose name contains NAME (for profiling).
 *
 * Messages (built here as TiCDC's encoder writes them: tiflow
 * pkg/sink/codec/canal/canal_json_row_event_encoder.go newJSONMessageForDML, strings escaped
 * as easyjson's jwriter.String does, binary values as ISO-8859-1 characters):
 *   sysbench  UPDATE of sbtest1 (id INT, k INT, c CHAR(120), pad CHAR(60)), ~700 bytes
 *   wide      UPDATE of a 30-column row: every type of the header's table, a 2 KB TEXT with
 *             escapes, 256 binary bytes 0x00..0xFF, emoji, JSON text, NULLs
 * Each figure is the best of 5 rounds of S/10 seconds (default S = 2) of the thread's CPU
 * time (CLOCK_THREAD_CPUTIME_ID: the machine is shared), implementations alternating round
 * by round; ns per message and MB/s (10^6 bytes of message per CPU second).
 * A checksum of every converted datum and of commitTs is compared across implementations;
 * a mismatch is printed ("differs"): cJSON keeps numbers as doubles, so a commitTs above
 * 2^53 loses its low bits, and cuts strings at U+0000 (the wide row's binary values).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <jansson.h>
#include <yajl/yajl_parse.h>

#include "common/buf.h"
#include "common/err.h"
#include "protocol/canal_json.h"
#include "protocol/tidb_schema.h"

#include "canal_json_bench.h"

/* ---------------------------------------------------------------- messages */

typedef struct {
    char *p;
    size_t len;
    size_t cap;
} sbuf_t;

static void sb_put(sbuf_t *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL) {
            abort();
        }
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf_t *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* A JSON string as easyjson's jwriter.String writes it (HTML characters escaped, U+2028 and
 * U+2029 escaped, other control characters as \u00XX); binary values first become one
 * ISO-8859-1 character per byte (tiflow canal_entry.go formatValue). */
static void sb_jstr(sbuf_t *b, const uint8_t *s, size_t n, bool binary)
{
    static const char hex[] = "0123456789abcdef";
    sb_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (binary && c >= 0x80) {
            uint8_t u[2] = {(uint8_t)(0xC0 | c >> 6), (uint8_t)(0x80 | (c & 0x3F))};
            sb_put(b, u, 2);
            continue;
        }
        if (c == '\t') {
            sb_str(b, "\\t");
        } else if (c == '\r') {
            sb_str(b, "\\r");
        } else if (c == '\n') {
            sb_str(b, "\\n");
        } else if (c == '\\') {
            sb_str(b, "\\\\");
        } else if (c == '"') {
            sb_str(b, "\\\"");
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            sb_put(b, e, 6);
        } else if (c == 0xE2 && i + 2 < n && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)) {
            sb_str(b, s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
            i += 2;
        } else {
            sb_put(b, &c, 1);
        }
    }
    sb_put(b, "\"", 1);
}

typedef struct {
    const char *name;
    const char *mysql_type;
    int sql_type;
    bool binary;
    const char *value;  /* NULL: SQL NULL */
    size_t value_len;   /* 0: strlen(value) */
} bcol_t;

/* newJSONMessageForDML for an UPDATE whose old and new images are both cols. */
static char *build_update(const char *db, const char *table, const char *pk, const bcol_t *cols,
                          size_t n, size_t *len)
{
    sbuf_t b = {0};
    char num[64];
    sb_str(&b, "{\"id\":0,\"database\":");
    sb_jstr(&b, (const uint8_t *)db, strlen(db), false);
    sb_str(&b, ",\"table\":");
    sb_jstr(&b, (const uint8_t *)table, strlen(table), false);
    sb_str(&b, ",\"pkNames\":[");
    sb_jstr(&b, (const uint8_t *)pk, strlen(pk), false);
    sb_str(&b, "],\"isDdl\":false,\"type\":\"UPDATE\",\"es\":1700000000000,\"ts\":1700000000123,"
               "\"sql\":\"\",\"sqlType\":{");
    for (size_t i = 0; i < n; i++) {
        sb_str(&b, i > 0 ? "," : "");
        sb_jstr(&b, (const uint8_t *)cols[i].name, strlen(cols[i].name), false);
        snprintf(num, sizeof(num), ":%d", cols[i].sql_type);
        sb_str(&b, num);
    }
    /* mysqlType comes from a Go map: any order; reversed here. */
    sb_str(&b, "},\"mysqlType\":{");
    for (size_t i = n; i-- > 0;) {
        sb_str(&b, i + 1 < n ? "," : "");
        sb_jstr(&b, (const uint8_t *)cols[i].name, strlen(cols[i].name), false);
        sb_str(&b, ":");
        sb_jstr(&b, (const uint8_t *)cols[i].mysql_type, strlen(cols[i].mysql_type), false);
    }
    for (int img = 0; img < 2; img++) {
        sb_str(&b, img == 0 ? "},\"old\":[{" : "}],\"data\":[{");
        for (size_t i = 0; i < n; i++) {
            sb_str(&b, i > 0 ? "," : "");
            sb_jstr(&b, (const uint8_t *)cols[i].name, strlen(cols[i].name), false);
            sb_str(&b, ":");
            if (cols[i].value == NULL) {
                sb_str(&b, "null");
            } else {
                size_t vn = cols[i].value_len ? cols[i].value_len : strlen(cols[i].value);
                sb_jstr(&b, (const uint8_t *)cols[i].value, vn, cols[i].binary);
            }
        }
    }
    sb_str(&b, "}],\"_tidb\":{\"commitTs\":445566778899001234}}");
    *len = b.len;
    return b.p;
}

#define COLX(id, name, tp, flag, flen, dec, cs, extra)                                             \
    "{\"id\":" #id ",\"name\":{\"O\":\"" name "\"},\"offset\":" #id ",\"state\":5,\"type\":{"     \
    "\"Tp\":" #tp ",\"Flag\":" #flag ",\"Flen\":" #flen ",\"Decimal\":" #dec ",\"Charset\":\"" cs \
    "\",\"Collate\":\"" cs "_bin\"" extra "}}"
#define COL(id, name, tp, flag, flen, cs) COLX(id, name, tp, flag, flen, 0, cs, "")

static const char sysbench_table[] =
    "{\"id\":100,\"name\":{\"O\":\"sbtest1\"},\"pk_is_handle\":true,\"cols\":["
    COL(0, "id", 3, 3, 11, "binary") "," COL(1, "k", 3, 1, 11, "binary") ","
    COL(2, "c", 254, 1, 120, "utf8mb4") "," COL(3, "pad", 254, 1, 60, "utf8mb4") "]}";

static const char wide_table[] =
    "{\"id\":101,\"name\":{\"O\":\"wide\"},\"pk_is_handle\":true,\"cols\":["
    COL(0, "id", 8, 35, 20, "binary") "," COL(1, "i8", 1, 0, 4, "binary") ","
    COL(2, "i16", 2, 0, 6, "binary") "," COL(3, "i24", 9, 0, 9, "binary") ","
    COL(4, "i32", 3, 0, 11, "binary") "," COL(5, "u64", 8, 32, 20, "binary") ","
    COLX(6, "f", 4, 0, 12, -1, "binary", "") "," COLX(7, "d", 5, 0, 22, -1, "binary", "") ","
    COLX(8, "dec", 246, 0, 65, 30, "binary", "") "," COLX(9, "dec2", 246, 0, 10, 2, "binary", "")
    "," COL(10, "dt", 10, 128, 10, "binary") "," COLX(11, "dtm", 12, 128, 26, 6, "binary", "")
    "," COLX(12, "ts", 7, 128, 23, 3, "binary", "") ","
    COLX(13, "tm", 11, 128, 13, 2, "binary", "") "," COL(14, "y", 13, 96, 4, "binary") ","
    COL(15, "vc", 15, 0, 255, "utf8mb4") "," COL(16, "ch", 254, 0, 20, "utf8mb4") ","
    COL(17, "txt", 252, 0, 65535, "utf8mb4") "," COL(18, "mtxt", 250, 0, 16777215, "utf8mb4")
    "," COL(19, "vb", 15, 128, 64, "binary") "," COL(20, "bl", 252, 128, 65535, "binary") ","
    COL(21, "bn", 254, 128, 16, "binary") ","
    COLX(22, "e", 247, 0, 1, 0, "utf8mb4", ",\"Elems\":[\"a\",\"b\",\"c\"]") ","
    COLX(23, "s", 248, 0, 5, 0, "utf8mb4", ",\"Elems\":[\"x\",\"y\",\"z\"]") ","
    COL(24, "b", 16, 32, 17, "binary") "," COL(25, "j", 245, 128, -1, "binary") ","
    COL(26, "vc2", 15, 0, 64, "utf8mb4") "," COL(27, "nul", 3, 0, 11, "binary") ","
    COL(28, "nul2", 15, 0, 32, "utf8mb4") "," COL(29, "l1", 15, 0, 20, "latin1") "]}";

/* ---------------------------------------------------------------- shared per-value work */

static const tr_tidb_column_t *find_col(work_t *w, const char *name, size_t n)
{
    const tr_table_info_t *t = w->t;
    for (size_t k = 0; k < t->n_cols; k++) {
        size_t i = (w->next + k) % t->n_cols;
        const tr_tidb_column_t *c = &t->cols[i];
        if (strncmp(c->name, name, n) == 0 && c->name[n] == '\0') {
            w->next = i + 1;
            return c;
        }
    }
    return NULL;
}

void tr_cjb_mix(work_t *w, uint64_t v)
{
    w->sum = (w->sum ^ v) * 0x100000001b3ull;
}

void tr_cjb_any_mix(void *w, uint64_t v)
{
    tr_cjb_mix(w, v);
}

void tr_cjb_any_value(void *w, const char *name, size_t name_len, const uint8_t *text,
                      size_t len)
{
    tr_cjb_use_value(w, name, name_len, text, len);
}

void tr_cjb_any_head(void *w, uint64_t head)
{
    ((work_t *)w)->head = head ^ TR_CANAL_UPDATE;
}

void tr_cjb_any_image(void *w)
{
    ((work_t *)w)->next = 0;
}

/* One value: text is the decoded string (NULL for SQL NULL). */
void tr_cjb_use_value(work_t *w, const char *name, size_t name_len, const uint8_t *text,
                      size_t len)
{
    const tr_tidb_column_t *c = find_col(w, name, name_len);
    if (c == NULL) {
        w->errors++;
        return;
    }
    if (text == NULL) {
        tr_cjb_mix(w, 0x6e756c6c);
        return;
    }
    const char *why;
    bool is_str = c->tp == TR_TIDB_TP_VARCHAR || c->tp == TR_TIDB_TP_VAR_STRING ||
                  c->tp == TR_TIDB_TP_STRING ||
                  (c->tp >= TR_TIDB_TP_TINY_BLOB && c->tp <= TR_TIDB_TP_BLOB);
    if (is_str && strcmp(c->charset, "binary") == 0) {
        /* binary strings: text -> bytes, in our scratch (the libraries' strings are theirs). */
        uint8_t *out = w->scratch;
        if (len > sizeof(w->scratch)) {
            w->errors++;
            return;
        }
        ssize_t n = tr_canal_latin1_bytes(text, len, out, &why);
        if (n < 0) {
            w->errors++;
            return;
        }
        text = out;
        len = (size_t)n;
    }
    tr_datum_t d;
    if (tr_canal_value(c, text, len, &d, &why) != 0) {
        w->errors++;
        return;
    }
    tr_cjb_mix(w, (uint64_t)d.kind);
    tr_cjb_mix(w, d.u ^ (uint64_t)d.i ^ (uint64_t)(d.f * 1000.0));
    tr_cjb_mix(w, d.bytes.len);
    if (d.bytes.len > 0) {
        tr_cjb_mix(w, d.bytes.p[0] | (uint64_t)d.bytes.p[d.bytes.len - 1] << 8);
    }
}

/* ---------------------------------------------------------------- ours */

static uint8_t str_scratch[1 << 16];
static uint8_t key_scratch[256];

/* As the relay will: every key and value through tr_canal_str_decode (escapes resolved,
 * UTF-8 checked, copied into scratch), so the figures include what the libraries do to
 * every string. */
static bool ours_walk(work_t *w, tr_slice_t obj)
{
    tr_canal_obj_iter_t it = tr_canal_obj_iter(obj);
    tr_canal_str_t key;
    tr_canal_val_t val;
    const char *why;
    int rc;
    w->next = 0;
    while ((rc = tr_canal_obj_next(&it, &key, &val, &why)) > 0) {
        const char *name = (const char *)key.raw.p;
        size_t name_len = key.raw.len;
        if (key.has_escapes) {
            if (key.raw.len > sizeof(key_scratch)) {
                return false;
            }
            ssize_t kn = tr_canal_str_decode(&key, key_scratch, &why);
            if (kn < 0) {
                return false;
            }
            name = (const char *)key_scratch;
            name_len = (size_t)kn;
        }
        if (val.kind == TR_CANAL_VAL_NULL) {
            tr_cjb_use_value(w, name, name_len, NULL, 0);
            continue;
        }
        if (val.kind != TR_CANAL_VAL_STRING || val.str.raw.len > sizeof(str_scratch)) {
            return false;
        }
        ssize_t n = tr_canal_str_decode(&val.str, str_scratch, &why);
        if (n < 0) {
            return false;
        }
        tr_cjb_use_value(w, name, name_len, str_scratch, (size_t)n);
    }
    return rc == 0;
}

static bool ours_full(work_t *w, const char *msg, size_t len)
{
    tr_canal_msg_t m;
    const char *why;
    if (tr_canal_parse((const uint8_t *)msg, len, &m, &why) != 0) {
        return false;
    }
    w->head = m.commit_ts ^ (uint64_t)m.kind;
    return ours_walk(w, m.old) && ours_walk(w, m.data);
}

static bool ours_parse(work_t *w, const char *msg, size_t len)
{
    tr_canal_msg_t m;
    const char *why;
    if (tr_canal_parse((const uint8_t *)msg, len, &m, &why) != 0) {
        return false;
    }
    tr_cjb_mix(w, m.commit_ts + m.data.len);
    return true;
}

/* ---------------------------------------------------------------- jansson */

static bool jansson_walk(work_t *w, json_t *arr)
{
    json_t *obj = json_array_get(arr, 0);
    if (!json_is_object(obj)) {
        return false;
    }
    const char *k;
    json_t *v;
    w->next = 0;
    json_object_foreach(obj, k, v)
    {
        if (json_is_null(v)) {
            tr_cjb_use_value(w, k, strlen(k), NULL, 0);
        } else if (json_is_string(v)) {
            tr_cjb_use_value(w, k, strlen(k), (const uint8_t *)json_string_value(v),
                      json_string_length(v));
        } else {
            return false;
        }
    }
    return true;
}

static bool jansson_full(work_t *w, const char *msg, size_t len)
{
    json_error_t err;
    json_t *root = json_loadb(msg, len, JSON_ALLOW_NUL, &err);
    if (root == NULL) {
        return false;
    }
    bool ok = false;
    json_t *tidb = json_object_get(root, "_tidb");
    json_t *ts = json_object_get(tidb, "commitTs");
    const char *type = json_string_value(json_object_get(root, "type"));
    if (json_is_integer(ts) && type != NULL && strcmp(type, "UPDATE") == 0) {
        w->head = (uint64_t)json_integer_value(ts) ^ TR_CANAL_UPDATE;
        ok = jansson_walk(w, json_object_get(root, "old")) &&
             jansson_walk(w, json_object_get(root, "data"));
    }
    json_decref(root);
    return ok;
}

static bool jansson_parse(work_t *w, const char *msg, size_t len)
{
    json_error_t err;
    json_t *root = json_loadb(msg, len, JSON_ALLOW_NUL, &err);
    if (root == NULL) {
        return false;
    }
    tr_cjb_mix(w, json_object_size(root));
    json_decref(root);
    return true;
}

/* ---------------------------------------------------------------- cJSON */

static bool cjson_walk(work_t *w, const cJSON *arr)
{
    const cJSON *obj = cJSON_GetArrayItem(arr, 0);
    if (!cJSON_IsObject(obj)) {
        return false;
    }
    w->next = 0;
    for (const cJSON *v = obj->child; v != NULL; v = v->next) {
        if (cJSON_IsNull(v)) {
            tr_cjb_use_value(w, v->string, strlen(v->string), NULL, 0);
        } else if (cJSON_IsString(v)) {
            /* cJSON keeps NUL-terminated strings: a U+0000 ends the value early. */
            tr_cjb_use_value(w, v->string, strlen(v->string), (const uint8_t *)v->valuestring,
                      strlen(v->valuestring));
        } else {
            return false;
        }
    }
    return true;
}

static bool cjson_full(work_t *w, const char *msg, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(msg, len);
    if (root == NULL) {
        return false;
    }
    bool ok = false;
    const cJSON *tidb = cJSON_GetObjectItemCaseSensitive(root, "_tidb");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(tidb, "commitTs");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    if (cJSON_IsNumber(ts) && cJSON_IsString(type) && strcmp(type->valuestring, "UPDATE") == 0) {
        /* cJSON numbers are doubles: a commitTs above 2^53 loses its low bits. */
        w->head = (uint64_t)ts->valuedouble ^ TR_CANAL_UPDATE;
        ok = cjson_walk(w, cJSON_GetObjectItemCaseSensitive(root, "old")) &&
             cjson_walk(w, cJSON_GetObjectItemCaseSensitive(root, "data"));
    }
    cJSON_Delete(root);
    return ok;
}

static bool cjson_parse(work_t *w, const char *msg, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(msg, len);
    if (root == NULL) {
        return false;
    }
    tr_cjb_mix(w, (uint64_t)cJSON_GetArraySize(root));
    cJSON_Delete(root);
    return true;
}

/* ---------------------------------------------------------------- yajl (SAX) */

/* State of the callbacks: depth 1 is the message, 3 an object inside old/data. */
typedef struct {
    work_t *w;
    int depth;
    int top;           /* the current top-level key: 0 other, 1 old/data, 2 _tidb, 3 type */
    bool in_commit_ts; /* the current _tidb key is commitTs */
    char key[64];
    size_t key_len;
    bool is_update;
    bool has_ts;
    bool convert;      /* full work, or parse only */
} ys_t;

static int y_null(void *ctx)
{
    ys_t *s = ctx;
    if (s->convert && s->depth == 3 && s->top == 1) {
        tr_cjb_use_value(s->w, s->key, s->key_len, NULL, 0);
    }
    return 1;
}

static int y_bool(void *ctx, int v)
{
    (void)ctx;
    (void)v;
    return 1;
}

static int y_integer(void *ctx, long long v)
{
    ys_t *s = ctx;
    if (s->depth == 2 && s->top == 2 && s->in_commit_ts) {
        s->has_ts = true;
        s->w->head = (uint64_t)v ^ TR_CANAL_UPDATE;
    }
    return 1;
}

static int y_double(void *ctx, double v)
{
    (void)ctx;
    (void)v;
    return 1;
}

static int y_string(void *ctx, const unsigned char *v, size_t n)
{
    ys_t *s = ctx;
    if (s->depth == 1 && s->top == 3) {
        s->is_update = n == 6 && memcmp(v, "UPDATE", 6) == 0;
    } else if (s->convert && s->depth == 3 && s->top == 1) {
        tr_cjb_use_value(s->w, s->key, s->key_len, v, n);
    }
    return 1;
}

static int y_start_map(void *ctx)
{
    ys_t *s = ctx;
    s->depth++;
    if (s->depth == 3) {
        s->w->next = 0;
    }
    return 1;
}

static int y_map_key(void *ctx, const unsigned char *k, size_t n)
{
    ys_t *s = ctx;
    if (s->depth == 1) {
        s->top = (n == 3 && memcmp(k, "old", 3) == 0) || (n == 4 && memcmp(k, "data", 4) == 0)
                     ? 1
                 : n == 5 && memcmp(k, "_tidb", 5) == 0 ? 2
                 : n == 4 && memcmp(k, "type", 4) == 0  ? 3
                                                        : 0;
    } else if (s->depth == 2 && s->top == 2) {
        s->in_commit_ts = n == 8 && memcmp(k, "commitTs", 8) == 0;
    } else if (s->depth == 3 && n < sizeof(s->key)) {
        memcpy(s->key, k, n);
        s->key_len = n;
    }
    return 1;
}

static int y_end_map(void *ctx)
{
    ys_t *s = ctx;
    s->depth--;
    return 1;
}

static int y_start_array(void *ctx)
{
    ys_t *s = ctx;
    s->depth++;
    return 1;
}

static int y_end_array(void *ctx)
{
    ys_t *s = ctx;
    s->depth--;
    return 1;
}

static const yajl_callbacks y_cbs = {
    y_null, y_bool, y_integer, y_double, NULL, y_string, y_start_map, y_map_key, y_end_map,
    y_start_array, y_end_array,
};

static bool yajl_run(work_t *w, const char *msg, size_t len, bool convert)
{
    ys_t s = {.w = w, .convert = convert};
    yajl_handle h = yajl_alloc(&y_cbs, NULL, &s);
    bool ok = yajl_parse(h, (const unsigned char *)msg, len) == yajl_status_ok &&
              yajl_complete_parse(h) == yajl_status_ok;
    yajl_free(h);
    return ok && (!convert || (s.is_update && s.has_ts));
}

static bool yajl_full(work_t *w, const char *msg, size_t len)
{
    return yajl_run(w, msg, len, true);
}

static bool yajl_parse_only(work_t *w, const char *msg, size_t len)
{
    return yajl_run(w, msg, len, false);
}

/* ---------------------------------------------------------------- timing */

typedef bool (*run_fn)(work_t *w, const char *msg, size_t len);

#ifdef TR_CJB_SIMDJSON
static bool sj_dom_parse(work_t *w, const char *msg, size_t len)
{
    return tr_cjb_simdjson_dom_parse(w, msg, len);
}
static bool sj_dom_full(work_t *w, const char *msg, size_t len)
{
    return tr_cjb_simdjson_dom_full(w, msg, len);
}
static bool sj_od_parse(work_t *w, const char *msg, size_t len)
{
    return tr_cjb_simdjson_od_parse(w, msg, len);
}
static bool sj_od_full(work_t *w, const char *msg, size_t len)
{
    return tr_cjb_simdjson_od_full(w, msg, len);
}
#endif

static const struct {
    const char *name;
    run_fn parse;
    run_fn full;
} impls[] = {
    {"tirelay canal_json", ours_parse, ours_full},
    {"jansson 2.14", jansson_parse, jansson_full},
    {"json-c 0.16", tr_cjb_jsonc_parse, tr_cjb_jsonc_full},
    {"yajl 2.1.0", yajl_parse_only, yajl_full},
    {"cJSON 1.7.15", cjson_parse, cjson_full},
#ifdef TR_CJB_SIMDJSON
    {"simdjson 3.0.1 DOM", sj_dom_parse, sj_dom_full},
    {"simdjson 3.0.1 On-Demand", sj_od_parse, sj_od_full},
#endif
};
enum { N_IMPLS = sizeof(impls) / sizeof(impls[0]), ROUNDS = 5 };

/* --only: the implementations measured besides ours (a substring of the name; all if NULL). */
static const char *only_impl;

static bool measured(int i)
{
    return i == 0 || only_impl == NULL || strstr(impls[i].name, only_impl) != NULL;
}

/* This thread's CPU time: the machine is shared, and wall time would charge an
 * implementation for the time another process held the CPU. */
static uint64_t cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) {
        abort();
    }
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Best ns per message over ROUNDS rounds of round_s seconds (of CPU time) each. */
static void measure(const tr_table_info_t *t, const char *msg, size_t len, double round_s,
                    bool full, double best[N_IMPLS], uint64_t sums[N_IMPLS], int errs[N_IMPLS])
{
    static work_t w;
    for (int i = 0; i < N_IMPLS; i++) {
        best[i] = 1e30;
    }
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < N_IMPLS; i++) {
            if (!measured(i)) {
                continue;
            }
            run_fn fn = full ? impls[i].full : impls[i].parse;
            memset(&w, 0, offsetof(work_t, scratch));
            w.t = t;
            /* one checked run for the checksum, then the timed loop */
            errs[i] = fn(&w, msg, len) ? w.errors : -1;
            sums[i] = w.sum ^ w.head;
            size_t n = 0;
            uint64_t t0 = cpu_ns();
            uint64_t t1;
            do {
                for (int k = 0; k < 256; k++) {
                    (void)fn(&w, msg, len);
                }
                n += 256;
                t1 = cpu_ns();
            } while ((double)(t1 - t0) < round_s * 1e9);
            double ns = (double)(t1 - t0) / (double)n;
            if (ns < best[i]) {
                best[i] = ns;
            }
        }
    }
}

int main(int argc, char **argv)
{
    double seconds = 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atof(argv[++i]);
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only_impl = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--seconds S] [--only NAME]\n", argv[0]);
            return 2;
        }
    }
    const char *why = NULL;
    tr_table_info_t *sb = tr_table_info_parse(sysbench_table, sizeof(sysbench_table) - 1, &why);
    tr_table_info_t *wide = tr_table_info_parse(wide_table, sizeof(wide_table) - 1, &why);
    if (sb == NULL || wide == NULL) {
        fprintf(stderr, "table: %s\n", why);
        return 1;
    }

    /* sysbench's c and pad: groups of 11 digits joined by '-' (sysbench oltp_common.lua). */
    const bcol_t sb_cols[] = {
        {"id", "int", 4, false, "4993", 0},
        {"k", "int", 4, false, "5012", 0},
        {"c", "char", 1, false,
         "68487932199-96439406143-93774651418-41631865787-96406072701-20604855487-"
         "25459966574-28203206787-41238978918-19503783441", 0},
        {"pad", "char", 1, false, "22195207048-70116052123-74140395089-76317954521-98694025897",
         0},
    };

    static char text[2100];
    for (size_t i = 0; i < sizeof(text) - 1; i++) {
        static const char words[] = "lorem \"ipsum\" dolor\tsit <amet> & consectetur\n";
        text[i] = words[i % (sizeof(words) - 1)];
    }
    static char bin[256];
    for (int i = 0; i < 256; i++) {
        bin[i] = (char)i;
    }
    const bcol_t wide_cols[] = {
        {"id", "bigint unsigned", -5, false, "18446744073709551615", 0},
        {"i8", "tinyint", -6, false, "-128", 0},
        {"i16", "smallint", 5, false, "32767", 0},
        {"i24", "mediumint", 4, false, "-8388608", 0},
        {"i32", "int", 4, false, "2147483647", 0},
        {"u64", "bigint unsigned", 3, false, "9223372036854775808", 0},
        {"f", "float", 7, false, "3.1415927", 0},
        {"d", "double", 8, false, "2.718281828459045", 0},
        {"dec", "decimal", 3, false,
         "12345678901234567890123456789012345.123456789012345678901234567890", 0},
        {"dec2", "decimal", 3, false, "-99999999.99", 0},
        {"dt", "date", 91, false, "2024-02-29", 0},
        {"dtm", "datetime", 93, false, "2024-02-29 23:59:59.999999", 0},
        {"ts", "timestamp", 93, false, "2038-01-19 03:14:07.499", 0},
        {"tm", "time", 92, false, "-838:59:58.99", 0},
        {"y", "year", 12, false, "2155", 0},
        {"vc", "varchar", 12, false, "say \"hi\"\n\t<b>&amp;</b> \\ caf\xc3\xa9 \xe2\x80\xa8 end", 0},
        {"ch", "char", 1, false, "fixed", 0},
        {"txt", "text", 2005, false, text, 0},
        {"mtxt", "mediumtext", 2005, false, "emoji \xf0\x9f\x98\x80 and \xe4\xb8\xad\xe6\x96\x87",
         0},
        {"vb", "varbinary", 2004, true, "\x00\x01\x02\x7f\x80\xff\"\\", 8},
        {"bl", "blob", 2004, true, bin, 256},
        {"bn", "binary", 2004, true, "0123456789abcdef", 0},
        {"e", "enum", 4, false, "2", 0},
        {"s", "set", -7, false, "5", 0},
        {"b", "bit", -7, false, "131071", 0},
        {"j", "json", 12, false, "{\"a\": [1, 2.5, {\"b\": \"c\\\"d\"}], \"k\": null, \"t\": true}",
         0},
        {"vc2", "varchar", 12, false, "plain ascii value", 0},
        {"nul", "int", 4, false, NULL, 0},
        {"nul2", "varchar", 12, false, NULL, 0},
        {"l1", "varchar", 12, false, "caf\xc3\xa9", 0},
    };

    size_t sb_len;
    size_t wide_len;
    char *sb_msg = build_update("sbtest", "sbtest1", "id", sb_cols, 4, &sb_len);
    char *wide_msg = build_update("test", "wide", "id", wide_cols, 30, &wide_len);
    tr_cjb_jsonc_init();

    printf("tr_canal_json_bench: %.1f s of CPU per measurement, best of %d rounds\n", seconds,
           ROUNDS);
    const struct {
        const char *name;
        const tr_table_info_t *t;
        const char *msg;
        size_t len;
    } cases[] = {
        {"sysbench UPDATE", sb, sb_msg, sb_len},
        {"wide UPDATE (30 cols)", wide, wide_msg, wide_len},
    };
    int bad = 0;
    for (size_t c = 0; c < 2; c++) {
        double parse_ns[N_IMPLS];
        double full_ns[N_IMPLS];
        uint64_t sums[N_IMPLS];
        int errs[N_IMPLS];
        measure(cases[c].t, cases[c].msg, cases[c].len, seconds / 2 / ROUNDS, false, parse_ns,
                sums, errs);
        measure(cases[c].t, cases[c].msg, cases[c].len, seconds / 2 / ROUNDS, true, full_ns, sums,
                errs);
        printf("\n%s, %zu bytes\n", cases[c].name, cases[c].len);
        printf("| implementation | parse ns/msg | parse MB/s | full ns/msg | full MB/s | full / ours "
               "| check |\n|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < N_IMPLS; i++) {
            if (!measured(i)) {
                continue;
            }
            const char *check = errs[i] < 0    ? "FAILED"
                                : errs[i] > 0  ? "conversion errors"
                                : sums[i] != sums[0] ? "differs"
                                                     : "same";
            if (i == 0 && errs[i] != 0) {
                bad = 1;
            }
            printf("| %s | %.0f | %.0f | %.0f | %.0f | %.2f | %s |\n", impls[i].name, parse_ns[i],
                   (double)cases[c].len / parse_ns[i] * 1e3, full_ns[i],
                   (double)cases[c].len / full_ns[i] * 1e3, full_ns[i] / full_ns[0], check);
        }
    }
    tr_cjb_jsonc_free();
    free(sb_msg);
    free(wide_msg);
    tr_table_info_free(sb);
    tr_table_info_free(wide);
    return bad;
}
