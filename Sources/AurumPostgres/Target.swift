import Foundation
import Aurum

/// The column type a new table gets, chosen from the values written:
/// only integers → `bigint`; integers and reals → `double precision`; only blobs → `bytea`;
/// anything else, mixtures with text, and NULL-only columns → `text`.
/// (No `boolean`: Aurum's values store booleans as integers 0/1, so they become `bigint`.)
public enum PostgresColumnKind: String, Sendable, Comparable {
    case none = "", bigint, double = "double precision", bytea, text

    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
    private var rank: Int { switch self { case .none: 0; case .bigint: 1; case .double: 2; case .bytea: 3; case .text: 4 } }

    public static func of(_ v: Value) -> Self {
        switch v {
        case .null: .none
        case .integer: .bigint
        case .real: .double
        case .blob: .bytea
        case .text: .text
        }
    }

    /// The narrowest kind holding both.
    public func merged(_ o: Self) -> Self {
        if self == o || o == .none { return self }
        if self == .none { return o }
        if (self == .bigint && o == .double) || (self == .double && o == .bigint) { return .double }
        return .text
    }

    var sqlType: String { self == .none ? "text" : rawValue }

    /// Whether values of this kind load into an existing column of PostgreSQL type `typname`.
    /// Text loads into anything (the server parses it, e.g. ISO dates into `date`).
    func fits(_ typname: String) -> Bool {
        let t = typname  // array types (`_int4`, …) take text only
        switch self {
        case .none, .text: return true
        case .bigint: return ["int2", "int4", "int8", "numeric", "float4", "float8", "bool", "text", "varchar", "bpchar",
                              "json", "jsonb", "oid", "money"].contains(t)
        case .double: return ["numeric", "float4", "float8", "text", "varchar", "bpchar", "json", "jsonb"].contains(t)
        case .bytea: return t == "bytea"
        }
    }
}

/// The `postgresql` target. `options.mode` says what a run (and a re-run after a failure) does:
/// - `replace` (default): a full migration in one transaction: it creates the table when absent
///   (types from the values, a unique index on `options.key`) or checks the existing one, empties it
///   (TRUNCATE) and loads every row with `COPY … FROM STDIN` in batches; readers see the old contents
///   until COMMIT, and a failure leaves the table as it was (nothing committed), so running again
///   gives exactly the output.
/// - `upsert` (needs `options.key`): each batch of `batch_size` rows (default 10,000) is its own
///   transaction (COPY into a temporary table, then `INSERT … ON CONFLICT (key) DO UPDATE`); a
///   failure keeps the batches committed before it, and the error says how many rows that was.
///   Running again rewrites every row by key, so the table converges with no duplicated and no
///   missing rows. Rows of the table that the output does not have are kept.
public struct PostgresTarget: TargetConnector {
    public init() {}
    public var formats: [OutputFormat] { [.postgresql] }
    public var capabilities: ConnectorCapabilities { [.keyedUpsert, .delete, .transactional] }

    public func validate(_ spec: OutputSpec) -> [(String, String)] {
        var problems: [(String, String)] = []
        if (spec.table ?? "").isEmpty { problems.append(("\(spec.location).table", "a postgresql output needs a table")) }
        if let k = spec.options["key"], PostgresTable.keyColumns(k) == nil {
            problems.append(("\(spec.location).options.key", "expected a column name or a list of column names"))
        }
        switch spec.options["mode"] {
        case nil, .string("replace")?: break
        case .string("upsert")?:
            if (spec.options["key"].flatMap(PostgresTable.keyColumns) ?? []).isEmpty {
                problems.append(("\(spec.location).options.mode", "mode 'upsert' needs options.key (the key columns)"))
            }
        case let m?: problems.append(("\(spec.location).options.mode", "unknown mode \(m.compact) (replace or upsert)"))
        }
        return problems
    }

    /// The output's table (connected) and its `options.batch_size` (default 10,000).
    static func open(_ spec: OutputSpec) throws -> (table: PostgresTable, batchSize: Int) {
        guard let table = spec.table, !table.isEmpty else {
            throw AurumError(.output, "a postgresql output needs a table", at: spec.location)
        }
        let key = spec.options["key"].flatMap(PostgresTable.keyColumns) ?? []
        var batch = 10_000
        if case .int(let n)? = spec.options["batch_size"], n > 0 { batch = Int(n) }
        let t = try PostgresTable(connection: spec.connection ?? "", credentials: spec.credentials, table: table, key: key)
        return (t, batch)
    }

    public func write(_ spec: OutputSpec, rows: RowCursor) throws -> (path: String, rows: Int) {
        let (t, batch) = try Self.open(spec)
        defer { t.close() }
        let n = spec.options["mode"] == .string("upsert") ? try t.upsert(rows, batchSize: batch) : try t.replace(rows, batchSize: batch)
        FaultPoints.hit("postgres.committed")
        return (t.location, n)
    }
}

extension PostgresTarget: StreamingTargetConnector {
    /// `replace` mode (the default): one transaction, so a streamed load can be rolled back.
    /// `options: {streamed: false}` turns the streamed load off for this output.
    public func canStream(_ spec: OutputSpec) -> Bool {
        (spec.options["mode"] == nil || spec.options["mode"] == .string("replace")) && spec.options["streamed"] != .bool(false)
    }

    public func beginWrite(_ spec: OutputSpec, rows: RowCursor) throws -> PendingWrite {
        let (t, batch) = try Self.open(spec)
        return PendingPostgresLoad(t, rows, batchSize: batch)
    }
}

/// `PostgresTable.replace` of a cursor, run on a thread of its own; after the last row it waits
/// for `commit()` (COMMIT) or `rollback()` (ROLLBACK: the table keeps its previous contents).
///
/// `@unchecked Sendable`: `decision`, `sent` and `result` are guarded by `condition`; the table
/// and the cursor are used by the load thread only.
final class PendingPostgresLoad: PendingWrite, @unchecked Sendable {
    private let condition = NSCondition()
    private var decision: Bool? = nil
    private var sent: Int? = nil
    private var result: Result<(path: String, rows: Int), Error>? = nil
    private var worker: WorkerThread!

    struct Abandoned: Error {}

    private final class Parts: @unchecked Sendable {
        let table: PostgresTable
        let rows: RowCursor
        init(_ t: PostgresTable, _ r: RowCursor) { table = t; rows = r }
    }

    init(_ table: PostgresTable, _ rows: RowCursor, batchSize: Int) {
        let parts = Parts(table, rows)
        worker = WorkerThread(name: "aurum.pg.load") { [self] in
            do {
                let n = try parts.table.replace(parts.rows, batchSize: batchSize) { sent in
                    FaultPoints.hit("postgres.streamed")
                    guard self.awaitDecision(sent) else { throw Abandoned() }
                }
                self.finished(.success((parts.table.location, n)))
            } catch {
                (parts.rows as? ReaderStoppedObserver)?.readerStopped()
                self.finished(.failure(error))
            }
            parts.table.close()
        }
    }

    private func finished(_ r: Result<(path: String, rows: Int), Error>) {
        condition.lock()
        result = r
        condition.broadcast()
        condition.unlock()
    }

    func finishSending() throws -> Int {
        condition.lock(); defer { condition.unlock() }
        while sent == nil && result == nil { condition.wait() }
        if let sent { return sent }
        if case .failure(let e)? = result { throw e }
        return 0
    }

    private func awaitDecision(_ n: Int) -> Bool {
        condition.lock(); defer { condition.unlock() }
        sent = n
        condition.broadcast()
        while decision == nil { condition.wait() }
        return decision!
    }

    private func decide(_ commit: Bool) {
        condition.lock()
        if decision == nil { decision = commit }
        condition.broadcast()
        condition.unlock()
    }

    func commit() throws -> (path: String, rows: Int) {
        decide(true)
        worker.join()
        switch result! {
        case .success(let r):
            FaultPoints.hit("postgres.committed")
            return r
        case .failure(let e): throw e
        }
    }

    func rollback() {
        decide(false)
        worker.join()
    }
}

/// One PostgreSQL table as a target: full replacement, appends, keyed upserts and deletes.
/// Owns its connection; call `close()` (or let it go out of scope).
public final class PostgresTable {
    public let table: String
    /// Key columns: the unique index created with the table, and the default for `upsert`/`delete`.
    public let key: [String]
    public let connection: PostgresConnection
    fileprivate let qname: String

    public init(connection: String, credentials: Credentials? = nil, table: String, key: [String] = []) throws {
        self.table = table
        self.key = key
        self.connection = try PostgresConnection(connection, credentials: credentials, role: .output)
        qname = self.connection.quoteName(table)
    }

    public func close() { connection.close() }

    /// `options.key`: a string (`"id"` or `"a, b"`) or a list of strings.
    public static func keyColumns(_ j: JSON) -> [String]? {
        switch j {
        case .string(let s): return s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        case .array(let a):
            let names = a.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
            return names.count == a.count ? names : nil
        default: return nil
        }
    }

    /// Where this table is, for reports: `postgresql://user@host:port/db?table=NAME` (never a password).
    public var location: String {
        let e = connection.endpoint
        if e.host.hasPrefix("/") || e.host.isEmpty {
            return "postgresql://\(e.user)@/\(e.database)?host=\(e.host)&port=\(e.port)&table=\(table)"
        }
        return "postgresql://\(e.user)@\(e.host):\(e.port)/\(e.database)?table=\(table)"
    }

    fileprivate var object: String { "table \(table)" }

    /// A column of an existing table.
    public struct Column: Sendable, Equatable {
        public var name: String
        /// `format_type` (e.g. `integer`, `character varying(20)`).
        public var type: String
        /// `pg_type.typname` (e.g. `int4`, `varchar`).
        public var typname: String
        public var notNull: Bool
        public var hasDefault: Bool
    }

    /// The table's columns, or nil when it does not exist.
    public func existingColumns() throws -> [Column]? {
        let exists = try connection.query("SELECT to_regclass($1) IS NOT NULL", [qname], object: object)
        guard exists.first?.first == .integer(1) else { return nil }
        let rows = try connection.query("""
            SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname, a.attnotnull, a.atthasdef
            FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
            WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """, [qname], object: object)
        return rows.map {
            Column(name: $0[0].textValue ?? "", type: $0[1].textValue ?? "", typname: $0[2].textValue ?? "",
                   notNull: $0[3] == .integer(1), hasDefault: $0[4] == .integer(1))
        }
    }

    /// The state of the table while loading: its columns in output order, and whether this run created it.
    struct Layout {
        var names: [String]            // table column names, in output column order
        var kinds: [PostgresColumnKind] // created: the current column kinds
        var existing: [PostgresTable.Column]?  // nil when created here
    }

    private static func kinds(_ rows: [[Value]], _ n: Int) -> [PostgresColumnKind] {
        var k = [PostgresColumnKind](repeating: .none, count: n)
        for r in rows { for i in 0..<min(n, r.count) { k[i] = k[i].merged(.of(r[i])) } }
        return k
    }

    /// Creates the table (inside the caller's transaction) or checks the existing one against the columns.
    func prepare(columns: [String], first: [[Value]]) throws -> Layout {
        try prepare(columns: columns, kinds: Self.kinds(first, columns.count))
    }

    func prepare(columns: [String], kinds: [PostgresColumnKind]) throws -> Layout {
        if let existing = try existingColumns() {
            var names: [String] = []
            var missing: [String] = []
            var mismatches: [String] = []
            for (i, c) in columns.enumerated() {
                guard let col = existing.first(where: { $0.name == c }) ?? existing.first(where: { $0.name.lowercased() == c.lowercased() }) else {
                    missing.append(c); continue
                }
                names.append(col.name)
                if !kinds[i].fits(col.typname) { mismatches.append("'\(c)' is \(col.type) but the values are \(kinds[i].rawValue)") }
            }
            let required = existing.filter { col in col.notNull && !col.hasDefault && !columns.contains { $0.lowercased() == col.name.lowercased() } }
            var problems: [String] = []
            if !missing.isEmpty { problems.append("missing columns: \(missing.joined(separator: ", "))") }
            if !mismatches.isEmpty { problems.append("incompatible types: \(mismatches.joined(separator: "; "))") }
            if !required.isEmpty { problems.append("NOT NULL columns without a default that the output does not have: \(required.map(\.name).joined(separator: ", "))") }
            if !problems.isEmpty {
                throw AurumError(.output, "PostgreSQL table \(table) at \(connection.endpoint) does not match the output: \(problems.joined(separator: "; "))",
                                 hint: "alter or drop the table, or map the columns to it")
            }
            return Layout(names: names, kinds: kinds, existing: existing)
        }
        let defs = zip(columns, kinds).map { "\(connection.quoteIdentifier($0)) \($1.sqlType)" }
        try connection.execute("CREATE TABLE \(qname) (\(defs.joined(separator: ", ")))", object: object)
        if !key.isEmpty {
            for k in key where !columns.contains(k) {
                throw AurumError(.output, "PostgreSQL table \(table) at \(connection.endpoint): key column '\(k)' is not an output column (\(columns.joined(separator: ", ")))")
            }
            try createKeyIndex()
        }
        return Layout(names: columns, kinds: kinds, existing: nil)
    }

    func createKeyIndex() throws {
        let base = table.split(separator: ".").last.map(String.init) ?? table
        let idx = connection.quoteIdentifier(String((base + "_aurum_key").prefix(63)))
        try connection.execute("CREATE UNIQUE INDEX IF NOT EXISTS \(idx) ON \(qname) (\(key.map(connection.quoteIdentifier).joined(separator: ", ")))", object: object)
    }

    /// Before loading a later batch: widens columns this run created, checks existing ones.
    private func adapt(_ layout: inout Layout, _ rows: [[Value]]) throws {
        try adapt(&layout, kinds: Self.kinds(rows, layout.names.count))
    }

    /// The same for a batch whose value kinds are `k`; `beforeAlter` runs before the first ALTER
    /// (an open COPY must end first).
    fileprivate func adapt(_ layout: inout Layout, kinds k: [PostgresColumnKind], beforeAlter: () throws -> Void = {}) throws {
        if let existing = layout.existing {
            for (i, kind) in k.enumerated() where kind > layout.kinds[i] {
                layout.kinds[i] = layout.kinds[i].merged(kind)
                let col = existing.first { $0.name == layout.names[i] }!
                if !layout.kinds[i].fits(col.typname) {
                    throw AurumError(.output, "PostgreSQL table \(table) at \(connection.endpoint) does not match the output: incompatible types: '\(col.name)' is \(col.type) but the values are \(layout.kinds[i].rawValue)")
                }
            }
            return
        }
        var altering = false
        for (i, kind) in k.enumerated() {
            let m = layout.kinds[i].merged(kind)
            if m != layout.kinds[i] {
                if !altering && (layout.kinds[i] != .none || m != .text) { try beforeAlter(); altering = true }
                // A NULL-only column was created as text; it takes any kind without altering if still text.
                if layout.kinds[i] != .none {
                    let c = connection.quoteIdentifier(layout.names[i])
                    try connection.execute("ALTER TABLE \(qname) ALTER COLUMN \(c) TYPE \(m.sqlType) USING \(c)::\(m == .text ? "text" : m.sqlType)", object: object)
                } else if m != .text {
                    let c = connection.quoteIdentifier(layout.names[i])
                    try connection.execute("ALTER TABLE \(qname) ALTER COLUMN \(c) TYPE \(m.sqlType) USING \(c)::\(m.sqlType)", object: object)
                }
                layout.kinds[i] = m
            }
        }
    }

    /// One `COPY target (columns) FROM STDIN` of the rows (text format, sent in 256 KiB chunks).
    func copy(into qtable: String, columns: [String], rows: [[Value]], ordinalFrom: Int? = nil) throws {
        var cols = columns.map(connection.quoteIdentifier)
        if ordinalFrom != nil { cols.append("aurum_ord") }
        let sql = "COPY \(qtable) (\(cols.joined(separator: ", "))) FROM STDIN"
        try connection.wrap(object, sql) {
            try connection.raw.startCopyIn(sql)
            var buf: [UInt8] = []
            buf.reserveCapacity(300_000)
            do {
                for (ri, r) in rows.enumerated() {
                    for i in 0..<columns.count {
                        if i > 0 { buf.append(9) }
                        CopyText.encode(i < r.count ? r[i] : .null, into: &buf)
                    }
                    if let o = ordinalFrom { buf.append(9); buf.append(contentsOf: String(o + ri).utf8) }
                    buf.append(10)
                    FaultPoints.hit("postgres.copy-row")
                    if buf.count >= 262_144 { try connection.raw.putCopyData(buf); buf.removeAll(keepingCapacity: true) }
                }
                if !buf.isEmpty { try connection.raw.putCopyData(buf) }
            } catch {
                try? connection.raw.endCopyIn(abort: "aborted by aurum")
                throw error
            }
            try connection.raw.endCopyIn()
        }
    }

    /// Reads a cursor and encodes its rows as COPY text, a chunk at a time, noting the kinds of the
    /// values in each chunk. A `RawRowCursor` is encoded from its fields in place (no `Value` per
    /// field). Never reads the cursor again after it ended (a cursor over SQLite would start over).
    final class CopyEncoder {
        struct Chunk {
            var bytes: [UInt8] = []
            var kinds: [PostgresColumnKind]
            var rows = 0
        }
        let rows: RowCursor
        let raw: RawRowCursor?
        let blocks: FieldBlockCursor?
        let width: Int
        let maxRows: Int
        static let maxBytes = 262_144
        private var ended = false
        private var chunk: Chunk
        /// `fillBlocks`: the block being encoded and its next row.
        private var block: FieldBlock?
        private var blockRow = 0
        /// `fillRaw`'s buffer, reused from chunk to chunk.
        private let writer = CopyWriter(capacity: CopyEncoder.maxBytes + 65_536)

        init(_ rows: RowCursor, maxRows: Int) {
            self.rows = rows
            raw = rows as? RawRowCursor
            blocks = rows as? FieldBlockCursor
            width = rows.columns.count
            self.maxRows = max(1, maxRows)
            chunk = Chunk(kinds: Array(repeating: .none, count: width))
            chunk.bytes.reserveCapacity(Self.maxBytes + 65_536)
        }

        /// The next chunk; `rows == 0` at the end.
        func next() throws -> Chunk {
            chunk.bytes.removeAll(keepingCapacity: true)
            chunk.rows = 0
            for i in 0..<width { chunk.kinds[i] = .none }
            guard !ended else { return chunk }
            if let blocks { try fillBlocks(blocks) } else if let raw { try fillRaw(raw) } else { try fillValues() }
            return chunk
        }

        private func fillValues() throws {
            while chunk.rows < maxRows && chunk.bytes.count < Self.maxBytes {
                guard let r = try rows.next() else { ended = true; return }
                for i in 0..<width {
                    if i > 0 { chunk.bytes.append(9) }
                    let v = i < r.count ? r[i] : .null
                    chunk.kinds[i] = chunk.kinds[i].merged(.of(v))
                    CopyText.encode(v, into: &chunk.bytes)
                }
                chunk.bytes.append(10)
                chunk.rows += 1
                FaultPoints.hit("postgres.copy-row")
            }
        }

        /// Encodes rows of a raw cursor into `chunk.bytes` through a buffer of its own that grows
        /// as a field needs (no Array append per field).
        private func fillRaw(_ raw: RawRowCursor) throws {
            try filling { w, kinds in try fillRaw(raw, w, &kinds) }
        }

        /// Runs `fill` with the writer and the chunk's kinds, then hands the chunk what it wrote.
        private func filling(_ fill: (CopyWriter, inout [PostgresColumnKind]) throws -> Void) rethrows {
            var kinds = chunk.kinds
            defer {
                chunk.kinds = kinds
                chunk.bytes = writer.finish()
            }
            try fill(writer, &kinds)
        }

        private func fillRaw(_ raw: RawRowCursor, _ w: CopyWriter, _ kinds: inout [PostgresColumnKind]) throws {
            let width = self.width
            while chunk.rows < maxRows && w.count < Self.maxBytes {
                guard try raw.advance() else { ended = true; return }
                for i in 0..<width {
                    if i > 0 { w.byte(9) }
                    switch raw.field(i) {
                    case .null:
                        w.byte(92); w.byte(UInt8(ascii: "N"))
                    case .integer(let x):
                        if kinds[i] != .bigint { kinds[i] = kinds[i].merged(.bigint) }
                        w.integer(x)
                    case .real(let d):
                        if kinds[i] != .double { kinds[i] = kinds[i].merged(.double) }
                        var t = CopyText.realText(d)
                        t.withUTF8 { w.bytes($0) }
                    case .text(let t):
                        if kinds[i] != .text { kinds[i] = .text }
                        w.escaped(t)
                    case .blob(let b):
                        if kinds[i] != .bytea { kinds[i] = kinds[i].merged(.bytea) }
                        var tmp: [UInt8] = []
                        CopyText.encode(.blob(Array(b)), into: &tmp)
                        tmp.withUnsafeBufferPointer { w.bytes($0) }
                    }
                }
                w.byte(10)
                chunk.rows += 1
                FaultPoints.hit("postgres.copy-row")
            }
        }

        /// Encodes the rows of a block cursor, a block at a time: a loop over each row's fields
        /// with the block's column typings (the text fields' bytes are copied as they are, escaped).
        /// The kinds noted are `fillRaw`'s for the same fields.
        private func fillBlocks(_ cursor: FieldBlockCursor) throws {
            try filling { w, kinds in try fillBlocks(cursor, w, &kinds) }
        }

        private func fillBlocks(_ cursor: FieldBlockCursor, _ w: CopyWriter, _ kinds: inout [PostgresColumnKind]) throws {
            let width = self.width
            while chunk.rows < maxRows && w.count < Self.maxBytes {
                if block == nil || blockRow == block!.rows {
                    guard let next = try cursor.nextBlock() else { ended = true; block = nil; return }
                    guard next.width == width else {
                        throw AurumError(.runtime, "a block of \(next.width) fields per row for \(width) columns")
                    }
                    block = next
                    blockRow = 0
                }
                let b = block!
                var r = blockRow
                defer { blockRow = r }
                while r < b.rows && chunk.rows < maxRows && w.count < Self.maxBytes {
                    var f = r * width
                    var start = f == 0 ? 0 : Int(b.ends[f - 1])
                    for c in 0..<width {
                        if c > 0 { w.byte(9) }
                        let end = Int(b.ends[f])
                        if end == start {
                            if kinds[c] != .text { kinds[c] = .text }
                        } else {
                            let t = UnsafeBufferPointer(start: b.bytes + start, count: end - start)
                            switch b.typing[c] {
                            case .text:
                                if kinds[c] != .text { kinds[c] = .text }
                                w.escaped(t)
                            case .integer:
                                // The integer's canonical text: as `w.integer` would write it.
                                if kinds[c] != .bigint { kinds[c] = kinds[c].merged(.bigint) }
                                w.bytes(t)
                            case .real:
                                if kinds[c] != .double { kinds[c] = kinds[c].merged(.double) }
                                var s = CopyText.realText(b.reals[r * b.realsPerRow + b.realSlot[c]])
                                s.withUTF8 { w.bytes($0) }
                            }
                        }
                        start = end
                        f += 1
                    }
                    w.byte(10)
                    chunk.rows += 1
                    r += 1
                    FaultPoints.hit("postgres.copy-row")
                }
            }
        }
    }

    /// COPY text bytes written into a buffer that grows by doubling; `finish()` hands them over
    /// as an array and starts over. One per encoder, reused from chunk to chunk.
    final class CopyWriter {
        private var p: UnsafeMutablePointer<UInt8>
        private var capacity: Int
        private(set) var count = 0

        init(capacity: Int) {
            self.capacity = max(64, capacity)
            p = .allocate(capacity: self.capacity)
        }

        deinit { p.deallocate() }

        /// Room for `k` more bytes.
        @inline(__always) private func reserve(_ k: Int) {
            if count + k > capacity { grow(count + k) }
        }

        private func grow(_ needed: Int) { regrow(&p, capacity: &capacity, to: needed, keep: count) }

        @inline(__always) func byte(_ b: UInt8) {
            reserve(1)
            p[count] = b
            count += 1
        }

        @inline(__always) func bytes(_ u: UnsafeBufferPointer<UInt8>) {
            guard let base = u.baseAddress, u.count > 0 else { return }
            reserve(u.count)
            (p + count).update(from: base, count: u.count)
            count += u.count
        }

        /// `CopyText.appendEscaped`: backslash, tab, newline and carriage return escaped.
        @inline(__always) func escaped(_ u: UnsafeBufferPointer<UInt8>) {
            if !CopyText.needsEscape(u) { bytes(u); return }
            reserve(2 * u.count)
            for c in u {
                switch c {
                case 92: p[count] = 92; p[count + 1] = 92; count += 2
                case 9: p[count] = 92; p[count + 1] = UInt8(ascii: "t"); count += 2
                case 10: p[count] = 92; p[count + 1] = UInt8(ascii: "n"); count += 2
                case 13: p[count] = 92; p[count + 1] = UInt8(ascii: "r"); count += 2
                default: p[count] = c; count += 1
                }
            }
        }

        @inline(__always) func integer(_ v: Int64) {
            reserve(20)
            if v == Int64.min {
                for c in "-9223372036854775808".utf8 { p[count] = c; count += 1 }
                return
            }
            var x = v
            if x < 0 { p[count] = UInt8(ascii: "-"); count += 1; x = -x }
            var digits = 1
            var y = x
            while y >= 10 { y /= 10; digits += 1 }
            var at = count + digits
            count = at
            repeat { at -= 1; p[at] = UInt8(48 + x % 10); x /= 10 } while x > 0
        }

        /// The bytes written, as an array; the writer starts over.
        func finish() -> [UInt8] {
            defer { count = 0 }
            return Array(UnsafeBufferPointer(start: p, count: count))
        }
    }

    /// Reads a cursor in batches and never calls `next()` again after it returned nil (a cursor
    /// over SQLite would start over).
    final class Batches {
        let rows: RowCursor
        let size: Int
        private var ended = false
        init(_ rows: RowCursor, _ size: Int) { self.rows = rows; self.size = max(1, size) }
        func next() throws -> [[Value]] {
            var b: [[Value]] = []
            guard !ended else { return b }
            b.reserveCapacity(size)
            while b.count < size {
                guard let r = try rows.next() else { ended = true; break }
                b.append(r)
            }
            return b
        }
    }

    /// Full replacement in one transaction: create or check, TRUNCATE, COPY every row, COMMIT.
    /// Rows are encoded in chunks of at most `batchSize` rows (and 256 KiB); the kinds of each chunk
    /// are checked (or the created columns widened) before it is sent. One COPY stays open across
    /// chunks unless a column must be altered. The chunks are sent by a thread of their own
    /// (`CopySender`), so this thread encodes the next chunk while the server parses the last one
    /// and neither waits for the other. `beforeCommit` runs after the last row was sent and before
    /// COMMIT; it may throw to roll everything back.
    /// Returns the rows written. On any failure the table is left as it was (or not created): the
    /// error's `rowsCommitted` is 0 and its message says how many rows had been sent.
    @discardableResult
    public func replace(_ rows: RowCursor, batchSize: Int = 10_000, beforeCommit: (Int) throws -> Void = { _ in }) throws -> Int {
        let encoder = CopyEncoder(rows, maxRows: batchSize)
        var sender: CopySender? = nil
        do {
            return try connection.transaction {
                var chunk = try encoder.next()
                let layout = try prepare(columns: rows.columns, kinds: chunk.kinds)
                if layout.existing != nil { try connection.execute("TRUNCATE \(qname)", object: object) }
                let s = CopySender(self, layout)
                sender = s
                do {
                    while chunk.rows > 0 {
                        guard s.push(chunk) else { break }
                        chunk = try encoder.next()
                    }
                } catch {
                    s.cancel()
                    throw error
                }
                let sent = try s.finish()
                try beforeCommit(sent)
                return sent
            }
        } catch {
            throw Self.partial(error, committed: 0,
                               "nothing committed: the table keeps its previous contents; \(sender?.sent ?? 0) rows had been sent")
        }
    }

    /// Sends encoded chunks to one open `COPY … FROM STDIN` from a thread of its own; the
    /// connection belongs to that thread from `init` until `finish()` or `cancel()` returned.
    /// Before each chunk after the first it widens (or checks) the columns for the chunk's kinds.
    ///
    /// `@unchecked Sendable`: `failure` and `sent` are written by the sender thread and read by
    /// the owner only after joining it (or, for `sent`, in an error message after the end).
    final class CopySender: @unchecked Sendable {
        private let queue = BoundedQueue<CopyEncoder.Chunk>(capacity: 8)
        private var worker: WorkerThread!
        private var failure: Error?
        private(set) var sent = 0

        struct Cancelled: Error {}

        init(_ table: PostgresTable, _ layout: Layout) {
            let box = TableBox(table)
            worker = WorkerThread(name: "aurum.pg.copy") { [self] in self.run(box.table, layout) }
        }

        private func run(_ t: PostgresTable, _ start: Layout) {
            var layout = start
            let c = t.connection
            let sql = "COPY \(t.qname) (\(layout.names.map(c.quoteIdentifier).joined(separator: ", "))) FROM STDIN"
            var open = false
            func end() throws {
                guard open else { return }
                open = false
                try c.wrap(t.object, sql) { try c.raw.endCopyIn() }
            }
            do {
                while let chunk = try queue.pop() {
                    if sent > 0 { try t.adapt(&layout, kinds: chunk.kinds, beforeAlter: end) }
                    if !open {
                        try c.wrap(t.object, sql) { try c.raw.startCopyIn(sql) }
                        open = true
                    }
                    try c.wrap(t.object, sql) { try c.raw.putCopyData(chunk.bytes) }
                    sent += chunk.rows
                }
                try end()
            } catch {
                if open { try? c.raw.endCopyIn(abort: "aborted by aurum") }
                if !(error is Cancelled) { failure = error }
                queue.close(error: error)
            }
        }

        /// Queues a chunk; false when the sender has failed (`finish()` throws its error).
        func push(_ chunk: CopyEncoder.Chunk) -> Bool { queue.push(chunk) }

        /// Ends the stream, waits for the last chunk to be sent and the COPY to end; the rows sent.
        func finish() throws -> Int {
            queue.close()
            worker.join()
            if let failure { throw failure }
            return sent
        }

        /// Stops sending (the COPY is aborted) and waits for the thread.
        func cancel() {
            queue.close(error: Cancelled())
            worker.join()
        }
    }

    /// `@unchecked Sendable`: hands the table to the sender thread, the only one that uses it
    /// while the sender runs.
    private final class TableBox: @unchecked Sendable {
        let table: PostgresTable
        init(_ t: PostgresTable) { table = t }
    }

    /// The error of a write that failed part-way, with the rows committed before it.
    static func partial(_ error: Error, committed: Int, _ note: String) -> AurumError {
        var e = (error as? AurumError) ?? AurumError(.output, "\(error)")
        e.message += " (\(note))"
        e.rowsCommitted = committed
        return e
    }

    /// Appends rows; each batch is its own transaction (a failed batch leaves nothing of itself,
    /// earlier batches stay). Creates the table from the first batch when absent.
    @discardableResult
    public func append(_ rows: RowCursor, batchSize: Int = 10_000) throws -> Int {
        var n = 0
        var layout: Layout? = nil
        let batches = Batches(rows, batchSize)
        while true {
            let batch = try batches.next()
            if batch.isEmpty && layout != nil { break }
            try connection.transaction {
                if layout == nil { layout = try prepare(columns: rows.columns, first: batch) } else { try adapt(&layout!, batch) }
                if !batch.isEmpty { try copy(into: qname, columns: layout!.names, rows: batch) }
            }
            n += batch.count
            if batch.isEmpty { break }
        }
        return n
    }

    /// Inserts or updates one batch by key, in one transaction: the rows go to a temporary staging
    /// table by COPY, then `INSERT … SELECT DISTINCT ON (key) … ON CONFLICT (key) DO UPDATE` (the last
    /// row of a key in the batch wins). Creates the table (with its unique key index) when absent.
    /// Returns the rows inserted or updated.
    @discardableResult
    public func upsert(columns: [String], rows: [[Value]], key: [String]? = nil) throws -> Int {
        let key = key ?? self.key
        guard !key.isEmpty else { throw AurumError(.output, "upsert into PostgreSQL table \(table) needs key columns") }
        for k in key where !columns.contains(k) {
            throw AurumError(.output, "upsert into PostgreSQL table \(table) at \(connection.endpoint): key column '\(k)' is not among the columns (\(columns.joined(separator: ", ")))")
        }
        return try connection.transaction {
            let layout: Layout
            if try existingColumns() == nil {
                let created = PostgresTable.Keyed(self, key)
                layout = try created.prepare(columns: columns, first: rows)
            } else {
                layout = try prepare(columns: columns, first: rows)
            }
            let cols = layout.names.map(connection.quoteIdentifier)
            let keys = key.map { k in connection.quoteIdentifier(layout.names[columns.firstIndex(of: k)!]) }
            try connection.execute("""
                CREATE TEMP TABLE aurum_stage ON COMMIT DROP AS SELECT \(cols.joined(separator: ", ")) FROM \(qname) WITH NO DATA;
                ALTER TABLE aurum_stage ADD COLUMN aurum_ord bigint
                """, object: object)
            try copy(into: "aurum_stage", columns: layout.names, rows: rows, ordinalFrom: 0)
            let nonKey = cols.filter { !keys.contains($0) }
            let action = nonKey.isEmpty ? "DO NOTHING" : "DO UPDATE SET " + nonKey.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
            let sql = """
                INSERT INTO \(qname) (\(cols.joined(separator: ", ")))
                SELECT DISTINCT ON (\(keys.joined(separator: ", "))) \(cols.joined(separator: ", ")) FROM aurum_stage
                ORDER BY \(keys.joined(separator: ", ")), aurum_ord DESC
                ON CONFLICT (\(keys.joined(separator: ", "))) \(action)
                """
            let r = try connection.wrap(object, sql) { try connection.raw.exec(sql) }
            return r.commandTuples
        }
    }

    /// Upserts every row of a cursor, `batchSize` rows per transaction. Returns the rows written
    /// (inserted or updated). On a failure, the batches before it stay committed: the error's
    /// `rowsCommitted` says how many rows they held.
    @discardableResult
    public func upsert(_ rows: RowCursor, key: [String]? = nil, batchSize: Int = 10_000) throws -> Int {
        var n = 0
        let batches = Batches(rows, batchSize)
        do {
            while true {
                let b = try batches.next()
                if b.isEmpty { break }
                n += try upsert(columns: rows.columns, rows: b, key: key)
                FaultPoints.hit("postgres.batch-committed")
            }
        } catch {
            throw Self.partial(error, committed: n, "\(n) rows committed in earlier batches; running again upserts every row by key")
        }
        return n
    }

    /// Deletes the rows whose key equals one of `keys` (each aligned with `keyColumns`), in one
    /// transaction (keys staged by COPY, then `DELETE … USING`). Returns the rows deleted.
    @discardableResult
    public func delete(keys: [[Value]], keyColumns: [String]? = nil) throws -> Int {
        let kc = keyColumns ?? key
        guard !kc.isEmpty else { throw AurumError(.output, "delete from PostgreSQL table \(table) needs key columns") }
        if keys.isEmpty { return 0 }
        return try connection.transaction {
            let cols = kc.map(connection.quoteIdentifier)
            try connection.execute("CREATE TEMP TABLE aurum_keys ON COMMIT DROP AS SELECT \(cols.joined(separator: ", ")) FROM \(qname) WITH NO DATA", object: object)
            try copy(into: "aurum_keys", columns: kc, rows: keys)
            // A fresh temp table has no statistics: without them the planner may scan the whole
            // target instead of probing its key index.
            try connection.execute("ANALYZE aurum_keys", object: object)
            let cond = cols.map { "t.\($0) = k.\($0)" }.joined(separator: " AND ")
            let sql = "DELETE FROM \(qname) AS t USING aurum_keys AS k WHERE \(cond)"
            return try connection.wrap(object, sql) { try connection.raw.exec(sql) }.commandTuples
        }
    }

    /// This table with another key (used so that `upsert` creates the key index for its own key).
    private static func Keyed(_ t: PostgresTable, _ key: [String]) -> PostgresTable {
        t.key == key ? t : PostgresTable(sharing: t, key: key)
    }

    private init(sharing t: PostgresTable, key: [String]) {
        table = t.table; self.key = key; connection = t.connection; qname = t.qname
    }
}
