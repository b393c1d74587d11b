import Foundation

// Normalization of e-mail addresses, telephone numbers and postcodes.

extension TextFunctions {
    // MARK: E-mail

    /// The address in canonical form (trimmed, lower-cased, without `mailto:` or angle brackets),
    /// or `nil` when it is not a plausible address.
    ///
    /// Accepts `"Ann <ANN@Example.COM>"`, `"<ann@example.com>"` and `"mailto:ann@example.com"`
    /// (a `?query` after a `mailto:` address is dropped). Plausible means: exactly one `@`; a local
    /// part of 1–64 characters from letters, digits and ``!#$%&'*+/=?^_`{|}~.-``, not starting or
    /// ending with a dot nor holding two in a row; a domain of at most 253 characters with at
    /// least two dot-separated labels of letters, digits and inner hyphens, each 1–63 long, whose
    /// last label has two or more characters and is not all digits; no whitespace or quotes.
    /// Non-ASCII letters are allowed (internationalized addresses). Sub-addresses (`+tag`) and
    /// dots in Gmail local parts are kept: they are not the same mailbox everywhere.
    public static func normalizeEmail(_ s: String) -> String? {
        // Foundation's trimming is slow; most values have nothing to trim.
        let edges = (s.unicodeScalars.first, s.unicodeScalars.last)
        var t = edges.0.map { !$0.properties.isWhitespace } == true && edges.1.map { !$0.properties.isWhitespace } == true
            ? s : s.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.hasSuffix(">"), let open = t.lastIndex(of: "<") {
            t = String(t[t.index(after: open)..<t.index(before: t.endIndex)])
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if t.count >= 7 && t.prefix(7).lowercased() == "mailto:" {
            t = String(t.dropFirst(7))
            if let q = t.firstIndex(of: "?") { t = String(t[..<q]) }
            t = t.trimmingCharacters(in: .whitespacesAndNewlines)
            if t.hasPrefix("<") && t.hasSuffix(">") && t.count >= 2 {
                t = String(t.dropFirst().dropLast())
            }
        }
        t = (mayNeedNFC(t) ? t.precomposedStringWithCanonicalMapping : t).lowercased()
        let parts = t.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let local = parts[0]
        let domain = parts[1]
        guard isPlausibleLocalPart(local), isPlausibleDomain(domain) else { return nil }
        return t
    }

    static func isPlausibleLocalPart(_ local: Substring) -> Bool {
        guard !local.isEmpty, local.count <= 64, local.first != ".", local.last != "." else { return false }
        var previousDot = false
        for scalar in local.unicodeScalars {
            let v = scalar.value
            if v == 0x2E {
                if previousDot { return false }
                previousDot = true
                continue
            }
            previousDot = false
            if v < 0x80 {
                let isAlnum = (v >= 0x30 && v <= 0x39) || (v >= 0x61 && v <= 0x7A) || (v >= 0x41 && v <= 0x5A)
                if !isAlnum && !"!#$%&'*+/=?^_`{|}~-".unicodeScalars.contains(scalar) { return false }
            } else if !(scalar.properties.isAlphabetic || scalar.properties.numericType != nil
                || scalar.properties.generalCategory == .nonspacingMark)
            {
                return false
            }
        }
        return true
    }

    static func isPlausibleDomain(_ domain: Substring) -> Bool {
        guard !domain.isEmpty, domain.utf8.count <= 253 else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        for label in labels {
            guard !label.isEmpty, label.count <= 63, label.first != "-", label.last != "-" else { return false }
            for scalar in label.unicodeScalars {
                let v = scalar.value
                if v < 0x80 {
                    let ok = (v >= 0x30 && v <= 0x39) || (v >= 0x61 && v <= 0x7A) || v == 0x2D
                    if !ok { return false }
                } else if !(scalar.properties.isAlphabetic || scalar.properties.numericType != nil
                    || scalar.properties.generalCategory == .nonspacingMark
                    || scalar.properties.generalCategory == .spacingMark)
                {
                    return false
                }
            }
        }
        let tld = labels[labels.count - 1]
        if tld.count < 2 || tld.allSatisfy({ $0.isASCII && $0.isNumber }) { return false }
        return true
    }

    // MARK: Telephone numbers

    /// The number in E.164 form (`"+14155550123"`), or `nil` when it cannot be one.
    ///
    /// - International numbers: a leading `+`, or the international prefix `00`, or the default
    ///   country's own (`011` in the NANP, `0011` in Australia, `010` in Japan, `810` in Russia…),
    ///   then a country calling code. A trunk `0` written after the country code (`+44 (0)20…`,
    ///   `+44 020…`) is dropped for countries that dial one.
    /// - National numbers are read in `defaultCountry` (ISO 3166 alpha-2, case-insensitive); its
    ///   trunk prefix is dropped (`0` in most of Europe, `06` in Hungary, `8` in Russia; Italy's
    ///   leading 0 is part of the number). In the NANP (US, CA and the Caribbean) the number must
    ///   have 10 digits (after an optional leading 1) with area code and exchange not starting
    ///   with 0 or 1.
    /// - Separators: spaces, `.`, `-`, `–`, `/` and parentheses. A `tel:` prefix is allowed, and an
    ///   extension at the end (`ext`, `ext.`, `extension`, `x`, `#`, `;ext=`, then digits) is
    ///   dropped.
    ///
    /// Returns `nil` for any other letter or symbol, for a national significant number whose
    /// length the country never uses (lengths from libphonenumber's metadata), for fewer than 7 or
    /// more than 15 digits in all, and for an unknown `defaultCountry` (an empty `defaultCountry`
    /// accepts only international numbers). The number is checked for possible length, not
    /// assigned ranges: "+44 20 7946 0018" passes whether or not that line exists.
    public static func normalizePhone(_ s: String, defaultCountry: String = "US") -> String? {
        let regionCode = asciiUppercasedCode(defaultCountry)
        let region: PhoneRegion?
        if regionCode.isEmpty {
            region = nil
        } else {
            guard let r = PhoneTables.shared.regions[regionCode] else { return nil }
            region = r
        }
        guard let (digits, international) = phoneDigits(s) else { return nil }
        if international {
            return internationalE164(digits[...])
        }
        if let region {
            // The default country's own international prefix first (0011 before 00 in Australia).
            if let idd = region.internationalPrefix, digits.starts(with: idd) {
                return internationalE164(digits[idd.count...])
            }
            if digits.starts(with: [0, 0]) {
                return internationalE164(digits[2...])
            }
            return nationalE164(digits[...], region)
        }
        return nil
    }

    /// An ISO country code upper-cased, without surrounding whitespace.
    static func asciiUppercasedCode(_ code: String) -> String {
        var bytes: [UInt8] = []
        for b in code.utf8 where b != 0x20 && b != 0x09 {
            bytes.append(b >= 0x61 && b <= 0x7A ? b - 0x20 : b)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The digits of a phone number (0–9 each) and whether it started with `+`; `nil` when it
    /// holds anything but digits, separators and a trailing extension.
    static func phoneDigits(_ s: String) -> ([UInt8], Bool)? {
        var text = Array(s.unicodeScalars)
        func isSpace(_ c: Unicode.Scalar) -> Bool {
            c.value == 0x20 || (c.value >= 0x09 && c.value <= 0x0D) || (c.value >= 0x80 && c.properties.isWhitespace)
        }
        // Strip a "tel:" prefix.
        let leading = text.prefix(while: isSpace).count
        if leading > 0 { text.removeFirst(leading) }
        if text.count >= 4 && text[0..<4].map({ $0.value | 0x20 }) == [0x74, 0x65, 0x6C, 0x3A] { text.removeFirst(4) }
        // Cut a trailing extension at the first letter, '#' or ';'.
        if let markerIndex = text.firstIndex(where: { c in
            let v = c.value
            if v < 0x80 { return (v | 0x20) >= 0x61 && (v | 0x20) <= 0x7A || v == 0x23 || v == 0x3B }
            return c.properties.isAlphabetic
        }) {
            guard isExtension(text[markerIndex...]) else { return nil }
            text.removeSubrange(markerIndex...)
        }
        var digits: [UInt8] = []
        digits.reserveCapacity(text.count)
        var plus = false
        var i = 0
        while i < text.count {
            let c = text[i]
            switch c {
            case "0"..."9":
                digits.append(UInt8(c.value - 0x30))
            case "+":
                guard digits.isEmpty, !plus else { return nil }
                plus = true
            case "(":
                // "+44 (0)20 …": a trunk 0 in brackets after the country code is not dialled.
                if plus, i + 2 < text.count, text[i + 1] == "0", text[i + 2] == ")" {
                    i += 3
                    continue
                }
            case ")", ".", "-", "/", "\u{2013}", "\u{2010}", "\u{2011}", "\u{2012}":
                break
            default:
                if !isSpace(c) { return nil }
            }
            i += 1
        }
        return (digits, plus)
    }

    /// Whether `tail` is an extension: a marker, optional punctuation, digits, optional spaces.
    static func isExtension(_ tail: ArraySlice<Unicode.Scalar>) -> Bool {
        let text = String(String.UnicodeScalarView(tail)).lowercased()
        var rest = Substring(text)
        var found = false
        for marker in [";ext=", "extension", "ext.", "ext", "x.", "x", "#"] where rest.hasPrefix(marker) {
            rest = rest.dropFirst(marker.count)
            found = true
            break
        }
        guard found else { return false }
        rest = rest.drop(while: { $0 == " " || $0 == ":" || $0 == "." || $0 == "=" || $0 == "\t" })
        let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
        guard !digits.isEmpty else { return false }
        rest = rest.dropFirst(digits.count)
        return rest.allSatisfy { $0.isWhitespace }
    }

    /// E.164 for digits that start with a country calling code.
    static func internationalE164(_ digits: ArraySlice<UInt8>) -> String? {
        let tables = PhoneTables.shared
        var code = 0
        var ccLength = 0
        for length in 1...3 where digits.count > length {
            code = code * 10 + Int(digits[digits.startIndex + length - 1])
            if tables.countries[code] != nil {
                ccLength = length
                break
            }
        }
        guard ccLength > 0, let country = tables.countries[code] else { return nil }
        var nsn = digits.dropFirst(ccLength)
        if code == 1 {
            return nanpE164(nsn)
        }
        if country.trunkPrefixes.contains([0]), nsn.first == 0, nsn.count - 1 >= country.minLength {
            nsn = nsn.dropFirst()
        }
        return e164(code, nsn, country.minLength, country.maxLength)
    }

    /// E.164 for a national number in `region`.
    static func nationalE164(_ digits: ArraySlice<UInt8>, _ region: PhoneRegion) -> String? {
        if region.callingCode == 1 {
            var nsn = digits
            if nsn.count == 11 && nsn.first == 1 { nsn = nsn.dropFirst() }
            return nanpE164(nsn)
        }
        for trunk in region.trunkPrefixes where digits.starts(with: trunk) {
            let stripped = digits.dropFirst(trunk.count)
            if stripped.count >= region.minLength && stripped.count <= region.maxLength {
                return e164(region.callingCode, stripped, region.minLength, region.maxLength)
            }
        }
        return e164(region.callingCode, digits, region.minLength, region.maxLength)
    }

    static func nanpE164(_ nsn: ArraySlice<UInt8>) -> String? {
        guard nsn.count == 10 else { return nil }
        let area = nsn[nsn.startIndex]
        let exchange = nsn[nsn.startIndex + 3]
        guard area >= 2, exchange >= 2 else { return nil }
        return e164(1, nsn, 10, 10)
    }

    static func e164(_ code: Int, _ nsn: ArraySlice<UInt8>, _ minLength: Int, _ maxLength: Int) -> String? {
        guard nsn.count >= minLength, nsn.count <= maxLength else { return nil }
        var bytes: [UInt8] = [UInt8(ascii: "+")]
        bytes.append(contentsOf: String(code).utf8)
        let total = bytes.count - 1 + nsn.count
        guard total >= 7, total <= 15 else { return nil }
        for d in nsn { bytes.append(0x30 + d) }
        return asciiString(bytes)
    }

    /// One ISO 3166 region's dialling facts.
    struct PhoneRegion: Sendable {
        let callingCode: Int
        /// The national trunk prefixes, as digits, longest first; empty where none is dialled.
        let trunkPrefixes: [[UInt8]]
        /// The international prefix when it is not `00` (which is always accepted).
        let internationalPrefix: [UInt8]?
        /// The shortest and longest national significant numbers in use.
        let minLength: Int
        let maxLength: Int
    }

    /// The dialling tables: regions by ISO code, and by calling code the facts used to read an
    /// international number (trunk prefix of the code's main region; lengths over all its regions).
    struct PhoneTables: Sendable {
        let regions: [String: PhoneRegion]
        let countries: [Int: PhoneRegion]

        static let shared = PhoneTables(parsing: phoneRegionTable)

        init(parsing table: String) {
            var regions: [String: PhoneRegion] = [:]
            var countries: [Int: PhoneRegion] = [:]
            func digits(_ field: Substring) -> [UInt8]? {
                field == "-" ? nil : field.map { UInt8($0.asciiValue! - 0x30) }
            }
            func prefixes(_ field: Substring) -> [[UInt8]] {
                field.split(separator: "|").compactMap(digits).sorted { $0.count > $1.count }
            }
            for line in table.split(separator: "\n") {
                let f = line.split(separator: " ")
                guard f.count >= 6, let code = Int(f[1]), let lo = Int(f[4]), let hi = Int(f[5]) else { continue }
                let region = PhoneRegion(
                    callingCode: code, trunkPrefixes: prefixes(f[2]), internationalPrefix: digits(f[3]),
                    minLength: lo, maxLength: hi)
                if f[0] != "--" { regions[String(f[0])] = region }
                let isMain = f.count > 6 && f[6] == "*"
                if let existing = countries[code] {
                    countries[code] = PhoneRegion(
                        callingCode: code,
                        trunkPrefixes: isMain ? region.trunkPrefixes : existing.trunkPrefixes,
                        internationalPrefix: nil,
                        minLength: min(existing.minLength, lo), maxLength: max(existing.maxLength, hi))
                } else {
                    countries[code] = region
                }
            }
            self.regions = regions
            self.countries = countries
        }
    }

    /// Region, calling code, trunk prefixes (`|`-separated), international prefix other than 00, shortest and
    /// longest national significant number, and `*` for the main region of a shared calling code.
    /// Generated from libphonenumber's metadata (the `phonenumbers` Python package, 9.0);
    /// `--` rows are non-geographic calling codes.
    static let phoneRegionTable = """
        AC 247 - - 5 6 *
        AD 376 - - 6 9 *
        AE 971 0 - 5 12 *
        AF 93 0 - 9 9 *
        AG 1 1 011 10 10
        AI 1 1 011 10 10
        AL 355 0 - 6 9 *
        AM 374 0 - 8 8 *
        AO 244 - - 9 9 *
        AR 54 0 - 10 11 *
        AS 1 1 011 10 10
        AT 43 0 - 4 13 *
        AU 61 0 0011 5 12 *
        AW 297 - - 7 7 *
        AX 358 0 - 5 12
        AZ 994 0 - 9 9 *
        BA 387 0 - 8 9 *
        BB 1 1 011 10 10
        BD 880 0 - 6 10 *
        BE 32 0 - 8 9 *
        BF 226 - - 8 8 *
        BG 359 0 - 6 12 *
        BH 973 - - 8 8 *
        BI 257 - - 8 8 *
        BJ 229 - - 10 10 *
        BL 590 0 - 9 9
        BM 1 1 011 10 10
        BN 673 - - 7 7 *
        BO 591 0 - 8 9 *
        BQ 599 - - 7 7
        BR 55 0 - 8 11 *
        BS 1 1 011 10 10
        BT 975 - - 7 8 *
        BW 267 - - 7 10 *
        BY 375 80|8|0 810 6 11 *
        BZ 501 - - 7 11 *
        CA 1 1 011 7 10
        CC 61 0 0011 6 12
        CD 243 0 - 7 10 *
        CF 236 - - 8 8 *
        CG 242 - - 9 9 *
        CH 41 0 - 9 12 *
        CI 225 - - 10 10 *
        CK 682 - - 5 5 *
        CL 56 - - 9 11 *
        CM 237 - - 8 9 *
        CN 86 0 - 7 12 *
        CO 57 0 - 8 11 *
        CR 506 - - 8 10 *
        CU 53 0 119 6 10 *
        CV 238 - 0 7 7 *
        CW 599 - - 7 8 *
        CX 61 0 0011 6 12
        CY 357 - - 8 8 *
        CZ 420 - - 9 12 *
        DE 49 0 - 4 15 *
        DJ 253 - - 8 8 *
        DK 45 - - 8 8 *
        DM 1 1 011 10 10
        DO 1 1 011 10 10
        DZ 213 0 - 8 9 *
        EC 593 0 - 8 11 *
        EE 372 - - 7 10 *
        EG 20 0 - 8 10 *
        EH 212 0 - 9 9
        ER 291 0 - 7 7 *
        ES 34 - - 9 9 *
        ET 251 0 - 9 9 *
        FI 358 0 - 5 12 *
        FJ 679 - - 7 11 *
        FK 500 - - 5 5 *
        FM 691 - - 7 7 *
        FO 298 - - 6 6 *
        FR 33 0 - 9 9 *
        GA 241 - - 7 8 *
        GB 44 0 - 7 10 *
        GD 1 1 011 10 10
        GE 995 0 - 9 9 *
        GF 594 0 - 9 9 *
        GG 44 0 - 7 10
        GH 233 0 - 8 9 *
        GI 350 - - 8 8 *
        GL 299 - - 6 6 *
        GM 220 - - 7 9 *
        GN 224 - - 8 9 *
        GP 590 0 - 9 9 *
        GQ 240 - - 9 9 *
        GR 30 - - 10 12 *
        GT 502 - - 8 11 *
        GU 1 1 011 10 10
        GW 245 - - 7 9 *
        GY 592 - 001 7 7 *
        HK 852 - - 5 11 *
        HN 504 - - 8 11 *
        HR 385 0 - 7 9 *
        HT 509 - - 8 8 *
        HU 36 06 - 8 9 *
        ID 62 0 - 7 17 *
        IE 353 0 - 7 10 *
        IL 972 0 - 7 12 *
        IM 44 0 - 10 10
        IN 91 0 - 8 13 *
        IO 246 - - 7 7 *
        IQ 964 0 - 8 10 *
        IR 98 0 - 4 10 *
        IS 354 - - 7 9 *
        IT 39 - - 6 12 *
        JE 44 0 - 10 10
        JM 1 1 011 10 10
        JO 962 0 - 8 9 *
        JP 81 0 010 8 17 *
        KE 254 0 000 7 10 *
        KG 996 0 - 9 10 *
        KH 855 0 - 8 10 *
        KI 686 0 - 5 8 *
        KM 269 - - 7 7 *
        KN 1 1 011 10 10
        KP 850 0 - 8 10 *
        KR 82 0 - 5 14 *
        KW 965 - - 7 8 *
        KY 1 1 011 10 10
        KZ 7 8 810 10 14
        LA 856 0 - 8 10 *
        LB 961 0 - 7 8 *
        LC 1 1 011 10 10
        LI 423 0 - 7 9 *
        LK 94 0 - 9 9 *
        LR 231 0 - 7 9 *
        LS 266 - - 8 8 *
        LT 370 0|8 - 8 8 *
        LU 352 - - 4 11 *
        LV 371 - - 8 8 *
        LY 218 0 - 9 9 *
        MA 212 0 - 9 9 *
        MC 377 0 - 8 9 *
        MD 373 0 - 8 8 *
        ME 382 0 - 8 9 *
        MF 590 0 - 9 9
        MG 261 0 - 9 9 *
        MH 692 1 011 7 7 *
        MK 389 0 - 8 8 *
        ML 223 - - 8 8 *
        MM 95 0 - 6 10 *
        MN 976 0 001 8 10 *
        MO 853 - - 7 8 *
        MP 1 1 011 10 10
        MQ 596 0 - 9 9 *
        MR 222 - - 8 8 *
        MS 1 1 011 10 10
        MT 356 - - 8 8 *
        MU 230 - 020 7 10 *
        MV 960 - - 7 10 *
        MW 265 0 - 7 9 *
        MX 52 - - 10 10 *
        MY 60 0 - 8 10 *
        MZ 258 - - 8 9 *
        NA 264 0 - 8 9 *
        NC 687 - - 6 6 *
        NE 227 - - 8 8 *
        NF 672 - - 6 6 *
        NG 234 0 009 10 14 *
        NI 505 - - 8 8 *
        NL 31 0 - 5 11 *
        NO 47 - - 5 8 *
        NP 977 0 - 8 11 *
        NR 674 - - 7 7 *
        NU 683 - - 4 7 *
        NZ 64 0 - 5 10 *
        OM 968 - - 7 9 *
        PA 507 - - 7 11 *
        PE 51 0 - 8 9 *
        PF 689 - - 6 9 *
        PG 675 - - 7 8 *
        PH 63 0 - 6 13 *
        PK 92 0 - 8 12 *
        PL 48 - - 6 10 *
        PM 508 0 - 6 9 *
        PR 1 1 011 10 10
        PS 970 0 - 8 10 *
        PT 351 - - 9 9 *
        PW 680 - - 7 7 *
        PY 595 0 - 6 11 *
        QA 974 - - 7 11 *
        RE 262 0 - 9 9 *
        RO 40 0 - 6 9 *
        RS 381 0 - 6 12 *
        RU 7 8 810 10 14 *
        RW 250 0 - 8 9 *
        SA 966 0 - 9 10 *
        SB 677 - - 5 7 *
        SC 248 - - 7 7 *
        SD 249 0 - 9 9 *
        SE 46 0 - 6 12 *
        SG 65 - - 8 11 *
        SH 290 - - 4 5 *
        SI 386 0 - 5 8 *
        SJ 47 - - 5 8
        SK 421 0 - 6 9 *
        SL 232 0 - 8 8 *
        SM 378 - - 8 10 *
        SN 221 - - 9 9 *
        SO 252 0 - 6 9 *
        SR 597 - - 6 7 *
        SS 211 0 - 9 9 *
        ST 239 - - 7 7 *
        SV 503 - - 7 11 *
        SX 1 1 011 10 10
        SY 963 0 - 8 9 *
        SZ 268 - - 8 9 *
        TA 290 - - 4 4
        TC 1 1 011 10 10
        TD 235 - - 8 8 *
        TG 228 - - 8 8 *
        TH 66 0 - 8 13 *
        TJ 992 - 810 9 9 *
        TK 690 - - 4 7 *
        TL 670 - - 7 8 *
        TM 993 8 810 8 8 *
        TN 216 - - 8 8 *
        TO 676 - - 5 7 *
        TR 90 0 - 7 13 *
        TT 1 1 011 10 10
        TV 688 - - 5 7 *
        TW 886 0 - 7 11 *
        TZ 255 0 - 9 9 *
        UA 380 0 - 9 10 *
        UG 256 0 - 9 9 *
        US 1 1 011 10 10 *
        UY 598 0 - 4 13 *
        UZ 998 - - 9 9 *
        VA 39 - - 6 12
        VC 1 1 011 10 10
        VE 58 0 - 10 10 *
        VG 1 1 011 10 10
        VI 1 1 011 10 10
        VN 84 0 - 7 10 *
        VU 678 - - 5 7 *
        WF 681 - - 6 9 *
        WS 685 - 0 5 10 *
        XK 383 0 - 8 12 *
        YE 967 0 - 7 9 *
        YT 262 0 - 9 9
        ZA 27 0 - 5 10 *
        ZM 260 0 - 9 9 *
        ZW 263 0 - 7 10 *
        -- 800 - - 8 8 *
        -- 808 - - 8 8 *
        -- 870 - - 9 9 *
        -- 878 - - 12 12 *
        -- 881 - - 9 10 *
        -- 882 - - 7 12 *
        -- 883 - - 9 12 *
        -- 888 - - 11 11 *
        -- 979 - - 9 9 *
        """

    // MARK: Postcodes

    /// The postcode in its country's canonical form, or `nil` when it is not one.
    ///
    /// Known formats (`country` is ISO 3166 alpha-2, case-insensitive):
    /// - GB: "SW1A 1AA" (outward code, space, inward code; also "GIR 0AA"); CA: "K1A 0B1";
    ///   NL: "1234 AB"; IE (Eircode): "D02 X285"; MT: "VLT 1117"; AR (CPA): "C1425DKE" or 4 digits;
    /// - US: "12345" or ZIP+4 "12345-6789"; BR: "12345-678"; JP: "123-4567"; PL: "12-345";
    ///   PT: "1234-567"; SE, CZ, SK, GR: "123 45"; LV: "LV-1234"; LT: "LT-12345";
    /// - digits only: 4 (AT, AU, BE, BG, CH, CY, DK, HU, LU, NO, NZ, PH, SI, ZA…), 5 (DE, FR, IT,
    ///   ES, FI, EE, HR, MX, TR, UA, KR…), 6 (IN, CN, RU, SG, KZ, BY, RO, VN…), 7 (IL, CL) — separators
    ///   (spaces, hyphens, dots) are removed, anything else makes it `nil`;
    /// - anything else (also `country == ""`): upper-cased, runs of whitespace collapsed to one
    ///   space, characters other than letters, digits, space and hyphen removed; `nil` if no
    ///   letter or digit is left.
    public static func normalizePostcode(_ s: String, country: String = "") -> String? {
        let upper = stripAccents(s.trimmingCharacters(in: .whitespacesAndNewlines)).uppercased()
        let code = country.trimmingCharacters(in: .whitespaces).uppercased()
        var compact = ""
        var onlySeparators = true
        for scalar in upper.unicodeScalars {
            let v = scalar.value
            if (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) {
                compact.unicodeScalars.append(scalar)
            } else if !(v == 0x20 || v == 0x2D || v == 0x2E) {
                onlySeparators = false
            }
        }
        if let known = knownPostcode(compact, country: code) {
            return onlySeparators ? known : nil
        }
        var out = ""
        var pendingSpace = false
        for ch in upper {
            if ch.isWhitespace {
                pendingSpace = !out.isEmpty
            } else if ch.isLetter || ch.isNumber || ch == "-" {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(ch)
            }
        }
        return out.contains(where: { $0.isLetter || $0.isNumber }) ? out : nil
    }

    /// The canonical form of `compact` (upper-case ASCII letters and digits only) for a country
    /// with a known format: `.some(nil)` when it does not fit, `nil` when the country is not known.
    static func knownPostcode(_ compact: String, country code: String) -> String?? {
        let isDigits = !compact.isEmpty && compact.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        func shape(_ pattern: String) -> Bool { matchesShape(compact, pattern) }
        func split(_ at: Int, _ separator: String) -> String {
            String(compact.prefix(at)) + separator + String(compact.dropFirst(at))
        }
        switch code {
        case "GB", "UK", "GG", "JE", "IM":
            if compact == "GIR0AA" { return "GIR 0AA" }
            for outward in ["A9", "A99", "AA9", "AA99", "A9A", "AA9A"] where shape(outward + "9AA") {
                return split(outward.count, " ")
            }
            return .some(nil)
        case "CA":
            return shape("A9A9A9") ? split(3, " ") : .some(nil)
        case "NL":
            guard shape("9999AA"), compact.first != "0" else { return .some(nil) }
            return split(4, " ")
        case "IE":
            return shape("A99XXXX") || shape("A9WXXXX") ? split(3, " ") : .some(nil)
        case "MT":
            if shape("AAA9999") { return split(3, " ") }
            return shape("AA9999") ? split(2, " ") : .some(nil)
        case "AR":
            return shape("A9999AAA") || shape("9999") ? compact : .some(nil)
        case "US", "PR", "VI", "GU", "AS", "MP":
            if shape("99999") { return compact }
            return shape("999999999") ? split(5, "-") : .some(nil)
        case "BR": return shape("99999999") ? split(5, "-") : .some(nil)
        case "JP": return shape("9999999") ? split(3, "-") : .some(nil)
        case "PL": return shape("99999") ? split(2, "-") : .some(nil)
        case "PT": return shape("9999999") ? split(4, "-") : .some(nil)
        case "SE", "CZ", "SK", "GR": return shape("99999") ? split(3, " ") : .some(nil)
        case "LV":
            let digits = compact.hasPrefix("LV") ? String(compact.dropFirst(2)) : compact
            return matchesShape(digits, "9999") ? "LV-" + digits : .some(nil)
        case "LT":
            let digits = compact.hasPrefix("LT") ? String(compact.dropFirst(2)) : compact
            return matchesShape(digits, "99999") ? "LT-" + digits : .some(nil)
        case "AT", "AU", "BE", "BG", "CH", "CY", "DK", "HU", "LU", "NO", "NZ", "PH", "SI", "ZA", "LI", "MK",
            "TN", "AM", "GE", "BD", "AF":
            return isDigits && compact.count == 4 ? compact : .some(nil)
        case "DE", "FR", "IT", "ES", "FI", "EE", "HR", "MX", "TR", "UA", "KR", "MY", "TH", "ID", "MA", "DZ",
            "SA", "PK", "EG", "CU", "GT", "RS", "BA", "ME", "MC", "SM", "VA", "IQ", "KW", "LK", "NP", "ZM", "UY":
            return isDigits && compact.count == 5 ? compact : .some(nil)
        case "IN", "CN", "RU", "SG", "KZ", "BY", "RO", "VN", "CO", "EC", "NG", "TJ", "TM", "KG", "UZ", "PA", "TT":
            return isDigits && compact.count == 6 ? compact : .some(nil)
        case "IL", "CL":
            return isDigits && compact.count == 7 ? compact : .some(nil)
        default:
            return nil
        }
    }

    /// Whether `s` has the shape `pattern`: `A` a letter, `9` a digit, `X` either, `W` the
    /// letter W (Dublin's D6W).
    static func matchesShape(_ s: String, _ pattern: String) -> Bool {
        let a = Array(s.utf8)
        let p = Array(pattern.utf8)
        guard a.count == p.count else { return false }
        for (c, k) in zip(a, p) {
            let isLetter = c >= 0x41 && c <= 0x5A
            let isDigit = c >= 0x30 && c <= 0x39
            switch k {
            case UInt8(ascii: "A"): if !isLetter { return false }
            case UInt8(ascii: "9"): if !isDigit { return false }
            case UInt8(ascii: "X"): if !(isLetter || isDigit) { return false }
            case UInt8(ascii: "W"): if c != UInt8(ascii: "W") { return false }
            default: if c != k { return false }
            }
        }
        return true
    }
}
