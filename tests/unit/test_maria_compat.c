/*
 * MariaDB replacement events (protocol/maria_compat): every rewrite checked
 * byte for byte against events a real MariaDB primary sent.
 *
 * How the vectors were captured: mariadbd 10.11.19-MariaDB-0+deb12u1 (Debian
 * 12), --no-defaults --server-id=1 --log-bin=.../mbin --binlog-format=ROW,
 * defaults otherwise (binlog_checksum=CRC32, binlog_annotate_row_events=ON,
 * gtid_domain_id 0). SQL: CREATE DATABASE shop; CREATE TABLE shop.t1 (id INT
 * PRIMARY KEY, v VARCHAR(20)); INSERT INTO shop.t1 VALUES (1,'a'); FLUSH
 * BINARY LOGS; INSERT (2,'b'); two INSERTs (3,'c') and (4,'d') committed
 * together under binlog_commit_wait_count=2 (GTIDs with a commit id, "cid=13");
 * CREATE TABLE shop.t2 (a standalone DDL GTID); then SET GLOBAL
 * binlog_checksum=NONE, INSERT (5,'e'), CREATE TABLE shop.t3 (mbin.000003, no
 * CRC); later a three-row INSERT whose ANNOTATE_ROWS is longer than the dummy
 * text (mbin.000006), and a restart with --log-bin=.../b for a short
 * BINLOG_CHECKPOINT name (b.000001). Each "orig" is the event as the file
 * holds it; each "sent" is the same event as the server sent it over
 * COM_BINLOG_DUMP (pos 4, flags 0x0001, server_id 0) to a raw client
 * (pymysql + COM_BINLOG_DUMP by hand) that ran `SET @master_binlog_checksum=
 * 'CRC32'` (or 'NONE' for mbin.000003) and never set @mariadb_slave_capability.
 * The same server was also dumped with capabilities 0..4 and dump flag 0x02;
 * which events it left out or sent as is is asserted in capability_levels.
 */
#include <stdio.h>
#include <string.h>

#include "common/endian.h"
#include "common/err.h"
#include "protocol/binlog_event.h"
#include "protocol/maria_compat.h"
#include "tr_test.h"

typedef struct {
    const char *what;
    bool has_crc;
    const char *orig; /* hex, from the binlog file */
    const char *sent; /* hex, from the dump to a client without the capability */
} vec_t;

static const vec_t vecs[] = {
    {"mbin.000001 GTID_LIST [] -> USER_VAR @`!`", true,
     "c4ec146ba3010000001d0000001d01000000000000000000002aee5fee",
     "c4ec146b0e010000001d0000001d01000008000100000021016735d400"},
    {"mbin.000001 BINLOG_CHECKPOINT mbin.000001 -> QUERY '#'", true,
     "c4ec146ba101000000260000004301000000000b0000006d62696e2e3030303030316feb8dbe",
     "c4ec146b020100000026000000430100000800000000000000000000000000000023e59e06ab"},
    {"mbin.000002 GTID_LIST [0-1-5] -> QUERY '# Dumm'", true,
     "cbec146ba3010000002b0000002b010000000001000000000000000100000005000000000000003747233e",
     "cbec146b02010000002b0000002b01000008000000000000000000000000000000232044756d6dfd9a8c96"},
    {"mbin.000002 GTID 0-1-6 -> BEGIN", true,
     "cbec146ba2010000002a0000007b01000008000600000000000000000000000c0000000000006ab03fdd",
     "cbec146b02010000002a0000007b01000008000000000000000000000000000000424547494eaa891d71"},
    {"mbin.000002 ANNOTATE_ROWS -> QUERY '# Dummy event replac'", true,
     "cbec146ba00100000039000000b40100000000494e5345525420494e544f2073686f702e74312056414c5545"
     "532028322c276227292778ac23",
     "cbec146b020100000039000000b401000008000000000000000000000000000000232044756d6d7920657665"
     "6e74207265706c6163a4396bd0"},
    {"mbin.000002 GTID 0-1-7 cid=13 -> BEGIN with an empty time zone", true,
     "cbec146ba2010000002c0000007d02000008000700000000000000000000000e0d000000000000007183dd57",
     "cbec146b02010000002c0000007d020000080000000000000000000000000200050000424547494e967c2714"},
    {"mbin.000002 standalone GTID 0-1-9 (DDL) -> QUERY '# Dum'", true,
     "cbec146ba2010000002a00000033040000080009000000000000000000000029000000000000a9c3207c",
     "cbec146b02010000002a0000003304000008000000000000000000000000000000232044756d84956075"},
    {"mbin.000006 long ANNOTATE_ROWS -> the whole text, padded with spaces", true,
     "f8ec146ba00100000083000000240200000000494e5345525420494e544f2073686f702e74312056414c5545"
     "532028382c27616161616161616161616161616161616161616127292c28392c276262626262626262626262"
     "62626262626262626227292c2831302c2763636363636363636363636363636363636363632729c32ee20c",
     "f8ec146b0201000000830000002402000008000000000000000000000000000000232044756d6d7920657665"
     "6e74207265706c6163696e67206576656e74207479706520313630207468617420736c6176652063616e6e6f"
     "742068616e646c652e2020202020202020202020202020202020202020202020202020202020207c0ae7aa"},
    {"b.000001 BINLOG_CHECKPOINT b.000001 -> USER_VAR @`!dummyv`", true,
     "fdec146ba1010000002300000040010000000008000000622e3030303030310255ad84",
     "fdec146b0e0100000023000000400100000800070000002164756d6d7976010b8441e9"},
    {"mbin.000003 (no CRC) GTID_LIST [0-1-9] -> QUERY '# Dumm'", false,
     "e9ec146ba301000000270000002701000000000100000000000000010000000900000000000000",
     "e9ec146b0201000000270000002701000008000000000000000000000000000000232044756d6d"},
    {"mbin.000003 (no CRC) BINLOG_CHECKPOINT -> QUERY '#'", false,
     "e9ec146ba101000000220000004901000000000b0000006d62696e2e303030303032",
     "e9ec146b020100000022000000490100000800000000000000000000000000000023"},
    {"mbin.000003 (no CRC) GTID 0-1-10 -> BEGIN", false,
     "e9ec146ba201000000260000009101000008000a00000000000000000000000c000000000000",
     "e9ec146b0201000000260000009101000008000000000000000000000000000000424547494e"},
    {"mbin.000003 (no CRC) ANNOTATE_ROWS -> dummy QUERY", false,
     "e9ec146ba00100000035000000c60100000000494e5345525420494e544f2073686f702e74312056414c5545"
     "532028352c27652729",
     "e9ec146b020100000035000000c601000008000000000000000000000000000000232044756d6d7920657665"
     "6e74207265706c6163"},
    {"mbin.000003 (no CRC) standalone GTID 0-1-11 -> QUERY '# Dum'", false,
     "e9ec146ba201000000260000005702000008000b000000000000000000000029000000000000",
     "e9ec146b0201000000260000005702000008000000000000000000000000000000232044756d"},
};

/* XID of mbin.000002, sent unchanged to every client. */
static const char xid_hex[] = "cbec146b10010000001f0000002b02000000000a00000000000000f5fa7b7d";

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = tr_test_unhex(hex, out, cap);
    if (n > cap) {
        TR_FAIL_AT("vector larger than %zu bytes", cap);
        return 0;
    }
    return n;
}

/* Runs the rule on a copy of v's original; returns the action, the bytes in out. */
static int run(const vec_t *v, int cap, bool annotate, uint8_t *out, size_t *len)
{
    *len = unhex(v->orig, out, 256);
    const char *why = NULL;
    return tr_maria_compat_rewrite(out, *len, cap, annotate, v->has_crc, &why);
}

TR_TEST(captured_replacements_byte_for_byte)
{
    for (size_t i = 0; i < TR_ARRAY_LEN(vecs); i++) {
        const vec_t *v = &vecs[i];
        uint8_t got[256];
        uint8_t want[256];
        size_t len = 0;
        int act = run(v, TR_MARIA_CAP_UNKNOWN, false, got, &len);
        size_t want_len = unhex(v->sent, want, sizeof(want));
        if (act != TR_MCOMPAT_REWRITTEN) {
            TR_FAIL_AT("%s: action %d", v->what, act);
        }
        EXPECT_EQ_INT(len, want_len);
        EXPECT_EQ_MEM(got, len, want, want_len);
        if (v->has_crc) {
            EXPECT_EQ_INT(tr_evt_check_crc(got, len), 0);
        }
    }
}

TR_TEST(capability_unset_is_zero)
{
    /* What the capture's client did: never set the variable. */
    EXPECT_EQ_INT(tr_maria_compat_capability(NULL), 0);
}

/* Expected action per vector and capability, as the real server did (see the capture). */
TR_TEST(capability_levels)
{
    for (size_t i = 0; i < TR_ARRAY_LEN(vecs); i++) {
        const vec_t *v = &vecs[i];
        uint8_t orig[256];
        size_t olen = unhex(v->orig, orig, sizeof(orig));
        uint8_t type = orig[4];
        bool standalone = type == TR_EVT_MARIA_GTID && (orig[19 + 12] & TR_MARIA_FL_STANDALONE);
        for (int cap = -1; cap <= 5; cap++) {
            for (int annotate = 0; annotate <= 1; annotate++) {
                int want;
                switch (type) {
                case TR_EVT_MARIA_ANNOTATE_ROWS:
                    want = annotate || cap == 1 ? TR_MCOMPAT_SEND
                           : cap >= 2           ? TR_MCOMPAT_OMIT
                                                : TR_MCOMPAT_REWRITTEN;
                    break;
                case TR_EVT_MARIA_BINLOG_CHECKPOINT:
                    want = cap >= 3   ? TR_MCOMPAT_SEND
                           : cap == 2 ? TR_MCOMPAT_OMIT
                                      : TR_MCOMPAT_REWRITTEN;
                    break;
                case TR_EVT_MARIA_GTID:
                    want = cap >= 4                 ? TR_MCOMPAT_SEND
                           : standalone && cap >= 2 ? TR_MCOMPAT_OMIT
                                                    : TR_MCOMPAT_REWRITTEN;
                    break;
                default: /* GTID_LIST */
                    want = cap >= 4   ? TR_MCOMPAT_SEND
                           : cap >= 2 ? TR_MCOMPAT_OMIT
                                      : TR_MCOMPAT_REWRITTEN;
                    break;
                }
                uint8_t got[256];
                size_t len = 0;
                int act = run(v, cap, annotate != 0, got, &len);
                if (act != want) {
                    TR_FAIL_AT("%s cap=%d annotate=%d: action %d, want %d", v->what, cap, annotate,
                               act, want);
                }
                if (act == TR_MCOMPAT_REWRITTEN) {
                    /* A non-standalone GTID becomes the same BEGIN at every level below 4. */
                    uint8_t want_bytes[256];
                    size_t wlen = unhex(v->sent, want_bytes, sizeof(want_bytes));
                    EXPECT_EQ_MEM(got, len, want_bytes, wlen);
                } else {
                    EXPECT_EQ_MEM(got, len, orig, olen);
                }
            }
        }
    }
}

TR_TEST(other_events_untouched)
{
    uint8_t ev[64];
    size_t len = unhex(xid_hex, ev, sizeof(ev));
    uint8_t copy[64];
    memcpy(copy, ev, len);
    const char *why = NULL;
    EXPECT_EQ_INT(tr_maria_compat_rewrite(ev, len, 0, false, true, &why), TR_MCOMPAT_SEND);
    EXPECT_EQ_MEM(ev, len, copy, len);
}

TR_TEST(flags_lose_thread_specific_gain_suppress_use)
{
    uint8_t ev[256];
    size_t len = unhex(vecs[3].orig, ev, sizeof(ev)); /* GTID 0-1-6 */
    tr_store_u16le(ev + 17, TR_EVF_THREAD_SPECIFIC | TR_EVF_ARTIFICIAL);
    tr_evt_update_crc(ev, len);
    const char *why = NULL;
    EXPECT_EQ_INT(tr_maria_compat_rewrite(ev, len, 0, false, true, &why), TR_MCOMPAT_REWRITTEN);
    EXPECT_EQ_INT(tr_load_u16le(ev + 17), TR_EVF_SUPPRESS_USE | TR_EVF_ARTIFICIAL);
    EXPECT_EQ_INT(tr_evt_check_crc(ev, len), 0);
    /* The dummy path too (GTID_LIST). */
    len = unhex(vecs[2].orig, ev, sizeof(ev));
    tr_store_u16le(ev + 17, TR_EVF_THREAD_SPECIFIC);
    EXPECT_EQ_INT(tr_maria_compat_rewrite(ev, len, 0, false, true, &why), TR_MCOMPAT_REWRITTEN);
    EXPECT_EQ_INT(tr_load_u16le(ev + 17), TR_EVF_SUPPRESS_USE);
}

/* A MariaDB-flavour event of size len (CRC included when has_crc), body zeroed. */
static void synth(uint8_t *ev, uint8_t type, size_t len, bool has_crc)
{
    memset(ev, 0, len);
    tr_store_u32le(ev, 1700000000);
    ev[4] = type;
    tr_store_u32le(ev + 5, 1);
    tr_store_u32le(ev + 9, (uint32_t)len);
    tr_store_u32le(ev + 13, 1000);
    if (has_crc) {
        tr_evt_update_crc(ev, len);
    }
}

TR_TEST(dummy_sizes_query_and_user_var)
{
    /* Every size from the shortest possible to past the full text, with and without CRC. */
    for (int crc = 0; crc <= 1; crc++) {
        size_t c = crc ? TR_EVT_CRC_LEN : 0;
        for (size_t data_len = 25; data_len <= 120; data_len++) {
            uint8_t ev[160];
            size_t len = data_len + c;
            synth(ev, TR_EVT_MARIA_GTID_LIST, len, crc != 0);
            const char *why = NULL;
            EXPECT_EQ_INT(tr_maria_compat_rewrite(ev, len, 0, false, crc != 0, &why),
                          TR_MCOMPAT_REWRITTEN);
            EXPECT_EQ_INT(tr_load_u32le(ev + 9), len);
            EXPECT_EQ_INT(tr_load_u32le(ev + 13), 1000);
            EXPECT_EQ_INT(tr_load_u32le(ev), 1700000000);
            EXPECT_EQ_INT(tr_load_u32le(ev + 5), 1);
            if (data_len < 34) {
                size_t n = data_len - 24;
                EXPECT_EQ_INT(ev[4], 14);
                EXPECT_EQ_INT(tr_load_u32le(ev + 19), n);
                EXPECT_TRUE(memcmp(ev + 23, "!dummyvar", n) == 0);
                EXPECT_EQ_INT(ev[23 + n], 1);
            } else {
                static const char text[] =
                    "# Dummy event replacing event type 163 that slave cannot handle.";
                size_t room = data_len - 33;
                EXPECT_EQ_INT(ev[4], TR_EVT_QUERY);
                for (size_t k = 19; k < 33; k++) {
                    EXPECT_EQ_INT(ev[k], 0);
                }
                size_t cut = room < sizeof(text) - 1 ? room : sizeof(text) - 1;
                EXPECT_TRUE(memcmp(ev + 33, text, cut) == 0);
                for (size_t k = 33 + cut; k < data_len; k++) {
                    EXPECT_EQ_INT(ev[k], ' ');
                }
            }
            if (crc) {
                EXPECT_EQ_INT(tr_evt_check_crc(ev, len), 0);
            }
        }
    }
}

TR_TEST(errors_leave_the_event_unchanged)
{
    const char *why = NULL;
    uint8_t ev[64];
    uint8_t copy[64];
    /* GTID_LIST / BINLOG_CHECKPOINT / ANNOTATE_ROWS too short for a dummy (24 bytes of data). */
    const uint8_t types[] = {TR_EVT_MARIA_GTID_LIST, TR_EVT_MARIA_BINLOG_CHECKPOINT,
                             TR_EVT_MARIA_ANNOTATE_ROWS};
    const char *msgs[] = {
        "Failed to replace binlog checkpoint or gtid list event with dummy: too small event.",
        "Failed to replace binlog checkpoint or gtid list event with dummy: too small event.",
        "Failed to replace row annotate event with dummy: too small event."};
    for (size_t i = 0; i < TR_ARRAY_LEN(types); i++) {
        synth(ev, types[i], 24 + 4, true);
        memcpy(copy, ev, 28);
        why = NULL;
        EXPECT_EQ_INT(tr_maria_compat_rewrite(ev, 28, 0, false, true, &why), TR_EMALFORMED);
        EXPECT_EQ_STR(why, msgs[i]);
        EXPECT_EQ_MEM(ev, 28, copy, 28);
        /* A client that tolerates holes gets it left out instead. */
        EXPECT_EQ_INT(tr_maria_compat_rewrite(ev, 28, 2, false, true, &why), TR_MCOMPAT_OMIT);
    }
    /* GTID events of other sizes than 38/40 (+ CRC), and shorter than a GTID. */
    const size_t sizes[] = {19 + 4, 37 + 4, 39 + 4, 41 + 4, 48 + 4};
    for (size_t i = 0; i < TR_ARRAY_LEN(sizes); i++) {
        synth(ev, TR_EVT_MARIA_GTID, sizes[i], true);
        memcpy(copy, ev, sizes[i]);
        why = NULL;
        EXPECT_EQ_INT(tr_maria_compat_rewrite(ev, sizes[i], 3, false, true, &why), TR_EMALFORMED);
        EXPECT_EQ_STR(why, "Failed to replace GTID event with backwards-compatible event: "
                           "currupt event.");
        EXPECT_EQ_MEM(ev, sizes[i], copy, sizes[i]);
        /* A capable client gets it as is, whatever its size. */
        EXPECT_EQ_INT(tr_maria_compat_rewrite(ev, sizes[i], 4, false, true, &why), TR_MCOMPAT_SEND);
    }
    /* A standalone GTID of an odd size still becomes a dummy (MariaDB only checks >= 38). */
    synth(ev, TR_EVT_MARIA_GTID, 48 + 4, false);
    ev[19 + 12] = TR_MARIA_FL_STANDALONE;
    EXPECT_EQ_INT(tr_maria_compat_rewrite(ev, 52, 0, false, false, &why), TR_MCOMPAT_REWRITTEN);
    /* Length checks: header event_size must be len; shorter than a header. */
    synth(ev, TR_EVT_MARIA_GTID_LIST, 40, true);
    why = NULL;
    EXPECT_EQ_INT(tr_maria_compat_rewrite(ev, 39, 0, false, true, &why), TR_EMALFORMED);
    EXPECT_TRUE(why != NULL);
    for (size_t len = 0; len < TR_EVT_HEADER_LEN + 4; len++) {
        synth(ev, TR_EVT_MARIA_GTID_LIST, TR_EVT_HEADER_LEN + 4, true);
        tr_store_u32le(ev + 9, (uint32_t)len);
        EXPECT_EQ_INT(tr_maria_compat_rewrite(ev, len, 0, false, true, &why), TR_EMALFORMED);
    }
    /* Other types are never looked at past their type byte (a 19-byte STOP with "CRC"). */
    synth(ev, TR_EVT_STOP, TR_EVT_HEADER_LEN, false);
    EXPECT_EQ_INT(tr_maria_compat_rewrite(ev, TR_EVT_HEADER_LEN, 0, false, true, &why),
                  TR_MCOMPAT_SEND);
    /* The primitives on their own. */
    synth(ev, TR_EVT_MARIA_GTID, 24, false);
    EXPECT_EQ_INT(tr_maria_compat_dummy(ev, 24, false), TR_EMALFORMED);
    EXPECT_EQ_INT(tr_maria_compat_dummy(ev, 3, true), TR_EMALFORMED);
    EXPECT_EQ_INT(tr_maria_compat_begin(ev, 24, false), TR_EMALFORMED);
    EXPECT_EQ_INT(tr_maria_compat_begin(ev, 3, true), TR_EMALFORMED);
}

TR_TEST(capability_text)
{
    /* Values checked against the same MariaDB 10.11.19 (which events it replaced). */
    EXPECT_EQ_INT(tr_maria_compat_capability("4"), 4);
    EXPECT_EQ_INT(tr_maria_compat_capability("  4"), 4);
    EXPECT_EQ_INT(tr_maria_compat_capability("4x"), 4);
    EXPECT_EQ_INT(tr_maria_compat_capability("3.6"), 3);
    EXPECT_EQ_INT(tr_maria_compat_capability("-1"), -1);
    EXPECT_EQ_INT(tr_maria_compat_capability("4294967300"), 4);
    EXPECT_EQ_INT(tr_maria_compat_capability("9223372036854775812"), 4);
    EXPECT_EQ_INT(tr_maria_compat_capability("99999999999999999999"), -1);
    EXPECT_EQ_INT(tr_maria_compat_capability("-9223372036854775812"), 0);
    EXPECT_EQ_INT(tr_maria_compat_capability("-4294967292"), 4);
    /* And by the rule alone. */
    EXPECT_EQ_INT(tr_maria_compat_capability("abc"), 0);
    EXPECT_EQ_INT(tr_maria_compat_capability(""), 0);
    EXPECT_EQ_INT(tr_maria_compat_capability("+3"), 3);
    EXPECT_EQ_INT(tr_maria_compat_capability("\t2"), 2);
}

TR_TEST_MAIN()
