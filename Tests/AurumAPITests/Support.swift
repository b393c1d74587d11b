import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@_exported import AurumTestSupport
import Testing
@testable import Aurum
@testable import AurumAPI

/// The Python test API (`api_test_server.py`), one per test process, started on first use on a free
/// port. It exits when its standard input closes, so it never outlives the tests.
final class APITestServer: @unchecked Sendable {
    let base: String
    private let process: Process
    private let input: Pipe

    private static let lock = NSLock()
    nonisolated(unsafe) private static var instance: APITestServer?

    /// The running server (started once; `lock` guards `instance`).
    static func shared() throws -> APITestServer {
        lock.lock(); defer { lock.unlock() }
        if let s = instance { return s }
        let s = try APITestServer()
        instance = s
        return s
    }

    private init() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("api_test_server.py").path
        process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["AURUM_PYTHON"] ?? "/usr/bin/env")
        process.arguments = (ProcessInfo.processInfo.environment["AURUM_PYTHON"] == nil ? ["python3"] : []) + [script]
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw TestFailure("the test API server did not start (python3 \(script))")
        }
        base = "http://127.0.0.1:\(port)"
    }

    /// The requests the server saw for one run: path, query and lowercased headers.
    func requests(_ run: String) throws -> [(path: String, query: String, headers: [String: String])] {
        let url = URL(string: "\(base)/requests?run=\(run)")!
        final class Box: @unchecked Sendable { var data: Data?; let done = DispatchSemaphore(value: 0) }  // ordered by `done`
        let box = Box()
        URLSession.shared.dataTask(with: url) { d, _, _ in box.data = d; box.done.signal() }.resume()
        guard box.done.wait(timeout: .now() + 10) == .success, let d = box.data,
              let list = try JSONSerialization.jsonObject(with: d) as? [[String: Any]] else {
            throw TestFailure("cannot read the test server's request log")
        }
        return list.map { ($0["path"] as? String ?? "", $0["query"] as? String ?? "", $0["headers"] as? [String: String] ?? [:]) }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A fresh run id, so a test's request log and failure sequence are its own.
func runID() -> String { String(UUID().uuidString.prefix(8)).lowercased() }

/// The `api` source of a one-source catalog whose source mapping holds `fields` (YAML flow style).
func apiSpec(_ fields: String, env: [String: String] = [:]) throws -> SourceSpec {
    AurumAPI.register()
    let dir = TempDir()
    let path = dir.write("catalog.yaml", """
        sources:
          - {name: api, type: api, \(fields)}
        outputs: [{format: csv, path: out.csv}]
        """)
    return try CatalogLoader.load(path: path).sources[0]
}

/// The catalog's problems as `path: message (hint)` lines (empty when it is valid).
func catalogProblems(_ fields: String) -> [String] {
    do {
        _ = try apiSpec(fields)
        return []
    } catch let e as AurumErrors {
        return e.errors.map { $0.message + ($0.hint.map { " (\($0))" } ?? "") }
    } catch {
        return ["\(error)"]
    }
}

struct APIRead {
    var columns: [String]
    var records: [[String: Value]]
    var problems: [(line: Int?, reason: String)]
    var requests: Int
    var pages: Int
}

/// Reads every item of an `api` source through the registered connector.
func readAPI(_ spec: SourceSpec) throws -> APIRead {
    let c = try #require(ConnectorRegistry.shared.source(.api))
    let r = try c.open(spec)
    defer { r.close() }
    var out = APIRead(columns: [], records: [], problems: [], requests: 0, pages: 0)
    while let item = try r.next() {
        switch item {
        case .fields(let f, _): out.records.append(Dictionary(f, uniquingKeysWith: { a, _ in a }))
        case .row(let v, _): out.records.append(Dictionary(zip(r.columns, v).map { ($0, $1) }, uniquingKeysWith: { a, _ in a }))
        case .problem(let line, let reason, _): out.problems.append((line, reason))
        }
    }
    out.columns = r.columns
    if let a = r as? APIRowReader { out.requests = a.fetcher.requestsMade; out.pages = a.pagesRead }
    return out
}

/// The error text a failed read throws (`location: message (hint)`), or nil when it succeeds.
func readError(_ spec: SourceSpec) -> String? {
    do {
        _ = try readAPI(spec)
        return nil
    } catch {
        return "\(error)"
    }
}

/// The `aurum` executable built with the package (AURUM_BIN overrides).
func aurumBinary() -> String {
    if let b = ProcessInfo.processInfo.environment["AURUM_BIN"] { return b }
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { break }
    }
    for c in [".build/debug/aurum", ".build/x86_64-unknown-linux-gnu/debug/aurum", ".build/aarch64-unknown-linux-gnu/debug/aurum"] {
        let p = url.appendingPathComponent(c).path
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return url.appendingPathComponent(".build/debug/aurum").path
}

extension Value {
    var int: Int64? { if case .integer(let i) = self { return i }; return nil }
    var text: String? { if case .text(let s) = self { return s }; return nil }
}
