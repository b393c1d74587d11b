import Foundation
import Testing
import Aurum
import AurumPostgres

/// Everything a run leaves behind that must not depend on whether it was killed and run again:
/// the warehouse's state tables, the last run's per-run records, every file under `out/`, the
/// SQLite target's tables and the PostgreSQL schema's tables. Rows are rendered as typed text and
/// sorted, so equal states compare equal and a difference names its table and rows.
struct WorldState: Equatable {
    /// Table → sorted rows (the first line: the columns).
    var warehouse: [String: [String]] = [:]
    /// Relative path → contents (the SQLite target is compared through its tables, not its bytes).
    var files: [String: String] = [:]
    var sqliteTarget: [String: [String]] = [:]
    var postgres: [String: [String]] = [:]

    /// Tables of the run ledger's history: one row per run (or per run and source). A killed run
    /// keeps its own rows there, which is right; the last succeeded run's rows are compared instead.
    /// (`sync_log`, `golden_version_runs` and `quarantine_replays` are the logs of work landing
    /// beside this harness: listed so the harness needs no change when they arrive.)
    static let perRun: Set<String> = ["runs", "run_steps", "snapshots", "quarantine", "quality_counts", "change_sets",
                                      "change_counts", "column_lineage", "match_models", "watermarks",
                                      "sync_log", "golden_version_runs", "quarantine_replays"]
    /// Of those, the ones whose rows of the last run must equal the uninterrupted run's last run
    /// (a change set after a kill is taken against the killed run's snapshot, so it differs).
    static let lastRunCompared: Set<String> = ["snapshots", "quarantine", "quality_counts", "column_lineage"]

    /// Matching's own working state says how the last run matched, not what it found: a run after
    /// a killed one may take the full path where the uninterrupted one went incremental, so record
    /// ids, blocking indexes and the run a pair was scored in may differ. Compared without those
    /// (the golden records, xref, golden ids, events, lineage and rules are compared whole).
    /// The same holds for the transform's `prep_state` (which path prepared each source last).
    static func isMatchingCache(_ table: String) -> Bool {
        table == "match_state" || table == "match_models" || (table.hasPrefix("ent_") && table.hasSuffix("__blocks"))
            || table == "prep_state"
    }

    /// A column holding a run id: mapped to the run's logical number, so a killed run and the run
    /// that completed it count as one (as in the uninterrupted sequence).
    static func isRunColumn(_ c: String) -> Bool {
        let l = c.lowercased()
        return l == "run_id" || l.hasSuffix("_run") || l.hasSuffix("_run_id")
    }

    /// Timestamps (`*_at`), surrogate row ids of history tables and matching's record ids are left out,
    /// and which run checked a quarantined row (a run after a killed one may re-check what the
    /// uninterrupted run carried over).
    static func isIgnored(_ table: String, _ c: String) -> Bool {
        c.lowercased().hasSuffix("_at") || (table == "quarantine" && (c == "id" || c == "checked_run"))
            || (table.hasPrefix("ent_") && c == "rec_id") || (table == "match_pairs" && c == "run_id")
    }

    static func render(_ v: Value) -> String {
        switch v {
        case .null: return "∅"
        case .integer(let i): return "i\(i)"
        case .real(let d): return "r\(d)"
        case .text(let s): return "t" + s
        case .blob(let b): return "b" + b.map { String(format: "%02x", $0) }.joined()
        }
    }

    static func capture(_ w: World) throws -> WorldState {
        var s = WorldState()
        if FileManager.default.fileExists(atPath: w.warehouse) { try s.captureWarehouse(w) }
        try s.captureTargets(w)
        return s
    }

    mutating func captureWarehouse(_ w: World) throws {
        let db = try SQLiteDatabase(path: w.warehouse, readOnly: true)
        defer { db.close() }
        // Logical run numbers: 1 + the succeeded runs before it.
        var logical: [Int64: Int64] = [:]
        var succeeded: Int64 = 0
        var lastSucceeded: Int64 = 0
        let ledger = try db.tableExists("runs") ? try db.query("SELECT run_id, status FROM runs ORDER BY run_id") : []
        for r in ledger {
            guard case .integer(let id) = r[0] else { continue }
            logical[id] = succeeded + 1
            if r[1].textValue == "succeeded" { succeeded += 1; lastSucceeded = id }
        }
        let tables = try db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
            .compactMap { $0[0].textValue }
        for t in tables where (!Self.perRun.contains(t) || Self.lastRunCompared.contains(t)) && !Self.isMatchingCache(t) {
            let cols = try db.columns(of: t)
            let kept = cols.filter { !Self.isIgnored(t, $0) }
            let runCols = Set(kept.filter(Self.isRunColumn))
            var sql = "SELECT \(kept.map(sqlIdent).joined(separator: ", ")) FROM \(sqlIdent(t))"
            if Self.perRun.contains(t) { sql += " WHERE run_id = \(lastSucceeded)" }
            var rows: [String] = []
            for row in try db.query(sql) {
                rows.append(zip(kept, row).map { c, v in
                    if runCols.contains(c), case .integer(let r) = v { return "run\(logical[r] ?? -r)" }
                    return Self.render(v)
                }.joined(separator: " | ")
                    // Sync targets are named and located by the world's own schema and folder.
                    .replacingOccurrences(of: w.schema, with: "⟨schema⟩").replacingOccurrences(of: w.dir.path, with: "⟨dir⟩"))
            }
            warehouse[t] = [kept.joined(separator: " | ")] + rows.sorted()
        }
    }

    mutating func captureTargets(_ w: World) throws {
        // Files under out/, by relative path.
        let fm = FileManager.default
        if let e = fm.enumerator(atPath: w.out) {
            while let rel = e.nextObject() as? String {
                var isDir: ObjCBool = false
                let p = w.out + "/" + rel
                guard fm.fileExists(atPath: p, isDirectory: &isDir) else { continue }
                if isDir.boolValue { files[rel + "/"] = ""; continue }
                if rel == "targets.db" { files[rel] = "(sqlite)"; continue }
                files[rel] = (try? String(contentsOfFile: p, encoding: .utf8)) ?? "(unreadable)"
            }
        }

        let target = w.out + "/targets.db"
        if fm.fileExists(atPath: target) {
            // Read-write, as any reader opens it: a killed writer's hot journal is rolled back.
            let t = try SQLiteDatabase(path: target)
            defer { t.close() }
            for name in try t.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").compactMap({ $0[0].textValue }) {
                let decl = try t.query("SELECT name, type FROM pragma_table_info(?) ORDER BY cid", [.text(name)])
                    .map { "\($0[0].textValue ?? "") \($0[1].textValue ?? "")" }.joined(separator: ", ")
                sqliteTarget[name] = [decl] + (try t.query("SELECT * FROM \(sqlIdent(name))").map { $0.map(Self.render).joined(separator: " | ") }).sorted()
            }
        }

        for name in try w.conn.query("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1", [w.schema])
            .compactMap({ $0[0].textValue }) {
            let decl = try w.conn.query("""
                SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position
                """, [w.schema, name]).map { "\($0[0].textValue ?? "") \($0[1].textValue ?? "")" }.joined(separator: ", ")
            let rows = try w.conn.query("SELECT t::text FROM \(w.schema).\(name) AS t ORDER BY 1").map { $0[0].textValue ?? "∅" }
            postgres[name] = [decl] + rows
        }
    }

    /// Where two states differ, in a few lines (empty when equal).
    func differences(from reference: WorldState) -> [String] {
        var out: [String] = []
        func compare(_ what: String, _ a: [String: [String]], _ b: [String: [String]]) {
            for k in Set(a.keys).union(b.keys).sorted() {
                guard let x = a[k] else { out.append("\(what) \(k): missing (the reference has it)"); continue }
                guard let y = b[k] else { out.append("\(what) \(k): not in the reference (\(x.count - 1) rows)"); continue }
                if x == y { continue }
                if x.first != y.first { out.append("\(what) \(k): columns \(x.first ?? "") ≠ reference \(y.first ?? "")"); continue }
                let xs = Array(x.dropFirst()), ys = Array(y.dropFirst())
                // Multiset differences, so a duplicated row shows up as extra.
                func minus(_ a: [String], _ b: [String]) -> [String] {
                    var count: [String: Int] = [:]
                    for r in b { count[r, default: 0] += 1 }
                    return a.filter { r in
                        if let c = count[r], c > 0 { count[r] = c - 1; return false }
                        return true
                    }
                }
                let extra = minus(xs, ys), missing = minus(ys, xs)
                func show(_ rows: [String]) -> String { rows.prefix(3).map { String($0.prefix(160)) }.joined(separator: " ¦ ") }
                out.append("\(what) \(k): \(xs.count) rows vs \(ys.count) in the reference; extra \(extra.count): \(show(extra)); missing \(missing.count): \(show(missing))")
            }
        }
        compare("warehouse table", warehouse, reference.warehouse)
        compare("SQLite target table", sqliteTarget, reference.sqliteTarget)
        compare("PostgreSQL table", postgres, reference.postgres)
        for k in Set(files.keys).union(reference.files.keys).sorted() where files[k] != reference.files[k] {
            if files[k] == nil { out.append("file out/\(k): missing") } else if reference.files[k] == nil {
                out.append("file out/\(k): not in the reference (a leftover?)")
            } else {
                out.append("file out/\(k): contents differ (\(files[k]!.count) vs \(reference.files[k]!.count) characters)")
            }
        }
        return out.count > 12 ? out.prefix(12) + ["… \(out.count - 12) more"] : out
    }
}

extension WorldState {
    /// The targets written whole (files and partition sets, the SQLite table, the PostgreSQL table
    /// in replace mode) as `previous` or `next` has them, or absent when `previous` is nil: what a
    /// kill at any moment must leave (PostgreSQL upserts commit batch by batch, so not that one).
    func wholeTargetProblems(previous: WorldState?, next: WorldState) -> [String] {
        var p: [String] = []
        func group(_ s: WorldState, _ name: String) -> [String: String] {
            s.files.filter { $0.key == name || $0.key.hasPrefix(name + "/") }
        }
        for name in ["golden.csv", "xref.csv", "by_city"] {
            let g = group(self, name)
            let ok = g == group(next, name) || (previous.map { g == group($0, name) } ?? g.isEmpty)
            if !ok { p.append("out/\(name) is neither the previous output nor the new one: \(g.keys.sorted().prefix(8))") }
        }
        if !(sqliteTarget == next.sqliteTarget || (previous.map { sqliteTarget == $0.sqliteTarget } ?? sqliteTarget.isEmpty)) {
            p.append("the SQLite target is neither the previous table nor the new one (\(sqliteTarget["golden"].map { $0.count - 1 } ?? -1) rows)")
        }
        let pg = postgres["golden"]
        if !(pg == next.postgres["golden"] || (previous.map { pg == $0.postgres["golden"] } ?? (pg == nil || pg!.count == 1))) {
            p.append("the PostgreSQL golden table is neither the previous table nor the new one (\(pg.map { $0.count - 1 } ?? -1) rows)")
        }
        return p
    }
}

/// What must hold in any world after its runs: the ledger closed, the killed run marked
/// interrupted, no half-written tables or files, and no orphan or duplicate rows anywhere.
enum Soundness {
    static func problems(_ w: World, killedRun: Int64?) throws -> [String] {
        var p: [String] = []
        let db = try SQLiteDatabase(path: w.warehouse, readOnly: true)
        defer { db.close() }
        func int(_ sql: String) throws -> Int64 { Int64(try db.scalar(sql)?.doubleValue ?? -1) }
        func expectZero(_ what: String, _ sql: String) throws {
            let n = try int(sql)
            if n != 0 { p.append("\(what): \(n)") }
        }
        if try db.scalar("PRAGMA integrity_check")?.textValue != "ok" { p.append("warehouse integrity_check failed") }
        try expectZero("runs still 'running'", "SELECT count(*) FROM runs WHERE status = 'running'")
        try expectZero("steps still 'running'", "SELECT count(*) FROM run_steps WHERE status = 'running'")
        try expectZero("runs not succeeded besides the killed one",
                       "SELECT count(*) FROM runs WHERE status <> 'succeeded' AND run_id IS NOT \(killedRun.map(String.init) ?? "NULL")")
        if let k = killedRun {
            let r = try db.query("SELECT status, error FROM runs WHERE run_id = \(k)")
            if r.first?[0].textValue != "failed" || !(r.first?[1].textValue ?? "").contains("interrupted") {
                p.append("killed run \(k) is not marked failed/interrupted: \(r)")
            }
        }
        try expectZero("load tables left in the warehouse", "SELECT count(*) FROM sqlite_master WHERE name LIKE '%\\_\\_load' ESCAPE '\\'")
        let g = sqlIdent(GoldenStage.tableName("customer")), l = sqlIdent(GoldenStage.lineageTableName("customer"))
        try expectZero("xref rows whose golden record does not exist",
                       "SELECT count(*) FROM xref x WHERE entity = 'customer' AND NOT EXISTS (SELECT 1 FROM \(g) g WHERE g.golden_id = x.golden_id)")
        try expectZero("golden records without an xref row",
                       "SELECT count(*) FROM \(g) g WHERE NOT EXISTS (SELECT 1 FROM xref x WHERE x.entity = 'customer' AND x.golden_id = g.golden_id)")
        try expectZero("golden records whose record count is not their xref rows",
                       "SELECT count(*) FROM \(g) g WHERE __records <> (SELECT count(*) FROM xref x WHERE x.entity = 'customer' AND x.golden_id = g.golden_id)")
        try expectZero("golden records not active in golden_ids",
                       "SELECT count(*) FROM \(g) g WHERE NOT EXISTS (SELECT 1 FROM golden_ids i WHERE i.entity = 'customer' AND i.golden_id = g.golden_id AND i.status = 'active')")
        try expectZero("active golden_ids without a golden record",
                       "SELECT count(*) FROM golden_ids i WHERE entity = 'customer' AND status = 'active' AND NOT EXISTS (SELECT 1 FROM \(g) g WHERE g.golden_id = i.golden_id)")
        try expectZero("lineage rows without a golden record", "SELECT count(*) FROM \(l) WHERE golden_id NOT IN (SELECT golden_id FROM \(g))")
        try expectZero("golden records without lineage", "SELECT count(*) FROM \(g) WHERE golden_id NOT IN (SELECT golden_id FROM \(l))")
        try expectZero("xref rows of records no longer staged",
                       "SELECT count(*) FROM xref x WHERE NOT EXISTS (SELECT 1 FROM src_crm s WHERE x.source = 'crm' AND s.__key = x.source_key) AND NOT EXISTS (SELECT 1 FROM src_shop s WHERE x.source = 'shop' AND s.__key = x.source_key)")
        try expectZero("staged records without an xref row",
                       "SELECT (SELECT count(*) FROM src_crm) + (SELECT count(*) FROM src_shop) - (SELECT count(*) FROM xref WHERE entity = 'customer')")
        try expectZero("match pairs of records without an xref row",
                       "SELECT count(*) FROM match_pairs m WHERE NOT EXISTS (SELECT 1 FROM xref x WHERE x.source = m.source_l AND x.source_key = m.key_l) OR NOT EXISTS (SELECT 1 FROM xref x WHERE x.source = m.source_r AND x.source_key = m.key_r)")

        // Targets: one row per key, and exactly the golden records.
        let golden = try int("SELECT count(*) FROM \(g)")
        let pgRows = try w.conn.query("SELECT count(*), count(DISTINCT golden_id) FROM \(w.schema).golden").first ?? []
        if pgRows != [.integer(golden), .integer(golden)] { p.append("PostgreSQL golden: \(pgRows) rows/distinct ids, \(golden) golden records") }
        let pgXref = try w.conn.query("SELECT count(*) - count(DISTINCT (source, source_key)) FROM \(w.schema).xref").first?.first
        if pgXref != .integer(0) { p.append("PostgreSQL xref: \(pgXref.map(String.init(describing:)) ?? "?") duplicated keys") }
        let t = try SQLiteDatabase(path: w.out + "/targets.db", readOnly: true)
        defer { t.close() }
        let sq = try t.query("SELECT count(*), count(DISTINCT golden_id) FROM golden").first ?? []
        if sq != [.integer(golden), .integer(golden)] { p.append("SQLite target golden: \(sq) rows/distinct ids, \(golden) golden records") }
        let csv = (try? String(contentsOfFile: w.out + "/golden.csv", encoding: .utf8)) ?? ""
        let ids = csv.split(separator: "\n").dropFirst().map { $0.prefix { $0 != "," } }
        if ids.count != Int(golden) || Set(ids).count != ids.count { p.append("golden.csv: \(ids.count) rows, \(Set(ids).count) distinct ids, \(golden) golden records") }
        // Leftovers of a killed writer beside the targets.
        if let e = FileManager.default.enumerator(atPath: w.out) {
            while let rel = e.nextObject() as? String {
                if rel.contains(".aurum-") || rel.hasSuffix("-journal") || rel.hasSuffix("-wal") { p.append("leftover file out/\(rel)") }
            }
        }
        return p
    }
}
