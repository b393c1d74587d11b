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
    public var id: Int64 = 0
    /// The latest `aurum quarantine replay` of this row: its run and outcome (passed, failed, gone).
    public var replayRun: Int64? = nil
    public var replayOutcome: String? = nil
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
        return try w.db.query("""
            SELECT q.run_id, q.source, q.step, q.line, q.rule, q.reason, q.raw, q.id, p.replay_run, p.outcome FROM quarantine q
            LEFT JOIN quarantine_replays p ON p.quarantine_id = q.id
              AND p.replay_run = (SELECT max(replay_run) FROM quarantine_replays WHERE quarantine_id = q.id)
            WHERE q.run_id = ? ORDER BY q.source, q.line, q.id
            """, [.integer(r)]).map {
            QuarantinedRow(run: r, source: $0[1].textValue ?? "", step: $0[2].textValue ?? "", line: $0[3].doubleValue.map { Int($0) },
                           rule: $0[4].textValue ?? "", reason: $0[5].textValue ?? "", raw: $0[6].textValue,
                           id: $0[7].doubleValue.map { Int64($0) } ?? 0, replayRun: $0[8].doubleValue.map { Int64($0) },
                           replayOutcome: $0[9].textValue)
        }
    }
}
