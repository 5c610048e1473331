"""Many replicas (issue 3 point 7): 200 concurrent blocking dump connections
(raw COM_BINLOG_DUMP clients, tests/integration/dumpclient.py) follow tirelay
while the simulator's workload runs; one of them never reads from its socket.
A real MariaDB replica still catches up with the truth, the reading dumps
receive every byte of every file, and the stalled one is disconnected once
no write to it completed for dump-stall-timeout-ms ("dump stalled" in the log).
Prints tirelay's VmRSS with 200 idle dumps (a figure, not an assertion).
Run: /usr/bin/python3 -m pytest -q -s tests/integration/test_many_replicas.py
"""

import os
import selectors
import socket
import sys
import time

import pymysql

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
import dumpclient  # noqa: E402
from conftest import wait_until, checksum_table  # noqa: E402
from test_admin import start_replica, slave_status  # noqa: E402

N_DUMPS = 200
STALL_MS = 8000


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def binlog_bytes(bdir):
    """Bytes a dump from file 1 pos 4 receives: every file except its 4-byte magic."""
    return sum(os.path.getsize(os.path.join(bdir, f)) - 4 for f in os.listdir(bdir)
               if f[-6:].isdigit())


def test_200_dumps_one_stalled(truth, replica, tidbsim, tirelay):
    # Enough data (~10 MB) that the stalled client fills its socket buffers and tirelay's queue.
    sim = tidbsim(truth, seed=5, rows=28000, rate=4000, fake_interval=1.0)
    relay = tirelay(sim, truth, max_binlog_size=1024 * 1024,
                    extra_conf="\n[server]\ndump-stall-timeout-ms = %d\n" % STALL_MS)
    pid = relay.proc.pid
    rss0 = vm_rss_kib(pid)

    # The stalled one first: small receive buffer, never read.
    stalled = dumpclient.connect(relay.port, rcvbuf=4096)
    dumpclient.start_dump(stalled, server_id=1000, file_name="tirelay-bin.000001")
    readers = []
    sel = selectors.DefaultSelector()
    buf = bytearray(1 << 20)

    def pump(seconds):
        end = time.monotonic() + seconds
        while True:
            for key, _ in sel.select(timeout=0.1):
                r = key.data
                try:
                    n = r[1].recv_into(buf)
                except BlockingIOError:
                    continue
                assert n > 0, "tirelay closed a reading dump"
                r[2] += n
            if time.monotonic() >= end:
                break

    # Readers are drained from the moment they connect (the workload is running).
    for i in range(N_DUMPS - 1):
        c = dumpclient.connect(relay.port)
        sock = dumpclient.start_dump(c, server_id=1001 + i, file_name="tirelay-bin.000001")
        sock.setblocking(False)
        r = [c, sock, 0]
        readers.append(r)
        sel.register(sock, selectors.EVENT_READ, r)
        pump(0)
    rss_dumps = vm_rss_kib(pid)

    rconn = start_replica(replica, relay.port, "tirelay-bin.000001")

    # Keep the 199 readers drained while the workload runs.
    deadline = time.monotonic() + 180
    st = None
    while time.monotonic() < deadline:
        pump(1.0)
        s = sim.status()
        if s["done"]:
            st = s
            break
    assert st is not None, "workload did not finish"
    db = st["db"]
    tables = [t["name"] for t in st["tables"]]
    tconn = truth.connect()

    def replica_equal():
        pump(0.5)
        s = slave_status(rconn)
        assert s["Last_IO_Errno"] == 0 and s["Last_SQL_Errno"] == 0, (
            s["Last_IO_Error"], s["Last_SQL_Error"])
        return all(checksum_table(rconn, db, t) == checksum_table(tconn, db, t) for t in tables)
    wait_until(replica_equal, 120, interval=0.2, what="replica equal to truth")

    # Every reading dump got every byte: packet framing adds 5 bytes per event and the
    # fake ROTATE + FD per file, so compare against the file bytes as a lower bound and
    # wait until the counts stop growing.
    total = binlog_bytes(relay.binlog_dir())

    def all_read():
        pump(0.5)
        return all(r[2] >= total for r in readers)
    wait_until(all_read, 120, interval=0.1, what="every reading dump received all bytes")

    # The stalled client was cut (tirelay closed its socket), and only it.
    def stalled_cut():
        pump(0.2)
        return "dump stalled" in relay.log_text()
    wait_until(stalled_cut, STALL_MS / 1000.0 + 30, what="stalled dump disconnected")
    wait_until(lambda: _closed(stalled), 30, what="stalled dump closed")
    assert relay.log_text().count("dump stalled") == 1

    # Idle: 199 dumps waiting at the end of the active file.
    pump(1.0)
    rss_end = vm_rss_kib(pid)
    print("\nVmRSS KiB: start=%d after_200_dumps_connected=%d idle_199_dumps_after_%d_bytes=%d" % (
        rss0, rss_dumps, total, rss_end))
    for r in readers:
        r[0].close()


def _closed(conn):
    sock = conn._sock
    sock.setblocking(False)
    try:
        while True:
            data = sock.recv(1 << 20)
            if not data:
                return True
    except BlockingIOError:
        return False
    except (ConnectionResetError, OSError):
        return True
