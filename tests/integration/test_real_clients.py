"""Real binlog clients from npm against tirelay and, as the control, against a real MariaDB
primary fed the same statements (issue 14 point 5).

The truth MariaDB runs with its own binlog (ROW, FULL image, binlog_row_metadata=FULL): it is
the real primary. The simulator (in this process) applies a scripted workload to it and
publishes the same transactions as TiDB binlog, which tirelay turns into its two flavours.
Every statement changes 1-4 rows and is alone in its transaction, so the primary writes it
as one rows event and tirelay writes TiDB's mutation as one rows event too: a client meets
the same event shapes from both. Mid-stream: ALTER TABLE ADD COLUMN, DROP COLUMN, RENAME
TABLE and TRUNCATE TABLE.

Each client streams the whole binlog from the first file, live, from tirelay's MySQL
listener, from its MariaDB listener and from the primary. After each phase of the workload
a marker row is inserted and the test waits until every client has reported it, so a client
that asks the server for column names (information_schema, SHOW FULL COLUMNS) asks while
the schema is the one of the events it is decoding, as it would on a live primary. Each
client's row changes are applied to a model keyed by primary key (the test applies the DDL
to the model at the marker that precedes it, as a consumer would) and:

- the model a client builds from either tirelay listener equals the one it builds from the
  MariaDB primary (JSON compared as parsed documents: the MySQL listener sends MySQL's
  binary JSON, MariaDB a string), and the client stops at the same point, if it stops;
- for the clients in CORRECT, the model equals the truth's tables; for the others it differs
  from the truth in the same way on the primary: the client is wrong on a real primary too.
  README.md ("CDC clients") lists what each client got wrong, from these runs.

The Node packages are pinned in tests/integration/node/package-lock.json; `npm install`
runs once per test session. Run: /usr/bin/python3 -m pytest -q -s tests/integration/test_real_clients.py
"""

import base64
import datetime
import decimal
import json
import os
import random
import subprocess
import sys
import threading
import time
import types

import pymysql
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
import tidbschema as ts  # noqa: E402
import tidbsim  # noqa: E402

NODE_DIR = os.path.join(HERE, "node")
SEED = int(os.environ.get("TIRELAY_TEST_SEED", "20240501")) + 1414
STATEMENTS = int(os.environ.get("TIRELAY_CLIENT_STATEMENTS", "14"))  # per phase
DB = "cdcdb"
STALL_S = 20.0   # a client that shows no progress for this long at a marker has stopped

# (name, stream_rows.cjs client argument)
CLIENTS = [
    ("@vlasky/zongji 0.9.0", "zongji:@vlasky/zongji"),
    ("@powersync/mysql-zongji 0.6.2", "zongji:@powersync/mysql-zongji"),
    ("mysqlrepl 1.0.5", "zongji:mysqlrepl"),
    ("zongji 0.5.1", "zongji:zongji"),
    ("@rodrigogs/zongji 0.4.14", "zongji:@rodrigogs/zongji"),
    ("@rodrigogs/mysql-events 0.6.0", "rodrigogs-mysql-events"),
    ("mysql-events 0.0.11", "mysql-events"),
    ("go-mysql-js 0.3.4", "go-mysql:go-mysql-js"),
    ("@solashi/go-mysql-binlog-node 0.0.6", "go-mysql:@solashi/go-mysql-binlog-node"),
]
# Clients whose tables end equal to the truth. The others are wrong on the MariaDB primary
# in the same way (asserted below); README.md says how.
CORRECT = {"@vlasky/zongji 0.9.0"}

JSON_DOCS = [{"a": [1, 2, {"b": None}], "c": "\u00fc"}, [], {}, "text", 42, [1, "two", 3.5],
             {"k\u4e2d": {"n": [True, False]}}]


def make_tables():
    a = ts.Table(DB, "t_a", [
        ts.c_int("id", pk=True), ts.c_varchar("s", 40), ts.c_decimal("d", 10, 2),
        ts.c_decimal("dw", 30, 10), ts.c_int("big", big=True, unsigned=True),
        ts.c_double("f"), ts.c_float("fl"), ts.c_datetime("dt", 3), ts.c_date("dd"),
        ts.c_enum("e", ["a", "b", "c"]), ts.c_set("st", ["x", "y", "z"]), ts.c_text("tx"),
        ts.c_bytes("vb", "VARBINARY(16)", ts.TP_VARCHAR, 16, 16),
        ts.c_intn("ti", ts.TP_TINY), ts.c_json("j")])
    a.col("j").choices = JSON_DOCS + [None]
    b = ts.Table(DB, "t_b", [ts.c_int("id", big=True, pk=True), ts.c_varchar("v", 20),
                             ts.c_int("n")])
    mark = ts.Table(DB, "t_mark", [ts.c_int("id", pk=True), ts.c_int("phase")])
    return types.SimpleNamespace(a=a, b=b, mark=mark)


# ---------------------------------------------------------------- clients

class Client:
    """One client process streaming one server: its JSON lines, collected by a thread."""

    def __init__(self, name, arg, server, port, user, password, first_file, server_id):
        self.name, self.server = name, server
        # DEBUG: go-mysql-js's wrapper logs what its Go process wrote to stderr
        env = dict(os.environ, TZ="UTC", DEBUG="mysql_binlog")
        self.proc = subprocess.Popen(
            ["node", os.path.join(NODE_DIR, "stream_rows.cjs"), arg, str(port), user, password,
             first_file, DB, str(server_id)], cwd=NODE_DIR, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        self.lines = []
        self.stderr = b""
        self.progress_at = time.monotonic()
        self.stalled_at = None      # the marker it never reported
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            try:
                ln = json.loads(raw)
            except ValueError:
                ln = {"garbage": raw.decode(errors="replace")}
            with self.lock:
                self.lines.append(ln)
                self.progress_at = time.monotonic()

    def _read_err(self):
        self.stderr = self.proc.stderr.read()

    def markers(self):
        with self.lock:
            return sum(1 for ln in self.lines if ln.get("t") == "t_mark" and ln.get("op") == "insert")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        time.sleep(0.2)


def wait_ready(c, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and c.proc.poll() is None:
        with c.lock:
            if any(ln.get("ready") for ln in c.lines):
                return
        time.sleep(0.05)


def wait_markers(clients, k, timeout=120):
    """Waits until every client has reported k markers; one that exits, or makes no
    progress for STALL_S once its server has delivered marker k (another client of that
    server reported it), is marked stalled at marker k and not waited for again. The stall
    clock starts at that delivery, not at the client's last line: a server that is slow to
    deliver (a busy machine) is no client's fault; one that never delivers fails the test
    at `timeout`."""
    deadline = time.monotonic() + timeout
    delivered = {}   # server -> when the first of its clients reported marker k
    while True:
        now = time.monotonic()
        for c in clients:
            if c.server not in delivered and c.markers() >= k:
                delivered[c.server] = now
        waiting = [c for c in clients if c.stalled_at is None and c.markers() < k]
        if not waiting:
            return
        for c in waiting:
            since = max(c.progress_at, delivered.get(c.server, now))
            if c.proc.poll() is not None or (c.server in delivered and now - since > STALL_S):
                c.stalled_at = k
        if now > deadline:
            for c in waiting:
                c.stalled_at = c.stalled_at or k
            return
        time.sleep(0.2)


# ---------------------------------------------------------------- the model

def apply_ddl(state, ddl):
    kind = ddl[0]
    if kind == "add":
        _, table, col, default = ddl
        for row in state.setdefault(table, {}).values():
            row[col] = default
    elif kind == "drop":
        _, table, col = ddl
        for row in state.setdefault(table, {}).values():
            row.pop(col, None)
    elif kind == "rename":
        _, old, new = ddl
        state[new] = state.pop(old, {})
    elif kind == "truncate":
        state[ddl[1]] = {}


def key_of(v):
    return str(unwrap(v))


def build_model(lines, ddls):
    """{table: {pk: row}} from a client's lines; ddls[k] runs after the k-th marker."""
    state = {}
    marks = 0
    for ln in lines:
        t = ln.get("t")
        if t is None:
            continue
        rows = state.setdefault(t, {})
        if ln["op"] == "insert":
            rows[key_of(ln["row"]["id"])] = ln["row"]
        elif ln["op"] == "update":
            rows.pop(key_of(ln["before"]["id"]), None)
            rows[key_of(ln["row"]["id"])] = ln["row"]
        else:
            rows.pop(key_of(ln["row"]["id"]), None)
        if t == "t_mark" and ln["op"] == "insert":
            marks += 1
            for d in ddls.get(marks, []):
                apply_ddl(state, d)
    return state


def parsed_json(v):
    """A JSON column as a document: the MySQL listener's decoded binary JSON, MariaDB's text
    (which go-mysql-js hands over in base64, as it does every TEXT)."""
    if isinstance(v, str):
        for text in (v, base64_text(v)):
            try:
                return json.loads(text)
            except (TypeError, ValueError):
                pass
    return v


def base64_text(v):
    try:
        return base64.b64decode(v, validate=True).decode("utf-8")
    except ValueError:
        return None


def comparable(model, json_cols):
    out = {}
    for t, rows in model.items():
        out[t] = {}
        for k, row in rows.items():
            r = dict(row)
            for c in json_cols.get(t, ()):
                if c in r:
                    r[c] = parsed_json(r[c])
            out[t][k] = r
    return out


# ---------------------------------------------------------------- truth comparison

def unwrap(v):
    """The value inside stream_rows.cjs's wrappers ({"$hex"}, {"$date"}, {"$bigint"},
    {"$class", "$value"})."""
    if isinstance(v, dict):
        for k in ("$hex", "$date", "$bigint", "$value"):
            if k in v:
                return v[k]
    return v


def close(a, b, rel):
    a, b = float(a), float(b)
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b))


def to_dt(v):
    v = unwrap(v)
    if not isinstance(v, str) or v == "invalid":
        return v
    s = v.rstrip("Z").replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(s, fmt)
        except ValueError:
            pass
    return v


def same_value(kind, truth, got):
    """A truth value (pymysql) and a client's value: equal as values, strictly (a lossy
    number, a shifted time or an encoded string is a difference)."""
    if truth is None or got is None:
        return truth is None and got is None
    v = unwrap(got)
    if kind == "int":
        return not isinstance(v, float) and str(v) == str(truth)
    if kind == "decimal":
        try:
            return decimal.Decimal(str(v)) == truth
        except decimal.InvalidOperation:
            return False
    if kind == "double":
        return isinstance(v, (int, float)) and close(truth, v, 1e-14)
    if kind == "float":
        return isinstance(v, (int, float)) and close(truth, v, 1e-6)
    if kind in ("datetime", "date"):
        if isinstance(truth, str):      # a zero date: pymysql leaves it as text
            return v == "invalid" or (isinstance(v, str) and v.startswith("0000"))
        want = truth if isinstance(truth, datetime.datetime) else datetime.datetime(
            truth.year, truth.month, truth.day)
        return to_dt(v) == want
    if kind == "bytes":
        return isinstance(got, dict) and "$hex" in got and bytes.fromhex(got["$hex"]) == truth
    if kind == "set":
        want = sorted(x for x in truth.split(",") if x) if isinstance(truth, str) else sorted(truth)
        if isinstance(v, str):
            return sorted(x for x in v.split(",") if x) == want
        return isinstance(v, list) and sorted(v) == want
    if kind == "json":
        return parsed_json(v) == json.loads(truth)
    return v == truth


def truth_differences(model, truth_tables, kinds):
    """Differences between a client's model and the truth: a list of short texts."""
    diffs = []
    for t, rows in truth_tables.items():
        got = model.get(t, {})
        if sorted(got) != sorted(rows):
            diffs.append("%s: keys %d in the client, %d in the truth" % (t, len(got), len(rows)))
            continue
        for k, trow in rows.items():
            crow = got[k]
            if set(crow) != set(trow):
                diffs.append("%s %s: columns %s vs %s" % (t, k, sorted(crow), sorted(trow)))
                continue
            for col, tv in trow.items():
                if not same_value(kinds[t][col], tv, crow[col]):
                    diffs.append("%s.%s: truth %r, client %r" % (t, col, tv, crow[col]))
    return diffs


def read_truth(truth, tables):
    conn = truth.connect(DB)
    try:
        with conn.cursor() as cur:
            cur.execute("SET time_zone = '+00:00'")
        out = {}
        for name in tables:
            with conn.cursor(pymysql.cursors.DictCursor) as cur:
                cur.execute("SELECT * FROM `%s`" % name)
                out[name] = {str(r["id"]): r for r in cur.fetchall()}
        return out
    finally:
        conn.close()


# ---------------------------------------------------------------- the test

def dml(sim, rng, tables, n=STATEMENTS):
    for _ in range(n):
        t = rng.choice(tables)
        op = rng.choices(["insert", "update", "delete"], [5, 3, 2])[0]
        if op != "insert" and len(sim.state[t.id].rows) < 4:
            op = "insert"
        sim.run_statement(t, op, rng.randint(1, 4))


def test_real_clients_equal_on_tirelay_and_a_mariadb_primary(node_modules, mariadb_instance,
                                                             tirelay, tmp_path):
    primary = mariadb_instance("truth", server_id=1, log_bin=True,
                               extra=["--binlog-format=ROW", "--binlog-row-image=FULL",
                                      "--binlog-row-metadata=FULL"])
    primary.create_user("tidb", "tidbpw")
    primary.create_user("repl", "pw")
    ports = ",".join(str(cluster.free_port()) for _ in range(2))
    sim = tidbsim.embedded(["--mysql-socket", primary.socket, "--mysql-user", "root",
                            "--cluster-id", "6789", "--pumps", "2", "--pump-ports", ports,
                            "--fake-interval", "0.5", "--seed", str(SEED),
                            "--gen-dir", str(tmp_path / "gen")])
    clients = []
    try:
        handle = types.SimpleNamespace(pumps=sim.pump_addrs, cluster_id=6789)
        relay = tirelay(handle, primary, max_binlog_size=64 * 1024, mariadb_listen=True)
        servers = [("tirelay MySQL listener", relay.port, "tirelay-bin.000001"),
                   ("tirelay MariaDB listener", relay.mariadb_port, "tirelay-bin.000001"),
                   ("MariaDB primary", primary.port, "mbin.000001")]
        for name, arg in CLIENTS:
            for server, port, first in servers:
                # each its own server_id: a primary ends the older dump of a server_id
                c = Client(name, arg, server, port, "repl", "pw", first, 3000 + len(clients))
                clients.append(c)
                if arg.startswith("go-mysql:"):
                    # go-mysql's canal takes its server_id from a generator seeded with the
                    # current second: one process a second, each connected before the next
                    wait_ready(c)
                    time.sleep(1.1)
        run_and_check(sim, primary, clients, servers)
    finally:
        for c in clients:
            c.stop()
        sim.close()


def run_and_check(sim, primary, clients, servers):
    rng = random.Random(SEED)
    T = make_tables()
    ddls = {}     # marker number -> the model DDL that follows it
    marks = 0

    def marker():
        nonlocal marks
        sim.run_statement(T.mark, "insert", 1)
        marks += 1
        wait_markers(clients, marks)

    sim.ddl_create_database(DB)
    for t in (T.a, T.b, T.mark):
        sim.ddl_create_table(t)
    dml(sim, rng, [T.a, T.b])
    marker()

    ddls[marks] = [("add", "t_a", "extra", "dflt")]
    sim.ddl_add_column(T.a, ts.c_varchar("extra", 10, default="dflt"))
    dml(sim, rng, [T.a, T.b])
    marker()

    ddls[marks] = [("drop", "t_a", "fl")]
    sim.ddl_drop_column(T.a, "fl")
    dml(sim, rng, [T.a, T.b])
    marker()

    ddls[marks] = [("rename", "t_b", "t_b2")]
    sim.ddl_rename_table(T.b, "t_b2")
    dml(sim, rng, [T.a, T.b])
    marker()

    ddls[marks] = [("truncate", "t_b2")]
    sim.ddl_truncate_table(T.b)
    dml(sim, rng, [T.a, T.b])
    marker()

    for c in clients:
        c.stop()
    truth = read_truth(primary, ["t_a", "t_b2", "t_mark"])
    kinds = {t.name: {c.name: c.kind for c in t.columns} for t in (T.a, T.b, T.mark)}
    json_cols = {"t_a": ["j"]}

    report = []
    failures = []
    by_name = {}
    for c in clients:
        by_name.setdefault(c.name, {})[c.server] = c
    for name, _ in CLIENTS:
        runs = by_name[name]
        models = {s: comparable(build_model(c.lines, ddls), json_cols) for s, c in runs.items()}
        control = runs["MariaDB primary"]
        diffs = truth_differences(models["MariaDB primary"], truth, kinds)
        cols = sorted({d.split(":")[0] for d in diffs})
        report.append("%s: differences from the truth: %s%s" % (
            name, ", ".join("%s (%d)" % (c, sum(d.split(":")[0] == c for d in diffs))
                            for c in cols) or "none",
            "".join("\n    e.g. " + d for d in
                    [next(d for d in diffs if d.split(":")[0] == c) for c in cols])))
        for server, _, _ in servers:
            c = runs[server]
            report.append("  %-24s %4d row changes%s" % (
                server + ":", sum(1 for ln in c.lines if "op" in ln),
                "" if c.stalled_at is None else ", stopped before marker %d: %s" % (
                    c.stalled_at, last_error(c))))
        for server, _, _ in servers[:2]:
            c = runs[server]
            if c.stalled_at != control.stalled_at:
                failures.append("%s on %s stopped at marker %s, on the primary at %s\n%s" % (
                    name, server, c.stalled_at, control.stalled_at, tail(c)))
            elif models[server] != models["MariaDB primary"]:
                failures.append("%s on %s: model differs from the primary's: %s" % (
                    name, server, first_model_difference(models[server],
                                                         models["MariaDB primary"])))
        if name in CORRECT:
            if diffs or control.stalled_at is not None:
                failures.append("%s: expected equal to the truth: %s" % (name, diffs[:5]))
        elif not diffs and control.stalled_at is None:
            failures.append("%s is equal to the truth now: move it to CORRECT and update the "
                            "README" % name)
    print("\n" + "\n".join(report))
    assert not failures, "\n".join(failures)


def last_error(c):
    errs = [ln.get("error") or ln.get("fatal") for ln in c.lines if "error" in ln or "fatal" in ln]
    return (errs[-1] if errs else "no error, no progress").splitlines()[0][:160]


def tail(c):
    return "%s\n%s" % (json.dumps(c.lines[-3:])[:1500], c.stderr.decode(errors="replace")[-1500:])


def first_model_difference(a, b):
    for t in sorted(set(a) | set(b)):
        ra, rb = a.get(t, {}), b.get(t, {})
        if sorted(ra) != sorted(rb):
            return "%s: keys only here %s, only on the primary %s" % (
                t, sorted(set(ra) - set(rb))[:5], sorted(set(rb) - set(ra))[:5])
        for k in ra:
            if ra[k] != rb[k]:
                cols = [c for c in set(ra[k]) | set(rb[k]) if ra[k].get(c) != rb[k].get(c)]
                return "%s %s: %s" % (t, k, {c: (ra[k].get(c), rb[k].get(c)) for c in cols})
    return "none"


# Clients that report no row values, and what each gets from every server: the same end.
HEADER_CLIENTS = [
    # never sets @master_binlog_checksum: a CRC32 binlog is refused (ERR 1236)
    ("mysql-binlog-emitter 0.0.16", "mysql-binlog-emitter", "can not handle replication events with the checksum"),
    ("mysql-event-emitter 1.0.8", "mysql-event-emitter", "can not handle replication events with the checksum"),
    # its COM_BINLOG_DUMP writer passes no encoding for the file name (a client-side throw)
    ("mysql2 3.26.1 createBinlogStream", "mysql2", "Encoding not recognized"),
]


def outcome(c):
    """A client's first error, its first line up to MariaDB's '; the first event ...' suffix."""
    for ln in c.lines:
        msg = ln.get("error") or ln.get("fatal")
        if msg:
            return msg.splitlines()[0].split(";")[0]
    return None


def test_clients_without_row_values_end_alike(node_modules, mariadb_instance, tidbsim,
                                              tirelay):
    primary = mariadb_instance("truth", server_id=1, log_bin=True,
                               extra=["--binlog-format=ROW"])
    primary.create_user("tidb", "tidbpw")
    primary.create_user("repl", "pw")
    sim = tidbsim(primary, seed=SEED, rows=300, fake_interval=1.0)
    relay = tirelay(sim, primary, mariadb_listen=True)
    sim.wait_done(120)
    servers = [("tirelay MySQL listener", relay.port, "tirelay-bin.000001"),
               ("tirelay MariaDB listener", relay.mariadb_port, "tirelay-bin.000001"),
               ("MariaDB primary", primary.port, "mbin.000001")]
    clients = []
    try:
        for name, arg, _ in HEADER_CLIENTS:
            for server, port, first in servers:
                clients.append(Client(name, arg, server, port, "repl", "pw", first,
                                      4000 + len(clients)))
        cluster.wait_until(lambda: all(outcome(c) for c in clients), 60,
                           what="every client ended")
    finally:
        for c in clients:
            c.stop()
    report = []
    for name, _, expect in HEADER_CLIENTS:
        runs = {c.server: c for c in clients if c.name == name}
        want = outcome(runs["MariaDB primary"])
        report.append("%s: %s" % (name, want))
        assert expect in want, (name, want)
        for server, _, _ in servers[:2]:
            assert outcome(runs[server]) == want, (name, server, outcome(runs[server]), want)
    print("\n" + "\n".join(report))
