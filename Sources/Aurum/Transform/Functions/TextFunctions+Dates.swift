import Foundation

// Date parsing and formatting with strftime-style formats, producing and reading the ISO 8601
// text that the warehouse stores dates in. Proleptic Gregorian calendar, years 0000-9999, no
// time-zone database: offsets in the input are applied, names other than UTC/GMT and a few fixed
// abbreviations are not understood.

extension TextFunctions {
    /// The date in `s` as ISO 8601 text: "YYYY-MM-DD", or "YYYY-MM-DD HH:MM:SS" when the format
    /// that matched has a time of day (then with ".fff…" when the input had non-zero fractional
    /// seconds, trailing zeros dropped). `nil` when no format matches the whole of `s` (leading and
    /// trailing whitespace aside) or the date does not exist (February 30, a 29th of February in a
    /// common year, hour 24…).
    ///
    /// Formats are tried in order and the first that matches wins. Directives:
    /// - `%Y` four-digit year; `%y` two-digit year (00–68 → 2000s, 69–99 → 1900s);
    /// - `%m` month, `%d` day, `%H` hour (0–23), `%I` hour (1–12), `%M` minute, `%S` second: one or
    ///   two digits each; `%e` a day that may be padded with a space; `%j` day of the year (1–3
    ///   digits). A number directive next to another number directive takes its full width, so
    ///   `%Y%m%d` needs exactly 8 digits;
    /// - `%b`, `%B`, `%h` an English month name or abbreviation ("Sep" and "Sept"), `%a`, `%A` an
    ///   English weekday name or abbreviation (checked against the date), case-insensitive;
    /// - `%p` AM/PM (also "a.m."/"p.m."), with `%I` or `%H` in 1–12;
    /// - `%f` fractional seconds (1–9 digits);
    /// - `%z` `Z`, `UTC`, `GMT` or an offset `±HH`, `±HHMM`, `±HH:MM`; `%Z` a zone name (UTC, GMT,
    ///   Z, UT, and the fixed abbreviations EST EDT CST CDT MST MDT PST PDT AKST AKDT HST WET WEST
    ///   CET CEST EET EEST MSK JST KST IST(India) AEST AEDT NZST NZDT). A datetime with a zone is
    ///   converted to UTC; a date without a time keeps its calendar date;
    /// - `%s` Unix epoch seconds (UTC);
    /// - `%F` = `%Y-%m-%d`, `%T` = `%H:%M:%S`, `%R` = `%H:%M`, `%D` = `%m/%d/%y`, `%n`/`%t`
    ///   whitespace, `%%` a percent sign.
    ///
    /// Any other character matches itself (ASCII letters case-insensitively, so `T` matches `t`);
    /// whitespace in the format matches any run of whitespace, also none. A format with an unknown
    /// directive matches nothing. A format without a year matches nothing; without a day it means
    /// the 1st, without a month January.
    ///
    /// With `formats == []` the ``defaultDateFormats`` are tried, in this order:
    /// 1. ISO 8601: `%Y-%m-%d`, then that date with `T` or a space and `%H:%M`, `%H:%M:%S` or
    ///    `%H:%M:%S.%f` (or `,%f`), each optionally followed by a zone (`Z`, `±HH:MM`…), and the
    ///    basic forms `%Y%m%dT%H%M%S`, `%Y%m%dT%H%M` with an optional zone;
    /// 2. `%Y/%m/%d` (optionally with `%H:%M[:%S]`);
    /// 3. `%Y%m%d` (exactly 8 digits);
    /// 4. `%d.%m.%Y`, `%d.%m.%y` (optionally with a time);
    /// 5. `%m/%d/%Y` then `%d/%m/%Y` — slash dates are month-first unless the first number is over
    ///    12 — each optionally with `%H:%M[:%S]` or `%I:%M[:%S] %p`; then `%m/%d/%y`, `%d/%m/%y`;
    /// 6. `%d-%m-%Y` (optionally with a time);
    /// 7. month names: `%d %b %Y`, `%d-%b-%Y`, `%d-%b-%y`, `%d %b %Y %H:%M[:%S]`,
    ///    `%d/%b/%Y:%H:%M:%S %z` (web server logs), `%b %d, %Y`, `%b. %d, %Y`, `%b %d %Y`,
    ///    `%b %d, %Y %H:%M[:%S]`, `%d %b, %Y`;
    /// 8. with weekdays: `%a, %d %b %Y %H:%M:%S %z` (RFC 2822), the same with `%Z` (RFC 1123) or
    ///    without a zone, `%a, %d %b %Y`, `%a %d %b %Y`, `%a, %b %d, %Y`, `%a %b %d %H:%M:%S %Y` (C `asctime`),
    ///    `%a %b %d %H:%M:%S %Z %Y` (Unix `date`);
    /// 9. a Unix epoch: 9 or 10 digits (optionally with a fraction: "1700000000.25") as seconds,
    ///    13 digits as milliseconds; the result is a UTC datetime. Other bare integers are not
    ///    dates.
    public static func parseDate(_ s: String, formats: [String]) -> String? {
        parseDateValue(s, formats: formats)?.iso
    }

    /// The default formats of ``parseDate(_:formats:)`` (before the epoch rule), in order.
    public static var defaultDateFormats: [String] { DateTables.defaultFormatStrings }

    /// `iso` (an ISO 8601 date or datetime, as ``parseDate(_:formats:)`` produces, also with `T`,
    /// fractional seconds or a zone, which is converted to UTC) formatted by the strftime-style
    /// `format`; `nil` when `iso` does not parse as ISO 8601.
    ///
    /// Directives: `%Y` `%y` `%C` `%G` (ISO week year), `%m` `%d` `%e` `%j`, `%H` `%I` `%M` `%S`
    /// `%p`, `%f` (microseconds, 6 digits), `%b`/`%h` `%B` `%a` `%A` (English), `%u` (1 = Monday)
    /// `%w` (0 = Sunday) `%V` (ISO week), `%s` (Unix seconds), `%F` `%T` `%R` `%D`, `%n` `%t` `%%`.
    /// The time of a date without one is 00:00:00. An unknown directive is copied as it stands.
    public static func formatDate(_ iso: String, _ format: String) -> String? {
        guard let value = parseDateValue(iso, compiled: DateTables.isoFormats, epoch: false) else { return nil }
        return value.formatted(format)
    }

    // MARK: Parsing

    static func parseDateValue(_ s: String, formats: [String]) -> DateTimeValue? {
        if formats.isEmpty {
            return parseDateValue(s, compiled: DateTables.defaultFormats, epoch: true)
        }
        let compiled = formats.compactMap(DateFormat.init)
        return parseDateValue(s, compiled: compiled, epoch: false)
    }

    static func parseDateValue(_ s: String, compiled: [DateFormat], epoch: Bool) -> DateTimeValue? {
        var input = Array(s.unicodeScalars.map(\.value))
        while let last = input.last, DateFormat.isSpace(last) { input.removeLast() }
        let leading = input.prefix(while: DateFormat.isSpace).count
        if leading > 0 { input.removeFirst(leading) }
        if input.isEmpty { return nil }
        let profile = DateFormat.Profile(input)
        for format in compiled where format.profile.admits(profile) {
            if let value = format.parse(input) { return value }
        }
        if epoch { return parseEpoch(input) }
        return nil
    }

    /// 9–10 digits (optionally `.fraction`) as epoch seconds, 13 digits as epoch milliseconds.
    static func parseEpoch(_ input: [UInt32]) -> DateTimeValue? {
        var i = 0
        var seconds = 0
        while i < input.count, let d = asciiDigit(input[i]) {
            seconds = seconds * 10 + d
            i += 1
        }
        let integerDigits = i
        var fraction: [UInt8] = []
        if integerDigits == 13 && i == input.count {
            let millis = seconds % 1000
            seconds /= 1000
            fraction = [UInt8(millis / 100), UInt8(millis / 10 % 10), UInt8(millis % 10)]
        } else if integerDigits == 9 || integerDigits == 10 {
            if i < input.count {
                guard input[i] == 0x2E, i + 1 < input.count else { return nil }
                i += 1
                while i < input.count, let d = asciiDigit(input[i]), fraction.count < 9 {
                    fraction.append(UInt8(d))
                    i += 1
                }
                guard i == input.count, !fraction.isEmpty else { return nil }
            }
        } else {
            return nil
        }
        return DateTimeValue(epochSeconds: seconds, fraction: fraction)
    }

    @inline(__always)
    static func asciiDigit(_ c: UInt32) -> Int? {
        c >= 0x30 && c <= 0x39 ? Int(c - 0x30) : nil
    }

    // MARK: Calendar arithmetic

    static func isLeapYear(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 1, 3, 5, 7, 8, 10, 12: return 31
        case 4, 6, 9, 11: return 30
        default: return isLeapYear(y) ? 29 : 28
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's civil_from_days).
    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// A parsed date or datetime (UTC when a zone was given).
    struct DateTimeValue: Equatable {
        var year: Int
        var month: Int
        var day: Int
        var hour = 0
        var minute = 0
        var second = 0
        /// Fractional-second digits, without trailing zeros.
        var fraction: [UInt8] = []
        var hasTime = false

        init(year: Int, month: Int, day: Int) {
            self.year = year
            self.month = month
            self.day = day
        }

        init(epochSeconds: Int, fraction: [UInt8]) {
            let days = epochSeconds >= 0 ? epochSeconds / 86_400 : (epochSeconds - 86_399) / 86_400
            let rest = epochSeconds - days * 86_400
            let (y, m, d) = TextFunctions.civilFromDays(days)
            self.init(year: y, month: m, day: d)
            hour = rest / 3600
            minute = rest / 60 % 60
            second = rest % 60
            self.fraction = fraction
            while self.fraction.last == 0 { self.fraction.removeLast() }
            hasTime = true
        }

        var daysSinceEpoch: Int { TextFunctions.daysFromCivil(year, month, day) }
        /// 0 = Sunday … 6 = Saturday.
        var weekday: Int { ((daysSinceEpoch % 7) + 11) % 7 }
        var dayOfYear: Int { daysSinceEpoch - TextFunctions.daysFromCivil(year, 1, 1) + 1 }

        /// The ISO 8601 week-numbering year and week.
        var isoWeek: (year: Int, week: Int) {
            let isoWeekday = weekday == 0 ? 7 : weekday
            let week = (dayOfYear - isoWeekday + 10) / 7
            if week < 1 { return (year - 1, Self.isoWeeks(in: year - 1)) }
            if week > Self.isoWeeks(in: year) { return (year + 1, 1) }
            return (year, week)
        }

        static func isoWeeks(in year: Int) -> Int {
            let jan1 = ((TextFunctions.daysFromCivil(year, 1, 1) % 7) + 11) % 7
            return jan1 == 4 || (jan1 == 3 && TextFunctions.isLeapYear(year)) ? 53 : 52
        }

        var iso: String? {
            guard (0...9999).contains(year) else { return nil }
            var out = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
            if hasTime {
                out += " " + pad(hour, 2) + ":" + pad(minute, 2) + ":" + pad(second, 2)
                if !fraction.isEmpty {
                    out += "." + String(decoding: fraction.map { $0 + 0x30 }, as: UTF8.self)
                }
            }
            return out
        }

        func formatted(_ format: String) -> String? {
            guard (0...9999).contains(year) else { return nil }
            var out = ""
            var chars = format.makeIterator()
            while let c = chars.next() {
                guard c == "%" else {
                    out.append(c)
                    continue
                }
                guard let d = chars.next() else {
                    out.append("%")
                    break
                }
                switch d {
                case "Y": out += pad(year, 4)
                case "y": out += pad(year % 100, 2)
                case "C": out += pad(year / 100, 2)
                case "G": out += pad(isoWeek.year, 4)
                case "m": out += pad(month, 2)
                case "d": out += pad(day, 2)
                case "e": out += day < 10 ? " \(day)" : "\(day)"
                case "j": out += pad(dayOfYear, 3)
                case "H": out += pad(hour, 2)
                case "I": out += pad(hour % 12 == 0 ? 12 : hour % 12, 2)
                case "M": out += pad(minute, 2)
                case "S": out += pad(second, 2)
                case "p": out += hour < 12 ? "AM" : "PM"
                case "f":
                    let digits = (fraction + [0, 0, 0, 0, 0, 0]).prefix(6)
                    out += String(decoding: digits.map { $0 + 0x30 }, as: UTF8.self)
                case "b", "h": out += DateTables.monthNames[month - 1].prefix(3).capitalized
                case "B": out += DateTables.monthNames[month - 1].capitalized
                case "a": out += DateTables.weekdayNames[weekday].prefix(3).capitalized
                case "A": out += DateTables.weekdayNames[weekday].capitalized
                case "u": out += String(weekday == 0 ? 7 : weekday)
                case "w": out += String(weekday)
                case "V": out += pad(isoWeek.week, 2)
                case "s": out += String(daysSinceEpoch * 86_400 + hour * 3600 + minute * 60 + second)
                case "F": out += pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
                case "T": out += pad(hour, 2) + ":" + pad(minute, 2) + ":" + pad(second, 2)
                case "R": out += pad(hour, 2) + ":" + pad(minute, 2)
                case "D": out += pad(month, 2) + "/" + pad(day, 2) + "/" + pad(year % 100, 2)
                case "n": out += "\n"
                case "t": out += "\t"
                case "%": out += "%"
                default:
                    out.append("%")
                    out.append(d)
                }
            }
            return out
        }

        private func pad(_ n: Int, _ width: Int) -> String {
            let s = String(n)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
    }

    // MARK: Formats

    /// A compiled strftime-style format and its matcher.
    struct DateFormat: Sendable {
        enum Field: Sendable {
            case year, shortYear, month, day, dayOfYear, hour, hour12, minute, second
        }

        enum Token: Sendable {
            /// A character, compared case-insensitively when it is an ASCII letter.
            case literal(UInt32)
            /// Any run of whitespace, also none.
            case whitespace
            /// A number of `min`...`max` digits; `leadingSpace` lets spaces pad it (`%e`).
            case number(Field, min: Int, max: Int, leadingSpace: Bool)
            case monthName
            case weekdayName
            case meridiem
            case fraction
            case zoneOffset
            case zoneName
            case epochSeconds
        }

        let tokens: [Token]
        let hasTime: Bool
        let profile: Profile

        /// A cheap summary of an input (or of what a format needs), to skip formats that cannot
        /// match without running the matcher.
        struct Profile: Sendable {
            /// ASCII punctuation present (bit c - 0x21 for c in "!"..."`").
            var punctuation: UInt64 = 0
            /// Whether the text starts with a digit, a letter, or either (for a format).
            var startsWithDigit: Bool? = nil
            /// Scalars in the input; the fewest an input needs, for a format.
            var length = 0

            init() {}

            init(_ input: [UInt32]) {
                for c in input { punctuation |= Self.bit(c) }
                if let first = input.first {
                    if first >= 0x30 && first <= 0x39 {
                        startsWithDigit = true
                    } else if DateFormat.isASCIILetter(first) {
                        startsWithDigit = false
                    }
                }
                length = input.count
            }

            @inline(__always)
            static func bit(_ c: UInt32) -> UInt64 {
                guard c >= 0x21 && c <= 0x60 else { return 0 }
                let isAlnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A)
                return isAlnum ? 0 : UInt64(1) << UInt64(c - 0x21)
            }

            /// Whether an input with profile `input` may match a format with this profile.
            func admits(_ input: Profile) -> Bool {
                guard input.length >= length, punctuation & ~input.punctuation == 0 else { return false }
                if let needed = startsWithDigit, let actual = input.startsWithDigit, needed != actual { return false }
                return true
            }
        }

        init?(_ format: String) {
            var tokens: [Token] = []
            var hasTime = false
            var chars = Array(format.unicodeScalars)
            var i = 0
            while i < chars.count {
                let c = chars[i]
                if c != "%" {
                    if c.properties.isWhitespace {
                        if case .whitespace? = tokens.last {} else { tokens.append(.whitespace) }
                    } else {
                        tokens.append(.literal(c.value))
                    }
                    i += 1
                    continue
                }
                guard i + 1 < chars.count else { return nil }
                let d = chars[i + 1]
                i += 2
                switch d {
                case "Y": tokens.append(.number(.year, min: 4, max: 4, leadingSpace: false))
                case "y": tokens.append(.number(.shortYear, min: 2, max: 2, leadingSpace: false))
                case "m": tokens.append(.number(.month, min: 1, max: 2, leadingSpace: false))
                case "d": tokens.append(.number(.day, min: 1, max: 2, leadingSpace: false))
                case "e": tokens.append(.number(.day, min: 1, max: 2, leadingSpace: true))
                case "j": tokens.append(.number(.dayOfYear, min: 1, max: 3, leadingSpace: false))
                case "H":
                    tokens.append(.number(.hour, min: 1, max: 2, leadingSpace: false))
                    hasTime = true
                case "I":
                    tokens.append(.number(.hour12, min: 1, max: 2, leadingSpace: false))
                    hasTime = true
                case "M":
                    tokens.append(.number(.minute, min: 1, max: 2, leadingSpace: false))
                    hasTime = true
                case "S":
                    tokens.append(.number(.second, min: 1, max: 2, leadingSpace: false))
                    hasTime = true
                case "b", "B", "h": tokens.append(.monthName)
                case "a", "A": tokens.append(.weekdayName)
                case "p": tokens.append(.meridiem)
                case "f":
                    tokens.append(.fraction)
                    hasTime = true
                case "z": tokens.append(.zoneOffset)
                case "Z": tokens.append(.zoneName)
                case "s":
                    tokens.append(.epochSeconds)
                    hasTime = true
                case "%": tokens.append(.literal(0x25))
                case "n", "t":
                    if case .whitespace? = tokens.last {} else { tokens.append(.whitespace) }
                case "F", "T", "R", "D":
                    let expansion: String
                    switch d {
                    case "F": expansion = "%Y-%m-%d"
                    case "T": expansion = "%H:%M:%S"
                    case "R": expansion = "%H:%M"
                    default: expansion = "%m/%d/%y"
                    }
                    chars.replaceSubrange((i - 2)..<i, with: Array(expansion.unicodeScalars))
                    i -= 2
                default:
                    return nil
                }
            }
            // A number next to another number takes its full width: "%Y%m%d" reads exactly eight
            // digits.
            func isNumeric(_ k: Int) -> Bool {
                guard tokens.indices.contains(k) else { return false }
                switch tokens[k] {
                case .number, .fraction, .epochSeconds: return true
                default: return false
                }
            }
            for k in tokens.indices {
                guard case .number(let field, _, let max, let lead) = tokens[k], isNumeric(k - 1) || isNumeric(k + 1)
                else { continue }
                tokens[k] = .number(field, min: max, max: max, leadingSpace: lead)
            }
            self.tokens = tokens
            self.hasTime = hasTime
            var profile = Profile()
            for token in tokens {
                switch token {
                case .literal(let c):
                    profile.punctuation |= Profile.bit(c)
                    profile.length += 1
                case .whitespace: break
                case .number(_, let lo, _, _): profile.length += lo
                case .monthName, .weekdayName: profile.length += 3
                case .meridiem: profile.length += 2
                case .fraction, .zoneOffset, .zoneName, .epochSeconds: profile.length += 1
                }
            }
            switch tokens.first {
            case .number(_, _, _, let leadingSpace)?: profile.startsWithDigit = leadingSpace ? nil : true
            case .monthName?, .weekdayName?: profile.startsWithDigit = false
            default: break
            }
            self.profile = profile
        }

        /// The fields read so far.
        struct State {
            var year: Int?
            var month: Int?
            var day: Int?
            var dayOfYear: Int?
            var hour: Int?
            var hour12: Int?
            var minute: Int?
            var second: Int?
            var weekday: Int?
            var pm: Bool?
            /// Fractional-second digits as a number of `fractionDigits` digits, trailing zeros
            /// dropped (a plain value keeps the state free of reference counting while matching).
            var fractionValue: UInt32 = 0
            var fractionDigits = 0
            var offsetSeconds: Int?
            var epoch: Int?

            /// Sets a number field after checking its range; a field read twice must agree.
            mutating func set(_ field: Field, _ value: Int) -> Bool {
                func assign(_ slot: inout Int?, _ v: Int, _ range: ClosedRange<Int>) -> Bool {
                    guard range.contains(v) else { return false }
                    if let existing = slot, existing != v { return false }
                    slot = v
                    return true
                }
                switch field {
                case .year: return assign(&year, value, 0...9999)
                case .shortYear: return assign(&year, value < 69 ? 2000 + value : 1900 + value, 0...9999)
                case .month: return assign(&month, value, 1...12)
                case .day: return assign(&day, value, 1...31)
                case .dayOfYear: return assign(&dayOfYear, value, 1...366)
                case .hour: return assign(&hour, value, 0...23)
                case .hour12: return assign(&hour12, value, 1...12)
                case .minute: return assign(&minute, value, 0...59)
                case .second: return assign(&second, value, 0...59)
                }
            }
        }

        func parse(_ input: [UInt32]) -> DateTimeValue? {
            guard let state = match(0, 0, State(), input) else { return nil }
            return finish(state)
        }

        /// Matches tokens[t...] against input[pos...], backtracking over number widths and names.
        private func match(_ t: Int, _ pos: Int, _ state: State, _ input: [UInt32]) -> State? {
            let n = input.count
            if t == tokens.count { return pos == n ? state : nil }
            switch tokens[t] {
            case .literal(let c):
                guard pos < n, Self.sameLetter(input[pos], c) else { return nil }
                return match(t + 1, pos + 1, state, input)
            case .whitespace:
                var p = pos
                while p < n && Self.isSpace(input[p]) { p += 1 }
                return match(t + 1, p, state, input)
            case .number(let field, let lo, let hi, let leadingSpace):
                var p = pos
                if leadingSpace { while p < n && input[p] == 0x20 { p += 1 } }
                var available = 0
                while p + available < n && available < hi && TextFunctions.asciiDigit(input[p + available]) != nil {
                    available += 1
                }
                var width = available
                while width >= lo && width > 0 {
                    var value = 0
                    for k in 0..<width { value = value * 10 + Int(input[p + k] - 0x30) }
                    var next = state
                    if next.set(field, value), let done = match(t + 1, p + width, next, input) { return done }
                    width -= 1
                }
                return nil
            case .monthName:
                for (value, name) in DateTables.monthMatchNames {
                    guard Self.hasPrefix(input, pos, name) else { continue }
                    var next = state
                    guard next.set(.month, value) else { continue }
                    if let done = match(t + 1, pos + name.count, next, input) { return done }
                }
                return nil
            case .weekdayName:
                for (value, name) in DateTables.weekdayMatchNames {
                    guard Self.hasPrefix(input, pos, name) else { continue }
                    if let existing = state.weekday, existing != value { continue }
                    var next = state
                    next.weekday = value
                    if let done = match(t + 1, pos + name.count, next, input) { return done }
                }
                return nil
            case .meridiem:
                for (isPM, name) in DateTables.meridiemNames {
                    guard Self.hasPrefix(input, pos, name) else { continue }
                    var next = state
                    next.pm = isPM
                    if let done = match(t + 1, pos + name.count, next, input) { return done }
                }
                return nil
            case .fraction:
                var p = pos
                var value: UInt32 = 0
                var count = 0
                while p < n && count < 9, let d = TextFunctions.asciiDigit(input[p]) {
                    value = value * 10 + UInt32(d)
                    count += 1
                    p += 1
                }
                guard count > 0 else { return nil }
                while count > 0 && value % 10 == 0 {
                    value /= 10
                    count -= 1
                }
                var next = state
                next.fractionValue = value
                next.fractionDigits = count
                return match(t + 1, p, next, input)
            case .zoneOffset:
                for (offset, length) in Self.zoneOffsets(input, pos) {
                    var next = state
                    next.offsetSeconds = offset
                    if let done = match(t + 1, pos + length, next, input) { return done }
                }
                return nil
            case .zoneName:
                for (offset, name) in DateTables.zoneNames {
                    guard Self.hasPrefix(input, pos, name) else { continue }
                    // A name must not run on into more letters ("CEST" is not "CES" + "T").
                    let end = pos + name.count
                    if end < n && Self.isASCIILetter(input[end]) { continue }
                    var next = state
                    next.offsetSeconds = offset
                    if let done = match(t + 1, end, next, input) { return done }
                }
                return nil
            case .epochSeconds:
                var p = pos
                var negative = false
                if p < n && input[p] == 0x2D {
                    negative = true
                    p += 1
                }
                var value = 0
                var digits = 0
                while p < n && digits < 12, let d = TextFunctions.asciiDigit(input[p]) {
                    value = value * 10 + d
                    digits += 1
                    p += 1
                }
                guard digits > 0 else { return nil }
                var next = state
                next.epoch = negative ? -value : value
                return match(t + 1, p, next, input)
            }
        }

        /// The zone offsets that can be read at `pos`, longest reading first: (seconds, length).
        static func zoneOffsets(_ input: [UInt32], _ pos: Int) -> [(Int, Int)] {
            let n = input.count
            guard pos < n else { return [] }
            let c = input[pos]
            if c == 0x5A || c == 0x7A { return [(0, 1)] }  // Z
            if hasPrefix(input, pos, Array("utc".unicodeScalars.map(\.value)))
                || hasPrefix(input, pos, Array("gmt".unicodeScalars.map(\.value)))
            {
                return [(0, 3)]
            }
            guard c == 0x2B || c == 0x2D || c == 0x2212 else { return [] }
            let sign = c == 0x2B ? 1 : -1
            func digit(_ k: Int) -> Int? { k < n ? TextFunctions.asciiDigit(input[k]) : nil }
            guard let h1 = digit(pos + 1), let h2 = digit(pos + 2) else { return [] }
            let hours = h1 * 10 + h2
            guard hours <= 23 else { return [] }
            var readings: [(Int, Int)] = []
            if pos + 3 < n && input[pos + 3] == 0x3A, let m1 = digit(pos + 4), let m2 = digit(pos + 5), m1 <= 5 {
                readings.append((sign * (hours * 3600 + (m1 * 10 + m2) * 60), 6))
            }
            if let m1 = digit(pos + 3), let m2 = digit(pos + 4), m1 <= 5 {
                readings.append((sign * (hours * 3600 + (m1 * 10 + m2) * 60), 5))
            }
            readings.append((sign * hours * 3600, 3))
            return readings
        }

        /// The date the fields describe, after the calendar checks.
        private func finish(_ s: State) -> DateTimeValue? {
            var fraction: [UInt8] = []
            if s.fractionDigits > 0 {
                var v = s.fractionValue
                fraction = [UInt8](repeating: 0, count: s.fractionDigits)
                for k in stride(from: s.fractionDigits - 1, through: 0, by: -1) {
                    fraction[k] = UInt8(v % 10)
                    v /= 10
                }
            }
            if let epoch = s.epoch {
                return DateTimeValue(epochSeconds: epoch, fraction: fraction)
            }
            guard let year = s.year else { return nil }
            var month = s.month
            var day = s.day
            if let yday = s.dayOfYear {
                guard yday <= (TextFunctions.isLeapYear(year) ? 366 : 365) else { return nil }
                let (_, m, d) = TextFunctions.civilFromDays(TextFunctions.daysFromCivil(year, 1, 1) + yday - 1)
                if let given = month, given != m { return nil }
                if let given = day, given != d { return nil }
                month = m
                day = d
            }
            let mo = month ?? 1
            let da = day ?? 1
            guard da <= TextFunctions.daysInMonth(year, mo) else { return nil }
            var value = DateTimeValue(year: year, month: mo, day: da)
            if let weekday = s.weekday, weekday != value.weekday { return nil }
            guard hasTime else { return value }
            let hour: Int
            if let pm = s.pm {
                guard let h = s.hour12 ?? s.hour, (1...12).contains(h) else { return nil }
                hour = h % 12 + (pm ? 12 : 0)
            } else {
                hour = s.hour ?? s.hour12 ?? 0
            }
            value.hasTime = true
            value.fraction = fraction
            if let offset = s.offsetSeconds, offset != 0 {
                var total = value.daysSinceEpoch * 86_400 + hour * 3600 + (s.minute ?? 0) * 60 + (s.second ?? 0)
                total -= offset
                let shifted = DateTimeValue(epochSeconds: total, fraction: fraction)
                guard (0...9999).contains(shifted.year) else { return nil }
                return shifted
            }
            value.hour = hour
            value.minute = s.minute ?? 0
            value.second = s.second ?? 0
            return value
        }

        @inline(__always)
        static func isSpace(_ c: UInt32) -> Bool {
            c == 0x20 || (c >= 0x09 && c <= 0x0D) || c == 0xA0 || c == 0x202F || c == 0x3000
        }

        @inline(__always)
        static func isASCIILetter(_ c: UInt32) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }

        @inline(__always)
        static func sameLetter(_ a: UInt32, _ b: UInt32) -> Bool {
            if a == b { return true }
            return isASCIILetter(a) && isASCIILetter(b) && (a | 0x20) == (b | 0x20)
        }

        /// Whether input[pos...] starts with the lower-case ASCII `name`, ignoring case.
        static func hasPrefix(_ input: [UInt32], _ pos: Int, _ name: [UInt32]) -> Bool {
            guard pos + name.count <= input.count else { return false }
            for k in 0..<name.count {
                let c = input[pos + k]
                let lowered = c >= 0x41 && c <= 0x5A ? c | 0x20 : c
                if lowered != name[k] { return false }
            }
            return true
        }
    }

    /// Names and the compiled default formats.
    enum DateTables {
        static let monthNames = [
            "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
            "november", "december",
        ]
        static let weekdayNames = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]

        static func scalars(_ s: String) -> [UInt32] { Array(s.unicodeScalars.map(\.value)) }

        /// (month, name) pairs, longest first so "june" wins over "jun" when both could match.
        static let monthMatchNames: [(Int, [UInt32])] = {
            var names: [(Int, [UInt32])] = []
            for (k, name) in monthNames.enumerated() {
                names.append((k + 1, scalars(name)))
                if name.count > 3 { names.append((k + 1, scalars(String(name.prefix(3))))) }
            }
            names.append((9, scalars("sept")))
            return names.sorted { $0.1.count > $1.1.count }
        }()

        static let weekdayMatchNames: [(Int, [UInt32])] = {
            var names: [(Int, [UInt32])] = []
            for (k, name) in weekdayNames.enumerated() {
                names.append((k, scalars(name)))
                names.append((k, scalars(String(name.prefix(3)))))
            }
            names += [(2, scalars("tues")), (4, scalars("thur")), (4, scalars("thurs"))]
            return names.sorted { $0.1.count > $1.1.count }
        }()

        static let meridiemNames: [(Bool, [UInt32])] = [
            (false, scalars("a.m.")), (true, scalars("p.m.")), (false, scalars("am")), (true, scalars("pm")),
        ]

        /// Zone names with fixed offsets (seconds east of UTC), longest first.
        static let zoneNames: [(Int, [UInt32])] = {
            let table: [(String, Int)] = [
                ("utc", 0), ("gmt", 0), ("ut", 0), ("z", 0),
                ("est", -5), ("edt", -4), ("cst", -6), ("cdt", -5), ("mst", -7), ("mdt", -6), ("pst", -8),
                ("pdt", -7), ("akst", -9), ("akdt", -8), ("hst", -10), ("wet", 0), ("west", 1), ("cet", 1),
                ("cest", 2), ("eet", 2), ("eest", 3), ("msk", 3), ("jst", 9), ("kst", 9), ("aest", 10),
                ("aedt", 11), ("nzst", 12), ("nzdt", 13),
            ]
            var names = table.map { ($0.1 * 3600, scalars($0.0)) }
            names.append((19_800, scalars("ist")))  // India, UTC+05:30
            return names.sorted { $0.1.count > $1.1.count }
        }()

        static let isoFormatStrings: [String] = {
            var formats = ["%Y-%m-%d"]
            for separator in ["T", " "] {
                for time in ["%H:%M:%S.%f", "%H:%M:%S,%f", "%H:%M:%S", "%H:%M"] {
                    formats.append("%Y-%m-%d" + separator + time)
                    formats.append("%Y-%m-%d" + separator + time + " %z")
                }
            }
            for time in ["%H%M%S", "%H%M"] {
                formats.append("%Y%m%dT" + time)
                formats.append("%Y%m%dT" + time + "%z")
            }
            return formats
        }()

        static let defaultFormatStrings: [String] = {
            var formats = isoFormatStrings
            formats += ["%Y/%m/%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"]
            formats += ["%Y%m%d"]
            formats += ["%d.%m.%Y", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%y"]
            for time in ["", " %H:%M:%S", " %H:%M", " %I:%M:%S %p", " %I:%M %p"] {
                formats.append("%m/%d/%Y" + time)
                formats.append("%d/%m/%Y" + time)
            }
            formats += ["%m/%d/%y", "%d/%m/%y"]
            formats += ["%d-%m-%Y", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M"]
            formats += [
                "%d %b %Y", "%d-%b-%Y", "%d-%b-%y", "%d %b %Y %H:%M:%S", "%d %b %Y %H:%M", "%d/%b/%Y:%H:%M:%S %z",
                "%b %d, %Y", "%b. %d, %Y", "%b %d %Y", "%b %d, %Y %H:%M:%S", "%b %d, %Y %H:%M", "%d %b, %Y",
            ]
            formats += [
                "%a, %d %b %Y %H:%M:%S %z", "%a, %d %b %Y %H:%M:%S %Z", "%a, %d %b %Y %H:%M:%S", "%a, %d %b %Y",
                "%a %d %b %Y",
                "%a, %b %d, %Y", "%a %b %d %H:%M:%S %Y", "%a %b %d %H:%M:%S %Z %Y",
            ]
            return formats
        }()

        static let isoFormats: [DateFormat] = isoFormatStrings.compactMap(DateFormat.init)
        static let defaultFormats: [DateFormat] = defaultFormatStrings.compactMap(DateFormat.init)
    }
}
