/*
 * INI configuration parsing and validation (see config.h and conf/tirelay.cnf).
 * Parsing is done by libinih over the text; every key is checked here and an
 * unknown section or key is an error reported with its line. Pure apart from
 * tr_config_load reading the file.
 */
#include "common/config.h"

#include <errno.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"

/* Every key the parser accepts, by section ([users] takes any name). The
 * unit test checks that each one is documented in conf/tirelay.cnf. */
static const tr_config_key_t known_keys[] = {
    {"server", "listen"},
    {"server", "mariadb-listen"},
    {"server", "server-id"},
    {"server", "server-uuid"},
    {"server", "gtid-domain-id"},
    {"server", "gtid-start"},
    {"server", "heartbeat-period-ms"},
    {"server", "binlog-row-event-max-size"},
    {"server", "dump-stall-timeout-ms"},
    {"server", "tls-cert"},
    {"server", "tls-key"},
    {"server", "require-tls"},
    {"server", "caching-sha2-prefill"},
    {"server", "admin-users"},
    {"upstream", "pumps"},
    {"upstream", "pd-urls"},
    {"upstream", "node-id"},
    {"upstream", "notify-listen"},
    {"upstream", "advertise-addr"},
    {"upstream", "detect-interval"},
    {"upstream", "stop-state"},
    {"upstream", "cluster-id"},
    {"upstream", "tidb"},
    {"upstream", "tidb-status"},
    {"upstream", "initial-commit-ts"},
    {"upstream", "ddl-unsupported"},
    {"store", "dir"},
    {"store", "binlog-basename"},
    {"store", "max-binlog-size"},
    {"store", "expire-logs-seconds"},
    {"store", "max-binlog-total-size"},
    {"store", "sync"},
    {"metrics", "listen"},
    {"metrics", "health-stall-seconds"},
    {"filter", "do-db"},
    {"filter", "ignore-db"},
    {"filter", "do-table"},
    {"filter", "ignore-table"},
    {"filter", "wild-do-table"},
    {"filter", "wild-ignore-table"},
    {"filter", "rewrite-db"},
    {"filter", "rewrite-table"},
    {"log", "level"},
};

static const char *const known_sections[] = {"server", "users",  "upstream", "store",
                                             "metrics", "filter", "log"};

const tr_config_key_t *tr_config_keys(size_t *n)
{
    *n = sizeof(known_keys) / sizeof(known_keys[0]);
    return known_keys;
}

#define MAX_ERRORS 64

typedef struct {
    tr_config_t *c;
    const char *name;   /* file name for messages */
    /* The text being read, line by line (so every message carries its line). */
    const char *text;
    size_t pos;
    int line;           /* number of the line inih is handling */
    bool section_ok;    /* the current [section] is known (else its keys are not re-reported) */
    bool after_key;     /* the last non-blank line was a key (inih continues it when indented) */
    /* Collected errors: "file:line: [section] key: message" each. */
    char *err;
    size_t err_len;
    size_t err_used;
    int n_errors;
    /* [server] admin-users, resolved against [users] once every line is read. */
    char admin_users[1024];
    int admin_users_line;
    const tr_config_checks_t *checks; /* may be NULL */
} parse_ctx_t;

static const char *const filter_keys[TR_FILTER_KIND_COUNT] = {
    "do-db",         "ignore-db",         "do-table",   "ignore-table",
    "wild-do-table", "wild-ignore-table", "rewrite-db", "rewrite-table",
};

const char *tr_config_filter_key(tr_filter_kind_t kind)
{
    return (unsigned)kind < TR_FILTER_KIND_COUNT ? filter_keys[kind] : NULL;
}

TR_PRINTF(3, 4)
static void add_error(parse_ctx_t *p, int line, const char *fmt, ...)
{
    p->n_errors++;
    if (p->n_errors > MAX_ERRORS || p->err_len == 0 || p->err_used + 1 >= p->err_len) {
        return;
    }
    char *out = p->err + p->err_used;
    size_t cap = p->err_len - p->err_used;
    int n = line > 0 ? snprintf(out, cap, "%s%s:%d: ", p->err_used ? "\n" : "", p->name, line)
                     : snprintf(out, cap, "%s%s: ", p->err_used ? "\n" : "", p->name);
    if (n < 0 || (size_t)n >= cap) {
        p->err_used = p->err_len - 1;
        return;
    }
    p->err_used += (size_t)n;
    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(p->err + p->err_used, p->err_len - p->err_used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= p->err_len - p->err_used) {
        p->err_used = p->err_len - 1;
    } else {
        p->err_used += (size_t)n;
    }
}

void tr_config_defaults(tr_config_t *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->listen.host, sizeof(c->listen.host), "127.0.0.1");
    c->listen.port = 3307;
    c->server_id = 1;
    snprintf(c->server_uuid, sizeof(c->server_uuid), "3e11fa47-71ca-11e1-9e33-c80aa9429562");
    int rc = tr_uuid_parse(c->server_uuid, c->server_uuid_bin);
    TR_ASSERT(rc == 0);
    c->gtid_domain_id = 0;
    c->gtid_start = 1;
    c->heartbeat_default_ms = 0;
    c->row_event_max_bytes = 8192;
    c->dump_stall_timeout_ms = 60000;
    c->caching_sha2_prefill = true;
    c->cluster_id = 0;
    c->detect_interval_ms = 5000;
    c->health_stall_ms = 30000;
    c->initial_commit_ts = 0;
    c->ddl_unsupported = TR_DDL_POLICY_STOP;
    snprintf(c->store_dir, sizeof(c->store_dir), "tirelay-data");
    snprintf(c->binlog_basename, sizeof(c->binlog_basename), "tirelay-bin");
    c->max_binlog_size = 1073741824ull;
    c->expire_logs_seconds = 0;
    c->sync = 0;
    c->log_level = TR_LOG_INFO;
}

int tr_addr_parse(tr_addr_t *a, const char *text)
{
    memset(a, 0, sizeof(*a));
    while (isspace((unsigned char)*text)) {
        text++;
    }
    if (*text == '\0') {
        return 0; /* disabled */
    }
    /* "host:port", "[v6]:port", ":port" or a bare "port". */
    const char *colon = strrchr(text, ':');
    const char *portp = colon != NULL ? colon + 1 : text;
    size_t hl = colon != NULL ? (size_t)(colon - text) : 0;
    if ((colon == NULL && !isdigit((unsigned char)*text)) || hl >= sizeof(a->host)) {
        return TR_ECONFIG;
    }
    char *end = NULL;
    errno = 0;
    unsigned long port = strtoul(portp, &end, 10);
    while (end != NULL && isspace((unsigned char)*end)) {
        end++;
    }
    if (errno != 0 || end == portp || (end != NULL && *end != '\0') || port == 0 ||
        port > 65535) {
        return TR_ECONFIG;
    }
    const char *h = text;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') { /* [::1]:3307 */
        h++;
        hl -= 2;
    }
    if (hl == 0) {
        /* No host: loopback only. Other interfaces are opened on purpose
         * (0.0.0.0:port, [::]:port or an address), never by default. */
        h = "127.0.0.1";
        hl = strlen(h);
    }
    memcpy(a->host, h, hl);
    a->host[hl] = '\0';
    a->port = (uint16_t)port;
    return 0;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    ch = tolower(ch);
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    return -1;
}

int tr_uuid_parse(const char *text, uint8_t out[16])
{
    if (strlen(text) != 36) {
        return TR_EMALFORMED;
    }
    size_t n = 0;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-') {
                return TR_EMALFORMED;
            }
            continue;
        }
        int hi = hexval((unsigned char)text[i]);
        int lo = hexval((unsigned char)text[i + 1]);
        if (hi < 0 || lo < 0) {
            return TR_EMALFORMED;
        }
        out[n++] = (uint8_t)(hi << 4 | lo);
        i++;
    }
    return n == 16 ? 0 : TR_EMALFORMED;
}

/* Unsigned integer with optional K/M/G suffix (powers of 1024). */
static int parse_u64(const char *v, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    if (*v == '-' || *v == '\0') {
        return TR_ECONFIG;
    }
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno != 0 || end == v) {
        return TR_ECONFIG;
    }
    uint64_t mul = 1;
    if (*end != '\0') {
        switch (toupper((unsigned char)*end)) {
        case 'K':
            mul = 1024ull;
            break;
        case 'M':
            mul = 1024ull * 1024;
            break;
        case 'G':
            mul = 1024ull * 1024 * 1024;
            break;
        default:
            return TR_ECONFIG;
        }
        end++;
        if (*end != '\0') {
            return TR_ECONFIG;
        }
    }
    if (x > max / mul) {
        return TR_ECONFIG;
    }
    *out = (uint64_t)x * mul;
    return 0;
}

static int parse_i64(const char *v, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0') {
        return TR_ECONFIG;
    }
    *out = (int64_t)x;
    return 0;
}

static int parse_bool(const char *v, bool *out)
{
    if (strcasecmp(v, "1") == 0 || strcasecmp(v, "on") == 0 || strcasecmp(v, "true") == 0 ||
        strcasecmp(v, "yes") == 0) {
        *out = true;
        return 0;
    }
    if (strcasecmp(v, "0") == 0 || strcasecmp(v, "off") == 0 || strcasecmp(v, "false") == 0 ||
        strcasecmp(v, "no") == 0) {
        *out = false;
        return 0;
    }
    return TR_ECONFIG;
}

static int copy_str(char *dst, size_t cap, const char *v)
{
    size_t n = strlen(v);
    if (n >= cap) {
        return TR_ECONFIG;
    }
    memcpy(dst, v, n + 1);
    return 0;
}

TR_PRINTF(4, 5)
static int fail(parse_ctx_t *p, const char *section, const char *name, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    add_error(p, p->line, "[%s] %s: %s", section, name, msg);
    return 1; /* keep going: every error is reported */
}

static void hash_password(tr_user_t *u, const char *pw)
{
    uint8_t h1[SHA_DIGEST_LENGTH];
    size_t n = strlen(pw);
    u->empty_password = n == 0;
    SHA1((const unsigned char *)pw, n, h1);
    SHA1(h1, sizeof(h1), u->native_hash);
    uint8_t s1[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)pw, n, s1);
    SHA256(s1, sizeof(s1), u->sha2_hash);
    /* SHA1(password) is what a mysql_native_password client proves it knows. */
    OPENSSL_cleanse(h1, sizeof(h1));
    OPENSSL_cleanse(s1, sizeof(s1));
}

/* [filter] key = rule[, rule ...]: each rule checked (relay/filter.h) and kept as written.
 * A key may repeat, as MySQL's replicate-* options do. */
static int filter_rules(parse_ctx_t *p, const char *s, const char *k, tr_filter_kind_t kind,
                        const char *v)
{
    static const char *const forms[TR_FILTER_KIND_COUNT] = {
        "a database name",
        "a database name",
        "db.table",
        "db.table",
        "db_pattern.table_pattern with LIKE wildcards % and _",
        "db_pattern.table_pattern with LIKE wildcards % and _",
        "from_db->to_db",
        "db.table->db.table",
    };
    tr_config_t *c = p->c;
    const char *item = v;
    for (;;) {
        const char *end = strchr(item, ',');
        size_t len = end != NULL ? (size_t)(end - item) : strlen(item);
        while (len > 0 && isspace((unsigned char)*item)) {
            item++;
            len--;
        }
        while (len > 0 && isspace((unsigned char)item[len - 1])) {
            len--;
        }
        if (len == 0 || len >= TR_FILTER_RULE_MAX) {
            fail(p, s, k, "expected %s (comma-separated list allowed), got '%s'", forms[kind], v);
        } else if (c->n_filter_rules == TR_CONFIG_MAX_FILTER_RULES) {
            return fail(p, s, k, "too many filter rules (max %d)", TR_CONFIG_MAX_FILTER_RULES);
        } else {
            tr_filter_rule_t *r = &c->filter_rules[c->n_filter_rules];
            r->kind = kind;
            r->line = p->line;
            memcpy(r->text, item, len);
            r->text[len] = '\0';
            const char *why = NULL;
            if (p->checks != NULL && p->checks->filter_rule(kind, r->text, &why) != 0) {
                if (strncmp(why, "expected", 8) == 0) {
                    fail(p, s, k, "%s, got '%s'", why, r->text);
                } else {
                    fail(p, s, k, "%s in '%s' (expected %s)", why, r->text, forms[kind]);
                }
            } else {
                c->n_filter_rules++;
            }
        }
        if (end == NULL) {
            return 1;
        }
        item = end + 1;
    }
}

/* "user:password@host:port" */
static int parse_tidb_dsn(tr_config_t *c, const char *v)
{
    const char *at = strrchr(v, '@');
    if (at == NULL) {
        return TR_ECONFIG;
    }
    const char *colon = memchr(v, ':', (size_t)(at - v));
    size_t ul = colon ? (size_t)(colon - v) : (size_t)(at - v);
    if (ul == 0 || ul >= sizeof(c->tidb_user)) {
        return TR_ECONFIG;
    }
    memcpy(c->tidb_user, v, ul);
    c->tidb_user[ul] = '\0';
    c->tidb_password[0] = '\0';
    if (colon != NULL) {
        size_t pl = (size_t)(at - colon - 1);
        if (pl >= sizeof(c->tidb_password)) {
            return TR_ECONFIG;
        }
        memcpy(c->tidb_password, colon + 1, pl);
        c->tidb_password[pl] = '\0';
    }
    return tr_addr_parse(&c->tidb, at + 1) == 0 && c->tidb.port != 0 ? 0 : TR_ECONFIG;
}

static int parse_pumps(tr_config_t *c, const char *v)
{
    c->n_pumps = 0;
    char tmp[4096];
    if (copy_str(tmp, sizeof(tmp), v) != 0) {
        return TR_ECONFIG;
    }
    char *save = NULL;
    for (char *tok = strtok_r(tmp, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*tok)) {
            tok++;
        }
        if (*tok == '\0') {
            continue;
        }
        if (c->n_pumps == TR_CONFIG_MAX_PUMPS) {
            return TR_ECONFIG;
        }
        if (tr_addr_parse(&c->pumps[c->n_pumps], tok) != 0 || c->pumps[c->n_pumps].port == 0) {
            return TR_ECONFIG;
        }
        c->n_pumps++;
    }
    return 0;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    parse_ctx_t *p = user;
    tr_config_t *c = p->c;
    uint64_t u = 0;
    const char *s = section;
    const char *k = name;
    const char *v = value;

    if (strcmp(s, "server") == 0) {
        /* A bad address leaves the default in place, so that only its own
         * error is reported (not also "no listener"). */
        tr_addr_t a;
        if (strcmp(k, "listen") == 0) {
            if (tr_addr_parse(&a, v) != 0) {
                return fail(p, s, k, "expected host:port or empty, got '%s'", v);
            }
            c->listen = a;
            return 1;
        }
        if (strcmp(k, "mariadb-listen") == 0) {
            if (tr_addr_parse(&a, v) != 0) {
                return fail(p, s, k, "expected host:port or empty, got '%s'", v);
            }
            c->mariadb_listen = a;
            return 1;
        }
        if (strcmp(k, "admin-users") == 0) {
            if (copy_str(p->admin_users, sizeof(p->admin_users), v) != 0) {
                return fail(p, s, k, "too long (at most %zu characters)",
                            sizeof(p->admin_users) - 1);
            }
            p->admin_users_line = p->line;
            return 1;
        }
        if (strcmp(k, "server-id") == 0) {
            if (parse_u64(v, UINT32_MAX, &u) != 0 || u == 0) {
                return fail(p, s, k, "expected an integer 1..4294967295, got '%s'", v);
            }
            c->server_id = (uint32_t)u;
            return 1;
        }
        if (strcmp(k, "server-uuid") == 0) {
            if (tr_uuid_parse(v, c->server_uuid_bin) != 0) {
                return fail(p, s, k, "expected a UUID like 3e11fa47-71ca-11e1-9e33-c80aa9429562, got '%s'", v);
            }
            snprintf(c->server_uuid, sizeof(c->server_uuid), "%s", v);
            for (char *q = c->server_uuid; *q; q++) {
                *q = (char)tolower((unsigned char)*q);
            }
            return 1;
        }
        if (strcmp(k, "gtid-domain-id") == 0) {
            if (parse_u64(v, UINT32_MAX, &u) != 0) {
                return fail(p, s, k, "expected an integer 0..4294967295, got '%s'", v);
            }
            c->gtid_domain_id = (uint32_t)u;
            return 1;
        }
        if (strcmp(k, "gtid-start") == 0) {
            if (parse_u64(v, INT64_MAX, &u) != 0 || u == 0) {
                return fail(p, s, k, "expected an integer >= 1, got '%s'", v);
            }
            c->gtid_start = u;
            return 1;
        }
        if (strcmp(k, "tls-cert") == 0) {
            return copy_str(c->tls_cert, sizeof(c->tls_cert), v) == 0 ? 1
                                                                       : fail(p, s, k, "path too long: '%s'", v);
        }
        if (strcmp(k, "tls-key") == 0) {
            return copy_str(c->tls_key, sizeof(c->tls_key), v) == 0 ? 1
                                                                     : fail(p, s, k, "path too long: '%s'", v);
        }
        if (strcmp(k, "require-tls") == 0) {
            return parse_bool(v, &c->require_tls) == 0 ? 1
                                                        : fail(p, s, k, "expected on or off, got '%s'", v);
        }
        if (strcmp(k, "caching-sha2-prefill") == 0) {
            return parse_bool(v, &c->caching_sha2_prefill) == 0
                       ? 1
                       : fail(p, s, k, "expected on or off, got '%s'", v);
        }
        if (strcmp(k, "heartbeat-period-ms") == 0) {
            if (parse_u64(v, 3600000, &u) != 0) {
                return fail(p, s, k, "expected milliseconds 0..3600000, got '%s'", v);
            }
            c->heartbeat_default_ms = (uint32_t)u;
            return 1;
        }
        if (strcmp(k, "binlog-row-event-max-size") == 0) {
            if (parse_u64(v, 64u * 1024 * 1024, &u) != 0 || u < 256) {
                return fail(p, s, k, "expected bytes 256..67108864, got '%s'", v);
            }
            c->row_event_max_bytes = (uint32_t)u;
            return 1;
        }
        if (strcmp(k, "dump-stall-timeout-ms") == 0) {
            if (parse_u64(v, 86400000, &u) != 0 || u < 100) {
                return fail(p, s, k, "expected milliseconds 100..86400000, got '%s'", v);
            }
            c->dump_stall_timeout_ms = (uint32_t)u;
            return 1;
        }
    } else if (strcmp(s, "users") == 0) {
        if (c->n_users == TR_CONFIG_MAX_USERS) {
            return fail(p, s, k, "too many users (max %d)", TR_CONFIG_MAX_USERS);
        }
        if (strlen(k) >= sizeof(c->users[0].name) || k[0] == '\0') {
            return fail(p, s, k, "user name too long: '%s'", k);
        }
        if (tr_config_user(c, k) != NULL) {
            return fail(p, s, k, "user '%s' listed twice", k);
        }
        tr_user_t *usr = &c->users[c->n_users++];
        memset(usr, 0, sizeof(*usr));
        snprintf(usr->name, sizeof(usr->name), "%s", k);
        hash_password(usr, v);
        usr->is_admin = false; /* [server] admin-users marks admins (validate) */
        return 1;
    } else if (strcmp(s, "upstream") == 0) {
        if (strcmp(k, "pumps") == 0) {
            return parse_pumps(c, v) == 0
                       ? 1
                       : fail(p, s, k, "expected a comma-separated host:port list, got '%s'", v);
        }
        if (strcmp(k, "pd-urls") == 0) {
            return copy_str(c->pd_urls, sizeof(c->pd_urls), v) == 0 ? 1
                                                                     : fail(p, s, k, "too long: '%s'", v);
        }
        if (strcmp(k, "node-id") == 0) {
            return copy_str(c->node_id, sizeof(c->node_id), v) == 0 ? 1
                                                                     : fail(p, s, k, "too long: '%s'", v);
        }
        if (strcmp(k, "notify-listen") == 0) {
            if (v[0] == '\0') {
                memset(&c->notify_listen, 0, sizeof(c->notify_listen));
                return 1;
            }
            if (tr_addr_parse(&c->notify_listen, v) != 0 || c->notify_listen.port == 0) {
                return fail(p, s, k, "expected host:port, got '%s'", v);
            }
            return 1;
        }
        if (strcmp(k, "advertise-addr") == 0) {
            tr_addr_t a;
            if (tr_addr_parse(&a, v) != 0 || copy_str(c->advertise_addr, sizeof(c->advertise_addr), v) != 0) {
                return fail(p, s, k, "expected host:port, got '%s'", v);
            }
            return 1;
        }
        if (strcmp(k, "detect-interval") == 0) {
            if (parse_u64(v, 3600, &u) != 0 || u == 0) {
                return fail(p, s, k, "expected seconds 1..3600, got '%s'", v);
            }
            c->detect_interval_ms = (uint32_t)u * 1000;
            return 1;
        }
        if (strcmp(k, "stop-state") == 0) {
            if (strcmp(v, "paused") != 0 && strcmp(v, "offline") != 0) {
                return fail(p, s, k, "expected paused or offline, got '%s'", v);
            }
            c->stop_offline = strcmp(v, "offline") == 0;
            return 1;
        }
        if (strcmp(k, "cluster-id") == 0) {
            if (parse_u64(v, UINT64_MAX, &u) != 0) {
                return fail(p, s, k, "expected an unsigned integer, got '%s'", v);
            }
            c->cluster_id = u;
            return 1;
        }
        if (strcmp(k, "tidb") == 0) {
            return parse_tidb_dsn(c, v) == 0
                       ? 1
                       : fail(p, s, k, "expected user:password@host:port (value not shown: it holds a password)");
        }
        if (strcmp(k, "tidb-status") == 0) {
            return copy_str(c->tidb_status, sizeof(c->tidb_status), v) == 0
                       ? 1
                       : fail(p, s, k, "too long: '%s'", v);
        }
        if (strcmp(k, "ddl-unsupported") == 0) {
            static const char *const names[] = {"stop", "skip", "pass"};
            for (int i = 0; i < 3; i++) {
                if (strcmp(v, names[i]) == 0) {
                    c->ddl_unsupported = i;
                    return 1;
                }
            }
            return fail(p, s, k, "expected stop, skip or pass, got '%s'", v);
        }
        if (strcmp(k, "initial-commit-ts") == 0) {
            int64_t ts = 0;
            if (parse_i64(v, &ts) != 0 || ts < 0) {
                return fail(p, s, k, "expected a TSO >= 0, got '%s'", v);
            }
            c->initial_commit_ts = ts;
            return 1;
        }
    } else if (strcmp(s, "store") == 0) {
        if (strcmp(k, "dir") == 0) {
            return copy_str(c->store_dir, sizeof(c->store_dir), v) == 0 && v[0] != '\0'
                       ? 1
                       : fail(p, s, k, "expected a directory path, got '%s'", v);
        }
        if (strcmp(k, "binlog-basename") == 0) {
            bool ok = v[0] != '\0' && strlen(v) < 48 && strchr(v, '/') == NULL;
            return ok && copy_str(c->binlog_basename, sizeof(c->binlog_basename), v) == 0
                       ? 1
                       : fail(p, s, k, "expected a file name without '/' (< 48 chars), got '%s'", v);
        }
        if (strcmp(k, "max-binlog-size") == 0) {
            if (parse_u64(v, 1073741824ull, &u) != 0 || u < 4096) {
                return fail(p, s, k, "expected bytes 4096..1G (K/M/G suffixes allowed), got '%s'", v);
            }
            c->max_binlog_size = u;
            return 1;
        }
        if (strcmp(k, "expire-logs-seconds") == 0) {
            if (parse_u64(v, UINT32_MAX, &u) != 0) {
                return fail(p, s, k, "expected seconds (0 = never), got '%s'", v);
            }
            c->expire_logs_seconds = u;
            return 1;
        }
        if (strcmp(k, "max-binlog-total-size") == 0) {
            if (parse_u64(v, UINT64_MAX / 2, &u) != 0 || (u != 0 && u < 4096)) {
                return fail(p, s, k,
                            "expected bytes (K/M/G suffixes allowed), 0 = no limit or >= 4096, "
                            "got '%s'",
                            v);
            }
            c->max_binlog_total_size = u;
            return 1;
        }
        if (strcmp(k, "sync") == 0) {
            if (strcasecmp(v, "commit") == 0) {
                c->sync = 0;
            } else if (strcasecmp(v, "none") == 0) {
                c->sync = 1;
            } else {
                return fail(p, s, k, "expected commit or none, got '%s'", v);
            }
            return 1;
        }
    } else if (strcmp(s, "metrics") == 0) {
        if (strcmp(k, "listen") == 0) {
            return tr_addr_parse(&c->metrics_listen, v) == 0
                       ? 1
                       : fail(p, s, k, "expected host:port or empty, got '%s'", v);
        }
        if (strcmp(k, "health-stall-seconds") == 0) {
            if (parse_u64(v, 86400, &u) != 0 || u == 0) {
                return fail(p, s, k, "expected seconds 1..86400, got '%s'", v);
            }
            c->health_stall_ms = (uint32_t)u * 1000;
            return 1;
        }
    } else if (strcmp(s, "filter") == 0) {
        for (int kind = 0; kind < TR_FILTER_KIND_COUNT; kind++) {
            if (strcmp(k, filter_keys[kind]) == 0) {
                return filter_rules(p, s, k, (tr_filter_kind_t)kind, v);
            }
        }
    } else if (strcmp(s, "log") == 0) {
        if (strcmp(k, "level") == 0) {
            int lvl = tr_log_level_parse(v);
            if (lvl < 0) {
                return fail(p, s, k, "expected error, warn, info, debug or trace, got '%s'", v);
            }
            c->log_level = lvl;
            return 1;
        }
    } else {
        if (s[0] == '\0') {
            add_error(p, p->line, "%s: key outside any [section]", k);
        } else if (p->section_ok) {
            add_error(p, p->line, "[%s]: unknown section", s);
        }
        return 1;
    }
    /* Unknown key: name the accepted ones. */
    char list[512];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++) {
        if (strcmp(known_keys[i].section, s) == 0 && used < sizeof(list)) {
            int n = snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "",
                             known_keys[i].key);
            used = n < 0 ? sizeof(list) : used + (size_t)n;
        }
    }
    return fail(p, s, k, "unknown key (known: %s)", list);
}

/* [server] admin-users: a comma-separated list of [users] names, each marked
 * is_admin; a name that is no [users] account is an error (on that line). */
static void resolve_admins(parse_ctx_t *p)
{
    const char *t = p->admin_users;
    while (*t != '\0') {
        while (*t == ',' || isspace((unsigned char)*t)) {
            t++;
        }
        size_t n = strcspn(t, ",");
        size_t m = n;
        while (m > 0 && isspace((unsigned char)t[m - 1])) {
            m--;
        }
        if (m > 0) {
            bool found = false;
            for (size_t i = 0; i < p->c->n_users; i++) {
                tr_user_t *u = &p->c->users[i];
                if (strlen(u->name) == m && memcmp(u->name, t, m) == 0) {
                    u->is_admin = true;
                    found = true;
                }
            }
            if (!found) {
                add_error(p, p->admin_users_line,
                          "[server] admin-users: '%.*s' is not a [users] account", (int)(m > 64 ? 64 : m),
                          t);
            }
        }
        t += n;
    }
}

/* Cross-key checks, after every line was read; reported without a line number. */
static void validate(parse_ctx_t *p)
{
    resolve_admins(p);
    const tr_config_t *c = p->c;
    if (c->listen.host[0] == '\0' && c->mariadb_listen.host[0] == '\0') {
        add_error(p, 0, "[server] listen: at least one of listen and mariadb-listen must be set");
    }
    if (c->n_pumps == 0 && c->pd_urls[0] == '\0') {
        add_error(p, 0, "[upstream] pumps: set pumps (static list) or pd-urls (discovery)");
    }
    if (c->tidb.port == 0 && c->tidb_status[0] == '\0') {
        add_error(p, 0,
                  "[upstream] tidb: set tidb (user:password@host:port) or tidb-status for the "
                  "DDL history");
    }
    if ((c->tls_cert[0] != '\0') != (c->tls_key[0] != '\0')) {
        add_error(p, 0, "[server] tls-cert: tls-cert and tls-key go together");
    }
    if (c->require_tls && c->tls_cert[0] == '\0') {
        add_error(p, 0, "[server] require-tls: needs tls-cert and tls-key");
    }
    /* Rules across lines (a source renamed twice): compiled as the relay will. */
    size_t bad = 0;
    const char *why = NULL;
    if (p->checks != NULL &&
        p->checks->filter_rules(c->filter_rules, c->n_filter_rules, &bad, &why) != 0) {
        const tr_filter_rule_t *r = &c->filter_rules[bad];
        add_error(p, r->line, "[filter] %s: %s in '%s'", filter_keys[r->kind], why, r->text);
    }
}

/* True when name is one of known_sections. */
static bool section_known(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(known_sections) / sizeof(known_sections[0]); i++) {
        if (strlen(known_sections[i]) == len && strncmp(known_sections[i], name, len) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * Checks one line the way inih will read it (a [section], a key = value or
 * key: value pair, a comment, a blank or an indented continuation line) and
 * reports what inih would reject or what names an unknown section. inih
 * reports only its first syntax error and calls no handler for a section
 * line, so both are found here, where the line number is known.
 */
static void check_line(parse_ctx_t *p, const char *l, size_t len)
{
    size_t i = 0;
    while (i < len && isspace((unsigned char)l[i])) {
        i++;
    }
    if (i == len || l[i] == ';' || l[i] == '#') {
        return;
    }
    if (i > 0 && p->after_key) {
        return; /* continuation of the previous value (inih multi-line values) */
    }
    if (l[i] == '[') {
        const char *close = memchr(l + i, ']', len - i);
        if (close == NULL) {
            add_error(p, p->line, "syntax error: section header without ']'");
            return;
        }
        const char *name = l + i + 1;
        size_t nl = (size_t)(close - name);
        while (nl > 0 && isspace((unsigned char)*name)) {
            name++;
            nl--;
        }
        while (nl > 0 && isspace((unsigned char)name[nl - 1])) {
            nl--;
        }
        p->after_key = false;
        p->section_ok = section_known(name, nl);
        if (!p->section_ok) {
            add_error(p, p->line,
                      "[%.*s]: unknown section (known: server, users, upstream, store, metrics, "
                      "filter, log)",
                      (int)(nl > 64 ? 64 : nl), name);
        }
        return;
    }
    bool has_sep = false;
    for (size_t j = i; j < len; j++) {
        if (l[j] == '=' || l[j] == ':') {
            has_sep = true;
            break;
        }
    }
    if (!has_sep) {
        add_error(p, p->line, "syntax error: expected [section] or key = value");
    }
    p->after_key = has_sep;
}

/* inih reader: hands out the text one line at a time, counting lines. A line
 * longer than inih's buffer is reported and replaced by an empty one. */
static char *read_line(char *str, int num, void *stream)
{
    parse_ctx_t *p = stream;
    const char *t = p->text + p->pos;
    if (*t == '\0') {
        return NULL;
    }
    const char *nl = strchr(t, '\n');
    size_t len = nl ? (size_t)(nl - t) + 1 : strlen(t);
    p->line++;
    size_t body = len;
    while (body > 0 && (t[body - 1] == '\n' || t[body - 1] == '\r')) {
        body--;
    }
    if (num < 2 || len >= (size_t)num) {
        add_error(p, p->line, "line longer than %d characters", num - 2);
        str[0] = '\n';
        str[1] = '\0';
    } else {
        check_line(p, t, body);
        memcpy(str, t, len);
        str[len] = '\0';
    }
    p->pos += len;
    return str;
}

/* Overwrites the stack below the caller's frame, where inih kept its line
 * buffer (the last line it read may be a [users] password). */
static void __attribute__((noinline)) scrub_stack(void)
{
    unsigned char area[16384];
    OPENSSL_cleanse(area, sizeof(area));
}

int tr_config_parse(tr_config_t *c, const char *text, const char *name,
                    const tr_config_checks_t *checks, char *err, size_t err_len)
{
    parse_ctx_t p;
    memset(&p, 0, sizeof(p));
    p.c = c;
    p.checks = checks;
    p.name = name;
    p.text = text;
    p.section_ok = true;
    p.err = err;
    p.err_len = err_len;
    if (err_len > 0) {
        err[0] = '\0';
    }
    int line = ini_parse_stream(read_line, &p, on_key, &p);
    scrub_stack();
    if (line != 0 && p.n_errors == 0) {
        /* A syntax error check_line did not foresee. */
        add_error(&p, line, "syntax error (expected [section] or key = value)");
    }
    if (line < 0) {
        add_error(&p, 0, "cannot parse (out of memory)");
    }
    validate(&p);
    if (p.n_errors > MAX_ERRORS && p.err_used + 1 < err_len) {
        snprintf(err + p.err_used, err_len - p.err_used, "\n%s: ... %d errors in all", name,
                 p.n_errors);
    }
    return p.n_errors > 0 ? TR_ECONFIG : 0;
}

int tr_config_load(tr_config_t *c, const char *path, const tr_config_checks_t *checks, char *err,
                   size_t err_len)
{
    /* Read with read(2) into one buffer of the file's size, no stdio buffer
     * and no realloc, so the only copy of the file's passwords is wiped below. */
    tr_config_defaults(c);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, err_len, "%s: cannot open: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)(4u << 20)) {
        (void)close(fd);
        snprintf(err, err_len, "%s: cannot read (not a regular file, or larger than 4 MiB)", path);
        return TR_ECONFIG;
    }
    size_t cap = (size_t)st.st_size;
    char *text = tr_malloc(cap + 1);
    size_t len = 0;
    int rerr = 0;
    while (len < cap) {
        ssize_t n = read(fd, text + len, cap - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            rerr = n < 0 ? errno : 0;
            break;
        }
        len += (size_t)n;
    }
    (void)close(fd);
    text[len] = '\0';
    int rc;
    if (rerr != 0) {
        snprintf(err, err_len, "%s: cannot read: %s", path, strerror(rerr));
        rc = TR_ECONFIG;
    } else {
        rc = tr_config_parse(c, text, path, checks, err, err_len);
    }
    OPENSSL_cleanse(text, cap + 1);
    tr_free(text);
    return rc;
}

const tr_user_t *tr_config_user(const tr_config_t *c, const char *name)
{
    for (size_t i = 0; i < c->n_users; i++) {
        if (strcmp(c->users[i].name, name) == 0) {
            return &c->users[i];
        }
    }
    return NULL;
}
