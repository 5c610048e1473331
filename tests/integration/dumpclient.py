"""A minimal binlog dump client for tests: pymysql does the handshake and
authentication (mysql_native_password), then COM_BINLOG_DUMP is sent by hand
and the stream is read (or deliberately not read) as raw packets.
Used by test_admin.py (a reader pinned on an old file) and
test_many_replicas.py (hundreds of concurrent dumps).
"""

import socket
import struct

import pymysql

COM_BINLOG_DUMP = 0x12


def connect(port, user="repl", password="pw", rcvbuf=0):
    """pymysql connection over a socket we create (so SO_RCVBUF can be set before connect)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", port))
    conn = pymysql.connect(host="127.0.0.1", port=port, user=user, password=password,
                           defer_connect=True, autocommit=True)
    conn.connect(sock=sock)
    return conn


def start_dump(conn, server_id, file_name="", pos=4, checksum=True):
    """Sends the pre-dump SETs and COM_BINLOG_DUMP (blocking when server_id != 0)."""
    with conn.cursor() as cur:
        if checksum:
            cur.execute("SET @master_binlog_checksum = @@global.binlog_checksum")
        cur.execute("SET @master_heartbeat_period = 0")
    payload = struct.pack("<IHI", pos, 0, server_id) + file_name.encode()
    conn._execute_command(COM_BINLOG_DUMP, payload)
    return conn._sock
