#!/usr/bin/python3
"""Idle replicas memory (issue 8 point 4: target <= 64 KiB per idle replica).

tests/tools/idle_dump_rss.py measured at several counts in one tirelay process: a truth
MariaDB, the simulator (--rows rows) and tirelay ($TIRELAY_BIN, default build/tirelay);
once the workload is relayed, dump connections (tests/integration/dumpclient.py, blocking
COM_BINLOG_DUMP from the first file) are added up to each count of --counts; every dump
reads all the bytes of every file, then they all sit idle at the end of the active file
for 3 s and tirelay's VmRSS is read. Prints, per count, VmRSS and (VmRSS - VmRSS with no
dump) / count.

Usage: TIRELAY_BIN=build/tirelay bench/idle_replicas.py [--counts 100,500,1000] [--rows 20000]
"""
import argparse
import os
import selectors
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "tools"))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, HERE)
import benchlib as bl  # noqa: E402
from benchlib import cluster  # noqa: E402
import dumpclient  # noqa: E402
from idle_dump_rss import binlog_bytes, vm_rss_kib  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--counts", default="100,500,1000")
    ap.add_argument("--rows", type=int, default=20000)
    args = ap.parse_args()
    print(bl.machine(), flush=True)
    os.environ.setdefault("TIRELAY_BIN", bl.tool("tirelay"))
    base = tempfile.mkdtemp(prefix="tirelay-idle-")
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
        print("binlog_bytes=%d dumps=0 VmRSS_KiB=%d" % (total, rss0), flush=True)
        sel = selectors.DefaultSelector()
        buf = bytearray(1 << 20)
        readers = []

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
        for count in [int(x) for x in args.counts.split(",")]:
            while len(readers) < count:
                c = dumpclient.connect(relay.port)
                sock = dumpclient.start_dump(c, server_id=2000 + len(readers),
                                             file_name="tirelay-bin.000001")
                sock.setblocking(False)
                r = [c, sock, 0]
                readers.append(r)
                sel.register(sock, selectors.EVENT_READ, r)
                if len(readers) % 50 == 0:
                    pump(0.05)
            deadline = time.monotonic() + 900
            while not all(r[2] >= total for r in readers):
                pump(0.5)
                if time.monotonic() > deadline:
                    raise SystemExit("dumps did not catch up")
            pump(3.0)
            rss = vm_rss_kib(pid)
            print("binlog_bytes=%d dumps=%d VmRSS_KiB=%d delta_per_dump_KiB=%.1f load=%s"
                  % (total, count, rss, (rss - rss0) / float(count), bl.loadavg()), flush=True)
        for r in readers:
            r[0].close()
    finally:
        if relay is not None:
            relay.stop()
        if sim is not None:
            sim.stop()
        truth.stop()
        cluster.rmtree(base)


if __name__ == "__main__":
    main()
