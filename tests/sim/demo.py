#!/usr/bin/python3
"""Runs the tirelay demo under one directory (default ./.demo): a truth
MariaDB playing TiDB's SQL endpoint, the TiDB simulator with a continuous
workload at a modest rate (through Pumps, or with --source kafka as TiCDC's
canal-json in a Kafka topic on a mock cluster, or with --source storage as a
TiCDC storage sink's directory), tirelay reading it, and
optionally a MariaDB replica attached to tirelay.  Prints how to watch and attach, then progress
every few seconds; Ctrl-C stops everything.  Loopback only.
Invoked by scripts/demo.sh (which builds first).
"""

import argparse
import os
import re
import signal
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster  # noqa: E402


def scrape(port):
    """A few values of tirelay's /metrics ({} when it does not answer)."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return {}
    out = {}
    for name in ("tirelay_transactions_written_total", "tirelay_rows_written_total",
                 "tirelay_replicas_connected", "tirelay_ready"):
        m = re.search(r"^%s (\S+)$" % name, text, re.M)
        if m:
            out[name] = float(m.group(1))
    lags = [float(v) for v in re.findall(r"^tirelay_pump_lag_seconds\{[^}]*\} (\S+)$", text, re.M)]
    if lags:
        out["lag"] = max(lags)
    return out


def health(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=2) as r:
            return r.read().decode().strip()
    except urllib.error.HTTPError as e:
        return e.read().decode().strip()
    except OSError:
        return "no answer"


def main():
    p = argparse.ArgumentParser(description="tirelay demo")
    p.add_argument("--dir", default=os.path.join(cluster.REPO, ".demo"))
    p.add_argument("--tirelay", default=cluster.tirelay_bin())
    p.add_argument("--rate", type=float, default=5.0, help="simulated TiDB transactions per second")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pumps", type=int, default=1)
    p.add_argument("--source", choices=["pumps", "kafka", "storage"], default="pumps",
                   help="pumps: TiDB Binlog over gRPC; kafka: TiCDC canal-json in a Kafka topic "
                        "(a librdkafka mock cluster on loopback, tests/tools/tr_kafka_mock); "
                        "storage: TiCDC's storage sink, canal-json files in <dir>/sink")
    p.add_argument("--partitions", type=int, default=4, help="topic partitions (--source kafka)")
    p.add_argument("--with-replica", action="store_true", help="also start and attach a MariaDB replica")
    p.add_argument("--max-binlog-size", type=int, default=1 << 20)
    a = p.parse_args()
    os.environ["TIRELAY_BIN"] = os.path.abspath(a.tirelay)

    stop = {"now": False}

    def on_signal(signum, frame):
        stop["now"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    cluster.rmtree(a.dir)
    os.makedirs(a.dir)
    procs = []
    try:
        print("starting truth MariaDB (plays TiDB's SQL endpoint) ...", flush=True)
        truth = cluster.MariaDB(os.path.join(a.dir, "truth"), server_id=1)
        procs.append(truth)
        truth.start()
        truth.create_user("tidb", "tidbpw")
        kafka = None
        extra = []
        upstream = ""
        source = "%d pump(s)" % a.pumps
        where = None
        if a.source == "kafka":
            print("starting a Kafka cluster (librdkafka's mock, topic cdc, %d partitions) ..."
                  % a.partitions, flush=True)
            kafka = cluster.KafkaMock(os.path.join(a.dir, "kafka"), {"cdc": a.partitions})
            procs.append(kafka)
            kafka.start()
            extra = cluster.ticdc_kafka_args(kafka.bootstrap, "cdc")
            upstream = "ticdc-kafka = %s\nticdc-topic = cdc\n" % kafka.bootstrap
            source = "TiCDC canal-json to Kafka"
            where = "Kafka %s topic cdc (TiCDC canal-json)" % kafka.bootstrap
        elif a.source == "storage":
            sink = os.path.join(a.dir, "sink")
            extra = cluster.ticdc_storage_args(sink)
            upstream = "ticdc-storage = %s\n" % sink
            source = "TiCDC canal-json files in %s" % sink
            where = "TiCDC storage sink %s (metadata, schema files, CDC*.json)" % sink
        cdc = a.source != "pumps"
        print("starting the TiDB simulator (%s, %.1f txn/s) ..." % (source, a.rate), flush=True)
        sim = cluster.TidbSim(os.path.join(a.dir, "sim"), truth, seed=a.seed, rate=a.rate,
                              pumps=0 if cdc else a.pumps, extra=extra)
        procs.append(sim)
        sim.start()
        print("starting tirelay ...", flush=True)
        mport = cluster.free_port()
        relay = cluster.Tirelay(os.path.join(a.dir, "tirelay"), [] if cdc else sim.pumps,
                                0 if cdc else sim.cluster_id, truth.port,
                                max_binlog_size=a.max_binlog_size, upstream_conf=upstream,
                                extra_conf="\n[metrics]\nlisten = 127.0.0.1:%d\n" % mport)
        procs.append(relay)
        relay.start()
        replica = None
        change = ("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='repl', "
                  "MASTER_PASSWORD='pw', MASTER_LOG_FILE='tirelay-bin.000001', MASTER_LOG_POS=4, "
                  "MASTER_USE_GTID=no; START SLAVE;" % relay.port)
        if a.with_replica:
            print("starting a MariaDB replica ...", flush=True)
            replica = cluster.MariaDB(os.path.join(a.dir, "replica"), server_id=2)
            procs.append(replica)
            replica.start()
            replica.execute(change.split(";")[0], "START SLAVE")

        print("""
tirelay demo is running (everything under %(dir)s, loopback only)
  upstream:            %(upstream)s
  truth MariaDB:       mariadb --socket=%(tsock)s -uroot simdb
  tirelay (MySQL):     127.0.0.1:%(port)d   user repl / password pw
  tirelay metrics:     http://127.0.0.1:%(mport)d/metrics   health: http://127.0.0.1:%(mport)d/healthz
  tirelay log:         %(rlog)s
  stored binlogs:      %(bdir)s

watch the events as they arrive (point mariadb-binlog at tirelay, in another terminal):
  mariadb-binlog --read-from-remote-server --host=127.0.0.1 --port=%(port)d --user=repl --password=pw \\
      --stop-never -vv --base64-output=decode-rows tirelay-bin.000001

attach a replica (any MariaDB/MySQL with a distinct server-id):
  %(change)s
%(replica)s
ask tirelay itself:
  mariadb -h127.0.0.1 -P%(port)d -urepl -ppw -e 'SHOW MASTER STATUS; SHOW RELAY STATUS'

stop: Ctrl-C here (or: kill -INT %(pid)d); everything stops, the files stay in %(dir)s.
""" % dict(dir=a.dir, upstream=where or ("pumps (gRPC) " + ", ".join(sim.pumps)),
           tsock=truth.socket, port=relay.port,
           mport=mport, pid=os.getpid(),
           rlog=relay.log, bdir=relay.binlog_dir(), change=change,
           replica=("  (already attached: mariadb --socket=%s -uroot -e 'SHOW SLAVE STATUS\\G')\n"
                    % replica.socket) if replica else ""), flush=True)

        rconn = replica.connect() if replica else None
        prev = None
        while not stop["now"]:
            for _ in range(30):
                if stop["now"]:
                    break
                time.sleep(0.1)
            if stop["now"]:
                break
            sim._alive()
            relay._alive()
            st = sim.status()
            bdir = relay.binlog_dir()
            files = sorted(os.listdir(bdir)) if os.path.isdir(bdir) else []
            files = [f for f in files if f[-6:].isdigit()]
            size = sum(os.path.getsize(os.path.join(bdir, f)) for f in files)
            m = scrape(mport)
            now = time.monotonic()
            txns = m.get("tirelay_transactions_written_total")
            rate = ""
            if txns is not None and prev is not None and now > prev[0]:
                rate = " (%.1f/s)" % ((txns - prev[1]) / (now - prev[0]))
            if txns is not None:
                prev = (now, txns)
            line = ("[%s] TiDB: %d txns, %d row changes | tirelay: %s txns%s, %s rows written, "
                    "%s at %d, %d file(s), %d bytes, pump lag %s, %s" % (
                        time.strftime("%H:%M:%S"), st["txns"], st["rows"],
                        "%d" % txns if txns is not None else "?", rate,
                        "%d" % m["tirelay_rows_written_total"] if "tirelay_rows_written_total" in m else "?",
                        files[-1] if files else "-",
                        os.path.getsize(os.path.join(bdir, files[-1])) if files else 0,
                        len(files), size,
                        "%.1fs" % m["lag"] if "lag" in m else "?",
                        "healthy" if m.get("tirelay_ready") == 1 else "NOT READY (%s)" % health(mport)))
            if m.get("tirelay_replicas_connected"):
                line += " | %d reader(s) attached" % m["tirelay_replicas_connected"]
            if rconn is not None:
                with rconn.cursor() as cur:
                    cur.execute("SHOW SLAVE STATUS")
                    row = cur.fetchone()
                    if row:
                        s = dict(zip([d[0] for d in cur.description], row))
                        line += " | replica: IO=%s SQL=%s at %s:%s%s" % (
                            s["Slave_IO_Running"], s["Slave_SQL_Running"], s["Relay_Master_Log_File"],
                            s["Exec_Master_Log_Pos"],
                            (" ERROR " + (s["Last_IO_Error"] or s["Last_SQL_Error"]))
                            if (s["Last_IO_Errno"] or s["Last_SQL_Errno"]) else "")
            print(line, flush=True)
    except (cluster.ProcessDied, FileNotFoundError) as e:
        print("\n%s" % e, file=sys.stderr)
        return 1
    finally:
        print("\nstopping ...", flush=True)
        for pr in reversed(procs):
            pr.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
