/*
 * TiDB DDL dialect rewriter: statements as TiDB logs them (restored by its
 * parser with TiDB-only syntax in T! comments: pingcap/tidb
 * pkg/sessionctx/binloginfo/binloginfo.go FormatAndAddTiDBSpecificComment,
 * and the restore expectations of pkg/parser/parser_test.go and
 * pkg/ddl tests) and raw statements with bare TiDB syntax (parser.y),
 * per flavour, with the verdict and exact output expected.
 */
#include "tr_test.h"

#include "common/buf.h"
#include "protocol/ddl_rewrite.h"

typedef struct {
    int flavor; /* -1 = both */
    const char *in;
    tr_ddl_verdict_t verdict;
    const char *out; /* for TR_DDL_WRITE */
} case_t;

#define MY TR_FLAVOR_MYSQL
#define MA TR_FLAVOR_MARIADB
#define W TR_DDL_WRITE
#define S TR_DDL_SKIP
#define U TR_DDL_UNSUPPORTED

static const case_t cases[] = {
    /* unchanged statements (only the trailing ';' TiDB appends goes) */
    {-1, "CREATE DATABASE `simdb`;", W, "CREATE DATABASE `simdb`"},
    {-1, "ALTER TABLE `t` ADD COLUMN `c` INT DEFAULT 7", W, "ALTER TABLE `t` ADD COLUMN `c` INT DEFAULT 7"},
    {-1, "RENAME TABLE `a`.`t1` TO `a`.`t2`, `a`.`t3` TO `b`.`t4`;", W,
     "RENAME TABLE `a`.`t1` TO `a`.`t2`, `a`.`t3` TO `b`.`t4`"},
    {-1, "  DROP TABLE `t` ;  ", W, "DROP TABLE `t`"},
    {-1, "CREATE TABLE `t` (`a` INT) /* plain comment */ ENGINE = InnoDB", W,
     "CREATE TABLE `t` (`a` INT) /* plain comment */ ENGINE = InnoDB"},
    {-1, "CREATE TABLE t (a INT) /*!50100 PARTITION BY HASH (a) */", W,
     "CREATE TABLE t (a INT) /*!50100 PARTITION BY HASH (a) */"},
    /* T! comments (restored form) */
    {-1,
     "CREATE TABLE `t_ch` (`code` VARCHAR(32) NOT NULL,PRIMARY KEY(`code`) /*T![clustered_index] "
     "CLUSTERED */) ENGINE = InnoDB;",
     W, "CREATE TABLE `t_ch` (`code` VARCHAR(32) NOT NULL,PRIMARY KEY(`code`)) ENGINE = InnoDB"},
    {-1,
     "CREATE TABLE `t` (`id` BIGINT PRIMARY KEY /*T![auto_rand] AUTO_RANDOM(5) */,`v` INT) "
     "/*T! SHARD_ROW_ID_BITS = 4 */ /*T! PRE_SPLIT_REGIONS = 2 */",
     W, "CREATE TABLE `t` (`id` BIGINT PRIMARY KEY,`v` INT)"},
    {-1, "CREATE TABLE `t` (`a` INT) /*T![placement] PLACEMENT POLICY=`p1` */", W,
     "CREATE TABLE `t` (`a` INT)"},
    {-1, "CREATE TABLE `t` (`a` INT) /*T![auto_id_cache] AUTO_ID_CACHE=1 */ COMMENT='x'", W,
     "CREATE TABLE `t` (`a` INT) COMMENT='x'"},
    {-1, "ALTER TABLE `t` /*T![placement] PLACEMENT POLICY=`p1` */;", S, NULL},
    {-1, "ALTER TABLE `t` /*T![force_inc] FORCE */ AUTO_INCREMENT = 100", W,
     "ALTER TABLE `t` AUTO_INCREMENT = 100"},
    {-1,
     "CREATE TABLE `t` (`c` DATETIME) /*T![ttl] TTL=`c` + INTERVAL 1 DAY */ /*T![ttl] "
     "TTL_ENABLE='OFF' */",
     W, "CREATE TABLE `t` (`c` DATETIME)"},
    /* a string or a quoted name holding comment-like text survives */
    {-1, "ALTER TABLE `t` COMMENT = '/*T! SHARD_ROW_ID_BITS = 4 */ and CLUSTERED'", W,
     "ALTER TABLE `t` COMMENT = '/*T! SHARD_ROW_ID_BITS = 4 */ and CLUSTERED'"},
    {-1, "ALTER TABLE `t` ADD COLUMN `c` VARCHAR(10) DEFAULT 'it''s; -- no' COMMENT \"a\\\"b\"", W,
     "ALTER TABLE `t` ADD COLUMN `c` VARCHAR(10) DEFAULT 'it''s; -- no' COMMENT \"a\\\"b\""},
    {-1, "CREATE TABLE `CLUSTERED` (`AUTO_RANDOM` INT, `ttl` INT)", W,
     "CREATE TABLE `CLUSTERED` (`AUTO_RANDOM` INT, `ttl` INT)"},
    {-1, "CREATE TABLE t (ttl INT, regions INT, schedule VARCHAR(4))", W,
     "CREATE TABLE t (ttl INT, regions INT, schedule VARCHAR(4))"},
    /* bare TiDB syntax (raw job.query, older releases) */
    {-1, "create table t (id bigint auto_random(5, 54) primary key, v int) shard_row_id_bits=4 pre_split_regions=2", W,
     "create table t (id bigint primary key, v int)"},
    {-1, "CREATE TABLE t (id BIGINT AUTO_RANDOM PRIMARY KEY)", W, "CREATE TABLE t (id BIGINT PRIMARY KEY)"},
    {-1, "CREATE TABLE t (a INT, b INT, PRIMARY KEY (a, b) NONCLUSTERED)", W,
     "CREATE TABLE t (a INT, b INT, PRIMARY KEY (a, b))"},
    {-1, "CREATE TABLE t (a INT) ENGINE=InnoDB, SHARD_ROW_ID_BITS = 4, AUTO_ID_CACHE 1, CHARSET=utf8mb4", W,
     "CREATE TABLE t (a INT) ENGINE=InnoDB, CHARSET=utf8mb4"},
    {-1, "CREATE TABLE t (a INT) AUTO_RANDOM_BASE = 1000", W, "CREATE TABLE t (a INT)"},
    {-1, "ALTER TABLE t FORCE AUTO_RANDOM_BASE = 1000", S, NULL},
    {-1, "ALTER TABLE t FORCE", W, "ALTER TABLE t FORCE"},
    {-1, "ALTER TABLE t ADD COLUMN c INT, SHARD_ROW_ID_BITS = 4", W, "ALTER TABLE t ADD COLUMN c INT"},
    {-1, "CREATE TABLE t (a INT) PLACEMENT POLICY = p1", W, "CREATE TABLE t (a INT)"},
    {-1, "CREATE TABLE t (a INT) DEFAULT PLACEMENT POLICY = DEFAULT COMMENT 'c'", W,
     "CREATE TABLE t (a INT) COMMENT 'c'"},
    {-1, "ALTER DATABASE d PLACEMENT POLICY = p1", S, NULL},
    {-1, "ALTER DATABASE `d` CHARACTER SET = utf8mb4 PLACEMENT POLICY = DEFAULT", W,
     "ALTER DATABASE `d` CHARACTER SET = utf8mb4"},
    {-1, "CREATE TABLE t (a INT) PRIMARY_REGION=\"us-east-1\" REGIONS=\"us-east-1,us-west-1\" FOLLOWERS=4", W,
     "CREATE TABLE t (a INT)"},
    {-1, "CREATE TABLE t (a INT) PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN (10) PLACEMENT POLICY = p1, PARTITION p1 VALUES LESS THAN (MAXVALUE))", W,
     "CREATE TABLE t (a INT) PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN (MAXVALUE))"},
    {-1, "ALTER TABLE t PARTITION p0 PLACEMENT POLICY = p1", S, NULL},
    {-1, "ALTER TABLE t PARTITION p0 ATTRIBUTES = 'merge_option=deny'", S, NULL},
    {-1, "ALTER TABLE t ATTRIBUTES = DEFAULT", S, NULL},
    {-1, "CREATE TABLE t (c DATETIME) TTL = c + INTERVAL 1 MONTH TTL_ENABLE = 'ON' TTL_JOB_INTERVAL = '1h'", W,
     "CREATE TABLE t (c DATETIME)"},
    {-1, "ALTER TABLE t TTL = `c` + INTERVAL 2 DAY", S, NULL},
    {-1, "ALTER TABLE t REMOVE TTL", S, NULL},
    {-1, "ALTER TABLE t TTL = c", U, NULL},
    {-1, "CREATE TABLE t (a INT) STATS_BUCKETS=1000 STATS_TOPN=100 STATS_SAMPLE_RATE=0.5 STATS_PERSISTENT=0", W,
     "CREATE TABLE t (a INT) STATS_PERSISTENT=0"},
    /* statements with no MySQL meaning */
    {-1, "ALTER TABLE `t` SET TIFLASH REPLICA 2 LOCATION LABELS 'zone';", S, NULL},
    {-1, "ALTER DATABASE `d` SET TIFLASH REPLICA 1", S, NULL},
    {-1, "ALTER TABLE `t` CACHE", S, NULL},
    {-1, "ALTER TABLE `db`.`t` NOCACHE;", S, NULL},
    {-1, "CREATE PLACEMENT POLICY `p1` PRIMARY_REGION = 'r1' REGIONS = 'r1,r2'", S, NULL},
    {-1, "DROP PLACEMENT POLICY IF EXISTS `p1`", S, NULL},
    {-1, "CREATE RESOURCE GROUP `rg1` RU_PER_SEC = 1000", S, NULL},
    {-1, "LOCK TABLES `t` READ", S, NULL},
    {-1, "ALTER TABLE t COMPACT TIFLASH REPLICA", S, NULL},
    {-1, ";", S, NULL},
    /* cannot be made safe */
    {-1, "FLASHBACK TABLE `t` TO `t2`", U, NULL},
    {-1, "RECOVER TABLE BY JOB 42", U, NULL},
    {-1, "CREATE TABLE t (a INT) PARTITION BY RANGE (a) INTERVAL (100) FIRST PARTITION LESS THAN (0) LAST PARTITION LESS THAN (1000)", U, NULL},
    {-1, "ALTER TABLE t LAST PARTITION LESS THAN (2000)", U, NULL},
    {-1, "CREATE TABLE `a` (`x` INT);CREATE TABLE `b` (`x` INT);", U, NULL},
    {-1, "ALTER TABLE t COMMENT = 'unterminated", U, NULL},
    {-1, "ALTER TABLE t /* unterminated", U, NULL},
    {-1, "CREATE TABLE t (id BIGINT AUTO_RANDOM(5 PRIMARY KEY)", U, NULL},
    /* per flavour */
    {MY, "ALTER TABLE `t` EXCHANGE PARTITION `p0` WITH TABLE `nt` WITHOUT VALIDATION", W,
     "ALTER TABLE `t` EXCHANGE PARTITION `p0` WITH TABLE `nt` WITHOUT VALIDATION"},
    {MA, "ALTER TABLE `t` EXCHANGE PARTITION `p0` WITH TABLE `nt` WITHOUT VALIDATION", W,
     "ALTER TABLE `t` EXCHANGE PARTITION `p0` WITH TABLE `nt`"},
    {MY, "ALTER TABLE `t` ADD INDEX `i`(`a`) INVISIBLE", W, "ALTER TABLE `t` ADD INDEX `i`(`a`) INVISIBLE"},
    {MA, "ALTER TABLE `t` ADD INDEX `i`(`a`) INVISIBLE", W, "ALTER TABLE `t` ADD INDEX `i`(`a`) IGNORED"},
    {MA, "ALTER TABLE `t` ALTER INDEX `i` VISIBLE", W, "ALTER TABLE `t` ALTER INDEX `i` NOT IGNORED"},
    {MY, "CREATE SEQUENCE `s` START WITH 1 INCREMENT BY 1 CACHE 1000 NOCYCLE", U, NULL},
    {MA, "CREATE SEQUENCE `s` START WITH 1 INCREMENT BY 1 CACHE 1000 NOCYCLE", W,
     "CREATE SEQUENCE `s` START WITH 1 INCREMENT BY 1 CACHE 1000 NOCYCLE"},
    {MY, "DROP SEQUENCE `s`", U, NULL},
    {MA, "CREATE TABLE `t` (`a` VARCHAR(5) COLLATE utf8mb4_0900_ai_ci) DEFAULT CHARACTER SET = UTF8MB4 "
         "DEFAULT COLLATE = UTF8MB4_0900_BIN", W,
     "CREATE TABLE `t` (`a` VARCHAR(5) COLLATE utf8mb4_uca1400_nopad_ai_ci) DEFAULT CHARACTER SET = "
     "UTF8MB4 DEFAULT COLLATE = utf8mb4_nopad_bin"},
    {MY, "CREATE TABLE `t` (`a` VARCHAR(5) COLLATE utf8mb4_0900_ai_ci)", W,
     "CREATE TABLE `t` (`a` VARCHAR(5) COLLATE utf8mb4_0900_ai_ci)"},
    {MA, "ALTER TABLE `t` COMMENT = 'utf8mb4_0900_ai_ci' COLLATE = 'utf8mb4_0900_ai_ci'", W,
     "ALTER TABLE `t` COMMENT = 'utf8mb4_0900_ai_ci' COLLATE = 'utf8mb4_uca1400_nopad_ai_ci'"},
    {MY, "ALTER TABLE `t` ADD COLUMN IF NOT EXISTS `c` INT, DROP INDEX IF EXISTS `i`", W,
     "ALTER TABLE `t` ADD COLUMN `c` INT, DROP INDEX `i`"},
    {MA, "ALTER TABLE `t` ADD COLUMN IF NOT EXISTS `c` INT, DROP INDEX IF EXISTS `i`", W,
     "ALTER TABLE `t` ADD COLUMN IF NOT EXISTS `c` INT, DROP INDEX IF EXISTS `i`"},
    {MY, "CREATE UNIQUE INDEX IF NOT EXISTS `i` ON `t` (`a`)", W, "CREATE UNIQUE INDEX `i` ON `t` (`a`)"},
    {MY, "DROP INDEX IF EXISTS `i` ON `t`", W, "DROP INDEX `i` ON `t`"},
    {MY, "CREATE TABLE IF NOT EXISTS `t` (`a` INT)", W, "CREATE TABLE IF NOT EXISTS `t` (`a` INT)"},
    {MY, "DROP TABLE IF EXISTS `t`", W, "DROP TABLE IF EXISTS `t`"},
    /* line comments are dropped, the rest stays */
    {-1, "CREATE TABLE t ( -- note\n a INT # other\n)", W, "CREATE TABLE t (\n a INT\n)"},
};

TR_TEST(rewrite_table)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const case_t *c = &cases[i];
        for (int f = 0; f < TR_FLAVOR_COUNT; f++) {
            if (c->flavor >= 0 && c->flavor != f) {
                continue;
            }
            tr_buf_t out;
            tr_buf_init(&out, 0);
            const char *why = NULL;
            tr_ddl_verdict_t v = tr_ddl_rewrite(c->in, strlen(c->in), (tr_flavor_t)f, &out, &why);
            if (v != c->verdict) {
                TR_FAIL_AT("case %zu flavour %d: verdict %s, want %s (%s): %s", i, f,
                           tr_ddl_verdict_name(v), tr_ddl_verdict_name(c->verdict),
                           why ? why : "-", c->in);
            } else if (v == TR_DDL_WRITE) {
                if (out.len != strlen(c->out) || memcmp(out.data, c->out, out.len) != 0) {
                    TR_FAIL_AT("case %zu flavour %d:\n   got  [%.*s]\n   want [%s]", i, f,
                               (int)out.len, (const char *)out.data, c->out);
                }
                EXPECT_TRUE(why == NULL);
            } else {
                EXPECT_TRUE(why != NULL && why[0] != '\0');
            }
            tr_buf_cleanup(&out);
        }
    }
}

/* Appends to what the buffer already holds and never reads past len (no NUL). */
TR_TEST(rewrite_appends_and_respects_len)
{
    tr_buf_t out;
    tr_buf_init(&out, 0);
    tr_buf_append(&out, "X:", 2);
    const char *sql = "DROP TABLE `t` /*T! x */;GARBAGE";
    const char *why = NULL;
    tr_ddl_verdict_t v = tr_ddl_rewrite(sql, strlen("DROP TABLE `t` /*T! x */;"), TR_FLAVOR_MYSQL,
                                        &out, &why);
    EXPECT_EQ_INT(v, TR_DDL_WRITE);
    EXPECT_EQ_MEM(out.data, out.len, "X:DROP TABLE `t`", strlen("X:DROP TABLE `t`"));
    tr_buf_cleanup(&out);
}

TR_TEST_MAIN()
