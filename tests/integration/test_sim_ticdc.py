"""Tests of the simulator's TiCDC mode (tests/sim/ticdc.py, tests/sim/README.md) alone,
without tirelay: what it writes to the mock Kafka cluster (tests/tools/tr_kafka_mock) and
to a storage-sink directory is read back here independently (confluent-kafka, json, the
truth MariaDB's information_schema) and checked against shared/spec/ticdc.md and the
truth: every truth row is there with exact old images, DDL only on partition 0, watermarks
on every partition and never passed by a later row, the partition rules, the history lag,
shared commit_ts, each control-channel fault, and the storage layout.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_sim_ticdc.py
(needs tr_kafka_mock from the CMake build: cluster.build_dir() or $TR_KAFKA_MOCK_BIN).
"""

import collections
import datetime
import decimal
import json
import os
import re
import struct
import sys
import threading
import time
import zlib

import pytest
from confluent_kafka import Consumer, TopicPartition

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from conftest import wait_until  # noqa: E402

TOPIC = "cdc"
ROW_TYPES = ("INSERT", "UPDATE", "DELETE")


# ---------------------------------------------------------------- reading Kafka

class Msg:
    __slots__ = ("p", "off", "raw", "j", "kts")

    def __init__(self, p, off, raw, kts):
        self.p, self.off, self.raw, self.kts = p, off, raw, kts
        try:
            self.j = json.loads(raw)
        except ValueError:
            self.j = None

    @property
    def type(self):
        return None if self.j is None else self.j.get("type")

    @property
    def is_row(self):
        return self.j is not None and not self.j["isDdl"] and self.type in ROW_TYPES

    @property
    def is_ddl(self):
        return self.j is not None and self.j["isDdl"]

    @property
    def is_wm(self):
        return self.j is not None and self.type == "TIDB_WATERMARK"

    @property
    def cts(self):
        return self.j["_tidb"]["commitTs"]

    @property
    def wm(self):
        return self.j["_tidb"]["watermarkTs"]

    @property
    def table(self):
        return self.j["table"]

    def without_ts(self):
        """The message with its build time ("ts") blanked: a re-encoded copy compares equal."""
        return re.sub(rb',"ts":\d+,', b',"ts":0,', self.raw, count=1)


def read_topic(bootstrap, upto, topic=TOPIC, timeout=60):
    """Every message of each partition p from offset 0 through upto[p] (inclusive; -1:
    none): {p: [Msg]}."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "t-%d" % time.monotonic_ns(),
                  "enable.auto.commit": False, "log_level": 3})
    try:
        for p in range(len(upto)):
            # tr_kafka_mock keeps about 5 MiB per partition (rdkafka_mock.c): nothing trimmed
            low, _ = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            assert low == 0, "partition %d trimmed up to offset %d: a smaller workload" % (p, low)
        c.assign([TopicPartition(topic, p, 0) for p in range(len(upto))])
        out = {p: [] for p in range(len(upto))}
        deadline = time.monotonic() + timeout

        def missing():
            return [p for p in out if (out[p][-1].off if out[p] else -1) < upto[p]]

        while missing():
            assert time.monotonic() < deadline, "partitions %s short of %r" % (missing(), upto)
            m = c.poll(0.5)
            if m is None:
                continue
            assert m.error() is None, m.error()
            if m.offset() <= upto[m.partition()]:
                out[m.partition()].append(Msg(m.partition(), m.offset(), m.value(),
                                              m.timestamp()[1]))
        for p, lst in out.items():
            assert [m.off for m in lst] == list(range(upto[p] + 1)), "partition %d offsets" % p
        return out
    finally:
        c.close()


def settle(sim, timeout=120):
    """After the workload: waits until everything queued is out and a watermark passed the
    last commit, then returns (status, {p: last offset}) with the offsets stable."""
    st = sim.wait_done(timeout)

    def out():
        s = sim.status()
        t = s["ticdc"]
        if t["queued"] or t["last_watermark"] < s["last_commit_ts"]:
            return None
        if any(p["held"] for p in t["partition"]):
            return None
        return s

    st = wait_until(out, 60, what="the last watermark")
    return st, [p["last_offset"] for p in st["ticdc"]["partition"]]


# ---------------------------------------------------------------- the truth

class Truth:
    """The truth's tables read back through information_schema: columns in order with
    their types, primary keys, defaults; rows as canal-json would carry them."""

    def __init__(self, server, db):
        self.server, self.db = server, db
        self.cols = collections.OrderedDict()     # table -> [column dict]
        conn = server.connect()
        try:
            self._load(conn)
            self.jobs = history_jobs(conn)
        finally:
            conn.close()

    def _load(self, conn):
        db = self.db
        with conn.cursor() as cur:
            cur.execute("SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, NUMERIC_SCALE, "
                        "DATETIME_PRECISION, IS_NULLABLE, COLUMN_DEFAULT, EXTRA "
                        "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
                        "ORDER BY TABLE_NAME, ORDINAL_POSITION", (db,))
            for t, c, dt, ct, scale, fsp, nullable, dflt, extra in cur.fetchall():
                if "VIRTUAL" in (extra or "").upper():
                    continue                      # TiCDC never sends VIRTUAL columns
                self.cols.setdefault(t, []).append(dict(
                    name=c, data_type=dt.lower(), column_type=ct.lower(), scale=scale,
                    fsp=fsp, nullable=nullable == "YES", default=dflt))
            cur.execute("SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE "
                        "WHERE TABLE_SCHEMA = %s AND CONSTRAINT_NAME = 'PRIMARY'", (db,))
            self.pk = collections.defaultdict(set)
            for t, c in cur.fetchall():
                self.pk[t].add(c)
            cur.execute("SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
                        "WHERE CONSTRAINT_SCHEMA = %s", (db,))
            self.json_cols = collections.defaultdict(set)
            for t, clause in cur.fetchall():
                m = re.fullmatch(r"json_valid\(`([^`]+)`\)", clause)
                if m:
                    self.json_cols[t].add(m.group(1))

    def pk_names(self, t):
        """TiCDC's pkNames: the primary key's columns in column order."""
        return [c["name"] for c in self.cols[t] if c["name"] in self.pk[t]]

    def mysql_type(self, t, name):
        """canal-json's mysqlType for the column: the base type, unsigned, zerofill (JSON:
        MariaDB's LONGTEXT with a json_valid check)."""
        c = next(c for c in self.cols[t] if c["name"] == name)
        if name in self.json_cols[t]:
            return "json"
        return c["data_type"] + "".join(" " + w for w in ("unsigned", "zerofill")
                                        if w in c["column_type"].split())

    @staticmethod
    def text(c, v):
        """A truth value as canal-json writes it (spec section 4): ENUM as its index, SET
        as its bit mask, BIT as an integer (all three read as `col + 0`), bytes one char each
        (ISO-8859-1), FLOAT and DOUBLE compared as numbers (norm_floats)."""
        if v is None:
            return None
        dt = c["data_type"]
        if dt == "float":
            return repr(struct.unpack("<f", struct.pack("<f", float(v)))[0])
        if dt == "double":
            return repr(float(v))
        if isinstance(v, datetime.timedelta):
            us = v.days * 86400 * 10 ** 6 + v.seconds * 10 ** 6 + v.microseconds
            sign = "-" if us < 0 else ""
            secs, frac = divmod(abs(us), 10 ** 6)
            s = "%s%02d:%02d:%02d" % (sign, secs // 3600, secs // 60 % 60, secs % 60)
            if c["fsp"]:
                s += (".%06d" % frac)[:c["fsp"] + 1]
            return s
        if isinstance(v, bool):
            return str(int(v))
        if isinstance(v, int):
            return str(v)
        if isinstance(v, decimal.Decimal):
            return format(v, "f")
        if isinstance(v, datetime.datetime):
            s = "%04d-%02d-%02d %02d:%02d:%02d" % (v.year, v.month, v.day, v.hour, v.minute,
                                                   v.second)
            if c["fsp"]:
                s += (".%06d" % v.microsecond)[:c["fsp"] + 1]
            return s
        if isinstance(v, datetime.date):
            return "%04d-%02d-%02d" % (v.year, v.month, v.day)
        if isinstance(v, (bytes, bytearray)):
            return bytes(v).decode("latin-1")
        return str(v)

    def default_text(self, t, name):
        c = next(c for c in self.cols[t] if c["name"] == name)
        d = c["default"]
        if d is None or d == "NULL":
            return None
        return d[1:-1] if d.startswith("'") else d

    def rows(self, t):
        cols = self.cols[t]
        conn = self.server.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SET time_zone = '+00:00'")      # TiCDC --tz=UTC (spec 4)
                # a FLOAT through DOUBLE: its exact value, not the server's 6-digit text;
                # ENUM, SET and BIT as numbers: index, bit mask, value
                cur.execute("SELECT %s FROM `%s`.`%s`" % (",".join(
                    ("`%s` + 0e0" if c["data_type"] == "float" else
                     "`%s` + 0" if c["data_type"] in ("enum", "set", "bit") else "`%s`")
                    % c["name"] for c in cols), self.db, t))
                return [{c["name"]: self.text(c, v) for c, v in zip(cols, r)}
                        for r in cur.fetchall()]
        finally:
            conn.close()


def norm_floats(truth, j):
    """A message with its FLOAT and DOUBLE texts as Python reprs of the same numbers (Go
    writes them in fixed notation, spec correction 5), for comparison with Truth.text."""
    t = j["table"]
    kinds = {c["name"]: c["data_type"] for c in truth.cols.get(t, [])}
    fl = [n for n, k in kinds.items() if k in ("float", "double")]
    if not fl or j["isDdl"]:
        return j
    j = dict(j)
    for img in ("data", "old"):
        if j.get(img):
            r = dict(j[img][0])
            for n in fl:
                if r.get(n) is not None:
                    assert "e" not in r[n].lower(), ("exponent in a canal-json float", r[n])
                    x = float(r[n])
                    if kinds[n] == "float":
                        x = struct.unpack("<f", struct.pack("<f", x))[0]
                    r[n] = repr(x)
            j[img] = [r]
    return j


def canon(row):
    return tuple(sorted(row.items()))


class Model:
    """The tables rebuilt from row events applied in order: keyed by pkNames, or a multiset
    of whole rows without a primary key. Every UPDATE's old image and DELETE's image must
    be the current row."""

    def __init__(self):
        self.keyed = collections.defaultdict(dict)
        self.keyless = collections.defaultdict(collections.Counter)

    def apply(self, j):
        t, kind, pk = j["table"], j["type"], j["pkNames"]
        data = j["data"][0]
        old = j["old"][0] if j["old"] else None
        if pk:
            rows = self.keyed[t]
            key = tuple(data[n] for n in pk)
            if kind == "INSERT":
                assert key not in rows, ("insert of an existing key", t, key)
                rows[key] = data
            elif kind == "DELETE":
                assert rows.pop(key, None) == data, ("delete image is not the row", t, key)
            else:
                assert tuple(old[n] for n in pk) == key, "an UPDATE of the key was not split"
                assert rows.get(key) == old, ("update old image is not the row", t, key,
                                              rows.get(key), old)
                assert old != data
                rows[key] = data
        else:
            rows = self.keyless[t]
            if kind in ("DELETE", "UPDATE"):
                gone = canon(old if kind == "UPDATE" else data)
                assert rows[gone] > 0, ("no such keyless row", t, gone)
                rows[gone] -= 1
            if kind in ("INSERT", "UPDATE"):
                rows[canon(data)] += 1

    def add_column(self, t, name, value):
        for r in self.keyed[t].values():
            r[name] = value
        c = self.keyless[t]
        self.keyless[t] = collections.Counter({canon(dict(k, **{name: value})): n
                                               for k, n in c.items()})

    def check_against(self, truth, tables):
        for t in tables:
            want = truth.rows(t)
            if truth.pk[t]:
                pk = truth.pk_names(t)
                got = self.keyed[t]
                assert len(got) == len(want), (t, len(got), len(want))
                for r in want:
                    assert got.get(tuple(r[n] for n in pk)) == r, (t, r)
            else:
                got = +self.keyless[t]
                assert got == collections.Counter(canon(r) for r in want), t


ADD_COLUMN = re.compile(r"ADD COLUMN `([^`]+)`")


def replay(events, model, truth):
    """events: row and DDL messages (parsed JSON) sorted by commit_ts; DDL ADD COLUMN
    fills the existing rows with the truth's default."""
    for j in events:
        if j["isDdl"]:
            m = ADD_COLUMN.search(j["sql"])
            if m and j["table"] in truth.cols:
                model.add_column(j["table"], m.group(1), truth.default_text(j["table"], m.group(1)))
            continue
        model.apply(j)


def history_jobs(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT job_id, job_meta FROM mysql.tidb_ddl_history ORDER BY job_id")
        return [json.loads(meta) for _, meta in cur.fetchall()]


def added_columns(ddls):
    """{table: [(commit_ts, column)]} of the ADD COLUMN DDL messages."""
    out = collections.defaultdict(list)
    for m in ddls:
        a = ADD_COLUMN.search(m.j["sql"])
        if a:
            out[m.table].append((m.cts, a.group(1)))
    return out


def check_row_message(m, truth, added=None):
    """One row message against the truth's schema: the field order of
    newJSONMessageForDML, es, pkNames, sqlType and mysqlType keys = the columns (without
    those an ADD COLUMN after the row added: `added`), mysqlType values = the truth's types,
    old only on UPDATE, one image each."""
    j = m.j
    assert list(j) == ["id", "database", "table", "pkNames", "isDdl", "type", "es", "ts", "sql",
                       "sqlType", "mysqlType", "old", "data", "_tidb"], list(j)
    t = j["table"]
    later = {c for ts_, c in (added or {}).get(t, []) if ts_ > m.cts}
    names = [c["name"] for c in truth.cols[t] if c["name"] not in later]
    assert j["id"] == 0 and j["sql"] == "" and j["es"] == j["_tidb"]["commitTs"] >> 18
    assert list(j["_tidb"]) == ["commitTs"]
    assert j["pkNames"] == truth.pk_names(t)
    assert list(j["sqlType"]) == names, (t, list(j["sqlType"]))
    assert set(j["mysqlType"]) == set(names)
    for n, ty in j["mysqlType"].items():
        assert ty == truth.mysql_type(t, n), (t, n, ty)
    assert len(j["data"]) == 1 and list(j["data"][0]) == names
    if j["type"] == "UPDATE":
        assert len(j["old"]) == 1 and list(j["old"][0]) == names
    else:
        assert j["old"] is None
    assert all(v is None or isinstance(v, str) for v in j["data"][0].values())


def check_partition_order(parts, restarts=(), skip=()):
    """Per partition: watermarks never go down, no row or DDL at or below a watermark
    already seen comes later, each table's rows in commit_ts order.  restarts: watermark
    values a restart falls back to (a new delivery starts there); skip: (partition, offset)
    of messages sent again or on purpose out of line."""
    for p, msgs in parts.items():
        wm = 0
        last = {}
        for m in msgs:
            if (p, m.off) in skip:
                continue
            if m.is_wm:
                if m.wm < wm and m.wm in restarts:
                    wm = m.wm
                    last = {}
                    continue
                assert m.wm >= wm, (p, m.off, m.wm, wm)
                wm = max(wm, m.wm)
            elif m.is_row or m.is_ddl:
                assert m.cts > wm, ("row at or below a watermark seen before", p, m.off)
                if m.is_row:
                    assert m.cts >= last.get(m.table, 0), ("table order", p, m.off)
                    last[m.table] = m.cts


# ---------------------------------------------------------------- Kafka: the clean stream

def test_kafka_stream_against_truth(truth, kafka_mock, ticdc_sim):
    """Dispatch table: every truth row, exact images, DDL on partition 0 only with the
    history row readable --ticdc-history-lag after it, watermarks on every partition
    (idle ones too), the table hash of schema+table, the TiCDC message format."""
    lag = 0.3
    k = kafka_mock({TOPIC: 5})
    sim = ticdc_sim(truth, kafka=k, seed=21, rows=2500, history_lag=lag,
                    extra=["--shapes", "--alter", "--alter-rows", "1200",
                           "--late-ddl-rows", "800"])
    st, upto = settle(sim)
    t = st["ticdc"]
    assert t["sink"] == "kafka" and t["partitions"] == 5 and t["dispatch"] == "table"
    assert st["pumps"] == []
    parts = read_topic(k.bootstrap, upto)
    tr = Truth(truth, st["db"])
    jobs = tr.jobs

    rows = [m for p in parts for m in parts[p] if m.is_row]
    ddls = [m for p in parts for m in parts[p] if m.is_ddl]
    wms = [m for p in parts for m in parts[p] if m.is_wm]
    assert len(rows) + len(ddls) + len(wms) == sum(len(v) for v in parts.values()), "undecodable"
    assert len(rows) == t["rows"] and len(ddls) == t["ddls"] == st["ddls"]
    assert len(rows) > 1000

    # DDL: partition 0 only; a CREATE for every table; matched to its history job, whose
    # FinishedTS is above the event's commit_ts by at least the lag (spec correction 1)
    assert {m.p for m in ddls} == {0}
    for m in ddls:
        j = m.j
        assert list(j) == ["id", "database", "table", "pkNames", "isDdl", "type", "es", "ts",
                           "sql", "sqlType", "mysqlType", "data", "old", "_tidb"]
        assert j["pkNames"] is None and j["data"] is None and j["old"] is None
        assert j["es"] == m.cts >> 18 and list(j["_tidb"]) == ["commitTs"]
    creates = {m.table for m in ddls if m.type == "CREATE"}
    assert creates == set(tr.cols), (creates, set(tr.cols))
    assert [m.type for m in ddls].count("QUERY") == 1          # CREATE DATABASE
    assert sum(1 for m in ddls if m.type == "ALTER") == 2
    assert len(jobs) == len(ddls)
    for m, job in zip(sorted(ddls, key=lambda m: m.cts), jobs):
        assert job["query"] == m.j["sql"]
        fin = job["binlog"]["FinishedTS"]
        assert fin > m.cts and (fin >> 18) - (m.cts >> 18) >= lag * 1000 - 1, (fin, m.cts)

    # watermarks: every partition, also the idle ones, and the last passes every commit
    for p, msgs in parts.items():
        w = [m for m in msgs if m.is_wm]
        assert len(w) >= 3, p
        assert w[-1].wm >= st["last_commit_ts"]
        assert all(list(m.j["_tidb"]) == ["watermarkTs"] and m.j["database"] == "" for m in w)
    idle = [p for p, msgs in parts.items() if not any(m.is_row or m.is_ddl for m in msgs)]
    assert idle, "expected idle partitions with 5 partitions and these tables"
    check_partition_order(parts)

    # partitions: crc32 over schema then table name, mod 5 (dispatcher/partition/table.go)
    added = added_columns(ddls)
    assert sorted(len(v) for v in added.values()) == [1, 1]
    for m in rows:
        assert m.p == zlib.crc32((m.j["database"] + m.table).encode()) % 5
        check_row_message(m, tr, added)
    kinds = collections.Counter(m.type for m in rows)
    assert all(kinds[k] > 50 for k in ROW_TYPES), kinds

    # the truth, rebuilt in commit_ts order (rows of one commit_ts: per table in arrival order)
    events = sorted(rows + ddls, key=lambda m: (m.cts, m.p, m.off))
    model = Model()
    replay([m.j for m in events], model, tr)
    model.check_against(tr, tr.cols)
    assert tr.pk["t_nopk"] == set() and sum(model.keyless["t_nopk"].values()) > 0


def test_kafka_ts_dispatch_and_shared_commit_ts(truth, kafka_mock, ticdc_sim):
    """Dispatch ts (commit_ts mod partitions) and --ticdc-shared-ts-every: pairs of
    transactions on different tables share a commit_ts; the stream still rebuilds the truth."""
    k = kafka_mock({TOPIC: 3})
    sim = ticdc_sim(truth, kafka=k, dispatch="ts", shared_ts_every=3, seed=5, rows=1500,
                    rate=150)
    st, upto = settle(sim)
    t = st["ticdc"]
    assert t["partitions"] == 3 and t["dispatch"] == "ts"
    parts = read_topic(k.bootstrap, upto)
    tr = Truth(truth, st["db"])
    rows = [m for p in parts for m in parts[p] if m.is_row]
    ddls = [m for p in parts for m in parts[p] if m.is_ddl]
    assert {m.p for m in ddls} == {0}
    for m in rows:
        assert m.p == m.cts % 3
    assert len({m.p for m in rows}) == 3
    check_partition_order(parts)
    shared = t["shared_ts"]
    assert len(shared) >= 5, shared
    by_ts = collections.defaultdict(set)
    for m in rows:
        by_ts[m.cts].add(m.table)
    for s in shared:
        assert len(by_ts[s]) >= 2, ("a shared commit_ts with one table", s, by_ts[s])
    assert len(by_ts) < t["txns"]        # fewer commit_ts values than transactions
    model = Model()
    replay([m.j for m in sorted(rows + ddls, key=lambda m: (m.cts, m.p, m.off))], model, tr)
    model.check_against(tr, tr.cols)


def test_kafka_types_against_truth(truth, kafka_mock, ticdc_sim):
    """--types all: every column type's canal-json text (spec section 4) against the truth:
    signed and unsigned integers, BIT, FLOAT/DOUBLE in fixed notation, DECIMAL to scale,
    DATE/DATETIME/TIMESTAMP (UTC)/TIME with fsp digits and zero dates, YEAR, strings in
    several charsets, binary bytes as ISO-8859-1 chars, ENUM index, SET mask, JSON text,
    STORED generated columns sent and VIRTUAL ones not; mysqlType per column."""
    k = kafka_mock({TOPIC: 2})
    sim = ticdc_sim(truth, kafka=k, seed=13, rows=1500, extra=["--types", "all"])
    st, upto = settle(sim)
    parts = read_topic(k.bootstrap, upto)
    tr = Truth(truth, st["db"])
    rows = [m for p in parts for m in parts[p] if m.is_row]
    ddls = [m for p in parts for m in parts[p] if m.is_ddl]
    assert {m.table for m in rows} == set(tr.cols) and len(tr.cols) == 6
    for m in rows:
        check_row_message(m, tr)
    gen = tr.cols["t_ty_gen"]
    assert "v_twice" not in [c["name"] for c in gen] and "s_sum" in [c["name"] for c in gen]
    model = Model()
    replay([norm_floats(tr, m.j) for m in sorted(rows + ddls, key=lambda m: (m.cts, m.p, m.off))],
           model, tr)
    model.check_against(tr, tr.cols)
    # a few texts spelled out (spec 4): no exponent, unsigned 64-bit, zero dates
    seen = collections.defaultdict(set)
    for m in rows:
        for n, v in m.j["data"][0].items():
            if v is not None:
                seen[(m.table, n)].add(v)
    assert any(len(v) >= 39 for v in seen[("t_ty_num", "f")])           # 3.4e38 in full
    assert any(len(v) >= 309 for v in seen[("t_ty_num", "d")])          # 1.79e308 in full
    assert "18446744073709551615" in seen[("t_ty_num", "b64")]
    assert "0000-00-00" in seen[("t_ty_time", "d")]


# ---------------------------------------------------------------- Kafka: faults

def _runs(msgs, pred):
    """Lengths of the maximal runs of consecutive messages matching pred."""
    out, n = [], 0
    for m in msgs:
        if pred(m):
            n += 1
        elif n:
            out.append(n)
            n = 0
    if n:
        out.append(n)
    return out


def test_kafka_faults(truth, kafka_topic, ticdc_sim):
    """Every control-channel fault, on a running workload, as the README specifies."""
    sim = ticdc_sim(truth, kafka=kafka_topic, seed=8, txns=450, rate=60,
                    extra=["--ticdc-kafka-compression", "lz4"])
    wait_until(lambda: sim.status()["txns"] > 40, 60, what="workload under way")
    bs = kafka_topic.bootstrap

    # redeliver 3 4: the last 4 messages of partition 3 again, as they were
    time.sleep(0.3)
    n_re, re_off = map(int, sim.control("redeliver 3 4").split())
    assert n_re == 4 and re_off > 4

    # lag 2 3: partition 2 gets nothing for 3 s, then everything, in order
    t_lag = time.time()
    assert sim.control("lag 2 3") == ""
    time.sleep(0.4)                         # the status file is rewritten every 0.3 s
    mid1 = sim.ticdc_status()["partition"]
    time.sleep(0.7)
    mid2 = sim.ticdc_status()["partition"]
    assert time.time() - t_lag < 2.6, "too slow to observe the lag"
    assert mid2[2]["messages"] == mid1[2]["messages"], "partition 2 got messages while lagging"
    assert mid2[2]["held"] > mid1[2]["held"] > 0
    assert mid2[0]["messages"] > mid1[0]["messages"], "the other partitions go on"
    wait_until(lambda: sim.ticdc_status()["partition"][2]["held"] == 0, 10, what="lag over")

    # undecodable, unknown table, mysqlType different from the history's
    g_off, g_ts = map(int, sim.control("garbage 1").split())
    u_off, u_ts = map(int, sim.control("unknown-table 0").split())
    tm_off, tm_ts = map(int, sim.control("type-mismatch 1").split())

    # a transaction of 1500 rows; 1024-row batches, other tables' rows between them
    big_ts, big_n = map(int, sim.control("big-txn 1500").split())
    assert big_n == 1500
    # two identical rows of a keyless table in one transaction
    dup_ts = int(sim.control("dup-keyless"))

    # a restart from an older checkpoint (default), then one that replays exactly at the
    # last pending commit_ts
    from_ts, n_again = map(int, sim.control("ticdc-restart").split())
    assert n_again > 0
    at, n_exact = map(int, sim.control("ticdc-restart-exact").split())
    assert n_exact > 0 and at > from_ts

    st, upto = settle(sim, 300)
    t = st["ticdc"]
    parts = read_topic(bs, upto)
    tr = Truth(truth, st["db"])
    jobs = tr.jobs
    keyless = truth.execute("SELECT a, s, COUNT(*) FROM `%s`.t_cdc_keyless GROUP BY a, s"
                            % st["db"])

    # redeliver: 4 messages repeated back to back at the end of partition 3 at that time
    raws = [m.raw for m in parts[3]]
    assert raws[re_off:re_off + 4] == raws[re_off - 4:re_off], "redelivered messages"
    assert t["partition"][3]["resent"] >= 4

    # lag: messages built during the lag reached the broker >= ~3 s after their build time
    late = [m for m in parts[2] if m.j is not None and m.kts / 1000.0 >= t_lag
            and m.kts - m.j["ts"] >= 2500]
    assert any(m.is_wm for m in late), "no delayed watermark on the lagging partition"

    # garbage: not JSON at all
    assert parts[1][g_off].j is None and g_ts > 0
    # unknown table: a row for a table neither the truth nor the history knows
    u = parts[0][u_off]
    assert u.is_row and u.table == "t_cdc_unknown" and u.cts == u_ts
    assert "t_cdc_unknown" not in tr.cols
    assert not any(j.get("table_name") == "t_cdc_unknown" for j in jobs)
    # type mismatch: a known table, one column's mysqlType (and sqlType) disagree
    x = parts[1][tm_off]
    assert x.is_row and x.table in tr.cols and x.cts == tm_ts
    wrong = [n for n, ty in x.j["mysqlType"].items() if ty != tr.mysql_type(x.table, n)]
    assert len(wrong) == 1 and x.j["mysqlType"][wrong[0]] == "varchar"
    assert re.fullmatch(r"-?\d+", x.j["data"][0][wrong[0]])
    key = tuple(x.j["data"][0][n] for n in x.j["pkNames"])
    faults = {(1, g_off), (0, u_off), (1, tm_off)}

    # big transaction: 1500 inserts with one commit_ts on one partition, in batches of at
    # most 1024 with rows of other tables between them (t_orders and t_events share it)
    bp = zlib.crc32((st["db"] + "t_cdc_big").encode()) % 4
    big = [m for m in parts[bp] if m.is_row and m.table == "t_cdc_big"]
    first = [m for m in big if m.cts == big_ts]
    assert len({m.without_ts() for m in first}) == 1500 and {m.type for m in first} == {"INSERT"}
    first_pass = parts[bp][:max(m.off for m in first[:1500]) + 1]
    runs = _runs(first_pass, lambda m: m.is_row and m.table == "t_cdc_big")
    assert len(runs) >= 2 and max(runs) <= 1024 and sum(runs) == 1500, runs
    wm_before = [m.wm for m in first_pass if m.is_wm and m.off > first[0].off]
    assert all(w < big_ts for w in wm_before), "a watermark passed a partly sent transaction"

    # dup-keyless: two identical INSERTs in one commit_ts; the truth has both rows
    dp = zlib.crc32((st["db"] + "t_cdc_keyless").encode()) % 4
    dups = [m for m in parts[dp] if m.is_row and m.table == "t_cdc_keyless" and m.cts == dup_ts]
    assert len(dups) >= 2 and dups[0].j["pkNames"] == []
    assert [m.type for m in dups[:2]] == ["INSERT", "INSERT"] and dups[1].off == dups[0].off + 1
    assert dups[0].j["data"] == dups[1].j["data"] and dups[0].j["mysqlType"] == dups[1].j["mysqlType"]
    assert len(keyless) == 1 and keyless[0][2] == 2

    # restart: a watermark at from_ts on every partition after higher ones, then every row
    # above from_ts again (same content, a new build time)
    assert any(r["from_ts"] == from_ts and not r["exact"] for r in t["restarts"])
    for p, msgs in parts.items():
        i = next(i for i, m in enumerate(msgs) if m.is_wm and m.wm == from_ts
                 and any(o.is_wm and o.wm > from_ts for o in msgs[:i]))
        firsts = collections.Counter(m.without_ts() for m in msgs[:i] if (m.is_row or m.is_ddl)
                                     and m.cts > from_ts and (p, m.off) not in faults)
        again = collections.Counter(m.without_ts() for m in msgs[i + 1:]
                                    if (m.is_row or m.is_ddl) and m.cts > from_ts)
        for k_, n in firsts.items():
            assert again[k_] >= n, ("not replayed after the restart", p)
    # the exact restart: in each stream that had rows at `at`, the replay starts at `at`
    # right after rows at `at`: commit_ts does not go backwards there
    exact = [r for r in t["restarts"] if r["exact"]]
    assert exact and exact[0]["from_ts"] == at - 1
    seen_at = 0
    for p, msgs in parts.items():
        at_rows = [m for m in msgs if m.is_row and m.cts == at]
        if not at_rows:
            continue
        seen_at += 1
        copies = collections.Counter(m.without_ts() for m in at_rows)
        assert all(n >= 2 for n in copies.values()), ("not replayed", p)
        fb = next(m for m in msgs if m.is_wm and m.wm == at - 1)
        before = [m for m in msgs[:fb.off] if m.is_row and m.table == at_rows[0].table]
        assert before[-1].cts == at
    assert seen_at >= 1

    # watermarks fall back only at the restarts; rows never come at or below a watermark
    # of the same delivery (check_partition_order with the restart partitions excused)
    redelivered = {(3, o) for o in range(re_off, re_off + 4)}
    check_partition_order(parts, restarts=(from_ts, at - 1), skip=faults | redelivered)

    # keyed tables: the last image per key (duplicates carry identical images) is the truth
    last = {}
    for p, msgs in parts.items():
        for m in msgs:
            if not m.is_row or (p, m.off) in faults or not m.j["pkNames"]:
                continue
            k_ = (m.table, tuple(m.j["data"][0][n] for n in m.j["pkNames"]))
            cur = last.get(k_)
            if cur is None or m.cts > cur[0]:
                last[k_] = (m.cts, m.type, m.j["data"][0])
            elif m.cts == cur[0]:
                assert (m.type, m.j["data"][0]) == cur[1:], ("two images at one commit_ts", k_)
    for tname in tr.cols:
        if not tr.pk[tname]:
            continue
        pk = tr.pk_names(tname)
        want = {tuple(r[n] for n in pk): r for r in tr.rows(tname)}
        got = {k_[1]: v[2] for k_, v in last.items() if k_[0] == tname and v[1] != "DELETE"}
        assert got == want, tname
    assert (x.table, key) not in last


def test_fault_commands_need_their_sink(truth, tmp_path, ticdc_sim):
    """Kafka-only faults answer an error in storage mode; bad partitions too."""
    sim = ticdc_sim(truth, storage=tmp_path / "store", seed=3, txns=30)
    sim.wait_done(60)
    for cmd in ("redeliver 0 1", "lag 0 1", "garbage 0", "unknown-table 0", "type-mismatch 0"):
        with pytest.raises(RuntimeError, match="needs --ticdc-kafka"):
            sim.control(cmd)
    with pytest.raises(RuntimeError, match="more than 1024"):
        sim.control("big-txn 10")


# ---------------------------------------------------------------- storage sink

SCHEMA_RE = re.compile(r"^schema_(\d+)_(\d{10})\.json$")
DATA_RE = re.compile(r"^CDC(\d{20})\.json$")


def go_indent(obj):
    return json.dumps(obj, ensure_ascii=False, indent=4, separators=(",", ": "))


def read_storage(root, db):
    """{table: {"schemas": {version: def}, "files": [(version, date, n, lines)]}}, the
    database schema files, and the checkpoint."""
    with open(os.path.join(root, "metadata")) as f:
        meta = json.load(f)
    assert list(meta) == ["checkpoint-ts"]
    dbmeta = sorted(os.listdir(os.path.join(root, db, "meta")))
    out = {}
    for t in sorted(os.listdir(os.path.join(root, db))):
        if t == "meta":
            continue
        tdir = os.path.join(root, db, t)
        info = out[t] = {"schemas": {}, "files": []}
        for name in os.listdir(os.path.join(tdir, "meta")):
            m = SCHEMA_RE.match(name)
            assert m, name
            with open(os.path.join(tdir, "meta", name), "rb") as f:
                raw = f.read()
            d = json.loads(raw)
            assert d["TableVersion"] == int(m.group(1)) and d["Version"] == 1
            # the checksum: crc32 of the definition without Query/Type/TableVersion, a zero
            # Version and the columns sorted by name (table_definition.go, correction 2)
            bare = {"Table": d["Table"], "Schema": d["Schema"], "Version": 0,
                    "TableColumns": sorted(d["TableColumns"], key=lambda c: c["ColumnName"]),
                    "TableColumnsTotal": d["TableColumnsTotal"]}
            assert int(m.group(2)) == zlib.crc32(go_indent(bare).encode()), name
            assert raw.decode() == go_indent(d)
            info["schemas"][d["TableVersion"]] = d
        for ver in os.listdir(tdir):
            if ver == "meta":
                continue
            vdir = os.path.join(tdir, ver)
            for ddir, subdirs, files in os.walk(vdir):
                names = sorted(n for n in files)
                if not names:
                    continue
                if os.path.basename(ddir) == "meta":
                    assert names == ["CDC.index"], (ddir, names)
                    continue
                sub = os.path.relpath(ddir, vdir)         # [<physical id>/][<date>] or "."
                nums = []
                for n in names:
                    m = DATA_RE.match(n)
                    assert m, n
                    nums.append(int(m.group(1)))
                    with open(os.path.join(ddir, n), "rb") as f:
                        body = f.read()
                    assert body.endswith(b"\r\n")
                    lines = body[:-2].split(b"\r\n")
                    info["files"].append((int(ver), sub, nums[-1], [json.loads(x) for x in lines]))
                assert nums == list(range(1, len(nums) + 1)), (ddir, nums)
                with open(os.path.join(ddir, "meta", "CDC.index")) as f:
                    assert f.read() == names[-1] + "\n"
    return meta["checkpoint-ts"], dbmeta, out


def check_storage(root, st, truth, today):
    """The layout of spec 2.1 and the rows against the truth; returns (rows by table,
    checkpoint)."""
    ckpt, dbmeta, tables = read_storage(root, st["db"])
    assert ckpt >= st["last_commit_ts"]
    tr = Truth(truth, st["db"])
    jobs = tr.jobs
    assert len(dbmeta) == 1 and SCHEMA_RE.match(dbmeta[0])
    with open(os.path.join(root, st["db"], "meta", dbmeta[0])) as f:
        d = json.load(f)
    assert d["Table"] == "" and d["TableColumns"] is None and d["Type"] == 1
    assert d["Query"].startswith("CREATE DATABASE")
    assert set(tables) == set(tr.cols)
    for walk_root, _, files in os.walk(root):
        assert not any(".tmp." in f for f in files), (walk_root, files)
    events = []
    for t, info in tables.items():
        vers = sorted(info["schemas"])
        first = info["schemas"][vers[0]]
        assert first["Type"] == 3 and first["Query"].startswith("CREATE TABLE")
        last = info["schemas"][vers[-1]]
        assert [c["ColumnName"] for c in last["TableColumns"]] == [c["name"] for c in tr.cols[t]]
        for c in last["TableColumns"]:
            want = tr.mysql_type(t, c["ColumnName"]).upper()
            assert c["ColumnType"] == want, (t, c)
            assert (c.get("ColumnIsPk") == "true") == (c["ColumnName"] in tr.pk[t])
        # TableVersion = the DDL event's commit_ts, below its history job's FinishedTS
        for v, d in info["schemas"].items():
            job = next(j for j in jobs if j["query"] == d["Query"])
            assert job["binlog"]["FinishedTS"] > v
            events.append((v, 0, {"isDdl": True, "sql": d["Query"], "table": t}))
        for ver, date, n, lines in info["files"]:
            assert ver in info["schemas"] and date == today
            prev = 0
            for j in lines:
                assert j["table"] == t and j["type"] in ROW_TYPES and j["_tidb"]["commitTs"] <= ckpt
                assert j["_tidb"]["commitTs"] >= prev
                prev = j["_tidb"]["commitTs"]
                # the rows of a version directory come after its DDL
                assert j["_tidb"]["commitTs"] > ver
                events.append((j["_tidb"]["commitTs"], 1, j))
    return tables, tr, events


def settle_storage(sim, timeout=120):
    """settle() for the storage sink: the metadata checkpoint passed the last commit."""
    sim.wait_done(timeout)

    def out():
        s = sim.status()
        t = s["ticdc"]
        ok = not t["queued"] and t["storage"]["checkpoint_ts"] >= s["last_commit_ts"]
        return s if ok else None

    return wait_until(out, 60, what="the last checkpoint"), None


def test_storage_classic_against_truth(truth, tmp_path, ticdc_sim):
    """The classic layout: metadata, schema files with their checksums, version and date
    directories, CDC<20 digits>.json with CRLF lines, meta/CDC.index; the rows rebuild the
    truth; a new version directory after ADD COLUMN."""
    root = tmp_path / "store"
    sim = ticdc_sim(truth, storage=root, seed=31, rows=2000, flush_interval=0.3,
                    extra=["--shapes", "--alter", "--alter-rows", "900", "--late-ddl-rows", "500"])
    st, _ = settle_storage(sim)
    assert st["ticdc"]["storage"]["layout"] == "classic"
    tables, tr, events = check_storage(str(root), st, truth, time.strftime("%Y-%m-%d"))
    assert sum(len(i["schemas"]) for i in tables.values()) == st["ddls"] - 1
    assert len(tables["t_orders"]["schemas"]) == 2              # CREATE, ADD COLUMN
    assert len({v for v, _, _, _ in tables["t_orders"]["files"]}) == 2
    assert sum(len(f[3]) for i in tables.values() for f in i["files"]) == st["ticdc"]["rows"]
    model = Model()
    replay([j for _, _, j in sorted(events, key=lambda e: (e[0], e[1]))], model, tr)
    model.check_against(tr, tr.cols)




def test_storage_new_layout_and_restart(truth, tmp_path, ticdc_sim):
    """The new architecture's order (the data file before its index: an index never names
    a missing file), atomic renames (no partial data file is ever visible), no date
    directory, and a restart: the rows above its checkpoint again in the next file numbers."""
    root = tmp_path / "store"
    sim = ticdc_sim(truth, storage=root, layout="new", date_separator="none", seed=9,
                    txns=500, rate=100, flush_interval=0.2)
    stop = threading.Event()
    problems = []
    looks = [0]

    snapshots = []          # (checkpoint read first, the row lines visible right after)

    def line_key(line):
        return re.sub(rb',"ts":\d+,', b',"ts":0,', line, count=1)

    def watch():
        while not stop.is_set():
            snap = looks[0] % 10 == 0
            ckpt = None
            if snap:
                try:
                    with open(os.path.join(str(root), "metadata")) as fh:
                        ckpt = json.load(fh)["checkpoint-ts"]
                except FileNotFoundError:
                    pass
            seen = set()
            for d, _, files in os.walk(str(root)):
                for f in files:
                    path = os.path.join(d, f)
                    try:
                        if f == "CDC.index":
                            with open(path) as fh:
                                name = fh.read().strip()
                            if name and not os.path.exists(os.path.join(os.path.dirname(d), name)):
                                problems.append("index names a missing file: " + path)
                        elif DATA_RE.match(f):
                            with open(path, "rb") as fh:
                                body = fh.read()
                            if not body.endswith(b"\r\n"):
                                problems.append("partial data file: " + path)
                            elif ckpt is not None:
                                seen.update(line_key(x) for x in body[:-2].split(b"\r\n"))
                    except FileNotFoundError:
                        pass
            if ckpt is not None:
                snapshots.append((ckpt, seen))
            looks[0] += 1
            time.sleep(0.005)

    w = threading.Thread(target=watch, daemon=True)
    w.start()
    try:
        wait_until(lambda: sim.status()["txns"] > 200, 60, what="workload under way")
        from_ts, n = map(int, sim.control("ticdc-restart").split())
        assert n > 0
        st, _ = settle_storage(sim)
    finally:
        stop.set()
        w.join(10)
    assert not problems, problems[:5]
    assert looks[0] > 50
    # spec 2.3: whenever metadata said C, every row with commit_ts <= C was already in a file
    final = []
    for d, _, files in os.walk(str(root)):
        for f in files:
            if DATA_RE.match(f):
                with open(os.path.join(d, f), "rb") as fh:
                    final += [(json.loads(x)["_tidb"]["commitTs"], line_key(x))
                              for x in fh.read()[:-2].split(b"\r\n")]
    assert len(snapshots) > 5 and len({c for c, _ in snapshots}) > 3
    for c, seen in snapshots:
        missing = [k for cts, k in final if cts <= c and k not in seen]
        assert not missing, ("a checkpoint passed rows not yet in files", c, missing[:2])
    ckpt, _, tables = read_storage(str(root), st["db"])
    copies = collections.defaultdict(list)   # row line -> [(table, version, file number)]
    for t, info in tables.items():
        for ver, date, num, lines in info["files"]:
            assert date == "."                       # no date directory
            for j in lines:
                copies[json.dumps(dict(j, ts=0), sort_keys=True)].append((t, ver, num))
    # rows written before the restart with commit_ts above its checkpoint: twice, the copy
    # in a later file of the same directory; nothing else twice
    twice = {k: v for k, v in copies.items() if len(v) > 1}
    assert len(twice) == n
    for k, v in twice.items():
        assert json.loads(k)["_tidb"]["commitTs"] > from_ts
        assert len(v) == 2 and v[0][:2] == v[1][:2] and v[1][2] > v[0][2], v
    # and the truth, once the copies are dropped
    tr = Truth(truth, st["db"])
    events = sorted(((json.loads(k)["_tidb"]["commitTs"], json.loads(k)) for k in copies),
                    key=lambda e: e[0])
    model = Model()
    replay([j for _, j in events], model, tr)
    model.check_against(tr, tr.cols)
    assert ckpt >= st["last_commit_ts"]
