@testable import AurumXML
import Foundation
import Testing
@testable import Aurum

/// Python that edits parts of an .xlsx in place (openpyxl writes neither shared strings nor cached
/// formula values, so the fixtures add them the way Excel writes them).
let patchXLSX = """
    import zipfile
    def patch(path, edits, add={}):
        zin = zipfile.ZipFile(path)
        items = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
        zin.close()
        with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
            for name, data in items:
                if name in edits:
                    new = edits[name](data.decode())
                    assert new != data.decode(), name
                    data = new.encode()
                z.writestr(name, data)
            for n, t in add.items(): z.writestr(n, t)

    """

@Suite(.serialized) struct ExcelTests {
    init() { AurumXML.register() }

    func spec(_ path: String, sheet: JSON? = nil, query: String? = nil, header: Bool = true) -> SourceSpec {
        var s = SourceSpec(name: "x", type: .excel, path: path, location: "sources[0]")
        if let sheet { s.options["sheet"] = sheet }
        s.query = query
        s.header = header
        return s
    }

    /// A workbook from openpyxl with three sheets, patched with shared strings and a cached formula value.
    func fixture(_ dir: TempDir) throws -> String? {
        let p = dir.file("book.xlsx")
        guard try python(patchXLSX + """
            import openpyxl, datetime, re
            wb = openpyxl.Workbook()
            ws = wb.active; ws.title = 'Customers'
            ws.append(['id', 'name', 'score', 'ok', 'born', 'seen', 'calc', 'nocache', 'shared', 'local', 'at', 'us', 'plain'])
            ws.append([1, 'Ada', 1.5, True, datetime.date(1990, 1, 31), datetime.datetime(2024, 5, 6, 7, 8, 9), '=A2*2', '=A2+1',
                       'S0', datetime.date(2001, 2, 3), datetime.time(13, 30), datetime.date(1999, 12, 31), 45000])
            ws['K2'].number_format = 'h:mm'
            ws['J2'].number_format = 'dd/mm/yyyy'
            ws['L2'].number_format = 'mm-dd-yy'
            ws['M2'].number_format = '[Red]0.00" days"'
            ws.append([2, 'Bob', -3, False, None, None, None, None, 'S1'])
            ws['D5'] = 'only D5'
            ws['A6'] = 6; ws['I6'] = 'S2'; ws['N6'] = 'beyond the header'
            o = wb.create_sheet('Orders')
            o.append(['order', 'amount']); o.append(['o-1', 10]); o.append(['o-2', 20.25])
            wb.create_sheet('Third').append(['t'])
            wb.save('\(p)')
            sst = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3">'
                   '<si><t>plain shared</t></si>'
                   '<si><r><rPr><b/></rPr><t>Ri</t></r><r><t xml:space="preserve">ch </t></r><rPh sb="0" eb="1"><t>ignored</t></rPh></si>'
                   '<si><t>tab_x0009_and_x005F_x0041_</t></si></sst>')
            def sheet(x):
                for i in range(3):
                    x = re.sub(r'<c r="(I\\d+)" t="inlineStr"><is><t>S%d</t></is></c>' % i, r'<c r="\\1" t="s"><v>%d</v></c>' % i, x)
                x = x.replace('<f>A2*2</f><v /></c>', '<f>A2*2</f><v>2</v></c>')
                return x
            def types(x):
                return x.replace('</Types>', '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            def rels(x):
                return x.replace('</Relationships>', '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
            patch('\(p)', {'xl/worksheets/sheet1.xml': sheet, '[Content_Types].xml': types, 'xl/_rels/workbook.xml.rels': rels},
                  {'xl/sharedStrings.xml': sst})
            """, needs: "openpyxl") != nil else { return nil }
        return p
    }

    @Test(.enabled(if: pythonTestsEnabled("openpyxl"), "needs openpyxl (pip install openpyxl)")) func readsWhatOpenpyxlWrote() throws {
        let dir = TempDir()
        guard let p = try fixture(dir) else { return }
        let (cols, recs, lines) = try readAll(spec(p))
        #expect(Array(cols.prefix(13)) == ["id", "name", "score", "ok", "born", "seen", "calc", "nocache", "shared", "local", "at", "us", "plain"])
        #expect(cols.count == 14 && cols[13] == "column_14")
        #expect(lines == [2, 3, 5, 6])
        let a = recs[0]
        #expect(a["id"] == .integer(1) && a["name"] == .text("Ada") && a["score"] == .real(1.5) && a["ok"] == .integer(1))
        #expect(a["born"] == .text("1990-01-31"))
        #expect(a["seen"] == .text("2024-05-06 07:08:09"))
        #expect(a["calc"] == .integer(2), "cached formula value")
        #expect(a["nocache"] == .null, "formula without a cached value")
        #expect(a["shared"] == .text("plain shared"))
        #expect(a["local"] == .text("2001-02-03") && a["us"] == .text("1999-12-31"))
        #expect(a["at"] == .text("13:30:00"))
        #expect(a["plain"] == .integer(45000), "a [Red]0.00\"days\" format is no date")
        let b = recs[1]
        #expect(b["score"] == .integer(-3) && b["ok"] == .integer(0) && b["born"] == .null && b["shared"] == .text("Rich "))
        #expect(recs[2] == ["id": .null, "name": .null, "score": .null, "ok": .text("only D5")])
        #expect(recs[3]["id"] == .integer(6) && recs[3]["shared"] == .text("tab\tand_x0041_") && recs[3]["column_14"] == .text("beyond the header"))

        // Sheet choice: by name (query or option), by number, case-insensitively; a missing one lists the sheets.
        let byName = try readAll(spec(p, query: "Orders"))
        #expect(byName.columns == ["order", "amount"] && byName.records.map { $0["amount"] } == [.integer(10), .real(20.25)])
        #expect(try readAll(spec(p, sheet: .int(2))).records.count == 2)
        #expect(try readAll(spec(p, sheet: .string("2"))).records.count == 2)
        #expect(try readAll(spec(p, sheet: .string("orders"))).records.count == 2)
        #expect(try readAll(spec(p, sheet: .int(3))).columns == ["t"])
        var err: AurumError?
        do { _ = try readAll(spec(p, sheet: .string("Nope"))) } catch let e as AurumError { err = e }
        #expect(err?.message == "no sheet named 'Nope'" && err?.hint == "sheets: 'Customers', 'Orders', 'Third'" && err?.location == p)
        #expect(throws: AurumError.self) { _ = try readAll(spec(p, sheet: .int(4))) }

        // Without a header row, columns are the sheet's letters.
        let raw = try readAll(spec(p, query: "Orders", header: false))
        #expect(raw.columns == ["A", "B"] && raw.records.count == 3 && raw.records[0]["A"] == .text("order"))
    }

    @Test(.enabled(if: pythonTestsEnabled("openpyxl"), "needs openpyxl (pip install openpyxl)")) func dates1904() throws {
        let dir = TempDir()
        let p = dir.file("mac.xlsx")
        guard try python("""
            import openpyxl, datetime
            from openpyxl.utils.datetime import CALENDAR_MAC_1904
            wb = openpyxl.Workbook(); wb.epoch = CALENDAR_MAC_1904
            ws = wb.active
            ws.append(['d', 'dt']); ws.append([datetime.date(2020, 2, 29), datetime.datetime(1999, 12, 31, 23, 59, 59)])
            wb.save('\(p)')
            """, needs: "openpyxl") != nil else { return }
        let (_, recs, _) = try readAll(spec(p))
        #expect(recs == [["d": .text("2020-02-29"), "dt": .text("1999-12-31 23:59:59")]])
    }

    @Test func dateFormatDetection() {
        #expect(ExcelDateKind(numFmtId: 14, code: nil) == .date)
        #expect(ExcelDateKind(numFmtId: 22, code: nil) == .dateTime)
        #expect(ExcelDateKind(numFmtId: 46, code: nil) == .time)
        #expect(ExcelDateKind(numFmtId: 0, code: "General") == nil)
        #expect(ExcelDateKind(numFmtId: 170, code: "#,##0.00\\ \"€\"") == nil)
        #expect(ExcelDateKind(numFmtId: 171, code: "[$-409]d-mmm-yy;@") == .date)
        #expect(ExcelDateKind(numFmtId: 172, code: "[h]:mm:ss") == .time)
        #expect(ExcelDateKind(numFmtId: 173, code: "yyyy-mm-dd hh:mm") == .dateTime)
        #expect(ExcelDateKind.date.text(serial: 1, date1904: false) == "1900-01-01")
        #expect(ExcelDateKind.date.text(serial: 61, date1904: false) == "1900-03-01")
        #expect(ExcelDateKind.date.text(serial: 45000.75, date1904: false) == "2023-03-15 18:00:00")
        #expect(ExcelDateKind.date.text(serial: 0, date1904: true) == "1904-01-01")
        #expect(ExcelDateKind.time.text(serial: 0.99998, date1904: false) == "23:59:58")
        #expect(ExcelDateKind.time.text(serial: 1.5, date1904: false) == "1900-01-01 12:00:00")
    }

    @Test func notAWorkbookIsAClearError() throws {
        let dir = TempDir()
        let p = dir.write("fake.xlsx", "this is not a zip")
        var err: AurumError?
        do { _ = try readAll(spec(p)) } catch let e as AurumError { err = e }
        #expect(err?.location == p && err?.message.contains("not an Excel workbook") == true, "\(String(describing: err))")
    }

    @Test(.enabled(if: pythonTestsEnabled("openpyxl"), "needs openpyxl (pip install openpyxl)")) func writesWorkbooksOpenpyxlReads() throws {
        let dir = TempDir()
        dir.write("in.csv", "id,name,amount,when,region\n1,Ada,1.5,2024-01-02,north\n2,\"Bob & <Co> \",-2,,south\n3,  padded,3.25,2024-03-04,north\n")
        let catalog = try loadCatalog(dir, """
            sources:
              - {name: c, type: csv, path: in.csv}
            outputs:
              - {format: excel, path: out/all.xlsx, options: {sheet: Customers}}
              - {format: excel, path: out/by_region, partition: {by: region, type: category}}
            """)
        let outcome = try Pipeline.run(catalog)
        #expect(outcome.succeeded, "\(String(describing: outcome.error))")
        guard let result = try python("""
            import openpyxl, json, glob
            out = {}
            for f in ['\(dir.file("out/all.xlsx"))'] + sorted(glob.glob('\(dir.file("out/by_region"))/*/*.xlsx')):
                wb = openpyxl.load_workbook(f)
                ws = wb.active
                out[f.split('/out/')[1]] = {'sheet': ws.title, 'rows': [[c.value for c in r] for r in ws.iter_rows()]}
            print(json.dumps(out))
            """, needs: "openpyxl") else { return }
        let books = try #require(try JSONSerialization.jsonObject(with: Data(result.utf8)) as? [String: [String: Any]])
        let all = try #require(books["all.xlsx"])
        #expect(all["sheet"] as? String == "Customers")
        let rows = try #require(all["rows"] as? [[Any]])
        #expect(rows.count == 4)
        let header = rows[0].map { "\($0)" }
        #expect(header.starts(with: ["id", "name", "amount", "when", "region"]), "\(header)")
        let idIndex = 0, amount = header.firstIndex(of: "amount")!, name = header.firstIndex(of: "name")!
        #expect(rows[1][idIndex] as? Int == 1 && rows[1][amount] as? Double == 1.5)
        #expect(rows[2][name] as? String == "Bob & <Co> " && rows[2][amount] as? Int == -2)
        #expect(rows[3][name] as? String == "  padded")
        #expect(books["by_region/region=north/part-00000.xlsx"]?["rows"].map { ($0 as! [[Any]]).count } == 3)
        #expect(books["by_region/region=south/part-00000.xlsx"]?["rows"].map { ($0 as! [[Any]]).count } == 2)

        // And Aurum reads its own workbook back.
        let (_, recs, _) = try readAll(spec(dir.file("out/all.xlsx")))
        #expect(recs.count == 3 && recs[1]["name"] == .text("Bob & <Co> ") && recs[0]["amount"] == .real(1.5) && recs[0]["id"] == .integer(1))
    }

    @Test func largeSheetRoundTripsWithBoundedMemory() throws {
        let dir = TempDir()
        let p = dir.file("big.xlsx")
        let n = 60_000
        let w = try ExcelFileWriter(path: p, columns: ["id", "name", "amount", "city"], sheetName: "Big")
        for i in 0 ..< n { try w.write([.integer(Int64(i)), .text("Customer \(i)"), .real(Double(i) + 0.25), i % 5 == 0 ? .null : .text("City \(i % 97)")]) }
        try w.close()
        let before = currentRSS()
        let c = try #require(ConnectorRegistry.shared.source(.excel))
        let r = try c.open(spec(p))
        var count = 0, maxRSS = before
        while let item = try r.next() {
            if case .row(let v, let line) = item, count % 10_007 == 0 {
                #expect(v[0] == .integer(Int64(count)) && v[2] == .real(Double(count) + 0.25) && line == count + 2)
            }
            count += 1
            if count % 10_000 == 0 { maxRSS = max(maxRSS, currentRSS()) }
        }
        r.close()
        #expect(count == n)
        print("xlsx: \(n) rows, \((try FileManager.default.attributesOfItem(atPath: p)[.size] as? Int ?? 0) >> 10) KiB zipped, RSS growth \((maxRSS - before) >> 10) KiB")
        #expect(maxRSS - before < 32 << 20)
    }

    @Test func excelEscapesRoundTrip() throws {
        let dir = TempDir()
        let p = dir.file("e.xlsx")
        let w = try ExcelFileWriter(path: p, columns: ["a", "b"], sheetName: "S")
        try w.write([.text("bell\u{07}x_x0041_y"), .real(.nan)])
        try w.close()
        let (_, recs, _) = try readAll(spec(p))
        #expect(recs == [["a": .text("bell\u{07}x_x0041_y"), "b": .text("NaN")]])
    }
}

@Suite(.serialized) struct IntegrationConfigTests {
    init() { AurumXML.register() }

    /// The JSON interface: `source_type` xml (query = record path) and excel (query = sheet name), `output_format` excel.
    @Test func xmlAndExcelInTheIntegrationConfig() throws {
        let dir = TempDir()
        dir.write("c.xml", "<export><customers><customer id=\"1\"><name>Ada</name></customer><customer id=\"2\"><name>Bob</name></customer></customers></export>")
        let w = try ExcelFileWriter(path: dir.file("b.xlsx"), columns: ["customer_id", "balance"], sheetName: "Billing")
        try w.write([.integer(1), .real(10.5)])
        try w.write([.integer(2), .integer(-3)])
        try w.close()
        let catalog = try CatalogLoader.load(path: dir.write("integration.json", """
            {"integration_config": {
              "data_sources": [
                {"source_name": "x", "source_type": "xml", "connection_string": "c.xml", "query": "/export/customers/customer"},
                {"source_name": "b", "source_type": "excel", "connection_string": "b.xlsx", "query": "Billing"}],
              "integration_strategy": {"join_type": "left", "join_keys": [{"source1_key": "id", "source2_key": "customer_id"}],
                                       "merge_strategy": "union", "conflict_resolution": "first"},
              "output_config": {"output_format": "excel", "output_destination": "out/master.xlsx"}}}
            """))
        #expect(catalog.sources.map(\.type) == [.xml, .excel])
        let outcome = try Pipeline.run(catalog)
        #expect(outcome.succeeded, "\(String(describing: outcome.error))")
        var s = SourceSpec(name: "o", type: .excel, path: dir.file("out/master.xlsx"), location: "o")
        s.header = true
        let (cols, recs, _) = try readAll(s)
        #expect(cols.contains("name") && cols.contains("balance"), "\(cols)")
        #expect(recs.count == 2)
        #expect(Set(recs.compactMap { $0["balance"] }) == [.real(10.5), .integer(-3)], "\(recs)")
    }
}
