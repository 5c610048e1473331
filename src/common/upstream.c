/* tr_upstream_status_t helpers (common/upstream.h). */
#include "common/upstream.h"

#include "common/mem.h"

const char *tr_upstream_err_name(tr_upstream_err_t kind)
{
    static const char *const names[TR_UPSTREAM_ERR_COUNT] = {
        "malformed_binlog", "binlog_dropped", "merge_refused",
        "schema",           "translate",      "store",
    };
    return (unsigned)kind < TR_UPSTREAM_ERR_COUNT ? names[kind] : "unknown";
}

void tr_upstream_status_cleanup(tr_upstream_status_t *st)
{
    tr_free(st->sources);
    st->sources = NULL;
    st->n_sources = 0;
}
