"""The TiCDC storage-sink input (issue 16 point 2): the simulator writes its truth workload as
a TiCDC storage changefeed does (tests/sim/ticdc.py: metadata, schema files, CDC<n>.json with
canal-json lines, written independently of the C code) and tirelay reads the directory
(`[upstream] ticdc-storage`) instead of Pumps or Kafka.

- replicas on both listeners (file/position on the MySQL one, GTID on the MariaDB one) end
  equal to the truth, for the classic layout (index before data, day directories) and the
  new architecture's (data before index, no date directory), through TiCDC restarts (from
  an older checkpoint, and exactly at a pending commit_ts: rows again in later files), a
  transaction of 1,500 rows, identical rows of a keyless table in one transaction, shared
  commit_ts and DDL mid-stream (a table created, columns added);
- kill -9 loop: a relay killed at random moments writes files byte-identical to an
  uninterrupted relay reading the same directory, and its replica equals the truth;
- a corrupt line stops the input with an error naming the file and the line, nothing of
  its round is written, and a restart stops at the same place.
Run: /usr/bin/python3 -m pytest -q -s tests/integration/test_ticdc_storage.py
"""

import glob
import os
import random
import re
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
from conftest import wait_until, wait_replica_equal  # noqa: E402
from ticdchelp import (fault, kill9_loop, last_commit_ts, relay_status,  # noqa: E402
                       start_replica, wait_fault_tables_equal)

SEED = int(os.environ.get("TIRELAY_TEST_SEED", "20261206"))


@pytest.fixture(scope="module")
def tirelay_built():
    assert os.access(cluster.tirelay_bin(), os.X_OK), \
        "tirelay binary not built (%s): build it or set TIRELAY_BIN" % cluster.tirelay_bin()


def data_files(root):
    return sorted(glob.glob(os.path.join(root, "*", "*", "*", "**", "CDC*.json"), recursive=True))


@pytest.mark.parametrize("layout,dates", [("classic", "day"), ("new", "none")])
def test_replicas_follow_the_storage_sink(tirelay_built, truth, mariadb_instance, ticdc_sim,
                                          ticdc_relay, tmp_path, layout, dates):
    root = str(tmp_path / "sink")
    # The relay and its replicas first: the faults below must meet a running workload.
    relay = ticdc_relay(truth, storage=root, mariadb_listen=True, max_binlog_size=128 * 1024)
    r1 = start_replica(mariadb_instance("replica1", server_id=2), relay.port, gtid=False)
    r2 = start_replica(mariadb_instance("replica2", server_id=3), relay.mariadb_port, gtid=True)
    sim = ticdc_sim(truth, storage=root, layout=layout, date_separator=dates, rows=6000,
                    rate=40, flush_interval=0.3, shared_ts_every=7,
                    extra=["--alter", "--alter-rows", "2500"])

    answers = {}
    for cmd in ("ticdc-restart-exact", "big-txn 1500", "ticdc-restart", "dup-keyless"):
        time.sleep(0.8)
        answers[cmd] = fault(sim, cmd)
    st = sim.wait_done(900)
    tconn = truth.connect()
    wait_replica_equal(r1, tconn, st, 600, "file/position replica on the MySQL listener")
    wait_replica_equal(r2, tconn, st, 600, "GTID replica on the MariaDB listener")
    counts = wait_fault_tables_equal([r1, r2], tconn, st["db"], ["t_cdc_big", "t_cdc_keyless"],
                                     120)
    assert counts["t_cdc_big"] >= 1500 and counts["t_cdc_keyless"] >= 2, counts

    rows = relay_status(relay.port)
    relay_row = next(r for r in rows if r["Kind"] == "relay")
    assert relay_row["Name"] == "ticdc-storage" and relay_row["State"] == "running", relay_row
    tables = [r for r in rows if r["Kind"] == "partition"]
    names = {r["Name"] for r in tables}
    assert {"simdb.t_orders", "simdb.t_cdc_big", "simdb.t_cdc_keyless"} <= names, rows
    assert all(r["State"] == "online" and r["Commit_ts"] > 0 for r in tables), tables
    tc = st["ticdc"]
    assert tc["storage"]["layout"] == layout
    assert len(tc["restarts"]) >= 2 and any(r["exact"] for r in tc["restarts"]), tc
    assert sum(r["resent"] for r in tc["restarts"]) > 0, tc
    assert tc["shared_ts"], "the workload shared no commit_ts"
    print("\nTiCDC storage (%s layout, dates %s): %d row changes in %d txns, %d DDL, %d data "
          "files, restarts %s, answers %s, fault tables %s; both replicas equal to the truth"
          % (layout, dates, st["rows"], st["txns"], tc["ddls"], tc["storage"]["files"],
             tc["restarts"], answers, counts))


def test_kill9_files_identical(tirelay_built, truth, replica, ticdc_sim, ticdc_relay, tmp_path):
    rng = random.Random(SEED)
    root = str(tmp_path / "sink")
    sim = ticdc_sim(truth, storage=root, rows=9000, rate=20, flush_interval=0.3,
                    shared_ts_every=5)
    conf = "sync = commit\n"
    a = ticdc_relay(truth, storage=root, max_binlog_size=64 * 1024, mariadb_listen=True,
                      extra_conf=conf, server_id=1)
    b = ticdc_relay(truth, storage=root, max_binlog_size=64 * 1024, mariadb_listen=True,
                      extra_conf=conf, server_id=1)
    rconn = start_replica(replica, b.port, gtid=False)
    kill9_loop(sim, a, b, rconn, truth, rng, lambda i: "ticdc-restart" if i % 5 == 2 else None,
               "TiCDC storage kill -9")


def test_corrupt_line_stops_naming_file_and_line(tirelay_built, truth, ticdc_sim, ticdc_relay,
                                                 tmp_path):
    root = str(tmp_path / "sink")
    sim = ticdc_sim(truth, storage=root, rows=100000, rate=40, flush_interval=0.3)
    relay = ticdc_relay(truth, storage=root)
    wait_until(lambda: last_commit_ts(relay) > 0, 120, what="the relay writing")
    sim.control("freeze 0")

    # Everything the frozen workload committed is in files and behind the checkpoint, and
    # the relay wrote all of it.
    def caught_up():
        s = sim.status()
        t = s["ticdc"]
        return (not t["queued"] and t["storage"]["checkpoint_ts"] >= s["last_commit_ts"]
                and last_commit_ts(relay) >= s["last_commit_ts"] and s)

    s = wait_until(caught_up, 120, what="the relay at the frozen workload's end")
    written = last_commit_ts(relay)
    assert written == s["last_commit_ts"], (written, s["last_commit_ts"])
    # Append a line that is not JSON to the newest data file of t_orders.
    files = [f for f in data_files(root) if "/t_orders/" in f]
    newest = max(files, key=lambda f: (os.path.dirname(f), os.path.basename(f)))
    with open(newest, "rb") as f:
        lines = f.read().count(b"\n")
    with open(newest, "ab") as f:
        f.write(b"{this is not canal-json\r\n")
    rel = os.path.relpath(newest, root)
    pattern = re.compile(r"cannot decode a line: .* file=%s line=%d" % (re.escape(rel), lines + 1))
    wait_until(lambda: pattern.search(relay.log_text()), 60,
               what="the error naming file and line")
    relay_row = next(r for r in relay_status(relay.port) if r["Kind"] == "relay")
    assert relay_row["State"] == "failed", relay_row
    # The metadata keeps moving (the frozen workload's watermarks): still nothing new.
    sim.control("thaw 0")
    time.sleep(2.0)
    assert last_commit_ts(relay) == written
    # A restart meets the same line and stops at the same place.
    relay.stop()
    relay.start()
    wait_until(lambda: len(pattern.findall(relay.log_text())) >= 2, 60,
               what="the same error after a restart")
    assert last_commit_ts(relay) == written
    print("\ncorrupt line at %s line %d: stopped, last written commit_ts %d, again after a "
          "restart" % (rel, lines + 1, written))
