import Foundation
import Testing
@testable import Aurum

/// Change sets: each snapshot's inserts, updates and deletes against the previous one.
@Suite struct ChangeSetTests {
    func run(_ dir: TempDir, people: String, words: String) throws {
        try people.write(toFile: dir.file("people.csv"), atomically: true, encoding: .utf8)
        try words.write(toFile: dir.file("words.csv"), atomically: true, encoding: .utf8)
        _ = try Pipeline.run(try CatalogLoader.load(path: dir.file("catalog.yaml")))
    }

    @Test func keyedAndKeylessSourcesAcrossThreeRuns() throws {
        let dir = TempDir("changes")
        try """
            version: 1
            sources:
              - {name: people, type: csv, path: people.csv, key: id}
              - {name: words, type: csv, path: words.csv}
            integration: {join: cross}
            outputs:
              - {format: csv, path: out/x.csv}
            """.write(toFile: dir.file("catalog.yaml"), atomically: true, encoding: .utf8)
        try run(dir, people: "id,name,city\n1,Ann,Oslo\n2,Bob,Rome\n3,Cid,Nice\n", words: "w\nb\nb\n")
        try run(dir, people: "id,name,city\n1,Ann,Oslo\n2,Bob,Paris\n4,Dan,Lyon\n", words: "w\nb\nc\n")
        try run(dir, people: "id,name,city\n1,Ann,Oslo\n2,Bob,Paris\n4,Dan,Lyon\n", words: "w\nb\nc\n")
        let path = dir.file("aurum.db")

        let (r1, first) = try ChangeQuery.counts(warehouse: path, run: 1)
        #expect(r1 == 1)
        #expect(first.map { "\($0.source) \($0.first) \($0.inserted)/\($0.updated)/\($0.deleted)/\($0.unchanged)" }
                == ["people true 3/0/0/0", "words true 2/0/0/0"])
        #expect(try ChangeQuery.changes(warehouse: path, run: 1).isEmpty)

        let (_, second) = try ChangeQuery.counts(warehouse: path, run: 2)
        #expect(second.map { "\($0.source) \($0.first) \($0.inserted)/\($0.updated)/\($0.deleted)/\($0.unchanged)" }
                == ["people false 1/1/1/1", "words false 1/0/1/1"])
        let people = try ChangeQuery.changes(warehouse: path, run: 2, source: "people")
        #expect(people.map { "\($0.change) \($0.key ?? "-")" } == ["insert 4", "update 2", "delete 3"])
        let words = try ChangeQuery.changes(warehouse: path, run: 2, source: "words")
        #expect(words.map(\.change) == ["insert", "delete"])
        #expect(words.allSatisfy { $0.key == nil && $0.hash != nil })

        // Nothing changed: nothing listed, everything unchanged.
        let (latest, third) = try ChangeQuery.counts(warehouse: path, run: nil)
        #expect(latest == 3)
        #expect(third.map { "\($0.source) \($0.inserted)/\($0.updated)/\($0.deleted)/\($0.unchanged)" } == ["people 0/0/0/3", "words 0/0/0/2"])
        #expect(try ChangeQuery.changes(warehouse: path, run: 3).isEmpty)
    }

    func staged(_ dir: TempDir, _ sql: String) throws -> [String] {
        let db = try SQLiteDatabase(path: dir.file("aurum.db"), readOnly: true)
        defer { db.close() }
        return try db.query(sql).map { $0.map { $0.textValue ?? "NULL" }.joined(separator: " ") }
    }

    /// First-seen runs survive re-snapshots (by key; by content without one), also for a key
    /// staged twice, and a key that comes back after a deletion is new again.
    @Test func firstSeenIsCarriedOverByKeyAndByContent() throws {
        let dir = TempDir("first-seen")
        try """
            sources:
              - {name: people, type: csv, path: people.csv, key: id}
              - {name: words, type: csv, path: words.csv}
            integration: {join: cross}
            outputs:
              - {format: csv, path: out/x.csv}
            """.write(toFile: dir.file("catalog.yaml"), atomically: true, encoding: .utf8)
        try run(dir, people: "id,name\n1,Ann\n2,Bob\n2,Bob\n", words: "w\na\n")
        try run(dir, people: "id,name\n1,Ann\n2,Bo\n3,Cid\n", words: "w\na\nb\n")
        try run(dir, people: "id,name\n2,Bo\n3,Cid\n", words: "w\nb\n")
        try run(dir, people: "id,name\n1,Ann\n2,Bo\n3,Cy\n", words: "w\na\nb\n")
        // Row ids are stable by key: key 1, back after its deletion, is a new row with a new id.
        // Runs 3 and 4 patch the staged table (run 2 staged it again: run 1 had key 2 twice), so
        // a row keeps the last run of the run that staged its current version: "2 Bo" run 2's.
        #expect(try staged(dir, "SELECT id, name, __first_run, __last_run FROM src_people ORDER BY __rid")
                == ["2 Bo 1 2", "3 Cy 2 4", "1 Ann 4 4"])
        #expect(try staged(dir, "SELECT w, __first_run FROM src_words ORDER BY __rid") == ["a 4", "b 2"])
        // Run 2 against run 1's two rows of key 2: one update (the key's first row differs).
        let two = try ChangeQuery.changes(warehouse: dir.file("aurum.db"), run: 2, source: "people")
        #expect(two.map { "\($0.change) \($0.key ?? "-")" } == ["insert 3", "update 2"])
        // Run 3 drops key 1; run 1's two rows of key 2 were one key, and no row of it is left over.
        let three = try ChangeQuery.changes(warehouse: dir.file("aurum.db"), run: 3, source: "people")
        #expect(three.map { "\($0.change) \($0.key ?? "-")" } == ["delete 1"])
        let (_, counts) = try ChangeQuery.counts(warehouse: dir.file("aurum.db"), run: 4)
        #expect(counts.map { "\($0.source) \($0.inserted)/\($0.updated)/\($0.deleted)/\($0.unchanged)" } == ["people 1/1/0/1", "words 1/0/0/1"])
    }

    /// A keyed source read again with the same columns is patched in place: only new and changed
    /// rows are written (their `__last_run` is this run's), an unchanged row keeps its line and last
    /// run, except a row the quality check quarantined, whose carried quarantine entry names its
    /// current line. Another column set stages the source again whole.
    @Test func aKeyedReSnapshotWritesOnlyWhatChanged() throws {
        let dir = TempDir("patch")
        try """
            version: 1
            sources:
              - {name: people, type: csv, path: people.csv, key: id}
            rules:
              - {name: adult, type: validation, source: people, expression: age >= 18}
            quality: {business_rules: true}
            outputs:
              - {format: csv, path: out.csv}
            """.write(toFile: dir.file("catalog.yaml"), atomically: true, encoding: .utf8)
        func run(_ csv: String) throws {
            try csv.write(toFile: dir.file("people.csv"), atomically: true, encoding: .utf8)
            _ = try Pipeline.run(try CatalogLoader.load(path: dir.file("catalog.yaml")))
        }
        try run("id,name,age\n1,Ann,30\n2,Bob,15\n3,Cid,40\n")
        // A row before the others moves every line down; Cid changes; Bob (quarantined) does not.
        try run("id,name,age\n0,Zed,50\n1,Ann,30\n2,Bob,15\n3,Cid,41\n")
        #expect(try staged(dir, "SELECT id, age, __line, __first_run, __last_run FROM src_people ORDER BY __rid")
                == ["1 30 2 1 1", "2 15 4 1 2", "3 41 5 1 2", "0 50 2 2 2"])
        #expect(try staged(dir, "SELECT run_id, line, source_key FROM quarantine WHERE step = 'quality' ORDER BY run_id")
                == ["1 3 2", "2 4 2"])
        #expect(try staged(dir, "SELECT change, source_key, rid FROM change_sets WHERE run_id = 2 ORDER BY rowid") == ["insert 0 4", "update 3 3"])
        #expect(dir.read("out.csv") == "id,name,age\n1,Ann,30\n3,Cid,41\n0,Zed,50\n")
        // Ann deleted, nothing else changed.
        try run("id,name,age\n0,Zed,50\n2,Bob,15\n3,Cid,41\n")
        #expect(try staged(dir, "SELECT id, __line, __last_run FROM src_people ORDER BY __rid") == ["2 3 3", "3 5 2", "0 2 2"])
        #expect(try staged(dir, "SELECT change, source_key, rid FROM change_sets WHERE run_id = 3 ORDER BY rowid") == ["delete 1 1"])
        // A new column: staged again whole, every row this run's.
        try run("id,name,age,city\n0,Zed,50,Oslo\n2,Bob,15,Rome\n3,Cid,41,Nice\n")
        #expect(try staged(dir, "SELECT id, city, __line, __last_run FROM src_people ORDER BY __rid") == ["2 Rome 3 4", "3 Nice 4 4", "0 Oslo 2 4"])
    }

    /// A source that gets a key: its rows staged without one are no previous keys, so the snapshot
    /// stages the source again whole (patching would leave them in place for ever).
    @Test func aSourceThatGetsAKeyIsStagedAgainWhole() throws {
        let dir = TempDir("gets-a-key")
        try "id,name\n1,Ann\n2,Bob\n".write(toFile: dir.file("people.csv"), atomically: true, encoding: .utf8)
        for key in ["", ", key: id"] {
            try """
                sources:
                  - {name: people, type: csv, path: people.csv\(key)}
                outputs:
                  - {format: csv, path: out.csv}
                """.write(toFile: dir.file("catalog.yaml"), atomically: true, encoding: .utf8)
            _ = try Pipeline.run(try CatalogLoader.load(path: dir.file("catalog.yaml")))
        }
        #expect(try staged(dir, "SELECT id, coalesce(__key, '-'), __last_run FROM src_people ORDER BY __rid") == ["1 1 2", "2 2 2"])
    }

    /// `options.deleted_column`: rows it marks are not staged, and are deletes of their key.
    @Test func aSoftDeleteColumnDeletesItsRows() throws {
        let dir = TempDir("soft-delete")
        try """
            sources:
              - {name: people, type: csv, path: people.csv, key: id, options: {deleted_column: deleted}}
              - {name: words, type: csv, path: words.csv}
            integration: {join: cross}
            outputs:
              - {format: csv, path: out/x.csv}
            """.write(toFile: dir.file("catalog.yaml"), atomically: true, encoding: .utf8)
        try run(dir, people: "id,name,deleted\n1,Ann,\n2,Bob,false\n3,Cid,0\n4,Dan,yes\n", words: "w\na\n")
        #expect(try staged(dir, "SELECT id FROM src_people ORDER BY __rid") == ["1", "2", "3"])
        #expect(try staged(dir, "SELECT rows_read, rows_staged, rows_quarantined FROM snapshots WHERE source = 'people'") == ["4 3 0"])
        try run(dir, people: "id,name,deleted\n1,Ann,\n2,Bob,2024-05-01\n3,Cy,\n5,Eve,true\n", words: "w\na\n")
        #expect(try staged(dir, "SELECT id, name FROM src_people ORDER BY __rid") == ["1 Ann", "3 Cy"])
        let changes = try ChangeQuery.changes(warehouse: dir.file("aurum.db"), run: 2, source: "people")
        #expect(changes.map { "\($0.change) \($0.key ?? "-")" } == ["update 3", "delete 2"])
        let (_, counts) = try ChangeQuery.counts(warehouse: dir.file("aurum.db"), run: 2)
        #expect(counts.first { $0.source == "people" }.map { "\($0.inserted)/\($0.updated)/\($0.deleted)/\($0.unchanged)" } == "0/1/1/1")

        try """
            sources:
              - {name: words, type: csv, path: words.csv, options: {deleted_column: w}}
            outputs:
              - {format: csv, path: out/x.csv}
            """.write(toFile: dir.file("catalog.yaml"), atomically: true, encoding: .utf8)
        #expect { try self.run(dir, people: "", words: "w\na\n") } throws: {
            "\($0)".contains("sources[0].options.deleted_column") && "\($0)".contains("needs the source's key")
        }
    }

    /// A key staged twice that is not read again: both of its rows are deletes.
    @Test func everyRowOfADroppedDuplicateKeyIsDeleted() throws {
        let dir = TempDir("dup-keys")
        try """
            sources:
              - {name: people, type: csv, path: people.csv, key: id}
              - {name: words, type: csv, path: words.csv}
            integration: {join: cross}
            outputs:
              - {format: csv, path: out/x.csv}
            """.write(toFile: dir.file("catalog.yaml"), atomically: true, encoding: .utf8)
        try run(dir, people: "id,name\n1,Ann\n2,Bob\n2,Bo\n", words: "w\na\n")
        try run(dir, people: "id,name\n1,Ann\n", words: "w\na\n")
        let changes = try ChangeQuery.changes(warehouse: dir.file("aurum.db"), run: 2, source: "people")
        #expect(changes.map { "\($0.change) \($0.key ?? "-")" } == ["delete 2", "delete 2"])
        let (_, counts) = try ChangeQuery.counts(warehouse: dir.file("aurum.db"), run: 2)
        #expect(counts.first { $0.source == "people" }.map { "\($0.inserted)/\($0.updated)/\($0.deleted)/\($0.unchanged)" } == "0/0/2/1")
    }
}
