import Foundation

/// One quarantined row as `aurum quarantine list` shows it.
public struct QuarantinedRow: Sendable {
    public var run: Int64
    public var source: String
    public var step: String
    public var line: Int?
    public var rule: String
    public var reason: String
    public var raw: String?
}

public enum QuarantineQuery {
    /// The quarantined rows of one run (default: the latest), in source and line order.
    public static func list(warehouse path: String, run: Int64? = nil) throws -> [QuarantinedRow] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw AurumError(.warehouse, "no warehouse here", at: path, hint: "pass --warehouse PATH")
        }
        let w = try Warehouse(path: path)
        defer { w.close() }
        let r = try run ?? (w.db.scalar("SELECT max(run_id) FROM runs").flatMap { v -> Int64? in
            if case .integer(let i) = v { return i }
            return nil
        })
        guard let r else { return [] }
        return try w.db.query("SELECT run_id, source, step, line, rule, reason, raw FROM quarantine WHERE run_id = ? ORDER BY source, line, id", [.integer(r)]).map {
            QuarantinedRow(run: r, source: $0[1].textValue ?? "", step: $0[2].textValue ?? "", line: $0[3].doubleValue.map { Int($0) },
                           rule: $0[4].textValue ?? "", reason: $0[5].textValue ?? "", raw: $0[6].textValue)
        }
    }
}
