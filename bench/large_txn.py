#!/usr/bin/python3
"""Peak memory of tirelay for ONE large transaction (issues 4 and 8).

Starts a MariaDB that only plays TiDB's SQL endpoint (the DDL history; the big
transaction is not applied to it), the simulator with --big-txn-bytes (one
INSERT transaction into t_big, about N bytes of row data), and tirelay under
/usr/bin/time -v. Waits until the transaction is committed in tirelay's store
index, stops tirelay (SIGTERM) and prints: payload bytes, rows, seconds,
rows/s, tirelay's Maximum resident set size, and the peaks of its RssAnon (heap)
and RssFile (mapped files: libraries and a spooled transaction) sampled from
/proc every few ms (samples can miss short peaks; the maximum RSS cannot).

Usage: bench/large_txn.py --bytes N [--row-bytes 1024] [--tirelay PATH] [--keep DIR]
"""
import argparse
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "sim"))
import cluster  # noqa: E402


def committed_ts(store):
    path = os.path.join(store, "index.sqlite")
    if not os.path.exists(path):
        return 0
    try:
        c = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=1)
        try:
            row = c.execute("SELECT max(commit_ts) FROM txns").fetchone()
        finally:
            c.close()
        return row[0] or 0
    except sqlite3.Error:
        return 0


def tirelay_pid(time_pid):
    """tirelay's pid (the child of /usr/bin/time), or None before it exists."""
    try:
        with open("/proc/%d/task/%d/children" % (time_pid, time_pid)) as f:
            kids = f.read().split()
        return int(kids[0]) if kids else None
    except OSError:
        return None


def sample_rss(pid, peak):
    """Raises peak["RssAnon"] / peak["RssFile"] (KiB) to what /proc shows now: which
    part of the resident set is heap and which is mapped file pages."""
    if pid is None:
        return
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in peak:
                    peak[k] = max(peak[k], int(v.split()[0]))
    except (OSError, ValueError):
        pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bytes", type=int, required=True, help="row data bytes of the transaction")
    p.add_argument("--row-bytes", type=int, default=1024)
    p.add_argument("--tirelay", default=os.path.join(os.path.dirname(HERE), "build", "tirelay"))
    p.add_argument("--mariadb-flavor", action="store_true",
                   help="also write the MariaDB-flavour file set")
    p.add_argument("--keep", default="", help="work directory to keep (default: a temp dir)")
    a = p.parse_args()

    base = a.keep or tempfile.mkdtemp(prefix="tirelay-bench-")
    truth = cluster.MariaDB(os.path.join(base, "tidb"))
    truth.install()
    truth.start()
    sim = relay = None
    try:
        truth.create_user("tidb", "tidbpw")
        sim = cluster.TidbSim(os.path.join(base, "sim"), truth, txns=1, fake_interval=0.5,
                              extra=["--big-txn-bytes", str(a.bytes),
                                     "--big-row-bytes", str(a.row_bytes)])
        sim.start()
        t_gen = time.monotonic()
        st = sim.wait_done(timeout=1800)
        big = st["big_txn"]
        print("generated in %.1fs: rows=%d prewrite_value_bytes=%d"
              % (time.monotonic() - t_gen, big["rows"], big["prewrite_value_bytes"]), flush=True)

        relay = cluster.Tirelay(os.path.join(base, "tirelay"), sim.pumps, sim.cluster_id,
                                truth.port, max_binlog_size=1 << 30,
                                mariadb_listen=a.mariadb_flavor)
        timing = os.path.join(base, "time.txt")
        logf = open(relay.log, "w")
        t0 = time.monotonic()
        proc = subprocess.Popen(["/usr/bin/time", "-v", "-o", timing, a.tirelay,
                                 "--config", relay.conf], stdout=logf, stderr=subprocess.STDOUT,
                                start_new_session=True)
        peak = {"RssAnon": 0, "RssFile": 0}
        child = None
        while committed_ts(relay.store) < big["commit_ts"]:
            if proc.poll() is not None:
                sys.exit("tirelay exited early:\n" + open(relay.log, errors="replace").read()[-4000:])
            child = child or tirelay_pid(proc.pid)
            sample_rss(child, peak)
            time.sleep(0.005)
        secs = time.monotonic() - t0
        # SIGTERM to tirelay only: /usr/bin/time then writes its report and exits
        with open("/proc/%d/task/%d/children" % (proc.pid, proc.pid)) as f:
            for child in f.read().split():
                os.kill(int(child), signal.SIGTERM)
        proc.wait(60)
        logf.close()
        text = open(timing).read()
        rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
        files = sorted(os.listdir(relay.binlog_dir()))
        out_bytes = sum(os.path.getsize(os.path.join(relay.binlog_dir(), f))
                        for f in files if not f.endswith(".index"))
        print("payload_bytes=%d rows=%d row_bytes=%d binlog_bytes=%d seconds=%.2f rows_per_s=%.0f "
              "max_rss_kib=%d max_rss_mib=%.1f rss_over_payload=%.2f "
              "sampled_peak_anon_mib=%.1f sampled_peak_file_mib=%.1f"
              % (big["prewrite_value_bytes"], big["rows"], a.row_bytes, out_bytes, secs,
                 big["rows"] / secs, rss_kb, rss_kb / 1024.0,
                 rss_kb * 1024.0 / big["prewrite_value_bytes"],
                 peak["RssAnon"] / 1024.0, peak["RssFile"] / 1024.0), flush=True)
    finally:
        if sim is not None:
            sim.stop()
        truth.stop()
        if not a.keep:
            cluster.rmtree(base)


if __name__ == "__main__":
    main()
