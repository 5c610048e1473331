"""pytest fixtures for tirelay's integration tests: throw-away MariaDB
instances (truth and replica), the TiDB simulator and tirelay itself.
Process handling lives in tests/sim/cluster.py (shared with scripts/demo.sh).
Run with /usr/bin/python3 -m pytest tests/integration.
All servers bind 127.0.0.1; ports come from a file-locked allocator.
"""

import fcntl
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402

wait_until = cluster.wait_until
table_rows = cluster.table_rows
checksum_table = cluster.checksum_table
slave_status = cluster.slave_status
wait_replica_equal = cluster.wait_replica_equal

TIDB_USER = "tidb"
TIDB_PASSWORD = "tidbpw"

NODE_DIR = os.path.join(HERE, "node")


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _failed(request):
    rep = getattr(request.node, "rep_call", None)
    return rep is not None and rep.failed


def _child_failures():
    fails = cluster.take_child_failures()
    if fails:
        pytest.fail("a child process stopped badly (sanitizer/valgrind report, crash or unclean "
                    "stop):\n" + "\n\n".join(fails), pytrace=False)


@pytest.fixture(autouse=True)
def _children_clean_test():
    """Fails the test when tirelay (or tr_serve_fixture) reported a sanitizer or valgrind
    error, crashed, or did not stop cleanly (cluster.check_child). Autouse fixtures are set
    up first, so this teardown runs after every fixture of the test has stopped its
    processes."""
    yield
    _child_failures()


@pytest.fixture(scope="module", autouse=True)
def _children_clean_module():
    """The same for processes of module-scoped fixtures (reported on the module's last test)."""
    yield
    _child_failures()


@pytest.fixture(scope="module")
def node_modules():
    """The Node.js CDC clients of tests/integration/node (npm install, pinned by its lock
    file). Under a file lock: two modules' workers must not run npm in one directory."""
    with open(os.path.join(NODE_DIR, ".install.lock"), "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        r = subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    assert r.returncode == 0, r.stdout.decode(errors="replace")
    assert os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@vlasky", "zongji"))


@pytest.fixture
def free_port():
    return cluster.free_port


@pytest.fixture
def mariadb_instance(tmp_path, request):
    """Factory: mariadb_instance(name, server_id=1, log_bin=False) -> started cluster.MariaDB."""
    started = []

    def make(name="truth", server_id=1, log_bin=False, extra=()):
        m = cluster.MariaDB(str(tmp_path / name), server_id=server_id, log_bin=log_bin, extra=extra)
        started.append(m)
        return m.start()

    yield make
    for m in reversed(started):
        if _failed(request):
            print("\n---- %s error log (tail) ----\n%s" % (m.base, m.error_log_tail()))
        m.stop()


@pytest.fixture
def truth(mariadb_instance):
    """The truth MariaDB (plays TiDB's SQL endpoint), reachable over TCP as tidb/tidbpw."""
    m = mariadb_instance("truth", server_id=1)
    m.create_user(TIDB_USER, TIDB_PASSWORD)
    return m


@pytest.fixture
def replica(mariadb_instance):
    return mariadb_instance("replica", server_id=2)


@pytest.fixture
def tidbsim(tmp_path, request):
    """Factory: tidbsim(truth, seed=..., rows=..., ...) -> started cluster.TidbSim."""
    started = []

    def make(truth, **kw):
        s = cluster.TidbSim(str(tmp_path / ("sim%d" % len(started))), truth, **kw)
        started.append(s)
        return s.start()

    yield make
    for s in started:
        s.stop()
        if _failed(request):
            print("\n---- tidbsim log (tail) ----\n%s" % s.log_text()[-4000:])


@pytest.fixture
def kafka_mock(tmp_path, request):
    """Factory: kafka_mock({topic: partitions}, brokers=1) -> started cluster.KafkaMock
    (tests/tools/tr_kafka_mock on 127.0.0.1, from cluster.build_dir() or
    $TR_KAFKA_MOCK_BIN; .bootstrap is the bootstrap-servers string). Stopped at teardown."""
    started = []

    def make(topics, brokers=1):
        k = cluster.KafkaMock(str(tmp_path / ("kafka%d" % len(started))), topics, brokers)
        started.append(k)
        return k.start()

    yield make
    for k in started:
        k.stop()
        if _failed(request):
            print("\n---- tr_kafka_mock log (tail) ----\n%s" % k.log_text()[-2000:])


@pytest.fixture
def kafka_topic(kafka_mock):
    """A started mock Kafka cluster (cluster.KafkaMock) with topic "cdc" of 4 partitions."""
    return kafka_mock({"cdc": 4})


@pytest.fixture
def ticdc_sim(tmp_path, request):
    """Factory: the simulator in TiCDC mode (tests/sim/README.md), started, with a control
    directory (.control(cmd), .ticdc_status()):

      ticdc_sim(truth, kafka=<KafkaMock>, topic="cdc", dispatch="table", ...)  # Kafka
      ticdc_sim(truth, storage=<dir>, layout="classic", flush_interval=0.5, ...)  # storage

    watermark_interval, history_lag, shared_ts_every and date_separator set the flags of
    the same names; every other keyword goes to cluster.TidbSim (seed, rows, txns, rate,
    exit_when_done, extra)."""
    started = []

    def make(truth, kafka=None, topic="cdc", dispatch="table", storage=None, layout="classic",
             flush_interval=0.5, date_separator="day", watermark_interval=0.2,
             history_lag=0.05, shared_ts_every=0, extra=(), **kw):
        base = tmp_path / ("ticdc%d" % len(started))
        flags = ["--ticdc-history-lag", str(history_lag),
                 "--ticdc-shared-ts-every", str(shared_ts_every)]
        if kafka is not None:
            flags += cluster.ticdc_kafka_args(kafka.bootstrap, topic, watermark_interval,
                                              dispatch)
        elif storage is not None:
            flags += cluster.ticdc_storage_args(str(storage), layout, flush_interval,
                                                watermark_interval, date_separator)
        else:
            raise ValueError("ticdc_sim wants kafka= or storage=")
        s = cluster.TidbSim(str(base), truth, pumps=0, control_dir=str(base / "control"),
                            extra=flags + list(extra), **kw)
        started.append(s)
        return s.start()

    yield make
    for s in started:
        s.stop()
        if _failed(request):
            print("\n---- tidbsim (TiCDC) log (tail) ----\n%s" % s.log_text()[-4000:])


@pytest.fixture
def etcd(tmp_path, request):
    """A started single-member etcd (cluster.Etcd) on 127.0.0.1 free ports, temp data dir."""
    e = cluster.Etcd(str(tmp_path / "etcd")).start()
    yield e
    e.stop()
    if _failed(request):
        with open(e.log, errors="replace") as f:
            print("\n---- etcd log (tail) ----\n%s" % f.read()[-3000:])


@pytest.fixture
def tirelay(tmp_path, request):
    """Factory: tirelay(sim, truth, **kw) -> started cluster.Tirelay pulling from sim's pumps."""
    started = []

    def make(sim, truth, **kw):
        kw.setdefault("tidb_user", TIDB_USER)
        kw.setdefault("tidb_password", TIDB_PASSWORD)
        t = cluster.Tirelay(str(tmp_path / ("tirelay%d" % len(started))), sim.pumps,
                            sim.cluster_id, truth.port, **kw)
        started.append(t)
        return t.start()

    yield make
    for t in started:
        t.stop()
        if _failed(request):
            print("\n---- tirelay log (tail) ----\n%s" % t.log_text()[-8000:])
