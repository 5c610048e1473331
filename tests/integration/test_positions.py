"""SHOW RELAY STATUS and SHOW BINLOG POSITION FOR TSO | GTID | POSITION
(issue 6 point 2) against tirelay fed by the simulator, both flavours, and a
Pump that stops answering shown as unreachable.

Positions are checked against what other statements read from the files
themselves: SHOW BINLOG EVENTS (the End_log_pos of a transaction's last
event is where the next one starts) and MariaDB's BINLOG_GTID_POS() answered
by the MariaDB listener (the GTID position at a file offset), and commit
timestamps against the simulator's own last commit_ts.
Run: /usr/bin/python3 -m pytest -q tests/integration/test_positions.py
"""

import os
import re

import pymysql
import pytest

from conftest import wait_until  # noqa: F401 (fixtures come from conftest)
from test_admin import admin, q
from test_cdc_clients import last_gtid_no

UUID = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
COLS = ["Flavor", "Log_name", "Log_pos", "Executed_Gtid_Set", "Last_gtid", "Commit_ts",
        "Commit_time"]


def qd(conn, sql):
    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(sql)
        return cur.fetchall()


def txn_ends(conn, name):
    """{gtid number: end position} of the transactions that end in file name (MySQL flavour)."""
    ends = {}
    cur_gno = None
    for row in q(conn, "SHOW BINLOG EVENTS IN '%s'" % name):
        if row[2] == "Gtid":
            m = re.search(r":(\d+)'", row[5])
            cur_gno = int(m.group(1))
        elif cur_gno is not None and (row[2] == "Xid" or
                                      (row[2] == "Query" and row[5] != "BEGIN")):
            ends[cur_gno] = row[4]
            cur_gno = None
    return ends


def error_of(conn, sql):
    with pytest.raises(pymysql.err.MySQLError) as e:
        q(conn, sql)
    return e.value.args


def test_status_and_positions(truth, tidbsim, tirelay):
    sim = tidbsim(truth, seed=5, rows=6000, fake_interval=1.0)
    relay = tirelay(sim, truth, max_binlog_size=64 * 1024, mariadb_listen=True)
    st = sim.wait_done(300)
    total = st["txns"] + st["ddls"]
    wait_until(lambda: last_gtid_no(relay.port) >= total, 120, what="tirelay caught up")
    c = admin(relay.port)
    cm = admin(relay.mariadb_port)

    # ---- SHOW RELAY STATUS
    rows = qd(c, "SHOW RELAY STATUS")
    assert list(rows[0].keys()) == ["Kind", "Name", "Address", "State", "Commit_ts", "Lag_ms",
                                    "Schema_version", "Last_gtid", "Files", "Bytes", "Replicas"]
    pumps = [r for r in rows if r["Kind"] == "pump"]
    assert [p["Address"] for p in pumps] == sim.pumps
    for p in pumps:
        assert p["State"] == "online", p
        # fake binlogs every second keep the received commit_ts moving
        assert p["Commit_ts"] >= st["last_commit_ts"], (p, st["last_commit_ts"])
        assert p["Lag_ms"] < 60000, p
    relay_row = [r for r in rows if r["Kind"] == "relay"]
    assert len(relay_row) == 1
    rr = relay_row[0]
    assert rr["Name"] == "static" and rr["State"] == "running", rr
    assert rr["Commit_ts"] >= st["last_commit_ts"], rr
    assert int(rr["Schema_version"]) == st["schema_version"], (rr, st["schema_version"])
    binlogs = {r["Name"]: r for r in rows if r["Kind"] == "binlog"}
    assert set(binlogs) == {"mysql", "mariadb"}
    assert binlogs["mysql"]["Last_gtid"] == "%s:%d" % (UUID, total)
    assert binlogs["mariadb"]["Last_gtid"] == "0-1-%d" % total
    assert binlogs["mysql"]["Commit_ts"] == st["last_commit_ts"]
    for flavor, conn in (("mysql", c), ("mariadb", cm)):
        logs = q(conn, "SHOW BINARY LOGS")
        b = binlogs[flavor]
        assert b["Files"] == len(logs) and b["Bytes"] == sum(x[1] for x in logs), (b, logs)
        assert b["State"] == logs[-1][0]
        assert b["Replicas"] == 0

    # ---- SHOW BINLOG POSITION FOR GTID: the end of that transaction, in both flavours
    logs = [r[0] for r in q(c, "SHOW BINARY LOGS")]
    assert len(logs) >= 4
    ends = txn_ends(c, logs[len(logs) // 2])
    gnos = sorted(ends)
    assert len(gnos) >= 3
    probe = gnos[len(gnos) // 2]
    res = qd(c, "SHOW BINLOG POSITION FOR GTID '%s:%d'" % (UUID, probe))
    assert [list(r.keys()) for r in res] == [COLS, COLS]
    by = {r["Flavor"]: r for r in res}
    assert by["mysql"]["Log_name"] == logs[len(logs) // 2]
    assert by["mysql"]["Log_pos"] == ends[probe]
    assert by["mysql"]["Executed_Gtid_Set"] == "%s:1-%d" % (UUID, probe)
    assert by["mysql"]["Last_gtid"] == "%s:%d" % (UUID, probe)
    assert by["mariadb"]["Executed_Gtid_Set"] == "0-1-%d" % probe
    # the MariaDB listener says the same GTID position at that MariaDB offset
    gpos = q(cm, "SELECT BINLOG_GTID_POS('%s', %d)" % (by["mariadb"]["Log_name"],
                                                      by["mariadb"]["Log_pos"]))[0][0]
    assert gpos == "0-1-%d" % probe, gpos
    commit_ts = by["mysql"]["Commit_ts"]
    assert 0 < commit_ts <= st["last_commit_ts"]
    assert by["mariadb"]["Commit_ts"] == commit_ts
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$", by["mysql"]["Commit_time"])
    # the MariaDB spelling of the same GTID gives the same rows
    assert qd(cm, "SHOW BINLOG POSITION FOR GTID '0-1-%d'" % probe) == res

    # ---- FOR TSO: the commit_ts itself, and anything up to the next commit, give the same
    assert qd(c, "SHOW BINLOG POSITION FOR TSO %d" % commit_ts) == res
    nxt = qd(c, "SHOW BINLOG POSITION FOR GTID '%s:%d'" % (UUID, probe + 1))
    nxt_ts = nxt[0]["Commit_ts"]
    assert nxt_ts > commit_ts
    assert qd(c, "SHOW BINLOG POSITION FOR TSO %d" % (nxt_ts - 1)) == res
    prev = qd(c, "SHOW BINLOG POSITION FOR TSO %d" % (commit_ts - 1))
    assert prev[0]["Last_gtid"] == "%s:%d" % (UUID, probe - 1)

    # ---- FOR POSITION (the listener's flavour): back to the same transaction
    assert qd(c, "SHOW BINLOG POSITION FOR POSITION '%s' %d"
              % (by["mysql"]["Log_name"], by["mysql"]["Log_pos"])) == res
    assert qd(cm, "SHOW BINLOG POSITION FOR POSITION '%s' %d"
              % (by["mariadb"]["Log_name"], by["mariadb"]["Log_pos"])) == res
    # a file's start: the transaction before the file
    first_here = gnos[0]
    start = qd(c, "SHOW BINLOG POSITION FOR POSITION '%s' 4" % logs[len(logs) // 2])
    assert start[0]["Last_gtid"] == "%s:%d" % (UUID, first_here - 1)

    # ---- the very start and the end
    first = qd(c, "SHOW BINLOG POSITION FOR TSO 1")
    assert [(r["Log_name"], r["Log_pos"], r["Executed_Gtid_Set"], r["Commit_ts"]) for r in first] \
        == [(logs[0], 4, "", 0), ("tirelay-bin.000001", 4, "", 0)]
    last = qd(c, "SHOW BINLOG POSITION FOR TSO %d" % st["last_commit_ts"])
    assert last[0]["Last_gtid"] == "%s:%d" % (UUID, total)
    assert last[0]["Log_pos"] == q(c, "SHOW MASTER STATUS")[0][1]
    assert last[1]["Log_pos"] == q(cm, "SHOW MASTER STATUS")[0][1]

    # ---- errors
    code, msg = error_of(c, "SHOW BINLOG POSITION FOR TSO %d" % (1 << 62))
    assert code == 1105 and "not written yet" in msg and str(st["last_commit_ts"])[:6] in msg, msg
    code, msg = error_of(c, "SHOW BINLOG POSITION FOR GTID '%s:%d'" % (UUID, total + 1000))
    assert code == 1105 and "not in the index" in msg, msg
    code, msg = error_of(c, "SHOW BINLOG POSITION FOR GTID '00000000-0000-0000-0000-000000000001:3'")
    assert code == 1525 and "not a GTID of this tirelay" in msg, msg
    code, msg = error_of(c, "SHOW BINLOG POSITION FOR GTID '0-9-3'")
    assert code == 1525, msg
    code, msg = error_of(c, "SHOW BINLOG POSITION FOR GTID 'junk'")
    assert code == 1525, msg
    code, msg = error_of(c, "SHOW BINLOG POSITION FOR POSITION 'nope.000001' 4")
    assert code == 1373, msg
    code, msg = error_of(c, "SHOW BINLOG POSITION FOR POSITION '%s' 999999999" % logs[0])
    assert code == 1105 and "outside" in msg, msg
    code, _ = error_of(c, "SHOW BINLOG POSITION FOR TSO")
    assert code == 1064
    # statements pipelined behind a held session are answered in order
    with c.cursor() as cur:
        for _ in range(20):
            cur.execute("SHOW BINLOG POSITION FOR GTID '%s:%d'" % (UUID, probe))
            assert cur.fetchall()[0][2] == ends[probe]
            cur.execute("SELECT 1")
            assert cur.fetchall() == ((1,),)

    # ---- purged: the start is gone, a position inside kept files still answers
    q(c, "PURGE BINARY LOGS TO '%s'" % logs[2])
    code, msg = error_of(c, "SHOW BINLOG POSITION FOR TSO 1")
    assert code == 1105 and "purged" in msg, msg
    assert qd(c, "SHOW BINLOG POSITION FOR GTID '%s:%d'" % (UUID, probe))[0] == by["mysql"]


def test_status_unreachable_pump(truth, tidbsim, tirelay, tmp_path):
    """A Pump that stops answering shows as unreachable (nothing received for 15 s) while
    the other stays online; the merge watermark stops with it; after its restart it is
    online again and the watermark moves on."""
    control_dir = str(tmp_path / "control")
    sim = tidbsim(truth, seed=6, rows=0, txns=0, rate=5, pumps=2, fake_interval=0.5,
                  extra=["--control-dir", control_dir])
    relay = tirelay(sim, truth)
    c = admin(relay.port)

    def status():
        return qd(c, "SHOW RELAY STATUS")

    def pumps():
        return {r["Address"]: r for r in status() if r["Kind"] == "pump"}

    wait_until(lambda: all(p["State"] == "online" and p["Commit_ts"] for p in pumps().values()),
               60, what="both pumps online and delivering")

    def control(cmd, idx):
        name = os.path.join(control_dir, "%s%d" % (cmd, idx))
        with open(name + ".tmp", "w") as f:
            f.write("%s %d" % (cmd, idx))
        os.replace(name + ".tmp", name + ".cmd")
        wait_until(lambda: os.path.exists(name + ".done"), 60, what="sim: %s" % cmd)

    control("kill", 1)
    dead = sim.pumps[1]
    wait_until(lambda: pumps()[dead]["State"] == "unreachable", 60, what="pump unreachable")
    p = pumps()
    assert p[sim.pumps[0]]["State"] == "online"
    assert p[dead]["Lag_ms"] >= 15000, p[dead]
    relay_row = [r for r in status() if r["Kind"] == "relay"][0]
    assert relay_row["Lag_ms"] >= 14000, relay_row  # nothing released above the dead Pump

    control("restart", 1)
    wait_until(lambda: pumps()[dead]["State"] == "online", 60, what="pump back online")
    wait_until(lambda: [r for r in status() if r["Kind"] == "relay"][0]["Lag_ms"] < 10000, 60,
               what="watermark moving again")
