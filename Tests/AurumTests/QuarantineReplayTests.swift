import Foundation
import Testing
@testable import Aurum

/// `aurum quarantine replay` through the built binary: re-parsed and re-checked rows, the replay
/// run in the ledger, each row's outcome, and `quarantine list` showing it.
@Suite struct QuarantineReplayTests {
    func catalog(_ dir: TempDir, minimumAge: Int) -> String {
        dir.write("c.yaml", """
            sources:
              - {name: people, type: csv, path: people.csv, key: id}
            rules:
              - {name: adult, type: validation, source: people, expression: age >= \(minimumAge)}
            quality: {business_rules: true}
            outputs:
              - {format: csv, path: out.csv}
            """)
    }

    func ledger(_ dir: TempDir, _ sql: String) throws -> [String] {
        let db = try SQLiteDatabase(path: dir.file("aurum.db"), readOnly: true)
        defer { db.close() }
        return try db.query(sql).map { $0.map { $0.textValue ?? "NULL" }.joined(separator: " ") }
    }

    @Test func replayedRowsPassOrAreQuarantinedAgainAndTheLedgerSaysWhich() throws {
        let dir = TempDir("replay")
        dir.write("people.csv", "id,name,age\n1,Ann,30\n2,Bob,15\n3,Cid,40,extra\n4,Dee,12\n")
        var c = catalog(dir, minimumAge: 18)
        #expect(try runAurum(["run", c, "-q"]).status == 0)
        #expect(dir.read("out.csv") == "id,name,age\n1,Ann,30\n")
        let first = try runAurum(["quarantine", "list", "--warehouse", dir.file("aurum.db")])
        #expect(first.stdout == """
            run 1 people:3 [quality/adult] failed validation rule 'adult': age >= 18
            run 1 people:4 [snapshot/parse] expected 3 fields, found 4
            run 1 people:5 [quality/adult] failed validation rule 'adult': age >= 18

            """)

        // Nothing fixed yet: all three fail again, in run 2, with their reasons.
        let none = try runAurum(["quarantine", "replay", c, "-q", "--json"])
        #expect(none.status == 0, "\(none.stderr)")
        #expect(none.stdout == #"{"replayed_run":1,"run_id":2,"replayed":3,"passed":0,"failed":3,"gone":0,"sources":[{"source":"people","replayed":3,"passed":0,"failed":3,"gone":0}]}"# + "\n")
        #expect(try runAurum(["quarantine", "list", "--warehouse", dir.file("aurum.db")]).stdout.split(separator: "\n").count == 3)
        #expect(dir.read("out.csv") == "id,name,age\n1,Ann,30\n")

        // The rule is relaxed and the broken line fixed in the warehouse: replaying run 1 again
        // lets Bob and Cid through; Dee still fails, with the new rule's reason.
        c = catalog(dir, minimumAge: 14)
        let db = try SQLiteDatabase(path: dir.file("aurum.db"))
        try db.run("UPDATE quarantine SET raw = '3,Cid,40' WHERE step = 'snapshot'")
        db.close()
        let fixed = try runAurum(["quarantine", "replay", c, "--run", "1", "-q"])
        #expect(fixed.status == 0, "\(fixed.stderr)")
        #expect(fixed.stdout == """
            run 3 replayed 3 quarantined row(s) of run 1: 2 passed, 1 still failing, 0 gone
              people: 3 replayed, 2 passed, 1 still failing, 0 gone

            """)
        #expect(dir.read("out.csv") == "id,name,age\n1,Ann,30\n2,Bob,15\n3,Cid,40\n")
        #expect(try ledger(dir, "SELECT run_id, command, status FROM runs ORDER BY run_id")
                == ["1 run succeeded", "2 quarantine replay succeeded", "3 quarantine replay succeeded"])
        #expect(try ledger(dir, "SELECT change, source_key FROM change_sets WHERE run_id = 3 ORDER BY rowid") == ["insert 3", "update 2"])
        #expect(try ledger(dir, "SELECT inserted, updated, deleted, unchanged FROM change_counts WHERE run_id = 3") == ["1 1 0 2"])
        #expect(try ledger(dir, "SELECT id, __line, __first_run FROM src_people ORDER BY __rid") == ["1 2 1", "2 3 1", "4 5 1", "3 4 3"])
        #expect(try ledger(dir, """
            SELECT q.line, p.replay_run, p.outcome, coalesce(n.run_id || ':' || n.reason, '-') FROM quarantine_replays p
            JOIN quarantine q ON q.id = p.quarantine_id LEFT JOIN quarantine n ON n.id = p.requarantine_id
            WHERE q.run_id = 1 ORDER BY p.replay_run, q.line
            """) == [
                "3 2 failed 2:failed validation rule 'adult': age >= 18",
                "4 2 failed 2:expected 3 fields, found 4",
                "5 2 failed 2:failed validation rule 'adult': age >= 18",
                "3 3 passed -",
                "4 3 passed -",
                "5 3 failed 3:failed validation rule 'adult': age >= 14",
            ])
        let listed = try runAurum(["quarantine", "list", "--warehouse", dir.file("aurum.db"), "--run", "1"])
        #expect(listed.stdout == """
            run 1 people:3 [quality/adult] failed validation rule 'adult': age >= 18 (replayed in run 3: passed)
            run 1 people:4 [snapshot/parse] expected 3 fields, found 4 (replayed in run 3: passed)
            run 1 people:5 [quality/adult] failed validation rule 'adult': age >= 18 (replayed in run 3: failed)

            """)
        #expect(try runAurum(["quarantine", "list", "--warehouse", dir.file("aurum.db")]).stdout
                == "run 3 people:5 [quality/adult] failed validation rule 'adult': age >= 14\n")

        // Rows that passed are not replayed again; a wrong source is a catalog error.
        let again = try runAurum(["quarantine", "replay", c, "--run", "1", "-q", "--json"])
        #expect(again.stdout.hasPrefix(#"{"replayed_run":1,"run_id":4,"replayed":1,"passed":0,"failed":1,"gone":0"#))
        let wrong = try runAurum(["quarantine", "replay", c, "--source", "nope", "-q"])
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("the catalog has no source 'nope'"))
    }
}
