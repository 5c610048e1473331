"""Issue 6 point 6: the log.

tirelay runs at the most verbose level (trace) through an auth + replication scenario:
a MariaDB replica by file/position on the MySQL listener, one by GTID on the MariaDB
listener, mariadb-binlog, a login with a wrong password, an admin PURGE, rotations and
a kill -9 + restart. Then:
  * every line has the format "<UTC ms timestamp> <LEVEL> <component> <message k=v...>";
  * INFO lines show the Pump connects with their commit_ts, each replica's connect with its
    start position (file/pos, or the GTID state) and its disconnect with where it stopped,
    rotations, purges, and the recovery decisions at restart;
  * no password (the replication account's, the wrong one tried, the TiDB account's) and
    no row value written by the simulator appears anywhere in the log.
Run: /usr/bin/python3 -m pytest -q tests/integration/test_logs.py
"""

import os
import re
import signal
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
import pymysql  # noqa: E402
from conftest import wait_until, wait_replica_equal, TIDB_PASSWORD  # noqa: E402

SEED = 7311
REPL_PASSWORD = "Zq8-secret-Pw-41f"
WRONG_PASSWORD = "Xk3-wrong-Pw-77c"
LINE_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (ERROR|WARN |INFO |DEBUG|TRACE) "
                     r"[a-z]+ +\S.*$")


@pytest.fixture(scope="module")
def tirelay_built():
    assert os.access(cluster.tirelay_bin(), os.X_OK), \
        "tirelay binary not built (%s): build it or set TIRELAY_BIN" % cluster.tirelay_bin()


def row_strings(conn, db):
    """Every distinct string value of at least 6 characters in the simulator's tables."""
    out = set()
    with conn.cursor() as cur:
        cur.execute("SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema=%s AND data_type IN ('char','varchar','text','tinytext',"
                    "'mediumtext','longtext')", (db,))
        for table, col in cur.fetchall():
            cur.execute("SELECT DISTINCT `%s` FROM `%s`.`%s` WHERE CHAR_LENGTH(`%s`) >= 6 LIMIT 500"
                        % (col, db, table, col))
            out.update(r[0] for r in cur.fetchall() if isinstance(r[0], str))
    return out


def test_log_lines_and_secrets(tirelay_built, truth, mariadb_instance, tidbsim, tirelay, tmp_path):
    sim = tidbsim(truth, seed=SEED, rows=3000, rate=60, pumps=2, fake_interval=0.5)
    relay = tirelay(sim, truth, max_binlog_size=32 * 1024, mariadb_listen=True,
                    admin_users="auditor",
                    extra_conf="\n[users]\nauditor = %s\n\n[log]\nlevel = trace\n" % REPL_PASSWORD)
    r1 = mariadb_instance("replica1", server_id=11)
    r2 = mariadb_instance("replica2", server_id=12)

    # A wrong password is refused (and not logged).
    with pytest.raises(pymysql.err.OperationalError):
        pymysql.connect(host="127.0.0.1", port=relay.port, user="auditor", password=WRONG_PASSWORD)

    c1 = r1.replicate_from(relay.port, user="auditor", password=REPL_PASSWORD)
    c2 = r2.replicate_from(relay.mariadb_port, gtid="slave_pos", gtid_slave_pos="",
                           user="auditor", password=REPL_PASSWORD)
    mb = subprocess.run(["mariadb-binlog", "--read-from-remote-server", "--host=127.0.0.1",
                         "--port=%d" % relay.port, "--user=auditor",
                         "--password=%s" % REPL_PASSWORD, "tirelay-bin.000001"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    assert mb.returncode == 0, mb.stderr

    st = sim.wait_done(600)
    tconn = truth.connect()
    wait_replica_equal(c1, tconn, st, 300, "file/pos replica equal to the truth")
    wait_replica_equal(c2, tconn, st, 300, "GTID replica equal to the truth")

    # An admin purge of the oldest file (no dump reads it any more).
    admin = pymysql.connect(host="127.0.0.1", port=relay.port, user="auditor",
                            password=REPL_PASSWORD)
    with admin.cursor() as cur:
        cur.execute("PURGE BINARY LOGS TO 'tirelay-bin.000002'")
    admin.close()

    # Replicas leave, then tirelay is killed and restarts: recovery decisions are logged.
    for c in (c1, c2):
        with c.cursor() as cur:
            cur.execute("STOP SLAVE")
    wait_until(lambda: relay.log_text().count("dump ended") >= 3, 30, what="dump ended lines")
    relay.proc.send_signal(signal.SIGKILL)
    relay.proc.wait(30)
    relay._logf.close()
    relay.start()
    wait_until(lambda: "resuming after commit_ts=" in relay.log_text(), 30, what="restart")
    relay.stop()

    log = relay.log_text()
    lines = log.splitlines()
    assert len(lines) > 100
    bad = [l for l in lines if not LINE_RE.match(l)]
    assert not bad, "lines not in the log format:\n" + "\n".join(bad[:10])
    assert any(" TRACE " in l or " DEBUG " in l for l in lines)  # really at a verbose level

    info = [l for l in lines if " INFO  " in l]

    def has(pattern, what):
        assert any(re.search(pattern, l) for l in info), "no INFO line for %s (%s)" % (what, pattern)

    has(r"pump +pump streaming pump=\d+ addr=\S+ offset=\d+", "a Pump connect with its commit_ts")
    has(r"relay +pulling from pump node_id=\S+ addr=\S+ start_commit_ts=\d+", "a Pump start")
    has(r"binlog dump requested file=tirelay-bin\.000001 pos=4 .*replica_server_id=11",
        "the file/pos replica's start position")
    has(r"dump started mode=file server_id=11 .* file=tirelay-bin\.000001 pos=\d+$",
        "the file/pos dump's first position")
    has(r"gtid start state='' ", "the GTID replica's start state")
    has(r"dump ended mode=file server_id=11 events=\d+ .* file=tirelay-bin\.\d{6} pos=\d+$",
        "the file/pos replica's stop position")
    has(r"dump ended mode=mariadb-gtid server_id=12 ", "the GTID replica's disconnect")
    has(r"client authenticated user=auditor ", "a login")
    has(r"rotated flavor=mysql file=tirelay-bin\.\d{6} gtid=\d+", "a rotation")
    has(r"purged binlog file flavor=mysql file=tirelay-bin\.000001 ", "a purge")
    has(r"opened flavor=mysql file=tirelay-bin\.\d{6} pos=\d+", "the store position at restart")
    has(r"resuming after commit_ts=\d+ gtid_no=\d+", "the recovery decision")
    assert any("Access denied for user 'auditor'" in l and " WARN  " in l for l in lines)

    # Secrets and row data never appear.
    for secret in (REPL_PASSWORD, WRONG_PASSWORD, TIDB_PASSWORD):
        assert secret not in log, "a password is in the log: %s" % secret
    values = row_strings(tconn, st["db"])
    assert len(values) > 50, "the workload wrote too few strings to check (%d)" % len(values)
    leaked = sorted(v for v in values if v in log)
    assert not leaked, "row values in the log: %r" % leaked[:5]
