/* TiDB DDL job / TableInfo JSON (stub; being implemented). Pure codec. */
#include "protocol/tidb_schema.h"

#include <string.h>

#include "common/err.h"

int tr_ddl_job_parse(const char *json, size_t len, tr_ddl_job_t *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    *why = "not implemented";
    return TR_EUNSUPPORTED;
}

void tr_ddl_job_cleanup(tr_ddl_job_t *job)
{
}
