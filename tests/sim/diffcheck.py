"""Replica-versus-truth comparison for the differential test
(tests/integration/test_differential.py) and the soak bench (bench/soak.py): two MariaDB
replicas of tirelay, one per listener, compared with the truth MariaDB table by table
(CHECKSUM TABLE to wait for catch-up, then every row and every column definition).
A mismatch is described with the seed, the replica, the table, the first differing rows
and the columns that differ in them.
"""

import cluster

# randload puts columns a MariaDB replica cannot take from the MySQL listener (JSON: MySQL
# binary JSON, type 245, docs/decisions.md "JSON columns") only in tables named "j...";
# a MariaDB replica of the MySQL listener ignores those, the MariaDB listener's gets all.
MYSQL_LISTENER_IGNORE = "%.j%"


def mysql_listener_table(name):
    return not name.startswith("j")


def all_tables(name):
    return True


def utc(conn):
    """TIMESTAMP values compare in UTC (docs/decisions.md)."""
    with conn.cursor() as cur:
        cur.execute("SET time_zone = '+00:00'")
    return conn


def start_replica(instance, relay, flavor):
    """Points a MariaDB (cluster.MariaDB) at tirelay: flavor "mysql" replicates from
    `listen` by file/position (ignoring MYSQL_LISTENER_IGNORE), "mariadb" from
    `mariadb-listen` by GTID (slave_pos). Returns (name, UTC connection, table filter) as
    check() takes it."""
    conn = utc(instance.connect())
    with conn.cursor() as cur:
        if flavor == "mysql":
            cur.execute("SET GLOBAL replicate_wild_ignore_table = '%s'" % MYSQL_LISTENER_IGNORE)
            cur.execute("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, "
                        "MASTER_USER='repl', MASTER_PASSWORD='pw', "
                        "MASTER_LOG_FILE='tirelay-bin.000001', MASTER_LOG_POS=4, "
                        "MASTER_USE_GTID=no, MASTER_CONNECT_RETRY=1" % relay.port)
        else:
            cur.execute("SET GLOBAL gtid_slave_pos = ''")
            cur.execute("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, "
                        "MASTER_USER='repl', MASTER_PASSWORD='pw', MASTER_USE_GTID=slave_pos, "
                        "MASTER_CONNECT_RETRY=1" % relay.mariadb_port)
        cur.execute("START SLAVE")
    if flavor == "mysql":
        return "listen (file/pos)", conn, mysql_listener_table
    return "mariadb-listen (slave_pos)", conn, all_tables


def query(conn, q, args=None):
    with conn.cursor() as cur:
        cur.execute(q, args)
        return cur.fetchall()


def columns(conn, db, table):
    with conn.cursor() as cur:
        cur.execute("SELECT column_name, ordinal_position, column_type, is_nullable, "
                    "column_default FROM information_schema.columns "
                    "WHERE table_schema=%s AND table_name=%s ORDER BY ordinal_position",
                    (db, table))
        return cur.fetchall()


def structure(conn, db, table):
    """Columns, indexes and partitions of a table, as information_schema shows them."""
    return (columns(conn, db, table),
            query(conn, "SELECT index_name, non_unique, column_name, seq_in_index FROM "
                        "information_schema.statistics WHERE table_schema=%s AND table_name=%s "
                        "ORDER BY index_name, seq_in_index", (db, table)),
            query(conn, "SELECT partition_name, partition_method, partition_description FROM "
                        "information_schema.partitions WHERE table_schema=%s AND table_name=%s "
                        "ORDER BY partition_ordinal_position", (db, table)))


def objects(conn, dbs, keep):
    """{database: sorted (name, type) of its tables and views} (None: no such database)."""
    out = {}
    for db in dbs:
        if not query(conn, "SELECT 1 FROM information_schema.schemata WHERE schema_name=%s", (db,)):
            out[db] = None
            continue
        out[db] = sorted((n, ty) for n, ty in query(
            conn, "SELECT table_name, table_type FROM information_schema.tables "
                  "WHERE table_schema=%s", (db,)) if keep(n))
    return out


def short(v, n=300):
    r = repr(v)
    return r if len(r) <= n else r[:n] + "...(%d chars)" % len(r)


def first_difference(want, got):
    """(index, truth row, replica row) of the first difference of two sorted row lists."""
    for i in range(max(len(want), len(got))):
        a = want[i] if i < len(want) else None
        b = got[i] if i < len(got) else None
        if a != b:
            return i, a, b
    return None


def describe(seed, name, rconn, tconn, st, keep=lambda n: True):
    """Everything that differs between one replica and the truth (over st's tables), as
    text."""
    out = []
    s = cluster.slave_status(rconn)
    out.append("seed %d, replica %s: Slave_IO_Running=%s Slave_SQL_Running=%s "
               "Last_IO_Error=%r Last_SQL_Error=%r"
               % (seed, name, s["Slave_IO_Running"], s["Slave_SQL_Running"],
                  s["Last_IO_Error"], s["Last_SQL_Error"]))
    dbs = st.get("random", {}).get("dbs", [st["db"]])
    ow, og = objects(tconn, dbs, keep), objects(rconn, dbs, keep)
    if ow != og:
        out.append("  tables and views differ:\n    truth:   %r\n    replica: %r" % (ow, og))
    for t in st["tables"]:
        db = t.get("db", st["db"])
        try:
            want = cluster.table_rows(tconn, db, t["name"], t["pk"])
            got = cluster.table_rows(rconn, db, t["name"], t["pk"])
        except Exception as e:  # noqa: BLE001 - e.g. the table is missing on the replica
            out.append("  table %s: %r" % (t["name"], e))
            continue
        d = first_difference(want, got)
        cw, cg = columns(tconn, db, t["name"]), columns(rconn, db, t["name"])
        sw, sg = structure(tconn, db, t["name"])[1:], structure(rconn, db, t["name"])[1:]
        if sw != sg:
            out.append("  table %s.%s: indexes/partitions differ:\n    truth:   %r\n    replica: %r"
                       % (db, t["name"], sw, sg))
        if d:
            out.append("  table %s.%s: %d rows on the truth, %d on the replica; first "
                       "difference at row %d:\n    truth:   %r\n    replica: %r"
                       % (db, t["name"], len(want), len(got), d[0], short(d[1], 1500),
                          short(d[2], 1500)))
            if d[1] is not None and d[2] is not None and len(d[1]) == len(d[2]) == len(cw):
                out.append("    differing columns: " + ", ".join(
                    "%s truth=%s replica=%s" % (c[0], short(x), short(y))
                    for c, x, y in zip(cw, d[1], d[2]) if x != y))
        if cw != cg:
            out.append("  table %s: columns differ:\n    truth:   %r\n    replica: %r"
                       % (t["name"], cw, cg))
    return "\n".join(out)


class ReplicaError(cluster.ProcessDied):
    """A replica stopped on an error: wait_until gives up at once."""


def check(seed, replicas, tconn, st, timeout=300):
    """Waits until every replica (list of (name, conn, table filter)) has the truth's
    CHECKSUM TABLE for every table of the simulator status st that its filter accepts, then
    compares rows and column definitions.
    Returns None when all are equal, else the describe() text of the first replica that
    is not (a replica error or a timeout included)."""
    dbs = st.get("random", {}).get("dbs", [st["db"]])
    all_st = st
    # CHECKSUM TABLE reads stale NULL bits of VIRTUAL columns: such tables compare rows
    virtual = set(x for db in dbs for x in query(
        tconn, "SELECT DISTINCT table_schema, table_name FROM information_schema.columns "
               "WHERE table_schema=%s AND extra LIKE '%%VIRTUAL%%'", (db,)))

    def tdb(t):
        return t.get("db", all_st["db"])

    def caught_up(rconn):
        s = cluster.slave_status(rconn)
        if s["Last_SQL_Errno"] or s["Last_IO_Errno"]:
            raise ReplicaError(s["Last_SQL_Error"] or s["Last_IO_Error"])
        if objects(rconn, dbs, keep) != objects(tconn, dbs, keep):
            return False
        for t in st["tables"]:
            db = tdb(t)
            try:
                if structure(rconn, db, t["name"]) != structure(tconn, db, t["name"]):
                    return False
                if (db, t["name"]) in virtual:
                    if cluster.table_rows(rconn, db, t["name"], t["pk"]) != \
                            cluster.table_rows(tconn, db, t["name"], t["pk"]):
                        return False
                elif cluster.checksum_table(rconn, db, t["name"]) != \
                        cluster.checksum_table(tconn, db, t["name"]):
                    return False
            except Exception:  # noqa: BLE001 - table not created on the replica yet
                return False
        return True

    for name, rconn, keep in replicas:
        st = dict(all_st, tables=[t for t in all_st["tables"] if keep(t["name"])])
        try:
            cluster.wait_until(lambda: caught_up(rconn), timeout,
                               what="replica %s == truth (seed %d)" % (name, seed))
        except (TimeoutError, ReplicaError):
            return describe(seed, name, rconn, tconn, st, keep)
        for t in st["tables"]:
            db = tdb(t)
            if cluster.table_rows(rconn, db, t["name"], t["pk"]) != \
                    cluster.table_rows(tconn, db, t["name"], t["pk"]):
                return describe(seed, name, rconn, tconn, st, keep)
    return None
