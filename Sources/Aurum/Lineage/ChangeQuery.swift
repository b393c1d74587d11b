import Foundation

/// `aurum changes`: what each snapshot of a run inserted, updated and deleted.
public enum ChangeQuery {
    public struct Counts: Sendable {
        public var source: String
        /// The source's first snapshot: everything is new, and only counts are kept.
        public var first: Bool
        public var inserted: Int, updated: Int, deleted: Int, unchanged: Int
    }

    public struct Change: Sendable {
        public var source: String
        public var change: String
        /// The source key; nil for a source without one (rows are then named by content hash).
        public var key: String?
        public var hash: Int64?
    }

    /// The run to show: the given one, or the latest run that snapshotted something.
    static func resolve(_ w: Warehouse, _ run: Int64?) throws -> Int64? {
        if let run { return run }
        return try w.db.scalar("SELECT max(run_id) FROM change_counts").flatMap { if case .integer(let i) = $0 { return i } else { return nil } }
    }

    public static func counts(warehouse path: String, run: Int64?) throws -> (run: Int64?, counts: [Counts]) {
        let w = try open(path)
        defer { w.close() }
        guard let r = try resolve(w, run) else { return (nil, []) }
        let rows = try w.db.query("SELECT source, first, inserted, updated, deleted, unchanged FROM change_counts WHERE run_id = ? ORDER BY source", [.integer(r)])
        return (r, rows.map { Counts(source: $0[0].textValue ?? "", first: ($0[1].doubleValue ?? 0) != 0, inserted: Int($0[2].doubleValue ?? 0),
                                     updated: Int($0[3].doubleValue ?? 0), deleted: Int($0[4].doubleValue ?? 0), unchanged: Int($0[5].doubleValue ?? 0)) })
    }

    public static func changes(warehouse path: String, run: Int64, source: String? = nil, limit: Int = .max) throws -> [Change] {
        let w = try open(path)
        defer { w.close() }
        var sql = "SELECT source, change, source_key, hash FROM change_sets WHERE run_id = ?"
        var args: [Value] = [.integer(run)]
        if let source { sql += " AND source = ?"; args.append(.text(source)) }
        sql += " ORDER BY source, CASE change WHEN 'insert' THEN 0 WHEN 'update' THEN 1 ELSE 2 END, rowid LIMIT ?"
        args.append(.integer(Int64(min(limit, Int(Int64.max)))))
        return try w.db.query(sql, args).map {
            Change(source: $0[0].textValue ?? "", change: $0[1].textValue ?? "", key: $0[2].textValue,
                   hash: { if case .integer(let i) = $0 { return i } else { return nil } }($0[3]))
        }
    }

    static func open(_ path: String) throws -> Warehouse {
        guard FileManager.default.fileExists(atPath: path) else {
            throw AurumError(.warehouse, "no warehouse here", at: path, hint: "pass --warehouse PATH")
        }
        return try Warehouse(path: path)
    }
}
