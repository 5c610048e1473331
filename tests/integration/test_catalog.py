"""The schema catalogue (issue 14 point 3) against real servers.

The MariaDB listener: the simulator creates the column-type matrix and the table-shape
tables (no primary key with and without a UNIQUE key, composite and clustered VARCHAR
keys), adds columns mid-run, and a real MariaDB replica follows tirelay's MariaDB listener
by GTID. Once it equals the truth, every catalogue answer of tirelay's MariaDB listener
(tests/sim/catalogcheck.py: SHOW DATABASES, SHOW FULL TABLES | COLUMNS, SHOW INDEX, SHOW
CREATE TABLE, information_schema SCHEMATA, TABLES, COLUMNS, STATISTICS, KEY_COLUMN_USAGE,
TABLE_CONSTRAINTS, CHECK_CONSTRAINTS) must be the replica's own answer, cell for cell.

The MySQL listener (no MySQL server runs here): the same tables as MySQL and TiDB print
them: JSON as `json` with no charset, utf8 as utf8mb3, the column lists of MySQL 8.0's
information_schema, SHOW INDEX with Visible/Expression.

Both listeners: the errors a server gives (1049, 1146, 1054, 1109, 1046), reading a
table's rows (ERR 1235 saying tirelay holds no table data), USE and the handshake's
database, multi-statement queries (Canal), every account may read the catalogue.
Run: /usr/bin/python3 -m pytest -q tests/integration/test_catalog.py
"""

import os
import re
import sys
import types

import pymysql
import pytest
from pymysql.constants import CLIENT

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import catalogcheck  # noqa: E402
import cluster  # noqa: E402
import tidbschema as ts  # noqa: E402
import tidbsim  # noqa: E402
from conftest import wait_replica_equal  # noqa: E402

SEED = int(os.environ.get("TIRELAY_TEST_SEED", "20240501")) + 141


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("catalog")
    truth = cluster.MariaDB(str(base / "truth"), server_id=1).start()
    replica = sim = relay = None
    try:
        truth.create_user("tidb", "tidbpw")
        sim = cluster.TidbSim(str(base / "sim"), truth, seed=SEED, rows=1500, fake_interval=1.0,
                              extra=["--types", "all", "--shapes", "--alter",
                                     "--alter-rows", "700"]).start()
        # repl is not an admin account: every account may read the catalogue
        relay = cluster.Tirelay(str(base / "tirelay"), sim.pumps, sim.cluster_id, truth.port,
                                mariadb_listen=True, admin_users="").start()
        replica = cluster.MariaDB(str(base / "replica"), server_id=2).start()
        r = diff_utc(replica.replicate_from(relay.mariadb_port, gtid="slave_pos",
                                            gtid_slave_pos=""))
        st = sim.wait_done(600)
        wait_replica_equal(r, diff_utc(truth.connect()), st, 300,
                           "replica on the MariaDB listener == truth", rows_only=["t_ty_gen"])
        yield {"truth": truth, "replica": replica, "sim": sim, "relay": relay, "st": st}
    finally:
        for p in (relay, sim, replica):
            if p is not None:
                p.stop()
        truth.stop()


def diff_utc(conn):
    with conn.cursor() as cur:
        cur.execute("SET time_zone = '+00:00'")
    return conn


def connect(port, **kw):
    return pymysql.connect(host="127.0.0.1", port=port, user="repl", password="pw",
                           autocommit=True, **kw)


def rows(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return [tuple(r) for r in cur.fetchall()]


def err(conn, sql):
    try:
        rows(conn, sql)
    except pymysql.err.MySQLError as e:
        return e.args[0], e.args[1]
    return None


def test_mariadb_listener_equals_a_replica(setup):
    relay, replica, st = setup["relay"], setup["replica"], setup["st"]
    got = catalogcheck.compare(connect(relay.mariadb_port), replica.connect(), [st["db"]])
    assert got == [], "\n".join(got)
    # and the comparison saw the interesting parts
    snap = catalogcheck.snapshot(connect(relay.mariadb_port), [st["db"]])
    types = {r[15] for r in snap["COLUMNS " + st["db"]]}
    for t in ("bigint(20) unsigned", "int(8) unsigned zerofill", "bit(64)", "decimal(65,30)",
              "datetime(6)", "timestamp(3)", "time(4)", "year(4)", "varchar(100)", "char(20)",
              "binary(8)", "varbinary(64)", "tinytext", "longtext", "mediumblob",
              "enum('a','b','é','x y','?')", "set('r','w','x','ü')"):
        assert t in types, (t, sorted(types))
    assert snap["CHECK_CONSTRAINTS " + st["db"]], "JSON columns have MariaDB's json_valid checks"


def test_mysql_listener_shows_mysql_types(setup):
    relay, st = setup["relay"], setup["st"]
    db = st["db"]
    c = connect(relay.port)
    cols = {(r[2], r[3]): r for r in rows(c, "SELECT * FROM information_schema.COLUMNS "
                                             "WHERE TABLE_SCHEMA = '%s'" % db)}
    with c.cursor() as cur:
        cur.execute("SELECT * FROM information_schema.COLUMNS LIMIT 1")
        hdr = [d[0] for d in cur.description]
    assert hdr[-2:] == ["GENERATION_EXPRESSION", "SRS_ID"] and "IS_GENERATED" not in hdr
    json_cols = [r for k, r in cols.items() if k[0] == "t_ty_json"]
    assert json_cols and all(r[7] == "json" and r[15] == "json" and r[13] is None
                             for r in json_cols if r[3] != "id"), json_cols
    # MySQL keeps ENUM members in utf8mb4; MariaDB's table definitions hold utf8mb3 ('?')
    assert cols[("t_ty_str", "e")][15] == "enum('a','b','é','x y','😀')"
    u3 = cols[("t_ty_str", "u3")]
    assert (u3[13], u3[14], u3[15]) == ("utf8mb3", "utf8mb3_bin", "varchar(30)"), u3
    with c.cursor() as cur:
        cur.execute("SHOW INDEX FROM `%s`.`t_ty_num`" % db)
        hdr = [d[0] for d in cur.description]
        assert hdr[-2:] == ["Visible", "Expression"], hdr
        assert cur.fetchall()[0][2] == "PRIMARY"
    text = rows(c, "SHOW CREATE TABLE `%s`.`t_ty_json`" % db)[0][1]
    assert " json " in text and "json_valid" not in text, text


def test_errors_as_a_server_gives_them(setup):
    relay, st = setup["relay"], setup["st"]
    db = st["db"]
    for port in (relay.port, relay.mariadb_port):
        c = connect(port)
        assert err(c, "SHOW TABLES FROM nosuchdb")[0] == 1049
        assert err(c, "SHOW COLUMNS FROM `%s`.nosuch" % db)[0] == 1146
        assert err(c, "SHOW CREATE TABLE nosuch")[0] == 1046  # no database selected
        assert err(c, "SELECT nosuchcol FROM information_schema.TABLES")[0] == 1054
        assert err(c, "SELECT 1 FROM information_schema.NOSUCH")[0] == 1109
        e = err(c, "SELECT * FROM `%s`.`t_ty_num`" % db)
        assert e[0] == 1235 and "no table data" in e[1], e
        assert err(c, "SELECT MIN(id), MAX(id) FROM `%s`.`t_ty_num`" % db)[0] == 1235
        assert err(c, "SELECT * FROM `%s`.nosuch" % db)[0] == 1146
        assert err(c, "USE nosuchdb")[0] == 1049
        assert rows(c, "USE `%s`" % db) == []
        assert rows(c, "SELECT DATABASE()") == [(db,)]
        assert [r[0] for r in rows(c, "SHOW TABLES")] == sorted(t["name"] for t in st["tables"])
        assert rows(c, "SHOW TABLE STATUS LIKE 't_ty_num'")[0][:2] == ("t_ty_num", "InnoDB")
        c.close()


def test_handshake_database(setup):
    relay, st = setup["relay"], setup["st"]
    for port in (relay.port, relay.mariadb_port):
        c = pymysql.connect(host="127.0.0.1", port=port, user="repl", password="pw",
                            database=st["db"])
        assert rows(c, "SELECT DATABASE()") == [(st["db"],)]
        c.close()
        c = pymysql.connect(host="127.0.0.1", port=port, user="repl", password="pw",
                            database="information_schema")
        # mysql-events: unqualified FROM with information_schema selected
        got = rows(c, "SELECT COLUMN_NAME FROM columns WHERE table_schema=\"%s\" AND "
                      "table_name=\"t_ty_num\" ORDER BY ORDINAL_POSITION" % st["db"])
        assert got[0] == ("id",)
        c.close()
        with pytest.raises(pymysql.err.OperationalError) as e:
            pymysql.connect(host="127.0.0.1", port=port, user="repl", password="pw",
                            database="nosuchdb")
        assert e.value.args[0] == 1049


def test_multi_statement_query(setup):
    """Canal's form: several SHOW CREATE TABLEs in one query, one result set each."""
    relay, st = setup["relay"], setup["st"]
    db = st["db"]
    for port in (relay.port, relay.mariadb_port):
        c = connect(port, client_flag=CLIENT.MULTI_STATEMENTS)
        with c.cursor() as cur:
            cur.execute("show create table `%s`.`t_ty_num`;show create table `%s`.`t_ty_str`;"
                        % (db, db))
            first = cur.fetchall()
            assert cur.nextset()
            second = cur.fetchall()
            assert not cur.nextset()
        assert first[0][0] == "t_ty_num" and second[0][0] == "t_ty_str"
        # an error ends the batch, as in MySQL
        with pytest.raises(pymysql.err.MySQLError):
            with c.cursor() as cur:
                cur.execute("SHOW TABLES FROM nosuchdb; SELECT 1")
        c.close()


def test_snapshot_lock_holds_one_view(mariadb_instance, tirelay, tmp_path):
    """FLUSH TABLES WITH READ LOCK (Debezium's snapshot: lock, SHOW MASTER STATUS, read the
    schema, UNLOCK TABLES) gives the session one view until UNLOCK: while tirelay writes an
    ALTER and more rows, the locked session keeps answering the position, GTID set and
    columns of the moment it locked; another session sees the new ones; UNLOCK catches up.
    Also for LOCK TABLES FOR BACKUP and LOCK INSTANCE FOR BACKUP (Percona, MySQL 8)."""
    truth = mariadb_instance("truth", server_id=1)
    truth.create_user("tidb", "tidbpw")
    sim = tidbsim.embedded(["--mysql-socket", truth.socket, "--mysql-user", "root",
                            "--cluster-id", "6789", "--pumps", "1", "--pump-ports",
                            str(cluster.free_port()), "--fake-interval", "0.5", "--seed",
                            str(SEED), "--gen-dir", str(tmp_path / "gen")])
    try:
        relay = tirelay(types.SimpleNamespace(pumps=sim.pump_addrs, cluster_id=6789), truth,
                        mariadb_listen=True)
        t = ts.Table("lockdb", "t", [ts.c_int("id", pk=True), ts.c_varchar("v", 20)])
        sim.ddl_create_database("lockdb")
        sim.ddl_create_table(t)
        sim.run_statement(t, "insert", 2)
        written = 3              # transactions (each DDL is one) the relay must have written
        cases = ((relay.port, "FLUSH TABLES WITH READ LOCK", "@@GLOBAL.gtid_executed"),
                 (relay.mariadb_port, "LOCK TABLES FOR BACKUP", "@@GLOBAL.gtid_binlog_pos"),
                 (relay.port, "LOCK INSTANCE FOR BACKUP", "@@GLOBAL.gtid_executed"))
        for k, (port, lock, gtid_var) in enumerate(cases):
            def state(c):
                with c.cursor() as cur:
                    cur.execute("SHOW MASTER STATUS")
                    pos = cur.fetchone()[:2]
                    cur.execute("SELECT " + gtid_var)
                    gtids = cur.fetchone()[0]
                    cur.execute("SHOW COLUMNS FROM lockdb.t")
                    cols = [r[0] for r in cur.fetchall()]
                return pos, gtids, cols

            def caught_up(c):
                # the last GTID number: 'uuid:1-N' (MySQL), '0-1-N' (MariaDB)
                g = state(c)[1]
                return g != "" and int(re.split("[-:]", g)[-1]) == written

            other = connect(port)
            cluster.wait_until(lambda: caught_up(other), 30, what="every transaction written")
            locked = connect(port)
            with locked.cursor() as cur:
                cur.execute(lock)
            before = state(locked)
            assert before == state(other)
            col = "c%d" % k
            sim.ddl_add_column(t, ts.c_int(col))       # tirelay writes an ALTER and rows
            sim.run_statement(t, "insert", 2)
            written += 2
            cluster.wait_until(lambda: caught_up(other), 30, what="ALTER and rows written")
            assert col in state(other)[2]
            assert state(locked) == before, (lock, state(locked), before)
            with locked.cursor() as cur:
                cur.execute("UNLOCK TABLES")
            assert state(locked) == state(other)
            locked.close()
            other.close()
    finally:
        sim.close()
