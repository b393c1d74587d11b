import Foundation
import Testing
@testable import Aurum

@Suite struct GoldenIdsTests {
    typealias F = GoldenFixture

    /// A warehouse and the runs of one entity through GoldenStage.build.
    final class Runs {
        let dir = TempDir()
        let w: Warehouse
        var entity = F.entity(["name", "born"], ["born": .first])
        init() throws { w = try Warehouse(path: dir.file("w.db")) }
        deinit { w.close() }

        @discardableResult
        func build(_ records: EntityRecords, _ clusters: [Int32]) throws -> (run: Int64, summary: GoldenSummary) {
            let run = try w.beginRun(catalog: "c.yaml", command: "run")
            do {
                let s = try w.db.transaction {
                    try GoldenStage.build(entity: entity, records: records, clusters: clusters,
                                          clusterCount: Int((clusters.max() ?? -1) + 1), db: w.db, run: run)
                }
                try w.endRun(run, error: nil, report: nil)
                return (run, s)
            } catch {
                try w.endRun(run, error: "\(error)", report: nil)
                throw error
            }
        }

        func strings(_ sql: String, _ args: [Value] = []) throws -> [String] {
            try w.db.query(sql, args).map { $0.map { $0.textValue ?? "NULL" }.joined(separator: " ") }
        }
        /// `source:key=id`, in xref key order.
        func xref() throws -> [String] {
            try strings("SELECT source || ':' || source_key || '=' || golden_id FROM xref WHERE entity = 'customer' ORDER BY source, source_key")
        }
        func events(_ run: Int64) throws -> [String] {
            try strings("SELECT event, golden_id, other_id FROM golden_events WHERE run_id = ? ORDER BY rowid", [.integer(run)])
        }
        func ids() throws -> [String] {
            try strings("SELECT golden_id, status, merged_into, created_run, changed_run FROM golden_ids WHERE entity = 'customer' ORDER BY golden_id")
        }
        func golden() throws -> [String] { try strings("SELECT * FROM golden_customer ORDER BY golden_id") }
    }

    /// golden records, created, merged, split, retired, unchanged, changed
    func counts(_ s: GoldenSummary) -> [Int] { [s.goldenRecords, s.created, s.merged, s.split, s.retired, s.unchanged, s.changed] }

    /// (source, key, name, born)
    func people(_ rows: [(Int32, String, String?, String?)]) -> EntityRecords {
        F.records(["name", "born"], sources: ["crm", "erp"], rows.map { ($0.0, $0.1, [$0.2.map(Value.text) ?? .null, $0.3.map(Value.text) ?? .null]) })
    }

    let ann = [(Int32(0), "1", "Ann", "1990"), (1, "1", "Ann", nil)]
    let bob = [(Int32(0), "2", "Bob", nil), (1, "2", "Rob", "1985")]
    let cy = [(Int32(0), "3", "Cy", "1970"), (1, "3", "Cy", "1971")]

    @Test func idsAreStableAcrossRunsThroughMergesSplitsAndRetirement() throws {
        let t = try Runs()
        // crm:1 crm:2 crm:3 erp:1 erp:2 erp:3
        let six = people([ann[0], bob[0], cy[0], ann[1], bob[1], cy[1]])

        // Run 1: three new clusters, three new ids in cluster order.
        let (r1, s1) = try t.build(six, [0, 1, 2, 0, 1, 2])
        #expect(counts(s1) == [3, 3, 0, 0, 0, 0, 0])
        #expect(try t.xref() == ["crm:1=1", "crm:2=2", "crm:3=3", "erp:1=1", "erp:2=2", "erp:3=3"])
        #expect(try t.events(r1) == ["created 1 NULL", "created 2 NULL", "created 3 NULL"])
        #expect(try t.golden() == ["1 Ann 1990 2 crm;erp", "2 Bob 1985 2 crm;erp", "3 Cy 1970 2 crm;erp"])
        #expect(try t.strings("SELECT attribute, position, rule, run_id = ? FROM golden_rules ORDER BY position", [.integer(r1)])
                == ["name 1 most_frequent 1", "born 2 first 1"])
        #expect(try t.strings("SELECT * FROM golden_customer__lineage ORDER BY golden_id")
                == ["1 crm:1;erp:1 crm:1", "2 crm:2 erp:2", "3 crm:3;erp:3 crm:3"])
        #expect(s1.lineageValues == 6 && s1.xrefRowsWritten == 6)
        #expect(try GoldenStage.lineage(entity: "customer", goldenId: 2, db: t.w.db) == [
            .init(attribute: "name", value: .text("Bob"), rule: "most_frequent", records: ["crm:2"]),
            .init(attribute: "born", value: .text("1985"), rule: "first", records: ["erp:2"]),
        ])
        #expect(try GoldenStage.lineage(entity: "customer", goldenId: 99, db: t.w.db) == nil)

        // Run 2: the same clusters keep the same ids; nothing happens.
        let (r2, s2) = try t.build(six, [0, 1, 2, 0, 1, 2])
        #expect(counts(s2).dropFirst() == [0, 0, 0, 0, 3, 0])
        #expect(try t.xref() == ["crm:1=1", "crm:2=2", "crm:3=3", "erp:1=1", "erp:2=2", "erp:3=3"])
        #expect(try t.events(r2) == [])
        // Unchanged xref rows are not rewritten: they keep the run that gave them their id.
        #expect(try t.strings("SELECT DISTINCT run_id FROM xref") == ["\(r1)"])
        #expect(s2.xrefRowsWritten == 0)

        // Run 3: Ann and Bob merge: the oldest id (1) survives, 2 is merged into it.
        let (r3, s3) = try t.build(six, [0, 0, 1, 0, 0, 1])
        #expect(counts(s3) == [2, 0, 1, 0, 0, 1, 1])
        #expect(try t.xref() == ["crm:1=1", "crm:2=1", "crm:3=3", "erp:1=1", "erp:2=1", "erp:3=3"])
        #expect(try t.events(r3) == ["merged 2 1"])
        #expect(try t.ids() == ["1 active NULL 1 NULL", "2 merged 1 1 \(r3)", "3 active NULL 1 NULL"])
        #expect(try t.golden() == ["1 Ann 1990 4 crm;erp", "3 Cy 1970 2 crm;erp"])
        #expect(try t.strings("SELECT source || ':' || source_key FROM xref WHERE run_id = ? ORDER BY 1", [.integer(r3)]) == ["crm:2", "erp:2"])
        #expect(try t.strings("SELECT * FROM golden_customer__lineage ORDER BY golden_id")
                == ["1 crm:1;erp:1 crm:1", "3 crm:3;erp:3 crm:3"])

        // Run 4: erp:2 splits off: the part holding most of id 1's records keeps it, the other gets a new id.
        let (r4, s4) = try t.build(six, [0, 0, 1, 0, 2, 1])
        #expect(counts(s4) == [3, 0, 0, 1, 0, 1, 1])
        #expect(try t.xref() == ["crm:1=1", "crm:2=1", "crm:3=3", "erp:1=1", "erp:2=4", "erp:3=3"])
        #expect(try t.events(r4) == ["split 1 4"])
        #expect(try t.golden() == ["1 Ann 1990 3 crm;erp", "3 Cy 1970 2 crm;erp", "4 Rob 1985 1 erp"])

        // Run 5: Cy's records are gone (id 3 retires), a new record gets the next id.
        let five = people([ann[0], bob[0], (0, "4", "Dee", nil), ann[1], bob[1]])
        let (r5, s5) = try t.build(five, [0, 0, 1, 0, 2])
        #expect(counts(s5) == [3, 1, 0, 0, 1, 2, 0])
        #expect(try t.xref() == ["crm:1=1", "crm:2=1", "crm:4=5", "erp:1=1", "erp:2=4"])
        #expect(try t.events(r5) == ["created 5 NULL", "retired 3 NULL"])
        #expect(try t.ids() == ["1 active NULL 1 NULL", "2 merged 1 1 \(r3)", "3 retired NULL 1 \(r5)",
                                "4 active NULL \(r4) NULL", "5 active NULL \(r5) NULL"])
        #expect(try t.golden() == ["1 Ann 1990 3 crm;erp", "4 Rob 1985 1 erp", "5 Dee NULL 1 crm"])
        #expect(try t.strings("SELECT * FROM golden_customer__lineage ORDER BY golden_id")
                == ["1 crm:1;erp:1 crm:1", "4 erp:2 erp:2", "5 crm:4 NULL"])
        #expect(s5.lineageValues == 5 && s5.xrefRowsWritten == 3)
    }

    @Test func aFailedBuildLeavesTheGoldenStateAsItWas() throws {
        let t = try Runs()
        let six = people([ann[0], bob[0], cy[0], ann[1], bob[1], cy[1]])
        try t.build(six, [0, 1, 2, 0, 1, 2])
        let before = (try t.xref(), try t.ids(), try t.golden())
        // Ids and survivorship of the first attribute succeed before the second one fails.
        t.entity.survivorship.attributes["born"] = .first
        t.entity.survivorship.attributes["name"] = .average
        #expect(throws: AurumError.self) { try t.build(six, [0, 0, 0, 0, 0, 0]) }
        #expect(try t.xref() == before.0)
        #expect(try t.ids() == before.1)
        #expect(try t.golden() == before.2)
        // Called outside a transaction, the stage rolls back its own.
        let run = try t.w.beginRun(catalog: "c.yaml", command: "run")
        #expect(t.w.db.isInTransaction == false)
        #expect(throws: AurumError.self) {
            try GoldenStage.build(entity: t.entity, records: six, clusters: [0, 0, 0, 0, 0, 0], clusterCount: 1, db: t.w.db, run: run)
        }
        #expect(t.w.db.isInTransaction == false)
        #expect(try t.xref() == before.0)
        #expect(try t.ids() == before.1)
        #expect(try t.golden() == before.2)
        #expect(try t.strings("SELECT count(*) FROM golden_events") == ["3"])
    }

    @Test func duplicateSourceKeysAreRefused() throws {
        let t = try Runs()
        let dup = people([(0, "7", "Ann", nil), (0, "7", "Anne", nil)])
        #expect {
            try t.build(dup, [0, 1])
        } throws: { error in
            "\(error)" == "entity 'customer': records 1 and 2 share the source key crm:7 (every record of a source needs its own key; declare the source's key columns)"
        }
        #expect(try t.strings("SELECT count(*) FROM golden_ids") == ["0"])
    }

    // MARK: The assignment on its own

    func assign(_ previous: [Int64], _ clusters: [Int32], active: [Int64: Int64]? = nil,
                counts: [Int64: Int]? = nil, max: Int64? = nil) -> GoldenIdAssignment {
        let ids = Set(previous.filter { $0 != 0 })
        let state = PreviousGoldenState(ids: previous, active: active ?? Dictionary(uniqueKeysWithValues: ids.map { ($0, 1) }),
                                        recordCounts: counts ?? Dictionary(grouping: previous.filter { $0 != 0 }, by: { $0 }).mapValues(\.count),
                                        maxMinted: max ?? (ids.max() ?? 0))
        return GoldenIds.assign(previous: state, members: ClusterMembers(clusters: clusters, clusterCount: Int(clusters.max()! + 1)))
    }

    @Test func aSplitIntoEqualPartsLeavesTheIdWithThePartHoldingTheEarliestRecord() {
        let a = assign([1, 1], [0, 1])
        #expect(a.ids == [1, 2])
        #expect(a.splits == [.init(original: 1, id: 2)])
        #expect(a.changed == 1 && a.unchanged == 0 && a.created == [])
    }

    @Test func aSplitOffPartThatClaimsAnotherIdKeepsItsOldestIdInstead() {
        // id 1 = r0 r1 r2, id 2 = r3, id 3 = r4; now {r0 r1} and {r2 r3 r4}.
        let a = assign([1, 1, 1, 2, 3], [0, 0, 1, 1, 1])
        #expect(a.ids == [1, 2])
        #expect(a.merges == [.init(id: 3, into: 2)])
        #expect(a.splits == [] && a.created == [])
    }

    @Test func aMergeKeepsTheIdCreatedFirstThenTheSmallest() {
        // Created runs decide before ids do.
        let a = assign([5, 2, 7], [0, 0, 0], active: [5: 1, 2: 3, 7: 1])
        #expect(a.ids == [5])
        #expect(a.merges == [.init(id: 2, into: 5), .init(id: 7, into: 5)])
    }

    @Test func aNewClusterMadeOfPartsOfTwoIdsIsSplitFromBoth() {
        // id 1 = r0 r1 r2, id 2 = r3 r4 r5; now {r0 r1}, {r3 r4}, {r2 r5}; the largest id ever minted was 9.
        let a = assign([1, 1, 1, 2, 2, 2], [0, 0, 2, 1, 1, 2], max: 9)
        #expect(a.ids == [1, 2, 10])
        #expect(a.splits == [.init(original: 1, id: 10), .init(original: 2, id: 10)])
        #expect(a.splitIds == 1)
    }

    @Test func recordsThatVanishedMakeAKeptIdChanged() {
        let a = assign([1, 1, 0], [0, 0, 1], counts: [1: 3])
        #expect(a.ids == [1, 2])
        #expect(a.created == [2])
        #expect((a.unchanged, a.changed) == (0, 1))
    }
}
