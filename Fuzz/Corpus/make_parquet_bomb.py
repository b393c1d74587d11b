# A ~300-byte Parquet file whose required int64 column claims N rows, all one dictionary value: a
# dictionary page of one value and a data page whose indices are a single RLE run of N.
#   python3 Fuzz/Corpus/make_parquet_bomb.py OUT.parquet [ROWS]   (default 2^31-1 rows)
import io, os, sys, struct, pyarrow as pa, pyarrow.parquet as pq
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from thrift_compact import *
N = int(sys.argv[2]) if len(sys.argv) > 2 else 2**31 - 1
sink = io.BytesIO()
pq.write_table(pa.table({"x": pa.array([7] * 100, pa.int64())}, schema=pa.schema([pa.field("x", pa.int64(), nullable=False)])),
               sink, compression="none", use_dictionary=True, write_statistics=False)
b = sink.getvalue()
flen = struct.unpack("<I", b[-8:-4])[0]
meta, _ = read_struct(b, len(b) - 8 - flen)
rg = get(meta, 4)[2][1][0]
cc = get(rg, 1)[2][1][0]
cm = get(cc, 3)[2]
start = get(cm, 11)[2] if get(cm, 11) else get(cm, 9)[2]
chunk = bytearray(b[start:start + get(cm, 7)[2]])
# dictionary page
ph, p = read_struct(chunk, 0)
p += get(ph, 3)[2]
dict_part = bytes(chunk[:p])
ph2, q = read_struct(chunk, p)
body = bytes(chunk[q:q + get(ph2, 3)[2]])
# body: bit width byte then RLE runs; replace with one RLE run of N index 0
bw = body[0]
newbody = bytes([bw]) + enc_uvarint(N << 1) + bytes((bw + 7) // 8)
get(ph2, 2)[2] = len(newbody); get(ph2, 3)[2] = len(newbody)
get(get(ph2, 5)[2], 1)[2] = N
data_part = write_struct(ph2) + newbody
newchunk = dict_part + data_part
get(meta, 3)[2] = N; get(rg, 3)[2] = N; get(cm, 5)[2] = N
get(cm, 7)[2] = len(newchunk); get(cm, 6)[2] = len(newchunk)
get(cm, 9)[2] = start + len(dict_part)
get(rg, 2)[2] = len(newchunk)
out = b[:start] + newchunk
footer = write_struct(meta)
out += footer + struct.pack("<I", len(footer)) + b"PAR1"
open(sys.argv[1], "wb").write(out)
print(len(out), "bytes")
