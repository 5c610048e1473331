#!/usr/bin/python3
"""Runs the tirelay demo under one directory (default ./.demo): a truth
MariaDB playing TiDB's SQL endpoint, the TiDB simulator with a continuous
workload at a modest rate, tirelay pulling from it, and optionally a MariaDB
replica attached to tirelay.  Prints how to watch and attach, then progress
every few seconds; Ctrl-C stops everything.  Loopback only.
Invoked by scripts/demo.sh (which builds first).
"""

import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster  # noqa: E402


def main():
    p = argparse.ArgumentParser(description="tirelay demo")
    p.add_argument("--dir", default=os.path.join(cluster.REPO, ".demo"))
    p.add_argument("--tirelay", default=cluster.tirelay_bin())
    p.add_argument("--rate", type=float, default=5.0, help="simulated TiDB transactions per second")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pumps", type=int, default=1)
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
        print("starting the TiDB simulator (%d pump(s), %.1f txn/s) ..." % (a.pumps, a.rate), flush=True)
        sim = cluster.TidbSim(os.path.join(a.dir, "sim"), truth, seed=a.seed, rate=a.rate, pumps=a.pumps)
        procs.append(sim)
        sim.start()
        print("starting tirelay ...", flush=True)
        relay = cluster.Tirelay(os.path.join(a.dir, "tirelay"), sim.pumps, sim.cluster_id, truth.port,
                                max_binlog_size=a.max_binlog_size)
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
  pumps (gRPC):        %(pumps)s
  truth MariaDB:       mariadb --socket=%(tsock)s -uroot simdb
  tirelay (MySQL):     127.0.0.1:%(port)d   user repl / password pw
  tirelay log:         %(rlog)s
  stored binlogs:      %(bdir)s

watch the events as they arrive:
  mariadb-binlog --read-from-remote-server --host=127.0.0.1 --port=%(port)d --user=repl --password=pw \\
      --stop-never --verbose tirelay-bin.000001

attach a replica (any MariaDB/MySQL with a distinct server-id):
  %(change)s
%(replica)s
Ctrl-C stops everything.
""" % dict(dir=a.dir, pumps=", ".join(sim.pumps), tsock=truth.socket, port=relay.port,
           rlog=relay.log, bdir=relay.binlog_dir(), change=change,
           replica=("  (already attached: mariadb --socket=%s -uroot -e 'SHOW SLAVE STATUS\\G')\n"
                    % replica.socket) if replica else ""), flush=True)

        rconn = replica.connect() if replica else None
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
            line = "[%s] TiDB: %d txns, %d row changes | tirelay: %d file(s), %d bytes" % (
                time.strftime("%H:%M:%S"), st["txns"], st["rows"], len(files), size)
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
