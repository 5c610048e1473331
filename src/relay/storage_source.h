/*
 * The TiCDC storage sink as an input: a scanner of the directory a storage changefeed
 * writes (file://, NFS or a mounted bucket), shared/spec/ticdc.md section 2:
 *
 *   metadata                                           {"checkpoint-ts":C}
 *   <schema>/meta/schema_<ver>_<crc10>.json            database-level DDL
 *   <schema>/<table>/meta/schema_<ver>_<crc10>.json    one table version (Query: its DDL)
 *   <schema>/<table>/<ver>/[<physical id>/][<date>/]CDC<n>.json          classic
 *   <schema>/<table>/<ver>/[<physical id>/][<date>/]CDC_<dispatcher>_<n>.json
 *                                                      new architecture, table across nodes
 *   <data dir>/meta/CDC.index, meta/CDC_<dispatcher>.index    the last file name written
 *   <table id>/<ver>/[<date>/]CDC...json, <table id>/meta/schema_...   use-table-id-as-path
 *
 * A *stream* is one data directory without its date component (plus the dispatcher of
 * new-architecture file names): one table version (one physical partition) written by one
 * table sink in commit_ts order, file after file ((date, number) order), a TiCDC restart
 * repeating rows in later files. Its *key* is that path ("db/t/446.../2026-01-02" ->
 * "db/t/446..."; "#<dispatcher>" appended). Names with a dash (YYYY-MM, YYYY-MM-DD) are
 * dates; a four-digit name is a year where the depth says so (3 or 5 levels down), else a
 * physical partition id (then a year directory becomes a stream of its own, which is only
 * weaker de-duplication, never a lost row).
 *
 * Lines: canal-json, one per line, CRLF (or LF) terminated. A line without its terminator
 * is never handed out (a file still being written, in place); a file still being written
 * is always the stream's last one, so a partial tail is skipped (with a warning) only
 * when a later file exists. A file number missing between two present ones (TiCDC died
 * between its index and its data file, and its restart repeats those rows later) is
 * skipped with a warning; the index file names files a stale directory listing misses.
 *
 * The name, metadata, schema-file and position parsers are pure (no I/O, no logging) and
 * unit-tested (tests/unit/test_storage_source.c); the scanner reads the directory. It is
 * the only file of src/relay that reads TiCDC's files (tests/tools/check_layering.sh).
 * Threads: a scanner belongs to one thread (the storage poller); the parsers on any.
 * Short form of the module name: tr_storage_.
 */
#ifndef TR_RELAY_STORAGE_SOURCE_H
#define TR_RELAY_STORAGE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/defs.h"

/* ---------------------------------------------------------------- names (pure) */

#define TR_STORAGE_DISPATCHER_MAX 64 /* bytes of a dispatcher id (two u64 in decimal: 40) */
#define TR_STORAGE_DATE_MAX       16

typedef enum {
    TR_STORAGE_EXT_JSON = 1, /* canal-json */
    TR_STORAGE_EXT_CSV = 2,  /* the csv protocol: tirelay cannot read it */
} tr_storage_ext_t;

/* A data file's name, parsed. */
typedef struct {
    uint64_t number; /* the file number */
    unsigned width;  /* digits it was written with */
    tr_storage_ext_t ext;
    char dispatcher[TR_STORAGE_DISPATCHER_MAX + 1]; /* "" for classic names */
} tr_storage_data_name_t;

/* "CDC<digits>.json|.csv" or "CDC_<dispatcher>_<digits>.json|.csv" (the
 * dispatcher: digits, letters, '-'). Anything else, temporary files
 * ("name.tmp.<uuid>") included, is not a data file: false. */
bool tr_storage_parse_data_name(const char *name, tr_storage_data_name_t *out);
/* The name of data file n in the form of like (same width, dispatcher and
 * extension), into buf; false when it does not fit. */
bool tr_storage_data_name(const tr_storage_data_name_t *like, uint64_t n, char *buf, size_t cap);
/* "CDC.index" (dispatcher "") or "CDC_<dispatcher>.index": true with the
 * dispatcher. */
bool tr_storage_parse_index_name(const char *name, char *dispatcher, size_t cap);
/* An index file's content: one data file name, then a newline (or none). true
 * with it. */
bool tr_storage_parse_index(const uint8_t *p, size_t len, tr_storage_data_name_t *out);
/* "schema_<version>_<ten digits>.json": true with the table version and the
 * checksum. */
bool tr_storage_parse_schema_name(const char *name, uint64_t *version, uint32_t *checksum);

typedef enum {
    TR_STORAGE_DATE_NONE = 0, /* not a date */
    TR_STORAGE_DATE_YEAR,     /* YYYY */
    TR_STORAGE_DATE_MONTH,    /* YYYY-MM */
    TR_STORAGE_DATE_DAY,      /* YYYY-MM-DD */
} tr_storage_date_t;
/* What kind of date directory name is (digits and dashes in those shapes only;
 * month 01-12, day 01-31). */
tr_storage_date_t tr_storage_date_kind(const char *name);

/* ---------------------------------------------------------------- file contents (pure) */

/* The metadata file ({"checkpoint-ts":C}, other keys ignored): 0 with
 * *checkpoint, or TR_EMALFORMED with *why (not JSON, no checkpoint-ts, not a
 * positive integer). */
int tr_storage_parse_metadata(const uint8_t *p, size_t len, int64_t *checkpoint,
                              const char **why) TR_MUSTCHECK;

/* The fields of a schema file tirelay uses (tiflow pkg/sink/cloudstorage/
 * table_definition.go TableDefinition). Strings owned
 * (tr_storage_schema_cleanup). */
typedef struct {
    char *schema;          /* "Schema" */
    char *table;           /* "Table"; "" for a database-level file */
    char *query;           /* "Query"; "" when written only because a table started */
    int64_t table_version; /* "TableVersion": the DDL's commit_ts */
    int64_t type;          /* "Type": the DDL's action (TiDB model.ActionType) */
} tr_storage_schema_t;

/* Parses a schema file: 0, or TR_EMALFORMED with *why (not JSON, a field
 * missing or of the wrong type, TableVersion not positive). On error nothing is
 * left to clean up. */
int tr_storage_parse_schema(const uint8_t *p, size_t len, tr_storage_schema_t *out,
                            const char **why) TR_MUSTCHECK;
void tr_storage_schema_cleanup(tr_storage_schema_t *s);
/* The canal-json DDL message TiCDC would send over Kafka for s (isDdl true,
 * database, table, sql = Query, _tidb.commitTs = TableVersion), so that the
 * Kafka path's reader takes it. Returns owned text (tr_free) of *len bytes. */
char *tr_storage_ddl_message(const tr_storage_schema_t *s, size_t *len);

/* ---------------------------------------------------------------- positions (pure) */

/* Where a stream is read up to: the file ("[<date>/]<name>", "" before the
 * first one) and the lines and bytes of it consumed. */
typedef struct {
    char file[TR_STORAGE_DATE_MAX + TR_STORAGE_DISPATCHER_MAX + 64];
    int64_t line;
    int64_t byte;
} tr_storage_cursor_t;

typedef struct {
    char *key; /* owned */
    tr_storage_cursor_t cur;
} tr_storage_pos_stream_t;

/* A stored position: the checkpoint every row at or below which was taken, and
 * the streams' cursors (a stream not listed starts at its first file). */
typedef struct {
    int64_t checkpoint;
    size_t n;
    tr_storage_pos_stream_t *streams; /* owned */
} tr_storage_position_t;

/*
 * The text stored with the binlog index:
 *   ticdc-storage v1 checkpoint=<C> streams=<n> dir=<root>
 *   <key> <file or -> <line> <byte>          (one per stream, keys in order)
 * Keys, files and the root are %-escaped (bytes <= 0x20, '%', 0x7f). Returns
 * owned text.
 */
char *tr_storage_position_format(const char *root, const tr_storage_position_t *p);
/* Parses it back: 0, or TR_ECONFIG with *why (another input's position) or
 * TR_ECORRUPT (damaged). On success the root it names goes to root_out (escapes
 * undone; may be NULL). */
int tr_storage_position_parse(const char *text, tr_storage_position_t *out, char *root_out,
                              size_t root_cap, const char **why) TR_MUSTCHECK;
void tr_storage_position_cleanup(tr_storage_position_t *p);

/* ---------------------------------------------------------------- the scanner (I/O) */

typedef struct tr_storage_source tr_storage_source_t;

/* Hooks for what the scanner decides but does not log (called on the scanner's
 * thread): warn(arg, message) for a skipped file or line. */
typedef struct {
    void (*warn)(void *arg, const char *message);
    void *arg;
} tr_storage_hooks_t;

/* A scanner of root (borrows; copied), streams starting at their first file.
 * Returns owned (tr_storage_source_free). */
tr_storage_source_t *tr_storage_source_new(const char *root, const tr_storage_hooks_t *hooks);
void tr_storage_source_free(tr_storage_source_t *s);

/* Starts the listed streams at the stored cursors (before the first scan). */
void tr_storage_source_resume(tr_storage_source_t *s, const tr_storage_position_t *p);

/* Reads <root>/metadata: 1 with *checkpoint, 0 when there is none yet, or a
 * negative code with a reason in err (unreadable: -errno; TR_EMALFORMED). */
int tr_storage_source_checkpoint(tr_storage_source_t *s, int64_t *checkpoint, char *err,
                                 size_t cap) TR_MUSTCHECK;

/*
 * Lists the directory: new streams (at their first file), each stream's data
 * files, the schema files. Read the metadata first: every row at or below the
 * checkpoint read is then in a listed file (spec 2.3). Returns 0, or a negative
 * code with err (a directory that cannot be read, a csv data file): the listing
 * is then incomplete and must not be used (the cursors did not move).
 */
int tr_storage_source_scan(tr_storage_source_t *s, char *err, size_t cap) TR_MUSTCHECK;

/* A real DDL of a schema file (its Query not empty). */
typedef struct {
    char path[1024]; /* relative to the root */
    tr_storage_schema_t def;
} tr_storage_ddl_t;

/* The DDLs of schema files with after < TableVersion <= upto, in (TableVersion,
 * path) order, one per (TableVersion, Query) (should one DDL's text stand in
 * two files). Returns 0 with *out (owned: tr_storage_ddls_free), or a negative
 * code with err (a file unreadable or damaged). */
int tr_storage_source_ddls(tr_storage_source_t *s, int64_t after, int64_t upto,
                           tr_storage_ddl_t **out, size_t *n, char *err, size_t cap) TR_MUSTCHECK;
void tr_storage_ddls_free(tr_storage_ddl_t *d, size_t n);

/* Streams, in key order (indexes valid until the next scan). */
size_t tr_storage_source_streams(const tr_storage_source_t *s);
const char *tr_storage_stream_key(const tr_storage_source_t *s, size_t i);
/* "schema.table" of a stream's path ("<table id>" in the table-id layout), into
 * buf. */
void tr_storage_stream_table(const tr_storage_source_t *s, size_t i, char *buf, size_t cap);
/* Whether the last scan saw the stream (a stored one may be gone). */
bool tr_storage_stream_seen(const tr_storage_source_t *s, size_t i);

/* One line at a stream's cursor. */
typedef struct {
    const uint8_t *p; /* view without the terminator; valid until the next peek or take */
    size_t len;
    const char *file; /* relative to the root; valid until the next peek, take or rest */
    int64_t line;     /* 1-based line number in file */
} tr_storage_line_t;

/*
 * The complete line at stream i's cursor, without moving it: 1 with *out, 0
 * when there is none now (the stream's end so far, a partial last line, a file
 * the index names that is not there yet), or a negative code with err (I/O;
 * TR_ETOOBIG: a line over max_line bytes).
 */
int tr_storage_stream_peek(tr_storage_source_t *s, size_t i, size_t max_line,
                           tr_storage_line_t *out, char *err, size_t cap) TR_MUSTCHECK;
/* Moves stream i's cursor past the line peek returned. */
void tr_storage_stream_take(tr_storage_source_t *s, size_t i);
/* spec 2.3: a TiCDC restart writes rows again in later files of the same
 * stream. Whether a row of commit_ts at stream i's cursor repeats one taken:
 * below the last commit_ts taken from the stream, or equal to it and in another
 * file (one table's transaction is in one file with
 * transaction-atomicity=table). When not, it becomes the last one taken. */
bool tr_storage_stream_is_repeat(tr_storage_source_t *s, size_t i, int64_t commit_ts);
/* Remembers every stream's cursor and repeat state (the start of a round; after
 * the scan, which may add streams), and goes back to them, closing the files (a
 * round that could not finish is read again). */
void tr_storage_source_mark(tr_storage_source_t *s);
void tr_storage_source_rewind(tr_storage_source_t *s);
/* Closes the files and frees the read buffers (end of a round). */
void tr_storage_source_rest(tr_storage_source_t *s);

/* The position now: every stream's cursor with checkpoint. Returns owned text
 * (tr_storage_position_format). */
char *tr_storage_source_position(const tr_storage_source_t *s, int64_t checkpoint);

#endif
