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
}
