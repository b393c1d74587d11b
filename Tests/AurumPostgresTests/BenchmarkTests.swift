import Foundation
import Testing
import Aurum
import AurumPostgres

/// Throughput of 1M rows × 12 columns (COPY in through the target; COPY out vs a server-side cursor
/// through the source). Only with AURUM_PG_BENCH=1; run it in release: `swift test -c release --filter Benchmark`.
@Suite(.enabled(if: PG.enabled && ProcessInfo.processInfo.environment["AURUM_PG_BENCH"] == "1", "set AURUM_PG_BENCH=1"), .serialized)
struct BenchmarkTests {
    @Test func oneMillionRows() throws {
        let n = Int(ProcessInfo.processInfo.environment["AURUM_PG_BENCH_ROWS"] ?? "") ?? 1_000_000
        let s = try TestSchema()
        let cols = (1...12).map { "c\($0)" }
        let gen = GeneratedCursor(cols, count: n) { i in
            let x = Int64(i)
            return [.integer(x), .integer(x &* 7), .real(Double(i) * 0.25), .text("name-\(i)"), .text("city \(i % 100)"),
                    .integer(x % 2), .text("2024-01-\(String(format: "%02d", i % 28 + 1))"), .real(Double(i % 1000) / 3),
                    .text("user\(i)@example.com"), .integer(x % 1000), i % 10 == 0 ? .null : .text("note"), .integer(-x)]
        }
        var t0 = Date()
        let genOnly = GeneratedCursor(cols, count: n, gen.make)
        while try genOnly.next() != nil {}
        let tGen = Date().timeIntervalSince(t0)
        print("BENCH generating the values alone: \(String(format: "%.2f", tGen)) s")
        let t = try PostgresTable(connection: PG.conninfo, table: s.t("bench_in"))
        defer { t.close() }
        t0 = Date()
        let wrote = try t.replace(gen, batchSize: 10_000)
        let tIn = Date().timeIntervalSince(t0)
        #expect(wrote == n)
        print("BENCH copy-in \(n) rows x 12: \(String(format: "%.2f", tIn)) s = \(Int(Double(n) / tIn)) rows/s (\(Int(Double(n) / (tIn - tGen))) rows/s without generating)")

        try s.conn.execute("""
            CREATE TABLE \(s.t("bench_out")) AS SELECT i::int4 AS c1, (i * 7)::int8 AS c2, (i / 3.0)::numeric(12,4) AS c3,
              (i * 0.25)::float8 AS c4, 'name-' || i AS c5, ('city ' || i % 100)::varchar(20) AS c6,
              DATE '2024-01-01' + (i % 365) AS c7, TIMESTAMP '2024-01-01' + i * INTERVAL '1 second' AS c8,
              TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL '1 minute' AS c9, (i % 2 = 0) AS c10,
              md5(i::text)::uuid AS c11, CASE WHEN i % 10 = 0 THEN NULL ELSE jsonb_build_object('k', i) END AS c12
            FROM generate_series(1, \(n)) AS i;
            ANALYZE \(s.t("bench_out"));
            """)
        var timings: [PostgresReadMethod: Double] = [:]
        for round in 0..<2 {
            for m in PostgresReadMethod.allCases {
                t0 = Date()
                let r = try PostgresRowReader(connection: PG.conninfo, query: s.t("bench_out"), method: m)
                var k = 0
                while case .row? = try r.next() { k += 1 }
                r.close()
                let dt = Date().timeIntervalSince(t0)
                #expect(k == n)
                if round == 1 || timings[m] == nil { timings[m] = min(timings[m] ?? .infinity, dt) }
                print("BENCH read \(m.rawValue) round \(round) \(n) rows x 12: \(String(format: "%.2f", dt)) s = \(Int(Double(n) / dt)) rows/s")
            }
        }
        // Raw write throughput out of the server for the same table (COPY of the generated values table).
        t0 = Date()
        let r = try PostgresRowReader(connection: PG.conninfo, query: s.t("bench_in"), method: .copy)
        var k = 0
        while case .row? = try r.next() { k += 1 }
        r.close()
        let dtOut = Date().timeIntervalSince(t0)
        print("BENCH copy-out (bench_in, bigint/double/text) \(k) rows x 12: \(String(format: "%.2f", dtOut)) s = \(Int(Double(k) / dtOut)) rows/s")
    }
}
