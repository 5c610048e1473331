"""The seeded randomized differential test (issue 5, "Tests").

For each fixed seed the simulator runs tests/sim/randload.py (tidbsim.py --random SEED
--ops N): tables of every shape with columns drawn from the whole type matrix,
transactions of INSERT (one and many rows), UPDATE (one row, several keys, primary-key
changes, no-op updates) and DELETE over 1..4 tables, tiny and large transactions, and
CREATE TABLE / ADD COLUMN DDL in between, spread over three Pumps plus one idle Pump.
Every transaction goes to the truth MariaDB as SQL and to the Pumps as TiDB's binlog.
tirelay serves both flavours; a MariaDB replica on `listen` (file/position) and one on
`mariadb-listen` (GTID slave_pos) must equal the truth: CHECKSUM TABLE and then row by
row, plus every column's definition, at a few mid-run checkpoints (the simulator pauses
there) and at the end. A mismatch names the seed, the replica, the table and the first
differing rows; rerun one seed with
    TIRELAY_DIFF_SEED=<seed> TIRELAY_DIFF_OPS=<n> pytest tests/integration/test_differential.py
A bug the workload finds is reported in randload.KNOWN_BUGS; the fixed seeds run with
--known-bugs avoid (the workload stays clear of exactly those cases) and each bug runs as a
strict xfail case with --known-bugs <its name> (BUG_CASES), never dropped silently.
Run: /usr/bin/python3 -m pytest -q -s tests/integration/test_differential.py
"""

import os
import sys

import pymysql
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import catalogcheck  # noqa: E402
import cluster  # noqa: E402
import diffcheck  # noqa: E402
import randload  # noqa: E402

# (seed, operations, checkpoints as fractions of the operations).  >= 100,000 in total;
# these run with --known-bugs avoid: the workload stays clear of randload.KNOWN_BUGS.
CASES = [
    (20240501, 60000, (0.3, 0.7)),
    (7, 45000, (0.5,)),
]
# Each known bug runs as its own case with --known-bugs <its name> under xfail(strict=True,
# raises=KnownBugHit) (the reason is the bug report in randload.KNOWN_BUGS): it counts as
# expected only when a replica's failure names the bug's sign (marker), any other failure
# fails, and a pass (the bug fixed) fails too, so that the entry then goes from
# KNOWN_BUGS and BUG_CASES.  bug -> (seed, operations, marker in the failure text).
BUG_CASES = {
    "virtual_gen_nopk": (20240501, 12000, "Error_code: 1032"),
}

if os.environ.get("TIRELAY_DIFF_SEED"):
    CASES = [(int(os.environ["TIRELAY_DIFF_SEED"]),
              int(os.environ.get("TIRELAY_DIFF_OPS", "50000")), (0.5,))]
    BUG_CASES = {}


class KnownBugHit(Exception):
    """A replica failed the way a KNOWN_BUGS entry describes."""


def case_params():
    out = [pytest.param(seed, ops, cps, None, id="seed%d-%dops" % (seed, ops))
           for seed, ops, cps in CASES]
    for bug, (seed, ops, _marker) in sorted(BUG_CASES.items()):
        out.append(pytest.param(seed, ops, (), bug, id="known-bug-%s-seed%d" % (bug, seed),
                                marks=pytest.mark.xfail(strict=True, raises=KnownBugHit,
                                                        reason=randload.KNOWN_BUGS[bug])))
    return out


def compare(seed, replicas, tconn, st, bug, relay):
    err = diffcheck.check(seed, replicas, tconn, st, timeout=300)
    if err:
        if bug is not None and BUG_CASES[bug][2] in err:
            raise KnownBugHit(err)
        pytest.fail(err, pytrace=False)
    # The replicas hold every transaction written: tirelay's schema catalogue (MariaDB
    # listener) must be the MariaDB-listener replica's own (tests/sim/catalogcheck.py).
    dbs = st.get("random", {}).get("dbs", [st["db"]])
    conn = pymysql.connect(host="127.0.0.1", port=relay.mariadb_port, user="repl",
                           password="pw", charset="utf8mb4")
    try:
        diffs = catalogcheck.compare(conn, replicas[1][1], dbs)
    finally:
        conn.close()
    if diffs:
        pytest.fail("seed %d: tirelay's catalogue differs from the replica's:\n%s"
                    % (seed, "\n".join(diffs[:20])), pytrace=False)


def checkpoints(sim, seed, points):
    """Yields (k, status) as the simulator pauses at each checkpoint (after at least points[k-1]
    operations), and lets it go on once the caller has checked."""
    def paused_at(k):
        sim._alive()
        s = sim.status()
        r = s.get("random", {})
        return s if r.get("paused") and r.get("checkpoint") == k else None

    for k, at in enumerate(points, 1):
        st = cluster.wait_until(lambda: paused_at(k), 600,
                                what="checkpoint %d of seed %d" % (k, seed))
        assert st["random"]["ops"] >= at
        yield k, st
        open("%s.resume-%d" % (sim.status_file, k), "w").close()


@pytest.mark.parametrize("seed,ops,cps,bug", case_params())
def test_differential(seed, ops, cps, bug, truth, replica, mariadb_instance, tidbsim,
                      tirelay):
    assert os.access(cluster.tirelay_bin(), os.X_OK), "tirelay binary not built"
    points = [int(ops * f) for f in cps]
    sim = tidbsim(truth, pumps=4, fake_interval=1.0,
                  extra=["--random", str(seed), "--ops", str(ops), "--idle-pumps", "3",
                         "--checkpoints", ",".join(map(str, points)),
                         "--known-bugs", bug or "avoid"])
    relay = tirelay(sim, truth, max_binlog_size=1 << 20, mariadb_listen=True)
    print("\ndifferential: seed %d, %d operations, checkpoints %s" % (seed, ops, points))

    replicas = [diffcheck.start_replica(replica, relay, "mysql"),
                diffcheck.start_replica(mariadb_instance("replica2", server_id=3), relay,
                                        "mariadb")]
    tconn = diffcheck.utc(truth.connect())

    for k, st in checkpoints(sim, seed, points):
        compare(seed, replicas, tconn, st, bug, relay)
        print("seed %d: checkpoint %d at %d ops: both replicas equal the truth (%d tables)"
              % (seed, k, st["random"]["ops"], len(st["tables"])))

    st = sim.wait_done(900)
    rnd = st["random"]
    assert rnd["seed"] == seed and rnd["ops"] >= ops
    kinds = rnd["kinds"]
    compare(seed, replicas, tconn, st, bug, relay)
    if bug is not None:
        return      # a short run into one bug: its kinds are not the point
    for k in ("insert", "update", "update_pk", "update_noop", "replace", "upsert", "delete",
              "ddl_create_table", "ddl_add_column", "ddl_drop_column", "ddl_modify_column",
              "ddl_change_column", "ddl_add_index", "ddl_drop_table", "ddl_rename_table",
              "ddl_add_partition", "ddl_create_view"):
        assert kinds.get(k, 0) > 0, (k, kinds)
    assert len(st["tables"]) >= 9
    print("seed %d: %d operations (%s): both replicas equal the truth (%d tables)"
          % (seed, rnd["ops"], ", ".join("%s=%d" % kv for kv in sorted(kinds.items())),
             len(st["tables"])))


TICDC_CASE = (11, 20000, (0.5,))


def test_differential_ticdc_kafka(truth, replica, mariadb_instance, ticdc_sim, kafka_mock,
                                  ticdc_relay):
    """The same randomized workload through TiCDC's canal-json in a Kafka topic (8
    partitions, TiCDC's table dispatcher) instead of Pumps: both replicas equal the truth at
    the checkpoint and at the end."""
    assert os.access(cluster.tirelay_bin(), os.X_OK), "tirelay binary not built"
    seed, ops, cps = TICDC_CASE
    points = [int(ops * f) for f in cps]
    kafka = kafka_mock({"cdc": 8})
    sim = ticdc_sim(truth, kafka=kafka, topic="cdc", shared_ts_every=9,
                    extra=["--random", str(seed), "--ops", str(ops),
                           "--checkpoints", ",".join(map(str, points)), "--known-bugs", "avoid"])
    relay = ticdc_relay(truth, kafka=kafka, topic="cdc", max_binlog_size=1 << 20,
                        mariadb_listen=True)
    replicas = [diffcheck.start_replica(replica, relay, "mysql"),
                diffcheck.start_replica(mariadb_instance("replica2", server_id=3), relay,
                                        "mariadb")]
    tconn = diffcheck.utc(truth.connect())

    for k, st in checkpoints(sim, seed, points):
        compare(seed, replicas, tconn, st, None, relay)
        print("\nTiCDC seed %d: checkpoint %d at %d ops: both replicas equal the truth"
              % (seed, k, st["random"]["ops"]))
    st = sim.wait_done(900)
    compare(seed, replicas, tconn, st, None, relay)
    rnd = st["random"]
    print("TiCDC seed %d: %d operations (%s): both replicas equal the truth (%d tables)"
          % (seed, rnd["ops"], ", ".join("%s=%d" % kv for kv in sorted(rnd["kinds"].items())),
             len(st["tables"])))
