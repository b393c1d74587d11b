import Foundation

/// The run report: the output object of the original specification, plus a few extension fields.
///
/// Metric definitions (README, "The run report"):
/// - `total_records`: rows read from all sources (staged + quarantined while reading).
/// - `successful_integrations`: source rows that reached at least one integrated row.
/// - `failed_integrations`: `total_records − successful_integrations − duplicates_removed`
///   (quarantined rows, and rows the join or merge strategy left out).
/// - `join_success_rate`: share of the first source's rows (after quality checks) with a partner,
///   by the join keys, in another source; 4 decimals.
/// - `data_overlap_percentage`: 100 × distinct key values present in every source / distinct key
///   values present in any source; 2 decimals.
/// - `transformation_success_rate`: share of rule applications (rows × rules) that succeeded:
///   a transformation fails when it yields NULL from non-NULL inputs, a validation when it is false.
enum Report {
    static func build(catalog: Catalog, db: SQLiteDatabase, run: Int64, state: Pipeline.RunState, seconds: Double) throws -> JSON {
        // Rows an incremental read carried over from the previous snapshot count as read.
        let read = state.snapshots.reduce(0) { $0 + $1.rowsRead + $1.rowsCarried }
        let readQuarantined = state.snapshots.reduce(0) { $0 + $1.rowsQuarantined }
        var counts = PreparationCounts()
        for p in state.prepared {
            counts.nullsHandled += p.counts.nullsHandled
            counts.nullRowsRejected += p.counts.nullRowsRejected
            counts.formatResolved += p.counts.formatResolved
            counts.formatFlagged += p.counts.formatFlagged
            counts.duplicatesRemoved += p.counts.duplicatesRemoved
            counts.businessRuleFailures += p.counts.businessRuleFailures
            counts.transformApplications += p.counts.transformApplications
            counts.transformFailures += p.counts.transformFailures
        }
        let integration = state.integration
        let successful = integration?.contributing.reduce(0, +) ?? 0
        let quarantined = Int(try db.scalar("SELECT count(*) FROM quarantine WHERE run_id = ?", [.integer(run)])?.doubleValue ?? 0)
        let transformRate = counts.transformApplications == 0 ? 1.0
            : Double(counts.transformApplications - counts.transformFailures) / Double(counts.transformApplications)

        var mapping: [(String, JSON)] = []
        for c in integration?.columns ?? [] {
            mapping.append((c, .array((integration?.origins[c]?.sources ?? []).map(JSON.string))))
        }
        var history: [JSON] = []
        for row in try db.query("SELECT name, coalesce(ended_at, started_at), records_in, records_out FROM run_steps WHERE run_id = ? ORDER BY step_no", [.integer(run)]) {
            history.append(.object([
                ("step", .string(row[0].textValue ?? "")),
                ("timestamp", .string(row[1].textValue ?? "")),
                ("records_processed", JSON(row[2])),
                ("records_out", JSON(row[3])),
            ]))
        }
        let outputs = state.outputs.map { JSON.string($0.1) }
        var fields: [(String, JSON)] = [
            ("integrated_data_path", outputs.first ?? .null),
            ("integration_report", .object([
                ("sources_processed", .int(Int64(state.snapshots.count))),
                ("total_records", .int(Int64(read))),
                ("successful_integrations", .int(Int64(successful))),
                ("failed_integrations", .int(Int64(read - successful - counts.duplicatesRemoved))),
                ("data_quality_summary", .object([
                    ("duplicates_removed", .int(Int64(counts.duplicatesRemoved))),
                    ("null_values_handled", .int(Int64(counts.nullsHandled))),
                    ("format_issues_resolved", .int(Int64(counts.formatResolved))),
                    ("format_issues_flagged", .int(Int64(counts.formatFlagged))),
                    ("business_rule_failures", .int(Int64(counts.businessRuleFailures))),
                    ("null_rows_rejected", .int(Int64(counts.nullRowsRejected))),
                    ("parse_errors", .int(Int64(readQuarantined))),
                    ("quarantined_records", .int(Int64(quarantined))),
                ])),
                ("integration_metrics", .object([
                    ("join_success_rate", .double(round4(integration?.joinSuccessRate ?? 0))),
                    ("data_overlap_percentage", .double(round2(integration?.overlapPercentage ?? 0))),
                    ("transformation_success_rate", .double(round4(transformRate))),
                ])),
            ])),
            ("data_lineage", .object([
                ("source_mapping", .object(mapping)),
                ("transformation_history", .array(history)),
            ])),
            ("processing_time", .double((seconds * 1000).rounded() / 1000)),
            ("run_id", .int(run)),
            ("warehouse", .string(catalog.warehouse)),
            ("outputs", .array(outputs)),
        ]
        // Per source, which rows the transform and quality checks evaluated (the counts above are of those).
        if !state.prepared.isEmpty { fields.append(("transform", .array(state.prepared.map(\.json)))) }
        if !state.syncs.isEmpty { fields.append(("sync", .array(state.syncs.map(\.json)))) }
        if let streamed = state.streamed?.json { fields.append(("streamed_load", streamed)) }
        if !state.entities.isEmpty {
            let matching: [JSON] = state.entities.map { e in
                guard case .object(var f) = e.match.json else { return e.match.json }
                f.append(("golden", e.golden.json))
                return .object(f)
            }
            fields.append(("matching", .array(matching)))
        }
        return .object(fields)
    }

    static func round4(_ d: Double) -> Double { (d * 10_000).rounded() / 10_000 }
    static func round2(_ d: Double) -> Double { (d * 100).rounded() / 100 }
}
