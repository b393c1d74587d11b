import Foundation

/// What a sync output writes, as a relation of the warehouse: the rows, their key, and how to
/// find one row again (its rowid, or the `__order` column of the integrated view).
struct SyncDataset {
    var table: String
    var columns: [String]
    /// The key columns, spelled as in `columns`.
    var key: [String]
    /// Storage class of each key column's values ("integer", "real", "text"), to type the keys of
    /// deleted rows (which the warehouse no longer has) as the target stored them.
    var keyKinds: [String]
    /// `rowid`, or `"__order"` for a view.
    var rid: String
    /// Whether the key is unique and never NULL by construction (golden ids, xref's primary key).
    var keyTrusted: Bool
    /// SQL that is true when the rows hold the key `s.key` (of `sync_rows s`) and can probe an index
    /// (golden ids, xref's primary key); nil: the deleted keys are found with `NOT IN`.
    var probe: String? = nil
    /// The entity whose golden table the rows are, keyed by golden id (the golden view): then a
    /// diff can be limited to the ids `golden_versions` says changed since a run.
    var goldenEntity: String? = nil

    /// SQL for the key's text over the relation's columns (qualified with `alias.` when given):
    /// the key columns as text, joined by U+001F; NULL when one is NULL.
    func keyExpr(_ alias: String = "") -> String {
        let p = alias.isEmpty ? "" : alias + "."
        return key.map { "CAST(\(p)\(sqlIdent($0)) AS TEXT)" }.joined(separator: " || char(31) || ")
    }

    func columnList(_ alias: String = "") -> String {
        let p = alias.isEmpty ? "" : alias + "."
        return columns.map { p + sqlIdent($0) }.joined(separator: ", ")
    }

    var keyIndexes: [Int] { key.map { k in columns.firstIndex(of: k)! } }

    /// The rows to publish for `out`, from the warehouse's current state (no run needed).
    static func resolve(_ out: OutputSpec, catalog: Catalog, db: SQLiteDatabase) throws -> SyncDataset {
        let (kind, _) = OutputNames.data(out, catalog)
        var table: String, columns: [String]
        if kind == "integrated" {
            guard catalog.integration != nil || catalog.entities.isEmpty else {
                throw AurumError(.output, "there are no integrated rows to write: the catalog has no 'integration' section",
                                 at: "\(out.location).data", hint: "write data: golden, or add an integration section")
            }
            guard try db.tableExists(KeyIntegrator.table) else {
                throw AurumError(.output, "the warehouse has no integrated rows yet", at: out.location,
                                 hint: "run the catalog first: aurum run CATALOG")
            }
            table = KeyIntegrator.table
            columns = try db.columns(of: table).filter { !$0.hasPrefix("__rid_") && $0 != KeyIntegrator.order }
        } else {
            if kind == "golden", let e = OutputNames.data(out, catalog).entity, !(try db.tableExists("golden_\(e)")) {
                throw AurumError(.output, "the warehouse has no golden records of '\(e)' yet", at: out.location,
                                 hint: "run the catalog first: aurum run CATALOG")
            }
            (table, columns) = try golden(out, catalog: catalog, db: db) ?? Pipeline.dataset(for: out, catalog: catalog, integration: nil, db: db)
        }
        var key: [String] = []
        for k in out.key {
            guard let c = columns.first(where: { $0 == k }) ?? columns.first(where: { $0.lowercased() == k.lowercased() }) else {
                throw AurumError(.output, "key column '\(k)' is not a column of what the output writes", at: "\(out.location).key",
                                 hint: suggestion(k, columns).map { "did you mean '\($0)'?" } ?? "columns: \(columns.joined(separator: ", "))")
            }
            key.append(c)
        }
        guard !key.isEmpty else {
            throw AurumError(.output, "the output has no key", at: "\(out.location).key", hint: "name the column(s) that identify a row: key: [id]")
        }
        let rid = try db.isView(table) ? sqlIdent(KeyIntegrator.order) : "rowid"
        var kinds: [String] = []
        for k in key {
            kinds.append(try db.scalar("SELECT typeof(\(sqlIdent(k))) FROM \(sqlIdent(table)) WHERE \(sqlIdent(k)) IS NOT NULL LIMIT 1")?.textValue ?? "text")
        }
        let trusted = (kind == "golden" && key == ["golden_id"]) || (kind == "xref" && key == ["source", "source_key"])
        var probe: String? = nil
        var goldenEntity: String? = nil
        if trusted, let e = OutputNames.data(out, catalog).entity {
            if kind == "golden" {
                if table == "aurum_sync_golden_\(e)" { goldenEntity = e }
                probe = "EXISTS (SELECT 1 FROM \(sqlIdent("golden_\(e)")) g WHERE g.golden_id = CAST(s.key AS INTEGER))"
            } else {
                let lit = "'" + e.replacingOccurrences(of: "'", with: "''") + "'"
                probe = "EXISTS (SELECT 1 FROM xref x WHERE x.entity = \(lit) AND x.source = substr(s.key, 1, instr(s.key, char(31)) - 1) AND x.source_key = substr(s.key, instr(s.key, char(31)) + 1))"
            }
        }
        return SyncDataset(table: table, columns: columns, key: key, keyKinds: kinds, rid: rid, keyTrusted: trusted, probe: probe,
                          goldenEntity: goldenEntity)
    }

    /// Golden records as a temporary view over the golden table (no copy of a million rows, and
    /// rows found again by their golden id): the columns `Pipeline.dataset` writes, in its order.
    static func golden(_ out: OutputSpec, catalog: Catalog, db: SQLiteDatabase) throws -> (String, [String])? {
        let (kind, entityName) = OutputNames.data(out, catalog)
        guard kind == "golden", let e = catalog.entities.first(where: { $0.name == entityName }) else { return nil }
        let view = "aurum_sync_golden_\(e.name)"
        let attrs = e.attributes.map { sqlIdent($0.name) }.joined(separator: ", ")
        try db.execute("DROP VIEW IF EXISTS temp.\(sqlIdent(view))")
        try db.execute("CREATE TEMP VIEW \(sqlIdent(view)) AS SELECT golden_id, \(attrs), __records AS record_count, __sources AS sources, golden_id AS \(sqlIdent(KeyIntegrator.order)) FROM \(sqlIdent("golden_\(e.name)"))")
        return (view, ["golden_id"] + e.attributes.map(\.name) + ["record_count", "sources"])
    }

    /// Refuses keys that do not identify one row: NULL keys, or keys several rows share.
    func checkKey(_ db: SQLiteDatabase, _ out: OutputSpec) throws {
        guard !keyTrusted else { return }
        let k = keyExpr()
        let nulls = Int(try db.scalar("SELECT count(*) FROM \(sqlIdent(table)) WHERE (\(k)) IS NULL")?.doubleValue ?? 0)
        if nulls > 0 {
            throw AurumError(.output, "\(nulls) row(s) have a NULL key (\(key.joined(separator: ", ")))", at: "\(out.location).key",
                             hint: "sync needs a key that every row has")
        }
        let dups = try db.query("SELECT \(k), count(*) FROM \(sqlIdent(table)) GROUP BY 1 HAVING count(*) > 1 ORDER BY 2 DESC, 1 LIMIT 3")
        if !dups.isEmpty {
            let total = Int(try db.scalar("SELECT count(*) FROM (SELECT 1 FROM \(sqlIdent(table)) GROUP BY \(k) HAVING count(*) > 1)")?.doubleValue ?? 0)
            let shown = dups.map { "\(SyncKey.display($0[0].textValue ?? "")) (\($0[1].textValue ?? "?") rows)" }.joined(separator: ", ")
            throw AurumError(.output, "the key (\(key.joined(separator: ", "))) is not unique: \(total) key(s) are shared by several rows, e.g. \(shown)",
                             at: "\(out.location).key", hint: "choose key columns that identify one row")
        }
    }

    /// Key values of a key's text, typed as the dataset stores them.
    func keyValues(_ text: String) -> [Value] {
        let parts = key.count == 1 ? [text] : text.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
        return parts.enumerated().map { i, p in
            switch i < keyKinds.count ? keyKinds[i] : "text" {
            case "integer": return Int64(p).map(Value.integer) ?? .text(p)
            case "real": return Double(p).map(Value.real) ?? .text(p)
            default: return .text(p)
            }
        }
    }
}

/// Keys as people read them.
enum SyncKey {
    /// `crm\u{1F}C1` → `crm:C1`.
    static func display(_ key: String) -> String { key.replacingOccurrences(of: "\u{1F}", with: ":") }

    /// Text order, except that two integers compare as numbers (golden id 9 before 10).
    static func less(_ a: String, _ b: String) -> Bool {
        if let x = Int64(a), let y = Int64(b) { return x < y }
        return a < b
    }

    /// The key text of a row read back (values aligned with `columns`).
    static func text(_ row: [Value], _ indexes: [Int]) -> String? {
        var parts: [String] = []
        for i in indexes {
            guard i < row.count, let t = row[i].textValue else { return nil }
            parts.append(t)
        }
        return parts.joined(separator: "\u{1F}")
    }
}
