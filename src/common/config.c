/*
 * INI configuration parsing and validation (see config.h and conf/tirelay.cnf).
 * Parsing is done by libinih over the text. Every key is one row of a table
 * (config_keys below): the key handler checks and stores a value by its row,
 * tr_config_defaults applies each row's default, and the unknown-key message
 * lists the rows of the section. An unknown section or key is an error
 * reported with its line. Pure apart from tr_config_load reading the file.
 */
#include "common/config.h"

#include <errno.h>
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
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
#include "common/uuid.h"

#define MAX_ERRORS 64

typedef struct tr_config_parse {
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

/* ---------------------------------------------------------------- values */

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

/* ---------------------------------------------------------------- keys with their own parser */

/* [server] admin-users: kept as written, resolved against [users] once every line is read
 * (resolve_admins). */
static int parse_admin_users(parse_ctx_t *p, const tr_config_key_t *k, const char *v)
{
    if (copy_str(p->admin_users, sizeof(p->admin_users), v) != 0) {
        fail(p, k->section, k->key, "too long (at most %zu characters)",
             sizeof(p->admin_users) - 1);
        return 0;
    }
    p->admin_users_line = p->line;
    return 0;
}

/* [users] name = password: an account, its password kept only as hashes. */
static void parse_user(parse_ctx_t *p, const char *k, const char *v)
{
    tr_config_t *c = p->c;
    const char *s = "users";
    if (c->n_users == TR_CONFIG_MAX_USERS) {
        fail(p, s, k, "too many users (max %d)", TR_CONFIG_MAX_USERS);
        return;
    }
    if (strlen(k) >= sizeof(c->users[0].name) || k[0] == '\0') {
        fail(p, s, k, "user name too long: '%s'", k);
        return;
    }
    if (tr_config_user(c, k) != NULL) {
        fail(p, s, k, "user '%s' listed twice", k);
        return;
    }
    tr_user_t *usr = &c->users[c->n_users++];
    memset(usr, 0, sizeof(*usr));
    snprintf(usr->name, sizeof(usr->name), "%s", k);
    hash_password(usr, v);
    usr->is_admin = false; /* [server] admin-users marks admins (validate) */
}

/* Properties tirelay sets itself on its Kafka consumer: the brokers come from
 * [upstream] ticdc-kafka, and offsets are tirelay's (kept with the binlog index), never
 * committed or reset by librdkafka on its own. */
static const char *const kafka_owned[] = {
    "bootstrap.servers", "metadata.broker.list", "enable.auto.commit", "enable.auto.offset.store",
    "auto.offset.reset", "enable.partition.eof",
};

/* [kafka] key = value: any librdkafka property, kept as written and checked by the relay's
 * Kafka source (tr_config_checks_t.kafka_property) when main passes it in. The value is
 * never shown (sasl.password, ssl.key.password). */
static void parse_kafka(parse_ctx_t *p, const char *k, const char *v)
{
    tr_config_t *c = p->c;
    for (size_t i = 0; i < TR_ARRAY_LEN(kafka_owned); i++) {
        if (strcmp(k, kafka_owned[i]) == 0) {
            fail(p, "kafka", k, "set by tirelay itself%s",
                 i < 2 ? " (brokers: [upstream] ticdc-kafka)"
                       : " (offsets are kept with the binlog index)");
            return;
        }
    }
    if (c->n_kafka == TR_CONFIG_MAX_KAFKA) {
        fail(p, "kafka", k, "too many properties (max %d)", TR_CONFIG_MAX_KAFKA);
        return;
    }
    tr_config_kv_t *kv = &c->kafka[c->n_kafka];
    if (strlen(k) >= sizeof(kv->key) || strlen(v) >= sizeof(kv->value)) {
        fail(p, "kafka", k, "property or value too long (max %zu and %zu bytes)",
             sizeof(kv->key) - 1, sizeof(kv->value) - 1);
        return;
    }
    for (size_t i = 0; i < c->n_kafka; i++) {
        if (strcmp(c->kafka[i].key, k) == 0) {
            fail(p, "kafka", k, "set twice (lines %d and %d)", c->kafka[i].line, p->line);
            return;
        }
    }
    const char *why = NULL;
    if (p->checks != NULL && p->checks->kafka_property != NULL &&
        p->checks->kafka_property(k, v, &why) != 0) {
        fail(p, "kafka", k, "%s", why != NULL ? why : "rejected by librdkafka");
        return;
    }
    snprintf(kv->key, sizeof(kv->key), "%s", k);
    snprintf(kv->value, sizeof(kv->value), "%s", v);
    kv->line = p->line;
    c->n_kafka++;
}

/* [upstream] pumps: a comma-separated host:port list (a repeated key replaces it). */
static int parse_pumps(parse_ctx_t *p, const tr_config_key_t *k, const char *v)
{
    tr_config_t *c = p->c;
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

/* [upstream] tidb: user:password@host:port (a SECRET row: the value is never shown). */
static int parse_tidb(parse_ctx_t *p, const tr_config_key_t *k, const char *v)
{
    tr_config_t *c = p->c;
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

/* [upstream] ticdc-kafka: the bootstrap brokers, a comma-separated host:port list (host
 * names allowed, as librdkafka takes them); kept as written, every entry checked. */
static int parse_ticdc_kafka(parse_ctx_t *p, const tr_config_key_t *k, const char *v)
{
    (void)k;
    tr_config_t *c = p->c;
    if (copy_str(c->ticdc_kafka, sizeof(c->ticdc_kafka), v) != 0) {
        return TR_ECONFIG;
    }
    size_t n = 0;
    for (const char *item = v; *item != '\0';) {
        size_t len = strcspn(item, ",");
        char one[300];
        while (len > 0 && isspace((unsigned char)*item)) {
            item++;
            len--;
        }
        size_t l = len;
        while (l > 0 && isspace((unsigned char)item[l - 1])) {
            l--;
        }
        if (l > 0) {
            tr_addr_t a;
            if (l >= sizeof(one)) {
                return TR_ECONFIG;
            }
            memcpy(one, item, l);
            one[l] = '\0';
            if (strchr(one, ':') == NULL || tr_addr_parse(&a, one) != 0 || a.port == 0) {
                return TR_ECONFIG;
            }
            n++;
        }
        item += len;
        if (*item == ',') {
            item++;
        }
    }
    return n > 0 || v[0] == '\0' ? 0 : TR_ECONFIG;
}

/* [upstream] ticdc-topic: a Kafka topic name (letters, digits, '.', '_', '-'; at most 249). */
static int parse_ticdc_topic(parse_ctx_t *p, const tr_config_key_t *k, const char *v)
{
    (void)k;
    size_t n = strlen(v);
    if (n > 249 || strcmp(v, ".") == 0 || strcmp(v, "..") == 0) {
        return TR_ECONFIG;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)v[i]) && v[i] != '.' && v[i] != '_' && v[i] != '-') {
            return TR_ECONFIG;
        }
    }
    return copy_str(p->c->ticdc_topic, sizeof(p->c->ticdc_topic), v);
}

/* [upstream] ticdc-storage: the storage sink's root, a path or a file:// URI (a bucket is
 * read where it is mounted or synced: s3://, gcs:// and azure:// are refused). */
static int parse_ticdc_storage(parse_ctx_t *p, const tr_config_key_t *k, const char *v)
{
    static const char file_scheme[] = "file://";
    (void)k;
    const char *path = v;
    if (strncmp(v, file_scheme, sizeof(file_scheme) - 1) == 0) {
        path = v + sizeof(file_scheme) - 1;
        if (path[0] != '/') {
            return TR_ECONFIG; /* file://host/... or a relative URI */
        }
    } else if (strstr(v, "://") != NULL) {
        return TR_ECONFIG;
    }
    return copy_str(p->c->ticdc_storage, sizeof(p->c->ticdc_storage), path);
}

/* [filter] key = rule[, rule ...]: each rule checked (relay/filter.h) and kept as written.
 * A key may repeat, as MySQL's replicate-* options do. The row's arg is the rule kind, its
 * accepted text the form of one rule. */
static int parse_filter(parse_ctx_t *p, const tr_config_key_t *k, const char *v)
{
    tr_filter_kind_t kind = (tr_filter_kind_t)k->arg;
    const char *s = k->section;
    const char *form = k->accepted;
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
            fail(p, s, k->key, "expected %s (comma-separated list allowed), got '%s'", form, v);
        } else if (c->n_filter_rules == TR_CONFIG_MAX_FILTER_RULES) {
            fail(p, s, k->key, "too many filter rules (max %d)", TR_CONFIG_MAX_FILTER_RULES);
            return 0;
        } else {
            tr_filter_rule_t *r = &c->filter_rules[c->n_filter_rules];
            r->kind = kind;
            r->line = p->line;
            memcpy(r->text, item, len);
            r->text[len] = '\0';
            const char *why = NULL;
            if (p->checks != NULL && p->checks->filter_rule(kind, r->text, &why) != 0) {
                if (strncmp(why, "expected", 8) == 0) {
                    fail(p, s, k->key, "%s, got '%s'", why, r->text);
                } else {
                    fail(p, s, k->key, "%s in '%s' (expected %s)", why, r->text, form);
                }
            } else {
                c->n_filter_rules++;
            }
        }
        if (end == NULL) {
            return 0;
        }
        item = end + 1;
    }
}

/* ---------------------------------------------------------------- the table of keys */

static const char *const stop_state_names[] = {"paused", "offline", NULL}; /* stop_offline */
static const char *const ddl_policy_names[] = {
    [TR_DDL_POLICY_STOP] = "stop",
    [TR_DDL_POLICY_SKIP] = "skip",
    [TR_DDL_POLICY_PASS] = "pass",
    NULL,
};
/* store/store.h tr_sync_mode_t (a layer above, not included): commit = 0, none = 1. */
static const char *const sync_names[] = {"commit", "none", NULL};
static const char *const level_names[] = {
    [TR_LOG_ERROR] = "error", [TR_LOG_WARN] = "warn",   [TR_LOG_INFO] = "info",
    [TR_LOG_DEBUG] = "debug", [TR_LOG_TRACE] = "trace", NULL,
};

/* The C type of a tr_config_t field, taken from its declaration, so that a row stores
 * only what fits its field (store_int, set_value). */
#define FIELD_TYPE(x)                                                                              \
    _Generic((x),                                                                                  \
        bool: TR_CONFIG_FIELD_BOOL,                                                                \
        int: TR_CONFIG_FIELD_INT,                                                                  \
        uint32_t: TR_CONFIG_FIELD_U32,                                                             \
        uint64_t: TR_CONFIG_FIELD_U64,                                                             \
        int64_t: TR_CONFIG_FIELD_I64,                                                              \
        char *: TR_CONFIG_FIELD_CHARS,                                                             \
        tr_addr_t: TR_CONFIG_FIELD_ADDR,                                                           \
        default: TR_CONFIG_FIELD_NONE)

#define KEY(sec, name, t) .section = (sec), .key = (name), .type = TR_CONFIG_TYPE_##t
#define FIELD(f)                                                                                   \
    .off = offsetof(tr_config_t, f), .size = sizeof(((tr_config_t *)0)->f),                        \
    .field = FIELD_TYPE(((tr_config_t *)0)->f)
#define FILTER(kind, name, form)                                                                   \
    {                                                                                              \
        KEY("filter", name, CUSTOM), .parse = parse_filter, .arg = (kind), .accepted = (form)      \
    }

/*
 * Every fixed key, by section, in the order the unknown-key message lists them. Each row:
 * where its value goes (FIELD, or a parser of its own), the range or names it accepts, its
 * default (parsed like a value, so it is one the row accepts) and the accepted values that
 * messages quote. conf/tirelay.cnf documents each row (tests/unit/test_config_table.c).
 */
static const tr_config_key_t config_keys[] = {
    /* [server] */
    {KEY("server", "listen", ADDR), FIELD(listen), .def = "127.0.0.1:3307",
     .accepted = "host:port or empty"},
    {KEY("server", "mariadb-listen", ADDR), FIELD(mariadb_listen), .def = "",
     .accepted = "host:port or empty"},
    {KEY("server", "server-id", UINT), FIELD(server_id), .min = 1, .max = UINT32_MAX, .def = "1",
     .accepted = "an integer 1..4294967295"},
    {KEY("server", "server-uuid", UUID), FIELD(server_uuid),
     .aux_off = offsetof(tr_config_t, server_uuid_bin),
     .def = "3e11fa47-71ca-11e1-9e33-c80aa9429562",
     .accepted = "a UUID like 3e11fa47-71ca-11e1-9e33-c80aa9429562"},
    {KEY("server", "gtid-domain-id", UINT), FIELD(gtid_domain_id), .max = UINT32_MAX, .def = "0",
     .accepted = "an integer 0..4294967295"},
    {KEY("server", "gtid-start", UINT), FIELD(gtid_start), .min = 1, .max = INT64_MAX, .def = "1",
     .accepted = "an integer >= 1"},
    {KEY("server", "heartbeat-period-ms", UINT), FIELD(heartbeat_default_ms), .max = 3600000,
     .def = "0", .accepted = "milliseconds 0..3600000"},
    {KEY("server", "binlog-row-event-max-size", UINT), FIELD(row_event_max_bytes), .min = 256,
     .max = 64u * 1024 * 1024, .def = "8192", .accepted = "bytes 256..67108864"},
    {KEY("server", "dump-stall-timeout-ms", UINT), FIELD(dump_stall_timeout_ms), .min = 100,
     .max = 86400000, .def = "60000", .accepted = "milliseconds 100..86400000"},
    {KEY("server", "tls-cert", PATH), FIELD(tls_cert), .def = ""},
    {KEY("server", "tls-key", PATH), FIELD(tls_key), .def = ""},
    {KEY("server", "require-tls", BOOL), FIELD(require_tls), .def = "off", .accepted = "on or off"},
    {KEY("server", "caching-sha2-prefill", BOOL), FIELD(caching_sha2_prefill), .def = "on",
     .accepted = "on or off"},
    {KEY("server", "admin-users", CUSTOM), .parse = parse_admin_users},

    /* [upstream] */
    {KEY("upstream", "pumps", CUSTOM), .parse = parse_pumps,
     .accepted = "a comma-separated host:port list"},
    {KEY("upstream", "pd-urls", TEXT), FIELD(pd_urls), .def = ""},
    {KEY("upstream", "node-id", TEXT), FIELD(node_id), .def = ""},
    {KEY("upstream", "notify-listen", ADDR), FIELD(notify_listen), .def = "",
     .accepted = "host:port"},
    {KEY("upstream", "advertise-addr", ADDR_TEXT), FIELD(advertise_addr), .def = "",
     .accepted = "host:port"},
    {KEY("upstream", "detect-interval", SECONDS_MS), FIELD(detect_interval_ms), .min = 1,
     .max = 3600, .def = "5", .accepted = "seconds 1..3600"},
    {KEY("upstream", "stop-state", ENUM), FIELD(stop_offline), .names = stop_state_names,
     .def = "paused", .accepted = "paused or offline"},
    {KEY("upstream", "cluster-id", UINT), FIELD(cluster_id), .max = UINT64_MAX, .def = "0",
     .accepted = "an unsigned integer"},
    {KEY("upstream", "tidb", CUSTOM), .parse = parse_tidb, .flags = TR_CONFIG_F_SECRET,
     .accepted = "user:password@host:port"},
    {KEY("upstream", "tidb-status", TEXT), FIELD(tidb_status), .def = ""},
    {KEY("upstream", "initial-commit-ts", I64), FIELD(initial_commit_ts), .def = "0",
     .accepted = "a TSO >= 0"},
    {KEY("upstream", "ddl-unsupported", ENUM), FIELD(ddl_unsupported), .names = ddl_policy_names,
     .def = "stop", .accepted = "stop, skip or pass"},
    {KEY("upstream", "ticdc-kafka", CUSTOM), .parse = parse_ticdc_kafka,
     .accepted = "a comma-separated host:port list of Kafka brokers"},
    {KEY("upstream", "ticdc-topic", CUSTOM), .parse = parse_ticdc_topic,
     .accepted = "a Kafka topic name (letters, digits, '.', '_', '-'; at most 249)"},
    {KEY("upstream", "ticdc-storage", CUSTOM), .parse = parse_ticdc_storage,
     .accepted = "a directory path or file:///path (mount or sync a bucket and give its path)"},

    /* [store] */
    {KEY("store", "dir", PATH), FIELD(store_dir), .flags = TR_CONFIG_F_NONEMPTY,
     .def = "tirelay-data", .accepted = "a directory path"},
    {KEY("store", "binlog-basename", TEXT), FIELD(binlog_basename), .max = 47,
     .flags = TR_CONFIG_F_NONEMPTY | TR_CONFIG_F_FILE_NAME, .def = "tirelay-bin",
     .accepted = "a file name without '/' (< 48 chars)"},
    {KEY("store", "max-binlog-size", UINT), FIELD(max_binlog_size), .min = 4096, .max = 1073741824,
     .def = "1G", .accepted = "bytes 4096..1G (K/M/G suffixes allowed)"},
    {KEY("store", "expire-logs-seconds", UINT), FIELD(expire_logs_seconds), .max = UINT32_MAX,
     .def = "0", .accepted = "seconds (0 = never)"},
    {KEY("store", "max-binlog-total-size", UINT), FIELD(max_binlog_total_size), .min = 4096,
     .max = UINT64_MAX / 2, .flags = TR_CONFIG_F_ZERO_OK, .def = "0",
     .accepted = "bytes (K/M/G suffixes allowed), 0 = no limit or >= 4096"},
    {KEY("store", "sync", ENUM), FIELD(sync), .names = sync_names, .flags = TR_CONFIG_F_NOCASE,
     .def = "commit", .accepted = "commit or none"},

    /* [metrics] */
    {KEY("metrics", "listen", ADDR), FIELD(metrics_listen), .def = "",
     .accepted = "host:port or empty"},
    {KEY("metrics", "health-stall-seconds", SECONDS_MS), FIELD(health_stall_ms), .min = 1,
     .max = 86400, .def = "30", .accepted = "seconds 1..86400"},

    /* [filter]: rules kept as written (no default: no rule) */
    FILTER(TR_FILTER_DO_DB, "do-db", "a database name"),
    FILTER(TR_FILTER_IGNORE_DB, "ignore-db", "a database name"),
    FILTER(TR_FILTER_DO_TABLE, "do-table", "db.table"),
    FILTER(TR_FILTER_IGNORE_TABLE, "ignore-table", "db.table"),
    FILTER(TR_FILTER_WILD_DO_TABLE, "wild-do-table",
           "db_pattern.table_pattern with LIKE wildcards % and _"),
    FILTER(TR_FILTER_WILD_IGNORE_TABLE, "wild-ignore-table",
           "db_pattern.table_pattern with LIKE wildcards % and _"),
    FILTER(TR_FILTER_REWRITE_DB, "rewrite-db", "from_db->to_db"),
    FILTER(TR_FILTER_REWRITE_TABLE, "rewrite-table", "db.table->db.table"),

    /* [log] */
    {KEY("log", "level", ENUM), FIELD(log_level), .names = level_names, .flags = TR_CONFIG_F_NOCASE,
     .def = "info", .accepted = "error, warn, info, debug or trace"},
};

/* The sections, in the order messages list them. [users] has no rows: any key is an
 * account name. */
static const struct {
    const char *name;
    void (*any_key)(parse_ctx_t *p, const char *key, const char *value);
} sections[] = {
    {"server", NULL},  {"users", parse_user}, {"upstream", NULL}, {"store", NULL},
    {"metrics", NULL}, {"filter", NULL},      {"log", NULL},      {"kafka", parse_kafka},
};

const tr_config_key_t *tr_config_keys(size_t *n)
{
    *n = TR_ARRAY_LEN(config_keys);
    return config_keys;
}

const tr_config_key_t *tr_config_key_find(const char *section, const char *key)
{
    for (size_t i = 0; i < TR_ARRAY_LEN(config_keys); i++) {
        if (strcmp(config_keys[i].key, key) == 0 && strcmp(config_keys[i].section, section) == 0) {
            return &config_keys[i];
        }
    }
    return NULL;
}

const char *tr_config_filter_key(tr_filter_kind_t kind)
{
    for (size_t i = 0; i < TR_ARRAY_LEN(config_keys); i++) {
        const tr_config_key_t *k = &config_keys[i];
        if (k->parse == parse_filter && k->arg == (int)kind) {
            return k->key;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- typed values */

/* Stores an integer into the row's field, whatever its width. Each row's range fits its
 * field (the unit test checks it); a row that does not is a mistake in the table. */
static void store_int(tr_config_t *c, const tr_config_key_t *k, uint64_t x)
{
    void *f = (char *)c + k->off;
    switch (k->field) {
    case TR_CONFIG_FIELD_BOOL:
        *(bool *)f = x != 0;
        return;
    case TR_CONFIG_FIELD_INT:
        TR_ASSERT(x <= INT_MAX);
        *(int *)f = (int)x;
        return;
    case TR_CONFIG_FIELD_U32:
        TR_ASSERT(x <= UINT32_MAX);
        *(uint32_t *)f = (uint32_t)x;
        return;
    case TR_CONFIG_FIELD_U64:
        *(uint64_t *)f = x;
        return;
    case TR_CONFIG_FIELD_I64:
        TR_ASSERT(x <= INT64_MAX);
        *(int64_t *)f = (int64_t)x;
        return;
    case TR_CONFIG_FIELD_NONE:
    case TR_CONFIG_FIELD_CHARS:
    case TR_CONFIG_FIELD_ADDR:
        break;
    }
    tr_fatal("config", "[%s] %s: an integer row whose field holds none", k->section, k->key);
}

/* Checks the value of a typed row and stores it in its field. Returns 0, or TR_ECONFIG
 * with the field unchanged. */
static int set_value(tr_config_t *c, const tr_config_key_t *k, const char *v)
{
    char *f = (char *)c + k->off;
    switch (k->type) {
    case TR_CONFIG_TYPE_BOOL: {
        bool b = false;
        if (parse_bool(v, &b) != 0) {
            return TR_ECONFIG;
        }
        store_int(c, k, b);
        return 0;
    }
    case TR_CONFIG_TYPE_UINT:
    case TR_CONFIG_TYPE_SECONDS_MS: {
        uint64_t u = 0;
        bool zero_ok = (k->flags & TR_CONFIG_F_ZERO_OK) != 0;
        if (parse_u64(v, k->max, &u) != 0 || (u < k->min && !(u == 0 && zero_ok))) {
            return TR_ECONFIG;
        }
        store_int(c, k, k->type == TR_CONFIG_TYPE_SECONDS_MS ? u * 1000 : u);
        return 0;
    }
    case TR_CONFIG_TYPE_I64: {
        int64_t x = 0;
        if (parse_i64(v, &x) != 0 || x < 0 || (uint64_t)x < k->min) {
            return TR_ECONFIG;
        }
        store_int(c, k, (uint64_t)x);
        return 0;
    }
    case TR_CONFIG_TYPE_ENUM:
        for (size_t i = 0; k->names[i] != NULL; i++) {
            bool nocase = (k->flags & TR_CONFIG_F_NOCASE) != 0;
            if ((nocase ? strcasecmp(v, k->names[i]) : strcmp(v, k->names[i])) == 0) {
                store_int(c, k, i);
                return 0;
            }
        }
        return TR_ECONFIG;
    case TR_CONFIG_TYPE_TEXT:
    case TR_CONFIG_TYPE_PATH: {
        size_t len = strlen(v);
        size_t longest = k->max != 0 ? (size_t)k->max : k->size - 1;
        if (len > longest || (len == 0 && (k->flags & TR_CONFIG_F_NONEMPTY) != 0) ||
            ((k->flags & TR_CONFIG_F_FILE_NAME) != 0 && strchr(v, '/') != NULL)) {
            return TR_ECONFIG;
        }
        TR_ASSERT(k->field == TR_CONFIG_FIELD_CHARS && longest < k->size);
        memcpy(f, v, len + 1);
        return 0;
    }
    case TR_CONFIG_TYPE_ADDR: {
        /* A bad address leaves the field as it was, so that only its own error is
         * reported (not also "no listener"). */
        tr_addr_t a;
        if (tr_addr_parse(&a, v) != 0) {
            return TR_ECONFIG;
        }
        TR_ASSERT(k->field == TR_CONFIG_FIELD_ADDR);
        memcpy(f, &a, sizeof(a));
        return 0;
    }
    case TR_CONFIG_TYPE_ADDR_TEXT: {
        tr_addr_t a;
        size_t len = strlen(v);
        if (tr_addr_parse(&a, v) != 0 || len >= k->size) {
            return TR_ECONFIG;
        }
        TR_ASSERT(k->field == TR_CONFIG_FIELD_CHARS);
        memcpy(f, v, len + 1);
        return 0;
    }
    case TR_CONFIG_TYPE_UUID: {
        uint8_t bin[16];
        if (tr_uuid_parse(v, strlen(v), false, bin) != 0) {
            return TR_ECONFIG;
        }
        TR_ASSERT(k->field == TR_CONFIG_FIELD_CHARS && k->size == 37);
        for (size_t i = 0; i < 36; i++) {
            f[i] = (char)tolower((unsigned char)v[i]);
        }
        f[36] = '\0';
        memcpy((char *)c + k->aux_off, bin, sizeof(bin));
        return 0;
    }
    case TR_CONFIG_TYPE_CUSTOM:
        break;
    }
    tr_fatal("config", "[%s] %s: a CUSTOM row goes through its parse()", k->section, k->key);
}

void tr_config_defaults(tr_config_t *c)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < TR_ARRAY_LEN(config_keys); i++) {
        const tr_config_key_t *k = &config_keys[i];
        if (k->def != NULL && set_value(c, k, k->def) != 0) {
            tr_fatal("config", "[%s] %s: its row rejects its default '%s'", k->section, k->key,
                     k->def);
        }
    }
}

/* ---------------------------------------------------------------- the key handler */

/* A value its row rejected: what the row accepts, and the value unless it is secret. */
static void report_rejected(parse_ctx_t *p, const tr_config_key_t *k, const char *v)
{
    const char *s = k->section;
    if ((k->flags & TR_CONFIG_F_SECRET) != 0) {
        fail(p, s, k->key, "expected %s (value not shown: it holds a password)", k->accepted);
    } else if (k->accepted != NULL) {
        fail(p, s, k->key, "expected %s, got '%s'", k->accepted, v);
    } else if (k->type == TR_CONFIG_TYPE_PATH) {
        fail(p, s, k->key, "path too long: '%s'", v);
    } else {
        fail(p, s, k->key, "too long: '%s'", v);
    }
}

/* A key its section does not have: name the ones it has. */
static void report_unknown_key(parse_ctx_t *p, const char *s, const char *k)
{
    char list[512];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < TR_ARRAY_LEN(config_keys); i++) {
        if (strcmp(config_keys[i].section, s) == 0 && used < sizeof(list)) {
            int n = snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "",
                             config_keys[i].key);
            used = n < 0 ? sizeof(list) : used + (size_t)n;
        }
    }
    fail(p, s, k, "unknown key (known: %s)", list);
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    parse_ctx_t *p = user;
    size_t si = 0;
    while (si < TR_ARRAY_LEN(sections) && strcmp(sections[si].name, section) != 0) {
        si++;
    }
    if (si == TR_ARRAY_LEN(sections)) {
        if (section[0] == '\0') {
            add_error(p, p->line, "%s: key outside any [section]", name);
        } else if (p->section_ok) {
            add_error(p, p->line, "[%s]: unknown section", section);
        }
        return 1;
    }
    if (sections[si].any_key != NULL) {
        sections[si].any_key(p, name, value);
        return 1;
    }
    const tr_config_key_t *k = tr_config_key_find(section, name);
    if (k == NULL) {
        report_unknown_key(p, section, name);
        return 1;
    }
    int rc = k->type == TR_CONFIG_TYPE_CUSTOM ? k->parse(p, k, value) : set_value(p->c, k, value);
    if (rc != 0) {
        report_rejected(p, k, value);
    }
    return 1; /* keep going: every error is reported */
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

tr_input_t tr_config_input(const tr_config_t *c)
{
    if (c->ticdc_kafka[0] != '\0') {
        return TR_INPUT_TICDC_KAFKA;
    }
    if (c->ticdc_storage[0] != '\0') {
        return TR_INPUT_TICDC_STORAGE;
    }
    return TR_INPUT_PUMPS;
}

/* Exactly one input: Pumps (pumps or pd-urls), TiCDC over Kafka (ticdc-kafka with
 * ticdc-topic) or a TiCDC storage sink (ticdc-storage); keys of another input are
 * conflicts, not silently ignored. */
static void validate_input(parse_ctx_t *p)
{
    const tr_config_t *c = p->c;
    bool pumps = c->n_pumps > 0 || c->pd_urls[0] != '\0';
    bool kafka = c->ticdc_kafka[0] != '\0';
    bool storage = c->ticdc_storage[0] != '\0';
    int inputs = (int)pumps + (int)kafka + (int)storage;
    if (inputs == 0) {
        add_error(p, 0,
                  "[upstream] pumps: set one input: pumps (static list) or pd-urls (discovery) "
                  "for TiDB Binlog, ticdc-kafka with ticdc-topic or ticdc-storage for TiCDC");
    } else if (inputs > 1) {
        add_error(p, 0, "[upstream] %s: set only one input (pumps/pd-urls, ticdc-kafka or "
                        "ticdc-storage), not %s",
                  kafka ? "ticdc-kafka" : "ticdc-storage",
                  pumps && kafka && storage ? "all three"
                  : pumps                   ? (kafka ? "pumps/pd-urls and ticdc-kafka"
                                                     : "pumps/pd-urls and ticdc-storage")
                                            : "ticdc-kafka and ticdc-storage");
    }
    if (kafka && c->ticdc_topic[0] == '\0') {
        add_error(p, 0, "[upstream] ticdc-topic: ticdc-kafka needs the changefeed's topic");
    }
    if (!kafka && c->ticdc_topic[0] != '\0') {
        add_error(p, 0, "[upstream] ticdc-topic: only used with ticdc-kafka");
    }
    if (!kafka && c->n_kafka > 0) {
        add_error(p, c->kafka[0].line, "[kafka] %s: [kafka] is only used with [upstream] "
                                       "ticdc-kafka",
                  c->kafka[0].key);
    }
    if ((kafka || storage) && c->notify_listen.host[0] != '\0') {
        add_error(p, 0, "[upstream] notify-listen: only used with Pumps (pd-urls), not TiCDC");
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
    validate_input(p);
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
        add_error(p, r->line, "[filter] %s: %s in '%s'", tr_config_filter_key(r->kind), why,
                  r->text);
    }
}

/* True when name is one of the sections. */
static bool section_known(const char *name, size_t len)
{
    for (size_t i = 0; i < TR_ARRAY_LEN(sections); i++) {
        if (strlen(sections[i].name) == len && strncmp(sections[i].name, name, len) == 0) {
            return true;
        }
    }
    return false;
}

/* An unknown section: name the known ones. */
static void report_unknown_section(parse_ctx_t *p, const char *name, size_t len)
{
    char list[128];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < TR_ARRAY_LEN(sections) && used < sizeof(list); i++) {
        int n =
            snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "", sections[i].name);
        used = n < 0 ? sizeof(list) : used + (size_t)n;
    }
    add_error(p, p->line, "[%.*s]: unknown section (known: %s)", (int)(len > 64 ? 64 : len), name,
              list);
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
            report_unknown_section(p, name, nl);
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
