import Aurum
import Foundation

/// Sync into Redis: each batch is one MULTI/EXEC of the rows (each key written whole, per
/// `options.mode`), then one pipelined DEL of the deleted keys. The key template may name only
/// key columns, so the key of a deleted row can be made from its key alone.
final class RedisSyncSession: SyncSession {
    let writer: RedisWriter
    let columns: [String]
    let key: [String]

    init(_ spec: OutputSpec, columns: [String], key: [String]) throws {
        writer = try RedisWriter(connection: spec.connection ?? "redis://127.0.0.1:6379/0", credentials: spec.credentials,
                                 options: spec.options, location: spec.location)
        self.columns = columns
        self.key = key
        if let c = writer.keyColumns.first(where: { !key.contains($0) }) {
            writer.close()
            throw AurumError(.output, "the key template names column '\(c)', which is not a key column (\(key.joined(separator: ", ")))",
                             at: "\(spec.location).options.key", hint: "a synced Redis key is made from the key columns only")
        }
    }

    func close() { writer.close() }

    func apply(upserts: [[Value]], deletes: [[Value]]) throws {
        if !upserts.isEmpty { try writer.upsert(columns: columns, rows: upserts) }
        if !deletes.isEmpty { try writer.delete(columns: key, rows: deletes) }
    }
}

extension RedisTargetConnector {
    func openSync(_ spec: OutputSpec, columns: [String], key: [String]) throws -> SyncSession {
        try RedisSyncSession(spec, columns: columns, key: key)
    }

    /// Deletes every key the template matches, then writes every row.
    func rebuild(_ spec: OutputSpec, rows: RowCursor, key: [String]) throws -> (path: String, rows: Int) {
        let conn = spec.connection ?? "redis://127.0.0.1:6379/0"
        let w = try RedisWriter(connection: conn, credentials: spec.credentials, options: spec.options, location: spec.location)
        defer { w.close() }
        try w.deleteAll()
        let n = try w.upsert(columns: rows.columns) { try rows.next() }
        let k = spec.options["key"].flatMap(RedisOptions.string) ?? ""
        return (Secrets.redact(conn) + (k.isEmpty ? "" : "?key=\(k)"), n)
    }
}
