/*
 * TiDB datum codec, value (non-memcomparable) form, as used in TiDB Binlog
 * row images: one flag byte then the payload (shared/spec/tidb-binlog.md
 * section 4.6, TiDB pkg/util/codec/codec.go). Decoding yields tagged views
 * into the input without allocating; packed DATE/DATETIME/TIMESTAMP values
 * are unpacked (section 4.6.3); the "old row format" (colID datum, value
 * datum pairs, section 4.1) is walked with an iterator.
 * Pure codec: no I/O, no logging, no allocation.
 *
 * | flag | name          | payload                                              |
 * |------|---------------|------------------------------------------------------|
 * | 0x00 | nil           | none                                                 |
 * | 0x01 | bytes (memcmp)| 9-byte groups, marker 0xFF - pad (keys only)         |
 * | 0x02 | compact bytes | zig-zag varint length, raw bytes                     |
 * | 0x03 | int           | 8 bytes BE of v ^ 1<<63                              |
 * | 0x04 | uint          | 8 bytes BE                                           |
 * | 0x05 | float         | 8 bytes BE, order-preserving transform of IEEE bits  |
 * | 0x06 | decimal       | precision, frac, decimal2bin(precision, frac)        |
 * | 0x07 | duration      | 8 bytes like int (nanoseconds)                       |
 * | 0x08 | varint        | zig-zag LEB128 (Go binary.PutVarint)                 |
 * | 0x09 | uvarint       | LEB128 (Go binary.PutUvarint)                        |
 * | 0x0A | json          | type byte, binary JSON value (self-delimiting)       |
 * | 0xFA | max           | none (keys only)                                     |
 */
#ifndef TR_PROTOCOL_TIDB_DATUM_H
#define TR_PROTOCOL_TIDB_DATUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/defs.h"

enum {
    TR_DATUM_FLAG_NIL = 0x00,
    TR_DATUM_FLAG_BYTES = 0x01,
    TR_DATUM_FLAG_COMPACT_BYTES = 0x02,
    TR_DATUM_FLAG_INT = 0x03,
    TR_DATUM_FLAG_UINT = 0x04,
    TR_DATUM_FLAG_FLOAT = 0x05,
    TR_DATUM_FLAG_DECIMAL = 0x06,
    TR_DATUM_FLAG_DURATION = 0x07,
    TR_DATUM_FLAG_VARINT = 0x08,
    TR_DATUM_FLAG_UVARINT = 0x09,
    TR_DATUM_FLAG_JSON = 0x0A,
    TR_DATUM_FLAG_MAX = 0xFA,
};

typedef enum {
    TR_DATUM_NULL = 0,
    TR_DATUM_INT,      /* i (flags 0x03, 0x08) */
    TR_DATUM_UINT,     /* u (flags 0x04, 0x09) */
    TR_DATUM_FLOAT,    /* f (flag 0x05) */
    TR_DATUM_BYTES,    /* bytes (flag 0x02); for 0x01 bytes is the encoded groups */
    TR_DATUM_DECIMAL,  /* precision, frac, bytes = decimal2bin */
    TR_DATUM_DURATION, /* i = nanoseconds (flag 0x07) */
    TR_DATUM_JSON,     /* bytes = type byte + binary JSON value */
    TR_DATUM_MAX,
    TR_DATUM_TEXT,     /* bytes = a DECIMAL's digits or a JSON document as text: values that
                          arrive as text (TiCDC's canal-json), never from the datum codec */
} tr_datum_kind_t;

typedef struct {
    tr_datum_kind_t kind;
    uint8_t flag;         /* wire flag */
    uint8_t precision;    /* DECIMAL */
    uint8_t frac;         /* DECIMAL */
    int64_t i;
    uint64_t u;
    double f;
    tr_slice_t bytes;     /* view into the input */
} tr_datum_t;

/*
 * Decodes one datum at p. Returns bytes consumed (> 0) or TR_EMALFORMED with
 * *why (truncated, bad flag, overlong varint, bad decimal). Row images are
 * complete buffers, so truncation is malformed input, not TR_EINCOMPLETE.
 */
ssize_t tr_datum_decode(const uint8_t *p, size_t len, tr_datum_t *out, const char **why);

/* Go binary.Varint (zig-zag) / binary.Uvarint. Return bytes used, or TR_EMALFORMED. */
ssize_t tr_datum_varint(const uint8_t *p, size_t len, int64_t *v);
ssize_t tr_datum_uvarint(const uint8_t *p, size_t len, uint64_t *v);

/* Size of decimal2bin(precision, frac); -1 if precision/frac are invalid
 * (precision 1..65, frac 0..30, frac <= precision). */
int tr_datum_decimal_bin_size(int precision, int frac);

/*
 * Renders decimal2bin(precision, frac) as text ("-123.45", frac digits
 * always present). Returns the length written (NUL-terminated; cap >= 100 is
 * always enough) or TR_EMALFORMED (bad digits, length mismatch).
 */
int tr_datum_decimal_to_str(const uint8_t *bin, size_t len, int precision, int frac, char *out,
                            size_t cap);

/* Length of a binary JSON value of type tp at p (the bytes after the type
 * byte), or TR_EMALFORMED. */
ssize_t tr_datum_json_len(uint8_t tp, const uint8_t *p, size_t len);

/* Packed time (DATE/DATETIME/TIMESTAMP wire form, spec 4.6.3). */
typedef struct {
    int year;
    int month;
    int day;
    int hour;
    int minute;
    int second;
    uint32_t microsecond;
} tr_tidb_time_t;

/* Unpacks; returns 0, or TR_EMALFORMED when a field is out of range
 * (month > 12, day > 31, hour > 23, minute/second > 59, micro > 999999). */
int tr_tidb_time_unpack(uint64_t packed, tr_tidb_time_t *out);
uint64_t tr_tidb_time_pack(const tr_tidb_time_t *t);

/*
 * Old-row-format iterator: pairs (column id datum, value datum).
 *   tr_datum_row_iter_t it = tr_datum_row_iter(p, len);
 *   while ((rc = tr_datum_row_next(&it, &col_id, &val, &why)) > 0) { ... }
 * next returns 1 (a pair), 0 (end) or TR_EMALFORMED. The single byte 0x00
 * (a row without columns) yields no pairs.
 */
typedef struct {
    const uint8_t *p;
    size_t len;
    size_t pos;
} tr_datum_row_iter_t;

static inline tr_datum_row_iter_t tr_datum_row_iter(const uint8_t *p, size_t len)
{
    tr_datum_row_iter_t it = {p, len, (len == 1 && p[0] == 0) ? 1u : 0u};
    return it;
}
int tr_datum_row_next(tr_datum_row_iter_t *it, int64_t *col_id, tr_datum_t *val,
                      const char **why);

#endif
