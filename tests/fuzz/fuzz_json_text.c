/*
 * Fuzz target: JSON text -> MySQL binary JSON (protocol/json_binary.c tr_json_text_to_mysql),
 * the conversion of the JSON column values of TiCDC's canal-json; the input is the text.
 * Every verdict is 0, TR_EMALFORMED or TR_ETOOBIG, an error with a reason. When the text
 * converts, the output is read back (tests/unit/json_mysql_read.h checks the layout
 * json_binary.cc writes and rewrites the document in TiDB's form), and
 *  - tr_json_to_mysql re-encodes what was read to the very same bytes;
 *  - tr_json_to_text prints it as TiDB does, that text converts as well, and from there on
 *    the conversion is stable (printing and converting again gives the same bytes and text:
 *    only the first round may turn an integral double such as 1.0 into an integer);
 *  - an output limit one byte short of the document is TR_ETOOBIG.
 */
#include "fuzz.h"

#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "protocol/json_binary.h"

#include "../unit/json_mysql_read.h"

static bool same(const tr_buf_t *a, const tr_buf_t *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* text -> mysql, read back and checked; its TiDB text into canon. Returns the verdict. */
static int convert(const uint8_t *text, size_t len, tr_buf_t *mysql, tr_buf_t *canon)
{
    const char *why = NULL;
    int r = tr_json_text_to_mysql(mysql, text, len, &why);
    FUZZ_CHECK(r == 0 || r == TR_EMALFORMED || r == TR_ETOOBIG);
    FUZZ_CHECK(r == 0 || (why != NULL && why[0] != '\0'));
    if (r != 0) {
        return r;
    }
    tr_buf_t tidb;
    tr_buf_t again;
    tr_buf_init(&tidb, 0);
    tr_buf_init(&again, 0);
    int rr = tr_test_mysql_json_to_tidb(mysql->data, mysql->len, &tidb, &why);
    if (rr != 0) {
        fprintf(stderr, "read back: %s\n", why);
    }
    FUZZ_CHECK(rr == 0);
    FUZZ_CHECK(tr_json_to_mysql(&again, tidb.data, tidb.len, &why) == 0);
    FUZZ_CHECK(same(&again, mysql));
    FUZZ_CHECK(tr_json_to_text(canon, tidb.data, tidb.len, &why) == 0);
    tr_buf_cleanup(&tidb);
    tr_buf_cleanup(&again);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tr_buf_t m[3];
    tr_buf_t t[3];
    for (int i = 0; i < 3; i++) {
        tr_buf_init(&m[i], 0);
        tr_buf_init(&t[i], 0);
    }
    if (convert(data, size, &m[0], &t[0]) == 0) {
        FUZZ_CHECK(convert(t[0].data, t[0].len, &m[1], &t[1]) == 0);
        FUZZ_CHECK(convert(t[1].data, t[1].len, &m[2], &t[2]) == 0);
        FUZZ_CHECK(same(&m[2], &m[1]));
        FUZZ_CHECK(same(&t[2], &t[1]));
        tr_buf_t small;
        tr_buf_init(&small, m[0].len - 1); /* >= 1: a document has at least 2 bytes */
        const char *why = NULL;
        FUZZ_CHECK(tr_json_text_to_mysql(&small, data, size, &why) == TR_ETOOBIG && why != NULL);
        tr_buf_cleanup(&small);
    }
    for (int i = 0; i < 3; i++) {
        tr_buf_cleanup(&m[i]);
        tr_buf_cleanup(&t[i]);
    }
    return 0;
}
