import Foundation
import Testing
@testable import AurumParquet

/// Corrupt, truncated and unsupported files give clear ParquetErrors naming the file (and column).
@Suite struct CorruptFileTests {
    func writeSample(_ path: String, codec: ParquetCodec = .uncompressed, dictionary: Bool = false) throws {
        let w = try ParquetWriter(path: path, columns: [.int64("x"), .string("name")], codec: codec, dictionary: dictionary)
        try w.write(columns: [.int64((0 ..< 100).map { Int64($0) }), .strings((0 ..< 100).map { $0 % 7 == 0 ? nil : "n\($0)" })])
        try w.close()
    }

    func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
    func put(_ b: [UInt8], _ path: String) throws { try Data(b).write(to: URL(fileURLWithPath: path)) }

    func readEverything(_ path: String) throws {
        let r = try ParquetReader(path: path)
        _ = try r.readAll()
    }

    @Test func badMagicAndTooSmall() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = dir + "/bad.parquet"
        try put(Array("this is not a parquet file at all".utf8), p)
        expectParquetError("\(p): not a Parquet file") { try readEverything(p) }
        try put([0x50, 0x41, 0x52, 0x31, 0], p)
        expectParquetError("too small") { try readEverything(p) }
        expectParquetError("cannot open") { try readEverything(dir + "/missing.parquet") }
    }

    @Test func truncated() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = dir + "/t.parquet"
        try writeSample(p)
        let b = try bytes(p)
        for cut in [1, 5, 9, 30, b.count / 2, b.count - 13] {
            try put(Array(b[0 ..< b.count - cut]), p)
            expectParquetError("t.parquet: ") { try readEverything(p) }
        }
        // Keep the footer but drop the column data: chunks lie beyond the end of the file.
        try put(try bytes(p).isEmpty ? [] : b, p)
        let footerLen = Int(b[b.count - 8]) | Int(b[b.count - 7]) << 8 | Int(b[b.count - 6]) << 16 | Int(b[b.count - 5]) << 24
        let stripped = Array(b[0 ..< 4]) + Array(b[(b.count - 8 - footerLen)...])
        try put(stripped, p)
        expectParquetError("beyond the end of the file") { try readEverything(p) }
    }

    @Test func footerLengthBeyondFile() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = dir + "/f.parquet"
        try writeSample(p)
        var b = try bytes(p)
        b[b.count - 8] = 0xFF; b[b.count - 7] = 0xFF; b[b.count - 6] = 0xFF; b[b.count - 5] = 0x7F
        try put(b, p)
        expectParquetError("footer length 2147483647 exceeds the file size") { try readEverything(p) }
    }

    @Test func thriftOverrun() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = dir + "/o.parquet"
        try writeSample(p)
        let b = try bytes(p)
        let footerLen = Int(b[b.count - 8]) | Int(b[b.count - 7]) << 8 | Int(b[b.count - 6]) << 16 | Int(b[b.count - 5]) << 24
        let footerStart = b.count - 8 - footerLen
        // Footer cut short: thrift runs past its buffer.
        let short = footerLen - 10
        var t = Array(b[0 ..< footerStart + short])
        t += [UInt8(short & 0xFF), UInt8(short >> 8 & 0xFF), UInt8(short >> 16 & 0xFF), UInt8(short >> 24 & 0xFF)] + Array("PAR1".utf8)
        try put(t, p)
        expectParquetError("corrupt footer") { try readEverything(p) }
        // A string length inside the footer larger than the footer.
        var u = b
        // The schema root name "schema" is preceded by its varint length 6.
        let name = Array("schema".utf8)
        if let i = (footerStart ..< b.count - 8).first(where: { Array(b[$0 ..< min($0 + 6, b.count)]) == name }) {
            u[i - 1] = 0x7F
            try put(u, p)
            expectParquetError("corrupt footer") { try readEverything(p) }
        } else {
            Issue.record("schema name not found")
        }
        // Deep nesting / garbage footer
        var g = Array(b[0 ..< footerStart]) + [UInt8](repeating: 0x1C, count: 200)
        g += [200, 0, 0, 0] + Array("PAR1".utf8)
        try put(g, p)
        expectParquetError("corrupt footer") { try readEverything(p) }
    }

    /// Rewrites the first page header of the file (at offset 4).
    func patchFirstPageHeader(_ path: String, _ change: (inout PPageHeader) -> Void) throws {
        let b = try bytes(path)
        var header = PPageHeader()
        var end = 0
        try b.withUnsafeBytes { raw in
            var r = ThriftReader(raw, pos: 4)
            header = try r.readPageHeader()
            end = r.pos
        }
        change(&header)
        var w = ThriftWriter()
        w.writePageHeader(header)
        try put(Array(b[0 ..< 4]) + w.out + Array(b[end...]), path)
    }

    @Test func pageSizeBeyondChunk() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = dir + "/p.parquet"
        try writeSample(p)
        try patchFirstPageHeader(p) { $0.compressedPageSize = 1_000_000_000 }
        expectParquetError("page size 1000000000 exceeds the column chunk") { try readEverything(p) }
        expectParquetError("in column 'x'") { try readEverything(p) }
        try writeSample(p)
        try patchFirstPageHeader(p) { $0.compressedPageSize = -5 }
        expectParquetError("negative page size") { try readEverything(p) }
        try writeSample(p)
        try patchFirstPageHeader(p) { $0.dataPage?.numValues = 120 }
        expectParquetError("holds 120 values, more than the 100 left") { try readEverything(p) }
    }

    @Test(arguments: [ParquetCodec.uncompressed, .snappy, .gzip, .zstd])
    func decompressedSizeMismatch(_ codec: ParquetCodec) throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = dir + "/d.parquet"
        for delta in [Int32(-3), 5, 1_000_000] {
            try writeSample(p, codec: codec)
            try patchFirstPageHeader(p) { $0.uncompressedPageSize += delta }
            expectParquetError("column 'x'") { try readEverything(p) }
        }
        try writeSample(p, codec: codec)
        try patchFirstPageHeader(p) { $0.uncompressedPageSize = 2_000_000_000 }
        expectParquetError("d.parquet: ") { try readEverything(p) }
    }

    @Test func corruptCompressedData() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = dir + "/c.parquet"
        for codec in [ParquetCodec.snappy, .gzip, .zstd] {
            try writeSample(p, codec: codec)
            var b = try bytes(p)
            var end = 0
            try b.withUnsafeBytes { raw in
                var r = ThriftReader(raw, pos: 4)
                _ = try r.readPageHeader()
                end = r.pos
            }
            for k in 0 ..< 6 { b[end + k] ^= 0x5A }
            try put(b, p)
            expectParquetError("column 'x'") { try readEverything(p) }
        }
    }

    @Test func dictionaryIndexOutOfRange() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = dir + "/i.parquet"
        try writeSample(p, codec: .uncompressed, dictionary: true)
        // Shrink the dictionary's declared size: indices then point past its end.
        try patchFirstPageHeader(p) { $0.dictionaryPage?.numValues = 3 }
        expectParquetError("dictionary index") { try readEverything(p) }
    }

    @Test func unsupportedCodecs() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (codec, name) in [("lz4", "LZ4"), ("brotli", "BROTLI")] {
            let p = dir + "/\(codec).parquet"
            _ = try pyarrow(["gen", p, #"{"kind": "ints", "rows": 20, "compression": "\#(codec)"}"#], in: dir)
            let r = try ParquetReader(path: p)
            #expect(r.rowCount == 20)
            expectParquetError("\(codec).parquet: unsupported codec \(name)") { _ = try r.readRowGroup(0) }
            expectParquetError("in column 'x'") { _ = try r.readRowGroup(0) }
        }
    }

    @Test func nestedColumnsRejected() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = dir + "/n.parquet"
        _ = try pyarrow(["gen", p, #"{"kind": "nested", "rows": 10}"#], in: dir)
        expectParquetError("n.parquet: nested column 'tags' is not supported") { try readEverything(p) }
    }

    @Test func encryptedRejected() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = dir + "/e.parquet"
        try put(Array("PARE".utf8) + [UInt8](repeating: 7, count: 40) + [8, 0, 0, 0] + Array("PARE".utf8), p)
        expectParquetError("e.parquet: encrypted Parquet files are not supported") { try readEverything(p) }
    }
}
