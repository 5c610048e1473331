/*
 * Fuzz target: GTID sets of both flavours (protocol/gtid.c). The first byte
 * picks the decoder, the rest is its input:
 *   0: MySQL text set (tr_gtid_set_parse; @@gtid_purged, GTID_SUBTRACT args);
 *      a parsed set formats, re-parses to an equal set, and round-trips the
 *      binary form;
 *   1: MySQL binary set (tr_gtid_set_decode; COM_BINLOG_DUMP_GTID data);
 *   2: MariaDB list "d-s-n,..." (@slave_connect_state);
 *   3: event peeks (GTID_LOG_EVENT, GTID_EVENT, QUERY COMMIT).
 */
#include "fuzz.h"

#include <string.h>

#include "common/buf.h"
#include "protocol/gtid.h"

static void text_set(const uint8_t *p, size_t n)
{
    tr_gtid_set_t a;
    tr_gtid_set_t b;
    tr_gtid_set_init(&a);
    tr_gtid_set_init(&b);
    const char *why = NULL;
    if (tr_gtid_set_parse(&a, (const char *)p, n, &why) == 0) {
        size_t need = tr_gtid_set_format(&a, ",", NULL, 0);
        char *text = malloc(need + 1);
        FUZZ_CHECK(tr_gtid_set_format(&a, ",", text, need + 1) == need);
        FUZZ_CHECK(tr_gtid_set_parse(&b, text, need, &why) == 0);
        FUZZ_CHECK(tr_gtid_set_is_subset(&a, &b) && tr_gtid_set_is_subset(&b, &a));
        tr_buf_t enc;
        tr_buf_init(&enc, 0);
        tr_gtid_set_encode(&a, &enc);
        FUZZ_CHECK(enc.len == tr_gtid_set_encoded_len(&a));
        FUZZ_CHECK(tr_gtid_set_decode(enc.data, enc.len, &b, &why) == (ssize_t)enc.len);
        FUZZ_CHECK(tr_gtid_set_is_subset(&a, &b) && tr_gtid_set_is_subset(&b, &a));
        tr_gtid_set_union(&b, &a);
        tr_gtid_set_subtract(&b, &a);
        FUZZ_CHECK(tr_gtid_set_is_empty(&b));
        tr_buf_cleanup(&enc);
        free(text);
    } else {
        FUZZ_CHECK(why != NULL);
    }
    tr_gtid_set_cleanup(&a);
    tr_gtid_set_cleanup(&b);
}

static void binary_set(const uint8_t *p, size_t n)
{
    tr_gtid_set_t a;
    tr_gtid_set_init(&a);
    const char *why = NULL;
    ssize_t r = tr_gtid_set_decode(p, n, &a, &why);
    if (r >= 0) {
        FUZZ_CHECK((size_t)r <= n);
        char text[512];
        (void)tr_gtid_set_format(&a, ",\n", text, sizeof(text));
    } else {
        FUZZ_CHECK(why != NULL);
    }
    tr_gtid_set_cleanup(&a);
}

static void maria_list(const uint8_t *p, size_t n)
{
    tr_maria_gtid_t g[16];
    size_t cnt = 0;
    const char *why = NULL;
    if (tr_maria_gtid_list_parse((const char *)p, n, g, 16, &cnt, &why) == 0) {
        FUZZ_CHECK(cnt <= 16);
        char text[16 * 64];
        size_t len = tr_maria_gtid_list_format(g, cnt, text, sizeof(text));
        FUZZ_CHECK(len < sizeof(text));
        tr_maria_gtid_t g2[16];
        size_t cnt2 = 0;
        FUZZ_CHECK(tr_maria_gtid_list_parse(text, len, g2, 16, &cnt2, &why) == 0);
        FUZZ_CHECK(cnt2 == cnt);
    }
}

static void peeks(const uint8_t *p, size_t n)
{
    uint8_t uuid[16];
    uint64_t gno;
    tr_maria_gtid_t g;
    uint8_t flags2;
    const char *why = NULL;
    (void)tr_gtid_peek_mysql(p, n, uuid, &gno, &why);
    (void)tr_gtid_peek_maria(p, n, &g, &flags2, &why);
    (void)tr_gtid_peek_is_commit(p, n, true);
    (void)tr_gtid_peek_is_commit(p, n, false);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    /* Copy so every decoder sees an exact-size buffer. */
    size_t n = size - 1;
    uint8_t *p = malloc(n ? n : 1);
    memcpy(p, data + 1, n);
    switch (data[0] & 3) {
    case 0:
        text_set(p, n);
        break;
    case 1:
        binary_set(p, n);
        break;
    case 2:
        maria_list(p, n);
        break;
    default:
        peeks(p, n);
        break;
    }
    free(p);
    return 0;
}
