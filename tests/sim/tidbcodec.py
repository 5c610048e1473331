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
        prefix = b"".join(enc_value(c, row[c.name]) for c in table.pk_cols)
        skip.update(c.name for c in table.pk_cols)
    else:
        prefix = enc_int(rowid)
    pairs = []
    for c in table.columns:
        if c.name in skip:
            continue
        v = row[c.name]
        if v is None and c.default is None:
            continue
        pairs.append((c.id, enc_value(c, v)))
    # EncodeOldRow of no columns is the single NilFlag byte
    return prefix + old_row(pairs)


EXTRA_HANDLE_ID = -1   # _tidb_rowid


def full_row(table, row, rowid=0):
    """Every column in table order, NULLs included (spec 4.3 / 4.4), plus the
    (-1, _tidb_rowid) pair when the table has neither an int nor a common handle."""
    pairs = [(c.id, enc_value(c, row[c.name])) for c in table.columns]
    if not table.pk_cols:
        pairs.append((EXTRA_HANDLE_ID, enc_int(rowid)))
    return old_row(pairs)


def update_row(table, before, after, rowid=0):
    return full_row(table, before, rowid) + full_row(table, after, rowid)


def delete_row(table, row, rowid=0):
    return full_row(table, row, rowid)


# ---- TSO (spec 5.1)

PHYSICAL_SHIFT = 18


def tso_compose(physical_ms, logical):
    return (physical_ms << PHYSICAL_SHIFT) | logical


def tso_physical_ms(ts):
    return ts >> PHYSICAL_SHIFT


def tso_to_datetime(ts):
    return datetime.datetime.fromtimestamp(tso_physical_ms(ts) / 1000.0, datetime.timezone.utc)
