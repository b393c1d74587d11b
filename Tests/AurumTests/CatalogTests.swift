import Foundation
import Testing
@testable import Aurum

@Suite struct CatalogTests {
    @Test func everyProblemIsReportedWithItsPathAndLine() throws {
        let dir = TempDir()
        dir.write("a.csv", "x\n1\n")
        let text = """
            sources:
              - name: a
                type: csv
                path: a.csv
              - name: b
                type: exel
                path: b.xlsx
              - name: c
                type: csv
                path: missing.csv
                delimeter: ";"
            rules:
              - {name: r, type: calculashun, expression: x}
            integration:
              join: outer
              keys: [{left: x, right: x}]
              merge: unify
            outputs:
              - {format: csv, path: out.csv}
            """
        var lines: [String] = []
        do {
            _ = try loadCatalog(dir, "catalog.yaml", text)
        } catch let e as AurumErrors {
            lines = e.errors.map(\.description)
        }
        let file = dir.file("catalog.yaml")
        #expect(lines.contains("\(file):6:11: sources[1].type: unknown source type 'exel' (did you mean 'excel'?)"), "\(lines)")
        #expect(lines.contains("\(file):11:5: sources[2].delimeter: unknown key 'delimeter' (did you mean 'delimiter'?)"), "\(lines)")
        #expect(lines.contains("\(file): sources[2].path: file not found: \(dir.file("missing.csv"))"), "\(lines)")
        #expect(lines.contains("\(file):13:21: rules[0].type: unknown rule type 'calculashun' (did you mean 'calculation'?)"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(file):17:10: integration.merge: unknown merge strategy 'unify'") }, "\(lines)")
    }

    @Test func theIntegrationConfigIsOneFormOfCatalog() throws {
        let dir = TempDir()
        dir.write("a.csv", "id\n1\n")
        dir.write("b.json", "[]")
        let c = try loadCatalog(dir, "c.json", """
            {"integration_config": {
              "data_sources": [
                {"source_name": "a", "source_type": "csv", "connection_string": "a.csv"},
                {"source_name": "b", "source_type": "json", "connection_string": "b.json", "query": "$.data.items"}],
              "integration_strategy": {"join_type": "left", "join_keys": [{"source1_key": "id", "source2_key": "b.id"}],
                                       "merge_strategy": "intersection", "conflict_resolution": "custom", "custom_resolution": "max(value)"},
              "transformation_rules": [
                {"rule_name": "g", "source_column": "a.gender", "target_column": "gender", "transformation_type": "mapping",
                 "transformation_logic": {"M": "male", "F": "female"}},
                {"rule_name": "u", "source_column": "name", "transformation_type": "formatting", "transformation_logic": "upper"}],
              "data_quality_checks": {"duplicate_check": true, "null_check": false, "format_check": true, "business_rule_check": false},
              "output_config": {"output_format": "sql", "output_destination": "sqlite:///out/db.sqlite?table=customers"}}}
            """)
        #expect(c.dialect == .integrationConfig)
        #expect(c.sources.map(\.name) == ["a", "b"])
        #expect(c.sources[1].recordPath == ["data", "items"])
        #expect(c.integration?.join == .left)
        #expect(c.integration?.merge == .intersection)
        #expect(c.integration?.conflict == .custom("max(value)"))
        #expect(c.rules[0].source == "a" && c.rules[0].sourceColumn == "gender")
        #expect(c.rules[0].valueMap?.map(\.0) == ["M", "F"])
        #expect(c.rules[1].expression == "upper(\"name\")")
        #expect(c.quality.duplicates && !c.quality.nulls && c.quality.formats && !c.quality.businessRules)
        #expect(c.outputs[0].format == .sqlite)
        #expect(c.outputs[0].table == "customers")
        #expect(c.outputs[0].path == dir.file("out/db.sqlite"))
        #expect(c.warehouse == dir.file("aurum.db"))
    }

    @Test func validateExitsWith2AndNamesTheProblem() throws {
        let dir = TempDir()
        let p = dir.write("c.json", #"{"data_sources": [{"source_name": "a", "source_type": "csv", "connection_string": "nope.csv"}], "output_config": {"output_format": "csv", "output_destination": "o.csv"}}"#)
        let r = try runAurum(["validate", p])
        #expect(r.status == 2)
        #expect(r.stderr.contains("data_sources[0].connection_string: file not found"))
        let ok = dir.write("ok.csv", "a\n1\n")
        _ = ok
        let good = dir.write("good.json", #"{"data_sources": [{"source_name": "a", "source_type": "csv", "connection_string": "ok.csv"}], "output_config": {"output_format": "csv", "output_destination": "o.csv"}}"#)
        let r2 = try runAurum(["validate", good])
        #expect(r2.status == 0)
        #expect(r2.stdout.contains("valid (integration config, 1 source(s)"))
    }

    @Test func syntaxErrorsNameTheLine() throws {
        let dir = TempDir()
        #expect {
            _ = try loadCatalog(dir, "bad.yaml", "sources:\n  - name: a\n   type: csv\n")
        } throws: { error in
            "\(error)".contains("bad.yaml:3:") && "\(error)".contains("syntax error")
        }
    }

    @Test func theSchemaIsValidJSONAndNamesBothDialects() throws {
        let j = try JSONText.parse(CatalogSchema.json)
        #expect(j["$defs"]?["integrationConfig"] != nil)
        #expect(j["$defs"]?["catalog"] != nil)
    }
}
