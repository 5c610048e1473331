"""[filter] end to end (issue 6 point 5): the simulator (in this process, driven step by
step) writes to three databases -- flt_a (kept, renamed flt_a_r by rewrite-db), flt_b
(kept, but t_secret and the tmp_% tables ignored, t_users renamed customers by
rewrite-table) and flt_c (ignore-db) -- with DML across all of them (transactions mixing
kept and dropped tables, and transactions touching dropped tables only) and DDL on kept,
renamed and dropped tables.  tirelay serves both flavours; one MariaDB replica follows
the MySQL listener by file/position, one the MariaDB listener by GTID.  Both replicas
end with exactly the kept databases and tables, under the new names, equal to the
truth's rows; the dropped ones do not exist there.  mariadb-binlog decodes every file,
no dropped table appears in them, the GTID numbers are 1..N in both flavours, and
transactions touching only dropped tables use no GTID.  A RENAME TABLE across the filter
boundary stops translation (ddl-unsupported = stop) with an error naming it.
--check-config reports bad rules with their line.
Run: /usr/bin/python3 -m pytest -q -s tests/integration/test_filter.py
"""

import os
import re
import subprocess
import sys
import types

import pymysql

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
import tidbschema as ts  # noqa: E402
import tidbsim  # noqa: E402
from conftest import replicas_on_both  # noqa: E402

SEED = int(os.environ.get("TIRELAY_TEST_SEED", "20240501")) + 606
TXNS = int(os.environ.get("TIRELAY_FILTER_TXNS", "15"))
A, B, C = "flt_a", "flt_b", "flt_c"

FILTER = """
[filter]
ignore-db = flt_c
ignore-table = flt_b.t_secret
wild-ignore-table = flt_b.tmp\\_%
rewrite-db = flt_a->flt_a_r
rewrite-table = flt_b.t_users->flt_b.customers
"""


def q(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def tables_of(conn, db):
    return sorted(r[0] for r in q(conn, "SELECT table_name FROM information_schema.tables "
                                  "WHERE table_schema=%s", (db,)))


def dbs_of(conn):
    return sorted(r[0] for r in q(conn, "SELECT schema_name FROM information_schema.schemata "
                                  "WHERE schema_name LIKE 'flt%%'"))


def make_tables():
    a1 = ts.Table(A, "t1", [ts.c_int("id", big=True, pk=True), ts.c_varchar("s", 30),
                            ts.c_int("n")])
    a2 = ts.Table(A, "t2", [ts.c_int("id", pk=True), ts.c_decimal("d", 10, 2)])
    users = ts.Table(B, "t_users", [ts.c_int("id", pk=True), ts.c_varchar("name", 20)])
    secret = ts.Table(B, "t_secret", [ts.c_int("id", pk=True), ts.c_varchar("v", 20)])
    tmp = ts.Table(B, "tmp_x", [ts.c_int("id", pk=True), ts.c_int("v")])
    keep = ts.Table(B, "t_keep", [ts.c_int("id", pk=True), ts.c_varchar("v", 20)])
    c1 = ts.Table(C, "t1", [ts.c_int("id", pk=True), ts.c_varchar("v", 20)])
    return types.SimpleNamespace(a1=a1, a2=a2, users=users, secret=secret, tmp=tmp, keep=keep,
                                 c1=c1)


# where each kept table lives on the replicas
def replica_name(t):
    if t.db == A:
        return "flt_a_r", t.name
    if (t.db, t.name) == (B, "t_users"):
        return B, "customers"
    return t.db, t.name


def dml(sim, n=TXNS, tables=None):
    for _ in range(n):
        sim.run_txn(tables)


def wait_equal(rconn, tconn, kept, timeout, what):
    def equal():
        s = cluster.slave_status(rconn)
        assert s["Last_SQL_Errno"] == 0, s["Last_SQL_Error"]
        assert s["Last_IO_Errno"] == 0, s["Last_IO_Error"]
        try:
            for t in kept:
                db, name = replica_name(t)
                if cluster.checksum_table(rconn, db, name) != cluster.checksum_table(tconn, t.db, t.name):
                    return False
        except Exception:
            return False
        return True

    cluster.wait_until(equal, timeout, interval=0.3, what=what)
    for t in kept:
        db, name = replica_name(t)
        key = t.key_names()
        assert cluster.table_rows(tconn, t.db, t.name, key) == cluster.table_rows(rconn, db, name, key), \
            "%s: %s.%s differs from the truth's %s.%s" % (what, db, name, t.db, t.name)


def decoded(relay, flavor):
    """mariadb-binlog's text of every file of one flavour (it must decode them all)."""
    d = relay.binlog_dir(flavor)
    files = sorted(os.path.join(d, f) for f in os.listdir(d) if re.match(r"tirelay-bin\.\d+$", f))
    assert files, flavor
    text = []
    for f in files:  # one at a time: given several, mariadb-binlog checks GTID continuity
        p = subprocess.run(["mariadb-binlog", "--no-defaults", "-vv",
                            "--base64-output=decode-rows", f],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, (f, p.stderr)
        assert "ERROR" not in p.stdout and "ERROR" not in p.stderr, (f, p.stderr)
        text.append(p.stdout)
    return "".join(text)


def gtid_numbers(text):
    """GTID numbers of the MariaDB-flavour files as mariadb-binlog prints them."""
    return [int(n) for n in re.findall(r"GTID 0-1-(\d+)", text)]


def mysql_gtid_numbers(relay):
    """GTID numbers of the MySQL-flavour files, from SHOW BINLOG EVENTS on that listener
    (mariadb-binlog prints MySQL's GTID events as Ignorable)."""
    conn = pymysql.connect(host="127.0.0.1", port=relay.port, user="repl", password="pw",
                           autocommit=True)
    try:
        nums = []
        for row in q(conn, "SHOW BINARY LOGS"):
            for e in q(conn, "SHOW BINLOG EVENTS IN '%s'" % row[0]):
                if e[2] == "Gtid":
                    m = re.search(r"GTID_NEXT= '3e11fa47-71ca-11e1-9e33-c80aa9429562:(\d+)'", e[5])
                    assert m, e
                    nums.append(int(m.group(1)))
        return nums
    finally:
        conn.close()


def test_filter_and_rename_both_flavours(truth, replica, mariadb_instance, tirelay, tmp_path):
    assert os.access(cluster.tirelay_bin(), os.X_OK), "tirelay binary not built"
    ports = ",".join(str(cluster.free_port()) for _ in range(2))
    sim = tidbsim.embedded(["--mysql-socket", truth.socket, "--mysql-user", "root",
                            "--cluster-id", "6789", "--pumps", "2", "--pump-ports", ports,
                            "--fake-interval", "0.5", "--seed", str(SEED), "--max-ops", "8",
                            "--max-table-rows", "300", "--gen-dir", str(tmp_path / "gen")])
    try:
        run(sim, truth, replica, mariadb_instance, tirelay)
    finally:
        sim.close()


def run(sim, truth, replica, mariadb_instance, tirelay):
    handle = types.SimpleNamespace(pumps=sim.pump_addrs, cluster_id=6789)
    relay = tirelay(handle, truth, max_binlog_size=32 * 1024, mariadb_listen=True,
                    extra_conf=FILTER)
    r_my, r_ma = replicas_on_both(relay, replica, mariadb_instance)
    tconn = truth.connect()
    T = make_tables()

    for db in (A, B, C):
        sim.ddl_create_database(db)
    for t in (T.a1, T.a2, T.users, T.secret, T.tmp, T.keep, T.c1):
        sim.ddl_create_table(t)
    dml(sim, 4 * TXNS)                              # transactions over every table
    dml(sim, TXNS, [T.secret, T.tmp, T.c1])        # dropped tables only: no GTID
    dml(sim, TXNS, [T.a1, T.c1])

    # DDL: on a table of the renamed database (default database renamed), on the renamed
    # table (its name rewritten in the text), on dropped tables (not written)
    sim.ddl_add_column(T.a1, ts.c_varchar("extra", 20, default="x"))
    sim.ddl_add_column(T.users, ts.c_int("age"))
    sim.ddl_add_column(T.secret, ts.c_int("w"))
    sim.ddl_add_column(T.c1, ts.c_int("w"))
    dml(sim)
    sim.ddl_add_index(T.users, "i_name", ["name"])
    sim.ddl_truncate_table(T.a2)
    dml(sim)
    sim.ddl_rename_table(T.a2, "t2b")              # both names kept
    sim.ddl_rename_table(T.tmp, "tmp_y")           # both names dropped
    t_new_c = ts.Table(C, "t2", [ts.c_int("id", pk=True)])
    sim.ddl_create_table(t_new_c)
    dml(sim, 2 * TXNS)

    kept = [T.a1, T.a2, T.users, T.keep]
    wait_equal(r_my, tconn, kept, 300, "MySQL listener (file/pos): kept tables == truth")
    wait_equal(r_ma, tconn, kept, 300, "MariaDB listener (GTID): kept tables == truth")

    # filtered transactions use no GTID: N filtered-only transactions and one kept one
    # add exactly one GTID
    before = gtid_numbers(decoded(relay, "mariadb"))
    dml(sim, TXNS, [T.secret, T.c1, T.tmp])
    sim.run_txn([T.keep])
    wait_equal(r_ma, tconn, kept, 300, "MariaDB listener after filtered-only transactions")
    wait_equal(r_my, tconn, kept, 300, "MySQL listener after filtered-only transactions")

    for conn, what in ((r_my, "mysql-listener replica"), (r_ma, "mariadb-listener replica")):
        assert dbs_of(conn) == ["flt_a_r", B], what
        assert tables_of(conn, "flt_a_r") == ["t1", "t2b"], what
        assert tables_of(conn, B) == ["customers", "t_keep"], what
        cols = [r[0] for r in q(conn, "SELECT column_name FROM information_schema.columns WHERE "
                                "table_schema=%s AND table_name='customers' ORDER BY "
                                "ordinal_position", (B,))]
        assert cols == ["id", "name", "age"], (what, cols)
        assert q(conn, "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema=%s "
                 "AND table_name='customers' AND index_name='i_name'", (B,))[0][0] == 1, what
    for t in kept:
        assert q(tconn, "SELECT COUNT(*) FROM `%s`.`%s`" % (t.db, t.name))[0][0] > 0, t.name
    for t in (T.secret, T.tmp, T.c1):
        assert q(tconn, "SELECT COUNT(*) FROM `%s`.`%s`" % (t.db, t.name))[0][0] > 0, t.name

    for flavor in ("mysql", "mariadb"):
        text = decoded(relay, flavor)
        for name in ("`flt_c`", "t_secret", "tmp_x", "tmp_y", "t_users", "`flt_a`"):
            assert name not in text, (flavor, name)
        assert "`flt_a_r`.`t1`" in text and "`flt_b`.`customers`" in text, flavor
    after = gtid_numbers(decoded(relay, "mariadb"))
    assert after == list(range(1, len(after) + 1)), after[:20]
    assert len(after) == len(before) + 1, (len(before), len(after))
    assert mysql_gtid_numbers(relay) == after

    # a RENAME TABLE from a kept name to a dropped one cannot be replicated faithfully:
    # translation stops before writing it (ddl-unsupported = stop), naming the statement
    sim.ddl_rename_table(T.keep, "t_keep", C)
    sim.run_txn([T.a1])
    cluster.wait_until(lambda: "DDL cannot be filtered safely" in relay.log_text(), 120,
                       what="the cross-boundary RENAME refused")
    log = relay.log_text()
    assert "RENAME TABLE between a replicated and a filtered-out name" in log
    assert "RENAME TABLE `flt_b`.`t_keep` TO `flt_c`.`t_keep`" in log
    relay.stop()


def test_check_config_reports_bad_rules(tmp_path):
    f = tmp_path / "bad.cnf"
    f.write_text("[upstream]\npumps = 127.0.0.1:8250\ntidb = u:p@127.0.0.1:4000\n"
                 "[users]\nrepl = pw\n"
                 "[filter]\n"
                 "do-db = app.t1\n"                       # 7: a table in do-db
                 "wild-do-table = app%\n"                 # 8: no dot
                 "rewrite-db = a=>b\n"                    # 9
                 "do-table = mysql.user\n"                # 10: system schema
                 "rewrite-db = x->y\n"
                 "rewrite-db = X->z\n")                   # 12: renamed twice
    p = subprocess.run([cluster.tirelay_bin(), "--config", str(f), "--check-config"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p
    err = p.stderr
    for want in ("bad.cnf:7: [filter] do-db: expected a database name",
                 "bad.cnf:8: [filter] wild-do-table: expected db_pattern.table_pattern",
                 "bad.cnf:9: [filter] rewrite-db: expected from_db->to_db, got 'a=>b'",
                 "bad.cnf:10: [filter] do-table: system schemas never replicate",
                 "bad.cnf:12: [filter] rewrite-db: renamed twice"):
        assert want in err, (want, err)
