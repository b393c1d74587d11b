import Foundation
import Testing
@_exported import AurumTestSupport
import Aurum
import AurumPostgres

/// The PostgreSQL server the harness writes to, from the environment `scripts/test.sh` sets. When it
/// does not answer the suite is skipped with the reason, except under CI, where it runs and fails.
enum Servers {
    static var ci: Bool { TestServers.ci }
    static var pgConninfo: String { TestServers.pgConninfo }
    static let pgReachable: Bool = (try? PostgresConnection.with(pgConninfo) { _ in }) != nil
    static var pg: Bool { pgReachable || ci }
}

struct HarnessFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// The data of a crash world: customers in a CSV (`crm`, one unreadable row at its end) and an
/// NDJSON (`shop`, half of them again with typos), and the change set a second run applies
/// (updates, inserts and deletes in both, so golden records change, merge apart and retire).
enum CrashData {
    static let people = 800
    static let firsts = ["William", "Maria", "John", "Anne", "Peter", "Sofia", "Lucas", "Emma", "Noah", "Olivia",
                         "Liam", "Ava", "Mateo", "Chloe", "Ethan", "Zoe", "Hugo", "Léa", "Omar", "Nina"]
    static let lasts = ["Smith", "García", "Lee", "Martin", "Brown", "Tremblay", "Roy", "Gagnon", "Wilson", "Taylor",
                        "Nguyen", "Kowalski", "Dubois", "Rossi", "Silva", "Müller", "Novak", "Haddad", "Khan", "Olsen"]
    static let cities = ["Toronto", "Montréal", "Ottawa", "Calgary", "Vancouver", "Québec"]

    struct Person {
        var first, last, dob, city: String
        var email: String { "\(first.lowercased()).\(last.lowercased())@example.com" }
    }

    static func person(_ i: Int, changed: Bool) -> Person {
        let last = lasts[(i * 13) % lasts.count] + (i % 3 == 0 ? "" : String(i % 37))
        let dob = String(format: "%04d-%02d-%02d", 1940 + (i * 31) % 64, 1 + (i * 5) % 12, 1 + (i * 11) % 28)
        var city = cities[(i * 5 + i / 7) % cities.count]
        if changed && i % 40 == 3 { city = cities[(i * 5 + i / 7 + 1) % cities.count] }
        var first = firsts[(i * 7) % firsts.count]
        if changed && i % 97 == 5 { first = firsts[(i * 7 + 1) % firsts.count] }
        return Person(first: first, last: last, dob: dob, city: city)
    }

    /// The crm rows: ids C0…; after the change set some are gone and 40 are new.
    static func crmIDs(changed: Bool) -> [Int] {
        let base = (0..<people).filter { !changed || $0 % 50 != 7 }
        return changed ? base + Array(people..<(people + 40)) : base
    }

    static func crm(changed: Bool) -> String {
        var s = "id,first_name,last_name,birth_date,email,city,updated_at\n"
        for i in crmIDs(changed: changed) {
            let p = person(i, changed: changed)
            let updated = changed && (i % 40 == 3 || i % 97 == 5) ? "2024-06-01" : String(format: "2024-01-%02d", i % 28 + 1)
            s += "C\(i),\(p.first),\(p.last),\(p.dob),\(p.email.replacingOccurrences(of: "@", with: "\(i)@")),\(p.city),\(updated)\n"
        }
        return s + "C99999,\"never closed\n"
    }

    /// One shop record per second person (S0 = person 0, S1 = person 2, …), with typos.
    static func shop(changed: Bool) -> String {
        var s = ""
        var persons = Array(stride(from: 0, to: people, by: 2))
        if changed { persons += Array(stride(from: people, to: people + 40, by: 4)) }
        for (j, i) in persons.enumerated() where !(changed && j % 60 == 11) {
            let p = person(i, changed: changed)
            let parts = p.dob.split(separator: "-")
            var town = p.city
            if changed && j % 30 == 2 { town = cities[(j + 2) % cities.count] }
            let record: [(String, JSON)] = [
                ("cust", .string("S\(j)")), ("given", .string(j % 5 == 0 ? String(p.first.dropLast()) : p.first)),
                ("surname", .string(p.last)), ("dob", .string("\(parts[2])/\(parts[1])/\(parts[0])")),
                ("mail", .string(j % 4 == 0 ? "" : p.email.replacingOccurrences(of: "@", with: "\(i)@"))),
                ("town", .string(town)), ("changed", .string(String(format: "2024-02-%02d", j % 28 + 1))),
            ]
            s += JSON.object(record).compact + "\n"
        }
        return s
    }
}

/// One crash world: its own folder (data, catalog, warehouse, file and SQLite targets) and its own
/// PostgreSQL schema (two tables: golden records replaced whole, xref upserted in batches).
final class World {
    let dir = TempDir("aurum-crash")
    let schema: String
    let conn: PostgresConnection
    var catalog: String { dir.file("catalog.yaml") }
    var warehouse: String { dir.file("w.db") }
    var out: String { dir.file("out") }

    init() throws {
        schema = "aurum_crash_" + UUID().uuidString.prefix(8).lowercased()
        conn = try PostgresConnection(Servers.pgConninfo)
        try conn.execute("CREATE SCHEMA \(schema)")
        write(changed: false)
        dir.write("catalog.yaml", """
            version: 1
            warehouse: w.db
            sources:
              - {name: crm, type: csv, path: crm.csv, key: id}
              - {name: shop, type: ndjson, path: shop.ndjson, key: cust}
            entities:
              customer:
                attributes:
                  given_name: [trim, lower, fold_accents, nickname]
                  family_name: [trim, lower, fold_accents]
                  dob: {type: date}
                  email: [email]
                  city: [lower, fold_accents]
                  updated_at: {type: date}
                sources:
                  crm: {given_name: first_name, family_name: last_name, dob: birth_date, email: email, city: city, updated_at: updated_at}
                  shop: {given_name: given, family_name: surname, dob: "parse_date(dob, '%d/%m/%Y')", email: mail, city: town, updated_at: changed}
                match:
                  blocking:
                    - [family_name, dob]
                    - [email]
                  comparisons:
                    given_name: {levels: [exact, {jaro_winkler: 0.9}], m: [0.85, 0.1, 0.05], u: [0.02, 0.03, 0.95]}
                    family_name: {levels: [exact, {jaro_winkler: 0.9}], m: [0.9, 0.07, 0.03], u: [0.01, 0.02, 0.97]}
                    dob: {levels: [exact, day_month_transposed, {date_days: 1}], m: [0.9, 0.03, 0.03, 0.04], u: [0.0005, 0.0002, 0.001, 0.9983]}
                    email: {levels: [exact], m: [0.7, 0.3], u: [0.0001, 0.9999]}
                    city: {levels: [exact], m: [0.8, 0.2], u: [0.05, 0.95]}
                  prior: 0.3
                  thresholds: {link: 0.999, review: 0.5}
                survivorship:
                  default: most_frequent
                  attributes:
                    given_name: longest
                    email: {source_priority: [crm, shop]}
                    city: {most_recent: updated_at}
                    updated_at: last
            outputs:
              - {format: csv, path: out/golden.csv, data: golden}
              - {format: csv, path: out/by_city, data: golden, partition: {by: city, type: category}}
              - {format: sqlite, path: out/targets.db, table: golden, data: golden}
              - {format: csv, path: out/xref.csv, data: xref}
              - {format: postgresql, connection: "\(Servers.pgConninfo)", table: \(schema).golden, data: golden}
              - format: postgresql
                connection: "\(Servers.pgConninfo)"
                table: \(schema).xref
                data: xref
                options: {key: [source, source_key], mode: upsert, batch_size: 500}
              - {format: postgresql, connection: "\(Servers.pgConninfo)", table: \(schema).golden_sync, data: golden, sync: true, options: {batch_size: 20}}
              - {format: csv, path: out/sync_by_city, data: golden, sync: true, partition: {by: city, type: category}}
            """)
    }

    deinit {
        try? conn.execute("DROP SCHEMA \(schema) CASCADE")
        conn.close()
    }

    /// Writes the sources: the first state, or the state after the change set.
    func write(changed: Bool) {
        dir.write("crm.csv", CrashData.crm(changed: changed))
        dir.write("shop.ndjson", CrashData.shop(changed: changed))
    }

    /// `aurum run` of the catalog, started in the background (killed at `killAt` when given).
    func start(killAt: String? = nil) throws -> Launch {
        try Launch(["run", catalog, "--quiet"], env: ["AURUM_KILL_AT": killAt])
    }

    /// `aurum run` to its end; fails unless it succeeds.
    func runToCompletion(_ what: String) throws {
        let r = try start().wait()
        guard r.exitedNormally && r.status == 0 else {
            throw HarnessFailure("\(what): aurum run did not succeed (\(r.how)): \(r.stderr)")
        }
    }
}

/// `aurum` started in the background, its output going to files (nothing blocks on a full pipe).
final class Launch {
    let process = Process()
    private let outPath: String, errPath: String
    let started = Date()

    struct Result {
        var exitedNormally: Bool
        var status: Int32
        var stdout: String
        var stderr: String
        var seconds: Double
        var killedBySIGKILL: Bool { !exitedNormally && status == SIGKILL }
        var how: String { exitedNormally ? "exit code \(status)" : "signal \(status)" }
    }

    /// `env` values of nil remove the variable from the inherited environment.
    init(_ args: [String], env: [String: String?] = [:]) throws {
        let base = NSTemporaryDirectory() + "aurum-crash-proc-\(UUID().uuidString.prefix(8))"
        outPath = base + ".out"; errPath = base + ".err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: Repo.binary)
        process.arguments = args
        var e = ProcessInfo.processInfo.environment
        e["AURUM_KILL_AT"] = nil
        for (k, v) in env { e[k] = v }
        process.environment = e
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    func wait() -> Result {
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(started)
        defer { try? FileManager.default.removeItem(atPath: outPath); try? FileManager.default.removeItem(atPath: errPath) }
        return Result(exitedNormally: process.terminationReason == .exit, status: process.terminationStatus,
                      stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "", seconds: seconds)
    }
}
