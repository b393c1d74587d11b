import Foundation

/// A source record as commands name it: `source:key`.
public struct RecordRef: Sendable, Hashable, CustomStringConvertible {
    public var source: String
    public var key: String
    public init(source: String, key: String) { self.source = source; self.key = key }

    /// Parses `source:key` (the key may itself contain ':').
    public init?(_ text: String) {
        guard let c = text.firstIndex(of: ":"), c != text.startIndex else { return nil }
        source = String(text[..<c]); key = String(text[text.index(after: c)...])
        if key.isEmpty { return nil }
    }
    public var description: String { "\(source):\(key)" }

    /// The pair in the order the warehouse stores pairs and decisions: by the bytes of `source:key`.
    public static func ordered(_ a: RecordRef, _ b: RecordRef) -> (RecordRef, RecordRef) {
        precedes(b.source, b.key, a.source, a.key) ? (b, a) : (a, b)
    }

    /// Whether `s1:k1` sorts strictly before `s2:k2` by bytes, without building the texts
    /// (matching orders a million pairs this way).
    static func precedes(_ s1: String, _ k1: String, _ s2: String, _ k2: String) -> Bool {
        // Where the names differ, the texts differ at the same byte: a name that is a prefix of
        // the other meets its ':' there.
        if s1 != s2 { return (s1 + ":").utf8.lexicographicallyPrecedes((s2 + ":").utf8) }
        return k1.utf8.lexicographicallyPrecedes(k2.utf8)
    }
}

/// The steward's queue and decisions: pairs in the review band, and must-link / cannot-link
/// decisions that every later run honours.
public enum Steward {
    public struct ReviewPair: Sendable {
        public var entity: String
        public var left: RecordRef
        public var right: RecordRef
        public var probability: Double
        public var weight: Double
        public var decision: String?
    }

    /// Pairs in the review band of the latest match, most likely first; decided pairs are shown
    /// only with `includeDecided`.
    public static func reviewQueue(warehouse: Warehouse, entity: String?, limit: Int, includeDecided: Bool = false) throws -> [ReviewPair] {
        var sql = """
            SELECT p.entity, p.source_l, p.key_l, p.source_r, p.key_r, p.probability, p.weight, d.decision
            FROM match_pairs p LEFT JOIN match_decisions d
              ON d.entity = p.entity AND d.source_l = p.source_l AND d.key_l = p.key_l AND d.source_r = p.source_r AND d.key_r = p.key_r
            WHERE p.status = 'review'
            """
        var args: [Value] = []
        if let entity { sql += " AND p.entity = ?"; args.append(.text(entity)) }
        if !includeDecided { sql += " AND d.decision IS NULL" }
        sql += " ORDER BY p.probability DESC, p.source_l, p.key_l, p.source_r, p.key_r LIMIT ?"
        args.append(.integer(Int64(limit)))
        return try warehouse.db.query(sql, args).map { r in
            ReviewPair(entity: r[0].textValue ?? "", left: RecordRef(source: r[1].textValue ?? "", key: r[2].textValue ?? ""),
                       right: RecordRef(source: r[3].textValue ?? "", key: r[4].textValue ?? ""),
                       probability: r[5].doubleValue ?? 0, weight: r[6].doubleValue ?? 0, decision: r[7].textValue)
        }
    }

    public enum Decision: String, Sendable { case mustLink = "must_link", cannotLink = "cannot_link" }

    /// Records a decision (replacing an earlier one on the same pair). Both records must exist in
    /// the entity's latest records.
    public static func decide(warehouse: Warehouse, entity: String, _ a: RecordRef, _ b: RecordRef, _ decision: Decision,
                              by: String? = nil, note: String? = nil) throws {
        let db = warehouse.db
        let table = EntityBuilder.table(entity)
        guard try db.tableExists(table) else {
            throw AurumError(.matching, "entity '\(entity)' has not been matched in this warehouse yet", at: warehouse.path,
                             hint: "run the catalog first")
        }
        for r in [a, b] {
            let n = try db.scalar("SELECT count(*) FROM \(sqlIdent(table)) WHERE source = ? AND source_key = ?", [.text(r.source), .text(r.key)])
            if (n?.doubleValue ?? 0) == 0 {
                throw AurumError(.matching, "no record \(r) in entity '\(entity)'", hint: "name records as SOURCE:KEY, as `aurum review list` shows them")
            }
        }
        if a == b { throw AurumError(.matching, "a decision needs two different records") }
        let (l, r) = RecordRef.ordered(a, b)
        try db.run("""
            INSERT OR REPLACE INTO match_decisions(entity, source_l, key_l, source_r, key_r, decision, decided_at, decided_by, note)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(entity), .text(l.source), .text(l.key), .text(r.source), .text(r.key), .text(decision.rawValue),
                  .text(Timestamp.now()), by.map(Value.text) ?? .null, note.map(Value.text) ?? .null])
    }
}
