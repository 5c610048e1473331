#!/usr/bin/python3
"""A scripted fake Pump for tests/unit/test_pump_client.c.

Serves /binlog.Pump/PullBinlogs (server streaming) on 127.0.0.1 with a free
port, written to --port-file once the server is up. Messages are encoded by
hand following shared/spec/tidb-binlog.md sections 2.3 and 3.2/3.6
(PullBinlogResp{entity{pos{}, payload=Binlog, meta{start_ts, commit_ts}}}).
Every request's (clusterID, startFrom.offset) is appended to --log-file as
"<cluster_id> <offset>" so the test can check where the client resumed.

A request with another clusterID is logged and rejected with
FAILED_PRECONDITION (not counted as a connection). Per connection (counted
from 1):
  1: C(100) F(110) C(120) C(115, goes backwards) <undecodable> C(130), then
     the stream ends with status OK;
  2 and later: those of C(140) F(150) C(160) above the request offset, then
     the stream stays open until the client cancels.
C(n) is a commit binlog with commit_ts BASE+n, F(n) a fake binlog (Rollback,
start_ts == commit_ts). Runs on /usr/bin/python3 with Debian's python3-grpcio.

With --big N, every connection instead streams those of C(100) B(110) C(120)
above the request offset and stays open, where B(110) is a commit binlog whose
PrewriteValue carries N bytes more (a message above the client's spool
threshold).
"""
import argparse
import os
import signal
import sys
import threading
import time
from concurrent import futures

import grpc

BASE = 445644800000000000
CLUSTER_ID = 6789


def varint(v):
    v &= (1 << 64) - 1  # int64 on the wire: two's complement, 10 bytes if negative
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_varint(num, v):
    return varint(num << 3) + varint(v)


def field_bytes(num, b):
    return varint(num << 3 | 2) + varint(len(b)) + b


def read_varint(buf, i):
    shift = 0
    v = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def parse_fields(buf):
    """Yields (field number, wire type, value) of a protobuf message."""
    i = 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(buf, i)
        elif wt == 2:
            n, i = read_varint(buf, i)
            v = bytes(buf[i:i + n])
            i += n
        elif wt == 1:
            v = bytes(buf[i:i + 8])
            i += 8
        elif wt == 5:
            v = bytes(buf[i:i + 4])
            i += 4
        else:
            raise ValueError("bad wire type")
        yield num, wt, v


def binlog(commit_ts, fake, pad=0):
    """binlog.Binlog as a Pump streams it (spec section 3.6 field order). pad > 0 adds a
    mutation (PrewriteValue field 2, TableMutation{table_id 1, inserted_rows}) of pad bytes."""
    start_ts = commit_ts if fake else commit_ts - 7
    out = field_varint(1, 2 if fake else 1)
    out += field_varint(2, start_ts) + field_varint(3, commit_ts)
    if not fake:
        pv = field_varint(1, 12)  # PrewriteValue{schema_version 12}
        if pad:
            pv += field_bytes(2, field_varint(1, 1) + field_bytes(2, b"r" * pad))
        out += field_bytes(5, pv)
    out += field_varint(7, 0) + field_varint(8, 0)
    return out, start_ts


def pull_resp(payload, start_ts, commit_ts):
    meta = field_varint(1, start_ts) + field_varint(2, commit_ts)
    entity = field_bytes(1, b"") + field_bytes(2, payload) + field_bytes(4, meta)
    return field_bytes(1, entity)


def item(n, fake=False, pad=0):
    ts = BASE + n
    payload, start_ts = binlog(ts, fake, pad)
    return ts, pull_resp(payload, start_ts, ts)


class Pump:
    def __init__(self, log_file, big=0):
        self.log_file = log_file
        self.big = big
        self.lock = threading.Lock()
        self.conns = 0

    def pull(self, request, context):
        cluster_id, offset = 0, 0
        for num, wt, v in parse_fields(request):
            if num == 1 and wt == 0:
                cluster_id = v
            elif num == 2 and wt == 2:
                for pnum, pwt, pv in parse_fields(v):
                    if pnum == 2 and pwt == 0:
                        offset = pv - (1 << 64) if pv >= 1 << 63 else pv
        if cluster_id != CLUSTER_ID:
            with self.lock, open(self.log_file, "a") as f:
                f.write("%d %d\n" % (cluster_id, offset))
            # As a Pump does (TB pump/server.go PullBinlogs): reject with a gRPC error.
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "cluster ID mismatch")
        with self.lock:
            self.conns += 1
            conn = self.conns
            with open(self.log_file, "a") as f:
                f.write("%d %d\n" % (cluster_id, offset))
        if self.big:
            for ts, msg in [item(100), item(110, pad=self.big), item(120)]:
                if ts > offset:
                    yield msg
            while context.is_active():
                time.sleep(0.02)
            return
        if conn == 1:
            for ts, msg in [item(100), item(110, True), item(120), item(115)]:
                yield msg
            # Entity.payload that is not a Binlog (tp is a length-delimited field).
            yield pull_resp(b"\x0a\x05ab", 0, 0)
            yield item(130)[1]
            return
        for ts, msg in [item(140), item(150, True), item(160)]:
            if ts > offset:
                yield msg
        while context.is_active():
            time.sleep(0.02)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log-file", required=True)
    ap.add_argument("--big", type=int, default=0)
    args = ap.parse_args()
    pump = Pump(args.log_file, args.big)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8),
                         options=[("grpc.max_send_message_length", -1)])
    handler = grpc.method_handlers_generic_handler(
        "binlog.Pump",
        {"PullBinlogs": grpc.unary_stream_rpc_method_handler(pump.pull)},
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, args.port_file)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    while not done.wait(0.2):
        pass
    server.stop(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
