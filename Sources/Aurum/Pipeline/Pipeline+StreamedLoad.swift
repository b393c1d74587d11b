import Foundation

/// The streamed load: when a run's only output is a full write of one CSV source's rows, passed
/// through (typed, nothing else), the output is written while the snapshot is still staging, so
/// that staging and the target's own work (e.g. PostgreSQL parsing a COPY) run at the same time.
///
/// When (`StreamedLoad.plan`):
/// - one source, CSV or TSV, without a soft-delete column; no entities; no rules; quality checks
///   that neither use null tokens, normalise formats nor delete rows (duplicates, null rejects,
///   business rules). The work table is then a view of the staged rows whose only change is the
///   typing of numeric columns (`Preparer.prepare`, `asView`), and the integration a view of it;
/// - one output, not synced, not partitioned, writing the integrated rows, to a target that can
///   stream (`StreamingTargetConnector.canStream`: PostgreSQL in replace mode);
/// - every row staged as a new row in file order (a keyless source, or a keyed source's first
///   snapshot), which is then the order of the staged table and of the usual output.
///
/// How: the staging writer hands every parsed batch it inserted (`StagingWriter.stagedBatches`)
/// to a bounded queue. Once `startRows` rows are staged the target is connected and its write
/// starts on a thread of its own, reading the queued batches through `StagedBatchCursor`, which
/// types each field as the work view's SELECT would with the number kinds seen so far (the same
/// bytes for text and integers, SQLite's own text-to-REAL conversion for decimals) — so the rows
/// are encoded straight from the parsed file, never read back from the warehouse. When a later
/// batch changes how a column is typed, the write is rolled back at once. At the output step the
/// run checks that the work view it built is that same SELECT over the staged table, that the
/// integration passed those columns through, and that every row was sent; then it commits.
/// Otherwise it rolls the write back (it is one transaction: nothing was committed) and writes the
/// output the usual way. The report says which (`streamed_load`).
///
/// Crash safety: staging commits only the load table before its end (`StagingWriter
/// .commitsInChunks`), which the next snapshot drops, and the target commits only at the output
/// step; a kill before it leaves the previous snapshot and the target as they were.
final class StreamedLoad {
    /// Rows staged before the write starts (their number kinds decide how the write types columns),
    /// or batches, whichever comes first.
    static let startRows = 32_768, startBatches = 4
    /// Batches the queue holds. More than `startBatches`, or staging would wait on a full queue
    /// that nobody reads yet (a deadlock).
    static let queueCapacity = 8
    private var batchesBeforeStart = 0

    let source: SourceSpec
    let output: OutputSpec
    let connector: StreamingTargetConnector

    /// Parsed batches from staging to the write's cursor; before the write starts it holds the
    /// first `startRows` rows or `startBatches` batches.
    private let queue = BoundedQueue<CSVBatch>(capacity: StreamedLoad.queueCapacity)
    private var pending: PendingWrite?
    /// The staged columns and their number kinds when the write started (what it types by).
    private(set) var start: (columns: [String], kinds: [Int64])?
    /// How it ended: committed, or why not (nil while open, or when it never started).
    private(set) var outcome: String?
    private var resolved = false
    /// Whether batches still go to the queue (false once the write was given up or never can be).
    private var feeding = true

    private init(source: SourceSpec, output: OutputSpec, connector: StreamingTargetConnector) {
        precondition(Self.queueCapacity > Self.startBatches, "StreamedLoad: the queue must hold more than startBatches")
        self.source = source
        self.output = output
        self.connector = connector
    }

    /// A streamed load for this catalog, or nil when its output is not a pass-through of one source.
    static func plan(_ catalog: Catalog) -> StreamedLoad? {
        guard catalog.sources.count == 1, let source = catalog.sources.first,
              source.type == .csv || source.type == .tsv, source.options["deleted_column"] == nil,
              catalog.entities.isEmpty, catalog.rules.isEmpty,
              catalog.outputs.count == 1, let out = catalog.outputs.first,
              !out.sync, out.partition == nil, (out.data ?? "integrated") == "integrated" else { return nil }
        let q = catalog.quality
        guard !q.nulls, !q.duplicates, !q.formats, !q.businessRules else { return nil }
        guard let connector = ConnectorRegistry.shared.target(out.format) as? StreamingTargetConnector,
              connector.canStream(out) else { return nil }
        return StreamedLoad(source: source, output: out, connector: connector)
    }

    /// How the work view types a column of this number kind: 2 → INTEGER, 1 → REAL, else as staged.
    static func cast(_ kind: Int64) -> String? { kind == 2 ? "INTEGER" : (kind == 1 ? "REAL" : nil) }

    /// The work view's SELECT (`Preparer.prepare`, layer 0 without null tokens) over `table`.
    static func workSelect(table: String, columns: [String], kinds: [Int64]) -> String {
        var select = [StagedColumns.rid]
        for (i, c) in columns.enumerated() {
            let id = sqlIdent(c)
            if i < kinds.count, let t = cast(kinds[i]) {
                select.append("CASE WHEN typeof(\(id)) = 'text' AND \(id) <> '' THEN CAST(\(id) AS \(t)) ELSE \(id) END AS \(id)")
            } else {
                select.append(id)
            }
        }
        return "SELECT \(select.joined(separator: ", ")) FROM \(sqlIdent(table))"
    }

    /// Sets the staging writer up to hand its batches over; once `startRows` rows are staged the
    /// write starts. Only when the rows are staged in file order (see the type's notes).
    func attach(_ writer: StagingWriter) {
        guard writer.stagesInFileOrder else { feeding = false; return }
        writer.stagedBatches = { [unowned self, unowned writer] batch, kinds in
            guard self.feeding else { return }
            // The cursor reads a batch's rows as the staged columns: one field each, in order.
            guard batch.width == writer.columns.count else {
                self.abandon("a batch of \(batch.width) fields per row for \(writer.columns.count) staged columns")
                return
            }
            if let start = self.start {
                guard zip(start.kinds, kinds).allSatisfy({ Self.cast($0) == Self.cast($1) }) else {
                    self.abandon("a column's kind changed after the write started")
                    return
                }
            }
            guard self.queue.push(batch) else {
                // The write stopped reading (it failed): the output step reports why.
                self.feeding = false
                return
            }
            // Wide rows make small batches (a batch holds at most 32 MiB): the write also starts
            // after `startBatches`, so the queue (8) never fills before anyone reads it.
            if self.start == nil {
                self.batchesBeforeStart += 1
                if writer.rowsStaged >= Self.startRows || self.batchesBeforeStart >= Self.startBatches {
                    self.begin(columns: writer.columns, kinds: kinds)
                }
            }
        }
    }

    private func begin(columns: [String], kinds: [Int64]) {
        start = (columns, kinds)
        FaultPoints.hit("snapshot.stream-started")
        let cursor = StagedBatchCursor(queue: queue, columns: columns, kinds: kinds)
        do {
            pending = try connector.beginWrite(output, rows: cursor)
        } catch {
            // The usual output step reports the same failure in its place.
            outcome = "not started: \(error)"
            start = nil
            feeding = false
            queue.close()
        }
    }

    /// Staging ended and committed: every batch was handed over.
    func stagingFinished() {
        feeding = false
        queue.close()
    }

    /// Undoes the write if it is still open (a failed run, a column typed otherwise than when the
    /// write started, or a run that never reached the output).
    func abandon(_ why: String) {
        guard !resolved else { return }
        resolved = true
        feeding = false
        queue.close(error: StagedBatchCursor.Abandoned())
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

/// The staged rows of a streamed load, from the parsed batches staging inserted, typed as the
/// work view's SELECT types them with the number kinds the write started with (`kinds`):
/// - kind 2 (integers): the staged text is an integer's canonical spelling
///   (`SQLFunctionLibrary.numberKind`), so it is the integer's text; handed out as an integer;
/// - kind 1 (decimals): SQLite's `CAST(text AS REAL)`, run for a batch's values at a time on an
///   in-memory connection, so that every value is the double the view gives (SQLite's conversion
///   is not always the correctly rounded one that `Double(text)` gives);
/// - anything else, and empty fields: the text as staged.
/// Staging hands over only batches whose values keep their column's kind (`StreamedLoad.attach`).
/// A bulk writer reads a batch at a time (`nextBlock()`: `FieldBlock.Typing` is the above).
/// Used by the write's thread only.
final class StagedBatchCursor: FieldBlockCursor, ReaderStoppedObserver {
    struct Abandoned: Error, CustomStringConvertible {
        var description: String { "the streamed load was given up" }
    }

    let columns: [String]
    private let queue: BoundedQueue<CSVBatch>
    private let typing: [FieldBlock.Typing]
    private let realColumns: [Int]
    /// Per column, its place in `realColumns` (or -1).
    private let realSlot: [Int]
    /// The current batch's field bytes, field ends and (per row, for each of `realColumns`) REALs,
    /// in buffers reused from batch to batch (a REAL of an empty field is unused: it stays text).
    private let bytes = GrowingBuffer<UInt8>()
    private let ends = GrowingBuffer<Int32>()
    private let reals = GrowingBuffer<Double>()
    private var width = 0
    private var rows = 0
    private var row = -1
    private var converter: RealConverter?

    init(queue: BoundedQueue<CSVBatch>, columns: [String], kinds: [Int64]) {
        self.queue = queue
        self.columns = columns
        let typing: [FieldBlock.Typing] = columns.indices.map { i in
            switch i < kinds.count ? kinds[i] : 3 {
            case 2: .integer
            case 1: .real
            default: .text
            }
        }
        self.typing = typing
        let reals = columns.indices.filter { typing[$0] == .real }
        realColumns = reals
        realSlot = columns.indices.map { reals.firstIndex(of: $0) ?? -1 }
    }

    func readerStopped() { queue.close() }

    func advance() throws -> Bool {
        row += 1
        while row >= rows {
            guard try loadNext() else { return false }
        }
        return true
    }

    func nextBlock() throws -> FieldBlock? {
        repeat {
            guard try loadNext() else { return nil }
        } while rows == 0
        row = rows
        return FieldBlock(rows: rows, width: width, bytes: bytes.base, ends: ends.base, typing: typing,
                          reals: reals.base, realsPerRow: realColumns.count, realSlot: realSlot)
    }

    /// Moves to the next queued batch; false at the end.
    private func loadNext() throws -> Bool {
        guard let b = try queue.pop() else { return false }
        try load(b)
        return true
    }

    private func load(_ b: CSVBatch) throws {
        bytes.set(b.bytes)
        ends.set(b.fieldEnds)
        width = b.width
        rows = b.rowCount
        row = 0
        guard !realColumns.isEmpty, rows > 0 else { return }
        if converter == nil { converter = try RealConverter() }
        let n = rows * realColumns.count
        reals.reserve(n)
        var fields: [UnsafeBufferPointer<UInt8>] = []
        fields.reserveCapacity(n)
        for r in 0..<rows {
            for c in realColumns { fields.append(text(r * width + c)) }
        }
        try converter!.convert(fields, into: reals.base)
    }

    @inline(__always) private func text(_ f: Int) -> UnsafeBufferPointer<UInt8> {
        let start = f == 0 ? 0 : Int(ends.base[f - 1])
        return UnsafeBufferPointer(start: bytes.base + start, count: Int(ends.base[f]) - start)
    }

    func field(_ i: Int) -> RawField {
        let t = text(row * width + i)
        if t.isEmpty { return .text(t) }
        switch typing[i] {
        case .text:
            return .text(t)
        case .integer:
            var x: Int64 = 0
            var j = 0
            let negative = t[0] == UInt8(ascii: "-")
            if negative { j = 1 }
            while j < t.count { x = x * 10 + Int64(t[j] &- 48); j += 1 }
            return .integer(negative ? -x : x)
        case .real:
            return .real(reals.base[row * realColumns.count + realSlot[i]])
        }
    }

    func next() throws -> [Value]? {
        guard try advance() else { return nil }
        return (0..<columns.count).map { i in
            switch field(i) {
            case .null: .null
            case .integer(let x): .integer(x)
            case .real(let d): .real(d)
            case .text(let t): .text(String(decoding: t, as: UTF8.self))
            case .blob(let b): .blob(Array(b))
            }
        }
    }
}

/// Memory for plain values that is kept from one use to the next and grows (never shrinks).
final class GrowingBuffer<Element: BitwiseCopyable> {
    private(set) var base: UnsafeMutablePointer<Element>
    private var capacity = 1

    init() { base = .allocate(capacity: 1) }

    deinit { base.deallocate() }

    /// Room for `n` elements (the contents are not kept).
    func reserve(_ n: Int) {
        if n > capacity { regrow(&base, capacity: &capacity, to: n, keep: 0) }
    }

    /// Holds a copy of `a`.
    func set(_ a: [Element]) {
        reserve(a.count)
        a.withUnsafeBufferPointer { if let p = $0.baseAddress { base.initialize(from: p, count: $0.count) } }
    }
}

/// SQLite's `CAST(text AS REAL)` of many values, `group` per statement step, on an in-memory
/// connection of its own.
final class RealConverter {
    static let group = 256
    private let db: SQLiteDatabase
    private let full: SQLiteStatement

    init() throws {
        db = try SQLiteDatabase(path: ":memory:")
        full = try db.prepare("SELECT " + (1...Self.group).map { "CAST(?\($0) AS REAL)" }.joined(separator: ", "))
    }

    deinit { db.close() }

    /// `out[i]` = `CAST(fields[i] AS REAL)` (for an empty field: 0, which the caller does not use).
    func convert(_ fields: [UnsafeBufferPointer<UInt8>], into out: UnsafeMutablePointer<Double>) throws {
        var i = 0
        while i < fields.count {
            let n = min(Self.group, fields.count - i)
            let st = n == Self.group ? full : try db.prepare("SELECT " + (1...n).map { "CAST(?\($0) AS REAL)" }.joined(separator: ", "))
            for k in 0..<n { st.bindText(fields[i + k].baseAddress, fields[i + k].count, at: Int32(k + 1)) }
            guard try st.step() else { throw AurumError(.runtime, "SQLite returned no row for a REAL conversion") }
            for k in 0..<n {
                if case .real(let d) = st.rawColumn(k) { out[i + k] = d } else { out[i + k] = 0 }
            }
            st.resetKeepingBindings()
            i += n
        }
    }
}
