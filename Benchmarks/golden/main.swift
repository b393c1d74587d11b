// golden-bench — times GoldenStage.build (survivorship, stable ids, golden table, xref, lineage) on
// N generated records (default 1,000,000) x 10 attributes from 3 sources, in clusters of 1-6 records.
//
//   bash Benchmarks/golden/build.sh            (release build of Aurum, then swiftc against its objects)
//   .build/golden-bench/golden-bench [--records N] [--custom] [--keep DIR]
//
// Three builds into a fresh warehouse, each in its own transaction, as the pipeline runs them:
// run 1 mints every id; run 2 has the same clusters (every id kept); run 3 merges every 50th pair
// of neighbouring clusters and splits every 70th cluster of 3+ records. Each prints the phase
// times of GoldenSummary. The generator is deterministic (xorshift64*, fixed seed).
import Aurum
import Foundation

struct RNG {
    var s: UInt64 = 0x9E37_79B9_7F4A_7C15
    mutating func next() -> UInt64 {
        s ^= s >> 12; s ^= s << 25; s ^= s >> 27
        return s &* 0x2545_F491_4F6C_DD1D
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

var n = 1_000_000
var custom = false
var keep: String?
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--records": n = Int(args.popFirst() ?? "") ?? n
    case "--custom": custom = true
    case "--keep": keep = args.popFirst()
    default: print("unknown argument \(a)"); exit(2)
    }
}

let given = ["anna", "john", "maria", "li", "paul", "kate", "jose", "zoe", "ingrid", "mohammed", "chloe", "soren"]
let family = ["smith", "garcia", "muller", "nguyen", "kowalski", "jensen", "rossi", "dubois", "silva", "brown", "wang", "martin"]
let cities = ["paris", "zurich", "koln", "new york", "krakow", "oslo", "lyon", "berlin", "malmo", "sao paulo"]
let attributes = ["given_name", "family_name", "email", "phone", "street", "city", "postcode", "dob", "updated_at", "balance"]

// Clusters of 1-6 records (mean ~2.5); records ordered by source then by generation order.
var rng = RNG()
var rows: [(source: Int32, cluster: Int32, values: [Value])] = []
rows.reserveCapacity(n)
var cluster: Int32 = 0
while rows.count < n {
    let size = min(n - rows.count, [1, 1, 2, 2, 3, 3, 4, 6][rng.below(8)])
    let g = given[rng.below(given.count)], f = family[rng.below(family.count)]
    let house = rng.below(200) + 1
    for _ in 0..<size {
        func noisy(_ s: String) -> Value { rng.below(10) == 0 ? .null : .text(rng.below(6) == 0 ? s + "x" : s) }
        let v: [Value] = [
            noisy(g), noisy(f), noisy("\(g).\(f)\(cluster % 97)@example.com"), noisy("+4420\(7_000_000 + Int(cluster) % 3_000_000)"),
            noisy("\(house) \(family[Int(cluster) % family.count]) street"), noisy(cities[Int(cluster) % cities.count]),
            noisy("\(10_000 + Int(cluster) % 90_000)"), noisy("19\(50 + Int(cluster) % 50)-0\(1 + Int(cluster) % 9)-1\(Int(cluster) % 9)"),
            .text("2024-\(String(format: "%02d", 1 + rng.below(12)))-\(String(format: "%02d", 1 + rng.below(28)))T10:00:00Z"),
            rng.below(8) == 0 ? .null : .real(Double(rng.below(1_000_000)) / 100),
        ]
        rows.append((Int32(rng.below(3)), cluster, v))
    }
    cluster += 1
}
// Stable sort by source: the order EntityRecords promises.
let order = rows.indices.sorted { (rows[$0].source, $0) < (rows[$1].source, $1) }
let sources = ["crm", "erp", "web"]
var records = EntityRecords(entity: "customer", attributes: attributes, sources: sources)
records.source = order.map { rows[$0].source }
var perSource = [0, 0, 0]
records.sourceKey = order.map { i in
    let s = Int(rows[i].source); perSource[s] += 1
    return "K\(perSource[s])"
}
for a in attributes.indices { records.values[a] = order.map { rows[$0].values[a] } }
// Clusters renumbered in order of their first record.
var renumber = [Int32](repeating: -1, count: Int(cluster))
var clusters = [Int32](repeating: 0, count: n)
var clusterCount: Int32 = 0
for (r, i) in order.enumerated() {
    let c = Int(rows[i].cluster)
    if renumber[c] < 0 { renumber[c] = clusterCount; clusterCount += 1 }
    clusters[r] = renumber[c]
}
rows = []

var spec = SurvivorshipSpec()
spec.defaultRule = .mostFrequent
spec.attributes = ["given_name": .sourcePriority(["crm", "erp"]), "email": .mostRecent("updated_at"), "street": .longest,
                   "dob": .first, "updated_at": .last, "balance": .average, "phone": .sourcePriority([])]
if custom { spec.attributes["postcode"] = .custom("max(postcode)") }
spec.location = "entities.customer.survivorship"
let entity = EntitySpec(name: "customer", attributes: attributes.map { AttributeSpec(name: $0) }, sources: [], match: MatchSpec(),
                        survivorship: spec, location: "entities.customer")

let dir = keep ?? NSTemporaryDirectory() + "golden-bench-\(getpid())"
try? FileManager.default.removeItem(atPath: dir)
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
let warehouse = try Warehouse(path: dir + "/aurum.db")
print("records \(n), clusters \(clusterCount), attributes \(attributes.count), custom \(custom)")

/// CPU seconds (user + system) of this process: the machine may be shared, wall time alone misleads.
func cpu() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

func build(_ label: String, _ clusters: [Int32], _ count: Int) throws {
    let run = try warehouse.beginRun(catalog: "bench", command: label)
    let t0 = Date()
    let c0 = cpu()
    let s = try warehouse.db.transaction {
        try GoldenStage.build(entity: entity, records: records, clusters: clusters, clusterCount: count, db: warehouse.db, run: run)
    }
    let total = Date().timeIntervalSince(t0)
    let cpuSeconds = cpu() - c0
    try warehouse.endRun(run, error: nil, report: nil)
    let phases = s.seconds.map { "\($0.phase) \(String(format: "%.2f", $0.seconds))" }.joined(separator: ", ")
    print("\(label): \(String(format: "%.2f", total)) s wall, \(String(format: "%.2f", cpuSeconds)) s CPU (\(phases), commit included in total) — golden \(s.goldenRecords), created \(s.created), merged \(s.merged), split \(s.split), retired \(s.retired), unchanged \(s.unchanged), changed \(s.changed), xref rows written \(s.xrefRowsWritten), lineage values \(s.lineageValues)")
}

try build("run 1 (all new)", clusters, Int(clusterCount))
try build("run 2 (same clusters)", clusters, Int(clusterCount))

// Run 3: merge cluster c into c-1 for every 50th c; split the last record off every 70th cluster of 3+.
let members = ClusterMembers(clusters: clusters, clusterCount: Int(clusterCount))
var next = clusters.map { $0 }
for c in stride(from: 50, to: Int(clusterCount), by: 50) { for i in members.range(c) { next[Int(members.members[i])] = Int32(c - 1) } }
var extra = Int32(clusterCount)
for c in stride(from: 35, to: Int(clusterCount), by: 70) where members.range(c).count >= 3 && c % 50 != 0 {
    next[Int(members.members[members.range(c).upperBound - 1])] = extra
    extra += 1
}
// Renumber in order of first record.
var map = [Int32: Int32]()
var count3: Int32 = 0
for r in next.indices {
    if let m = map[next[r]] { next[r] = m } else { map[next[r]] = count3; next[r] = count3; count3 += 1 }
}
try build("run 3 (merges and splits)", next, Int(count3))
warehouse.close()
if keep == nil { try? FileManager.default.removeItem(atPath: dir) }
