import Foundation
import Aurum

/// Sync into a PostgreSQL table: each batch is one transaction — the rows by COPY into a temporary
/// table, then `INSERT … ON CONFLICT (key) DO UPDATE`, and the deleted keys by COPY, then
/// `DELETE … USING`. The table is created (with a unique index on the key) when absent; an
/// existing one gets that index when it lacks it.
final class PostgresSyncSession: SyncSession {
    let table: PostgresTable
    let columns: [String]
    private var layout: PostgresTable.Layout?

    init(_ spec: OutputSpec, columns: [String], key: [String]) throws {
        guard let name = spec.table, !name.isEmpty else { throw AurumError(.output, "a postgresql output needs a table", at: spec.location) }
        table = try PostgresTable(connection: spec.connection ?? "", credentials: spec.credentials, table: name, key: key)
        self.columns = columns
    }

    func close() { table.close() }

    func apply(upserts: [[Value]], deletes: [[Value]]) throws {
        let c = table.connection
        try c.transaction {
            if layout == nil {
                if try table.existingColumns() == nil && upserts.isEmpty { return }   // nothing there to delete
                layout = try table.prepare(columns: columns, first: upserts)
                try table.createKeyIndex()
            }
            let names = layout!.names
            let cols = names.map(c.quoteIdentifier)
            let keys = table.key.map { k in c.quoteIdentifier(names[columns.firstIndex(of: k)!]) }
            let qname = c.quoteName(table.table)
            if !upserts.isEmpty {
                try c.execute("""
                    CREATE TEMP TABLE aurum_stage ON COMMIT DROP AS SELECT \(cols.joined(separator: ", ")) FROM \(qname) WITH NO DATA
                    """, object: "table \(table.table)")
                try table.copy(into: "aurum_stage", columns: names, rows: upserts)
                let nonKey = cols.filter { !keys.contains($0) }
                let action = nonKey.isEmpty ? "DO NOTHING" : "DO UPDATE SET " + nonKey.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
                try c.execute("""
                    INSERT INTO \(qname) (\(cols.joined(separator: ", "))) SELECT \(cols.joined(separator: ", ")) FROM aurum_stage
                    ON CONFLICT (\(keys.joined(separator: ", "))) \(action)
                    """, object: "table \(table.table)")
            }
            if !deletes.isEmpty {
                let keyNames = table.key.map { names[columns.firstIndex(of: $0)!] }
                try c.execute("CREATE TEMP TABLE aurum_keys ON COMMIT DROP AS SELECT \(keys.joined(separator: ", ")) FROM \(qname) WITH NO DATA",
                              object: "table \(table.table)")
                try table.copy(into: "aurum_keys", columns: keyNames, rows: deletes)
                try c.execute("ANALYZE aurum_keys", object: "table \(table.table)")
                let cond = keys.map { "t.\($0) = k.\($0)" }.joined(separator: " AND ")
                try c.execute("DELETE FROM \(qname) AS t USING aurum_keys AS k WHERE \(cond)", object: "table \(table.table)")
            }
        }
    }
}

extension PostgresTarget {
    public func openSync(_ spec: OutputSpec, columns: [String], key: [String]) throws -> SyncSession {
        try PostgresSyncSession(spec, columns: columns, key: key)
    }

    /// Replaces the table's contents in one transaction (TRUNCATE and COPY), with a unique index on the key.
    public func rebuild(_ spec: OutputSpec, rows: RowCursor, key: [String]) throws -> (path: String, rows: Int) {
        guard let name = spec.table, !name.isEmpty else { throw AurumError(.output, "a postgresql output needs a table", at: spec.location) }
        var batch = 10_000
        if case .int(let n)? = spec.options["batch_size"], n > 0 { batch = Int(n) }
        let t = try PostgresTable(connection: spec.connection ?? "", credentials: spec.credentials, table: name, key: key)
        defer { t.close() }
        let n = try t.replace(rows, batchSize: batch)
        try t.createKeyIndex()
        return (t.location, n)
    }
}
