import Foundation
import Testing
@testable import AurumParquet

/// A fresh temporary directory per call.
func makeTempDir() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aurum-parquet-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.path
}

struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

func run(_ executable: String, _ args: [String]) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [executable] + args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Read both pipes concurrently-safe: stdout can be large.
    let errBox = DataBox()
    let t = Thread { errBox.data = err.fileHandleForReading.readDataToEndOfFile() }
    t.start()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    while !errBox.done { usleep(1000) }
    return ProcessResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                         stderr: String(decoding: errBox.data ?? Data(), as: UTF8.self))
}

final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var _data: Data?
    var data: Data? {
        get { lock.withLock { _data } }
        set { lock.withLock { _data = newValue } }
    }
    var done: Bool { data != nil }
}

struct StatEntry: Decodable {
    var codec: String
    var encodings: [String]
    var num_values: Int
    var has_min_max: Bool?
    var null_count: Int?
    var min: String?
    var max: String?
}

struct Dump: Decodable {
    var kv: [String: String]
    var created_by: String?
    var columns: [String: [String?]]
    var num_rows: Int
    var row_groups: Int
    var schema: String
    var stats: [[String: StatEntry]]
}

struct PyError: Error, CustomStringConvertible {
    var description: String
}

/// Runs the pyarrow helper; `gen` writes a fixture, `dump` reads a file. Returns the canonical dump.
func pyarrow(_ args: [String], in dir: String) throws -> Dump {
    let script = dir + "/pqhelper.py"
    if !FileManager.default.fileExists(atPath: script) {
        try pqHelperScript.write(toFile: script, atomically: true, encoding: .utf8)
    }
    let r = try run("python3", [script] + args)
    guard r.status == 0 else {
        throw PyError(description: "python3 with pyarrow is required for these tests (pip install pyarrow); helper failed (\(r.status)): \(r.stderr)")
    }
    return try JSONDecoder().decode(Dump.self, from: Data(r.stdout.utf8))
}

func hex<C: Collection>(_ b: C) -> String where C.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var s = [UInt8]()
    s.reserveCapacity(b.count * 2)
    for x in b {
        s.append(digits[Int(x >> 4)])
        s.append(digits[Int(x & 15)])
    }
    return String(decoding: s, as: UTF8.self)
}

/// Canonical text of each value, matching pqhelper.py's canon_column.
func canon(_ col: ParquetColumn, _ d: ParquetColumnData) -> [String?] {
    var out: [String?] = []
    out.reserveCapacity(d.count)
    for i in 0 ..< d.count {
        if d.isNull(i) { out.append(nil); continue }
        switch d.values {
        case .boolean(let a): out.append(a[i] ? "true" : "false")
        case .int32(let a):
            if case .int(_, false) = col.logical { out.append(String(UInt32(bitPattern: a[i]))) } else { out.append(String(a[i])) }
        case .int64(let a):
            if case .int(_, false) = col.logical { out.append(String(UInt64(bitPattern: a[i]))) } else { out.append(String(a[i])) }
        case .float(let a): out.append(String(a[i].bitPattern))
        case .double(let a): out.append(String(a[i].bitPattern))
        case .binary(let b): out.append(hex(b[i]))
        }
    }
    return out
}

func readAllCanonical(_ path: String) throws -> (ParquetReader, [String: [String?]]) {
    let r = try ParquetReader(path: path)
    let data = try r.readAll()
    var m: [String: [String?]] = [:]
    for (k, c) in r.columns.enumerated() { m[c.name] = canon(c, data[k]) }
    return (r, m)
}

/// Expects that ParquetError is thrown and its description contains `fragment`.
func expectParquetError(_ fragment: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected ParquetError containing '\(fragment)', nothing thrown", sourceLocation: sourceLocation)
    } catch let e as ParquetError {
        #expect(e.description.contains(fragment), "error was: \(e.description)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected ParquetError, got \(error)", sourceLocation: sourceLocation)
    }
}
