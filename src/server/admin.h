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

/*
 * The statement's asker and where its answer goes (the session fills it; this module
 * never sees a session). An answer computed on the loop is appended to out with the
 * sequence ids of seq. One computed off the loop calls defer(ctx) first (the session
 * stops answering its client) and later deliver(ctx, answer, seq): the session appends
 * the answer if its client is still there, takes the sequence id and resumes (it may be
 * freed then).
 */
typedef struct {
    tr_server_t *srv;
    tr_flavor_t flavor;       /* the listener's */
    uint32_t sess_id;         /* the asker's connection id (logs) */
    const char *user;         /* the asker's account */
    tr_buf_t *out;
    uint8_t *seq;
    bool deprecate_eof;
    uint16_t status;          /* server status of the answer (autocommit, MORE_RESULTS) */
    void *ctx;
    void (*defer)(void *ctx);
    void (*deliver)(void *ctx, const tr_buf_t *answer, uint8_t seq);
} tr_admin_reply_t;

/* The operator and probe statements, each answering q into r. SHOW BINLOG EVENTS, SHOW
 * BINLOG POSITION and SHOW RELAY STATUS are answered from libuv's thread pool through
 * r->defer / r->deliver (session_sql.c's statement table marks them off_loop). Thread:
 * loop. */
void tr_admin_show_binlog_events(const tr_admin_reply_t *r, const tr_sql_cmd_t *q);
void tr_admin_show_binlog_position(const tr_admin_reply_t *r, const tr_sql_cmd_t *q);
void tr_admin_show_relay_status(const tr_admin_reply_t *r, const tr_sql_cmd_t *q);
void tr_admin_show_replicas(const tr_admin_reply_t *r, const tr_sql_cmd_t *q);
void tr_admin_purge_logs(const tr_admin_reply_t *r, const tr_sql_cmd_t *q);
void tr_admin_flush_logs(const tr_admin_reply_t *r, const tr_sql_cmd_t *q);
void tr_admin_show_grants(const tr_admin_reply_t *r, const tr_sql_cmd_t *q);

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
