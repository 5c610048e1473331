/*
 * MySQL/MariaDB binlog v4 events: constants, the 19-byte common header, and
 * an event writer that appends complete events (header, body, CRC32) to a
 * tr_buf_t with log_pos computed from the file offset the bytes will land at.
 *
 * Pure codec: no I/O, no logging, no clock (callers pass timestamps).
 * Follows shared/spec/mysql-replication-source.md section 6; layouts checked
 * against MySQL libbinlogevents/control_events.cpp and MariaDB sql/log_event.h.
 *
 * Common header (all integers little-endian):
 * | off | size | field                                                |
 * |-----|------|------------------------------------------------------|
 * |   0 |    4 | timestamp (seconds since epoch; 0 for fake events)   |
 * |   4 |    1 | type code                                            |
 * |   5 |    4 | server_id                                            |
 * |   9 |    4 | event_size (header + body + 4-byte CRC if any)       |
 * |  13 |    4 | log_pos: file offset of the end of this event        |
 * |  17 |    2 | flags (TR_EVF_*)                                     |
 */
#ifndef TR_PROTOCOL_BINLOG_EVENT_H
#define TR_PROTOCOL_BINLOG_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/defs.h"

/* Output flavour: one file set and one stream format per flavour. */
typedef enum {
    TR_FLAVOR_MYSQL = 0,
    TR_FLAVOR_MARIADB = 1,
} tr_flavor_t;
#define TR_FLAVOR_COUNT 2
/* "mysql" / "mariadb" */
const char *tr_flavor_name(tr_flavor_t f);

#define TR_BINLOG_MAGIC_LEN 4
extern const uint8_t tr_binlog_magic[TR_BINLOG_MAGIC_LEN]; /* FE 62 69 6E */

#define TR_EVT_HEADER_LEN 19
#define TR_EVT_CRC_LEN    4

/* Event type codes. */
enum {
    TR_EVT_QUERY = 2,
    TR_EVT_STOP = 3,
    TR_EVT_ROTATE = 4,
    TR_EVT_FORMAT_DESCRIPTION = 15,
    TR_EVT_XID = 16,
    TR_EVT_TABLE_MAP = 19,
    TR_EVT_WRITE_ROWS_V1 = 23,
    TR_EVT_UPDATE_ROWS_V1 = 24,
    TR_EVT_DELETE_ROWS_V1 = 25,
    TR_EVT_HEARTBEAT = 27,
    TR_EVT_ROWS_QUERY = 29,
    TR_EVT_WRITE_ROWS = 30,
    TR_EVT_UPDATE_ROWS = 31,
    TR_EVT_DELETE_ROWS = 32,
    TR_EVT_GTID = 33,
    TR_EVT_ANONYMOUS_GTID = 34,
    TR_EVT_PREVIOUS_GTIDS = 35,
    TR_EVT_HEARTBEAT_V2 = 41,
    TR_EVT_MARIA_ANNOTATE_ROWS = 160,
    TR_EVT_MARIA_BINLOG_CHECKPOINT = 161,
    TR_EVT_MARIA_GTID = 162,
    TR_EVT_MARIA_GTID_LIST = 163,
};

/* Header flags. */
enum {
    TR_EVF_BINLOG_IN_USE = 0x0001,
    TR_EVF_THREAD_SPECIFIC = 0x0004,
    TR_EVF_SUPPRESS_USE = 0x0008,
    TR_EVF_ARTIFICIAL = 0x0020,
    TR_EVF_RELAY_LOG = 0x0040,
    TR_EVF_IGNORABLE = 0x0080,
};

/* Rows event flags (post-header). */
enum {
    TR_ROWS_STMT_END = 0x0001,
    TR_ROWS_NO_FK_CHECKS = 0x0002,
    TR_ROWS_RELAXED_UNIQUE = 0x0004,
    TR_ROWS_COMPLETE = 0x0008,
};

typedef struct {
    uint32_t timestamp;
    uint8_t type;
    uint32_t server_id;
    uint32_t event_size; /* whole event including CRC */
    uint32_t log_pos;
    uint16_t flags;
} tr_evt_header_t;

/*
 * Decodes the common header at p. Returns TR_EVT_HEADER_LEN, TR_EINCOMPLETE
 * if len < 19, or TR_EMALFORMED (event_size < 19) with *why set.
 */
ssize_t tr_evt_header_decode(const uint8_t *p, size_t len, tr_evt_header_t *out, const char **why);

/*
 * Checks the trailing CRC32 of one complete event (ev[0..len), len = event_size).
 * A FORMAT_DESCRIPTION is checked as if TR_EVF_BINLOG_IN_USE were clear.
 * Returns 0 or TR_ECHECKSUM / TR_EMALFORMED.
 */
int tr_evt_check_crc(const uint8_t *ev, size_t len);

/* Rewrites the CRC32 of one complete event in place (after patching header fields). */
void tr_evt_update_crc(uint8_t *ev, size_t len);

/*
 * Event writer: appends events to out. base_pos is the binlog-file offset at
 * which out->data[base_len] will be written, so each event's log_pos is
 * base_pos + (end of event in out) - base_len.
 */
typedef struct {
    tr_buf_t *out;      /* borrows */
    uint64_t base_pos;  /* file offset of out->data[base_len] */
    size_t base_len;    /* out->len when the writer was initialised */
    uint32_t server_id; /* header server_id */
    uint32_t timestamp; /* header timestamp for the next events (seconds) */
    bool has_crc;       /* append CRC32 to each event */
    tr_flavor_t flavor;
    size_t ev_start;    /* internal: offset in out of the event being built */
} tr_evt_writer_t;

void tr_evt_writer_init(tr_evt_writer_t *w, tr_buf_t *out, uint64_t file_pos, tr_flavor_t flavor,
                        uint32_t server_id, bool has_crc);
/* File offset at which the next event will start. */
uint64_t tr_evt_writer_pos(const tr_evt_writer_t *w);
/* Between events only: the next byte appended to out (out->len now) lands at
 * file offset file_pos. A caller streaming a transaction stores out's bytes,
 * resets out and rebases at the new file end. */
void tr_evt_writer_rebase(tr_evt_writer_t *w, uint64_t file_pos);

/* Low level: start an event (writes a placeholder header) and finish it
 * (fills event_size, log_pos, appends CRC). Bodies are appended to w->out
 * between the two calls. */
void tr_evt_begin(tr_evt_writer_t *w, uint8_t type, uint16_t flags);
void tr_evt_end(tr_evt_writer_t *w);

/* FORMAT_DESCRIPTION for the writer's flavour (MySQL 8.0.26+ post-header
 * table with 41 types, or MariaDB 10.11 with 171 types), created = create_ts. */
void tr_evt_put_fde(tr_evt_writer_t *w, const char *server_version, uint32_t create_ts);

/* MySQL GTID interval of one source uuid: [start, end) (end exclusive). */
typedef struct {
    uint64_t start;
    uint64_t end;
} tr_gno_interval_t;

/* PREVIOUS_GTIDS (35) holding { uuid : intervals } (n may be 0: empty set, 8-byte body). */
void tr_evt_put_previous_gtids(tr_evt_writer_t *w, const uint8_t uuid[16],
                               const tr_gno_interval_t *intervals, size_t n);

typedef struct {
    bool anonymous;               /* ANONYMOUS_GTID (34) instead of GTID (33) */
    uint8_t flags;                /* 1 = FLAG_MAY_HAVE_SBR (set for DDL) */
    uint8_t uuid[16];             /* source uuid (ignored when anonymous) */
    uint64_t gno;                 /* >= 1 (ignored when anonymous) */
    int64_t last_committed;       /* logical clock */
    int64_t sequence_number;      /* logical clock, > last_committed */
    uint64_t commit_ts_us;        /* immediate_commit_timestamp, microseconds since epoch */
    uint64_t transaction_length;  /* 0 = omit the length and server version tail */
    uint32_t server_version;      /* e.g. 80036 (written with transaction_length) */
} tr_gtid_event_t;
void tr_evt_put_gtid(tr_evt_writer_t *w, const tr_gtid_event_t *g);

typedef struct {
    uint32_t thread_id;
    uint32_t exec_time;
    uint16_t error_code;
    const char *db;   /* default schema; may be "" */
    size_t db_len;
    const char *sql;  /* statement text (not NUL-terminated necessarily) */
    size_t sql_len;
    uint16_t header_flags;  /* e.g. TR_EVF_SUPPRESS_USE for CREATE/DROP DATABASE */
    uint16_t charset_client;   /* Q_CHARSET triple, collation ids (0 = omit Q_CHARSET) */
    uint16_t collation_conn;
    uint16_t collation_server;
    uint64_t sql_mode;
    bool is_ddl;       /* adds the DDL-only status variables */
    uint32_t flags2;   /* Q_FLAGS2 bits (added by the store helper; 0 is the usual value) */
} tr_query_event_t;
/* MariaDB's flags2 bit for explicit_defaults_for_timestamp=1 (MariaDB 10.11 sets it on
 * every query by default; TiDB behaves the same way). The encoder always sets it for
 * TR_FLAVOR_MARIADB; MySQL carries the setting elsewhere and gets flags2 as given. */
#define TR_QF2_MARIA_EXPLICIT_DEFAULTS_FOR_TIMESTAMP 0x01000000u
/* MariaDB's OPTION_NO_CHECK_CONSTRAINT_CHECKS (1 << 15, MariaDB/server sql/sql_priv.h), the
 * session's check_constraint_checks=0, which a MariaDB replica takes from Q_FLAGS2
 * (mariadb-binlog prints it as @@session.check_constraint_checks). */
#define TR_QF2_MARIA_NO_CHECK_CONSTRAINT_CHECKS 0x00008000u
/* QUERY (2) with status vars FLAGS2, SQL_MODE, CATALOG_NZ "std", CHARSET in that order
 * (the order MySQL and MariaDB write them), plus DEFAULT_COLLATION_FOR_UTF8MB4 = 255 last
 * for a MySQL-flavour DDL. */
void tr_evt_put_query(tr_evt_writer_t *w, const tr_query_event_t *q);

void tr_evt_put_xid(tr_evt_writer_t *w, uint64_t xid);

/* ROTATE (4): next file name and position. Artificial (fake) rotates use
 * timestamp 0, log_pos 0 and TR_EVF_ARTIFICIAL: pass artificial = true. */
void tr_evt_put_rotate(tr_evt_writer_t *w, uint64_t next_pos, const char *name, size_t name_len,
                       bool artificial);

/* HEARTBEAT (27): log_pos = pos (u32), body = file name, timestamp 0. */
void tr_evt_put_heartbeat(tr_evt_writer_t *w, uint32_t pos, const char *name, size_t name_len);
/* HEARTBEAT_LOG_EVENT_V2 (41, MySQL 8.0.26+): body = TLVs (lenenc type, lenenc
 * length, value): 1 file name, 2 position (lenenc integer), then 0; log_pos =
 * low 32 bits of pos, timestamp 0. */
void tr_evt_put_heartbeat_v2(tr_evt_writer_t *w, uint64_t pos, const char *name, size_t name_len);

/* ---- MariaDB events (added by the store helper) ---- */

/* MariaDB GTID_EVENT (162) flags2 bits. */
enum {
    TR_MARIA_FL_STANDALONE = 0x01,
    TR_MARIA_FL_GROUP_COMMIT_ID = 0x02,
    TR_MARIA_FL_TRANSACTIONAL = 0x04,
    TR_MARIA_FL_ALLOW_PARALLEL = 0x08,
    TR_MARIA_FL_WAITED = 0x10,
    TR_MARIA_FL_DDL = 0x20,
};

/* MariaDB GTID_EVENT (162): seq_no u64, domain_id u32, flags2 u8, then commit_id u64
 * when flags2 has TR_MARIA_FL_GROUP_COMMIT_ID, else 6 zero bytes. The GTID's
 * server id is the writer's server_id. */
void tr_evt_put_maria_gtid(tr_evt_writer_t *w, uint64_t seq_no, uint32_t domain_id,
                           uint8_t flags2, uint64_t commit_id);

/* One MariaDB GTID: domain-server-seq. */
typedef struct {
    uint32_t domain_id;
    uint32_t server_id;
    uint64_t seq_no;
} tr_maria_gtid_t;

/* MariaDB GTID_LIST (163): u32 count, then count x (domain u32, server u32, seq u64). */
void tr_evt_put_maria_gtid_list(tr_evt_writer_t *w, const tr_maria_gtid_t *gtids, size_t n);

/* MariaDB BINLOG_CHECKPOINT (161): u32 name length + file base name. */
void tr_evt_put_maria_checkpoint(tr_evt_writer_t *w, const char *name, size_t name_len);

/* Column of a TABLE_MAP as the binlog describes it (see rows.h for meta rules). */
typedef struct {
    uint8_t type;        /* binlog type code in TABLE_MAP (TR_MYSQL_TYPE_*) */
    uint16_t meta;       /* metadata value; encoded in 0, 1 or 2 bytes by type */
    bool nullable;
    bool is_unsigned;    /* numeric columns: for the SIGNEDNESS optional metadata */
    uint16_t collation;  /* character columns: collation id (0 = not character) */
    const char *name;    /* column name */
    const char *const *elems; /* ENUM/SET members (n_elems of them), for *_STR_VALUE */
    size_t n_elems;
    uint16_t pk_pos;     /* 1-based position in the primary key; 0 = not a key column */
} tr_col_def_t;

/* TABLE_MAP (19): table_id (48 bits), flags 1, db, table, columns, NULL bitmap,
 * then the optional metadata of binlog_row_metadata=FULL (spec 7.3), in
 * MySQL's order: SIGNEDNESS (numeric columns), DEFAULT_CHARSET (character
 * columns: the most common collation + exceptions), COLUMN_NAME,
 * SET_STR_VALUE, ENUM_STR_VALUE, SIMPLE_PRIMARY_KEY (pk_pos order),
 * ENUM_AND_SET_DEFAULT_CHARSET, and for the MySQL flavour COLUMN_VISIBILITY
 * (all visible; MariaDB 10.11 does not know type 12). A column without a
 * collation counts as utf8mb4_general_ci (45). The MariaDB flavour writes a
 * JSON column (245) as MariaDB's JSON, a LONGTEXT: BLOB (252), metadata 4, a
 * character column with its collation (utf8mb4_bin). */
void tr_evt_put_table_map(tr_evt_writer_t *w, uint64_t table_id, const char *db, size_t db_len,
                          const char *table, size_t table_len, const tr_col_def_t *cols,
                          size_t ncols);

/* TABLE_MAP bodies (the event after its common header) kept for reuse, direct-mapped by
 * table_id: a writer's transactions map the same few tables again and again, and a body is
 * a function of the flavour, table_id, names and columns it was made for. */
#define TR_EVT_TM_CACHE 32
typedef struct {
    tr_buf_t body;
    bool valid;
    tr_flavor_t flavor;
    uint64_t table_id;
    const tr_col_def_t *cols;
    size_t ncols;
    size_t db_len, table_len;
    char db[255], table[255];
} tr_evt_tm_entry_t;
typedef struct {
    tr_evt_tm_entry_t e[TR_EVT_TM_CACHE];
} tr_evt_tm_cache_t;

void tr_evt_tm_cache_init(tr_evt_tm_cache_t *c);
void tr_evt_tm_cache_cleanup(tr_evt_tm_cache_t *c);

/* tr_evt_put_table_map, taking the body from c when it holds one for these arguments (the
 * same cols array: a table version's columns never change under it), else storing the one
 * it makes. The bytes written are the same either way. */
void tr_evt_put_table_map_cached(tr_evt_writer_t *w, tr_evt_tm_cache_t *c, uint64_t table_id,
                                 const char *db, size_t db_len, const char *table,
                                 size_t table_len, const tr_col_def_t *cols, size_t ncols);

/*
 * Rows events v2 (30/31/32), or v1 (23/24/25) when type is a v1 code.
 * tr_evt_rows_begin writes header + post-header + column count + the
 * "columns present" bitmap(s) with every column present; the caller then
 * appends row images with rows.h; tr_evt_rows_end sets the flags (pass
 * TR_ROWS_STMT_END on the last rows event of a statement) and finishes.
 */
void tr_evt_rows_begin(tr_evt_writer_t *w, uint8_t type, uint64_t table_id, size_t ncols);
void tr_evt_rows_end(tr_evt_writer_t *w, uint16_t rows_flags);
/* Bytes appended to the current rows event so far (to split events by size). */
size_t tr_evt_rows_size(const tr_evt_writer_t *w);

#endif
