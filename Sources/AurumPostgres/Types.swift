import Foundation
import Aurum

/// How a PostgreSQL column's text output becomes a `Value`, chosen by the column's type OID.
///
/// | PostgreSQL | Value |
/// |---|---|
/// | int2, int4, int8, oid | integer |
/// | numeric | text, exactly as the server prints it |
/// | float4, float8 | real (`NaN`, `Infinity` included) |
/// | bool | integer 0/1 |
/// | text, varchar, char, name, uuid, json, jsonb, date, timestamp | text as printed (ISO DateStyle) |
/// | timestamptz | text, ISO-8601 in UTC: `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` |
/// | arrays of the above | text: a JSON array (numbers and booleans as JSON, the rest as strings, NULL as null) |
/// | bytea | blob |
/// | anything else | text as printed |
enum PGType: Sendable, Equatable {
    case integer, numeric, float, bool, text, timestamptz, bytea, json
    indirect case array(PGType)

    static func decoder(for oid: UInt32) -> PGType {
        switch oid {
        case 20, 21, 23, 26: return .integer
        case 1700: return .numeric
        case 700, 701: return .float
        case 16: return .bool
        case 1184: return .timestamptz
        case 17: return .bytea
        case 114, 3802: return .json
        case 1005, 1007, 1016, 1028: return .array(.integer)
        case 1231: return .array(.numeric)
        case 1021, 1022: return .array(.float)
        case 1000: return .array(.bool)
        case 1185: return .array(.timestamptz)
        case 199, 3807: return .array(.json)
        case 1001: return .array(.bytea)
        case 1009, 1015, 1014, 1003, 2951, 1182, 1115, 1183, 1270, 1187: return .array(.text)
        default: return .text
        }
    }

    /// Decodes the text form of a non-NULL value.
    func decode(_ b: UnsafeBufferPointer<UInt8>) -> Value {
        switch self {
        case .integer:
            if let i = parseInt(b) { return .integer(i) }
            return .text(String(decoding: b, as: UTF8.self))
        case .float:
            let s = String(decoding: b, as: UTF8.self)
            switch s {
            case "NaN": return .real(.nan)
            case "Infinity": return .real(.infinity)
            case "-Infinity": return .real(-.infinity)
            default: return Double(s).map(Value.real) ?? .text(s)
            }
        case .bool:
            return .integer(b.first == UInt8(ascii: "t") ? 1 : 0)
        case .timestamptz:
            return .text(PGType.utcISO(b))
        case .bytea:
            return .blob(PGType.unhex(b))
        case .numeric, .text, .json:
            return .text(String(decoding: b, as: UTF8.self))
        case .array(let element):
            var p = ArrayParser(bytes: Array(b), element: element)
            return .text(p.json())
        }
    }

    /// Appends the text form of a non-NULL value to `batch` as the field `decode(_:)` would make
    /// it (the same `Value`, and so the same hash), without a `Value` or `String` for the common
    /// types: integers, booleans, text-like types and timestamps in UTC.
    func append(_ b: UnsafeBufferPointer<UInt8>, to batch: inout RowBatch) {
        switch self {
        case .integer:
            if let i = parseInt(b) { batch.appendInteger(i) } else { batch.appendText(decoding: b) }
        case .bool:
            batch.appendInteger(b.first == UInt8(ascii: "t") ? 1 : 0)
        case .numeric, .text, .json:
            batch.appendText(decoding: b)
        case .timestamptz:
            let n = b.count
            if n >= 13, b[10] == 32, b[n - 3] == UInt8(ascii: "+"), b[n - 2] == 48, b[n - 1] == 48,
               b.allSatisfy({ $0 < 0x80 }) {
                // `2024-01-02 03:04:05.5+00` → `2024-01-02T03:04:05.5Z`, as utcISO(_:) does.
                batch.appendText { out in
                    let start = out.count
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: b[..<(n - 3)]))
                    out[start + 10] = UInt8(ascii: "T")
                    out.append(UInt8(ascii: "Z"))
                }
            } else {
                batch.append(decode(b))
            }
        case .float, .bytea, .array:
            batch.append(decode(b))
        }
    }

    private func parseInt(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard !b.isEmpty else { return nil }
        var i = 0
        var neg = false
        if b[0] == UInt8(ascii: "-") { neg = true; i = 1 }
        guard i < b.count else { return nil }
        var v: Int64 = 0
        while i < b.count {
            let d = b[i] &- 48
            guard d < 10 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = neg ? m.subtractingReportingOverflow(Int64(d)) : m.addingReportingOverflow(Int64(d))
            if o1 || o2 { return nil }
            v = s
            i += 1
        }
        return v
    }

    /// `2024-01-02 03:04:05.5+00` (session TimeZone UTC) → `2024-01-02T03:04:05.5Z`.
    static func utcISO(_ s: String) -> String {
        var t = s
        if t.hasSuffix("+00") { t.removeLast(3); t += "Z" }
        if let sp = t.firstIndex(of: " "), t.distance(from: t.startIndex, to: sp) >= 10 { t.replaceSubrange(sp...sp, with: "T") }
        return t
    }

    /// The same on bytes, without intermediate strings (the source's hot path).
    static func utcISO(_ b: UnsafeBufferPointer<UInt8>) -> String {
        let n = b.count
        guard n >= 13, b[10] == 32, b[n - 3] == UInt8(ascii: "+"), b[n - 2] == 48, b[n - 1] == 48 else {
            return utcISO(String(decoding: b, as: UTF8.self))
        }
        return String(unsafeUninitializedCapacity: n - 2) { out in
            for i in 0..<(n - 3) { out[i] = b[i] }
            out[10] = UInt8(ascii: "T")
            out[n - 3] = UInt8(ascii: "Z")
            return n - 2
        }
    }

    /// bytea's hex output `\x0aff` → bytes.
    static func unhex(_ b: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        guard b.count >= 2, b[0] == UInt8(ascii: "\\"), b[1] == UInt8(ascii: "x") else { return Array(b) }
        var out: [UInt8] = []
        out.reserveCapacity((b.count - 2) / 2)
        var i = 2
        func nib(_ c: UInt8) -> UInt8 {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return 0
            }
        }
        while i + 1 < b.count { out.append(nib(b[i]) << 4 | nib(b[i + 1])); i += 2 }
        return out
    }
}

/// Parses PostgreSQL's array output (`{1,2,NULL}`, `{"a b","c\"d"}`, `{{1,2},{3,4}}`,
/// `[0:1]={1,2}`) into compact JSON text.
struct ArrayParser {
    let bytes: [UInt8]
    let element: PGType
    var i = 0

    init(bytes: [UInt8], element: PGType) {
        self.bytes = bytes
        self.element = element
        // Skip a dimension decoration `[lo:hi]...=`.
        if bytes.first == UInt8(ascii: "["), let eq = bytes.firstIndex(of: UInt8(ascii: "=")) { i = eq + 1 }
    }

    mutating func json() -> String {
        var out = ""
        parseArray(into: &out)
        return out
    }

    private mutating func parseArray(into out: inout String) {
        guard i < bytes.count, bytes[i] == UInt8(ascii: "{") else {
            out += JSON.string(String(decoding: bytes, as: UTF8.self)).compact
            return
        }
        i += 1
        out += "["
        var first = true
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "}") { i += 1; break }
            if c == UInt8(ascii: ",") { i += 1; continue }
            if !first { out += "," }
            first = false
            if c == UInt8(ascii: "{") { parseArray(into: &out); continue }
            if c == UInt8(ascii: "\"") {
                i += 1
                var s: [UInt8] = []
                while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count { i += 1 }
                    s.append(bytes[i]); i += 1
                }
                i += 1
                out += element(s, quoted: true)
            } else {
                let start = i
                while i < bytes.count, bytes[i] != UInt8(ascii: ","), bytes[i] != UInt8(ascii: "}") { i += 1 }
                let s = Array(bytes[start..<i])
                if s == Array("NULL".utf8) { out += "null" } else { out += element(s, quoted: false) }
            }
        }
        out += "]"
    }

    private func element(_ s: [UInt8], quoted: Bool) -> String {
        let text = String(decoding: s, as: UTF8.self)
        switch element {
        case .integer, .numeric:
            return text
        case .float:
            return Double(text).map { $0.isFinite ? text : JSON.string(text).compact } ?? JSON.string(text).compact
        case .bool:
            return text == "t" ? "true" : "false"
        case .json:
            return text
        case .timestamptz:
            return JSON.string(PGType.utcISO(text)).compact
        default:
            return JSON.string(text).compact
        }
    }
}

/// The COPY text format (the default `COPY … TO STDOUT`): tab-separated fields, `\N` for NULL,
/// backslash escapes (`\t \n \r \b \f \v \\`, octal `\ooo`, hex `\xhh`).
enum CopyText {
    /// Splits one row (its trailing newline optional) and appends each field, decoded with its
    /// column's type, to `batch` (the caller ends the row). A row with fewer fields than columns
    /// (never sent by a server) ends in empty fields.
    static func decodeRow(_ line: UnsafeBufferPointer<UInt8>, types: [PGType], scratch: inout [UInt8], into batch: inout RowBatch) {
        var n = line.count
        if n > 0, line[n - 1] == 10 { n -= 1 }
        var i = 0
        var col = 0
        while col < types.count {
            if i > n { i = n }
            // Field [i, j)
            var j = i
            var escaped = false
            while j < n, line[j] != 9 {
                if line[j] == 92 { escaped = true; j += 1 }
                j += 1
            }
            if j > n { j = n }
            if j - i == 2, line[i] == 92, line[i + 1] == UInt8(ascii: "N") {
                batch.appendNull()
            } else if !escaped {
                types[col].append(UnsafeBufferPointer(rebasing: line[i..<j]), to: &batch)
            } else {
                unescape(line, i, j, into: &scratch)
                scratch.withUnsafeBufferPointer { types[col].append($0, to: &batch) }
            }
            col += 1
            i = j + 1
        }
    }

    /// One row as `Value`s (tests and diagnostics; the source appends to a `RowBatch`).
    static func decodeRow(_ line: UnsafeBufferPointer<UInt8>, types: [PGType]) -> [Value] {
        var batch = RowBatch(width: types.count)
        var scratch: [UInt8] = []
        decodeRow(line, types: types, scratch: &scratch, into: &batch)
        batch.endRow(line: 1)
        return batch.row(0)
    }

    static func unescape(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        var i = start
        while i < end {
            let c = b[i]
            if c != 92 || i + 1 >= end { out.append(c); i += 1; continue }
            let e = b[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "v"): out.append(11)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var v = Int(e - 48)
                var k = 0
                while k < 2, i < end, b[i] >= 48, b[i] <= 55 { v = v * 8 + Int(b[i] - 48); i += 1; k += 1 }
                out.append(UInt8(truncatingIfNeeded: v))
            case UInt8(ascii: "x"):
                var v = 0
                var k = 0
                while k < 2, i < end, let h = hexValue(b[i]) { v = v * 16 + h; i += 1; k += 1 }
                if k == 0 { out.append(UInt8(ascii: "x")) } else { out.append(UInt8(v)) }
            default: out.append(e)
            }
        }
    }

    private static func hexValue(_ c: UInt8) -> Int? {
        switch c {
        case 48...57: return Int(c - 48)
        case 97...102: return Int(c - 87)
        case 65...70: return Int(c - 55)
        default: return nil
        }
    }

    static func appendInt(_ v: Int64, into out: inout [UInt8]) {
        if v == Int64.min { out.append(contentsOf: String(v).utf8); return }
        var x = v
        if x < 0 { out.append(UInt8(ascii: "-")); x = -x }
        if x < 10 { out.append(UInt8(48 + x)); return }
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: enough for 19 digits
        var n = 0
        withUnsafeMutableBytes(of: &tmp) { buf in
            while x > 0 { buf[23 - n] = UInt8(48 + x % 10); x /= 10; n += 1 }
            out.append(contentsOf: buf[(24 - n)...])
        }
    }

    /// Whether the bytes hold a backslash, tab, newline or carriage return; 8 bytes at a time
    /// (bytes below 14 or equal to `\\` flag a word, which is then checked byte by byte).
    @inline(__always)
    static func needsEscape(_ u: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = u.baseAddress else { return false }
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= u.count {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let below14 = (w &- ones &* 14) & ~w & highs
            let x = w ^ (ones &* 92)
            let backslash = (x &- ones) & ~x & highs
            if below14 | backslash != 0 { break }
            i += 8
        }
        while i < u.count {
            let c = base[i]
            if c == 92 || c == 9 || c == 10 || c == 13 { return true }
            i += 1
        }
        return false
    }

    /// Appends UTF-8 text in COPY text form (backslash, tab, newline and carriage return escaped).
    @inline(__always)
    static func appendEscaped(_ u: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        if !needsEscape(u) { out.append(contentsOf: u); return }
        for c in u {
            switch c {
            case 92: out.append(92); out.append(92)
            case 9: out.append(92); out.append(UInt8(ascii: "t"))
            case 10: out.append(92); out.append(UInt8(ascii: "n"))
            case 13: out.append(92); out.append(UInt8(ascii: "r"))
            default: out.append(c)
            }
        }
    }

    /// A double in COPY text form: the shortest text that reads back as it, or NaN/±Infinity.
    @inline(__always)
    static func realText(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
        return d.description
    }

    /// Appends one value in COPY text form (`\N` for NULL; bytea as `\\x…`).
    static func encode(_ v: Value, into out: inout [UInt8]) {
        switch v {
        case .null: out.append(92); out.append(UInt8(ascii: "N"))
        case .integer(let i): appendInt(i, into: &out)
        case .real(let d): out.append(contentsOf: realText(d).utf8)
        case .text(let s):
            var s = s
            s.withUTF8 { appendEscaped($0, into: &out) }
        case .blob(let b):
            let hex = Array("0123456789abcdef".utf8)
            out.append(92); out.append(92); out.append(UInt8(ascii: "x"))
            for x in b { out.append(hex[Int(x >> 4)]); out.append(hex[Int(x & 15)]) }
        }
    }
}
