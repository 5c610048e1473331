"""Retention (issue 6 point 5): [store] expire-logs-seconds and
max-binlog-total-size remove the oldest binlog files of each flavour, never
the active file and never a file a connected dump still reads (nor a later
one), and log each purge. A replica following all along still ends equal to
the truth, and mariadb-binlog still reads what is left.
Run: /usr/bin/python3 -m pytest -q tests/integration/test_retention.py
"""

import os
import re
import subprocess

import dumpclient
from conftest import wait_until, wait_replica_equal
from test_admin import admin, q, start_replica
from test_bad_input import control_of
from test_cdc_clients import last_gtid_no


def on_disk(d):
    return sorted(f for f in os.listdir(d) if re.match(r".*\.\d{6}$", f))


def seq(name):
    return int(name.rsplit(".", 1)[1])


def test_expire_keeps_files_in_use(truth, tidbsim, tirelay):
    # ~9 MB of binlog in 256 KiB files: a dump client that reads nothing stays on an
    # early file (tirelay queues at most 4 MiB for it).
    sim = tidbsim(truth, seed=21, rows=26000, fake_interval=1.0)
    relay = tirelay(sim, truth, max_binlog_size=256 * 1024, mariadb_listen=True,
                    extra_conf="expire-logs-seconds = 4\n"
                               "\n[server]\ndump-stall-timeout-ms = 600000\n")
    wait_until(lambda: q(admin(relay.port), "SHOW BINARY LOGS"), 30, what="first file")
    pinned = dumpclient.connect(relay.port, rcvbuf=4096)
    dumpclient.start_dump(pinned, server_id=77, file_name="tirelay-bin.000001")
    wait_until(lambda: "replica_server_id=77" in relay.log_text(), 10, what="pinned dump")

    st = sim.wait_done(300)
    wait_until(lambda: last_gtid_no(relay.port) >= st["txns"] + st["ddls"], 120,
               what="tirelay caught up")
    c = admin(relay.port)
    cm = admin(relay.mariadb_port)
    held = re.compile(r"retention keeps a file a dump still reads flavor=mysql seq=(\d+)")
    wait_until(lambda: held.search(relay.log_text()), 30, what="retention held by the dump")
    pinned_seq = int(held.findall(relay.log_text())[-1])
    assert pinned_seq > 1
    # Everything older than the pinned file expires; the pinned one and later stay.
    wait_until(lambda: seq(q(c, "SHOW BINARY LOGS")[0][0]) == pinned_seq, 30,
               what="files before the pinned one expired")
    left = [r[0] for r in q(c, "SHOW BINARY LOGS")]
    assert left == on_disk(relay.binlog_dir("mysql"))
    assert len(left) >= 2
    log = relay.log_text()
    assert "retention purge flavor=mysql" in log and "reason=expire-logs-seconds" in log
    assert "purged binlog file flavor=mysql file=tirelay-bin.000001" in log
    # The MariaDB file set has no dump: everything but its active file expires.
    wait_until(lambda: len(q(cm, "SHOW BINARY LOGS")) == 1, 30, what="mariadb files expired")
    assert len(on_disk(relay.binlog_dir("mariadb"))) == 1

    # What is left still reads as a binlog, from the first remaining file on.
    r = subprocess.run(["mariadb-binlog", "--no-defaults", "--read-from-remote-server",
                        "-h127.0.0.1", "-P%d" % relay.port, "-urepl", "-ppw", "--to-last-log",
                        left[0]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert r.returncode == 0, r.stderr.decode(errors="replace")

    # Once the dump leaves, only the active file remains.
    pinned.close()
    wait_until(lambda: len(q(c, "SHOW BINARY LOGS")) == 1, 30, what="all but the active expired")
    assert on_disk(relay.binlog_dir("mysql")) == [left[-1]]
    with open(os.path.join(relay.binlog_dir("mysql"), "tirelay-bin.index")) as f:
        assert [ln.strip()[2:] for ln in f if ln.strip()] == [left[-1]]


def test_total_size_limit(truth, replica, tidbsim, tirelay, tmp_path):
    limit = 256 * 1024
    # The workload waits (frozen before its first transaction) until the replica's dump
    # is attached: otherwise tirelay may fill 256K and purge file 1 before the replica
    # asks for it, and the replica rightly gets 1236.
    control_dir = str(tmp_path / "control")
    sim = tidbsim(truth, seed=22, rows=8000, rate=400, fake_interval=1.0,
                  extra=["--control-dir", control_dir, "--start-frozen"])
    relay = tirelay(sim, truth, max_binlog_size=64 * 1024,
                    extra_conf="max-binlog-total-size = 256K\n")
    wait_until(lambda: q(admin(relay.port), "SHOW BINARY LOGS"), 30, what="first file")
    # A replica following from the very start loses nothing to retention.
    rconn = start_replica(replica, relay.port, "tirelay-bin.000001")
    wait_until(lambda: "binlog dump requested file=tirelay-bin.000001" in relay.log_text(), 60,
               what="the replica's dump attached")
    assert "purged binlog file" not in relay.log_text()
    control_of(control_dir)("thaw")
    st = sim.wait_done(300)
    wait_replica_equal(rconn, truth.connect(), st, 180, "replica equal to truth")
    c = admin(relay.port)

    def within():
        logs = q(c, "SHOW BINARY LOGS")
        return len(logs) == 1 or sum(r[1] for r in logs) <= limit

    wait_until(within, 30, what="total size within the limit")
    logs = [r[0] for r in q(c, "SHOW BINARY LOGS")]
    assert seq(logs[0]) > 1
    assert logs == on_disk(relay.binlog_dir("mysql"))
    assert "reason=max-binlog-total-size" in relay.log_text()
    for name in logs:
        r = subprocess.run(["mariadb-binlog", "--no-defaults",
                            os.path.join(relay.binlog_dir("mysql"), name)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        assert r.returncode == 0, r.stderr.decode(errors="replace")
