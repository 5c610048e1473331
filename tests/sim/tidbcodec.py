"""TiDB value encodings used inside TiDB Binlog rows, written from
shared/spec/tidb-binlog.md section 4 (which cites pingcap/tidb
pkg/util/codec/codec.go, number.go, bytes.go, decimal.go,
pkg/types/mydecimal.go WriteBin, pkg/types/time.go ToPackedUint and
pkg/tablecodec/tablecodec.go EncodeOldRow/flatten).

This is the *encoder* side only (what TiDB writes).  It must never be derived
from tirelay's C decoder: the point is to test that decoder against an
independent implementation of TiDB's rules.  Pure functions, no I/O.
"""

import datetime
import decimal
import math
import struct

MASK64 = (1 << 64) - 1

# codec.go flag bytes (spec 4.6.1)
NIL_FLAG = 0x00
COMPACT_BYTES_FLAG = 0x02
FLOAT_FLAG = 0x05
DECIMAL_FLAG = 0x06
VARINT_FLAG = 0x08
UVARINT_FLAG = 0x09


def put_uvarint(v):
    """Go encoding/binary.PutUvarint: unsigned LEB128."""
    if v < 0 or v > MASK64:
        raise ValueError("uvarint out of range: %r" % (v,))
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def put_varint(v):
    """Go encoding/binary.PutVarint: zig-zag then LEB128."""
    if v < -(1 << 63) or v >= (1 << 63):
        raise ValueError("varint out of range: %r" % (v,))
    zz = ((v << 1) ^ (v >> 63)) & MASK64
    return put_uvarint(zz)


def enc_int(v):
    return bytes([VARINT_FLAG]) + put_varint(v)


def enc_uint(v):
    return bytes([UVARINT_FLAG]) + put_uvarint(v)


def enc_bytes(b):
    if isinstance(b, str):
        b = b.encode("utf-8")
    return bytes([COMPACT_BYTES_FLAG]) + put_varint(len(b)) + b


def enc_float(f):
    """floatFlag: IEEE-754 float64 bits, sign bit set when clear, all bits inverted
    when set (codec/float.go EncodeFloat), big-endian."""
    u = struct.unpack(">Q", struct.pack(">d", float(f)))[0]
    u = u | (1 << 63) if not u >> 63 else ~u & MASK64
    return bytes([FLOAT_FLAG]) + u.to_bytes(8, "big")


def enc_null():
    return bytes([NIL_FLAG])


# ---- decimal: MySQL decimal2bin as in TiDB mydecimal.go WriteBin (spec 4.6.4)

DIG2BYTES = (0, 1, 1, 2, 2, 3, 3, 4, 4, 4)


def decimal_bin_size(prec, frac):
    intg = prec - frac
    return (intg // 9) * 4 + DIG2BYTES[intg % 9] + (frac // 9) * 4 + DIG2BYTES[frac % 9]


def decimal_to_bin(value, prec, frac):
    """Binary form of a decimal for DECIMAL(prec, frac)."""
    ctx = decimal.Context(prec=100)
    value = decimal.Decimal(value)
    q = value.quantize(decimal.Decimal(1).scaleb(-frac), rounding=decimal.ROUND_HALF_UP, context=ctx)
    neg = q < 0
    digits = format(q.copy_abs(), "f")
    if "." in digits:
        ipart, fpart = digits.split(".")
    else:
        ipart, fpart = digits, ""
    intg = prec - frac
    ipart = ipart.lstrip("0")
    if len(ipart) > intg:
        raise ValueError("decimal %s does not fit (%d,%d)" % (value, prec, frac))
    ipart = ipart.rjust(intg, "0")
    fpart = fpart.ljust(frac, "0")[:frac]
    out = bytearray()
    lead = intg % 9
    if lead:
        out += int(ipart[:lead]).to_bytes(DIG2BYTES[lead], "big")
    for i in range(intg // 9):
        out += int(ipart[lead + 9 * i: lead + 9 * i + 9]).to_bytes(4, "big")
    for i in range(frac // 9):
        out += int(fpart[9 * i: 9 * i + 9]).to_bytes(4, "big")
    trail = frac % 9
    if trail:
        out += int(fpart[frac - trail:]).to_bytes(DIG2BYTES[trail], "big")
    if neg:
        out = bytearray(b ^ 0xFF for b in out)
    out[0] ^= 0x80
    return bytes(out)


def enc_decimal(value, prec, frac):
    return bytes([DECIMAL_FLAG, prec, frac]) + decimal_to_bin(value, prec, frac)


# ---- packed time (spec 4.6.3, TiDB pkg/types/time.go ToPackedUint)

def pack_time(dt):
    """dt: datetime, date (time part 0), or None / a '0000-00-00...' string: the zero time."""
    if dt is None or isinstance(dt, str):
        return 0
    if not isinstance(dt, datetime.datetime):
        dt = datetime.datetime(dt.year, dt.month, dt.day)
    ymd = ((dt.year * 13 + dt.month) << 5) | dt.day
    hms = (dt.hour << 12) | (dt.minute << 6) | dt.second
    return (((ymd << 17) | hms) << 24) | dt.microsecond


def enc_datetime(dt):
    return enc_uint(pack_time(dt))


# ---- binary JSON (spec 4.6.5, TiDB pkg/types/json_binary.go appendBinaryJSON) and the text
# TiDB prints for it (BinaryJSON.String as released with TiDB Binlog, v3 - v8.3)

JSON_FLAG = 0x0A
JSON_OBJECT, JSON_ARRAY, JSON_LITERAL = 0x01, 0x03, 0x04
JSON_INT64, JSON_UINT64, JSON_FLOAT64, JSON_STRING = 0x09, 0x0A, 0x0B, 0x0C
JSON_DEPTH_MAX = 100          # TiDB maxJSONDepth


class _JsonNull:
    """The JSON null literal as a whole column value (None there is SQL NULL)."""

    def __repr__(self):
        return "JSON_NULL"


JSON_NULL = _JsonNull()


def _json_key(k):
    return k.encode("utf-8")


def json_binary(v):
    """(type code, value bytes) of a Python JSON value: None/True/False, int (int64, or
    uint64 above INT64_MAX as TiDB's number parser does), float, str, list, dict.
    Objects: keys sorted bytewise (Go string order), a key entry {offset u32, len u16} and a
    value entry {type u8, offset u32} per member; literals are inlined in the value entry;
    offsets count from the container's start; size covers the whole container."""
    if v is None or v is JSON_NULL or v is True or v is False:
        return JSON_LITERAL, bytes([1 if v is True else 2 if v is False else 0])
    if isinstance(v, int):
        if -(1 << 63) <= v < (1 << 63):
            return JSON_INT64, struct.pack("<q", v)
        return JSON_UINT64, struct.pack("<Q", v)
    if isinstance(v, float):
        return JSON_FLOAT64, struct.pack("<d", v)
    if isinstance(v, str):
        b = v.encode("utf-8")
        return JSON_STRING, put_uvarint(len(b)) + b
    if isinstance(v, (list, dict)):
        is_obj = isinstance(v, dict)
        items = sorted(v.items(), key=lambda kv: _json_key(kv[0])) if is_obj else [(None, x) for x in v]
        n = len(items)
        head = 8 + n * (6 if is_obj else 0) + n * 5
        keys = b"".join(_json_key(k) for k, _ in items) if is_obj else b""
        key_entries = bytearray()
        off = head
        for k, _ in items if is_obj else []:
            kb = _json_key(k)
            key_entries += struct.pack("<IH", off, len(kb))
            off += len(kb)
        val_entries = bytearray()
        body = bytearray()
        base = head + len(keys)
        for _, x in items:
            tp, val = json_binary(x)
            if tp == JSON_LITERAL:
                val_entries += bytes([tp]) + val + b"\0\0\0"
            else:
                val_entries += struct.pack("<BI", tp, base + len(body))
                body += val
        total = base + len(body)
        return (JSON_OBJECT if is_obj else JSON_ARRAY,
                struct.pack("<II", n, total) + bytes(key_entries) + bytes(val_entries) + keys + bytes(body))
    raise ValueError("not a JSON value: %r" % (v,))


def enc_json(v):
    tp, val = json_binary(v)
    return bytes([JSON_FLAG, tp]) + val


def go_float(f):
    """TiDB's marshalFloat64To (Go encoding/json): shortest round-trip digits, 'f' form,
    'e' form below 1e-6 and from 1e21 ("1e+21"; "1e-07" cleaned to "1e-7"), no ".0"."""
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    sign = "-" if f < 0 else ""
    d = decimal.Decimal(repr(abs(f)))        # repr: shortest digits that read back as f
    _, digits, exp = d.as_tuple()
    digits = "".join(map(str, digits)).lstrip("0")
    while len(digits) > 1 and digits.endswith("0"):
        digits = digits[:-1]
        exp += 1
    sci = len(digits) - 1 + exp               # value = d.ddd x 10^sci
    if abs(f) < 1e-6 or abs(f) >= 1e21:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        e = "%s%02d" % ("-" if sci < 0 else "+", abs(sci))
        if e.startswith("-0"):
            e = "-" + e[2:]
        return sign + mant + "e" + e
    if exp >= 0:
        return sign + digits + "0" * exp
    point = len(digits) + exp
    if point > 0:
        return sign + digits[:point] + "." + digits[point:]
    return sign + "0." + "0" * (-point) + digits


def go_json_string(s):
    r"""Go encoding/json string escapes as in TiDB's jsonMarshalStringTo: \" \\ \n \r \t,
    other characters below 0x20 as \u00xx, U+2028/U+2029 escaped, the rest as is."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20 or o in (0x2028, 0x2029):
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def json_text(v):
    """The text TiDB prints for a JSON value: keys in stored (bytewise) order, ", " and ": "."""
    if v is None or v is JSON_NULL:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return go_float(v)
    if isinstance(v, str):
        return go_json_string(v)
    if isinstance(v, list):
        return "[" + ", ".join(json_text(x) for x in v) + "]"
    if isinstance(v, dict):
        items = sorted(v.items(), key=lambda kv: _json_key(kv[0]))
        return "{" + ", ".join(go_json_string(k) + ": " + json_text(x) for k, x in items) + "}"
    raise ValueError("not a JSON value: %r" % (v,))


# ---- old row format (spec 4.1): colID datum, value datum, ...

def enc_value(col, v):
    """Flatten + value-encode one column value (spec 4.6.2). col is a
    tidbschema.Column."""
    if v is None:
        return enc_null()
    k = col.kind
    if k == "int":
        return enc_uint(v) if col.unsigned else enc_int(v)
    if k == "str":
        if col.tp == 0xFE:
            # CHAR: TiDB drops trailing spaces before storing (table/column.go CastValue,
            # truncateTrailingSpaces, pingcap/tidb#3660); latin1 values keep the client's UTF-8
            # bytes (TiDB's legacy latin1 encoding)
            v = v.rstrip(" ")
        return enc_bytes(v)
    if k == "decimal":
        # the datum carries the column's Flen/Decimal (pingcap/tidb types/datum.go
        # convertToMysqlDecimal: ret.SetLength(target.Flen); ret.SetFrac(target.Decimal))
        return enc_decimal(v, col.flen, col.decimal)
    if k in ("datetime", "date", "timestamp"):
        # TIMESTAMP: the simulator's values are already UTC (truth session time_zone +00:00)
        return enc_datetime(v)
    if k in ("float", "double"):
        # FLOAT is flattened to float64 too; the simulator's FLOAT values are float32-exact
        return enc_float(v)
    if k == "bit":
        return enc_uint(v)
    if k == "year":
        return enc_int(v)
    if k == "time":
        return enc_int(v)             # int64 nanoseconds, varint (not durationFlag)
    if k == "enum":
        return enc_uint(col.elems.index(v) + 1)
    if k == "set":
        mask = 0
        for m in (v.split(",") if v else []):
            mask |= 1 << col.elems.index(m)
        return enc_uint(mask)
    if k == "bytes":
        return enc_bytes(v)
    if k == "json":
        return enc_json(v)
    raise ValueError("unsupported kind %r" % (k,))


def old_row(pairs):
    """pairs: iterable of (column id, encoded value bytes)."""
    out = bytearray()
    n = 0
    for cid, val in pairs:
        out += enc_int(cid)
        out += val
        n += 1
    if n == 0:
        return b"\x00"
    return bytes(out)


def general_ci_key(s):
    """TiDB's utf8mb4_general_ci sort key (pkg/util/collate/general_ci.go Key): trailing
    spaces dropped, then each character's weight as 2 bytes big-endian. The simulator's _ci
    key values are ASCII, whose weight is the upper-case code point."""
    s = s.rstrip(" ")
    if any(ord(ch) > 0x7F for ch in s):
        raise ValueError("general_ci_key models ASCII only: %r" % (s,))
    return b"".join(ord(ch.upper()).to_bytes(2, "big") for ch in s)


def insert_row(table, row, rowid=0):
    """inserted_rows element (spec 4.2): handle prefix, then the old row without the
    columns TiDB skips (tables.go CanSkip): the int handle column, full-length common
    handle columns (no restored data needed: utf8mb4_bin without the new collation
    framework, see tidbschema), NULL columns whose default is NULL.
    Prefix: the int handle (also for UNSIGNED PKs: an int64 datum); for a common handle
    one value-encoded datum per PRIMARY index column in index order (the memcomparable
    key decoded: signed ints as int64, strings as their bytes); without a primary key
    the _tidb_rowid handle rowid."""
    skip = set()
    if table.pk_is_handle:
        pk = table.pk
        skip.add(pk.name)
        handle = row[pk.name]
        if handle >= (1 << 63):
            handle -= 1 << 64
        prefix = enc_int(handle)
    elif table.is_common_handle:
        # a _ci key column's handle datum is its collation sort key, and the column stays in
        # the row body (tables.go CanSkip: !NeedRestoredData), which holds the original value
        prefix = b"".join(enc_bytes(general_ci_key(row[c.name])) if c.needs_restored_data
                          else enc_value(c, row[c.name]) for c in table.pk_cols)
        skip.update(c.name for c in table.pk_cols if not c.needs_restored_data)
    else:
        prefix = enc_int(rowid)
    pairs = []
    for c in table.columns:
        if c.name in skip or c.is_virtual or not c.in_writable_state:
            continue
        v = row[c.name]
        if v is None and c.default is None:
            continue
        pairs.append((c.id, enc_value(c, v)))
    # EncodeOldRow of no columns is the single NilFlag byte
    return prefix + old_row(pairs)


EXTRA_HANDLE_ID = -1   # _tidb_rowid


def full_row(table, row, rowid=0, skip_virtual=False, deletable=False):
    """Every column in table order, NULLs included (spec 4.3 / 4.4), plus the
    (-1, _tidb_rowid) pair when the table has neither an int nor a common handle.
    skip_virtual: updates leave VIRTUAL generated columns out (tables.go canSkipUpdateBinlog);
    deletes keep them, with the value the executor computed.  Updates carry the columns
    in a writable schema state, deletes every column still stored (a column in delete-only
    state is left out of updates; tables.go UpdateRecord / RemoveRecord)."""
    pairs = [(c.id, enc_value(c, row[c.name])) for c in table.columns
             if (deletable or c.in_writable_state) and not (skip_virtual and c.is_virtual)]
    if not table.pk_cols:
        pairs.append((EXTRA_HANDLE_ID, enc_int(rowid)))
    return old_row(pairs)


def update_row(table, before, after, rowid=0):
    return full_row(table, before, rowid, True) + full_row(table, after, rowid, True)


def delete_row(table, row, rowid=0):
    return full_row(table, row, rowid, deletable=True)


# ---- TSO (spec 5.1)

PHYSICAL_SHIFT = 18


def tso_compose(physical_ms, logical):
    return (physical_ms << PHYSICAL_SHIFT) | logical


def tso_physical_ms(ts):
    return ts >> PHYSICAL_SHIFT


def tso_to_datetime(ts):
    return datetime.datetime.fromtimestamp(tso_physical_ms(ts) / 1000.0, datetime.timezone.utc)
