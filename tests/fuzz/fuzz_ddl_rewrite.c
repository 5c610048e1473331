/*
 * Fuzz target: the TiDB DDL dialect rewriter (protocol/ddl_rewrite.c). The first
 * byte picks the flavour (bit 0), the rest is the DDL text as a DDL binlog or a
 * history job would carry it. Checks: a valid verdict, a reason for every
 * verdict but WRITE, and a WRITE output no larger than the replacements allow
 * (each token grows by at most 22 bytes: INVISIBLE/VISIBLE, collation names).
 */
#include "fuzz.h"

#include <string.h>

#include "common/buf.h"
#include "protocol/ddl_rewrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    tr_flavor_t f = (data[0] & 1) ? TR_FLAVOR_MARIADB : TR_FLAVOR_MYSQL;
    const char *sql = (const char *)data + 1;
    size_t len = size - 1;
    tr_buf_t out;
    tr_buf_init(&out, 0);
    const char *why = NULL;
    tr_ddl_verdict_t v = tr_ddl_rewrite(sql, len, f, &out, &why);
    FUZZ_CHECK(v == TR_DDL_WRITE || v == TR_DDL_SKIP || v == TR_DDL_UNSUPPORTED);
    if (v == TR_DDL_WRITE) {
        FUZZ_CHECK(why == NULL);
        FUZZ_CHECK(out.len <= len + 22 * (len / 2 + 1));
    } else {
        FUZZ_CHECK(why != NULL && why[0] != '\0');
    }
    tr_buf_cleanup(&out);
    return 0;
}
