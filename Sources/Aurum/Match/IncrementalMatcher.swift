import Foundation

/// The incremental path of an entity: only the records whose source records changed since the
/// entity was last built are rebuilt and compared, against the existing records that share a
/// blocking key, with the recorded model; then only the golden records they touch are
/// re-clustered.
///
/// Equivalence with a full run rests on three facts. A pair's weight depends only on its two
/// records and the model (term frequencies are the model's). Clusters are connected components,
/// so the affected records — the changed ones, and everything linked to them through stored or new
/// links, must-links or a shared golden record — are a union of whole components. And every
/// tie-break of clustering, golden ids and survivorship compares records by their order in a full
/// run (source in catalog order, then snapshot row), which the affected records keep among
/// themselves.
struct IncrementalMatcher {
    let db: SQLiteDatabase
    let entity: EntitySpec
    let prepared: [PreparedSource]
    let run: Int64
    let state: MatchState
    let settings: FunctionSettings

    struct Output {
        var summary: MatchSummary
        /// The affected records that still exist, in record order, and their clusters.
        var records: EntityRecords
        var clusters: Clusterer.Result
        var previous: PreviousGoldenState
        var pairCounts: [Int]
        /// Golden records no affected record belonged to (kept as they are).
        var untouchedGolden: Int
    }

    /// One record's blocking keys: its rec_id, source index and per rule the key hash (nil: no key).
    struct KeyRow {
        var rec: Int64
        var src: Int32
        var hashes: [Int64?]
    }

    func match(notes initial: [String]) throws -> Output {
        var seconds: [(String, Double)] = []
        var clock = Date()
        func lap(_ phase: String) {
            let now = Date()
            seconds.append((phase, now.timeIntervalSince(clock)))
            clock = now
        }
        var notes = EntityBuilder.Notes(messages: initial)
        let name = entity.name
        let spec = entity.match
        let table = sqlIdent(EntityBuilder.table(name)), blocks = sqlIdent(MatchStore.blocksTable(name))
        let attrs = entity.attributes.map(\.name)
        let sources = entity.sources.map(\.source)
        let srcIndex = Dictionary(uniqueKeysWithValues: sources.enumerated().map { ($1, Int32($0)) })
        let ent = Value.text(name)

        // Changed source keys: every change set since the run that built the entity.
        try db.execute("CREATE TEMP TABLE IF NOT EXISTS aurum_changed (source TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (source, key)) WITHOUT ROWID")
        try db.execute("CREATE TEMP TABLE IF NOT EXISTS aurum_recs (rec INTEGER PRIMARY KEY)")
        try db.execute("CREATE TEMP TABLE IF NOT EXISTS aurum_keyset (source TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (source, key)) WITHOUT ROWID")
        try db.execute("CREATE TEMP TABLE IF NOT EXISTS aurum_hashes (key INTEGER PRIMARY KEY)")
        for t in ["aurum_changed", "aurum_recs", "aurum_keyset", "aurum_hashes"] { try db.execute("DELETE FROM temp.\(t)") }
        let sourceList = sources.map { "'\($0.replacingOccurrences(of: "'", with: "''"))'" }.joined(separator: ", ")
        try db.run("""
            INSERT OR IGNORE INTO temp.aurum_changed SELECT source, source_key FROM change_sets
            WHERE run_id > ? AND run_id <= ? AND source IN (\(sourceList)) AND source_key IS NOT NULL
            """, [.integer(state.run), .integer(run)])
        let changedKeys = try db.query("SELECT source, key FROM temp.aurum_changed").map {
            RecordRef(source: $0[0].textValue ?? "", key: $0[1].textValue ?? "")
        }

        // Blocking key expressions, as the full path evaluates them.
        let rules = Matcher.blockingRules(spec)
        let keyExprs = try rules.enumerated().map { ri, rule in
            Blocker.keyExpression(try Blocker.keyParts(rule, index: ri, attributes: attrs, db: db, location: spec.location))
        }
        func keyRows(_ condition: String, _ args: [Value]) throws -> [KeyRow] {
            let list = keyExprs.isEmpty ? "" : ", " + keyExprs.joined(separator: ", ")
            let st = try db.prepare("SELECT rec_id, source\(list) FROM \(table) WHERE \(condition)")
            try st.bind(args)
            var out: [KeyRow] = []
            while try st.step() {
                guard case .integer(let rec) = st.column(0) else { continue }
                let src = srcIndex[st.column(1).textValue ?? ""] ?? 0
                let hashes = rules.indices.map { r in st.column(r + 2).textValue.map { Blocker.keyHash(rule: r, $0) } }
                out.append(KeyRow(rec: rec, src: src, hashes: hashes))
            }
            return out
        }

        // Old versions out, new versions in.
        let old = try keyRows("(source, source_key) IN (SELECT source, key FROM temp.aurum_changed)", [])
        let recIns = try db.prepare("INSERT OR IGNORE INTO temp.aurum_recs(rec) VALUES (?)")
        for o in old { recIns.bindInt(o.rec, at: 1); try recIns.step(); recIns.resetKeepingBindings() }
        try db.execute("DELETE FROM \(table) WHERE rec_id IN (SELECT rec FROM temp.aurum_recs)")
        let above = try EntityBuilder(db: db, entity: entity, prepared: prepared).insertChanged(keys: "temp.aurum_changed", changes: (state.run, run), notes: &notes)
        let new = try keyRows("rec_id > ?", [.integer(above)])
        lap("build records")

        // Blocking: the groups the changes touch, before and after.
        var ruleOf: [Int64: Int] = [:]
        for row in old + new { for (r, h) in row.hashes.enumerated() { if let h { ruleOf[h] = r } } }
        let hashIns = try db.prepare("INSERT OR IGNORE INTO temp.aurum_hashes(key) VALUES (?)")
        for h in ruleOf.keys.sorted() { hashIns.bindInt(h, at: 1); try hashIns.step(); hashIns.resetKeepingBindings() }
        var groups: [Int64: [(rec: Int64, src: Int32)]] = [:]
        // CROSS JOIN: the changed keys drive (without it SQLite scans every blocking key and probes
        // the temporary table with each: 5.8M rows at 1M records).
        let gst = try db.prepare("SELECT b.key, b.rec, b.src FROM temp.aurum_hashes AS h CROSS JOIN \(blocks) AS b ON b.key = h.key")
        while try gst.step() {
            guard case .integer(let k) = gst.column(0), case .integer(let rec) = gst.column(1), case .integer(let s) = gst.column(2) else { continue }
            groups[k, default: []].append((rec, Int32(s)))
        }
        var counts = state.pairCounts.count == rules.count ? state.pairCounts : Array(repeating: 0, count: rules.count)
        for (h, g) in groups { counts[ruleOf[h]!] -= Blocker.groupPairs(g.lazy.map(\.src), spec.linkType) }
        let del = try db.prepare("DELETE FROM \(blocks) WHERE key = ? AND rec = ?")
        var removed = Set<Int64>()
        // In key order: neighbouring keys share b-tree pages.
        var gone: [(Int64, Int64)] = []
        for o in old {
            removed.insert(o.rec)
            for case let h? in o.hashes { gone.append((h, o.rec)) }
        }
        gone.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        for (h, r) in gone {
            del.bindInt(h, at: 1); del.bindInt(r, at: 2); try del.step(); del.resetKeepingBindings()
        }
        for h in Array(groups.keys) { groups[h]!.removeAll { removed.contains($0.rec) } }
        let add = try db.prepare("INSERT OR IGNORE INTO \(blocks)(key, rec, src) VALUES (?, ?, ?)")
        var added: [(Int64, Int64, Int32)] = []
        for n in new {
            for case let h? in n.hashes {
                added.append((h, n.rec, n.src))
                groups[h, default: []].append((n.rec, n.src))
            }
        }
        added.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        for (h, r, src) in added {
            add.bindInt(h, at: 1); add.bindInt(r, at: 2); add.bindInt(Int64(src), at: 3)
            try add.step(); add.resetKeepingBindings()
        }
        for (h, g) in groups { counts[ruleOf[h]!] += Blocker.groupPairs(g.lazy.map(\.src), spec.linkType) }
        try Matcher.checkPairBudget(rules: rules, counts: counts, spec: spec)

        // Candidates: each new record with every record sharing one of its keys.
        func allowed(_ a: Int32, _ b: Int32) -> Bool {
            switch spec.linkType {
            case .linkAndDedupe: true
            case .linkOnly: a != b
            case .dedupeOnly: a == b
            }
        }
        var pairSet = Set<UInt64>()
        for n in new {
            for case let h? in n.hashes {
                for m in groups[h] ?? [] where m.rec != n.rec && allowed(n.src, m.src) {
                    pairSet.insert(UInt64(min(m.rec, n.rec)) << 32 | UInt64(max(m.rec, n.rec)))
                }
            }
        }
        try db.execute("DELETE FROM temp.aurum_recs")
        for n in new { recIns.bindInt(n.rec, at: 1); try recIns.step(); recIns.resetKeepingBindings() }
        for p in pairSet {
            for r in [Int64(p >> 32), Int64(p & 0xFFFF_FFFF)] { recIns.bindInt(r, at: 1); try recIns.step(); recIns.resetKeepingBindings() }
        }
        lap("blocking")
        let involved = try loadRecords("rec_id IN (SELECT rec FROM temp.aurum_recs)", [], sources: sources, srcIndex: srcIndex)

        // Score with the recorded model and its term frequencies.
        let probabilistic = spec.mode != .deterministic
        var model: MatchModel?
        var tf = TermFrequencies(counts: [], nonNull: [], records: 0)
        if probabilistic {
            guard let mr = state.modelRun,
                  let text = try db.scalar("SELECT model FROM match_models WHERE run_id = ? AND entity = ?", [.integer(mr), ent])?.textValue else {
                throw AurumError(.warehouse, "entity '\(name)': the model recorded for incremental runs is missing", at: db.path,
                                 hint: "run the catalog with --full")
            }
            model = try MatchModel(json: JSONText.parse(text))
            if model!.comparisons.contains(where: \.termFrequency) {
                tf = try MatchStore.loadTermFrequencies(entity: name, attributes: attrs, state: state, db: db)
            }
        }
        let comparators = probabilistic ? spec.comparisons.map { Comparator($0, attributes: attrs) } : []
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
        let rec = involved.records
        let local = Dictionary(uniqueKeysWithValues: involved.recIds.enumerated().map { ($1, $0) })
        lap("load candidates")
        // Record order: each record's staged row id, stored with it (stable by key across snapshots).
        let rids = involved.rids
        lap("record order")
        func precedes(_ a: Int, _ b: Int) -> Bool {
            rec.source[a] != rec.source[b] ? rec.source[a] < rec.source[b] : rids[a] < rids[b]
        }
        var left: [Int32] = [], right: [Int32] = []
        for p in pairSet.sorted() {
            guard let a = local[Int64(p >> 32)], let b = local[Int64(p & 0xFFFF_FFFF)] else { continue }
            let (i, j) = precedes(a, b) ? (a, b) : (b, a)
            left.append(Int32(i)); right.append(Int32(j))
        }
        let features = Features(records: rec, types: entity.attributes.map(\.type), needTokens: needTokens, needPhonetic: needPhonetic)
        let gammas = probabilistic ? try Trainer(comparators: comparators, features: features, records: rec, settings: settings).gammas(left, right) : []
        lap("compare candidates")
        let scorer = PairScorer(spec: spec, comparators: comparators, model: model, attributes: attrs)
        var excluded = 0, review = 0
        try db.run("DELETE FROM match_pairs WHERE entity = ? AND (source_l, key_l) IN (SELECT source, key FROM temp.aurum_changed)", [ent])
        try db.run("DELETE FROM match_pairs WHERE entity = ? AND (source_r, key_r) IN (SELECT source, key FROM temp.aurum_changed)", [ent])
        let insert = try db.prepare("INSERT OR REPLACE INTO match_pairs(entity, run_id, source_l, key_l, source_r, key_r, weight, probability, status, levels) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        for p in 0..<left.count {
            let i = Int(left[p]), j = Int(right[p])
            let g = gammas.isEmpty ? 0 : gammas[p]
            let w: Double, rule: Bool
            switch scorer.score(g, i, j, features, tf: { scorer.recordedTF($0, tf, rec, $1) }) {
            case .drop(let ex):
                if ex { excluded += 1 }
                continue
            case .keep(let kw, let kr): w = kw; rule = kr
            }
            let prob = rule ? 1 : MatchModel.probability(w)
            let status = rule ? "rule" : (prob >= spec.linkThreshold ? "link" : "review")
            if status == "review" { review += 1 }
            let levels = Matcher.levelsText(g, count: comparators.count)
            let (a, b) = RecordRef.precedes(rec.sources[Int(rec.source[j])], rec.sourceKey[j], rec.sources[Int(rec.source[i])], rec.sourceKey[i]) ? (j, i) : (i, j)
            insert.reset()
            try insert.bind([ent, .integer(run), .text(rec.sources[Int(rec.source[a])]), .text(rec.sourceKey[a]),
                             .text(rec.sources[Int(rec.source[b])]), .text(rec.sourceKey[b]),
                             .real(w.isFinite ? w : 1e9), .real(prob), .text(status), .text(levels)])
            _ = try insert.step()
        }
        lap("score")
        FaultPoints.hit("match.pairs")

        // The affected records: closure over shared golden records, stored links and must-links.
        let decisions = try db.query("SELECT source_l, key_l, source_r, key_r, decision, decided_at FROM match_decisions WHERE entity = ? ORDER BY decided_at, rowid", [ent])
        var mustOf: [RecordRef: [RecordRef]] = [:]
        var queue = changedKeys
        for d in decisions {
            let a = RecordRef(source: d[0].textValue ?? "", key: d[1].textValue ?? ""), b = RecordRef(source: d[2].textValue ?? "", key: d[3].textValue ?? "")
            if d[4].textValue == "must_link" { mustOf[a, default: []].append(b); mustOf[b, default: []].append(a) }
            if (d[5].textValue ?? "") >= state.savedAt { queue.append(a); queue.append(b) }
        }
        // Breadth first, one frontier at a time: each query joins the whole frontier (a temporary
        // table) with xref or match_pairs inside SQLite, instead of four statements per record.
        try db.execute("CREATE TEMP TABLE IF NOT EXISTS aurum_front (source TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (source, key)) WITHOUT ROWID")
        try db.execute("CREATE TEMP TABLE IF NOT EXISTS aurum_gids (id INTEGER PRIMARY KEY)")
        let frontIns = try db.prepare("INSERT OR IGNORE INTO temp.aurum_front(source, key) VALUES (?, ?)")
        let gidIns = try db.prepare("INSERT OR IGNORE INTO temp.aurum_gids(id) VALUES (?)")
        let frontGids = try db.prepare("""
            SELECT DISTINCT x.golden_id FROM temp.aurum_front AS f CROSS JOIN xref AS x
            ON x.entity = ?1 AND x.source = f.source AND x.source_key = f.key
            """)
        let gidMembers = try db.prepare("""
            SELECT x.golden_id, x.source, x.source_key FROM temp.aurum_gids AS g CROSS JOIN xref AS x
            ON x.entity = ?1 AND x.golden_id = g.id
            """)
        let pairsL = try db.prepare("""
            SELECT p.source_l, p.key_l, p.source_r, p.key_r, p.weight, p.status FROM temp.aurum_front AS f CROSS JOIN match_pairs AS p
            ON p.entity = ?1 AND p.source_l = f.source AND p.key_l = f.key WHERE p.status != 'review'
            """)
        let pairsR = try db.prepare("""
            SELECT p.source_l, p.key_l FROM temp.aurum_front AS f CROSS JOIN match_pairs AS p
            ON p.entity = ?1 AND p.source_r = f.source AND p.key_r = f.key WHERE p.status != 'review'
            """)
        for st in [frontGids, gidMembers, pairsL, pairsR] { try st.bind([ent]) }
        var affected = Set<RecordRef>()
        var previousId: [RecordRef: Int64] = [:]
        var goldenSize: [Int64: Int] = [:]
        var links: [(RecordRef, RecordRef, Double)] = []
        var frontier: [RecordRef] = []
        for r in queue where affected.insert(r).inserted { frontier.append(r) }
        while !frontier.isEmpty {
            try db.execute("DELETE FROM temp.aurum_front")
            for r in frontier {
                try frontIns.bind(.text(r.source), at: 1); try frontIns.bind(.text(r.key), at: 2)
                try frontIns.step(); frontIns.resetKeepingBindings()
            }
            try db.execute("INSERT OR IGNORE INTO temp.aurum_keyset(source, key) SELECT source, key FROM temp.aurum_front")
            var next: [RecordRef] = []
            func reach(_ o: RecordRef) { if affected.insert(o).inserted { next.append(o) } }
            try db.execute("DELETE FROM temp.aurum_gids")
            var newGids = 0
            while try frontGids.step() {
                let g = frontGids.columnInt(0)
                guard goldenSize[g] == nil else { continue }
                goldenSize[g] = 0
                gidIns.bindInt(g, at: 1); try gidIns.step(); gidIns.resetKeepingBindings()
                newGids += 1
            }
            frontGids.resetKeepingBindings()
            if newGids > 0 {
                while try gidMembers.step() {
                    let g = gidMembers.columnInt(0)
                    let m = RecordRef(source: gidMembers.columnText(1), key: gidMembers.columnText(2))
                    previousId[m] = g
                    goldenSize[g, default: 0] += 1
                    reach(m)
                }
                gidMembers.resetKeepingBindings()
            }
            while try pairsL.step() {
                let r = RecordRef(source: pairsL.columnText(0), key: pairsL.columnText(1))
                let o = RecordRef(source: pairsL.columnText(2), key: pairsL.columnText(3))
                // Each link once: from its left record (each record is in one frontier).
                links.append((r, o, pairsL.columnText(5) == "rule" ? .infinity : (pairsL.column(4).doubleValue ?? 0)))
                reach(o)
            }
            pairsL.resetKeepingBindings()
            while try pairsR.step() { reach(RecordRef(source: pairsR.columnText(0), key: pairsR.columnText(1))) }
            pairsR.resetKeepingBindings()
            for r in frontier { for o in mustOf[r] ?? [] { reach(o) } }
            frontier = next
        }
        lap("affected records")

        // The affected records that still exist, in record order.
        let found = try loadRecords("(source, source_key) IN (SELECT source, key FROM temp.aurum_keyset)", [], sources: sources, srcIndex: srcIndex)
        let foundRids = found.rids
        let order = found.records.sourceKey.indices.sorted { a, b in
            let sa = found.records.source[a], sb = found.records.source[b]
            return sa != sb ? sa < sb : foundRids[a] < foundRids[b]
        }
        lap("load affected")
        var subset = EntityRecords(entity: name, attributes: attrs, sources: sources)
        for a in subset.values.indices { subset.values[a].reserveCapacity(order.count) }
        var index: [RecordRef: Int32] = [:]
        for (x, r) in order.enumerated() {
            subset.source.append(found.records.source[r])
            subset.sourceKey.append(found.records.sourceKey[r])
            for a in attrs.indices { subset.values[a].append(found.records.values[a][r]) }
            index[RecordRef(source: sources[Int(found.records.source[r])], key: found.records.sourceKey[r])] = Int32(x)
        }

        // Cluster them: stored and new links, steward decisions.
        var must: [(Int32, Int32)] = [], cannot: [(Int32, Int32)] = []
        var cannotSet = Set<UInt64>()
        for d in decisions {
            guard let a = index[RecordRef(source: d[0].textValue ?? "", key: d[1].textValue ?? "")],
                  let b = index[RecordRef(source: d[2].textValue ?? "", key: d[3].textValue ?? "")] else { continue }
            if d[4].textValue == "must_link" { must.append((a, b)) } else {
                cannot.append((a, b))
                cannotSet.insert(UInt64(UInt32(min(a, b))) << 32 | UInt64(UInt32(max(a, b))))
            }
        }
        var clusterLinks: [Clusterer.Link] = []
        for (a, b, w) in links {
            guard let x = index[a], let y = index[b] else { continue }
            let (i, j) = (min(x, y), max(x, y))
            if cannotSet.contains(UInt64(UInt32(i)) << 32 | UInt64(UInt32(j))) { continue }
            clusterLinks.append(Clusterer.Link(i: i, j: j, weight: w))
        }
        let result = Clusterer.cluster(count: subset.count, links: clusterLinks, mustLink: must, cannotLink: cannot)
        lap("cluster")

        var previous = PreviousGoldenState.none(records: subset.count)
        for (r, x) in index { previous.ids[Int(x)] = previousId[r] ?? 0 }
        let created = try db.prepare("SELECT created_run FROM golden_ids WHERE entity = ? AND golden_id = ? AND status = 'active'")
        try created.bind([ent])
        for (g, n) in goldenSize {
            created.bindInt(g, at: 2)
            guard try created.step(), case .integer(let c) = created.column(0) else {
                throw AurumError(.warehouse, "xref maps records of entity '\(name)' to golden id \(g), which is not active in golden_ids",
                                 at: db.path, hint: "the warehouse's golden tables are inconsistent; restore it or run with --full")
            }
            created.resetKeepingBindings()
            previous.active[g] = c
            previous.recordCounts[g] = n
        }
        if case .integer(let m)? = try db.scalar("SELECT max(golden_id) FROM golden_ids WHERE entity = ?", [ent]) { previous.maxMinted = m }
        previous.vanished = previousId.keys.filter { index[$0] == nil }.sorted {
            RecordRef.precedes($0.source, $0.key, $1.source, $1.key)
        }
        let goldenBefore = Int(try db.scalar("SELECT count(*) FROM \(sqlIdent(GoldenStage.tableName(name)))")?.doubleValue ?? 0)
        let totalRecords = Int(try db.scalar("SELECT count(*) FROM \(table)")?.doubleValue ?? 0)
        lap("previous golden state")

        let chainWeight = log2(spec.chainBound / (1 - spec.chainBound))
        let chains = result.weakest.filter { $0.isFinite && $0 < chainWeight }.count
        var allNotes = notes.messages
        if excluded > 0 { allNotes.append("\(excluded) candidate pair(s) excluded by match.exclusions") }
        if chains > 0 {
            allNotes.append("\(chains) cluster(s) hold a link below the chain bound \(Value.format(spec.chainBound)): review them with `aurum review`")
        }
        var summary = MatchSummary(entity: name, records: totalRecords, candidatePairs: left.count,
                                   pairsPerRule: zip(rules, counts).map { ($0.description, $1) }, links: clusterLinks.count,
                                   reviewPairs: review, clusters: result.clusterCount + goldenBefore - goldenSize.count,
                                   sizeDistribution: Clusterer.sizeDistribution(result.clusters, count: result.clusterCount),
                                   possibleChains: chains, refusedByStewards: result.refused, notes: allNotes, model: model?.json ?? .null,
                                   seconds: seconds)
        summary.path = "incremental"
        summary.changedRecords = changedKeys.count
        summary.comparedRecords = rec.count
        summary.reclusteredRecords = subset.count
        return Output(summary: summary, records: subset, clusters: result, previous: previous, pairCounts: counts,
                      untouchedGolden: goldenBefore - goldenSize.count)
    }

    /// Records of the entity table matching `condition`, in rec_id order, with their rec_ids and
    /// staged row ids.
    func loadRecords(_ condition: String, _ args: [Value], sources: [String], srcIndex: [String: Int32]) throws -> (records: EntityRecords, recIds: [Int64], rids: [Int64]) {
        let attrs = entity.attributes.map(\.name)
        var records = EntityRecords(entity: entity.name, attributes: attrs, sources: sources)
        var ids: [Int64] = [], rids: [Int64] = []
        let st = try db.prepare("SELECT rec_id, source, source_key, \(attrs.map(sqlIdent).joined(separator: ", ")), \(EntityBuilder.ridColumn) FROM \(sqlIdent(EntityBuilder.table(entity.name))) WHERE \(condition) ORDER BY rec_id")
        try st.bind(args)
        while try st.step() {
            guard case .integer(let r) = st.column(0) else { continue }
            ids.append(r)
            records.source.append(srcIndex[st.column(1).textValue ?? ""] ?? 0)
            records.sourceKey.append(st.column(2).textValue ?? "")
            for a in attrs.indices { records.values[a].append(st.column(a + 3)) }
            guard case .integer(let rid) = st.column(attrs.count + 3) else {
                throw AurumError(.warehouse, "entity '\(entity.name)': record \(sources[Int(records.source.last!)]):\(records.sourceKey.last!) has no staged row id",
                                 at: db.path, hint: "the entity's records and the snapshot disagree; run the catalog with --full")
            }
            rids.append(rid)
        }
        return (records, ids, rids)
    }
}
