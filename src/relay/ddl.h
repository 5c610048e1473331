/*
 * The DDL history of the relay (declared in relay_internal.h): jobs fetched
 * from TiDB and kept in the store, the schema brought to a transaction's version, and a
 * DDL binlog's statement for each flavour through the rewriter and the filter.
 */
#ifndef TR_RELAY_DDL_H
#define TR_RELAY_DDL_H

#include "relay/relay_internal.h"

#endif
