import Foundation
import Testing
import Aurum
import AurumPostgres

/// The incremental cursor of a PostgreSQL source, end to end against the real server: watermarks
/// recorded per run, the next run reading only rows past them (with an optional overlap), merged
/// into the previous snapshot by key.
/// What the cursor-source suites read back from a run in `dir`: its warehouse `w.db` and its CSV
/// output `out.csv` (sorted lines, without the header).
protocol CursorRunReadBack {}

extension CursorRunReadBack {
    func ledger(_ dir: TempDir, _ sql: String) throws -> [[Value]] {
        let db = try SQLiteDatabase(path: dir.file("w.db"), readOnly: true)
        defer { db.close() }
        return try db.query(sql)
    }

    func output(_ dir: TempDir) -> [String] {
        (dir.read("out.csv") ?? "").split(separator: "\n").dropFirst().map(String.init).sorted()
    }
}

@Suite(.enabled(if: PG.enabled, "PostgreSQL server not reachable (set CI=true to fail instead)"), .serialized)
struct IncrementalTests: CursorRunReadBack {
    func catalog(_ dir: TempDir, _ table: String, overlap: String? = nil, deleted: String? = nil) throws -> Catalog {
        AurumPostgres.register()
        let o = (overlap.map { ", overlap: \"\($0)\"" } ?? "") + (deleted.map { ", deleted_column: \($0)" } ?? "")
        return try CatalogLoader.parse(text: """
            warehouse: \(dir.file("w.db"))
            sources:
              - {name: crm, type: postgresql, connection: "\(PG.conninfo)", query: \(table), key: id, options: {cursor: updated_at\(o)}}
            outputs:
              - {format: csv, path: \(dir.file("out.csv"))}
            """, file: dir.file("c.yaml"), baseDirectory: dir.path)
    }

    @Test func watermarksAreRecordedAndTheNextRunReadsOnlyWhatChanged() throws {
        let s = try TestSchema()
        let dir = TempDir()
        let t = s.t("customers")
        try s.conn.execute("""
            CREATE TABLE \(t) (id int PRIMARY KEY, name text, updated_at timestamptz);
            INSERT INTO \(t) VALUES (1, 'Ada', '2024-01-01T00:00:00Z'), (2, 'Bo', '2024-01-02T00:00:00Z'), (3, 'Cy', '2024-01-03T00:00:00Z')
            """)
        // Run 1 reads everything and records the largest updated_at.
        #expect(try Pipeline.run(try catalog(dir, t)).succeeded)
        #expect(output(dir).count == 3)
        #expect(try ledger(dir, "SELECT source, run_id, column_name, value, rows_read FROM watermarks") ==
                [[.text("crm"), .integer(1), .text("updated_at"), .text("2024-01-03T00:00:00Z"), .integer(3)]])

        // Run 2: one row changed, one new; only those two are read, merged by key into the snapshot.
        try s.conn.execute("""
            UPDATE \(t) SET name = 'Bob', updated_at = '2024-01-05T00:00:00Z' WHERE id = 2;
            INSERT INTO \(t) VALUES (4, 'Dee', '2024-01-04T00:00:00Z')
            """)
        let r2 = try Pipeline.run(try catalog(dir, t))
        #expect(r2.succeeded)
        #expect(output(dir) == ["1,Ada,2024-01-01T00:00:00Z", "2,Bob,2024-01-05T00:00:00Z", "3,Cy,2024-01-03T00:00:00Z", "4,Dee,2024-01-04T00:00:00Z"])
        #expect(try ledger(dir, "SELECT rows_read, rows_staged FROM snapshots WHERE run_id = 2") == [[.integer(2), .integer(2)]])
        #expect(try ledger(dir, "SELECT value, rows_read FROM watermarks WHERE run_id = 2") == [[.text("2024-01-05T00:00:00Z"), .integer(2)]])
        #expect(r2.report["integration_report"]?["total_records"] == .int(4))

        // A row committed late with an older cursor value is past no watermark: run 3 misses it…
        try s.conn.execute("INSERT INTO \(t) VALUES (5, 'Eve', '2024-01-04T12:00:00Z')")
        #expect(try Pipeline.run(try catalog(dir, t)).succeeded)
        #expect(output(dir).count == 4)
        #expect(try ledger(dir, "SELECT value, rows_read FROM watermarks WHERE run_id = 3") == [[.text("2024-01-05T00:00:00Z"), .integer(0)]])
        // …and an overlap finds it; the rows read again replace themselves, and the watermark never moves back.
        #expect(try Pipeline.run(try catalog(dir, t, overlap: "2 days")).succeeded)
        #expect(output(dir).count == 5)
        #expect(output(dir).contains("5,Eve,2024-01-04T12:00:00Z"))
        #expect(try ledger(dir, "SELECT value, rows_read FROM watermarks WHERE run_id = 4") == [[.text("2024-01-05T00:00:00Z"), .integer(3)]])
        #expect(try ledger(dir, "SELECT count(*), count(DISTINCT id) FROM src_crm") == [[.integer(5), .integer(5)]])
    }

    @Test func aFailedRunsWatermarkIsNotUsedAndACursorNeedsAKey() throws {
        let s = try TestSchema()
        let dir = TempDir()
        let t = s.t("items")
        try s.conn.execute("CREATE TABLE \(t) (id int, name text, updated_at bigint); INSERT INTO \(t) VALUES (1, 'a', 10), (2, 'b', 20)")
        AurumPostgres.register()
        // Run 1 stages the rows, then fails in its output (a file path under a regular file).
        dir.write("blocker", "x")
        let failing = try CatalogLoader.parse(text: """
            warehouse: \(dir.file("w.db"))
            sources: [{name: crm, type: postgresql, connection: "\(PG.conninfo)", query: \(t), key: id, options: {cursor: updated_at}}]
            outputs: [{format: csv, path: \(dir.file("blocker/out.csv"))}]
            """, file: dir.file("c.yaml"), baseDirectory: dir.path)
        #expect(throws: AurumError.self) { _ = try Pipeline.run(failing) }
        #expect(try ledger(dir, "SELECT value FROM watermarks") == [[.text("20")]])
        // Run 2 resumes from no watermark (run 1 failed), so it reads both rows again.
        #expect(try Pipeline.run(try catalog(dir, t)).succeeded)
        #expect(try ledger(dir, "SELECT rows_read FROM watermarks WHERE run_id = 2") == [[.integer(2)]])
        #expect(output(dir).count == 2)

        let noKey = """
            sources: [{name: crm, type: postgresql, connection: "\(PG.conninfo)", query: \(t), options: {cursor: updated_at}}]
            outputs: [{format: csv, path: out.csv}]
            """
        #expect { _ = try CatalogLoader.parse(text: noKey, file: "c.yaml", baseDirectory: dir.path) } throws: {
            "\($0)".contains("sources[0].options.cursor: an incremental cursor needs the source's key")
        }
    }

    /// A soft-delete column on a cursor source: a row updated past the watermark with the column
    /// set is a delete (not staged, not carried over), the rest merge as before.
    @Test func aSoftDeleteColumnDeletesRowsReadPastTheWatermark() throws {
        let s = try TestSchema()
        let dir = TempDir()
        let t = s.t("members")
        try s.conn.execute("""
            CREATE TABLE \(t) (id int PRIMARY KEY, name text, deleted_at timestamptz, updated_at bigint);
            INSERT INTO \(t) VALUES (1, 'Ada', NULL, 10), (2, 'Bo', NULL, 20), (3, 'Cy', NULL, 30), (4, 'Dee', '2024-01-01T00:00:00Z', 40)
            """)
        #expect(try Pipeline.run(try catalog(dir, t, deleted: "deleted_at")).succeeded)
        #expect(output(dir) == ["1,Ada,,10", "2,Bo,,20", "3,Cy,,30"])
        #expect(try ledger(dir, "SELECT rows_read, rows_staged FROM snapshots WHERE run_id = 1") == [[.integer(4), .integer(3)]])

        // Run 2 reads rows 2, 3 and 5: 2 deleted, 3 changed, 5 new and deleted at once; 1 is carried over.
        try s.conn.execute("""
            UPDATE \(t) SET deleted_at = '2024-02-01T00:00:00Z', updated_at = 50 WHERE id = 2;
            UPDATE \(t) SET name = 'Cyd', updated_at = 60 WHERE id = 3;
            INSERT INTO \(t) VALUES (5, 'Eve', '2024-02-02T00:00:00Z', 70)
            """)
        #expect(try Pipeline.run(try catalog(dir, t, deleted: "deleted_at")).succeeded)
        #expect(output(dir) == ["1,Ada,,10", "3,Cyd,,60"])
        #expect(try ledger(dir, "SELECT id, __first_run FROM src_crm ORDER BY id") == [[.integer(1), .integer(1)], [.integer(3), .integer(1)]])
        #expect(try ledger(dir, "SELECT change, source_key FROM change_sets WHERE run_id = 2 ORDER BY rowid")
                == [[.text("delete"), .text("2")], [.text("update"), .text("3")]])
        #expect(try ledger(dir, "SELECT inserted, updated, deleted, unchanged FROM change_counts WHERE run_id = 2")
                == [[.integer(0), .integer(1), .integer(1), .integer(1)]])
        #expect(try ledger(dir, "SELECT value, rows_read FROM watermarks WHERE run_id = 2") == [[.text("70"), .integer(3)]])
    }
}
