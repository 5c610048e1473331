#!/usr/bin/python3
"""Writes the seed corpora tests/fuzz/corpus/<target>/seed-*. Deterministic; run again
after changing it (files it writes are named seed-*; crash regressions and entries
merged from fuzzing runs keep their own names and are left alone).

Sources: the captures in tests/vectors/ (MariaDB 10.11 client sessions, a mariadb binlog
file, the TiDB protobuf vectors), string literals of the unit tests (SQL statements,
GTID sets, JSON, configuration snippets), conf/*.cnf, and rows/jobs built with the
TiDB simulator's own encoders (tests/sim/tidbcodec.py, tidbschema.py), which are written
independently of the C decoders. Row bytes for fuzz_translate match its fixed tables."""
import datetime
import decimal
import glob
import hashlib
import json
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "sim"))
import tidbcodec as tc  # noqa: E402
import tidbschema as ts  # noqa: E402

CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
MAX_SEED = 64 * 1024


def put(target, data, tag=""):
    if isinstance(data, str):
        data = data.encode()
    data = data[:MAX_SEED]
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = "seed-%s%s" % (tag + "-" if tag else "", hashlib.sha1(data).hexdigest()[:12])
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def c_literals(path):
    """Adjacent C string literals of a source file, concatenated and unescaped."""
    text = open(os.path.join(ROOT, path)).read()
    lit = r'"(?:[^"\\\n]|\\.)*"'
    out = []
    for m in re.finditer(r'%s(?:\s*%s)*' % (lit, lit), text):
        parts = re.findall(lit, m.group(0))
        s = "".join(p[1:-1] for p in parts)
        try:
            s = bytes(s, "utf-8").decode("unicode_escape").encode("latin-1")
        except (UnicodeDecodeError, UnicodeEncodeError):
            s = s.encode()
        out.append(s)
    return out


def vec_packets(path):
    """(direction, whole packet bytes) of a tests/vectors/mysql capture."""
    lines = open(os.path.join(ROOT, path)).read().split("\n")
    out = []
    for i, ln in enumerate(lines):
        if ln[:3] in ("C>S", "S>C") and i + 1 < len(lines):
            out.append((ln[:3], bytes.fromhex(lines[i + 1].strip())))
    return out


def hexfile(path):
    text = open(os.path.join(ROOT, path)).read()
    return bytes.fromhex(" ".join(l for l in text.split("\n") if not l.startswith("#")))


# ---- protobuf (field numbers: src/protocol/proto/binlog.proto, pump.proto)
def pb_varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def pb_int(num, v):
    return pb_varint(num << 3) + pb_varint(v)


def pb_bytes(num, b):
    return pb_varint(num << 3 | 2) + pb_varint(len(b)) + b


def mutation(table_id, inserts=(), updates=(), deletes=(), packed=True):
    m = pb_int(1, table_id)
    seq = []
    for r in inserts:
        m += pb_bytes(2, r)
        seq.append(0)
    for r in updates:
        m += pb_bytes(3, r)
        seq.append(1)
    for r in deletes:
        m += pb_bytes(6, r)
        seq.append(4)
    if packed:
        m += pb_bytes(7, bytes(seq))
    else:
        m += b"".join(pb_int(7, s) for s in seq)
    return m


def prewrite(version, muts):
    return pb_int(1, version) + b"".join(pb_bytes(2, m) for m in muts)


def binlog(pv=None, ddl=None, job=0, commit_ts=445644800000000005):
    b = pb_int(1, 1) + pb_int(2, commit_ts - 10) + pb_int(3, commit_ts)
    if pv is not None:
        b += pb_bytes(5, pv)
    if ddl is not None:
        b += pb_bytes(6, ddl.encode()) + pb_int(7, job)
    return b


def pull_resp(payload, offset=445644800000000005):
    return pb_bytes(1, pb_bytes(1, pb_int(2, offset)) + pb_bytes(2, payload))


# ---- the tables of fuzz_translate.c, as the simulator models them
def tables():
    t = ts.Table("d", "t", [ts.c_int("id", pk=True), ts.c_varchar("name", 10),
                            ts.c_datetime("c", 6)])
    t.id = 45
    u = ts.Table("d", "u", [ts.c_int("id", big=True, unsigned=True, pk=True),
                            ts.c_decimal("amount", 10, 2), ts.c_text("note"),
                            ts.c_intn("k", ts.TP_TINY, nullable=False)])
    u.id = 46
    ch = ts.Table("d", "ch", [ts.c_varchar("info", 8), ts.c_varchar("code", 8),
                              ts.c_int("qty")], pk_order=["code"])
    ch.id = 47
    cc = ts.Table("d", "cc", [ts.c_varchar("region", 4), ts.c_int("id"), ts.c_int("v")],
                  pk_order=["id", "region"])
    cc.id = 48
    np_ = ts.Table("d", "np", [ts.c_int("a"), ts.c_varchar("s", 4)])
    np_.id = 49
    v = ts.Table("d", "v", [
        ts.c_int("id", pk=True), ts.c_float("f"), ts.c_double("d"), ts.c_date("dt"),
        ts.c_time("tm", 2), ts.c_timestamp("ts", 6), ts.c_datetime("dtm", 3), ts.c_year("y"),
        ts.c_bit("b", 17), ts.c_enum("e", ["a", "b", "c"]), ts.c_set("st", ["x", "y", "z"]),
        ts.c_char("ch", 4), ts.c_bytes("vb", "VARBINARY(8)", ts.TP_VARCHAR, 8, 8),
        ts.c_bytes("bl", "BLOB", ts.TP_BLOB, 65535, 65535),
        ts.c_decimal("dx", 65, 30),
        ts.c_str("l1", "VARCHAR(6)", ts.TP_VARCHAR, 6, 6, charset="latin1"), ts.c_json("j")])
    v.id = 50
    return t, u, ch, cc, np_, v


def rows_seeds():
    t, u, ch, cc, np_, v = tables()
    dt = datetime.datetime(2023, 11, 14, 22, 13, 20, 123456)
    t_rows = [{"id": 1, "name": "abc", "c": dt}, {"id": -5, "name": None, "c": None},
              {"id": 2 ** 31 - 1, "name": "é" * 10, "c": datetime.datetime(1000, 1, 1)}]
    u_rows = [{"id": 5, "amount": decimal.Decimal("123.45"), "note": "hi", "k": -1},
              {"id": 2 ** 64 - 1, "amount": decimal.Decimal("-99999999.99"), "note": None,
               "k": 127}]
    ch_rows = [{"info": "ab", "code": "k10", "qty": 5}, {"info": None, "code": "", "qty": None}]
    cc_rows = [{"region": "eu", "id": 7, "v": 9}, {"region": "us", "id": -1, "v": None}]
    np_rows = [{"a": 1, "s": "x"}, {"a": None, "s": None}]
    v_rows = [{"id": 1, "f": 1.5, "d": -2.25, "dt": datetime.datetime(2024, 2, 29),
               "tm": -(((838 * 60 + 59) * 60 + 59) * 10 ** 9), "ts": dt,
               "dtm": datetime.datetime(9999, 12, 31, 23, 59, 59, 999000), "y": 2155,
               "b": (1 << 17) - 1, "e": "b", "st": "x,z", "ch": "ab", "vb": b"\x00\xff",
               "bl": b"blob" * 10, "dx": decimal.Decimal("-12345678901234567890.123456789012345678901234567890"),
               "l1": "caf\xe9", "j": {"a": [1, 2.5, None, True, "x" * 40], "b": {"c": -7}}},
              {"id": 2, "f": None, "d": None, "dt": None, "tm": 0, "ts": None, "dtm": None,
               "y": None, "b": 0, "e": None, "st": "", "ch": None, "vb": b"", "bl": None,
               "dx": decimal.Decimal("0"), "l1": None, "j": [1 << 63, -1, "é"]}]
    out = []
    for tab, rows in ((t, t_rows), (u, u_rows), (ch, ch_rows), (cc, cc_rows), (np_, np_rows),
                      (v, v_rows)):
        for i, r in enumerate(rows):
            ins = tc.insert_row(tab, r, rowid=i + 3)
            upd = tc.update_row(tab, r, rows[(i + 1) % len(rows)], rowid=i + 3)
            dele = tc.delete_row(tab, r, rowid=i + 3)
            out.append((tab.id, ins, upd, dele))
    return out


def main():
    # ---- MySQL protocol (captures of a real MariaDB 10.11 and its clients)
    pkts = []
    for f in sorted(glob.glob(os.path.join(ROOT, "tests/vectors/mysql/*.txt"))):
        pkts += vec_packets(os.path.relpath(f, ROOT))
    client = [p for d, p in pkts if d == "C>S"]
    for i, p in enumerate(client):
        put("wire", p)
        if p[3] == 1:  # sequence 1: the handshake response
            put("handshake", p[4:])
        else:
            put("command", p[4:])
    put("wire", b"".join(client[:4]))
    put("wire", b"\x01" + b"\xff\xff\xff\x00" + b"a" * 16 + b"\x00\x00\x00\x01")
    put("handshake", bytes.fromhex("05a6ff0100000001ff") + b"\x00" * 23)  # SSLRequest
    # caching_sha2_password full path: cleartext over TLS, public-key request, RSA ciphertext
    put("handshake", b"pw\x00")
    put("handshake", b"\x02")
    put("handshake", bytes(range(256)))
    # COM_BINLOG_DUMP by file and by GTID set (MySQL 8.0 replica shape)
    put("command", b"\x12" + struct.pack("<IHI", 4, 0, 2) + b"tirelay-bin.000001")
    put("command", b"\x12" + struct.pack("<IHI", 4, 1, 0))
    uuid = bytes(range(16))
    gset = struct.pack("<Q", 1) + uuid + struct.pack("<Q", 1) + struct.pack("<QQ", 1, 6)
    put("command", b"\x1e" + struct.pack("<HII", 4, 3, 18) + b"tirelay-bin.000001" +
        struct.pack("<QI", 4, len(gset)) + gset)
    put("command", b"\x1e" + struct.pack("<HII", 4, 3, 0) + struct.pack("<QI", 4, 8) +
        struct.pack("<Q", 0))
    put("command", b"\x15" + struct.pack("<I", 2) + b"\x04host\x04repl\x02pw" +
        struct.pack("<HII", 3306, 0, 0))
    put("command", b"\x03SELECT @@version")

    # ---- SQL statements of the unit tests and the client probes
    for s in c_literals("tests/unit/test_sqlcmd.c"):
        if len(s) >= 3 and re.match(rb"\s*[A-Za-z/(]", s):
            put("sqlcmd", s)
    for s in (b"SET @master_binlog_checksum='NONE', @slave_connect_state='0-1-5'",
              b"SELECT GTID_SUBTRACT('3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5', '') AS x",
              b"SHOW GLOBAL VARIABLES LIKE 'gtid\\_%' ", b"/*!40101 SET NAMES utf8mb4 */",
              b"PURGE BINARY LOGS BEFORE '2024-01-01 00:00:00'",
              b"SHOW BINLOG EVENTS IN 'tirelay-bin.000001' FROM 4 LIMIT 2, 10"):
        put("sqlcmd", s)

    # ---- DDL text for the dialect rewriter: flavour byte (0 MySQL, 1 MariaDB) + statement
    for s in c_literals("tests/unit/test_ddl_rewrite.c"):
        if re.match(rb"\s*[A-Za-z;(]", s):
            put("ddl_rewrite", b"\x00" + s)
            put("ddl_rewrite", b"\x01" + s)

    # ---- GTID sets: text (0), binary (1), MariaDB lists (2), events (3)
    for s in c_literals("tests/unit/test_gtid.c"):
        if re.match(rb"^[0-9a-fA-F-]{8,}", s) or s == b"":
            put("gtid", b"\x00" + s)
        if re.match(rb"^\s*\d+-\d+-\d+", s):
            put("gtid", b"\x02" + s)
    put("gtid", b"\x00" + b"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7,\n"
        b"3e11fa47-71ca-11e1-9e33-c80aa9429563:tag_a:1-3")
    put("gtid", b"\x01" + gset)
    tagged = (struct.pack("<Q", (1 << 56) | 1)[:8] + uuid + b"\x03abc" +
              struct.pack("<Q", 1) + struct.pack("<QQ", 1, 3))
    put("gtid", b"\x01" + tagged)
    put("gtid", b"\x02" + b"0-1-100,1-2-3")
    binfile = open(os.path.join(ROOT, "tests/vectors/binlog/mbin.000001"), "rb").read()
    off = 4
    while off + 19 <= len(binfile):
        size = struct.unpack_from("<I", binfile, off + 9)[0]
        if size < 19 or off + size > len(binfile):
            break
        ev = binfile[off:off + size]
        if ev[4] in (2, 33, 162, 163):
            put("gtid", b"\x03" + ev)
        off += size

    # ---- binlog files (the recovery reader): the captured file, cuts, a flipped byte
    put("binlog_file", binfile)
    for cut in (4, 23, 100, len(binfile) // 2, len(binfile) - 1):
        put("binlog_file", binfile[:cut])
    flipped = bytearray(binfile)
    flipped[len(binfile) // 2] ^= 0x40
    put("binlog_file", bytes(flipped))
    put("binlog_file", binfile + struct.pack(">H", 200))

    # ---- TiDB Binlog, rows, translate
    put("tidb_binlog", hexfile("tests/vectors/tidb/pull_resp_insert.hex"))
    put("tidb_binlog", hexfile("tests/vectors/tidb/fake_binlog.hex"))
    rows = rows_seeds()
    for tid, ins, upd, dele in rows:
        put("tidb_datum", ins)
        put("tidb_datum", upd)
        pv = prewrite(16, [mutation(tid, [ins], [upd], [dele])])
        put("translate", pv)
        put("translate", prewrite(16, [mutation(tid, [ins], packed=False)]))
    by_table = {}
    for tid, ins, upd, dele in rows:
        by_table.setdefault(tid, []).append((ins, upd, dele))
    big = prewrite(16, [mutation(tid, [r[0] for r in rs], [r[1] for r in rs],
                                 [r[2] for r in rs]) for tid, rs in sorted(by_table.items())])
    put("translate", big)
    put("tidb_binlog", big)
    put("tidb_binlog", binlog(big))
    put("tidb_binlog", pull_resp(binlog(big)))
    put("tidb_binlog", pull_resp(binlog(ddl="CREATE TABLE t (id INT)", job=3)))
    put("tidb_datum", b"\x00")
    put("tidb_datum", tc.enc_decimal(decimal.Decimal("-0.000001"), 65, 30))
    put("tidb_datum", b"\x0a\x01" + bytes.fromhex("0100000010000b000100060061010000"))

    # ---- DDL jobs and TableInfo JSON
    for f in ("job_create_schema.json", "job_create_table.json"):
        put("tidb_schema", open(os.path.join(ROOT, "tests/vectors/tidb", f), "rb").read())
    for tab in tables():
        tab.schema_id = 1
        info = tab.info(445644790000000000)
        put("tidb_schema", json.dumps(info))
        put("tidb_schema", json.dumps(ts.job_json(10, 3, 1, tab.id, "d", tab.name,
                                                  tab.ddl(), 20, 1, 2, None, info)))
    put("tidb_schema", json.dumps(ts.job_json(2, 1, 1, 0, "d", "", "CREATE DATABASE d", 10, 1, 2,
                                              ts.db_info(1, "d"), None)))
    for s in c_literals("tests/unit/test_tidb_schema.c"):
        if s.startswith(b"{"):
            put("tidb_schema", s)

    # ---- node status and etcd gateway JSON
    for s in c_literals("tests/unit/test_tidb_node.c"):
        if s.startswith(b"{") or s.startswith(b"[") or re.match(rb"^[A-Za-z0-9+/=]{4,}$", s):
            put("tidb_node", s)
    put("tidb_node", json.dumps({"nodeId": "pump-1:8250", "host": "127.0.0.1:8250",
                                 "state": "online", "isAlive": True, "score": 0,
                                 "label": None, "maxCommitTS": 445644800000000005,
                                 "updateTS": 445644800000000006}))

    # ---- TiCDC canal-json messages: the unit test's (written with ' for "), and a row of
    # every type, a DDL and a watermark shaped as tiflow's encoder writes them
    for s in c_literals("tests/unit/test_canal_json.c"):
        if (s.lstrip().startswith(b"{") and (b"type" in s or b"_tidb" in s) and
                not s.startswith(b"{'id':\" #")):
            put("canal_json", s.replace(b"'", b'"') if s.lstrip().startswith(b"{'") else s)

    def canal(kind, data, old=None, ddl=None, ts=445644800000000005):
        m = {"id": 0, "database": "d", "table": "v" if ddl is None else "",
             "pkNames": ["id"] if ddl is None else None, "isDdl": ddl is not None,
             "type": kind, "es": 1700000000000, "ts": 1700000000001,
             "sql": ddl or "", "sqlType": None, "mysqlType": None,
             "old": [old] if old is not None else None,
             "data": [data] if data is not None else None}
        if data is not None:
            m["sqlType"] = {k: 12 for k in data}
            m["mysqlType"] = {k: "varchar" for k in reversed(list(data))}
        m["_tidb"] = {"watermarkTs": ts} if kind == "TIDB_WATERMARK" else {"commitTs": ts}
        text = json.dumps(m, ensure_ascii=False, separators=(",", ":"))
        # Go escapes these three and the line separators
        for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                     ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
            text = text.replace(a, b)
        return text.encode()

    row = {"id": "1", "f": "1.5", "d": "-2.25", "dt": "2024-02-29", "tm": "-838:59:59.00",
           "ts": "2023-11-14 22:13:20.123456", "dtm": "9999-12-31 23:59:59.999", "y": "2155",
           "b": "131071", "e": "2", "st": "5", "ch": "ab", "vb": bytes(range(256)).decode("latin-1"),
           "bl": None, "dx": "-12345678901234567890.123456789012345678901234567890",
           "l1": "caf\xe9", "j": "{\"a\": [1, 2.5, null, true, \"<x>\"], \"b\": {\"c\": -7}}",
           "u": "18446744073709551615", "emoji": "\U0001f600 \u4e2d\u6587 \u2028"}
    put("canal_json", canal("INSERT", row))
    put("canal_json", canal("UPDATE", row, {k: v for k, v in row.items() if k in ("id", "b")}))
    put("canal_json", canal("DELETE", {"id": "1", "ch": None}))
    put("canal_json", canal("ALTER", None, ddl="ALTER TABLE `v` ADD COLUMN `x` INT COMMENT 'a<b'"))
    put("canal_json", canal("TIDB_WATERMARK", None, ts=445644800000000099))

    # ---- TiCDC streams for the reader + collector target: lines of <partition byte><message>
    def stream(items):
        return b"\n".join(bytes([p]) + m for p, m in items)

    full = {"id": "7", "b": "1", "ch": "x"}
    keyless = dict(full)
    put("cdc_ticdc", stream([
        (0, canal("ALTER", None, ddl="CREATE TABLE v (id INT PRIMARY KEY)", ts=445644800000000001)),
        (1, canal("INSERT", full, ts=445644800000000005)),
        (2, canal("UPDATE", {**full, "b": "2"}, full, ts=445644800000000005)),
        (1, canal("INSERT", full, ts=445644800000000005)),          # redelivered
        (0, canal("TIDB_WATERMARK", None, ts=445644800000000005)),
        (1, canal("TIDB_WATERMARK", None, ts=445644800000000006)),
        (2, canal("TIDB_WATERMARK", None, ts=445644800000000006)),
        (2, canal("DELETE", full, ts=445644800000000004)),          # below the watermark
        (0, canal("TIDB_WATERMARK", None, ts=445644800000000009))]))
    kl = canal("INSERT", keyless, ts=445644800000000020).replace(b'"pkNames":["id"]',
                                                                 b'"pkNames":[]')
    put("cdc_ticdc", stream([(1, kl), (1, kl), (1, canal("TIDB_WATERMARK", None, ts=445644800000000010)),
                             (1, kl), (0, canal("TIDB_WATERMARK", None, ts=445644800000000030)),
                             (1, canal("TIDB_WATERMARK", None, ts=445644800000000030)),
                             (2, canal("TIDB_WATERMARK", None, ts=445644800000000030))]))
    put("cdc_ticdc", stream([(1, canal("INSERT", row)), (0, b"not canal-json"),
                             (2, canal("TIDB_WATERMARK", None, ts=445644800000000099))]))

    # ---- JSON text as canal-json carries it (TiDB's text of a JSON column value)
    for s in c_literals("tests/unit/test_json_binary.c"):
        t = s.strip()
        if re.fullmatch(rb"[0-9a-f |]+", t) and b" " in t:
            continue  # an expected byte vector, not a text
        if t[:1] in (b"{", b"[", b'"', b"-") or t[:1].isdigit() or t in (b"true", b"false",
                                                                        b"null"):
            put("json_text", s)
    docs = [
        {"a": [1, "2", {"aa": "bb"}, 4, None], "b": True, "c": tc.JSON_NULL},
        [-9223372036854775808, 9223372036854775807, 18446744073709551615, 0.5, -1e-7, 1e21],
        {"": "", "\u00e9": ["\u20ac", "\U0001f600", "\u2028", "\x01\"\\/"], "k" * 40: {}},
        [[[[[[[[[[{"deep": [[]]}]]]]]]]]]],
        {"key%d" % i: i * 1000 for i in range(40)},
        "x" * 300,
    ]
    for v in docs:
        put("json_text", tc.json_text(v))
    put("json_text", "[" * 127 + "1" + "]" * 127)
    put("json_text", '{"a":1,"b":2,"a":3, "\\u0061" : [1.0,1e2,-0,-0.0,1E400]}')

    # ---- configuration
    for f in sorted(glob.glob(os.path.join(ROOT, "conf", "*.cnf"))):
        put("config", open(f, "rb").read())
    for s in c_literals("tests/unit/test_config.c"):
        if b"=" in s or b"[" in s:
            put("config", s)


if __name__ == "__main__":
    main()
