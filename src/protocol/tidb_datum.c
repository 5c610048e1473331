/* TiDB datum codec (stub; being implemented). Pure codec. */
#include "protocol/tidb_datum.h"

#include "common/err.h"

ssize_t tr_datum_decode(const uint8_t *p, size_t len, tr_datum_t *out, const char **why)
{
    *why = "not implemented";
    return TR_EUNSUPPORTED;
}
