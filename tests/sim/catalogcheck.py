"""The schema catalogue tirelay serves on its MariaDB listener against a real MariaDB
replica of it (issue 14 point 3): a replica that applied tirelay's binlog holds the
schema as of the last transaction it applied; once it has caught up, tirelay's answers
to SHOW DATABASES, SHOW FULL TABLES, SHOW FULL COLUMNS, SHOW INDEX, SHOW CREATE TABLE
and information_schema (SCHEMATA, TABLES, COLUMNS, STATISTICS, KEY_COLUMN_USAGE,
TABLE_CONSTRAINTS, CHECK_CONSTRAINTS) must be the replica's own, cell for cell.

Left out, because tirelay holds no rows: Cardinality, AUTO_INCREMENT counters, table
sizes, times and VERSION. Views: their rows in TABLES and SHOW FULL TABLES are compared,
not their columns (the replica derives view columns from the SELECT).
"""

import re

SYSTEM_DBS = {"information_schema", "mysql", "performance_schema", "sys", "test"}


def rows(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return [tuple(r) for r in cur.fetchall()]


def _q(name):
    return "`%s`" % name.replace("`", "``")


def _norm_create(text):
    """SHOW CREATE TABLE without the AUTO_INCREMENT counter (the replica's depends on its
    rows)."""
    return re.sub(r" AUTO_INCREMENT=\d+", "", text)


def snapshot(conn, dbs=None, system=SYSTEM_DBS):
    """Every catalogue answer the comparison uses, as a dict of query -> rows."""
    out = {}
    all_dbs = sorted(r[0] for r in rows(conn, "SHOW DATABASES") if r[0] not in system)
    if dbs is not None:
        all_dbs = [d for d in all_dbs if d in dbs]  # dbs may name dropped databases
    out["SHOW DATABASES"] = all_dbs
    for db in all_dbs:
        out["SCHEMATA " + db] = rows(
            conn, "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME, "
                  "SQL_PATH FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (db,))
        tables = sorted(rows(conn, "SHOW FULL TABLES FROM " + _q(db)))
        out["SHOW FULL TABLES " + db] = tables
        # a view's TABLE_COMMENT: MariaDB puts an error there when the view's tables are
        # gone (tirelay does not validate views); only base tables' comments compare
        out["TABLES " + db] = sorted(
            r if r[1] == "BASE TABLE" else r[:6] + (None,) + r[7:] for r in rows(
                conn, "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, ROW_FORMAT, TABLE_COLLATION, "
                      "CREATE_OPTIONS, TABLE_COMMENT, TEMPORARY FROM information_schema.TABLES "
                      "WHERE TABLE_SCHEMA = %s", (db,)))
        base = [t for t, kind in tables if kind == "BASE TABLE"]
        cols = rows(conn, "SELECT * FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
                          "ORDER BY TABLE_NAME, ORDINAL_POSITION", (db,))
        out["COLUMNS " + db] = [r for r in cols if r[2] in base]
        stats = rows(conn, "SELECT TABLE_NAME, NON_UNIQUE, INDEX_SCHEMA, INDEX_NAME, SEQ_IN_INDEX, "
                           "COLUMN_NAME, COLLATION, SUB_PART, PACKED, NULLABLE, INDEX_TYPE, "
                           "COMMENT, INDEX_COMMENT, IGNORED FROM information_schema.STATISTICS "
                           "WHERE TABLE_SCHEMA = %s", (db,))
        out["STATISTICS " + db] = sorted(stats)
        out["KEY_COLUMN_USAGE " + db] = sorted(rows(
            conn, "SELECT CONSTRAINT_NAME, TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION FROM "
                  "information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = %s", (db,)))
        out["TABLE_CONSTRAINTS " + db] = sorted(rows(
            conn, "SELECT CONSTRAINT_NAME, TABLE_NAME, CONSTRAINT_TYPE FROM "
                  "information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = %s", (db,)))
        out["CHECK_CONSTRAINTS " + db] = sorted(rows(
            conn, "SELECT TABLE_NAME, CONSTRAINT_NAME, LEVEL, CHECK_CLAUSE FROM "
                  "information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %s", (db,)))
        for t in base:
            ref = "%s.%s" % (_q(db), _q(t))
            out["SHOW FULL COLUMNS " + ref] = rows(conn, "SHOW FULL COLUMNS FROM " + ref)
            out["SHOW INDEX " + ref] = [r[:6] + r[7:] for r in rows(conn, "SHOW INDEX FROM " + ref)]
            out["SHOW CREATE TABLE " + ref] = [
                (r[0], _norm_create(r[1])) for r in rows(conn, "SHOW CREATE TABLE " + ref)]
    return out


def _first_diff(want, got):
    if isinstance(want, list) and isinstance(got, list):
        for i, (a, b) in enumerate(zip(want, got)):
            if a != b:
                return "row %d: replica %r, tirelay %r" % (i, a, b)
        return "replica %d rows, tirelay %d rows; first extra: %r" % (
            len(want), len(got), (want[len(got):] or got[len(want):])[:1])
    return "replica %r, tirelay %r" % (want, got)


def compare(relay_conn, replica_conn, dbs=None):
    """Differences between tirelay's catalogue and the replica's, one line each (empty when
    equal). dbs: the databases to compare (default: every non-system one)."""
    want = snapshot(replica_conn, dbs)
    got = snapshot(relay_conn, dbs)
    diffs = []
    for key in sorted(set(want) | set(got)):
        if want.get(key) != got.get(key):
            diffs.append("%s: %s" % (key, _first_diff(want.get(key), got.get(key))))
    return diffs
