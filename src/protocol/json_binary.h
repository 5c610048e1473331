/*
 * TiDB binary JSON (the value of a jsonFlag datum) re-encoded for replicas:
 *  - as MySQL binary JSON, the value of a MYSQL_TYPE_JSON (245) column in a
 *    MySQL row image (mysql-server sql-common/json_binary.cc);
 *  - as the JSON text TiDB prints for it, the value of MariaDB's JSON column
 *    (LONGTEXT utf8mb4_bin) in a MariaDB row image.
 * JSON text (what TiCDC's canal-json carries for a JSON column) re-encoded as
 * MySQL binary JSON, typed as TiDB types a document it parses from text.
 * Pure codec: no I/O, no logging, no allocation beyond the output buffer.
 *
 * TiDB input (pingcap/tidb pkg/types/json_binary.go; shared/spec/tidb-binlog.md 4.6.5):
 * | type | value                                                                        |
 * |------|------------------------------------------------------------------------------|
 * | 0x01 | object: count u32, size u32, count x {key off u32, key len u16},             |
 * |      |         count x {type u8, off u32 (literal: inline in the first byte)}, keys,|
 * |      |         values; keys sorted bytewise; offsets from the object's start        |
 * | 0x03 | array: count u32, size u32, count x {type u8, off u32}, values               |
 * | 0x04 | literal u8: 0 null, 1 true, 2 false                                          |
 * | 0x09 / 0x0A / 0x0B | int64 / uint64 / float64, 8 bytes LE                           |
 * | 0x0C | string: uvarint length, UTF-8 bytes                                          |
 * | 0x0D | opaque: MySQL field type u8, uvarint length, bytes                           |
 * | 0x0E / 0x0F / 0x10 | date / datetime / timestamp: CoreTime u64 LE                   |
 * | 0x11 | duration: nanoseconds i64 LE, fsp u32 LE                                     |
 *
 * MySQL output (json_binary.cc serialize_json_value; spec mysql-replication-source.md 7.4):
 * | type | value                                                                        |
 * |------|------------------------------------------------------------------------------|
 * | 0x00 / 0x01 | small / large object: count, size (u16 / u32), key entries          |
 * |      |   {off u16/u32, len u16}, value entries {type u8, off-or-inline u16/u32},    |
 * |      |   keys sorted by length then bytes, values                                   |
 * | 0x02 / 0x03 | small / large array: count, size, value entries, values             |
 * | 0x04 | literal; 0x05/0x06 int16/uint16; 0x07/0x08 int32/uint32; 0x09/0x0A int64/    |
 * |      | uint64; 0x0B double; 0x0C string (varint length + bytes); 0x0F opaque        |
 * Inlined in value entries: literals, int16, uint16 (and int32, uint32 in large
 * containers). Every container is written small unless it does not fit in
 * 64 KiB, exactly as MySQL decides (a small container whose child does not fit
 * becomes large as a whole). DATE/DATETIME/TIMESTAMP/TIME become opaque values
 * of field type 10/12/7/11 holding MySQL's 8-byte packed longlong.
 */
#ifndef TR_PROTOCOL_JSON_BINARY_H
#define TR_PROTOCOL_JSON_BINARY_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/defs.h"

/*
 * Nesting deeper than this is rejected, counted as levels of values: the document is
 * level 1 and each container adds one, so a scalar inside 127 arrays is at level 128.
 * TiDB's parser stops at level 101 in this count (pkg/types/json_binary.go maxJSONDepth
 * 100 against GetElemDepth() - 1), so every document TiDB parsed fits.
 */
#define TR_JSON_MAX_DEPTH 128

/*
 * Appends the MySQL binary JSON document (type byte + value) for the TiDB
 * binary JSON at tidb (type byte + value, exactly len bytes: the bytes of a
 * TR_DATUM_JSON datum). Returns 0, TR_EMALFORMED with *why (bad offsets,
 * unknown type, unsorted keys, too deep), or TR_ETOOBIG (out's limit).
 * On error out may hold a partial document: the caller discards it.
 */
int tr_json_to_mysql(tr_buf_t *out, const uint8_t *tidb, size_t len, const char **why)
    TR_MUSTCHECK;

/*
 * Appends the JSON text TiDB v3 - v8.3 prints for the same value
 * (BinaryJSON.String): keys in stored order, ", " and ": " separators,
 * Go encoding/json string escapes and float format. Errors as above.
 */
int tr_json_to_text(tr_buf_t *out, const uint8_t *tidb, size_t len, const char **why)
    TR_MUSTCHECK;

/*
 * Appends the MySQL binary JSON document (type byte + value) for the JSON text at text
 * (exactly len bytes; no NUL needed; RFC 8259 as Go's encoding/json reads it, whitespace
 * around the document allowed), with the same container formats as tr_json_to_mysql.
 * Values are typed as TiDB's ParseBinaryJSONFromString types them (pkg/types/
 * json_binary.go appendBinaryNumber): a number without '.', 'e' or 'E' that fits int64
 * is an int64 (so "-0" is 0), else one that fits uint64 is a uint64, every other number
 * is the nearest double ("1.0", "1e2" and 2^64 are doubles; "-0.0" is -0.0); strings are
 * stored decoded (escapes and surrogate pairs as UTF-8); in an object the last of
 * duplicated keys wins, and keys are stored in MySQL's order (length, then bytes).
 * Returns 0, TR_EMALFORMED with *why (empty or not JSON, text after the document, a raw
 * control character, invalid UTF-8, a bad escape, an escaped lone surrogate, an object key
 * longer than 65535 bytes, nesting deeper than TR_JSON_MAX_DEPTH, a number beyond the
 * double range such as 1e400: each refused by TiDB as well, except that TiDB replaces
 * invalid UTF-8 and lone surrogates with U+FFFD where this refuses them, and allows less
 * nesting), or TR_ETOOBIG with *why (out's limit, a document or text over 4 GiB).
 * On error out may hold partial work: the caller discards it.
 * Memory: nothing but out. While it works, out also holds 12 bytes per container of the
 * text, 16 bytes per member of each object being written and a copy of any number token of
 * 64 characters or more, so out's limit must leave that room. Time: linear in the text,
 * plus the sorting of each object's keys.
 * Borrows out and text for the call; thread: any.
 */
int tr_json_text_to_mysql(tr_buf_t *out, const uint8_t *text, size_t len, const char **why)
    TR_MUSTCHECK;

/*
 * Writes a finite double as TiDB's JSON text does (shortest round-trip
 * digits; exponent form below 1e-6 and from 1e21 on, "1e+21", "1e-7").
 * Returns the length written (NUL-terminated); cap must be >= 32.
 */
size_t tr_json_format_double(double v, char *out, size_t cap);

#endif
