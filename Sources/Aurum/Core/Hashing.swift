/// FNV-1a, 64-bit: the warehouse's stable hash for content hashes of non-CSV rows and hash partitions.
/// Deterministic across runs and platforms (never Swift's randomly seeded Hasher).
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    @inline(__always)
    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var h = value
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        value = h
    }

    mutating func add(_ s: String) {
        var s = s
        s.withUTF8 { add(UnsafeRawBufferPointer($0)) }
    }

    mutating func add(byte: UInt8) { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }

    /// Adds the decimal digits of `i` exactly as `add(String(i))` would, without making the String.
    mutating func add(decimal i: Int64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: a sign and 19 digits fit
        withUnsafeMutableBytes(of: &digits) { buf in
            var x = i.magnitude
            var n = 0
            repeat {
                buf[23 - n] = UInt8(48 + x % 10)
                x /= 10
                n += 1
            } while x > 0
            if i < 0 { buf[23 - n] = UInt8(ascii: "-"); n += 1 }
            add(UnsafeRawBufferPointer(rebasing: buf[(24 - n)...]))
        }
    }

    /// Adds a value with its type, so 1 and '1' hash differently and NULL differs from ''.
    mutating func add(_ v: Value) {
        switch v {
        case .null: add(byte: 0)
        case .integer(let i): add(byte: 1); add(String(i))
        case .real(let d): add(byte: 2); add(Value.format(d))
        case .text(let s): add(byte: 3); add(s)
        case .blob(let b): add(byte: 4); b.withUnsafeBytes { add($0) }
        }
        add(byte: 0x1F)
    }

    static func hash(_ s: String) -> UInt64 {
        var h = FNV1a()
        h.add(s)
        return h.value
    }
}
