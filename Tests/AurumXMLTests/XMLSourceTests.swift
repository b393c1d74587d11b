import AurumXML
import Foundation
import Testing
@testable import Aurum

@Suite(.serialized) struct XMLSourceTests {
    init() { AurumXML.register() }

    func spec(_ path: String, _ options: [String: JSON] = [:]) -> SourceSpec {
        var s = SourceSpec(name: "x", type: .xml, path: path, location: "sources[0]")
        s.options = options
        return s
    }

    @Test func attributesNestingTextAndRepeats() throws {
        let dir = TempDir()
        let p = dir.write("c.xml", """
            <?xml version="1.0" encoding="UTF-8"?>
            <export generated="2024-01-01">
              <customers>
                <customer id="1" status="active">
                  <name>Ada Lovelace</name>
                  <email> ada@example.com </email>
                  <address type="home"><street>1 Main St</street><city>London</city></address>
                  <phone>111</phone>
                  <phone>222</phone>
                  <note><![CDATA[a < b & c]]></note>
                  <empty/>
                </customer>
                <customer id="2"><name lang="en">Bob &amp; Co</name></customer>
                <customer id="3"/>
              </customers>
              <other><customer id="ignored"/></other>
            </export>
            """)
        let (cols, recs, lines) = try readAll(spec(p, ["records": .string("/export/customers/customer")]))
        #expect(recs.count == 3)
        let a = recs[0]
        #expect(a["id"] == .text("1") && a["status"] == .text("active"))
        #expect(a["name"] == .text("Ada Lovelace"))
        #expect(a["email"] == .text(" ada@example.com "))
        #expect(a["address.type"] == .text("home") && a["address.street"] == .text("1 Main St") && a["address.city"] == .text("London"))
        #expect(a["phone"] == .text("111") && a["phone[2]"] == .text("222"))
        #expect(a["note"] == .text("a < b & c"))
        #expect(a["empty"] == .text(""))
        #expect(recs[1]["name"] == .text("Bob & Co") && recs[1]["name.lang"] == .text("en"))
        #expect(recs[2] == ["id": .text("3")])
        #expect(lines == [4, 13, 14])
        #expect(cols.starts(with: ["id", "status", "name", "email"]))

        // The attribute prefix is configurable; the default path is the root's children.
        let (_, r2, _) = try readAll(spec(p, ["records": .string("//customer"), "attribute_prefix": .string("@")]))
        #expect(r2.count == 4 && r2[0]["@id"] == .text("1") && r2[0]["address.@type"] == .text("home"))
        let (_, r3, _) = try readAll(spec(p))
        #expect(r3.count == 2 && r3[0]["customer.id"] == .text("1") && r3[1]["customer.id"] == .text("ignored"))
    }

    @Test func namespaces() throws {
        let dir = TempDir()
        let p = dir.write("ns.xml", """
            <e:export xmlns:e="urn:export" xmlns="urn:default" xmlns:x="urn:extra">
              <e:customer x:id="7"><name>Ada</name><x:tag>vip</x:tag></e:customer>
              <customer><name>not in e</name></customer>
              <e:customer x:id="8"><name>Bob</name></e:customer>
            </e:export>
            """)
        let ns: JSON = .object([("ex", .string("urn:export"))])
        let (_, recs, _) = try readAll(spec(p, ["records": .string("/ex:export/ex:customer"), "namespaces": ns]))
        #expect(recs.map { $0["name"] } == [.text("Ada"), .text("Bob")])
        #expect(recs[0]["id"] == .text("7") && recs[0]["tag"] == .text("vip"))
        // Unprefixed steps match local names in any namespace.
        let (_, all, _) = try readAll(spec(p, ["records": .string("/export/customer")]))
        #expect(all.count == 3)
        // An undeclared prefix is a catalog error naming the setting.
        #expect(throws: AurumError.self) { _ = try readAll(spec(p, ["records": .string("/q:export/q:customer")])) }
        let problems = ConnectorRegistry.shared.source(.xml)!.validate(spec(p, ["records": .string("/q:export")]))
        #expect(problems.first?.0 == "sources[0].options.records" && problems.first?.1.contains("'q'") == true)
    }

    @Test func malformedFileNamesTheFileAndLine() throws {
        let dir = TempDir()
        let p = dir.write("bad.xml", "<export>\n  <customer id=\"1\"><name>Ada</name></customer>\n  <customer id=\"2\"><name>Bob</nam></customer>\n</export>\n")
        var got: AurumError?
        do { _ = try readAll(spec(p, ["records": .string("/export/customer")])) } catch let e as AurumError { got = e }
        let e = try #require(got)
        #expect(e.code == .source)
        #expect(e.location == "\(p):3", "\(e)")
        #expect(e.message.hasPrefix("malformed XML:") && e.message.contains("nam"), "\(e)")
        #expect(throws: AurumError.self) { _ = try readAll(spec(dir.file("missing.xml"))) }
    }

    @Test func pipelineReadsAnXMLSourceFromACatalog() throws {
        let dir = TempDir()
        dir.write("c.xml", "<export><customers><customer id=\"1\"><name>Ada</name></customer><customer id=\"2\"><name>Bob</name><city>Paris</city></customer></customers></export>")
        let catalog = try loadCatalog(dir, """
            sources:
              - {name: x, type: xml, path: c.xml, options: {records: /export/customers/customer}}
            outputs:
              - {format: csv, path: out/x.csv}
            """)
        let outcome = try Pipeline.run(catalog)
        #expect(outcome.succeeded, "\(String(describing: outcome.error))")
        let csv = try #require(dir.read("out/x.csv"))
        let lines = csv.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        let header = lines[0].split(separator: ",").map(String.init)
        #expect(["id", "name", "city"].allSatisfy(header.contains), "\(csv)")
        let rows = lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init))) }
        #expect(rows.map { $0["name"] } == ["Ada", "Bob"] && rows.map { $0["city"] } == ["", "Paris"] && rows.map { $0["id"] } == ["1", "2"])
    }

    @Test func largeFileStreamsWithBoundedMemory() throws {
        let dir = TempDir()
        let p = dir.file("big.xml")
        _ = FileManager.default.createFile(atPath: p, contents: nil)
        let h = try #require(FileHandle(forWritingAtPath: p))
        try h.write(contentsOf: Data("<export><customers>\n".utf8))
        var chunk = ""
        var n = 0
        var size = 0
        while size < 52_000_000 {
            chunk += "<customer id=\"\(n)\" status=\"active\"><name>Customer number \(n)</name><email>c\(n)@example.com</email><address type=\"home\"><street>\(n) Long Street Name</street><city>Springfield</city></address></customer>\n"
            n += 1
            if chunk.utf8.count > 1 << 20 {
                size += chunk.utf8.count
                try h.write(contentsOf: Data(chunk.utf8)); chunk = ""
            }
        }
        try h.write(contentsOf: Data((chunk + "</customers></export>\n").utf8))
        try h.close()
        let before = currentRSS()
        let peakBefore = peakRSS()
        let c = try #require(ConnectorRegistry.shared.source(.xml))
        let r = try c.open(spec(p, ["records": .string("/export/customers/customer")]))
        var count = 0
        var maxRSS = before
        while let item = try r.next() {
            if case .fields(let f, _) = item, f.count != 7 { Issue.record("record \(count): \(f)") }
            count += 1
            if count % 20_000 == 0 { maxRSS = max(maxRSS, currentRSS()) }
        }
        r.close()
        #expect(count == n)
        let growth = maxRSS - before
        print("xml: \(count) records, \(size >> 20) MiB, RSS growth \(growth >> 10) KiB, peak growth \((peakRSS() - max(peakBefore, before)) >> 10) KiB")
        #expect(growth < 32 << 20, "RSS grew by \(growth >> 20) MiB reading a \(size >> 20) MiB file")
        #expect(peakRSS() - max(peakBefore, before) < 32 << 20)
    }
}
