"""Table shapes end to end (issue 5, point 2): the simulator's --shapes tables next to the
default int-handle tables — no primary key with and without a UNIQUE key (implicit handle
_tidb_rowid: insert prefix, trailing (-1, handle) pair in update/delete rows), a clustered
VARCHAR primary key that is not the first column and a clustered composite (INT, VARCHAR)
primary key in index order (id, region) (common handles: N prefix datums, the PK columns
omitted from the insert body) — with seeded inserts, updates and deletes, followed by two
real MariaDB replicas: one on the MySQL listener by file/position, one on the MariaDB
listener by GTID (slave_pos). Both must equal the truth (CHECKSUM TABLE, then row by row,
tables without a primary key ordered by all their columns).

The CREATE TABLE of a common handle is logged by TiDB with
"/*T![clustered_index] CLUSTERED */"; the dialect rewriter drops that comment (asserted in
both flavours' files) and the replicas' tables have the same PRIMARY KEY as the truth's.
Only utf8mb4_bin keys (key datums are the original bytes); new-collation _ci sort keys in
the prefix are out of scope.
Run: /usr/bin/python3 -m pytest -q -s tests/integration/test_shapes.py
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
from conftest import replicas_on_both, wait_replica_equal  # noqa: E402

ROWS = int(os.environ.get("TIRELAY_SHAPES_ROWS", "8000"))
SEED = int(os.environ.get("TIRELAY_TEST_SEED", "20240501")) + 77
SHAPES = ["t_ch_comp", "t_ch_str", "t_nopk", "t_nopk_uk"]


def scalar(conn, q, args=None):
    with conn.cursor() as cur:
        cur.execute(q, args)
        return cur.fetchone()[0]


def keys(conn, db, table):
    """(index name, non_unique, column, seq) of every index of the table."""
    with conn.cursor() as cur:
        cur.execute("SELECT index_name, non_unique, column_name, seq_in_index FROM "
                    "information_schema.statistics WHERE table_schema=%s AND table_name=%s "
                    "ORDER BY index_name, seq_in_index", (db, table))
        return cur.fetchall()


def test_table_shapes_both_flavours(truth, replica, mariadb_instance, tidbsim, tirelay):
    assert os.access(cluster.tirelay_bin(), os.X_OK), "tirelay binary not built"
    sim = tidbsim(truth, seed=SEED, rows=ROWS, fake_interval=1.0, extra=["--shapes"])
    relay = tirelay(sim, truth, max_binlog_size=256 * 1024, mariadb_listen=True)

    r_my, r_ma = replicas_on_both(relay, replica, mariadb_instance)

    st = sim.wait_done(600)
    assert st["rows"] >= ROWS
    names = sorted(t["name"] for t in st["tables"])
    assert set(SHAPES) <= set(names), names
    db = st["db"]
    tconn = truth.connect()
    for t in st["tables"]:
        if t["name"] in SHAPES:
            assert t["rows"] > 0, t
    # the workload really updated and deleted rows of every shape (rows alive < rows written)
    for t in SHAPES:
        assert scalar(tconn, "SELECT COUNT(*) FROM `%s`.`%s`" % (db, t)) > 50, t
    # duplicate-free keys and NULLs in the tables without a primary key
    assert scalar(tconn, "SELECT COUNT(*) FROM `%s`.t_nopk WHERE a IS NULL" % db) > 0
    wait_replica_equal(r_my, tconn, st, 300, "replica on the MySQL listener (file/pos) == truth")
    wait_replica_equal(r_ma, tconn, st, 300, "replica on the MariaDB listener (slave_pos) == truth")
    for t in SHAPES:
        want = keys(tconn, db, t)
        assert keys(r_my, db, t) == want, t
        assert keys(r_ma, db, t) == want, t
    assert [k[2] for k in keys(tconn, db, "t_ch_comp")] == ["id", "region"]
    # both flavours' files carry the CREATE TABLE as TiDB logged it (the replicas applied it)
    for sub in (os.path.join("binlog", "mysql"), os.path.join("binlog", "mariadb")):
        d = os.path.join(relay.store, sub)
        data = b"".join(open(os.path.join(d, f), "rb").read() for f in sorted(os.listdir(d))
                        if f.startswith("tirelay-bin.0"))
        # the dialect rewriter dropped TiDB's /*T![clustered_index] CLUSTERED */ comment
        assert data.count(b"PRIMARY KEY(`code`)") == 1, sub
        assert data.count(b"PRIMARY KEY(`id`,`region`)") == 1, sub
        assert b"/*T!" not in data and b"CLUSTERED" not in data, sub
    assert keys(tconn, db, "t_nopk") == ()
