import Aurum
import Foundation
internal import CMongoc

/// How the columns of a row become one document: dotted names (`address.city`) nest into
/// sub-documents (the inverse of the source's flattening) unless `nest: false`; a name that is both
/// a value and a prefix (`a` and `a.b`) keeps the dotted one as a literal field name.
struct DocumentPlan {
    indirect enum Node { case leaf(name: String, column: Int), object(name: String, children: [Node]) }
    let nodes: [Node]
    /// `_id` text of 24 hex digits is written as an ObjectId (so read → write round-trips ids).
    let objectIdColumn: Int?

    init(columns: [String], nest: Bool) {
        objectIdColumn = columns.firstIndex(of: "_id")
        guard nest else { nodes = columns.enumerated().map { .leaf(name: $1, column: $0) }; return }
        let names = Set(columns)
        final class Tree { var order: [String] = []; var leaves: [String: Int] = [:]; var kids: [String: Tree] = [:] }
        let root = Tree()
        for (i, c) in columns.enumerated() {
            var parts = c.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            // Keep literal when any prefix is itself a column, or the name has empty parts.
            let prefixes = (1..<max(1, parts.count)).map { parts[0..<$0].joined(separator: ".") }
            if parts.contains("") || prefixes.contains(where: names.contains) { parts = [c] }
            var t = root
            for p in parts.dropLast() {
                if t.kids[p] == nil { t.kids[p] = Tree(); t.order.append(p) }
                t = t.kids[p]!
            }
            let leaf = parts.last!
            if t.leaves[leaf] == nil && t.kids[leaf] == nil { t.order.append(leaf) }
            t.leaves[leaf] = i
        }
        func build(_ t: Tree) -> [Node] {
            t.order.map { n in
                if let k = t.kids[n] { return .object(name: n, children: build(k)) }
                return .leaf(name: n, column: t.leaves[n]!)
            }
        }
        nodes = build(root)
    }

    func encode(_ row: [Value], into b: inout BSONBuilder) {
        b.beginDocument()
        encode(nodes, row, &b)
        b.endDocument()
    }

    private func encode(_ nodes: [Node], _ row: [Value], _ b: inout BSONBuilder) {
        for n in nodes {
            switch n {
            case .leaf(let name, let c):
                let v = c < row.count ? row[c] : .null
                if c == objectIdColumn, case .text(let s) = v, let oid = DocumentPlan.objectId(s) { b.objectId(name, oid) } else { b.value(name, v) }
            case .object(let name, let children):
                b.beginDocument(name)
                encode(children, row, &b)
                b.endDocument()
            }
        }
    }

    static func objectId(_ s: String) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count == 24 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(12)
        func nib(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var i = 0
        while i < 24 {
            guard let h = nib(u[i]), let l = nib(u[i + 1]) else { return nil }
            out.append(h << 4 | l)
            i += 2
        }
        return out
    }
}

/// Counts from a bulk write (libmongoc's reply).
public struct MongoWriteResult: Sendable, Equatable {
    public var inserted = 0
    public var matched = 0
    public var modified = 0
    public var upserted = 0
    public var deleted = 0
    public init() {}
}

/// Writes rows into one MongoDB collection: bulk inserts (unordered, `batch` documents per round
/// trip), keyed upserts and keyed deletes for sync. Rows become documents through `DocumentPlan`
/// (NULL → null, integer → int32 when it fits else int64, real → double, text → string, blob →
/// binary; `_id` of 24 hex digits → ObjectId).
///
/// Options: `batch` (default 1000), `nest` (default true), `key` (column or list of columns for
/// `upsert`/`delete`; default `_id`), `mode` for `upsert`: `replace` (replace_one, the document
/// becomes the row; default) or `set` (update_one with `$set`, other fields kept);
/// `write` for `TargetConnector.write`: `replace` (default: drop the collection, then insert, so it
/// holds exactly the output), `append` (insert only) or `upsert` (keyed upsert by `key`).
///
/// Not thread-safe; one owner. `close()` releases collection then client (also done by `deinit`).
public final class MongoWriter {
    private let client: MongoClient
    private var collection: OpaquePointer?
    private let collectionName: String
    private let location: String
    private let batch: Int
    private let nest: Bool
    private let keyColumns: [String]
    private let setMode: Bool
    /// Documents acknowledged by the batches written so far (inserted, or matched and upserted).
    public private(set) var rowsWritten = 0

    public init(connection: String, collection: String, credentials: Credentials? = nil, options: [String: JSON] = [:], location: String = "mongodb") throws {
        self.location = location
        collectionName = collection
        batch = options["batch"].flatMap(MongoOptions.int).map { max(1, $0) } ?? 1000
        nest = options["nest"].flatMap(MongoOptions.bool) ?? true
        keyColumns = options["key"].flatMap(MongoOptions.strings) ?? ["_id"]
        do throws(MongoError) {
            let s = try MongoWriter.settings(options)
            setMode = s.set
            client = try MongoClient(MongoEndpoint(connection, credentials: credentials))
            let db = try client.databaseName()
            guard !collection.isEmpty else { throw MongoError("a mongodb output needs a collection (table, or ?collection=NAME)") }
            self.collection = mongoc_client_get_collection(try client.live(), db, collection)
        } catch {
            throw error.aurum(.output, at: location)
        }
    }

    struct Settings { var set: Bool; var write: String }

    static func settings(_ options: [String: JSON]) throws(MongoError) -> Settings {
        var set = false
        if let m = options["mode"] {
            switch MongoOptions.string(m)?.lowercased() {
            case "replace": set = false
            case "set", "merge": set = true
            default: throw MongoError("unknown mongodb upsert mode \(m.compact)", hint: "replace or set")
            }
        }
        var write = "replace"
        if let w = options["write"] {
            guard let s = MongoOptions.string(w)?.lowercased(), ["replace", "append", "upsert"].contains(s) else {
                throw MongoError("unknown mongodb write \(w.compact)", hint: "replace, append or upsert")
            }
            write = s
        }
        if let b = options["batch"], (MongoOptions.int(b) ?? 0) <= 0 { throw MongoError("options.batch must be a positive number, not \(b.compact)") }
        return Settings(set: set, write: write)
    }

    deinit { close() }

    public func close() {
        if let c = collection { collection = nil; mongoc_collection_destroy(c) }
        client.close()
    }

    private func live() throws(MongoError) -> OpaquePointer {
        guard let c = collection else { throw MongoError("connection to \(client.endpoint) is closed") }
        return c
    }

    /// Drops the collection (a missing one is fine).
    public func drop() throws {
        do throws(MongoError) {
            var err = bson_error_t()
            if !mongoc_collection_drop_with_opts(try live(), nil, &err) {
                let m = MongoError.message(err)
                if !(err.code == 26 || m.contains("ns not found") || m.lowercased().contains("not found")) {
                    throw client.error("dropping '\(collectionName)'", err)
                }
            }
        } catch {
            throw error.aurum(.output, at: location)
        }
    }

    /// Runs one unordered bulk operation: `fill` adds the operations; returns the counts.
    private func bulk(_ what: String, _ fill: (OpaquePointer) throws(MongoError) -> Void) throws(MongoError) -> MongoWriteResult {
        let ordered = try BSONDocument(json: #"{"ordered": false}"#, what: "bulk options")
        guard let op = mongoc_collection_create_bulk_operation_with_opts(try live(), ordered.ptr) else {
            throw MongoError("\(client.endpoint): cannot start a bulk write on '\(collectionName)'")
        }
        defer { mongoc_bulk_operation_destroy(op) }
        try fill(op)
        var err = bson_error_t()
        return try withReplyDocument { (reply) throws(MongoError) -> MongoWriteResult in
            let ok = mongoc_bulk_operation_execute(op, reply, &err)
            let fields = BSONDecoder.fields(BSONDocument.bytes(reply), flatten: false)
            if ok == 0 {
                // The driver's message names the first failure; the reply's writeErrors may hold record values, so it stays out.
                var e = client.error("\(what) '\(collectionName)'", err)
                e.hint = e.hint ?? "the bulk write was unordered: other documents of the batch may have been written"
                throw e
            }
            var r = MongoWriteResult()
            for (k, v) in fields {
                guard case .integer(let n) = v else { continue }
                switch k {
                case "nInserted": r.inserted = Int(n)
                case "nMatched": r.matched = Int(n)
                case "nModified": r.modified = Int(n)
                case "nUpserted": r.upserted = Int(n)
                case "nRemoved": r.deleted = Int(n)
                default: break
                }
            }
            return r
        }
    }

    /// Inserts every row from `next` (in bulk batches); returns how many were inserted.
    @discardableResult
    public func insert(columns: [String], next: () throws -> [Value]?) throws -> Int {
        let plan = DocumentPlan(columns: columns, nest: nest)
        var b = BSONBuilder()
        var total = 0
        var rows: [[Value]] = []
        rows.reserveCapacity(batch)
        while true {
            rows.removeAll(keepingCapacity: true)
            while rows.count < batch, let row = try next() { rows.append(row) }
            if rows.isEmpty { break }
            do throws(MongoError) {
                let r = try bulk("inserting into") { (op) throws(MongoError) in
                    for row in rows {
                        b.reset()
                        plan.encode(row, into: &b)
                        let doc = BSONDocument(bytes: b.bytes)
                        var err = bson_error_t()
                        if !mongoc_bulk_operation_insert_with_opts(op, doc.ptr, nil, &err) { throw client.error("inserting into '\(collectionName)'", err) }
                    }
                }
                total += r.inserted
                rowsWritten += r.inserted
            } catch {
                throw error.aurum(.output, at: location)
            }
            if rows.count < batch { break }
        }
        return total
    }

    /// Inserts rows; returns how many were inserted.
    @discardableResult
    public func insert(columns: [String], rows: [[Value]]) throws -> Int {
        var i = 0
        return try insert(columns: columns) { () -> [Value]? in
            guard i < rows.count else { return nil }
            defer { i += 1 }
            return rows[i]
        }
    }

    private func keyIndexes(_ columns: [String]) throws(MongoError) -> [Int] {
        try keyColumns.map { (k) throws(MongoError) -> Int in
            guard let i = columns.firstIndex(of: k) else {
                throw MongoError("key column '\(k)' is not among the columns", hint: "set options.key to the key column(s)")
            }
            return i
        }
    }

    private func selector(_ row: [Value], _ keys: [Int], _ plan: DocumentPlan, _ columns: [String]) throws(MongoError) -> BSONDocument {
        var b = BSONBuilder()
        b.beginDocument()
        for k in keys {
            let v = k < row.count ? row[k] : .null
            if case .null = v { throw MongoError("key column '\(columns[k])' is null") }
            if k == plan.objectIdColumn, case .text(let s) = v, let oid = DocumentPlan.objectId(s) { b.objectId(columns[k], oid) } else { b.value(columns[k], v) }
        }
        b.endDocument()
        return BSONDocument(bytes: b.bytes)
    }

    /// Keyed upsert by `options.key`: `replace_one` (mode `replace`) or `update_one` with `$set`
    /// (mode `set`), upsert true, unordered, in batches.
    @discardableResult
    public func upsert(columns: [String], rows: [[Value]]) throws -> MongoWriteResult {
        var total = MongoWriteResult()
        do throws(MongoError) {
            let keys = try keyIndexes(columns)
            let plan = DocumentPlan(columns: columns, nest: nest)
            let upsertOpts = try BSONDocument(json: #"{"upsert": true}"#, what: "upsert options")
            var start = 0
            var b = BSONBuilder()
            while start < rows.count {
                let end = min(rows.count, start + batch)
                let r = try bulk("upserting into") { (op) throws(MongoError) in
                    for row in rows[start..<end] {
                        let sel = try selector(row, keys, plan, columns)
                        b.reset()
                        if setMode {
                            b.beginDocument(); b.beginDocument("$set")
                            var inner = BSONBuilder()
                            plan.encode(row, into: &inner)
                            // Splice the row document's elements into `$set`.
                            b.append(elementsOf: inner.bytes)
                            b.endDocument(); b.endDocument()
                        } else {
                            plan.encode(row, into: &b)
                        }
                        let doc = BSONDocument(bytes: b.bytes)
                        var err = bson_error_t()
                        let ok = setMode
                            ? mongoc_bulk_operation_update_one_with_opts(op, sel.ptr, doc.ptr, upsertOpts.ptr, &err)
                            : mongoc_bulk_operation_replace_one_with_opts(op, sel.ptr, doc.ptr, upsertOpts.ptr, &err)
                        if !ok { throw client.error("upserting into '\(collectionName)'", err) }
                    }
                }
                total.matched += r.matched; total.modified += r.modified; total.upserted += r.upserted
                rowsWritten += r.matched + r.upserted
                start = end
            }
        } catch {
            throw error.aurum(.output, at: location)
        }
        return total
    }

    /// Keyed upsert of rows read one batch at a time from `next` (nil at the end), so memory
    /// holds one batch, not the output; returns the documents matched or upserted.
    public func upsert(columns: [String], next: () throws -> [Value]?) throws -> Int {
        var total = 0
        var rows: [[Value]] = []
        rows.reserveCapacity(batch)
        while true {
            rows.removeAll(keepingCapacity: true)
            while rows.count < batch, let row = try next() { rows.append(row) }
            if rows.isEmpty { break }
            let r = try upsert(columns: columns, rows: rows)
            total += r.matched + r.upserted
            if rows.count < batch { break }
        }
        return total
    }

    /// Keyed delete: removes the document matching each key (values aligned with `options.key`);
    /// returns how many were deleted.
    @discardableResult
    public func delete(keys: [[Value]]) throws -> Int {
        try delete(columns: keyColumns, rows: keys)
    }

    /// Keyed delete of rows (their key columns by `options.key`); returns how many were deleted.
    @discardableResult
    public func delete(columns: [String], rows: [[Value]]) throws -> Int {
        var deleted = 0
        do throws(MongoError) {
            let keys = try keyIndexes(columns)
            let plan = DocumentPlan(columns: columns, nest: false)
            var start = 0
            while start < rows.count {
                let end = min(rows.count, start + batch)
                let r = try bulk("deleting from") { (op) throws(MongoError) in
                    for row in rows[start..<end] {
                        let sel = try selector(row, keys, plan, columns)
                        var err = bson_error_t()
                        if !mongoc_bulk_operation_remove_one_with_opts(op, sel.ptr, nil, &err) { throw client.error("deleting from '\(collectionName)'", err) }
                    }
                }
                deleted += r.deleted
                start = end
            }
        } catch {
            throw error.aurum(.output, at: location)
        }
        return deleted
    }
}

extension BSONBuilder {
    /// Appends the elements (not the length and terminator) of a complete document.
    mutating func append(elementsOf doc: [UInt8]) {
        guard doc.count > 5 else { return }
        appendRaw(doc[4..<(doc.count - 1)])
    }
}

struct MongoTargetConnector: TargetConnector {
    var formats: [OutputFormat] { [.mongodb] }
    /// Not transactional: a bulk write is unordered, so a failed batch may be partly written.
    var capabilities: ConnectorCapabilities { [.keyedUpsert, .delete] }

    func validate(_ spec: OutputSpec) -> [(String, String)] {
        var problems: [(String, String)] = []
        do { _ = try MongoWriter.settings(spec.options) } catch {
            problems.append(("\(spec.location).options", error.message + (error.hint.map { " (\($0))" } ?? "")))
        }
        if (spec.table ?? "").isEmpty {
            problems.append((spec.location, "a mongodb output needs a collection: table: NAME (or ?collection=NAME)"))
        }
        if (MongoEndpoint(spec.connection ?? "", credentials: nil).database ?? "").isEmpty {
            problems.append(("\(spec.location).connection", "a mongodb connection string names the database: mongodb://host:port/DATABASE"))
        }
        return problems
    }

    func write(_ spec: OutputSpec, rows: RowCursor) throws -> (path: String, rows: Int) {
        let conn = spec.connection ?? "mongodb://127.0.0.1:27017"
        let coll = spec.table ?? ""
        let w = try MongoWriter(connection: conn, collection: coll, credentials: spec.credentials, options: spec.options, location: spec.location)
        defer { w.close() }
        let mode = (try? MongoWriter.settings(spec.options).write) ?? "replace"
        let n: Int
        do {
            switch mode {
            case "upsert":
                n = try w.upsert(columns: rows.columns) { try rows.next() }
            case "append":
                n = try w.insert(columns: rows.columns) { try rows.next() }
            default:
                try w.drop()
                n = try w.insert(columns: rows.columns) { try rows.next() }
            }
        } catch {
            // Batches are unordered bulk writes: the failed one may be partly written, so the count is
            // of the batches acknowledged before it. `replace` and `upsert` converge when run again.
            var e = (error as? AurumError) ?? AurumError(.output, "\(error)", at: spec.location)
            e.message += " (\(w.rowsWritten) rows written in earlier batches)"
            e.rowsCommitted = w.rowsWritten
            throw e
        }
        let base = Secrets.redact(conn)
        return (base + (base.contains("?") ? "&" : "?") + "collection=\(coll)", n)
    }
}
