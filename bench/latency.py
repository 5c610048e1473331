#!/usr/bin/python3
"""Latency benchmark (issue 8 point 3): commit release -> event received by a dump client,
at --rate transactions/s (default 10,000) with --idle idle Pumps (fake binlogs only).

How it is timed (one clock: CLOCK_MONOTONIC, shared by every process on the machine):
  * bench/gen_stream.py --marker writes one-row sysbench transactions whose `c` starts with
    '@@TS' + 20 digits;
  * bench/feeder.c --rate sends them from one Pump at the rate, re-stamping each at send time:
    a fresh TSO as start/commit_ts and its send time (ns) into the marker digits; it logs
    "T pump commit_ts ns" per transaction and "F pump commit_ts ns" per fake binlog, which
    the idle Pumps send every --fake-ms (TiDB Binlog's Pumps do it every 3 s; a short period
    keeps the watermark wait small, and it is subtracted anyway);
  * bench/dumpreader.c --latency (one blocking COM_BINLOG_DUMP from file 1 position 4,
    connected before the first transaction is sent) logs "marker_ns arrival_ns" for every
    row event carrying a marker, arrival taken right after the read() that completed it.
  * release(T) = the moment the merge may release T: the latest of T's send time and, for
    every other Pump, the send time of its first binlog (fake or not) with commit_ts >
    T's commit_ts. Reported: arrival - release ("beyond the watermark wait") and
    arrival - send (end to end), p50/p99/max over the transactions after a 1 s warm-up.

Usage: bench/latency.py [--rate 10000] [--seconds 20] [--idle 3] [--fake-ms 50]
                        [--sync commit|none] [--runs 3]
"""
import argparse
import bisect
import collections
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib as bl  # noqa: E402
from benchlib import cluster  # noqa: E402


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def analyse(feed_log, reader_log, warmup_ns):
    sends = {}                      # send ns -> (pump, commit_ts)
    by_pump = collections.defaultdict(list)     # pump -> [(commit_ts, ns)] in order
    with open(feed_log) as f:
        for line in f:
            kind, pump, ts, ns = line.split()
            pump, ts, ns = int(pump), int(ts), int(ns)
            by_pump[pump].append((ts, ns))
            if kind == "T":
                sends[ns] = (pump, ts)
    keys = {p: [x[0] for x in v] for p, v in by_pump.items()}
    arrivals = []
    with open(reader_log) as f:
        for line in f:
            m, a = line.split()
            arrivals.append((int(m), int(a)))
    if not sends:
        raise RuntimeError("the feeder sent no transaction")
    first = min(sends)
    beyond, e2e, wait = [], [], []
    missing = 0
    for m, a in arrivals:
        if m not in sends:
            missing += 1
            continue
        if m - first < warmup_ns:
            continue
        pump, ts = sends[m]
        release = m
        for q, ks in keys.items():
            if q == pump:
                continue
            i = bisect.bisect_right(ks, ts)
            if i == len(ks):
                release = None      # released by something logged after the run: skip
                break
            release = max(release, by_pump[q][i][1])
        if release is None:
            continue
        beyond.append(a - release)
        e2e.append(a - m)
        wait.append(release - m)
    return beyond, e2e, wait, len(sends), missing


def one_run(base, meta, ddl, a):
    flog = os.path.join(base, "feeder.tsv")
    rlog = os.path.join(base, "reader.tsv")
    feeder = bl.Feeder(base, meta, idle=a.idle, rate=a.rate, fake_ms=a.fake_ms, log=flog)
    relay = cluster.Tirelay(os.path.join(base, "tirelay"), feeder.addrs, meta["cluster_id"], ddl.port,
                            max_binlog_size=256 << 20, extra_conf="sync = %s\n" % a.sync)
    reader = None
    try:
        relay.start()          # pulls nothing yet: the feeder is not up
        reader = subprocess.Popen([bl.tool("tr_dumpreader"), "--port", str(relay.port),
                                   "--latency", rlog, "--markers", str(meta["txns"]),
                                   "--file", "tirelay-bin.000001"], stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
        feeder.start()         # the schedule starts 0.5 s after tirelay's first pull
        reader.wait(timeout=meta["txns"] / a.rate + 120)
        time.sleep(0.3)
    finally:
        if reader is not None and reader.poll() is None:
            reader.kill()
            reader.wait()
        relay.stop()
        feeder.stop()
    return analyse(flog, rlog, 1e9)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rate", type=float, default=10000)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--idle", type=int, default=3)
    p.add_argument("--fake-ms", type=int, default=50)
    p.add_argument("--sync", choices=["commit", "none"], default="commit")
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args()
    print(bl.machine(), flush=True)
    meta = bl.streams("sysbench", int(a.rate * a.seconds), 1, 1, marker=True)
    base = tempfile.mkdtemp(prefix="tirelay-latency-")
    ddl = bl.DdlEndpoint(base).start()
    ms = lambda ns: ns / 1e6  # noqa: E731
    try:
        ddl.load(meta)
        os.environ["TIRELAY_BIN"] = bl.tool("tirelay")
        res = []
        for i in range(a.runs):
            beyond, e2e, wait, sent, missing = one_run(os.path.join(base, "run%d" % i), meta, ddl, a)
            r = (pct(beyond, 0.5), pct(beyond, 0.99), max(beyond), pct(e2e, 0.5), pct(e2e, 0.99), max(e2e))
            res.append(r)
            print("run %d: rate=%.0f/s idle_pumps=%d fake_ms=%d sync=%s txns=%d measured=%d missing=%d "
                  "beyond_watermark_ms p50=%.2f p99=%.2f max=%.2f | end_to_end_ms p50=%.2f p99=%.2f "
                  "max=%.2f | watermark_wait_ms p50=%.2f load=%s"
                  % (i + 1, a.rate, a.idle, a.fake_ms, a.sync, sent, len(beyond), missing,
                     ms(r[0]), ms(r[1]), ms(r[2]), ms(r[3]), ms(r[4]), ms(r[5]), ms(pct(wait, 0.5)),
                     bl.loadavg()), flush=True)
        med = [bl.median([r[k] for r in res]) for k in range(6)]
        print("median of %d: beyond_watermark_ms p50=%.2f p99=%.2f max=%.2f | end_to_end_ms p50=%.2f "
              "p99=%.2f max=%.2f" % (a.runs, *[ms(x) for x in med]), flush=True)
    finally:
        ddl.stop()
        cluster.rmtree(base)


if __name__ == "__main__":
    main()
