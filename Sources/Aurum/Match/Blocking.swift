import Foundation

/// Candidate pairs from blocking rules: records are compared when they share every key of a rule.
///
/// Keys are SQL expressions over the attributes, evaluated by SQLite over the entity's record table.
/// Pairs are produced rule by rule; a pair an earlier rule already produced is skipped by comparing
/// the earlier rules' keys, so no set of pairs is ever built.
struct Blocker {
    /// `keys[rule][record]`: the record's key id under the rule, -1 when a key part is NULL or empty.
    var keys: [[Int32]] = []
    /// `hashes[rule][key id]`: the key's stable hash (`Blocker.keyHash`), as the warehouse stores it.
    var hashes: [[Int64]] = []
    let rules: [BlockingRule]
    let linkType: LinkType
    let source: [Int32]

    init(rules: [BlockingRule], linkType: LinkType, records: EntityRecords, db: SQLiteDatabase, table: String,
         location: String) throws {
        self.rules = rules
        self.linkType = linkType
        self.source = records.source
        for (ri, rule) in rules.enumerated() {
            let exprs = try Self.keyParts(rule, index: ri, attributes: records.attributes, db: db, location: location)
            let st = try db.prepare("SELECT \(Self.keyExpression(exprs)) FROM \(sqlIdent(table)) ORDER BY rec_id")
            var col = [Int32](repeating: -1, count: records.count)
            var intern: [String: Int32] = [:]
            var hash: [Int64] = []
            var r = 0
            while try st.step() {
                if let s = st.column(0).textValue {
                    if let id = intern[s] { col[r] = id } else {
                        let id = Int32(intern.count); intern[s] = id; col[r] = id
                        hash.append(Self.keyHash(rule: ri, s))
                    }
                }
                r += 1
            }
            keys.append(col)
            hashes.append(hash)
        }
    }

    /// The key of a rule as one SQL expression over its parts (NULL when a part is NULL or empty).
    static func keyExpression(_ parts: [String]) -> String {
        parts.count == 1 ? parts[0] : parts.joined(separator: " || char(31) || ")
    }

    /// The key parts of a rule, checked like every user expression.
    static func keyParts(_ rule: BlockingRule, index ri: Int, attributes: [String], db: SQLiteDatabase, location: String) throws -> [String] {
        try rule.keys.map { k in
            do {
                _ = try ExpressionChecker.check(k, columns: attributes, db: db)
            } catch {
                let (msg, hint) = ExpressionChecker.explain(error, columns: attributes)
                throw AurumError(.expression, "blocking key '\(k)': \(msg)", at: rule.location.isEmpty ? "\(location).blocking[\(ri)]" : rule.location, hint: hint)
            }
            return "nullif(CAST((\(k)) AS TEXT), '')"
        }
    }

    /// A key's stable 64-bit hash with its rule: what `ent_<entity>__blocks` stores.
    static func keyHash(rule: Int, _ key: String) -> Int64 {
        var h = FNV1a()
        h.add(String(rule))
        h.add(byte: 0x1F)
        h.add(key)
        return Int64(bitPattern: h.value)
    }

    /// Records grouped by key under rule `r`: (start offsets, record indices), groups of one dropped.
    func groups(_ r: Int) -> (starts: [Int], members: [Int32]) {
        let col = keys[r]
        var count: [Int32: Int] = [:]
        for k in col where k >= 0 { count[k, default: 0] += 1 }
        var offset: [Int32: Int] = [:]
        var starts: [Int] = [0]
        // Groups in order of their first record, so pair order is deterministic.
        for k in col where k >= 0 {
            guard let c = count[k], c > 1, offset[k] == nil else { continue }
            offset[k] = starts.last!
            starts.append(starts.last! + c)
        }
        var members = [Int32](repeating: 0, count: starts.last!)
        var fill = offset
        for (i, k) in col.enumerated() where k >= 0 {
            guard let o = fill[k] else { continue }
            members[o] = Int32(i)
            fill[k] = o + 1
        }
        return (starts, members)
    }

    /// Candidate pairs each rule produces on its own (before removing pairs earlier rules produced).
    func pairCounts() -> [Int] {
        rules.indices.map { r in
            let (starts, members) = groups(r)
            var total = 0
            for g in 0..<(starts.count - 1) {
                total += Self.groupPairs(members[starts[g]..<starts[g + 1]].lazy.map { self.source[Int($0)] }, linkType)
            }
            return total
        }
    }

    /// The pairs one group of records (given by their sources) yields under the link type.
    static func groupPairs<S: Sequence>(_ sources: S, _ linkType: LinkType) -> Int where S.Element == Int32 {
        var n = 0
        var perSource: [Int32: Int] = [:]
        for s in sources {
            n += 1
            if linkType != .linkAndDedupe { perSource[s, default: 0] += 1 }
        }
        if linkType == .linkAndDedupe { return n * (n - 1) / 2 }
        let within = perSource.values.reduce(0) { $0 + $1 * ($1 - 1) / 2 }
        return linkType == .dedupeOnly ? within : n * (n - 1) / 2 - within
    }

    @inline(__always)
    func allowed(_ i: Int, _ j: Int) -> Bool {
        switch linkType {
        case .linkAndDedupe: true
        case .linkOnly: source[i] != source[j]
        case .dedupeOnly: source[i] == source[j]
        }
    }

    /// Every candidate pair (i < j) once, rule by rule; `onlyRule` restricts to one rule without
    /// removing pairs of the others (training blocks).
    /// `keep` (0…1] keeps that share of the pairs, chosen by a hash of the pair (a uniform sample).
    func pairs(onlyRule: Int? = nil, keep: Double = 1) -> (left: [Int32], right: [Int32], perRule: [Int]) {
        let threshold = keep >= 1 ? UInt64.max : UInt64(Double(UInt64.max) * keep)
        var left: [Int32] = [], right: [Int32] = []
        var perRule = [Int](repeating: 0, count: rules.count)
        let ruleRange = onlyRule.map { $0...$0 } ?? 0...(rules.count - 1)
        for r in ruleRange {
            let (starts, members) = groups(r)
            for g in 0..<(starts.count - 1) {
                let lo = starts[g], hi = starts[g + 1]
                for x in lo..<hi {
                    let i = Int(members[x])
                    for y in (x + 1)..<hi {
                        let j = Int(members[y])
                        guard allowed(i, j) else { continue }
                        if onlyRule == nil {
                            var seen = false
                            for p in 0..<r where keys[p][i] >= 0 && keys[p][i] == keys[p][j] { seen = true; break }
                            if seen { continue }
                        }
                        if threshold != .max && SplitMix64.finalize(UInt64(i) << 32 | UInt64(j)) > threshold { continue }
                        left.append(Int32(min(i, j))); right.append(Int32(max(i, j)))
                        perRule[r] += 1
                    }
                }
            }
        }
        return (left, right, perRule)
    }
}
