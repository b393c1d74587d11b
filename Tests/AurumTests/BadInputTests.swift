import Foundation
import Testing
@testable import Aurum

/// Bad input: a clear message naming the file, line or config path; the run either goes on with the
/// bad rows quarantined, or stops before writing anything.
@Suite struct BadInputTests {
    func config(_ dir: TempDir, sources: String, strategy: String = "", rules: String = "[]") -> String {
        dir.write("c.json", """
            {"data_sources": \(sources), \(strategy.isEmpty ? "" : "\"integration_strategy\": \(strategy),")
             "transformation_rules": \(rules),
             "output_config": {"output_format": "csv", "output_destination": "out/r.csv"}}
            """)
    }

    @Test func aMalformedJSONFileStopsTheRunBeforeAnythingIsWritten() throws {
        let dir = TempDir()
        dir.write("a.json", "[{\"id\": 1},\n {\"id\": 2,, }]")
        let c = config(dir, sources: #"[{"source_name": "a", "source_type": "json", "connection_string": "a.json"}]"#)
        let r = try runAurum(["integrate", c, "--quiet"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("a.json:2:11:"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir.file("out/r.csv")))
        let w = try Warehouse(path: dir.file("aurum.db"))
        defer { w.close() }
        #expect(try w.db.query("SELECT status, error IS NOT NULL FROM runs") == [[.text("failed"), .integer(1)]])
        #expect(try w.db.query("SELECT name, status FROM run_steps") == [[.text("snapshot:a"), .text("failed")]])
        #expect(try !w.db.tableExists("src_a"))
    }

    @Test func anUnknownColumnInARuleNamesTheRuleAndSuggestsTheColumn() throws {
        let dir = TempDir()
        dir.write("a.csv", "id,price,quantity\n1,2,3\n")
        let c = config(dir, sources: #"[{"source_name": "a", "source_type": "csv", "connection_string": "a.csv"}]"#,
                       rules: #"[{"rule_name": "total", "source_column": "a.price", "target_column": "total", "transformation_type": "calculation", "transformation_logic": "pricee * quantity"}]"#)
        let r = try runAurum(["integrate", c, "--quiet"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("transformation_rules[0].transformation_logic: unknown column 'pricee' (rule 'total', source 'a') (did you mean 'price'?)"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("out/r.csv")))
    }

    @Test func anUnknownFunctionAndAnInvalidExpressionAreNamed() throws {
        let dir = TempDir()
        dir.write("a.csv", "id,email\n1,x@y.org\n")
        let c1 = config(dir, sources: #"[{"source_name": "a", "source_type": "csv", "connection_string": "a.csv"}]"#,
                        rules: #"[{"rule_name": "e", "source_column": "a.email", "transformation_type": "formatting", "transformation_logic": "normalise_email(email)"}]"#)
        let r1 = try runAurum(["integrate", c1, "--quiet"])
        #expect(r1.status == 1)
        #expect(r1.stderr.contains("unknown function 'normalise_email'") && r1.stderr.contains("did you mean 'normalize_email'?"), "\(r1.stderr)")
        let c2 = config(dir, sources: #"[{"source_name": "a", "source_type": "csv", "connection_string": "a.csv"}]"#,
                        rules: #"[{"rule_name": "e", "source_column": "a.email", "transformation_type": "formatting", "transformation_logic": "upper(email"}]"#)
        let r2 = try runAurum(["integrate", c2, "--quiet"])
        #expect(r2.status == 1)
        #expect(r2.stderr.contains("transformation_rules[0].transformation_logic: unbalanced '(' in the expression"), "\(r2.stderr)")
    }

    @Test func aJoinKeyMissingOnOneSideIsNamed() throws {
        let dir = TempDir()
        dir.write("a.csv", "id,x\n1,2\n")
        dir.write("b.csv", "ref,y\n1,3\n")
        let c = config(dir, sources: #"[{"source_name": "a", "source_type": "csv", "connection_string": "a.csv"}, {"source_name": "b", "source_type": "csv", "connection_string": "b.csv"}]"#,
                       strategy: #"{"join_type": "inner", "join_keys": [{"source1_key": "id", "source2_key": "rf"}], "merge_strategy": "union", "conflict_resolution": "first"}"#)
        let r = try runAurum(["integrate", c, "--quiet"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("integration_strategy.join_keys[0].source2_key: join key 'rf' is not a column of source 'b' (did you mean 'ref'?)"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("out/r.csv")))
    }

    @Test func anUnknownSourceTypeIsAConfigError() throws {
        let dir = TempDir()
        let c = config(dir, sources: #"[{"source_name": "a", "source_type": "xls", "connection_string": "a.xls"}]"#)
        let r = try runAurum(["integrate", c])
        #expect(r.status == 2)
        #expect(r.stderr.contains("data_sources[0].source_type: unknown source type 'xls'"), "\(r.stderr)")
    }

    /// rows read = rows staged + rows quarantined, source by source, on input full of bad rows.
    @Test func everyInputRowIsAccountedFor() throws {
        let dir = TempDir()
        var csv = "id,name,city\n"
        var expectedBad = 0
        for i in 1...500 {
            switch i % 7 {
            case 0: csv += "\(i),\"bad\"x,c\n"; expectedBad += 1
            case 3: csv += "\(i),ragged\n"; expectedBad += 1
            case 5: csv += "\(i),\"multi\nline\",c\n"
            default: csv += "\(i),n\(i),c\(i % 3)\n"
            }
        }
        dir.write("a.csv", csv)
        var nd = ""
        for i in 1...300 { nd += i % 11 == 0 ? "{\"id\": \(i), broken\n" : "{\"id\": \(i)}\n" }
        dir.write("b.ndjson", nd)
        let c = config(dir, sources: #"[{"source_name": "a", "source_type": "csv", "connection_string": "a.csv"}, {"source_name": "b", "source_type": "json", "connection_string": "b.ndjson"}]"#,
                       strategy: #"{"join_type": "outer", "join_keys": [{"source1_key": "id", "source2_key": "id"}], "merge_strategy": "union", "conflict_resolution": "first"}"#)
        let outcome = try Pipeline.run(try CatalogLoader.load(path: c))
        let w = try Warehouse(path: dir.file("aurum.db"))
        defer { w.close() }
        let rows = try w.db.query("SELECT source, rows_read, rows_staged, rows_quarantined FROM snapshots WHERE run_id = ? ORDER BY source", [.integer(outcome.runID)])
        #expect(rows == [
            [.text("a"), .integer(500), .integer(Int64(500 - expectedBad)), .integer(Int64(expectedBad))],
            [.text("b"), .integer(300), .integer(273), .integer(27)],
        ])
        for r in rows {
            let q = try w.db.scalar("SELECT count(*) FROM quarantine WHERE run_id = ? AND source = ?", [.integer(outcome.runID), r[0]])
            #expect(q == r[3])
            let staged = try w.db.scalar("SELECT count(*) FROM \(sqlIdent("src_" + (r[0].textValue ?? "")))")
            #expect(staged == r[2])
        }
        #expect(outcome.report["integration_report"]?["total_records"]?.intValue == 800)
    }
}
