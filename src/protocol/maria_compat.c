/*
 * MariaDB's replacement events (see maria_compat.h). Written from the rules
 * of MariaDB 10.11 sql/sql_repl.cc send_event_to_slave and
 * sql/log_event_server.cc (Query_log_event::dummy_event, begin_event,
 * Gtid_log_event::make_compatible_event), checked byte for byte against
 * events a MariaDB 10.11.19 primary sent (tests/unit/test_maria_compat.c).
 * Pure codec: no I/O, no logging.
 */
#include "protocol/maria_compat.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common/endian.h"
#include "common/err.h"
#include "protocol/binlog_event.h"

#define QUERY_POST_HEADER 13 /* thread_id 4, exec_time 4, db_len 1, error_code 2, status len 2 */
#define GTID_BODY         19 /* GTID_HEADER_LEN: seq_no 8, domain 4, flags2 1, 6 more */
#define GTID_FLAGS2_OFF   (TR_EVT_HEADER_LEN + 12)
#define TIME_ZONE_CODE    5 /* Q_TIME_ZONE_CODE */
#define USER_VAR_EVENT    14
/* Header, name_len 4, a 1-byte name, is_null 1: the shortest dummy (USER_VAR). */
#define MIN_USER_VAR_LEN (TR_EVT_HEADER_LEN + 4 + 1 + 1)
/* Header, post-header, the db terminator, 1 byte of text: the shortest dummy QUERY. */
#define MIN_QUERY_LEN (TR_EVT_HEADER_LEN + QUERY_POST_HEADER + 1 + 1)

/* MariaDB's errmsg texts (sql_repl.cc send_event_to_slave; "currupt" is theirs). */
#define WHY_ANNOTATE "Failed to replace row annotate event with dummy: too small event."
#define WHY_GTID     "Failed to replace GTID event with backwards-compatible event: currupt event."
#define WHY_LIST                                                                                   \
    "Failed to replace binlog checkpoint or gtid list event with dummy: too small event."

int tr_maria_compat_capability(const char *value)
{
    if (value == NULL) {
        return TR_MARIA_CAP_UNKNOWN;
    }
    const char *p = value;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    bool neg = *p == '-';
    if (*p == '-' || *p == '+') {
        p++;
    }
    /* As MariaDB's string to longlong (my_strtoll10): a positive value saturates at
     * 2^64 - 1 and keeps its bits (above 2^63 - 1 they read as negative), a negative one
     * at -2^63. */
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : UINT64_MAX;
    uint64_t mag = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        uint64_t digit = (uint64_t)(*p - '0');
        mag = mag > (limit - digit) / 10 ? limit : mag * 10 + digit;
    }
    /* The two's-complement bits of the longlong, cut to 32 as an (int) cast does. */
    uint32_t low = (uint32_t)(neg ? (0 - mag) : mag);
    return low <= (uint32_t)INT_MAX ? (int)low : -(int)(UINT32_MAX - low) - 1;
}

/* Flags of a rewritten event: not thread specific, no USE before it. */
static void set_flags(uint8_t *ev)
{
    uint16_t flags = tr_load_u16le(ev + 17);
    flags = (uint16_t)((flags & ~TR_EVF_THREAD_SPECIFIC) | TR_EVF_SUPPRESS_USE);
    tr_store_u16le(ev + 17, flags);
}

/* Post-header of a QUERY with no thread, time, db or error; status vars of status_len bytes. */
static uint8_t *put_query_head(uint8_t *ev, uint16_t status_len)
{
    ev[4] = TR_EVT_QUERY;
    uint8_t *q = ev + TR_EVT_HEADER_LEN;
    memset(q, 0, QUERY_POST_HEADER);
    tr_store_u16le(q + 11, status_len);
    return q + QUERY_POST_HEADER;
}

int tr_maria_compat_dummy(uint8_t *ev, size_t len, bool has_crc)
{
    size_t crc_len = has_crc ? TR_EVT_CRC_LEN : 0;
    if (len < MIN_USER_VAR_LEN + crc_len) {
        return TR_EMALFORMED;
    }
    size_t data_len = len - crc_len;
    set_flags(ev);
    if (data_len < MIN_QUERY_LEN) {
        /* Too short for a comment: a NULL user variable @`!dummyvar`, cut to fit. */
        static const char name[] = "!dummyvar";
        size_t name_len = data_len - (MIN_USER_VAR_LEN - 1);
        _Static_assert(MIN_QUERY_LEN - MIN_USER_VAR_LEN == sizeof(name) - 1,
                       "the longest dummy name fills a 33-byte event");
        ev[4] = USER_VAR_EVENT;
        tr_store_u32le(ev + TR_EVT_HEADER_LEN, (uint32_t)name_len);
        memcpy(ev + TR_EVT_HEADER_LEN + 4, name, name_len);
        ev[TR_EVT_HEADER_LEN + 4 + name_len] = 1; /* is_null */
    } else {
        char text[80];
        int n = snprintf(text, sizeof(text),
                         "# Dummy event replacing event type %u that slave cannot handle.",
                         (unsigned)ev[4]);
        size_t text_len = n > 0 ? (size_t)n : 0;
        uint8_t *q = put_query_head(ev, 0);
        *q++ = 0; /* empty db name */
        size_t room = data_len - (MIN_QUERY_LEN - 1);
        if (room <= text_len) {
            memcpy(q, text, room);
        } else {
            memcpy(q, text, text_len);
            memset(q + text_len, ' ', room - text_len);
        }
    }
    if (has_crc) {
        tr_evt_update_crc(ev, len);
    }
    return 0;
}

int tr_maria_compat_begin(uint8_t *ev, size_t len, bool has_crc)
{
    size_t crc_len = has_crc ? TR_EVT_CRC_LEN : 0;
    if (len < crc_len) {
        return TR_EMALFORMED;
    }
    /* The two sizes of a MariaDB GTID event: without and with its commit id. */
    size_t data_len = len - crc_len;
    bool plain = data_len == TR_EVT_HEADER_LEN + GTID_BODY;
    if (!plain && data_len != TR_EVT_HEADER_LEN + GTID_BODY + 2) {
        return TR_EMALFORMED;
    }
    set_flags(ev);
    uint8_t *q = put_query_head(ev, plain ? 0 : 2);
    if (!plain) {
        *q++ = TIME_ZONE_CODE; /* an empty time zone takes the 2 extra bytes */
        *q++ = 0;
    }
    *q++ = 0; /* empty db name */
    memcpy(q, "BEGIN", 5);
    if (has_crc) {
        tr_evt_update_crc(ev, len);
    }
    return 0;
}

/* An event to leave out for clients that tolerate holes, else replace by a dummy. */
static int hole_or_dummy(uint8_t *ev, size_t len, int capability, bool has_crc, const char *msg,
                         const char **why)
{
    if (capability >= TR_MARIA_CAP_TOLERATE_HOLES) {
        return TR_MCOMPAT_OMIT;
    }
    if (tr_maria_compat_dummy(ev, len, has_crc) != 0) {
        *why = msg;
        return TR_EMALFORMED;
    }
    return TR_MCOMPAT_REWRITTEN;
}

int tr_maria_compat_rewrite(uint8_t *ev, size_t len, int capability, bool send_annotate,
                            bool has_crc, const char **why)
{
    if (len < TR_EVT_HEADER_LEN) {
        *why = "event shorter than its header";
        return TR_EMALFORMED;
    }
    uint8_t type = ev[4];
    if (type < TR_EVT_MARIA_ANNOTATE_ROWS || type > TR_EVT_MARIA_GTID_LIST) {
        return TR_MCOMPAT_SEND; /* not MariaDB's own: never looked at */
    }
    if (len < TR_EVT_HEADER_LEN + (has_crc ? TR_EVT_CRC_LEN : 0) || tr_load_u32le(ev + 9) != len) {
        *why = "event length does not match its header";
        return TR_EMALFORMED;
    }
    switch (type) {
    case TR_EVT_MARIA_ANNOTATE_ROWS:
        if (send_annotate) {
            return TR_MCOMPAT_SEND;
        }
        if (capability >= TR_MARIA_CAP_ANNOTATE && capability < TR_MARIA_CAP_TOLERATE_HOLES) {
            /* Understands the event and breaks on holes: as is. */
            return TR_MCOMPAT_SEND;
        }
        return hole_or_dummy(ev, len, capability, has_crc, WHY_ANNOTATE, why);
    case TR_EVT_MARIA_GTID:
        if (capability >= TR_MARIA_CAP_GTID) {
            return TR_MCOMPAT_SEND;
        }
        if (len < TR_EVT_HEADER_LEN + GTID_BODY) {
            *why = WHY_GTID;
            return TR_EMALFORMED;
        }
        if (ev[GTID_FLAGS2_OFF] & TR_MARIA_FL_STANDALONE) {
            /* No COMMIT follows, so no BEGIN either. */
            return hole_or_dummy(ev, len, capability, has_crc, WHY_GTID, why);
        }
        if (tr_maria_compat_begin(ev, len, has_crc) != 0) {
            *why = WHY_GTID;
            return TR_EMALFORMED;
        }
        return TR_MCOMPAT_REWRITTEN;
    case TR_EVT_MARIA_BINLOG_CHECKPOINT:
        if (capability >= TR_MARIA_CAP_BINLOG_CHECKPOINT) {
            return TR_MCOMPAT_SEND;
        }
        return hole_or_dummy(ev, len, capability, has_crc, WHY_LIST, why);
    case TR_EVT_MARIA_GTID_LIST:
        if (capability >= TR_MARIA_CAP_GTID) {
            return TR_MCOMPAT_SEND;
        }
        return hole_or_dummy(ev, len, capability, has_crc, WHY_LIST, why);
    default:
        return TR_MCOMPAT_SEND;
    }
}
