import Foundation

/// A fresh temporary directory per test, removed when released.
public final class TempDir: @unchecked Sendable {
    public let path: String
    public init(_ name: String = "aurum") {
        path = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` at `name` (creating folders); returns the path.
    @discardableResult
    public func write(_ name: String, _ text: String) -> String {
        let p = file(name)
        try! FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    public func read(_ name: String) -> String? { try? String(contentsOfFile: file(name), encoding: .utf8) }
}

public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public init(status: Int32, stdout: String, stderr: String) { self.status = status; self.stdout = stdout; self.stderr = stderr }
}

/// Runs a program and captures its output and exit code.
public func runProcess(_ executable: String, _ args: [String], cwd: String? = nil, env: [String: String] = [:]) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    var e = ProcessInfo.processInfo.environment
    for (k, v) in env { e[k] = v }
    p.environment = e
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let r = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return ProcessResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: r, as: UTF8.self))
}

struct TestSupportError: Error, CustomStringConvertible { var description: String }

/// Runs a Python script (python3, or $AURUM_PYTHON); returns stdout, or nil when the module it needs
/// is missing — unless AURUM_REQUIRE_PYTHON_MODULES is set (CI), where a missing module is an error.
public func python(_ script: String, needs module: String) throws -> String? {
    let custom = ProcessInfo.processInfo.environment["AURUM_PYTHON"]
    func run(_ args: [String]) throws -> ProcessResult {
        try runProcess(custom ?? "/usr/bin/env", (custom == nil ? ["python3"] : []) + args)
    }
    if try run(["-c", "import \(module)"]).status != 0 {
        if ProcessInfo.processInfo.environment["AURUM_REQUIRE_PYTHON_MODULES"] != nil {
            throw TestSupportError(description: "python module \(module) is required (pip install \(module))")
        }
        return nil
    }
    let r = try run(["-c", script])
    if r.status != 0 { throw TestSupportError(description: "python failed (\(r.status)): \(r.stderr)") }
    return r.stdout
}

/// Whether tests that need a Python module can run: it is installed, or CI demands it
/// (`AURUM_REQUIRE_PYTHON_MODULES` set: the test then fails instead of being skipped).
public func pythonTestsEnabled(_ module: String) -> Bool {
    if ProcessInfo.processInfo.environment["AURUM_REQUIRE_PYTHON_MODULES"] != nil { return true }
    return (try? python("pass", needs: module)) != nil
}

/// Peak resident set size of this process, in bytes.
public func peakRSS() -> Int {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return u.ru_maxrss * 1024
}

/// Current resident set size, in bytes (Linux /proc).
public func currentRSS() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
          let pages = Int(s.split(separator: " ")[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

public enum Repo {
    /// The repository's root folder, found from this file's path.
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        fatalError("repository root not found")
    }()

    /// The built `aurum` executable (AURUM_BIN overrides).
    public static var binary: String {
        if let b = ProcessInfo.processInfo.environment["AURUM_BIN"] { return b }
        let candidates = [".build/debug/aurum", ".build/x86_64-unknown-linux-gnu/debug/aurum", ".build/aarch64-unknown-linux-gnu/debug/aurum"]
        for c in candidates where FileManager.default.isExecutableFile(atPath: root + "/" + c) { return root + "/" + c }
        return root + "/.build/debug/aurum"
    }
}


/// Runs the built CLI and captures its output and exit code.
public func runAurum(_ args: [String], cwd: String? = nil, env: [String: String] = [:]) throws -> ProcessResult {
    try runProcess(Repo.binary, args, cwd: cwd, env: env)
}

/// The servers the integration tests talk to, from the environment `scripts/test.sh` sets, and
/// whether this is CI (where a server that does not answer fails its tests instead of skipping them).
/// PostgreSQL: the Unix socket by default (no password); `pgPassword` for tests over TCP.
public enum TestServers {
    public static let env = ProcessInfo.processInfo.environment
    public static let ci = ["true", "1", "yes"].contains((env["CI"] ?? "").lowercased())
    public static let pgHost = env["PGHOST"] ?? "/var/run/postgresql"
    public static let pgPort = env["PGPORT"] ?? "5432"
    public static let pgUser = env["PGUSER"] ?? "root"
    public static let pgDatabase = env["PGDATABASE"] ?? pgUser
    public static let pgPassword = env["PGPASSWORD"] ?? "aurum-test"
    /// libpq keyword form of the test server.
    public static var pgConninfo: String { "host=\(pgHost) port=\(pgPort) dbname=\(pgDatabase) user=\(pgUser)" }
    public static let redisURL = env["REDIS_URL"] ?? "redis://127.0.0.1:6379/0"
    public static let mongoURL = (env["MONGO_URL"] ?? "mongodb://127.0.0.1:27017").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
}
