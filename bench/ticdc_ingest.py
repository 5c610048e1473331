#!/usr/bin/python3
"""Ingest from a pre-filled TiCDC topic (issue 16 point 8): canal-json with the TiDB
extension, as tests/sim/ticdc.py encodes it (encode_row, encode_watermark), in a Kafka
topic on librdkafka's mock cluster (tests/tools/tr_kafka_mock) -> tirelay -> durable binlog.

For each of --runs runs: a fresh mock cluster with topic cdc of --partitions partitions is
filled (--compression, TiCDC's default none; the messages of --rows rows in transactions of --rows-per-txn rows, each
transaction to partition txn % partitions as TiCDC's ts dispatcher does, a TIDB_WATERMARK to
every partition every 200 transactions and at the end); then tirelay starts on a fresh store
and the wall time runs until the index holds the last transaction; tirelay's CPU time
(user + system, all threads: librdkafka's fetchers, the consumer, the writer) is read then.
Prints rows/s, input MB/s (message bytes), CPU us per row, and the medians.

The mock cluster keeps about 5 MiB per partition (librdkafka 2.0.2, hard-coded): with 64
partitions that holds ~450,000 sysbench rows or ~60,000 wide rows uncompressed (more with
--compression lz4); more would be dropped before tirelay reads it, which the run detects
(it never catches up).

--replica: after the last run, a fresh mariadbd replica applies that tirelay's files (as
bench/ingest.py does) and the ratio tirelay rows/s / replica rows/s is printed.

Usage: bench/ticdc_ingest.py [--shape sysbench|wide] [--rows N] [--partitions 64]
                             [--rows-per-txn 10] [--runs 3] [--replica] [--perf FILE]
                             [--kafka-prop KEY=VALUE ...]
"""
import argparse
import json
import os
import random
import struct
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib as bl  # noqa: E402
from benchlib import cluster  # noqa: E402
import gen_stream  # noqa: E402
import ingest  # noqa: E402
import ticdc  # noqa: E402 (tests/sim, on the path through benchlib)

TOPIC = "cdc"
WATERMARK_EVERY = 200


def messages(shape, rows, rows_per_txn, partitions, history):
    """The cached message file: [u32 len][u16 partition][u8 kind][message]..., kind 0 row,
    1 watermark or DDL. Returns (path, meta)."""
    name = "ticdc-%s-r%d-t%d-p%d-v2" % (shape, rows, rows_per_txn, partitions)
    path = os.path.join(bl.DATA, name + ".bin")
    mpath = os.path.join(bl.DATA, name + ".json")
    if os.path.exists(path) and os.path.exists(mpath):
        with open(mpath) as f:
            return path, json.load(f)
    rng = random.Random(16)
    table = gen_stream.sysbench_table() if shape == "sysbench" else gen_stream.wide_table()
    enc = gen_stream.RowEncoder(table, rng, False)
    finished = max(json.loads(h["job_meta"]).get("binlog", {}).get("FinishedTS", 0)
                   for h in history)
    ts = ((int(time.time() * 1000) << 18) // (1 << 18)) << 18
    ts = max(ts, finished + (1000 << 18))
    now_ms = int(time.time() * 1000)
    total = 0
    txns = 0
    os.makedirs(bl.DATA, exist_ok=True)
    with open(path + ".tmp", "wb") as f:
        def put(p, kind, msg):
            nonlocal total
            f.write(struct.pack("<IHB", len(msg), p, kind))
            f.write(msg)
            total += len(msg)

        # The DDL of the history as TiCDC sends it (partition 0), so that the binlog creates
        # the database and table and a replica can apply it from the start.
        for h in history:
            job = json.loads(h["job_meta"])
            ts += 1 << 18
            kind = "CREATE" if "CREATE" in job.get("query", "").upper() else "QUERY"
            put(0, 1, ticdc.encode_ddl(h["db_name"], h["table_name"] or "", kind,
                                        job["query"], ts, now_ms))
        i = 1
        while i <= rows:
            ts += 1 << 18
            p = txns % partitions
            for _ in range(min(rows_per_txn, rows - i + 1)):
                row, _ = enc.values(i)
                put(p, 0, ticdc.encode_row(table, "INSERT", None, row, ts, rng, now_ms))
                i += 1
            txns += 1
            if txns % WATERMARK_EVERY == 0 or i > rows:
                for q in range(partitions):
                    put(q, 1, ticdc.encode_watermark(ts, now_ms))
    os.rename(path + ".tmp", path)
    meta = {"rows": rows, "txns": txns, "last_commit_ts": ts, "bytes": total,
            "db": table.db, "table": table.name}
    with open(mpath, "w") as f:
        json.dump(meta, f)
    return path, meta


def fill(kafka, path, compression):
    import confluent_kafka
    prod = confluent_kafka.Producer({"bootstrap.servers": kafka.bootstrap, "linger.ms": 20,
                                     "batch.size": 1 << 20, "compression.type": compression,
                                     "queue.buffering.max.messages": 1000000,
                                     "message.max.bytes": 16 << 20, "log_level": 3})
    errors = []

    def cb(err, m):
        if err is not None:
            errors.append(str(err))

    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    n = 0
    while pos < len(data):
        ln, p, _ = struct.unpack_from("<IHB", data, pos)
        pos += 7
        msg = data[pos:pos + ln]
        pos += ln
        while True:
            try:
                prod.produce(TOPIC, msg, partition=p, on_delivery=cb)
                break
            except BufferError:
                prod.poll(0.05)
        n += 1
        if n % 10000 == 0:
            prod.poll(0)
    left = prod.flush(300)
    if left or errors:
        raise RuntimeError("filling the topic: %d left, errors %s" % (left, errors[:3]))
    return n


def one_run(base, path, meta, ddl, partitions, compression, perf=None, kafka_props=()):
    kafka = cluster.KafkaMock(os.path.join(base, "kafka"), {TOPIC: partitions}).start()
    t0 = time.monotonic()
    n = fill(kafka, path, compression)
    fill_secs = time.monotonic() - t0
    relay = cluster.Tirelay(os.path.join(base, "tirelay"), [], 0, ddl.port,
                            max_binlog_size=256 << 20,
                            extra_conf="sync = commit\n" + ("\n[kafka]\n" + "".join(
                                "%s = %s\n" % tuple(kv.split("=", 1)) for kv in kafka_props)
                                if kafka_props else ""),
                            upstream_conf="ticdc-kafka = %s\nticdc-topic = %s\n"
                            % (kafka.bootstrap, TOPIC))
    try:
        secs, cpu, threads = bl.time_ingest(relay, meta["last_commit_ts"], perf, timeout=600)
        got = bl.committed_txns(relay.store)
        if got != meta["txns"] + meta["ddls"]:
            raise RuntimeError("the relay wrote %d transactions of the topic's %d: the mock keeps "
                               "about 5 MiB per partition (tests/tools/tr_kafka_mock.c), fewer "
                               "rows or more partitions" % (got, meta["txns"] + meta["ddls"]))
        out = bl.binlog_bytes(relay.binlog_dir())
        return {"secs": secs, "cpu": cpu, "threads": threads, "out_bytes": out, "relay": relay, "kafka": kafka,
                "messages": n, "fill_secs": fill_secs, "faults": relay.faults,
                "peak_rss": relay.peak_rss}
    except BaseException:
        relay.stop()
        kafka.stop()
        raise


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shape", choices=["sysbench", "wide"], default="sysbench")
    p.add_argument("--rows", type=int, default=0, help="default 300,000 sysbench / 50,000 wide")
    p.add_argument("--rows-per-txn", type=int, default=10)
    p.add_argument("--partitions", type=int, default=64)
    p.add_argument("--compression", default="none",
                   help="the producer's compression.type (TiCDC's default: none)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--replica", action="store_true")
    p.add_argument("--perf", default="", help="perf record -g tirelay during each run into FILE.<run>")
    p.add_argument("--kafka-prop", action="append", default=[], metavar="KEY=VALUE",
                   help="a [kafka] key for tirelay (librdkafka property); repeatable")
    a = p.parse_args()
    rows = a.rows or (300000 if a.shape == "sysbench" else 50000)
    os.environ["TIRELAY_BIN"] = bl.tool("tirelay")
    os.environ["TR_KAFKA_MOCK_BIN"] = bl.tool("tr_kafka_mock")
    hist_meta = bl.streams(a.shape, 1000, 1, a.rows_per_txn)
    with open(os.path.join(hist_meta["dir"], "history.json")) as f:
        history = json.load(f)
    path, meta = messages(a.shape, rows, a.rows_per_txn, a.partitions, history)
    meta["ddls"] = len(history)
    meta["dir"] = hist_meta["dir"]
    base = tempfile.mkdtemp(prefix="tirelay-ticdc-ingest-")
    ddl = bl.DdlEndpoint(base).start()
    try:
        ddl.load(hist_meta)
        res = []
        for i in range(a.runs):
            rdir = os.path.join(base, "run%d" % i)
            r = one_run(rdir, path, meta, ddl, a.partitions, a.compression,
                        "%s.%d" % (a.perf, i + 1) if a.perf else None, a.kafka_prop)
            rps = meta["rows"] / r["secs"]
            print("run %d: shape=%s partitions=%d rows=%d txns=%d messages=%d secs=%.3f "
                  "rows_per_s=%.0f in_MBps=%.1f out_MBps=%.1f cpu_s=%.2f cpu_us_per_row=%.2f "
                  "ingest_us_per_row=%.2f threads_us_per_row=%s page_faults=%s peak_rss_mb=%.0f fill_s=%.1f load=%s"
                  % (i + 1, a.shape, a.partitions, meta["rows"], meta["txns"], r["messages"],
                     r["secs"], rps, meta["bytes"] / r["secs"] / 1e6,
                     r["out_bytes"] / r["secs"] / 1e6, r["cpu"], r["cpu"] * 1e6 / meta["rows"],
                     bl.ingest_cpu(r["threads"]) * 1e6 / meta["rows"],
                     bl.thread_text(r["threads"], meta["rows"]),
                     ",".join("%s:%d" % kv for kv in sorted(r["faults"].items(), key=lambda kv: -kv[1])
                              if kv[1] >= 1000), r["peak_rss"] / 1e6, r["fill_secs"], bl.loadavg()),
                  flush=True)
            res.append((r["secs"], r["cpu"], bl.ingest_cpu(r["threads"])))
            line = None
            if a.replica and i == a.runs - 1:
                rsecs = ingest.replica_apply(rdir, r["relay"], meta)
                line = ("replica: mariadbd applied %d rows in %.2fs = %.0f rows/s; "
                        "tirelay/replica = %.1fx" % (meta["rows"], rsecs, meta["rows"] / rsecs,
                                                     rsecs / r["secs"]))
            r["relay"].stop()
            r["kafka"].stop()
            cluster.rmtree(rdir)
            if line:
                print(line, flush=True)
        secs = bl.median([x[0] for x in res])
        cpu = bl.median([x[1] for x in res])
        icpu = bl.median([x[2] for x in res])
        print("median: shape=%s partitions=%d rows_per_s=%.0f cpu_us_per_row=%.2f "
              "rows_per_s_per_core=%.0f ingest_us_per_row=%.2f ingest_rows_per_s_per_core=%.0f"
              % (a.shape, a.partitions, meta["rows"] / secs, cpu * 1e6 / meta["rows"],
                 meta["rows"] / cpu, icpu * 1e6 / meta["rows"], meta["rows"] / icpu), flush=True)
    finally:
        ddl.stop()
        cluster.rmtree(base)


if __name__ == "__main__":
    main()
