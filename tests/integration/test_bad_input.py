"""Bad input from every side (issue 7 point 2), each with its defined behaviour, and the
server alive and its files intact afterwards:

MySQL port (tests/tools/tr_serve_fixture.c serving a synthetic store, as test_server.py):
  * garbage, truncated and oversized packets before and after the handshake: the client
    gets an ERR (when a packet could be framed) and is closed;
  * half-open and slow clients: others keep being served meanwhile;
  * a thousand failed logins: the server stays responsive to a good client, the failures
    are throttled (answered late once a peer has failed 5 times) and logged once per peer.
Upstream (tirelay pulling from the TiDB simulator, a real MariaDB replica):
  * a Pump sending an undecodable payload and an earlier commit again (commit_ts going
    backwards): each is reported and not written; the replica ends equal to the truth;
  * a DDL whose history row does not parse: translation stops before writing it, with a
    clear error naming the job; replicas keep being served what is durable.
Notify port ([upstream] notify-listen, relay/h2_server.c): garbage instead of the HTTP/2
preface, half a frame and silence, half a gRPC message, a message length of 2 GiB, more
connections than allowed: each is answered or closed as documented while tirelay keeps
relaying, and a real grpcio Notify call still succeeds afterwards.
Faults: the store on a 1 MiB tmpfs fills up; appending pauses (SHOW RELAY STATUS "disk
full"), resumes when the file system grows, and the replica ends equal to the truth.
Every test ends by checking that mariadb-binlog decodes every stored file.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_bad_input.py
"""

import os
import re
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time

import grpc
import h2.config
import h2.connection
import h2.events
import pymysql
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
import protogen  # noqa: E402
from conftest import wait_until, wait_replica_equal, slave_status  # noqa: E402
from test_server import Fixture, fixture_bin  # noqa: E402,F401 (fixture_bin is a fixture)

TIDB_USER = "tidb"
TIDB_PASSWORD = "tidbpw"


@pytest.fixture
def serve(fixture_bin, tmp_path):  # noqa: F811
    started = []

    def make(n, **kw):
        base = tmp_path / ("fx%d" % len(started))
        base.mkdir()
        f = Fixture(fixture_bin, str(base), n, **kw)
        started.append(f)
        return f

    yield make
    for f in started:
        f.stop()


def fixture_log(fx):
    with open(os.path.join(fx.base, "fixture.log"), errors="replace") as f:
        return f.read()


def files_decode(binlog_dir):
    """mariadb-binlog decodes every stored file (exit 0, no error line)."""
    names = sorted(n for n in os.listdir(binlog_dir) if n[-6:].isdigit())
    assert names
    for n in names:
        r = subprocess.run(["mariadb-binlog", "--no-defaults", os.path.join(binlog_dir, n)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                           universal_newlines=True)
        assert r.returncode == 0 and "ERROR" not in r.stderr, (n, r.stderr[-2000:])


def alive(fx):
    """A well-behaved client logs in and reads the binlog position promptly."""
    t0 = time.monotonic()
    c = pymysql.connect(host="127.0.0.1", port=fx.port, user="repl", password="pw",
                        autocommit=True, connect_timeout=10, read_timeout=10)
    with c.cursor() as cur:
        cur.execute("SHOW MASTER STATUS")
        row = cur.fetchone()
    c.close()
    assert row is not None and row[0].startswith("tirelay-bin.")
    assert fx.proc.poll() is None
    return time.monotonic() - t0


def raw(port):
    """A TCP connection that has read the server greeting."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    hdr = recv_exact(s, 4)
    recv_exact(s, hdr[0] | hdr[1] << 8 | hdr[2] << 16)
    return s


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise ConnectionError("closed after %d of %d bytes" % (len(out), n))
        out += chunk
    return out


def read_reply(s):
    """The server's answer to a bad packet: the payload of one packet (b"" when the server
    closed without one), then the connection must be closed by the server."""
    try:
        hdr = recv_exact(s, 4)
        payload = recv_exact(s, hdr[0] | hdr[1] << 8 | hdr[2] << 16)
    except ConnectionError:
        payload = b""
    s.settimeout(10)
    rest = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
    except ConnectionResetError:
        pass
    assert rest == b"", "server sent more after the error: %r" % rest[:64]
    s.close()
    return payload


def frame(payload, seq=0):
    return struct.pack("<I", len(payload) | seq << 24) + payload


def err_code(payload):
    assert payload[:1] == b"\xff", "expected an ERR packet, got %r" % payload[:32]
    return struct.unpack_from("<H", payload, 1)[0]


def logged_in(port):
    """A pymysql session whose raw socket can then be fed bytes by hand."""
    c = pymysql.connect(host="127.0.0.1", port=port, user="repl", password="pw", autocommit=True)
    return c, c._sock


# ---------------------------------------------------------------- MySQL port


def test_garbage_and_truncated_packets(serve):
    fx = serve(40, max_size=8192)
    # Before the handshake: a random payload where the HandshakeResponse belongs.
    s = raw(fx.port)
    s.sendall(frame(b"\x13\x37garbage", 1))
    assert err_code(read_reply(s)) == 1043  # ER_HANDSHAKE_ERROR, "Bad handshake"
    # A response cut in the middle of its fields (length says 12 bytes, 12 are sent).
    s = raw(fx.port)
    s.sendall(frame(struct.pack("<IIB", 0x000fa685, 1 << 24, 45) + b"\x00\x00\x00", 1))
    assert err_code(read_reply(s)) == 1043
    # A frame announced longer than what arrives, then the client goes away: nothing to
    # answer, the server just drops the connection.
    s = raw(fx.port)
    s.sendall(struct.pack("<I", 300 | 1 << 24) + b"x" * 20)
    s.shutdown(socket.SHUT_WR)
    assert read_reply(s) == b""
    # After the handshake: an unknown command, an empty packet, a truncated
    # COM_BINLOG_DUMP, a COM_BINLOG_DUMP_GTID whose GTID data runs past its end, a
    # packet with a wrong sequence id.
    c, s = logged_in(fx.port)
    s.sendall(frame(b"\xee\x01\x02"))
    hdr = recv_exact(s, 4)
    assert err_code(recv_exact(s, hdr[0] | hdr[1] << 8 | hdr[2] << 16)) == 1047  # unknown: kept
    c.close()
    for payload in (b"", b"\x12\x04\x00", b"\x1e" + struct.pack("<HII", 0, 3, 0) +
                    struct.pack("<QI", 4, 1000) + b"\x01\x00"):
        c, s = logged_in(fx.port)
        s.sendall(frame(payload))
        code = err_code(read_reply(s))
        assert code in (1064, 1236, 1835), code
    c, s = logged_in(fx.port)
    s.sendall(struct.pack("<I", 0x00ffffff) + b"\x03" + b"y" * 0xfffffe
              + struct.pack("<I", 2 | 9 << 24) + b"zz")   # continuation with seq 9, not 1
    assert err_code(read_reply(s)) == 1156  # ER_NET_PACKETS_OUT_OF_ORDER
    assert alive(fx) < 5
    assert "bad packet" in fixture_log(fx)
    files_decode(fx.binlog_dir())


def test_packet_over_the_size_limit(serve):
    fx = serve(10)
    c, s = logged_in(fx.port)
    # 16 MiB - 1 of payload, then a continuation frame: over the 16 MiB limit, refused as
    # soon as the second header arrives (nothing is buffered beyond the limit).
    s.sendall(struct.pack("<I", 0x00ffffff) + b"\x03" + b"a" * 0xfffffe)
    s.sendall(struct.pack("<I", 0x00000010 | 1 << 24) + b"b" * 16)
    assert err_code(read_reply(s)) == 1156
    log = fixture_log(fx)
    assert re.search(r"bad packet: .*(large|limit|big)", log), log[-2000:]
    assert alive(fx) < 5
    files_decode(fx.binlog_dir())


def test_half_open_and_slow_clients(serve):
    fx = serve(200, max_size=16384)
    # 50 half-open connections: greeted, never answer; 10 slow clients send a valid
    # HandshakeResponse one byte every 100 ms.
    idle = [raw(fx.port) for _ in range(50)]
    resp = struct.pack("<IIB", 0x000fa685, 1 << 24, 45) + b"\x00" * 23 + b"repl\x00" + b"\x00"
    pkt = frame(resp, 1)
    slow = [raw(fx.port) for _ in range(10)]
    stop = threading.Event()

    def dribble():
        for i in range(len(pkt)):
            if stop.is_set():
                return
            for s in slow:
                try:
                    s.send(pkt[i:i + 1])
                except OSError:
                    pass
            time.sleep(0.1)

    th = threading.Thread(target=dribble)
    th.start()
    try:
        # Meanwhile other clients are served promptly, and a full dump of every file works.
        for _ in range(5):
            assert alive(fx) < 5
        r = fx.mariadb_binlog("--to-last-log", "tirelay-bin.000001")
        assert r.returncode == 0, r.stderr
        assert r.stdout.count("Xid =") == 200
        th.join(60)  # the slow clients finish their packet
    finally:
        stop.set()
        th.join()
    # The slow clients got to the end of their (passwordless, wrong) login: denied.
    for s in slow:
        s.settimeout(10)
        try:
            hdr = recv_exact(s, 4)
            payload = recv_exact(s, hdr[0] | hdr[1] << 8 | hdr[2] << 16)
            assert payload[:1] in (b"\xff", b"\xfe"), payload[:16]
        except (ConnectionError, socket.timeout):
            pytest.fail("slow client never answered")
        s.close()
    for s in idle:
        s.close()
    assert alive(fx) < 5
    files_decode(fx.binlog_dir())


def test_thousand_failed_logins(serve):
    fx = serve(20)
    n_fail = 1000
    failures = []
    lock = threading.Lock()

    def attack(count):
        for _ in range(count):
            try:
                pymysql.connect(host="127.0.0.1", port=fx.port, user="repl", password="wrong",
                                connect_timeout=30, read_timeout=30)
                with lock:
                    failures.append("login with a wrong password succeeded")
            except pymysql.err.OperationalError as e:
                if e.args[0] != 1045:
                    with lock:
                        failures.append(repr(e))

    t0 = time.monotonic()
    threads = [threading.Thread(target=attack, args=(n_fail // 50,)) for _ in range(50)]
    for t in threads:
        t.start()
    # While the attack runs, good logins from the same address are answered at once.
    latencies = []
    while any(t.is_alive() for t in threads):
        latencies.append(alive(fx))
        time.sleep(0.2)
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    assert not failures, failures[:5]
    assert latencies and max(latencies) < 3, latencies
    # Throttled: once 5 had failed, each failure waited ~500 ms, so 50 clients in
    # parallel took at least (1000 - 5) / 50 * 0.5 s.
    assert elapsed >= (n_fail - 5) / 50 * 0.5 * 0.9, elapsed
    log = fixture_log(fx)
    assert log.count("repeated failed logins from peer, throttling") == 1, log[-3000:]
    denied = log.count("Access denied for user 'repl'")
    assert denied <= 10, "failed logins logged %d times" % denied
    assert alive(fx) < 3
    files_decode(fx.binlog_dir())


# ---------------------------------------------------------------- upstream


@pytest.fixture(scope="module")
def tirelay_built():
    assert os.access(cluster.tirelay_bin(), os.X_OK), \
        "tirelay binary not built (%s): build it or set TIRELAY_BIN" % cluster.tirelay_bin()


def control_of(control_dir):
    seq = [0]

    def control(cmd, idx=0):
        seq[0] += 1
        name = os.path.join(control_dir, "%03d" % seq[0])
        with open(name + ".tmp", "w") as f:
            f.write("%s %d" % (cmd, idx))
        os.replace(name + ".tmp", name + ".cmd")
        wait_until(lambda: os.path.exists(name + ".done"), 60, what="sim: %s %d" % (cmd, idx))
        with open(name + ".done") as f:
            assert f.read() == "ok", "sim: %s %d failed" % (cmd, idx)

    return control


def attach_replica(replica, relay):
    rconn = replica.replicate_from(relay.port)
    return rconn


def master_status(relay):
    c = pymysql.connect(host="127.0.0.1", port=relay.port, user="repl", password="pw",
                        autocommit=True, connect_timeout=10, read_timeout=10)
    with c.cursor() as cur:
        cur.execute("SHOW MASTER STATUS")
        row = cur.fetchone()
    c.close()
    return row[0], int(row[1])


def test_pump_malformed_payload_and_backwards_commit(tirelay_built, truth, replica, tidbsim,
                                                     tirelay, tmp_path):
    control_dir = str(tmp_path / "control")
    sim = tidbsim(truth, seed=7, txns=600, rate=40, pumps=2, fake_interval=0.5,
                  extra=["--control-dir", control_dir])
    control = control_of(control_dir)
    relay = tirelay(sim, truth, max_binlog_size=64 * 1024)
    rconn = attach_replica(replica, relay)
    wait_until(lambda: sim.status()["txns"] >= 100, 120, what="first transactions")
    control("garbage", 0)
    control("replay", 1)
    wait_until(lambda: sim.status()["txns"] >= 300, 120, what="more transactions")
    control("replay", 0)
    control("garbage", 1)
    st = sim.wait_done(300)
    # Nothing wrong written: the replica (which would stop on a duplicate row) ends equal
    # to the truth, and every file decodes.
    wait_replica_equal(rconn, truth.connect(), st, 300, "replica equal to the truth")
    log = relay.log_text()
    assert len(re.findall(r"undecodable binlog skipped pump=\d+", log)) >= 1, log[-4000:]
    assert re.search(r"(went backwards|out-of-order).*commit_ts=", log), log[-4000:]
    assert "translation stopped" not in log
    assert relay.proc.poll() is None
    files_decode(relay.binlog_dir())


def test_ddl_history_row_that_does_not_parse(tirelay_built, truth, replica, tidbsim, tirelay,
                                             tmp_path):
    control_dir = str(tmp_path / "control")
    sim = tidbsim(truth, seed=11, txns=150, rate=60, pumps=1, fake_interval=0.5,
                  extra=["--control-dir", control_dir])
    control = control_of(control_dir)
    relay = tirelay(sim, truth, max_binlog_size=64 * 1024)
    rconn = attach_replica(replica, relay)
    st = sim.wait_done(300)
    wait_replica_equal(rconn, truth.connect(), st, 300, "replica equal to the truth")
    before = master_status(relay)
    control("bad-ddl", 0)
    # A clear error naming the job; translation waits at the DDL instead of writing it.
    wait_until(lambda: re.search(r"cannot read DDL history: DDL job \d+: ", relay.log_text()),
               60, what="DDL history error in the log")
    deadline = time.monotonic() + 5

    def steady():
        assert master_status(relay) == before  # nothing more was written
        return time.monotonic() >= deadline

    wait_until(steady, 30, what="no output after the bad DDL")
    s = slave_status(rconn)
    assert s["Last_IO_Errno"] == 0 and s["Last_SQL_Errno"] == 0, s
    assert relay.proc.poll() is None
    for name in os.listdir(relay.binlog_dir()):
        if name[-6:].isdigit():
            with open(os.path.join(relay.binlog_dir(), name), "rb") as f:
                assert b"bad_ddl_t" not in f.read()
    files_decode(relay.binlog_dir())


# ---------------------------------------------------------------- Notify port

NOTIFY = "/binlog.Cistern/Notify"
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def closed_by_peer(s, timeout):
    """True when the peer closes s within timeout (bytes it sends before are dropped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if not s.recv(65536):
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def h2_call(port, body, end_stream=True, path=NOTIFY, timeout=15):
    """One gRPC request written with python3-h2 (bytes a gRPC library would never send):
    returns the response headers and trailers merged into one dict."""
    s = socket.create_connection(("127.0.0.1", port), 10)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True,
                                                                header_encoding="utf-8"))
    conn.initiate_connection()
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, [(":method", "POST"), (":scheme", "http"), (":path", path),
                            (":authority", "127.0.0.1:%d" % port),
                            ("content-type", "application/grpc"), ("te", "trailers")])
    conn.send_data(sid, body, end_stream=end_stream)
    s.sendall(conn.data_to_send())
    got = {}
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            if not data:
                break
            for ev in conn.receive_data(data):
                if isinstance(ev, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                    got.update(dict(ev.headers))
                elif isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset)):
                    return got
            out = conn.data_to_send()
            if out:
                s.sendall(out)
    finally:
        s.close()
    return got


def grpc_notify(port, pump_pb2):
    with grpc.insecure_channel("127.0.0.1:%d" % port) as ch:
        call = ch.unary_unary(NOTIFY, request_serializer=lambda m: m.SerializeToString(),
                              response_deserializer=pump_pb2.NotifyResp.FromString)
        return call(pump_pb2.NotifyReq(), timeout=15)


def stored_txns(relay):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(relay.store, "index.sqlite"), uri=True,
                         timeout=10)
    try:
        return db.execute("SELECT COUNT(*), MAX(commit_ts) FROM txns").fetchone()
    finally:
        db.close()


def test_notify_port_garbage_and_half_frames(tirelay_built, truth, replica, tidbsim, tirelay):
    """tirelay serves Notify in static mode (notify-listen set, answered at once) while
    relaying; the port is abused in every way below, and the relay neither stops nor
    stalls: the replica ends equal to the truth."""
    _, pump_pb2 = protogen.load()
    sim = tidbsim(truth, seed=17, txns=400, rate=40, pumps=1, fake_interval=0.5)
    nport = cluster.free_port()
    relay = tirelay(sim, truth, upstream_conf="notify-listen = 127.0.0.1:%d\n" % nport)
    rconn = attach_replica(replica, relay)
    assert grpc_notify(nport, pump_pb2).SerializeToString() == b""
    wait_until(lambda: stored_txns(relay)[0] > 0, 60, what="first transactions stored")

    # Garbage instead of the preface: an HTTP/1.1 request, a TLS ClientHello, random bytes,
    # 1 MiB of zeros. Each connection is closed at once.
    for junk in (b"GET /binlog.Cistern/Notify HTTP/1.1\r\nHost: x\r\n\r\n",
                 bytes.fromhex("16030100c4010000c00303") + os.urandom(64),
                 os.urandom(4096), b"\0" * (1 << 20)):
        s = socket.create_connection(("127.0.0.1", nport), 10)
        try:
            s.sendall(junk)
        except OSError:
            pass  # closed while we were still sending
        assert closed_by_peer(s, 5), junk[:16]
        s.close()

    # The preface and half a frame header, then silence (also: a connection that sends
    # nothing): closed after the 10 s request timeout, not kept forever.
    half = socket.create_connection(("127.0.0.1", nport), 10)
    half.sendall(PREFACE + b"\x00\x00\x06\x04")
    mute = socket.create_connection(("127.0.0.1", nport), 10)
    t0 = time.monotonic()
    assert closed_by_peer(half, 20) and closed_by_peer(mute, 5)
    assert time.monotonic() - t0 < 15
    half.close()
    mute.close()

    # Half a gRPC message then END_STREAM; no message; a 2 GiB length (refused from the
    # prefix: nothing is allocated); a NotifyReq that is not protobuf; another method.
    assert h2_call(nport, b"\0\0\0\0\x08\x01\x02").get("grpc-status") == "3"
    assert h2_call(nport, b"").get("grpc-status") == "3"
    assert h2_call(nport, b"\0\x7f\xff\xff\xff", end_stream=False).get("grpc-status") == "8"
    assert h2_call(nport, b"\0\0\0\0\x03\xff\xff\xff").get("grpc-status") == "3"
    assert h2_call(nport, b"\0\0\0\0\0", path="/binlog.Cistern/DumpBinlog") \
        .get("grpc-status") == "12"
    # Half a message and the client goes away.
    s = socket.create_connection(("127.0.0.1", nport), 10)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    conn.send_headers(1, [(":method", "POST"), (":scheme", "http"), (":path", NOTIFY),
                          (":authority", "x"), ("content-type", "application/grpc")])
    conn.send_data(1, b"\0\0\0\0\x10abc")
    s.sendall(conn.data_to_send()[:-2])  # and cut the last DATA frame short
    s.close()

    # More connections than the server keeps (32): the rest are closed at once.
    many = [socket.create_connection(("127.0.0.1", nport), 10) for _ in range(60)]
    closed = sum(1 for c in many if closed_by_peer(c, 0.2))
    assert closed >= 60 - 32, closed
    for c in many:
        c.close()

    # A real gRPC client is still answered, and the relay kept relaying throughout.
    wait_until(lambda: grpc_notify(nport, pump_pb2).SerializeToString() == b"", 30,
               what="Notify answered after the abuse")
    st = sim.wait_done(300)
    wait_replica_equal(rconn, truth.connect(), st, 300, "replica equal to the truth")
    assert relay.proc.poll() is None
    log = relay.log_text()
    assert "not the HTTP/2 client preface" in log, log[-4000:]
    assert "call refused" in log and "too many connections" in log, log[-4000:]
    files_decode(relay.binlog_dir())


# ---------------------------------------------------------------- faults: a full disk


def relay_state(port):
    c = pymysql.connect(host="127.0.0.1", port=port, user="repl", password="pw", autocommit=True,
                        connect_timeout=10, read_timeout=10)
    with c.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute("SHOW RELAY STATUS")
        rows = cur.fetchall()
    c.close()
    return [r["State"] for r in rows if r["Kind"] == "relay"][0]


def test_disk_full_pauses_and_resumes(tirelay_built, truth, replica, tidbsim, tmp_path):
    """The store on a 1 MiB tmpfs: the relay fills it, pauses appending (status "disk full",
    replicas keep reading what is durable), and resumes when the file system grows; the
    replica ends equal to the truth. Needs root (mount)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    sim = tidbsim(truth, seed=5, txns=2500, rate=150, pumps=1, fake_interval=0.5)
    relay = cluster.Tirelay(str(tmp_path / "tirelay"), sim.pumps, sim.cluster_id, truth.port,
                            tidb_user=TIDB_USER, tidb_password=TIDB_PASSWORD,
                            max_binlog_size=256 * 1024)
    os.makedirs(relay.store)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tirelay-test", relay.store],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    assert r.returncode == 0, "cannot mount a tmpfs: %s" % r.stdout
    try:
        relay.start()
        rconn = attach_replica(replica, relay)
        wait_until(lambda: "disk full, appending paused" in relay.log_text(), 180,
                   what="the store filling up")
        wait_until(lambda: relay_state(relay.port) == "disk full", 30, what="status: disk full")
        # Paused: the published position stands still while the sim keeps writing, and a
        # replica can read everything durable.
        before = master_status(relay)
        n0 = sim.status()["txns"]
        wait_until(lambda: sim.status()["txns"] >= n0 + 50, 60, what="the simulator writing on")
        assert master_status(relay) == before
        files_decode(relay.binlog_dir())
        r = subprocess.run(["mount", "-o", "remount,size=256m", relay.store],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True)
        assert r.returncode == 0, r.stdout
        wait_until(lambda: "appending resumed" in relay.log_text(), 60, what="appending resumed")
        st = sim.wait_done(300)
        wait_replica_equal(rconn, truth.connect(), st, 300, "replica equal to the truth")
        assert relay_state(relay.port) == "running"
        log = relay.log_text()
        assert log.count("disk full, appending paused") >= 1
        assert "translation stopped" not in log
        files_decode(relay.binlog_dir())
    finally:
        relay.stop()
        subprocess.run(["umount", "-l", relay.store])
