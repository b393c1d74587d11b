import Foundation
import Testing
@testable import Aurum

/// A fresh temporary directory per test, removed when released.
final class TempDir {
    let path: String
    init(_ name: String = "aurum-xml") {
        path = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let p = file(name)
        try! FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }
    func read(_ name: String) -> String? { try? String(contentsOfFile: file(name), encoding: .utf8) }
}

/// Runs a Python script (python3, or $AURUM_PYTHON); returns stdout, or nil when the module it needs is missing.
func python(_ script: String, needs module: String) throws -> String? {
    let exe = ProcessInfo.processInfo.environment["AURUM_PYTHON"] ?? "/usr/bin/env"
    func run(_ args: [String]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = (exe == "/usr/bin/env" ? ["python3"] : []) + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
    if try run(["-c", "import \(module)"]).0 != 0 {
        if ProcessInfo.processInfo.environment["AURUM_REQUIRE_PYTHON_MODULES"] != nil {
            struct Missing: Error, CustomStringConvertible { var description: String }
            throw Missing(description: "python module \(module) is required (pip install \(module))")
        }
        return nil
    }
    let (status, out, err) = try run(["-c", script])
    if status != 0 {
        struct Failed: Error, CustomStringConvertible { var description: String }
        throw Failed(description: "python failed (\(status)): \(err)")
    }
    return out
}

func loadCatalog(_ dir: TempDir, _ text: String) throws -> Catalog {
    try CatalogLoader.load(path: dir.write("catalog.yaml", text))
}

/// Reads every item of a source through its registered connector.
func readAll(_ spec: SourceSpec) throws -> (columns: [String], records: [[String: Value]], lines: [Int]) {
    let c = try #require(ConnectorRegistry.shared.source(spec.type))
    let r = try c.open(spec)
    defer { r.close() }
    var records: [[String: Value]] = [], lines: [Int] = []
    while let item = try r.next() {
        switch item {
        case .fields(let f, let line):
            records.append(Dictionary(f, uniquingKeysWith: { a, _ in a })); lines.append(line)
        case .row(let v, let line):
            records.append(Dictionary(zip(r.columns, v).map { ($0, $1) }, uniquingKeysWith: { a, _ in a })); lines.append(line)
        case .problem(let line, let reason, _):
            Issue.record("problem at \(String(describing: line)): \(reason)")
        }
    }
    return (r.columns, records, lines)
}

/// Peak resident set size of this process, in bytes.
func peakRSS() -> Int {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return u.ru_maxrss * 1024
}

/// Current resident set size, in bytes (Linux /proc).
func currentRSS() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
          let pages = Int(s.split(separator: " ")[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Whether tests that need a Python module can run: it is installed, or CI demands it
/// (`AURUM_REQUIRE_PYTHON_MODULES` set: the test then fails instead of being skipped).
func pythonTestsEnabled(_ module: String) -> Bool {
    if ProcessInfo.processInfo.environment["AURUM_REQUIRE_PYTHON_MODULES"] != nil { return true }
    return (try? python("pass", needs: module)) != nil
}
