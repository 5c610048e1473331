"""Every client's pre-dump query sequence against tirelay (issue 3 point 4),
statement by statement, on one connection per client, in the client's order.

The sequences are the ones the clients send (shared/spec/mysql-replication-
source.md sections 3.2-3.4, re-read in the clients' sources): MariaDB 10.11's
replica (captured in shared/vectors/mariadb-10.11/master-general-log.txt, GTID
and file/position modes), MySQL 8.0.26+/8.4 and 5.7 replicas (rpl_replica.cc /
rpl_slave.cc), MySQL's mysqlbinlog 8.x and mariadb-binlog, mysql-binlog-
connector-java (Debezium's BinaryLogClient, MySQL and MariaDB paths),
Connector/J's connection init and Debezium's JDBC probes, go-mysql's
BinlogSyncer and canal, python-mysql-replication (with its trailing ';'
forms) and zongji. Most of these clients cannot be installed here (no Java,
Go or PyPI), so their exact statement texts are replayed with pymysql against
a running tirelay serving both listeners, and each answer is checked for
what the client needs from it: OK, column names and types, values, or the
error code it tolerates (1193 for an unknown @@variable, 1064 otherwise).
An unknown statement gets ERR 1064 and the connection stays usable.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_client_probes.py
"""

import os
import re
import sys
import time

import pymysql
import pytest
from pymysql.constants import FIELD_TYPE

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
from conftest import wait_until  # noqa: E402

UUID = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
REPLICA_UUID = "5b0dc0a4-8c3e-11ee-b3c4-0242ac120002"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MYSQL_SET_RE = re.compile(r"^%s:1-\d+$" % UUID)
MARIA_POS_RE = re.compile(r"^0-1-\d+$")
FILE_RE = re.compile(r"^tirelay-bin\.\d{6}$")
ER_PARSE = 1064
ER_UNKNOWN_SYSTEM_VARIABLE = 1193


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    """A tirelay with both listeners (listen, mariadb-listen) and a few committed
    transactions, fed by the simulator from a truth MariaDB."""
    base = tmp_path_factory.mktemp("probes")
    truth = cluster.MariaDB(str(base / "truth"), server_id=1).start()
    sim = relay_ = None
    try:
        truth.create_user("tidb", "tidbpw")
        sim = cluster.TidbSim(str(base / "sim"), truth, seed=7, rows=40, fake_interval=1.0).start()
        relay_ = cluster.Tirelay(str(base / "tirelay"), sim.pumps, sim.cluster_id, truth.port,
                                 mariadb_listen=True).start()
        st = sim.wait_done(120)
        # every transaction and DDL written: the catalogue holds the four tables
        wait_until(lambda: _gtid_executed(relay_.port).endswith(
            ":1-%d" % (st["txns"] + st["ddls"])), 120, what="tirelay caught up")
        yield relay_
    finally:
        if relay_ is not None:
            relay_.stop()
        if sim is not None:
            sim.stop()
        truth.stop()


def _connect(port, **kw):
    return pymysql.connect(host="127.0.0.1", port=port, user="repl", password="pw",
                           autocommit=True, **kw)


def _gtid_executed(port):
    c = _connect(port)
    try:
        with c.cursor() as cur:
            cur.execute("SELECT @@GLOBAL.gtid_executed")
            return cur.fetchone()[0]
    finally:
        c.close()


# ------------------------------------------------------------------ one statement, its answer

class Answer:
    def __init__(self, kind, cols=(), types=(), rows=(), code=0, msg=""):
        self.kind, self.cols, self.types, self.rows, self.code, self.msg = (
            kind, list(cols), list(types), [list(r) for r in rows], code, msg)

    def __repr__(self):
        if self.kind == "err":
            return "ERR %d %s" % (self.code, self.msg)
        if self.kind == "ok":
            return "OK"
        return "cols=%r rows=%r" % (self.cols, self.rows[:5])


def run(conn, sql):
    try:
        with conn.cursor() as cur:
            cur.execute(sql)  # no args: the text is sent exactly as written
            if cur.description is None:
                return Answer("ok")
            return Answer("rows", [d[0] for d in cur.description], [d[1] for d in cur.description],
                          cur.fetchall())
    except pymysql.err.MySQLError as e:
        if len(e.args) < 2 or not isinstance(e.args[0], int) or e.args[0] >= 2000:
            raise  # a client-side error (lost connection...) is never an answer
        return Answer("err", code=e.args[0], msg=e.args[1])


def _match(want, got):
    if callable(want):
        return bool(want(got))
    if want is None:
        return got is None
    return got is not None and str(got) == str(want)


def OK():
    def check(a):
        assert a.kind == "ok", "wanted OK, got %r" % a
    return check


def ERR(*codes):
    def check(a):
        assert a.kind == "err" and a.code in codes, "wanted ERR %s, got %r" % (codes, a)
    return check


def ROW(*vals, cols=None, types=None):
    """Exactly one row with these values (None = NULL, callables are predicates)."""
    def check(a):
        assert a.kind == "rows", "wanted a row, got %r" % a
        assert len(a.rows) == 1, "wanted one row, got %r" % a
        assert len(a.rows[0]) == len(vals), "wanted %d columns, got %r" % (len(vals), a)
        for w, g in zip(vals, a.rows[0]):
            assert _match(w, g), "value %r does not match %r in %r" % (g, w, a)
        if cols is not None:
            assert a.cols == list(cols), "columns %r, wanted %r" % (a.cols, cols)
        if types is not None:
            assert a.types == list(types), "types %r, wanted %r" % (a.types, types)
    return check


def ROWS(cols, pred=None, min_rows=0):
    def check(a):
        assert a.kind == "rows", "wanted a result set, got %r" % a
        assert a.cols == list(cols), "columns %r, wanted %r" % (a.cols, cols)
        assert len(a.rows) >= min_rows, "wanted at least %d rows, got %r" % (min_rows, a)
        if pred is not None:
            assert pred(a.rows), "rows %r do not satisfy the client" % (a.rows,)
    return check


def EMPTY(cols=None):
    def check(a):
        assert a.kind == "rows" and a.rows == [], "wanted an empty result set, got %r" % a
        if cols is not None:
            assert a.cols == list(cols), "columns %r, wanted %r" % (a.cols, cols)
    return check


def VAR(name, value):
    """SHOW VARIABLES answer: exactly the row (name, value)."""
    return ROW(name, value, cols=("Variable_name", "Value"))


def now_epoch(v):
    return abs(int(v) - time.time()) < 60


def is_int(v):
    return isinstance(v, int) or (isinstance(v, str) and v.isdigit())


# ------------------------------------------------------------------ the clients

MARIADB_1011_GTID = [  # sql/slave.cc, as captured in master-general-log.txt (connection 11)
    ("SELECT UNIX_TIMESTAMP()", ROW(now_epoch, types=[FIELD_TYPE.LONGLONG])),
    ("SHOW VARIABLES LIKE 'SERVER_ID'", VAR("server_id", "1")),
    ("SET @master_heartbeat_period= 30000001024", OK()),
    ("SET @master_binlog_checksum= @@global.binlog_checksum", OK()),
    ("SELECT @master_binlog_checksum", ROW("CRC32")),
    ("SET skip_replication=1", OK()),  # replicate_events_marked_for_skip=FILTER_ON_MASTER
    ("SET @mariadb_slave_capability=4", OK()),
    ("SELECT @@GLOBAL.gtid_domain_id", ROW(0)),
    ("SET @slave_connect_state='0-1-7'", OK()),
    ("SET @slave_gtid_strict_mode=0", OK()),
    ("SET @slave_gtid_ignore_duplicates=0", OK()),
    ("SET @slave_until_gtid='0-1-100'", OK()),
    ("SHOW VARIABLES LIKE 'rpl_semi_sync_master_enabled'", EMPTY(("Variable_name", "Value"))),
    ("SELECT @slave_connect_state", ROW("0-1-7")),
]

MARIADB_1011_FILEPOS = [  # MASTER_USE_GTID=no: binlog_gtid_pos instead of the GTID SETs
    ("SELECT UNIX_TIMESTAMP()", ROW(now_epoch)),
    ("SHOW VARIABLES LIKE 'SERVER_ID'", VAR("server_id", "1")),
    ("SET @master_heartbeat_period= 30000001024", OK()),
    ("SET @master_binlog_checksum= @@global.binlog_checksum", OK()),
    ("SELECT @master_binlog_checksum", ROW("CRC32")),
    ("SET @mariadb_slave_capability=4", OK()),
    ("SELECT binlog_gtid_pos('tirelay-bin.000001',4)", ROW(lambda v: v is None or v == "")),
    ("SELECT binlog_gtid_pos('tirelay-bin.999999',4)", ROW(None)),
]

MYSQL_8 = [  # rpl_replica.cc get_master_version_and_clock, get_master_uuid, io_thread_init_commands
    ("SELECT UNIX_TIMESTAMP()", ROW(now_epoch)),
    ("SELECT @@GLOBAL.SERVER_ID", ROW(1, cols=["@@GLOBAL.SERVER_ID"], types=[FIELD_TYPE.LONGLONG])),
    ("SET @master_heartbeat_period = 30000000000, @source_heartbeat_period = 30000000000", OK()),
    ("SET @master_binlog_checksum = @@global.binlog_checksum, "
     "@source_binlog_checksum = @@global.binlog_checksum", OK()),
    ("SELECT @source_binlog_checksum", ROW("CRC32")),
    ("SELECT @@GLOBAL.GTID_MODE", ROW("ON", cols=["@@GLOBAL.GTID_MODE"])),
    ("SELECT @@GLOBAL.SERVER_UUID", ROW(UUID)),
    ("SET @slave_uuid = '%s', @replica_uuid = '%s'" % (REPLICA_UUID, REPLICA_UUID), OK()),
    ("SELECT @@global.rpl_semi_sync_source_enabled", ERR(ER_UNKNOWN_SYSTEM_VARIABLE)),
    ("SELECT @@global.rpl_semi_sync_master_enabled", ERR(ER_UNKNOWN_SYSTEM_VARIABLE)),
    ("SELECT @replica_uuid", ROW(REPLICA_UUID)),
]

MYSQL_57 = [  # rpl_slave.cc: older spellings, SHOW VARIABLES for semi-sync, 5.6's SERVER_UUID probe
    ("SELECT UNIX_TIMESTAMP()", ROW(now_epoch)),
    ("SELECT @@GLOBAL.SERVER_ID", ROW(1)),
    ("SET @master_heartbeat_period= 30000000000", OK()),
    ("SET @master_binlog_checksum= @@global.binlog_checksum", OK()),
    ("SELECT @master_binlog_checksum", ROW("CRC32")),
    ("SELECT @@GLOBAL.GTID_MODE", ROW("ON")),
    ("SELECT @@GLOBAL.SERVER_UUID", ROW(UUID)),
    ("SHOW VARIABLES LIKE 'SERVER_UUID'", VAR("server_uuid", UUID)),
    ("SET @slave_uuid= '%s'" % REPLICA_UUID, OK()),
    ("SHOW VARIABLES LIKE 'rpl_semi_sync_master_enabled'", EMPTY()),
]

MYSQLBINLOG_8 = [  # client/mysqlbinlog.cc (8.0.2x+ sends both names)
    ("SELECT VERSION()", ROW(lambda v: v.startswith("5.7"))),
    ("SET @source_binlog_checksum = 'NONE', @master_binlog_checksum = 'NONE'", OK()),
    ("SET @master_binlog_checksum='NONE'", OK()),
    ("SELECT @master_binlog_checksum, @source_binlog_checksum", ROW("NONE", "NONE")),
]

MARIADB_BINLOG = [  # MariaDB client/mysqlbinlog.cc
    ("SELECT VERSION()", ROW(lambda v: "MariaDB" in v)),
    ("SET @master_binlog_checksum='NONE'", OK()),
    ("SET @mariadb_slave_capability=4", OK()),
    ("SELECT @mariadb_slave_capability", ROW(4)),
]

BINLOG_CONNECTOR_MYSQL = [  # BinaryLogClient.java (Debezium's fork)
    ("show global variables like 'gtid_purged'", ROWS(("Variable_name", "Value"),
                                                      lambda r: r[0][0] == "gtid_purged", 1)),
    ("show master status", ROWS(("File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB",
                                 "Executed_Gtid_Set"),
                                lambda r: FILE_RE.match(r[0][0]) and int(r[0][1]) > 4
                                and MYSQL_SET_RE.match(r[0][4]), 1)),
    ("show binary log status", ROWS(("File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB",
                                     "Executed_Gtid_Set"), lambda r: len(r) == 1, 1)),
    ("show global variables like 'binlog_checksum'", VAR("binlog_checksum", "CRC32")),
    ("set @master_binlog_checksum= @@global.binlog_checksum", OK()),
    ("select @@server_id", ROW(1)),
    ("set @master_heartbeat_period=6000000000", OK()),
    ("set net_write_timeout=60", OK()),
    ("set net_read_timeout=60", OK()),
]

BINLOG_CONNECTOR_MARIADB = [
    ("show master status", ROWS(("File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB"),
                                lambda r: FILE_RE.match(r[0][0]), 1)),
    ("show global variables like 'binlog_checksum'", VAR("binlog_checksum", "CRC32")),
    ("set @master_binlog_checksum= @@global.binlog_checksum", OK()),
    ("select @@server_id", ROW(1)),
    ("set @master_heartbeat_period=6000000000", OK()),
    ("SET @mariadb_slave_capability=4", OK()),
    ("SET @slave_connect_state = '0-1-3'", OK()),
    ("SET @slave_gtid_strict_mode = 0", OK()),
    ("SET @slave_gtid_ignore_duplicates = 0", OK()),
]

CONNECTORJ_INIT = (  # Connector/J 8.0 NativeSession.loadServerVariables (server >= 8.0.3)
    "/* mysql-connector-java-8.0.28 (Revision: 7ff2161da3899f379fb3171b6538b191b1c5c7e2) */"
    "SELECT  @@session.auto_increment_increment AS auto_increment_increment, "
    "@@character_set_client AS character_set_client, @@character_set_connection AS "
    "character_set_connection, @@character_set_results AS character_set_results, "
    "@@character_set_server AS character_set_server, @@collation_server AS collation_server, "
    "@@collation_connection AS collation_connection, @@init_connect AS init_connect, "
    "@@interactive_timeout AS interactive_timeout, @@license AS license, "
    "@@lower_case_table_names AS lower_case_table_names, @@max_allowed_packet AS "
    "max_allowed_packet, @@net_write_timeout AS net_write_timeout, @@performance_schema AS "
    "performance_schema, @@query_cache_size AS query_cache_size, @@query_cache_type AS "
    "query_cache_type, @@sql_mode AS sql_mode, @@system_time_zone AS system_time_zone, "
    "@@time_zone AS time_zone, @@transaction_isolation AS transaction_isolation, "
    "@@wait_timeout AS wait_timeout")
CONNECTORJ_INIT_COLS = ["auto_increment_increment", "character_set_client",
                        "character_set_connection", "character_set_results",
                        "character_set_server", "collation_server", "collation_connection",
                        "init_connect", "interactive_timeout", "license",
                        "lower_case_table_names", "max_allowed_packet", "net_write_timeout",
                        "performance_schema", "query_cache_size", "query_cache_type", "sql_mode",
                        "system_time_zone", "time_zone", "transaction_isolation", "wait_timeout"]
CONNECTORJ_51_INIT = (  # Connector/J 5.1 (server 5.7.20+ spelling)
    "/* mysql-connector-java-5.1.45 ( Revision: 9131eefa398531c7dc98776e8a3fe839e544c5b2 ) */"
    "SELECT  @@session.auto_increment_increment AS auto_increment_increment, "
    "@@character_set_client AS character_set_client, @@character_set_connection AS "
    "character_set_connection, @@character_set_results AS character_set_results, "
    "@@character_set_server AS character_set_server, @@collation_server AS collation_server, "
    "@@init_connect AS init_connect, @@interactive_timeout AS interactive_timeout, "
    "@@license AS license, @@lower_case_table_names AS lower_case_table_names, "
    "@@max_allowed_packet AS max_allowed_packet, @@net_buffer_length AS net_buffer_length, "
    "@@net_write_timeout AS net_write_timeout, @@have_query_cache AS have_query_cache, "
    "@@sql_mode AS sql_mode, @@system_time_zone AS system_time_zone, @@time_zone AS time_zone, "
    "@@tx_isolation AS tx_isolation, @@wait_timeout AS wait_timeout")


def _connectorj_init_ok(a):
    assert a.kind == "rows" and len(a.rows) == 1, a
    assert a.cols == CONNECTORJ_INIT_COLS, a.cols
    v = dict(zip(a.cols, a.rows[0]))
    # Connector/J parses these as integers and maps the character sets to Java charsets.
    for k in ("auto_increment_increment", "interactive_timeout", "lower_case_table_names",
              "max_allowed_packet", "net_write_timeout", "wait_timeout"):
        assert is_int(v[k]) and int(v[k]) >= 0, (k, v[k])
    assert int(v["max_allowed_packet"]) >= 16 << 20
    assert v["character_set_client"] == "utf8mb4" and v["collation_server"].startswith("utf8mb4")
    assert v["transaction_isolation"] == "REPEATABLE-READ"
    assert v["time_zone"] and v["license"] and v["sql_mode"] is not None


def _all_variables_sane(rows):
    names = [r[0] for r in rows]
    d = dict(rows)
    return (names == sorted(names) and len(set(names)) == len(names) and
            all(isinstance(v, str) for v in d.values()) and
            d["binlog_format"] == "ROW" and d["binlog_row_image"] == "FULL" and
            d["log_bin"] == "ON" and d["server_id"] == "1" and
            d["lower_case_table_names"] == "0" and "character_set_server" in d)


DEBEZIUM_JDBC_MYSQL = [  # Connector/J init + MySqlConnection / BinlogConnectorConnection probes
    (CONNECTORJ_INIT, _connectorj_init_ok),
    ("SET character_set_results = NULL", OK()),
    ("SET autocommit=1", OK()),
    ("SET NAMES utf8mb4", OK()),
    ("SET autocommit=0", OK()),
    ("SELECT @@session.transaction_read_only", ROW(0)),
    ("SHOW GLOBAL VARIABLES LIKE 'GTID_MODE'", VAR("gtid_mode", "ON")),
    ("SHOW MASTER STATUS", ROWS(("File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB",
                                 "Executed_Gtid_Set"), lambda r: MYSQL_SET_RE.match(r[0][4]), 1)),
    ("SELECT @@global.gtid_purged", ROW("")),
    ("SHOW GLOBAL VARIABLES LIKE 'gtid_purged'", VAR("gtid_purged", "")),
    ("SELECT GTID_SUBTRACT('%s:1-10', '%s:1-3')" % (UUID, UUID), ROW("%s:4-10" % UUID)),
    ("SELECT GTID_SUBTRACT('%s:1-10,%s:1-2', '%s:1-3')" % (UUID, REPLICA_UUID, UUID),
     ROW("%s:4-10,\n%s:1-2" % (UUID, REPLICA_UUID))),
    ("SELECT GTID_SUBTRACT('%s:1-10', '')" % UUID, ROW("%s:1-10" % UUID)),
    ("SELECT GTID_SUBTRACT('not-a-gtid', '')", ERR(1772)),
    ("SHOW BINARY LOGS", ROWS(("Log_name", "File_size", "Encrypted"),
                              lambda r: all(FILE_RE.match(x[0]) for x in r), 1)),
    ("SHOW GLOBAL VARIABLES LIKE 'binlog_format'", VAR("binlog_format", "ROW")),
    ("SHOW GLOBAL VARIABLES LIKE 'binlog_row_image'", VAR("binlog_row_image", "FULL")),
    ("SHOW VARIABLES", ROWS(("Variable_name", "Value"), _all_variables_sane, 20)),
    ("SHOW VARIABLES WHERE Variable_name IN ('character_set_server','collation_server')",
     ROWS(("Variable_name", "Value"),
          lambda r: dict(r) == {"character_set_server": "utf8mb4",
                                "collation_server": "utf8mb4_general_ci"}, 2)),
    ("SHOW VARIABLES WHERE Variable_name = 'sql_mode'", ROWS(("Variable_name", "Value"),
                                                             lambda r: len(r) == 1, 1)),
    ("SHOW SESSION STATUS LIKE 'Ssl_version'", VAR("Ssl_version", "")),
    ("SHOW GRANTS FOR CURRENT_USER",
     lambda a: a.kind == "rows" and len(a.rows) >= 1 and "REPLICATION SLAVE" in a.rows[0][0]),
    ("SHOW DATABASES", ROWS(("Database",), lambda r: ["information_schema"] in r, 1)),
    ("SHOW FULL TABLES IN `information_schema` where Table_Type = 'BASE TABLE'",
     EMPTY(("Tables_in_information_schema", "Table_type"))),
    ("SELECT schema_name, default_character_set_name, default_collation_name "
     "FROM information_schema.schemata",
     ROWS(("schema_name", "default_character_set_name", "default_collation_name"),
          lambda r: ["simdb", "utf8mb4", "utf8mb4_bin"] in r, 2)),
    ("USE `information_schema`;", OK()),
    ("SELECT @@global.gtid_executed", ROW(lambda v: MYSQL_SET_RE.match(v))),
    ("COMMIT", OK()),
]

DEBEZIUM_JDBC_MARIADB = [  # MariaDbConnection: gtid_current_pos / gtid_binlog_pos instead
    (CONNECTORJ_INIT, _connectorj_init_ok),
    ("SET autocommit=0", OK()),
    ("SHOW GLOBAL VARIABLES LIKE 'GTID_MODE'", EMPTY()),
    ("SHOW GLOBAL VARIABLES LIKE 'gtid_binlog_pos'", ROWS(("Variable_name", "Value"),
                                                         lambda r: MARIA_POS_RE.match(r[0][1]), 1)),
    ("SELECT @@global.gtid_current_pos", ROW(lambda v: MARIA_POS_RE.match(v))),
    ("SHOW MASTER STATUS", ROWS(("File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB"),
                                lambda r: FILE_RE.match(r[0][0]), 1)),
    ("SHOW BINARY LOGS", ROWS(("Log_name", "File_size"), None, 1)),
    ("SHOW GLOBAL VARIABLES LIKE 'binlog_format'", VAR("binlog_format", "ROW")),
    ("SHOW SESSION STATUS LIKE 'Ssl_version'", VAR("Ssl_version", "")),
    ("SHOW VARIABLES", ROWS(("Variable_name", "Value"), _all_variables_sane, 20)),
]

CONNECTORJ_51 = [
    (CONNECTORJ_51_INIT, lambda a: a.kind == "rows" and len(a.rows) == 1 and len(a.cols) == 19
     and dict(zip(a.cols, a.rows[0]))["have_query_cache"] == "NO"),
    ("SELECT @@session.tx_read_only", ROW(0)),
]

GO_MYSQL_MYSQL = [  # replication/binlogsyncer.go registerSlave, enableSemiSync; canal/canal.go, sync.go
    ("SHOW GLOBAL VARIABLES LIKE 'BINLOG_CHECKSUM'", VAR("binlog_checksum", "CRC32")),
    ("SET @master_binlog_checksum='NONE', @source_binlog_checksum='NONE'", OK()),
    ("SET @master_heartbeat_period = 1000000000, @source_heartbeat_period = 1000000000", OK()),
    ("SET @slave_uuid = '%s', @replica_uuid = '%s'" % (REPLICA_UUID, REPLICA_UUID), OK()),
    ("SHOW VARIABLES WHERE Variable_name IN ('rpl_semi_sync_master_enabled', "
     "'rpl_semi_sync_source_enabled')", EMPTY(("Variable_name", "Value"))),
    ("SHOW GLOBAL VARIABLES LIKE 'binlog_format';", VAR("binlog_format", "ROW")),
    ("SHOW GLOBAL VARIABLES LIKE 'binlog_row_image'", VAR("binlog_row_image", "FULL")),
    ("SHOW MASTER STATUS", ROWS(("File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB",
                                 "Executed_Gtid_Set"), lambda r: int(r[0][1]) > 4, 1)),
    ("SHOW BINARY LOG STATUS", ROWS(("File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB",
                                     "Executed_Gtid_Set"), None, 1)),
    ("SELECT @@GLOBAL.GTID_EXECUTED", ROW(lambda v: MYSQL_SET_RE.match(v))),
]

GO_MYSQL_MARIADB = [
    ("SHOW GLOBAL VARIABLES LIKE 'BINLOG_CHECKSUM'", VAR("binlog_checksum", "CRC32")),
    ("SET @master_binlog_checksum='NONE', @source_binlog_checksum='NONE'", OK()),
    ("SET @mariadb_slave_capability=4", OK()),
    ("SET @master_heartbeat_period = 1000000000, @source_heartbeat_period = 1000000000", OK()),
    ("SET @slave_uuid = '%s', @replica_uuid = '%s'" % (REPLICA_UUID, REPLICA_UUID), OK()),
    ("SET @slave_connect_state='0-1-2'", OK()),
    ("SET @slave_gtid_strict_mode=1", OK()),
    ("SHOW GLOBAL VARIABLES LIKE 'binlog_format';", VAR("binlog_format", "ROW")),
    ("SHOW BINLOG STATUS", ROWS(("File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB"),
                                lambda r: FILE_RE.match(r[0][0]), 1)),
    ("SELECT @@GLOBAL.gtid_current_pos", ROW(lambda v: MARIA_POS_RE.match(v))),
]

PYTHON_MYSQL_REPLICATION = [  # binlogstream.py (1.0): stream connection, then the ctl connection
    ("SELECT VERSION();", ROW(lambda v: v.startswith("5.7"))),
    ("SHOW GLOBAL VARIABLES LIKE 'BINLOG_CHECKSUM'", VAR("binlog_checksum", "CRC32")),
    ("SET @master_binlog_checksum= @@global.binlog_checksum", OK()),
    ("SET @slave_uuid = '%s', @replica_uuid = '%s'" % (REPLICA_UUID, REPLICA_UUID), OK()),
    ("SET @master_heartbeat_period= 30000000000", OK()),
    ("SET @mariadb_slave_capability=4", OK()),
    ("SHOW MASTER STATUS", ROWS(("File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB",
                                 "Executed_Gtid_Set"), None, 1)),
    ("SHOW VARIABLES LIKE 'BINLOG_ROW_METADATA';", VAR("binlog_row_metadata", "FULL")),
    ("SHOW VARIABLES LIKE 'BINLOG_ROW_METADATA'", VAR("binlog_row_metadata", "FULL")),
]

PYTHON_MYSQL_REPLICATION_MARIADB = [
    ("SELECT VERSION();", ROW(lambda v: "MariaDB" in v)),
    ("SHOW GLOBAL VARIABLES LIKE 'BINLOG_CHECKSUM'", VAR("binlog_checksum", "CRC32")),
    ("SET @master_binlog_checksum= @@global.binlog_checksum", OK()),
    ("SET @mariadb_slave_capability=4", OK()),
    ("SET @slave_connect_state = '0-1-1'", OK()),
    ("SET @slave_gtid_strict_mode=1", OK()),
    ("SET @slave_gtid_ignore_duplicates=0", OK()),
    ("SHOW VARIABLES LIKE 'BINLOG_ROW_METADATA';", VAR("binlog_row_metadata", "FULL")),
]

ZONGJI = [  # @vlasky/zongji index.js: ctrl connection, then the binlog connection
    ("select @@GLOBAL.binlog_checksum as checksum", ROW("CRC32", cols=["checksum"])),
    ("SHOW BINARY LOGS", ROWS(("Log_name", "File_size", "Encrypted"), None, 1)),
    ("SELECT VERSION() AS version", ROW(lambda v: v.startswith("5.7"), cols=["version"])),
    ("SELECT @@GLOBAL.gtid_executed AS gtidExecuted", ROW(lambda v: MYSQL_SET_RE.match(v),
                                                           cols=["gtidExecuted"])),
    ("set @master_binlog_checksum=@@global.binlog_checksum", OK()),
    ("SELECT 1", ROW(1, cols=["1"])),
]

ADMIN_CLI = [  # mysql / mariadb command-line client
    ("select @@version_comment limit 1", ROW("tirelay")),
    ("SELECT DATABASE(), USER() limit 1", ROW(None, lambda v: v.startswith("repl@"))),
]

# ------------------------------------------------------------------ the catalogue they read
# (issue 14 point 3; the statements as each client's source sends them: Debezium
# BinlogConnectorConnection / BinlogSnapshotChangeEventSource, Canal TableMetaCache /
# DatabaseTableMeta, Maxwell SchemaCapturer, go-mysql schema/schema.go, Flink CDC
# TableDiscoveryUtils / StatementUtils / MySqlSchema, python-mysql-replication
# binlogstream.py and row_event.py, the ZongJi family's _fetchTableInfo.) The fixture's
# workload has simdb.t_orders (id BIGINT PRIMARY KEY, customer VARCHAR(64) NOT NULL,
# amount DECIMAL(12,3), placed_at DATETIME(6), qty INT, note TEXT, flags BIGINT UNSIGNED).

ORDERS_COLS = ["id", "customer", "amount", "placed_at", "qty", "note", "flags"]


def _names(col=0):
    return lambda r: [x[col] for x in r] == ORDERS_COLS


def _create_orders(r):
    return len(r) == 1 and r[0][0] == "t_orders" and r[0][1].startswith("CREATE TABLE `t_orders` (") \
        and "PRIMARY KEY (`id`)" in r[0][1] and "`amount` decimal(12,3)" in r[0][1]


DEBEZIUM_SCHEMA_SNAPSHOT = [  # snapshot.mode=no_data: schema only, under FLUSH TABLES WITH READ LOCK
    ("SHOW DATABASES", ROWS(("Database",), lambda r: ["simdb"] in r, 2)),
    ("SHOW FULL TABLES IN `simdb` where Table_Type = 'BASE TABLE'",
     ROWS(("Tables_in_simdb", "Table_type"), lambda r: ["t_orders", "BASE TABLE"] in r, 1)),
    ("SET SESSION lock_wait_timeout=10", OK()),
    ("SET SESSION innodb_lock_wait_timeout=10", OK()),
    ("FLUSH TABLES WITH READ LOCK", OK()),
    ("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", OK()),
    ("START TRANSACTION WITH CONSISTENT SNAPSHOT", OK()),
    ("SHOW VARIABLES WHERE Variable_name IN ('character_set_server','collation_server')",
     ROWS(("Variable_name", "Value"), lambda r: len(r) == 2, 2)),
    ("SELECT schema_name, default_character_set_name, default_collation_name "
     "FROM information_schema.schemata",
     ROWS(("schema_name", "default_character_set_name", "default_collation_name"),
          lambda r: ["simdb", "utf8mb4", "utf8mb4_bin"] in r, 2)),
    ("SHOW CREATE TABLE `simdb`.`t_orders`", ROWS(("Table", "Create Table"), _create_orders, 1)),
    ("FLUSH TABLES `simdb`.`t_orders`,`simdb`.`t_items` WITH READ LOCK", OK()),
    ("USE `simdb`;", OK()),
    ("SHOW TABLE STATUS LIKE 't_orders';", lambda a: a.kind == "rows" and len(a.rows) == 1
     and a.cols[4] == "Rows" and is_int(a.rows[0][4])),
    ("UNLOCK TABLES", OK()),
    ("ROLLBACK", OK()),
    # snapshot.mode=initial reads rows: tirelay has none, and says so
    ("SELECT * FROM `simdb`.`t_orders`", lambda a: a.kind == "err" and a.code == 1235
     and "no table data" in a.msg),
]

CANAL = [  # MysqlConnection on the meta connection; DatabaseTableMeta.dumpTableMeta
    ("show global variables  like 'rds\\_%'", EMPTY(("Variable_name", "Value"))),
    ("show global variables  like 'polarx\\_%'", EMPTY(("Variable_name", "Value"))),
    ("show variables like 'binlog_format'", VAR("binlog_format", "ROW")),
    ("show variables like 'binlog_row_image'", VAR("binlog_row_image", "FULL")),
    ("show databases", ROWS(("Database",), lambda r: ["simdb"] in r, 2)),
    ("show full tables from `simdb` where Table_type = 'BASE TABLE'",
     ROWS(("Tables_in_simdb", "Table_type"), lambda r: ["t_orders", "BASE TABLE"] in r, 1)),
    ("show create table `simdb`.`t_orders`", ROWS(("Table", "Create Table"), _create_orders, 1)),
    ("desc `simdb`.`t_orders`", ROWS(("Field", "Type", "Null", "Key", "Default", "Extra"),
                                     lambda r: _names()(r) and r[0][1:4] == ["bigint(20)", "NO",
                                                                            "PRI"], 7)),
]

MAXWELL = [  # SchemaCapturer (prepared statements sent as text by Connector/J)
    ("select @@character_set_server", ROW("utf8mb4", cols=["@@character_set_server"])),
    ("select @@lower_case_table_names", ROW(0)),
    ("SHOW VARIABLES LIKE 'log_bin'", VAR("log_bin", "ON")),
    ("SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM INFORMATION_SCHEMA.SCHEMATA "
     "ORDER BY SCHEMA_NAME",
     ROWS(("SCHEMA_NAME", "DEFAULT_CHARACTER_SET_NAME"), lambda r: ["simdb", "utf8mb4"] in r, 2)),
    ("SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM INFORMATION_SCHEMA.SCHEMATA "
     "WHERE SCHEMA_NAME IN ('simdb') ORDER BY SCHEMA_NAME",
     ROWS(("SCHEMA_NAME", "DEFAULT_CHARACTER_SET_NAME"), lambda r: r == [["simdb", "utf8mb4"]],
          1)),
    ("SELECT TABLES.TABLE_NAME, CCSA.CHARACTER_SET_NAME FROM INFORMATION_SCHEMA.TABLES "
     "LEFT JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY AS CCSA ON "
     "TABLES.TABLE_COLLATION = CCSA.COLLATION_NAME WHERE TABLES.TABLE_SCHEMA = 'simdb' ",
     ROWS(("TABLE_NAME", "CHARACTER_SET_NAME"), lambda r: ["t_orders", "utf8mb4"] in r, 4)),
    ("SELECT TABLES.TABLE_NAME, CCSA.CHARACTER_SET_NAME FROM INFORMATION_SCHEMA.TABLES "
     "LEFT JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY AS CCSA ON "
     "TABLES.TABLE_COLLATION = CCSA.COLLATION_NAME WHERE TABLES.TABLE_SCHEMA = 'simdb'  AND "
     "TABLES.TABLE_NAME IN ('t_orders')",
     ROWS(("TABLE_NAME", "CHARACTER_SET_NAME"), lambda r: r == [["t_orders", "utf8mb4"]], 1)),
    ("SELECT TABLE_NAME,COLUMN_NAME, DATA_TYPE, CHARACTER_SET_NAME, ORDINAL_POSITION, "
     "COLUMN_TYPE, DATETIME_PRECISION, COLUMN_KEY FROM `information_schema`.`COLUMNS` WHERE "
     "TABLE_SCHEMA = 'simdb' ORDER BY TABLE_NAME, ORDINAL_POSITION",
     ROWS(("TABLE_NAME", "COLUMN_NAME", "DATA_TYPE", "CHARACTER_SET_NAME", "ORDINAL_POSITION",
           "COLUMN_TYPE", "DATETIME_PRECISION", "COLUMN_KEY"),
          lambda r: [x[1] for x in r if x[0] == "t_orders"] == ORDERS_COLS
          and all(x[7] is not None and x[5] is not None for x in r)
          and ["t_orders", "placed_at", "datetime", None, 4, "datetime(6)", 6, ""] in r
          and r == sorted(r, key=lambda x: (x[0], x[4])), 20)),
    ("SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION FROM information_schema.KEY_COLUMN_USAGE "
     "WHERE CONSTRAINT_NAME = 'PRIMARY' AND TABLE_SCHEMA = 'simdb' ORDER BY TABLE_NAME, "
     "ORDINAL_POSITION",
     ROWS(("TABLE_NAME", "COLUMN_NAME", "ORDINAL_POSITION"),
          lambda r: ["t_orders", "id", 1] in r, 4)),
]

MAXWELL_MARIADB = MAXWELL + [  # detectMariaDBJSON (MariaDB 10.2+)
    ("SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE from "
     "INFORMATION_SCHEMA.CHECK_CONSTRAINTS where CHECK_CLAUSE LIKE 'json_valid(%)'",
     ROWS(("CONSTRAINT_SCHEMA", "TABLE_NAME", "CONSTRAINT_NAME", "CHECK_CLAUSE"))),
]

GO_MYSQL_SCHEMA = [  # schema.NewTable: fetchColumns, fetchIndexes; IsTableExist
    ("show full columns from `simdb`.`t_orders`",
     ROWS(("Field", "Type", "Collation", "Null", "Key", "Default", "Extra", "Privileges",
           "Comment"), lambda r: _names()(r) and r[1][2] == "utf8mb4_bin"
          and r[6][1] == "bigint(20) unsigned", 7)),
    ("show index from `simdb`.`t_orders`",
     lambda a: a.kind == "rows" and a.rows[0][2] == "PRIMARY" and a.rows[0][4] == "id"
     and a.cols[:5] == ["Table", "Non_unique", "Key_name", "Seq_in_index", "Column_name"]),
    ("SELECT * FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = 'simdb' and "
     "TABLE_NAME = 't_orders' LIMIT 1", lambda a: a.kind == "rows" and len(a.rows) == 1),
    ("SELECT * FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = 'simdb' and "
     "TABLE_NAME = 'gone' LIMIT 1", EMPTY()),
]

FLINK_CDC = [  # TableDiscoveryUtils, MySqlSchema, StatementUtils; the pipeline connector
    ("SHOW DATABASES WHERE `database` NOT IN ('information_schema', 'mysql', "
     "'performance_schema', 'sys')", ROWS(("Database",), lambda r: r == [["simdb"]], 1)),
    ("SHOW FULL TABLES IN `simdb` where Table_Type = 'BASE TABLE'",
     ROWS(("Tables_in_simdb", "Table_type"), None, 4)),
    ("SHOW CREATE TABLE `simdb`.`t_orders`", ROWS(("Table", "Create Table"), _create_orders, 1)),
    ("DESC `simdb`.`t_orders`", ROWS(("Field", "Type", "Null", "Key", "Default", "Extra"),
                                     _names(), 7)),
    ("USE `simdb`;", OK()),
    ("SHOW TABLE STATUS LIKE 't_orders';", lambda a: a.kind == "rows" and len(a.rows) == 1
     and len(a.cols) >= 5 and is_int(a.rows[0][4])),
    ("SELECT MIN(`id`), MAX(`id`) FROM `simdb`.`t_orders`",
     lambda a: a.kind == "err" and a.code == 1235),
]

PYTHON_MYSQL_REPLICATION_COLUMNS = [
    # 1.x row_event.py fetch_column_names (use_column_name_cache=True), as PyMySQL sends it
    ("\n            SELECT COLUMN_NAME\n            FROM INFORMATION_SCHEMA.COLUMNS\n"
     "            WHERE TABLE_SCHEMA = 'simdb' AND TABLE_NAME = 't_orders'\n"
     "            ORDER BY ORDINAL_POSITION\n        ", ROWS(("COLUMN_NAME",), _names(), 7)),
    # 0.x binlogstream.py __get_table_information (no ORDER BY; sorted client-side)
    ("\n                    SELECT\n                        COLUMN_NAME, COLLATION_NAME, "
     "CHARACTER_SET_NAME,\n                        COLUMN_COMMENT, COLUMN_TYPE, COLUMN_KEY, "
     "ORDINAL_POSITION,\n                        DATA_TYPE, CHARACTER_OCTET_LENGTH\n"
     "                    FROM\n                        information_schema.columns\n"
     "                    WHERE\n                        table_schema = 'simdb' AND "
     "table_name = 't_orders'\n                    ",
     ROWS(("COLUMN_NAME", "COLLATION_NAME", "CHARACTER_SET_NAME", "COLUMN_COMMENT", "COLUMN_TYPE",
           "COLUMN_KEY", "ORDINAL_POSITION", "DATA_TYPE", "CHARACTER_OCTET_LENGTH"),
          lambda r: _names()(r) and r[0][5] == "PRI" and r[1][8] == 256, 7)),
]

ZONGJI_COLUMNS = [
    # nevill/zongji 0.5 (and mysqlrepl, @rodrigogs/zongji): no ORDER BY, ordinal order needed
    ("SELECT COLUMN_NAME, COLLATION_NAME, CHARACTER_SET_NAME, COLUMN_COMMENT, COLUMN_TYPE FROM "
     "information_schema.columns WHERE table_schema='simdb' AND table_name='t_orders'",
     ROWS(("COLUMN_NAME", "COLLATION_NAME", "CHARACTER_SET_NAME", "COLUMN_COMMENT",
           "COLUMN_TYPE"), lambda r: _names()(r) and r[6][4] == "bigint(20) unsigned", 7)),
    # @vlasky/zongji 0.5.7 and @powersync/mysql-zongji
    ("SELECT \n  COLUMN_NAME, COLLATION_NAME, CHARACTER_SET_NAME, \n  COLUMN_COMMENT, "
     "COLUMN_TYPE \n  FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA='simdb' AND "
     "TABLE_NAME='t_orders' \n  ORDER BY ORDINAL_POSITION", ROWS(("COLUMN_NAME", "COLLATION_NAME",
                                                                  "CHARACTER_SET_NAME",
                                                                  "COLUMN_COMMENT", "COLUMN_TYPE"),
                                                                 _names(), 7)),
    # zero rows is fatal for ZongJi: a table that is gone gives zero rows, as on a server
    ("SELECT COLUMN_NAME FROM information_schema.columns WHERE table_schema='simdb' AND "
     "table_name='gone'", EMPTY(("COLUMN_NAME",))),
]

CLIENTS = [
    ("mariadb-10.11-replica-gtid", "mariadb", MARIADB_1011_GTID),
    ("mariadb-10.11-replica-gtid-on-mysql-listener", "mysql", MARIADB_1011_GTID),
    ("mariadb-10.11-replica-filepos", "mariadb", MARIADB_1011_FILEPOS),
    ("mysql-8.0.26+-8.4-replica", "mysql", MYSQL_8),
    ("mysql-5.7-replica", "mysql", MYSQL_57),
    ("mysqlbinlog-8", "mysql", MYSQLBINLOG_8),
    ("mariadb-binlog", "mariadb", MARIADB_BINLOG),
    ("binlog-connector-java-mysql", "mysql", BINLOG_CONNECTOR_MYSQL),
    ("binlog-connector-java-mariadb", "mariadb", BINLOG_CONNECTOR_MARIADB),
    ("connectorj-debezium-jdbc-mysql", "mysql", DEBEZIUM_JDBC_MYSQL),
    ("connectorj-debezium-jdbc-mariadb", "mariadb", DEBEZIUM_JDBC_MARIADB),
    ("connectorj-5.1", "mysql", CONNECTORJ_51),
    ("go-mysql-canal-mysql", "mysql", GO_MYSQL_MYSQL),
    ("go-mysql-canal-mariadb", "mariadb", GO_MYSQL_MARIADB),
    ("python-mysql-replication", "mysql", PYTHON_MYSQL_REPLICATION),
    ("python-mysql-replication-mariadb", "mariadb", PYTHON_MYSQL_REPLICATION_MARIADB),
    ("zongji", "mysql", ZONGJI),
    ("cli-mysql", "mysql", ADMIN_CLI),
    ("debezium-schema-snapshot-mysql", "mysql", DEBEZIUM_SCHEMA_SNAPSHOT),
    ("debezium-schema-snapshot-mariadb", "mariadb", DEBEZIUM_SCHEMA_SNAPSHOT),
    ("canal-mysql", "mysql", CANAL),
    ("canal-mariadb", "mariadb", CANAL),
    ("maxwell-mysql", "mysql", MAXWELL),
    ("maxwell-mariadb", "mariadb", MAXWELL_MARIADB),
    ("go-mysql-schema-mysql", "mysql", GO_MYSQL_SCHEMA),
    ("go-mysql-schema-mariadb", "mariadb", GO_MYSQL_SCHEMA),
    ("flink-cdc-mysql", "mysql", FLINK_CDC),
    ("flink-cdc-mariadb", "mariadb", FLINK_CDC),
    ("python-mysql-replication-columns-mysql", "mysql", PYTHON_MYSQL_REPLICATION_COLUMNS),
    ("python-mysql-replication-columns-mariadb", "mariadb", PYTHON_MYSQL_REPLICATION_COLUMNS),
    ("zongji-columns-mysql", "mysql", ZONGJI_COLUMNS),
    ("zongji-columns-mariadb", "mariadb", ZONGJI_COLUMNS),
    ("cli-mariadb", "mariadb", [ADMIN_CLI[0][:1] + (ROW("tirelay (MariaDB flavour)"),),
                                ADMIN_CLI[1]]),
]


@pytest.mark.parametrize("name,listener,steps", CLIENTS, ids=[c[0] for c in CLIENTS])
def test_client_sequence(relay, name, listener, steps):
    port = relay.port if listener == "mysql" else relay.mariadb_port
    conn = _connect(port)
    failures = []
    try:
        for i, (sql, check) in enumerate(steps):
            a = run(conn, sql)
            try:
                r = check(a)
                assert r is None or r, "answer %r does not satisfy the client" % a
            except AssertionError as e:
                failures.append("#%d %s\n    -> %s" % (i + 1, sql[:160], e))
        # The connection still answers after the whole sequence.
        assert run(conn, "SELECT 1").rows == [[1]]
    finally:
        conn.close()
    assert not failures, "%s (%s listener):\n%s" % (name, listener, "\n".join(failures))


UNKNOWN = [
    "INSERT INTO t VALUES (1)",
    "CREATE TABLE t (a int)",
    "SHOW ENGINE INNODB STATUS",
    "SELECT NOW()",
    "SELECT 1; SELECT 2",
    "SELECT 'unterminated",
    "FROBNICATE",
]


@pytest.mark.parametrize("listener", ["mysql", "mariadb"])
def test_unknown_statement_err_then_usable(relay, listener):
    port = relay.port if listener == "mysql" else relay.mariadb_port
    conn = _connect(port)
    try:
        for sql in UNKNOWN:
            a = run(conn, sql)
            assert a.kind == "err" and a.code == ER_PARSE, (sql, a)
            assert "tirelay" in a.msg and "syntax" in a.msg, (sql, a.msg)
            # the same connection answers the next statement
            assert run(conn, "SELECT @@server_id").rows == [[1]], sql
        a = run(conn, "SELECT @@no_such_variable")
        assert a.kind == "err" and a.code == ER_UNKNOWN_SYSTEM_VARIABLE, a
        assert "no_such_variable" in a.msg
        assert run(conn, "SET @x = 5").kind == "ok"
        assert run(conn, "SELECT @x").rows == [[5]]
        conn.ping(reconnect=False)
    finally:
        conn.close()
