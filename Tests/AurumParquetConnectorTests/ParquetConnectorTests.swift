import AurumParquetConnector
import Foundation
import Testing
@testable import Aurum

@Suite(.serialized, .enabled(if: pythonTestsEnabled("pyarrow"), "needs pyarrow (pip install pyarrow)"))
struct ParquetConnectorTests {
    init() { AurumParquetConnector.register() }

    @Test func pyarrowFileReadsIntoACSVOutput() throws {
        let dir = TempDir()
        let pq = dir.file("in.parquet")
        guard try python("""
            import pyarrow as pa, pyarrow.parquet as pq, datetime, decimal
            t = pa.table({
              'id': pa.array([1, 2, 3], pa.int32()),
              'big': pa.array([10**12, None, -5], pa.int64()),
              'name': pa.array(['Ada', None, 'Zoë, "Z"'], pa.string()),
              'score': pa.array([1.5, 2.25, None], pa.float64()),
              'f': pa.array([1.1, None, 0.5], pa.float32()),
              'ok': pa.array([True, False, None], pa.bool_()),
              'born': pa.array([datetime.date(1990, 1, 31), datetime.date(1969, 12, 31), None], pa.date32()),
              'seen': pa.array([datetime.datetime(2024, 5, 6, 7, 8, 9, 123000), None, datetime.datetime(1970, 1, 1)], pa.timestamp('ms', tz='UTC')),
              'local': pa.array([datetime.datetime(2024, 5, 6, 7, 8, 9, 1), None, None], pa.timestamp('us')),
              'amount': pa.array([decimal.Decimal('12.34'), decimal.Decimal('-0.05'), None], pa.decimal128(10, 2)),
              'huge': pa.array([decimal.Decimal('123456789012345678901.5'), None, None], pa.decimal128(30, 1)),
              'raw': pa.array([b'ab', None, b''], pa.binary()),
            })
            pq.write_table(t, '\(pq)', row_group_size=2, compression='zstd')
            """, needs: "pyarrow") != nil else { return }
        let catalog = try loadCatalog(dir, """
            sources:
              - {name: p, type: parquet, path: in.parquet}
            outputs:
              - {format: csv, path: out/p.csv}
            """)
        let outcome = try Pipeline.run(catalog)
        #expect(outcome.succeeded, "\(String(describing: outcome.error))")
        let csv = try #require(dir.read("out/p.csv"))
        let lines = csv.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        for c in ["id", "big", "name", "score", "f", "ok", "born", "seen", "local", "amount", "huge", "raw"] {
            #expect(header.contains(c), "\(header)")
        }
        func row(_ i: Int) -> [String: String] {
            let fields = parseCSVLine(lines[i])
            return Dictionary(uniqueKeysWithValues: zip(header, fields))
        }
        let r1 = row(1), r2 = row(2), r3 = row(3)
        #expect(r1["id"] == "1" && r1["big"] == "1000000000000" && r1["name"] == "Ada")
        #expect(r1["score"] == "1.5" && r1["f"] == "1.1" && r1["ok"] == "1")
        #expect(r1["born"] == "1990-01-31" && r2["born"] == "1969-12-31")
        #expect(r1["seen"] == "2024-05-06T07:08:09.123Z" && r3["seen"] == "1970-01-01T00:00:00Z")
        #expect(r1["local"] == "2024-05-06T07:08:09.000001")
        #expect(r1["amount"] == "12.34" && r2["amount"] == "-0.05")
        #expect(r1["huge"] == "123456789012345678901.5")
        #expect(r1["raw"] == "ab")
        #expect(r2["name"] == "" && r2["ok"] == "0" && r2["big"] == "")
        #expect(r3["name"] == "Zoë, \"Z\"" && r3["big"] == "-5" && r3["score"] == "")
    }

    @Test func unsupportedFileGivesTheReadersErrorNamingTheFile() throws {
        let dir = TempDir()
        let pq = dir.file("nested.parquet")
        guard try python("""
            import pyarrow as pa, pyarrow.parquet as pq
            pq.write_table(pa.table({'l': pa.array([[1, 2], [3]])}), '\(pq)')
            """, needs: "pyarrow") != nil else { return }
        let spec = SourceSpec(name: "n", type: .parquet, path: pq, location: "sources[0]")
        let connector = try #require(ConnectorRegistry.shared.source(.parquet))
        #expect {
            let r = try connector.open(spec)
            defer { r.close() }
            while try r.next() != nil {}
        } throws: { e in
            guard let e = e as? AurumError else { return false }
            return e.code == .source && e.location == pq && !e.message.isEmpty
        }
        dir.write("bad.parquet", "not parquet at all")
        #expect(throws: AurumError.self) { _ = try connector.open(SourceSpec(name: "b", type: .parquet, path: dir.file("bad.parquet"), location: "sources[0]")) }
    }

    @Test func partitionedParquetOutputReadsBackInPyarrow() throws {
        let dir = TempDir()
        var csv = "id,segment,amount,name,signup\n"
        for i in 0 ..< 200 {
            let seg = ["retail", "enterprise", "gov/x"][i % 3]
            let amount = i % 2 == 0 ? "\(i)" : "\(i).5"
            let name = i % 11 == 0 ? "" : "n\(i)"
            csv += "\(i),\(seg),\(amount),\(name),2024-0\(1 + i % 3)-1\(i % 10)\n"
        }
        dir.write("in.csv", csv)
        let catalog = try loadCatalog(dir, """
            sources:
              - {name: c, type: csv, path: in.csv}
            outputs:
              - {format: parquet, path: out/by_segment, partition: {by: segment, type: category}}
              - {format: parquet, path: out/by_date, partition: {by: signup, type: date}, options: {codec: zstd}}
              - {format: parquet, path: out/by_hash, partition: {by: id, type: hash, buckets: 4}, options: {codec: gzip}}
              - {format: parquet, path: out/all.parquet, options: {codec: uncompressed, row_group_rows: 64}}
              - {format: csv, path: out/all.csv}
            """)
        let outcome = try Pipeline.run(catalog)
        #expect(outcome.succeeded, "\(String(describing: outcome.error))")
        // pyarrow reads every part file; the rows (as text) must equal the CSV output's rows.
        guard let result = try python("""
            import pyarrow.parquet as pq, glob, csv, json, sys
            out = '\(dir.file("out"))'
            expected = list(csv.DictReader(open(out + '/all.csv')))
            def norm(v):
                if v is None: return ''
                if isinstance(v, float) and v == int(v) and False: return str(int(v))
                return str(v)
            report = {}
            for name in ['by_segment', 'by_date', 'by_hash', 'all.parquet']:
                files = sorted(glob.glob(out + '/' + name + '/**/*.parquet', recursive=True)) if not name.endswith('.parquet') else [out + '/' + name]
                rows = []
                types = None
                for f in files:
                    t = pq.read_table(f)
                    types = {fld.name: str(fld.type) for fld in t.schema}
                    rows += t.to_pylist()
                got = sorted(json.dumps({k: norm(v) for k, v in r.items()}, sort_keys=True) for r in rows)
                report[name] = {'files': len(files), 'rows': len(rows), 'types': types,
                                'dirs': sorted(set(f[len(out) + len(name) + 2:].rsplit('/', 1)[0] for f in files))}
                exp = []
                for r in expected:
                    e = dict(r)
                    e['amount'] = str(float(r['amount']))
                    exp.append(json.dumps(e, sort_keys=True))
                report[name]['equal'] = got == sorted(exp)
                if not report[name]['equal']:
                    report[name]['diff'] = [x for x in got if x not in set(exp)][:3] + ['|'] + [x for x in sorted(exp) if x not in set(got)][:3]
            print(json.dumps(report))
            """, needs: "pyarrow") else { return }
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.utf8)) as? [String: [String: Any]])
        for (name, r) in report {
            #expect(r["equal"] as? Bool == true, "\(name): \(r)")
            #expect(r["rows"] as? Int == 200, "\(name)")
            let types = r["types"] as? [String: String]
            #expect(types == ["id": "int64", "segment": "string", "amount": "double", "name": "string", "signup": "string"], "\(name): \(String(describing: types))")
        }
        #expect(report["by_segment"]?["dirs"] as? [String] == ["segment=enterprise", "segment=gov%2Fx", "segment=retail"])
        #expect(report["by_hash"]?["files"] as? Int == 4)
        #expect((report["by_date"]?["dirs"] as? [String])?.first == "year=2024/month=01/day=10")

        // A partitioned directory reads back as one source (every part file, in path order).
        let reader = try ConnectorRegistry.shared.source(.parquet)!.open(SourceSpec(name: "d", type: .parquet, path: dir.file("out/by_hash"), location: "sources[0]"))
        defer { reader.close() }
        var ids = Set<Int64>()
        while let item = try reader.next() { if case .row(let v, _) = item, case .integer(let i) = v[0] { ids.insert(i) } }
        #expect(ids == Set(0 ..< 200) && reader.columns == ["id", "segment", "amount", "name", "signup"] && reader.itemsRead == 200)
    }
}

/// Splits one RFC 4180 CSV line (no embedded newlines).
func parseCSVLine(_ line: String) -> [String] {
    var fields: [String] = [], cur = "", quoted = false, i = line.startIndex
    while i < line.endIndex {
        let c = line[i]
        if quoted {
            if c == "\"" {
                let n = line.index(after: i)
                if n < line.endIndex && line[n] == "\"" { cur.append("\""); i = n } else { quoted = false }
            } else { cur.append(c) }
        } else if c == "\"" { quoted = true } else if c == "," { fields.append(cur); cur = "" } else { cur.append(c) }
        i = line.index(after: i)
    }
    fields.append(cur)
    return fields
}

@Suite(.serialized, .enabled(if: pythonTestsEnabled("pyarrow"), "needs pyarrow (pip install pyarrow)"))
struct ParquetRoundTripTests {
    init() { AurumParquetConnector.register() }

    @Test func pyarrowToAurumToPyarrowKeepsValuesAndNulls() throws {
        let dir = TempDir()
        guard try python("""
            import pyarrow as pa, pyarrow.parquet as pq, datetime
            pq.write_table(pa.table({
              'n': pa.array([1, None, 3, 2**40], pa.int64()),
              'x': pa.array([0.1, None, -2.5, 1e300], pa.float64()),
              's': pa.array(['a', None, '', 'ünï'], pa.string()),
              'd': pa.array([datetime.date(2024, 2, 29), None, datetime.date(1, 1, 1), datetime.date(9999, 12, 31)], pa.date32()),
            }), '\(dir.file("in.parquet"))')
            """, needs: "pyarrow") != nil else { return }
        let catalog = try loadCatalog(dir, """
            sources:
              - {name: p, type: parquet, path: in.parquet}
            outputs:
              - {format: parquet, path: out/p.parquet}
            """)
        let outcome = try Pipeline.run(catalog)
        #expect(outcome.succeeded, "\(String(describing: outcome.error))")
        guard let out = try python("""
            import pyarrow.parquet as pq, json
            t = pq.read_table('\(dir.file("out/p.parquet"))', columns=['n', 'x', 's', 'd'])
            print(json.dumps({'types': [str(f.type) for f in t.schema], 'rows': t.to_pylist(),
                              'codec': pq.ParquetFile('\(dir.file("out/p.parquet"))').metadata.row_group(0).column(0).compression}))
            """, needs: "pyarrow") else { return }
        let r = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(r["types"] as? [String] == ["int64", "double", "string", "string"])
        #expect(r["codec"] as? String == "SNAPPY")
        let rows = try #require(r["rows"] as? [[String: Any]])
        #expect(rows.count == 4)
        #expect(rows[0]["n"] as? Int == 1 && rows[0]["x"] as? Double == 0.1 && rows[0]["s"] as? String == "a" && rows[0]["d"] as? String == "2024-02-29")
        #expect(rows[1]["n"] is NSNull && rows[1]["x"] is NSNull && rows[1]["s"] is NSNull && rows[1]["d"] is NSNull)
        #expect(rows[2]["s"] as? String == "" && rows[2]["d"] as? String == "0001-01-01" && rows[2]["x"] as? Double == -2.5)
        #expect(rows[3]["n"] as? Int == 1 << 40 && rows[3]["x"] as? Double == 1e300 && rows[3]["s"] as? String == "ünï" && rows[3]["d"] as? String == "9999-12-31")
    }

}

@Suite struct ParquetValidationTests {
    init() { AurumParquetConnector.register() }

    @Test func badCodecIsReportedAtValidation() throws {
        let dir = TempDir()
        dir.write("in.csv", "a\n1\n")
        #expect {
            _ = try loadCatalog(dir, """
                sources:
                  - {name: c, type: csv, path: in.csv}
                outputs:
                  - {format: parquet, path: out.parquet, options: {codec: lzo}}
                """)
        } throws: { e in "\(e)".contains("outputs[0].options.codec") && "\(e)".contains("lzo") }
    }
}
