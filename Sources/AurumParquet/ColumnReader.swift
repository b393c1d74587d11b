// Decodes one column chunk (all its pages) into typed, spaced column storage.

import Foundation

/// Resolved description of a leaf column.
struct ColumnSpec: Sendable {
    let column: ParquetColumn
    let ptype: PType
    let typeLength: Int
    let maxDef: Int

    /// Bytes per slot in the fixed-width output (0 for binary kinds).
    var width: Int {
        switch ptype {
        case .boolean: return 1
        case .int32, .float: return 4
        case .int64, .double, .int96: return 8
        case .byteArray, .fixedLenByteArray: return 0
        }
    }
}

final class ChunkDecoder {
    /// The most bytes one column chunk may decode to (slots, and value bytes of binary columns): the
    /// guard against pages that expand without bound (RLE runs, dictionary indices, delta prefixes).
    static let maxDecodedBytes = 1 << 30

    let spec: ColumnSpec
    let codec: ParquetCodec
    let width: Int
    let isBinary: Bool

    // Output
    let values = RawBuf()
    let offsets = RawBuf() // Int end offsets, first entry 0
    let data = RawBuf()
    let validity: RawBuf?
    var slots = 0
    var nulls = 0

    // Dictionary
    var dictCount = -1
    let dictFixed = RawBuf()
    var dictOffsets: [Int] = []
    let dictData = RawBuf()

    // Scratch
    var pageBuf: [UInt8] = []
    var indices: [UInt32] = []
    var i64Scratch: [Int64] = []

    init(spec: ColumnSpec, codec: ParquetCodec, expectedRows: Int) {
        self.spec = spec
        self.codec = codec
        width = spec.width
        isBinary = width == 0
        validity = spec.maxDef > 0 ? RawBuf(capacity: min(expectedRows, 1 << 20)) : nil
        let reserve = min(expectedRows, 1 << 20)
        if isBinary {
            offsets.ensure((reserve + 1) * 8)
            offsets.append(uninitialized: 8).storeBytes(of: 0, as: Int.self)
        } else {
            values.ensure(reserve * width)
        }
    }

    // MARK: Chunk loop

    func decodeChunk(_ chunk: UnsafeRawBufferPointer, numValues: Int) throws {
        var pos = 0
        while slots < numValues {
            guard pos < chunk.count else {
                throw ParquetError.corrupt("column chunk ends after \(slots) of \(numValues) values")
            }
            var r = ThriftReader(chunk, pos: pos)
            let header: PPageHeader
            do { header = try r.readPageHeader() } catch let e as ParquetError {
                throw ParquetError.corrupt("corrupt page header at chunk offset \(pos): \(e.message)")
            }
            pos = r.pos
            let csize = Int(header.compressedPageSize)
            let usize = Int(header.uncompressedPageSize)
            guard csize >= 0, usize >= 0 else { throw ParquetError.corrupt("negative page size") }
            guard csize <= chunk.count - pos else {
                throw ParquetError.corrupt("page size \(csize) exceeds the column chunk (\(chunk.count - pos) bytes left)")
            }
            let page = UnsafeRawBufferPointer(rebasing: chunk[pos ..< pos + csize])
            pos += csize
            switch header.type {
            case PPageType.dictionaryPage:
                guard let d = header.dictionaryPage else { throw ParquetError.corrupt("dictionary page without header") }
                guard dictCount < 0 else { throw ParquetError.corrupt("second dictionary page in column chunk") }
                try decompress(page, usize)
                try pageBuf.withUnsafeBytes { try decodeDictionary($0, count: Int(d.numValues), encoding: d.encoding) }
            case PPageType.dataPage:
                guard let d = header.dataPage else { throw ParquetError.corrupt("data page without header") }
                let n = Int(d.numValues)
                guard n >= 0, n <= numValues - slots else {
                    throw ParquetError.corrupt("data page holds \(n) values, more than the \(numValues - slots) left in the column chunk")
                }
                try decompress(page, usize)
                try pageBuf.withUnsafeBytes { buf in
                    var cur = ByteCursor(buf)
                    if spec.maxDef > 0 {
                        guard d.definitionLevelEncoding == PEncoding.rle else {
                            throw ParquetError.corrupt("unsupported definition level encoding \(PEncoding.name(d.definitionLevelEncoding))")
                        }
                        let len = Int(try cur.u32le())
                        guard len <= cur.remaining else { throw ParquetError.corrupt("definition levels length \(len) exceeds the page") }
                        let lv = UnsafeRawBufferPointer(rebasing: buf[cur.pos ..< cur.pos + len])
                        cur.pos += len
                        try decodeLevels(lv, count: n)
                    }
                    let nonNull = spec.maxDef > 0 ? countValid(n) : n
                    try decodeValues(UnsafeRawBufferPointer(rebasing: buf[cur.pos...]), encoding: d.encoding, slotsInPage: n, nonNull: nonNull)
                }
            case PPageType.dataPageV2:
                guard let d = header.dataPageV2 else { throw ParquetError.corrupt("data page v2 without header") }
                let n = Int(d.numValues)
                guard n >= 0, n <= numValues - slots else {
                    throw ParquetError.corrupt("data page holds \(n) values, more than the \(numValues - slots) left in the column chunk")
                }
                let rl = Int(d.repetitionLevelsByteLength), dl = Int(d.definitionLevelsByteLength)
                guard rl >= 0, dl >= 0, rl + dl <= csize, rl + dl <= usize else {
                    throw ParquetError.corrupt("level byte lengths exceed the page")
                }
                guard rl == 0 || spec.maxDef >= 0 else { throw ParquetError.corrupt("repetition levels in a flat column") }
                if spec.maxDef > 0 {
                    try decodeLevels(UnsafeRawBufferPointer(rebasing: page[rl ..< rl + dl]), count: n)
                }
                let nonNull = spec.maxDef > 0 ? countValid(n) : n
                let body = UnsafeRawBufferPointer(rebasing: page[(rl + dl)...])
                if d.isCompressed && codec != .uncompressed {
                    try decompress(body, usize - rl - dl)
                } else {
                    guard body.count == usize - rl - dl else {
                        throw ParquetError.corrupt("page size \(body.count) differs from header's \(usize - rl - dl)")
                    }
                    pageBuf.removeAll(keepingCapacity: true)
                    pageBuf.append(contentsOf: body)
                }
                try pageBuf.withUnsafeBytes { buf in
                    try decodeValues(buf, encoding: d.encoding, slotsInPage: n, nonNull: nonNull)
                }
            default:
                continue // index pages and unknown page types are skipped
            }
        }
    }

    private func decompress(_ page: UnsafeRawBufferPointer, _ usize: Int) throws {
        try Compression.decompress(codec, page, expected: usize, into: &pageBuf)
    }

    // MARK: Levels

    private func decodeLevels(_ buf: UnsafeRawBufferPointer, count: Int) throws {
        guard let validity else { return }
        let p = validity.append(uninitialized: count).assumingMemoryBound(to: UInt8.self)
        var dec = RLEDecoder(buf, width: 1)
        try dec.decode(into: p, count: count)
    }

    /// Counts valid slots among the last `n` validity entries (and records the nulls).
    private func countValid(_ n: Int) -> Int {
        guard let validity else { return n }
        let p = (validity.ptr + (validity.count - n)).assumingMemoryBound(to: UInt8.self)
        var c = 0
        for i in 0 ..< n { c &+= Int(p[i]) }
        nulls += n - c
        return c
    }

    // MARK: Dictionary

    private func decodeDictionary(_ buf: UnsafeRawBufferPointer, count: Int, encoding: Int32) throws {
        let buf = nonNil(buf)
        guard encoding == PEncoding.plain || encoding == PEncoding.plainDictionary else {
            throw ParquetError.corrupt("unsupported dictionary encoding \(PEncoding.name(encoding))")
        }
        guard count >= 0 else { throw ParquetError.corrupt("negative dictionary size") }
        if isBinary {
            dictOffsets = [0]
            dictOffsets.reserveCapacity(min(count, buf.count) + 1)
            if spec.ptype == .fixedLenByteArray {
                let w = spec.typeLength
                guard count * w <= buf.count else { throw ParquetError.corrupt("dictionary of \(count) values exceeds its page") }
                if count > 0 { dictData.append(buf.baseAddress!, count * w) }
                for i in 0 ..< count { dictOffsets.append((i + 1) * w) }
            } else {
                var cur = ByteCursor(buf)
                for _ in 0 ..< count {
                    let len = Int(try cur.u32le())
                    guard len <= cur.remaining else { throw ParquetError.corrupt("dictionary value length \(len) exceeds the page") }
                    dictData.append(buf.baseAddress! + cur.pos, len)
                    cur.pos += len
                    dictOffsets.append(dictData.count)
                }
            }
        } else {
            let out = try decodePlainFixed(buf, count: count, into: dictFixed)
            _ = out
        }
        dictCount = count
    }

    /// Decodes `count` PLAIN fixed-width values (output width) appended to `dst`; returns bytes consumed.
    @discardableResult
    private func decodePlainFixed(_ buf: UnsafeRawBufferPointer, count: Int, into dst: RawBuf) throws -> Int {
        switch spec.ptype {
        case .boolean:
            guard (count + 7) / 8 <= buf.count else { throw ParquetError.corrupt("boolean values exceed the page") }
            let p = dst.append(uninitialized: count).assumingMemoryBound(to: UInt8.self)
            if count > 0 { Bits.unpack32(buf.baseAddress!, srcBytes: buf.count, width: 1, count: count, into: p) }
            return (count + 7) / 8
        case .int96:
            guard count <= buf.count / 12 else { throw ParquetError.corrupt("INT96 values exceed the page") }
            let p = dst.append(uninitialized: count * 8).assumingMemoryBound(to: Int64.self)
            for i in 0 ..< count {
                let nanos = Int64(littleEndian: buf.loadUnaligned(fromByteOffset: i * 12, as: Int64.self))
                let day = Int64(Int32(littleEndian: buf.loadUnaligned(fromByteOffset: i * 12 + 8, as: Int32.self)))
                p[i] = (day &- 2_440_588) &* 86_400_000_000_000 &+ nanos
            }
            return count * 12
        default:
            let w = width
            guard count <= buf.count / w else {
                throw ParquetError.corrupt("\(count) values of \(w) bytes exceed the page (\(buf.count) bytes)")
            }
            if count > 0 { dst.append(buf.baseAddress!, count * w) }
            return count * w
        }
    }

    // MARK: Values

    /// Empty buffers may have a nil base address; give them a valid one so decoders can use `baseAddress!`.
    @inline(__always)
    private func nonNil(_ buf: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        buf.baseAddress != nil ? buf : UnsafeRawBufferPointer(start: ChunkDecoder.dummy, count: 0)
    }

    nonisolated(unsafe) static let dummy = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16)

    private func decodeValues(_ buf: UnsafeRawBufferPointer, encoding: Int32, slotsInPage n: Int, nonNull: Int) throws {
        let buf = nonNil(buf)
        if nonNull == 0 {
            // All nulls: whatever the encoding, there are no values to decode.
            if isBinary {
                let offs = appendOffsets(n)
                let end = data.count
                for i in 0 ..< n { offs[i] = end }
            } else {
                let p = values.append(uninitialized: n * width)
                if n > 0 { memset(p, 0, n * width) }
            }
            slots += n
            return
        }
        let validPtr: UnsafePointer<UInt8>? = (validity != nil && nonNull < n)
            ? UnsafePointer((validity!.ptr + (validity!.count - n)).assumingMemoryBound(to: UInt8.self)) : nil
        if isBinary {
            try decodeBinary(buf, encoding: encoding, n: n, nonNull: nonNull, valid: validPtr)
        } else {
            let base = values.count
            _ = values.append(uninitialized: n * width)
            values.count = base // decode dense values at `base`, then spread to slots
            try decodeFixedDense(buf, encoding: encoding, count: nonNull)
            guard values.count == base + nonNull * width else { throw ParquetError.corrupt("internal: value count mismatch") }
            values.count = base + n * width
            if let validPtr {
                let p = values.ptr + base
                switch width {
                case 1: spread(p.assumingMemoryBound(to: UInt8.self), n: n, dense: nonNull, valid: validPtr)
                case 4: spread(p.assumingMemoryBound(to: UInt32.self), n: n, dense: nonNull, valid: validPtr)
                default: spread(p.assumingMemoryBound(to: UInt64.self), n: n, dense: nonNull, valid: validPtr)
                }
            }
        }
        slots += n
    }

    /// Moves `dense` packed values to their slots (backwards, in place); null slots become 0.
    @inline(__always)
    private func spread<T: FixedWidthInteger>(_ p: UnsafeMutablePointer<T>, n: Int, dense: Int, valid: UnsafePointer<UInt8>) {
        var j = dense - 1
        var i = n - 1
        while i >= 0 {
            if i == j { break } // everything before is valid and already in place
            if valid[i] != 0 {
                p[i] = p[j]
                j -= 1
            } else {
                p[i] = 0
            }
            i -= 1
        }
    }

    private func decodeFixedDense(_ buf: UnsafeRawBufferPointer, encoding: Int32, count: Int) throws {
        switch encoding {
        case PEncoding.plain:
            try decodePlainFixed(buf, count: count, into: values)
        case PEncoding.plainDictionary, PEncoding.rleDictionary:
            try decodeIndices(buf, count: count)
            let p = values.append(uninitialized: count * width)
            try indices.withUnsafeBufferPointer { idx in
                switch width {
                case 1: try gather(dictFixed.ptr.assumingMemoryBound(to: UInt8.self), idx, p.assumingMemoryBound(to: UInt8.self), count)
                case 4: try gather(dictFixed.ptr.assumingMemoryBound(to: UInt32.self), idx, p.assumingMemoryBound(to: UInt32.self), count)
                default: try gather(dictFixed.ptr.assumingMemoryBound(to: UInt64.self), idx, p.assumingMemoryBound(to: UInt64.self), count)
                }
            }
        case PEncoding.rle where spec.ptype == .boolean:
            var cur = ByteCursor(buf)
            let len = Int(try cur.u32le())
            guard len <= cur.remaining else { throw ParquetError.corrupt("RLE boolean length exceeds the page") }
            var dec = RLEDecoder(UnsafeRawBufferPointer(rebasing: buf[4 ..< 4 + len]), width: 1)
            let p = values.append(uninitialized: count).assumingMemoryBound(to: UInt8.self)
            try dec.decode(into: p, count: count)
        case PEncoding.deltaBinaryPacked where spec.ptype == .int32 || spec.ptype == .int64:
            var dec = try DeltaBinaryPackedDecoder(buf)
            if i64Scratch.count < max(count, 1) { i64Scratch = [Int64](repeating: 0, count: max(count, 1)) }
            try i64Scratch.withUnsafeMutableBufferPointer { s in
                try dec.decode(into: s.baseAddress!, count: count, consumeAll: false)
                if spec.ptype == .int64 {
                    if count > 0 { values.append(s.baseAddress!, count * 8) }
                } else {
                    let p = values.append(uninitialized: count * 4).assumingMemoryBound(to: Int32.self)
                    for i in 0 ..< count { p[i] = Int32(truncatingIfNeeded: s[i]) }
                }
            }
        case PEncoding.byteStreamSplit where spec.ptype != .boolean && spec.ptype != .int96:
            let w = width
            guard count <= buf.count / w else { throw ParquetError.corrupt("BYTE_STREAM_SPLIT values exceed the page") }
            let p = values.append(uninitialized: count * w).assumingMemoryBound(to: UInt8.self)
            let src = buf.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let stride = buf.count / w // number of values stored in the streams
            guard stride >= count else { throw ParquetError.corrupt("BYTE_STREAM_SPLIT values exceed the page") }
            for k in 0 ..< w {
                let s = src + k * stride
                for i in 0 ..< count { p[i * w + k] = s[i] }
            }
        default:
            throw ParquetError.corrupt("unsupported encoding \(PEncoding.name(encoding)) for \(spec.column.physical)")
        }
    }

    @inline(__always)
    private func gather<T>(_ dict: UnsafePointer<T>, _ idx: UnsafeBufferPointer<UInt32>, _ out: UnsafeMutablePointer<T>, _ count: Int) throws {
        for i in 0 ..< count { out[i] = dict[Int(idx[i])] }
    }

    /// Decodes `count` dictionary indices (bit width byte + RLE hybrid) into `indices`, validated.
    private func decodeIndices(_ buf: UnsafeRawBufferPointer, count: Int) throws {
        guard dictCount >= 0 else { throw ParquetError.corrupt("dictionary-encoded page without a dictionary page") }
        if indices.count < count { indices = [UInt32](repeating: 0, count: count) }
        if count == 0 { return }
        guard buf.count >= 1 else { throw ParquetError.corrupt("dictionary indices truncated") }
        let w = Int(buf[0])
        guard w <= 32 else { throw ParquetError.corrupt("invalid dictionary index bit width \(w)") }
        var dec = RLEDecoder(buf, pos: 1, width: w)
        let dc = UInt32(truncatingIfNeeded: dictCount)
        try indices.withUnsafeMutableBufferPointer { b in
            try dec.decode(into: b.baseAddress!, count: count)
            var mx: UInt32 = 0
            for i in 0 ..< count { mx = max(mx, b[i]) }
            guard dictCount > 0, mx < dc else { throw ParquetError.corrupt("dictionary index \(mx) out of range (dictionary has \(dictCount) values)") }
        }
    }

    // MARK: Binary values

    @inline(__always)
    private func appendOffsets(_ n: Int) -> UnsafeMutablePointer<Int> {
        offsets.append(uninitialized: n * 8).assumingMemoryBound(to: Int.self)
    }

    private func decodeBinary(_ buf: UnsafeRawBufferPointer, encoding: Int32, n: Int, nonNull: Int, valid: UnsafePointer<UInt8>?) throws {
        let fixedLen = spec.ptype == .fixedLenByteArray ? spec.typeLength : -1
        switch encoding {
        case PEncoding.plain:
            let offs = appendOffsets(n)
            if fixedLen >= 0 {
                guard nonNull <= buf.count / max(fixedLen, 1) || fixedLen == 0 else {
                    throw ParquetError.corrupt("\(nonNull) values of \(fixedLen) bytes exceed the page")
                }
                let start = data.count
                if nonNull * fixedLen > 0 { data.append(buf.baseAddress!, nonNull * fixedLen) }
                var end = start
                for i in 0 ..< n {
                    if valid == nil || valid![i] != 0 { end += fixedLen }
                    offs[i] = end
                }
            } else {
                // Worst case all the page's bytes are value bytes.
                data.ensure(buf.count)
                let src = buf.baseAddress!
                var pos = 0
                let total = buf.count
                var dst = data.ptr + data.count
                var end = data.count
                for i in 0 ..< n {
                    if let valid, valid[i] == 0 {
                        offs[i] = end
                        continue
                    }
                    guard total - pos >= 4 else { throw ParquetError.corrupt("BYTE_ARRAY value length runs past the end of the page") }
                    let len = Int(UInt32(littleEndian: src.loadUnaligned(fromByteOffset: pos, as: UInt32.self)))
                    pos += 4
                    guard len <= total - pos else { throw ParquetError.corrupt("BYTE_ARRAY value length \(len) exceeds the page") }
                    memcpy(dst, src + pos, len)
                    dst += len
                    pos += len
                    end += len
                    offs[i] = end
                }
                data.count = end
            }
        case PEncoding.plainDictionary, PEncoding.rleDictionary:
            try decodeIndices(buf, count: nonNull)
            try indices.withUnsafeBufferPointer { idx in
                try dictOffsets.withUnsafeBufferPointer { dOff in
                    var total = 0
                    for k in 0 ..< nonNull {
                        let d = Int(idx[k])
                        total &+= dOff[d + 1] - dOff[d]
                    }
                    guard total <= ChunkDecoder.maxDecodedBytes - data.count else {
                        throw ParquetError.corrupt("dictionary-encoded values would decode to more than \(ChunkDecoder.maxDecodedBytes >> 20) MiB")
                    }
                    data.ensure(total)
                    let offs = appendOffsets(n)
                    let dsrc = dictData.ptr
                    var dst = data.ptr + data.count
                    var end = data.count
                    var k = 0
                    for i in 0 ..< n {
                        if let valid, valid[i] == 0 {
                            offs[i] = end
                            continue
                        }
                        let d = Int(idx[k])
                        k += 1
                        let s = dOff[d]
                        let len = dOff[d + 1] - s
                        memcpy(dst, dsrc + s, len)
                        dst += len
                        end += len
                        offs[i] = end
                    }
                    data.count = end
                }
            }
        case PEncoding.deltaLengthByteArray:
            var lens = [Int64](repeating: 0, count: max(nonNull, 1))
            var dec = try DeltaBinaryPackedDecoder(buf)
            guard dec.total == nonNull else { throw ParquetError.corrupt("DELTA_LENGTH_BYTE_ARRAY holds \(dec.total) lengths, \(nonNull) expected") }
            try lens.withUnsafeMutableBufferPointer { try dec.decode(into: $0.baseAddress!, count: nonNull, consumeAll: true) }
            var pos = dec.cur.pos
            let offs = appendOffsets(n)
            var end = data.count
            var k = 0
            for i in 0 ..< n {
                if let valid, valid[i] == 0 { offs[i] = end; continue }
                let len = lens[k]
                k += 1
                guard len >= 0, len <= Int64(buf.count - pos) else { throw ParquetError.corrupt("DELTA_LENGTH_BYTE_ARRAY value exceeds the page") }
                guard fixedLen < 0 || Int(len) == fixedLen else { throw ParquetError.corrupt("fixed-length value has length \(len)") }
                data.append(buf.baseAddress! + pos, Int(len))
                pos += Int(len)
                end += Int(len)
                offs[i] = end
            }
        case PEncoding.deltaByteArray:
            var prefixes = [Int64](repeating: 0, count: max(nonNull, 1))
            var dec = try DeltaBinaryPackedDecoder(buf)
            guard dec.total == nonNull else { throw ParquetError.corrupt("DELTA_BYTE_ARRAY holds \(dec.total) prefixes, \(nonNull) expected") }
            try prefixes.withUnsafeMutableBufferPointer { try dec.decode(into: $0.baseAddress!, count: nonNull, consumeAll: true) }
            var lens = [Int64](repeating: 0, count: max(nonNull, 1))
            var dec2 = try DeltaBinaryPackedDecoder(buf, pos: dec.cur.pos)
            guard dec2.total == nonNull else { throw ParquetError.corrupt("DELTA_BYTE_ARRAY holds \(dec2.total) suffixes, \(nonNull) expected") }
            try lens.withUnsafeMutableBufferPointer { try dec2.decode(into: $0.baseAddress!, count: nonNull, consumeAll: true) }
            var pos = dec2.cur.pos
            var prev: [UInt8] = []
            let offs = appendOffsets(n)
            var end = data.count
            var k = 0
            for i in 0 ..< n {
                if let valid, valid[i] == 0 { offs[i] = end; continue }
                let pre = prefixes[k], len = lens[k]
                k += 1
                guard pre >= 0, pre <= Int64(prev.count) else { throw ParquetError.corrupt("DELTA_BYTE_ARRAY prefix length \(pre) exceeds previous value") }
                guard len >= 0, len <= Int64(buf.count - pos) else { throw ParquetError.corrupt("DELTA_BYTE_ARRAY suffix exceeds the page") }
                prev.removeSubrange(Int(pre)...)
                prev.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[pos ..< pos + Int(len)]))
                pos += Int(len)
                guard fixedLen < 0 || prev.count == fixedLen else { throw ParquetError.corrupt("fixed-length value has length \(prev.count)") }
                guard prev.count <= ChunkDecoder.maxDecodedBytes - data.count else {
                    throw ParquetError.corrupt("DELTA_BYTE_ARRAY values would decode to more than \(ChunkDecoder.maxDecodedBytes >> 20) MiB")
                }
                prev.withUnsafeBytes { if $0.count > 0 { data.append($0.baseAddress!, $0.count) } }
                end += prev.count
                offs[i] = end
            }
        default:
            throw ParquetError.corrupt("unsupported encoding \(PEncoding.name(encoding)) for \(spec.column.physical)")
        }
    }

    // MARK: Result

    func result() -> ParquetColumnData {
        var valid: [Bool]? = nil
        if let validity, nulls > 0 { valid = validity.toArray(Bool.self) }
        let v: ParquetColumnValues
        switch spec.ptype {
        case .boolean: v = .boolean(values.toArray(Bool.self))
        case .int32: v = .int32(values.toArray(Int32.self))
        case .int64, .int96: v = .int64(values.toArray(Int64.self))
        case .float: v = .float(values.toArray(Float.self))
        case .double: v = .double(values.toArray(Double.self))
        case .byteArray, .fixedLenByteArray:
            v = .binary(ParquetBinaryArray(offsets: offsets.toArray(Int.self), bytes: data.toArray(UInt8.self)))
        }
        return ParquetColumnData(values: v, validity: valid)
    }
}
