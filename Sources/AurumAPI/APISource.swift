import Aurum
import Foundation

/// The `api` source: JSON pages over HTTP(S), streamed one page at a time.
///
/// Settings: `connection` (the first page's URL), the records path (`options.records`, the source's
/// `records:` or `query`; by default the top-level array, or the first of `data`, `results`, `items`,
/// `records` that holds one), credentials in `auth:` (`authentication` in the JSON interface), and
/// `options`: `pagination`, `auth`, `headers`, `timeout`, `retries`, `max_requests` (see `APISettings`
/// and the README). Records are flattened as the JSON source flattens them (the core's
/// `JSONRecordReader` reads each page), so an API and a JSON export of the same data stage alike.
struct APISourceConnector: SourceConnector {
    var types: [SourceType] { [.api] }

    func validate(_ spec: SourceSpec) -> [(String, String)] { APISettings.parse(spec).1 }

    func open(_ spec: SourceSpec) throws -> RowReader {
        let (settings, problems) = APISettings.parse(spec)
        guard let settings else {
            throw AurumErrors(problems.map { AurumError(.invalidCatalog, "\($0.0): \($0.1)") })
        }
        return APIRowReader(settings)
    }
}

/// Reads pages on demand: the next page is requested only when the current one's records are used up,
/// so memory holds one page, whatever the API's size.
final class APIRowReader: RowReader {
    private(set) var columns: [String] = []
    private(set) var itemsRead = 0
    /// Pages received so far.
    private(set) var pagesRead = 0
    let fetcher: HTTPFetcher
    private let settings: APISettings
    private var known: Set<String> = []
    /// The page to request when the current one is used up; nil at the end.
    private var pending: URL?
    private var page: JSONRecordReader?
    private var pageLabel = ""
    /// Every URL requested, with the page it was, to catch a `next` link that points back.
    private var seenURLs: [String: Int] = [:]
    private var seenCursors: [String: Int] = [:]
    private var previousPage: (hash: Int, records: Int)?
    /// Page mode: the page number sent last. Offset mode: the offset sent last.
    private var counter: Int

    init(_ settings: APISettings) {
        self.settings = settings
        fetcher = HTTPFetcher(settings)
        switch settings.pagination {
        case .page(let param, let start, let sizeParam, let size):
            counter = start
            pending = APIRowReader.pageURL(settings.url, param, start, sizeParam, size)
        case .offset(let param, let limitParam, let limit, let start):
            counter = start
            pending = APIURL.setting(limitParam, String(limit), in: APIURL.setting(param, String(start), in: settings.url))
        default:
            counter = 0
            pending = settings.url
        }
    }

    func close() {
        page = nil
        pending = nil
        fetcher.close()
    }

    func next() throws -> RowItem? {
        while true {
            if let reader = page {
                let item: JSONReadItem?
                do {
                    item = try reader.next()
                } catch {
                    throw AurumError(.source, "\(pageLabel): \(error)")
                }
                if let item {
                    itemsRead += 1
                    switch item {
                    case .record(let r):
                        for (name, _) in r.fields where known.insert(name).inserted { columns.append(name) }
                        return .fields(r.fields, line: itemsRead)
                    case .problem(_, let reason, let raw):
                        return .problem(line: itemsRead, reason: "\(reason) (\(pageLabel))", raw: raw)
                    }
                }
                page = nil
            }
            guard let url = pending else { return nil }
            pending = nil
            try load(url)
        }
    }

    /// Requests one page, checks it is JSON with records where expected, and works out the next page.
    private func load(_ url: URL) throws {
        pagesRead += 1
        let n = pagesRead
        pageLabel = "page \(n) of source '\(settings.sourceName)'"
        seenURLs[url.absoluteString] = n
        let reply = try fetcher.get(url, context: pageLabel)
        let at = fetcher.display(url)
        let body = reply.body
        let contentType = reply.header("Content-Type").map { " (Content-Type: \($0))" } ?? ""

        if body.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            // No content (204, or an empty 200): no records; only a Link header can name a next page.
            pending = try nextPage(after: url, reply: reply, object: nil, records: 0)
            return
        }
        if let title = APIResponse.htmlTitle(body) {
            throw AurumError(.source, "\(pageLabel): the response is HTML, not JSON\(contentType)"
                             + (title.isEmpty ? "" : "; the page is titled '\(Secrets.scrub(title, settings.secrets))'"),
                             at: at, hint: "check the URL and the credentials: an HTML page is often a login or error page")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])
        } catch {
            throw AurumError(.source, "\(pageLabel): the response is not valid JSON\(contentType): \(syntaxError(body, error))", at: at)
        }

        let path: [String]
        if let configured = settings.records {
            path = configured
        } else if let found = APIResponse.detectRecords(in: object) {
            path = found
        } else {
            let found = (object as? [String: Any]).map { "an object with keys " + $0.keys.sorted().prefix(10).joined(separator: ", ") }
                ?? APIResponse.kind(object)
            throw AurumError(.source, "\(pageLabel): no records in the response: expected an array, or an array under "
                             + "\(APIResponse.recordKeys.joined(separator: ", ")); found \(found)", at: at,
                             hint: "name the records array: records: PATH in a catalog, query in an integration config")
        }
        let shown = path.joined(separator: ".")
        let array = APIResponse.value(at: path, in: object)
        let records: Int
        switch array {
        case let a as [Any]:
            records = a.count
        case is NSNull:
            records = 0
        case nil:
            let keys = (object as? [String: Any]).map { " (it has: " + $0.keys.sorted().prefix(10).joined(separator: ", ") + ")" } ?? ""
            throw AurumError(.source, "\(pageLabel): the response has no '\(shown)'\(keys)", at: at,
                             hint: "check the records path")
        default:
            throw AurumError(.source, "\(pageLabel): '\(shown.isEmpty ? "the response" : shown)' is \(APIResponse.kind(array)), "
                             + "not an array of records", at: at)
        }

        // The same body twice in a row: the API ignores the pagination parameter (or loops).
        var hasher = Hasher()
        hasher.combine(body)
        let hash = hasher.finalize()
        if records > 0, let prev = previousPage, prev.hash == hash, prev.records == records {
            throw AurumError(.source, "\(pageLabel): pagination does not advance: the response is the same as page \(n - 1)'s",
                             at: at, hint: "does the API read the parameters that options.pagination sends?")
        }
        previousPage = (hash, records)

        pending = try nextPage(after: url, reply: reply, object: object, records: records)
        if records > 0 {
            var options = JSONReadOptions()
            options.recordPath = path
            options.flatten = settings.flatten
            do {
                page = try JSONRecordReader(bytes: [UInt8](body), name: at, options: options)
            } catch {
                throw AurumError(.source, "\(pageLabel): \(error)")
            }
        }
    }

    /// The JSON reader's positioned message for a body JSONSerialization refused.
    private func syntaxError(_ body: Data, _ serializationError: Error) -> String {
        // The JSON reader checks every byte on its way: through all records of an array, or through
        // a whole object while it looks for a key no response has.
        var options = JSONReadOptions()
        let first = body.first { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }
        if first != UInt8(ascii: "[") { options.recordPath = ["\u{0}aurum: no such key"] }
        do {
            let r = try JSONRecordReader(bytes: [UInt8](body), name: "response", options: options)
            while try r.next() != nil {}
        } catch let e as JSONReadError where e.line > 0 && !e.message.contains("aurum: no such key") {
            return "line \(e.line), column \(e.column): \(e.message)"
        } catch {}
        if let d = (serializationError as NSError).userInfo["NSDebugDescription"] as? String { return d }
        let start = String(decoding: body.prefix(60), as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return "it starts with '\(Secrets.scrub(start, settings.secrets))'"
    }

    /// The page after this one, or nil at the end; throws when the API points back to a page already read.
    private func nextPage(after url: URL, reply: HTTPReply, object: Any?, records: Int) throws -> URL? {
        let n = pagesRead
        let base = reply.url
        var next: URL?
        switch settings.pagination {
        case .none:
            return nil
        case .link:
            next = APIResponse.nextLink(reply.header("Link"), base: base)
        case .auto(let param):
            if let l = APIResponse.nextLink(reply.header("Link"), base: base) {
                next = l
            } else if let object, let v = APIResponse.find("next", in: object), let u = try bodyURL(v, "'next'", base: base) {
                next = u
            } else if let object, let c = try cursor(APIResponse.find("next_cursor", in: object), "'next_cursor'") {
                try checkCursor(c)
                next = APIURL.setting(param, c, in: settings.url)
            }
        case .next(let path):
            if let object { next = try bodyURL(APIResponse.value(at: path, in: object), "'\(path.joined(separator: "."))'", base: base) }
        case .page(let param, _, let sizeParam, let size):
            if records == 0 || records < (size ?? 1) { return nil }
            counter += 1
            next = APIRowReader.pageURL(settings.url, param, counter, sizeParam, size)
        case .offset(let param, let limitParam, let limit, _):
            if records < limit { return nil }
            counter += records
            next = APIURL.setting(limitParam, String(limit), in: APIURL.setting(param, String(counter), in: settings.url))
        case .cursor(let param, let path):
            guard let object else { return nil }
            let v = path.map { APIResponse.value(at: $0, in: object) } ?? APIResponse.find("next_cursor", in: object)
            guard let c = try cursor(v, "'\(path?.joined(separator: ".") ?? "next_cursor")'") else { return nil }
            try checkCursor(c)
            next = APIURL.setting(param, c, in: settings.url)
        }
        guard let next else { return nil }
        if let earlier = seenURLs[next.absoluteString] {
            throw AurumError(.source, "page \(n) of source '\(settings.sourceName)': pagination loops: the next page is "
                             + "\(fetcher.display(next)), already read as page \(earlier)", at: fetcher.display(url))
        }
        return next
    }

    private func checkCursor(_ c: String) throws {
        let n = pagesRead
        if let earlier = seenCursors[c] {
            let shown = c.count > 40 ? String(c.prefix(40)) + "…" : c
            throw AurumError(.source, "page \(n) of source '\(settings.sourceName)': pagination loops: the next cursor "
                             + "'\(Secrets.scrub(shown, settings.secrets))' was already returned by page \(earlier)",
                             at: fetcher.display(settings.url))
        }
        seenCursors[c] = n
    }

    /// A next-page URL from the body: a string (absolute, or a path relative to the page) or `{href: …}`.
    private func bodyURL(_ v: Any?, _ what: String, base: URL) throws -> URL? {
        let label = "page \(pagesRead) of source '\(settings.sourceName)'"
        var value = v
        if let d = value as? [String: Any] { value = d["href"] }
        switch value {
        case nil, is NSNull:
            return nil
        case let s as String:
            let t = s.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { return nil }
            if let u = URL(string: t), let scheme = u.scheme?.lowercased() {
                if scheme == "http" || scheme == "https" { return u }
            } else if t.hasPrefix("/") || t.hasPrefix("?"), let u = URL(string: t, relativeTo: base)?.absoluteURL {
                return u
            }
            let shown = t.count > 60 ? String(t.prefix(60)) + "…" : t
            throw AurumError(.source, "\(label): the response's \(what) '\(Secrets.scrub(shown, settings.secrets))' is not an http(s) URL or a path",
                             at: fetcher.display(base), hint: "set options.pagination to say how this API pages")
        case let b as NSNumber where String(cString: b.objCType) == "c":
            if b.boolValue {
                throw AurumError(.source, "\(label): the response's \(what) is true, not a URL", at: fetcher.display(base),
                                 hint: "set options.pagination to say how this API pages")
            }
            return nil
        default:
            throw AurumError(.source, "\(label): the response's \(what) is \(APIResponse.kind(value)), not a URL", at: fetcher.display(base),
                             hint: "for page numbers set options.pagination: {type: page}; for tokens {type: cursor, path: …}")
        }
    }

    /// A cursor token (a string or a number); nil when there is none (the last page).
    private func cursor(_ v: Any?, _ what: String) throws -> String? {
        switch v {
        case nil, is NSNull: return nil
        case let s as String: return s.isEmpty ? nil : s
        case let b as NSNumber where String(cString: b.objCType) == "c":
            if !b.boolValue { return nil }
        case let n as NSNumber: return n.stringValue
        default: break
        }
        throw AurumError(.source, "page \(pagesRead) of source '\(settings.sourceName)': the response's \(what) is "
                         + "\(APIResponse.kind(v)), not a cursor token", at: fetcher.display(settings.url))
    }

    static func pageURL(_ url: URL, _ param: String, _ number: Int, _ sizeParam: String?, _ size: Int?) -> URL {
        var u = APIURL.setting(param, String(number), in: url)
        if let sizeParam, let size { u = APIURL.setting(sizeParam, String(size), in: u) }
        return u
    }
}
