"""The TiCDC input over Kafka (issue 16): the simulator writes its truth workload as TiCDC
does (canal-json with the TiDB extension to a Kafka cluster on loopback, tests/sim/ticdc.py,
written independently of the C decoder) and tirelay reads the topic instead of Pumps.

- replicas on both listeners (file/position on the MySQL one, GTID on the MariaDB one) end
  equal to the truth through every fault the simulator injects: redelivery, TiCDC restarts
  (from an older checkpoint, and exactly at a pending commit_ts), shared commit_ts, a
  transaction over 1,024 rows, one partition far behind, identical rows of a keyless table
  in one transaction, DDL mid-stream;
- kill -9 loop: a relay killed at random moments writes files byte-identical to an
  uninterrupted relay reading the same topic, and its replica equals the truth;
- bad messages (undecodable, unknown table, type mismatch) stop the input with an error
  naming topic, partition and offset, and nothing at or past them is written.
Run: /usr/bin/python3 -m pytest -q -s tests/integration/test_ticdc.py
"""

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
TOPIC = "cdc"


@pytest.fixture(scope="module")
def tirelay_built():
    assert os.access(cluster.tirelay_bin(), os.X_OK), \
        "tirelay binary not built (%s): build it or set TIRELAY_BIN" % cluster.tirelay_bin()


def test_replicas_follow_through_every_fault(tirelay_built, truth, mariadb_instance, ticdc_sim,
                                             kafka_mock, ticdc_relay):
    kafka = kafka_mock({TOPIC: 4})
    # The relay and its replicas first: the faults below must meet a running workload.
    relay = ticdc_relay(truth, kafka=kafka, mariadb_listen=True, max_binlog_size=128 * 1024)
    r1 = start_replica(mariadb_instance("replica1", server_id=2), relay.port, gtid=False)
    r2 = start_replica(mariadb_instance("replica2", server_id=3), relay.mariadb_port, gtid=True)
    sim = ticdc_sim(truth, kafka=kafka, topic=TOPIC, rows=15000, rate=40, shared_ts_every=7)

    answers = {}
    for cmd in ("redeliver 0 30", "ticdc-restart-exact", "big-txn 1500", "redeliver 2 25",
                "ticdc-restart", "dup-keyless", "lag 1 2", "redeliver 3 40"):
        time.sleep(0.7)
        answers[cmd] = fault(sim, cmd)
    st = sim.wait_done(900)
    tconn = truth.connect()
    wait_replica_equal(r1, tconn, st, 600, "file/position replica on the MySQL listener")
    wait_replica_equal(r2, tconn, st, 600, "GTID replica on the MariaDB listener")
    # The fault commands' tables, which the simulator status does not list.
    counts = wait_fault_tables_equal([r1, r2], tconn, st["db"], ["t_cdc_big", "t_cdc_keyless"],
                                     300)
    assert counts["t_cdc_big"] >= 1500 and counts["t_cdc_keyless"] >= 2, counts

    rows = relay_status(relay.port)
    parts = [r for r in rows if r["Kind"] == "partition"]
    assert [r["Name"] for r in parts] == ["%s/%d" % (TOPIC, p) for p in range(4)], rows
    assert all(r["State"] == "online" and r["Commit_ts"] > 0 for r in parts), parts
    relay_row = next(r for r in rows if r["Kind"] == "relay")
    assert relay_row["Name"] == "ticdc-kafka" and relay_row["State"] == "running", relay_row
    tc = st["ticdc"]
    assert tc["shared_ts"], "the workload shared no commit_ts"
    assert len(tc["restarts"]) >= 2 and any(r["exact"] for r in tc["restarts"]), tc
    resent = sum(p["resent"] for p in tc["partition"])
    assert resent > 0, tc
    print("\nTiCDC Kafka: %d row changes in %d txns, %d DDL, %d messages resent, restarts %s, "
          "faults %s; both replicas equal to the truth"
          % (st["rows"], st["txns"], tc["ddls"], resent, tc["restarts"], tc["faults"]))


def test_kill9_files_identical(tirelay_built, truth, replica, ticdc_sim, kafka_mock, ticdc_relay):
    rng = random.Random(SEED)
    kafka = kafka_mock({TOPIC: 4})
    # The mock cluster keeps about 5 MiB per partition: a killed relay must find its stored
    # offsets still there, so the volume stays below that.
    sim = ticdc_sim(truth, kafka=kafka, topic=TOPIC, rows=5000, rate=25, shared_ts_every=5)
    conf = "sync = commit\n"
    a = ticdc_relay(truth, kafka=kafka, max_binlog_size=64 * 1024, mariadb_listen=True,
                    extra_conf=conf, server_id=1)
    b = ticdc_relay(truth, kafka=kafka, max_binlog_size=64 * 1024, mariadb_listen=True,
                    extra_conf=conf, server_id=1)
    rconn = start_replica(replica, b.port, gtid=False)
    kill9_loop(sim, a, b, rconn, truth, rng,
               lambda i: "redeliver %d 20" % (i % 4) if i % 5 == 2 else None, "TiCDC kill -9")


@pytest.mark.parametrize("fault,what", [
    ("garbage", "cannot decode a message"),
    ("unknown-table", "a row for a table the DDL history does not know"),
    ("type-mismatch", "in the message but not in the DDL history"),
])
def test_bad_message_stops_before_it(tirelay_built, truth, ticdc_sim, kafka_mock, ticdc_relay,
                                     fault, what):
    kafka = kafka_mock({TOPIC: 4})
    sim = ticdc_sim(truth, kafka=kafka, topic=TOPIC, rows=3000, rate=40)
    relay = ticdc_relay(truth, kafka=kafka)
    time.sleep(2.0)
    ans = sim.control("%s 1" % fault)
    m = re.match(r"\s*(-?\d+) (\d+)", ans)
    assert m, ans
    offset, cts = int(m.group(1)), int(m.group(2))
    st = sim.wait_done(600)
    pattern = re.compile(re.escape(what) + r".*topic=%s partition=1 offset=%d" % (TOPIC, offset))
    wait_until(lambda: pattern.search(relay.log_text()), 120,
               what="the error naming topic, partition and offset")
    # Nothing at or past the bad message's commit_ts was written; what came before was.
    time.sleep(2.0)
    last = last_commit_ts(relay)
    assert 0 < last < cts, (last, cts)
    relay_row = next(r for r in relay_status(relay.port) if r["Kind"] == "relay")
    assert relay_row["State"] == "failed", relay_row
    # A restart meets the same message and stops at the same place.
    relay.stop()
    relay.start()
    wait_until(lambda: len(pattern.findall(relay.log_text())) >= 2, 120,
               what="the same error after a restart")
    assert last_commit_ts(relay) == last
    print("\n%s at partition 1 offset %d (commit_ts %d): stopped, last written %d; %d rows in "
          "the workload" % (fault, offset, cts, last, st["rows"]))
