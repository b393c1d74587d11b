import Foundation
import Testing
@testable import Aurum

/// End-to-end runs of the built `aurum` binary: stdout, stderr and exit codes.
@Suite struct CLITests {
    /// The README's first command, on a copy of the example.
    @Test func integratePrintsTheOutputObjectOfTheSpecification() throws {
        let dir = TempDir()
        for f in ["crm.csv", "shop.json", "billing.db", "integration.json"] {
            try FileManager.default.copyItem(atPath: Repo.root + "/examples/customers/" + f, toPath: dir.file(f))
        }
        let r = try runAurum(["integrate", dir.file("integration.json")])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try JSONText.parse(r.stdout)
        for key in ["integrated_data_path", "integration_report", "data_lineage", "processing_time"] {
            #expect(report[key] != nil, "missing \(key)")
        }
        #expect(report["integration_report"]?["total_records"]?.intValue == 23)
        #expect(report["integrated_data_path"]?.stringValue == dir.file("out/customers"))
        #expect(r.stderr.contains("✓ integrate"))
        #expect(FileManager.default.fileExists(atPath: dir.file("out/customers/country=US/part-00000.csv")))

        let quiet = try runAurum(["integrate", dir.file("integration.json"), "--quiet"])
        #expect(quiet.status == 0)
        #expect(quiet.stderr.isEmpty, "\(quiet.stderr)")
        #expect(try JSONText.parse(quiet.stdout)["data_lineage"]?["transformation_history"] != nil)
    }

    @Test func quarantineListShowsReasonsAndHidesRowsUnlessAsked() throws {
        let dir = TempDir()
        dir.write("a.csv", "id,secret\n1,x\n2,top-secret-value,extra\n")
        let c = dir.write("c.json", #"{"data_sources": [{"source_name": "a", "source_type": "csv", "connection_string": "a.csv"}], "output_config": {"output_format": "csv", "output_destination": "o.csv"}}"#)
        #expect(try runAurum(["integrate", c, "-q"]).status == 0)
        let list = try runAurum(["quarantine", "list", "--warehouse", dir.file("aurum.db")])
        #expect(list.status == 0)
        #expect(list.stdout == "run 1 a:3 [snapshot/parse] expected 2 fields, found 3\n")
        #expect(!list.stdout.contains("top-secret-value"))
        let raw = try runAurum(["quarantine", "list", "--warehouse", dir.file("aurum.db"), "--raw", "--json"])
        #expect(raw.stdout.contains("top-secret-value"))
    }

    @Test func schemaPrintsJSONSchema() throws {
        let r = try runAurum(["schema"])
        #expect(r.status == 0)
        #expect(try JSONText.parse(r.stdout)["$schema"]?.stringValue == "https://json-schema.org/draft/2020-12/schema")
    }

    @Test func runFailureExitsWith1AndRecordsTheStep() throws {
        let dir = TempDir()
        dir.write("a.csv", "id\n1\n")
        let c = dir.write("c.yaml", """
            sources: [{name: a, type: csv, path: a.csv}]
            rules: [{name: r, type: calculation, source: a, target: t, expression: "nope(id)"}]
            outputs: [{format: csv, path: out.csv}]
            """)
        let r = try runAurum(["run", c, "--quiet"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("rules[0].expression: unknown function 'nope'"), "\(r.stderr)")
        let w = try Warehouse(path: dir.file("aurum.db"))
        defer { w.close() }
        #expect(try w.db.query("SELECT name, status FROM run_steps ORDER BY step_no") == [
            [.text("snapshot:a"), .text("succeeded")], [.text("transform:a"), .text("failed")]])
    }
}
