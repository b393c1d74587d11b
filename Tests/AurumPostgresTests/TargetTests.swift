import Foundation
import Testing
import Aurum
import AurumPostgres

@Suite(.enabled(if: PG.enabled, "PostgreSQL server not reachable (set CI=true to fail instead)"), .serialized)
struct TargetTests {
    func types(_ s: TestSchema, _ table: String) throws -> [[Value]] {
        try s.rows("SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = '\(s.name)' AND table_name = '\(table)' ORDER BY ordinal_position")
    }

    /// A cursor over `rows`: values (`next()`) or fields in place (`RawRowCursor`).
    func cursor(_ raw: Bool, _ columns: [String], _ rows: [[Value]]) -> RowCursor {
        raw ? RawArrayCursor(columns, rows) : ArrayCursor(columns, rows)
    }

    @Test(arguments: [false, true]) func createsTheTableAndLoads(raw: Bool) throws {
        let s = try TestSchema()
        let cols = ["id", "amount", "name", "raw", "nothing", "mixed"]
        let rows: [[Value]] = [
            [.integer(1), .real(1.5), .text("tab\there, new\nline, back\\slash, quote \"'"), .blob([0, 1, 255]), .null, .integer(1)],
            [.integer(2), .real(-0.1), .text("Zoë ✓"), .blob([]), .null, .real(2.5)],
            [.integer(3), .null, .null, .null, .null, .integer(7)],
        ]
        let t = try PostgresTable(connection: PG.conninfo, table: s.t("people"))
        defer { t.close() }
        #expect(try t.replace(cursor(raw, cols, rows)) == 3)
        #expect(try types(s, "people") == [
            [.text("id"), .text("bigint")], [.text("amount"), .text("double precision")], [.text("name"), .text("text")],
            [.text("raw"), .text("bytea")], [.text("nothing"), .text("text")], [.text("mixed"), .text("double precision")],
        ])
        let back = try readAll(try PostgresRowReader(connection: PG.conninfo, query: "SELECT * FROM \(s.t("people")) ORDER BY id"))
        #expect(back == [
            [.integer(1), .real(1.5), .text("tab\there, new\nline, back\\slash, quote \"'"), .blob([0, 1, 255]), .null, .real(1)],
            [.integer(2), .real(-0.1), .text("Zoë ✓"), .blob([]), .null, .real(2.5)],
            [.integer(3), .null, .null, .null, .null, .real(7)],
        ])
        // A second full load replaces the contents.
        #expect(try t.replace(cursor(raw, cols, [rows[1]])) == 1)
        #expect(try s.rows("SELECT id FROM \(s.t("people"))") == [[.integer(2)]])
    }

    @Test(arguments: [false, true]) func numbersAndTextRoundTripThroughCopy(raw: Bool) throws {
        let s = try TestSchema()
        let ints: [Int64] = [0, 9, 10, -1, -10, 99, 100, Int64.max, Int64.min, 1_234_567_890_123]
        let reals: [Double] = [0, -0.5, 1e-7, 1e300, .infinity, -.infinity, 0.1 + 0.2, 123456.789, Double.leastNonzeroMagnitude, 42]
        let texts = ["", "\\", "a\tb", "\\N", "\r\n", "é", "😀", "x\\ty", "end\\", " lead"]
        let rows = (0..<10).map { [Value.integer(ints[$0]), .real(reals[$0]), .text(texts[$0])] }
        let t = try PostgresTable(connection: PG.conninfo, table: s.t("nums"))
        defer { t.close() }
        try t.replace(cursor(raw, ["i", "r", "t"], rows))
        let back = try readAll(try PostgresRowReader(connection: PG.conninfo, query: "SELECT i, r, t FROM \(s.t("nums"))"))
        #expect(back == rows)
        // An empty text stays empty, not NULL.
        #expect(try s.rows("SELECT count(*) FROM \(s.t("nums")) WHERE t = ''") == [[.integer(1)]])
    }

    @Test func laterBatchesWidenColumnsTheRunCreated() throws {
        let s = try TestSchema()
        let rows: [[Value]] = [[.integer(1), .null], [.integer(2), .null], [.real(2.5), .integer(5)], [.text("x"), .text("y")]]
        let t = try PostgresTable(connection: PG.conninfo, table: s.t("w"))
        defer { t.close() }
        #expect(try t.replace(ArrayCursor(["a", "b"], rows), batchSize: 2) == 4)
        #expect(try types(s, "w") == [[.text("a"), .text("text")], [.text("b"), .text("text")]])
        #expect(try s.rows("SELECT a, b FROM \(s.t("w")) ORDER BY a") == [
            [.text("1"), .null], [.text("2"), .null], [.text("2.5"), .text("5")], [.text("x"), .text("y")]])
    }

    @Test func existingIncompatibleTableIsReportedClearly() throws {
        let s = try TestSchema()
        try s.conn.execute("CREATE TABLE \(s.t("legacy")) (id integer, amount integer, created date, must text NOT NULL); INSERT INTO \(s.t("legacy")) VALUES (9, 9, '2020-01-01', 'keep')")
        let t = try PostgresTable(connection: PG.conninfo, table: s.t("legacy"))
        defer { t.close() }
        let rows: [[Value]] = [[.integer(1), .real(1.25), .text("2024-01-01"), .text("n")]]
        let e = #expect(throws: AurumError.self) { try t.replace(ArrayCursor(["id", "amount", "created", "name"], rows)) }
        let m = e?.description ?? ""
        #expect(e?.code == .output)
        #expect(m.contains("table \(s.t("legacy"))"))
        #expect(m.contains("missing columns: name"))
        #expect(m.contains("'amount' is integer but the values are double precision"))
        #expect(m.contains("NOT NULL columns without a default that the output does not have: must"))
        #expect(m.contains("dbname=\(PG.database)"))
        // Nothing changed.
        #expect(try s.rows("SELECT id FROM \(s.t("legacy"))") == [[.integer(9)]])
        // A compatible existing table (text into date, integers into integer) is loaded.
        let ok: [[Value]] = [[.integer(1), .integer(2), .text("2024-01-01"), .text("n")]]
        #expect(try t.replace(ArrayCursor(["id", "amount", "created", "must"], ok)) == 1)
        #expect(try s.rows("SELECT id, amount, created::text, must FROM \(s.t("legacy"))") == [[.integer(1), .integer(2), .text("2024-01-01"), .text("n")]])
    }

    @Test func upsertAndDeleteByKey() throws {
        let s = try TestSchema()
        let t = try PostgresTable(connection: PG.conninfo, table: s.t("cust"), key: ["id"])
        defer { t.close() }
        let cols = ["id", "name", "score"]
        #expect(try t.upsert(columns: cols, rows: [[.integer(1), .text("Ann"), .integer(10)], [.integer(2), .text("Bob"), .integer(20)]]) == 2)
        // Update 2, insert 3; within a batch the last row of a key wins.
        #expect(try t.upsert(columns: cols, rows: [[.integer(2), .text("Bobby"), .integer(21)], [.integer(3), .text("Cy"), .null],
                                                   [.integer(3), .text("Cyrus"), .integer(30)]]) == 2)
        #expect(try s.rows("SELECT id, name, score FROM \(s.t("cust")) ORDER BY id") == [
            [.integer(1), .text("Ann"), .integer(10)], [.integer(2), .text("Bobby"), .integer(21)], [.integer(3), .text("Cyrus"), .integer(30)]])
        // The unique index exists on the key.
        #expect(try s.rows("SELECT count(*) FROM pg_indexes WHERE schemaname = '\(s.name)' AND tablename = 'cust' AND indexdef LIKE 'CREATE UNIQUE INDEX%'") == [[.integer(1)]])
        #expect(try t.delete(keys: [[.integer(1)], [.integer(3)], [.integer(99)]]) == 2)
        #expect(try s.rows("SELECT id FROM \(s.t("cust"))") == [[.integer(2)]])
        // Composite keys through a cursor, in batches.
        let t2 = try PostgresTable(connection: PG.conninfo, table: s.t("pairs"), key: ["a", "b"])
        defer { t2.close() }
        let many = (0..<25).map { [Value.integer(Int64($0 % 5)), .integer(Int64($0 / 5)), .integer(Int64($0))] }
        #expect(try t2.upsert(ArrayCursor(["a", "b", "v"], many), batchSize: 10) == 25)
        #expect(try t2.upsert(ArrayCursor(["a", "b", "v"], [[.integer(0), .integer(0), .integer(100)]])) == 1)
        #expect(try s.rows("SELECT count(*), sum(v) FROM \(s.t("pairs"))") == [[.integer(25), .text("400")]])
        #expect(try t2.delete(keys: [[.integer(0), .integer(0)], [.integer(4), .integer(4)]]) == 2)
        #expect(try s.rows("SELECT count(*) FROM \(s.t("pairs"))") == [[.integer(23)]])
    }

    @Test func aFailedBatchLeavesNothingWritten() throws {
        let s = try TestSchema()
        try s.conn.execute("CREATE TABLE \(s.t("acct")) (id bigint, amount bigint CHECK (amount >= 0)); CREATE UNIQUE INDEX ON \(s.t("acct")) (id); INSERT INTO \(s.t("acct")) VALUES (1, 10)")
        let t = try PostgresTable(connection: PG.conninfo, table: s.t("acct"), key: ["id"])
        defer { t.close() }
        let bad: [[Value]] = [[.integer(1), .integer(11)], [.integer(2), .integer(-5)], [.integer(3), .integer(30)]]
        // Upsert: the violating row in the middle fails the whole batch.
        let e = #expect(throws: AurumError.self) { try t.upsert(columns: ["id", "amount"], rows: bad) }
        #expect(e?.description.contains("violates check constraint") == true)
        #expect(try s.rows("SELECT id, amount FROM \(s.t("acct"))") == [[.integer(1), .integer(10)]])
        // Full replacement: the old contents stay.
        #expect(throws: AurumError.self) { try t.replace(ArrayCursor(["id", "amount"], bad)) }
        #expect(try s.rows("SELECT id, amount FROM \(s.t("acct"))") == [[.integer(1), .integer(10)]])
        // Append: batches of 2, the first commits, the failing second leaves nothing of itself.
        #expect(throws: AurumError.self) {
            try t.append(ArrayCursor(["id", "amount"], [[.integer(5), .integer(5)], [.integer(6), .integer(6)], [.integer(7), .integer(-1)], [.integer(8), .integer(8)]]), batchSize: 2)
        }
        #expect(try s.rows("SELECT id FROM \(s.t("acct")) ORDER BY id") == [[.integer(1)], [.integer(5)], [.integer(6)]])
        // The connection is still usable after the failures.
        #expect(try t.upsert(columns: ["id", "amount"], rows: [[.integer(1), .integer(12)]]) == 1)
        // Delete is transactional too: a bad key value fails it whole.
        #expect(throws: AurumError.self) { try t.delete(keys: [[.integer(5)], [.text("not a number")]]) }
        #expect(try s.rows("SELECT count(*) FROM \(s.t("acct"))") == [[.integer(3)]])
    }
}
