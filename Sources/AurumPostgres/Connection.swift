import Foundation
import Aurum
internal import CLibPQ

/// A PostgreSQL session: the safe layer over libpq. Owns one connection, closed exactly once
/// (`close()`, or `deinit` as a safety net). Every error is an `AurumError` that names the host,
/// port, database and the object or statement involved, with the server's message; the password
/// never appears (connection strings are shown through `Secrets.redact`, secrets are scrubbed).
///
/// Not Sendable: one thread uses a session at a time.
public final class PostgresConnection {
    let raw: RawPGConnection
    public let endpoint: PostgresEndpoint
    /// The error code used for failures (`.source` when reading, `.output` when writing).
    public let role: AurumError.Code
    let secrets: [String]

    /// Connects. `connection` is a `postgresql://…` URI or a libpq keyword string (`host=… dbname=…`);
    /// empty means "all from the PG* environment variables". `credentials` fill user and password.
    public init(_ connection: String, credentials: Credentials? = nil, role: AurumError.Code = .source,
                connectTimeout: Int = 10) throws {
        self.role = role
        var secrets = credentials?.secrets ?? []
        let parsed = parseConninfo(connection)
        if let pw = parsed?.first(where: { $0.0 == "password" })?.1, !pw.isEmpty { secrets.append(pw) }
        if let pw = ProcessInfo.processInfo.environment["PGPASSWORD"], !pw.isEmpty { secrets.append(pw) }
        self.secrets = secrets
        var params: [(String, String)] = [("connect_timeout", String(connectTimeout)),
                                          ("application_name", "aurum"),
                                          ("client_encoding", "UTF8")]
        if !connection.isEmpty { params.append(("dbname", connection)) }
        if let u = credentials?.username, !u.isEmpty { params.append(("user", u)) }
        if let p = credentials?.password, !p.isEmpty { params.append(("password", p)) }
        if parsed == nil && !connection.isEmpty {
            throw AurumError(role, "invalid PostgreSQL connection string '\(Secrets.scrub(Secrets.redact(connection), secrets))'",
                             hint: "postgresql://USER@HOST:PORT/DB or 'host=HOST port=PORT dbname=DB'")
        }
        var failedAt: PostgresEndpoint? = nil
        do {
            raw = try RawPGConnection(params: params) { failedAt = $0 }
        } catch let e as RawPGError {
            let ep = failedAt ?? PostgresEndpoint(host: "", port: "", database: "", user: "")
            throw AurumError(role, Secrets.scrub("cannot connect to PostgreSQL at \(ep): \(e.message)", secrets),
                             at: Secrets.scrub(Secrets.redact(connection), secrets))
        }
        endpoint = raw.endpoint
        // Fixed session settings so values print the same way whatever the server's defaults are.
        try execute("SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'; SET bytea_output = 'hex'; SET extra_float_digits = 1; SET IntervalStyle = 'postgres'")
    }

    deinit { raw.finish() }

    /// Closes the connection; later calls do nothing.
    public func close() { raw.finish() }

    /// Opens a session, runs `body`, and closes it, also when `body` throws.
    public static func with<R>(_ connection: String, credentials: Credentials? = nil, role: AurumError.Code = .source,
                               _ body: (PostgresConnection) throws -> R) throws -> R {
        let c = try PostgresConnection(connection, credentials: credentials, role: role)
        defer { c.close() }
        return try body(c)
    }

    /// Runs statements (no result rows wanted).
    public func execute(_ sql: String, object: String? = nil) throws {
        try wrap(object, sql) { _ = try raw.exec(sql) }
    }

    /// Runs a query and returns every row, typed as the source would type them (small results only).
    public func query(_ sql: String, _ params: [String?] = [], object: String? = nil) throws -> [[Value]] {
        try wrap(object, sql) {
            let r = params.isEmpty ? try raw.exec(sql) : try raw.exec(sql, params: params)
            let decoders = (0..<r.columnCount).map { PGType.decoder(for: r.columnType($0)) }
            return (0..<r.rowCount).map { row in
                (0..<r.columnCount).map { c in r.isNull(row, c) ? .null : decoders[c].decode(r.bytes(row, c)) }
            }
        }
    }

    /// Quotes an identifier; `schema.table` becomes `"schema"."table"` (a dotted name is split once).
    public func quoteName(_ name: String) -> String {
        if name.hasPrefix("\"") { return name }
        return name.split(separator: ".", maxSplits: 1).map { raw.escapeIdentifier(String($0)) }.joined(separator: ".")
    }

    public func quoteIdentifier(_ name: String) -> String { raw.escapeIdentifier(name) }
    public func quoteLiteral(_ s: String) -> String { raw.escapeLiteral(s) }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    public func transaction<R>(_ body: () throws -> R) throws -> R {
        try execute("BEGIN")
        do {
            let r = try body()
            try execute("COMMIT")
            return r
        } catch {
            if raw.isOpen { _ = try? raw.exec("ROLLBACK") }
            throw error
        }
    }

    /// Translates a raw failure into an `AurumError` naming where it happened.
    func wrap<R>(_ object: String?, _ sql: String, _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let e as RawPGError {
            throw error(e, object: object, sql: sql)
        }
    }

    func error(_ e: RawPGError, object: String?, sql: String? = nil) -> AurumError {
        var msg = "PostgreSQL"
        if let object { msg += " \(object)" }
        msg += " at \(endpoint): \(e.message)"
        if let s = e.sqlState { msg += " [SQLSTATE \(s)]" }
        if let d = e.detail { msg += " — \(d)" }
        return AurumError(role, Secrets.scrub(msg, secrets), hint: e.hint.map { Secrets.scrub($0, secrets) })
    }
}
