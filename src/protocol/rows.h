/*
 * Row images inside rows events: the NULL bitmap and the binary value of
 * each MySQL column type, as MySQL's Field::pack and go-mysql's decodeValue
 * agree (shared/spec/mysql-replication-source.md section 7.2).
 * Pure codec: no I/O.
 *
 * Value encodings written here:
 * | type (code)          | meta                  | value bytes                                   |
 * |----------------------|-----------------------|-----------------------------------------------|
 * | TINY/SHORT/INT24/LONG/LONGLONG (1/2/9/3/8) | none | 1/2/3/4/8 bytes LE two's complement   |
 * | FLOAT/DOUBLE (4/5)   | 4 / 8                 | IEEE-754 LE                                    |
 * | NEWDECIMAL (246)     | precision<<8 | scale  | MySQL binary decimal (decimal2bin)             |
 * | DATETIME2 (18)       | fsp                   | 5 bytes BE + fraction                          |
 * | TIMESTAMP2 (17)      | fsp                   | 4 bytes BE seconds + fraction                  |
 * | TIME2 (19)           | fsp                   | 3 bytes BE + fraction                          |
 * | DATE (10)            | none                  | 3 bytes LE day | month<<5 | year<<9           |
 * | YEAR (13)            | none                  | 1 byte year-1900 (0 for 0000)                  |
 * | VARCHAR (15)         | max bytes             | 1 or 2 byte LE length + bytes                  |
 * | STRING (254)         | real_type<<8 | len (packed, see tr_rows_string_meta) | 1/2 byte length + bytes |
 * | BLOB (252)           | length-prefix size 1-4| n-byte LE length + bytes                       |
 * | BIT (16)             | (bits/8)<<8 | bits%8 ... see tr_rows_bit_meta | ceil(m/8) bytes BE  |
 * | JSON (245)           | 4                     | 4-byte LE length + MySQL binary JSON           |
 * Meta is stored in the tr_col_def_t.meta as the value the TABLE_MAP writes:
 * 2-byte metas are written little-endian except STRING and NEWDECIMAL, whose two
 * bytes are (hi, lo) = (real_type or precision, length or scale).
 */
#ifndef TR_PROTOCOL_ROWS_H
#define TR_PROTOCOL_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "protocol/binlog_event.h"

/* MySQL column type codes used in TABLE_MAP and rows. */
enum {
    TR_MYSQL_TYPE_DECIMAL = 0,
    TR_MYSQL_TYPE_TINY = 1,
    TR_MYSQL_TYPE_SHORT = 2,
    TR_MYSQL_TYPE_LONG = 3,
    TR_MYSQL_TYPE_FLOAT = 4,
    TR_MYSQL_TYPE_DOUBLE = 5,
    TR_MYSQL_TYPE_NULL = 6,
    TR_MYSQL_TYPE_TIMESTAMP = 7,
    TR_MYSQL_TYPE_LONGLONG = 8,
    TR_MYSQL_TYPE_INT24 = 9,
    TR_MYSQL_TYPE_DATE = 10,
    TR_MYSQL_TYPE_TIME = 11,
    TR_MYSQL_TYPE_DATETIME = 12,
    TR_MYSQL_TYPE_YEAR = 13,
    TR_MYSQL_TYPE_NEWDATE = 14,
    TR_MYSQL_TYPE_VARCHAR = 15,
    TR_MYSQL_TYPE_BIT = 16,
    TR_MYSQL_TYPE_TIMESTAMP2 = 17,
    TR_MYSQL_TYPE_DATETIME2 = 18,
    TR_MYSQL_TYPE_TIME2 = 19,
    TR_MYSQL_TYPE_JSON = 245,
    TR_MYSQL_TYPE_NEWDECIMAL = 246,
    TR_MYSQL_TYPE_ENUM = 247,
    TR_MYSQL_TYPE_SET = 248,
    TR_MYSQL_TYPE_TINY_BLOB = 249,
    TR_MYSQL_TYPE_MEDIUM_BLOB = 250,
    TR_MYSQL_TYPE_LONG_BLOB = 251,
    TR_MYSQL_TYPE_BLOB = 252,
    TR_MYSQL_TYPE_VAR_STRING = 253,
    TR_MYSQL_TYPE_STRING = 254,
    TR_MYSQL_TYPE_GEOMETRY = 255,
};

/* Meta for CHAR/BINARY/ENUM/SET columns (type STRING): real_type 254/247/248, max_len in bytes. */
uint16_t tr_rows_string_meta(uint8_t real_type, uint32_t max_len);
/* Decodes it back: real type and max length in bytes. */
void tr_rows_string_meta_decode(uint16_t meta, uint8_t *real_type, uint32_t *max_len);

/*
 * One row image: call tr_rows_image_begin (reserves the NULL bitmap for
 * ncols present columns), then for each column in order either
 * tr_rows_image_null(&img, i) or one tr_rows_put_* call.
 */
typedef struct {
    tr_buf_t *out;
    size_t bitmap_off; /* offset of the NULL bitmap in out */
    size_t ncols;
} tr_rows_image_t;

void tr_rows_image_begin(tr_rows_image_t *img, tr_buf_t *out, size_t ncols);
void tr_rows_image_null(tr_rows_image_t *img, size_t col_index);

/* Integers: width from type (TINY 1, SHORT 2, INT24 3, LONG 4, LONGLONG 8); v is the
 * two's complement bit pattern (pass uint64 values cast to int64). */
void tr_rows_put_int(tr_buf_t *out, uint8_t type, int64_t v);
void tr_rows_put_float(tr_buf_t *out, float v);
void tr_rows_put_double(tr_buf_t *out, double v);
/* Binary decimal already in MySQL decimal2bin form for (precision, scale). */
void tr_rows_put_decimal_bin(tr_buf_t *out, const uint8_t *bin, size_t len);
/* Converts a decimal given as sign + digits text ("-123.45", no exponent) to decimal2bin of
 * (precision, scale) and appends it. Returns 0 or TR_EMALFORMED / TR_ETOOBIG (out of range). */
int tr_rows_put_decimal_str(tr_buf_t *out, const char *text, size_t len, int precision, int scale);
/* Size in bytes of decimal2bin(precision, scale). */
size_t tr_decimal_bin_size(int precision, int scale);
void tr_rows_put_datetime2(tr_buf_t *out, uint8_t fsp, int year, int month, int day, int hour,
                           int minute, int second, uint32_t microsecond);
void tr_rows_put_timestamp2(tr_buf_t *out, uint8_t fsp, uint32_t seconds, uint32_t microsecond);
/* TIME2: negative = sign; hours may exceed 23 (up to 838). */
void tr_rows_put_time2(tr_buf_t *out, uint8_t fsp, bool negative, uint32_t hours, uint32_t minutes,
                       uint32_t seconds, uint32_t microsecond);
void tr_rows_put_date(tr_buf_t *out, int year, int month, int day);
void tr_rows_put_year(tr_buf_t *out, int year);
/* VARCHAR/VARBINARY: max_len = column max bytes (meta); 1-byte length if max_len < 256. */
void tr_rows_put_varchar(tr_buf_t *out, uint32_t max_len, const uint8_t *p, size_t n);
/* CHAR/BINARY (STRING): max_len in bytes; 1-byte length if max_len < 256 else 2. Trailing
 * pad bytes are not written, as the servers write them (Field_string::pack in MySQL and
 * MariaDB): pad is ' ' for CHAR, 0x00 for BINARY. */
void tr_rows_put_char(tr_buf_t *out, uint32_t max_len, uint8_t pad, const uint8_t *p, size_t n);
/* BLOB/TEXT/JSON: prefix_len = 1..4 bytes of LE length. */
void tr_rows_put_blob(tr_buf_t *out, uint8_t prefix_len, const uint8_t *p, size_t n);
/*
 * Converts n bytes at p, in place, from TiDB's latin1 column bytes to MySQL latin1 (cp1252 with
 * 0x81, 0x8D, 0x8F, 0x90, 0x9D for U+0081.. as MySQL's latin1 table maps them): a valid UTF-8
 * sequence becomes its latin1 byte, or '?' when latin1 has no such character (what MySQL
 * stores converting it); a byte that does not start a valid UTF-8 sequence is kept (a latin1
 * client's byte). Returns the new length (<= n).
 */
size_t tr_rows_latin1_from_utf8(uint8_t *p, size_t n);
/* ENUM/SET packed values: nbytes LE. */
void tr_rows_put_uint_n(tr_buf_t *out, uint64_t v, size_t nbytes);
/* BIT(m): ceil(m/8) bytes big-endian. */
void tr_rows_put_bit(tr_buf_t *out, uint32_t bits, uint64_t v);

#endif
