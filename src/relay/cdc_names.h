/*
 * Interned names of the TiCDC path: table names (database, table) and column layouts (the
 * column names of a row image, in message order), each given a small id once, so that a
 * record carries ids instead of names and the writer maps a layout onto a table version
 * once per table version instead of once per row.
 *
 * Ids count from 1 and are never reused. Interning happens on one thread (the consumer);
 * lookups by id on any thread that learnt the id after it was handed out through a lock
 * (the merge): the entries never move once written.
 */
#ifndef TR_RELAY_CDC_NAMES_H
#define TR_RELAY_CDC_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/defs.h"

typedef struct tr_cdc_names tr_cdc_names_t;

typedef struct {
    const char *db; /* NUL-terminated */
    const char *table;
    size_t db_len;
    size_t table_len;
} tr_cdc_table_name_t;

typedef struct {
    size_t n;
    const char *const *names; /* n NUL-terminated column names */
    const size_t *lens;
    const char *const *types; /* their "mysqlType" entries ("" when the message had none) */
    const size_t *type_lens;
} tr_cdc_layout_t;

/* Returns owned (tr_cdc_names_free). */
tr_cdc_names_t *tr_cdc_names_new(void);
void tr_cdc_names_free(tr_cdc_names_t *n);

/* The id of a table name (borrows the bytes). Interning thread. */
uint32_t tr_cdc_names_table(tr_cdc_names_t *n, const char *db, size_t db_len, const char *table,
                            size_t table_len);
/* The id of a column layout: names[i] with type types[i] (borrowed). 0 when the
 * directory is full. Interning thread. */
uint32_t tr_cdc_names_layout(tr_cdc_names_t *n, const tr_slice_t *names, const tr_slice_t *types,
                             size_t count);

/* By id (returns view, valid until tr_cdc_names_free); NULL for an id never given. Any
 * thread, as the header says. */
const tr_cdc_table_name_t *tr_cdc_names_table_get(const tr_cdc_names_t *n, uint32_t id);
const tr_cdc_layout_t *tr_cdc_names_layout_get(const tr_cdc_names_t *n, uint32_t id);

#endif
