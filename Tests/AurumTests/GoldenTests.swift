import Foundation
import Testing
@testable import Aurum

/// Runs every case in `golden/` and compares its outputs, report and quarantine with `expected/`.
///
/// Regenerating the expected files is an explicit act: `AURUM_REGENERATE_GOLDEN=1 swift test --filter Golden`,
/// then review the diff before committing it.
@Suite struct GoldenTests {
    static let root = Repo.root + "/golden"
    static let cases: [String] = (try? FileManager.default.contentsOfDirectory(atPath: root).filter {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: root + "/" + $0, isDirectory: &d) && d.boolValue
    }.sorted()) ?? []

    @Test func thereAreEnoughCases() {
        #expect(Self.cases.count >= 8)
    }

    @Test(arguments: cases)
    func goldenCase(_ name: String) throws {
        let fm = FileManager.default
        let caseDir = Self.root + "/" + name
        let work = TempDir("golden-\(name)")
        for f in try fm.contentsOfDirectory(atPath: caseDir) where f != "expected" {
            try fm.copyItem(atPath: caseDir + "/" + f, toPath: work.file(f))
        }
        let config = ["integration.json", "catalog.yaml"].first { fm.fileExists(atPath: work.file($0)) }!
        let outcome = try Pipeline.run(try CatalogLoader.load(path: work.file(config)))

        var produced: [String: String] = [:]
        produced["report.json"] = Self.masked(outcome.report, work: work.path).pretty() + "\n"
        produced["quarantine.csv"] = try Self.quarantine(work.file("aurum.db"))
        if fm.fileExists(atPath: work.file("out")) {
            for rel in try fm.subpathsOfDirectory(atPath: work.file("out")).sorted() {
                let p = work.file("out/" + rel)
                var isDir: ObjCBool = false
                _ = fm.fileExists(atPath: p, isDirectory: &isDir)
                if isDir.boolValue { continue }
                if rel.hasSuffix(".db") {
                    for (table, csv) in try Self.dump(p) { produced["out/\(rel).\(table).csv"] = csv }
                } else {
                    produced["out/" + rel] = try String(contentsOfFile: p, encoding: .utf8)
                }
            }
        }

        let expectedDir = caseDir + "/expected"
        if ProcessInfo.processInfo.environment["AURUM_REGENERATE_GOLDEN"] == "1" {
            try? fm.removeItem(atPath: expectedDir)
            for (rel, text) in produced {
                let p = expectedDir + "/" + rel
                try fm.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try text.write(toFile: p, atomically: true, encoding: .utf8)
            }
            return
        }
        let expectedFiles = Set((try? fm.subpathsOfDirectory(atPath: expectedDir)) ?? []).filter {
            var d: ObjCBool = false
            _ = fm.fileExists(atPath: expectedDir + "/" + $0, isDirectory: &d)
            return !d.boolValue
        }
        #expect(expectedFiles == Set(produced.keys), "files produced by \(name) differ from expected/")
        for rel in expectedFiles.sorted() {
            let want = try String(contentsOfFile: expectedDir + "/" + rel, encoding: .utf8)
            #expect(produced[rel] == want, "\(name)/expected/\(rel) differs")
        }
    }

    /// The report with what changes from run to run masked: times, timestamps, temp paths.
    static func masked(_ j: JSON, work: String) -> JSON {
        switch j {
        case .object(let m):
            return .object(m.map { k, v in
                switch k {
                case "processing_time": return (k, .double(0))
                // Matching's seconds per phase.
                case "seconds": return (k, .string("<seconds>"))
                case "timestamp": return (k, .string("<timestamp>"))
                default: return (k, masked(v, work: work))
                }
            })
        case .array(let a): return .array(a.map { masked($0, work: work) })
        case .string(let s): return .string(s.replacingOccurrences(of: work, with: "<case>"))
        default: return j
        }
    }

    static func quarantine(_ warehouse: String) throws -> String {
        let db = try SQLiteDatabase(path: warehouse, readOnly: true)
        defer { db.close() }
        var out = "source,step,line,rule,reason\n"
        for r in try db.query("SELECT source, step, line, rule, reason FROM quarantine ORDER BY source, line, id") {
            out += r.map { csv($0.textValue ?? "") }.joined(separator: ",") + "\n"
        }
        return out
    }

    /// Every table of a SQLite output as CSV with a header of `name:declared type`.
    static func dump(_ path: String) throws -> [(String, String)] {
        let db = try SQLiteDatabase(path: path, readOnly: true)
        defer { db.close() }
        var result: [(String, String)] = []
        for t in try db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").compactMap({ $0[0].textValue }) {
            let cols = try db.query("SELECT name, type FROM pragma_table_info(?) ORDER BY cid", [.text(t)])
            var out = cols.map { "\($0[0].textValue ?? ""):\($0[1].textValue ?? "")" }.joined(separator: ",") + "\n"
            for r in try db.query("SELECT * FROM \(sqlIdent(t)) ORDER BY rowid") {
                out += r.map { v in
                    switch v {
                    case .null: return "NULL"
                    case .text(let s): return csv(s)
                    default: return v.textValue ?? ""
                    }
                }.joined(separator: ",") + "\n"
            }
            result.append((t, out))
        }
        return result
    }

    static func csv(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
