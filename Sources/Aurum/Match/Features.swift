import Foundation

/// The records' attribute values interned to integer ids, with what comparisons need precomputed
/// once per distinct value (Unicode scalars, phonetic codes, tokens, dates as day numbers, numbers).
///
/// All text attributes share one id space, so a value of `given_name` can be compared with one of
/// `family_name` (the swapped-names level) by id.
struct Features: @unchecked Sendable {
    /// `ids[a][r]`: the value id of attribute `a` of record `r`, or -1 for NULL.
    var ids: [[Int32]]
    /// Per value id: its Unicode scalars, as a range of `scalarData` (`scalarOffset` -1: not needed).
    var scalarData: [UInt32] = []
    var scalarOffset: [Int] = []
    var scalarLength: [Int32] = []
    var count = 0
    /// Per value id: the value's text (term frequencies are recorded by text).
    var texts: [String] = []
    var soundex: [Int32] = []
    var metaphone: [(Int32, Int32)] = []
    var tokens: [[Int32]] = []
    var days: [Int32] = []
    var year: [Int16] = []
    var month: [UInt8] = []
    var day: [UInt8] = []
    var number: [Double] = []
    /// Per attribute: count of each value id among records (for term frequencies), and the non-null total.
    var valueCounts: [[Int32: Int32]]
    var nonNull: [Int]

    static let noDate = Int32.min

    /// `types[a]` says what attribute `a` holds: dates get day numbers, numbers their value.
    init(records: EntityRecords, types: [AttributeType], needTokens: Set<Int>, needPhonetic: Set<Int>) {
        let nAttr = records.attributes.count
        ids = Array(repeating: [], count: nAttr)
        valueCounts = Array(repeating: [:], count: nAttr)
        nonNull = Array(repeating: 0, count: nAttr)
        var intern: [String: Int32] = [:]
        var codeIntern: [String: Int32] = ["": -1]
        var tokenIntern: [String: Int32] = [:]
        for a in 0..<nAttr {
            var col = [Int32](repeating: -1, count: records.count)
            var counts: [Int32: Int32] = [:]
            var nn = 0
            for (r, v) in records.values[a].enumerated() {
                guard let s = Features.text(v) else { continue }
                var id: Int32
                if let e = intern[s] {
                    id = e
                } else {
                    id = Int32(count)
                    count += 1
                    intern[s] = id
                    texts.append(s)
                    scalarOffset.append(-1); scalarLength.append(0)
                    number.append(.nan)
                    days.append(Features.noDate); year.append(0); month.append(0); day.append(0)
                    soundex.append(-2); metaphone.append((-2, -2)); tokens.append([])
                }
                // What the attribute's type needs, once per value.
                if scalarOffset[Int(id)] < 0 {
                    scalarOffset[Int(id)] = scalarData.count
                    scalarData.append(contentsOf: s.unicodeScalars.lazy.map(\.value))
                    scalarLength[Int(id)] = Int32(scalarData.count - scalarOffset[Int(id)])
                }
                switch types.indices.contains(a) ? types[a] : .text {
                case .text: break
                case .number:
                    if number[Int(id)].isNaN { number[Int(id)] = v.doubleValue ?? .nan }
                case .date:
                    if days[Int(id)] == Features.noDate {
                        let (dd, y, m, d) = Features.parseISODate(s)
                        days[Int(id)] = dd; year[Int(id)] = y; month[Int(id)] = m; day[Int(id)] = d
                    }
                }
                if needPhonetic.contains(a), soundex[Int(id)] == -2 {
                    soundex[Int(id)] = Features.code(TextFunctions.soundex(s), &codeIntern)
                    let dm = TextFunctions.doubleMetaphone(s)
                    metaphone[Int(id)] = (Features.code(dm.primary, &codeIntern), Features.code(dm.alternate, &codeIntern))
                }
                if needTokens.contains(a), tokens[Int(id)].isEmpty {
                    var t = Set<Int32>()
                    for w in s.lowercased().split(whereSeparator: { $0 == " " || $0 == "," || $0 == "-" || $0 == "." || $0 == "/" }) {
                        t.insert(Features.code(String(w), &tokenIntern))
                    }
                    tokens[Int(id)] = t.sorted()
                }
                col[r] = id
                counts[id, default: 0] += 1
                nn += 1
            }
            ids[a] = col
            valueCounts[a] = counts
            nonNull[a] = nn
        }
    }

    static func code(_ s: String, _ table: inout [String: Int32]) -> Int32 {
        if s.isEmpty { return -1 }
        if let c = table[s] { return c }
        let c = Int32(table.count)
        table[s] = c
        return c
    }

    /// `YYYY-MM-DD` → (days since 1970-01-01, year, month, day); `noDate` when not such a date.
    static func parseISODate(_ s: String) -> (Int32, Int16, UInt8, UInt8) {
        let u = Array(s.utf8.prefix(10))
        guard u.count == 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-") else { return (noDate, 0, 0, 0) }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { let d = Int(u[i]) - 48; guard d >= 0 && d <= 9 else { return nil }; v = v * 10 + d }
            return v
        }
        guard let y = num(0..<4), let m = num(5..<7), let d = num(8..<10), (1...12).contains(m), (1...31).contains(d) else {
            return (noDate, 0, 0, 0)
        }
        return (Int32(TextFunctions.daysFromCivil(y, m, d)), Int16(y), UInt8(m), UInt8(d))
    }

    /// Term frequency of a value of attribute `a`: its share of the attribute's non-null values.
    func termFrequency(_ a: Int, _ id: Int32) -> Double {
        Features.share(Int(valueCounts[a][id] ?? 1), of: nonNull[a])
    }

    /// A value's share of an attribute's `nonNull` values (1 when there are none); the one formula
    /// of the full path (counts of this run) and the incremental one (counts recorded with the model).
    static func share(_ count: Int, of nonNull: Int) -> Double {
        guard nonNull > 0 else { return 1 }
        return Double(count) / Double(nonNull)
    }

    /// The text under which a value is interned and its term frequency recorded.
    static func text(_ v: Value) -> String? {
        switch v {
        case .null: nil
        case .text(let t): t
        default: v.textValue ?? ""
        }
    }
}

/// Turns a comparison's levels into a function of two records: 0 NULL, 1…L the first level that
/// holds, L+1 none (`else`).
final class Comparator: @unchecked Sendable {
    let spec: ComparisonSpec
    let attribute: Int
    /// For the swapped-names level: the other attribute's index.
    let others: [Int?]
    let sqlLevels: Bool

    var levelCount: Int { spec.levels.count + 2 }

    init(_ spec: ComparisonSpec, attributes: [String]) {
        self.spec = spec
        attribute = attributes.firstIndex(of: spec.attribute)!
        others = spec.levels.map { if case .swapped(let o) = $0 { return attributes.firstIndex(of: o) } else { return nil } }
        sqlLevels = spec.levels.contains { if case .sql = $0 { return true } else { return false } }
    }

    /// `chars` is `f.scalarData`'s storage.
    @inline(__always)
    func level(_ f: Features, _ chars: UnsafeBufferPointer<UInt32>, _ i: Int, _ j: Int, sql: SQLLevelEvaluator?) -> UInt8 {
        let a = f.ids[attribute][i], b = f.ids[attribute][j]
        @inline(__always) func sv(_ id: Int32) -> UnsafeBufferPointer<UInt32> {
            let o = f.scalarOffset[Int(id)]
            return UnsafeBufferPointer(rebasing: chars[o..<(o + Int(f.scalarLength[Int(id)]))])
        }
        if a < 0 || b < 0 {
            // A swapped pair may still be recognisable when this side is missing? No: NULL is NULL.
            return 0
        }
        var jw = -1.0
        for (k, level) in spec.levels.enumerated() {
            let hit: Bool
            switch level {
            case .exact: hit = a == b
            case .jaroWinkler(let t):
                if a == b { hit = true; break }
                if jw < 0 { jw = TextFunctions.jaroSimilarity(sv(a), sv(b), winklerScale: 0.1) }
                hit = jw >= t
            case .levenshtein(let k):
                hit = a == b || Comparator.withinEdits(sv(a), sv(b), k, transpositions: false)
            case .damerauLevenshtein(let k):
                hit = a == b || Comparator.withinEdits(sv(a), sv(b), k, transpositions: true)
            case .jaccard(let t): hit = a == b || Comparator.jaccard(f.tokens[Int(a)], f.tokens[Int(b)]) >= t
            case .soundex:
                let x = f.soundex[Int(a)]
                hit = a == b || (x >= 0 && x == f.soundex[Int(b)])
            case .metaphone:
                let (p1, a1) = f.metaphone[Int(a)], (p2, a2) = f.metaphone[Int(b)]
                hit = a == b || (p1 >= 0 && (p1 == p2 || p1 == a2)) || (a1 >= 0 && (a1 == p2 || a1 == a2))
            case .numberAbsolute(let d):
                let x = f.number[Int(a)], y = f.number[Int(b)]
                hit = abs(x - y) <= d
            case .numberRelative(let r):
                let x = f.number[Int(a)], y = f.number[Int(b)]
                let m = max(abs(x), abs(y))
                hit = m == 0 || abs(x - y) / m <= r
            case .dateDays(let n):
                let x = f.days[Int(a)], y = f.days[Int(b)]
                hit = x != Features.noDate && y != Features.noDate && abs(Int(x) - Int(y)) <= n
            case .dateTransposed:
                let x = Int(a), y = Int(b)
                hit = f.days[x] != Features.noDate && f.days[y] != Features.noDate
                    && f.month[x] == f.day[y] && f.day[x] == f.month[y] && f.month[x] != f.day[x]
                    && f.year[x] == f.year[y]
            case .swapped:
                guard let o = others[k] else { hit = false; break }
                let ao = f.ids[o][i], bo = f.ids[o][j]
                hit = ao >= 0 && bo >= 0 && a == bo && b == ao
            case .sql:
                hit = sql?.holds(comparison: self, level: k, i, j) ?? false
            }
            if hit { return UInt8(k + 1) }
        }
        return UInt8(spec.levels.count + 1)
    }

    /// Whether the edit distance is at most `k`, with a cheap length bound first.
    static func withinEdits(_ a: UnsafeBufferPointer<UInt32>, _ b: UnsafeBufferPointer<UInt32>, _ k: Int, transpositions: Bool) -> Bool {
        if abs(a.count - b.count) > k { return false }
        let d = transpositions ? TextFunctions.osaDistance(a, b) : TextFunctions.levenshteinDistance(a, b)
        return d <= k
    }

    static func jaccard(_ a: [Int32], _ b: [Int32]) -> Double {
        if a.isEmpty && b.isEmpty { return 1 }
        var i = 0, j = 0, inter = 0
        while i < a.count && j < b.count {
            if a[i] == b[j] { inter += 1; i += 1; j += 1 } else if a[i] < b[j] { i += 1 } else { j += 1 }
        }
        return Double(inter) / Double(a.count + b.count - inter)
    }
}

/// Evaluates custom SQL levels (`l.x = r.y` …) with one private in-memory SQLite connection per
/// thread, binding the two records' attributes.
final class SQLLevelEvaluator: @unchecked Sendable {
    let db: SQLiteDatabase
    var statements: [String: SQLiteStatement] = [:]
    let records: EntityRecords

    init(records: EntityRecords, settings: FunctionSettings) throws {
        db = try SQLiteDatabase(path: ":memory:")
        try SQLFunctionLibrary.register(on: db, settings: settings)
        self.records = records
    }

    static func statementSQL(_ expr: String, attributes: [String]) -> String {
        let side = { (base: Int) in attributes.enumerated().map { "?\(base + $0.offset + 1) AS \(sqlIdent($0.element))" }.joined(separator: ", ") }
        return "SELECT (\(expr)) FROM (SELECT \(side(0))) AS l, (SELECT \(side(attributes.count))) AS r"
    }

    /// Checks an expression the way every user expression is checked; throws with why not.
    static func check(_ expr: String, attributes: [String], db: SQLiteDatabase) throws {
        try ExpressionChecker.lexicalCheck(expr)
        let (st, _) = try db.prepareGuarded(statementSQL(expr, attributes: attributes), policy: ExpressionPolicy(readableTables: []))
        if !st.tail.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw SQLFunctionError(description: "a second statement is not allowed in an expression")
        }
    }

    func holds(comparison c: Comparator, level k: Int, _ i: Int, _ j: Int) -> Bool {
        guard case .sql(let e) = c.spec.levels[k] else { return false }
        do {
            let st: SQLiteStatement
            if let s = statements[e] { st = s } else {
                st = try db.prepare(Self.statementSQL(e, attributes: records.attributes))
                statements[e] = st
            }
            st.reset()
            let n = records.attributes.count
            for a in 0..<n {
                try st.bind(records.values[a][i], at: Int32(a + 1))
                try st.bind(records.values[a][j], at: Int32(n + a + 1))
            }
            guard try st.step() else { return false }
            let v = st.column(0)
            return (v.doubleValue ?? 0) != 0
        } catch {
            return false
        }
    }
}
