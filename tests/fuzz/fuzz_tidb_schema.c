/*
 * Fuzz target: DDL-job and TableInfo JSON (protocol/tidb_schema.c), the
 * job_meta of mysql.tidb_ddl_history rows and the status API's table JSON,
 * and the schema tracker that applies jobs (relay/schema.c). Every column of a
 * parsed table is looked up by id.
 */
#include "fuzz.h"

#include "protocol/tidb_schema.h"
#include "relay/schema.h"

static void use_table(const tr_table_info_t *t)
{
    if (t == NULL) {
        return;
    }
    for (int64_t id = -1; id < 8; id++) {
        (void)tr_table_info_col(t, id);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    const char *why = NULL;
    tr_ddl_job_t job;
    if (tr_ddl_job_parse(json, size, &job, &why) == 0) {
        use_table(job.table_info);
    } else {
        FUZZ_CHECK(why != NULL);
    }
    tr_ddl_job_cleanup(&job);

    tr_table_info_t *t = tr_table_info_parse(json, size, &why);
    use_table(t);
    tr_table_info_free(t);

    /* The tracker: the job as the history's first row, then an advance to its version. */
    tr_schema_t *s = tr_schema_new();
    if (tr_schema_add_job(s, 1, json, size, &why) == 0) {
        int64_t v = tr_schema_max_version(s);
        if (tr_schema_advance(s, v, &why) == 0) {
            (void)tr_schema_db_name(s, 1);
        }
    }
    tr_schema_free(s);
    return 0;
}
