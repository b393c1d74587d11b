// Page compression through libsnappy, libzstd and zlib. Decompression checks the produced size against the
// size announced by the page header and never allocates more than that (nor more than the data can produce
// for snappy, whose header states the exact size).

import CSnappy
import CSystemZlib
import CZstd

enum Compression {
    /// Compresses `src` with `codec`, replacing the contents of `dst`.
    static func compress(_ codec: ParquetCodec, _ src: UnsafeRawBufferPointer, into dst: inout [UInt8], level: Int32? = nil) throws {
        switch codec {
        case .uncompressed:
            dst.removeAll(keepingCapacity: true)
            dst.append(contentsOf: src)
        case .snappy:
            let cap = snappy_max_compressed_length(src.count)
            resize(&dst, cap)
            var outLen = cap
            let one: [CChar] = [0]
            let st = one.withUnsafeBufferPointer { e in
                dst.withUnsafeMutableBytes { d in
                    snappy_compress(src.baseAddress?.assumingMemoryBound(to: CChar.self) ?? e.baseAddress!, src.count,
                                    d.baseAddress!.assumingMemoryBound(to: CChar.self), &outLen)
                }
            }
            guard st == SNAPPY_OK else { throw ParquetError.corrupt("snappy compression failed") }
            dst.removeSubrange(outLen...)
        case .zstd:
            let cap = ZSTD_compressBound(src.count)
            resize(&dst, cap)
            let n = dst.withUnsafeMutableBytes { d in
                ZSTD_compress(d.baseAddress, cap, src.baseAddress, src.count, level ?? 1)
            }
            guard ZSTD_isError(n) == 0 else { throw ParquetError.corrupt("zstd compression failed") }
            dst.removeSubrange(n...)
        case .gzip:
            var strm = z_stream()
            let lvl = level ?? 6
            guard deflateInit2_(&strm, lvl, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                throw ParquetError.corrupt("gzip compression init failed")
            }
            defer { deflateEnd(&strm) }
            let cap = Int(deflateBound(&strm, uLong(src.count))) + 64
            resize(&dst, cap)
            let produced: Int = try dst.withUnsafeMutableBytes { d in
                strm.next_in = UnsafeMutablePointer(mutating: src.baseAddress?.assumingMemoryBound(to: Bytef.self))
                strm.avail_in = uInt(src.count)
                strm.next_out = d.baseAddress!.assumingMemoryBound(to: Bytef.self)
                strm.avail_out = uInt(cap)
                let rc = deflate(&strm, Z_FINISH)
                guard rc == Z_STREAM_END else { throw ParquetError.corrupt("gzip compression failed (\(rc))") }
                return Int(strm.total_out)
            }
            dst.removeSubrange(produced...)
        }
    }

    private static func resize(_ a: inout [UInt8], _ n: Int) {
        if a.count < n { a.append(contentsOf: repeatElement(0, count: n - a.count)) } else if a.count > n { a.removeSubrange(n...) }
    }

    /// Decompresses `src` (exactly `expected` bytes must come out) into `dst` (`dst.count == expected` after).
    static func decompress(_ codec: ParquetCodec, _ src: UnsafeRawBufferPointer, expected: Int, into dst: inout [UInt8]) throws {
        guard expected >= 0 else { throw ParquetError.corrupt("negative uncompressed page size") }
        if expected == 0 && codec != .uncompressed {
            // Nothing to produce (e.g. the values of an all-null v2 page).
            dst.removeAll(keepingCapacity: true)
            return
        }
        switch codec {
        case .uncompressed:
            guard src.count == expected else { throw ParquetError.corrupt("uncompressed page size \(src.count) differs from header's \(expected)") }
            dst.removeAll(keepingCapacity: true)
            dst.append(contentsOf: src)
        case .snappy:
            // A snappy element expands at most ~21x (3-byte copy of 64 bytes): reject impossible sizes before allocating.
            guard expected <= src.count * 22 + 64 else {
                throw ParquetError.corrupt("page header's uncompressed size \(expected) is impossible for \(src.count) snappy bytes")
            }
            var len = 0
            let base = src.baseAddress?.assumingMemoryBound(to: CChar.self)
            guard let base, snappy_uncompressed_length(base, src.count, &len) == SNAPPY_OK else {
                throw ParquetError.corrupt("corrupt snappy data")
            }
            guard len == expected else { throw ParquetError.corrupt("snappy decompressed size \(len) differs from page header's \(expected)") }
            resize(&dst, expected)
            var outLen = expected
            let st = dst.withUnsafeMutableBytes { d in
                snappy_uncompress(base, src.count, d.baseAddress?.assumingMemoryBound(to: CChar.self) ?? UnsafeMutablePointer(mutating: base), &outLen)
            }
            guard st == SNAPPY_OK, outLen == expected else { throw ParquetError.corrupt("corrupt snappy data") }
        case .zstd:
            guard src.count > 0 else { throw ParquetError.corrupt("empty zstd page") }
            let fcs = ZSTD_getFrameContentSize(src.baseAddress, src.count)
            // ZSTD_CONTENTSIZE_ERROR = -2, ZSTD_CONTENTSIZE_UNKNOWN = -1
            if fcs == UInt64.max - 1 { throw ParquetError.corrupt("corrupt zstd data") }
            if fcs != UInt64.max && fcs != UInt64(expected) {
                throw ParquetError.corrupt("zstd decompressed size \(fcs) differs from page header's \(expected)")
            }
            try zstdStream(src, expected: expected, into: &dst)
        case .gzip:
            try inflateStream(src, expected: expected, into: &dst)
        }
    }

    /// Streams output in growing chunks so that the allocation follows what the data really produces.
    private static func zstdStream(_ src: UnsafeRawBufferPointer, expected: Int, into dst: inout [UInt8]) throws {
        guard let ds = ZSTD_createDStream() else { throw ParquetError.corrupt("zstd init failed") }
        defer { ZSTD_freeDStream(ds) }
        ZSTD_initDStream(ds)
        var produced = 0
        var cap = min(expected, max(src.count * 8, 1 << 16))
        resize(&dst, cap)
        var input = ZSTD_inBuffer(src: src.baseAddress, size: src.count, pos: 0)
        while true {
            let rc: Int = dst.withUnsafeMutableBytes { d in
                var out = ZSTD_outBuffer(dst: d.baseAddress! + produced, size: cap - produced, pos: 0)
                let r = ZSTD_decompressStream(ds, &out, &input)
                produced += out.pos
                return ZSTD_isError(r) != 0 ? -1 : r
            }
            if rc < 0 { throw ParquetError.corrupt("corrupt zstd data") }
            if rc == 0 && input.pos == input.size { break } // frame complete, all input used
            if produced == cap {
                if cap == expected {
                    // Output full: any further output is a size mismatch.
                    var probe = [UInt8](repeating: 0, count: 1)
                    let extra: Int = probe.withUnsafeMutableBytes { p in
                        var out = ZSTD_outBuffer(dst: p.baseAddress, size: 1, pos: 0)
                        let r = ZSTD_decompressStream(ds, &out, &input)
                        return ZSTD_isError(r) != 0 ? -1 : out.pos
                    }
                    if extra != 0 { throw ParquetError.corrupt("zstd data decompresses to more than the page header's \(expected) bytes") }
                    break
                }
                cap = min(expected, cap * 2)
                resize(&dst, cap)
            } else if input.pos == input.size && rc != 0 {
                throw ParquetError.corrupt("truncated zstd data")
            }
        }
        guard produced == expected else { throw ParquetError.corrupt("zstd decompressed size \(produced) differs from page header's \(expected)") }
        resize(&dst, expected)
    }

    private static func inflateStream(_ src: UnsafeRawBufferPointer, expected: Int, into dst: inout [UInt8]) throws {
        var strm = z_stream()
        guard inflateInit2_(&strm, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ParquetError.corrupt("gzip init failed")
        }
        defer { inflateEnd(&strm) }
        strm.next_in = UnsafeMutablePointer(mutating: src.baseAddress?.assumingMemoryBound(to: Bytef.self))
        strm.avail_in = uInt(src.count)
        var produced = 0
        var cap = min(expected, max(src.count * 4, 1 << 16))
        resize(&dst, max(cap, 1))
        while true {
            let rc: Int32 = dst.withUnsafeMutableBytes { d in
                strm.next_out = d.baseAddress!.assumingMemoryBound(to: Bytef.self) + produced
                let room = d.count - produced
                strm.avail_out = uInt(room)
                let r = inflate(&strm, Z_NO_FLUSH)
                produced += room - Int(strm.avail_out)
                return r
            }
            if rc == Z_STREAM_END { break }
            guard rc == Z_OK || rc == Z_BUF_ERROR else { throw ParquetError.corrupt("corrupt gzip data (\(rc))") }
            if strm.avail_out == 0 {
                if cap >= expected {
                    throw ParquetError.corrupt("gzip data decompresses to more than the page header's \(expected) bytes")
                }
                cap = min(expected, cap * 2)
                resize(&dst, max(cap, 1))
            } else if strm.avail_in == 0 || rc == Z_BUF_ERROR {
                throw ParquetError.corrupt("truncated gzip data")
            }
        }
        guard produced == expected else { throw ParquetError.corrupt("gzip decompressed size \(produced) differs from page header's \(expected)") }
        resize(&dst, expected)
    }
}
