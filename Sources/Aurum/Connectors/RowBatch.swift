/// Rows a connector decoded straight into one byte buffer, for the snapshot's fast path: no `Value`
/// and no `String` per field, and each row's content hash computed while it is decoded (on the
/// reader's thread), so the staging writer only binds bytes in place and steps.
///
/// The hash of a row is exactly the one `StagingWriter.write(values:)` computes from the row's
/// `Value`s (FNV-1a over each value with its type, `RowBatch.contentHash(of:)`), and `value(_:_:)`
/// gives back exactly the `Value` the field stands for: a connector may stage rows either way.
///
/// Fields are appended in column order, `endRow(line:)` closes a row; a row must have `width`
/// fields.
public struct RowBatch: Sendable {
    enum Kind: UInt8 { case null = 0, integer = 1, real = 2, text = 3, blob = 4 }

    public let width: Int
    public private(set) var rowCount = 0
    /// Per field (row-major): the kind.
    private(set) var kinds: [UInt8] = []
    /// Per field: the integer, the real's bit pattern, or the start of the text/blob bytes in `bytes`.
    private(set) var nums: [Int64] = []
    /// Per field: the end of the text/blob bytes in `bytes` (else the previous end).
    private(set) var ends: [Int] = []
    /// Text (UTF-8) and blob bytes of all fields, back to back.
    public private(set) var bytes: [UInt8] = []
    /// Per row: the content hash and the source line (or record number).
    private(set) var hashes: [UInt64] = []
    private(set) var lines: [Int] = []
    private var hash = FNV1a()

    public init(width: Int, reservingRows rows: Int = 0, bytes byteCount: Int = 0) {
        self.width = width
        kinds.reserveCapacity(rows * width)
        nums.reserveCapacity(rows * width)
        ends.reserveCapacity(rows * width)
        hashes.reserveCapacity(rows)
        lines.reserveCapacity(rows)
        bytes.reserveCapacity(byteCount)
    }

    /// Fields appended so far (all rows).
    public var fieldCount: Int { kinds.count }

    /// Empties the batch, keeping its storage.
    public mutating func removeAll() {
        rowCount = 0
        kinds.removeAll(keepingCapacity: true)
        nums.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
        hashes.removeAll(keepingCapacity: true)
        lines.removeAll(keepingCapacity: true)
        hash = FNV1a()
    }

    @inline(__always)
    private mutating func field(_ k: Kind, _ n: Int64) {
        kinds.append(k.rawValue)
        nums.append(n)
        ends.append(bytes.count)
    }

    public mutating func appendNull() {
        field(.null, 0)
        hash.add(byte: 0)
        hash.add(byte: 0x1F)
    }

    public mutating func appendInteger(_ i: Int64) {
        field(.integer, i)
        hash.add(byte: 1)
        hash.add(decimal: i)
        hash.add(byte: 0x1F)
    }

    public mutating func appendReal(_ d: Double) {
        field(.real, Int64(bitPattern: d.bitPattern))
        hash.add(byte: 2)
        hash.add(Value.format(d))
        hash.add(byte: 0x1F)
    }

    /// Appends text given as UTF-8 bytes; the caller guarantees they are valid UTF-8 (see
    /// `appendText(decoding:)` for bytes that might not be).
    public mutating func appendText(validUTF8 b: UnsafeBufferPointer<UInt8>) {
        let start = bytes.count
        bytes.append(contentsOf: b)
        closeText(from: start)
    }

    /// Appends text as `String(decoding: b, as: UTF8.self)` would make it (invalid sequences
    /// replaced by U+FFFD), without making the String when the bytes are valid.
    public mutating func appendText(decoding b: UnsafeBufferPointer<UInt8>) {
        if UTF8Check.isValid(b) {
            appendText(validUTF8: b)
        } else {
            var s = String(decoding: b, as: UTF8.self)
            s.withUTF8 { appendText(validUTF8: $0) }
        }
    }

    /// Appends text that `body` writes to the end of `bytes` (valid UTF-8 only).
    public mutating func appendText(building body: (inout [UInt8]) -> Void) {
        let start = bytes.count
        body(&bytes)
        closeText(from: start)
    }

    @inline(__always)
    private mutating func closeText(from start: Int) {
        kinds.append(Kind.text.rawValue)
        nums.append(Int64(start))
        ends.append(bytes.count)
        hash.add(byte: 3)
        bytes.withUnsafeBytes { hash.add(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        hash.add(byte: 0x1F)
    }

    public mutating func appendBlob(_ b: UnsafeRawBufferPointer) {
        let start = bytes.count
        bytes.append(contentsOf: b)
        kinds.append(Kind.blob.rawValue)
        nums.append(Int64(start))
        ends.append(bytes.count)
        hash.add(byte: 4)
        hash.add(b)
        hash.add(byte: 0x1F)
    }

    public mutating func append(_ v: Value) {
        switch v {
        case .null: appendNull()
        case .integer(let i): appendInteger(i)
        case .real(let d): appendReal(d)
        case .text(var s): s.withUTF8 { appendText(validUTF8: $0) }
        case .blob(let b): b.withUnsafeBytes { appendBlob($0) }
        }
    }

    /// Closes the row whose fields were appended since the last call.
    public mutating func endRow(line: Int) {
        precondition(kinds.count == (rowCount + 1) * width, "a row of a RowBatch must have \(width) fields")
        hashes.append(hash.value)
        lines.append(line)
        rowCount += 1
        hash = FNV1a()
    }

    /// Drops the fields appended since the last `endRow` (a row that failed half-way).
    public mutating func discardOpenRow() {
        let keep = rowCount * width
        guard kinds.count > keep else { return }
        let end = keep == 0 ? 0 : ends[keep - 1]
        kinds.removeSubrange(keep...)
        nums.removeSubrange(keep...)
        ends.removeSubrange(keep...)
        bytes.removeSubrange(end...)
        hash = FNV1a()
    }

    /// The content hash of row `r` (the staged `__hash`, as a bit pattern).
    public func hash(ofRow r: Int) -> UInt64 { hashes[r] }
    public func line(ofRow r: Int) -> Int { lines[r] }

    /// Field `c` of row `r` as a `Value`.
    public func value(_ r: Int, _ c: Int) -> Value {
        let f = r * width + c
        switch Kind(rawValue: kinds[f])! {
        case .null: return .null
        case .integer: return .integer(nums[f])
        case .real: return .real(Double(bitPattern: UInt64(bitPattern: nums[f])))
        case .text: return .text(String(decoding: bytes[Int(nums[f])..<ends[f]], as: UTF8.self))
        case .blob: return .blob(Array(bytes[Int(nums[f])..<ends[f]]))
        }
    }

    /// Row `r` as `Value`s.
    public func row(_ r: Int) -> [Value] { (0..<width).map { value(r, $0) } }

    /// The content hash the staging writer records for a row of `Value`s (FNV-1a over each value
    /// with its type); `hash(ofRow:)` equals it for the same values.
    public static func contentHash(of values: [Value]) -> UInt64 {
        var h = FNV1a()
        for v in values { h.add(v) }
        return h.value
    }
}

/// Well-formed UTF-8 (Unicode 3.9, table 3-7): exactly the sequences `String(decoding:as:)` keeps.
enum UTF8Check {
    static func isValid(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = b.count
        var i = 0
        // ASCII runs, eight bytes at a time.
        while i < n {
            if i + 8 <= n {
                let w = UnsafeRawPointer(b.baseAddress! + i).loadUnaligned(as: UInt64.self)
                if w & 0x8080_8080_8080_8080 == 0 { i += 8; continue }
            }
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            if c < 0xC2 { return false }
            if c < 0xE0 {
                guard i + 1 < n, b[i + 1] & 0xC0 == 0x80 else { return false }
                i += 2; continue
            }
            if c < 0xF0 {
                guard i + 2 < n else { return false }
                let c1 = b[i + 1]
                let lo: UInt8 = c == 0xE0 ? 0xA0 : 0x80, hi: UInt8 = c == 0xED ? 0x9F : 0xBF
                guard c1 >= lo, c1 <= hi, b[i + 2] & 0xC0 == 0x80 else { return false }
                i += 3; continue
            }
            if c < 0xF5 {
                guard i + 3 < n else { return false }
                let c1 = b[i + 1]
                let lo: UInt8 = c == 0xF0 ? 0x90 : 0x80, hi: UInt8 = c == 0xF4 ? 0x8F : 0xBF
                guard c1 >= lo, c1 <= hi, b[i + 2] & 0xC0 == 0x80, b[i + 3] & 0xC0 == 0x80 else { return false }
                i += 4; continue
            }
            return false
        }
        return true
    }
}

/// A reader that can hand over whole batches of decoded rows (the snapshot prefers this to `next()`).
public protocol BatchRowReader: RowReader {
    /// Appends up to `maxRows` rows (fewer when the batch's bytes pass `maxBytes`) to `batch`,
    /// whose width is `columns.count`; returns false when the source has no more rows (the rows
    /// appended by that call, if any, are still in the batch). `itemsRead` counts the rows.
    func nextBatch(into batch: inout RowBatch, maxRows: Int, maxBytes: Int) throws -> Bool
}
