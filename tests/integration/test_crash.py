"""Crash safety (issue 4, point 4): tirelay B is killed with SIGKILL at 20+
seeded random moments while the simulator's workload runs (some kills land
during its start-up recovery, many around rotations: max-binlog-size is
64 KiB) and restarted each time on the same store; tirelay A follows the
same Pumps uninterrupted. Both write both flavours (`sync = commit`).

At the end the two stores hold the same file names with the same bytes, in
both flavours, and a MariaDB replica that followed B by file/position across
every kill (reconnecting by itself) is equal to the truth.
Run: /usr/bin/python3 -m pytest -q -s tests/integration/test_crash.py
"""

import os
import random
import sqlite3
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
from conftest import wait_until, slave_status, wait_replica_equal  # noqa: E402

SEED = int(os.environ.get("TIRELAY_TEST_SEED", "20240701"))
KILLS = int(os.environ.get("TIRELAY_TEST_KILLS", "24"))
MAX_BINLOG_SIZE = 64 * 1024




def snapshot(relay, flavor):
    """[(name, bytes)] of every binlog file of one flavour, in name order."""
    d = relay.binlog_dir(flavor)
    if not os.path.isdir(d):
        return []
    out = []
    for f in sorted(os.listdir(d)):
        if f.startswith("tirelay-bin.") and f[12:].isdigit():
            with open(os.path.join(d, f), "rb") as fh:
                out.append((f, fh.read()))
    return out


def last_gtid(relay):
    try:
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(relay.store, "index.sqlite"),
                             uri=True, timeout=10)
    except sqlite3.Error:
        return 0
    try:
        r = db.execute("SELECT MAX(gtid_no) FROM txns").fetchone()
        return r[0] or 0
    except sqlite3.Error:
        return 0
    finally:
        db.close()


def settle(relay, seconds=3.0):
    """Both flavours' files unchanged for `seconds`: returns (mysql, mariadb) snapshots."""
    state = {"snap": None, "since": 0.0}

    def cond():
        snap = (snapshot(relay, "mysql"), snapshot(relay, "mariadb"))
        if snap != state["snap"] or not snap[0]:
            state["snap"], state["since"] = snap, time.monotonic()
            return False
        return time.monotonic() - state["since"] >= seconds and snap

    return wait_until(cond, 300, what="%s files stable" % relay.base)


def compare(snap_a, snap_b, what):
    names_a = [f for f, _ in snap_a]
    names_b = [f for f, _ in snap_b]
    assert names_a == names_b, "%s: file lists differ: %r vs %r" % (what, names_a, names_b)
    for (f, da), (_, db_) in zip(snap_a, snap_b):
        if da != db_:
            off = next((i for i in range(min(len(da), len(db_))) if da[i] != db_[i]),
                       min(len(da), len(db_)))
            pytest.fail("%s: %s differs at byte %d (sizes %d uninterrupted / %d killed)"
                        % (what, f, off, len(da), len(db_)))


def kill9(relay):
    relay.proc.kill()
    relay.proc.wait()
    relay._logf.close()


@pytest.fixture(scope="module")
def tirelay_built():
    assert os.access(cluster.tirelay_bin(), os.X_OK), \
        "tirelay binary not built (%s): build it or set TIRELAY_BIN" % cluster.tirelay_bin()


def test_kill9_under_load(tirelay_built, truth, replica, tidbsim, tirelay):
    rng = random.Random(SEED)
    sim = tidbsim(truth, seed=SEED, rows=6000, rate=12, pumps=2, fake_interval=0.5)
    conf = "sync = commit\n"
    a = tirelay(sim, truth, max_binlog_size=MAX_BINLOG_SIZE, mariadb_listen=True, extra_conf=conf)
    b = tirelay(sim, truth, max_binlog_size=MAX_BINLOG_SIZE, mariadb_listen=True, extra_conf=conf)

    rconn = replica.replicate_from(b.port)

    t0 = time.monotonic()
    kills = []          # (seconds after start, last stored GTID before the kill, during start-up)
    for i in range(KILLS):
        # a third of the kills hit the start-up (recovery, first pulls), the rest run a while
        early = rng.random() < 0.33
        delay = rng.uniform(0.0, 0.3) if early else rng.uniform(0.3, 2.0)
        time.sleep(delay)
        before = last_gtid(b)
        kill9(b)
        kills.append((round(time.monotonic() - t0, 2), before, early))
        b.start()
    st = sim.wait_done(300)
    t_kills = time.monotonic() - t0
    assert len(kills) >= 20
    # the kills were spread over the workload, not all before it started or after it ended
    assert kills[-1][1] > kills[0][1], "no progress between the first and the last kill: %r" % kills

    snap_a = settle(a)
    snap_b = settle(b)
    compare(snap_a[0], snap_b[0], "MySQL flavour")
    compare(snap_a[1], snap_b[1], "MariaDB flavour")
    assert len(snap_a[0]) >= 4, "expected rotations at %d bytes" % MAX_BINLOG_SIZE

    tconn = truth.connect()

    wait_replica_equal(rconn, tconn, st, 300, "replica of the killed relay equal to the truth", io_errors_ok=True)
    s = slave_status(rconn)
    assert s["Slave_SQL_Running"] == "Yes" and s["Last_SQL_Errno"] == 0, s

    total = sum(len(d) for _, d in snap_b[0])
    print("\nkill -9: %d kills in %.1fs (%d during start-up), GTIDs stored before each kill %s; "
          "%d row changes in %d txns; %d+%d files (%d bytes MySQL flavour) byte-identical to the "
          "uninterrupted relay; replica equal to the truth"
          % (len(kills), t_kills, sum(1 for k in kills if k[2]), [k[1] for k in kills],
             st["rows"], st["txns"], len(snap_b[0]), len(snap_b[1]), total))
    tconn.close()
    rconn.close()
