#!/usr/bin/python3
"""Memory an idle replica connection costs tirelay (issue 8: target <= 64 KiB).

Starts a truth MariaDB, the TiDB simulator (a workload of --rows rows) and
tirelay ($TIRELAY_BIN, default build/tirelay), waits for the workload to be
relayed, then opens N blocking COM_BINLOG_DUMP connections from the first
file (tests/integration/dumpclient.py), reads every one until it has all the
bytes of every file, lets them sit idle at the end of the active file, and
prints tirelay's VmRSS before and after and the delta per dump.

Usage: TIRELAY_BIN=build/tirelay /usr/bin/python3 tests/tools/idle_dump_rss.py [-n 200] [--rows 20000]
"""

import argparse
import os
import selectors
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import cluster  # noqa: E402
import dumpclient  # noqa: E402


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def binlog_bytes(bdir):
    return sum(os.path.getsize(os.path.join(bdir, f)) - 4 for f in os.listdir(bdir)
               if f[-6:].isdigit())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=200, help="idle dump connections")
    ap.add_argument("--rows", type=int, default=20000, help="workload rows (binlog volume)")
    args = ap.parse_args()
    base = tempfile.mkdtemp(prefix="tirelay-rss-")
    truth = cluster.MariaDB(os.path.join(base, "truth"), server_id=1).start()
    sim = relay = None
    try:
        truth.create_user("tidb", "tidbpw")
        sim = cluster.TidbSim(os.path.join(base, "sim"), truth, seed=5, rows=args.rows, rate=0,
                              fake_interval=1.0).start()
        relay = cluster.Tirelay(os.path.join(base, "tirelay"), sim.pumps, sim.cluster_id,
                                truth.port, max_binlog_size=1024 * 1024).start()
        sim.wait_done(600)
        bdir = relay.binlog_dir()
        last = [-1, time.monotonic()]

        def settled():
            n = binlog_bytes(bdir)
            if n != last[0]:
                last[0], last[1] = n, time.monotonic()
            return time.monotonic() - last[1] > 3.0
        cluster.wait_until(settled, 300, interval=0.5, what="relay settled")
        total = binlog_bytes(bdir)
        pid = relay.proc.pid
        time.sleep(1.0)
        rss0 = vm_rss_kib(pid)

        sel = selectors.DefaultSelector()
        buf = bytearray(1 << 20)
        readers = []
        for i in range(args.n):
            c = dumpclient.connect(relay.port)
            sock = dumpclient.start_dump(c, server_id=2000 + i, file_name="tirelay-bin.000001")
            sock.setblocking(False)
            r = [c, sock, 0]
            readers.append(r)
            sel.register(sock, selectors.EVENT_READ, r)

        def pump(seconds):
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                for key, _ in sel.select(timeout=0.1):
                    r = key.data
                    try:
                        n = r[1].recv_into(buf)
                    except BlockingIOError:
                        continue
                    if n == 0:
                        raise SystemExit("tirelay closed a dump")
                    r[2] += n
        deadline = time.monotonic() + 600
        while not all(r[2] >= total for r in readers):
            pump(0.5)
            if time.monotonic() > deadline:
                raise SystemExit("dumps did not catch up")
        pump(3.0)  # idle: nothing more arrives but heartbeats (none: period 0)
        rss1 = vm_rss_kib(pid)
        print("binlog_bytes=%d dumps=%d VmRSS_KiB before=%d idle=%d delta_per_dump_KiB=%.1f" % (
            total, args.n, rss0, rss1, (rss1 - rss0) / float(args.n)))
        for r in readers:
            r[0].close()
    finally:
        if relay is not None:
            relay.stop()
        if sim is not None:
            sim.stop()
        truth.stop()


if __name__ == "__main__":
    main()
