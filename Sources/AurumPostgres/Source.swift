import Foundation
import Aurum

/// How a PostgreSQL source streams its rows.
public enum PostgresReadMethod: String, Sendable, CaseIterable {
    /// `COPY (SELECT …) TO STDOUT` in text format, parsed here: one row per `PQgetCopyData`.
    case copy
    /// A server-side cursor in a read-only transaction: `DECLARE … NO SCROLL CURSOR`, `FETCH 10000`.
    case cursor
}

/// The `postgresql` source: a table name or a SELECT, streamed (never loaded whole).
///
/// Options: `cursor` (a column) and `watermark` (text) read only rows with cursor > watermark;
/// `overlap` widens that window backwards (a number for numeric cursors, an interval such as
/// `"5 minutes"` for dates and timestamps) so rows committed late with an older cursor value are
/// not missed; `read_method` (`copy` or `cursor`) overrides the default; `fetch_size` (cursor
/// method, default 10000).
///
/// In a pipeline, a source with `cursor` and a `key` is incremental: each run records the largest
/// cursor value it read (the warehouse's `watermarks` table), the next run reads only rows past it
/// (minus `overlap`) and merges them into the previous snapshot by key.
public struct PostgresSource: SourceConnector {
    public init() {}
    public var types: [SourceType] { [.postgresql] }
    public var capabilities: ConnectorCapabilities { .incrementalCursor }

    public func validate(_ spec: SourceSpec) -> [(String, String)] {
        var problems: [(String, String)] = []
        if (spec.connection ?? "").isEmpty && ProcessInfo.processInfo.environment["PGHOST"] == nil
            && ProcessInfo.processInfo.environment["PGDATABASE"] == nil {
            problems.append(("\(spec.location).connection", "a postgresql source needs a connection string"))
        }
        if (spec.query ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            problems.append(("\(spec.location).query", "a postgresql source needs 'query' (a SELECT) or 'table'"))
        }
        if let m = spec.options["read_method"], case .string(let s) = m, PostgresReadMethod(rawValue: s) == nil {
            problems.append(("\(spec.location).options.read_method", "unknown read method '\(s)' (copy or cursor)"))
        }
        if spec.options["watermark"] != nil && spec.options["cursor"] == nil {
            problems.append(("\(spec.location).options.watermark", "a watermark needs options.cursor (the column it applies to)"))
        }
        if spec.options["overlap"] != nil && spec.options["cursor"] == nil {
            problems.append(("\(spec.location).options.overlap", "an overlap needs options.cursor (the column it applies to)"))
        }
        if let o = spec.options["overlap"], Self.overlap(o) == nil {
            problems.append(("\(spec.location).options.overlap", "expected a number or an interval such as \"5 minutes\", not \(o.compact)"))
        }
        if spec.options["cursor"] != nil && spec.options["watermark"] == nil && spec.key.isEmpty {
            problems.append(("\(spec.location).options.cursor",
                             "an incremental cursor needs the source's key, so that a changed row replaces its previous version (add key: COLUMN)"))
        }
        return problems
    }

    public func open(_ spec: SourceSpec) throws -> RowReader {
        try PostgresRowReader(spec)
    }

    /// `options.overlap` as the SQL subtracted from the watermark: a number, or an interval literal.
    static func overlap(_ j: JSON) -> String? {
        switch j {
        case .int(let i) where i >= 0: return String(i)
        case .double(let d) where d >= 0: return String(d)
        case .string(let s):
            let t = s.trimmingCharacters(in: .whitespaces)
            if let d = Double(t), d >= 0 { return t }
            // Interval text: digits, letters, spaces, colons and dots only (it is quoted, but stays simple).
            guard !t.isEmpty, t.allSatisfy({ $0.isLetter || $0.isNumber || $0 == " " || $0 == ":" || $0 == "." }) else { return nil }
            return "interval '\(t)'"
        default: return nil
        }
    }
}

/// Rows of one PostgreSQL query, streamed. Owns its connection; `close()` releases it.
public final class PostgresRowReader: BatchRowReader {
    public static let defaultMethod: PostgresReadMethod = .copy

    public private(set) var columns: [String]
    public private(set) var itemsRead = 0
    public let method: PostgresReadMethod
    /// The incremental cursor column (options.cursor), if any.
    public let cursorColumn: String?
    /// The largest cursor value read so far, as text that PostgreSQL reads back as the column's type
    /// (record it as the next run's `watermark`); nil when no cursor column or no rows.
    public private(set) var maxCursorValue: String?
    /// The SQL actually run (with the watermark condition), for diagnostics.
    public let sql: String

    private let conn: PostgresConnection
    private let startWatermark: String?
    private let types: [PGType]
    private var cursorIndex: Int?
    private var maxCursor: Value?
    private var scratch: [UInt8] = []
    /// The one-row batch `next()` decodes into.
    private var one = RowBatch(width: 0)
    private var done = false
    private var closed = false
    private let object: String
    // cursor method
    private var fetched: PGResult?  // the current FETCH result
    private var batchRow = 0
    private let fetchSize: Int

    public convenience init(_ spec: SourceSpec) throws {
        var method = PostgresRowReader.defaultMethod
        if case .string(let s)? = spec.options["read_method"], let m = PostgresReadMethod(rawValue: s) { method = m }
        var fetch = 10_000
        if case .int(let n)? = spec.options["fetch_size"], n > 0 { fetch = Int(n) }
        var cursor: String? = nil
        if case .string(let c)? = spec.options["cursor"] { cursor = c }
        var watermark: String? = nil
        switch spec.options["watermark"] {
        case .string(let w)?: watermark = w
        case .int(let i)?: watermark = String(i)
        case .double(let d)?: watermark = String(d)
        default: break
        }
        try self.init(connection: spec.connection ?? "", credentials: spec.credentials, query: spec.query ?? "",
                      cursor: cursor, watermark: watermark, overlap: spec.options["overlap"].flatMap(PostgresSource.overlap),
                      method: method, fetchSize: fetch)
    }

    /// `overlap` is SQL subtracted from the watermark (`PostgresSource.overlap` makes it from the option).
    public init(connection: String, credentials: Credentials? = nil, query: String, cursor: String? = nil,
                watermark: String? = nil, overlap: String? = nil, method: PostgresReadMethod = PostgresRowReader.defaultMethod,
                fetchSize: Int = 10_000) throws {
        self.method = method
        self.cursorColumn = cursor
        self.startWatermark = watermark
        self.fetchSize = fetchSize
        let conn = try PostgresConnection(connection, credentials: credentials, role: .source)
        self.conn = conn
        let object: String
        let sql: String
        let described: [(String, UInt32)]
        do {
            let q = query.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ";")))
            let isName = q.range(of: #"^("[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)(\.("[^"]+"|[A-Za-z_][A-Za-z0-9_$]*))?$"#,
                                 options: .regularExpression) != nil
            object = isName ? "table \(q)" : "query"
            var base = isName ? "SELECT * FROM \(conn.quoteName(q))" : q
            let b0 = base
            described = try conn.wrap(object, base) { try conn.raw.describe(b0) }
            if let cursor {
                guard let c = described.first(where: { $0.0 == cursor }) else {
                    throw AurumError(.source, "PostgreSQL \(object) at \(conn.endpoint): the cursor column '\(cursor)' is not among the columns (\(described.map(\.0).joined(separator: ", ")))")
                }
                let col = conn.quoteIdentifier(cursor)
                base = "SELECT * FROM (\(base)) AS aurum_source"
                if let watermark {
                    // The watermark is cast to the column's own type, so the comparison (and the
                    // overlap arithmetic) is the column's, not text order.
                    let type = try conn.query("SELECT format_type($1::oid, NULL)", [String(c.1)], object: object).first?.first?.textValue ?? "text"
                    var bound = "CAST(\(conn.quoteLiteral(watermark)) AS \(type))"
                    if let overlap { bound = "(\(bound) - \(overlap))" }
                    base += " WHERE \(col) > \(bound)"
                }
            }
            sql = base
            let s = sql
            if cursor != nil { _ = try conn.wrap(object, sql) { try conn.raw.describe(s) } }
            switch method {
            case .copy:
                try conn.wrap(object, sql) { try conn.raw.startCopyOut("COPY (\(s)) TO STDOUT") }
            case .cursor:
                try conn.execute("BEGIN READ ONLY", object: object)
                try conn.execute("DECLARE aurum_cursor NO SCROLL CURSOR FOR \(sql)", object: object)
            }
        } catch {
            conn.close()
            throw error
        }
        self.object = object
        self.sql = sql
        columns = described.map(\.0)
        types = described.map { PGType.decoder(for: $0.1) }
        cursorIndex = cursor.flatMap { c in described.firstIndex { $0.0 == c } }
        one = RowBatch(width: described.count)
    }

    deinit { if !closed { conn.close() } }

    public func next() throws -> RowItem? {
        one.removeAll()
        _ = try nextBatch(into: &one, maxRows: 1, maxBytes: .max)
        guard one.rowCount == 1 else { return nil }
        return .row(one.row(0), line: itemsRead)
    }

    /// Decodes rows straight into `batch` (the snapshot's fast path; `next()` goes through it too).
    public func nextBatch(into batch: inout RowBatch, maxRows: Int, maxBytes: Int) throws -> Bool {
        precondition(batch.width == types.count, "a batch of \(batch.width) columns for a source of \(types.count)")
        guard !done else { return false }
        var rows = 0
        while rows < maxRows && batch.bytes.count < maxBytes {
            let more: Bool
            do {
                switch method {
                case .copy: more = try copyRow(into: &batch)
                case .cursor: more = try cursorRow(into: &batch)
                }
            } catch {
                batch.discardOpenRow()
                throw error
            }
            guard more else { done = true; return false }
            itemsRead += 1
            batch.endRow(line: itemsRead)
            rows += 1
            if let ci = cursorIndex { track(batch.value(batch.rowCount - 1, ci)) }
        }
        return true
    }

    private func copyRow(into batch: inout RowBatch) throws -> Bool {
        let types = self.types
        return try conn.wrap(object, sql) {
            try conn.raw.copyOutRow { line in CopyText.decodeRow(line, types: types, scratch: &scratch, into: &batch) }
        }
    }

    private func cursorRow(into batch: inout RowBatch) throws -> Bool {
        if fetched == nil || batchRow >= fetched!.rowCount {
            if let b = fetched, b.rowCount < fetchSize { fetched = nil; try finishCursor(); return false }
            fetched = try conn.wrap(object, sql) { try conn.raw.exec("FETCH \(fetchSize) FROM aurum_cursor") }
            batchRow = 0
            if fetched!.rowCount == 0 { fetched = nil; try finishCursor(); return false }
        }
        let b = fetched!
        let r = batchRow
        batchRow += 1
        for c in 0..<types.count {
            if b.isNull(r, c) { batch.appendNull() } else { types[c].append(b.bytes(r, c), to: &batch) }
        }
        return true
    }

    private func finishCursor() throws {
        try conn.execute("CLOSE aurum_cursor; COMMIT", object: object)
    }

    /// The watermark to record: the largest cursor value read, never below the one this read
    /// started from (an overlapping read may see only older rows).
    public var watermark: String? {
        guard let start = startWatermark else { return maxCursorValue }
        guard let m = maxCursor, let mv = maxCursorValue else { return start }
        return PostgresRowReader.less(.text(start), m) ? mv : start
    }

    private func track(_ v: Value) {
        if v.isNull { return }
        if let m = maxCursor, !PostgresRowReader.less(m, v) { return }
        maxCursor = v
        switch v {
        case .integer(let i): maxCursorValue = String(i)
        case .real(let d): maxCursorValue = String(d)
        default: maxCursorValue = v.textValue
        }
    }

    /// Order of cursor values: numbers numerically, text as the server's ISO forms sort (a UTC 'Z'
    /// suffix is ignored so `…:05Z` < `…:05.5Z`), numeric text by value.
    static func less(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.integer(let x), .integer(let y)): return x < y
        case (.real(let x), .real(let y)): return x < y
        case (.text(let x), .text(let y)):
            if let dx = Double(x), let dy = Double(y) { return dx < dy }
            let kx = x.hasSuffix("Z") ? String(x.dropLast()) : x
            let ky = y.hasSuffix("Z") ? String(y.dropLast()) : y
            return kx < ky
        default:
            return (a.doubleValue ?? 0) < (b.doubleValue ?? 0)
        }
    }

    public func close() {
        guard !closed else { return }
        closed = true
        fetched = nil
        conn.close()
    }
}
