#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Text encoding of a CSV file. Output is always UTF-8.
public enum CSVEncoding: String, Sendable {
    case utf8 = "utf-8"
    case latin1 = "latin-1"
}

/// How to read a CSV/TSV file.
public struct CSVOptions: Sendable {
    /// Field separator: `,`, `\t`, `;`, `|` … Must not be CR, LF or the quote byte.
    public var delimiter: UInt8 = UInt8(ascii: ",")
    /// Quote byte; `""` inside a quoted field stands for one quote.
    public var quote: UInt8 = UInt8(ascii: "\"")
    /// The first non-blank record holds the column names.
    public var header: Bool = true
    public var encoding: CSVEncoding = .utf8
    /// Explicit column names; they win over the header row (which is still skipped when
    /// `header` is true) and fix the expected row width.
    public var columns: [String]? = nil
    public init() {}

    /// Tab-separated values with a header row.
    public static var tsv: CSVOptions {
        var o = CSVOptions()
        o.delimiter = UInt8(ascii: "\t")
        return o
    }
}

/// A record that was read but not returned as a row.
public struct CSVProblem: Sendable, Equatable {
    /// 1-based physical line where the record starts.
    public var line: Int
    public var reason: String
    /// The record as it appeared in the file (without its line break), lossily decoded,
    /// at most 4 KiB. May hold personal data: show it only when asked to.
    public var raw: String
    public init(line: Int, reason: String, raw: String) {
        self.line = line
        self.reason = reason
        self.raw = raw
    }
}

/// A batch of parsed rows in flat buffers (no per-field `String`).
public struct CSVBatch: Sendable {
    /// All field contents, unquoted, concatenated; valid UTF-8.
    public var bytes: [UInt8]
    /// End offset (exclusive) in `bytes` of each field; field `i` starts at `fieldEnds[i-1]` (or 0).
    public var fieldEnds: [Int32]
    /// Bit set, one bit per field (bit `i % 64` of word `i / 64`): the field was quoted in the
    /// file. Lets a later stage tell `""` from an empty unquoted field.
    public var fieldQuoted: [UInt64]
    public var rowCount: Int
    /// Fields per row (the header width); row `r`'s fields are `r*width ..< (r+1)*width`.
    public var width: Int
    /// 1-based physical line where each row starts.
    public var lines: [Int]
    /// ``CSVHash`` of each row.
    public var hashes: [UInt64]
    /// Records met while filling this batch that are not among its rows.
    public var problems: [CSVProblem]

    public init(
        bytes: [UInt8], fieldEnds: [Int32], fieldQuoted: [UInt64], rowCount: Int, width: Int,
        lines: [Int], hashes: [UInt64], problems: [CSVProblem]
    ) {
        self.bytes = bytes
        self.fieldEnds = fieldEnds
        self.fieldQuoted = fieldQuoted
        self.rowCount = rowCount
        self.width = width
        self.lines = lines
        self.hashes = hashes
        self.problems = problems
    }

    @inline(__always)
    func range(_ row: Int, _ col: Int) -> Range<Int> {
        precondition(row >= 0 && row < rowCount && col >= 0 && col < width, "field (\(row), \(col)) out of range")
        let i = row &* width &+ col
        let start = i == 0 ? 0 : Int(fieldEnds[i &- 1])
        return start..<Int(fieldEnds[i])
    }

    /// The field as a `String` (allocates; for tests and slow paths).
    public func field(_ row: Int, _ col: Int) -> String {
        String(decoding: bytes[range(row, col)], as: UTF8.self)
    }

    /// Calls `body` with the field's UTF-8 bytes, without copying.
    public func withField<R>(_ row: Int, _ col: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let r = range(row, col)
        return try bytes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[r])) }
    }

    /// Whether the field was quoted in the file.
    public func isQuoted(_ row: Int, _ col: Int) -> Bool {
        precondition(row >= 0 && row < rowCount && col >= 0 && col < width, "field (\(row), \(col)) out of range")
        let i = row &* width &+ col
        return fieldQuoted[i >> 6] & (1 << UInt64(i & 63)) != 0
    }

    /// All fields of a row as strings (allocates).
    public func row(_ row: Int) -> [String] {
        (0..<width).map { field(row, $0) }
    }
}

/// A file that could not be read, or options that cannot work.
public struct CSVError: Error, CustomStringConvertible, Sendable {
    public var path: String
    /// 1-based line, when the error belongs to one.
    public var line: Int?
    public var message: String
    public init(path: String, line: Int? = nil, message: String) {
        self.path = path
        self.line = line
        self.message = message
    }
    /// `crm.csv: cannot open: No such file or directory`, or `crm.csv:12: …` with a line.
    public var description: String {
        if let line { return "\(path):\(line): \(message)" }
        return "\(path): \(message)"
    }
}

/// Streaming RFC 4180 reader over bytes: CSV, TSV and friends.
///
/// Reads its input in chunks (1 MiB by default); memory is bounded by the chunk, the batch and
/// the longest record, not by the file. Records end at LF, CRLF or a lone CR; quoted fields may
/// hold delimiters, doubled quotes and line breaks. Blank lines are skipped. A record that cannot
/// be a row (wrong field count, bad quoting, invalid UTF-8) is reported in
/// ``CSVBatch/problems`` and parsing goes on.
///
/// Not thread-safe: one reader belongs to one task at a time.
public final class CSVReader {
    /// Column names: the header row, or `options.columns`, or `c1…cN` from the first row's width;
    /// de-duplicated case-insensitively (a second `email` becomes `email_2`) and an empty name
    /// becomes `c<index>` (1-based).
    public private(set) var header: [String] = []
    /// Good rows plus problem records returned so far; every physical record is counted once,
    /// the header row is not.
    public private(set) var rowsRead: Int = 0
    /// Fields per row (`header.count`).
    public private(set) var width: Int = 0
    public let options: CSVOptions
    /// The path given, or `<bytes>`.
    public let path: String

    // Input: buf[pos..<end] is unconsumed data; buf[end] always holds a LF sentinel so the scan
    // loops need no bounds check, followed by initialized padding for word loads.
    private var fd: Int32 = -1
    private var source: [UInt8] = []
    private var sourceOffset = 0
    private var buf: UnsafeMutablePointer<UInt8>
    private var cap: Int
    private var pos = 0
    private var end = 0
    private var eof = false
    private var finished = false
    private var line = 1
    private let chunkSize: Int
    private let maxRecordBytes: Int

    private let latin1: Bool

    // Batch scratch, reused across batches.
    private var ob: UnsafeMutablePointer<UInt8>
    private var obCap: Int
    private var fe: UnsafeMutablePointer<Int32>
    private var feCap: Int
    private var qb: UnsafeMutablePointer<UInt64>
    private var qbCap: Int
    private var qbDirty = 0
    // The current record joined with CSVHash.separator, for hashing (with padding for word loads).
    private var jn: UnsafeMutablePointer<UInt8>
    private var jnCap: Int

    /// A batch stops taking rows once its bytes pass this, so `Int32` offsets stay safe.
    private static let batchByteLimit = 32 << 20
    private static let rawLimit = 4096
    /// The scan loops read and write whole 8-byte words past the sentinel / the field end, and
    /// the hash reads up to 15 bytes past the joined record; buffers carry this much slack.
    private static let inputPadding = 16

    /// Opens `path`. Throws ``CSVError`` when it cannot be opened or read, or is a directory.
    public convenience init(path: String, options: CSVOptions = .init()) throws {
        try self.init(path: path, options: options, chunkSize: 1 << 20)
    }

    /// Reads from memory (tests, small inputs).
    public convenience init(bytes: [UInt8], options: CSVOptions = .init()) throws {
        try self.init(bytes: bytes, options: options, chunkSize: 1 << 20)
    }

    convenience init(path: String, options: CSVOptions, chunkSize: Int, maxRecordBytes: Int = 64 << 20) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            throw CSVError(path: path, message: "cannot open: \(Self.errnoText())")
        }
        var st = stat()
        if fstat(fd, &st) != 0 {
            let e = Self.errnoText()
            close(fd)
            throw CSVError(path: path, message: "cannot open: \(e)")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw CSVError(path: path, message: "cannot open: Is a directory")
        }
        try self.init(path: path, fd: fd, bytes: [], options: options, chunkSize: chunkSize, maxRecordBytes: maxRecordBytes)
    }

    convenience init(bytes: [UInt8], options: CSVOptions, chunkSize: Int, maxRecordBytes: Int = 64 << 20) throws {
        try self.init(path: "<bytes>", fd: -1, bytes: bytes, options: options, chunkSize: chunkSize, maxRecordBytes: maxRecordBytes)
    }

    private init(path: String, fd: Int32, bytes: [UInt8], options: CSVOptions, chunkSize: Int, maxRecordBytes: Int) throws {
        self.path = path
        self.fd = fd
        self.source = bytes
        self.options = options
        self.chunkSize = max(1, chunkSize)
        self.maxRecordBytes = max(16, maxRecordBytes)
        self.latin1 = options.encoding == .latin1
        cap = fd >= 0 ? max(2 * self.chunkSize, 64) : max(64, min(2 * self.chunkSize, bytes.count + 64))
        buf = .allocate(capacity: cap + Self.inputPadding)
        Self.markEnd(buf)
        obCap = 1 << 16
        ob = .allocate(capacity: obCap)
        feCap = 1 << 12
        fe = .allocate(capacity: feCap)
        qbCap = (feCap >> 6) + 2
        qb = .allocate(capacity: qbCap)
        qb.initialize(repeating: 0, count: qbCap)
        jnCap = 1 << 12
        jn = .allocate(capacity: jnCap)
        jn.initialize(repeating: 0, count: jnCap)

        let d = options.delimiter, q = options.quote
        if d == 10 || d == 13 || q == 10 || q == 13 || d == q {
            throw CSVError(path: path, message: "invalid options: delimiter and quote must differ and not be a line break")
        }
        try start()
    }

    deinit {
        if fd >= 0 { close(fd) }
        buf.deallocate()
        ob.deallocate()
        fe.deallocate()
        qb.deallocate()
        jn.deallocate()
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }

    // MARK: Input

    /// Moves `buf[keepFrom..<end]` to the front (so `pos` becomes 0) and appends at least one byte,
    /// or sets `eof`.
    private func refill(keepFrom: Int) throws {
        let keep = end &- keepFrom
        if keepFrom > 0 {
            if keep > 0 { memmove(buf, buf + keepFrom, keep) }
            pos = 0
            end = keep
        }
        if eof { Self.markEnd(buf + end); return }
        // Read at least as much again as a long pending record, so rescanning it stays linear.
        var want = keep >= (1 << 20) ? max(chunkSize, keep) : chunkSize
        if fd < 0 { want = min(want, max(1, source.count &- sourceOffset)) }
        if cap &- end < want {
            let newCap = max(cap * 2, end + want)
            let nb = UnsafeMutablePointer<UInt8>.allocate(capacity: newCap + Self.inputPadding)
            nb.update(from: buf, count: end)
            buf.deallocate()
            buf = nb
            cap = newCap
        }
        var n = 0
        if fd >= 0 {
            while true {
                let r = read(fd, buf + end, want)
                if r >= 0 { n = r; break }
                if errno == EINTR { continue }
                throw CSVError(path: path, line: line, message: "read error: \(Self.errnoText())")
            }
        } else {
            n = min(want, source.count &- sourceOffset)
            if n > 0 {
                source.withUnsafeBufferPointer { src in
                    (buf + end).update(from: src.baseAddress! + sourceOffset, count: n)
                }
                sourceOffset &+= n
            }
        }
        if n == 0 {
            eof = true
            if fd >= 0 { close(fd); fd = -1 }
            source = []
        } else {
            end &+= n
        }
        Self.markEnd(buf + end)
    }

    /// Writes the LF sentinel and initializes the bytes the scan loops may load past it.
    @inline(__always)
    private static func markEnd(_ p: UnsafeMutablePointer<UInt8>) {
        UnsafeMutableRawPointer(p).storeBytes(of: 0x0A0A_0A0A_0A0A_0A0A as UInt64, as: UInt64.self)
        UnsafeMutableRawPointer(p + 8).storeBytes(of: 0x0A0A_0A0A_0A0A_0A0A as UInt64, as: UInt64.self)
    }

    /// Skips blank lines. Returns false at the end of input.
    private func skipBlankLines() throws -> Bool {
        while true {
            if pos >= end {
                if eof { return false }
                try refill(keepFrom: pos)
                continue
            }
            let b = buf[pos]
            if b == 10 {
                pos &+= 1
                line &+= 1
            } else if b == 13 {
                if pos &+ 1 < end {
                    pos &+= buf[pos &+ 1] == 10 ? 2 : 1
                    line &+= 1
                } else if eof {
                    pos &+= 1
                    line &+= 1
                } else {
                    try refill(keepFrom: pos)
                }
            } else {
                return true
            }
        }
    }

    private func start() throws {
        while end &- pos < 3 && !eof { try refill(keepFrom: pos) }
        if end &- pos >= 3 && buf[pos] == 0xEF && buf[pos &+ 1] == 0xBB && buf[pos &+ 2] == 0xBF {
            pos &+= 3
        }
        var names: [String] = []
        if options.header {
            if let fields = try headerRecord(consume: true) { names = fields }
        } else if options.columns == nil {
            if let fields = try headerRecord(consume: false) {
                names = (1...max(1, fields.count)).map { "c\($0)" }
            }
        }
        if let cols = options.columns { names = cols }
        header = Self.dedupe(names)
        width = header.count
        if width == 0 {
            // No data at all (or an explicit empty column list): nothing to return.
            finished = true
        }
    }

    /// Parses the next record for its fields as strings; `consume: false` leaves it unread.
    private func headerRecord(consume: Bool) throws -> [String]? {
        guard try skipBlankLines() else { return nil }
        while true {
            ensureCapacity(outLen: 0, feLen: 0)
            let r = scanRecord(from: pos, line: line, outStart: 0, feStart: 0)
            clearQuoted(from: 0, count: r.fields &+ 1)
            if case .incomplete = r.status {
                if eof {
                    preconditionFailure("CSV scan incomplete at end of input")
                }
                if end &- pos >= maxRecordBytes {
                    throw CSVError(path: path, line: line, message: "first record exceeds \(maxRecordBytes) bytes")
                }
                try refill(keepFrom: pos)
                continue
            }
            var out: [String] = []
            out.reserveCapacity(r.fields)
            var s = 0
            for k in 0..<r.fields {
                let e = Int(fe[k])
                out.append(String(decoding: UnsafeBufferPointer(start: ob + s, count: e &- s), as: UTF8.self))
                s = e
            }
            if consume {
                pos = r.next
                line = r.line
            }
            return out
        }
    }

    static func dedupe(_ names: [String]) -> [String] {
        var used = Set<String>()
        var out: [String] = []
        out.reserveCapacity(names.count)
        for (i, raw) in names.enumerated() {
            let blank = raw.utf8.allSatisfy { $0 == 32 || $0 == 9 }
            let base = blank ? "c\(i + 1)" : raw
            var name = base
            var k = 2
            while used.contains(name.lowercased()) {
                name = "\(base)_\(k)"
                k += 1
            }
            used.insert(name.lowercased())
            out.append(name)
        }
        return out
    }

    // MARK: Scratch buffers

    /// Makes room for one more record taken from `buf[pos..<end]` (a record cannot be longer).
    @inline(__always)
    private func ensureCapacity(outLen: Int, feLen: Int) {
        let avail = end &- pos
        let outNeed = latin1 ? 2 &* avail &+ 16 : avail &+ 16
        if obCap &- outLen < outNeed { growOut(to: outLen &+ outNeed, keep: outLen) }
        if feCap &- feLen < avail &+ 2 { growFields(to: feLen &+ avail &+ 2, keep: feLen) }
        if jnCap < outNeed &+ avail &+ 16 { growJoined(to: outNeed &+ avail &+ 16) }
    }

    private func growOut(to need: Int, keep: Int) {
        regrow(&ob, capacity: &obCap, to: need, keep: keep)
    }

    private func growFields(to need: Int, keep: Int) {
        regrow(&fe, capacity: &feCap, to: need, keep: keep)
        let qn = (feCap >> 6) + 2
        let q = UnsafeMutablePointer<UInt64>.allocate(capacity: qn)
        q.update(from: qb, count: qbCap)
        (q + qbCap).initialize(repeating: 0, count: qn - qbCap)
        qb.deallocate()
        qb = q
        qbCap = qn
    }

    private func growJoined(to need: Int) {
        let n = max(need, jnCap * 2)
        jn.deallocate()
        jn = .allocate(capacity: n)
        jn.initialize(repeating: 0, count: n)
        jnCap = n
    }

    /// High bit set in each byte of `x` that is zero. Bytes above the first zero byte may be
    /// flagged falsely (borrow), so only the lowest flag is exact, which is all the scan uses.
    @inline(__always)
    static func zeroBytes(_ x: UInt64) -> UInt64 {
        (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
    }

    @inline(__always)
    private func clearQuoted(from: Int, count: Int) {
        var i = from
        let e = from &+ count
        while i < e {
            qb[i >> 6] &= ~(1 << UInt64(i & 63))
            i &+= 1
        }
    }

    // MARK: Scanning

    enum ScanStatus {
        case ok
        /// The record runs past the buffered data; read more and scan it again.
        case incomplete
        case badQuote(field: Int)
        case unterminated(line: Int)
    }

    struct ScanResult {
        var status: ScanStatus
        /// Position after the record's line break.
        var next = 0
        /// End of the record's raw text (before the line break).
        var recEnd = 0
        var fields = 0
        var outEnd = 0
        var joinedLen = 0
        /// Some content byte is >= 0x80.
        var nonASCII = false
        /// Line after the record.
        var line = 0
    }

    /// Scans one record starting at `start` (not at a line break), writing its fields to
    /// `ob[outStart...]`, their ends to `fe[feStart...]`, quoted bits to `qb` and the joined form
    /// to `jn`. Capacity must have been ensured.
    @inline(__always)
    private func scanRecord(from start: Int, line lineIn: Int, outStart: Int, feStart: Int) -> ScanResult {
        let p = buf
        let end = self.end
        let eof = self.eof
        let delim = options.delimiter
        let quote = options.quote
        let out = ob
        let fe = self.fe
        let qb = self.qb
        let jn = self.jn
        let lf: UInt8 = 10
        let cr: UInt8 = 13
        let ones: UInt64 = 0x0101_0101_0101_0101
        let delimW = ones &* UInt64(delim)
        let quoteW = ones &* UInt64(quote)
        let lfW = ones &* 10
        let crW = ones &* 13
        let highStop: UInt64 = latin1 ? 0x8080_8080_8080_8080 : 0

        var line = lineIn
        var i = start
        var o = outStart
        var nf = 0
        var hi: UInt64 = 0
        var jOff = -outStart  // jn index = o + jOff
        var status = ScanStatus.ok
        var recEnd = 0
        var next = 0

        fields: while true {
            var b = p[i]
            var plain = true
            if b == quote {
                let qLine = line
                i &+= 1
                quoted: while true {
                    // Copy 8 bytes at a time up to the next quote / line break (/ latin-1 byte).
                    while true {
                        let w = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
                        UnsafeMutableRawPointer(out + o).storeBytes(of: w.littleEndian, as: UInt64.self)
                        UnsafeMutableRawPointer(jn + (o &+ jOff)).storeBytes(of: w.littleEndian, as: UInt64.self)
                        let m = Self.zeroBytes(w ^ quoteW) | Self.zeroBytes(w ^ lfW) | Self.zeroBytes(w ^ crW) | (w & highStop)
                        if m == 0 {
                            hi |= w
                            i &+= 8
                            o &+= 8
                            continue
                        }
                        let k = m.trailingZeroBitCount >> 3
                        hi |= w & ((1 &<< UInt64(k &* 8)) &- 1)
                        i &+= k
                        o &+= k
                        break
                    }
                    b = p[i]
                    if b == quote {
                        if i &+ 1 >= end {
                            if !eof { return ScanResult(status: .incomplete, fields: nf) }
                            i &+= 1
                            break quoted
                        }
                        if p[i &+ 1] == quote {
                            out[o] = b
                            jn[o &+ jOff] = b
                            o &+= 1
                            i &+= 2
                            continue
                        }
                        i &+= 1
                        break quoted
                    }
                    if i == end {
                        if !eof { return ScanResult(status: .incomplete, fields: nf) }
                        if case .ok = status { status = .unterminated(line: qLine) }
                        fe[feStart &+ nf] = Int32(truncatingIfNeeded: o)
                        nf &+= 1
                        recEnd = end
                        next = end
                        break fields
                    }
                    if b == lf {
                        if p[i &- 1] != cr { line &+= 1 }
                    } else if b == cr {
                        line &+= 1
                    } else {
                        // latin-1 byte >= 0x80 → two-byte UTF-8
                        let b0 = 0xC0 | (b >> 6), b1 = 0x80 | (b & 0x3F)
                        out[o] = b0
                        out[o &+ 1] = b1
                        jn[o &+ jOff] = b0
                        jn[o &+ jOff &+ 1] = b1
                        o &+= 2
                        i &+= 1
                        continue
                    }
                    out[o] = b
                    jn[o &+ jOff] = b
                    o &+= 1
                    i &+= 1
                }
                let fi = feStart &+ nf
                qb[fi >> 6] |= 1 << UInt64(fi & 63)
                b = p[i]
                if b == delim || b == lf || b == cr {
                    plain = false
                } else if case .ok = status {
                    status = .badQuote(field: nf &+ 1)
                }
            }
            if plain {
                // Unquoted field (or the rest of a badly quoted one): quotes are literal.
                while true {
                    while true {
                        let w = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
                        UnsafeMutableRawPointer(out + o).storeBytes(of: w.littleEndian, as: UInt64.self)
                        UnsafeMutableRawPointer(jn + (o &+ jOff)).storeBytes(of: w.littleEndian, as: UInt64.self)
                        let m = Self.zeroBytes(w ^ delimW) | Self.zeroBytes(w ^ lfW) | Self.zeroBytes(w ^ crW) | (w & highStop)
                        if m == 0 {
                            hi |= w
                            i &+= 8
                            o &+= 8
                            continue
                        }
                        let k = m.trailingZeroBitCount >> 3
                        hi |= w & ((1 &<< UInt64(k &* 8)) &- 1)
                        i &+= k
                        o &+= k
                        break
                    }
                    b = p[i]
                    if b == delim || b == lf || b == cr { break }
                    let b0 = 0xC0 | (b >> 6), b1 = 0x80 | (b & 0x3F)
                    out[o] = b0
                    out[o &+ 1] = b1
                    jn[o &+ jOff] = b0
                    jn[o &+ jOff &+ 1] = b1
                    o &+= 2
                    i &+= 1
                }
            }
            fe[feStart &+ nf] = Int32(truncatingIfNeeded: o)
            nf &+= 1
            if b == delim {
                jn[o &+ jOff] = CSVHash.separator
                jOff &+= 1
                i &+= 1
                continue fields
            }
            // Line break, or the sentinel at `end`.
            if i == end {
                if !eof { return ScanResult(status: .incomplete, fields: nf) }
                recEnd = end
                next = end
            } else if b == lf {
                recEnd = i
                next = i &+ 1
                line &+= 1
            } else {
                recEnd = i
                if i &+ 1 < end {
                    next = p[i &+ 1] == lf ? i &+ 2 : i &+ 1
                } else if eof {
                    next = i &+ 1
                } else {
                    return ScanResult(status: .incomplete, fields: nf)
                }
                line &+= 1
            }
            break fields
        }
        return ScanResult(
            status: status, next: next, recEnd: recEnd, fields: nf, outEnd: o,
            joinedLen: o &+ jOff, nonASCII: hi & 0x8080_8080_8080_8080 != 0, line: line)
    }

    // MARK: Batches

    /// The next batch of at most `maxRows` rows plus the problems met on the way, or `nil` at the
    /// end of input. A batch may hold no rows but only problems.
    public func nextBatch(maxRows: Int = 8192) throws -> CSVBatch? {
        if finished { return nil }
        let maxRows = max(1, maxRows)
        // Clear the quoted bits the previous batch used.
        if qbDirty > 0 { qb.update(repeating: 0, count: min(qbCap, qbDirty)) }

        var rows = 0
        var problems: [CSVProblem] = []
        var lines: [Int] = []
        lines.reserveCapacity(min(maxRows, 1 << 16))
        var hashes: [UInt64] = []
        hashes.reserveCapacity(min(maxRows, 1 << 16))
        var obLen = 0
        var feLen = 0
        let width = self.width
        let validate = !latin1

        while rows &+ problems.count < maxRows && obLen < Self.batchByteLimit {
            if pos >= end || buf[pos] == 10 || buf[pos] == 13 {
                if try !skipBlankLines() {
                    finished = true
                    break
                }
            }
            ensureCapacity(outLen: obLen, feLen: feLen)
            let startLine = line
            let r = scanRecord(from: pos, line: startLine, outStart: obLen, feStart: feLen)
            if case .incomplete = r.status {
                clearQuoted(from: feLen, count: r.fields &+ 1)
                if end &- pos >= maxRecordBytes {
                    problems.append(try skipOverlongRecord())
                    rowsRead &+= 1
                } else {
                    try refill(keepFrom: pos)
                }
                continue
            }
            let recStart = pos
            pos = r.next
            line = r.line
            rowsRead &+= 1

            var reason: String? = nil
            switch r.status {
            case .badQuote(let f):
                reason = "unexpected character after closing quote in field \(f)"
            case .unterminated(let l):
                reason = "unterminated quoted field starting at line \(l)"
            default:
                if r.fields != width {
                    reason = "expected \(width) fields, found \(r.fields)"
                } else if validate && r.nonASCII {
                    if let k = invalidUTF8Field(outStart: obLen, outEnd: r.outEnd, feStart: feLen, fields: r.fields) {
                        reason = "invalid UTF-8 in field \(k)"
                    }
                }
            }
            if let reason {
                clearQuoted(from: feLen, count: r.fields)
                problems.append(CSVProblem(line: startLine, reason: reason, raw: rawText(recStart, r.recEnd)))
                continue
            }
            hashes.append(CSVHash.hashPadded(jn, count: r.joinedLen))
            lines.append(startLine)
            feLen &+= r.fields
            obLen = r.outEnd
            rows &+= 1
        }
        qbDirty = (feLen >> 6) &+ 1
        if rows == 0 && problems.isEmpty { return nil }
        return CSVBatch(
            bytes: Array(UnsafeBufferPointer(start: ob, count: obLen)),
            fieldEnds: Array(UnsafeBufferPointer(start: fe, count: feLen)),
            fieldQuoted: Array(UnsafeBufferPointer(start: qb, count: (feLen &+ 63) >> 6)),
            rowCount: rows, width: width, lines: lines, hashes: hashes, problems: problems)
    }

    /// A record longer than `maxRecordBytes` (usually an unclosed quote): report it and resume at
    /// the first line break after its start, the best guess for where it was meant to end.
    private func skipOverlongRecord() throws -> CSVProblem {
        let startLine = line
        let raw = rawText(pos, min(end, pos &+ Self.rawLimit))
        var i = pos &+ 1
        while true {
            while i < end && buf[i] != 10 && buf[i] != 13 { i &+= 1 }
            if i < end || eof { break }
            pos = end
            try refill(keepFrom: pos)
            i = 0
        }
        pos = i  // the line break itself is consumed by skipBlankLines
        return CSVProblem(
            line: startLine, reason: "record exceeds \(maxRecordBytes) bytes; skipped to the next line break", raw: raw)
    }

    private func rawText(_ from: Int, _ to: Int) -> String {
        var n = min(to &- from, Self.rawLimit)
        if latin1 {
            var s = ""
            s.unicodeScalars.reserveCapacity(n)
            for k in 0..<n { s.unicodeScalars.append(Unicode.Scalar(buf[from &+ k])) }
            return s
        }
        if n < to &- from {
            // Don't cut a UTF-8 sequence in two.
            while n > 0 && buf[from &+ n] & 0xC0 == 0x80 && n > Self.rawLimit - 4 { n -= 1 }
        }
        return String(decoding: UnsafeBufferPointer(start: buf + from, count: n), as: UTF8.self)
    }

    /// The 1-based index of the first field of the record in `ob[outStart..<outEnd]` that is not
    /// valid UTF-8, or nil.
    private func invalidUTF8Field(outStart: Int, outEnd: Int, feStart: Int, fields: Int) -> Int? {
        // One pass over the whole record; if it is valid, each field is valid exactly when it
        // starts on a character boundary (not on a continuation byte).
        if Self.isValidUTF8(ob + outStart, count: outEnd &- outStart) {
            var k = 1
            while k < fields {
                let s = Int(fe[feStart &+ k &- 1])
                if s < outEnd && ob[s] & 0xC0 == 0x80 { break }
                k &+= 1
            }
            if k >= fields { return nil }
        }
        var s = outStart
        for k in 0..<fields {
            let e = Int(fe[feStart &+ k])
            if !Self.isValidUTF8(ob + s, count: e &- s) { return k &+ 1 }
            s = e
        }
        return nil  // not reached: some field must be invalid
    }

    /// Strict UTF-8 check (no overlongs, surrogates or code points above U+10FFFF).
    static func isValidUTF8(_ p: UnsafePointer<UInt8>, count n: Int) -> Bool {
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i < n {
            while i &+ 16 <= n
                && (raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    | raw.loadUnaligned(fromByteOffset: i &+ 8, as: UInt64.self)) & 0x8080_8080_8080_8080 == 0
            {
                i &+= 16
            }
            while i &+ 8 <= n
                && raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
            {
                i &+= 8
            }
            if i >= n { break }
            let b = p[i]
            if b < 0x80 {
                i &+= 1
                continue
            }
            if b < 0xC2 { return false }
            if b < 0xE0 {
                guard i &+ 1 < n, p[i &+ 1] & 0xC0 == 0x80 else { return false }
                i &+= 2
                continue
            }
            if b < 0xF0 {
                guard i &+ 2 < n else { return false }
                let b1 = p[i &+ 1], b2 = p[i &+ 2]
                guard b1 & 0xC0 == 0x80, b2 & 0xC0 == 0x80 else { return false }
                if b == 0xE0 && b1 < 0xA0 { return false }
                if b == 0xED && b1 >= 0xA0 { return false }
                i &+= 3
                continue
            }
            if b < 0xF5 {
                guard i &+ 3 < n else { return false }
                let b1 = p[i &+ 1], b2 = p[i &+ 2], b3 = p[i &+ 3]
                guard b1 & 0xC0 == 0x80, b2 & 0xC0 == 0x80, b3 & 0xC0 == 0x80 else { return false }
                if b == 0xF0 && b1 < 0x90 { return false }
                if b == 0xF4 && b1 >= 0x90 { return false }
                i &+= 4
                continue
            }
            return false
        }
        return true
    }
}
