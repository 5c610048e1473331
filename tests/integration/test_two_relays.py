"""Determinism across instances (issue 4, point 5): two tirelay instances with
the same configuration (only ports and store directories differ) pulling
from the same Pumps write byte-identical files in both flavours, so a
replica can move from one to the other by file name and position alone.

A MariaDB replica follows relay A by file/position; mid-stream it is switched
to relay B (STOP SLAVE; CHANGE MASTER TO B's port with MASTER_LOG_FILE/POS =
its Relay_Master_Log_File/Exec_Master_Log_Pos; START SLAVE), later back to A
the same way, and ends equal to the truth.
Run: /usr/bin/python3 -m pytest -q -s tests/integration/test_two_relays.py
"""

import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
from conftest import wait_until, slave_status, wait_replica_equal  # noqa: E402
from test_crash import settle, compare  # noqa: E402

SEED = int(os.environ.get("TIRELAY_TEST_SEED", "20240801"))
MAX_BINLOG_SIZE = 128 * 1024


@pytest.fixture(scope="module")
def tirelay_built():
    assert os.access(cluster.tirelay_bin(), os.X_OK), \
        "tirelay binary not built (%s): build it or set TIRELAY_BIN" % cluster.tirelay_bin()


def change_master(rconn, port, log_file, log_pos):
    with rconn.cursor() as cur:
        cur.execute("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='repl', "
                    "MASTER_PASSWORD='pw', MASTER_LOG_FILE='%s', MASTER_LOG_POS=%d, "
                    "MASTER_USE_GTID=no, MASTER_CONNECT_RETRY=1" % (port, log_file, log_pos))
        cur.execute("START SLAVE")


def switch(rconn, to_relay):
    """Moves the replica to to_relay at the position it has executed; returns it."""
    with rconn.cursor() as cur:
        cur.execute("STOP SLAVE")
    s = slave_status(rconn)
    assert s["Last_SQL_Errno"] == 0, s["Last_SQL_Error"]
    f, pos = s["Relay_Master_Log_File"], int(s["Exec_Master_Log_Pos"])
    # the target may be a little behind: a primary without the bytes yet answers 1236
    path = os.path.join(to_relay.binlog_dir("mysql"), f)
    wait_until(lambda: os.path.exists(path) and os.path.getsize(path) >= pos, 60,
               what="%s:%d on the other relay" % (f, pos))
    change_master(rconn, to_relay.port, f, pos)
    return f, pos


def test_replica_switched_between_relays(tirelay_built, truth, replica, tidbsim, tirelay):
    sim = tidbsim(truth, seed=SEED, rows=6000, rate=40, pumps=2, fake_interval=0.5)
    a = tirelay(sim, truth, max_binlog_size=MAX_BINLOG_SIZE, mariadb_listen=True,
                extra_conf="sync = commit\n")
    b = tirelay(sim, truth, max_binlog_size=MAX_BINLOG_SIZE, mariadb_listen=True,
                extra_conf="sync = commit\n")
    with open(a.conf) as fa, open(b.conf) as fb:
        la, lb = fa.read().splitlines(), fb.read().splitlines()
    diff = [(x, y) for x, y in zip(la, lb) if x != y]
    assert len(la) == len(lb) and all(x.split("=")[0].strip() in ("listen", "mariadb-listen", "dir")
                                      for x, _ in diff), diff

    rconn = replica.connect()
    change_master(rconn, a.port, "tirelay-bin.000001", 4)

    switches = []
    wait_until(lambda: sim.status()["rows"] >= 2000, 120, what="a third of the workload")
    # the replica must be mid-stream: past the first file, still behind the workload
    wait_until(lambda: (slave_status(rconn) or {}).get("Relay_Master_Log_File", "") > "tirelay-bin.000001",
               120, what="replica past the first file on A")
    switches.append(("A->B",) + switch(rconn, b))
    wait_until(lambda: sim.status()["rows"] >= 4000, 120, what="two thirds of the workload")
    switches.append(("B->A",) + switch(rconn, a))
    assert not sim.status()["done"], "the workload ended before the second switch"
    st = sim.wait_done(300)

    snap_a, snap_b = settle(a), settle(b)
    compare(snap_a[0], snap_b[0], "MySQL flavour")
    compare(snap_a[1], snap_b[1], "MariaDB flavour")
    assert len(snap_a[0]) >= 3

    tconn = truth.connect()

    wait_replica_equal(rconn, tconn, st, 300, "switched replica equal to the truth")
    s = slave_status(rconn)
    assert s["Slave_IO_Running"] == "Yes" and s["Slave_SQL_Running"] == "Yes", s
    assert int(s["Master_Port"]) == a.port
    print("\ntwo relays: %d+%d files byte-identical (%d bytes MySQL flavour); replica switched at %r; "
          "%d row changes, replica equal to the truth"
          % (len(snap_a[0]), len(snap_a[1]), sum(len(d) for _, d in snap_a[0]), switches, st["rows"]))
    tconn.close()
    rconn.close()
