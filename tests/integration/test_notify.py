"""/binlog.Cistern/Notify (issue 4, point 3; shared/spec/tidb-binlog.md 2.2):
tirelay in discovery mode serves it on [upstream] notify-listen and advertises
that address as its Drainer "host" in etcd.

The test plays a real Pump's first start with grpcio: a new Pump (a gRPC
server streaming fake binlogs) is registered under /tidb-binlog/v1/pumps/,
then, as TB's pumpNode.Notify does, every Drainer whose etcd state is online
is called at its advertised host. tirelay must answer an empty NotifyResp
with status OK only after it has re-read the Pump list: with detect-interval
at one hour, the new Pump is pulled from within a second of the call, and the
workload on the simulator's Pump still reaches tirelay's store completely.
An unknown method is UNIMPLEMENTED; with etcd down the re-read fails and
Notify answers an error (a real Pump would then stop), tirelay keeps running.
Run: /usr/bin/python3 -m pytest -q -s tests/integration/test_notify.py
"""

import concurrent.futures
import json
import os
import sqlite3
import sys
import threading
import time

import grpc
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
import protogen  # noqa: E402
import tidbcodec as codec  # noqa: E402
from conftest import wait_until, TIDB_USER, TIDB_PASSWORD  # noqa: E402

SEED = int(os.environ.get("TIRELAY_TEST_SEED", "20240901"))
NODE_ID = "tirelay-notify"
NOTIFY = "/binlog.Cistern/Notify"


class NewPump:
    """A Pump at its first start: serves PullBinlogs with fake binlogs only."""

    def __init__(self, cluster_id, binlog_pb2, pump_pb2):
        self.cluster_id = cluster_id
        self.binlog_pb2, self.pump_pb2 = binlog_pb2, pump_pb2
        self.pulls = []                 # (monotonic time, startFrom.offset)
        self.max_commit_ts = 0
        self.server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=8))
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("binlog.Pump", {
            "PullBinlogs": grpc.unary_stream_rpc_method_handler(
                self.pull, request_deserializer=pump_pb2.PullBinlogReq.FromString,
                response_serializer=lambda b: b)}),))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def pull(self, req, context):
        self.pulls.append((time.monotonic(), req.startFrom.offset))
        while context.is_active():
            t = codec.tso_compose(int(time.time() * 1000), 7)
            b = self.binlog_pb2.Binlog(tp=self.binlog_pb2.Rollback, start_ts=t, commit_ts=t)
            resp = self.pump_pb2.PullBinlogResp()
            resp.entity.pos.SetInParent()
            resp.entity.payload = b.SerializeToString()
            resp.entity.meta.startTs = t
            resp.entity.meta.commitTs = t
            self.max_commit_ts = t
            yield resp.SerializeToString()
            time.sleep(0.3)

    def status_json(self):
        return json.dumps({"nodeId": "pump-new", "host": "127.0.0.1:%d" % self.port,
                           "state": "online", "isAlive": True, "score": 0, "label": None,
                           "maxCommitTS": self.max_commit_ts,
                           "updateTS": codec.tso_compose(int(time.time() * 1000), 0)})

    def stop(self):
        self.server.stop(0.5).wait()


def notify(host, pump_pb2, method=NOTIFY, timeout=15):
    """One Notify call as TB's notifyDrainer makes it; returns the decoded NotifyResp."""
    with grpc.insecure_channel(host) as ch:
        call = ch.unary_unary(method, request_serializer=lambda m: m.SerializeToString(),
                              response_deserializer=pump_pb2.NotifyResp.FromString)
        return call(pump_pb2.NotifyReq(), timeout=timeout)


def etcd_put(etcd, key, value):
    import base64
    etcd._post("/v3/kv/put", {"key": base64.b64encode(key.encode()).decode(),
                              "value": base64.b64encode(value.encode()).decode()})


def max_stored_ts(relay):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(relay.store, "index.sqlite"), uri=True,
                         timeout=10)
    try:
        return db.execute("SELECT MAX(commit_ts) FROM txns").fetchone()[0] or 0
    finally:
        db.close()


@pytest.fixture(scope="module")
def tirelay_built():
    assert os.access(cluster.tirelay_bin(), os.X_OK), \
        "tirelay binary not built (%s): build it or set TIRELAY_BIN" % cluster.tirelay_bin()


def test_pump_first_start_notifies_tirelay(tirelay_built, etcd, truth, tidbsim, tmp_path):
    binlog_pb2, pump_pb2 = protogen.load()
    sim = tidbsim(truth, seed=SEED, rows=3000, rate=20, pumps=1, fake_interval=0.5,
                  extra=["--etcd", etcd.url, "--heartbeat-interval", "0.5"])
    notify_port = cluster.free_port()
    relay = cluster.Tirelay(str(tmp_path / "tirelay"), [], sim.cluster_id, truth.port,
                            tidb_user=TIDB_USER, tidb_password=TIDB_PASSWORD,
                            upstream_conf="pd-urls = %s\nnode-id = %s\ndetect-interval = 3600\n"
                                          "notify-listen = 127.0.0.1:%d\n"
                                          % (etcd.url, NODE_ID, notify_port))
    pump = None
    try:
        relay.start()
        drainers = lambda: {k: json.loads(v) for k, v in  # noqa: E731
                            etcd.prefix("/tidb-binlog/v1/drainers/").items()}
        d = wait_until(lambda: drainers().get("/tidb-binlog/v1/drainers/" + NODE_ID), 30,
                       what="tirelay's Drainer entry")
        assert d["host"] == "127.0.0.1:%d" % notify_port and d["state"] == "online", d
        wait_until(lambda: max_stored_ts(relay) > 0, 60, what="first transactions stored")

        # a Pump's first start: register, then Notify every online Drainer
        pump = NewPump(sim.cluster_id, binlog_pb2, pump_pb2)
        etcd_put(etcd, "/tidb-binlog/v1/pumps/pump-new", pump.status_json())
        online = [st["host"] for st in drainers().values() if st["state"] == "online"]
        assert online == ["127.0.0.1:%d" % notify_port]
        t0 = time.monotonic()
        resp = notify(online[0], pump_pb2)
        t_notify = time.monotonic() - t0
        assert resp.SerializeToString() == b""
        # the list was re-read before the answer; the client starts right after it
        wait_until(lambda: pump.pulls, 5, what="tirelay pulling from the new Pump")
        t_pull = pump.pulls[0][0] - t0
        assert t_pull < 5.0

        # TB's Pump calls it again on each first start: answered every time
        for _ in range(3):
            assert notify(online[0], pump_pb2).SerializeToString() == b""

        # only Notify is served
        with pytest.raises(grpc.RpcError) as ei:
            notify(online[0], pump_pb2, method="/binlog.Cistern/Nope")
        assert ei.value.code() == grpc.StatusCode.UNIMPLEMENTED

        # the new Pump joined the merge without holding back the workload
        st = sim.wait_done(300)
        wait_until(lambda: max_stored_ts(relay) >= st["last_commit_ts"], 120,
                   what="tirelay storing the whole workload with the new Pump in the merge")

        # etcd down: the re-read fails and so does Notify (a real Pump would stop);
        # tirelay itself keeps serving
        etcd.stop()
        with pytest.raises(grpc.RpcError) as ei:
            notify(online[0], pump_pb2)
        assert ei.value.code() == grpc.StatusCode.UNAVAILABLE, ei.value
        assert "Pump list" in ei.value.details()
        assert relay.proc.poll() is None
        relay._listening() or pytest.fail("tirelay stopped listening")
        print("\nNotify: answered in %.3fs, new Pump pulled %.3fs after the call "
              "(detect-interval 3600 s); workload of %d txns stored; etcd down -> %s"
              % (t_notify, t_pull, st["txns"], ei.value.code()))
        relay.stop()
        assert relay.proc.returncode == 0, "tirelay did not stop cleanly with etcd down"
    finally:
        relay.stop()
        if pump is not None:
            pump.stop()
