"""Every DDL of issue 5 point 3 end to end, interleaved with DML, on all table shapes
(int handle, clustered VARCHAR key, no primary key, RANGE/HASH/LIST partitioned tables):
the simulator (in this process: tidbsim.embedded, driven step by step through its ddl_*
methods) runs each TiDB DDL job as TiDB does -- schema versions per state, the history row
in mysql.tidb_ddl_history, the DDL binlog with TiDB's rendered text and ddl_schema_state
(DROP COLUMN's delete-only binlog with rows written in that state), new ids for TRUNCATE
TABLE/PARTITION, ids swapped by EXCHANGE PARTITION -- and applies the same change to the
truth MariaDB.  tirelay serves both flavours; one MariaDB replica follows the MySQL
listener by file/position, one the MariaDB listener by GTID.  Mid-way tirelay is stopped
and restarted with an unreachable TiDB endpoint: it must go on decoding rows with the
schema history kept in its sqlite index; then once more with the right endpoint for the
remaining DDL.  At the end both replicas equal the truth: the same databases, tables and
views, SHOW CREATE TABLE for every table, every partition, CHECKSUM TABLE and the rows.
Statements without a MySQL meaning (SET TIFLASH REPLICA, an ALTER holding only
SHARD_ROW_ID_BITS) are skipped with an INFO line and no TiDB-only syntax reaches the files.
Run: /usr/bin/python3 -m pytest -q -s tests/integration/test_ddl.py
"""

import os
import re
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
import tidbschema as ts  # noqa: E402
import tidbsim  # noqa: E402
from conftest import replicas_on_both  # noqa: E402

SEED = int(os.environ.get("TIRELAY_TEST_SEED", "20240501")) + 505
TXNS = int(os.environ.get("TIRELAY_DDL_TXNS", "12"))   # transactions between two DDLs
DB, DB2, DB3 = "ddldb", "ddl2", "ddl3"
BMP = ["abc", "é ü", "中文", "x'y", "", "zz\\z", "€ß"]


def make_tables():
    main = ts.Table(DB, "t_main", [
        ts.c_int("id", big=True, pk=True), ts.c_int("a"), ts.c_varchar("s", 40),
        ts.c_decimal("d", 10, 2), ts.c_datetime("dt", 3), ts.c_int("x"), ts.c_text("n")])
    nopk = ts.Table(DB, "t_nopk", [
        ts.c_int("u", nullable=False), ts.c_varchar("v", 30), ts.c_int("w", big=True)],
        uniques=["u"])
    ch = ts.Table(DB, "t_ch", [
        ts.c_varchar("info", 50), ts.c_varchar("code", 32), ts.c_int("qty")], pk_order=["code"])
    cs = ts.Table(DB, "t_cs", [
        ts.c_int("id", pk=True), ts.c_varchar("s", 20, charset="utf8"),
        ts.c_char("c", 5, charset="utf8")], charset="utf8", collate="utf8_bin")
    for c in cs.columns[1:]:
        c.choices = BMP
    prange = ts.Table(DB, "t_prange", [
        ts.c_int("id", big=True, pk=True), ts.c_varchar("v", 20), ts.c_int("k")],
        partition={"type": ts.PARTITION_RANGE, "col": "id",
                   "defs": [["p0", 0, 0], ["p1", 0, 100000], ["p2", 0, 200000]]})
    prange.pk_range = (-50000, 199999)
    nt = ts.Table(DB, "t_nt", [
        ts.c_int("id", big=True, pk=True), ts.c_varchar("v", 20), ts.c_int("k")])
    nt.pk_range = (0, 99999)
    phash = ts.Table(DB, "t_phash", [ts.c_int("id", pk=True), ts.c_varchar("v", 20)],
                     partition={"type": ts.PARTITION_HASH, "col": "id",
                                "defs": [["p%d" % i, 0, None] for i in range(4)]})
    plist = ts.Table(DB, "t_plist", [ts.c_int("grp", nullable=False), ts.c_varchar("v", 20),
                                      ts.c_int("z")],
                     partition={"type": ts.PARTITION_LIST, "col": "grp",
                                "defs": [["p0", 0, [0, 1, 2, 3, 4]], ["p1", 0, [5, 6, 7, 8, 9]]]})
    plist.col("grp").choices = list(range(10))
    old1 = ts.Table(DB, "t_old1", [ts.c_int("id", pk=True), ts.c_varchar("v", 10)])
    old2 = ts.Table(DB, "t_old2", [ts.c_int("id", pk=True), ts.c_decimal("v", 8, 3)])
    return types.SimpleNamespace(main=main, nopk=nopk, ch=ch, cs=cs, prange=prange, nt=nt,
                                 phash=phash, plist=plist, old1=old1, old2=old2)


def dml(sim, n=TXNS, tables=None):
    for _ in range(n):
        sim.run_txn(tables)


def q(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def schema_image(conn, dbs):
    """Everything a replica must share with the truth, table data aside."""
    img = {}
    for db in dbs:
        if not q(conn, "SELECT 1 FROM information_schema.schemata WHERE schema_name=%s", (db,)):
            img[db] = None
            continue
        img[db] = {"charset": q(conn, "SELECT default_character_set_name, default_collation_name "
                                "FROM information_schema.schemata WHERE schema_name=%s", (db,))}
        for name, kind in q(conn, "SELECT table_name, table_type FROM information_schema.tables "
                            "WHERE table_schema=%s ORDER BY table_name", (db,)):
            if kind == "VIEW":
                img[db][name] = q(conn, "SELECT view_definition FROM information_schema.views "
                                  "WHERE table_schema=%s AND table_name=%s", (db, name))
                continue
            img[db][name] = (q(conn, "SHOW CREATE TABLE `%s`.`%s`" % (db, name))[0][1],
                             q(conn, "SELECT partition_name, partition_method, "
                               "partition_description FROM information_schema.partitions WHERE "
                               "table_schema=%s AND table_name=%s ORDER BY partition_ordinal_position",
                               (db, name)))
    return img


def wait_equal(rconn, tconn, sim, dbs, timeout, what, io_errors_ok=False):
    tables = list(sim.tables)

    def equal():
        s = cluster.slave_status(rconn)
        assert s["Last_SQL_Errno"] == 0, s["Last_SQL_Error"]
        if not io_errors_ok:
            assert s["Last_IO_Errno"] == 0, s["Last_IO_Error"]
        elif s["Slave_IO_Running"] != "Yes":
            return False
        try:
            if schema_image(rconn, dbs) != schema_image(tconn, dbs):
                return False
            for t in tables:
                if cluster.checksum_table(rconn, t.db, t.name) != cluster.checksum_table(tconn, t.db, t.name):
                    return False
        except Exception:
            return False
        return True

    try:
        cluster.wait_until(equal, timeout, interval=0.3, what=what)
    except TimeoutError:
        a, b = schema_image(rconn, dbs), schema_image(tconn, dbs)
        diff = ["%s: replica %r truth %r" % (db, a[db], b[db]) for db in dbs if a[db] != b[db]]
        for t in tables:
            x = cluster.checksum_table(rconn, t.db, t.name)
            y = cluster.checksum_table(tconn, t.db, t.name)
            if x != y:
                diff.append("checksum %s.%s replica %r truth %r" % (t.db, t.name, x, y))
        raise AssertionError("%s: %s\n%s" % (what, cluster.slave_status(rconn), "\n".join(diff)))
    assert schema_image(rconn, dbs) == schema_image(tconn, dbs), what
    for t in tables:
        key = t.key_names()
        assert cluster.table_rows(tconn, t.db, t.name, key) == \
            cluster.table_rows(rconn, t.db, t.name, key), "%s: table %s.%s differs" % (what, t.db, t.name)


def set_tidb_port(relay, port):
    with open(relay.conf) as f:
        text = f.read()
    text = re.sub(r"(?m)^tidb = (.*)@127\.0\.0\.1:\d+$", r"tidb = \1@127.0.0.1:%d" % port, text)
    with open(relay.conf, "w") as f:
        f.write(text)


def test_every_ddl_both_flavours(truth, replica, mariadb_instance, tirelay, tmp_path):
    assert os.access(cluster.tirelay_bin(), os.X_OK), "tirelay binary not built"
    ports = ",".join(str(cluster.free_port()) for _ in range(2))
    sim = tidbsim.embedded(["--mysql-socket", truth.socket, "--mysql-user", "root",
                            "--cluster-id", "6789", "--pumps", "2", "--pump-ports", ports,
                            "--fake-interval", "0.5", "--seed", str(SEED), "--max-ops", "8",
                            "--max-table-rows", "400", "--gen-dir", str(tmp_path / "gen")])
    try:
        run(sim, truth, replica, mariadb_instance, tirelay)
    finally:
        sim.close()


def run(sim, truth, replica, mariadb_instance, tirelay):
    handle = types.SimpleNamespace(pumps=sim.pump_addrs, cluster_id=6789)
    relay = tirelay(handle, truth, max_binlog_size=64 * 1024, mariadb_listen=True)
    r_my, r_ma = replicas_on_both(relay, replica, mariadb_instance)
    tconn = truth.connect()
    dbs = [DB, DB2, DB3]
    T = make_tables()

    # -- databases, every shape, TiDB-only table options in TiDB's text
    sim.ddl_create_database(DB)
    sim.ddl_create_database(DB2, "utf8mb4", "utf8mb4_general_ci")
    sim.ddl_create_table(T.main, "/*T![auto_id_cache] AUTO_ID_CACHE=1 */ "
                                 "/*T![placement] PLACEMENT POLICY=`p1` */")
    sim.ddl_create_table(T.nopk, "/*T! SHARD_ROW_ID_BITS = 4 */ /*T! PRE_SPLIT_REGIONS = 2 */")
    for t in (T.ch, T.cs, T.prange, T.nt, T.phash, T.plist, T.old1, T.old2):
        sim.ddl_create_table(t)
    dml(sim, 3 * TXNS)

    # -- columns: ADD, DROP (rows written in delete-only), MODIFY, CHANGE (with reorg)
    sim.ddl_add_column(T.main, ts.c_varchar("extra", 20, default="x"))
    dml(sim)
    sim.ddl_drop_column(T.main, "x", during=lambda s: dml(s, TXNS, [T.main]))
    dml(sim)
    assert not sim.ddl_modify_column(T.main, "a", ts.c_int("a", big=True))
    assert not sim.ddl_modify_column(T.main, "s", ts.c_varchar("s", 80))
    dml(sim)
    assert sim.ddl_change_column(T.main, "d", ts.c_decimal("d2", 12, 3))
    dml(sim)
    assert sim.ddl_change_column(T.main, "a", ts.c_varchar("a_txt", 30), convert=str)
    dml(sim)

    # -- indexes, a NONCLUSTERED primary key added and dropped
    sim.ddl_add_index(T.main, "i_s", ["s"])
    sim.ddl_add_index(T.nopk, "i_w", ["w"])
    dml(sim)
    sim.ddl_drop_index(T.main, "i_s")
    sim.ddl_add_primary_key(T.nopk, ["u"])
    dml(sim)
    wait_equal(r_my, tconn, sim, dbs, int(os.environ.get("TIRELAY_DDL_WAIT", "300")), "MySQL listener after column/index DDL")

    # -- restart with TiDB unreachable: rows decoded with the history kept in sqlite
    relay.stop()
    dml(sim, 2 * TXNS)
    set_tidb_port(relay, cluster.free_port())
    relay.start()
    wait_equal(r_my, tconn, sim, dbs, 300, "MySQL listener, relay restarted without TiDB",
               io_errors_ok=True)
    wait_equal(r_ma, tconn, sim, dbs, 300, "MariaDB listener, relay restarted without TiDB",
               io_errors_ok=True)
    assert "schema history loaded from the store" in relay.log_text()
    relay.stop()
    set_tidb_port(relay, truth.port)
    relay.start()

    sim.ddl_drop_primary_key(T.nopk)
    dml(sim)

    # -- charsets
    sim.ddl_convert_charset(T.cs, "utf8mb4", "utf8mb4_bin")
    dml(sim)
    sim.ddl_table_charset(T.ch, "utf8mb4", "utf8mb4_general_ci")
    sim.ddl_alter_database_charset(DB2, "utf8mb4", "utf8mb4_bin")
    dml(sim)

    # -- views
    sim.ddl_create_view(DB, "v_main", "SELECT `id`,`extra` FROM `ddldb`.`t_main`", ["id", "extra"])
    sim.ddl_create_view(DB, "v_tmp", "SELECT `u` FROM `ddldb`.`t_nopk`", ["u"])
    dml(sim)
    sim.ddl_drop_view(DB, "v_tmp")

    # -- partitions: add / truncate (new id) / drop / exchange (ids swap), HASH truncated
    sim.ddl_add_partition(T.prange, "p3", 300000)
    T.prange.pk_range = (-50000, 299999)
    dml(sim)
    sim.ddl_truncate_partition(T.prange, "p0")
    dml(sim)
    sim.ddl_drop_partition(T.prange, "p2")
    dml(sim)
    dml(sim, TXNS, [T.nt])
    # with validation (TiDB's default, no clause): the MySQL flavour would keep WITHOUT
    # VALIDATION, which the MariaDB replica on the MySQL listener cannot take (unit tests
    # cover the per-flavour rewrite)
    sim.ddl_exchange_partition(T.prange, "p1", T.nt, without_validation=False)
    dml(sim, TXNS, [T.prange, T.nt])
    sim.ddl_add_partition(T.plist, "p2", [10, 11])
    T.plist.col("grp").choices = list(range(12))
    sim.ddl_truncate_partition(T.plist, "p0")
    dml(sim)
    sim.ddl_truncate_table(T.phash)
    dml(sim)

    # -- tables: truncate, rename, multi-table rename across databases, drop
    sim.ddl_truncate_table(T.old1)
    dml(sim)
    sim.ddl_rename_table(T.old1, "t_old1_r")
    dml(sim)
    sim.ddl_rename_tables([(T.old2, "t_old2_r", DB2), (T.old1, "t_old1_rr", None)])
    dml(sim)
    sim.ddl_drop_table(T.old1)
    dml(sim)

    # -- statements without a MySQL meaning
    sim.ddl_set_tiflash_replica(T.main, 1)
    sim.ddl_tidb_only(T.nopk, ts.ACTION_SHARD_ROW_ID,
                      "ALTER TABLE `t_nopk` /*T! SHARD_ROW_ID_BITS = 4 */")
    dml(sim)

    # -- a database with a table, dropped
    sim.ddl_create_database(DB3)
    t3 = ts.Table(DB3, "t3", [ts.c_int("id", pk=True), ts.c_varchar("v", 10)])
    sim.ddl_create_table(t3)
    dml(sim, TXNS, [t3])
    sim.ddl_drop_database(DB3)
    dml(sim)

    wait_equal(r_my, tconn, sim, dbs, 300, "replica on the MySQL listener (file/pos) == truth",
               io_errors_ok=True)
    wait_equal(r_ma, tconn, sim, dbs, 300, "replica on the MariaDB listener (slave_pos) == truth",
               io_errors_ok=True)

    img = schema_image(tconn, dbs)
    assert img[DB3] is None and "v_main" in img[DB] and "v_tmp" not in img[DB]
    assert "t_old2_r" in img[DB2] and "t_old1" not in img[DB]
    assert [p[0] for p in img[DB]["t_prange"][1]] == ["p0", "p1", "p3"]
    assert "`a_txt` varchar(30)" in img[DB]["t_main"][0] and "`x`" not in img[DB]["t_main"][0]
    for t in (T.main, T.nopk, T.prange, T.nt, T.plist, T.phash, T.cs):
        assert q(tconn, "SELECT COUNT(*) FROM `%s`.`%s`" % (t.db, t.name))[0][0] > 0, t.name
    log = relay.log_text()
    assert "DROP COLUMN reached delete-only" in log
    assert "skipping a DDL without a MySQL meaning (TiFlash replica)" in log
    assert "nothing left for MySQL" in log
    for flavor in ("mysql", "mariadb"):
        d = relay.binlog_dir(flavor)
        data = b"".join(open(os.path.join(d, f), "rb").read() for f in sorted(os.listdir(d))
                        if f.startswith("tirelay-bin.0"))
        assert b"/*T!" not in data and b"TIFLASH" not in data, flavor
        assert b"EXCHANGE PARTITION `p1` WITH TABLE `t_nt`" in data, flavor
        assert b"VALIDATION" not in data, flavor


def test_unsupported_ddl_policy(truth, replica, mariadb_instance, tirelay, tmp_path):
    """A DDL the rewriter cannot make safe (FLASHBACK TABLE: TiDB restores data a replica
    does not have): with the default ddl-unsupported = stop the relay stops translating
    before it, with a clear error naming the job, and replicas keep everything before it;
    restarted with ddl-unsupported = skip it writes nothing for it (WARN with the job id)
    and goes on."""
    ports = str(cluster.free_port())
    sim = tidbsim.embedded(["--mysql-socket", truth.socket, "--mysql-user", "root",
                            "--cluster-id", "6789", "--pumps", "1", "--pump-ports", ports,
                            "--fake-interval", "0.5", "--seed", str(SEED + 1), "--max-ops", "6",
                            "--gen-dir", str(tmp_path / "gen")])
    try:
        handle = types.SimpleNamespace(pumps=sim.pump_addrs, cluster_id=6789)
        relay = tirelay(handle, truth, mariadb_listen=True)
        r_my, r_ma = replicas_on_both(relay, replica, mariadb_instance)
        tconn = truth.connect()
        sim.ddl_create_database(DB)
        t = ts.Table(DB, "t_p", [ts.c_int("id", pk=True), ts.c_varchar("v", 20)])
        sim.ddl_create_table(t)
        dml(sim, 10)
        before = cluster.table_rows(tconn, DB, "t_p")
        # ActionRecoverTable (25): FLASHBACK TABLE brings a dropped table back with its data
        sim.ddl_tidb_only(t, 25, "FLASHBACK TABLE `t_gone` TO `t_back`")
        dml(sim, 10)
        assert cluster.table_rows(tconn, DB, "t_p") != before
        cluster.wait_until(lambda: "translation stopped" in relay.log_text(), 120,
                           what="the relay to stop at the FLASHBACK")
        log = relay.log_text()
        assert re.search(r"DDL cannot be made safe for a replica, relay stopped before writing "
                         r"it: FLASHBACK/RECOVER .* job_id=\d+", log), log[-3000:]
        for r in (r_my, r_ma):
            cluster.wait_until(lambda: cluster.table_rows(r, DB, "t_p") == before, 120,
                               what="replica equal to the truth before the FLASHBACK")
        relay.stop()
        with open(relay.conf) as f:
            text = f.read()
        with open(relay.conf, "w") as f:
            f.write(text.replace("[upstream]\n", "[upstream]\nddl-unsupported = skip\n", 1))
        relay.start()
        for r in (r_my, r_ma):
            cluster.wait_until(lambda: cluster.table_rows(r, DB, "t_p") ==
                               cluster.table_rows(tconn, DB, "t_p"), 120,
                               what="replica equal to the truth after the skip")
            s = cluster.slave_status(r)
            assert s["Last_SQL_Errno"] == 0, s["Last_SQL_Error"]
        assert re.search(r"WARN .*skipping a DDL a replica could not take \(ddl-unsupported = "
                         r"skip\): FLASHBACK/RECOVER .*job_id=\d+", relay.log_text())
        for flavor in ("mysql", "mariadb"):
            d = relay.binlog_dir(flavor)
            data = b"".join(open(os.path.join(d, f), "rb").read() for f in sorted(os.listdir(d))
                            if f.startswith("tirelay-bin.0"))
            assert b"FLASHBACK" not in data, flavor
    finally:
        sim.close()
