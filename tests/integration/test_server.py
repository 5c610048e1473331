"""Server-side conformance of tirelay's MySQL-protocol front, without the
upstream: tests/tools/tr_serve_fixture.c serves a synthetic store (N small
transactions into d.t, optionally one more every EVERY_MS) and real clients
talk to it: pymysql (query phase, auth), mariadb-binlog (remote raw copy
byte-identical to the store, start positions and their 1236 errors), and a
real MariaDB 10.11 replica (blocking dump across rotations, heartbeats).

Run: /usr/bin/python3 -m pytest -q tests/integration/test_server.py
The fixture binary (CMake target tr_serve_fixture) is taken from $TIRELAY_BUILD
(default: the directory of $TIRELAY_BIN, else <repo>/build).
"""

import os
import subprocess
import sys

import pymysql
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
from conftest import wait_until  # noqa: E402


def build_dir():
    if os.environ.get("TIRELAY_BUILD"):
        return os.environ["TIRELAY_BUILD"]
    return os.path.dirname(cluster.tirelay_bin())


@pytest.fixture(scope="module")
def fixture_bin():
    """tests/tools/tr_serve_fixture.c, built by CMake next to the tirelay binary."""
    path = os.path.join(build_dir(), "tr_serve_fixture")
    assert os.access(path, os.X_OK), "tr_serve_fixture not built in %s (cmake --build)" % build_dir()
    return path


class Fixture:
    def __init__(self, binary, base, n, max_size=65536, every_ms=0):
        self.base = base
        self.port = cluster.free_port()
        self.store = os.path.join(base, "store")
        self.log = open(os.path.join(base, "fixture.log"), "w")
        self.proc = subprocess.Popen(cluster.wrap([binary, self.store, str(self.port), str(n),
                                                   str(max_size), str(every_ms), "info"]),
                                     stdout=subprocess.PIPE, stderr=self.log, universal_newlines=True)
        line = self.proc.stdout.readline()
        assert line.startswith("READY"), "fixture did not start: %r" % line

    def binlog_dir(self):
        return os.path.join(self.store, "binlog", "mysql")

    def files(self):
        return sorted(f for f in os.listdir(self.binlog_dir()) if f[-6:].isdigit())

    def connect(self, user="repl", password="pw"):
        return pymysql.connect(host="127.0.0.1", port=self.port, user=user, password=password,
                               autocommit=True)

    def mariadb_binlog(self, *args, cwd=None):
        return subprocess.run(["mariadb-binlog", "--no-defaults", "--read-from-remote-server",
                               "-h127.0.0.1", "-P%d" % self.port, "-urepl", "-ppw"] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, timeout=120,
                              universal_newlines=True)

    def stop(self):
        ours = cluster.stop_process(self.proc, cluster.STOP_TIMEOUT)
        self.log.close()
        cluster.check_child("tr_serve_fixture", self.proc, os.path.join(self.base, "fixture.log"),
                            ours)


@pytest.fixture
def serve(fixture_bin, tmp_path):
    started = []

    def make(n, **kw):
        base = tmp_path / ("fx%d" % len(started))
        base.mkdir()
        f = Fixture(fixture_bin, str(base), n, **kw)
        started.append(f)
        return f

    yield make
    for f in started:
        f.stop()


def query(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        cols = [d[0] for d in cur.description] if cur.description else []
        return cols, cur.fetchall()


def test_query_phase_answers(serve):
    fx = serve(50)
    c = fx.connect()
    # The exact pre-dump statements of a MariaDB 10.11 replica (general log capture).
    assert query(c, "SELECT UNIX_TIMESTAMP()")[1][0][0] > 1600000000
    assert query(c, "SHOW VARIABLES LIKE 'SERVER_ID'") == (["Variable_name", "Value"],
                                                           (("server_id", "42"),))
    query(c, "SET @master_heartbeat_period= 30000001024")
    query(c, "SET @master_binlog_checksum= @@global.binlog_checksum")
    assert query(c, "SELECT @master_binlog_checksum")[1] == (("CRC32",),)
    query(c, "SET @mariadb_slave_capability=4")
    assert query(c, "SELECT @@GLOBAL.gtid_domain_id") == (["@@GLOBAL.gtid_domain_id"], ((0,),))
    query(c, "SET @slave_connect_state=''")
    # Typed columns: numbers are LONGLONG, so pymysql returns ints.
    cols, rows = query(c, "select @@GLOBAL.server_id as sid, @@version_comment, VERSION(), 1, 'x' AS s")
    assert cols == ["sid", "@@version_comment", "VERSION()", "1", "s"]
    assert rows == ((42, "tirelay", "5.7.99-tirelay", 1, "x"),)
    assert query(c, "SELECT @@server_uuid")[1][0][0] == "3e11fa47-71ca-11e1-9e33-c80aa9429511"
    assert query(c, "SHOW GLOBAL VARIABLES LIKE 'binlog_format';")[1] == (("binlog_format", "ROW"),)
    assert query(c, "SHOW VARIABLES LIKE 'rpl_semi_sync_master_enabled'")[1] == ()
    _, logs = query(c, "SHOW BINARY LOGS")
    assert [r[0] for r in logs] == fx.files()
    assert all(r[1] == os.path.getsize(os.path.join(fx.binlog_dir(), r[0])) for r in logs)
    cols, st = query(c, "SHOW MASTER STATUS")
    assert cols[:2] == ["File", "Position"] and st[0][0] == fx.files()[-1]
    for sql, code in (("SELECT @@nope", 1193), ("SELECT * FROM t", 1046), ("DROP TABLE x", 1064)):
        with pytest.raises(pymysql.err.MySQLError) as e:
            query(c, sql)
        assert e.value.args[0] == code, sql
    query(c, "SET NAMES utf8mb4")
    c.ping()
    # KILL of another session closes it.
    c2 = fx.connect()
    cid = query(c2, "SELECT CONNECTION_ID()")[1][0][0]
    query(c, "KILL %d" % cid)
    wait_until(lambda: not _alive(c2), 10, what="killed session closed")
    c.close()
    for user, pw in (("repl", "bad"), ("nobody", "pw")):
        with pytest.raises(pymysql.err.OperationalError) as e:
            fx.connect(user, pw)
        assert e.value.args[0] == 1045


def _alive(conn):
    try:
        query(conn, "SELECT 1")
        return True
    except pymysql.err.MySQLError:
        return False


def test_mariadb_binlog_raw_copy_is_byte_identical(serve, tmp_path):
    fx = serve(2000)
    assert len(fx.files()) >= 3
    out = tmp_path / "raw"
    out.mkdir()
    r = fx.mariadb_binlog("--raw", "--to-last-log", fx.files()[0], cwd=str(out))
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(str(out))) == fx.files()
    for f in fx.files():
        with open(os.path.join(fx.binlog_dir(), f), "rb") as a, open(str(out / f), "rb") as b:
            assert a.read() == b.read(), f
    r = fx.mariadb_binlog(fx.files()[1])
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("Write_rows") > 100


def test_dump_start_positions(serve):
    fx = serve(400)
    name = fx.files()[1]
    # A real event boundary: the third "# at" of a local decode.
    local = subprocess.run(["mariadb-binlog", "--no-defaults", os.path.join(fx.binlog_dir(), name)],
                           stdout=subprocess.PIPE, universal_newlines=True).stdout
    ats = [int(line.split()[2]) for line in local.splitlines() if line.startswith("# at ")]
    full = fx.mariadb_binlog(name)
    mid = fx.mariadb_binlog("--start-position=%d" % ats[10], name)
    assert mid.returncode == 0, mid.stderr
    assert 0 < mid.stdout.count("Write_rows") < full.stdout.count("Write_rows")
    size = os.path.getsize(os.path.join(fx.binlog_dir(), name))
    for args, msg in (
        (["--start-position=%d" % (ats[10] + 1), name], "impossible position"),
        (["--start-position=%d" % (size + 1), name], "position > file size"),
        (["--start-position=2", name], "position < 4"),
        (["tirelay-bin.999999"], "Could not find first log file name in binary log index file"),
    ):
        r = fx.mariadb_binlog(*args)
        assert r.returncode != 0 and msg in r.stderr, (args, r.stderr)


def test_replica_follows_growth_and_gets_heartbeats(serve, replica):
    fx = serve(300, max_size=32768, every_ms=100)
    replica.execute("CREATE DATABASE d",
                    "CREATE TABLE d.t(id INT PRIMARY KEY, v VARCHAR(10)) DEFAULT CHARSET utf8mb4")
    replica.replicate_from(fx.port, options=", MASTER_HEARTBEAT_PERIOD=0.2").close()

    def count():
        return replica.execute("SELECT COUNT(*) FROM d.t")[0][0]

    wait_until(lambda: count() > 300, 60, what="replica past the initial rows")
    wait_until(lambda: len(fx.files()) >= 3 and count() > 400, 60, what="growth across rotations")
    st = dict(zip(*_slave_status(replica)))
    assert st["Slave_IO_Running"] == "Yes" and st["Slave_SQL_Running"] == "Yes", st
    assert st["Last_IO_Errno"] == 0, st


def test_replica_idle_heartbeats(serve, replica):
    fx = serve(20)
    replica.execute("CREATE DATABASE d",
                    "CREATE TABLE d.t(id INT PRIMARY KEY, v VARCHAR(10)) DEFAULT CHARSET utf8mb4")
    replica.replicate_from(fx.port, options=", MASTER_HEARTBEAT_PERIOD=0.2").close()
    wait_until(lambda: replica.execute("SELECT COUNT(*) FROM d.t")[0][0] == 20, 30,
               what="replica caught up")

    def beats():
        return int(replica.execute("SHOW STATUS LIKE 'Slave_received_heartbeats'")[0][1])

    first = beats()
    wait_until(lambda: beats() >= first + 5, 30, what="heartbeats while idle")
    st = dict(zip(*_slave_status(replica)))
    assert st["Slave_IO_Running"] == "Yes" and st["Last_IO_Errno"] == 0, st


def _slave_status(m):
    c = m.connect()
    try:
        with c.cursor() as cur:
            cur.execute("SHOW SLAVE STATUS")
            return [d[0] for d in cur.description], cur.fetchone()
    finally:
        c.close()


def test_same_server_id_replaces_older_dump(serve):
    fx = serve(50)
    base = ["mariadb-binlog", "--no-defaults", "--read-from-remote-server", "-h127.0.0.1",
            "-P%d" % fx.port, "-urepl", "-ppw", "--stop-never", "--stop-never-slave-server-id=77",
            "tirelay-bin.000001"]
    first = subprocess.Popen(base, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             universal_newlines=True)
    try:
        c = fx.connect()
        wait_until(lambda: _dumps(fx) >= 1, 10, what="first dump running")
        second = subprocess.Popen(base, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _, err = first.communicate(timeout=20)
            assert "same server_uuid/server_id" in err, err
            assert second.poll() is None  # the newcomer keeps streaming
        finally:
            cluster.stop_process(second)
        c.close()
    finally:
        cluster.stop_process(first)


def _dumps(fx):
    with open(os.path.join(fx.base, "fixture.log")) as f:
        return f.read().count("dump started")
