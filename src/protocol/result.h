/*
 * Server responses of the command phase: OK, ERR and EOF packets, column
 * definitions and text result sets (column count, ColumnDefinition41 packets,
 * EOF, rows of lenenc strings / 0xFB NULL, EOF — or the CLIENT_DEPRECATE_EOF
 * form when the client asked for it).
 *
 * Pure codec: no I/O, no logging.
 * Follows shared/spec/mysql-replication-source.md section 1 (MySQL internals
 * "OK_Packet", "ERR_Packet", "EOF_Packet", "Text Resultset",
 * "ColumnDefinition41"; go-mysql server/resp.go writeEOFOrOK).
 *
 * OK:  0x00, affected_rows lenenc, last_insert_id lenenc, status u16,
 *      warnings u16, info (string to the end; tirelay sends none).
 * ERR: 0xFF, error code u16, '#', SQLSTATE (5 chars), message to the end.
 * EOF: 0xFE, warnings u16, status u16.
 * ColumnDefinition41: lenenc "def", schema, table, org_table, name,
 *      org_name, lenenc 0x0C, charset u16, column_length u32, type u8,
 *      flags u16, decimals u8, 2 zero bytes.
 */
#ifndef TR_PROTOCOL_RESULT_H
#define TR_PROTOCOL_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/defs.h"

#define TR_COLTYPE_LONGLONG   8
#define TR_COLTYPE_VAR_STRING 253

#define TR_COLFLAG_NOT_NULL 0x0001u
#define TR_COLFLAG_UNSIGNED 0x0020u
#define TR_COLFLAG_BINARY   0x0080u

#define TR_CHARSET_UTF8MB4 45 /* utf8mb4_general_ci */
#define TR_CHARSET_BINARY  63

/* MySQL error numbers tirelay emits. */
enum {
    TR_ER_ACCESS_DENIED = 1045,     /* 28000 */
    TR_ER_UNKNOWN_COM = 1047,       /* 08S01 */
    TR_ER_PARSE = 1064,             /* 42000 */
    TR_ER_NO_SUCH_THREAD = 1094,    /* HY000 */
    TR_ER_UNKNOWN_SYSVAR = 1193,    /* HY000 */
    TR_ER_MASTER_FATAL_READ = 1236, /* HY000 */
    TR_ER_NET_PACKETS_OUT_OF_ORDER = 1156, /* 08S01 */
    TR_ER_HANDSHAKE = 1043,         /* 08S01 bad handshake */
    TR_ER_NO_DB = 1046,             /* 3D000 No database selected */
    TR_ER_BAD_DB = 1049,            /* 42000 Unknown database */
    TR_ER_BAD_FIELD = 1054,         /* 42S22 Unknown column */
    TR_ER_UNKNOWN_TABLE = 1109,     /* 42S02 Unknown table ... in information_schema */
    TR_ER_NO_SUCH_TABLE = 1146,     /* 42S02 Table doesn't exist */
    TR_ER_NOT_SUPPORTED_YET = 1235, /* 42000 */
};

typedef struct {
    const char *name;   /* column name (also org_name); NUL-terminated */
    uint8_t type;       /* TR_COLTYPE_* */
    uint16_t charset;   /* collation id */
    uint32_t length;    /* display length */
    uint16_t flags;     /* TR_COLFLAG_* */
    uint8_t decimals;
} tr_res_col_t;

/* A string column (VAR_STRING, utf8mb4) / an unsigned LONGLONG column. */
tr_res_col_t tr_res_col_str(const char *name);
tr_res_col_t tr_res_col_num(const char *name);

/* Payload encoders (no packet header). */
void tr_res_put_ok(tr_buf_t *b, uint64_t affected_rows, uint64_t insert_id, uint16_t status,
                   uint16_t warnings);
/* sqlstate: 5 characters. msg is truncated at 512 bytes. */
void tr_res_put_err(tr_buf_t *b, uint16_t code, const char *sqlstate, const char *msg,
                    size_t msg_len);
void tr_res_put_eof(tr_buf_t *b, uint16_t warnings, uint16_t status);
void tr_res_put_coldef(tr_buf_t *b, const tr_res_col_t *c);

/* SQLSTATE of the codes above ("HY000" for unknown codes). */
const char *tr_res_sqlstate(uint16_t code);

/* Writes a whole text result set as framed packets continuing *seq. */
typedef struct {
    tr_buf_t *out;       /* borrows */
    uint8_t *seq;        /* borrows; advanced per packet */
    bool deprecate_eof;  /* client negotiated CLIENT_DEPRECATE_EOF */
    size_t ncols;
    size_t row_start;    /* internal: header offset of the row being built */
} tr_res_writer_t;

/* Column count packet + definitions (+ EOF unless deprecate_eof). */
void tr_res_begin(tr_res_writer_t *w, tr_buf_t *out, uint8_t *seq, bool deprecate_eof,
                  const tr_res_col_t *cols, size_t ncols);
void tr_res_row_begin(tr_res_writer_t *w);
/* One cell: s[0..n) as a lenenc string, or NULL (0xFB) when s is NULL. */
void tr_res_cell(tr_res_writer_t *w, const char *s, size_t n);
void tr_res_cell_str(tr_res_writer_t *w, const char *s); /* NUL-terminated or NULL */
void tr_res_cell_u64(tr_res_writer_t *w, uint64_t v);
void tr_res_row_end(tr_res_writer_t *w);
/* Final EOF (or 0xFE OK packet with deprecate_eof). */
void tr_res_end(tr_res_writer_t *w, uint16_t status);

/* Decoders (client side; tests and tools). Views into p. */
typedef struct {
    uint64_t affected_rows;
    uint64_t insert_id;
    uint16_t status;
    uint16_t warnings;
} tr_res_ok_t;
typedef struct {
    uint16_t code;
    char sqlstate[6];
    tr_slice_t msg;
} tr_res_err_t;
/* Returns len or TR_EMALFORMED (wrong first byte or truncated). */
ssize_t tr_res_ok_decode(const uint8_t *p, size_t len, tr_res_ok_t *out, const char **why);
ssize_t tr_res_err_decode(const uint8_t *p, size_t len, tr_res_err_t *out, const char **why);
/* True for an EOF packet payload (0xFE and shorter than 9 bytes). */
bool tr_res_is_eof(const uint8_t *p, size_t len);

#endif
