import Foundation
@_exported import AurumTestSupport
@testable import Aurum


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


/// Runs the built CLI and captures its output and exit code.
func runAurum(_ args: [String], cwd: String? = nil, env: [String: String] = [:]) throws -> ProcessResult {
    try runProcess(Repo.binary, args, cwd: cwd, env: env)
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
