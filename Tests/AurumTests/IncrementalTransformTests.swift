import Foundation
import Testing
@testable import Aurum

/// The incremental transform against the full one: a catalog with a mapping, a value map, a
/// calculation, a validation rule that quarantines and a null-reject column, through a sequence of
/// change sets (rows that start failing, stop failing, a column whose numeric kind changes and
/// changes back), in a warehouse A that runs incrementally and a warehouse B that runs `--full`
/// every time. After every step the work tables (as sets of rows keyed by source key), the golden
/// tables, xref, lineage and the run's quarantine must be the same.
@Suite struct IncrementalTransformTests {
    static let catalog = """
        version: 1
        sources:
          - {name: crm, type: csv, path: crm.csv, key: id}
          - {name: shop, type: csv, path: shop.csv, key: id}
        rules:
          - {name: rename_last, type: mapping, source: crm, column: surname, target: last}
          - {name: tiers, type: mapping, source: crm, column: tier, values: {g: gold, s: silver}, default: other}
          - {name: points, type: calculation, source: crm, target: points, expression: score * 2}
          - {name: adult, type: validation, source: crm, expression: age >= 18}
        quality:
          nulls:
            policy: keep
            columns:
              email: reject
          business_rules: true
        entities:
          person:
            attributes:
              name: [trim, lower]
              last: [trim, lower]
              email: [email]
            sources:
              crm: {name: first, last: last, email: email}
              shop: {name: given, last: surname, email: mail}
            match:
              mode: deterministic
              deterministic:
                - [email]
            survivorship:
              default: first
        outputs:
          - {format: csv, path: out/golden.csv, data: golden.person}
        """

    static let crmHeader = "id,first,surname,tier,score,age,email\n"
    static let shopHeader = "id,given,surname,mail\n"

    /// The sources after each step, and the transform path A's crm and shop take in it.
    static let steps: [(crm: [String], shop: [String], paths: [String])] = [
        // 0: the base. Bob fails 'adult', Cid has no e-mail (rejected).
        (["1,Ann,Lee,g,10,30,ann@x.com", "2,Bob,Stone,s,20,15,bob@x.com", "3,Cid,Moss,x,30,40,", "4,Dan,Hale,g,40,50,dan@x.com"],
         ["a,Ann,Lee,ann@x.com", "b,Robert,Stone,bob@x.com", "c,Eve,Hale,eve@x.com"], ["full", "full"]),
        // 1: Bob turns 18 (stops failing), Dan turns 16 (starts failing), Eve arrives; Cid is
        // unchanged (stays quarantined, not re-checked).
        (["1,Ann,Lee,g,10,30,ann@x.com", "2,Bob,Stone,s,20,18,bob@x.com", "3,Cid,Moss,x,30,40,", "5,Eve,Hale,s,50,22,eve@x.com",
          "4,Dan,Hale,g,40,16,dan@x.com"],
         ["a,Ann,Lee,ann@x.com", "b,Robert,Stone,bob@x.com", "c,Eve,Hale,eve@x.com"], ["incremental", "incremental"]),
        // 2: Ann's score becomes 10.5: the column is REAL now, crm is rebuilt whole; Cid gets an
        // e-mail (stops failing); shop b is deleted.
        (["1,Ann,Lee,g,10.5,30,ann@x.com", "2,Bob,Stone,s,20,18,bob@x.com", "3,Cid,Moss,x,30,40,cid@x.com", "5,Eve,Hale,s,50,22,eve@x.com",
          "4,Dan,Hale,g,40,16,dan@x.com"],
         ["a,Ann,Lee,ann@x.com", "c,Eve,Hale,eve@x.com"], ["full", "incremental"]),
        // 3: Ann is deleted: score is INTEGER again (rebuilt whole); Fay arrives without an e-mail.
        (["2,Bob,Stone,s,20,18,bob@x.com", "3,Cid,Moss,x,30,40,cid@x.com", "5,Eve,Hale,s,50,22,eve@x.com",
          "4,Dan,Hale,g,40,16,dan@x.com", "6,Fay,Wong,g,60,33,"],
         ["a,Ann,Lee,ann@x.com", "c,Eve,Hale,eve@x.com", "d,Fay,Wong,fay@x.com"], ["full", "incremental"]),
        // 4: only Eve's name changes: Dan and Fay stay quarantined without a re-check.
        (["2,Bob,Stone,s,20,18,bob@x.com", "3,Cid,Moss,x,30,40,cid@x.com", "5,Evie,Hale,s,50,22,eve@x.com",
          "4,Dan,Hale,g,40,16,dan@x.com", "6,Fay,Wong,g,60,33,"],
         ["a,Ann,Lee,ann@x.com", "c,Eve,Hale,eve@x.com", "d,Fay,Wong,fay@x.com"], ["incremental", "incremental"]),
        // 5: Dan is an adult now but has lost his e-mail (fails the other check); Fay gets one and
        // links with shop d; a tier that the value map does not know.
        (["2,Bob,Stone,z,20,18,bob@x.com", "3,Cid,Moss,x,30,40,cid@x.com", "5,Evie,Hale,s,50,22,eve@x.com",
          "4,Dan,Hale,g,40,60,", "6,Fay,Wong,g,60,33,fay@x.com"],
         ["a,Ann,Lee,ann@x.com", "c,Eve,Hale,eve@x.com", "d,Fay,Wong,fay@x.com"], ["incremental", "incremental"]),
    ]

    static func write(_ dir: TempDir, _ step: Int) {
        _ = dir.write("crm.csv", crmHeader + steps[step].crm.joined(separator: "\n") + "\n")
        _ = dir.write("shop.csv", shopHeader + steps[step].shop.joined(separator: "\n") + "\n")
    }

    /// What the transform and the stages after it left, as comparable text.
    static func state(_ path: String) throws -> [String: [String]] {
        let last = "(SELECT max(run_id) FROM runs)"
        return try IncrementalEquivalenceTests.rows(path, [
            // The work tables as sets of rows keyed by source key (every column, with its type).
            "w_crm": "SELECT s.__key, w.rowid = w.__rid, w.* FROM w_crm w JOIN src_crm s ON s.__rid = w.__rid ORDER BY s.__key",
            "w_crm types": "SELECT s.__key, typeof(w.score), typeof(w.points), typeof(w.age) FROM w_crm w JOIN src_crm s ON s.__rid = w.__rid ORDER BY s.__key",
            "w_shop": "SELECT s.__key, w.* FROM w_shop w JOIN src_shop s ON s.__rid = w.__rid ORDER BY s.__key",
            "quarantine": "SELECT source, step, line, rule, reason, raw, rid, source_key FROM quarantine WHERE run_id = \(last) ORDER BY source, source_key, rule",
            "golden_person": "SELECT * FROM golden_person ORDER BY golden_id",
            "golden_person__lineage": "SELECT * FROM golden_person__lineage ORDER BY golden_id",
            "xref": "SELECT * FROM xref ORDER BY entity, source, source_key",
            "golden_ids": "SELECT * FROM golden_ids ORDER BY entity, golden_id",
            "golden_versions": "SELECT * FROM golden_versions ORDER BY entity, golden_id, version",
            "ent_person": "SELECT source, source_key, name, last, email FROM ent_person ORDER BY source, source_key",
        ])
    }

    static func transform(_ report: JSON) -> [JSON] {
        guard case .array(let t)? = report["transform"] else { return [] }
        return t
    }

    @Test func incrementalTransformsEqualFullOnesAfterEveryStep() throws {
        let dir = TempDir("incremental-transform")
        let catalogPath = dir.write("catalog.yaml", Self.catalog)
        let a = dir.file("a.db"), b = dir.file("b.db")
        Self.write(dir, 0)
        let ca = try CatalogLoader.load(path: catalogPath, warehouseOverride: a)
        let cb = try CatalogLoader.load(path: catalogPath, warehouseOverride: b)
        var carried: [Int64] = []
        var checked: [Int64] = []
        for step in Self.steps.indices {
            Self.write(dir, step)
            let ra = try Pipeline.run(ca)
            let rb = try Pipeline.run(cb, full: true)
            let ta = Self.transform(ra.report), tb = Self.transform(rb.report)
            #expect(ta.map { $0["path"]?.stringValue ?? "?" } == Self.steps[step].paths, "step \(step)")
            #expect(tb.map { $0["path"]?.stringValue ?? "?" } == ["full", "full"], "step \(step)")
            if step > 0 { #expect(tb.map { $0["path_reason"]?.stringValue } == ["--full", "--full"]) }
            for t in ta where t["path"]?.stringValue == "incremental" {
                #expect(t["checked"]?.stringValue == "changed rows only")
            }
            carried.append(ta.first?["quarantine_carried"]?.intValue ?? -1)
            checked.append(ta.first?["rows_checked"]?.intValue ?? -1)
            let sa = try Self.state(a), sb = try Self.state(b)
            for table in sa.keys.sorted() {
                #expect(sa[table] == sb[table], "step \(step): \(table) differs")
            }
            // The golden records agree with the work tables: quarantined rows never reach them.
            #expect(ra.report["integration_report"]?["data_quality_summary"]?["quarantined_records"]?.intValue
                    == rb.report["integration_report"]?["data_quality_summary"]?["quarantined_records"]?.intValue)
        }
        // crm: the rows checked (all on the full path; the changed keys' on the incremental one)
        // and the quarantined rows carried over unchecked (Cid in 1; Dan and Fay in 4).
        #expect(checked == [4, 3, 5, 5, 1, 3])
        #expect(carried == [0, 1, 0, 0, 2, 0])
        // Exact contents after the last step: Dan rejected for his e-mail, the others through.
        let sa = try Self.state(a)
        func plain(_ rows: [String]?) -> [String] { (rows ?? []).map { $0.replacingOccurrences(of: #"(text|integer)\("?|"?\)(?=\||$)"#, with: "", options: .regularExpression) } }
        #expect(plain(sa["quarantine"]) == [
            #"crm|quality|5|null_check:email|column \'email\' is null (policy: reject)|{\"id\":\"4\",\"first\":\"Dan\",\"surname\":\"Hale\",\"tier\":\"g\",\"score\":\"40\",\"age\":\"60\",\"email\":\"\"}|4|4"#,
        ])
        #expect(plain(sa["w_crm types"]) == ["2|integer|integer|integer", "3|integer|integer|integer", "5|integer|integer|integer", "6|integer|integer|integer"])
        // The carried rows say which run checked them.
        let w = try Warehouse(path: a, functions: FunctionSettings())
        defer { w.close() }
        let rows = try w.db.query("SELECT run_id, source_key, checked_run FROM quarantine WHERE step = 'quality' AND run_id IN (2, 5) ORDER BY run_id, source_key")
            .map { $0.map { $0.textValue ?? "NULL" }.joined(separator: " ") }
        // Run 2: Cid carried from run 1, Dan checked in run 2; run 5: Dan and Fay carried from run 4.
        #expect(rows == ["2 3 1", "2 4 2", "5 4 4", "5 6 4"])
    }

    @Test func theReportSaysWhyTheTransformRanWhole() throws {
        let dir = TempDir("incremental-transform-reason")
        let catalogPath = dir.write("catalog.yaml", Self.catalog)
        Self.write(dir, 0)
        let c = try CatalogLoader.load(path: catalogPath)
        let first = try Pipeline.run(c)
        #expect(Self.transform(first.report).map { $0["path_reason"]?.stringValue } == ["no previous state", "no previous state"])
        Self.write(dir, 1)
        _ = try Pipeline.run(c)
        Self.write(dir, 2)
        let third = try Pipeline.run(c)
        #expect(Self.transform(third.report).map { $0["path_reason"]?.stringValue } == ["the preparation configuration changed", nil])
        let fourth = try Pipeline.run(c, full: true)
        #expect(Self.transform(fourth.report).map { $0["path_reason"]?.stringValue } == ["--full", "--full"])
        // Nothing changed since: nothing is checked, every quarantined row is carried.
        let fifth = try Pipeline.run(c)
        let t = Self.transform(fifth.report)
        #expect(t.map { $0["rows_checked"]?.intValue } == [0, 0])
        #expect(t.first?["quarantine_carried"]?.intValue == 1)
        #expect(fifth.report["integration_report"]?["data_quality_summary"]?["quarantined_records"]?.intValue == 1)

        // Duplicate removal needs the whole table.
        let dupPath = dir.write("dup.yaml", Self.catalog.replacingOccurrences(of: "  business_rules: true", with: "  business_rules: true\n  duplicates: {columns: [email]}"))
        let d = try CatalogLoader.load(path: dupPath, warehouseOverride: dir.file("dup.db"))
        _ = try Pipeline.run(d)
        let again = try Pipeline.run(d)
        #expect(Self.transform(again.report).map { $0["path_reason"]?.stringValue }
                == ["duplicate removal compares rows across the whole source", "duplicate removal compares rows across the whole source"])
    }

    /// A keyed source's row ids across snapshots: a re-read key keeps its id, a new key gets one
    /// above the largest ever given, a deleted key's id is never given again.
    /// A first snapshot inserts rows whose rid is the last one's + 1 with a NULL rid (SQLite gives
    /// the largest + 1): the rids must still be the ones the writer gave, across feed inserts of
    /// 8,192 rows, and from a start above 1 (a keyed source whose staged table is gone).
    @Test func appendedRowIdsAreTheOnesGiven() throws {
        let dir = TempDir("appended-rids")
        _ = dir.write("many.csv", "n\n" + (1...20_000).map(String.init).joined(separator: "\n") + "\n")
        let many = try loadCatalog(dir, "many.yaml", """
            version: 1
            sources:
              - {name: many, type: csv, path: many.csv}
            outputs:
              - {format: csv, path: out/many.csv}
            """)
        _ = try Pipeline.run(many)
        do {
            let db = try SQLiteDatabase(path: many.warehouse, readOnly: true)
            defer { db.close() }
            let r = try db.query("SELECT count(*), min(__rid), max(__rid), sum(__rid = n), sum(__line = n + 1) FROM src_many")[0]
            #expect(r == [.integer(20_000), .integer(1), .integer(20_000), .integer(20_000), .integer(20_000)])
        }
        _ = dir.write("people.csv", "id,name\na,x\nb,y\nc,z\n")
        let people = try loadCatalog(dir, "people.yaml", """
            version: 1
            sources:
              - {name: people, type: csv, path: people.csv, key: id}
            outputs:
              - {format: csv, path: out/people.csv}
            """)
        func rids() throws -> [String] {
            let db = try SQLiteDatabase(path: people.warehouse, readOnly: true)
            defer { db.close() }
            return try db.query("SELECT __key, __rid FROM src_people ORDER BY __rid").map { "\($0[0].textValue ?? "")=\($0[1].textValue ?? "")" }
        }
        _ = try Pipeline.run(people)
        #expect(try rids() == ["a=1", "b=2", "c=3"])
        do {
            let db = try SQLiteDatabase(path: people.warehouse)
            defer { db.close() }
            try db.execute("DROP TABLE src_people")
        }
        _ = dir.write("people.csv", "id,name\nc,z\nd,w\n")
        _ = try Pipeline.run(people)
        #expect(try rids() == ["c=4", "d=5"])
    }

    @Test func rowIdsAreStableByKeyAcrossSnapshots() throws {
        let dir = TempDir("stable-rids")
        _ = dir.write("people.csv", "id,name\n")
        let c = try loadCatalog(dir, "catalog.yaml", """
            version: 1
            sources:
              - {name: people, type: csv, path: people.csv, key: id}
            outputs:
              - {format: csv, path: out/people.csv}
            """)
        func snapshot(_ ids: [String]) throws -> [String] {
            _ = dir.write("people.csv", "id,name\n" + ids.map { "\($0),n\($0)" }.joined(separator: "\n") + "\n")
            _ = try Pipeline.run(c)
            let db = try SQLiteDatabase(path: c.warehouse, readOnly: true)
            defer { db.close() }
            return try db.query("SELECT __key, __rid FROM src_people ORDER BY __key").map { "\($0[0].textValue ?? "")=\($0[1].textValue ?? "")" }
        }
        #expect(try snapshot(["a", "b", "c"]) == ["a=1", "b=2", "c=3"])
        // Reordered, b deleted, d new.
        #expect(try snapshot(["c", "a", "d"]) == ["a=1", "c=3", "d=4"])
        // b back: a new row id; e new.
        #expect(try snapshot(["a", "b", "c", "d", "e"]) == ["a=1", "b=5", "c=3", "d=4", "e=6"])
        // e (the largest id) deleted, then f: above the largest ever given, not the current maximum.
        #expect(try snapshot(["a", "b", "c", "d"]) == ["a=1", "b=5", "c=3", "d=4"])
        #expect(try snapshot(["f", "a", "b", "c", "d"]) == ["a=1", "b=5", "c=3", "d=4", "f=7"])
        // The change sets name the rows.
        let db = try SQLiteDatabase(path: c.warehouse, readOnly: true)
        defer { db.close() }
        let changes = try db.query("SELECT run_id, change, source_key, rid FROM change_sets ORDER BY run_id, change, rid").map { $0.map { $0.textValue ?? "NULL" }.joined(separator: " ") }
        #expect(changes == ["2 delete b 2", "2 insert d 4", "3 insert b 5", "3 insert e 6", "4 delete e 6", "5 insert f 7"])
        #expect(try db.scalar("SELECT max_rid FROM sources WHERE name = 'people'") == .integer(7))
    }
}
