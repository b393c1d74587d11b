import Foundation
import Testing
import Aurum

/// The warehouse's VFS ("aurum-wal", `Sources/CAurumSQLite`) holds WAL frames in a buffer until
/// the next commit frame: a commit must still be in the WAL file when the process is killed
/// straight after it, and visible to another connection as soon as it returns.
struct WALWriteTests {
    @Test(.timeLimit(.minutes(2)))
    func aCommittedChunkIsInTheWALWhenTheProcessIsKilledRightAfterIt() throws {
        let dir = TempDir("aurum-wal-kill")
        dir.write("items.csv", "id,name\n" + (1...40_000).map { "\($0),name \($0 % 977)" }.joined(separator: "\n") + "\n")
        dir.write("catalog.yaml", """
            version: 1
            warehouse: w.db
            sources:
              - {name: items, type: csv, path: items.csv}
            outputs:
              - {format: csv, path: out/items.csv}
            """)
        // Killed right after the first 32,768 rows of the load table are committed.
        let r = try Launch(["run", dir.file("catalog.yaml"), "--quiet"], env: ["AURUM_KILL_AT": "snapshot.chunk-committed"]).wait()
        try #require(r.killedBySIGKILL, "expected death by SIGKILL, got \(r.how): \(r.stderr)")
        // Reading it runs WAL recovery, from the file alone (no connection is left).
        let db = try SQLiteDatabase(path: dir.file("w.db"))
        defer { db.close() }
        #expect(try db.scalar("PRAGMA integrity_check")?.textValue == "ok")
        #expect(try db.query("SELECT count(*), min(__rid), max(__rid), sum(CAST(id AS INTEGER) = __rid) FROM src_items__load")[0]
                == [.integer(32_768), .integer(1), .integer(32_768), .integer(32_768)])
    }

    @Test func aCommitIsVisibleToAnotherConnectionAtOnce() throws {
        let dir = TempDir("aurum-wal-visible")
        let path = dir.file("t.db")
        let a = try SQLiteDatabase(path: path)
        defer { a.close() }
        try a.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; CREATE TABLE t (i INTEGER PRIMARY KEY, s TEXT)")
        let b = try SQLiteDatabase(path: path, readOnly: true)
        defer { b.close() }
        let text = String(repeating: "x", count: 300)
        for round in 1...3 {
            try a.execute("BEGIN")
            let st = try a.prepare("INSERT INTO t (s) VALUES (?)")
            for _ in 0..<5_000 {
                try st.bind([.text(text)])
                try st.step()
                st.reset()
            }
            // Not committed: the other connection sees the rows of the rounds before.
            #expect(try b.scalar("SELECT count(*) FROM t") == .integer(Int64((round - 1) * 5_000)))
            try a.execute("COMMIT")
            #expect(try b.query("SELECT count(*), sum(length(s)) FROM t")[0] == [.integer(Int64(round * 5_000)), .integer(Int64(round * 5_000 * 300))])
        }
        // Checkpointed by the writer, then read from the database file by the other.
        _ = try a.query("PRAGMA wal_checkpoint(TRUNCATE)")
        #expect(try b.query("SELECT count(*), sum(length(s)) FROM t")[0] == [.integer(15_000), .integer(4_500_000)])
    }
}
