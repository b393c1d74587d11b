import Aurum
import Foundation

/// How the reader walks from one page to the next.
enum Pagination: Equatable {
    /// `Link: <…>; rel="next"`, else a `next` URL or a `next_cursor` token in the body (sent back as
    /// `param`). The only mode of the JSON interface, and the default of a catalog.
    case auto(param: String)
    /// One request.
    case none
    /// Only the `Link` header.
    case link
    /// A URL in the body at `path`.
    case next(path: [String])
    /// `param=start, start+1, …` (and `sizeParam=size`); stops at an empty page, or a page shorter than `size`.
    case page(param: String, start: Int, sizeParam: String?, size: Int?)
    /// `param=start, +n, …` with `limitParam=limit`; stops at a page shorter than `limit`.
    case offset(param: String, limitParam: String, limit: Int, start: Int)
    /// The token at `path` (default: `next_cursor`, looked up as in `auto`) sent back as `param`.
    case cursor(param: String, path: [String]?)
}

/// Credentials as the request carries them. Never printed: the values are secrets.
enum AuthPart {
    case header(name: String, value: String)
    case query(name: String, value: String)
}

struct RetryPolicy: Equatable {
    /// Retries after the first attempt (so `maxRetries + 1` attempts in all).
    var maxRetries = 3
    /// Seconds before the first retry; doubled for each further one, up to `maxDelay`, with jitter.
    var initialDelay = 0.5
    var maxDelay = 30.0
    /// The longest `Retry-After` the reader will wait; a longer one fails the source.
    var maxWait = 300.0
}

/// An `api` source's settings, checked: built from `connection`, `records`/`query`, `auth` and `options`.
struct APISettings {
    var url: URL
    var sourceName: String
    /// Path to the records array; nil: the top-level array, or the first of `data`, `results`, `items`, `records`.
    var records: [String]?
    var flatten: Bool
    var pagination: Pagination
    var auth: [AuthPart]
    var headers: [(String, String)]
    /// Seconds one request may take, from sending it to the last byte of the response.
    var timeout: Double
    var retry: RetryPolicy
    /// Requests (retries included) the source may make in one run.
    var maxRequests: Int
    /// Values to scrub from every message (credentials, secret headers).
    var secrets: [String]

    static let defaultTimeout = 60.0
    static let defaultMaxRequests = 10_000
    static let optionKeys = ["records", "pagination", "auth", "headers", "timeout", "retries", "max_requests"]

    /// The settings, or the problems as (config path, message) pairs.
    static func parse(_ spec: SourceSpec) -> (APISettings?, [(String, String)]) {
        var p = OptionProblems()
        let connKey = spec.location.hasPrefix("data_sources") ? "connection_string" : "connection"
        let secrets = spec.credentials?.secrets ?? []
        var url: URL?
        let text = (spec.connection ?? "").trimmingCharacters(in: .whitespaces)
        if text.isEmpty {
            p.add("\(spec.location).\(connKey)", "an api source needs the URL of its first page")
        } else if let u = URL(string: text), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https",
                  !(u.host ?? "").isEmpty {
            url = u
        } else {
            p.add("\(spec.location).\(connKey)",
                  "'\(Secrets.scrub(Secrets.redact(text), secrets))' is not an http:// or https:// URL")
        }

        let o = "\(spec.location).options"
        for key in spec.options.keys.sorted() where !optionKeys.contains(key) {
            p.add("\(o).\(key)", "unknown option '\(key)'" + didYouMean(key, optionKeys))
        }

        var records: [String]? = nil
        switch spec.options["records"] {
        case .string(let s)?: records = JSONReadOptions.parsePath(s)
        case nil:
            if !spec.recordPath.isEmpty { records = spec.recordPath }
            else if let q = spec.query?.trimmingCharacters(in: .whitespaces), !q.isEmpty { records = JSONReadOptions.parsePath(q) }
        default: p.add("\(o).records", "expected a path to the records array, such as data.items")
        }

        let pagination = parsePagination(spec.options["pagination"], at: "\(o).pagination", &p)
        let auth = parseAuth(spec.options["auth"], spec.credentials, at: "\(o).auth", source: spec.location, &p)
        var headers: [(String, String)] = []
        var headerSecrets: [String] = []
        if let h = spec.options["headers"] {
            if case .object(let pairs) = h {
                for (name, v) in pairs {
                    let at = "\(o).headers.\(name)"
                    guard !name.isEmpty, name.unicodeScalars.allSatisfy({ tokenCharacters.contains($0) }) else {
                        p.add(at, "'\(name)' is not a valid header name"); continue
                    }
                    guard let raw = scalarText(v) else { p.add(at, "a header value must be text"); continue }
                    let (value, missing) = Secrets.expand(raw)
                    for m in missing { p.add(at, "environment variable '\(m)' is not set") }
                    if value.contains(where: { $0 == "\r" || $0 == "\n" }) { p.add(at, "a header value cannot span lines"); continue }
                    // A value taken from the environment, or sent under a credential-like name, is a secret.
                    let lower = name.lowercased()
                    if raw != value || ["authorization", "key", "token", "secret", "cookie"].contains(where: lower.contains) {
                        headerSecrets.append(value)
                    }
                    headers.append((name, value))
                }
            } else {
                p.add("\(o).headers", "expected a mapping of header names to values")
            }
        }
        let timeout = seconds(spec.options["timeout"], at: "\(o).timeout", default: defaultTimeout, &p)
        let retry = parseRetries(spec.options["retries"], at: "\(o).retries", &p)
        var maxRequests = defaultMaxRequests
        if let m = spec.options["max_requests"] {
            if let n = wholeNumber(m), n >= 1 { maxRequests = n } else { p.add("\(o).max_requests", "expected a whole number of requests, at least 1") }
        }
        guard let url, p.list.isEmpty else { return (nil, p.list) }
        return (APISettings(url: url, sourceName: spec.name, records: records, flatten: spec.flatten, pagination: pagination,
                            auth: auth, headers: headers, timeout: timeout, retry: retry, maxRequests: maxRequests,
                            secrets: secrets + headerSecrets), [])
    }

    static func parsePagination(_ node: JSON?, at path: String, _ p: inout OptionProblems) -> Pagination {
        let types = ["auto", "none", "link", "next", "page", "offset", "cursor"]
        var pairs: [(String, JSON)] = []
        let type: String
        switch node {
        case nil: return .auto(param: "cursor")
        case .string(let s)?: type = s
        case .object(let m)?:
            pairs = m
            guard case .string(let s)? = node?["type"] else {
                p.add("\(path).type", "missing pagination type (one of: \(types.joined(separator: ", ")))")
                return .none
            }
            type = s
        default:
            p.add(path, "expected a pagination type or {type: …, …}")
            return .none
        }
        let allowed: [String]
        switch type {
        case "auto": allowed = ["param"]
        case "none", "link": allowed = []
        case "next": allowed = ["path"]
        case "page": allowed = ["param", "start", "size_param", "size"]
        case "offset": allowed = ["param", "limit_param", "limit", "start"]
        case "cursor": allowed = ["param", "path"]
        default:
            p.add(pairs.isEmpty ? path : "\(path).type",
                  "unknown pagination type '\(type)'" + didYouMean(type, types, orList: true))
            return .none
        }
        for (k, _) in pairs where k != "type" && !allowed.contains(k) {
            p.add("\(path).\(k)", "'\(k)' does not apply to \(type) pagination"
                  + (allowed.isEmpty ? "" : " (it takes: \(allowed.joined(separator: ", ")))"))
        }
        func text(_ key: String, _ def: String) -> String {
            guard let v = node?[key] else { return def }
            if case .string(let s) = v, !s.isEmpty { return s }
            p.add("\(path).\(key)", "expected a non-empty name")
            return def
        }
        func number(_ key: String, _ def: Int?, min: Int) -> Int? {
            guard let v = node?[key] else { return def }
            if let n = wholeNumber(v), n >= min { return n }
            p.add("\(path).\(key)", "expected a whole number, at least \(min)")
            return def
        }
        func bodyPath(_ key: String) -> [String]? {
            guard let v = node?[key] else { return nil }
            if case .string(let s) = v, !JSONReadOptions.parsePath(s).isEmpty { return JSONReadOptions.parsePath(s) }
            p.add("\(path).\(key)", "expected a path into the response, such as meta.next")
            return nil
        }
        switch type {
        case "auto": return .auto(param: text("param", "cursor"))
        case "none": return .none
        case "link": return .link
        case "next": return .next(path: bodyPath("path") ?? ["next"])
        case "page":
            let sizeParam = node?["size_param"] != nil ? text("size_param", "") : nil
            let size = number("size", nil, min: 1)
            if sizeParam != nil && size == nil { p.add("\(path).size", "size_param needs size (the page size to ask for)") }
            return .page(param: text("param", "page"), start: number("start", 1, min: 0) ?? 1, sizeParam: sizeParam, size: size)
        case "offset":
            return .offset(param: text("param", "offset"), limitParam: text("limit_param", "limit"),
                           limit: number("limit", 100, min: 1) ?? 100, start: number("start", 0, min: 0) ?? 0)
        default:
            return .cursor(param: text("param", "cursor"), path: bodyPath("path"))
        }
    }

    /// Where the credentials go. Without `options.auth`: `api_key` as an `X-API-Key` header, `token` as a
    /// bearer token, `username`/`password` as basic auth (what the JSON interface's `authentication` means).
    static func parseAuth(_ node: JSON?, _ c: Credentials?, at path: String, source: String, _ p: inout OptionProblems) -> [AuthPart] {
        let authKey = source.hasPrefix("data_sources") ? "authentication" : "auth"
        func basic(_ user: String, _ password: String?) -> AuthPart {
            .header(name: "Authorization", value: "Basic " + Data("\(user):\(password ?? "")".utf8).base64EncodedString())
        }
        guard let node else {
            var parts: [AuthPart] = []
            if let k = c?.apiKey, !k.isEmpty { parts.append(.header(name: "X-API-Key", value: k)) }
            if let t = c?.token, !t.isEmpty { parts.append(.header(name: "Authorization", value: "Bearer " + t)) }
            else if let u = c?.username, !u.isEmpty { parts.append(basic(u, c?.password)) }
            return parts
        }
        let types = ["api_key", "bearer", "basic", "none"]
        let type: String
        var pairs: [(String, JSON)] = []
        switch node {
        case .string(let s): type = s
        case .object(let m):
            pairs = m
            guard case .string(let s)? = node["type"] else { p.add("\(path).type", "missing auth type (one of: \(types.joined(separator: ", ")))"); return [] }
            type = s
        default:
            p.add(path, "expected an auth type or {type: …, …}"); return []
        }
        let typePath = pairs.isEmpty ? path : "\(path).type"
        let allowed = type == "api_key" ? ["in", "name"] : []
        for (k, _) in pairs where k != "type" && !allowed.contains(k) {
            p.add("\(path).\(k)", "'\(k)' does not apply to \(type) auth" + (allowed.isEmpty ? "" : " (it takes: in, name)"))
        }
        switch type {
        case "none": return []
        case "bearer":
            guard let t = [c?.token, c?.apiKey].compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
                p.add(typePath, "bearer auth needs a token: set \(authKey).token (or \(authKey).api_key)"); return []
            }
            return [.header(name: "Authorization", value: "Bearer " + t)]
        case "basic":
            guard let u = c?.username, !u.isEmpty else { p.add(typePath, "basic auth needs \(authKey).username (and password)"); return [] }
            return [basic(u, c?.password)]
        case "api_key":
            guard let k = c?.apiKey, !k.isEmpty else { p.add(typePath, "api_key auth needs \(authKey).api_key"); return [] }
            var inQuery = false
            if let w = node["in"] {
                switch w {
                case .string("header"): inQuery = false
                case .string("query"): inQuery = true
                default: p.add("\(path).in", "expected header or query")
                }
            }
            var name = inQuery ? "api_key" : "X-API-Key"
            if let n = node["name"] {
                if case .string(let s) = n, !s.isEmpty, s.unicodeScalars.allSatisfy({ tokenCharacters.contains($0) }) { name = s }
                else { p.add("\(path).name", "expected a header or query parameter name") }
            }
            return [inQuery ? .query(name: name, value: k) : .header(name: name, value: k)]
        default:
            p.add(typePath, "unknown auth type '\(type)'" + didYouMean(type, types, orList: true))
            return []
        }
    }

    static func parseRetries(_ node: JSON?, at path: String, _ p: inout OptionProblems) -> RetryPolicy {
        var r = RetryPolicy()
        guard let node else { return r }
        if let n = wholeNumber(node) {
            if n >= 0 { r.maxRetries = n } else { p.add(path, "expected a whole number of retries, at least 0") }
            return r
        }
        guard case .object(let pairs) = node else {
            p.add(path, "expected a number of retries or {max, initial_delay, max_delay, max_wait}")
            return r
        }
        let keys = ["max", "initial_delay", "max_delay", "max_wait"]
        for (k, _) in pairs where !keys.contains(k) { p.add("\(path).\(k)", "unknown retry setting '\(k)'" + didYouMean(k, keys)) }
        if let m = node["max"] {
            if let n = wholeNumber(m), n >= 0 { r.maxRetries = n } else { p.add("\(path).max", "expected a whole number of retries, at least 0") }
        }
        r.initialDelay = seconds(node["initial_delay"], at: "\(path).initial_delay", default: r.initialDelay, allowZero: true, &p)
        r.maxDelay = seconds(node["max_delay"], at: "\(path).max_delay", default: r.maxDelay, allowZero: true, &p)
        r.maxWait = seconds(node["max_wait"], at: "\(path).max_wait", default: r.maxWait, allowZero: true, &p)
        return r
    }

    static func seconds(_ node: JSON?, at path: String, default def: Double, allowZero: Bool = false, _ p: inout OptionProblems) -> Double {
        guard let node else { return def }
        let d: Double?
        switch node {
        case .int(let i): d = Double(i)
        case .double(let x): d = x
        default: d = nil
        }
        if let d, d.isFinite, allowZero ? d >= 0 : d > 0 { return d }
        p.add(path, "expected a \(allowZero ? "" : "positive ")number of seconds")
        return def
    }

    static func wholeNumber(_ j: JSON) -> Int? {
        switch j {
        case .int(let i): return Int(exactly: i)
        case .double(let d) where d == d.rounded() && abs(d) < 1e15: return Int(d)
        default: return nil
        }
    }

    static func scalarText(_ j: JSON) -> String? {
        switch j {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    /// RFC 9110 `token` characters (header names, parameter names).
    static let tokenCharacters = CharacterSet(charactersIn: "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    static func didYouMean(_ word: String, _ candidates: [String], orList: Bool = false) -> String {
        let best = candidates.map { ($0, TextFunctions.levenshtein(word.lowercased(), $0)) }
            .filter { $0.1 <= max(2, $0.0.count / 3) }.min { $0.1 < $1.1 }
        if let best { return " (did you mean '\(best.0)'?)" }
        return orList ? " (one of: \(candidates.joined(separator: ", ")))" : " (known: \(candidates.joined(separator: ", ")))"
    }
}

struct OptionProblems {
    var list: [(String, String)] = []
    mutating func add(_ path: String, _ message: String) { list.append((path, message)) }
}
