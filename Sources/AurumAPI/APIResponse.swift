import Foundation

/// What a page's body says: where its records are, how many, and what it names as the next page.
enum APIResponse {
    /// Keys whose array holds the records when no records path is set, in this order.
    static let recordKeys = ["data", "results", "items", "records"]
    /// Objects of the body where `next` / `next_cursor` are also looked for (JSON:API, HAL, common styles).
    static let linkContainers = ["links", "_links", "meta", "pagination", "paging"]

    /// The `<title>` of an HTML body ("" when it has none), or nil when the body does not start like markup.
    static func htmlTitle(_ body: Data) -> String? {
        guard let first = body.first(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF) }),
              first == UInt8(ascii: "<") else { return nil }
        let head = String(decoding: body.prefix(64 * 1024), as: UTF8.self)
        guard let open = head.range(of: "<title", options: .caseInsensitive),
              let gt = head[open.upperBound...].firstIndex(of: ">"),
              let close = head.range(of: "</title>", options: .caseInsensitive, range: gt ..< head.endIndex) else { return "" }
        let title = head[head.index(after: gt) ..< close.lowerBound].split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return title.count > 80 ? String(title.prefix(80)) + "…" : title
    }

    /// The value at `path` in a JSONSerialization tree.
    static func value(at path: [String], in object: Any) -> Any? {
        var v: Any? = object
        for key in path {
            guard let d = v as? [String: Any] else { return nil }
            v = d[key]
        }
        return v
    }

    /// A short name of a JSON value's kind, for messages.
    static func kind(_ v: Any?) -> String {
        switch v {
        case nil: "nothing"
        case is NSNull: "null"
        case is [Any]: "an array"
        case is [String: Any]: "an object"
        case is String: "a string"
        case let n as NSNumber: String(cString: n.objCType) == "c" ? "a boolean" : "a number"
        default: "a value"
        }
    }

    /// Where the records are when no path is set: `[]` for a top-level array, else the first of `recordKeys`
    /// holding an array. Nil when there is none.
    static func detectRecords(in object: Any) -> [String]? {
        if object is [Any] { return [] }
        guard let d = object as? [String: Any] else { return nil }
        for k in recordKeys where d[k] is [Any] { return [k] }
        return nil
    }

    /// The body's `key` (a string or a number), at the top level or in one of `linkContainers`.
    static func find(_ key: String, in object: Any) -> Any? {
        guard let d = object as? [String: Any] else { return nil }
        if let v = d[key], !(v is NSNull) { return v }
        for c in linkContainers {
            if let inner = d[c] as? [String: Any], let v = inner[key], !(v is NSNull) { return v }
        }
        return nil
    }

    /// The `rel="next"` target of a `Link` header (RFC 8288), resolved against `base`.
    static func nextLink(_ header: String?, base: URL) -> URL? {
        guard let header else { return nil }
        for link in parseLinks(header) where link.rels.contains("next") {
            return URL(string: link.target, relativeTo: base)?.absoluteURL
        }
        return nil
    }

    /// Parses `<uri>; rel="next"; title="x", <uri2>; rel="prev last"` into targets and relation types
    /// (lowercased). Commas and semicolons inside quoted strings and `<…>` are not separators.
    static func parseLinks(_ header: String) -> [(target: String, rels: [String])] {
        var out: [(String, [String])] = []
        let s = Array(header.unicodeScalars)
        var i = 0
        func skipSpace() { while i < s.count, s[i] == " " || s[i] == "\t" { i += 1 } }
        while i < s.count {
            skipSpace()
            guard i < s.count else { break }
            if s[i] == "," { i += 1; continue }
            guard s[i] == "<" else {
                // Not a link-value: skip to the next top-level comma.
                while i < s.count, s[i] != "," { i += 1 }
                continue
            }
            i += 1
            var target = String.UnicodeScalarView()
            while i < s.count, s[i] != ">" { target.append(s[i]); i += 1 }
            i += 1
            var rels: [String] = []
            // Parameters: ; name = value (token or quoted-string)
            while true {
                skipSpace()
                guard i < s.count, s[i] == ";" else { break }
                i += 1
                skipSpace()
                var name = String.UnicodeScalarView()
                while i < s.count, s[i] != "=", s[i] != ";", s[i] != ",", s[i] != " " { name.append(s[i]); i += 1 }
                skipSpace()
                var value = String.UnicodeScalarView()
                if i < s.count, s[i] == "=" {
                    i += 1
                    skipSpace()
                    if i < s.count, s[i] == "\"" {
                        i += 1
                        while i < s.count, s[i] != "\"" {
                            if s[i] == "\\", i + 1 < s.count { i += 1 }
                            value.append(s[i]); i += 1
                        }
                        i += 1
                    } else {
                        while i < s.count, s[i] != ";", s[i] != ",", s[i] != " " { value.append(s[i]); i += 1 }
                    }
                }
                if String(name).lowercased() == "rel" {
                    rels = String(value).lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                }
            }
            out.append((String(target).trimmingCharacters(in: .whitespaces), rels))
            skipSpace()
            if i < s.count, s[i] == "," { i += 1 }
        }
        return out
    }
}
