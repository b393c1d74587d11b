import Foundation

/// An entity's records grouped by cluster: `members[start[c] ..< start[c + 1]]` are the records of
/// cluster `c`, in record order.
public struct ClusterMembers: Sendable {
    public let start: [Int32]
    public let members: [Int32]
    public var clusterCount: Int { start.count - 1 }

    /// Groups records by a counting sort (stable, so each cluster keeps record order): O(records + clusters).
    ///
    /// `clusters[r]` must be in `0..<clusterCount` and every cluster must hold a record; anything
    /// else is a bug of the caller.
    public init(clusters: [Int32], clusterCount: Int) {
        var start = [Int32](repeating: 0, count: clusterCount + 1)
        for c in clusters {
            precondition(c >= 0 && Int(c) < clusterCount, "cluster index \(c) out of 0..<\(clusterCount)")
            start[Int(c) + 1] += 1
        }
        for c in 0..<clusterCount {
            precondition(start[c + 1] > 0, "cluster \(c) has no record")
            start[c + 1] += start[c]
        }
        var next = start
        var members = [Int32](repeating: 0, count: clusters.count)
        for (r, c) in clusters.enumerated() {
            members[Int(next[Int(c)])] = Int32(r)
            next[Int(c)] += 1
        }
        self.start = start
        self.members = members
    }

    @inline(__always) public func range(_ c: Int) -> Range<Int> { Int(start[c])..<Int(start[c + 1]) }
    public func records(of c: Int) -> ArraySlice<Int32> { members[range(c)] }
}

/// The golden values of an entity's clusters and, for each, the records that produced it.
public struct SurvivedValues: Sendable {
    public let attributes: [String]
    public let rules: [SurvivorshipRule]
    /// `values[a][c]`: the golden value of attribute `a` for cluster `c`.
    public internal(set) var values: [[Value]]
    /// Value lineage of attribute `a`: the records behind cluster `c`'s value are
    /// `lineageRecords[a][lineageStart[a][c] ..< lineageStart[a][c + 1]]`, in record order.
    public internal(set) var lineageStart: [[Int32]]
    public internal(set) var lineageRecords: [[Int32]]

    public var clusterCount: Int { lineageStart.first.map { $0.count - 1 } ?? 0 }

    public func contributors(attribute a: Int, cluster c: Int) -> ArraySlice<Int32> {
        lineageRecords[a][Int(lineageStart[a][c])..<Int(lineageStart[a][c + 1])]
    }
}

extension SurvivorshipRule {
    /// The rule as value lineage records it: its name, with its parameters when it has any
    /// (`source_priority(crm, erp)`, `most_recent(updated_at)`, `custom(max(email))`).
    public var lineageLabel: String {
        switch self {
        case .sourcePriority(let s) where !s.isEmpty: "source_priority(\(s.joined(separator: ", ")))"
        case .mostRecent(let a): "most_recent(\(a))"
        case .custom(let e): "custom(\(e))"
        default: name
        }
    }
}

/// Picks each cluster's golden values, attribute by attribute, with deterministic tie-breaks.
///
/// Rules, and what decides a tie (record order is the order of `EntityRecords`: sources in catalog
/// order, then snapshot order):
/// - `source_priority`: the first non-null value in the given source order; sources not listed
///   follow, in catalog order (the catalog order alone when the list is empty). Within a source,
///   the earliest record.
/// - `most_recent(t)`: among records with a value, the one whose `t` is latest (SQLite's order:
///   numbers before text, text by bytes, so ISO dates compare; a record without `t` is oldest);
///   ties: the earlier source in catalog order, then the earliest record.
/// - `most_frequent`: the non-null value held by most records; ties: the value whose best source
///   comes first in catalog order, then the value seen first.
/// - `longest`: the value with most characters (Unicode scalars, as SQLite's `length`); ties: the
///   more frequent value, then the value seen first.
/// - `first` / `last`: the first / last non-null value in record order.
/// - `average` / `sum`: over the non-null values, which must be numbers (or text reading as one).
///   `sum` of integers stays an integer unless it overflows; `average` is real.
/// - `custom(sql)`: an SQL aggregate over the attribute columns, evaluated by SQLite with
///   `GROUP BY` cluster; the expression may only read attributes and call functions.
///
/// Lineage: the winning record for `source_priority`, `most_recent`, `first`, `last`; every record
/// holding the winning value for `most_frequent` and `longest`; every non-null contributor for
/// `average` and `sum`; for `custom`, every record with a non-null value in an attribute the
/// expression reads (every record when it reads none). A null golden value has no contributors.
public enum Survivorship {
    /// Survives every attribute of `entity` over `records` grouped by `members`.
    ///
    /// `db` is needed only for custom aggregates (a temporary table is created and dropped on it).
    public static func survive(entity: EntitySpec, records: EntityRecords, members: ClusterMembers,
                               db: SQLiteDatabase? = nil) throws -> SurvivedValues {
        let plans = try plan(entity: entity, records: records, db: db)
        var out = SurvivedValues(attributes: records.attributes, rules: plans.map(\.rule),
                                 values: [], lineageStart: [], lineageRecords: [])
        out.values = Array(repeating: [], count: plans.count)
        out.lineageStart = Array(repeating: [], count: plans.count)
        out.lineageRecords = Array(repeating: [], count: plans.count)
        var customs: [Plan] = []
        for p in plans {
            if case .custom = p.kind { customs.append(p); continue }
            let col = try surviveColumn(p, entity: entity, records: records, members: members)
            out.values[p.attribute] = col.values
            out.lineageStart[p.attribute] = col.start
            out.lineageRecords[p.attribute] = col.records
        }
        if !customs.isEmpty {
            guard let db else { preconditionFailure("custom survivorship needs a database") }
            let cols = try surviveCustom(customs, records: records, members: members, db: db)
            for (p, col) in zip(customs, cols) {
                out.values[p.attribute] = col.values
                out.lineageStart[p.attribute] = col.start
                out.lineageRecords[p.attribute] = col.records
            }
        }
        return out
    }

    /// Convenience: groups `clusters` first.
    public static func survive(entity: EntitySpec, records: EntityRecords, clusters: [Int32], clusterCount: Int,
                               db: SQLiteDatabase? = nil) throws -> SurvivedValues {
        try survive(entity: entity, records: records, members: ClusterMembers(clusters: clusters, clusterCount: clusterCount), db: db)
    }

    // MARK: Plan

    enum Kind {
        /// rank[source index]: lower wins.
        case sourcePriority(rank: [Int32])
        case mostRecent(by: Int)
        case mostFrequent, longest, first, last, average, sum
        case custom(expr: String, reads: [Int])
    }

    struct Plan {
        var attribute: Int
        var rule: SurvivorshipRule
        var kind: Kind
        var location: String
    }

    /// Where the rule of `attribute` is configured, for messages.
    static func location(_ entity: EntitySpec, _ attribute: String) -> String {
        let spec = entity.survivorship
        if let l = spec.ruleLocations[attribute] { return l }
        let base = spec.location.isEmpty ? "\(entity.location).survivorship" : spec.location
        return spec.attributes[attribute] == nil ? "\(base).default" : "\(base).attributes.\(attribute)"
    }

    /// Resolves names and checks custom expressions before anything is computed.
    static func plan(entity: EntitySpec, records: EntityRecords, db: SQLiteDatabase?) throws -> [Plan] {
        let attrs = records.attributes
        for name in entity.survivorship.attributes.keys.sorted() where !attrs.contains(name) {
            throw AurumError(.invalidCatalog, "survivorship rule for unknown attribute '\(name)' of entity '\(entity.name)'",
                             at: location(entity, name),
                             hint: suggestion(name, attrs).map { "did you mean '\($0)'?" } ?? "attributes: \(attrs.joined(separator: ", "))")
        }
        var plans: [Plan] = []
        for (a, name) in attrs.enumerated() {
            let rule = entity.survivorship.rule(for: name)
            let loc = location(entity, name)
            let kind: Kind
            switch rule {
            case .sourcePriority(let order):
                var rank = [Int32](repeating: -1, count: records.sources.count)
                var next: Int32 = 0
                for s in order {
                    guard let i = records.sources.firstIndex(of: s) else {
                        throw AurumError(.invalidCatalog, "source_priority names '\(s)', which is not a source of entity '\(entity.name)'",
                                         at: loc, hint: suggestion(s, records.sources).map { "did you mean '\($0)'?" }
                                            ?? "sources: \(records.sources.joined(separator: ", "))")
                    }
                    if rank[i] < 0 { rank[i] = next; next += 1 }
                }
                for i in rank.indices where rank[i] < 0 { rank[i] = next; next += 1 }
                kind = .sourcePriority(rank: rank)
            case .mostRecent(let by):
                guard let t = attrs.firstIndex(of: by) else {
                    throw AurumError(.invalidCatalog, "most_recent orders by '\(by)', which is not an attribute of entity '\(entity.name)'",
                                     at: loc, hint: suggestion(by, attrs).map { "did you mean '\($0)'?" } ?? "attributes: \(attrs.joined(separator: ", "))")
                }
                kind = .mostRecent(by: t)
            case .mostFrequent: kind = .mostFrequent
            case .longest: kind = .longest
            case .first: kind = .first
            case .last: kind = .last
            case .average: kind = .average
            case .sum: kind = .sum
            case .custom(let expr):
                guard let db else { preconditionFailure("custom survivorship needs a database") }
                let reads: [String]
                do {
                    reads = try ExpressionChecker.check(expr, columns: attrs, db: db)
                } catch {
                    let (msg, hint) = ExpressionChecker.explain(error, columns: attrs)
                    throw AurumError(.expression, "custom survivorship of '\(name)' refused: \(msg)", at: loc, hint: hint)
                }
                kind = .custom(expr: expr, reads: reads.compactMap { r in attrs.firstIndex { $0.lowercased() == r.lowercased() } })
            }
            plans.append(Plan(attribute: a, rule: rule, kind: kind, location: loc))
        }
        return plans
    }

    // MARK: Built-in rules

    struct Column {
        var values: [Value]
        var start: [Int32]
        var records: [Int32]
    }

    static func surviveColumn(_ p: Plan, entity: EntitySpec, records: EntityRecords, members: ClusterMembers) throws -> Column {
        let n = members.clusterCount
        var golden = [Value](repeating: .null, count: n)
        var start = [Int32](repeating: 0, count: n + 1)
        var lineage: [Int32] = []
        lineage.reserveCapacity(records.count)
        let catalogRank = (0..<records.sources.count).map { Int32($0) }
        var freq = Frequency()
        var timestamps: [Value] = []
        if case .mostRecent(let t) = p.kind { timestamps = records.values[t] }
        let ts = timestamps
        try records.values[p.attribute].withUnsafeBufferPointer { vals in
            try records.source.withUnsafeBufferPointer { src in
                try members.members.withUnsafeBufferPointer { mem in
                    for c in 0..<n {
                        let lo = Int(members.start[c]), hi = Int(members.start[c + 1])
                        switch p.kind {
                        case .sourcePriority(let rank):
                            var best = -1
                            var bestRank = Int32.max
                            for i in lo..<hi {
                                let m = Int(mem[i])
                                if vals[m].isNull { continue }
                                let rk = rank[Int(src[m])]
                                if rk < bestRank { best = m; bestRank = rk }
                            }
                            if best >= 0 { golden[c] = vals[best]; lineage.append(Int32(best)) }
                        case .mostRecent:
                            var best = -1
                            for i in lo..<hi {
                                let m = Int(mem[i])
                                if vals[m].isNull { continue }
                                if best < 0 { best = m; continue }
                                let cmp = compareOrder(ts[m], ts[best])
                                if cmp > 0 || (cmp == 0 && catalogRank[Int(src[m])] < catalogRank[Int(src[best])]) { best = m }
                            }
                            if best >= 0 { golden[c] = vals[best]; lineage.append(Int32(best)) }
                        case .first:
                            for i in lo..<hi where !vals[Int(mem[i])].isNull {
                                golden[c] = vals[Int(mem[i])]; lineage.append(mem[i]); break
                            }
                        case .last:
                            for i in (lo..<hi).reversed() where !vals[Int(mem[i])].isNull {
                                golden[c] = vals[Int(mem[i])]; lineage.append(mem[i]); break
                            }
                        case .mostFrequent:
                            freq.reset(hi - lo)
                            for i in lo..<hi {
                                let m = Int(mem[i])
                                if vals[m].isNull { continue }
                                freq.add(position: i - lo, record: m, vals, rank: catalogRank[Int(src[m])])
                            }
                            if let g = freq.winner(useRank: true) {
                                golden[c] = vals[Int(freq.rep[Int(g)])]
                                for i in lo..<hi where freq.groupOf[i - lo] == g { lineage.append(mem[i]) }
                            }
                        case .longest:
                            freq.reset(hi - lo)
                            var maxLen = -1
                            for i in lo..<hi {
                                let m = Int(mem[i])
                                let len = characterCount(vals[m])
                                freq.length[i - lo] = len
                                if len > maxLen { maxLen = len }
                            }
                            guard maxLen >= 0 else { break }
                            for i in lo..<hi where freq.length[i - lo] == maxLen {
                                let m = Int(mem[i])
                                freq.add(position: i - lo, record: m, vals, rank: 0)
                            }
                            if let g = freq.winner(useRank: false) {
                                golden[c] = vals[Int(freq.rep[Int(g)])]
                                for i in lo..<hi where freq.groupOf[i - lo] == g { lineage.append(mem[i]) }
                            }
                        case .average, .sum:
                            var isum: Int64 = 0
                            var dsum = 0.0
                            var real = false
                            var count = 0
                            for i in lo..<hi {
                                let m = Int(mem[i])
                                let v = vals[m]
                                if v.isNull { continue }
                                switch number(v) {
                                case .integer(let x)? where !real:
                                    let (s, o) = isum.addingReportingOverflow(x)
                                    if o { real = true; dsum = Double(isum) + Double(x) } else { isum = s }
                                case .integer(let x)?: dsum += Double(x)
                                case .real(let x)?:
                                    if !real { real = true; dsum = Double(isum) }
                                    dsum += x
                                default:
                                    throw AurumError(.integration,
                                                     "entity '\(entity.name)', attribute '\(records.attributes[p.attribute])': \(p.rule.name) needs numbers, but record \(records.reference(m)) holds \(kindName(v))",
                                                     at: p.location, hint: "choose another rule, or standardise the attribute to a number")
                                }
                                count += 1
                                lineage.append(Int32(m))
                            }
                            if count > 0 {
                                if case .sum = p.kind {
                                    golden[c] = real ? .real(dsum) : .integer(isum)
                                } else {
                                    golden[c] = .real((real ? dsum : Double(isum)) / Double(count))
                                }
                            }
                        case .custom:
                            preconditionFailure("custom rules are survived in SQL")
                        }
                        start[c + 1] = Int32(lineage.count)
                    }
                }
            }
        }
        return Column(values: golden, start: start, records: lineage)
    }

    /// Groups equal values of one cluster: linear search for small clusters, a dictionary for large ones.
    struct Frequency {
        /// Per position in the cluster: its group, or -1 (null or not a candidate).
        var groupOf: [Int32] = []
        var length: [Int] = []
        var rep: [Int32] = []
        var count: [Int32] = []
        var bestRank: [Int32] = []
        var index: [Value: Int32] = [:]
        var hashed = false

        mutating func reset(_ n: Int) {
            if groupOf.count < n {
                groupOf = [Int32](repeating: -1, count: n)
                length = [Int](repeating: -1, count: n)
            } else {
                for i in 0..<n { groupOf[i] = -1 }
            }
            rep.removeAll(keepingCapacity: true)
            count.removeAll(keepingCapacity: true)
            bestRank.removeAll(keepingCapacity: true)
            hashed = n > 24
            if hashed { index.removeAll(keepingCapacity: true) }
        }

        @inline(__always)
        mutating func add(position: Int, record m: Int, _ vals: UnsafeBufferPointer<Value>, rank: Int32) {
            var g: Int32 = -1
            if hashed {
                if let found = index[vals[m]] { g = found } else { index[vals[m]] = Int32(rep.count) }
            } else {
                for k in rep.indices where vals[Int(rep[k])] == vals[m] { g = Int32(k); break }
            }
            if g < 0 {
                g = Int32(rep.count)
                rep.append(Int32(m)); count.append(1); bestRank.append(rank)
            } else {
                count[Int(g)] += 1
                if rank < bestRank[Int(g)] { bestRank[Int(g)] = rank }
            }
            groupOf[position] = g
        }

        /// Most records; then (with `useRank`) the best source; then the group seen first.
        func winner(useRank: Bool) -> Int32? {
            guard !rep.isEmpty else { return nil }
            var best = 0
            for g in 1..<rep.count {
                if count[g] > count[best] || (count[g] == count[best] && useRank && bestRank[g] < bestRank[best]) { best = g }
            }
            return Int32(best)
        }
    }

    /// SQLite's ordering of values: NULL, then numbers, then text (by bytes), then blobs.
    static func compareOrder(_ a: Value, _ b: Value) -> Int {
        func cls(_ v: Value) -> Int {
            switch v {
            case .null: 0
            case .integer, .real: 1
            case .text: 2
            case .blob: 3
            }
        }
        switch (a, b) {
        case (.integer(let x), .integer(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.integer, .real), (.real, .integer), (.real, .real):
            let x = a.doubleValue!, y = b.doubleValue!
            return x < y ? -1 : (x > y ? 1 : 0)
        case (.text(let x), .text(let y)): return compareBytes(x, y)
        case (.blob(let x), .blob(let y)):
            if x.lexicographicallyPrecedes(y) { return -1 }
            return x == y ? 0 : 1
        default:
            return cls(a) - cls(b)
        }
    }

    static func compareBytes(_ a: String, _ b: String) -> Int {
        var a = a, b = b
        return a.withUTF8 { pa in
            b.withUTF8 { pb in
                let n = min(pa.count, pb.count)
                if n > 0, let x = pa.baseAddress, let y = pb.baseAddress {
                    let r = memcmp(x, y, n)
                    if r != 0 { return r < 0 ? -1 : 1 }
                }
                return pa.count < pb.count ? -1 : (pa.count > pb.count ? 1 : 0)
            }
        }
    }

    /// Characters as SQLite's `length` counts them (Unicode scalars); -1 for NULL.
    static func characterCount(_ v: Value) -> Int {
        switch v {
        case .null: return -1
        case .text(let s):
            var n = 0
            for b in s.utf8 where b & 0xC0 != 0x80 { n += 1 }
            return n
        case .blob(let b): return b.count
        default: return v.textValue?.unicodeScalars.count ?? -1
        }
    }

    /// The value as a number (text that reads as one counts); nil when it is not one.
    static func number(_ v: Value) -> Value? {
        switch v {
        case .integer, .real: return v
        case .text(let s):
            let t = s.trimmingCharacters(in: .whitespaces)
            if let i = Int64(t) { return .integer(i) }
            if let d = Double(t), d.isFinite { return .real(d) }
            return nil
        default: return nil
        }
    }

    static func kindName(_ v: Value) -> String {
        switch v {
        case .null: "NULL"
        case .integer: "an integer"
        case .real: "a real"
        case .text: "text"
        case .blob: "a blob"
        }
    }

    // MARK: Custom aggregates

    static let customTable = "__aurum_survive"

    /// Evaluates every custom aggregate in one `GROUP BY` query over a temporary table holding the
    /// cluster and the attributes the expressions read.
    static func surviveCustom(_ plans: [Plan], records: EntityRecords, members: ClusterMembers, db: SQLiteDatabase) throws -> [Column] {
        var readSet: [Int] = []
        for p in plans {
            guard case .custom(_, let reads) = p.kind else { continue }
            for r in reads where !readSet.contains(r) { readSet.append(r) }
        }
        readSet.sort()
        let names = readSet.map { records.attributes[$0] }
        let table = "temp.\(customTable)"
        try db.execute("DROP TABLE IF EXISTS \(table)")
        try db.execute("CREATE TEMP TABLE \(customTable) (__cluster INTEGER\(names.map { ", " + sqlIdent($0) }.joined()))")
        defer { try? db.execute("DROP TABLE IF EXISTS \(table)") }
        let policy = ExpressionPolicy(readableTables: [customTable])

        // An aggregate yields a row even over no rows; a plain expression does not.
        for p in plans {
            guard case .custom(let expr, _) = p.kind else { continue }
            let isAggregate: Bool
            do {
                let (probe, _) = try db.prepareGuarded("SELECT (\(expr)) FROM \(table)", policy: policy)
                isAggregate = try probe.step()
            } catch {
                let (msg, hint) = ExpressionChecker.explain(error, columns: records.attributes)
                throw AurumError(.expression, "custom survivorship of '\(records.attributes[p.attribute])' refused: \(msg)", at: p.location, hint: hint)
            }
            if !isAggregate {
                throw AurumError(.expression, "custom survivorship of '\(records.attributes[p.attribute])' must be an SQL aggregate over the cluster's records",
                                 at: p.location, hint: "for example max(\(records.attributes[p.attribute])) or group_concat(DISTINCT \(records.attributes[p.attribute]))")
            }
        }

        let insert = try db.prepare("INSERT INTO \(table) VALUES (?\(String(repeating: ", ?", count: names.count)))")
        let columns = readSet.map { records.values[$0] }
        for c in 0..<members.clusterCount {
            insert.bindInt(Int64(c), at: 1)
            for i in members.range(c) {
                let m = Int(members.members[i])
                for (k, col) in columns.enumerated() { try insert.bind(col[m], at: Int32(k + 2)) }
                try insert.step()
                insert.resetKeepingBindings()
            }
        }

        let exprs = plans.map { p -> String in
            guard case .custom(let e, _) = p.kind else { return "NULL" }
            return "(\(e))"
        }
        let sql = "SELECT __cluster, \(exprs.joined(separator: ", ")) FROM \(table) GROUP BY __cluster ORDER BY __cluster"
        var out = plans.map { _ in
            Column(values: [Value](repeating: .null, count: members.clusterCount),
                   start: [Int32](repeating: 0, count: members.clusterCount + 1), records: [])
        }
        do {
            let (st, _) = try db.prepareGuarded(sql, policy: policy)
            while try st.step() {
                let c = Int(st.column(0).doubleValue ?? -1)
                guard c >= 0 && c < members.clusterCount else { continue }
                for k in plans.indices { out[k].values[c] = st.column(k + 1) }
            }
        } catch {
            let which = plans.map { records.attributes[$0.attribute] }.joined(separator: ", ")
            throw AurumError(.expression, "custom survivorship of \(which) failed: \((error as? SQLiteError)?.message ?? "\(error)")",
                             at: plans[0].location)
        }

        for (k, p) in plans.enumerated() {
            guard case .custom(_, let reads) = p.kind else { continue }
            let readCols = reads.map { records.values[$0] }
            var lineage: [Int32] = []
            lineage.reserveCapacity(records.count)
            for c in 0..<members.clusterCount {
                if !out[k].values[c].isNull {
                    for i in members.range(c) {
                        let m = Int(members.members[i])
                        if readCols.isEmpty || readCols.contains(where: { !$0[m].isNull }) { lineage.append(Int32(m)) }
                    }
                }
                out[k].start[c + 1] = Int32(lineage.count)
            }
            out[k].records = lineage
        }
        return out
    }
}
