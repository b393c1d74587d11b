import Foundation

/// What a column holds, as far as zero-configuration matching cares.
public enum ColumnKind: String, Sendable, CaseIterable {
    case givenName = "given_name", familyName = "family_name", fullName = "full_name"
    case dob, gender, email, phone, street, city, postcode
    case nationalID = "national_id"

    /// Words for model comments and reports.
    public var label: String {
        switch self {
        case .givenName: "given name"
        case .familyName: "family name"
        case .fullName: "full name"
        case .dob: "date of birth"
        case .gender: "gender"
        case .email: "e-mail"
        case .phone: "phone"
        case .street: "street"
        case .city: "city"
        case .postcode: "postcode"
        case .nationalID: "national identifier"
        }
    }
}

/// How a date column writes its dates, when the usual formats would read it wrongly.
public enum DateOrder: String, Sendable { case usual, dayFirst = "day_first" }

/// One column's verdict: the kind, the evidence, and (for dates) the order of day and month.
public struct ColumnProfile: Sendable {
    public var column: String
    public var kind: ColumnKind?
    /// Share of the sampled non-empty values that look like the kind (0 when no kind).
    public var score: Double
    /// Whether the column's name suggested the kind (else the content alone decided).
    public var byName: Bool
    public var dateOrder: DateOrder = .usual
    public var nonEmpty: Int
    /// Why the column got no kind (or which hint the content overruled), for the report.
    public var reason: String
}

/// Recognises column kinds from a column's name and a sample of its values.
///
/// The name gives a hint and the content must agree (half of the non-empty values for a hinted
/// kind); without a hint only kinds with an unmistakable shape are taken from the content alone
/// (e-mail, date, phone, postcode, national id, gender), at 80 % of the values (90 % for gender).
/// Names, streets and cities are never guessed from content alone: a column of single words
/// could be either.
public enum ColumnProfiler {
    public static func profile(column: String, values: [String]) -> ColumnProfile {
        let sample = values.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty && !nullTokens.contains($0.lowercased()) }
        let hint = nameHint(column)
        var p = ColumnProfile(column: column, kind: nil, score: 0, byName: hint != nil, nonEmpty: sample.count, reason: "")
        guard !sample.isEmpty else {
            p.reason = "no values"
            p.byName = false
            return p
        }
        func share(_ test: (String) -> Bool) -> Double { Double(sample.lazy.filter(test).count) / Double(sample.count) }
        if let hint {
            let s = share(contentTest(hint))
            if s >= 0.5 {
                p.kind = hint; p.score = s
            } else {
                p.reason = "named like \(hint.label), but only \(Int((s * 100).rounded())) % of the values look like one"
                p.byName = false
            }
        } else if isIdentifierName(column) {
            p.reason = "an identifier column"
            return p
        } else {
            for (kind, bar) in contentOnly {
                let s = share(contentTest(kind))
                if s >= bar { p.kind = kind; p.score = s; break }
            }
            if p.kind == nil { p.reason = "not recognised" }
        }
        if p.kind == .dob { p.dateOrder = dateOrder(sample) }
        return p
    }

    static let nullTokens: Set<String> = ["null", "none", "n/a", "na", "nan", "-", "?"]
    static let contentOnly: [(ColumnKind, Double)] = [(.email, 0.8), (.dob, 0.8), (.postcode, 0.8), (.nationalID, 0.8), (.phone, 0.8), (.gender, 0.9)]

    /// The words of a column name: split at non-alphanumerics and lower-to-upper case changes.
    static func words(_ name: String) -> [String] {
        var out: [String] = [], cur = ""
        var prevLower = false
        for ch in name {
            if ch.isLetter || ch.isNumber {
                if ch.isUppercase && prevLower && !cur.isEmpty { out.append(cur); cur = "" }
                cur.append(Character(ch.lowercased()))
                prevLower = ch.isLowercase || ch.isNumber
            } else {
                if !cur.isEmpty { out.append(cur); cur = "" }
                prevLower = false
            }
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    static func isIdentifierName(_ name: String) -> Bool {
        let w = words(name)
        return w.last.map { ["id", "key", "uuid", "guid", "ref", "no", "number", "code"].contains($0) } ?? false
            || w.first == "id"
    }

    /// The kind a column's name suggests, if any. Order matters: `email_address` is an e-mail, not a street.
    public static func nameHint(_ name: String) -> ColumnKind? {
        let w = words(name)
        let joined = w.joined()
        func has(_ xs: [String]) -> Bool { xs.contains { joined.contains($0) } }
        func word(_ xs: [String]) -> Bool { w.contains { xs.contains($0) } }
        if has(["email", "mail"]) { return .email }
        if has(["birth", "dob", "bday", "born"]) { return .dob }
        if word(["sin", "ssn", "nin", "nino", "nid", "tin", "ssnum"]) || has(["nationalid", "socialsecurity", "socialinsurance", "taxid", "personalnumber", "insurancenumber"]) { return .nationalID }
        if has(["phone", "tel", "mobile", "cell", "msisdn"]) { return .phone }
        if has(["postcode", "postal", "zip", "plz", "pincode"]) { return .postcode }
        if word(["gender", "sex"]) { return .gender }
        if has(["firstname", "givenname", "forename", "fname", "prenom", "christianname"]) || word(["first", "given"]) { return .givenName }
        if has(["lastname", "surname", "familyname", "lname", "sname"]) || word(["last", "family", "nom"]) { return .familyName }
        if has(["street", "address", "addr"]) || word(["line1", "road"]) { return .street }
        if word(["city", "town", "locality", "municipality", "suburb", "ville"]) { return .city }
        if word(["name", "fullname", "customer", "client", "contact", "person"]) || has(["fullname"]) {
            if has(["user", "file", "company", "org", "business", "product", "city", "street"]) { return nil }
            return .fullName
        }
        return nil
    }

    static func contentTest(_ kind: ColumnKind) -> (String) -> Bool {
        switch kind {
        case .email: return isEmail
        case .dob: return isDate
        case .phone: return isPhone
        case .postcode: return isPostcode
        case .nationalID: return isNationalID
        case .gender: return { genderValues.contains($0.lowercased()) }
        case .givenName, .familyName, .city: return { isNameLike($0, maxTokens: 4) }
        case .fullName: return { isNameLike($0, maxTokens: 6) && ($0.contains(",") || $0.split(separator: " ").count >= 2) }
        case .street: return { s in s.contains { $0.isLetter } && s.split(separator: " ").count >= 2 }
        }
    }

    static let genderValues: Set<String> = ["m", "f", "male", "female", "man", "woman", "w", "x", "u", "other", "unknown", "h", "homme", "femme"]

    static func isEmail(_ s: String) -> Bool {
        guard let at = s.firstIndex(of: "@"), at != s.startIndex else { return false }
        return s[s.index(after: at)...].contains(".") && !s.contains(" ")
    }

    static func isNameLike(_ s: String, maxTokens: Int) -> Bool {
        guard s.contains(where: \.isLetter) else { return false }
        for ch in s where !(ch.isLetter || ch == " " || ch == "-" || ch == "'" || ch == "’" || ch == "." || ch == ",") { return false }
        return s.split(separator: " ").count <= maxTokens
    }

    static func digitCount(_ s: String) -> Int { s.unicodeScalars.lazy.filter { $0.properties.numericType != nil && $0.isASCII }.count }

    static func isPhone(_ s: String) -> Bool {
        for ch in s where !(ch.isASCII && (ch.isNumber || " +-().".contains(ch))) { return false }
        let d = digitCount(s)
        return d >= 10 && d <= 15
    }

    static func isNationalID(_ s: String) -> Bool {
        for ch in s where !(ch.isASCII && (ch.isNumber || " -".contains(ch))) { return false }
        return digitCount(s) == 9
    }

    static let postcodeShapes = [
        #"^[A-Za-z][0-9][A-Za-z] ?[0-9][A-Za-z][0-9]$"#,           // Canada
        #"^[0-9]{5}(-[0-9]{4})?$"#,                                // US
        #"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}$"#,    // UK
        #"^[0-9]{4} ?[A-Za-z]{2}$"#,                               // Netherlands
    ].compactMap { try? NSRegularExpression(pattern: $0) }

    static func isPostcode(_ s: String) -> Bool {
        let r = NSRange(s.startIndex..., in: s)
        return postcodeShapes.contains { $0.firstMatch(in: s, range: r) != nil }
    }

    /// A date the usual formats read, with a plausible year; bare numbers only as 8-digit `YYYYMMDD`.
    static func isDate(_ s: String) -> Bool {
        let allDigits = s.allSatisfy { $0.isASCII && $0.isNumber }
        if allDigits && s.count != 8 { return false }
        guard let iso = TextFunctions.parseDate(s, formats: []) ?? TextFunctions.parseDate(s, formats: ["%d/%m/%Y"]),
              let year = Int(iso.prefix(4)) else { return false }
        return year >= 1850 && year <= 2100
    }

    /// Slash dates whose first part exceeds 12 somewhere (and whose second part never does) are day-first.
    static func dateOrder(_ sample: [String]) -> DateOrder {
        var firstOver = 0, secondOver = 0
        for s in sample {
            let parts = s.split(separator: "/")
            guard parts.count == 3, let a = Int(parts[0]), let b = Int(parts[1]), parts[2].count == 4 else { continue }
            if a > 12 { firstOver += 1 }
            if b > 12 { secondOver += 1 }
        }
        return firstOver > secondOver ? .dayFirst : .usual
    }
}
