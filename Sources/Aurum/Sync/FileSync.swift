import Foundation

/// Sync of file outputs: a single file is rewritten whole (when anything changed); a partitioned
/// output rewrites only the partitions that hold a changed row, before or after the change (a
/// row whose partition column changed touches both), each written to a temporary name and moved
/// over the old file. A partition left empty is removed.
struct FileSync {
    let db: SQLiteDatabase
    let out: OutputSpec
    let ds: SyncDataset

    /// The formats written through the publisher's file writers (built-in, or a file-format connector).
    static func handles(_ f: OutputFormat) -> Bool {
        if [.csv, .tsv, .json, .ndjson].contains(f) { return true }
        return ConnectorRegistry.shared.target(f) is FileFormatConnector
    }

    /// SQL for a row's partition path (its directory segments joined by `/`), or `NULL`.
    static func partExpr(_ out: OutputSpec, _ ds: SyncDataset, alias: String) -> String {
        guard let p = out.partition, handles(out.format),
              let col = ds.columns.first(where: { $0.lowercased() == p.column.lowercased() }) else { return "NULL" }
        let lit = { (s: String) in "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
        return "aurum_partition_path(\(alias.isEmpty ? "" : alias + ".")\(sqlIdent(col)), \(lit(p.type.rawValue)), \(p.buckets), \(lit(p.column)))"
    }

    func apply() throws {
        let publisher = OutputPublisher(db: db, table: ds.table, columns: ds.columns)
        guard let part = out.partition else {
            _ = try publisher.publish(out)
            return
        }
        guard ds.columns.contains(where: { $0.lowercased() == part.column.lowercased() }) else {
            _ = try publisher.publish(out)   // reports the unknown partition column
            return
        }
        let expr = Self.partExpr(out, ds, alias: "t")
        try db.execute("DROP TABLE IF EXISTS temp.aurum_sync_parts; CREATE TEMP TABLE aurum_sync_parts (part TEXT PRIMARY KEY)")
        defer { try? db.execute("DROP TABLE IF EXISTS temp.aurum_sync_parts") }
        try db.run("""
            INSERT OR IGNORE INTO temp.aurum_sync_parts SELECT s.part FROM \(Syncer.diffTable) d
            JOIN sync_rows s ON s.target = ? AND s.key = d.key WHERE d.kind >= 1 AND s.part IS NOT NULL
            """, [.text(out.name)])
        try db.execute("""
            INSERT OR IGNORE INTO temp.aurum_sync_parts SELECT \(expr) FROM \(Syncer.diffTable) d
            JOIN \(sqlIdent(ds.table)) t ON t.\(ds.rid) = d.rid WHERE d.kind < 2
            """)
        var affected = Set(try db.query("SELECT part FROM temp.aurum_sync_parts").compactMap { $0[0].textValue })
        let dest = out.path.hasSuffix("/") ? String(out.path.dropLast()) : out.path
        let fileFormat = ConnectorRegistry.shared.target(out.format) as? FileFormatConnector
        let name = "part-00000.\(out.format.fileExtension)"
        var cachedProfile: [OutputColumn]? = nil
        let profile = { () throws -> [OutputColumn] in
            if let p = cachedProfile { return p }
            let p = try publisher.columnProfile()
            cachedProfile = p
            return p
        }
        let st = try db.prepare("""
            SELECT \(expr), \(ds.columnList("t")) FROM \(sqlIdent(ds.table)) t
            WHERE \(expr) IN (SELECT part FROM temp.aurum_sync_parts) ORDER BY 1, t.\(ds.rid)
            """)
        var current: String? = nil
        var writer: RowFileWriter? = nil
        var tmp = "", final = ""
        let fm = FileManager.default
        func finish() throws {
            guard let w = writer else { return }
            try w.close()
            writer = nil
            if rename(tmp, final) != 0 {
                throw AurumError(.output, "cannot move the partition file into place: \(String(cString: strerror(errno)))", at: final)
            }
            FaultPoints.hit("sync.partition-written")
        }
        do {
            while try st.step() {
                let p = st.column(0).textValue ?? ""
                if p != current {
                    try finish()
                    let dir = try PartitionPath.directory(root: dest, p.split(separator: "/").map(String.init))
                    try publisher.createDirectory(dir)
                    final = dir + "/" + name
                    tmp = final + ".aurum-tmp-\(getpid())"
                    OutputPublisher.removeLeftovers(of: final)
                    writer = try publisher.makeWriter(out.format, tmp, fileFormat, out, profile)
                    current = p
                    affected.remove(p)
                }
                try writer!.write((1...ds.columns.count).map(st.column))
            }
            try finish()
        } catch {
            try? writer?.close()
            if !tmp.isEmpty { try? fm.removeItem(atPath: tmp) }
            throw error
        }
        // Partitions that no longer hold a row.
        for p in affected {
            let dir = try PartitionPath.directory(root: dest, p.split(separator: "/").map(String.init))
            try? fm.removeItem(atPath: dir + "/" + name)
            var d = dir
            while d.count > dest.count, (try? fm.contentsOfDirectory(atPath: d))?.isEmpty == true {
                try? fm.removeItem(atPath: d)
                d = (d as NSString).deletingLastPathComponent
            }
        }
    }
}

/// Sync into a SQLite table: each batch one transaction (deletes by key, then `INSERT OR REPLACE`
/// over a unique index on the key, created when missing). Creates the table when absent.
final class SQLiteSyncSession: SyncSession {
    let target: SQLiteDatabase
    let out: OutputSpec
    let table: String
    let columns: [String]
    let key: [String]

    init(_ out: OutputSpec, columns: [String], key: [String]) throws {
        self.out = out
        table = out.table ?? "integrated"
        self.columns = columns
        self.key = key
        do { target = try SQLiteDatabase(path: out.path) } catch { throw AurumError(.output, "\(error)", at: out.path) }
    }

    func close() { target.close() }

    static func indexName(_ table: String) -> String { table + "__aurum_key" }

    static func ensureKeyIndex(_ out: OutputSpec, _ key: [String]) throws {
        let db: SQLiteDatabase
        do { db = try SQLiteDatabase(path: out.path) } catch { throw AurumError(.output, "\(error)", at: out.path) }
        defer { db.close() }
        try ensureKeyIndex(db, out, out.table ?? "integrated", key)
    }

    static func ensureKeyIndex(_ db: SQLiteDatabase, _ out: OutputSpec, _ table: String, _ key: [String]) throws {
        do {
            try db.execute("CREATE UNIQUE INDEX IF NOT EXISTS \(sqlIdent(indexName(table))) ON \(sqlIdent(table)) (\(key.map(sqlIdent).joined(separator: ", ")))")
        } catch {
            throw AurumError(.output, "cannot index table \(table) by its key (\(key.joined(separator: ", "))): \(error)", at: out.path,
                             hint: "the table holds rows with the same key; rebuild it with aurum sync --full")
        }
    }

    func apply(upserts: [[Value]], deletes: [[Value]]) throws {
        do {
            try target.transaction {
                if !(try target.tableExists(table)) {
                    guard !upserts.isEmpty else { return }
                    let decls = columns.enumerated().map { i, c -> String in
                        var kinds = Set<String>()
                        for r in upserts where i < r.count {
                            switch r[i] {
                            case .integer: kinds.insert("integer")
                            case .real: kinds.insert("real")
                            case .text: kinds.insert("text")
                            case .blob: kinds.insert("blob")
                            case .null: break
                            }
                        }
                        let t = kinds == ["integer"] ? " INTEGER" : (kinds == ["real"] || kinds == ["integer", "real"]) ? " REAL" : kinds == ["text"] ? " TEXT" : ""
                        return sqlIdent(c) + t
                    }
                    try target.execute("CREATE TABLE \(sqlIdent(table)) (\(decls.joined(separator: ", ")))")
                }
                try Self.ensureKeyIndex(target, out, table, key)
                if !deletes.isEmpty {
                    let del = try target.prepare("DELETE FROM \(sqlIdent(table)) WHERE \(key.map { "\(sqlIdent($0)) = ?" }.joined(separator: " AND "))")
                    for k in deletes {
                        try del.bind(k)
                        try del.step()
                        del.reset()
                    }
                }
                if !upserts.isEmpty {
                    let ins = try target.prepare("INSERT OR REPLACE INTO \(sqlIdent(table)) (\(columns.map(sqlIdent).joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))")
                    for r in upserts {
                        try ins.bind(r)
                        try ins.step()
                        ins.reset()
                    }
                }
            }
        } catch let e as AurumError {
            throw e
        } catch {
            throw AurumError(.output, "\(error)", at: "\(out.path) (table \(table))")
        }
    }
}
