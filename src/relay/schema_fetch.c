/* DDL history fetch over libmariadb (stub; being implemented). */
#include "relay/schema_fetch.h"

#include "common/err.h"
#include "common/mem.h"

struct tr_schema_fetch {
    const tr_config_t *cfg;
};

tr_schema_fetch_t *tr_schema_fetch_new(const tr_config_t *cfg)
{
    tr_schema_fetch_t *f = tr_calloc(1, sizeof(*f));
    f->cfg = cfg;
    return f;
}

void tr_schema_fetch_free(tr_schema_fetch_t *f)
{
    tr_free(f);
}

int tr_schema_fetch_new_jobs(tr_schema_fetch_t *f, tr_schema_t *s, const char **why)
{
    *why = "not implemented";
    return TR_EUPSTREAM;
}
