"""The column-type matrix end to end (issue 5, point 1): the simulator's --types all
workload (tidbsim.make_types_tables: TINY/SMALL/MEDIUM/INT/BIGINT signed and unsigned,
a ZEROFILL column, BIT(1..64), FLOAT, DOUBLE, DECIMAL up to (65,30), DATE,
DATETIME(0..6), TIMESTAMP(0..6), TIME(0..6), YEAR, utf8mb4/latin1 CHAR/VARCHAR/TEXT,
BINARY/VARBINARY/BLOB, ENUM, SET, NULL in every nullable column, zero dates, extreme
values) with seeded inserts, updates and deletes, followed by two real MariaDB replicas:
one on the MySQL listener by file/position, one on the MariaDB listener by GTID
(slave_pos). Both must equal the truth (CHECKSUM TABLE, then row by row).

Time zone: TiDB flattens TIMESTAMP to UTC; the simulator writes its TIMESTAMP literals
to the truth with session time_zone '+00:00', and every connection that reads rows for
the comparison uses '+00:00' too, so the UTC values compare exactly.
JSON (t_ty_json): the truth holds the text TiDB prints for each value (MariaDB's JSON is a
LONGTEXT), the MariaDB listener sends that text and its replica must equal the truth byte
for byte. The MySQL listener sends MySQL binary JSON (type 245), which MariaDB cannot apply
("In RBR mode, Slave received unknown field type field 245"): its MariaDB replica ignores
t_ty_json (replicate_wild_ignore_table, docs/decisions.md) and compares the other tables;
test_cdc_clients.py checks the MySQL-flavour JSON with a real MySQL binary-JSON decoder.
t_ty_ci: a clustered VARCHAR utf8mb4_general_ci primary key (new collation framework): the
handle datums are sort keys, the row body holds the original (lower-case) values.
Generated columns (t_ty_gen, VIRTUAL and STORED): TiDB's inserted and updated rows leave
VIRTUAL columns out (tables.go CanSkip / canSkipUpdateBinlog), tirelay writes NULL there and
the replicas compute them, as they do for STORED ones; t_ty_gen is compared row by row (its
VIRTUAL columns make CHECKSUM TABLE depend on the record buffer, cluster.wait_replica_equal).
Run: /usr/bin/python3 -m pytest -q -s tests/integration/test_types.py
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
from conftest import wait_replica_equal  # noqa: E402

ROWS = int(os.environ.get("TIRELAY_TYPES_ROWS", "9000"))
SEED = int(os.environ.get("TIRELAY_TEST_SEED", "20240501")) + 55


def utc(conn):
    with conn.cursor() as cur:
        cur.execute("SET time_zone = '+00:00'")
    return conn


def scalar(conn, q):
    with conn.cursor() as cur:
        cur.execute(q)
        return cur.fetchone()[0]


def coverage(tconn, db):
    """The workload really reached the edges: NULL in every nullable column, zero dates,
    negative and > 24h TIME, 4-byte characters, NUL bytes, trailing spaces, extremes."""
    with tconn.cursor() as cur:
        cur.execute("SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema=%s AND is_nullable='YES'", (db,))
        nullable = cur.fetchall()
    assert len(nullable) > 50
    for t, c in nullable:
        assert scalar(tconn, "SELECT COUNT(*) FROM `%s`.`%s` WHERE `%s` IS NULL" % (db, t, c)) > 0, (t, c)
    checks = [
        "t_ty_time WHERE d = '0000-00-00'", "t_ty_time WHERE dt6 = '0000-00-00 00:00:00'",
        "t_ty_time WHERE ts3 = '0000-00-00 00:00:00'", "t_ty_time WHERE tm6 < '-24:00:00'",
        "t_ty_time WHERE tm0 > '24:00:00'", "t_ty_time WHERE tm4 = '838:59:59'",
        "t_ty_time WHERE ts6 = '2038-01-19 03:14:07.999999'", "t_ty_time WHERE y = 0",
        "t_ty_num WHERE b64 = 18446744073709551615", "t_ty_num WHERE bu = 18446744073709551615",
        "t_ty_num WHERE ti = -128", "t_ty_num WHERE miu = 16777215", "t_ty_num WHERE dec65 < 0",
        "t_ty_num WHERE f = 1", "t_ty_num WHERE d > 1e300", "t_ty_num WHERE dec0 < 0",
        "t_ty_str WHERE vc LIKE '%% '", "t_ty_str WHERE vc = ''", "t_ty_str WHERE e = '😀'",
        "t_ty_str WHERE LENGTH(vc) > CHAR_LENGTH(vc) + 2", "t_ty_str WHERE INSTR(bl, x'00') > 0",
        "t_ty_str WHERE s = ''", "t_ty_str WHERE s = 'r,w,x,ü'",
        "t_ty_str WHERE l1 LIKE '%%€%%'", "t_ty_str WHERE HEX(l1c) LIKE '%%E9%%'",
        "t_ty_str WHERE l1t LIKE '%%Ÿ%%'", "t_ty_str WHERE LENGTH(u3) > CHAR_LENGTH(u3)",
        "t_ty_str WHERE u3c LIKE '%%ǅ%%'", "t_ty_str WHERE gci <> ''",
        "t_ty_ci WHERE CAST(k AS BINARY) <> CAST(UPPER(k) AS BINARY)",
        "t_ty_json WHERE jn = 'null'", "t_ty_json WHERE j = '{}'", "t_ty_json WHERE j2 = '[]'",
        "t_ty_json WHERE LENGTH(j) > 65536", "t_ty_json WHERE j LIKE '%%e+%%'",
        "t_ty_json WHERE j LIKE '%%e-%%'", "t_ty_json WHERE j LIKE '%%18446744073709551615%%'",
        "t_ty_json WHERE j LIKE '%%-9223372036854775808%%'",
        "t_ty_json WHERE j LIKE '%%\\\\\\\\u2028%%'", "t_ty_json WHERE j LIKE '%%\\\\\\\\u0000%%'",
        "t_ty_json WHERE CONCAT_WS('|', j, j2, jn) LIKE '%%%s%%'" % ("[" * 40),
    ]
    for w in checks:
        assert scalar(tconn, "SELECT COUNT(*) FROM `%s`.%s" % (db, w)) > 0, w


def test_type_matrix_both_flavours(truth, replica, mariadb_instance, tidbsim, tirelay):
    assert os.access(cluster.tirelay_bin(), os.X_OK), "tirelay binary not built"
    sim = tidbsim(truth, seed=SEED, rows=ROWS, fake_interval=1.0, extra=["--types", "all"])
    relay = tirelay(sim, truth, max_binlog_size=128 * 1024, mariadb_listen=True)

    # MariaDB has no MySQL binary JSON type: it refuses the MySQL listener's JSON columns
    replica.execute("SET GLOBAL replicate_wild_ignore_table = '%.t_ty_json'")
    r_my = utc(replica.replicate_from(relay.port))
    replica2 = mariadb_instance("replica2", server_id=3)
    r_ma = utc(replica2.replicate_from(relay.mariadb_port, gtid="slave_pos", gtid_slave_pos=""))

    st = sim.wait_done(600)
    assert st["rows"] >= ROWS
    assert sorted(t["name"] for t in st["tables"]) == ["t_ty_ci", "t_ty_gen", "t_ty_json", "t_ty_num",
                                                      "t_ty_str", "t_ty_time"]
    tconn = utc(truth.connect())
    for t in st["tables"]:
        assert t["rows"] > 0, t
    coverage(tconn, st["db"])
    st_my = dict(st, tables=[t for t in st["tables"] if t["name"] != "t_ty_json"])
    wait_replica_equal(r_my, tconn, st_my, 300, "replica on the MySQL listener (file/pos) == truth",
                       rows_only=["t_ty_gen"])
    wait_replica_equal(r_ma, tconn, st, 300, "replica on the MariaDB listener (slave_pos) == truth",
                       rows_only=["t_ty_gen"])

