// Parquet metadata structures (subset of parquet.thrift) with compact-protocol decode/encode.

enum PType: Int32 {
    case boolean = 0, int32 = 1, int64 = 2, int96 = 3, float = 4, double = 5, byteArray = 6, fixedLenByteArray = 7
}

enum PEncoding {
    static let plain: Int32 = 0
    static let plainDictionary: Int32 = 2
    static let rle: Int32 = 3
    static let bitPacked: Int32 = 4
    static let deltaBinaryPacked: Int32 = 5
    static let deltaLengthByteArray: Int32 = 6
    static let deltaByteArray: Int32 = 7
    static let rleDictionary: Int32 = 8
    static let byteStreamSplit: Int32 = 9

    static func name(_ e: Int32) -> String {
        switch e {
        case 0: return "PLAIN"
        case 2: return "PLAIN_DICTIONARY"
        case 3: return "RLE"
        case 4: return "BIT_PACKED"
        case 5: return "DELTA_BINARY_PACKED"
        case 6: return "DELTA_LENGTH_BYTE_ARRAY"
        case 7: return "DELTA_BYTE_ARRAY"
        case 8: return "RLE_DICTIONARY"
        case 9: return "BYTE_STREAM_SPLIT"
        default: return "encoding \(e)"
        }
    }
}

enum PCodec {
    static func name(_ c: Int32) -> String {
        switch c {
        case 0: return "UNCOMPRESSED"
        case 1: return "SNAPPY"
        case 2: return "GZIP"
        case 3: return "LZO"
        case 4: return "BROTLI"
        case 5: return "LZ4"
        case 6: return "ZSTD"
        case 7: return "LZ4_RAW"
        default: return "codec \(c)"
        }
    }

    static func codec(_ c: Int32) -> ParquetCodec? {
        switch c {
        case 0: return .uncompressed
        case 1: return .snappy
        case 2: return .gzip
        case 6: return .zstd
        default: return nil
        }
    }

    static func id(_ c: ParquetCodec) -> Int32 {
        switch c {
        case .uncompressed: return 0
        case .snappy: return 1
        case .gzip: return 2
        case .zstd: return 6
        }
    }
}

enum PPageType {
    static let dataPage: Int32 = 0
    static let indexPage: Int32 = 1
    static let dictionaryPage: Int32 = 2
    static let dataPageV2: Int32 = 3
}

/// Thrift LogicalType union (only the members we interpret; others are kept as `other`).
enum PLogicalType: Equatable {
    case string, map, list, enumeration, decimal(scale: Int32, precision: Int32), date
    case time(utc: Bool, unit: Int) // unit: 1 millis, 2 micros, 3 nanos
    case timestamp(utc: Bool, unit: Int)
    case integer(bits: Int8, signed: Bool)
    case unknown, json, bson, uuid, float16
    case other(Int16)
}

struct PStatistics {
    var max: [UInt8]?
    var min: [UInt8]?
    var nullCount: Int64?
    var distinctCount: Int64?
    var maxValue: [UInt8]?
    var minValue: [UInt8]?
}

struct PSchemaElement {
    var type: Int32?
    var typeLength: Int32?
    var repetition: Int32? // 0 required, 1 optional, 2 repeated
    var name: String = ""
    var numChildren: Int32?
    var convertedType: Int32?
    var scale: Int32?
    var precision: Int32?
    var fieldId: Int32?
    var logicalType: PLogicalType?
}

struct PColumnMetaData {
    var type: Int32 = 0
    var encodings: [Int32] = []
    var pathInSchema: [String] = []
    var codec: Int32 = 0
    var numValues: Int64 = 0
    var totalUncompressedSize: Int64 = 0
    var totalCompressedSize: Int64 = 0
    var dataPageOffset: Int64 = 0
    var indexPageOffset: Int64?
    var dictionaryPageOffset: Int64?
    var statistics: PStatistics?
}

struct PColumnChunk {
    var filePath: String?
    var fileOffset: Int64 = 0
    var metaData: PColumnMetaData?
    var encrypted = false
}

struct PRowGroup {
    var columns: [PColumnChunk] = []
    var totalByteSize: Int64 = 0
    var numRows: Int64 = 0
    var fileOffset: Int64?
    var totalCompressedSize: Int64?
    var ordinal: Int16?
}

struct PFileMetaData {
    var version: Int32 = 1
    var schema: [PSchemaElement] = []
    var numRows: Int64 = 0
    var rowGroups: [PRowGroup] = []
    var keyValue: [(String, String?)] = []
    var createdBy: String?
    var columnOrdersCount = 0
    var encrypted = false
}

struct PDataPageHeader {
    var numValues: Int32 = 0
    var encoding: Int32 = 0
    var definitionLevelEncoding: Int32 = 3
    var repetitionLevelEncoding: Int32 = 3
}

struct PDataPageHeaderV2 {
    var numValues: Int32 = 0
    var numNulls: Int32 = 0
    var numRows: Int32 = 0
    var encoding: Int32 = 0
    var definitionLevelsByteLength: Int32 = 0
    var repetitionLevelsByteLength: Int32 = 0
    var isCompressed = true
}

struct PDictionaryPageHeader {
    var numValues: Int32 = 0
    var encoding: Int32 = 0
}

struct PPageHeader {
    var type: Int32 = 0
    var uncompressedPageSize: Int32 = 0
    var compressedPageSize: Int32 = 0
    var dataPage: PDataPageHeader?
    var dictionaryPage: PDictionaryPageHeader?
    var dataPageV2: PDataPageHeaderV2?
}

// MARK: - Decoding

extension ThriftReader {
    mutating func readStatistics() throws -> PStatistics {
        var s = PStatistics()
        try readStruct { r, id, t in
            switch id {
            case 1: s.max = try r.readBinary(t)
            case 2: s.min = try r.readBinary(t)
            case 3: s.nullCount = try r.readI64(t)
            case 4: s.distinctCount = try r.readI64(t)
            case 5: s.maxValue = try r.readBinary(t)
            case 6: s.minValue = try r.readBinary(t)
            default: try r.skip(t)
            }
        }
        return s
    }

    /// Reads a union whose members are empty structs; returns the member id.
    mutating func readEmptyUnion() throws -> Int16 {
        var member: Int16 = 0
        try readStruct { r, id, t in
            member = id
            try r.skip(t)
        }
        return member
    }

    mutating func readLogicalType() throws -> PLogicalType {
        var result: PLogicalType = .other(0)
        try readStruct { r, id, t in
            switch id {
            case 1: result = .string; try r.skip(t)
            case 2: result = .map; try r.skip(t)
            case 3: result = .list; try r.skip(t)
            case 4: result = .enumeration; try r.skip(t)
            case 5:
                try r.expect(t, TType.structure)
                var scale: Int32 = 0, precision: Int32 = 0
                try r.readStruct { r, id, t in
                    switch id {
                    case 1: scale = try r.readI32(t)
                    case 2: precision = try r.readI32(t)
                    default: try r.skip(t)
                    }
                }
                result = .decimal(scale: scale, precision: precision)
            case 6: result = .date; try r.skip(t)
            case 7, 8:
                try r.expect(t, TType.structure)
                var utc = false, unit = 0
                try r.readStruct { r, id, t in
                    switch id {
                    case 1: utc = try r.boolValue(t)
                    case 2: try r.expect(t, TType.structure); unit = Int(try r.readEmptyUnion())
                    default: try r.skip(t)
                    }
                }
                result = id == 7 ? .time(utc: utc, unit: unit) : .timestamp(utc: utc, unit: unit)
            case 10:
                try r.expect(t, TType.structure)
                var bits: Int8 = 0, signed = true
                try r.readStruct { r, id, t in
                    switch id {
                    case 1: bits = try r.readByte(t)
                    case 2: signed = try r.boolValue(t)
                    default: try r.skip(t)
                    }
                }
                result = .integer(bits: bits, signed: signed)
            case 11: result = .unknown; try r.skip(t)
            case 12: result = .json; try r.skip(t)
            case 13: result = .bson; try r.skip(t)
            case 14: result = .uuid; try r.skip(t)
            case 15: result = .float16; try r.skip(t)
            default: result = .other(id); try r.skip(t)
            }
        }
        return result
    }

    mutating func readSchemaElement() throws -> PSchemaElement {
        var e = PSchemaElement()
        try readStruct { r, id, t in
            switch id {
            case 1: e.type = try r.readI32(t)
            case 2: e.typeLength = try r.readI32(t)
            case 3: e.repetition = try r.readI32(t)
            case 4: e.name = try r.readString(t)
            case 5: e.numChildren = try r.readI32(t)
            case 6: e.convertedType = try r.readI32(t)
            case 7: e.scale = try r.readI32(t)
            case 8: e.precision = try r.readI32(t)
            case 9: e.fieldId = try r.readI32(t)
            case 10: try r.expect(t, TType.structure); e.logicalType = try r.readLogicalType()
            default: try r.skip(t)
            }
        }
        return e
    }

    mutating func readColumnMetaData() throws -> PColumnMetaData {
        var m = PColumnMetaData()
        try readStruct { r, id, t in
            switch id {
            case 1: m.type = try r.readI32(t)
            case 2: m.encodings = try r.readList(t) { r, et in try r.readI32(et) }
            case 3: m.pathInSchema = try r.readList(t) { r, et in try r.readString(et) }
            case 4: m.codec = try r.readI32(t)
            case 5: m.numValues = try r.readI64(t)
            case 6: m.totalUncompressedSize = try r.readI64(t)
            case 7: m.totalCompressedSize = try r.readI64(t)
            case 9: m.dataPageOffset = try r.readI64(t)
            case 10: m.indexPageOffset = try r.readI64(t)
            case 11: m.dictionaryPageOffset = try r.readI64(t)
            case 12: try r.expect(t, TType.structure); m.statistics = try r.readStatistics()
            default: try r.skip(t)
            }
        }
        return m
    }

    mutating func readColumnChunk() throws -> PColumnChunk {
        var c = PColumnChunk()
        try readStruct { r, id, t in
            switch id {
            case 1: c.filePath = try r.readString(t)
            case 2: c.fileOffset = try r.readI64(t)
            case 3: try r.expect(t, TType.structure); c.metaData = try r.readColumnMetaData()
            case 8, 9: c.encrypted = true; try r.skip(t)
            default: try r.skip(t)
            }
        }
        return c
    }

    mutating func readRowGroup() throws -> PRowGroup {
        var g = PRowGroup()
        try readStruct { r, id, t in
            switch id {
            case 1: g.columns = try r.readList(t) { r, et in try r.expect(et, TType.structure); return try r.readColumnChunk() }
            case 2: g.totalByteSize = try r.readI64(t)
            case 3: g.numRows = try r.readI64(t)
            case 5: g.fileOffset = try r.readI64(t)
            case 6: g.totalCompressedSize = try r.readI64(t)
            case 7: g.ordinal = try r.readI16(t)
            default: try r.skip(t)
            }
        }
        return g
    }

    mutating func readFileMetaData() throws -> PFileMetaData {
        var f = PFileMetaData()
        try readStruct { r, id, t in
            switch id {
            case 1: f.version = try r.readI32(t)
            case 2: f.schema = try r.readList(t) { r, et in try r.expect(et, TType.structure); return try r.readSchemaElement() }
            case 3: f.numRows = try r.readI64(t)
            case 4: f.rowGroups = try r.readList(t) { r, et in try r.expect(et, TType.structure); return try r.readRowGroup() }
            case 5:
                f.keyValue = try r.readList(t) { r, et in
                    try r.expect(et, TType.structure)
                    var k = "", v: String?
                    try r.readStruct { r, id, t in
                        switch id {
                        case 1: k = try r.readString(t)
                        case 2: v = try r.readString(t)
                        default: try r.skip(t)
                        }
                    }
                    return (k, v)
                }
            case 6: f.createdBy = try r.readString(t)
            case 7:
                let orders: [Void] = try r.readList(t) { r, et in try r.skip(et) }
                f.columnOrdersCount = orders.count
            case 8, 9: f.encrypted = true; try r.skip(t)
            default: try r.skip(t)
            }
        }
        return f
    }

    mutating func readPageHeader() throws -> PPageHeader {
        var h = PPageHeader()
        try readStruct { r, id, t in
            switch id {
            case 1: h.type = try r.readI32(t)
            case 2: h.uncompressedPageSize = try r.readI32(t)
            case 3: h.compressedPageSize = try r.readI32(t)
            case 5:
                try r.expect(t, TType.structure)
                var d = PDataPageHeader()
                try r.readStruct { r, id, t in
                    switch id {
                    case 1: d.numValues = try r.readI32(t)
                    case 2: d.encoding = try r.readI32(t)
                    case 3: d.definitionLevelEncoding = try r.readI32(t)
                    case 4: d.repetitionLevelEncoding = try r.readI32(t)
                    default: try r.skip(t)
                    }
                }
                h.dataPage = d
            case 7:
                try r.expect(t, TType.structure)
                var d = PDictionaryPageHeader()
                try r.readStruct { r, id, t in
                    switch id {
                    case 1: d.numValues = try r.readI32(t)
                    case 2: d.encoding = try r.readI32(t)
                    default: try r.skip(t)
                    }
                }
                h.dictionaryPage = d
            case 8:
                try r.expect(t, TType.structure)
                var d = PDataPageHeaderV2()
                try r.readStruct { r, id, t in
                    switch id {
                    case 1: d.numValues = try r.readI32(t)
                    case 2: d.numNulls = try r.readI32(t)
                    case 3: d.numRows = try r.readI32(t)
                    case 4: d.encoding = try r.readI32(t)
                    case 5: d.definitionLevelsByteLength = try r.readI32(t)
                    case 6: d.repetitionLevelsByteLength = try r.readI32(t)
                    case 7: d.isCompressed = try r.boolValue(t)
                    default: try r.skip(t)
                    }
                }
                h.dataPageV2 = d
            default: try r.skip(t)
            }
        }
        return h
    }
}

// MARK: - Encoding

extension ThriftWriter {
    mutating func writeStatistics(_ id: Int16, _ s: PStatistics) {
        structBegin(id)
        if let v = s.max { binary(1, v) }
        if let v = s.min { binary(2, v) }
        if let v = s.nullCount { i64(3, v) }
        if let v = s.distinctCount { i64(4, v) }
        if let v = s.maxValue { binary(5, v) }
        if let v = s.minValue { binary(6, v) }
        structEnd()
    }

    mutating func writeEmptyStruct(_ id: Int16) {
        structBegin(id)
        structEnd()
    }

    mutating func writeLogicalType(_ id: Int16, _ l: PLogicalType) {
        structBegin(id)
        switch l {
        case .string: writeEmptyStruct(1)
        case .map: writeEmptyStruct(2)
        case .list: writeEmptyStruct(3)
        case .enumeration: writeEmptyStruct(4)
        case .decimal(let scale, let precision):
            structBegin(5); i32(1, scale); i32(2, precision); structEnd()
        case .date: writeEmptyStruct(6)
        case .time(let utc, let unit), .timestamp(let utc, let unit):
            if case .time = l { structBegin(7) } else { structBegin(8) }
            bool(1, utc)
            structBegin(2); writeEmptyStruct(Int16(unit)); structEnd()
            structEnd()
        case .integer(let bits, let signed):
            structBegin(10); i8(1, bits); bool(2, signed); structEnd()
        case .unknown: writeEmptyStruct(11)
        case .json: writeEmptyStruct(12)
        case .bson: writeEmptyStruct(13)
        case .uuid: writeEmptyStruct(14)
        case .float16: writeEmptyStruct(15)
        case .other: break
        }
        structEnd()
    }

    mutating func writeSchemaElement(_ e: PSchemaElement) {
        structBegin(nil)
        if let v = e.type { i32(1, v) }
        if let v = e.typeLength { i32(2, v) }
        if let v = e.repetition { i32(3, v) }
        string(4, e.name)
        if let v = e.numChildren { i32(5, v) }
        if let v = e.convertedType { i32(6, v) }
        if let v = e.scale { i32(7, v) }
        if let v = e.precision { i32(8, v) }
        if let v = e.fieldId { i32(9, v) }
        if let l = e.logicalType { writeLogicalType(10, l) }
        structEnd()
    }

    mutating func writeColumnMetaData(_ id: Int16, _ m: PColumnMetaData) {
        structBegin(id)
        i32(1, m.type)
        listBegin(2, TType.i32, m.encodings.count)
        for e in m.encodings { zigzag(Int64(e)) }
        listBegin(3, TType.binary, m.pathInSchema.count)
        for p in m.pathInSchema { rawString(p) }
        i32(4, m.codec)
        i64(5, m.numValues)
        i64(6, m.totalUncompressedSize)
        i64(7, m.totalCompressedSize)
        i64(9, m.dataPageOffset)
        if let v = m.indexPageOffset { i64(10, v) }
        if let v = m.dictionaryPageOffset { i64(11, v) }
        if let s = m.statistics { writeStatistics(12, s) }
        structEnd()
    }

    mutating func writeFileMetaData(_ f: PFileMetaData) {
        structBegin(nil)
        i32(1, f.version)
        listBegin(2, TType.structure, f.schema.count)
        for e in f.schema { writeSchemaElement(e) }
        i64(3, f.numRows)
        listBegin(4, TType.structure, f.rowGroups.count)
        for g in f.rowGroups {
            structBegin(nil)
            listBegin(1, TType.structure, g.columns.count)
            for c in g.columns {
                structBegin(nil)
                if let p = c.filePath { string(1, p) }
                i64(2, c.fileOffset)
                if let m = c.metaData { writeColumnMetaData(3, m) }
                structEnd()
            }
            i64(2, g.totalByteSize)
            i64(3, g.numRows)
            if let v = g.fileOffset { i64(5, v) }
            if let v = g.totalCompressedSize { i64(6, v) }
            if let v = g.ordinal { i16(7, v) }
            structEnd()
        }
        if !f.keyValue.isEmpty {
            listBegin(5, TType.structure, f.keyValue.count)
            for (k, v) in f.keyValue {
                structBegin(nil)
                string(1, k)
                if let v { string(2, v) }
                structEnd()
            }
        }
        if let c = f.createdBy { string(6, c) }
        if f.columnOrdersCount > 0 {
            listBegin(7, TType.structure, f.columnOrdersCount)
            for _ in 0 ..< f.columnOrdersCount {
                structBegin(nil)
                writeEmptyStruct(1) // TYPE_ORDER
                structEnd()
            }
        }
        structEnd()
    }

    mutating func writePageHeader(_ h: PPageHeader) {
        structBegin(nil)
        i32(1, h.type)
        i32(2, h.uncompressedPageSize)
        i32(3, h.compressedPageSize)
        if let d = h.dataPage {
            structBegin(5)
            i32(1, d.numValues)
            i32(2, d.encoding)
            i32(3, d.definitionLevelEncoding)
            i32(4, d.repetitionLevelEncoding)
            structEnd()
        }
        if let d = h.dictionaryPage {
            structBegin(7)
            i32(1, d.numValues)
            i32(2, d.encoding)
            structEnd()
        }
        if let d = h.dataPageV2 {
            structBegin(8)
            i32(1, d.numValues)
            i32(2, d.numNulls)
            i32(3, d.numRows)
            i32(4, d.encoding)
            i32(5, d.definitionLevelsByteLength)
            i32(6, d.repetitionLevelsByteLength)
            bool(7, d.isCompressed)
            structEnd()
        }
        structEnd()
    }
}
