import Foundation
import Testing
@testable import Aurum

/// `RowBatch`, the connectors' fast path into the staging warehouse: its fields must be exactly the
/// `Value`s they stand for, and its row hash exactly the staged `__hash` of those values.
@Suite struct RowBatchTests {
    static let values: [Value] = [
        .null, .integer(0), .integer(7), .integer(-1), .integer(1_000_000), .integer(Int64.max), .integer(Int64.min),
        .real(1.5), .real(-0.0), .real(.nan), .real(.infinity), .real(1e300),
        .text(""), .text("a"), .text("Zürich"), .text("tab\there\nnew \\ line"), .text("\\N"), .text("日本語 ✓ 🎉"),
        .text(String(repeating: "long value ", count: 100_000)),
        .blob([]), .blob([0, 255, 16]),
    ]

    @Test func fieldsAndHashesAreTheValuesOnes() {
        var batch = RowBatch(width: Self.values.count)
        for v in Self.values { batch.append(v) }
        batch.endRow(line: 9)
        // A second row: the same values in reverse order (the hash is per row, not per batch).
        for v in Self.values.reversed() { batch.append(v) }
        batch.endRow(line: 10)
        #expect(batch.rowCount == 2)
        for (r, row) in [Self.values, Self.values.reversed()].enumerated() {
            let got = batch.row(r)
            for (c, want) in row.enumerated() {
                if case .real(let d) = want, d.isNaN {
                    guard case .real(let g) = got[c], g.isNaN else { Issue.record("row \(r) column \(c): \(got[c])"); continue }
                } else {
                    #expect(got[c] == want, "row \(r) column \(c)")
                }
            }
            #expect(batch.hash(ofRow: r) == RowBatch.contentHash(of: row))
        }
        #expect(batch.line(ofRow: 0) == 9 && batch.line(ofRow: 1) == 10)
        #expect(batch.hash(ofRow: 0) != batch.hash(ofRow: 1))
    }

    /// The staged `__hash` is FNV-1a over each value's type byte, its text and 0x1F: pinned to a
    /// number computed outside Swift, so neither path can drift.
    @Test func theContentHashIsPinned() {
        let row: [Value] = [.integer(42), .text("Zürich"), .null, .real(1.5)]
        #expect(RowBatch.contentHash(of: row) == 2_268_529_156_984_437_398)
        var batch = RowBatch(width: 4)
        batch.appendInteger(42)
        "Zürich".utf8.withContiguousStorageIfAvailable { batch.appendText(validUTF8: $0) }
        batch.appendNull()
        batch.appendReal(1.5)
        batch.endRow(line: 1)
        #expect(batch.hash(ofRow: 0) == 2_268_529_156_984_437_398)
    }

    @Test func decimalDigitsHashAsTheirString() {
        for i: Int64 in [0, 1, 9, 10, -9, -10, 123_456_789, Int64.max, Int64.min, Int64.min + 1] {
            var a = FNV1a(), b = FNV1a()
            a.add(decimal: i)
            b.add(String(i))
            #expect(a.value == b.value, "\(i)")
        }
    }

    /// Text appended from bytes is exactly `String(decoding:as: UTF8.self)` of them, also for bytes
    /// that are not valid UTF-8 (repaired the same way).
    @Test func textFromBytesIsStringDecoding() {
        var samples: [[UInt8]] = [
            [], Array("plain".utf8), Array("Zürich".utf8), [0xC3], [0xC3, 0x28], [0xE2, 0x82], [0xE2, 0x82, 0xAC],
            [0xED, 0xA0, 0x80], [0xF0, 0x9F, 0x8E, 0x89], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF], [0xE0, 0x80, 0xAF],
            [0xFF], Array("12345678abcdefg\u{e9}".utf8), Array("12345678".utf8) + [0x80] + Array("12345678".utf8),
        ]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let n = Int.random(in: 0..<24, using: &rng)
            samples.append((0..<n).map { _ in
                // Mostly the bytes UTF-8 is made of, so that valid and nearly valid sequences come up.
                [0x41, 0x7F, 0x80, 0xBF, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xA0, 0x9F, 0x90, 0x8F].randomElement(using: &rng)!
            })
        }
        for bytes in samples {
            var batch = RowBatch(width: 1)
            bytes.withUnsafeBufferPointer { batch.appendText(decoding: $0) }
            batch.endRow(line: 1)
            let want = String(decoding: bytes, as: UTF8.self)
            #expect(batch.value(0, 0) == .text(want), "\(bytes)")
            #expect(batch.hash(ofRow: 0) == RowBatch.contentHash(of: [.text(want)]), "\(bytes)")
        }
    }

    @Test func aDiscardedHalfRowLeavesTheBatchAsBefore() {
        var batch = RowBatch(width: 2)
        batch.append(.text("a")); batch.append(.integer(1)); batch.endRow(line: 1)
        batch.append(.text("half"))
        batch.discardOpenRow()
        batch.append(.text("b")); batch.append(.null); batch.endRow(line: 2)
        #expect(batch.row(0) == [.text("a"), .integer(1)])
        #expect(batch.row(1) == [.text("b"), .null])
        #expect(batch.hash(ofRow: 1) == RowBatch.contentHash(of: [.text("b"), .null]))
        batch.removeAll()
        #expect(batch.rowCount == 0 && batch.fieldCount == 0 && batch.bytes.isEmpty)
    }
}
