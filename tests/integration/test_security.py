"""Security of tirelay (issue 7 point 5) against real clients: pymysql, the
`mariadb` CLI, mariadb-binlog, `openssl s_client` and Python's ssl module
(through a MySQL SSLRequest upgrade written here).

Covered: listeners without a host bind 127.0.0.1 only; [users] passwords are
kept only as hashes (not in the process memory after start and after a
caching_sha2_password full-path login over TLS, never printed by
--check-config, never logged); require-tls refuses plaintext; admin
statements only for [server] admin-users accounts; replication accounts read
nothing but the binlog; TLS 1.0/1.1 and non-AEAD / non-forward-secret TLS 1.2
suites refused; certificate and key errors named clearly.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_security.py
"""

import os
import re
import socket
import ssl
import struct
import subprocess
import sys

import pymysql
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
from conftest import wait_until  # noqa: E402

# Distinctive passwords, so a search of memory or logs cannot match by chance.
REPL_PW = "Repl-pw-7c1e5a90-secret"
OPS_PW = "Ops-pw-42b9d3f1-secret"
DENIED_1227 = 1227
INSECURE = ("Connections using insecure transport are prohibited while "
            "--require_secure_transport=ON.")
NO_VERIFY = {"check_hostname": False, "verify_mode": ssl.CERT_NONE}


def make_cert(d, name="cert", key_type="rsa:2048"):
    cert, key = os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", key_type, "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=tirelay-test"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_cert(str(tmp_path_factory.mktemp("certs")))


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    """A truth MariaDB and the simulator with a small committed workload."""
    base = tmp_path_factory.mktemp("secup")
    truth = cluster.MariaDB(str(base / "truth"), server_id=1).start()
    sim = None
    try:
        truth.create_user("tidb", "tidbpw")
        sim = cluster.TidbSim(str(base / "sim"), truth, seed=11, rows=200, fake_interval=1.0).start()
        yield truth, sim
    finally:
        if sim is not None:
            sim.stop()
        truth.stop()


def start_relay(base, upstream, server_conf="", admin_users="ops", port=None, extra=""):
    """tirelay with users repl (replication) and ops (admin), debug log. server_conf is
    added to [server]; port=None lets cluster pick the listen address."""
    truth, sim = upstream
    t = cluster.Tirelay(str(base), sim.pumps, sim.cluster_id, truth.port, port=port,
                        admin_users=admin_users,
                        extra_conf="[server]\n%s\n[users]\nops = %s\n[log]\nlevel = debug\n%s"
                        % (server_conf, OPS_PW, extra))
    # cluster writes "repl = pw": this module's replication password is distinctive.
    with open(t.conf) as f:
        text = f.read()
    with open(t.conf, "w") as f:
        f.write(text.replace("\nrepl = pw\n", "\nrepl = %s\n" % REPL_PW))
    return t


@pytest.fixture(scope="module")
def relay(upstream, certs, tmp_path_factory):
    """TLS on (not required), first logins take caching_sha2_password's full path."""
    t = start_relay(tmp_path_factory.mktemp("secrelay"), upstream,
                    "tls-cert = %s\ntls-key = %s\ncaching-sha2-prefill = off\n" % certs)
    t.start()
    try:
        wait_until(lambda: binlog_size(t) > 0, 120, what="a committed transaction")
        yield t
    finally:
        t.stop()


def connect(relay, user="repl", password=REPL_PW, use_tls=False, **kw):
    if use_tls:
        kw["ssl"] = NO_VERIFY
    return pymysql.connect(host="127.0.0.1", port=relay.port, user=user, password=password,
                           autocommit=True, connect_timeout=20, **kw)


def query(conn, sql):
    """(columns, rows), or ("err", code, message) for a server error."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            cols = [d[0] for d in cur.description] if cur.description else []
            return cols, [list(r) for r in cur.fetchall()]
    except pymysql.err.MySQLError as e:
        if len(e.args) < 2 or not isinstance(e.args[0], int) or e.args[0] >= 2000:
            raise
        return ("err", e.args[0], e.args[1])


def binlog_size(relay):
    c = connect(relay)
    try:
        _, rows = query(c, "SHOW MASTER STATUS")
        return int(rows[0][1]) - 4 if rows else 0
    finally:
        c.close()


# ---------------------------------------------------------------- listeners bind loopback

def _listening(port):
    """Local addresses (hex host, as in /proc/net/tcp*) listening on port."""
    out = []
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(path) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                host, p = fields[1].split(":")
                if fields[3] == "0A" and int(p, 16) == port:   # 0A = LISTEN
                    out.append(host)
    return out


def _other_ipv4():
    """A non-loopback IPv4 address of this machine, or None."""
    try:
        out = subprocess.run(["hostname", "-I"], stdout=subprocess.PIPE, text=True).stdout
    except OSError:
        return None
    for a in out.split():
        if re.match(r"^\d+\.\d+\.\d+\.\d+$", a) and not a.startswith("127."):
            return a
    return None


def test_listeners_without_host_bind_loopback(upstream, tmp_path):
    port, mport, hport = cluster.free_port(), cluster.free_port(), cluster.free_port()
    t = start_relay(tmp_path / "bind", upstream, "mariadb-listen = :%d\n" % mport, port=port,
                    extra="[metrics]\nlisten = %d\n" % hport)
    with open(t.conf) as f:
        text = f.read()
    with open(t.conf, "w") as f:    # no host at all on the MySQL listener
        f.write(text.replace("listen = 127.0.0.1:%d\n" % port, "listen = %d\n" % port, 1))
    t.start()
    try:
        for p in (port, mport, hport):
            hosts = wait_until(lambda: _listening(p), 30, what="listener on %d" % p)
            assert hosts == ["0100007F"], (p, hosts)   # 127.0.0.1 only: no 0.0.0.0, no [::]
        other = _other_ipv4()
        if other is not None:
            for p in (port, mport, hport):
                with pytest.raises(OSError):
                    socket.create_connection((other, p), 2).close()
        c = connect(t)
        assert query(c, "SELECT @@server_id")[1] == [[1]]
        c.close()
    finally:
        t.stop()


# ---------------------------------------------------------------- passwords

def _memory_hits(pid, needles):
    """Which needles occur in the readable private memory of pid (heap, stacks,
    anonymous and file-backed writable mappings; huge sanitizer shadow regions skipped)."""
    found = set()
    with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            perms = parts[1]
            name = parts[5] if len(parts) > 5 else ""
            if "r" not in perms or name in ("[vvar]", "[vsyscall]") or hi - lo > (256 << 20):
                continue
            if "w" not in perms and name.startswith("/"):
                continue    # read-only file mappings: code and constants of the binaries
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except (OSError, ValueError, OverflowError):
                continue
            for n in needles:
                if n in data:
                    found.add(n)
    return found


@pytest.mark.skipif(os.geteuid() != 0 and not os.access("/proc/self/mem", os.R_OK),
                    reason="needs to read another process's memory")
def test_passwords_only_hashed_in_memory(relay):
    # A full-path caching_sha2_password login over TLS sends the password itself
    # (prefill off: the first login of each user after a start), a wrong one too.
    c = connect(relay, "ops", OPS_PW, use_tls=True)
    assert query(c, "SELECT 1")[1] == [[1]]
    c.close()
    with pytest.raises(pymysql.err.OperationalError):
        connect(relay, "ops", OPS_PW + "x", use_tls=True)
    assert "client authenticated user=ops plugin=caching_sha2_password path=full-tls" in \
        relay.log_text()
    c = connect(relay)    # repl: plain, full path through RSA
    c.close()
    needles = [p.encode() for p in (REPL_PW, OPS_PW)]
    # Sanity of the search itself: it finds what tirelay does hold, a file name and the
    # TiDB password of [upstream] tidb (kept in clear by design: tirelay logs in to TiDB).
    held = [b"tirelay-bin.000001", b"tidb:tidbpw@"[5:11]]
    assert _memory_hits(relay.proc.pid, held) == set(held)
    assert _memory_hits(relay.proc.pid, needles) == set()


def test_check_config_and_log_never_show_passwords(relay, tmp_path):
    text = open(relay.conf).read()
    r = subprocess.run([cluster.tirelay_bin(), "--config", relay.conf, "--check-config"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    assert r.returncode == 0 and "configuration ok" in r.stdout, r.stdout
    # Errors on every line that holds a password, and around them.
    bad = text.replace("[users]\n", "[users]\n%s = x\nbroken line\n" % ("u" * 80), 1)
    bad = re.sub(r"\ntidb = .*\n", "\ntidb = tidb:%s@nowhere\n" % OPS_PW, bad, count=1)
    bad += "\n[users]\nrepl = %s\n" % REPL_PW    # listed twice
    path = tmp_path / "bad.cnf"
    path.write_text(bad)
    r = subprocess.run([cluster.tirelay_bin(), "--config", str(path), "--check-config"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    assert r.returncode == 2, r.stdout
    assert "user 'repl' listed twice" in r.stdout and "[upstream] tidb" in r.stdout, r.stdout
    assert REPL_PW not in r.stdout and OPS_PW not in r.stdout, r.stdout
    # The running relay's log (debug level) after right and wrong logins, both users.
    for user, pw in (("repl", REPL_PW), ("ops", OPS_PW), ("repl", OPS_PW), ("ops", REPL_PW)):
        try:
            connect(relay, user, pw).close()
        except pymysql.err.OperationalError:
            pass
    c = connect(relay, "ops", OPS_PW)
    query(c, "SET PASSWORD = PASSWORD('%s')" % REPL_PW)
    query(c, "CHANGE MASTER TO MASTER_PASSWORD='%s'" % OPS_PW)
    c.close()
    log = relay.log_text()
    assert "client authenticated user=repl" in log
    assert REPL_PW not in log and OPS_PW not in log


def test_require_tls_refuses_plaintext(upstream, certs, tmp_path):
    t = start_relay(tmp_path / "reqtls", upstream,
                    "tls-cert = %s\ntls-key = %s\nrequire-tls = on\n" % certs).start()
    try:
        with pytest.raises(pymysql.err.OperationalError) as e:
            connect(t)
        assert e.value.args == (3159, INSECURE)
        r = subprocess.run(["mariadb", "--no-defaults", "-h127.0.0.1", "-P%d" % t.port, "-urepl",
                            "-p" + REPL_PW, "--skip-ssl", "-e", "SHOW MASTER STATUS"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        assert r.returncode == 1 and "ERROR 3159" in r.stderr, r.stderr
        c = connect(t, use_tls=True)
        assert c._sock.version() in ("TLSv1.2", "TLSv1.3")
        assert query(c, "SHOW SESSION STATUS LIKE 'Ssl_version'")[1][0][1] in ("TLSv1.2", "TLSv1.3")
        c.close()
        # A replication client over TLS reads the binlog.
        r = subprocess.run(["mariadb-binlog", "--no-defaults", "--read-from-remote-server",
                            "-h127.0.0.1", "-P%d" % t.port, "-urepl", "-p" + REPL_PW, "--ssl",
                            "--skip-ssl-verify-server-cert", "tirelay-bin.000001"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        assert r.returncode == 0 and "Start: binlog v 4" in r.stdout, r.stderr
    finally:
        t.stop()


# ---------------------------------------------------------------- admin and replication accounts

ADMIN_ONLY = [
    "SHOW RELAY STATUS",
    "SHOW BINLOG POSITION FOR TSO 1",
    "SHOW BINLOG POSITION FOR POSITION 'tirelay-bin.000001' 4",
    "PURGE BINARY LOGS TO 'tirelay-bin.000001'",
    "PURGE BINARY LOGS BEFORE '2000-01-01 00:00:00'",
    "PURGE MASTER LOGS TO 'tirelay-bin.000001'",
    "FLUSH BINARY LOGS",
    "SHOW REPLICAS",
    "SHOW SLAVE HOSTS",
]


def test_admin_statements_need_an_admin_account(relay):
    repl = connect(relay)
    ops = connect(relay, "ops", OPS_PW)
    for sql in ADMIN_ONLY:
        got = query(repl, sql)
        assert got[:2] == ("err", DENIED_1227), (sql, got)
        assert "Access denied" in got[2]
        # The admin account gets the statement's own answer (a result, OK, or its own error).
        got = query(ops, sql)
        assert got[:2] != ("err", DENIED_1227), (sql, got)
    assert query(ops, "SHOW RELAY STATUS")[0][0] == "Kind"
    # KILL: a replication account may end its own session only.
    ops_id = query(ops, "SELECT CONNECTION_ID()")[1][0][0]
    got = query(repl, "KILL %d" % ops_id)
    assert got[:2] == ("err", 1095), got
    assert query(ops, "SELECT 1")[1] == [[1]]          # still alive
    victim = connect(relay)
    vid = query(victim, "SELECT CONNECTION_ID()")[1][0][0]
    assert query(ops, "KILL %d" % vid) == ([], [])
    # Grants tell each account what it may do.
    assert query(repl, "SHOW GRANTS")[1] == [
        ["GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `repl`@`%`"]]
    assert "SUPER" in query(ops, "SHOW GRANTS FOR CURRENT_USER")[1][0][0]
    repl.close()
    ops.close()
    victim.close()


def test_replication_account_reads_only_the_binlog(relay, upstream):
    """A replication account reads the binlog and the schema catalogue (every account may,
    issue 14): no row of any table, nothing that writes, nothing of the server's own."""
    truth, sim = upstream
    db = sim.status()["db"]
    table = sim.status()["tables"][0]["name"]
    c = connect(relay)
    # Binlog metadata and the binlog itself: what REPLICATION SLAVE/CLIENT allow.
    cols, rows = query(c, "SHOW MASTER STATUS")
    assert cols[0] == "File" and rows[0][0] == "tirelay-bin.000001"
    assert query(c, "SHOW BINARY LOGS")[1][0][0] == "tirelay-bin.000001"
    assert query(c, "SHOW BINLOG EVENTS LIMIT 2")[1][0][5].startswith("Server ver")
    # Tables: no data, whatever the statement.
    for sql in ["SELECT * FROM `%s`.`%s`" % (db, table), "SELECT * FROM mysql.user",
                "SELECT user, authentication_string FROM mysql.user",
                "SELECT COUNT(*) FROM `%s`.`%s`" % (db, table),
                "TABLE mysql.user", "SELECT LOAD_FILE('/etc/passwd')",
                "SELECT 1 INTO OUTFILE '/tmp/tirelay-sec-outfile'",
                "LOAD DATA INFILE '/etc/passwd' INTO TABLE t",
                "HANDLER mysql.user OPEN", "CREATE TABLE t (a INT)", "DROP DATABASE mysql",
                "INSERT INTO t VALUES (1)", "CREATE USER x IDENTIFIED BY 'y'",
                "GRANT ALL ON *.* TO repl", "SET GLOBAL server_id = 7",
                "SHUTDOWN", "SHOW CREATE TABLE mysql.user", "SHOW PROCESSLIST"]:
        got = query(c, sql)
        assert got[0] == "err" or got[1] == [], (sql, got)
    assert not os.path.exists("/tmp/tirelay-sec-outfile")
    # The schema: the replicated databases only, never TiDB's or tirelay's own.
    assert query(c, "SHOW DATABASES")[1] == [["information_schema"], [db]]
    assert [table] in query(c, "SHOW TABLES FROM `%s`" % db)[1]
    for sql in ["SHOW TABLES FROM mysql",
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'mysql'",
                "SELECT user FROM information_schema.user_privileges"]:
        got = query(c, sql)
        assert got[0] == "err" or got[1] == [], (sql, got)
    assert query(c, "USE mysql")[:2] == ("err", 1049)
    assert query(c, "SELECT @@server_id")[1] == [[1]]
    c.close()
    # And it can replicate: mariadb-binlog reads the first file.
    r = subprocess.run(["mariadb-binlog", "--no-defaults", "--read-from-remote-server",
                        "-h127.0.0.1", "-P%d" % relay.port, "-urepl", "-p" + REPL_PW,
                        "tirelay-bin.000001"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    assert r.returncode == 0 and "Start: binlog v 4" in r.stdout, r.stderr


# ---------------------------------------------------------------- TLS versions and ciphers

CLIENT_LONG_PASSWORD = 0x1
CLIENT_PROTOCOL_41 = 0x200
CLIENT_SSL = 0x800
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_PLUGIN_AUTH = 0x80000


def _recv_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise ConnectionError("closed after %d of %d bytes" % (len(out), n))
        out += chunk
    return out


def starttls(port, ctx):
    """Reads the MySQL greeting, sends an SSLRequest (HandshakeResponse41's first 32 bytes
    with CLIENT_SSL, sequence 1: MySQL protocol docs, Protocol::SSLRequest) and runs the
    TLS handshake with ctx. Returns the TLS socket; raises ssl.SSLError when refused."""
    s = socket.create_connection(("127.0.0.1", port), 10)
    hdr = _recv_exact(s, 4)
    greeting = _recv_exact(s, int.from_bytes(hdr[:3], "little"))
    assert greeting[0] == 10, greeting[:16]
    # capability flags (lower 2 bytes) follow version\0, thread id (4), salt (8), filler (1)
    off = greeting.index(b"\0", 1) + 1 + 4 + 8 + 1
    assert struct.unpack_from("<H", greeting, off)[0] & CLIENT_SSL, "server offers no TLS"
    caps = (CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION
            | CLIENT_PLUGIN_AUTH)
    body = struct.pack("<IIB23x", caps, 1 << 24, 45)
    s.sendall(len(body).to_bytes(3, "little") + b"\x01" + body)
    try:
        return ctx.wrap_socket(s)
    except Exception:
        s.close()
        raise


def client_ctx(min_v=None, max_v=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if min_v is not None:
        ctx.minimum_version = min_v
    if max_v is not None:
        ctx.maximum_version = max_v
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    return ctx


# Python deprecates these versions; asking for them is the point of the test.
@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1],
                         ids=["tls1.0", "tls1.1"])
def test_old_tls_versions_refused(relay, version):
    # @SECLEVEL=0 lets this client offer TLS 1.0/1.1 (Debian's OpenSSL refuses by default),
    # so the refusal seen is the server's.
    ctx = client_ctx(version, version, "ALL:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError) as e:
        starttls(relay.port, ctx).close()
    assert "PROTOCOL_VERSION" in str(e.value).upper() or "UNSUPPORTED_PROTOCOL" in \
        str(e.value).upper(), e.value
    # The same client, allowed up to TLS 1.2, gets in: the handshake itself works.
    ok = starttls(relay.port, client_ctx(version, ssl.TLSVersion.TLSv1_2, "ALL:@SECLEVEL=0"))
    assert ok.version() == "TLSv1.2"
    ok.close()


MODERN_TLS12 = re.compile(r"^(ECDHE-(ECDSA|RSA)|DHE-RSA)-(AES(128|256)-GCM-SHA(256|384)|"
                          r"CHACHA20-POLY1305)$")


# (Debian 12's OpenSSL 3.0 has no 3DES or RC4 suites left to offer.)
@pytest.mark.parametrize("cipher", ["AES128-SHA", "AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA",
                                    "ECDHE-RSA-AES256-SHA384", "DHE-RSA-AES128-SHA",
                                    "CAMELLIA128-SHA", "NULL-SHA256", "ADH-AES128-GCM-SHA256"])
def test_weak_tls12_ciphers_refused(relay, cipher):
    """No static-RSA key exchange (no forward secrecy), no CBC, no NULL, no anonymous."""
    ctx = client_ctx(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2, cipher + ":@SECLEVEL=0")
    with pytest.raises(ssl.SSLError) as e:
        starttls(relay.port, ctx).close()
    assert "HANDSHAKE_FAILURE" in str(e.value).upper() or "NO_SHARED_CIPHER" in \
        str(e.value).upper() or "NO_CIPHERS" in str(e.value).upper(), e.value


def test_modern_tls_negotiated(relay):
    s = starttls(relay.port, client_ctx(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2))
    assert s.version() == "TLSv1.2" and MODERN_TLS12.match(s.cipher()[0]), s.cipher()
    s.close()
    s = starttls(relay.port, client_ctx())
    assert s.version() == "TLSv1.3", s.version()
    assert s.cipher()[0] in ("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256",
                             "TLS_CHACHA20_POLY1305_SHA256"), s.cipher()
    s.close()
    # openssl s_client's own MySQL STARTTLS: TLS 1.1 refused, TLS 1.2 accepted.
    def s_client(*args):
        return subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % relay.port,
                               "-starttls", "mysql"] + list(args), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=60)
    r = s_client("-tls1_1", "-cipher", "ALL:@SECLEVEL=0")
    assert r.returncode != 0 and re.search(r"alert protocol version|unsupported protocol|"
                                           r"wrong version number", r.stdout), r.stdout
    r = s_client("-tls1_2")
    assert r.returncode == 0, r.stdout
    m = re.search(r"Cipher is (\S+)", r.stdout)
    assert m and MODERN_TLS12.match(m.group(1)), r.stdout


# ---------------------------------------------------------------- certificate errors

def test_certificate_errors_are_clear(relay, certs, tmp_path):
    d = str(tmp_path)
    other_cert, other_key = make_cert(d, "other")
    garbage = os.path.join(d, "garbage.pem")
    with open(garbage, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    missing = os.path.join(d, "missing.pem")
    cases = [
        ((missing, certs[1]), "[server] tls-cert: cannot load certificate %s: " % missing),
        ((garbage, certs[1]), "[server] tls-cert: cannot load certificate %s: " % garbage),
        ((certs[0], missing), "[server] tls-key: cannot load private key %s: " % missing),
        ((certs[0], other_key), "[server] tls-key: does not match tls-cert %s: " % other_key),
        ((certs[0], certs[0]), "[server] tls-key: cannot load private key %s: " % certs[0]),
    ]
    # The running relay's configuration on a store and port of its own.
    base = open(relay.conf).read()
    base = re.sub(r"\ndir = .*\n", "\ndir = %s\n" % os.path.join(d, "store"), base)
    base = re.sub(r"\nlisten = .*\n", "\nlisten = 127.0.0.1:%d\n" % cluster.free_port(), base)
    for (cert, key), want in cases:
        text = re.sub(r"tls-cert = .*\n", "tls-cert = %s\n" % cert, base)
        text = re.sub(r"tls-key = .*\n", "tls-key = %s\n" % key, text)
        path = os.path.join(d, "tls.cnf")
        with open(path, "w") as f:
            f.write(text)
        # --check-config (the systemd unit runs it first): exit 2, the file and the reason.
        r = subprocess.run([cluster.tirelay_bin(), "--config", path, "--check-config"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        assert r.returncode == 2 and want in r.stdout, (want, r.stdout)
        assert REPL_PW not in r.stdout and OPS_PW not in r.stdout
        # Starting anyway: exit 1, the same reason in the log.
        r = subprocess.run(cluster.wrap([cluster.tirelay_bin(), "--config", path]),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=300)
        assert r.returncode == 1 and "cannot start the server: " + want in r.stdout, \
            (want, r.stdout)
