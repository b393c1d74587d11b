import Aurum
import Foundation
internal import CMongoc

/// `mongoc_init()` exactly once per process (a global `let` is initialised once, thread-safely).
/// `mongoc_cleanup()` is left to process exit: connectors may be used until then.
///
/// The driver's performance counters are kept off shared memory (`MONGOC_DISABLE_SHM`, unless
/// the environment sets it): it creates `/dev/shm/mongoc-PID` per process, which only
/// `mongoc_cleanup()` removes, and when a later process gets a PID whose file is still there it
/// prints "Falling back to malloc for counters" on stderr (seen in a quiet CLI run in the tests).
enum MongoRuntime {
    private static let initialized: Bool = {
        setenv("MONGOC_DISABLE_SHM", "1", 0)
        mongoc_init()
        return true
    }()
    static func ensure() { _ = initialized }
}

/// A MongoDB failure; messages carry the server's or driver's text, already free of secrets.
struct MongoError: Error, CustomStringConvertible {
    var message: String
    var hint: String?
    init(_ message: String, hint: String? = nil) { self.message = message; self.hint = hint }
    var description: String { message }

    func aurum(_ code: AurumError.Code, at location: String?) -> AurumError {
        AurumError(code, message, at: location, hint: hint)
    }

    static func message(_ e: bson_error_t) -> String {
        var m = e.message
        return withUnsafeBytes(of: &m) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

/// Where a MongoDB server is, for messages: `mongodb host:port/database` (never the password).
struct MongoEndpoint: Sendable, CustomStringConvertible {
    var connection: String
    var hosts: String
    var database: String?
    var credentials: Credentials?

    init(_ connection: String, credentials: Credentials?) {
        self.connection = connection
        self.credentials = credentials
        var rest = Substring(connection)
        if let r = rest.range(of: "://") { rest = rest[r.upperBound...] }
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        hosts = String(authority.split(separator: "@").last ?? "")
        rest = rest.dropFirst(authority.count)
        if rest.hasPrefix("/") {
            let db = rest.dropFirst().prefix { $0 != "?" }
            if !db.isEmpty { database = String(db).removingPercentEncoding ?? String(db) }
        }
    }

    var description: String { "mongodb \(hosts)\(database.map { "/\($0)" } ?? "")" }

    var secrets: [String] {
        var s = credentials?.secrets ?? []
        if let r = connection.range(of: "://"), let at = connection[r.upperBound...].firstIndex(of: "@") {
            let info = connection[r.upperBound..<at]
            if let colon = info.firstIndex(of: ":") {
                let pw = String(info[info.index(after: colon)...])
                s.append(pw)
                if let d = pw.removingPercentEncoding { s.append(d) }
            }
        }
        return s
    }

    func scrub(_ text: String) -> String { Secrets.scrub(text, secrets) }
}

/// One `mongoc_client_t` (not thread-safe: one owner), destroyed exactly once by `close()` or `deinit`.
final class MongoClient {
    private(set) var client: OpaquePointer?
    let endpoint: MongoEndpoint

    init(_ endpoint: MongoEndpoint) throws(MongoError) {
        MongoRuntime.ensure()
        self.endpoint = endpoint
        var err = bson_error_t()
        guard let uri = mongoc_uri_new_with_error(endpoint.connection, &err) else {
            throw MongoError(endpoint.scrub("invalid mongodb connection string '\(Secrets.redact(endpoint.connection))': \(MongoError.message(err))"),
                             hint: "expected mongodb://[user:password@]host:port/DATABASE")
        }
        defer { mongoc_uri_destroy(uri) }
        if !endpoint.connection.lowercased().contains("serverselectiontimeoutms") {
            _ = mongoc_uri_set_option_as_int32(uri, "serverSelectionTimeoutMS", 5000)
        }
        if let u = endpoint.credentials?.username, !u.isEmpty { _ = mongoc_uri_set_username(uri, u) }
        if let p = endpoint.credentials?.password, !p.isEmpty { _ = mongoc_uri_set_password(uri, p) }
        guard let c = mongoc_client_new_from_uri_with_error(uri, &err) else {
            throw MongoError(endpoint.scrub("cannot create a client for \(endpoint): \(MongoError.message(err))"))
        }
        _ = mongoc_client_set_error_api(c, 2)
        _ = mongoc_client_set_appname(c, "aurum")
        client = c
    }

    deinit { close() }

    func close() {
        if let c = client {
            client = nil
            mongoc_client_destroy(c)
        }
    }

    func live() throws(MongoError) -> OpaquePointer {
        guard let c = client else { throw MongoError("connection to \(endpoint) is closed") }
        return c
    }

    /// The database the connection string names (required).
    func databaseName() throws(MongoError) -> String {
        guard let d = endpoint.database, !d.isEmpty else {
            throw MongoError("the connection string names no database (\(Secrets.redact(endpoint.connection)))",
                             hint: "use mongodb://host:port/DATABASE")
        }
        return d
    }

    /// An error naming the server, database and object, with the driver's message.
    func error(_ what: String, _ e: bson_error_t) -> MongoError {
        let m = MongoError.message(e)
        var hint: String?
        if m.contains("No suitable servers") || m.contains("connection refused") || m.contains("Failed to resolve") {
            hint = "is the server running? (scripts/servers/mongo.sh starts one)"
        }
        return MongoError(endpoint.scrub("\(endpoint): \(what): \(m)"), hint: hint)
    }

    /// Names of the database's collections.
    func collectionNames(_ db: String) throws(MongoError) -> [String] {
        let c = try live()
        guard let database = mongoc_client_get_database(c, db) else { throw MongoError("\(endpoint): cannot open database") }
        defer { mongoc_database_destroy(database) }
        var err = bson_error_t()
        guard let names = mongoc_database_get_collection_names_with_opts(database, nil, &err) else {
            throw error("listing collections", err)
        }
        defer { bson_strfreev(names) }
        var out: [String] = []
        var i = 0
        while let n = names[i] { out.append(String(cString: n)); i += 1 }
        return out
    }

    /// Drops a whole database (tests and benchmarks).
    func dropDatabase(_ db: String) throws(MongoError) {
        let c = try live()
        guard let database = mongoc_client_get_database(c, db) else { return }
        defer { mongoc_database_destroy(database) }
        var err = bson_error_t()
        if !mongoc_database_drop_with_opts(database, nil, &err), !MongoError.message(err).contains("not found") {
            throw error("dropping database '\(db)'", err)
        }
    }
}

extension MongoClient {
    /// Inserts documents written as (extended) JSON, one by one (seeding tests and benchmarks).
    func insert(json docs: [String], database db: String, collection name: String) throws(MongoError) {
        let c = try live()
        guard let coll = mongoc_client_get_collection(c, db, name) else { throw MongoError("\(endpoint): cannot open '\(name)'") }
        defer { mongoc_collection_destroy(coll) }
        for d in docs {
            let doc = try BSONDocument(json: d, what: "document")
            var err = bson_error_t()
            if !mongoc_collection_insert_one(coll, doc.ptr, nil, nil, &err) { throw error("inserting into '\(name)'", err) }
        }
    }

    /// Counts the documents of a collection matching a JSON filter.
    func count(database db: String, collection name: String, filter: String = "{}") throws(MongoError) -> Int64 {
        let c = try live()
        guard let coll = mongoc_client_get_collection(c, db, name) else { throw MongoError("\(endpoint): cannot open '\(name)'") }
        defer { mongoc_collection_destroy(coll) }
        let f = try BSONDocument(json: filter, what: "filter")
        var err = bson_error_t()
        let n = mongoc_collection_count_documents(coll, f.ptr, nil, nil, nil, &err)
        if n < 0 { throw error("counting '\(name)'", err) }
        return n
    }
}
