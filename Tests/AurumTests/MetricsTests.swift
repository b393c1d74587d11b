import Foundation
import Testing
@testable import Aurum

/// The report's metrics on a case worked by hand (README, "The run report").
@Suite struct MetricsTests {
    @Test func reportMetricsMatchTheHandWorkedCase() throws {
        let dir = TempDir()
        dir.write("crm.csv", "id,name,city,score\n1,Ann,Oslo,10\n2,Bob,Rome,20\n3,Cy,Oslo,30\n3,Cy,Oslo,30\n4,Dee,,40\n")
        dir.write("shop.csv", "cid,name,spend\n1,Ann B,5\n3,Cyrus,7\n5,Eve,9\n")
        let config = dir.write("config.json", """
            {"integration_config": {
              "data_sources": [
                {"source_name": "crm", "source_type": "csv", "connection_string": "crm.csv"},
                {"source_name": "shop", "source_type": "csv", "connection_string": "shop.csv"}],
              "integration_strategy": {"join_type": "outer", "join_keys": [{"source1_key": "id", "source2_key": "cid"}],
                                       "merge_strategy": "union", "conflict_resolution": "first"},
              "transformation_rules": [
                {"rule_name": "double", "target_column": "double", "transformation_type": "calculation", "transformation_logic": "score * 2"},
                {"rule_name": "low_score", "source_column": "score", "transformation_type": "validation", "transformation_logic": "score < 35"}],
              "data_quality_checks": {"duplicate_check": true, "null_check": true, "format_check": false, "business_rule_check": true},
              "output_config": {"output_format": "csv", "output_destination": "out/result.csv"}}}
            """)
        let outcome = try Pipeline.run(try CatalogLoader.load(path: config))
        let r = outcome.report
        let rep = r["integration_report"]!
        // crm: 5 read; Dee fails low_score (quarantined); one of the two Cy rows is a duplicate.
        #expect(rep["sources_processed"]?.intValue == 2)
        #expect(rep["total_records"]?.intValue == 8)
        #expect(rep["successful_integrations"]?.intValue == 6)        // crm 1,2,3 + shop 1,3,5
        #expect(rep["failed_integrations"]?.intValue == 1)            // Dee
        let q = rep["data_quality_summary"]!
        #expect(q["duplicates_removed"]?.intValue == 1)
        #expect(q["null_values_handled"]?.intValue == 1)              // Dee's empty city
        #expect(q["format_issues_resolved"]?.intValue == 0)
        #expect(q["business_rule_failures"]?.intValue == 1)
        #expect(q["quarantined_records"]?.intValue == 1)
        let m = rep["integration_metrics"]!
        #expect(m["join_success_rate"]?.doubleValue == 0.6667)        // 2 of crm's 3 rows have a partner
        #expect(m["data_overlap_percentage"]?.doubleValue == 50.0)    // {1,3} of {1,2,3,5}
        #expect(m["transformation_success_rate"]?.doubleValue == 0.9) // 10 applications, 1 failed validation
        #expect(r["data_lineage"]?["source_mapping"]?["id"] == .array([.string("crm.id"), .string("shop.cid")]))
        #expect(r["data_lineage"]?["source_mapping"]?["double"] == .array([.string("crm.score")]))
        #expect(dir.read("out/result.csv") == "id,name,city,score,double,spend\n1,Ann,Oslo,10,20,5\n2,Bob,Rome,20,40,\n3,Cy,Oslo,30,60,7\n5,Eve,,,,9\n")
        // Every row read is staged or quarantined.
        let w = try Warehouse(path: dir.file("aurum.db"))
        defer { w.close() }
        let snap = try w.db.query("SELECT sum(rows_read), sum(rows_staged), sum(rows_quarantined) FROM snapshots WHERE run_id = ?", [.integer(outcome.runID)])[0]
        #expect(snap == [.integer(8), .integer(8), .integer(0)])
        let quarantined = try w.db.query("SELECT source, step, line, rule FROM quarantine")
        #expect(quarantined == [[.text("crm"), .text("quality"), .integer(6), .text("low_score")]])
    }
}
