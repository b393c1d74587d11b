import Foundation
import Testing
@testable import Aurum
@testable import AurumAPI

/// Credentials go where they are configured, never into a message; settings are checked with their paths.
@Suite struct AuthTests {
    let server: APITestServer
    init() throws { server = try APITestServer.shared() }
    var b: String { server.base }

    @Test func apiKeyAsTheXAPIKeyHeaderByDefault() throws {
        let run = runID()
        let r = try readAPI(try apiSpec("connection: '\(b)/auth/key?run=\(run)', auth: {api_key: k3y-s3cret-123}"))
        #expect(r.records == [["id": .integer(1), "auth": .text("key")]])
        #expect(try server.requests(run).first?.headers["x-api-key"] == "k3y-s3cret-123")
    }

    @Test func apiKeyInAQueryParameterNeverShowsInMessages() throws {
        let run = runID()
        // Page 2's next link echoes the key and points at page 2 again: a loop, reported without the key.
        let e = readError(try apiSpec("connection: '\(b)/auth/query?run=\(run)', auth: {api_key: k3y-s3cret-123}, "
                                      + "options: {auth: {type: api_key, in: query, name: key}}"))
        #expect(e == "\(b)/auth/query?page=2&run=\(run)&key=***: page 2 of source 'api': pagination loops: the next page is "
                + "\(b)/auth/query?page=2&run=\(run)&key=***, already read as page 2")
        #expect(try server.requests(run).map(\.query) == ["run=\(run)&key=k3y-s3cret-123", "page=2&run=\(run)&key=k3y-s3cret-123"])
    }

    @Test func bearerToken() throws {
        let r = try readAPI(try apiSpec("connection: '\(b)/auth/bearer', auth: {token: tok-abc-999}"))
        #expect(r.records == [["id": .integer(1), "auth": .text("bearer")]])
        let explicit = try readAPI(try apiSpec("connection: '\(b)/auth/bearer', auth: {api_key: tok-abc-999}, options: {auth: bearer}"))
        #expect(explicit.records.count == 1)
    }

    @Test func basicAuth() throws {
        let r = try readAPI(try apiSpec("connection: '\(b)/auth/basic', auth: {username: ann, password: pw-secret-42}"))
        #expect(r.records == [["id": .integer(1), "auth": .text("basic")]])
    }

    @Test func aRefusedKeyIsScrubbedFromTheServersAnswer() throws {
        // The server echoes the key it refused; the message shows *** instead.
        let e = readError(try apiSpec("connection: '\(b)/auth/key', auth: {api_key: wrong-key-777}"))
        #expect(e == "\(b)/auth/key: page 1 of source 'api': HTTP 401 Unauthorized: " + #"{"error": "invalid credentials ***"}"#
                + " (check the source's credentials)")
        let basic = readError(try apiSpec("connection: 'http://ann:pw-secret-42@127.0.0.1:\(b.split(separator: ":").last!)/auth/key'"))
        #expect(basic?.contains("pw-secret-42") == false)
        #expect(basic?.hasPrefix("http://127.0.0.1:") == true, "\(basic ?? "")")
    }

    @Test func credentialsStayWithTheConfiguredOrigin() throws {
        let run = runID()
        let r = try readAPI(try apiSpec("connection: '\(b)/auth/cross?run=\(run)', auth: {api_key: k3y-s3cret-123}"))
        #expect(r.records.compactMap { $0["id"]?.int } == [1, 2])
        let seen = try server.requests(run)
        #expect(seen.count == 2)
        #expect(seen.first?.headers["x-api-key"] == "k3y-s3cret-123")
        #expect(seen.last?.headers["x-api-key"] == nil)
        #expect(seen.last?.headers["host"]?.hasPrefix("localhost:") == true)
    }

    @Test func aRedirectToAnotherOriginGetsNoCredentials() throws {
        let run = runID()
        let r = try readAPI(try apiSpec("connection: '\(b)/auth/redirect?run=\(run)', auth: {api_key: k3y-s3cret-123, token: tok-abc-999}, "
                                        + "options: {pagination: none}"))
        #expect(r.records == [["id": .integer(2)]])
        let seen = try server.requests(run)
        #expect(seen.map(\.path) == ["/auth/redirect", "/auth/cross"])
        #expect(seen.first?.headers["x-api-key"] == "k3y-s3cret-123")
        #expect(seen.first?.headers["authorization"] == "Bearer tok-abc-999")
        #expect(seen.last?.headers["x-api-key"] == nil)
        #expect(seen.last?.headers["authorization"] == nil)
    }

    @Test func extraHeaders() throws {
        let run = runID()
        _ = try readAPI(try apiSpec("connection: '\(b)/page?run=\(run)', options: {pagination: none, headers: {X-Tenant: acme, Accept: application/vnd.api+json}}"))
        let h = try #require(try server.requests(run).first?.headers)
        #expect(h["x-tenant"] == "acme")
        #expect(h["accept"] == "application/vnd.api+json")
        #expect(h["user-agent"] == "aurum/0.1")
    }
}

/// `validate` reports every problem of an api source's settings with its config path.
@Suite struct SettingsTests {
    let api = "connection: 'https://api.example.com/v1/customers'"

    @Test func theURL() {
        #expect(catalogProblems("connection: 'ftp://example.com/x'") == ["sources[0].connection: 'ftp://example.com/x' is not an http:// or https:// URL"])
        // A password in a bad URL is not repeated.
        #expect(catalogProblems("connection: 'https://user:hunter22@api.example.com  x'")
                == ["sources[0].connection: 'https://user:***@api.example.com  x' is not an http:// or https:// URL"])
    }

    @Test func pagination() {
        #expect(catalogProblems("\(api), options: {pagination: {type: pages}}")
                == ["sources[0].options.pagination.type: unknown pagination type 'pages' (did you mean 'page'?)"])
        #expect(catalogProblems("\(api), options: {pagination: {type: page, limit: 10, size_param: per_page}}") == [
            "sources[0].options.pagination.limit: 'limit' does not apply to page pagination (it takes: param, start, size_param, size)",
            "sources[0].options.pagination.size: size_param needs size (the page size to ask for)"])
        #expect(catalogProblems("\(api), options: {pagination: [1]}") == ["sources[0].options.pagination: expected a pagination type or {type: …, …}"])
        #expect(catalogProblems("\(api), options: {pagination: {type: offset, limit: 0}}")
                == ["sources[0].options.pagination.limit: expected a whole number, at least 1"])
        #expect(catalogProblems("\(api), options: {pagination: {type: cursor, param: cursor, path: meta.next}}").isEmpty)
    }

    @Test func optionsRetriesTimeoutsAndHeaders() {
        #expect(catalogProblems("\(api), options: {retry: 3, timeout: 0, max_requests: 0}") == [
            "sources[0].options.retry: unknown option 'retry' (known: records, pagination, auth, headers, timeout, retries, max_requests)",
            "sources[0].options.timeout: expected a positive number of seconds",
            "sources[0].options.max_requests: expected a whole number of requests, at least 1"])
        #expect(catalogProblems("\(api), options: {retries: {max: -1, initial: 2}, headers: {'bad header': x}}") == [
            "sources[0].options.headers.bad header: 'bad header' is not a valid header name",
            "sources[0].options.retries.initial: unknown retry setting 'initial' (known: max, initial_delay, max_delay, max_wait)",
            "sources[0].options.retries.max: expected a whole number of retries, at least 0"])
        #expect(catalogProblems("\(api), options: {headers: {X-Secret: '${AURUM_TEST_UNSET_VARIABLE}'}}")
                == ["sources[0].options.headers.X-Secret: environment variable 'AURUM_TEST_UNSET_VARIABLE' is not set"])
    }

    @Test func auth() {
        #expect(catalogProblems("\(api), options: {auth: bearer}") == ["sources[0].options.auth: bearer auth needs a token: set auth.token (or auth.api_key)"])
        #expect(catalogProblems("\(api), options: {auth: {type: api_key, in: body}}, auth: {api_key: abc123}")
                == ["sources[0].options.auth.in: expected header or query"])
        #expect(catalogProblems("\(api), options: {auth: {type: oauth}}")
                == ["sources[0].options.auth.type: unknown auth type 'oauth' (one of: api_key, bearer, basic, none)"])
        #expect(catalogProblems("\(api), options: {auth: basic}") == ["sources[0].options.auth: basic auth needs auth.username (and password)"])
    }

    @Test func theDefaultsOfTheJSONInterface() throws {
        AurumAPI.register()
        let dir = TempDir()
        let c = try CatalogLoader.load(path: dir.write("c.json", """
            {"integration_config": {"data_sources": [{"source_name": "shop", "source_type": "api",
              "connection_string": "https://api.example.com/v1/customers", "query": "data.customers",
              "authentication": {"api_key": "abc123", "username": "ann", "password": "pw"}}],
             "output_config": {"output_format": "csv", "output_destination": "o.csv"}}}
            """))
        let (s, problems) = APISettings.parse(c.sources[0])
        #expect(problems.isEmpty)
        let settings = try #require(s)
        #expect(settings.records == ["data", "customers"])
        #expect(settings.pagination == .auto(param: "cursor"))
        #expect(settings.retry == RetryPolicy())
        #expect(settings.maxRequests == 10_000)
        #expect(settings.timeout == 60)
        let headers = settings.auth.compactMap { if case .header(let n, let v) = $0 { return "\(n): \(v)" } else { return nil } }
        #expect(headers == ["X-API-Key: abc123", "Authorization: Basic " + Data("ann:pw".utf8).base64EncodedString()])
        #expect(Set(settings.secrets) == ["abc123", "pw"])
    }

    @Test func urlHelpers() {
        let u = URL(string: "https://a.example/x?a=1&page=3&b=%2F")!
        #expect(APIURL.setting("page", "4", in: u).absoluteString == "https://a.example/x?a=1&b=%2F&page=4")
        #expect(APIURL.setting("cursor", "a+b/c=&d", in: u).absoluteString == "https://a.example/x?a=1&page=3&b=%2F&cursor=a%2Bb%2Fc%3D%26d")
        #expect(APIURL.masking("key", in: "https://a.example/x?key=s3cret&k=1#key=x") == "https://a.example/x?key=***&k=1#key=x")
    }
}
