import Aurum
import Foundation

/// Excel (.xlsx) source: one sheet, streamed row by row.
///
/// - Sheet: `query` or `options.sheet`, a name (exact, then case-insensitive) or a 1-based index
///   (number, or digits that are no sheet's name); default the first sheet.
/// - `header: true` (default): the first non-empty row names the columns (a blank name becomes
///   `column_<n>`, a repeated one `name_2`); `header: false`: columns are the letters `A`, `B`, …
/// - Values: shared and inline strings (rich text runs joined) → text; numbers → integer when integral,
///   else real; booleans → 0/1; error cells → their text (`#DIV/0!`); formulas → their cached value (none
///   cached → NULL); numbers in a date or time style (numFmt 14–22, 45–47, or a custom format with
///   d/m/y/h/s letters) → `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` or `HH:MM:SS`, in the 1900 or 1904 date
///   system the workbook declares (a number beyond Excel's last date, 9999-12-31, stays a number). Cell
///   references place values (`C7` is column 3 of row 7), so sparse rows and missing cells are NULLs; rows
///   with no values are skipped. Item lines are sheet row numbers.
struct ExcelSourceConnector: SourceConnector {
    var types: [SourceType] { [.excel] }

    func validate(_ spec: SourceSpec) -> [(String, String)] {
        if let s = spec.options["sheet"] {
            switch s {
            case .string, .int: break
            default: return [("\(spec.location).options.sheet", "expected a sheet name or a 1-based sheet number")]
            }
        }
        return []
    }

    func open(_ spec: SourceSpec) throws -> RowReader {
        let wb = try ExcelWorkbook(path: spec.path)
        do {
            let sheet = try choose(spec, wb)
            guard let stream = try wb.stream(sheet.part) else {
                throw AurumError(.source, "sheet '\(sheet.name)' has no worksheet part '\(sheet.part)'", at: spec.path)
            }
            return ExcelRowReader(workbook: wb, stream: stream, strings: try wb.sharedStrings(), dates: try wb.dateStyles(),
                                  header: spec.header, sheet: sheet.name)
        } catch {
            wb.close()
            throw error
        }
    }

    private func choose(_ spec: SourceSpec, _ wb: ExcelWorkbook) throws -> ExcelWorkbook.Sheet {
        guard !wb.sheets.isEmpty else { throw AurumError(.source, "the workbook has no sheets", at: spec.path) }
        let names = wb.sheets.map { "'\($0.name)'" }.joined(separator: ", ")
        var wanted: JSON? = spec.options["sheet"]
        if wanted == nil, let q = spec.query, !q.isEmpty { wanted = .string(q) }
        switch wanted {
        case nil:
            return wb.sheets[0]
        case .int(let i)?:
            guard i >= 1, i <= wb.sheets.count else {
                throw AurumError(.source, "sheet number \(i) does not exist (the workbook has \(wb.sheets.count): \(names))", at: spec.path)
            }
            return wb.sheets[Int(i) - 1]
        case .string(let name)?:
            if let s = wb.sheets.first(where: { $0.name == name }) ?? wb.sheets.first(where: { $0.name.lowercased() == name.lowercased() }) {
                return s
            }
            if let i = Int(name), i >= 1, i <= wb.sheets.count { return wb.sheets[i - 1] }
            throw AurumError(.source, "no sheet named '\(name)'", at: spec.path, hint: "sheets: \(names)")
        default:
            throw AurumError(.invalidCatalog, "options.sheet: expected a sheet name or number", at: "\(spec.location).options.sheet")
        }
    }
}

final class ExcelRowReader: RowReader {
    private let workbook: ExcelWorkbook
    private let stream: XMLStream
    private let strings: [String]
    private let dates: [Int: ExcelDateKind]
    private let date1904: Bool
    private let sheet: String
    private var needHeader: Bool
    /// Columns are letters when the sheet has no header row.
    private let letterColumns: Bool
    private(set) var columns: [String] = []
    private(set) var itemsRead = 0
    private var lastRow = 0

    init(workbook: ExcelWorkbook, stream: XMLStream, strings: [String], dates: [Int: ExcelDateKind], header: Bool, sheet: String) {
        self.workbook = workbook
        self.stream = stream
        self.strings = strings
        self.dates = dates
        date1904 = workbook.date1904
        needHeader = header
        letterColumns = !header
        self.sheet = sheet
    }

    func close() {
        stream.close()
        workbook.close()
    }

    func next() throws -> RowItem? {
        while let (number, cells) = try nextRow() {
            guard cells.contains(where: { !$0.1.isNull }) else { continue }
            let width = (cells.map(\.0).max() ?? -1) + 1
            if needHeader {
                needHeader = false
                var names = Array(repeating: "", count: width)
                for (c, v) in cells { names[c] = v.textValue?.trimmingCharacters(in: .whitespaces) ?? "" }
                var seen: [String: Int] = [:]
                columns = names.enumerated().map { i, n in
                    let base = n.isEmpty ? "column_\(i + 1)" : n
                    let k = base.lowercased()
                    let count = (seen[k] ?? 0) + 1
                    seen[k] = count
                    return count == 1 ? base : "\(base)_\(count)"
                }
                continue
            }
            while columns.count < width {
                columns.append(letterColumns ? ExcelRowReader.letters(columns.count) : "column_\(columns.count + 1)")
            }
            var row = Array(repeating: Value.null, count: width)
            for (c, v) in cells { row[c] = v }
            itemsRead += 1
            return .row(row, line: number)
        }
        return nil
    }


    /// Reads up to the next `</row>`: its number and its (column index, value) cells.
    private func nextRow() throws -> (Int, [(Int, Value)])? {
        var cells: [(Int, Value)] = []
        var rowNumber = 0
        var inRow = false
        // Cell state.
        var col = -1, style = -1, type = "n", v = "", inline = "", hasV = false
        var stack: [String] = []
        while let e = try stream.next() {
            switch e {
            case .start(let name, _, let a, let empty):
                if name == "row" {
                    rowNumber = attr(a, "r").flatMap(Int.init) ?? lastRow + 1
                    lastRow = rowNumber
                    cells = []
                    if empty { return (rowNumber, []) }
                    inRow = true
                    col = -1
                    stack = ["row"]
                    continue
                }
                guard inRow else { continue }
                if name == "c" {
                    col = attr(a, "r").flatMap { ExcelRowReader.column(ofReference: $0) } ?? (col + 1)
                    style = attr(a, "s").flatMap(Int.init) ?? -1
                    type = attr(a, "t") ?? "n"
                    v = ""; inline = ""; hasV = false
                    if empty { cells.append((col, .null)); continue }
                }
                if name == "v" { hasV = true }
                if !empty { stack.append(name) }
            case .end:
                guard inRow else { continue }
                let name = stack.popLast()
                if name == "row" { return (rowNumber, cells) }
                if name == "c" { cells.append((col, try value(type: type, style: style, v: v, inline: inline, hasV: hasV, row: rowNumber, col: col))) }
            case .text(let t):
                guard inRow, let top = stack.last else { continue }
                if top == "v" { v += t }
                else if top == "t" && stack.contains("is") && !stack.contains("rPh") { inline += t }
            }
        }
        return nil
    }

    private func value(type: String, style: Int, v: String, inline: String, hasV: Bool, row: Int, col: Int) throws -> Value {
        switch type {
        case "s":
            if !hasV || v.isEmpty { return .null }
            guard let i = Int(v.trimmingCharacters(in: .whitespaces)), i >= 0, i < strings.count else {
                throw AurumError(.source, "cell \(ExcelRowReader.letters(col))\(row) refers to shared string \(v), but the workbook has \(strings.count)",
                                 at: "\(workbook.path)[\(sheet)]")
            }
            return .text(ExcelText.unescape(strings[i]))
        case "inlineStr":
            return .text(ExcelText.unescape(hasV ? v : inline))
        case "str", "e", "d":
            return hasV ? .text(v) : .null
        case "b":
            return hasV ? .integer(v.trimmingCharacters(in: .whitespaces) == "1" || v.lowercased() == "true" ? 1 : 0) : .null
        default:
            let t = v.trimmingCharacters(in: .whitespaces)
            guard hasV, !t.isEmpty else { return .null }
            guard let d = Double(t) else { return .text(v) }
            if let kind = dates[style], let text = kind.text(serial: d, date1904: date1904) { return .text(text) }
            if let i = Int64(t) { return .integer(i) }
            if d == d.rounded(), abs(d) < 9.0e15 { return .integer(Int64(d)) }
            return .real(d)
        }
    }

    /// 0-based column of a cell reference (`C7` → 2); nil when it is not one.
    static func column(ofReference r: String) -> Int? {
        var n = 0, letters = 0
        for u in r.utf8 {
            if u >= 65 && u <= 90 { n = n * 26 + Int(u - 64) } else if u >= 97 && u <= 122 { n = n * 26 + Int(u - 96) } else { break }
            letters += 1
            if letters > 3 { return nil }
        }
        return letters == 0 ? nil : n - 1
    }

    /// Column letters of a 0-based index (0 → A, 26 → AA).
    static func letters(_ index: Int) -> String {
        var n = index + 1, s = ""
        while n > 0 {
            let r = (n - 1) % 26
            s = String(UnicodeScalar(UInt8(65 + r))) + s
            n = (n - 1) / 26
        }
        return s
    }
}
