import Foundation

/// What a run produced: the output object of the original specification, and where it is recorded.
public struct RunOutcome: Sendable {
    public var runID: Int64
    public var report: JSON
    public var succeeded: Bool
    public var error: AurumError?
}

/// Progress and diagnostics from a run, for the command line to show (never record values or secrets).
public protocol RunObserver: Sendable {
    func stepStarted(_ name: String)
    func stepFinished(_ name: String, records: Int?, seconds: Double)
    func note(_ message: String)
    /// Called now and then during a long step with the records done so far.
    func progress(_ name: String, records: Int)
}

extension RunObserver {
    public func progress(_ name: String, records: Int) {}
}

public struct SilentObserver: RunObserver {
    public init() {}
    public func stepStarted(_ name: String) {}
    public func stepFinished(_ name: String, records: Int?, seconds: Double) {}
    public func note(_ message: String) {}
}

/// Runs a catalog end to end: snapshot → transform and quality → integrate → publish → report.
public enum Pipeline {
    /// `full`: every entity takes the full path (rebuild, re-train unless hand-set, re-match all),
    /// even where the incremental one could run.
    public static func run(_ catalog: Catalog, command: String = "run", full: Bool = false, observer: RunObserver = SilentObserver()) throws -> RunOutcome {
        try run(catalog, command: command, full: full, observer: observer, snapshot: nil)
    }

    /// A run whose snapshot step is `snapshot` (given the warehouse and the run id) instead of
    /// reading the sources, when not nil.
    static func run(_ catalog: Catalog, command: String, full: Bool = false, observer: RunObserver,
                    snapshot: ((Warehouse, Int64, inout RunState) throws -> Void)?,
                    afterPreparation: @escaping (Warehouse, Int64, inout RunState) throws -> Void = { _, _, _ in }) throws -> RunOutcome {
        let started = Date()
        let warehouse = try Warehouse(path: catalog.warehouse, functions: catalog.functions)
        defer { warehouse.close() }
        let db = warehouse.db
        let run = try warehouse.beginRun(catalog: catalog.file, command: command)
        FaultPoints.hit("run.begun")
        var state = RunState()
        state.full = full
        do {
            try execute(catalog, warehouse: warehouse, run: run, state: &state, observer: observer,
                        snapshot: snapshot.map { f in { try f(warehouse, run, &$0) } },
                        afterPreparation: { try afterPreparation(warehouse, run, &$0) })
            let report = try Report.build(catalog: catalog, db: db, run: run, state: state, seconds: Date().timeIntervalSince(started))
            FaultPoints.hit("run.report")
            try warehouse.endRun(run, error: nil, report: report.compact)
            FaultPoints.hit("run.ended")
            return RunOutcome(runID: run, report: report, succeeded: true, error: nil)
        } catch {
            let e = (error as? AurumError) ?? AurumError(.runtime, "\(error)")
            state.streamed?.abandon("the run failed")
            if let step = state.openStep { try? warehouse.endStep(run, step, recordsOut: e.rowsCommitted, error: e.description) }
            try? db.execute("ROLLBACK")
            try? warehouse.endRun(run, error: e.description, report: nil)
            throw e
        }
    }

    struct RunState {
        var snapshots: [SnapshotResult] = []
        var prepared: [PreparedSource] = []
        var integration: IntegrationResult?
        var outputs: [(OutputSpec, String, Int)] = []
        var entities: [EntityOutcome] = []
        var syncs: [SyncOutcome] = []
        /// The output being written while the snapshot stages (`Pipeline+StreamedLoad.swift`).
        var streamed: StreamedLoad?
        var openStep: Int?
        var full = false
        /// Per source, staged rows the transform evaluates again besides the changed keys' (a
        /// quarantine replay's rows), and sources whose transform must rebuild whole (with why).
        var recheck: [String: Set<Int64>] = [:]
        var fullTransform: [String: String] = [:]
    }

    static func step<R>(_ name: String, _ warehouse: Warehouse, _ run: Int64, _ state: inout RunState,
                                _ observer: RunObserver, recordsIn: Int? = nil,
                                _ body: (inout RunState) throws -> (R, recordsIn: Int?, recordsOut: Int?)) throws -> R {
        let t0 = Date()
        observer.stepStarted(name)
        let s = try warehouse.beginStep(run, name, recordsIn: recordsIn)
        state.openStep = s
        let (r, rin, rout) = try body(&state)
        FaultPoints.hit("step.end")
        try warehouse.endStep(run, s, recordsIn: rin, recordsOut: rout)
        state.openStep = nil
        observer.stepFinished(name, records: rout, seconds: Date().timeIntervalSince(t0))
        return r
    }

    /// `snapshot` stages the sources (a quarantine replay stages only its replayed rows);
    /// `afterPreparation` runs between transform/quality and matching.
    static func execute(_ catalog: Catalog, warehouse: Warehouse, run: Int64, state: inout RunState, observer: RunObserver,
                        snapshot: ((inout RunState) throws -> Void)? = nil,
                        afterPreparation: (inout RunState) throws -> Void = { _ in }) throws {
        if let snapshot { try snapshot(&state) } else { try snapshotSources(catalog, warehouse: warehouse, run: run, state: &state, observer: observer) }
        try prepareSources(catalog, warehouse: warehouse, run: run, state: &state, observer: observer)
        try afterPreparation(&state)
        try integrateAndPublish(catalog, warehouse: warehouse, run: run, state: &state, observer: observer)
        state.streamed?.abandon("the output step did not use it")
    }

    static func snapshotSources(_ catalog: Catalog, warehouse: Warehouse, run: Int64, state: inout RunState, observer: RunObserver) throws {
        let db = warehouse.db
        let streamed = StreamedLoad.plan(catalog)
        state.streamed = streamed
        for source in catalog.sources {
            let snap: SnapshotResult = try step("snapshot:\(source.name)", warehouse, run, &state, observer) { _ in
                let r = try Snapshotter.snapshot(source, into: db, run: run, nullTokens: catalog.quality.nulls ? catalog.quality.nullTokens : nil,
                                                 progress: { observer.progress("snapshot:\(source.name)", records: $0) },
                                                 configure: { streamed?.attach($0) })
                streamed?.stagingFinished()
                return (r, r.rowsRead, r.rowsStaged)
            }
            if snap.rowsQuarantined > 0 {
                observer.note("\(source.name): \(snap.rowsQuarantined) row(s) quarantined while reading (see `aurum quarantine`)")
            }
            state.snapshots.append(snap)
            FaultPoints.hit("snapshot.next-source")
        }
    }

    static func prepareSources(_ catalog: Catalog, warehouse: Warehouse, run: Int64, state: inout RunState, observer: RunObserver) throws {
        let db = warehouse.db
        for (source, snap) in zip(catalog.sources, state.snapshots) {
            var preparer = Preparer(db: db, catalog: catalog, run: run)
            preparer.full = state.full
            preparer.recheck = state.recheck[source.name] ?? []
            preparer.forceFull = state.fullTransform[source.name]
            let p: PreparedSource = try step("transform:\(source.name)", warehouse, run, &state, observer, recordsIn: snap.rowsStaged) { _ in
                let r = try db.transaction { try preparer.prepare(snap, source: source) }
                return (r, r.rowsChecked, r.rows)
            }
            state.prepared.append(p)
            FaultPoints.hit("transform.next-source")
        }
    }

    static func integrateAndPublish(_ catalog: Catalog, warehouse: Warehouse, run: Int64, state: inout RunState, observer: RunObserver) throws {
        let db = warehouse.db
        try runEntities(catalog, warehouse: warehouse, run: run, state: &state, observer: observer)
        let prepared = state.prepared
        // With entities and no integration section, the golden records are the result.
        if catalog.integration != nil || catalog.entities.isEmpty {
            let integration: IntegrationResult = try step("integrate", warehouse, run, &state, observer,
                                                          recordsIn: prepared.reduce(0) { $0 + $1.rows }) { _ in
                let r = try db.transaction {
                    try KeyIntegrator(db: db, spec: catalog.integration, dialect: catalog.dialect).integrate(prepared)
                }
                return (r, nil, r.rows)
            }
            state.integration = integration
        }
        let integration = state.integration
        try db.transaction {
            try db.run("DELETE FROM column_lineage WHERE run_id = ?", [.integer(run)])
            guard let integration else { return }
            for out in catalog.outputs where (out.data ?? (catalog.entities.isEmpty ? "integrated" : "golden")) == "integrated" {
                for c in integration.columns {
                    let o = integration.origins[c] ?? ColumnOrigin(sources: [], via: [])
                    for s in o.sources {
                        let parts = s.split(separator: ".", maxSplits: 1).map(String.init)
                        try db.run("INSERT OR IGNORE INTO column_lineage(run_id, output, column_name, source, source_column, via) VALUES (?, ?, ?, ?, ?, ?)",
                                   [.integer(run), .text(out.location), .text(c), .text(parts[0]), .text(parts.count > 1 ? parts[1] : ""),
                                    .text(o.via.joined(separator: " > "))])
                    }
                }
            }
        }
        for out in catalog.outputs {
            if out.sync {
                // Published by sync: only what changed since the target's last sync.
                let r: SyncOutcome = try step("sync:\(out.name)", warehouse, run, &state, observer) { _ in
                    let r = try Syncer(catalog: catalog, warehouse: warehouse).sync(out, run: run, dataRun: run)
                    let rows = r.counts.inserted + r.counts.updated + r.counts.unchanged
                    return (r, rows, r.full ? rows : r.counts.changed)
                }
                state.outputs.append((out, r.location, r.counts.inserted + r.counts.updated + r.counts.unchanged))
                state.syncs.append(r)
                continue
            }
            let (table, columns) = try dataset(for: out, catalog: catalog, integration: integration, db: db)
            let publisher = OutputPublisher(db: db, table: table, columns: columns)
            let rowsIn: Int
            if let i = integration, i.table == table { rowsIn = i.rows } else {
                rowsIn = Int(try db.scalar("SELECT count(*) FROM \(sqlIdent(table))")?.doubleValue ?? 0)
            }
            let streamed = state.streamed
            let (path, rows): (String, Int) = try step("output:\(out.format.rawValue)", warehouse, run, &state, observer,
                                                       recordsIn: rowsIn) { st in
                // Written while staging: committed when its rows are these, else rolled back and written here.
                if let streamed, streamed.output.name == out.name,
                   let r = try streamed.complete(db: db, prepared: st.prepared.first, integration: integration, rows: rowsIn) {
                    return (r, rowsIn, r.rows)
                }
                let r = try publisher.publish(out)
                return (r, rowsIn, r.rows)
            }
            state.outputs.append((out, path, rows))
        }
    }
}

extension Pipeline {
    /// Only the snapshot step of every source, recorded as a run of its own.
    public static func snapshotOnly(_ catalog: Catalog, observer: RunObserver = SilentObserver()) throws -> [SnapshotResult] {
        let warehouse = try Warehouse(path: catalog.warehouse, functions: catalog.functions)
        defer { warehouse.close() }
        let run = try warehouse.beginRun(catalog: catalog.file, command: "snapshot")
        var results: [SnapshotResult] = []
        do {
            for source in catalog.sources {
                let t0 = Date()
                observer.stepStarted("snapshot:\(source.name)")
                let s = try warehouse.beginStep(run, "snapshot:\(source.name)")
                let r = try Snapshotter.snapshot(source, into: warehouse.db, run: run,
                                                 nullTokens: catalog.quality.nulls ? catalog.quality.nullTokens : nil) {
                    observer.progress("snapshot:\(source.name)", records: $0)
                }
                try warehouse.endStep(run, s, recordsIn: r.rowsRead, recordsOut: r.rowsStaged)
                observer.stepFinished("snapshot:\(source.name)", records: r.rowsStaged, seconds: Date().timeIntervalSince(t0))
                results.append(r)
            }
            try warehouse.endRun(run, error: nil, report: nil)
            return results
        } catch {
            let e = (error as? AurumError) ?? AurumError(.runtime, "\(error)")
            try? warehouse.endRun(run, error: e.description, report: nil)
            throw e
        }
    }
}
