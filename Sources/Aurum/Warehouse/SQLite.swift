internal import CSQLite3
internal import CAurumSQLite
import Foundation

nonisolated(unsafe) let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
let SQLITE_STATIC_DESTRUCTOR: sqlite3_destructor_type? = nil

/// Process-wide SQLite settings, applied once before the first connection opens: no memory
/// statistics (Aurum never reads them, and keeping them takes a global mutex on every SQLite
/// allocation: 5–10% of a matching run's CPU, measured with perf).
private let sqliteConfigured: Bool = {
    _ = aurum_sqlite3_disable_memstatus()
    return true
}()

/// The VFS connections open files with: "aurum-wal" (`Sources/CAurumSQLite`), the default VFS
/// with a WAL's frames and a checkpoint's pages gathered into 64 KiB writes, or the default VFS
/// itself if it could not be registered. Loading the 1,000,000-row customers file: about 0.2 s
/// less system time, 2 pwrite calls per page → 1 per 64 KiB.
private let walVFS: String? = aurum_wal_vfs_register() == SQLITE_OK ? "aurum-wal" : nil

/// A failure reported by SQLite, with the statement that failed (never its bound values).
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public var code: Int32
    public var message: String
    public var sql: String?
    public var description: String {
        sql.map { "\(message) (in: \($0.prefix(300)))" } ?? message
    }
}

/// One SQLite connection. Not thread-safe: one owner at a time (the pipeline step using it).
///
/// `@unchecked Sendable` because a connection is handed from the thread that opens it to the
/// writer thread of a snapshot and back; it is never used by two threads at once (the snapshot
/// joins its writer before returning).
public final class SQLiteDatabase: @unchecked Sendable {
    let handle: OpaquePointer
    public let path: String
    private var closed = false
    var functionBoxes: [AnyObject] = []
    var authorizerBox: AuthorizerBox?

    public init(path: String, readOnly: Bool = false) throws {
        _ = sqliteConfigured
        var db: OpaquePointer?
        let flags = readOnly
            ? SQLITE_OPEN_READONLY
            : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, walVFS)
        guard rc == SQLITE_OK, let db else {
            let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: "cannot open SQLite database \(path): \(msg)")
        }
        self.handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, 5000)
        // The virtual table `RowFeed` inserts through (registering it writes nothing).
        aurum_feed_register(db)
    }

    deinit {
        if !closed { sqlite3_close_v2(handle) }
    }

    /// Keeps the WAL file when the last connection closes (SQLITE_FCNTL_PERSIST_WAL), instead of
    /// deleting it: the next open writes over its blocks.
    func persistWAL() {
        var on: Int32 = 1
        _ = sqlite3_file_control(handle, "main", SQLITE_FCNTL_PERSIST_WAL, &on)
    }

    /// Whether `close` was called.
    var isClosed: Bool { closed }

    public func close() {
        guard !closed else { return }
        closed = true
        sqlite3_close_v2(handle)
    }

    var errorMessage: String { String(cString: sqlite3_errmsg(handle)) }

    func check(_ rc: Int32, _ sql: String? = nil) throws {
        if rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW {
            throw SQLiteError(code: rc, message: errorMessage, sql: sql)
        }
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let msg = err.map { String(cString: $0) } ?? errorMessage
            sqlite3_free(err)
            throw SQLiteError(code: rc, message: msg, sql: sql)
        }
    }

    public func prepare(_ sql: String) throws -> SQLiteStatement {
        try SQLiteStatement(db: self, sql: sql)
    }

    /// Runs a statement with arguments, discarding any rows.
    public func run(_ sql: String, _ args: [Value] = []) throws {
        let st = try prepare(sql)
        try st.bind(args)
        while try st.step() {}
    }

    /// All rows of a query.
    public func query(_ sql: String, _ args: [Value] = []) throws -> [[Value]] {
        let st = try prepare(sql)
        try st.bind(args)
        var rows: [[Value]] = []
        while try st.step() { rows.append(st.row()) }
        return rows
    }

    /// The first column of the first row, or nil.
    public func scalar(_ sql: String, _ args: [Value] = []) throws -> Value? {
        let st = try prepare(sql)
        try st.bind(args)
        return try st.step() ? st.column(0) : nil
    }

    public func transaction<R>(_ body: () throws -> R) throws -> R {
        try execute("BEGIN IMMEDIATE")
        do {
            let r = try body()
            try execute("COMMIT")
            return r
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    public var changes: Int { Int(sqlite3_changes(handle)) }
    /// True between BEGIN and COMMIT/ROLLBACK (SQLite is not in autocommit mode).
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    public func tableExists(_ name: String) throws -> Bool {
        try scalar("SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = ?", [.text(name)]) != nil
    }

    /// Drops the table or view `name`, whichever it is (work tables become views when a stage has
    /// nothing to change).
    public func dropRelation(_ name: String) throws {
        let kind = try scalar("SELECT type FROM sqlite_master WHERE name = ? AND type IN ('table', 'view')", [.text(name)])?.textValue
        if let kind { try execute("DROP \(kind == "view" ? "VIEW" : "TABLE") \(sqlIdent(name))") }
    }

    /// Whether `name` is a view (of the database, or a temporary one).
    public func isView(_ name: String) throws -> Bool {
        try scalar("SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = ?1 UNION ALL SELECT 1 FROM sqlite_temp_master WHERE type = 'view' AND name = ?1",
                   [.text(name)]) != nil
    }

    public func columns(of table: String) throws -> [String] {
        try query("SELECT name FROM pragma_table_info(?) ORDER BY cid", [.text(table)]).compactMap { $0[0].textValue }
    }
}

/// A prepared statement, finalized when released.
public final class SQLiteStatement {
    let stmt: OpaquePointer
    unowned let db: SQLiteDatabase
    public let sql: String
    /// The part of the SQL text after the first statement (non-empty means a second statement).
    public let tail: String

    init(db: SQLiteDatabase, sql: String) throws {
        var st: OpaquePointer?
        var tailPtr: UnsafePointer<CChar>?
        let (rc, tail): (Int32, String) = sql.withCString { base in
            let rc = sqlite3_prepare_v3(db.handle, base, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &st, &tailPtr)
            let rest = tailPtr.map { String(cString: $0) } ?? ""
            return (rc, rest)
        }
        guard rc == SQLITE_OK, let st else {
            throw SQLiteError(code: rc, message: db.errorMessage, sql: sql)
        }
        self.stmt = st
        self.db = db
        self.sql = sql
        self.tail = tail
    }

    deinit { sqlite3_finalize(stmt) }

    public var columnCount: Int { Int(sqlite3_column_count(stmt)) }
    public func columnName(_ i: Int) -> String { String(cString: sqlite3_column_name(stmt, Int32(i))) }
    public var parameterCount: Int { Int(sqlite3_bind_parameter_count(stmt)) }

    public func bind(_ args: [Value]) throws {
        for (i, v) in args.enumerated() { try bind(v, at: Int32(i + 1)) }
    }

    public func bind(_ v: Value, at i: Int32) throws {
        let rc: Int32
        switch v {
        case .null: rc = sqlite3_bind_null(stmt, i)
        case .integer(let x): rc = sqlite3_bind_int64(stmt, i, x)
        case .real(let d): rc = sqlite3_bind_double(stmt, i, d)
        case .text(let s):
            // The UTF-8 bytes with their length: no C-string copy of the String, no strlen.
            var s = s
            rc = s.withUTF8 { u in
                guard let p = u.baseAddress, u.count > 0 else { return sqlite3_bind_text(stmt, i, "", 0, SQLITE_STATIC_DESTRUCTOR) }
                return sqlite3_bind_text(stmt, i, UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self), Int32(u.count), SQLITE_TRANSIENT)
            }
        case .blob(let b):
            rc = b.withUnsafeBytes { sqlite3_bind_blob(stmt, i, $0.baseAddress, Int32($0.count), SQLITE_TRANSIENT) }
        }
        if rc != SQLITE_OK { throw SQLiteError(code: rc, message: db.errorMessage, sql: sql) }
    }

    /// Binds UTF-8 bytes that stay valid until the statement is stepped (no copy).
    @inline(__always)
    func bindText(_ p: UnsafePointer<UInt8>?, _ count: Int, at i: Int32) {
        if let p {
            sqlite3_bind_text(stmt, i, UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self), Int32(count), SQLITE_STATIC_DESTRUCTOR)
        } else {
            sqlite3_bind_text(stmt, i, "", 0, SQLITE_STATIC_DESTRUCTOR)
        }
    }

    @inline(__always) func bindInt(_ x: Int64, at i: Int32) { sqlite3_bind_int64(stmt, i, x) }
    @inline(__always) func bindDouble(_ x: Double, at i: Int32) { sqlite3_bind_double(stmt, i, x) }

    /// Binds bytes that stay valid until the statement is stepped (no copy); `count` > 0.
    @inline(__always)
    func bindBlob(_ p: UnsafeRawPointer, _ count: Int, at i: Int32) {
        sqlite3_bind_blob(stmt, i, p, Int32(count), SQLITE_STATIC_DESTRUCTOR)
    }
    @inline(__always) func bindNull(at i: Int32) { sqlite3_bind_null(stmt, i) }

    /// Steps once; true when a row is available.
    @discardableResult
    public func step() throws -> Bool {
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw SQLiteError(code: rc, message: db.errorMessage, sql: sql)
    }

    public func reset() {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }

    @inline(__always) func resetKeepingBindings() { sqlite3_reset(stmt) }

    public func column(_ i: Int) -> Value {
        let c = Int32(i)
        switch sqlite3_column_type(stmt, c) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(stmt, c))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(stmt, c))
        case SQLITE_TEXT:
            let n = Int(sqlite3_column_bytes(stmt, c))
            guard let p = sqlite3_column_text(stmt, c) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self))
        case SQLITE_BLOB:
            let n = Int(sqlite3_column_bytes(stmt, c))
            guard let p = sqlite3_column_blob(stmt, c) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: p, count: n)))
        default: return .null
        }
    }

    public func row() -> [Value] { (0..<columnCount).map(column) }

    /// A text column's UTF-8 bytes, valid only inside `body` (nil for NULL).
    @inline(__always) func withColumnText<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R? {
        let c = Int32(i)
        guard sqlite3_column_type(stmt, c) != SQLITE_NULL, let p = sqlite3_column_text(stmt, c) else { return nil }
        return try body(UnsafeRawBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, c))))
    }

    /// A column as an integer (SQLite's conversion: NULL is 0).
    @inline(__always) func columnInt(_ i: Int) -> Int64 { sqlite3_column_int64(stmt, Int32(i)) }

    /// A column as text ("" for NULL), decoded straight from its UTF-8 bytes.
    func columnText(_ i: Int) -> String { withColumnText(i) { String(decoding: $0, as: UTF8.self) } ?? "" }

    /// Column `i` of the current row in place (text and blob bytes valid until the next step).
    @inline(__always)
    public func rawColumn(_ i: Int) -> RawField {
        let c = Int32(i)
        switch sqlite3_column_type(stmt, c) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(stmt, c))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(stmt, c))
        case SQLITE_TEXT:
            // text before bytes: the documented order that reads the UTF-8 form's length.
            let p = sqlite3_column_text(stmt, c)
            return .text(UnsafeBufferPointer(start: p, count: p == nil ? 0 : Int(sqlite3_column_bytes(stmt, c))))
        case SQLITE_BLOB:
            let p = sqlite3_column_blob(stmt, c)
            return .blob(UnsafeRawBufferPointer(start: p, count: p == nil ? 0 : Int(sqlite3_column_bytes(stmt, c))))
        default: return .null
        }
    }
}
