import Foundation

// Regular expressions for user expressions, on NSRegularExpression (ICU syntax). Compiled patterns
// are cached: SQLite calls these once per row with the same pattern.

extension TextFunctions {
    /// Whether `pattern` matches anywhere in `s` (like PostgreSQL's `~`).
    ///
    /// `flags` letters: `i` case-insensitive, `m` multi-line (`^`/`$` at line breaks), `s` dot
    /// matches line breaks, `x` free-spacing with `#` comments; `g` is accepted and ignored.
    /// - Throws: ``TextFunctionError/invalidPattern(_:_:)`` when the pattern does not compile,
    ///   ``TextFunctionError/invalidFlags(_:)`` for an unknown flag letter.
    public static func regexpLike(_ s: String, _ pattern: String, flags: String = "") throws -> Bool {
        let regex = try compiledRegex(pattern, flags: flags)
        let ns = s as NSString
        return regex.firstMatch(in: s, options: [], range: NSRange(location: 0, length: ns.length)) != nil
    }

    /// `s` with every match of `pattern` replaced by `replacement`.
    ///
    /// In `replacement`, `$n`, `${n}` and `\n` insert capture group n (`$0` the whole match; the
    /// longest run of digits that names an existing group is used, as in ICU), `${name}` a named
    /// group, `$$` a dollar sign and `\\` a backslash; a group that did not take part inserts
    /// nothing. `flags` as in ``regexpLike(_:_:flags:)``.
    /// - Throws: ``TextFunctionError/invalidPattern(_:_:)``, ``TextFunctionError/invalidFlags(_:)``,
    ///   ``TextFunctionError/invalidGroup(_:_:_:)`` or ``TextFunctionError/invalidGroupName(_:_:)``
    ///   for a reference to a group the pattern lacks.
    public static func regexpReplace(
        _ s: String, _ pattern: String, _ replacement: String, flags: String = ""
    ) throws -> String {
        let regex = try compiledRegex(pattern, flags: flags)
        let template = try ReplacementTemplate(replacement, regex: regex, pattern: pattern)
        let ns = s as NSString
        let matches = regex.matches(in: s, options: [], range: NSRange(location: 0, length: ns.length))
        if matches.isEmpty { return s }
        var out = ""
        var cursor = 0
        for match in matches {
            let range = match.range
            if range.location > cursor {
                out += ns.substring(with: NSRange(location: cursor, length: range.location - cursor))
            }
            template.append(match, in: ns, to: &out)
            cursor = range.location + range.length
        }
        if cursor < ns.length {
            out += ns.substring(from: cursor)
        }
        return out
    }

    /// The text of capture group `group` (0: the whole match) in the first match of `pattern` in
    /// `s`; `nil` when nothing matches or the group did not take part in the match.
    /// - Throws: ``TextFunctionError/invalidPattern(_:_:)``, or
    ///   ``TextFunctionError/invalidGroup(_:_:_:)`` when the pattern has no such group.
    public static func regexpExtract(_ s: String, _ pattern: String, group: Int = 0, flags: String = "") throws -> String? {
        let regex = try compiledRegex(pattern, flags: flags)
        guard group >= 0 && group <= regex.numberOfCaptureGroups else {
            throw TextFunctionError.invalidGroup(pattern, group, regex.numberOfCaptureGroups)
        }
        let ns = s as NSString
        guard let match = regex.firstMatch(in: s, options: [], range: NSRange(location: 0, length: ns.length)) else {
            return nil
        }
        let range = match.range(at: group)
        if range.location == NSNotFound { return nil }
        return ns.substring(with: range)
    }

    // MARK: Compilation cache

    static func regexOptions(_ flags: String) throws -> NSRegularExpression.Options {
        var options: NSRegularExpression.Options = []
        for ch in flags {
            switch ch {
            case "i": options.insert(.caseInsensitive)
            case "m": options.insert(.anchorsMatchLines)
            case "s": options.insert(.dotMatchesLineSeparators)
            case "x": options.insert(.allowCommentsAndWhitespace)
            case "g": break
            default: throw TextFunctionError.invalidFlags(flags)
            }
        }
        return options
    }

    static func compiledRegex(_ pattern: String, flags: String) throws -> NSRegularExpression {
        let options = try regexOptions(flags)
        let key = RegexCache.Key(pattern: pattern, options: options.rawValue)
        if let cached = regexCache.lookup(key) { return cached }
        let regex: NSRegularExpression
        do {
            regex = try NSRegularExpression(pattern: pattern, options: options)
        } catch {
            throw TextFunctionError.invalidPattern(pattern, regexErrorMessage(pattern))
        }
        regexCache.store(key, regex)
        return regex
    }

    /// A reason for a pattern that did not compile. Foundation on Linux reports only "the value is
    /// invalid", so the common mistakes are diagnosed here.
    static func regexErrorMessage(_ pattern: String) -> String {
        var depth = 0
        var inClass = false
        var previous: Character? = nil
        var chars = pattern.makeIterator()
        while let c = chars.next() {
            if c == "\\" {
                guard chars.next() != nil else { return "trailing backslash" }
                previous = "a"
                continue
            }
            if inClass {
                if c == "]" { inClass = false }
                previous = c
                continue
            }
            switch c {
            case "[": inClass = true
            case "(": depth += 1
            case ")":
                depth -= 1
                if depth < 0 { return "unmatched ')'" }
            case "*", "+", "?", "{":
                if previous == nil || previous == "(" || previous == "|" {
                    if !(c == "?" && previous == "(") { return "quantifier '\(c)' has nothing to repeat" }
                }
            default: break
            }
            previous = c
        }
        if inClass { return "unterminated character class '['" }
        if depth > 0 { return "missing ')'" }
        return "syntax error (ICU regular expression syntax)"
    }

    static let regexCache = RegexCache(capacity: 256)

    /// A bounded map from (pattern, options) to compiled expressions, evicting the oldest entry
    /// when full.
    ///
    /// `@unchecked Sendable`: `entries` and `order` are read and written only while `lock` is held,
    /// and the cached `NSRegularExpression`s are immutable and documented as safe to use from many
    /// threads at once.
    final class RegexCache: @unchecked Sendable {
        struct Key: Hashable {
            let pattern: String
            let options: UInt
        }

        private let lock = NSLock()
        private var entries: [Key: NSRegularExpression] = [:]
        private var order: [Key] = []
        private var oldest = 0
        let capacity: Int

        init(capacity: Int) {
            self.capacity = capacity
            order.reserveCapacity(capacity)
        }

        func lookup(_ key: Key) -> NSRegularExpression? {
            lock.lock()
            defer { lock.unlock() }
            return entries[key]
        }

        func store(_ key: Key, _ regex: NSRegularExpression) {
            lock.lock()
            defer { lock.unlock() }
            if entries[key] != nil { return }
            if order.count < capacity {
                order.append(key)
            } else {
                entries[order[oldest]] = nil
                order[oldest] = key
                oldest = (oldest + 1) % capacity
            }
            entries[key] = regex
        }

        var count: Int {
            lock.lock()
            defer { lock.unlock() }
            return entries.count
        }
    }

    // MARK: Replacement templates

    /// A parsed replacement string: literal text and group references.
    struct ReplacementTemplate {
        enum Part {
            case literal(String)
            case group(Int)
            case named(String)
        }

        var parts: [Part] = []

        init(_ template: String, regex: NSRegularExpression, pattern: String) throws {
            let groups = regex.numberOfCaptureGroups
            let chars = Array(template.unicodeScalars)
            var literal = String.UnicodeScalarView()
            func flush() {
                if !literal.isEmpty {
                    parts.append(.literal(String(literal)))
                    literal = String.UnicodeScalarView()
                }
            }
            func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 0x30 && c.value <= 0x39 }
            /// The group number read from digits at `i` (longest prefix naming a group), and the
            /// index after it.
            func number(at start: Int) throws -> (Int, Int) {
                var value = Int(chars[start].value - 0x30)
                var i = start + 1
                while i < chars.count && isDigit(chars[i]) {
                    let next = value * 10 + Int(chars[i].value - 0x30)
                    if next > groups { break }
                    value = next
                    i += 1
                }
                if value > groups { throw TextFunctionError.invalidGroup(pattern, value, groups) }
                return (value, i)
            }
            var i = 0
            while i < chars.count {
                let c = chars[i]
                if (c == "$" || c == "\\") && i + 1 < chars.count {
                    let next = chars[i + 1]
                    if isDigit(next) {
                        flush()
                        let (n, after) = try number(at: i + 1)
                        parts.append(.group(n))
                        i = after
                        continue
                    }
                    if c == "$" && next == "{" {
                        if let close = chars[(i + 2)...].firstIndex(of: "}") {
                            let name = String(String.UnicodeScalarView(chars[(i + 2)..<close]))
                            flush()
                            if let n = Int(name) {
                                if n > groups || n < 0 { throw TextFunctionError.invalidGroup(pattern, n, groups) }
                                parts.append(.group(n))
                            } else {
                                guard pattern.contains("(?<\(name)>") else {
                                    throw TextFunctionError.invalidGroupName(pattern, name)
                                }
                                parts.append(.named(name))
                            }
                            i = close + 1
                            continue
                        }
                    }
                    if next == "$" || next == "\\" {
                        literal.append(next)
                        i += 2
                        continue
                    }
                }
                literal.append(c)
                i += 1
            }
            flush()
        }

        func append(_ match: NSTextCheckingResult, in ns: NSString, to out: inout String) {
            for part in parts {
                switch part {
                case .literal(let text):
                    out += text
                case .group(let n):
                    let r = match.range(at: n)
                    if r.location != NSNotFound { out += ns.substring(with: r) }
                case .named(let name):
                    let r = match.range(withName: name)
                    if r.location != NSNotFound { out += ns.substring(with: r) }
                }
            }
        }
    }
}
