#!/usr/bin/python3
"""Serve benchmark (issue 8 point 2): one >= 1 GiB binlog read by N concurrent dump clients,
from tirelay and from mariadbd, same events, same reader.

1. tirelay ingests a cached sysbench stream (bench/gen_stream.py, --rows rows, sync none)
   from bench/feeder.c; its MySQL-flavour files are the binlog it serves.
2. A mariadbd with log_bin + log_slave_updates (binlog_format ROW, max_connections 1100)
   replicates tirelay's stream from file 1 position 4; its own binlog then holds the same
   row events (re-logged by MariaDB) and is what it serves.
3. For each N in --clients (default 1,10,100,500), alternately against tirelay and mariadbd,
   --runs times: bench/dumpreader.c with N clients, COM_BINLOG_DUMP from the first file,
   position 4, non-blocking (the server sends EOF at the end of its last file). A run stops
   at every client's EOF or after --seconds (default 20), whichever comes first; the figure
   is the aggregate payload bytes read / seconds, in MB/s (10^6). Reading the whole binlog
   500 times (~550 GB) does not fit a benchmark run, hence the window; the binlog is in the
   page cache for both servers.
Prints the medians and the tirelay/mariadbd ratio per N; per run each server's CPU
(user + system, % of one core) while it served.

Usage: bench/serve.py [--rows 5000000] [--clients 1,10,100,500] [--runs 3] [--seconds 20]
                      [--perf FILE]   (perf record -g of tirelay during its reads)
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib as bl  # noqa: E402
from benchlib import cluster  # noqa: E402


def read_run(port, first_file, n, seconds, sid_base, pid=None, perf_out=""):
    """One tr_dumpreader run; with pid, the server's CPU seconds during it (and perf record -g
    into perf_out when given). Returns (bytes, seconds, MB/s, server CPU seconds or None)."""
    cmd = [bl.tool("tr_dumpreader"), "--port", str(port), "--clients", str(n), "--file", first_file,
           "--server-id-base", str(sid_base), "--seconds", str(seconds)]
    prof = None
    if perf_out:
        prof = subprocess.Popen(["perf", "record", "-q", "-g", "--call-graph", "dwarf,16384",
                                 "-F", "999", "-o", perf_out, "-p", str(pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cpu0 = bl.cpu_seconds(pid) if pid else 0.0
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, timeout=seconds + 600).stdout
    cpu = bl.cpu_seconds(pid) - cpu0 if pid else None
    if prof is not None:
        prof.send_signal(signal.SIGINT)
        prof.wait(120)
    m = re.search(r"bytes=(\d+) .*seconds=([\d.]+) MBps=([\d.]+)", out)
    return int(m.group(1)), float(m.group(2)), float(m.group(3)), cpu


def batches(mport):
    """tirelay's dump batches so far: (framed, shared) from /metrics."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport, timeout=20) as r:
        body = r.read().decode()
    got = dict(re.findall(r'^tirelay_dump_batches_total\{how="(\w+)"\} (\S+)$', body, re.M))
    return int(float(got["framed"])), int(float(got["shared"]))


def shared_pct(b0, b1):
    framed, shared = b1[0] - b0[0], b1[1] - b0[1]
    return 100.0 * shared / (framed + shared) if framed + shared else 0.0


def cpu_pct(r):
    return 100.0 * r[3] / r[1] if r[1] > 0 else 0.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=5000000)
    p.add_argument("--clients", default="1,10,100,500")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--tirelay-only", action="store_true",
                   help="skip mariadbd (quick experiments on tirelay's serving path)")
    p.add_argument("--perf", default="",
                   help="perf record -g tirelay during its reads into FILE.<clients>.<run>")
    a = p.parse_args()
    print(bl.machine(), flush=True)
    meta = bl.streams("sysbench", a.rows, 1, 10)
    base = tempfile.mkdtemp(prefix="tirelay-serve-")
    ddl = bl.DdlEndpoint(base).start()
    feeder = relay = maria = None
    try:
        ddl.load(meta)
        os.environ["TIRELAY_BIN"] = bl.tool("tirelay")
        feeder = bl.Feeder(base, meta).start()
        mport = cluster.free_port()
        relay = cluster.Tirelay(os.path.join(base, "tirelay"), feeder.addrs, meta["cluster_id"],
                                ddl.port, max_binlog_size=256 << 20,
                                extra_conf="sync = none\n[metrics]\nlisten = 127.0.0.1:%d\n"
                                % mport).start()
        cluster.wait_until(lambda: bl.committed_ts(relay.store) >= meta["last_commit_ts"], 1800,
                           what="tirelay ingested the stream")
        tfiles = bl.binlog_files(relay.binlog_dir())
        tbytes = bl.binlog_bytes(relay.binlog_dir())
        print("tirelay: %d files, %d bytes" % (len(tfiles), tbytes), flush=True)

        if a.tirelay_only:
            for n in [int(x) for x in a.clients.split(",")]:
                for i in range(a.runs):
                    b0 = batches(mport)
                    r = read_run(relay.port, tfiles[0], n, a.seconds, 1000, relay.proc.pid,
                                 "%s.%d.%d" % (a.perf, n, i + 1) if a.perf else "")
                    print("clients=%d run %d: tirelay %.1f MB/s (%.1fs, cpu %.0f%%, batches shared "
                          "%.0f%%) load=%s" % (n, i + 1, r[2], r[1], cpu_pct(r),
                                              shared_pct(b0, batches(mport)), bl.loadavg()),
                          flush=True)
            return
        maria = cluster.MariaDB(os.path.join(base, "maria"), server_id=2, log_bin=True,
                                extra=["--log-slave-updates", "--binlog-format=ROW",
                                       "--max-connections=1100", "--max-binlog-size=256M"]).start()
        maria.create_user("repl", "pw")
        c = maria.connect()
        with c.cursor() as cur:
            cur.execute("FLUSH BINARY LOGS")
            cur.execute("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='repl', "
                        "MASTER_PASSWORD='pw', MASTER_LOG_FILE='%s', MASTER_LOG_POS=4, "
                        "MASTER_USE_GTID=no, MASTER_CONNECT_RETRY=1" % (relay.port, tfiles[0]))
            cur.execute("START SLAVE")
        last, end = tfiles[-1], os.path.getsize(os.path.join(relay.binlog_dir(), tfiles[-1]))
        t0 = time.monotonic()

        def caught_up():
            s = cluster.slave_status(c)
            if s["Last_SQL_Errno"] or s["Last_IO_Errno"]:
                raise RuntimeError("replica error: %s %s" % (s["Last_SQL_Error"], s["Last_IO_Error"]))
            return s["Relay_Master_Log_File"] == last and s["Exec_Master_Log_Pos"] >= end
        cluster.wait_until(caught_up, 7200, interval=0.5, what="mariadbd replicated tirelay's stream")
        with c.cursor() as cur:
            cur.execute("STOP SLAVE")
            cur.execute("SHOW BINARY LOGS")
            mlogs = cur.fetchall()
        c.close()
        mbytes = sum(r[1] for r in mlogs)
        print("mariadbd: replicated in %.1fs; its binlog: %d files, %d bytes"
              % (time.monotonic() - t0, len(mlogs), mbytes), flush=True)
        print(bl.machine(), flush=True)
        for n in [int(x) for x in a.clients.split(",")]:
            t_res, m_res = [], []
            for i in range(a.runs):
                b0 = batches(mport)
                t_res.append(read_run(relay.port, tfiles[0], n, a.seconds, 1000, relay.proc.pid,
                                      "%s.%d.%d" % (a.perf, n, i + 1) if a.perf else ""))
                shared = shared_pct(b0, batches(mport))
                m_res.append(read_run(maria.port, mlogs[0][0], n, a.seconds, 1000, maria.proc.pid))
                print("clients=%d run %d: tirelay %.1f MB/s (%.1fs, cpu %.0f%%, batches shared "
                      "%.0f%%)  mariadbd %.1f MB/s (%.1fs, cpu %.0f%%)  load=%s"
                      % (n, i + 1, t_res[-1][2], t_res[-1][1], cpu_pct(t_res[-1]), shared,
                         m_res[-1][2], m_res[-1][1], cpu_pct(m_res[-1]), bl.loadavg()), flush=True)
            tm = bl.median([x[2] for x in t_res])
            mm = bl.median([x[2] for x in m_res])
            print("median of %d: clients=%d tirelay_MBps=%.1f mariadbd_MBps=%.1f ratio=%.2f"
                  % (a.runs, n, tm, mm, tm / mm), flush=True)
    finally:
        if maria is not None:
            maria.stop()
        if relay is not None:
            relay.stop()
        if feeder is not None:
            feeder.stop()
        ddl.stop()
        cluster.rmtree(base)


if __name__ == "__main__":
    main()
