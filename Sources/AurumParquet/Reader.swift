// ParquetReader: footer parsing, schema resolution, parallel row-group decoding.

import Foundation

/// Column statistics of one column chunk, as decoded from the footer.
public struct ParquetStatistics: Sendable, Hashable {
    public var nullCount: Int?
    public var distinctCount: Int?
    public var min: ParquetValue?
    public var max: ParquetValue?
}

public final class ParquetReader {
    public let path: String
    public let columns: [ParquetColumn]
    public let rowCount: Int
    public let createdBy: String?
    public let keyValueMetadata: [String: String]

    let specs: [ColumnSpec]
    let meta: PFileMetaData
    let fd: Int32
    let fileSize: Int
    private var nextGroup = 0

    public var rowGroupCount: Int { meta.rowGroups.count }

    public func rowCount(ofRowGroup i: Int) -> Int { Int(meta.rowGroups[i].numRows) }

    /// Index of the column called `name`, for the `columns:` selections.
    public func columnIndex(named name: String) -> Int? { columns.firstIndex { $0.name == name } }

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ParquetError(path: path, message: "cannot open file: \(String(cString: strerror(errno)))") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            close(fd)
            throw ParquetError(path: path, message: "cannot stat file")
        }
        self.fd = fd
        fileSize = Int(st.st_size)
        do {
            meta = try ParquetReader.readFooter(fd: fd, size: fileSize)
            specs = try ParquetReader.resolveSchema(meta)
        } catch let e as ParquetError {
            close(fd)
            throw e.with(path: path)
        }
        columns = specs.map(\.column)
        var rows = 0
        for g in meta.rowGroups { rows += Int(g.numRows) }
        rowCount = rows
        createdBy = meta.createdBy
        var kv: [String: String] = [:]
        for (k, v) in meta.keyValue { kv[k] = v ?? "" }
        keyValueMetadata = kv
    }

    deinit { close(fd) }

    // MARK: Footer

    static func pread(_ fd: Int32, _ offset: Int, _ count: Int) throws -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: count)
        var done = 0
        try buf.withUnsafeMutableBytes { b in
            while done < count {
                let n = Foundation.pread(fd, b.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw ParquetError.corrupt("read failed or file truncated at offset \(offset + done)") }
                done += n
            }
        }
        return buf
    }

    static func readFooter(fd: Int32, size: Int) throws -> PFileMetaData {
        guard size >= 12 else { throw ParquetError.corrupt("file too small to be a Parquet file (\(size) bytes)") }
        let head = try pread(fd, 0, 4)
        let tail = try pread(fd, size - 8, 8)
        let tailMagic = Array(tail[4 ..< 8])
        if tailMagic == Array("PARE".utf8) || head == Array("PARE".utf8) {
            throw ParquetError.corrupt("encrypted Parquet files are not supported")
        }
        guard head == Array("PAR1".utf8) else { throw ParquetError.corrupt("not a Parquet file (bad magic at start)") }
        guard tailMagic == Array("PAR1".utf8) else { throw ParquetError.corrupt("not a Parquet file or truncated (bad magic at end)") }
        let len = Int(UInt32(tail[0]) | UInt32(tail[1]) << 8 | UInt32(tail[2]) << 16 | UInt32(tail[3]) << 24)
        guard len <= size - 12 else { throw ParquetError.corrupt("footer length \(len) exceeds the file size (\(size) bytes)") }
        let footer = try pread(fd, size - 8 - len, len)
        let meta: PFileMetaData
        do {
            meta = try footer.withUnsafeBytes { b in
                var r = ThriftReader(b)
                return try r.readFileMetaData()
            }
        } catch let e as ParquetError {
            throw ParquetError.corrupt("corrupt footer: \(e.message)")
        }
        if meta.encrypted { throw ParquetError.corrupt("encrypted Parquet files are not supported") }
        guard meta.numRows >= 0 else { throw ParquetError.corrupt("negative row count") }
        return meta
    }

    // MARK: Schema

    static func resolveSchema(_ meta: PFileMetaData) throws -> [ColumnSpec] {
        guard let root = meta.schema.first else { throw ParquetError.corrupt("empty schema") }
        let leaves = meta.schema.dropFirst()
        guard Int(root.numChildren ?? 0) == leaves.count else {
            let nested = leaves.first { ($0.numChildren ?? 0) > 0 }
            throw ParquetError.corrupt("nested column '\(nested?.name ?? root.name)' is not supported (flat schemas only)")
        }
        var specs: [ColumnSpec] = []
        for e in leaves {
            if (e.numChildren ?? 0) > 0 || e.type == nil {
                throw ParquetError.corrupt("nested column '\(e.name)' is not supported (flat schemas only)")
            }
            if e.repetition == 2 {
                throw ParquetError.corrupt("repeated column '\(e.name)' is not supported (flat schemas only)")
            }
            guard let pt = PType(rawValue: e.type!) else {
                throw ParquetError.corrupt("unknown physical type \(e.type!) in column '\(e.name)'")
            }
            let tl = Int(e.typeLength ?? 0)
            let physical: ParquetPhysicalType
            switch pt {
            case .boolean: physical = .boolean
            case .int32: physical = .int32
            case .int64: physical = .int64
            case .int96: physical = .int96
            case .float: physical = .float
            case .double: physical = .double
            case .byteArray: physical = .byteArray
            case .fixedLenByteArray:
                guard tl > 0 && tl <= 1 << 20 else { throw ParquetError.corrupt("invalid type length \(tl) in column '\(e.name)'") }
                physical = .fixedLenByteArray(tl)
            }
            let logical = pt == .int96 ? .timestampNanos(utc: false) : logicalType(e)
            let col = ParquetColumn(name: e.name, physical: physical, logical: logical, optional: e.repetition != 0)
            specs.append(ColumnSpec(column: col, ptype: pt, typeLength: tl, maxDef: col.optional ? 1 : 0))
        }
        for g in meta.rowGroups {
            guard g.numRows >= 0, g.numRows <= Int64(Int32.max) else { throw ParquetError.corrupt("invalid row group size \(g.numRows)") }
            guard g.columns.count == specs.count else {
                throw ParquetError.corrupt("row group has \(g.columns.count) column chunks, schema has \(specs.count) columns")
            }
        }
        return specs
    }

    static func logicalType(_ e: PSchemaElement) -> ParquetLogicalType {
        if let lt = e.logicalType {
            func unitType(_ unit: Int, _ utc: Bool, ts: Bool) -> ParquetLogicalType {
                switch (unit, ts) {
                case (1, true): return .timestampMillis(utc: utc)
                case (2, true): return .timestampMicros(utc: utc)
                case (3, true): return .timestampNanos(utc: utc)
                case (1, false): return .timeMillis(utc: utc)
                case (2, false): return .timeMicros(utc: utc)
                case (3, false): return .timeNanos(utc: utc)
                default: return .none
                }
            }
            switch lt {
            case .string: return .string
            case .json: return .json
            case .enumeration: return .enumeration
            case .uuid: return .uuid
            case .date: return .date
            case .decimal(let s, let p): return .decimal(precision: Int(p), scale: Int(s))
            case .time(let utc, let unit): return unitType(unit, utc, ts: false)
            case .timestamp(let utc, let unit): return unitType(unit, utc, ts: true)
            case .integer(let bits, let signed): return .int(bits: Int(bits), signed: signed)
            default: break
            }
        }
        switch e.convertedType {
        case 0: return .string
        case 4: return .enumeration
        case 5: return .decimal(precision: Int(e.precision ?? 0), scale: Int(e.scale ?? 0))
        case 6: return .date
        case 7: return .timeMillis(utc: true)
        case 8: return .timeMicros(utc: true)
        case 9: return .timestampMillis(utc: true)
        case 10: return .timestampMicros(utc: true)
        case 11: return .int(bits: 8, signed: false)
        case 12: return .int(bits: 16, signed: false)
        case 13: return .int(bits: 32, signed: false)
        case 14: return .int(bits: 64, signed: false)
        case 15: return .int(bits: 8, signed: true)
        case 16: return .int(bits: 16, signed: true)
        case 17: return .int(bits: 32, signed: true)
        case 18: return .int(bits: 64, signed: true)
        case 19: return .json
        default: return .none
        }
    }

    // MARK: Reading

    /// Reads one row group; returns one ParquetColumnData per requested column (all columns by default).
    /// Columns are decoded in parallel.
    public func readRowGroup(_ index: Int, columns selection: [Int]? = nil) throws -> [ParquetColumnData] {
        guard index >= 0 && index < meta.rowGroups.count else {
            throw ParquetError(path: path, message: "row group \(index) out of range (file has \(meta.rowGroups.count))")
        }
        let cols = selection ?? Array(0 ..< specs.count)
        for c in cols where c < 0 || c >= specs.count {
            throw ParquetError(path: path, message: "column index \(c) out of range")
        }
        let group = meta.rowGroups[index]
        let results = UnsafeMutableBufferPointer<Result<ParquetColumnData, ParquetError>?>.allocate(capacity: cols.count)
        results.initialize(repeating: nil)
        defer {
            results.deinitialize()
            results.deallocate()
        }
        let work = UnsafeSendable(results)
        let job = { (k: Int) in
            let c = cols[k]
            do {
                let d = try self.readChunk(group: group, column: c)
                work.value[k] = .success(d)
            } catch let e as ParquetError {
                work.value[k] = .failure(e.with(path: self.path, column: self.specs[c].column.name))
            } catch {
                work.value[k] = .failure(ParquetError(path: self.path, message: "\(error) in column '\(self.specs[c].column.name)'"))
            }
        }
        if cols.count > 1 && ProcessInfo.processInfo.activeProcessorCount > 1 {
            let sendableJob = UnsafeSendable(job)
            DispatchQueue.concurrentPerform(iterations: cols.count) { k in sendableJob.value(k) }
        } else {
            for k in 0 ..< cols.count { job(k) }
        }
        var out: [ParquetColumnData] = []
        out.reserveCapacity(cols.count)
        for k in 0 ..< cols.count {
            switch results[k]! {
            case .success(let d): out.append(d)
            case .failure(let e): throw e
            }
        }
        return out
    }

    /// Reads the next row group (column-major); nil when all row groups have been read.
    public func nextBatch(columns selection: [Int]? = nil) throws -> [ParquetColumnData]? {
        guard nextGroup < meta.rowGroups.count else { return nil }
        let b = try readRowGroup(nextGroup, columns: selection)
        nextGroup += 1
        return b
    }

    /// Reads every row group and concatenates them per column.
    public func readAll(columns selection: [Int]? = nil) throws -> [ParquetColumnData] {
        var acc: [ParquetColumnData]? = nil
        for g in 0 ..< meta.rowGroups.count {
            let b = try readRowGroup(g, columns: selection)
            if acc == nil { acc = b } else {
                for k in 0 ..< b.count { acc![k].append(contentsOf: b[k]) }
            }
        }
        if let acc { return acc }
        return (selection ?? Array(0 ..< specs.count)).map { ParquetColumnData.empty(for: specs[$0].column) }
    }

    /// Row-major convenience (boxes every value; use the column API for speed).
    public func readRows() throws -> [[ParquetValue]] {
        var rows: [[ParquetValue]] = []
        rows.reserveCapacity(rowCount)
        for g in 0 ..< meta.rowGroups.count {
            let b = try readRowGroup(g)
            let n = b.first?.count ?? rowCount(ofRowGroup: g)
            for i in 0 ..< n { rows.append(b.map { $0.value(at: i) }) }
        }
        return rows
    }

    /// Statistics of a column chunk, decoded by the column's physical type.
    public func statistics(rowGroup: Int, column: Int) -> ParquetStatistics? {
        guard rowGroup >= 0, rowGroup < meta.rowGroups.count, column >= 0, column < specs.count,
              let s = meta.rowGroups[rowGroup].columns[column].metaData?.statistics else { return nil }
        let spec = specs[column]
        func decode(_ b: [UInt8]?) -> ParquetValue? {
            guard let b else { return nil }
            return b.withUnsafeBytes { r -> ParquetValue? in
                switch spec.ptype {
                case .boolean: return r.count >= 1 ? .boolean(r[0] != 0) : nil
                case .int32: return r.count == 4 ? .int32(Int32(littleEndian: r.loadUnaligned(as: Int32.self))) : nil
                case .int64: return r.count == 8 ? .int64(Int64(littleEndian: r.loadUnaligned(as: Int64.self))) : nil
                case .float: return r.count == 4 ? .float(Float(bitPattern: UInt32(littleEndian: r.loadUnaligned(as: UInt32.self)))) : nil
                case .double: return r.count == 8 ? .double(Double(bitPattern: UInt64(littleEndian: r.loadUnaligned(as: UInt64.self)))) : nil
                case .int96: return nil
                case .byteArray, .fixedLenByteArray: return .bytes(b)
                }
            }
        }
        let signedOrder: Bool
        switch spec.ptype {
        case .byteArray, .fixedLenByteArray, .int96: signedOrder = false
        default: signedOrder = true
        }
        let useNew = s.minValue != nil || s.maxValue != nil
        return ParquetStatistics(
            nullCount: s.nullCount.map { Int($0) },
            distinctCount: s.distinctCount.map { Int($0) },
            min: decode(useNew ? s.minValue : (signedOrder ? s.min : nil)),
            max: decode(useNew ? s.maxValue : (signedOrder ? s.max : nil)))
    }

    func readChunk(group: PRowGroup, column c: Int) throws -> ParquetColumnData {
        let spec = specs[c]
        let chunk = group.columns[c]
        if chunk.encrypted { throw ParquetError.corrupt("encrypted column '\(spec.column.name)' is not supported") }
        if let fp = chunk.filePath, !fp.isEmpty {
            throw ParquetError.corrupt("column chunk stored in external file '\(fp)' is not supported")
        }
        guard let m = chunk.metaData else { throw ParquetError.corrupt("column chunk without metadata") }
        guard let codec = PCodec.codec(m.codec) else {
            throw ParquetError.corrupt("unsupported codec \(PCodec.name(m.codec)) in column '\(spec.column.name)'")
        }
        guard m.type == spec.ptype.rawValue else { throw ParquetError.corrupt("column chunk type \(m.type) differs from schema") }
        guard m.numValues == group.numRows else {
            throw ParquetError.corrupt("column chunk has \(m.numValues) values but the row group has \(group.numRows) rows")
        }
        if group.numRows == 0 { return ParquetColumnData.empty(for: spec.column) }
        // RLE and dictionary pages expand without bound (a few bytes can claim 2^31 rows): refuse a chunk
        // whose slots alone would exceed the decode limit before allocating them.
        let slotBytes = Int(group.numRows) * (spec.width == 0 ? 8 : spec.width)
        guard slotBytes <= ChunkDecoder.maxDecodedBytes else {
            throw ParquetError.corrupt("column chunk of \(group.numRows) rows would decode to more than the \(ChunkDecoder.maxDecodedBytes >> 20) MiB Aurum decodes per column chunk (write smaller row groups)")
        }
        var start = m.dataPageOffset
        if let d = m.dictionaryPageOffset, d > 0, d < start { start = d }
        let len = m.totalCompressedSize
        guard start >= 4, len >= 0, start <= Int64(fileSize), len <= Int64(fileSize) - start else {
            throw ParquetError.corrupt("column chunk (offset \(start), \(len) bytes) lies beyond the end of the file (\(fileSize) bytes)")
        }
        let bytes = try ParquetReader.pread(fd, Int(start), Int(len))
        let dec = ChunkDecoder(spec: spec, codec: codec, expectedRows: Int(group.numRows))
        try bytes.withUnsafeBytes { try dec.decodeChunk($0, numValues: Int(m.numValues)) }
        return dec.result()
    }
}

/// Wrapper to move non-Sendable values into concurrentPerform; each task touches disjoint state.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}

extension ParquetColumnData {
    /// An empty column of the right storage kind.
    public static func empty(for column: ParquetColumn) -> ParquetColumnData {
        switch column.physical {
        case .boolean: return .boolean([])
        case .int32: return .int32([])
        case .int64, .int96: return .int64([])
        case .float: return .float([])
        case .double: return .double([])
        case .byteArray, .fixedLenByteArray: return .binary(ParquetBinaryArray())
        }
    }

    /// Appends another batch of the same kind.
    public mutating func append(contentsOf other: ParquetColumnData) {
        let n = count
        if validity != nil || other.validity != nil {
            var v = validity ?? [Bool](repeating: true, count: n)
            v.append(contentsOf: other.validity ?? [Bool](repeating: true, count: other.count))
            validity = v
        }
        switch (values, other.values) {
        case (.boolean(var a), .boolean(let b)): values = .boolean([]); a.append(contentsOf: b); values = .boolean(a)
        case (.int32(var a), .int32(let b)): values = .int32([]); a.append(contentsOf: b); values = .int32(a)
        case (.int64(var a), .int64(let b)): values = .int64([]); a.append(contentsOf: b); values = .int64(a)
        case (.float(var a), .float(let b)): values = .float([]); a.append(contentsOf: b); values = .float(a)
        case (.double(var a), .double(let b)): values = .double([]); a.append(contentsOf: b); values = .double(a)
        case (.binary(var a), .binary(let b)):
            values = .boolean([])
            let base = a.bytes.count
            a.bytes.append(contentsOf: b.bytes)
            a.offsets.append(contentsOf: b.offsets.dropFirst().map { $0 + base })
            values = .binary(a)
        default:
            preconditionFailure("ParquetColumnData.append: mismatched column kinds")
        }
    }
}
