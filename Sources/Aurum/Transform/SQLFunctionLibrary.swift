import Foundation

/// Settings the registered SQL functions read (the catalog's `defaults`).
public struct FunctionSettings: Sendable {
    /// ISO 3166 alpha-2 country assumed by `normalize_phone` for numbers without a country code.
    public var defaultPhoneCountry: String = "US"
    public init(defaultPhoneCountry: String = "US") { self.defaultPhoneCountry = defaultPhoneCountry }
}

/// The functions Aurum adds to SQLite for rule expressions. Each returns NULL for a NULL input.
///
/// | function | result |
/// |---|---|
/// | `regexp_like(s, pattern [, flags])` | 1 when the pattern matches anywhere in s (flags: i, m, s) |
/// | `s REGEXP pattern` | the same, as an operator |
/// | `regexp_replace(s, pattern, replacement [, flags])` | all matches replaced; `$1` refers to groups |
/// | `regexp_extract(s, pattern [, group])` | the first match (or group), NULL when none |
/// | `normalize_email(s)` | trimmed, lowercased address; NULL when not an address |
/// | `normalize_phone(s [, country])` | E.164 (`+14155550123`); NULL when not a phone number |
/// | `normalize_postcode(s [, country])` | canonical postcode |
/// | `parse_date(s [, format, ...])` | ISO 8601 date (or date time); formats strftime-style, tried in order |
/// | `format_date(iso, format)` | strftime-style formatting of an ISO date |
/// | `strip_accents(s)`, `title_case(s)` | accent folding, title case |
/// | `levenshtein(a, b)`, `damerau_levenshtein(a, b)` | edit distances |
/// | `jaro(a, b)`, `jaro_winkler(a, b)`, `jaccard(a, b)` | similarities in [0, 1] |
/// | `soundex(s)`, `metaphone(s)`, `double_metaphone(s)`, `double_metaphone_alt(s)` | phonetic codes |
/// | `year(d)`, `month(d)`, `day(d)` | parts of an ISO date, as integers |
/// | `unicode_lower(s)`, `unicode_upper(s)` | case mapping of every script (SQLite's `lower` is ASCII only) |
/// | `strip_punctuation(s)` | punctuation replaced by spaces, whitespace collapsed and trimmed |
/// | `digits_only(s)` | the digits of s |
/// | `canonical_given_name(s)` | the canonical form of a nickname (`bill` → `william`), else s |
public enum SQLFunctionLibrary {
    static let names: [String] = functions(FunctionSettings()).map(\.name)

    public static func register(on db: SQLiteDatabase, settings: FunctionSettings = .init()) throws {
        for f in functions(settings) { try db.register(f) }
    }

    static func functions(_ settings: FunctionSettings) -> [ScalarFunction] {
        let country = settings.defaultPhoneCountry
        return [
            unary("normalize_email") { TextFunctions.normalizeEmail($0).map(Value.text) ?? .null },
            ScalarFunction(name: "normalize_phone", arity: -1) { a in
                guard (1...2).contains(a.count) else { throw SQLFunctionError(description: "normalize_phone(s [, country]) takes 1 or 2 arguments") }
                guard let s = a[0].textValue else { return .null }
                let c = a.count > 1 ? (a[1].textValue ?? country) : country
                return TextFunctions.normalizePhone(s, defaultCountry: c).map(Value.text) ?? .null
            },
            ScalarFunction(name: "normalize_postcode", arity: -1) { a in
                guard (1...2).contains(a.count) else { throw SQLFunctionError(description: "normalize_postcode(s [, country]) takes 1 or 2 arguments") }
                guard let s = a[0].textValue else { return .null }
                return TextFunctions.normalizePostcode(s, country: a.count > 1 ? (a[1].textValue ?? "") : "").map(Value.text) ?? .null
            },
            ScalarFunction(name: "parse_date", arity: -1) { a in
                guard a.count >= 1 else { throw SQLFunctionError(description: "parse_date(s [, format, ...]) needs its input") }
                guard let s = a[0].textValue else { return .null }
                let formats = a.dropFirst().compactMap(\.textValue)
                return TextFunctions.parseDate(s, formats: formats).map(Value.text) ?? .null
            },
            ScalarFunction(name: "format_date", arity: 2) { a in
                guard let s = a[0].textValue, let f = a[1].textValue else { return .null }
                return TextFunctions.formatDate(s, f).map(Value.text) ?? .null
            },
            unary("strip_accents") { .text(TextFunctions.stripAccents($0)) },
            unary("title_case") { .text(TextFunctions.titleCase($0)) },
            unary("soundex") { .text(TextFunctions.soundex($0)) },
            unary("metaphone") { .text(TextFunctions.metaphone($0)) },
            unary("double_metaphone") { .text(TextFunctions.doubleMetaphone($0).primary) },
            unary("double_metaphone_alt") { .text(TextFunctions.doubleMetaphone($0).alternate) },
            binary("levenshtein") { .integer(Int64(TextFunctions.levenshtein($0, $1))) },
            binary("damerau_levenshtein") { .integer(Int64(TextFunctions.damerauLevenshtein($0, $1))) },
            binary("jaro") { .real(TextFunctions.jaro($0, $1)) },
            binary("jaro_winkler") { .real(TextFunctions.jaroWinkler($0, $1)) },
            binary("jaccard") { .real(TextFunctions.jaccardTokens($0, $1)) },
            ScalarFunction(name: "regexp_like", arity: -1) { a in
                guard (2...3).contains(a.count) else { throw SQLFunctionError(description: "regexp_like(s, pattern [, flags]) takes 2 or 3 arguments") }
                guard let s = a[0].textValue, let p = a[1].textValue else { return .null }
                return .integer(try TextFunctions.regexpLike(s, p, flags: a.count > 2 ? (a[2].textValue ?? "") : "") ? 1 : 0)
            },
            ScalarFunction(name: "regexp", arity: 2) { a in
                guard let p = a[0].textValue, let s = a[1].textValue else { return .null }
                return .integer(try TextFunctions.regexpLike(s, p) ? 1 : 0)
            },
            ScalarFunction(name: "regexp_replace", arity: -1) { a in
                guard (3...4).contains(a.count) else { throw SQLFunctionError(description: "regexp_replace(s, pattern, replacement [, flags]) takes 3 or 4 arguments") }
                guard let s = a[0].textValue, let p = a[1].textValue else { return .null }
                return .text(try TextFunctions.regexpReplace(s, p, a[2].textValue ?? "", flags: a.count > 3 ? (a[3].textValue ?? "") : ""))
            },
            ScalarFunction(name: "regexp_extract", arity: -1) { a in
                guard (2...3).contains(a.count) else { throw SQLFunctionError(description: "regexp_extract(s, pattern [, group]) takes 2 or 3 arguments") }
                guard let s = a[0].textValue, let p = a[1].textValue else { return .null }
                let g = a.count > 2 ? Int(a[2].doubleValue ?? 0) : 0
                return try TextFunctions.regexpExtract(s, p, group: g).map(Value.text) ?? .null
            },
            datePart("year", 0, 4), datePart("month", 5, 2), datePart("day", 8, 2),
            ScalarFunction(name: "aurum_bucket", arity: 2) { a in
                .integer(Int64(PartitionPath.bucket(a[0], Int(a[1].doubleValue ?? 16))))
            },
            unary("unicode_lower") { .text($0.lowercased()) },
            unary("unicode_upper") { .text($0.uppercased()) },
            unary("strip_punctuation") { .text(TextFunctions.stripPunctuation($0)) },
            unary("digits_only") { s in .text(String(String.UnicodeScalarView(s.unicodeScalars.filter { $0.value >= 48 && $0.value <= 57 }))) },
            unary("canonical_given_name") { s in .text(Nicknames.canonical[s] ?? Nicknames.canonical[s.lowercased()] ?? s) },
            ScalarFunction(name: "aurum_numkind", arity: 1) { a in .integer(numberKind(a[0])) },
            ScalarFunction(name: "aurum_avg", arity: -1) { a in numericFold(a, average: true) },
            ScalarFunction(name: "aurum_sum", arity: -1) { a in numericFold(a, average: false) },
        ]
    }

    /// How a staged text value reads as a number: 3 empty/NULL, 2 integer, 1 decimal, 0 not a number.
    /// Only canonical spellings count (no leading zeros, `+`, spaces or `.5`), so identifiers and
    /// postcodes like `00123` stay text and nothing is lost when a column is typed.
    static func numberKind(_ v: Value) -> Int64 {
        switch v {
        case .null: return 3
        case .integer: return 2
        case .real: return 1
        case .blob: return 0
        case .text(let s):
            var s = s
            return s.withUTF8(numberKind(utf8:))
        }
    }

    /// `numberKind` of text given as UTF-8 bytes.
    static func numberKind(utf8 u: UnsafeBufferPointer<UInt8>) -> Int64 {
        if u.isEmpty { return 3 }
        var i = 0
        if u[0] == UInt8(ascii: "-") { i = 1 }
        let intStart = i
        while i < u.count, u[i] >= 48, u[i] <= 57 { i += 1 }
        let intDigits = i - intStart
        if intDigits == 0 { return 0 }
        if intDigits > 1 && u[intStart] == 48 { return 0 }
        if i == u.count {
            if intDigits > 18 { return 0 }
            return (intDigits == 1 && u[intStart] == 48 && intStart == 1) ? 0 : 2
        }
        if u[i] == UInt8(ascii: ".") {
            i += 1
            let f = i
            while i < u.count, u[i] >= 48, u[i] <= 57 { i += 1 }
            if i == f { return 0 }
        }
        if i < u.count, u[i] == UInt8(ascii: "e") || u[i] == UInt8(ascii: "E") {
            i += 1
            if i < u.count, u[i] == UInt8(ascii: "-") || u[i] == UInt8(ascii: "+") { i += 1 }
            let e = i
            while i < u.count, u[i] >= 48, u[i] <= 57 { i += 1 }
            if i == e { return 0 }
        }
        return i == u.count ? 1 : 0
    }

    /// Sum or average of the arguments that are numbers (or text that reads as one); the first
    /// non-null argument when none is. Integer sums stay integers.
    static func numericFold(_ args: [Value], average: Bool) -> Value {
        var intSum: Int64 = 0
        var realSum = 0.0
        var allInt = true
        var n = 0
        for v in args {
            switch v {
            case .integer(let i):
                let (s, o) = intSum.addingReportingOverflow(i)
                if o { allInt = false } else { intSum = s }
                realSum += Double(i); n += 1
            case .real(let d): realSum += d; allInt = false; n += 1
            case .text(let t):
                let s = t.trimmingCharacters(in: .whitespaces)
                if let i = Int64(s) {
                    let (r, o) = intSum.addingReportingOverflow(i)
                    if o { allInt = false } else { intSum = r }
                    realSum += Double(i); n += 1
                } else if let d = Double(s), d.isFinite { realSum += d; allInt = false; n += 1 }
            default: break
            }
        }
        if n == 0 { return args.first { !$0.isNull } ?? .null }
        if average { return .real(realSum / Double(n)) }
        return allInt ? .integer(intSum) : .real(realSum)
    }

    private static func unary(_ name: String, _ f: @escaping @Sendable (String) -> Value) -> ScalarFunction {
        ScalarFunction(name: name, arity: 1) { a in a[0].textValue.map(f) ?? .null }
    }

    private static func binary(_ name: String, _ f: @escaping @Sendable (String, String) -> Value) -> ScalarFunction {
        ScalarFunction(name: name, arity: 2) { a in
            guard let x = a[0].textValue, let y = a[1].textValue else { return .null }
            return f(x, y)
        }
    }

    /// year/month/day of an ISO date: the digits at a fixed offset of `YYYY-MM-DD`.
    private static func datePart(_ name: String, _ offset: Int, _ length: Int) -> ScalarFunction {
        ScalarFunction(name: name, arity: 1) { a in
            guard let s = a[0].textValue else { return .null }
            let u = Array(s.utf8)
            guard u.count >= 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-") else { return .null }
            var n: Int64 = 0
            for b in u[offset..<offset + length] {
                guard b >= 48 && b <= 57 else { return .null }
                n = n * 10 + Int64(b - 48)
            }
            return .integer(n)
        }
    }
}
