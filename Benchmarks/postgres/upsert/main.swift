// Times Aurum's PostgresTable.upsert and PostgresTable.delete (Sources/AurumPostgres/Target.swift) on a
// change set, for Benchmarks/postgres/run.py. Not part of the package: run.py builds it with swiftc
// against the object files of a `swift build -c release` (see build.sh).
//
// usage: aurum-pg-upsert CONNECTION TABLE ROWS.tsv KEYS.txt
//   ROWS.tsv: COPY text format (tab-separated, \N = NULL), first line = column names; the column
//             named customer_id is the key and is read as an integer, every other column as text.
//   KEYS.txt: one customer_id per line, to delete.
// Prints: "upsert SECONDS ROWS" and "delete SECONDS ROWS" (in-process, after connecting).
import Foundation
import Aurum
import AurumPostgres

func unescape(_ s: Substring) -> Value {
    if s == "\\N" { return .null }
    guard s.contains("\\") else { return .text(String(s)) }
    var out = ""
    var it = s.makeIterator()
    while let c = it.next() {
        if c == "\\", let n = it.next() {
            switch n { case "t": out.append("\t"); case "n": out.append("\n"); case "r": out.append("\r"); default: out.append(n) }
        } else { out.append(c) }
    }
    return .text(out)
}

let args = CommandLine.arguments
guard args.count == 5 else { FileHandle.standardError.write("usage: aurum-pg-upsert CONNECTION TABLE ROWS.tsv KEYS.txt\n".data(using: .utf8)!); exit(2) }
let lines = try String(contentsOfFile: args[3], encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true)
let columns = lines[0].split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
let keyIndex = columns.firstIndex(of: "customer_id")!
let rows: [[Value]] = lines.dropFirst().map { line in
    line.split(separator: "\t", omittingEmptySubsequences: false).enumerated().map { i, f in
        i == keyIndex ? .integer(Int64(f)!) : unescape(f)
    }
}
let keys: [[Value]] = try String(contentsOfFile: args[4], encoding: .utf8).split(separator: "\n").map { [.integer(Int64($0)!)] }

do {
    let t = try PostgresTable(connection: args[1], table: args[2], key: ["customer_id"])
    defer { t.close() }
    var c = ContinuousClock.now
    let nu = try t.upsert(columns: columns, rows: rows)
    let du = ContinuousClock.now - c
    c = ContinuousClock.now
    let nd = try t.delete(keys: keys)
    let dd = ContinuousClock.now - c
    func secs(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
    print("upsert \(secs(du)) \(nu)")
    print("delete \(secs(dd)) \(nd)")
} catch {
    FileHandle.standardError.write("\(error)\n".data(using: .utf8)!)
    exit(1)
}
