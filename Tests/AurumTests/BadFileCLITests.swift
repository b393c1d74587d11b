import Foundation
import Testing
@testable import Aurum

/// Truncated, corrupt and unsupported xlsx, Parquet and XML files through the `aurum` binary: exit
/// code 1, a message naming the file and the problem, no crash, no output, and a warehouse that
/// still holds the last good snapshot.
@Suite struct BadFileCLITests {
    /// A three-row file of `format` (parquet or excel) written by aurum itself from a CSV.
    func goodFile(_ dir: TempDir, _ format: String, _ name: String) throws -> String {
        dir.write("seed.csv", "id,name,score\n1,Ann,3.5\n2,Bob,4\n3,Cy,\n")
        let c = dir.write("seed.json", """
            {"data_sources": [{"source_name": "seed", "source_type": "csv", "connection_string": "seed.csv"}],
             "output_config": {"output_format": "\(format)", "output_destination": "\(name)"}}
            """)
        let r = try runAurum(["integrate", c, "-q", "--warehouse", dir.file("seed.db")])
        try #require(r.status == 0, "\(r.stderr)")
        return dir.file(name)
    }

    func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
    func put(_ b: [UInt8], _ path: String) throws { try Data(b).write(to: URL(fileURLWithPath: path)) }

    /// Runs a config of a good CSV source `crm` joined with `bad` (of `type`, reading `file`) and
    /// checks the failure: exit 1, `expected` on standard error after `error: `, nothing written, and
    /// the warehouse consistent (the failed snapshot left no rows behind). Returns the warehouse path.
    @discardableResult
    func expectFailure(_ dir: TempDir, type: String, file: String, query: String? = nil, _ expected: String,
                       sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        dir.write("crm.csv", "id,segment\n1,B2C\n2,B2B\n")
        let q = query.map { #", "query": "\#($0)""# } ?? ""
        let c = dir.write("bad.json", """
            {"data_sources": [{"source_name": "crm", "source_type": "csv", "connection_string": "crm.csv"},
                              {"source_name": "bad", "source_type": "\(type)", "connection_string": "\(file)"\(q)}],
             "integration_strategy": {"join_type": "outer", "join_keys": [{"source1_key": "id", "source2_key": "bad.id"}]},
             "output_config": {"output_format": "csv", "output_destination": "out.csv"}}
            """)
        let r = try runAurum(["integrate", c, "-q"])
        #expect(r.status == 1, "exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains("error: \(expected)"), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stdout.isEmpty, sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: dir.file("out.csv")), sourceLocation: sourceLocation)
        let w = try Warehouse(path: dir.file("aurum.db"))
        defer { w.close() }
        #expect(try w.db.query("PRAGMA integrity_check") == [[.text("ok")]], sourceLocation: sourceLocation)
        let last = try w.db.query("SELECT max(run_id) FROM runs")[0][0]
        #expect(try w.db.query("SELECT status FROM runs WHERE run_id = ?", [last]) == [[.text("failed")]], sourceLocation: sourceLocation)
        #expect(try w.db.query("SELECT name, status FROM run_steps WHERE run_id = ? ORDER BY step_no", [last])
                == [[.text("snapshot:crm"), .text("succeeded")], [.text("snapshot:bad"), .text("failed")]], sourceLocation: sourceLocation)
        // The failed snapshot recorded nothing: no snapshot row, no quarantined rows of this run.
        #expect(try w.db.query("SELECT count(*) FROM snapshots WHERE run_id = ? AND source = 'bad'", [last]) == [[.integer(0)]],
                sourceLocation: sourceLocation)
        #expect(try w.db.query("SELECT count(*) FROM quarantine WHERE run_id = ? AND source = 'bad'", [last]) == [[.integer(0)]],
                sourceLocation: sourceLocation)
        return dir.file("aurum.db")
    }

    // MARK: Parquet

    @Test func truncatedParquet() throws {
        let dir = TempDir()
        let p = try goodFile(dir, "parquet", "good.parquet")
        let b = try bytes(p)
        try put(Array(b[..<(b.count / 2)]), dir.file("t.parquet"))
        try expectFailure(dir, type: "parquet", file: "t.parquet", "\(dir.file("t.parquet")): not a Parquet file or truncated (bad magic at end)")
    }

    @Test func corruptParquetPages() throws {
        let dir = TempDir()
        var b = try bytes(try goodFile(dir, "parquet", "good.parquet"))
        for k in 8 ..< 40 { b[k] ^= 0xA5 }   // the first page header, inside the first column chunk
        try put(b, dir.file("c.parquet"))
        try expectFailure(dir, type: "parquet", file: "c.parquet",
                          "\(dir.file("c.parquet")): corrupt page header at chunk offset 0: thrift unknown type 0 in column 'id'")
    }

    @Test(.enabled(if: pythonTestsEnabled("pyarrow"))) func parquetWithNestedTypesOrAnUnknownCodec() throws {
        let dir = TempDir()
        _ = try python("""
            import pyarrow as pa, pyarrow.parquet as pq
            pq.write_table(pa.table({"id": [1, 2], "tags": [[1, 2], [3]]}), "\(dir.file("list.parquet"))")
            pq.write_table(pa.table({"id": [1, 2], "address": [{"city": "Oslo"}, {"city": "Rome"}]}), "\(dir.file("struct.parquet"))")
            pq.write_table(pa.table({"id": [1, 2, 3]}), "\(dir.file("brotli.parquet"))", compression="brotli")
            """, needs: "pyarrow")
        try expectFailure(dir, type: "parquet", file: "list.parquet",
                          "\(dir.file("list.parquet")): nested column 'tags' is not supported (flat schemas only)")
        try expectFailure(dir, type: "parquet", file: "struct.parquet",
                          "\(dir.file("struct.parquet")): nested column 'address' is not supported (flat schemas only)")
        try expectFailure(dir, type: "parquet", file: "brotli.parquet",
                          "\(dir.file("brotli.parquet")): unsupported codec BROTLI in column 'id'")
    }

    // MARK: Excel

    @Test func truncatedOrForeignXLSX() throws {
        let dir = TempDir()
        let b = try bytes(try goodFile(dir, "excel", "good.xlsx"))
        try put(Array(b[..<(b.count / 2)]), dir.file("t.xlsx"))
        try expectFailure(dir, type: "excel", file: "t.xlsx", "\(dir.file("t.xlsx")): not an Excel workbook (.xlsx): the file is not a ZIP archive")
        dir.write("text.xlsx", "id,name\n1,Ann\n")
        try expectFailure(dir, type: "excel", file: "text.xlsx", "\(dir.file("text.xlsx")): not an Excel workbook (.xlsx): the file is not a ZIP archive")
    }

    @Test func xlsxWithCorruptCompressedData() throws {
        let dir = TempDir()
        var b = try bytes(try goodFile(dir, "excel", "good.xlsx"))
        // The sheet's local header is followed by its deflate stream: damage the stream.
        let name = Array("xl/worksheets/sheet1.xml".utf8)
        let at = try #require((0 ..< b.count - name.count).first { Array(b[$0 ..< $0 + name.count]) == name })
        for k in at + name.count + 5 ..< at + name.count + 40 { b[k] ^= 0x5A }
        try put(b, dir.file("d.xlsx"))
        try expectFailure(dir, type: "excel", file: "d.xlsx",
                          "\(dir.file("d.xlsx")): cannot read part 'xl/worksheets/sheet1.xml' of the workbook: its compressed data is corrupt")
    }

    @Test func xlsxWithAMalformedSheet() throws {
        let dir = TempDir()
        let good = try goodFile(dir, "excel", "good.xlsx")
        // A well-formed ZIP whose sheet is cut off in the middle of an element.
        _ = try python("""
            import zipfile
            src = zipfile.ZipFile("\(good)")
            with zipfile.ZipFile("\(dir.file("m.xlsx"))", "w", zipfile.ZIP_DEFLATED) as z:
                for n in src.namelist():
                    d = src.read(n)
                    if n == "xl/worksheets/sheet1.xml":
                        d = d[: d.index(b"<row r=\\"3\\"") + 7]
                    z.writestr(n, d)
            """, needs: "zipfile")
        try expectFailure(dir, type: "excel", file: "m.xlsx", "\(dir.file("m.xlsx"))[xl/worksheets/sheet1.xml]:2: malformed XML: ")
    }

    // MARK: XML

    @Test func truncatedAndMalformedXML() throws {
        let dir = TempDir()
        dir.write("t.xml", "<export><customers><customer id=\"1\"><name>Ann</name></customer>\n<customer id=\"2\"><na")
        try expectFailure(dir, type: "xml", file: "t.xml", query: "/export/customers/customer",
                          "\(dir.file("t.xml")):2: malformed XML: Couldn't find end of Start Tag na")
        dir.write("m.xml", "<export><customers><customer id=\"1\"><name>Ann</nam></customer></customers></export>")
        try expectFailure(dir, type: "xml", file: "m.xml", query: "/export/customers/customer",
                          "\(dir.file("m.xml")):1: malformed XML: Opening and ending tag mismatch: name line 1 and nam")
        try put([0x3C, 0x61, 0x3E, 0xFF, 0xFE, 0x3C, 0x2F, 0x61, 0x3E], dir.file("bytes.xml"))
        try expectFailure(dir, type: "xml", file: "bytes.xml", "\(dir.file("bytes.xml")):1: malformed XML: ")
    }

    /// A file that breaks after some good records: the run fails, and the warehouse keeps the
    /// previous run's snapshot of that source whole (the partial read was rolled back).
    @Test func aFailureMidFileKeepsTheLastGoodSnapshot() throws {
        let dir = TempDir()
        let records = (1 ... 3).map { "<customer id=\"\($0)\"><name>N\($0)</name></customer>" }.joined(separator: "\n")
        dir.write("x.xml", "<export><customers>\n\(records)\n</customers></export>\n")
        dir.write("crm.csv", "id,segment\n1,B2C\n2,B2B\n")
        let c = dir.write("good.json", """
            {"data_sources": [{"source_name": "crm", "source_type": "csv", "connection_string": "crm.csv"},
                              {"source_name": "bad", "source_type": "xml", "connection_string": "x.xml", "query": "/export/customers/customer"}],
             "integration_strategy": {"join_type": "outer", "join_keys": [{"source1_key": "id", "source2_key": "bad.id"}]},
             "output_config": {"output_format": "csv", "output_destination": "first.csv"}}
            """)
        let ok = try runAurum(["integrate", c, "-q"])
        try #require(ok.status == 0, "\(ok.stderr)")
        // Two good records, then the file breaks off.
        dir.write("x.xml", "<export><customers>\n<customer id=\"1\"><name>M1</name></customer>\n<customer id=\"2\"><name>M2</name></customer>\n<customer id=\"3\"><name>M3</nam")
        let w = try expectFailure(dir, type: "xml", file: "x.xml", query: "/export/customers/customer",
                                  "\(dir.file("x.xml")):4: malformed XML: ")
        let wh = try Warehouse(path: w)
        defer { wh.close() }
        #expect(try wh.db.query("SELECT id, name FROM src_bad ORDER BY __rid") == [
            [.text("1"), .text("N1")], [.text("2"), .text("N2")], [.text("3"), .text("N3")]])
        #expect(try wh.db.query("SELECT last_run FROM sources WHERE name = 'bad'") == [[.integer(1)]])
    }
}
