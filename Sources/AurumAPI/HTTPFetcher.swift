import Aurum
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A response with a 2xx status.
struct HTTPReply {
    var status: Int
    /// The URL that answered (after redirects), for resolving relative links.
    var url: URL
    var response: HTTPURLResponse
    var body: Data

    func header(_ name: String) -> String? { response.value(forHTTPHeaderField: name) }
}

/// Blocking GETs for one source: a deadline per request, retries with exponential backoff and jitter
/// for connection errors, 408, 429 and 5xx (except 501) that honour `Retry-After`, and a request budget.
///
/// Blocking is deliberate: `RowReader.next()` is synchronous and the pipeline calls it from its own
/// thread, not from the cooperative pool. The session runs its callbacks on its own delegate queue.
/// Every message names the URL with credentials removed (see `display`), never a secret.
final class HTTPFetcher {
    let settings: APISettings
    private let session: URLSession
    /// Requests sent so far, retries included.
    private(set) var requestsMade = 0
    /// Retries made so far (all requests of the source).
    private(set) var retriesMade = 0
    /// Waits between attempts (tests may record them instead).
    var sleep: (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }

    init(_ settings: APISettings) {
        self.settings = settings
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = settings.timeout
        config.timeoutIntervalForResource = settings.timeout
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        config.urlCache = nil
        let names = settings.auth.compactMap { part -> String? in if case .header(let n, _) = part { n } else { nil } }
        session = URLSession(configuration: config, delegate: RedirectGuard(origin: settings.url, credentialHeaders: names), delegateQueue: nil)
    }

    func close() { session.invalidateAndCancel() }

    /// The URL as messages show it: no user info, no credential values, `api_key=`-like parameters masked.
    func display(_ url: URL) -> String {
        var text = url.absoluteString
        if var c = URLComponents(url: url, resolvingAgainstBaseURL: false), c.user != nil || c.password != nil {
            c.user = nil
            c.password = nil
            text = c.string ?? text
        }
        for case .query(let name, _) in settings.auth {
            text = APIURL.masking(name, in: text)
        }
        return Secrets.scrub(Secrets.redact(text), settings.secrets)
    }

    /// GETs `url`; `context` ("page 3 of source 'shop'") starts every message.
    func get(_ url: URL, context: String) throws -> HTTPReply {
        let request = makeRequest(url)
        var attempt = 0
        while true {
            guard requestsMade < settings.maxRequests else {
                throw AurumError(.source, "\(context): the request budget is used up (\(settings.maxRequests) requests made, "
                                 + "retries included)", at: display(url), hint: "raise options.max_requests if the API really has more pages")
            }
            requestsMade += 1
            let delay: Double
            switch perform(request) {
            case .reply(let r, let body):
                let status = r.statusCode
                if (200 ..< 300).contains(status) {
                    return HTTPReply(status: status, url: r.url ?? url, response: r, body: body)
                }
                let what = "HTTP \(status) \(HTTPFetcher.reason(status))"
                guard HTTPFetcher.isRetryable(status) else {
                    throw AurumError(.source, "\(context): \(what)\(snippet(body, r))", at: display(url),
                                     hint: HTTPFetcher.hint(status))
                }
                guard attempt < settings.retry.maxRetries else {
                    throw AurumError(.source, "\(context): \(what) after \(attempt + 1) attempt\(attempt == 0 ? "" : "s")\(snippet(body, r))",
                                     at: display(url), hint: "raise options.retries if the API recovers slowly")
                }
                if let wait = HTTPFetcher.retryAfter(r.value(forHTTPHeaderField: "Retry-After"), now: Date()) {
                    guard wait <= settings.retry.maxWait else {
                        throw AurumError(.source, "\(context): \(what); the server asks to wait \(HTTPFetcher.format(wait)) s (Retry-After), "
                                         + "longer than options.retries.max_wait (\(HTTPFetcher.format(settings.retry.maxWait)) s)",
                                         at: display(url))
                    }
                    delay = wait
                } else {
                    delay = backoff(attempt)
                }
            case .failed(let problem, let retryable):
                guard retryable else { throw AurumError(.source, "\(context): \(problem)", at: display(url)) }
                guard attempt < settings.retry.maxRetries else {
                    throw AurumError(.source, "\(context): \(problem); gave up after \(attempt + 1) attempt\(attempt == 0 ? "" : "s")",
                                     at: display(url))
                }
                delay = backoff(attempt)
            }
            attempt += 1
            retriesMade += 1
            if delay > 0 { sleep(delay) }
        }
    }

    private func makeRequest(_ url: URL) -> URLRequest {
        // Credentials go only to the origin of the configured URL, never to a host a `next` link names.
        let sameOrigin = RedirectGuard.sameOrigin(url, settings.url)
        var target = url
        if sameOrigin {
            for case .query(let name, let value) in settings.auth { target = APIURL.setting(name, value, in: target) }
        }
        var r = URLRequest(url: target, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: settings.timeout)
        r.httpMethod = "GET"
        r.setValue("application/json", forHTTPHeaderField: "Accept")
        r.setValue("aurum/0.1", forHTTPHeaderField: "User-Agent")
        for (name, value) in settings.headers { r.setValue(value, forHTTPHeaderField: name) }
        if sameOrigin {
            for case .header(let name, let value) in settings.auth { r.setValue(value, forHTTPHeaderField: name) }
        }
        return r
    }

    private enum Outcome {
        case reply(HTTPURLResponse, Data)
        case failed(String, retryable: Bool)
    }

    /// Written by the session's delegate queue before `done.signal()`, read only after `done.wait()`
    /// returned success: the semaphore orders the two, hence `@unchecked Sendable`.
    private final class Pending: @unchecked Sendable {
        var data: Data?
        var response: URLResponse?
        var error: Error?
        let done = DispatchSemaphore(value: 0)
    }

    private func perform(_ request: URLRequest) -> Outcome {
        let pending = Pending()
        let task = session.dataTask(with: request) { data, response, error in
            pending.data = data
            pending.response = response
            pending.error = error
            pending.done.signal()
        }
        task.resume()
        // The session's own timeouts count idle time; this deadline bounds the whole request, so a
        // server that trickles bytes forever cannot hang the run.
        let timedOut = "no complete response within \(HTTPFetcher.format(settings.timeout)) s (options.timeout)"
        if pending.done.wait(timeout: .now() + settings.timeout + 1) == .timedOut {
            task.cancel()
            _ = pending.done.wait(timeout: .now() + 5)
            return .failed(timedOut, retryable: true)
        }
        if let e = pending.error {
            let code = (e as? URLError)?.code
            switch code {
            case .timedOut?: return .failed(timedOut, retryable: true)
            case .badURL?, .unsupportedURL?:
                return .failed("the URL cannot be requested (\(scrub(e.localizedDescription)))", retryable: false)
            case .serverCertificateUntrusted?, .serverCertificateHasBadDate?, .serverCertificateNotYetValid?,
                 .serverCertificateHasUnknownRoot?, .clientCertificateRejected?, .clientCertificateRequired?, .secureConnectionFailed?:
                return .failed("TLS failed: \(scrub(e.localizedDescription))", retryable: false)
            case .cannotConnectToHost?: return .failed("cannot connect to the server (connection refused)", retryable: true)
            case .cannotFindHost?, .dnsLookupFailed?: return .failed("cannot resolve the host name", retryable: true)
            case .networkConnectionLost?: return .failed("the connection was lost before the response was complete", retryable: true)
            case .badServerResponse?, .zeroByteResource?:
                return .failed("the server closed the connection without a valid HTTP response", retryable: true)
            default: return .failed("request failed: \(scrub(e.localizedDescription))", retryable: true)
            }
        }
        guard let r = pending.response as? HTTPURLResponse else {
            return .failed("the server closed the connection without a valid HTTP response", retryable: true)
        }
        return .reply(r, pending.data ?? Data())
    }

    private func scrub(_ s: String) -> String { Secrets.scrub(Secrets.redact(s), settings.secrets) }

    /// Exponential backoff with jitter: between half and all of `initial × 2^attempt`, capped.
    private func backoff(_ attempt: Int) -> Double {
        let full = min(settings.retry.maxDelay, settings.retry.initialDelay * pow(2, Double(min(attempt, 30))))
        return full / 2 + Double.random(in: 0 ... max(full / 2, 0))
    }

    /// Up to 200 characters of an error body (an HTML page by its title), scrubbed.
    private func snippet(_ body: Data, _ r: HTTPURLResponse) -> String {
        guard !body.isEmpty else { return "" }
        if let title = APIResponse.htmlTitle(body) { return ": an HTML page" + (title.isEmpty ? "" : " titled '\(scrub(title))'") }
        let text = String(decoding: body.prefix(400), as: UTF8.self)
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        guard !text.isEmpty else { return "" }
        let short = text.count > 200 ? String(text.prefix(200)) + "…" : text
        return ": \(scrub(short))"
    }

    static func isRetryable(_ status: Int) -> Bool {
        status == 408 || status == 429 || ((500 ..< 600).contains(status) && status != 501 && status != 505)
    }

    static func hint(_ status: Int) -> String? {
        switch status {
        case 401: "check the source's credentials"
        case 403: "the credentials are not allowed to read this"
        case 404: "check the URL"
        default: nil
        }
    }

    /// `Retry-After` as seconds from now: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
    static func retryAfter(_ value: String?, now: Date) -> Double? {
        guard let v = value?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        if let s = Double(v), s.isFinite, s >= 0 { return s }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(secondsFromGMT: 0)
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let d = f.date(from: v) else { return nil }
        return max(0, d.timeIntervalSince(now))
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() && seconds < 1e9 ? String(Int(seconds)) : String(format: "%g", seconds)
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 408: "Request Timeout"
        case 410: "Gone"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: HTTPURLResponse.localizedString(forStatusCode: status).capitalized
        }
    }
}

/// Removes the credential headers from a redirect to another origin (scheme, host, port), as a
/// `next` link to another host gets none. Immutable, hence `Sendable`.
final class RedirectGuard: NSObject, URLSessionTaskDelegate, Sendable {
    let origin: URL
    let credentialHeaders: [String]

    init(origin: URL, credentialHeaders: [String]) {
        self.origin = origin
        self.credentialHeaders = credentialHeaders
    }

    static func sameOrigin(_ a: URL, _ b: URL) -> Bool {
        a.scheme?.lowercased() == b.scheme?.lowercased() && a.host?.lowercased() == b.host?.lowercased() && a.port == b.port
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        guard let url = request.url, !RedirectGuard.sameOrigin(url, origin) else { return completionHandler(request) }
        var r = request
        for name in credentialHeaders { r.setValue(nil, forHTTPHeaderField: name) }
        completionHandler(r)
    }
}

/// URL helpers: query parameters set or masked without disturbing the rest of the URL.
enum APIURL {
    /// Characters a query parameter value may hold unencoded (`+`, `&`, `=`, `#` and `/`… are encoded).
    static let valueCharacters = CharacterSet(charactersIn: "-._~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    /// `url` with the query parameter `name` set to `value` (replacing every occurrence, or appended).
    static func setting(_ name: String, _ value: String, in url: URL) -> URL {
        guard var c = URLComponents(url: url, resolvingAgainstBaseURL: true) else { return url }
        let encodedName = name.addingPercentEncoding(withAllowedCharacters: valueCharacters) ?? name
        let encodedValue = value.addingPercentEncoding(withAllowedCharacters: valueCharacters) ?? value
        var parts = (c.percentEncodedQuery ?? "").split(separator: "&", omittingEmptySubsequences: true).map(String.init)
        parts.removeAll { part in
            let key = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? part
            return (key.removingPercentEncoding ?? key) == name
        }
        parts.append("\(encodedName)=\(encodedValue)")
        c.percentEncodedQuery = parts.joined(separator: "&")
        return c.url ?? url
    }

    /// The value of every `name=` query parameter in `text` replaced with `***`.
    static func masking(_ name: String, in text: String) -> String {
        guard let q = text.firstIndex(of: "?") else { return text }
        let end = text.firstIndex(of: "#") ?? text.endIndex
        guard q < end else { return text }
        let parts = text[text.index(after: q) ..< end].split(separator: "&", omittingEmptySubsequences: false).map { part -> String in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(kv[0])
            return (key.removingPercentEncoding ?? key) == name && kv.count == 2 ? key + "=***" : String(part)
        }
        return String(text[...q]) + parts.joined(separator: "&") + String(text[end...])
    }
}
