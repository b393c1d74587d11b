// Encodes one column chunk (dictionary page + data pages + statistics) from a range of a ParquetColumnData.

import Foundation

struct WriterConfig: Sendable {
    var codec: ParquetCodec
    var compressionLevel: Int32?
    var dictionary: Bool
    var dataPageVersion: Int
    var pageSize: Int
    var dictionaryPageSizeLimit: Int
    var statistics: Bool
    var maxStatisticsSize: Int
    var delta: Bool
}

struct EncodedChunk {
    var bytes: RawBuf
    var dictionaryPageRel: Int?
    var dataPageRel: Int
    var uncompressedSize: Int
    var encodings: [Int32]
    var statistics: PStatistics?
    var numValues: Int
}

@inline(__always)
func hashBytes(_ p: UnsafeRawPointer, _ n: Int) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ (UInt64(n) &* 0xC2B2_AE3D_27D4_EB4F)
    var i = 0
    while i + 8 <= n {
        let v = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        h = (h ^ v) &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 32
        i += 8
    }
    if i < n {
        var v: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &v) { memcpy($0.baseAddress!, p + i, n - i) }
        h = (h ^ v) &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 29
    }
    h = (h ^ (h >> 33)) &* 0xFF51_AFD7_ED55_8CCD
    return h ^ (h >> 33)
}

/// Open-addressing hash table: value key (bit pattern) -> dictionary index.
struct FixedDictBuilder {
    var keys: [UInt64]
    var slots: [Int32]
    var mask: Int
    var shift: UInt64 = 54 // 64 - log2(capacity): Fibonacci hashing keeps the well-mixed top bits
    var values: [UInt64] = []

    init() {
        keys = [UInt64](repeating: 0, count: 1024)
        slots = [Int32](repeating: -1, count: 1024)
        mask = 1023
    }

    @inline(__always)
    func slot(_ k: UInt64) -> Int { Int(truncatingIfNeeded: ((k ^ (k >> 31)) &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    @inline(__always)
    mutating func insert(_ k: UInt64) -> UInt32 {
        var h = slot(k)
        while true {
            let s = slots[h]
            if s < 0 {
                let idx = Int32(values.count)
                slots[h] = idx
                keys[h] = k
                values.append(k)
                if values.count * 2 > mask { grow() }
                return UInt32(idx)
            }
            if keys[h] == k { return UInt32(s) }
            h = (h + 1) & mask
        }
    }

    private mutating func grow() {
        let n = (mask + 1) * 2
        keys = [UInt64](repeating: 0, count: n)
        slots = [Int32](repeating: -1, count: n)
        mask = n - 1
        shift -= 1
        for (i, k) in values.enumerated() {
            var h = slot(k)
            while slots[h] >= 0 { h = (h + 1) & mask }
            slots[h] = Int32(i)
            keys[h] = k
        }
    }
}

/// Hash table over byte strings -> dictionary index; values stored contiguously.
final class BinaryDictBuilder {
    var slots: [Int32]
    var slotHash: [UInt64]
    var mask: Int
    var offsets: [Int] = [0]
    let data = RawBuf(capacity: 1 << 16)
    var count: Int { offsets.count - 1 }

    init() {
        slots = [Int32](repeating: -1, count: 1024)
        slotHash = [UInt64](repeating: 0, count: 1024)
        mask = 1023
    }

    @inline(__always)
    func insert(_ p: UnsafeRawPointer, _ n: Int) -> UInt32 {
        let hv = hashBytes(p, n)
        var h = Int(truncatingIfNeeded: hv) & mask
        while true {
            let s = slots[h]
            if s < 0 {
                let idx = Int32(count)
                slots[h] = idx
                slotHash[h] = hv
                data.append(p, n)
                offsets.append(data.count)
                if count * 2 > mask { grow() }
                return UInt32(idx)
            }
            if slotHash[h] == hv {
                let st = offsets[Int(s)], len = offsets[Int(s) + 1] - st
                if len == n && memcmp(data.ptr + st, p, n) == 0 { return UInt32(s) }
            }
            h = (h + 1) & mask
        }
    }

    private func grow() {
        let n = (mask + 1) * 2
        slots = [Int32](repeating: -1, count: n)
        slotHash = [UInt64](repeating: 0, count: n)
        mask = n - 1
        for i in 0 ..< count {
            let st = offsets[i]
            let hv = hashBytes(data.ptr + st, offsets[i + 1] - st)
            var h = Int(truncatingIfNeeded: hv) & mask
            while slots[h] >= 0 { h = (h + 1) & mask }
            slots[h] = Int32(i)
            slotHash[h] = hv
        }
    }
}

final class ChunkEncoder {
    let column: ParquetColumn
    let config: WriterConfig
    let out = RawBuf(capacity: 1 << 16)
    let page = RawBuf(capacity: 1 << 16)
    var compressed: [UInt8] = []
    var levelBytes: [UInt8] = []
    var uncompressedTotal = 0
    var encodings: Set<Int32> = []

    init(column: ParquetColumn, config: WriterConfig) {
        self.column = column
        self.config = config
    }

    var physicalWidth: Int {
        switch column.physical {
        case .int32, .float: return 4
        case .int64, .double: return 8
        default: return 0
        }
    }

    // MARK: Entry

    func encode(_ data: ParquetColumnData, _ range: Range<Int>) throws -> EncodedChunk {
        let n = range.count
        // Definition levels / dense positions.
        var levels: [UInt8] = []
        var nonNull = n
        var hasNulls = false
        if let v = data.validity {
            var c = 0
            for i in range where v[i] { c += 1 }
            nonNull = c
            hasNulls = c < n
            if hasNulls {
                guard column.optional else {
                    throw ParquetError.corrupt("null value in required column '\(column.name)'")
                }
                levels = [UInt8](repeating: 0, count: n)
                levels.withUnsafeMutableBufferPointer { l in
                    var k = 0
                    for i in range { l[k] = v[i] ? 1 : 0; k += 1 }
                }
            }
        }
        let validity = hasNulls ? data.validity : nil
        var stats = PStatistics()
        stats.nullCount = Int64(n - nonNull)

        switch data.values {
        case .boolean(let a):
            let dense = gatherDense(a, range, validity)
            if config.statistics, !dense.isEmpty {
                var anyT = false, anyF = false
                for b in dense { if b { anyT = true } else { anyF = true } }
                stats.min = [anyF ? 0 : 1]; stats.max = [anyT ? 1 : 0]
                stats.minValue = stats.min; stats.maxValue = stats.max
            }
            try writePlainPages(n: n, nonNull: nonNull, levels: levels, bytesPerValue: 1) { d0, d1, pg in
                let cnt = d1 - d0
                let p = pg.append(uninitialized: (cnt + 7) / 8).assumingMemoryBound(to: UInt8.self)
                p.initialize(repeating: 0, count: (cnt + 7) / 8)
                for k in 0 ..< cnt where dense[d0 + k] { p[k >> 3] |= 1 << UInt8(k & 7) }
            }
            return finish(stats: stats, n: n, dictRel: nil)
        case .int32(let a):
            let dense = gatherDense(a, range, validity)
            if config.statistics { intStats(dense, &stats, unsigned: isUnsigned) }
            return try encodeFixed(dense.map { UInt64(UInt32(bitPattern: $0)) }, width: 4, n: n, levels: levels, stats: stats)
        case .int64(let a):
            let dense = gatherDense(a, range, validity)
            if config.statistics { intStats(dense, &stats, unsigned: isUnsigned) }
            return try encodeFixed(dense.map { UInt64(bitPattern: $0) }, width: 8, n: n, levels: levels, stats: stats)
        case .float(let a):
            let dense = gatherDense(a, range, validity)
            if config.statistics { floatStats(dense, &stats) }
            return try encodeFixed(dense.map { UInt64($0.bitPattern) }, width: 4, n: n, levels: levels, stats: stats)
        case .double(let a):
            let dense = gatherDense(a, range, validity)
            if config.statistics { floatStats(dense, &stats) }
            return try encodeFixed(dense.map { $0.bitPattern }, width: 8, n: n, levels: levels, stats: stats)
        case .binary(let b):
            return try encodeBinary(b, range, validity, n: n, nonNull: nonNull, levels: levels, stats: stats)
        }
    }

    var isUnsigned: Bool {
        if case .int(_, let signed) = column.logical { return !signed }
        return false
    }

    private func gatherDense<T>(_ a: [T], _ range: Range<Int>, _ validity: [Bool]?) -> [T] {
        guard let validity else { return Array(a[range]) }
        var out: [T] = []
        out.reserveCapacity(range.count)
        for i in range where validity[i] { out.append(a[i]) }
        return out
    }

    // MARK: Statistics

    private func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    private func intStats<T: FixedWidthInteger>(_ dense: [T], _ s: inout PStatistics, unsigned: Bool) {
        guard var mn = dense.first else { return }
        var mx = mn
        if unsigned {
            typealias U = T.Magnitude
            var umn = U(truncatingIfNeeded: mn), umx = umn
            for v in dense {
                let u = U(truncatingIfNeeded: v)
                if u < umn { umn = u }
                if u > umx { umx = u }
            }
            mn = T(truncatingIfNeeded: umn)
            mx = T(truncatingIfNeeded: umx)
            s.minValue = le(mn); s.maxValue = le(mx)
            return
        }
        for v in dense {
            if v < mn { mn = v }
            if v > mx { mx = v }
        }
        s.min = le(mn); s.max = le(mx)
        s.minValue = s.min; s.maxValue = s.max
    }

    private func floatStats<T: BinaryFloatingPoint>(_ dense: [T], _ s: inout PStatistics) {
        var mn = T.infinity, mx = -T.infinity
        var any = false
        for v in dense where !v.isNaN {
            any = true
            if v < mn { mn = v }
            if v > mx { mx = v }
        }
        guard any else { return }
        if mn == 0 { mn = -T(0.0) }
        if mx == 0 { mx = T(0.0) }
        let enc: (T) -> [UInt8] = { v in
            if let f = v as? Float { return self.le(f.bitPattern) }
            return self.le((v as! Double).bitPattern)
        }
        s.min = enc(mn); s.max = enc(mx)
        s.minValue = s.min; s.maxValue = s.max
    }

    // MARK: Fixed-width values

    private func encodeFixed(_ dense: [UInt64], width: Int, n: Int, levels: [UInt8], stats: PStatistics) throws -> EncodedChunk {
        let nonNull = dense.count
        if config.delta {
            let bits32 = width == 4
            var tmp: [UInt8] = []
            var vals: [Int64] = []
            try writePages(n: n, levels: levels, bytesPerValue: width, encoding: PEncoding.deltaBinaryPacked) { d0, d1 in
                vals.removeAll(keepingCapacity: true)
                for k in d0 ..< d1 { vals.append(bits32 ? Int64(Int32(truncatingIfNeeded: dense[k])) : Int64(bitPattern: dense[k])) }
                tmp.removeAll(keepingCapacity: true)
                let one: [Int64] = [0]
                (vals.isEmpty ? one : vals).withUnsafeBufferPointer { DeltaEncoder.encode($0.baseAddress!, count: vals.count, bits32: bits32, into: &tmp) }
                tmp.withUnsafeBytes { page.append($0.baseAddress!, $0.count) }
            }
            return finish(stats: stats, n: n, dictRel: nil)
        }
        if config.dictionary && nonNull > 0 {
            var dict = FixedDictBuilder()
            var indices = [UInt32](repeating: 0, count: nonNull)
            let limit = config.dictionaryPageSizeLimit / width
            var ok = true
            indices.withUnsafeMutableBufferPointer { idx in
                for i in 0 ..< nonNull {
                    idx[i] = dict.insert(dense[i])
                    if dict.values.count > limit { ok = false; break }
                }
            }
            if ok {
                // Dictionary page (PLAIN values).
                page.reset()
                let p = page.append(uninitialized: dict.values.count * width)
                for (i, v) in dict.values.enumerated() {
                    if width == 4 { p.storeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian, toByteOffset: i * 4, as: UInt32.self) } else { p.storeBytes(of: v.littleEndian, toByteOffset: i * 8, as: UInt64.self) }
                }
                let dictRel = out.count
                try writeDictionaryPage(count: dict.values.count)
                try writeIndexPages(indices, dictSize: dict.values.count, n: n, levels: levels)
                return finish(stats: stats, n: n, dictRel: dictRel)
            }
        }
        try writePlainPages(n: n, nonNull: nonNull, levels: levels, bytesPerValue: width) { d0, d1, pg in
            let cnt = d1 - d0
            let p = pg.append(uninitialized: cnt * width)
            dense.withUnsafeBufferPointer { src in
                if width == 8 {
                    memcpy(p, src.baseAddress! + d0, cnt * 8)
                } else {
                    let q = p.assumingMemoryBound(to: UInt32.self)
                    for k in 0 ..< cnt { q[k] = UInt32(truncatingIfNeeded: src[d0 + k]) }
                }
            }
        }
        return finish(stats: stats, n: n, dictRel: nil)
    }

    // MARK: Binary values

    private func encodeBinary(_ b: ParquetBinaryArray, _ range: Range<Int>, _ validity: [Bool]?, n: Int, nonNull: Int,
                              levels: [UInt8], stats: PStatistics) throws -> EncodedChunk {
        var stats = stats
        let fixedLen: Int? = { if case .fixedLenByteArray(let l) = column.physical { return l } else { return nil } }()
        // Dense (start, length) pairs.
        var starts = [Int](repeating: 0, count: nonNull)
        var lens = [Int](repeating: 0, count: nonNull)
        var totalBytes = 0
        try b.offsets.withUnsafeBufferPointer { off in
            var k = 0
            for i in range {
                if let validity, !validity[i] { continue }
                let s = off[i], l = off[i + 1] - s
                guard l >= 0 else { throw ParquetError.corrupt("invalid binary offsets in column '\(column.name)'") }
                if let fixedLen, l != fixedLen {
                    throw ParquetError.corrupt("value of \(l) bytes in FIXED_LEN_BYTE_ARRAY(\(fixedLen)) column '\(column.name)'")
                }
                starts[k] = s
                lens[k] = l
                totalBytes += l
                k += 1
            }
        }
        return try b.bytes.withUnsafeBytes { raw -> EncodedChunk in
            let base = raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
            if config.dictionary && nonNull > 0 {
                let dict = BinaryDictBuilder()
                var indices = [UInt32](repeating: 0, count: nonNull)
                var ok = true
                let limit = config.dictionaryPageSizeLimit
                indices.withUnsafeMutableBufferPointer { idx in
                    for i in 0 ..< nonNull {
                        idx[i] = dict.insert(base + starts[i], lens[i])
                        if dict.data.count + 4 * dict.count > limit { ok = false; break }
                    }
                }
                if ok {
                    if config.statistics {
                        // min/max over the distinct values only
                        let ds = Array(dict.offsets.dropLast())
                        let dl = (0 ..< dict.count).map { dict.offsets[$0 + 1] - dict.offsets[$0] }
                        binaryStats(UnsafeRawPointer(dict.data.ptr), ds, dl, &stats)
                    }
                    page.reset()
                    for i in 0 ..< dict.count {
                        let s = dict.offsets[i], l = dict.offsets[i + 1] - s
                        if fixedLen == nil {
                            page.append(uninitialized: 4).storeBytes(of: UInt32(l).littleEndian, as: UInt32.self)
                        }
                        page.append(dict.data.ptr + s, l)
                    }
                    let dictRel = out.count
                    try writeDictionaryPage(count: dict.count)
                    try writeIndexPages(indices, dictSize: dict.count, n: n, levels: levels)
                    return finish(stats: stats, n: n, dictRel: dictRel)
                }
            }
            if config.statistics && nonNull > 0 {
                binaryStats(base, starts, lens, &stats)
            }
            let avg = nonNull > 0 ? totalBytes / nonNull + (fixedLen == nil ? 4 : 0) : 1
            try writePlainPages(n: n, nonNull: nonNull, levels: levels, bytesPerValue: max(avg, 1)) { d0, d1, pg in
                var bytes = 0
                for k in d0 ..< d1 { bytes += lens[k] }
                let prefix = fixedLen == nil ? 4 : 0
                var p = pg.append(uninitialized: bytes + prefix * (d1 - d0))
                for k in d0 ..< d1 {
                    let l = lens[k]
                    if prefix > 0 {
                        p.storeBytes(of: UInt32(l).littleEndian, as: UInt32.self)
                        p += 4
                    }
                    memcpy(p, base + starts[k], l)
                    p += l
                }
            }
            return finish(stats: stats, n: n, dictRel: nil)
        }
    }

    private func binaryStats(_ base: UnsafeRawPointer, _ starts: [Int], _ lens: [Int], _ s: inout PStatistics) {
        let decimal: Bool = { if case .decimal = column.logical { return true } else { return false } }()
        if decimal, case .byteArray = column.physical { return } // variable-length decimal order not implemented
        @inline(__always) func less(_ a: Int, _ b: Int) -> Bool {
            let la = lens[a], lb = lens[b]
            let pa = base + starts[a], pb = base + starts[b]
            if decimal && la > 0 && lb > 0 {
                let na = pa.load(as: UInt8.self) & 0x80 != 0, nb = pb.load(as: UInt8.self) & 0x80 != 0
                if na != nb { return na }
            }
            let c = memcmp(pa, pb, min(la, lb))
            return c < 0 || (c == 0 && la < lb)
        }
        var mn = 0, mx = 0
        for i in 1 ..< starts.count {
            if less(i, mn) { mn = i }
            if less(mx, i) { mx = i }
        }
        guard lens[mn] <= config.maxStatisticsSize, lens[mx] <= config.maxStatisticsSize else { return }
        s.minValue = Array(UnsafeRawBufferPointer(start: base + starts[mn], count: lens[mn]))
        s.maxValue = Array(UnsafeRawBufferPointer(start: base + starts[mx], count: lens[mx]))
    }

    // MARK: Pages

    private func writeDictionaryPage(count: Int) throws {
        try checkPageSize(page.count)
        try Compression.compress(config.codec, UnsafeRawBufferPointer(start: page.ptr, count: page.count), into: &compressed, level: config.compressionLevel)
        var h = PPageHeader()
        h.type = PPageType.dictionaryPage
        h.uncompressedPageSize = Int32(page.count)
        h.compressedPageSize = Int32(compressed.count)
        h.dictionaryPage = PDictionaryPageHeader(numValues: Int32(count), encoding: PEncoding.plain)
        emit(h, body: compressed, uncompressedBody: page.count)
        encodings.insert(PEncoding.plain)
    }

    private func checkPageSize(_ n: Int) throws {
        guard n <= Int(Int32.max) else { throw ParquetError.corrupt("page of \(n) bytes exceeds the 2 GiB page limit") }
    }

    private func emit(_ h: PPageHeader, body: [UInt8], uncompressedBody: Int, prefix: [UInt8] = []) {
        var w = ThriftWriter()
        w.writePageHeader(h)
        w.out.withUnsafeBytes { out.append($0.baseAddress!, $0.count) }
        if !prefix.isEmpty { prefix.withUnsafeBytes { out.append($0.baseAddress!, $0.count) } }
        body.withUnsafeBytes { if $0.count > 0 { out.append($0.baseAddress!, $0.count) } }
        uncompressedTotal += w.out.count + prefix.count + uncompressedBody
    }

    /// Splits the chunk into pages of about `pageSize` bytes and writes each; `fill(d0, d1, page)` appends
    /// the encoded dense values d0..<d1.
    private func writePlainPages(n: Int, nonNull: Int, levels: [UInt8], bytesPerValue: Int,
                                 _ fill: (Int, Int, RawBuf) throws -> Void) throws {
        try writePages(n: n, levels: levels, bytesPerValue: bytesPerValue, encoding: PEncoding.plain) { d0, d1 in
            try fill(d0, d1, page)
        }
    }

    private func writeIndexPages(_ indices: [UInt32], dictSize: Int, n: Int, levels: [UInt8]) throws {
        let width = Bits.width(of: UInt64(max(dictSize - 1, 0)))
        var tmp: [UInt8] = []
        try writePages(n: n, levels: levels, bytesPerValue: max(1, (width + 7) / 8), encoding: PEncoding.rleDictionary) { d0, d1 in
            tmp.removeAll(keepingCapacity: true)
            tmp.append(UInt8(width))
            indices.withUnsafeBufferPointer { RLEEncoder.encode($0.baseAddress! + d0, count: d1 - d0, width: width, into: &tmp) }
            tmp.withUnsafeBytes { page.append($0.baseAddress!, $0.count) }
        }
    }

    private func writePages(n: Int, levels: [UInt8], bytesPerValue: Int, encoding: Int32, _ values: (Int, Int) throws -> Void) throws {
        encodings.insert(encoding)
        if firstDataPageRel < 0 { firstDataPageRel = out.count }
        if column.optional { encodings.insert(PEncoding.rle) }
        let rowsPerPage = max(1, min(n, config.pageSize / max(bytesPerValue, 1)))
        var row = 0
        var dense = 0
        repeat {
            let r1 = min(n, row + rowsPerPage)
            let cnt = r1 - row
            var nonNullInPage = cnt
            levelBytes.removeAll(keepingCapacity: true)
            if column.optional {
                if levels.isEmpty {
                    if cnt > 0 { RLEEncoder.encodeRun(1, count: cnt, width: 1, into: &levelBytes) }
                } else {
                    var c = 0
                    levels.withUnsafeBufferPointer { l in
                        for i in row ..< r1 { c &+= Int(l[i]) }
                        RLEEncoder.encode(l.baseAddress! + row, count: cnt, width: 1, into: &levelBytes)
                    }
                    nonNullInPage = c
                }
            }
            page.reset()
            var h = PPageHeader()
            if config.dataPageVersion == 2 {
                try values(dense, dense + nonNullInPage)
                try checkPageSize(page.count + levelBytes.count)
                let raw = page.count
                try Compression.compress(config.codec, UnsafeRawBufferPointer(start: page.ptr, count: page.count), into: &compressed, level: config.compressionLevel)
                h.type = PPageType.dataPageV2
                h.uncompressedPageSize = Int32(levelBytes.count + raw)
                h.compressedPageSize = Int32(levelBytes.count + compressed.count)
                h.dataPageV2 = PDataPageHeaderV2(numValues: Int32(cnt), numNulls: Int32(cnt - nonNullInPage), numRows: Int32(cnt),
                                                 encoding: encoding, definitionLevelsByteLength: Int32(levelBytes.count),
                                                 repetitionLevelsByteLength: 0, isCompressed: config.codec != .uncompressed)
                emit(h, body: compressed, uncompressedBody: raw, prefix: levelBytes)
            } else {
                if column.optional {
                    page.append(uninitialized: 4).storeBytes(of: UInt32(levelBytes.count).littleEndian, as: UInt32.self)
                    levelBytes.withUnsafeBytes { if $0.count > 0 { page.append($0.baseAddress!, $0.count) } }
                }
                try values(dense, dense + nonNullInPage)
                try checkPageSize(page.count)
                try Compression.compress(config.codec, UnsafeRawBufferPointer(start: page.ptr, count: page.count), into: &compressed, level: config.compressionLevel)
                h.type = PPageType.dataPage
                h.uncompressedPageSize = Int32(page.count)
                h.compressedPageSize = Int32(compressed.count)
                h.dataPage = PDataPageHeader(numValues: Int32(cnt), encoding: encoding, definitionLevelEncoding: PEncoding.rle,
                                             repetitionLevelEncoding: PEncoding.rle)
                emit(h, body: compressed, uncompressedBody: page.count)
            }
            dense += nonNullInPage
            row = r1
        } while row < n
    }

    private var firstDataPageRel = -1

    private func finish(stats: PStatistics, n: Int, dictRel: Int?) -> EncodedChunk {
        EncodedChunk(bytes: out, dictionaryPageRel: dictRel, dataPageRel: max(firstDataPageRel, 0), uncompressedSize: uncompressedTotal,
                     encodings: encodings.sorted(), statistics: config.statistics ? stats : nil, numValues: n)
    }
}
