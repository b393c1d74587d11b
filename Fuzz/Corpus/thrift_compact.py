# Minimal Thrift compact protocol reader/writer for patching Parquet footers and page headers (see make_parquet_bomb.py).
def uvarint(b, p):
    r = s = 0
    while True:
        x = b[p]; p += 1; r |= (x & 0x7f) << s; s += 7
        if x < 0x80: return r, p
def zz(v): return (v << 1) ^ (v >> 63)
def unzz(v): return (v >> 1) ^ -(v & 1)
def enc_uvarint(v):
    out = bytearray()
    while True:
        if v < 0x80: out.append(v); return bytes(out)
        out.append((v & 0x7f) | 0x80); v >>= 7
def read_val(b, p, t):
    if t in (1, 2): return t == 1, p
    if t == 3: return b[p], p + 1
    if t in (4, 5, 6):
        v, p = uvarint(b, p); return unzz(v), p
    if t == 7: return b[p:p+8], p + 8
    if t == 8:
        n, p = uvarint(b, p); return b[p:p+n], p + n
    if t in (9, 10):
        h = b[p]; p += 1; n = h >> 4; et = h & 15
        if n == 15: n, p = uvarint(b, p)
        out = []
        for _ in range(n):
            v, p = read_val(b, p, et); out.append(v)
        return (et, out), p
    if t == 12: return read_struct(b, p)
    raise ValueError(t)
def read_struct(b, p):
    fields = []; last = 0
    while True:
        h = b[p]; p += 1
        if h == 0: return fields, p
        t = h & 15; d = h >> 4
        if d == 0:
            fid, p = uvarint(b, p); fid = unzz(fid)
        else: fid = last + d
        last = fid
        v, p = read_val(b, p, t)
        fields.append([fid, t, v])
def write_val(t, v):
    if t in (1, 2): return b""
    if t == 3: return bytes([v & 0xff])
    if t in (4, 5, 6): return enc_uvarint(zz(v) & ((1 << 64) - 1))
    if t == 7: return v
    if t == 8: return enc_uvarint(len(v)) + v
    if t in (9, 10):
        et, items = v
        h = (bytes([(len(items) << 4) | et]) if len(items) < 15 else bytes([0xf0 | et]) + enc_uvarint(len(items)))
        return h + b"".join(write_val(et, x) for x in items)
    if t == 12: return write_struct(v)
def write_struct(fields):
    out = bytearray(); last = 0
    for fid, t, v in fields:
        tt = t
        if t in (1, 2): tt = 1 if v else 2
        d = fid - last
        if 0 < d <= 15: out.append((d << 4) | tt)
        else: out.append(tt); out += enc_uvarint(zz(fid))
        last = fid
        out += write_val(t, v)
    out.append(0)
    return bytes(out)
def get(fields, fid):
    for f in fields:
        if f[0] == fid: return f
