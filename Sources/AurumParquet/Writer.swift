// ParquetWriter: buffers rows into row groups, encodes column chunks in parallel, writes the footer.

import Foundation

public struct ParquetWriterOptions: Sendable {
    public var codec: ParquetCodec = .snappy
    /// Codec level (zstd: 1...22, default 1; gzip: 1...9, default 6). Ignored by snappy.
    public var compressionLevel: Int32? = nil
    public var rowGroupRows: Int = 1_048_576
    public var dictionary: Bool = true
    /// 1 (DataPageHeader) or 2 (DataPageHeaderV2).
    public var dataPageVersion: Int = 1
    /// Target uncompressed size of a data page.
    public var pageSize: Int = 1 << 20
    /// Above this many dictionary bytes a column chunk falls back to PLAIN.
    public var dictionaryPageSizeLimit: Int = 1 << 20
    public var statistics: Bool = true
    /// min/max of byte-array values longer than this are not written.
    public var maxStatisticsSize: Int = 4096
    public var keyValueMetadata: [String: String] = [:]
    public var createdBy: String = "aurum-parquet version 0.1.0"
    /// Per-column encoding overrides by column name (default: dictionary when `dictionary`, else plain).
    public var columnEncodings: [String: ParquetEncoding] = [:]

    public init(codec: ParquetCodec = .snappy, rowGroupRows: Int = 1_048_576, dictionary: Bool = true) {
        self.codec = codec
        self.rowGroupRows = rowGroupRows
        self.dictionary = dictionary
    }
}

/// Value encodings the writer can produce.
public enum ParquetEncoding: Sendable, Hashable {
    /// PLAIN values.
    case plain
    /// RLE_DICTIONARY with a PLAIN dictionary page (falls back to PLAIN when the dictionary gets large).
    case dictionary
    /// DELTA_BINARY_PACKED (INT32 and INT64 columns only).
    case deltaBinaryPacked
}

public final class ParquetWriter {
    public let path: String
    public let columns: [ParquetColumn]
    public let options: ParquetWriterOptions
    public private(set) var rowCount = 0

    private var fd: Int32
    private var offset = 0
    private var rowGroups: [PRowGroup] = []
    private var pending: [ParquetColumnData]
    private var pendingRows = 0
    private var closed = false

    public convenience init(path: String, columns: [ParquetColumn], codec: ParquetCodec = .snappy,
                            rowGroupRows: Int = 1_048_576, dictionary: Bool = true) throws {
        try self.init(path: path, columns: columns, options: ParquetWriterOptions(codec: codec, rowGroupRows: rowGroupRows, dictionary: dictionary))
    }

    public init(path: String, columns: [ParquetColumn], options: ParquetWriterOptions) throws {
        self.path = path
        self.columns = columns
        self.options = options
        guard !columns.isEmpty else { throw ParquetError(path: path, message: "no columns") }
        guard options.rowGroupRows > 0 else { throw ParquetError(path: path, message: "rowGroupRows must be positive") }
        guard options.dataPageVersion == 1 || options.dataPageVersion == 2 else {
            throw ParquetError(path: path, message: "dataPageVersion must be 1 or 2")
        }
        var names = Set<String>()
        for c in columns {
            guard names.insert(c.name).inserted else { throw ParquetError(path: path, message: "duplicate column name '\(c.name)'") }
            try ParquetWriter.validate(c, path: path)
        }
        for (name, enc) in options.columnEncodings {
            guard let c = columns.first(where: { $0.name == name }) else {
                throw ParquetError(path: path, message: "encoding given for unknown column '\(name)'")
            }
            if enc == .deltaBinaryPacked && c.physical != .int32 && c.physical != .int64 {
                throw ParquetError(path: path, message: "column '\(name)': DELTA_BINARY_PACKED requires INT32 or INT64")
            }
            if enc == .dictionary && c.physical == .boolean {
                throw ParquetError(path: path, message: "column '\(name)': booleans cannot be dictionary-encoded")
            }
        }
        pending = columns.map { ParquetColumnData.empty(for: $0) }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ParquetError(path: path, message: "cannot create file: \(String(cString: strerror(errno)))") }
        try writeAll(Array("PAR1".utf8))
    }

    deinit {
        if fd >= 0 { _ = Foundation.close(fd) }
    }

    static func validate(_ c: ParquetColumn, path: String) throws {
        func bad(_ m: String) -> ParquetError { ParquetError(path: path, message: "column '\(c.name)': \(m)") }
        switch c.physical {
        case .int96: throw bad("writing INT96 is not supported")
        case .fixedLenByteArray(let n) where n <= 0: throw bad("FIXED_LEN_BYTE_ARRAY length must be positive")
        default: break
        }
        switch c.logical {
        case .none: break
        case .string, .json, .enumeration:
            guard c.physical == .byteArray else { throw bad("\(c.logical) requires BYTE_ARRAY") }
        case .uuid:
            guard c.physical == .fixedLenByteArray(16) else { throw bad("uuid requires FIXED_LEN_BYTE_ARRAY(16)") }
        case .date, .timeMillis:
            guard c.physical == .int32 else { throw bad("\(c.logical) requires INT32") }
        case .timeMicros, .timeNanos, .timestampMillis, .timestampMicros, .timestampNanos:
            guard c.physical == .int64 else { throw bad("\(c.logical) requires INT64") }
        case .decimal(let p, let s):
            guard p >= 1, s >= 0, s <= p else { throw bad("invalid decimal(\(p), \(s))") }
            switch c.physical {
            case .int32: guard p <= 9 else { throw bad("decimal precision \(p) too large for INT32") }
            case .int64: guard p <= 18 else { throw bad("decimal precision \(p) too large for INT64") }
            case .fixedLenByteArray(let n): guard p <= ParquetWriter.maxDigits(bytes: n) else { throw bad("decimal precision \(p) too large for \(n) bytes") }
            case .byteArray: break
            default: throw bad("decimal requires INT32, INT64, FIXED_LEN_BYTE_ARRAY or BYTE_ARRAY")
            }
        case .int(let bits, _):
            guard [8, 16, 32, 64].contains(bits) else { throw bad("int bit width must be 8, 16, 32 or 64") }
            guard (bits <= 32 && c.physical == .int32) || (bits == 64 && c.physical == .int64) else {
                throw bad("int(\(bits)) requires \(bits <= 32 ? "INT32" : "INT64")")
            }
        }
    }

    static func maxDigits(bytes n: Int) -> Int { Int((Double(8 * n - 1) * log10(2.0)).rounded(.down)) }

    // MARK: Writing

    /// Appends rows given column-major (one ParquetColumnData per column, all the same length).
    /// Row groups of `rowGroupRows` rows are written as they fill up.
    public func write(columns data: [ParquetColumnData]) throws {
        guard !closed else { throw ParquetError(path: path, message: "writer is closed") }
        guard data.count == columns.count else {
            throw ParquetError(path: path, message: "expected \(columns.count) columns, got \(data.count)")
        }
        let n = data[0].count
        for (k, d) in data.enumerated() {
            guard d.count == n else { throw ParquetError(path: path, message: "column '\(columns[k].name)' has \(d.count) rows, expected \(n)") }
            guard kindMatches(d.values, columns[k].physical) else {
                throw ParquetError(path: path, message: "column '\(columns[k].name)': values do not match physical type \(columns[k].physical)")
            }
            if let v = d.validity, v.count != d.count {
                throw ParquetError(path: path, message: "column '\(columns[k].name)': validity has \(v.count) entries for \(d.count) values")
            }
            if case .binary(let b) = d.values {
                var ok = !b.offsets.isEmpty && b.offsets[0] >= 0 && b.offsets[b.offsets.count - 1] <= b.bytes.count
                if ok {
                    b.offsets.withUnsafeBufferPointer { o in
                        for i in 1 ..< o.count where o[i] < o[i - 1] { ok = false; break }
                    }
                }
                guard ok else { throw ParquetError(path: path, message: "column '\(columns[k].name)': invalid binary offsets") }
            }
            if !columns[k].optional, d.nullCount > 0 {
                throw ParquetError(path: path, message: "null value in required column '\(columns[k].name)'")
            }
        }
        if n == 0 { return }
        var start = 0
        if pendingRows > 0 {
            let take = min(n, options.rowGroupRows - pendingRows)
            for k in 0 ..< columns.count { pending[k].append(contentsOf: data[k].slice(0 ..< take)) }
            pendingRows += take
            start = take
            if pendingRows == options.rowGroupRows {
                try writeRowGroup(pending, 0 ..< pendingRows)
                pending = columns.map { ParquetColumnData.empty(for: $0) }
                pendingRows = 0
            }
        }
        while n - start >= options.rowGroupRows {
            try writeRowGroup(data, start ..< start + options.rowGroupRows)
            start += options.rowGroupRows
        }
        if start < n {
            for k in 0 ..< columns.count { pending[k] = data[k].slice(start ..< n) }
            pendingRows = n - start
        }
    }

    /// Appends rows given row-major as ParquetValue (convenience).
    public func write(rows: [[ParquetValue]]) throws {
        var cols: [ParquetColumnData] = []
        for (k, c) in columns.enumerated() {
            cols.append(try ParquetWriter.column(from: rows, index: k, column: c, path: path))
        }
        try write(columns: cols)
    }

    /// Ends the current row group now (if it has rows).
    public func flushRowGroup() throws {
        guard !closed else { throw ParquetError(path: path, message: "writer is closed") }
        if pendingRows > 0 {
            try writeRowGroup(pending, 0 ..< pendingRows)
            pending = columns.map { ParquetColumnData.empty(for: $0) }
            pendingRows = 0
        }
    }

    /// Flushes pending rows and writes the footer. The file is complete only after close().
    public func close() throws {
        guard !closed else { return }
        try flushRowGroup()
        closed = true
        var meta = PFileMetaData()
        meta.version = 2
        meta.numRows = Int64(rowCount)
        meta.rowGroups = rowGroups
        meta.createdBy = options.createdBy
        meta.keyValue = options.keyValueMetadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        meta.columnOrdersCount = columns.count
        var root = PSchemaElement()
        root.name = "schema"
        root.numChildren = Int32(columns.count)
        meta.schema = [root] + columns.map(ParquetWriter.schemaElement)
        var w = ThriftWriter()
        w.writeFileMetaData(meta)
        var tail = w.out
        let len = UInt32(tail.count)
        tail.append(contentsOf: [UInt8(len & 0xFF), UInt8(len >> 8 & 0xFF), UInt8(len >> 16 & 0xFF), UInt8(len >> 24)])
        tail.append(contentsOf: Array("PAR1".utf8))
        try writeAll(tail)
        let rc = Foundation.close(fd)
        fd = -1
        guard rc == 0 else { throw ParquetError(path: path, message: "close failed: \(String(cString: strerror(errno)))") }
    }

    // MARK: Internals

    private func kindMatches(_ v: ParquetColumnValues, _ p: ParquetPhysicalType) -> Bool {
        switch (v, p) {
        case (.boolean, .boolean), (.int32, .int32), (.int64, .int64), (.float, .float), (.double, .double),
             (.binary, .byteArray), (.binary, .fixedLenByteArray): return true
        default: return false
        }
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try writeAll($0.baseAddress!, $0.count) }
    }

    private func writeAll(_ p: UnsafeRawPointer, _ n: Int) throws {
        var done = 0
        while done < n {
            let r = Foundation.write(fd, p + done, n - done)
            if r < 0 && errno == EINTR { continue }
            guard r > 0 else { throw ParquetError(path: path, message: "write failed: \(String(cString: strerror(errno)))") }
            done += r
        }
        offset += n
    }

    private func writeRowGroup(_ data: [ParquetColumnData], _ range: Range<Int>) throws {
        let ncol = columns.count
        let config = WriterConfig(codec: options.codec, compressionLevel: options.compressionLevel, dictionary: options.dictionary,
                                  dataPageVersion: options.dataPageVersion, pageSize: options.pageSize,
                                  dictionaryPageSizeLimit: options.dictionaryPageSizeLimit, statistics: options.statistics,
                                  maxStatisticsSize: options.maxStatisticsSize, delta: false)
        let results = UnsafeMutableBufferPointer<Result<EncodedChunk, ParquetError>?>.allocate(capacity: ncol)
        results.initialize(repeating: nil)
        defer {
            results.deinitialize()
            results.deallocate()
        }
        let box = UnsafeSendable(results)
        let cols = columns
        let options = self.options
        let job = { (k: Int) in
            do {
                var cfg = config
                switch options.columnEncodings[cols[k].name] {
                case .plain?: cfg.dictionary = false
                case .dictionary?: cfg.dictionary = true
                case .deltaBinaryPacked?: cfg.dictionary = false; cfg.delta = true
                case nil: break
                }
                let enc = ChunkEncoder(column: cols[k], config: cfg)
                box.value[k] = .success(try enc.encode(data[k], range))
            } catch let e as ParquetError {
                box.value[k] = .failure(e)
            } catch {
                box.value[k] = .failure(ParquetError.corrupt("\(error)"))
            }
        }
        if ncol > 1 && ProcessInfo.processInfo.activeProcessorCount > 1 {
            let sj = UnsafeSendable(job)
            DispatchQueue.concurrentPerform(iterations: ncol) { sj.value($0) }
        } else {
            for k in 0 ..< ncol { job(k) }
        }
        var group = PRowGroup()
        group.numRows = Int64(range.count)
        group.fileOffset = Int64(offset)
        group.ordinal = Int16(truncatingIfNeeded: rowGroups.count)
        var totalCompressed: Int64 = 0
        var totalUncompressed: Int64 = 0
        for k in 0 ..< ncol {
            let enc: EncodedChunk
            switch results[k]! {
            case .success(let e): enc = e
            case .failure(let e): throw e.with(path: path, column: columns[k].name)
            }
            let base = offset
            try writeAll(enc.bytes.ptr, enc.bytes.count)
            var m = PColumnMetaData()
            m.type = ParquetWriter.ptype(columns[k].physical).rawValue
            m.encodings = enc.encodings
            m.pathInSchema = [columns[k].name]
            m.codec = PCodec.id(options.codec)
            m.numValues = Int64(enc.numValues)
            m.totalUncompressedSize = Int64(enc.uncompressedSize)
            m.totalCompressedSize = Int64(enc.bytes.count)
            m.dataPageOffset = Int64(base + enc.dataPageRel)
            if let d = enc.dictionaryPageRel { m.dictionaryPageOffset = Int64(base + d) }
            m.statistics = enc.statistics
            var c = PColumnChunk()
            c.fileOffset = Int64(base)
            c.metaData = m
            group.columns.append(c)
            totalCompressed += Int64(enc.bytes.count)
            totalUncompressed += Int64(enc.uncompressedSize)
        }
        group.totalByteSize = totalUncompressed
        group.totalCompressedSize = totalCompressed
        rowGroups.append(group)
        rowCount += range.count
    }

    static func ptype(_ p: ParquetPhysicalType) -> PType {
        switch p {
        case .boolean: return .boolean
        case .int32: return .int32
        case .int64: return .int64
        case .int96: return .int96
        case .float: return .float
        case .double: return .double
        case .byteArray: return .byteArray
        case .fixedLenByteArray: return .fixedLenByteArray
        }
    }

    static func schemaElement(_ c: ParquetColumn) -> PSchemaElement {
        var e = PSchemaElement()
        e.name = c.name
        e.type = ptype(c.physical).rawValue
        if case .fixedLenByteArray(let n) = c.physical { e.typeLength = Int32(n) }
        e.repetition = c.optional ? 1 : 0
        switch c.logical {
        case .none: break
        case .string: e.convertedType = 0; e.logicalType = .string
        case .json: e.convertedType = 19; e.logicalType = .json
        case .enumeration: e.convertedType = 4; e.logicalType = .enumeration
        case .uuid: e.logicalType = .uuid
        case .date: e.convertedType = 6; e.logicalType = .date
        case .timeMillis(let utc): e.logicalType = .time(utc: utc, unit: 1); if utc { e.convertedType = 7 }
        case .timeMicros(let utc): e.logicalType = .time(utc: utc, unit: 2); if utc { e.convertedType = 8 }
        case .timeNanos(let utc): e.logicalType = .time(utc: utc, unit: 3)
        case .timestampMillis(let utc): e.logicalType = .timestamp(utc: utc, unit: 1); if utc { e.convertedType = 9 }
        case .timestampMicros(let utc): e.logicalType = .timestamp(utc: utc, unit: 2); if utc { e.convertedType = 10 }
        case .timestampNanos(let utc): e.logicalType = .timestamp(utc: utc, unit: 3)
        case .decimal(let p, let s):
            e.convertedType = 5
            e.precision = Int32(p)
            e.scale = Int32(s)
            e.logicalType = .decimal(scale: Int32(s), precision: Int32(p))
        case .int(let bits, let signed):
            let base: Int32 = signed ? 15 : 11
            e.convertedType = base + Int32([8: 0, 16: 1, 32: 2, 64: 3][bits] ?? 0)
            e.logicalType = .integer(bits: Int8(bits), signed: signed)
        }
        return e
    }

    static func column(from rows: [[ParquetValue]], index k: Int, column c: ParquetColumn, path: String) throws -> ParquetColumnData {
        var valid = [Bool]()
        valid.reserveCapacity(rows.count)
        var anyNull = false
        func bad(_ v: ParquetValue) -> ParquetError {
            ParquetError(path: path, message: "value \(v) does not match column '\(c.name)' (\(c.physical))")
        }
        func cell(_ r: [ParquetValue]) throws -> ParquetValue {
            guard k < r.count else { throw ParquetError(path: path, message: "row has \(r.count) values, expected more") }
            let v = r[k]
            if case .null = v {
                guard c.optional else { throw ParquetError(path: path, message: "null value in required column '\(c.name)'") }
                anyNull = true
                valid.append(false)
            } else {
                valid.append(true)
            }
            return v
        }
        let values: ParquetColumnValues
        switch c.physical {
        case .boolean:
            var a = [Bool](); a.reserveCapacity(rows.count)
            for r in rows { switch try cell(r) { case .null: a.append(false); case .boolean(let b): a.append(b); case let v: throw bad(v) } }
            values = .boolean(a)
        case .int32:
            var a = [Int32](); a.reserveCapacity(rows.count)
            for r in rows { switch try cell(r) { case .null: a.append(0); case .int32(let b): a.append(b); case let v: throw bad(v) } }
            values = .int32(a)
        case .int64:
            var a = [Int64](); a.reserveCapacity(rows.count)
            for r in rows { switch try cell(r) { case .null: a.append(0); case .int64(let b): a.append(b); case let v: throw bad(v) } }
            values = .int64(a)
        case .float:
            var a = [Float](); a.reserveCapacity(rows.count)
            for r in rows { switch try cell(r) { case .null: a.append(0); case .float(let b): a.append(b); case let v: throw bad(v) } }
            values = .float(a)
        case .double:
            var a = [Double](); a.reserveCapacity(rows.count)
            for r in rows { switch try cell(r) { case .null: a.append(0); case .double(let b): a.append(b); case let v: throw bad(v) } }
            values = .double(a)
        case .byteArray, .fixedLenByteArray:
            var a = ParquetBinaryArray()
            for r in rows { switch try cell(r) { case .null: a.appendEmpty(); case .bytes(let b): a.append(b); case let v: throw bad(v) } }
            values = .binary(a)
        case .int96:
            throw ParquetError(path: path, message: "writing INT96 is not supported")
        }
        return ParquetColumnData(values: values, validity: anyNull ? valid : nil)
    }
}

extension ParquetColumnData {
    /// Copy of rows `range`.
    public func slice(_ range: Range<Int>) -> ParquetColumnData {
        let v: ParquetColumnValues
        switch values {
        case .boolean(let a): v = .boolean(Array(a[range]))
        case .int32(let a): v = .int32(Array(a[range]))
        case .int64(let a): v = .int64(Array(a[range]))
        case .float(let a): v = .float(Array(a[range]))
        case .double(let a): v = .double(Array(a[range]))
        case .binary(let b):
            let s = b.offsets[range.lowerBound], e = b.offsets[range.upperBound]
            v = .binary(ParquetBinaryArray(offsets: b.offsets[range.lowerBound ... range.upperBound].map { $0 - s }, bytes: Array(b.bytes[s ..< e])))
        }
        return ParquetColumnData(values: v, validity: validity.map { Array($0[range]) })
    }
}
