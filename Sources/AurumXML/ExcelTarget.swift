import Aurum
import Foundation
import ZIPFoundation

/// Excel (.xlsx) output: one sheet (`options.sheet`, default `Sheet1`) with a header row; integers and
/// reals are numbers, everything else (dates included: they are ISO text in Aurum) inline strings;
/// NULL is an empty cell. The sheet is written to a temporary file as rows arrive, then zipped
/// (deflate) with the package parts. Partitioned outputs write one workbook per partition.
struct ExcelTargetConnector: FileFormatConnector {
    var formats: [OutputFormat] { [.excel] }

    func validate(_ spec: OutputSpec) -> [(String, String)] {
        if let s = spec.options["sheet"], (try? ExcelTargetConnector.sheetName(s)) == nil {
            return [("\(spec.location).options.sheet", "a sheet name is 1–31 characters, without : \\ / ? * [ ]")]
        }
        return []
    }

    static func sheetName(_ j: JSON?) throws -> String {
        guard let j else { return "Sheet1" }
        guard case .string(let s) = j, !s.isEmpty, s.count <= 31, !s.contains(where: { ":\\/?*[]".contains($0) }) else {
            throw AurumError(.output, "invalid sheet name \(j.compact)", hint: "1–31 characters, without : \\ / ? * [ ]")
        }
        return s
    }

    func makeWriter(_ spec: OutputSpec, path: String, columns: [OutputColumn]) throws -> RowFileWriter {
        let name: String
        do { name = try ExcelTargetConnector.sheetName(spec.options["sheet"]) } catch var e as AurumError {
            e.location = "\(spec.location).options.sheet"
            throw e
        }
        return try ExcelFileWriter(path: path, columns: columns.map(\.name), sheetName: name)
    }
}

final class ExcelFileWriter: RowFileWriter {
    static let maxRows = 1_048_576
    static let maxColumns = 16_384

    let path: String
    private let tmp: String
    private let sheetFile: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var row = 0
    private let width: Int
    private let sheetName: String
    private let refs: [String]
    private var closed = false

    init(path: String, columns: [String], sheetName: String) throws {
        guard columns.count <= ExcelFileWriter.maxColumns else {
            throw AurumError(.output, "\(columns.count) columns do not fit in an Excel sheet (at most \(ExcelFileWriter.maxColumns))", at: path)
        }
        self.path = path
        self.sheetName = sheetName
        width = columns.count
        refs = (0 ..< columns.count).map(ExcelRowReader.letters)
        tmp = NSTemporaryDirectory() + "aurum-xlsx-out-\(getpid())-\(UUID().uuidString.prefix(8))"
        sheetFile = tmp + "/sheet1.xml"
        do {
            try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        } catch {
            throw AurumError(.output, "cannot create a temporary directory: \(error.localizedDescription)", at: path)
        }
        guard FileManager.default.createFile(atPath: sheetFile, contents: nil), let h = FileHandle(forWritingAtPath: sheetFile) else {
            try? FileManager.default.removeItem(atPath: tmp)
            throw AurumError(.output, "cannot create a temporary file", at: path)
        }
        handle = h
        append("""
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetData>
            """)
        try write(columns.map { Value.text($0) })
    }

    deinit {
        if !closed { try? handle.close(); try? FileManager.default.removeItem(atPath: tmp) }
    }

    private func append(_ s: String) { buffer.append(contentsOf: s.utf8) }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        do { try handle.write(contentsOf: buffer) } catch { throw AurumError(.output, "write failed: \(error)", at: path) }
        buffer.removeAll(keepingCapacity: true)
    }

    func write(_ values: [Value]) throws {
        guard row < ExcelFileWriter.maxRows else {
            throw AurumError(.output, "more rows than an Excel sheet holds (\(ExcelFileWriter.maxRows) with the header)", at: path,
                             hint: "partition the output or choose csv/parquet")
        }
        row += 1
        let r = String(row)
        append("<row r=\"\(r)\">")
        for (i, v) in values.prefix(width).enumerated() {
            switch v {
            case .null: continue
            case .integer(let n): append("<c r=\"\(refs[i])\(r)\"><v>\(n)</v></c>")
            case .real(let d) where d.isFinite: append("<c r=\"\(refs[i])\(r)\"><v>\(d.description)</v></c>")
            default:
                let text = v.textValue ?? ""
                let preserve = text.first?.isWhitespace == true || text.last?.isWhitespace == true
                append("<c r=\"\(refs[i])\(r)\" t=\"inlineStr\"><is><t\(preserve ? " xml:space=\"preserve\"" : "")>")
                ExcelFileWriter.escape(text, into: &buffer)
                append("</t></is></c>")
            }
        }
        append("</row>")
        if buffer.count >= 1 << 20 { try flush() }
    }

    /// XML text escaping; characters XML 1.0 cannot hold become OOXML `_xHHHH_` escapes (and a literal
    /// `_x` is escaped as `_x005F_x` so it reads back unchanged).
    static func escape(_ s: String, into out: inout [UInt8]) {
        let u = Array(s.utf8)
        var i = 0
        while i < u.count {
            let b = u[i]
            switch b {
            case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): out.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "_") where i + 1 < u.count && u[i + 1] == UInt8(ascii: "x"):
                out.append(contentsOf: "_x005F_".utf8)
            case 0x09, 0x0A, 0x0D: out.append(b)
            case 0 ..< 0x20: out.append(contentsOf: String(format: "_x%04X_", b).utf8)
            default: out.append(b)
            }
            i += 1
        }
    }

    func close() throws {
        guard !closed else { return }
        closed = true
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        append("</sheetData></worksheet>")
        try flush()
        try? handle.close()
        var name: [UInt8] = []
        ExcelFileWriter.escape(sheetName, into: &name)
        let sheet = String(decoding: name, as: UTF8.self).replacingOccurrences(of: "\"", with: "&quot;")
        let parts: [(String, String)] = [
            ("[Content_Types].xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>
                """),
            ("_rels/.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>
                """),
            ("xl/workbook.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="\(sheet)" sheetId="1" r:id="rId1"/></sheets></workbook>
                """),
            ("xl/_rels/workbook.xml.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>
                """),
            ("xl/styles.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>
                """),
        ]
        try? FileManager.default.removeItem(atPath: path)
        do {
            let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
            for (name, text) in parts {
                let data = Data(text.utf8)
                try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { pos, size in
                    data.subdata(in: Int(pos) ..< Int(pos) + size)
                }
            }
            try archive.addEntry(with: "xl/worksheets/sheet1.xml", fileURL: URL(fileURLWithPath: sheetFile), compressionMethod: .deflate)
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw AurumError(.output, "cannot write the workbook: \(error)", at: path)
        }
    }
}
