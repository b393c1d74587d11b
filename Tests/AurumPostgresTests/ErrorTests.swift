import Foundation
import Testing
import Aurum
import AurumPostgres

@Suite(.enabled(if: PG.enabled, "PostgreSQL server not reachable (set CI=true to fail instead)"), .serialized)
struct ErrorTests {
    static let secret = "Sup3r-S3cret-pw!"

    func message(_ body: () throws -> Void) -> String {
        do { try body(); Issue.record("expected an error"); return "" } catch { return "\(error)" }
    }

    @Test func unreachableServerNamesHostPortAndDatabase() {
        let conn = "postgresql://\(PG.user):\(Self.secret)@127.0.0.1:1/\(PG.database)?connect_timeout=3"
        let m = message { _ = try PostgresRowReader(connection: conn, query: "t") }
        #expect(m.contains("127.0.0.1"))
        #expect(m.contains("port=1") || m.contains("port 1"))
        #expect(m.contains(PG.database))
        #expect(m.contains("Connection refused"))
        #expect(!m.contains(Self.secret))
        #expect(!m.contains("\n"))
        // The same through the target, and with the keyword form and credentials.
        let m2 = message { _ = try PostgresTable(connection: "host=127.0.0.1 port=1 dbname=\(PG.database) password=\(Self.secret)", table: "x") }
        #expect(m2.contains("127.0.0.1") && m2.contains("port=1") && m2.contains(PG.database))
        #expect(!m2.contains(Self.secret))
    }

    @Test func wrongPasswordNeverShowsThePassword() {
        let conn = "host=127.0.0.1 port=\(PG.port) dbname=\(PG.database)"
        let m = message { _ = try PostgresConnection(conn, credentials: Credentials(username: PG.user, password: Self.secret)) }
        #expect(m.contains("password authentication failed"))
        #expect(m.contains("127.0.0.1") && m.contains("port=\(PG.port)") && m.contains("dbname=\(PG.database)"))
        #expect(!m.contains(Self.secret))
        let uri = "postgresql://\(PG.user):\(Self.secret)@127.0.0.1:\(PG.port)/\(PG.database)"
        let m2 = message { _ = try PostgresConnection(uri) }
        #expect(m2.contains("password authentication failed"))
        #expect(!m2.contains(Self.secret))
        #expect(m2.contains("***"))  // the redacted connection string as the location
    }

    @Test func missingTableNamesTheTableAndWhere() {
        let m = message { _ = try PostgresRowReader(connection: PG.conninfo, query: "no_such_table_xyz") }
        #expect(m.contains("table no_such_table_xyz"))
        #expect(m.contains("relation \"no_such_table_xyz\" does not exist"))
        #expect(m.contains("dbname=\(PG.database)") && m.contains("port=\(PG.port)") && m.contains("host="))
        let q = message { _ = try PostgresRowReader(connection: PG.conninfo, query: "SELECT nope FROM pg_class") }
        #expect(q.contains("column \"nope\" does not exist"))
        #expect(q.contains("42703"))
    }

    @Test func missingCursorColumnIsNamed() throws {
        let m = message { _ = try PostgresRowReader(connection: PG.conninfo, query: "SELECT 1 AS a", cursor: "updated_at", watermark: "x") }
        #expect(m.contains("updated_at"))
    }
}
