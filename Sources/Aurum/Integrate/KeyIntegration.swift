import Foundation

/// The integrated table and what it took to build it.
struct IntegrationResult {
    var table: String
    var columns: [String]
    var origins: [String: ColumnOrigin]
    var rows: Int
    /// Source rows that reached at least one integrated row, per source.
    var contributing: [Int]
    var joinSuccessRate: Double
    var overlapPercentage: Double
}

/// Key integration of prepared sources: chained joins, merge strategy, conflict resolution.
///
/// Semantics (also in the README):
/// - Sources join in catalog order: `((s1 ⋈ s2) ⋈ s3) …`, each join of the declared type.
/// - A join key `{left: L, right: R}` with unqualified names applies at every join step: `R` is a
///   column of the source being joined, `L` the key named `L` on the accumulated left side, whose
///   value is the first non-null of the columns already joined under that name. A name qualified as
///   `source.column` ties the key to that source (and, on the right, to that source's step).
///   Several keys at one step form a composite key. Keys compare as text (`101` matches `'101'`).
/// - Merge strategy filters the joined rows by which sources they contain: `union` keeps all,
///   `intersection` keeps rows every source contributed to, `complement` keeps the rest (rows some
///   source is missing from: the union minus the intersection).
/// - Columns several sources provide are resolved per row: `first`/`last` non-null value in source
///   order, `average`/`sum` of the numeric values, or a custom SQL aggregate over `value`.
struct KeyIntegrator {
    let db: SQLiteDatabase
    let spec: IntegrationSpec?
    let dialect: Catalog.Dialect
    static let table = "integrated"
    /// The column of the integrated view that orders its rows (a table is read in rowid order).
    static let order = "__order"

    struct Provider { var source: Int; var column: String }

    func integrate(_ sources: [PreparedSource]) throws -> IntegrationResult {
        let spec = self.spec ?? IntegrationSpec(location: "integration")
        let n = sources.count
        let alias = (0..<n).map { "s\($0)" }
        func col(_ i: Int, _ c: String) -> String { "\(alias[i]).\(sqlIdent(c))" }
        func find(_ i: Int, _ c: String) -> String? { sources[i].columns.first { $0.lowercased() == c.lowercased() } }
        func sourceIndex(_ name: String) -> Int? { sources.firstIndex { $0.name == name } }
        /// Splits `source.column` when the prefix names a source; dotted JSON columns stay whole.
        func qualified(_ s: String) -> (Int?, String) {
            if let dot = s.firstIndex(of: "."), let i = sourceIndex(String(s[..<dot])) {
                return (i, String(s[s.index(after: dot)...]))
            }
            return (nil, s)
        }
        let leftKey = dialect == .catalog ? "left" : "source1_key"
        let rightKey = dialect == .catalog ? "right" : "source2_key"

        var keyNames: [String] = []
        var keyProviders: [String: [Provider]] = [:]
        var consumed = Set<String>()           // "i.column" of key columns folded into a key
        var joins: [String] = []
        var stepPairs: [[(left: [Provider], right: Provider)]] = Array(repeating: [], count: n)

        if n > 1 && spec.join != .cross {
            for k in 1..<n {
                var conds: [String] = []
                for key in spec.keys {
                    var (li, lc) = qualified(key.left)
                    var (ri, rc) = qualified(key.right)
                    if let l = li, let r = ri, l > r { swap(&li, &ri); swap(&lc, &rc) }
                    if let r = ri, r != k { continue }
                    if let l = li, l >= k { continue }
                    guard let rcol = find(k, rc) else {
                        throw AurumError(.integration, "join key '\(rc)' is not a column of source '\(sources[k].name)'",
                                         at: "\(key.location).\(rightKey)",
                                         hint: suggestion(rc, sources[k].columns).map { "did you mean '\($0)'?" } ?? "columns: \(sources[k].columns.joined(separator: ", "))")
                    }
                    let name: String
                    var left: [Provider]
                    if let l = li {
                        guard let lcol = find(l, lc) else {
                            throw AurumError(.integration, "join key '\(lc)' is not a column of source '\(sources[l].name)'",
                                             at: "\(key.location).\(leftKey)", hint: suggestion(lc, sources[l].columns).map { "did you mean '\($0)'?" })
                        }
                        name = lcol
                        left = [Provider(source: l, column: lcol)]
                    } else {
                        name = keyNames.first { $0.lowercased() == lc.lowercased() } ?? lc
                        left = keyProviders[name] ?? []
                        if left.isEmpty, let c0 = find(0, lc) { left = [Provider(source: 0, column: c0)] }
                        if left.isEmpty {
                            // The key may come from any source already joined under its own name.
                            for j in 0..<k { if let c = find(j, lc) { left.append(Provider(source: j, column: c)) } }
                        }
                        guard !left.isEmpty else {
                            throw AurumError(.integration, "join key '\(lc)' is not a column of the left side (\(sources[0..<k].map(\.name).joined(separator: ", ")))",
                                             at: "\(key.location).\(leftKey)",
                                             hint: suggestion(lc, sources[0..<k].flatMap(\.columns)).map { "did you mean '\($0)'?" })
                        }
                    }
                    if !keyNames.contains(name) { keyNames.append(name) }
                    var providers = keyProviders[name] ?? []
                    for p in left where !providers.contains(where: { $0.source == p.source && $0.column == p.column }) { providers.append(p) }
                    let right = Provider(source: k, column: rcol)
                    stepPairs[k].append((left, right))
                    let l = left.count == 1 ? col(left[0].source, left[0].column) : "coalesce(\(left.map { col($0.source, $0.column) }.joined(separator: ", ")))"
                    conds.append("CAST(\(l) AS TEXT) = CAST(\(col(k, rcol)) AS TEXT)")
                    providers.append(right)
                    keyProviders[name] = providers
                    for p in providers { consumed.insert("\(p.source).\(p.column.lowercased())") }
                }
                if conds.isEmpty {
                    throw AurumError(.integration, "no join key applies to source '\(sources[k].name)'", at: spec.location,
                                     hint: "add a key whose \(rightKey) is a column of '\(sources[k].name)'")
                }
                let jt: String
                switch spec.join {
                case .inner: jt = "JOIN"
                case .left: jt = "LEFT JOIN"
                case .right: jt = "RIGHT JOIN"
                case .outer: jt = "FULL OUTER JOIN"
                case .cross: jt = "CROSS JOIN"
                }
                joins.append("\(jt) \(sqlIdent(sources[k].table)) \(alias[k]) ON \(conds.joined(separator: " AND "))")
                for (_, right) in stepPairs[k] {
                    try db.execute("CREATE INDEX IF NOT EXISTS \(sqlIdent(sources[k].table + "__key_" + right.column)) ON \(sqlIdent(sources[k].table))(CAST(\(sqlIdent(right.column)) AS TEXT))")
                }
            }
            for name in keyNames {
                for p in keyProviders[name] ?? [] where p.source == 0 {
                    try db.execute("CREATE INDEX IF NOT EXISTS \(sqlIdent(sources[0].table + "__key_" + p.column)) ON \(sqlIdent(sources[0].table))(CAST(\(sqlIdent(p.column)) AS TEXT))")
                }
            }
        } else if n > 1 {
            for k in 1..<n { joins.append("CROSS JOIN \(sqlIdent(sources[k].table)) \(alias[k])") }
        }

        // Output columns: keys first, then every other column in source order.
        var select: [String] = []
        var columns: [String] = []
        var origins: [String: ColumnOrigin] = [:]
        for name in keyNames {
            let ps = keyProviders[name]!
            select.append("coalesce(\(ps.map { col($0.source, $0.column) }.joined(separator: ", "))) AS \(sqlIdent(name))")
            columns.append(name)
            var o = ColumnOrigin(sources: [], via: [])
            for p in ps { if let po = sources[p.source].origins[p.column] { o.merge(po) } }
            o.via.append("join_key")
            origins[name] = o
        }
        var order: [String] = []
        var providers: [String: [Provider]] = [:]
        for (i, s) in sources.enumerated() {
            for c in s.columns where !consumed.contains("\(i).\(c.lowercased())") {
                let key = c.lowercased()
                if columns.contains(where: { $0.lowercased() == key }) && providers[key] == nil {
                    continue   // a data column named like a key: the key wins
                }
                if providers[key] == nil { order.append(c) }
                providers[key, default: []].append(Provider(source: i, column: c))
            }
        }
        for c in order {
            let ps = providers[c.lowercased()]!
            var o = ColumnOrigin(sources: [], via: [])
            for p in ps { if let po = sources[p.source].origins[p.column] { o.merge(po) } }
            if ps.count == 1 {
                select.append("\(col(ps[0].source, ps[0].column)) AS \(sqlIdent(c))")
            } else {
                let rule = spec.conflictColumns.first { $0.key.lowercased() == c.lowercased() }?.value ?? spec.conflict
                select.append("\(try resolve(rule, ps.map { (col($0.source, $0.column), sources[$0.source].name, $0.source) }, column: c, spec: spec)) AS \(sqlIdent(c))")
                o.via.append("conflict:\(rule.name)")
            }
            columns.append(c)
            origins[c] = o
        }
        for i in 0..<n { select.append("\(alias[i]).\(StagedColumns.rid) AS \(sqlIdent("__rid_\(i)"))") }

        var filter = ""
        if n > 1 {
            let present = (0..<n).map { "\(alias[$0]).\(StagedColumns.rid) IS NOT NULL" }.joined(separator: " AND ")
            switch spec.merge {
            case .union: break
            case .intersection: filter = "WHERE \(present)"
            case .complement: filter = "WHERE NOT (\(present))"
            }
        }
        let orderBy = (0..<n).map { "\(alias[$0]).\(StagedColumns.rid) IS NULL, \(alias[$0]).\(StagedColumns.rid)" }.joined(separator: ", ")
        try db.dropRelation(Self.table)
        if n == 1 {
            // One source, nothing to join: the integrated table is a view of the work table, in its
            // order (`__order`: the staged row id through a work view, else the work table's rowid).
            let order = try db.isView(sources[0].table) ? "\(alias[0]).\(StagedColumns.rid)" : "\(alias[0]).rowid"
            try db.execute("CREATE VIEW \(Self.table) AS SELECT \(select.joined(separator: ", ")), \(order) AS \(Self.order) FROM \(sqlIdent(sources[0].table)) \(alias[0])")
            // A work view holds the staged rows (counted while staging): no scan to count them.
            let rows = sources[0].path == "view" ? sources[0].rows : Int(try db.scalar("SELECT count(*) FROM \(Self.table)")?.doubleValue ?? 0)
            return IntegrationResult(table: Self.table, columns: columns, origins: origins, rows: rows, contributing: [rows],
                                     joinSuccessRate: try joinSuccessRate(sources, stepPairs, spec),
                                     overlapPercentage: try overlapPercentage(sources, stepPairs, keyNames: keyNames, keyProviders: keyProviders, spec: spec))
        }
        let sql = """
            CREATE TABLE \(Self.table) AS SELECT \(select.joined(separator: ", "))
            FROM \(sqlIdent(sources[0].table)) \(alias[0]) \(joins.joined(separator: " "))
            \(filter) ORDER BY \(orderBy)
            """
        do {
            try db.execute(sql)
        } catch {
            throw AurumError(.integration, "building the integrated table failed: \(error)", at: spec.location)
        }
        let rows = Int(try db.scalar("SELECT count(*) FROM \(Self.table)")?.doubleValue ?? 0)
        let contributing = try (0..<n).map { i in
            Int(try db.scalar("SELECT count(DISTINCT \(sqlIdent("__rid_\(i)"))) FROM \(Self.table)")?.doubleValue ?? 0)
        }
        let rate = try joinSuccessRate(sources, stepPairs, spec)
        let overlap = try overlapPercentage(sources, stepPairs, keyNames: keyNames, keyProviders: keyProviders, spec: spec)
        return IntegrationResult(table: Self.table, columns: columns, origins: origins, rows: rows,
                                 contributing: contributing, joinSuccessRate: rate, overlapPercentage: overlap)
    }

    /// The SQL for one column that several sources provide.
    func resolve(_ rule: ConflictRule, _ values: [(expr: String, source: String, index: Int)], column: String, spec: IntegrationSpec) throws -> String {
        let exprs = values.map(\.expr)
        switch rule {
        case .first: return "coalesce(\(exprs.joined(separator: ", ")))"
        case .last: return "coalesce(\(exprs.reversed().joined(separator: ", ")))"
        case .average: return "aurum_avg(\(exprs.joined(separator: ", ")))"
        case .sum: return "aurum_sum(\(exprs.joined(separator: ", ")))"
        case .custom(let agg):
            do {
                _ = try ExpressionChecker.check(agg, columns: ["value", "source", "source_index"], db: db)
            } catch {
                let (msg, hint) = ExpressionChecker.explain(error, columns: ["value", "source", "source_index"])
                throw AurumError(.expression, "custom conflict resolution for '\(column)': \(msg)",
                                 at: dialect == .catalog ? "\(spec.location).conflict" : "\(spec.location).custom_resolution", hint: hint)
            }
            let rows = values.map { "SELECT \($0.expr), '\($0.source.replacingOccurrences(of: "'", with: "''"))', \($0.index + 1)" }
            return "(WITH v(value, source, source_index) AS (\(rows.joined(separator: " UNION ALL "))) SELECT \(agg) FROM v)"
        }
    }

    /// Share of the first source's rows that found a partner, by the join keys, in another source.
    func joinSuccessRate(_ sources: [PreparedSource], _ stepPairs: [[(left: [Provider], right: Provider)]], _ spec: IntegrationSpec) throws -> Double {
        let total = sources[0].rows
        guard total > 0 else { return 0 }
        if sources.count == 1 { return 1 }
        if spec.join == .cross { return sources.dropFirst().contains { $0.rows > 0 } ? 1 : 0 }
        var exists: [String] = []
        for k in 1..<sources.count {
            var conds: [String] = []
            for (left, right) in stepPairs[k] {
                guard let p0 = left.first(where: { $0.source == 0 }) else { conds = []; break }
                conds.append("CAST(r.\(sqlIdent(right.column)) AS TEXT) = CAST(l.\(sqlIdent(p0.column)) AS TEXT)")
            }
            if !conds.isEmpty {
                exists.append("EXISTS (SELECT 1 FROM \(sqlIdent(sources[k].table)) r WHERE \(conds.joined(separator: " AND ")))")
            }
        }
        guard !exists.isEmpty else { return 0 }
        let matched = Int(try db.scalar("SELECT count(*) FROM \(sqlIdent(sources[0].table)) l WHERE \(exists.joined(separator: " OR "))")?.doubleValue ?? 0)
        return Double(matched) / Double(total)
    }

    /// 100 × |key values present in every source| / |key values present in any source|.
    func overlapPercentage(_ sources: [PreparedSource], _ stepPairs: [[(left: [Provider], right: Provider)]],
                           keyNames: [String], keyProviders: [String: [Provider]], spec: IntegrationSpec) throws -> Double {
        if sources.count == 1 { return 100 }
        if spec.join == .cross || keyNames.isEmpty { return 0 }
        var parts: [String] = []
        for (i, s) in sources.enumerated() {
            let cols = keyNames.compactMap { name in keyProviders[name]?.first { $0.source == i }?.column }
            guard !cols.isEmpty else { continue }
            let tuple = cols.map { "CAST(\(sqlIdent($0)) AS TEXT)" }.joined(separator: " || char(31) || ")
            let notNull = cols.map { "\(sqlIdent($0)) IS NOT NULL" }.joined(separator: " AND ")
            parts.append("SELECT DISTINCT \(i) AS src, \(tuple) AS k FROM \(sqlIdent(s.table)) WHERE \(notNull)")
        }
        guard parts.count == sources.count else { return 0 }
        let r = try db.query("""
            SELECT coalesce(sum(n = \(sources.count)), 0), count(*) FROM
              (SELECT k, count(DISTINCT src) AS n FROM (\(parts.joined(separator: " UNION ALL "))) GROUP BY k)
            """)[0]
        let all = r[1].doubleValue ?? 0
        return all == 0 ? 0 : 100 * (r[0].doubleValue ?? 0) / all
    }
}
