import Aurum
import Foundation

/// Sync into MongoDB: each batch is one unordered bulk write of keyed upserts (`replace_one` with
/// upsert, or `$set` with `options.mode: set`) and one of keyed deletes, by the sync key. Bulk
/// writes are not transactional; upserts and deletes by key are idempotent, so a batch written
/// twice after a failure leaves the same documents.
final class MongoSyncSession: SyncSession {
    let writer: MongoWriter
    let columns: [String]

    init(_ spec: OutputSpec, columns: [String], key: [String]) throws {
        var options = spec.options
        options["key"] = .array(key.map(JSON.string))
        writer = try MongoWriter(connection: spec.connection ?? "mongodb://127.0.0.1:27017", collection: spec.table ?? "",
                                 credentials: spec.credentials, options: options, location: spec.location)
        self.columns = columns
    }

    func close() { writer.close() }

    func apply(upserts: [[Value]], deletes: [[Value]]) throws {
        if !upserts.isEmpty { try writer.upsert(columns: columns, rows: upserts) }
        if !deletes.isEmpty { try writer.delete(keys: deletes) }
    }
}

extension MongoTargetConnector {
    func openSync(_ spec: OutputSpec, columns: [String], key: [String]) throws -> SyncSession {
        try MongoSyncSession(spec, columns: columns, key: key)
    }

    /// Drops the collection and inserts every row.
    func rebuild(_ spec: OutputSpec, rows: RowCursor, key: [String]) throws -> (path: String, rows: Int) {
        var s = spec
        s.options["write"] = .string("replace")
        return try write(s, rows: rows)
    }
}
