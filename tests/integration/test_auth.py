"""Authentication and TLS of tirelay's MySQL-protocol front against real
clients: pymysql 1.0 and the Debian `mariadb` CLI (libmariadb 3.3, with its
caching_sha2_password plugin), plus a real MariaDB 10.11 replica replicating
over TLS (MASTER_SSL=1). The server is tests/tools/tr_serve_fixture.c (a
synthetic store, MySQL-flavour listener: greets with caching_sha2_password),
configured through TR_FIXTURE_SERVER_CONF / TR_FIXTURE_USERS_CONF with a
self-signed certificate made by the `openssl` CLI.

Covered: plugin {native (via auth switch), caching_sha2} x TLS {on, off} x
password {right, wrong} x user {known, unknown} for both clients; the
caching_sha2_password full path (caching-sha2-prefill = off: password over
TLS, RSA public-key request + OAEP without TLS, then the fast path on the next
login); auth switch from unsupported plugins; require-tls (ERR 3159); TLS
for the replication stream.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_auth.py
"""

import os
import re
import ssl
import subprocess
import sys

import pymysql
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
from conftest import wait_until  # noqa: E402

NO_VERIFY = {"check_hostname": False, "verify_mode": ssl.CERT_NONE}
USERS = "alice = s3cret-Alice\n"
DENIED = "Access denied for user '%s'@'127.0.0.1' (using password: YES)"
INSECURE = ("Connections using insecure transport are prohibited while "
            "--require_secure_transport=ON.")


def build_dir():
    if os.environ.get("TIRELAY_BUILD"):
        return os.environ["TIRELAY_BUILD"]
    return os.path.dirname(cluster.tirelay_bin())


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """Self-signed RSA certificate + key from the openssl CLI."""
    d = tmp_path_factory.mktemp("certs")
    cert, key = str(d / "cert.pem"), str(d / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=tirelay-test"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class Server:
    """tr_serve_fixture with extra [server]/[users] lines; log at debug level."""

    def __init__(self, base, server_conf, n=5, every_ms=0):
        binary = os.path.join(build_dir(), "tr_serve_fixture")
        assert os.access(binary, os.X_OK), "tr_serve_fixture not built in %s" % build_dir()
        os.makedirs(base, exist_ok=True)
        self.base = base
        self.port = cluster.free_port()
        self.logpath = os.path.join(base, "fixture.log")
        self.log = open(self.logpath, "w")
        env = dict(os.environ, TR_FIXTURE_SERVER_CONF=server_conf, TR_FIXTURE_USERS_CONF=USERS)
        self.proc = subprocess.Popen(cluster.wrap([binary, os.path.join(base, "store"),
                                                   str(self.port), str(n), "65536", str(every_ms),
                                                   "debug"]),
                                     stdout=subprocess.PIPE, stderr=self.log, env=env,
                                     universal_newlines=True)
        line = self.proc.stdout.readline()
        assert line.startswith("READY"), "fixture did not start: %r\n%s" % (line, self.log_text())

    def log_text(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def auth_lines(self):
        return re.findall(r"client authenticated user=(\S+) plugin=(\S+) path=(\S+) tls=(\S+)",
                          self.log_text())

    def last_auth(self):
        lines = self.auth_lines()
        return lines[-1] if lines else None

    def stop(self):
        ours = cluster.stop_process(self.proc, cluster.STOP_TIMEOUT)
        self.log.close()
        cluster.check_child("tr_serve_fixture", self.proc, self.logpath, ours)


@pytest.fixture(scope="module")
def tls_server(certs, tmp_path_factory):
    s = Server(str(tmp_path_factory.mktemp("tls")),
               "tls-cert = %s\ntls-key = %s\n" % certs, n=1500)
    yield s
    s.stop()


@pytest.fixture
def make_server(certs, tmp_path):
    started = []

    def make(extra, **kw):
        s = Server(str(tmp_path / ("srv%d" % len(started))),
                   "tls-cert = %s\ntls-key = %s\n%s" % (certs + (extra,)), **kw)
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()


def py_connect(server, user, password, use_tls):
    kw = {"ssl": NO_VERIFY} if use_tls else {}
    return pymysql.connect(host="127.0.0.1", port=server.port, user=user, password=password,
                           autocommit=True, connect_timeout=10, **kw)


def py_query(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def cli(server, user, password, *args):
    return subprocess.run(["mariadb", "--no-defaults", "-h127.0.0.1", "-P%d" % server.port,
                           "-u" + user, "-p" + password, "--batch", "--skip-column-names"]
                          + list(args) + ["-e", "SELECT @@server_id, CONNECTION_ID()"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                          universal_newlines=True)


CLI_TLS = {True: ["--ssl", "--skip-ssl-verify-server-cert"], False: ["--skip-ssl"]}
CLI_PLUGIN = {"native": "mysql_native_password", "sha2": "caching_sha2_password"}
CASES = [(u, pw) for u in ("known", "unknown") for pw in ("right", "wrong")]


def credentials(user, pw):
    name = "alice" if user == "known" else "mallory"
    return name, "s3cret-Alice" if pw == "right" else "s3cret-alice"


# ---------------------------------------------------------------- the matrix

@pytest.mark.parametrize("use_tls", [True, False], ids=["tls", "plain"])
@pytest.mark.parametrize("user,pw", CASES)
def test_matrix_pymysql(tls_server, use_tls, user, pw):
    """pymysql follows the greeting: caching_sha2_password (fast path)."""
    name, password = credentials(user, pw)
    if user == "known" and pw == "right":
        conn = py_connect(tls_server, name, password, use_tls)
        assert py_query(conn, "SELECT @@server_id") == ((42,),)
        tls_version = conn._sock.version() if use_tls else None
        conn.close()
        got = tls_server.last_auth()
        assert got[:3] == (name, "caching_sha2_password", "fast"), got
        if use_tls:
            assert tls_version in ("TLSv1.2", "TLSv1.3"), tls_version
            assert got[3] == tls_version, got
        else:
            assert got[3] == "off", got
        return
    with pytest.raises(pymysql.err.OperationalError) as e:
        py_connect(tls_server, name, password, use_tls)
    assert e.value.args == (1045, DENIED % name)


@pytest.mark.parametrize("plugin", ["native", "sha2"])
@pytest.mark.parametrize("use_tls", [True, False], ids=["tls", "plain"])
@pytest.mark.parametrize("user,pw", CASES)
def test_matrix_mariadb_cli(tls_server, plugin, use_tls, user, pw):
    """libmariadb: --default-auth=mysql_native_password gets an auth switch to
    native (its first response names native with empty data); caching_sha2
    answers the greeting directly."""
    name, password = credentials(user, pw)
    before = len(tls_server.auth_lines())
    r = cli(tls_server, name, password, "--default-auth=" + CLI_PLUGIN[plugin],
            *CLI_TLS[use_tls])
    if user == "known" and pw == "right":
        assert r.returncode == 0, r.stderr
        assert r.stdout.split("\t")[0] == "42", r.stdout
        lines = tls_server.auth_lines()
        assert len(lines) == before + 1
        got = lines[-1]
        want_path = "fast" if plugin == "sha2" else "scramble"
        assert got[:3] == (name, CLI_PLUGIN[plugin], want_path), got
        assert (got[3] != "off") == use_tls, got
        return
    assert r.returncode == 1
    assert r.stderr.strip() == "ERROR 1045 (28000): " + DENIED % name, r.stderr


def test_native_switch_is_logged(tls_server):
    r = cli(tls_server, "alice", "s3cret-Alice", "--default-auth=mysql_native_password",
            "--skip-ssl")
    assert r.returncode == 0, r.stderr
    assert "auth switch from=mysql_native_password to=mysql_native_password" in \
        tls_server.log_text()


@pytest.mark.parametrize("plugin", ["client_ed25519", "sha256_password"])
def test_unsupported_plugin_switches_to_caching_sha2(tls_server, plugin):
    r = cli(tls_server, "alice", "s3cret-Alice", "--default-auth=" + plugin, "--skip-ssl")
    assert r.returncode == 0, r.stderr
    assert tls_server.last_auth()[:3] == ("alice", "caching_sha2_password", "fast")
    assert "auth switch from=%s to=caching_sha2_password" % plugin in tls_server.log_text()
    r = cli(tls_server, "alice", "wrong", "--default-auth=" + plugin, "--skip-ssl")
    assert r.stderr.strip() == "ERROR 1045 (28000): " + DENIED % "alice", r.stderr


def test_anonymous_login_refused(tls_server):
    """An empty user name is never accepted (pymysql substitutes the OS user
    for "", so the name is emptied after construction)."""
    for password in ("", "pw"):
        conn = pymysql.connect(host="127.0.0.1", port=tls_server.port, user="x", password=password,
                               defer_connect=True)
        conn.user = ""
        with pytest.raises(pymysql.err.OperationalError) as e:
            conn.connect()
        assert e.value.args == (1045, "Access denied for user ''@'127.0.0.1' (using password: %s)"
                                % ("YES" if password else "NO"))


def test_dump_over_tls_is_byte_identical(tls_server, tmp_path):
    """mariadb-binlog --raw over TLS: the dump's writes go through the same
    TLS path and arrive byte-identical to the stored file."""
    out = tmp_path / "raw"
    out.mkdir()
    r = subprocess.run(["mariadb-binlog", "--no-defaults", "--read-from-remote-server", "--raw",
                        "-h127.0.0.1", "-P%d" % tls_server.port, "-urepl", "-ppw", "--ssl",
                        "--ssl-verify-server-cert=0", "tirelay-bin.000001"],
                       cwd=str(out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                       universal_newlines=True)
    assert r.returncode == 0, r.stderr
    stored = os.path.join(tls_server.base, "store", "binlog", "mysql", "tirelay-bin.000001")
    with open(stored, "rb") as a, open(str(out / "tirelay-bin.000001"), "rb") as b:
        want = a.read()
        assert len(want) > 60000  # many TLS records
        assert b.read() == want
    assert tls_server.last_auth()[0] == "repl" and tls_server.last_auth()[3].startswith("TLSv1.")


def s_client(server, *args):
    return subprocess.run(["openssl", "s_client", "-starttls", "mysql", "-brief",
                           "-connect", "127.0.0.1:%d" % server.port] + list(args),
                          input="", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30,
                          universal_newlines=True)


def test_tls_versions_and_ciphers(tls_server):
    """openssl s_client -starttls mysql (the SSLRequest, then OpenSSL): TLS 1.3
    by default, 1.2 with an ECDHE AEAD suite; TLS 1.1 and non-AEAD suites are
    refused with a TLS alert, logged with OpenSSL's reason."""
    r = s_client(tls_server)
    assert "Protocol version: TLSv1.3" in r.stdout, r.stdout
    r = s_client(tls_server, "-tls1_2")
    assert "Protocol version: TLSv1.2" in r.stdout, r.stdout
    assert re.search(r"Ciphersuite: ECDHE-RSA-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)", r.stdout), r.stdout
    r = s_client(tls_server, "-tls1_1")
    assert "alert protocol version" in r.stdout, r.stdout
    r = s_client(tls_server, "-tls1_2", "-cipher", "AES128-SHA")
    assert "alert handshake failure" in r.stdout, r.stdout
    log = tls_server.log_text()
    assert "tls_err=unsupported protocol" in log
    assert "tls_err=no shared cipher" in log


def test_garbage_after_ssl_request(tls_server):
    """An SSLRequest followed by bytes that are not TLS closes that session;
    the server keeps serving."""
    import socket
    import struct
    with socket.create_connection(("127.0.0.1", tls_server.port), 10) as sock:
        sock.recv(4096)  # greeting
        caps = 0x00000200 | 0x00000800 | 0x00008000 | 0x00080000  # PROTOCOL_41 SSL SECURE PLUGIN_AUTH
        body = struct.pack("<IIB23x", caps, 1 << 24, 45)
        sock.sendall(struct.pack("<I", len(body))[:3] + b"\x01" + body + b"GET / HTTP/1.0\r\n\r\n")
        sock.settimeout(10)
        data = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        # OpenSSL answers an HTTP request with no alert: just the close
        assert data == b"", data
    assert "TLS handshake failed err=Protocol error tls_err=http request" in tls_server.log_text()
    conn = py_connect(tls_server, "alice", "s3cret-Alice", True)
    assert py_query(conn, "SELECT 1") == ((1,),)
    conn.close()


# ---------------------------------------------------------------- full path

def test_caching_sha2_full_path(make_server):
    """caching-sha2-prefill = off: MySQL's cache semantics. The first login of
    a user takes the full path (TLS: cleartext; plain: RSA key request +
    OAEP), the next one the fast path; wrong passwords and unknown users end
    in the same 1045 after the full path."""
    s = make_server("caching-sha2-prefill = off\n")
    # wrong password / unknown user: full path, then 1045 (both transports)
    for use_tls in (True, False):
        for name, password in (("alice", "nope"), ("mallory", "s3cret-Alice")):
            with pytest.raises(pymysql.err.OperationalError) as e:
                py_connect(s, name, password, use_tls)
            assert e.value.args == (1045, DENIED % name)
    assert s.auth_lines() == []
    # over TLS: the password in clear inside TLS
    conn = py_connect(s, "alice", "s3cret-Alice", True)
    assert py_query(conn, "SELECT 1") == ((1,),)
    conn.close()
    assert s.last_auth()[:3] == ("alice", "caching_sha2_password", "full-tls")
    # cached now: fast path, even without TLS
    conn = py_connect(s, "alice", "s3cret-Alice", False)
    conn.close()
    assert s.last_auth()[:3] == ("alice", "caching_sha2_password", "fast")
    # repl without TLS: pymysql asks for the public key and sends RSA-OAEP
    conn = py_connect(s, "repl", "pw", False)
    assert py_query(conn, "SELECT @@server_id") == ((42,),)
    conn.close()
    assert s.last_auth()[:4] == ("repl", "caching_sha2_password", "full-rsa", "off")


def test_rsa_key_pair_kept_across_restarts(tmp_path):
    """Without an RSA tls-key the caching_sha2_password key pair is made once and kept in
    the store directory (private_key.pem 0600, public_key.pem), as mysqld keeps its own in
    the datadir: a client that pins public_key.pem (pymysql's server_public_key, the
    --server-public-key-path of MySQL clients) logs in on the RSA full path before and after
    a restart; a key that is not the server's is refused."""
    base = str(tmp_path / "srv")
    pub_path = os.path.join(base, "store", "public_key.pem")
    priv_path = os.path.join(base, "store", "private_key.pem")

    def pinned_login(s, pem):
        conn = pymysql.connect(host="127.0.0.1", port=s.port, user="repl", password="pw",
                               server_public_key=pem, autocommit=True, connect_timeout=10)
        try:
            assert py_query(conn, "SELECT @@server_id") == ((42,),)
        finally:
            conn.close()
        assert s.last_auth()[:4] == ("repl", "caching_sha2_password", "full-rsa", "off")

    s = Server(base, "caching-sha2-prefill = off\n")
    try:
        with open(pub_path, "rb") as f:
            pem = f.read()
        assert pem.startswith(b"-----BEGIN PUBLIC KEY-----"), pem[:40]
        assert os.stat(priv_path).st_mode & 0o777 == 0o600
        pinned_login(s, pem)
    finally:
        s.stop()
    s = Server(base, "caching-sha2-prefill = off\n")
    try:
        with open(pub_path, "rb") as f:
            assert f.read() == pem
        pinned_login(s, pem)  # the cache is empty after a restart: the full path again
        other = str(tmp_path / "other.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", str(tmp_path / "other.key")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["openssl", "pkey", "-in", str(tmp_path / "other.key"), "-pubout",
                        "-out", other], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        with open(other, "rb") as f:
            wrong = f.read()
        # alice's first login (repl's is cached now: it would take the fast path)
        with pytest.raises(pymysql.err.OperationalError) as e:
            pymysql.connect(host="127.0.0.1", port=s.port, user="alice", password="s3cret-Alice",
                            server_public_key=wrong, connect_timeout=10)
        assert e.value.args == (1045, DENIED % "alice")
    finally:
        s.stop()


def test_caching_sha2_full_path_mariadb_cli(make_server):
    s = make_server("caching-sha2-prefill = off\n")
    r = cli(s, "alice", "nope", "--default-auth=caching_sha2_password", "--skip-ssl")
    assert r.stderr.strip() == "ERROR 1045 (28000): " + DENIED % "alice", r.stderr
    r = cli(s, "alice", "s3cret-Alice", "--default-auth=caching_sha2_password", "--skip-ssl")
    assert r.returncode == 0, r.stderr
    assert s.last_auth()[:3] == ("alice", "caching_sha2_password", "full-rsa")
    r = cli(s, "repl", "pw", "--default-auth=caching_sha2_password", *CLI_TLS[True])
    assert r.returncode == 0, r.stderr
    assert s.last_auth()[:3] == ("repl", "caching_sha2_password", "full-tls")
    r = cli(s, "repl", "pw", "--default-auth=caching_sha2_password", "--skip-ssl")
    assert r.returncode == 0, r.stderr
    assert s.last_auth()[:3] == ("repl", "caching_sha2_password", "fast")


# ---------------------------------------------------------------- require-tls

def test_require_tls(make_server):
    s = make_server("require-tls = on\n")
    with pytest.raises(pymysql.err.OperationalError) as e:
        py_connect(s, "alice", "s3cret-Alice", False)
    assert e.value.args == (3159, INSECURE)
    r = cli(s, "alice", "s3cret-Alice", "--skip-ssl")
    assert r.stderr.strip() == "ERROR 3159 (HY000): " + INSECURE, r.stderr
    # the same for unknown users and wrong passwords: nothing else is revealed
    r = cli(s, "mallory", "x", "--skip-ssl")
    assert r.stderr.strip() == "ERROR 3159 (HY000): " + INSECURE, r.stderr
    conn = py_connect(s, "alice", "s3cret-Alice", True)
    assert py_query(conn, "SELECT 1") == ((1,),)
    conn.close()
    r = cli(s, "alice", "s3cret-Alice", *CLI_TLS[True])
    assert r.returncode == 0, r.stderr
    assert all(a[3] != "off" for a in s.auth_lines()), s.auth_lines()


def test_no_tls_configured(tmp_path):
    """Without tls-cert no CLIENT_SSL is advertised: pymysql and the 10.11
    mariadb CLI (even with --ssl) stay in plain text; no SSLRequest comes."""
    s = Server(str(tmp_path / "notls"), "")
    try:
        conn = py_connect(s, "alice", "s3cret-Alice", True)
        assert not isinstance(conn._sock, ssl.SSLSocket)
        conn.close()
        assert s.last_auth() == ("alice", "caching_sha2_password", "fast", "off")
        r = cli(s, "alice", "s3cret-Alice", "--ssl")
        assert r.returncode == 0, r.stderr
        assert s.last_auth() == ("alice", "caching_sha2_password", "fast", "off")
        assert "tls=on" not in s.log_text() and "TLSv1" not in s.log_text()
    finally:
        s.stop()


# ---------------------------------------------------------------- replication over TLS

def _slave_status(replica):
    conn = replica.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW SLAVE STATUS")
            return dict(zip([d[0] for d in cur.description], cur.fetchone()))
    finally:
        conn.close()


def test_replica_over_tls(make_server, replica):
    s = make_server("require-tls = on\n", n=200, every_ms=50)
    replica.execute("CREATE DATABASE d",
                    "CREATE TABLE d.t(id INT PRIMARY KEY, v VARCHAR(10)) DEFAULT CHARSET utf8mb4")
    replica.replicate_from(s.port,
                           options=", MASTER_SSL=1, MASTER_SSL_VERIFY_SERVER_CERT=0").close()

    def count():
        return replica.execute("SELECT COUNT(*) FROM d.t")[0][0]

    wait_until(lambda: count() >= 200, 60, what="replica applied the initial rows over TLS")
    first = count()
    wait_until(lambda: count() >= first + 20, 60, what="replica follows new rows over TLS")
    st = _slave_status(replica)
    assert st["Slave_IO_Running"] == "Yes" and st["Slave_SQL_Running"] == "Yes", st
    assert st["Master_SSL_Allowed"] == "Yes", st
    # the replica's session: switched to native (its client's plugin), inside TLS
    repl = [a for a in s.auth_lines() if a[0] == "repl"]
    assert repl and repl[-1][1] == "mysql_native_password" and repl[-1][3].startswith("TLSv1."), repl
    assert "binlog dump requested" in s.log_text()


# ---------------------------------------------------------------- the MariaDB listener

def test_mariadb_listener_auth(certs, truth, tidbsim, tirelay):
    """tirelay itself with mariadb-listen: that listener greets with
    mysql_native_password (as MariaDB), the MySQL one with
    caching_sha2_password; a caching_sha2 client on the MariaDB listener is
    switched to caching_sha2 (every user has both verifiers)."""
    sim = tidbsim(truth, rows=5)
    relay = tirelay(sim, truth, mariadb_listen=True,
                    extra_conf="[server]\ntls-cert = %s\ntls-key = %s\n[users]\n%s" % (certs + (USERS,)))

    def auth_lines():
        return re.findall(r"client authenticated user=(\S+) plugin=(\S+) path=(\S+) tls=(\S+)",
                          relay.log_text())

    class Port:
        def __init__(self, port):
            self.port = port

    maria, mysql = Port(relay.mariadb_port), Port(relay.port)
    for srv, plugin in ((maria, "mysql_native_password"), (mysql, "caching_sha2_password")):
        for use_tls in (True, False):
            conn = py_connect(srv, "alice", "s3cret-Alice", use_tls)
            assert conn._auth_plugin_name == plugin
            assert py_query(conn, "SELECT 1") == ((1,),)
            conn.close()
            got = auth_lines()[-1]
            assert got[:2] == ("alice", plugin), got
            assert (got[3] != "off") == use_tls, got
            with pytest.raises(pymysql.err.OperationalError) as e:
                py_connect(srv, "alice", "wrong", use_tls)
            assert e.value.args == (1045, DENIED % "alice")
    for use_tls in (True, False):
        r = cli(maria, "alice", "s3cret-Alice", "--default-auth=caching_sha2_password",
                *CLI_TLS[use_tls])
        assert r.returncode == 0, r.stderr
        assert auth_lines()[-1][:3] == ("alice", "caching_sha2_password", "fast")
        r = cli(maria, "alice", "s3cret-Alice", "--default-auth=mysql_native_password",
                *CLI_TLS[use_tls])
        assert r.returncode == 0, r.stderr
        assert auth_lines()[-1][:3] == ("alice", "mysql_native_password", "scramble")
        r = cli(maria, "mallory", "s3cret-Alice", "--default-auth=caching_sha2_password",
                *CLI_TLS[use_tls])
        assert r.stderr.strip() == "ERROR 1045 (28000): " + DENIED % "mallory", r.stderr
