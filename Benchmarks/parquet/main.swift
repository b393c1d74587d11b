// pqbench — AurumParquet vs pyarrow: write and read N rows x 12 columns with snappy.
//
//   bin=$(Benchmarks/build.sh parquet)
//   $bin [rows] [--codec snappy|zstd|gzip|none] [--runs N]
//   $bin dump FILE      (prints schema and first values)
//
// pyarrow is timed by a Python script run from this process on the same data (the file Aurum wrote,
// loaded untimed), with pyarrow.parquet.write_table / read_table defaults (threads on) and the same codec.

import AurumParquet
import Foundation

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Process CPU time (user + system, all threads).
func cpu() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

let args = CommandLine.arguments
if args.count > 2 && args[1] == "dump" {
    let r = try ParquetReader(path: args[2])
    print("rows \(r.rowCount), row groups \(r.rowGroupCount), created by \(r.createdBy ?? "?")")
    let d = try r.readRowGroup(0)
    for (k, c) in r.columns.enumerated() {
        print(c.name, c.physical, c.logical, c.optional ? "optional" : "required", (0 ..< min(5, d[k].count)).map { d[k].value(at: $0) })
    }
    exit(0)
}

if args.count > 2 && args[1] == "read" {
    // Per-column decode times (one column at a time) and the full parallel read.
    let r = try ParquetReader(path: args[2])
    for (k, c) in r.columns.enumerated() {
        let t = now()
        for g in 0 ..< r.rowGroupCount { _ = try r.readRowGroup(g, columns: [k]) }
        print(String(format: "%-12@ %.4f s", c.name as NSString, now() - t))
    }
    let t = now()
    _ = try r.readAll()
    print(String(format: "all (parallel) %.4f s", now() - t))
    exit(0)
}

var rows = 1_000_000
var codec = ParquetCodec.snappy
var runs = 3
var i = 1
while i < args.count {
    switch args[i] {
    case "--codec":
        i += 1
        codec = ["snappy": .snappy, "zstd": .zstd, "gzip": .gzip, "none": .uncompressed][args[i]] ?? .snappy
    case "--runs":
        i += 1
        runs = Int(args[i]) ?? 3
    default:
        rows = Int(args[i]) ?? rows
    }
    i += 1
}
let pyCodec = ["SNAPPY": "snappy", "ZSTD": "zstd", "GZIP": "gzip", "UNCOMPRESSED": "none"][codec.description]!

// MARK: Data


let firstNames = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
                  "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
                  "Chloé", "Zoë", "José", "Jürgen", "Søren", "Ana", "Wei", "Yuki", "Olga", "Ahmed"]
let lastNames: [String] = {
var lastNames: [String] = []
for a in ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
          "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin"] {
    for b in ["", "son", "-Lee", "ez", "ford"] { lastNames.append(a + b) }
}
return lastNames
}()
let cities = ["Zürich", "Geneva", "Basel", "Bern", "Lausanne", "Lugano", "New York", "London", "Paris", "Berlin",
              "Madrid", "Rome", "Vienna", "Prague", "Warsaw", "Tokyo", "Osaka", "Seoul", "Sydney", "Toronto",
              "São Paulo", "Mexico City", "Cairo", "Lagos", "Mumbai", "Delhi", "Shanghai", "Beijing", "Oslo", "Helsinki"]
let domains = ["example.com", "mail.ch", "corp.io", "uni.edu"]

let columns: [ParquetColumn] = [
    .int64("id", optional: false),
    .string("first_name"),
    .string("last_name"),
    .string("email"),
    .string("city"),
    .double("score"),
    .double("amount"),
    .date("birth_date"),
    .timestampMicros("created_at"),
    .timestampMillis("updated_at"),
    .boolean("active"),
    .int32("visits"),
]

func makeData(_ n: Int) -> [ParquetColumnData] {
    var rng: UInt64 = 0x1234_5678
    func next() -> UInt64 {
        rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return rng >> 17
    }
    var id = [Int64](), first = ParquetBinaryArray(), last = ParquetBinaryArray(), email = ParquetBinaryArray()
    var city = ParquetBinaryArray(), cityValid = [Bool]()
    var score = [Double](), scoreValid = [Bool](), amount = [Double](), birth = [Int32](), created = [Int64]()
    var updated = [Int64](), updatedValid = [Bool](), active = [Bool](), visits = [Int32](), visitsValid = [Bool]()
    id.reserveCapacity(n)
    first.reserveCapacity(values: n, bytes: n * 7)
    last.reserveCapacity(values: n, bytes: n * 8)
    email.reserveCapacity(values: n, bytes: n * 30)
    city.reserveCapacity(values: n, bytes: n * 7)
    for r in 0 ..< n {
        id.append(Int64(r) + 1)
        let f = firstNames[Int(next() % UInt64(firstNames.count))]
        let l = lastNames[Int(next() % UInt64(lastNames.count))]
        first.append(f)
        last.append(l)
        email.append("\(f.lowercased()).\(l.lowercased())\(r)@\(domains[r % domains.count])")
        if next() % 20 == 0 { city.appendEmpty(); cityValid.append(false) } else {
            city.append(cities[Int(next() % UInt64(cities.count))]); cityValid.append(true)
        }
        if next() % 33 == 0 { score.append(0); scoreValid.append(false) } else {
            score.append(Double(next() % 1_000_000) / 10_000.0); scoreValid.append(true)
        }
        amount.append(Double(Int64(next() % 10_000_000) - 2_000_000) / 100.0)
        birth.append(Int32(next() % 25_000) - 5000)
        created.append(1_600_000_000_000_000 + Int64(r) * 31_000_000 + Int64(next() % 1_000_000))
        if next() % 10 == 0 { updated.append(0); updatedValid.append(false) } else {
            updated.append(1_650_000_000_000 + Int64(next() % 100_000_000_000)); updatedValid.append(true)
        }
        active.append(next() % 3 != 0)
        if next() % 50 == 0 { visits.append(0); visitsValid.append(false) } else {
            visits.append(Int32(next() % 500)); visitsValid.append(true)
        }
    }
    return [.int64(id), .binary(first), .binary(last), .binary(email), .binary(city, validity: cityValid),
            .double(score, validity: scoreValid), .double(amount), .int32(birth), .int64(created),
            .int64(updated, validity: updatedValid), .boolean(active), .int32(visits, validity: visitsValid)]
}

print("generating \(rows) rows x \(columns.count) columns...")
let data = makeData(rows)
let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pqbench-\(getpid())").path
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
defer { if ProcessInfo.processInfo.environment["PQBENCH_KEEP"] == nil { try? FileManager.default.removeItem(atPath: dir) } else { print("kept files in \(dir)") } }
let aurumFile = dir + "/aurum.parquet"

if ProcessInfo.processInfo.environment["PQBENCH_PROFILE"] != nil {
    // Per-column write times (one column per file).
    for (k, c) in columns.enumerated() {
        let t = now()
        let w = try ParquetWriter(path: dir + "/col.parquet", columns: [c], codec: codec)
        try w.write(columns: [data[k]])
        try w.close()
        print(String(format: "write %-12@ %.4f s", c.name as NSString, now() - t))
    }
}

// MARK: Aurum

var bestWrite = Double.infinity, bestRead = Double.infinity
var cpuWrite = Double.infinity, cpuRead = Double.infinity
var checksum = 0
for _ in 0 ..< runs {
    let t0 = now(), c0 = cpu()
    let w = try ParquetWriter(path: aurumFile, columns: columns, codec: codec)
    try w.write(columns: data)
    try w.close()
    bestWrite = min(bestWrite, now() - t0)
    cpuWrite = min(cpuWrite, cpu() - c0)
    let t1 = now(), c1 = cpu()
    let r = try ParquetReader(path: aurumFile)
    let back = try r.readAll()
    bestRead = min(bestRead, now() - t1)
    cpuRead = min(cpuRead, cpu() - c1)
    checksum = back.count + back[0].count
}
let fileSize = (try? FileManager.default.attributesOfItem(atPath: aurumFile)[.size] as? Int) ?? 0
guard try ParquetReader(path: aurumFile).readAll() == data else {
    print("ERROR: Aurum read-back differs from the written data")
    exit(1)
}

// MARK: pyarrow

let script = """
import sys, time, json
import pyarrow as pa, pyarrow.parquet as pq
src, out, codec, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
table = pq.read_table(src)
assert table.num_rows == int(sys.argv[5]), table.num_rows
w = r = cw = cr = float('inf')
for _ in range(runs):
    t0 = time.perf_counter(); c0 = time.process_time()
    pq.write_table(table, out, compression=codec)
    w = min(w, time.perf_counter() - t0); cw = min(cw, time.process_time() - c0)
    t0 = time.perf_counter(); c0 = time.process_time()
    t = pq.read_table(out)
    r = min(r, time.perf_counter() - t0); cr = min(cr, time.process_time() - c0)
    assert t.num_rows == table.num_rows
import os
print(json.dumps({"write": w, "read": r, "cpu_write": cw, "cpu_read": cr, "size": os.path.getsize(out), "equal": t.equals(table), "version": pa.__version__}))
"""
let scriptPath = dir + "/bench.py"
try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
let pyFile = dir + "/pyarrow.parquet"
let p = Process()
p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
p.arguments = ["python3", scriptPath, aurumFile, pyFile, pyCodec, String(runs), String(rows)]
let pipe = Pipe()
p.standardOutput = pipe
try p.run()
let out = pipe.fileHandleForReading.readDataToEndOfFile()
p.waitUntilExit()
guard p.terminationStatus == 0,
      let py = try JSONSerialization.jsonObject(with: out) as? [String: Any],
      let pyWrite = py["write"] as? Double, let pyRead = py["read"] as? Double else {
    print("ERROR: pyarrow benchmark failed (status \(p.terminationStatus))")
    exit(1)
}

// Aurum reading pyarrow's file
var bestReadPy = Double.infinity
for _ in 0 ..< runs {
    let t = now()
    let back = try ParquetReader(path: pyFile).readAll()
    bestReadPy = min(bestReadPy, now() - t)
    checksum &+= back[0].count
}
let pySize = py["size"] as? Int ?? 0

func f(_ x: Double) -> String { String(format: "%.3f s", x) }
func ratio(_ a: Double, _ b: Double) -> String { String(format: "%.2fx", a / b) }
print("rows \(rows), columns \(columns.count), codec \(codec), best of \(runs); pyarrow \(py["version"] ?? "?"), equal=\(py["equal"] ?? "?")")
let pyCpuWrite = py["cpu_write"] as? Double ?? .nan, pyCpuRead = py["cpu_read"] as? Double ?? .nan
print("write  aurum \(f(bestWrite))  pyarrow \(f(pyWrite))  ratio aurum/pyarrow \(ratio(bestWrite, pyWrite))   [cpu: aurum \(f(cpuWrite)), pyarrow \(f(pyCpuWrite)), \(ratio(cpuWrite, pyCpuWrite))]")
print("read   aurum \(f(bestRead))  pyarrow \(f(pyRead))  ratio aurum/pyarrow \(ratio(bestRead, pyRead))   [cpu: aurum \(f(cpuRead)), pyarrow \(f(pyCpuRead)), \(ratio(cpuRead, pyCpuRead))]")
print("read pyarrow's file with aurum \(f(bestReadPy))  ratio \(ratio(bestReadPy, pyRead))")
print("file size aurum \(fileSize) bytes, pyarrow \(pySize) bytes (checksum \(checksum))")
