/*
 * Administration statements (see admin.h). SHOW BINLOG EVENTS walks the
 * committed bytes of one store file event by event (headers only, plus the
 * few body fields its Info column shows), as MySQL's and MariaDB's
 * mysql_show_binlog_events do; SHOW REPLICAS lists the sessions that sent
 * COM_REGISTER_SLAVE; PURGE asks the store to delete files after checking
 * that no dump reads them.
 */
#include "server/admin.h"
#include "server/dump.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "common/clock.h"
#include "common/endian.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/tso.h"
#include "protocol/binlog_event.h"
#include "protocol/handshake.h"
#include "protocol/result.h"
#include "protocol/gtid.h"
#include "protocol/wire.h"
#include "store/reader.h"

#define COMP "admin"

/* MySQL/MariaDB error numbers used here. */
#define ER_NOT_SUPPORTED_YET     1235
#define ER_UNKNOWN_TARGET_BINLOG 1373
#define ER_LOG_IN_USE            1378
#define ER_WRONG_VALUE           1525
#define ER_ERROR_WHEN_EXECUTING  1220

#define SCAN_CHUNK (256u * 1024) /* bytes read per batch while walking a file */

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
    tr_res_put_ok(r->out, affected, 0, r->status, 0);
    tr_wire_end(r->out, h, r->seq);
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
            tr_gtid_uuid_format(sid, u);
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

/* What SHOW BINLOG EVENTS asks, copied out of the statement (the worker
 * cannot read the session's parse scratch or input buffer). */
typedef struct {
    bool has_name;
    bool name_too_long;
    char name[96];
    bool has_from;
    uint64_t from_pos;
    bool has_limit;
    uint64_t limit;
    uint64_t limit_offset;
} events_args_t;

static void show_binlog_events(const tr_admin_reply_t *r, tr_store_t *store, tr_flavor_t flavor,
                               const events_args_t *q)
{
    tr_binlog_file_t f;
    int rc;
    if (!q->has_name) {
        rc = tr_store_file_first(store, flavor, &f);
    } else {
        rc = q->name_too_long ? TR_ENOTFOUND : tr_store_file_by_name(store, flavor, q->name, &f);
    }
    if (rc != 0) {
        reply_err(r, ER_ERROR_WHEN_EXECUTING,
                  "Error when executing command SHOW BINLOG EVENTS: Could not find target log");
        return;
    }
    uint64_t pos = q->has_from ? (q->from_pos < 4 ? 4 : q->from_pos) : 4;
    tr_store_reader_t rd;
    rc = tr_store_reader_open(&rd, store, flavor, &f, TR_BINLOG_MAGIC_LEN);
    if (rc != 0) {
        reply_err(r, ER_ERROR_WHEN_EXECUTING,
                  "Error when executing command SHOW BINLOG EVENTS: %s", tr_strerror(rc));
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
    tr_buf_t batch;
    tr_buf_init(&batch, 0);
    const char *why = NULL;
    const char *bad = NULL;
    /* The FORMAT_DESCRIPTION says whether events end with a CRC32; FROM must be a boundary. */
    bool has_crc = true;
    if (tr_store_reader_event_at(&rd, TR_BINLOG_MAGIC_LEN, &batch, &why) == 0) {
        has_crc = fde_has_crc(tr_buf_head(&batch), tr_buf_unread(&batch));
    }
    if (tr_store_reader_walk(&rd, pos, &batch, NULL, NULL, &why) != 0) {
        bad = "Wrong offset or I/O error";
    }
    uint64_t skipped = 0;
    uint64_t shown = 0;
    char info[1024];
    while (bad == NULL && !(q->has_limit && shown >= q->limit)) {
        uint64_t start = rd.pos;
        int64_t n = tr_store_reader_read(&rd, &batch, SCAN_CHUNK, &why);
        if (n <= 0) {
            bad = n < 0 ? "Wrong offset or I/O error" : NULL;
            break;
        }
        size_t off = 0;
        tr_store_event_t ev;
        while (tr_store_batch_next(&batch, start, &off, &ev) &&
               !(q->has_limit && shown >= q->limit)) {
            if (skipped < q->limit_offset) {
                skipped++;
                continue;
            }
            size_t body_len = ev.len - TR_EVT_HEADER_LEN;
            if (has_crc && body_len >= TR_EVT_CRC_LEN) {
                body_len -= TR_EVT_CRC_LEN;
            }
            if (ev.h.type == TR_EVT_MARIA_GTID) {
                maria_gtid_info(ev.h.server_id, ev.p + TR_EVT_HEADER_LEN, body_len, info,
                                sizeof(info));
            } else {
                event_info(ev.h.type, ev.p + TR_EVT_HEADER_LEN, body_len, info, sizeof(info));
            }
            tr_res_row_begin(&w);
            tr_res_cell_str(&w, f.name);
            tr_res_cell_u64(&w, ev.end_pos - ev.len);
            tr_res_cell_str(&w, event_type_name(ev.h.type));
            tr_res_cell_u64(&w, ev.h.server_id);
            tr_res_cell_u64(&w, ev.h.log_pos);
            tr_res_cell_str(&w, info);
            tr_res_row_end(&w);
            shown++;
        }
    }
    tr_buf_cleanup(&batch);
    tr_store_reader_close(&rd);
    if (bad != NULL) {
        tr_buf_cleanup(&rows);
        *r->seq = seq0;
        reply_err(r, ER_ERROR_WHEN_EXECUTING, "Error when executing command SHOW BINLOG EVENTS: %s",
                  bad);
        return;
    }
    tr_res_end(&w, r->status);
    tr_buf_append(r->out, tr_buf_head(&rows), tr_buf_unread(&rows));
    tr_buf_cleanup(&rows);
}

/* ---------------------------------------------------------------- SHOW REPLICAS */

/* SHOW REPLICAS: one row per registered replica. */
typedef struct {
    const tr_admin_reply_t *r;
    tr_res_writer_t *w;
    size_t ncols;
} replicas_walk_t;

static bool replica_row(void *arg, const tr_sess_info_t *s)
{
    replicas_walk_t *rw = arg;
    if (!s->is_replica) {
        return true;
    }
    const tr_sess_replica_t *rep = &s->replica;
    tr_res_row_begin(rw->w);
    tr_res_cell_u64(rw->w, rep->server_id);
    tr_res_cell_str(rw->w, rep->host);
    tr_res_cell_u64(rw->w, rep->port);
    tr_res_cell_u64(rw->w, rep->master_id ? rep->master_id : rw->r->srv->cfg->server_id);
    if (rw->ncols == 5) {
        tr_res_cell_str(rw->w, rep->uuid);
    }
    tr_res_row_end(rw->w);
    return true;
}

static void show_replicas(const tr_admin_reply_t *r, const tr_sql_cmd_t *q)
{
    bool mysql = r->flavor == TR_FLAVOR_MYSQL;
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
    replicas_walk_t rw = {r, &w, ncols};
    tr_sess_each(r->srv, replica_row, &rw);
    tr_res_end(&w, r->status);
}

/* ---------------------------------------------------------------- PURGE */

typedef struct {
    tr_flavor_t flavor;
    uint32_t min;            /* lowest file number read (UINT32_MAX when none) */
    uint32_t who;            /* the connection id of its reader */
} in_use_walk_t;

static bool note_in_use(void *arg, const tr_sess_info_t *s)
{
    in_use_walk_t *u = arg;
    if (s->dump != NULL && s->flavor == u->flavor) {
        uint32_t seq = tr_dump_file_seq(s->dump);
        if (seq < u->min) {
            u->min = seq;
            u->who = s->id;
        }
    }
    return true;
}

/* Lowest file number a dump of flavour f reads (UINT32_MAX when none), and its reader. */
static uint32_t oldest_in_use(tr_server_t *srv, tr_flavor_t f, uint32_t *who)
{
    in_use_walk_t u = {f, UINT32_MAX, 0};
    tr_sess_each(srv, note_in_use, &u);
    *who = u.who;
    return u.min;
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
    tr_server_t *srv = r->srv;
    tr_flavor_t flavor = r->flavor;
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
    uint32_t reader = 0;
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
                r->sess_id);
    if (in_use < target) {
        tr_log_info(COMP, "purge stopped at a file in use seq=%" PRIu32 " reader_sess=%" PRIu32,
                    in_use, reader);
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
    const char *user = r->user;
    const tr_user_t *u = tr_config_user(r->srv->cfg, user);
    snprintf(col, sizeof(col), "Grants for %s@%%", user);
    /* What the account may do here: a replication account reads the binlog
     * only; an admin-users account also runs PURGE, SHOW RELAY STATUS, ... */
    snprintf(grant, sizeof(grant), "GRANT %sREPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `%s`@`%%`",
             u != NULL && u->is_admin ? "SELECT, RELOAD, SHOW DATABASES, SUPER, " : "", user);
    tr_res_col_t cols[1] = {tr_res_col_str(col)};
    tr_res_writer_t w;
    tr_res_begin(&w, r->out, r->seq, r->deprecate_eof, cols, 1);
    tr_res_row_begin(&w);
    tr_res_cell_str(&w, grant);
    tr_res_row_end(&w);
    tr_res_end(&w, r->status);
}

/* ---------------------------------------------------------------- TSO and GTID helpers */

/* "YYYY-MM-DD HH:MM:SS.mmm" (UTC) of a TSO, "" for 0. */
static void tso_time(int64_t ts, char *out, size_t cap)
{
    out[0] = '\0';
    if (ts <= 0) {
        return;
    }
    int64_t ms = tr_tso_ms(ts);
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    if (gmtime_r(&sec, &tm) == NULL) {
        return;
    }
    snprintf(out, cap, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* Executed GTID set of flavour f after transaction number n (n = 0: none). */
static void executed_set(const tr_config_t *cfg, tr_flavor_t f, uint64_t n, char *out, size_t cap)
{
    out[0] = '\0';
    if (n == 0) {
        return;
    }
    if (f == TR_FLAVOR_MARIADB) {
        snprintf(out, cap, "%" PRIu32 "-%" PRIu32 "-%" PRIu64, cfg->gtid_domain_id, cfg->server_id,
                 n);
        return;
    }
    tr_gtid_set_t set;
    tr_gtid_set_init(&set);
    tr_gtid_set_add(&set, cfg->server_uuid_bin, NULL, 1, n + 1);
    (void)tr_gtid_set_format(&set, ",", out, cap);
    tr_gtid_set_cleanup(&set);
}

/* One transaction's GTID in flavour f ("" for n = 0). */
static void one_gtid(const tr_config_t *cfg, tr_flavor_t f, uint64_t n, char *out, size_t cap)
{
    out[0] = '\0';
    if (n == 0) {
        return;
    }
    if (f == TR_FLAVOR_MARIADB) {
        snprintf(out, cap, "%" PRIu32 "-%" PRIu32 "-%" PRIu64, cfg->gtid_domain_id, cfg->server_id,
                 n);
    } else {
        snprintf(out, cap, "%s:%" PRIu64, cfg->server_uuid, n);
    }
}

static bool parse_u64_text(const char *p, uint64_t *out)
{
    if (*p < '0' || *p > '9') {
        return false;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(p, &end, 10);
    if (errno != 0 || *end != '\0') {
        return false;
    }
    *out = v;
    return true;
}

/* A GTID of ours, either flavour: "<server-uuid>:N" or "<domain>-<server-id>-N".
 * Returns N, or 0 with *why when it is not one of ours. */
static uint64_t parse_own_gtid(const tr_config_t *cfg, const char *g, const char **why)
{
    uint64_t n = 0;
    const char *colon = strchr(g, ':');
    if (colon != NULL) {
        if ((size_t)(colon - g) != 36 || strncasecmp(g, cfg->server_uuid, 36) != 0) {
            *why = "not a GTID of this tirelay (its source id is [server] server-uuid)";
            return 0;
        }
        if (!parse_u64_text(colon + 1, &n) || n == 0) {
            *why = "expected a GTID 'uuid:N' or 'domain-server_id-N'";
            return 0;
        }
        return n;
    }
    uint64_t d = 0;
    uint64_t sid = 0;
    char a[24];
    char b[24];
    char c[24];
    if (sscanf(g, "%23[0-9]-%23[0-9]-%23[0-9]", a, b, c) != 3 || !parse_u64_text(a, &d) ||
        !parse_u64_text(b, &sid) || !parse_u64_text(c, &n) || n == 0 ||
        strlen(a) + strlen(b) + strlen(c) + 2 != strlen(g)) {
        *why = "expected a GTID 'uuid:N' or 'domain-server_id-N'";
        return 0;
    }
    if (d != cfg->gtid_domain_id || sid != cfg->server_id) {
        *why = "not a GTID of this tirelay (its domain is [server] gtid-domain-id, its server id "
               "[server] server-id)";
        return 0;
    }
    return n;
}

/* ---------------------------------------------------------------- jobs off the loop */

/*
 * SHOW BINLOG EVENTS, SHOW BINLOG POSITION and SHOW RELAY STATUS read files,
 * the sqlite index or the relay's locks, which may block: they run in libuv's
 * thread pool (uv_queue_work). The session is held meanwhile (it answers
 * nothing else), the answer is built into the job's own buffer with a copy of
 * the sequence id, and handed to the session on the loop.
 */
typedef struct {
    uv_work_t req;
    tr_server_t *srv;
    void *ctx;                  /* the asker (tr_admin_reply_t) */
    void (*deliver)(void *ctx, const tr_buf_t *answer, uint8_t seq);
    tr_store_t *store;
    const tr_config_t *cfg;
    tr_server_upstream_t upstream; /* counted use (tr_server_upstream_use) when has_upstream */
    bool has_upstream;
    tr_flavor_t flavor;         /* the session's listener */
    tr_sql_kind_t kind;
    tr_buf_t out;
    uint8_t seq;
    bool deprecate_eof;
    /* SHOW BINLOG EVENTS */
    events_args_t ev;
    /* SHOW BINLOG POSITION */
    tr_sql_pos_by_t pos_by;
    int64_t pos_tso;
    char pos_arg[128];
    bool pos_arg_too_long;
    uint64_t pos_pos;
    /* SHOW RELAY STATUS: dumps per flavour, counted on the loop */
    size_t replicas[TR_FLAVOR_COUNT];
} job_t;

/* Position of flavour f right after transaction t (or at the start when t is NULL). */
typedef struct {
    bool ok;
    char file[96];
    uint64_t pos;
} flavor_pos_t;

/* Where a replica of flavour f resumes after transaction number after_gno
 * (whose end is t->end[f] in file t->seq[f]; t NULL: before the first
 * transaction). Returns false with a message when that place is purged. */
static bool pos_after(job_t *j, tr_flavor_t f, const tr_store_txn_t *t, flavor_pos_t *out,
                      char *msg, size_t cap)
{
    memset(out, 0, sizeof(*out));
    tr_binlog_file_t *files = NULL;
    size_t nf = 0;
    if (tr_store_list_files(j->store, f, &files, &nf) != 0 || nf == 0) {
        tr_free(files);
        snprintf(msg, cap, "no %s binlog file", tr_flavor_name(f));
        return false;
    }
    bool ok = false;
    if (t == NULL) {
        /* Before the first transaction: the start of the very first file, if kept. */
        if (files[0].seq == 1) {
            snprintf(out->file, sizeof(out->file), "%s", files[0].name);
            out->pos = 4;
            ok = true;
        }
    } else if (t->has_pos[f]) {
        for (size_t i = 0; i < nf && !ok; i++) {
            if (files[i].seq == t->seq[f]) {
                snprintf(out->file, sizeof(out->file), "%s", files[i].name);
                out->pos = t->end[f];
                ok = true;
            }
        }
        if (!ok && files[0].first_gno == t->gtid_no + 1) {
            /* Its file is gone but the oldest kept file starts right after it. */
            snprintf(out->file, sizeof(out->file), "%s", files[0].name);
            out->pos = 4;
            ok = true;
        }
    }
    if (!ok) {
        snprintf(msg, cap,
                 "that position is purged from the %s binlog: the oldest file kept is %s, "
                 "which starts after GTID number %" PRIu64,
                 tr_flavor_name(f), files[0].name, files[0].first_gno - 1);
    }
    out->ok = ok;
    tr_free(files);
    return ok;
}

#define ER_UNKNOWN_ERROR 1105

static void position_rows(job_t *j, const tr_admin_reply_t *r, const tr_store_txn_t *t)
{
    flavor_pos_t fp[TR_FLAVOR_COUNT];
    char msg[400];
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        fp[f].ok = false;
        if (tr_store_flavor_enabled(j->store, (tr_flavor_t)f) &&
            !pos_after(j, (tr_flavor_t)f, t, &fp[f], msg, sizeof(msg))) {
            reply_err(r, ER_UNKNOWN_ERROR, "%s", msg);
            return;
        }
    }
    uint64_t n = t != NULL ? t->gtid_no : (j->cfg->gtid_start > 0 ? j->cfg->gtid_start - 1 : 0);
    tr_res_col_t cols[7] = {tr_res_col_str("Flavor"),      tr_res_col_str("Log_name"),
                            tr_res_col_num("Log_pos"),     tr_res_col_str("Executed_Gtid_Set"),
                            tr_res_col_str("Last_gtid"),   tr_res_col_num("Commit_ts"),
                            tr_res_col_str("Commit_time")};
    tr_res_writer_t w;
    tr_res_begin(&w, r->out, r->seq, r->deprecate_eof, cols, 7);
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (!fp[f].ok) {
            continue;
        }
        char set[256];
        char gtid[128];
        char when[40];
        executed_set(j->cfg, (tr_flavor_t)f, n, set, sizeof(set));
        one_gtid(j->cfg, (tr_flavor_t)f, t != NULL ? t->gtid_no : 0, gtid, sizeof(gtid));
        tso_time(t != NULL ? t->commit_ts : 0, when, sizeof(when));
        tr_res_row_begin(&w);
        tr_res_cell_str(&w, tr_flavor_name((tr_flavor_t)f));
        tr_res_cell_str(&w, fp[f].file);
        tr_res_cell_u64(&w, fp[f].pos);
        tr_res_cell_str(&w, set);
        tr_res_cell_str(&w, gtid);
        tr_res_cell_u64(&w, t != NULL ? (uint64_t)t->commit_ts : 0);
        tr_res_cell_str(&w, when);
        tr_res_row_end(&w);
    }
    tr_res_end(&w, r->status);
}

static void show_binlog_position(job_t *j, const tr_admin_reply_t *r)
{
    tr_store_txn_t t;
    const char *why = NULL;
    int rc = 0;
    tr_store_checkpoint_t last;
    tr_store_last_txn(j->store, &last);
    char last_desc[160];
    if (last.has_txn) {
        snprintf(last_desc, sizeof(last_desc), "commit_ts %" PRId64 ", GTID number %" PRIu64,
                 last.commit_ts, last.gtid_no);
    } else {
        snprintf(last_desc, sizeof(last_desc), "none yet");
    }
    switch (j->pos_by) {
    case TR_SQL_POS_BY_TSO: {
        int64_t complete = last.has_txn ? last.commit_ts : 0;
        tr_upstream_status_t st;
        if (j->has_upstream && j->upstream.status(j->upstream.arg, &st) == 0) {
            if (st.durable_ts > complete) {
                complete = st.durable_ts; /* nothing at or below it is still to come */
            }
            tr_upstream_status_cleanup(&st);
        }
        if (j->pos_tso > complete) {
            reply_err(r, ER_UNKNOWN_ERROR,
                      "TSO %" PRId64 " is not written yet: tirelay has every transaction up to "
                      "TSO %" PRId64 " (last transaction written: %s); retry later",
                      j->pos_tso, complete, last_desc);
            return;
        }
        rc = tr_store_find_txn(j->store, TR_STORE_FIND_TSO, j->pos_tso, j->flavor, 0, &t, &why);
        if (rc == TR_ENOTFOUND) {
            position_rows(j, r, NULL); /* before the first transaction */
            return;
        }
        break;
    }
    case TR_SQL_POS_BY_GTID: {
        if (j->pos_arg_too_long) {
            reply_err(r, ER_WRONG_VALUE, "expected a GTID 'uuid:N' or 'domain-server_id-N'");
            return;
        }
        uint64_t n = parse_own_gtid(j->cfg, j->pos_arg, &why);
        if (n == 0) {
            reply_err(r, ER_WRONG_VALUE, "Incorrect GTID value: '%s': %s", j->pos_arg, why);
            return;
        }
        if (n > INT64_MAX) {
            rc = TR_ENOTFOUND;
        } else {
            rc = tr_store_find_txn(j->store, TR_STORE_FIND_GTID, (int64_t)n, j->flavor, 0, &t,
                                   &why);
        }
        if (rc == TR_ENOTFOUND) {
            reply_err(r, ER_UNKNOWN_ERROR,
                      "GTID '%s' is not in the index: not written yet or older than the index "
                      "(last transaction written: %s)",
                      j->pos_arg, last_desc);
            return;
        }
        break;
    }
    case TR_SQL_POS_BY_POSITION: {
        tr_binlog_file_t f;
        if (j->pos_arg_too_long ||
            tr_store_file_by_name(j->store, j->flavor, j->pos_arg, &f) != 0) {
            reply_err(r, ER_UNKNOWN_TARGET_BINLOG,
                      "Could not find binlog file '%s' of the %s flavour (purged, or not one of "
                      "ours)",
                      j->pos_arg, tr_flavor_name(j->flavor));
            return;
        }
        if (j->pos_pos < 4 || j->pos_pos > f.size) {
            reply_err(r, ER_UNKNOWN_ERROR,
                      "position %" PRIu64 " is outside %s (4..%" PRIu64 ")", j->pos_pos, f.name,
                      f.size);
            return;
        }
        if (j->pos_pos > INT64_MAX) {
            rc = TR_ENOTFOUND;
        } else {
            rc = tr_store_find_txn(j->store, TR_STORE_FIND_POS, (int64_t)j->pos_pos, j->flavor,
                                   f.seq, &t, &why);
        }
        if (rc == TR_ENOTFOUND) {
            /* No transaction of this file ends at or before pos: the one before the file. */
            if (f.first_gno <= 1 || f.first_gno - 1 < j->cfg->gtid_start) {
                position_rows(j, r, NULL);
                return;
            }
            rc = tr_store_find_txn(j->store, TR_STORE_FIND_GTID, (int64_t)(f.first_gno - 1),
                                   j->flavor, 0, &t, &why);
            if (rc == TR_ENOTFOUND) {
                reply_err(r, ER_UNKNOWN_ERROR, "no transaction before %s:%" PRIu64 " in the index",
                          f.name, j->pos_pos);
                return;
            }
        }
        break;
    }
    }
    if (rc != 0) {
        reply_err(r, ER_UNKNOWN_ERROR, "binlog index lookup failed: %s",
                  why ? why : tr_strerror(rc));
        return;
    }
    position_rows(j, r, &t);
}

static const char *pump_state(const tr_upstream_source_t *p)
{
    if (p->is_unreachable) {
        return "unreachable";
    }
    if (!p->in_merge) {
        return "offline";
    }
    return p->state;
}

static uint64_t lag_ms(int64_t now_ms, int64_t ts)
{
    if (ts <= 0) {
        return 0;
    }
    int64_t d = now_ms - tr_tso_ms(ts);
    return d > 0 ? (uint64_t)d : 0;
}

/*
 * SHOW RELAY STATUS: one row per Pump, one "relay" row, one row per enabled
 * flavour (README "SHOW RELAY STATUS" documents the columns). Empty cells
 * are NULL.
 */
static void show_relay_status(job_t *j, const tr_admin_reply_t *r)
{
    tr_upstream_status_t st;
    memset(&st, 0, sizeof(st));
    bool has_relay = j->has_upstream && j->upstream.status(j->upstream.arg, &st) == 0;
    if (!has_relay) {
        st.now_ms = tr_clock_wall_ms();
    }
    tr_store_checkpoint_t last;
    tr_store_last_txn(j->store, &last);
    enum { NCOLS = 11 };
    tr_res_col_t cols[NCOLS] = {
        tr_res_col_str("Kind"),           tr_res_col_str("Name"),
        tr_res_col_str("Address"),        tr_res_col_str("State"),
        tr_res_col_num("Commit_ts"),      tr_res_col_num("Lag_ms"),
        tr_res_col_num("Schema_version"), tr_res_col_str("Last_gtid"),
        tr_res_col_num("Files"),          tr_res_col_num("Bytes"),
        tr_res_col_num("Replicas"),
    };
    tr_res_writer_t w;
    tr_res_begin(&w, r->out, r->seq, r->deprecate_eof, cols, NCOLS);
    for (size_t i = 0; i < st.n_sources; i++) {
        const tr_upstream_source_t *p = &st.sources[i];
        tr_res_row_begin(&w);
        tr_res_cell_str(&w, p->kind != NULL ? p->kind : "pump");
        tr_res_cell_str(&w, p->node_id);
        tr_res_cell_str(&w, p->addr);
        tr_res_cell_str(&w, pump_state(p));
        if (p->last_ts > 0) {
            tr_res_cell_u64(&w, (uint64_t)p->last_ts);
            tr_res_cell_u64(&w, lag_ms(st.now_ms, p->last_ts));
        } else {
            tr_res_cell_str(&w, NULL);
            tr_res_cell_str(&w, NULL);
        }
        for (int k = 0; k < 5; k++) {
            tr_res_cell_str(&w, NULL);
        }
        tr_res_row_end(&w);
    }
    /* The relay as a whole: merge watermark, schema version and GTID of the last write. */
    size_t all_replicas = 0;
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        all_replicas += j->replicas[f];
    }
    tr_res_row_begin(&w);
    tr_res_cell_str(&w, "relay");
    tr_res_cell_str(&w, st.input != NULL ? st.input : st.is_discovery ? "discovery" : "static");
    tr_res_cell_str(&w, j->cfg->pd_urls[0] != '\0'       ? j->cfg->pd_urls
                        : j->cfg->ticdc_kafka[0] != '\0' ? j->cfg->ticdc_topic
                                                         : NULL);
    tr_res_cell_str(&w, !has_relay           ? "stopping"
                        : st.has_failed      ? "failed"
                        : st.is_store_full   ? "disk full"
                                             : "running");
    if (has_relay && st.merge_watermark > 0) {
        tr_res_cell_u64(&w, (uint64_t)st.merge_watermark);
        tr_res_cell_u64(&w, lag_ms(st.now_ms, st.merge_watermark));
    } else {
        tr_res_cell_str(&w, NULL);
        tr_res_cell_str(&w, NULL);
    }
    char num[32];
    if (last.has_txn) {
        snprintf(num, sizeof(num), "%" PRId64, last.schema_version);
        tr_res_cell_str(&w, num);
    } else {
        tr_res_cell_str(&w, NULL);
    }
    tr_res_cell_str(&w, NULL);
    tr_res_cell_str(&w, NULL);
    tr_res_cell_str(&w, NULL);
    tr_res_cell_u64(&w, all_replicas);
    tr_res_row_end(&w);
    /* Each flavour's binlog: the last transaction written, files, bytes, dumps. */
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (!tr_store_flavor_enabled(j->store, (tr_flavor_t)f)) {
            continue;
        }
        tr_binlog_file_t *files = NULL;
        size_t nf = 0;
        uint64_t bytes = 0;
        if (tr_store_list_files(j->store, (tr_flavor_t)f, &files, &nf) == 0) {
            for (size_t i = 0; i < nf; i++) {
                bytes += files[i].size;
            }
        }
        const tr_addr_t *a = f == TR_FLAVOR_MYSQL ? &j->cfg->listen : &j->cfg->mariadb_listen;
        char addr[300];
        snprintf(addr, sizeof(addr), "%s:%u", a->host, (unsigned)a->port);
        char gtid[128];
        one_gtid(j->cfg, (tr_flavor_t)f, last.has_txn ? last.gtid_no : 0, gtid, sizeof(gtid));
        tr_res_row_begin(&w);
        tr_res_cell_str(&w, "binlog");
        tr_res_cell_str(&w, tr_flavor_name((tr_flavor_t)f));
        tr_res_cell_str(&w, addr);
        tr_res_cell_str(&w, nf > 0 ? files[nf - 1].name : NULL);
        if (last.has_txn) {
            tr_res_cell_u64(&w, (uint64_t)last.commit_ts);
            tr_res_cell_u64(&w, lag_ms(st.now_ms, last.commit_ts));
            snprintf(num, sizeof(num), "%" PRId64, last.schema_version);
            tr_res_cell_str(&w, num);
        } else {
            tr_res_cell_str(&w, NULL);
            tr_res_cell_str(&w, NULL);
            tr_res_cell_str(&w, NULL);
        }
        tr_res_cell_str(&w, gtid[0] ? gtid : NULL);
        tr_res_cell_u64(&w, nf);
        tr_res_cell_u64(&w, bytes);
        tr_res_cell_u64(&w, j->replicas[f]);
        tr_res_row_end(&w);
        tr_free(files);
    }
    tr_res_end(&w, r->status);
    tr_upstream_status_cleanup(&st);
}

static void job_work(uv_work_t *req)
{
    job_t *j = req->data;
    tr_admin_reply_t r = {.srv = j->srv, .flavor = j->flavor, .out = &j->out, .seq = &j->seq,
                          .deprecate_eof = j->deprecate_eof, .status = TR_SERVER_STATUS_AUTOCOMMIT};
    switch (j->kind) {
    case TR_SQL_SHOW_BINLOG_EVENTS:
        show_binlog_events(&r, j->store, j->flavor, &j->ev);
        break;
    case TR_SQL_SHOW_BINLOG_POSITION:
        show_binlog_position(j, &r);
        break;
    case TR_SQL_SHOW_RELAY_STATUS:
        show_relay_status(j, &r);
        break;
    default:
        reply_err(&r, TR_ER_PARSE, "not an admin statement");
        break;
    }
}

static void job_done(uv_work_t *req, int status)
{
    job_t *j = req->data;
    if (j->has_upstream) {
        tr_server_upstream_done(j->srv);
    }
    if (status != 0) { /* cancelled: never ran */
        tr_buf_reset(&j->out);
        tr_admin_reply_t r = {.srv = j->srv, .flavor = j->flavor, .out = &j->out, .seq = &j->seq,
                              .deprecate_eof = j->deprecate_eof,
                              .status = TR_SERVER_STATUS_AUTOCOMMIT};
        reply_err(&r, ER_UNKNOWN_ERROR, "statement cancelled: %s", tr_strerror(status));
    }
    j->deliver(j->ctx, &j->out, j->seq); /* may free the asker */
    tr_buf_cleanup(&j->out);
    tr_free(j);
}

/* SHOW RELAY STATUS: dumps per flavour (arg: size_t[TR_FLAVOR_COUNT]). */
static bool count_replica(void *arg, const tr_sess_info_t *s)
{
    size_t *replicas = arg;
    replicas[s->flavor] += s->dump != NULL;
    return true;
}

static void queue_job(const tr_admin_reply_t *r, const tr_sql_cmd_t *q)
{
    tr_server_t *srv = r->srv;
    job_t *j = tr_calloc(1, sizeof(*j));
    j->req.data = j;
    j->srv = srv;
    j->ctx = r->ctx;
    j->deliver = r->deliver;
    j->store = srv->store;
    j->cfg = srv->cfg;
    j->flavor = r->flavor;
    j->kind = q->kind;
    j->seq = *r->seq;
    j->deprecate_eof = r->deprecate_eof;
    tr_buf_init(&j->out, 0);
    switch (q->kind) {
    case TR_SQL_SHOW_BINLOG_EVENTS:
        j->ev.has_name = q->log_name.len > 0;
        if (j->ev.has_name) {
            size_t n = tr_sql_unquote(q->log_name, j->ev.name, sizeof(j->ev.name));
            j->ev.name_too_long = n >= sizeof(j->ev.name);
        }
        j->ev.has_from = q->has_from;
        j->ev.from_pos = q->from_pos;
        j->ev.has_limit = q->has_limit;
        j->ev.limit = q->limit;
        j->ev.limit_offset = q->limit_offset;
        break;
    case TR_SQL_SHOW_BINLOG_POSITION:
        j->pos_by = q->pos_by;
        j->pos_tso = (int64_t)q->pos_tso;
        j->pos_pos = q->pos_pos;
        if (q->pos_by != TR_SQL_POS_BY_TSO) {
            size_t n = tr_sql_unquote(q->pos_arg, j->pos_arg, sizeof(j->pos_arg));
            j->pos_arg_too_long = n >= sizeof(j->pos_arg);
        }
        if (q->pos_by == TR_SQL_POS_BY_TSO) {
            j->has_upstream = tr_server_upstream_use(srv, &j->upstream);
        }
        break;
    case TR_SQL_SHOW_RELAY_STATUS:
        j->has_upstream = tr_server_upstream_use(srv, &j->upstream);
        tr_sess_each(srv, count_replica, j->replicas);
        break;
    default:
        break;
    }
    int rc = uv_queue_work(srv->loop, &j->req, job_work, job_done);
    if (rc == 0) {
        r->defer(r->ctx); /* nothing else is answered until job_done */
        return;
    }
    /* uv_queue_work refused (it only checks its arguments): answer here, on the loop. */
    job_work(&j->req);
    tr_buf_append(r->out, tr_buf_head(&j->out), tr_buf_unread(&j->out));
    *r->seq = j->seq;
    if (j->has_upstream) {
        tr_server_upstream_done(srv);
    }
    tr_buf_cleanup(&j->out);
    tr_free(j);
}

/* ---------------------------------------------------------------- retention */

void tr_admin_retention(tr_server_t *srv)
{
    const tr_config_t *cfg = srv->cfg;
    int64_t now = (int64_t)time(NULL);
    for (int fi = 0; fi < TR_FLAVOR_COUNT; fi++) {
        tr_flavor_t f = (tr_flavor_t)fi;
        if (!tr_store_flavor_enabled(srv->store, f)) {
            continue;
        }
        tr_binlog_file_t *files = NULL;
        size_t nf = 0;
        if (tr_store_list_files(srv->store, f, &files, &nf) != 0 || nf < 2) {
            tr_free(files);
            continue;
        }
        uint64_t total = 0;
        for (size_t i = 0; i < nf; i++) {
            total += files[i].size;
        }
        uint32_t reader = 0;
        uint32_t in_use = oldest_in_use(srv, f, &reader);
        uint32_t upto = 0; /* purge files numbered below this */
        const char *reason = NULL;
        bool held = false;
        /* Oldest first, never the active (last) file, never one a dump reads. */
        for (size_t i = 0; i + 1 < nf; i++) {
            bool expired = false;
            if (cfg->expire_logs_seconds > 0) {
                struct stat sb;
                expired = stat(files[i].path, &sb) == 0 &&
                          (int64_t)sb.st_mtime + (int64_t)cfg->expire_logs_seconds <= now;
            }
            bool oversize = cfg->max_binlog_total_size > 0 && total > cfg->max_binlog_total_size;
            if (!expired && !oversize) {
                break;
            }
            if (files[i].seq >= in_use) {
                held = true;
                break;
            }
            reason = expired ? "expire-logs-seconds" : "max-binlog-total-size";
            upto = files[i].seq + 1;
            total -= files[i].size;
        }
        char last_name[96] = "";
        for (size_t i = 0; i < nf; i++) {
            if (files[i].seq + 1 == upto) {
                snprintf(last_name, sizeof(last_name), "%s", files[i].name);
            }
        }
        tr_free(files);
        if (held && srv->retention_held_seq[f] != in_use) {
            /* Logged once per file held, not every second. */
            srv->retention_held_seq[f] = in_use;
            tr_log_info(COMP,
                        "retention keeps a file a dump still reads flavor=%s seq=%" PRIu32
                        " reader_sess=%" PRIu32,
                        tr_flavor_name(f), in_use, reader);
        }
        if (upto == 0) {
            continue;
        }
        size_t purged = 0;
        const char *why = NULL;
        int rc = tr_store_purge(srv->store, f, upto, &purged, &why);
        if (rc != 0) {
            tr_log_warn(COMP, "retention purge failed flavor=%s err=%s", tr_flavor_name(f),
                        why ? why : tr_strerror(rc));
            continue;
        }
        tr_log_info(COMP,
                    "retention purge flavor=%s files=%zu through=%s reason=%s total_bytes=%" PRIu64,
                    tr_flavor_name(f), purged, last_name, reason, total);
    }
}

void tr_admin_show_binlog_events(const tr_admin_reply_t *r, const tr_sql_cmd_t *q)
{
    queue_job(r, q);
}

void tr_admin_show_relay_status(const tr_admin_reply_t *r, const tr_sql_cmd_t *q)
{
    queue_job(r, q);
}

void tr_admin_show_binlog_position(const tr_admin_reply_t *r, const tr_sql_cmd_t *q)
{
    queue_job(r, q);
}

void tr_admin_show_replicas(const tr_admin_reply_t *r, const tr_sql_cmd_t *q)
{
    show_replicas(r, q);
}

void tr_admin_purge_logs(const tr_admin_reply_t *r, const tr_sql_cmd_t *q)
{
    purge_logs(r, q);
}

void tr_admin_flush_logs(const tr_admin_reply_t *r, const tr_sql_cmd_t *q)
{
    (void)q;
    /* Rotation belongs to the writer thread, at transaction boundaries. */
    reply_err(r, ER_NOT_SUPPORTED_YET,
              "This version of tirelay doesn't yet support 'FLUSH BINARY LOGS' (files rotate "
              "at max-binlog-size)");
}

void tr_admin_show_grants(const tr_admin_reply_t *r, const tr_sql_cmd_t *q)
{
    (void)q;
    show_grants(r);
}
