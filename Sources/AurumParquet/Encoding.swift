// Low-level encodings: bit unpacking, RLE/bit-packed hybrid, DELTA_BINARY_PACKED, growable raw buffers.
// All decoders work on UnsafeRawBufferPointer and check every length against the buffer.

import Foundation

/// A growable malloc'ed byte buffer (no zero-filling, no copy-on-write): the hot-path output storage.
final class RawBuf {
    private(set) var ptr: UnsafeMutableRawPointer
    var count = 0
    private(set) var capacity: Int

    init(capacity: Int = 64) {
        let c = max(capacity, 16)
        ptr = malloc(c)!
        self.capacity = c
    }

    deinit { free(ptr) }

    @inline(__always)
    func ensure(_ extra: Int) {
        let need = count + extra
        if need > capacity { grow(need) }
    }

    private func grow(_ need: Int) {
        var c = capacity
        while c < need { c = c &* 2 }
        guard let p = realloc(ptr, c) else { fatalError("AurumParquet: out of memory (\(c) bytes)") }
        ptr = p
        capacity = c
    }

    /// Reserves `n` bytes at the end, returns their address and counts them as used.
    @inline(__always)
    func append(uninitialized n: Int) -> UnsafeMutableRawPointer {
        ensure(n)
        let p = ptr + count
        count += n
        return p
    }

    func append(_ src: UnsafeRawPointer, _ n: Int) {
        let p = append(uninitialized: n)
        if n > 0 { memcpy(p, src, n) }
    }

    func toArray<T>(_: T.Type) -> [T] {
        let n = count / MemoryLayout<T>.stride
        return [T](unsafeUninitializedCapacity: n) { b, initialized in
            if n > 0 { memcpy(b.baseAddress!, ptr, n * MemoryLayout<T>.stride) }
            initialized = n
        }
    }

    func reset() { count = 0 }
}

enum Bits {
    @inline(__always)
    static func mask64(_ w: Int) -> UInt64 { w >= 64 ? UInt64.max : (UInt64(1) << UInt64(w)) &- 1 }

    /// Unpacks `count` little-endian bit-packed values of `width` (<= 32) bits starting at bit 0 of `src`.
    /// `srcBytes` must be >= ceil(count*width/8).
    @inline(__always)
    static func unpack32<T: FixedWidthInteger>(_ src: UnsafeRawPointer, srcBytes: Int, width: Int, count: Int, into out: UnsafeMutablePointer<T>) {
        if width == 0 {
            out.initialize(repeating: 0, count: count)
            return
        }
        let m = mask64(width)
        if width == 1 {
            let s = src.assumingMemoryBound(to: UInt8.self)
            var i = 0
            while i + 8 <= count {
                let b = s[i >> 3]
                out[i] = T(truncatingIfNeeded: b & 1)
                out[i + 1] = T(truncatingIfNeeded: (b >> 1) & 1)
                out[i + 2] = T(truncatingIfNeeded: (b >> 2) & 1)
                out[i + 3] = T(truncatingIfNeeded: (b >> 3) & 1)
                out[i + 4] = T(truncatingIfNeeded: (b >> 4) & 1)
                out[i + 5] = T(truncatingIfNeeded: (b >> 5) & 1)
                out[i + 6] = T(truncatingIfNeeded: (b >> 6) & 1)
                out[i + 7] = T(truncatingIfNeeded: (b >> 7) & 1)
                i += 8
            }
            while i < count {
                out[i] = T(truncatingIfNeeded: (s[i >> 3] >> UInt8(i & 7)) & 1)
                i += 1
            }
            return
        }
        // Fast path: one unaligned 8-byte load per value while 8 bytes are available.
        var i = 0
        var bit = 0
        let safeEnd = srcBytes - 8
        while i < count {
            let byte = bit >> 3
            if byte > safeEnd { break }
            let v = UInt64(littleEndian: src.loadUnaligned(fromByteOffset: byte, as: UInt64.self))
            out[i] = T(truncatingIfNeeded: (v >> UInt64(bit & 7)) & m)
            i += 1
            bit += width
        }
        while i < count {
            out[i] = T(truncatingIfNeeded: slowRead(src, srcBytes: srcBytes, bit: bit, width: width))
            i += 1
            bit += width
        }
    }

    /// Reads `width` (<= 64) bits at bit offset `bit`, byte by byte (bits beyond srcBytes read as 0).
    @inline(__always)
    static func slowRead(_ src: UnsafeRawPointer, srcBytes: Int, bit: Int, width: Int) -> UInt64 {
        var v: UInt64 = 0
        var got = 0
        var b = bit >> 3
        var shift = bit & 7
        while got < width && b < srcBytes {
            let byte = UInt64(src.load(fromByteOffset: b, as: UInt8.self)) >> UInt64(shift)
            v |= byte << UInt64(got)
            got += 8 - shift
            shift = 0
            b += 1
        }
        return v & mask64(width)
    }

    /// Unpacks values of up to 64 bits.
    static func unpack64(_ src: UnsafeRawPointer, srcBytes: Int, width: Int, count: Int, into out: UnsafeMutablePointer<UInt64>) {
        if width <= 32 {
            unpack32(src, srcBytes: srcBytes, width: width, count: count, into: out)
            return
        }
        let m = mask64(width)
        var bit = 0
        var i = 0
        if width <= 56 {
            let safeEnd = srcBytes - 8
            while i < count {
                let byte = bit >> 3
                if byte > safeEnd { break }
                let v = UInt64(littleEndian: src.loadUnaligned(fromByteOffset: byte, as: UInt64.self))
                out[i] = (v >> UInt64(bit & 7)) & m
                i += 1
                bit += width
            }
        }
        while i < count {
            out[i] = slowRead(src, srcBytes: srcBytes, bit: bit, width: width)
            i += 1
            bit += width
        }
    }

    /// Packs `count` values (each < 2^width) little-endian into `out`, padding the last byte.
    static func pack<T: FixedWidthInteger>(_ values: UnsafePointer<T>, count: Int, width: Int, into out: inout [UInt8]) {
        guard width > 0 else { return }
        var acc: UInt64 = 0
        var bits = 0
        let m = mask64(width)
        @inline(__always) func push(_ v: UInt64, _ w: Int) {
            acc |= v << UInt64(bits)
            bits += w
            while bits >= 8 {
                out.append(UInt8(truncatingIfNeeded: acc))
                acc >>= 8
                bits -= 8
            }
        }
        for i in 0 ..< count {
            let v = UInt64(truncatingIfNeeded: values[i]) & m
            if width <= 32 {
                push(v, width)
            } else {
                push(v & 0xFFFF_FFFF, 32)
                push(v >> 32, width - 32)
            }
        }
        if bits > 0 { out.append(UInt8(truncatingIfNeeded: acc)) }
    }

    @inline(__always)
    static func width(of v: UInt64) -> Int { v == 0 ? 0 : 64 - v.leadingZeroBitCount }
}

/// Cursor over a page buffer with checked reads.
struct ByteCursor {
    let buf: UnsafeRawBufferPointer
    var pos: Int

    init(_ buf: UnsafeRawBufferPointer, pos: Int = 0) {
        self.buf = buf
        self.pos = pos
    }

    var remaining: Int { buf.count - pos }

    mutating func uleb() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard pos < buf.count else { throw ParquetError.corrupt("varint runs past the end of the page") }
            let b = buf[pos]
            pos += 1
            if shift == 63 && b > 1 { throw ParquetError.corrupt("varint overflow") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw ParquetError.corrupt("varint too long") }
        }
    }

    mutating func zigzag() throws -> Int64 {
        let v = try uleb()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    mutating func u32le() throws -> UInt32 {
        guard remaining >= 4 else { throw ParquetError.corrupt("page truncated (expected a 4-byte length)") }
        let v = buf.loadUnaligned(fromByteOffset: pos, as: UInt32.self)
        pos += 4
        return UInt32(littleEndian: v)
    }

    mutating func byte() throws -> UInt8 {
        guard pos < buf.count else { throw ParquetError.corrupt("page truncated") }
        let b = buf[pos]
        pos += 1
        return b
    }
}

/// RLE / bit-packed hybrid decoder (definition levels, dictionary indices, booleans).
struct RLEDecoder {
    var cur: ByteCursor
    let width: Int

    init(_ buf: UnsafeRawBufferPointer, pos: Int = 0, width: Int) {
        cur = ByteCursor(buf, pos: pos)
        self.width = width
    }

    /// Decodes exactly `count` values.
    mutating func decode<T: FixedWidthInteger>(into out: UnsafeMutablePointer<T>, count: Int) throws {
        guard width >= 0 && width <= 32 else { throw ParquetError.corrupt("invalid RLE bit width \(width)") }
        if width == 0 {
            // All values are zero; the stream may be empty.
            out.initialize(repeating: 0, count: count)
            return
        }
        let valueBytes = (width + 7) / 8
        var i = 0
        while i < count {
            let header = try cur.uleb()
            if header & 1 == 1 {
                let groups = header >> 1
                guard groups > 0 else { throw ParquetError.corrupt("empty bit-packed run") }
                guard groups <= UInt64(Int32.max) else { throw ParquetError.corrupt("bit-packed run too long") }
                let n = Int(groups) * 8
                var bytes = Int(groups) * width
                let take = min(n, count - i)
                if bytes > cur.remaining {
                    // Tolerate a final run truncated to the bytes it needs.
                    let needed = (take * width + 7) / 8
                    guard needed <= cur.remaining else { throw ParquetError.corrupt("bit-packed run exceeds the page (\(bytes) bytes, \(cur.remaining) left)") }
                    bytes = cur.remaining
                }
                Bits.unpack32(cur.buf.baseAddress! + cur.pos, srcBytes: bytes, width: width, count: take, into: out + i)
                cur.pos += bytes
                i += take
            } else {
                let run = header >> 1
                guard run > 0 else { throw ParquetError.corrupt("empty RLE run") }
                guard cur.remaining >= valueBytes else { throw ParquetError.corrupt("RLE run value truncated") }
                var v: UInt64 = 0
                for k in 0 ..< valueBytes { v |= UInt64(cur.buf[cur.pos + k]) << UInt64(8 * k) }
                cur.pos += valueBytes
                guard width == 32 || v < (UInt64(1) << UInt64(width)) else { throw ParquetError.corrupt("RLE value exceeds bit width") }
                let take = Int(min(run, UInt64(count - i)))
                (out + i).initialize(repeating: T(truncatingIfNeeded: v), count: take)
                i += take
            }
        }
    }
}

/// RLE / bit-packed hybrid encoder.
enum RLEEncoder {
    /// Encodes `count` values of `width` bits, appending to `out` (no length prefix).
    static func encode<T: FixedWidthInteger>(_ values: UnsafePointer<T>, count: Int, width: Int, into out: inout [UInt8]) {
        guard count > 0 else { return }
        let valueBytes = (width + 7) / 8
        var i = 0
        var groupBuf = [T](repeating: 0, count: 8)
        while i < count {
            // Length of the run starting at i.
            let v = values[i]
            var j = i + 1
            while j < count && values[j] == v { j += 1 }
            let run = j - i
            if run >= 8 || (j == count && i == 0) {
                writeVarint(UInt64(run) << 1, &out)
                var x = UInt64(truncatingIfNeeded: v)
                for _ in 0 ..< valueBytes { out.append(UInt8(truncatingIfNeeded: x)); x >>= 8 }
                i = j
                continue
            }
            // Bit-packed run: groups of 8 until a long repeat starts at a group boundary.
            var end = i
            while end < count {
                let gEnd = min(end + 8, count)
                end = gEnd
                if end >= count { break }
                // Look ahead: does a run of >= 16 start here?
                let w = values[end]
                var k = end + 1
                while k < count && k < end + 16 && values[k] == w { k += 1 }
                if k - end >= 16 || (k == count && k - end >= 8) { break }
                if (end - i) / 8 >= 63 { break }
            }
            let n = end - i
            let groups = (n + 7) / 8
            writeVarint(UInt64(groups) << 1 | 1, &out)
            let full = n / 8 * 8
            if full > 0 { Bits.pack(values + i, count: full, width: width, into: &out) }
            if full < n {
                for k in 0 ..< 8 { groupBuf[k] = k < n - full ? values[i + full + k] : 0 }
                groupBuf.withUnsafeBufferPointer { Bits.pack($0.baseAddress!, count: 8, width: width, into: &out) }
            }
            i = end
        }
    }

    /// Fast path: `count` repetitions of one value.
    static func encodeRun(_ v: UInt64, count: Int, width: Int, into out: inout [UInt8]) {
        writeVarint(UInt64(count) << 1, &out)
        var x = v
        for _ in 0 ..< (width + 7) / 8 { out.append(UInt8(truncatingIfNeeded: x)); x >>= 8 }
    }

    @inline(__always)
    static func writeVarint(_ v: UInt64, _ out: inout [UInt8]) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}

/// DELTA_BINARY_PACKED decoder.
struct DeltaBinaryPackedDecoder {
    var cur: ByteCursor
    let blockSize: Int
    let miniblocks: Int
    let perMini: Int
    let total: Int
    let first: Int64

    init(_ buf: UnsafeRawBufferPointer, pos: Int = 0) throws {
        cur = ByteCursor(buf, pos: pos)
        let bs = try cur.uleb()
        let mb = try cur.uleb()
        let tc = try cur.uleb()
        first = try cur.zigzag()
        guard bs > 0, bs <= 1 << 20, mb > 0, mb <= bs, bs % mb == 0, (bs / mb) % 8 == 0 else {
            throw ParquetError.corrupt("invalid DELTA_BINARY_PACKED header (block \(bs), miniblocks \(mb))")
        }
        guard tc <= UInt64(Int32.max) else { throw ParquetError.corrupt("DELTA_BINARY_PACKED value count too large") }
        blockSize = Int(bs)
        miniblocks = Int(mb)
        perMini = Int(bs / mb)
        total = Int(tc)
    }

    /// Decodes the first `count` values (count <= total) into `out`; if `consumeAll`, the cursor is left after
    /// the last block of all `total` values.
    mutating func decode(into out: UnsafeMutablePointer<Int64>, count: Int, consumeAll: Bool) throws {
        guard count <= total else { throw ParquetError.corrupt("DELTA_BINARY_PACKED holds \(total) values, \(count) expected") }
        if total == 0 { return }
        if count > 0 { out[0] = first }
        var produced = 1
        var last = first
        let limit = consumeAll ? total : count
        var deltas = [UInt64](repeating: 0, count: perMini)
        while produced < limit {
            let minDelta = try cur.zigzag()
            guard cur.remaining >= miniblocks else { throw ParquetError.corrupt("DELTA_BINARY_PACKED block header truncated") }
            let widthsPos = cur.pos
            cur.pos += miniblocks
            for m in 0 ..< miniblocks {
                if produced >= limit { break }
                let w = Int(cur.buf[widthsPos + m])
                guard w <= 64 else { throw ParquetError.corrupt("DELTA_BINARY_PACKED bit width \(w) > 64") }
                let bytes = perMini * w / 8
                let take = min(perMini, limit - produced)
                var avail = bytes
                if bytes > cur.remaining {
                    let needed = (take * w + 7) / 8
                    guard needed <= cur.remaining else { throw ParquetError.corrupt("DELTA_BINARY_PACKED miniblock exceeds the page") }
                    avail = cur.remaining
                }
                let decodeN = min(take, max(0, count - produced))
                if decodeN > 0 {
                    deltas.withUnsafeMutableBufferPointer { d in
                        Bits.unpack64(cur.buf.baseAddress! + cur.pos, srcBytes: avail, width: w, count: decodeN, into: d.baseAddress!)
                        let o = out + produced
                        for k in 0 ..< decodeN {
                            last = last &+ minDelta &+ Int64(bitPattern: d[k])
                            o[k] = last
                        }
                    }
                }
                cur.pos += avail
                produced += take
            }
        }
    }
}

enum DeltaEncoder {
    /// DELTA_BINARY_PACKED encoding of Int64 values (block 128, 4 miniblocks of 32). With `bits32`, the values
    /// are INT32 and deltas use 32-bit wrapping arithmetic (as INT32 readers expect).
    static func encode(_ values: UnsafePointer<Int64>, count: Int, bits32: Bool = false, into out: inout [UInt8]) {
        let blockSize = 128, miniblocks = 4, perMini = 32
        RLEEncoder.writeVarint(UInt64(blockSize), &out)
        RLEEncoder.writeVarint(UInt64(miniblocks), &out)
        RLEEncoder.writeVarint(UInt64(count), &out)
        let first = count > 0 ? values[0] : 0
        RLEEncoder.writeVarint(UInt64(bitPattern: (first << 1) ^ (first >> 63)), &out)
        var i = 1
        var deltas = [Int64](repeating: 0, count: blockSize)
        var packed = [UInt64](repeating: 0, count: perMini)
        while i < count {
            let n = min(blockSize, count - i)
            var minDelta = Int64.max
            for k in 0 ..< n {
                var d = values[i + k] &- values[i + k - 1]
                if bits32 { d = Int64(Int32(truncatingIfNeeded: d)) }
                deltas[k] = d
                if d < minDelta { minDelta = d }
            }
            RLEEncoder.writeVarint(UInt64(bitPattern: (minDelta << 1) ^ (minDelta >> 63)), &out)
            var widths = [Int](repeating: 0, count: miniblocks)
            for m in 0 ..< miniblocks {
                let s = m * perMini
                if s >= n { break }
                var mx: UInt64 = 0
                for k in s ..< min(s + perMini, n) { mx |= unsignedDelta(deltas[k], minDelta, bits32) }
                widths[m] = Bits.width(of: mx)
            }
            for w in widths { out.append(UInt8(w)) }
            for m in 0 ..< miniblocks {
                let s = m * perMini
                if s >= n { break }
                for k in 0 ..< perMini { packed[k] = s + k < n ? unsignedDelta(deltas[s + k], minDelta, bits32) : 0 }
                packed.withUnsafeBufferPointer { Bits.pack($0.baseAddress!, count: perMini, width: widths[m], into: &out) }
            }
            i += n
        }
    }

    @inline(__always)
    static func unsignedDelta(_ d: Int64, _ minDelta: Int64, _ bits32: Bool) -> UInt64 {
        let u = UInt64(bitPattern: d &- minDelta)
        return bits32 ? u & 0xFFFF_FFFF : u
    }
}
