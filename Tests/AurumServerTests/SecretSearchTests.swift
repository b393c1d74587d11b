import Foundation
import Testing
import Aurum
import AurumPostgres

/// Known secrets given as `${ENV}` references in connection strings and credentials of every server
/// connector, in runs that succeed and runs that fail; then every byte Aurum wrote or printed is
/// searched for them: stdout, stderr (the report with --json), every file it wrote, and every text
/// column of every table of the warehouse.
@Suite(.enabled(if: Servers.pg && Servers.redis && Servers.mongo, "needs PostgreSQL, redis-server and MongoDB (set CI=true to fail instead)"), .serialized)
struct SecretSearchTests {
    @Test(.timeLimit(.minutes(5))) func secretsAppearNowhere() throws {
        let tag = UUID().uuidString.prefix(6).lowercased()
        let secrets = ["AURUM_S_PG": "Pg-S3cret-\(tag)", "AURUM_S_REDIS": "Rd-S3cret-\(tag)",
                       "AURUM_S_MONGO": "Mg-S3cret-\(tag)", "AURUM_S_WRONG": "Wr0ng-S3cret-\(tag)"]
        let s = try PGSchema()
        let role = "aurum_sec_\(tag)"
        try s.conn.execute("""
            CREATE ROLE \(role) LOGIN PASSWORD '\(secrets["AURUM_S_PG"]!)';
            GRANT USAGE, CREATE ON SCHEMA \(s.name) TO \(role);
            CREATE TABLE \(s.t("src")) (id int, name text, updated_at timestamptz);
            INSERT INTO \(s.t("src")) VALUES (1, 'Ada', '2024-01-01T00:00:00Z'), (2, 'Bo', '2024-01-02T00:00:00Z');
            GRANT SELECT ON \(s.t("src")) TO \(role)
            """)
        defer { try? s.conn.execute("DROP OWNED BY \(role); DROP ROLE \(role)") }
        let redis = try PrivateRedis(password: secrets["AURUM_S_REDIS"]!)
        let mongoDB = "aurumsec_\(tag)"
        let down = freePort()
        let tcp = "127.0.0.1:\(Servers.pgPort)/\(Servers.pgDatabase)"
        let dir = TempDir()
        let wh = dir.file("aurum.db")

        // (catalog, should it succeed)
        let runs: [(String, String, Bool)] = [
            ("pg-to-all.yaml", """
                sources:
                  - {name: crm, type: postgresql, connection: "postgresql://\(role)@\(tcp)", query: \(s.t("src")), key: id,
                     auth: {password: "${AURUM_S_PG}"}, options: {cursor: updated_at}}
                outputs:
                  - {format: csv, path: out/crm.csv}
                  - {format: postgresql, connection: "postgresql://\(role):${AURUM_S_PG}@\(tcp)", table: \(s.t("copy")), options: {key: id}}
                  - {format: redis, connection: "redis://:${AURUM_S_REDIS}@127.0.0.1:\(redis.port)/0", options: {key: "crm:{id}"}}
                  - {format: mongodb, connection: "\(Servers.mongoURL)/\(mongoDB)", table: crm}
                """, true),
            ("redis-back.yaml", """
                sources:
                  - {name: cache, type: redis, connection: "redis://127.0.0.1:\(redis.port)/0", query: "crm:*", auth: {password: "${AURUM_S_REDIS}"}}
                outputs:
                  - {format: json, path: out/cache.json}
                """, true),
            ("pg-wrong.yaml", """
                sources:
                  - {name: crm, type: postgresql, connection: "postgresql://\(role):${AURUM_S_WRONG}@\(tcp)", query: \(s.t("src"))}
                outputs: [{format: csv, path: out/never.csv}]
                """, false),
            ("pg-target-wrong.yaml", """
                sources: [{name: cache, type: redis, connection: "redis://:${AURUM_S_REDIS}@127.0.0.1:\(redis.port)/0", query: "crm:*"}]
                outputs: [{format: postgresql, connection: "host=127.0.0.1 port=\(Servers.pgPort) dbname=\(Servers.pgDatabase) user=\(role) password=${AURUM_S_WRONG}", table: x}]
                """, false),
            ("redis-wrong.yaml", """
                sources: [{name: cache, type: redis, connection: "redis://default:${AURUM_S_WRONG}@127.0.0.1:\(redis.port)/0", query: "crm:*"}]
                outputs: [{format: csv, path: out/never.csv}]
                """, false),
            ("redis-target-down.yaml", """
                sources: [{name: crm, type: postgresql, connection: "postgresql://\(role)@\(tcp)", query: \(s.t("src")), auth: {password: "${AURUM_S_PG}"}}]
                outputs: [{format: redis, connection: "redis://:${AURUM_S_REDIS}@127.0.0.1:\(down)/0", options: {key: "k:{id}"}}]
                """, false),
            ("mongo-down.yaml", """
                sources: [{name: m, type: mongodb, connection: "mongodb://aurum:${AURUM_S_MONGO}@127.0.0.1:\(down)/crm?serverSelectionTimeoutMS=500", query: customers}]
                outputs: [{format: csv, path: out/never.csv}]
                """, false),
            ("mongo-target-down.yaml", """
                sources: [{name: crm, type: postgresql, connection: "postgresql://\(role)@\(tcp)", query: \(s.t("src")), auth: {password: "${AURUM_S_PG}"}}]
                outputs: [{format: mongodb, connection: "mongodb://aurum:${AURUM_S_MONGO}@127.0.0.1:\(down)/crm?serverSelectionTimeoutMS=500", table: c}]
                """, false),
        ]
        var printed: [(String, String)] = []
        for (name, yaml, ok) in runs {
            let cat = dir.write(name, yaml)
            let r = try runAurum(["run", cat, "--warehouse", wh, "--json"], env: secrets)
            #expect(r.status == (ok ? 0 : 1), "\(name): \(r.stderr)")
            printed.append(("\(name) stdout", r.stdout))
            printed.append(("\(name) stderr", r.stderr))
        }
        // The original JSON interface, with `authentication` from the environment (a failing and a working run).
        for (name, pw, ok) in [("integrate-wrong.json", "${AURUM_S_WRONG}", false), ("integrate.json", "${AURUM_S_PG}", true)] {
            let cfg = dir.write(name, """
                {"integration_config": {"data_sources": [{"source_name": "crm", "source_type": "sql",
                  "connection_string": "postgresql://\(role)@\(tcp)", "query": "SELECT * FROM \(s.t("src"))",
                  "authentication": {"username": "\(role)", "password": "\(pw)"}}],
                 "output_config": {"output_format": "json", "output_destination": "out/\(name)"}}}
                """)
            let r = try runAurum(["integrate", cfg, "--warehouse", wh], env: secrets)
            #expect(r.status == (ok ? 0 : 1), "\(name): \(r.stderr)")
            printed.append(("\(name) stdout", r.stdout))
            printed.append(("\(name) stderr", r.stderr))
        }
        defer {
            if let c = try? MongoTestClient() { c.drop(mongoDB) }
        }
        // The working runs did use the secrets.
        #expect(try redis.dbsize() == 2)
        #expect(try s.int("SELECT count(*) FROM \(s.t("copy"))") == 2)
        #expect(dir.read("out/crm.csv")?.contains("Ada") == true)
        #expect(dir.read("out/cache.json")?.contains("Bo") == true)
        let ledger = Ledger(path: wh)
        #expect(try ledger.query("SELECT count(*) FROM runs WHERE status = 'failed'") == [[.integer(7)]])
        #expect(try ledger.query("SELECT count(*) FROM watermarks") != [[.integer(0)]])

        // 1. Everything printed.
        for (what, text) in printed {
            for (k, v) in secrets { #expect(!text.contains(v), "\(k) in \(what)") }
        }
        // 2. Every file under the folder (outputs, the warehouse and its WAL), byte for byte.
        let files = FileManager.default.enumerator(atPath: dir.path)?.compactMap { $0 as? String } ?? []
        var searched = 0
        for f in files {
            guard let data = FileManager.default.contents(atPath: dir.file(f)) else { continue }
            searched += 1
            for (k, v) in secrets { #expect(data.range(of: Data(v.utf8)) == nil, "\(k) in file \(f)") }
        }
        #expect(searched >= 8)
        // 3. Every text column of every table of the warehouse (runs.error, run_steps.error,
        //    runs.report, column_lineage, quarantine, sources, watermarks, staged tables …).
        let tables = try ledger.query("SELECT name FROM sqlite_master WHERE type = 'table'").compactMap { $0[0].textValue }
        #expect(tables.contains("runs") && tables.contains("column_lineage") && tables.contains("watermarks"))
        for t in tables {
            let cols = try ledger.query("SELECT name FROM pragma_table_info('\(t)')").compactMap { $0[0].textValue }
            for c in cols {
                for (k, v) in secrets {
                    let n = try ledger.query("SELECT count(*) FROM \"\(t)\" WHERE instr(CAST(\"\(c)\" AS TEXT), '\(v)') > 0")
                    #expect(n == [[.integer(0)]], "\(k) in \(t).\(c)")
                }
            }
        }
        // The failures were recorded, with where they happened.
        let errors = try ledger.query("SELECT error FROM runs WHERE status = 'failed'").compactMap { $0[0].textValue }
        #expect(errors.contains { $0.contains("password authentication failed") })
        #expect(errors.contains { $0.contains("redis 127.0.0.1:\(down)/0") })
        #expect(errors.contains { $0.contains("127.0.0.1:\(down)") && $0.lowercased().contains("mongo") })
    }
}
