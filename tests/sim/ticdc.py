"""ticdc: the simulator's TiCDC output (canal-json with the TiDB extension).

tidbsim.py runs its workloads as always (truth MariaDB, mysql.tidb_ddl_history); with
--ticdc-kafka or --ticdc-storage every transaction and DDL goes out as TiCDC (TiDB >= 8.4)
would send it instead of through Pumps:

  * Kafka (--ticdc-kafka BOOTSTRAP --ticdc-topic NAME): one canal-json message per row
    change, DDL (partition 0 only) or TIDB_WATERMARK (every partition), produced with
    confluent_kafka to explicit partitions;
  * the storage sink (--ticdc-storage DIR): metadata, schema files, CDC<20 digits>.json data
    files with CRLF-terminated canal-json lines, meta/CDC.index, tmp-then-rename writes.

Written from shared/spec/ticdc.md (its Corrections override it) and pingcap/tiflow @ c7b2588e;
the file each rule comes from is named where the rule is. It must not look at tirelay's C
code. Nothing here binds a socket; the Kafka cluster is tests/tools/tr_kafka_mock.

How rows get here: while TiCDC mode is on, tidbcodec.insert_row/update_row/delete_row are
wrapped (Capture) so every row image the workloads encode into a binlog is also recorded
with its Table; Sim.publish hands the recorded changes of one transaction to TiCDC.publish_txn,
which checks their count against the binlog's mutations, turns them into TiCDC row events
(net change per key, UPDATE split, DELETEs first) and queues them with a commit_ts.  A sink
thread models TiCDC's independent table sinks: it takes what is queued, flushes the tables in
a seeded random order (a big transaction in batches of 1024 rows, other tables' rows between
the batches), and broadcasts watermarks that never pass anything still queued.  DDL jobs
come from Sim._job: the event is queued with a fresh commit_ts, and the history row is
written --ticdc-history-lag seconds after the event went out, with a later FinishedTS.

Faults (control commands, TiCDC.control and Sim._ticdc_txn_fault), the status object
(TiCDC.status) and the flags are described in tests/sim/README.md.
"""

import decimal
import json
import os
import random
import re
import struct
import threading
import time
import uuid
import zlib

import tidbcodec as codec
import tidbschema as ts

# ------------------------------------------------------------------ value formatting

_HEX = "0123456789abcdef"


def gostr(s):
    r"""A JSON string as mailru/easyjson jwriter.String writes it (HTML escaping on, the
    default, as in canal_json_row_event_encoder.go): \" \\ \n \r \t, other bytes below 0x20
    and < > & as \u00xx (lower-case hex), U+2028/U+2029 as \u2028/\u2029, the rest as is.
    Go's encoding/json (DDL and watermark messages) writes the same for what they carry."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if o < 0x80:
            if ch == '"':
                out.append('\\"')
            elif ch == "\\":
                out.append("\\\\")
            elif ch == "\n":
                out.append("\\n")
            elif ch == "\r":
                out.append("\\r")
            elif ch == "\t":
                out.append("\\t")
            elif o < 0x20 or ch in "<>&":
                out.append("\\u00" + _HEX[o >> 4] + _HEX[o & 15])
            else:
                out.append(ch)
        elif o in (0x2028, 0x2029):
            out.append("\\u%04x" % o)
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\\ufffd")          # a lone surrogate: Go sees invalid UTF-8
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _fixed(digits_repr, negative):
    """Go strconv 'f' with precision -1: the shortest digits in fixed notation, no exponent,
    no trailing '.0' (spec correction 5: DOUBLE extremes are 309..326 characters)."""
    d = decimal.Decimal(digits_repr).normalize()
    s = format(d, "f")
    if d == 0:
        s = "0"
    return ("-" + s) if negative else s


def float32_text(f):
    """strconv.FormatFloat(float64(float32), 'f', -1, 32): shortest digits that read back as
    the same float32 (canal_entry.go formatValue).  NaN/Inf became 0 in mounter.go."""
    if f != f or f in (float("inf"), float("-inf")):
        f = 0.0
    neg = struct.pack(">f", f)[0] & 0x80 != 0
    a = abs(f)
    if a == 0:
        return "-0" if neg else "0"
    want = struct.pack(">f", a)
    for p in range(1, 10):
        s = "%.*e" % (p - 1, a)
        try:
            if struct.pack(">f", float(s)) == want:
                return _fixed(s, neg)
        except OverflowError:           # rounded up past FLT_MAX: more digits
            continue
    return _fixed(repr(a), neg)


def float64_text(f):
    """strconv.FormatFloat(v, 'f', -1, 64); Python's repr gives the same shortest digits."""
    if f != f or f in (float("inf"), float("-inf")):
        f = 0.0
    neg = struct.pack(">d", f)[0] & 0x80 != 0
    a = abs(f)
    if a == 0:
        return "-0" if neg else "0"
    return _fixed(repr(a), neg)


def _frac(us, fsp):
    return ("." + ("%06d" % us)[:fsp]) if fsp > 0 else ""


def time_text(v, fsp, with_time):
    """TiDB types.Time.String(): YYYY-MM-DD[ HH:MM:SS[.fsp digits]]; zero dates kept."""
    if isinstance(v, str):                 # "0000-00-00" / "0000-00-00 00:00:00"
        return v[:10] + ((" 00:00:00" + _frac(0, fsp)) if with_time else "")
    s = "%04d-%02d-%02d" % (v.year, v.month, v.day)
    if with_time:
        s += " %02d:%02d:%02d" % (v.hour, v.minute, v.second) + _frac(v.microsecond, fsp)
    return s


def duration_text(ns, fsp):
    """TiDB types.Duration.String(): [-]HH:MM:SS[.fsp digits], hours may be 3 digits."""
    sign = "-" if ns < 0 else ""
    us_total = abs(ns) // 1000
    secs, us = divmod(us_total, 1000000)
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    return "%s%02d:%02d:%02d" % (sign, h, m, s) + _frac(us, fsp)


_DEC_CTX = decimal.Context(prec=200, Emax=999, Emin=-999)


def value_text(c, v):
    """The string canal-json carries for value v of column c (None: JSON null), per
    tiflow cdc/entry/mounter.go formatColVal and canal_entry.go formatValue, spec section 4."""
    if v is None:
        return None
    k = c.kind
    if k == "int" or k == "bit" or k == "year":
        return str(int(v))
    if k == "str":
        # TiDB stores CHAR without trailing spaces (tidbcodec.enc_value)
        return v.rstrip(" ") if c.tp == ts.TP_STRING else v
    if k == "bytes":
        return bytes(v).decode("latin-1")     # charmap.ISO8859_1 decoder: one char a byte
    if k == "decimal":
        # MyDecimal.String(): the column's scale in fraction digits (65 digits and more
        # than the default 28-digit context)
        d = decimal.Decimal(v).quantize(decimal.Decimal(1).scaleb(-max(c.decimal, 0)),
                                        context=_DEC_CTX)
        s = format(d, "f")
        return s[1:] if d == 0 and s.startswith("-") else s
    if k == "datetime" or k == "timestamp":
        return time_text(v, c.decimal, True)   # TIMESTAMP: TiCDC --tz=UTC, values are UTC
    if k == "date":
        return time_text(v, 0, False)
    if k == "time":
        return duration_text(v, c.decimal)
    if k == "float":
        return float32_text(v)
    if k == "double":
        return float64_text(v)
    if k == "enum":
        return str(c.elems.index(v) + 1)
    if k == "set":
        mask = 0
        for m in (v.split(",") if v else []):
            mask |= 1 << c.elems.index(m)
        return str(mask)
    if k == "json":
        return codec.json_text(v)
    raise ValueError("no canal-json text for kind %r" % (k,))


# pingcap/tidb pkg/parser/types TypeToStr (type2Str, blob/binary for charset binary)
_TYPE_STR = {
    ts.TP_TINY: "tinyint", ts.TP_SHORT: "smallint", ts.TP_LONG: "int", ts.TP_FLOAT: "float",
    ts.TP_DOUBLE: "double", ts.TP_TIMESTAMP: "timestamp", ts.TP_LONGLONG: "bigint",
    ts.TP_INT24: "mediumint", ts.TP_DATE: "date", ts.TP_DURATION: "time",
    ts.TP_DATETIME: "datetime", ts.TP_YEAR: "year", ts.TP_VARCHAR: "varchar", ts.TP_BIT: "bit",
    ts.TP_JSON: "json", ts.TP_NEWDECIMAL: "decimal", ts.TP_ENUM: "enum", ts.TP_SET: "set",
    ts.TP_TINY_BLOB: "tinytext", ts.TP_MEDIUM_BLOB: "mediumtext", ts.TP_LONG_BLOB: "longtext",
    ts.TP_BLOB: "text", ts.TP_STRING: "char", 0xFD: "var_string",
}


def type_to_str(c):
    s = _TYPE_STR[c.tp]
    if c.charset_collate()[0] != "binary" or c.kind != "bytes":
        return s
    if c.tp in ts.BLOB_TPS:
        return s.replace("text", "blob", 1)
    if c.tp in (ts.TP_STRING, ts.TP_VARCHAR, 0xFD):
        return s.replace("char", "binary", 1)
    return s


def mysql_type(c):
    """utils.GetMySQLType(col, false) (pkg/sink/codec/utils/mysql_types.go, field_types.go)."""
    s = type_to_str(c)
    if c.unsigned and s not in ("bit", "year"):
        s += " unsigned"
    if c.zerofill and not s.startswith("year"):
        s += " zerofill"
    return s


# internal/java.go MySQLType2JavaType, canal_entry.go getJavaSQLType
_JAVA = {
    ts.TP_TINY: -6, ts.TP_SHORT: 5, ts.TP_LONG: 4, ts.TP_FLOAT: 7, ts.TP_DOUBLE: 8,
    ts.TP_NEWDECIMAL: 3, ts.TP_TIMESTAMP: 93, ts.TP_DATETIME: 93, ts.TP_LONGLONG: -5,
    ts.TP_INT24: 4, ts.TP_DATE: 91, ts.TP_DURATION: 92, ts.TP_YEAR: 12, ts.TP_ENUM: 4,
    ts.TP_SET: -7, ts.TP_BIT: -7, ts.TP_JSON: 12,
}
_PROMOTE = {ts.TP_TINY: (127, 5), ts.TP_SHORT: (32767, 4), ts.TP_LONG: ((1 << 31) - 1, -5),
            ts.TP_LONGLONG: ((1 << 63) - 1, 3)}


def java_type(c, v):
    binary = c.kind == "bytes"
    if c.tp in ts.BLOB_TPS:
        j = 2004 if binary else 2005
    elif c.tp in (ts.TP_VARCHAR, 0xFD):
        j = 2004 if binary else 12
    elif c.tp == ts.TP_STRING:
        j = 2004 if binary else 1
    else:
        j = _JAVA[c.tp]
    if c.unsigned and v is not None and c.tp in _PROMOTE and int(v) > _PROMOTE[c.tp][0]:
        j = _PROMOTE[c.tp][1]
    return j


# ------------------------------------------------------------------ messages

# canal_entry.go convertDdlEventType, by TiDB action type
_DDL_TYPE = {
    ts.ACTION_CREATE_TABLE: "CREATE", ts.ACTION_RENAME_TABLE: "RENAME",
    ts.ACTION_RENAME_TABLES: "RENAME", ts.ACTION_ADD_INDEX: "CINDEX",
    ts.ACTION_ADD_PRIMARY_KEY: "CINDEX", ts.ACTION_DROP_INDEX: "DINDEX",
    ts.ACTION_DROP_PRIMARY_KEY: "DINDEX", ts.ACTION_ADD_COLUMN: "ALTER",
    ts.ACTION_DROP_COLUMN: "ALTER", ts.ACTION_MODIFY_COLUMN: "ALTER",
    ts.ACTION_ADD_PARTITION: "ALTER", ts.ACTION_DROP_PARTITION: "ALTER",
    ts.ACTION_MODIFY_TABLE_CHARSET: "ALTER", ts.ACTION_TRUNCATE_PARTITION: "ALTER",
    ts.ACTION_DROP_TABLE: "ERASE", ts.ACTION_TRUNCATE_TABLE: "TRUNCATE",
}


def ddl_event_type(action):
    return _DDL_TYPE.get(action, "QUERY")


def visible_columns(t):
    """The columns TiCDC emits: every column but VIRTUAL generated ones (spec section 4)."""
    return [c for c in t.columns if not c.is_virtual]


def encode_row(t, kind, before, after, commit_ts, rng, now_ms=None):
    """One row change as newJSONMessageForDML writes it (canal_json_row_event_encoder.go),
    field for field: id, database, table, pkNames, isDdl, type, es, ts, sql, sqlType (column
    order), mysqlType (a Go map: random key order), old, data, _tidb.commitTs."""
    cols = visible_columns(t)
    img = before if kind == "DELETE" else after
    if now_ms is None:
        now_ms = int(time.time() * 1000)
    # PrimaryKeyColumnNames: columns with the primary-key flag, in column order; it returns
    # an empty, non-nil slice when there are none, so "[]", never null (model/sink.go)
    pk = [c.name for c in cols if c.pk or c.nc_pk]
    out = ['{"id":0,"database":', gostr(t.db), ',"table":', gostr(t.name),
           ',"pkNames":[', ",".join(gostr(n) for n in pk), ']',
           ',"isDdl":false,"type":"', kind, '","es":', str(commit_ts >> 18),
           ',"ts":', str(now_ms), ',"sql":""']
    if cols:
        out.append(',"sqlType":{' + ",".join(gostr(c.name) + ":" + str(java_type(c, img.get(c.name)))
                                            for c in cols) + "}")
    else:
        out.append(',"sqlType":null')
    mt = [gostr(c.name) + ":" + gostr(mysql_type(c)) for c in cols]
    rng.shuffle(mt)
    out.append(',"mysqlType":{' + ",".join(mt) + "}")

    def image(row):
        if not cols:
            return "null"
        parts = []
        for c in cols:
            v = value_text(c, row.get(c.name))
            parts.append(gostr(c.name) + ":" + ("null" if v is None else gostr(v)))
        return "[{" + ",".join(parts) + "}]"

    if kind == "UPDATE":
        out.append(',"old":' + image(before) + ',"data":' + image(after))
    else:
        out.append(',"old":null,"data":' + image(img))
    out.append(',"_tidb":{"commitTs":%d}}' % commit_ts)
    return "".join(out).encode("utf-8")


def _go_json(obj):
    """encoding/json (and goccy/go-json) Marshal of the message structs: compact, < > &
    escaped, non-ASCII as UTF-8."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def encode_ddl(db, table, ev_type, query, commit_ts, now_ms=None):
    """newJSONMessageForDDL marshalled (canalJSONMessageWithTiDBExtension: JSONMessage's
    fields, nil slices and maps as null, then _tidb with commitTs; watermarkTs omitted)."""
    if now_ms is None:
        now_ms = int(time.time() * 1000)
    return _go_json({"id": 0, "database": db, "table": table, "pkNames": None, "isDdl": True,
                     "type": ev_type, "es": commit_ts >> 18, "ts": now_ms, "sql": query,
                     "sqlType": None, "mysqlType": None, "data": None, "old": None,
                     "_tidb": {"commitTs": commit_ts}}).encode("utf-8")


def encode_watermark(wm, now_ms=None):
    """newJSONMessage4CheckpointEvent marshalled: type TIDB_WATERMARK, _tidb.watermarkTs."""
    if now_ms is None:
        now_ms = int(time.time() * 1000)
    return _go_json({"id": 0, "database": "", "table": "", "pkNames": None, "isDdl": False,
                     "type": "TIDB_WATERMARK", "es": wm >> 18, "ts": now_ms, "sql": "",
                     "sqlType": None, "mysqlType": None, "data": None, "old": None,
                     "_tidb": {"watermarkTs": wm}}).encode("utf-8")


_TS_FIELD = re.compile(rb',"ts":\d+,')


def reencode_ts(msg, now_ms=None):
    """A re-sent message as a restarted TiCDC encodes it again: a new `ts` (build time)."""
    if now_ms is None:
        now_ms = int(time.time() * 1000)
    return _TS_FIELD.sub(b',"ts":%d,' % now_ms, msg, count=1)


def table_partition(db, table, n):
    """The default (table) dispatcher: crc32-IEEE over schema then table name, xor 0, mod
    the partition count (tiflow cdc/sink/dmlsink/mq/dispatcher/partition/table.go and
    pkg/hash/position_inertia.go; spec correction 4)."""
    return zlib.crc32((db + table).encode("utf-8")) % n


# ------------------------------------------------------------------ storage sink helpers

# pingcap/tidb pkg/parser/mysql GetDefaultFieldLengthAndDecimal
_DEFAULT_FLEN_DEC = {
    ts.TP_TINY: (4, 0), ts.TP_SHORT: (6, 0), ts.TP_LONG: (11, 0), ts.TP_FLOAT: (12, -1),
    ts.TP_DOUBLE: (22, -1), ts.TP_TIMESTAMP: (19, 0), ts.TP_LONGLONG: (20, 0),
    ts.TP_INT24: (9, 0), ts.TP_DATE: (10, 0), ts.TP_DURATION: (10, 0), ts.TP_DATETIME: (19, 0),
    ts.TP_YEAR: (4, 0), ts.TP_VARCHAR: (5, 0), ts.TP_BIT: (1, 0), ts.TP_JSON: (-1, 0),
    ts.TP_NEWDECIMAL: (10, 0), ts.TP_ENUM: (-1, 0), ts.TP_SET: (-1, 0),
    ts.TP_TINY_BLOB: (255, 0), ts.TP_MEDIUM_BLOB: (16777215, 0),
    ts.TP_LONG_BLOB: (4294967295, 0), ts.TP_BLOB: (65535, 0), ts.TP_STRING: (1, 0),
}


def table_col(c):
    """TableCol.FromTiColumnInfo (pkg/sink/cloudstorage/table_definition.go), without the
    column id (output-column-id is off by default); omitempty fields left out."""
    dflen, ddec = _DEFAULT_FLEN_DEC.get(c.tp, (-1, 0))
    flen = dflen if c.flen == -1 else c.flen
    dec = ddec if c.decimal == -1 else c.decimal
    dec_not_default = c.decimal != ddec and c.decimal != 0 and c.decimal != -1
    flag = c.flag()
    col = {"ColumnName": c.name, "ColumnType": type_to_str(c).upper()
           + (" UNSIGNED" if flag & ts.UNSIGNED_FLAG else "")}
    dflt = c.default_json()
    if dflt is not None:
        col["ColumnDefault"] = dflt
    if c.tp in (ts.TP_TIMESTAMP, ts.TP_DATETIME, ts.TP_DURATION):
        if dec_not_default:
            col["ColumnScale"] = str(dec)
    elif c.tp in (ts.TP_DOUBLE, ts.TP_FLOAT):
        col["ColumnPrecision"] = str(flen)
        if dec_not_default:
            col["ColumnScale"] = str(dec)
    elif c.tp == ts.TP_NEWDECIMAL:
        col["ColumnPrecision"] = str(flen)
        col["ColumnScale"] = str(dec)
    elif c.tp in (ts.TP_TINY, ts.TP_SHORT, ts.TP_INT24, ts.TP_LONG, ts.TP_LONGLONG, ts.TP_BIT,
                  ts.TP_VARCHAR, ts.TP_STRING, 0xFD, ts.TP_BLOB, ts.TP_TINY_BLOB,
                  ts.TP_MEDIUM_BLOB, ts.TP_LONG_BLOB, ts.TP_YEAR):
        col["ColumnPrecision"] = str(flen)
    if not flag & ts.PRI_KEY_FLAG and not flag & ts.NOT_NULL_FLAG:
        pass
    if flag & ts.NOT_NULL_FLAG:
        col["ColumnNullable"] = "false"
    if flag & ts.PRI_KEY_FLAG:
        col["ColumnIsPk"] = "true"
    # field order of the struct: Name, Type, Default, Precision, Scale, Nullable, IsPk
    order = ["ColumnName", "ColumnType", "ColumnDefault", "ColumnPrecision", "ColumnScale",
             "ColumnNullable", "ColumnIsPk"]
    return {k: col[k] for k in order if k in col}


def _go_indent(obj):
    """json.MarshalIndent(v, "", "    ") of encoding/json."""
    s = json.dumps(obj, ensure_ascii=False, indent=4, separators=(",", ": "))
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def table_definition(db, table, columns, table_version, query, action):
    """(schema file bytes, checksum) for one table version: TableDefinition.MarshalWithQuery
    and Sum32 (crc32 of marshalWithoutQuery: Table, Schema, a zero Version, the columns sorted
    by name, TableColumnsTotal; spec correction 2).  columns: tidbschema Columns or None for
    a database-level DDL."""
    cols = None if columns is None else [table_col(c) for c in columns]
    total = 0 if cols is None else len(cols)
    full = {"Table": table, "Schema": db, "Version": 1, "TableVersion": table_version,
            "Query": query, "Type": action, "TableColumns": cols, "TableColumnsTotal": total}
    sorted_cols = None if cols is None else sorted(cols, key=lambda c: c["ColumnName"].encode())
    bare = {"Table": table, "Schema": db, "Version": 0, "TableColumns": sorted_cols,
            "TableColumnsTotal": total}
    checksum = zlib.crc32(_go_indent(bare).encode("utf-8"))
    return _go_indent(full).encode("utf-8"), checksum


def schema_file_path(db, table, table_version, checksum):
    """generateSchemaFilePath (pkg/sink/cloudstorage/path.go): schema_%d_%010d.json."""
    name = "schema_%d_%010d.json" % (table_version, checksum)
    return os.path.join(db, "meta", name) if not table else os.path.join(db, table, "meta", name)


def write_file(root, rel, data):
    """BR LocalStorage.WriteFile: name.tmp.<uuid>, then rename."""
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = "%s.tmp.%s" % (path, uuid.uuid4())
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


# ------------------------------------------------------------------ capture

class Capture:
    """Wraps tidbcodec's row encoders so every row image a workload puts into a binlog is
    also recorded: (op, table, before, after, rowid), row dicts copied."""

    def __init__(self):
        self.ops = []
        self.lock = threading.Lock()
        self.orig = (codec.insert_row, codec.update_row, codec.delete_row)
        ins, upd, dele = self.orig

        def insert_row(table, row, rowid=0):
            self._add("insert", table, None, row, rowid)
            return ins(table, row, rowid)

        def update_row(table, before, after, rowid=0):
            self._add("update", table, before, after, rowid)
            return upd(table, before, after, rowid)

        def delete_row(table, row, rowid=0):
            self._add("delete", table, row, None, rowid)
            return dele(table, row, rowid)

        codec.insert_row, codec.update_row, codec.delete_row = insert_row, update_row, delete_row

    def _add(self, op, table, before, after, rowid):
        with self.lock:
            self.ops.append((op, table, None if before is None else dict(before),
                             None if after is None else dict(after), rowid))

    def take(self):
        with self.lock:
            ops, self.ops = self.ops, []
        return ops

    def close(self):
        codec.insert_row, codec.update_row, codec.delete_row = self.orig


def _key(t, row, rowid):
    if t.pk_cols:
        return tuple(row[c.name] for c in t.pk_cols)
    return ("_tidb_rowid", rowid)


def _handle_key_cols(t):
    """Columns whose change turns an UPDATE into DELETE + INSERT (spec 1.2): the primary key,
    else every column of a NOT NULL unique key."""
    if t.pk_cols or t.nc_pk:
        return [c.name for c in t.pk_cols] + list(t.nc_pk)
    return [n for n in t.uniques if not t.col(n).nullable]


def row_events(ops):
    """TiCDC's row events of one transaction from the recorded statement-level changes:
    the net change per (table, key) (a key written several times appears once), UPDATEs
    that change the primary key or a NOT NULL unique key split into DELETE + INSERT, and
    all DELETEs before the other events (spec 1.2; tiflow trySplitAndSortUpdateEvent).
    Returns [(table, kind, before, after)]."""
    net = {}               # (table id, key) -> [table, pre image, final image]
    order = []
    for op, t, before, after, rowid in ops:
        if op == "update" and _key(t, before, rowid) != _key(t, after, rowid):
            steps = [("delete", before, None), ("insert", None, after)]
        else:
            steps = [(op, before, after)]
        for sop, b, a in steps:
            k = (id(t), _key(t, a if sop == "insert" else b, rowid))
            e = net.get(k)
            if e is None:
                e = net[k] = [t, b if sop != "insert" else None, None]
                order.append(k)
            e[2] = a if sop != "delete" else None
    out = []
    for k in order:
        t, pre, post = net[k]
        if pre is None and post is None:
            continue
        if pre is None:
            out.append((t, "INSERT", None, post))
        elif post is None:
            out.append((t, "DELETE", pre, None))
        else:
            hk = _handle_key_cols(t)
            if any(pre.get(n) != post.get(n) for n in hk):
                out.append((t, "DELETE", pre, None))
                out.append((t, "INSERT", None, post))
            else:
                out.append((t, "UPDATE", pre, post))
    out.sort(key=lambda e: 0 if e[1] == "DELETE" else 1)     # stable
    return out


def physical_id(t, row):
    """The partition's physical table id of a row of a partitioned table, else None."""
    p = t.partition
    if not p:
        return None
    if p["type"] == ts.PARTITION_HASH:
        return p["defs"][int(row[p["col"]]) % len(p["defs"])][1]
    name = t.partition_of(row)
    return next(d[1] for d in p["defs"] if d[0] == name)


# ------------------------------------------------------------------ the sink side

class Ev:
    """One queued change: a row message or a DDL."""
    __slots__ = ("kind", "commit_ts", "tkey", "msg", "partition", "txn", "nrows_txn", "done",
                 "ddl", "dirkey")

    def __init__(self, kind, commit_ts, msg, tkey=None, partition=None, txn=0, done=None,
                 ddl=None, dirkey=None):
        self.kind = kind            # "row" or "ddl"
        self.commit_ts = commit_ts
        self.msg = msg              # canal-json bytes (no terminator)
        self.tkey = tkey            # (db, table) of a row
        self.partition = partition  # Kafka partition
        self.txn = txn              # transaction sequence number
        self.nrows_txn = 0          # rows of this table in the transaction
        self.done = done            # threading.Event set once produced (DDL)
        self.ddl = ddl              # storage: (db, table, columns, action, query)
        self.dirkey = dirkey        # storage: (db, table, physical id) of a row


class KafkaOut:
    """Produces to explicit partitions; keeps what was sent per partition (for replays),
    holds a lagging partition's messages back, counts what left and learns each
    partition's last offset from the delivery reports."""

    def __init__(self, bootstrap, topic, log, compression="none"):
        import confluent_kafka
        self.topic = topic
        # one request in flight: per-partition order survives retries; compression: the
        # sink URI's `compression` (TiCDC's default none), per batch as the broker stores it
        self.producer = confluent_kafka.Producer({
            "bootstrap.servers": bootstrap, "linger.ms": 2,
            "max.in.flight.requests.per.connection": 1, "message.max.bytes": 16 << 20,
            "compression.type": compression, "log_level": 3})
        md = self.producer.list_topics(topic, timeout=15)
        tm = md.topics.get(topic)
        if tm is None or tm.error is not None or not tm.partitions:
            raise RuntimeError("topic %s: no metadata (%r)" % (topic, tm and tm.error))
        self.partitions = len(tm.partitions)
        self.sent = [[] for _ in range(self.partitions)]    # (kind, commit_ts, msg)
        self.stats = [{"partition": p, "last_offset": -1, "messages": 0, "rows": 0, "ddls": 0,
                       "watermarks": 0, "faults": 0, "resent": 0, "held": 0,
                       "last_commit_ts": 0, "last_watermark": 0}
                      for p in range(self.partitions)]
        self.held = {}                                      # partition -> [(kind, cts, msg, resent)]
        self.held_until = {}
        self.errors = []
        self.give_up_at = None                              # closing: stop waiting then
        self.log = log

    @property
    def counts(self):
        return [st["messages"] for st in self.stats]

    def produce(self, p, kind, commit_ts, msg, record=True, offsets=None):
        """kind: row, ddl, wm (commit_ts: the watermark) or raw (a fault's message);
        record=False: a re-send (redeliver, replay) that later replays do not repeat;
        offsets: a list that gets the message's offset once delivered (not while held)."""
        if record:
            self.sent[p].append((kind, commit_ts, msg))
        if p in self.held_until:
            self.held[p].append((kind, commit_ts, msg, not record))
            self.stats[p]["held"] += 1
            return
        self._send(p, kind, commit_ts, msg, not record, offsets)

    def _on_delivery(self, err, m):
        if err is not None:
            self.errors.append(str(err))
            return
        st = self.stats[m.partition()]
        st["last_offset"] = max(st["last_offset"], m.offset())

    def _send(self, p, kind, commit_ts, msg, resent=False, offsets=None):
        cb = self._on_delivery
        if offsets is not None:
            def cb(err, m):
                self._on_delivery(err, m)
                if err is None:
                    offsets.append(m.offset())
        while True:
            try:
                self.producer.produce(self.topic, value=msg, partition=p, on_delivery=cb)
                break
            except BufferError:
                self.producer.poll(0.05)
        st = self.stats[p]
        st["messages"] += 1
        if resent:
            st["resent"] += 1
        if kind == "row":
            st["rows"] += 1
        elif kind == "ddl":
            st["ddls"] += 1
        elif kind == "wm":
            st["watermarks"] += 1
            st["last_watermark"] = max(st["last_watermark"], commit_ts)
        else:
            st["faults"] += 1
        if kind in ("row", "ddl"):
            st["last_commit_ts"] = max(st["last_commit_ts"], commit_ts)
        self.producer.poll(0)

    def hold(self, p, seconds):
        self.held_until[p] = time.monotonic() + seconds
        self.held.setdefault(p, [])

    def release_due(self, force=False):
        now = time.monotonic()
        for p in list(self.held_until):
            if force or now >= self.held_until[p]:
                msgs = self.held.pop(p)
                del self.held_until[p]
                self.stats[p]["held"] = 0
                for kind, cts, m, resent in msgs:
                    self._send(p, kind, cts, m, resent)
                self.log("ticdc: partition %d lag over, %d messages delivered" % (p, len(msgs)))

    def flush(self, timeout=30.0):
        end = time.monotonic() + timeout
        while True:
            left = self.producer.flush(0.2)
            if not left:
                break
            now = time.monotonic()
            if now > end or (self.give_up_at is not None and now > self.give_up_at):
                raise RuntimeError("ticdc: %d messages not delivered" % left)
        if self.errors:
            errs, self.errors = self.errors, []
            raise RuntimeError("ticdc: delivery failed: %s" % "; ".join(errs[:5]))


class StorageOut:
    """The storage sink on a local directory (spec 2.1, 2.2)."""

    def __init__(self, root, layout, date_sep, log):
        self.root = root
        self.layout = layout
        self.date_sep = date_sep
        self.file_idx = {}          # data dir -> last file number
        self.versions = {}          # (db, table) -> TableVersion (the last DDL's commit_ts)
        self.written = []           # (commit_ts, version dir, msg) of every row written
        self.files = 0
        self.rows = 0
        self.schema_files = 0
        self.checkpoint = 0
        self.log = log
        os.makedirs(root, exist_ok=True)

    def date_str(self):
        """path.go GenerateDateStr: the writer's clock at flush time, local time zone."""
        lt = time.localtime()
        return {"year": time.strftime("%Y", lt), "month": time.strftime("%Y-%m", lt),
                "day": time.strftime("%Y-%m-%d", lt)}.get(self.date_sep, "")

    def version_dir(self, dirkey):
        """<schema>/<table>/<TableVersion>[/<physical table id>] (generateDataDirPath)."""
        db, table, phys = dirkey
        parts = [db, table, str(self.versions.get((db, table), 0))]
        if phys is not None:
            parts.append(str(phys))
        return os.path.join(*parts)

    def write_rows(self, dirkey, rows, vdir=None):
        """One data file for a table's rows (transaction atomicity table: a flush never cuts
        a transaction) plus its index file, in the layout's order.  vdir: the version
        directory (a replay after a restart writes where the rows first went)."""
        vdir = vdir or self.version_dir(dirkey)
        date = self.date_str()
        d = os.path.join(vdir, date) if date else vdir
        n = self.file_idx.get(d, 0) + 1            # a new date directory starts at 1
        self.file_idx[d] = n
        name = "CDC%020d.json" % n                  # file-index-width 20 (config/sink.go)
        body = b"".join(m + b"\r\n" for _, m in rows)  # terminator CRLF
        index = os.path.join(d, "meta", "CDC.index")
        if self.layout == "classic":
            write_file(self.root, index, (name + "\n").encode())     # dml_worker.go
            write_file(self.root, os.path.join(d, name), body)
        else:
            write_file(self.root, os.path.join(d, name), body)       # ticdc writer.go
            write_file(self.root, index, (name + "\n").encode())
        self.files += 1
        self.rows += len(rows)
        for cts, m in rows:
            self.written.append((cts, vdir, m))

    def write_ddl(self, commit_ts, db, table, columns, action, query):
        """A table's new version (TableVersion = the DDL event's commit_ts, FromDDLEvent) or
        a database-level schema file."""
        if table:
            self.versions[(db, table)] = commit_ts
        data, crc = table_definition(db, table, columns, commit_ts, query, action)
        write_file(self.root, schema_file_path(db, table, commit_ts, crc), data)
        self.schema_files += 1

    def write_checkpoint(self, wm):
        """metadata: {"checkpoint-ts":W} (json.Marshal of a map, compact)."""
        write_file(self.root, "metadata", json.dumps({"checkpoint-ts": wm},
                                                     separators=(",", ":")).encode())
        self.checkpoint = wm


class TiCDC:
    """TiCDC between the simulator's workload and Kafka or a storage directory."""

    def __init__(self, sim, args, log):
        self.sim = sim
        self.args = args
        self.log = log
        self.rng = random.Random((args.seed << 8) ^ 0x71CDC)     # the sink's choices
        self.map_rng = random.Random(args.seed ^ 0x5EED)         # Go map order
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.queue = []                 # Ev, commit_ts order
        self.requests = []              # (fn, args, threading.Event, [result])
        self.capture = Capture()
        self.txn_seq = 0
        self.dml_txns = 0
        self.rows = 0                   # row events queued
        self.ddls = 0                   # DDL events queued
        self.last_txn = None            # (commit_ts, set of table keys) of the last DML txn
        self.last_wm = 0
        self.wm_history = []            # every watermark (checkpoint) emitted, ascending
        self.wm_paused = False
        self.drain_held = False         # big-txn: its followers are queued with it first
        self.max_row_ts = 0             # highest commit_ts of a row produced
        self.want_shared = False        # --ticdc-shared-ts-every: the next disjoint txn shares
        self.shared = []                # commit_ts values two transactions share
        self.restarts = []              # {"from_ts", "resent", "exact"}
        self.faults = []                # {"cmd", "partition", "offset", "commit_ts"}
        self.stopping = threading.Event()
        self.kafka = self.storage = None
        if args.ticdc_kafka:
            self.kafka = KafkaOut(args.ticdc_kafka, args.ticdc_topic, log,
                                  args.ticdc_kafka_compression)
            log("ticdc: kafka %s topic %s, %d partitions, dispatch %s"
                % (args.ticdc_kafka, args.ticdc_topic, self.kafka.partitions, args.ticdc_dispatch))
        else:
            self.storage = StorageOut(args.ticdc_storage, args.ticdc_storage_layout,
                                      args.ticdc_date_separator, log)
            log("ticdc: storage %s (%s layout)" % (args.ticdc_storage, args.ticdc_storage_layout))
        self.thread = threading.Thread(target=self.run, daemon=True, name="ticdc-sink")
        self.thread.start()

    # ---- the workload side (Sim.publish, Sim._job)

    def partition_of(self, db, table, commit_ts):
        n = self.kafka.partitions
        if self.args.ticdc_dispatch == "ts":
            return commit_ts % n        # dispatcher/partition/ts.go
        return table_partition(db, table, n)

    def publish_txn(self, make_binlog, pb):
        """One DML transaction (its truth commit is done): its recorded row changes go to the
        queue with the next commit TSO (or the previous one, --ticdc-shared-ts-every)."""
        ops = self.capture.take()
        b = make_binlog(0)
        want = sum(len(m.sequence) for m in pb.PrewriteValue.FromString(b.prewrite_value).mutations)
        if want != len(ops):
            raise RuntimeError("ticdc: %d row changes recorded, the binlog has %d" % (len(ops), want))
        events = row_events(ops)
        tables = {(t.db, t.name) for t, _, _, _ in events}
        sim = self.sim
        with self.cond:
            self.dml_txns += 1
            every = self.args.ticdc_shared_ts_every
            if every and self.dml_txns % every == 0:
                self.want_shared = True
            commit_ts = None
            # The previous transaction's commit_ts again (async commit / 1PC compute
            # commit_ts instead of asking PD, spec 1.2), if that is possible: other tables
            # (so no common key), nothing else committed since, no watermark at or above it.
            if (self.want_shared and self.last_txn is not None and not (tables & self.last_txn[1])
                    and self.last_txn[0] > self.last_wm
                    and self.last_txn[0] == sim.last_commit_ts):
                commit_ts = self.last_txn[0]
                self.shared.append(commit_ts)
                self.want_shared = False
            if commit_ts is None:
                commit_ts = sim.tso.next()
            self.txn_seq += 1
            per_table = {}
            for t, kind, before, after in events:
                per_table[(t.db, t.name)] = per_table.get((t.db, t.name), 0) + 1
            evs = []
            for t, kind, before, after in events:
                msg = encode_row(t, kind, before, after, commit_ts, self.map_rng)
                img = before if kind == "DELETE" else after
                ev = Ev("row", commit_ts, msg, tkey=(t.db, t.name), txn=self.txn_seq,
                        dirkey=(t.db, t.name, physical_id(t, img)))
                ev.nrows_txn = per_table[(t.db, t.name)]
                if self.kafka is not None:
                    ev.partition = self.partition_of(t.db, t.name, commit_ts)
                evs.append(ev)
            self.queue.extend(evs)
            self.rows += len(evs)
            # every table written at this commit_ts: a third transaction sharing it must
            # avoid them all, not only the last one's
            if self.last_txn is not None and self.last_txn[0] == commit_ts:
                tables = tables | self.last_txn[1]
            self.last_txn = (commit_ts, tables)
            sim.last_commit_ts = max(sim.last_commit_ts, commit_ts)
            self.cond.notify_all()
        return commit_ts

    def publish_ddl(self, action, query, db, table_name, insert_history, columns, renames=None):
        """One finished DDL job: its event (commit_ts below the history row's FinishedTS,
        spec correction 1) goes out on partition 0 once everything before it is out; the
        history row is written --ticdc-history-lag seconds after that, with a fresh TSO as
        FinishedTS.  renames: [(old db, old name, new db, new name)] for RENAME TABLES, which
        TiCDC splits into one event per table."""
        done = threading.Event()
        with self.cond:
            commit_ts = self.sim.tso.next()
            parts = renames or [(None, None, db, table_name)]
            for odb, oname, ndb, nname in parts:
                q = query if renames is None else \
                    "RENAME TABLE `%s`.`%s` TO `%s`.`%s`" % (odb, oname, ndb, nname)
                tname = nname or ""
                msg = encode_ddl(ndb, tname, ddl_event_type(action), q, commit_ts)
                self.queue.append(Ev("ddl", commit_ts, msg, partition=0, txn=0,
                                     ddl=(ndb, tname, columns if renames is None else
                                          self._columns_of(ndb, nname), action, q)))
                self.ddls += 1
            self.queue[-1].done = done
            self.last_txn = None
            self.sim.last_commit_ts = max(self.sim.last_commit_ts, commit_ts)
            self.cond.notify_all()
        if not done.wait(60):
            raise RuntimeError("ticdc: DDL at %d never produced" % commit_ts)
        if self.args.ticdc_history_lag > 0:
            time.sleep(self.args.ticdc_history_lag)
        insert_history(self.sim.tso.next())
        return commit_ts

    def _columns_of(self, db, name):
        t = next((t for t in self.sim.tables if t.db == db and t.name == name), None)
        return None if t is None else list(t.columns)

    def hold_drain(self, on):
        """big-txn: while on, queued rows stay queued (watermarks stay below them), so the
        transactions that follow the big one go out with it, between its batches."""
        with self.cond:
            self.drain_held = on
            self.cond.notify_all()

    # ---- the sink thread

    def run(self):
        interval = self.args.ticdc_watermark_interval
        flush_iv = self.args.ticdc_flush_interval if self.storage is not None else 0.01
        next_wm = time.monotonic() + interval
        next_flush = time.monotonic() + flush_iv
        while not self.stopping.is_set():
            try:
                with self.cond:
                    has_ddl = any(e.kind == "ddl" for e in self.queue)
                    if not (self.requests or (has_ddl and not self.drain_held)):
                        wait = min(next_wm, next_flush) - time.monotonic()
                        if wait > 0:
                            self.cond.wait(wait)
                    reqs, self.requests = self.requests, []
                    held = self.drain_held
                now = time.monotonic()
                if not held and (now >= next_flush or self._ddl_queued()):
                    self.drain()
                    next_flush = now + flush_iv
                if self.kafka is not None:
                    self.kafka.release_due()
                for fn, fargs, ev, res in reqs:
                    try:
                        res.append(fn(*fargs))
                    except Exception as e:  # noqa: BLE001 - reported to the control file
                        res.append(e)
                    ev.set()
                if time.monotonic() >= next_wm:
                    self.watermark()
                    next_wm = time.monotonic() + interval
            except Exception as e:  # noqa: BLE001
                self.log("ticdc: sink error: %r" % (e,))
                import traceback
                traceback.print_exc()
                time.sleep(0.5)

    def _ddl_queued(self):
        with self.lock:
            return any(e.kind == "ddl" for e in self.queue)

    def drain(self):
        """Everything queued now goes out: rows up to each DDL as a set of table flushes in
        random order, then the DDL alone (a DDL waits for every earlier row: the DDL sink
        runs once the table sinks reached its commit_ts)."""
        with self.lock:
            batch, self.queue = self.queue, []
        rows = []
        for e in batch:
            if e.kind == "ddl":
                self.emit_rows(rows)
                rows = []
                self.emit_ddl(e)
            else:
                rows.append(e)
        self.emit_rows(rows)

    def emit_rows(self, evs):
        if not evs:
            return
        if self.storage is not None:
            by_dir = {}
            for e in evs:
                by_dir.setdefault(e.dirkey, []).append((e.commit_ts, e.msg))
            keys = list(by_dir)
            self.rng.shuffle(keys)
            for k in keys:
                self.storage.write_rows(k, by_dir[k])
            self.max_row_ts = max(self.max_row_ts, max(e.commit_ts for e in evs))
            return
        # Kafka: per-table chunks (a transaction; 1024-row batches of a bigger one: the
        # default transaction-atomicity none splits those, spec 1.2), merged in random table
        # order, each table's chunks in order, a split transaction's batches never back to
        # back while other tables have chunks (their table sinks run in between).
        chunks = {}
        for e in evs:
            lst = chunks.setdefault(e.tkey, [])
            if (not lst or lst[-1][-1].txn != e.txn
                    or (e.nrows_txn > 1024 and len(lst[-1]) >= 1024)):
                lst.append([e])
            else:
                lst[-1].append(e)
        order = list(chunks)
        self.rng.shuffle(order)
        split = [k for k in order if len(chunks[k]) > 1 and chunks[k][0][0].txn == chunks[k][1][0].txn]
        last_split = None          # a table whose split transaction has batches left
        first = True
        while order:
            if first and split:
                k = split[0]
            else:
                cands = [k for k in order if k != last_split] or order
                if last_split is not None:
                    # between two batches: a table of the same partition if there is one
                    p = chunks[last_split][0][0].partition
                    cands = [k for k in cands if chunks[k][0][0].partition == p] or cands
                k = self.rng.choice(cands)
            first = False
            chunk = chunks[k].pop(0)
            for e in chunk:
                self.kafka.produce(e.partition, "row", e.commit_ts, e.msg)
            self.max_row_ts = max(self.max_row_ts, chunk[-1].commit_ts)
            rest = chunks[k]
            last_split = k if rest and rest[0][0].txn == chunk[0].txn else None
            if not rest:
                order.remove(k)
        self.kafka.flush()

    def emit_ddl(self, e):
        if self.storage is not None:
            db, table, cols, action, query = e.ddl
            self.storage.write_ddl(e.commit_ts, db, table, cols, action, query)
        else:
            self.kafka.produce(0, "ddl", e.commit_ts, e.msg)      # mq_ddl_sink.go PartitionZero
            self.kafka.flush()
        if e.done is not None:
            e.done.set()

    def watermark(self, force=False):
        """A watermark W below every commit_ts still queued (so every row and DDL with
        commit_ts <= W is out), to every partition / the metadata file."""
        if self.wm_paused and not force:
            return
        with self.lock:
            if self.queue:
                wm = self.queue[0].commit_ts - 1
            else:
                wm = self.sim.tso.next()
            if wm <= self.last_wm:
                return
            self.last_wm = wm
            self.wm_history.append(wm)
        if self.storage is not None:
            self.storage.write_checkpoint(wm)
            return
        self._broadcast(wm)

    def _broadcast(self, wm, record=True):
        msg = encode_watermark(wm)
        for p in range(self.kafka.partitions):
            self.kafka.produce(p, "wm", wm, msg, record=record)
        self.kafka.flush()

    # ---- faults (control commands)

    def _in_sink(self, fn, *fargs, timeout=60):
        ev = threading.Event()
        res = []
        with self.cond:
            self.requests.append((fn, fargs, ev, res))
            self.cond.notify_all()
        if not ev.wait(timeout):
            raise RuntimeError("ticdc: request timed out")
        if isinstance(res[0], Exception):
            raise res[0]
        return res[0]

    def _need_kafka(self, cmd):
        if self.kafka is None:
            raise RuntimeError("%s needs --ticdc-kafka" % cmd)

    def _partition(self, words, i=1):
        if len(words) <= i:
            raise RuntimeError("%s needs a partition" % words[0])
        p = int(words[i])
        if not 0 <= p < self.kafka.partitions:
            raise RuntimeError("no partition %d" % p)
        return p

    def _redeliver(self, p, n):
        """The last n messages of partition p again, as they were (a producer retry after
        a lost acknowledgement: at-least-once)."""
        sent = self.kafka.sent[p][-n:] if n > 0 else []
        offs = []
        for kind, cts, msg in sent:
            self.kafka.produce(p, kind, cts, msg, record=False, offsets=offs)
        self.kafka.flush()
        return "%d %d" % (len(sent), min(offs) if offs else -1)

    def default_restart_ts(self):
        """The checkpoint a restarted changefeed resumes from when none is given: it trails
        the watermarks (the owner persists it after the sinks flushed), so the watermark
        emitted five watermarks ago, or 0 (everything) early in the run."""
        with self.lock:
            h = self.wm_history
            return h[-5] if len(h) >= 5 else 0

    def _restart(self, from_ts, exact=False):
        """A TiCDC restart from checkpoint from_ts.  Kafka: the new owner's first checkpoint
        (a watermark at from_ts, below the ones already sent: watermarks restart), then per
        partition every row, DDL and watermark above from_ts again in the order first sent
        (re-encoded: a new `ts`).  Storage: the rows above from_ts again in new files (the
        next file numbers) in the directories they first went to.  Then a fresh watermark."""
        n = 0
        if self.storage is not None:
            by_dir = {}
            for c, vdir, m in self.storage.written:
                if c > from_ts:
                    by_dir.setdefault(vdir, []).append((c, m))
            for vdir, rows in by_dir.items():
                self.storage.write_rows(None, rows, vdir=vdir)
                n += len(rows)
            self.storage.written = self.storage.written[:len(self.storage.written) - n]
        else:
            self._broadcast(from_ts, record=False)
            for p in range(self.kafka.partitions):
                for kind, cts, msg in list(self.kafka.sent[p]):
                    if kind in ("row", "ddl", "wm") and cts > from_ts:
                        self.kafka.produce(p, kind, cts, reencode_ts(msg), record=False)
                        n += 1
            self.kafka.flush()
        self.restarts.append({"from_ts": from_ts, "resent": n, "exact": exact})
        self.log("ticdc: restarted from %d, %d messages again" % (from_ts, n))
        self.watermark(force=True)
        return n

    def _restart_exact(self):
        """Wait until a row above the last watermark is out (watermarks held), then restart
        from just below the highest commit_ts sent: each stream's replay starts exactly at
        its last pending commit_ts and does not go backwards (spec correction 3)."""
        self.wm_paused = True
        try:
            deadline = time.monotonic() + 20
            self.drain()
            while self.max_row_ts <= self.last_wm:
                if time.monotonic() > deadline:
                    raise RuntimeError("no row above the last watermark to restart at "
                                       "(is the workload running?)")
                time.sleep(0.02)
                self.drain()
            at = self.max_row_ts
            n = self._restart(at - 1, exact=True)
            return "%d %d" % (at, n)
        finally:
            self.wm_paused = False

    def _emit_fault(self, cmd, p, make):
        """A fault's message on partition p, after everything queued so far; make(commit_ts)
        builds it.  Returns "<offset> <commit_ts>" (offset -1 while p lags)."""
        self.drain()
        cts = self.sim.tso.next()        # above every watermark so far: the relay holds it
        offs = []
        self.kafka.produce(p, "raw", cts, make(cts), offsets=offs)
        self.kafka.flush()
        off = offs[0] if offs else -1
        self.faults.append({"cmd": cmd, "partition": p, "offset": off, "commit_ts": cts})
        return "%d %d" % (off, cts)

    def _unknown_table_row(self, cts):
        t = ts.Table(self.args.db, "t_cdc_unknown", [ts.c_int("id", pk=True),
                                                     ts.c_varchar("v", 20)])
        return encode_row(t, "INSERT", None, {"id": 1, "v": "x"}, cts, self.map_rng)

    def _type_mismatch_row(self, cts):
        """An INSERT into a known table whose INT column's mysqlType (and sqlType) say
        varchar while the history says int; the value still reads as an int, so only the
        types give it away.  Not in the truth."""
        for t in list(self.sim.tables):
            if t.name.startswith("t_cdc_") or not t.pk_is_handle:
                continue
            col = next((c for c in visible_columns(t) if c.kind == "int" and not c.pk
                        and c.tp == ts.TP_LONG and not c.unsigned), None)
            if col is not None:
                break
        else:
            raise RuntimeError("no table with a signed INT column besides the key")
        st = self.sim.state[t.id]
        gen = type(self.sim.gen)(random.Random(cts))
        row = {}
        for c in t.columns:
            row[c.name] = gen.value(c) if c.in_writable_state else c.default
        pk = t.pk
        row[pk.name] = max([k for k in st.rows if isinstance(k, int)] + [0]) + 1000003
        row[col.name] = 42
        t.fill_generated(row)
        msg = encode_row(t, "INSERT", None, row, cts, self.map_rng)
        name = gostr(col.name).encode()
        msg = msg.replace(name + b':"int"', name + b':"varchar"', 1)
        msg = msg.replace(name + b":4,", name + b":12,", 1).replace(name + b":4}", name + b":12}", 1)
        return msg

    def control(self, words):
        """The TiCDC control commands (README); returns the answer text or None."""
        cmd = words[0]
        if cmd == "redeliver":
            self._need_kafka(cmd)
            return self._in_sink(self._redeliver, self._partition(words), int(words[2]))
        if cmd == "ticdc-restart":
            from_ts = int(words[1]) if len(words) > 1 else self.default_restart_ts()
            n = self._in_sink(self._restart, from_ts)
            return "%d %d" % (from_ts, n)
        if cmd == "ticdc-restart-exact":
            return self._in_sink(self._restart_exact, timeout=60)
        if cmd == "lag":
            self._need_kafka(cmd)
            p = self._partition(words)
            secs = float(words[2])
            self._in_sink(lambda: self.kafka.hold(p, secs))
            return None
        if cmd == "garbage":
            self._need_kafka(cmd)
            return self._in_sink(self._emit_fault, cmd, self._partition(words),
                                 lambda cts: b"\x00\x01not canal-json {\"id\":")
        if cmd == "unknown-table":
            self._need_kafka(cmd)
            return self._in_sink(self._emit_fault, cmd, self._partition(words),
                                 self._unknown_table_row)
        if cmd == "type-mismatch":
            self._need_kafka(cmd)
            return self._in_sink(self._emit_fault, cmd, self._partition(words),
                                 self._type_mismatch_row)
        raise RuntimeError("unknown TiCDC command %r" % cmd)

    def status(self):
        with self.lock:
            st = {"sink": "kafka" if self.kafka is not None else "storage",
                  "bootstrap": self.args.ticdc_kafka or None,
                  "topic": self.args.ticdc_topic or None,
                  "compression": self.args.ticdc_kafka_compression if self.kafka else None,
                  "dispatch": self.args.ticdc_dispatch,
                  "partitions": self.kafka.partitions if self.kafka else 0,
                  "partition": [dict(x) for x in self.kafka.stats] if self.kafka else [],
                  "txns": self.dml_txns, "rows": self.rows, "ddls": self.ddls,
                  "queued": len(self.queue),
                  "last_watermark": self.last_wm,
                  "max_row_ts": self.max_row_ts,
                  "shared_ts": list(self.shared),
                  "restarts": list(self.restarts),
                  "faults": list(self.faults),
                  "storage": None}
        if self.storage is not None:
            so = self.storage
            st["storage"] = {"dir": os.path.abspath(so.root), "layout": so.layout,
                             "date_separator": so.date_sep, "files": so.files,
                             "rows": so.rows, "schema_files": so.schema_files,
                             "checkpoint_ts": so.checkpoint}
        return st

    def close(self, timeout=8.0):
        """Everything queued out, a last watermark, then stop; gives up after about
        timeout seconds (a SIGTERM while the broker is gone must still end the process)."""
        if self.kafka is not None:
            self.kafka.give_up_at = time.monotonic() + timeout
        self.hold_drain(False)
        try:
            self._in_sink(lambda: (self.drain(), self.watermark(force=True)), timeout=timeout)
        except Exception as e:  # noqa: BLE001
            self.log("ticdc: final watermark failed: %r" % (e,))
        self.stopping.set()
        with self.cond:
            self.cond.notify_all()
        self.thread.join(2)
        if self.kafka is not None:
            try:
                self.kafka.release_due(force=True)
                self.kafka.flush(2)
            except Exception as e:  # noqa: BLE001
                self.log("ticdc: messages left behind: %r" % (e,))
                self.kafka.producer.purge()
        self.capture.close()
