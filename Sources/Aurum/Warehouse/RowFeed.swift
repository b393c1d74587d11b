internal import CSQLite3

/// What a staged row's values are given to: a statement's parameters (`SQLiteStatement`) or a
/// feed's cells (`RowFeed`). Index `i` is 1-based, as a statement parameter's.
protocol RowBinder: AnyObject {
    func bindText(_ p: UnsafePointer<UInt8>?, _ count: Int, at i: Int32)
    func bindInt(_ x: Int64, at i: Int32)
    func bindDouble(_ x: Double, at i: Int32)
    /// Bytes that stay valid until the row is inserted; `count` > 0.
    func bindBlob(_ p: UnsafeRawPointer, _ count: Int, at i: Int32)
    func bindNull(at i: Int32)
    /// A value whose bytes are copied (they need not outlive the call).
    func bind(_ v: Value, at i: Int32) throws
}

extension SQLiteStatement: RowBinder {}

/// Many rows inserted by one statement step, without binding a parameter per value: the rows'
/// values are cells in a buffer that SQLite reads through the `aurum_feed` virtual table (see
/// `Sources/CSQLite3/shim.h`), one call per value, by
/// `<head> (<columns>) SELECT c0, c1, … FROM temp.aurum_feed_<width> WHERE feed = ?1`.
///
/// Cell `i` (1-based, row-major: row r's column c is `r × width + c + 1`) is set like a statement
/// parameter. Text and blob cells point at the caller's bytes, which must stay valid until
/// `insert` returns; `bind(_:at:)` copies its value into the feed's own storage. Measured on the
/// 1,000,000-row customers file (18 staged columns): 10–15% less SQLite time than 32-row
/// multi-row `VALUES` statements, which copy every value twice between registers.
final class RowFeed: RowBinder {
    let width: Int32
    /// Rows per `insert`.
    let capacity: Int
    private let cells: UnsafeMutablePointer<aurum_feed_cell>
    private let feed: UnsafeMutablePointer<aurum_feed>
    private let statement: SQLiteStatement
    /// Copied bytes (`bind(_:at:)`) of the rows not inserted yet: chunks never moved while in use.
    private var chunks: [UnsafeMutableRawBufferPointer] = []
    private var chunk = 0, used = 0
    private static let chunkSize = 1 << 18

    /// A feed of `width` columns into `head` (e.g. `INSERT INTO "t"`) `(columns)`; creates the
    /// connection's `temp.aurum_feed_<width>` table when it has none. A column in `fixed` has that
    /// value in every row: the statement takes it from a parameter bound once, and its cells are
    /// not read (setting them is harmless). Each value read from a cell costs SQLite a call into
    /// the feed and an opcode, so a snapshot's run columns and a keyless source's key are fixed.
    init(db: SQLiteDatabase, head: String, columns: [String], capacity: Int, fixed: [Int: Value] = [:]) throws {
        width = Int32(columns.count)
        self.capacity = max(1, capacity)
        let name = "aurum_feed_\(columns.count)"
        try db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.\(name) USING aurum_feed(\(columns.count))")
        let constants = fixed.keys.sorted()
        let select = (0..<columns.count).map { c in constants.firstIndex(of: c).map { "?\($0 + 2)" } ?? "c\(c)" }.joined(separator: ", ")
        statement = try db.prepare("\(head) (\(columns.map(sqlIdent).joined(separator: ", "))) SELECT \(select) FROM temp.\(name) WHERE feed = ?1")
        for (j, c) in constants.enumerated() { try statement.bind(fixed[c]!, at: Int32(j + 2)) }
        cells = .allocate(capacity: self.capacity * columns.count)
        cells.initialize(repeating: aurum_feed_cell(), count: self.capacity * columns.count)
        feed = .allocate(capacity: 1)
        feed.initialize(to: aurum_feed(cells: cells, rows: 0, width: width))
    }

    deinit {
        cells.deallocate()
        feed.deallocate()
        for c in chunks { c.deallocate() }
    }

    @inline(__always) private func set(_ i: Int32, kind: Int32, num: Int64 = 0, bytes: UnsafeRawPointer? = nil, count: Int = 0) {
        cells[Int(i) - 1] = aurum_feed_cell(num: num, bytes: bytes, count: Int32(count), kind: kind)
    }

    @inline(__always) func bindText(_ p: UnsafePointer<UInt8>?, _ count: Int, at i: Int32) {
        set(i, kind: 3, bytes: UnsafeRawPointer(p), count: p == nil ? 0 : count)
    }
    @inline(__always) func bindInt(_ x: Int64, at i: Int32) { set(i, kind: 1, num: x) }
    @inline(__always) func bindDouble(_ x: Double, at i: Int32) { set(i, kind: 2, num: Int64(bitPattern: x.bitPattern)) }
    @inline(__always) func bindBlob(_ p: UnsafeRawPointer, _ count: Int, at i: Int32) { set(i, kind: 4, bytes: p, count: count) }
    @inline(__always) func bindNull(at i: Int32) { set(i, kind: 0) }

    func bind(_ v: Value, at i: Int32) throws {
        switch v {
        case .null: bindNull(at: i)
        case .integer(let x): bindInt(x, at: i)
        case .real(let d): bindDouble(d, at: i)
        case .text(let s):
            var s = s
            s.withUTF8 { u in set(i, kind: 3, bytes: copy(UnsafeRawBufferPointer(u)), count: u.count) }
        case .blob(let b):
            b.withUnsafeBytes { set(i, kind: 4, bytes: copy($0), count: $0.count) }
        }
    }

    /// A copy of `bytes` that lives until the next `insert` returns (nil when empty).
    private func copy(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawPointer? {
        guard bytes.count > 0, let src = bytes.baseAddress else { return nil }
        if chunk < chunks.count, used + bytes.count > chunks[chunk].count {
            chunk += 1
            used = 0
        }
        if chunk == chunks.count {
            chunks.append(.allocate(byteCount: max(Self.chunkSize, bytes.count), alignment: 16))
            used = 0
        }
        let dst = chunks[chunk].baseAddress! + used
        dst.copyMemory(from: src, byteCount: bytes.count)
        used += bytes.count
        return UnsafeRawPointer(dst)
    }

    /// Inserts the first `rows` rows (≤ `capacity`), then forgets the copied bytes.
    func insert(rows: Int) throws {
        guard rows > 0 else { return }
        precondition(rows <= capacity, "RowFeed.insert: \(rows) rows in a feed of \(capacity)")
        feed.pointee.rows = Int64(rows)
        defer {
            feed.pointee.rows = 0
            chunk = 0
            used = 0
            // Keep one chunk for the next rows; a feed that copies little holds no more.
            if chunks.count > 1 {
                for c in chunks.dropFirst() { c.deallocate() }
                chunks.removeSubrange(1...)
            }
        }
        aurum_feed_bind(statement.stmt, 1, feed)
        try statement.step()
        statement.resetKeepingBindings()
    }
}
