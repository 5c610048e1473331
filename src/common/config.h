/*
 * tirelay configuration: INI text (see conf/tirelay.cnf for every key) parsed
 * into a tr_config_t and validated. Unknown sections or keys are errors.
 * Passwords from [users] and [upstream] tidb are kept only as long as needed:
 * replication users are stored as their mysql_native_password and
 * caching_sha2_password verifier hashes.
 * Pure: reads no files itself except through tr_config_load.
 */
#ifndef TR_COMMON_CONFIG_H
#define TR_COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/defs.h"

#define TR_CONFIG_MAX_USERS 64
#define TR_CONFIG_MAX_PUMPS 64
#define TR_CONFIG_MAX_KAFKA 64 /* [kafka] properties */

typedef struct {
    char host[256]; /* empty = disabled */
    uint16_t port;
} tr_addr_t;

/* [upstream] ddl-unsupported: what happens to a DDL the dialect rewriter cannot make safe
 * for a replica (protocol/ddl_rewrite.h TR_DDL_UNSUPPORTED). */
typedef enum {
    TR_DDL_POLICY_STOP = 0, /* stop translating, with an error naming the job (default) */
    TR_DDL_POLICY_SKIP = 1, /* write nothing for it, WARN with the job id */
    TR_DDL_POLICY_PASS = 2, /* write TiDB's text as is */
} tr_ddl_policy_t;

/* [filter] rules, kept as written (relay/filter.c compiles them; the loader checks them
 * through tr_config_checks_t while the file is read). */
#define TR_CONFIG_MAX_FILTER_RULES 256
#define TR_FILTER_RULE_MAX         200 /* bytes of one rule's text, NUL included */

typedef enum {
    TR_FILTER_DO_DB = 0,           /* do-db = name */
    TR_FILTER_IGNORE_DB = 1,       /* ignore-db = name */
    TR_FILTER_DO_TABLE = 2,        /* do-table = db.table */
    TR_FILTER_IGNORE_TABLE = 3,    /* ignore-table = db.table */
    TR_FILTER_WILD_DO_TABLE = 4,   /* wild-do-table = db%.t_% (LIKE patterns) */
    TR_FILTER_WILD_IGNORE_TABLE = 5,
    TR_FILTER_REWRITE_DB = 6,      /* rewrite-db = from->to */
    TR_FILTER_REWRITE_TABLE = 7,   /* rewrite-table = db.t->db2.t2 */
    TR_FILTER_KIND_COUNT = 8
} tr_filter_kind_t;

typedef struct {
    tr_filter_kind_t kind;
    int line;                      /* line in the configuration file (messages) */
    char text[TR_FILTER_RULE_MAX]; /* one rule, surrounding spaces removed */
} tr_filter_rule_t;

/* The configuration key of a rule kind ("do-db", ...); NULL for an unknown kind. */
const char *tr_config_filter_key(tr_filter_kind_t kind);

/*
 * Checks the loader cannot make itself: the [filter] rules are compiled by the relay
 * (relay/filter.h tr_filter_rule_check, tr_filter_new), which main passes in, so this
 * module depends on no upper one. Each returns 0, or TR_ECONFIG with *why (static).
 */
typedef struct {
    /* One rule, as its line is read. */
    int (*filter_rule)(tr_filter_kind_t kind, const char *text, const char **why);
    /* All rules together (a source renamed twice): *bad is the offending rule. */
    int (*filter_rules)(const tr_filter_rule_t *rules, size_t n, size_t *bad, const char **why);
    /* One [kafka] property, as librdkafka would take it (the relay's Kafka source). */
    int (*kafka_property)(const char *key, const char *value, const char **why);
} tr_config_checks_t;

/* A [kafka] property, handed to librdkafka as written (its value may be a secret, such
 * as sasl.password: never logged or shown). */
typedef struct {
    char key[128];
    char value[512];
    int line; /* in the configuration file (messages) */
} tr_config_kv_t;

typedef struct {
    char name[64];
    uint8_t native_hash[20]; /* SHA1(SHA1(password)) */
    uint8_t sha2_hash[32];   /* SHA256(SHA256(password)) */
    bool empty_password;
    bool is_admin;           /* listed in [server] admin-users: may run admin statements */
} tr_user_t;

typedef struct {
    /* [server] */
    tr_addr_t listen;          /* MySQL flavour */
    tr_addr_t mariadb_listen;  /* MariaDB flavour */
    uint32_t server_id;
    char server_uuid[37];      /* text form */
    uint8_t server_uuid_bin[16];
    uint32_t gtid_domain_id;
    uint64_t gtid_start;
    char tls_cert[512];
    char tls_key[512];
    bool require_tls;
    bool caching_sha2_prefill; /* caching_sha2_password fast path from the first login */
    uint32_t heartbeat_default_ms; /* when a replica asks for none: 0 = none */
    uint32_t row_event_max_bytes;  /* start a new rows event past this size (default 8192) */
    uint32_t dump_stall_timeout_ms; /* close a dump whose client reads nothing this long */

    /* [users] */
    tr_user_t users[TR_CONFIG_MAX_USERS];
    size_t n_users;

    /* [upstream] */
    tr_addr_t pumps[TR_CONFIG_MAX_PUMPS];
    size_t n_pumps;
    char pd_urls[1024];
    char node_id[128];          /* our Drainer node id in etcd; empty = hostname:port of listen */
    char advertise_addr[256];   /* "host" of our etcd entry; empty = notify-listen, else listen */
    tr_addr_t notify_listen;    /* /binlog.Cistern/Notify gRPC server; host empty = none */
    uint32_t detect_interval_ms; /* Pump list refresh period (discovery mode) */
    bool stop_offline;          /* clean stop writes state offline instead of paused */
    uint64_t cluster_id;
    char tidb_user[64];
    char tidb_password[128];
    tr_addr_t tidb;            /* TiDB SQL endpoint (DDL history) */
    char tidb_status[512];
    int64_t initial_commit_ts;
    int ddl_unsupported;       /* tr_ddl_policy_t: a DDL the rewriter cannot make safe */
    char ticdc_kafka[1024];    /* TiCDC over Kafka: bootstrap brokers, "host:port,..." */
    char ticdc_topic[256];     /* the changefeed's topic */
    char ticdc_storage[512];   /* TiCDC storage sink: its directory (a file:// prefix removed) */

    /* [kafka]: librdkafka properties for the TiCDC Kafka source */
    tr_config_kv_t kafka[TR_CONFIG_MAX_KAFKA];
    size_t n_kafka;

    /* [store] */
    char store_dir[512];
    char binlog_basename[64];
    uint64_t max_binlog_size;
    uint64_t expire_logs_seconds;   /* purge files older than this; 0 = never */
    uint64_t max_binlog_total_size; /* purge oldest files above this total (bytes); 0 = no limit */
    int sync;                  /* tr_sync_mode_t */

    /* [metrics] */
    tr_addr_t metrics_listen;
    uint32_t health_stall_ms;  /* /healthz: a Pump silent this long makes it not ready */

    /* [filter] */
    tr_filter_rule_t filter_rules[TR_CONFIG_MAX_FILTER_RULES];
    size_t n_filter_rules;

    /* [log] */
    int log_level;             /* tr_log_level_t */
} tr_config_t;

/* Fills defaults: zero, then every typed row's default (tr_config_keys). */
void tr_config_defaults(tr_config_t *c);

/*
 * The table of configuration keys: one row per fixed key ([users] takes any name and is
 * handled as a section). The parser, tr_config_defaults, the unknown-key message and the
 * unit tests all read it, so a key cannot be half-added.
 *
 * A typed row names the tr_config_t field it fills (offset, size, C type); its value is
 * checked and stored by its type. A CUSTOM row's parse function fills the configuration
 * itself (keys that fill several fields or report their own errors). A value the row
 * rejects is reported as "expected <accepted>, got '<value>'" (SECRET rows never show the
 * value; TEXT and PATH rows without accepted text fail only by length: "too long: '<value>'",
 * "path too long: '<value>'").
 */
typedef enum {
    TR_CONFIG_TYPE_BOOL = 0,       /* 1/on/true/yes, 0/off/false/no (any case) -> bool */
    TR_CONFIG_TYPE_UINT = 1,       /* decimal, K/M/G suffix (x1024^n) allowed; min..max */
    TR_CONFIG_TYPE_SECONDS_MS = 2, /* as UINT, in seconds; stored as milliseconds */
    TR_CONFIG_TYPE_I64 = 3,        /* signed decimal without suffix; >= min */
    TR_CONFIG_TYPE_ENUM = 4,       /* one of names; stores its index */
    TR_CONFIG_TYPE_TEXT = 5,       /* text into a char array: at most max (else size - 1) bytes */
    TR_CONFIG_TYPE_PATH = 6,       /* as TEXT; a file or directory path */
    TR_CONFIG_TYPE_ADDR = 7,       /* tr_addr_parse: host:port, or empty = off */
    TR_CONFIG_TYPE_ADDR_TEXT = 8,  /* checked as ADDR, kept as written into a char array */
    TR_CONFIG_TYPE_UUID = 9,       /* 36-character UUID: lower-case text; 16 bytes at aux_off */
    TR_CONFIG_TYPE_CUSTOM = 10,    /* parse() fills the configuration */
} tr_config_type_t;

/* The C type of the field a typed row fills (taken from the field's declaration). */
typedef enum {
    TR_CONFIG_FIELD_NONE = 0, /* CUSTOM rows: no field */
    TR_CONFIG_FIELD_BOOL = 1,
    TR_CONFIG_FIELD_INT = 2,
    TR_CONFIG_FIELD_U32 = 3,
    TR_CONFIG_FIELD_U64 = 4,
    TR_CONFIG_FIELD_I64 = 5,
    TR_CONFIG_FIELD_CHARS = 6, /* char array of size bytes */
    TR_CONFIG_FIELD_ADDR = 7,  /* tr_addr_t */
} tr_config_field_t;

#define TR_CONFIG_F_NOCASE    0x01u /* ENUM: names match in any case */
#define TR_CONFIG_F_ZERO_OK   0x02u /* UINT: 0 is accepted besides min..max */
#define TR_CONFIG_F_SECRET    0x04u /* the value holds a password: never shown in messages */
#define TR_CONFIG_F_NONEMPTY  0x08u /* TEXT, PATH: the empty value is rejected */
#define TR_CONFIG_F_FILE_NAME 0x10u /* TEXT: no '/' */

struct tr_config_parse; /* the parser's state (config.c) */
typedef struct tr_config_key tr_config_key_t;

struct tr_config_key {
    const char *section; /* without brackets */
    const char *key;
    tr_config_type_t type;
    size_t off;               /* typed rows: offsetof(tr_config_t, field) */
    size_t size;              /* typed rows: sizeof the field */
    tr_config_field_t field;  /* typed rows: the field's C type */
    size_t aux_off;           /* UUID: offset of the uint8_t[16] binary form */
    uint64_t min;             /* UINT, SECONDS_MS, I64: smallest value */
    uint64_t max;             /* UINT, SECONDS_MS: largest; TEXT, PATH: longest (0: size - 1) */
    unsigned flags;           /* TR_CONFIG_F_* */
    const char *const *names; /* ENUM: NULL-terminated; value = index */
    /* CUSTOM: fills the configuration from value. Returns 0 (accepted, or its own errors
     * already reported) or TR_ECONFIG (reported by the caller from accepted). */
    int (*parse)(struct tr_config_parse *p, const tr_config_key_t *k, const char *value);
    int arg;              /* CUSTOM: the parser's argument ([filter]: tr_filter_kind_t) */
    const char *def;      /* typed rows: the default, as text parsed like a value */
    const char *accepted; /* accepted values, for messages; NULL: TEXT, PATH, some CUSTOM */
};

/* Every fixed key the parser accepts ([users] takes any name): the static table, in the
 * order the unknown-key message lists them. */
const tr_config_key_t *tr_config_keys(size_t *n);
/* The row of [section] key; NULL when there is none. */
const tr_config_key_t *tr_config_key_find(const char *section, const char *key);

/*
 * Parses INI text. Every error is reported, not just the first: on error
 * returns TR_ECONFIG and writes one line per error into err, each
 * "file:line: [section] key: message (accepted values)" (cross-key checks
 * have no line: "file: [section] key: message"), '\n'-separated,
 * NUL-terminated, truncated to err_len (after 64 errors a count follows).
 * Unknown sections and keys, keys outside a section, lines inih cannot read
 * and lines longer than 198 characters are errors. name is used in messages.
 */
int tr_config_parse(tr_config_t *c, const char *text, const char *name,
                    const tr_config_checks_t *checks, char *err, size_t err_len) TR_MUSTCHECK;
/* Reads and parses a file (tr_config_defaults first). Same errors plus -errno. checks may
 * be NULL: the [filter] rules are then kept unchecked. */
int tr_config_load(tr_config_t *c, const char *path, const tr_config_checks_t *checks, char *err,
                   size_t err_len) TR_MUSTCHECK;
/* Which input the configuration reads: Pumps (static list or discovery), TiCDC over
 * Kafka, or a TiCDC storage-sink directory. */
typedef enum {
    TR_INPUT_PUMPS = 0,
    TR_INPUT_TICDC_KAFKA = 1,
    TR_INPUT_TICDC_STORAGE = 2,
} tr_input_t;
tr_input_t tr_config_input(const tr_config_t *c);

/* Finds a user by name; NULL if unknown. */
const tr_user_t *tr_config_user(const tr_config_t *c, const char *name);
/* Parses "host:port" ("[v6]:port"); ":port" or a bare "port" means
 * 127.0.0.1:port; "" leaves it disabled (host ""). Returns 0 or TR_ECONFIG. */
int tr_addr_parse(tr_addr_t *a, const char *text) TR_MUSTCHECK;

#endif
