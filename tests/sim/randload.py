"""randload: the seeded randomized differential workload (issue 5, "Tests").

tidbsim.py --random SEED --ops N runs this instead of its default workload.  One seed
gives one deterministic stream of operations (the TSO values and the Pump a transaction
lands on are the only things that depend on the clock); every transaction is applied to
the truth MariaDB as SQL and published to the Pumps as the C-binlog TiDB would write, so
replicas of tirelay must end equal to the truth row for row.

What it generates
  * tables of every shape (SHAPES: int handle signed/unsigned, no primary key with and
    without a UNIQUE key, clustered VARCHAR and composite primary keys, int handle plus a
    UNIQUE key) whose columns are drawn from the simulator's column-type matrix
    (tidbsim.make_types_tables and make_tables are the templates, so a type added there is
    picked up here without an edit) plus EXTRA_TYPES;
  * transactions of 1..N statements over 1..4 tables: INSERT (one row and multi-row),
    UPDATE (one row, several keys with one SET, primary-key changes, no-op updates),
    DELETE (one row and several keys), tiny transactions and, now and then, large ones;
  * RANGE/HASH/LIST partitioned shapes;
  * DDL drawn from DDLS between transactions: CREATE/DROP/TRUNCATE/RENAME TABLE(S), ADD
    COLUMN with or without a default, DROP COLUMN with rows written in its delete-only
    window, MODIFY/CHANGE COLUMN, indexes and NONCLUSTERED primary keys, views, databases
    and their charsets, table charsets, ADD/DROP/TRUNCATE PARTITION and TiDB-only
    statements (SET TIFLASH REPLICA, SHARD_ROW_ID_BITS);
  * KNOWN_BUGS: bugs found and not fixed yet, avoided unless --known-bugs names them.
An operation is one row change or one DDL; a no-op update changes no row and is not
counted.  The seed also picks the mix (weights, DDL rate, table sizes), so seeds differ in
kind, not only in values.

TiDB behaviour modelled (pingcap/tidb pkg/executor/write.go updateRecord): a row whose
values do not change (compared with the binary collator) writes nothing; a change of the
handle (int primary key or clustered key) is RemoveRecord + AddRecord, i.e. a delete and
an insert in the binlog; a transaction that wrote nothing publishes no binlog.

Extending it: a new DDL kind is one line in DDLS (the function gets the RandomLoad and
returns True when it ran), a new DML kind one line in DML, a new column type one line
in EXTRA_TYPES (or in tidbsim.make_types_tables), a new table shape one line in SHAPES.
"""

import copy
import decimal
import os
import sys
import time

import tidbcodec as codec
import tidbschema as ts


# ---- column types ----------------------------------------------------------------------
# Templates: every non-key column of the simulator's type-matrix and default tables, and
# these extra ones (one line each: name -> a tidbschema.Column for that name).
EXTRA_TYPES = [
    lambda n: ts.c_int(n, big=True),
    lambda n: ts.c_decimal(n, 38, 8),
    lambda n: ts.c_str(n, "VARCHAR(255)", ts.TP_VARCHAR, 255, 255),
    lambda n: ts.c_bytes(n, "LONGBLOB", ts.TP_LONG_BLOB, 4294967295, 600),
]


def _default_for(c):
    """A NOT NULL / nullable DEFAULT for ADD COLUMN, or None when the kind has no simple
    literal (time types, BIT, YEAR, binary strings: those are added as DEFAULT NULL).
    Decimal defaults keep the column's scale: TiDB logs the default converted to the
    column type (origin_default "1.0000" for DECIMAL(10,4) DEFAULT 1)."""
    k = c.kind
    if k == "int":
        return 7
    if k == "float":
        return 1.5
    if k == "double":
        return -2.25
    if k == "decimal":
        one = decimal.Decimal(1 if c.flen > c.decimal else "0.5")
        return one.quantize(decimal.Decimal(1).scaleb(-c.decimal),
                            context=decimal.Context(prec=100)) if c.decimal else one
    if k == "enum":
        return c.elems[-1]
    if k == "set":
        return c.elems[0]
    if k == "str":
        return {"latin1": "dé", "utf8": "dé€"}.get(c.charset, "dé😀")
    return None


# Kinds a MariaDB replica on the MySQL listener cannot apply (MySQL binary JSON, type 245):
# their columns only go into tables named "j..." (the other tables are "t..."), which that
# replica ignores (diffcheck.MYSQL_LISTENER_IGNORE).
MARIADB_ONLY_KINDS = {"json"}


def is_generated(c):
    return bool(getattr(c, "gen_expr", ""))


def writable(t):
    """Columns an INSERT, REPLACE or UPDATE names (generated ones are computed, a column
    being dropped is invisible to TiDB's clients)."""
    return [c for c in t.columns if not is_generated(c) and getattr(c, "in_writable_state", True)]


def fill_generated(t, row):
    """Computes the generated columns of row (tidbschema.Table.fill_generated)."""
    if any(is_generated(c) for c in t.columns):
        t.fill_generated(row)
    return row


def same(c, a, b):
    """Whether two values of column c are the same stored value (then an UPDATE changes
    nothing: TiDB compares with the binary collator, MariaDB compares record bytes).  JSON
    compares by the text the truth stores (True, 1 and 1.0 differ)."""
    if c.kind == "json":
        if a is None or b is None:
            return a is b
        return codec.json_text(a) == codec.json_text(b)
    if c.kind == "str" and c.tp == ts.TP_STRING and isinstance(a, str) and isinstance(b, str):
        # CHAR: TiDB and MariaDB both drop trailing spaces (see tidbcodec.enc_value)
        return a.rstrip(" ") == b.rstrip(" ")
    return a == b and type(a) is type(b)


# ---- table shapes ----------------------------------------------------------------------
# name -> (key columns, pk_order or None, uniques).  Key columns are placed at random
# positions among the data columns.

def _int_handle(**kw):
    return lambda: ([ts.c_int("id", pk=True, **kw)], None, [])


def _range_pk():
    return ([ts.c_int("id", big=True, pk=True)], None, [],
            {"type": ts.PARTITION_RANGE, "col": "id",
             "defs": [["p0", 0, 0], ["p1", 0, 100000], ["p2", 0, 200000]]})


def _hash_pk():
    return ([ts.c_int("id", pk=True)], None, [],
            {"type": ts.PARTITION_HASH, "col": "id",
             "defs": [["p%d" % i, 0, None] for i in range(4)]})


def _list_nopk():
    return ([ts.c_int("grp", nullable=False)], None, [],
            {"type": ts.PARTITION_LIST, "col": "grp",
             "defs": [["p0", 0, [0, 1, 2, 3, 4]], ["p1", 0, [5, 6, 7, 8, 9]]]})


def setup_partitions(t):
    """The simulator's partition bookkeeping: new handles inside the RANGE partitions, LIST
    values among the listed ones (tidbsim new_pk / value)."""
    p = t.partition
    if p and p["type"] == ts.PARTITION_RANGE:
        bounds = [d[2] for d in p["defs"]]
        t.pk_range = (-50000, (bounds[-1] if bounds[-1] is not None else 1 << 40) - 1)
    if p and p["type"] == ts.PARTITION_LIST:
        t.col(p["col"]).choices = sorted(v for d in p["defs"] for v in d[2])


def has_primary_key(keys, pk_order):
    """Whether a shape's key columns form a primary key (list_nopk's are a plain NOT NULL
    partitioning column).  Generated-column groups go only into such tables while
    KNOWN_BUGS["virtual_gen_nopk"] is avoided."""
    return bool(pk_order) or any(k.pk for k in keys)


SHAPES = [
    ("bigint_pk", _int_handle(big=True)),
    ("int_pk", _int_handle()),
    ("uint_pk", _int_handle(unsigned=True)),
    ("ubigint_pk", _int_handle(big=True, unsigned=True)),
    ("int_pk_uk", lambda: ([ts.c_int("id", pk=True), ts.c_int("u", nullable=False)],
                           None, ["u"])),
    ("nopk", lambda: ([], None, [])),
    ("nopk_uk", lambda: ([ts.c_int("u", nullable=False)], None, ["u"])),
    ("clustered_varchar", lambda: ([ts.c_varchar("code", 32)], ["code"], [])),
    ("clustered_comp", lambda: ([ts.c_varchar("region", 16), ts.c_int("id")],
                                ["id", "region"], [])),
    ("range_pk", _range_pk),
    ("hash_pk", _hash_pk),
    ("list_nopk", _list_nopk),
]

NOPK_MAX_ROWS = 250          # replicas find rows of a table without a key by a full scan


# ---- DDL kinds: (name, weight, fn(load) -> ran?) ---------------------------------------

def ddl_create_table(load):
    if len(load.sim.tables) >= load.max_tables:
        return False
    load.create_random_table(load.rng.choice(SHAPES), json=load.rng.random() < 0.2)
    return True


def ddl_add_column(load):
    tabs = [t for t in load.sim.tables if len(t.columns) < load.max_columns]
    if not tabs:
        return False
    t = load.rng.choice(tabs)
    c = load.new_column(t, for_add=True)
    load.sim.add_column(t, c)
    return True


def _pick(load, cands):
    return load.rng.choice(cands) if cands else None


def _plain_tables(load):
    return [t for t in load.sim.tables if not t.partition]


def _free_columns(t):
    """Columns a DROP / MODIFY / CHANGE COLUMN may touch: not a key, UNIQUE, index,
    partition or generated column, not one a generated column reads."""
    used = set(c.name for c in t.pk_cols) | set(t.uniques) | set(t.nc_pk)
    for _n, cols, _u in t.extra_indexes:
        used |= set(cols)
    if t.partition:
        used.add(t.partition["col"])
    for c in t.columns:
        if is_generated(c):
            used.add(c.name)
            used |= set(c.gen_deps)
    return [c for c in t.columns if c.name not in used and c.name.lower() not in used
            and c.in_writable_state]


def ddl_drop_table(load):
    t = _pick(load, [t for t in load.sim.tables if len(load.sim.tables) > 8])
    if t is None:
        return False
    load.sim.ddl_drop_table(t)
    return True


def ddl_truncate_table(load):
    t = _pick(load, _plain_tables(load))
    if t is None:
        return False
    load.sim.ddl_truncate_table(t)
    return True


def ddl_rename_table(load):
    t = _pick(load, load.sim.tables)
    if t is None:
        return False
    load.sim.ddl_rename_table(t, load.new_name(t))
    return True


def ddl_rename_tables(load):
    """RENAME TABLE a TO a', b TO b' (one of them possibly into another database)."""
    if len(load.sim.tables) < 2:
        return False
    a = load.rng.choice(load.sim.tables)
    b = _pick(load, [t for t in load.sim.tables if t is not a and t.name[0] == a.name[0]])
    if b is None:         # one statement, one kind of table: a replica ignoring "j*" skips it all
        return False
    other = load.rng.choice(sorted(load.sim.dbs))
    load.sim.ddl_rename_tables([(a, load.new_name(a), None), (b, load.new_name(b), other)])
    return True


# Bugs found by this workload and not fixed yet: name -> report.  With --known-bugs avoid
# (the default) the workload stays clear of each (see where the name is tested); with
# --known-bugs NAME it runs into that one (and still avoids the others), with --known-bugs
# run into all of them, so a test can run each case as a strict xfail.
KNOWN_BUGS = {
    "virtual_gen_nopk": (
        "an UPDATE of a table without a primary key that has a VIRTUAL generated column "
        "stops both replicas with 1032 (Can't find record): TiDB leaves VIRTUAL columns out "
        "of both update images (tables.go canSkipUpdateBinlog), tirelay writes NULL for them "
        "(docs/decisions.md 'Generated columns') and MariaDB 10.11 compares whole records, "
        "the VIRTUAL column's computed value included (NULL or leaving it out of the "
        "columns-present bitmap both fail, the right value passes: checked with BINLOG "
        "statements).  Seeds 20240501 and 7 hit it when a generated-column group went into "
        "list_nopk (Update_rows on t22_list_nopk / t33_list_nopk).  A fix needs the "
        "generated expression evaluated in tirelay"),
}


def ddl_drop_column(load):
    """DROP COLUMN; while the column is delete-only a few transactions write the table
    (tirelay writes the DROP at the delete-only binlog: on a table without a primary key a
    replica finds the window's rows by their whole image, without the column)."""
    # the truth gets rows without the column meanwhile: it must have a default (or NULL)
    cands = [(t, c) for t in load.sim.tables for c in _free_columns(t)
             if len(t.columns) > 3 and (c.nullable or c.default is not None)]
    if not cands:
        return False
    t, c = load.rng.choice(cands)
    n = load.rng.randint(0, 3)
    if n and not t.pk_cols:      # shown in the kinds: keyless rows in the delete-only window
        load.kinds["drop_column_nopk_window"] = load.kinds.get("drop_column_nopk_window", 0) + 1
    load.sim.ddl_drop_column(t, c.name, during=lambda sim: [
        load.run_txn(tables=[t]) for _ in range(n)])
    return True


def ddl_modify_column(load):
    """MODIFY COLUMN to a wider type the values still fit: INT -> BIGINT (same id), VARCHAR
    longer (same id), DECIMAL wider (a reorganisation: a new column id)."""
    cands = [(t, c) for t in load.sim.tables for c in _free_columns(t) if widen(c) is not None]
    if not cands:
        return False
    # tables with JSON ("j...") half of the time: MariaDB copies the table for most such
    # changes and checks the JSON column's json_valid CHECK on every row (deep documents)
    jc = [tc for tc in cands if tc[0].name.startswith("j")]
    if jc and load.rng.random() < 0.5:
        cands = jc
    t, c = load.rng.choice(cands)
    load.sim.ddl_modify_column(t, c.name, widen(c))
    return True


def ddl_change_column(load):
    """CHANGE COLUMN: a new name, same type."""
    cands = [(t, c) for t in load.sim.tables for c in _free_columns(t)]
    if not cands:
        return False
    t, c = load.rng.choice(cands)
    n = copy.copy(c)
    load.ncols += 1
    n.name = "r%d_%s" % (load.ncols, c.name.split("_", 1)[-1])
    load.sim.ddl_change_column(t, c.name, n)
    return True


INDEXABLE = {"int", "decimal", "datetime", "date", "timestamp", "time", "year", "float",
             "double", "bit", "enum", "set"}


def ddl_add_index(load):
    cands = [(t, c) for t in load.sim.tables for c in t.columns
             if not is_generated(c) and c.in_writable_state and len(t.extra_indexes) < 4
             and (c.kind in INDEXABLE or (c.kind in ("str", "bytes") and c.tp in
                                          (ts.TP_VARCHAR, ts.TP_STRING) and c.flen <= 255))]
    if not cands:
        return False
    t, c = load.rng.choice(cands)
    load.nidx += 1
    load.sim.ddl_add_index(t, "i%d" % load.nidx, [c.name])
    return True


def ddl_drop_index(load):
    t = _pick(load, [t for t in load.sim.tables if t.extra_indexes])
    if t is None:
        return False
    load.sim.ddl_drop_index(t, load.rng.choice(t.extra_indexes)[0])
    return True


def ddl_add_primary_key(load):
    """ADD PRIMARY KEY (NONCLUSTERED) on a table without one, over its UNIQUE column."""
    t = _pick(load, [t for t in load.sim.tables
                     if not t.pk_cols and not t.nc_pk and t.uniques and not t.partition])
    if t is None:
        return False
    load.sim.ddl_add_primary_key(t, [t.uniques[0]])
    return True


def ddl_drop_primary_key(load):
    t = _pick(load, [t for t in load.sim.tables if t.nc_pk])
    if t is None:
        return False
    load.sim.ddl_drop_primary_key(t)
    return True


def ddl_create_view(load):
    t = _pick(load, [t for t in load.sim.tables if not t.name.startswith("j")])
    if t is None or len(load.sim.views) >= 6:
        return False
    cols = [c.name for c in load.rng.sample(t.columns, min(3, len(t.columns)))]
    load.nviews += 1
    load.sim.ddl_create_view(t.db, "v%02d" % load.nviews, "SELECT %s FROM `%s`.`%s`" % (
        ",".join("`%s`" % c for c in cols), t.db, t.name), cols)
    return True


def ddl_drop_view(load):
    if not load.sim.views:
        return False
    v = load.rng.choice(load.sim.views)
    load.sim.ddl_drop_view(v[0], v[1])
    return True


def ddl_create_database(load):
    if len(load.sim.dbs) >= 3:
        return False
    load.ndbs += 1
    db = "%s_%d" % (load.db, load.ndbs)
    load.all_dbs.append(db)
    load.sim.ddl_create_database(db, *load.rng.choice([(ts.CHARSET, ts.COLLATE),
                                                       (ts.CHARSET, "utf8mb4_general_ci")]))
    return True


def ddl_drop_database(load):
    db = _pick(load, sorted(d for d in load.sim.dbs if d != load.db))
    if db is None:
        return False
    load.sim.ddl_drop_database(db)
    return True


def ddl_database_charset(load):
    db = load.rng.choice(sorted(load.sim.dbs))
    load.sim.ddl_alter_database_charset(db, *load.rng.choice(
        [(ts.CHARSET, ts.COLLATE), (ts.CHARSET, "utf8mb4_general_ci")]))
    return True


def ddl_table_charset(load):
    t = _pick(load, load.sim.tables)
    if t is None:
        return False
    load.sim.ddl_table_charset(t, *load.rng.choice(
        [(ts.CHARSET, ts.COLLATE), (ts.CHARSET, "utf8mb4_general_ci")]))
    return True


def ddl_add_partition(load):
    t = _pick(load, [t for t in load.sim.tables if t.partition and
                     t.partition["type"] in (ts.PARTITION_RANGE, ts.PARTITION_LIST)
                     and len(t.partition["defs"]) < 8])
    if t is None:
        return False
    p = t.partition
    load.nparts += 1
    name = "q%d" % load.nparts
    if p["type"] == ts.PARTITION_RANGE:
        bound = p["defs"][-1][2] + 100000
    else:
        top = max(v for d in p["defs"] for v in d[2])
        bound = [top + 1, top + 2]
    load.sim.ddl_add_partition(t, name, bound)
    setup_partitions(t)
    return True


def ddl_drop_partition(load):
    t = _pick(load, [t for t in load.sim.tables if t.partition and
                     t.partition["type"] in (ts.PARTITION_RANGE, ts.PARTITION_LIST)
                     and len(t.partition["defs"]) > 2])
    if t is None:
        return False
    load.sim.ddl_drop_partition(t, load.rng.choice(t.partition["defs"])[0])
    setup_partitions(t)
    return True


def ddl_truncate_partition(load):
    t = _pick(load, [t for t in load.sim.tables if t.partition and
                     t.partition["type"] in (ts.PARTITION_RANGE, ts.PARTITION_LIST)])
    if t is None:
        return False
    load.sim.ddl_truncate_partition(t, load.rng.choice(t.partition["defs"])[0])
    return True


def ddl_tiflash_replica(load):
    t = _pick(load, load.sim.tables)
    if t is None:
        return False
    load.sim.ddl_set_tiflash_replica(t, load.rng.randint(0, 2))
    return True


def ddl_shard_row_id(load):
    t = _pick(load, [t for t in load.sim.tables if not t.pk_cols])
    if t is None:
        return False
    load.sim.ddl_tidb_only(t, ts.ACTION_SHARD_ROW_ID,
                           "ALTER TABLE `%s` /*T! SHARD_ROW_ID_BITS = 4 */" % t.name)
    return True


def widen(c):
    """The wider column MODIFY COLUMN gives c, or None."""
    n = None
    if c.kind == "int" and c.tp != ts.TP_LONGLONG and not c.zerofill:
        n = ts.c_intn(c.name, ts.TP_LONGLONG, unsigned=c.unsigned)
    elif c.kind == "str" and c.tp == ts.TP_VARCHAR and c.flen <= 200:
        n = ts.c_str(c.name, "VARCHAR(%d)" % (c.flen + 30), ts.TP_VARCHAR, c.flen + 30,
                     c.maxlen, charset=c.charset)
    elif c.kind == "decimal" and c.flen <= 60:
        n = ts.c_decimal(c.name, c.flen + 3, c.decimal)
    if n is not None:
        n.nullable, n.default, n.types_table = c.nullable, c.default, c.types_table
    return n


DDLS = [
    ("create_table", 4, ddl_create_table),
    ("add_column", 8, ddl_add_column),
    ("drop_column", 4, ddl_drop_column),
    ("modify_column", 3, ddl_modify_column),
    ("change_column", 2, ddl_change_column),
    ("drop_table", 2, ddl_drop_table),
    ("truncate_table", 1, ddl_truncate_table),
    ("rename_table", 2, ddl_rename_table),
    ("rename_tables", 1, ddl_rename_tables),
    ("add_index", 3, ddl_add_index),
    ("drop_index", 2, ddl_drop_index),
    ("add_primary_key", 1, ddl_add_primary_key),
    ("drop_primary_key", 1, ddl_drop_primary_key),
    ("create_view", 1, ddl_create_view),
    ("drop_view", 1, ddl_drop_view),
    ("create_database", 1, ddl_create_database),
    ("drop_database", 1, ddl_drop_database),
    ("database_charset", 1, ddl_database_charset),
    ("table_charset", 1, ddl_table_charset),
    ("add_partition", 2, ddl_add_partition),
    ("drop_partition", 1, ddl_drop_partition),
    ("truncate_partition", 1, ddl_truncate_partition),
    ("tiflash_replica", 1, ddl_tiflash_replica),
    ("shard_row_id", 1, ddl_shard_row_id),
]


# ---- DML kinds: (name, base weight, method of Txn) -------------------------------------

DML = [
    ("insert", 30, "insert_one"),
    ("insert_multi", 8, "insert_multi"),
    ("update", 25, "update_one"),
    ("update_multi", 5, "update_multi"),
    ("update_pk", 4, "update_pk"),
    ("update_noop", 3, "update_noop"),
    ("replace", 3, "replace"),
    ("upsert", 3, "upsert"),
    ("delete", 12, "delete_one"),
    ("delete_multi", 4, "delete_multi"),
]


class Txn:
    """One TiDB transaction: SQL statements for the truth (with the row count each must
    affect) and the TableMutations TiDB would log, built statement by statement."""

    def __init__(self, load):
        self.load = load
        self.sim = load.sim
        self.pb = load.pb
        self.rng = load.rng
        self.start_ts = self.sim.tso.next()
        self.version = self.sim.schema_version
        self.sql = []          # (statement, affected rows)
        self.muts = {}         # table id -> TableMutation, first-touch order
        self.primary = None    # (table id, handle) of the first row written
        self.ops = 0
        self.kinds = {}

    # -- helpers

    def esc(self, c, v):
        return self.load.esc(c.sql_param(v))

    def mut(self, t):
        m = self.muts.get(t.id)
        if m is None:
            m = self.muts[t.id] = self.pb.TableMutation(table_id=t.id)
        return m

    def count(self, kind, n):
        self.ops += n
        self.kinds[kind] = self.kinds.get(kind, 0) + n

    @staticmethod
    def fq(t):
        return "`%s`.`%s`" % (t.db, t.name)

    def where(self, t, row):
        if t.pk_cols:
            return " WHERE " + " AND ".join("`%s` = %s" % (c.name, self.esc(c, row[c.name]))
                                            for c in t.pk_cols)
        return " WHERE " + " AND ".join("`%s` <=> %s" % (c.name, self.esc(c, row[c.name]))
                                        for c in writable(t)) + " LIMIT 1"

    def key_in(self, t, rows):
        """WHERE <key> IN (...) for several rows of a table with a primary key."""
        if len(t.pk_cols) == 1:
            c = t.pk_cols[0]
            return " WHERE `%s` IN (%s)" % (c.name, ",".join(self.esc(c, r[c.name]) for r in rows))
        return " WHERE (%s) IN (%s)" % (
            ",".join("`%s`" % c.name for c in t.pk_cols),
            ",".join("(%s)" % ",".join(self.esc(c, r[c.name]) for c in t.pk_cols) for r in rows))

    def pick_keys(self, st, n):
        n = min(n, len(st.keys))
        return self.rng.sample(st.keys, n)

    def _insert_binlog(self, t, st, key, row):
        st.put(key, row)
        self.primary = self.primary or (t.id, key)
        m = self.mut(t)
        m.inserted_rows.append(codec.insert_row(t, row, key))
        m.sequence.append(self.pb.Insert)

    def _delete_binlog(self, t, st, key):
        row = st.rows[key]
        st.remove(key)
        self.primary = self.primary or (t.id, key)
        m = self.mut(t)
        m.deleted_rows.append(codec.delete_row(t, row, key))
        m.sequence.append(self.pb.DeleteRow)
        return row

    def _update_binlog(self, t, st, key, before, after):
        st.put(key, after)
        self.primary = self.primary or (t.id, key)
        m = self.mut(t)
        m.updated_rows.append(codec.update_row(t, before, after, key))
        m.sequence.append(self.pb.Update)

    def changeable(self, t):
        """Non-key columns an UPDATE may set: not generated, not being dropped, not in a
        NONCLUSTERED primary key, not the partitioning column (TiDB moves such a row to
        another partition with an insert before the delete)."""
        pcol = t.partition["col"] if getattr(t, "partition", None) else None
        return [c for c in writable(t) if not c.pk and not getattr(c, "nc_pk", False)
                and c.name != pcol]

    def new_values(self, t, before, ncols):
        """{column: new value} for up to ncols non-key columns, only real changes."""
        cols = self.changeable(t)
        out = {}
        for c in self.rng.sample(cols, min(ncols, len(cols))):
            v = self.load.value(c)
            if not same(c, v, before[c.name]):
                out[c.name] = v
        return out

    # -- statements (each returns False when it cannot run on this table now)

    def insert_rows(self, t, n, kind):
        st = self.sim.state[t.id]
        rows = []
        for _ in range(n):
            key, row = self.load.new_row(st)
            fill_generated(t, row)
            self._insert_binlog(t, st, key, row)
            rows.append(row)
        cols = writable(t)
        names = ",".join("`%s`" % c.name for c in cols)
        vals = ",".join("(%s)" % ",".join(self.esc(c, r[c.name]) for c in cols) for r in rows)
        self.sql.append(("INSERT INTO %s (%s) VALUES %s" % (self.fq(t), names, vals), n))
        self.count(kind, n)
        return True

    def insert_one(self, t):
        return self.insert_rows(t, 1, "insert")

    def insert_multi(self, t):
        return self.insert_rows(t, self.rng.randint(2, self.load.multi_max), "insert")

    def update_one(self, t, kind="update"):
        st = self.sim.state[t.id]
        if not st.keys:
            return False
        key = self.rng.choice(st.keys)
        before = st.rows[key]
        changes = self.new_values(t, before, self.rng.randint(1, 4))
        if not changes:
            return False
        after = fill_generated(t, dict(before, **changes))
        sets = ",".join("`%s` = %s" % (n, self.esc(t.col(n), v)) for n, v in changes.items())
        self.sql.append(("UPDATE %s SET %s%s" % (self.fq(t), sets, self.where(t, before)), 1))
        self._update_binlog(t, st, key, before, after)
        self.count(kind, 1)
        return True

    def update_multi(self, t):
        """UPDATE ... SET <same values> WHERE key IN (...): rows that already hold the
        values are untouched (no binlog row, not in the affected count)."""
        st = self.sim.state[t.id]
        if not t.pk_cols or len(st.keys) < 2:
            return self.update_one(t)
        keys = self.pick_keys(st, self.rng.randint(2, self.load.multi_max))
        cols = [c for c in self.changeable(t) if not c.unique]
        if not cols:
            return False
        cols = self.rng.sample(cols, min(len(cols), self.rng.randint(1, 2)))
        # sometimes take the values of one of the rows: that row (and equal ones) is a no-op
        src = st.rows[keys[0]] if self.rng.random() < 0.3 else None
        vals = {c.name: (src[c.name] if src else self.load.value(c)) for c in cols}
        changed = 0
        for key in keys:
            before = st.rows[key]
            if all(same(t.col(n), before[n], v) for n, v in vals.items()):
                continue
            after = fill_generated(t, dict(before, **vals))
            self._update_binlog(t, st, key, before, after)
            changed += 1
        sets = ",".join("`%s` = %s" % (n, self.esc(t.col(n), v)) for n, v in vals.items())
        self.sql.append(("UPDATE %s SET %s%s" % (self.fq(t), sets,
                                                 self.key_in(t, [st.rows[k] for k in keys])),
                         changed))
        self.count("update", changed)
        return True

    def update_pk(self, t):
        """A new handle: TiDB removes the old record and adds the new one (delete + insert
        in the binlog); the truth runs one UPDATE."""
        st = self.sim.state[t.id]
        if not t.pk_cols or not st.keys:
            return self.update_one(t)
        key = self.rng.choice(st.keys)
        before = st.rows[key]
        after = dict(before)
        after.update(self.new_values(t, before, self.rng.randint(0, 2)))
        while True:
            c = self.rng.choice(t.pk_cols)
            after[c.name] = self.sim.new_pk(st) if t.pk_is_handle else self.load.key_value(c)
            nkey = after[t.pk.name] if t.pk_is_handle else tuple(after[k.name] for k in t.pk_cols)
            if nkey not in st.rows:
                break
        fill_generated(t, after)
        changes = {c.name: after[c.name] for c in writable(t)
                   if not same(c, after[c.name], before[c.name])}
        sets = ",".join("`%s` = %s" % (n, self.esc(t.col(n), v)) for n, v in changes.items())
        self.sql.append(("UPDATE %s SET %s%s" % (self.fq(t), sets, self.where(t, before)), 1))
        self._delete_binlog(t, st, key)
        self._insert_binlog(t, st, nkey, after)
        self.count("update_pk", 1)
        return True

    def existing_with_changes(self, t):
        """(key, before, after) for a row of a keyed table with new values in some non-key
        columns (after == before when none came out different), or None."""
        st = self.sim.state[t.id]
        if not t.pk_cols or not st.keys:
            return None
        key = self.rng.choice(st.keys)
        before = st.rows[key]
        after = dict(before, **self.new_values(t, before, self.rng.randint(1, len(t.columns))))
        return key, before, fill_generated(t, after)

    def values_sql(self, t, row):
        cols = writable(t)
        return "(%s) VALUES (%s)" % (",".join("`%s`" % c.name for c in cols),
                                     ",".join(self.esc(c, row[c.name]) for c in cols))

    def replace(self, t):
        """REPLACE of an existing key with other values: TiDB's ReplaceExec.replaceRow
        removes the old record and adds the new one (pingcap/tidb pkg/executor/replace.go):
        a delete and an insert of the same key; MariaDB counts 2 rows."""
        got = self.existing_with_changes(t)
        if got is None:
            return self.insert_one(t)
        key, before, after = got
        if all(same(c, before[c.name], after[c.name]) for c in t.columns):
            return False
        st = self.sim.state[t.id]
        self.sql.append(("REPLACE INTO %s %s" % (self.fq(t), self.values_sql(t, after)), 2))
        self._delete_binlog(t, st, key)
        self._insert_binlog(t, st, key, after)
        self.count("replace", 1)
        return True

    def upsert(self, t):
        """INSERT ... ON DUPLICATE KEY UPDATE every non-key column: an update of the existing
        row (updateRecord with onDup), 2 rows for MariaDB; nothing when no value changes."""
        got = self.existing_with_changes(t)
        if got is None:
            return self.insert_one(t)
        key, before, after = got
        changed = not all(same(c, before[c.name], after[c.name]) for c in t.columns)
        upd = ",".join("`%s` = VALUES(`%s`)" % (c.name, c.name) for c in writable(t) if not c.pk)
        self.sql.append(("INSERT INTO %s %s ON DUPLICATE KEY UPDATE %s"
                         % (self.fq(t), self.values_sql(t, after), upd), 2 if changed else 0))
        if changed:
            self._update_binlog(t, self.sim.state[t.id], key, before, after)
            self.count("upsert", 1)
        return True

    def update_noop(self, t):
        """SET columns to the values they hold: nothing changes, TiDB logs nothing."""
        st = self.sim.state[t.id]
        if not st.keys:
            return False
        before = st.rows[self.rng.choice(st.keys)]
        cols = self.rng.sample(self.changeable(t), min(2, len(self.changeable(t))))
        if not cols:
            return False
        sets = ",".join("`%s` = %s" % (c.name, self.esc(c, before[c.name])) for c in cols)
        self.sql.append(("UPDATE %s SET %s%s" % (self.fq(t), sets, self.where(t, before)), 0))
        self.kinds["update_noop"] = self.kinds.get("update_noop", 0) + 1
        return True

    def delete_one(self, t):
        st = self.sim.state[t.id]
        if not st.keys:
            return False
        key = self.rng.choice(st.keys)
        row = self._delete_binlog(t, st, key)
        self.sql.append(("DELETE FROM %s%s" % (self.fq(t), self.where(t, row)), 1))
        self.count("delete", 1)
        return True

    def delete_multi(self, t):
        st = self.sim.state[t.id]
        if not t.pk_cols or len(st.keys) < 2:
            return self.delete_one(t)
        keys = self.pick_keys(st, self.rng.randint(2, self.load.multi_max))
        rows = [self._delete_binlog(t, st, k) for k in keys]
        self.sql.append(("DELETE FROM %s%s" % (self.fq(t), self.key_in(t, rows)), len(rows)))
        self.count("delete", len(rows))
        return True

    # -- commit: the truth first, then the binlog

    def commit(self):
        if not self.sql:
            return 0
        self.load.truth_apply(self.sql)
        muts = [m for m in self.muts.values() if len(m.sequence)]
        if not muts:
            return 0           # only no-op updates: TiDB writes no binlog
        pv = self.pb.PrewriteValue(schema_version=self.version)
        for m in muts:
            pv.mutations.append(m)
        pv_bytes = pv.SerializeToString()
        # prewrite_key: the record key of the first row written (tablecodec
        # EncodeRowKeyWithHandle, int form; tirelay does not read it)
        tid, h = self.primary
        h = h if isinstance(h, int) else 1
        h = h - (1 << 64) if h >= (1 << 63) else h
        key = (b"t" + ((tid ^ (1 << 63)) & codec.MASK64).to_bytes(8, "big") + b"_r"
               + ((h ^ (1 << 63)) & codec.MASK64).to_bytes(8, "big"))
        pb, start_ts = self.pb, self.start_ts

        def make(commit_ts):
            return pb.Binlog(tp=pb.Commit, start_ts=start_ts, commit_ts=commit_ts,
                             prewrite_key=key, prewrite_value=pv_bytes,
                             ddl_job_id=0, ddl_schema_state=0)

        self.sim.publish(self.sim.pick_pump(), make)
        self.sim.txns += 1
        self.sim.rows += self.ops
        return 1


class RandomLoad:
    def __init__(self, sim):
        self.sim = sim
        a = sim.args
        self.seed = a.random
        self.target = a.ops
        self.rng = sim.rng                       # seeded with the --random seed
        self.gen = sim.gen
        simmod = sys.modules[type(sim).__module__]
        self.simmod = simmod
        self.pb = simmod.binlog_pb2
        self.db = a.db
        self.checkpoints = sorted(int(x) for x in a.checkpoints.split(",") if x.strip())
        self.checkpoint = 0                      # checkpoints passed
        self.ops = 0
        self.kinds = {}
        self.uniq = 0
        self.ntables = 0
        self.conn = None
        r = self.rng
        # the seed's profile
        self.weights = [(name, w * r.uniform(0.25, 2.5), meth) for name, w, meth in DML]
        self.ddl_every = r.choice([300, 1000, 2500, 6000])   # mean ops between DDLs
        self.max_rows = r.choice([400, 1000, 2000])
        self.multi_max = r.choice([5, 20, 60])
        self.max_stmts = r.choice([3, 8, 20])
        self.big_every = r.choice([2000, 8000, 30000])       # mean ops between large txns
        self.max_tables = 24
        self.max_columns = r.choice([30, 70, 110])          # > 64: multi-word column bitmaps
        self.templates = self._templates()
        self.plain_templates = [c for c in self.templates if c.kind not in MARIADB_ONLY_KINDS]
        self.next_ddl = int(r.expovariate(1.0 / self.ddl_every))
        self.next_big = int(r.expovariate(1.0 / self.big_every))
        self.ncols = 0
        self.nidx = self.nviews = self.ndbs = self.nparts = 0
        self.all_dbs = [self.db]
        self.known_bugs = a.known_bugs
        if a.known_bugs not in ("avoid", "run") and a.known_bugs not in KNOWN_BUGS:
            raise SystemExit("--known-bugs: avoid, run or one of %s" % ", ".join(KNOWN_BUGS))

    def avoid(self, bug):
        assert bug in KNOWN_BUGS, bug
        return self.known_bugs not in ("run", bug)

    # ---- values

    def _templates(self):
        """Single columns to copy under new names, and groups (self.groups): the generated
        columns of a template table with the columns they read, copied with their names
        (the expressions name them) into tables with a primary key."""
        out = []
        self.groups = []
        for t in list(self.simmod.make_types_tables(self.db)[0]) + \
                [t for ts_ in self.simmod.make_tables(self.db) for t in ts_]:
            out += [c for c in t.columns if not c.pk and not is_generated(c)]
            gens = [c for c in t.columns if is_generated(c)]
            if gens:
                deps = set()
                for c in gens:
                    deps |= set(c.gen_deps)
                self.groups.append([c for c in t.columns
                                    if c in gens or (not c.pk and c.name.lower() in deps)])
        out += [f("x") for f in EXTRA_TYPES]
        return out

    def value(self, c):
        if c.unique:
            return self.fresh_unique()
        return self.sim.value(c) if hasattr(self.sim, "value") else self.gen.value(c)

    def key_value(self, c):
        if c.kind == "int":
            return self.gen.int_value(c)
        return self.gen.str_value(c)     # no trailing spaces: utf8mb4_bin is PAD SPACE

    def fresh_unique(self):
        self.uniq += 1
        return self.uniq * 10 + self.rng.randint(0, 9)

    def new_row(self, st):
        key, row = self.sim.new_row(st)
        for n in st.table.uniques:
            row[n] = self.fresh_unique()
        return key, row

    def esc(self, v):
        return self.conn.escape(v)

    # ---- schema

    def pick_templates(self, t_json, n):
        pool = self.templates if t_json else self.plain_templates
        return [self.rng.choice(pool) for _ in range(n)]

    def new_column(self, t, for_add=False):
        tmpl = self.pick_templates(t.name.startswith("j"), 1)[0]
        c = copy.copy(tmpl)
        self.ncols += 1
        c.name = "a%d_%s" % (self.ncols, tmpl.name)
        c.pk = False
        c.unique = False
        c.types_table = tmpl.types_table
        c.nullable = self.rng.random() < 0.75
        c.default = None
        if for_add:
            d = _default_for(c)
            if d is not None and self.rng.random() < 0.6:
                c.default = d
            elif not c.nullable:
                c.nullable = True    # NOT NULL without a default: no literal to fill old rows
        elif c.kind == "timestamp":
            c.nullable = True        # keep clear of any implicit TIMESTAMP default
        return c

    def create_random_table(self, shape, types=None, json=False, group=None, db=None):
        """json: may hold MARIADB_ONLY_KINDS columns (name "j..."), else only the others;
        group: a generated-column group (see _templates) copied in as it is."""
        name, make = shape
        keys, pk_order, uniques, *part = make()
        part = part[0] if part else None
        cols = []
        keyless_group = not has_primary_key(keys, pk_order) and not self.avoid("virtual_gen_nopk")
        if group is None and self.groups and not uniques and \
                (has_primary_key(keys, pk_order) and self.rng.random() < 0.2 or
                 keyless_group and self.rng.random() < 0.7):
            group = self.rng.choice(self.groups)
        picks = types if types is not None else self.pick_templates(json, self.rng.randint(2, 14))
        json = json or any(c.kind in MARIADB_ONLY_KINDS for c in picks)
        for i, tmpl in enumerate(picks):
            c = copy.copy(tmpl)
            c.name = "c%d_%s" % (i, tmpl.name)
            c.pk = c.unique = False
            c.default = None
            c.nullable = self.rng.random() < 0.75 or c.kind == "timestamp"
            cols.append(c)
        for c in group or ():
            json = json or c.kind in MARIADB_ONLY_KINDS
            cols.insert(self.rng.randint(0, len(cols)), copy.copy(c))
        for k in keys:
            cols.insert(self.rng.randint(0, len(cols)), k)
        self.ntables += 1
        db = db or (self.rng.choice(sorted(self.sim.dbs)) if self.rng.random() < 0.3 else self.db)
        t = ts.Table(db, "%s%02d_%s" % ("j" if json else "t", self.ntables, name), cols,
                     pk_order=pk_order, partition=part,
                     uniques=uniques)
        if part:
            setup_partitions(t)
        self.sim.ddl_create_table(t)
        return t

    def new_name(self, t):
        """A new table name keeping the "j" / "t" prefix (diffcheck.mysql_listener_table)."""
        self.ntables += 1
        return "%s%02d_%s" % (t.name[0], self.ntables, t.name.split("_", 1)[-1][:40])

    # ---- truth

    def connect(self):
        import pymysql
        from pymysql.constants import CLIENT
        a = self.sim.args
        kw = dict(user=a.mysql_user, password=a.mysql_password, charset="utf8mb4",
                  autocommit=True, client_flag=CLIENT.MULTI_STATEMENTS)
        if a.mysql_socket:
            kw["unix_socket"] = a.mysql_socket
        else:
            kw.update(host=a.mysql_host, port=a.mysql_port)
        self.conn = pymysql.connect(**kw)
        with self.conn.cursor() as cur:
            cur.execute("SET time_zone = '+00:00'")
            cur.execute("SET SESSION check_constraint_checks = 0")   # as tidbsim.connect

    def truth_apply(self, stmts):
        """One SQL transaction in one round trip; every statement must affect exactly the
        rows the model says (else the model and the truth disagree: a generator bug)."""
        q = "BEGIN;" + ";".join(s for s, _ in stmts) + ";COMMIT"
        want = [0] + [n for _, n in stmts] + [0]
        with self.conn.cursor() as cur:
            cur.execute(q)
            i = 0
            while True:
                if cur.rowcount != want[i]:
                    cur.execute("ROLLBACK")
                    raise RuntimeError("seed %d: truth affected %d rows, model says %d: %s"
                                       % (self.seed, cur.rowcount, want[i], stmts[i - 1][0][:2000]))
                i += 1
                if not cur.nextset():
                    break
            if i != len(want):
                raise RuntimeError("seed %d: %d results for %d statements" % (self.seed, i, len(want)))

    # ---- the run

    def status(self, paused=False):
        self.sim.extra_status["random"] = {
            "seed": self.seed, "ops": self.ops, "target": self.target, "kinds": self.kinds,
            "checkpoint": self.checkpoint, "paused": paused,
            "max_columns": max((len(t.columns) for t in self.sim.tables), default=0),
            "dbs": self.all_dbs}
        self.sim.extra_status["tables"] = [
            {"name": t.name, "db": t.db, "id": t.id,
             "pk": t.pk.name if t.pk_is_handle else t.key_names(),
             "rows": len(self.sim.state[t.id].rows)} for t in self.sim.tables]

    def maybe_checkpoint(self):
        """At each --checkpoints op count: write the status with paused=true and wait for
        <status-file>.resume-<k> (the test compares the replicas with the truth meanwhile;
        fake binlogs keep flowing)."""
        while self.checkpoint < len(self.checkpoints) and self.ops >= self.checkpoints[self.checkpoint]:
            self.checkpoint += 1
            self.status(paused=True)
            self.sim.write_status()
            self.simmod.log("checkpoint %d at %d ops (seed %d): paused"
                         % (self.checkpoint, self.ops, self.seed))
            go = "%s.resume-%d" % (self.sim.args.status_file, self.checkpoint)
            while not os.path.exists(go) and not self.sim.stopping.is_set():
                self.sim.stopping.wait(0.1)
            self.status()
            self.sim.write_status()

    def add(self, kinds):
        for k, n in kinds.items():
            self.kinds[k] = self.kinds.get(k, 0) + n

    def run_ddl(self):
        total = sum(w for _, w, _ in DDLS)
        x = self.rng.uniform(0, total)
        order = list(DDLS)
        for i, (name, w, fn) in enumerate(DDLS):
            if x < w:
                order = DDLS[i:] + DDLS[:i]
                break
            x -= w
        for name, _, fn in order:       # the drawn kind first, the next one if it cannot run
            if fn(self):
                self.ops += 1
                self.kinds["ddl_" + name] = self.kinds.get("ddl_" + name, 0) + 1
                return

    def pick_dml(self):
        total = sum(w for _, w, _ in self.weights)
        x = self.rng.uniform(0, total)
        for name, w, meth in self.weights:
            if x < w:
                return meth
            x -= w
        return self.weights[-1][2]

    def run_txn(self, tables=None):
        r = self.rng
        txn = Txn(self)
        pool = tables or self.sim.tables
        tabs = r.sample(pool, r.randint(1, min(4, len(pool))))
        big = self.ops >= self.next_big
        if big:
            self.next_big = self.ops + int(r.expovariate(1.0 / self.big_every)) + 1
        nstmts = r.randint(20, 120) if big else (1 if r.random() < 0.3 else r.randint(1, self.max_stmts))
        for _ in range(nstmts):
            t = r.choice(tabs)
            st = self.sim.state[t.id]
            limit = NOPK_MAX_ROWS if not t.pk_cols else self.max_rows
            meth = "insert_multi" if big and r.random() < 0.7 else self.pick_dml()
            if meth.startswith("insert") and len(st.rows) >= limit:
                meth = r.choice(["update_one", "delete_multi", "delete_one"])
            elif len(st.rows) < 10 and not meth.startswith("insert"):
                meth = "insert_multi"
            getattr(txn, meth)(t)
        published = txn.commit()
        self.ops += txn.ops
        self.add(txn.kinds)
        self.kinds["txns"] = self.kinds.get("txns", 0) + published
        if big:
            self.kinds["big_txns"] = self.kinds.get("big_txns", 0) + 1

    def run(self):
        sim = self.sim
        self.connect()
        log = self.simmod.log
        log("random workload: seed %d, %d operations, profile ddl_every=%d max_rows=%d "
            "multi_max=%d max_stmts=%d big_every=%d max_columns=%d"
            % (self.seed, self.target, self.ddl_every, self.max_rows, self.multi_max,
               self.max_stmts, self.big_every, self.max_columns))
        sim.create_schema(self.db)
        # one table per shape, every column type in at least one of them; the
        # MARIADB_ONLY_KINDS columns in two more tables of random shapes
        order = list(self.plain_templates)
        self.rng.shuffle(order)
        per = -(-len(order) // len(SHAPES))
        special = [c for c in self.templates if c.kind in MARIADB_ONLY_KINDS]
        initial = [(shape, order[i * per:(i + 1) * per] + self.rng.sample(self.plain_templates, 3))
                   for i, shape in enumerate(SHAPES)]
        if special:
            initial += [(self.rng.choice(SHAPES), special + self.rng.sample(self.templates, 4))
                        for _ in range(2)]
        # and one wide table (every plain type: more than 64 columns)
        initial.append((self.rng.choice(SHAPES), self.rng.sample(self.plain_templates,
                                                                 len(self.plain_templates))))
        # the generated-column groups, each in a table with a primary key
        keyed = [sh for sh in SHAPES if has_primary_key(*sh[1]()[:2]) and not sh[1]()[2]
                 and len(sh[1]()) == 3]
        initial += [(self.rng.choice(keyed), self.rng.sample(self.plain_templates, 4), g)
                    for g in self.groups]
        for shape, picks, *group in initial:
            self.create_random_table(shape, picks, group=group[0] if group else None, db=self.db)
            self.ops += 1
            self.kinds["ddl_create_table"] = self.kinds.get("ddl_create_table", 0) + 1
        self.status()
        sim.write_status()
        t0 = last = time.monotonic()
        last_ops = 0
        while not sim.stopping.is_set() and self.ops < self.target:
            if self.ops >= self.next_ddl:
                self.next_ddl = self.ops + int(self.rng.expovariate(1.0 / self.ddl_every)) + 1
                self.run_ddl()
            else:
                self.run_txn()
            self.maybe_checkpoint()
            sim.maybe_freeze()
            now = time.monotonic()
            if now - last >= 0.5:
                self.status()
                sim.write_status()
                if int(now - t0) // 10 != int(last - t0) // 10:
                    log("seed %d: %d/%d ops, %.0f ops/s" % (self.seed, self.ops, self.target,
                                                           (self.ops - last_ops) / (now - last)))
                last, last_ops = now, self.ops
        self.status()
        sim.done = not sim.stopping.is_set()
        sim.write_status()
        log("random workload done: seed %d, %d operations (%s) in %.1fs, %d transactions, "
            "%d DDLs, last commit_ts %d"
            % (self.seed, self.ops, ", ".join("%s=%d" % kv for kv in sorted(self.kinds.items())),
               time.monotonic() - t0, sim.txns, sim.ddls, sim.last_commit_ts))
