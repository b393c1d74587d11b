import Foundation
import Testing
@testable import AurumParquet

/// Aurum reads files written by pyarrow, value for value.
@Suite struct ReadPyarrowTests {
    func roundTrip(_ opts: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ParquetReader {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/f.parquet"
        let expected = try pyarrow(["gen", path, opts], in: dir)
        let (reader, got) = try readAllCanonical(path)
        #expect(reader.rowCount == expected.num_rows, sourceLocation: sourceLocation)
        #expect(reader.rowGroupCount == expected.row_groups, sourceLocation: sourceLocation)
        #expect(Set(got.keys) == Set(expected.columns.keys), sourceLocation: sourceLocation)
        for (name, values) in expected.columns {
            let g = got[name] ?? []
            #expect(g.count == values.count, "column \(name)", sourceLocation: sourceLocation)
            if g != values {
                let i = (0 ..< min(g.count, values.count)).first { g[$0] != values[$0] } ?? min(g.count, values.count)
                Issue.record("column \(name) differs at row \(i): \(i < g.count ? g[i] ?? "null" : "-") vs \(i < values.count ? values[i] ?? "null" : "-") [\(opts)]", sourceLocation: sourceLocation)
            }
        }
        return reader
    }

    @Test func defaults() throws {
        let r = try roundTrip(#"{"rows": 500}"#)
        let byName = Dictionary(uniqueKeysWithValues: r.columns.map { ($0.name, $0) })
        #expect(byName["s"]?.logical == .string)
        #expect(byName["s"]?.physical == .byteArray)
        #expect(byName["d"]?.logical == .date)
        #expect(byName["ts_ms"]?.logical == .timestampMillis(utc: true))
        #expect(byName["ts_us"]?.logical == .timestampMicros(utc: false))
        #expect(byName["ts_ns"]?.logical == .timestampNanos(utc: true))
        #expect(byName["t_ms"]?.logical == .timeMillis(utc: false) || byName["t_ms"]?.logical == .timeMillis(utc: true))
        #expect(byName["dec7"]?.logical == .decimal(precision: 7, scale: 2))
        #expect(byName["dec25"]?.physical == .fixedLenByteArray(11))
        #expect(byName["i8"]?.logical == .int(bits: 8, signed: true))
        #expect(byName["u16"]?.logical == .int(bits: 16, signed: false))
        #expect(byName["req"]?.optional == false)
        #expect(byName["b"]?.optional == true)
    }

    @Test func dataPageV2() throws { _ = try roundTrip(#"{"rows": 500, "data_page_version": "2.0"}"#) }

    @Test(arguments: ["none", "snappy", "gzip", "zstd"])
    func codecs(_ codec: String) throws {
        _ = try roundTrip(#"{"rows": 400, "compression": "\#(codec)"}"#)
        _ = try roundTrip(#"{"rows": 400, "compression": "\#(codec)", "data_page_version": "2.0", "use_dictionary": false}"#)
    }

    @Test func severalRowGroupsAndSmallPages() throws {
        let r = try roundTrip(#"{"rows": 1000, "row_group_size": 128, "data_page_size": 200}"#)
        #expect(r.rowGroupCount == 8)
        _ = try roundTrip(#"{"rows": 1000, "row_group_size": 300, "data_page_size": 100, "data_page_version": "2.0", "compression": "zstd"}"#)
    }

    @Test func dictionaryFallbackMidChunk() throws {
        // pyarrow switches from dictionary to PLAIN pages inside one column chunk.
        _ = try roundTrip(#"{"rows": 3000, "dictionary_pagesize_limit": 300, "data_page_size": 200}"#)
        _ = try roundTrip(#"{"rows": 3000, "dictionary_pagesize_limit": 300, "data_page_size": 200, "data_page_version": "2.0", "compression": "gzip"}"#)
    }

    @Test func plainEncoding() throws {
        _ = try roundTrip(#"{"rows": 300, "use_dictionary": false}"#)
    }

    @Test func decimalsAsIntegers() throws {
        _ = try roundTrip(#"{"rows": 300, "store_decimal_as_integer": true}"#)
    }

    @Test func deltaBinaryPacked() throws {
        _ = try roundTrip(#"{"kind": "ints", "rows": 5000, "column_encoding": {"x": "DELTA_BINARY_PACKED", "y": "DELTA_BINARY_PACKED"}}"#)
        _ = try roundTrip(#"{"kind": "ints", "rows": 777, "column_encoding": {"x": "DELTA_BINARY_PACKED", "y": "DELTA_BINARY_PACKED"}, "data_page_version": "2.0", "data_page_size": 300}"#)
        _ = try roundTrip(#"{"rows": 400, "column_encoding": {"i32": "DELTA_BINARY_PACKED", "i64": "DELTA_BINARY_PACKED", "seq": "DELTA_BINARY_PACKED", "u32": "DELTA_BINARY_PACKED", "d": "DELTA_BINARY_PACKED", "ts_ns": "DELTA_BINARY_PACKED"}}"#)
    }

    @Test func deltaByteArrays() throws {
        _ = try roundTrip(#"{"kind": "ints", "rows": 3000, "column_encoding": {"s": "DELTA_LENGTH_BYTE_ARRAY"}}"#)
        _ = try roundTrip(#"{"kind": "ints", "rows": 3000, "column_encoding": {"s": "DELTA_BYTE_ARRAY"}}"#)
        _ = try roundTrip(#"{"rows": 300, "column_encoding": {"s": "DELTA_BYTE_ARRAY", "bin": "DELTA_LENGTH_BYTE_ARRAY", "fsb": "DELTA_BYTE_ARRAY"}, "data_page_version": "2.0"}"#)
    }

    @Test func byteStreamSplit() throws {
        _ = try roundTrip(#"{"rows": 300, "column_encoding": {"f32": "BYTE_STREAM_SPLIT", "f64": "BYTE_STREAM_SPLIT"}}"#)
    }

    @Test func int96Timestamps() throws {
        let r = try roundTrip(#"{"kind": "int96", "rows": 50}"#)
        #expect(r.columns[0].physical == .int96)
        #expect(r.columns[0].logical == .timestampNanos(utc: false))
    }

    @Test func rowGroupsAndBatches() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/f.parquet"
        _ = try pyarrow(["gen", path, #"{"kind": "ints", "rows": 1000, "row_group_size": 300}"#], in: dir)
        let r = try ParquetReader(path: path)
        var sizes: [Int] = []
        while let b = try r.nextBatch(columns: [1]) {
            #expect(b.count == 1)
            sizes.append(b[0].count)
        }
        #expect(sizes == [300, 300, 300, 100])
        let rows = try r.readRows()
        #expect(rows.count == 1000)
        #expect(rows[1][1] == .int64(1_000_003 - 7))
        #expect(rows[0][0] == .null)
        #expect(rows[1][2].stringValue == "key00000")
        let st = r.statistics(rowGroup: 0, column: 1)
        #expect(st?.min == .int64(-7))
        #expect(st?.nullCount == 0)
    }
}
