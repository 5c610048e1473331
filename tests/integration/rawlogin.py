"""A MySQL-protocol login written out byte by byte, for tests that need handshake
responses no stock driver sends: a plugin name left out or empty, an unknown
plugin, CLIENT_PLUGIN_AUTH off (the 4.1 native scramble), connect attributes, a
database. Layouts follow mysql-server sql/auth/sql_authentication.cc and MariaDB
sql/sql_acl.cc (parse_client_handshake_packet); the scrambles are the plugins'
documented formulas (mysql_native_password: SHA1(pw) XOR SHA1(nonce + SHA1(SHA1(pw)));
caching_sha2_password: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + nonce)).
"""

import hashlib
import socket
import struct

CLIENT_LONG_PASSWORD = 0x00000001
CLIENT_CONNECT_WITH_DB = 0x00000008
CLIENT_PROTOCOL_41 = 0x00000200
CLIENT_TRANSACTIONS = 0x00002000
CLIENT_SECURE_CONNECTION = 0x00008000
CLIENT_MULTI_RESULTS = 0x00020000
CLIENT_PLUGIN_AUTH = 0x00080000
CLIENT_CONNECT_ATTRS = 0x00100000
CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 0x00200000

BASE_CAPS = (CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS |
             CLIENT_SECURE_CONNECTION | CLIENT_MULTI_RESULTS)
NATIVE = "mysql_native_password"
SHA2 = "caching_sha2_password"


def native_scramble(password, nonce):
    if not password:
        return b""
    p1 = hashlib.sha1(password.encode()).digest()
    p3 = hashlib.sha1(nonce[:20] + hashlib.sha1(p1).digest()).digest()
    return bytes(a ^ b for a, b in zip(p1, p3))


def sha2_scramble(password, nonce):
    if not password:
        return b""
    p1 = hashlib.sha256(password.encode()).digest()
    p3 = hashlib.sha256(hashlib.sha256(p1).digest() + nonce[:20]).digest()
    return bytes(a ^ b for a, b in zip(p1, p3))


def scramble(plugin, password, nonce):
    return sha2_scramble(password, nonce) if plugin == SHA2 else native_scramble(password, nonce)


def lenenc(n):
    if n < 251:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfc" + struct.pack("<H", n)
    return b"\xfd" + struct.pack("<I", n)[:3]


class Raw:
    """One connection; .events lists what the server answered during login
    ('switch:<plugin>', 'fast', 'ok', 'err:<code>')."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.seq = 0
        self.events = []
        self.err = None
        g = self.read()
        assert g[0] == 10, g[:1]
        ver_end = g.index(b"\0", 1)
        self.server_version = g[1:ver_end].decode()
        p = ver_end + 1
        self.conn_id = struct.unpack_from("<I", g, p)[0]
        part1 = g[p + 4:p + 12]
        p += 13
        caps_lo = struct.unpack_from("<H", g, p)[0]
        caps_hi = struct.unpack_from("<H", g, p + 5)[0]
        self.server_caps = caps_lo | caps_hi << 16
        p += 18
        part2 = g[p:p + 12]
        self.nonce = part1 + part2
        self.plugin = g[p + 13:g.index(b"\0", p + 13)].decode()

    def read(self):
        hdr = self._recv(4)
        n = hdr[0] | hdr[1] << 8 | hdr[2] << 16
        self.seq = (hdr[3] + 1) & 0xFF
        return self._recv(n)

    def _recv(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("server closed the connection")
            buf += chunk
        return buf

    def write(self, payload):
        self.sock.sendall(struct.pack("<I", len(payload))[:3] + bytes([self.seq]) + payload)
        self.seq = (self.seq + 1) & 0xFF

    def login(self, user, password, caps=BASE_CAPS | CLIENT_PLUGIN_AUTH, plugin=NATIVE,
              send_plugin=True, auth=None, database=None, attrs=None, charset=45):
        """Sends a HandshakeResponse41 and follows the server to OK or ERR. plugin names the
        scramble computed for the greeting's nonce (auth overrides the bytes); send_plugin
        False leaves the name field out, "" sends it empty. Returns True on OK."""
        if database is not None:
            caps |= CLIENT_CONNECT_WITH_DB
        if attrs is not None:
            caps |= CLIENT_CONNECT_ATTRS
        data = auth if auth is not None else scramble(plugin, password, self.nonce)
        out = struct.pack("<IIB", caps, 1 << 24, charset) + b"\0" * 23 + user.encode() + b"\0"
        if caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA:
            out += lenenc(len(data)) + data
        elif caps & CLIENT_SECURE_CONNECTION:
            out += bytes([len(data)]) + data
        else:
            out += data + b"\0"
        if database is not None:
            out += database.encode() + b"\0"
        if caps & CLIENT_PLUGIN_AUTH and send_plugin:
            out += plugin.encode() + b"\0"
        if attrs is not None:
            kv = b"".join(lenenc(len(k)) + k.encode() + lenenc(len(v)) + v.encode()
                          for k, v in attrs.items())
            out += lenenc(len(kv)) + kv
        self.write(out)
        return self._follow(password)

    def _follow(self, password):
        while True:
            p = self.read()
            if p[0] == 0x00:
                self.events.append("ok")
                return True
            if p[0] == 0xFF:
                code = struct.unpack_from("<H", p, 1)[0]
                self.err = (code, p[9:].decode(errors="replace"))
                self.events.append("err:%d" % code)
                return False
            if p[0] == 0xFE:  # AuthSwitchRequest: plugin NUL, 20-byte nonce, NUL
                end = p.index(b"\0", 1)
                plugin = p[1:end].decode()
                self.nonce = p[end + 1:end + 21]
                self.events.append("switch:" + plugin)
                self.write(scramble(plugin, password, self.nonce))
                continue
            if p[0] == 0x01 and p[1:] == b"\x03":
                self.events.append("fast")
                continue
            raise AssertionError("unexpected login packet %r" % p[:16])

    def query(self, sql):
        """COM_QUERY; returns (column names, rows) or raises with the ERR."""
        self.seq = 0
        self.write(b"\x03" + sql.encode())
        p = self.read()
        if p[0] == 0xFF:
            code = struct.unpack_from("<H", p, 1)[0]
            raise QueryError(code, p[9:].decode(errors="replace"))
        if p[0] == 0x00:
            return [], []
        ncols = p[0]
        names = []
        for _ in range(ncols):
            c = self.read()
            fields = []
            i = 0
            for _ in range(5):
                n = c[i]
                fields.append(c[i + 1:i + 1 + n])
                i += 1 + n
            names.append(fields[4].decode())
        assert self.read()[0] == 0xFE
        rows = []
        while True:
            r = self.read()
            if r[0] == 0xFE and len(r) < 9:
                return names, rows
            row = []
            i = 0
            while i < len(r):
                if r[i] == 0xFB:
                    row.append(None)
                    i += 1
                    continue
                n = r[i]
                row.append(r[i + 1:i + 1 + n].decode())
                i += 1 + n
            rows.append(row)

    def close(self):
        self.sock.close()


class QueryError(Exception):
    def __init__(self, code, msg):
        super().__init__("%d %s" % (code, msg))
        self.code = code
        self.msg = msg
