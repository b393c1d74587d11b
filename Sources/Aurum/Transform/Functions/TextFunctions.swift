import Foundation

/// The pure-Swift scalar functions that Aurum registers into SQLite for user expressions, plus the
/// string-similarity measures used by record matching.
///
/// Every function is pure, deterministic and safe to call concurrently from any thread (the only
/// shared state is the lock-protected regular-expression cache). Strings are compared by Unicode
/// scalars after NFC normalization unless a function says otherwise, so a precomposed "é" and
/// "e" + U+0301 are the same character everywhere.
///
/// The functions are grouped by file:
/// - similarity: ``levenshtein(_:_:)``, ``damerauLevenshtein(_:_:)``, ``jaro(_:_:)``,
///   ``jaroWinkler(_:_:prefixScale:)``, ``levenshteinSimilarity(_:_:)``, ``jaccardTokens(_:_:)``
///   (the first four also take pre-decoded ``scalars(_:)``);
/// - phonetic codes: ``soundex(_:)``, ``metaphone(_:maxLength:)``, ``doubleMetaphone(_:maxLength:)``;
/// - text cleaning: ``stripAccents(_:)``, ``titleCase(_:)``;
/// - contact data: ``normalizeEmail(_:)``, ``normalizePhone(_:defaultCountry:)``,
///   ``normalizePostcode(_:country:)``;
/// - dates: ``parseDate(_:formats:)``, ``formatDate(_:_:)``, ``defaultDateFormats``;
/// - regular expressions: ``regexpLike(_:_:flags:)``, ``regexpReplace(_:_:_:flags:)``,
///   ``regexpExtract(_:_:group:flags:)``.
public enum TextFunctions {}

/// An error thrown by a ``TextFunctions`` function for an argument it cannot use.
public enum TextFunctionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The regular expression does not compile; `message` is the engine's reason.
    case invalidPattern(String, String)
    /// A flag letter that the regular-expression functions do not know.
    case invalidFlags(String)
    /// A capture group number outside the pattern's groups (`pattern`, `group`, groups available).
    case invalidGroup(String, Int, Int)
    /// A replacement's `${name}` for a group the pattern does not name (`pattern`, `name`).
    case invalidGroupName(String, String)

    public var description: String {
        switch self {
        case .invalidPattern(let pattern, let message):
            return "invalid regular expression '\(pattern)': \(message)"
        case .invalidFlags(let flags):
            return "invalid regular expression flags '\(flags)' (expected letters from \"imsxg\")"
        case .invalidGroup(let pattern, let group, let count):
            return "regular expression '\(pattern)' has no group \(group) (it has \(count))"
        case .invalidGroupName(let pattern, let name):
            return "regular expression '\(pattern)' has no group named '\(name)'"
        }
    }
}

extension TextFunctions {
    /// The string's Unicode scalar values after NFC normalization: the form the array overloads of
    /// the similarity functions take, so a caller comparing one value against many decodes it once.
    public static func scalars(_ s: String) -> [UInt32] {
        withScalars(s) { Array($0) }
    }

    /// Calls `body` with the NFC scalars of `s` in a temporary buffer (on the stack for short strings).
    @inline(__always)
    static func withScalars<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt32>) -> R) -> R {
        // Fast path: decode in one pass, giving up at the first scalar that may need normalizing.
        let fast: R?? = s.utf8.withContiguousStorageIfAvailable { utf8 -> R? in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: max(utf8.count, 1)) { buffer -> R? in
                guard let n = decodeUTF8IfNFC(utf8, into: buffer) else { return nil }
                return body(UnsafeBufferPointer(rebasing: buffer[..<n]))
            }
        }
        if let attempt = fast, let result = attempt { return result }
        var str = mayNeedNFC(s) ? s.precomposedStringWithCanonicalMapping : s
        return str.withUTF8 { utf8 in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: max(utf8.count, 1)) { buffer in
                let n = decodeUTF8(utf8, into: buffer)
                return body(UnsafeBufferPointer(rebasing: buffer[..<n]))
            }
        }
    }

    /// Like ``decodeUTF8(_:into:)``, but returns `nil` at the first scalar at or above U+0300
    /// (which might not be in NFC).
    @inline(__always)
    static func decodeUTF8IfNFC(
        _ bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt32>
    ) -> Int? {
        guard let src = bytes.baseAddress, let dst = out.baseAddress else { return 0 }
        let count = bytes.count
        var i = 0
        var n = 0
        while i < count {
            let b0 = UInt32(src[i])
            if b0 < 0x80 {
                dst[n] = b0
                i &+= 1
            } else if b0 < 0xCC {
                dst[n] = (b0 & 0x1F) << 6 | UInt32(src[i &+ 1] & 0x3F)
                i &+= 2
            } else {
                return nil
            }
            n &+= 1
        }
        return n
    }

    /// True when `s` holds a scalar at or above U+0300. Every scalar below U+0300 is NFC-stable and
    /// never combines with a neighbour, so a string without such scalars is already NFC.
    @inline(__always)
    static func mayNeedNFC(_ s: String) -> Bool {
        // A UTF-8 lead byte of 0xCC or more starts a scalar >= U+0300.
        hasByte(s, atLeast: 0xCC)
    }

    /// True when every byte of `s` is ASCII.
    @inline(__always)
    static func isASCII(_ s: String) -> Bool { !hasByte(s, atLeast: 0x80) }

    /// True when some UTF-8 byte of `s` is `limit` or more (a scan of contiguous storage when there is one).
    @inline(__always)
    static func hasByte(_ s: String, atLeast limit: UInt8) -> Bool {
        if let answer = s.utf8.withContiguousStorageIfAvailable({ bytes -> Bool in
            for b in bytes where b >= limit { return true }
            return false
        }) {
            return answer
        }
        for b in s.utf8 where b >= limit { return true }
        return false
    }

    /// Decodes well-formed UTF-8 (Swift strings always are) into scalar values; returns the count.
    @inline(__always)
    static func decodeUTF8(
        _ bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt32>
    ) -> Int {
        guard let src = bytes.baseAddress, let dst = out.baseAddress else { return 0 }
        let count = bytes.count
        var i = 0
        var n = 0
        while i < count {
            let b0 = UInt32(src[i])
            if b0 < 0x80 {
                dst[n] = b0
                i += 1
            } else if b0 < 0xE0 {
                dst[n] = (b0 & 0x1F) << 6 | UInt32(src[i + 1] & 0x3F)
                i += 2
            } else if b0 < 0xF0 {
                dst[n] = (b0 & 0x0F) << 12 | UInt32(src[i + 1] & 0x3F) << 6 | UInt32(src[i + 2] & 0x3F)
                i += 3
            } else {
                dst[n] =
                    (b0 & 0x07) << 18 | UInt32(src[i + 1] & 0x3F) << 12 | UInt32(src[i + 2] & 0x3F) << 6
                    | UInt32(src[i + 3] & 0x3F)
                i += 4
            }
            n += 1
        }
        return n
    }

    /// A string from ASCII bytes.
    @inline(__always)
    static func asciiString(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
