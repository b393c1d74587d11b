internal import CSQLite3
import Foundation

/// The hashes sync compares: of a whole row (64 bits) and of each column (32 bits).
///
/// A value is hashed by its text, the way `Value.textValue` shows it (integers in decimal, reals as
/// the shortest text that reads back, blobs as their bytes), with NULL distinct from the empty
/// string. Types do not count, so a target read back as text (CSV, Redis hashes) hashes like the
/// warehouse's typed values: 42 and '42' are the same row.
enum SyncHash {
    /// Feeds one value's canonical bytes to a row hash and returns the value's own 32-bit hash.
    @inline(__always)
    static func add(_ bytes: UnsafeRawBufferPointer?, into row: inout FNV1a) -> UInt32 {
        var col = FNV1a()
        if let bytes {
            row.add(byte: 1); col.add(byte: 1)
            row.add(bytes); col.add(bytes)
        } else {
            row.add(byte: 0); col.add(byte: 0)
        }
        row.add(byte: 0x1F)
        return UInt32(truncatingIfNeeded: col.value ^ (col.value >> 32))
    }

    static func add(_ v: Value, into row: inout FNV1a) -> UInt32 {
        switch v {
        case .null: return add(nil, into: &row)
        case .blob(let b): return b.withUnsafeBytes { add($0, into: &row) }
        default:
            var s = v.textValue ?? ""
            return s.withUTF8 { add(UnsafeRawBufferPointer($0), into: &row) }
        }
    }

    /// The row hash and column hashes of values (the Swift side: a target read back).
    static func of(_ values: [Value]) -> (hash: Int64, cols: [UInt8]) {
        var row = FNV1a()
        var cols: [UInt8] = []
        cols.reserveCapacity(values.count * 4)
        for v in values { append(add(v, into: &row), to: &cols) }
        return (Int64(bitPattern: row.value), cols)
    }

    @inline(__always)
    static func append(_ h: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(truncatingIfNeeded: h)); out.append(UInt8(truncatingIfNeeded: h >> 8))
        out.append(UInt8(truncatingIfNeeded: h >> 16)); out.append(UInt8(truncatingIfNeeded: h >> 24))
    }

    /// The column hashes of a `cols` blob.
    static func columns(_ blob: [UInt8]) -> [UInt32] {
        stride(from: 0, to: blob.count - 3, by: 4).map {
            UInt32(blob[$0]) | UInt32(blob[$0 + 1]) << 8 | UInt32(blob[$0 + 2]) << 16 | UInt32(blob[$0 + 3]) << 24
        }
    }

    /// Registers `aurum_sync_hash(…)` (the row hash, an integer) and `aurum_sync_cols(…)` (the
    /// column hashes, a blob) on a connection. They read SQLite's values directly (no Swift values
    /// per cell), so hashing a million rows costs a fraction of a second.
    static func register(on db: SQLiteDatabase) throws {
        try db.check(sqlite3_create_function_v2(db.handle, "aurum_sync_hash", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil,
                                                { ctx, argc, argv in
            var row = FNV1a()
            for i in 0..<Int(argc) { _ = SyncHash.add(sqlite: argv?[i], into: &row) }
            sqlite3_result_int64(ctx, Int64(bitPattern: row.value))
        }, nil, nil, nil))
        try db.check(sqlite3_create_function_v2(db.handle, "aurum_sync_cols", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil,
                                                { ctx, argc, argv in
            var row = FNV1a()
            var out: [UInt8] = []
            out.reserveCapacity(Int(argc) * 4)
            for i in 0..<Int(argc) { SyncHash.append(SyncHash.add(sqlite: argv?[i], into: &row), to: &out) }
            out.withUnsafeBytes { sqlite3_result_blob(ctx, $0.baseAddress, Int32($0.count), SQLITE_TRANSIENT) }
        }, nil, nil, nil))
        // The partition path of a value (its directory segments joined by `/`), as the publisher writes it.
        try db.register(ScalarFunction(name: "aurum_partition_path", arity: 4) { a in
            guard let t = a[1].textValue.flatMap(PartitionType.init(rawValue:)) else { return .null }
            let spec = PartitionSpec(column: a[3].textValue ?? "", type: t, buckets: Int(a[2].doubleValue ?? 16))
            return .text(PartitionPath.segments(spec, a[0]).joined(separator: "/"))
        })
    }

    @inline(__always)
    static func add(sqlite v: OpaquePointer?, into row: inout FNV1a) -> UInt32 {
        switch sqlite3_value_type(v) {
        case SQLITE_NULL: return add(nil, into: &row)
        case SQLITE_FLOAT:
            var s = Value.format(sqlite3_value_double(v))
            return s.withUTF8 { add(UnsafeRawBufferPointer($0), into: &row) }
        case SQLITE_BLOB:
            let n = Int(sqlite3_value_bytes(v))
            return add(UnsafeRawBufferPointer(start: sqlite3_value_blob(v), count: n), into: &row)
        default:
            let p = sqlite3_value_text(v)
            let n = Int(sqlite3_value_bytes(v))
            return add(UnsafeRawBufferPointer(start: p, count: n), into: &row)
        }
    }
}
