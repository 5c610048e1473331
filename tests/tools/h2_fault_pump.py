#!/usr/bin/python3
"""A Pump that misbehaves on purpose, for tests/unit/test_pump_client.c.

Speaks HTTP/2 itself (Debian's python3-h2; a real gRPC server cannot be made
to send a compressed message nobody asked for or to stop mid-message) and
frames gRPC as grpc/grpc doc/PROTOCOL-HTTP2.md describes. Binlogs are built by
fake_pump.py's helpers. Every request's "<cluster_id> <offset>" is appended to
--log-file; a request whose headers do not follow PROTOCOL-HTTP2.md is logged
as "BADHEADERS <what>" and answered with grpc-status 12.

On the FIRST connection, after C(100) (when above the offset), --scenario:
  compressed  a message whose compressed flag is 1 (no grpc-encoding was agreed)
  badflag     a message whose flag byte is 2
  status      trailers grpc-status 14 with a percent-encoded grpc-message
  midclose    a prefix announcing --partial bytes, half of them, then the TCP
              connection is closed
  reset       RST_STREAM(INTERNAL_ERROR)
  deaf        nothing more, and the socket is no longer read (PINGs go unanswered)
  idle        nothing more; the socket is read, so PINGs are answered
Every later connection streams C(100) C(110) above the offset and stays open.
"""
import argparse
import os
import signal
import socket
import struct
import sys
import threading

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_pump import item, parse_fields  # noqa: E402


def frame(msg, flag=0):
    return struct.pack(">BI", flag, len(msg)) + msg


class Conn:
    def __init__(self, server, sock, number):
        self.server = server
        self.sock = sock
        self.number = number
        cfg = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self.h2 = h2.connection.H2Connection(config=cfg)
        self.headers = {}
        self.body = b""

    def flush(self):
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def pump_events(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("client closed")
        for ev in self.h2.receive_data(data):
            if isinstance(ev, h2.events.PingReceived):
                self.server.log("PING")
            if isinstance(ev, h2.events.RequestReceived):
                self.stream = ev.stream_id
                self.headers = dict(ev.headers)
            elif isinstance(ev, h2.events.DataReceived):
                self.body += ev.data
                self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                self.ended = True
        self.flush()

    def send(self, data, end=False):
        """Sends DATA within the client's flow-control windows."""
        while data:
            window = self.h2.local_flow_control_window(self.stream)
            n = min(len(data), window, self.h2.max_outbound_frame_size)
            if n == 0:
                self.pump_events()
                continue
            self.h2.send_data(self.stream, data[:n])
            data = data[n:]
            self.flush()
        if end:
            self.h2.end_stream(self.stream)
            self.flush()

    def check_headers(self):
        h = self.headers
        want = {":method": "POST", ":scheme": "http", ":path": "/binlog.Pump/PullBinlogs",
                "content-type": "application/grpc", "te": "trailers"}
        for k, v in want.items():
            if h.get(k) != v:
                return "%s=%r" % (k, h.get(k))
        if not h.get(":authority"):
            return ":authority missing"
        if not h.get("user-agent"):
            return "user-agent missing"
        return ""

    def run(self):
        self.h2.initiate_connection()
        self.flush()
        self.ended = False
        while not self.ended:
            self.pump_events()
        bad = self.check_headers()
        if len(self.body) < 5 or self.body[0] != 0:
            bad = bad or "request prefix %r" % self.body[:5]
        cluster_id, offset = 0, 0
        for num, wt, v in parse_fields(self.body[5:]):
            if num == 1 and wt == 0:
                cluster_id = v
            elif num == 2 and wt == 2:
                for pnum, pwt, pv in parse_fields(v):
                    if pnum == 2 and pwt == 0:
                        offset = pv - (1 << 64) if pv >= 1 << 63 else pv
        self.server.log("BADHEADERS %s" % bad if bad else "%d %d" % (cluster_id, offset))
        if bad:
            self.h2.send_headers(self.stream, [(":status", "200"),
                                               ("content-type", "application/grpc"),
                                               ("grpc-status", "12")], end_stream=True)
            self.flush()
            return
        self.h2.send_headers(self.stream, [(":status", "200"), ("content-type", "application/grpc")])
        self.flush()
        for ts, msg in [item(100)]:
            if ts > offset:
                self.send(frame(msg))
        if self.number == 1:
            sc = self.server.scenario
            if sc == "compressed":
                self.send(frame(item(105)[1], flag=1))
            elif sc == "badflag":
                self.send(frame(item(105)[1], flag=2))
            elif sc == "status":
                self.h2.send_headers(self.stream, [("grpc-status", "14"),
                                                   ("grpc-message", "pump%20is%20closing")],
                                     end_stream=True)
                self.flush()
            elif sc == "midclose":
                self.send(struct.pack(">BI", 0, self.server.partial)
                          + b"x" * (self.server.partial // 2))
                self.sock.shutdown(socket.SHUT_RDWR)
                return
            elif sc == "reset":
                self.h2.reset_stream(self.stream, h2.errors.ErrorCodes.INTERNAL_ERROR)
                self.flush()
            elif sc == "deaf":
                self.server.log("PINGS_IGNORED")
                threading.Event().wait(60)  # the client gives up first
                return
        else:
            for ts, msg in [item(110)]:
                if ts > offset:
                    self.send(frame(msg))
        while True:  # hold the connection until the client leaves
            self.pump_events()


class Server:
    def __init__(self, args):
        self.scenario = args.scenario
        self.partial = args.partial
        self.log_file = args.log_file
        self.lock = threading.Lock()
        self.conns = 0

    def log(self, line):
        with self.lock, open(self.log_file, "a") as f:
            f.write(line + "\n")

    def serve(self, sock):
        with self.lock:
            self.conns += 1
            n = self.conns
        try:
            Conn(self, sock, n).run()
        except (ConnectionError, OSError, h2.exceptions.ProtocolError):
            pass
        finally:
            sock.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log-file", required=True)
    ap.add_argument("--scenario", required=True,
                    choices=["compressed", "badflag", "status", "midclose", "reset", "deaf",
                             "idle"])
    ap.add_argument("--partial", type=int, default=20 << 20)
    args = ap.parse_args()
    server = Server(args)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % lsock.getsockname()[1])
    os.rename(tmp, args.port_file)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        sock, _ = lsock.accept()
        threading.Thread(target=server.serve, args=(sock,), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
