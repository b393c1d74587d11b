/// The format check's knowledge: which columns hold which kind of value, and how each is normalised.
///
/// The checks themselves (null policies, business rules, duplicates) run inside the preparation
/// step's single pass over a source (Transform/Preparation.swift); this is what they consult.
enum QualityChecks {
    /// The format a column holds, recognised from its name (used when none is declared).
    static func inferFormat(_ column: String) -> FormatKind? {
        let c = column.lowercased()
        if c.contains("email") || c.contains("e_mail") || c.contains("e-mail") || c == "mail" { return .email }
        if c.contains("phone") || c.contains("mobile") || c == "tel" || c.hasPrefix("tel_") || c.hasSuffix("_tel") || c.contains("telephone") || c == "fax" { return .phone }
        if c.contains("postcode") || c.contains("zip") || c.contains("postal") { return .postcode }
        if c.contains("date") || c == "dob" || c.contains("birth") || c.hasSuffix("_at") || c.hasSuffix("_on") { return .date }
        return nil
    }

    /// The SQL that normalises a value of the kind (NULL when it cannot be read).
    static func normaliser(_ kind: FormatKind, _ id: String) -> String {
        switch kind {
        case .email: "normalize_email(\(id))"
        case .phone: "normalize_phone(\(id))"
        case .date: "parse_date(\(id))"
        case .postcode: "normalize_postcode(\(id))"
        }
    }

}
