#!/usr/bin/python3
"""Pre-encoded Pump streams for the benchmarks (issue 8), generated once.

Writes into --out:
  pump-<i>.bin   one file per Pump: records of
                 [u32 LE length][u64 LE commit_ts][PullBinlogResp bytes]
                 in commit_ts order (what /binlog.Pump/PullBinlogs streams);
                 bench/feeder.c replays them.
  history.json   the rows of mysql.tidb_ddl_history the relay needs (the DDL
                 jobs of the CREATE DATABASE / CREATE TABLE binlogs), to be
                 loaded into the throwaway MariaDB that plays TiDB's SQL endpoint.
  meta.json      shape, rows, transactions, bytes, last commit_ts, cluster id.

Shapes (INSERT transactions of --rows-per-txn rows, ids 1..N, spread over the
Pumps round-robin):
  sysbench  sbtest1 (id INT PK, k INT, c CHAR(120), pad CHAR(60)) with values
            shaped as sysbench's (groups of 11 digits joined by '-');
  wide      wide1: id BIGINT PK and 39 columns of mixed types (INT, BIGINT
            UNSIGNED, VARCHAR, CHAR, DECIMAL, DATETIME(6), DOUBLE, TEXT).
--marker puts a fixed-width placeholder '@@TS' + 20 digits + '@@' at the start
of the first row's string column (c / s1) of every transaction: the latency
feeder overwrites the digits with its send time (CLOCK_MONOTONIC ns).

Everything DDL-related goes through the simulator (tests/sim/tidbsim.py Sim:
DDL jobs, history rows, TSO) and every row through its encoders
(tests/sim/tidbcodec.py); only value pools are precomputed, so generating
millions of rows takes seconds per million, not minutes.

Usage: bench/gen_stream.py --out DIR --shape sysbench|wide --rows N [--pumps 8]
                           [--rows-per-txn 10] [--marker]
"""
import argparse
import json
import os
import random
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "sim"))
import cluster  # noqa: E402
import protogen  # noqa: E402
import tidbcodec as codec  # noqa: E402
import tidbschema as ts  # noqa: E402
import tidbsim  # noqa: E402

DB = "benchdb"
MARKER = b"@@TS" + b"0" * 20 + b"@@"
POOL = 1024


def sysbench_table():
    return ts.Table(DB, "sbtest1", [ts.c_int("id", pk=True), ts.c_int("k", nullable=False, default=0),
                                    ts.c_char("c", 120, nullable=False, default=""),
                                    ts.c_char("pad", 60, nullable=False, default="")])


def wide_table():
    cols = [ts.c_int("id", big=True, pk=True)]
    makers = [lambda i: ts.c_int("i%d" % i, nullable=False, default=0),
              lambda i: ts.c_int("u%d" % i, big=True, unsigned=True, nullable=False, default=0),
              lambda i: ts.c_varchar("s%d" % i, 64, nullable=False, default=""),
              lambda i: ts.c_char("ch%d" % i, 16, nullable=False, default=""),
              lambda i: ts.c_decimal("d%d" % i, 12, 3, nullable=False, default=0),
              lambda i: ts.c_datetime("t%d" % i, 6),
              lambda i: ts.c_double("f%d" % i, nullable=False, default=0),
              lambda i: ts.c_text("x%d" % i)]
    for i in range(39):
        cols.append(makers[i % len(makers)](i // len(makers) + 1))
    return ts.Table(DB, "wide1", cols)


def sysbench_str(rng, groups):
    # sysbench oltp_common.lua: '###########-' repeated, '#' a random digit
    return "-".join("".join(rng.choice("0123456789") for _ in range(11)) for _ in range(groups))


class RowEncoder:
    """Rows of one table from pools of pre-encoded (column id, value) datums.
    Column ids and values are encoded by tidbcodec exactly as insert_row does."""

    def __init__(self, table, rng, marker):
        self.t = table
        self.rng = rng
        self.marker_col = None
        gen = tidbsim.Generator(rng)
        self.pools = []
        for c in table.columns:
            if c.pk:
                continue
            vals = []
            for _ in range(POOL):
                if table.name == "sbtest1":
                    v = rng.randint(1, 1 << 20) if c.name == "k" else \
                        sysbench_str(rng, 10 if c.name == "c" else 5)
                elif c.kind == "double":
                    v = gen.double_value(c)
                elif c.kind == "str" and c.tp == ts.TP_BLOB:
                    v = sysbench_str(rng, rng.randint(1, 20))
                else:
                    v = gen.value(c)
                    while v is None and not c.nullable:
                        v = gen.value(c)
                vals.append(v)
            self.pools.append((c, vals, [None if v is None else codec.enc_int(c.id) + codec.enc_value(c, v)
                                         for v in vals]))
        if marker:
            # the first string column: the marker takes its first 26 characters
            for c, vals, _ in self.pools:
                if c.kind == "str" and c.maxlen >= 40:
                    self.marker_col = c
                    break

    def values(self, i):
        """(row dict, encoded inserted_rows element) of row id i."""
        row = {self.t.pk.name: i}
        parts = [codec.enc_int(i)]
        h = i * 2654435761
        for n, (c, vals, enc) in enumerate(self.pools):
            j = (h >> (n % 16)) % POOL
            row[c.name] = vals[j]
            if enc[j] is not None:
                parts.append(enc[j])
        return row, b"".join(parts)

    def marked(self, i):
        row, _ = self.values(i)
        c = self.marker_col
        row[c.name] = MARKER.decode() + row[c.name][len(MARKER):]
        return codec.insert_row(self.t, row)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--shape", choices=["sysbench", "wide"], default="sysbench")
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--rows-per-txn", type=int, default=10)
    p.add_argument("--pumps", type=int, default=1)
    p.add_argument("--marker", action="store_true")
    p.add_argument("--cluster-id", type=int, default=6789)
    p.add_argument("--seed", type=int, default=8)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    t0 = time.monotonic()

    gen_dir = os.path.join(a.out, "gen")
    truth = cluster.MariaDB(os.path.join(a.out, "ddl-mariadb")).start()
    try:
        sim_args = tidbsim.parse_args(["--mysql-socket", truth.socket, "--pumps", str(a.pumps),
                                       "--cluster-id", str(a.cluster_id), "--seed", str(a.seed),
                                       "--db", DB, "--gen-dir", gen_dir])
        tidbsim.binlog_pb2, tidbsim.pump_pb2 = protogen.load(gen_dir)
        bpb, ppb = tidbsim.binlog_pb2, tidbsim.pump_pb2
        sim = tidbsim.Sim(sim_args)
        sim.connect()
        table = sysbench_table() if a.shape == "sysbench" else wide_table()
        sim.create_schema(DB)
        sim.create_table(table)
        with truth.connect() as c, c.cursor() as cur:
            cur.execute("SELECT job_id, job_meta, db_name, table_name, schema_ids, table_ids, "
                        "create_time FROM mysql.tidb_ddl_history ORDER BY job_id")
            history = [{"job_id": r[0], "job_meta": r[1].decode(), "db_name": r[2],
                        "table_name": r[3], "schema_ids": r[4], "table_ids": r[5],
                        "create_time": str(r[6])} for r in cur.fetchall()]
    finally:
        truth.stop()
        cluster.rmtree(os.path.join(a.out, "ddl-mariadb"))

    files = [open(os.path.join(a.out, "pump-%d.bin" % i), "wb") for i in range(a.pumps)]
    last_ts = [0] * a.pumps

    def write(i, commit_ts, data):
        files[i].write(struct.pack("<IQ", len(data), commit_ts))
        files[i].write(data)
        last_ts[i] = commit_ts

    for pump in sim.pumps:            # the DDL binlogs, where the simulator put them
        for cts, data in zip(pump.commit_ts, pump.resps):
            write(pump.idx, cts, data)
    enc = RowEncoder(table, random.Random(a.seed), a.marker)
    # a record key of the table (tirelay does not read it): 't' table id '_r' handle 1
    prewrite_key = (b"t" + ((table.id ^ (1 << 63)) & codec.MASK64).to_bytes(8, "big") + b"_r"
                    + ((1 ^ (1 << 63)) & codec.MASK64).to_bytes(8, "big"))
    # a fresh TSO past the DDLs; then strictly increasing without consulting the clock
    ts_next = max(sim.tso.next(), codec.tso_compose(int(time.time() * 1000), 0)) + 1
    rows = txns = payload = 0
    i = 1
    sample = random.Random(a.seed + 1)
    while i <= a.rows:
        n = min(a.rows_per_txn, a.rows - i + 1)
        pv = bpb.PrewriteValue(schema_version=sim.schema_version)
        m = pv.mutations.add(table_id=table.id)
        for r in range(i, i + n):
            if a.marker and r == i:
                m.inserted_rows.append(enc.marked(r))
                continue
            row, data = enc.values(r)
            if sample.random() < 0.001:   # the pools' shortcut is insert_row's bytes
                assert data == codec.insert_row(table, row), "row encoding differs"
            m.inserted_rows.append(data)
        m.sequence.extend([bpb.Insert] * n)
        start_ts, commit_ts = ts_next, ts_next + 1
        ts_next += 2
        b = bpb.Binlog(tp=bpb.Commit, start_ts=start_ts, commit_ts=commit_ts,
                       prewrite_key=prewrite_key, prewrite_value=pv.SerializeToString(),
                       ddl_job_id=0, ddl_schema_state=0)
        resp = ppb.PullBinlogResp()
        resp.entity.pos.SetInParent()
        resp.entity.payload = b.SerializeToString()
        resp.entity.meta.startTs = start_ts
        resp.entity.meta.commitTs = commit_ts
        data = resp.SerializeToString()
        write(txns % a.pumps, commit_ts, data)
        payload += len(data)
        rows += n
        txns += 1
        i += n
    for f in files:
        f.close()
    for pump in sim.pumps:
        pump.server.stop(0)
    meta = {"shape": a.shape, "table": table.name, "db": DB, "rows": rows, "txns": txns,
            "rows_per_txn": a.rows_per_txn, "pumps": a.pumps, "cluster_id": a.cluster_id,
            "payload_bytes": payload, "last_commit_ts": max(last_ts), "marker": a.marker,
            "columns": len(table.columns), "table_ddl": table.ddl(truth=True)}
    with open(os.path.join(a.out, "history.json"), "w") as f:
        json.dump(history, f)
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print("generated %s: %d rows in %d txns over %d pumps, %d bytes of PullBinlogResp in %.1fs"
          % (a.out, rows, txns, a.pumps, payload, time.monotonic() - t0), flush=True)


if __name__ == "__main__":
    main()
