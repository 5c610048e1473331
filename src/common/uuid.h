/*
 * UUIDs as MySQL writes them (server_uuid, GTIDs): 16 bytes, text
 * 8-4-4-4-12 hex digits. Parsing only: the text form is written by
 * tr_gtid_uuid_format (protocol/gtid.h). Pure.
 */
#ifndef TR_COMMON_UUID_H
#define TR_COMMON_UUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/defs.h"

#define TR_UUID_TEXT_LEN 36 /* characters of the dashed form, without a NUL */

/* Parses p[0..len): the dashed form (TR_UUID_TEXT_LEN characters, dashes exactly after the
 * 8th, 12th, 16th and 20th digit) or, if allow_undashed, also 32 digits without dashes;
 * digits of either case. Returns 0 with out set, or TR_EMALFORMED. */
int tr_uuid_parse(const char *p, size_t len, bool allow_undashed, uint8_t out[16]) TR_MUSTCHECK;

#endif
