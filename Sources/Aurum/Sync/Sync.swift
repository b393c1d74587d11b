import Foundation

/// Counts of one sync (or of what a sync would do).
public struct SyncCounts: Sendable, Equatable {
    public var inserted = 0
    public var updated = 0
    public var deleted = 0
    public var unchanged = 0
    public init(inserted: Int = 0, updated: Int = 0, deleted: Int = 0, unchanged: Int = 0) {
        self.inserted = inserted; self.updated = updated; self.deleted = deleted; self.unchanged = unchanged
    }
    public var changed: Int { inserted + updated + deleted }
}

/// One row a sync inserts, updates or deletes (`--plan --show`).
public struct SyncChange: Sendable, Equatable {
    public var change: String
    /// The key as people read it (composite keys joined by `:`).
    public var key: String
    /// For an update: the columns whose value changes.
    public var attributes: [String]
}

/// What a sync did, or would do, to one target.
public struct SyncOutcome: Sendable {
    public var name: String
    public var format: String
    public var location: String
    public var counts: SyncCounts
    /// The target was rebuilt (written whole, its state reset): `--full`, its first sync, or its
    /// columns changed.
    public var full: Bool
    /// The pipeline run whose results the target holds now.
    public var dataRun: Int64?
    /// With `--plan --show`: every change.
    public var changes: [SyncChange] = []
    /// After `--full`: the reconciliation that followed.
    public var reconcile: ReconcileReport? = nil

    public var json: JSON {
        var f: [(String, JSON)] = [("name", .string(name)), ("format", .string(format)), ("location", .string(location)),
                                   ("full", .bool(full)), ("inserted", .int(Int64(counts.inserted))), ("updated", .int(Int64(counts.updated))),
                                   ("deleted", .int(Int64(counts.deleted))), ("unchanged", .int(Int64(counts.unchanged)))]
        if let r = dataRun { f.append(("data_run", .int(r))) }
        if !changes.isEmpty {
            f.append(("changes", .array(changes.map { c in
                var o: [(String, JSON)] = [("change", .string(c.change)), ("key", .string(c.key))]
                if c.change == "update" { o.append(("attributes", .array(c.attributes.map(JSON.string)))) }
                return .object(o)
            })))
        }
        if let r = reconcile { f.append(("reconcile", r.json)) }
        return .object(f)
    }

    /// `name (format): 1 to insert, …` (plan) or `name (format): 1 inserted, …` (done).
    public func line(plan: Bool) -> String {
        let c = counts
        let verbs = plan ? ["to insert", "to update", "to delete"] : ["inserted", "updated", "deleted"]
        var s = "\(name) (\(format)): \(c.inserted) \(verbs[0]), \(c.updated) \(verbs[1]), \(c.deleted) \(verbs[2]), \(c.unchanged) unchanged"
        if full { s += plan ? " (rebuild)" : " (rebuilt)" }
        return s
    }
}

/// Sync: writes to a target only what changed since its last successful sync.
///
/// The published state of each target (`sync_targets`, `sync_rows`: per key, a hash of the row and
/// of each column) makes the next sync a diff in SQL — one pass over the rows joined by key with
/// the state, and a second one over the state for deleted keys only when some are missing. The
/// order is always: write the target, batch by batch (each acknowledged by the target) → record
/// the new state in the warehouse, in one transaction. A sync interrupted anywhere before that
/// transaction leaves the old state, so running it again computes the same changes and rewrites
/// them by key: it converges.
public struct Syncer {
    let catalog: Catalog
    let warehouse: Warehouse
    var db: SQLiteDatabase { warehouse.db }
    var batchSize = 10_000

    public init(catalog: Catalog, warehouse: Warehouse) throws {
        self.catalog = catalog
        self.warehouse = warehouse
        try SyncHash.register(on: warehouse.db)
    }

    /// The outputs named (all sync outputs when `name` is nil); an unknown name is an error naming the others.
    public func targets(_ name: String?, syncOnly: Bool = true) throws -> [OutputSpec] {
        let pool = syncOnly ? catalog.outputs.filter(\.sync) : catalog.outputs
        guard let name else { return pool }
        guard let o = catalog.outputs.first(where: { $0.name == name }) else {
            throw AurumError(.invalidCatalog, "no output named '\(name)'", at: catalog.file,
                             hint: suggestion(name, catalog.outputs.map(\.name)).map { "did you mean '\($0)'?" }
                                ?? "outputs: \(catalog.outputs.map(\.name).joined(separator: ", "))")
        }
        if syncOnly && !o.sync {
            throw AurumError(.invalidCatalog, "output '\(name)' is not configured for sync", at: "\(o.location).sync", hint: "add sync: true")
        }
        return [o]
    }

    /// The latest succeeded run that built integrated rows or golden records: what the warehouse holds.
    public func dataRun() throws -> Int64? {
        try db.scalar("""
            SELECT max(r.run_id) FROM runs r WHERE r.status = 'succeeded' AND EXISTS
              (SELECT 1 FROM run_steps s WHERE s.run_id = r.run_id AND (s.name = 'integrate' OR s.name LIKE 'match:%'))
            """).flatMap { if case .integer(let i) = $0 { i } else { nil } }
    }

    // MARK: State

    struct TargetState {
        var key: [String]
        var columns: [String]
        var rows: Int
        var syncedRun: Int64?
        var syncedAt: String?
    }

    func state(_ name: String) throws -> TargetState? {
        guard let r = try db.query("SELECT key_columns, columns, rows, synced_run, synced_at FROM sync_targets WHERE name = ?", [.text(name)]).first else {
            return nil
        }
        func list(_ v: Value) -> [String] {
            guard let t = v.textValue, let j = try? JSONText.parse(t), case .array(let a) = j else { return [] }
            return a.compactMap { if case .string(let s) = $0 { s } else { nil } }
        }
        return TargetState(key: list(r[0]), columns: list(r[1]), rows: Int(r[2].doubleValue ?? 0),
                           syncedRun: r[3].doubleValue.map { Int64($0) }, syncedAt: r[4].textValue)
    }

    // MARK: Diff

    /// Why a target is rebuilt instead of diffed, or nil when it is diffed.
    func rebuildReason(_ out: OutputSpec, _ ds: SyncDataset, _ st: TargetState?, full: Bool) throws -> String? {
        if full { return "--full" }
        guard let st else { return "first sync" }
        if st.key != ds.key {
            throw AurumError(.output, "the key of target '\(out.name)' changed (was \(st.key.joined(separator: ", ")), now \(ds.key.joined(separator: ", ")))",
                             at: "\(out.location).key", hint: "rebuild it: aurum sync CATALOG --full --target \(out.name)")
        }
        if st.columns != ds.columns { return "columns changed" }
        return nil
    }

    static let diffTable = "temp.aurum_sync_diff"

    /// Fills `temp.aurum_sync_diff` (key, hash, rid, kind: 0 insert, 1 update, 2 delete) with what
    /// changed since the state of `target`; returns the counts. One pass over the rows joined by
    /// key with the state; the state is scanned for deleted keys only when some are missing.
    func diff(_ target: String, _ ds: SyncDataset, stateRows: Int) throws -> SyncCounts {
        try db.execute("DROP TABLE IF EXISTS \(Self.diffTable); CREATE TEMP TABLE aurum_sync_diff (key TEXT NOT NULL, hash INTEGER, rid INTEGER, kind INTEGER NOT NULL)")
        let t = sqlIdent(ds.table)
        if let since = try goldenChangesSince(target, ds) {
            return try goldenDiff(target, ds, entity: since.entity, since: since.run)
        }
        let (inserted, updated) = try diffRows(target, ds, where: "")
        let total = Int(try db.scalar("SELECT count(*) FROM \(t)")?.doubleValue ?? 0)
        var deleted = 0
        // Every state key the rows matched: total - inserted. Fewer than the state holds: some are gone.
        if stateRows > total - inserted {
            try db.run("""
                INSERT INTO \(Self.diffTable) (key, hash, rid, kind)
                SELECT s.key, NULL, NULL, 2 FROM sync_rows s WHERE s.target = ? AND \(ds.probe.map { "NOT " + $0 } ?? "s.key NOT IN (SELECT \(ds.keyExpr()) FROM \(t))")
                """, [.text(target)])
            deleted = db.changes
        }
        return SyncCounts(inserted: inserted, updated: updated, deleted: deleted, unchanged: total - inserted - updated)
    }

    /// Adds the rows (those `whereClause` keeps) that are new (kind 0) or changed (kind 1) against
    /// the state of `target` to the diff table; returns how many of each.
    func diffRows(_ target: String, _ ds: SyncDataset, where whereClause: String) throws -> (inserted: Int, updated: Int) {
        try db.run("""
            INSERT INTO \(Self.diffTable) (key, hash, rid, kind)
            SELECT c.k, c.h, c.rid, s.hash IS NOT NULL FROM
              (SELECT \(ds.keyExpr()) AS k, aurum_sync_hash(\(ds.columnList())) AS h, \(ds.rid) AS rid FROM \(sqlIdent(ds.table)) \(whereClause)) c
            LEFT JOIN sync_rows s ON s.target = ? AND s.key = c.k
            WHERE s.hash IS NULL OR s.hash <> c.h
            """, [.text(target)])
        let counts = try db.query("SELECT coalesce(sum(kind = 0), 0), coalesce(sum(kind = 1), 0) FROM \(Self.diffTable)")[0]
        return (Int(counts[0].doubleValue ?? 0), Int(counts[1].doubleValue ?? 0))
    }

    /// When the target's state holds the golden records of an entity as of run `run` (its last
    /// sync), and that entity's golden versions were recorded since: the entity and the run. A
    /// golden record whose versions neither began nor ended after that run is as the target
    /// received it (every change to its values or members opens a version, in the transaction
    /// that makes the change), so the diff needs to read only the others.
    func goldenChangesSince(_ target: String, _ ds: SyncDataset) throws -> (entity: String, run: Int64)? {
        guard let entity = ds.goldenEntity, ds.key == ["golden_id"],
              let r = try db.query("SELECT synced_run, data FROM sync_targets WHERE name = ?", [.text(target)]).first,
              case .integer(let run) = r[0], let data = r[1].textValue else { return nil }
        // The state must be of the same data (an output switched to another entity's golden records is diffed whole).
        let out = try targets(target, syncOnly: false).first
        guard let out, data == out.data ?? (catalog.entities.isEmpty ? "integrated" : "golden"),
              try db.scalar("SELECT count(*) FROM golden_version_runs WHERE entity = ? AND run_id <= ?", [.text(entity), .integer(run)])?
                .doubleValue ?? 0 > 0 else { return nil }
        return (entity, run)
    }

    /// `diff` for golden records, reading only the golden ids with a version that began or ended
    /// after run `since` (see `goldenChangesSince`); the same counts as the whole diff.
    func goldenDiff(_ target: String, _ ds: SyncDataset, entity: String, since: Int64) throws -> SyncCounts {
        try db.execute("DROP TABLE IF EXISTS temp.aurum_sync_ids; CREATE TEMP TABLE aurum_sync_ids (id INTEGER PRIMARY KEY)")
        defer { try? db.execute("DROP TABLE IF EXISTS temp.aurum_sync_ids") }
        try db.run("""
            INSERT OR IGNORE INTO temp.aurum_sync_ids SELECT golden_id FROM golden_versions WHERE entity = ?1 AND valid_from_run > ?2
            UNION SELECT golden_id FROM golden_versions WHERE entity = ?1 AND valid_to_run > ?2
            """, [.text(entity), .integer(since)])
        let (inserted, updated) = try diffRows(target, ds, where: "WHERE golden_id IN (SELECT id FROM temp.aurum_sync_ids)")
        let total = Int(try db.scalar("SELECT count(*) FROM \(sqlIdent(GoldenStage.tableName(entity)))")?.doubleValue ?? 0)
        try db.run("""
            INSERT INTO \(Self.diffTable) (key, hash, rid, kind)
            SELECT s.key, NULL, NULL, 2 FROM temp.aurum_sync_ids i JOIN sync_rows s ON s.target = ? AND s.key = CAST(i.id AS TEXT)
            WHERE NOT EXISTS (SELECT 1 FROM \(sqlIdent(GoldenStage.tableName(entity))) g WHERE g.golden_id = i.id)
            """, [.text(target)])
        return SyncCounts(inserted: inserted, updated: updated, deleted: db.changes, unchanged: total - inserted - updated)
    }

    /// Every change of the last diff, with the columns each update changes.
    func changes(_ target: String, _ ds: SyncDataset) throws -> [SyncChange] {
        var out: [SyncChange] = []
        let st = try db.prepare("""
            SELECT d.kind, d.key, s.cols, CASE WHEN d.kind = 1 THEN aurum_sync_cols(\(ds.columnList("t"))) END
            FROM \(Self.diffTable) d LEFT JOIN \(sqlIdent(ds.table)) t ON t.\(ds.rid) = d.rid AND d.kind < 2
            LEFT JOIN sync_rows s ON s.target = ? AND s.key = d.key AND d.kind = 1
            """)
        try st.bind([.text(target)])
        while try st.step() {
            let kind = Int(st.column(0).doubleValue ?? 0)
            let key = st.column(1).textValue ?? ""
            var attrs: [String] = []
            if kind == 1, case .blob(let old) = st.column(2), case .blob(let new) = st.column(3) {
                let o = SyncHash.columns(old), n = SyncHash.columns(new)
                for (i, c) in ds.columns.enumerated() where i < o.count && i < n.count && o[i] != n[i] { attrs.append(c) }
            }
            out.append(SyncChange(change: ["insert", "update", "delete"][min(kind, 2)], key: SyncKey.display(key), attributes: attrs))
        }
        let rank = ["insert": 0, "update": 1, "delete": 2]
        out.sort { a, b in a.change != b.change ? rank[a.change]! < rank[b.change]! : SyncKey.less(a.key, b.key) }
        return out
    }

    // MARK: Plan

    /// What a sync would do to each target, writing nothing (neither the targets nor the warehouse).
    public func plan(_ name: String? = nil, full: Bool = false, show: Bool = false) throws -> [SyncOutcome] {
        try targets(name).map { out in
            let ds = try SyncDataset.resolve(out, catalog: catalog, db: db)
            try ds.checkKey(db, out)
            let st = try state(out.name)
            let reason = try rebuildReason(out, ds, st, full: full)
            var o = SyncOutcome(name: out.name, format: out.format.rawValue, location: Self.location(out), counts: SyncCounts(), full: reason != nil,
                                dataRun: try dataRun())
            // A rebuild writes every row; the counts still compare the rows with the state.
            o.counts = try diff(out.name, ds, stateRows: st?.rows ?? 0)
            if show { o.changes = try changes(out.name, ds) }
            try db.execute("DROP TABLE IF EXISTS \(Self.diffTable)")
            return o
        }
    }

    /// How many changes each sync target has waiting (for `aurum status`).
    public func pending(_ out: OutputSpec) throws -> SyncCounts {
        let ds = try SyncDataset.resolve(out, catalog: catalog, db: db)
        let st = try state(out.name)
        let c = try diff(out.name, ds, stateRows: st?.rows ?? 0)
        try db.execute("DROP TABLE IF EXISTS \(Self.diffTable)")
        return c
    }

    // MARK: Sync

    /// Syncs one target: a diff applied by key, or a rebuild. `run` is the ledger run doing it and
    /// `dataRun` the run whose results are written.
    public func sync(_ out: OutputSpec, full: Bool = false, run: Int64, dataRun: Int64?) throws -> SyncOutcome {
        let ds = try SyncDataset.resolve(out, catalog: catalog, db: db)
        try ds.checkKey(db, out)
        let st = try state(out.name)
        let reason = try rebuildReason(out, ds, st, full: full)
        var outcome = SyncOutcome(name: out.name, format: out.format.rawValue, location: Self.location(out), counts: SyncCounts(),
                                  full: reason != nil, dataRun: dataRun)
        outcome.counts = try diff(out.name, ds, stateRows: st?.rows ?? 0)
        defer { try? db.execute("DROP TABLE IF EXISTS \(Self.diffTable)") }
        if reason != nil {
            // 1. Write the target whole.
            // (The outcome keeps `location(out)`, as a change-only sync reports it.)
            try rebuild(out, ds)
            FaultPoints.hit("sync.rebuilt")
            // 2. Record the state: every row.
            try record(out, ds, run: run, dataRun: dataRun, counts: outcome.counts, full: true)
        } else if outcome.counts.changed > 0 {
            // 1. Write the changes, batch by batch, each acknowledged by the target.
            try applyChanges(out, ds)
            FaultPoints.hit("sync.applied")
            // 2. Record the state of what changed.
            try record(out, ds, run: run, dataRun: dataRun, counts: outcome.counts, full: false)
        } else {
            // Nothing changed: the target is not touched; the state says it holds this run's results.
            try record(out, ds, run: run, dataRun: dataRun, counts: outcome.counts, full: false)
        }
        return outcome
    }

    /// Where a target is, for reports (no secrets).
    static func location(_ out: OutputSpec) -> String {
        switch out.format {
        case .postgresql, .mongodb, .redis:
            let base = Secrets.redact(out.connection ?? "")
            return base + (out.table.map { "?table=\($0)" } ?? "")
        case .sqlite: return "sqlite:///\(out.path)?table=\(out.table ?? "integrated")"
        default: return out.path
        }
    }

    /// Writes every row of the dataset to the target, replacing what it held.
    func rebuild(_ out: OutputSpec, _ ds: SyncDataset) throws {
        if FileSync.handles(out.format) || out.format == .sqlite {
            _ = try OutputPublisher(db: db, table: ds.table, columns: ds.columns).publish(out)
            if out.format == .sqlite { try SQLiteSyncSession.ensureKeyIndex(out, ds.key) }
            return
        }
        guard let c = ConnectorRegistry.shared.target(out.format) else {
            throw AurumError(.output, "output format '\(out.format.rawValue)' is not supported by this build", at: out.location)
        }
        _ = try c.rebuild(out, rows: TableCursor(db: db, table: ds.table, columns: ds.columns), key: ds.key)
    }

    /// Applies the diff to the target: upserts and deletes in batches of `options.batch_size`
    /// (default `batchSize`), each batch
    /// one `apply` (one transaction where the target has them). Files rewrite what changed instead.
    func applyChanges(_ out: OutputSpec, _ ds: SyncDataset) throws {
        if FileSync.handles(out.format) {
            try FileSync(db: db, out: out, ds: ds).apply()
            return
        }
        let session: SyncSession
        if out.format == .sqlite {
            session = try SQLiteSyncSession(out, columns: ds.columns, key: ds.key)
        } else {
            guard let c = ConnectorRegistry.shared.target(out.format) else {
                throw AurumError(.output, "output format '\(out.format.rawValue)' is not supported by this build", at: out.location)
            }
            session = try c.openSync(out, columns: ds.columns, key: ds.key)
        }
        defer { session.close() }
        let ups = try db.prepare("""
            SELECT \(ds.columnList("t")) FROM \(Self.diffTable) d JOIN \(sqlIdent(ds.table)) t ON t.\(ds.rid) = d.rid
            WHERE d.kind < 2 ORDER BY d.rid
            """)
        let dels = try db.prepare("SELECT key FROM \(Self.diffTable) WHERE kind = 2 ORDER BY key")
        var moreUps = true, moreDels = true
        let n = ds.columns.count
        // `options.batch_size`, as the full write of the target reads it.
        var batchSize = batchSize
        if case .int(let b)? = out.options["batch_size"], b > 0 { batchSize = Int(b) }
        while moreUps || moreDels {
            var u: [[Value]] = [], d: [[Value]] = []
            while moreUps && u.count < batchSize {
                if try ups.step() { u.append((0..<n).map(ups.column)) } else { moreUps = false }
            }
            while moreDels && d.count < batchSize {
                if try dels.step() { d.append(ds.keyValues(dels.column(0).textValue ?? "")) } else { moreDels = false }
            }
            if u.isEmpty && d.isEmpty { break }
            // The batch is committed by the target when apply returns.
            try session.apply(upserts: u, deletes: d)
            FaultPoints.hit("sync.batch-applied")
        }
    }

    /// Records the target's new state in one warehouse transaction (after the target acknowledged
    /// every write): the changed keys (or, after a rebuild, every key), the target's row, the log.
    func record(_ out: OutputSpec, _ ds: SyncDataset, run: Int64, dataRun: Int64?, counts: SyncCounts, full: Bool) throws {
        let part = FileSync.partExpr(out, ds, alias: "t")
        try db.transaction {
            if full {
                try db.run("DELETE FROM sync_rows WHERE target = ?", [.text(out.name)])
                try db.run("""
                    INSERT INTO sync_rows (target, key, hash, cols, part)
                    SELECT ?, \(ds.keyExpr("t")), aurum_sync_hash(\(ds.columnList("t"))), aurum_sync_cols(\(ds.columnList("t"))), \(part)
                    FROM \(sqlIdent(ds.table)) t
                    """, [.text(out.name)])
            } else if counts.changed > 0 {
                try db.run("""
                    INSERT OR REPLACE INTO sync_rows (target, key, hash, cols, part)
                    SELECT ?, d.key, d.hash, aurum_sync_cols(\(ds.columnList("t"))), \(part)
                    FROM \(Self.diffTable) d JOIN \(sqlIdent(ds.table)) t ON t.\(ds.rid) = d.rid WHERE d.kind < 2
                    """, [.text(out.name)])
                try db.run("DELETE FROM sync_rows WHERE target = ? AND key IN (SELECT key FROM \(Self.diffTable) WHERE kind = 2)", [.text(out.name)])
            }
            let rows = Int(try db.scalar("SELECT count(*) FROM sync_rows WHERE target = ?", [.text(out.name)])?.doubleValue ?? 0)
            let now = Timestamp.now()
            try db.run("""
                INSERT OR REPLACE INTO sync_targets (name, format, location, data, key_columns, columns, synced_run, synced_at, rows)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(out.name), .text(out.format.rawValue), .text(Self.location(out)),
                      .text(out.data ?? (catalog.entities.isEmpty ? "integrated" : "golden")),
                      .text(JSON.array(ds.key.map(JSON.string)).compact), .text(JSON.array(ds.columns.map(JSON.string)).compact),
                      dataRun.map(Value.integer) ?? .null, .text(now), .integer(Int64(rows))])
            try db.run("""
                INSERT OR REPLACE INTO sync_log (run_id, target, full, inserted, updated, deleted, unchanged, data_run, synced_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.integer(run), .text(out.name), .integer(full ? 1 : 0), .integer(Int64(counts.inserted)), .integer(Int64(counts.updated)),
                      .integer(Int64(counts.deleted)), .integer(Int64(counts.unchanged)), dataRun.map(Value.integer) ?? .null, .text(now)])
        }
    }
}

/// The state of one output for `aurum status`.
public struct TargetStatus: Sendable {
    public var name: String
    public var format: String
    public var sync: Bool
    /// The pipeline run whose results the target last received by sync, and when.
    public var syncedRun: Int64?
    public var syncedAt: String?
    public var rows: Int?
    /// What the next sync would write (nil for outputs written whole).
    public var pending: SyncCounts?

    public var json: JSON {
        var f: [(String, JSON)] = [("name", .string(name)), ("format", .string(format)), ("sync", .bool(sync)),
                                   ("synced_run", syncedRun.map(JSON.int) ?? .null), ("synced_at", syncedAt.map(JSON.string) ?? .null),
                                   ("rows", rows.map { .int(Int64($0)) } ?? .null)]
        if let p = pending {
            f.append(("pending", .int(Int64(p.changed))))
            f.append(("pending_inserts", .int(Int64(p.inserted))))
            f.append(("pending_updates", .int(Int64(p.updated))))
            f.append(("pending_deletes", .int(Int64(p.deleted))))
        } else {
            f.append(("pending", .null))
        }
        return .object(f)
    }

    public var line: String {
        guard sync else { return "\(name) (\(format)): written whole by each run" }
        let last = syncedRun.map { "last synced run \($0)\(syncedAt.map { " at \($0)" } ?? ""), \(rows ?? 0) rows" } ?? "never synced"
        let p = pending.map { "\($0.changed) pending (\($0.inserted) to insert, \($0.updated) to update, \($0.deleted) to delete)" } ?? "pending unknown"
        return "\(name) (\(format)): \(last); \(p)"
    }
}

extension Syncer {
    /// `aurum sync`: syncs the catalog's sync targets (or one) from the warehouse's current state,
    /// recorded as a run of its own (step `sync:NAME` per target). `--full` rebuilds each target
    /// and then reconciles it.
    public static func run(_ catalog: Catalog, target: String? = nil, full: Bool = false,
                           observer: RunObserver = SilentObserver()) throws -> [SyncOutcome] {
        let warehouse = try Warehouse(path: catalog.warehouse, functions: catalog.functions)
        defer { warehouse.close() }
        let syncer = try Syncer(catalog: catalog, warehouse: warehouse)
        let outs = try syncer.targets(target)
        guard let dataRun = try syncer.dataRun() else {
            throw AurumError(.output, "the warehouse holds no results to sync yet", at: catalog.warehouse, hint: "run the catalog first: aurum run CATALOG")
        }
        let run = try warehouse.beginRun(catalog: catalog.file, command: full ? "sync --full" : "sync")
        var results: [SyncOutcome] = []
        var openStep: Int? = nil
        do {
            for out in outs {
                let t0 = Date()
                observer.stepStarted("sync:\(out.name)")
                openStep = try warehouse.beginStep(run, "sync:\(out.name)")
                var r = try syncer.sync(out, full: full, run: run, dataRun: dataRun)
                let rows = r.counts.inserted + r.counts.updated + r.counts.unchanged
                try warehouse.endStep(run, openStep!, recordsIn: rows, recordsOut: r.full ? rows : r.counts.changed)
                openStep = nil
                observer.stepFinished("sync:\(out.name)", records: r.full ? rows : r.counts.changed, seconds: Date().timeIntervalSince(t0))
                if full { r.reconcile = try syncer.reconcile(out) }
                results.append(r)
            }
            let report = JSON.object([("run_id", .int(run)), ("data_run", .int(dataRun)), ("sync", .array(results.map(\.json)))])
            try warehouse.endRun(run, error: nil, report: report.compact)
            return results
        } catch {
            let e = (error as? AurumError) ?? AurumError(.runtime, "\(error)")
            if let s = openStep { try? warehouse.endStep(run, s, recordsOut: e.rowsCommitted, error: e.description) }
            try? warehouse.endRun(run, error: e.description, report: nil)
            throw e
        }
    }

    /// `aurum sync --plan`: what a sync would do, writing nothing.
    public static func plan(_ catalog: Catalog, target: String? = nil, full: Bool = false, show: Bool = false) throws -> [SyncOutcome] {
        let warehouse = try Warehouse(path: catalog.warehouse, functions: catalog.functions)
        defer { warehouse.close() }
        return try Syncer(catalog: catalog, warehouse: warehouse).plan(target, full: full, show: show)
    }

    /// `aurum status`: per output, the last synced run and the pending change count.
    public static func status(_ catalog: Catalog) throws -> [TargetStatus] {
        let warehouse = try Warehouse(path: catalog.warehouse, functions: catalog.functions)
        defer { warehouse.close() }
        let syncer = try Syncer(catalog: catalog, warehouse: warehouse)
        let hasData = try syncer.dataRun() != nil
        return try catalog.outputs.map { out in
            let st = try syncer.state(out.name)
            return TargetStatus(name: out.name, format: out.format.rawValue, sync: out.sync, syncedRun: st?.syncedRun, syncedAt: st?.syncedAt,
                                rows: st?.rows, pending: out.sync && hasData ? try syncer.pending(out) : nil)
        }
    }

    /// `aurum reconcile TARGET`.
    public static func reconcile(_ catalog: Catalog, target: String) throws -> ReconcileReport {
        let warehouse = try Warehouse(path: catalog.warehouse, functions: catalog.functions)
        defer { warehouse.close() }
        let syncer = try Syncer(catalog: catalog, warehouse: warehouse)
        guard let out = try syncer.targets(target, syncOnly: false).first else { throw AurumError(.invalidCatalog, "no output named '\(target)'") }
        return try syncer.reconcile(out)
    }
}
