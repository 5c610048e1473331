/*
 * Command-phase packets a client sends: COM_QUERY, COM_QUIT, COM_PING,
 * COM_INIT_DB, COM_PROCESS_KILL, COM_REGISTER_SLAVE, COM_BINLOG_DUMP and
 * COM_BINLOG_DUMP_GTID, decoded from one packet payload.
 *
 * Pure codec: no I/O, no logging; results are views into the payload.
 * Follows shared/spec/mysql-replication-source.md sections 1 and 4.1-4.3
 * (MySQL sql/rpl_source.cc com_binlog_dump/_gtid, MariaDB sql/slave.cc
 * register_slave_on_master and request_dump, go-mysql replication.go).
 *
 * COM_REGISTER_SLAVE (0x15) body: server_id u32, hostname (u8 len + bytes),
 * user (u8 len + bytes), password (u8 len + bytes), port u16, rank u32,
 * master_id u32.
 * COM_BINLOG_DUMP (0x12) body: pos u32, flags u16, server_id u32, file name
 * to the end (cut at the first NUL; empty = first file).
 * COM_BINLOG_DUMP_GTID (0x1E) body: flags u16, server_id u32, name_len u32,
 * name, pos u64, data_len u32, data (encoded GTID set).
 */
#ifndef TR_PROTOCOL_COMMAND_H
#define TR_PROTOCOL_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/defs.h"

enum {
    TR_COM_SLEEP = 0x00,
    TR_COM_QUIT = 0x01,
    TR_COM_INIT_DB = 0x02,
    TR_COM_QUERY = 0x03,
    TR_COM_FIELD_LIST = 0x04,
    TR_COM_STATISTICS = 0x09,
    TR_COM_PROCESS_KILL = 0x0C,
    TR_COM_PING = 0x0E,
    TR_COM_BINLOG_DUMP = 0x12,
    TR_COM_REGISTER_SLAVE = 0x15,
    TR_COM_SET_OPTION = 0x1B,
    TR_COM_BINLOG_DUMP_GTID = 0x1E,
    TR_COM_RESET_CONNECTION = 0x1F,
};

/* COM_BINLOG_DUMP flags. Bit 1 means BINLOG_SEND_ANNOTATE_ROWS_EVENT for
 * MariaDB clients and USE_HEARTBEAT_EVENT_V2 for MySQL 8.0.26+ replicas. */
#define TR_DUMP_NON_BLOCK 0x0001u
#define TR_DUMP_FLAG_2    0x0002u
#define TR_DUMP_THROUGH_GTID 0x0004u

typedef struct {
    uint32_t server_id;
    tr_slice_t host;
    tr_slice_t user;
    tr_slice_t password;
    uint16_t port;
    uint32_t rank;
    uint32_t master_id;
} tr_cmd_register_t;

typedef struct {
    uint64_t pos;          /* u32 in COM_BINLOG_DUMP, u64 in the GTID variant */
    uint16_t flags;        /* TR_DUMP_* */
    uint32_t server_id;    /* 0 implies non-blocking */
    tr_slice_t file;       /* view; cut at the first NUL; len 0 = first file */
    tr_slice_t gtid_data;  /* COM_BINLOG_DUMP_GTID: encoded GTID set (view) */
} tr_cmd_dump_t;

typedef struct {
    uint8_t com;           /* command byte */
    union {
        tr_slice_t text;   /* COM_QUERY SQL, COM_INIT_DB schema (views) */
        uint32_t kill_id;  /* COM_PROCESS_KILL */
        tr_cmd_register_t reg;
        tr_cmd_dump_t dump;
    } u;
} tr_cmd_t;

/*
 * Decodes one command payload. Unknown command bytes decode successfully
 * with only com set (the session answers ERR 1047). Returns len, or
 * TR_EMALFORMED with *why for an empty payload or a short body of a
 * command it knows.
 */
ssize_t tr_cmd_decode(const uint8_t *p, size_t len, tr_cmd_t *out, const char **why);

/* Encoders (client side; tests and tools). Each appends a payload. */
void tr_cmd_encode_register(tr_buf_t *b, const tr_cmd_register_t *r);
void tr_cmd_encode_dump(tr_buf_t *b, const tr_cmd_dump_t *d);
void tr_cmd_encode_dump_gtid(tr_buf_t *b, const tr_cmd_dump_t *d);

#endif
