import Foundation
internal import CLibPQ

// The raw layer: libpq calls, each returning what the C call returned or throwing `RawPGError` with
// libpq's own message (trailing newline removed). The safe layer (`PostgresConnection`) adds where
// (host, port, database, object) and turns these into `AurumError`.

/// A libpq failure: the call that failed, the server's or library's message, and the SQLSTATE.
struct RawPGError: Error {
    var call: String
    var message: String
    var sqlState: String?
    var detail: String?
    var hint: String?
}

/// Removes libpq's trailing newline and folds its continuation lines (`\n\t…`) into one line.
func cleanMessage(_ s: String) -> String {
    var t = s
    while let last = t.last, last == "\n" || last == " " || last == "\r" { t.removeLast() }
    return t.replacingOccurrences(of: "\n\t", with: " ").replacingOccurrences(of: "\n", with: " ")
}

/// One libpq result, cleared exactly once (in `deinit`).
final class PGResult {
    let raw: OpaquePointer
    init(_ raw: OpaquePointer) { self.raw = raw }
    deinit { PQclear(raw) }

    var status: ExecStatusType { PQresultStatus(raw) }
    var rowCount: Int { Int(PQntuples(raw)) }
    var columnCount: Int { Int(PQnfields(raw)) }
    func columnName(_ i: Int) -> String { String(cString: PQfname(raw, Int32(i))) }
    func columnType(_ i: Int) -> UInt32 { UInt32(PQftype(raw, Int32(i))) }
    func isNull(_ r: Int, _ c: Int) -> Bool { PQgetisnull(raw, Int32(r), Int32(c)) != 0 }
    /// The cell's text bytes (valid while this result lives).
    func bytes(_ r: Int, _ c: Int) -> UnsafeBufferPointer<UInt8> {
        let p = PQgetvalue(raw, Int32(r), Int32(c))!
        let n = Int(PQgetlength(raw, Int32(r), Int32(c)))
        return UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: n)
    }
    func string(_ r: Int, _ c: Int) -> String? {
        if isNull(r, c) { return nil }
        return String(decoding: bytes(r, c), as: UTF8.self)
    }
    var commandTuples: Int { Int(String(cString: PQcmdTuples(raw))) ?? 0 }

    func error(call: String) -> RawPGError {
        func field(_ c: Character) -> String? {
            guard let p = PQresultErrorField(raw, Int32(c.asciiValue!)) else { return nil }
            return String(cString: p)
        }
        let primary = field("M") ?? cleanMessage(String(cString: PQresultErrorMessage(raw)))
        return RawPGError(call: call, message: cleanMessage(primary), sqlState: field("C"),
                          detail: field("D").map(cleanMessage), hint: field("H").map(cleanMessage))
    }
}

/// One libpq connection. Owned by exactly one `PostgresConnection`; `finish()` runs once.
///
/// Not Sendable: a connection is used by one thread at a time (the reader's or writer's caller).
final class RawPGConnection {
    private var handle: OpaquePointer?

    /// Connects with `PQconnectdbParams` (expand_dbname = 1): `conninfo` may be a URI or a keyword
    /// string; later entries (user, password from credentials) override what it says. The PG*
    /// environment variables fill whatever is absent (libpq does this itself).
    /// On failure the half-opened handle is finished before throwing; `failed` reports its endpoint.
    init(params: [(String, String)], failed: (PostgresEndpoint) -> Void = { _ in }) throws {
        let keys = params.map { strdup($0.0) } + [nil]
        let vals = params.map { strdup($0.1) } + [nil]
        defer { keys.forEach { free($0) }; vals.forEach { free($0) } }
        let conn: OpaquePointer? = keys.withUnsafeBufferPointer { kp in
            vals.withUnsafeBufferPointer { vp in
                kp.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: kp.count) { k in
                    vp.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: vp.count) { v in
                        PQconnectdbParams(k, v, 1)
                    }
                }
            }
        }
        guard let conn else { throw RawPGError(call: "PQconnectdbParams", message: "out of memory") }
        if PQstatus(conn) != CONNECTION_OK {
            let msg = cleanMessage(String(cString: PQerrorMessage(conn)))
            failed(PostgresEndpoint(conn))
            PQfinish(conn)
            throw RawPGError(call: "PQconnectdbParams", message: msg)
        }
        // Server notices (e.g. "drop cascades to …") are not printed to stderr by the library.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        handle = conn
    }

    deinit { finish() }

    var isOpen: Bool { handle != nil }

    func finish() {
        if let h = handle { PQfinish(h); handle = nil }
    }

    private var h: OpaquePointer {
        guard let handle else { preconditionFailure("PostgreSQL connection used after close()") }
        return handle
    }

    var endpoint: PostgresEndpoint { PostgresEndpoint(h) }
    var errorMessage: String { cleanMessage(String(cString: PQerrorMessage(h))) }

    /// Runs one or more statements; returns the last result when it is `PGRES_COMMAND_OK`,
    /// `PGRES_TUPLES_OK` or a COPY state, throws the server's error otherwise.
    @discardableResult
    func exec(_ sql: String) throws -> PGResult {
        guard let r = PQexec(h, sql) else { throw RawPGError(call: "PQexec", message: errorMessage) }
        let res = PGResult(r)
        switch res.status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_EMPTY_QUERY: return res
        default: throw res.error(call: "PQexec")
        }
    }

    /// Describes a statement without running it: column names and type OIDs.
    func describe(_ sql: String) throws -> [(String, UInt32)] {
        guard let p = PQprepare(h, "", sql, 0, nil) else { throw RawPGError(call: "PQprepare", message: errorMessage) }
        let prep = PGResult(p)
        guard prep.status == PGRES_COMMAND_OK else { throw prep.error(call: "PQprepare") }
        guard let d = PQdescribePrepared(h, "") else { throw RawPGError(call: "PQdescribePrepared", message: errorMessage) }
        let desc = PGResult(d)
        guard desc.status == PGRES_COMMAND_OK else { throw desc.error(call: "PQdescribePrepared") }
        return (0..<desc.columnCount).map { (desc.columnName($0), desc.columnType($0)) }
    }

    /// Runs a query with text parameters; the parameters are sent separately (never spliced into SQL).
    @discardableResult
    func exec(_ sql: String, params: [String?]) throws -> PGResult {
        let cs = params.map { $0.map { strdup($0) } ?? nil }
        defer { cs.forEach { free($0) } }
        let r: OpaquePointer? = cs.withUnsafeBufferPointer { bp in
            bp.baseAddress.map { base in
                base.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: bp.count) { p in
                    PQexecParams(h, sql, Int32(bp.count), nil, p, nil, nil, 0)
                }
            } ?? PQexecParams(h, sql, 0, nil, nil, nil, nil, 0)
        }
        guard let r else { throw RawPGError(call: "PQexecParams", message: errorMessage) }
        let res = PGResult(r)
        switch res.status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK: return res
        default: throw res.error(call: "PQexecParams")
        }
    }

    func escapeIdentifier(_ s: String) -> String {
        guard let p = PQescapeIdentifier(h, s, s.utf8.count) else { return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        defer { PQfreemem(p) }
        return String(cString: p)
    }

    func escapeLiteral(_ s: String) -> String {
        guard let p = PQescapeLiteral(h, s, s.utf8.count) else { return "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
        defer { PQfreemem(p) }
        return String(cString: p)
    }

    // MARK: COPY

    /// Starts `COPY … TO STDOUT`; then call `copyOutRow` until it returns false.
    func startCopyOut(_ sql: String) throws {
        let r = try exec(sql)
        guard r.status == PGRES_COPY_OUT else { throw RawPGError(call: "PQexec", message: "COPY did not start (status \(r.status.rawValue))") }
    }

    /// Hands the next COPY row (without copying it) to `body`; false at the end of the data.
    func copyOutRow(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Bool {
        var buf: UnsafeMutablePointer<CChar>? = nil
        let n = PQgetCopyData(h, &buf, 0)
        if n > 0, let buf {
            defer { PQfreemem(buf) }
            try body(UnsafeBufferPointer(start: UnsafeRawPointer(buf).assumingMemoryBound(to: UInt8.self), count: Int(n)))
            return true
        }
        if n == -2 { throw RawPGError(call: "PQgetCopyData", message: errorMessage) }
        // -1: the COPY is done; its final result says whether it succeeded.
        try drainResults(call: "COPY TO STDOUT")
        return false
    }

    /// Starts `COPY … FROM STDIN`.
    func startCopyIn(_ sql: String) throws {
        let r = try exec(sql)
        guard r.status == PGRES_COPY_IN else { throw RawPGError(call: "PQexec", message: "COPY did not start (status \(r.status.rawValue))") }
    }

    func putCopyData(_ bytes: [UInt8]) throws {
        let rc = bytes.withUnsafeBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { PQputCopyData(h, $0, Int32(b.count)) }
        }
        if rc != 1 { throw RawPGError(call: "PQputCopyData", message: errorMessage) }
    }

    /// Ends `COPY FROM STDIN` (or aborts it with `error`), then reads the final result.
    func endCopyIn(abort error: String? = nil) throws {
        if PQputCopyEnd(h, error) != 1 { throw RawPGError(call: "PQputCopyEnd", message: errorMessage) }
        try drainResults(call: "COPY FROM STDIN")
    }

    /// Reads results until none remain; throws the first error among them.
    private func drainResults(call: String) throws {
        var first: RawPGError? = nil
        while let r = PQgetResult(h) {
            let res = PGResult(r)
            let st = res.status
            if st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && first == nil { first = res.error(call: call) }
        }
        if let first { throw first }
    }
}

/// Where a connection goes (or tried to go): never holds the password.
public struct PostgresEndpoint: Sendable, CustomStringConvertible {
    public var host: String
    public var port: String
    public var database: String
    public var user: String

    init(_ conn: OpaquePointer) {
        func s(_ p: UnsafeMutablePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }
        host = s(PQhost(conn))
        port = s(PQport(conn))
        database = s(PQdb(conn))
        user = s(PQuser(conn))
    }

    init(host: String, port: String, database: String, user: String) {
        self.host = host; self.port = port; self.database = database; self.user = user
    }

    /// `postgresql://user@host:port/db` (a socket directory shows as `host=/var/run/postgresql`).
    public var description: String {
        "host=\(host.isEmpty ? "(default)" : host) port=\(port.isEmpty ? "5432" : port) dbname=\(database) user=\(user)"
    }
}

/// Parses a connection string with libpq's own parser; the keyword/value pairs it sets.
func parseConninfo(_ s: String) -> [(String, String)]? {
    var err: UnsafeMutablePointer<CChar>? = nil
    guard let opts = PQconninfoParse(s, &err) else {
        if let err { PQfreemem(err) }
        return nil
    }
    defer { PQconninfoFree(opts) }
    var out: [(String, String)] = []
    var p = opts
    while let k = p.pointee.keyword {
        if let v = p.pointee.val { out.append((String(cString: k), String(cString: v))) }
        p += 1
    }
    return out
}
