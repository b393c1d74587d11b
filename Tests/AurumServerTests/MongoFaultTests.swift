import Foundation
import Testing
import Aurum

/// MongoDB going away mid-load, and wrong credentials, through the built `aurum`, each against a
/// SecantusDB of the test's own (storage in a temporary directory, so a restart keeps what was written).
@Suite(.enabled(if: Servers.mongo, "MongoDB server not reachable (set CI=true to fail instead)"), .serialized)
struct MongoFaultTests {
    /// SecantusDB upserts about 500-1,000 documents/s on this machine even with an index on the key
    /// (and each upsert scans the collection without one), so 20,000 rows, not 200,000.
    static let rows = 20_000

    /// `write: upsert` keyed on `id`, unordered bulk writes of 500: the server is killed (SIGKILL)
    /// mid-load; the run fails naming the server, the step records the documents acknowledged so far;
    /// after a restart, running again leaves exactly one document per row.
    @Test(.timeLimit(.minutes(8))) func serverKilledMidLoadThenRunAgain() throws {
        let mongo = try PrivateMongo()
        // Not unique, so a duplicated document would show up in the check at the end.
        try mongo.python("c.crm.customers.create_index('id')")
        let dir = TempDir()
        writeCustomers(dir, rows: Self.rows)
        let cat = dir.write("load.yaml", """
            warehouse: w.db
            sources:
              - {name: customers, type: csv, path: customers.csv}
            outputs:
              - {format: mongodb, connection: "\(mongo.url)/crm?serverSelectionTimeoutMS=2000", table: customers,
                 options: {write: upsert, key: id, batch: 500}}
            """)
        let run = try AurumProcess(["run", cat, "--quiet"])
        // Kill once a few batches are in (so the failed step has a count to record).
        let started = waitUntil(240) {
            !run.isRunning || (Int((try? mongo.python("print(c.crm.customers.estimated_document_count())")) ?? "0") ?? 0) >= 2_000
        }
        let alive = run.isRunning
        if started && alive { mongo.kill() }
        let r = run.wait()
        try #require(started && alive, "the load ended before the server could be killed: \(r.stderr)")
        #expect(r.status == 1)
        #expect(r.stderr.contains("mongodb 127.0.0.1:\(mongo.port)/crm"), "\(r.stderr)")
        #expect(r.stderr.contains("rows written in earlier batches"), "\(r.stderr)")
        let ledger = Ledger(path: dir.file("w.db"))
        #expect(try ledger.lastRun().status == "failed")
        let step = try #require(try ledger.failedStep())
        #expect(step.name == "output:mongodb")
        let written = try #require(step.recordsOut)
        #expect(written >= 1_500 && written < Self.rows, "records_out \(written)")
        #expect(step.error.contains("\(written) rows written in earlier batches"), "\(step.error)")
        try ledger.expectConsistent()

        try mongo.start()
        // What survived the kill: no more than the batches sent (the failed one may be partly in).
        let kept = Int(try mongo.python("print(c.crm.customers.count_documents({}))")) ?? -1
        #expect(kept >= 0 && kept <= written + 500, "documents \(kept), ledger \(written)")

        let again = try runAurum(["run", cat, "--quiet"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try ledger.lastRun().status == "succeeded")
        // Exactly one document per id 1…rows, each with the row's values.
        let check = try mongo.python("""
            k = c.crm.customers
            dup = list(k.aggregate([{'$group': {'_id': '$id', 'n': {'$sum': 1}}}, {'$match': {'n': {'$gt': 1}}}, {'$count': 'd'}]))
            agg = list(k.aggregate([{'$group': {'_id': None, 'lo': {'$min': '$id'}, 'hi': {'$max': '$id'}, 's': {'$sum': '$score'}}}]))[0]
            d = k.find_one({'id': 12345})
            print(k.count_documents({}), len(k.distinct('id')), dup[0]['d'] if dup else 0, agg['lo'], agg['hi'], agg['s'], d['name'], d['score'])
            """)
        let expectedSum = (1...Self.rows).reduce(0) { $0 + $1 % 997 }
        #expect(check == "\(Self.rows) \(Self.rows) 0 1 \(Self.rows) \(expectedSum) Name 12345 \(12345 % 997)")
    }

    /// A server with `--auth`: a wrong password, for a source and for an output, fails with the
    /// server's message naming host, port and database, exit 1, no secret anywhere in stderr; the
    /// right one works.
    @Test(.timeLimit(.minutes(3))) func wrongCredentialsNameTheServerAndExit1() throws {
        let good = "Corr3ct-Mongo-\(UUID().uuidString.prefix(6))"
        let wrong = "Wr0ng-Mongo-\(UUID().uuidString.prefix(6))"
        let mongo = try PrivateMongo(users: [("aurum", good)])
        try mongo.python("c.crm.customers.insert_many([{'id': 1, 'name': 'Ada'}, {'id': 2, 'name': 'Grace'}])", user: ("aurum", good))
        let dir = TempDir()
        dir.write("one.csv", "id,name\n1,Ada\n")
        let conn = "\(mongo.url)/crm?authSource=admin&serverSelectionTimeoutMS=2000"
        struct Case { var name: String; var yaml: String; var step: String }
        let cases = [
            Case(name: "source-auth", yaml: """
                sources: [{name: m, type: mongodb, connection: "\(conn)", query: customers, auth: {username: aurum, password: "${AURUM_T_SECRET}"}}]
                outputs: [{format: csv, path: out.csv}]
                """, step: "snapshot:m"),
            Case(name: "source-url", yaml: """
                sources: [{name: m, type: mongodb, connection: "mongodb://aurum:${AURUM_T_SECRET}@127.0.0.1:\(mongo.port)/crm?authSource=admin&serverSelectionTimeoutMS=2000", query: customers}]
                outputs: [{format: csv, path: out.csv}]
                """, step: "snapshot:m"),
            Case(name: "output-auth", yaml: """
                sources: [{name: one, type: csv, path: one.csv}]
                outputs: [{format: mongodb, connection: "\(conn)", table: written, auth: {username: aurum, password: "${AURUM_T_SECRET}"}}]
                """, step: "output:mongodb"),
        ]
        for c in cases {
            let cat = dir.write("\(c.name).yaml", "warehouse: \(c.name).db\n" + c.yaml + "\n")
            let r = try runAurum(["run", cat, "--quiet"], env: ["AURUM_T_SECRET": wrong])
            #expect(r.status == 1, "\(c.name): \(r.stderr)")
            #expect(r.stderr.contains("mongodb 127.0.0.1:\(mongo.port)/crm"), "\(c.name): \(r.stderr)")
            #expect(r.stderr.lowercased().contains("authentication failed"), "\(c.name): \(r.stderr)")
            for s in [wrong, good] { #expect(!r.stderr.contains(s), "\(c.name): \(r.stderr)") }
            let ledger = Ledger(path: dir.file("\(c.name).db"))
            #expect(try ledger.lastRun().status == "failed")
            #expect(try ledger.failedStep()?.name == c.step)
            try ledger.expectConsistent()
            for s in [wrong, good] {
                #expect(try ledger.query("SELECT count(*) FROM runs WHERE error LIKE '%\(s)%'") == [[.integer(0)]], "\(c.name)")
                #expect(try ledger.query("SELECT count(*) FROM run_steps WHERE error LIKE '%\(s)%'") == [[.integer(0)]], "\(c.name)")
            }

            // The same catalog with the right password succeeds.
            let ok = try runAurum(["run", cat, "--quiet"], env: ["AURUM_T_SECRET": good])
            #expect(ok.status == 0, "\(c.name) with the right password: \(ok.stderr)")
        }
        #expect(try mongo.python("print(c.crm.written.count_documents({}))", user: ("aurum", good)) == "1")
        #expect(try mongo.python("print(c.crm.customers.count_documents({}))", user: ("aurum", good)) == "2")
    }
}
