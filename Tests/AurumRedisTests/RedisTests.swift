@testable import Aurum
import Foundation
import Testing
import AurumTestSupport
@testable import AurumRedis

/// The server under test: REDIS_URL (default redis://127.0.0.1:6379/0). When it does not answer,
/// the tests are skipped with a reason, unless CI is set: then they run and fail.
enum RedisEnv {
    static let url = TestServers.redisURL
    static let isCI = TestServers.ci
    static let reachable: Bool = {
        guard let e = try? RedisEndpoint(url, credentials: nil), let c = try? RedisConnection(e) else { return false }
        defer { c.close() }
        return (try? c.command(RedisCommand(["PING"]))) == .status("PONG")
    }()
    static var enabled: Bool { reachable || isCI }

    static func connection() throws -> RedisConnection { try RedisConnection(RedisEndpoint(url, credentials: nil)) }

    /// A fresh key prefix for one test.
    static func prefix() -> String { "aurumtest:\(UUID().uuidString.prefix(8)):" }

    static func cmd(_ c: RedisConnection, _ args: String...) throws -> RedisReply { try c.command(RedisCommand(args)) }

    /// Deletes every key under a prefix.
    static func cleanup(_ prefix: String) {
        guard let c = try? connection() else { return }
        defer { c.close() }
        var cursor = "0"
        repeat {
            guard case .array(let parts)? = try? c.command(RedisCommand(["SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"])),
                  parts.count == 2, case .array(let keys) = parts[1] else { return }
            cursor = parts[0].text ?? "0"
            var del = RedisCommand(["DEL"])
            for k in keys { if case .string(let b) = k { del.add(b) } }
            if del.lengths.count > 1 { _ = try? c.command(del) }
        } while cursor != "0"
    }

    static func source(_ pattern: String?, options: [String: JSON] = [:], url: String = RedisEnv.url) -> SourceSpec {
        var s = SourceSpec(name: "r", type: .redis, path: "", location: "sources[0]")
        s.connection = url
        s.query = pattern
        s.options = options
        return s
    }

    /// Reads a whole source: records as dictionaries, and problems' reasons.
    static func readAll(_ spec: SourceSpec) throws -> (records: [[String: Value]], problems: [String], items: Int) {
        let r = try RedisSourceConnector().open(spec)
        defer { r.close() }
        var out: [[String: Value]] = []
        var problems: [String] = []
        while let item = try r.next() {
            switch item {
            case .fields(let f, _): out.append(Dictionary(f, uniquingKeysWith: { $1 }))
            case .row(let v, _): out.append(Dictionary(zip(r.columns, v).map { ($0, $1) }, uniquingKeysWith: { $1 }))
            case .problem(_, let reason, _): problems.append(reason)
            }
        }
        return (out, problems, r.itemsRead)
    }
}

@Suite(.serialized, .enabled(if: RedisEnv.enabled, "no Redis server at \(RedisEnv.url) (start one with scripts/servers/redis.sh; set CI to make this fail)"))
struct RedisSourceTests {
    @Test func hashesJSONStringsAndKeyPart() throws {
        let p = RedisEnv.prefix()
        defer { RedisEnv.cleanup(p) }
        let c = try RedisEnv.connection()
        defer { c.close() }
        _ = try RedisEnv.cmd(c, "HSET", p + "customer:1", "name", "Ada", "city", "Zürich", "score", "42", "_key", "bogus")
        _ = try RedisEnv.cmd(c, "SET", p + "customer:2", #"{"name":"Bo","score":7,"vip":true,"address":{"city":"Bern","zip":"3000"},"tags":["a","b"],"none":null,"big":1.5}"#)
        _ = try RedisEnv.cmd(c, "SET", p + "customer:3", "plain text")
        _ = try RedisEnv.cmd(c, "RPUSH", p + "customer:4", "x")
        _ = try RedisEnv.cmd(c, "SET", p + "other:1", "not matched")
        let (recs, problems, items) = try RedisEnv.readAll(RedisEnv.source(p + "customer:*"))
        #expect(items == 4)
        #expect(recs.count == 3)
        #expect(problems.count == 1)
        #expect(problems.first?.contains("is a list") == true)
        let byPart = Dictionary(recs.map { ($0["_key_part"]?.textValue ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        let h = try #require(byPart["1"])
        #expect(h["_key"] == .text(p + "customer:1"))
        #expect(h["name"] == .text("Ada"))
        #expect(h["city"] == .text("Zürich"))
        #expect(h["score"] == .text("42"))         // hash fields are text
        let j = try #require(byPart["2"])
        #expect(j["name"] == .text("Bo"))
        #expect(j["score"] == .integer(7))         // JSON keeps its types
        #expect(j["vip"] == .integer(1))
        #expect(j["address.city"] == .text("Bern"))
        #expect(j["address.zip"] == .text("3000"))
        #expect(j["tags"] == .text(#"["a","b"]"#))
        #expect(j["none"] == .null)
        #expect(j["big"] == .real(1.5))
        let s = try #require(byPart["3"])
        #expect(s["value"] == .text("plain text"))
    }

    @Test func declaredValueTypesAndNoFlatten() throws {
        let p = RedisEnv.prefix()
        defer { RedisEnv.cleanup(p) }
        let c = try RedisEnv.connection()
        defer { c.close() }
        _ = try RedisEnv.cmd(c, "SET", p + "a", #"{"x":{"y":1}}"#)
        _ = try RedisEnv.cmd(c, "SET", p + "b", "{broken")
        _ = try RedisEnv.cmd(c, "SET", p + "c", "  [1,2]")
        let (recs, problems, _) = try RedisEnv.readAll(RedisEnv.source(p + "*", options: ["value": .string("json"), "flatten": .bool(false)]))
        #expect(recs.count == 1)
        #expect(recs.first?["x"] == .text(#"{"y":1}"#))
        #expect(recs.first?["_key_part"] == .text("a"))
        #expect(problems.count == 2)
        #expect(problems.allSatisfy { $0.contains("key '\(p)") })
        let (asText, _, _) = try RedisEnv.readAll(RedisEnv.source(p + "*", options: ["value": .string("string")]))
        #expect(Set(asText.compactMap { $0["value"]?.textValue }) == [#"{"x":{"y":1}}"#, "{broken", "  [1,2]"])
    }

    @Test func scanOverManyPages() throws {
        let p = RedisEnv.prefix()
        defer { RedisEnv.cleanup(p) }
        let c = try RedisEnv.connection()
        defer { c.close() }
        let n = 2500
        for i in 0..<n {
            var cmd = RedisCommand(["HSET", p + "item:\(i)", "n", String(i)])
            if i % 2 == 0 { cmd = RedisCommand(["SET", p + "item:\(i)", #"{"n":\#(i)}"#]) }
            try c.append(cmd)
        }
        try c.drain("seeding")
        for count in [1000, 7] {
            let (recs, problems, _) = try RedisEnv.readAll(RedisEnv.source(p + "item:*", options: ["count": .int(Int64(count))]))
            #expect(problems.isEmpty)
            #expect(recs.count == n)
            let parts = Set(recs.compactMap { $0["_key_part"]?.textValue })
            #expect(parts.count == n)
            #expect(parts.contains("0") && parts.contains("2499"))
            // Hash values are text, JSON numbers integers; both carry the same n as the key.
            #expect(recs.allSatisfy { $0["n"]?.textValue == $0["_key_part"]?.textValue })
        }
    }

    @Test func keyPartWithSuffixPattern() {
        #expect(RedisSourceReader.literalEnds("customer:*") == ("customer:", ""))
        #expect(RedisSourceReader.literalEnds("user:*:profile") == ("user:", ":profile"))
        #expect(RedisSourceReader.literalEnds("a:[xy]:b") == ("a:", ":b"))
        #expect(RedisSourceReader.literalEnds("exact") == ("exact", ""))
    }

    @Test func streamAsChangeFeed() throws {
        let p = RedisEnv.prefix()
        defer { RedisEnv.cleanup(p) }
        let c = try RedisEnv.connection()
        defer { c.close() }
        var ids: [String] = []
        for i in 1...5 {
            ids.append(try RedisEnv.cmd(c, "XADD", p + "events", "*", "op", i == 3 ? "delete" : "upsert", "id", String(i)).text ?? "")
        }
        let (recs, _, items) = try RedisEnv.readAll(RedisEnv.source(nil, options: ["stream": .string(p + "events"), "count": .int(2)]))
        #expect(items == 5)
        #expect(recs.map { $0["_id"]?.textValue ?? "" } == ids)
        #expect(recs[2]["op"] == .text("delete"))
        #expect(recs[4]["id"] == .text("5"))
        let (after, _, _) = try RedisEnv.readAll(RedisEnv.source(nil, options: ["stream": .string(p + "events"), "after": .string(ids[2])]))
        #expect(after.map { $0["id"]?.textValue ?? "" } == ["4", "5"])
    }
}

@Suite(.serialized, .enabled(if: RedisEnv.enabled, "no Redis server at \(RedisEnv.url) (start one with scripts/servers/redis.sh; set CI to make this fail)"))
struct RedisTargetTests {
    let columns = ["customer_id", "name", "score", "balance", "photo", "note"]
    let rows: [[Value]] = [
        [.integer(1), .text("Ada"), .integer(42), .real(10.5), .blob([0xFF, 0x00, 0x01]), .null],
        [.integer(2), .text("Bo"), .integer(-7), .real(0.1), .null, .text("vip")],
    ]

    @Test func hashRoundTripTTLAndDelete() throws {
        let p = RedisEnv.prefix()
        defer { RedisEnv.cleanup(p) }
        let w = try RedisWriter(connection: RedisEnv.url, options: ["key": .string(p + "customer:{customer_id}"), "ttl": .int(300), "batch": .int(3)])
        defer { w.close() }
        #expect(try w.upsert(columns: columns, rows: rows) == 2)
        let (recs, problems, _) = try RedisEnv.readAll(RedisEnv.source(p + "customer:*"))
        #expect(problems.isEmpty)
        let byPart = Dictionary(recs.map { ($0["_key_part"]?.textValue ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byPart["1"]?["name"] == .text("Ada"))
        #expect(byPart["1"]?["score"] == .text("42"))
        #expect(byPart["1"]?["balance"] == .text("10.5"))
        #expect(byPart["1"]?["photo"] == .blob([0xFF, 0x00, 0x01]))
        #expect(byPart["1"]?["note"] == nil)            // NULL fields are not written
        #expect(byPart["2"]?["note"] == .text("vip"))
        let c = try RedisEnv.connection()
        defer { c.close() }
        if case .integer(let ttl) = try RedisEnv.cmd(c, "TTL", p + "customer:1") { #expect(ttl > 250 && ttl <= 300) } else { Issue.record("no TTL") }
        // Replace mode: a field that is NULL now disappears; merge mode keeps old fields.
        try w.upsert(columns: ["customer_id", "name"], rows: [[.integer(2), .text("Bob")]])
        #expect(try RedisEnv.cmd(c, "HGET", p + "customer:2", "note") == .null)
        let m = try RedisWriter(connection: RedisEnv.url, options: ["key": .string(p + "customer:{customer_id}"), "mode": .string("merge")])
        defer { m.close() }
        try m.upsert(columns: ["customer_id", "city"], rows: [[.integer(2), .text("Bern")]])
        #expect(try RedisEnv.cmd(c, "HGET", p + "customer:2", "name") == .string(Array("Bob".utf8)))
        #expect(try RedisEnv.cmd(c, "HGET", p + "customer:2", "city") == .string(Array("Bern".utf8)))
        // Keyed delete.
        #expect(try w.key(columns: columns, row: rows[0]) == p + "customer:1")
        #expect(try w.delete(keys: [p + "customer:1", p + "customer:404"]) == 1)
        #expect(try w.delete(columns: ["customer_id"], rows: [[.integer(2)]]) == 1)
        #expect(try RedisEnv.cmd(c, "EXISTS", p + "customer:1", p + "customer:2") == .integer(0))
    }

    @Test func jsonRoundTrip() throws {
        let p = RedisEnv.prefix()
        defer { RedisEnv.cleanup(p) }
        let w = try RedisWriter(connection: RedisEnv.url, options: ["key": .string(p + "c:{customer_id}:{name}"), "value": .string("json"), "ttl": .int(60)])
        defer { w.close() }
        try w.upsert(columns: columns, rows: rows)
        let c = try RedisEnv.connection()
        defer { c.close() }
        #expect(try RedisEnv.cmd(c, "GET", p + "c:1:Ada").text == #"{"customer_id":1,"name":"Ada","score":42,"balance":10.5,"photo":"/wAB","note":null}"#)
        if case .integer(let ttl) = try RedisEnv.cmd(c, "TTL", p + "c:1:Ada") { #expect(ttl > 0 && ttl <= 60) } else { Issue.record("no TTL") }
        let (recs, _, _) = try RedisEnv.readAll(RedisEnv.source(p + "c:*"))
        let bo = try #require(recs.first { $0["name"] == .text("Bo") })
        #expect(bo["score"] == .integer(-7))
        #expect(bo["balance"] == .real(0.1))
        #expect(bo["_key_part"] == .text("2:Bo"))
    }

    @Test func nullKeyColumnAndMissingColumnAreErrors() throws {
        let p = RedisEnv.prefix()
        defer { RedisEnv.cleanup(p) }
        let w = try RedisWriter(connection: RedisEnv.url, options: ["key": .string(p + "{customer_id}")])
        defer { w.close() }
        #expect(throws: AurumError.self) { try w.upsert(columns: ["customer_id"], rows: [[.null]]) }
        let e = #expect(throws: AurumError.self) { try w.upsert(columns: ["id"], rows: [[.integer(1)]]) }
        #expect(e?.message.contains("names column 'customer_id'") == true)
    }
}

@Suite(.serialized, .enabled(if: RedisEnv.enabled, "no Redis server at \(RedisEnv.url) (start one with scripts/servers/redis.sh; set CI to make this fail)"))
struct RedisErrorTests {
    @Test func validationNeedsAKeyTemplate() {
        var o = OutputSpec(format: .redis, path: "", location: "outputs[0]")
        o.connection = RedisEnv.url
        let problems = RedisTargetConnector().validate(o)
        #expect(problems.count == 1)
        #expect(problems.first?.0 == "outputs[0].options")
        #expect(problems.first?.1.contains("options.key") == true)
        o.options = ["key": .string("no-columns"), "ttl": .int(-1)]
        #expect(RedisTargetConnector().validate(o).first?.1.contains("names no column") == true)
        o.options = ["key": .string("k:{id}"), "ttl": .int(-1)]
        #expect(RedisTargetConnector().validate(o).first?.1.contains("ttl") == true)
        o.options = ["key": .string("k:{id}"), "value": .string("json"), "ttl": .int(5)]
        #expect(RedisTargetConnector().validate(o).isEmpty)
        var s = RedisEnv.source(nil)
        #expect(RedisSourceConnector().validate(s).first?.0 == "sources[0].query")
        s.query = "x:*"
        s.options = ["value": .string("list")]
        #expect(RedisSourceConnector().validate(s).first?.0 == "sources[0].options.value")
    }

    @Test func unreachableServer() {
        let e = #expect(throws: AurumError.self) {
            _ = try RedisSourceConnector().open(RedisEnv.source("x:*", url: "redis://:hunter2pw@127.0.0.1:1/3"))
        }
        #expect(e?.code == .source)
        #expect(e?.location == "sources[0]")
        #expect(e?.message.contains("127.0.0.1:1/3") == true)
        #expect(e?.message.contains("Connection refused") == true)
        #expect(e?.description.contains("hunter2pw") == false)
        let w = #expect(throws: AurumError.self) {
            _ = try RedisWriter(connection: "redis://127.0.0.1:1/0", options: ["key": .string("k:{id}")], location: "outputs[1]")
        }
        #expect(w?.code == .output)
        #expect(w?.location == "outputs[1]")
    }

    @Test func wrongPasswordIsTranslatedAndNotLeaked() throws {
        // The test server has no password: AUTH fails with "called without any password configured".
        let c = try RedisEnv.connection()
        let configured: Bool
        if case .array(let a) = try RedisEnv.cmd(c, "CONFIG", "GET", "requirepass"), a.count == 2, let v = a[1].text { configured = !v.isEmpty } else { configured = false }
        c.close()
        let e0 = try RedisEndpoint(RedisEnv.url, credentials: nil)
        let bad = "redis://aurum:Sup3rSecretPW@\(e0.host):\(e0.port)/\(e0.db)"
        let e = #expect(throws: AurumError.self) { _ = try RedisSourceConnector().open(RedisEnv.source("x:*", url: bad)) }
        #expect(e?.description.contains("Sup3rSecretPW") == false)
        #expect(e?.message.contains("authentication failed at redis \(e0.host):\(e0.port)/\(e0.db) as user 'aurum'") == true)
        if !configured { #expect(e?.message.lowercased().contains("password") == true) }
        // The password given as catalog credentials instead of in the URL.
        var s = RedisEnv.source("x:*")
        s.credentials = Credentials(password: "An0therSecret")
        let e2 = #expect(throws: AurumError.self) { _ = try RedisSourceConnector().open(s) }
        #expect(e2?.description.contains("An0therSecret") == false)
        if !configured { #expect(e2?.message.contains("without any password configured") == true) }
    }

    @Test func wrongTypeServerErrorIsTranslated() throws {
        let p = RedisEnv.prefix()
        defer { RedisEnv.cleanup(p) }
        let c = try RedisEnv.connection()
        defer { c.close() }
        _ = try RedisEnv.cmd(c, "SET", p + "s", "x")
        let e = #expect(throws: AurumError.self) { _ = try RedisEnv.readAll(RedisEnv.source(nil, options: ["stream": .string(p + "s")])) }
        #expect(e?.message.contains("WRONGTYPE") == true)
        #expect(e?.message.contains("XRANGE \(p)s") == true)
        // A declared hash that is a string: quarantined, not fatal.
        let (recs, problems, _) = try RedisEnv.readAll(RedisEnv.source(p + "*", options: ["value": .string("hash")]))
        #expect(recs.isEmpty && problems.count == 1)
    }
}

@Suite(.serialized, .enabled(if: RedisEnv.enabled, "no Redis server at \(RedisEnv.url) (start one with scripts/servers/redis.sh; set CI to make this fail)"))
struct RedisPipelineTests {
    @Test func endToEndCatalog() throws {
        AurumRedis.register()
        let p = RedisEnv.prefix()
        defer { RedisEnv.cleanup(p) }
        let c = try RedisEnv.connection()
        defer { c.close() }
        _ = try RedisEnv.cmd(c, "HSET", p + "in:1", "name", "Ada", "city", "Zürich")
        _ = try RedisEnv.cmd(c, "SET", p + "in:2", #"{"name":"Bo","city":"Bern","address":{"zip":"3000"}}"#)
        _ = try RedisEnv.cmd(c, "HSET", p + "in:3", "name", "Cy", "city", "Genf")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aurum-redis-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let yaml = """
            warehouse: \(dir)/aurum.db
            sources:
              - name: customers
                type: redis
                connection: "\(RedisEnv.url)"
                query: "\(p)in:*"
            outputs:
              - format: redis
                connection: "\(RedisEnv.url)"
                options:
                  key: "\(p)out:{_key_part}"
                  value: json
                  ttl: 600
              - format: ndjson
                path: \(dir)/out.ndjson
            """
        let catalog = try CatalogLoader.parse(text: yaml, file: "\(dir)/catalog.yaml", baseDirectory: dir)
        let outcome = try Pipeline.run(catalog)
        #expect(outcome.succeeded)
        let (recs, problems, _) = try RedisEnv.readAll(RedisEnv.source(p + "out:*"))
        #expect(problems.isEmpty)
        #expect(recs.count == 3)
        let bo = try #require(recs.first { $0["_key_part"] == .text("2") })
        #expect(bo["name"] == .text("Bo"))
        #expect(bo["address.zip"] == .text("3000"))
        #expect(bo["_key"] == .text(p + "out:2"))  // the JSON's own _key (the source key) gives way to the reader's
        let cy = try #require(recs.first { $0["_key_part"] == .text("3") })
        #expect(cy["city"] == .text("Genf"))
    }
}

/// A private redis-server with a password, started by the test itself (and stopped by its pid).
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-server") || RedisEnv.isCI,
                             "no /usr/bin/redis-server to start a password-protected server"))
struct RedisAuthTests {
    @Test(.timeLimit(.minutes(5))) func passwordProtectedServerAndDatabaseSelection() throws {
        let port = Int.random(in: 20000...29999)
        // Daemonized, and stopped with SHUTDOWN NOSAVE over an authenticated connection: a child of
        // the test process may inherit blocked signals, so SIGTERM is not relied on.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        p.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--requirepass", "Corr3ctHorse", "--save", "", "--appendonly", "no",
                       "--daemonize", "yes", "--pidfile", "/tmp/aurum-redis-auth-\(port).pid"]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        var status: Int32 = 0
        _ = waitpid(p.processIdentifier, &status, 0) // the daemonizing parent exits at once; reap it
        defer {
            if let e = try? RedisEndpoint("redis://:Corr3ctHorse@127.0.0.1:\(port)/0", credentials: nil), let c = try? RedisConnection(e) {
                _ = try? c.command(RedisCommand(["SHUTDOWN", "NOSAVE"]))
                c.close()
            }
            try? FileManager.default.removeItem(atPath: "/tmp/aurum-redis-auth-\(port).pid")
        }
        var up = false
        for _ in 0..<50 {
            if let e = try? RedisEndpoint("redis://:Corr3ctHorse@127.0.0.1:\(port)/0", credentials: nil), let c = try? RedisConnection(e) { c.close(); up = true; break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        try #require(up, "the private redis-server did not start")
        // Wrong password: the server's message, with host, port and db, without the password.
        let e = #expect(throws: AurumError.self) {
            _ = try RedisSourceConnector().open(RedisEnv.source("x:*", url: "redis://:Wr0ngHorse@127.0.0.1:\(port)/2"))
        }
        #expect(e?.message.contains("authentication failed at redis 127.0.0.1:\(port)/2") == true)
        #expect(e?.message.contains("WRONGPASS") == true || e?.message.contains("invalid password") == true)
        #expect(e?.description.contains("Wr0ngHorse") == false)
        // No password at all: the first command fails with NOAUTH.
        let n = #expect(throws: AurumError.self) { _ = try RedisEnv.readAll(RedisEnv.source("x:*", url: "redis://127.0.0.1:\(port)/0")) }
        #expect(n?.message.contains("NOAUTH") == true)
        // The right password (here from catalog credentials), in database 2.
        let url = "redis://127.0.0.1:\(port)/2"
        let w = try RedisWriter(connection: url, credentials: Credentials(password: "Corr3ctHorse"), options: ["key": .string("c:{id}")])
        defer { w.close() }
        try w.upsert(columns: ["id", "name"], rows: [[.integer(1), .text("Ada")]])
        var s = RedisEnv.source("c:*", url: url)
        s.credentials = Credentials(password: "Corr3ctHorse")
        let (recs, _, _) = try RedisEnv.readAll(s)
        #expect(recs.count == 1 && recs.first?["name"] == .text("Ada"))
        let (db0, _, _) = try RedisEnv.readAll(RedisEnv.source("c:*", url: "redis://:Corr3ctHorse@127.0.0.1:\(port)/0"))
        #expect(db0.isEmpty)
    }
}
