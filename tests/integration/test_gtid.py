"""GTID positioning against real peers.

MariaDB: a stock MariaDB 10.11 replica follows tirelay's MariaDB listener with
MASTER_USE_GTID=slave_pos through STOP/START SLAVE at seeded random points of a
simulator workload, ends equal to the truth with @@gtid_slave_pos equal to
tirelay's last GTID, then reconnects once with current_pos; GTID requests
tirelay cannot serve fail with MariaDB's ERR 1236 texts (unknown GTID, diverged
replica, both seen by the real replica's I/O thread).

MySQL: no MySQL replica exists here, so a small pymysql client sends
COM_BINLOG_DUMP_GTID with an encoded executed set (the bytes a MySQL replica
sends, spec 4.3) and checks which GTID_LOG_EVENTs arrive, that the skipped
range is announced with a HEARTBEAT_LOG_EVENT_V2 and the 1236 texts for a
replica ahead of us.

Run: /usr/bin/python3 -m pytest -q -s tests/integration/test_gtid.py
"""

import os
import random
import struct
import sys
import uuid

import pymysql
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
from conftest import wait_until, checksum_table, slave_status  # noqa: E402

ROWS = int(os.environ.get("TIRELAY_GTID_ROWS", "3000"))
SEED = int(os.environ.get("TIRELAY_TEST_SEED", "20240501"))
SERVER_UUID = "3e11fa47-71ca-11e1-9e33-c80aa9429562"  # tests/sim/cluster.py's config




def scalar(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


def relay_conn(relay, port):
    return pymysql.connect(host="127.0.0.1", port=port, user="repl", password="pw",
                           autocommit=True)


def caught_up(rconn, tconn, st):
    s = slave_status(rconn)
    assert s is not None
    assert s["Last_IO_Errno"] == 0 and s["Last_SQL_Errno"] == 0, (
        "replica error: IO %s %s / SQL %s %s" % (s["Last_IO_Errno"], s["Last_IO_Error"],
                                                 s["Last_SQL_Errno"], s["Last_SQL_Error"]))
    db = st["db"]
    with rconn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema=%s", (db,))
        if cur.fetchone()[0] < len(st["tables"]):
            return False
    return all(checksum_table(rconn, db, t["name"]) == checksum_table(tconn, db, t["name"])
               for t in st["tables"])


def test_mariadb_replica_gtid_slave_pos_survives_restarts(truth, replica, tidbsim, tirelay):
    sim = tidbsim(truth, seed=SEED, rows=ROWS, fake_interval=1.0, rate=400)
    relay = tirelay(sim, truth, max_binlog_size=48 * 1024, mariadb_listen=True)
    rconn = replica.replicate_from(relay.mariadb_port, gtid="slave_pos")

    # STOP/START SLAVE at seeded random points of the workload.
    rnd = random.Random(SEED)
    marks = sorted(rnd.sample(range(ROWS // 10, ROWS * 9 // 10), 4))
    restarts = 0
    for m in marks:
        try:
            wait_until(lambda: sim.status()["rows"] >= m or sim.status().get("done"), 300,
                       what="workload at %d rows" % m)
        except Exception:
            break
        with rconn.cursor() as cur:
            cur.execute("STOP SLAVE")
            s = slave_status(rconn)
            assert s["Last_IO_Errno"] == 0, s["Last_IO_Error"]
            assert s["Using_Gtid"] == "Slave_Pos"
            cur.execute("START SLAVE")
        restarts += 1
    st = sim.wait_done(600)
    tconn = truth.connect()
    wait_until(lambda: caught_up(rconn, tconn, st), 600, what="replica equal to the truth")

    mconn = relay_conn(relay, relay.mariadb_port)
    ours = scalar(mconn, "SELECT @@GLOBAL.gtid_binlog_pos")
    assert ours and ours.startswith("0-1-"), ours
    assert scalar(mconn, "SELECT @@gtid_current_pos") == ours
    wait_until(lambda: scalar(rconn, "SELECT @@GLOBAL.gtid_slave_pos") == ours, 60,
               what="replica gtid_slave_pos == %s" % ours)
    # the stream carried MariaDB GTIDs: one per transaction, numbered 1..N
    assert int(ours.split("-")[2]) >= st["txns"]

    # once more with current_pos, after more transactions are not needed: the
    # replica reconnects at the same place and stays error free
    with rconn.cursor() as cur:
        cur.execute("STOP SLAVE")
        cur.execute("CHANGE MASTER TO MASTER_USE_GTID=current_pos")
        cur.execute("START SLAVE")

    def running_current_pos():
        s = slave_status(rconn)
        assert s["Last_IO_Errno"] == 0, s["Last_IO_Error"]
        return s["Using_Gtid"] == "Current_Pos" and s["Slave_IO_Running"] == "Yes" and \
            s["Slave_SQL_Running"] == "Yes"

    wait_until(running_current_pos, 60, what="replica running with current_pos")
    assert scalar(rconn, "SELECT @@GLOBAL.gtid_current_pos") == ours
    assert caught_up(rconn, tconn, st)
    print("\n[gtid] %d row changes, %d txns, %d STOP/START SLAVE, final GTID %s"
          % (st["rows"], st["txns"], restarts, ours))


def io_error(rconn):
    s = slave_status(rconn)
    return s["Last_IO_Errno"], s["Last_IO_Error"]


def test_mariadb_gtid_errors(truth, mariadb_instance, tidbsim, tirelay):
    sim = tidbsim(truth, seed=SEED + 7, rows=300, fake_interval=1.0)
    relay = tirelay(sim, truth, mariadb_listen=True)
    st = sim.wait_done(300)
    mconn = relay_conn(relay, relay.mariadb_port)
    # one GTID per transaction and per DDL: wait for the last one, not the first st["txns"]
    wait_until(lambda: int((scalar(mconn, "SELECT @@gtid_binlog_pos") or "0-0-0").split("-")[2])
               == st["txns"] + st["ddls"], 60, what="relay has every transaction")
    last = int(scalar(mconn, "SELECT @@gtid_binlog_pos").split("-")[2])
    cases = [
        ("0-1-%d" % (last + 1000),
         "Error: connecting slave requested to start from GTID 0-1-%d, which is not in the "
         "master's binlog" % (last + 1000)),
        ("0-77-5",
         "Error: connecting slave requested to start from GTID 0-77-5, which is not in the "
         "master's binlog. Since the master's binlog contains GTIDs with higher sequence "
         "numbers, it probably means that the slave has diverged"),
    ]
    for i, (pos, text) in enumerate(cases):
        r = mariadb_instance("err%d" % i, server_id=10 + i)
        rconn = r.replicate_from(relay.mariadb_port, gtid="slave_pos", gtid_slave_pos=pos)
        wait_until(lambda: io_error(rconn)[0] == 1236, 60, what="ERR 1236 for %s" % pos)
        errno, msg = io_error(rconn)
        assert text in msg, msg
        assert slave_status(rconn)["Slave_IO_Running"] == "No"  # 1236: no retry
    # the strict-mode gap (MSG "missing the GTID ... strict mode") cannot happen
    # with our gap-free numbering; a raw client checks the "state too old" and
    # malformed-state answers instead
    c = relay_conn(relay, relay.mariadb_port)
    with c.cursor() as cur:
        cur.execute("SET @master_binlog_checksum='CRC32'")
        cur.execute("SET @slave_connect_state='0-1-x'")
    with pytest.raises(pymysql.err.OperationalError) as e:
        c._execute_command(0x12, struct.pack("<IHI", 4, 0, 0))
        c._read_packet()
    assert e.value.args[0] == 1236 and "malformed slave request" in e.value.args[1]


# ---------------------------------------------------------------- MySQL COM_BINLOG_DUMP_GTID

def encode_set(intervals):
    """{uuid_text: [(start, end_inclusive), ...]} -> classic binary GTID set."""
    out = struct.pack("<Q", len(intervals))
    for u, ivs in sorted(intervals.items()):
        out += uuid.UUID(u).bytes + struct.pack("<Q", len(ivs))
        for a, z in ivs:
            out += struct.pack("<QQ", a, z + 1)
    return out


def dump_gtid(port, gset, flags=0x01 | 0x02, checksum="CRC32"):
    """COM_BINLOG_DUMP_GTID non-blocking; returns [(type, event bytes)] until EOF."""
    c = pymysql.connect(host="127.0.0.1", port=port, user="repl", password="pw", autocommit=True)
    with c.cursor() as cur:
        cur.execute("SET @source_binlog_checksum='%s', @master_binlog_checksum='%s'"
                    % (checksum, checksum))
    body = struct.pack("<HII", flags, 0, 0) + struct.pack("<Q", 4) + \
        struct.pack("<I", len(gset)) + gset
    c._execute_command(0x1E, body)
    events = []
    while True:
        pkt = c._read_packet()
        data = pkt.get_all_data()
        if data[0] == 0xFE and len(data) < 9:
            break
        ev = data[1:]
        events.append((ev[4], ev))
    c.close()
    return events


def gtids_of(events):
    return [struct.unpack_from("<Q", ev, 19 + 1 + 16)[0] for t, ev in events if t == 33]


def test_mysql_binlog_dump_gtid(truth, tidbsim, tirelay):
    sim = tidbsim(truth, seed=SEED + 3, rows=600, fake_interval=1.0)
    relay = tirelay(sim, truth, max_binlog_size=16 * 1024)
    st = sim.wait_done(300)
    c = relay_conn(relay, relay.port)
    # one GTID per transaction and per DDL; reading the set before the last one is
    # written would race the relay (SHOW MASTER STATUS below must see the same set)
    last = st["txns"] + st["ddls"]
    wait_until(lambda: scalar(c, "SELECT @@GLOBAL.gtid_executed") == "%s:1-%d"
               % (SERVER_UUID, last), 60, what="relay has every transaction")
    executed = scalar(c, "SELECT @@GLOBAL.gtid_executed")
    assert scalar(c, "SELECT @@GLOBAL.gtid_mode") == "ON"
    assert scalar(c, "SELECT @@GLOBAL.gtid_purged") == ""
    with c.cursor() as cur:
        cur.execute("SHOW MASTER STATUS")
        assert cur.fetchone()[4] == executed

    # empty set: everything, once, in order
    ev = dump_gtid(relay.port, encode_set({}))
    assert gtids_of(ev) == list(range(1, last + 1))
    # GTIDs that open a file: a replica holding everything before one of them starts
    # at that file (its PREVIOUS_GTIDS) and skips nothing, so no heartbeat is owed.
    first_in_file = set()
    after_fd = False
    for t, e in ev:
        if t == 15:
            after_fd = True
        elif t == 33 and after_fd:
            first_in_file.add(struct.unpack_from("<Q", e, 19 + 1 + 16)[0])
            after_fd = False
    # replica has 1..k and a hole at h: gets h and k+1..last; the skipped range
    # is announced with a v2 heartbeat (flag 0x02) before the next event. k is
    # chosen so that the skip ends inside a file.
    k = last // 2
    while k + 1 in first_in_file:
        k += 1
    assert k + 1 < last
    h = k // 2
    ev = dump_gtid(relay.port, encode_set({SERVER_UUID: [(1, h - 1), (h + 1, k)]}))
    assert gtids_of(ev) == [h] + list(range(k + 1, last + 1))
    assert any(t == 41 for t, _ in ev)
    assert not any(t == 27 for t, _ in ev)
    # without flag 0x02: v1 heartbeats
    ev = dump_gtid(relay.port, encode_set({SERVER_UUID: [(1, k)]}), flags=0x01)
    assert gtids_of(ev) == list(range(k + 1, last + 1))
    assert any(t == 27 for t, _ in ev) and not any(t == 41 for t, _ in ev)
    # other uuids in the set are fine; complete set: nothing to send
    ev = dump_gtid(relay.port, encode_set({SERVER_UUID: [(1, last)],
                                           "de278ad0-2106-11e4-9f8e-6edd0ca20947": [(1, 9)]}))
    assert gtids_of(ev) == []
    # the replica is ahead of us
    with pytest.raises(pymysql.err.OperationalError) as e:
        dump_gtid(relay.port, encode_set({SERVER_UUID: [(1, last + 3)]}))
    assert e.value.args[0] == 1236 and "Slave has more GTIDs than the master has" in e.value.args[1]
    # malformed set
    with pytest.raises(pymysql.err.OperationalError) as e:
        dump_gtid(relay.port, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    assert e.value.args[0] == 1236 and "Malformed GTID_set" in e.value.args[1]
    # checksum-unaware client (never set the variable): refused as MySQL/MariaDB do
    c2 = relay_conn(relay, relay.port)
    with pytest.raises(pymysql.err.OperationalError) as e:
        c2._execute_command(0x12, struct.pack("<IHI", 4, 1, 0) + b"tirelay-bin.000001")
        c2._read_packet()
    assert e.value.args[0] == 1236 and "can not handle replication events with the checksum" \
        in e.value.args[1]
