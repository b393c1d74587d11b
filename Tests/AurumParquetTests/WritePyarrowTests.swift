import Foundation
import Testing
@testable import AurumParquet

/// pyarrow reads what Aurum writes, value for value, nulls included; statistics are visible.
@Suite struct WritePyarrowTests {
    static let columns: [ParquetColumn] = [
        .boolean("b"),
        ParquetColumn(name: "i8", physical: .int32, logical: .int(bits: 8, signed: true)),
        ParquetColumn(name: "u16", physical: .int32, logical: .int(bits: 16, signed: false)),
        .int32("i32"),
        .int64("i64"),
        .int64("id", optional: false),
        .float("f32"),
        .double("f64"),
        .string("s"),
        .binary("bin"),
        ParquetColumn(name: "fsb", physical: .fixedLenByteArray(3)),
        .date("d"),
        .timestampMillis("ts_ms"),
        .timestampMicros("ts_us", utc: false),
        .timestampNanos("ts_ns"),
        .decimal("dec7", precision: 7, scale: 2),
        .decimal("dec15", precision: 15, scale: 4),
        .decimal("dec30", precision: 30, scale: 5),
        .string("allnull"),
        .string("city"),
    ]

    /// Deterministic data with nulls in every optional column.
    static func data(rows n: Int, seed: UInt64 = 1) -> [ParquetColumnData] {
        var rng = seed
        func next() -> UInt64 {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return rng >> 11
        }
        func validity(_ every: Int) -> [Bool] { (0 ..< n).map { $0 % every != 2 } }
        let v = validity(5)
        func ints<T: FixedWidthInteger>(_ f: (Int) -> T) -> [T] { (0 ..< n).map { v[$0] ? f($0) : 0 } }
        var s = ParquetBinaryArray(), bin = ParquetBinaryArray(), fsb = ParquetBinaryArray(), dec30 = ParquetBinaryArray(), city = ParquetBinaryArray()
        let words = ["Zürich", "Oslo", "", "東京", "New York", "a", "b"]
        for i in 0 ..< n {
            if v[i] {
                s.append("\(words[i % words.count])-\(next() % 1000)")
                bin.append((0 ..< Int(next() % 5)).map { UInt8(($0 * 31 + i) & 0xFF) })
                fsb.append([UInt8(i & 0xFF), UInt8((i >> 8) & 0xFF), 0x80])
                var d = [UInt8](repeating: 0, count: 13) // 13 bytes for precision 30
                let x = next()
                for k in 0 ..< 8 { d[12 - k] = UInt8((x >> (8 * UInt64(k))) & 0xFF) }
                if i % 2 == 0 { for k in 0 ..< 13 { d[k] = ~d[k] } } // negative
                dec30.append(d)
                city.append(words[i % 3])
            } else {
                s.appendEmpty(); bin.appendEmpty(); fsb.appendEmpty(); dec30.appendEmpty(); city.appendEmpty()
            }
        }
        return [
            .boolean((0 ..< n).map { v[$0] && $0 % 3 == 0 }, validity: v),
            .int32(ints { Int32(Int8(truncatingIfNeeded: $0 * 37)) }, validity: v),
            .int32(ints { Int32($0 * 1000 % 65536) }, validity: v),
            .int32(ints { _ in Int32(truncatingIfNeeded: next()) }, validity: v),
            .int64(ints { _ in Int64(bitPattern: next() << 11) }, validity: v),
            .int64((0 ..< n).map { Int64($0) }),
            .float(ints { Int32($0) }.enumerated().map { v[$0.offset] ? Float($0.element) * 1.5 - 100 : 0 }, validity: v),
            .double((0 ..< n).map { v[$0] ? Double(next() % 100_000) / 7.0 - 5000 : 0 }, validity: v),
            .binary(s, validity: v),
            .binary(bin, validity: v),
            .binary(fsb, validity: v),
            .int32(ints { Int32($0 * 3 - 20000) }, validity: v),
            .int64(ints { Int64($0) * 86_400_123 - 1_000_000 }, validity: v),
            .int64(ints { Int64($0) * 1_000_001 }, validity: v),
            .int64(ints { _ in Int64(bitPattern: next() << 10) }, validity: v),
            .int32(ints { Int32($0 * 7919 % 9_999_999) - 5_000_000 }, validity: v),
            .int64(ints { Int64($0) * 123_456_789_013 - 999_999_999_999_999 }, validity: v),
            .binary(dec30, validity: v),
            .binary(ParquetBinaryArray((0 ..< n).map { _ in [UInt8]() }), validity: [Bool](repeating: false, count: n)),
            .binary(city, validity: v),
        ]
    }

    func check(_ options: ParquetWriterOptions, rows: Int = 1000, batches: Int = 1, sourceLocation: SourceLocation = #_sourceLocation) throws -> Dump {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/out.parquet"
        let cols = Self.columns
        let data = Self.data(rows: rows)
        let w = try ParquetWriter(path: path, columns: cols, options: options)
        let per = (rows + batches - 1) / batches
        var start = 0
        while start < rows {
            let end = min(rows, start + per)
            try w.write(columns: data.map { $0.slice(start ..< end) })
            start = end
        }
        try w.close()
        let dump = try pyarrow(["dump", path], in: dir)
        #expect(dump.num_rows == rows, sourceLocation: sourceLocation)
        for (k, c) in cols.enumerated() {
            let want = canon(c, data[k])
            let got = dump.columns[c.name] ?? []
            if got != want {
                let i = (0 ..< min(got.count, want.count)).first { got[$0] != want[$0] } ?? min(got.count, want.count)
                Issue.record("column \(c.name) differs at row \(i) (of \(want.count)/\(got.count)): pyarrow \(i < got.count ? got[i] ?? "null" : "-") vs \(i < want.count ? want[i] ?? "null" : "-")", sourceLocation: sourceLocation)
            }
        }
        // Aurum reads its own file back identically.
        let r = try ParquetReader(path: path)
        let back = try r.readAll()
        for (k, c) in cols.enumerated() {
            #expect(canon(c, back[k]) == canon(c, data[k]), "self round trip \(c.name)", sourceLocation: sourceLocation)
        }
        return dump
    }

    @Test(arguments: [ParquetCodec.uncompressed, .snappy, .gzip, .zstd])
    func codecs(_ codec: ParquetCodec) throws {
        let dump = try check(ParquetWriterOptions(codec: codec))
        let expectedName = ["UNCOMPRESSED", "SNAPPY", "GZIP", "ZSTD"][[ParquetCodec.uncompressed, .snappy, .gzip, .zstd].firstIndex(of: codec)!]
        #expect(dump.stats[0]["i32"]?.codec == expectedName)
    }

    @Test func dataPageV2AndPlain() throws {
        var o = ParquetWriterOptions(codec: .zstd)
        o.dataPageVersion = 2
        _ = try check(o)
        o.dictionary = false
        o.codec = .snappy
        _ = try check(o)
        o.dataPageVersion = 1
        o.codec = .uncompressed
        _ = try check(o)
    }

    @Test func rowGroupsSmallPagesAndBatches() throws {
        var o = ParquetWriterOptions(codec: .snappy, rowGroupRows: 300)
        o.pageSize = 256
        let dump = try check(o, rows: 1000, batches: 7)
        #expect(dump.row_groups == 4)
        o.dataPageVersion = 2
        o.dictionaryPageSizeLimit = 64 // forces PLAIN fallback for large dictionaries
        _ = try check(o, rows: 1000, batches: 3)
    }

    @Test func statistics() throws {
        let dump = try check(ParquetWriterOptions(codec: .snappy), rows: 1000)
        let st = dump.stats[0]
        let n = 1000
        let data = Self.data(rows: n)
        // id: required 0..<n
        #expect(st["id"]?.has_min_max == true)
        #expect(st["id"]?.min == "0")
        #expect(st["id"]?.max == "\(n - 1)")
        #expect(st["id"]?.null_count == 0)
        // every optional column has the expected null count
        let nulls = data[3].nullCount
        for c in Self.columns where c.optional && c.name != "allnull" {
            #expect(st[c.name]?.null_count == nulls, "null_count \(c.name)")
            #expect(st[c.name]?.has_min_max == true, "has_min_max \(c.name)")
        }
        #expect(st["allnull"]?.null_count == n)
        #expect(st["allnull"]?.has_min_max == false)
        // unsigned column: min/max in unsigned order
        #expect(st["u16"]?.min == "0")
        // strings: byte-wise order
        #expect(st["city"]?.min == "b''")
        #expect(st["city"]?.max == "b'Z\\xc3\\xbcrich'")
        #expect(st["b"]?.min == "False")
        #expect(st["b"]?.max == "True")
        // integer min/max agree with the data
        if case .int32(let a) = data[3].values {
            let valid = (0 ..< n).filter { !data[3].isNull($0) }.map { a[$0] }
            #expect(st["i32"]?.min == "\(valid.min()!)")
            #expect(st["i32"]?.max == "\(valid.max()!)")
        }
        // Aurum reads statistics back
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/s.parquet"
        let w = try ParquetWriter(path: path, columns: Self.columns, codec: .snappy)
        try w.write(columns: data)
        try w.close()
        let r = try ParquetReader(path: path)
        let s = r.statistics(rowGroup: 0, column: 5)
        #expect(s?.min == .int64(0))
        #expect(s?.max == .int64(Int64(n - 1)))
        #expect(r.statistics(rowGroup: 0, column: 19)?.min == .bytes([]))
    }

    @Test func deltaEncodingWrite() throws {
        var o = ParquetWriterOptions(codec: .snappy, rowGroupRows: 400)
        o.columnEncodings = ["i32": .deltaBinaryPacked, "i64": .deltaBinaryPacked, "id": .deltaBinaryPacked,
                             "d": .deltaBinaryPacked, "ts_ns": .deltaBinaryPacked, "s": .plain, "city": .dictionary]
        o.pageSize = 500
        let dump = try check(o, rows: 1000)
        #expect(dump.stats[0]["i32"]?.encodings.contains("DELTA_BINARY_PACKED") == true)
        #expect(dump.stats[0]["s"]?.encodings.contains("RLE_DICTIONARY") == false)
        o.dataPageVersion = 2
        _ = try check(o, rows: 1000)
        expectParquetError("DELTA_BINARY_PACKED requires INT32 or INT64") {
            var bad = ParquetWriterOptions()
            bad.columnEncodings = ["s": .deltaBinaryPacked]
            _ = try ParquetWriter(path: "/tmp/never-written.parquet", columns: Self.columns, options: bad)
        }
    }

    @Test func emptyFiles() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/empty.parquet"
        let w = try ParquetWriter(path: path, columns: Self.columns, codec: .zstd)
        try w.write(columns: Self.columns.map { ParquetColumnData.empty(for: $0) })
        try w.close()
        let dump = try pyarrow(["dump", path], in: dir)
        #expect(dump.num_rows == 0)
        #expect(dump.columns.count == Self.columns.count)
        let r = try ParquetReader(path: path)
        #expect(r.rowCount == 0)
        #expect(r.rowGroupCount == 0)
        #expect(try r.readAll().map(\.count) == [Int](repeating: 0, count: Self.columns.count))
        #expect(try r.nextBatch() == nil)
        // pyarrow's empty file
        let p2 = dir + "/pyempty.parquet"
        _ = try pyarrow(["gen", p2, #"{"rows": 0}"#], in: dir)
        let r2 = try ParquetReader(path: p2)
        #expect(r2.rowCount == 0)
        #expect(try r2.readAll().allSatisfy { $0.count == 0 })
    }

    @Test func allNullV2Pages() throws {
        // Every value of a page null, with v2 pages (empty value sections) and each codec.
        for codec in [ParquetCodec.uncompressed, .snappy, .gzip, .zstd] {
            let dir = try makeTempDir()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let path = dir + "/n.parquet"
            var o = ParquetWriterOptions(codec: codec)
            o.dataPageVersion = 2
            o.pageSize = 64
            let cols: [ParquetColumn] = [.string("s"), .int64("x"), .boolean("b")]
            let w = try ParquetWriter(path: path, columns: cols, options: o)
            let n = 300
            let valid = (0 ..< n).map { $0 >= 200 }
            try w.write(columns: [.strings((0 ..< n).map { valid[$0] ? "v\($0)" : nil }),
                                  .int64((0 ..< n).map { valid[$0] ? Int64($0) : 0 }, validity: valid),
                                  .boolean((0 ..< n).map { valid[$0] && $0 % 2 == 0 }, validity: valid)])
            try w.close()
            let dump = try pyarrow(["dump", path], in: dir)
            #expect(dump.columns["x"]?.compactMap { $0 }.count == 100)
            let back = try ParquetReader(path: path).readAll()
            #expect(back[1].nullCount == 200)
            #expect(back[0].value(at: 250).stringValue == "v250")
        }
    }

    @Test func rowAPI() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/rows.parquet"
        let cols: [ParquetColumn] = [.int64("id", optional: false), .string("name"), .double("x"), .boolean("flag"), .date("day")]
        let rows: [[ParquetValue]] = [
            [.int64(1), .string("ann"), .double(1.5), .boolean(true), .int32(19000)],
            [.int64(2), .null, .null, .boolean(false), .null],
            [.int64(3), .string("bob"), .double(-2), .null, .int32(0)],
        ]
        var o = ParquetWriterOptions(codec: .gzip)
        o.keyValueMetadata = ["origin": "aurum", "note": "ünïcode"]
        let w = try ParquetWriter(path: path, columns: cols, options: o)
        try w.write(rows: rows)
        try w.close()
        let r = try ParquetReader(path: path)
        #expect(try r.readRows() == rows)
        #expect(r.columns == cols)
        let dump = try pyarrow(["dump", path], in: dir)
        #expect(dump.columns["name"] == [hex("ann".utf8), nil, hex("bob".utf8)])
        #expect(dump.schema.contains("day: date32"))
        #expect(dump.kv == ["origin": "aurum", "note": "ünïcode"])
        #expect(dump.created_by?.hasPrefix("aurum-parquet") == true)
        #expect(r.keyValueMetadata["origin"] == "aurum")
        #expect(r.columnIndex(named: "x") == 2)
        #expect(dump.schema.contains("id: int64 not null"))
    }

    @Test func writerErrors() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/e.parquet"
        let w = try ParquetWriter(path: path, columns: [.int64("id", optional: false), .string("s")], codec: .snappy)
        expectParquetError("null value in required column 'id'") {
            try w.write(rows: [[.null, .string("x")]])
        }
        expectParquetError("do not match physical type") {
            try w.write(columns: [.int32([1]), .strings(["a"])])
        }
        expectParquetError("expected 2 columns") { try w.write(columns: [.int64([1])]) }
        try w.close()
        expectParquetError("INT96") { _ = try ParquetWriter(path: path, columns: [ParquetColumn(name: "x", physical: .int96)]) }
        expectParquetError("requires BYTE_ARRAY") {
            _ = try ParquetWriter(path: path, columns: [ParquetColumn(name: "x", physical: .int32, logical: .string)])
        }
    }
}
