// Thrift compact protocol: a bounds-checked reader and a small writer.
// Only what Parquet metadata needs. Every length read from the input is checked against
// the remaining bytes; nesting is depth-limited so corrupt input can neither crash nor hang.

enum TType {
    static let stop: UInt8 = 0
    static let boolTrue: UInt8 = 1
    static let boolFalse: UInt8 = 2
    static let byte: UInt8 = 3
    static let i16: UInt8 = 4
    static let i32: UInt8 = 5
    static let i64: UInt8 = 6
    static let double: UInt8 = 7
    static let binary: UInt8 = 8
    static let list: UInt8 = 9
    static let set: UInt8 = 10
    static let map: UInt8 = 11
    static let structure: UInt8 = 12
}

struct ThriftReader {
    let buf: UnsafeRawBufferPointer
    var pos: Int
    var depth: Int = 0
    static let maxDepth = 48

    init(_ buf: UnsafeRawBufferPointer, pos: Int = 0) {
        self.buf = buf
        self.pos = pos
    }

    var remaining: Int { buf.count - pos }

    @inline(__always)
    mutating func byte() throws -> UInt8 {
        guard pos < buf.count else { throw ParquetError.corrupt("thrift structure runs past the end of its buffer") }
        let b = buf[pos]
        pos += 1
        return b
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            if shift == 63 && b > 1 { throw ParquetError.corrupt("thrift varint overflow") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw ParquetError.corrupt("thrift varint too long") }
        }
    }

    mutating func i64() throws -> Int64 {
        let v = try varint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    mutating func i32() throws -> Int32 {
        let v = try i64()
        guard v >= Int64(Int32.min) && v <= Int64(Int32.max) else { throw ParquetError.corrupt("thrift i32 out of range") }
        return Int32(v)
    }

    mutating func i16() throws -> Int16 {
        let v = try i64()
        guard v >= Int64(Int16.min) && v <= Int64(Int16.max) else { throw ParquetError.corrupt("thrift i16 out of range") }
        return Int16(v)
    }

    mutating func double() throws -> Double {
        guard remaining >= 8 else { throw ParquetError.corrupt("thrift structure runs past the end of its buffer") }
        let bits = buf.loadUnaligned(fromByteOffset: pos, as: UInt64.self)
        pos += 8
        return Double(bitPattern: UInt64(littleEndian: bits))
    }

    mutating func binary() throws -> [UInt8] {
        let n = try varint()
        guard n <= UInt64(remaining) else { throw ParquetError.corrupt("thrift binary length \(n) exceeds remaining \(remaining) bytes") }
        let r = Array(buf[pos ..< pos + Int(n)])
        pos += Int(n)
        return r
    }

    mutating func string() throws -> String {
        let b = try binary()
        return String(decoding: b, as: UTF8.self)
    }

    /// Reads a list header; the count is bounded by the remaining bytes (every element takes at least one byte).
    mutating func listHeader() throws -> (elemType: UInt8, count: Int) {
        let h = try byte()
        var count = Int(h >> 4)
        if count == 15 {
            let n = try varint()
            guard n <= UInt64(Int32.max) else { throw ParquetError.corrupt("thrift list size too large") }
            count = Int(n)
        }
        let t = h & 0x0F
        guard count <= remaining else { throw ParquetError.corrupt("thrift list of \(count) elements exceeds remaining \(remaining) bytes") }
        return (t, count)
    }

    /// Iterates the fields of a struct. The body must consume (or skip) the field value.
    mutating func readStruct(_ body: (inout ThriftReader, Int16, UInt8) throws -> Void) throws {
        depth += 1
        guard depth <= ThriftReader.maxDepth else { throw ParquetError.corrupt("thrift nesting too deep") }
        var lastId: Int16 = 0
        while true {
            let h = try byte()
            if h == TType.stop { break }
            let type = h & 0x0F
            let delta = Int16(h >> 4)
            let id: Int16
            if delta == 0 { id = try i16() } else { id = lastId &+ delta }
            lastId = id
            guard type <= 12 else { throw ParquetError.corrupt("thrift unknown field type \(type)") }
            try body(&self, id, type)
        }
        depth -= 1
    }

    /// Reads a boolean field value (compact protocol stores it in the type nibble).
    func boolValue(_ type: UInt8) throws -> Bool {
        switch type {
        case TType.boolTrue: return true
        case TType.boolFalse: return false
        default: throw ParquetError.corrupt("thrift expected bool, got type \(type)")
        }
    }

    mutating func expect(_ type: UInt8, _ expected: UInt8) throws {
        guard type == expected else { throw ParquetError.corrupt("thrift field has type \(type), expected \(expected)") }
    }

    mutating func skip(_ type: UInt8) throws {
        switch type {
        case TType.boolTrue, TType.boolFalse: return
        case TType.byte: _ = try byte()
        case TType.i16, TType.i32, TType.i64: _ = try varint()
        case TType.double:
            guard remaining >= 8 else { throw ParquetError.corrupt("thrift structure runs past the end of its buffer") }
            pos += 8
        case TType.binary:
            let n = try varint()
            guard n <= UInt64(remaining) else { throw ParquetError.corrupt("thrift binary length exceeds buffer") }
            pos += Int(n)
        case TType.list, TType.set:
            let (t, n) = try listHeader()
            depth += 1
            guard depth <= ThriftReader.maxDepth else { throw ParquetError.corrupt("thrift nesting too deep") }
            for _ in 0 ..< n {
                if t == TType.boolTrue || t == TType.boolFalse { _ = try byte() } else { try skip(t) }
            }
            depth -= 1
        case TType.map:
            let n = try varint()
            guard n <= UInt64(remaining) else { throw ParquetError.corrupt("thrift map size exceeds buffer") }
            if n == 0 { return }
            let kv = try byte()
            depth += 1
            guard depth <= ThriftReader.maxDepth else { throw ParquetError.corrupt("thrift nesting too deep") }
            for _ in 0 ..< Int(n) {
                for t in [kv >> 4, kv & 0x0F] {
                    if t == TType.boolTrue || t == TType.boolFalse { _ = try byte() } else { try skip(t) }
                }
            }
            depth -= 1
        case TType.structure:
            try readStruct { r, _, t in try r.skip(t) }
        default:
            throw ParquetError.corrupt("thrift unknown type \(type)")
        }
    }

    // Convenience readers that check the wire type.
    mutating func readI32(_ type: UInt8) throws -> Int32 { try expect(type, TType.i32); return try i32() }
    mutating func readI64(_ type: UInt8) throws -> Int64 {
        guard type == TType.i64 || type == TType.i32 || type == TType.i16 else {
            throw ParquetError.corrupt("thrift field has type \(type), expected i64")
        }
        return try i64()
    }
    mutating func readI16(_ type: UInt8) throws -> Int16 { try expect(type, TType.i16); return try i16() }
    mutating func readBinary(_ type: UInt8) throws -> [UInt8] { try expect(type, TType.binary); return try binary() }
    mutating func readString(_ type: UInt8) throws -> String { try expect(type, TType.binary); return try string() }
    mutating func readByte(_ type: UInt8) throws -> Int8 { try expect(type, TType.byte); return Int8(bitPattern: try byte()) }

    mutating func readList<T>(_ type: UInt8, _ element: (inout ThriftReader, UInt8) throws -> T) throws -> [T] {
        guard type == TType.list || type == TType.set else { throw ParquetError.corrupt("thrift field has type \(type), expected list") }
        let (t, n) = try listHeader()
        var out: [T] = []
        out.reserveCapacity(n)
        depth += 1
        guard depth <= ThriftReader.maxDepth else { throw ParquetError.corrupt("thrift nesting too deep") }
        for _ in 0 ..< n { out.append(try element(&self, t)) }
        depth -= 1
        return out
    }
}

struct ThriftWriter {
    var out: [UInt8] = []
    private var lastId: Int16 = 0
    private var stack: [Int16] = []

    init() { out.reserveCapacity(256) }

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    mutating func zigzag(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    mutating func fieldHeader(_ type: UInt8, _ id: Int16) {
        let delta = id - lastId
        if delta > 0 && delta <= 15 {
            out.append(UInt8(delta) << 4 | type)
        } else {
            out.append(type)
            zigzag(Int64(id))
        }
        lastId = id
    }

    mutating func i32(_ id: Int16, _ v: Int32) { fieldHeader(TType.i32, id); zigzag(Int64(v)) }
    mutating func i64(_ id: Int16, _ v: Int64) { fieldHeader(TType.i64, id); zigzag(v) }
    mutating func i16(_ id: Int16, _ v: Int16) { fieldHeader(TType.i16, id); zigzag(Int64(v)) }
    mutating func i8(_ id: Int16, _ v: Int8) { fieldHeader(TType.byte, id); out.append(UInt8(bitPattern: v)) }
    mutating func bool(_ id: Int16, _ v: Bool) { fieldHeader(v ? TType.boolTrue : TType.boolFalse, id) }
    mutating func binary(_ id: Int16, _ v: [UInt8]) { fieldHeader(TType.binary, id); varint(UInt64(v.count)); out.append(contentsOf: v) }
    mutating func string(_ id: Int16, _ v: String) { binary(id, Array(v.utf8)) }

    mutating func rawBinary(_ v: [UInt8]) { varint(UInt64(v.count)); out.append(contentsOf: v) }
    mutating func rawString(_ v: String) { rawBinary(Array(v.utf8)) }

    mutating func listBegin(_ id: Int16, _ elemType: UInt8, _ count: Int) {
        fieldHeader(TType.list, id)
        listHeader(elemType, count)
    }

    mutating func listHeader(_ elemType: UInt8, _ count: Int) {
        if count < 15 {
            out.append(UInt8(count) << 4 | elemType)
        } else {
            out.append(0xF0 | elemType)
            varint(UInt64(count))
        }
    }

    /// Begins a struct (as a field with `id`, or as a list element when `id` is nil).
    mutating func structBegin(_ id: Int16?) {
        if let id { fieldHeader(TType.structure, id) }
        stack.append(lastId)
        lastId = 0
    }

    mutating func structEnd() {
        out.append(TType.stop)
        lastId = stack.removeLast()
    }
}
