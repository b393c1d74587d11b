import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The byte-level engine behind `JSONRecordReader`: a chunked input buffer, a tokenizer that works
/// in place on it, and the record builder (in `JSONCore+Records.swift`).
///
/// Buffer invariant: bytes `[0, end)` are input, `buf[end] == 0` is a sentinel that stops every scan
/// loop without a bounds check, and `buf[0]` is at absolute offset `base`. A token that reaches the
/// end of the buffer calls `refill(keep:)`, which moves the bytes still needed to the front, so a
/// token being built is always contiguous. Every index held across a refill is shifted by `keep`.
///
/// It is a struct so that the hot paths run on `inout self` without dynamic exclusivity checks;
/// the owning class frees the memory through `release()`.
struct JSONCore {
    enum Input {
        case file(Int32)
        case bytes([UInt8])
    }

    enum ArrayState { case first, more, done }

    /// What `scanNumber` learned about a number literal at `buf[start..<end]`.
    struct Number {
        var start = 0
        var end = 0
        var negative = false
        var isInteger = true
        /// The first 19 significant digits.
        var mantissa: UInt64 = 0
        /// Count of significant digits (leading zeros excluded), including those past 19.
        var digits = 0
        /// value = mantissa * 10^exponent (ignoring digits dropped past 19).
        var exponent = 0
        var truncated = false
    }

    static let rawLimit = 4096

    // MARK: Input

    var input: Input
    var inputOffset = 0
    let name: String
    let layout: JSONLayout
    let recordPath: [String]
    let flatten: Bool
    let maxDepth: Int
    let chunk: Int

    var buf: UnsafeMutablePointer<UInt8>
    var cap: Int
    var pos = 0
    var end = 0
    var base = 0
    var eof = false
    var released = false

    /// 256 string classes: 0 plain, 1 quote, 2 backslash, 3 control or sentinel, 4 non-ASCII.
    let strClass: UnsafeMutablePointer<UInt8>
    /// 256 whitespace classes: 0 significant, 1 blank, 2 newline, 3 NUL (maybe the sentinel).
    /// In NDJSON a newline is significant: a value may not run over a line end.
    let wsClass: UnsafeMutablePointer<UInt8>
    let pow10: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    // MARK: Position (for messages)

    var line = 1
    /// Absolute offset of the current line's first byte.
    var lineStart = 0
    /// UTF-8 continuation bytes seen on the current line, so columns count scalars, not bytes.
    var cont = 0

    /// NDJSON: the first bytes of the current line that a refill already dropped from the buffer.
    var trackLine = false
    var lineHead: [UInt8] = []

    // MARK: Scratch

    var scratch: [UInt8] = []
    var out: [UInt8] = []
    /// `walkValue` stops writing to `out` past this (raw text of problems is cut anyway).
    var outLimit = Int.max

    // MARK: Records (see JSONCore+Records.swift)

    var arrayState = ArrayState.first
    var arrayDepth = 0
    var recordIndex = 0
    var fields: [(String, Value)] = []
    var fieldPath: [Int32] = []
    var lastFieldCount = 8
    var recordSerial = 0
    var objectSerial = 0

    var keys = JSONKeyTable()

    init(input: Input, name: String, options: JSONReadOptions) {
        self.input = input
        self.name = name
        layout = options.layout
        recordPath = options.recordPath
        flatten = options.flatten
        maxDepth = max(1, options.maxDepth)
        chunk = max(1, options.chunkSize)
        cap = chunk
        buf = .allocate(capacity: cap + 8)
        buf.initialize(repeating: 0, count: cap + 8)
        strClass = .allocate(capacity: 512)
        wsClass = strClass + 256
        for b in 0..<256 {
            var s: UInt8 = 0
            if b == 0x22 { s = 1 } else if b == 0x5C { s = 2 } else if b < 0x20 { s = 3 } else if b >= 0x80 { s = 4 }
            var w: UInt8 = 0
            switch b {
            case 0x20, 0x09, 0x0D: w = 1
            case 0x0A: w = options.layout == .ndjson ? 0 : 2
            case 0x00: w = 3
            default: w = 0
            }
            strClass[b] = s
            wsClass[b] = w
        }
        trackLine = options.layout == .ndjson
    }

    /// Frees the buffer and closes the file; safe to call more than once.
    mutating func release() {
        if released { return }
        released = true
        buf.deallocate()
        strClass.deallocate()
        keys.deallocate()
        if case .file(let fd) = input { _ = close(fd) }
        input = .bytes([])
    }

    // MARK: Buffer

    mutating func readInput(into p: UnsafeMutablePointer<UInt8>, count n: Int) throws(JSONReadError) -> Int {
        switch input {
        case .file(let fd):
            while true {
                let r = read(fd, p, n)
                if r >= 0 { return r }
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                throw JSONReadError(path: name, line: 0, column: 0, message: "read error: \(reason)")
            }
        case .bytes(let bytes):
            let offset = inputOffset
            let k = min(n, bytes.count - offset)
            if k > 0 {
                bytes.withUnsafeBufferPointer { src in
                    _ = memcpy(p, src.baseAddress! + offset, k)
                }
            }
            inputOffset += k
            return k
        }
    }

    /// Drops `buf[0..<keep]`, moves the rest to the front and reads one more chunk. Returns the
    /// number of bytes read (0 at end of input). Does not touch `pos`: callers shift their indices.
    @discardableResult
    mutating func refill(keep: Int) throws(JSONReadError) -> Int {
        if trackLine { saveLineHead(upTo: keep) }
        let kept = end - keep
        if keep > 0 {
            if kept > 0 { memmove(buf, buf + keep, kept) }
            base += keep
        }
        end = kept
        if eof {
            buf[end] = 0
            return 0
        }
        if cap - end < chunk {
            let newCap = max(cap * 2, end + chunk)
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCap + 8)
            grown.initialize(repeating: 0, count: newCap + 8)
            if end > 0 { grown.update(from: buf, count: end) }
            buf.deallocate()
            buf = grown
            cap = newCap
        }
        let n: Int
        do throws(JSONReadError) {
            n = try readInput(into: buf + end, count: chunk)
        } catch {
            buf[end] = 0
            throw error
        }
        if n == 0 { eof = true }
        end += n
        buf[end] = 0
        return n
    }

    mutating func saveLineHead(upTo keep: Int) {
        let from = max(lineStart - base, 0)
        let room = JSONCore.rawLimit - lineHead.count
        if from < keep && room > 0 {
            lineHead.append(contentsOf: UnsafeBufferPointer(start: buf + from, count: min(keep - from, room)))
        }
    }

    /// Makes `n` bytes available at `pos` unless the input ends first; returns whether it could.
    mutating func ensure(_ n: Int) throws(JSONReadError) -> Bool {
        while end - pos < n {
            if eof { return false }
            let k = pos
            try refill(keep: k)
            pos -= k
        }
        return true
    }

    // MARK: Positions and messages

    func column(at i: Int) -> Int { base + i - lineStart - cont + 1 }

    /// An error at `buf[i]`; also parks `pos` there so NDJSON recovery starts on the right line.
    mutating func error(_ message: String, at i: Int) -> JSONReadError {
        pos = min(max(i, 0), end)
        return JSONReadError(path: name, line: line, column: column(at: pos), message: message)
    }

    func describe(_ i: Int) -> String {
        if i >= end { return "end of file" }
        let b = buf[i]
        if b == 0x0A { return "end of line" }
        if b > 0x20 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return "byte \(JSONCore.hex(b))"
    }

    static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "0x\(digits[Int(b >> 4)])\(digits[Int(b & 15)])"
    }

    static func hex4(_ v: Int) -> String {
        let digits = Array("0123456789ABCDEF")
        return String((0..<4).map { digits[(v >> (12 - 4 * $0)) & 15] })
    }

    mutating func depthError(at i: Int) -> JSONReadError {
        error("nesting deeper than \(maxDepth) levels", at: i)
    }

    mutating func keyError(_ b: UInt8) -> JSONReadError {
        if b == 0x7D { return error("trailing comma before '}'", at: pos) }
        return error("expected a string as object key, found \(describe(pos))", at: pos)
    }

    mutating func valueError() -> JSONReadError {
        error("unexpected \(describe(pos)), expected a value", at: pos)
    }

    // MARK: Whitespace

    /// The next significant byte (whitespace skipped, lines counted); 0 with `pos >= end` at end of input.
    @inline(__always)
    mutating func peek() throws(JSONReadError) -> UInt8 {
        let b = buf[pos]
        if wsClass[Int(b)] == 0 { return b }
        return try skipWhitespace()
    }

    mutating func skipWhitespace() throws(JSONReadError) -> UInt8 {
        var i = pos
        while true {
            let b = buf[i]
            switch wsClass[Int(b)] {
            case 0:
                pos = i
                return b
            case 1:
                i += 1
            case 2:
                i += 1
                line += 1
                lineStart = base + i
                cont = 0
            default:
                if i < end || eof {
                    pos = i
                    return b
                }
                try refill(keep: i)
                i = 0
            }
        }
    }

    // MARK: Strings

    /// Scans the string whose opening quote is at `pos`, checking escapes (surrogates paired) and
    /// UTF-8, and leaves `pos` after the closing quote. With `keep`, the raw (still escaped)
    /// content is `buf[start..<end]`; without, bytes already scanned may be dropped on refill.
    mutating func scanString(keep: Bool) throws(JSONReadError) -> (start: Int, end: Int, escaped: Bool) {
        var start = pos + 1
        var i = start
        var escaped = false
        var p = buf
        let cls = strClass
        while true {
            // Eight bytes at a time while they are plain: no '"', '\\', control or non-ASCII byte.
            // (Borrows only create false hits above a true one, so the lowest hit is exact.)
            while i &+ 8 <= end {
                let w = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
                let q = w ^ 0x2222_2222_2222_2222
                let e = w ^ 0x5C5C_5C5C_5C5C_5C5C
                let hits =
                    ((q &- 0x0101_0101_0101_0101) & ~q) | ((e &- 0x0101_0101_0101_0101) & ~e)
                    | (w &- 0x2020_2020_2020_2020) | w
                let m = hits & 0x8080_8080_8080_8080
                if m != 0 {
                    i &+= m.trailingZeroBitCount >> 3
                    break
                }
                i &+= 8
            }
            var c = cls[Int(p[i])]
            while c == 0 {
                i += 1
                c = cls[Int(p[i])]
            }
            switch c {
            case 1:
                pos = i + 1
                return (start, i, escaped)
            case 2:
                escaped = true
                while end - i < 12 && !eof {
                    let k = keep ? start : i
                    try refill(keep: k)
                    i -= k; start -= k; p = buf
                }
                i = try checkEscape(at: i)
            case 3:
                if i < end {
                    let b = p[i]
                    if b == 0x0A { throw error("unescaped line break in string", at: i) }
                    throw error("unescaped control character \(JSONCore.hex(b)) in string", at: i)
                }
                if eof { throw error("unexpected end of file inside a string", at: i) }
                let k = keep ? start : i
                try refill(keep: k)
                i -= k; start -= k; p = buf
            default:
                while end - i < 4 && !eof {
                    let k = keep ? start : i
                    try refill(keep: k)
                    i -= k; start -= k; p = buf
                }
                i = try checkUTF8(at: i)
            }
        }
    }

    /// Checks the escape whose backslash is at `buf[i]` (up to 12 bytes are available unless the
    /// input ends); returns the index after it.
    mutating func checkEscape(at i: Int) throws(JSONReadError) -> Int {
        guard i + 1 < end else { throw error("unexpected end of file inside a string", at: end) }
        let e = buf[i + 1]
        switch e {
        case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:
            return i + 2
        case 0x75:
            guard let v = hexValue(at: i + 2) else {
                throw error("invalid \\u escape (expected 4 hex digits)", at: i)
            }
            if v >= 0xD800 && v <= 0xDBFF {
                if i + 7 < end, buf[i + 6] == 0x5C, buf[i + 7] == 0x75, let low = hexValue(at: i + 8),
                    low >= 0xDC00 && low <= 0xDFFF
                {
                    return i + 12
                }
                throw error("unpaired surrogate \\u\(JSONCore.hex4(v)) in string", at: i)
            }
            if v >= 0xDC00 && v <= 0xDFFF {
                throw error("unpaired surrogate \\u\(JSONCore.hex4(v)) in string", at: i)
            }
            return i + 6
        default:
            let shown = e > 0x20 && e < 0x7F ? "'\\\(Character(Unicode.Scalar(e)))'" : JSONCore.hex(e)
            throw error("invalid escape \(shown) in string", at: i)
        }
    }

    func hexValue(at i: Int) -> Int? {
        guard i + 4 <= end else { return nil }
        var v = 0
        for k in 0..<4 {
            let b = buf[i + k]
            let d: Int
            switch b {
            case 0x30...0x39: d = Int(b - 0x30)
            case 0x41...0x46: d = Int(b - 0x41 + 10)
            case 0x61...0x66: d = Int(b - 0x61 + 10)
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }

    /// Checks the UTF-8 sequence whose lead byte is at `buf[i]`; returns the index after it.
    mutating func checkUTF8(at i: Int) throws(JSONReadError) -> Int {
        let b0 = buf[i]
        var n = 0
        var lo: UInt8 = 0x80
        var hi: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: n = 2
        case 0xE0: n = 3; lo = 0xA0
        case 0xE1...0xEC, 0xEE, 0xEF: n = 3
        case 0xED: n = 3; hi = 0x9F
        case 0xF0: n = 4; lo = 0x90
        case 0xF1...0xF3: n = 4
        case 0xF4: n = 4; hi = 0x8F
        default: throw error("invalid UTF-8 byte \(JSONCore.hex(b0)) in string", at: i)
        }
        guard i + n <= end else { throw error("truncated UTF-8 sequence in string", at: i) }
        let b1 = buf[i + 1]
        guard b1 >= lo && b1 <= hi else { throw error("invalid UTF-8 sequence in string", at: i) }
        if n > 2 {
            for k in 2..<n where buf[i + k] & 0xC0 != 0x80 {
                throw error("invalid UTF-8 sequence in string", at: i)
            }
        }
        cont += n - 1
        return i + n
    }

    /// Decodes the escaped raw string `buf[s..<e]` (already checked) into `scratch`.
    mutating func decodeEscapes(_ s: Int, _ e: Int) {
        scratch.removeAll(keepingCapacity: true)
        let p = buf
        var i = s
        var run = s
        while i < e {
            if p[i] != 0x5C {
                i += 1
                continue
            }
            if run < i { scratch.append(contentsOf: UnsafeBufferPointer(start: p + run, count: i - run)) }
            let c = p[i + 1]
            i += 2
            switch c {
            case 0x62: scratch.append(0x08)
            case 0x66: scratch.append(0x0C)
            case 0x6E: scratch.append(0x0A)
            case 0x72: scratch.append(0x0D)
            case 0x74: scratch.append(0x09)
            case 0x75:
                var v = hexValue(at: i) ?? 0xFFFD
                i += 4
                if v >= 0xD800 && v <= 0xDBFF {
                    let low = hexValue(at: i + 2) ?? 0xDC00
                    v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                JSONCore.appendUTF8(UInt32(v), to: &scratch)
            default: scratch.append(c)
            }
            run = i
        }
        if run < e { scratch.append(contentsOf: UnsafeBufferPointer(start: p + run, count: e - run)) }
    }

    static func appendUTF8(_ v: UInt32, to a: inout [UInt8]) {
        switch v {
        case 0..<0x80:
            a.append(UInt8(v))
        case 0x80..<0x800:
            a.append(UInt8(0xC0 | v >> 6))
            a.append(UInt8(0x80 | v & 0x3F))
        case 0x800..<0x10000:
            a.append(UInt8(0xE0 | v >> 12))
            a.append(UInt8(0x80 | v >> 6 & 0x3F))
            a.append(UInt8(0x80 | v & 0x3F))
        default:
            a.append(UInt8(0xF0 | v >> 18))
            a.append(UInt8(0x80 | v >> 12 & 0x3F))
            a.append(UInt8(0x80 | v >> 6 & 0x3F))
            a.append(UInt8(0x80 | v & 0x3F))
        }
    }

    /// The string at `pos`, decoded.
    mutating func parseString() throws(JSONReadError) -> String {
        let r = try scanString(keep: true)
        if !r.escaped {
            return String(decoding: UnsafeBufferPointer(start: buf + r.start, count: r.end - r.start), as: UTF8.self)
        }
        decodeEscapes(r.start, r.end)
        return String(decoding: scratch, as: UTF8.self)
    }

    /// Appends the string at `pos` to `out` in canonical form: only `"`, `\` and control
    /// characters escaped, everything else as UTF-8.
    mutating func writeString() throws(JSONReadError) {
        let r = try scanString(keep: true)
        out.append(0x22)
        if !r.escaped {
            out.append(contentsOf: UnsafeBufferPointer(start: buf + r.start, count: r.end - r.start))
        } else {
            decodeEscapes(r.start, r.end)
            for b in scratch {
                switch b {
                case 0x22: out.append(0x5C); out.append(0x22)
                case 0x5C: out.append(0x5C); out.append(0x5C)
                case 0x08: out.append(0x5C); out.append(0x62)
                case 0x0C: out.append(0x5C); out.append(0x66)
                case 0x0A: out.append(0x5C); out.append(0x6E)
                case 0x0D: out.append(0x5C); out.append(0x72)
                case 0x09: out.append(0x5C); out.append(0x74)
                case 0..<0x20: out.append(contentsOf: Array("\\u00".utf8) + Array(JSONCore.hex4(Int(b)).suffix(2).utf8))
                default: out.append(b)
                }
            }
        }
        out.append(0x22)
    }

    // MARK: Numbers and literals

    /// Scans the number literal at `pos` (checking JSON's grammar) and leaves `pos` after it.
    mutating func scanNumber() throws(JSONReadError) -> Number {
        var start = pos
        restart: while true {
            let p = buf
            var r = Number()
            r.start = start
            var i = start
            if p[i] == 0x2D {
                r.negative = true
                i += 1
            }
            var c = p[i]
            if c == 0x30 {
                i += 1
                c = p[i]
                if c &- 0x30 < 10 { throw error("leading zeros are not allowed in numbers", at: i - 1) }
            } else if c &- 0x30 < 10 {
                repeat {
                    if r.digits < 19 {
                        r.mantissa = r.mantissa &* 10 &+ UInt64(c &- 0x30)
                    } else {
                        r.truncated = true
                        r.exponent += 1
                    }
                    r.digits += 1
                    i += 1
                    c = p[i]
                } while c &- 0x30 < 10
            } else {
                if i >= end && !eof {
                    try refill(keep: start)
                    start = 0
                    continue restart
                }
                throw error("invalid number", at: i)
            }
            if c == 0x2E {
                r.isInteger = false
                i += 1
                c = p[i]
                guard c &- 0x30 < 10 else {
                    if i >= end && !eof {
                        try refill(keep: start)
                        start = 0
                        continue restart
                    }
                    throw error("expected a digit after the decimal point", at: i)
                }
                repeat {
                    if r.mantissa == 0 && c == 0x30 {
                        r.exponent -= 1
                    } else if r.digits < 19 {
                        r.mantissa = r.mantissa &* 10 &+ UInt64(c &- 0x30)
                        r.digits += 1
                        r.exponent -= 1
                    } else {
                        r.truncated = true
                        r.digits += 1
                    }
                    i += 1
                    c = p[i]
                } while c &- 0x30 < 10
            }
            if c | 0x20 == 0x65 {
                r.isInteger = false
                i += 1
                c = p[i]
                var negativeExponent = false
                if c == 0x2B || c == 0x2D {
                    negativeExponent = c == 0x2D
                    i += 1
                    c = p[i]
                }
                guard c &- 0x30 < 10 else {
                    if i >= end && !eof {
                        try refill(keep: start)
                        start = 0
                        continue restart
                    }
                    throw error("expected a digit in the exponent", at: i)
                }
                var e = 0
                repeat {
                    if e < 1_000_000 { e = e * 10 + Int(c &- 0x30) }
                    i += 1
                    c = p[i]
                } while c &- 0x30 < 10
                r.exponent += negativeExponent ? -e : e
            }
            if i >= end && !eof {
                try refill(keep: start)
                start = 0
                continue restart
            }
            r.end = i
            pos = i
            return r
        }
    }

    /// The number at `pos` as a value: Int64 when it is an integer that fits, Double when the
    /// Double gives back the literal's digits, otherwise the literal as text (nothing is lost).
    mutating func parseNumber() throws(JSONReadError) -> Value {
        let r = try scanNumber()
        if r.isInteger {
            if r.digits <= 18 {
                let v = Int64(r.mantissa)
                return .integer(r.negative ? -v : v)
            }
            if r.digits == 19 {
                if !r.negative && r.mantissa <= UInt64(Int64.max) { return .integer(Int64(r.mantissa)) }
                if r.negative && r.mantissa <= UInt64(Int64.max) + 1 {
                    return .integer(r.mantissa == UInt64(Int64.max) + 1 ? Int64.min : -Int64(r.mantissa))
                }
            }
            return .text(literal(r))
        }
        // ≤ 15 significant digits always survive a Double; with |exponent| ≤ 22 both factors are
        // exact, so one IEEE multiply or divide is the correctly rounded result (Clinger).
        let clinger = !r.truncated && r.mantissa < 1 << 53 && r.exponent >= -22 && r.exponent <= 22
        if clinger && r.digits <= 15 {
            var d = Double(r.mantissa)
            if r.exponent < 0 { d /= pow10[-r.exponent] } else { d *= pow10[r.exponent] }
            return .real(r.negative ? -d : d)
        }
        var d: Double
        if clinger {
            d = Double(r.mantissa)
            if r.exponent < 0 { d /= pow10[-r.exponent] } else { d *= pow10[r.exponent] }
        } else {
            guard let parsed = Double(literal(r)) else { return .text(literal(r)) }
            d = parsed.magnitude
        }
        guard d.isFinite else { return .text(literal(r)) }
        let real = Value.real(r.negative ? -d : d)
        if r.digits <= 15 && (r.mantissa == 0 || d >= Double.leastNormalMagnitude) { return real }
        // Otherwise keep the Double only if it prints back as the literal's digits.
        if !r.truncated {
            if JSONCore.printsAs(d, r.mantissa, r.exponent) { return real }
        } else if JSONCore.sameDecimal(Array(literal(r).utf8), Array(d.description.utf8)) {
            return real
        }
        return .text(literal(r))
    }

    /// Whether the shortest form of `d` (≥ 0) is `mantissa` × 10^`exponent`.
    static func printsAs(_ d: Double, _ mantissa: UInt64, _ exponent: Int) -> Bool {
        var m = mantissa
        var e = exponent
        if m == 0 { return d == 0 }
        while m % 10 == 0 {
            m /= 10
            e += 1
        }
        var text = d.description
        return text.withUTF8 { u in
            var m2: UInt64 = 0
            var e2 = 0
            var afterPoint = false
            var i = 0
            while i < u.count {
                let c = u[i]
                if c &- 0x30 < 10 {
                    if m2 != 0 || c != 0x30 {
                        if m2 > UInt64.max / 10 - 10 { return false }
                        m2 = m2 * 10 + UInt64(c - 0x30)
                    }
                    if afterPoint { e2 -= 1 }
                } else if c == 0x2E {
                    afterPoint = true
                } else if c == 0x65 {
                    var j = i + 1
                    var negative = false
                    if j < u.count && (u[j] == 0x2B || u[j] == 0x2D) {
                        negative = u[j] == 0x2D
                        j += 1
                    }
                    var x = 0
                    while j < u.count && u[j] &- 0x30 < 10 {
                        x = x * 10 + Int(u[j] - 0x30)
                        j += 1
                    }
                    e2 += negative ? -x : x
                    break
                } else {
                    return false
                }
                i += 1
            }
            if m2 == 0 { return false }
            while m2 % 10 == 0 {
                m2 /= 10
                e2 += 1
            }
            return m2 == m && e2 == e
        }
    }

    func literal(_ r: Number) -> String {
        String(decoding: UnsafeBufferPointer(start: buf + r.start, count: r.end - r.start), as: UTF8.self)
    }

    /// Whether two decimal literals have the same value (same significant digits and scale).
    static func sameDecimal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let x = normalizedDecimal(a)
        let y = normalizedDecimal(b)
        return x.digits == y.digits && x.exponent == y.exponent
    }

    /// Significant digits (no leading or trailing zeros) and exponent such that value = 0.DIGITS × 10^exponent.
    static func normalizedDecimal(_ s: [UInt8]) -> (digits: [UInt8], exponent: Int) {
        var digits: [UInt8] = []
        var integerDigits = 0
        var afterPoint = false
        var exponent = 0
        var i = 0
        while i < s.count {
            let c = s[i]
            if c >= 0x30 && c <= 0x39 {
                digits.append(c)
                if !afterPoint { integerDigits += 1 }
            } else if c == 0x2E {
                afterPoint = true
            } else if c == 0x65 || c == 0x45 {
                var j = i + 1
                var negative = false
                if j < s.count && (s[j] == 0x2B || s[j] == 0x2D) {
                    negative = s[j] == 0x2D
                    j += 1
                }
                var e = 0
                while j < s.count && s[j] >= 0x30 && s[j] <= 0x39 {
                    if e < 1_000_000 { e = e * 10 + Int(s[j] - 0x30) }
                    j += 1
                }
                exponent = negative ? -e : e
                break
            }
            i += 1
        }
        var lead = 0
        while lead < digits.count && digits[lead] == 0x30 { lead += 1 }
        if lead == digits.count { return ([], 0) }
        var trail = digits.count
        while digits[trail - 1] == 0x30 { trail -= 1 }
        return (Array(digits[lead..<trail]), integerDigits - lead + exponent)
    }

    enum Literal { case falseValue, trueValue, null }

    mutating func parseLiteral() throws(JSONReadError) -> Literal {
        _ = try ensure(5)
        let p = buf + pos
        let available = end - pos
        if available >= 4 && p[0] == 0x74 && p[1] == 0x72 && p[2] == 0x75 && p[3] == 0x65 {
            pos += 4
            return .trueValue
        }
        if available >= 5 && p[0] == 0x66 && p[1] == 0x61 && p[2] == 0x6C && p[3] == 0x73 && p[4] == 0x65 {
            pos += 5
            return .falseValue
        }
        if available >= 4 && p[0] == 0x6E && p[1] == 0x75 && p[2] == 0x6C && p[3] == 0x6C {
            pos += 4
            return .null
        }
        throw error("invalid literal (expected true, false or null)", at: pos)
    }

    // MARK: Whole values

    /// Walks the value at `pos`, checking it; with `emit`, appends it to `out` as compact
    /// canonical JSON (keys in document order, numbers as written). `depth` is the value's own.
    mutating func walkValue(depth: Int, emit wanted: Bool) throws(JSONReadError) {
        let emit = wanted && out.count <= outLimit
        let b = try peek()
        switch b {
        case 0x7B:
            if depth > maxDepth { throw depthError(at: pos) }
            pos += 1
            if emit { out.append(0x7B) }
            var c = try peek()
            if c == 0x7D {
                pos += 1
                if emit { out.append(0x7D) }
                return
            }
            while true {
                guard c == 0x22 else { throw keyError(c) }
                if emit { try writeString() } else { _ = try scanString(keep: false) }
                c = try peek()
                guard c == 0x3A else { throw error("expected ':' after object key", at: pos) }
                pos += 1
                if emit { out.append(0x3A) }
                try walkValue(depth: depth + 1, emit: emit)
                c = try peek()
                if c == 0x2C {
                    pos += 1
                    if emit { out.append(0x2C) }
                    c = try peek()
                    continue
                }
                if c == 0x7D {
                    pos += 1
                    if emit { out.append(0x7D) }
                    return
                }
                throw error("expected ',' or '}' after object member", at: pos)
            }
        case 0x5B:
            if depth > maxDepth { throw depthError(at: pos) }
            pos += 1
            if emit { out.append(0x5B) }
            var c = try peek()
            if c == 0x5D {
                pos += 1
                if emit { out.append(0x5D) }
                return
            }
            while true {
                try walkValue(depth: depth + 1, emit: emit)
                c = try peek()
                if c == 0x2C {
                    pos += 1
                    if emit { out.append(0x2C) }
                    if try peek() == 0x5D { throw error("trailing comma before ']'", at: pos) }
                    continue
                }
                if c == 0x5D {
                    pos += 1
                    if emit { out.append(0x5D) }
                    return
                }
                throw error("expected ',' or ']' after array element", at: pos)
            }
        case 0x22:
            if emit { try writeString() } else { _ = try scanString(keep: false) }
        case 0x2D, 0x30...0x39:
            let r = try scanNumber()
            if emit { out.append(contentsOf: UnsafeBufferPointer(start: buf + r.start, count: r.end - r.start)) }
        case 0x74, 0x66, 0x6E:
            let l = try parseLiteral()
            if emit {
                switch l {
                case .trueValue: out.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
                case .falseValue: out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
                case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
                }
            }
        default:
            throw valueError()
        }
    }

    /// The value at `pos` as compact canonical JSON text.
    mutating func serialize(depth: Int) throws(JSONReadError) -> String {
        out.removeAll(keepingCapacity: true)
        try walkValue(depth: depth, emit: true)
        return String(decoding: out, as: UTF8.self)
    }

    /// At most `rawLimit` bytes of `bytes` as text, cut before an incomplete UTF-8 sequence.
    static func truncatedText(_ bytes: [UInt8]) -> String {
        if bytes.count <= rawLimit { return String(decoding: bytes, as: UTF8.self) }
        var n = rawLimit
        var k = n - 1
        while k > 0 && bytes[k] & 0xC0 == 0x80 { k -= 1 }
        let lead = bytes[k]
        let length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
        if k + length > n { n = k }
        return String(decoding: bytes[0..<n], as: UTF8.self)
    }

    static func kindPhrase(_ b: UInt8) -> String? {
        switch b {
        case 0x7B: return "an object"
        case 0x5B: return "an array"
        case 0x22: return "a string"
        case 0x2D, 0x30...0x39: return "a number"
        case 0x74, 0x66: return "a boolean"
        case 0x6E: return "null"
        default: return nil
        }
    }

    static func kindNoun(_ b: UInt8) -> String? {
        switch b {
        case 0x7B: return "object"
        case 0x5B: return "array"
        case 0x22: return "string"
        case 0x2D, 0x30...0x39: return "number"
        case 0x74, 0x66: return "boolean"
        case 0x6E: return "null"
        default: return nil
        }
    }
}
