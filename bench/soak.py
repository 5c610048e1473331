#!/usr/bin/python3
"""Soak run of the differential workload (issue 5, "Tests"): millions of operations of
tests/sim/randload.py with a new seed each run.

Starts a truth MariaDB, the simulator (tidbsim.py --random SEED, four Pumps of which one
stays idle), tirelay with both listeners and two MariaDB replicas (file/position on
`listen`, GTID slave_pos on `mariadb-listen`). The simulator pauses every
--check-every operations; both replicas must then equal the truth (CHECKSUM TABLE, rows,
column definitions), and once more at the end. Prints the seed first, a progress line
every --progress seconds and a final verdict line (PASS or FAIL with the seed); exit
status 0 on PASS. Reproduce a run with --seed SEED (and the same --ops/--check-every).

Usage: bench/soak.py [--seed N] [--ops 2000000] [--check-every 250000] [--tirelay BIN]
                     [--keep DIR]
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "sim"))
import cluster  # noqa: E402
import diffcheck  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=None, help="default: a fresh random seed")
    p.add_argument("--ops", type=int, default=2000000)
    p.add_argument("--check-every", type=int, default=250000)
    p.add_argument("--known-bugs", default="avoid",
                   help="avoid: stay clear of the cases in tests/sim/randload.py KNOWN_BUGS; "
                        "run: run into them; or the name of one to run into")
    p.add_argument("--progress", type=float, default=10.0, help="seconds between progress lines")
    p.add_argument("--tirelay", default=os.path.join(os.path.dirname(HERE), "build", "tirelay"))
    p.add_argument("--keep", default="", help="work directory (default: a temp dir, removed "
                                              "after a PASS, kept after a FAIL)")
    a = p.parse_args()
    seed = a.seed if a.seed is not None else int.from_bytes(os.urandom(4), "big")
    print("seed: %d  (reproduce: bench/soak.sh --seed %d --ops %d --check-every %d "
          "--known-bugs %s)" % (seed, seed, a.ops, a.check_every, a.known_bugs), flush=True)
    os.environ["TIRELAY_BIN"] = os.path.abspath(a.tirelay)

    base = a.keep or tempfile.mkdtemp(prefix="tirelay-soak-")
    procs = []
    verdict = None
    t0 = time.monotonic()
    try:
        truth = cluster.MariaDB(os.path.join(base, "truth"), server_id=1).start()
        procs.append(truth)
        truth.create_user("tidb", "tidbpw")
        points = list(range(a.check_every, a.ops, a.check_every)) if a.check_every else []
        sim = cluster.TidbSim(os.path.join(base, "sim"), truth, pumps=4, fake_interval=1.0,
                              extra=["--random", str(seed), "--ops", str(a.ops),
                                     "--idle-pumps", "3", "--known-bugs", a.known_bugs,
                                     "--checkpoints", ",".join(map(str, points))]).start()
        procs.append(sim)
        relay = cluster.Tirelay(os.path.join(base, "tirelay"), sim.pumps, sim.cluster_id,
                                truth.port, max_binlog_size=64 << 20, mariadb_listen=True).start()
        procs.append(relay)
        reps = []
        for i, flavor in enumerate(("mysql", "mariadb")):
            m = cluster.MariaDB(os.path.join(base, "replica-" + flavor), server_id=2 + i).start()
            procs.append(m)
            reps.append(diffcheck.start_replica(m, relay, flavor))
        tconn = diffcheck.utc(truth.connect())

        k = 0
        last = time.monotonic()
        last_ops = 0
        while True:
            sim._alive()
            relay._alive()
            st = sim.status()
            rnd = st.get("random", {})
            now = time.monotonic()
            if now - last >= a.progress:
                ops = rnd.get("ops", 0)
                print("[%6.0fs] seed %d: %d/%d ops (%.0f ops/s), %d txns, %d DDLs, %d tables"
                      % (now - t0, seed, ops, a.ops, (ops - last_ops) / (now - last),
                         st["txns"], st["ddls"], len(st["tables"])), flush=True)
                last, last_ops = now, ops
            if rnd.get("paused") and rnd.get("checkpoint") == k + 1:
                k += 1
                err = diffcheck.check(seed, reps, tconn, st, timeout=900)
                if err:
                    verdict = "FAIL seed %d at checkpoint %d (%d ops):\n%s" % (seed, k, rnd["ops"], err)
                    break
                print("[%6.0fs] seed %d: checkpoint %d at %d ops: both replicas equal the truth"
                      % (time.monotonic() - t0, seed, k, rnd["ops"]), flush=True)
                open("%s.resume-%d" % (sim.status_file, k), "w").close()
            elif st["done"]:
                err = diffcheck.check(seed, reps, tconn, st, timeout=900)
                verdict = ("FAIL seed %d at the end (%d ops):\n%s" % (seed, rnd["ops"], err) if err
                           else "PASS seed %d: %d operations (%s), %d txns, %d DDLs, %d tables, "
                                "%.0fs: both replicas equal the truth"
                                % (seed, rnd["ops"],
                                   ", ".join("%s=%d" % kv for kv in sorted(rnd["kinds"].items())),
                                   st["txns"], st["ddls"], len(st["tables"]), time.monotonic() - t0))
                break
            time.sleep(0.5)
    except Exception as e:  # noqa: BLE001 - any failure is a FAIL verdict with the seed
        verdict = "FAIL seed %d: %s: %s" % (seed, type(e).__name__, str(e)[-4000:])
    finally:
        for pr in reversed(procs):
            pr.stop()
    ok = verdict.startswith("PASS")
    if ok and not a.keep:
        shutil.rmtree(base, ignore_errors=True)
    elif not ok:
        verdict += "\n(work directory kept: %s)" % base
    print(verdict, flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
