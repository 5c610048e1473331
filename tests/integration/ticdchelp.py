"""Helpers the TiCDC input's integration tests share (test_ticdc.py over Kafka,
test_ticdc_storage.py over a storage-sink directory): replicas attached by file/position or
GTID, tirelay's SHOW RELAY STATUS, the last commit_ts in its index, the fault tables the
simulator status does not list, and the kill -9 loop."""

import os
import sqlite3
import time

import pymysql

from conftest import wait_until, wait_replica_equal
from test_crash import settle, compare, kill9, last_gtid


def fault(sim, cmd):
    """One simulator fault command; its answer. ticdc-restart-exact restarts at a row above
    the last watermark (the simulator waits up to 20 s for one), so it is sent once the
    workload has written rows: earlier, the simulator may still be creating its tables."""
    if cmd == "ticdc-restart-exact":
        wait_until(lambda: sim.ticdc_status()["rows"] > 0, 120, what="the workload's first rows")
    return sim.control(cmd)


def start_replica(replica, port, gtid):
    return replica.replicate_from(port, gtid="slave_pos" if gtid else None)


def relay_status(port):
    c = pymysql.connect(host="127.0.0.1", port=port, user="repl", password="pw")
    try:
        with c.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SHOW RELAY STATUS")
            return cur.fetchall()
    finally:
        c.close()


def last_commit_ts(relay):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(relay.store, "index.sqlite"), uri=True)
    try:
        return db.execute("SELECT MAX(commit_ts) FROM txns").fetchone()[0] or 0
    finally:
        db.close()


def all_rows(conn, db, table):
    """Every row of db.table, sorted (keyless tables too: a multiset)."""
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM `%s`.`%s`" % (db, table))
        return sorted(repr(r) for r in cur.fetchall())


def wait_fault_tables_equal(rconns, tconn, db, tables, timeout):
    """The fault commands' tables (t_cdc_*), which the simulator status does not list, equal
    on every replica: the big transaction's rows, both identical keyless rows."""
    want = {t: all_rows(tconn, db, t) for t in tables}
    assert all(want.values()), want

    def equal():
        return all(all_rows(r, db, t) == want[t] for r in rconns for t in tables)

    wait_until(equal, timeout, what="the fault tables on the replicas")
    return {t: len(v) for t, v in want.items()}


def kill9_loop(sim, a, b, rconn, truth, rng, fault_at, label):
    """Kills relay b with -9 at random moments (TIRELAY_TEST_KILLS times, 16) while the
    workload runs, sending the simulator fault_at(i) before kill i when it is not None;
    then b's files of both flavours must be byte-identical to those of a, the uninterrupted
    relay on the same input, and rconn (b's replica) equal to the truth."""
    kills = []
    t0 = time.monotonic()
    for i in range(int(os.environ.get("TIRELAY_TEST_KILLS", "16"))):
        early = rng.random() < 0.3
        time.sleep(rng.uniform(0.0, 0.3) if early else rng.uniform(0.3, 2.0))
        cmd = fault_at(i)
        if cmd is not None:
            sim.control(cmd)
        before = last_gtid(b)
        kill9(b)
        kills.append(before)
        b.start()
    st = sim.wait_done(600)
    assert kills[-1] > kills[0], "no progress between the first and the last kill: %r" % kills
    snap_a = settle(a)
    snap_b = settle(b)
    compare(snap_a[0], snap_b[0], "MySQL flavour")
    compare(snap_a[1], snap_b[1], "MariaDB flavour")
    assert len(snap_a[0]) >= 3
    tconn = truth.connect()
    wait_replica_equal(rconn, tconn, st, 300, "replica of the killed relay", io_errors_ok=True)
    print("\n%s: %d kills in %.1fs (GTIDs before each: %s); %d row changes; %d files "
          "byte-identical to the uninterrupted relay; replica equal to the truth"
          % (label, len(kills), time.monotonic() - t0, kills, st["rows"], len(snap_b[0])))
