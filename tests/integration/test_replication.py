"""Acceptance test (issue 2): a stock MariaDB 10.11 replica follows tirelay,
which pulls from the TiDB simulator, and ends up equal to the truth row for
row; mariadb-binlog reads every file remotely, a --raw copy is
byte-identical to tirelay's own files, and every stored file decodes.
Run: /usr/bin/python3 -m pytest -q -s tests/integration/test_replication.py
(tirelay binary: $TIRELAY_BIN, default <repo>/build/tirelay).
"""

import filecmp
import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
from conftest import wait_until, table_rows, checksum_table, slave_status, wait_replica_equal  # noqa: E402

ROWS = int(os.environ.get("TIRELAY_TEST_ROWS", "10000"))
SEED = int(os.environ.get("TIRELAY_TEST_SEED", "20240501"))
MAX_BINLOG_SIZE = 256 * 1024




def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300, **kw)


# A missing binary is a failure, not a skip: these are the acceptance tests.
needs_tirelay = pytest.mark.usefixtures("tirelay_built")


@pytest.fixture(scope="session")
def tirelay_built():
    assert os.access(cluster.tirelay_bin(), os.X_OK), \
        "tirelay binary not built (%s): build it or set TIRELAY_BIN" % cluster.tirelay_bin()


@needs_tirelay
@pytest.mark.parametrize("pumps,rows", [(1, ROWS), (2, max(ROWS // 3, 1000))], ids=["1pump", "2pumps"])
def test_replica_follows_tirelay(truth, replica, tidbsim, tirelay, tmp_path, pumps, rows):
    t0 = time.monotonic()
    sim = tidbsim(truth, seed=SEED, rows=rows, pumps=pumps, fake_interval=1.0)
    relay = tirelay(sim, truth, max_binlog_size=MAX_BINLOG_SIZE)

    rconn = replica.replicate_from(relay.port)

    st = sim.wait_done(600)
    t_sim = time.monotonic() - t0
    db = st["db"]
    tables = st["tables"]
    assert st["rows"] >= rows and len(tables) >= 3

    tconn = truth.connect()

    def replica_ok():
        s = slave_status(rconn)
        assert s is not None
        assert s["Last_IO_Errno"] == 0 and s["Last_SQL_Errno"] == 0, (
            "replica error: IO %s %s / SQL %s %s" % (s["Last_IO_Errno"], s["Last_IO_Error"],
                                                     s["Last_SQL_Errno"], s["Last_SQL_Error"]))
        return s

    def caught_up():
        replica_ok()
        with rconn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema=%s", (db,))
            if cur.fetchone()[0] < len(tables):
                return False
        for t in tables:
            if checksum_table(rconn, db, t["name"]) != checksum_table(tconn, db, t["name"]):
                return False
        return True

    try:
        wait_until(caught_up, 600, what="replica equal to the truth")
    except Exception:
        s = slave_status(rconn)
        print("\nSHOW SLAVE STATUS: %r" % (s,))
        raise
    t_repl = time.monotonic() - t0

    # row for row, and no replication errors
    n_rows = 0
    for t in tables:
        a = table_rows(tconn, db, t["name"], t["pk"])
        b = table_rows(rconn, db, t["name"], t["pk"])
        assert a == b, "table %s differs" % t["name"]
        n_rows += len(a)
    s = replica_ok()
    assert s["Slave_IO_Running"] == "Yes" and s["Slave_SQL_Running"] == "Yes", s

    # tirelay's own files
    bdir = relay.binlog_dir("mysql")
    files = sorted(f for f in os.listdir(bdir) if f.startswith("tirelay-bin.") and f[12:].isdigit())
    assert files and files[0] == "tirelay-bin.000001"
    assert len(files) >= 2, "expected rotation at %d bytes, got %r" % (MAX_BINLOG_SIZE, files)

    # remote read of everything
    base = ["mariadb-binlog", "--no-defaults", "--read-from-remote-server", "--host=127.0.0.1",
            "--port=%d" % relay.port, "--user=repl", "--password=pw", "--to-last-log"]
    r = run(base + ["tirelay-bin.000001"])
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    out = r.stdout.decode(errors="replace")
    for f in files[1:]:
        assert f in out, "remote output does not mention %s" % f

    # --raw copy is byte-identical to the stored files
    rawdir = tmp_path / "raw"
    rawdir.mkdir()
    r = run(base + ["--raw", "--result-file=%s/" % rawdir, "tirelay-bin.000001"])
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    for f in files:
        got = rawdir / f
        assert got.exists(), "--raw did not fetch %s" % f
        assert filecmp.cmp(str(got), os.path.join(bdir, f), shallow=False), "%s differs" % f

    # every stored file decodes locally
    for f in files:
        r = run(["mariadb-binlog", "--no-defaults", os.path.join(bdir, f)])
        assert r.returncode == 0, "%s: %s" % (f, r.stderr.decode(errors="replace"))

    total = sum(os.path.getsize(os.path.join(bdir, f)) for f in files)
    print("\n[%d pump(s)] replicated %d row changes in %d transactions (%d rows now in %d tables); "
          "simulator done after %.1fs, replica equal after %.1fs; %d binlog files, %d bytes"
          % (pumps, st["rows"], st["txns"], n_rows, len(tables), t_sim, t_repl, len(files), total))
    tconn.close()
    rconn.close()


def binlog_files(relay):
    d = relay.binlog_dir("mysql")
    if not os.path.isdir(d):
        return []
    return sorted(f for f in os.listdir(d) if f.startswith("tirelay-bin.") and f[12:].isdigit())


def snapshot(relay):
    d = relay.binlog_dir("mysql")
    out = []
    for f in binlog_files(relay):
        with open(os.path.join(d, f), "rb") as fh:
            out.append((f, fh.read()))
    return out


@needs_tirelay
def test_restart_determinism_and_local_apply(truth, mariadb_instance, tidbsim, tirelay):
    """Two relays on the same stream write byte-identical files, also when one
    of them is stopped (SIGTERM) mid-stream and restarted; the stored files,
    decoded by mariadb-binlog and applied to a fresh MariaDB, give the truth."""
    rows = max(ROWS // 2, 1000)
    sim = tidbsim(truth, seed=SEED + 1, rows=rows, fake_interval=1.0, rate=150)
    a = tirelay(sim, truth, max_binlog_size=MAX_BINLOG_SIZE)
    b = tirelay(sim, truth, max_binlog_size=MAX_BINLOG_SIZE)
    wait_until(lambda: sim.status()["rows"] >= rows // 2, 300, what="half of the workload")
    a.stop()
    a.start()
    st = sim.wait_done(600)

    # each relay settles (its files unchanged for 3 s after the workload ended)
    def settle(relay):
        state = {"snap": None, "since": 0.0}

        def cond():
            snap = snapshot(relay)
            if snap != state["snap"] or not snap:
                state["snap"], state["since"] = snap, time.monotonic()
                return False
            return time.monotonic() - state["since"] >= 3.0 and snap

        return wait_until(cond, 300, what="%s files stable" % relay.base)

    snap_b = settle(b)
    files = [os.path.join(b.binlog_dir(), f) for f, _ in snap_b]
    total = sum(len(data) for _, data in snap_b)
    assert total > st["rows"] * 8, "tirelay wrote only %d bytes for %d row changes" % (total, st["rows"])

    # the never-restarted relay's files, decoded and applied, give the truth
    fresh = mariadb_instance("apply", server_id=3)
    dec = run(["mariadb-binlog", "--no-defaults"] + files)
    assert dec.returncode == 0, dec.stderr.decode(errors="replace")
    app = run(["mariadb", "--no-defaults", "--socket=" + fresh.socket, "-uroot"], input=dec.stdout)
    assert app.returncode == 0, app.stderr.decode(errors="replace")
    tconn, fconn = truth.connect(), fresh.connect()
    for t in st["tables"]:
        assert table_rows(tconn, st["db"], t["name"], t["pk"]) == \
            table_rows(fconn, st["db"], t["name"], t["pk"]), "table %s differs" % t["name"]

    # the restarted relay wrote the very same bytes
    snap_a = settle(a)
    assert [f for f, _ in snap_a] == [f for f, _ in snap_b], "file lists differ"
    for (f, da), (_, db_) in zip(snap_a, snap_b):
        if da != db_:
            off = next((i for i in range(min(len(da), len(db_))) if da[i] != db_[i]),
                       min(len(da), len(db_)))
            pytest.fail("%s differs between the restarted relay and the other one at byte %d "
                        "(sizes %d / %d); see mariadb-binlog --hexdump of both" % (f, off, len(da), len(db_)))
    print("\nrestart/determinism: %d files identical across two relays, %d row changes applied"
          % (len(files), st["rows"]))
    tconn.close()
    fconn.close()


@needs_tirelay
def test_replica_survives_relay_restart(truth, replica, tidbsim, tirelay):
    """tirelay is stopped (SIGTERM) and restarted while a replica follows it and
    the workload runs: the replica reconnects by itself and ends equal to the truth."""
    rows = max(ROWS // 3, 1000)
    sim = tidbsim(truth, seed=SEED + 2, rows=rows, fake_interval=1.0, rate=100)
    relay = tirelay(sim, truth, max_binlog_size=MAX_BINLOG_SIZE)
    rconn = replica.replicate_from(relay.port)
    wait_until(lambda: sim.status()["rows"] >= rows // 3, 300, what="a third of the workload")
    relay.stop()
    wait_until(lambda: sim.status()["rows"] >= 2 * rows // 3, 300, what="two thirds of the workload")
    relay.start()
    st = sim.wait_done(600)
    tconn = truth.connect()

    wait_replica_equal(rconn, tconn, st, 600, "replica equal to the truth after the relay restart", io_errors_ok=True)
    s = slave_status(rconn)
    assert s["Slave_SQL_Running"] == "Yes" and s["Last_SQL_Errno"] == 0, s
    print("\nrelay restart: replica equal after %d row changes" % st["rows"])
    tconn.close()
    rconn.close()


@needs_tirelay
def test_replica_after_add_column(truth, replica, tidbsim, tirelay):
    """ALTER TABLE ... ADD COLUMN with defaults mid-workload (4 schema versions
    per job, old rows read back with the origin default): the replica still
    ends equal to the truth."""
    rows = max(ROWS // 3, 1500)
    sim = tidbsim(truth, seed=SEED + 3, rows=rows, fake_interval=1.0,
                  extra=["--alter", "--alter-rows", str(rows // 2), "--late-ddl-rows", str(rows // 4)])
    relay = tirelay(sim, truth, max_binlog_size=MAX_BINLOG_SIZE)
    rconn = replica.replicate_from(relay.port)
    st = sim.wait_done(600)
    assert st["ddls"] >= 7
    tconn = truth.connect()

    wait_replica_equal(rconn, tconn, st, 600, "replica equal to the truth after ADD COLUMN")
    print("\nadd column: replica equal after %d row changes, %d DDLs" % (st["rows"], st["ddls"]))
    tconn.close()
    rconn.close()
