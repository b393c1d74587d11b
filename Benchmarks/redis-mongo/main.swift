// redis-mongo-bench — rows/s writing N records (8 columns) into Redis and MongoDB, and reading them back.
//
//   bin=$(Benchmarks/build.sh redis-mongo)
//   $bin [rows] [--redis URL] [--mongo URL] [--only redis|mongo]
//
// Redis: RedisWriter, hashes under bench:<uuid>:customer:{customer_id} (replace mode: DEL + HSET per
// row), 1000 commands per round trip; then `redis` source SCAN + TYPE + HGETALL over the same keys.
// MongoDB: MongoWriter.insert (unordered insert_many in batches of 1000) into a fresh database;
// then the `mongodb` source reading the collection. The rows are generated on the fly (included
// in the timings; about 1-2% of them). Keys and the database are removed at the end.

import Aurum
import AurumMongo
import AurumRedis
import Foundation

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

var args = Array(CommandLine.arguments.dropFirst())
@MainActor func option(_ name: String) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    let v = args[i + 1]
    args.removeSubrange(i...(i + 1))
    return v
}
let redisURL = option("--redis") ?? ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:6379/0"
let mongoBase = (option("--mongo") ?? ProcessInfo.processInfo.environment["MONGO_URL"] ?? "mongodb://127.0.0.1:27017")
    .trimmingCharacters(in: CharacterSet(charactersIn: "/"))
let only = option("--only")
let n = args.first.flatMap(Int.init) ?? 1_000_000

AurumRedis.register()
AurumMongo.register()

let columns = ["customer_id", "first_name", "last_name", "email", "city", "score", "balance", "created"]
let cities = ["Bern", "Zürich", "Genf", "Basel", "Chur", "Lugano", "Sion", "Thun"]
let dates = (1...12).flatMap { m in (1...28).map { d in "2024-\(m < 10 ? "0" : "")\(m)-\(d < 10 ? "0" : "")\(d)" } }
@MainActor func generator() -> () -> [Value]? {
    var i = 0
    return {
        guard i < n else { return nil }
        i += 1
        return [.integer(Int64(i)), .text("First\(i % 1000)"), .text("Last\(i % 7919)"), .text("user\(i)@example.com"),
                .text(cities[i % cities.count]), .integer(Int64(i % 100)), .real(Double(i % 100_000) / 100),
                .text(dates[i % dates.count])]
    }
}

func source(_ yamlSource: String) throws -> SourceSpec {
    let yaml = """
        sources:
        \(yamlSource)
        outputs:
          - format: csv
            path: /dev/null
        """
    return try CatalogLoader.parse(text: yaml, file: "bench.yaml", baseDirectory: "/tmp").sources[0]
}

func readAll(_ spec: SourceSpec) throws -> Int {
    let r = try ConnectorRegistry.shared.source(spec.type)!.open(spec)
    defer { r.close() }
    var rows = 0
    while let item = try r.next() { if case .fields = item { rows += 1 } }
    return rows
}

func report(_ what: String, _ rows: Int, _ seconds: Double) {
    let name = what.padding(toLength: 34, withPad: " ", startingAt: 0)
    print(name + String(format: " %9d rows  %7.2f s  %10.0f rows/s", rows, seconds, Double(rows) / seconds))
}

print("rows: \(n), columns: \(columns.count)")
if only == nil || only == "redis" {
    let prefix = "bench:\(UUID().uuidString.prefix(8)):"
    let w = try RedisWriter(connection: redisURL, options: ["key": .string(prefix + "customer:{customer_id}")])
    var t0 = now()
    let written = try w.upsert(columns: columns, next: generator())
    report("redis write (hash, DEL+HSET)", written, now() - t0)
    t0 = now()
    let read = try readAll(source("""
          - name: r
            type: redis
            connection: "\(redisURL)"
            query: "\(prefix)customer:*"
        """))
    report("redis read (SCAN+TYPE+HGETALL)", read, now() - t0)
    let j = try RedisWriter(connection: redisURL, options: ["key": .string(prefix + "json:{customer_id}"), "value": .string("json")])
    t0 = now()
    let wj = try j.upsert(columns: columns, next: generator())
    report("redis write (JSON string, SET)", wj, now() - t0)
    t0 = now()
    let rj = try readAll(source("""
          - name: r
            type: redis
            connection: "\(redisURL)"
            query: "\(prefix)json:*"
            options: {value: json}
        """))
    report("redis read (SCAN+GET, JSON)", rj, now() - t0)
    // Clean up: delete the keys in batches.
    t0 = now()
    var keys: [String] = []
    var deleted = 0
    for i in 1...n {
        keys.append(prefix + "customer:\(i)"); keys.append(prefix + "json:\(i)")
        if keys.count >= 20_000 { deleted += try w.delete(keys: keys); keys.removeAll(keepingCapacity: true) }
    }
    deleted += try w.delete(keys: keys)
    report("redis delete(keys:)", deleted, now() - t0)
    w.close(); j.close()
}
if only == nil || only == "mongo" {
    let db = "aurumbench_\(UUID().uuidString.prefix(8).lowercased())"
    let url = "\(mongoBase)/\(db)"
    let w = try MongoWriter(connection: url, collection: "customers")
    try w.drop()
    var t0 = now()
    let written = try w.insert(columns: columns, next: generator())
    report("mongo write (insert_many x1000)", written, now() - t0)
    t0 = now()
    let read = try readAll(source("""
          - name: m
            type: mongodb
            connection: "\(url)"
            query: customers
        """))
    report("mongo read (find)", read, now() - t0)
    try w.drop()
    w.close()
}
