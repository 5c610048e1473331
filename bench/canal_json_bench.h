/*
 * What the parts of tr_canal_json_bench share (canal_json_bench.c): jansson and json-c
 * declare the same names (json_object, json_type, ...), so json-c's adapter is a file of its
 * own (canal_json_bench_jsonc.c).
 */
#ifndef TR_BENCH_CANAL_JSON_BENCH_H
#define TR_BENCH_CANAL_JSON_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/tidb_schema.h"

typedef struct {
    const tr_table_info_t *t;
    uint64_t sum;   /* checksum of every datum, in message order */
    uint64_t head;  /* commitTs ^ kind (kept apart: yajl sees _tidb after the rows) */
    size_t next;    /* the column expected next (TiCDC writes table order) */
    uint8_t scratch[8192];
    int errors;
} work_t;

/* Folds v into the checksum. */
void tr_cjb_mix(work_t *w, uint64_t v);
/* One value of column name (not NUL-terminated): text is its decoded string, NULL for SQL
 * NULL. Looks the column up, turns binary text into bytes, converts with tr_canal_value. */
void tr_cjb_use_value(work_t *w, const char *name, size_t name_len, const uint8_t *text,
                      size_t len);

/* The same through void pointers, for the C++ adapter (canal_json_bench_simdjson.cpp);
 * head is commitTs, folded with the kind as the others do. */
void tr_cjb_any_mix(void *w, uint64_t v);
void tr_cjb_any_value(void *w, const char *name, size_t name_len, const uint8_t *text,
                      size_t len);
void tr_cjb_any_head(void *w, uint64_t head);
void tr_cjb_any_image(void *w); /* an image (old, data) starts */
bool tr_cjb_simdjson_dom_parse(void *w, const char *msg, size_t len);
bool tr_cjb_simdjson_dom_full(void *w, const char *msg, size_t len);
bool tr_cjb_simdjson_od_parse(void *w, const char *msg, size_t len);
bool tr_cjb_simdjson_od_full(void *w, const char *msg, size_t len);

void tr_cjb_jsonc_init(void);
void tr_cjb_jsonc_free(void);
bool tr_cjb_jsonc_parse(work_t *w, const char *msg, size_t len);
bool tr_cjb_jsonc_full(work_t *w, const char *msg, size_t len);

#endif
