/* TiDB transaction -> binlog events (stub; being implemented). Pure. */
#include "relay/translate.h"

#include "common/err.h"

int tr_translate_txn(const tr_tidb_binlog_t *b, tr_schema_t *schema, const tr_txn_ctx_t *ctx,
                     tr_evt_writer_t *w, tr_arena_t *arena, const char **why)
{
    *why = "not implemented";
    return TR_EUNSUPPORTED;
}

bool tr_translate_skips(const tr_tidb_binlog_t *b, const tr_schema_t *schema)
{
    return false;
}
