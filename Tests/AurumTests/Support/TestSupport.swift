import Foundation
@testable import Aurum

/// A fresh temporary directory per test, removed when released.
final class TempDir {
    let path: String
    init(_ name: String = "aurum") {
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

enum Repo {
    /// The repository's root folder, found from this file's path.
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        fatalError("repository root not found")
    }()

    /// The built `aurum` executable (AURUM_BIN overrides).
    static var binary: String {
        if let b = ProcessInfo.processInfo.environment["AURUM_BIN"] { return b }
        let candidates = [".build/debug/aurum", ".build/x86_64-unknown-linux-gnu/debug/aurum", ".build/aarch64-unknown-linux-gnu/debug/aurum"]
        for c in candidates where FileManager.default.isExecutableFile(atPath: root + "/" + c) { return root + "/" + c }
        return root + "/.build/debug/aurum"
    }
}

struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the built CLI and captures its output and exit code.
func runAurum(_ args: [String], cwd: String? = nil, env: [String: String] = [:]) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Repo.binary)
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

/// Loads a catalog from text written into `dir`.
func loadCatalog(_ dir: TempDir, _ name: String = "catalog.yaml", _ text: String) throws -> Catalog {
    let p = dir.write(name, text)
    return try CatalogLoader.load(path: p)
}

extension JSON {
    var intValue: Int64? { if case .int(let i) = self { return i }; return nil }
    var doubleValue: Double? {
        switch self { case .double(let d): return d; case .int(let i): return Double(i); default: return nil }
    }
    var stringValue: String? { if case .string(let s) = self { return s }; return nil }
}
