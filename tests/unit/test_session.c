/*
 * Sessions and dumps over socketpairs, in the shape of libuv's test/task.h: a server on
 * its own loop over a store built here, each client a socketpair end the server adopts
 * (tr_server_adopt); the test speaks the protocol on the other end while it runs the
 * loop, counts what arrives and asserts it, then closes the server and checks that the
 * close callback ran once and no handle is left (uv_loop_close succeeds).
 *
 * Covers: the greeting, a mysql_native_password login and a wrong password (ERR 1045),
 * a query answered in the command phase, a non-blocking dump whose events are the
 * store's bytes, a blocking dump woken by a commit (tr_server_notify), a dump refused
 * (ERR 1236) and a client that goes away in the middle of a dump.
 */
#include "tr_test.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/endian.h"
#include "common/err.h"
#include "protocol/auth.h"
#include "protocol/binlog_event.h"
#include "protocol/command.h"
#include "protocol/handshake.h"
#include "protocol/rows.h"
#include "protocol/wire.h"
#include "server/server.h"
#include "store/store.h"

static const uint8_t uuid[16] = {0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1,
                                 0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x11};

/* ---------------------------------------------------------------- the server side */

typedef struct {
    char dir[64];
    tr_store_t *store;
    tr_server_t *server;
    uv_loop_t loop;
    tr_config_t cfg;
    uint64_t next_gno;
    int closed_calls; /* tr_server_close's done callback */
} fixture_t;

static int add_txn(fixture_t *fx)
{
    uint64_t gno = fx->next_gno++;
    uint32_t ts = 1700000000u + (uint32_t)gno;
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_evt_writer_t w;
    tr_evt_writer_init(&w, &b, tr_store_txn_pos(fx->store, TR_FLAVOR_MYSQL), TR_FLAVOR_MYSQL, 42,
                       true);
    w.timestamp = ts;
    tr_gtid_event_t g;
    memset(&g, 0, sizeof(g));
    memcpy(g.uuid, uuid, 16);
    g.gno = gno;
    g.sequence_number = 1;
    g.commit_ts_us = (uint64_t)ts * 1000000;
    tr_evt_put_gtid(&w, &g);
    tr_query_event_t q;
    memset(&q, 0, sizeof(q));
    q.sql = "BEGIN";
    q.sql_len = 5;
    q.db = "";
    tr_evt_put_query(&w, &q);
    tr_col_def_t cols[1] = {{.type = TR_MYSQL_TYPE_LONG, .name = "id"}};
    tr_evt_put_table_map(&w, 100, "d", 1, "t", 1, cols, 1);
    tr_evt_rows_begin(&w, TR_EVT_WRITE_ROWS, 100, 1);
    tr_rows_image_t img;
    tr_rows_image_begin(&img, &b, 1);
    tr_rows_put_int(&b, TR_MYSQL_TYPE_LONG, (int64_t)gno);
    tr_evt_rows_end(&w, TR_ROWS_STMT_END);
    tr_evt_put_xid(&w, gno);
    int r = tr_store_txn_append(fx->store, TR_FLAVOR_MYSQL, b.data, b.len);
    tr_buf_cleanup(&b);
    if (r != 0) {
        return r;
    }
    tr_txn_info_t info = {gno, (int64_t)gno * 1000, 1, ts};
    r = tr_store_txn_end(fx->store, &info);
    return r != 0 ? r : tr_store_commit(fx->store);
}

static void on_commit(void *arg)
{
    tr_server_notify(arg);
}

static bool fixture_start(fixture_t *fx, int txns)
{
    memset(fx, 0, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/tr_session_test_XXXXXX");
    if (mkdtemp(fx->dir) == NULL) {
        return false;
    }
    static const char text[] = "[server]\nlisten = 127.0.0.1:3307\nserver-id = 42\n"
                               "server-uuid = 3e11fa47-71ca-11e1-9e33-c80aa9429511\n"
                               "[users]\nrepl = pw\n"
                               "[upstream]\npumps = 127.0.0.1:1\ntidb = root:@127.0.0.1:1\n";
    char err[512];
    tr_config_defaults(&fx->cfg);
    EXPECT_EQ_INT(tr_config_parse(&fx->cfg, text, "test", NULL, err, sizeof(err)), 0);
    fx->cfg.listen.port = 0; /* an ephemeral port: every client here is a socketpair */
    /* The server keeps its RSA key pair in the store directory: this one, not ./tirelay-data. */
    snprintf(fx->cfg.store_dir, sizeof(fx->cfg.store_dir), "%s", fx->dir);
    tr_store_opts_t o;
    memset(&o, 0, sizeof(o));
    o.dir = fx->dir;
    o.basename = "tirelay-bin";
    o.max_binlog_size = 1 << 20;
    o.sync = TR_SYNC_NONE;
    o.server_id = 42;
    memcpy(o.server_uuid, uuid, 16);
    o.gtid_start = 1;
    o.flavors[TR_FLAVOR_MYSQL] = true;
    o.server_version[TR_FLAVOR_MYSQL] = "8.0.36-tirelay";
    tr_store_checkpoint_t cp;
    const char *why = NULL;
    if (tr_store_open(&o, &fx->store, &cp, &why) != 0) {
        fprintf(stderr, "store: %s\n", why ? why : "?");
        return false;
    }
    fx->next_gno = 1;
    for (int i = 0; i < txns; i++) {
        EXPECT_EQ_INT(add_txn(fx), 0);
    }
    uv_loop_init(&fx->loop);
    if (tr_server_start(&fx->loop, &fx->cfg, fx->store, &fx->server, &why) != 0) {
        fprintf(stderr, "server: %s\n", why ? why : "?");
        return false;
    }
    tr_store_set_notify(fx->store, on_commit, fx->server);
    return true;
}

static void on_server_closed(void *arg)
{
    ((fixture_t *)arg)->closed_calls++;
}

/* Closes the server, runs the loop dry and checks nothing is left. */
static void fixture_stop(fixture_t *fx)
{
    tr_store_set_notify(fx->store, NULL, NULL);
    tr_server_close(fx->server, on_server_closed, fx);
    for (int i = 0; i < 2000 && uv_loop_alive(&fx->loop); i++) {
        (void)uv_run(&fx->loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    EXPECT_EQ_INT(fx->closed_calls, 1);
    EXPECT_EQ_INT(uv_loop_close(&fx->loop), 0); /* no handle left */
    tr_store_free(fx->store);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    EXPECT_EQ_INT(system(cmd), 0);
}

/* ---------------------------------------------------------------- the client side */

typedef struct {
    fixture_t *fx;
    int fd;
    tr_buf_t in;
    uint8_t seq;
} client_t;

static void client_open(client_t *c, fixture_t *fx)
{
    int sv[2];
    EXPECT_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    (void)fcntl(sv[1], F_SETFL, O_NONBLOCK);
    c->fx = fx;
    c->fd = sv[1];
    c->seq = 0;
    tr_buf_init(&c->in, 0);
    tr_server_adopt(fx->server, sv[0], TR_FLAVOR_MYSQL);
}

static void client_close(client_t *c)
{
    (void)close(c->fd);
    tr_buf_cleanup(&c->in);
}

/* Runs the loop and reads until one whole packet is in; its payload is copied to pkt.
 * false after two seconds without one, or when the server closed the connection. */
static bool client_packet(client_t *c, tr_buf_t *pkt)
{
    for (int round = 0; round < 2000; round++) {
        tr_wire_packet_t p;
        const char *why = NULL;
        ssize_t n = tr_wire_packet_decode(tr_buf_head(&c->in), tr_buf_unread(&c->in), 0, &p, &why);
        if (n > 0) {
            tr_buf_reset(pkt);
            uint8_t *dst = tr_buf_extend(pkt, p.payload_len);
            tr_wire_packet_gather(tr_buf_head(&c->in), &p, dst);
            c->in.off += (size_t)n;
            tr_buf_compact(&c->in);
            c->seq = (uint8_t)(p.last_seq + 1);
            return true;
        }
        (void)uv_run(&c->fx->loop, UV_RUN_NOWAIT);
        struct pollfd pfd = {c->fd, POLLIN, 0};
        if (poll(&pfd, 1, 1) > 0) {
            uint8_t buf[65536];
            ssize_t r = read(c->fd, buf, sizeof(buf));
            if (r == 0) {
                return false;
            }
            if (r > 0) {
                tr_buf_append(&c->in, buf, (size_t)r);
            }
        }
    }
    return false;
}

static void client_send(client_t *c, const tr_buf_t *payload)
{
    tr_buf_t b;
    tr_buf_init(&b, 0);
    tr_wire_put_packet(&b, &c->seq, payload->data, payload->len);
    EXPECT_EQ_INT(write(c->fd, b.data, b.len), (ssize_t)b.len);
    tr_buf_cleanup(&b);
}

/* Greeting, then a mysql_native_password response; returns the server's answer's first
 * byte (0x00 OK, 0xFF ERR) with the ERR code in *code. */
static int client_login(client_t *c, const char *password, uint16_t *code)
{
    tr_buf_t pkt;
    tr_buf_init(&pkt, 0);
    EXPECT_TRUE(client_packet(c, &pkt));
    tr_hs_greeting_t g;
    uint8_t scramble[TR_SCRAMBLE_LEN];
    const char *why = NULL;
    EXPECT_TRUE(tr_hs_greeting_decode(pkt.data, pkt.len, &g, scramble, &why) > 0);
    uint8_t auth[20];
    tr_auth_native_scramble(password, strlen(password), scramble, auth);
    tr_hs_response_t r;
    memset(&r, 0, sizeof(r));
    r.caps = TR_CLIENT_PROTOCOL_41 | TR_CLIENT_SECURE_CONNECTION | TR_CLIENT_PLUGIN_AUTH |
             TR_CLIENT_LONG_PASSWORD;
    r.max_packet = 1 << 24;
    r.charset = 45;
    r.user = tr_slice("repl", 4);
    r.auth_response = tr_slice(auth, sizeof(auth));
    r.auth_plugin = tr_slice(TR_AUTH_NATIVE, strlen(TR_AUTH_NATIVE));
    r.has_auth_plugin = true;
    tr_buf_t out;
    tr_buf_init(&out, 0);
    tr_hs_response_encode(&out, &r);
    client_send(c, &out);
    tr_buf_cleanup(&out);
    /* the MySQL listener greets with caching_sha2_password: a switch to native first */
    EXPECT_TRUE(client_packet(c, &pkt));
    if (pkt.len > 0 && pkt.data[0] == 0xFE) {
        memcpy(scramble, pkt.data + 1 + strlen(TR_AUTH_NATIVE) + 1, TR_SCRAMBLE_LEN);
        tr_auth_native_scramble(password, strlen(password), scramble, auth);
        tr_buf_init(&out, 0);
        tr_buf_append(&out, auth, sizeof(auth));
        client_send(c, &out);
        tr_buf_cleanup(&out);
        EXPECT_TRUE(client_packet(c, &pkt));
    }
    int first = pkt.len > 0 ? pkt.data[0] : -1;
    *code = first == 0xFF && pkt.len >= 3 ? tr_load_u16le(pkt.data + 1) : 0;
    tr_buf_cleanup(&pkt);
    return first;
}

static void client_query(client_t *c, const char *sql)
{
    tr_buf_t q;
    tr_buf_init(&q, 0);
    c->seq = 0;
    tr_buf_put_u8(&q, 0x03); /* COM_QUERY */
    tr_buf_append(&q, sql, strlen(sql));
    client_send(c, &q);
    tr_buf_cleanup(&q);
}

/* Reads packets up to the end of a result set (or an OK/ERR); returns how many packets
 * came and the first byte of the last. */
static int client_result(client_t *c, int *last)
{
    tr_buf_t pkt;
    tr_buf_init(&pkt, 0);
    int n = 0;
    int eofs = 0;
    *last = -1;
    while (client_packet(c, &pkt)) {
        n++;
        *last = pkt.data[0];
        if (n == 1 && (pkt.data[0] == 0x00 || pkt.data[0] == 0xFF)) {
            break;
        }
        if (pkt.data[0] == 0xFE && pkt.len < 9 && ++eofs == 2) {
            break;
        }
    }
    tr_buf_cleanup(&pkt);
    return n;
}

static void client_dump(client_t *c, uint16_t flags, uint32_t server_id, const char *file)
{
    client_query(c, "SET @master_binlog_checksum='NONE'");
    int last = 0;
    EXPECT_EQ_INT(client_result(c, &last), 1);
    EXPECT_EQ_INT(last, 0x00);
    tr_cmd_dump_t d;
    memset(&d, 0, sizeof(d));
    d.pos = 4;
    d.flags = flags;
    d.server_id = server_id;
    d.file = tr_slice(file, strlen(file));
    tr_buf_t q;
    tr_buf_init(&q, 0);
    tr_cmd_encode_dump(&q, &d);
    c->seq = 0;
    client_send(c, &q);
    tr_buf_cleanup(&q);
}

/* The store's file bytes after the magic. */
static uint8_t *file_events(fixture_t *fx, size_t *len)
{
    tr_binlog_file_t f;
    EXPECT_EQ_INT(tr_store_file_last(fx->store, TR_FLAVOR_MYSQL, &f), 0);
    FILE *fp = fopen(f.path, "rb");
    EXPECT_TRUE(fp != NULL);
    uint8_t *buf = malloc(f.size);
    EXPECT_EQ_INT(fread(buf, 1, f.size, fp), f.size);
    fclose(fp);
    *len = f.size;
    return buf;
}

/* ---------------------------------------------------------------- tests */

TR_TEST(login_query_and_wrong_password)
{
    fixture_t fx;
    if (!fixture_start(&fx, 2)) {
        EXPECT_TRUE(false);
        return;
    }
    client_t a;
    client_open(&a, &fx);
    uint16_t code = 0;
    EXPECT_EQ_INT(client_login(&a, "pw", &code), 0x00);
    client_query(&a, "SELECT @@server_id");
    int last = 0;
    EXPECT_EQ_INT(client_result(&a, &last), 5); /* column count, column, EOF, row, EOF */
    EXPECT_EQ_INT(last, 0xFE);
    client_query(&a, "SELECT nope FROM");
    EXPECT_EQ_INT(client_result(&a, &last), 1);
    EXPECT_EQ_INT(last, 0xFF);

    client_t b;
    client_open(&b, &fx);
    EXPECT_EQ_INT(client_login(&b, "wrong", &code), 0xFF);
    EXPECT_EQ_INT(code, 1045);
    tr_buf_t pkt;
    tr_buf_init(&pkt, 0);
    EXPECT_TRUE(!client_packet(&b, &pkt)); /* then closed */
    tr_buf_cleanup(&pkt);
    client_close(&a);
    client_close(&b);
    fixture_stop(&fx);
}

TR_TEST(dumps_stream_the_store_and_wake_on_commit)
{
    fixture_t fx;
    if (!fixture_start(&fx, 3)) {
        EXPECT_TRUE(false);
        return;
    }
    /* non-blocking: the fake ROTATE, then every event of the file as stored, then EOF */
    client_t a;
    client_open(&a, &fx);
    uint16_t code = 0;
    EXPECT_EQ_INT(client_login(&a, "pw", &code), 0x00);
    client_dump(&a, 1 /* non-blocking */, 0, "tirelay-bin.000001");
    size_t flen = 0;
    uint8_t *file = file_events(&fx, &flen);
    tr_buf_t pkt;
    tr_buf_init(&pkt, 0);
    size_t off = 4;
    int events = 0;
    bool eof = false;
    while (client_packet(&a, &pkt)) {
        if (pkt.data[0] == 0xFE) {
            eof = true;
            break;
        }
        EXPECT_EQ_INT(pkt.data[0], 0x00);
        const uint8_t *ev = pkt.data + 1;
        size_t evlen = pkt.len - 1;
        if (ev[4] == TR_EVT_ROTATE && tr_load_u32le(ev + 13) == 0) {
            continue; /* the fake ROTATE */
        }
        if (ev[4] == TR_EVT_FORMAT_DESCRIPTION) {
            off += evlen; /* sent with IN_USE cleared and its CRC redone */
            continue;
        }
        EXPECT_TRUE(off + evlen <= flen && memcmp(ev, file + off, evlen) == 0);
        off += evlen;
        events++;
    }
    EXPECT_TRUE(eof);
    EXPECT_EQ_U64(off, flen);
    EXPECT_EQ_INT(events, 1 + 3 * 5); /* PREVIOUS_GTIDS, then 5 events per transaction */
    free(file);
    EXPECT_TRUE(!client_packet(&a, &pkt)); /* closed after the EOF */
    client_close(&a);

    /* blocking: caught up, then a commit wakes it with the new transaction */
    client_t b;
    client_open(&b, &fx);
    EXPECT_EQ_INT(client_login(&b, "pw", &code), 0x00);
    client_dump(&b, 0, 77, "tirelay-bin.000001");
    int gtids = 0;
    for (int i = 0; i < 2 + 1 + 3 * 5 && client_packet(&b, &pkt); i++) {
        gtids += pkt.data[1 + 4] == TR_EVT_GTID;
    }
    EXPECT_EQ_INT(gtids, 3);
    EXPECT_EQ_INT(add_txn(&fx), 0); /* commit: the store notifies the server */
    gtids = 0;
    for (int i = 0; i < 5 && client_packet(&b, &pkt); i++) {
        gtids += pkt.data[1 + 4] == TR_EVT_GTID;
    }
    EXPECT_EQ_INT(gtids, 1);

    /* refused: a file that does not exist */
    client_t c;
    client_open(&c, &fx);
    EXPECT_EQ_INT(client_login(&c, "pw", &code), 0x00);
    client_dump(&c, 1, 0, "tirelay-bin.000009");
    EXPECT_TRUE(client_packet(&c, &pkt));
    EXPECT_EQ_INT(pkt.data[0], 0xFF);
    EXPECT_EQ_INT(tr_load_u16le(pkt.data + 1), 1236);

    /* a client that goes away in the middle of its dump: the server closes its side */
    client_close(&b);
    for (int i = 0; i < 50; i++) {
        (void)uv_run(&fx.loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    EXPECT_EQ_INT(add_txn(&fx), 0); /* a commit reaches no dead dump */
    tr_buf_cleanup(&pkt);
    client_close(&c);
    fixture_stop(&fx);
}

TR_TEST_MAIN()
