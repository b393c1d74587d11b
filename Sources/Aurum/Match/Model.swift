import Foundation

/// A Fellegi–Sunter model: per comparison and level, m = P(level | match) and u = P(level | non-match);
/// a pair's match weight is log2(prior odds) + Σ log2(m/u), its probability 1 / (1 + 2^-weight).
///
/// Level 0 of every comparison is NULL (weight 0, no evidence), levels 1…L are the comparison's
/// levels in order, L+1 is `else`.
struct MatchModel {
    struct Comparison {
        var name: String
        var attribute: String
        var labels: [String]
        var m: [Double]
        var u: [Double]
        /// log2(m/u) after the guards; weights[0] == 0.
        var weights: [Double]
        var termFrequency: Bool
        var handSet: Bool
        /// Per level: whether it is another kind of evidence (swapped names, transposed dates, an
        /// SQL level) rather than a weaker similarity band, so the ordering guard skips it.
        var unordered: [Bool] = []

        /// The exact level's weight with the value's term frequency (its share of the attribute's
        /// values, at least one record in `records`) in place of u, never below the next level: a
        /// match on a common value is still a match.
        func exactWeight(termFrequency: Double, records: Int) -> Double {
            let tf = max(termFrequency, 1 / Double(max(records, 1)))
            return max(log2(max(m[1], 1e-12) / tf), weights.count > 2 ? weights[2] : 0)
        }
    }

    var entity: String
    var comparisons: [Comparison]
    /// Probability that two random records match.
    var prior: Double
    var linkThreshold: Double
    var reviewThreshold: Double
    var notes: [String] = []
    var diagnostics: [(String, JSON)] = []

    var priorWeight: Double { log2(prior / (1 - prior)) }

    static func probability(_ weight: Double) -> Double { 1 / (1 + exp2(-weight)) }

    /// Turns learned m and u into weights, enforcing what a sane model must satisfy; each
    /// correction is noted, so a model trained on unlucky blocks cannot make a disagreement free.
    static func guardedWeights(_ c: inout Comparison, notes: inout [String]) {
        let L = c.m.count
        var w = [Double](repeating: 0, count: L)
        for l in 1..<L { w[l] = log2(max(c.m[l], 1e-12) / max(c.u[l], 1e-12)) }
        if c.handSet { c.weights = w; return }
        if w[1] <= 0 {
            notes.append("comparison \(c.name): the '\(c.labels[1])' level learned weight \(fmt(w[1])) (no evidence of a match); set to +1.0")
            w[1] = 1
        }
        // Similarity bands weaken down the list: a looser band may not weigh more than a tighter one.
        var tighter = 1
        for l in 2..<(L - 1) {
            if c.unordered.indices.contains(l) && c.unordered[l] { continue }
            if w[l] > w[tighter] + 1e-9 {
                notes.append("comparison \(c.name): level '\(c.labels[l])' learned weight \(fmt(w[l])) above the stronger level '\(c.labels[tighter])' (\(fmt(w[tighter]))); capped at it")
                w[l] = w[tighter]
            }
            tighter = l
        }
        let maxElse = -1.0
        if w[L - 1] > maxElse {
            notes.append("comparison \(c.name): EM learned that a disagreement costs only \(fmt(w[L - 1])) bits; capped at \(fmt(maxElse)) (check that the training blocks do not all share this attribute's values)")
            w[L - 1] = maxElse
        }
        c.weights = w
    }

    static func fmt(_ d: Double) -> String { String(format: "%.2f", d) }

    // MARK: persistence

    var json: JSON {
        .object([
            ("entity", .string(entity)),
            ("prior", .double(prior)),
            ("link_threshold", .double(linkThreshold)),
            ("review_threshold", .double(reviewThreshold)),
            ("comparisons", .array(comparisons.map { c in
                .object([
                    ("name", .string(c.name)), ("attribute", .string(c.attribute)),
                    ("levels", .array(c.labels.map(JSON.string))),
                    ("m", .array(c.m.map(JSON.double))), ("u", .array(c.u.map(JSON.double))),
                    ("weights", .array(c.weights.map(JSON.double))),
                    ("term_frequency", .bool(c.termFrequency)), ("hand_set", .bool(c.handSet)),
                ])
            })),
            ("notes", .array(notes.map(JSON.string))),
            // The numbers that score a pair, bit for bit: JSON text need not read back to the
            // same doubles, and an incremental run must weigh a pair exactly as the full run did.
            ("exact", .object([
                ("prior", .string(Self.bits(prior))),
                ("m", .array(comparisons.map { .array($0.m.map { .string(Self.bits($0)) }) })),
                ("weights", .array(comparisons.map { .array($0.weights.map { .string(Self.bits($0)) }) })),
            ])),
        ] + diagnostics)
    }

    static func bits(_ d: Double) -> String { String(d.bitPattern, radix: 16) }
    static func double(bits: JSON?) -> Double? {
        guard case .string(let s)? = bits, let b = UInt64(s, radix: 16) else { return nil }
        return Double(bitPattern: b)
    }

    init(entity: String, comparisons: [Comparison], prior: Double, linkThreshold: Double, reviewThreshold: Double) {
        self.entity = entity; self.comparisons = comparisons; self.prior = prior
        self.linkThreshold = linkThreshold; self.reviewThreshold = reviewThreshold
    }

    init(json: JSON) throws {
        func num(_ j: JSON?) -> Double? {
            switch j {
            case .double(let d): d
            case .int(let i): Double(i)
            default: nil
            }
        }
        func nums(_ j: JSON?) -> [Double] {
            if case .array(let a) = j { return a.compactMap(num) }
            return []
        }
        func str(_ j: JSON?) -> String { if case .string(let s) = j { return s }; return "" }
        guard case .array(let comps) = json["comparisons"] else { throw AurumError(.warehouse, "stored match model has no comparisons") }
        entity = str(json["entity"])
        prior = num(json["prior"]) ?? 0.5
        linkThreshold = num(json["link_threshold"]) ?? 0.9
        reviewThreshold = num(json["review_threshold"]) ?? 0.5
        comparisons = comps.map { c in
            var labels: [String] = []
            if case .array(let l) = c["levels"] { labels = l.map { str($0) } }
            var tf = false
            if case .bool(let b) = c["term_frequency"] { tf = b }
            return Comparison(name: str(c["name"]), attribute: str(c["attribute"]), labels: labels, m: nums(c["m"]), u: nums(c["u"]),
                              weights: nums(c["weights"]), termFrequency: tf, handSet: false)
        }
        if let exact = json["exact"] {
            func column(_ key: String, _ k: Int) -> [Double]? {
                guard case .array(let all)? = exact[key], all.indices.contains(k), case .array(let a) = all[k] else { return nil }
                let d = a.compactMap { MatchModel.double(bits: $0) }
                return d.count == a.count ? d : nil
            }
            if let p = MatchModel.double(bits: exact["prior"]) { prior = p }
            for k in comparisons.indices {
                if let m = column("m", k) { comparisons[k].m = m }
                if let w = column("weights", k) { comparisons[k].weights = w }
            }
        }
    }
}

/// Estimates u by random record pairs and m by expectation–maximisation over blocked pairs.
struct Trainer {
    let comparators: [Comparator]
    let features: Features
    let records: EntityRecords
    let settings: FunctionSettings

    /// Level frequencies among `count` random record pairs (which are almost all non-matches).
    func estimateU(linkType: LinkType, count: Int, seed: UInt64) throws -> [[Double]] {
        let n = records.count
        guard n >= 2 else { return comparators.map { Array(repeating: 1.0 / Double($0.levelCount), count: $0.levelCount) } }
        var rng = SplitMix64(state: seed)
        var left: [Int32] = [], right: [Int32] = []
        left.reserveCapacity(count); right.reserveCapacity(count)
        let sources = Set(records.source)
        let maxPairs = n * (n - 1) / 2
        var attempts = 0
        while left.count < min(count, maxPairs) && attempts < count * 20 {
            attempts += 1
            let i = Int(rng.next() % UInt64(n)), j = Int(rng.next() % UInt64(n))
            if i == j { continue }
            switch linkType {
            case .linkAndDedupe: break
            case .linkOnly: if records.source[i] == records.source[j] { continue }
            case .dedupeOnly: if records.source[i] != records.source[j] && sources.count > 1 { continue }
            }
            left.append(Int32(i)); right.append(Int32(j))
        }
        let g = try gammas(left, right)
        var counts = comparators.map { [Double](repeating: 0, count: $0.levelCount) }
        for x in g {
            for k in comparators.indices { counts[k][Int((x >> (4 * UInt64(k))) & 0xF)] += 1 }
        }
        return counts.map { c in
            let nonNull = c.dropFirst().reduce(0, +)
            // Half a pair of pseudo-count per level: no level is impossible among non-matches.
            var u = c.map { ($0 + 0.5) / (nonNull + 0.5 * Double(c.count - 1)) }
            u[0] = 1
            return u
        }
    }

    /// Comparison vectors (4 bits per comparison) of the pairs, computed in parallel.
    func gammas(_ left: [Int32], _ right: [Int32]) throws -> [UInt64] {
        let n = left.count
        var out = [UInt64](repeating: 0, count: n)
        let threads = max(1, min(ProcessInfo.processInfo.activeProcessorCount, n / 10_000 + 1))
        let needSQL = comparators.contains { $0.sqlLevels }
        let evaluators = try (0..<threads).map { _ in needSQL ? try SQLLevelEvaluator(records: records, settings: settings) : nil }
        let comps = comparators
        let f = features
        out.withUnsafeMutableBufferPointer { buf in
            let box = UnsafeSendable(buf)
            left.withUnsafeBufferPointer { lp in
                right.withUnsafeBufferPointer { rp in
                    let l = UnsafeSendable(lp), r = UnsafeSendable(rp)
                    DispatchQueue.concurrentPerform(iterations: threads) { t in
                        let lo = n * t / threads, hi = n * (t + 1) / threads
                        let sql = evaluators[t]
                        f.scalarData.withUnsafeBufferPointer { chars in
                            for p in lo..<hi {
                                let i = Int(l.value[p]), j = Int(r.value[p])
                                var g: UInt64 = 0
                                for k in 0..<comps.count { g |= UInt64(comps[k].level(f, chars, i, j, sql: sql)) << (4 * UInt64(k)) }
                                box.value[p] = g
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    struct EMResult {
        var m: [[Double]]
        var lambda: Double
        var iterations: Int
    }

    /// EM over comparison-vector counts with u fixed; only `active` comparisons enter the model
    /// (those not sharing an attribute with the training block's keys).
    static func em(patterns: [(UInt64, Double)], active: [Bool], m0: [[Double]], u: [[Double]], lambda0: Double,
                   maxIterations: Int, tolerance: Double) -> EMResult? {
        var m = m0
        var lambda = lambda0
        let K = m.count
        let total = patterns.reduce(0) { $0 + $1.1 }
        guard total > 0 else { return nil }
        let decoded: [[Int]] = patterns.map { p in (0..<K).map { Int((p.0 >> (4 * UInt64($0))) & 0xF) } }
        for it in 1...maxIterations {
            var num = m.map { [Double](repeating: 0, count: $0.count) }
            var matches = 0.0
            var logRatio = m.indices.map { k in m[k].indices.map { l in l == 0 ? 0 : log(max(m[k][l], 1e-300) / u[k][l]) } }
            for k in 0..<K where !active[k] { logRatio[k] = logRatio[k].map { _ in 0 } }
            let priorLogit = log(lambda / (1 - lambda))
            for (pi, p) in patterns.enumerated() {
                var w = priorLogit
                let levels = decoded[pi]
                for k in 0..<K where active[k] { w += logRatio[k][levels[k]] }
                let q = 1 / (1 + exp(-w))
                let c = p.1 * q
                matches += c
                for k in 0..<K where active[k] { num[k][levels[k]] += c }
            }
            var delta = 0.0
            var next = m
            for k in 0..<K where active[k] {
                let den = num[k].dropFirst().reduce(0, +)
                let L = num[k].count
                for l in 1..<L {
                    let v = (num[k][l] + 1e-9) / (den + 1e-9 * Double(L - 1))
                    delta = max(delta, abs(v - m[k][l]))
                    next[k][l] = v
                }
            }
            let nl = min(max(matches / total, 1e-9), 1 - 1e-9)
            delta = max(delta, abs(nl - lambda))
            m = next
            lambda = nl
            if delta < tolerance { return EMResult(m: m, lambda: lambda, iterations: it) }
        }
        return nil
    }

    /// Starting m: most of the mass on the strongest level, halving down the levels.
    static func initialM(levels: Int) -> [Double] {
        var m = [Double](repeating: 0, count: levels)
        m[0] = 1
        var rest = 1.0
        for l in 1..<(levels - 1) {
            let share = l == 1 ? 0.7 : rest / 2
            m[l] = share
            rest -= share
        }
        m[levels - 1] = max(rest, 0.02)
        let s = m.dropFirst().reduce(0, +)
        for l in 1..<levels { m[l] /= s }
        return m
    }
}

/// Lets a buffer pointer cross into `concurrentPerform`; each thread touches its own range.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}
