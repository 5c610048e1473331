/*
 * TiCDC's canal-json messages with the TiDB extension (enable-tidb-extension=true), as
 * TiCDC writes them to Kafka (one message per row change, DDL or watermark) and to a
 * storage sink (one message per line): shared/spec/ticdc.md sections 1 and 4, tiflow
 * pkg/sink/codec/canal/canal_json_row_event_encoder.go (newJSONMessageForDML,
 * newJSONMessageForDDL, newJSONMessage4CheckpointEvent) and canal_json_message.go.
 *
 *   {"id":0,"database":"db","table":"t","pkNames":["id"],"isDdl":false,"type":"UPDATE",
 *    "es":1700000000000,"ts":1700000000123,"sql":"","sqlType":{"id":-5,...},
 *    "mysqlType":{"id":"bigint",...},"old":[{"id":"1",...}],"data":[{"id":"1",...}],
 *    "_tidb":{"commitTs":445566778899}}
 *   {"id":0,"database":"db","table":"t","pkNames":null,"isDdl":true,"type":"CREATE",
 *    "es":...,"ts":...,"sql":"CREATE TABLE ...","sqlType":null,"mysqlType":null,
 *    "data":null,"old":null,"_tidb":{"commitTs":...}}
 *   {"id":0,"database":"","table":"","pkNames":null,"isDdl":false,"type":"TIDB_WATERMARK",
 *    "es":...,"ts":...,"sql":"","sqlType":null,"mysqlType":null,"data":null,"old":null,
 *    "_tidb":{"watermarkTs":...}}
 *
 * Every value in "data"/"old" is a JSON string or null (TiCDC formats each datum as text;
 * binary strings as one ISO-8859-1 character per byte). Keys may come in any order and
 * unknown keys are skipped, so other producers of the same format parse too.
 *
 * Pure codec: no I/O, no logging, no allocation. Parsing validates the whole message once
 * and returns views into it; strings are returned raw (between the quotes, escapes not
 * decoded) and decoded on demand into caller storage.
 */
#ifndef TR_PROTOCOL_CANAL_JSON_H
#define TR_PROTOCOL_CANAL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/defs.h"
#include "protocol/tidb_datum.h"
#include "protocol/tidb_schema.h"

/* Nesting deeper than this anywhere in a message is rejected. */
#define TR_CANAL_MAX_DEPTH 64

typedef enum {
    TR_CANAL_INSERT = 1, /* "type":"INSERT": data holds the new row */
    TR_CANAL_UPDATE,     /* "type":"UPDATE": old the before image, data the after image */
    TR_CANAL_DELETE,     /* "type":"DELETE": data holds the deleted row */
    TR_CANAL_DDL,        /* "isDdl":true: sql holds the statement, type its kind */
    TR_CANAL_WATERMARK,  /* "type":"TIDB_WATERMARK": _tidb.watermarkTs */
} tr_canal_kind_t;

/* A JSON string as it stands in the message: the bytes between the quotes. */
typedef struct {
    tr_slice_t raw;
    bool has_escapes; /* raw holds a backslash: decode with tr_canal_str_decode */
} tr_canal_str_t;

/* A value of a data/old/mysqlType/sqlType object. */
typedef enum {
    TR_CANAL_VAL_NULL = 0,
    TR_CANAL_VAL_STRING, /* str: the string */
    TR_CANAL_VAL_NUMBER, /* str.raw: the number's text (sqlType codes) */
    TR_CANAL_VAL_TRUE,
    TR_CANAL_VAL_FALSE,
    TR_CANAL_VAL_OTHER,  /* an object or array (str.raw: its whole text) */
} tr_canal_val_kind_t;

typedef struct {
    tr_canal_val_kind_t kind;
    tr_canal_str_t str;
} tr_canal_val_t;

/* A member of a flat object ("data", "old"): its key and value. */
typedef struct {
    tr_canal_str_t key;
    tr_canal_val_t val;
} tr_canal_member_t;

/* One parsed message: views into the parsed bytes (valid while they are). */
typedef struct {
    tr_canal_kind_t kind;
    tr_canal_str_t type;       /* "type" as sent ("INSERT", "CREATE", "ALTER", "QUERY", ...) */
    tr_canal_str_t database;   /* "" when absent or null */
    tr_canal_str_t table;      /* "" when absent or null */
    tr_canal_str_t sql;        /* DDL text ("" when absent or null) */
    int64_t es;                /* "es", milliseconds (0 when absent) */
    bool has_commit_ts;        /* _tidb.commitTs present */
    uint64_t commit_ts;        /* _tidb.commitTs */
    bool has_watermark_ts;     /* _tidb.watermarkTs present */
    uint64_t watermark_ts;     /* _tidb.watermarkTs */
    bool only_handle_key;      /* _tidb.onlyHandleKey true: values other than the key are missing */
    bool has_claim_check;      /* _tidb.claimCheckLocation present: the row lives elsewhere */
    size_t n_pk_names;         /* elements of "pkNames" (0 for null or absent) */
    tr_slice_t pk_names;       /* the "pkNames" array's text ("[...]"), empty when null */
    tr_slice_t data;           /* the one object of "data" ("{...}"), empty when null */
    tr_slice_t old;            /* the one object of "old", empty when null */
    tr_slice_t mysql_type;     /* the "mysqlType" object, empty when null */
    tr_slice_t sql_type;       /* the "sqlType" object, empty when null */
    /* tr_canal_parse_images only: the members of data's and old's object and of mysqlType
     * in message order (the iterator's key and value), NULL with 0 when null or absent. */
    const tr_canal_member_t *data_members;
    size_t n_data_members;
    const tr_canal_member_t *old_members;
    size_t n_old_members;
    const tr_canal_member_t *type_members; /* of "mysqlType", in message order */
    size_t n_type_members;
    size_t members_needed; /* room the images needed: above the room given, parse again */
} tr_canal_msg_t;

/*
 * Parses one message (exactly len bytes, surrounding whitespace allowed). Returns 0, or
 * TR_EMALFORMED with *why (not JSON, not an object, a field of the wrong JSON type, a
 * row without data, "data"/"old" holding other than exactly one object, a commitTs or
 * watermarkTs that is not an unsigned integer, nesting deeper than TR_CANAL_MAX_DEPTH),
 * or TR_EUNSUPPORTED with *why (a "type" that is none of the above with isDdl false; a
 * row without _tidb.commitTs, i.e. the changefeed lacks enable-tidb-extension; a
 * watermark without watermarkTs). Fields the kind does not use are not checked beyond
 * JSON validity. *out holds views into p.
 */
int tr_canal_parse(const uint8_t *p, size_t len, tr_canal_msg_t *out, const char **why)
    TR_MUSTCHECK;

/*
 * tr_canal_parse, and the members of the images and of mysqlType read in the same pass into
 * members[0..room) (data_members, old_members, type_members), so none is scanned twice. When
 * out->members_needed > room the member views are NULL: give that much room and parse
 * again (the message is otherwise parsed as usual).
 */
int tr_canal_parse_images(const uint8_t *p, size_t len, tr_canal_msg_t *out,
                          tr_canal_member_t *members, size_t room, const char **why) TR_MUSTCHECK;

/*
 * Iterator over a flat JSON object (data, old, mysqlType, sqlType) as parse returned it:
 *   tr_canal_obj_iter_t it = tr_canal_obj_iter(msg.data);
 *   while ((rc = tr_canal_obj_next(&it, &key, &val, &why)) > 0) { ... }
 * next returns 1 (a member, in message order), 0 (end) or TR_EMALFORMED. An empty slice
 * iterates as an empty object.
 */
typedef struct {
    tr_slice_t obj;
    size_t pos;
} tr_canal_obj_iter_t;

tr_canal_obj_iter_t tr_canal_obj_iter(tr_slice_t obj);
int tr_canal_obj_next(tr_canal_obj_iter_t *it, tr_canal_str_t *key, tr_canal_val_t *val,
                      const char **why) TR_MUSTCHECK;

/* Same over the "pkNames" array: 1 with the next name, 0 at the end, or TR_EMALFORMED. */
typedef struct {
    tr_slice_t arr;
    size_t pos;
} tr_canal_arr_iter_t;

tr_canal_arr_iter_t tr_canal_arr_iter(tr_slice_t arr);
int tr_canal_arr_next(tr_canal_arr_iter_t *it, tr_canal_str_t *name, const char **why)
    TR_MUSTCHECK;

/*
 * Decodes a JSON string's escapes into out (which needs at most s->raw.len bytes: a
 * decoded string is never longer than its escaped form), as UTF-8; a surrogate pair
 * becomes one 4-byte character. Returns the length written, or TR_EMALFORMED with *why
 * (a bad escape, a lone surrogate, a raw control character, bytes that are not UTF-8).
 * Without escapes it checks the UTF-8 and copies.
 */
ssize_t tr_canal_str_decode(const tr_canal_str_t *s, uint8_t *out, const char **why) TR_MUSTCHECK;

/* Whether two strings hold the same text once decoded (names compared without decoding
 * when neither has escapes). */
bool tr_canal_str_eq(const tr_canal_str_t *s, const char *text, size_t len);

/*
 * A binary string's bytes from its decoded text: TiCDC writes each byte as the character
 * of that code point (ISO-8859-1, tiflow canal_json_message.go charmap.ISO8859_1), so the
 * UTF-8 text holds only U+0000..U+00FF. Writes len bytes at most into out (may equal
 * text: it runs in place). Returns the byte count, or TR_EMALFORMED with *why (a
 * character above U+00FF, bad UTF-8).
 */
ssize_t tr_canal_latin1_bytes(const uint8_t *text, size_t len, uint8_t *out, const char **why)
    TR_MUSTCHECK;

/*
 * Converts one value of "data"/"old" (the decoded text of its JSON string; binary
 * columns already through tr_canal_latin1_bytes) into the datum translate.c writes for
 * column c (shared/spec/ticdc.md section 4; tiflow cdc/entry/mounter.go formatColVal):
 *   TINY..LONGLONG, YEAR       decimal text  -> TR_DATUM_INT, or TR_DATUM_UINT when unsigned
 *   FLOAT, DOUBLE              fixed text    -> TR_DATUM_FLOAT (FLOAT parsed as float32)
 *   NEWDECIMAL                 text          -> TR_DATUM_TEXT (the digits, checked)
 *   DATE, DATETIME, TIMESTAMP  'YYYY-MM-DD[ hh:mm:ss[.ffffff]]' -> TR_DATUM_UINT holding the
 *                              packed time (tr_tidb_time_pack; TIMESTAMP text is UTC)
 *   DURATION (TIME)            '[-]hhh:mm:ss[.ffffff]' -> TR_DATUM_DURATION (nanoseconds in i)
 *   ENUM, SET, BIT             decimal text  -> TR_DATUM_UINT (index, bitmask, bits)
 *   strings, BLOB/TEXT         bytes         -> TR_DATUM_BYTES, flag COMPACT_BYTES
 *   JSON                       TiDB's text   -> TR_DATUM_TEXT
 * The datum's bytes point into text. Returns 0, TR_ESCHEMA with *why (the text is not a
 * value of the column's type: the message and the schema disagree), or TR_EUNSUPPORTED
 * (a column type canal-json cannot carry to a replica, e.g. TiDB VECTOR).
 */
int tr_canal_value(const tr_tidb_column_t *c, const uint8_t *text, size_t len, tr_datum_t *out,
                   const char **why) TR_MUSTCHECK;

/*
 * Whether a "mysqlType" entry (e.g. "int unsigned", "varchar", "decimal", "enum",
 * "varbinary", "mediumtext"; with content-compatible also "decimal(10,4)") names column
 * c's type, as tiflow pkg/sink/codec/utils/mysql_types.go GetMySQLType writes it.
 * Compares the base type, binary-ness and unsignedness; lengths are not compared.
 */
bool tr_canal_type_matches(const tr_tidb_column_t *c, const uint8_t *mysql_type, size_t len);

#endif
