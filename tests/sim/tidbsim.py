#!/usr/bin/python3
"""tidbsim: a TiDB + Pump simulator for tirelay's tests and demo.

What it does
  * serves /binlog.Pump/PullBinlogs (shared/spec/tidb-binlog.md section 2) on
    127.0.0.1, one gRPC server per simulated Pump, each with its own storage;
  * plays TiDB's SQL endpoint through a real MariaDB (the "truth"): keeps
    mysql.tidb_ddl_history there and applies every simulated transaction to
    it as SQL, one SQL transaction per TiDB transaction;
  * runs a seeded random workload (DDL, then multi-table INSERT/UPDATE/DELETE
    transactions) and publishes each transaction as a TiDB C-binlog encoded
    exactly as TiDB does (tidbcodec.py, section 4), after the truth commit,
    in the same order;
  * emits a fake binlog (tp=Rollback, start_ts=commit_ts=fresh TSO) on every
    Pump that saw no write for --fake-interval seconds (section 5.1);
  * writes a JSON status file (pump addresses, progress, done flag);
  * with --etcd, registers every Pump in etcd as TiDB Binlog does
    (/tidb-binlog/v1/pumps/<nodeId>, Status JSON, maxCommitTS heartbeats;
    section 6.1) and, with --control-dir, obeys command files that pause,
    resume, take offline (closing -> offline once every live drainer's
    maxCommitTS has caught up, section 5.3), kill or restart one Pump;
  * with --control-dir, also "freeze 0" / "thaw 0": the workload stops
    between two transactions (truth and Pumps agree: a TSO boundary) and the
    answer ("ok <tso> <last commit_ts>") is a fresh TSO above every commit so far, as Dumpling takes a
    snapshot TSO from PD; a dump of the truth taken while frozen is the
    snapshot at that TSO (the runbook test); --start-frozen freezes before
    the first transaction, so a test can attach its readers before any row.
  * with --control-dir, also bad input on purpose (tests/integration/test_bad_input.py): `garbage N` (a
    payload that is no Binlog), `replay N` (an earlier DML commit sent again,
    commit_ts going backwards), `bad-ddl N` (a DDL binlog whose history row is
    not JSON; only once the workload is done: it uses the truth connection).

  * with --ticdc-kafka or --ticdc-storage (ticdc.py, tests/sim/README.md), TiDB >= 8.4:
    no Pumps; the same workload goes out as a TiCDC changefeed would send it (canal-json
    with the TiDB extension to a Kafka topic, or the storage-sink layout in a directory),
    with TiCDC's faults on demand through --control-dir.

What it must not do: look at tirelay's C code or depend on it; bind anything
other than 127.0.0.1.  Encodings come from the spec and the pingcap/tidb and
pingcap/tidb-binlog sources it cites.
"""

import argparse
import base64
import bisect
import concurrent.futures
import datetime
import decimal
import faulthandler
import json
import os
import random
import signal
import struct
import sys
import threading
import time
import urllib.request

import grpc
import pymysql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protogen  # noqa: E402
import tidbcodec as codec  # noqa: E402
import tidbschema as ts  # noqa: E402

binlog_pb2 = None
pump_pb2 = None

HISTORY_DDL = """CREATE TABLE IF NOT EXISTS mysql.tidb_ddl_history (
  job_id BIGINT NOT NULL PRIMARY KEY,
  job_meta LONGBLOB,
  db_name CHAR(64),
  table_name CHAR(64),
  schema_ids VARCHAR(512),
  table_ids VARCHAR(512),
  create_time DATETIME)"""


def log(msg):
    sys.stderr.write("tidbsim: %s %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


class Tso:
    """PD's timestamp oracle: physical_ms << 18 | logical, strictly increasing."""

    def __init__(self):
        self.lock = threading.Lock()
        self.last = 0

    def next(self):
        with self.lock:
            now = codec.tso_compose(int(time.time() * 1000), 0)
            self.last = now if now > self.last else self.last + 1
            return self.last


class Etcd:
    """The few etcd v3 calls a Pump makes, through etcd's HTTP/JSON gateway."""

    def __init__(self, url):
        self.url = url.rstrip("/")

    def _post(self, path, body):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=3) as r:
            return json.loads(r.read())

    @staticmethod
    def _b64(x):
        return base64.b64encode(x if isinstance(x, bytes) else x.encode()).decode()

    def put(self, key, value):
        self._post("/v3/kv/put", {"key": self._b64(key), "value": self._b64(value)})

    def prefix(self, prefix):
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        r = self._post("/v3/kv/range", {"key": self._b64(prefix), "range_end": self._b64(end)})
        return [(base64.b64decode(kv["key"]).decode(), base64.b64decode(kv.get("value", "")))
                for kv in r.get("kvs", [])]


class Pump:
    """One simulated Pump: an ordered store of C-binlogs and its gRPC server."""

    def __init__(self, idx, cluster_id, port):
        self.idx = idx
        self.node_id = "pump-%d" % idx
        self.state = "online"    # etcd state (section 5.3)
        self.dead = False        # killed: no serving, no heartbeats, etcd says online
        self.cluster_id = cluster_id
        self.cond = threading.Condition()
        self.commit_ts = []      # sorted
        self.resps = []          # serialized PullBinlogResp, same order
        self.max_commit_ts = 0   # highest stored commit_ts (fake binlogs included)
        self.last_write = time.monotonic()
        self.port = port
        self.server = None
        self._make_server()

    def _make_server(self):
        port = self.port
        self.server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=32),
                                  options=[("grpc.max_send_message_length", -1),
                                           ("grpc.max_receive_message_length", 1 << 30)])
        handler = grpc.method_handlers_generic_handler("binlog.Pump", {
            "PullBinlogs": grpc.unary_stream_rpc_method_handler(
                self.pull_binlogs,
                request_deserializer=pump_pb2.PullBinlogReq.FromString,
                response_serializer=lambda b: b),
        })
        self.server.add_generic_rpc_handlers((handler,))
        self.port = self.server.add_insecure_port("127.0.0.1:%d" % port)
        if self.port == 0:
            raise RuntimeError("cannot bind 127.0.0.1:%d" % port)

    @property
    def serving(self):
        return self.server is not None

    def start(self):
        if self.server is None:
            self._make_server()
        self.server.start()

    def stop(self):
        if self.server is not None:
            self.server.stop(0.5).wait()
            self.server = None

    def status_json(self):
        return json.dumps({"nodeId": self.node_id, "host": "127.0.0.1:%d" % self.port,
                           "state": self.state, "isAlive": self.state == "online", "score": 0,
                           "label": None, "maxCommitTS": self.max_commit_ts,
                           "updateTS": codec.tso_compose(int(time.time() * 1000), 0)})

    def append(self, binlog):
        """Stores one binlog (caller holds the publish lock, so commit_ts only grows)."""
        resp = pump_pb2.PullBinlogResp()
        ent = resp.entity
        ent.pos.SetInParent()          # present but empty: 0A 00 (spec 2.3)
        ent.payload = binlog.SerializeToString()
        ent.meta.startTs = binlog.start_ts
        ent.meta.commitTs = binlog.commit_ts
        data = resp.SerializeToString()
        with self.cond:
            if self.commit_ts and binlog.commit_ts <= self.commit_ts[-1]:
                raise RuntimeError("pump %d: commit_ts not increasing" % self.idx)
            self.commit_ts.append(binlog.commit_ts)
            self.resps.append(data)
            self.max_commit_ts = binlog.commit_ts
            self.last_write = time.monotonic()
            self.cond.notify_all()

    def append_raw(self, payload, commit_ts):
        """Bad input on purpose (control commands garbage/replay): stores a PullBinlogResp
        carrying payload as is. The stream position stays monotonic (commit_ts is the
        position recorded for resumption, whatever the payload says)."""
        resp = pump_pb2.PullBinlogResp()
        ent = resp.entity
        ent.pos.SetInParent()
        ent.payload = payload
        ent.meta.commitTs = commit_ts
        data = resp.SerializeToString()
        with self.cond:
            self.commit_ts.append(max(commit_ts, self.commit_ts[-1] if self.commit_ts else 0))
            self.resps.append(data)
            self.max_commit_ts = max(self.max_commit_ts, commit_ts)
            self.last_write = time.monotonic()
            self.cond.notify_all()

    def pull_binlogs(self, req, context):
        if req.clusterID != self.cluster_id:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                          "cluster ID are mismatch, pump cluster ID: %d, request cluster ID: %d"
                          % (self.cluster_id, req.clusterID))
        offset = req.startFrom.offset
        with self.cond:
            i = bisect.bisect_right(self.commit_ts, offset)
        log("pump %d: PullBinlogs from %d (%d stored after it)" % (self.idx, offset, len(self.resps) - i))
        while context.is_active():
            with self.cond:
                if i >= len(self.resps):
                    self.cond.wait(0.2)
                batch = self.resps[i:]
            for data in batch:
                yield data
            i += len(batch)


class TableState:
    """In-memory rows of one table, keyed by PK, with O(1) random choice."""

    def __init__(self, table):
        self.table = table
        self.rows = {}
        self.keys = []
        self.pos = {}
        self.next_rowid = 0      # _tidb_rowid allocator (tables without a primary key)

    def put(self, pk, row):
        if pk not in self.rows:
            self.pos[pk] = len(self.keys)
            self.keys.append(pk)
        self.rows[pk] = row

    def remove(self, pk):
        del self.rows[pk]
        i = self.pos.pop(pk)
        last = self.keys.pop()
        if i < len(self.keys):
            self.keys[i] = last
            self.pos[last] = i


ALPHABET = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            + [" ", "_", "-", "'", '"', "\\", "%", "\t", "é", "ü", "ß", "中", "文", "€", "😀", "🚀"])


class Generator:
    """Seeded random values per column kind."""

    def __init__(self, rng):
        self.rng = rng

    def int_value(self, c):
        r = self.rng
        bits = {ts.TP_TINY: 8, ts.TP_SHORT: 16, ts.TP_INT24: 24, ts.TP_LONGLONG: 64}.get(c.tp, 32)
        if c.unsigned:
            lo, hi = 0, (1 << bits) - 1
        else:
            lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        x = r.random()
        if x < (0.12 if c.types_table else 0.05):
            return r.choice([lo, hi, 0, 1])
        if x < 0.5:
            return r.randint(max(lo, -1000), min(hi, 100000))
        return r.randint(lo, hi)

    def str_value(self, c):
        r = self.rng
        if c.types_table and c.needs_restored_data and c.pk:
            # a _ci clustered key: lower-case ASCII, so values never collide case-insensitively
            # and the handle's sort key (upper case) differs from the value in every row
            return "".join(r.choice("abcdefghijklmnopqrstuvwxyz0123456789-") for _ in
                           range(r.randint(1, min(c.maxlen, 16))))
        n = c.maxlen
        x = r.random()
        if x < 0.05:
            return ""
        if c.tp == ts.TP_BLOB and x > 0.97:
            length = r.randint(1000, 5000)
        else:
            length = r.randint(1, min(n, 60) if x < 0.8 else n)
        s = "".join(r.choice(ALPHABET) for _ in range(length))
        # no trailing spaces: CHAR strips them (MySQL and TiDB alike)
        return s.rstrip(" \t") or "x"

    def decimal_value(self, c):
        r = self.rng
        intg, frac = c.flen - c.decimal, c.decimal
        x = r.random()
        if x < 0.03:
            digits = "9" * intg + "9" * frac
        elif x < 0.06:
            digits = "0" * (intg + frac)
        else:
            ni = r.randint(0, min(intg, 12) if x < 0.8 else intg)
            digits = "".join(r.choice("0123456789") for _ in range(ni)).rjust(intg, "0")
            digits += "".join(r.choice("0123456789") for _ in range(frac))
        s = digits[:intg] + ("." + digits[intg:] if frac else "")
        v = decimal.Decimal(s)
        if r.random() < 0.35 and v != 0:
            v = v.copy_negate()          # exact: no context rounding (DECIMAL(65,30))
        return v

    def datetime_value(self, c):
        r = self.rng
        x = r.random()
        if x < 0.02:
            dt = datetime.datetime(1000, 1, 1, 0, 0, 0)
        elif x < 0.04:
            dt = datetime.datetime(9999, 12, 31, 23, 59, 59, 999999)
        else:
            year = r.randint(1000, 9999) if x < 0.1 else r.randint(1990, 2035)
            dt = datetime.datetime(year, r.randint(1, 12), r.randint(1, 28), r.randint(0, 23),
                                   r.randint(0, 59), r.randint(0, 59), r.randint(0, 999999))
        unit = 10 ** (6 - c.decimal)
        return dt.replace(microsecond=dt.microsecond - dt.microsecond % unit)

    # ---- the --types tables

    def bit_value(self, c):
        r = self.rng
        hi = (1 << c.flen) - 1
        return r.choice([0, hi, 1, 1 << (c.flen - 1)]) if r.random() < 0.2 else r.randint(0, hi)

    def float_value(self, c):
        r = self.rng
        x = r.random()
        if x < 0.1:
            f = r.choice([0.0, 1.0, -1.0, 3.4028234663852886e38, -3.4028234663852886e38,
                          1.1754943508222875e-38, 0.1, 16777217.0])
        elif x < 0.5:
            f = r.uniform(-1e6, 1e6)
        else:
            f = r.uniform(-1, 1) * 10.0 ** r.randint(-30, 37)
        return struct.unpack("<f", struct.pack("<f", f))[0]     # float32-exact

    def double_value(self, c):
        r = self.rng
        x = r.random()
        if x < 0.1:
            return r.choice([0.0, 1.0, -1.0, 1.7976931348623157e308, -1.7976931348623157e308,
                             2.2250738585072014e-308, 0.1, 9007199254740993.0])
        if x < 0.5:
            return r.uniform(-1e9, 1e9)
        return r.uniform(-1, 1) * 10.0 ** r.randint(-300, 300)

    def date_value(self, c):
        r = self.rng
        x = r.random()
        if x < 0.05:
            return "0000-00-00"
        if x < 0.1:
            return r.choice([datetime.date(1000, 1, 1), datetime.date(9999, 12, 31),
                             datetime.date(1, 1, 1), datetime.date(2024, 2, 29)])
        return datetime.date(r.randint(1000, 9999), r.randint(1, 12), r.randint(1, 28))

    def _fsp(self, c, dt):
        unit = 10 ** (6 - c.decimal)
        return dt.replace(microsecond=dt.microsecond - dt.microsecond % unit)

    def datetime_types_value(self, c):
        r = self.rng
        x = r.random()
        if x < 0.05:
            return "0000-00-00 00:00:00"
        if x < 0.1:
            return self._fsp(c, r.choice([datetime.datetime(1000, 1, 1),
                                          datetime.datetime(9999, 12, 31, 23, 59, 59, 999999),
                                          datetime.datetime(1, 1, 1, 0, 0, 0, 1)]))
        return self.datetime_value(c)

    def timestamp_value(self, c):
        """UTC (the truth session and the replicas' readers use time_zone '+00:00')."""
        r = self.rng
        x = r.random()
        if x < 0.05:
            return "0000-00-00 00:00:00"
        if x < 0.1:
            dt = r.choice([datetime.datetime(1970, 1, 1, 0, 0, 1),
                           datetime.datetime(2038, 1, 19, 3, 14, 7, 999999)])
        else:
            secs = r.randint(1, (1 << 31) - 1)
            dt = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=secs,
                                                                    microseconds=r.randint(0, 999999))
            if dt > datetime.datetime(2038, 1, 19, 3, 14, 7):
                dt = dt.replace(microsecond=0)
        return self._fsp(c, dt)

    def time_value(self, c):
        """nanoseconds, whole microseconds, within -838:59:59..838:59:59."""
        r = self.rng
        x = r.random()
        limit = 838 * 3600 + 59 * 60 + 59
        if x < 0.1:
            secs, us = r.choice([(0, 0), (limit, 0), (-limit, 0), (24 * 3600, 0), (-1, 0),
                                 (0, 1), (limit - 1, 999999)])
            us = us - us % 10 ** (6 - c.decimal)
            v = secs * 1000000 + (us if secs >= 0 else -us)
        else:
            unit = 10 ** (6 - c.decimal)
            v = r.randint(-(limit * 1000000 - 1), limit * 1000000 - 1) if x < 0.5 else \
                r.randint(-86400 * 1000000, 86400 * 1000000)
            v -= v % unit if v >= 0 else -((-v) % unit)
        return v * 1000

    def year_value(self, c):
        r = self.rng
        return r.choice([0, 1901, 2155]) if r.random() < 0.1 else r.randint(1901, 2155)

    def enum_value(self, c):
        return self.rng.choice(c.elems)

    def set_value(self, c):
        r = self.rng
        return ",".join(e for e in c.elems if r.random() < 0.4)

    def bytes_value(self, c):
        r = self.rng
        if c.tp == ts.TP_STRING:           # BINARY(n): TiDB and MySQL store it 0x00-padded
            n = c.maxlen
            b = bytes(r.choice([0, 0, 1, 0x20, 0xFF, r.randint(0, 255)]) for _ in range(r.randint(0, n)))
            return b.ljust(n, b"\0")
        x = r.random()
        if x < 0.05:
            return b""
        n = r.randint(1, min(c.maxlen, 40) if x < 0.8 else c.maxlen)
        return bytes(r.choice([0, 0, 0x20, 0xFF, 0x80, r.randint(0, 255)]) for _ in range(n))

    # latin1 (MySQL's cp1252) beyond ASCII, incl. the 0x80..0x9F characters; utf8 (utf8mb3):
    # the Basic Multilingual Plane only
    LATIN1_ALPHABET = ALPHABET[:66] + ["é", "ü", "ß", "ÿ", "£", "\u00a0", "€", "Ÿ", "™", "Š", "œ", "…"]
    UTF8MB3_ALPHABET = [ch for ch in ALPHABET if ord(ch) < 0x10000] + ["\u2028", "\uffff", "ǅ"]

    def types_str_value(self, c):
        """utf8mb4: 4-byte characters; utf8: 3-byte ones at most; latin1: the whole of cp1252;
        empty strings; trailing spaces (CHAR too: TiDB drops them there, see tidbcodec)."""
        r = self.rng
        x = r.random()
        if x < 0.08:
            return ""
        alphabet = {"latin1": self.LATIN1_ALPHABET, "utf8": self.UTF8MB3_ALPHABET}.get(c.charset, ALPHABET)
        n = r.randint(1, min(c.maxlen, 30) if x < 0.85 else c.maxlen)
        s = "".join(r.choice(alphabet) for _ in range(n))
        if r.random() < 0.2:
            s = s[:max(0, n - 2)] + "  "
        return s

    # ---- JSON (--types all, t_ty_json)

    JSON_INTS = [0, 1, -1, 32767, 32768, -32768, -32769, 65535, 65536, 2147483647, 2147483648,
                 -2147483648, -2147483649, 4294967295, 4294967296, (1 << 63) - 1, -(1 << 63),
                 1 << 63, (1 << 64) - 1]
    JSON_FLOATS = [0.1, 1.0, -2.5, 1e21, 1e20, 1e-7, 1.5e-7, 1e-6, 5e-324, 1.7976931348623157e308,
                   -1.7976931348623157e308, 123456.789, 9007199254740993.0, 0.000123, -0.5e-300]
    JSON_CHARS = ALPHABET + ["\n", "\r", "\b", "\f", "\x00", "\x01", "\x1f", "/", "<", ">", "&",
                              "\u2028", "\u2029", "\u00e9", "\u20ac", "\U0001F600", "\x7f"]

    def json_string(self, n_max=12):
        r = self.rng
        return "".join(r.choice(self.JSON_CHARS) for _ in range(r.randint(0, n_max)))

    def json_scalar(self):
        r = self.rng
        x = r.random()
        if x < 0.12:
            return r.choice([None, True, False])     # None: JSON null inside a container
        if x < 0.3:
            return r.choice(self.JSON_INTS)
        if x < 0.45:
            return r.randint(-(1 << 63), (1 << 63) - 1) if r.random() < 0.5 else r.randint(-1000, 100000)
        if x < 0.55:
            return r.choice(self.JSON_FLOATS)
        if x < 0.65:
            return r.uniform(-1, 1) * 10.0 ** r.randint(-30, 30)
        return self.json_string()

    def json_tree(self, depth):
        r = self.rng
        x = r.random()
        if depth <= 0 or x < 0.45:
            return self.json_scalar()
        n = 0 if r.random() < 0.1 else r.randint(1, 6)
        if x < 0.7:
            return [self.json_tree(depth - 1) for _ in range(n)]
        obj = {}
        for _ in range(n):
            obj[self.json_string(8) if r.random() < 0.6 else r.choice(["a", "b", "ab", "ba", "z", "aa"])] = \
                self.json_tree(depth - 1)
        return obj

    def json_value(self, c):
        """Nested objects/arrays, empty containers, unicode and control characters, ints at
        the MySQL int16/int32/int64/uint64 boundaries, doubles in both text forms, literals,
        deep nesting (TiDB allows 100 levels), and documents beyond 64 KiB (MySQL's large
        format) or with many keys of different lengths (MySQL orders keys by length)."""
        r = self.rng
        x = r.random()
        if x < 0.04:
            return r.choice([{}, [], codec.JSON_NULL, True, 0, "", 0.1])
        if x < 0.08:
            v = self.json_scalar()
            mixed = r.random() < 0.5
            for _ in range(r.randint(20, 95)):
                v = {"k": v} if mixed and r.random() < 0.5 else [v]
            return v
        if x < 0.10:
            return {"big": "".join(r.choice("abcdef€😀") for _ in range(r.randint(17000, 24000))),
                    "n": [r.randint(-70000, 70000) for _ in range(50)], "t": True}
        if x < 0.12:
            return [self.json_string(30) for _ in range(r.randint(2500, 3500))]
        if x < 0.17:
            return {self.json_string(40): self.json_scalar() for _ in range(r.randint(20, 80))}
        v = self.json_tree(r.randint(1, 5))
        return codec.JSON_NULL if v is None else v

    def value(self, c):
        if c.nullable and self.rng.random() < 0.15:
            return None
        if c.types_table and c.kind in ("str", "datetime"):
            return getattr(self, "types_" + c.kind + "_value" if c.kind == "str"
                           else "datetime_types_value")(c)
        return getattr(self, c.kind + "_value")(c)


def make_types_tables(db):
    """--types all: every column type TiDB Binlog carries (t_ty_num, t_ty_time, t_ty_str) and
    JSON (t_ty_json: the truth MariaDB stores the text TiDB prints for each value)."""
    tys = ts
    num = ts.Table(db, "t_ty_num", [
        ts.c_int("id", big=True, pk=True),
        ts.c_intn("ti", tys.TP_TINY), ts.c_intn("tiu", tys.TP_TINY, unsigned=True),
        ts.c_intn("si", tys.TP_SHORT), ts.c_intn("siu", tys.TP_SHORT, unsigned=True),
        ts.c_intn("mi", tys.TP_INT24), ts.c_intn("miu", tys.TP_INT24, unsigned=True),
        ts.c_intn("zf", tys.TP_LONG, zerofill_width=8),
        ts.c_intn("i", tys.TP_LONG), ts.c_intn("bu", tys.TP_LONGLONG, unsigned=True),
        ts.c_bit("b1", 1), ts.c_bit("b7", 7), ts.c_bit("b13", 13), ts.c_bit("b64", 64),
        ts.c_float("f"), ts.c_double("d"),
        ts.c_decimal("dec65", 65, 30), ts.c_decimal("dec0", 20, 0), ts.c_decimal("dec1", 1, 0),
        ts.c_decimal("dec94", 9, 4), ts.c_decimal("dec3030", 30, 30), ts.c_decimal("dec650", 65, 0),
        ts.c_year("y"),
        ts.c_intn("nn", tys.TP_SHORT, nullable=False),
    ])
    tm = ts.Table(db, "t_ty_time", [ts.c_int("id", pk=True), ts.c_date("d")]
                  + [ts.c_datetime("dt%d" % f, f) for f in range(7)]
                  + [ts.c_timestamp("ts%d" % f, f) for f in range(7)]
                  + [ts.c_time("tm%d" % f, f) for f in range(7)]
                  + [ts.c_year("y")])
    st = ts.Table(db, "t_ty_str", [
        ts.c_int("id", unsigned=True, pk=True),
        ts.c_str("vc", "VARCHAR(100)", ts.TP_VARCHAR, 100, 100),
        ts.c_str("ch", "CHAR(20)", ts.TP_STRING, 20, 20),
        ts.c_str("tx", "TEXT", ts.TP_BLOB, 65535, 300),
        ts.c_str("tt", "TINYTEXT", ts.TP_TINY_BLOB, 255, 60),
        ts.c_str("lt", "LONGTEXT", ts.TP_LONG_BLOB, 4294967295, 500),
        ts.c_str("l1", "VARCHAR(40)", ts.TP_VARCHAR, 40, 40, charset="latin1"),
        ts.c_str("l1c", "CHAR(10)", ts.TP_STRING, 10, 10, charset="latin1"),
        ts.c_str("l1t", "TEXT", ts.TP_BLOB, 65535, 200, charset="latin1"),
        ts.c_str("u3", "VARCHAR(30)", ts.TP_VARCHAR, 30, 30, charset="utf8"),
        ts.c_str("u3c", "CHAR(12)", ts.TP_STRING, 12, 12, charset="utf8"),
        ts.c_str("gci", "VARCHAR(20)", ts.TP_VARCHAR, 20, 20, charset="utf8mb4_general_ci"),
        ts.c_bytes("vb", "VARBINARY(64)", ts.TP_VARCHAR, 64, 64),
        ts.c_bytes("bn", "BINARY(8)", ts.TP_STRING, 8, 8),
        ts.c_bytes("bl", "BLOB", ts.TP_BLOB, 65535, 2000),
        ts.c_bytes("tbl", "TINYBLOB", ts.TP_TINY_BLOB, 255, 255),
        ts.c_bytes("mbl", "MEDIUMBLOB", ts.TP_MEDIUM_BLOB, 16777215, 300),
        ts.c_enum("e", ["a", "b", "é", "x y", "😀"]),
        ts.c_set("s", ["r", "w", "x", "ü"]),
        ts.c_str("vn", "VARCHAR(10)", ts.TP_VARCHAR, 10, 10, nullable=False),
    ])
    # Generated columns (VIRTUAL and STORED) over ints, strings and JSON; expressions whose
    # results MariaDB computes exactly as the Python functions do.
    def _twice(r):
        return None if r["a"] is None else r["a"] * 2

    def _tagged(r):
        return None if r["s"] is None else r["s"] + "-x"

    def _sum(r):
        return None if r["a"] is None or r["b"] is None else r["a"] + r["b"]

    gen = ts.Table(db, "t_ty_gen", [
        ts.c_int("id", pk=True), ts.c_int("a"), ts.c_int("b"),
        ts.c_str("s", "VARCHAR(30)", ts.TP_VARCHAR, 30, 30),
        ts.generated(ts.c_int("v_twice", big=True), "`a` * 2", _twice, ["a"], stored=False),
        ts.generated(ts.c_str("v_tag", "VARCHAR(40)", ts.TP_VARCHAR, 40, 40),
                     "concat(`s`, _utf8mb4'-x')", _tagged, ["s"], stored=False),
        ts.generated(ts.c_int("s_sum", big=True), "`a` + `b`", _sum, ["a", "b"], stored=True),
        ts.generated(ts.c_str("s_tag", "VARCHAR(40)", ts.TP_VARCHAR, 40, 40),
                     "concat(`s`, _utf8mb4'-x')", _tagged, ["s"], stored=True),
        ts.c_int("z"),
    ])
    # A clustered primary key in a _ci collation (new collation framework): the handle holds
    # sort keys, the row body the original values (tables.go CanSkip / NeedRestoredData).
    ci = ts.Table(db, "t_ty_ci", [
        ts.c_str("k", "VARCHAR(20)", ts.TP_VARCHAR, 20, 20, charset="utf8mb4_general_ci"),
        ts.c_int("n"), ts.c_str("v", "VARCHAR(20)", ts.TP_VARCHAR, 20, 20),
    ], pk_order=["k"])
    js = ts.Table(db, "t_ty_json", [
        ts.c_int("id", pk=True), ts.c_json("j"), ts.c_json("j2"), ts.c_json("jn", nullable=False),
    ])
    for t in (num, tm, st, js, gen, ci):
        for c in t.columns:
            c.types_table = True
    return [num, tm, st, js, gen, ci], []


def make_tables(db):
    orders = ts.Table(db, "t_orders", [
        ts.c_int("id", big=True, pk=True),
        ts.c_varchar("customer", 64, nullable=False),
        ts.c_decimal("amount", 12, 3),
        ts.c_datetime("placed_at", 6),
        ts.c_int("qty"),
        ts.c_text("note"),
        ts.c_int("flags", big=True, unsigned=True),
    ])
    items = ts.Table(db, "t_items", [
        ts.c_int("id", unsigned=True, pk=True),
        ts.c_char("sku", 12, nullable=False),
        ts.c_decimal("price", 10, 2, nullable=False),
        ts.c_int("stock", unsigned=True),
        ts.c_varchar("label", 200),
        ts.c_datetime("updated", 0),
        ts.c_decimal("weight", 30, 10),
    ])
    events = ts.Table(db, "t_events", [
        ts.c_int("id", pk=True),
        ts.c_char("kind", 4),
        ts.c_text("payload"),
        ts.c_datetime("at", 3, nullable=False),
        ts.c_int("delta", big=True),
        ts.c_decimal("ratio", 5, 5),
        ts.c_int("seq", big=True, unsigned=True, nullable=False),
    ])
    ledger = ts.Table(db, "t_ledger", [
        ts.c_int("id", big=True, unsigned=True, pk=True),
        ts.c_varchar("account", 32, nullable=False),
        ts.c_decimal("debit", 20, 4),
        ts.c_decimal("credit", 65, 30),
        ts.c_datetime("booked", 2),
        ts.c_varchar("memo", 255),
    ])
    return [orders, items, events], [ledger]


def make_shapes_tables(db):
    """--shapes: table shapes beyond the int handle (spec 4.2-4.4): no primary key with and
    without a UNIQUE key (handle _tidb_rowid), a clustered VARCHAR primary key that is not
    the first column, a clustered composite (INT, VARCHAR) primary key whose index order
    differs from the column order (common handles, utf8mb4_bin)."""
    nopk = ts.Table(db, "t_nopk", [
        ts.c_int("a"), ts.c_varchar("s", 40), ts.c_decimal("d", 10, 2),
        ts.c_datetime("at", 3), ts.c_text("n")])
    nopk_uk = ts.Table(db, "t_nopk_uk", [
        ts.c_int("u", nullable=False), ts.c_varchar("v", 30), ts.c_int("w", big=True)],
        uniques=["u"])
    ch_str = ts.Table(db, "t_ch_str", [
        ts.c_varchar("info", 50), ts.c_varchar("code", 32), ts.c_int("qty"),
        ts.c_datetime("at", 6), ts.c_decimal("price", 12, 3)], pk_order=["code"])
    ch_comp = ts.Table(db, "t_ch_comp", [
        ts.c_varchar("region", 16), ts.c_int("id"), ts.c_decimal("v", 12, 3), ts.c_text("note"),
        ts.c_varchar("tag", 8)], pk_order=["id", "region"])
    return [nopk, nopk_uk, ch_str, ch_comp]


class Sim:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.gen = Generator(self.rng)
        self.tso = Tso()
        self.publish_lock = threading.Lock()
        self.next_id = 100               # TiDB's global id allocator (schemas, tables, jobs)
        self.schema_version = 0
        self.schema_id = 0
        self.dbs = {}                    # database name -> schema id
        self.db_charsets = {}            # database name -> (charset, collate)
        self.views = []                  # (db, name, id, select, columns)
        self.tables = []                 # created tables
        self.state = {}                  # table id -> TableState
        self.txns = 0
        self.rows = 0
        self.ddls = 0
        self.last_commit_ts = 0
        self.done = False
        self.stopping = threading.Event()
        ports = [int(p) for p in args.pump_ports.split(",")] if args.pump_ports else []
        ports += [0] * (args.pumps - len(ports))
        self.pumps = [Pump(i, args.cluster_id, ports[i]) for i in range(args.pumps)]
        self.idle = {int(x) for x in args.idle_pumps.split(",") if x.strip()}
        self.etcd = Etcd(args.etcd) if args.etcd else None
        self.conn = None
        self.big = None                  # --big-txn-bytes: what was published
        self.freeze_req = threading.Event()  # control "freeze": stop between transactions
        self.frozen = threading.Event()      # the workload is stopped at a boundary
        if args.start_frozen:
            self.freeze_req.set()
        self.extra_status = {}           # merged into the status file (randload.py)
        self.ticdc = None                # ticdc.TiCDC: the TiCDC output instead of Pumps
        self.status_lock = threading.Lock()

    @property
    def pump_addrs(self):
        return ["127.0.0.1:%d" % p.port for p in self.pumps]

    def close(self):
        if self.ticdc is not None:
            self.ticdc.close()
        self.stopping.set()
        for p in self.pumps:
            p.stop()

    # ---- truth (TiDB's SQL endpoint)

    def connect(self):
        a = self.args
        kw = dict(user=a.mysql_user, password=a.mysql_password, charset="utf8mb4",
                  autocommit=True)
        if a.mysql_socket:
            kw["unix_socket"] = a.mysql_socket
        else:
            kw.update(host=a.mysql_host, port=a.mysql_port)
        self.conn = pymysql.connect(**kw)
        with self.conn.cursor() as cur:
            cur.execute(HISTORY_DDL)
            if a.types or a.random is not None:
                # TIMESTAMP values are generated in UTC: TiDB flattens TIMESTAMP to UTC, and
                # the truth must read the same literals as UTC
                cur.execute("SET time_zone = '+00:00'")
                # TiDB accepts JSON nested 100 levels deep; MariaDB's JSON column carries a
                # json_valid CHECK that stops at 32 levels. The truth stores what TiDB holds.
                cur.execute("SET SESSION check_constraint_checks = 0")

    def alloc_id(self):
        self.next_id += 1
        return self.next_id

    # ---- publishing

    def writable(self):
        """Pumps TiDB may write to: online in etcd, alive, not kept idle."""
        return [p for p in self.pumps
                if p.state == "online" and not p.dead and p.idx not in self.idle]

    def pick_pump(self):
        return None     # chosen under the publish lock (membership may change)

    def publish(self, pump, make_binlog, before_publish=None):
        """Takes the commit TSO and stores the binlog atomically w.r.t. fakes.  In TiCDC
        mode the transaction's recorded row changes go to TiCDC instead (ticdc.py)."""
        if self.ticdc is not None:
            with self.publish_lock:
                return self.ticdc.publish_txn(make_binlog, binlog_pb2)
        with self.publish_lock:
            if pump is None:
                cands = self.writable()
                if not cands:
                    raise RuntimeError("no writable pump")
                pump = cands[self.rng.randrange(len(cands))]
            commit_ts = self.tso.next()
            if before_publish:
                before_publish(commit_ts)
            b = make_binlog(commit_ts)
            pump.append(b)
            self.last_commit_ts = commit_ts
            return commit_ts

    def fake_loop(self):
        iv = self.args.fake_interval
        while not self.stopping.wait(min(0.05, iv / 4)):
            for p in self.pumps:
                if p.state != "online" or p.dead or not p.serving:
                    continue
                if time.monotonic() - p.last_write >= iv:
                    with self.publish_lock:
                        t = self.tso.next()
                        b = binlog_pb2.Binlog(tp=binlog_pb2.Rollback, start_ts=t, commit_ts=t,
                                              ddl_job_id=0, ddl_schema_state=0)
                        p.append(b)

    # ---- DDL
    #
    # Every ddl_* call is one TiDB DDL job as TiDB runs it (pingcap/tidb pkg/ddl): the truth
    # applies the same change first; the schema version grows by one per schema state the
    # job passes; when the job is done its JSON goes to mysql.tidb_ddl_history (the history
    # TiDB keeps, shared/spec/tidb-binlog.md 7.2-7.4) and its DDL binlog (ddl_job_id,
    # ddl_schema_state, ddl_query as TiDB renders it, ';' after it:
    # pkg/sessionctx/binloginfo FormatAndAddTiDBSpecificComment) is published.  DROP COLUMN
    # also writes the binlog TiDB writes when the column reaches delete-only (pkg/ddl
    # job_worker.go writeBinlog).  Tables are tidbschema.Table objects; the Sim keeps them
    # (self.tables), their rows (self.state) and their ids up to date.

    def _truth(self, sql, db=None):
        with self.conn.cursor() as cur:
            if db:
                cur.execute("USE `%s`" % db)
            for q in ([sql] if isinstance(sql, str) else sql):
                cur.execute(q)

    def _ddl_binlog(self, job_id, query, state, start_ts, before=None):
        if self.ticdc is not None:
            # TiCDC sees finished jobs only (mounter.go parseJob: !job.IsDone() -> nil)
            return 0
        def make(commit_ts):
            return binlog_pb2.Binlog(tp=binlog_pb2.Commit, start_ts=start_ts, commit_ts=commit_ts,
                                     prewrite_key=b"mDDLJobHistory",
                                     ddl_query=(query + ";").encode(),
                                     ddl_job_id=job_id, ddl_schema_state=state)
        return self.publish(self.pick_pump(), make, before)

    def _job(self, action, query, db, schema_id, table_id=0, table_name="", tinfo=None,
             dbinfo=None, versions=1, truth=None, use=True, raw_args=None, multi=None,
             final_state=ts.STATE_PUBLIC, job_id=None):
        """One finished job.  truth: SQL for the truth (None: the query, "" or []: nothing);
        use: run it in `db`.  tinfo / multi: TableInfo dict(s) or callables(start_ts)."""
        start_ts = self.tso.next()
        if truth is None:
            truth = query
        if truth:
            self._truth(truth, db if use else None)
        self.schema_version += versions
        version = self.schema_version
        job_id = job_id or self.alloc_id()

        def insert_history(commit_ts):
            ti = tinfo(start_ts) if callable(tinfo) else tinfo
            mi = multi(start_ts) if callable(multi) else multi
            meta = ts.job_json(job_id, action, schema_id, table_id, db, table_name, query,
                               version, start_ts, commit_ts, dbinfo, ti, raw_args, mi,
                               final_state)
            with self.conn.cursor() as cur:
                cur.execute("INSERT INTO mysql.tidb_ddl_history (job_id, job_meta, db_name, "
                            "table_name, schema_ids, table_ids, create_time) "
                            "VALUES (%s,%s,%s,%s,%s,%s,NOW())",
                            (job_id, meta.encode(), db, table_name, str(schema_id),
                             str(table_id) if table_id else ""))

        if self.ticdc is not None:
            tobj = getattr(tinfo, "__self__", None)
            cols = list(tobj.columns) if isinstance(tobj, ts.Table) else None
            renames = None
            if action == ts.ACTION_RENAME_TABLES:
                by_id = {t.id: t for t in self.tables}
                renames = [(odb["O"], oname["O"], by_id[tid].db, by_id[tid].name)
                           for tid, odb, oname in zip(raw_args[3], raw_args[4], raw_args[5])]
            self.ticdc.publish_ddl(action, query, db, table_name if table_id or tinfo else "",
                                   insert_history, cols, renames)
        else:
            self._ddl_binlog(job_id, query, final_state, start_ts, insert_history)
        self.ddls += 1
        return job_id

    def run_ddl(self, action, query, db, table=None, versions=1, truth_query=None):
        """Compatibility entry (CREATE DATABASE / CREATE TABLE / ADD COLUMN)."""
        if action == ts.ACTION_CREATE_SCHEMA:
            return self.ddl_create_database(db)
        if action == ts.ACTION_CREATE_TABLE:
            return self.ddl_create_table(table)
        return self._job(action, query, db, table.schema_id, table.id, table.name, table.info,
                         versions=versions, truth=truth_query)

    # -- databases

    def ddl_create_database(self, db, charset=ts.CHARSET, collate=ts.COLLATE):
        sid = self.alloc_id()
        self.dbs[db] = sid
        self.db_charsets[db] = (charset, collate)
        self.schema_id = sid
        q = "CREATE DATABASE `%s`" % db
        if (charset, collate) != (ts.CHARSET, ts.COLLATE):
            q += " CHARACTER SET = %s COLLATE = %s" % (charset, collate)
        self._job(ts.ACTION_CREATE_SCHEMA, q, db, sid, dbinfo=ts.db_info(sid, db, charset, collate),
                  use=False)

    def ddl_drop_database(self, db):
        """public -> write only -> delete only -> none; its tables and views go with it."""
        sid = self.dbs.pop(db)
        cs = self.db_charsets.pop(db)
        self._job(ts.ACTION_DROP_SCHEMA, "DROP DATABASE `%s`" % db, db, sid,
                  dbinfo=ts.db_info(sid, db, *cs), versions=3, use=False,
                  final_state=ts.STATE_NONE)
        for t in [t for t in self.tables if t.db == db]:
            self._forget(t)
        self.views = [v for v in self.views if v[0] != db]

    def ddl_alter_database_charset(self, db, charset, collate):
        sid = self.dbs[db]
        self.db_charsets[db] = (charset, collate)
        self._job(ts.ACTION_MODIFY_SCHEMA_CHARSET,
                  "ALTER DATABASE `%s` CHARACTER SET = %s COLLATE = %s" % (db, charset, collate),
                  db, sid, dbinfo=ts.db_info(sid, db, charset, collate), use=False)

    # -- tables

    def _forget(self, t):
        self.tables.remove(t)
        del self.state[t.id]

    def ddl_create_table(self, table, tidb_options=""):
        """tidb_options: TiDB-only table options in TiDB's text (e.g. "/*T! SHARD_ROW_ID_BITS
        = 4 */"); the truth gets the table without them."""
        table.id = self.alloc_id()
        table.schema_id = self.dbs[table.db]
        if table.partition:
            for d in table.partition["defs"]:
                d[1] = self.alloc_id()
        self._job(ts.ACTION_CREATE_TABLE, table.ddl(tidb_options=tidb_options), table.db,
                  table.schema_id, table.id, table.name, table.info, truth=table.ddl(truth=True))
        self.tables.append(table)
        self.state[table.id] = TableState(table)

    def create_schema(self, db):
        self.ddl_create_database(db)

    def create_table(self, table):
        self.ddl_create_table(table)

    def ddl_drop_table(self, table):
        """public -> write only -> delete only -> none (3 versions)."""
        self._job(ts.ACTION_DROP_TABLE, "DROP TABLE `%s`" % table.name, table.db, table.schema_id,
                  table.id, table.name, table.info, versions=3, final_state=ts.STATE_NONE)
        self._forget(table)

    def ddl_truncate_table(self, table):
        """A new table id (and new partition ids), no rows (pkg/ddl table.go onTruncateTable)."""
        old = table.id
        st = self.state.pop(old)
        table.id = self.alloc_id()
        for d in (table.partition or {}).get("defs", []):
            d[1] = self.alloc_id()
        self._job(ts.ACTION_TRUNCATE_TABLE, "TRUNCATE TABLE `%s`" % table.name, table.db,
                  table.schema_id, old, table.name, table.info,
                  raw_args=[table.id, False, table.partition_ids()])
        self.state[table.id] = TableState(table)
        self.state[table.id].next_rowid = st.next_rowid

    def ddl_rename_table(self, table, new_name, new_db=None):
        """RENAME TABLE: same id; the job's schema is the new one (ddl_api.go renameTable,
        raw_args [oldSchemaID, newTableName, oldSchemaName])."""
        new_db = new_db or table.db
        old_db, old_name, old_sid = table.db, table.name, table.schema_id
        q = "RENAME TABLE `%s`.`%s` TO `%s`.`%s`" % (old_db, old_name, new_db, new_name)
        table.db, table.name, table.schema_id = new_db, new_name, self.dbs[new_db]
        self._job(ts.ACTION_RENAME_TABLE, q, old_db, table.schema_id, table.id, new_name,
                  table.info, raw_args=[old_sid, ts.cistr(new_name), ts.cistr(old_db)])

    def ddl_rename_tables(self, renames):
        """RENAME TABLE a TO b, c TO d (ActionRenameTables): renames = [(table, new_name,
        new_db or None)]; MultipleTableInfos, raw_args v1 [oldSchemaIDs, newSchemaIDs,
        newTableNames, oldTableIDs, oldSchemaNames, oldTableNames]."""
        parts, old_sids, new_sids, names, ids, old_dbs, old_names = [], [], [], [], [], [], []
        first_db = renames[0][0].db
        for t, new_name, new_db in renames:
            new_db = new_db or t.db
            parts.append("`%s`.`%s` TO `%s`.`%s`" % (t.db, t.name, new_db, new_name))
            old_sids.append(t.schema_id)
            old_dbs.append(ts.cistr(t.db))
            old_names.append(ts.cistr(t.name))
            t.db, t.name, t.schema_id = new_db, new_name, self.dbs[new_db]
            new_sids.append(t.schema_id)
            names.append(ts.cistr(new_name))
            ids.append(t.id)
        tables = [r[0] for r in renames]
        self._job(ts.ACTION_RENAME_TABLES, "RENAME TABLE " + ", ".join(parts), first_db,
                  new_sids[0], ids[0], tables[0].name,
                  multi=lambda st: [t.info(st) for t in tables],
                  raw_args=[old_sids, new_sids, names, ids, old_dbs, old_names])

    def ddl_set_tiflash_replica(self, table, count):
        """ALTER TABLE ... SET TIFLASH REPLICA n (ActionSetTiFlashReplica): TiDB writes its
        binlog; nothing changes for MySQL, the truth does nothing."""
        self._job(ts.ACTION_SET_TIFLASH_REPLICA,
                  "ALTER TABLE `%s` SET TIFLASH REPLICA %d" % (table.name, count), table.db,
                  table.schema_id, table.id, table.name, table.info, truth="")

    def ddl_tidb_only(self, table, action, query):
        """A TiDB-only ALTER (e.g. ActionShardRowID "ALTER TABLE t SHARD_ROW_ID_BITS = 4"):
        TiDB's binlog only, the truth does nothing."""
        self._job(action, query, table.db, table.schema_id, table.id, table.name, table.info,
                  truth="")

    # -- columns

    def add_column(self, table, col):
        self.ddl_add_column(table, col)

    def ddl_add_column(self, table, col):
        """ALTER TABLE ADD COLUMN (none -> delete only -> write only -> write
        reorganization -> public: 4 schema versions, one binlog when done).
        Existing rows read back with the column's origin default."""
        query = table.add_column_ddl(col)
        table.add_column(col)
        for row in self.state[table.id].rows.values():
            if row is not None:
                row[col.name] = col.default
        self._job(ts.ACTION_ADD_COLUMN, query, table.db, table.schema_id, table.id, table.name,
                  table.info, versions=4)

    def ddl_drop_column(self, table, name, during=None):
        """ALTER TABLE DROP COLUMN: public -> write only -> delete only -> delete reorg ->
        none.  At delete-only TiDB writes a DDL binlog with ddl_schema_state 1 (the history
        has no job yet); during(sim) then runs while rows no longer carry the column (DML
        with the delete-only schema version).  The truth drops the column when the job is
        done, which writes the final binlog and the history row."""
        c = table.col(name)
        query = "ALTER TABLE `%s` DROP COLUMN `%s`" % (table.name, name)
        job_id = self.alloc_id()
        c.state = ts.STATE_WRITE_ONLY
        self.schema_version += 1
        c.state = ts.STATE_DELETE_ONLY
        self.schema_version += 1
        self._ddl_binlog(job_id, query, ts.STATE_DELETE_ONLY, self.tso.next())
        if during is not None:
            during(self)
        c.state = ts.STATE_DELETE_REORG
        self.schema_version += 1
        table.columns.remove(c)
        for i, x in enumerate(table.columns):
            x.offset = i
        for row in self.state[table.id].rows.values():
            if row is not None:
                row.pop(name, None)
        self._job(ts.ACTION_DROP_COLUMN, query, table.db, table.schema_id, table.id, table.name,
                  table.info, versions=1, final_state=ts.STATE_NONE, job_id=job_id)

    @staticmethod
    def _needs_reorg(old, new):
        """A column change that rewrites data (pkg/ddl modify_column.go needChangeColumnData,
        simplified): another kind, a narrower or sign-changing integer, a shorter string or
        another charset, another decimal shape.  TiDB then builds a new column with a new
        id (changing column) and swaps it in."""
        if old.kind != new.kind:
            return True
        if old.kind == "int":
            return new.flen < old.flen or new.unsigned != old.unsigned
        if old.kind in ("str", "bytes"):
            return (new.maxlen or 0) < (old.maxlen or 0) or new.charset != old.charset \
                or new.tp != old.tp
        if old.kind == "decimal":
            return (new.flen, new.decimal) != (old.flen, old.decimal)
        return new.tp != old.tp or new.decimal != old.decimal

    def _change_column(self, table, old_name, new_col, query, convert):
        old = table.col(old_name)
        reorg = self._needs_reorg(old, new_col)
        new_col.offset = old.offset
        new_col.id = max(c.id for c in table.columns) + 1 if reorg else old.id
        table.columns[old.offset] = new_col
        for row in self.state[table.id].rows.values():
            if row is not None:
                v = row.pop(old_name)
                row[new_col.name] = v if v is None or convert is None else convert(v)
        # with reorg: none -> delete only -> write only -> write reorg -> public
        self._job(ts.ACTION_MODIFY_COLUMN, query, table.db, table.schema_id, table.id,
                  table.name, table.info, versions=4 if reorg else 1)
        return reorg

    def ddl_modify_column(self, table, name, new_col, convert=None):
        """ALTER TABLE MODIFY COLUMN; new_col.name == name.  convert(v): the stored value
        after the change (None: unchanged).  Returns True when TiDB reorganised the data
        (new column id)."""
        assert new_col.name == name
        return self._change_column(table, name, new_col, "ALTER TABLE `%s` MODIFY COLUMN %s"
                                   % (table.name, new_col.ddl()), convert)

    def ddl_change_column(self, table, old_name, new_col, convert=None):
        """ALTER TABLE CHANGE COLUMN old new_definition (rename and/or retype)."""
        return self._change_column(table, old_name, new_col, "ALTER TABLE `%s` CHANGE COLUMN `%s` %s"
                                   % (table.name, old_name, new_col.ddl()), convert)

    # -- indexes and primary keys

    def ddl_add_index(self, table, name, cols, unique=False):
        """none -> delete only -> write only -> write reorg -> public (4 versions)."""
        table.extra_indexes.append((name, list(cols), unique))
        self._job(ts.ACTION_ADD_INDEX, "ALTER TABLE `%s` ADD %sINDEX `%s`(%s)" % (
            table.name, "UNIQUE " if unique else "", name, ",".join("`%s`" % c for c in cols)),
            table.db, table.schema_id, table.id, table.name, table.info, versions=4)

    def ddl_drop_index(self, table, name):
        """public -> write only -> delete only -> delete reorg -> none (4 versions)."""
        table.extra_indexes = [x for x in table.extra_indexes if x[0] != name]
        self._job(ts.ACTION_DROP_INDEX, "ALTER TABLE `%s` DROP INDEX `%s`" % (table.name, name),
                  table.db, table.schema_id, table.id, table.name, table.info, versions=4,
                  final_state=ts.STATE_NONE)

    def ddl_add_primary_key(self, table, cols):
        """ADD PRIMARY KEY on a table without one: NONCLUSTERED (the rows keep their
        _tidb_rowid handle; TiDB logs the keyword as /*T![clustered_index] NONCLUSTERED */)."""
        assert not table.pk_cols and not table.nc_pk
        table.nc_pk = list(cols)
        for n in cols:
            table.col(n).nc_pk = True
        q = "ALTER TABLE `%s` ADD PRIMARY KEY(%s)" % (table.name, ",".join("`%s`" % c for c in cols))
        self._job(ts.ACTION_ADD_PRIMARY_KEY, q + " /*T![clustered_index] NONCLUSTERED */",
                  table.db, table.schema_id, table.id, table.name, table.info, versions=4,
                  truth=q)

    def ddl_drop_primary_key(self, table):
        """Only a NONCLUSTERED primary key can be dropped in TiDB."""
        for n in table.nc_pk:
            table.col(n).nc_pk = False
        table.nc_pk = []
        self._job(ts.ACTION_DROP_PRIMARY_KEY, "ALTER TABLE `%s` DROP PRIMARY KEY" % table.name,
                  table.db, table.schema_id, table.id, table.name, table.info, versions=4,
                  final_state=ts.STATE_NONE)

    # -- views

    def ddl_create_view(self, db, name, select, cols):
        vid = self.alloc_id()
        q = ("CREATE ALGORITHM = UNDEFINED DEFINER = `root`@`localhost` SQL SECURITY DEFINER "
             "VIEW `%s` AS %s" % (name, select))
        self._job(ts.ACTION_CREATE_VIEW, q, db, self.dbs[db], vid, name,
                  ts.view_info(vid, name, select, cols))
        self.views.append((db, name, vid, select, cols))

    def ddl_drop_view(self, db, name):
        v = next(v for v in self.views if v[0] == db and v[1] == name)
        self.views.remove(v)
        self._job(ts.ACTION_DROP_VIEW, "DROP VIEW `%s`" % name, db, self.dbs[db], v[2], name,
                  ts.view_info(v[2], name, v[3], v[4]), versions=3, final_state=ts.STATE_NONE)

    # -- charsets

    def ddl_convert_charset(self, table, charset, collate):
        """ALTER TABLE CONVERT TO CHARACTER SET (ActionModifyTableCharsetAndCollate): every
        string column takes the charset, ids unchanged (TiDB allows utf8 -> utf8mb4)."""
        table.charset, table.collate = charset, collate
        for c in table.columns:
            if c.kind == "str":
                c.charset = None if charset == ts.CHARSET else charset
        self._job(ts.ACTION_MODIFY_TABLE_CHARSET,
                  "ALTER TABLE `%s` CONVERT TO CHARACTER SET %s COLLATE %s"
                  % (table.name, charset.upper(), collate.upper()),
                  table.db, table.schema_id, table.id, table.name, table.info)

    def ddl_table_charset(self, table, charset, collate):
        """ALTER TABLE ... CHARACTER SET: the table default only."""
        table.charset, table.collate = charset, collate
        self._job(ts.ACTION_MODIFY_TABLE_CHARSET,
                  "ALTER TABLE `%s` CHARACTER SET = %s COLLATE = %s"
                  % (table.name, charset.upper(), collate.upper()),
                  table.db, table.schema_id, table.id, table.name, table.info)

    # -- partitions

    def _drop_partition_rows(self, table, pname):
        st = self.state[table.id]
        for k in [k for k, row in st.rows.items() if table.partition_of(row) == pname]:
            st.remove(k)

    def ddl_add_partition(self, table, pname, bound):
        """ADD PARTITION (RANGE after the last bound, or LIST): a new physical id;
        none -> replica only -> public (2 versions)."""
        p = table.partition
        p["defs"].append([pname, self.alloc_id(), bound])
        self._job(ts.ACTION_ADD_PARTITION, "ALTER TABLE `%s` ADD PARTITION (%s)" % (
            table.name, table.partition_def_sql(p["type"], pname, bound)), table.db,
            table.schema_id, table.id, table.name, table.info, versions=2)

    def ddl_drop_partition(self, table, pname):
        """Its rows go with it; public -> delete only -> delete reorg -> none (3 versions)."""
        self._drop_partition_rows(table, pname)
        p = table.partition
        p["defs"] = [d for d in p["defs"] if d[0] != pname]
        self._job(ts.ACTION_DROP_PARTITION, "ALTER TABLE `%s` DROP PARTITION `%s`"
                  % (table.name, pname), table.db, table.schema_id, table.id, table.name,
                  table.info, versions=3, final_state=ts.STATE_NONE)

    def ddl_truncate_partition(self, table, pname):
        """A new physical id for the partition, no rows in it."""
        self._drop_partition_rows(table, pname)
        d = next(d for d in table.partition["defs"] if d[0] == pname)
        old = d[1]
        d[1] = self.alloc_id()
        self._job(ts.ACTION_TRUNCATE_PARTITION, "ALTER TABLE `%s` TRUNCATE PARTITION `%s`"
                  % (table.name, pname), table.db, table.schema_id, table.id, table.name,
                  table.info, raw_args=[[old], [d[1]]])

    def ddl_exchange_partition(self, table, pname, nt, without_validation=True):
        """EXCHANGE PARTITION p WITH TABLE nt: the partition and nt trade physical ids and
        rows.  The job is nt's (job.table_id = nt's id, schema nt's), its TableInfo the
        partitioned table after the swap, raw_args [partition id, pt schema id, pt id,
        partition name, with validation] (pkg/ddl executor.go ExchangeTablePartition,
        partition.go onExchangeTablePartition).  TiDB logs WITHOUT VALIDATION as written;
        the truth (MariaDB 10.11, which has no such clause) validates."""
        d = next(d for d in table.partition["defs"] if d[0] == pname)
        pid, ntid = d[1], nt.id
        pst, nst = self.state[table.id], self.state.pop(ntid)
        prow = {k: r for k, r in pst.rows.items() if table.partition_of(r) == pname}
        for k in prow:
            pst.remove(k)
        for k, r in nst.rows.items():
            pst.put(k, r)
        d[1], nt.id = ntid, pid
        nst2 = TableState(nt)
        nst2.next_rowid = nst.next_rowid
        for k, r in prow.items():
            nst2.put(k, r)
        self.state[nt.id] = nst2
        q = "ALTER TABLE `%s` EXCHANGE PARTITION `%s` WITH TABLE `%s`" % (table.name, pname, nt.name)
        self._job(ts.ACTION_EXCHANGE_PARTITION, q + (" WITHOUT VALIDATION" if without_validation else ""),
                  nt.db, nt.schema_id, ntid, nt.name, table.info, truth=q,
                  raw_args=[pid, table.schema_id, table.id, pname, not without_validation])

    def alter_tables(self):
        by_name = {t.name: t for t in self.tables}
        if "t_orders" in by_name:
            self.add_column(by_name["t_orders"], ts.c_varchar("extra", 20, default="x"))
        if "t_events" in by_name:
            self.add_column(by_name["t_events"], ts.c_int("score", nullable=False, default=7))

    # ---- DML

    def new_pk(self, st):
        c = st.table.pk
        rng = st.table.pk_range
        while True:
            v = self.rng.randint(*rng) if rng else self.gen.int_value(c)
            if v not in st.rows:
                return v

    def value(self, c):
        """A value for column c: its LIST partition choices, its default while it is not
        writable (a dropped column in delete-only: the truth fills the default), else the
        generator's."""
        if not c.in_writable_state:
            return c.default
        if c.choices:
            return self.rng.choice(c.choices)
        return self.gen.value(c)

    def new_row(self, st):
        """A new row and its key in st: the int handle, the tuple of the common handle's
        columns, or (no primary key) a fresh _tidb_rowid.  Key strings have no trailing
        spaces (utf8mb4_bin is PAD SPACE in MariaDB) and UNIQUE columns get fresh values."""
        t = st.table
        row = {c.name: self.value(c) for c in t.columns if not c.pk}
        if t.pk_is_handle:
            row[t.pk.name] = self.new_pk(st)
            return row[t.pk.name], row
        if t.is_common_handle:
            while True:
                for c in t.pk_cols:
                    row[c.name] = self.gen.int_value(c) if c.kind == "int" else self.gen.str_value(c)
                key = tuple(row[c.name] for c in t.pk_cols)
                if key not in st.rows:
                    return key, row
        st.next_rowid += 1
        for n in t.uniques:
            row[n] = st.next_rowid * 1000 + self.rng.randint(0, 999)
        return st.next_rowid, row

    @staticmethod
    def where(t, row):
        """WHERE clause and parameters that find row on the truth: the primary key, else
        every column (NULL-safe) and LIMIT 1 (identical rows are interchangeable)."""
        if t.pk_cols:
            return (" WHERE " + " AND ".join("`%s` = %%s" % c.name for c in t.pk_cols),
                    [c.sql_param(row[c.name]) for c in t.pk_cols])
        return (" WHERE " + " AND ".join("`%s` <=> %%s" % c.name for c in t.columns) + " LIMIT 1",
                [c.sql_param(row[c.name]) for c in t.columns])

    def run_txn(self, tables=None):
        """One random transaction over up to 3 of `tables` (default: every table)."""
        r = self.rng
        a = self.args
        start_ts = self.tso.next()
        version = self.schema_version
        pool = [t for t in (tables or self.tables) if not getattr(t, "fault_only", False)]
        if not pool:
            return
        chosen = r.sample(pool, r.randint(1, min(3, len(pool))))
        nops = r.randint(1, a.max_ops)
        muts = {}          # table id -> TableMutation (dict keeps first-touch order)
        sql = []
        primary = None     # (table id, handle) of the first row written: the txn's primary key
        for _ in range(nops):
            t = r.choice(chosen)
            st = self.state[t.id]
            m = muts.get(t.id)
            if m is None:
                m = muts[t.id] = binlog_pb2.TableMutation(table_id=t.id)
            x = r.random()
            if len(st.rows) > a.max_table_rows:
                x = 0.3 + x * 0.7          # no more inserts
            elif len(st.rows) < 20:
                x = x * 0.6
            fq = "`%s`.`%s`" % (t.db, t.name)
            if x < 0.45 or not st.rows:
                key, row = self.new_row(st)
                t.fill_generated(row)
                st.put(key, row)
                primary = primary or (t.id, key)
                m.inserted_rows.append(codec.insert_row(t, row, key))
                m.sequence.append(binlog_pb2.Insert)
                names = [c.name for c in t.writable_columns()]
                sql.append(("INSERT INTO %s (%s) VALUES (%s)" % (
                    fq, ",".join("`%s`" % n for n in names), ",".join(["%s"] * len(names))),
                    [c.sql_param(row[c.name]) for c in t.writable_columns()]))
            elif x < 0.8:
                pk = r.choice(st.keys)
                before = st.rows[pk]
                after = dict(before)
                # not the keys, nor a LIST partition key (TiDB moves such a row with an
                # insert before the delete: partition.go updateRecord); writable_columns()
                # leaves out generated columns and a column being dropped
                pkey = t.partition["col"] if t.partition else None
                cols = [c for c in t.writable_columns() if not c.pk and not c.unique
                        and not c.nc_pk and c.name != pkey]
                if not cols:
                    continue
                changed = []
                for c in r.sample(cols, r.randint(1, min(3, len(cols)))):
                    v = self.value(c)
                    if not c.same_stored(v, before[c.name]):
                        after[c.name] = v
                        changed.append(c.name)
                if not changed:
                    continue
                t.fill_generated(after)
                st.put(pk, after)
                primary = primary or (t.id, pk)
                m.updated_rows.append(codec.update_row(t, before, after, pk))
                m.sequence.append(binlog_pb2.Update)
                wq, wp = self.where(t, before)
                sql.append(("UPDATE %s SET %s%s" % (
                    fq, ",".join("`%s` = %%s" % n for n in changed), wq),
                    [t.col(n).sql_param(after[n]) for n in changed] + wp))
            else:
                pk = r.choice(st.keys)
                row = st.rows[pk]
                st.remove(pk)
                primary = primary or (t.id, pk)
                m.deleted_rows.append(codec.delete_row(t, row, pk))
                m.sequence.append(binlog_pb2.DeleteRow)
                wq, wp = self.where(t, row)
                sql.append(("DELETE FROM %s%s" % (fq, wq), wp))
        muts = {k: v for k, v in muts.items() if len(v.sequence)}
        if not sql:
            return
        self._commit(start_ts, version, muts, sql, primary)

    def _commit(self, start_ts, version, muts, sql, primary, rows=None):
        """Runs sql on the truth in one transaction (each statement must change `rows` rows,
        default 1) and publishes the binlog of muts (table id -> TableMutation) at the next
        commit TSO; primary is the (table id, handle) of the transaction's primary key."""
        # the same transaction on the truth, then the binlog
        with self.conn.cursor() as cur:
            cur.execute("BEGIN")
            for q, params in sql:
                n = cur.execute(q, params)
                want = 1 if rows is None else rows
                if n != want:
                    raise RuntimeError("truth affected %d rows: %s %r" % (n, q, params))
            cur.execute("COMMIT")
        pv = binlog_pb2.PrewriteValue(schema_version=version)
        for m in muts.values():
            pv.mutations.append(m)
        pv_bytes = pv.SerializeToString()
        # primary key of the txn as a TiDB record key (tablecodec.EncodeRowKeyWithHandle):
        # 't' + comparable int64 table id + '_r' + comparable int64 handle
        # (a common handle's record key is its memcomparable datums; the simulator keeps
        # the int form with handle 1: tirelay does not read the primary key)
        hid = primary[1] if isinstance(primary[1], int) else 1
        hid = hid - (1 << 64) if hid >= (1 << 63) else hid
        prewrite_key = (b"t" + ((primary[0] ^ (1 << 63)) & codec.MASK64).to_bytes(8, "big") + b"_r"
                        + ((hid ^ (1 << 63)) & codec.MASK64).to_bytes(8, "big"))

        def make(commit_ts):
            return binlog_pb2.Binlog(tp=binlog_pb2.Commit, start_ts=start_ts, commit_ts=commit_ts,
                                     prewrite_key=prewrite_key, prewrite_value=pv_bytes,
                                     ddl_job_id=0, ddl_schema_state=0)

        self.publish(self.pick_pump(), make)
        self.txns += 1
        self.rows += len(sql) if rows is None else rows * len(sql)

    def run_statement(self, t, op, n):
        """One statement changing n rows of t (op "insert", "update" or "delete"), alone in
        its transaction, with its rows in primary key order: one multi-row statement on the
        truth, one TableMutation in the binlog. A real primary writes such a statement as
        one rows event, as tirelay writes the mutation (tests/integration/test_real_clients.py
        compares clients of both). t needs an int primary key. Returns the keys changed."""
        assert t.pk_is_handle
        st = self.state[t.id]
        start_ts = self.tso.next()
        m = binlog_pb2.TableMutation(table_id=t.id)
        fq = "`%s`.`%s`" % (t.db, t.name)
        pk = t.pk.name
        if op == "insert":
            rows = sorted((self.new_row(st) for _ in range(n)), key=lambda kr: kr[0])
            keys = [k for k, _ in rows]
            if len(set(keys)) != len(keys):
                return self.run_statement(t, op, n)
            names = [c.name for c in t.writable_columns()]
            params = []
            for key, row in rows:
                t.fill_generated(row)
                st.put(key, row)
                m.inserted_rows.append(codec.insert_row(t, row, key))
                m.sequence.append(binlog_pb2.Insert)
                params += [c.sql_param(row[c.name]) for c in t.writable_columns()]
            one = "(%s)" % ",".join(["%s"] * len(names))
            sql = [("INSERT INTO %s (%s) VALUES %s" % (fq, ",".join("`%s`" % x for x in names),
                                                       ",".join([one] * n)), params)]
        else:
            keys = sorted(self.rng.sample(st.keys, min(n, len(st.keys))))
            n = len(keys)
            if n == 0:
                return []
            inlist = "`%s` IN (%s)" % (pk, ",".join(["%s"] * n))
            if op == "delete":
                for key in keys:
                    m.deleted_rows.append(codec.delete_row(t, st.rows[key], key))
                    m.sequence.append(binlog_pb2.DeleteRow)
                    st.remove(key)
                sql = [("DELETE FROM %s WHERE %s" % (fq, inlist), keys)]
            else:
                cols = [c for c in t.writable_columns() if not c.pk and not c.unique]
                cols = self.rng.sample(cols, min(len(cols), self.rng.randint(1, 3)))
                sets, params = [], []
                afters = {}
                for key in keys:
                    before = st.rows[key]
                    after = dict(before)
                    for c in cols:
                        for _ in range(20):   # a value that changes the row, or it is not logged
                            v = self.value(c)
                            if not c.same_stored(v, before[c.name]):
                                break
                        after[c.name] = v
                    t.fill_generated(after)
                    afters[key] = after
                for c in cols:
                    sets.append("`%s` = CASE `%s` %s END" % (
                        c.name, pk, " ".join(["WHEN %s THEN %s"] * n)))
                    for key in keys:
                        params += [key, c.sql_param(afters[key][c.name])]
                for key in keys:
                    m.updated_rows.append(codec.update_row(t, st.rows[key], afters[key], key))
                    m.sequence.append(binlog_pb2.Update)
                    st.put(key, afters[key])
                sql = [("UPDATE %s SET %s WHERE %s" % (fq, ", ".join(sets), inlist),
                        params + keys)]
        self._commit(start_ts, self.schema_version, {t.id: m}, sql, (t.id, keys[0]), rows=n)
        return keys

    def big_txn(self, total_bytes, row_bytes, truth):
        """--big-txn-bytes: one INSERT transaction of about total_bytes of row data into
        t_big (id BIGINT, v TEXT), row_bytes of v per row. Rows are encoded once into the
        PrewriteValue (built a slice at a time, the Python lists are dropped as they go);
        the truth gets the same rows only with truth=True (tests; the bench skips it)."""
        t = ts.Table(self.args.db, "t_big", [ts.c_int("id", big=True, pk=True),
                                             ts.c_text("v")])
        self.create_table(t)
        start_ts = self.tso.next()
        n = max(1, total_bytes // row_bytes)
        pv = binlog_pb2.PrewriteValue(schema_version=self.schema_version)
        m = pv.mutations.add(table_id=t.id)
        chunk = 4096
        for lo in range(1, n + 1, chunk):
            hi = min(n + 1, lo + chunk)
            rows = [{"id": i, "v": (("%010d|" % i) * (row_bytes // 11 + 1))[:row_bytes]}
                    for i in range(lo, hi)]
            if truth:
                with self.conn.cursor() as cur:
                    if lo == 1:
                        cur.execute("BEGIN")
                    cur.executemany("INSERT INTO `%s`.`t_big` (`id`,`v`) VALUES (%%s,%%s)"
                                    % self.args.db, [(r["id"], r["v"]) for r in rows])
            m.inserted_rows.extend(codec.insert_row(t, r) for r in rows)
            m.sequence.extend([binlog_pb2.Insert] * len(rows))
            self.state[t.id].rows.update((r["id"], None) for r in rows)
        if truth:
            with self.conn.cursor() as cur:
                cur.execute("COMMIT")
        pv_bytes = pv.SerializeToString()
        del pv, m
        prewrite_key = b"t" + ((t.id ^ (1 << 63)) & codec.MASK64).to_bytes(8, "big") + b"_r" + \
            ((1 ^ (1 << 63)) & codec.MASK64).to_bytes(8, "big")

        def make(commit_ts):
            return binlog_pb2.Binlog(tp=binlog_pb2.Commit, start_ts=start_ts, commit_ts=commit_ts,
                                     prewrite_key=prewrite_key, prewrite_value=pv_bytes,
                                     ddl_job_id=0, ddl_schema_state=0)

        commit_ts = self.publish(self.pick_pump(), make)
        self.txns += 1
        self.rows += n
        self.big = {"rows": n, "row_bytes": row_bytes, "prewrite_value_bytes": len(pv_bytes),
                    "commit_ts": commit_ts}
        log("big transaction: %d rows, %d bytes of PrewriteValue, commit_ts %d"
            % (n, len(pv_bytes), commit_ts))

    # ---- etcd registration and control (sections 5.3, 6.1)

    def register(self, p):
        if self.etcd:
            self.etcd.put("/tidb-binlog/v1/pumps/" + p.node_id, p.status_json())

    def heartbeat_loop(self):
        while not self.stopping.wait(self.args.heartbeat_interval):
            for p in self.pumps:
                if p.dead or p.state == "offline":
                    continue
                try:
                    self.register(p)
                except OSError as e:
                    log("pump %d: heartbeat failed: %r" % (p.idx, e))

    def drainers_caught_up(self, ts):
        for key, value in self.etcd.prefix("/tidb-binlog/v1/drainers/"):
            st = json.loads(value)
            if st.get("state") != "offline" and st.get("maxCommitTS", 0) < ts:
                return False
        return True

    def maybe_freeze(self):
        """Workload thread, between transactions: waits while a freeze is asked for."""
        if not self.freeze_req.is_set():
            return
        self.frozen.set()
        while self.freeze_req.is_set() and not self.stopping.is_set():
            time.sleep(0.02)
        self.frozen.clear()

    def control(self, cmd, idx):
        if cmd == "freeze":
            self.freeze_req.set()
            while not (self.frozen.is_set() or self.done or self.stopping.is_set()):
                time.sleep(0.02)
            with self.publish_lock:
                snap_ts = self.tso.next()   # not `ts`: that is the tidbschema module here
            log("frozen at a transaction boundary: snapshot TSO %d (last commit_ts %d)"
                % (snap_ts, self.last_commit_ts))
            self.write_status()  # the workload waits: the status is exact now
            return "%d %d" % (snap_ts, self.last_commit_ts)
        if cmd == "thaw":
            self.freeze_req.clear()
            log("thawed")
            return None
        p = self.pumps[idx]
        if cmd == "pause":          # pausing: no more writes, stop serving -> paused
            with self.publish_lock:
                p.state = "pausing"
            self.register(p)
            p.stop()
            p.state = "paused"
            self.register(p)
        elif cmd == "resume":
            p.start()
            p.state = "online"
            p.last_write = time.monotonic()
            self.register(p)
        elif cmd == "offline":      # closing: fake binlog, wait for the drainers -> offline
            with self.publish_lock:
                p.state = "closing"
                t = self.tso.next()
                p.append(binlog_pb2.Binlog(tp=binlog_pb2.Rollback, start_ts=t, commit_ts=t,
                                           ddl_job_id=0, ddl_schema_state=0))
            self.register(p)
            deadline = time.monotonic() + 120
            while not self.drainers_caught_up(p.max_commit_ts):
                if time.monotonic() > deadline:
                    raise RuntimeError("pump %d: drainers never reached %d" % (idx, p.max_commit_ts))
                time.sleep(0.2)
            p.state = "offline"
            self.register(p)
            p.stop()
        elif cmd == "kill":         # crash: etcd keeps saying online
            with self.publish_lock:
                p.dead = True
            p.stop()
        elif cmd == "garbage":      # a payload that is not a binlog.Binlog
            with self.publish_lock:
                t = self.tso.next()
                # field 15 with wire type 7 (invalid), then bytes that run off the end
                p.append_raw(b"\x7f\xff\x0a\x40garbage", t)
        elif cmd == "replay":       # an earlier commit sent again: commit_ts goes backwards
            with self.publish_lock:
                old = None
                with p.cond:
                    resps = list(p.resps)
                for data in reversed(resps):
                    b = binlog_pb2.Binlog.FromString(
                        pump_pb2.PullBinlogResp.FromString(data).entity.payload)
                    if b.tp == binlog_pb2.Commit and b.ddl_job_id == 0:
                        old = b
                        break
                if old is None:
                    raise RuntimeError("pump %d: no DML commit to replay" % idx)
                p.append_raw(old.SerializeToString(), p.max_commit_ts)
        elif cmd == "bad-ddl":      # a DDL whose history row is not a job JSON
            job_id = self.alloc_id()
            query = "CREATE TABLE `%s`.`bad_ddl_t` (id INT PRIMARY KEY)" % self.args.db

            def insert_bad(commit_ts):
                with self.conn.cursor() as cur:
                    cur.execute("INSERT INTO mysql.tidb_ddl_history (job_id, job_meta, db_name,"
                                " table_name, schema_ids, table_ids, create_time)"
                                " VALUES (%s,%s,%s,%s,%s,%s,NOW())",
                                (job_id, b'{"id":%d,"type":3,"binlog":{"SchemaVersion":' % job_id,
                                 self.args.db, "bad_ddl_t", str(self.schema_id), ""))

            def make(commit_ts):
                return binlog_pb2.Binlog(tp=binlog_pb2.Commit, start_ts=commit_ts - 1,
                                         commit_ts=commit_ts, prewrite_key=b"mDDLJobHistory",
                                         ddl_query=query.encode(), ddl_job_id=job_id,
                                         ddl_schema_state=ts.STATE_PUBLIC)

            self.publish(p, make, insert_bad)
        elif cmd == "restart":
            p.start()
            p.dead = False
            p.last_write = time.monotonic()
            self.register(p)
        else:
            raise RuntimeError("unknown command %r" % cmd)
        log("pump %d: %s done (state %s, max_commit_ts %d)" % (idx, cmd, p.state, p.max_commit_ts))

    def control_loop(self):
        d = self.args.control_dir
        while not self.stopping.wait(0.1):
            for name in sorted(os.listdir(d)):
                if not name.endswith(".cmd"):
                    continue
                path = os.path.join(d, name)
                with open(path) as f:
                    words = f.read().split()
                try:
                    if words and words[0] in TICDC_COMMANDS and (
                            self.ticdc is not None or words[0] not in PUMP_COMMANDS):
                        answer = self.ticdc_control(words)
                    else:
                        answer = self.control(words[0], int(words[1]))
                    result = "ok" if answer is None else "ok " + answer
                except Exception as e:  # noqa: BLE001 - reported to the test
                    log("control %s failed: %r" % (name, e))
                    result = "error: %r" % (e,)
                with open(path[:-4] + ".done", "w") as f:
                    f.write(result)
                os.remove(path)

    # ---- TiCDC faults (tests/sim/README.md)

    def ticdc_control(self, words):
        if self.ticdc is None:
            raise RuntimeError("%s needs --ticdc-kafka or --ticdc-storage" % words[0])
        if words[0] in ("big-txn", "dup-keyless"):
            return self._ticdc_txn_fault(words)
        return self.ticdc.control(words)

    def _ticdc_txn_fault(self, words):
        """big-txn N / dup-keyless: one more transaction, run here while the workload waits at
        a transaction boundary (the truth connection is free), applied to the truth."""
        was_frozen = self.freeze_req.is_set()
        self.freeze_req.set()
        while not (self.frozen.is_set() or self.done or self.stopping.is_set()):
            time.sleep(0.02)
        try:
            if words[0] == "big-txn":
                n = int(words[1])
                if n <= 1024:
                    raise RuntimeError("big-txn wants more than 1024 rows")
                t = self._fault_table("t_cdc_big", lambda db: ts.Table(db, "t_cdc_big", [
                    ts.c_int("id", big=True, pk=True), ts.c_varchar("v", 40), ts.c_int("n")]))
                t.pk_range = (1, 1 << 48)        # n distinct keys (run_statement redraws on a clash)
                # transactions of other tables right behind it, queued with it (the sink
                # holds its flush meanwhile), so that their rows go between its batches
                self.ticdc.hold_drain(True)
                try:
                    keys = self.run_statement(t, "insert", n)
                    big_ts = self.last_commit_ts
                    # one transaction per workload table: every partition has some
                    for x in [x for x in self.tables if not getattr(x, "fault_only", False)]:
                        self.run_txn([x])
                finally:
                    self.ticdc.hold_drain(False)
                return "%d %d" % (big_ts, len(keys))
            t = self._fault_table("t_cdc_keyless", lambda db: ts.Table(db, "t_cdc_keyless", [
                ts.c_int("a"), ts.c_varchar("s", 20)]))
            st = self.state[t.id]
            row = {"a": self.rng.randint(1, 1000), "s": "dup"}
            m = binlog_pb2.TableMutation(table_id=t.id)
            sql = []
            for _ in range(2):
                st.next_rowid += 1
                st.put(st.next_rowid, dict(row))
                m.inserted_rows.append(codec.insert_row(t, row, st.next_rowid))
                m.sequence.append(binlog_pb2.Insert)
                sql.append(("INSERT INTO `%s`.`%s` (`a`,`s`) VALUES (%%s,%%s)" % (t.db, t.name),
                            [row["a"], row["s"]]))
            self._commit(self.tso.next(), self.schema_version, {t.id: m}, sql, (t.id, st.next_rowid))
            return "%d" % self.last_commit_ts
        finally:
            if not was_frozen:
                self.freeze_req.clear()

    def _fault_table(self, name, make):
        """A table of the faults only (the random workload leaves it alone), created on first
        use with a DDL as any other."""
        t = next((t for t in self.tables if t.name == name and t.db == self.args.db), None)
        if t is None:
            t = make(self.args.db)
            t.fault_only = True
            self.create_table(t)
        return t

    # ---- status

    def write_status(self):
        if not self.args.status_file:
            return
        with self.status_lock:
            self._write_status()

    def status_loop(self):
        """TiCDC mode: the counts and the watermark move after the workload is done too."""
        while not self.stopping.wait(0.3):
            self.write_status()

    def _write_status(self):
        st = {
            "pid": os.getpid(),
            "pumps": ["127.0.0.1:%d" % p.port for p in self.pumps],
            "pump_nodes": [{"node_id": p.node_id, "addr": "127.0.0.1:%d" % p.port,
                            "state": p.state, "dead": p.dead, "max_commit_ts": p.max_commit_ts}
                           for p in self.pumps],
            "cluster_id": self.args.cluster_id,
            "done": self.done,
            "txns": self.txns,
            "rows": self.rows,
            "ddls": self.ddls,
            "schema_version": self.schema_version,
            "last_commit_ts": self.last_commit_ts,
            "big_txn": self.big,
            "db": self.args.db,
            "tables": [{"name": t.name, "id": t.id,
                        "pk": t.pk.name if t.pk_is_handle else t.key_names(),
                        "rows": len(self.state[t.id].rows)} for t in self.tables],
        }
        st.update(self.extra_status)
        if self.ticdc is not None:
            st["ticdc"] = self.ticdc.status()
        tmp = self.args.status_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(st, f)
        os.replace(tmp, self.args.status_file)

    # ---- main

    def workload(self):
        a = self.args
        if a.random is not None:           # the differential workload (randload.py)
            import randload
            self.rng.seed(a.random)
            return randload.RandomLoad(self).run()
        first, later = make_types_tables(a.db) if a.types == "all" else make_tables(a.db)
        if a.shapes:
            first = first + make_shapes_tables(a.db)
        self.create_schema(a.db)
        for t in first:
            self.create_table(t)
        self.write_status()
        if a.big_txn_bytes:
            self.big_txn(a.big_txn_bytes, a.big_row_bytes, a.big_txn_truth)
        t0 = time.monotonic()
        last_status = t0
        altered = False
        while not self.stopping.is_set():
            if a.txns and self.txns >= a.txns:
                break
            if a.rows and self.rows >= a.rows:
                break
            self.maybe_freeze()
            if later and self.rows >= a.late_ddl_rows:
                self.create_table(later.pop(0))
            if a.alter and not altered and self.rows >= a.alter_rows:
                self.alter_tables()
                altered = True
            self.run_txn()
            if a.rate > 0:
                due = t0 + self.txns / a.rate
                delay = due - time.monotonic()
                if delay > 0:
                    self.stopping.wait(delay)
            if time.monotonic() - last_status > 0.5:
                self.write_status()
                last_status = time.monotonic()
        while later and not self.stopping.is_set():
            self.create_table(later.pop(0))
        if a.alter and not altered and not self.stopping.is_set():
            self.alter_tables()
        self.done = True
        self.write_status()
        log("workload done: %d txns, %d row changes, %d DDLs, last commit_ts %d in %.1fs"
            % (self.txns, self.rows, self.ddls, self.last_commit_ts, time.monotonic() - t0))


TICDC_COMMANDS = ("redeliver", "ticdc-restart", "ticdc-restart-exact", "lag", "big-txn",
                  "dup-keyless", "garbage", "unknown-table", "type-mismatch")
PUMP_COMMANDS = ("garbage",)        # also a Pump command: which one depends on the mode


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mysql-host", default="127.0.0.1")
    p.add_argument("--mysql-port", type=int, default=3306)
    p.add_argument("--mysql-user", default="root")
    p.add_argument("--mysql-password", default="")
    p.add_argument("--mysql-socket", default="")
    p.add_argument("--cluster-id", type=int, default=6789)
    p.add_argument("--pumps", type=int, default=1)
    p.add_argument("--pump-ports", default="", help="comma list; default: ephemeral ports")
    p.add_argument("--fake-interval", type=float, default=3.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--txns", type=int, default=0, help="stop after N transactions (0: no limit)")
    p.add_argument("--rows", type=int, default=0, help="stop after N row changes (0: no limit)")
    p.add_argument("--rate", type=float, default=0.0, help="transactions per second (0: flat out)")
    p.add_argument("--max-ops", type=int, default=30, help="max row changes per transaction")
    p.add_argument("--max-table-rows", type=int, default=3000)
    p.add_argument("--late-ddl-rows", type=int, default=2000,
                   help="create the last table after this many row changes")
    p.add_argument("--alter", action="store_true",
                   help="also ALTER TABLE ... ADD COLUMN (with defaults) on two tables mid-run")
    p.add_argument("--alter-rows", type=int, default=4000,
                   help="run the ALTERs after this many row changes")
    p.add_argument("--db", default="simdb")
    p.add_argument("--types", default="", choices=["", "all"],
                   help="all: run the workload over the column-type matrix tables t_ty_* "
                        "(truth session time_zone '+00:00') instead of the default tables")
    p.add_argument("--shapes", action="store_true",
                   help="also create the table-shape tables (no primary key with and without a "
                        "UNIQUE key, clustered VARCHAR and composite primary keys)")
    p.add_argument("--big-txn-bytes", type=int, default=0,
                   help="first publish ONE transaction of about this many bytes of row data "
                        "(table t_big, counted as one transaction: use --txns 1)")
    p.add_argument("--big-row-bytes", type=int, default=1024, help="bytes of v per t_big row")
    p.add_argument("--big-txn-truth", action="store_true",
                   help="also apply the big transaction to the truth (small sizes only)")
    p.add_argument("--random", type=int, default=None, metavar="SEED",
                   help="run the seeded randomized differential workload (randload.py) "
                        "instead of the default one: every shape, type and DDL kind")
    p.add_argument("--ops", type=int, default=100000,
                   help="--random: stop after this many operations (row changes + DDLs)")
    p.add_argument("--checkpoints", default="",
                   help="--random: comma list of op counts at which to pause (status "
                        "random.paused) until <status-file>.resume-<k> exists")
    p.add_argument("--known-bugs", default="avoid",
                   help="--random: avoid (stay clear of the cases in randload.KNOWN_BUGS), "
                        "run (run into them) or the name of one to run into")
    p.add_argument("--status-file", default="")
    p.add_argument("--gen-dir", default="")
    p.add_argument("--exit-when-done", action="store_true")
    p.add_argument("--etcd", default="", help="etcd client URL: register the pumps there")
    p.add_argument("--heartbeat-interval", type=float, default=2.0,
                   help="seconds between pump Status updates in etcd")
    p.add_argument("--idle-pumps", default="",
                   help="comma list of pump indexes TiDB never writes to (fake binlogs only)")
    p.add_argument("--control-dir", default="",
                   help="directory of <name>.cmd files: 'pause|resume|offline|kill|restart N'; "
                        "each becomes <name>.done with the result")
    p.add_argument("--start-frozen", action="store_true",
                   help="freeze before the first workload transaction (after the tables are "
                        "created) until a 'thaw 0' command")
    g = p.add_argument_group("TiCDC output (ticdc.py): instead of Pumps")
    g.add_argument("--ticdc-kafka", default="", metavar="BOOTSTRAP",
                   help="produce canal-json (TiDB extension) to this Kafka cluster")
    g.add_argument("--ticdc-topic", default="", help="the topic (with --ticdc-kafka)")
    g.add_argument("--ticdc-kafka-compression", default="none",
                   choices=["none", "gzip", "snappy", "lz4", "zstd"],
                   help="producer compression (the sink URI's compression; TiCDC's default none)")
    g.add_argument("--ticdc-storage", default="", metavar="DIR",
                   help="write TiCDC's storage-sink layout (canal-json) into DIR")
    g.add_argument("--ticdc-storage-layout", default="classic", choices=["classic", "new"],
                   help="classic: index file before the data file; new: data file first")
    g.add_argument("--ticdc-flush-interval", type=float, default=0.5,
                   help="storage: seconds between data-file flushes")
    g.add_argument("--ticdc-date-separator", default="day",
                   choices=["none", "year", "month", "day"])
    g.add_argument("--ticdc-watermark-interval", type=float, default=0.2,
                   help="seconds between watermarks (storage: metadata checkpoints)")
    g.add_argument("--ticdc-dispatch", default="table", choices=["table", "ts"],
                   help="row partition: hash of schema+table (TiCDC's default) or commit_ts")
    g.add_argument("--ticdc-history-lag", type=float, default=0.05,
                   help="seconds between a DDL message and its tidb_ddl_history row")
    g.add_argument("--ticdc-shared-ts-every", type=int, default=0, metavar="N",
                   help="every N-th transaction shares the previous one's commit_ts")
    a = p.parse_args(argv)
    if a.ticdc_kafka and a.ticdc_storage:
        p.error("--ticdc-kafka and --ticdc-storage exclude each other")
    if a.ticdc_kafka and not a.ticdc_topic:
        p.error("--ticdc-kafka needs --ticdc-topic")
    if a.ticdc_kafka or a.ticdc_storage:
        a.pumps = 0                    # TiDB >= 8.4: no Pumps
    return a


def embedded(argv):
    """The simulator inside the calling process, for tests that drive DDL and DML step by
    step through the Sim's ddl_* and run_txn methods: argv as on the command line; loads
    the protos, connects to the truth, serves the pumps and emits fake binlogs (with the
    --ticdc-* flags: runs the TiCDC output instead; sim.ticdc.status() and
    sim.ticdc.control(words) work in-process).  Call sim.close() at the end."""
    global binlog_pb2, pump_pb2
    args = parse_args(argv)
    binlog_pb2, pump_pb2 = protogen.load(args.gen_dir or None)
    sim = Sim(args)
    sim.connect()
    if args.ticdc_kafka or args.ticdc_storage:
        import ticdc
        sim.ticdc = ticdc.TiCDC(sim, args, log)
    for p in sim.pumps:
        p.start()
    threading.Thread(target=sim.fake_loop, daemon=True).start()
    return sim


def main(argv=None):
    global binlog_pb2, pump_pb2
    args = parse_args(argv)
    binlog_pb2, pump_pb2 = protogen.load(args.gen_dir or None)
    sim = Sim(args)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
        sim.stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    faulthandler.register(signal.SIGUSR1)     # kill -USR1: every thread's stack to the log
    sim.connect()
    if args.ticdc_kafka or args.ticdc_storage:
        import ticdc
        sim.ticdc = ticdc.TiCDC(sim, args, log)
        threading.Thread(target=sim.status_loop, daemon=True).start()
    for p in sim.pumps:
        p.start()
        sim.register(p)
        log("pump %d serving on 127.0.0.1:%d (cluster id %d)" % (p.idx, p.port, args.cluster_id))
    sim.write_status()
    faker = threading.Thread(target=sim.fake_loop, daemon=True)
    faker.start()
    if sim.etcd:
        threading.Thread(target=sim.heartbeat_loop, daemon=True).start()
    if args.control_dir:
        os.makedirs(args.control_dir, exist_ok=True)
        threading.Thread(target=sim.control_loop, daemon=True).start()
    rc = 0
    try:
        sim.workload()
        if not args.exit_when_done:
            stop.wait()
    except Exception as e:  # noqa: BLE001 - report and exit non-zero
        log("error: %r" % (e,))
        rc = 1
        import traceback
        traceback.print_exc()
    if sim.ticdc is not None:
        sim.ticdc.close()
        sim.write_status()
        # librdkafka's teardown can wait on a broker that is gone; nothing is left to do
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)
    sim.stopping.set()
    for p in sim.pumps:
        p.stop()
    return rc


if __name__ == "__main__":
    sys.exit(main())
