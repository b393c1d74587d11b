import Foundation
import Testing
import Aurum
import AurumPostgres

@Suite(.enabled(if: PG.enabled, "PostgreSQL server not reachable (set CI=true to fail instead)"), .serialized)
struct SourceTests {
    @Test(arguments: PostgresReadMethod.allCases)
    func typeMappingIsExact(method: PostgresReadMethod) throws {
        let s = try TestSchema()
        try s.conn.execute("""
            CREATE TABLE \(s.t("every")) (
              i2 int2, i4 int4, i8 int8, num numeric, f4 float4, f8 float8, b bool,
              t text, vc varchar(20), ch char(3), d date, ts timestamp, tstz timestamptz,
              u uuid, j json, jb jsonb, ia int4[], ta text[], ba bytea);
            INSERT INTO \(s.t("every")) VALUES (
              -32768, 2147483647, -9223372036854775808, 12345678901234567890.000000000123, 1.5, 0.1, true,
              E'tab\\there\\nnew line \\\\ back', 'varchar', 'ab', '2024-02-29', '2024-02-29 13:14:15.123456',
              '2024-02-29 13:14:15+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2],  "b":null}',
              '{"b": 2, "a": [1, "x"]}', '{1,NULL,3}', '{"a b","c\\"d",NULL,plain}', '\\x00ff10');
            INSERT INTO \(s.t("every")) VALUES (NULL, NULL, NULL, NULL, NULL, NULL, false, NULL, NULL, NULL, NULL,
              '2024-01-01 00:00:00', '2024-01-01 00:00:00.5+00', NULL, NULL, NULL, '{{1,2},{3,4}}', '{}', '\\x');
            """)
        let r = try PostgresRowReader(connection: PG.conninfo, query: s.t("every"), method: method)
        #expect(r.columns == ["i2", "i4", "i8", "num", "f4", "f8", "b", "t", "vc", "ch", "d", "ts", "tstz", "u", "j", "jb", "ia", "ta", "ba"])
        let rows = try readAll(r)
        #expect(rows.count == 2)
        let expected: [Value] = [
            .integer(-32768), .integer(2147483647), .integer(Int64.min), .text("12345678901234567890.000000000123"),
            .real(1.5), .real(0.1), .integer(1),
            .text("tab\there\nnew line \\ back"), .text("varchar"), .text("ab "), .text("2024-02-29"),
            .text("2024-02-29 13:14:15.123456"), .text("2024-02-29T11:14:15Z"),
            .text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), .text(#"{"a": [1, 2],  "b":null}"#),
            .text(#"{"a": [1, "x"], "b": 2}"#), .text("[1,null,3]"), .text(#"["a b","c\"d",null,"plain"]"#),
            .blob([0x00, 0xff, 0x10]),
        ]
        for (i, (got, want)) in zip(rows[0], expected).enumerated() {
            #expect(got == want, "column \(r.columns[i])")
        }
        let second: [Value] = [.null, .null, .null, .null, .null, .null, .integer(0), .null, .null, .null, .null,
                               .text("2024-01-01 00:00:00"), .text("2024-01-01T00:00:00.5Z"), .null, .null, .null,
                               .text("[[1,2],[3,4]]"), .text("[]"), .blob([])]
        #expect(rows[1] == second)
    }

    @Test(arguments: PostgresReadMethod.allCases)
    func selectQueryAndSpecialFloats(method: PostgresReadMethod) throws {
        let r = try PostgresRowReader(connection: PG.conninfo, query: """
            SELECT 'NaN'::float8 AS nan, 'Infinity'::float8 AS inf, '-Infinity'::float4 AS ninf, 1e300::float8 AS big,
                   ARRAY[1.5, 2.25]::float8[] AS fa, ARRAY[true, false] AS boa, '1.10'::numeric AS n
            """, method: method)
        let rows = try readAll(r)
        #expect(rows.count == 1)
        guard case .real(let nan) = rows[0][0] else { Issue.record("nan"); return }
        #expect(nan.isNaN)
        #expect(Array(rows[0][1...]) == [.real(.infinity), .real(-.infinity), .real(1e300), .text("[1.5,2.25]"),
                                         .text("[true,false]"), .text("1.10")])
    }

    /// The query fails on its last row: a reader that loaded the whole result first would fail before
    /// yielding anything; a streaming one yields the rows before it.
    @Test(arguments: PostgresReadMethod.allCases)
    func rowsAreStreamedBeforeTheEnd(method: PostgresReadMethod) throws {
        let n = 200_000
        let r = try PostgresRowReader(connection: PG.conninfo,
                                      query: "SELECT i, repeat('x', 20) AS pad, 1 / (\(n) - i) AS fails_last FROM generate_series(1, \(n)) AS i",
                                      method: method)
        defer { r.close() }
        var seen = 0
        var failure: Error? = nil
        do {
            while let item = try r.next() {
                if case .row(let v, _) = item {
                    seen += 1
                    if seen == 1 { #expect(v[0] == .integer(1)) }
                }
            }
        } catch {
            failure = error
        }
        #expect(failure != nil)
        #expect("\(failure.map { "\($0)" } ?? "")".contains("division by zero"))
        // Cursor: whole batches of 10000 before the failing one; COPY: the server streams as it goes.
        #expect(seen >= 190_000)
        #expect(r.itemsRead == seen)
    }

    @Test func bigTableStreamsWithBothMethods() throws {
        let s = try TestSchema()
        try s.conn.execute("CREATE TABLE \(s.t("big")) AS SELECT i AS id, md5(i::text) AS h FROM generate_series(1, 200000) AS i")
        for m in PostgresReadMethod.allCases {
            let r = try PostgresRowReader(connection: PG.conninfo, query: s.t("big"), method: m)
            // The first row arrives while the rest is still on the server.
            guard case .row(let first, _)? = try r.next() else { Issue.record("no row"); return }
            #expect(first.count == 2)
            #expect(r.itemsRead == 1)
            var n = 1
            var sum: Int64 = first[0] == .null ? 0 : { if case .integer(let i) = first[0] { return i } else { return 0 } }()
            while case .row(let v, _)? = try r.next() {
                n += 1
                if case .integer(let i) = v[0] { sum += i }
            }
            r.close()
            #expect(n == 200_000)
            #expect(sum == 200_000 * 200_001 / 2)
        }
    }

    @Test func incrementalCursorReadsOnlyNewerRowsAndReportsTheMax() throws {
        let s = try TestSchema()
        try s.conn.execute("""
            CREATE TABLE \(s.t("events")) (id int, updated_at timestamptz);
            INSERT INTO \(s.t("events")) VALUES (1, '2024-01-01 00:00:00+00'), (2, '2024-01-02 00:00:00+00'),
              (3, '2024-01-03 00:00:00.25+00'), (4, '2024-01-03 00:00:00+00'), (5, NULL);
            """)
        var spec = try postgresSourceSpec(connection: PG.conninfo, query: s.t("events"),
                                          options: ["cursor": "updated_at", "watermark": "2024-01-01T00:00:00Z"])
        let reader = try PostgresSource().open(spec) as! PostgresRowReader
        let rows = try readAll(reader)
        #expect(rows.map { $0[0] } == [.integer(2), .integer(3), .integer(4)])
        #expect(reader.maxCursorValue == "2024-01-03T00:00:00.25Z")
        // Feeding the max back as the watermark reads nothing new.
        spec.options["watermark"] = JSON.string(reader.maxCursorValue!)
        let again = try PostgresSource().open(spec) as! PostgresRowReader
        #expect(try readAll(again).isEmpty)
        #expect(again.maxCursorValue == nil)
        // An integer cursor.
        spec.options = ["cursor": JSON.string("id"), "watermark": JSON.string("3"), "read_method": JSON.string("cursor")]
        let byID = try PostgresSource().open(spec) as! PostgresRowReader
        #expect(try readAll(byID).map { $0[0] } == [.integer(4), .integer(5)])
        #expect(byID.maxCursorValue == "5")
    }

    @Test func connectionStringForms() throws {
        let pw = PG.password
        // URI over TCP with sslmode, password in the URI.
        let uri = "postgresql://\(PG.user):\(pw)@127.0.0.1:\(PG.port)/\(PG.database)?sslmode=disable"
        #expect(try PostgresConnection.with(uri) { try $0.query("SELECT 1") } == [[.integer(1)]])
        // Keyword string with the password from Credentials.
        let kw = "host=127.0.0.1 port=\(PG.port) dbname=\(PG.database) sslmode=prefer"
        #expect(try PostgresConnection.with(kw, credentials: Credentials(username: PG.user, password: pw)) {
            try $0.query("SELECT current_user")
        } == [[.text(PG.user)]])
        // Everything from the PG* environment (or libpq's defaults).
        #expect(try PostgresConnection.with("") { try $0.query("SELECT 2") } == [[.integer(2)]])
    }

    @Test func validateReportsMissingQuery() throws {
        var spec = try postgresSourceSpec(connection: "postgresql://h/db", query: "t")
        spec.query = nil
        let problems = PostgresSource().validate(spec)
        #expect(problems.map { $0.0 } == ["sources[0].query"])
    }
}
