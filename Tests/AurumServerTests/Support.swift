import Foundation
import Testing
@_exported import AurumTestSupport
import Aurum
import AurumPostgres
@testable import AurumMongo

/// The servers these tests run `aurum` against, from the environment `scripts/test.sh` sets. A
/// server that does not answer skips its tests with the reason, except under CI, where they run and fail.
enum Servers {
    static var env: [String: String] { TestServers.env }
    static var ci: Bool { TestServers.ci }

    // PostgreSQL: the Unix socket for the test's own session; TCP (with PGPASSWORD) where a password matters.
    static var pgHost: String { TestServers.pgHost }
    static var pgPort: String { TestServers.pgPort }
    static var pgUser: String { TestServers.pgUser }
    static var pgDatabase: String { TestServers.pgDatabase }
    static var pgPassword: String { TestServers.pgPassword }
    static var pgConninfo: String { TestServers.pgConninfo }
    static let pgReachable: Bool = (try? PostgresConnection.with(pgConninfo) { _ in }) != nil
    static var pg: Bool { pgReachable || ci }

    static var redisURL: String { TestServers.redisURL }
    static let redisServer = "/usr/bin/redis-server"
    static var redis: Bool { FileManager.default.isExecutableFile(atPath: redisServer) || ci }

    static var mongoURL: String { TestServers.mongoURL }
    static let secantus = (env["AURUM_VENV"] ?? "/opt/aurum-venv") + "/bin/python"
    static let mongoReachable: Bool = {
        guard let u = URL(string: mongoURL), let h = u.host else { return false }
        return portAnswers(h, u.port ?? 27017)
    }()
    static var mongo: Bool { mongoReachable || ci }
}

/// Whether something accepts TCP connections on host:port.
func portAnswers(_ host: String, _ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &addr.sin_addr)
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

/// A free TCP port on 127.0.0.1 (nothing answers on it).
func freePort() -> Int {
    for _ in 0..<100 {
        let p = Int.random(in: 20000...29999)
        if !portAnswers("127.0.0.1", p) { return p }
    }
    return 29999
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass.
@discardableResult
func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return condition()
}

/// `aurum` started in the background, so a test can break a server while it runs (its output
/// goes to files, so nothing blocks on a full pipe).
final class AurumProcess {
    let process = Process()
    private let outPath: String, errPath: String

    init(_ args: [String], env: [String: String] = [:]) throws {
        let base = NSTemporaryDirectory() + "aurum-proc-\(UUID().uuidString.prefix(8))"
        outPath = base + ".out"; errPath = base + ".err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: Repo.binary)
        process.arguments = args
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        process.environment = e
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        try process.run()
    }

    var isRunning: Bool { process.isRunning }

    func wait() -> ProcessResult {
        process.waitUntilExit()
        defer { try? FileManager.default.removeItem(atPath: outPath); try? FileManager.default.removeItem(atPath: errPath) }
        return ProcessResult(status: process.terminationStatus,
                             stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                             stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }
}

/// The run ledger of a warehouse, read with Aurum's own SQLite layer.
struct Ledger {
    let path: String

    func query(_ sql: String) throws -> [[Value]] {
        let db = try SQLiteDatabase(path: path, readOnly: true)
        defer { db.close() }
        return try db.query(sql)
    }

    /// The last run's status and error.
    func lastRun() throws -> (status: String, error: String?) {
        let r = try query("SELECT status, error FROM runs ORDER BY run_id DESC LIMIT 1")
        return (r.first?[0].textValue ?? "", r.first?[1].textValue)
    }

    /// The last run's failed step: name, records_out, error.
    func failedStep() throws -> (name: String, recordsOut: Int?, error: String)? {
        let r = try query("SELECT name, records_out, error FROM run_steps WHERE run_id = (SELECT max(run_id) FROM runs) AND status = 'failed'")
        guard let f = r.first else { return nil }
        return (f[0].textValue ?? "", f[1].doubleValue.map { Int($0) }, f[2].textValue ?? "")
    }

    /// A consistent warehouse after a failure: no run or step left running, no half-staged load
    /// table, and SQLite's own integrity check passes.
    func expectConsistent(sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try query("SELECT count(*) FROM runs WHERE status = 'running'") == [[.integer(0)]], sourceLocation: sourceLocation)
        #expect(try query("SELECT count(*) FROM run_steps WHERE status = 'running'") == [[.integer(0)]], sourceLocation: sourceLocation)
        #expect(try query("SELECT count(*) FROM sqlite_master WHERE name LIKE '%\\_\\_load' ESCAPE '\\'") == [[.integer(0)]], sourceLocation: sourceLocation)
        #expect(try query("PRAGMA integrity_check") == [[.text("ok")]], sourceLocation: sourceLocation)
    }
}

/// A CSV of `rows` customers (id, name, score), ids 1…rows.
@discardableResult
func writeCustomers(_ dir: TempDir, _ name: String = "customers.csv", rows: Int) -> String {
    var s = "id,name,score\n"
    s.reserveCapacity(rows * 24)
    for i in 1...rows { s += "\(i),Name \(i),\(i % 997)\n" }
    return dir.write(name, s)
}

/// A private PostgreSQL schema, dropped at the end, with the test's own session.
final class PGSchema {
    let name: String
    let conn: PostgresConnection
    init() throws {
        name = "aurum_srv_" + UUID().uuidString.prefix(8).lowercased()
        conn = try PostgresConnection(Servers.pgConninfo)
        try conn.execute("CREATE SCHEMA \(name)")
    }
    deinit {
        try? conn.execute("DROP SCHEMA \(name) CASCADE")
        conn.close()
    }
    func t(_ table: String) -> String { "\(name).\(table)" }
    func int(_ sql: String) throws -> Int { Int(try conn.query(sql).first?.first?.doubleValue ?? -1) }
}

/// A redis-server of the test's own on a free port (daemonized; stopped with SHUTDOWN NOSAVE).
final class PrivateRedis {
    let port: Int
    let password: String?
    init(password: String? = nil) throws {
        port = freePort()
        self.password = password
        var args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--daemonize", "yes", "--pidfile", "/tmp/aurum-redis-srv-\(port).pid"]
        if let password { args += ["--requirepass", password] }
        // Output to /dev/null: the daemon would hold a pipe open, and reading it would never end.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Servers.redisServer)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // The daemonizing parent exits at once; reap it directly (Process's own wait can miss it when
        // the test process's children inherit blocked signals).
        var status: Int32 = 0
        _ = waitpid(p.processIdentifier, &status, 0)
        guard waitUntil(5, { portAnswers("127.0.0.1", port) }) else {
            throw TestSupportFailure("redis-server on port \(port) did not start")
        }
    }
    deinit { _ = try? cli("SHUTDOWN", "NOSAVE"); try? FileManager.default.removeItem(atPath: "/tmp/aurum-redis-srv-\(port).pid") }

    var url: String { "redis://127.0.0.1:\(port)/0" }

    /// redis-cli's answer (raw), authenticated when the server has a password.
    @discardableResult
    func cli(_ args: String...) throws -> String {
        var a = ["-h", "127.0.0.1", "-p", String(port)]
        let env = password.map { ["REDISCLI_AUTH": $0] } ?? [:]
        a += args
        return try runProcess("/usr/bin/redis-cli", a, env: env).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func dbsize() throws -> Int { Int(try cli("DBSIZE")) ?? -1 }
}

struct TestSupportFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// The MongoDB test server, through Aurum's own client (for clean-up).
struct MongoTestClient {
    let client: MongoClient
    init() throws { client = try MongoClient(MongoEndpoint(Servers.mongoURL + "/admin?serverSelectionTimeoutMS=2000", credentials: nil)) }
    func drop(_ database: String) {
        try? client.dropDatabase(database)
        client.close()
    }
}

/// A SecantusDB of the test's own on a free port, storing into a temporary directory (so a restart
/// keeps the data, unlike `:memory:`). `kill()` ends it with SIGKILL; `start()` brings it back on the
/// same port and storage. With `users`, it is started once without authentication to create them
/// (root role, in `admin`), then restarted with `--auth`.
final class PrivateMongo {
    let port: Int
    let storage = TempDir()
    private var process: Process?
    private let auth: Bool

    init(users: [(String, String)] = []) throws {
        port = freePort()
        auth = !users.isEmpty
        try launch(auth: false)
        for (user, password) in users {
            try python("c.admin.command('createUser', \(Self.literal(user)), pwd=\(Self.literal(password)), roles=['root'])")
        }
        if auth { kill(); try launch(auth: true) }
    }
    deinit { kill() }

    var url: String { "mongodb://127.0.0.1:\(port)" }

    func start() throws { try launch(auth: auth) }

    private func launch(auth: Bool) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Servers.secantus)
        p.arguments = ["-m", "secantus", "--host", "127.0.0.1", "--port", String(port),
                       "--storage-path", storage.file("data"), "--log-level", "WARNING"] + (auth ? ["--auth"] : [])
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        guard waitUntil(30, { portAnswers("127.0.0.1", port) }) else {
            kill()
            throw TestSupportFailure("SecantusDB on port \(port) did not start (\(Servers.secantus))")
        }
    }

    /// SIGKILL, then waits until the port is free.
    func kill() {
        guard let p = process else { return }
        process = nil
        if p.isRunning { Glibc.kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        waitUntil(10) { !portAnswers("127.0.0.1", port) }
    }

    /// Runs Python with `c`, a pymongo client of this server (as `user` when given), and returns
    /// what the snippet prints (it may `print(...)`).
    @discardableResult
    func python(_ snippet: String, user: (String, String)? = nil) throws -> String {
        let cred = user.map { "username=\(Self.literal($0.0)), password=\(Self.literal($0.1)), authSource='admin', " } ?? ""
        let script = "import pymongo\nc = pymongo.MongoClient('\(url)', \(cred)serverSelectionTimeoutMS=5000)\n\(snippet)\n"
        let r = try runProcess(Servers.secantus, ["-c", script])
        guard r.status == 0 else { throw TestSupportFailure("pymongo against port \(port) failed: \(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func literal(_ s: String) -> String { "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'" }
}
