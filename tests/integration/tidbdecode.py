"""A tiny, independent decoder of TiDB Binlog row bytes for the simulator's
tests, written from shared/spec/tidb-binlog.md section 4 (old row format,
datum flags 0x00/0x02/0x06/0x08/0x09, packed time, MySQL decimal2bin) and
section 4.8 (decoder summary).  It shares no code with tests/sim (the encoder)
nor with tirelay's C decoder.  Raises ValueError on malformed input.
"""

import datetime
import decimal

MASK64 = (1 << 64) - 1
DIG2BYTES = (0, 1, 1, 2, 2, 3, 3, 4, 4, 4)


def uvarint(b, i):
    v = 0
    shift = 0
    while True:
        if i >= len(b):
            raise ValueError("truncated varint")
        x = b[i]
        i += 1
        v |= (x & 0x7F) << shift
        if x < 0x80:
            return v, i
        shift += 7
        if shift > 63:
            raise ValueError("varint overflow")


def varint(b, i):
    u, i = uvarint(b, i)
    return (u >> 1) ^ -(u & 1), i


def bin_to_decimal(b, prec, frac):
    """Inverse of MySQL decimal2bin."""
    intg = prec - frac
    size = (intg // 9) * 4 + DIG2BYTES[intg % 9] + (frac // 9) * 4 + DIG2BYTES[frac % 9]
    if len(b) < size:
        raise ValueError("truncated decimal")
    buf = bytearray(b[:size])
    neg = not (buf[0] & 0x80)
    buf[0] ^= 0x80
    if neg:
        buf = bytearray(x ^ 0xFF for x in buf)
    pos = 0
    ip = ""
    lead = intg % 9
    if lead:
        n = DIG2BYTES[lead]
        ip += str(int.from_bytes(buf[pos:pos + n], "big")).rjust(lead, "0")
        pos += n
    for _ in range(intg // 9):
        ip += str(int.from_bytes(buf[pos:pos + 4], "big")).rjust(9, "0")
        pos += 4
    fp = ""
    for _ in range(frac // 9):
        fp += str(int.from_bytes(buf[pos:pos + 4], "big")).rjust(9, "0")
        pos += 4
    trail = frac % 9
    if trail:
        n = DIG2BYTES[trail]
        fp += str(int.from_bytes(buf[pos:pos + n], "big")).rjust(trail, "0")
        pos += n
    s = (ip or "0") + ("." + fp if fp else "")
    v = decimal.Decimal(s)
    if neg:
        v = v.copy_negate()
    return v, size


def unpack_time(p):
    if p == 0:
        return None
    us = p & 0xFFFFFF
    rest = p >> 24
    hms = rest & ((1 << 17) - 1)
    ymd = rest >> 17
    day = ymd & 31
    ym = ymd >> 5
    year, month = divmod(ym, 13)
    return datetime.datetime(year, month, day, hms >> 12, (hms >> 6) & 63, hms & 63, us)


def datum(b, i):
    """Returns ((flag, value), next index)."""
    if i >= len(b):
        raise ValueError("truncated datum")
    flag = b[i]
    i += 1
    if flag == 0x00:
        return (flag, None), i
    if flag == 0x02:
        n, i = varint(b, i)
        if n < 0 or i + n > len(b):
            raise ValueError("bad compact bytes length")
        return (flag, bytes(b[i:i + n])), i + n
    if flag == 0x06:
        prec, frac = b[i], b[i + 1]
        v, size = bin_to_decimal(b[i + 2:], prec, frac)
        return (flag, (v, prec, frac)), i + 2 + size
    if flag == 0x08:
        v, i = varint(b, i)
        return (flag, v), i
    if flag == 0x09:
        v, i = uvarint(b, i)
        return (flag, v), i
    raise ValueError("unexpected datum flag 0x%02x" % flag)


def pairs(b, i=0):
    """Old-row format: [(column id, (flag, value))]."""
    out = []
    if b[i:] == b"\x00":
        return out
    while i < len(b):
        (f, cid), i = datum(b, i)
        if f != 0x08:
            raise ValueError("column id is not an int datum")
        d, i = datum(b, i)
        out.append((cid, d))
    return out


class TableInfo:
    """The subset of a TiDB TableInfo JSON the decoder needs."""

    def __init__(self, info):
        self.id = info["id"]
        self.name = info["name"]["O"]
        self.pk_is_handle = info["pk_is_handle"]
        self.cols = info["cols"]
        self.by_id = {c["id"]: c for c in self.cols}
        self.pk = None
        for c in self.cols:
            if c["type"]["Flag"] & 2:
                self.pk = c

    def value(self, col, d):
        flag, v = d
        tp = col["type"]["Tp"]
        if flag == 0x00:
            return None
        if tp in (1, 2, 3, 8, 9):
            if flag == 0x08:
                return v & MASK64 if col["type"]["Flag"] & 32 else v
            if flag == 0x09:
                return v
        if tp in (15, 0xFE, 0xFC, 0xFD) and flag == 0x02:
            return v.decode("utf-8")
        if tp == 0xF6 and flag == 0x06:
            dec, prec, frac = v
            if (prec, frac) != (col["type"]["Flen"], col["type"]["Decimal"]):
                raise ValueError("decimal precision %r differs from column" % ((prec, frac),))
            return dec
        if tp in (7, 10, 12) and flag == 0x09:
            return unpack_time(v)
        raise ValueError("column %s type %d: unexpected flag 0x%02x" % (col["name"]["O"], tp, flag))

    def row_from_pairs(self, ps):
        row = {}
        for cid, d in ps:
            col = self.by_id.get(cid)
            if col is None:
                continue
            row[col["name"]["O"]] = self.value(col, d)
        return row

    def origin_default(self, col):
        d = col.get("origin_default")
        if d is None:
            return None
        tp = col["type"]["Tp"]
        if tp in (1, 2, 3, 8, 9):
            return int(d)
        if tp == 0xF6:
            return decimal.Decimal(d)
        return d

    def complete(self, row):
        """Columns absent from the row bytes take their origin default (or NULL)."""
        for c in self.cols:
            if c["name"]["O"] not in row:
                row[c["name"]["O"]] = self.origin_default(c)
        return row

    def insert(self, b):
        """inserted_rows element: handle ‖ old row without the handle column."""
        (f, h), i = datum(b, 0)
        if f != 0x08:
            raise ValueError("handle is not an int datum")
        row = self.row_from_pairs(pairs(b, i))
        if self.pk["name"]["O"] in row:
            raise ValueError("insert body repeats the handle column")
        row[self.pk["name"]["O"]] = self.value(self.pk, (0x08, h))
        return self.complete(row)

    def update(self, b):
        ps = pairs(b)
        seen = set()
        old, new = [], []
        for cid, d in ps:
            if cid in seen:
                new.append((cid, d))
            else:
                seen.add(cid)
                old.append((cid, d))
        if len(old) != len(self.cols) or len(new) != len(self.cols):
            raise ValueError("update row has %d/%d columns, table has %d"
                             % (len(old), len(new), len(self.cols)))
        return self.complete(self.row_from_pairs(old)), self.complete(self.row_from_pairs(new))

    def delete(self, b):
        ps = pairs(b)
        if len(ps) != len(self.cols):
            raise ValueError("delete row has %d columns, table has %d" % (len(ps), len(self.cols)))
        return self.complete(self.row_from_pairs(ps))
