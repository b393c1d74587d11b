import Foundation

/// What `aurum quarantine replay` did, per source.
public struct ReplaySummary: Sendable {
    public struct Counts: Sendable, Equatable {
        public var source: String
        public var replayed = 0, passed = 0, failed = 0, gone = 0
    }
    /// The run whose quarantined rows were replayed.
    public var fromRun: Int64
    /// The replay's own run (nil when there was nothing to replay).
    public var outcome: RunOutcome?
    public var sources: [Counts]
    public var replayed: Int { sources.reduce(0) { $0 + $1.replayed } }
    public var passed: Int { sources.reduce(0) { $0 + $1.passed } }
    public var failed: Int { sources.reduce(0) { $0 + $1.failed } }
    public var gone: Int { sources.reduce(0) { $0 + $1.gone } }
}

extension Pipeline {
    /// `aurum quarantine replay`: sends the quarantined rows of run `from` (default: the latest
    /// run) through the pipeline again, as a run of its own (command `quarantine replay`).
    ///
    /// Rows quarantined while reading are re-parsed from their raw text (CSV/TSV, JSON, NDJSON
    /// sources) with the catalog's current options; those that now parse are added to the
    /// source's snapshot (a change set `insert`). Rows quarantined by a quality rule are still in
    /// the snapshot: the run's transform and quality step re-checks every row with the catalog's
    /// current rules, and those that now pass go on through matching and outputs (a change set
    /// `update` of their key). Rows that still fail are quarantined again in the replay run, with
    /// their new reason. `quarantine_replays` records each replayed row's outcome; a row that
    /// passed once is not replayed again.
    public static func replayQuarantine(_ catalog: Catalog, from: Int64? = nil, source: String? = nil,
                                        observer: RunObserver = SilentObserver()) throws -> ReplaySummary {
        guard FileManager.default.fileExists(atPath: catalog.warehouse) else {
            throw AurumError(.warehouse, "no warehouse here", at: catalog.warehouse, hint: "run the catalog first (`aurum run`)")
        }
        if let source, !catalog.sources.contains(where: { $0.name == source }) {
            throw AurumError(.invalidCatalog, "the catalog has no source '\(source)'", at: catalog.file,
                             hint: "sources: \(catalog.sources.map(\.name).joined(separator: ", "))")
        }
        var pending: [Quarantined] = []
        var fromRun: Int64 = 0
        do {
            let w = try Warehouse(path: catalog.warehouse)
            defer { w.close() }
            guard let r = try from ?? w.db.scalar("SELECT max(run_id) FROM runs").flatMap({ v -> Int64? in
                if case .integer(let i) = v { return i }
                return nil
            }) else {
                throw AurumError(.warehouse, "the warehouse has no runs yet", at: catalog.warehouse, hint: "run the catalog first (`aurum run`)")
            }
            guard try w.db.scalar("SELECT count(*) FROM runs WHERE run_id = ?", [.integer(r)])?.doubleValue ?? 0 > 0 else {
                throw AurumError(.warehouse, "there is no run \(r)", at: catalog.warehouse, hint: "see the runs with `aurum changes`")
            }
            fromRun = r
            var args: [Value] = [.integer(r)]
            if let source { args.append(.text(source)) }
            pending = try w.db.query("""
                SELECT id, source, step, line, rule, raw, rid FROM quarantine q WHERE run_id = ?\(source == nil ? "" : " AND source = ?")
                AND NOT EXISTS (SELECT 1 FROM quarantine_replays p WHERE p.quarantine_id = q.id AND p.outcome = 'passed')
                ORDER BY source, line, id
                """, args).map {
                Quarantined(id: $0[0].doubleValue.map { Int64($0) } ?? 0, source: $0[1].textValue ?? "", step: $0[2].textValue ?? "",
                            line: $0[3].doubleValue.map { Int64($0) }, raw: $0[5].textValue, rid: $0[6].doubleValue.map { Int64($0) })
            }
        }
        guard !pending.isEmpty else { return ReplaySummary(fromRun: fromRun, outcome: nil, sources: []) }

        var replayRun: Int64 = 0
        let outcome = try run(catalog, command: "quarantine replay", observer: observer, snapshot: { warehouse, run, state in
            replayRun = run
            for spec in catalog.sources {
                let rows = pending.filter { $0.source == spec.name }
                let snap: SnapshotResult = try step("replay:\(spec.name)", warehouse, run, &state, observer) { _ in
                    let r = try warehouse.db.transaction { try Replayer(db: warehouse.db, source: spec, run: run).reparse(rows) }
                    return (r, rows.count, r.rowsStaged)
                }
                state.snapshots.append(snap)
                // The rows a quality check quarantined are evaluated again (by row id; all rows
                // when one was quarantined before row ids were kept).
                let checked = rows.filter { $0.step == "quality" }
                if checked.contains(where: { $0.rid == nil }) {
                    state.fullTransform[spec.name] = "a replayed row was quarantined without a row id"
                } else if !checked.isEmpty {
                    state.recheck[spec.name] = Set(checked.compactMap(\.rid))
                }
            }
            // Rows of sources the catalog no longer has.
            try warehouse.db.transaction {
                for q in pending where !catalog.sources.contains(where: { $0.name == q.source }) {
                    try Replayer.record(warehouse.db, q.id, run, "gone", nil)
                }
            }
        }, afterPreparation: { warehouse, run, state in
            try warehouse.db.transaction {
                for spec in catalog.sources {
                    try Replayer(db: warehouse.db, source: spec, run: run).settle(pending.filter { $0.source == spec.name })
                }
            }
        })
        let w = try Warehouse(path: catalog.warehouse)
        defer { w.close() }
        var counts: [String: ReplaySummary.Counts] = [:]
        for row in try w.db.query("""
            SELECT q.source, p.outcome, count(*) FROM quarantine_replays p JOIN quarantine q ON q.id = p.quarantine_id
            WHERE p.replay_run = ? GROUP BY q.source, p.outcome
            """, [.integer(replayRun)]) {
            let s = row[0].textValue ?? "", n = Int(row[2].doubleValue ?? 0)
            var c = counts[s] ?? ReplaySummary.Counts(source: s)
            c.replayed += n
            switch row[1].textValue {
            case "passed": c.passed += n
            case "failed": c.failed += n
            default: c.gone += n
            }
            counts[s] = c
        }
        return ReplaySummary(fromRun: fromRun, outcome: outcome, sources: counts.values.sorted { $0.source < $1.source })
    }

    struct Quarantined {
        var id: Int64
        var source: String
        var step: String
        var line: Int64?
        var raw: String?
        /// The staged row id of a row a quality check quarantined (nil for parse errors and rows
        /// quarantined before schema version 9).
        var rid: Int64? = nil
    }
}

/// One source's part of a quarantine replay.
struct Replayer {
    let db: SQLiteDatabase
    let source: SourceSpec
    let run: Int64
    var table: String { StagingWriter.stagedTable(source.name) }

    static func record(_ db: SQLiteDatabase, _ id: Int64, _ run: Int64, _ outcome: String, _ requarantined: Int64?) throws {
        try db.run("INSERT OR REPLACE INTO quarantine_replays(quarantine_id, replay_run, outcome, requarantine_id) VALUES (?, ?, ?, ?)",
                   [.integer(id), .integer(run), .text(outcome), requarantined.map(Value.integer) ?? .null])
    }

    /// Re-parses the rows quarantined while reading and stages those that now parse; returns the
    /// source's snapshot as this run sees it.
    func reparse(_ rows: [Pipeline.Quarantined]) throws -> SnapshotResult {
        guard try db.tableExists(table) else {
            throw AurumError(.warehouse, "source '\(source.name)' has no snapshot to replay into", at: source.location,
                             hint: "run the catalog first (`aurum run`)")
        }
        let columns = try db.query("SELECT name FROM pragma_table_info(?) ORDER BY cid", [.text(table)])
            .compactMap { $0[0].textValue }.filter { !StagedColumns.all.contains($0) }
        let keyIndexes = try source.key.map { k in
            guard let i = columns.firstIndex(where: { $0.lowercased() == k.lowercased() }) else {
                throw AurumError(.source, "key column '\(k)' is not a column of source '\(source.name)'", at: "\(source.location).key")
            }
            return i
        }
        let names = (StagedColumns.all + columns).map(sqlIdent).joined(separator: ", ")
        let insert = try db.prepare("INSERT INTO \(sqlIdent(table)) (\(names)) VALUES (\(Array(repeating: "?", count: StagedColumns.all.count + columns.count).joined(separator: ", ")))")
        // New rows get ids above the largest ever given (the stable row-id scheme of StagingWriter).
        var rid = Int64(try db.scalar("SELECT max(coalesce((SELECT max_rid FROM sources WHERE name = ?), 0), coalesce(max(\(StagedColumns.rid)), 0)) FROM \(sqlIdent(table))",
                                      [.text(source.name)])?.doubleValue ?? 0)
        var staged = 0, failed = 0
        try db.run("DELETE FROM change_sets WHERE run_id = ? AND source = ?", [.integer(run), .text(source.name)])
        for q in rows where q.step == "snapshot" {
            switch parse(q.raw, columns: columns) {
            case .failure(let reason):
                try db.run("INSERT INTO quarantine(run_id, source, step, line, rule, reason, raw) VALUES (?, ?, 'snapshot', ?, 'parse', ?, ?)",
                           [.integer(run), .text(source.name), q.line.map(Value.integer) ?? .null, .text(reason), q.raw.map(Value.text) ?? .null])
                try Self.record(db, q.id, run, "failed", db.lastInsertRowID)
                failed += 1
            case .success(let (values, hash)):
                rid += 1
                let key: Value = keyIndexes.isEmpty ? .null : .text(keyIndexes.map { values[$0].textValue ?? "" }.joined(separator: "\u{1F}"))
                try insert.bind([.integer(rid), q.line.map(Value.integer) ?? .null, key, .integer(hash), .integer(run), .integer(run)] + values)
                try insert.step()
                insert.reset()
                try db.run("INSERT INTO change_sets(run_id, source, change, source_key, hash, rid) VALUES (?, ?, 'insert', ?, ?, ?)",
                           [.integer(run), .text(source.name), key, .integer(hash), .integer(rid)])
                // Passed the parse; settle() turns it into 'failed' if a rule quarantines it now.
                try Self.record(db, q.id, run, "passed", nil)
                staged += 1
            }
        }
        try db.run("UPDATE sources SET max_rid = max(coalesce(max_rid, 0), ?) WHERE name = ?", [.integer(rid), .text(source.name)])
        let count = Int(try db.scalar("SELECT count(*) FROM \(sqlIdent(table))")?.doubleValue ?? 0)
        try db.run("INSERT OR REPLACE INTO snapshots(run_id, source, rows_read, rows_staged, rows_quarantined) VALUES (?, ?, ?, ?, ?)",
                   [.integer(run), .text(source.name), .integer(Int64(staged + failed)), .integer(Int64(staged)), .integer(Int64(failed))])
        return SnapshotResult(source: source.name, table: table, columns: columns, rowsRead: count + failed, rowsStaged: count, rowsQuarantined: failed)
    }

    /// After the replay's transform and quality step: each replayed row that the step quarantined
    /// again failed (with its new quarantine row); the others passed (or are gone, when the
    /// snapshot no longer holds them). Rows that passed a rule now are `update`s of the change set.
    func settle(_ rows: [Pipeline.Quarantined]) throws {
        let byLine = try db.prepare("SELECT \(StagedColumns.key), \(StagedColumns.hash), \(StagedColumns.rid) FROM \(sqlIdent(table)) WHERE \(StagedColumns.line) = ? ORDER BY \(StagedColumns.rid) LIMIT 1")
        let byRid = try db.prepare("SELECT \(StagedColumns.key), \(StagedColumns.hash), \(StagedColumns.rid) FROM \(sqlIdent(table)) WHERE \(StagedColumns.rid) = ?")
        for q in rows {
            let decided = try db.scalar("SELECT outcome FROM quarantine_replays WHERE quarantine_id = ? AND replay_run = ?", [.integer(q.id), .integer(run)])?.textValue
            if decided == "failed" { continue }
            // Quarantined again by this run's checks (not carried over unchecked): by row id, else by line.
            let again = try q.rid.map {
                try db.scalar("SELECT min(id) FROM quarantine WHERE run_id = ?1 AND source = ?2 AND step = 'quality' AND checked_run = ?1 AND rid = ?3",
                              [.integer(run), .text(source.name), .integer($0)])
            } ?? db.scalar("SELECT min(id) FROM quarantine WHERE run_id = ?1 AND source = ?2 AND step = 'quality' AND checked_run = ?1 AND line IS ?3",
                           [.integer(run), .text(source.name), q.line.map(Value.integer) ?? .null])
            if let again, case .integer(let id) = again {
                try Self.record(db, q.id, run, "failed", id)
                continue
            }
            if decided == "passed" { continue }
            let st = q.rid == nil ? byLine : byRid
            try st.bind([q.rid.map(Value.integer) ?? q.line.map(Value.integer) ?? .null])
            if try st.step() {
                let key = st.column(0), hash = st.column(1), rid = st.column(2)
                st.reset()
                try db.run("INSERT INTO change_sets(run_id, source, change, source_key, hash, rid) VALUES (?, ?, ?, ?, ?, ?)",
                           [.integer(run), .text(source.name), .text(key == .null ? "insert" : "update"), key, hash, rid])
                try Self.record(db, q.id, run, "passed", nil)
            } else {
                st.reset()
                try Self.record(db, q.id, run, "gone", nil)
            }
        }
        let counts = try db.query("SELECT change, count(*) FROM change_sets WHERE run_id = ? AND source = ? GROUP BY change", [.integer(run), .text(source.name)])
        func n(_ c: String) -> Int64 { Int64(counts.first { $0[0].textValue == c }?[1].doubleValue ?? 0) }
        let total = Int64(try db.scalar("SELECT count(*) FROM \(sqlIdent(table))")?.doubleValue ?? 0)
        try db.run("INSERT OR REPLACE INTO change_counts VALUES (?, ?, 0, ?, ?, 0, ?)",
                   [.integer(run), .text(source.name), .integer(n("insert")), .integer(n("update")), .integer(total - n("insert") - n("update"))])
    }

    enum Parsed {
        case success(([Value], Int64))
        case failure(String)
    }

    /// One quarantined row's raw text read again as a row of the source's snapshot columns.
    func parse(_ raw: String?, columns: [String]) -> Parsed {
        guard let raw else { return .failure("no raw text was kept for this row") }
        switch source.type {
        case .csv, .tsv:
            var options = CSVOptions()
            options.delimiter = source.delimiter
            options.header = false
            options.columns = columns
            do {
                let reader = try CSVReader(bytes: Array((raw + "\n").utf8), options: options)
                guard let b = try reader.nextBatch(maxRows: 8) else { return .failure("the raw text holds no record") }
                if let p = b.problems.first { return .failure(p.reason) }
                guard b.rowCount == 1, try reader.nextBatch(maxRows: 8) == nil else { return .failure("the raw text holds more than one record") }
                return .success((b.row(0).map(Value.text), Int64(bitPattern: b.hashes[0])))
            } catch {
                return .failure("\(error)")
            }
        case .json, .ndjson:
            var options = JSONReadOptions()
            options.layout = .ndjson
            options.flatten = source.flatten
            do {
                let reader = try JSONRecordReader(bytes: Array(raw.utf8), name: "quarantined row", options: options)
                guard let item = try reader.next() else { return .failure("the raw text holds no record") }
                switch item {
                case .problem(_, let reason, _): return .failure(reason)
                case .record(let r):
                    guard try reader.next() == nil else { return .failure("the raw text holds more than one record") }
                    var values = Array(repeating: Value.null, count: columns.count)
                    for (name, v) in r.fields {
                        guard let i = columns.firstIndex(of: name) else {
                            return .failure("field '\(name)' is not a column of the snapshot of source '\(source.name)' (run the catalog to add it)")
                        }
                        values[i] = v
                    }
                    var h = FNV1a()
                    for v in values { h.add(v) }
                    return .success((values, Int64(bitPattern: h.value)))
                }
            } catch {
                return .failure("\(error)")
            }
        default:
            return .failure("rows of a \(source.type.rawValue) source cannot be re-parsed from their raw text; fix them in the source and run the catalog")
        }
    }
}
