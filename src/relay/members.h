/*
 * The Pumps of the relay (declared in relay_internal.h): one merge source per
 * Pump, its pump client's deliveries queued into the merge (tr_relay_on_binlog), and the
 * membership etcd reports (tr_relay_reconcile; see relay.c's header for the rules).
 */
#ifndef TR_RELAY_MEMBERS_H
#define TR_RELAY_MEMBERS_H

#include "relay/relay_internal.h"

#endif
