"""Issue 6 point 4: Prometheus metrics and the health check on [metrics] listen.

The simulator (2 static-mode Pumps) runs a workload while /metrics is scraped:
the exposition must parse strictly (every sample under a # TYPE of its family,
valid names, escaped label values, one sample per label set), the values must
move (each Pump's received commit_ts grows), the rows and transactions counters
must end equal to what the simulator reports, the replicas gauge must count the
attached replica and mariadb-binlog, and each replica's position must be the end
of the binlog once it caught up. /healthz answers 200 in steady state, 503 with
the stalled Pump as reason while one static Pump is stopped, 200 again once it
is back.
Run: /usr/bin/python3 -m pytest -q tests/integration/test_metrics.py
"""

import math
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
from conftest import wait_until, slave_status, wait_replica_equal  # noqa: E402

SEED = 6042
NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$")
STALL_S = 3


@pytest.fixture(scope="module")
def tirelay_built():
    assert os.access(cluster.tirelay_bin(), os.X_OK), \
        "tirelay binary not built (%s): build it or set TIRELAY_BIN" % cluster.tirelay_bin()


def parse_labels(text):
    """{k="v",...} -> dict, strictly (escapes \\\\, \\", \\n only)."""
    assert text[0] == "{" and text[-1] == "}", text
    body, labels, i = text[1:-1], {}, 0
    while i < len(body):
        m = re.match(r"([a-zA-Z_][a-zA-Z0-9_]*)=\"", body[i:])
        assert m, "bad label at %r" % body[i:]
        key = m.group(1)
        i += m.end()
        val = []
        while True:
            c = body[i]
            if c == "\\":
                nxt = body[i + 1]
                assert nxt in "\\\"n", "bad escape in %r" % body
                val.append({"\\": "\\", '"': '"', "n": "\n"}[nxt])
                i += 2
            elif c == '"':
                i += 1
                break
            else:
                assert c != "\n"
                val.append(c)
                i += 1
        assert key not in labels, "duplicate label %s" % key
        labels[key] = "".join(val)
        if i < len(body):
            assert body[i] == ",", "expected ',' in %r" % body
            i += 1
    return labels


def parse_exposition(text):
    """Parses the text format strictly. Returns {family: {"type", "help", "samples":
    [(name, labels, value_text)]}}."""
    assert text.endswith("\n")
    fams, current, seen_series = {}, None, set()
    for line in text.splitlines():
        assert line.strip() == line and line, "stray whitespace or empty line: %r" % line
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert NAME_RE.match(name) and help_text, line
            assert name not in fams, "family %s appears twice" % name
            fams[name] = {"help": help_text, "type": None, "samples": []}
            current = name
            continue
        if line.startswith("# TYPE "):
            name, _, typ = line[7:].partition(" ")
            assert name == current and fams[name]["type"] is None, "TYPE out of place: %s" % line
            assert typ in ("counter", "gauge", "histogram"), line
            fams[name]["type"] = typ
            continue
        assert not line.startswith("#"), line
        m = SAMPLE_RE.match(line)
        assert m, "bad sample line %r" % line
        name, ltext, value = m.group(1), m.group(2), m.group(3)
        labels = parse_labels(ltext) if ltext else {}
        for k in labels:
            assert LABEL_RE.match(k), k
        fam = fams.get(current)
        assert fam is not None and fam["type"] is not None, "sample before any TYPE: %s" % line
        if fam["type"] == "histogram":
            assert name in (current + "_bucket", current + "_sum", current + "_count"), line
        else:
            assert name == current, "sample %s under family %s" % (name, current)
            if fam["type"] == "counter":
                assert name.endswith("_total"), name
        float(value)  # every value parses as a float (ints, NaN, +Inf included)
        key = (name, tuple(sorted(labels.items())))
        assert key not in seen_series, "duplicate series %s" % (key,)
        seen_series.add(key)
        fam["samples"].append((name, labels, value))
    for name, fam in fams.items():
        assert fam["type"] is not None, "family %s has no TYPE" % name
        if fam["type"] == "histogram":
            buckets = [(float(l["le"]), int(v)) for n, l, v in fam["samples"] if n.endswith("_bucket")]
            assert buckets and buckets[-1][0] == math.inf, name
            assert buckets == sorted(buckets), "%s buckets not cumulative/increasing" % name
            count = [int(v) for n, l, v in fam["samples"] if n.endswith("_count")]
            assert count == [buckets[-1][1]], name
    return fams


def values(fams, name, **match):
    out = []
    for n, labels, v in fams[name]["samples"]:
        if n == name and all(labels.get(k) == w for k, w in match.items()):
            out.append((labels, v))
    return out


def one(fams, name, **match):
    vs = values(fams, name, **match)
    assert len(vs) == 1, (name, match, vs)
    return vs[0][1]


def http_get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=20) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def scrape(port):
    code, ctype, body = http_get(port, "/metrics")
    assert code == 200, (code, body)
    assert ctype.startswith("text/plain; version=0.0.4"), ctype
    fams = parse_exposition(body)
    # The reference parser (Debian python3-prometheus-client) agrees on every family.
    ref = {f.name: f for f in text_string_to_metric_families(body)}
    for name, fam in fams.items():
        base = name[:-6] if fam["type"] == "counter" else name  # it drops _total
        assert base in ref and ref[base].type == fam["type"], name
        assert len(ref[base].samples) == len(fam["samples"]), name
    return fams


def test_metrics_and_health(tirelay_built, truth, replica, tidbsim, tirelay, tmp_path):
    control_dir = str(tmp_path / "control")
    sim = tidbsim(truth, seed=SEED, rows=2500, rate=25, pumps=2, fake_interval=0.5,
                  extra=["--control-dir", control_dir])
    mport = cluster.free_port()
    relay = tirelay(sim, truth, max_binlog_size=64 * 1024,
                    extra_conf="\n[metrics]\nlisten = 127.0.0.1:%d\nhealth-stall-seconds = %d\n"
                               % (mport, STALL_S))
    pumps = [a for a in sim.pumps]

    # Bound to the configured address only.
    wait_until(lambda: "serving /metrics and /healthz addr=127.0.0.1:%d" % mport in relay.log_text(),
               30, what="metrics server started")
    assert http_get(mport, "/nope")[0] == 404
    wait_until(lambda: http_get(mport, "/healthz")[0] == 200, 60, what="/healthz 200 at start")
    code, _, body = http_get(mport, "/healthz")
    assert body == "ok\n"

    # Values move while the workload runs.
    f1 = scrape(mport)
    for fam in ("tirelay_pump_received_commit_ts", "tirelay_pump_lag_seconds",
                "tirelay_merge_watermark_commit_ts", "tirelay_transactions_written_total",
                "tirelay_rows_written_total", "tirelay_binlog_written_bytes_total",
                "tirelay_store_fsync_duration_seconds", "tirelay_binlog_disk_usage_bytes",
                "tirelay_binlog_files", "tirelay_replicas_connected",
                "tirelay_replica_file_index", "tirelay_replica_file_position_bytes",
                "tirelay_replica_behind_bytes", "tirelay_replica_lag_seconds",
                "tirelay_errors_total"):
        assert fam in f1, fam
    assert f1["tirelay_store_fsync_duration_seconds"]["type"] == "histogram"
    assert f1["tirelay_errors_total"]["type"] == "counter"
    ts1 = {p: int(one(f1, "tirelay_pump_received_commit_ts", pump=p)) for p in pumps}

    def moved():
        f = scrape(mport)
        ts = {p: int(one(f, "tirelay_pump_received_commit_ts", pump=p)) for p in pumps}
        return all(ts[p] > ts1[p] for p in pumps) and f
    f2 = wait_until(moved, 60, what="every pump's received commit_ts grows")
    assert int(one(f2, "tirelay_merge_watermark_commit_ts")) > 0
    for p in pumps:
        assert 0 <= float(one(f2, "tirelay_pump_lag_seconds", pump=p)) < 60

    # Attach a MariaDB replica and mariadb-binlog: two dumps.
    rconn = replica.replicate_from(relay.port)
    binlog_out = open(str(tmp_path / "mariadb-binlog.out"), "w")
    mb = subprocess.Popen(["mariadb-binlog", "--read-from-remote-server", "--host=127.0.0.1",
                           "--port=%d" % relay.port, "--user=repl", "--password=pw",
                           "--stop-never", "--stop-never-slave-server-id=777",
                           "tirelay-bin.000001"],
                          stdout=binlog_out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: float(one(scrape(mport), "tirelay_replicas_connected")) == 2, 60,
                   what="replicas gauge = 2")
        st = sim.wait_done(600)
        wait_replica_equal(rconn, truth.connect(), st, 300, "replica equal to the truth")

        # Counters end equal to what the simulator reports.
        def counters_match():
            f = scrape(mport)
            rows = int(float(one(f, "tirelay_rows_written_total")))
            txns = int(float(one(f, "tirelay_transactions_written_total")))
            return rows == st["rows"] and txns == st["txns"] + st["ddls"] and f
        f3 = wait_until(counters_match, 60, what="rows/transactions counters = simulator's")

        # Both dumps caught up: at the end of the last file, nothing behind, no lag.
        files = sorted(os.listdir(relay.binlog_dir()))
        last = [n for n in files if re.match(r"tirelay-bin\.\d{6}$", n)][-1]
        last_size = os.path.getsize(os.path.join(relay.binlog_dir(), last))

        def dumps_at_end():
            f = scrape(mport)
            idx = values(f, "tirelay_replica_file_index")
            pos = values(f, "tirelay_replica_file_position_bytes")
            behind = values(f, "tirelay_replica_behind_bytes")
            lag = values(f, "tirelay_replica_lag_seconds")
            if not (len(idx) == len(pos) == len(behind) == len(lag) == 2):
                return False
            return (all(int(float(v)) == int(last[-6:]) for _, v in idx)
                    and all(int(float(v)) == last_size for _, v in pos)
                    and all(float(v) == 0 for _, v in behind)
                    and all(float(v) == 0 for _, v in lag)) and f
        f4 = wait_until(dumps_at_end, 60, what="replica positions at the end of the binlog")
        sids = sorted(l["server_id"] for l, _ in values(f4, "tirelay_replica_file_index"))
        assert sids == ["2", "777"], sids
        s = slave_status(rconn)
        assert s["Master_Log_File"] == last and int(s["Read_Master_Log_Pos"]) == last_size

        # Disk usage and files match the directory.
        disk = sum(os.path.getsize(os.path.join(relay.binlog_dir(), n)) for n in files
                   if re.match(r"tirelay-bin\.\d{6}$", n))
        assert int(float(one(f4, "tirelay_binlog_disk_usage_bytes", flavor="mysql"))) == disk
        assert int(float(one(f4, "tirelay_binlog_files", flavor="mysql"))) == len(
            [n for n in files if re.match(r"tirelay-bin\.\d{6}$", n)]) > 1
        assert int(float(one(f4, "tirelay_binlog_written_bytes_total", flavor="mysql"))) > 0
        fs = [(l, v) for n, l, v in f4["tirelay_store_fsync_duration_seconds"]["samples"]
              if n.endswith("_count")]
        assert int(fs[0][1]) > 0
        assert float(one(f4, "tirelay_errors_total", kind="translate")) == 0
        assert float(one(f4, "tirelay_ready")) == 1
        with open(str(tmp_path / "metrics.txt"), "w") as out:  # kept for inspection
            out.write(http_get(mport, "/metrics")[2])
    finally:
        mb.terminate()
        mb.wait(30)
        binlog_out.close()

    # Health: one static Pump stops -> 503 naming it; back -> 200.
    seq = [0]

    def control(cmd, idx):
        seq[0] += 1
        name = os.path.join(control_dir, "%03d" % seq[0])
        with open(name + ".tmp", "w") as f:
            f.write("%s %d" % (cmd, idx))
        os.replace(name + ".tmp", name + ".cmd")
        wait_until(lambda: os.path.exists(name + ".done"), 60, what="sim: %s %d" % (cmd, idx))
        with open(name + ".done") as f:
            assert f.read() == "ok", "sim: %s %d failed" % (cmd, idx)

    assert http_get(mport, "/healthz")[0] == 200
    control("kill", 1)
    code, _, body = wait_until(lambda: (lambda r: r[0] == 503 and r)(http_get(mport, "/healthz")),
                               60, what="/healthz 503 while a pump is down")
    assert body.startswith("not ready: merge stalled: pump %s" % pumps[1]), body
    f5 = scrape(mport)
    assert float(one(f5, "tirelay_ready")) == 0
    assert float(one(f5, "tirelay_pump_last_receive_age_seconds", pump=pumps[1])) >= STALL_S
    control("restart", 1)
    wait_until(lambda: http_get(mport, "/healthz")[0] == 200, 60, what="/healthz 200 again")
    assert float(one(scrape(mport), "tirelay_ready")) == 1
