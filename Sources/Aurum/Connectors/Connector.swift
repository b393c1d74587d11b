import Foundation

/// One item a source yields: a row aligned with the reader's columns, a record of named values
/// (new names become new columns), or a row that could not be read (quarantined with its reason).
public enum RowItem: Sendable {
    case row([Value], line: Int)
    case fields([(String, Value)], line: Int)
    case problem(line: Int?, reason: String, raw: String?)
}

/// A source opened for reading: a single-pass stream of rows.
///
/// Connectors in their own modules (PostgreSQL, MongoDB, Redis, Excel, XML, HTTP APIs, Parquet)
/// implement this and register a `SourceConnector`; the snapshot stages whatever they yield.
public protocol RowReader: AnyObject {
    /// Column names known so far (a `.row` is aligned with them; shorter rows end in NULLs).
    var columns: [String] { get }
    /// The next item, or nil at the end.
    func next() throws -> RowItem?
    /// Items read so far (rows and problems), for the rows-read = staged + quarantined check.
    var itemsRead: Int { get }
    /// Releases the source's resources; called exactly once, also after an error.
    func close()
    /// For a source read with an incremental cursor: the largest cursor value read so far, as text
    /// the source reads back as the column's type (recorded as the next run's watermark); nil when
    /// there is no cursor or no row was read.
    var watermark: String? { get }
}

extension RowReader {
    public var watermark: String? { nil }
}

/// What a connector can do besides reading or writing everything; the pipeline uses the best one
/// available (e.g. it consults the warehouse's watermarks only for a source with `incrementalCursor`).
public struct ConnectorCapabilities: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// A source that reads only rows whose cursor column is past a watermark (`updated_at > last`).
    public static let incrementalCursor = ConnectorCapabilities(rawValue: 1 << 0)
    /// A target that inserts or updates rows by a key.
    public static let keyedUpsert = ConnectorCapabilities(rawValue: 1 << 1)
    /// A target that deletes rows by a key.
    public static let delete = ConnectorCapabilities(rawValue: 1 << 2)
    /// A target whose writes commit atomically (the whole write, or each batch): a failure leaves
    /// nothing half-written, and the rows committed before it are known.
    public static let transactional = ConnectorCapabilities(rawValue: 1 << 3)

    public var description: String {
        let names: [(ConnectorCapabilities, String)] = [(.incrementalCursor, "incremental cursor"), (.keyedUpsert, "keyed upsert"),
                                                        (.delete, "delete"), (.transactional, "transactional")]
        let on = names.filter { contains($0.0) }.map(\.1)
        return on.isEmpty ? "none" : on.joined(separator: ", ")
    }
}

public protocol SourceConnector: Sendable {
    var types: [SourceType] { get }
    /// What this source can do (default: nothing beyond a full read).
    var capabilities: ConnectorCapabilities { get }
    /// Checks a source's settings at validation time (no connection); returns problems as (config path, message).
    func validate(_ spec: SourceSpec) -> [(String, String)]
    func open(_ spec: SourceSpec) throws -> RowReader
}

extension SourceConnector {
    public func validate(_ spec: SourceSpec) -> [(String, String)] { [] }
    public var capabilities: ConnectorCapabilities { [] }
}

/// Rows to publish, read from the warehouse in order.
public protocol RowCursor: AnyObject {
    var columns: [String] { get }
    func next() throws -> [Value]?
}

/// One field of a cursor's current row, read in place: the text and blob bytes are valid only
/// until the cursor moves (or the field is read again as another type).
public enum RawField {
    case null
    case integer(Int64)
    case real(Double)
    case text(UnsafeBufferPointer<UInt8>)
    case blob(UnsafeRawBufferPointer)
}

/// A cursor that also hands out its current row's fields in place, so a bulk writer can encode
/// them without a `Value` (and a `String`) per field. Use either `next()` or `advance()`/`field(_:)`
/// for a whole read, not both.
public protocol RawRowCursor: RowCursor {
    /// Moves to the next row; false at the end (and then must not be called again).
    func advance() throws -> Bool
    /// Field `i` of the row `advance()` moved to.
    func field(_ i: Int) -> RawField
}

/// Rows in place, a block at a time: text fields laid end to end (a parsed CSV batch), every
/// column typed one way for the whole block, so a bulk writer encodes a block in one loop, without
/// a call per field. Row `r`'s field in column `c` is field `f = r * width + c`: the bytes
/// `bytes[ends[f - 1] ..< ends[f]]` (from 0 for `f == 0`). An empty field is empty text, whatever
/// its column's typing. The pointers are valid until the cursor's next `nextBlock()`.
public struct FieldBlock {
    /// How a column's non-empty fields read.
    public enum Typing: UInt8, Sendable {
        /// The text as it is.
        case text
        /// An integer whose canonical spelling is the text (no sign but `-`, no leading zero,
        /// at most 18 digits): the integer's text is the field's bytes.
        case integer
        /// A REAL: `reals[r * realsPerRow + realSlot[c]]`.
        case real
    }

    public let rows: Int
    public let width: Int
    public let bytes: UnsafePointer<UInt8>
    public let ends: UnsafePointer<Int32>
    /// Per column.
    public let typing: [Typing]
    public let reals: UnsafePointer<Double>
    public let realsPerRow: Int
    /// Per column, its place among a row's reals (-1 for a column that is not `.real`).
    public let realSlot: [Int]

    public init(rows: Int, width: Int, bytes: UnsafePointer<UInt8>, ends: UnsafePointer<Int32>, typing: [Typing],
                reals: UnsafePointer<Double>, realsPerRow: Int, realSlot: [Int]) {
        self.rows = rows
        self.width = width
        self.bytes = bytes
        self.ends = ends
        self.typing = typing
        self.reals = reals
        self.realsPerRow = realsPerRow
        self.realSlot = realSlot
    }
}

/// A raw cursor that can also hand its rows out as `FieldBlock`s. Use `nextBlock()` for a whole
/// read, or the `RawRowCursor` calls, not both.
public protocol FieldBlockCursor: RawRowCursor {
    /// The next block of at least one row; nil at the end (and then must not be called again).
    func nextBlock() throws -> FieldBlock?
}

public protocol TargetConnector: Sendable {
    var formats: [OutputFormat] { get }
    /// What this target can do (default: nothing beyond a full write).
    var capabilities: ConnectorCapabilities { get }
    func validate(_ spec: OutputSpec) -> [(String, String)]
    /// Writes every row; returns what to report as the output's path (secrets removed) and the row count.
    func write(_ spec: OutputSpec, rows: RowCursor) throws -> (path: String, rows: Int)
    /// Sync: opens the target for keyed upserts and deletes by `key` (columns of `columns`).
    /// Default: not supported (the error names the format).
    func openSync(_ spec: OutputSpec, columns: [String], key: [String]) throws -> SyncSession
    /// Sync `--full`: replaces the target's whole contents with `rows`, so it holds exactly them
    /// (rows it held under other keys are gone). Default: `write`.
    func rebuild(_ spec: OutputSpec, rows: RowCursor, key: [String]) throws -> (path: String, rows: Int)
}

/// A full write started before the run knows that its rows are the output's (the streamed load,
/// `Pipeline+StreamedLoad.swift`): it stays open, in one transaction, until exactly one of
/// `commit()` or `rollback()` is called.
public protocol PendingWrite: AnyObject {
    /// Waits until every row was sent (the write then waits for `commit()` or `rollback()`);
    /// returns how many, or throws the write's failure.
    func finishSending() throws -> Int
    /// Waits for the last row to be sent, then commits; returns what `TargetConnector.write` would
    /// (throws what it would throw, and then nothing was committed).
    func commit() throws -> (path: String, rows: Int)
    /// Undoes the write (nothing of it is committed) and waits until it is undone.
    func rollback()
}

/// A cursor that wants to know when its reader stops reading it (it read the end, failed or was
/// abandoned), e.g. to release a producer waiting for room in a queue.
public protocol ReaderStoppedObserver: AnyObject {
    func readerStopped()
}

/// A target whose full write can run while the source is still being staged, and be undone.
public protocol StreamingTargetConnector: TargetConnector {
    /// Whether this output is written whole in one transaction (so a streamed write can be undone).
    func canStream(_ spec: OutputSpec) -> Bool
    /// Connects, then writes `rows` on a thread of its own (the cursor is used by that thread only,
    /// and may block while it waits for rows); the transaction stays open until `commit()` or
    /// `rollback()`. When the write stops reading `rows` (after the last row, or on a failure) it
    /// tells a cursor that is a `ReaderStoppedObserver`.
    func beginWrite(_ spec: OutputSpec, rows: RowCursor) throws -> PendingWrite
}

extension TargetConnector {
    public func validate(_ spec: OutputSpec) -> [(String, String)] { [] }
    public var capabilities: ConnectorCapabilities { [] }
    public func openSync(_ spec: OutputSpec, columns: [String], key: [String]) throws -> SyncSession {
        throw AurumError(.output, "output format '\(spec.format.rawValue)' cannot be synced (no keyed upsert and delete)",
                         at: "\(spec.location).sync", hint: "write it whole: remove sync: true")
    }
    public func rebuild(_ spec: OutputSpec, rows: RowCursor, key: [String]) throws -> (path: String, rows: Int) {
        try write(spec, rows: rows)
    }
}

/// A target opened for sync: keyed upserts and deletes, one batch at a time.
///
/// `apply` writes one batch and returns only when the target has acknowledged it (committed, where
/// the target has transactions: PostgreSQL, SQLite, Redis MULTI/EXEC); sync records its state in
/// the warehouse only after every batch returned. Upserts and deletes by key are idempotent, so a
/// batch applied twice (after a crash before the state was recorded) leaves the same contents.
public protocol SyncSession: AnyObject {
    /// Inserts or replaces `upserts` (whole rows, aligned with the columns) and deletes the rows
    /// whose key equals one of `deletes` (values aligned with the key columns).
    func apply(upserts: [[Value]], deletes: [[Value]]) throws
    /// Releases the connection; called exactly once, also after an error.
    func close()
}

/// The connectors this process knows besides the built-in file and SQLite ones.
///
/// `@unchecked Sendable`: all state is behind `lock`.
public final class ConnectorRegistry: @unchecked Sendable {
    public static let shared = ConnectorRegistry()
    private let lock = NSLock()
    private var sources: [SourceType: SourceConnector] = [:]
    private var targets: [OutputFormat: TargetConnector] = [:]

    public func register(source c: SourceConnector) {
        lock.lock(); defer { lock.unlock() }
        for t in c.types { sources[t] = c }
    }

    public func register(target c: TargetConnector) {
        lock.lock(); defer { lock.unlock() }
        for f in c.formats { targets[f] = c }
    }

    public func source(_ t: SourceType) -> SourceConnector? {
        lock.lock(); defer { lock.unlock() }
        return sources[t]
    }

    public func target(_ f: OutputFormat) -> TargetConnector? {
        lock.lock(); defer { lock.unlock() }
        return targets[f]
    }

    /// What a source type can do: a registered connector's capabilities; the built-in file and
    /// SQLite readers read everything, every time.
    public func capabilities(of t: SourceType) -> ConnectorCapabilities {
        source(t)?.capabilities ?? []
    }

    /// What an output format can do: a registered connector's capabilities; the built-in files and
    /// SQLite tables are written whole and atomically (a file under a temporary name moved into
    /// place, a table replaced in one transaction).
    public func capabilities(of f: OutputFormat) -> ConnectorCapabilities {
        if let c = target(f) { return c is FileFormatConnector ? c.capabilities.union(.transactional) : c.capabilities }
        switch f {
        case .csv, .tsv, .json, .ndjson, .sqlite: return .transactional
        default: return []
        }
    }

    var sourceTypes: [SourceType] { lock.lock(); defer { lock.unlock() }; return Array(sources.keys) }
    var targetFormats: [OutputFormat] { lock.lock(); defer { lock.unlock() }; return Array(targets.keys) }
}

/// What one output column holds over the whole integrated table, for file formats that declare
/// column types up front (Parquet, Excel).
public struct OutputColumn: Sendable, Hashable {
    public var name: String
    /// SQLite storage classes present besides NULL: any of "integer", "real", "text", "blob".
    public var kinds: Set<String>
    public var hasNulls: Bool
    public init(name: String, kinds: Set<String>, hasNulls: Bool) {
        self.name = name; self.kinds = kinds; self.hasNulls = hasNulls
    }
}

/// A registered file format written by the core's file-output path, so single files and
/// partitioned directories (date/category/hash) work as for CSV and JSON: the publisher opens one
/// writer per file (`part-00000.<ext>` in each partition) and moves the result into place.
public protocol FileFormatConnector: TargetConnector {
    /// Opens a writer for one file at `path` (the publisher chooses the path; `spec.path` is the output's).
    func makeWriter(_ spec: OutputSpec, path: String, columns: [OutputColumn]) throws -> RowFileWriter
}

extension FileFormatConnector {
    /// Writes all rows to `spec.path` outside the publisher: rows are held in memory to profile the columns.
    public func write(_ spec: OutputSpec, rows: RowCursor) throws -> (path: String, rows: Int) {
        var all: [[Value]] = []
        while let r = try rows.next() { all.append(r) }
        let cols = rows.columns.enumerated().map { i, name in
            var kinds = Set<String>(), nulls = false
            for r in all {
                switch i < r.count ? r[i] : .null {
                case .null: nulls = true
                case .integer: kinds.insert("integer")
                case .real: kinds.insert("real")
                case .text: kinds.insert("text")
                case .blob: kinds.insert("blob")
                }
            }
            return OutputColumn(name: name, kinds: kinds, hasNulls: nulls)
        }
        let w = try makeWriter(spec, path: spec.path, columns: cols)
        do {
            for r in all { try w.write(r) }
            try w.close()
        } catch {
            try? w.close()
            throw error
        }
        return (spec.path, all.count)
    }
}
