"""Discovery mode (issue 4, points 1-3): tirelay finds 5 simulated Pumps in a
real etcd (/tidb-binlog/v1/pumps/), follows their states and registers
itself as a Drainer (/tidb-binlog/v1/drainers/<node-id>).

Transactions are spread over pumps 0-3 (pump 4 stays idle: fake binlogs only);
pump 1 is paused then resumed, pump 2 taken offline (closing -> offline once
tirelay's maxCommitTS caught up, as a real Pump does), pump 3 killed (etcd
still says online) and restarted. A MariaDB replica of tirelay must end equal
to the truth; the stored GTID order must be the commit_ts order with every
transaction exactly once; while a Pump is paused or dead, nothing above its
last binlog may be released.
Run: /usr/bin/python3 -m pytest -q -s tests/integration/test_discovery.py
"""

import json
import os
import sqlite3
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
from conftest import wait_until, checksum_table, table_rows, TIDB_USER, TIDB_PASSWORD, slave_status  # noqa: E402

SEED = int(os.environ.get("TIRELAY_TEST_SEED", "20240601"))
NODE_ID = "tirelay-test"




def stored_txns(relay):
    """(gtid_no, commit_ts) of every committed transaction, in GTID order."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(relay.store, "index.sqlite"), uri=True,
                         timeout=10)
    try:
        return db.execute("SELECT gtid_no, commit_ts FROM txns ORDER BY gtid_no").fetchall()
    finally:
        db.close()


def max_stored_ts(relay):
    rows = stored_txns(relay)
    return rows[-1][1] if rows else 0


@pytest.fixture(scope="module")
def tirelay_built():
    assert os.access(cluster.tirelay_bin(), os.X_OK), \
        "tirelay binary not built (%s): build it or set TIRELAY_BIN" % cluster.tirelay_bin()


def test_five_pumps_discovered_in_etcd(tirelay_built, etcd, truth, replica, tidbsim, tmp_path):
    control_dir = str(tmp_path / "control")
    sim = tidbsim(truth, seed=SEED, txns=1500, rate=30, pumps=5, fake_interval=0.5,
                  extra=["--etcd", etcd.url, "--control-dir", control_dir, "--idle-pumps", "4",
                         "--heartbeat-interval", "0.5"])
    relay = cluster.Tirelay(str(tmp_path / "tirelay"), [], sim.cluster_id, truth.port,
                            tidb_user=TIDB_USER, tidb_password=TIDB_PASSWORD,
                            max_binlog_size=256 * 1024,
                            upstream_conf="pd-urls = %s\nnode-id = %s\ndetect-interval = 1\n"
                                          % (etcd.url, NODE_ID))
    seq = [0]

    def control(cmd, idx):
        seq[0] += 1
        name = os.path.join(control_dir, "%03d" % seq[0])
        with open(name + ".tmp", "w") as f:
            f.write("%s %d" % (cmd, idx))
        os.replace(name + ".tmp", name + ".cmd")
        wait_until(lambda: os.path.exists(name + ".done"), 150, what="sim: %s %d" % (cmd, idx))
        with open(name + ".done") as f:
            assert f.read() == "ok", "sim: %s %d failed" % (cmd, idx)

    def pump_max(idx):
        return sim.status()["pump_nodes"][idx]["max_commit_ts"]

    def drainer():
        v = etcd.prefix("/tidb-binlog/v1/drainers/").get("/tidb-binlog/v1/drainers/" + NODE_ID)
        return json.loads(v) if v else None

    try:
        relay.start()
        rconn = replica.replicate_from(relay.port)

        # every pump found in etcd, and tirelay registered itself
        wait_until(lambda: relay.log_text().count("pump joined") >= 5, 30, what="5 pumps joined")
        d = wait_until(drainer, 30, what="drainer key in etcd")
        assert d["nodeId"] == NODE_ID and d["state"] == "online", d
        wait_until(lambda: max_stored_ts(relay) > 0, 60, what="first transactions stored")

        # paused: the merge waits for pump 1 (nothing above its last binlog is released)
        control("pause", 1)
        time.sleep(3)
        frozen = pump_max(1)
        assert max_stored_ts(relay) <= frozen
        time.sleep(1.5)
        assert max_stored_ts(relay) <= frozen, "released past a paused pump"
        control("resume", 1)
        wait_until(lambda: max_stored_ts(relay) > frozen, 60, what="output resumes after resume")

        # offline: pump 2 waits for our maxCommitTS, then leaves the merge
        control("offline", 2)
        wait_until(lambda: "offline pump left the merge node_id=pump-2" in relay.log_text(), 30,
                   what="pump-2 left the merge")

        # killed (still online in etcd): output stalls until it is back
        control("kill", 3)
        time.sleep(2)
        dead_max = pump_max(3)
        time.sleep(1.5)
        assert max_stored_ts(relay) <= dead_max, "released past a dead online pump"
        control("restart", 3)
        wait_until(lambda: max_stored_ts(relay) > dead_max, 60, what="output resumes after restart")

        st = sim.wait_done(300)
        db, tables = st["db"], st["tables"]
        tconn = truth.connect()

        def caught_up():
            s = slave_status(rconn)
            assert s is not None
            assert s["Last_IO_Errno"] == 0 and s["Last_SQL_Errno"] == 0, s
            for t in tables:
                if checksum_table(rconn, db, t["name"]) != checksum_table(tconn, db, t["name"]):
                    return False
            return True

        wait_until(caught_up, 180, what="replica equal to the truth")
        for t in tables:
            assert table_rows(tconn, db, t["name"], t["pk"]) == \
                table_rows(rconn, db, t["name"], t["pk"]), t["name"]

        # GTID order is commit_ts order; every transaction exactly once
        rows = stored_txns(relay)
        assert [g for g, _ in rows] == list(range(1, len(rows) + 1))
        assert all(a[1] < b[1] for a, b in zip(rows, rows[1:])), "GTID order != commit_ts order"
        assert len(rows) == st["txns"] + st["ddls"], (len(rows), st["txns"], st["ddls"])
        assert rows[-1][1] == st["last_commit_ts"]

        # our Drainer entry reaches the simulator's last commit_ts
        d = wait_until(lambda: (lambda x: x if x and x["maxCommitTS"] >= st["last_commit_ts"]
                                else None)(drainer()), 30, what="drainer maxCommitTS")
        assert d["state"] == "online" and d["host"] == "127.0.0.1:%d" % relay.port, d
        log = relay.log_text()
        assert "disorder" not in log and "dropped duplicate" not in log
    finally:
        relay.stop()
        if relay.proc is not None and relay.proc.returncode not in (0, None):
            print(relay.log_text()[-8000:])
    assert relay.proc.returncode == 0
    # a clean stop leaves our entry paused
    assert drainer()["state"] == "paused"
