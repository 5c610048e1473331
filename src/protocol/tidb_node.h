/*
 * TiDB Binlog node registry formats (shared/spec/tidb-binlog.md section 6.1,
 * TB pkg/node/node.go, pkg/node/registry.go): the JSON `Status` value stored
 * under /tidb-binlog/v1/{pumps,drainers}/<nodeID> in PD's etcd, and the
 * bodies of etcd v3's HTTP/JSON gateway (POST /v3/kv/range, /v3/kv/txn) that
 * read and write those keys. Keys and values travel base64-encoded there;
 * 64-bit integers of the gateway are JSON strings, those inside Status are
 * JSON numbers (Go's encoding/json of int64).
 *
 * Pure codec: no I/O, no logging, no clock (the caller passes update_ts).
 *
 * Status JSON (TB pkg/node/node.go `Status`):
 * | field        | type   | notes                                            |
 * |--------------|--------|--------------------------------------------------|
 * | nodeId       | string | unique node id ("host:port" by default)          |
 * | host         | string | advertise address used for gRPC dialing          |
 * | state        | string | online, pausing, paused, closing, offline        |
 * | isAlive      | bool   | not used by Drainer                              |
 * | score, label | -      | not used by Drainer                              |
 * | maxCommitTS  | int64  | pump: storage max; drainer: last synced commit_ts|
 * | updateTS     | int64  | approximate TSO of the last update               |
 */
#ifndef TR_PROTOCOL_TIDB_NODE_H
#define TR_PROTOCOL_TIDB_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/defs.h"

#define TR_NODE_ROOT         "/tidb-binlog/v1"
#define TR_NODE_PUMPS_PREFIX TR_NODE_ROOT "/pumps/"
#define TR_NODE_DRAINERS     TR_NODE_ROOT "/drainers/"

typedef enum {
    TR_NODE_UNKNOWN = 0, /* a state string this codec does not know */
    TR_NODE_ONLINE,
    TR_NODE_PAUSING,
    TR_NODE_PAUSED,
    TR_NODE_CLOSING,
    TR_NODE_OFFLINE,
} tr_node_state_t;

typedef struct {
    char node_id[128];
    char host[256];
    tr_node_state_t state;
    int64_t max_commit_ts;
    int64_t update_ts;
} tr_node_status_t;

/* Lower-case state name as stored in etcd ("unknown" for TR_NODE_UNKNOWN). */
const char *tr_node_state_name(tr_node_state_t s);
/* Parses a state name; TR_NODE_UNKNOWN if it is none of the five. */
tr_node_state_t tr_node_state_parse(const char *name);

/*
 * Decodes a Status JSON value. Missing maxCommitTS/updateTS read as 0, a
 * missing or unknown state as TR_NODE_UNKNOWN. Returns 0, or TR_EMALFORMED
 * (not a JSON object, nodeId missing, a field of the wrong type) or
 * TR_ETOOBIG (nodeId or host longer than the struct holds) with *why.
 */
int tr_node_status_decode(const uint8_t *p, size_t len, tr_node_status_t *out,
                          const char **why) TR_MUSTCHECK;
/* Appends the Status JSON of st to out (isAlive = state is online). */
void tr_node_status_encode(const tr_node_status_t *st, tr_buf_t *out);

/* Body of POST /v3/kv/range listing every key that starts with prefix. */
void tr_etcd_range_prefix_body(const char *prefix, tr_buf_t *out);
/*
 * Body of POST /v3/kv/txn that puts value under key when the key does not
 * exist yet (create: If(ModRevision(key) == 0)) or when it does (update:
 * If(ModRevision(key) > 0)), as TB pkg/etcd/etcd.go Create/Update.
 */
void tr_etcd_put_txn_body(const char *key, const uint8_t *value, size_t value_len, bool create,
                          tr_buf_t *out);

/* One key/value of a range response (views valid during the callback only). */
typedef void (*tr_etcd_kv_cb)(void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
                              size_t value_len);
/*
 * Decodes a /v3/kv/range response, calling cb for each kv in order. Returns
 * the number of kvs, or TR_EMALFORMED with *why (an etcd error object
 * counts as malformed; *why then says so).
 */
int tr_etcd_range_decode(const char *json, size_t len, tr_etcd_kv_cb cb, void *arg,
                         const char **why) TR_MUSTCHECK;
/* Decodes a /v3/kv/txn response: *succeeded gets the compare result (the
 * gateway omits false). Returns 0 or TR_EMALFORMED with *why. */
int tr_etcd_txn_decode(const char *json, size_t len, bool *succeeded,
                       const char **why) TR_MUSTCHECK;

#endif
