"""Large transactions as a stream (issue 4, point 6): one transaction far
larger than the relay's 1 MiB output threshold and the store's 8 MiB spill
size (48 MiB of row data, 49152 rows of 1 KiB) is translated and written in
pieces while it is still incomplete.

The relay runs in steps of about a millisecond (SIGCONT, SIGSTOP) and stays
frozen as soon as part of the transaction is in the binlog file on disk: the
index holds no row for it, and the MariaDB replica that follows the relay has
read nothing of it (no row of t_big, its read
position is still before the transaction). Then kill -9, restart on the same
store: recovery cuts the partial bytes, the transaction is pulled again and
the replica ends equal to the truth, row by row (a duplicated or torn
transaction would stop its SQL thread).
Run: /usr/bin/python3 -m pytest -q -s tests/integration/test_large_txn.py
"""

import os
import signal
import sqlite3
import time

from conftest import slave_status, wait_replica_equal, wait_until  # noqa: E402

BIG_BYTES = 48 << 20


def indexed(relay, commit_ts):
    try:
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(relay.store, "index.sqlite"),
                             uri=True, timeout=10)
    except sqlite3.Error:
        return False
    try:
        return db.execute("SELECT COUNT(*) FROM txns WHERE commit_ts = ?",
                          (commit_ts,)).fetchone()[0] > 0
    except sqlite3.Error:
        return False
    finally:
        db.close()


def binlog_bytes(relay):
    d = relay.binlog_dir()
    if not os.path.isdir(d):
        return 0
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)
               if f.startswith("tirelay-bin.") and f[12:].isdigit())


def test_large_txn_streams_and_stays_invisible_until_complete(truth, replica, tidbsim, tirelay):
    sim = tidbsim(truth, txns=1, fake_interval=0.5,
                  extra=["--big-txn-bytes", str(BIG_BYTES), "--big-row-bytes", "1024",
                         "--big-txn-truth"])
    st = sim.wait_done(timeout=300)
    big = st["big_txn"]
    assert big["rows"] == BIG_BYTES // 1024

    # Started stopped and run in steps of about a millisecond: the relay pulls the whole
    # transaction at once and writes it in well under a second (48 MiB in 0.07 s after the
    # first 8 MiB, unloaded), so left running it could finish between two looks of a
    # busy test, even before the test had started looking.
    relay = tirelay(sim, truth, max_binlog_size=1 << 30, stopped=True)
    try:
        rconn = replica.replicate_from(relay.port)

        # Run it until a part of the transaction is on disk (the DDLs before it take a few
        # KiB; the store spills pending bytes past 8 MiB). Between steps it is stopped.
        deadline = time.monotonic() + 120
        while True:
            relay.step(0.001)
            assert not indexed(relay, big["commit_ts"]), \
                "transaction committed before it was seen in pieces"
            on_disk = binlog_bytes(relay)
            if on_disk >= (8 << 20):
                break
            assert time.monotonic() < deadline, "no part of the transaction was written"
        time.sleep(1.0)  # a replica has every chance to read what the relay serves
        s = slave_status(rconn)
        assert s["Last_SQL_Errno"] == 0, s["Last_SQL_Error"]
        assert int(s["Read_Master_Log_Pos"]) < (1 << 20), s["Read_Master_Log_Pos"]
        with rconn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.tables "
                        "WHERE table_schema = %s AND table_name = 't_big'", (st["db"],))
            if cur.fetchone()[0]:
                cur.execute("SELECT COUNT(*) FROM `%s`.`t_big`" % st["db"])
                assert cur.fetchone()[0] == 0
    finally:
        relay.proc.kill()
        relay.proc.wait()
    relay._logf.close()

    # Restart on the same store: the partial transaction is cut and pulled again.
    relay.start()
    wait_until(lambda: indexed(relay, big["commit_ts"]), 300, what="big transaction committed")
    wait_replica_equal(rconn, truth.connect(), sim.status(), 300, "replica equal to the truth",
                       io_errors_ok=True)
    with rconn.cursor() as cur:
        cur.execute("SELECT COUNT(*), SUM(LENGTH(v)) FROM `%s`.`t_big`" % st["db"])
        assert cur.fetchone() == (big["rows"], big["rows"] * 1024)
    assert "recovery: cutting uncommitted bytes" in relay.log_text()
