"""Admin statements over tirelay's MySQL port (issue 3 point 5), with pymysql
against tirelay fed by the TiDB simulator: SHOW BINARY LOGS sizes equal the
files on disk, SHOW BINLOG EVENTS lists the same events (positions, end
positions, types) as `mariadb-binlog` prints for the file, SHOW SLAVE HOSTS /
SHOW REPLICAS list a registered MariaDB replica, and PURGE BINARY LOGS keeps
the file a connected dump reads (ERR 1378), removes older ones, after which
`mariadb-binlog` and a new replica starting from the first remaining file
still work.
Run: /usr/bin/python3 -m pytest -q tests/integration/test_admin.py
"""

import os
import re
import subprocess
import sys

import pymysql
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
import dumpclient  # noqa: E402
from conftest import wait_until, checksum_table, slave_status, wait_replica_equal  # noqa: E402
from test_cdc_clients import last_gtid_no  # noqa: E402

# mariadb-binlog's words for the event types SHOW BINLOG EVENTS names.
MB_TYPES = {
    "Start:": "Format_desc", "Query": "Query", "Table_map:": "Table_map", "Xid": "Xid",
    "Write_rows:": "Write_rows", "Update_rows:": "Update_rows", "Delete_rows:": "Delete_rows",
    "Rotate": "Rotate", "Gtid": "Gtid", "GTID": "Gtid",
}
# MySQL-only events mariadb-binlog 10.11 prints as "Ignorable".
MB_IGNORABLE = {"Previous_gtids", "Gtid"}


def admin(port):
    return pymysql.connect(host="127.0.0.1", port=port, user="repl", password="pw",
                           autocommit=True)


def q(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def mariadb_binlog_events(path):
    """[(pos, end_log_pos, word)] as mariadb-binlog prints them for a local file."""
    out = subprocess.run(["mariadb-binlog", "--no-defaults", path], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=120)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    events = []
    pending = []  # consecutive rows events: all "# at" lines come before their headers
    for line in out.stdout.decode(errors="replace").splitlines():
        m = re.match(r"^# at (\d+)$", line)
        if m:
            pending.append(int(m.group(1)))
            continue
        m = re.match(r"^#\d{6} +\d+:\d\d:\d\d server id \d+ +end_log_pos (\d+) CRC32 0x[0-9a-f]+\s+(\S+)",
                     line)
        if m and pending:
            events.append((pending.pop(0), int(m.group(1)), m.group(2)))
    return events




def start_replica(replica, port, file_name):
    c = replica.replicate_from(port, log_file=file_name)
    return c




def test_admin_statements(truth, replica, mariadb_instance, tidbsim, tirelay, tmp_path):
    # Enough binlog (~9 MB in ~36 files) that a dump client that reads nothing
    # stays on an old file: tirelay queues at most 4 MiB for it, plus socket buffers.
    sim = tidbsim(truth, seed=11, rows=26000, fake_interval=1.0)
    relay = tirelay(sim, truth, max_binlog_size=256 * 1024,
                    extra_conf="\n[server]\ndump-stall-timeout-ms = 600000\n")
    st = sim.wait_done(300)
    wait_until(lambda: last_gtid_no(relay.port) >= st["txns"] + st["ddls"], 90,
               what="tirelay caught up")
    c = admin(relay.port)
    bdir = relay.binlog_dir()

    # SHOW BINARY LOGS: every file, oldest first, sizes as on disk.
    logs = q(c, "SHOW BINARY LOGS")
    on_disk = sorted(f for f in os.listdir(bdir) if re.match(r".*\.\d{6}$", f))
    assert [r[0] for r in logs] == on_disk
    assert len(logs) >= 10
    for name, size, enc in logs:
        assert size == os.path.getsize(os.path.join(bdir, name)), name
        assert enc == "No"

    # SHOW BINLOG EVENTS: same events as mariadb-binlog, for the first, a middle and the last file.
    for name in (logs[0][0], logs[len(logs) // 2][0], logs[-1][0]):
        ours = q(c, "SHOW BINLOG EVENTS IN '%s'" % name)
        theirs = mariadb_binlog_events(os.path.join(bdir, name))
        assert len(ours) == len(theirs), name
        for o, t in zip(ours, theirs):
            assert o[0] == name and o[3] == 1
            assert (o[1], o[4]) == (t[0], t[1]), (name, o, t)
            if t[2] == "Ignorable":
                assert o[2] in MB_IGNORABLE, (o, t)
            else:
                assert MB_TYPES.get(t[2]) == o[2], (o, t)
        # FROM / LIMIT select the same rows.
        assert q(c, "SHOW BINLOG EVENTS IN '%s' FROM %d LIMIT 2, 5" % (name, ours[3][1])) == ours[5:10]
        assert q(c, "SHOW BINLOG EVENTS IN '%s' LIMIT 3" % name) == ours[:3]
    # Without IN: the first file.
    assert q(c, "SHOW BINLOG EVENTS LIMIT 4") == q(c, "SHOW BINLOG EVENTS IN '%s' LIMIT 4" % logs[0][0])
    with pytest.raises(pymysql.err.OperationalError) as e:
        q(c, "SHOW BINLOG EVENTS IN 'nope.000001'")
    assert e.value.args[0] == 1220
    with pytest.raises(pymysql.err.OperationalError) as e:
        q(c, "SHOW BINLOG EVENTS IN '%s' FROM 5" % logs[0][0])
    assert e.value.args[0] == 1220

    # A registered MariaDB replica follows from the first file and is listed.
    rconn = start_replica(replica, relay.port, logs[0][0])
    wait_replica_equal(rconn, truth.connect(), st, 120, "replica equal to truth")
    hosts = q(c, "SHOW SLAVE HOSTS")
    assert len(hosts) == 1 and hosts[0][0] == 2 and hosts[0][3] == 1, hosts
    assert hosts[0][1] in ("127.0.0.1", "localhost") or hosts[0][1], hosts
    reps = q(c, "SHOW REPLICAS")
    assert [r[:4] for r in reps] == [r[:4] for r in hosts]

    # A dump client that reads nothing stays on an early file.
    pinned = dumpclient.connect(relay.port, rcvbuf=4096)
    dumpclient.start_dump(pinned, server_id=77, file_name=logs[0][0])
    target = logs[-2][0]

    wait_until(lambda: "server_id=77" in relay.log_text() or "replica_server_id=77" in relay.log_text(),
               10, what="pinned dump started")
    # PURGE TO the last-but-one file: the pinned file and later ones stay, ERR 1378.
    with pytest.raises(pymysql.err.OperationalError) as e:
        q(c, "PURGE BINARY LOGS TO '%s'" % target)
    assert e.value.args[0] == 1378, e.value.args
    left = [r[0] for r in q(c, "SHOW BINARY LOGS")]
    assert target in left and left[-1] == logs[-1][0]
    first_left = left[0]
    assert first_left != target, "the pinned dump should be on an older file"
    assert sorted(f for f in os.listdir(bdir) if re.match(r".*\.\d{6}$", f)) == left
    with open(os.path.join(bdir, "tirelay-bin.index")) as f:
        assert [ln.strip()[2:] for ln in f if ln.strip()] == left
    purged_some = first_left != logs[0][0]

    # mariadb-binlog reads the remaining files remotely from the first remaining one.
    r = subprocess.run(["mariadb-binlog", "--no-defaults", "--read-from-remote-server",
                        "-h127.0.0.1", "-P%d" % relay.port, "-urepl", "-ppw", "--to-last-log",
                        first_left], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    assert b"Write_rows" in r.stdout or b"Update_rows" in r.stdout
    # A purged file is gone for dumps too.
    if purged_some:
        r = subprocess.run(["mariadb-binlog", "--no-defaults", "--read-from-remote-server",
                            "-h127.0.0.1", "-P%d" % relay.port, "-urepl", "-ppw", logs[0][0]],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        assert r.returncode != 0 and b"Could not find first log file" in r.stderr

    # The stalled client goes away; now PURGE TO succeeds and removes everything before target.
    pinned.close()
    wait_until(lambda: _purge_ok(c, target), 20, what="PURGE TO after the pinned dump left")
    left = [r[0] for r in q(c, "SHOW BINARY LOGS")]
    assert left == [target, logs[-1][0]]
    assert sorted(f for f in os.listdir(bdir) if re.match(r".*\.\d{6}$", f)) == left

    # A new replica starting from the first remaining file still gets a consistent stream
    # (file/position), and the first replica keeps going while the workload continues.
    r2 = mariadb_instance("replica2", server_id=3)
    r2c = r2.replicate_from(relay.port, log_file=target)
    wait_until(lambda: _io_running(r2c), 30, what="second replica connected")
    assert len(q(c, "SHOW SLAVE HOSTS")) == 2

    # Error cases.
    for sql, code in (("PURGE BINARY LOGS TO 'nope.000009'", 1373),
                      ("PURGE BINARY LOGS BEFORE 'yesterday'", 1525),
                      ("FLUSH BINARY LOGS", 1235)):
        with pytest.raises(pymysql.err.MySQLError) as e:
            q(c, sql)
        assert e.value.args[0] == code, (sql, e.value.args)
    # BEFORE a date in the past removes nothing; far in the future removes all but the
    # files in use (both replicas read the active file by now).
    q(c, "PURGE BINARY LOGS BEFORE '2000-01-01 00:00:00'")
    assert [r[0] for r in q(c, "SHOW BINARY LOGS")] == [target, logs[-1][0]]
    wait_until(lambda: _purge_ok(c, None), 30, what="PURGE BEFORE the future")
    assert [r[0] for r in q(c, "SHOW BINARY LOGS")] == [logs[-1][0]]


def _purge_ok(c, target):
    try:
        if target is None:
            q(c, "PURGE BINARY LOGS BEFORE '2099-01-01 00:00:00'")
        else:
            q(c, "PURGE BINARY LOGS TO '%s'" % target)
        return True
    except pymysql.err.OperationalError as e:
        if e.args[0] == 1378:
            return False
        raise


def _io_running(conn):
    s = slave_status(conn)
    assert s["Last_IO_Errno"] == 0, s["Last_IO_Error"]
    return s["Slave_IO_Running"] == "Yes"
