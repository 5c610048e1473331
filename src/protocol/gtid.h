/*
 * GTIDs of both flavours.
 *
 * MySQL GTID sets ("uuid:1-5:7,uuid2[:tag]:3"): parse the text form, format
 * it the way MySQL prints it, encode/decode the binary form used by
 * COM_BINLOG_DUMP_GTID and the PREVIOUS_GTIDS event body, and the set
 * operations a source needs (contains, subset, union, subtract).
 * MariaDB GTID lists ("domain-server-seq,..."): parse and format.
 * Event-body peeks: the GTID of a MySQL GTID_LOG_EVENT (33) and of a MariaDB
 * GTID_EVENT (162), the list of a MariaDB GTID_LIST (163).
 *
 * Pure codec: no I/O, no logging. A tr_gtid_set_t owns its storage (it grows
 * with tr_realloc, like tr_buf_t); nothing here runs per binlog event except
 * the peeks, which do not allocate.
 * Follows shared/spec/mysql-replication-source.md 4.3 and 6.9-6.10
 * (MySQL sql/rpl_gtid_set.cc encode/decode/to_string, libbinlogevents
 * control_events.cpp; MariaDB sql/rpl_gtid.cc, sql/log_event.cc peek).
 *
 * Binary GTID set (all integers little-endian):
 * | size | field                                                           |
 * |------|-----------------------------------------------------------------|
 * |    8 | n_sids; tagged format (8.3+): byte0 = 0x01, bytes 1-6 = n_sids,  |
 * |      | byte 7 = 0x01                                                   |
 * |   16 | per sid: uuid (binary, text order)                              |
 * |  1+n | tagged format only: u8 (tag_len << 1), tag bytes                |
 * |    8 | n_intervals                                                     |
 * |   16 | per interval: start u64, end u64 (end exclusive)                |
 */
#ifndef TR_PROTOCOL_GTID_H
#define TR_PROTOCOL_GTID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/defs.h"
#include "protocol/binlog_event.h"

#define TR_GTID_TAG_MAX     32   /* MySQL's maximum tag length */
#define TR_GTID_MAX_SIDS    4096 /* sanity bound on decoded input */
#define TR_GTID_MAX_IVS     (1u << 20)
#define TR_GTID_MAX_GNO     INT64_MAX /* GNOs are 1 .. 2^63-1 */

typedef struct {
    uint8_t uuid[16];
    char tag[TR_GTID_TAG_MAX + 1]; /* "" = untagged; lower case */
    tr_gno_interval_t *iv;         /* sorted, disjoint, non-adjacent; [start, end) */
    size_t n;
    size_t cap;
} tr_gtid_sid_t;

typedef struct {
    tr_gtid_sid_t *sids; /* sorted by (uuid, tag) */
    size_t n;
    size_t cap;
} tr_gtid_set_t;

void tr_gtid_set_init(tr_gtid_set_t *s);
void tr_gtid_set_cleanup(tr_gtid_set_t *s);
/* Removes every GTID (keeps allocations). */
void tr_gtid_set_clear(tr_gtid_set_t *s);

/* Adds [start, end) of uuid:tag (tag NULL or "" = untagged; start >= 1, end > start). */
void tr_gtid_set_add(tr_gtid_set_t *s, const uint8_t uuid[16], const char *tag, uint64_t start,
                     uint64_t end);
bool tr_gtid_set_contains(const tr_gtid_set_t *s, const uint8_t uuid[16], const char *tag,
                          uint64_t gno);
/* True when a is a subset of b. */
bool tr_gtid_set_is_subset(const tr_gtid_set_t *a, const tr_gtid_set_t *b);
bool tr_gtid_set_is_empty(const tr_gtid_set_t *s);
/* dst = dst U src. */
void tr_gtid_set_union(tr_gtid_set_t *dst, const tr_gtid_set_t *src);
/* dst = dst \ src. */
void tr_gtid_set_subtract(tr_gtid_set_t *dst, const tr_gtid_set_t *src);
/* The untagged (or tagged) sid entry of uuid; NULL when absent. Returns view. */
const tr_gtid_sid_t *tr_gtid_set_find(const tr_gtid_set_t *s, const uint8_t uuid[16],
                                      const char *tag);

/*
 * Parses the text form into s (which is cleared first): comma-separated
 * "uuid(:tag|:N|:N-M)*" items, whitespace (incl. newlines) around items, an
 * empty string is the empty set. Returns 0 or TR_EMALFORMED with *why.
 */
int tr_gtid_set_parse(tr_gtid_set_t *s, const char *text, size_t len, const char **why);

/*
 * Formats s as MySQL does (lower-case uuids, "uuid:1-5:7", tags as
 * "uuid:tag:1-3", sids joined by sep, e.g. ",\n" like SHOW MASTER STATUS or ",").
 * Writes at most cap bytes including a NUL; returns the full length (without
 * NUL) as snprintf does.
 */
size_t tr_gtid_set_format(const tr_gtid_set_t *s, const char *sep, char *out, size_t cap);

/*
 * Decodes the binary form (both the classic and the tagged format) from
 * p[0..len) into s (cleared first). Returns the bytes consumed, or
 * TR_EMALFORMED / TR_ETOOBIG with *why (truncation is malformed: the caller
 * always has the whole field).
 */
ssize_t tr_gtid_set_decode(const uint8_t *p, size_t len, tr_gtid_set_t *s, const char **why);

/* Appends the binary form: classic unless a sid has a tag (then tagged). */
void tr_gtid_set_encode(const tr_gtid_set_t *s, tr_buf_t *out);
/* Bytes tr_gtid_set_encode appends. */
size_t tr_gtid_set_encoded_len(const tr_gtid_set_t *s);

/* 36-char text form of a uuid (lower case) into out[37]. */
void tr_gtid_uuid_format(const uint8_t uuid[16], char out[37]);

/* ---- MariaDB GTID lists ---- */

/*
 * Parses "d-s-n[,d-s-n...]" (whitespace around items allowed; "" = empty)
 * into out[0..cap). Two entries in one domain are an error, as in MariaDB's
 * slave_connection_state::load. Returns 0 with *n set, or TR_EMALFORMED /
 * TR_ETOOBIG (more than cap entries) with *why.
 */
int tr_maria_gtid_list_parse(const char *text, size_t len, tr_maria_gtid_t *out, size_t cap,
                             size_t *n, const char **why);
/* Formats "d-s-n,d-s-n" (snprintf semantics). */
size_t tr_maria_gtid_list_format(const tr_maria_gtid_t *g, size_t n, char *out, size_t cap);

/* ---- event peeks (ev = one complete event incl. the 19-byte header) ---- */

/* MySQL GTID_LOG_EVENT (33): sid and gno. Returns 0 or TR_EMALFORMED. */
int tr_gtid_peek_mysql(const uint8_t *ev, size_t len, uint8_t uuid[16], uint64_t *gno,
                       const char **why);
/* MariaDB GTID_EVENT (162): domain, header server_id, seq_no, flags2. */
int tr_gtid_peek_maria(const uint8_t *ev, size_t len, tr_maria_gtid_t *g, uint8_t *flags2,
                       const char **why);

/* True when a QUERY event (2) is "COMMIT" or "ROLLBACK" (the end of a MariaDB
 * event group; Query_log_event::peek_is_commit_rollback). has_crc: the event
 * ends with a 4-byte checksum. */
bool tr_gtid_peek_is_commit(const uint8_t *ev, size_t len, bool has_crc);

#endif
