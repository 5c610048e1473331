"""Dumps at the same point share framed batches (issue 8, serve): tirelay reads
and frames a batch once and sends the same bytes to every dump that is at the
same file, offset and packet sequence id. This checks that what each dump
receives is still exactly its own stream, byte for byte:

* blocking dumps attached while the workload runs (they wait at the end of the
  binlog together, so each group commit is framed once for all of them), some
  from file 1 position 4, some from the first event after the FORMAT_DESCRIPTION
  (the same point reached another way), one from file 2 (another sequence id at
  the same offsets);
* then a fleet of non-blocking dumps from position 4, as mariadb-binlog runs
  them, all reading the finished binlog at once.

Every packet's sequence id must follow on, every event must be a 0x00 OK
packet, and the events of each file (without the fake ROTATE and the
FORMAT_DESCRIPTION the dump sends first) must equal the file's bytes. The
metric tirelay_dump_batches_total{how="shared"} must show that batches were
in fact shared.
Run: /usr/bin/python3 -m pytest -q tests/integration/test_shared_batches.py
"""

import os
import selectors
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
import dumpclient  # noqa: E402
from conftest import wait_until  # noqa: E402
from test_metrics import one, scrape  # noqa: E402

EV_ROTATE = 4
EV_FDE = 15
FLAG_ARTIFICIAL = 0x20


class Stream:
    """One dump: reassembles packets, checks sequence ids, keeps events per file."""

    def __init__(self, sock, first_file, first_pos):
        self.sock = sock
        self.buf = bytearray()
        self.seq = 1  # the reply to COM_BINLOG_DUMP (sequence 0) starts at 1
        self.file = first_file
        self.events = {}  # file name -> bytearray of the events after its FDE
        self.start = {first_file: first_pos}
        self.eof = False
        self.error = None  # the first thing wrong in the stream (reading stops there)

    def feed(self, data):
        if self.error is None:
            try:
                self.parse(data)
            except AssertionError as e:
                self.error = "dump from %s: %s" % (self.start, e)

    def parse(self, data):
        self.buf += data
        while len(self.buf) >= 4:
            n = self.buf[0] | self.buf[1] << 8 | self.buf[2] << 16
            if len(self.buf) < 4 + n:
                return
            assert n < 0xFFFFFF, "no event here is 16 MiB"
            seq = self.buf[3]
            assert seq == self.seq % 256, "sequence id %d, expected %d" % (seq, self.seq % 256)
            self.seq += 1
            payload = bytes(self.buf[4:4 + n])
            del self.buf[:4 + n]
            if payload[0] == 0xFE and n < 9:
                self.eof = True
                continue
            assert payload[0] == 0x00, "not an event packet: %r" % payload[:16]
            self.event(payload[1:])

    def event(self, ev):
        etype = ev[4]
        flags = struct.unpack_from("<H", ev, 17)[0]
        if etype == EV_ROTATE and flags & FLAG_ARTIFICIAL:
            # Fake ROTATE: the file the next events come from (body: pos u64, name; CRC32).
            self.file = ev[19 + 8:-4].decode()
            self.events.setdefault(self.file, bytearray())
            return
        if etype == EV_FDE:
            return
        self.events.setdefault(self.file, bytearray()).extend(ev)


def fde_end(path):
    with open(path, "rb") as f:
        head = f.read(4 + 19)
    return 4 + struct.unpack_from("<I", head, 4 + 9)[0]


def check_stream(st, bdir, files):
    """Every file the dump got equals the file's bytes after its FDE (or from its start)."""
    got_files = [f for f in files if f in st.events]
    assert got_files == files[files.index(got_files[0]):], (got_files, files)
    for name in got_files:
        path = os.path.join(bdir, name)
        with open(path, "rb") as f:
            data = f.read()
        begin = max(fde_end(path), st.start.get(name, 0))
        assert bytes(st.events[name]) == data[begin:], (
            "dump bytes differ for %s: got %d, file has %d after %d"
            % (name, len(st.events[name]), len(data) - begin, begin))


def binlog_files(bdir):
    return sorted(f for f in os.listdir(bdir) if f.startswith("tirelay-bin.") and f[-6:].isdigit())


def pump_all(sel, seconds):
    end = time.monotonic() + seconds
    while True:
        for key, _ in sel.select(timeout=0.05):
            st = key.data
            try:
                data = st.sock.recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(st.sock)
                continue
            st.feed(data)
        if time.monotonic() >= end:
            return


def test_dumps_at_one_point_share_batches_byte_exact(truth, tidbsim, tirelay):
    sim = tidbsim(truth, seed=11, rows=12000, rate=1500, fake_interval=0.5)
    mport = cluster.free_port()
    relay = tirelay(sim, truth, max_binlog_size=512 * 1024,
                    extra_conf="\n[metrics]\nlisten = 127.0.0.1:%d\n" % mport)
    bdir = relay.binlog_dir()
    first = "tirelay-bin.000001"
    wait_until(lambda: len(binlog_files(bdir)) >= 2, 120, what="a second binlog file")
    after_fde = fde_end(os.path.join(bdir, first))

    sel = selectors.DefaultSelector()
    live = []
    specs = [(first, 4)] * 6 + [(first, after_fde)] * 3 + [("tirelay-bin.000002", 4)]
    for i, (name, pos) in enumerate(specs):
        conn = dumpclient.connect(relay.port)
        sock = dumpclient.start_dump(conn, server_id=2000 + i, file_name=name, pos=pos)
        sock.setblocking(False)
        st = Stream(sock, name, pos)
        st.conn = conn
        live.append(st)
        sel.register(sock, selectors.EVENT_READ, st)

    def sim_done():
        pump_all(sel, 0.2)
        return sim.status()["done"]
    wait_until(sim_done, 240, what="workload finished")

    def caught_up():
        pump_all(sel, 0.2)
        files = binlog_files(bdir)
        last = files[-1]
        size = os.path.getsize(os.path.join(bdir, last)) - fde_end(os.path.join(bdir, last))
        return any(st.error for st in live) or all(
            len(st.events.get(last, b"")) >= size for st in live)
    wait_until(caught_up, 120, what="every blocking dump at the end of the binlog")
    assert not [st.error for st in live if st.error]
    files = binlog_files(bdir)
    assert len(files) >= 4, files
    for st in live:
        check_stream(st, bdir, files)
    for st in live:
        sel.unregister(st.sock)
        st.conn.close()

    # A fleet of non-blocking dumps (server_id 0: EOF at the end) over the finished binlog.
    fleet = []
    for i in range(12):
        conn = dumpclient.connect(relay.port)
        sock = dumpclient.start_dump(conn, server_id=0, file_name=first, pos=4)
        sock.setblocking(False)
        st = Stream(sock, first, 4)
        st.conn = conn
        fleet.append(st)
        sel.register(sock, selectors.EVENT_READ, st)

    def all_eof():
        pump_all(sel, 0.2)
        return any(st.error for st in fleet) or all(st.eof for st in fleet)
    wait_until(all_eof, 120, what="every non-blocking dump reached EOF")
    assert not [st.error for st in fleet if st.error]
    for st in fleet:
        check_stream(st, bdir, files)
        st.conn.close()

    fams = scrape(mport)
    framed = float(one(fams, "tirelay_dump_batches_total", how="framed"))
    shared = float(one(fams, "tirelay_dump_batches_total", how="shared"))
    print("\nbatches framed=%d shared=%d over %d files" % (framed, shared, len(files)))
    assert framed > 0 and shared > 0
    # The fleet read the whole binlog at once: most of its batches were shared.
    assert shared > framed, (framed, shared)


def test_stop_while_dumps_stream(truth, tidbsim, tirelay):
    """SIGTERM while 20 dumps stream from sender threads (one never reads, so its
    socket is full and its thread waits for EPOLLOUT): tirelay stops cleanly —
    exit status 0, no sanitizer report — within the stop timeout, and every dump's
    connection is closed."""
    sim = tidbsim(truth, seed=12, rows=6000, rate=3000, fake_interval=0.5)
    relay = tirelay(sim, truth, max_binlog_size=512 * 1024)
    bdir = relay.binlog_dir()
    wait_until(lambda: len(binlog_files(bdir)) >= 3, 120, what="three binlog files")
    stalled = dumpclient.connect(relay.port, rcvbuf=4096)
    dumpclient.start_dump(stalled, server_id=3000, file_name="tirelay-bin.000001")
    sel = selectors.DefaultSelector()
    streams = []
    for i in range(19):
        conn = dumpclient.connect(relay.port)
        sock = dumpclient.start_dump(conn, server_id=3001 + i, file_name="tirelay-bin.000001")
        sock.setblocking(False)
        st = Stream(sock, "tirelay-bin.000001", 4)
        st.conn = conn
        streams.append(st)
        sel.register(sock, selectors.EVENT_READ, st)
    pump_all(sel, 1.0)
    assert all(sum(len(v) for v in st.events.values()) > 0 for st in streams)
    assert not [st.error for st in streams if st.error]

    t0 = time.monotonic()
    relay.stop()  # SIGTERM; the fixture's check fails on an unclean stop or a report
    took = time.monotonic() - t0
    assert relay.proc.returncode == 0, relay.proc.returncode
    print("\nstopped in %.2fs with 20 dumps streaming" % took)

    def all_closed():
        pump_all(sel, 0.1)
        return not sel.get_map()
    wait_until(all_closed, 30, what="every dump connection closed by tirelay")
    assert not [st.error for st in streams if st.error]
    stalled.close()
    for st in streams:
        st.conn.close()
