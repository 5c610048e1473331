/*
 * json-c's side of tr_canal_json_bench (canal_json_bench.c): a reused tokener, the DOM,
 * old/data walked with json_object_object_foreach.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "protocol/canal_json.h"

#include "canal_json_bench.h"

static struct json_tokener *jc_tok;

static bool jsonc_walk(work_t *w, struct json_object *arr)
{
    if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
        return false;
    }
    struct json_object *obj = json_object_array_get_idx(arr, 0);
    if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
        return false;
    }
    w->next = 0;
    json_object_object_foreach(obj, k, v)
    {
        if (v == NULL) {
            tr_cjb_use_value(w, k, strlen(k), NULL, 0);
        } else if (json_object_is_type(v, json_type_string)) {
            tr_cjb_use_value(w, k, strlen(k), (const uint8_t *)json_object_get_string(v),
                      (size_t)json_object_get_string_len(v));
        } else {
            return false;
        }
    }
    return true;
}

static struct json_object *jsonc_load(const char *msg, size_t len)
{
    json_tokener_reset(jc_tok);
    struct json_object *root = json_tokener_parse_ex(jc_tok, msg, (int)len);
    if (root == NULL || json_tokener_get_error(jc_tok) != json_tokener_success) {
        json_object_put(root);
        return NULL;
    }
    return root;
}

bool tr_cjb_jsonc_full(work_t *w, const char *msg, size_t len)
{
    struct json_object *root = jsonc_load(msg, len);
    if (root == NULL) {
        return false;
    }
    bool ok = false;
    struct json_object *tidb;
    struct json_object *ts;
    struct json_object *type;
    struct json_object *old;
    struct json_object *data;
    if (json_object_object_get_ex(root, "_tidb", &tidb) &&
        json_object_object_get_ex(tidb, "commitTs", &ts) &&
        json_object_object_get_ex(root, "type", &type) &&
        strcmp(json_object_get_string(type), "UPDATE") == 0 &&
        json_object_object_get_ex(root, "old", &old) &&
        json_object_object_get_ex(root, "data", &data)) {
        w->head = json_object_get_uint64(ts) ^ TR_CANAL_UPDATE;
        ok = jsonc_walk(w, old) && jsonc_walk(w, data);
    }
    json_object_put(root);
    return ok;
}

bool tr_cjb_jsonc_parse(work_t *w, const char *msg, size_t len)
{
    struct json_object *root = jsonc_load(msg, len);
    if (root == NULL) {
        return false;
    }
    tr_cjb_mix(w, (uint64_t)json_object_object_length(root));
    json_object_put(root);
    return true;
}

void tr_cjb_jsonc_init(void)
{
    jc_tok = json_tokener_new();
}

void tr_cjb_jsonc_free(void)
{
    json_tokener_free(jc_tok);
}
