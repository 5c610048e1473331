"""Process helpers shared by the pytest fixtures (tests/integration) and
scripts/demo.sh: a file-locked free-port allocator, throw-away MariaDB
instances, the simulator process and the tirelay process with its config.

Everything binds 127.0.0.1 only.  Nothing here knows tirelay's internals; it
only uses the outside interface of shared/DESIGN.md (binary, config keys,
store layout).
"""

import fcntl
import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

import pymysql

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"

PORT_LOCK = "/tmp/tirelay-test-ports.lock"
PORT_BOOK = "/tmp/tirelay-test-ports.json"
PORT_HOLD_SECONDS = 300
PORT_RANGE_START = 10000
_PORT_RNG = random.SystemRandom()   # not the global generator: tests seed that one

# TIRELAY_WRAPPER runs tirelay (and tests/tools/tr_serve_fixture) under a tool, e.g.
# "valgrind --error-exitcode=99 --leak-check=full" (scripts/valgrind.sh);
# TIRELAY_TIMEOUT_SCALE multiplies every wait_until timeout for such slow runs.
WRAPPER = shlex.split(os.environ.get("TIRELAY_WRAPPER", ""))
TIMEOUT_SCALE = float(os.environ.get("TIRELAY_TIMEOUT_SCALE", "1") or "1")
STOP_TIMEOUT = 20.0 * max(TIMEOUT_SCALE, 6.0 if WRAPPER else 1.0)

# A sanitizer or valgrind report in a child's output (ASan, LSan, UBSan, TSan, memcheck).
REPORT_RE = re.compile(r"ERROR: (?:Address|Leak|Thread|Memory)Sanitizer|"
                       r"WARNING: ThreadSanitizer|runtime error: |"
                       r"==\d+== ERROR SUMMARY: [1-9]|==\d+== .*definitely lost: [1-9]")
# Exit statuses that always mean a crash or a tool's report, however the process ended:
# abort (ASan with abort_on_error, TR_ASSERT), SEGV, BUS, ILL, FPE; valgrind's 99.
CRASH_CODES = (-6, -11, -7, -4, -8, 99, 134, 139)
CHILD_FAILURES = []


def wrap(cmd):
    """cmd prefixed with $TIRELAY_WRAPPER (empty: unchanged)."""
    return WRAPPER + list(cmd)


def check_child(name, proc, log_path, stopped_by_us):
    """After a child stopped: records (in CHILD_FAILURES, which the pytest fixtures turn
    into a failure) a sanitizer/valgrind report in its log, a crash status, or, when we
    stopped it with SIGTERM, any status but 0 (a clean stop). Returns the problem or None."""
    problem = None
    text = ""
    try:
        with open(log_path, errors="replace") as f:
            text = f.read()
    except OSError:
        pass
    m = REPORT_RE.search(text)
    rc = proc.returncode if proc is not None else None
    if m:
        problem = "%s: report in its output:\n%s" % (name, text[max(0, m.start() - 200):m.start() + 6000])
    elif rc in CRASH_CODES:
        problem = "%s: crashed with status %s:\n%s" % (name, rc, text[-6000:])
    elif stopped_by_us and rc != 0:
        problem = "%s: exit status %s after SIGTERM (expected a clean stop, 0):\n%s" % (
            name, rc, text[-6000:])
    if problem:
        CHILD_FAILURES.append(problem)
    return problem


def take_child_failures():
    out = list(CHILD_FAILURES)
    del CHILD_FAILURES[:]
    return out


def _listen_range():
    """Ports to hand out: below the kernel's ephemeral range, which outgoing connections
    draw their local ports from. A port taken from that range (bind to port 0) can be
    given to a client socket between free_port() and the server's bind; with tests
    running in parallel and thousands of connections a minute, that happens."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 0
    if low - PORT_RANGE_START >= 2000:
        return (PORT_RANGE_START, low)
    return None


def _candidate_port(span):
    if span is None:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port
    port = _PORT_RNG.randrange(*span)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        return None
    finally:
        s.close()
    return port


def free_port():
    """A free TCP port on 127.0.0.1, outside the ephemeral range when the kernel's range
    leaves room, that no other caller got in the last few minutes (book-kept in a JSON
    file under an flock, shared by every test process on the machine)."""
    span = _listen_range()
    with open(PORT_LOCK, "a+") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        try:
            with open(PORT_BOOK) as f:
                book = json.load(f)
        except (OSError, ValueError):
            book = {}
        now = time.time()
        book = {p: t for p, t in book.items() if now - t < PORT_HOLD_SECONDS}
        for _ in range(200):
            port = _candidate_port(span)
            if port is not None and str(port) not in book:
                book[str(port)] = now
                with open(PORT_BOOK + ".tmp", "w") as f:
                    json.dump(book, f)
                os.replace(PORT_BOOK + ".tmp", PORT_BOOK)
                return port
        raise RuntimeError("no free port")


class ProcessDied(RuntimeError):
    """A child process we wait on has exited: wait_until stops at once."""


def wait_until(cond, timeout=30.0, interval=0.05, what="condition"):
    """Polls cond() until it returns a truthy value, which is returned."""
    timeout *= TIMEOUT_SCALE
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = cond()
            if v:
                return v
        except ProcessDied:
            raise
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last_exc = e
        if time.monotonic() > deadline:
            raise TimeoutError("timed out after %.1fs waiting for %s%s" % (
                timeout, what, " (last error: %r)" % (last_exc,) if last_exc else ""))
        time.sleep(interval)
        interval = min(interval * 1.5, 0.5)


def stop_process(proc, timeout=20.0):
    """SIGTERM, then SIGKILL after timeout. True when the process was still running."""
    if proc is None or proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGTERM)
    proc.send_signal(signal.SIGCONT)   # a process a test left stopped acts on it too
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return True


class MariaDB:
    """A private mariadbd: datadir, socket and logs under `base`."""

    def __init__(self, base, server_id=1, port=None, log_bin=False, extra=()):
        self.base = os.path.abspath(base)
        self.datadir = os.path.join(self.base, "data")
        self.socket = os.path.join(self.base, "mysqld.sock")
        self.errlog = os.path.join(self.base, "error.log")
        self.port = port or free_port()
        self.server_id = server_id
        self.log_bin = log_bin
        self.extra = list(extra)
        self.proc = None

    def install(self):
        os.makedirs(self.base, exist_ok=True)
        # own tmpdir: a bootstrap server deletes the #sql temp tables of every other
        # install running at the same moment in a shared /tmp ("Unknown table tmp_user_sys")
        cmd = ["mariadb-install-db", "--no-defaults", "--datadir=" + self.datadir,
               "--tmpdir=" + self.base,
               "--auth-root-authentication-method=normal", "--skip-test-db"]
        if os.getuid() == 0:
            cmd.append("--user=root")
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise RuntimeError("mariadb-install-db failed:\n" + r.stdout)

    def start(self, timeout=60.0):
        if not os.path.isdir(os.path.join(self.datadir, "mysql")):
            self.install()
        cmd = ["mariadbd", "--no-defaults", "--datadir=" + self.datadir,
               "--socket=" + self.socket, "--port=%d" % self.port,
               "--bind-address=127.0.0.1", "--server-id=%d" % self.server_id,
               "--log-error=" + self.errlog, "--pid-file=" + os.path.join(self.base, "mysqld.pid"),
               "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=48M",
               "--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0",
               "--skip-name-resolve", "--max-allowed-packet=256M",
               "--character-set-server=utf8mb4", "--collation-server=utf8mb4_bin"]
        if self.log_bin:
            cmd.append("--log-bin=" + os.path.join(self.base, "mbin"))
        else:
            cmd.append("--skip-log-bin")
        cmd += ["--relay-log=" + os.path.join(self.base, "relay"),
                "--tmpdir=" + self.base]
        if os.getuid() == 0:
            cmd.append("--user=root")
        cmd += self.extra
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        try:
            wait_until(self._ping, timeout, what="mariadbd on %s" % self.socket)
        except TimeoutError:
            raise RuntimeError("mariadbd did not start:\n" + self.error_log_tail())
        return self

    def _ping(self):
        if self.proc.poll() is not None:
            raise ProcessDied("mariadbd exited with %d:\n%s" % (self.proc.returncode,
                                                                self.error_log_tail()))
        try:
            self.connect().close()
            return True
        except pymysql.err.OperationalError:
            return False

    def error_log_tail(self, n=40):
        try:
            with open(self.errlog, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no error log)"

    def connect(self, db=None, autocommit=True):
        return pymysql.connect(unix_socket=self.socket, user="root", password="",
                               database=db, charset="utf8mb4", autocommit=autocommit)

    def execute(self, *queries):
        c = self.connect()
        try:
            with c.cursor() as cur:
                for q in queries:
                    cur.execute(q)
                    if cur.description:
                        return cur.fetchall()
        finally:
            c.close()

    def replicate_from(self, port, log_file="tirelay-bin.000001", log_pos=4, gtid=None,
                       gtid_slave_pos=None, user="repl", password="pw", options=""):
        """CHANGE MASTER TO 127.0.0.1:port, then START SLAVE; returns the connection used.
        File/position (log_file, log_pos) unless gtid names MASTER_USE_GTID's mode
        (slave_pos, current_pos); gtid_slave_pos, when given, is set first. options: more
        CHANGE MASTER options (", MASTER_SSL=1")."""
        c = self.connect()
        if gtid:
            start = "MASTER_USE_GTID=%s" % gtid
        else:
            start = "MASTER_LOG_FILE='%s', MASTER_LOG_POS=%d, MASTER_USE_GTID=no" % (log_file,
                                                                                 log_pos)
        with c.cursor() as cur:
            if gtid_slave_pos is not None:
                cur.execute("SET GLOBAL gtid_slave_pos = '%s'" % gtid_slave_pos)
            cur.execute("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, "
                        "MASTER_USER='%s', MASTER_PASSWORD='%s', %s, MASTER_CONNECT_RETRY=1%s"
                        % (port, user, password, start, options))
            cur.execute("START SLAVE")
        return c

    def create_user(self, user, password):
        self.execute("CREATE USER IF NOT EXISTS '%s'@'127.0.0.1' IDENTIFIED BY '%s'" % (user, password),
                     "GRANT ALL PRIVILEGES ON *.* TO '%s'@'127.0.0.1'" % user)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            subprocess.run(["mariadb-admin", "--no-defaults", "--socket=" + self.socket,
                            "--user=root", "shutdown"], timeout=30,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.proc.wait(30)
        except (subprocess.TimeoutExpired, OSError):
            stop_process(self.proc)


class Etcd:
    """A private single-member etcd (Debian's etcd-server) on 127.0.0.1: PD's
    embedded etcd for discovery tests. Talks to it over the v3 HTTP gateway."""

    def __init__(self, base):
        self.base = os.path.abspath(base)
        os.makedirs(self.base, exist_ok=True)
        self.port = free_port()
        self.peer_port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = os.path.join(self.base, "etcd.log")
        self.proc = None

    def start(self, timeout=30.0):
        peer = "http://127.0.0.1:%d" % self.peer_port
        cmd = ["etcd", "--name", "default", "--data-dir", os.path.join(self.base, "data"),
               "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
               "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
               "--initial-cluster", "default=" + peer]
        self._logf = open(self.log, "w")
        self.proc = subprocess.Popen(cmd, stdout=self._logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_until(self._ready, timeout, what="etcd on %s" % self.url)
        return self

    def _ready(self):
        if self.proc.poll() is not None:
            raise ProcessDied("etcd exited with %d" % self.proc.returncode)
        self.prefix("/")
        return True

    def _post(self, path, body):
        import urllib.request
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=3) as r:
            return json.loads(r.read())

    def prefix(self, prefix):
        """{key: value bytes} of every key under prefix."""
        import base64
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        r = self._post("/v3/kv/range", {"key": base64.b64encode(prefix.encode()).decode(),
                                        "range_end": base64.b64encode(end.encode()).decode()})
        return {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv.get("value", ""))
                for kv in r.get("kvs", [])}

    def stop(self):
        stop_process(self.proc)
        if self.proc is not None:
            self._logf.close()


class TidbSim:
    """The simulator process (tests/sim/tidbsim.py) against a truth MariaDB."""

    def __init__(self, base, truth, seed=1, rows=0, txns=0, rate=0.0, pumps=1,
                 fake_interval=3.0, cluster_id=6789, exit_when_done=False, extra=(),
                 control_dir=None):
        self.base = os.path.abspath(base)
        os.makedirs(self.base, exist_ok=True)
        self.control_dir = control_dir
        if control_dir:
            extra = list(extra) + ["--control-dir", control_dir]
        self.status_file = os.path.join(self.base, "tidbsim.status.json")
        self.log = os.path.join(self.base, "tidbsim.log")
        self.cluster_id = cluster_id
        self.cmd = [PYTHON, os.path.join(HERE, "tidbsim.py"),
                    "--mysql-socket", truth.socket, "--mysql-user", "root",
                    "--cluster-id", str(cluster_id), "--pumps", str(pumps),
                    "--pump-ports", ",".join(str(free_port()) for _ in range(pumps)),
                    "--fake-interval", str(fake_interval), "--seed", str(seed),
                    "--rows", str(rows), "--txns", str(txns), "--rate", str(rate),
                    "--status-file", self.status_file,
                    "--gen-dir", os.path.join(self.base, "gen")] + list(extra)
        if exit_when_done:
            self.cmd.append("--exit-when-done")
        self.proc = None

    def start(self, timeout=30.0):
        self._logf = open(self.log, "w")
        self.proc = subprocess.Popen(self.cmd, stdout=self._logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_until(lambda: self._alive() and os.path.exists(self.status_file), timeout,
                   what="tidbsim status file")
        return self

    def _alive(self):
        if self.proc.poll() is not None:
            raise ProcessDied("tidbsim exited with %d:\n%s" % (self.proc.returncode, self.log_text()))
        return True

    def status(self):
        with open(self.status_file) as f:
            return json.load(f)

    @property
    def pumps(self):
        return self.status()["pumps"]

    def ticdc_status(self):
        """The status file's "ticdc" object (TiCDC mode; tests/sim/README.md)."""
        return self.status()["ticdc"]

    def control(self, cmd, timeout=60.0):
        """One control command (needs control_dir): the answer after "ok" ("" for a bare
        ok); an "error: ..." answer raises RuntimeError."""
        if not self.control_dir:
            raise RuntimeError("TidbSim started without control_dir")
        self._alive()
        ans = sim_control(self.control_dir, cmd, timeout)
        if not ans.startswith("ok"):
            raise RuntimeError("tidbsim %r: %s" % (cmd, ans))
        return ans[2:].strip()

    def wait_done(self, timeout=600.0):
        return wait_until(lambda: self._alive() and self.status()["done"] and self.status(),
                          timeout, what="tidbsim workload")

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        stop_process(self.proc)
        if self.proc is not None:
            self._logf.close()


def build_dir():
    """Where CMake put tirelay and the test tools: $TIRELAY_BUILD, else the directory of
    $TIRELAY_BIN, else <repo>/build (as tests/integration/test_server.py)."""
    if os.environ.get("TIRELAY_BUILD"):
        return os.environ["TIRELAY_BUILD"]
    return os.path.dirname(tirelay_bin())


def kafka_mock_bin():
    """tests/tools/tr_kafka_mock (CMake target tr_kafka_mock): $TR_KAFKA_MOCK_BIN, else in
    build_dir()."""
    return os.environ.get("TR_KAFKA_MOCK_BIN") or os.path.join(build_dir(), "tr_kafka_mock")


class KafkaMock:
    """tests/tools/tr_kafka_mock: librdkafka's mock Kafka cluster on 127.0.0.1, with the
    given topics ({name: partitions}); .bootstrap is its bootstrap-servers string."""

    def __init__(self, base, topics, brokers=1):
        self.base = os.path.abspath(base)
        os.makedirs(self.base, exist_ok=True)
        self.ready = os.path.join(self.base, "kafka.ready")
        self.log = os.path.join(self.base, "kafka.log")
        self.topics = dict(topics)
        self.cmd = [kafka_mock_bin(), "--brokers", str(brokers), "--ready-file", self.ready]
        for name, n in self.topics.items():
            self.cmd += ["--topic", "%s:%d" % (name, n)]
        self.proc = None
        self.bootstrap = None

    def start(self, timeout=30.0):
        if not os.access(self.cmd[0], os.X_OK):
            raise RuntimeError("tr_kafka_mock not built (%s): cmake --build the build dir, or "
                               "set TR_KAFKA_MOCK_BIN / TIRELAY_BUILD" % self.cmd[0])
        if os.path.exists(self.ready):
            os.remove(self.ready)
        self._logf = open(self.log, "w")
        self.proc = subprocess.Popen(self.cmd, stdout=self._logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)

        def ready():
            if self.proc.poll() is not None:
                raise ProcessDied("tr_kafka_mock exited with %d" % self.proc.returncode)
            return os.path.exists(self.ready)

        wait_until(ready, timeout, what="tr_kafka_mock ready file")
        with open(self.ready) as f:
            self.bootstrap = f.read().strip()
        return self

    def stop(self):
        stop_process(self.proc)
        if self.proc is not None:
            self._logf.close()

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


def ticdc_kafka_args(bootstrap, topic, watermark_interval=0.2, dispatch="table", extra=()):
    """Simulator arguments for the TiCDC Kafka output (tests/sim/README.md)."""
    return ["--ticdc-kafka", bootstrap, "--ticdc-topic", topic,
            "--ticdc-watermark-interval", str(watermark_interval),
            "--ticdc-dispatch", dispatch] + list(extra)


def ticdc_storage_args(directory, layout="classic", flush_interval=0.5, watermark_interval=0.2,
                       date_separator="day", extra=()):
    """Simulator arguments for the TiCDC storage-sink output."""
    return ["--ticdc-storage", directory, "--ticdc-storage-layout", layout,
            "--ticdc-flush-interval", str(flush_interval),
            "--ticdc-watermark-interval", str(watermark_interval),
            "--ticdc-date-separator", date_separator] + list(extra)


def sim_control(control_dir, cmd, timeout=60.0):
    """Runs one --control-dir command (words separated by spaces) and returns its answer
    ("ok ..." or "error: ...")."""
    os.makedirs(control_dir, exist_ok=True)
    name = os.path.join(control_dir, "c%d-%d" % (os.getpid(), int(time.monotonic() * 1e6)))
    with open(name + ".tmp", "w") as f:
        f.write(cmd)
    os.replace(name + ".tmp", name + ".cmd")

    def answer():
        # the simulator writes the answer in place: wait for its (never empty) text
        if os.path.exists(name + ".done"):
            with open(name + ".done") as f:
                return f.read()
        return ""

    return wait_until(answer, timeout, what="control %r" % cmd)


def tirelay_bin():
    return os.environ.get("TIRELAY_BIN") or os.path.join(REPO, "build", "tirelay")


class Tirelay:
    """tirelay with a generated config; stderr goes to <base>/tirelay.log."""

    def __init__(self, base, pumps, cluster_id, tidb_port, tidb_user="tidb", tidb_password="tidbpw",
                 port=None, max_binlog_size=256 * 1024, server_id=1, initial_commit_ts=0,
                 mariadb_listen=False, extra_conf="", upstream_conf="", admin_users="repl"):
        self.base = os.path.abspath(base)
        os.makedirs(self.base, exist_ok=True)
        self.port = port or free_port()
        self.mariadb_port = free_port() if mariadb_listen else 0
        self.store = os.path.join(self.base, "store")
        self.conf = os.path.join(self.base, "tirelay.cnf")
        self.log = os.path.join(self.base, "tirelay.log")
        text = """[server]
listen = 127.0.0.1:{port}
{mlisten}server-id = {server_id}
server-uuid = 3e11fa47-71ca-11e1-9e33-c80aa9429562
admin-users = {admin}

[users]
repl = pw

[upstream]
pumps = {pumps}
cluster-id = {cluster_id}
tidb = {tuser}:{tpw}@127.0.0.1:{tport}
initial-commit-ts = {ict}
{upstream}

[store]
dir = {store}
max-binlog-size = {mbs}
{extra}
""".format(port=self.port, mlisten=("mariadb-listen = 127.0.0.1:%d\n" % self.mariadb_port) if mariadb_listen else "",
           server_id=server_id, pumps=",".join(pumps), cluster_id=cluster_id, tuser=tidb_user,
           tpw=tidb_password, tport=tidb_port, ict=initial_commit_ts, store=self.store,
           mbs=max_binlog_size, extra=extra_conf, upstream=upstream_conf, admin=admin_users)
        with open(self.conf, "w") as f:
            f.write(text)
        self.proc = None

    def binlog_dir(self, flavor="mysql"):
        return os.path.join(self.store, "binlog", flavor)

    def start(self, timeout=30.0, stopped=False):
        """Starts tirelay and waits until it listens. stopped: tirelay is left stopped
        (SIGSTOP) before its first instruction instead, for a test to run it in steps
        (step()): nothing it does can then outrun the test's checks."""
        binary = tirelay_bin()
        if not os.access(binary, os.X_OK):
            raise FileNotFoundError("tirelay binary not found at %s (set TIRELAY_BIN)" % binary)
        self._logf = open(self.log, "a")      # a restart appends
        cmd = wrap([binary, "--config", self.conf])
        if stopped:
            # the shell stops itself, then becomes tirelay (exec: the same pid)
            cmd = ["/bin/sh", "-c", 'kill -STOP $$; exec "$@"', "sh"] + cmd
        # own session: a terminal's Ctrl-C reaches only the driver, which stops us in order
        self.proc = subprocess.Popen(cmd, stdout=self._logf,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        if stopped:
            wait_until(lambda: self._alive() and self.is_stopped(), timeout, interval=0.001,
                       what="tirelay stopped before it starts")
            return self
        wait_until(lambda: self._alive() and self._listening(), timeout, what="tirelay listening")
        return self

    def is_stopped(self):
        """True when every thread of tirelay is stopped (SIGSTOP has reached them all)."""
        tasks = "/proc/%d/task" % self.proc.pid
        try:
            for tid in os.listdir(tasks):
                with open(os.path.join(tasks, tid, "stat")) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
                if state not in ("T", "t"):
                    return False
        except (FileNotFoundError, ProcessLookupError):   # a thread ended meanwhile
            return False
        return True

    def step(self, seconds):
        """Lets a stopped tirelay run for about `seconds`, stops it again and returns once
        every thread has stopped: what the test reads next cannot change under it."""
        os.kill(self.proc.pid, signal.SIGCONT)
        time.sleep(seconds)
        os.kill(self.proc.pid, signal.SIGSTOP)
        wait_until(lambda: self._alive() and self.is_stopped(), 30, interval=0.0005,
                   what="tirelay stopped")

    def _alive(self):
        if self.proc.poll() is not None:
            raise ProcessDied("tirelay exited with %d:\n%s" % (self.proc.returncode, self.log_text()))
        return True

    def _listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), 0.5).close()
            return True
        except OSError:
            return False

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        """Stops tirelay (SIGTERM) and checks it stopped cleanly (check_child)."""
        if self.proc is None:
            return
        ours = stop_process(self.proc, STOP_TIMEOUT)
        self._logf.close()
        if getattr(self, "_checked", None) is not self.proc:
            self._checked = self.proc
            check_child("tirelay " + self.base, self.proc, self.log, ours)


def table_rows(conn, db, table, pk="id"):
    """Every row ordered by pk: a column name or a list of them (a composite key, or all
    columns of a table without a primary key)."""
    cols = [pk] if isinstance(pk, str) else list(pk)
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM `%s`.`%s` ORDER BY %s"
                    % (db, table, ",".join("`%s`" % c for c in cols)))
        return cur.fetchall()


def checksum_table(conn, db, table):
    with conn.cursor() as cur:
        cur.execute("CHECKSUM TABLE `%s`.`%s`" % (db, table))
        return cur.fetchone()[1]


def slave_status(conn):
    """SHOW SLAVE STATUS as a dict (None when the server is not a replica)."""
    with conn.cursor() as cur:
        cur.execute("SHOW SLAVE STATUS")
        row = cur.fetchone()
        return None if row is None else dict(zip([d[0] for d in cur.description], row))


def wait_replica_equal(rconn, tconn, st, timeout, what, io_errors_ok=False, rows_only=()):
    """Waits until every table of the simulator status st has the same CHECKSUM TABLE on the
    replica (rconn) as on the truth (tconn), then compares the tables row by row.
    A replica SQL error fails at once; so does an I/O error unless io_errors_ok (the relay is
    being killed or restarted on purpose), in which case the I/O thread must be running again.
    rows_only: tables compared row by row while waiting, without CHECKSUM TABLE (MariaDB's
    checksum starts with the record's NULL bytes, whose bits for VIRTUAL columns InnoDB does
    not fill: they keep whatever the table's record buffer last held, so two servers holding
    equal rows can disagree)."""
    def same(t):
        if t["name"] in rows_only:
            return table_rows(rconn, st["db"], t["name"], t["pk"]) == \
                table_rows(tconn, st["db"], t["name"], t["pk"])
        return checksum_table(rconn, st["db"], t["name"]) == checksum_table(tconn, st["db"], t["name"])

    def equal():
        s = slave_status(rconn)
        assert s["Last_SQL_Errno"] == 0, s["Last_SQL_Error"]
        if io_errors_ok:
            if s["Slave_IO_Running"] != "Yes":
                return False
        else:
            assert s["Last_IO_Errno"] == 0, s["Last_IO_Error"]
        for t in st["tables"]:
            try:
                if not same(t):
                    return False
            except Exception:
                return False
        return True

    wait_until(equal, timeout, what=what)
    for t in st["tables"]:
        assert table_rows(tconn, st["db"], t["name"], t["pk"]) == \
            table_rows(rconn, st["db"], t["name"], t["pk"]), "table %s differs" % t["name"]


def rmtree(path):
    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    sys.exit("cluster.py is a library")
