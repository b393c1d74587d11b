import Foundation
import Testing
import Aurum
import AurumPostgres

/// End to end: catalogs run through `Pipeline.run` with the connector registered.
@Suite(.enabled(if: PG.enabled, "PostgreSQL server not reachable (set CI=true to fail instead)"), .serialized)
struct PipelineTests {
    @Test func csvToPostgresAndPostgresToCSV() throws {
        AurumPostgres.register()
        let s = try TestSchema()
        let dir = TempDir()
        dir.write("people.csv", "id,name,score\n1,Ann,10.5\n2,Bob,20\n3,\"Cy, Jr.\",\n")
        // Over TCP with the password in the catalog's auth block (never in messages or the report).
        let uri = "postgresql://127.0.0.1:\(PG.port)/\(PG.database)"
        let load = dir.write("load.yaml", """
            warehouse: load.db
            sources:
              - name: people
                type: csv
                path: people.csv
            outputs:
              - format: postgresql
                connection: "\(uri)"
                auth: {username: \(PG.user), password: "\(PG.password)"}
                table: \(s.t("people"))
                options: {key: id}
            """)
        let out1 = try Pipeline.run(try CatalogLoader.load(path: load))
        #expect(out1.succeeded)
        #expect(!out1.report.compact.contains(PG.password))
        let rows = try s.rows("SELECT id::text, name, score::text FROM \(s.t("people")) ORDER BY id::text")
        #expect(rows == [[.text("1"), .text("Ann"), .text("10.5")], [.text("2"), .text("Bob"), .text("20.0")], [.text("3"), .text("Cy, Jr."), .text("")]])
        #expect(try s.rows("SELECT count(*) FROM pg_indexes WHERE schemaname = '\(s.name)' AND tablename = 'people'") == [[.integer(1)]])

        // And back: a PostgreSQL source (a SELECT) into a CSV file.
        try s.conn.execute("CREATE TABLE \(s.t("orders")) (oid int, cust int, total numeric(10,2), placed timestamptz, paid bool); INSERT INTO \(s.t("orders")) VALUES (10, 1, 99.90, '2024-03-01 10:00:00+00', true), (11, 2, 5.00, '2024-03-02 11:30:00+01', false)")
        let read = dir.write("read.yaml", """
            warehouse: read.db
            sources:
              - name: orders
                type: postgresql
                connection: "\(PG.conninfo)"
                query: SELECT * FROM \(s.t("orders")) ORDER BY oid
            outputs:
              - format: csv
                path: out/orders.csv
            """)
        let out2 = try Pipeline.run(try CatalogLoader.load(path: read))
        #expect(out2.succeeded)
        #expect(dir.read("out/orders.csv") == "oid,cust,total,placed,paid\n10,1,99.90,2024-03-01T10:00:00Z,1\n11,2,5.00,2024-03-02T10:30:00Z,0\n")
    }

    @Test func aPipelineErrorNamesTheServerAndHidesThePassword() throws {
        AurumPostgres.register()
        let dir = TempDir()
        let secret = "Pipeline-Secret-42"
        let cat = dir.write("bad.yaml", """
            warehouse: w.db
            sources:
              - name: gone
                type: postgresql
                connection: "postgresql://\(PG.user):\(secret)@127.0.0.1:\(PG.port)/\(PG.database)"
                query: no_such_table
            outputs:
              - {format: csv, path: out.csv}
            """)
        do {
            _ = try Pipeline.run(try CatalogLoader.load(path: cat))
            Issue.record("expected a failure")
        } catch {
            let m = "\(error)"
            #expect(m.contains("127.0.0.1"))
            #expect(!m.contains(secret))
        }
    }
}
