import Foundation

/// The entity steps of a run: build each entity's records, match them, survive golden records.
extension Pipeline {
    struct EntityOutcome {
        var match: MatchSummary
        var golden: GoldenSummary
        /// Golden ids whose rows the step wrote or removed (nil: the full path rewrote them all).
        var touched: [Int64]?
    }

    /// One step per entity, each in one transaction: a failure leaves the golden state as it was.
    /// An entity whose previous state is usable runs the incremental path (`incrementalState`),
    /// the others the full one.
    static func runEntities(_ catalog: Catalog, warehouse: Warehouse, run: Int64, state: inout RunState, observer: RunObserver) throws {
        let db = warehouse.db
        let prepared = state.prepared
        let full = state.full
        // Matching reads the large entity tables (records, blocking keys, pairs, xref) by key, in
        // random order, inside one transaction that also dirties many pages: a larger page cache
        // for the step (256 MiB, bounded), and pages read through a memory map instead of a copy and
        // a system call each (the OS page cache holds the file; writes and the WAL are as before).
        let cacheSize = try db.scalar("PRAGMA cache_size")?.textValue ?? "-65536"
        try db.execute("PRAGMA cache_size = -262144")
        try db.execute("PRAGMA mmap_size = 4294967296")
        defer {
            try? db.execute("PRAGMA cache_size = \(Int(cacheSize) ?? -65536)")
            try? db.execute("PRAGMA mmap_size = 0")
        }
        for entity in catalog.entities {
            let outcome: EntityOutcome = try step("match:\(entity.name)", warehouse, run, &state, observer) { _ in
                var committing = Date()
                var r = try db.transaction { () throws -> (EntityOutcome, Int) in
                    defer { committing = Date() }
                    let tc = Date()
                    let hash = MatchState.configHash(entity: entity, catalog: catalog)
                    let (previous, reason) = try incrementalState(entity, catalog: catalog, db: db, run: run, hash: hash, full: full)
                    let checks = Date().timeIntervalSince(tc)
                    if let previous {
                        var r = try runIncremental(entity, catalog: catalog, previous: previous, prepared: prepared, db: db, run: run)
                        r.0.match.seconds.insert(("path checks", checks), at: 0)
                        return r
                    }
                    var notes = EntityBuilder.Notes()
                    let t0 = Date()
                    let records = try EntityBuilder(db: db, entity: entity, prepared: prepared).build(notes: &notes)
                    FaultPoints.hit("match.records")
                    let built = Date().timeIntervalSince(t0)
                    var matcher = Matcher(db: db, entity: entity, records: records, run: run, settings: catalog.functions)
                    matcher.observer = observer
                    var m = try matcher.match(notes: notes.messages)
                    FaultPoints.hit("match.clustered")
                    let t1 = Date()
                    let g = try GoldenStage.build(entity: entity, records: records, clusters: m.clusters.clusters,
                                                  clusterCount: m.clusters.clusterCount, db: db, run: run)
                    let t2 = Date()
                    try GoldenVersions.record(entity: entity, run: run, db: db)
                    m.summary.seconds.insert(("build records", built), at: 0)
                    m.summary.seconds.insert(("path checks", checks), at: 0)
                    m.summary.seconds.append(("golden records", t2.timeIntervalSince(t1)))
                    m.summary.seconds.append(("golden versions", Date().timeIntervalSince(t2)))
                    m.summary.reason = reason
                    let probabilistic = entity.match.mode != .deterministic
                    try MatchState(entity: entity.name, run: run, configHash: hash, modelRun: probabilistic ? run : nil, path: "full",
                                   pairCounts: m.pairCounts, savedAt: Timestamp.now(), tfNonNull: m.nonNull, tfRecords: records.count).save(db: db)
                    return (EntityOutcome(match: m.summary, golden: g, touched: nil), records.count)
                }
                // The transaction's end: the commit writes the WAL's last frames and may checkpoint.
                r.0.match.seconds.append(("commit", Date().timeIntervalSince(committing)))
                FaultPoints.hit("match.committed")
                return (r.0, r.1, r.0.golden.goldenRecords)
            }
            for n in outcome.match.notes { observer.note(n) }
            state.entities.append(outcome)
        }
    }

    static func runIncremental(_ entity: EntitySpec, catalog: Catalog, previous: MatchState, prepared: [PreparedSource],
                               db: SQLiteDatabase, run: Int64) throws -> (EntityOutcome, Int) {
        var m = try IncrementalMatcher(db: db, entity: entity, prepared: prepared, run: run, state: previous, settings: catalog.functions)
            .match(notes: [])
        let t1 = Date()
        let (g, touched) = try GoldenStage.update(entity: entity, records: m.records, clusters: m.clusters.clusters,
                                                  clusterCount: m.clusters.clusterCount, previous: m.previous,
                                                  untouched: m.untouchedGolden, db: db, run: run)
        let t2 = Date()
        try GoldenVersions.record(entity: entity, run: run, db: db, touched: Set(touched))
        m.summary.seconds.append(("golden records", t2.timeIntervalSince(t1)))
        m.summary.seconds.append(("golden versions", Date().timeIntervalSince(t2)))
        var next = previous
        next.run = run
        next.path = "incremental"
        next.pairCounts = m.pairCounts
        next.savedAt = Timestamp.now()
        let t3 = Date()
        try next.save(db: db)
        m.summary.seconds.append(("match state", Date().timeIntervalSince(t3)))
        return (EntityOutcome(match: m.summary, golden: g, touched: touched), m.summary.comparedRecords ?? 0)
    }

    /// The entity's previous state when the incremental path can run on it, else why not.
    static func incrementalState(_ entity: EntitySpec, catalog: Catalog, db: SQLiteDatabase, run: Int64, hash: String,
                                 full: Bool) throws -> (MatchState?, String?) {
        if full { return (nil, "--full") }
        guard let st = try MatchState.load(entity: entity.name, db: db) else { return (nil, "no previous state") }
        if st.configHash != hash { return (nil, "the entity's configuration changed") }
        if try db.scalar("SELECT status FROM runs WHERE run_id = ?", [.integer(st.run)])?.textValue != "succeeded" {
            return (nil, "the run that built it (\(st.run)) did not succeed")
        }
        for t in [EntityBuilder.table(entity.name), MatchStore.blocksTable(entity.name), GoldenStage.tableName(entity.name),
                  GoldenStage.lineageTableName(entity.name)] where try !db.tableExists(t) {
            return (nil, "table \(t) is missing")
        }
        if try !db.columns(of: EntityBuilder.table(entity.name)).contains(EntityBuilder.ridColumn) {
            return (nil, "the entity's records were built without their row ids")
        }
        if entity.match.mode != .deterministic {
            guard let mr = st.modelRun,
                  try db.scalar("SELECT count(*) FROM match_models WHERE run_id = ? AND entity = ?", [.integer(mr), .text(entity.name)])?.doubleValue == 1 else {
                return (nil, "no recorded model")
            }
        }
        if catalog.quality.duplicates { return (nil, "duplicate removal compares rows across a source") }
        for m in entity.sources {
            if let s = catalog.sources.first(where: { $0.name == m.source }), s.key.isEmpty {
                return (nil, "source '\(m.source)' has no key")
            }
            let first = try db.scalar("SELECT count(*) FROM change_counts WHERE source = ? AND run_id > ? AND run_id <= ? AND first = 1",
                                      [.text(m.source), .integer(st.run), .integer(run)])?.doubleValue ?? 0
            if first > 0 { return (nil, "source '\(m.source)' has a first snapshot since") }
        }
        return (st, nil)
    }

    /// The table and columns an output writes, per its `data` setting.
    static func dataset(for out: OutputSpec, catalog: Catalog, integration: IntegrationResult?, db: SQLiteDatabase) throws -> (table: String, columns: [String]) {
        let spec = out.data ?? (catalog.entities.isEmpty ? "integrated" : "golden")
        let parts = spec.split(separator: ".", maxSplits: 1).map(String.init)
        let kind = parts[0]
        if kind == "integrated" {
            guard let i = integration else {
                throw AurumError(.output, "there are no integrated rows to write: the catalog has no 'integration' section",
                                 at: "\(out.location).data", hint: "write data: golden, or add an integration section")
            }
            return (i.table, i.columns)
        }
        guard let entity = parts.count > 1 ? catalog.entities.first(where: { $0.name == parts[1] }) : catalog.entities.first else {
            throw AurumError(.output, parts.count > 1 ? "unknown entity '\(parts[1])'" : "data '\(kind)' needs an entity, and the catalog has none",
                             at: "\(out.location).data", hint: "entities: \(catalog.entities.map(\.name).joined(separator: ", "))")
        }
        let table = "pub_\(kind)_\(entity.name)"
        try db.execute("DROP TABLE IF EXISTS temp.\(sqlIdent(table))")
        switch kind {
        case "golden":
            let attrs = entity.attributes.map { sqlIdent($0.name) }
            try db.execute("CREATE TEMP TABLE \(sqlIdent(table)) AS SELECT golden_id, \(attrs.joined(separator: ", ")), __records AS record_count, __sources AS sources FROM \(sqlIdent("golden_\(entity.name)")) ORDER BY golden_id")
            return (table, ["golden_id"] + entity.attributes.map(\.name) + ["record_count", "sources"])
        case "xref":
            try db.run("CREATE TEMP TABLE \(sqlIdent(table)) AS SELECT source, source_key, golden_id FROM xref WHERE entity = ? ORDER BY golden_id, source, source_key",
                       [.text(entity.name)])
            return (table, ["source", "source_key", "golden_id"])
        case "pairs":
            try db.run("CREATE TEMP TABLE \(sqlIdent(table)) AS SELECT source_l, key_l, source_r, key_r, weight, probability, status FROM match_pairs WHERE entity = ? ORDER BY probability DESC, source_l, key_l, source_r, key_r",
                       [.text(entity.name)])
            return (table, ["source_l", "key_l", "source_r", "key_r", "weight", "probability", "status"])
        default:
            throw AurumError(.invalidCatalog, "unknown data '\(kind)'", at: "\(out.location).data",
                             hint: "integrated, golden, xref or pairs (optionally .ENTITY)")
        }
    }
}

extension GoldenSummary {
    /// The golden stage's counts for the run report.
    var json: JSON {
        .object([
            ("table", .string(table)), ("golden_records", .int(Int64(goldenRecords))),
            ("created", .int(Int64(created))), ("merged", .int(Int64(merged))), ("split", .int(Int64(split))),
            ("retired", .int(Int64(retired))), ("unchanged", .int(Int64(unchanged))), ("changed", .int(Int64(changed))),
        ])
    }
}
