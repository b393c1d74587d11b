import Foundation
import Testing
@testable import AurumParquet

/// Round trips of the low-level encoders/decoders, and the thrift layer.
@Suite struct EncodingTests {
    struct RNG {
        var s: UInt64
        mutating func next() -> UInt64 {
            s = s &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return s ^ (s >> 29)
        }
    }

    @Test(arguments: [0, 1, 2, 3, 5, 7, 8, 13, 16, 20, 31, 32])
    func rleHybrid(width: Int) throws {
        var rng = RNG(s: UInt64(width) + 1)
        let mask: UInt64 = width == 0 ? 0 : (width == 64 ? .max : (1 << UInt64(width)) - 1)
        for n in [1, 7, 8, 9, 100, 1000, 4097] {
            // Mix of runs and noise.
            var v = [UInt32]()
            while v.count < n {
                let x = UInt32(truncatingIfNeeded: rng.next() & mask)
                let run = rng.next() % 4 == 0 ? Int(rng.next() % 40) : 1
                v.append(contentsOf: repeatElement(x, count: min(run, n - v.count)))
                if v.count < n && run == 0 { v.append(x) }
            }
            var out: [UInt8] = []
            v.withUnsafeBufferPointer { RLEEncoder.encode($0.baseAddress!, count: n, width: width, into: &out) }
            var back = [UInt32](repeating: 0xFFFF_FFFF, count: n)
            try out.withUnsafeBytes { raw in
                var d = RLEDecoder(raw, width: width)
                try back.withUnsafeMutableBufferPointer { try d.decode(into: $0.baseAddress!, count: n) }
            }
            #expect(back == v, "width \(width) n \(n)")
        }
    }

    @Test func bitPackWide() throws {
        var rng = RNG(s: 99)
        for width in [33, 40, 56, 57, 63, 64] {
            let mask: UInt64 = width == 64 ? .max : (1 << UInt64(width)) - 1
            let v = (0 ..< 77).map { _ in rng.next() & mask }
            var out: [UInt8] = []
            v.withUnsafeBufferPointer { Bits.pack($0.baseAddress!, count: v.count, width: width, into: &out) }
            #expect(out.count == (77 * width + 7) / 8)
            var back = [UInt64](repeating: 0, count: v.count)
            out.withUnsafeBytes { raw in
                back.withUnsafeMutableBufferPointer { Bits.unpack64(raw.baseAddress!, srcBytes: raw.count, width: width, count: v.count, into: $0.baseAddress!) }
            }
            #expect(back == v, "width \(width)")
        }
    }

    @Test func deltaBinaryPacked() throws {
        var rng = RNG(s: 7)
        let cases: [[Int64]] = [
            [],
            [42],
            (0 ..< 1000).map { Int64($0) * 3 },
            (0 ..< 1000).map { _ in Int64(bitPattern: rng.next()) },
            [Int64.max, Int64.min, 0, -1, Int64.max, 1, Int64.min],
            (0 ..< 300).map { i in i % 2 == 0 ? 5 : -5 },
        ]
        for v in cases {
            var out: [UInt8] = []
            let buf = v.isEmpty ? [Int64(0)] : v
            buf.withUnsafeBufferPointer { DeltaEncoder.encode($0.baseAddress!, count: v.count, into: &out) }
            var back = [Int64](repeating: 0, count: max(v.count, 1))
            try out.withUnsafeBytes { raw in
                var d = try DeltaBinaryPackedDecoder(raw)
                #expect(d.total == v.count)
                try back.withUnsafeMutableBufferPointer { try d.decode(into: $0.baseAddress!, count: v.count, consumeAll: true) }
                #expect(d.cur.pos == raw.count)
            }
            #expect(Array(back.prefix(v.count)) == v)
        }
        // 32-bit mode
        let v32: [Int32] = [Int32.max, Int32.min, 0, 7, -7, Int32.max, Int32.min + 1]
        var out: [UInt8] = []
        let wide = v32.map { Int64($0) }
        wide.withUnsafeBufferPointer { DeltaEncoder.encode($0.baseAddress!, count: wide.count, bits32: true, into: &out) }
        var back = [Int64](repeating: 0, count: wide.count)
        try out.withUnsafeBytes { raw in
            var d = try DeltaBinaryPackedDecoder(raw)
            try back.withUnsafeMutableBufferPointer { try d.decode(into: $0.baseAddress!, count: wide.count, consumeAll: true) }
        }
        #expect(back.map { Int32(truncatingIfNeeded: $0) } == v32)
    }

    @Test func corruptStreamsThrow() throws {
        // Bit-packed run claiming far more than the buffer holds.
        let bad: [UInt8] = [0xFF, 0xFF, 0xFF, 0x0F, 1, 2]
        bad.withUnsafeBytes { raw in
            var d = RLEDecoder(raw, width: 8)
            var out = [UInt32](repeating: 0, count: 100)
            #expect(throws: ParquetError.self) { try out.withUnsafeMutableBufferPointer { try d.decode(into: $0.baseAddress!, count: 100) } }
            #expect(throws: ParquetError.self) { _ = try DeltaBinaryPackedDecoder(raw) }
        }
        // Thrift: list claiming more elements than bytes, deep nesting, huge binary.
        for bytes: [UInt8] in [[0x19, 0xF5, 0xFF, 0xFF, 0x0F], [UInt8](repeating: 0x1C, count: 500), [0x18, 0xFF, 0xFF, 0xFF, 0x7F, 0x41]] {
            bytes.withUnsafeBytes { raw in
                var r = ThriftReader(raw)
                #expect(throws: ParquetError.self) { _ = try r.readFileMetaData() }
            }
        }
    }

    @Test func thriftRoundTrip() throws {
        var h = PPageHeader()
        h.type = PPageType.dataPageV2
        h.uncompressedPageSize = 123_456
        h.compressedPageSize = 7
        h.dataPageV2 = PDataPageHeaderV2(numValues: 10, numNulls: 2, numRows: 10, encoding: 8, definitionLevelsByteLength: 3,
                                         repetitionLevelsByteLength: 0, isCompressed: false)
        var w = ThriftWriter()
        w.writePageHeader(h)
        let back = try w.out.withUnsafeBytes { raw -> PPageHeader in
            var r = ThriftReader(raw)
            let x = try r.readPageHeader()
            #expect(r.pos == raw.count)
            return x
        }
        #expect(back.type == h.type)
        #expect(back.uncompressedPageSize == 123_456)
        #expect(back.dataPageV2?.isCompressed == false)
        #expect(back.dataPageV2?.numNulls == 2)
        #expect(back.dataPageV2?.encoding == 8)
    }

    @Test func compressionRoundTrip() throws {
        let src = (0 ..< 100_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 13) }
        for codec in [ParquetCodec.uncompressed, .snappy, .gzip, .zstd] {
            var c: [UInt8] = []
            try src.withUnsafeBytes { try Compression.compress(codec, $0, into: &c) }
            var d: [UInt8] = []
            try c.withUnsafeBytes { try Compression.decompress(codec, $0, expected: src.count, into: &d) }
            #expect(d == src, "\(codec)")
            #expect(throws: ParquetError.self) {
                try c.withUnsafeBytes { try Compression.decompress(codec, $0, expected: src.count - 1, into: &d) }
            }
            #expect(throws: ParquetError.self) {
                try c.withUnsafeBytes { try Compression.decompress(codec, $0, expected: src.count + 1, into: &d) }
            }
        }
    }
}

@Suite struct DecimalTests {
    @Test func decimalText() {
        #expect(ParquetDecimal.string(unscaled: 12345, scale: 2) == "123.45")
        #expect(ParquetDecimal.string(unscaled: -5, scale: 3) == "-0.005")
        #expect(ParquetDecimal.string(unscaled: 0, scale: 2) == "0.00")
        #expect(ParquetDecimal.string(unscaled: Int64.min, scale: 0) == "-9223372036854775808")
        #expect(ParquetDecimal.string(bigEndian: [0x00, 0x30, 0x39], scale: 2) == "123.45")
        #expect(ParquetDecimal.string(bigEndian: [0xFF, 0xCF, 0xC7], scale: 2) == "-123.45")
        // 10^20 = 0x56BC75E2D63100000
        #expect(ParquetDecimal.string(bigEndian: [0x05, 0x6B, 0xC7, 0x5E, 0x2D, 0x63, 0x10, 0x00, 0x00], scale: 0) == "100000000000000000000")
        #expect(ParquetDecimal.string(bigEndian: [0x80] + [UInt8](repeating: 0, count: 15), scale: 0) == "-170141183460469231731687303715884105728")
    }
}
