/*
 * TiDB schema model: DDL jobs (the JSON TiDB stores in
 * mysql.tidb_ddl_history.job_meta and serves at /ddl/history) and the
 * TableInfo they carry, parsed with jansson into plain C structs, and the
 * mapping of every TiDB column to the MySQL column a replica creates for the
 * same CREATE TABLE (type code, metadata, signedness, collation).
 * Pure codec: no I/O, no logging.
 * Follows shared/spec/tidb-binlog.md sections 7.4 (Job, HistoryInfo with its
 * capitalised keys, TableInfo, ColumnInfo, FieldType) and 8 (type codes and
 * flags), and mysql-replication-source.md section 7 (column metadata).
 */
#ifndef TR_PROTOCOL_TIDB_SCHEMA_H
#define TR_PROTOCOL_TIDB_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/defs.h"
#include "protocol/binlog_event.h"

/* TiDB column type codes (spec section 8); equal to MySQL's. */
enum {
    TR_TIDB_TP_TINY = 1,
    TR_TIDB_TP_SHORT = 2,
    TR_TIDB_TP_LONG = 3,
    TR_TIDB_TP_FLOAT = 4,
    TR_TIDB_TP_DOUBLE = 5,
    TR_TIDB_TP_NULL = 6,
    TR_TIDB_TP_TIMESTAMP = 7,
    TR_TIDB_TP_LONGLONG = 8,
    TR_TIDB_TP_INT24 = 9,
    TR_TIDB_TP_DATE = 10,
    TR_TIDB_TP_DURATION = 11,
    TR_TIDB_TP_DATETIME = 12,
    TR_TIDB_TP_YEAR = 13,
    TR_TIDB_TP_NEWDATE = 14,
    TR_TIDB_TP_VARCHAR = 15,
    TR_TIDB_TP_BIT = 16,
    TR_TIDB_TP_JSON = 0xF5,
    TR_TIDB_TP_NEWDECIMAL = 0xF6,
    TR_TIDB_TP_ENUM = 0xF7,
    TR_TIDB_TP_SET = 0xF8,
    TR_TIDB_TP_TINY_BLOB = 0xF9,
    TR_TIDB_TP_MEDIUM_BLOB = 0xFA,
    TR_TIDB_TP_LONG_BLOB = 0xFB,
    TR_TIDB_TP_BLOB = 0xFC,
    TR_TIDB_TP_VAR_STRING = 0xFD,
    TR_TIDB_TP_STRING = 0xFE,
    TR_TIDB_TP_GEOMETRY = 0xFF,
};

/* FieldType.Flag bits (spec section 8). */
enum {
    TR_TIDB_FLAG_NOT_NULL = 1u << 0,
    TR_TIDB_FLAG_PRI_KEY = 1u << 1,
    TR_TIDB_FLAG_UNSIGNED = 1u << 5,
    TR_TIDB_FLAG_ZEROFILL = 1u << 6,
    TR_TIDB_FLAG_BINARY = 1u << 7,
    TR_TIDB_FLAG_AUTO_INCREMENT = 1u << 9,
    TR_TIDB_FLAG_ON_UPDATE_NOW = 1u << 13,
    TR_TIDB_FLAG_GENERATED = 1u << 23,
};

/* SchemaState / JobState / ActionType values used by the tracker. */
enum {
    TR_TIDB_STATE_DELETE_ONLY = 1,     /* SchemaState */
    TR_TIDB_STATE_PUBLIC = 5,
    TR_TIDB_JOB_DONE = 4,              /* JobState */
    TR_TIDB_JOB_SYNCED = 6,
    TR_TIDB_ACTION_CREATE_SCHEMA = 1,
    TR_TIDB_ACTION_DROP_SCHEMA = 2,
    TR_TIDB_ACTION_CREATE_TABLE = 3,
    TR_TIDB_ACTION_DROP_TABLE = 4,
    TR_TIDB_ACTION_DROP_COLUMN = 6,
    TR_TIDB_ACTION_TRUNCATE_TABLE = 11,
    TR_TIDB_ACTION_RENAME_TABLE = 14,
    TR_TIDB_ACTION_ADD_PARTITION = 19,
    TR_TIDB_ACTION_DROP_PARTITION = 20,
    TR_TIDB_ACTION_CREATE_VIEW = 21,
    TR_TIDB_ACTION_DROP_VIEW = 24,
    TR_TIDB_ACTION_TRUNCATE_PARTITION = 23,
    TR_TIDB_ACTION_MODIFY_SCHEMA_CHARSET = 26,
    TR_TIDB_ACTION_DROP_SEQUENCE = 36,
    TR_TIDB_ACTION_DROP_COLUMNS = 38, /* removed in TiDB v6.2 */
    TR_TIDB_ACTION_EXCHANGE_PARTITION = 42,
    TR_TIDB_ACTION_RENAME_TABLES = 47,
    TR_TIDB_ACTION_CREATE_TABLES = 60,
};

/* Column id of the implicit handle _tidb_rowid. */
#define TR_TIDB_EXTRA_HANDLE_ID (-1)

/* One TiDB column (ColumnInfo + FieldType) and its MySQL image. */
typedef struct {
    int64_t id;          /* ColumnInfo.id: the key in row datums */
    char *name;          /* name.O, NUL-terminated */
    int offset;          /* ColumnInfo.offset */
    int state;           /* SchemaState; only TR_TIDB_STATE_PUBLIC columns are replicated */
    uint8_t tp;          /* FieldType.Tp (TR_TIDB_TP_*) */
    uint32_t flag;       /* FieldType.Flag */
    int flen;            /* FieldType.Flen (-1 = unspecified) */
    int decimal;         /* FieldType.Decimal (scale / fsp; -1 = unspecified) */
    char *charset;       /* FieldType.Charset ("" when absent) */
    char *collate;       /* FieldType.Collate ("" when absent) */
    char **elems;        /* ENUM/SET members */
    size_t n_elems;
    bool is_generated;   /* generated_expr_string non-empty */
    bool is_stored;      /* generated_stored */
    bool is_unsigned;    /* flag & TR_TIDB_FLAG_UNSIGNED */
    bool is_pk;          /* flag & TR_TIDB_FLAG_PRI_KEY */
    bool is_supported;   /* def is valid (type mapped); else see unsupported_why */
    const char *unsupported_why; /* static string when !is_supported */
    tr_col_def_t def;    /* MySQL column for TABLE_MAP (def.name points to name) */
    uint32_t max_bytes;  /* string columns: maximum length in bytes (VARCHAR/CHAR) */
    uint8_t blob_prefix; /* BLOB/TEXT/JSON: length prefix bytes 1..4 */
    bool to_latin1;      /* latin1 string column: TiDB keeps the client's bytes (UTF-8), replicas
                            hold latin1 (tr_rows_latin1_from_utf8) */
    uint8_t pad_char;    /* CHAR/BINARY: the pad byte row images leave out (' ', BINARY 0x00) */
    /* Definition details for the schema catalogue (SHOW, information_schema): */
    char *default_value; /* ColumnInfo.default as text; NULL when null or absent */
    uint8_t *default_bit; /* ColumnInfo.default_bit (BIT columns), decoded; NULL if absent */
    size_t default_bit_len;
    bool default_is_expr; /* default_is_expr: default_value is an expression */
    char *comment;       /* ColumnInfo.comment ("" when absent) */
    char *gen_expr;      /* generated_expr_string ("" when not generated) */
    bool hidden;         /* a hidden column (expression index): not shown */
} tr_tidb_column_t;

/* One column of an index (IndexColumn). */
typedef struct {
    int offset;          /* the column's ColumnInfo.offset */
    int length;          /* prefix length in characters; -1 = the whole column */
} tr_tidb_index_col_t;

/* An index of TableInfo.index_info in public state (IndexInfo). The int primary key of a
 * table with pk_is_handle has no entry (its column carries TR_TIDB_FLAG_PRI_KEY). */
typedef struct {
    char *name;          /* idx_name.O ("PRIMARY" for the primary key) */
    bool is_primary;
    bool is_unique;
    bool is_invisible;
    int type;            /* index_type: 0/1 BTREE, 2 HASH, 3 RTREE */
    char *comment;
    tr_tidb_index_col_t *cols;
    size_t n_cols;
} tr_tidb_index_t;

/* A partition definition (PartitionDefinition). */
typedef struct {
    char *name;          /* name.O */
    char *less_than;     /* RANGE: the less_than values joined with "," (NULL otherwise) */
    char *in_values;     /* LIST: the value lists, "(v1,v2),(v3)" or "v1,v2" (NULL otherwise) */
    char *comment;
} tr_tidb_partition_def_t;

/* TableInfo (the parts the relay needs). */
typedef struct {
    int64_t id;
    char *name;                 /* name.O */
    int64_t schema_id;          /* owning database: set by the schema tracker (job.schema_id) */
    tr_tidb_column_t *cols;     /* in TableInfo order (all states) */
    size_t n_cols;
    size_t *public_idx;         /* indexes into cols of the public columns sorted by offset: */
    size_t n_public;            /* the replicated row image, one entry per replica column */
    tr_col_def_t *public_defs;  /* n_public MySQL column defs in that order (for TABLE_MAP) */
    bool pk_is_handle;
    bool is_common_handle;
    int64_t handle_col_id;      /* pk_is_handle: id of the int PK column; else -1 */
    size_t handle_col;          /* pk_is_handle: index in cols */
    int64_t *pk_col_ids;        /* is_common_handle: PRIMARY index columns in index order */
    size_t n_pk_cols;
    int part_type;              /* partition.type: 0 none, 1 range, 2 hash, 3 list, 4 key */
    int64_t *part_ids;          /* partition.definitions[].id: physical table ids */
    size_t n_parts;
    char *part_expr;            /* partition.expr ("" when partitioned by columns) */
    char *part_columns;         /* partition.columns names joined as "`a`,`b`" ("" if none) */
    tr_tidb_partition_def_t *part_defs; /* n_parts entries, same order as part_ids */
    char *charset;              /* table default charset ("" when absent) */
    char *collate;              /* table default collation ("" when absent) */
    char *comment;              /* table comment */
    char *view_select;          /* view.view_select (views only, else NULL) */
    tr_tidb_index_t *indexes;   /* public indexes of index_info, in TableInfo order */
    size_t n_indexes;
    bool is_view;               /* "view" non-null */
    bool is_sequence;           /* "sequence" non-null */
    int64_t max_col_id;
    uint64_t binlog_table_id;   /* table_id of its TABLE_MAP and rows events: given by the
                                   schema tracker when this version becomes current (0 until
                                   then; relay/schema.h) */
} tr_table_info_t;

/* A DDL job (model.Job) with its HistoryInfo. */
typedef struct {
    int64_t id;
    int type;                   /* ActionType */
    int64_t schema_id;
    int64_t table_id;
    char *schema_name;          /* "" when absent */
    char *table_name;           /* "" when absent */
    int state;                  /* JobState */
    char *query;                /* "" when absent */
    int64_t schema_version;     /* binlog.SchemaVersion (0 = failed job) */
    uint64_t finished_ts;       /* binlog.FinishedTS */
    bool has_db_info;
    int64_t db_id;              /* binlog.DBInfo.id */
    char *db_name;              /* binlog.DBInfo.db_name.O */
    char *db_charset;           /* binlog.DBInfo.charset ("" when absent) */
    char *db_collate;           /* binlog.DBInfo.collate ("" when absent) */
    tr_table_info_t *table_info; /* binlog.TableInfo or NULL */
    tr_table_info_t **multi_infos; /* binlog.MultipleTableInfos (rename/create tables) */
    size_t n_multi;
    int64_t *new_schema_ids;    /* rename tables: raw_args[1], one per multi_infos entry */
    size_t n_new_schema_ids;
} tr_ddl_job_t;

/*
 * Parses a DDL job JSON into out (caller storage; free the contents with
 * tr_ddl_job_cleanup, also after an error). Returns 0 or TR_EMALFORMED with
 * *why (static). A TableInfo whose columns cannot be mapped still parses:
 * such columns have is_supported false.
 */
int tr_ddl_job_parse(const char *json, size_t len, tr_ddl_job_t *out, const char **why) TR_MUSTCHECK;
void tr_ddl_job_cleanup(tr_ddl_job_t *job);

/*
 * Parses a TableInfo JSON object text (e.g. from /schema/{db}/{table}).
 * Returns owned (free with tr_table_info_free) or NULL with *why.
 */
tr_table_info_t *tr_table_info_parse(const char *json, size_t len, const char **why);
void tr_table_info_free(tr_table_info_t *t);

/* Column by TiDB column id; NULL if unknown. */
const tr_tidb_column_t *tr_table_info_col(const tr_table_info_t *t, int64_t col_id);

/* Maximum bytes per character of a TiDB charset name (utf8mb4 4, utf8 3, latin1/binary/ascii 1;
 * unknown: 4). */
uint32_t tr_tidb_charset_maxlen(const char *charset);
/* MySQL/MariaDB collation id of a collation name (utf8mb4_bin 46, ...); 0 if unknown. */
uint16_t tr_tidb_collation_id(const char *collate);

#endif
