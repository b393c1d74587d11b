import Foundation

/// The entity steps of a run: build each entity's records, match them, survive golden records.
extension Pipeline {
    struct EntityOutcome {
        var match: MatchSummary
        var golden: GoldenSummary
    }

    /// One step per entity, each in one transaction: a failure leaves the golden state as it was.
    static func runEntities(_ catalog: Catalog, warehouse: Warehouse, run: Int64, state: inout RunState, observer: RunObserver) throws {
        let db = warehouse.db
        let prepared = state.prepared
        for entity in catalog.entities {
            let outcome: EntityOutcome = try step("match:\(entity.name)", warehouse, run, &state, observer) { _ in
                let r = try db.transaction { () throws -> (EntityOutcome, Int) in
                    var notes = EntityBuilder.Notes()
                    let t0 = Date()
                    let records = try EntityBuilder(db: db, entity: entity, prepared: prepared).build(notes: &notes)
                    let built = Date().timeIntervalSince(t0)
                    var matcher = Matcher(db: db, entity: entity, records: records, run: run, settings: catalog.functions)
                    matcher.observer = observer
                    var m = try matcher.match(notes: notes.messages)
                    let t1 = Date()
                    let g = try GoldenStage.build(entity: entity, records: records, clusters: m.clusters.clusters,
                                                  clusterCount: m.clusters.clusterCount, db: db, run: run)
                    let t2 = Date()
                    try GoldenVersions.record(entity: entity, run: run, db: db)
                    m.summary.seconds.insert(("build records", built), at: 0)
                    m.summary.seconds.append(("golden records", t2.timeIntervalSince(t1)))
                    m.summary.seconds.append(("golden versions", Date().timeIntervalSince(t2)))
                    return (EntityOutcome(match: m.summary, golden: g), records.count)
                }
                return (r.0, r.1, r.0.golden.goldenRecords)
            }
            for n in outcome.match.notes { observer.note(n) }
            state.entities.append(outcome)
        }
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
