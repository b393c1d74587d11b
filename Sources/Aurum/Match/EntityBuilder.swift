import Foundation

/// Builds an entity's record table `ent_<entity>` from the prepared sources: each source's mapping
/// expressions, then the attribute's standardisers, all evaluated by SQLite in one INSERT … SELECT
/// per source. The table is the record of what matching compared.
struct EntityBuilder {
    let db: SQLiteDatabase
    let entity: EntitySpec
    let prepared: [PreparedSource]

    static func table(_ entity: String) -> String { "ent_\(entity)" }

    /// The column of `ent_<entity>` holding each record's staged row id (`__rid`, stable by key
    /// across snapshots): its place in a full run's record order within its source.
    static let ridColumn = "source_rid"

    /// What the build noticed (attributes a source cannot feed, values that did not parse).
    struct Notes {
        var messages: [String] = []
    }

    func build(notes: inout Notes) throws -> EntityRecords {
        let table = Self.table(entity.name)
        let attrs = entity.attributes
        let (sourceNames, selects) = try sourceSelects(notes: &notes, only: nil)
        try db.execute("DROP TABLE IF EXISTS \(sqlIdent(table))")
        let cols = attrs.map { "\(sqlIdent($0.name))" }.joined(separator: ", ")
        try db.execute("CREATE TABLE \(sqlIdent(table)) (rec_id INTEGER PRIMARY KEY, source TEXT NOT NULL, source_key TEXT NOT NULL, \(Self.ridColumn) INTEGER, \(cols))")
        try insert(selects)
        try db.execute("CREATE INDEX \(sqlIdent(table + "_by_key")) ON \(sqlIdent(table)) (source, source_key)")
        try clearUnreadable(above: 0, notes: &notes)
        return try load(sources: sourceNames)
    }

    /// Inserts the records of the source keys listed in `keys` (a table of (source, key)) from the
    /// prepared sources, as `build` does; returns the rec_id above which they were inserted.
    /// `changes`: the runs (after, through] whose change sets hold the keys.
    func insertChanged(keys: String, changes: (after: Int64, through: Int64), notes: inout Notes) throws -> Int64 {
        let (_, selects) = try sourceSelects(notes: &notes, only: keys, changes: changes)
        let above = Int64(try db.scalar("SELECT coalesce(max(rec_id), 0) FROM \(sqlIdent(Self.table(entity.name)))")?.doubleValue ?? 0)
        try insert(selects)
        try clearUnreadable(above: above, notes: &notes)
        return above
    }

    func insert(_ selects: [(String, String)]) throws {
        let table = Self.table(entity.name)
        let cols = entity.attributes.map { "\(sqlIdent($0.name))" }.joined(separator: ", ")
        for (name, sel) in selects {
            do {
                try db.run("INSERT INTO \(sqlIdent(table)) (source, source_key, \(Self.ridColumn), \(cols)) SELECT ?, \(sel.dropFirst("SELECT ".count))",
                           [.text(name)])
            } catch let e as AurumError {
                throw e
            } catch {
                throw AurumError(.expression, "building the records of entity '\(entity.name)' from source '\(name)' failed: \(error)",
                                 at: "\(entity.location).sources.\(name)")
            }
        }
    }

    /// Values a typed attribute could not read are missing for matching; says how many.
    func clearUnreadable(above: Int64, notes: inout Notes) throws {
        let table = Self.table(entity.name)
        for a in entity.attributes where a.type != .text {
            let bad = try db.scalar("SELECT count(*) FROM \(sqlIdent(table)) WHERE rec_id > ? AND \(sqlIdent(a.name)) = ''", [.integer(above)])?.doubleValue ?? 0
            if bad > 0 {
                notes.messages.append("entity \(entity.name): \(Int(bad)) value(s) of attribute '\(a.name)' are not \(a.type == .date ? "dates" : "numbers") and count as missing")
                try db.run("UPDATE \(sqlIdent(table)) SET \(sqlIdent(a.name)) = NULL WHERE rec_id > ? AND \(sqlIdent(a.name)) = ''", [.integer(above)])
            }
        }
    }

    /// Per source feeding the entity: the SELECT of its records' standardised attributes, in
    /// snapshot order; with `only`, of the keys that table lists for the source.
    func sourceSelects(notes: inout Notes, only: String?, changes: (after: Int64, through: Int64)? = nil) throws -> ([String], [(String, String)]) {
        let attrs = entity.attributes
        var sourceNames: [String] = []
        var selects: [(String, String)] = []
        for mapping in entity.sources {
            let path = "\(entity.location).sources.\(mapping.source)"
            guard let p = prepared.first(where: { $0.name == mapping.source }) else {
                throw AurumError(.invalidCatalog, "unknown source '\(mapping.source)'", at: path,
                                 hint: suggestion(mapping.source, prepared.map(\.name)).map { "did you mean '\($0)'?" })
            }
            let staged = try db.scalar("SELECT staged_table FROM sources WHERE name = ?", [.text(p.name)])?.textValue
                ?? "src_\(p.name)"
            var list = ["\"__aurum_source_key\"", sqlIdent(StagedColumns.rid)]
            for a in attrs {
                var expr: String
                if let e = mapping.expressions[a.name] {
                    // A plain column must exist (SQLite would read an unknown "name" as a string).
                    if e.hasPrefix("\""), e.hasSuffix("\""), e.count >= 2 {
                        let name = String(e.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")
                        if !p.columns.contains(name) {
                            throw AurumError(.expression, "attribute '\(a.name)': unknown column '\(name)'", at: "\(path).\(a.name)",
                                             hint: suggestion(name, p.columns).map { "did you mean '\($0)'?" } ?? "columns: \(p.columns.prefix(30).joined(separator: ", "))")
                        }
                    }
                    do {
                        _ = try ExpressionChecker.check(e, columns: p.columns, db: db)
                    } catch {
                        let (msg, hint) = ExpressionChecker.explain(error, columns: p.columns)
                        throw AurumError(.expression, "attribute '\(a.name)': \(msg)", at: "\(path).\(a.name)", hint: hint)
                    }
                    expr = "(\(e))"
                } else if let c = p.columns.first(where: { $0.lowercased() == a.name.lowercased() }) {
                    expr = sqlIdent(c)
                } else {
                    notes.messages.append("entity \(entity.name): source '\(p.name)' has no value for attribute '\(a.name)' (map it under \(path))")
                    expr = "NULL"
                }
                list.append(try standardised(expr, a, at: "\(entity.location).attributes.\(a.name)"))
            }
            sourceNames.append(p.name)
            let rid = sqlIdent(StagedColumns.rid)
            let projection = "SELECT w.*, coalesce(s.\(sqlIdent(StagedColumns.key)), CAST(s.\(rid) AS TEXT)) AS \"__aurum_source_key\""
            var joined = "\(projection) FROM \(sqlIdent(p.table)) AS w JOIN \(sqlIdent(staged)) AS s ON s.\(rid) = w.\(rid)"
            if let only {
                let lit = "'" + p.name.replacingOccurrences(of: "'", with: "''") + "'"
                let inKeys = "s.\(sqlIdent(StagedColumns.key)) IN (SELECT key FROM \(only) WHERE source = \(lit))"
                if let changes, try byRowIds(p, changes) {
                    // The changed keys' rows by their row ids (each insert and update recorded its
                    // row's), through the snapshot's and the work table's rowid (= __rid), instead
                    // of scanning the work table and looking each row's key up.
                    joined = "\(projection) FROM \(sqlIdent(staged)) AS s JOIN \(sqlIdent(p.table)) AS w ON w.rowid = s.\(rid)"
                        + " WHERE s.\(rid) IN (SELECT rid FROM change_sets WHERE source = \(lit) AND run_id > \(changes.after) AND run_id <= \(changes.through) AND rid IS NOT NULL) AND \(inKeys)"
                } else {
                    joined += " WHERE \(inKeys)"
                }
            }
            selects.append((p.name, "SELECT \(list.joined(separator: ", ")) FROM (\(joined)) ORDER BY \(rid)"))
        }
        if selects.isEmpty {
            throw AurumError(.invalidCatalog, "entity '\(entity.name)' is fed by no source", at: "\(entity.location).sources",
                             hint: "map at least one source's columns to the attributes")
        }
        return (sourceNames, selects)
    }

    /// Whether the current rows of a source's changed keys are the rows its change sets in
    /// `changes` name: the work table is a table (rowid = __rid) its transform updated by key this
    /// run (so no key names two rows), and every one of those change sets recorded its row ids.
    func byRowIds(_ p: PreparedSource, _ changes: (after: Int64, through: Int64)) throws -> Bool {
        guard p.path == "incremental", try !db.isView(p.table) else { return false }
        let missing = try db.scalar("SELECT count(*) FROM change_sets WHERE source = ? AND run_id > ? AND run_id <= ? AND rid IS NULL",
                                    [.text(p.name), .integer(changes.after), .integer(changes.through)])?.doubleValue ?? 1
        return missing == 0
    }

    /// The attribute's standardisers around `expr`, then its type; empty text becomes NULL.
    /// A typed value that does not parse becomes '' (counted, then NULL).
    func standardised(_ expr: String, _ a: AttributeSpec, at path: String) throws -> String {
        var x = expr
        for s in a.standardize {
            switch s {
            case .trim: x = "trim(\(x))"
            case .lower: x = "unicode_lower(\(x))"
            case .upper: x = "unicode_upper(\(x))"
            case .foldAccents: x = "strip_accents(\(x))"
            case .punctuation: x = "strip_punctuation(\(x))"
            case .digits: x = "digits_only(\(x))"
            case .nickname: x = "canonical_given_name(\(x))"
            case .email: x = "coalesce(normalize_email(\(x)), unicode_lower(trim(\(x))))"
            case .phone: x = "coalesce(normalize_phone(\(x)), nullif(digits_only(\(x)), ''))"
            case .postcode: x = "coalesce(normalize_postcode(\(x)), unicode_upper(replace(trim(\(x)), ' ', '')))"
            case .date(let formats):
                let f = formats.map { ", '\($0.replacingOccurrences(of: "'", with: "''"))'" }.joined()
                x = "substr(parse_date(\(x)\(f)), 1, 10)"
            case .sql(let e):
                do {
                    _ = try ExpressionChecker.check(e, columns: ["value"], db: db)
                } catch {
                    let (msg, hint) = ExpressionChecker.explain(error, columns: ["value"])
                    throw AurumError(.expression, "standardiser: \(msg)", at: "\(path).standardize", hint: hint)
                }
                x = "(SELECT (\(e)) FROM (SELECT \(x) AS value))"
            }
        }
        let v = "nullif(\(x), '')"
        switch a.type {
        case .text: return v
        case .date:
            // Already parsed by the date standardiser (added by the loader): a NULL from a non-NULL input did not parse.
            return "CASE WHEN \(expr) IS NULL OR trim(\(expr)) = '' THEN NULL ELSE coalesce(\(v), '') END"
        case .number:
            return "CASE WHEN \(v) IS NULL THEN NULL WHEN typeof(\(v)) IN ('integer', 'real') THEN \(v) WHEN aurum_numkind(trim(\(v))) IN (1, 2) THEN CAST(trim(\(v)) AS REAL) ELSE '' END"
        }
    }

    /// Reads the record table back, column by column.
    func load(sources: [String]) throws -> EntityRecords {
        let table = Self.table(entity.name)
        var records = EntityRecords(entity: entity.name, attributes: entity.attributes.map(\.name), sources: sources)
        let index = Dictionary(uniqueKeysWithValues: sources.enumerated().map { ($1, Int32($0)) })
        let n = Int(try db.scalar("SELECT count(*) FROM \(sqlIdent(table))")?.doubleValue ?? 0)
        records.source.reserveCapacity(n)
        records.sourceKey.reserveCapacity(n)
        for a in records.values.indices { records.values[a].reserveCapacity(n) }
        let st = try db.prepare("SELECT source, source_key, \(entity.attributes.map { sqlIdent($0.name) }.joined(separator: ", ")) FROM \(sqlIdent(table)) ORDER BY rec_id")
        var lastSource = ""
        var lastIndex: Int32 = 0
        while try st.step() {
            let s = st.column(0).textValue ?? ""
            if s != lastSource { lastSource = s; lastIndex = index[s] ?? 0 }
            records.source.append(lastIndex)
            records.sourceKey.append(st.column(1).textValue ?? "")
            for a in 0..<entity.attributes.count { records.values[a].append(st.column(a + 2)) }
        }
        return records
    }
}
