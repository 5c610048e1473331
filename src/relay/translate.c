/*
 * Translation of one committed TiDB transaction into binlog events.
 *
 * DML: the PrewriteValue is read in place (tidb_binlog.h iterator and row
 * cursor); each TableMutation's rows come in `sequence` order and every run of
 * one operation kind becomes TABLE_MAP + rows events (split near 8 KiB) whose
 * last one carries STMT_END, because a replica closes its table maps at
 * STMT_END (MySQL rpl_rli, MariaDB requires it before any non-rows event). Row
 * datums are matched to the public columns of the table version the tracker
 * holds, by column id, and written straight into the writer's buffer with
 * rows.h: no allocation per row (scratch arrays come from the arena, once per
 * mutation, sized by the table's columns).
 * DDL: the job's query as a QUERY event after a GTID.
 * Streaming: with ctx->flush set, the output is handed over between events
 * whenever it reaches ctx->flush_bytes, so a transaction of any size needs
 * only about that much output buffer, and nothing else grows with its rows.
 *
 * MySQL flavour: GTID(33), QUERY BEGIN, TABLE_MAP, WRITE/UPDATE/DELETE_ROWS v2, XID.
 * MariaDB flavour (as a MariaDB 10.11 primary writes, shared/vectors/mariadb-10.11):
 * GTID(162, flags2 TRANSACTIONAL|ALLOW_PARALLEL), TABLE_MAP, rows v1, XID;
 * DDL GTID flags2 STANDALONE|ALLOW_PARALLEL|DDL.
 * Pure: no I/O, no logging. Follows shared/spec/tidb-binlog.md 3.4, 4.2-4.4, 4.6
 * (Drainer translator.go semantics) and mysql-replication-source.md 6-7.
 */
#include "relay/translate.h"

#include <ctype.h>
#include <string.h>

#include "common/endian.h"
#include "common/err.h"
#include "protocol/json_binary.h"
#include "protocol/rows.h"
#include "protocol/tidb_datum.h"

#define ROWS_EVENT_SPLIT_BYTES 8192 /* default of tr_txn_ctx_t.row_event_max_bytes */

/* Q_CHARSET triple: utf8mb4_general_ci (45) for client, connection and server, an id both
 * MySQL and MariaDB know. TiDB's DDL text is UTF-8 and may hold 4-byte characters (an ENUM
 * element '\xF0\x9F\x98\x80', a comment): a utf8mb3 client charset (33) made replicas
 * store them as '????' (tests/integration/test_types.py). */
#define CHARSET_CLIENT    45
#define COLLATION_CONN    45
#define COLLATION_SERVER  45
#define COLLATION_TIDB_DEFAULT 46 /* utf8mb4_bin */

/* Per-run scratch: column id → public index, and the datum of each column. */
typedef struct {
    const tr_table_info_t *t;
    int32_t *idx_by_id;   /* [0..max_id] → public index or -1 */
    int64_t max_id;
    tr_datum_t *vals[2];  /* old/new (or the only) image, n_public each */
    bool *present[2];
    tr_flavor_t flavor;   /* of the writer: how JSON values are written */
} row_ctx_t;

static int row_ctx_init(row_ctx_t *rc, const tr_table_info_t *t, tr_arena_t *arena)
{
    rc->t = t;
    rc->max_id = 0;
    for (size_t i = 0; i < t->n_cols; i++) {
        if (t->cols[i].id > rc->max_id) {
            rc->max_id = t->cols[i].id;
        }
    }
    if (rc->max_id > 1 << 20) {
        return TR_ESCHEMA;
    }
    rc->idx_by_id = tr_arena_alloc(arena, (size_t)(rc->max_id + 1) * sizeof(int32_t));
    for (int64_t i = 0; i <= rc->max_id; i++) {
        rc->idx_by_id[i] = -1;
    }
    for (size_t k = 0; k < t->n_public; k++) {
        rc->idx_by_id[t->cols[t->public_idx[k]].id] = (int32_t)k;
    }
    for (int h = 0; h < 2; h++) {
        rc->vals[h] = tr_arena_alloc(arena, (t->n_public + 1) * sizeof(tr_datum_t));
        rc->present[h] = tr_arena_alloc(arena, t->n_public + 1);
    }
    return 0;
}

static int col_index(const row_ctx_t *rc, int64_t id)
{
    if (id < 0 || id > rc->max_id) {
        return -1;
    }
    return rc->idx_by_id[id];
}

/* ---------------------------------------------------------------- values */

/* Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Writes the zero value of a NOT NULL column that has no datum. */
static int put_zero(tr_buf_t *out, const tr_tidb_column_t *c, tr_flavor_t flavor)
{
    static const uint8_t zero_dec[40];
    switch (c->tp) {
    case TR_TIDB_TP_TINY:
    case TR_TIDB_TP_SHORT:
    case TR_TIDB_TP_INT24:
    case TR_TIDB_TP_LONG:
    case TR_TIDB_TP_LONGLONG:
        tr_rows_put_int(out, c->def.type, 0);
        return 0;
    case TR_TIDB_TP_FLOAT:
        tr_rows_put_float(out, 0);
        return 0;
    case TR_TIDB_TP_DOUBLE:
        tr_rows_put_double(out, 0);
        return 0;
    case TR_TIDB_TP_NEWDECIMAL:
        return tr_rows_put_decimal_str(out, "0", 1, c->def.meta >> 8, c->def.meta & 0xFF);
    case TR_TIDB_TP_DATETIME:
        tr_rows_put_datetime2(out, (uint8_t)c->def.meta, 0, 0, 0, 0, 0, 0, 0);
        return 0;
    case TR_TIDB_TP_TIMESTAMP:
        tr_rows_put_timestamp2(out, (uint8_t)c->def.meta, 0, 0);
        return 0;
    case TR_TIDB_TP_DURATION:
        tr_rows_put_time2(out, (uint8_t)c->def.meta, false, 0, 0, 0, 0);
        return 0;
    case TR_TIDB_TP_DATE:
    case TR_TIDB_TP_NEWDATE:
        tr_rows_put_date(out, 0, 0, 0);
        return 0;
    case TR_TIDB_TP_YEAR:
        tr_rows_put_year(out, 0);
        return 0;
    case TR_TIDB_TP_VARCHAR:
    case TR_TIDB_TP_VAR_STRING:
        tr_rows_put_varchar(out, c->max_bytes, zero_dec, 0);
        return 0;
    case TR_TIDB_TP_STRING:
        tr_rows_put_char(out, c->max_bytes, c->pad_char, zero_dec, 0);
        return 0;
    case TR_TIDB_TP_TINY_BLOB:
    case TR_TIDB_TP_BLOB:
    case TR_TIDB_TP_MEDIUM_BLOB:
    case TR_TIDB_TP_LONG_BLOB:
        tr_rows_put_blob(out, c->blob_prefix, zero_dec, 0);
        return 0;
    case TR_TIDB_TP_ENUM:
    case TR_TIDB_TP_SET:
        tr_rows_put_uint_n(out, 0, c->def.meta & 0xFF);
        return 0;
    case TR_TIDB_TP_BIT:
        tr_rows_put_bit(out, (uint32_t)((c->def.meta >> 8) * 8 + (c->def.meta & 0xFF)), 0);
        return 0;
    case TR_TIDB_TP_JSON: {
        /* JSON null: MySQL binary literal 04 00, MariaDB text "null". */
        static const uint8_t mysql_null[2] = {0x04, 0x00};
        if (flavor == TR_FLAVOR_MARIADB) {
            tr_rows_put_blob(out, 4, (const uint8_t *)"null", 4);
        } else {
            tr_rows_put_blob(out, 4, mysql_null, 2);
        }
        return 0;
    }
    default:
        return TR_EUNSUPPORTED;
    }
}

/* JSON that arrived as TiDB's text (TiCDC): MySQL binary JSON typed as TiDB parses
 * text, or the text itself for MariaDB's LONGTEXT JSON (the text TiDB prints, as the
 * Pump path writes); both behind a 4-byte length written last. */
static int put_json_text(tr_buf_t *out, const tr_datum_t *d, tr_flavor_t flavor, const char **why)
{
    size_t len_at = out->len;
    tr_buf_put_u32le(out, 0);
    int r = 0;
    if (flavor == TR_FLAVOR_MARIADB) {
        tr_buf_append(out, d->bytes.p, d->bytes.len);
    } else {
        r = tr_json_text_to_mysql(out, d->bytes.p, d->bytes.len, why);
    }
    if (r == 0 && !tr_buf_ok(out)) {
        *why = "row image larger than the buffer limit";
        r = TR_ETOOBIG;
    }
    if (r != 0) {
        return r;
    }
    size_t n = out->len - len_at - 4;
    if (n > UINT32_MAX) {
        *why = "JSON value longer than 4 GiB";
        return TR_ETOOBIG;
    }
    tr_store_u32le(out->data + len_at, (uint32_t)n);
    return 0;
}

/* JSON: the TiDB binary value (type byte + value) as MySQL binary JSON or, for MariaDB's
 * LONGTEXT JSON, as the text TiDB prints; both behind a 4-byte length written last. */
static int put_json(tr_buf_t *out, const tr_datum_t *d, tr_flavor_t flavor, const char **why)
{
    size_t len_at = out->len;
    tr_buf_put_u32le(out, 0);
    if (!tr_buf_ok(out)) {
        *why = "row image larger than the buffer limit";
        return TR_ETOOBIG;
    }
    int r = flavor == TR_FLAVOR_MARIADB ? tr_json_to_text(out, d->bytes.p, d->bytes.len, why)
                                        : tr_json_to_mysql(out, d->bytes.p, d->bytes.len, why);
    if (r != 0) {
        return r;
    }
    size_t n = out->len - len_at - 4;
    if (n > UINT32_MAX) {
        *why = "JSON value longer than 4 GiB";
        return TR_ETOOBIG;
    }
    tr_store_u32le(out->data + len_at, (uint32_t)n);
    return 0;
}

static bool is_intlike(const tr_datum_t *d)
{
    return d->kind == TR_DATUM_INT || d->kind == TR_DATUM_UINT;
}

static uint64_t datum_u64(const tr_datum_t *d)
{
    return d->kind == TR_DATUM_UINT ? d->u : (uint64_t)d->i;
}

/* A latin1 string or TEXT column: TiDB's bytes (the client's UTF-8) converted to latin1 in
 * place after the length prefix, which is written last; the limit applies to the latin1 bytes. */
static int put_latin1(tr_buf_t *out, const tr_tidb_column_t *c, const tr_datum_t *d,
                      const char **why)
{
    bool is_blob = c->blob_prefix > 0;
    size_t prefix = is_blob ? c->blob_prefix : (c->max_bytes < 256 ? 1 : 2);
    uint64_t max = is_blob ? (prefix >= 4 ? UINT32_MAX : (1ull << (8 * prefix)) - 1) : c->max_bytes;
    size_t at = out->len;
    tr_buf_put_zeros(out, prefix);
    tr_buf_append(out, d->bytes.p, d->bytes.len);
    if (!tr_buf_ok(out)) {
        *why = "row image larger than the buffer limit";
        return TR_ETOOBIG;
    }
    size_t n = tr_rows_latin1_from_utf8(out->data + at + prefix, d->bytes.len);
    while (c->tp == TR_TIDB_TP_STRING && n > 0 && out->data[at + prefix + n - 1] == c->pad_char) {
        n--; /* CHAR: trailing spaces are not written (tr_rows_put_char) */
    }
    out->len = at + prefix + n;
    if (n > max) {
        *why = "latin1 string longer than its column";
        return TR_ESCHEMA;
    }
    for (size_t i = 0; i < prefix; i++) {
        out->data[at + i] = (uint8_t)(n >> (8 * i));
    }
    return 0;
}

/* Writes one non-NULL datum as the MySQL value of column c. */
static int put_value(tr_buf_t *out, const tr_tidb_column_t *c, const tr_datum_t *d,
                     tr_flavor_t flavor, const char **why)
{
    switch (c->tp) {
    case TR_TIDB_TP_TINY:
    case TR_TIDB_TP_SHORT:
    case TR_TIDB_TP_INT24:
    case TR_TIDB_TP_LONG:
    case TR_TIDB_TP_LONGLONG:
        if (!is_intlike(d)) {
            break;
        }
        tr_rows_put_int(out, c->def.type, (int64_t)datum_u64(d));
        return 0;
    case TR_TIDB_TP_YEAR:
        if (!is_intlike(d)) {
            break;
        }
        {
            /* MySQL YEAR: 0 or 1901..2155 (one byte, year - 1900); TiDB stores the same. */
            uint64_t y = datum_u64(d);
            if (y != 0 && (y < 1901 || y > 2155)) {
                *why = "YEAR value out of range 1901..2155";
                return TR_EMALFORMED;
            }
            tr_rows_put_year(out, (int)y);
        }
        return 0;
    case TR_TIDB_TP_FLOAT:
    case TR_TIDB_TP_DOUBLE:
        if (d->kind != TR_DATUM_FLOAT) {
            break;
        }
        if (c->tp == TR_TIDB_TP_FLOAT) {
            tr_rows_put_float(out, (float)d->f);
        } else {
            tr_rows_put_double(out, d->f);
        }
        return 0;
    case TR_TIDB_TP_NEWDECIMAL: {
        int p = c->def.meta >> 8;
        int s = c->def.meta & 0xFF;
        if (d->kind == TR_DATUM_TEXT) {
            if (tr_rows_put_decimal_str(out, (const char *)d->bytes.p, d->bytes.len, p, s) != 0) {
                *why = "decimal value does not fit the column";
                return TR_ESCHEMA;
            }
            return 0;
        }
        if (d->kind != TR_DATUM_DECIMAL) {
            break;
        }
        if (d->precision == p && d->frac == s) {
            tr_rows_put_decimal_bin(out, d->bytes.p, d->bytes.len);
            return 0;
        }
        char text[128];
        int n = tr_datum_decimal_to_str(d->bytes.p, d->bytes.len, d->precision, d->frac, text,
                                        sizeof(text));
        if (n < 0 || tr_rows_put_decimal_str(out, text, (size_t)n, p, s) != 0) {
            *why = "decimal value does not fit the column";
            return TR_ESCHEMA;
        }
        return 0;
    }
    case TR_TIDB_TP_DATETIME:
    case TR_TIDB_TP_TIMESTAMP:
    case TR_TIDB_TP_DATE:
    case TR_TIDB_TP_NEWDATE: {
        if (d->kind != TR_DATUM_UINT) {
            break;
        }
        tr_tidb_time_t t;
        if (tr_tidb_time_unpack(d->u, &t) != 0) {
            *why = "packed time out of range";
            return TR_EMALFORMED;
        }
        if (c->tp == TR_TIDB_TP_DATETIME) {
            tr_rows_put_datetime2(out, (uint8_t)c->def.meta, t.year, t.month, t.day, t.hour,
                                  t.minute, t.second, t.microsecond);
        } else if (c->tp == TR_TIDB_TP_TIMESTAMP) {
            /* TiDB stores TIMESTAMP in UTC; the zero value stays zero. */
            int64_t secs = 0;
            if (d->u != 0) {
                secs = days_from_civil(t.year, t.month, t.day) * 86400 + t.hour * 3600 +
                       t.minute * 60 + t.second;
            }
            if (secs < 0 || secs > UINT32_MAX) {
                *why = "timestamp out of range";
                return TR_EMALFORMED;
            }
            tr_rows_put_timestamp2(out, (uint8_t)c->def.meta, (uint32_t)secs,
                                   d->u != 0 ? t.microsecond : 0);
        } else {
            tr_rows_put_date(out, t.year, t.month, t.day);
        }
        return 0;
    }
    case TR_TIDB_TP_DURATION: {
        if (d->kind != TR_DATUM_INT && d->kind != TR_DATUM_DURATION) {
            break;
        }
        bool neg = d->i < 0;
        uint64_t ns = neg ? (uint64_t)0 - (uint64_t)d->i : (uint64_t)d->i;
        uint64_t us = ns / 1000;
        uint64_t secs = us / 1000000;
        if (secs / 3600 > 838) {
            *why = "time out of range";
            return TR_EMALFORMED;
        }
        tr_rows_put_time2(out, (uint8_t)c->def.meta, neg, (uint32_t)(secs / 3600),
                          (uint32_t)(secs / 60 % 60), (uint32_t)(secs % 60),
                          (uint32_t)(us % 1000000));
        return 0;
    }
    case TR_TIDB_TP_VARCHAR:
    case TR_TIDB_TP_VAR_STRING:
    case TR_TIDB_TP_STRING:
        if (d->kind != TR_DATUM_BYTES || d->flag != TR_DATUM_FLAG_COMPACT_BYTES) {
            break;
        }
        if (c->to_latin1) {
            return put_latin1(out, c, d, why);
        }
        if (d->bytes.len > c->max_bytes) {
            *why = "string longer than its column";
            return TR_ESCHEMA;
        }
        if (c->tp == TR_TIDB_TP_STRING) {
            tr_rows_put_char(out, c->max_bytes, c->pad_char, d->bytes.p, d->bytes.len);
        } else {
            tr_rows_put_varchar(out, c->max_bytes, d->bytes.p, d->bytes.len);
        }
        return 0;
    case TR_TIDB_TP_TINY_BLOB:
    case TR_TIDB_TP_BLOB:
    case TR_TIDB_TP_MEDIUM_BLOB:
    case TR_TIDB_TP_LONG_BLOB: {
        if (d->kind != TR_DATUM_BYTES || d->flag != TR_DATUM_FLAG_COMPACT_BYTES) {
            break;
        }
        if (c->to_latin1) {
            return put_latin1(out, c, d, why);
        }
        uint64_t max = c->blob_prefix >= 4 ? UINT32_MAX : (1ull << (8 * c->blob_prefix)) - 1;
        if (d->bytes.len > max) {
            *why = "blob longer than its column";
            return TR_ESCHEMA;
        }
        tr_rows_put_blob(out, c->blob_prefix, d->bytes.p, d->bytes.len);
        return 0;
    }
    case TR_TIDB_TP_ENUM:
    case TR_TIDB_TP_SET:
        if (!is_intlike(d)) {
            break;
        }
        tr_rows_put_uint_n(out, datum_u64(d), c->def.meta & 0xFF);
        return 0;
    case TR_TIDB_TP_BIT:
        if (!is_intlike(d)) {
            break;
        }
        tr_rows_put_bit(out, (uint32_t)((c->def.meta >> 8) * 8 + (c->def.meta & 0xFF)),
                        datum_u64(d));
        return 0;
    case TR_TIDB_TP_JSON:
        if (d->kind == TR_DATUM_TEXT) {
            return put_json_text(out, d, flavor, why);
        }
        if (d->kind != TR_DATUM_JSON) {
            break;
        }
        return put_json(out, d, flavor, why);
    default:
        *why = c->unsupported_why != NULL ? c->unsupported_why : "unsupported column type";
        return TR_EUNSUPPORTED;
    }
    *why = "datum kind does not match the column type";
    return TR_ESCHEMA;
}

/* Writes one row image of table t from vals/present (one entry per public column): a
 * column without a value is NULL when nullable, else its zero value. */
static int put_image_of(tr_buf_t *out, const tr_table_info_t *t, const tr_datum_t *vals,
                        const bool *present, tr_flavor_t flavor, const char **why)
{
    tr_rows_image_t img;
    tr_rows_image_begin(&img, out, t->n_public);
    for (size_t k = 0; k < t->n_public; k++) {
        const tr_tidb_column_t *c = &t->cols[t->public_idx[k]];
        const tr_datum_t *d = &vals[k];
        if (!present[k] || d->kind == TR_DATUM_NULL) {
            /* TODO(tidb): origin_default for columns added later (issue 2). */
            if (c->def.nullable || present[k]) {
                tr_rows_image_null(&img, k);
                continue;
            }
            int rc2 = put_zero(out, c, flavor);
            if (rc2 != 0) {
                *why = c->unsupported_why != NULL ? c->unsupported_why : "no zero value for column";
                return rc2;
            }
            continue;
        }
        int rc2 = put_value(out, c, d, flavor, why);
        if (rc2 != 0) {
            return rc2;
        }
    }
    return 0;
}

static int put_image(tr_buf_t *out, const row_ctx_t *rc, int h, const char **why)
{
    return put_image_of(out, rc->t, rc->vals[h], rc->present[h], rc->flavor, why);
}

/* ---------------------------------------------------------------- row decoding */

static void clear_image(row_ctx_t *rc, int h)
{
    memset(rc->present[h], 0, rc->t->n_public);
}

/* Stores one (col id, datum) pair into image h; ids not public are skipped. */
static void store(row_ctx_t *rc, int h, int64_t id, const tr_datum_t *d)
{
    int k = col_index(rc, id);
    if (k >= 0) {
        rc->vals[h][k] = *d;
        rc->present[h][k] = true;
    }
}

static int decode_insert(row_ctx_t *rc, tr_slice_t row, const char **why)
{
    const tr_table_info_t *t = rc->t;
    clear_image(rc, 0);
    size_t pos = 0;
    size_t n_prefix = t->is_common_handle ? t->n_pk_cols : 1;
    tr_datum_t prefix[16];
    if (n_prefix > TR_ARRAY_LEN(prefix)) {
        *why = "primary key with too many columns";
        return TR_EUNSUPPORTED;
    }
    for (size_t i = 0; i < n_prefix; i++) {
        ssize_t n = tr_datum_decode(row.p + pos, row.len - pos, &prefix[i], why);
        if (n < 0) {
            return (int)n;
        }
        pos += (size_t)n;
    }
    tr_datum_row_iter_t it = tr_datum_row_iter(row.p + pos, row.len - pos);
    int64_t id;
    tr_datum_t d;
    int r;
    while ((r = tr_datum_row_next(&it, &id, &d, why)) > 0) {
        store(rc, 0, id, &d);
    }
    if (r < 0) {
        return r;
    }
    if (t->pk_is_handle) {
        store(rc, 0, t->handle_col_id, &prefix[0]);
    } else if (t->is_common_handle) {
        for (size_t i = 0; i < n_prefix; i++) {
            int k = col_index(rc, t->pk_col_ids[i]);
            if (k >= 0 && !rc->present[0][k]) {
                store(rc, 0, t->pk_col_ids[i], &prefix[i]);
            }
        }
    }
    return 0;
}

/* Update: first occurrence of a column id → old image, second → new image. */
static int decode_update(row_ctx_t *rc, tr_slice_t row, const char **why)
{
    clear_image(rc, 0);
    clear_image(rc, 1);
    tr_datum_row_iter_t it = tr_datum_row_iter(row.p, row.len);
    int64_t id;
    tr_datum_t d;
    int r;
    while ((r = tr_datum_row_next(&it, &id, &d, why)) > 0) {
        int k = col_index(rc, id);
        if (k < 0) {
            continue;
        }
        int h = rc->present[0][k] ? 1 : 0;
        if (h == 1 && rc->present[1][k]) {
            *why = "update row: column appears more than twice";
            return TR_EMALFORMED;
        }
        rc->vals[h][k] = d;
        rc->present[h][k] = true;
    }
    return r < 0 ? r : 0;
}

static int decode_delete(row_ctx_t *rc, tr_slice_t row, const char **why)
{
    clear_image(rc, 0);
    tr_datum_row_iter_t it = tr_datum_row_iter(row.p, row.len);
    int64_t id;
    tr_datum_t d;
    int r;
    while ((r = tr_datum_row_next(&it, &id, &d, why)) > 0) {
        store(rc, 0, id, &d);
    }
    return r < 0 ? r : 0;
}

/* ---------------------------------------------------------------- events */

static uint8_t rows_type(tr_flavor_t f, int32_t op)
{
    bool v1 = f == TR_FLAVOR_MARIADB;
    switch (op) {
    case TR_TIDB_MUT_INSERT:
        return v1 ? TR_EVT_WRITE_ROWS_V1 : TR_EVT_WRITE_ROWS;
    case TR_TIDB_MUT_UPDATE:
        return v1 ? TR_EVT_UPDATE_ROWS_V1 : TR_EVT_UPDATE_ROWS;
    default:
        return v1 ? TR_EVT_DELETE_ROWS_V1 : TR_EVT_DELETE_ROWS;
    }
}

static void put_gtid(tr_evt_writer_t *w, const tr_txn_ctx_t *ctx, bool is_ddl)
{
    if (w->flavor == TR_FLAVOR_MARIADB) {
        uint8_t flags2 = is_ddl ? (TR_MARIA_FL_STANDALONE | TR_MARIA_FL_ALLOW_PARALLEL |
                                   TR_MARIA_FL_DDL)
                                : (TR_MARIA_FL_TRANSACTIONAL | TR_MARIA_FL_ALLOW_PARALLEL);
        tr_evt_put_maria_gtid(w, ctx->gtid_no, ctx->gtid_domain_id, flags2, 0);
        return;
    }
    tr_gtid_event_t g;
    memset(&g, 0, sizeof(g));
    g.flags = is_ddl ? 1 : 0;
    memcpy(g.uuid, ctx->server_uuid, 16);
    g.gno = ctx->gtid_no;
    g.last_committed = ctx->last_committed;
    g.sequence_number = ctx->sequence_number;
    g.commit_ts_us = ctx->commit_ts_us;
    tr_evt_put_gtid(w, &g);
}

static void put_query(tr_evt_writer_t *w, const char *db, size_t db_len, const char *sql,
                      size_t sql_len, bool is_ddl, uint16_t header_flags,
                      uint16_t collation_server)
{
    tr_query_event_t q;
    memset(&q, 0, sizeof(q));
    q.db = db;
    q.db_len = db_len;
    q.sql = sql;
    q.sql_len = sql_len;
    q.header_flags = header_flags;
    q.charset_client = CHARSET_CLIENT;
    q.collation_conn = COLLATION_CONN;
    q.collation_server = collation_server;
    q.sql_mode = 0;
    q.is_ddl = is_ddl;
    /* A MariaDB replica checks CHECK constraints when an ALTER copies a table; TiDB does
     * not enforce them on the rows it logged (and a JSON column's json_valid() check, which
     * MariaDB adds itself, rejects documents nested deeper than 32 levels while TiDB takes
     * 100): the replica runs the DDL with check_constraint_checks=0 (docs/decisions.md). */
    if (is_ddl && w->flavor == TR_FLAVOR_MARIADB) {
        q.flags2 = TR_QF2_MARIA_NO_CHECK_CONSTRAINT_CHECKS;
    }
    tr_evt_put_query(w, &q);
}

/* Between events: hands the output over once it is large enough (streaming). */
/* The TABLE_MAP of t under the names db.table, from ctx's cache when it has one. */
static void put_table_map(const tr_txn_ctx_t *ctx, tr_evt_writer_t *w, const tr_table_info_t *t,
                          const char *db, const char *table)
{
    if (ctx->tm_cache != NULL) {
        tr_evt_put_table_map_cached(w, ctx->tm_cache, t->binlog_table_id, db, strlen(db), table,
                                    strlen(table), t->public_defs, t->n_public);
    } else {
        tr_evt_put_table_map(w, t->binlog_table_id, db, strlen(db), table, strlen(table),
                             t->public_defs, t->n_public);
    }
}

static int maybe_flush(const tr_txn_ctx_t *ctx, tr_evt_writer_t *w, const char **why)
{
    if (ctx->flush == NULL || w->out->len < ctx->flush_bytes) {
        return 0;
    }
    return ctx->flush(ctx->flush_arg, w); /* its code says why (e.g. -ENOSPC) */
}

/* Writes one row of kind op, decoded from its TiDB bytes, into the open rows event. */
static int put_row(tr_buf_t *out, row_ctx_t *rc, int32_t op, tr_slice_t row, const char **why)
{
    int r;
    if (op == TR_TIDB_MUT_INSERT) {
        r = decode_insert(rc, row, why);
    } else if (op == TR_TIDB_MUT_UPDATE) {
        r = decode_update(rc, row, why);
    } else {
        r = decode_delete(rc, row, why);
    }
    if (r == 0) {
        r = put_image(out, rc, 0, why);
    }
    if (r == 0 && op == TR_TIDB_MUT_UPDATE) {
        r = put_image(out, rc, 1, why);
    }
    return r;
}

/* The rows of one TableMutation, walked in statement order: each run of one
 * kind becomes TABLE_MAP + rows events (a new one once the open one holds
 * split_bytes), the last of the run carrying STMT_END. */
static int put_mutation(tr_evt_writer_t *w, const tr_txn_ctx_t *ctx, row_ctx_t *rc, const char *db,
                        const char *tbl, const tr_tidb_mutation_t *m, size_t split_bytes,
                        const char **why)
{
    const tr_table_info_t *t = rc->t;
    rc->flavor = w->flavor;
    tr_tidb_rows_t cur;
    tr_tidb_rows_init(&cur, m);
    int32_t run_op = -1; /* kind of the open run; -1 before the first row */
    uint8_t type = 0;
    size_t in_event = 0;
    int32_t op;
    tr_slice_t row;
    int r;
    while ((r = tr_tidb_rows_next(&cur, &op, &row, why)) > 0) {
        if (op != run_op) {
            if (run_op >= 0) {
                tr_evt_rows_end(w, TR_ROWS_STMT_END);
                int fr = maybe_flush(ctx, w, why);
                if (fr != 0) {
                    return fr;
                }
            }
            put_table_map(ctx, w, t, db, tbl);
            type = rows_type(w->flavor, op);
            tr_evt_rows_begin(w, type, t->binlog_table_id, t->n_public);
            run_op = op;
            in_event = 0;
        } else if (in_event > 0 && tr_evt_rows_size(w) >= split_bytes) {
            tr_evt_rows_end(w, 0);
            int fr = maybe_flush(ctx, w, why);
            if (fr != 0) {
                return fr;
            }
            tr_evt_rows_begin(w, type, t->binlog_table_id, t->n_public);
            in_event = 0;
        }
        r = put_row(w->out, rc, op, row, why);
        if (r != 0) {
            return r;
        }
        in_event++;
    }
    if (r < 0) {
        return r;
    }
    if (run_op < 0) {
        return 0;
    }
    tr_evt_rows_end(w, TR_ROWS_STMT_END);
    return maybe_flush(ctx, w, why);
}

/* The filter's verdict and names for table t (cached by table id per schema version). */
static const tr_filter_entry_t *table_entry(const tr_txn_ctx_t *ctx, const tr_schema_t *schema,
                                            const tr_table_info_t *t)
{
    return tr_filter_lookup(ctx->filter, tr_schema_applied_version(schema), t->id,
                            tr_schema_db_name(schema, t->schema_id), t->name);
}

static int translate_dml(const tr_tidb_binlog_t *b, tr_schema_t *schema, const tr_txn_ctx_t *ctx,
                         tr_evt_writer_t *w, tr_arena_t *arena, const char **why)
{
    tr_tidb_prewrite_iter_t it;
    int r = tr_tidb_prewrite_iter_init(&it, b->prewrite_value.p, b->prewrite_value.len, why);
    if (r != 0) {
        return r;
    }
    /* Check every mutation and table first so nothing is written for a transaction we cannot
     * translate. What the check found is kept (one entry per table touched, not per row), so
     * the rows are then walked without a second pass over each mutation. */
    tr_tidb_mutation_t *muts = tr_arena_alloc(arena, (it.n_mutations + 1) * sizeof(*muts));
    size_t n_muts = 0;
    while (n_muts < it.n_mutations && (r = tr_tidb_prewrite_next(&it, &muts[n_muts], why)) > 0) {
        const tr_table_info_t *t = tr_schema_table(schema, muts[n_muts].table_id);
        if (t == NULL || tr_schema_db_name(schema, t->schema_id) == NULL) {
            *why = "transaction touches a table the schema does not know";
            return TR_ENOTFOUND;
        }
        if (ctx->filter != NULL && !table_entry(ctx, schema, t)->kept) {
            continue; /* filtered out: its rows are not written (nor checked) */
        }
        for (size_t k = 0; k < t->n_public; k++) {
            const tr_tidb_column_t *c = &t->cols[t->public_idx[k]];
            if (!c->is_supported) {
                *why = c->unsupported_why;
                return TR_EUNSUPPORTED;
            }
        }
        n_muts++;
    }
    if (r < 0) {
        return r;
    }
    if (n_muts == 0 && it.n_mutations > 0 && ctx->filter != NULL) {
        return TR_TRANSLATE_FILTERED;
    }
    put_gtid(w, ctx, false);
    if (w->flavor == TR_FLAVOR_MYSQL) {
        put_query(w, "", 0, "BEGIN", 5, false, 0, COLLATION_SERVER);
    }
    size_t split_bytes = ctx->row_event_max_bytes ? ctx->row_event_max_bytes
                                                  : ROWS_EVENT_SPLIT_BYTES;
    for (size_t i = 0; i < n_muts; i++) {
        const tr_table_info_t *t = tr_schema_table(schema, muts[i].table_id);
        const char *db = tr_schema_db_name(schema, t->schema_id);
        const char *tbl = t->name;
        if (ctx->filter != NULL) {
            const tr_filter_entry_t *e = table_entry(ctx, schema, t);
            db = e->db;
            tbl = e->table;
        }
        row_ctx_t rc;
        if (row_ctx_init(&rc, t, arena) != 0) {
            *why = "column ids out of range";
            return TR_ESCHEMA;
        }
        r = put_mutation(w, ctx, &rc, db, tbl, &muts[i], split_bytes, why);
        if (r != 0) {
            return r;
        }
        if (ctx->rows_out != NULL) {
            *ctx->rows_out += muts[i].n_sequence;
        }
    }
    tr_evt_put_xid(w, ctx->gtid_no);
    return 0;
}

/* CREATE/DROP DATABASE run without a default database (and are marked so). */
static bool is_database_ddl(int type)
{
    return type == TR_TIDB_ACTION_CREATE_SCHEMA || type == TR_TIDB_ACTION_DROP_SCHEMA;
}

/* GTID + QUERY of one DDL job: ctx's statement when set, else sql (the job's query when
 * that is empty). */
static void put_ddl(const tr_ddl_job_t *job, const char *sql, size_t sql_len,
                    const tr_txn_ctx_t *ctx, tr_evt_writer_t *w)
{
    if (ctx->ddl_sql != NULL) {
        sql = ctx->ddl_sql;
        sql_len = ctx->ddl_sql_len;
    } else if (sql_len == 0) {
        sql = job->query;
        sql_len = strlen(job->query);
    }
    const char *db = ctx->ddl_db != NULL ? ctx->ddl_db : job->schema_name;
    uint16_t flags = 0;
    if (is_database_ddl(job->type)) {
        db = "";
        flags = TR_EVF_SUPPRESS_USE;
    }
    /* collation_server: what a database created without a charset gets. TiDB's default is
     * utf8mb4_bin (pkg/parser/charset: the utf8mb4 default collation), not the replica
     * server's; a schema job's DBInfo names the one TiDB chose. */
    uint16_t server = COLLATION_TIDB_DEFAULT;
    if (job->has_db_info && job->db_collate[0] != '\0' &&
        tr_tidb_collation_id(job->db_collate) != 0) {
        server = tr_tidb_collation_id(job->db_collate);
    }
    put_gtid(w, ctx, true);
    put_query(w, db, strlen(db), sql, sql_len, true, flags, server);
}

static int translate_ddl(const tr_tidb_binlog_t *b, tr_schema_t *schema, const tr_txn_ctx_t *ctx,
                         tr_evt_writer_t *w, const char **why)
{
    const tr_ddl_job_t *job = tr_schema_job(schema, b->ddl_job_id);
    if (job == NULL) {
        *why = "DDL job not in the fetched history";
        return TR_ENOTFOUND;
    }
    put_ddl(job, (const char *)b->ddl_query.p, b->ddl_query.len, ctx, w);
    return 0;
}

void tr_translate_ddl(const tr_ddl_job_t *job, const char *sql, size_t sql_len,
                      const tr_txn_ctx_t *ctx, tr_evt_writer_t *w)
{
    put_ddl(job, sql, sql_len, ctx, w);
}

/* One run of rows of one table and kind is open in w (TABLE_MAP written, rows event begun). */
typedef struct {
    const tr_table_info_t *t;
    const char *db;
    const char *table;
    int32_t op;
    uint8_t type;
    size_t in_event;
} run_t;

int tr_translate_rows(const tr_row_iter_t *it, const tr_txn_ctx_t *ctx, tr_evt_writer_t *w,
                      const char **why)
{
    *why = NULL;
    size_t split_bytes = ctx->row_event_max_bytes ? ctx->row_event_max_bytes
                                                  : ROWS_EVENT_SPLIT_BYTES;
    run_t run = {0};
    bool begun = false;
    uint64_t rows = 0;
    tr_row_change_t row;
    int r;
    while ((r = it->next(it->arg, &row, why)) > 0) {
        const tr_table_info_t *t = row.t;
        if (!begun) {
            put_gtid(w, ctx, false);
            if (w->flavor == TR_FLAVOR_MYSQL) {
                put_query(w, "", 0, "BEGIN", 5, false, 0, COLLATION_SERVER);
            }
            begun = true;
        }
        if (run.t != t || run.op != row.op || run.db != row.db || run.table != row.table) {
            if (run.t != NULL) {
                tr_evt_rows_end(w, TR_ROWS_STMT_END);
                int fr = maybe_flush(ctx, w, why);
                if (fr != 0) {
                    return fr;
                }
            }
            put_table_map(ctx, w, t, row.db, row.table);
            run.t = t;
            run.db = row.db;
            run.table = row.table;
            run.op = row.op;
            run.type = rows_type(w->flavor, row.op);
            run.in_event = 0;
            tr_evt_rows_begin(w, run.type, t->binlog_table_id, t->n_public);
        } else if (run.in_event > 0 && tr_evt_rows_size(w) >= split_bytes) {
            tr_evt_rows_end(w, 0);
            int fr = maybe_flush(ctx, w, why);
            if (fr != 0) {
                return fr;
            }
            tr_evt_rows_begin(w, run.type, t->binlog_table_id, t->n_public);
            run.in_event = 0;
        }
        r = put_image_of(w->out, t, row.vals[0], row.present[0], w->flavor, why);
        if (r == 0 && row.op == TR_TIDB_MUT_UPDATE) {
            r = put_image_of(w->out, t, row.vals[1], row.present[1], w->flavor, why);
        }
        if (r != 0) {
            return r;
        }
        run.in_event++;
        rows++;
    }
    if (r < 0) {
        return r;
    }
    if (!begun) {
        return TR_TRANSLATE_FILTERED;
    }
    tr_evt_rows_end(w, TR_ROWS_STMT_END);
    int fr = maybe_flush(ctx, w, why);
    if (fr != 0) {
        return fr;
    }
    tr_evt_put_xid(w, ctx->gtid_no);
    if (ctx->rows_out != NULL) {
        *ctx->rows_out += rows;
    }
    return 0;
}

int tr_translate_txn(const tr_tidb_binlog_t *b, tr_schema_t *schema, const tr_txn_ctx_t *ctx,
                     tr_evt_writer_t *w, tr_arena_t *arena, const char **why)
{
    *why = NULL;
    if (b->ddl_job_id > 0) {
        return translate_ddl(b, schema, ctx, w, why);
    }
    return translate_dml(b, schema, ctx, w, arena, why);
}

bool tr_translate_skips(const tr_tidb_binlog_t *b, const tr_schema_t *schema)
{
    if (b->ddl_job_id <= 0) {
        return false;
    }
    /* Sequence SETVAL pseudo-DDLs (Drainer collector.go skipQueryJob). */
    static const char setval[] = "select setval";
    const tr_slice_t q = b->ddl_query;
    size_t i = 0;
    while (i < q.len && isspace(q.p[i])) {
        i++;
    }
    if (q.len - i >= sizeof(setval) - 1) {
        bool match = true;
        for (size_t k = 0; k < sizeof(setval) - 1 && match; k++) {
            match = tolower(q.p[i + k]) == setval[k];
        }
        if (match) {
            return true;
        }
    }
    /* Jobs that did not finish (rolled back, cancelled) change nothing downstream. */
    const tr_ddl_job_t *job = tr_schema_job(schema, b->ddl_job_id);
    if (job != NULL && (!(job->state == TR_TIDB_JOB_DONE || job->state == TR_TIDB_JOB_SYNCED) ||
                        job->schema_version == 0)) {
        return true;
    }
    return false;
}
