@testable import AurumXML
import Foundation
import Testing
@testable import Aurum

/// Inputs the libFuzzer targets (Fuzz/, scripts/fuzz.sh) found, kept in Fuzz/Regressions/<Target>/:
/// each must give a clear error or a value, never a trap or a hang.
@Suite(.serialized) struct FuzzRegressionTests {
    init() { AurumXML.register() }

    static let regressions = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fuzz/Regressions").standardized.path

    func excel(_ name: String) -> SourceSpec {
        SourceSpec(name: "x", type: .excel, path: FuzzRegressionTests.regressions + "/FuzzXLSX/" + name, location: "sources[0]")
    }

    /// A deflated part whose stream does not end within its entry: ZIPFoundation's Linux inflater read on
    /// to the end of the archive and then looped forever (libFuzzer timeout). Now a clear error, at once.
    @Test func corruptDeflatedPartIsAnErrorNotAHang() throws {
        let spec = excel("zip-inflate-hang.xlsx")
        let start = Date()
        var err: AurumError?
        do { _ = try readAll(spec) } catch let e as AurumError { err = e }
        #expect(err?.location == spec.path, "\(String(describing: err))")
        #expect(err?.message.hasPrefix("cannot read part '") == true, "\(String(describing: err))")
        #expect(Date().timeIntervalSince(start) < 5)
    }

    /// A truncated deflated part, built from a workbook Aurum writes: an error naming the part.
    @Test func truncatedDeflatedPart() throws {
        let dir = TempDir()
        let p = dir.file("t.xlsx")
        let w = try ExcelFileWriter(path: p, columns: ["a", "b"], sheetName: "S")
        for i in 0 ..< 200 { try w.write([.integer(Int64(i)), .text("row \(i) with some text")]) }
        try w.close()
        // Zero the second half of the sheet's compressed data; the central directory still claims the
        // full stream.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: p)))
        let name = Array("xl/worksheets/sheet1.xml".utf8)
        func u16(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 }
        func u32(_ i: Int) -> Int { u16(i) | u16(i + 2) << 16 }
        func entry(_ sig: UInt8, _ nameAt: Int) -> Int? {
            (0 ..< bytes.count - nameAt - name.count).first {
                bytes[$0] == 0x50 && bytes[$0 + 1] == 0x4b && bytes[$0 + 2] == sig && bytes[$0 + 3] == sig + 1
                    && Array(bytes[($0 + nameAt) ..< ($0 + nameAt + name.count)]) == name
            }
        }
        let central = try #require(entry(1, 46), "central directory entry of the sheet")
        try #require(u16(central + 10) == 8, "the sheet part is deflated")
        let csize = u32(central + 20), local = u32(central + 42)
        let data = local + 30 + u16(local + 26) + u16(local + 28)
        try #require(csize > 16 && data + csize <= bytes.count)
        for k in data + csize / 2 ..< data + csize { bytes[k] = 0 }
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        var err: AurumError?
        do { _ = try readAll(SourceSpec(name: "x", type: .excel, path: p, location: "sources[0]")) } catch let e as AurumError { err = e }
        #expect(err?.message.hasPrefix("cannot read part 'xl/worksheets/sheet1.xml'") == true, "\(String(describing: err))")
    }

    /// A number far beyond Excel's last date (9999-12-31) in a date-styled cell trapped converting the
    /// serial to Int64; it stays a number, as Excel shows it (`####`) rather than a date.
    @Test func hugeSerialInADateCellStaysANumber() throws {
        let (cols, recs, _) = try readAll(excel("date-serial-overflow.xlsx"))
        #expect(cols.first == "head_1", "\(cols)")
        #expect(recs.first?["head_1"] == .real(1e300), "\(recs)")
        #expect(ExcelDateKind.dateTime.text(serial: 1e300, date1904: false) == nil)
        #expect(ExcelDateKind.date.text(serial: -1e300, date1904: true) == nil)
        #expect(ExcelDateKind.time.text(serial: .nan, date1904: false) == nil)
        #expect(ExcelDateKind.date.text(serial: 2_958_465, date1904: false) == "9999-12-31")
    }
}
