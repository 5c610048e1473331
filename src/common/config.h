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
} tr_config_checks_t;

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

/* Fills defaults (every key's documented default). */
void tr_config_defaults(tr_config_t *c);

/* A key the parser accepts (section without brackets). */
typedef struct {
    const char *section;
    const char *key;
} tr_config_key_t;

/* Every fixed key the parser accepts ([users] takes any name): a static table. */
const tr_config_key_t *tr_config_keys(size_t *n);

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
/* Finds a user by name; NULL if unknown. */
const tr_user_t *tr_config_user(const tr_config_t *c, const char *name);
/* Parses "host:port" ("[v6]:port"); ":port" or a bare "port" means
 * 127.0.0.1:port; "" leaves it disabled (host ""). Returns 0 or TR_ECONFIG. */
int tr_addr_parse(tr_addr_t *a, const char *text) TR_MUSTCHECK;
/* Parses a 36-char UUID into 16 bytes. Returns 0 or TR_EMALFORMED. */
int tr_uuid_parse(const char *text, uint8_t out[16]) TR_MUSTCHECK;

#endif
