/*
 * TiDB DDL jobs and TableInfo from JSON (jansson) into owned C structs, and
 * the MySQL column each TiDB column becomes in TABLE_MAP: the type code,
 * metadata, signedness and collation a MariaDB 10.11 / MySQL 8.0 replica
 * derives from the same CREATE TABLE (DATETIME → DATETIME2, TEXT → BLOB with
 * a length-prefix size, VARCHAR(n) → n × max bytes per character, ...).
 * Pure codec: no I/O, no logging. Missing optional keys take TiDB's zero
 * values; a wrong JSON type for a key we need is TR_EMALFORMED.
 * Follows shared/spec/tidb-binlog.md 7.4 and 8; MySQL metadata rules from
 * mysql-replication-source.md section 7 (Field::save_field_metadata).
 */
#include "protocol/tidb_schema.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/mem.h"
#include "protocol/base64.h"
#include "protocol/rows.h"

/* ---------------------------------------------------------------- charsets */

uint32_t tr_tidb_charset_maxlen(const char *charset)
{
    static const struct {
        const char *name;
        uint32_t maxlen;
    } tab[] = {
        {"utf8mb4", 4}, {"utf8", 3},   {"utf8mb3", 3}, {"latin1", 1}, {"binary", 1},
        {"ascii", 1},   {"gbk", 2},    {"gb18030", 4},
    };
    for (size_t i = 0; i < TR_ARRAY_LEN(tab); i++) {
        if (charset != NULL && strcmp(charset, tab[i].name) == 0) {
            return tab[i].maxlen;
        }
    }
    return 4;
}

uint16_t tr_tidb_collation_id(const char *collate)
{
    /* Ids as in MySQL's and MariaDB's collation tables (INFORMATION_SCHEMA.COLLATIONS). */
    static const struct {
        const char *name;
        uint16_t id;
    } tab[] = {
        {"utf8mb4_general_ci", 45}, {"utf8mb4_bin", 46},        {"utf8mb4_unicode_ci", 224},
        {"utf8mb4_0900_ai_ci", 255}, {"utf8mb4_0900_bin", 309}, {"utf8_general_ci", 33},
        {"utf8_bin", 83},           {"utf8_unicode_ci", 192},   {"utf8mb3_general_ci", 33},
        {"utf8mb3_bin", 83},        {"utf8mb3_unicode_ci", 192}, {"latin1_swedish_ci", 8},
        {"latin1_bin", 47},         {"binary", 63},             {"ascii_general_ci", 11},
        {"ascii_bin", 65},          {"gbk_chinese_ci", 28},     {"gbk_bin", 87},
        {"gb18030_chinese_ci", 248}, {"gb18030_bin", 249},
    };
    for (size_t i = 0; collate != NULL && i < TR_ARRAY_LEN(tab); i++) {
        if (strcmp(collate, tab[i].name) == 0) {
            return tab[i].id;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- JSON helpers */

/* Integer member or dflt when absent/null; *bad set for another JSON type. */
static int64_t j_int(const json_t *o, const char *key, int64_t dflt, bool *bad)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v)) {
        return dflt;
    }
    if (json_is_integer(v)) {
        return (int64_t)json_integer_value(v);
    }
    if (json_is_real(v)) { /* large uint64 values (FinishedTS) parse as reals in jansson */
        double d = json_real_value(v);
        /* Outside int64 (or NaN) the cast is undefined: a malformed document. */
        if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
            return (int64_t)d;
        }
    }
    *bad = true;
    return dflt;
}

static bool j_bool(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return v != NULL && json_is_true(v);
}

/* String member (or CIStr object's "O") duplicated; "" when absent. */
static char *j_str(const json_t *o, const char *key, bool *bad)
{
    json_t *v = json_object_get(o, key);
    if (v != NULL && json_is_object(v)) {
        v = json_object_get(v, "O");
    }
    if (v == NULL || json_is_null(v)) {
        return tr_strdup("");
    }
    if (!json_is_string(v)) {
        *bad = true;
        return tr_strdup("");
    }
    return tr_strndup(json_string_value(v), json_string_length(v));
}

/* String member duplicated, or NULL when absent or null; a number is written out as text
 * (TiDB writes most defaults as strings, an older release some as numbers). */
static char *j_text_or_null(const json_t *o, const char *key, bool *bad)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v)) {
        return NULL;
    }
    if (json_is_string(v)) {
        return tr_strndup(json_string_value(v), json_string_length(v));
    }
    char num[64];
    if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
        return tr_strdup(num);
    }
    if (json_is_real(v)) {
        snprintf(num, sizeof(num), "%.17g", json_real_value(v));
        return tr_strdup(num);
    }
    if (json_is_boolean(v)) {
        return tr_strdup(json_is_true(v) ? "1" : "0");
    }
    *bad = true;
    return NULL;
}

/* ---------------------------------------------------------------- columns */

/* Fills c->def and friends from the FieldType. */
static void map_column(tr_tidb_column_t *c)
{
    tr_col_def_t *d = &c->def;
    memset(d, 0, sizeof(*d));
    d->name = c->name;
    d->elems = (const char *const *)c->elems;
    d->n_elems = c->n_elems;
    d->nullable = !(c->flag & TR_TIDB_FLAG_NOT_NULL);
    d->is_unsigned = c->is_unsigned;
    c->is_supported = true;
    c->unsupported_why = NULL;
    bool is_binary = strcmp(c->charset, "binary") == 0 || strcmp(c->collate, "binary") == 0;
    uint32_t maxlen = is_binary ? 1 : tr_tidb_charset_maxlen(c->charset);
    uint16_t coll = is_binary ? 63 : tr_tidb_collation_id(c->collate);
    /* TiDB's latin1 is its legacy encoding: bytes are stored as the client sent them, UTF-8
     * for the usual utf8mb4 client (pkg/parser/charset encoding_latin1.go). */
    c->to_latin1 = !is_binary && strcmp(c->charset, "latin1") == 0;
    int fsp = c->decimal < 0 ? 0 : c->decimal;
    if (fsp > 6) {
        fsp = 6;
    }
    switch (c->tp) {
    case TR_TIDB_TP_TINY:
    case TR_TIDB_TP_SHORT:
    case TR_TIDB_TP_INT24:
    case TR_TIDB_TP_LONG:
    case TR_TIDB_TP_LONGLONG:
        d->type = c->tp;
        break;
    case TR_TIDB_TP_FLOAT:
        d->type = TR_MYSQL_TYPE_FLOAT;
        d->meta = 4;
        break;
    case TR_TIDB_TP_DOUBLE:
        d->type = TR_MYSQL_TYPE_DOUBLE;
        d->meta = 8;
        break;
    case TR_TIDB_TP_NEWDECIMAL: {
        int p = c->flen <= 0 ? 10 : c->flen;
        int s = c->decimal < 0 ? 0 : c->decimal;
        if (p > 65 || s > 30 || s > p) {
            c->is_supported = false;
            c->unsupported_why = "decimal precision/scale out of range";
        }
        d->type = TR_MYSQL_TYPE_NEWDECIMAL;
        d->meta = (uint16_t)((p & 0xFF) << 8 | (s & 0xFF));
        break;
    }
    case TR_TIDB_TP_DATETIME:
        d->type = TR_MYSQL_TYPE_DATETIME2;
        d->meta = (uint16_t)fsp;
        break;
    case TR_TIDB_TP_TIMESTAMP:
        d->type = TR_MYSQL_TYPE_TIMESTAMP2;
        d->meta = (uint16_t)fsp;
        break;
    case TR_TIDB_TP_DURATION:
        d->type = TR_MYSQL_TYPE_TIME2;
        d->meta = (uint16_t)fsp;
        break;
    case TR_TIDB_TP_DATE:
    case TR_TIDB_TP_NEWDATE:
        d->type = TR_MYSQL_TYPE_DATE;
        break;
    case TR_TIDB_TP_YEAR:
        d->type = TR_MYSQL_TYPE_YEAR;
        break;
    case TR_TIDB_TP_VARCHAR:
    case TR_TIDB_TP_VAR_STRING: {
        uint32_t n = c->flen < 0 ? 0 : (uint32_t)c->flen;
        c->max_bytes = n * maxlen;
        if (c->max_bytes > 65535) {
            c->is_supported = false;
            c->unsupported_why = "varchar longer than 65535 bytes";
        }
        d->type = TR_MYSQL_TYPE_VARCHAR;
        d->meta = (uint16_t)c->max_bytes;
        d->collation = coll;
        break;
    }
    case TR_TIDB_TP_STRING: {
        uint32_t n = c->flen < 0 ? 1 : (uint32_t)c->flen;
        c->max_bytes = n * maxlen;
        if (n > 255) {
            c->is_supported = false;
            c->unsupported_why = "char longer than 255 characters";
        }
        d->type = TR_MYSQL_TYPE_STRING;
        d->meta = tr_rows_string_meta(TR_MYSQL_TYPE_STRING, c->max_bytes);
        d->collation = coll;
        c->pad_char = is_binary ? 0x00 : ' ';
        break;
    }
    case TR_TIDB_TP_TINY_BLOB:
    case TR_TIDB_TP_BLOB:
    case TR_TIDB_TP_MEDIUM_BLOB:
    case TR_TIDB_TP_LONG_BLOB:
        c->blob_prefix = c->tp == TR_TIDB_TP_TINY_BLOB   ? 1
                         : c->tp == TR_TIDB_TP_BLOB      ? 2
                         : c->tp == TR_TIDB_TP_MEDIUM_BLOB ? 3
                                                          : 4;
        d->type = TR_MYSQL_TYPE_BLOB;
        d->meta = c->blob_prefix;
        d->collation = coll;
        break;
    case TR_TIDB_TP_JSON:
        /* MySQL: JSON (245), 4-byte length + binary JSON. The MariaDB-flavour TABLE_MAP writes
         * it as MariaDB's JSON, a LONGTEXT (BLOB 252, meta 4) in utf8mb4_bin (46): see
         * tr_evt_put_table_map. */
        c->blob_prefix = 4;
        d->type = TR_MYSQL_TYPE_JSON;
        d->meta = 4;
        d->collation = 46;
        break;
    case TR_TIDB_TP_ENUM:
        d->type = TR_MYSQL_TYPE_STRING;
        d->meta = tr_rows_string_meta(TR_MYSQL_TYPE_ENUM, c->n_elems < 256 ? 1 : 2);
        d->collation = coll;
        break;
    case TR_TIDB_TP_SET: {
        size_t bytes = (c->n_elems + 7) / 8;
        if (bytes == 0) {
            bytes = 1;
        } else if (bytes > 4) {
            bytes = 8;
        }
        d->type = TR_MYSQL_TYPE_STRING;
        d->meta = tr_rows_string_meta(TR_MYSQL_TYPE_SET, (uint32_t)bytes);
        d->collation = coll;
        break;
    }
    case TR_TIDB_TP_BIT: {
        int bits = c->flen <= 0 ? 1 : c->flen;
        if (bits > 64) {
            bits = 64;
        }
        d->type = TR_MYSQL_TYPE_BIT;
        d->meta = (uint16_t)((bits / 8) << 8 | (bits % 8));
        break;
    }
    default:
        d->type = c->tp;
        c->is_supported = false;
        c->unsupported_why = "unsupported column type";
        break;
    }
}

static int parse_column(const json_t *jc, tr_tidb_column_t *c, const char **why)
{
    bool bad = false;
    if (!json_is_object(jc)) {
        *why = "column: not an object";
        return TR_EMALFORMED;
    }
    c->id = j_int(jc, "id", 0, &bad);
    c->name = j_str(jc, "name", &bad);
    c->offset = (int)j_int(jc, "offset", 0, &bad);
    c->state = (int)j_int(jc, "state", 0, &bad);
    c->gen_expr = j_str(jc, "generated_expr_string", &bad);
    c->is_generated = c->gen_expr[0] != '\0';
    c->is_stored = j_bool(jc, "generated_stored");
    c->default_value = j_text_or_null(jc, "default", &bad);
    c->default_is_expr = j_bool(jc, "default_is_expr");
    c->comment = j_str(jc, "comment", &bad);
    c->hidden = j_bool(jc, "hidden");
    const json_t *bit = json_object_get(jc, "default_bit");
    if (json_is_string(bit)) {
        /* []byte in Go's JSON: base64 */
        tr_buf_t b;
        tr_buf_init(&b, 0);
        if (tr_base64_decode(json_string_value(bit), json_string_length(bit), &b) != 0) {
            bad = true;
        } else {
            c->default_bit = tr_malloc(b.len + 1);
            if (b.len > 0) { /* "" decodes to nothing, and b.data stays NULL */
                memcpy(c->default_bit, b.data, b.len);
            }
            c->default_bit_len = b.len;
        }
        tr_buf_cleanup(&b);
    } else if (bit != NULL && !json_is_null(bit)) {
        bad = true;
    }
    const json_t *ft = json_object_get(jc, "type");
    if (!json_is_object(ft)) {
        *why = "column: missing FieldType";
        return TR_EMALFORMED;
    }
    c->tp = (uint8_t)j_int(ft, "Tp", 0, &bad);
    c->flag = (uint32_t)j_int(ft, "Flag", 0, &bad);
    c->flen = (int)j_int(ft, "Flen", -1, &bad);
    c->decimal = (int)j_int(ft, "Decimal", -1, &bad);
    c->charset = j_str(ft, "Charset", &bad);
    c->collate = j_str(ft, "Collate", &bad);
    const json_t *el = json_object_get(ft, "Elems");
    if (json_is_array(el) && json_array_size(el) > 0) {
        c->n_elems = json_array_size(el);
        c->elems = tr_calloc(c->n_elems, sizeof(char *));
        for (size_t i = 0; i < c->n_elems; i++) {
            const json_t *e = json_array_get(el, i);
            c->elems[i] = json_is_string(e) ? tr_strndup(json_string_value(e), json_string_length(e))
                                            : tr_strdup("");
        }
    }
    c->is_unsigned = (c->flag & TR_TIDB_FLAG_UNSIGNED) != 0;
    c->is_pk = (c->flag & TR_TIDB_FLAG_PRI_KEY) != 0;
    if (bad) {
        *why = "column: a field has the wrong JSON type";
        return TR_EMALFORMED;
    }
    map_column(c);
    return 0;
}

/* ---------------------------------------------------------------- tables */

void tr_table_info_free(tr_table_info_t *t)
{
    if (t == NULL) {
        return;
    }
    for (size_t i = 0; i < t->n_cols; i++) {
        tr_tidb_column_t *c = &t->cols[i];
        tr_free(c->name);
        tr_free(c->charset);
        tr_free(c->collate);
        for (size_t k = 0; k < c->n_elems; k++) {
            tr_free(c->elems[k]);
        }
        tr_free(c->elems);
        tr_free(c->default_value);
        tr_free(c->default_bit);
        tr_free(c->comment);
        tr_free(c->gen_expr);
    }
    for (size_t i = 0; i < t->n_indexes; i++) {
        tr_free(t->indexes[i].name);
        tr_free(t->indexes[i].comment);
        tr_free(t->indexes[i].cols);
    }
    tr_free(t->indexes);
    for (size_t i = 0; t->part_defs != NULL && i < t->n_parts; i++) {
        tr_free(t->part_defs[i].name);
        tr_free(t->part_defs[i].less_than);
        tr_free(t->part_defs[i].in_values);
        tr_free(t->part_defs[i].comment);
    }
    tr_free(t->part_defs);
    tr_free(t->part_expr);
    tr_free(t->part_columns);
    tr_free(t->charset);
    tr_free(t->collate);
    tr_free(t->comment);
    tr_free(t->view_select);
    tr_free(t->cols);
    tr_free(t->public_idx);
    tr_free(t->public_defs);
    tr_free(t->pk_col_ids);
    tr_free(t->part_ids);
    tr_free(t->name);
    tr_free(t);
}

/* Values of one partition bound list joined with ",". */
static char *join_texts(const json_t *arr, bool *bad)
{
    tr_buf_t b;
    tr_buf_init(&b, 0);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *v = json_array_get(arr, i);
        if (!json_is_string(v)) {
            *bad = true;
            break;
        }
        if (i > 0) {
            tr_buf_put_u8(&b, ',');
        }
        tr_buf_append(&b, json_string_value(v), json_string_length(v));
    }
    char *out = tr_strndup(b.len > 0 ? (const char *)b.data : "", b.len);
    tr_buf_cleanup(&b);
    return out;
}

/* PartitionInfo: type, expr or columns, and per definition its physical id, name and
 * bound (less_than for RANGE, in_values for LIST: one list of values per row of the
 * VALUES IN clause, parenthesised when a row has several). */
static void parse_partition(const json_t *part, tr_table_info_t *t, bool *bad)
{
    t->part_type = (int)j_int(part, "type", 0, bad);
    t->part_expr = j_str(part, "expr", bad);
    const json_t *pc = json_object_get(part, "columns");
    tr_buf_t b;
    tr_buf_init(&b, 0);
    for (size_t i = 0; json_is_array(pc) && i < json_array_size(pc); i++) {
        const json_t *o = json_object_get(json_array_get(pc, i), "O");
        if (!json_is_string(o)) {
            *bad = true;
            break;
        }
        tr_buf_printf(&b, "%s`%s`", i > 0 ? "," : "", json_string_value(o));
    }
    t->part_columns = tr_strndup(b.len > 0 ? (const char *)b.data : "", b.len);
    tr_buf_cleanup(&b);
    const json_t *defs = json_object_get(part, "definitions");
    size_t n = json_is_array(defs) ? json_array_size(defs) : 0;
    t->part_ids = tr_calloc(n + 1, sizeof(int64_t));
    t->part_defs = tr_calloc(n + 1, sizeof(*t->part_defs));
    for (size_t i = 0; i < n; i++) {
        const json_t *d = json_array_get(defs, i);
        if (!json_is_object(d)) {
            *bad = true;
            break;
        }
        tr_tidb_partition_def_t *pd = &t->part_defs[t->n_parts];
        t->part_ids[t->n_parts++] = j_int(d, "id", 0, bad);
        pd->name = j_str(d, "name", bad);
        pd->comment = j_str(d, "comment", bad);
        const json_t *lt = json_object_get(d, "less_than");
        if (json_is_array(lt)) {
            pd->less_than = join_texts(lt, bad);
        }
        const json_t *iv = json_object_get(d, "in_values");
        if (json_is_array(iv)) {
            tr_buf_init(&b, 0);
            for (size_t k = 0; k < json_array_size(iv); k++) {
                const json_t *row = json_array_get(iv, k);
                if (!json_is_array(row)) {
                    *bad = true;
                    break;
                }
                char *vals = join_texts(row, bad);
                bool paren = json_array_size(row) > 1;
                tr_buf_printf(&b, "%s%s%s%s", k > 0 ? "," : "", paren ? "(" : "", vals,
                              paren ? ")" : "");
                tr_free(vals);
            }
            pd->in_values = tr_strndup(b.len > 0 ? (const char *)b.data : "", b.len);
            tr_buf_cleanup(&b);
        }
    }
}

/* The public indexes of index_info (IndexInfo: idx_name, idx_cols, state, is_unique, ...). */
static void parse_indexes(const json_t *idx, tr_table_info_t *t, bool *bad)
{
    size_t n = json_is_array(idx) ? json_array_size(idx) : 0;
    t->indexes = tr_calloc(n + 1, sizeof(*t->indexes));
    for (size_t i = 0; i < n; i++) {
        const json_t *ix = json_array_get(idx, i);
        if (!json_is_object(ix)) {
            *bad = true;
            return;
        }
        if (j_int(ix, "state", TR_TIDB_STATE_PUBLIC, bad) != TR_TIDB_STATE_PUBLIC) {
            continue; /* an index being added or dropped */
        }
        tr_tidb_index_t *x = &t->indexes[t->n_indexes++];
        x->name = j_str(ix, "idx_name", bad);
        x->comment = j_str(ix, "comment", bad);
        x->is_primary = j_bool(ix, "is_primary");
        x->is_unique = j_bool(ix, "is_unique") || x->is_primary;
        x->is_invisible = j_bool(ix, "is_invisible");
        x->type = (int)j_int(ix, "index_type", 1, bad);
        const json_t *ic = json_object_get(ix, "idx_cols");
        size_t nc = json_is_array(ic) ? json_array_size(ic) : 0;
        x->cols = tr_calloc(nc + 1, sizeof(*x->cols));
        for (size_t k = 0; k < nc; k++) {
            const json_t *e = json_array_get(ic, k);
            if (!json_is_object(e)) {
                *bad = true;
                return;
            }
            x->cols[x->n_cols].offset = (int)j_int(e, "offset", -1, bad);
            x->cols[x->n_cols].length = (int)j_int(e, "length", -1, bad);
            x->n_cols++;
        }
    }
}

static tr_table_info_t *parse_table(const json_t *jt, const char **why)
{
    if (!json_is_object(jt)) {
        *why = "table info: not an object";
        return NULL;
    }
    bool bad = false;
    tr_table_info_t *t = tr_calloc(1, sizeof(*t));
    t->id = j_int(jt, "id", 0, &bad);
    t->name = j_str(jt, "name", &bad);
    t->pk_is_handle = j_bool(jt, "pk_is_handle");
    t->is_common_handle = j_bool(jt, "is_common_handle");
    t->max_col_id = j_int(jt, "max_col_id", 0, &bad);
    const json_t *v = json_object_get(jt, "view");
    t->is_view = v != NULL && !json_is_null(v);
    v = json_object_get(jt, "sequence");
    t->is_sequence = v != NULL && !json_is_null(v);
    t->handle_col_id = TR_TIDB_EXTRA_HANDLE_ID;
    t->charset = j_str(jt, "charset", &bad);
    t->collate = j_str(jt, "collate", &bad);
    t->comment = j_str(jt, "comment", &bad);
    if (t->is_view) {
        const json_t *vs = json_object_get(json_object_get(jt, "view"), "view_select");
        t->view_select = json_is_string(vs) ? tr_strndup(json_string_value(vs), json_string_length(vs))
                                            : tr_strdup("");
    }
    /* partition.definitions[].id: the physical ids of a partitioned table's partitions */
    const json_t *part = json_object_get(jt, "partition");
    if (json_is_object(part)) {
        parse_partition(part, t, &bad);
    } else if (part != NULL && !json_is_null(part)) {
        bad = true;
    }
    if (bad) {
        *why = "table info: a field has the wrong JSON type";
        goto fail;
    }
    const json_t *cols = json_object_get(jt, "cols");
    if (cols != NULL && !json_is_null(cols) && !json_is_array(cols)) {
        *why = "table info: cols is not an array";
        goto fail;
    }
    t->n_cols = json_is_array(cols) ? json_array_size(cols) : 0;
    t->cols = tr_calloc(t->n_cols + 1, sizeof(tr_tidb_column_t));
    t->public_idx = tr_calloc(t->n_cols + 1, sizeof(size_t));
    t->public_defs = tr_calloc(t->n_cols + 1, sizeof(tr_col_def_t));
    for (size_t i = 0; i < t->n_cols; i++) {
        if (parse_column(json_array_get(cols, i), &t->cols[i], why) < 0) {
            t->n_cols = i + 1; /* free what was parsed */
            goto fail;
        }
        tr_tidb_column_t *c = &t->cols[i];
        if (c->state == TR_TIDB_STATE_PUBLIC) {
            /* insertion sort by offset (tables have few columns) */
            size_t k = t->n_public++;
            while (k > 0 && t->cols[t->public_idx[k - 1]].offset > c->offset) {
                t->public_idx[k] = t->public_idx[k - 1];
                k--;
            }
            t->public_idx[k] = i;
        }
        if (t->pk_is_handle && c->is_pk) {
            t->handle_col_id = c->id;
            t->handle_col = i;
        }
    }
    for (size_t k = 0; k < t->n_public; k++) {
        t->public_defs[k] = t->cols[t->public_idx[k]].def;
    }
    if (t->pk_is_handle && t->handle_col_id == TR_TIDB_EXTRA_HANDLE_ID) {
        *why = "table info: pk_is_handle without a primary key column";
        goto fail;
    }
    const json_t *idx = json_object_get(jt, "index_info");
    parse_indexes(idx, t, &bad);
    if (bad) {
        *why = "table info: an index has the wrong JSON type";
        goto fail;
    }
    /* PRIMARY index columns (common handle). */
    for (size_t i = 0; json_is_array(idx) && i < json_array_size(idx); i++) {
        const json_t *ix = json_array_get(idx, i);
        if (!json_is_object(ix) || !j_bool(ix, "is_primary")) {
            continue;
        }
        const json_t *ic = json_object_get(ix, "idx_cols");
        size_t n = json_is_array(ic) ? json_array_size(ic) : 0;
        tr_free(t->pk_col_ids);
        t->pk_col_ids = tr_calloc(n + 1, sizeof(int64_t));
        t->n_pk_cols = 0;
        for (size_t k = 0; k < n; k++) {
            const json_t *e = json_array_get(ic, k);
            int64_t off = json_is_object(e) ? j_int(e, "offset", -1, &bad) : -1;
            for (size_t m = 0; m < t->n_cols; m++) {
                if (t->cols[m].offset == off) {
                    t->pk_col_ids[t->n_pk_cols++] = t->cols[m].id;
                    break;
                }
            }
        }
    }
    for (size_t k = 0; k < t->n_public; k++) {
        /* SIMPLE_PRIMARY_KEY: the common handle's index order, else the PK flag in
         * column order (the int handle, or a non-clustered primary key). */
        const tr_tidb_column_t *c = &t->cols[t->public_idx[k]];
        uint16_t pos = 0;
        for (size_t j = 0; j < t->n_pk_cols; j++) {
            if (t->pk_col_ids[j] == c->id) {
                pos = (uint16_t)(j + 1);
            }
        }
        if (pos == 0 && t->n_pk_cols == 0 && c->is_pk) {
            uint16_t before = 0;
            for (size_t j = 0; j < k; j++) {
                before += t->cols[t->public_idx[j]].is_pk ? 1 : 0;
            }
            pos = (uint16_t)(before + 1);
        }
        t->public_defs[k].pk_pos = pos;
    }
    return t;
fail:
    tr_table_info_free(t);
    return NULL;
}

tr_table_info_t *tr_table_info_parse(const char *json, size_t len, const char **why)
{
    json_error_t err;
    json_t *root = json_loadb(json, len, 0, &err);
    if (root == NULL) {
        *why = "table info: invalid JSON";
        return NULL;
    }
    tr_table_info_t *t = parse_table(root, why);
    json_decref(root);
    return t;
}

const tr_tidb_column_t *tr_table_info_col(const tr_table_info_t *t, int64_t col_id)
{
    for (size_t i = 0; i < t->n_cols; i++) {
        if (t->cols[i].id == col_id) {
            return &t->cols[i];
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- jobs */

void tr_ddl_job_cleanup(tr_ddl_job_t *job)
{
    tr_free(job->schema_name);
    tr_free(job->table_name);
    tr_free(job->query);
    tr_free(job->db_name);
    tr_free(job->db_charset);
    tr_free(job->db_collate);
    tr_table_info_free(job->table_info);
    for (size_t i = 0; i < job->n_multi; i++) {
        tr_table_info_free(job->multi_infos[i]);
    }
    tr_free(job->multi_infos);
    tr_free(job->new_schema_ids);
    memset(job, 0, sizeof(*job));
}

int tr_ddl_job_parse(const char *json, size_t len, tr_ddl_job_t *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    json_error_t err;
    json_t *root = json_loadb(json, len, 0, &err);
    if (root == NULL) {
        *why = "ddl job: invalid JSON";
        return TR_EMALFORMED;
    }
    int rc = TR_EMALFORMED;
    bool bad = false;
    if (!json_is_object(root)) {
        *why = "ddl job: not an object";
        goto done;
    }
    out->id = j_int(root, "id", 0, &bad);
    out->type = (int)j_int(root, "type", 0, &bad);
    out->schema_id = j_int(root, "schema_id", 0, &bad);
    out->table_id = j_int(root, "table_id", 0, &bad);
    out->schema_name = j_str(root, "schema_name", &bad);
    out->table_name = j_str(root, "table_name", &bad);
    out->state = (int)j_int(root, "state", 0, &bad);
    out->query = j_str(root, "query", &bad);
    const json_t *bl = json_object_get(root, "binlog");
    if (json_is_object(bl)) {
        out->schema_version = j_int(bl, "SchemaVersion", 0, &bad);
        out->finished_ts = (uint64_t)j_int(bl, "FinishedTS", 0, &bad);
        const json_t *db = json_object_get(bl, "DBInfo");
        if (json_is_object(db)) {
            out->has_db_info = true;
            out->db_id = j_int(db, "id", 0, &bad);
            out->db_name = j_str(db, "db_name", &bad);
            out->db_charset = j_str(db, "charset", &bad);
            out->db_collate = j_str(db, "collate", &bad);
        }
        const json_t *ti = json_object_get(bl, "TableInfo");
        if (json_is_object(ti)) {
            out->table_info = parse_table(ti, why);
            if (out->table_info == NULL) {
                goto done;
            }
        }
        const json_t *mi = json_object_get(bl, "MultipleTableInfos");
        if (json_is_array(mi)) {
            size_t n = json_array_size(mi);
            out->multi_infos = tr_calloc(n + 1, sizeof(*out->multi_infos));
            for (size_t i = 0; i < n; i++) {
                out->multi_infos[i] = parse_table(json_array_get(mi, i), why);
                if (out->multi_infos[i] == NULL) {
                    goto done;
                }
                out->n_multi++;
            }
        } else if (mi != NULL && !json_is_null(mi)) {
            bad = true;
        }
    } else if (bl != NULL && !json_is_null(bl)) {
        bad = true;
    }
    /* RENAME TABLES, job version 1: raw_args = [oldSchemaIDs, newSchemaIDs, newTableNames,
     * oldTableIDs, oldSchemaNames, oldTableNames] (pingcap/tidb pkg/ddl ddl_api.go
     * renameTables; pkg/ddl tests testRenameTables). Only newSchemaIDs is used. */
    const json_t *ra = json_object_get(root, "raw_args");
    if (out->type == TR_TIDB_ACTION_RENAME_TABLES && json_is_array(ra)) {
        const json_t *ids = json_array_get(ra, 1);
        size_t n = json_is_array(ids) ? json_array_size(ids) : 0;
        out->new_schema_ids = tr_calloc(n + 1, sizeof(int64_t));
        for (size_t i = 0; i < n; i++) {
            const json_t *e = json_array_get(ids, i);
            if (!json_is_integer(e)) {
                bad = true;
                break;
            }
            out->new_schema_ids[out->n_new_schema_ids++] = (int64_t)json_integer_value(e);
        }
    }
    if (out->db_name == NULL) {
        out->db_name = tr_strdup("");
    }
    if (out->db_collate == NULL) {
        out->db_collate = tr_strdup("");
    }
    if (out->db_charset == NULL) {
        out->db_charset = tr_strdup("");
    }
    if (bad) {
        *why = "ddl job: a field has the wrong JSON type";
        goto done;
    }
    rc = 0;
done:
    json_decref(root);
    return rc;
}
