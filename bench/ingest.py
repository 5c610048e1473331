#!/usr/bin/python3
"""Ingest benchmark (issue 8 point 1): pre-encoded Pump streams -> tirelay -> durable binlog.

For each configuration (row shape x Pumps x sync policy) and each of --runs runs: a fresh
store, bench/feeder.c replaying the cached streams (bench/gen_stream.py) as fast as gRPC core
sends, tirelay started; the wall time runs from tirelay's start until the index holds the
last transaction's commit_ts (polled every 10 ms); tirelay's CPU time (user + system,
/proc/<pid>/stat) is read at that moment. Prints rows/s, input MB/s (PullBinlogResp bytes),
output MB/s (binlog bytes written), CPU us per row and the median of the runs.

--replica: after the last run of a configuration, a fresh mariadbd replica (the settings of
tests/sim/cluster.py: InnoDB, flush at commit = 2, no binlog, single-threaded apply) is
pointed at that tirelay from file 1 position 4, and the time until its SQL thread has
executed up to the end of the last file gives the replica's apply rate; the ratio tirelay
rows/s (that run) / replica rows/s is printed.

Usage: bench/ingest.py [--shape sysbench|wide] [--pumps 1] [--sync commit|none] [--rows N]
                       [--rows-per-txn 10] [--runs 3] [--replica] [--perf FILE]
--perf FILE: `perf record -g` (DWARF call graphs) on tirelay during each run, into FILE.<run>.
"""
import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib as bl  # noqa: E402
from benchlib import cluster  # noqa: E402


def one_run(base, meta, ddl, sync, perf=None):
    feeder = bl.Feeder(base, meta).start()
    relay = cluster.Tirelay(os.path.join(base, "tirelay"), feeder.addrs, meta["cluster_id"], ddl.port,
                            max_binlog_size=256 << 20, extra_conf="sync = %s\n" % sync)
    os.environ["TIRELAY_BIN"] = bl.tool("tirelay")
    try:
        secs, cpu, threads = bl.time_ingest(relay, meta["last_commit_ts"], perf)
        fcpu = bl.cpu_seconds(feeder.proc.pid)
        out = bl.binlog_bytes(relay.binlog_dir())
        return {"secs": secs, "cpu": cpu, "threads": threads, "feeder_cpu": fcpu, "out_bytes": out, "relay": relay, "feeder": feeder}
    except BaseException:
        relay.stop()
        feeder.stop()
        raise


def replica_apply(base, relay, meta):
    """Seconds for a fresh mariadbd replica to apply tirelay's files from position 4."""
    rep = cluster.MariaDB(os.path.join(base, "replica"), server_id=77).start()
    try:
        files = bl.binlog_files(relay.binlog_dir())
        last, end = files[-1], os.path.getsize(os.path.join(relay.binlog_dir(), files[-1]))
        c = rep.connect()
        with c.cursor() as cur:
            cur.execute("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='repl', "
                        "MASTER_PASSWORD='pw', MASTER_LOG_FILE='%s', MASTER_LOG_POS=4, "
                        "MASTER_USE_GTID=no, MASTER_CONNECT_RETRY=1" % (relay.port, files[0]))
            t0 = time.monotonic()
            cur.execute("START SLAVE")

        def caught_up():
            s = cluster.slave_status(c)
            if s["Last_SQL_Errno"] or s["Last_IO_Errno"]:
                raise RuntimeError("replica error: %s %s" % (s["Last_SQL_Error"], s["Last_IO_Error"]))
            return s["Relay_Master_Log_File"] == last and s["Exec_Master_Log_Pos"] >= end
        cluster.wait_until(caught_up, 3600, interval=0.05, what="replica caught up")
        secs = time.monotonic() - t0
        with c.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM `%s`.`%s`" % (meta["db"], meta["table"]))
            n = cur.fetchone()[0]
        if n != meta["rows"]:
            raise RuntimeError("replica has %d rows, expected %d" % (n, meta["rows"]))
        c.close()
        return secs
    finally:
        rep.stop()
        cluster.rmtree(rep.base)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shape", choices=["sysbench", "wide"], default="sysbench")
    p.add_argument("--pumps", type=int, default=1)
    p.add_argument("--sync", choices=["commit", "none"], default="commit")
    p.add_argument("--rows", type=int, default=0, help="default: 2,000,000 sysbench / 300,000 wide")
    p.add_argument("--rows-per-txn", type=int, default=10)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--replica", action="store_true")
    p.add_argument("--perf", default="", help="perf record -g tirelay during each run into FILE.<run>")
    a = p.parse_args()
    rows = a.rows or (2000000 if a.shape == "sysbench" else 300000)
    meta = bl.streams(a.shape, rows, a.pumps, a.rows_per_txn)
    base = tempfile.mkdtemp(prefix="tirelay-ingest-")
    ddl = bl.DdlEndpoint(base).start()
    try:
        ddl.load(meta)
        res = []
        for i in range(a.runs):
            rdir = os.path.join(base, "run%d" % i)
            r = one_run(rdir, meta, ddl, a.sync, "%s.%d" % (a.perf, i + 1) if a.perf else None)
            rps = meta["rows"] / r["secs"]
            print("run %d: shape=%s pumps=%d sync=%s rows=%d txns=%d secs=%.3f rows_per_s=%.0f "
                  "in_MBps=%.1f out_MBps=%.1f cpu_s=%.2f cpu_us_per_row=%.2f ingest_us_per_row=%.2f "
                  "feeder_cpu_s=%.2f threads_us_per_row=%s load=%s"
                  % (i + 1, a.shape, a.pumps, a.sync, meta["rows"], meta["txns"], r["secs"], rps,
                     meta["payload_bytes"] / r["secs"] / 1e6, r["out_bytes"] / r["secs"] / 1e6,
                     r["cpu"], r["cpu"] * 1e6 / meta["rows"],
                     bl.ingest_cpu(r["threads"]) * 1e6 / meta["rows"], r["feeder_cpu"],
                     bl.thread_text(r["threads"], meta["rows"]), bl.loadavg()), flush=True)
            res.append((r["secs"], r["cpu"], r["out_bytes"]))
            ratio_line = None
            if a.replica and i == a.runs - 1:
                rsecs = replica_apply(rdir, r["relay"], meta)
                ratio_line = ("replica: mariadbd applied %d rows in %.2fs = %.0f rows/s; "
                              "tirelay/replica = %.1fx" % (meta["rows"], rsecs, meta["rows"] / rsecs,
                                                           rsecs / r["secs"]))
            r["relay"].stop()
            r["feeder"].stop()
            cluster.rmtree(rdir)
            if ratio_line:
                print(ratio_line, flush=True)
        secs = bl.median([x[0] for x in res])
        cpu = bl.median([x[1] for x in res])
        out = bl.median([x[2] for x in res])
        print("median of %d: shape=%s pumps=%d sync=%s rows_per_txn=%d rows_per_s=%.0f in_MBps=%.1f "
              "out_MBps=%.1f cpu_us_per_row=%.2f" % (a.runs, a.shape, a.pumps, a.sync, a.rows_per_txn,
                                                     meta["rows"] / secs, meta["payload_bytes"] / secs / 1e6,
                                                     out / secs / 1e6, cpu * 1e6 / meta["rows"]),
              flush=True)
    finally:
        ddl.stop()
        cluster.rmtree(base)


if __name__ == "__main__":
    main()
