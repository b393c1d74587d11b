import Aurum
import Foundation
internal import CMongoc

/// Builds BSON bytes directly (faster than one `bson_append_*` call per field, and no aligned
/// `bson_t` on the Swift side). `BSONDocument(bytes:)` hands the result to libbson.
struct BSONBuilder {
    private(set) var bytes: [UInt8] = []
    private var starts: [Int] = []

    init() { bytes.reserveCapacity(256) }

    mutating func reset() { bytes.removeAll(keepingCapacity: true); starts.removeAll(keepingCapacity: true) }

    mutating func beginDocument() { starts.append(bytes.count); bytes.append(contentsOf: [0, 0, 0, 0]) }
    mutating func endDocument() {
        bytes.append(0)
        let start = starts.removeLast()
        let len = UInt32(bytes.count - start)
        bytes[start] = UInt8(len & 0xFF); bytes[start + 1] = UInt8((len >> 8) & 0xFF)
        bytes[start + 2] = UInt8((len >> 16) & 0xFF); bytes[start + 3] = UInt8(len >> 24)
    }

    private mutating func key(_ type: UInt8, _ name: String) {
        bytes.append(type)
        bytes.append(contentsOf: name.utf8.lazy.filter { $0 != 0 })
        bytes.append(0)
    }
    private mutating func le32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    private mutating func le64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }

    mutating func appendRaw(_ b: ArraySlice<UInt8>) { bytes.append(contentsOf: b) }

    mutating func beginDocument(_ name: String) { key(0x03, name); beginDocument() }
    mutating func null(_ name: String) { key(0x0A, name) }
    mutating func double(_ name: String, _ d: Double) { key(0x01, name); le64(d.bitPattern) }
    mutating func int(_ name: String, _ i: Int64) {
        if let small = Int32(exactly: i) { key(0x10, name); le32(UInt32(bitPattern: small)) } else { key(0x12, name); le64(UInt64(bitPattern: i)) }
    }
    mutating func string(_ name: String, _ s: String) {
        key(0x02, name)
        var s = s
        s.withUTF8 { u in
            le32(UInt32(u.count + 1))
            bytes.append(contentsOf: u)
        }
        bytes.append(0)
    }
    mutating func binary(_ name: String, _ b: [UInt8]) { key(0x05, name); le32(UInt32(b.count)); bytes.append(0); bytes.append(contentsOf: b) }
    mutating func objectId(_ name: String, _ id: [UInt8]) { key(0x07, name); bytes.append(contentsOf: id) }

    mutating func value(_ name: String, _ v: Value) {
        switch v {
        case .null: null(name)
        case .integer(let i): int(name, i)
        case .real(let d): double(name, d)
        case .text(let s): string(name, s)
        case .blob(let b): binary(name, b)
        }
    }
}

/// Owner of one heap `bson_t` (destroyed exactly once, in `deinit`).
final class BSONDocument {
    let ptr: OpaquePointer

    init(bytes: [UInt8]) {
        ptr = bytes.withUnsafeBufferPointer { bson_new_from_data($0.baseAddress, $0.count) }!
    }

    /// Parses (extended) JSON text; the error is libbson's message.
    init(json: String, what: String) throws(MongoError) {
        var err = bson_error_t()
        let p: OpaquePointer? = json.utf8CString.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: UInt8.self, capacity: buf.count) { bson_new_from_json($0, buf.count - 1, &err) }
        }
        guard let p else { throw MongoError("invalid \(what): \(MongoError.message(err))") }
        ptr = p
    }

    deinit { bson_destroy(ptr) }

    /// The document's bytes (valid while `self` lives).
    var bytes: UnsafeRawBufferPointer { BSONDocument.bytes(ptr) }

    static func bytes(_ p: OpaquePointer) -> UnsafeRawBufferPointer {
        let data = UnsafeRawPointer(bson_get_data(p)!)
        let len = Int(data.loadUnaligned(as: UInt32.self).littleEndian)
        return UnsafeRawBufferPointer(start: data, count: len)
    }
}

/// Scratch storage for a `bson_t` that libmongoc initialises (a bulk write's reply): 128-byte
/// aligned, as `bson_t` requires; `bson_destroy` then frees only what libbson allocated inside.
func withReplyDocument<R, E: Error>(_ body: (OpaquePointer) throws(E) -> R) throws(E) -> R {
    let raw = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 128)
    raw.initializeMemory(as: UInt8.self, repeating: 0, count: 128)
    let doc = OpaquePointer(raw)
    defer {
        bson_destroy(doc)
        raw.deallocate()
    }
    return try body(doc)
}

/// Decodes BSON bytes into Aurum values:
/// ObjectId → 24-digit lowercase hex text; UTC datetime → ISO-8601 text `2024-01-02T03:04:05.678Z`
/// (always milliseconds, so text order is time order); int32/int64 → integer; double → real;
/// decimal128 → exact text (libbson's `bson_decimal128_to_string`); bool → 0/1; null/undefined →
/// NULL; binary (any subtype) → blob; nested documents → dotted columns (`address.city`; an empty
/// one → its key with NULL) or, without flattening, compact JSON text; arrays → compact JSON text
/// (inside JSON: the same mapping, with ObjectId/date/decimal128 as strings, binary as base64,
/// booleans as true/false); string, symbol, JavaScript code → text; regex → `/pattern/flags`;
/// timestamp → `Timestamp(t, i)`; MinKey/MaxKey → text `MinKey`/`MaxKey`.
enum BSONDecoder {
    static func fields(_ doc: UnsafeRawBufferPointer, flatten: Bool) -> [(String, Value)] {
        var out: [(String, Value)] = []
        out.reserveCapacity(16)
        walk(doc, 0, prefix: "", flatten: flatten, into: &out)
        // A repeated key, or a flattened name that collides (`{"a.b": 1, "a": {"b": 2}}`): one
        // column, the last value in the first one's position (as the JSON reader does).
        if out.count > 1 {
            var seen = Set<String>()
            seen.reserveCapacity(out.count)
            if !out.allSatisfy({ seen.insert($0.0).inserted }) {
                var index: [String: Int] = [:]
                var merged: [(String, Value)] = []
                for (k, v) in out {
                    if let i = index[k] { merged[i].1 = v } else { index[k] = merged.count; merged.append((k, v)) }
                }
                out = merged
            }
        }
        return out
    }

    private static func cstring(_ p: UnsafeRawBufferPointer, _ at: inout Int) -> String {
        let start = at
        while at < p.count, p[at] != 0 { at += 1 }
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: p[start..<at]), as: UTF8.self)
        at += 1
        return s
    }
    private static func i32(_ p: UnsafeRawBufferPointer, _ at: Int) -> Int32 { Int32(littleEndian: p.loadUnaligned(fromByteOffset: at, as: Int32.self)) }
    private static func i64(_ p: UnsafeRawBufferPointer, _ at: Int) -> Int64 { Int64(littleEndian: p.loadUnaligned(fromByteOffset: at, as: Int64.self)) }
    private static func string(_ p: UnsafeRawBufferPointer, _ at: Int) -> String {
        let n = Int(i32(p, at))
        return String(decoding: UnsafeRawBufferPointer(rebasing: p[(at + 4)..<(at + 4 + max(0, n - 1))]), as: UTF8.self)
    }

    /// One element's scalar value, or nil for documents/arrays; `size` is its byte length.
    private static func scalar(_ p: UnsafeRawBufferPointer, _ type: UInt8, _ at: Int, size: inout Int) -> Value? {
        switch type {
        case 0x01: size = 8; return .real(Double(bitPattern: UInt64(bitPattern: i64(p, at))))
        case 0x02, 0x0D, 0x0E: size = 4 + Int(i32(p, at)); return .text(string(p, at))
        case 0x05:
            let n = Int(i32(p, at)); size = 5 + n
            return .blob(Array(UnsafeRawBufferPointer(rebasing: p[(at + 5)..<(at + 5 + n)])))
        case 0x06, 0x0A: size = 0; return .null
        case 0x07: size = 12; return .text(hex(p, at, 12))
        case 0x08: size = 1; return .integer(p[at] != 0 ? 1 : 0)
        case 0x09: size = 8; return .text(isoDate(milliseconds: i64(p, at)))
        case 0x0B:
            var q = at
            let pattern = cstring(p, &q), flags = cstring(p, &q)
            size = q - at
            return .text("/\(pattern)/\(flags)")
        case 0x0C: size = 4 + Int(i32(p, at)) + 12; return .text("DBPointer(\(string(p, at)), \(hex(p, at + size - 12, 12)))")
        case 0x0F:
            size = Int(i32(p, at))
            return .text(string(p, at + 4))
        case 0x10: size = 4; return .integer(Int64(i32(p, at)))
        case 0x11:
            size = 8
            let v = UInt64(bitPattern: i64(p, at))
            return .text("Timestamp(\(v >> 32), \(v & 0xFFFF_FFFF))")
        case 0x12: size = 8; return .integer(i64(p, at))
        case 0x13: size = 16; return .text(decimal128(p, at))
        case 0xFF: size = 0; return .text("MinKey")
        case 0x7F: size = 0; return .text("MaxKey")
        default: size = 0; return nil
        }
    }

    private static func walk(_ p: UnsafeRawBufferPointer, _ start: Int, prefix: String, flatten: Bool, into out: inout [(String, Value)]) {
        let end = start + Int(i32(p, start)) - 1
        var at = start + 4
        while at < end {
            let type = p[at]; at += 1
            if type == 0 { break }
            let name = prefix + cstring(p, &at)
            switch type {
            case 0x03:
                let len = Int(i32(p, at))
                if flatten {
                    if len <= 5 { out.append((name, .null)) } else { walk(p, at, prefix: name + ".", flatten: true, into: &out) }
                } else {
                    out.append((name, .text(json(p, at, array: false).compact)))
                }
                at += len
            case 0x04:
                let len = Int(i32(p, at))
                out.append((name, .text(json(p, at, array: true).compact)))
                at += len
            default:
                var size = 0
                guard let v = scalar(p, type, at, size: &size) else { return } // unknown type: stop (corrupt)
                out.append((name, v))
                at += size
            }
        }
    }

    static func json(_ p: UnsafeRawBufferPointer, _ start: Int, array: Bool) -> JSON {
        let end = start + Int(i32(p, start)) - 1
        var at = start + 4
        var members: [(String, JSON)] = []
        while at < end {
            let type = p[at]; at += 1
            if type == 0 { break }
            let name = cstring(p, &at)
            let j: JSON
            switch type {
            case 0x03, 0x04:
                j = json(p, at, array: type == 0x04)
                at += Int(i32(p, at))
            case 0x08: j = .bool(p[at] != 0); at += 1
            case 0x10: j = .int(Int64(i32(p, at))); at += 4
            case 0x12: j = .int(i64(p, at)); at += 8
            case 0x01: j = .double(Double(bitPattern: UInt64(bitPattern: i64(p, at)))); at += 8
            case 0x05:
                var size = 0
                if case .blob(let b)? = scalar(p, type, at, size: &size) { j = .string(Data(b).base64EncodedString()) } else { j = .null }
                at += size
            default:
                var size = 0
                guard let v = scalar(p, type, at, size: &size) else { return array ? .array(members.map(\.1)) : .object(members) }
                j = JSON(v)
                at += size
            }
            members.append((name, j))
        }
        return array ? .array(members.map(\.1)) : .object(members)
    }

    private static let digits = Array("0123456789abcdef".utf8)

    private static func hex(_ p: UnsafeRawBufferPointer, _ at: Int, _ n: Int) -> String {
        var s: [UInt8] = []
        s.reserveCapacity(n * 2)
        for i in at..<(at + n) { s.append(digits[Int(p[i] >> 4)]); s.append(digits[Int(p[i] & 15)]) }
        return String(decoding: s, as: UTF8.self)
    }

    private static func decimal128(_ p: UnsafeRawBufferPointer, _ at: Int) -> String {
        var d = bson_decimal128_t()
        d.low = UInt64(bitPattern: i64(p, at))
        d.high = UInt64(bitPattern: i64(p, at + 8))
        var buf = [CChar](repeating: 0, count: Int(BSON_DECIMAL128_STRING) + 1)
        bson_decimal128_to_string(&d, &buf)
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Milliseconds since 1970 (UTC) as `YYYY-MM-DDTHH:MM:SS.mmmZ` (proleptic Gregorian).
    static func isoDate(milliseconds ms: Int64) -> String {
        var days = ms / 86_400_000
        var rem = ms % 86_400_000
        if rem < 0 { rem += 86_400_000; days -= 1 }
        let (cy, cm, cd) = TextFunctions.civilFromDays(Int(days))
        let y = Int64(cy), m = Int64(cm), d = Int64(cd)
        func pad(_ v: Int64, _ w: Int) -> String {
            let s = String(abs(v))
            return (v < 0 ? "-" : "") + String(repeating: "0", count: max(0, w - s.count)) + s
        }
        let h = rem / 3_600_000, mi = (rem / 60_000) % 60, s = (rem / 1000) % 60, f = rem % 1000
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2)).\(pad(f, 3))Z"
    }
}
