@testable import Aurum
import AurumTestSupport
import Foundation
import Testing

/// Sync of integrated rows (key integration), and the catalog fields `name`, `sync`, `key`.
@Suite struct SyncCatalogTests {
    static let crm = """
        customer_id,name,city
        1,Ann,Oslo
        2,Bob,Rome
        3,Cy,Lima

        """
    static let billing = """
        customer_ref,balance
        1,10
        2,20
        3,30

        """

    static let catalog = """
        version: 1
        sources:
          - {name: crm, type: csv, path: crm.csv}
          - {name: billing, type: csv, path: billing.csv}
        integration:
          join: outer
          keys: [{left: customer_id, right: billing.customer_ref}]
        outputs:
          - {format: sqlite, path: out/master.db, table: customers, sync: true}
          - {format: csv, path: out/customers.csv}
        """

    @Test func integratedRowsSyncByTheJoinKey() throws {
        let dir = TempDir("sync-integrated")
        dir.write("crm.csv", Self.crm)
        dir.write("billing.csv", Self.billing)
        let path = dir.write("catalog.yaml", Self.catalog)
        let c = try CatalogLoader.load(path: path)
        #expect(c.outputs.map(\.name) == ["customers.sqlite", "customers.csv"])
        #expect(c.outputs[0].key == ["customer_id"] && c.outputs[0].sync && !c.outputs[1].sync)
        let first = try Pipeline.run(c)
        guard case .array(let syncs)? = first.report["sync"] else { Issue.record("no sync in the report"); return }
        #expect(syncs.first?["inserted"]?.compact == "3" && syncs.first?["full"]?.compact == "true")
        // Bob's balance changes, Cy leaves billing (the outer join keeps Cy, without a balance), Dee arrives.
        dir.write("billing.csv", "customer_ref,balance\n1,10\n2,25\n")
        dir.write("crm.csv", Self.crm + "4,Dee,Kyiv\n")
        let second = try Pipeline.run(c)
        guard case .array(let s2)? = second.report["sync"] else { Issue.record("no sync in the report"); return }
        #expect(s2.first?.compact == JSON.object([("name", .string("customers.sqlite")), ("format", .string("sqlite")),
                                                  ("location", .string("sqlite:///\(dir.file("out/master.db"))?table=customers")), ("full", .bool(false)),
                                                  ("inserted", .int(1)), ("updated", .int(2)), ("deleted", .int(0)), ("unchanged", .int(1)),
                                                  ("data_run", .int(second.runID))]).compact)
        let db = try SQLiteDatabase(path: dir.file("out/master.db"))
        defer { db.close() }
        let rows = try db.query("SELECT customer_id, name, city, balance FROM customers ORDER BY customer_id").map { $0.map { $0.textValue ?? "NULL" }.joined(separator: "|") }
        #expect(rows == ["1|Ann|Oslo|10", "2|Bob|Rome|25", "3|Cy|Lima|NULL", "4|Dee|Kyiv|NULL"])
        // The run ledger has the sync step with its counts: 4 rows in, 3 written.
        let w = try Warehouse(path: dir.file("aurum.db"))
        defer { w.close() }
        let step = try w.db.query("SELECT records_in, records_out FROM run_steps WHERE run_id = ? AND name = 'sync:customers.sqlite'", [.integer(second.runID)])
        #expect(step.first == [.integer(4), .integer(3)])
        let log = try w.db.query("SELECT inserted, updated, deleted, unchanged, full FROM sync_log WHERE run_id = ?", [.integer(second.runID)])
        #expect(log.first == [.integer(1), .integer(2), .integer(0), .integer(1), .integer(0)])
    }

    func errors(_ text: String) -> [String] {
        let dir = TempDir("sync-catalog")
        dir.write("a.csv", "id,x\n1,a\n")
        let path = dir.write("catalog.yaml", text)
        do {
            _ = try CatalogLoader.load(path: path)
            return []
        } catch let e as AurumErrors {
            // Without the file and line: `outputs[0].key: message`.
            return e.errors.map { $0.description.replacingOccurrences(of: #"^.*catalog\.yaml(:\d+:\d+)?: "#, with: "", options: .regularExpression) }
        } catch {
            return ["\(error)"]
        }
    }

    @Test func aSyncOutputNeedsAKey() {
        #expect(errors("""
            sources: [{name: a, type: csv, path: a.csv}]
            outputs: [{format: csv, path: out.csv, sync: true}]
            """) == ["outputs[0].key: a sync output needs a key, and integrated rows have none by default (name the column(s) that identify a row: key: [id])"])
        // The source's key is the integrated rows' key when there is one source.
        #expect(errors("""
            sources: [{name: a, type: csv, path: a.csv, key: id}]
            outputs: [{format: csv, path: out.csv, sync: true}]
            """) == [])
        #expect(errors("""
            sources: [{name: a, type: csv, path: a.csv}]
            outputs: [{format: csv, path: out.csv, sync: yes please}]
            """) == ["outputs[0].sync: expected true or false, found 'yes please'"])
    }

    @Test func outputNamesAreUniqueAndStable() throws {
        #expect(errors("""
            sources: [{name: a, type: csv, path: a.csv, key: id}]
            outputs: [{format: csv, path: one.csv, name: x}, {format: json, path: two.json, name: x}]
            """) == ["outputs[1].name: duplicate output name 'x' (also outputs[0])"])
        let dir = TempDir("sync-names")
        dir.write("a.csv", "id,x\n1,a\n")
        let c = try CatalogLoader.load(path: dir.write("catalog.yaml", """
            sources: [{name: a, type: csv, path: a.csv, key: id}]
            outputs:
              - {format: csv, path: out/customers.csv}
              - {format: json, path: out/customers.json}
              - {format: sqlite, path: out/m.db, table: accounts}
              - {format: csv, path: out/by_day/, partition: {by: x, type: category}}
              - {format: ndjson, path: out/accounts.ndjson, name: feed}
            """))
        #expect(c.outputs.map(\.name) == ["customers.csv", "customers.json", "accounts", "by_day", "feed"])
    }

    @Test func integrationConfigOutputTakesSyncFields() throws {
        let dir = TempDir("sync-config")
        dir.write("a.csv", "id,x\n1,a\n")
        let c = try CatalogLoader.load(path: dir.write("config.json", """
            {"data_sources": [{"source_name": "a", "source_type": "csv", "connection_string": "a.csv", "key": "id"}],
             "output_config": {"output_format": "sql", "output_destination": "sqlite:///out.db?table=t", "sync": true, "name": "master"}}
            """))
        #expect(c.outputs[0].name == "master" && c.outputs[0].sync && c.outputs[0].key == ["id"])
    }
}
