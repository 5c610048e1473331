/* Unit tests for protocol/sqlcmd: every statement in
 * shared/vectors/mariadb-10.11/master-general-log.txt and spec 3.2-3.4, case
 * and whitespace variants, and malformed input. */
#include "tr_test.h"

#include "protocol/sqlcmd.h"

static tr_sql_cmd_t cmd; /* large: keep off the stack */

static tr_sql_kind_t parse(const char *sql)
{
    const char *why = NULL;
    tr_sql_parse(sql, strlen(sql), &cmd, &why);
    if (cmd.kind == TR_SQL_UNKNOWN) {
        EXPECT_TRUE(why != NULL);
    }
    return cmd.kind;
}

static bool slice_is(tr_slice_t s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

TR_TEST(mariadb_replica_sequence)
{
    /* Exactly what a MariaDB 10.11 replica sends (general log capture). */
    EXPECT_EQ_INT(parse("SELECT UNIX_TIMESTAMP()"), TR_SQL_SELECT);
    EXPECT_EQ_INT(cmd.n_sel, 1);
    EXPECT_EQ_INT(cmd.sel[0].expr.kind, TR_SQL_EXPR_FUNC);
    EXPECT_EQ_INT(cmd.sel[0].expr.fn, TR_SQL_FN_UNIX_TIMESTAMP);
    EXPECT_TRUE(slice_is(cmd.sel[0].expr.text, "UNIX_TIMESTAMP()"));

    EXPECT_EQ_INT(parse("SHOW VARIABLES LIKE 'SERVER_ID'"), TR_SQL_SHOW_VARIABLES);
    EXPECT_EQ_INT(cmd.n_show, 1);
    EXPECT_TRUE(cmd.show[0].is_like);
    EXPECT_TRUE(slice_is(cmd.show[0].pattern, "SERVER_ID"));

    EXPECT_EQ_INT(parse("SET @master_heartbeat_period= 30000001024"), TR_SQL_SET);
    EXPECT_EQ_INT(cmd.n_set, 1);
    EXPECT_TRUE(cmd.set[0].is_user);
    EXPECT_TRUE(slice_is(cmd.set[0].name, "master_heartbeat_period"));
    EXPECT_EQ_INT(cmd.set[0].value.kind, TR_SQL_EXPR_NUM);
    EXPECT_EQ_U64(cmd.set[0].value.ival, 30000001024ULL);

    EXPECT_EQ_INT(parse("SET @master_binlog_checksum= @@global.binlog_checksum"), TR_SQL_SET);
    EXPECT_EQ_INT(cmd.set[0].value.kind, TR_SQL_EXPR_SYSVAR);
    EXPECT_EQ_INT(cmd.set[0].value.scope, TR_SQL_SCOPE_GLOBAL);
    EXPECT_TRUE(slice_is(cmd.set[0].value.name, "binlog_checksum"));

    EXPECT_EQ_INT(parse("SELECT @master_binlog_checksum"), TR_SQL_SELECT);
    EXPECT_EQ_INT(cmd.sel[0].expr.kind, TR_SQL_EXPR_USERVAR);
    EXPECT_TRUE(slice_is(cmd.sel[0].expr.text, "@master_binlog_checksum"));

    EXPECT_EQ_INT(parse("SET @mariadb_slave_capability=4"), TR_SQL_SET);
    EXPECT_EQ_INT(cmd.set[0].value.ival, 4);

    EXPECT_EQ_INT(parse("SELECT @@GLOBAL.gtid_domain_id"), TR_SQL_SELECT);
    EXPECT_EQ_INT(cmd.sel[0].expr.kind, TR_SQL_EXPR_SYSVAR);
    EXPECT_TRUE(slice_is(cmd.sel[0].expr.name, "gtid_domain_id"));
    EXPECT_TRUE(slice_is(cmd.sel[0].expr.text, "@@GLOBAL.gtid_domain_id"));

    EXPECT_EQ_INT(parse("SET @slave_connect_state=''"), TR_SQL_SET);
    EXPECT_EQ_INT(cmd.set[0].value.kind, TR_SQL_EXPR_STR);
    EXPECT_EQ_INT(cmd.set[0].value.name.len, 0);
    EXPECT_EQ_INT(parse("SET @slave_connect_state='0-1-7'"), TR_SQL_SET);
    EXPECT_TRUE(slice_is(cmd.set[0].value.name, "0-1-7"));
    EXPECT_EQ_INT(parse("SET @slave_gtid_strict_mode=0"), TR_SQL_SET);
    EXPECT_EQ_INT(parse("SET @slave_gtid_ignore_duplicates=0"), TR_SQL_SET);
    EXPECT_EQ_INT(parse("SELECT binlog_gtid_pos('mbin.000001',4)"), TR_SQL_SELECT);
    EXPECT_EQ_INT(cmd.sel[0].expr.fn, TR_SQL_FN_BINLOG_GTID_POS);
    EXPECT_EQ_INT(cmd.sel[0].expr.nargs, 2);
    EXPECT_TRUE(slice_is(cmd.sel[0].expr.args[0].raw, "mbin.000001"));
    EXPECT_EQ_INT(cmd.sel[0].expr.args[1].ival, 4);
}

TR_TEST(tools_and_mysql_replicas)
{
    EXPECT_EQ_INT(parse("SELECT VERSION()"), TR_SQL_SELECT);
    EXPECT_EQ_INT(cmd.sel[0].expr.fn, TR_SQL_FN_VERSION);
    EXPECT_EQ_INT(parse("SET @master_binlog_checksum='NONE'"), TR_SQL_SET);
    EXPECT_TRUE(slice_is(cmd.set[0].value.name, "NONE"));
    EXPECT_EQ_INT(parse("SET @source_binlog_checksum = 'NONE', @master_binlog_checksum = 'NONE'"),
                  TR_SQL_SET);
    EXPECT_EQ_INT(cmd.n_set, 2);
    EXPECT_TRUE(slice_is(cmd.set[1].name, "master_binlog_checksum"));
    EXPECT_EQ_INT(parse("SET @master_heartbeat_period = 30000000000, @source_heartbeat_period = "
                        "30000000000"),
                  TR_SQL_SET);
    EXPECT_EQ_INT(cmd.n_set, 2);
    EXPECT_EQ_INT(parse("SELECT @@GLOBAL.SERVER_ID"), TR_SQL_SELECT);
    EXPECT_TRUE(slice_is(cmd.sel[0].expr.text, "@@GLOBAL.SERVER_ID"));
    EXPECT_EQ_INT(parse("select @@version_comment limit 1"), TR_SQL_SELECT);
    EXPECT_TRUE(cmd.has_limit);
    EXPECT_EQ_INT(cmd.limit, 1);
    EXPECT_EQ_INT(parse("select @@GLOBAL.binlog_checksum as checksum"), TR_SQL_SELECT);
    EXPECT_TRUE(slice_is(cmd.sel[0].alias, "checksum"));
    EXPECT_EQ_INT(parse("SELECT @@session.auto_increment_increment AS auto_increment_increment, "
                        "@@character_set_client AS character_set_client"),
                  TR_SQL_SELECT);
    EXPECT_EQ_INT(cmd.n_sel, 2);
    EXPECT_EQ_INT(cmd.sel[0].expr.scope, TR_SQL_SCOPE_SESSION);
    EXPECT_TRUE(slice_is(cmd.sel[1].alias, "character_set_client"));
    EXPECT_EQ_INT(parse("SELECT 1"), TR_SQL_SELECT);
    EXPECT_EQ_INT(cmd.sel[0].expr.kind, TR_SQL_EXPR_NUM);
    EXPECT_EQ_INT(parse("SELECT -5, 'x' y, NULL"), TR_SQL_SELECT);
    EXPECT_EQ_INT(cmd.sel[0].expr.ival, -5);
    EXPECT_TRUE(slice_is(cmd.sel[0].expr.text, "-5"));
    EXPECT_TRUE(slice_is(cmd.sel[1].alias, "y"));
    EXPECT_EQ_INT(cmd.sel[2].expr.kind, TR_SQL_EXPR_NULL);
    EXPECT_EQ_INT(parse("SET @slave_uuid = 'abc', @replica_uuid = 'abc'"), TR_SQL_SET);
}

TR_TEST(show_statements)
{
    EXPECT_EQ_INT(parse("SHOW GLOBAL VARIABLES LIKE 'binlog_format';"), TR_SQL_SHOW_VARIABLES);
    EXPECT_EQ_INT(cmd.show_scope, TR_SQL_SCOPE_GLOBAL);
    EXPECT_EQ_INT(parse("show session variables where Variable_name IN "
                        "('rpl_semi_sync_master_enabled', 'rpl_semi_sync_source_enabled')"),
                  TR_SQL_SHOW_VARIABLES);
    EXPECT_EQ_INT(cmd.n_show, 2);
    EXPECT_TRUE(!cmd.show[1].is_like);
    EXPECT_TRUE(slice_is(cmd.show[1].pattern, "rpl_semi_sync_source_enabled"));
    EXPECT_EQ_INT(parse("SHOW VARIABLES WHERE Variable_name = 'sql_mode'"), TR_SQL_SHOW_VARIABLES);
    EXPECT_EQ_INT(cmd.n_show, 1);
    EXPECT_EQ_INT(parse("SHOW VARIABLES"), TR_SQL_SHOW_VARIABLES);
    EXPECT_EQ_INT(cmd.n_show, 0);
    EXPECT_EQ_INT(parse("SHOW MASTER STATUS"), TR_SQL_SHOW_MASTER_STATUS);
    EXPECT_EQ_INT(parse("show binary log status"), TR_SQL_SHOW_MASTER_STATUS);
    EXPECT_EQ_INT(parse("SHOW BINLOG STATUS"), TR_SQL_SHOW_MASTER_STATUS);
    EXPECT_EQ_INT(parse("SHOW BINARY LOGS"), TR_SQL_SHOW_BINARY_LOGS);
    EXPECT_EQ_INT(parse("  show master logs ; "), TR_SQL_SHOW_BINARY_LOGS);
    EXPECT_EQ_INT(parse("SHOW PROCESSLIST"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SHOW FULL PROCESSLIST"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SHOW VARIABLES LIKE"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SHOW BINARY LOGS extra"), TR_SQL_UNKNOWN);
}

/* Debezium's JDBC probes and the catalogue queries of CDC clients. */
TR_TEST(cdc_probes)
{
    EXPECT_EQ_INT(parse("SHOW SESSION STATUS LIKE 'Ssl_version'"), TR_SQL_SHOW_STATUS);
    EXPECT_EQ_INT(cmd.n_show, 1);
    EXPECT_TRUE(cmd.show[0].is_like && slice_is(cmd.show[0].pattern, "Ssl_version"));
    EXPECT_EQ_INT(parse("show global status"), TR_SQL_SHOW_STATUS);
    EXPECT_EQ_INT(cmd.n_show, 0);
    EXPECT_EQ_INT(parse("SHOW FULL TABLES IN `db` where Table_Type = 'BASE TABLE'"),
                  TR_SQL_SHOW_TABLES);
    EXPECT_TRUE(cmd.show_full && slice_is(cmd.show_db, "db"));
    EXPECT_EQ_INT(parse("SHOW TABLES"), TR_SQL_SHOW_TABLES);
    EXPECT_TRUE(!cmd.show_full && cmd.show_db.len == 0);
    EXPECT_EQ_INT(parse("show tables from d like 't%'"), TR_SQL_SHOW_TABLES);
    EXPECT_TRUE(slice_is(cmd.show_db, "d"));
    EXPECT_EQ_INT(parse("SHOW TABLES d"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SELECT schema_name, default_character_set_name, default_collation_name "
                        "FROM information_schema.schemata"),
                  TR_SQL_SELECT_CATALOG);
    EXPECT_EQ_INT(cmd.n_sel, 3);
    EXPECT_TRUE(slice_is(cmd.sel[2].expr.name, "default_collation_name"));
    EXPECT_TRUE(slice_is(cmd.from_db, "information_schema") && slice_is(cmd.from_table, "schemata"));
    EXPECT_EQ_INT(parse("SELECT c.COLUMN_NAME AS n, COLLATION_NAME coll FROM "
                        "`INFORMATION_SCHEMA`.`columns` c WHERE table_schema='d' AND "
                        "table_name='t' ORDER BY ORDINAL_POSITION"),
                  TR_SQL_SELECT_CATALOG);
    EXPECT_EQ_INT(cmd.n_sel, 2);
    EXPECT_TRUE(slice_is(cmd.sel[0].alias, "n") && slice_is(cmd.sel[0].expr.name, "COLUMN_NAME"));
    EXPECT_TRUE(slice_is(cmd.sel[0].expr.qual, "c") && slice_is(cmd.from_alias, "c"));
    EXPECT_TRUE(slice_is(cmd.sel[1].alias, "coll"));
    EXPECT_EQ_INT(cmd.n_order, 1);
    EXPECT_TRUE(cmd.where >= 0 && cmd.cond[cmd.where].kind == TR_SQL_COND_AND);
    EXPECT_EQ_INT(parse("SELECT * FROM information_schema.tables"), TR_SQL_SELECT_CATALOG);
    EXPECT_EQ_INT(cmd.sel[0].expr.kind, TR_SQL_EXPR_STAR);
    EXPECT_EQ_INT(parse("SELECT a, FROM information_schema.tables"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SELECT a FROM mysql.user"), TR_SQL_SELECT_TABLE);
    EXPECT_TRUE(slice_is(cmd.from_db, "mysql") && slice_is(cmd.from_table, "user"));
    EXPECT_EQ_INT(parse("SELECT GTID_SUBTRACT('u:1-10', 'u:1-3')"), TR_SQL_SELECT);
    EXPECT_EQ_INT(cmd.sel[0].expr.fn, TR_SQL_FN_GTID_SUBTRACT);
    EXPECT_EQ_INT(cmd.sel[0].expr.nargs, 2);
    EXPECT_EQ_INT(parse("select gtid_subset('', 'u:1')"), TR_SQL_SELECT);
    EXPECT_EQ_INT(cmd.sel[0].expr.fn, TR_SQL_FN_GTID_SUBSET);
}

TR_TEST(normalisation_and_noops)
{
    EXPECT_EQ_INT(parse("  /* mysql-connector */ select   @@SERVER_ID  ;  "), TR_SQL_SELECT);
    EXPECT_TRUE(slice_is(cmd.sel[0].expr.name, "SERVER_ID"));
    EXPECT_EQ_INT(parse("-- comment\nSELECT 1"), TR_SQL_SELECT);
    EXPECT_EQ_INT(parse(""), TR_SQL_EMPTY);
    EXPECT_EQ_INT(parse(" ; "), TR_SQL_EMPTY);
    EXPECT_EQ_INT(parse("SET NAMES utf8mb4"), TR_SQL_NOOP);
    EXPECT_EQ_INT(parse("SET autocommit=0"), TR_SQL_NOOP);
    EXPECT_EQ_INT(parse("SET net_write_timeout=600"), TR_SQL_NOOP);
    EXPECT_EQ_INT(parse("set session transaction isolation level read committed"), TR_SQL_NOOP);
    EXPECT_EQ_INT(parse("SET sql_mode=CONCAT(@@sql_mode, ',X')"), TR_SQL_NOOP);
    EXPECT_EQ_INT(parse("SET skip_replication=1"), TR_SQL_NOOP);
    EXPECT_EQ_INT(parse("COMMIT"), TR_SQL_NOOP);
    EXPECT_EQ_INT(parse("rollback"), TR_SQL_NOOP);
    EXPECT_EQ_INT(parse("START TRANSACTION"), TR_SQL_NOOP);
    EXPECT_EQ_INT(parse("UNLOCK TABLES"), TR_SQL_UNLOCK);
    EXPECT_EQ_INT(parse("unlock instance"), TR_SQL_UNLOCK);
    EXPECT_EQ_INT(parse("UNLOCK TABLES now"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("KILL 17"), TR_SQL_KILL);
    EXPECT_EQ_U64(cmd.kill_id, 17);
    EXPECT_EQ_INT(parse("KILL CONNECTION 18"), TR_SQL_KILL);
    EXPECT_EQ_INT(parse("KILL QUERY 19"), TR_SQL_KILL);
    EXPECT_TRUE(cmd.kill_query_only);
    EXPECT_EQ_INT(parse("set @a := 'x', @@session.wait_timeout = 5"), TR_SQL_SET);
    EXPECT_EQ_INT(cmd.n_set, 2);
    EXPECT_TRUE(!cmd.set[1].is_user);
    EXPECT_EQ_INT(cmd.set[1].scope, TR_SQL_SCOPE_SESSION);
}

TR_TEST(unknown_and_malformed)
{
    const char *bad[] = {
        "SELECT * FROM", "SELECT 1; SELECT 2", "SELECT 'unterminated", "SELECT @@", "SELECT @",
        "SET @a = ", "SET @a", "DROP TABLE x", "SELECT a", "SELECT f(", "SELECT f(1,", "/* open",
        "SELECT 1e5", "KILL x", "SELECT @@foo.bar", "SET @a = 1 2",
    };
    for (size_t i = 0; i < TR_ARRAY_LEN(bad); i++) {
        if (parse(bad[i]) != TR_SQL_UNKNOWN) {
            TR_FAIL_AT("expected UNKNOWN for <%s>, got %d", bad[i], (int)cmd.kind);
        }
    }
}

TR_TEST(every_prefix_is_safe)
{
    const char *s = "SET @master_binlog_checksum= @@global.binlog_checksum, @x='a''b\\'c', "
                    "@y = binlog_gtid_pos('f', -4); SELECT 1";
    size_t n = strlen(s);
    char *copy = malloc(n + 1);
    for (size_t k = 0; k <= n; k++) {
        memcpy(copy, s, k); /* not NUL-terminated: the parser must honour len */
        const char *why = NULL;
        tr_sql_parse(copy, k, &cmd, &why);
    }
    free(copy);
}

TR_TEST(unquote_and_like)
{
    char out[64];
    EXPECT_EQ_INT(tr_sql_unquote(tr_slice("a''b\\'c\\n", 9), out, sizeof(out)), 6);
    EXPECT_EQ_STR(out, "a'b'c\n");
    EXPECT_EQ_INT(tr_sql_unquote(tr_slice("abcdef", 6), out, 4), 6);
    EXPECT_EQ_STR(out, "abc");
    EXPECT_TRUE(tr_sql_like("SERVER_ID", 9, "server_id", 9));
    EXPECT_TRUE(tr_sql_like("server%", 7, "server_uuid", 11));
    EXPECT_TRUE(tr_sql_like("%_id", 4, "gtid_domain_id", 14));
    EXPECT_TRUE(!tr_sql_like("server_id", 9, "server_ids", 10));
    EXPECT_TRUE(tr_sql_like("server\\_id", 10, "server_id", 9));
    EXPECT_TRUE(!tr_sql_like("server\\_id", 10, "serverXid", 9));
    EXPECT_TRUE(tr_sql_like("%", 1, "", 0));
    EXPECT_TRUE(tr_sql_like("a%b%c", 5, "aXXbYYc", 7));
    EXPECT_TRUE(!tr_sql_like("a%b%c", 5, "aXXbYY", 6));
}

TR_TEST(admin_statements)
{
    EXPECT_EQ_INT(parse("SHOW BINLOG EVENTS"), TR_SQL_SHOW_BINLOG_EVENTS);
    EXPECT_EQ_INT(cmd.log_name.len, 0);
    EXPECT_TRUE(!cmd.has_from && !cmd.has_limit);
    EXPECT_EQ_INT(parse("show binlog events in 'tirelay-bin.000002' from 126 limit 2, 5;"),
                  TR_SQL_SHOW_BINLOG_EVENTS);
    EXPECT_TRUE(slice_is(cmd.log_name, "tirelay-bin.000002"));
    EXPECT_TRUE(cmd.has_from && cmd.from_pos == 126);
    EXPECT_TRUE(cmd.has_limit && cmd.limit_offset == 2 && cmd.limit == 5);
    EXPECT_EQ_INT(parse("SHOW BINLOG EVENTS LIMIT 3"), TR_SQL_SHOW_BINLOG_EVENTS);
    EXPECT_TRUE(cmd.has_limit && cmd.limit_offset == 0 && cmd.limit == 3);
    EXPECT_EQ_INT(parse("SHOW BINLOG EVENTS IN x"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SHOW BINLOG EVENTS LIMIT 1 junk"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SHOW BINLOG STATUS"), TR_SQL_SHOW_MASTER_STATUS);

    EXPECT_EQ_INT(parse("SHOW SLAVE HOSTS"), TR_SQL_SHOW_REPLICAS);
    EXPECT_TRUE(cmd.is_slave_hosts);
    EXPECT_EQ_INT(parse("show replicas"), TR_SQL_SHOW_REPLICAS);
    EXPECT_TRUE(!cmd.is_slave_hosts);
    EXPECT_EQ_INT(parse("SHOW SLAVE STATUS"), TR_SQL_UNKNOWN);

    EXPECT_EQ_INT(parse("PURGE BINARY LOGS TO 'tirelay-bin.000003'"), TR_SQL_PURGE_LOGS);
    EXPECT_TRUE(!cmd.purge_before && slice_is(cmd.purge_arg, "tirelay-bin.000003"));
    EXPECT_EQ_INT(parse("purge master logs before '2024-01-02 03:04:05'"), TR_SQL_PURGE_LOGS);
    EXPECT_TRUE(cmd.purge_before && slice_is(cmd.purge_arg, "2024-01-02 03:04:05"));
    EXPECT_EQ_INT(parse("PURGE BINARY LOGS TO tirelay"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("PURGE BINARY LOGS"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("FLUSH BINARY LOGS"), TR_SQL_FLUSH_LOGS);
    EXPECT_EQ_INT(parse("FLUSH TABLES"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SHOW GRANTS FOR CURRENT_USER"), TR_SQL_SHOW_GRANTS);
    EXPECT_EQ_INT(parse("SHOW DATABASES"), TR_SQL_SHOW_DATABASES);
}

TR_TEST(relay_statements)
{
    EXPECT_EQ_INT(parse("SHOW RELAY STATUS"), TR_SQL_SHOW_RELAY_STATUS);
    EXPECT_EQ_INT(parse("show relay status;"), TR_SQL_SHOW_RELAY_STATUS);
    EXPECT_EQ_INT(parse("SHOW RELAY STATUS LIKE 'x'"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SHOW RELAYLOG EVENTS"), TR_SQL_UNKNOWN);

    EXPECT_EQ_INT(parse("SHOW BINLOG POSITION FOR TSO 449485925185224705"),
                  TR_SQL_SHOW_BINLOG_POSITION);
    EXPECT_EQ_INT(cmd.pos_by, TR_SQL_POS_BY_TSO);
    EXPECT_EQ_U64(cmd.pos_tso, 449485925185224705ull);
    EXPECT_EQ_INT(parse("show binlog position for gtid '0-1-42'"), TR_SQL_SHOW_BINLOG_POSITION);
    EXPECT_EQ_INT(cmd.pos_by, TR_SQL_POS_BY_GTID);
    EXPECT_TRUE(slice_is(cmd.pos_arg, "0-1-42"));
    EXPECT_EQ_INT(parse("SHOW BINLOG POSITION FOR POSITION 'tirelay-bin.000002' 4"),
                  TR_SQL_SHOW_BINLOG_POSITION);
    EXPECT_EQ_INT(cmd.pos_by, TR_SQL_POS_BY_POSITION);
    EXPECT_TRUE(slice_is(cmd.pos_arg, "tirelay-bin.000002"));
    EXPECT_EQ_U64(cmd.pos_pos, 4);

    EXPECT_EQ_INT(parse("SHOW BINLOG POSITION"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SHOW BINLOG POSITION FOR TSO"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SHOW BINLOG POSITION FOR TSO -1"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SHOW BINLOG POSITION FOR TSO 9223372036854775808"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SHOW BINLOG POSITION FOR TSO '12'"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SHOW BINLOG POSITION FOR TSO 12 13"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SHOW BINLOG POSITION FOR GTID 42"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SHOW BINLOG POSITION FOR POSITION 'f'"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SHOW BINLOG POSITION FOR POSITION f 4"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SHOW BINLOG POSITION FOR TIME 4"), TR_SQL_UNKNOWN);
}

/* The catalogue statements CDC clients send (/work notes: Debezium, Canal, Maxwell,
 * go-mysql, Flink CDC, python-mysql-replication, the ZongJi family), as they send them. */
TR_TEST(catalogue_statements)
{
    EXPECT_EQ_INT(parse("SHOW DATABASES WHERE `database` NOT IN ('information_schema', 'mysql', "
                        "'performance_schema', 'sys')"),
                  TR_SQL_SHOW_DATABASES);
    EXPECT_TRUE(cmd.where >= 0 && cmd.cond[cmd.where].kind == TR_SQL_COND_IN &&
                cmd.cond[cmd.where].negate && cmd.cond[cmd.where].list_n == 4);
    EXPECT_EQ_INT(parse("show full columns from `shop`.`t1`"), TR_SQL_SHOW_COLUMNS);
    EXPECT_TRUE(cmd.show_full && slice_is(cmd.obj_db, "shop") && slice_is(cmd.obj_name, "t1"));
    EXPECT_EQ_INT(parse("SHOW COLUMNS FROM t1 FROM shop LIKE 'a%'"), TR_SQL_SHOW_COLUMNS);
    EXPECT_TRUE(slice_is(cmd.obj_db, "shop") && cmd.has_like && slice_is(cmd.like, "a%"));
    EXPECT_EQ_INT(parse("desc `db`.`t`"), TR_SQL_SHOW_COLUMNS);
    EXPECT_TRUE(!cmd.show_full && slice_is(cmd.obj_db, "db") && slice_is(cmd.obj_name, "t"));
    EXPECT_EQ_INT(parse("DESCRIBE t id"), TR_SQL_SHOW_COLUMNS);
    EXPECT_TRUE(cmd.has_like && slice_is(cmd.like, "id"));
    EXPECT_EQ_INT(parse("EXPLAIN SELECT 1"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SHOW CREATE TABLE `db`.`t`"), TR_SQL_SHOW_CREATE_TABLE);
    EXPECT_EQ_INT(parse("show create view v"), TR_SQL_SHOW_CREATE_TABLE);
    EXPECT_EQ_INT(parse("SHOW CREATE DATABASE IF NOT EXISTS d"), TR_SQL_SHOW_CREATE_DB);
    EXPECT_TRUE(cmd.if_not_exists && slice_is(cmd.obj_name, "d"));
    EXPECT_EQ_INT(parse("show index from `shop`.`t1`"), TR_SQL_SHOW_INDEX);
    EXPECT_EQ_INT(parse("SHOW KEYS IN t FROM d WHERE Key_name = 'PRIMARY'"), TR_SQL_SHOW_INDEX);
    EXPECT_TRUE(slice_is(cmd.obj_db, "d") && cmd.where >= 0);
    EXPECT_EQ_INT(parse("SHOW TABLE STATUS LIKE 't';"), TR_SQL_SHOW_TABLE_STATUS);
    EXPECT_TRUE(cmd.has_like && cmd.show_db.len == 0);
    EXPECT_EQ_INT(parse("USE `d`;"), TR_SQL_USE);
    EXPECT_TRUE(slice_is(cmd.obj_name, "d"));
    EXPECT_EQ_INT(parse("FLUSH TABLES WITH READ LOCK"), TR_SQL_LOCK_FOR_SNAPSHOT);
    EXPECT_EQ_INT(parse("FLUSH TABLES `db`.`t1`,`db`.`t2` WITH READ LOCK"),
                  TR_SQL_LOCK_FOR_SNAPSHOT);
    EXPECT_EQ_INT(parse("LOCK TABLES FOR BACKUP"), TR_SQL_LOCK_FOR_SNAPSHOT);
    EXPECT_EQ_INT(parse("LOCK INSTANCE FOR BACKUP"), TR_SQL_LOCK_FOR_SNAPSHOT);
    /* Maxwell: LEFT JOIN with aliases and qualified columns. */
    EXPECT_EQ_INT(parse("SELECT TABLES.TABLE_NAME, CCSA.CHARACTER_SET_NAME FROM "
                        "INFORMATION_SCHEMA.TABLES LEFT JOIN "
                        "information_schema.COLLATION_CHARACTER_SET_APPLICABILITY AS CCSA ON "
                        "TABLES.TABLE_COLLATION = CCSA.COLLATION_NAME WHERE TABLES.TABLE_SCHEMA = "
                        "'db'  AND TABLES.TABLE_NAME IN ('t')"),
                  TR_SQL_SELECT_CATALOG);
    EXPECT_TRUE(cmd.has_join && slice_is(cmd.join_alias, "CCSA") &&
                slice_is(cmd.join_a.qual, "TABLES") && slice_is(cmd.join_b.name, "COLLATION_NAME"));
    EXPECT_TRUE(slice_is(cmd.sel[0].expr.qual, "TABLES") && cmd.sel[0].alias.len == 0);
    EXPECT_EQ_INT(parse("SELECT TABLE_NAME,COLUMN_NAME, DATA_TYPE FROM `information_schema`.`COLUMNS` "
                        "WHERE TABLE_SCHEMA = 'db' ORDER BY TABLE_NAME, ORDINAL_POSITION"),
                  TR_SQL_SELECT_CATALOG);
    EXPECT_EQ_INT(cmd.n_order, 2);
    /* go-mysql: lower-case and, LIMIT */
    EXPECT_EQ_INT(parse("SELECT * FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = 'd' and "
                        "TABLE_NAME = 't' LIMIT 1"),
                  TR_SQL_SELECT_CATALOG);
    EXPECT_TRUE(cmd.has_limit && cmd.limit == 1);
    /* vlasky/zongji: newlines and trailing spaces; mysql-events: unqualified, double quotes */
    EXPECT_EQ_INT(parse("SELECT \n  COLUMN_NAME, COLLATION_NAME, CHARACTER_SET_NAME, \n  "
                        "COLUMN_COMMENT, COLUMN_TYPE \n  FROM INFORMATION_SCHEMA.COLUMNS WHERE "
                        "TABLE_SCHEMA='d' AND TABLE_NAME='t' \n  ORDER BY ORDINAL_POSITION"),
                  TR_SQL_SELECT_CATALOG);
    EXPECT_EQ_INT(parse("SELECT COLUMN_NAME FROM columns WHERE table_schema=\"shop\" AND "
                        "table_name=\"t1\""),
                  TR_SQL_SELECT_CATALOG);
    EXPECT_TRUE(cmd.from_db.len == 0 && slice_is(cmd.from_table, "columns"));
    /* operators and precedence: a OR b AND NOT c */
    EXPECT_EQ_INT(parse("SELECT COUNT(*) FROM information_schema.statistics WHERE a <> 1 OR b >= "
                        "'x' AND NOT (c IS NOT NULL) LIMIT 2, 3"),
                  TR_SQL_SELECT_CATALOG);
    EXPECT_EQ_INT(cmd.sel[0].expr.kind, TR_SQL_EXPR_COUNT);
    EXPECT_TRUE(cmd.where >= 0 && cmd.cond[cmd.where].kind == TR_SQL_COND_OR);
    EXPECT_EQ_INT(cmd.cond[cmd.cond[cmd.where].right].kind, TR_SQL_COND_AND);
    EXPECT_TRUE(cmd.limit_offset == 2 && cmd.limit == 3);
    /* Flink's chunking query reads table rows: no data here, said clearly. */
    EXPECT_EQ_INT(parse("SELECT MIN(`id`), MAX(`id`) FROM `db`.`t`"), TR_SQL_SELECT_TABLE);
    EXPECT_EQ_INT(parse("SELECT 1 FROM DUAL"), TR_SQL_SELECT);
    /* Malformed conditions are errors, not guesses. */
    EXPECT_EQ_INT(parse("SELECT a FROM information_schema.columns WHERE a ="), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SELECT a FROM information_schema.columns WHERE (a = 1"), TR_SQL_UNKNOWN);
    EXPECT_EQ_INT(parse("SHOW DATABASES LIKE"), TR_SQL_UNKNOWN);
}

TR_TEST(multi_statement_split)
{
    const char *q = "show create table `d`.`a`;show create table `d`.`b`;";
    size_t next = 0;
    size_t n = tr_sql_next_statement(q, strlen(q), &next);
    EXPECT_EQ_INT(n, strlen("show create table `d`.`a`"));
    const char *r = q + next;
    n = tr_sql_next_statement(r, strlen(r), &next);
    EXPECT_EQ_INT(n, strlen("show create table `d`.`b`"));
    EXPECT_EQ_INT(next, strlen(r)); /* nothing after the last ';' */
    /* ';' inside strings, names and comments does not split */
    q = "SELECT 'a;b', `c;d` /* ; */ -- ;\n; SELECT 2";
    n = tr_sql_next_statement(q, strlen(q), &next);
    EXPECT_EQ_INT(n, strlen("SELECT 'a;b', `c;d` /* ; */ -- ;\n"));
    EXPECT_TRUE(strcmp(q + next, "SELECT 2") == 0);
    n = tr_sql_next_statement("SELECT 1", 8, &next);
    EXPECT_TRUE(n == 8 && next == 8);
}

TR_TEST_MAIN()
