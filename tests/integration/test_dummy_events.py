"""MariaDB's replacement events for dump clients without @mariadb_slave_capability >= 4
(docs/decisions.md "Events for MariaDB clients without GTID capability").

A MariaDB primary rewrites its own event types for a client that did not announce
`SET @mariadb_slave_capability=4` (the npm zongji family, go-mysql with flavor=mysql,
mysql-binlog-emitter, MySQL replicas): GTID becomes a BEGIN QUERY of the same length,
GTID_LIST, BINLOG_CHECKPOINT and ANNOTATE_ROWS become same-length dummy QUERY events
("# Dummy event replacing event type N that slave cannot handle.", cut or padded) or a
NULL USER_VAR when too short; capabilities 2 and 3 leave some of them out instead.

The rule is written down once here (`expected`) and checked against both servers:
* the truth MariaDB 10.11, started with its own binlog while the simulator applies the
  workload to it, is dumped raw with capabilities unset, 1, 2, 3 and 4 (and the
  ANNOTATE_ROWS dump flag): every event it sends, leaves out or rewrites must be what
  `expected` says for the event its file holds (so the rule is MariaDB's, byte for byte);
* tirelay's MariaDB listener is dumped the same way: every event must be `expected` of the
  event tirelay's file holds at that position, with the same length and log_pos; the kinds
  of replacements (type, BEGIN / dummy QUERY / dummy USER_VAR, flags) must be among those
  the real server produced;
* a capable client (capability 4) and mariadb-binlog get tirelay's files byte for byte;
* dumps of different capabilities started together at the same position still get each
  their own bytes while dumps of one capability share framed batches;
* a GTID dump (@slave_connect_state) without the capability: both servers replace the
  stored events and send their fake GTID_LIST (type 163, timestamp 0, ARTIFICIAL) as it is.
Run: /usr/bin/python3 -m pytest -q tests/integration/test_dummy_events.py
"""

import glob
import os
import struct
import subprocess
import sys
import zlib

import pymysql

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
from conftest import wait_until  # noqa: E402
from test_metrics import one, scrape  # noqa: E402

SEED = int(os.environ.get("TIRELAY_TEST_SEED", "20240501")) + 163
ROWS = int(os.environ.get("TIRELAY_DUMMY_ROWS", "400"))

QUERY, ROTATE, USER_VAR, FDE = 2, 4, 14, 15
ANNOTATE, CHECKPOINT, GTID, GTID_LIST = 160, 161, 162, 163
F_THREAD_SPECIFIC, F_SUPPRESS_USE, F_ARTIFICIAL = 0x04, 0x08, 0x20
FL_STANDALONE = 0x01
COM_BINLOG_DUMP = 0x12
DUMMY_TEXT = b"# Dummy event replacing event type %d that slave cannot handle."
SEND, OMIT = "send", "omit"


# ---------------------------------------------------------------- the rule


def _replace(orig, body, new_type, crc):
    """orig's header with new_type, flags -THREAD_SPECIFIC +SUPPRESS_USE, then body (+ CRC)."""
    flags = (struct.unpack_from("<H", orig, 17)[0] & ~F_THREAD_SPECIFIC) | F_SUPPRESS_USE
    ev = orig[:4] + bytes([new_type]) + orig[5:17] + struct.pack("<H", flags) + body
    if crc:
        ev += struct.pack("<I", zlib.crc32(ev) & 0xFFFFFFFF)
    assert len(ev) == len(orig)
    return ev


def _dummy(orig, crc):
    data_len = len(orig) - (4 if crc else 0)
    assert data_len >= 25, "too short for a dummy"
    if data_len < 34:
        n = data_len - 24
        return _replace(orig, struct.pack("<I", n) + b"!dummyvar"[:n] + b"\x01", USER_VAR, crc)
    text = DUMMY_TEXT % orig[4]
    room = data_len - 33
    text = text[:room] + b" " * max(0, room - len(text))
    return _replace(orig, bytes(13) + b"\x00" + text, QUERY, crc)


def _begin(orig, crc):
    data_len = len(orig) - (4 if crc else 0)
    if data_len == 38:
        return _replace(orig, bytes(13) + b"\x00BEGIN", QUERY, crc)
    assert data_len == 40, "GTID of %d bytes" % data_len
    return _replace(orig, bytes(11) + b"\x02\x00" + b"\x05\x00" + b"\x00BEGIN", QUERY, crc)


def expected(orig, cap, annotate, crc=True):
    """What a MariaDB primary sends for the stored event orig: SEND, OMIT or new bytes."""
    cap = cap or 0
    t = orig[4]
    if t == ANNOTATE:
        if annotate or cap == 1:
            return SEND
        return OMIT if cap >= 2 else _dummy(orig, crc)
    if t == GTID:
        if cap >= 4:
            return SEND
        if orig[19 + 12] & FL_STANDALONE:
            return OMIT if cap >= 2 else _dummy(orig, crc)
        return _begin(orig, crc)
    if t == CHECKPOINT:
        return SEND if cap >= 3 else OMIT if cap >= 2 else _dummy(orig, crc)
    if t == GTID_LIST:
        return SEND if cap >= 4 else OMIT if cap >= 2 else _dummy(orig, crc)
    return SEND


def kind(ev):
    """A replacement's shape: (type, BEGIN / BEGIN+tz / dummy text / dummy var, flags)."""
    flags = struct.unpack_from("<H", ev, 17)[0]
    if ev[4] == USER_VAR:
        return (USER_VAR, "dummy-var", flags & (F_THREAD_SPECIFIC | F_SUPPRESS_USE))
    status_len = struct.unpack_from("<H", ev, 19 + 11)[0]
    text = ev[19 + 13 + status_len + 1:-4]
    what = ("BEGIN" if status_len == 0 else "BEGIN+tz") if text == b"BEGIN" else "dummy-text"
    return (ev[4], what, flags & (F_THREAD_SPECIFIC | F_SUPPRESS_USE))


# ---------------------------------------------------------------- files and dumps


def file_events(path):
    """{end offset: event bytes} of a binlog file."""
    with open(path, "rb") as f:
        data = f.read()
    out, pos = {}, 4
    while pos + 19 <= len(data):
        size = struct.unpack_from("<I", data, pos + 9)[0]
        out[pos + size] = data[pos:pos + size]
        pos += size
    return out


def start_dump(port, user, password, cap=None, flags=1, name="", pos=4, state=None):
    """A raw non-blocking dump (server_id 0): the SETs, then COM_BINLOG_DUMP by hand."""
    c = pymysql.connect(host="127.0.0.1", port=port, user=user, password=password,
                        autocommit=True)
    with c.cursor() as cur:
        cur.execute("SET @master_binlog_checksum='CRC32'")
        if cap is not None:
            cur.execute("SET @mariadb_slave_capability=%d" % cap)
        if state is not None:
            cur.execute("SET @slave_connect_state='%s'" % state)
    c._execute_command(COM_BINLOG_DUMP, struct.pack("<IHI", pos, flags, 0) + name.encode())
    return c


def read_dump(c):
    """[(file name, event bytes)] up to the EOF; the fake ROTATE names the file."""
    out, name = [], None
    try:
        while True:
            d = c._read_packet()._data
            if d[0] == 0xFE and len(d) < 9:
                return out
            ev = bytes(d[1:])
            ts, typ = struct.unpack_from("<IB", ev)
            log_pos, flags = struct.unpack_from("<IH", ev, 13)
            if typ == ROTATE and log_pos == 0 and flags & F_ARTIFICIAL:
                name = ev[27:-4].decode()
            out.append((name, ev))
    finally:
        c.close()


def check_stream(events, files, cap, annotate, complete=True):
    """Each event of a dump against `expected` of the stored event at its log_pos, and
    (complete: a dump from the first file's start) every stored event the rule sends was
    sent. files: {name: {end: event}}. Returns the replacements sent as [(orig, sent)]."""
    replaced = []
    seen = {}  # name -> set of ends sent
    for name, ev in events:
        typ = ev[4]
        log_pos = struct.unpack_from("<I", ev, 13)[0]
        flags = struct.unpack_from("<H", ev, 17)[0]
        if log_pos == 0 or typ == FDE or (typ == GTID_LIST and flags & F_ARTIFICIAL):
            continue  # fake ROTATE, the FD, a GTID start's fake GTID_LIST
        stored = files[name].get(log_pos)
        assert stored is not None, "%s: event type %d ends at %d, not an event end" % (
            name, typ, log_pos)
        assert len(stored) == len(ev), (name, log_pos, len(stored), len(ev))
        want = expected(stored, cap, annotate)
        assert want != OMIT, "%s@%d: type %d sent, MariaDB leaves it out (cap %s)" % (
            name, log_pos, stored[4], cap)
        if want == SEND:
            assert ev == stored, "%s@%d: type %d changed" % (name, log_pos, stored[4])
        else:
            assert ev == want, "%s@%d: type %d -> %s, want %s" % (
                name, log_pos, stored[4], ev.hex(), want.hex())
            replaced.append((stored, ev))
        seen.setdefault(name, set()).add(log_pos)
    # nothing the rule sends is missing
    for name, ends in seen.items() if complete else ():
        for end, stored in files[name].items():
            if stored[4] == FDE or end in ends:
                continue
            assert expected(stored, cap, annotate) == OMIT, (
                "%s@%d: type %d missing (cap %s)" % (name, end, stored[4], cap))
    return replaced


def tirelay_files(relay):
    d = relay.binlog_dir("mariadb")
    names = sorted(f for f in os.listdir(d) if f.startswith("tirelay-bin.") and f[12:].isdigit())
    return {n: file_events(os.path.join(d, n)) for n in names}


def truth_files(truth):
    return {os.path.basename(p): file_events(p)
            for p in sorted(glob.glob(os.path.join(truth.base, "mbin.[0-9]*")))}


def settled_truth_files(truth):
    """truth_files once the truth's binlog has settled: MariaDB writes a BINLOG_CHECKPOINT
    naming the newest file some time after rotating to it, from its binlog background
    thread, once the older file's transactions are committed in InnoDB. On a busy machine
    that comes well after the last commit; a copy read before it lacks an event the
    server sends later."""
    def settled():
        files = truth_files(truth)
        last = sorted(files)[-1]
        marks = [ev for ev in files[last].values() if ev[4] == CHECKPOINT]
        return files if marks and marks[-1][23:-4] == last.encode() else None
    return wait_until(settled, 60, what="the truth's last BINLOG_CHECKPOINT naming its last file")


def list_seqs(files):
    """Sequence numbers in the GTID_LIST events of the files."""
    out = set()
    for events in files.values():
        for ev in events.values():
            if ev[4] == GTID_LIST:
                n = struct.unpack_from("<I", ev, 19)[0] & 0x0FFFFFFF
                out.update(struct.unpack_from("<Q", ev, 23 + 16 * i + 8)[0] for i in range(n))
    return out


def gtid_pos(port, user, password):
    c = pymysql.connect(host="127.0.0.1", port=port, user=user, password=password)
    try:
        with c.cursor() as cur:
            cur.execute("SELECT @@GLOBAL.gtid_binlog_pos")
            return cur.fetchone()[0] or ""
    finally:
        c.close()


CASES = [(None, False), (None, True), (1, False), (2, False), (3, False), (4, False)]


def test_replacement_events_follow_mariadb(tmp_path, tidbsim, tirelay):
    truth = cluster.MariaDB(str(tmp_path / "truth"), server_id=1, log_bin=True,
                            extra=["--binlog-format=ROW", "--max-binlog-size=16384"]).start()
    try:
        truth.create_user("tidb", "tidbpw")
        run(tmp_path, truth, tidbsim, tirelay)
    finally:
        truth.stop()


def run(tmp_path, truth, tidbsim, tirelay):
    sim = tidbsim(truth, seed=SEED, rows=ROWS, fake_interval=1.0)
    mport = cluster.free_port()
    relay = tirelay(sim, truth, mariadb_listen=True, max_binlog_size=16 * 1024,
                    extra_conf="\n[metrics]\nlisten = 127.0.0.1:%d\n" % mport)
    st = sim.wait_done(300)
    ma = relay.mariadb_port
    # every transaction and DDL (each has a GTID): the files read below are then final
    wait_until(lambda: int((gtid_pos(ma, "repl", "pw") or "0-0-0").split("-")[2])
               >= st["txns"] + st["ddls"], 120, what="tirelay has every transaction")
    tfiles = settled_truth_files(truth)
    rfiles = tirelay_files(relay)
    assert len(rfiles) >= 3, sorted(rfiles)

    # 1. The rule is MariaDB's: every capability against the truth's own binlog.
    shapes = {}  # (stored type, cap class) -> set of kinds, from the real server
    for cap, annotate in CASES:
        evs = read_dump(start_dump(truth.port, "tidb", "tidbpw", cap, 3 if annotate else 1))
        for stored, sent in check_stream(evs, tfiles, cap, annotate):
            shapes.setdefault(stored[4], set()).add(kind(sent))
    types = {ev[4] for f in tfiles.values() for ev in f.values()}
    assert {ANNOTATE, CHECKPOINT, GTID, GTID_LIST} <= types, types
    assert {k[1] for k in shapes[GTID]} >= {"BEGIN", "dummy-text"}, shapes  # DDLs: standalone

    # 2. tirelay applies the same rule to its own files, for every capability.
    ours = {}
    for cap, annotate in CASES:
        evs = read_dump(start_dump(ma, "repl", "pw", cap, 3 if annotate else 1))
        assert [n for n, _ in evs if n is not None][0] == sorted(rfiles)[0]
        replaced = check_stream(evs, rfiles, cap, annotate)
        if cap is None or cap < 2:
            assert {s[4] for s, _ in replaced} == {CHECKPOINT, GTID, GTID_LIST}, cap
        for stored, sent in replaced:
            ours.setdefault(stored[4], set()).add(kind(sent))
        if cap == 4:
            assert not replaced
            # a capable client: the files as stored, every event of every file
            got = {}
            for name, ev in evs:
                got.setdefault(name, []).append(ev)
            for name, stored in rfiles.items():
                assert got[name][2:] == list(stored.values())[1:], name
    for t, ks in ours.items():
        assert ks <= shapes[t], "type %d replaced as %s, MariaDB only as %s" % (t, ks, shapes[t])
    print("\n[dummy] truth replacements %s; tirelay %s" % (
        sorted((t, sorted(k)) for t, k in shapes.items()), sorted(
            (t, sorted(k)) for t, k in ours.items())))

    # 3. Dumps of different capabilities at one point: each its own bytes; alike ones share.
    shared0 = float(one(scrape(mport), "tirelay_dump_batches_total", how="shared"))
    caps = [None, 4, 2, None, 4, 2, None, 4]
    conns = [start_dump(ma, "repl", "pw", cap) for cap in caps]
    for cap, c in zip(caps, conns):
        check_stream(read_dump(c), rfiles, cap, False)
    shared = float(one(scrape(mport), "tirelay_dump_batches_total", how="shared"))
    assert shared > shared0, (shared0, shared)

    # 4. mariadb-binlog (capability 4) still copies every file byte for byte.
    out = tmp_path / "raw"
    out.mkdir()
    r = subprocess.run(["mariadb-binlog", "--no-defaults", "--read-from-remote-server",
                        "--host=127.0.0.1", "--port=%d" % ma, "--user=repl", "--password=pw",
                        "--raw", "--to-last-log", "--result-file=%s/" % out, sorted(rfiles)[0]],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    d = relay.binlog_dir("mariadb")
    for name in rfiles:
        with open(os.path.join(d, name), "rb") as a, open(str(out / name), "rb") as b:
            assert a.read() == b.read(), name

    # 5. A GTID dump without the capability, on both servers.
    for port, user, pw, files in ((truth.port, "tidb", "tidbpw", tfiles),
                                  (ma, "repl", "pw", rfiles)):
        last = int(gtid_pos(port, user, pw).split("-")[2])
        # a GTID inside a file: one that is a file's GTID_LIST starts that file unskipped
        want = last // 2
        while want in list_seqs(files):
            want += 1
        evs = read_dump(start_dump(port, user, pw, None, 1, state="0-1-%d" % want))
        fake = [ev for _, ev in evs if ev[4] == GTID_LIST]
        assert len(fake) == 1, [ev.hex() for ev in fake]
        ev = fake[0]
        assert ev[:4] == bytes(4) and struct.unpack_from("<H", ev, 17)[0] == F_ARTIFICIAL
        assert ev[19:-4] == struct.pack("<IIIQ", 1, 0, 1, want), ev.hex()
        assert not [e for _, e in evs if e[4] in (ANNOTATE, CHECKPOINT, GTID)], port
        check_stream(evs, files, None, False, complete=False)
