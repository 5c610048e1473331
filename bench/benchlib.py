"""Shared pieces of the issue 8 benchmarks: machine description, the cached
pre-encoded streams, the DDL-history MariaDB, the feeder and tirelay processes,
CPU time from /proc, medians."""
import json
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "sim"))
import cluster  # noqa: E402

DATA = os.environ.get("TIRELAY_BENCH_DATA", "/tmp/tirelay-bench-data")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def build_dir():
    return os.environ.get("TIRELAY_BENCH_BUILD", os.path.join(REPO, "build-bench"))


def tool(name):
    p = os.path.join(build_dir(), name)
    if not os.access(p, os.X_OK):
        sys.exit("%s not built: bench/build.sh does it: cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=RelWithDebInfo && "
                 "cmake --build build-bench --target tirelay tr_feeder tr_dumpreader" % p)
    return p


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    load = open("/proc/loadavg").read().split()[:3]
    return ("machine: nproc=%d cpu=%r mem=%.1fGiB kernel=%s loadavg=%s"
            % (os.cpu_count(), model, mem_kib / 1048576.0, platform.release(), " ".join(load)))


def loadavg():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def streams(shape, rows, pumps, rows_per_txn, marker=False):
    """The generated stream directory (bench/gen_stream.py), made once and cached."""
    name = "%s-r%d-p%d-t%d%s" % (shape, rows, pumps, rows_per_txn, "-m" if marker else "")
    d = os.path.join(DATA, name)
    if not os.path.exists(os.path.join(d, "meta.json")):
        tmp = d + ".tmp"
        cluster.rmtree(tmp)
        cmd = ["/usr/bin/python3", os.path.join(HERE, "gen_stream.py"), "--out", tmp, "--shape", shape,
               "--rows", str(rows), "--pumps", str(pumps), "--rows-per-txn", str(rows_per_txn)]
        if marker:
            cmd.append("--marker")
        subprocess.run(cmd, check=True)
        os.rename(tmp, d)
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    meta["dir"] = d
    return meta


class DdlEndpoint:
    """A throwaway MariaDB playing TiDB's SQL endpoint: mysql.tidb_ddl_history only."""

    def __init__(self, base):
        self.db = cluster.MariaDB(os.path.join(base, "tidb-sql"))

    def start(self):
        self.db.start()
        self.db.create_user("tidb", "tidbpw")
        return self

    def load(self, meta):
        with open(os.path.join(meta["dir"], "history.json")) as f:
            rows = json.load(f)
        c = self.db.connect()
        with c.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS mysql.tidb_ddl_history")
            cur.execute(__import__("tidbsim").HISTORY_DDL)
            for r in rows:
                cur.execute("INSERT INTO mysql.tidb_ddl_history (job_id, job_meta, db_name, table_name,"
                            " schema_ids, table_ids, create_time) VALUES (%s,%s,%s,%s,%s,%s,%s)",
                            (r["job_id"], r["job_meta"].encode(), r["db_name"], r["table_name"],
                             r["schema_ids"], r["table_ids"], r["create_time"]))
        c.close()

    @property
    def port(self):
        return self.db.port

    def stop(self):
        self.db.stop()


class Feeder:
    def __init__(self, base, meta, idle=0, rate=0.0, fake_ms=200, log=None):
        self.ports = [cluster.free_port() for _ in range(meta["pumps"] + idle)]
        self.addrs = ["127.0.0.1:%d" % p for p in self.ports]
        self.cmd = [tool("tr_feeder"), "--cluster-id", str(meta["cluster_id"]),
                    "--fake-ms", str(fake_ms)]
        for i, a in enumerate(self.addrs):
            path = os.path.join(meta["dir"], "pump-%d.bin" % i) if i < meta["pumps"] else "-"
            self.cmd += ["--pump", "%s=%s" % (a, path)]
        if rate:
            self.cmd += ["--rate", str(rate)]
        if log:
            self.cmd += ["--log", log]
        os.makedirs(base, exist_ok=True)
        self.logf = os.path.join(base, "feeder.log")
        self.proc = None

    def start(self):
        self._f = open(self.logf, "w")
        self.proc = subprocess.Popen(self.cmd, stdout=self._f, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        cluster.wait_until(lambda: "serving" in open(self.logf).read(), 60, what="feeder serving")
        return self

    def stop(self):
        cluster.stop_process(self.proc)
        if self.proc is not None:
            self._f.close()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / float(CLK_TCK)


def thread_stat(pid, value):
    """value(fields after the command name in /proc/PID/task/TID/stat) per thread name of
    process pid, same names summed; the main thread is "main" whatever its name."""
    out = {}
    tdir = "/proc/%d/task" % pid
    for tid in os.listdir(tdir):
        try:
            with open(os.path.join(tdir, tid, "stat")) as f:
                text = f.read()
        except OSError:
            continue  # the thread ended meanwhile
        name = "main" if tid == str(pid) else text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        out[name] = out.get(name, 0) + value(fields)
    return out


def thread_cpu(pid):
    """CPU seconds (user + system) per thread name of process pid (thread_stat)."""
    return thread_stat(pid, lambda f: (int(f[11]) + int(f[12])) / float(CLK_TCK))


def peak_rss(pid):
    """The process's peak resident set (VmHWM), in bytes."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def thread_faults(pid):
    """Minor page faults (fresh pages touched) per thread name of process pid."""
    return thread_stat(pid, lambda f: int(f[7]))


def ingest_cpu(threads):
    """CPU seconds of every thread but the main one (start-up, which includes generating the
    RSA key pair, 0.1-0.5 s, then the idle serving loop): the ingest's own."""
    return sum(s for n, s in threads.items() if n != "main")


def thread_text(threads, rows):
    """thread_cpu's result as 'name:us/row,...', busiest first (threads under 1% left out)."""
    total = sum(threads.values()) or 1.0
    return ",".join("%s:%.2f" % (n, s * 1e6 / rows)
                    for n, s in sorted(threads.items(), key=lambda kv: -kv[1]) if s / total >= 0.01)


def committed_txns(store):
    c = sqlite3.connect("file:%s?mode=ro" % os.path.join(store, "index.sqlite"), uri=True,
                        timeout=5)
    try:
        return c.execute("SELECT count(*) FROM txns").fetchone()[0]
    finally:
        c.close()


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


RSA_FILES = ("private_key.pem", "public_key.pem")


def time_ingest(relay, last_ts, perf=None, timeout=900):
    """Starts relay (a cluster.Tirelay) and times it until its index holds last_ts: returns
    (wall seconds from the start, tirelay's CPU seconds then, thread_cpu then); the
    thread_faults and peak_rss then are left in relay.faults and relay.peak_rss. perf: `perf record -g`
    (DWARF call graphs: frame pointers would miss -O2 frames) on tirelay meanwhile, into
    that file, at TIRELAY_PERF_FREQ samples/s (999).
    The store starts empty but for caching_sha2_password's RSA key pair, which tirelay makes
    on its first start only (0.1-0.5 s of CPU searching primes, the largest part of the main
    thread's start-up): the pair of the first run is kept in DATA/rsa and given to the next."""
    keep = os.path.join(DATA, "rsa")
    if all(os.path.exists(os.path.join(keep, f)) for f in RSA_FILES):
        os.makedirs(relay.store, exist_ok=True)
        for f in RSA_FILES:
            shutil.copy2(os.path.join(keep, f), os.path.join(relay.store, f))
    t0 = time.monotonic()
    relay.start()
    pid = relay.proc.pid
    prof = None
    if perf:
        prof = subprocess.Popen(["perf", "record", "-q", "-g", "--call-graph", "dwarf,16384",
                                 "-F", os.environ.get("TIRELAY_PERF_FREQ", "999"), "-o", perf,
                                 "-p", str(pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while committed_ts(relay.store) < last_ts:
        relay._alive()
        if time.monotonic() - t0 > timeout:
            raise RuntimeError("tirelay did not catch up in %d s:\n%s"
                               % (timeout, relay.log_text()[-3000:]))
        time.sleep(0.01)
    secs = time.monotonic() - t0
    cpu = cpu_seconds(pid)
    threads = thread_cpu(pid)
    relay.faults = thread_faults(pid)
    relay.peak_rss = peak_rss(pid)
    if not os.path.exists(os.path.join(keep, RSA_FILES[0])):
        os.makedirs(keep, exist_ok=True)
        for f in reversed(RSA_FILES):  # the private half last: its presence means both
            shutil.copy2(os.path.join(relay.store, f), os.path.join(keep, f))
    if prof is not None:
        prof.send_signal(signal.SIGINT)
        prof.wait(120)
    return secs, cpu, threads


def binlog_files(bdir):
    return sorted(f for f in os.listdir(bdir) if f[-6:].isdigit())


def binlog_bytes(bdir):
    return sum(os.path.getsize(os.path.join(bdir, f)) for f in binlog_files(bdir))


def median(xs):
    return statistics.median(xs)
