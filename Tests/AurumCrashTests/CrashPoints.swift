import Testing

/// One named fault point (`FaultPoints.hit` in Sources/) and the hit the harness kills at.
struct CrashPoint: Sendable, CustomTestStringConvertible {
    var name: String
    var hit: Int = 1
    /// Whether the killed run has a ledger row (false: killed before `beginRun`).
    var ledger = true
    /// Killed after the run's end: the run after it is a second run over the same data.
    var afterEnd = false

    var setting: String { hit == 1 ? name : "\(name):\(hit)" }
    var testDescription: String { setting }
}

/// Every fault point the harness kills at. Adding a point to the pipeline is one line there
/// (`FaultPoints.hit("stage.what")`) and one entry here (in the run(s) that reach it);
/// `everyFaultPointInTheSourcesIsExercised` fails until both are in.
///
/// Hit counts follow the crash world (World.swift): 800 crm rows (one CSV batch), 400 shop
/// records, 800 golden records and 1,200 xref rows in the first run; outputs in catalog order:
/// golden.csv, by_city/ (6 partitions), the SQLite table, xref.csv, the PostgreSQL golden table
/// (replaced), the PostgreSQL xref table (upserted, 500 rows a batch), then two sync outputs: a
/// PostgreSQL golden table (20 rows a batch) and by-city CSV partitions; steps: snapshot ×2,
/// transform ×2, match, output ×6, sync ×2.
enum CrashPoints {
    static let firstRun: [CrashPoint] = [
        CrashPoint(name: "warehouse.migration", hit: 2, ledger: false),
        CrashPoint(name: "run.begun"),
        CrashPoint(name: "snapshot.batch"),                 // crm's rows written, its snapshot not finished
        CrashPoint(name: "snapshot.row", hit: 300),         // mid-shop
        CrashPoint(name: "snapshot.loaded"),                // crm loaded, before the swap
        CrashPoint(name: "snapshot.swapped", hit: 2),       // shop swapped in, before COMMIT
        CrashPoint(name: "snapshot.next-source"),           // crm committed, shop not started
        CrashPoint(name: "transform.prepared", hit: 2),
        CrashPoint(name: "transform.next-source"),
        CrashPoint(name: "match.records"),
        CrashPoint(name: "match.pairs"),
        CrashPoint(name: "match.clustered"),                // before the golden write
        CrashPoint(name: "golden.ids"),
        CrashPoint(name: "golden.xref", hit: 700),          // mid-xref
        CrashPoint(name: "golden.lineage"),                 // golden tables written, before the swap
        CrashPoint(name: "golden.swapped"),                 // swapped, before COMMIT
        CrashPoint(name: "match.committed"),                // committed, before the ledger's step end
        CrashPoint(name: "step.end", hit: 5),               // the match step, before its ledger update
        CrashPoint(name: "output.file-row", hit: 700),      // mid golden.csv
        CrashPoint(name: "output.file-written"),            // golden.csv written, before the rename
        CrashPoint(name: "output.partition", hit: 3),       // mid partition set
        CrashPoint(name: "output.sqlite-row", hit: 700),
        CrashPoint(name: "output.sqlite-written"),          // before the SQLite target's COMMIT
        CrashPoint(name: "postgres.copy-row", hit: 700),    // mid-COPY of the golden table
        CrashPoint(name: "postgres.committed"),             // golden table committed, before the ledger update
        CrashPoint(name: "postgres.copy-row", hit: 800 + 1100), // mid-COPY of the xref's third batch
        CrashPoint(name: "postgres.batch-committed", hit: 2),
        CrashPoint(name: "step.end", hit: 11),              // the last full output, before its ledger update
        CrashPoint(name: "sync.rebuilt"),                   // the first sync of the PostgreSQL target written, state not recorded
        CrashPoint(name: "sync.rebuilt", hit: 2),           // the same for the partitioned CSV sync
        CrashPoint(name: "step.end", hit: 13),              // the last sync, before its ledger update
        CrashPoint(name: "run.report"),                     // everything written, before the run's end
        CrashPoint(name: "run.ended", afterEnd: true),      // after the run's end (the re-run is a second run)
    ]

    /// Killed in the run that applies the change set to the first run's state.
    static let secondRun: [CrashPoint] = [
        CrashPoint(name: "run.begun"),
        CrashPoint(name: "snapshot.batch"),
        CrashPoint(name: "snapshot.row", hit: 300),
        CrashPoint(name: "snapshot.loaded"),
        CrashPoint(name: "snapshot.swapped"),
        CrashPoint(name: "snapshot.next-source"),
        CrashPoint(name: "transform.updated"),              // crm's work table updated in place, before its checks and COMMIT
        CrashPoint(name: "transform.prepared"),
        CrashPoint(name: "match.pairs"),
        CrashPoint(name: "golden.ids"),
        CrashPoint(name: "golden.xref", hit: 5),
        CrashPoint(name: "golden.lineage"),
        CrashPoint(name: "golden.swapped"),
        CrashPoint(name: "match.committed"),
        CrashPoint(name: "output.file-row", hit: 700),
        CrashPoint(name: "output.file-written"),            // golden.csv written, before it replaces the first run's
        CrashPoint(name: "output.partition", hit: 3),
        CrashPoint(name: "output.replace"),                 // by_city/ replacing the first run's
        CrashPoint(name: "output.sqlite-row", hit: 700),
        CrashPoint(name: "postgres.copy-row", hit: 700),
        CrashPoint(name: "postgres.committed"),
        CrashPoint(name: "postgres.batch-committed", hit: 2),
        CrashPoint(name: "sync.batch-applied"),             // the change set's first batch (20 rows) in the PostgreSQL sync target
        CrashPoint(name: "sync.applied"),                   // PostgreSQL sync target written, state not recorded
        CrashPoint(name: "sync.partition-written"),         // one changed partition of the CSV sync rewritten
        CrashPoint(name: "sync.applied", hit: 2),           // CSV sync written, state not recorded
        CrashPoint(name: "run.report"),
    ]

    /// Killed in a run that takes the streamed load (one CSV source passed through to one
    /// PostgreSQL table, written while staging): 40,000 rows, so staging commits one chunk of
    /// 32,768 rows and the write starts while staging goes on; steps: snapshot, transform,
    /// integrate, output.
    static let streamed: [CrashPoint] = [
        CrashPoint(name: "snapshot.chunk-committed"),       // the first 32,768 rows of the load table committed
        CrashPoint(name: "snapshot.stream-started"),        // 32,768 rows staged, before the write connects
        CrashPoint(name: "postgres.copy-row", hit: 20_000), // mid-COPY while staging goes on
        CrashPoint(name: "snapshot.loaded"),                // staged, before the swap; the COPY waits for the rest
        CrashPoint(name: "postgres.streamed"),              // every row sent, the transaction waits for the output step
        CrashPoint(name: "postgres.committed"),             // committed, before the ledger's step end
        CrashPoint(name: "step.end", hit: 4),               // the output step, before its ledger update
    ]
}
