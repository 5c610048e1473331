/*
 * Builds the schema catalogue clients read (protocol/catalog.h) from the schema
 * tracker as it stands after the last transaction translated, through the
 * replication filter: filtered tables and databases are left out, renamed ones
 * carry the names replicas see. Pure: no I/O, no logging (writer thread).
 */
#ifndef TR_RELAY_CATALOG_BUILD_H
#define TR_RELAY_CATALOG_BUILD_H

#include "common/defs.h"
#include "protocol/catalog.h"
#include "relay/filter.h"
#include "relay/schema.h"

/*
 * Returns a new sealed catalogue (owned, tr_catalog_unref) of every table of s the
 * filter f keeps (f NULL: every table outside TiDB's system schemas). Tables whose
 * definition prev already holds (same binlog table id, same names) are shared with
 * prev (borrowed, may be NULL) instead of built again.
 */
tr_catalog_t *tr_catalog_build(const tr_schema_t *s, const tr_filter_t *f,
                               const tr_catalog_t *prev);

/* The catalogue column for TiDB column c (strings borrowed from c). */
void tr_catalog_column_of(const tr_tidb_column_t *c, tr_cat_column_t *out);

#endif
