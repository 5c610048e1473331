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


def replicas_on_both(relay, replica, mariadb_instance):
    """replica on relay's MySQL-flavour listener by file/position from the first file, and a
    second MariaDB ("replica2") on its MariaDB listener by GTID from the start; returns both
    connections (file/position first)."""
    r_my = replica.replicate_from(relay.port)
    replica2 = mariadb_instance("replica2", server_id=3)
    return r_my, replica2.replicate_from(relay.mariadb_port, gtid="slave_pos", gtid_slave_pos="")


NODE_DIR = os.path.join(HERE, "node")

# ---------------------------------------------------------------- running in parallel
# scripts/test.sh runs this suite with pytest-xdist: `-n N --dist loadgroup`. Every test
# already has its own directories (tmp_path), ports (cluster.free_port's book) and
# processes; what tests share is a fixture of module or session scope (one TLS server
# for a module's tests, one .deb): such tests must run on one worker, so they get one
# xdist_group, named after their module. Tests without one are scheduled one by one.
# Fixtures listed here only check that a path exists: running them once per worker
# costs nothing, so they do not tie tests together.
PER_WORKER_OK = {"_children_clean_module", "tirelay_built", "fixture_bin"}

# Under xdist, work goes out in collection order, so the longest tests start first and
# the short ones fill the gaps at the end (longest processing time first). Serial
# seconds of the slowest tests and modules (2 CPUs, Asan build, docs/decisions.md
# "CI time"); a stale entry costs time, never correctness.
SLOW_FIRST = [
    "test_differential.py::test_differential[seed20240501-",   # 70 s
    "test_differential.py::test_differential[seed7-",          # 62 s
    "test_real_clients.py",                                    # 60 s, two tests + npm
    "test_discovery.py",                                       # 52-60 s
    "test_package.py",                                         # 27-50 s (builds the .deb)
    "test_crash.py",                                           # 40-47 s
    "test_differential.py::test_differential_ticdc_kafka",     # 35 s (-n 6)
    "test_large_txn.py",                                       # 16 s, 32 s (-n 6)
    "test_ticdc.py",                                           # 24-28 s a test (-n 6)
    "test_bad_input.py::test_disk_full_pauses_and_resumes",    # 19-27 s
    "test_positions.py::test_status_unreachable_pump",         # 18 s
    "test_bad_input.py::test_pump_malformed_payload",          # 17-24 s
    "test_two_relays.py",                                      # 17-21 s
    "test_many_replicas.py",                                   # 16-24 s
    "test_retention.py::test_expire_keeps_files_in_use",       # 15 s
    "test_demo.py",                                            # 15-17 s
    "test_differential.py::test_differential[known-bug",       # 15 s
    "test_admin.py",                                           # 14-22 s
    "test_runbook.py",                                         # 13-17 s
    "test_auth.py",                                            # 17-21 s, one TLS server
    "test_cdc_clients.py",                                     # 17-24 s
    "test_metrics.py",                                         # 11-17 s
    "test_server.py",                                          # 17-23 s
    "test_security.py",                                        # 5-12 s, one relay
]


def _shares_fixture(item):
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    for name, defs in info.name2fixturedefs.items():
        if name in PER_WORKER_OK:
            continue
        # baseid "": a plugin's fixture (tmp_path_factory and the like), per process anyway
        if any(d.scope != "function" and d.baseid for d in defs):
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    """Under pytest-xdist (a worker has config.workerinput): groups the tests that share a
    fixture and puts the slowest first. Serial runs keep the file order."""
    if not hasattr(config, "workerinput"):
        return
    for item in items:
        if _shares_fixture(item):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))

    def rank(item):
        rel = item.nodeid.split("tests/integration/", 1)[-1]
        for i, prefix in enumerate(SLOW_FIRST):
            if rel.startswith(prefix):
                return i
        return len(SLOW_FIRST)

    items.sort(key=rank)   # stable: the rest keep their order


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
def ticdc_relay(tmp_path, request):
    """Factory: tirelay on a TiCDC input, as ticdc_sim writes one:
      ticdc_relay(truth, kafka=<KafkaMock>, topic="cdc", **kw)    # [upstream] ticdc-kafka
      ticdc_relay(truth, storage=<dir>, **kw)                     # [upstream] ticdc-storage
    -> started cluster.Tirelay (start=False: made, not started); other keywords go to it."""
    started = []

    def make(truth, kafka=None, topic="cdc", storage=None, start=True, **kw):
        if kafka is not None:
            upstream = "ticdc-kafka = %s\nticdc-topic = %s\n" % (kafka.bootstrap, topic)
        elif storage is not None:
            upstream = "ticdc-storage = %s\n" % storage
        else:
            raise ValueError("ticdc_relay wants kafka= or storage=")
        kw.setdefault("tidb_user", TIDB_USER)
        kw.setdefault("tidb_password", TIDB_PASSWORD)
        t = cluster.Tirelay(str(tmp_path / ("relay%d" % len(started))), [], 0, truth.port,
                            upstream_conf=upstream, **kw)
        started.append(t)
        return t.start() if start else t

    yield make
    for t in started:
        t.stop()
        if _failed(request):
            print("\n---- %s log (tail) ----\n%s" % (t.base, t.log_text()[-8000:]))


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
    """Factory: tirelay(sim, truth, **kw) -> started cluster.Tirelay pulling from sim's pumps.
    stopped=True: started stopped, for a test to run in steps (cluster.Tirelay.step)."""
    started = []

    def make(sim, truth, stopped=False, **kw):
        kw.setdefault("tidb_user", TIDB_USER)
        kw.setdefault("tidb_password", TIDB_PASSWORD)
        t = cluster.Tirelay(str(tmp_path / ("tirelay%d" % len(started))), sim.pumps,
                            sim.cluster_id, truth.port, **kw)
        started.append(t)
        return t.start(stopped=stopped)

    yield make
    for t in started:
        t.stop()
        if _failed(request):
            print("\n---- tirelay log (tail) ----\n%s" % t.log_text()[-8000:])
