/*
 * dumpreader: N concurrent binlog dump clients that discard what they read (issue 8 benchmarks).
 *
 *   dumpreader --port P [--host 127.0.0.1] [--user repl] [--password pw] [--clients N]
 *              [--file NAME] [--pos 4] [--server-id-base 1000]
 *              [--seconds S] [--latency OUT --markers M]
 *
 * Each client connects and authenticates with libmariadb, sets @master_binlog_checksum =
 * 'CRC32' and @mariadb_slave_capability = 4 (so a MariaDB primary sends its events as stored,
 * and tirelay as well), then speaks the raw protocol on the socket: COM_REGISTER_SLAVE, then
 * COM_BINLOG_DUMP from NAME:pos with BINLOG_DUMP_NON_BLOCK (the server ends the dump with an
 * EOF packet at the end of its last file; MariaDB sql/sql_repl.cc mysql_binlog_send,
 * tirelay src/server/dump.c). All clients are read by one thread through epoll; a read only
 * walks the packet headers. Prints the bytes read (packet payloads), the seconds from the
 * first dump command to the last EOF (or --seconds, whichever comes first), and the aggregate
 * MB/s (10^6 bytes).
 *
 * --latency OUT: one blocking dump (no NON_BLOCK flag); every event carrying the marker '@@TS'
 * + 20 digits (bench/gen_stream.py --marker, stamped by bench/feeder.c --rate with its
 * CLOCK_MONOTONIC send time) writes "<marker ns> <arrival ns>" to OUT (arrival: CLOCK_MONOTONIC
 * right after the read that completed the event); stops after M markers.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

#include "common/clock.h"

#define COM_BINLOG_DUMP     0x12
#define COM_REGISTER_SLAVE  0x15
#define DUMP_NON_BLOCK      1
#define MAX_PACKET          0xffffffu

typedef struct {
    MYSQL *my;
    int fd;
    uint8_t hdr[4];
    unsigned hdr_have;
    uint32_t left;      /* payload bytes left in the current packet */
    bool continuation;  /* the previous packet was 16 MiB - 1: this one continues it */
    bool first_byte;    /* the next payload byte is the first of a logical packet */
    bool done;
    uint64_t bytes;
    /* latency mode: the current event */
    uint8_t *ev;
    size_t ev_len, ev_cap;
} client_t;

static const char *g_host = "127.0.0.1";
static unsigned g_port;
static const char *g_user = "repl";
static const char *g_password = "pw";
static const char *g_file = "";
static uint32_t g_pos = 4;
static uint32_t g_sid_base = 1000;
static int g_clients = 1;
static FILE *g_lat;
static long g_markers;
static long g_markers_seen;
static double g_seconds; /* stop after this long (0: at every client's EOF) */

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "dumpreader: %s: %s\n", what, detail);
    exit(2);
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            die("write", strerror(errno));
        }
        p += w;
        n -= (size_t)w;
    }
}

static void read_all(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            die("read", r == 0 ? "connection closed" : strerror(errno));
        }
        p += r;
        n -= (size_t)r;
    }
}

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* One command packet (sequence 0). */
static void send_command(int fd, const uint8_t *payload, size_t n)
{
    uint8_t hdr[4];
    put_u32(hdr, (uint32_t)n);
    hdr[3] = 0;
    write_all(fd, hdr, 4);
    write_all(fd, payload, n);
}

static void client_start(client_t *c, int i)
{
    c->my = mysql_init(NULL);
    unsigned ssl = 0;
    mysql_optionsv(c->my, MYSQL_OPT_SSL_ENFORCE, &ssl);
    if (!mysql_real_connect(c->my, g_host, g_user, g_password, NULL, g_port, NULL, 0)) {
        die("connect", mysql_error(c->my));
    }
    if (mysql_query(c->my, "SET @master_binlog_checksum = 'CRC32'") != 0 ||
        mysql_query(c->my, "SET @mariadb_slave_capability = 4") != 0) {
        die("set", mysql_error(c->my));
    }
    c->fd = (int)mysql_get_socket(c->my);
    uint32_t sid = g_sid_base + (uint32_t)i;
    /* COM_REGISTER_SLAVE: server id, host "", user "", password "", port, rank, master id */
    uint8_t reg[18] = {COM_REGISTER_SLAVE};
    put_u32(reg + 1, sid);
    /* reg[5..7]: three empty length-prefixed strings */
    put_u16(reg + 8, 0);
    put_u32(reg + 10, 0);
    put_u32(reg + 14, 0);
    send_command(c->fd, reg, sizeof(reg));
    uint8_t hdr[4];
    read_all(c->fd, hdr, 4);
    uint32_t n = hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16;
    uint8_t *resp = malloc(n ? n : 1);
    read_all(c->fd, resp, n);
    if (n == 0 || resp[0] != 0x00) {
        die("COM_REGISTER_SLAVE", n > 3 ? (const char *)resp + 3 : "not OK");
    }
    free(resp);
    c->first_byte = true;
}

static void client_dump(client_t *c, int i)
{
    size_t flen = strlen(g_file);
    uint8_t *dump = malloc(11 + flen);
    dump[0] = COM_BINLOG_DUMP;
    put_u32(dump + 1, g_pos);
    put_u16(dump + 5, g_lat ? 0 : DUMP_NON_BLOCK);
    put_u32(dump + 7, g_sid_base + (uint32_t)i);
    memcpy(dump + 11, g_file, flen);
    send_command(c->fd, dump, 11 + flen);
    free(dump);
    int fl = fcntl(c->fd, F_GETFL);
    fcntl(c->fd, F_SETFL, fl | O_NONBLOCK);
}

static void on_event(client_t *c)
{
    /* the event is c->ev without the OK byte; find the marker */
    const uint8_t *p = c->ev, *end = c->ev + c->ev_len;
    while (p < end) {
        const uint8_t *m = memmem(p, (size_t)(end - p), "@@TS", 4);
        if (m == NULL || end - m < 24) {
            return;
        }
        uint64_t v = 0;
        bool ok = true;
        for (int k = 4; k < 24; k++) {
            if (m[k] < '0' || m[k] > '9') {
                ok = false;
                break;
            }
            v = v * 10 + (uint64_t)(m[k] - '0');
        }
        if (ok && v != 0) {
            fprintf(g_lat, "%" PRIu64 " %" PRIu64 "\n", v, tr_clock_mono_ns());
            g_markers_seen++;
        }
        p = m + 4;
    }
}

/* Walks the packets of n bytes just read; returns false when the dump ended. */
static bool client_consume(client_t *c, const uint8_t *p, size_t n)
{
    while (n > 0) {
        if (c->left == 0 && c->hdr_have < 4) {
            size_t k = 4 - c->hdr_have;
            if (k > n) {
                k = n;
            }
            memcpy(c->hdr + c->hdr_have, p, k);
            c->hdr_have += (unsigned)k;
            p += k;
            n -= k;
            if (c->hdr_have < 4) {
                return true;
            }
            c->left = c->hdr[0] | (uint32_t)c->hdr[1] << 8 | (uint32_t)c->hdr[2] << 16;
            c->first_byte = !c->continuation;
            c->continuation = c->left == MAX_PACKET;
            if (c->left == 0) {
                c->hdr_have = 0;
                continue;
            }
        }
        if (n == 0) {
            return true;
        }
        if (c->first_byte) {
            c->first_byte = false;
            if (p[0] == 0xff) {
                fprintf(stderr, "dumpreader: server error: %.*s\n",
                        (int)(n > 9 ? (n - 9 < c->left - 9 ? n - 9 : c->left - 9) : 0), p + 9);
                exit(2);
            }
            if (p[0] == 0xfe && c->left < 9) {
                return false; /* EOF: the end of the last file */
            }
            c->ev_len = 0;
        }
        size_t k = c->left < n ? c->left : n;
        if (g_lat != NULL) {
            if (c->ev_len + k > c->ev_cap) {
                c->ev_cap = (c->ev_len + k) * 2;
                c->ev = realloc(c->ev, c->ev_cap);
            }
            memcpy(c->ev + c->ev_len, p, k);
            c->ev_len += k;
        }
        c->bytes += k;
        c->left -= (uint32_t)k;
        p += k;
        n -= k;
        if (c->left == 0) {
            c->hdr_have = 0;
            if (g_lat != NULL && !c->continuation) {
                on_event(c);
            }
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    const char *lat_path = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (strcmp(a, "--host") == 0) {
            g_host = v;
        } else if (strcmp(a, "--port") == 0) {
            g_port = (unsigned)atoi(v);
        } else if (strcmp(a, "--user") == 0) {
            g_user = v;
        } else if (strcmp(a, "--password") == 0) {
            g_password = v;
        } else if (strcmp(a, "--clients") == 0) {
            g_clients = atoi(v);
        } else if (strcmp(a, "--file") == 0) {
            g_file = v;
        } else if (strcmp(a, "--pos") == 0) {
            g_pos = (uint32_t)strtoul(v, NULL, 10);
        } else if (strcmp(a, "--server-id-base") == 0) {
            g_sid_base = (uint32_t)strtoul(v, NULL, 10);
        } else if (strcmp(a, "--latency") == 0) {
            lat_path = v;
        } else if (strcmp(a, "--seconds") == 0) {
            g_seconds = atof(v);
        } else if (strcmp(a, "--markers") == 0) {
            g_markers = atol(v);
        } else {
            die("unknown option", a);
        }
    }
    if (argc % 2 == 0) {
        die("usage", "options come in pairs: --port P [--clients N] [--file NAME] ...");
    }
    if (g_port == 0 || g_clients < 1) {
        die("usage", "--port P is required and --clients must be >= 1");
    }
    if (lat_path != NULL) {
        g_lat = fopen(lat_path, "w");
        if (g_lat == NULL) {
            die("cannot write", lat_path);
        }
        g_clients = 1;
    }
    client_t *cl = calloc((size_t)g_clients, sizeof(client_t));
    for (int i = 0; i < g_clients; i++) {
        client_start(&cl[i], i);
    }
    int ep = epoll_create1(0);
    uint64_t t0 = tr_clock_mono_ns();
    for (int i = 0; i < g_clients; i++) {
        client_dump(&cl[i], i);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cl[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, cl[i].fd, &ev);
    }
    size_t bufsz = 1 << 18;
    uint8_t *buf = malloc(bufsz);
    int live = g_clients;
    struct epoll_event evs[256];
    uint64_t stop_at = g_seconds > 0 ? t0 + (uint64_t)(g_seconds * 1e9) : UINT64_MAX;
    bool cut = false;
    while (live > 0) {
        if (tr_clock_mono_ns() >= stop_at) {
            cut = true;
            break;
        }
        int n = epoll_wait(ep, evs, 256, 100);
        if (n < 0 && errno != EINTR) {
            die("epoll_wait", strerror(errno));
        }
        for (int e = 0; e < n; e++) {
            client_t *c = evs[e].data.ptr;
            for (;;) {
                ssize_t r = read(c->fd, buf, bufsz);
                if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
                    break;
                }
                if (r <= 0) {
                    die("dump read", r == 0 ? "connection closed before EOF" : strerror(errno));
                }
                bool more = client_consume(c, buf, (size_t)r);
                if (!more || (g_lat != NULL && g_markers > 0 && g_markers_seen >= g_markers)) {
                    c->done = true;
                    live--;
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    break;
                }
                if ((size_t)r < bufsz) {
                    break;
                }
            }
        }
    }
    double secs = (double)(tr_clock_mono_ns() - t0) / 1e9;
    uint64_t total = 0;
    for (int i = 0; i < g_clients; i++) {
        total += cl[i].bytes;
        mysql_close(cl[i].my);
    }
    if (g_lat != NULL) {
        fclose(g_lat);
    }
    printf("clients=%d finished=%d bytes=%" PRIu64 " bytes_per_client=%" PRIu64
           " seconds=%.3f MBps=%.1f%s\n",
           g_clients, g_clients - live, total, total / (uint64_t)g_clients, secs,
           (double)total / secs / 1e6, cut ? " (cut at --seconds)" : "");
    free(buf);
    free(cl);
    return 0;
}
