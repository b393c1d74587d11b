import Foundation

/// What one run of an entity leaves for the next, so that the next run can be incremental
/// (migrations/0008_incremental_match.sql): `match_state`, the blocking keys of every record
/// (`ent_<entity>__blocks`) and the model's term frequencies (`match_term_frequencies`).
struct MatchState {
    var entity: String
    /// The run that built (or last updated) the entity.
    var run: Int64
    var configHash: String
    /// The run whose model incremental runs score with (nil: deterministic rules only).
    var modelRun: Int64?
    var path: String
    /// Candidate pairs per blocking rule, kept current so the pair budget holds on both paths.
    var pairCounts: [Int]
    /// When the state was saved: steward decisions taken since touch their records.
    var savedAt: String
    /// Term-frequency totals of the model's run: non-null values per attribute, and records.
    var tfNonNull: [Int]
    var tfRecords: Int

    var json: JSON {
        .object([
            ("pair_counts", .array(pairCounts.map { .int(Int64($0)) })),
            ("saved_at", .string(savedAt)),
            ("tf_non_null", .array(tfNonNull.map { .int(Int64($0)) })),
            ("tf_records", .int(Int64(tfRecords))),
        ])
    }

    static func load(entity: String, db: SQLiteDatabase) throws -> MatchState? {
        guard let row = try db.query("SELECT run_id, config_hash, model_run, path, state FROM match_state WHERE entity = ?", [.text(entity)]).first,
              case .integer(let run) = row[0], let text = row[4].textValue else { return nil }
        let j = try JSONText.parse(text)
        func ints(_ key: String) -> [Int] {
            guard case .array(let a)? = j[key] else { return [] }
            return a.map { if case .int(let i) = $0 { Int(i) } else { 0 } }
        }
        var records = 0
        if case .int(let r)? = j["tf_records"] { records = Int(r) }
        var saved = ""
        if case .string(let s)? = j["saved_at"] { saved = s }
        var modelRun: Int64?
        if case .integer(let m) = row[2] { modelRun = m }
        return MatchState(entity: entity, run: run, configHash: row[1].textValue ?? "", modelRun: modelRun, path: row[3].textValue ?? "",
                          pairCounts: ints("pair_counts"), savedAt: saved, tfNonNull: ints("tf_non_null"), tfRecords: records)
    }

    func save(db: SQLiteDatabase) throws {
        try db.run("INSERT OR REPLACE INTO match_state(entity, run_id, config_hash, model_run, path, state) VALUES (?, ?, ?, ?, ?, ?)",
                   [.text(entity), .integer(run), .text(configHash), modelRun.map(Value.integer) ?? .null, .text(path), .text(json.compact)])
    }

    /// The hash of everything that decides an entity's records, pairs and golden records: the
    /// entity's spec, its sources (but not their connection or credentials) and the catalog's
    /// rules, quality checks and function settings. A different hash means a full run.
    static func configHash(entity: EntitySpec, catalog: Catalog) -> String {
        var text = canonical(entity)
        for m in entity.sources {
            if let s = catalog.sources.first(where: { $0.name == m.source }) { text += "\u{1E}" + canonical(s) }
        }
        text += "\u{1E}" + canonical(catalog.rules) + "\u{1E}" + canonical(catalog.quality) + "\u{1E}" + canonical(catalog.functions)
        let hex = String(FNV1a.hash(text), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// A value's structure as text, with dictionaries and sets in sorted order (Swift's hash
    /// order changes from process to process) and config locations and secrets left out.
    static func canonical(_ value: Any) -> String {
        let m = Mirror(reflecting: value)
        switch m.displayStyle {
        case .dictionary, .set:
            return "{" + m.children.map { canonical($0.value) }.sorted().joined(separator: ",") + "}"
        case .struct, .class, .enum, .tuple, .collection, .optional:
            if m.children.isEmpty { return "\(value)" }
            let parts = m.children.compactMap { c -> String? in
                if let l = c.label, ["location", "credentials", "connection", "ruleLocations"].contains(l) { return nil }
                return (c.label ?? "") + "=" + canonical(c.value)
            }
            return "\(m.subjectType)(" + parts.joined(separator: ",") + ")"
        default:
            return "\(value)"
        }
    }
}

enum MatchStore {
    static func blocksTable(_ entity: String) -> String { EntityBuilder.table(entity) + "__blocks" }

    static func createBlocks(_ entity: String, db: SQLiteDatabase) throws {
        let t = sqlIdent(blocksTable(entity))
        try db.execute("DROP TABLE IF EXISTS \(t)")
        try db.execute("CREATE TABLE \(t) (key INTEGER NOT NULL, rec INTEGER NOT NULL, src INTEGER NOT NULL, PRIMARY KEY (key, rec)) WITHOUT ROWID")
    }

    /// match_pairs' indexes besides its primary key, exactly as the migrations create them
    /// (0002_matching.sql, 0008_incremental_match.sql): a bulk write drops and recreates them.
    static let pairIndexes: [(name: String, sql: String)] = [
        ("match_pairs_by_status", "CREATE INDEX match_pairs_by_status ON match_pairs(entity, status, probability)"),
        ("match_pairs_by_right", "CREATE INDEX match_pairs_by_right ON match_pairs(entity, source_r, key_r)"),
    ]

    /// One row of the blocking-key table, ordered as its primary key.
    struct BlockRow: Comparable {
        var key: Int64
        var rec: Int32
        static func < (a: BlockRow, b: BlockRow) -> Bool { a.key != b.key ? a.key < b.key : a.rec < b.rec }
    }

    /// Every record's blocking keys (record r is rec_id r + 1), in key order so the b-tree grows at
    /// its end, many rows per statement (1M records: 5.8M rows).
    static func writeBlocks(entity: String, blocker: Blocker, db: SQLiteDatabase) throws {
        try createBlocks(entity, db: db)
        var rows: [BlockRow] = []
        rows.reserveCapacity(blocker.keys.reduce(0) { $0 + $1.count })
        for r in blocker.keys.indices {
            let hashes = blocker.hashes[r]
            for (rec, k) in blocker.keys[r].enumerated() where k >= 0 { rows.append(BlockRow(key: hashes[Int(k)], rec: Int32(rec))) }
        }
        rows.sort()
        let table = sqlIdent(blocksTable(entity))
        let chunk = 100
        let many = try db.prepare("INSERT OR IGNORE INTO \(table) (key, rec, src) VALUES (?, ?, ?)" + String(repeating: ", (?, ?, ?)", count: chunk - 1))
        let one = try db.prepare("INSERT OR IGNORE INTO \(table) (key, rec, src) VALUES (?, ?, ?)")
        var x = 0
        while x + chunk <= rows.count {
            for c in 0..<chunk {
                let row = rows[x + c], p = Int32(3 * c)
                many.bindInt(row.key, at: p + 1)
                many.bindInt(Int64(row.rec) + 1, at: p + 2)
                many.bindInt(Int64(blocker.source[Int(row.rec)]), at: p + 3)
            }
            try many.step()
            many.resetKeepingBindings()
            x += chunk
        }
        for row in rows[x...] {
            one.bindInt(row.key, at: 1)
            one.bindInt(Int64(row.rec) + 1, at: 2)
            one.bindInt(Int64(blocker.source[Int(row.rec)]), at: 3)
            try one.step()
            one.resetKeepingBindings()
        }
    }

    static func writeTermFrequencies(entity: String, model: MatchModel, features: Features, comparators: [Comparator], db: SQLiteDatabase) throws {
        try db.run("DELETE FROM match_term_frequencies WHERE entity = ?", [.text(entity)])
        let st = try db.prepare("INSERT OR REPLACE INTO match_term_frequencies(entity, attribute, value, count) VALUES (?, ?, ?, ?)")
        var done = Set<Int>()
        for (k, c) in model.comparisons.enumerated() where c.termFrequency && done.insert(comparators[k].attribute).inserted {
            let a = comparators[k].attribute
            for (id, n) in features.valueCounts[a] {
                try st.bind([.text(entity), .text(comparators[k].spec.attribute), .text(features.texts[Int(id)]), .integer(Int64(n))])
                try st.step()
                st.reset()
            }
        }
    }

    static func loadTermFrequencies(entity: String, attributes: [String], state: MatchState, db: SQLiteDatabase) throws -> TermFrequencies {
        var counts = Array(repeating: [String: Int](), count: attributes.count)
        let st = try db.prepare("SELECT attribute, value, count FROM match_term_frequencies WHERE entity = ?")
        try st.bind([.text(entity)])
        while try st.step() {
            guard let a = st.column(0).textValue.flatMap({ attributes.firstIndex(of: $0) }), let v = st.column(1).textValue else { continue }
            counts[a][v] = Int(st.column(2).doubleValue ?? 1)
        }
        let nonNull = state.tfNonNull.count == attributes.count ? state.tfNonNull : Array(repeating: 0, count: attributes.count)
        return TermFrequencies(counts: counts, nonNull: nonNull, records: state.tfRecords)
    }
}
