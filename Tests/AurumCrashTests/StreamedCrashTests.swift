import Foundation
import Testing
import Aurum
import AurumPostgres

/// A world for the streamed load: `items.csv` → one PostgreSQL table in a schema of its own.
final class StreamedWorld {
    let dir = TempDir("aurum-crash-streamed")
    let schema: String
    let conn: PostgresConnection
    var catalog: String { dir.file("catalog.yaml") }
    var warehouse: String { dir.file("w.db") }
    static let rows = 40_000

    init() throws {
        schema = "aurum_crash_s_" + UUID().uuidString.prefix(8).lowercased()
        conn = try PostgresConnection(Servers.pgConninfo)
        try conn.execute("CREATE SCHEMA \(schema)")
        write(changed: false)
        dir.write("catalog.yaml", """
            version: 1
            warehouse: w.db
            sources:
              - {name: items, type: csv, path: items.csv}
            outputs:
              - {format: postgresql, connection: "\(Servers.pgConninfo)", table: \(schema).items}
            """)
    }

    deinit {
        try? conn.execute("DROP SCHEMA \(schema) CASCADE")
        conn.close()
    }

    /// The first state, or the state after a change set (every 97th row another city, 50 more rows).
    func write(changed: Bool) {
        let cities = ["Toronto", "Montréal", "Ottawa", "Calgary", "Vancouver", "Québec"]
        var s = "id,name,amount,city\n"
        for i in 1...(Self.rows + (changed ? 50 : 0)) {
            let city = cities[(i + (changed && i % 97 == 0 ? 1 : 0)) % cities.count]
            s += "\(i),name \(i % 700),\(i % 300).\(i % 100),\(city)\n"
        }
        dir.write("items.csv", s)
    }

    func start(killAt: String? = nil) throws -> Launch {
        try Launch(["run", catalog, "--quiet"], env: ["AURUM_KILL_AT": killAt])
    }

    func runToCompletion(_ what: String) throws {
        let r = try start().wait()
        guard r.exitedNormally && r.status == 0 else {
            throw HarnessFailure("\(what): aurum run did not succeed (\(r.how)): \(r.stderr)")
        }
    }

    /// The target: its column types, row count and an md5 of its rows in load order (nil: no table).
    func target() throws -> [Value]? {
        guard try conn.query("SELECT to_regclass('\(schema).items') IS NOT NULL").first?.first == .integer(1) else { return nil }
        let types = try conn.query("""
            SELECT string_agg(format_type(atttypid, atttypmod), ',' ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = '\(schema).items'::regclass AND attnum > 0 AND NOT attisdropped
            """).first ?? []
        let rows = try conn.query("SELECT count(*), md5(string_agg(t::text, E'\\n' ORDER BY ctid)) FROM \(schema).items t").first ?? []
        return types + rows
    }

    /// The ledger is closed, the killed run (if any) is marked interrupted, no load table is left,
    /// the target holds the staged rows, and the last run reports the streamed load committed.
    func problems(killedRun: Int64?) throws -> [String] {
        var p: [String] = []
        let db = try SQLiteDatabase(path: warehouse, readOnly: true)
        defer { db.close() }
        if try db.scalar("PRAGMA integrity_check")?.textValue != "ok" { p.append("warehouse integrity_check failed") }
        if try db.scalar("SELECT count(*) FROM runs WHERE status = 'running'") != .integer(0) { p.append("runs still 'running'") }
        if try db.scalar("SELECT count(*) FROM run_steps WHERE status = 'running'") != .integer(0) { p.append("steps still 'running'") }
        let failed = try db.query("SELECT run_id, error FROM runs WHERE status <> 'succeeded'")
        if failed.count != (killedRun == nil ? 0 : 1) || (killedRun != nil && !(failed.first?[1].textValue ?? "").contains("interrupted")) {
            p.append("runs not succeeded: \(failed)")
        }
        if try db.scalar("SELECT count(*) FROM sqlite_master WHERE name LIKE '%\\_\\_load' ESCAPE '\\'") != .integer(0) { p.append("load table left") }
        let staged = try db.scalar("SELECT count(*) FROM src_items")
        if let t = try target(), t.count == 3, t[1] != staged { p.append("target has \(t[1]) rows, \(staged.map(String.init(describing:)) ?? "?") staged") }
        let report = try db.scalar("SELECT report FROM runs WHERE status = 'succeeded' ORDER BY run_id DESC LIMIT 1")?.textValue ?? ""
        if !(report.contains("\"streamed_load\":") && report.contains("\"status\":\"committed\"")) { p.append("the last run did not stream: \(report.suffix(300))") }
        return p
    }
}

@Suite(.enabled(if: Servers.pg, "PostgreSQL server not reachable (set CI=true to fail instead)"))
struct StreamedCrashTests {
    /// The target after an uninterrupted first run and after the change-set run.
    static let references: Result<(first: [Value], second: [Value]), HarnessFailure> = {
        do {
            let w = try StreamedWorld()
            try w.runToCompletion("reference run 1")
            let p1 = try w.problems(killedRun: nil)
            guard p1.isEmpty else { throw HarnessFailure("reference run 1: \(p1)") }
            guard let first = try w.target() else { throw HarnessFailure("reference run 1 wrote no table") }
            w.write(changed: true)
            try w.runToCompletion("reference run 2")
            let p2 = try w.problems(killedRun: nil)
            guard p2.isEmpty else { throw HarnessFailure("reference run 2: \(p2)") }
            guard let second = try w.target(), second != first else { throw HarnessFailure("the change set changed nothing") }
            return .success((first, second))
        } catch let e as HarnessFailure {
            return .failure(e)
        } catch {
            return .failure(HarnessFailure("\(error)"))
        }
    }()

    func expectKilled(_ r: Launch.Result, at p: CrashPoint) throws {
        try #require(r.killedBySIGKILL, "\(p.setting): expected death by SIGKILL, got \(r.how) — is the point reached? \(r.stderr)")
        #expect(r.stderr.contains("aurum: killed at fault point \(p.name) (hit \(p.hit))"), "\(r.stderr)")
    }

    @Test(.timeLimit(.minutes(3)), arguments: CrashPoints.streamed)
    func killedInAStreamedLoad(_ point: CrashPoint) throws {
        let reference = try Self.references.get()
        let w = try StreamedWorld()
        try expectKilled(try w.start(killAt: point.setting).wait(), at: point)
        let after = try w.target()
        #expect(after == nil || after == reference.first, "\(point.setting): the target is half-written: \(after ?? [])")
        try w.runToCompletion("the run after the kill")
        #expect(try w.problems(killedRun: 1) == [], "\(point.setting)")
        #expect(try w.target() == reference.first, "\(point.setting)")
    }

    @Test(.timeLimit(.minutes(3)), arguments: CrashPoints.streamed)
    func killedInAStreamedReload(_ point: CrashPoint) throws {
        let reference = try Self.references.get()
        let w = try StreamedWorld()
        try w.runToCompletion("the first run")
        w.write(changed: true)
        try expectKilled(try w.start(killAt: point.setting).wait(), at: point)
        let after = try w.target()
        #expect(after == reference.first || after == reference.second, "\(point.setting): the target is neither the old table nor the new one: \(after ?? [])")
        try w.runToCompletion("the run after the kill")
        #expect(try w.problems(killedRun: 2) == [], "\(point.setting)")
        #expect(try w.target() == reference.second, "\(point.setting)")
    }
}
