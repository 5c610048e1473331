/*
 * Store tests in a temp dir under /tmp: fresh open, append/end/commit,
 * rotation, reopen, crash recovery (uncommitted and garbage tails cut back),
 * missing files, and `mariadb-binlog` decoding every produced file; fault injection
 * through a tr_store_io_t: ENOSPC (partial writes, at rotation), EIO on fsync, short
 * writes, a torn tail and a CRC-corrupt event at start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/endian.h"
#include "common/err.h"
#include "common/mem.h"
#include "protocol/binlog_event.h"
#include "protocol/rows.h"
#include "store/binlog_file.h"
#include "store/reader.h"
#include "store/store.h"
#include "tr_test.h"

#include <errno.h>
#include <fcntl.h>

static const uint8_t uuid[16] = {0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1,
                                 0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62};

static void make_tmpdir(char *dir, size_t len)
{
    snprintf(dir, len, "/tmp/tr_store_test_XXXXXX");
    if (mkdtemp(dir) == NULL) {
        dir[0] = '\0';
    }
}

static void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", dir);
    }
}

static tr_store_opts_t opts_for(const char *dir, bool mysql, bool maria, uint64_t max_size)
{
    tr_store_opts_t o;
    memset(&o, 0, sizeof(o));
    o.dir = dir;
    o.basename = "tirelay-bin";
    o.max_binlog_size = max_size;
    o.sync = TR_SYNC_COMMIT;
    o.server_id = 42;
    memcpy(o.server_uuid, uuid, 16);
    o.gtid_domain_id = 0;
    o.gtid_start = 1;
    o.flavors[TR_FLAVOR_MYSQL] = mysql;
    o.flavors[TR_FLAVOR_MARIADB] = maria;
    return o;
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Appends one small DML transaction (gtid gno) to every enabled flavour and ends it. */
static int add_txn(tr_store_t *s, uint64_t gno)
{
    uint32_t ts = 1700000000u + (uint32_t)gno;
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        if (!tr_store_flavor_enabled(s, (tr_flavor_t)f)) {
            continue;
        }
        tr_buf_t b;
        tr_buf_init(&b, 0);
        tr_evt_writer_t w;
        tr_evt_writer_init(&w, &b, tr_store_txn_pos(s, (tr_flavor_t)f), (tr_flavor_t)f, 42, true);
        w.timestamp = ts;
        if (f == TR_FLAVOR_MYSQL) {
            tr_gtid_event_t g;
            memset(&g, 0, sizeof(g));
            memcpy(g.uuid, uuid, 16);
            g.gno = gno;
            g.last_committed = 0;
            g.sequence_number = 1;
            g.commit_ts_us = (uint64_t)ts * 1000000;
            tr_evt_put_gtid(&w, &g);
            tr_query_event_t q;
            memset(&q, 0, sizeof(q));
            q.sql = "BEGIN";
            q.sql_len = 5;
            q.db = "";
            tr_evt_put_query(&w, &q);
        } else {
            tr_evt_put_maria_gtid(&w, gno, 0,
                                  TR_MARIA_FL_TRANSACTIONAL | TR_MARIA_FL_ALLOW_PARALLEL, 0);
        }
        tr_col_def_t cols[2] = {
            {.type = TR_MYSQL_TYPE_LONG, .name = "id"},
            {.type = TR_MYSQL_TYPE_VARCHAR, .meta = 40, .nullable = true, .name = "v"},
        };
        tr_evt_put_table_map(&w, 100, "d", 1, "t", 1, cols, 2);
        tr_evt_rows_begin(&w, TR_EVT_WRITE_ROWS, 100, 2);
        tr_rows_image_t img;
        tr_rows_image_begin(&img, &b, 2);
        tr_rows_put_int(&b, TR_MYSQL_TYPE_LONG, (int64_t)gno);
        tr_rows_put_varchar(&b, 40, (const uint8_t *)"value", 5);
        tr_evt_rows_end(&w, TR_ROWS_STMT_END);
        tr_evt_put_xid(&w, gno);
        int r = tr_store_txn_append(s, (tr_flavor_t)f, b.data, b.len);
        tr_buf_cleanup(&b);
        if (r != 0) {
            return r;
        }
    }
    tr_txn_info_t info = {gno, (int64_t)gno * 1000, 7, ts};
    return tr_store_txn_end(s, &info);
}

static int notified;
static void on_notify(void *arg)
{
    notified++;
}

/* Runs mariadb-binlog on a file; returns its exit code, output in *out (malloc'd). */
static int mariadb_binlog(const char *path, char **out)
{
    char cmd[800];
    snprintf(cmd, sizeof(cmd), "mariadb-binlog -vv --base64-output=decode-rows '%s' 2>&1", path);
    FILE *pp = popen(cmd, "r");
    if (pp == NULL) {
        return -1;
    }
    size_t cap = 1 << 16;
    size_t len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, pp)) > 0) {
        len += n;
        if (cap - len < 1024) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    buf[len] = '\0';
    int st = pclose(pp);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void expect_decodes(tr_store_t *s, tr_flavor_t f)
{
    tr_binlog_file_t *files = NULL;
    size_t n = 0;
    EXPECT_EQ_INT(tr_store_list_files(s, f, &files, &n), 0);
    for (size_t i = 0; i < n; i++) {
        char *out = NULL;
        int st = mariadb_binlog(files[i].path, &out);
        EXPECT_EQ_INT(st, 0);
        if (st != 0 && out) {
            fprintf(stderr, "%s: %s\n", files[i].path, out);
        }
        free(out);
    }
    tr_free(files);
}

TR_TEST(fresh_open_creates_first_file)
{
    char dir[64];
    make_tmpdir(dir, sizeof(dir));
    tr_store_opts_t o = opts_for(dir, true, true, 1 << 20);
    tr_store_t *s = NULL;
    tr_store_checkpoint_t cp;
    const char *why = NULL;
    int r = tr_store_open(&o, &s, &cp, &why);
    EXPECT_EQ_INT(r, 0);
    if (r != 0) {
        fprintf(stderr, "open: %s\n", why);
        return;
    }
    EXPECT_TRUE(!cp.has_txn);
    tr_binlog_file_t bf;
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MYSQL, &bf), 0);
    EXPECT_EQ_STR(bf.name, "tirelay-bin.000001");
    EXPECT_EQ_U64(bf.size, 157); /* magic + FD 122 + empty PREVIOUS_GTIDS 31 */
    EXPECT_TRUE(bf.is_active);
    EXPECT_EQ_U64(file_size(bf.path), 157);
    EXPECT_EQ_U64(tr_store_txn_pos(s, TR_FLAVOR_MYSQL), 157);
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MARIADB, &bf), 0);
    EXPECT_EQ_U64(bf.size, 4 + 252 + 29 + 45); /* FD, GTID_LIST [], BINLOG_CHECKPOINT */
    EXPECT_EQ_INT(tr_store_file_by_name(s, TR_FLAVOR_MYSQL, "nope.000001", &bf), TR_ENOTFOUND);
    EXPECT_EQ_INT(tr_store_file_next(s, TR_FLAVOR_MYSQL, 1, &bf), TR_ENOTFOUND);
    expect_decodes(s, TR_FLAVOR_MYSQL);
    expect_decodes(s, TR_FLAVOR_MARIADB);
    tr_store_free(s);
    rm_rf(dir);
}

TR_TEST(commit_rotate_reopen_recover)
{
    char dir[64];
    make_tmpdir(dir, sizeof(dir));
    tr_store_opts_t o = opts_for(dir, true, true, 1200);
    tr_store_t *s = NULL;
    tr_store_checkpoint_t cp;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_store_open(&o, &s, &cp, &why), 0);
    if (s == NULL) {
        return;
    }
    tr_store_set_notify(s, on_notify, NULL);
    notified = 0;

    /* Group commit of 3 transactions: visible only after commit. */
    for (uint64_t g = 1; g <= 3; g++) {
        EXPECT_EQ_INT(add_txn(s, g), 0);
    }
    EXPECT_TRUE(tr_store_has_pending(s));
    tr_binlog_file_t bf;
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MYSQL, &bf), 0);
    EXPECT_EQ_U64(bf.size, 157);
    uint64_t end3 = tr_store_txn_pos(s, TR_FLAVOR_MYSQL);
    EXPECT_EQ_INT(tr_store_commit(s), 0);
    EXPECT_TRUE(!tr_store_has_pending(s));
    EXPECT_EQ_INT(notified, 1);
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MYSQL, &bf), 0);
    EXPECT_EQ_U64(bf.size, end3);
    EXPECT_EQ_U64(file_size(bf.path), end3);
    EXPECT_EQ_INT(add_txn(s, 3), TR_ESEQUENCE); /* numbers only go up */
    tr_store_abort(s);                          /* drops the bytes add_txn appended */

    /* More transactions until the MySQL file passes 1200 bytes: rotation. */
    uint64_t g = 4;
    while (g < 40) {
        EXPECT_EQ_INT(add_txn(s, g), 0);
        EXPECT_EQ_INT(tr_store_commit(s), 0);
        g++;
        EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MYSQL, &bf), 0);
        if (bf.seq >= 2) {
            break;
        }
    }
    uint64_t last_gno = g - 1;
    EXPECT_EQ_INT(bf.seq, 2);
    EXPECT_EQ_STR(bf.name, "tirelay-bin.000002");
    tr_binlog_file_t first;
    EXPECT_EQ_INT(tr_store_file_first(s, TR_FLAVOR_MYSQL, &first), 0);
    EXPECT_TRUE(!first.is_active);
    EXPECT_EQ_U64(file_size(first.path), first.size);
    EXPECT_EQ_INT(tr_store_file_next(s, TR_FLAVOR_MYSQL, 1, &bf), 0);
    EXPECT_EQ_INT(bf.seq, 2);
    /* Last event of .000001 is a real ROTATE to .000002 at 4. */
    size_t len = 0;
    FILE *fp = fopen(first.path, "rb");
    uint8_t *data = malloc(first.size);
    len = fread(data, 1, first.size, fp);
    fclose(fp);
    EXPECT_EQ_U64(len, first.size);
    const size_t rot_len = 19 + 8 + 18 + 4;
    const uint8_t *rot = data + len - rot_len;
    EXPECT_EQ_INT(rot[4], TR_EVT_ROTATE);
    EXPECT_EQ_INT(tr_load_u32le(rot + 13), len);
    EXPECT_EQ_U64(tr_load_u64le(rot + 19), 4);
    EXPECT_EQ_MEM(rot + 27, 18, "tirelay-bin.000002", 18);
    EXPECT_EQ_INT(tr_evt_check_crc(rot, rot_len), 0);
    EXPECT_EQ_INT(tr_load_u32le(rot), 1700000000u + last_gno); /* last txn's timestamp */
    free(data);
    /* PREVIOUS_GTIDS of .000002 = { uuid : 1 .. last_gno } (end exclusive on the wire). */
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MYSQL, &bf), 0);
    fp = fopen(bf.path, "rb");
    uint8_t head[200];
    len = fread(head, 1, sizeof(head), fp);
    fclose(fp);
    EXPECT_TRUE(len >= 126 + 19 + 48);
    const uint8_t *pg = head + 126;
    EXPECT_EQ_INT(pg[4], TR_EVT_PREVIOUS_GTIDS);
    EXPECT_EQ_U64(tr_load_u64le(pg + 19), 1);
    EXPECT_EQ_MEM(pg + 27, 16, uuid, 16);
    EXPECT_EQ_U64(tr_load_u64le(pg + 43), 1);
    EXPECT_EQ_U64(tr_load_u64le(pg + 51), 1);
    EXPECT_EQ_U64(tr_load_u64le(pg + 59), last_gno + 1);
    /* The .index file lists both. */
    char ipath[200];
    snprintf(ipath, sizeof(ipath), "%s/binlog/mysql/tirelay-bin.index", dir);
    fp = fopen(ipath, "r");
    char itext[256] = {0};
    EXPECT_TRUE(fp != NULL);
    if (fp) {
        len = fread(itext, 1, sizeof(itext) - 1, fp);
        fclose(fp);
    }
    EXPECT_EQ_STR(itext, "./tirelay-bin.000001\n./tirelay-bin.000002\n");
    expect_decodes(s, TR_FLAVOR_MYSQL);
    expect_decodes(s, TR_FLAVOR_MARIADB);

    /* Crash: appended and ended but not committed, then the process dies. */
    tr_binlog_file_t before;
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MYSQL, &before), 0);
    tr_binlog_file_t before_m;
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MARIADB, &before_m), 0);
    EXPECT_EQ_INT(add_txn(s, last_gno + 1), 0);
    EXPECT_EQ_INT(add_txn(s, last_gno + 2), 0);
    /* Force the pending bytes to disk without committing: a commit that never reached
     * the index is the same as bytes written by an early flush. */
    tr_store_free(s);
    s = NULL;
    /* Simulate the written-but-uncommitted tail, plus garbage. */
    fp = fopen(before.path, "ab");
    fwrite("garbage-after-the-last-commit", 1, 29, fp);
    fclose(fp);
    fp = fopen(before_m.path, "ab");
    fwrite("\x13\x00\x00\x00\x10\x2a", 1, 6, fp);
    fclose(fp);
    /* And a file the index never heard of. */
    char stray[200];
    snprintf(stray, sizeof(stray), "%s/binlog/mysql/tirelay-bin.000003", dir);
    fp = fopen(stray, "wb");
    fwrite("\xfe" "bin", 1, 4, fp);
    fclose(fp);

    EXPECT_EQ_INT(tr_store_open(&o, &s, &cp, &why), 0);
    if (s == NULL) {
        fprintf(stderr, "reopen: %s\n", why);
        rm_rf(dir);
        return;
    }
    EXPECT_TRUE(cp.has_txn);
    EXPECT_EQ_U64(cp.gtid_no, last_gno);
    EXPECT_EQ_INT(cp.commit_ts, (int64_t)last_gno * 1000);
    EXPECT_EQ_INT(cp.schema_version, 7);
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MYSQL, &bf), 0);
    EXPECT_EQ_U64(bf.size, before.size);
    EXPECT_EQ_U64(file_size(bf.path), before.size);
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MARIADB, &bf), 0);
    EXPECT_EQ_U64(file_size(bf.path), before_m.size);
    EXPECT_TRUE(access(stray, F_OK) != 0);

    /* Continue after recovery: the next transaction lands where the lost one was. */
    EXPECT_EQ_U64(tr_store_txn_pos(s, TR_FLAVOR_MYSQL), before.size);
    EXPECT_EQ_INT(add_txn(s, last_gno + 1), 0);
    EXPECT_EQ_INT(tr_store_commit(s), 0);
    /* Abort drops appended bytes. */
    EXPECT_EQ_INT(add_txn(s, last_gno + 2), 0);
    tr_store_abort(s);
    EXPECT_TRUE(!tr_store_has_pending(s));
    tr_store_checkpoint_t lt;
    tr_store_last_txn(s, &lt);
    EXPECT_EQ_U64(lt.gtid_no, last_gno + 1);
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MYSQL, &bf), 0);
    EXPECT_EQ_U64(tr_store_txn_pos(s, TR_FLAVOR_MYSQL), bf.size);
    expect_decodes(s, TR_FLAVOR_MYSQL);
    expect_decodes(s, TR_FLAVOR_MARIADB);
    tr_store_free(s);

    /* A file listed in the index but missing: TR_ECORRUPT with a message. */
    EXPECT_EQ_INT(unlink(first.path), 0);
    s = NULL;
    EXPECT_EQ_INT(tr_store_open(&o, &s, &cp, &why), TR_ECORRUPT);
    EXPECT_TRUE(why != NULL && strstr(why, "missing") != NULL);
    tr_store_free(s);
    rm_rf(dir);
}

TR_TEST(gtid_start_lineage)
{
    char dir[64];
    make_tmpdir(dir, sizeof(dir));
    tr_store_opts_t o = opts_for(dir, true, true, 1 << 20);
    o.gtid_start = 100;
    tr_store_t *s = NULL;
    tr_store_checkpoint_t cp;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_store_open(&o, &s, &cp, &why), 0);
    if (s == NULL) {
        return;
    }
    tr_binlog_file_t bf;
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MYSQL, &bf), 0);
    EXPECT_EQ_U64(bf.size, 4 + 122 + 19 + 8 + 16 + 8 + 16 + 4);
    FILE *fp = fopen(bf.path, "rb");
    uint8_t head[512];
    size_t len = fread(head, 1, sizeof(head), fp);
    fclose(fp);
    EXPECT_EQ_U64(len, bf.size);
    EXPECT_EQ_U64(tr_load_u64le(head + 126 + 51), 1);
    EXPECT_EQ_U64(tr_load_u64le(head + 126 + 59), 100);
    /* MariaDB: GTID_LIST [0-42-99]. */
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MARIADB, &bf), 0);
    fp = fopen(bf.path, "rb");
    len = fread(head, 1, sizeof(head), fp);
    fclose(fp);
    const uint8_t *gl = head + 256;
    EXPECT_EQ_INT(gl[4], TR_EVT_MARIA_GTID_LIST);
    EXPECT_EQ_INT(tr_load_u32le(gl + 19), 1);
    EXPECT_EQ_INT(tr_load_u32le(gl + 27), 42);
    EXPECT_EQ_U64(tr_load_u64le(gl + 31), 99);
    EXPECT_EQ_INT(add_txn(s, 100), 0);
    EXPECT_EQ_INT(tr_store_commit(s), 0);
    char *out = NULL;
    EXPECT_EQ_INT(mariadb_binlog(bf.path, &out), 0);
    EXPECT_TRUE(out != NULL && strstr(out, "Gtid list [0-42-99]") != NULL);
    EXPECT_TRUE(out != NULL && strstr(out, "GTID 0-42-100") != NULL);
    free(out);
    tr_store_free(s);
    rm_rf(dir);
}

/* tr_store_find_txn: by TSO (the last commit_ts <= ts), by GTID, and by position
 * (the last transaction ending at or before an offset), across rotations. */
TR_TEST(find_txn)
{
    char dir[64];
    make_tmpdir(dir, sizeof(dir));
    tr_store_opts_t o = opts_for(dir, true, true, 4096); /* rotate every few transactions */
    tr_store_t *s = NULL;
    tr_store_checkpoint_t cp;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_store_open(&o, &s, &cp, &why), 0);
    if (s == NULL) {
        return;
    }
    uint64_t end_mysql[41] = {0};
    uint32_t seq_mysql[41] = {0};
    for (uint64_t g = 1; g <= 40; g++) {
        EXPECT_EQ_INT(add_txn(s, g), 0); /* commit_ts = g * 1000 */
        end_mysql[g] = tr_store_txn_pos(s, TR_FLAVOR_MYSQL);
        tr_binlog_file_t last;
        EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MYSQL, &last), 0);
        seq_mysql[g] = last.seq;
        EXPECT_EQ_INT(tr_store_commit(s), 0); /* one group per txn: rotation right after */
    }
    tr_binlog_file_t *files = NULL;
    size_t nf = 0;
    EXPECT_EQ_INT(tr_store_list_files(s, TR_FLAVOR_MYSQL, &files, &nf), 0);
    EXPECT_TRUE(nf >= 3);
    tr_free(files);

    tr_store_txn_t t;
    EXPECT_EQ_INT(tr_store_find_txn(s, TR_STORE_FIND_TSO, 999, TR_FLAVOR_MYSQL, 0, &t, &why),
                  TR_ENOTFOUND);
    EXPECT_EQ_INT(tr_store_find_txn(s, TR_STORE_FIND_TSO, 1000, TR_FLAVOR_MYSQL, 0, &t, &why), 0);
    EXPECT_EQ_U64(t.gtid_no, 1);
    EXPECT_EQ_INT(tr_store_find_txn(s, TR_STORE_FIND_TSO, 17999, TR_FLAVOR_MYSQL, 0, &t, &why), 0);
    EXPECT_EQ_U64(t.gtid_no, 17);
    EXPECT_EQ_INT(t.commit_ts, 17000);
    EXPECT_TRUE(t.has_pos[TR_FLAVOR_MYSQL] && t.has_pos[TR_FLAVOR_MARIADB]);
    EXPECT_EQ_INT(t.seq[TR_FLAVOR_MYSQL], seq_mysql[17]);
    EXPECT_EQ_U64(t.end[TR_FLAVOR_MYSQL], end_mysql[17]);
    EXPECT_EQ_INT(tr_store_find_txn(s, TR_STORE_FIND_TSO, INT64_MAX, TR_FLAVOR_MYSQL, 0, &t, &why),
                  0);
    EXPECT_EQ_U64(t.gtid_no, 40);

    EXPECT_EQ_INT(tr_store_find_txn(s, TR_STORE_FIND_GTID, 23, TR_FLAVOR_MYSQL, 0, &t, &why), 0);
    EXPECT_EQ_INT(t.commit_ts, 23000);
    EXPECT_EQ_INT(tr_store_find_txn(s, TR_STORE_FIND_GTID, 41, TR_FLAVOR_MYSQL, 0, &t, &why),
                  TR_ENOTFOUND);
    EXPECT_EQ_INT(tr_store_find_txn(s, TR_STORE_FIND_GTID, -1, TR_FLAVOR_MYSQL, 0, &t, &why),
                  TR_ENOTFOUND);

    /* By position: exactly at an end, and just before the next end. */
    EXPECT_EQ_INT(tr_store_find_txn(s, TR_STORE_FIND_POS, (int64_t)end_mysql[23], TR_FLAVOR_MYSQL,
                                    seq_mysql[23], &t, &why),
                  0);
    EXPECT_EQ_U64(t.gtid_no, 23);
    if (seq_mysql[24] == seq_mysql[23]) {
        EXPECT_EQ_INT(tr_store_find_txn(s, TR_STORE_FIND_POS, (int64_t)end_mysql[24] - 1,
                                        TR_FLAVOR_MYSQL, seq_mysql[24], &t, &why),
                      0);
        EXPECT_EQ_U64(t.gtid_no, 23);
    }
    /* Before the first transaction of a file: none in that file. */
    EXPECT_EQ_INT(tr_store_find_txn(s, TR_STORE_FIND_POS, 4, TR_FLAVOR_MYSQL, seq_mysql[40], &t,
                                    &why),
                  TR_ENOTFOUND);
    tr_store_free(s);
    rm_rf(dir);
}

/* One group larger than the index's rows-per-INSERT batch (32) and not a multiple of it:
 * every transaction, batched or in the tail, is in the index with its own values, and
 * survives a reopen. */
TR_TEST(find_txn_big_group)
{
    char dir[64];
    make_tmpdir(dir, sizeof(dir));
    tr_store_opts_t o = opts_for(dir, true, true, 1 << 20);
    tr_store_t *s = NULL;
    tr_store_checkpoint_t cp;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_store_open(&o, &s, &cp, &why), 0);
    if (s == NULL) {
        return;
    }
    enum { N = 75 };
    uint64_t end_mysql[N + 1] = {0};
    for (uint64_t g = 1; g <= N; g++) {
        EXPECT_EQ_INT(add_txn(s, g), 0); /* commit_ts = g * 1000 */
        end_mysql[g] = tr_store_txn_pos(s, TR_FLAVOR_MYSQL);
    }
    EXPECT_EQ_INT(tr_store_commit(s), 0);
    for (int pass = 0; pass < 2; pass++) {
        for (uint64_t g = 1; g <= N; g++) {
            tr_store_txn_t t;
            EXPECT_EQ_INT(
                tr_store_find_txn(s, TR_STORE_FIND_GTID, (int64_t)g, TR_FLAVOR_MYSQL, 0, &t, &why),
                0);
            EXPECT_EQ_INT(t.commit_ts, (int64_t)g * 1000);
            EXPECT_EQ_U64(t.end[TR_FLAVOR_MYSQL], end_mysql[g]);
            EXPECT_TRUE(t.has_pos[TR_FLAVOR_MARIADB]);
        }
        tr_store_free(s);
        s = NULL;
        EXPECT_EQ_INT(tr_store_open(&o, &s, &cp, &why), 0);
        if (s == NULL) {
            break;
        }
        EXPECT_TRUE(cp.has_txn);
        EXPECT_EQ_U64(cp.gtid_no, N);
        EXPECT_EQ_INT(cp.commit_ts, (int64_t)N * 1000);
    }
    tr_store_free(s);
    rm_rf(dir);
}

/* ---- fault injection (tr_store_io_t) ---- */

static struct {
    bool short_writes;  /* every pwrite writes at most 7 bytes */
    int64_t space;      /* bytes pwrite may still write; < 0 = unlimited */
    int sync_errno;     /* fdatasync fails with this (0 = works) */
    int create_errno;   /* open(O_CREAT) of a binlog file fails with this */
    int syncs;          /* fdatasync calls */
    int failed_syncs;
} flt;

static ssize_t f_pwrite(int fd, const void *p, size_t n, off_t off)
{
    if (flt.short_writes && n > 7) {
        n = 7;
    }
    if (flt.space >= 0) {
        if (flt.space == 0) {
            errno = ENOSPC;
            return -1;
        }
        if ((int64_t)n > flt.space) {
            n = (size_t)flt.space; /* a partial write, then ENOSPC on the next call */
        }
        flt.space -= (int64_t)n;
    }
    return pwrite(fd, p, n, off);
}

static int f_fdatasync(int fd)
{
    flt.syncs++;
    if (flt.sync_errno != 0) {
        flt.failed_syncs++;
        errno = flt.sync_errno;
        return -1;
    }
    return fdatasync(fd);
}

static int f_open(const char *path, int flags, mode_t mode)
{
    if ((flags & O_CREAT) && flt.create_errno != 0 && strstr(path, "tirelay-bin.0") != NULL) {
        errno = flt.create_errno;
        return -1;
    }
    return open(path, flags, mode);
}

static tr_store_io_t fault_io(void)
{
    memset(&flt, 0, sizeof(flt));
    flt.space = -1;
    tr_store_io_t io = *tr_store_io_default();
    io.pwrite = f_pwrite;
    io.fdatasync = f_fdatasync;
    io.open = f_open;
    return io;
}

/* Every flavour's active file holds whole, checksummed events only: its committed bytes,
 * at most followed by complete events of transactions kept for a retry. */
static void expect_no_torn_tail(tr_store_t *s)
{
    for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
        tr_binlog_file_t bf;
        if (tr_store_file_last(s, (tr_flavor_t)f, &bf) != 0) {
            continue;
        }
        uint64_t size = file_size(bf.path);
        EXPECT_TRUE(size >= bf.size && size <= tr_store_txn_pos(s, (tr_flavor_t)f));
        int fd = open(bf.path, O_RDONLY);
        uint64_t good = 0;
        const char *why = NULL;
        EXPECT_EQ_INT(tr_store_reader_verify(NULL, fd, size, &good, &why), 0);
        close(fd);
    }
}

/* Whole file at an absolute path (malloc'd); NULL if unreadable. */
static uint8_t *read_abs(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        return NULL;
    }
    size_t cap = 1 << 16;
    uint8_t *p = malloc(cap);
    *len = 0;
    size_t n;
    while ((n = fread(p + *len, 1, cap - *len, fp)) > 0) {
        *len += n;
        if (*len == cap) {
            cap *= 2;
            p = realloc(p, cap);
        }
    }
    fclose(fp);
    return p;
}

static uint64_t last_gno(tr_store_t *s)
{
    tr_store_checkpoint_t cp;
    tr_store_last_txn(s, &cp);
    return cp.has_txn ? cp.gtid_no : 0;
}

TR_TEST(enospc_keeps_durable_and_resumes)
{
    char dir[64];
    make_tmpdir(dir, sizeof(dir));
    tr_store_io_t io = fault_io();
    tr_store_opts_t o = opts_for(dir, true, true, 1 << 20);
    o.io = &io;
    tr_store_t *s = NULL;
    tr_store_checkpoint_t cp;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_store_open(&o, &s, &cp, &why), 0);
    if (s == NULL) {
        return;
    }
    flt.short_writes = true; /* every write below is split: the store must not care */
    EXPECT_EQ_INT(add_txn(s, 1), 0);
    EXPECT_EQ_INT(tr_store_commit(s), 0);
    tr_binlog_file_t durable;
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MYSQL, &durable), 0);

    /* The disk fills up in the middle of the next group's bytes. */
    flt.space = 50;
    EXPECT_EQ_INT(add_txn(s, 2), 0);
    EXPECT_EQ_INT(add_txn(s, 3), 0);
    notified = 0;
    tr_store_set_notify(s, on_notify, NULL);
    int r = tr_store_commit(s);
    EXPECT_TRUE(tr_store_err_is_full(r));
    /* Nothing new is visible, nothing torn is left, the group is kept for a retry. */
    EXPECT_EQ_INT(notified, 0);
    EXPECT_EQ_U64(last_gno(s), 1);
    EXPECT_TRUE(tr_store_has_pending(s));
    expect_no_torn_tail(s);
    tr_binlog_file_t bf;
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MYSQL, &bf), 0);
    EXPECT_EQ_U64(bf.size, durable.size);
    expect_decodes(s, TR_FLAVOR_MYSQL); /* readers keep being served what is durable */
    expect_decodes(s, TR_FLAVOR_MARIADB);
    /* Still full: the same answer, still nothing torn. */
    flt.space = 0;
    EXPECT_TRUE(tr_store_err_is_full(tr_store_commit(s)));
    expect_no_torn_tail(s);

    /* Space returns: the kept group commits as if nothing happened. */
    flt.space = -1;
    EXPECT_EQ_INT(tr_store_commit(s), 0);
    EXPECT_EQ_INT(notified, 1);
    EXPECT_EQ_U64(last_gno(s), 3);
    EXPECT_TRUE(!tr_store_has_pending(s));
    expect_no_torn_tail(s);
    EXPECT_EQ_INT(add_txn(s, 4), 0);
    EXPECT_EQ_INT(tr_store_commit(s), 0);
    expect_decodes(s, TR_FLAVOR_MYSQL);
    expect_decodes(s, TR_FLAVOR_MARIADB);
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MYSQL, &durable), 0);
    tr_store_free(s);

    /* The files are what a store that never saw the fault writes. */
    char dir2[64];
    make_tmpdir(dir2, sizeof(dir2));
    tr_store_opts_t o2 = opts_for(dir2, true, true, 1 << 20);
    tr_store_t *s2 = NULL;
    EXPECT_EQ_INT(tr_store_open(&o2, &s2, &cp, &why), 0);
    for (uint64_t g = 1; s2 != NULL && g <= 4; g++) {
        EXPECT_EQ_INT(add_txn(s2, g), 0);
        EXPECT_EQ_INT(tr_store_commit(s2), 0);
    }
    if (s2 != NULL) {
        EXPECT_EQ_INT(tr_store_file_last(s2, TR_FLAVOR_MYSQL, &bf), 0);
        size_t n1 = 0;
        size_t n2 = 0;
        uint8_t *a = read_abs(durable.path, &n1);
        uint8_t *b = read_abs(bf.path, &n2);
        EXPECT_TRUE(a != NULL && b != NULL);
        if (a != NULL && b != NULL) {
            EXPECT_EQ_MEM(a, n1, b, n2);
        }
        free(a);
        free(b);
        tr_store_free(s2);
    }
    rm_rf(dir2);
    rm_rf(dir);
}

/* The upstream position goes with the group commit of its transactions: a failed or
 * aborted group leaves the last committed one, a group without transactions stores it
 * alone, and a reopen reads back what was committed last. */
TR_TEST(position_commits_with_the_group)
{
    char dir[64];
    make_tmpdir(dir, sizeof(dir));
    tr_store_io_t io = fault_io();
    tr_store_opts_t o = opts_for(dir, true, true, 1 << 20);
    o.io = &io;
    tr_store_t *s = NULL;
    tr_store_checkpoint_t cp;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_store_open(&o, &s, &cp, &why), 0);
    if (s == NULL) {
        return;
    }
    char *pos = (char *)"x";
    EXPECT_EQ_INT(tr_store_position(s, &pos, &why), 0);
    EXPECT_TRUE(pos == NULL); /* never stored */

    EXPECT_EQ_INT(add_txn(s, 1), 0);
    tr_store_set_position(s, "p0=10");
    tr_store_set_position(s, "p0=11"); /* replaces the pending one */
    EXPECT_EQ_INT(tr_store_commit(s), 0);
    EXPECT_EQ_INT(tr_store_position(s, &pos, &why), 0);
    EXPECT_EQ_STR(pos, "p0=11");
    tr_free(pos);

    /* Aborted with its transaction. */
    EXPECT_EQ_INT(add_txn(s, 2), 0);
    tr_store_set_position(s, "p0=20");
    tr_store_abort(s);
    EXPECT_EQ_INT(tr_store_commit(s), 0);
    EXPECT_EQ_INT(tr_store_position(s, &pos, &why), 0);
    EXPECT_EQ_STR(pos, "p0=11");
    tr_free(pos);

    /* A full disk keeps it pending with the group; the retry stores both. */
    EXPECT_EQ_INT(add_txn(s, 2), 0);
    tr_store_set_position(s, "p0=21");
    flt.space = 0;
    EXPECT_TRUE(tr_store_err_is_full(tr_store_commit(s)));
    EXPECT_EQ_INT(tr_store_position(s, &pos, &why), 0);
    EXPECT_EQ_STR(pos, "p0=11");
    tr_free(pos);
    flt.space = -1;
    EXPECT_EQ_INT(tr_store_commit(s), 0);

    /* No transaction, only progress: stored alone. */
    tr_store_set_position(s, "p0=30");
    EXPECT_EQ_INT(tr_store_commit(s), 0);
    tr_store_free(s);

    EXPECT_EQ_INT(tr_store_open(&o, &s, &cp, &why), 0);
    if (s != NULL) {
        EXPECT_EQ_U64(cp.gtid_no, 2);
        EXPECT_EQ_INT(tr_store_position(s, &pos, &why), 0);
        EXPECT_EQ_STR(pos, "p0=30");
        tr_free(pos);
        tr_store_free(s);
    }
    rm_rf(dir);
}

TR_TEST(enospc_at_rotation)
{
    char dir[64];
    make_tmpdir(dir, sizeof(dir));
    tr_store_io_t io = fault_io();
    tr_store_opts_t o = opts_for(dir, true, true, 600); /* every transaction rotates */
    o.io = &io;
    tr_store_t *s = NULL;
    tr_store_checkpoint_t cp;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_store_open(&o, &s, &cp, &why), 0);
    if (s == NULL) {
        return;
    }
    EXPECT_EQ_INT(add_txn(s, 1), 0);
    EXPECT_EQ_INT(tr_store_commit(s), 0);
    tr_binlog_file_t before;
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MARIADB, &before), 0);
    /* The transaction's bytes fit, the next file cannot be created. */
    flt.create_errno = ENOSPC;
    EXPECT_EQ_INT(add_txn(s, 2), 0);
    EXPECT_TRUE(tr_store_err_is_full(tr_store_commit(s)));
    tr_binlog_file_t bf;
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MARIADB, &bf), 0);
    EXPECT_EQ_U64(bf.seq, before.seq); /* no new file published */
    EXPECT_EQ_U64(bf.size, before.size);
    expect_no_torn_tail(s); /* and no ROTATE left behind in the old one */
    char next[700];
    snprintf(next, sizeof(next), "%s/binlog/mysql/tirelay-bin.%06u", dir, before.seq + 1);
    EXPECT_TRUE(access(next, F_OK) != 0);
    flt.create_errno = 0;
    EXPECT_EQ_INT(tr_store_commit(s), 0);
    EXPECT_EQ_U64(last_gno(s), 2);
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MARIADB, &bf), 0);
    EXPECT_EQ_U64(bf.seq, before.seq + 1);
    expect_decodes(s, TR_FLAVOR_MYSQL);
    expect_decodes(s, TR_FLAVOR_MARIADB);
    tr_store_free(s);
    rm_rf(dir);
}

TR_TEST(fsync_eio_is_fatal_not_retried)
{
    char dir[64];
    make_tmpdir(dir, sizeof(dir));
    tr_store_io_t io = fault_io();
    tr_store_opts_t o = opts_for(dir, true, true, 1 << 20);
    o.io = &io;
    tr_store_t *s = NULL;
    tr_store_checkpoint_t cp;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_store_open(&o, &s, &cp, &why), 0);
    if (s == NULL) {
        return;
    }
    EXPECT_EQ_INT(add_txn(s, 1), 0);
    EXPECT_EQ_INT(tr_store_commit(s), 0);
    tr_binlog_file_t durable;
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MYSQL, &durable), 0);
    flt.sync_errno = EIO;
    EXPECT_EQ_INT(add_txn(s, 2), 0);
    EXPECT_EQ_INT(tr_store_commit(s), -EIO);
    EXPECT_EQ_INT(flt.failed_syncs, 1);
    EXPECT_EQ_U64(last_gno(s), 1);
    EXPECT_TRUE(!tr_store_has_pending(s)); /* the group is dropped, not kept */
    /* The device works again, but a later fsync success proves nothing about the pages
     * the failed one lost: the store refuses to go on and never syncs again. */
    flt.sync_errno = 0;
    int syncs = flt.syncs;
    EXPECT_EQ_INT(add_txn(s, 2), -EIO);
    EXPECT_EQ_INT(tr_store_commit(s), -EIO);
    EXPECT_EQ_INT(flt.syncs, syncs);
    tr_binlog_file_t bf;
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MYSQL, &bf), 0);
    EXPECT_EQ_U64(bf.size, durable.size); /* readers still get what was durable */
    tr_store_free(s);
    /* Reopening recovers from the last commit. */
    o.io = NULL;
    EXPECT_EQ_INT(tr_store_open(&o, &s, &cp, &why), 0);
    if (s != NULL) {
        EXPECT_TRUE(cp.has_txn);
        EXPECT_EQ_U64(cp.gtid_no, 1);
        expect_no_torn_tail(s);
        EXPECT_EQ_INT(add_txn(s, 2), 0);
        EXPECT_EQ_INT(tr_store_commit(s), 0);
        expect_decodes(s, TR_FLAVOR_MYSQL);
        tr_store_free(s);
    }
    rm_rf(dir);
}

/* Commits transactions 1..3; returns the MySQL file and the end of transaction 1 and 2. */
static void three_txns(const char *dir, tr_binlog_file_t *bf, uint64_t *end1, uint64_t *end2)
{
    tr_store_opts_t o = opts_for(dir, true, false, 1 << 20);
    tr_store_t *s = NULL;
    tr_store_checkpoint_t cp;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_store_open(&o, &s, &cp, &why), 0);
    if (s == NULL) {
        return;
    }
    for (uint64_t g = 1; g <= 3; g++) {
        EXPECT_EQ_INT(add_txn(s, g), 0);
        EXPECT_EQ_INT(tr_store_commit(s), 0);
        if (g == 1) {
            *end1 = tr_store_txn_pos(s, TR_FLAVOR_MYSQL);
        } else if (g == 2) {
            *end2 = tr_store_txn_pos(s, TR_FLAVOR_MYSQL);
        }
    }
    EXPECT_EQ_INT(tr_store_file_last(s, TR_FLAVOR_MYSQL, bf), 0);
    tr_store_free(s);
}

static void patch_file(const char *path, uint64_t off, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY);
    EXPECT_TRUE(fd >= 0);
    EXPECT_EQ_INT(pwrite(fd, p, n, (off_t)off), (ssize_t)n);
    close(fd);
}

TR_TEST(torn_tail_at_start_is_cut_back)
{
    char dir[64];
    make_tmpdir(dir, sizeof(dir));
    tr_binlog_file_t bf;
    uint64_t end1 = 0;
    uint64_t end2 = 0;
    three_txns(dir, &bf, &end1, &end2);
    /* A crash in the middle of writing transaction 4: the first 40 bytes of a copy of
     * transaction 2's events (a plausible header, the event cut short). */
    size_t n = 0;
    uint8_t *bytes = read_abs(bf.path, &n);
    EXPECT_TRUE(bytes != NULL && n == bf.size);
    patch_file(bf.path, bf.size, bytes + end1, 40);
    tr_store_opts_t o = opts_for(dir, true, false, 1 << 20);
    tr_store_t *s = NULL;
    tr_store_checkpoint_t cp;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_store_open(&o, &s, &cp, &why), 0);
    if (s != NULL) {
        EXPECT_EQ_U64(cp.gtid_no, 3);
        EXPECT_EQ_U64(file_size(bf.path), bf.size);
        expect_decodes(s, TR_FLAVOR_MYSQL);
        tr_store_free(s);
    }
    free(bytes);
    rm_rf(dir);
}

TR_TEST(crc_corrupt_event_at_start)
{
    char dir[64];
    make_tmpdir(dir, sizeof(dir));
    tr_binlog_file_t bf;
    uint64_t end1 = 0;
    uint64_t end2 = 0;
    three_txns(dir, &bf, &end1, &end2);
    tr_store_opts_t o = opts_for(dir, true, false, 1 << 20);
    tr_store_t *s = NULL;
    tr_store_checkpoint_t cp;
    const char *why = NULL;

    /* A flipped byte after the last committed transaction: uncommitted, cut back. */
    size_t n = 0;
    uint8_t *bytes = read_abs(bf.path, &n);
    EXPECT_TRUE(bytes != NULL && n == bf.size);
    uint8_t tail[64];
    memcpy(tail, bytes + end1, sizeof(tail));
    tail[30] ^= 0x01;
    patch_file(bf.path, bf.size, tail, sizeof(tail));
    EXPECT_EQ_INT(tr_store_open(&o, &s, &cp, &why), 0);
    if (s != NULL) {
        EXPECT_EQ_U64(cp.gtid_no, 3);
        EXPECT_EQ_U64(file_size(bf.path), bf.size);
        tr_store_free(s);
        s = NULL;
    }

    /* A flipped byte inside transaction 2, which replicas may already have read: the
     * store refuses to start and names the file and the offset of the damaged event. */
    uint8_t b = bytes[end1 + 30] ^ 0x01;
    patch_file(bf.path, end1 + 30, &b, 1);
    EXPECT_EQ_INT(tr_store_open(&o, &s, &cp, &why), TR_ECORRUPT);
    EXPECT_TRUE(s == NULL);
    char want[700];
    snprintf(want, sizeof(want), "%s", bf.path);
    EXPECT_TRUE(why != NULL && strstr(why, want) != NULL && strstr(why, "CRC32") != NULL);
    snprintf(want, sizeof(want), "at offset %llu", (unsigned long long)end1);
    EXPECT_TRUE(why != NULL && strstr(why, want) != NULL);
    if (why != NULL && strstr(why, want) == NULL) {
        fprintf(stderr, "why: %s\n", why);
    }
    EXPECT_EQ_U64(file_size(bf.path), bf.size); /* nothing was cut */
    free(bytes);
    rm_rf(dir);
}

/* Counts the events of a batch and the GTID events among them. */
static void count_batch(tr_buf_t *batch, uint64_t start, uint64_t *events, uint64_t *gtids,
                        uint64_t *last_end)
{
    size_t off = 0;
    tr_store_event_t ev;
    while (tr_store_batch_next(batch, start, &off, &ev)) {
        (*events)++;
        *gtids += ev.h.type == TR_EVT_GTID;
        EXPECT_EQ_U64(ev.end_pos - ev.len, *last_end); /* events follow each other */
        *last_end = ev.end_pos;
    }
}

/* The store's reader: whole events in batches of any size, only what is committed, the
 * next file after a ROTATE, walks to boundaries, and bytes that are no events. */
TR_TEST(reader_walks_committed_events)
{
    char dir[64];
    make_tmpdir(dir, sizeof(dir));
    tr_store_opts_t o = opts_for(dir, true, false, 700); /* rotate after every few txns */
    tr_store_t *s = NULL;
    tr_store_checkpoint_t cp;
    const char *why = NULL;
    EXPECT_EQ_INT(tr_store_open(&o, &s, &cp, &why), 0);
    if (s == NULL) {
        return;
    }
    for (uint64_t g = 1; g <= 6; g++) {
        EXPECT_EQ_INT(add_txn(s, g), 0);
        EXPECT_EQ_INT(tr_store_commit(s), 0);
    }
    tr_binlog_file_t first;
    EXPECT_EQ_INT(tr_store_file_first(s, TR_FLAVOR_MYSQL, &first), 0);
    tr_store_reader_t rd;
    EXPECT_EQ_INT(tr_store_reader_open(&rd, s, TR_FLAVOR_MYSQL, &first, 4), 0);
    tr_buf_t batch;
    tr_buf_init(&batch, 0);
    /* FORMAT_DESCRIPTION at 4 */
    EXPECT_EQ_INT(tr_store_reader_event_at(&rd, 4, &batch, &why), 0);
    EXPECT_EQ_INT(tr_buf_head(&batch)[4], TR_EVT_FORMAT_DESCRIPTION);
    EXPECT_EQ_INT(tr_store_reader_event_at(&rd, 5, &batch, &why), TR_ECORRUPT);
    /* Every batch size, down to one byte (always one whole event): the same events. */
    uint64_t files = 0;
    uint64_t gtids = 0;
    size_t sizes[] = {1, 40, 300, 1 << 20};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        tr_store_reader_close(&rd);
        EXPECT_EQ_INT(tr_store_reader_open(&rd, s, TR_FLAVOR_MYSQL, &first, 4), 0);
        uint64_t events = 0;
        gtids = 0;
        files = 1;
        uint64_t last_end = 4;
        for (;;) {
            uint64_t start = rd.pos;
            int64_t n = tr_store_reader_read(&rd, &batch, sizes[k], &why);
            EXPECT_TRUE(n >= 0);
            if (n <= 0) {
                if (tr_store_reader_next_file(&rd) != 0) {
                    break;
                }
                files++;
                last_end = 4;
                continue;
            }
            count_batch(&batch, start, &events, &gtids, &last_end);
            EXPECT_EQ_U64(last_end, rd.pos);
        }
        EXPECT_TRUE(events > 6 * 6);
    }
    EXPECT_EQ_U64(gtids, 6);
    EXPECT_TRUE(files >= 3);
    /* At the end of the last file: nothing more until a commit. */
    EXPECT_EQ_INT(tr_store_reader_refresh(&rd), 0);
    EXPECT_EQ_INT(add_txn(s, 7), 0);
    EXPECT_EQ_INT(tr_store_reader_refresh(&rd), 0); /* ended, not committed */
    EXPECT_EQ_INT(tr_store_reader_read(&rd, &batch, 1 << 20, &why), 0);
    EXPECT_EQ_INT(tr_store_commit(s), 0);
    EXPECT_EQ_INT(tr_store_reader_refresh(&rd), 1);
    uint64_t start = rd.pos;
    EXPECT_TRUE(tr_store_reader_read(&rd, &batch, 1 << 20, &why) > 0);
    uint64_t events = 0;
    gtids = 0;
    uint64_t last_end = start;
    count_batch(&batch, start, &events, &gtids, &last_end);
    EXPECT_EQ_U64(gtids, 1);
    tr_store_reader_close(&rd);

    /* Walks: to a boundary, into an event, past the end. */
    EXPECT_EQ_INT(tr_store_reader_open(&rd, s, TR_FLAVOR_MYSQL, &first, 4), 0);
    EXPECT_EQ_INT(tr_store_reader_walk(&rd, 4 + 122, &batch, NULL, NULL, &why), 0);
    EXPECT_EQ_U64(rd.pos, 4 + 122);
    EXPECT_EQ_INT(tr_store_reader_walk(&rd, 4 + 122 + 10, &batch, NULL, NULL, &why),
                  TR_EMALFORMED);
    EXPECT_EQ_INT(tr_store_reader_walk(&rd, first.size + 100, &batch, NULL, NULL, &why),
                  TR_EMALFORMED);
    tr_store_reader_close(&rd);

    /* A header that is no event: the events before it first, then the error. */
    tr_binlog_file_t bf;
    EXPECT_EQ_INT(tr_store_file_first(s, TR_FLAVOR_MYSQL, &bf), 0);
    uint8_t junk[19];
    memset(junk, 0xff, sizeof(junk)); /* event_size 0xffffffff */
    patch_file(bf.path, 4 + 122 + 31, junk, sizeof(junk));
    EXPECT_EQ_INT(tr_store_reader_open(&rd, s, TR_FLAVOR_MYSQL, &bf, 4), 0);
    EXPECT_EQ_INT(tr_store_reader_read(&rd, &batch, 1 << 20, &why), 122 + 31);
    why = NULL;
    EXPECT_EQ_INT(tr_store_reader_read(&rd, &batch, 1 << 20, &why), TR_ECORRUPT);
    EXPECT_TRUE(why != NULL);
    EXPECT_EQ_U64(rd.pos, 4 + 122 + 31);
    tr_store_reader_close(&rd);
    tr_store_reader_close(&rd); /* idempotent */
    tr_buf_cleanup(&batch);
    tr_store_free(s);
    rm_rf(dir);
}

TR_TEST_MAIN()
