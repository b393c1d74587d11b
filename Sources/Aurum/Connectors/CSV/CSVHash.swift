/// The content hash of a parsed row, as stored in ``CSVBatch/hashes``.
///
/// The hash is taken over the row's fields, UTF-8 encoded and joined with the separator byte
/// `0x1F` (ASCII "unit separator") between fields: `f1 0x1F f2 0x1F … fN`. So `["ab", "c"]` and
/// `["a", "bc"]` hash differently, and the value does not depend on the file's delimiter, quoting
/// or encoding (latin-1 input is hashed after transcoding to UTF-8).
///
/// Algorithm ("Aurum row hash v1"): wyhash-style multiply-mix over little-endian 64-bit words.
/// `mum(a, b)` is the 64x64→128-bit product folded by XOR of its halves. Starting from `h = S0`,
/// each 16-byte block (words `a`, `b`) gives `h = mum(a ^ S1, b ^ h)`; a final 1–15 byte tail,
/// zero-padded to two words, gives `h = mum(a ^ S3, b ^ h ^ S2)`; then
/// `x = mum(h ^ S0, length ^ S1)` and the result is `mum(x ^ S2, x ^ S3)`. S0…S3 are wyhash's
/// secrets. (S1's bytes are not valid UTF-8, so no content block can cancel it.)
/// It is deterministic across runs, processes and platforms (unlike Swift's `Hasher`), and is
/// not meant to resist adversarial collisions. Changing it changes every stored hash: don't.
public enum CSVHash {
    /// The byte placed between fields before hashing.
    public static let separator: UInt8 = 0x1F

    @inline(__always)
    static func mum(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let r = a.multipliedFullWidth(by: b)
        return r.high ^ r.low
    }

    /// Hash of the row `fields` (the same value ``CSVReader`` computes for that row).
    public static func hash(fields: [String]) -> UInt64 {
        var joined: [UInt8] = []
        for (i, f) in fields.enumerated() {
            if i > 0 { joined.append(separator) }
            joined.append(contentsOf: f.utf8)
        }
        return hash(bytes: joined)
    }

    /// Hash of an already joined byte string.
    public static func hash(bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// Hash of an already joined byte string; reads exactly `buffer.count` bytes.
    public static func hash(_ buffer: UnsafeRawBufferPointer) -> UInt64 {
        let n = buffer.count
        guard n > 0, let base = buffer.baseAddress else { return finish(s0, count: 0) }
        // Copy the last partial block into zero-padded storage and share the padded code path.
        let full = n & ~15
        var h = s0
        if full > 0 { h = blocks(base, count: full, h) }
        if full == n { return finish(h, count: n) }
        var tail: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return withUnsafeMutableBytes(of: &tail) { t in
            t.copyMemory(from: UnsafeRawBufferPointer(start: base + full, count: n - full))
            return finish(tailMix(t.baseAddress!, count: n - full, h), count: n)
        }
    }

    /// Same result as ``hash(_:)``, but may read up to 15 bytes past `count` (the caller
    /// guarantees they are allocated and initialized); avoids copying the tail.
    @inline(__always)
    static func hashPadded(_ p: UnsafePointer<UInt8>, count n: Int) -> UInt64 {
        let raw = UnsafeRawPointer(p)
        let full = n & ~15
        var h = blocks(raw, count: full, s0)
        if full < n { h = tailMix(raw + full, count: n &- full, h) }
        return finish(h, count: n)
    }

    static let s0: UInt64 = 0xa076_1d64_78bd_642f
    static let s1: UInt64 = 0xe703_7ed1_a0b4_28db
    static let s2: UInt64 = 0x8ebc_6af0_9c88_c6e3
    static let s3: UInt64 = 0x5899_65cc_7537_4cc3

    @inline(__always)
    static func word(_ p: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// 16-byte blocks: `h = mum(a ^ S1, b ^ h)`, one multiply per block.
    @inline(__always)
    static func blocks(_ p: UnsafeRawPointer, count: Int, _ seed: UInt64) -> UInt64 {
        var h = seed
        var i = 0
        while i < count {
            h = mum(word(p, i) ^ s1, word(p, i &+ 8) ^ h)
            i &+= 16
        }
        return h
    }

    /// The last 1–15 bytes, zero-padded to two words (bytes past `r` are masked off).
    @inline(__always)
    static func tailMix(_ p: UnsafeRawPointer, count r: Int, _ h: UInt64) -> UInt64 {
        var a = word(p, 0)
        var b: UInt64 = 0
        if r > 8 {
            b = word(p, 8) & (UInt64.max >> UInt64(128 &- 8 &* r))
        } else {
            a &= UInt64.max >> UInt64(64 &- 8 &* r)
        }
        return mum(a ^ s3, b ^ h ^ s2)
    }

    @inline(__always)
    static func finish(_ h: UInt64, count: Int) -> UInt64 {
        let x = mum(h ^ s0, UInt64(truncatingIfNeeded: count) ^ s1)
        return mum(x ^ s2, x ^ s3)
    }
}
