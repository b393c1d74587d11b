@testable import Aurum
import Foundation
import Testing
import AurumTestSupport
@testable import AurumMongo

/// The server under test: MONGO_URL (default mongodb://127.0.0.1:27017). When it does not answer,
/// the tests are skipped with a reason, unless CI is set: then they run and fail.
enum MongoEnv {
    static let url = TestServers.mongoURL
    static let isCI = TestServers.ci
    static let reachable: Bool = {
        guard let c = try? MongoClient(MongoEndpoint(url + "/admin?serverSelectionTimeoutMS=2000", credentials: nil)) else { return false }
        defer { c.close() }
        return (try? c.collectionNames("admin")) != nil
    }()
    static var enabled: Bool { reachable || isCI }

    /// A fresh database for one test, and its connection string.
    static func database() -> (name: String, url: String) {
        let n = "aurumtest_\(UUID().uuidString.prefix(8).lowercased())"
        return (n, "\(url)/\(n)")
    }

    static func client(_ dbURL: String) throws -> MongoClient { try MongoClient(MongoEndpoint(dbURL, credentials: nil)) }

    static func drop(_ db: (name: String, url: String)) {
        guard let c = try? client(db.url) else { return }
        try? c.dropDatabase(db.name)
        c.close()
    }

    static func seed(_ db: (name: String, url: String), _ collection: String, _ docs: [String]) throws {
        let c = try client(db.url)
        defer { c.close() }
        try c.insert(json: docs, database: db.name, collection: collection)
    }

    static func source(_ url: String, query: String? = nil, json: JSON? = nil, options: [String: JSON] = [:]) -> SourceSpec {
        var s = SourceSpec(name: "m", type: .mongodb, path: "", location: "sources[0]")
        s.connection = url
        s.query = query
        s.queryJSON = json
        s.options = options
        return s
    }

    static func readAll(_ spec: SourceSpec) throws -> [[String: Value]] {
        let r = try MongoSourceConnector().open(spec)
        defer { r.close() }
        var out: [[String: Value]] = []
        while let item = try r.next() {
            if case .fields(let f, _) = item { out.append(Dictionary(f, uniquingKeysWith: { $1 })) }
        }
        return out
    }

    static func parse(_ text: String) throws -> JSON { try JSONText.parse(text) }
}

/// Rows handed to a target connector.
final class ArrayCursor: RowCursor {
    let columns: [String]
    private var rows: [[Value]]
    private var i = 0
    init(_ columns: [String], _ rows: [[Value]]) { self.columns = columns; self.rows = rows }
    func next() throws -> [Value]? {
        guard i < rows.count else { return nil }
        defer { i += 1 }
        return rows[i]
    }
}

let mongoSkip: Comment = "no MongoDB server at \(MongoEnv.url) (start one with scripts/servers/mongo.sh; set CI to make this fail)"

@Suite(.serialized, .enabled(if: MongoEnv.enabled, mongoSkip))
struct MongoSourceTests {
    @Test func everyBSONTypeMaps() throws {
        let db = MongoEnv.database()
        defer { MongoEnv.drop(db) }
        try MongoEnv.seed(db, "types", [#"""
            {"_id": {"$oid": "65a1b2c3d4e5f60718293a4b"},
             "when": {"$date": "2024-01-02T03:04:05.678Z"},
             "old": {"$date": {"$numberLong": "-86400000"}},
             "i32": {"$numberInt": "-7"},
             "i64": {"$numberLong": "9007199254740993"},
             "dbl": {"$numberDouble": "1.5"},
             "dec": {"$numberDecimal": "1234567890.123456789012345678901234"},
             "yes": true, "no": false, "nothing": null,
             "bin": {"$binary": {"base64": "AAEC/w==", "subType": "00"}},
             "name": "Zoë",
             "address": {"city": "Bern", "geo": {"lat": 46.95, "lon": 7.45}, "empty": {}},
             "tags": ["a", 1, {"x": true}, {"$oid": "65a1b2c3d4e5f60718293a4b"}]}
            """#])
        let recs = try MongoEnv.readAll(MongoEnv.source(db.url, query: "types"))
        #expect(recs.count == 1)
        let r = try #require(recs.first)
        #expect(r["_id"] == .text("65a1b2c3d4e5f60718293a4b"))
        #expect(r["when"] == .text("2024-01-02T03:04:05.678Z"))
        #expect(r["old"] == .text("1969-12-31T00:00:00.000Z"))
        #expect(r["i32"] == .integer(-7))
        #expect(r["i64"] == .integer(9_007_199_254_740_993))
        #expect(r["dbl"] == .real(1.5))
        #expect(r["dec"] == .text("1234567890.123456789012345678901234"))
        #expect(r["yes"] == .integer(1))
        #expect(r["no"] == .integer(0))
        #expect(r["nothing"] == .null)
        #expect(r["bin"] == .blob([0x00, 0x01, 0x02, 0xFF]))
        #expect(r["name"] == .text("Zoë"))
        #expect(r["address.city"] == .text("Bern"))
        #expect(r["address.geo.lat"] == .real(46.95))
        #expect(r["address.empty"] == .null)
        #expect(r["tags"] == .text(#"["a",1,{"x":true},"65a1b2c3d4e5f60718293a4b"]"#))

        let kept = try MongoEnv.readAll(MongoEnv.source(db.url, query: "types", options: ["flatten": .bool(false)]))
        #expect(kept.first?["address"] == .text(#"{"city":"Bern","geo":{"lat":46.95,"lon":7.45},"empty":{}}"#))
    }

    @Test func isoDates() {
        #expect(BSONDecoder.isoDate(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(BSONDecoder.isoDate(milliseconds: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(BSONDecoder.isoDate(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
        #expect(BSONDecoder.isoDate(milliseconds: 253_402_300_799_000) == "9999-12-31T23:59:59.000Z")
    }

    @Test func filterProjectionSortLimitAndPipeline() throws {
        let db = MongoEnv.database()
        defer { MongoEnv.drop(db) }
        try MongoEnv.seed(db, "people", (1...20).map { #"{"n": \#($0), "name": "p\#($0)", "team": "\#($0 % 2 == 0 ? "even" : "odd")", "secret": "x"}"# })
        let q = try MongoEnv.parse(#"{"collection": "people", "filter": {"team": "even", "n": {"$gt": 10}}, "projection": {"_id": 0, "n": 1, "name": 1}, "sort": {"n": -1}, "limit": 3}"#)
        let recs = try MongoEnv.readAll(MongoEnv.source(db.url, json: q))
        #expect(recs.map { $0["n"] } == [.integer(20), .integer(18), .integer(16)])
        #expect(recs.allSatisfy { $0["secret"] == nil && $0["_id"] == nil && $0["name"] != nil })

        let p = try MongoEnv.parse(#"{"collection": "people", "pipeline": [{"$match": {"n": {"$lte": 6}}}, {"$group": {"_id": "$team", "total": {"$sum": "$n"}}}, {"$sort": {"_id": 1}}]}"#)
        let groups = try MongoEnv.readAll(MongoEnv.source(db.url, json: p))
        #expect(groups.count == 2)
        #expect(groups.first { $0["_id"] == .text("even") }?["total"] == .integer(12))
        #expect(groups.first { $0["_id"] == .text("odd") }?["total"] == .integer(9))

        // A bare pipeline with the collection in options.
        let bare = try MongoEnv.readAll(MongoEnv.source(db.url, json: try MongoEnv.parse(#"[{"$match": {"n": 1}}]"#), options: ["collection": .string("people")]))
        #expect(bare.count == 1 && bare.first?["name"] == .text("p1"))
    }
}

@Suite(.serialized, .enabled(if: MongoEnv.enabled, mongoSkip))
struct MongoTargetTests {
    let columns = ["customer_id", "name", "score", "balance", "photo", "note", "address.city", "address.zip"]
    let rows: [[Value]] = [
        [.integer(1), .text("Ada"), .integer(42), .real(10.5), .blob([0xFF, 0x00]), .null, .text("Bern"), .text("3000")],
        [.integer(2), .text("Bo"), .integer(5_000_000_000), .real(0.1), .null, .text("vip"), .text("Genf"), .null],
    ]

    @Test func insertReadBackAndReplaceContents() throws {
        let db = MongoEnv.database()
        defer { MongoEnv.drop(db) }
        var out = OutputSpec(format: .mongodb, path: "", table: "customers", location: "outputs[0]")
        out.connection = db.url
        out.options = ["batch": .int(1)]
        #expect(MongoTargetConnector().validate(out).isEmpty)
        let (path, n) = try MongoTargetConnector().write(out, rows: ArrayCursor(columns, rows))
        #expect(n == 2)
        #expect(path == "\(db.url)?collection=customers")
        let recs = try MongoEnv.readAll(MongoEnv.source(db.url, json: try MongoEnv.parse(#"{"collection": "customers", "projection": {"_id": 0}, "sort": {"customer_id": 1}}"#)))
        #expect(recs.count == 2)
        #expect(recs[0]["name"] == .text("Ada"))
        #expect(recs[0]["score"] == .integer(42))
        #expect(recs[1]["score"] == .integer(5_000_000_000))
        #expect(recs[0]["balance"] == .real(10.5))
        #expect(recs[0]["photo"] == .blob([0xFF, 0x00]))
        #expect(recs[0]["note"] == .null)
        #expect(recs[0]["address.city"] == .text("Bern"))   // nested on write, flattened on read
        #expect(recs[1]["address.zip"] == .null)
        // `write` replaces the collection's contents.
        let (_, n2) = try MongoTargetConnector().write(out, rows: ArrayCursor(columns, [rows[1]]))
        #expect(n2 == 1)
        let c = try MongoEnv.client(db.url)
        defer { c.close() }
        #expect(try c.count(database: db.name, collection: "customers") == 1)
        // append keeps it.
        out.options = ["write": .string("append")]
        _ = try MongoTargetConnector().write(out, rows: ArrayCursor(columns, [rows[0]]))
        #expect(try c.count(database: db.name, collection: "customers") == 2)
    }

    @Test func objectIdsRoundTrip() throws {
        let db = MongoEnv.database()
        defer { MongoEnv.drop(db) }
        try MongoEnv.seed(db, "src", [#"{"_id": {"$oid": "65a1b2c3d4e5f60718293a4b"}, "v": 1}"#])
        let recs = try MongoEnv.readAll(MongoEnv.source(db.url, query: "src"))
        let w = try MongoWriter(connection: db.url, collection: "dst")
        defer { w.close() }
        try w.insert(columns: ["_id", "v"], rows: recs.map { [$0["_id"]!, $0["v"]!] })
        let c = try MongoEnv.client(db.url)
        defer { c.close() }
        #expect(try c.count(database: db.name, collection: "dst", filter: #"{"_id": {"$oid": "65a1b2c3d4e5f60718293a4b"}}"#) == 1)
    }

    @Test func upsertReplaceSetAndDelete() throws {
        let db = MongoEnv.database()
        defer { MongoEnv.drop(db) }
        let w = try MongoWriter(connection: db.url, collection: "customers", options: ["key": .string("customer_id"), "batch": .int(2)])
        defer { w.close() }
        let r1 = try w.upsert(columns: columns, rows: rows)
        #expect(r1.upserted == 2 && r1.matched == 0)
        let r2 = try w.upsert(columns: ["customer_id", "name"], rows: [[.integer(1), .text("Ada L.")], [.integer(3), .text("Cy")]])
        #expect(r2.matched == 1 && r2.upserted == 1)
        var recs = try MongoEnv.readAll(MongoEnv.source(db.url, json: try MongoEnv.parse(#"{"collection": "customers", "sort": {"customer_id": 1}}"#)))
        #expect(recs.count == 3)
        #expect(recs[0]["name"] == .text("Ada L."))
        #expect(recs[0]["score"] == nil)              // replace: the document became the row
        let s = try MongoWriter(connection: db.url, collection: "customers", options: ["key": .array([.string("customer_id")]), "mode": .string("set")])
        defer { s.close() }
        let r3 = try s.upsert(columns: ["customer_id", "score"], rows: [[.integer(2), .integer(99)]])
        #expect(r3.matched == 1)
        recs = try MongoEnv.readAll(MongoEnv.source(db.url, json: try MongoEnv.parse(#"{"collection": "customers", "filter": {"customer_id": 2}}"#)))
        #expect(recs.first?["score"] == .integer(99))
        #expect(recs.first?["name"] == .text("Bo"))   // $set keeps the other fields
        #expect(try w.delete(keys: [[.integer(1)], [.integer(404)]]) == 1)
        #expect(try w.delete(columns: ["x", "customer_id"], rows: [[.null, .integer(3)]]) == 1)
        let c = try MongoEnv.client(db.url)
        defer { c.close() }
        #expect(try c.count(database: db.name, collection: "customers") == 1)
        let e = #expect(throws: AurumError.self) { try w.upsert(columns: ["name"], rows: [[.text("no key")]]) }
        #expect(e?.message.contains("key column 'customer_id'") == true)
    }
}

@Suite(.serialized, .enabled(if: MongoEnv.enabled, mongoSkip))
struct MongoErrorTests {
    @Test func unreachableServerNamesHostAndHidesPassword() {
        let spec = MongoEnv.source("mongodb://aurum:Sup3rSecretPW@127.0.0.1:1/crm?serverSelectionTimeoutMS=300", query: "customers")
        let e = #expect(throws: AurumError.self) { _ = try MongoSourceConnector().open(spec) }
        #expect(e?.code == .source)
        #expect(e?.location == "sources[0]")
        #expect(e?.message.contains("mongodb 127.0.0.1:1/crm") == true)
        #expect(e?.description.contains("Sup3rSecretPW") == false)
        let w = #expect(throws: AurumError.self) {
            let w = try MongoWriter(connection: "mongodb://127.0.0.1:1/crm?serverSelectionTimeoutMS=300", collection: "c", location: "outputs[0]")
            try w.drop()
        }
        #expect(w?.code == .output)
        #expect(w?.message.contains("dropping 'c'") == true)
    }

    @Test func missingCollectionAndDatabase() throws {
        let db = MongoEnv.database()
        defer { MongoEnv.drop(db) }
        try MongoEnv.seed(db, "present", [#"{"a": 1}"#])
        let e = #expect(throws: AurumError.self) { _ = try MongoSourceConnector().open(MongoEnv.source(db.url, query: "absent")) }
        #expect(e?.message == "mongodb 127.0.0.1:27017/\(db.name): collection 'absent' not found" || e?.message.contains("collection 'absent' not found") == true)
        #expect(e?.hint?.contains("present") == true)
        #expect(try MongoEnv.readAll(MongoEnv.source(db.url, query: "absent", options: ["allow_missing": .bool(true)])).isEmpty)
        let noDB = #expect(throws: AurumError.self) { _ = try MongoSourceConnector().open(MongoEnv.source(MongoEnv.url, query: "x")) }
        #expect(noDB?.message.contains("names no database") == true)
        #expect(MongoSourceConnector().validate(MongoEnv.source(MongoEnv.url, query: "x")).first?.0 == "sources[0].connection")
        #expect(MongoSourceConnector().validate(MongoEnv.source(db.url)).first?.0 == "sources[0].query")
        var out = OutputSpec(format: .mongodb, path: "", table: nil, location: "outputs[0]")
        out.connection = db.url
        out.options = ["write": .string("merge")]
        #expect(MongoTargetConnector().validate(out).count == 2)
    }

    @Test func badFilterIsTranslated() throws {
        let db = MongoEnv.database()
        defer { MongoEnv.drop(db) }
        try MongoEnv.seed(db, "c", [#"{"a": 1}"#])
        let q = try MongoEnv.parse(#"{"collection": "c", "filter": {"a": {"$nosuchop": 1}}}"#)
        let e = #expect(throws: AurumError.self) { _ = try MongoEnv.readAll(MongoEnv.source(db.url, json: q)) }
        #expect(e?.message.contains("find on 'c'") == true)
        #expect(e?.message.contains(db.name) == true)
    }
}

@Suite(.serialized, .enabled(if: MongoEnv.enabled, mongoSkip))
struct MongoPipelineTests {
    @Test func endToEndCatalog() throws {
        AurumMongo.register()
        let db = MongoEnv.database()
        defer { MongoEnv.drop(db) }
        try MongoEnv.seed(db, "crm", [
            #"{"customer_id": 1, "name": "Ada", "address": {"city": "Bern"}, "since": {"$date": "2020-05-01T00:00:00Z"}, "active": true}"#,
            #"{"customer_id": 2, "name": "Bo", "address": {"city": "Genf"}, "since": {"$date": "2021-06-01T00:00:00Z"}, "active": false}"#,
            #"{"customer_id": 3, "name": "Cy", "address": {"city": "Chur"}, "since": {"$date": "2022-07-01T00:00:00Z"}, "active": true}"#,
        ])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aurum-mongo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let yaml = """
            warehouse: \(dir)/aurum.db
            sources:
              - name: customers
                type: mongodb
                connection: "\(db.url)"
                query:
                  collection: crm
                  filter: {active: true}
                  projection: {_id: 0}
            outputs:
              - format: mongodb
                connection: "\(db.url)"
                table: customers_out
            """
        let catalog = try CatalogLoader.parse(text: yaml, file: "\(dir)/catalog.yaml", baseDirectory: dir)
        let outcome = try Pipeline.run(catalog)
        #expect(outcome.succeeded)
        let recs = try MongoEnv.readAll(MongoEnv.source(db.url, json: try MongoEnv.parse(#"{"collection": "customers_out", "sort": {"customer_id": 1}}"#)))
        #expect(recs.count == 2)
        #expect(recs.map { $0["name"] } == [.text("Ada"), .text("Cy")])
        #expect(recs.first?["address.city"] == .text("Bern"))
        #expect(recs.first?["since"] == .text("2020-05-01T00:00:00.000Z"))
    }
}
