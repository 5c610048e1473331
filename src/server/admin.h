/*
 * Administration statements over the MySQL port (DESIGN.md "Administration"):
 * SHOW BINLOG EVENTS, SHOW REPLICAS / SHOW SLAVE HOSTS, PURGE BINARY LOGS
 * TO | BEFORE, FLUSH BINARY LOGS, and the CDC probes SHOW GRANTS / SHOW
 * DATABASES. The session parses the statement (protocol/sqlcmd), checks that
 * the account may run it ([server] admin-users for PURGE, FLUSH, SHOW
 * REPLICAS, SHOW RELAY STATUS and SHOW BINLOG POSITION) and hands
 * it here; answers are appended to the session's output buffer.
 *
 * PURGE follows MariaDB: files are deleted oldest first up to (not
 * including) the target; a file that a dump session of the same flavour
 * still reads, and every later one, is kept, and the statement then answers
 * ERR 1378 "A purgeable log is in use, will not purge" after deleting the
 * older files. The active file is never deleted. BEFORE compares the file's
 * modification time (as MySQL and MariaDB do) with the datetime read as UTC
 * (tirelay's system_time_zone). Each listener purges its own flavour's file
 * set (the two sets rotate at different sizes, so their names do not
 * correspond).
 *
 * tirelay's own SHOW RELAY STATUS and SHOW BINLOG POSITION FOR TSO | GTID |
 * POSITION are documented in README.md ("Operating it over SQL").
 *
 * I/O: SHOW BINLOG EVENTS (reads a binlog file), SHOW BINLOG POSITION (sqlite
 * index) and SHOW RELAY STATUS (the relay's locks) run in libuv's thread
 * pool; PURGE and retention delete files on the loop thread, where the dumps
 * in use are known (rare operator actions).
 */
#ifndef TR_SERVER_ADMIN_H
#define TR_SERVER_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "protocol/sqlcmd.h"
#include "server/server_internal.h"

/* Where an admin answer goes: the session's pending output. */
typedef struct {
    tr_sess_t *sess;
    tr_buf_t *out;
    uint8_t *seq;
    bool deprecate_eof;
    uint16_t status;  /* server status of the answer (autocommit, MORE_RESULTS in a batch) */
} tr_admin_reply_t;

/* True when q is an admin or probe statement this module answers. */
bool tr_admin_handles(const tr_sql_cmd_t *q);

/* Answers q (a kind tr_admin_handles accepted) into r. SHOW BINLOG EVENTS,
 * SHOW BINLOG POSITION and SHOW RELAY STATUS are answered from libuv's thread
 * pool: the session is held (tr_sess_hold) and gets the answer later. Thread: loop. */
void tr_admin_query(const tr_admin_reply_t *r, const tr_sql_cmd_t *q);

/*
 * Retention ([store] expire-logs-seconds, max-binlog-total-size), run every
 * second by the server: in each flavour, removes the oldest files while
 * they are older than expire-logs-seconds (modification time) or the
 * flavour's files total more than max-binlog-total-size; never the active
 * file, and never a file a dump of that flavour reads nor any later one.
 * Logs each purge. Thread: loop.
 */
void tr_admin_retention(tr_server_t *srv);

#endif
