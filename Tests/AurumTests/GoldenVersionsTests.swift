import Foundation
import Testing
@testable import Aurum

/// Golden record versions: a run sequence with a source change, a merge, a split, a steward
/// decision and a retirement; the state at every past run; `aurum audit golden`.
@Suite struct GoldenVersionsTests {
    // MatchingTests' two sources and its hand-set model.
    static let crm = MatchingTests.crm, shop = MatchingTests.shop
    static let catalog = MatchingTests.catalog(match: MatchingTests.handSet)

    /// The golden table after each run: golden_id, then the attributes.
    typealias Captured = [Int64: [[Value]]]

    /// Seven runs: 1 first; 2 C3's e-mail changes; 3 S3 gets C5's e-mail (ids 4 and 5 merge);
    /// 4 S1's surname changes (it splits off id 1); 5 a steward must-link of C3 and C4 (ids 2 and 3
    /// merge); 6 S1 is deleted (its id retires); 7 nothing changes.
    static func runSequence() throws -> (TempDir, Captured) {
        let dir = TempDir("golden-versions")
        var crm = Self.crm, shop = Self.shop
        dir.write("crm.csv", crm)
        dir.write("shop.csv", shop)
        let catalog = try loadCatalog(dir, "catalog.yaml", Self.catalog)
        var captured: Captured = [:]
        func run(_ expected: Int64) throws {
            let outcome = try Pipeline.run(catalog)
            #expect(outcome.runID == expected)
            let w = try Warehouse(path: dir.file("aurum.db"))
            defer { w.close() }
            captured[outcome.runID] = try w.db.query("SELECT golden_id, given_name, family_name, dob, email FROM golden_person ORDER BY golden_id")
        }
        func edit(_ text: inout String, _ file: String, _ old: String, _ new: String) {
            precondition(text.contains(old))
            text = text.replacingOccurrences(of: old, with: new)
            dir.write(file, text)
        }
        try run(1)
        edit(&crm, "crm.csv", "maria@example.com", "maria.g@example.com")
        try run(2)
        edit(&shop, "shop.csv", "ann.lee@example.net", "anne@example.com")
        try run(3)
        edit(&shop, "shop.csv", "S1,Wiliam,Smith", "S1,Wiliam,Smyth")
        try run(4)
        do {
            let w = try Warehouse(path: dir.file("aurum.db"))
            defer { w.close() }
            try Steward.decide(warehouse: w, entity: "person", RecordRef("crm:C4")!, RecordRef("crm:C3")!, .mustLink)
        }
        try run(5)
        edit(&shop, "shop.csv", "S1,Wiliam,Smyth,03/02/1980,BILL@EXAMPLE.COM\n", "")
        try run(6)
        try run(7)
        return (dir, captured)
    }

    @Test func everyChangeOpensAVersionWithItsReason() throws {
        let (dir, _) = try Self.runSequence()
        let w = try Warehouse(path: dir.file("aurum.db"))
        defer { w.close() }
        let rows = try w.db.query("""
            SELECT golden_id, version, valid_from_run, coalesce(valid_to_run, '-'), reason, coalesce(end_reason, '-'), coalesce(merged_into, '-'),
                   members, record_count
            FROM golden_versions WHERE entity = 'person' ORDER BY golden_id, version
            """).map { $0.map { $0.textValue ?? "NULL" }.joined(separator: " | ") }
        #expect(rows == [
            #"1 | 1 | 1 | 4 | created | superseded | - | ["crm:C1","crm:C2","shop:S1"] | 3"#,
            #"1 | 2 | 4 | - | split | - | - | ["crm:C1","crm:C2"] | 2"#,
            #"2 | 1 | 1 | 2 | created | superseded | - | ["crm:C3","shop:S2"] | 2"#,
            #"2 | 2 | 2 | 5 | source change | superseded | - | ["crm:C3","shop:S2"] | 2"#,
            #"2 | 3 | 5 | - | steward decision | - | - | ["crm:C3","crm:C4","shop:S2"] | 3"#,
            #"3 | 1 | 1 | 5 | created | merged | 2 | ["crm:C4"] | 1"#,
            #"4 | 1 | 1 | 3 | created | superseded | - | ["crm:C5"] | 1"#,
            #"4 | 2 | 3 | - | merge | - | - | ["crm:C5","shop:S3"] | 2"#,
            #"5 | 1 | 1 | 3 | created | merged | 4 | ["shop:S3"] | 1"#,
            #"6 | 1 | 4 | 6 | split | retired | - | ["shop:S1"] | 1"#,
        ], "\(rows)")
        // The values of a version are the golden record's, in attribute order.
        #expect(try w.db.scalar("SELECT attribute_values FROM golden_versions WHERE golden_id = 2 AND version = 2")?.textValue
            == #"{"given_name":"maria","family_name":"garcia","dob":"1975-11-30","email":"maria.g@example.com"}"#)
        // Every run is recorded, also the one in which nothing changed.
        #expect(try w.db.query("SELECT run_id, opened, closed FROM golden_version_runs ORDER BY run_id").map { $0.map { $0.textValue ?? "" } } == [
            ["1", "5", "0"], ["2", "1", "1"], ["3", "1", "2"], ["4", "2", "1"], ["5", "1", "2"], ["6", "0", "1"], ["7", "0", "0"]])
    }

    @Test func theStateAtEveryPastRunIsTheGoldenTableOfThatRun() throws {
        let (dir, captured) = try Self.runSequence()
        let w = try Warehouse(path: dir.file("aurum.db"))
        defer { w.close() }
        for run in Int64(1)...7 {
            let table = try #require(captured[run])
            // The state-at-run query over golden_versions holds exactly that run's golden ids…
            let ids = try w.db.query("""
                SELECT golden_id FROM golden_versions WHERE entity = 'person' AND valid_from_run <= ?1 AND (valid_to_run IS NULL OR valid_to_run > ?1)
                ORDER BY golden_id
                """, [.integer(run)]).map { $0[0] }
            #expect(ids == table.map { $0[0] }, "run \(run)")
            // …and `audit golden --at` gives each one's values of that run, exactly.
            for row in table {
                guard case .integer(let id) = row[0] else { Issue.record("golden id \(row[0])"); continue }
                let r = try GoldenAudit.golden(warehouse: w, entity: nil, id: id, at: run)
                #expect(r.state.values.map(\.value) == Array(row.dropFirst()), "golden record \(id) at run \(run)")
                #expect(r.state.values.map(\.attribute) == ["given_name", "family_name", "dob", "email"])
            }
        }
        #expect(captured[6]?.map { $0[0] } == [.integer(1), .integer(2), .integer(4)])
    }

    @Test func auditShowsVersionsChangesAndSourceRecords() throws {
        let (dir, _) = try Self.runSequence()
        let w = try Warehouse(path: dir.file("aurum.db"))
        defer { w.close() }
        let now = try GoldenAudit.golden(warehouse: w, entity: "person", id: 2, at: nil)
        #expect(now.state.version == 3)
        #expect(now.versions.map(\.changedAttributes) == [[], ["email"], []])
        #expect(now.versions.map(\.recordsAdded) == [[], [], ["crm:C4"]])
        #expect(now.sourceRecords.map(\.record) == ["crm:C3", "crm:C4", "shop:S2"])
        #expect(now.sourceRecords[1].values?.map(\.value) == [.text("mario"), .text("garcia"), .text("1975-11-30"), .text("mario@example.com")])
        let past = try GoldenAudit.golden(warehouse: w, entity: "person", id: 1, at: 3)
        #expect(past.state.version == 1)
        #expect(past.sourceRecords.map(\.record) == ["crm:C1", "crm:C2", "shop:S1"])
        #expect(past.sourceRecords.allSatisfy { $0.values == nil })
        #expect(past.versions[1].recordsRemoved == ["shop:S1"])

        func message(_ id: Int64, _ at: Int64?) -> String {
            do { _ = try GoldenAudit.golden(warehouse: w, entity: nil, id: id, at: at); return "no error" } catch { return "\(error)" }
        }
        #expect(message(3, nil).contains("golden record 3 of entity 'person' is no longer active: it was merged into golden record 2 in run 5"))
        #expect(message(3, nil).contains("`aurum audit golden 2` shows the record it went into; --at 1 shows its last version"))
        #expect(message(6, nil).contains("golden record 6 of entity 'person' is no longer active: it was retired (no source record left) in run 6"))
        #expect(message(6, 3).contains("golden record 6 of entity 'person' did not exist yet at run 3: its first version is from run 4"))
        #expect(message(5, 4).contains("golden record 5 of entity 'person' no longer existed at run 4: it was merged into golden record 4 in run 3"))
        #expect(message(42, nil).contains("no golden record 42 in entity 'person' (golden ids of 'person' run from 1 to 6)"))
        #expect(message(1, 99).contains("no run 99 in this warehouse (runs go from 1 to 7)"))
        #expect(throws: AurumError.self) { try GoldenAudit.golden(warehouse: w, entity: "company", id: 1, at: nil) }
        #expect(throws: AurumError.self) { try GoldenAudit.golden(warehouse: dir.file("missing.db"), entity: nil, id: 1, at: nil) }
    }

    /// Only the touched ids are compared: an untouched change waits for a full comparison.
    /// Values read back exactly, reals included.
    @Test func touchedIdsLimitTheComparison() throws {
        let dir = TempDir("golden-versions-touched")
        dir.write("crm.csv", Self.crm)
        dir.write("shop.csv", Self.shop)
        let catalog = try loadCatalog(dir, "catalog.yaml", Self.catalog)
        _ = try Pipeline.run(catalog)
        let w = try Warehouse(path: dir.file("aurum.db"))
        defer { w.close() }
        let entity = try #require(catalog.entities.first)
        try w.db.execute("UPDATE golden_person SET email = 0.1 + 0.2 WHERE golden_id = 3; UPDATE golden_person SET dob = 19850704 WHERE golden_id = 4")
        let run2 = try w.beginRun(catalog: catalog.file, command: "test")
        let s2 = try GoldenVersions.record(entity: entity, run: run2, db: w.db, touched: [3])
        #expect(s2.compared == 1)
        #expect(s2.opened == ["source change": 1] && s2.closed == ["superseded": 1])
        let run3 = try w.beginRun(catalog: catalog.file, command: "test")
        let s3 = try GoldenVersions.record(entity: entity, run: run3, db: w.db)
        #expect(s3.compared == 5)
        #expect(s3.opened == ["source change": 1] && s3.closed == ["superseded": 1])
        #expect(try w.db.query("SELECT golden_id, valid_from_run FROM golden_versions WHERE valid_to_run IS NULL AND version = 2 ORDER BY golden_id")
            == [[.integer(3), .integer(run2)], [.integer(4), .integer(run3)]])
        let r = try GoldenAudit.golden(warehouse: w, entity: nil, id: 3, at: nil)
        #expect(r.state.values.map(\.value) == [.text("mario"), .text("garcia"), .text("1975-11-30"), .real(0.1 + 0.2)])
        #expect(try GoldenAudit.golden(warehouse: w, entity: nil, id: 4, at: nil).state.values[2].value == .integer(19850704))
        // Nothing changed since: a full comparison opens nothing.
        let run4 = try w.beginRun(catalog: catalog.file, command: "test")
        #expect(try GoldenVersions.record(entity: entity, run: run4, db: w.db).openedCount == 0)
    }

    @Test func auditGoldenCommandPrintsTheRecordAndItsHistory() throws {
        let (dir, _) = try Self.runSequence()
        let db = dir.file("aurum.db")
        let now = try runAurum(["audit", "golden", "2", "--warehouse", db])
        #expect(now.status == 0, "\(now.stderr)")
        #expect(now.stdout == """
            person golden record 2: version 3 of 3, valid from run 5, steward decision
              given_name   'maria'
              family_name  'garcia'
              dob          '1975-11-30'
              email        'maria.g@example.com'
            versions:
                1  from run 1 to run 2  created
                2  from run 2 to run 5  source change     email
            *   3  from run 5           steward decision  +crm:C4
            source records (3), with their current values:
              crm:C3  given_name='maria', family_name='garcia', dob='1975-11-30', email='maria.g@example.com'
              crm:C4  given_name='mario', family_name='garcia', dob='1975-11-30', email='mario@example.com'
              shop:S2  given_name='maria', family_name='garcia', dob='1975-11-30', email='maria@example.com'

            """, "\(now.stdout)")
        // The catalog names the warehouse and the entity.
        let past = try runAurum(["audit", "golden", "5", dir.file("catalog.yaml"), "--at", "2"])
        #expect(past.status == 0, "\(past.stderr)")
        #expect(past.stdout == """
            person golden record 5 at run 2: version 1 of 1, valid from run 1 to run 3, created
              given_name   'ann'
              family_name  'lee'
              dob          '1985-07-04'
              email        'ann.lee@example.net'
            versions:
            *   1  from run 1 to run 3  created
              ended in run 3: merged into golden record 4
            source records (1) at run 2:
              shop:S3

            """, "\(past.stdout)")
        let json = try runAurum(["audit", "golden", "1", "--warehouse", db, "--at", "3", "--json", "--entity", "person"])
        #expect(json.status == 0, "\(json.stderr)")
        let j = try JSONText.parse(json.stdout)
        #expect(j["golden_id"]?.intValue == 1 && j["at_run"]?.intValue == 3 && j["version"]?.intValue == 1 && j["valid_to_run"]?.intValue == 4)
        #expect(j["values"] == .object([("dob", .string("1980-02-03")), ("email", .string("bill@example.com")), ("family_name", .string("smith")),
                                        ("given_name", .string("william"))]))
        #expect(j["source_records"] == .array(["crm:C1", "crm:C2", "shop:S1"].map { .object([("record", .string($0))]) }))
        #expect(j["versions"] == .array([
            .object([("changed_attributes", .array([])), ("end_reason", .string("superseded")), ("merged_into", .null), ("reason", .string("created")),
                     ("record_count", .int(3)), ("records_added", .array([])), ("records_removed", .array([])), ("valid_from_run", .int(1)),
                     ("valid_to_run", .int(4)), ("version", .int(1))]),
            .object([("changed_attributes", .array([])), ("end_reason", .null), ("merged_into", .null), ("reason", .string("split")),
                     ("record_count", .int(2)), ("records_added", .array([])), ("records_removed", .array([.string("shop:S1")])),
                     ("valid_from_run", .int(4)), ("valid_to_run", .null), ("version", .int(2))]),
        ]))
        let merged = try runAurum(["audit", "golden", "3", "--warehouse", db])
        #expect(merged.status == 1)
        #expect(merged.stdout.isEmpty)
        #expect(merged.stderr == "error: \(db): golden record 3 of entity 'person' is no longer active: it was merged into golden record 2 in run 5 (`aurum audit golden 2` shows the record it went into; --at 1 shows its last version)\n", "\(merged.stderr)")
        let early = try runAurum(["audit", "golden", "6", "--warehouse", db, "--at", "2"])
        #expect(early.status == 1)
        #expect(early.stderr.contains("golden record 6 of entity 'person' did not exist yet at run 2: its first version is from run 4"), "\(early.stderr)")
        let none = try runAurum(["audit", "golden", "1", "--warehouse", dir.file("nope.db")])
        #expect(none.status == 1)
        #expect(none.stderr == "error: \(dir.file("nope.db")): no warehouse here (pass --warehouse PATH or the catalog)\n", "\(none.stderr)")
    }
}
