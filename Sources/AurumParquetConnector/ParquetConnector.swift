import Aurum
import AurumParquet
import Foundation

/// Parquet as a source and an output format (on the self-contained `AurumParquet` reader/writer).
///
/// Source values: INT32/INT64 → integer, FLOAT/DOUBLE → real, strings (also JSON, enum) → text,
/// other binary → blob, BOOLEAN → 0/1, DATE → `YYYY-MM-DD`, TIME → `HH:MM:SS[.fff…]`,
/// TIMESTAMP → ISO-8601 `YYYY-MM-DDTHH:MM:SS[.fff…]` (with `Z` when UTC-adjusted), DECIMAL → exact text,
/// UUID → canonical text. Files the reader does not support (nested, encrypted, LZ4/BROTLI…) fail with
/// its message naming the file and the column.
///
/// Output: one Parquet file per output (or per partition); column types come from what the column holds
/// in the whole integrated table: only integers → INT64, numbers → DOUBLE, only blobs → BYTE_ARRAY,
/// otherwise STRING; every column is OPTIONAL. Options: `codec` (snappy [default], zstd, gzip,
/// uncompressed), `row_group_rows` (default 1,048,576).
public enum AurumParquetConnector {
    public static func register() {
        ConnectorRegistry.shared.register(source: ParquetSourceConnector())
        ConnectorRegistry.shared.register(target: ParquetTargetConnector())
    }
}

// MARK: Source

struct ParquetSourceConnector: SourceConnector {
    var types: [SourceType] { [.parquet] }

    func open(_ spec: SourceSpec) throws -> RowReader {
        var isDir: ObjCBool = false
        var files = [spec.path]
        if FileManager.default.fileExists(atPath: spec.path, isDirectory: &isDir), isDir.boolValue {
            // A directory (a partitioned output): every *.parquet below it, in path order.
            let base = spec.path.hasSuffix("/") ? spec.path : spec.path + "/"
            files = (FileManager.default.subpaths(atPath: spec.path) ?? [])
                .filter { $0.hasSuffix(".parquet") && !$0.split(separator: "/").contains { $0.hasPrefix(".") || $0.hasPrefix("_") } }
                .sorted().map { base + $0 }
            guard !files.isEmpty else { throw AurumError(.source, "the directory holds no .parquet files", at: spec.path) }
        }
        return try ParquetRowReader(files: files)
    }
}

final class ParquetRowReader: RowReader {
    private var reader: ParquetReader
    private var pending: ArraySlice<String>
    let columns: [String]
    private var kinds: [ParquetColumn]
    private var batch: [ParquetColumnData] = []
    private var batchRows = 0
    private var pos = 0
    private(set) var itemsRead = 0

    /// Reads `files` one after the other; all must have the first file's column names.
    init(files: [String]) throws {
        reader = try Self.open(files[0])
        pending = files.dropFirst()
        kinds = reader.columns
        columns = reader.columns.map(\.name)
    }

    private static func open(_ path: String) throws -> ParquetReader {
        do { return try ParquetReader(path: path) } catch let e as ParquetError {
            throw AurumError(.source, e.message, at: e.path.isEmpty ? path : e.path)
        }
    }

    func next() throws -> RowItem? {
        while pos >= batchRows {
            let b: [ParquetColumnData]?
            do { b = try reader.nextBatch() } catch let e as ParquetError {
                throw AurumError(.source, e.message, at: e.path.isEmpty ? reader.path : e.path)
            }
            guard let b else {
                guard let file = pending.popFirst() else { return nil }
                let next = try Self.open(file)
                guard next.columns.map(\.name) == columns else {
                    throw AurumError(.source, "columns differ from the first file's (\(columns.joined(separator: ", ")))", at: file)
                }
                reader = next
                kinds = next.columns
                batch = []
                batchRows = 0
                pos = 0
                continue
            }
            batch = b
            batchRows = b.first?.count ?? 0
            pos = 0
        }
        var row: [Value] = []
        row.reserveCapacity(batch.count)
        for k in 0 ..< batch.count { row.append(ParquetValues.value(batch[k], pos, kinds[k])) }
        pos += 1
        itemsRead += 1
        return .row(row, line: itemsRead)
    }

    func close() { batch = [] }
}

/// Parquet values → Aurum values.
enum ParquetValues {
    static func value(_ d: ParquetColumnData, _ i: Int, _ c: ParquetColumn) -> Value {
        if d.isNull(i) { return .null }
        switch d.values {
        case .boolean(let a): return .integer(a[i] ? 1 : 0)
        case .int32(let a): return integer(Int64(a[i]), unsigned32: UInt32(bitPattern: a[i]), c.logical)
        case .int64(let a): return integer(a[i], unsigned32: nil, c.logical)
        case .float(let a): return .real(Double(a[i].description) ?? Double(a[i]))
        case .double(let a): return .real(a[i])
        case .binary(let a):
            switch c.logical {
            case .string, .json, .enumeration: return .text(a.string(at: i))
            case .decimal(_, let scale): return .text(ParquetDecimal.string(bigEndian: a[i], scale: scale))
            case .uuid where a[i].count == 16: return .text(uuid(Array(a[i])))
            default: return .blob(Array(a[i]))
            }
        }
    }

    private static func integer(_ v: Int64, unsigned32: UInt32?, _ logical: ParquetLogicalType) -> Value {
        switch logical {
        case .date: return .text(date(days: v))
        case .timestampMillis(let utc): return .text(timestamp(v, perSecond: 1_000, digits: 3, utc: utc))
        case .timestampMicros(let utc): return .text(timestamp(v, perSecond: 1_000_000, digits: 6, utc: utc))
        case .timestampNanos(let utc): return .text(timestamp(v, perSecond: 1_000_000_000, digits: 9, utc: utc))
        case .timeMillis: return .text(time(v, perSecond: 1_000, digits: 3))
        case .timeMicros: return .text(time(v, perSecond: 1_000_000, digits: 6))
        case .timeNanos: return .text(time(v, perSecond: 1_000_000_000, digits: 9))
        case .decimal(_, let scale): return .text(ParquetDecimal.string(unscaled: v, scale: scale))
        case .int(_, signed: false):
            if let u = unsigned32 { return .integer(Int64(u)) }
            if v < 0 { return .text(String(UInt64(bitPattern: v))) }  // above Int64.max: exact text
            return .integer(v)
        default: return .integer(v)
        }
    }

    /// `YYYY-MM-DD` of days since 1970-01-01 (proleptic Gregorian; H. Hinnant's civil_from_days).
    static func date(days: Int64) -> String {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
    }

    static func timestamp(_ v: Int64, perSecond: Int64, digits: Int, utc: Bool) -> String {
        let (secs, frac) = floorDiv(v, perSecond)
        let (days, sod) = floorDiv(secs, 86_400)
        return date(days: days) + "T" + clock(sod, frac, digits) + (utc ? "Z" : "")
    }

    static func time(_ v: Int64, perSecond: Int64, digits: Int) -> String {
        let (secs, frac) = floorDiv(v, perSecond)
        return clock(secs, frac, digits)
    }

    private static func clock(_ sod: Int64, _ frac: Int64, _ digits: Int) -> String {
        var s = pad(sod / 3600, 2) + ":" + pad(sod / 60 % 60, 2) + ":" + pad(sod % 60, 2)
        if frac != 0 { s += "." + pad(frac, digits) }
        return s
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        var q = a / b, r = a % b
        if r < 0 { q -= 1; r += b }
        return (q, r)
    }

    private static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v.magnitude)
        return (v < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - s.count)) + s
    }

    private static func uuid(_ b: [UInt8]) -> String {
        let hex = b.map { String(format: "%02x", $0) }
        return [0 ..< 4, 4 ..< 6, 6 ..< 8, 8 ..< 10, 10 ..< 16].map { hex[$0].joined() }.joined(separator: "-")
    }
}

// MARK: Output

struct ParquetTargetConnector: FileFormatConnector {
    var formats: [OutputFormat] { [.parquet] }

    func validate(_ spec: OutputSpec) -> [(String, String)] {
        var problems: [(String, String)] = []
        if let c = spec.options["codec"], (try? Self.codec(c)) == nil {
            problems.append(("\(spec.location).options.codec", "unknown parquet codec \(c.compact) (expected snappy, zstd, gzip or uncompressed)"))
        }
        if let r = spec.options["row_group_rows"], Self.positiveInt(r) == nil {
            problems.append(("\(spec.location).options.row_group_rows", "expected a positive integer"))
        }
        return problems
    }

    func makeWriter(_ spec: OutputSpec, path: String, columns: [OutputColumn]) throws -> RowFileWriter {
        var options: ParquetWriterOptions
        do { options = ParquetWriterOptions(codec: try Self.codec(spec.options["codec"] ?? .string("snappy"))) } catch var e as AurumError {
            e.location = "\(spec.location).options.codec"
            throw e
        }
        if let r = spec.options["row_group_rows"] {
            guard let n = Self.positiveInt(r) else {
                throw AurumError(.output, "options.row_group_rows: expected a positive integer", at: spec.location)
            }
            options.rowGroupRows = n
        }
        do {
            return try ParquetRowFileWriter(path: path, columns: columns, options: options)
        } catch let e as ParquetError {
            throw AurumError(.output, e.message, at: e.path.isEmpty ? path : e.path)
        }
    }

    static func codec(_ j: JSON) throws -> ParquetCodec {
        if case .string(let s) = j {
            switch s.lowercased() {
            case "snappy": return .snappy
            case "zstd": return .zstd
            case "gzip": return .gzip
            case "uncompressed", "none": return .uncompressed
            default: break
            }
        }
        throw AurumError(.output, "unknown parquet codec \(j.compact)", hint: "snappy, zstd, gzip or uncompressed")
    }

    static func positiveInt(_ j: JSON) -> Int? {
        if case .int(let i) = j, i > 0 { return Int(i) }
        if case .string(let s) = j, let i = Int(s), i > 0 { return i }
        return nil
    }
}

/// Buffers rows column-major and hands them to the Parquet writer in chunks.
final class ParquetRowFileWriter: RowFileWriter {
    enum Kind { case int64, double, string, binary }
    let writer: ParquetWriter
    let kinds: [Kind]
    private var buffers: [Buffer]
    private var buffered = 0
    private let chunk = 65_536

    struct Buffer {
        var ints: [Int64] = []
        var doubles: [Double] = []
        var bytes = ParquetBinaryArray()
        var validity: [Bool] = []
        var anyNull = false
    }

    init(path: String, columns: [OutputColumn], options: ParquetWriterOptions) throws {
        kinds = columns.map { c in
            if c.kinds.isEmpty { return .string }
            if c.kinds == ["integer"] { return .int64 }
            if c.kinds.isSubset(of: ["integer", "real"]) { return .double }
            if c.kinds == ["blob"] { return .binary }
            return .string
        }
        let schema = zip(columns, kinds).map { c, k -> ParquetColumn in
            switch k {
            case .int64: return .int64(c.name)
            case .double: return .double(c.name)
            case .string: return .string(c.name)
            case .binary: return .binary(c.name)
            }
        }
        writer = try ParquetWriter(path: path, columns: schema, options: options)
        buffers = Array(repeating: Buffer(), count: columns.count)
    }

    func write(_ row: [Value]) throws {
        for k in 0 ..< kinds.count {
            let v = k < row.count ? row[k] : .null
            let valid = !v.isNull
            buffers[k].validity.append(valid)
            if !valid { buffers[k].anyNull = true }
            switch kinds[k] {
            case .int64:
                if case .integer(let i) = v { buffers[k].ints.append(i) } else { buffers[k].ints.append(0) }
            case .double:
                buffers[k].doubles.append(valid ? (v.doubleValue ?? 0) : 0)
            case .binary:
                if case .blob(let b) = v { buffers[k].bytes.append(b) } else { buffers[k].bytes.appendEmpty() }
            case .string:
                if let s = v.textValue { buffers[k].bytes.append(s) } else { buffers[k].bytes.appendEmpty() }
            }
        }
        buffered += 1
        if buffered >= chunk { try flush() }
    }

    private func flush() throws {
        guard buffered > 0 else { return }
        let data = zip(kinds, buffers).map { k, b -> ParquetColumnData in
            let validity = b.anyNull ? b.validity : nil
            switch k {
            case .int64: return .int64(b.ints, validity: validity)
            case .double: return .double(b.doubles, validity: validity)
            case .string, .binary: return .binary(b.bytes, validity: validity)
            }
        }
        buffers = Array(repeating: Buffer(), count: kinds.count)
        buffered = 0
        do { try writer.write(columns: data) } catch let e as ParquetError {
            throw AurumError(.output, e.message, at: e.path.isEmpty ? writer.path : e.path)
        }
    }

    func close() throws {
        try flush()
        do { try writer.close() } catch let e as ParquetError {
            throw AurumError(.output, e.message, at: e.path.isEmpty ? writer.path : e.path)
        }
    }
}
