import Foundation
@_exported import AurumTestSupport
import Testing
import Aurum
import AurumPostgres

/// The test server, from PGHOST/PGPORT/PGUSER/PGDATABASE/PGPASSWORD (defaults: the Unix socket
/// /var/run/postgresql, port 5432, user root, database = user). When it is unreachable the tests
/// are skipped, except when CI is set: then they run and fail on the connection error.
enum PG {
    static var env: [String: String] { TestServers.env }
    static var host: String { TestServers.pgHost }
    static var port: String { TestServers.pgPort }
    static var user: String { TestServers.pgUser }
    static var database: String { TestServers.pgDatabase }
    /// The password for TCP tests (the server script sets it; `scripts/servers/postgres.sh`).
    static var password: String { TestServers.pgPassword }
    static var ci: Bool { TestServers.ci }

    static var conninfo: String { TestServers.pgConninfo }

    static let reachable: Bool = {
        do { try PostgresConnection.with(conninfo) { _ in }; return true } catch { return false }
    }()

    /// Enabled when the server answers, or always under CI (so that a missing server fails).
    static var enabled: Bool { reachable || ci }
}

/// A schema of its own for one test, dropped at the end.
final class TestSchema {
    let name: String
    let conn: PostgresConnection
    init() throws {
        name = "aurum_t_" + UUID().uuidString.prefix(8).lowercased()
        conn = try PostgresConnection(PG.conninfo)
        try conn.execute("CREATE SCHEMA \(name)")
    }
    deinit {
        try? conn.execute("DROP SCHEMA \(name) CASCADE")
        conn.close()
    }
    func t(_ table: String) -> String { "\(name).\(table)" }
    func rows(_ sql: String) throws -> [[Value]] { try conn.query(sql) }
}

/// Rows from memory, as the pipeline's warehouse cursor would hand them.
final class ArrayCursor: RowCursor {
    let columns: [String]
    var rows: [[Value]]
    var i = 0
    init(_ columns: [String], _ rows: [[Value]]) { self.columns = columns; self.rows = rows }
    func next() throws -> [Value]? {
        guard i < rows.count else { return nil }
        defer { i += 1 }
        return rows[i]
    }
}

/// The same rows handed out in place (`RawRowCursor`), as the warehouse's SQLite cursor and the
/// streamed load's batch cursor do: the COPY encoder's other path.
final class RawArrayCursor: RawRowCursor {
    let columns: [String]
    let rows: [[Value]]
    var i = -1
    /// The current row's text and blob bytes, alive until the cursor moves.
    private var buffers: [UnsafeMutableBufferPointer<UInt8>] = []
    init(_ columns: [String], _ rows: [[Value]]) { self.columns = columns; self.rows = rows }
    deinit { buffers.forEach { $0.deallocate() } }
    func advance() throws -> Bool {
        i += 1
        buffers.forEach { $0.deallocate() }
        buffers = []
        guard i < rows.count else { return false }
        for v in rows[i] {
            var b: [UInt8] = []
            if case .text(let t) = v { b = Array(t.utf8) } else if case .blob(let x) = v { b = x }
            let p = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, b.count))
            _ = p.initialize(from: b)
            buffers.append(p)
        }
        return true
    }
    func field(_ c: Int) -> RawField {
        switch rows[i][c] {
        case .null: .null
        case .integer(let x): .integer(x)
        case .real(let d): .real(d)
        case .text(let t): .text(UnsafeBufferPointer(start: buffers[c].baseAddress, count: t.utf8.count))
        case .blob(let b): .blob(UnsafeRawBufferPointer(start: buffers[c].baseAddress, count: b.count))
        }
    }
    func next() throws -> [Value]? {
        guard try advance() else { return nil }
        return rows[i]
    }
}

/// Generated rows (for big loads without holding them).
final class GeneratedCursor: RowCursor {
    let columns: [String]
    let count: Int
    let make: (Int) -> [Value]
    var i = 0
    init(_ columns: [String], count: Int, _ make: @escaping (Int) -> [Value]) { self.columns = columns; self.count = count; self.make = make }
    func next() throws -> [Value]? {
        guard i < count else { return nil }
        defer { i += 1 }
        return make(i)
    }
}

func readAll(_ r: RowReader) throws -> [[Value]] {
    defer { r.close() }
    var out: [[Value]] = []
    while let item = try r.next() {
        if case .row(let v, _) = item { out.append(v) }
    }
    return out
}


/// A SourceSpec as the catalog loader makes it (its memberwise initializer is internal to Aurum).
func postgresSourceSpec(connection: String, query: String, options: [String: String] = [:]) throws -> SourceSpec {
    AurumPostgres.register()
    var yaml = """
        sources:
          - name: pg
            type: postgresql
            connection: "\(connection)"
            query: "\(query)"

        """
    if !options.isEmpty {
        yaml += "    options:\n" + options.sorted { $0.key < $1.key }.map { "      \($0.key): \"\($0.value)\"\n" }.joined()
    }
    yaml += "outputs:\n  - {format: csv, path: out.csv}\n"
    let catalog = try CatalogLoader.parse(text: yaml, file: "test.yaml", baseDirectory: NSTemporaryDirectory())
    return catalog.sources[0]
}
