import Foundation
import Testing
@testable import Aurum
@testable import AurumAPI

/// Bad answers from the API: retried when they may pass, a clear message naming the URL when not.
@Suite struct FailureTests {
    let server: APITestServer
    init() throws { server = try APITestServer.shared() }
    var b: String { server.base }

    @Test func retriesAServerErrorADroppedConnectionARateLimitAndAnOutage() throws {
        let run = runID()
        let t0 = Date()
        let r = try readAPI(try apiSpec("connection: '\(b)/flaky?run=\(run)', options: {retries: {max: 4, initial_delay: 0.01}}"))
        #expect(r.records.compactMap { $0["id"]?.int } == [1, 2, 3])
        // 500, dropped connection, 429 with Retry-After: 1, 503, then 200.
        #expect(r.requests == 5)
        #expect(try server.requests(run).count == 5)
        #expect(Date().timeIntervalSince(t0) >= 1.0, "Retry-After: 1 was not honoured")
    }

    @Test func givesUpWhenTheRetriesAreUsedUp() throws {
        let run = runID()
        let e = readError(try apiSpec("connection: '\(b)/flaky?run=\(run)', options: {retries: {max: 2, initial_delay: 0.01}}"))
        #expect(e == "\(b)/flaky?run=\(run): page 1 of source 'api': HTTP 429 Too Many Requests after 3 attempts: "
                + #"{"error": "slow down"} (raise options.retries if the API recovers slowly)"#)
        #expect(try server.requests(run).count == 3)
    }

    @Test func retryAfterAsAnHTTPDate() throws {
        let run = runID()
        let t0 = Date()
        let r = try readAPI(try apiSpec("connection: '\(b)/ratelimit-date?run=\(run)', options: {retries: {initial_delay: 0}}"))
        #expect(r.records.count == 2)
        #expect(r.requests == 2)
        // The date is 2 s ahead with one-second precision: at least one second's wait.
        #expect(Date().timeIntervalSince(t0) >= 1.0)
    }

    @Test func aRetryAfterLongerThanMaxWaitFailsAtOnce() throws {
        let run = runID()
        let e = readError(try apiSpec("connection: '\(b)/ratelimit-long?run=\(run)', options: {retries: {max_wait: 60}}"))
        #expect(e == "\(b)/ratelimit-long?run=\(run): page 1 of source 'api': HTTP 429 Too Many Requests; the server asks to wait "
                + "86400 s (Retry-After), longer than options.retries.max_wait (60 s)")
        #expect(try server.requests(run).count == 1)
    }

    @Test func anOutageAfterEveryRetry() throws {
        let run = runID()
        let e = readError(try apiSpec("connection: '\(b)/always503?run=\(run)', options: {retries: {max: 1, initial_delay: 0.01}}"))
        #expect(e == "\(b)/always503?run=\(run): page 1 of source 'api': HTTP 503 Service Unavailable after 2 attempts: "
                + #"{"error": "down for maintenance"} (raise options.retries if the API recovers slowly)"#)
        #expect(try server.requests(run).count == 2)
    }

    @Test func aClientErrorIsNotRetried() throws {
        let run = runID()
        let e = readError(try apiSpec("connection: '\(b)/status?code=404&run=\(run)'"))
        #expect(e == "\(b)/status?code=404&run=\(run): page 1 of source 'api': HTTP 404 Not Found: "
                + #"{"error": "status 404 for key -"} (check the URL)"#)
        #expect(try server.requests(run).count == 1)
    }

    @Test func aDroppedConnection() throws {
        let run = runID()
        let e = readError(try apiSpec("connection: '\(b)/dropped?run=\(run)', options: {retries: {max: 1, initial_delay: 0.01}}"))
        #expect(e == "\(b)/dropped?run=\(run): page 1 of source 'api': the server closed the connection without a valid HTTP response; "
                + "gave up after 2 attempts")
        #expect(try server.requests(run).count == 2)
    }

    @Test func aSlowServerTimesOut() throws {
        let t0 = Date()
        let e = readError(try apiSpec("connection: '\(b)/slow?seconds=5', options: {retries: 0, timeout: 0.5}"))
        #expect(e == "\(b)/slow?seconds=5: page 1 of source 'api': no complete response within 0.5 s (options.timeout); gave up after 1 attempt")
        #expect(Date().timeIntervalSince(t0) < 4)
    }

    @Test func nothingListening() throws {
        let e = readError(try apiSpec("connection: 'http://127.0.0.1:9/customers', options: {retries: {max: 1, initial_delay: 0}}"))
        #expect(e == "http://127.0.0.1:9/customers: page 1 of source 'api': cannot connect to the server (connection refused); gave up after 2 attempts")
    }

    @Test func htmlInsteadOfJSON() throws {
        let e = readError(try apiSpec("connection: '\(b)/html'"))
        #expect(e == "\(b)/html: page 1 of source 'api': the response is HTML, not JSON (Content-Type: text/html; charset=utf-8); "
                + "the page is titled 'Sign in - Example' (check the URL and the credentials: an HTML page is often a login or error page)")
    }

    @Test func malformedJSONIsPlacedByLineAndColumn() throws {
        let e = readError(try apiSpec("connection: '\(b)/notjson'"))
        #expect(e == "\(b)/notjson: page 1 of source 'api': the response is not valid JSON (Content-Type: application/json): "
                + "line 3, column 13: unexpected ',', expected a value")
    }

    @Test func aResponseWithoutRecords() throws {
        #expect(readError(try apiSpec("connection: '\(b)/noarray'"))
                == "\(b)/noarray: page 1 of source 'api': no records in the response: expected an array, or an array under data, results, "
                + "items, records; found an object with keys count, status (name the records array: records: PATH in a catalog, query in an integration config)")
        #expect(readError(try apiSpec("connection: '\(b)/nested', records: data.people"))
                == "\(b)/nested: page 1 of source 'api': the response has no 'data.people' (it has: data) (check the records path)")
        #expect(readError(try apiSpec("connection: '\(b)/nested', records: data"))
                == "\(b)/nested: page 1 of source 'api': 'data' is an object, not an array of records")
    }

    @Test func aLinkThatPointsBackIsALoop() throws {
        let run = runID()
        let e = readError(try apiSpec("connection: '\(b)/loop?page=1&run=\(run)'"))
        #expect(e == "\(b)/loop?page=2&run=\(run): page 2 of source 'api': pagination loops: the next page is "
                + "\(b)/loop?page=1&run=\(run), already read as page 1")
        #expect(try server.requests(run).count == 2)
    }

    @Test func aCursorSeenBeforeIsALoop() throws {
        let e = readError(try apiSpec("connection: '\(b)/cursorloop'"))
        #expect(e == "\(b)/cursorloop: page 3 of source 'api': pagination loops: the next cursor 'a' was already returned by page 1")
    }

    @Test func anAPIThatIgnoresThePageParameter() throws {
        let e = readError(try apiSpec("connection: '\(b)/same', options: {pagination: page}"))
        #expect(e == "\(b)/same?page=2: page 2 of source 'api': pagination does not advance: the response is the same as page 1's "
                + "(does the API read the parameters that options.pagination sends?)")
    }

    @Test func aNextThatIsNoURL() throws {
        let e = readError(try apiSpec("connection: '\(b)/nexttoken'"))
        #expect(e == "\(b)/nexttoken: page 1 of source 'api': the response's 'next' 'eyJwYWdlIjoyfQ' is not an http(s) URL or a path "
                + "(set options.pagination to say how this API pages)")
    }

    @Test func aNextPageNumberNeedsPagePagination() throws {
        let e = readError(try apiSpec("connection: '\(b)/nextnumber'"))
        #expect(e == "\(b)/nextnumber: page 1 of source 'api': the response's 'next' is a number, not a URL "
                + "(for page numbers set options.pagination: {type: page}; for tokens {type: cursor, path: …})")
    }

    @Test func theRequestBudget() throws {
        let run = runID()
        let e = readError(try apiSpec("connection: '\(b)/page?run=\(run)', options: {pagination: {type: page, size: 10}, max_requests: 2}"))
        #expect(e == "\(b)/page?run=\(run)&page=3: page 3 of source 'api': the request budget is used up (2 requests made, retries included) "
                + "(raise options.max_requests if the API really has more pages)")
        #expect(try server.requests(run).count == 2)
    }

    @Test func retriesCountAgainstTheBudget() throws {
        let run = runID()
        let e = readError(try apiSpec("connection: '\(b)/always503?run=\(run)', options: {retries: {max: 5, initial_delay: 0}, max_requests: 3}"))
        #expect(e?.contains("page 1 of source 'api': the request budget is used up (3 requests made, retries included)") == true, "\(e ?? "")")
        #expect(try server.requests(run).count == 3)
    }
}
