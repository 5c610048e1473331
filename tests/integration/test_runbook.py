"""The README's "Fallback to MariaDB/MySQL" runbook (issue 6 point 3), followed
step by step with the simulator while its workload runs:

 1. take a consistent snapshot of the truth at a TSO, as Dumpling does: the
    simulator stops its writers at a transaction boundary and hands out a
    fresh TSO (Dumpling's metadata "Pos:"), and the truth is dumped with
    mariadb-dump --single-transaction at that point;
 2. load the dump into fresh MariaDB servers;
 3. ask tirelay SHOW BINLOG POSITION FOR TSO <ts> (retrying while it answers
    "not written yet");
 4. (a) CHANGE MASTER by file/position on the MySQL-flavour listener,
    (b) SET GLOBAL gtid_slave_pos + MASTER_USE_GTID=slave_pos on the MariaDB
    listener;
 5. both replicas converge to the truth: nothing missing (every row equal)
    and nothing doubled (a doubled insert stops the replica with a
    duplicate-key error, which fails the wait at once).
Run: /usr/bin/python3 -m pytest -q tests/integration/test_runbook.py
"""

import os
import subprocess

import pymysql

from conftest import wait_until, wait_replica_equal
from test_admin import admin

UUID = "3e11fa47-71ca-11e1-9e33-c80aa9429562"


def test_runbook(truth, tidbsim, tirelay, mariadb_instance, tmp_path):
    control_dir = str(tmp_path / "control")
    # --alter (ADD COLUMN after 4000 row changes) puts DDL after the snapshot too: the
    # replicas must apply it from tirelay.
    sim = tidbsim(truth, seed=41, rows=12000, rate=60, fake_interval=1.0,
                  extra=["--control-dir", control_dir, "--alter"])
    relay = tirelay(sim, truth, max_binlog_size=128 * 1024, mariadb_listen=True)
    seq = [0]

    def control(cmd):
        seq[0] += 1
        name = os.path.join(control_dir, "%03d" % seq[0])
        with open(name + ".tmp", "w") as f:
            f.write("%s 0" % cmd)
        os.replace(name + ".tmp", name + ".cmd")
        wait_until(lambda: os.path.exists(name + ".done"), 60, what="sim: %s" % cmd)
        with open(name + ".done") as f:
            words = f.read().split()
        assert words[0] == "ok", words
        return words[1:]

    # The workload is under way (first tables created, rows being changed).
    wait_until(lambda: sim.status()["rows"] >= 200, 120, what="workload under way")

    # 1. Snapshot at a TSO, as Dumpling would take it.
    snap_ts, last_ts = (int(x) for x in control("freeze"))
    st_frozen = sim.status()  # written by the simulator while frozen
    assert st_frozen["last_commit_ts"] == last_ts
    dump = tmp_path / "snapshot.sql"
    with open(dump, "wb") as f:
        r = subprocess.run(["mariadb-dump", "--no-defaults", "--socket=" + truth.socket,
                            "-uroot", "--single-transaction", "--databases", st_frozen["db"]],
                           stdout=f, stderr=subprocess.PIPE, timeout=300)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    control("thaw")
    assert snap_ts > st_frozen["last_commit_ts"] > 0

    # 2. Load it into two fresh MariaDB servers.
    replicas = [mariadb_instance("replica_a", server_id=11),
                mariadb_instance("replica_b", server_id=12)]
    for m in replicas:
        with open(dump, "rb") as f:
            r = subprocess.run(["mariadb", "--no-defaults", "--socket=" + m.socket, "-uroot"],
                               stdin=f, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=300)
        assert r.returncode == 0, r.stderr.decode(errors="replace")

    # 3. Where the snapshot ends in tirelay's binlog (retry while not written yet).
    c = admin(relay.port)

    def position():
        try:
            with c.cursor(pymysql.cursors.DictCursor) as cur:
                cur.execute("SHOW BINLOG POSITION FOR TSO %d" % snap_ts)
                return {r["Flavor"]: r for r in cur.fetchall()}
        except pymysql.err.OperationalError as e:
            assert e.args[0] == 1105 and "not written yet" in e.args[1], e.args
            return None

    pos = wait_until(position, 120, what="tirelay has the snapshot TSO")
    assert set(pos) == {"mysql", "mariadb"}
    # The last transaction in the snapshot is the last one before the freeze.
    assert pos["mysql"]["Commit_ts"] == st_frozen["last_commit_ts"]
    n = int(pos["mysql"]["Last_gtid"].rsplit(":", 1)[1])
    assert pos["mysql"]["Executed_Gtid_Set"] == "%s:1-%d" % (UUID, n)
    assert pos["mariadb"]["Executed_Gtid_Set"] == "0-1-%d" % n

    # 4a. File/position on the MySQL-flavour listener.
    ra = replicas[0].replicate_from(relay.port, log_file=pos["mysql"]["Log_name"],
                                    log_pos=pos["mysql"]["Log_pos"])
    # 4b. GTID on the MariaDB listener.
    rb = replicas[1].replicate_from(relay.mariadb_port, gtid="slave_pos",
                                    gtid_slave_pos=pos["mariadb"]["Executed_Gtid_Set"])

    # 5. Both converge to the truth once the workload ends.
    st = sim.wait_done(300)
    # the replicas had rows and DDL to apply after the snapshot
    assert st["rows"] > st_frozen["rows"] and st["ddls"] > st_frozen["ddls"]
    tconn = truth.connect()
    wait_replica_equal(ra, tconn, st, 180, "file/position replica equal to truth")
    wait_replica_equal(rb, tconn, st, 180, "GTID replica equal to truth")
    with rb.cursor() as cur:
        cur.execute("SELECT @@gtid_slave_pos")
        assert cur.fetchone()[0] == "0-1-%d" % (st["txns"] + st["ddls"])
