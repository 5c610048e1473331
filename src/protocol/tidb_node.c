/*
 * TiDB Binlog node registry formats (see tidb_node.h): Status JSON and the
 * etcd v3 HTTP/JSON gateway bodies. Pure codec: jansson does the JSON,
 * protocol/base64 the keys and values; no I/O, no logging, no clock.
 */
#include "protocol/tidb_node.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "protocol/base64.h"

static const char *const state_names[] = {"unknown", "online", "pausing", "paused", "closing",
                                          "offline"};

const char *tr_node_state_name(tr_node_state_t s)
{
    if ((size_t)s >= sizeof(state_names) / sizeof(state_names[0])) {
        return "unknown";
    }
    return state_names[s];
}

tr_node_state_t tr_node_state_parse(const char *name)
{
    for (size_t i = 1; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
        if (strcmp(name, state_names[i]) == 0) {
            return (tr_node_state_t)i;
        }
    }
    return TR_NODE_UNKNOWN;
}

/* ---------------------------------------------------------------- Status */

static int copy_field(json_t *obj, const char *name, char *dst, size_t dst_len, bool required,
                      const char **why)
{
    json_t *v = json_object_get(obj, name);
    dst[0] = '\0';
    if (v == NULL || json_is_null(v)) {
        if (required) {
            *why = "Status JSON without nodeId";
            return TR_EMALFORMED;
        }
        return 0;
    }
    if (!json_is_string(v)) {
        *why = "Status JSON field is not a string";
        return TR_EMALFORMED;
    }
    size_t n = json_string_length(v);
    if (n >= dst_len) {
        *why = "Status JSON string too long";
        return TR_ETOOBIG;
    }
    memcpy(dst, json_string_value(v), n);
    dst[n] = '\0';
    return 0;
}

static int int_field(json_t *obj, const char *name, int64_t *dst, const char **why)
{
    json_t *v = json_object_get(obj, name);
    *dst = 0;
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (!json_is_integer(v)) {
        *why = "Status JSON field is not an integer";
        return TR_EMALFORMED;
    }
    *dst = (int64_t)json_integer_value(v);
    return 0;
}

int tr_node_status_decode(const uint8_t *p, size_t len, tr_node_status_t *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    json_error_t jerr;
    json_t *root = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        *why = "Status value is not a JSON object";
        return TR_EMALFORMED;
    }
    char state[32];
    int rc = copy_field(root, "nodeId", out->node_id, sizeof(out->node_id), true, why);
    if (rc == 0) {
        rc = copy_field(root, "host", out->host, sizeof(out->host), false, why);
    }
    if (rc == 0) {
        rc = copy_field(root, "state", state, sizeof(state), false, why);
        if (rc == TR_ETOOBIG) {
            state[0] = '\0'; /* an unknown, long state name */
            rc = 0;
        }
    }
    if (rc == 0) {
        rc = int_field(root, "maxCommitTS", &out->max_commit_ts, why);
    }
    if (rc == 0) {
        rc = int_field(root, "updateTS", &out->update_ts, why);
    }
    json_decref(root);
    if (rc == 0) {
        out->state = tr_node_state_parse(state);
    }
    return rc;
}

void tr_node_status_encode(const tr_node_status_t *st, tr_buf_t *out)
{
    json_t *o = json_object();
    (void)json_object_set_new(o, "nodeId", json_string(st->node_id));
    (void)json_object_set_new(o, "host", json_string(st->host));
    (void)json_object_set_new(o, "state", json_string(tr_node_state_name(st->state)));
    (void)json_object_set_new(o, "isAlive", json_boolean(st->state == TR_NODE_ONLINE));
    (void)json_object_set_new(o, "score", json_integer(0));
    (void)json_object_set_new(o, "label", json_null());
    (void)json_object_set_new(o, "maxCommitTS", json_integer(st->max_commit_ts));
    (void)json_object_set_new(o, "updateTS", json_integer(st->update_ts));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (s == NULL) {
        out->failed = true;
        return;
    }
    tr_buf_append(out, s, strlen(s));
    free(s);
}

/* ---------------------------------------------------------------- etcd gateway */

static void put_str(tr_buf_t *out, const char *s)
{
    tr_buf_append(out, s, strlen(s));
}

static void put_b64_str(tr_buf_t *out, const char *s)
{
    put_str(out, "\"");
    tr_base64_encode((const uint8_t *)s, strlen(s), out);
    put_str(out, "\"");
}

void tr_etcd_range_prefix_body(const char *prefix, tr_buf_t *out)
{
    /* range_end = prefix with its last byte incremented (etcd's GetPrefixRangeEnd). */
    char end[512];
    size_t n = strlen(prefix);
    if (n == 0 || n >= sizeof(end)) {
        out->failed = true;
        return;
    }
    memcpy(end, prefix, n + 1);
    while (n > 0 && (uint8_t)end[n - 1] == 0xff) {
        n--;
    }
    if (n == 0) {
        out->failed = true; /* a prefix of 0xff bytes: not one of ours */
        return;
    }
    end[n - 1] = (char)((uint8_t)end[n - 1] + 1);
    end[n] = '\0';
    put_str(out, "{\"key\":");
    put_b64_str(out, prefix);
    put_str(out, ",\"range_end\":");
    put_b64_str(out, end);
    put_str(out, "}");
}

void tr_etcd_put_txn_body(const char *key, const uint8_t *value, size_t value_len, bool create,
                          tr_buf_t *out)
{
    put_str(out, "{\"compare\":[{\"target\":\"MOD\",\"key\":");
    put_b64_str(out, key);
    tr_buf_printf(out, ",\"result\":\"%s\",\"mod_revision\":\"0\"}],", create ? "EQUAL" : "GREATER");
    put_str(out, "\"success\":[{\"request_put\":{\"key\":");
    put_b64_str(out, key);
    put_str(out, ",\"value\":\"");
    tr_base64_encode(value, value_len, out);
    put_str(out, "\"}}]}");
}

static json_t *load_response(const char *json, size_t len, const char **why)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        *why = "etcd response is not a JSON object";
        return NULL;
    }
    if (json_object_get(root, "error") != NULL || json_object_get(root, "code") != NULL) {
        json_decref(root);
        *why = "etcd returned an error";
        return NULL;
    }
    return root;
}

int tr_etcd_range_decode(const char *json, size_t len, tr_etcd_kv_cb cb, void *arg,
                         const char **why)
{
    json_t *root = load_response(json, len, why);
    if (root == NULL) {
        return TR_EMALFORMED;
    }
    json_t *kvs = json_object_get(root, "kvs");
    if (kvs == NULL) {
        json_decref(root);
        return 0; /* the gateway omits an empty list */
    }
    if (!json_is_array(kvs)) {
        json_decref(root);
        *why = "etcd range response: kvs is not an array";
        return TR_EMALFORMED;
    }
    tr_buf_t k;
    tr_buf_t v;
    tr_buf_init(&k, 64 * 1024);
    tr_buf_init(&v, 16 * 1024 * 1024);
    int rc = 0;
    size_t i;
    json_t *kv;
    json_array_foreach(kvs, i, kv)
    {
        json_t *jk = json_object_get(kv, "key");
        json_t *jv = json_object_get(kv, "value");
        tr_buf_reset(&k);
        tr_buf_reset(&v);
        if (!json_is_string(jk) || (jv != NULL && !json_is_string(jv)) ||
            tr_base64_decode(json_string_value(jk), json_string_length(jk), &k) != 0 ||
            (jv != NULL && tr_base64_decode(json_string_value(jv), json_string_length(jv), &v) != 0) ||
            !tr_buf_ok(&k) || !tr_buf_ok(&v)) {
            *why = "etcd range response: bad key or value";
            rc = TR_EMALFORMED;
            break;
        }
        cb(arg, k.data, k.len, v.data, v.len);
        rc++;
    }
    tr_buf_cleanup(&k);
    tr_buf_cleanup(&v);
    json_decref(root);
    return rc;
}

int tr_etcd_txn_decode(const char *json, size_t len, bool *succeeded, const char **why)
{
    json_t *root = load_response(json, len, why);
    if (root == NULL) {
        return TR_EMALFORMED;
    }
    json_t *s = json_object_get(root, "succeeded");
    *succeeded = s != NULL && json_is_true(s);
    json_decref(root);
    return 0;
}
