/*
 * Administration statements (see admin.h). SHOW BINLOG EVENTS walks the
 * committed bytes of one store file event by event (headers only, plus the
 * few body fields its Info column shows), as MySQL's and MariaDB's
 * mysql_show_binlog_events do; SHOW REPLICAS lists the sessions that sent
 * COM_REGISTER_SLAVE; PURGE asks the store to delete files after checking
 * that no dump reads them.
 */
#include "relay/admin.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/endian.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "protocol/binlog_event.h"
#include "protocol/handshake.h"
#include "protocol/result.h"
#include "protocol/wire.h"

#define COMP "admin"

/* MySQL/MariaDB error numbers used here. */
#define ER_NOT_SUPPORTED_YET     1235
#define ER_UNKNOWN_TARGET_BINLOG 1373
#define ER_LOG_IN_USE            1378
#define ER_WRONG_VALUE           1525
#define ER_ERROR_WHEN_EXECUTING  1220

#define SCAN_CHUNK (256u * 1024) /* bytes read per pread while walking a file */

static void reply_err(const tr_admin_reply_t *r, uint16_t code, const char *fmt, ...)
    TR_PRINTF(3, 4);
static void reply_err(const tr_admin_reply_t *r, uint16_t code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : ((size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
    size_t h = tr_wire_begin(r->out);
    tr_res_put_err(r->out, code, code == ER_UNKNOWN_TARGET_BINLOG ? "HY000" : tr_res_sqlstate(code),
                   msg, len);
    tr_wire_end(r->out, h, r->seq);
}

static void reply_ok(const tr_admin_reply_t *r, uint64_t affected)
{
    size_t h = tr_wire_begin(r->out);
    tr_res_put_ok(r->out, affected, 0, TR_SERVER_STATUS_AUTOCOMMIT, 0);
    tr_wire_end(r->out, h, r->seq);
}

bool tr_admin_handles(const tr_sql_cmd_t *q)
{
    switch (q->kind) {
    case TR_SQL_SHOW_BINLOG_EVENTS:
    case TR_SQL_SHOW_REPLICAS:
    case TR_SQL_PURGE_LOGS:
    case TR_SQL_FLUSH_LOGS:
    case TR_SQL_SHOW_GRANTS:
    case TR_SQL_SHOW_DATABASES:
        return true;
    default:
        return false;
    }
}

/* ---------------------------------------------------------------- SHOW BINLOG EVENTS */

static const char *event_type_name(uint8_t type)
{
    switch (type) {
    case TR_EVT_QUERY:
        return "Query";
    case TR_EVT_STOP:
        return "Stop";
    case TR_EVT_ROTATE:
        return "Rotate";
    case TR_EVT_FORMAT_DESCRIPTION:
        return "Format_desc";
    case TR_EVT_XID:
        return "Xid";
    case TR_EVT_TABLE_MAP:
        return "Table_map";
    case TR_EVT_HEARTBEAT:
        return "Heartbeat";
    case TR_EVT_ROWS_QUERY:
        return "Rows_query";
    case TR_EVT_WRITE_ROWS:
        return "Write_rows";
    case TR_EVT_UPDATE_ROWS:
        return "Update_rows";
    case TR_EVT_DELETE_ROWS:
        return "Delete_rows";
    case TR_EVT_WRITE_ROWS_V1:
        return "Write_rows_v1";
    case TR_EVT_UPDATE_ROWS_V1:
        return "Update_rows_v1";
    case TR_EVT_DELETE_ROWS_V1:
        return "Delete_rows_v1";
    case TR_EVT_GTID:
        return "Gtid";
    case TR_EVT_ANONYMOUS_GTID:
        return "Anonymous_Gtid";
    case TR_EVT_PREVIOUS_GTIDS:
        return "Previous_gtids";
    case TR_EVT_MARIA_ANNOTATE_ROWS:
        return "Annotate_rows";
    case TR_EVT_MARIA_BINLOG_CHECKPOINT:
        return "Binlog_checkpoint";
    case TR_EVT_MARIA_GTID:
        return "Gtid";
    case TR_EVT_MARIA_GTID_LIST:
        return "Gtid_list";
    default:
        return "Unknown";
    }
}

static void uuid_text(const uint8_t *u, char *out, size_t cap)
{
    snprintf(out, cap,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
             u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
             u[15]);
}

/* The Info column of one event (body = bytes after the header, without the CRC). */
static void event_info(uint8_t type, const uint8_t *body, size_t len, char *out, size_t cap)
{
    tr_rd_t rd = tr_rd(body, len);
    out[0] = '\0';
    switch (type) {
    case TR_EVT_FORMAT_DESCRIPTION: {
        uint16_t ver = tr_rd_u16le(&rd);
        const uint8_t *sv = tr_rd_bytes(&rd, 50);
        if (!rd.err) {
            snprintf(out, cap, "Server ver: %.50s, Binlog ver: %u", (const char *)sv,
                     (unsigned)ver);
        }
        break;
    }
    case TR_EVT_ROTATE: {
        uint64_t pos = tr_rd_u64le(&rd);
        size_t n = tr_rd_left(&rd);
        const uint8_t *name = tr_rd_bytes(&rd, n);
        if (!rd.err) {
            snprintf(out, cap, "%.*s;pos=%" PRIu64, (int)n, (const char *)name, pos);
        }
        break;
    }
    case TR_EVT_QUERY: {
        tr_rd_skip(&rd, 8);               /* thread id, exec time */
        uint8_t db_len = tr_rd_u8(&rd);
        tr_rd_skip(&rd, 2);               /* error code */
        uint16_t status_len = tr_rd_u16le(&rd);
        tr_rd_skip(&rd, status_len);
        tr_rd_skip(&rd, (size_t)db_len + 1);
        size_t n = tr_rd_left(&rd);
        const uint8_t *sql = tr_rd_bytes(&rd, n);
        if (!rd.err) {
            snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), (const char *)sql);
        }
        break;
    }
    case TR_EVT_XID: {
        uint64_t xid = tr_rd_u64le(&rd);
        if (!rd.err) {
            snprintf(out, cap, "COMMIT /* xid=%" PRIu64 " */", xid);
        }
        break;
    }
    case TR_EVT_TABLE_MAP: {
        uint64_t id = tr_rd_u48le(&rd);
        tr_rd_skip(&rd, 2);
        uint8_t dl = tr_rd_u8(&rd);
        const uint8_t *db = tr_rd_bytes(&rd, dl);
        tr_rd_skip(&rd, 1);
        uint8_t tl = tr_rd_u8(&rd);
        const uint8_t *tb = tr_rd_bytes(&rd, tl);
        if (!rd.err) {
            snprintf(out, cap, "table_id: %" PRIu64 " (%.*s.%.*s)", id, (int)dl,
                     (const char *)db, (int)tl, (const char *)tb);
        }
        break;
    }
    case TR_EVT_WRITE_ROWS:
    case TR_EVT_UPDATE_ROWS:
    case TR_EVT_DELETE_ROWS:
    case TR_EVT_WRITE_ROWS_V1:
    case TR_EVT_UPDATE_ROWS_V1:
    case TR_EVT_DELETE_ROWS_V1: {
        uint64_t id = tr_rd_u48le(&rd);
        uint16_t flags = tr_rd_u16le(&rd);
        if (!rd.err) {
            snprintf(out, cap, "table_id: %" PRIu64 "%s", id,
                     (flags & TR_ROWS_STMT_END) ? " flags: STMT_END_F" : "");
        }
        break;
    }
    case TR_EVT_GTID: {
        tr_rd_skip(&rd, 1);
        const uint8_t *sid = tr_rd_bytes(&rd, 16);
        uint64_t gno = tr_rd_u64le(&rd);
        if (!rd.err) {
            char u[40];
            uuid_text(sid, u, sizeof(u));
            snprintf(out, cap, "SET @@SESSION.GTID_NEXT= '%s:%" PRIu64 "'", u, gno);
        }
        break;
    }
    case TR_EVT_MARIA_BINLOG_CHECKPOINT: {
        uint32_t n = tr_rd_u32le(&rd);
        const uint8_t *name = tr_rd_bytes(&rd, n);
        if (!rd.err) {
            snprintf(out, cap, "%.*s", (int)n, (const char *)name);
        }
        break;
    }
    default:
        break;
    }
}

/* The MariaDB GTID Info needs the header's server_id: patch it in. */
static void maria_gtid_info(uint32_t server_id, const uint8_t *body, size_t len, char *out,
                            size_t cap)
{
    tr_rd_t rd = tr_rd(body, len);
    uint64_t seq = tr_rd_u64le(&rd);
    uint32_t domain = tr_rd_u32le(&rd);
    uint8_t flags2 = tr_rd_u8(&rd);
    if (!rd.err) {
        snprintf(out, cap, "%s GTID %" PRIu32 "-%" PRIu32 "-%" PRIu64,
                 (flags2 & 1) ? "" : "BEGIN", domain, server_id, seq);
        if (out[0] == ' ') {
            memmove(out, out + 1, strlen(out));
        }
    }
}

/* Whether the file's FORMAT_DESCRIPTION says events carry a CRC32. */
static bool fde_has_crc(const uint8_t *fde, size_t len)
{
    /* Last 5 bytes: checksum algorithm (1 = CRC32) + CRC. */
    return len >= TR_EVT_HEADER_LEN + 5 && fde[len - TR_EVT_CRC_LEN - 1] == 1;
}

static void show_binlog_events(const tr_admin_reply_t *r, const tr_sql_cmd_t *q)
{
    tr_server_t *srv = tr_sess_server(r->sess);
    tr_flavor_t flavor = tr_sess_flavor(r->sess);
    tr_binlog_file_t f;
    int rc;
    if (q->log_name.len == 0) {
        rc = tr_store_file_first(srv->store, flavor, &f);
    } else {
        char name[sizeof(f.name)];
        size_t n = tr_sql_unquote(q->log_name, name, sizeof(name));
        rc = n < sizeof(name) ? tr_store_file_by_name(srv->store, flavor, name, &f) : TR_ENOTFOUND;
    }
    if (rc != 0) {
        reply_err(r, ER_ERROR_WHEN_EXECUTING,
                  "Error when executing command SHOW BINLOG EVENTS: Could not find target log");
        return;
    }
    uint64_t pos = q->has_from ? (q->from_pos < 4 ? 4 : q->from_pos) : 4;
    int fd = open(f.path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        reply_err(r, ER_ERROR_WHEN_EXECUTING,
                  "Error when executing command SHOW BINLOG EVENTS: %s", strerror(errno));
        return;
    }
    tr_res_col_t cols[6] = {tr_res_col_str("Log_name"),  tr_res_col_num("Pos"),
                            tr_res_col_str("Event_type"), tr_res_col_num("Server_id"),
                            tr_res_col_num("End_log_pos"), tr_res_col_str("Info")};
    tr_buf_t rows;
    tr_buf_init(&rows, 0);
    uint8_t seq0 = *r->seq;
    tr_res_writer_t w;
    tr_res_begin(&w, &rows, r->seq, r->deprecate_eof, cols, 6);
    uint8_t *chunk = tr_malloc(SCAN_CHUNK);
    uint8_t *big = NULL;
    bool has_crc = true;
    uint64_t off = 4;
    uint64_t skipped = 0;
    uint64_t shown = 0;
    const char *bad = NULL;
    char info[1024];
    while (off + TR_EVT_HEADER_LEN <= f.size) {
        if (q->has_limit && shown >= q->limit) {
            break;
        }
        uint8_t hdr[TR_EVT_HEADER_LEN];
        tr_evt_header_t h;
        const char *why = NULL;
        if (pread(fd, hdr, sizeof(hdr), (off_t)off) != (ssize_t)sizeof(hdr) ||
            tr_evt_header_decode(hdr, sizeof(hdr), &h, &why) < 0 ||
            h.event_size < TR_EVT_HEADER_LEN || off + h.event_size > f.size) {
            bad = "Wrong offset or I/O error";
            break;
        }
        bool want = off >= pos;
        if (want || h.type == TR_EVT_FORMAT_DESCRIPTION) {
            /* Read the body when it is shown, or to learn the checksum setting. */
            const uint8_t *ev = NULL;
            if (h.event_size <= SCAN_CHUNK) {
                if (pread(fd, chunk, h.event_size, (off_t)off) != (ssize_t)h.event_size) {
                    bad = "I/O error reading log event";
                    break;
                }
                ev = chunk;
            } else {
                big = tr_realloc(big, h.event_size);
                if (pread(fd, big, h.event_size, (off_t)off) != (ssize_t)h.event_size) {
                    bad = "I/O error reading log event";
                    break;
                }
                ev = big;
            }
            if (h.type == TR_EVT_FORMAT_DESCRIPTION) {
                has_crc = fde_has_crc(ev, h.event_size);
            }
            size_t body_len = h.event_size - TR_EVT_HEADER_LEN;
            if (has_crc && body_len >= TR_EVT_CRC_LEN) {
                body_len -= TR_EVT_CRC_LEN;
            }
            if (want) {
                if (skipped < q->limit_offset) {
                    skipped++;
                } else {
                    if (h.type == TR_EVT_MARIA_GTID) {
                        maria_gtid_info(h.server_id, ev + TR_EVT_HEADER_LEN, body_len, info,
                                        sizeof(info));
                    } else {
                        event_info(h.type, ev + TR_EVT_HEADER_LEN, body_len, info, sizeof(info));
                    }
                    tr_res_row_begin(&w);
                    tr_res_cell_str(&w, f.name);
                    tr_res_cell_u64(&w, off);
                    tr_res_cell_str(&w, event_type_name(h.type));
                    tr_res_cell_u64(&w, h.server_id);
                    tr_res_cell_u64(&w, h.log_pos);
                    tr_res_cell_str(&w, info);
                    tr_res_row_end(&w);
                    shown++;
                }
            }
        }
        off += h.event_size;
        if (q->has_from && off > pos && off - h.event_size < pos) {
            bad = "Wrong offset or I/O error"; /* FROM inside an event */
            break;
        }
    }
    (void)close(fd);
    tr_free(chunk);
    tr_free(big);
    if (bad != NULL && !(q->has_limit && shown >= q->limit)) {
        tr_buf_cleanup(&rows);
        *r->seq = seq0;
        reply_err(r, ER_ERROR_WHEN_EXECUTING, "Error when executing command SHOW BINLOG EVENTS: %s",
                  bad);
        return;
    }
    tr_res_end(&w, TR_SERVER_STATUS_AUTOCOMMIT);
    tr_buf_append(r->out, tr_buf_head(&rows), tr_buf_unread(&rows));
    tr_buf_cleanup(&rows);
}

/* ---------------------------------------------------------------- SHOW REPLICAS */

static void show_replicas(const tr_admin_reply_t *r, const tr_sql_cmd_t *q)
{
    tr_server_t *srv = tr_sess_server(r->sess);
    bool mysql = tr_sess_flavor(r->sess) == TR_FLAVOR_MYSQL;
    tr_res_col_t cols[5];
    if (q->is_slave_hosts) {
        cols[0] = tr_res_col_num("Server_id");
        cols[1] = tr_res_col_str("Host");
        cols[2] = tr_res_col_num("Port");
        cols[3] = tr_res_col_num("Master_id");
        cols[4] = tr_res_col_str("Slave_UUID");
    } else {
        cols[0] = tr_res_col_num("Server_Id");
        cols[1] = tr_res_col_str("Host");
        cols[2] = tr_res_col_num("Port");
        cols[3] = tr_res_col_num("Source_Id");
        cols[4] = tr_res_col_str("Replica_UUID");
    }
    size_t ncols = mysql ? 5 : 4;
    tr_res_writer_t w;
    tr_res_begin(&w, r->out, r->seq, r->deprecate_eof, cols, ncols);
    for (tr_sess_t *o = srv->sessions; o != NULL; o = tr_sess_next(o)) {
        tr_sess_replica_t rep;
        if (!tr_sess_replica(o, &rep)) {
            continue;
        }
        tr_res_row_begin(&w);
        tr_res_cell_u64(&w, rep.server_id);
        tr_res_cell_str(&w, rep.host);
        tr_res_cell_u64(&w, rep.port);
        tr_res_cell_u64(&w, rep.master_id ? rep.master_id : srv->cfg->server_id);
        if (ncols == 5) {
            tr_res_cell_str(&w, rep.uuid);
        }
        tr_res_row_end(&w);
    }
    tr_res_end(&w, TR_SERVER_STATUS_AUTOCOMMIT);
}

/* ---------------------------------------------------------------- PURGE */

/* Lowest file number a dump of flavour f reads (UINT32_MAX when none). */
static uint32_t oldest_in_use(tr_server_t *srv, tr_flavor_t f, const tr_sess_t **who)
{
    uint32_t min = UINT32_MAX;
    for (tr_sess_t *o = srv->sessions; o != NULL; o = tr_sess_next(o)) {
        const tr_dump_t *d = tr_sess_dump(o);
        if (d == NULL || tr_sess_flavor(o) != f) {
            continue;
        }
        uint32_t seq = tr_dump_file_seq(d);
        if (seq < min) {
            min = seq;
            *who = o;
        }
    }
    return min;
}

/* Parses 'YYYY-MM-DD[ HH:MM:SS[.frac]]' as UTC seconds. */
static bool parse_datetime(const char *s, int64_t *out)
{
    int y = 0;
    int mo = 0;
    int d = 0;
    int h = 0;
    int mi = 0;
    int sec = 0;
    int n = sscanf(s, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &sec);
    if (n != 3 && n != 6) {
        return false;
    }
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || sec < 0 || sec > 59) {
        return false;
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = (int64_t)timegm(&tm);
    return true;
}

static void purge_logs(const tr_admin_reply_t *r, const tr_sql_cmd_t *q)
{
    tr_server_t *srv = tr_sess_server(r->sess);
    tr_flavor_t flavor = tr_sess_flavor(r->sess);
    char arg[128];
    size_t n = tr_sql_unquote(q->purge_arg, arg, sizeof(arg));
    if (n >= sizeof(arg)) {
        reply_err(r, ER_UNKNOWN_TARGET_BINLOG, "Target log not found in binlog index");
        return;
    }
    tr_binlog_file_t *files = NULL;
    size_t nf = 0;
    if (tr_store_list_files(srv->store, flavor, &files, &nf) != 0 || nf == 0) {
        tr_free(files);
        reply_err(r, ER_UNKNOWN_TARGET_BINLOG, "Target log not found in binlog index");
        return;
    }
    uint32_t target = 0; /* purge files numbered below this */
    if (!q->purge_before) {
        for (size_t i = 0; i < nf; i++) {
            if (strcmp(files[i].name, arg) == 0) {
                target = files[i].seq;
            }
        }
        if (target == 0) {
            tr_free(files);
            reply_err(r, ER_UNKNOWN_TARGET_BINLOG, "Target log not found in binlog index");
            return;
        }
    } else {
        int64_t t = 0;
        if (!parse_datetime(arg, &t)) {
            tr_free(files);
            reply_err(r, ER_WRONG_VALUE, "Incorrect DATETIME value: '%s'", arg);
            return;
        }
        target = files[nf - 1].seq;
        for (size_t i = 0; i + 1 < nf; i++) {
            struct stat st;
            if (stat(files[i].path, &st) != 0 || (int64_t)st.st_mtime >= t) {
                target = files[i].seq;
                break;
            }
        }
    }
    uint32_t active = files[nf - 1].seq;
    tr_free(files);
    if (target > active) {
        target = active;
    }
    const tr_sess_t *reader = NULL;
    uint32_t in_use = oldest_in_use(srv, flavor, &reader);
    uint32_t upto = target < in_use ? target : in_use;
    size_t purged = 0;
    const char *why = NULL;
    int rc = tr_store_purge(srv->store, flavor, upto, &purged, &why);
    if (rc != 0) {
        tr_log_warn(COMP, "purge failed flavor=%s err=%s", tr_flavor_name(flavor),
                    why ? why : tr_strerror(rc));
        reply_err(r, 1377, "Fatal error during log purge");
        return;
    }
    tr_log_info(COMP, "purge binary logs flavor=%s %s=%s files=%zu sess=%" PRIu32,
                tr_flavor_name(flavor), q->purge_before ? "before" : "to", arg, purged,
                tr_sess_id(r->sess));
    if (in_use < target) {
        tr_log_info(COMP, "purge stopped at a file in use seq=%" PRIu32 " reader_sess=%" PRIu32,
                    in_use, reader ? tr_sess_id(reader) : 0);
        reply_err(r, ER_LOG_IN_USE, "A purgeable log is in use, will not purge");
        return;
    }
    reply_ok(r, 0);
}

/* ---------------------------------------------------------------- probes */

static void show_grants(const tr_admin_reply_t *r)
{
    char col[128];
    char grant[256];
    const char *user = tr_sess_user(r->sess);
    snprintf(col, sizeof(col), "Grants for %s@%%", user);
    snprintf(grant, sizeof(grant),
             "GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* "
             "TO `%s`@`%%`",
             user);
    tr_res_col_t cols[1] = {tr_res_col_str(col)};
    tr_res_writer_t w;
    tr_res_begin(&w, r->out, r->seq, r->deprecate_eof, cols, 1);
    tr_res_row_begin(&w);
    tr_res_cell_str(&w, grant);
    tr_res_row_end(&w);
    tr_res_end(&w, TR_SERVER_STATUS_AUTOCOMMIT);
}

static void show_databases(const tr_admin_reply_t *r)
{
    /* tirelay has no tables to show; information_schema is what a server always lists. */
    tr_res_col_t cols[1] = {tr_res_col_str("Database")};
    tr_res_writer_t w;
    tr_res_begin(&w, r->out, r->seq, r->deprecate_eof, cols, 1);
    tr_res_row_begin(&w);
    tr_res_cell_str(&w, "information_schema");
    tr_res_row_end(&w);
    tr_res_end(&w, TR_SERVER_STATUS_AUTOCOMMIT);
}

void tr_admin_query(const tr_admin_reply_t *r, const tr_sql_cmd_t *q)
{
    switch (q->kind) {
    case TR_SQL_SHOW_BINLOG_EVENTS:
        show_binlog_events(r, q);
        return;
    case TR_SQL_SHOW_REPLICAS:
        show_replicas(r, q);
        return;
    case TR_SQL_PURGE_LOGS:
        purge_logs(r, q);
        return;
    case TR_SQL_FLUSH_LOGS:
        /* Rotation belongs to the writer thread, at transaction boundaries. */
        reply_err(r, ER_NOT_SUPPORTED_YET,
                  "This version of tirelay doesn't yet support 'FLUSH BINARY LOGS' (files rotate "
                  "at max-binlog-size)");
        return;
    case TR_SQL_SHOW_GRANTS:
        show_grants(r);
        return;
    case TR_SQL_SHOW_DATABASES:
        show_databases(r);
        return;
    default:
        reply_err(r, TR_ER_PARSE, "not an admin statement");
        return;
    }
}
