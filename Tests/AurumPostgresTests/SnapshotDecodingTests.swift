import Foundation
import Testing
import Aurum
@testable import AurumPostgres

/// The snapshot's fast path: rows decoded from COPY text (or cursor cells) straight into
/// `RowBatch`es and staged from their bytes. The values and the staged `__hash` must be exactly
/// what decoding each field into a `Value` gives (`RowBatch.contentHash`, the generic path's hash).
@Suite(.enabled(if: PG.enabled, "PostgreSQL server not reachable (set CI=true to fail instead)"), .serialized)
struct SnapshotDecodingTests {
    static let long = String(repeating: "0123456789abcdef\u{e9}", count: 300_000)  // 5.4 MB: past a batch's byte limit

    /// A table whose text needs every COPY escape, with NULLs, empty strings, a literal `\N`,
    /// non-ASCII text and a value longer than a whole batch.
    static func makeTable(_ s: TestSchema) throws -> String {
        let t = s.t("tricky")
        try s.conn.execute("""
            CREATE TABLE \(t) (id int8, txt text, num numeric, ts timestamptz, ok bool, f float8, arr int4[], raw bytea);
            INSERT INTO \(t) VALUES
              (1, E'tab\\there\\nnew line\\rcr \\\\ back', 1.50, '2024-02-29 13:14:15.5+02', true, 2.5, '{1,NULL}', '\\x00ff'),
              (2, '', 0, NULL, false, NULL, '{}', '\\x'),
              (3, NULL, NULL, 'infinity', NULL, 'NaN', NULL, NULL),
              (4, E'\\\\N', -12345678901234567890.5, '2024-01-01 00:00:00+00', true, '-0', '{{1,2},{3,4}}', NULL),
              (5, 'Zürich — 日本語 🎉', 42, '1999-12-31 23:59:59.999999+00', false, 1e300, '{7}', '\\x5c'),
              (6, '\(long)', NULL, NULL, NULL, NULL, NULL, NULL),
              (-9223372036854775808, E'\\\\t is not a tab; a\\tb', 7, NULL, NULL, NULL, NULL, NULL);
            """)
        return t
    }

    static let expected: [[Value]] = [
        [.integer(1), .text("tab\there\nnew line\rcr \\ back"), .text("1.50"), .text("2024-02-29T11:14:15.5Z"), .integer(1),
         .real(2.5), .text("[1,null]"), .blob([0x00, 0xff])],
        [.integer(2), .text(""), .text("0"), .null, .integer(0), .null, .text("[]"), .blob([])],
        [.integer(3), .null, .null, .text("infinity"), .null, .real(.nan), .null, .null],
        [.integer(4), .text("\\N"), .text("-12345678901234567890.5"), .text("2024-01-01T00:00:00Z"), .integer(1),
         .real(-0.0), .text("[[1,2],[3,4]]"), .null],
        [.integer(5), .text("Zürich — 日本語 🎉"), .text("42"), .text("1999-12-31T23:59:59.999999Z"), .integer(0),
         .real(1e300), .text("[7]"), .blob([0x5c])],
        [.integer(6), .text(long), .null, .null, .null, .null, .null, .null],
        [.integer(Int64.min), .text("\\t is not a tab; a\tb"), .text("7"), .null, .null, .null, .null, .null],
    ]

    /// Equal, with NaN equal to NaN.
    static func same(_ a: [Value], _ b: [Value]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in
            if case .real(let p) = x, case .real(let q) = y, p.isNaN, q.isNaN { return true }
            return x == y
        }
    }

    @Test(arguments: PostgresReadMethod.allCases)
    func batchesHoldExactlyTheValuesAndTheirHashes(method: PostgresReadMethod) throws {
        let s = try TestSchema()
        let t = try Self.makeTable(s)
        let query = "SELECT * FROM \(t) ORDER BY id > 0 DESC, id"
        // Row by row (`next()`).
        let rows = try readAll(try PostgresRowReader(connection: PG.conninfo, query: query, method: method))
        #expect(rows.count == Self.expected.count)
        for (i, (got, want)) in zip(rows, Self.expected).enumerated() {
            #expect(Self.same(got, want), "row \(i + 1): \(got.map { "\($0)".prefix(60) })")
        }
        // In batches of at most 4 rows, handed over early once past 1 MB (after the long row),
        // with a fetch size that splits the cursor's results mid-batch.
        let r = try PostgresRowReader(connection: PG.conninfo, query: query, method: method, fetchSize: 3)
        defer { r.close() }
        var batch = RowBatch(width: r.columns.count)
        var sizes: [Int] = []
        var batched: [[Value]] = []
        var more = true
        while more {
            batch.removeAll()
            more = try r.nextBatch(into: &batch, maxRows: 4, maxBytes: 1 << 20)
            if batch.rowCount > 0 { sizes.append(batch.rowCount) }
            for i in 0..<batch.rowCount {
                let row = batch.row(i)
                batched.append(row)
                #expect(batch.hash(ofRow: i) == RowBatch.contentHash(of: row), "row \(batched.count)")
                #expect(batch.line(ofRow: i) == batched.count)
            }
        }
        #expect(sizes == [4, 2, 1])
        #expect(r.itemsRead == 7)
        for (i, (got, want)) in zip(batched, Self.expected).enumerated() {
            #expect(Self.same(got, want), "batched row \(i + 1)")
        }
        // After the end, no more rows.
        batch.removeAll()
        #expect(try r.nextBatch(into: &batch, maxRows: 10, maxBytes: 1 << 20) == false)
        #expect(batch.rowCount == 0)
    }

    @Test func copyTextFieldsDecodeAsTheServerMeantThem() {
        // One COPY line by hand: every escape the text format has, `\N`, an empty field, octal and hex.
        let line = Array("a\\tb\\nc\\\\d\\r\t\\N\t\t\\101\\x42\\\\N\t-17\tt\t2024-01-02 03:04:05+00\t99999999999999999999\n".utf8)
        let types: [PGType] = [.text, .text, .text, .text, .integer, .bool, .timestamptz, .integer]
        let row = line.withUnsafeBufferPointer { CopyText.decodeRow($0, types: types) }
        #expect(row == [.text("a\tb\nc\\d\r"), .null, .text(""), .text("AB\\N"), .integer(-17), .integer(1),
                        .text("2024-01-02T03:04:05Z"), .text("99999999999999999999")])
    }

    /// End to end through the pipeline's snapshot: the staged values, `__key` and `__hash`; a second
    /// snapshot after an update records exactly that row as changed.
    @Test(arguments: PostgresReadMethod.allCases)
    func theSnapshotStagesTheValuesAndHashes(method: PostgresReadMethod) throws {
        AurumPostgres.register()
        let s = try TestSchema()
        let t = try Self.makeTable(s)
        let dir = TempDir()
        let cat = dir.write("snap.yaml", """
            warehouse: w.db
            sources:
              - name: tricky
                type: postgresql
                connection: "\(PG.conninfo)"
                query: SELECT * FROM \(t) ORDER BY id > 0 DESC, id
                key: id
                options: {read_method: \(method.rawValue)}
            outputs:
              - {format: csv, path: out.csv}
            """)
        let first = try Pipeline.snapshotOnly(try CatalogLoader.load(path: cat))
        #expect(first.map(\.rowsStaged) == [7])
        let db = try SQLiteDatabase(path: dir.file("w.db"), readOnly: true)
        let staged = try db.query("SELECT __line, __key, __hash, id, txt, num, ts, ok, f, arr, raw FROM src_tricky ORDER BY __rid")
        db.close()
        #expect(staged.count == 7)
        for (i, (row, want)) in zip(staged, Self.expected).enumerated() {
            #expect(row[0] == .integer(Int64(i + 1)))
            #expect(row[1] == want[0].textValue.map(Value.text))
            #expect(row[2] == .integer(Int64(bitPattern: RowBatch.contentHash(of: want))), "row \(i + 1): the staged hash")
            // SQLite keeps NaN as NULL; the hash above is of the value read (NaN).
            var stored = want
            if case .real(let d) = want[5], d.isNaN { stored[5] = .null }
            #expect(Self.same(Array(row[3...]), stored), "row \(i + 1)")
        }
        try s.conn.execute("UPDATE \(t) SET txt = 'changed' WHERE id = 4")
        _ = try Pipeline.snapshotOnly(try CatalogLoader.load(path: cat))
        let db2 = try SQLiteDatabase(path: dir.file("w.db"), readOnly: true)
        defer { db2.close() }
        let changes = try db2.query("SELECT change, source_key FROM change_sets WHERE run_id = (SELECT max(run_id) FROM runs) ORDER BY source_key")
        #expect(changes == [[.text("update"), .text("4")]])
    }
}
