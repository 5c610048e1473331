#!/usr/bin/python3
"""Capture MySQL protocol packets between a client and a server.

Usage: mysql_capture_proxy.py LISTEN_PORT UPSTREAM_PORT OUT_PREFIX

Listens on 127.0.0.1:LISTEN_PORT, forwards one connection to
127.0.0.1:UPSTREAM_PORT and writes every packet (header + payload) it sees to
OUT_PREFIX.log as "C>S seq=N len=L" / "S>C ..." lines followed by the hex.
Used to capture the byte vectors in tests/vectors/mysql/ from real servers
and clients; test-only tooling.
"""
import socket
import sys
import threading


def pump(src, dst, tag, out, lock):
    buf = b""
    while True:
        try:
            data = src.recv(65536)
        except OSError:
            data = b""
        if not data:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            return
        dst.sendall(data)
        buf += data
        while len(buf) >= 4:
            n = buf[0] | buf[1] << 8 | buf[2] << 16
            if len(buf) < 4 + n:
                break
            pkt, buf = buf[: 4 + n], buf[4 + n :]
            with lock:
                out.write("%s seq=%d len=%d\n%s\n" % (tag, pkt[3], n, pkt.hex()))
                out.flush()


def main():
    lport, uport, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", lport))
    ls.listen(1)
    c, _ = ls.accept()
    s = socket.create_connection(("127.0.0.1", uport))
    lock = threading.Lock()
    with open(prefix + ".log", "w") as out:
        t1 = threading.Thread(target=pump, args=(c, s, "C>S", out, lock))
        t2 = threading.Thread(target=pump, args=(s, c, "S>C", out, lock))
        t1.start()
        t2.start()
        t1.join()
        t2.join()


if __name__ == "__main__":
    main()
