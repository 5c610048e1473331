/*
 * MariaDB's replacement events for dump clients that do not understand
 * MariaDB-only events. A MariaDB primary reads the client's
 * @mariadb_slave_capability (MARIA_SLAVE_CAPABILITY_*, sql/log_event.h; unset
 * = 0, what MySQL replicas and most CDC libraries send) and, per event it is
 * about to send (sql/sql_repl.cc send_event_to_slave), leaves the event
 * alone, leaves it out of the stream, or rewrites it in place into an event
 * of the same length, so that every log_pos the client sees still counts the
 * primary's file bytes:
 *
 * - ANNOTATE_ROWS (160): as is when the dump asked for it (flag 0x02); else
 *   left out for capability >= 2, as is for 1, a dummy below 1.
 * - BINLOG_CHECKPOINT (161): as is for capability >= 3; else left out for 2,
 *   a dummy below 2.
 * - GTID (162): as is for capability >= 4; else a BEGIN QUERY, but a
 *   standalone GTID (FL_STANDALONE: a DDL, no COMMIT follows) is left out
 *   for 2..3 and a dummy below 2.
 * - GTID_LIST (163): as is for capability >= 4; else left out for 2..3, a
 *   dummy below 2.
 * Every other event is sent as is. Rewritten events keep
 * timestamp, server_id, event_size and log_pos; their flags lose
 * LOG_EVENT_THREAD_SPECIFIC_F (0x04) and gain LOG_EVENT_SUPPRESS_USE_F (0x08);
 * with CRC32 the checksum is recomputed over the new bytes.
 *
 * Replacement bodies (Query_log_event::dummy_event and begin_event,
 * sql/log_event_server.cc; data_len = event_size without the CRC). QUERY (2),
 * for a dummy of data_len >= 34 and for BEGIN:
 * | off    | size | field                                                    |
 * |--------|------|----------------------------------------------------------|
 * |     19 |    4 | thread_id = 0                                            |
 * |     23 |    4 | exec_time = 0                                            |
 * |     27 |    1 | db_len = 0                                               |
 * |     28 |    2 | error_code = 0                                           |
 * |     30 |    2 | status_vars_len s: 0; 2 for a BEGIN of data_len 40       |
 * |     32 |    s | Q_TIME_ZONE_CODE (5), length 0: an empty time zone       |
 * | 32 + s |    1 | 0 (the empty db name's terminator)                       |
 * | 33 + s |  ... | "BEGIN" (a GTID of data_len 38 or 40), or the dummy text |
 * The dummy text "# Dummy event replacing event type N that slave cannot
 * handle." is cut, or padded with spaces, to data_len - 33 bytes.
 * USER_VAR (14), the dummy for 25 <= data_len < 34:
 * | off    | size | field                                                    |
 * |--------|------|----------------------------------------------------------|
 * |     19 |    4 | name_len n = data_len - 24                               |
 * |     23 |    n | the first n bytes of "!dummyvar"                         |
 * | 23 + n |    1 | is_null = 1                                              |
 * A GTID event of another length, or a dummy for data_len < 25, is an error
 * (MariaDB fails the dump with the texts returned in *why).
 *
 * Pure codec: no I/O, no logging, no allocation. Thread: any.
 */
#ifndef TR_PROTOCOL_MARIA_COMPAT_H
#define TR_PROTOCOL_MARIA_COMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/defs.h"

/* MARIA_SLAVE_CAPABILITY_* (MariaDB sql/log_event.h): each level implies the lower ones. */
enum {
    TR_MARIA_CAP_UNKNOWN = 0,           /* MySQL replicas, old MariaDB, most CDC libraries */
    TR_MARIA_CAP_ANNOTATE = 1,          /* understands ANNOTATE_ROWS */
    TR_MARIA_CAP_TOLERATE_HOLES = 2,    /* copes with events left out of the stream */
    TR_MARIA_CAP_BINLOG_CHECKPOINT = 3, /* understands BINLOG_CHECKPOINT */
    TR_MARIA_CAP_GTID = 4,              /* understands GTID and GTID_LIST (MariaDB >= 10.0.1) */
};

/* What the dump does with one event (tr_maria_compat_rewrite). */
typedef enum {
    TR_MCOMPAT_SEND = 0,      /* unchanged */
    TR_MCOMPAT_REWRITTEN = 1, /* rewritten in place, same length: send it */
    TR_MCOMPAT_OMIT = 2,      /* leave it out of the stream */
} tr_mcompat_act_t;

/*
 * The capability a MariaDB primary reads from the text of
 * @mariadb_slave_capability (NULL = unset or NULL: 0), as its string to
 * longlong to int: leading spaces and tabs, a sign and decimal digits, the
 * rest ignored ("4x" is 4, "3.6" is 3, "abc" is 0); a positive value
 * saturates at 2^64 - 1, a negative one at -2^63, and the result is cut to
 * 32 bits ("4294967300" is 4, "99999999999999999999" is -1). Thread: any.
 */
int tr_maria_compat_capability(const char *value);

/*
 * Applies MariaDB's rule to one complete event ev[0..len) (len = its
 * event_size; has_crc = the stream's events end with a CRC32) for a client of
 * this capability; send_annotate is dump flag 0x02
 * (BINLOG_SEND_ANNOTATE_ROWS_EVENT). Returns a tr_mcompat_act_t (ev is
 * changed only for TR_MCOMPAT_REWRITTEN), or TR_EMALFORMED with *why set
 * (a static string, MariaDB's own text where MariaDB fails the same way):
 * len is shorter than a header; for the four types above, the header's
 * event_size is not len or len leaves no room for the CRC, a GTID event to
 * rewrite is neither 38 nor 40 bytes without its CRC, or an event to replace
 * by a dummy has fewer than 25 bytes without its CRC. Other event types are
 * TR_MCOMPAT_SEND without a look past their type. ev is unchanged on error.
 * Borrows ev.
 */
int tr_maria_compat_rewrite(uint8_t *ev, size_t len, int capability, bool send_annotate,
                            bool has_crc, const char **why) TR_MUSTCHECK;

/*
 * The two rewrites on their own (Query_log_event::dummy_event and
 * begin_event): replace ev[0..len) in place by the dummy for its type, or by
 * a BEGIN QUERY. Return 0, or TR_EMALFORMED (dummy: fewer than 25 bytes
 * without the CRC; begin: not 38 or 40 bytes without it), ev unchanged.
 * Callers check len against the header first (tr_maria_compat_rewrite does).
 */
int tr_maria_compat_dummy(uint8_t *ev, size_t len, bool has_crc) TR_MUSTCHECK;
int tr_maria_compat_begin(uint8_t *ev, size_t len, bool has_crc) TR_MUSTCHECK;

#endif
