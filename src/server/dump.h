/*
 * Binlog dump streaming for one session (COM_BINLOG_DUMP): validates the
 * start file and position, sends the fake ROTATE and the file's
 * FORMAT_DESCRIPTION (IN_USE flag cleared, log_pos/created zeroed when
 * starting past 4, CRC recomputed), then the file's committed events as
 * "0x00 + event" packets (on the MariaDB listener, a client whose
 * @mariadb_slave_capability is below 4 gets MariaDB's same-length
 * replacements of MariaDB-only events, protocol/maria_compat), follows real
 * ROTATEs into the next file, and at
 * the readable end either ends with EOF (non-blocking) or waits for
 * tr_server_notify and sends HEARTBEATs while idle.
 *
 * I/O layer: reads store files with pread on the loop thread in bounded
 * batches (TR_DUMP_BATCH bytes), one uv_write per batch, and pauses while
 * the connection's write queue is above TR_SRV_WRITE_HIGH. Event bytes are
 * produced by protocol/binlog_event and protocol/wire. Follows
 * shared/spec/mysql-replication-source.md sections 4.2, 4.4 and 5 (MySQL
 * rpl_binlog_sender.cc, MariaDB sql_repl.cc mysql_binlog_send).
 * The entry points are declared in server/server_internal.h.
 */
#ifndef TR_SERVER_DUMP_H
#define TR_SERVER_DUMP_H

#include "server/server_internal.h"

#define TR_DUMP_BATCH (256u * 1024) /* bytes of events read and written per batch */

#endif
