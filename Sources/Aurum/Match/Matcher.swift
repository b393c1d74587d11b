import Foundation

/// What matching did for one entity, for the run report.
public struct MatchSummary: Sendable {
    public var entity: String
    public var records: Int
    public var candidatePairs: Int
    public var pairsPerRule: [(rule: String, pairs: Int)]
    public var links: Int
    public var reviewPairs: Int
    public var clusters: Int
    public var sizeDistribution: [(String, Int)]
    public var possibleChains: Int
    public var refusedByStewards: Int
    public var notes: [String]
    public var model: JSON
    /// Wall-clock seconds per phase of matching, in order.
    public var seconds: [(String, Double)] = []
    /// `full` or `incremental`, and why a run took the full path.
    public var path = "full"
    public var reason: String? = nil
    /// Records rebuilt from changed source records, records compared with candidates, and
    /// records re-clustered (on the full path: every record).
    public var changedRecords: Int? = nil
    public var comparedRecords: Int? = nil
    public var reclusteredRecords: Int? = nil

    public var json: JSON {
        .object([
            ("entity", .string(entity)), ("path", .string(path)), ("path_reason", reason.map(JSON.string) ?? .null),
            ("changed_records", .int(Int64(changedRecords ?? records))), ("compared_records", .int(Int64(comparedRecords ?? records))),
            ("reclustered_records", .int(Int64(reclusteredRecords ?? records))),
            ("records", .int(Int64(records))),
            ("candidate_pairs", .int(Int64(candidatePairs))),
            ("pairs_per_blocking_rule", .array(pairsPerRule.map { .object([("rule", .string($0.rule)), ("pairs", .int(Int64($0.pairs)))]) })),
            ("links", .int(Int64(links))), ("review_pairs", .int(Int64(reviewPairs))),
            ("clusters", .int(Int64(clusters))),
            ("cluster_sizes", .object(sizeDistribution.map { ($0.0, .int(Int64($0.1))) })),
            ("possible_chains", .int(Int64(possibleChains))),
            ("links_refused_by_steward_decisions", .int(Int64(refusedByStewards))),
            ("notes", .array(notes.map(JSON.string))),
            ("seconds", .object(seconds.map { ($0.0, .double(($0.1 * 1000).rounded() / 1000)) })),
        ])
    }
}

/// Entity resolution for one entity: block, compare, train, score, cluster; records the model,
/// the scored pairs and returns the clusters for survivorship.
struct Matcher {
    let db: SQLiteDatabase
    let entity: EntitySpec
    let records: EntityRecords
    let run: Int64
    let settings: FunctionSettings
    var observer: RunObserver = SilentObserver()

    struct Output {
        var summary: MatchSummary
        var clusters: Clusterer.Result
        /// Candidate pairs per blocking rule (before removing pairs earlier rules produced).
        var pairCounts: [Int] = []
        /// Term-frequency totals of this run's records (non-null values per attribute).
        var nonNull: [Int] = []
    }

    func match(notes initialNotes: [String] = []) throws -> Output {
        var seconds: [(String, Double)] = []
        var clock = Date()
        func lap(_ phase: String) {
            let now = Date()
            seconds.append((phase, now.timeIntervalSince(clock)))
            clock = now
        }
        let spec = entity.match
        var notes = initialNotes
        let loc = spec.location
        let table = EntityBuilder.table(entity.name)
        let attrs = records.attributes
        let probabilistic = spec.mode != .deterministic

        // Comparisons and their limits (4 bits of a 64-bit vector each).
        let comparisons = probabilistic ? spec.comparisons : []
        if comparisons.count > 16 { throw AurumError(.matching, "at most 16 comparisons are supported, found \(comparisons.count)", at: "\(loc).comparisons") }
        for c in comparisons {
            if c.levels.count > 13 { throw AurumError(.matching, "at most 13 levels per comparison, found \(c.levels.count)", at: c.location) }
            for case .sql(let e) in c.levels {
                do { try SQLLevelEvaluator.check(e, attributes: attrs, db: db) } catch {
                    let (msg, hint) = ExpressionChecker.explain(error, columns: attrs.flatMap { ["l.\($0)", "r.\($0)"] })
                    throw AurumError(.expression, "sql level: \(msg)", at: c.location, hint: hint)
                }
            }
        }
        let comparators = comparisons.map { Comparator($0, attributes: attrs) }
        var needTokens = Set<Int>(), needPhonetic = Set<Int>()
        for c in comparators {
            for l in c.spec.levels {
                switch l {
                case .jaccard: needTokens.insert(c.attribute)
                case .soundex, .metaphone: needPhonetic.insert(c.attribute)
                default: break
                }
            }
        }
        let features = Features(records: records, types: entity.attributes.map(\.type), needTokens: needTokens, needPhonetic: needPhonetic)
        lap("features")

        // Blocking: the rules, plus each deterministic rule (its attributes must be equal anyway).
        let rules = Matcher.blockingRules(spec)
        let blocker = try Blocker(rules: rules, linkType: spec.linkType, records: records, db: db, table: table, location: loc)
        lap("blocking keys")
        let counts = blocker.pairCounts()
        try Self.checkPairBudget(rules: rules, counts: counts, spec: spec)
        observer.note("\(entity.name): blocking " + zip(rules, counts).map { "[\($0.description)] \($1)" }.joined(separator: ", "))
        let (left, right, perRule) = blocker.pairs()
        lap("candidate pairs")
        observer.progress("match:\(entity.name)", records: left.count)

        // Train and score. Only the pairs at or above the review threshold (or hit by a rule) are
        // kept past this point, so memory is the candidates' ids and comparison vectors.
        var gammas = [UInt64]()
        var model: MatchModel?
        var excluded = 0
        var kept: [Int32] = []
        var keptWeight: [Double] = []
        var keptRule: [Bool] = []
        if probabilistic {
            let trainer = Trainer(comparators: comparators, features: features, records: records, settings: settings)
            var trained = try train(trainer, comparators: comparators, notes: &notes)
            lap("train")
            gammas = try trainer.gammas(left, right)
            lap("compare candidates")
            if spec.prior == nil {
                // The matches expected among the candidates (EM with m and u fixed), as a share
                // of every pair that could be compared: the probability that two random records
                // match. Probabilities then do not depend on how tight the blocking is.
                let share = try estimatePrior(gammas, model: trained)
                let expected = share * Double(left.count)
                let possible = comparablePairs()
                trained.prior = min(max(expected / max(possible, 1), 1e-12), 0.5)
                trained.diagnostics.append(("expected_matches_among_candidates", .double((expected * 10).rounded() / 10)))
            }
            lap("prior")
            model = trained
        }
        let scorer = PairScorer(spec: spec, comparators: comparators, model: model, attributes: attrs)
        let n = records.count
        for p in 0..<left.count {
            let i = Int(left[p]), j = Int(right[p])
            switch scorer.score(gammas.isEmpty ? 0 : gammas[p], i, j, features, tf: { scorer.featureTF($0, features, n, $1) }) {
            case .drop(let ex): if ex { excluded += 1 }
            case .keep(let w, let rule): kept.append(Int32(p)); keptWeight.append(w); keptRule.append(rule)
            }
        }

        lap("score")
        // Steward decisions always win.
        var must: [(Int32, Int32)] = [], cannot: [(Int32, Int32)] = []
        var cannotSet = Set<UInt64>()
        let decisions = try db.query("SELECT source_l, key_l, source_r, key_r, decision FROM match_decisions WHERE entity = ? ORDER BY decided_at, rowid",
                                     [.text(entity.name)])
        var index: [String: Int32] = [:]
        if !decisions.isEmpty {
            index.reserveCapacity(records.count)
            for r in 0..<records.count { index[records.reference(r)] = Int32(r) }
        }
        for row in decisions {
            guard let a = index["\(row[0].textValue ?? ""):\(row[1].textValue ?? "")"],
                  let b = index["\(row[2].textValue ?? ""):\(row[3].textValue ?? "")"] else { continue }
            if row[4].textValue == "must_link" { must.append((a, b)) } else {
                cannot.append((a, b))
                cannotSet.insert(UInt64(UInt32(min(a, b))) << 32 | UInt64(UInt32(max(a, b))))
            }
        }

        var links: [Clusterer.Link] = []
        var review = 0
        var status = [String](repeating: "", count: kept.count)
        for (x, p) in kept.enumerated() {
            let w = keptWeight[x]
            let prob = keptRule[x] ? 1 : MatchModel.probability(w)
            let i = Int(left[Int(p)]), j = Int(right[Int(p)])
            if keptRule[x] { status[x] = "rule" } else if prob >= spec.linkThreshold { status[x] = "link" } else { status[x] = "review"; review += 1 }
            if status[x] != "review" && !cannotSet.contains(UInt64(UInt32(i)) << 32 | UInt64(UInt32(j))) {
                links.append(Clusterer.Link(i: Int32(i), j: Int32(j), weight: w))
            }
        }
        // Stored in the order decisions use (by `source:key` text), written in primary-key order so
        // the key's b-tree grows at its end; for a bulk write the two other indexes are rebuilt
        // afterwards (1M records: 664k pairs), as xref's is.
        func ordered(_ x: Int) -> (Int, Int) {
            let i = Int(left[Int(kept[x])]), j = Int(right[Int(kept[x])])
            return referenceOrder(i, j) ? (i, j) : (j, i)
        }
        var order = Array(0..<kept.count)
        if let rank = try keyRanks() {
            let sortKey = order.map { x -> UInt64 in
                let (a, b) = ordered(x)
                return UInt64(rank[a]) << 32 | UInt64(rank[b])
            }
            order.sort { sortKey[$0] < sortKey[$1] }
        }
        let ent = Value.text(entity.name)
        let total = Int(try db.scalar("SELECT count(*) FROM match_pairs")?.doubleValue ?? 0)
        let mine = Int(try db.scalar("SELECT count(*) FROM match_pairs WHERE entity = ?", [ent])?.doubleValue ?? 0)
        let rebuild = kept.count >= 50_000 && kept.count >= total - mine
        if rebuild {
            for i in MatchStore.pairIndexes { try db.execute("DROP INDEX IF EXISTS \(i.name)") }
        }
        try db.run("DELETE FROM match_pairs WHERE entity = ?", [ent])
        let insert = try db.prepare("INSERT OR REPLACE INTO match_pairs(entity, run_id, source_l, key_l, source_r, key_r, weight, probability, status, levels) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        try insert.bind([ent, .integer(run)])
        let sourceNames = records.sources.map(Value.text)
        for x in order {
            let w = keptWeight[x]
            let prob = keptRule[x] ? 1 : MatchModel.probability(w)
            let (a, b) = ordered(x)
            try insert.bind(sourceNames[Int(records.source[a])], at: 3)
            try insert.bind(.text(records.sourceKey[a]), at: 4)
            try insert.bind(sourceNames[Int(records.source[b])], at: 5)
            try insert.bind(.text(records.sourceKey[b]), at: 6)
            try insert.bind(.real(w.isFinite ? w : 1e9), at: 7)
            try insert.bind(.real(prob), at: 8)
            try insert.bind(.text(status[x]), at: 9)
            try insert.bind(.text(Self.levelsText(gammas.isEmpty ? 0 : gammas[Int(kept[x])], count: comparators.count)), at: 10)
            try insert.step()
            insert.resetKeepingBindings()
        }
        if rebuild {
            for i in MatchStore.pairIndexes { try db.execute(i.sql) }
        }

        lap("decisions and stored pairs")
        FaultPoints.hit("match.pairs")
        let result = Clusterer.cluster(count: records.count, links: links, mustLink: must, cannotLink: cannot)
        let chainWeight = log2(spec.chainBound / (1 - spec.chainBound))
        lap("cluster")
        let chains = result.weakest.filter { $0.isFinite && $0 < chainWeight }.count
        if excluded > 0 { notes.append("\(excluded) candidate pair(s) excluded by match.exclusions") }
        if chains > 0 {
            notes.append("\(chains) cluster(s) hold a link below the chain bound \(Value.format(spec.chainBound)): review them with `aurum review`")
        }
        var modelJSON = JSON.null
        if var m = model {
            m.notes = notes
            m.diagnostics.append(("blocking", .array(zip(rules, counts).map { .object([("rule", .string($0.description)), ("pairs", .int(Int64($1)))]) })))
            modelJSON = m.json
            try db.run("INSERT OR REPLACE INTO match_models(run_id, entity, model) VALUES (?, ?, ?)",
                       [.integer(run), .text(entity.name), .text(modelJSON.compact)])
        }
        try MatchStore.writeBlocks(entity: entity.name, blocker: blocker, db: db)
        if let m = model, m.comparisons.contains(where: \.termFrequency) {
            try MatchStore.writeTermFrequencies(entity: entity.name, model: m, features: features, comparators: comparators, db: db)
        }
        lap("store model")
        let summary = MatchSummary(entity: entity.name, records: records.count, candidatePairs: left.count,
                                   pairsPerRule: zip(rules, perRule).map { ($0.description, $1) }, links: links.count,
                                   reviewPairs: review, clusters: result.clusterCount,
                                   sizeDistribution: Clusterer.sizeDistribution(result.clusters, count: result.clusterCount),
                                   possibleChains: chains, refusedByStewards: result.refused, notes: notes, model: modelJSON,
                                   seconds: seconds)
        return Output(summary: summary, clusters: result, pairCounts: counts, nonNull: features.nonNull)
    }

    /// The rules that block: the blocking rules, plus each deterministic rule (its attributes must
    /// be equal anyway).
    static func blockingRules(_ spec: MatchSpec) -> [BlockingRule] {
        var rules = spec.mode != .deterministic ? spec.blocking : []
        if spec.mode != .probabilistic {
            for d in spec.deterministic { rules.append(BlockingRule(keys: d.attributes.map(sqlIdent), location: d.location)) }
        }
        return rules
    }

    /// Pairs the link type allows among all records (the population the prior is a share of).
    /// Refuses blocking rules whose candidate pairs (`counts[i]` for `rules[i]`) exceed the pair
    /// budget, naming every rule's count and the worst rule. The full and incremental paths both.
    static func checkPairBudget(rules: [BlockingRule], counts: [Int], spec: MatchSpec) throws {
        let total = counts.reduce(0, +)
        guard total > spec.pairBudget else { return }
        let worst = counts.enumerated().max { $0.element < $1.element }!
        let listing = zip(rules, counts).map { "\($0.description): \($1)" }.joined(separator: "; ")
        throw AurumError(.matching, "the blocking rules would produce \(total) candidate pairs, over the pair budget of \(spec.pairBudget) (\(listing))",
                         at: "\(spec.location).blocking",
                         hint: "rule '\(rules[worst.offset].description)' produces \(worst.element): add a key to it, or raise match.pair_budget")
    }

    func comparablePairs() -> Double {
        var perSource = [Double](repeating: 0, count: records.sources.count)
        for s in records.source { perSource[Int(s)] += 1 }
        let n = Double(records.count)
        let all = n * (n - 1) / 2
        let within = perSource.reduce(0) { $0 + $1 * ($1 - 1) / 2 }
        switch entity.match.linkType {
        case .linkAndDedupe: return all
        case .linkOnly: return all - within
        case .dedupeOnly: return within
        }
    }

    /// Each record's place in (source, source_key) order, the order of match_pairs' primary key
    /// (read from the record table's key index); nil if the table does not hold exactly the records.
    func keyRanks() throws -> [UInt32]? {
        var rank = [UInt32](repeating: .max, count: records.count)
        let st = try db.prepare("SELECT rec_id FROM \(sqlIdent(EntityBuilder.table(entity.name))) ORDER BY source, source_key")
        var next = 0
        while try st.step() {
            let r = Int(st.columnInt(0)) - 1
            guard r >= 0, r < rank.count, rank[r] == .max else { return nil }
            rank[r] = UInt32(next)
            next += 1
        }
        return next == records.count ? rank : nil
    }

    /// A comparison vector as match_pairs stores it: each comparison's level, comma-separated.
    static func levelsText(_ g: UInt64, count: Int) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(3 * count)
        for k in 0..<count {
            if k > 0 { bytes.append(UInt8(ascii: ",")) }
            let v = UInt8((g >> (4 * UInt64(k))) & 0xF)
            if v >= 10 { bytes.append(UInt8(ascii: "1")); bytes.append(UInt8(ascii: "0") + v - 10) } else { bytes.append(UInt8(ascii: "0") + v) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether record i's `source:key` sorts before (or equal to) record j's.
    func referenceOrder(_ i: Int, _ j: Int) -> Bool {
        !RecordRef.precedes(records.sources[Int(records.source[j])], records.sourceKey[j],
                            records.sources[Int(records.source[i])], records.sourceKey[i])
    }

    // MARK: training

    func train(_ trainer: Trainer, comparators: [Comparator], notes: inout [String]) throws -> MatchModel {
        let spec = entity.match
        let t = spec.training
        let attrs = records.attributes
        let needU = comparators.contains { $0.spec.u == nil }
        let u = needU ? try trainer.estimateU(linkType: spec.linkType, count: t.uSamplePairs, seed: t.seed) : []
        var comps: [MatchModel.Comparison] = comparators.enumerated().map { k, c in
            let labels = ["null"] + c.spec.levels.map(\.label) + ["else"]
            let uk = c.spec.u.map { [1] + $0 } ?? u[k]
            let mk = c.spec.m.map { [1] + $0 } ?? Trainer.initialM(levels: c.levelCount)
            let unordered = [false] + c.spec.levels.map { l -> Bool in
                switch l {
                case .swapped, .sql, .dateTransposed: true
                default: false
                }
            } + [false]
            return MatchModel.Comparison(name: c.spec.name, attribute: c.spec.attribute, labels: labels, m: mk, u: uk,
                                         weights: [], termFrequency: c.spec.termFrequency, handSet: c.spec.m != nil && c.spec.u != nil,
                                         unordered: unordered)
        }
        var diagnostics: [JSON] = []
        let needM = comparators.contains { $0.spec.m == nil }
        if needM {
            let blocks = t.emBlocks.isEmpty ? spec.blocking : t.emBlocks
            let tb = try Blocker(rules: blocks, linkType: spec.linkType, records: records, db: db,
                                 table: EntityBuilder.table(entity.name), location: "\(spec.location).training.em_blocks")
            let counts = tb.pairCounts()
            var sums = comps.map { [Double](repeating: 0, count: $0.m.count) }
            var trainedIn = [Int](repeating: 0, count: comps.count)
            for (b, rule) in blocks.enumerated() {
                let used = Set(attrs.filter { a in rule.keys.contains { Matcher.mentions($0, a) } })
                let active = comparators.map { c in
                    c.spec.m == nil && !used.contains(c.spec.attribute)
                        && !c.spec.levels.contains { if case .swapped(let o) = $0 { return used.contains(o) } else { return false } }
                }
                if !active.contains(true) {
                    diagnostics.append(.object([("block", .string(rule.description)), ("skipped", .string("every comparison uses this block's attributes"))]))
                    continue
                }
                let keep = counts[b] > t.maxBlockPairs ? Double(t.maxBlockPairs) / Double(counts[b]) : 1
                let (l, r, _) = tb.pairs(onlyRule: b, keep: keep)
                if l.count < 10 {
                    diagnostics.append(.object([("block", .string(rule.description)), ("skipped", .string("only \(l.count) pairs"))]))
                    continue
                }
                let g = try trainer.gammas(l, r)
                var patterns: [UInt64: Double] = [:]
                for x in g { patterns[x, default: 0] += 1 }
                let sorted = patterns.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
                guard let res = Trainer.em(patterns: sorted, active: active, m0: comps.map(\.m), u: comps.map(\.u), lambda0: 0.3,
                                           maxIterations: t.maxIterations, tolerance: t.tolerance) else {
                    throw AurumError(.matching, "expectation-maximisation did not converge in \(t.maxIterations) iterations on training block [\(rule.description)] of entity '\(entity.name)'",
                                     at: "\(spec.location).training",
                                     hint: "raise training.max_iterations or tolerance, choose other em_blocks, or set m by hand")
                }
                if res.lambda < 1e-6 {
                    notes.append("training block [\(rule.description)] found no matches among its \(l.count) pairs; not used for training")
                    diagnostics.append(.object([("block", .string(rule.description)), ("skipped", .string("EM found no matches"))]))
                    continue
                }
                for k in comps.indices where active[k] {
                    for l in sums[k].indices { sums[k][l] += res.m[k][l] }
                    trainedIn[k] += 1
                }
                diagnostics.append(.object([("block", .string(rule.description)), ("pairs", .int(Int64(l.count))),
                                            ("iterations", .int(Int64(res.iterations))), ("match_share", .double(res.lambda)),
                                            ("trained", .array(comps.indices.filter { active[$0] }.map { .string(comps[$0].name) }))]))
            }
            for k in comps.indices where comparators[k].spec.m == nil {
                guard trainedIn[k] > 0 else {
                    throw AurumError(.matching, "comparison '\(comps[k].name)' is never trained: every training block shares its attribute '\(comps[k].attribute)'",
                                     at: "\(spec.location).training.em_blocks",
                                     hint: "add a training block that does not use '\(comps[k].attribute)', or set its m by hand")
                }
                comps[k].m = sums[k].map { $0 / Double(trainedIn[k]) }
                comps[k].m[0] = 1
            }
        }
        var guardNotes: [String] = []
        for k in comps.indices { MatchModel.guardedWeights(&comps[k], notes: &guardNotes) }
        notes.append(contentsOf: guardNotes)
        var model = MatchModel(entity: entity.name, comparisons: comps, prior: spec.prior ?? 0.5,
                               linkThreshold: spec.linkThreshold, reviewThreshold: spec.reviewThreshold)
        model.diagnostics.append(("training", .array(diagnostics)))
        model.diagnostics.append(("u_sample_pairs", .int(Int64(t.uSamplePairs))))
        return model
    }

    /// The share of matches among the candidate pairs, by EM with m and u held fixed.
    func estimatePrior(_ gammas: [UInt64], model: MatchModel) throws -> Double {
        var patterns: [UInt64: Double] = [:]
        for g in gammas { patterns[g, default: 0] += 1 }
        guard !patterns.isEmpty else { return 0.5 }
        let w = model.comparisons.map(\.weights)
        var lambda = 0.1
        for _ in 0..<500 {
            var matches = 0.0, total = 0.0
            let pl = log2(lambda / (1 - lambda))
            for (g, c) in patterns {
                var s = pl
                for k in w.indices { s += w[k][Int((g >> (4 * UInt64(k))) & 0xF)] }
                matches += c * MatchModel.probability(s)
                total += c
            }
            let next = min(max(matches / total, 1e-9), 1 - 1e-9)
            if abs(next - lambda) < 1e-9 { return next }
            lambda = next
        }
        return lambda
    }

    /// Whether an SQL expression names an attribute (as a whole identifier, quoted or not).
    static func mentions(_ expr: String, _ attribute: String) -> Bool {
        if expr.contains("\"\(attribute)\"") { return true }
        let u = Array(expr.utf8), a = Array(attribute.utf8)
        guard a.count <= u.count else { return false }
        func isIdent(_ c: UInt8) -> Bool { c == 95 || (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 122) }
        var i = 0
        while i + a.count <= u.count {
            if u[i..<(i + a.count)].elementsEqual(a), i == 0 || !isIdent(u[i - 1]), i + a.count == u.count || !isIdent(u[i + a.count]) {
                return true
            }
            i += 1
        }
        return false
    }
}
