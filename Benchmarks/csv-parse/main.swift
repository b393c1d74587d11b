// Generates a deterministic CSV (default 1,000,000 rows x 12 columns, ~130 MB) and times
// CSVReader over it, hashing included.
//
//   bin=$(Benchmarks/build.sh csv-parse) && $bin [--rows N] [--runs N] [--file PATH] [--regen]
//
// The generator is deterministic (xorshift64*, fixed seed): the same arguments give the same bytes.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Aurum

struct RNG {
    var s: UInt64 = 0x9E37_79B9_7F4A_7C15
    mutating func next() -> UInt64 {
        s ^= s >> 12
        s ^= s << 25
        s ^= s >> 27
        return s &* 0x2545_F491_4F6C_DD1D
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

let firstNames = ["José", "Zoë", "Åsa", "François", "Anna", "Mohammed", "Li", "Søren", "María", "John",
                  "Ingrid", "Chloé", "Björn", "Noémie", "Oğuz", "Paul", "Élodie", "Jürgen", "Kate", "Dvořák"]
let lastNames = ["Müller", "García", "Smith", "O'Brien", "Nguyễn", "Kowalski", "Jensen", "Rossi", "Dubois",
                 "Schäfer", "Larsson", "Silva", "Brown", "Ødegaard", "Novák", "Martin", "Lefèvre", "Wang"]
let companies = ["\"Acme, Inc.\"", "Globex", "\"Initech, LLC\"", "Umbrella Corp", "\"Stark \"\"Industries\"\"\"",
                 "Wayne Enterprises", "Hooli", "\"Société Générale, SA\"", "", "Vandelay Import/Export"]
let cities = ["São Paulo", "Zürich", "Köln", "Paris", "New York", "Kraków", "Reykjavík", "Lyon", "Oslo",
              "\"Washington, D.C.\"", "Malmö", "Berlin"]
let notes = ["", "", "VIP customer", "\"Said \"\"call back\"\" later, urgent\"", "prefers e-mail",
             "\"Line one\nline two\"", "late payer", "\"Contact: Ms. Durand, ext. 42\"", "", "n/a"]
let statuses = ["active", "inactive", "", "pending", "active"]
let countries = ["FR", "DE", "US", "BR", "CH", "PL", "IS", "NO", "SE", "DK"]

func asciiLower(_ s: String) -> String {
    String(s.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic) }.map { Character($0) }).lowercased()
}

func generate(path: String, rows: Int) {
    guard let f = fopen(path, "wb") else { fatalError("cannot create \(path)") }
    var rng = RNG()
    var out: [UInt8] = []
    out.reserveCapacity(1 << 21)
    out.append(contentsOf: "id,first_name,last_name,email,phone,company,city,notes,amount,created_at,status,country\n".utf8)
    let emails = firstNames.map(asciiLower)
    let lastAscii = lastNames.map(asciiLower)
    for id in 1...rows {
        let fi = rng.below(firstNames.count), li = rng.below(lastNames.count)
        var row = "\(id),\(firstNames[fi]),\(lastNames[li]),"
        row += "\(emails[fi]).\(lastAscii[li])\(rng.below(1000))@example.com,"
        row += "+33 6 \(10 + rng.below(90)) \(10 + rng.below(90)) \(10 + rng.below(90)) \(10 + rng.below(90)),"
        row += companies[rng.below(companies.count)] + ","
        row += cities[rng.below(cities.count)] + ","
        row += notes[rng.below(notes.count)] + ","
        row += "\(rng.below(100_000)).\(10 + rng.below(90)),"
        row += "2024-\(10 + rng.below(3))-\(10 + rng.below(19))T\(10 + rng.below(14)):\(10 + rng.below(50)):\(10 + rng.below(50))Z,"
        row += statuses[rng.below(statuses.count)] + ","
        row += countries[rng.below(countries.count)]
        row += rng.below(10) == 0 ? "\r\n" : "\n"
        out.append(contentsOf: row.utf8)
        if out.count >= 1 << 20 {
            _ = out.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
            out.removeAll(keepingCapacity: true)
        }
    }
    _ = out.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

var rows = 1_000_000
var runs = 5
var path: String? = nil
var regen = false
var args = CommandLine.arguments.dropFirst().makeIterator()
while let a = args.next() {
    switch a {
    case "--rows": rows = Int(args.next() ?? "") ?? rows
    case "--runs": runs = Int(args.next() ?? "") ?? runs
    case "--file": path = args.next()
    case "--regen": regen = true
    default: fatalError("unknown argument \(a)")
    }
}
let file = path ?? "/tmp/aurum-csv-bench-\(rows).csv"
if regen || access(file, F_OK) != 0 {
    let t0 = now()
    generate(path: file, rows: rows)
    print("generated \(file) in \(format2(now() - t0)) s")
}
var st = stat()
stat(file, &st)
print("file: \(file), \(st.st_size) bytes")

func format2(_ x: Double) -> String {
    let v = (x * 1000).rounded() / 1000
    return "\(v)"
}

var times: [Double] = []
for run in 1...runs {
    let t0 = now()
    do {
        let reader = try CSVReader(path: file)
        var n = 0, problems = 0, bytes = 0
        var digest: UInt64 = 0
        while let batch = try reader.nextBatch() {
            n += batch.rowCount
            problems += batch.problems.count
            bytes += batch.bytes.count
            for h in batch.hashes { digest = (digest &* 31) &+ h }
        }
        let dt = now() - t0
        times.append(dt)
        print("run \(run): \(format2(dt)) s  rows=\(n) problems=\(problems) rowsRead=\(reader.rowsRead) "
              + "width=\(reader.width) fieldBytes=\(bytes) digest=\(String(digest, radix: 16)) "
              + "(\(format2(Double(st.st_size) / dt / 1e6)) MB/s)")
    } catch {
        print("error: \(error)")
        exit(1)
    }
}
times.sort()
print("best \(format2(times[0])) s, median \(format2(times[times.count / 2])) s")
