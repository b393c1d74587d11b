import Foundation
import Testing
import Aurum

/// Redis going away mid-load, and the usual faults, through the built `aurum`, each against a
/// redis-server of the test's own (so killing clients touches no other test).
@Suite(.enabled(if: Servers.redis, "no /usr/bin/redis-server to start a private server (set CI=true to fail instead)"), .serialized)
struct RedisFaultTests {
    static let rows = 200_000

    @Test(.timeLimit(.minutes(5))) func connectionKilledMidLoadThenRunAgain() throws {
        let redis = try PrivateRedis()
        let dir = TempDir()
        writeCustomers(dir, rows: Self.rows)
        let cat = dir.write("load.yaml", """
            warehouse: w.db
            sources:
              - {name: customers, type: csv, path: customers.csv}
            outputs:
              - {format: redis, connection: "\(redis.url)", options: {key: "c:{id}", batch: 1000}}
            """)
        let run = try AurumProcess(["run", cat, "--quiet"])
        let started = waitUntil(120) { !run.isRunning || ((try? redis.dbsize()) ?? 0) > 0 }
        let alive = run.isRunning
        if started && alive { try redis.cli("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes") }
        let r = run.wait()
        try #require(started && alive, "the load ended before its connection could be killed: \(r.stderr)")
        #expect(r.status == 1)
        #expect(r.stderr.contains("redis 127.0.0.1:\(redis.port)/0"), "\(r.stderr)")
        #expect(r.stderr.contains("rows committed in earlier batches"), "\(r.stderr)")
        let ledger = Ledger(path: dir.file("w.db"))
        #expect(try ledger.lastRun().status == "failed")
        let step = try #require(try ledger.failedStep())
        #expect(step.name == "output:redis")
        let committed = try #require(step.recordsOut)
        let keys = try redis.dbsize()
        #expect(committed > 0 && committed < Self.rows, "records_out \(committed)")
        // Batches are MULTI/EXEC: the server holds whole batches only; one EXEC whose reply was lost may have landed too.
        #expect(keys >= committed && keys <= committed + 1000, "keys \(keys), ledger \(committed)")
        try ledger.expectConsistent()

        let again = try runAurum(["run", cat, "--quiet"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try redis.dbsize() == Self.rows)
        #expect(try redis.cli("HGET", "c:123456", "name") == "Name 123456")
        #expect(try redis.cli("HLEN", "c:1") == "3")
    }

    @Test func faultsNameTheServerAndExit1() throws {
        let secret = "Wr0ng-Redis-\(UUID().uuidString.prefix(6))"
        let good = "Corr3ct-Redis-\(UUID().uuidString.prefix(6))"
        let limitedPW = "Limit3d-\(UUID().uuidString.prefix(6))"
        let redis = try PrivateRedis(password: good)
        try redis.cli("ACL", "SETUSER", "limited", "on", ">\(limitedPW)", "~*", "-@all", "+auth", "+select", "+ping")
        try redis.cli("HSET", "c:1", "name", "Ada")
        let dir = TempDir()
        dir.write("one.csv", "id,name\n1,Ada\n")
        let down = freePort()
        struct Case { var name: String; var yaml: String; var step: String; var expect: [String] }
        let cases = [
            Case(name: "unreachable", yaml: """
                sources: [{name: r, type: redis, connection: "redis://:${AURUM_T_SECRET}@127.0.0.1:\(down)/0", query: "c:*"}]
                outputs: [{format: csv, path: out.csv}]
                """, step: "snapshot:r", expect: ["redis 127.0.0.1:\(down)/0", "Connection refused"]),
            Case(name: "password", yaml: """
                sources: [{name: r, type: redis, connection: "redis://127.0.0.1:\(redis.port)/0", query: "c:*", auth: {password: "${AURUM_T_SECRET}"}}]
                outputs: [{format: csv, path: out.csv}]
                """, step: "snapshot:r", expect: ["authentication failed at redis 127.0.0.1:\(redis.port)/0"]),
            Case(name: "permission-read", yaml: """
                sources: [{name: r, type: redis, connection: "redis://limited:${AURUM_T_LIMITED}@127.0.0.1:\(redis.port)/0", query: "c:*"}]
                outputs: [{format: csv, path: out.csv}]
                """, step: "snapshot:r", expect: ["redis 127.0.0.1:\(redis.port)/0", "NOPERM"]),
            Case(name: "permission-write", yaml: """
                sources: [{name: one, type: csv, path: one.csv}]
                outputs: [{format: redis, connection: "redis://limited:${AURUM_T_LIMITED}@127.0.0.1:\(redis.port)/0", options: {key: "w:{id}"}}]
                """, step: "output:redis", expect: ["redis 127.0.0.1:\(redis.port)/0", "NOPERM", "0 rows committed"]),
        ]
        for c in cases {
            let cat = dir.write("\(c.name).yaml", "warehouse: \(c.name).db\n" + c.yaml + "\n")
            let r = try runAurum(["run", cat, "--quiet"], env: ["AURUM_T_SECRET": secret, "AURUM_T_LIMITED": limitedPW])
            #expect(r.status == 1, "\(c.name): \(r.stderr)")
            for e in c.expect { #expect(r.stderr.contains(e), "\(c.name): expected '\(e)' in \(r.stderr)") }
            for s in [secret, good, limitedPW] { #expect(!r.stderr.contains(s), "\(c.name): \(r.stderr)") }
            let ledger = Ledger(path: dir.file("\(c.name).db"))
            #expect(try ledger.lastRun().status == "failed")
            #expect(try ledger.failedStep()?.name == c.step)
            try ledger.expectConsistent()
        }
        #expect(try redis.cli("EXISTS", "w:1") == "0")
    }
}
