@testable import Aurum
import AurumMongo
import AurumPostgres
import AurumRedis
import AurumTestSupport
import Foundation
import Testing

/// Sync against each kind of target, with the real servers: golden records of a small matching
/// catalog synced to PostgreSQL, SQLite, MongoDB, Redis and a partitioned CSV directory.
///
/// The data: five golden records (1 william smith ×3 records, 2 maria garcia ×2, 3 mario garcia,
/// 4 anne lee, 5 ann lee). The change set: mario's e-mail changes (update 3), anne's only record
/// goes (delete 4), zed young arrives (insert 6).
@Suite(.serialized) struct SyncTests {
    static let crm = """
        id,first_name,last_name,birth_date,email,country
        C1,William,Smith,1980-02-03,bill@example.com,US
        C2,Bill,Smith,1980-02-03,,US
        C3,Maria,Garcia,1975-11-30,maria@example.com,ES
        C4,Mario,Garcia,1975-11-30,mario@example.com,ES
        C5,Anne,Lee,1985-07-04,anne@example.com,CA

        """
    static let crmChanged = """
        id,first_name,last_name,birth_date,email,country
        C1,William,Smith,1980-02-03,bill@example.com,US
        C2,Bill,Smith,1980-02-03,,US
        C3,Maria,Garcia,1975-11-30,maria@example.com,ES
        C4,Mario,Garcia,1975-11-30,mario@garcia.es,ES
        C6,Zed,Young,1990-01-01,zed@example.com,ES

        """
    static let shop = """
        cust,given,surname,dob,mail,country
        S1,Wiliam,Smith,03/02/1980,BILL@EXAMPLE.COM,US
        S2,Maria,García,30/11/1975,maria@example.com,ES
        S3,Ann,Lee,04/07/1985,ann.lee@example.net,CA

        """

    static func catalog(output: String) -> String {
        """
        version: 1
        sources:
          - {name: crm, type: csv, path: crm.csv, key: id}
          - {name: shop, type: csv, path: shop.csv, key: cust}
        entities:
          person:
            attributes:
              given_name: [trim, lower, fold_accents, nickname]
              family_name: [trim, lower, fold_accents]
              dob: {type: date}
              email: [email]
              country: [trim]
            sources:
              crm: {given_name: first_name, family_name: last_name, dob: birth_date, email: email, country: country}
              shop: {given_name: given, family_name: surname, dob: "parse_date(dob, '%d/%m/%Y')", email: mail, country: country}
            match:
              blocking: [[family_name]]
              comparisons:
                given_name: {levels: [exact, {jaro_winkler: 0.9}], m: [0.85, 0.1, 0.05], u: [0.02, 0.03, 0.95]}
                dob: {levels: [exact], m: [0.95, 0.05], u: [0.001, 0.999]}
                email: {levels: [exact], m: [0.7, 0.3], u: [0.0001, 0.9999]}
              prior: 0.2
              thresholds: {link: 0.999, review: 0.3}
        outputs:
          - \(output)
        """
    }

    static let before = [
        "1|william|smith|1980-02-03|bill@example.com|US|3|crm;shop",
        "2|maria|garcia|1975-11-30|maria@example.com|ES|2|crm;shop",
        "3|mario|garcia|1975-11-30|mario@example.com|ES|1|crm",
        "4|anne|lee|1985-07-04|anne@example.com|CA|1|crm",
        "5|ann|lee|1985-07-04|ann.lee@example.net|CA|1|shop",
    ]
    static let after = [
        "1|william|smith|1980-02-03|bill@example.com|US|3|crm;shop",
        "2|maria|garcia|1975-11-30|maria@example.com|ES|2|crm;shop",
        "3|mario|garcia|1975-11-30|mario@garcia.es|ES|1|crm",
        "5|ann|lee|1985-07-04|ann.lee@example.net|CA|1|shop",
        "6|zed|young|1990-01-01|zed@example.com|ES|1|crm",
    ]
    static let columns = ["golden_id", "given_name", "family_name", "dob", "email", "country", "record_count", "sources"]

    init() {
        AurumPostgres.register()
        AurumRedis.register()
        AurumMongo.register()
    }

    /// One kind of target: its output line, and how a test edits it by hand and tells it was not written.
    struct Target: CustomStringConvertible, Sendable {
        var kind: String
        var description: String { kind }
    }

    static let kinds = ["postgresql", "sqlite", "mongodb", "redis", "csv"].map(Target.init)

    final class Fixture {
        let dir = TempDir("sync")
        let kind: String
        let unique = "aurum_sync_" + UUID().uuidString.prefix(8).lowercased()
        var pg: PostgresConnection?

        init(_ kind: String) throws {
            self.kind = kind
            dir.write("crm.csv", SyncTests.crm)
            dir.write("shop.csv", SyncTests.shop)
            if kind == "postgresql" {
                pg = try PostgresConnection(Env.pg)
                try pg!.execute("CREATE SCHEMA \(unique)")
            }
            dir.write("catalog.yaml", SyncTests.catalog(output: output))
        }

        deinit {
            try? pg?.execute("DROP SCHEMA \(unique) CASCADE")
            pg?.close()
            if kind == "redis", let w = try? RedisWriter(connection: Env.redis, options: ["key": .string(redisKey)]) { _ = try? w.deleteAll(); w.close() }
            if kind == "mongodb", let w = try? MongoWriter(connection: "\(Env.mongo)/\(unique)", collection: "golden") { try? w.drop(); w.close() }
        }

        var redisKey: String { "\(unique):golden:{golden_id}" }

        var output: String {
            switch kind {
            case "postgresql": return "{name: t, format: postgresql, connection: \"\(Env.pg)\", table: \(unique).golden, sync: true}"
            case "sqlite": return "{name: t, format: sqlite, path: out/master.db, table: golden, sync: true}"
            case "mongodb": return "{name: t, format: mongodb, connection: \"\(Env.mongo)/\(unique)\", table: golden, sync: true}"
            case "redis": return "{name: t, format: redis, connection: \"\(Env.redis)\", options: {key: \"\(redisKey)\"}, sync: true}"
            default: return "{name: t, format: csv, path: out/by_country, partition: {by: country, type: category}, sync: true}"
            }
        }

        var catalogPath: String { dir.file("catalog.yaml") }
        func catalog() throws -> Catalog { try CatalogLoader.load(path: catalogPath) }
        func run() throws -> RunOutcome { try Pipeline.run(try catalog()) }
        func out() throws -> OutputSpec { try catalog().outputs[0] }

        /// The target's rows, `|`-joined in the golden columns' order, sorted by golden id.
        func rows() throws -> [String] {
            let reader = try TargetReader.open(try out(), catalog: try catalog())
            defer { reader.close() }
            var out: [(Int, String)] = []
            while let v = try reader.next() {
                let cols = reader.columns
                let cells = SyncTests.columns.map { c -> String in
                    guard let i = cols.firstIndex(of: c), i < v.count else { return "" }
                    return v[i].textValue ?? ""
                }
                out.append((Int(cells[0]) ?? -1, cells.joined(separator: "|")))
            }
            return out.sorted { $0.0 < $1.0 }.map(\.1)
        }

        /// By hand, in the target: delete golden record 2, change 3's e-mail, add a record 99.
        func tamper() throws {
            let o = try out()
            switch kind {
            case "postgresql":
                // From a session of its own, closed at once: a backend reports its counters when it ends.
                let c = try PostgresConnection(Env.pg)
                defer { c.close() }
                try c.execute("DELETE FROM \(unique).golden WHERE golden_id = 2; UPDATE \(unique).golden SET email = 'hand@edit' WHERE golden_id = 3; INSERT INTO \(unique).golden (golden_id, given_name) VALUES (99, 'hand')")
            case "sqlite":
                let db = try SQLiteDatabase(path: o.path)
                defer { db.close() }
                try db.execute("DELETE FROM golden WHERE golden_id = 2; UPDATE golden SET email = 'hand@edit' WHERE golden_id = 3; INSERT INTO golden (golden_id, given_name) VALUES (99, 'hand')")
            case "mongodb":
                let w = try MongoWriter(connection: "\(Env.mongo)/\(unique)", collection: "golden", options: ["key": .string("golden_id"), "mode": .string("set")])
                defer { w.close() }
                try w.delete(keys: [[.integer(2)]])
                try w.upsert(columns: ["golden_id", "email"], rows: [[.integer(3), .text("hand@edit")]])
                try w.upsert(columns: ["golden_id", "given_name"], rows: [[.integer(99), .text("hand")]])
            case "redis":
                let w = try RedisWriter(connection: Env.redis, options: ["key": .string(redisKey), "mode": .string("merge")])
                defer { w.close() }
                try w.delete(keys: ["\(unique):golden:2"])
                try w.upsert(columns: ["golden_id", "email"], rows: [[.integer(3), .text("hand@edit")]])
                try w.upsert(columns: ["golden_id", "given_name"], rows: [[.integer(99), .text("hand")]])
            default:
                let es = dir.file("out/by_country/country=ES/part-00000.csv")
                var lines = try String(contentsOfFile: es, encoding: .utf8).split(separator: "\n").map(String.init)
                lines = lines.filter { !$0.hasPrefix("2,") }.map { $0.hasPrefix("3,") ? $0.replacingOccurrences(of: "mario@garcia.es", with: "hand@edit") : $0 }
                try (lines.joined(separator: "\n") + "\n").write(toFile: es, atomically: false, encoding: .utf8)
                let us = dir.file("out/by_country/country=US/part-00000.csv")
                let text = try String(contentsOfFile: us, encoding: .utf8) + "99,hand,,,,US,,\n"
                try text.write(toFile: us, atomically: false, encoding: .utf8)
            }
        }

        /// Evidence that the target was written: PostgreSQL's tuple counters, file modification times.
        /// (MongoDB and Redis: the edits made by hand surviving a sync say it wrote nothing.)
        func writeStamp() throws -> String {
            switch kind {
            case "postgresql":
                _ = try pg!.query("SELECT pg_stat_clear_snapshot()")
                Thread.sleep(forTimeInterval: 0.6)   // a backend reports its counters at most once a second... and when it ends
                _ = try pg!.query("SELECT pg_stat_clear_snapshot()")
                let r = try pg!.query("SELECT n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'golden'", [unique])
                return r.map { $0.map { $0.textValue ?? "" }.joined(separator: ",") }.joined()
            case "sqlite": return try Self.mtimes([try out().path])
            case "csv":
                let base = dir.file("out/by_country")
                let files = (FileManager.default.enumerator(atPath: base)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".csv") }.sorted()
                return try Self.mtimes(files.map { base + "/" + $0 })
            default: return ""
            }
        }

        static func mtimes(_ paths: [String]) throws -> String {
            try paths.map { p in
                let a = try FileManager.default.attributesOfItem(atPath: p)
                return "\(p):\((a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0):\(a[.size] ?? 0)"
            }.joined(separator: ";")
        }

        func aurum(_ args: [String]) throws -> ProcessResult { try runAurum(args, cwd: dir.path) }
    }

    enum Env {
        static var pg: String { TestServers.pgConninfo }
        static var redis: String { TestServers.redisURL }
        static var mongo: String { TestServers.mongoURL }
    }

    func sync(_ f: Fixture) throws -> SyncOutcome { try #require(try Syncer.run(try f.catalog()).first) }

    @Test(arguments: kinds)
    func syncWritesOnlyWhatChanged(_ target: Target) throws {
        let f = try Fixture(target.kind)
        // 1. The first sync (by `aurum run`) writes everything.
        let first = try f.run()
        #expect(first.succeeded)
        #expect(try f.rows() == Self.before)
        let s1 = try #require(try Syncer.status(try f.catalog()).first)
        #expect(s1.syncedRun == first.runID && s1.rows == 5 && s1.pending == SyncCounts(inserted: 0, updated: 0, deleted: 0, unchanged: 5))

        // 2. A change set in the sources, matched and survived by a run without outputs.
        f.dir.write("crm.csv", Self.crmChanged)
        f.dir.write("noout.yaml", try String(contentsOfFile: f.catalogPath, encoding: .utf8).replacingOccurrences(of: "outputs:\n  - \(f.output)", with: "outputs: []"))
        #expect(try Pipeline.run(try CatalogLoader.load(path: f.dir.file("noout.yaml"))).succeeded)
        let s2 = try #require(try Syncer.status(try f.catalog()).first)
        #expect(s2.syncedRun == first.runID && s2.pending == SyncCounts(inserted: 1, updated: 1, deleted: 1, unchanged: 3))

        // 3. --plan and --plan --show print exactly what would change and write nothing (warehouse included).
        let warehouseBefore = try Data(contentsOf: URL(fileURLWithPath: f.dir.file("aurum.db")))
        let stampBefore = try f.writeStamp()
        let plan = try f.aurum(["sync", "catalog.yaml", "--plan"])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout == "t (\(target.kind)): 1 to insert, 1 to update, 1 to delete, 3 unchanged\n")
        let show = try f.aurum(["sync", "catalog.yaml", "--plan", "--show"])
        #expect(show.stdout == """
            t (\(target.kind)): 1 to insert, 1 to update, 1 to delete, 3 unchanged
              insert 6
              update 3: email
              delete 4

            """)
        let json = try f.aurum(["sync", "catalog.yaml", "--plan", "--show", "--json"])
        let parsed = try JSONText.parse(json.stdout)   // (parsing sorts the members by name)
        guard case .array(let targets)? = parsed["targets"] else { Issue.record("no targets in \(json.stdout)"); return }
        #expect(targets.first?["changes"]?.compact == #"[{"change":"insert","key":"6"},{"attributes":["email"],"change":"update","key":"3"},{"change":"delete","key":"4"}]"#)
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.dir.file("aurum.db"))) == warehouseBefore)
        #expect(try f.writeStamp() == stampBefore)
        #expect(try f.rows() == Self.before)

        // 4. The sync writes exactly the change set.
        let changed = try sync(f)
        #expect(changed.counts == SyncCounts(inserted: 1, updated: 1, deleted: 1, unchanged: 3))
        #expect(!changed.full)
        #expect(try f.rows() == Self.after)
        if target.kind == "csv" {
            // Only the partitions with a changed row were rewritten (US had none).
            #expect(try f.rows() == Self.after)
            let us = f.dir.file("out/by_country/country=US/part-00000.csv")
            #expect(try String(contentsOfFile: us, encoding: .utf8) == "golden_id,given_name,family_name,dob,email,country,record_count,sources\n1,william,smith,1980-02-03,bill@example.com,US,3,crm;shop\n")
            #expect(try FileManager.default.contentsOfDirectory(atPath: f.dir.file("out/by_country")).sorted() == ["country=CA", "country=ES", "country=US"])
        }
        let s3 = try #require(try Syncer.status(try f.catalog()).first)
        #expect(s3.pending == SyncCounts(inserted: 0, updated: 0, deleted: 0, unchanged: 5) && s3.rows == 5)

        // 5. Edits by hand in the target; a second sync with nothing new writes nothing (they stay).
        try f.tamper()
        let stamp = try f.writeStamp()
        let idle = try sync(f)
        #expect(idle.counts == SyncCounts(inserted: 0, updated: 0, deleted: 0, unchanged: 5))
        #expect(try f.writeStamp() == stamp)

        // 6. Reconcile finds every edit, names the keys, and exits 1.
        let rec = try f.aurum(["reconcile", "catalog.yaml", "t"])
        #expect(rec.status == 1)
        let lines = rec.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "t (\(target.kind)): 5 row(s) in the target, 5 expected (published state); 3 difference(s)")
        #expect(lines.filter { !$0.hasPrefix("    keys") && !$0.contains("key range") }.dropFirst() == ["  missing in target: 2", "  extra in target: 99", "  differs: 3 (email)"])
        let report = try Syncer.reconcile(try f.catalog(), target: "t")
        #expect(report.differences == [.init(kind: "missing", key: "2", attributes: []), .init(kind: "extra", key: "99", attributes: []),
                                       .init(kind: "differs", key: "3", attributes: ["email"])])
        #expect(report.ranges.count == 1 && !report.ranges[0].matches)

        // 7. --full rebuilds the target and reconciles it: clean again.
        let full = try #require(try Syncer.run(try f.catalog(), full: true).first)
        #expect(full.full)
        #expect(full.reconcile?.clean == true)
        #expect(try f.rows() == Self.after)
        let clean = try f.aurum(["reconcile", "catalog.yaml", "t"])
        #expect(clean.status == 0)
        #expect(clean.stdout == "t (\(target.kind)): 5 row(s) in the target, 5 expected (published state); no differences\n")
    }
}
