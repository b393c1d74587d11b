import Aurum
import Foundation
internal import CMongoc

/// What a MongoDB source reads: a collection with a filter and projection, or an aggregation pipeline.
struct MongoQuery {
    var collection: String
    var filter: JSON = .object([])
    var projection: JSON?
    var sort: JSON?
    var limit: Int64?
    var pipeline: JSON?

    /// From `query` (a collection name) or `queryJSON` (`{"collection", "filter", "projection",
    /// "sort", "limit"}` or `{"collection", "pipeline": […]}`; a bare array is a pipeline, with the
    /// collection in `options.collection`).
    init(_ spec: SourceSpec) throws(MongoError) {
        var coll = spec.options["collection"].flatMap { if case .string(let s) = $0 { s } else { nil } }
        if let q = spec.queryJSON {
            switch q {
            case .object:
                if case .string(let s)? = q["collection"] { coll = s }
                if let f = q["filter"] {
                    guard case .object = f else { throw MongoError("'filter' must be an object, not \(f.compact)") }
                    filter = f
                }
                if let p = q["projection"] { projection = p }
                if let s = q["sort"] { sort = s }
                if case .int(let l)? = q["limit"] { limit = l }
                if let p = q["pipeline"] {
                    guard case .array = p else { throw MongoError("'pipeline' must be an array of stages, not \(p.compact)") }
                    pipeline = p
                }
            case .array: pipeline = q
            default: throw MongoError("a mongodb query must be a collection name or an object, not \(q.compact)")
            }
        } else if let q = spec.query, !q.isEmpty {
            coll = q
        }
        guard let coll, !coll.isEmpty else {
            throw MongoError("a mongodb source needs a collection", hint: "query: COLLECTION, or query: {collection: …, filter: {…}}")
        }
        collection = coll
    }
}

/// Reads one MongoDB query as records (see `BSONDecoder` for the type mapping). A collection that
/// does not exist is an error naming the database's collections, unless `options.allow_missing`
/// is true (then the source is empty). Options: `flatten` (default: the source's `flatten`),
/// `batch` (cursor batch size), `collection` (with a bare pipeline).
final class MongoSourceReader: RowReader {
    private(set) var columns: [String] = []
    private(set) var itemsRead = 0
    private let client: MongoClient
    private var collection: OpaquePointer?
    private var cursor: OpaquePointer?
    private let flatten: Bool
    private let location: String
    private let query: MongoQuery
    private var finished = false

    init(_ spec: SourceSpec) throws {
        location = spec.location
        flatten = spec.options["flatten"].flatMap(MongoOptions.bool) ?? spec.flatten
        do throws(MongoError) {
            query = try MongoQuery(spec)
            client = try MongoClient(MongoEndpoint(spec.connection ?? "mongodb://127.0.0.1:27017", credentials: spec.credentials))
        } catch {
            throw error.aurum(.source, at: spec.location)
        }
        do throws(MongoError) {
            try start(spec)
        } catch {
            close()
            throw error.aurum(.source, at: spec.location)
        }
    }

    private func start(_ spec: SourceSpec) throws(MongoError) {
        let db = try client.databaseName()
        let allowMissing = spec.options["allow_missing"].flatMap(MongoOptions.bool) ?? false
        if !allowMissing {
            let names = try client.collectionNames(db)
            if !names.contains(query.collection) {
                throw MongoError("\(client.endpoint): collection '\(query.collection)' not found",
                                 hint: names.isEmpty ? "the database has no collections" : "collections: \(names.sorted().prefix(20).joined(separator: ", "))")
            }
        }
        collection = mongoc_client_get_collection(try client.live(), db, query.collection)
        var opts: [(String, JSON)] = []
        if let b = spec.options["batch"].flatMap(MongoOptions.int), b > 0 { opts.append(("batchSize", .int(Int64(b)))) }
        if let pipeline = query.pipeline {
            let p = try BSONDocument(json: JSON.object([("pipeline", pipeline)]).compact, what: "pipeline for '\(query.collection)'")
            let o = try BSONDocument(json: JSON.object(opts).compact, what: "options")
            cursor = mongoc_collection_aggregate(collection, MONGOC_QUERY_NONE, p.ptr, o.ptr, nil)
        } else {
            if let p = query.projection { opts.append(("projection", p)) }
            if let s = query.sort { opts.append(("sort", s)) }
            if let l = query.limit { opts.append(("limit", .int(l))) }
            let f = try BSONDocument(json: query.filter.compact, what: "filter for '\(query.collection)'")
            let o = try BSONDocument(json: JSON.object(opts).compact, what: "projection/options for '\(query.collection)'")
            cursor = mongoc_collection_find_with_opts(collection, f.ptr, o.ptr, nil)
        }
        var err = bson_error_t()
        if cursor == nil { throw MongoError("\(client.endpoint): cannot query '\(query.collection)'") }
        if mongoc_cursor_error(cursor, &err) {
            throw client.error(query.pipeline == nil ? "find on '\(query.collection)'" : "aggregate on '\(query.collection)'", err)
        }
    }

    func next() throws -> RowItem? {
        guard !finished, let cursor else { return nil }
        var doc: OpaquePointer?
        if mongoc_cursor_next(cursor, &doc), let doc {
            itemsRead += 1
            return .fields(BSONDecoder.fields(BSONDocument.bytes(doc), flatten: flatten), line: itemsRead)
        }
        finished = true
        var err = bson_error_t()
        if mongoc_cursor_error(cursor, &err) {
            throw client.error(query.pipeline == nil ? "find on '\(query.collection)'" : "aggregate on '\(query.collection)'", err)
                .aurum(.source, at: location)
        }
        return nil
    }

    /// Releases cursor, collection and client, in that order; later calls do nothing.
    func close() {
        if let c = cursor { cursor = nil; mongoc_cursor_destroy(c) }
        if let c = collection { collection = nil; mongoc_collection_destroy(c) }
        client.close()
    }

    deinit { close() }
}

enum MongoOptions {
    static func string(_ j: JSON) -> String? {
        if case .string(let s) = j { return s }
        return nil
    }
    static func int(_ j: JSON) -> Int? {
        switch j {
        case .int(let i): Int(i)
        case .string(let s): Int(s)
        default: nil
        }
    }
    static func bool(_ j: JSON) -> Bool? {
        switch j {
        case .bool(let b): b
        case .string(let s): ["true", "yes", "1"].contains(s.lowercased()) ? true : (["false", "no", "0"].contains(s.lowercased()) ? false : nil)
        case .int(let i): i != 0
        default: nil
        }
    }
    static func strings(_ j: JSON) -> [String]? {
        switch j {
        case .string(let s): s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        case .array(let a): a.compactMap(string)
        default: nil
        }
    }
}

struct MongoSourceConnector: SourceConnector {
    var types: [SourceType] { [.mongodb] }

    func validate(_ spec: SourceSpec) -> [(String, String)] {
        var problems: [(String, String)] = []
        do { _ = try MongoQuery(spec) } catch { problems.append(("\(spec.location).query", error.message)) }
        let ep = MongoEndpoint(spec.connection ?? "", credentials: nil)
        if (ep.database ?? "").isEmpty {
            problems.append(("\(spec.location).connection", "a mongodb connection string names the database: mongodb://host:port/DATABASE"))
        }
        return problems
    }

    func open(_ spec: SourceSpec) throws -> RowReader { try MongoSourceReader(spec) }
}
