import Aurum
import Foundation
import ZIPFoundation

/// The parts of an .xlsx package the source needs. Each XML part is inflated into a private temporary
/// directory and streamed from there with `XMLStream`, so a large sheet is never held in memory (the
/// shared-string table is: cells refer to it by index).
final class ExcelWorkbook {
    struct Sheet { var name: String; var part: String }

    /// The largest part inflated (a guard against ZIP bombs; real sheets stay far below).
    static let maxPartSize: UInt64 = 4 << 30

    let path: String
    private let archive: Archive
    private let tmp: String
    private(set) var sheets: [Sheet] = []
    private(set) var date1904 = false
    private var workbookPart = "xl/workbook.xml"
    /// Local header offsets by entry name, read from the central directory on first use.
    private var headerOffsets: [String: UInt64]?

    init(path: String) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw AurumError(.source, "no such file", at: path) }
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw AurumError(.source, "not an Excel workbook (.xlsx): the file is not a ZIP archive", at: path)
        }
        tmp = NSTemporaryDirectory() + "aurum-xlsx-\(getpid())-\(UUID().uuidString.prefix(8))"
        do { try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true) } catch {
            throw AurumError(.source, "cannot create a temporary directory: \(error.localizedDescription)", at: path)
        }
        do { try readWorkbook() } catch { close(); throw error }
    }

    deinit { close() }

    func close() { try? FileManager.default.removeItem(atPath: tmp) }

    /// Opens a part (`xl/worksheets/sheet1.xml`) for streaming; nil when the package has no such part.
    func stream(_ part: String) throws -> XMLStream? {
        guard let entry = archive[part] ?? archive.first(where: { $0.path.lowercased() == part.lowercased() }) else { return nil }
        guard entry.uncompressedSize <= ExcelWorkbook.maxPartSize else {
            throw AurumError(.source, "part '\(part)' declares \(entry.uncompressedSize) bytes uncompressed, more than the \(ExcelWorkbook.maxPartSize >> 30) GiB Aurum inflates",
                             at: path)
        }
        let file = tmp + "/" + part.replacingOccurrences(of: "/", with: "_")
        try? FileManager.default.removeItem(atPath: file)
        do {
            if entry.type == .file && entry.isCompressed {
                // Not Archive.extract: its Linux inflater can loop forever on a corrupt part (see ZIPPart).
                guard let fh = FileHandle(forReadingAtPath: path) else { throw ZIPPart.Failure("cannot open the file") }
                defer { try? fh.close() }
                if headerOffsets == nil { headerOffsets = try ZIPPart.localHeaderOffsets(fh) }
                guard let offset = headerOffsets?[entry.path] else { throw ZIPPart.Failure("entry not found in the central directory") }
                try ZIPPart.inflate(entry, from: fh, headerOffset: offset, to: file)
            } else {
                _ = try archive.extract(entry, to: URL(fileURLWithPath: file), skipCRC32: false)
            }
        } catch {
            // ZIPFoundation's inflater errors are internal enums that print as bare case names.
            let why: String
            switch "\(error)" {
            case "corruptedData": why = "its compressed data is corrupt"
            case "invalidStream": why = "its compressed data is not a deflate stream"
            default: why = "\(error)"
            }
            throw AurumError(.source, "cannot read part '\(part)' of the workbook: \(why)", at: path)
        }
        return try XMLStream(path: file, displayName: "\(path)[\(part)]")
    }

    private func readWorkbook() throws {
        // The package relationship names the workbook part (normally xl/workbook.xml).
        if let rels = try stream("_rels/.rels") {
            while let e = try rels.next() {
                if case .start("Relationship", _, let a, _) = e, attr(a, "Type")?.hasSuffix("/officeDocument") == true,
                   let target = attr(a, "Target") {
                    workbookPart = target.hasPrefix("/") ? String(target.dropFirst()) : target
                }
            }
            rels.close()
        }
        let dir = (workbookPart as NSString).deletingLastPathComponent
        var targets: [String: String] = [:]
        if let rels = try stream(dir + "/_rels/" + (workbookPart as NSString).lastPathComponent + ".rels") {
            while let e = try rels.next() {
                if case .start("Relationship", _, let a, _) = e, let id = attr(a, "Id"), let target = attr(a, "Target") {
                    targets[id] = target.hasPrefix("/") ? String(target.dropFirst()) : (dir.isEmpty ? target : dir + "/" + target)
                }
            }
            rels.close()
        }
        guard let wb = try stream(workbookPart) else {
            throw AurumError(.source, "not an Excel workbook (.xlsx): no workbook part '\(workbookPart)'", at: path)
        }
        defer { wb.close() }
        var index = 0
        while let e = try wb.next() {
            guard case .start(let name, _, let a, _) = e else { continue }
            if name == "workbookPr", let d = attr(a, "date1904") { date1904 = d == "1" || d.lowercased() == "true" }
            if name == "sheet" {
                index += 1
                let sheetName = attr(a, "name") ?? "Sheet\(index)"
                // r:id (namespaced "id"); fall back to the conventional part name.
                let rid = a.first { $0.local == "id" && $0.namespace != nil }?.value
                let part = rid.flatMap { targets[$0] } ?? "\(dir)/worksheets/sheet\(index).xml"
                sheets.append(Sheet(name: sheetName, part: part))
            }
        }
    }

    /// The shared-string table (rich text runs concatenated, phonetic runs left out).
    func sharedStrings() throws -> [String] {
        let dir = (workbookPart as NSString).deletingLastPathComponent
        guard let s = try stream(dir + "/sharedStrings.xml") else { return [] }
        defer { s.close() }
        var out: [String] = []
        var current = ""
        var stack: [String] = []
        while let e = try s.next() {
            switch e {
            case .start(let name, _, _, let empty):
                if empty { if name == "si" { out.append("") }; continue }
                stack.append(name)
                if name == "si" { current = "" }
            case .end:
                if stack.popLast() == "si" { out.append(current) }
            case .text(let t):
                if stack.last == "t" && stack.contains("si") && !stack.contains("rPh") { current += t }
            }
        }
        return out
    }

    /// Which cell styles (indexes into cellXfs) show numbers as dates or times.
    func dateStyles() throws -> [Int: ExcelDateKind] {
        let dir = (workbookPart as NSString).deletingLastPathComponent
        guard let s = try stream(dir + "/styles.xml") else { return [:] }
        defer { s.close() }
        var formats: [Int: String] = [:]
        var xfs: [Int] = []
        var inCellXfs = false
        var depth = 0, cellXfsDepth = -1
        while let e = try s.next() {
            switch e {
            case .start(let name, _, let a, let empty):
                if name == "numFmt", let id = attr(a, "numFmtId").flatMap(Int.init) { formats[id] = attr(a, "formatCode") ?? "" }
                if name == "cellXfs" && !empty { inCellXfs = true; cellXfsDepth = depth }
                if name == "xf" && inCellXfs && depth == cellXfsDepth + 1 { xfs.append(attr(a, "numFmtId").flatMap(Int.init) ?? 0) }
                if !empty { depth += 1 }
            case .end:
                depth -= 1
                if inCellXfs && depth == cellXfsDepth { inCellXfs = false }
            case .text:
                continue
            }
        }
        var out: [Int: ExcelDateKind] = [:]
        for (i, id) in xfs.enumerated() {
            if let k = ExcelDateKind(numFmtId: id, code: formats[id]) { out[i] = k }
        }
        return out
    }
}

func attr(_ a: [(local: String, namespace: String?, value: String)], _ name: String) -> String? {
    a.first { $0.local == name }?.value
}

/// How a date-formatted number is shown: a date, a time of day, or both.
enum ExcelDateKind: Equatable {
    case date, time, dateTime

    init?(numFmtId id: Int, code: String?) {
        switch id {
        case 14, 15, 16, 17: self = .date; return
        case 18, 19, 20, 21, 45, 46, 47: self = .time; return
        case 22: self = .dateTime; return
        default: break
        }
        guard let code, !code.isEmpty else { return nil }
        // Only the first section (positive numbers) matters; quoted text, escapes, padding and [colour]
        // brackets are not format letters (but [h]/[mm]/[ss] elapsed times are).
        var letters = ""
        var it = code.makeIterator()
        var bracket = ""
        var inBracket = false, inQuote = false
        while let c = it.next() {
            if inQuote { if c == "\"" { inQuote = false }; continue }
            if inBracket {
                if c == "]" {
                    inBracket = false
                    if !bracket.isEmpty, bracket.lowercased().allSatisfy({ "hms".contains($0) }) { letters += bracket.lowercased() }
                } else { bracket.append(c) }
                continue
            }
            switch c {
            case "\"": inQuote = true
            case "[": inBracket = true; bracket = ""
            case "\\", "_", "*": _ = it.next()
            case ";": break
            default: letters += c.lowercased()
            }
            if c == ";" { break }
        }
        let hasDate = letters.contains("d") || letters.contains("y")
        let hasTime = letters.contains("h") || letters.contains("s")
        let hasM = letters.contains("m")
        if hasDate && hasTime { self = .dateTime }
        else if hasDate || (hasM && !hasTime) { self = .date }
        else if hasTime { self = .time }
        else { return nil }
    }

    /// Text of a serial number: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` or `HH:MM:SS`. Nothing is lost: a
    /// date format with a time of day gives the time too, a time format past day 1 gives the date too.
    /// nil for a serial outside Excel's dates (beyond ±2958465, 9999-12-31) or not finite: Excel shows
    /// such a cell as `####`, and the caller keeps its number.
    func text(serial: Double, date1904: Bool) -> String? {
        guard serial.magnitude < ExcelDateKind.serialLimit else { return nil }
        let total = (serial * 86_400).rounded()
        var days = Int64((total / 86_400).rounded(.down))
        let sod = Int64(total) - days * 86_400
        let time = pad(sod / 3600) + ":" + pad(sod / 60 % 60) + ":" + pad(sod % 60)
        if self == .time && days == 0 { return time }
        // 1900 system: serial 1 is 1900-01-01, and Excel counts a 1900-02-29 that never was (serial 60).
        if date1904 { days += -24_107 } else if days < 60 { days += -25_568 } else { days += -25_569 }
        let date = civilDate(days: days)
        if self == .date && sod == 0 { return date }
        return date + " " + time
    }

    private func pad(_ v: Int64) -> String { v < 10 ? "0\(v)" : String(v) }

    /// One past the largest serial Excel shows as a date (9999-12-31 is 2958465).
    static let serialLimit: Double = 2_958_466
}

/// `YYYY-MM-DD` of days since 1970-01-01 (proleptic Gregorian; H. Hinnant's civil_from_days).
func civilDate(days: Int64) -> String {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
    func pad(_ v: Int64, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
    return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
}
