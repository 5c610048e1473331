/* Unit tests for relay/filter.c: rule syntax, MySQL's evaluation order for
 * tables and database-level statements, LIKE patterns, renames, the per-table
 * cache, DDL job verdicts (RENAME across the filter boundary) and the renaming
 * of names in DDL text; and [filter] in common/config.c. */
#include "tr_test.h"

#include "common/err.h"
#include "common/mem.h"
#include "common/config.h"
#include "relay/filter.h"
#include "relay/schema.h"

/* Builds a filter from "key=rule" strings. */
static tr_filter_t *make(const char *const *rules, size_t n)
{
    tr_filter_rule_t fr[16];
    memset(fr, 0, sizeof(fr));
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(rules[i], '=');
        bool found = false;
        for (int k = 0; k < TR_FILTER_KIND_COUNT; k++) {
            const char *key = tr_config_filter_key((tr_filter_kind_t)k);
            if (strlen(key) == (size_t)(eq - rules[i]) && strncmp(rules[i], key, strlen(key)) == 0) {
                fr[i].kind = (tr_filter_kind_t)k;
                found = true;
            }
        }
        EXPECT_TRUE(found);
        snprintf(fr[i].text, sizeof(fr[i].text), "%s", eq + 1);
    }
    tr_filter_t *f = NULL;
    size_t bad = 0;
    const char *why = NULL;
    int rc = tr_filter_new(fr, n, &f, &bad, &why);
    if (rc != 0) {
        TR_FAIL_AT("rule %zu: %s", bad, why);
    }
    return f;
}

#define MAKE(...)                                                                                  \
    make((const char *const[]){__VA_ARGS__}, sizeof((const char *const[]){__VA_ARGS__}) /         \
                                                 sizeof(const char *))

#define KEPT(f, db, t)  EXPECT_TRUE(tr_filter_table_kept((f), (db), (t)))
#define DROP(f, db, t)  EXPECT_TRUE(!tr_filter_table_kept((f), (db), (t)))
#define DBKEPT(f, db)   EXPECT_TRUE(tr_filter_db_kept((f), (db)))
#define DBDROP(f, db)   EXPECT_TRUE(!tr_filter_db_kept((f), (db)))

TR_TEST(rule_syntax)
{
    static const struct {
        tr_filter_kind_t kind;
        const char *text;
        bool ok;
    } cases[] = {
        {TR_FILTER_DO_DB, "app", true},
        {TR_FILTER_DO_DB, "app.t", false},       /* a table: do-table */
        {TR_FILTER_DO_DB, "", false},
        {TR_FILTER_DO_DB, "`app`", false},
        {TR_FILTER_DO_DB, "mysql", false},       /* system schemas never replicate */
        {TR_FILTER_DO_DB, "Information_Schema", false},
        {TR_FILTER_IGNORE_DB, "mysql", true},    /* harmless */
        {TR_FILTER_IGNORE_DB, "中文库", true},
        {TR_FILTER_DO_TABLE, "app.t", true},
        {TR_FILTER_DO_TABLE, "app", false},
        {TR_FILTER_DO_TABLE, "app.", false},
        {TR_FILTER_DO_TABLE, ".t", false},
        {TR_FILTER_DO_TABLE, "a.b.c", false},
        {TR_FILTER_DO_TABLE, "sys.t", false},
        {TR_FILTER_IGNORE_TABLE, "app.t", true},
        {TR_FILTER_WILD_DO_TABLE, "app%.t_%", true},
        {TR_FILTER_WILD_DO_TABLE, "%.%", true},
        {TR_FILTER_WILD_DO_TABLE, "app\\.x.%", true},  /* escaped dot in the db part */
        {TR_FILTER_WILD_DO_TABLE, "app%", false},       /* no dot */
        {TR_FILTER_WILD_DO_TABLE, "a.b.c", false},
        {TR_FILTER_WILD_DO_TABLE, "a.b\\", false},
        {TR_FILTER_WILD_IGNORE_TABLE, ".%", false},
        {TR_FILTER_REWRITE_DB, "a->b", true},
        {TR_FILTER_REWRITE_DB, " a -> b ", false},      /* config trims the whole rule only */
        {TR_FILTER_REWRITE_DB, "a -> b", true},
        {TR_FILTER_REWRITE_DB, "a->", false},
        {TR_FILTER_REWRITE_DB, "->b", false},
        {TR_FILTER_REWRITE_DB, "a=>b", false},
        {TR_FILTER_REWRITE_DB, "a->b->c", false},
        {TR_FILTER_REWRITE_DB, "a.t->b", false},
        {TR_FILTER_REWRITE_DB, "mysql->b", false},
        {TR_FILTER_REWRITE_DB, "a->performance_schema", false},
        {TR_FILTER_REWRITE_TABLE, "a.t->b.u", true},
        {TR_FILTER_REWRITE_TABLE, "a.t->u", false},
        {TR_FILTER_REWRITE_TABLE, "a->b", false},
        {(tr_filter_kind_t)99, "x", false},
    };
    for (size_t i = 0; i < TR_ARRAY_LEN(cases); i++) {
        const char *why = NULL;
        int rc = tr_filter_rule_check(cases[i].kind, cases[i].text, &why);
        if ((rc == 0) != cases[i].ok) {
            TR_FAIL_AT("case %zu '%s': rc %d why %s", i, cases[i].text, rc, why ? why : "-");
        }
        EXPECT_TRUE(rc == 0 ? why == NULL : why != NULL);
    }
}

TR_TEST(no_rules_keeps_all_but_system_schemas)
{
    tr_filter_t *f = make(NULL, 0);
    EXPECT_TRUE(!tr_filter_has_rules(f));
    KEPT(f, "app", "t");
    DBKEPT(f, "app");
    static const char *const sys[] = {"mysql", "MySQL", "sys", "information_schema",
                                      "PERFORMANCE_SCHEMA", "metrics_schema", "INSPECTION_SCHEMA"};
    for (size_t i = 0; i < TR_ARRAY_LEN(sys); i++) {
        DROP(f, sys[i], "t");
        DBDROP(f, sys[i]);
        DROP(NULL, sys[i], "t");
    }
    KEPT(NULL, "app", "t");
    KEPT(f, "mysqlx", "t");
    EXPECT_EQ_STR(tr_filter_db_name(f, "app"), "app");
    tr_filter_free(f);
    tr_filter_free(NULL);
}

TR_TEST(database_rules)
{
    tr_filter_t *f = MAKE("do-db=app", "do-db=Billing", "ignore-db=app"); /* do-db wins */
    KEPT(f, "app", "t");
    KEPT(f, "APP", "t");
    KEPT(f, "billing", "x");
    DROP(f, "other", "t");
    DBKEPT(f, "app");
    DBDROP(f, "other");
    DROP(f, "mysql", "user");
    tr_filter_free(f);

    f = MAKE("ignore-db=scratch", "ignore-db=tmp");
    KEPT(f, "app", "t");
    DROP(f, "scratch", "t");
    DROP(f, "TMP", "t");
    DBDROP(f, "scratch");
    DBKEPT(f, "app");
    tr_filter_free(f);
}

TR_TEST(table_rules_in_mysql_order)
{
    /* do-table beats ignore-table; ignore-table beats wild-do-table; wild-do beats wild-ignore */
    tr_filter_t *f = MAKE("do-table=app.a", "ignore-table=app.a", "ignore-table=app.b",
                          "wild-do-table=app.%", "wild-ignore-table=app.c%");
    KEPT(f, "app", "a");
    DROP(f, "app", "b");
    KEPT(f, "app", "c1"); /* wild-do-table app.% comes before wild-ignore-table */
    KEPT(f, "app", "zz");
    DROP(f, "other", "a"); /* a do list exists and nothing matched */
    tr_filter_free(f);

    /* only ignore rules: everything else is kept */
    f = MAKE("ignore-table=app.sessions", "wild-ignore-table=%.tmp\\_%");
    DROP(f, "app", "sessions");
    KEPT(f, "app", "users");
    DROP(f, "x", "tmp_1");
    KEPT(f, "x", "tmpa"); /* \\_ is a literal underscore */
    DBKEPT(f, "app");
    tr_filter_free(f);

    /* database rules come first */
    f = MAKE("ignore-db=app", "do-table=app.t");
    DROP(f, "app", "t");
    DROP(f, "other", "t");
    tr_filter_free(f);
}

TR_TEST(like_patterns)
{
    tr_filter_t *f = MAKE("wild-do-table=db_.t%x", "wild-do-table=lit\\%.a\\_b",
                          "wild-do-table=中_.%");
    KEPT(f, "db1", "tx");
    KEPT(f, "DBz", "T123X");
    KEPT(f, "db1", "txx");
    DROP(f, "db", "tx");   /* _ needs one character */
    DROP(f, "db12", "tx");
    DROP(f, "db1", "txy");
    KEPT(f, "lit%", "a_b");
    DROP(f, "lita", "a_b");
    DROP(f, "lit%", "axb");
    KEPT(f, "中文", "t"); /* _ is one character, not one byte */
    DROP(f, "中", "t");
    tr_filter_free(f);

    f = MAKE("wild-do-table=%%a%b%.%");
    KEPT(f, "ab", "t");
    KEPT(f, "xaxxbx", "t");
    DROP(f, "ba", "t");
    tr_filter_free(f);
}

TR_TEST(database_statements)
{
    /* CREATE DATABASE app happens when some table of app may replicate */
    tr_filter_t *f = MAKE("do-table=app.t", "wild-do-table=logs%.%");
    DBKEPT(f, "app");
    DBKEPT(f, "logs2024");
    DBDROP(f, "other");
    tr_filter_free(f);

    f = MAKE("wild-ignore-table=junk.%", "wild-ignore-table=app.tmp%");
    DBDROP(f, "junk");
    DBKEPT(f, "app"); /* only some of its tables are ignored */
    DBKEPT(f, "x");
    tr_filter_free(f);
}

TR_TEST(renames)
{
    tr_filter_t *f = MAKE("rewrite-db=app->app2", "rewrite-table=app.t->crm.customers",
                          "rewrite-table=x.y->x.z");
    EXPECT_EQ_STR(tr_filter_db_name(f, "app"), "app2");
    EXPECT_EQ_STR(tr_filter_db_name(f, "APP"), "app2");
    EXPECT_EQ_STR(tr_filter_db_name(f, "other"), "other");
    const char *d = NULL;
    const char *t = NULL;
    tr_filter_table_name(f, "app", "T", &d, &t);
    EXPECT_EQ_STR(d, "crm");
    EXPECT_EQ_STR(t, "customers");
    tr_filter_table_name(f, "app", "u", &d, &t);
    EXPECT_EQ_STR(d, "app2");
    EXPECT_EQ_STR(t, "u");
    tr_filter_table_name(f, "x", "y", &d, &t);
    EXPECT_EQ_STR(d, "x");
    EXPECT_EQ_STR(t, "z");
    tr_filter_free(f);

    /* a source renamed twice is refused, with the rule's index */
    tr_filter_rule_t fr[3] = {{TR_FILTER_REWRITE_DB, 1, "a->b"},
                              {TR_FILTER_REWRITE_DB, 2, "c->d"},
                              {TR_FILTER_REWRITE_DB, 3, "A->e"}};
    size_t bad = 0;
    const char *why = NULL;
    tr_filter_t *g = NULL;
    EXPECT_EQ_INT(tr_filter_new(fr, 3, &g, &bad, &why), TR_ECONFIG);
    EXPECT_TRUE(g == NULL);
    EXPECT_EQ_INT(bad, 2);
    EXPECT_TRUE(why != NULL && strstr(why, "renamed twice") != NULL);
    fr[2].text[0] = 'x';
    EXPECT_EQ_INT(tr_filter_new(fr, 3, &g, &bad, &why), 0);
    tr_filter_free(g);
    tr_filter_rule_t bad_rule = {TR_FILTER_DO_TABLE, 1, "nodot"};
    EXPECT_EQ_INT(tr_filter_new(&bad_rule, 1, &g, &bad, &why), TR_ECONFIG);
    EXPECT_EQ_INT(bad, 0);
}

TR_TEST(cache_by_table_id)
{
    tr_filter_t *f = MAKE("ignore-table=app.b", "rewrite-db=app->z");
    char names[300][8];
    /* many tables: the cache grows; each answer is stable on a second pass */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < 300; i++) {
            snprintf(names[i], sizeof(names[i]), "%s", i % 3 == 0 ? "b" : "a");
            const tr_filter_entry_t *e = tr_filter_lookup(f, 7, 1000 + i, "app", names[i]);
            EXPECT_EQ_INT(e->table_id, 1000 + i);
            EXPECT_EQ_INT(e->kept, i % 3 != 0);
            EXPECT_EQ_STR(e->db, "z");
            EXPECT_EQ_STR(e->table, names[i]);
        }
    }
    /* the same id under a new generation (schema change: renamed) is looked up again */
    const tr_filter_entry_t *e = tr_filter_lookup(f, 7, 1000, "app", "a");
    EXPECT_TRUE(!e->kept); /* cached: still b's answer in generation 7 */
    e = tr_filter_lookup(f, 8, 1000, "app", "a");
    EXPECT_TRUE(e->kept);
    e = tr_filter_lookup(f, 8, 0, "app", "b"); /* not cacheable ids still answer */
    EXPECT_TRUE(!e->kept);
    tr_filter_free(f);
}

/* ---------------------------------------------------------------- DDL jobs */

static const char *job_db_app =
    "{\"id\":2,\"type\":1,\"schema_id\":1,\"schema_name\":\"app\",\"state\":6,"
    "\"query\":\"CREATE DATABASE app\",\"binlog\":{\"SchemaVersion\":10,"
    "\"DBInfo\":{\"id\":1,\"db_name\":{\"O\":\"app\",\"L\":\"app\"}},\"TableInfo\":null}}";
static const char *job_db_junk =
    "{\"id\":3,\"type\":1,\"schema_id\":2,\"schema_name\":\"junk\",\"state\":6,"
    "\"query\":\"CREATE DATABASE junk\",\"binlog\":{\"SchemaVersion\":11,"
    "\"DBInfo\":{\"id\":2,\"db_name\":{\"O\":\"junk\",\"L\":\"junk\"}},\"TableInfo\":null}}";
#define TABLE_JOB(id, type, sid, sname, tid, tname, ver)                                           \
    "{\"id\":" #id ",\"type\":" #type ",\"schema_id\":" #sid ",\"table_id\":" #tid                 \
    ",\"schema_name\":\"" sname "\",\"table_name\":\"" tname "\",\"state\":6,\"query\":\"x\","     \
    "\"binlog\":{\"SchemaVersion\":" #ver ",\"TableInfo\":{\"id\":" #tid ",\"name\":{\"O\":\""     \
    tname "\"},\"cols\":[{\"id\":1,\"name\":{\"O\":\"id\"},\"offset\":0,\"state\":5,"              \
    "\"type\":{\"Tp\":3,\"Flag\":0,\"Flen\":11,\"Decimal\":0}}]}}}"

static tr_schema_t *jobs_schema(void)
{
    tr_schema_t *s = tr_schema_new();
    const char *why = NULL;
    const char *t1 = TABLE_JOB(4, 3, 1, "app", 50, "keep", 12);
    const char *t2 = TABLE_JOB(5, 3, 1, "app", 51, "secret", 13);
    EXPECT_EQ_INT(tr_schema_add_job(s, 2, job_db_app, strlen(job_db_app), &why), 0);
    EXPECT_EQ_INT(tr_schema_add_job(s, 3, job_db_junk, strlen(job_db_junk), &why), 0);
    EXPECT_EQ_INT(tr_schema_add_job(s, 4, t1, strlen(t1), &why), 0);
    EXPECT_EQ_INT(tr_schema_add_job(s, 5, t2, strlen(t2), &why), 0);
    EXPECT_EQ_INT(tr_schema_advance(s, 13, &why), 0);
    return s;
}

static tr_filter_job_t verdict(tr_filter_t *f, tr_schema_t *s, const char *json, const char **db)
{
    tr_ddl_job_t j;
    memset(&j, 0, sizeof(j));
    const char *why = NULL;
    EXPECT_EQ_INT(tr_ddl_job_parse(json, strlen(json), &j, &why), 0);
    static char db_copy[64];
    const char *d = NULL;
    tr_filter_job_t v = tr_filter_job(f, s, &j, &d, &why);
    EXPECT_TRUE((v == TR_FILTER_JOB_CROSS) == (why != NULL));
    snprintf(db_copy, sizeof(db_copy), "%s", d != NULL ? d : "(null)");
    *db = db_copy;
    tr_ddl_job_cleanup(&j);
    return v;
}

TR_TEST(ddl_job_verdicts)
{
    tr_schema_t *s = jobs_schema();
    tr_filter_t *f = MAKE("ignore-db=junk", "ignore-table=app.secret", "rewrite-db=app->app2");
    const char *db = NULL;
    EXPECT_EQ_INT(verdict(f, s, job_db_app, &db), TR_FILTER_JOB_KEEP);
    EXPECT_EQ_INT(verdict(f, s, job_db_junk, &db), TR_FILTER_JOB_DROP);
    EXPECT_EQ_INT(verdict(f, s, TABLE_JOB(6, 5, 1, "app", 50, "keep", 14), &db),
                  TR_FILTER_JOB_KEEP); /* ADD COLUMN */
    EXPECT_EQ_STR(db, "app2");
    EXPECT_EQ_INT(verdict(f, s, TABLE_JOB(7, 5, 1, "app", 51, "secret", 14), &db),
                  TR_FILTER_JOB_DROP);
    EXPECT_EQ_INT(verdict(f, s, TABLE_JOB(8, 3, 2, "junk", 60, "x", 14), &db), TR_FILTER_JOB_DROP);
    /* RENAME TABLE app.keep -> app.kept2: both kept */
    EXPECT_EQ_INT(verdict(f, s, TABLE_JOB(9, 14, 1, "app", 50, "kept2", 14), &db),
                  TR_FILTER_JOB_KEEP);
    /* RENAME TABLE app.keep -> junk.k whose job names the old database: schema_id decides */
    EXPECT_EQ_INT(verdict(f, s, TABLE_JOB(10, 14, 2, "app", 50, "k", 14), &db),
                  TR_FILTER_JOB_CROSS);
    /* RENAME TABLE app.keep -> junk.k: leaves the replicated set */
    EXPECT_EQ_INT(verdict(f, s, TABLE_JOB(10, 14, 2, "junk", 50, "k", 14), &db),
                  TR_FILTER_JOB_CROSS);
    /* RENAME TABLE app.secret -> app.open: enters it */
    EXPECT_EQ_INT(verdict(f, s, TABLE_JOB(11, 14, 1, "app", 51, "open", 14), &db),
                  TR_FILTER_JOB_CROSS);
    /* RENAME TABLE app.secret -> junk.s: stays out */
    EXPECT_EQ_INT(verdict(f, s, TABLE_JOB(12, 14, 2, "junk", 51, "s", 14), &db),
                  TR_FILTER_JOB_DROP);
    /* RENAME TABLES app.keep -> app.k2, app.secret -> junk.s2: the statement names a
     * filtered table, so replicas cannot run it whole (CROSS); keep -> k2 alone is fine */
    const char *multi_ok =
        "{\"id\":13,\"type\":47,\"schema_id\":1,\"table_id\":50,\"schema_name\":\"app\","
        "\"state\":6,\"query\":\"x\",\"raw_args\":[[1,1],[1,2],[\"k2\",\"s2\"]],"
        "\"binlog\":{\"SchemaVersion\":14,\"MultipleTableInfos\":["
        "{\"id\":50,\"name\":{\"O\":\"k2\"},\"cols\":[]},{\"id\":51,\"name\":{\"O\":\"s2\"},\"cols\":[]}]}}";
    tr_ddl_job_t j;
    const char *why = NULL;
    memset(&j, 0, sizeof(j));
    EXPECT_EQ_INT(tr_ddl_job_parse(multi_ok, strlen(multi_ok), &j, &why), 0);
    if (j.n_new_schema_ids == 2) {
        const char *d = NULL;
        EXPECT_EQ_INT(tr_filter_job(f, s, &j, &d, &why), TR_FILTER_JOB_CROSS); /* app.k2 + junk.s2 */
        j.new_schema_ids[1] = 1; /* secret -> app.s2: app.s2 is kept, secret was not */
        EXPECT_EQ_INT(tr_filter_job(f, s, &j, &d, &why), TR_FILTER_JOB_CROSS);
        j.n_multi = 1; /* only keep -> app.k2 */
        EXPECT_EQ_INT(tr_filter_job(f, s, &j, &d, &why), TR_FILTER_JOB_KEEP);
        j.n_multi = 2;
    } else {
        TR_FAIL_AT("raw_args newSchemaIDs not parsed (%zu)", j.n_new_schema_ids);
    }
    tr_ddl_job_cleanup(&j);
    tr_filter_free(f);

    /* no rules: everything is kept, the default database as is */
    f = make(NULL, 0);
    EXPECT_EQ_INT(verdict(f, s, TABLE_JOB(6, 5, 1, "app", 50, "keep", 14), &db), TR_FILTER_JOB_KEEP);
    EXPECT_EQ_STR(db, "app");
    tr_filter_free(f);
    tr_schema_free(s);
}

/* ---------------------------------------------------------------- DDL text */

static int rewrite(const tr_filter_t *f, const char *db, const char *sql, char *out, size_t cap,
                   const char **why)
{
    tr_buf_t b;
    tr_buf_init(&b, 0);
    int rc = tr_filter_ddl_text(f, db, sql, strlen(sql), &b, why);
    snprintf(out, cap, "%.*s", (int)b.len, (const char *)b.data);
    tr_buf_cleanup(&b);
    return rc;
}

TR_TEST(ddl_text_renames)
{
    tr_filter_t *f = MAKE("rewrite-db=app->app2", "rewrite-table=app.users->crm.customers",
                          "ignore-db=junk", "ignore-table=app.secret");
    static const struct {
        const char *db;
        const char *in;
        const char *out; /* NULL: same as in */
        bool ok;
    } cases[] = {
        {"app", "ALTER TABLE `t` ADD COLUMN `c` INT", NULL, true},
        {"app", "CREATE TABLE `app`.`t` (`id` INT)", "CREATE TABLE `app2`.`t` (`id` INT)", true},
        {"app", "CREATE TABLE app.t LIKE `APP`.`t0`", "CREATE TABLE `app2`.t LIKE `app2`.`t0`", true},
        {"", "CREATE DATABASE `app` CHARACTER SET utf8mb4", "CREATE DATABASE `app2` CHARACTER SET utf8mb4", true},
        {"", "CREATE DATABASE IF NOT EXISTS app", "CREATE DATABASE IF NOT EXISTS `app2`", true},
        {"", "DROP DATABASE IF EXISTS `app`", "DROP DATABASE IF EXISTS `app2`", true},
        {"app", "ALTER DATABASE `app` COLLATE utf8mb4_bin", "ALTER DATABASE `app2` COLLATE utf8mb4_bin", true},
        /* strings and comments are never looked into */
        {"app", "ALTER TABLE `t` COMMENT 'app.users' /* app.users */", NULL, true},
        {"app", "ALTER TABLE `users` ADD COLUMN `x` INT", "ALTER TABLE `crm`.`customers` ADD COLUMN `x` INT", true},
        {"app", "ALTER TABLE `app`.`users` ADD INDEX `i` (`x`)", "ALTER TABLE `crm`.`customers` ADD INDEX `i` (`x`)", true},
        {"app", "CREATE TABLE IF NOT EXISTS users (id INT)", "CREATE TABLE IF NOT EXISTS `crm`.`customers` (id INT)", true},
        {"app", "RENAME TABLE `t1` TO `users`, `app`.`a` TO `other`.`b`",
         "RENAME TABLE `t1` TO `crm`.`customers`, `app2`.`a` TO `other`.`b`", true},
        {"app", "CREATE INDEX i ON users (x)", "CREATE INDEX i ON `crm`.`customers` (x)", true},
        {"app", "ALTER TABLE `t` RENAME INDEX `users` TO `b`", NULL, false}, /* users: index name? */
        {"app", "CREATE TABLE `t` (`users` INT)", NULL, false},
        {"app", "ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES `users` (id)",
         "ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES `crm`.`customers` (id)", true},
        {"app", "TRUNCATE TABLE `app`.`t`", "TRUNCATE TABLE `app2`.`t`", true},
        {"app", "DROP TABLE IF EXISTS `t`, `u`", NULL, true},
        /* views: FROM/JOIN names are tables, 3-part names are db.table.column */
        {"app", "CREATE VIEW `v` AS SELECT `app`.`t`.`id` FROM `app`.`t` JOIN x ON 1",
         "CREATE VIEW `v` AS SELECT `app2`.`t`.`id` FROM `app2`.`t` JOIN x ON 1", true},
        {"app", "CREATE VIEW `v` AS SELECT `t`.`id` FROM `t`", NULL, true},
        {"app", "CREATE VIEW `v` AS SELECT `app`.`id` FROM `t`", NULL, false}, /* app.id: ? */
        /* references to what the filter drops */
        {"app", "CREATE TABLE `t` LIKE `junk`.`t`", NULL, false},
        {"app", "CREATE TABLE `t` LIKE `secret`", NULL, false},
        {"app", "ALTER TABLE `t` ADD FOREIGN KEY (a) REFERENCES `app`.`secret` (id)",
         "ALTER TABLE `t` ADD FOREIGN KEY (a) REFERENCES `app2`.`secret` (id)", false},
        {"app", "CREATE TABLE `t` (`a` INT) COMMENT 'x", NULL, false}, /* unterminated */
        {"a`b", "ALTER TABLE `x``y` ADD `c` INT", NULL, true},
    };
    for (size_t i = 0; i < TR_ARRAY_LEN(cases); i++) {
        char out[512];
        const char *why = NULL;
        int rc = rewrite(f, cases[i].db, cases[i].in, out, sizeof(out), &why);
        const char *want = cases[i].out != NULL ? cases[i].out : cases[i].in;
        if ((rc == 0) != cases[i].ok || strcmp(out, want) != 0) {
            TR_FAIL_AT("case %zu: rc %d (%s)\n  in:   %s\n  out:  %s\n  want: %s", i, rc,
                       why ? why : "-", cases[i].in, out, want);
        }
        EXPECT_TRUE(rc == 0 ? why == NULL : why != NULL);
    }
    tr_filter_free(f);

    /* a table renamed into the same database keeps the default database */
    f = MAKE("rewrite-table=app.a->app.b", "rewrite-db=x->y");
    char out[256];
    const char *why = NULL;
    EXPECT_EQ_INT(rewrite(f, "app", "ALTER TABLE a ADD c INT", out, sizeof(out), &why), 0);
    EXPECT_EQ_STR(out, "ALTER TABLE `app`.`b` ADD c INT");
    EXPECT_EQ_INT(rewrite(f, "x", "ALTER TABLE a ADD c INT", out, sizeof(out), &why), 0);
    EXPECT_EQ_STR(out, "ALTER TABLE a ADD c INT"); /* x.a: default db x becomes y */
    tr_filter_free(f);
}

/* ---------------------------------------------------------------- config */

static int parse(const char *text, tr_config_t *c, char *err, size_t n)
{
    tr_config_defaults(c);
    return tr_config_parse(c, text, "t.cnf", &tr_filter_config_checks, err, n);
}

#define BASE "[upstream]\npumps = 127.0.0.1:8250\ntidb = u:p@127.0.0.1:4000\n[users]\nrepl = pw\n"

TR_TEST(config_filter_section)
{
    static tr_config_t c;
    char err[4096];
    int rc = parse(BASE "[filter]\ndo-db = app, billing\ndo-db = crm\n"
                        "wild-ignore-table = app.tmp\\_%\nrewrite-db = app -> app2\n"
                        "rewrite-table = crm.a->crm.b\n",
                   &c, err, sizeof(err));
    if (rc != 0) {
        TR_FAIL_AT("%s", err);
    }
    EXPECT_EQ_INT(c.n_filter_rules, 6);
    EXPECT_EQ_INT(c.filter_rules[1].kind, TR_FILTER_DO_DB);
    EXPECT_EQ_STR(c.filter_rules[1].text, "billing");
    EXPECT_EQ_INT(c.filter_rules[2].line, 8);
    EXPECT_EQ_STR(c.filter_rules[4].text, "app -> app2");

    rc = parse(BASE "[filter]\ndo-db = app.t\ndo-table = nodot, x.y\nrewrite-db = a->b\n"
                    "rewrite-db = a->c\nwild-do-table = x\nrewrite-db = mysql->m\ndo-tables = x\n"
                    "ignore-db = a,,b\n",
               &c, err, sizeof(err));
    EXPECT_EQ_INT(rc, TR_ECONFIG);
    EXPECT_TRUE(strstr(err, "t.cnf:7: [filter] do-db: expected a database name") != NULL);
    EXPECT_TRUE(strstr(err, "t.cnf:8: [filter] do-table: expected db.table, got 'nodot'") != NULL);
    EXPECT_TRUE(strstr(err, "t.cnf:11: [filter] wild-do-table: expected db_pattern.table_pattern") != NULL);
    EXPECT_TRUE(strstr(err, "t.cnf:12: [filter] rewrite-db: system schemas never replicate") != NULL);
    EXPECT_TRUE(strstr(err, "t.cnf:13: [filter] do-tables: unknown key (known: do-db, ignore-db") != NULL);
    EXPECT_TRUE(strstr(err, "t.cnf:14: [filter] ignore-db: expected a database name (comma-separated list allowed)") != NULL);
    EXPECT_TRUE(strstr(err, "t.cnf:10: [filter] rewrite-db: renamed twice") != NULL);
    if (getenv("TR_TEST_VERBOSE") != NULL) {
        fprintf(stderr, "%s\n", err);
    }
}

TR_TEST_MAIN()
