import Foundation
import Testing
@testable import Aurum
@testable import AurumAPI

/// Every pagination style against the test API: exact records, exact requests.
@Suite struct PaginationTests {
    let server: APITestServer
    init() throws { server = try APITestServer.shared() }

    func ids(_ r: APIRead) -> [Int64] { r.records.compactMap { $0["id"]?.int } }

    @Test func pageNumbersWithPageSizeStopAtTheShortPage() throws {
        let run = runID()
        let r = try readAPI(try apiSpec("connection: '\(server.base)/page?run=\(run)', options: {pagination: {type: page, size_param: per_page, size: 10}}"))
        #expect(ids(r) == Array(1 ... 25))
        #expect(r.requests == 3)
        #expect(try server.requests(run).map(\.query) == ["run=\(run)&page=1&per_page=10", "run=\(run)&page=2&per_page=10",
                                                          "run=\(run)&page=3&per_page=10"])
    }

    @Test func pageNumbersWithoutSizeStopAtTheEmptyPage() throws {
        let run = runID()
        let r = try readAPI(try apiSpec("connection: '\(server.base)/page?run=\(run)', options: {pagination: {type: page, start: 1}}"))
        #expect(ids(r) == Array(1 ... 25))
        #expect(r.requests == 4)
        #expect(r.pages == 4)
    }

    @Test func offsetAndLimit() throws {
        let run = runID()
        let r = try readAPI(try apiSpec("connection: '\(server.base)/offset?run=\(run)', options: {pagination: {type: offset, limit: 10}}"))
        #expect(ids(r) == Array(1 ... 25))
        #expect(try server.requests(run).map(\.query) == ["run=\(run)&offset=0&limit=10", "run=\(run)&offset=10&limit=10",
                                                          "run=\(run)&offset=20&limit=10"])
    }

    @Test func cursorTokensAreSentBackEncoded() throws {
        let run = runID()
        let r = try readAPI(try apiSpec("connection: '\(server.base)/cursor?run=\(run)', records: items, options: {pagination: {type: cursor, path: meta.next_cursor}}"))
        #expect(ids(r) == Array(1 ... 25))
        // The token `c+10/=&` holds characters a query must encode; the server decodes it back.
        #expect(try server.requests(run).map(\.query) == ["run=\(run)", "run=\(run)&cursor=c%2B10%2F%3D%26", "run=\(run)&cursor=c%2B20%2F%3D%26"])
    }

    @Test func cursorInTheUsualPlaceNeedsNoPath() throws {
        let r = try readAPI(try apiSpec("connection: '\(server.base)/cursor?run=\(runID())', options: {pagination: cursor}"))
        #expect(ids(r) == Array(1 ... 25))
    }

    @Test func linkHeaderIsFollowedByDefault() throws {
        let run = runID()
        // Page 1's link is absolute, page 2's relative; rel="next last" and a comma in a quoted title.
        let r = try readAPI(try apiSpec("connection: '\(server.base)/link?run=\(run)'"))
        #expect(ids(r) == Array(1 ... 25))
        #expect(try server.requests(run).map(\.query) == ["run=\(run)", "page=2&run=\(run)", "page=3&run=\(run)"])
    }

    @Test func linkOnlyIgnoresTheBody() throws {
        let r = try readAPI(try apiSpec("connection: '\(server.base)/next?run=\(runID())', options: {pagination: link}"))
        #expect(ids(r) == Array(1 ... 10))
        #expect(r.requests == 1)
    }

    @Test func nextURLInTheBodyAbsoluteOrRelative() throws {
        // `next` at the top level on page 1, `links.next` (a path) on page 2, `next: null` on page 3;
        // the records are under `records`, found without a path.
        let r = try readAPI(try apiSpec("connection: '\(server.base)/next?run=\(runID())'"))
        #expect(ids(r) == Array(1 ... 25))
        #expect(r.pages == 3)
    }

    @Test func halStyleNextHref() throws {
        let r = try readAPI(try apiSpec("connection: '\(server.base)/hal?run=\(runID())'"))
        #expect(ids(r) == Array(1 ... 25))
        #expect(r.pages == 3)
    }

    @Test func nextCursorInTheBodyByDefault() throws {
        let r = try readAPI(try apiSpec("connection: '\(server.base)/auto-cursor?run=\(runID())'"))
        #expect(ids(r) == Array(1 ... 25))
        #expect(r.pages == 3)
    }

    @Test func noPaginationMakesOneRequest() throws {
        let r = try readAPI(try apiSpec("connection: '\(server.base)/auto-cursor?run=\(runID())', options: {pagination: none}"))
        #expect(ids(r) == Array(1 ... 10))
        #expect(r.requests == 1)
    }

    @Test func recordsAreFlattenedLikeTheJSONSource() throws {
        let r = try readAPI(try apiSpec("connection: '\(server.base)/nested', records: data.customers, options: {pagination: none}"))
        #expect(r.columns == ["id", "name.first", "name.last", "tags", "score", "big", "active", "note"])
        #expect(r.records.count == 2)
        #expect(r.records[0] == ["id": .integer(1), "name.first": .text("Ann"), "name.last": .text("Lee"), "tags": .text(#"["a","b"]"#),
                                 "score": .real(1.5), "big": .text("12345678901234567890"), "active": .integer(1), "note": .null])
        #expect(r.records[1] == ["id": .integer(2), "name.first": .text("Bo")])
        // The third element is a number, not a record: quarantined, reading goes on.
        #expect(r.problems.count == 1)
        #expect(r.problems.first?.line == 3)
        #expect(r.problems.first?.reason.hasSuffix("(page 1 of source 'api')") == true, "\(r.problems)")
    }

    @Test func recordsPathAsQueryOrOption() throws {
        for fields in ["query: data.customers", "options: {records: data.customers}", "records: /data/customers"] {
            let r = try readAPI(try apiSpec("connection: '\(server.base)/nested', \(fields)"))
            #expect(r.records.count == 2, "\(fields)")
        }
    }

    @Test func noContentIsAnEmptySource() throws {
        let r = try readAPI(try apiSpec("connection: '\(server.base)/empty'"))
        #expect(r.records.isEmpty)
        #expect(r.requests == 1)
    }

    @Test func linkHeaderParsing() {
        let links = APIResponse.parseLinks(#"<https://a.example/p?page=2>; rel="next last"; title="a, b; c", <https://a.example/p?page=1>;rel=prev,<x>"#)
        #expect(links.map(\.target) == ["https://a.example/p?page=2", "https://a.example/p?page=1", "x"])
        #expect(links.map(\.rels) == [["next", "last"], ["prev"], []])
        let base = URL(string: "https://a.example/v1/items?page=1")!
        #expect(APIResponse.nextLink(#"</v1/items?page=2>; rel="NEXT""#, base: base)?.absoluteString == "https://a.example/v1/items?page=2")
        #expect(APIResponse.nextLink(#"<items?page=3>; rel="prev""#, base: base) == nil)
    }

    @Test func retryAfterSecondsOrDate() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(HTTPFetcher.retryAfter("7", now: now) == 7)
        #expect(HTTPFetcher.retryAfter("Tue, 14 Nov 2023 22:13:30 GMT", now: now) == 10)
        #expect(HTTPFetcher.retryAfter("Tue, 14 Nov 2023 22:00:00 GMT", now: now) == 0)
        #expect(HTTPFetcher.retryAfter("soon", now: now) == nil)
    }
}
