/*
 * canal-json message -> collector record (cdc_record.h). Per message: one parse, which also
 * reads the members of "data" (and "old") and "mysqlType", the values written into the
 * record, and the column layout found by a fingerprint of the names and types. Scratch space
 * grows to the largest message and is reused: nothing is allocated per message but the
 * record itself.
 */
#include "relay/cdc_record.h"

#include <string.h>

#include "common/err.h"
#include "common/hash.h"
#include "common/mem.h"
#include "protocol/canal_json.h"
#include "protocol/tidb_binlog.h"

typedef struct {
    uint64_t hash;
    tr_slice_t name;
    tr_slice_t type;
} type_slot_t;

/* Layouts by message fingerprint (see layout_of): a hit skips building the name -> type map
 * and interning, which cost a third of the reader's time on sysbench rows. */
#define LAYOUT_CACHE 1024

typedef struct {
    uint64_t k1, k2; /* fingerprints of (table, column names in order, mysqlType members) */
    uint32_t layout; /* 0: empty */
} layout_slot_t;

struct tr_cdc_reader {
    tr_cdc_names_t *names;
    tr_cdc_log_t *log;
    uint8_t *text; /* decoded names and types of one message */
    size_t text_cap;
    size_t text_used;
    tr_slice_t *cols;  /* the data object's column names, in order */
    tr_slice_t *types; /* their types */
    size_t cols_cap;
    tr_canal_member_t *members; /* the members parse kept (images, mysqlType) of one message */
    size_t members_cap;
    type_slot_t *slots; /* mysqlType by name, open addressing */
    size_t slots_cap;
    layout_slot_t cache[LAYOUT_CACHE];
};

tr_cdc_reader_t *tr_cdc_reader_new(tr_cdc_names_t *names, tr_cdc_log_t *log)
{
    tr_cdc_reader_t *rd = tr_calloc(1, sizeof(*rd));
    rd->names = names;
    rd->log = log;
    rd->members_cap = 16; /* grows to the widest row */
    rd->members = tr_malloc(rd->members_cap * sizeof(*rd->members));
    return rd;
}

void tr_cdc_reader_free(tr_cdc_reader_t *rd)
{
    if (rd != NULL) {
        tr_free(rd->text);
        tr_free(rd->cols);
        tr_free(rd->types);
        tr_free(rd->slots);
        tr_free(rd->members);
        tr_free(rd);
    }
}

/* The decoded text of s, kept in the reader's text space for this message. */
static int text_of(tr_cdc_reader_t *rd, const tr_canal_str_t *s, tr_slice_t *out, const char **why)
{
    if (!s->has_escapes) {
        *out = s->raw;
        return 0;
    }
    uint8_t *dst = rd->text + rd->text_used; /* text_cap >= message length */
    ssize_t n = tr_canal_str_decode(s, dst, why);
    if (n < 0) {
        return (int)n;
    }
    *out = tr_slice(dst, (size_t)n);
    rd->text_used += (size_t)n;
    return 0;
}

static void ensure_cols(tr_cdc_reader_t *rd, size_t n)
{
    if (n > rd->cols_cap) {
        size_t cap = rd->cols_cap ? rd->cols_cap : 32;
        while (cap < n) {
            cap *= 2;
        }
        rd->cols = tr_realloc(rd->cols, cap * sizeof(*rd->cols));
        rd->types = tr_realloc(rd->types, cap * sizeof(*rd->types));
        rd->cols_cap = cap;
    }
}

/* Fills the name -> type hash from the n members of "mysqlType" (a Go map: any order). */
static int load_types(tr_cdc_reader_t *rd, const tr_canal_member_t *mem, size_t n, size_t *n_types,
                      const char **why)
{
    size_t cap = 16;
    while (cap < 2 * n) {
        cap *= 2;
    }
    if (cap > rd->slots_cap) {
        tr_free(rd->slots);
        rd->slots = tr_malloc(cap * sizeof(*rd->slots));
        rd->slots_cap = cap;
    }
    memset(rd->slots, 0, cap * sizeof(*rd->slots));
    for (size_t k = 0; k < n; k++) {
        tr_slice_t name = {NULL, 0};
        tr_slice_t type = {NULL, 0};
        int rc = text_of(rd, &mem[k].key, &name, why);
        if (rc == 0 && mem[k].val.kind == TR_CANAL_VAL_STRING) {
            rc = text_of(rd, &mem[k].val.str, &type, why);
        }
        if (rc != 0) {
            return rc;
        }
        uint64_t h = tr_hash_bytes(name.p, name.len, 0x6d7974ull) | 1;
        size_t i = (size_t)h & (cap - 1);
        while (rd->slots[i].hash != 0) {
            i = (i + 1) & (cap - 1);
        }
        rd->slots[i] = (type_slot_t){h, name, type};
    }
    *n_types = cap;
    return 0;
}

static tr_slice_t type_for(const tr_cdc_reader_t *rd, size_t cap, tr_slice_t name)
{
    uint64_t h = tr_hash_bytes(name.p, name.len, 0x6d7974ull) | 1;
    for (size_t i = (size_t)h & (cap - 1); rd->slots[i].hash != 0; i = (i + 1) & (cap - 1)) {
        const type_slot_t *s = &rd->slots[i];
        if (s->hash == h && s->name.len == name.len && memcmp(s->name.p, name.p, name.len) == 0) {
            return s->type;
        }
    }
    return (tr_slice_t){(const uint8_t *)"", 0};
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Writes one image's values (the n members parse read) at out; with collect, gathers the
 * column names into rd->cols, else checks that the image has exactly those columns. */
static int put_image(tr_cdc_reader_t *rd, const tr_canal_member_t *mem, size_t n_mem, bool collect,
                     size_t *n_cols, uint8_t **out, uint64_t *names_fp, const char **why)
{
    int rc;
    size_t n = 0;
    uint8_t *p = *out;
    for (; n < n_mem; n++) {
        const tr_canal_str_t key = mem[n].key;
        const tr_canal_val_t val = mem[n].val;
        if (collect) {
            ensure_cols(rd, n + 1);
            if ((rc = text_of(rd, &key, &rd->cols[n], why)) != 0) {
                return rc;
            }
            *names_fp = tr_hash_bytes(key.raw.p, key.raw.len, *names_fp);
        } else if (n >= *n_cols ||
                   !tr_canal_str_eq(&key, (const char *)rd->cols[n].p, rd->cols[n].len)) {
            *why = "the \"old\" image has other columns than \"data\" (the changefeed must "
                   "not set only-output-updated-columns)";
            return TR_EUNSUPPORTED;
        }
        if (val.kind == TR_CANAL_VAL_NULL) {
            put_u32(p, TR_CDC_NULL_LEN);
            p += 4;
        } else if (val.kind == TR_CANAL_VAL_STRING) {
            ssize_t m = tr_canal_str_decode(&val.str, p + 4, why);
            if (m < 0) {
                return (int)m;
            }
            put_u32(p, (uint32_t)m);
            p += 4 + m;
        } else {
            *why = "a column value that is not a JSON string or null";
            return TR_EMALFORMED;
        }
    }
    if (!collect && n != *n_cols) {
        *why = "the \"old\" image has other columns than \"data\" (the changefeed must "
               "not set only-output-updated-columns)";
        return TR_EUNSUPPORTED;
    }
    *n_cols = n;
    *out = p;
    return 0;
}

/* An order-independent fingerprint of the "mysqlType" members (Go writes them in map order,
 * which changes from message to message: shared/spec/ticdc.md section 4): the sum of each
 * member's hash. A member whose type is a string is hashed as one span of the message, from
 * its name to the end of its type (the JSON text between says where one ends). */
static uint64_t types_fingerprint(const tr_canal_member_t *mem, size_t n)
{
    uint64_t sum = 0x74797065ull;
    for (size_t k = 0; k < n; k++) {
        const tr_canal_str_t *key = &mem[k].key;
        const tr_canal_val_t *val = &mem[k].val;
        if (val->kind == TR_CANAL_VAL_STRING) {
            const uint8_t *e = val->str.raw.p + val->str.raw.len;
            sum += tr_hash_bytes(key->raw.p, (size_t)(e - key->raw.p), 0x6d656dull);
        } else {
            uint64_t h = tr_hash_bytes(key->raw.p, key->raw.len, 0x6b6579ull);
            sum += tr_hash_bytes(val->str.raw.p, val->str.raw.len, h ^ (uint64_t)val->kind);
        }
    }
    return sum;
}

/*
 * The layout id of the row just read into rd->cols (n columns) for table table_id, cached
 * by a fingerprint of the table, the column names in order and the mysqlType members (a
 * hit costs hashing the members parse read; a miss builds the name -> type map and interns).
 */
static int layout_of(tr_cdc_reader_t *rd, const tr_canal_msg_t *m, uint32_t table_id, size_t n,
                     uint64_t names_fp, uint32_t *out, const char **why)
{
    uint64_t types_fp = types_fingerprint(m->type_members, m->n_type_members);
    uint64_t k1 = tr_hash_mix(names_fp ^ ((uint64_t)table_id << 32 | n), types_fp | 1);
    uint64_t k2 = tr_hash_mix(types_fp ^ 0x9E3779B97F4A7C15ull, names_fp + table_id + n);
    layout_slot_t *slot = &rd->cache[k1 & (LAYOUT_CACHE - 1)];
    if (slot->layout != 0 && slot->k1 == k1 && slot->k2 == k2) {
        *out = slot->layout;
        return 0;
    }
    size_t cap = 0;
    int rc = load_types(rd, m->type_members, m->n_type_members, &cap, why);
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        rd->types[i] = type_for(rd, cap, rd->cols[i]);
    }
    *out = tr_cdc_names_layout(rd->names, rd->cols, rd->types, n);
    *slot = (layout_slot_t){k1, k2, *out};
    return 0;
}

static uint64_t content_hash(const tr_cdc_rec_t *r)
{
    uint64_t seed = tr_hash_mix((uint64_t)r->commit_ts ^ 0x636463ull,
                                ((uint64_t)r->table << 32) ^ ((uint64_t)r->layout << 8) ^
                                    ((uint64_t)r->kind << 4) ^ r->op);
    return tr_hash_bytes(r->data, r->len, seed);
}

static tr_cdc_rec_t *new_rec(tr_cdc_reader_t *rd, size_t data_cap, int *err)
{
    tr_cdc_rec_t *r = tr_cdc_log_alloc(rd->log, sizeof(tr_cdc_rec_t) + data_cap, err);
    if (r != NULL) {
        memset(r, 0, sizeof(*r));
    }
    return r;
}

int tr_cdc_read(tr_cdc_reader_t *rd, const uint8_t *msg, size_t len, int32_t part, int64_t offset,
                tr_cdc_rec_t **rec, int64_t *watermark, const char **why)
{
    tr_canal_msg_t m;
    int rc = tr_canal_parse_images(msg, len, &m, rd->members, rd->members_cap, why);
    if (rc == 0 && m.members_needed > rd->members_cap) {
        /* A row wider than any before: room for it, and parse again (once per width). */
        tr_free(rd->members);
        rd->members_cap = m.members_needed;
        rd->members = tr_malloc(rd->members_cap * sizeof(*rd->members));
        rc = tr_canal_parse_images(msg, len, &m, rd->members, rd->members_cap, why);
    }
    if (rc != 0) {
        return rc;
    }
    if (m.kind == TR_CANAL_WATERMARK) {
        if (m.watermark_ts > INT64_MAX) {
            *why = "watermarkTs out of range";
            return TR_EMALFORMED;
        }
        *watermark = (int64_t)m.watermark_ts;
        return TR_CDC_READ_WATERMARK;
    }
    if (m.commit_ts > INT64_MAX) {
        *why = "commitTs out of range";
        return TR_EMALFORMED;
    }
    if (m.only_handle_key || m.has_claim_check) {
        *why = "a message without the whole row (handle-key-only or claim-check large-message "
               "handling): set large-message-handle-option=none and "
               "delete-only-output-handle-key-columns=false on the changefeed";
        return TR_EUNSUPPORTED;
    }
    if (len + 64 > rd->text_cap) {
        rd->text_cap = len + 64 > 4096 ? len + 64 : 4096;
        tr_free(rd->text);
        rd->text = tr_malloc(rd->text_cap);
    }
    rd->text_used = 0;
    tr_slice_t db = {NULL, 0};
    tr_slice_t table = {NULL, 0};
    if ((rc = text_of(rd, &m.database, &db, why)) != 0 ||
        (rc = text_of(rd, &m.table, &table, why)) != 0) {
        return rc;
    }
    uint32_t table_id =
        tr_cdc_names_table(rd->names, (const char *)db.p, db.len, (const char *)table.p, table.len);
    if (table_id == 0) {
        *why = "too many table names";
        return TR_ETOOBIG;
    }
    int err = 0;
    tr_cdc_rec_t *r;
    if (m.kind == TR_CANAL_DDL) {
        r = new_rec(rd, m.sql.raw.len + 8, &err);
        if (r == NULL) {
            *why = "cannot store the message (spill directory)";
            return err;
        }
        ssize_t n = tr_canal_str_decode(&m.sql, r->data, why);
        if (n < 0) {
            tr_cdc_log_shrink(rd->log, r, sizeof(*r));
            tr_cdc_log_release(rd->log, r);
            return (int)n;
        }
        r->kind = TR_CDC_DDL;
        r->len = (uint32_t)n;
    } else {
        r = new_rec(rd, m.data.len + m.old.len + 16, &err);
        if (r == NULL) {
            *why = "cannot store the message (spill directory)";
            return err;
        }
        uint8_t *p = r->data;
        size_t n_cols = 0;
        uint64_t names_fp = 0x6e616d6573ull;
        rc = 0;
        if (m.kind == TR_CANAL_UPDATE) {
            /* The before image first; "data" must have the same columns (checked after). */
            rc = put_image(rd, m.old_members, m.n_old_members, true, &n_cols, &p, &names_fp, why);
            size_t n_old = n_cols;
            if (rc == 0) {
                rc = put_image(rd, m.data_members, m.n_data_members, false, &n_old, &p, &names_fp,
                               why);
            }
        } else {
            rc = put_image(rd, m.data_members, m.n_data_members, true, &n_cols, &p, &names_fp, why);
        }
        uint32_t layout = 0;
        if (rc == 0) {
            rc = layout_of(rd, &m, table_id, n_cols, names_fp, &layout, why);
        }
        if (rc != 0) {
            tr_cdc_log_shrink(rd->log, r, sizeof(*r));
            tr_cdc_log_release(rd->log, r);
            return rc;
        }
        r->layout = layout;
        r->kind = TR_CDC_ROW;
        r->op = m.kind == TR_CANAL_INSERT   ? TR_TIDB_MUT_INSERT
                : m.kind == TR_CANAL_UPDATE ? TR_TIDB_MUT_UPDATE
                                            : TR_TIDB_MUT_DELETE_ROW;
        r->flags = m.n_pk_names > 0 ? TR_CDC_KEYED : 0;
        r->len = (uint32_t)(p - r->data);
    }
    tr_cdc_log_shrink(rd->log, r, sizeof(*r) + r->len);
    r->commit_ts = (int64_t)m.commit_ts;
    r->offset = offset;
    r->part = part;
    r->table = table_id;
    r->hash = content_hash(r);
    *rec = r;
    return TR_CDC_READ_RECORD;
}
