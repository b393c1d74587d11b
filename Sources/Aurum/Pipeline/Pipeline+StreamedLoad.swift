import Foundation

/// The streamed load: when a run's only output is a full write of one CSV source's rows, passed
/// through (typed, nothing else), the output is written while the snapshot is still staging, so
/// that staging and the target's own work (e.g. PostgreSQL parsing a COPY) run at the same time.
///
/// When (`StreamedLoad.plan`):
/// - one source, CSV or TSV; no entities; no rules; quality checks that neither use null tokens,
///   normalise formats nor delete rows (duplicates, null rejects, business rules). The work table
///   is then a view of the staged rows whose only change is the typing of numeric columns
///   (`Preparer.prepare`, `asView`), and the integration a view of it;
/// - one output, not synced, not partitioned, writing the integrated rows, to a target that can
///   stream (`StreamingTargetConnector.canStream`: PostgreSQL in replace mode).
///
/// How: staging commits the load table every `chunkRows` rows (`StagingWriter.chunkCommits`). At
/// the first commit the target is connected and its write starts on a thread of its own, reading
/// each committed range of rids through a second, read-only warehouse connection with the work
/// view's SELECT — typed with the number kinds seen so far. At the output step the run checks that
/// the work view it built is that same SELECT over the staged table (no later row changed a
/// column's kind), that the integration passed those columns through, and that every row was sent;
/// then it commits. Otherwise it rolls the write back (it is one transaction: nothing was
/// committed) and writes the output the usual way. The report says which (`streamed_load`).
///
/// Crash safety: the target commits only at the output step, as before; a kill before it leaves
/// the target as it was. A kill during staging leaves a committed load table (`src_NAME__load`),
/// which the next snapshot drops, and the previous snapshot untouched.
final class StreamedLoad {
    /// Rows staged between two commits of the load table.
    static let chunkRows = 32_768

    let source: SourceSpec
    let output: OutputSpec
    let connector: StreamingTargetConnector
    let warehousePath: String

    private let feed = StagedRowsFeed()
    private var pending: PendingWrite?
    /// The staged columns and their number kinds when the write started (what its SELECT types).
    private(set) var start: (columns: [String], kinds: [Int64])?
    /// How it ended: committed, or why not (nil while open, or when it never started).
    private(set) var outcome: String?
    private var resolved = false

    private init(source: SourceSpec, output: OutputSpec, connector: StreamingTargetConnector, warehousePath: String) {
        self.source = source
        self.output = output
        self.connector = connector
        self.warehousePath = warehousePath
    }

    /// A streamed load for this catalog, or nil when its output is not a pass-through of one source.
    static func plan(_ catalog: Catalog) -> StreamedLoad? {
        guard catalog.sources.count == 1, let source = catalog.sources.first,
              source.type == .csv || source.type == .tsv,
              catalog.entities.isEmpty, catalog.rules.isEmpty,
              catalog.outputs.count == 1, let out = catalog.outputs.first,
              !out.sync, out.partition == nil, (out.data ?? "integrated") == "integrated" else { return nil }
        let q = catalog.quality
        guard !q.nulls, !q.duplicates, !q.formats, !q.businessRules else { return nil }
        guard let connector = ConnectorRegistry.shared.target(out.format) as? StreamingTargetConnector,
              connector.canStream(out) else { return nil }
        return StreamedLoad(source: source, output: out, connector: connector, warehousePath: catalog.warehouse)
    }

    /// The work view's SELECT (`Preparer.prepare`, layer 0 without null tokens) over `table`.
    static func workSelect(table: String, columns: [String], kinds: [Int64]) -> String {
        var select = [StagedColumns.rid]
        for (i, c) in columns.enumerated() {
            let id = sqlIdent(c)
            if i < kinds.count, kinds[i] == 2 || kinds[i] == 1 {
                let t = kinds[i] == 2 ? "INTEGER" : "REAL"
                select.append("CASE WHEN typeof(\(id)) = 'text' AND \(id) <> '' THEN CAST(\(id) AS \(t)) ELSE \(id) END AS \(id)")
            } else {
                select.append(id)
            }
        }
        return "SELECT \(select.joined(separator: ", ")) FROM \(sqlIdent(table))"
    }

    /// Sets the staging writer up to commit in chunks; the first commit starts the write.
    func attach(_ writer: StagingWriter) {
        let load = writer.loadTable
        writer.chunkCommits = (Self.chunkRows, { [unowned self, unowned writer] lastRid, kinds in
            if self.start == nil && self.outcome == nil { self.begin(load: load, columns: writer.columns, kinds: kinds) }
            self.feed.publish(lastRid: lastRid)
        })
    }

    private func begin(load: String, columns: [String], kinds: [Int64]) {
        start = (columns, kinds)
        let cursor = StagedRowsCursor(path: warehousePath, feed: feed, columns: columns,
                                      select: { Self.workSelect(table: $0 ?? load, columns: columns, kinds: kinds) })
        do {
            pending = try connector.beginWrite(output, rows: cursor)
        } catch {
            // The usual output step reports the same failure in its place.
            outcome = "not started: \(error)"
            start = nil
        }
    }

    /// Staging ended and committed: the rest of the rows are in `table`, up to rid `lastRid`.
    func stagingFinished(table: String, lastRid: Int64) {
        feed.finish(table: table, lastRid: lastRid)
    }

    /// Undoes the write if it is still open (a failed run, or a run that never reached the output).
    func abandon(_ why: String) {
        guard !resolved else { return }
        resolved = true
        feed.fail()
        pending?.rollback()
        if pending != nil { outcome = "rolled back: \(why)" }
    }

    /// At the output step: commits the write when its rows are the output's, else rolls it back.
    /// Returns the written output, or nil when the caller must write it the usual way. A failure
    /// of the write itself (the server went away, a table that does not match) is the output
    /// step's failure, as it would have been in the step: nothing was committed.
    func complete(db: SQLiteDatabase, prepared: PreparedSource?, integration: IntegrationResult?, rows: Int) throws -> (path: String, rows: Int)? {
        guard !resolved else { return nil }
        guard let pending, let start else { resolved = true; return nil }
        func abandonAndFallBack(_ why: String) -> (path: String, rows: Int)? {
            abandon(why)
            return nil
        }
        let sent: Int
        do {
            sent = try pending.finishSending()
        } catch {
            abandon("failed")
            outcome = "failed"
            throw error
        }
        guard let prepared, let integration else { return abandonAndFallBack("no integrated rows") }
        let staged = StagingWriter.stagedTable(source.name)
        let expected = "CREATE VIEW \(sqlIdent(prepared.table)) AS " + Self.workSelect(table: staged, columns: start.columns, kinds: start.kinds)
        let actual = (try? db.scalar("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?", [.text(prepared.table)]))?.textValue
        guard actual == expected else {
            return abandonAndFallBack("a column's kind changed after the write started (or the work view is not the staged rows)")
        }
        guard prepared.columns == start.columns, integration.columns == start.columns,
              (try? db.isView(integration.table)) == true else {
            return abandonAndFallBack("the integration does not pass the staged columns through")
        }
        guard sent == rows else { return abandonAndFallBack("\(sent) rows sent, \(rows) integrated") }
        resolved = true
        do {
            let r = try pending.commit()
            outcome = "committed"
            return r
        } catch {
            outcome = "failed"
            throw error
        }
    }

    /// For the report: `{output, status}`, or nil when no streamed write was started.
    var json: JSON? {
        guard let outcome else { return nil }
        return .object([("output", .string(output.name)), ("status", .string(outcome))])
    }
}

/// How far staging has committed, for the streamed load's reader (another thread).
///
/// `@unchecked Sendable`: every field is read and written under `condition`'s lock.
final class StagedRowsFeed: @unchecked Sendable {
    private let condition = NSCondition()
    private var committed: Int64 = 0
    private var end: (table: String, lastRid: Int64)?
    private var failed = false

    struct Failed: Error, CustomStringConvertible {
        var description: String { "staging failed" }
    }

    enum Progress {
        /// Rows up to this rid are committed in the load table.
        case upTo(Int64)
        /// Staging ended: every row is in `table`, up to `lastRid`.
        case end(table: String, lastRid: Int64)
    }

    func publish(lastRid: Int64) {
        condition.lock()
        committed = max(committed, lastRid)
        condition.broadcast()
        condition.unlock()
    }

    func finish(table: String, lastRid: Int64) {
        condition.lock()
        end = (table, lastRid)
        condition.broadcast()
        condition.unlock()
    }

    func fail() {
        condition.lock()
        failed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks until rows after `rid` are committed, or staging ended (or failed: throws).
    func wait(after rid: Int64) throws -> Progress {
        condition.lock()
        defer { condition.unlock() }
        while !failed && end == nil && committed <= rid { condition.wait() }
        if failed { throw Failed() }
        if let end { return .end(table: end.table, lastRid: end.lastRid) }
        return .upTo(committed)
    }
}

/// The staged rows in rid order, read range by range as staging commits them, through the work
/// view's SELECT, on a read-only connection of its own (opened by the first read, on the reading
/// thread). After staging ended it reads the rest from the final staged table.
final class StagedRowsCursor: RawRowCursor {
    let columns: [String]
    private let path: String
    private let feed: StagedRowsFeed
    /// The work SELECT over the load table (nil) or the named table.
    private let select: (String?) -> String
    private var db: SQLiteDatabase?
    private var statement: SQLiteStatement? { didSet { current = statement } }
    /// `statement`, read per field without retaining it.
    private unowned(unsafe) var current: SQLiteStatement? = nil
    private var readTo: Int64 = 0
    private var last = false
    /// Where the bound range starts, and whether none of its rows has been read yet.
    private var rangeStart: Int64 = 0
    private var fresh = false

    init(path: String, feed: StagedRowsFeed, columns: [String], select: @escaping (String?) -> String) {
        self.path = path
        self.feed = feed
        self.columns = columns
        self.select = select
    }

    deinit { statement = nil; db?.close() }

    private func open(_ table: String?) throws {
        if db == nil { db = try SQLiteDatabase(path: path, readOnly: true) }
        statement = nil
        let list = columns.map(sqlIdent).joined(separator: ", ")
        statement = try db!.prepare("SELECT \(list) FROM (\(select(table))) WHERE \(StagedColumns.rid) > ?1 AND \(StagedColumns.rid) <= ?2 ORDER BY \(StagedColumns.rid)")
    }

    func advance() throws -> Bool {
        while true {
            if let st = statement {
                do {
                    if try st.step() { fresh = false; return true }
                } catch where fresh && !last {
                    // Staging ended and moved the load table into place between two ranges (a
                    // range's first step reads the schema anew): read this range on from there.
                    try readOnFromFinalTable(after: rangeStart)
                    continue
                }
            }
            if last { return false }
            let from = readTo
            switch try feed.wait(after: readTo) {
            case .upTo(let rid):
                if statement == nil {
                    do { try open(nil) } catch {
                        try readOnFromFinalTable(after: from)
                        continue
                    }
                }
                readTo = rid
            case .end(let table, let lastRid):
                try open(table)
                readTo = lastRid
                last = true
            }
            bind(after: from)
        }
    }

    /// Binds the statement to the rows after `from` up to `readTo`, none of them read yet.
    private func bind(after from: Int64) {
        statement!.reset()
        statement!.bindInt(from, at: 1)
        statement!.bindInt(readTo, at: 2)
        rangeStart = from
        fresh = true
    }

    /// Waits for staging to end, then reads the rows after `from` from the final staged table.
    private func readOnFromFinalTable(after from: Int64) throws {
        // `wait(after: .max)` returns only when staging ended (or throws when it failed).
        guard case .end(let table, let lastRid) = try feed.wait(after: .max) else { return }
        try open(table)
        readTo = lastRid
        last = true
        bind(after: from)
    }

    func field(_ i: Int) -> RawField { current.unsafelyUnwrapped.rawColumn(i) }

    func next() throws -> [Value]? {
        guard try advance() else { return nil }
        return (0..<columns.count).map { statement!.column($0) }
    }
}
