import Foundation
import Testing
import Aurum
import AurumPostgres

/// The periodic full diff of a cursor source (`options.full_diff_every`), against the real server:
/// a cursor read cannot see rows deleted outright, so every Nth read ignores the cursor, reads the
/// whole source, and the keys it no longer holds become deletes; the watermark is still recorded.
@Suite(.enabled(if: PG.enabled, "PostgreSQL server not reachable (set CI=true to fail instead)"), .serialized)
struct FullDiffTests: CursorRunReadBack {
    func catalog(_ dir: TempDir, _ table: String, every: String) throws -> Catalog {
        AurumPostgres.register()
        return try CatalogLoader.parse(text: """
            warehouse: \(dir.file("w.db"))
            sources:
              - {name: crm, type: postgresql, connection: "\(PG.conninfo)", query: \(table), key: id, options: {cursor: updated_at, full_diff_every: \(every)}}
            outputs:
              - {format: csv, path: \(dir.file("out.csv"))}
            """, file: dir.file("c.yaml"), baseDirectory: dir.path)
    }

    @Test func everySecondReadIsAFullDiffThatDeletesWhatTheSourceNoLongerHolds() throws {
        let s = try TestSchema()
        let dir = TempDir()
        let t = s.t("accounts")
        try s.conn.execute("""
            CREATE TABLE \(t) (id int PRIMARY KEY, name text, updated_at bigint);
            INSERT INTO \(t) VALUES (1, 'Ada', 10), (2, 'Bo', 20), (3, 'Cy', 30)
            """)
        let c = try catalog(dir, t, every: "2")
        // Run 1: the first read is a full one.
        #expect(try Pipeline.run(c).succeeded)
        #expect(output(dir) == ["1,Ada,10", "2,Bo,20", "3,Cy,30"])

        // Run 2 is incremental: it reads only Cy's change; Bo's deletion is not seen (carried over).
        try s.conn.execute("DELETE FROM \(t) WHERE id = 2; UPDATE \(t) SET name = 'Cyd', updated_at = 40 WHERE id = 3")
        #expect(try Pipeline.run(c).succeeded)
        #expect(output(dir) == ["1,Ada,10", "2,Bo,20", "3,Cyd,40"])
        #expect(try ledger(dir, "SELECT change, source_key FROM change_sets WHERE run_id = 2") == [[.text("update"), .text("3")]])

        // Run 3 is the full diff: the cursor is ignored, both rows are read, Bo is a delete.
        #expect(try Pipeline.run(c).succeeded)
        #expect(output(dir) == ["1,Ada,10", "3,Cyd,40"])
        #expect(try ledger(dir, "SELECT change, source_key, rid FROM change_sets WHERE run_id = 3") == [[.text("delete"), .text("2"), .integer(2)]])
        #expect(try ledger(dir, "SELECT inserted, updated, deleted, unchanged FROM change_counts WHERE run_id = 3")
                == [[.integer(0), .integer(0), .integer(1), .integer(2)]])

        // Run 4 is incremental again (Dee is new, Ada's deletion waits for run 5's full diff).
        try s.conn.execute("INSERT INTO \(t) VALUES (4, 'Dee', 50); DELETE FROM \(t) WHERE id = 1")
        #expect(try Pipeline.run(c).succeeded)
        #expect(output(dir) == ["1,Ada,10", "3,Cyd,40", "4,Dee,50"])
        #expect(try Pipeline.run(c).succeeded)
        #expect(output(dir) == ["3,Cyd,40", "4,Dee,50"])
        #expect(try ledger(dir, "SELECT change, source_key FROM change_sets WHERE run_id = 5") == [[.text("delete"), .text("1")]])

        // Every read recorded its watermark; the full ones say so.
        #expect(try ledger(dir, "SELECT run_id, value, rows_read, full_read FROM watermarks ORDER BY run_id") == [
            [.integer(1), .text("30"), .integer(3), .integer(1)],
            [.integer(2), .text("40"), .integer(1), .integer(0)],
            [.integer(3), .text("40"), .integer(2), .integer(1)],
            [.integer(4), .text("50"), .integer(1), .integer(0)],
            [.integer(5), .text("50"), .integer(2), .integer(1)],
        ])
        // The rows kept their ids through incremental and full reads alike.
        #expect(try ledger(dir, "SELECT id, __rid FROM src_crm ORDER BY id") == [[.integer(3), .integer(3)], [.integer(4), .integer(4)]])
    }

    @Test func aFullDiffNeedsACursorAndAWholeNumberOfRuns() throws {
        let dir = TempDir()
        func load(_ options: String) -> String {
            do {
                _ = try CatalogLoader.parse(text: """
                    sources: [{name: crm, type: postgresql, connection: "\(PG.conninfo)", query: t, key: id, options: \(options)}]
                    outputs: [{format: csv, path: out.csv}]
                    """, file: "c.yaml", baseDirectory: dir.path)
                return "loaded"
            } catch {
                return "\(error)"
            }
        }
        #expect(load("{full_diff_every: 3}").contains("sources[0].options.full_diff_every: a periodic full diff needs options.cursor"))
        #expect(load("{cursor: updated_at, full_diff_every: 0}").contains("sources[0].options.full_diff_every: expected a whole number of runs, at least 1"))
        #expect(load("{cursor: updated_at, full_diff_every: 24}") == "loaded")
    }
}
