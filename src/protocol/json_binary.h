/*
 * TiDB binary JSON (the value of a jsonFlag datum) re-encoded for replicas:
 *  - as MySQL binary JSON, the value of a MYSQL_TYPE_JSON (245) column in a
 *    MySQL row image (mysql-server sql-common/json_binary.cc);
 *  - as the JSON text TiDB prints for it, the value of MariaDB's JSON column
 *    (LONGTEXT utf8mb4_bin) in a MariaDB row image.
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

/* Nesting deeper than this is rejected (TiDB allows 100 levels). */
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
 * Writes a finite double as TiDB's JSON text does (shortest round-trip
 * digits; exponent form below 1e-6 and from 1e21 on, "1e+21", "1e-7").
 * Returns the length written (NUL-terminated); cap must be >= 32.
 */
size_t tr_json_format_double(double v, char *out, size_t cap);

#endif
