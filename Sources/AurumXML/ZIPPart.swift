import Foundation
import ZIPFoundation

/// Inflates one deflated part of a workbook through ZIPFoundation's inflater, but with its input
/// bounded by the entry's compressed size.
///
/// Why not `Archive.extract` for deflated parts: ZIPFoundation 0.9.20's Linux decoder (`Data.decode`)
/// reads on past the entry to the end of the archive, tells zlib a full buffer is there even when fewer
/// bytes were read, and loops forever once the file is exhausted before the deflate stream ends (a
/// corrupt or truncated part; found by Fuzz/FuzzXLSX, reproducer in Fuzz/Regressions/FuzzXLSX). Here
/// the provider hands it exactly the entry's bytes, zero-padded to the size it asked for, and throws once
/// they are used up. Stored (uncompressed) parts still go through `Archive.extract`, which is bounded.
enum ZIPPart {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// Offsets of the entries' local headers, by name (first occurrence), from the central directory
    /// (ZIPFoundation keeps them internal).
    static func localHeaderOffsets(_ fh: FileHandle) throws -> [String: UInt64] {
        let size = try fh.seekToEnd()
        let tailLength = min(size, 65_557)  // EOCD (22 bytes) + the longest comment
        let tail = try read(fh, at: size - tailLength, Int(tailLength))
        guard tail.count >= 22, let eocd = stride(from: tail.count - 22, through: 0, by: -1).first(where: { u32(tail, $0) == 0x0605_4b50 }) else {
            throw Failure("no end of central directory record")
        }
        var cdSize = UInt64(u32(tail, eocd + 12)), cdOffset = UInt64(u32(tail, eocd + 16))
        if cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF, eocd >= 20, u32(tail, eocd - 20) == 0x0706_4b50 {
            let r = try read(fh, at: min(u64(tail, eocd - 12), size), 56)
            guard r.count == 56, u32(r, 0) == 0x0606_4b50 else { throw Failure("corrupt ZIP64 end of central directory record") }
            cdSize = u64(r, 40)
            cdOffset = u64(r, 48)
        }
        guard cdOffset <= size, cdSize <= size - cdOffset, cdSize <= 1 << 30 else {
            throw Failure("central directory (offset \(cdOffset), \(cdSize) bytes) lies beyond the end of the file")
        }
        let cd = try read(fh, at: cdOffset, Int(cdSize))
        var out: [String: UInt64] = [:]
        var p = 0
        while p + 46 <= cd.count, u32(cd, p) == 0x0201_4b50 {
            let n = Int(u16(cd, p + 28)), x = Int(u16(cd, p + 30)), c = Int(u16(cd, p + 32))
            guard p + 46 + n + x <= cd.count else { break }
            var offset = UInt64(u32(cd, p + 42))
            if offset == 0xFFFF_FFFF {
                // ZIP64 extended information (0x0001): the 8-byte values present are, in order, the
                // uncompressed size, compressed size and local header offset of those that are 0xFFFFFFFF.
                var e = p + 46 + n
                while e + 4 <= p + 46 + n + x {
                    let id = u16(cd, e), len = Int(u16(cd, e + 2))
                    if id == 1 {
                        var k = e + 4
                        if u32(cd, p + 24) == 0xFFFF_FFFF { k += 8 }
                        if u32(cd, p + 20) == 0xFFFF_FFFF { k += 8 }
                        if k + 8 <= min(e + 4 + len, cd.count) { offset = u64(cd, k) }
                        break
                    }
                    e += 4 + len
                }
            }
            let name = String(decoding: cd[p + 46 ..< p + 46 + n], as: UTF8.self)
            if out[name] == nil { out[name] = offset }
            p += 46 + n + x + c
        }
        return out
    }

    /// Inflates `entry` (deflated, its local header at `headerOffset`) into a new file at `file`.
    static func inflate(_ entry: Entry, from fh: FileHandle, headerOffset: UInt64, to file: String) throws {
        let size = try fh.seekToEnd()
        let header = try read(fh, at: min(headerOffset, size), 30)
        guard header.count == 30, u32(header, 0) == 0x0403_4b50 else { throw Failure("no local file header at offset \(headerOffset)") }
        let dataOffset = headerOffset + 30 + UInt64(u16(header, 26)) + UInt64(u16(header, 28))
        let compressed = entry.compressedSize, limit = entry.uncompressedSize
        guard dataOffset <= size, compressed <= size - dataOffset else {
            throw Failure("its \(compressed) compressed bytes lie beyond the end of the file")
        }
        guard FileManager.default.createFile(atPath: file, contents: nil), let out = FileHandle(forWritingAtPath: file) else {
            throw Failure("cannot create \(file)")
        }
        defer { try? out.close() }
        var given: UInt64 = 0, produced: UInt64 = 0
        let crc = try Data.decompress(size: Int64(compressed), bufferSize: defaultReadChunkSize, skipCRC32: false, provider: { _, chunkSize in
            guard given < compressed else { throw Failure("truncated or corrupt deflate data (the stream does not end within its \(compressed) bytes)") }
            let want = Int(min(UInt64(chunkSize), compressed - given))
            var d = try read(fh, at: dataOffset + given, want)
            guard d.count == want else { throw Failure("unexpected end of file") }
            given += UInt64(want)
            if want < chunkSize { d.append(Data(count: chunkSize - want)) }  // the decoder assumes full chunks
            return d
        }, consumer: { d in
            produced += UInt64(d.count)
            guard produced <= limit else { throw Failure("it inflates to more than the \(limit) bytes its entry declares") }
            try out.write(contentsOf: d)
        })
        guard crc == entry.checksum else { throw Failure("CRC32 mismatch") }
    }

    private static func read(_ fh: FileHandle, at offset: UInt64, _ count: Int) throws -> Data {
        try fh.seek(toOffset: offset)
        return count == 0 ? Data() : (try fh.read(upToCount: count) ?? Data())
    }

    private static func u16<C: RandomAccessCollection>(_ b: C, _ i: Int) -> UInt16 where C.Element == UInt8, C.Index == Int {
        guard i >= 0, i + 2 <= b.endIndex - b.startIndex else { return 0 }
        let s = b.startIndex + i
        return UInt16(b[s]) | UInt16(b[s + 1]) << 8
    }

    private static func u32<C: RandomAccessCollection>(_ b: C, _ i: Int) -> UInt32 where C.Element == UInt8, C.Index == Int {
        UInt32(u16(b, i)) | UInt32(u16(b, i + 2)) << 16
    }

    private static func u64<C: RandomAccessCollection>(_ b: C, _ i: Int) -> UInt64 where C.Element == UInt8, C.Index == Int {
        UInt64(u32(b, i)) | UInt64(u32(b, i + 4)) << 32
    }
}
