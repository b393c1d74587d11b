import Foundation
import Testing
@testable import Aurum

/// `aurum integrate` with an `api` source, end to end through the built binary.
@Suite struct APICLITests {
    let server: APITestServer
    init() throws { server = try APITestServer.shared() }

    func config(_ dir: TempDir, _ sources: String, output: String = "out/customers.csv", extra: String = "") -> String {
        dir.write("integration.json", """
            {"integration_config": {
              "data_sources": [\(sources)],
              \(extra)
              "output_config": {"output_format": "csv", "output_destination": "\(output)"}}}
            """)
    }

    @Test func integrateJoinsAPaginatedAPIWithACSV() throws {
        let dir = TempDir()
        dir.write("crm.csv", "customer_id,segment\n" + (1 ... 25).map { "\($0),\($0 % 2 == 0 ? "B2B" : "B2C")" }.joined(separator: "\n") + "\n")
        let run = runID()
        let c = config(dir, """
            {"source_name": "crm", "source_type": "csv", "connection_string": "crm.csv"},
            {"source_name": "shop", "source_type": "api", "connection_string": "\(server.base)/auto-cursor?run=\(run)"}
            """, extra: """
            "integration_strategy": {"join_type": "inner", "merge_strategy": "union", "conflict_resolution": "first",
              "join_keys": [{"source1_key": "customer_id", "source2_key": "shop.id"}]},
            """)
        let r = try runProcess(aurumBinary(), ["integrate", c, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty, "\(r.stderr)")
        let report = try JSONText.parse(r.stdout)
        #expect(report["integration_report"]?["total_records"] == .int(50))
        let rate = report["integration_report"]?["integration_metrics"]?["join_success_rate"]
        #expect(rate == .int(1) || rate == .double(1), "\(String(describing: rate))")
        #expect(report["integration_report"]?["successful_integrations"] == .int(50))
        let out = try #require(dir.read("out/customers.csv")).split(separator: "\n")
        #expect(out.count == 26)
        #expect(out.first?.contains("address.city") == true, "\(out.first ?? "")")
        #expect(out.contains { $0.hasPrefix("7,B2C,Customer 7,Lisbon,10007,") }, "\(out.prefix(3))")
        // The cursor pages: three requests, each cursor sent back once.
        #expect(try server.requests(run).count == 3)
    }

    @Test func authenticationFromTheEnvironmentAndARefusedKeyThatNeverShows() throws {
        let dir = TempDir()
        let c = config(dir, """
            {"source_name": "shop", "source_type": "api", "connection_string": "\(server.base)/auth/key",
             "authentication": {"api_key": "${AURUM_TEST_API_KEY}"}}
            """)
        let ok = try runProcess(aurumBinary(), ["integrate", c, "-q"], env: ["AURUM_TEST_API_KEY": "k3y-s3cret-123"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try JSONText.parse(ok.stdout)["integration_report"]?["total_records"] == .int(1))

        let refused = try runProcess(aurumBinary(), ["integrate", c, "-q"], env: ["AURUM_TEST_API_KEY": "wrong-key-777"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("error: \(server.base)/auth/key: page 1 of source 'shop': HTTP 401 Unauthorized: "
                                        + #"{"error": "invalid credentials ***"}"# + " (check the source's credentials)"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("wrong-key-777") && !refused.stdout.contains("wrong-key-777"))
        let w = try Warehouse(path: dir.file("aurum.db"))
        defer { w.close() }
        let errors = try w.db.query("SELECT error FROM run_steps WHERE error IS NOT NULL").map { "\($0)" }.joined()
        #expect(errors.contains("HTTP 401") && !errors.contains("wrong-key-777"), "\(errors)")
    }

    @Test func anHTMLPageFailsTheRunAndWritesNothing() throws {
        let dir = TempDir()
        let c = config(dir, #"{"source_name": "shop", "source_type": "api", "connection_string": "\#(server.base)/html"}"#)
        let r = try runProcess(aurumBinary(), ["integrate", c, "-q"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("error: \(server.base)/html: page 1 of source 'shop': the response is HTML, not JSON "
                                  + "(Content-Type: text/html; charset=utf-8); the page is titled 'Sign in - Example'"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("out/customers.csv")))
        let w = try Warehouse(path: dir.file("aurum.db"))
        defer { w.close() }
        #expect(try w.db.query("SELECT name, status FROM run_steps ORDER BY step_no") == [[.text("snapshot:shop"), .text("failed")]])
        #expect(try w.db.query("SELECT count(*) FROM sqlite_master WHERE name = 'src_shop'") == [[.integer(0)]])
    }

    @Test func validateReportsEveryBadOptionWithItsPath() throws {
        let dir = TempDir()
        let c = dir.write("catalog.yaml", """
            sources:
              - name: shop
                type: api
                connection: https://api.example.com/v1/customers
                options: {pagination: {type: offset, limit: many}, auth: bearer, timeout: -1}
            outputs: [{format: csv, path: out.csv}]
            """)
        let r = try runProcess(aurumBinary(), ["validate", c])
        #expect(r.status == 2)
        for line in ["sources[0].options.pagination.limit: expected a whole number, at least 1",
                     "sources[0].options.auth: bearer auth needs a token: set auth.token (or auth.api_key)",
                     "sources[0].options.timeout: expected a positive number of seconds"] {
            #expect(r.stderr.contains(line), "\(r.stderr)")
        }
    }
}
