/* TiDB Binlog protobuf reading (stub; being implemented). Pure codec. */
#include "protocol/tidb_binlog.h"

#include "common/err.h"

ssize_t tr_tidb_binlog_decode(const uint8_t *p, size_t len, tr_tidb_binlog_t *out,
                              const char **why)
{
    *why = "not implemented";
    return TR_EUNSUPPORTED;
}

int tr_tidb_pull_resp_payload(const uint8_t *p, size_t len, tr_slice_t *payload, const char **why)
{
    *why = "not implemented";
    return TR_EUNSUPPORTED;
}

void tr_tidb_pull_req_encode(tr_buf_t *out, uint64_t cluster_id, int64_t offset)
{
}

int tr_tidb_prewrite_decode(const uint8_t *p, size_t len, tr_arena_t *arena,
                            tr_tidb_prewrite_t *out, const char **why)
{
    *why = "not implemented";
    return TR_EUNSUPPORTED;
}
