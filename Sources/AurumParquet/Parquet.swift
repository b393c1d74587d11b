// AurumParquet — a Parquet reader and writer in Swift (compression via libsnappy, libzstd, zlib).
//
// STATUS (what is supported; tested against pyarrow in Tests/AurumParquetTests)
// - Files: flat schemas only (top-level primitive columns, REQUIRED or OPTIONAL: max definition level 1,
//   repetition level 0), any number of row groups. Nested/repeated schemas, encrypted files ("PARE" magic,
//   encryption_algorithm, encrypted column metadata), column chunks in external files and unknown codecs
//   (LZO, BROTLI, LZ4, LZ4_RAW) give a ParquetError naming the file and the column.
// - Metadata: Thrift compact protocol (bounds-checked, depth-limited) for FileMetaData, SchemaElement,
//   RowGroup, ColumnChunk, ColumnMetaData, Statistics, PageHeader, DataPageHeader (v1), DataPageHeaderV2,
//   DictionaryPageHeader, LogicalType / ConvertedType, key-value metadata, column orders.
// - Physical types: BOOLEAN, INT32, INT64, FLOAT, DOUBLE, BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY (read + write);
//   INT96 read only (converted to Int64 nanoseconds since the epoch, logical .timestampNanos(utc: false)).
// - Logical types: string, json, enum, uuid, date, time and timestamp (milli/micro/nano, UTC or local),
//   decimal (INT32 / INT64 / FIXED_LEN_BYTE_ARRAY / BYTE_ARRAY backed; ParquetDecimal formats them),
//   int(bits:signed:) (unsigned statistics ordered unsigned).
// - Encodings read: PLAIN, PLAIN_DICTIONARY / RLE_DICTIONARY, RLE (levels, v2 booleans), DELTA_BINARY_PACKED,
//   DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT (fixed-width types).
//   Encodings written: PLAIN, RLE_DICTIONARY with a PLAIN dictionary page (per chunk, falling back to PLAIN
//   above dictionaryPageSizeLimit), DELTA_BINARY_PACKED (per-column option), RLE definition levels;
//   data page v1 (default) or v2.
// - Codecs: UNCOMPRESSED, SNAPPY, GZIP, ZSTD (read + write).
// - Statistics written per column chunk: null_count, min_value/max_value (and legacy min/max for signed
//   orders), TypeDefinedOrder column orders; pyarrow shows them. Readable via ParquetReader.statistics.
// - Defensive reading: magic, footer length, every thrift length / list size / nesting depth, page sizes,
//   level lengths, value counts per page and chunk, dictionary indices, bit widths and decompressed sizes
//   are checked; allocations are bounded by the file size (and by the row counts the file declares).
//   Errors are ParquetError ("file: message in column 'x'"), never a trap.
// - API: column-major typed batches (ParquetColumnData: typed Swift arrays, one slot per row, plus an
//   optional validity array) per row group, decoded and encoded with one task per column in parallel;
//   ParquetValue conveniences (value(at:), readRows(), write(rows:)).
// NOT supported: nested types, page indexes / bloom filters (ignored on read, not written), encryption,
//   CRC checks, page-level statistics, writing DELTA_*_BYTE_ARRAY / BYTE_STREAM_SPLIT / INT96, LZ4/BROTLI.

import Foundation

/// Parquet physical (storage) type.
public enum ParquetPhysicalType: Sendable, Hashable, CustomStringConvertible {
    case boolean, int32, int64, int96, float, double, byteArray
    case fixedLenByteArray(Int)

    public var description: String {
        switch self {
        case .boolean: return "BOOLEAN"
        case .int32: return "INT32"
        case .int64: return "INT64"
        case .int96: return "INT96"
        case .float: return "FLOAT"
        case .double: return "DOUBLE"
        case .byteArray: return "BYTE_ARRAY"
        case .fixedLenByteArray(let n): return "FIXED_LEN_BYTE_ARRAY(\(n))"
        }
    }
}

/// Parquet logical type (how the physical values are interpreted).
public enum ParquetLogicalType: Sendable, Hashable {
    case none
    case string
    case json
    case enumeration
    case uuid
    case date
    case timeMillis(utc: Bool)
    case timeMicros(utc: Bool)
    case timeNanos(utc: Bool)
    case timestampMillis(utc: Bool)
    case timestampMicros(utc: Bool)
    case timestampNanos(utc: Bool)
    case decimal(precision: Int, scale: Int)
    case int(bits: Int, signed: Bool)
}

/// One (flat) column of a Parquet file.
public struct ParquetColumn: Sendable, Hashable {
    public var name: String
    public var physical: ParquetPhysicalType
    public var logical: ParquetLogicalType
    public var optional: Bool

    public init(name: String, physical: ParquetPhysicalType, logical: ParquetLogicalType = .none, optional: Bool = true) {
        self.name = name
        self.physical = physical
        self.logical = logical
        self.optional = optional
    }

    public static func boolean(_ name: String, optional: Bool = true) -> ParquetColumn { .init(name: name, physical: .boolean, optional: optional) }
    public static func int32(_ name: String, optional: Bool = true) -> ParquetColumn { .init(name: name, physical: .int32, optional: optional) }
    public static func int64(_ name: String, optional: Bool = true) -> ParquetColumn { .init(name: name, physical: .int64, optional: optional) }
    public static func float(_ name: String, optional: Bool = true) -> ParquetColumn { .init(name: name, physical: .float, optional: optional) }
    public static func double(_ name: String, optional: Bool = true) -> ParquetColumn { .init(name: name, physical: .double, optional: optional) }
    public static func string(_ name: String, optional: Bool = true) -> ParquetColumn { .init(name: name, physical: .byteArray, logical: .string, optional: optional) }
    public static func binary(_ name: String, optional: Bool = true) -> ParquetColumn { .init(name: name, physical: .byteArray, optional: optional) }
    /// Days since 1970-01-01 (Int32).
    public static func date(_ name: String, optional: Bool = true) -> ParquetColumn { .init(name: name, physical: .int32, logical: .date, optional: optional) }
    public static func timestampMillis(_ name: String, utc: Bool = true, optional: Bool = true) -> ParquetColumn { .init(name: name, physical: .int64, logical: .timestampMillis(utc: utc), optional: optional) }
    public static func timestampMicros(_ name: String, utc: Bool = true, optional: Bool = true) -> ParquetColumn { .init(name: name, physical: .int64, logical: .timestampMicros(utc: utc), optional: optional) }
    public static func timestampNanos(_ name: String, utc: Bool = true, optional: Bool = true) -> ParquetColumn { .init(name: name, physical: .int64, logical: .timestampNanos(utc: utc), optional: optional) }
    /// Decimal stored as INT32 (precision <= 9), INT64 (<= 18) or FIXED_LEN_BYTE_ARRAY (minimal big-endian two's complement length).
    public static func decimal(_ name: String, precision: Int, scale: Int, optional: Bool = true) -> ParquetColumn {
        let physical: ParquetPhysicalType
        if precision <= 9 { physical = .int32 } else if precision <= 18 { physical = .int64 } else { physical = .fixedLenByteArray(decimalByteWidth(precision: precision)) }
        return .init(name: name, physical: physical, logical: .decimal(precision: precision, scale: scale), optional: optional)
    }

    /// Minimal number of bytes of a two's complement integer holding `precision` decimal digits.
    public static func decimalByteWidth(precision: Int) -> Int {
        var n = 1
        while n < 64 {
            // max digits for n bytes: floor(log10(2^(8n-1) - 1))
            let digits = Int((Double(8 * n - 1) * log10(2.0)).rounded(.down))
            if digits >= precision { return n }
            n += 1
        }
        return n
    }
}

/// A single Parquet value; its logical meaning comes from the column (e.g. `.int32` days for a date column,
/// `.bytes` UTF-8 for a string column, big-endian two's complement for a FIXED_LEN_BYTE_ARRAY decimal).
public enum ParquetValue: Sendable, Hashable {
    case null
    case boolean(Bool)
    case int32(Int32)
    case int64(Int64)
    case float(Float)
    case double(Double)
    case bytes([UInt8])

    public static func string(_ s: String) -> ParquetValue { .bytes(Array(s.utf8)) }

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// The value as a UTF-8 string, when it is `.bytes`.
    public var stringValue: String? {
        if case .bytes(let b) = self { return String(decoding: b, as: UTF8.self) }
        return nil
    }
}

/// Page compression codec.
public enum ParquetCodec: Sendable, Hashable, CustomStringConvertible {
    case uncompressed, snappy, gzip, zstd

    public var description: String {
        switch self {
        case .uncompressed: return "UNCOMPRESSED"
        case .snappy: return "SNAPPY"
        case .gzip: return "GZIP"
        case .zstd: return "ZSTD"
        }
    }
}

/// Error raised by the Parquet reader and writer: `path: message`.
public struct ParquetError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }

    /// Internal: an error whose path is filled in at the API boundary.
    static func corrupt(_ message: String) -> ParquetError { ParquetError(path: "", message: message) }

    func with(path: String, column: String? = nil) -> ParquetError {
        var e = self
        if e.path.isEmpty { e.path = path }
        if let column, !e.message.contains("column '") { e.message += " in column '\(column)'" }
        return e
    }
}

/// Variable-length values (BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY): value `i` is `bytes[offsets[i] ..< offsets[i+1]]`.
/// Null slots have zero length.
public struct ParquetBinaryArray: Sendable, Hashable {
    public var offsets: [Int]
    public var bytes: [UInt8]

    public init() {
        offsets = [0]
        bytes = []
    }

    public init(offsets: [Int], bytes: [UInt8]) {
        precondition(!offsets.isEmpty && offsets.last! <= bytes.count, "ParquetBinaryArray: invalid offsets")
        self.offsets = offsets
        self.bytes = bytes
    }

    public init<S: Sequence>(_ values: S) where S.Element == [UInt8] {
        self.init()
        for v in values { append(v) }
    }

    public init<S: Sequence>(strings: S) where S.Element == String {
        self.init()
        for s in strings { append(s) }
    }

    public var count: Int { offsets.count - 1 }

    public subscript(i: Int) -> ArraySlice<UInt8> { bytes[offsets[i] ..< offsets[i + 1]] }

    public func string(at i: Int) -> String { String(decoding: self[i], as: UTF8.self) }

    public mutating func append<C: Collection>(_ value: C) where C.Element == UInt8 {
        bytes.append(contentsOf: value)
        offsets.append(bytes.count)
    }

    public mutating func append(_ s: String) {
        bytes.append(contentsOf: s.utf8)
        offsets.append(bytes.count)
    }

    /// Appends a null / empty slot.
    public mutating func appendEmpty() { offsets.append(bytes.count) }

    public mutating func reserveCapacity(values: Int, bytes byteCount: Int) {
        offsets.reserveCapacity(values + 1)
        bytes.reserveCapacity(byteCount)
    }
}

/// Typed values of one column (one slot per row; null slots hold 0 / empty).
public enum ParquetColumnValues: Sendable, Hashable {
    case boolean([Bool])
    case int32([Int32])
    case int64([Int64])
    case float([Float])
    case double([Double])
    case binary(ParquetBinaryArray)

    public var count: Int {
        switch self {
        case .boolean(let a): return a.count
        case .int32(let a): return a.count
        case .int64(let a): return a.count
        case .float(let a): return a.count
        case .double(let a): return a.count
        case .binary(let a): return a.count
        }
    }
}

/// A column-major batch of one column: typed values plus validity (nil = no nulls).
public struct ParquetColumnData: Sendable, Hashable {
    public var values: ParquetColumnValues
    /// `validity[i] == false` means row i is null. nil when the batch has no nulls.
    public var validity: [Bool]?

    public init(values: ParquetColumnValues, validity: [Bool]? = nil) {
        precondition(validity == nil || validity!.count == values.count, "ParquetColumnData: validity count mismatch")
        self.values = values
        self.validity = validity
    }

    public static func int32(_ v: [Int32], validity: [Bool]? = nil) -> ParquetColumnData { .init(values: .int32(v), validity: validity) }
    public static func int64(_ v: [Int64], validity: [Bool]? = nil) -> ParquetColumnData { .init(values: .int64(v), validity: validity) }
    public static func float(_ v: [Float], validity: [Bool]? = nil) -> ParquetColumnData { .init(values: .float(v), validity: validity) }
    public static func double(_ v: [Double], validity: [Bool]? = nil) -> ParquetColumnData { .init(values: .double(v), validity: validity) }
    public static func boolean(_ v: [Bool], validity: [Bool]? = nil) -> ParquetColumnData { .init(values: .boolean(v), validity: validity) }
    public static func binary(_ v: ParquetBinaryArray, validity: [Bool]? = nil) -> ParquetColumnData { .init(values: .binary(v), validity: validity) }
    /// Strings; nil elements are nulls.
    public static func strings(_ v: [String?]) -> ParquetColumnData {
        var a = ParquetBinaryArray()
        var valid = [Bool]()
        valid.reserveCapacity(v.count)
        var anyNull = false
        for s in v {
            if let s { a.append(s); valid.append(true) } else { a.appendEmpty(); valid.append(false); anyNull = true }
        }
        return .init(values: .binary(a), validity: anyNull ? valid : nil)
    }

    public var count: Int { values.count }

    public var nullCount: Int {
        guard let validity else { return 0 }
        var n = 0
        for v in validity where !v { n += 1 }
        return n
    }

    @inline(__always)
    public func isNull(_ i: Int) -> Bool { validity.map { !$0[i] } ?? false }

    public func value(at i: Int) -> ParquetValue {
        if isNull(i) { return .null }
        switch values {
        case .boolean(let a): return .boolean(a[i])
        case .int32(let a): return .int32(a[i])
        case .int64(let a): return .int64(a[i])
        case .float(let a): return .float(a[i])
        case .double(let a): return .double(a[i])
        case .binary(let a): return .bytes(Array(a[i]))
        }
    }

    /// All values boxed as ParquetValue (convenience; slower than the typed arrays).
    public var parquetValues: [ParquetValue] { (0 ..< count).map { value(at: $0) } }
}

/// Helpers for DECIMAL values (unscaled integers, big-endian two's complement for byte-array storage).
public enum ParquetDecimal {
    /// Decimal text of an unscaled integer, e.g. (12345, scale 2) -> "123.45".
    public static func string(unscaled: Int64, scale: Int) -> String {
        let neg = unscaled < 0
        return format(digits: String(unscaled.magnitude), negative: neg, scale: scale)
    }

    /// Decimal text of a big-endian two's complement unscaled integer (FIXED_LEN_BYTE_ARRAY / BYTE_ARRAY storage).
    public static func string<C: Collection>(bigEndian bytes: C, scale: Int) -> String where C.Element == UInt8 {
        var mag = Array(bytes)
        guard !mag.isEmpty else { return format(digits: "0", negative: false, scale: scale) }
        let neg = mag[0] & 0x80 != 0
        if neg {
            // two's complement negate
            for i in 0 ..< mag.count { mag[i] = ~mag[i] }
            var i = mag.count - 1
            while i >= 0 {
                let (v, o) = mag[i].addingReportingOverflow(1)
                mag[i] = v
                if !o { break }
                i -= 1
            }
        }
        // repeated division by 10^9
        var digits: [String] = []
        var start = 0
        while start < mag.count && mag[start] == 0 { start += 1 }
        var num = Array(mag[start...])
        while !num.isEmpty {
            var rem: UInt64 = 0
            var next: [UInt8] = []
            next.reserveCapacity(num.count)
            for b in num {
                let cur = rem << 8 | UInt64(b)
                let q = cur / 1_000_000_000
                rem = cur % 1_000_000_000
                if !next.isEmpty || q != 0 { next.append(UInt8(q)) }
            }
            digits.append(String(rem))
            num = next
        }
        var text = digits.last ?? "0"
        for d in digits.dropLast().reversed() { text += String(repeating: "0", count: 9 - d.count) + d }
        return format(digits: text, negative: neg, scale: scale)
    }

    private static func format(digits: String, negative: Bool, scale: Int) -> String {
        var d = digits
        if scale > 0 {
            if d.count <= scale { d = String(repeating: "0", count: scale - d.count + 1) + d }
            d.insert(".", at: d.index(d.endIndex, offsetBy: -scale))
        }
        let isZero = !d.contains { $0 != "0" && $0 != "." }
        return (negative && !isZero ? "-" : "") + d
    }
}
