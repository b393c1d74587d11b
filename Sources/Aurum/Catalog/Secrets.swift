import Foundation

/// `${NAME}` references to environment variables, and scrubbing secrets out of text.
public enum Secrets {
    /// Expands `${NAME}` references; returns the names that are not set.
    public static func expand(_ s: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> (String, missing: [String]) {
        guard s.contains("${") else { return (s, []) }
        var out = ""
        var missing: [String] = []
        var rest = Substring(s)
        while let r = rest.range(of: "${") {
            out += rest[..<r.lowerBound]
            guard let close = rest[r.upperBound...].firstIndex(of: "}") else { out += rest[r.lowerBound...]; rest = ""; break }
            let name = String(rest[r.upperBound..<close])
            if let v = environment[name] { out += v } else { missing.append(name) }
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return (out, missing)
    }

    /// A connection string with its password removed: `scheme://user:***@host/…`, `password=***`.
    public static func redact(_ conn: String) -> String {
        var s = conn
        if let scheme = s.range(of: "://"), let at = s[scheme.upperBound...].firstIndex(of: "@") {
            let userinfo = s[scheme.upperBound..<at]
            if let colon = userinfo.firstIndex(of: ":") {
                s.replaceSubrange(s.index(after: colon)..<at, with: "***")
            }
        }
        for key in ["password", "pwd", "passwd", "api_key", "apikey", "token", "secret"] {
            var searchStart = s.startIndex
            while let r = s.range(of: key + "=", options: .caseInsensitive, range: searchStart..<s.endIndex) {
                let end = s[r.upperBound...].firstIndex { $0 == "&" || $0 == " " || $0 == ";" } ?? s.endIndex
                s.replaceSubrange(r.upperBound..<end, with: "***")
                searchStart = s.index(r.upperBound, offsetBy: 3, limitedBy: s.endIndex) ?? s.endIndex
            }
        }
        return s
    }

    /// Replaces every occurrence of each secret in `text` with `***`.
    public static func scrub(_ text: String, _ secrets: [String]) -> String {
        var t = text
        for s in secrets where s.count >= 3 { t = t.replacingOccurrences(of: s, with: "***") }
        return t
    }
}
