import Foundation
import Testing
@testable import Aurum

/// Hand-made entities and records for the golden-record stage.
enum GoldenFixture {
    static func entity(_ attributes: [String], _ rules: [String: SurvivorshipRule] = [:],
                       default rule: SurvivorshipRule = .mostFrequent, name: String = "customer") -> EntitySpec {
        var s = SurvivorshipSpec()
        s.defaultRule = rule
        s.attributes = rules
        s.location = "entities.\(name).survivorship"
        return EntitySpec(name: name, attributes: attributes.map { AttributeSpec(name: $0) }, sources: [], match: MatchSpec(),
                          survivorship: s, location: "entities.\(name)")
    }

    /// `rows`: (source index, key, values in attribute order).
    static func records(_ attributes: [String], sources: [String] = ["crm", "erp", "web"],
                        _ rows: [(Int32, String, [Value])], entity: String = "customer") -> EntityRecords {
        var r = EntityRecords(entity: entity, attributes: attributes, sources: sources)
        for (s, k, v) in rows {
            precondition(v.count == attributes.count)
            r.source.append(s)
            r.sourceKey.append(k)
            for a in attributes.indices { r.values[a].append(v[a]) }
        }
        return r
    }

    static func lineage(_ s: SurvivedValues, _ r: EntityRecords, _ a: Int, _ c: Int) -> String {
        s.contributors(attribute: a, cluster: c).map { r.reference(Int($0)) }.joined(separator: ";")
    }
}

@Suite struct SurvivorshipTests {
    typealias F = GoldenFixture

    func survive(_ e: EntitySpec, _ r: EntityRecords, _ clusters: [Int32], db: SQLiteDatabase? = nil) throws -> SurvivedValues {
        try Survivorship.survive(entity: e, records: r, clusters: clusters, clusterCount: Int(clusters.max()! + 1), db: db)
    }

    @Test func clusterMembersGroupByACountingSortInRecordOrder() {
        let m = ClusterMembers(clusters: [0, 1, 0, 2, 1, 0], clusterCount: 3)
        #expect(m.start == [0, 3, 5, 6])
        #expect(m.members == [0, 2, 5, 1, 4, 3])
        #expect(Array(m.records(of: 1)) == [1, 4])
    }

    @Test func sourcePriorityTakesTheFirstNonNullInTheGivenOrderThenCatalogOrder() throws {
        let e = F.entity(["name"], ["name": .sourcePriority(["erp", "crm"])])
        let r = F.records(["name"], [
            (0, "1", [.text("a")]), (1, "2", [.null]), (2, "3", [.text("c")]), (1, "4", [.text("d")]), (1, "5", [.text("e")]),
            (0, "6", [.null]), (2, "7", [.text("w")]),
            (0, "8", [.null]), (1, "9", [.null]),
        ])
        let s = try survive(e, r, [0, 0, 0, 0, 0, 1, 1, 2, 2])
        #expect(s.values[0] == [.text("d"), .text("w"), .null])
        #expect(F.lineage(s, r, 0, 0) == "erp:4")
        #expect(F.lineage(s, r, 0, 1) == "web:7")
        #expect(F.lineage(s, r, 0, 2) == "")
        #expect(s.rules[0].lineageLabel == "source_priority(erp, crm)")

        // An empty list is the catalog order; within a source, the earliest record.
        let catalog = try survive(F.entity(["name"], ["name": .sourcePriority([])]), r, [0, 0, 0, 0, 0, 1, 1, 2, 2])
        #expect(catalog.values[0] == [.text("a"), .text("w"), .null])
        #expect(catalog.rules[0].lineageLabel == "source_priority")
        let erpFirst = try survive(F.entity(["name"], ["name": .sourcePriority(["erp"])]), r, [0, 0, 0, 0, 0, 1, 1, 2, 2])
        #expect(erpFirst.values[0][0] == .text("d"))
    }

    @Test func mostRecentOrdersByTheTimestampThenSourceThenRecord() throws {
        let e = F.entity(["email", "updated"], ["email": .mostRecent("updated")], default: .first)
        let r = F.records(["email", "updated"], [
            // cluster 0: the latest record has no e-mail, so the latest with one wins
            (0, "1", [.text("old@x"), .text("2023-01-01")]),
            (1, "2", [.text("new@x"), .text("2024-05-01T10:00:00Z")]),
            (2, "3", [.null, .text("2025-01-01")]),
            (2, "4", [.text("nots@x"), .null]),
            // cluster 1: a tie on the date: the earlier source in catalog order wins, then the earlier record
            (2, "5", [.text("web@x"), .text("2024-02-02")]),
            (1, "6", [.text("erp1@x"), .text("2024-02-02")]),
            (1, "7", [.text("erp2@x"), .text("2024-02-02")]),
            // cluster 2: numbers compare as numbers (9 < 10), and before text
            (0, "8", [.text("nine"), .integer(9)]),
            (0, "9", [.text("ten"), .real(10.5)]),
            // cluster 3: no timestamps at all: source order, then record order
            (1, "10", [.text("b"), .null]),
            (0, "11", [.text("a"), .null]),
        ])
        let s = try survive(e, r, [0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 3])
        #expect(s.values[0] == [.text("new@x"), .text("erp1@x"), .text("ten"), .text("a")])
        #expect((0..<4).map { F.lineage(s, r, 0, $0) } == ["erp:2", "erp:6", "crm:9", "crm:11"])
        #expect(s.rules[0].lineageLabel == "most_recent(updated)")
    }

    @Test func mostFrequentBreaksTiesBySourceThenFirstOccurrence() throws {
        let e = F.entity(["city"])
        let r = F.records(["city"], [
            (0, "1", [.text("Paris")]), (1, "2", [.text("Lyon")]), (2, "3", [.text("Paris")]), (2, "4", [.null]),
            // a tie: Nice is first but from web; Oslo's best source is crm
            (2, "5", [.text("Nice")]), (0, "6", [.text("Oslo")]),
            // a tie within one source: the value seen first
            (1, "7", [.text("Bern")]), (1, "8", [.text("Genf")]),
            (0, "9", [.null]),
        ])
        let s = try survive(e, r, [0, 0, 0, 0, 1, 1, 2, 2, 3])
        #expect(s.values[0] == [.text("Paris"), .text("Oslo"), .text("Bern"), .null])
        #expect(F.lineage(s, r, 0, 0) == "crm:1;web:3")
        #expect(F.lineage(s, r, 0, 1) == "crm:6")
        #expect(F.lineage(s, r, 0, 2) == "erp:7")
        #expect(F.lineage(s, r, 0, 3) == "")
    }

    @Test func mostFrequentInALargeClusterUsesTheSameRules() throws {
        // 40 records (more than the linear search handles): "a" ×16, "b" ×16, "c" ×8.
        var rows: [(Int32, String, [Value])] = []
        for i in 0..<40 { rows.append((Int32(i % 3), "\(i)", [.text(["a", "b", "c", "a", "b"][i % 5])])) }
        let r = F.records(["v"], rows)
        let counts = Dictionary(grouping: r.values[0], by: { $0 }).mapValues(\.count)
        #expect(counts == [.text("a"): 16, .text("b"): 16, .text("c"): 8])
        let s = try survive(F.entity(["v"]), r, Array(repeating: 0, count: 40))
        // a and b tie on count and on best source (crm holds both), a is seen first.
        #expect(s.values[0] == [.text("a")])
        #expect(s.contributors(attribute: 0, cluster: 0).count == 16)
        #expect(s.contributors(attribute: 0, cluster: 0).first == 0)
    }

    @Test func longestCountsCharactersThenFrequencyThenRecordOrder() throws {
        let e = F.entity(["name"], default: .longest)
        let r = F.records(["name"], [
            (0, "1", [.text("Ann")]), (1, "2", [.text("Anne")]), (2, "3", [.text("Anna")]), (2, "4", [.text("Anna")]),
            (0, "5", [.text("Jon")]), (1, "6", [.text("Joe")]),
            // "Zoë" is 3 characters (4 bytes): "Zoey" is longer, and "Zoë" ties "Zoe" (the first wins)
            (0, "7", [.text("Zoë")]), (1, "8", [.text("Zoey")]),
            (1, "9", [.text("Zoë")]), (0, "10", [.text("Zoe")]),
            (0, "11", [.null]),
        ])
        let s = try survive(e, r, [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4])
        #expect(s.values[0] == [.text("Anna"), .text("Jon"), .text("Zoey"), .text("Zoë"), .null])
        #expect((0..<5).map { F.lineage(s, r, 0, $0) } == ["web:3;web:4", "crm:5", "erp:8", "erp:9", ""])
    }

    @Test func firstAndLastSkipNulls() throws {
        let e = F.entity(["a", "b"], ["a": .first, "b": .last])
        let r = F.records(["a", "b"], [
            (0, "1", [.null, .text("x")]), (1, "2", [.text("p"), .text("y")]), (2, "3", [.text("q"), .null]),
        ])
        let s = try survive(e, r, [0, 0, 0])
        #expect(s.values[0] == [.text("p")])
        #expect(s.values[1] == [.text("y")])
        #expect(F.lineage(s, r, 0, 0) == "erp:2")
        #expect(F.lineage(s, r, 1, 0) == "erp:2")
    }

    @Test func averageAndSumOverNonNullNumbers() throws {
        let e = F.entity(["n", "m"], ["n": .sum, "m": .average])
        let r = F.records(["n", "m"], [
            (0, "1", [.integer(2), .integer(2)]), (1, "2", [.null, .integer(5)]), (2, "3", [.integer(4), .null]),
            (0, "4", [.real(1.5), .text(" 7 ")]), (1, "5", [.text("2"), .real(2)]),
            (0, "6", [.integer(.max), .null]), (1, "7", [.integer(1), .null]),
            (0, "8", [.null, .null]),
        ])
        let s = try survive(e, r, [0, 0, 0, 1, 1, 2, 2, 3])
        #expect(s.values[0] == [.integer(6), .real(3.5), .real(Double(Int64.max) + 1), .null])
        #expect(s.values[1] == [.real(3.5), .real(4.5), .null, .null])
        #expect(F.lineage(s, r, 0, 0) == "crm:1;web:3")
        #expect(F.lineage(s, r, 1, 0) == "crm:1;erp:2")
        #expect(F.lineage(s, r, 0, 1) == "crm:4;erp:5")
    }

    @Test func averageOfTextIsAClearError() throws {
        let e = F.entity(["name"], ["name": .average])
        let r = F.records(["name"], [(0, "1", [.integer(3)]), (1, "K-7", [.text("three")])])
        #expect {
            try survive(e, r, [0, 0])
        } throws: { error in
            "\(error)" == "entities.customer.survivorship.attributes.name: entity 'customer', attribute 'name': average needs numbers, but record erp:K-7 holds text (choose another rule, or standardise the attribute to a number)"
        }
    }

    @Test func unknownNamesInRulesAreCatalogErrors() throws {
        let r = F.records(["email", "updated"], [(0, "1", [.null, .null])])
        #expect {
            try survive(F.entity(["email", "updated"], ["email": .mostRecent("updatd")]), r, [0])
        } throws: { error in
            "\(error)" == "entities.customer.survivorship.attributes.email: most_recent orders by 'updatd', which is not an attribute of entity 'customer' (did you mean 'updated'?)"
        }
        #expect {
            try survive(F.entity(["email", "updated"], ["email": .sourcePriority(["crn"])]), r, [0])
        } throws: { error in
            "\(error)" == "entities.customer.survivorship.attributes.email: source_priority names 'crn', which is not a source of entity 'customer' (did you mean 'crm'?)"
        }
        #expect {
            try survive(F.entity(["email", "updated"], ["emial": .first]), r, [0])
        } throws: { error in
            "\(error)" == "entities.customer.survivorship.attributes.emial: survivorship rule for unknown attribute 'emial' of entity 'customer' (did you mean 'email'?)"
        }
    }

    // MARK: Custom aggregates

    func customRecords() -> EntityRecords {
        F.records(["email", "updated", "score"], [
            (0, "1", [.text("b@x"), .text("2024-01-01"), .integer(3)]),
            (1, "2", [.text("a@x"), .null, .integer(4)]),
            (2, "3", [.null, .null, .integer(5)]),
            (0, "4", [.null, .null, .null]),
            (1, "5", [.text("c@x"), .text("2023-03-03"), .integer(1)]),
        ])
    }

    @Test func customAggregatesRunInSQLiteGroupedByCluster() throws {
        let dir = TempDir()
        let w = try Warehouse(path: dir.file("w.db"))
        defer { w.close() }
        let e = F.entity(["email", "updated", "score"], [
            "email": .custom("max(email)"),
            "updated": .custom("coalesce(max(updated), 'never') || '/' || count(email)"),
            "score": .custom("sum(score) * 10"),
        ])
        let r = customRecords()
        let s = try survive(e, r, [0, 0, 0, 1, 1], db: w.db)
        #expect(s.values[0] == [.text("b@x"), .text("c@x")])
        #expect(s.values[1] == [.text("2024-01-01/2"), .text("2023-03-03/1")])
        #expect(s.values[2] == [.integer(120), .integer(10)])
        // Contributors: records with a value in any attribute the expression reads.
        #expect(F.lineage(s, r, 0, 0) == "crm:1;erp:2")
        #expect(F.lineage(s, r, 1, 0) == "crm:1;erp:2")
        #expect(F.lineage(s, r, 2, 0) == "crm:1;erp:2;web:3")
        #expect(F.lineage(s, r, 2, 1) == "erp:5")
        #expect(s.rules[0].lineageLabel == "custom(max(email))")
        #expect(try w.db.tableExists("__aurum_survive") == false)
    }

    @Test func customAggregatesThatReachOutsideTheirRecordsAreRefused() throws {
        let dir = TempDir()
        let w = try Warehouse(path: dir.file("w.db"))
        defer { w.close() }
        let r = customRecords()
        func refusal(_ expr: String) -> String {
            do {
                _ = try survive(F.entity(["email", "updated", "score"], ["email": .custom(expr)]), r, [0, 0, 0, 1, 1], db: w.db)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal("(SELECT count(*) FROM runs)")
                == "entities.customer.survivorship.attributes.email: custom survivorship of 'email' refused: reading table 'runs' is not allowed in an expression")
        #expect(refusal("max(email); DELETE FROM runs")
                == "entities.customer.survivorship.attributes.email: custom survivorship of 'email' refused: a second statement is not allowed in an expression (found ';')")
        #expect(refusal("load_extension('x')")
                == "entities.customer.survivorship.attributes.email: custom survivorship of 'email' refused: function load_extension() is not allowed")
        #expect(refusal("max(emial)")
                == "entities.customer.survivorship.attributes.email: custom survivorship of 'email' refused: unknown column 'emial' (did you mean 'email'?)")
        #expect(refusal("lower(email)")
                == "entities.customer.survivorship.attributes.email: custom survivorship of 'email' must be an SQL aggregate over the cluster's records (for example max(email) or group_concat(DISTINCT email))")
        #expect(try w.db.scalar("SELECT count(*) FROM runs") == .integer(0))
    }
}
