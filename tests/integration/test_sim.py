"""Tests of the TiDB simulator alone (tests/sim/tidbsim.py): a tiny gRPC
client pulls from its Pump and checks the stream against
shared/spec/tidb-binlog.md: increasing commit_ts, entity layout, fake
binlogs when idle, DDL jobs in mysql.tidb_ddl_history before their binlog,
and row bytes that an independent decoder (tidbdecode.py) turns back into
exactly the rows of the truth MariaDB.
Run: /usr/bin/python3 -m pytest -q tests/integration/test_sim.py
"""

import datetime
import decimal
import json
import os
import sys
import threading
import time

import grpc
import pymysql
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import protogen  # noqa: E402  (generated proto classes only, not the encoder)
import tidbdecode as dec  # noqa: E402
from conftest import wait_until, table_rows  # noqa: E402

binlog_pb2, pump_pb2 = protogen.load()


def _uvarint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


class Collector:
    """Pulls from one pump in a thread; for each DDL binlog it looks the job up
    in the truth's mysql.tidb_ddl_history the moment the binlog arrives."""

    def __init__(self, addr, cluster_id, offset, truth=None, timeout=300):
        self.entries = []          # (monotonic time, raw PullBinlogResp bytes, job_meta or None)
        self.error = None
        self.lock = threading.Lock()
        self.truth = truth
        self.channel = grpc.insecure_channel(addr)
        call = self.channel.unary_stream(
            "/binlog.Pump/PullBinlogs",
            request_serializer=pump_pb2.PullBinlogReq.SerializeToString,
            response_deserializer=lambda b: b)
        req = pump_pb2.PullBinlogReq(clusterID=cluster_id)
        req.startFrom.offset = offset
        self.stream = call(req, timeout=timeout)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        conn = self.truth.connect() if self.truth else None
        try:
            for raw in self.stream:
                job = None
                b = binlog_pb2.Binlog.FromString(pump_pb2.PullBinlogResp.FromString(raw).entity.payload)
                if b.ddl_job_id > 0 and conn is not None:
                    with conn.cursor() as cur:
                        cur.execute("SELECT job_meta FROM mysql.tidb_ddl_history WHERE job_id = %s",
                                    (b.ddl_job_id,))
                        r = cur.fetchone()
                        job = r[0] if r else b""
                with self.lock:
                    self.entries.append((time.monotonic(), raw, job))
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.CANCELLED:
                self.error = e
        except Exception as e:  # noqa: BLE001
            self.error = e
        finally:
            if conn:
                conn.close()

    def binlogs(self):
        with self.lock:
            items = list(self.entries)
        return [(t, raw, binlog_pb2.Binlog.FromString(pump_pb2.PullBinlogResp.FromString(raw).entity.payload),
                 job) for t, raw, job in items]

    def stop(self):
        self.stream.cancel()
        self.thread.join(10)
        self.channel.close()


def fakes_after(col, ts):
    return [b for _, _, b, _ in col.binlogs() if b.tp == binlog_pb2.Rollback and b.commit_ts > ts]


# ---------------------------------------------------------------- pure checks

def test_spec_worked_examples():
    """The encoder reproduces the byte examples of spec 3.6, 4.6.3, 4.6.4, 4.6.6, 4.7."""
    import tidbcodec as c
    import tidbschema as s
    h = bytes.fromhex
    assert c.enc_int(1 * 1) == h("0802") and c.enc_int(-1) == h("0801")
    assert c.enc_int(100) == h("08c801") and c.enc_int(-3) == h("0805")
    assert c.enc_uint((1 << 64) - 1) == h("09ffffffffffffffffff01")
    assert c.enc_bytes("abc") == h("0206616263")
    assert c.enc_null() == h("00")
    dt = datetime.datetime(2024, 1, 2, 3, 4, 5, 6)
    assert c.pack_time(dt) == 0x19B2443105000006
    assert c.enc_datetime(dt) == h("09868080a890869 1d919".replace(" ", ""))
    assert c.enc_decimal(decimal.Decimal("123.45"), 5, 2) == h("060502807b2d")
    assert c.enc_decimal(decimal.Decimal("-123.45"), 5, 2) == h("0605027f84d2")
    assert c.decimal_to_bin(decimal.Decimal("1234567890.1234"), 14, 4) == h("810dfb38d204d2")
    # 4.7: t(id INT PK handle, name VARCHAR(10), c DATETIME(6))
    t = s.Table("d", "t", [s.c_int("id", pk=True), s.c_varchar("name", 10), s.c_datetime("c", 6)])
    row = {"id": 7, "name": "abc", "c": dt}
    pt = "0986808 0a890869 1d919".replace(" ", "")
    assert c.insert_row(t, row) == h("080e" + "08040206616263" + "0806" + pt)
    assert c.delete_row(t, row) == h("0802080e" + "08040206616263" + "0806" + pt)
    after = dict(row, name="x")
    assert c.update_row(t, row, after) == h("0802080e08040206616263" + "0806" + pt
                                            + "0802080e080402027 8".replace(" ", "") + "0806" + pt)
    # NULL column without default is skipped on insert, kept on update/delete
    row2 = {"id": 7, "name": None, "c": dt}
    assert c.insert_row(t, row2) == h("080e" + "0806" + pt)
    assert c.delete_row(t, row2) == h("0802080e" + "080400" + "0806" + pt)
    # 3.6: fake binlog bytes
    ts_ = 445644800000000005
    fake = binlog_pb2.Binlog(tp=binlog_pb2.Rollback, start_ts=ts_, commit_ts=ts_, ddl_job_id=0,
                             ddl_schema_state=0)
    assert fake.SerializeToString() == h("0802" + "1085808080daf2cf9706" + "1885808080daf2cf9706"
                                         + "3800" + "4000")


def test_codec_roundtrip_random():
    """Random values through the encoder and the independent decoder."""
    import random
    import tidbcodec as c
    r = random.Random(5)
    for _ in range(3000):
        p = r.randint(1, 65)
        f = r.randint(0, min(p, 30))
        digits = "".join(r.choice("0123456789") for _ in range(p))
        v = decimal.Decimal(digits[:p - f] + ("." + digits[p - f:] if f else ""))
        if r.random() < 0.5:
            v = v.copy_negate()
        b = c.decimal_to_bin(v, p, f)
        got, n = dec.bin_to_decimal(b, p, f)
        assert n == len(b) and got == v, (v, p, f, b.hex())
        i = r.randint(-(1 << 63), (1 << 63) - 1)
        assert dec.varint(c.put_varint(i), 0)[0] == i
        u = r.randint(0, (1 << 64) - 1)
        assert dec.uvarint(c.put_uvarint(u), 0)[0] == u
        dt = datetime.datetime(r.randint(1000, 9999), r.randint(1, 12), r.randint(1, 28),
                               r.randint(0, 23), r.randint(0, 59), r.randint(0, 59),
                               r.randint(0, 999999))
        assert dec.unpack_time(c.pack_time(dt)) == dt


# ---------------------------------------------------------------- live stream

def test_stream_against_truth(truth, tidbsim):
    rows_target = 6000
    sim = tidbsim(truth, seed=11, rows=rows_target, fake_interval=0.5,
                  extra=["--late-ddl-rows", "2500", "--alter", "--alter-rows", "4000"])
    st0 = sim.status()
    assert len(st0["pumps"]) == 1
    col = Collector(st0["pumps"][0], sim.cluster_id, 0, truth)
    st = sim.wait_done(300)
    assert st["rows"] >= rows_target and len(st["tables"]) >= 4
    wait_until(lambda: col.error or len(fakes_after(col, st["last_commit_ts"])) >= 3, 60,
               what="3 fake binlogs after the last transaction")
    col.stop()
    assert col.error is None, col.error

    items = col.binlogs()
    tables = {}            # table id -> dec.TableInfo
    table_version = {}     # table id -> schema version that created it
    model = {}             # table id -> {pk: row}
    last_commit = 0
    last_version = 0
    n_dml = n_ddl = n_fake = n_rows = n_alter = 0
    for t, raw, b, job in items:
        # entity layout: 0A <len> 0A 00 (pos present, empty) ...
        assert raw[0] == 0x0A
        _, j = dec.uvarint(raw, 1)
        assert raw[j:j + 2] == b"\x0a\x00"
        resp = pump_pb2.PullBinlogResp.FromString(raw)
        assert resp.entity.meta.startTs == b.start_ts
        assert resp.entity.meta.commitTs == b.commit_ts
        assert b.commit_ts > last_commit, "commit_ts not increasing"
        last_commit = b.commit_ts
        # TSO = ms << 18 | logical, recent
        assert abs((b.commit_ts >> 18) / 1000.0 - time.time()) < 600
        if b.tp == binlog_pb2.Rollback:
            assert b.start_ts == b.commit_ts
            assert resp.entity.payload == (b"\x08\x02\x10" + _uvarint(b.start_ts) + b"\x18"
                                           + _uvarint(b.commit_ts) + b"\x38\x00\x40\x00")
            n_fake += 1
            continue
        assert b.tp == binlog_pb2.Commit
        assert b.start_ts < b.commit_ts
        if b.ddl_job_id > 0:
            n_ddl += 1
            assert not b.HasField("prewrite_value")
            assert b.ddl_schema_state == 5
            assert job, "DDL job %d not in mysql.tidb_ddl_history when its binlog arrived" % b.ddl_job_id
            j = json.loads(job)
            assert j["id"] == b.ddl_job_id and j["state"] == 6 and j["schema_state"] == 5
            # the binlog carries the job's query with the statement's ';' (tidbsim._ddl_binlog)
            assert b.ddl_query.decode() in (j["query"], j["query"] + ";")
            hv = j["binlog"]["SchemaVersion"]
            assert hv > last_version
            last_version = hv
            assert j["binlog"]["FinishedTS"] == b.commit_ts
            q = b.ddl_query.decode()
            if j["type"] == 1:
                assert q.startswith("CREATE DATABASE `")
                assert j["binlog"]["DBInfo"]["db_name"]["O"] == j["schema_name"]
            elif j["type"] == 5:
                assert q.startswith("ALTER TABLE `") and " ADD COLUMN `" in q
                ti = dec.TableInfo(j["binlog"]["TableInfo"])
                old = tables[ti.id]
                added = [c for c in ti.cols if c["id"] not in old.by_id]
                assert len(added) == 1 and added[0]["origin_default"] is not None
                assert added[0]["id"] == max(c["id"] for c in old.cols) + 1
                tables[ti.id] = ti
                for r in model[ti.id].values():
                    r[added[0]["name"]["O"]] = ti.origin_default(added[0])
                n_alter += 1
            else:
                assert j["type"] == 3 and q.startswith("CREATE TABLE `")
                ti = j["binlog"]["TableInfo"]
                assert ti["pk_is_handle"] is True and ti["id"] == j["table_id"]
                for c in ti["cols"]:
                    ft = c["type"]
                    assert set(ft) >= {"Tp", "Flag", "Flen", "Decimal", "Charset", "Collate", "Elems"}
                tables[ti["id"]] = dec.TableInfo(ti)
                table_version[ti["id"]] = hv
                model[ti["id"]] = {}
            continue
        n_dml += 1
        pv = binlog_pb2.PrewriteValue.FromString(b.prewrite_value)
        assert pv.schema_version == last_version
        seen = set()
        for m in pv.mutations:
            assert m.table_id not in seen, "two mutations for one table"
            seen.add(m.table_id)
            ti = tables[m.table_id]
            assert table_version[m.table_id] <= pv.schema_version
            assert len(m.sequence) == len(m.inserted_rows) + len(m.updated_rows) + len(m.deleted_rows)
            assert not m.deleted_ids and not m.deleted_pks
            ins = iter(m.inserted_rows)
            upd = iter(m.updated_rows)
            dele = iter(m.deleted_rows)
            rows = model[m.table_id]
            pkn = ti.pk["name"]["O"]
            for op in m.sequence:
                n_rows += 1
                if op == binlog_pb2.Insert:
                    r = ti.insert(next(ins))
                    assert r[pkn] not in rows
                    rows[r[pkn]] = r
                elif op == binlog_pb2.Update:
                    old, new = ti.update(next(upd))
                    assert old[pkn] == new[pkn]
                    assert rows[old[pkn]] == old, "update before-image differs from the stream's row"
                    assert old != new
                    rows[new[pkn]] = new
                elif op == binlog_pb2.DeleteRow:
                    r = ti.delete(next(dele))
                    assert rows.pop(r[pkn]) == r, "delete image differs from the stream's row"
                else:
                    pytest.fail("unexpected mutation type %d" % op)
    assert n_ddl == st["ddls"] and n_dml == st["txns"] and n_rows == st["rows"]
    assert n_fake >= 3
    assert n_alter == 2
    print("\nstream: %d DML txns, %d row changes, %d DDLs (%d ALTERs), %d fakes"
          % (n_dml, n_rows, n_ddl, n_alter, n_fake))

    conn = truth.connect()
    try:
        for tid, ti in tables.items():
            names = [c["name"]["O"] for c in ti.cols]
            truth_rows = table_rows(conn, st["db"], ti.name, ti.pk["name"]["O"])
            mine = [tuple(model[tid][k][n] for n in names) for k in sorted(model[tid])]
            assert len(mine) == len(truth_rows), ti.name
            for a, b_ in zip(mine, truth_rows):
                assert a == tuple(b_), (ti.name, a, b_)
    finally:
        conn.close()

    # fake binlogs keep coming at about the configured interval while idle
    fk = fakes_after(col, st["last_commit_ts"])
    gaps = [((fk[i + 1].commit_ts >> 18) - (fk[i].commit_ts >> 18)) / 1000.0 for i in range(len(fk) - 1)]
    assert all(0.4 <= g <= 3.0 for g in gaps), gaps


def test_pull_from_offset_and_cluster_id(truth, tidbsim):
    sim = tidbsim(truth, seed=2, txns=50, fake_interval=0.3, cluster_id=4242)
    st = sim.wait_done(120)
    pump = st["pumps"][0]
    # wrong cluster id: a gRPC error, nothing streamed
    col = Collector(pump, 1, 0, timeout=10)
    col.thread.join(15)
    assert isinstance(col.error, grpc.RpcError)
    assert col.error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert not col.entries
    col.channel.close()
    # full stream, then the same from the middle: strictly after the offset
    full = Collector(pump, 4242, 0)
    wait_until(lambda: len(fakes_after(full, st["last_commit_ts"])) >= 1, 30)
    full.stop()
    all_ts = [b.commit_ts for _, _, b, _ in full.binlogs()]
    mid = all_ts[len(all_ts) // 2]
    part = Collector(pump, 4242, mid)
    wait_until(lambda: len(part.binlogs()) >= len(all_ts) - len(all_ts) // 2 - 1, 30)
    part.stop()
    got = [b.commit_ts for _, _, b, _ in part.binlogs()]
    assert got[0] > mid
    assert got[:len(all_ts) - len(all_ts) // 2 - 1] == all_ts[len(all_ts) // 2 + 1:]


def test_multiple_pumps(truth, tidbsim):
    sim = tidbsim(truth, seed=4, txns=200, pumps=3, fake_interval=0.3)
    st = sim.wait_done(120)
    assert len(st["pumps"]) == 3
    cols = [Collector(p, sim.cluster_id, 0) for p in st["pumps"]]
    for c in cols:
        wait_until(lambda: len(fakes_after(c, st["last_commit_ts"])) >= 1, 30)
        c.stop()
    merged = []
    for c in cols:
        ts_ = [b.commit_ts for _, _, b, _ in c.binlogs()]
        assert ts_ == sorted(set(ts_))
        merged += [b for _, _, b, _ in c.binlogs() if b.tp == binlog_pb2.Commit]
    # every transaction and DDL on exactly one pump; TSOs unique across pumps
    assert len(merged) == st["txns"] + st["ddls"]
    assert len({b.commit_ts for b in merged}) == len(merged)
    assert all(len([b for _, _, b, _ in c.binlogs() if b.tp == binlog_pb2.Commit]) > 0 for c in cols)
