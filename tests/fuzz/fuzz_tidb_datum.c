/*
 * Fuzz target: TiDB's datum codec (protocol/tidb_datum.c) as the translator
 * reads row images: the input as an old-format row (column id / value datum
 * pairs), every decimal rendered as text, every integer unpacked as a packed
 * time, every JSON value measured; then the input as a plain datum sequence.
 */
#include "fuzz.h"

#include "protocol/tidb_datum.h"

static const uint8_t *g_base;
static size_t g_size;

static void use_datum(const tr_datum_t *d)
{
    if (d->bytes.len > 0) {
        FUZZ_CHECK(d->bytes.p >= g_base && d->bytes.p + d->bytes.len <= g_base + g_size);
    }
    switch (d->kind) {
    case TR_DATUM_DECIMAL: {
        char text[128];
        int r = tr_datum_decimal_to_str(d->bytes.p, d->bytes.len, d->precision, d->frac, text,
                                        sizeof(text));
        FUZZ_CHECK(r < (int)sizeof(text));
        /* The translator re-encodes for the column's own (precision, frac). */
        (void)tr_datum_decimal_to_str(d->bytes.p, d->bytes.len, 65, 30, text, sizeof(text));
        break;
    }
    case TR_DATUM_UINT:
    case TR_DATUM_INT: {
        tr_tidb_time_t t;
        uint64_t packed = d->kind == TR_DATUM_UINT ? d->u : (uint64_t)d->i;
        if (tr_tidb_time_unpack(packed, &t) == 0) {
            FUZZ_CHECK(t.month <= 12 && t.day <= 31 && t.hour <= 23 && t.minute <= 59 &&
                       t.second <= 59 && t.microsecond <= 999999);
        }
        break;
    }
    case TR_DATUM_JSON:
        if (d->bytes.len > 0) {
            ssize_t n = tr_datum_json_len(d->bytes.p[0], d->bytes.p + 1, d->bytes.len - 1);
            FUZZ_CHECK(n < 0 || (size_t)n <= d->bytes.len - 1);
        }
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_base = data;
    g_size = size;
    const char *why = NULL;
    if (size > 0) {
        tr_datum_row_iter_t it = tr_datum_row_iter(data, size);
        int64_t col_id;
        tr_datum_t val;
        int rc;
        while ((rc = tr_datum_row_next(&it, &col_id, &val, &why)) > 0) {
            use_datum(&val);
        }
        FUZZ_CHECK(rc == 0 || why != NULL);
    }
    size_t off = 0;
    while (off < size) {
        tr_datum_t d;
        ssize_t n = tr_datum_decode(data + off, size - off, &d, &why);
        if (n <= 0) {
            break;
        }
        FUZZ_CHECK((size_t)n <= size - off);
        use_datum(&d);
        off += (size_t)n;
    }
    for (size_t i = 0; i + 1 < size && i < 16; i++) {
        (void)tr_datum_decimal_bin_size(data[i], data[i + 1]);
    }
    return 0;
}
