/*
 * The writer thread of the relay (declared in relay_internal.h): pops
 * released transactions in commit_ts order, brings the schema to each one's version,
 * translates it for every flavour, appends it to the store and commits in groups, pausing
 * while the disk is full.
 */
#ifndef TR_RELAY_WRITER_H
#define TR_RELAY_WRITER_H

#include "relay/relay_internal.h"

#endif
