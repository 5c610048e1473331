/* Schema history tracker (stub; being implemented). Pure. */
#include "relay/schema.h"

#include "common/err.h"
#include "common/mem.h"

struct tr_schema {
    int64_t max_job_id;
};

tr_schema_t *tr_schema_new(void)
{
    return tr_calloc(1, sizeof(tr_schema_t));
}

void tr_schema_free(tr_schema_t *s)
{
    tr_free(s);
}

int tr_schema_add_job(tr_schema_t *s, int64_t job_id, const char *json, size_t len,
                      const char **why)
{
    *why = "not implemented";
    return TR_EUNSUPPORTED;
}

int tr_schema_advance(tr_schema_t *s, int64_t version, const char **why)
{
    return 0;
}

const tr_table_info_t *tr_schema_table(const tr_schema_t *s, int64_t table_id)
{
    return NULL;
}

const char *tr_schema_db_name(const tr_schema_t *s, int64_t schema_id)
{
    return NULL;
}

const tr_ddl_job_t *tr_schema_job(const tr_schema_t *s, int64_t job_id)
{
    return NULL;
}

int64_t tr_schema_max_job_id(const tr_schema_t *s)
{
    return s->max_job_id;
}

int64_t tr_schema_max_version(const tr_schema_t *s)
{
    return 0;
}

int64_t tr_schema_applied_version(const tr_schema_t *s)
{
    return 0;
}
