import Foundation
import Testing
@testable import Aurum

/// The incremental path against the full one: the same sequence of change sets through two
/// warehouses, A running incrementally and B with `--full` every time, must leave exactly the same
/// golden state after every step.
@Suite struct IncrementalEquivalenceTests {
    static let catalog = """
        version: 1
        sources:
          - {name: crm, type: csv, path: crm.csv, key: id}
          - {name: shop, type: csv, path: shop.csv, key: id}
        entities:
          person:
            attributes:
              given_name: [trim, lower, nickname]
              family_name: [trim, lower]
              dob: {type: date}
              email: [email]
              city: [lower]
            sources:
              crm: {given_name: first, family_name: last, dob: dob, email: email, city: city}
              shop: {given_name: given, family_name: surname, dob: birth, email: mail, city: town}
            match:
              blocking:
                - [family_name]
                - [email]
                - [dob]
              comparisons:
                given_name: {levels: [exact, {jaro_winkler: 0.9}], m: [0.85, 0.1, 0.05], u: [0.02, 0.03, 0.95]}
                family_name: {levels: [exact, {jaro_winkler: 0.9}], m: [0.9, 0.07, 0.03], u: [0.01, 0.02, 0.97]}
                dob: {levels: [exact], m: [0.9, 0.1], u: [0.001, 0.999]}
                email: {levels: [exact], m: [0.7, 0.3], u: [0.0001, 0.9999]}
                city: {levels: [exact], m: [0.8, 0.2], u: [0.05, 0.95]}
              exclusions: [[dob]]
              prior: 0.3
              thresholds: {link: 0.9, review: 0.5}
            survivorship:
              default: most_frequent
              attributes:
                given_name: longest
                email: {source_priority: [shop, crm]}
                city: last
          contact:
            attributes:
              email: [email]
              name: [trim, lower]
            sources:
              crm: {email: email, name: last}
              shop: {email: mail, name: surname}
            match:
              mode: deterministic
              deterministic:
                - [email]
            survivorship:
              default: first
        outputs:
          - {format: csv, path: out/golden.csv, data: golden.person}
        """

    static let crmHeader = "id,first,last,dob,email,city\n"
    static let shopHeader = "id,given,surname,birth,mail,town\n"

    /// The sources after each step: (crm rows, shop rows, steward decision before the run).
    static let steps: [(crm: [String], shop: [String], decision: (String, String, Steward.Decision)?)] = [
        // 0: the base.
        (["1,Ann,Lee,1980-01-02,ann@x.com,Oslo", "2,Bob,Stone,1975-05-06,bob@x.com,Rome", "3,Cid,Moss,1990-03-04,cid@x.com,Nice",
          "4,Dan,Hale,1985-07-08,dan@x.com,Lyon", "5,Eve,Hale,1987-02-03,eve@x.com,Lyon"],
         ["a,Ann,Lee,1980-01-02,ann@x.com,Oslo", "b,Robert,Stone,1975-05-06,bob@x.com,Roma", "c,Cid,Mos,1990-03-04,cidm@y.com,Nice",
          "d,Fay,Wong,1970-01-01,fay@x.com,Bern"], nil),
        // 1: an update, an insert (in the middle of the file), a delete.
        (["1,Ann,Lee,1980-01-02,ann@x.com,Oslo", "2,Bob,Stone,1975-05-06,bob@x.com,Milan",
          "4,Dan,Hale,1985-07-08,dan@x.com,Lyon", "5,Eve,Hale,1987-02-03,eve@x.com,Lyon"],
         ["a,Ann,Lee,1980-01-02,ann@x.com,Oslo", "e,Eve,Hale,1987-02-03,eve@x.com,Lyon", "b,Robert,Stone,1975-05-06,bob@x.com,Roma",
          "c,Cid,Mos,1990-03-04,cidm@y.com,Nice", "d,Fay,Wong,1970-01-01,fay@x.com,Bern"], nil),
        // 2: shop d becomes Dan: two golden records merge.
        (["1,Ann,Lee,1980-01-02,ann@x.com,Oslo", "2,Bob,Stone,1975-05-06,bob@x.com,Milan",
          "4,Dan,Hale,1985-07-08,dan@x.com,Lyon", "5,Eve,Hale,1987-02-03,eve@x.com,Lyon"],
         ["a,Ann,Lee,1980-01-02,ann@x.com,Oslo", "e,Eve,Hale,1987-02-03,eve@x.com,Lyon", "b,Robert,Stone,1975-05-06,bob@x.com,Roma",
          "c,Cid,Mos,1990-03-04,cidm@y.com,Nice", "d,Daniel,Hale,1985-07-08,dan@x.com,Lyon"], nil),
        // 3: crm 1 becomes someone else: Ann's golden record splits; shop c is deleted: its id retires.
        (["1,Zed,Quinn,1960-12-12,zed@q.com,Oslo", "2,Bob,Stone,1975-05-06,bob@x.com,Milan",
          "4,Dan,Hale,1985-07-08,dan@x.com,Lyon", "5,Eve,Hale,1987-02-03,eve@x.com,Lyon"],
         ["a,Ann,Lee,1980-01-02,ann@x.com,Oslo", "e,Eve,Hale,1987-02-03,eve@x.com,Lyon", "b,Robert,Stone,1975-05-06,bob@x.com,Roma",
          "d,Daniel,Hale,1985-07-08,dan@x.com,Lyon"], nil),
        // 4: a steward keeps crm 4 and shop d apart; nothing else changes.
        (["1,Zed,Quinn,1960-12-12,zed@q.com,Oslo", "2,Bob,Stone,1975-05-06,bob@x.com,Milan",
          "4,Dan,Hale,1985-07-08,dan@x.com,Lyon", "5,Eve,Hale,1987-02-03,eve@x.com,Lyon"],
         ["a,Ann,Lee,1980-01-02,ann@x.com,Oslo", "e,Eve,Hale,1987-02-03,eve@x.com,Lyon", "b,Robert,Stone,1975-05-06,bob@x.com,Roma",
          "d,Daniel,Hale,1985-07-08,dan@x.com,Lyon"], ("crm:4", "shop:d", .cannotLink)),
        // 5: a steward joins Zed with Ann, and a new record arrives.
        (["1,Zed,Quinn,1960-12-12,zed@q.com,Oslo", "2,Bob,Stone,1975-05-06,bob@x.com,Milan",
          "4,Dan,Hale,1985-07-08,dan@x.com,Lyon", "5,Eve,Hale,1987-02-03,eve@x.com,Lyon", "6,Gus,Lee,1980-01-02,gus@x.com,Oslo"],
         ["a,Ann,Lee,1980-01-02,ann@x.com,Oslo", "e,Eve,Hale,1987-02-03,eve@x.com,Lyon", "b,Robert,Stone,1975-05-06,bob@x.com,Roma",
          "d,Daniel,Hale,1985-07-08,dan@x.com,Lyon"], ("crm:1", "shop:a", .mustLink)),
    ]

    /// The golden state a warehouse holds, as comparable text (rec_id and the pairs' run are
    /// bookkeeping: left out).
    static func state(_ path: String) throws -> [String: [String]] {
        try rows(path, [
            "golden_person": "SELECT * FROM golden_person ORDER BY golden_id",
            "golden_person__lineage": "SELECT * FROM golden_person__lineage ORDER BY golden_id",
            "golden_contact": "SELECT * FROM golden_contact ORDER BY golden_id",
            "golden_contact__lineage": "SELECT * FROM golden_contact__lineage ORDER BY golden_id",
            "golden_rules": "SELECT * FROM golden_rules ORDER BY entity, position",
            "xref": "SELECT * FROM xref ORDER BY entity, source, source_key",
            "golden_ids": "SELECT * FROM golden_ids ORDER BY entity, golden_id",
            "golden_events": "SELECT * FROM golden_events ORDER BY rowid",
            "golden_versions": "SELECT * FROM golden_versions ORDER BY entity, golden_id, version",
            "match_pairs": "SELECT entity, source_l, key_l, source_r, key_r, weight, probability, status, levels FROM match_pairs ORDER BY entity, source_l, key_l, source_r, key_r",
            "ent_person": "SELECT source, source_key, given_name, family_name, dob, email, city FROM ent_person ORDER BY source, source_key",
        ])
    }

    /// Each named query's rows in a warehouse, as text (values joined by "|"): what two warehouses
    /// are compared by.
    static func rows(_ path: String, _ queries: [String: String]) throws -> [String: [String]] {
        let w = try Warehouse(path: path, functions: FunctionSettings())
        defer { w.close() }
        var out: [String: [String]] = [:]
        for (name, sql) in queries {
            out[name] = try w.db.query(sql).map { row in row.map { v in "\(v)" }.joined(separator: "|") }
        }
        return out
    }

    static func write(_ dir: TempDir, _ step: Int) {
        _ = dir.write("crm.csv", crmHeader + steps[step].crm.joined(separator: "\n") + "\n")
        _ = dir.write("shop.csv", shopHeader + steps[step].shop.joined(separator: "\n") + "\n")
    }

    @Test func incrementalRunsEqualFullRunsAfterEveryStep() throws {
        let dir = TempDir("incremental-equivalence")
        let catalogPath = dir.write("catalog.yaml", Self.catalog)
        let a = dir.file("a.db"), b = dir.file("b.db")
        Self.write(dir, 0)
        let ca = try CatalogLoader.load(path: catalogPath, warehouseOverride: a)
        let cb = try CatalogLoader.load(path: catalogPath, warehouseOverride: b)
        var paths: [[String]] = []
        var compared: [[Int64]] = []
        for step in Self.steps.indices {
            Self.write(dir, step)
            if let (l, r, d) = Self.steps[step].decision {
                for path in [a, b] {
                    let w = try Warehouse(path: path, functions: FunctionSettings())
                    try Steward.decide(warehouse: w, entity: "person", RecordRef(l)!, RecordRef(r)!, d)
                    w.close()
                }
            }
            let ra = try Pipeline.run(ca)
            let rb = try Pipeline.run(cb, full: true)
            guard case .array(let ma)? = ra.report["matching"], case .array(let mb)? = rb.report["matching"] else {
                Issue.record("no matching section"); return
            }
            paths.append(ma.map { $0["path"]?.stringValue ?? "?" } + mb.map { $0["path"]?.stringValue ?? "?" })
            compared.append(ma.map { $0["compared_records"]?.intValue ?? -1 })
            let sa = try Self.state(a), sb = try Self.state(b)
            for table in sa.keys.sorted() {
                #expect(sa[table] == sb[table], "step \(step): \(table) differs")
            }
        }
        // A took the incremental path after its first run; B never did.
        #expect(paths == [["full", "full", "full", "full"]] + Array(repeating: ["incremental", "incremental", "full", "full"], count: 5))
        // The events the sequence was built to cause all happened.
        let w = try Warehouse(path: b, functions: FunctionSettings())
        defer { w.close() }
        let events = try w.db.query("SELECT event, count(*) FROM golden_events WHERE entity = 'person' AND run_id > 1 GROUP BY event ORDER BY event")
            .map { "\($0[0].textValue ?? "") \(Int($0[1].doubleValue ?? 0))" }
        // Merges: shop d joins Dan (step 2), the must-link (step 5); splits: Ann's record (step 3), the
        // cannot-link (step 4); shop c's id retires (step 3).
        #expect(events == ["merged 2", "retired 1", "split 2"])
        // Records compared: the changed ones and their blocking partners (person, contact).
        #expect(compared == [[9, 9], [5, 4], [4, 2], [1, 1], [0, 0], [2, 1]])
    }

    @Test func theLedgerSaysWhichPathRanAndWhatItCompared() throws {
        let dir = TempDir("incremental-ledger")
        let catalogPath = dir.write("catalog.yaml", Self.catalog)
        Self.write(dir, 0)
        let c = try CatalogLoader.load(path: catalogPath)
        _ = try Pipeline.run(c)
        Self.write(dir, 1)
        let second = try Pipeline.run(c)
        let w = try Warehouse(path: c.warehouse, functions: FunctionSettings())
        defer { w.close() }
        let stored = try JSONText.parse(try w.db.scalar("SELECT report FROM runs WHERE run_id = ?", [.integer(second.runID)])?.textValue ?? "")
        guard case .array(let m)? = stored["matching"], let person = m.first else { Issue.record("no matching section"); return }
        #expect(person["path"]?.stringValue == "incremental")
        #expect(person["changed_records"]?.intValue == 3)
        // crm 2 and shop e with their partners shop b, crm 4 and crm 5; re-clustered: those of the
        // golden records they touch that are left (crm 3 is gone, shop c stays).
        #expect(person["compared_records"]?.intValue == 5)
        #expect(person["reclustered_records"]?.intValue == 5)
        let state = try w.db.query("SELECT entity, run_id, path FROM match_state ORDER BY entity").map { "\($0[0].textValue!) \($0[1]) \($0[2].textValue!)" }
        #expect(state == ["contact \(Value.integer(second.runID)) incremental", "person \(Value.integer(second.runID)) incremental"])
        // --full says why it ran whole.
        let third = try Pipeline.run(c, full: true)
        guard case .array(let m3)? = third.report["matching"] else { Issue.record("no matching section"); return }
        #expect(m3.first?["path"]?.stringValue == "full")
        #expect(m3.first?["path_reason"]?.stringValue == "--full")
    }

    @Test func theIncrementalPathKeepsThePairBudget() throws {
        let dir = TempDir("incremental-budget")
        _ = dir.write("people.csv", "id,name\n1,lee\n2,lee\n3,lee\n4,moss\n")
        let c = try loadCatalog(dir, "catalog.yaml", """
            version: 1
            sources:
              - {name: people, type: csv, path: people.csv, key: id}
            entities:
              person:
                attributes:
                  name: [trim, lower]
                sources:
                  people: {name: name}
                match:
                  mode: deterministic
                  deterministic: [[name]]
                  pair_budget: 3
            """)
        _ = try Pipeline.run(c)
        // A fourth 'lee' makes the group yield 6 pairs: over the budget, on the incremental path too.
        _ = dir.write("people.csv", "id,name\n1,lee\n2,lee\n3,lee\n4,moss\n5,lee\n")
        #expect {
            try Pipeline.run(c)
        } throws: { e in
            "\(e)".contains("the blocking rules would produce 6 candidate pairs, over the pair budget of 3")
        }
        // The failed step left the golden state as it was.
        let w = try Warehouse(path: c.warehouse, functions: FunctionSettings())
        defer { w.close() }
        #expect(try w.db.scalar("SELECT count(*) FROM xref")?.doubleValue == 4)
        #expect(try w.db.scalar("SELECT count(*) FROM golden_person")?.doubleValue == 2)
        // Back under the budget, the incremental path runs.
        _ = dir.write("people.csv", "id,name\n1,lee\n2,lee\n4,moss\n5,lee\n")
        let ok = try Pipeline.run(c)
        guard case .array(let m)? = ok.report["matching"] else { Issue.record("no matching section"); return }
        #expect(m.first?["path"]?.stringValue == "incremental")
        #expect(try w.db.scalar("SELECT count(*) FROM xref")?.doubleValue == 4)
    }
}
