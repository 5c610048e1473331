"""CDC clients against tirelay (issue 3 point 4): @vlasky/zongji (npm) reads
the MySQL listener (mysql_native_password) while the TiDB simulator runs a
workload, and every row it reports, replayed in order, gives the truth's
tables. zongji 0.9 decodes rows from the TABLE_MAP optional metadata
(binlog_row_metadata=FULL: COLUMN_NAME, DEFAULT_CHARSET, ENUM/SET values,
SIGNEDNESS, SIMPLE_PRIMARY_KEY), so it never needs information_schema:
this test proves that metadata is complete and correct for a real client.
The Node modules are installed by `npm install` in tests/integration/node
(package-lock.json pins every version).
Run: /usr/bin/python3 -m pytest -q tests/integration/test_cdc_clients.py
"""

import datetime
import decimal
import json
import os
import subprocess
import sys

import pymysql
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402

NODE_DIR = os.path.join(HERE, "node")


def _norm_truth(v):
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, decimal.Decimal):
        return v
    if isinstance(v, (datetime.datetime, datetime.date, datetime.timedelta)):
        return None  # temporal values: zongji's Date objects depend on the client time zone
    if isinstance(v, set):
        return sorted(v)
    return v


def _norm_zongji(v):
    if isinstance(v, dict) and "hex" in v:
        return v["hex"]
    if isinstance(v, dict) and "date" in v:
        return None
    return v


def _same(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, decimal.Decimal) or isinstance(b, float) or isinstance(a, float):
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(a)))
    if isinstance(a, int) and isinstance(b, str):
        return str(a) == b
    if isinstance(a, list):
        return a == sorted(b.split(",")) if isinstance(b, str) else a == sorted(b)
    return a == b


def test_zongji_rows_match_truth(node_modules, truth, tidbsim, tirelay):
    sim = tidbsim(truth, seed=31, rows=1500, fake_interval=1.0)
    relay = tirelay(sim, truth, max_binlog_size=128 * 1024)
    st = sim.wait_done(300)
    db = st["db"]
    tables = {t["name"]: t["pk"] for t in st["tables"]}
    # Everything the simulator committed is stored before zongji starts reading.
    cluster.wait_until(lambda: last_gtid_no(relay.port) >= st["txns"] + st["ddls"], 60,
                       what="tirelay caught up")

    proc = subprocess.run(["node", os.path.join(NODE_DIR, "zongji_dump.mjs"), str(relay.port),
                           "repl", "pw", "1", "3000"], cwd=NODE_DIR, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=240)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
    lines = [json.loads(x) for x in proc.stdout.decode().splitlines() if x.strip()]
    assert lines and lines[-1].get("done"), lines[-3:]

    # Replay the changes zongji reported.
    state = {t: {} for t in tables}
    n_changes = 0
    for ln in lines[:-1]:
        t = ln["t"]
        if t not in tables:
            continue
        pk = tables[t]
        n_changes += 1
        if ln["op"] == "insert":
            state[t][str(ln["row"][pk])] = ln["row"]
        elif ln["op"] == "update":
            state[t].pop(str(ln["before"][pk]), None)
            state[t][str(ln["row"][pk])] = ln["row"]
        else:
            state[t].pop(str(ln["row"][pk]), None)
    assert n_changes >= st["rows"] * 0.5, (n_changes, st["rows"])

    conn = truth.connect(db)
    compared = 0
    for t, pk in tables.items():
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SELECT * FROM `%s`" % t)
            rows = {str(r[pk]): r for r in cur.fetchall()}
        got = state[t]
        assert sorted(got) == sorted(rows), "table %s: primary keys differ (%d vs %d rows)" % (
            t, len(got), len(rows))
        for key, trow in rows.items():
            zrow = got[key]
            assert set(zrow) == set(trow), "table %s: column names %s vs %s" % (
                t, sorted(zrow), sorted(trow))
            for col, tv in trow.items():
                a = _norm_truth(tv)
                b = _norm_zongji(zrow[col])
                if a is None and isinstance(tv, (datetime.datetime, datetime.date,
                                                 datetime.timedelta)):
                    assert zrow[col] is not None, (t, key, col)
                    continue
                assert _same(a, b), "table %s pk %r column %s: truth %r zongji %r" % (
                    t, key, col, tv, zrow[col])
                compared += 1
    assert compared > 1000


def last_gtid_no(port):
    """GTID number of the newest stored transaction (0 if none), from SHOW BINLOG EVENTS."""
    try:
        c = pymysql.connect(host="127.0.0.1", port=port, user="repl", password="pw")
    except pymysql.err.MySQLError:
        return 0
    try:
        with c.cursor() as cur:
            cur.execute("SHOW BINARY LOGS")
            files = [r[0] for r in cur.fetchall()]
            for name in reversed(files):
                cur.execute("SHOW BINLOG EVENTS IN '%s'" % name)
                gtids = [e for e in cur.fetchall() if e[2] == "Gtid"]
                if gtids:
                    return int(gtids[-1][5].rsplit(":", 1)[1].rstrip("'"))
        return 0
    finally:
        c.close()


def _json_same(truth, got):
    """A JSON value parsed from the truth's text (TiDB's rendering) against zongji's decode of
    the MySQL binary JSON: numbers compare as doubles when either side is one (TiDB prints
    doubles with shortest digits, "1e+21" or "12345678901234567000"); zongji returns 64-bit
    integers beyond 2^53 as decimal strings."""
    if isinstance(truth, bool) or isinstance(got, bool):
        return truth is got
    if isinstance(truth, int) and isinstance(got, str) and abs(truth) > (1 << 53):
        return str(truth) == got
    if isinstance(truth, (int, float)) and isinstance(got, (int, float)):
        if isinstance(truth, float) or isinstance(got, float):
            return float(truth) == float(got)
        return truth == got
    if isinstance(truth, list) and isinstance(got, list):
        return len(truth) == len(got) and all(_json_same(a, b) for a, b in zip(truth, got))
    if isinstance(truth, dict) and isinstance(got, dict):
        return sorted(truth) == sorted(got) and all(_json_same(truth[k], got[k]) for k in truth)
    return type(truth) is type(got) and truth == got


def test_zongji_decodes_mysql_json(node_modules, truth, tidbsim, tirelay):
    """MySQL-flavour JSON (binary JSON, type 245) read by a real MySQL binary-JSON decoder:
    zongji's value for every JSON column of t_ty_json equals the truth's text parsed as JSON
    (small and large objects/arrays, int16/int32/int64/uint64, doubles, unicode strings,
    literals, 95-level nesting)."""
    sim = tidbsim(truth, seed=77, rows=2000, fake_interval=1.0, extra=["--types", "all"])
    relay = tirelay(sim, truth, max_binlog_size=512 * 1024)
    st = sim.wait_done(300)
    db = st["db"]
    cluster.wait_until(lambda: last_gtid_no(relay.port) >= st["txns"] + st["ddls"], 60,
                       what="tirelay caught up")
    proc = subprocess.run(["node", os.path.join(NODE_DIR, "zongji_dump.mjs"), str(relay.port),
                           "repl", "pw", "1", "3000"], cwd=NODE_DIR, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=240)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
    # split on "\n" only: JSON.stringify leaves U+2028 raw, which str.splitlines() splits on
    lines = [json.loads(x) for x in proc.stdout.decode().split("\n") if x.strip()]
    assert lines and lines[-1].get("done"), lines[-3:]
    state = {}
    for ln in lines[:-1]:
        if ln["t"] != "t_ty_json":
            continue
        if ln["op"] == "insert":
            state[ln["row"]["id"]] = ln["row"]
        elif ln["op"] == "update":
            state.pop(ln["before"]["id"], None)
            state[ln["row"]["id"]] = ln["row"]
        else:
            state.pop(ln["row"]["id"], None)
    conn = truth.connect(db)
    with conn.cursor() as cur:
        cur.execute("SELECT id, j, j2, jn FROM t_ty_json")
        rows = {r[0]: r[1:] for r in cur.fetchall()}
    assert sorted(state) == sorted(rows)
    compared = big = 0
    for key, texts in rows.items():
        for col, text in zip(("j", "j2", "jn"), texts):
            want = None if text is None else json.loads(text)
            got = state[key][col]
            assert _json_same(want, got), "t_ty_json id %r column %s: truth %s zongji %r" % (
                key, col, (text or "NULL")[:300], got)
            compared += 1
            big += 1 if text is not None and len(text.encode()) > 65536 else 0
    assert compared > 200 and big > 0, (compared, big)
