"""Both flavours served at once (listen + mariadb-listen), against real peers:
a MariaDB 10.11 replica follows the MySQL listener by file/position and ends
equal to the truth; mariadb-binlog --read-from-remote-server --raw, both
--stop-never (blocking, killed once the files are complete) and non-blocking,
fetches every file of each listener byte-identical to tirelay's own file of
that flavour; each listener answers the version and GTID queries of its
flavour.

Run: /usr/bin/python3 -m pytest -q -s tests/integration/test_flavors.py
"""

import filecmp
import os
import subprocess
import sys

import pymysql

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
from conftest import wait_until, checksum_table, table_rows, slave_status  # noqa: E402

ROWS = int(os.environ.get("TIRELAY_FLAVOR_ROWS", "2000"))
SEED = int(os.environ.get("TIRELAY_TEST_SEED", "20240501"))


def files_of(relay, flavor):
    d = relay.binlog_dir(flavor)
    return sorted(f for f in os.listdir(d) if f.startswith("tirelay-bin.") and f[12:].isdigit())


def query(port, sql):
    c = pymysql.connect(host="127.0.0.1", port=port, user="repl", password="pw", autocommit=True)
    try:
        with c.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        c.close()




def remote(port, *args, cwd=None, **kw):
    return ["mariadb-binlog", "--no-defaults", "--read-from-remote-server", "--host=127.0.0.1",
            "--port=%d" % port, "--user=repl", "--password=pw"] + list(args)


def raw_copies_identical(relay, port, flavor, tmp_path):
    """--raw non-blocking and --stop-never copies of every file == tirelay's own."""
    files = files_of(relay, flavor)
    bdir = relay.binlog_dir(flavor)
    # non-blocking
    nb = tmp_path / ("nb-" + flavor)
    nb.mkdir()
    r = subprocess.run(remote(port, "--raw", "--to-last-log", "--result-file=%s/" % nb, files[0]),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    for f in files:
        assert filecmp.cmp(str(nb / f), os.path.join(bdir, f), shallow=False), \
            "%s: non-blocking raw copy of %s differs" % (flavor, f)
    # blocking: stop it once every file has reached tirelay's size
    sn = tmp_path / ("sn-" + flavor)
    sn.mkdir()
    p = subprocess.Popen(remote(port, "--raw", "--stop-never", "--stop-never-slave-server-id=%d"
                                % (900 + len(flavor)), "--result-file=%s/" % sn, files[0]),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def complete():
            assert p.poll() is None, p.stderr.read().decode(errors="replace")
            return all((sn / f).exists() and os.path.getsize(str(sn / f)) ==
                       os.path.getsize(os.path.join(bdir, f)) for f in files)
        wait_until(complete, 120, what="%s --stop-never copy complete" % flavor)
    finally:
        cluster.stop_process(p)
    for f in files:
        assert filecmp.cmp(str(sn / f), os.path.join(bdir, f), shallow=False), \
            "%s: --stop-never raw copy of %s differs" % (flavor, f)
    return len(files)


def test_both_flavours(truth, replica, tidbsim, tirelay, tmp_path):
    sim = tidbsim(truth, seed=SEED + 11, rows=ROWS, fake_interval=1.0)
    relay = tirelay(sim, truth, max_binlog_size=64 * 1024, mariadb_listen=True)

    # flavour answers
    my, ma = relay.port, relay.mariadb_port
    assert query(my, "SELECT VERSION()")[0][0].startswith("5.7")
    assert query(ma, "SELECT VERSION()")[0][0] == "10.11.6-MariaDB-tirelay-log"
    assert query(ma, "SELECT @@version")[0][0] == "10.11.6-MariaDB-tirelay-log"
    assert query(ma, "SELECT @@GLOBAL.gtid_domain_id")[0][0] == 0
    for port, var in ((ma, "@@GLOBAL.server_uuid"), (ma, "@@GLOBAL.gtid_mode"),
                      (my, "@@GLOBAL.gtid_binlog_pos")):
        try:
            query(port, "SELECT " + var)
            raise AssertionError("%s answered on port %d" % (var, port))
        except pymysql.err.OperationalError as e:
            assert e.args[0] == 1193, e
    assert query(my, "SELECT @@GLOBAL.server_uuid")[0][0] == "3e11fa47-71ca-11e1-9e33-c80aa9429562"
    c = pymysql.connect(host="127.0.0.1", port=ma, user="repl", password="pw")
    assert c.get_server_info() == "5.5.5-10.11.6-MariaDB-tirelay"
    c.close()

    # a MariaDB replica by file/position on the MySQL listener
    rconn = replica.replicate_from(my)
    st = sim.wait_done(600)
    tconn = truth.connect()
    db = st["db"]

    def caught_up():
        s = slave_status(rconn)
        assert s["Last_IO_Errno"] == 0 and s["Last_SQL_Errno"] == 0, s
        with rconn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema=%s",
                        (db,))
            if cur.fetchone()[0] < len(st["tables"]):
                return False
        return all(checksum_table(rconn, db, t["name"]) == checksum_table(tconn, db, t["name"])
                   for t in st["tables"])

    wait_until(caught_up, 600, what="replica on the MySQL listener equal to the truth")
    for t in st["tables"]:
        assert table_rows(tconn, db, t["name"], t["pk"]) == table_rows(rconn, db, t["name"], t["pk"])

    # same transactions, same GTID numbers in both file sets
    last_my = query(my, "SELECT @@GLOBAL.gtid_executed")[0][0]
    last_ma = query(ma, "SELECT @@GLOBAL.gtid_binlog_pos")[0][0]
    assert last_my.split("-")[-1] == last_ma.split("-")[-1], (last_my, last_ma)
    status_ma = query(ma, "SHOW MASTER STATUS")
    assert len(status_ma[0]) == 4 and status_ma[0][0] == files_of(relay, "mariadb")[-1]
    # binlog_gtid_pos at the end of the last MariaDB file is the last GTID
    assert query(ma, "SELECT binlog_gtid_pos('%s', %d)" % (status_ma[0][0], status_ma[0][1]))[0][0] \
        == last_ma
    assert query(ma, "SELECT binlog_gtid_pos('%s', 5)" % status_ma[0][0])[0][0] is None

    n_my = raw_copies_identical(relay, my, "mysql", tmp_path)
    n_ma = raw_copies_identical(relay, ma, "mariadb", tmp_path)
    assert n_my >= 2 and n_ma >= 2
    # every MariaDB-flavour file decodes locally
    for f in files_of(relay, "mariadb"):
        r = subprocess.run(["mariadb-binlog", "--no-defaults",
                            os.path.join(relay.binlog_dir("mariadb"), f)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        assert r.returncode == 0, r.stderr.decode(errors="replace")
    print("\n[flavors] %d row changes; %d mysql files, %d mariadb files byte-identical via "
          "both listeners; last GTID %s / %s" % (st["rows"], n_my, n_ma, last_my, last_ma))


def test_one_server_id_follows_both_listeners(truth, tidbsim, tirelay):
    """Each listener is a primary of its own: a dump replaces an older dump of the same
    replica server_id on its own listener only (a client may follow both flavours under one
    server_id, as go-mysql's canal does when two start within the same second)."""
    sim = tidbsim(truth, seed=SEED + 12, rows=200, fake_interval=1.0)
    relay = tirelay(sim, truth, mariadb_listen=True)
    sim.wait_done(120)

    def follow(port):
        return subprocess.Popen(
            ["mariadb-binlog", "--no-defaults", "--read-from-remote-server", "-h127.0.0.1",
             "-P%d" % port, "-urepl", "-ppw", "--stop-never", "--stop-never-slave-server-id=77",
             "tirelay-bin.000001"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            universal_newlines=True)

    def dumps():
        return relay.log_text().count("dump started")

    on_my = follow(relay.port)
    wait_until(lambda: dumps() >= 1, 20, what="dump on the MySQL listener")
    on_ma = follow(relay.mariadb_port)
    again = None
    try:
        wait_until(lambda: dumps() >= 2, 20, what="dump on the MariaDB listener")
        assert on_my.poll() is None and on_ma.poll() is None  # both keep streaming
        again = follow(relay.port)
        _, err = on_my.communicate(timeout=20)
        assert "same server_uuid/server_id" in err, err
        assert on_ma.poll() is None and again.poll() is None
    finally:
        for p in (on_my, on_ma, again):
            if p is not None:
                cluster.stop_process(p)
