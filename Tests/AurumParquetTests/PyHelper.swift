// Python helper run by the tests (pyarrow is the reference implementation).
// It generates fixtures with pyarrow and dumps what pyarrow reads in a canonical JSON form.

let pqHelperScript = #"""
# Test helper for AurumParquet: generates fixtures with pyarrow and dumps files read by pyarrow
# in a canonical JSON form (see canon()).
import json, struct, sys, datetime, decimal
import pyarrow as pa
import pyarrow.parquet as pq

def canon_column(arr, physical):
    t = arr.type
    out = []
    if pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_time(t):
        width = pa.int32() if (pa.types.is_date32(t) or pa.types.is_time32(t)) else pa.int64()
        vals = arr.cast(width).to_pylist()
        return [None if v is None else str(v) for v in vals]
    vals = arr.to_pylist()
    for v in vals:
        if v is None:
            out.append(None)
        elif pa.types.is_boolean(t):
            out.append("true" if v else "false")
        elif pa.types.is_floating(t):
            if t.bit_width == 32:
                out.append(str(struct.unpack('<I', struct.pack('<f', v))[0]))
            else:
                out.append(str(struct.unpack('<Q', struct.pack('<d', v))[0]))
        elif pa.types.is_integer(t):
            out.append(str(v))
        elif pa.types.is_decimal(t):
            unscaled = int(v.scaleb(t.scale))
            if physical in ('INT32', 'INT64'):
                out.append(str(unscaled))
            else:
                n = 1
                while True:
                    if len(str(10 ** t.precision)) - 1 <= int((8 * n - 1) * 0.30102999566398120):
                        break
                    n += 1
                out.append(unscaled.to_bytes(n, 'big', signed=True).hex())
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            out.append(v.encode('utf-8').hex())
        elif pa.types.is_binary(t) or pa.types.is_fixed_size_binary(t) or pa.types.is_large_binary(t):
            out.append(bytes(v).hex())
        else:
            out.append(str(v))
    return out

def dump(path):
    pf = pq.ParquetFile(path)
    table = pf.read()
    md = pf.metadata
    cols = {}
    for i, name in enumerate(table.column_names):
        physical = pf.schema.column(i).physical_type
        cols[name] = canon_column(table.column(i).combine_chunks(), physical)
    stats = []
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        gs = {}
        for i in range(rg.num_columns):
            c = rg.column(i)
            s = c.statistics
            e = {"codec": c.compression, "encodings": list(c.encodings), "num_values": c.num_values}
            if s is not None:
                e["has_min_max"] = s.has_min_max
                e["null_count"] = s.null_count if s.has_null_count else None
                if s.has_min_max:
                    e["min"] = repr(s.min_raw)
                    e["max"] = repr(s.max_raw)
            gs[c.path_in_schema] = e
        stats.append(gs)
    kv = {k.decode(): v.decode() for k, v in (md.metadata or {}).items() if k != b"ARROW:schema"}
    print(json.dumps({"kv": kv, "created_by": md.created_by, "columns": cols, "num_rows": md.num_rows, "row_groups": md.num_row_groups,
                      "schema": str(pf.schema_arrow), "stats": stats}))

def all_types_table(n):
    import random
    rnd = random.Random(42)
    def maybe(v, i, every=7):
        return None if i % every == 3 else v
    words = ["alpha", "beta", "gamma", "délta", "épsilon", "zeta", "", "日本語"]
    cols = {
        "b": pa.array([maybe(i % 3 == 0, i) for i in range(n)], pa.bool_()),
        "i8": pa.array([maybe(rnd.randint(-128, 127), i) for i in range(n)], pa.int8()),
        "u16": pa.array([maybe(rnd.randint(0, 65535), i) for i in range(n)], pa.uint16()),
        "i32": pa.array([maybe(rnd.randint(-2**31, 2**31 - 1), i) for i in range(n)], pa.int32()),
        "u32": pa.array([maybe(rnd.randint(0, 2**32 - 1), i) for i in range(n)], pa.uint32()),
        "i64": pa.array([maybe(rnd.randint(-2**63, 2**63 - 1), i) for i in range(n)], pa.int64()),
        "seq": pa.array([maybe(1000 + i * 3, i) for i in range(n)], pa.int64()),
        "f32": pa.array([maybe(rnd.uniform(-1e6, 1e6), i) for i in range(n)], pa.float32()),
        "f64": pa.array([maybe(rnd.uniform(-1e9, 1e9), i) for i in range(n)], pa.float64()),
        "s": pa.array([maybe(words[i % len(words)] + str(i % 13), i) for i in range(n)], pa.string()),
        "bin": pa.array([maybe(bytes([i % 256, (i * 7) % 256]) * (i % 4), i) for i in range(n)], pa.binary()),
        "fsb": pa.array([maybe(struct.pack('<I', i * 2654435761 % 2**32), i) for i in range(n)], pa.binary(4)),
        "d": pa.array([maybe(datetime.date(1970, 1, 1) + datetime.timedelta(days=rnd.randint(-20000, 30000)), i) for i in range(n)], pa.date32()),
        "ts_ms": pa.array([maybe(rnd.randint(-10**12, 10**13), i) for i in range(n)], pa.timestamp('ms', tz='UTC')),
        "ts_us": pa.array([maybe(rnd.randint(-10**15, 10**16), i) for i in range(n)], pa.timestamp('us')),
        "ts_ns": pa.array([maybe(rnd.randint(-10**18, 10**18), i) for i in range(n)], pa.timestamp('ns', tz='UTC')),
        "t_ms": pa.array([maybe(rnd.randint(0, 86399999), i) for i in range(n)], pa.time32('ms')),
        "t_us": pa.array([maybe(rnd.randint(0, 86399999999), i) for i in range(n)], pa.time64('us')),
        "dec7": pa.array([maybe(decimal.Decimal(rnd.randint(-10**7 + 1, 10**7 - 1)).scaleb(-2), i) for i in range(n)], pa.decimal128(7, 2)),
        "dec15": pa.array([maybe(decimal.Decimal(rnd.randint(-10**15 + 1, 10**15 - 1)).scaleb(-4), i) for i in range(n)], pa.decimal128(15, 4)),
        "dec25": pa.array([maybe(decimal.Decimal(rnd.randint(-10**25 + 1, 10**25 - 1)).scaleb(-3), i) for i in range(n)], pa.decimal128(25, 3)),
        "req": pa.array([i * 11 for i in range(n)], pa.int64()),
        "allnull": pa.array([None] * n, pa.string()),
    }
    schema = pa.schema([pa.field(k, v.type, nullable=(k != "req")) for k, v in cols.items()])
    return pa.table(list(cols.values()), schema=schema)

def gen(path, opts):
    n = opts.pop("rows", 300)
    kind = opts.pop("kind", "all")
    if kind == "all":
        table = all_types_table(n)
    elif kind == "ints":
        table = pa.table({"x": pa.array([(i * 37) % 1000 - 500 if i % 5 else None for i in range(n)], pa.int32()),
                          "y": pa.array([i * i * 1000003 - 7 for i in range(n)], pa.int64()),
                          "s": pa.array([("key%05d" % (i // 3)) if i % 6 else None for i in range(n)], pa.string())})
    elif kind == "nested":
        table = pa.table({"id": pa.array(range(n), pa.int64()),
                          "tags": pa.array([[str(i), "x"] for i in range(n)], pa.list_(pa.string()))})
    elif kind == "int96":
        table = pa.table({"ts": pa.array([i * 1_000_000_123 - 5 * 10**17 if i % 4 else None for i in range(n)], pa.timestamp('ns'))})
        opts["use_deprecated_int96_timestamps"] = True
    else:
        raise SystemExit("unknown kind " + kind)
    if "column_encoding" in opts:
        opts["use_dictionary"] = False
    pq.write_table(table, path, **opts)
    dump(path)

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "dump":
        dump(sys.argv[2])
    elif cmd == "gen":
        gen(sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) > 3 else {})
"""#
