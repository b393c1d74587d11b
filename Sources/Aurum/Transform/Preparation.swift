import Foundation

/// Where an output column's values come from: source columns and the rules that touched them.
public struct ColumnOrigin: Sendable, Equatable {
    public var sources: [String]   // "source.column", in first-seen order
    public var via: [String]       // rule names and integration steps, in order

    mutating func merge(_ o: ColumnOrigin) {
        for s in o.sources where !sources.contains(s) { sources.append(s) }
        for v in o.via where !via.contains(v) { via.append(v) }
    }
}

/// One source after transformation and quality checks: the work table `w_<source>`.
struct PreparedSource {
    var name: String
    var table: String
    var columns: [String]
    var origins: [String: ColumnOrigin]
    var rowsIn: Int
    var rows: Int
    var counts = PreparationCounts()
    /// 'full' (rebuilt from the whole snapshot), 'incremental' (only the rows of changed keys
    /// deleted and re-evaluated) or 'view' (`w_` is a view: nothing stored).
    var path = "full"
    /// Why the full path ran (nil on the incremental path).
    var pathReason: String? = nil
    /// The staged rows this run's rules and checks evaluated: all of them on the full path, the
    /// rows of changed keys on the incremental one (the counts are of these rows only).
    var rowsChecked = 0
    /// Rows an earlier run's checks quarantined that did not change: quarantined again in this
    /// run without being re-checked (`quarantine.checked_run` is the earlier run).
    var quarantineCarried = 0

    var json: JSON {
        var f: [(String, JSON)] = [("source", .string(name)), ("table", .string(table)), ("path", .string(path))]
        if let pathReason { f.append(("path_reason", .string(pathReason))) }
        f.append(("checked", .string(path == "incremental" ? "changed rows only" : "all rows")))
        f.append(("rows_checked", .int(Int64(rowsChecked))))
        f.append(("rows", .int(Int64(rows))))
        f.append(("quarantine_carried", .int(Int64(quarantineCarried))))
        return .object(f)
    }
}

struct PreparationCounts {
    var nullsHandled = 0
    var nullRowsRejected = 0
    var formatResolved = 0
    var formatFlagged = 0
    var duplicatesRemoved = 0
    var businessRuleFailures = 0
    var transformApplications = 0
    var transformFailures = 0
}

/// What the last transform of a source left for the next one (`prep_state`, migrations/0009).
struct PrepState {
    var run: Int64
    var configHash: String
    var path: String
    var rows: Int

    static func load(_ source: String, db: SQLiteDatabase) throws -> PrepState? {
        guard let r = try db.query("SELECT run_id, config_hash, path, rows FROM prep_state WHERE source = ?", [.text(source)]).first,
              case .integer(let run) = r[0] else { return nil }
        return PrepState(run: run, configHash: r[1].textValue ?? "", path: r[2].textValue ?? "", rows: Int(r[3].doubleValue ?? 0))
    }

    func save(_ source: String, db: SQLiteDatabase) throws {
        try db.run("INSERT OR REPLACE INTO prep_state(source, run_id, config_hash, path, rows) VALUES (?, ?, ?, ?, ?)",
                   [.text(source), .integer(run), .text(configHash), .text(path), .integer(Int64(rows))])
    }
}

/// Builds `w_<source>` from `src_<source>`: null tokens, mapping/calculation/formatting rules,
/// format normalisers, null policies, validation (business) rules and duplicate removal.
///
/// The rules become one chain of nested SELECTs (one layer per rule) that SQLite flattens and
/// evaluates in a single pass over the staged rows. The work table's rowid is the staged row id
/// (`__rid`, stable by key across snapshots), so that when the snapshot of a keyed source has a
/// change set and nothing that shapes `w_` changed (`prep_state.config_hash`), only the rows of the
/// changed keys are deleted and evaluated again (the incremental path), inside the step's
/// transaction like the full rebuild.
struct Preparer {
    let db: SQLiteDatabase
    let catalog: Catalog
    let run: Int64
    /// `aurum run --full`: rebuild whole even when the incremental path could run.
    var full = false
    /// Staged rows to evaluate again besides the changed keys' (a quarantine replay's rows).
    var recheck: Set<Int64> = []
    /// Forces the full path with this reason (a replay of rows quarantined without a row id).
    var forceFull: String? = nil

    private struct Layer {
        var columns: [String]          // data columns visible at this layer
        var hidden: [String] = []      // flag columns carried along (__t*, __v*, __f_*)
        var sql: String
    }

    /// A rule as it applies to one source, with the columns it reads.
    struct AppliedRule {
        var rule: RuleSpec
        var index: Int
        var reads: [String]
    }

    /// Where layer 0 reads the snapshot: replaced by nothing (every row) or by the incremental
    /// path's row filter. It is the last thing in the layered SQL (only closing parentheses follow).
    private static let scopeMarker = " /*aurum:scope*/"
    static let ridsTable = "temp.aurum_prep_rids"

    func prepare(_ snap: SnapshotResult, source: SourceSpec) throws -> PreparedSource {
        let q = catalog.quality
        let src = snap.table
        let table = "w_" + source.name
        var origins: [String: ColumnOrigin] = [:]
        for c in snap.columns { origins[c] = ColumnOrigin(sources: ["\(source.name).\(c)"], via: []) }
        var counts = PreparationCounts()

        // Layer 0: the staged columns; null tokens become NULL when the null check is on, and CSV
        // columns whose every value is a canonical number are typed as INTEGER or REAL.
        var cols = snap.columns
        var select = ["\(StagedColumns.rid)"]
        let tokens = q.nullTokens.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" }.joined(separator: ", ")
        func isToken(_ id: String) -> String { "(typeof(\(id)) = 'text' AND trim(\(id)) IN (\(tokens)))" }
        var kinds = Array(repeating: Int64(0), count: cols.count)
        if (source.type == .csv || source.type == .tsv) && !cols.isEmpty, let staged = snap.numberKinds, staged.count == cols.count,
           snap.numberKindTokens == (q.nulls ? q.nullTokens : nil) {
            kinds = staged  // typed while staging: the same answer as the scan below, without the pass
        } else if (source.type == .csv || source.type == .tsv) && !cols.isEmpty {
            let list = cols.map { c -> String in
                let id = sqlIdent(c)
                return q.nulls ? "min(CASE WHEN \(isToken(id)) THEN 3 ELSE aurum_numkind(\(id)) END)" : "min(aurum_numkind(\(id)))"
            }
            kinds = try db.query("SELECT \(list.joined(separator: ", ")) FROM \(sqlIdent(src))")[0].map {
                if case .integer(let k) = $0 { return k }
                return 3
            }
        }
        var sums: [String] = []
        for (i, c) in cols.enumerated() {
            let id = sqlIdent(c)
            var v = q.nulls ? "CASE WHEN \(isToken(id)) THEN NULL ELSE \(id) END" : id
            if q.nulls { sums.append("sum(\(isToken(id)))") }
            if kinds[i] == 2 || kinds[i] == 1 {
                let t = kinds[i] == 2 ? "INTEGER" : "REAL"
                v = "CASE WHEN typeof(\(id)) = 'text' AND \(id) <> '' THEN CAST(\(id) AS \(t)) ELSE \(v) END"
            }
            select.append(v == id ? id : "\(v) AS \(id)")
        }
        var layer = Layer(columns: cols, sql: "SELECT \(select.joined(separator: ", ")) FROM \(sqlIdent(src))\(Self.scopeMarker)")

        // Rules, in catalog order.
        var applied: [AppliedRule] = []
        for (i, rule) in catalog.rules.enumerated() {
            if let s = rule.source, s != source.name { continue }
            guard let a = try applicable(rule, index: i, columns: layer.columns, source: source) else { continue }
            applied.append(a)
            layer = apply(a, to: layer, origins: &origins)
        }
        cols = layer.columns

        // Format normalisers.
        var formatColumns: [(String, FormatKind)] = []
        if q.formats {
            for c in cols {
                if let k = q.formatColumns.first(where: { $0.key.lowercased() == c.lowercased() })?.value ?? (q.formatColumns.isEmpty ? QualityChecks.inferFormat(c) : nil) {
                    formatColumns.append((c, k))
                }
            }
            if !formatColumns.isEmpty {
                var list = [sqlIdent(StagedColumns.rid)] + layer.hidden.map(sqlIdent)
                for c in cols {
                    let id = sqlIdent(c)
                    if let (_, kind) = formatColumns.first(where: { $0.0 == c }) {
                        let n = QualityChecks.normaliser(kind, id)
                        list.append("coalesce(\(n), \(id)) AS \(id)")
                        list.append("CASE WHEN \(id) IS NULL THEN 0 WHEN \(n) IS NULL THEN 2 WHEN \(n) IS NOT \(id) THEN 1 ELSE 0 END AS \(sqlIdent("__f_" + c))")
                        origins[c]?.via.append("format_check:\(kind.rawValue)")
                    } else {
                        list.append(id)
                    }
                }
                layer = Layer(columns: cols, hidden: layer.hidden + formatColumns.map { "__f_" + $0.0 },
                              sql: "SELECT \(list.joined(separator: ", ")) FROM (\(layer.sql))")
            }
        }

        // Null policies: defaults fill, rejects are quarantined below.
        var rejectColumns: [String] = []
        if q.nulls {
            var list = [sqlIdent(StagedColumns.rid)] + layer.hidden.map(sqlIdent)
            var defaulted: [String] = []
            for c in cols {
                let id = sqlIdent(c)
                switch q.nullColumns.first(where: { $0.key.lowercased() == c.lowercased() })?.value ?? q.nullDefault {
                case .keep: list.append(id)
                case .reject: list.append(id); rejectColumns.append(c)
                case .defaultValue(let v):
                    list.append("coalesce(\(id), \(Self.literal(v))) AS \(id)")
                    list.append("(\(id) IS NULL) AS \(sqlIdent("__n_" + c))")
                    defaulted.append("__n_" + c)
                    origins[c]?.via.append("null_check:default")
                }
            }
            layer = Layer(columns: cols, hidden: layer.hidden + defaulted, sql: "SELECT \(list.joined(separator: ", ")) FROM (\(layer.sql))")
        }

        // Materialise, unless nothing below deletes rows from the work table and no join needs its
        // indexes: then a view does (SQLite evaluates the layers as the next stage reads them, and a
        // pass-through source is never copied).
        let dedupe = q.duplicates && !cols.isEmpty
        let validations = q.businessRules ? applied.filter { $0.rule.kind == .validation } : []
        let deletes = dedupe || !rejectColumns.isEmpty || !validations.isEmpty
        let asView = catalog.sources.count == 1 && !deletes

        // Everything that shapes the work table: the layered SQL (rules, formats, null tokens and
        // policies, columns, numeric kinds), the source, the catalog's rules and quality options
        // (quarantine reasons, duplicate removal), the function settings, the table kind.
        var located = source
        located.path = ""   // where the file is does not shape the table (its rows come through the change set)
        let hashText = [layer.sql, MatchState.canonical(located), MatchState.canonical(catalog.rules), MatchState.canonical(q),
                        MatchState.canonical(catalog.functions), asView ? "view" : "table"].joined(separator: "\u{1E}")
        let configHash = String(FNV1a.hash(hashText), radix: 16)

        // The path: incremental when the previous work table can be updated in place.
        var base: PrepState? = nil
        var reason: String? = nil
        if let why = try fullReason(snap: snap, source: source, table: table, asView: asView, dedupe: dedupe, hash: configHash) {
            reason = why
        } else {
            base = try PrepState.load(source.name, db: db)
        }
        let scoped = base != nil
        var removed = 0
        if scoped {
            try db.execute("CREATE TEMP TABLE IF NOT EXISTS aurum_prep_rids (rid INTEGER PRIMARY KEY)")
            try db.execute("DELETE FROM \(Self.ridsTable)")
            try db.run("""
                INSERT OR IGNORE INTO \(Self.ridsTable) SELECT rid FROM change_sets
                WHERE source = ? AND run_id > ? AND run_id <= ? AND rid IS NOT NULL
                """, [.text(source.name), .integer(base!.run), .integer(run)])
            let add = try db.prepare("INSERT OR IGNORE INTO \(Self.ridsTable)(rid) VALUES (?)")
            for r in recheck.sorted() { add.bindInt(r, at: 1); try add.step(); add.resetKeepingBindings() }
        }
        // The rows this run evaluates: a filter on the snapshot (layer 0) and on the work table.
        let srcScope = scoped ? " WHERE \(StagedColumns.rid) IN (SELECT rid FROM \(Self.ridsTable))" : ""
        let sql: String = {
            guard let r = layer.sql.range(of: Self.scopeMarker, options: .backwards) else { return layer.sql }
            return layer.sql.replacingCharacters(in: r, with: srcScope)
        }()
        let fullSQL = layer.sql.replacingOccurrences(of: Self.scopeMarker, with: "")
        // On the work table by rowid (= __rid, the table's key); a view passes __rid down to the snapshot's key.
        let scopeColumn = asView ? StagedColumns.rid : "rowid"
        func inScope(_ prefix: String) -> String { scoped ? "\(prefix)\(scopeColumn) IN (SELECT rid FROM \(Self.ridsTable))" : "1" }
        let wScope = inScope("")

        if !sums.isEmpty {
            let row = try db.query("SELECT \(sums.joined(separator: " + ")) FROM \(sqlIdent(src))\(srcScope)")
            counts.nullsHandled += Int(row.first?.first?.doubleValue ?? 0)
        }
        let rowsIn: Int
        do {
            if asView {
                try db.dropRelation(table)
                try db.execute("CREATE VIEW \(sqlIdent(table)) AS \(fullSQL)")
                rowsIn = scoped ? Int(try db.scalar("SELECT count(*) FROM \(Self.ridsTable) r JOIN \(sqlIdent(src)) s ON s.\(StagedColumns.rid) = r.rid")?.doubleValue ?? 0)
                    : snap.rowsStaged
            } else if scoped {
                // In place: the rows of changed keys out, their current versions in (rowid = __rid).
                try db.execute("DELETE FROM \(sqlIdent(table)) WHERE rowid IN (SELECT rid FROM \(Self.ridsTable))")
                removed = db.changes
                let names = try db.columns(of: table).map(sqlIdent).joined(separator: ", ")
                try db.execute("INSERT INTO \(sqlIdent(table)) (rowid, \(names)) SELECT \(StagedColumns.rid), * FROM (\(sql))")
                rowsIn = db.changes
                FaultPoints.hit("transform.updated")
            } else {
                // The declared column types of CREATE TABLE … AS, then the rows with rowid = __rid.
                try db.dropRelation(table)
                try db.execute("CREATE TABLE \(sqlIdent(table)) AS SELECT * FROM (\(fullSQL)) LIMIT 0")
                let names = try db.columns(of: table).map(sqlIdent).joined(separator: ", ")
                try db.execute("INSERT INTO \(sqlIdent(table)) (rowid, \(names)) SELECT \(StagedColumns.rid), * FROM (\(fullSQL))")
                rowsIn = db.changes
            }
        } catch let e as AurumError {
            throw e
        } catch {
            throw AurumError(.expression, "evaluating the rules failed: \(error)", at: "source '\(source.name)'")
        }

        // Counts from the flag columns, in one pass over the evaluated rows.
        var flagSums: [String] = []
        let transformRules = applied.filter { $0.rule.kind != .validation && ($0.rule.expression != nil || $0.rule.valueMap != nil) }
        for a in transformRules { flagSums.append("coalesce(sum(\(sqlIdent("__t\(a.index)"))), 0)") }
        for (c, _) in formatColumns {
            flagSums.append("coalesce(sum(\(sqlIdent("__f_" + c)) = 1), 0)")
            flagSums.append("coalesce(sum(\(sqlIdent("__f_" + c)) = 2), 0)")
        }
        let defaultedCols = layer.hidden.filter { $0.hasPrefix("__n_") }
        for d in defaultedCols { flagSums.append("coalesce(sum(\(sqlIdent(d))), 0)") }
        if !flagSums.isEmpty {
            let r = try db.query("SELECT \(flagSums.joined(separator: ", ")) FROM \(sqlIdent(table)) WHERE \(wScope)")[0].map { Int($0.doubleValue ?? 0) }
            var k = 0
            for a in transformRules {
                counts.transformApplications += rowsIn
                counts.transformFailures += r[k]
                try record(source.name, "transformation", a.rule.name, r[k])
                k += 1
            }
            for (c, _) in formatColumns {
                counts.formatResolved += r[k]
                counts.formatFlagged += r[k + 1]
                try record(source.name, "format_resolved", c, r[k])
                try record(source.name, "format_flagged", c, r[k + 1])
                k += 2
            }
            for d in defaultedCols {
                counts.nullsHandled += r[k]
                try record(source.name, "null_default", String(d.dropFirst(4)), r[k])
                k += 1
            }
        }

        // Validation (business) rules: NULL passes, as in an SQL CHECK constraint.
        var quarantined = 0
        for a in applied where a.rule.kind == .validation {
            let flag = sqlIdent("__v\(a.index)")
            counts.transformApplications += rowsIn
            let failed = Int(try db.scalar("SELECT count(*) FROM \(sqlIdent(table)) WHERE \(flag) = 0 AND \(wScope)")?.doubleValue ?? 0)
            counts.transformFailures += failed
            counts.businessRuleFailures += failed
            try record(source.name, "business_rule", a.rule.name, failed)
            if q.businessRules && failed > 0 {
                quarantined += try quarantineRows(source: source, src: src, table: table, where: { "\($0)\(flag) = 0 AND \(inScope($0))" }, rule: a.rule.name,
                                                  reason: "failed validation rule '\(a.rule.name)': \(a.rule.expression ?? "")")
            }
        }
        for c in rejectColumns {
            let n = try quarantineRows(source: source, src: src, table: table, where: { "\($0)\(sqlIdent(c)) IS NULL AND \(inScope($0))" },
                                       rule: "null_check:\(c)", reason: "column '\(c)' is null (policy: reject)")
            quarantined += n
            counts.nullsHandled += n
            counts.nullRowsRejected += n
            try record(source.name, "null_reject", c, n)
        }

        // Duplicates: rows equal on the chosen columns (all by default); the first one stays.
        if dedupe {
            let by = q.duplicateColumns.isEmpty ? cols : q.duplicateColumns.filter { d in cols.contains { $0.lowercased() == d.lowercased() } }
            if !by.isEmpty {
                try db.execute("""
                    DELETE FROM \(sqlIdent(table)) WHERE \(StagedColumns.rid) NOT IN
                      (SELECT min(\(StagedColumns.rid)) FROM \(sqlIdent(table)) GROUP BY \(by.map(sqlIdent).joined(separator: ", ")))
                    """)
                counts.duplicatesRemoved = db.changes
                try record(source.name, "duplicate", by.joined(separator: ","), db.changes)
            }
        }

        // The rows an earlier run quarantined that did not change stay out, and stay quarantined.
        var carried = 0
        if let base, !asView {
            try db.run("""
                INSERT INTO quarantine(run_id, source, step, line, rule, reason, raw, rid, source_key, checked_run)
                SELECT ?, q.source, q.step, s.\(StagedColumns.line), q.rule, q.reason, q.raw, q.rid, q.source_key, coalesce(q.checked_run, q.run_id)
                FROM quarantine q JOIN \(sqlIdent(src)) s ON s.\(StagedColumns.rid) = q.rid
                WHERE q.run_id = ? AND q.source = ? AND q.step = 'quality' AND q.rid NOT IN (SELECT rid FROM \(Self.ridsTable))
                ORDER BY q.id
                """, [.integer(run), .integer(base.run), .text(source.name)])
            carried = db.changes
        }

        let rows: Int
        if asView {
            rows = snap.rowsStaged
        } else if let base {
            rows = base.rows - removed + rowsIn - quarantined
        } else {
            rows = Int(try db.scalar("SELECT count(*) FROM \(sqlIdent(table))")?.doubleValue ?? 0)
        }
        let path = asView ? "view" : (scoped ? "incremental" : "full")
        try PrepState(run: run, configHash: configHash, path: path, rows: rows).save(source.name, db: db)
        FaultPoints.hit("transform.prepared")
        var out = PreparedSource(name: source.name, table: table, columns: cols, origins: origins, rowsIn: snap.rowsStaged, rows: rows, counts: counts)
        out.path = path
        out.pathReason = reason
        out.rowsChecked = rowsIn
        out.quarantineCarried = carried
        return out
    }

    /// Why this source's work table is rebuilt whole (nil: the incremental path can run).
    private func fullReason(snap: SnapshotResult, source: SourceSpec, table: String, asView: Bool, dedupe: Bool, hash: String) throws -> String? {
        if full { return "--full" }
        if let forceFull { return forceFull }
        if source.key.isEmpty { return "the source has no key" }
        if snap.duplicateKeys { return "a key of the source names more than one row" }
        if dedupe { return "duplicate removal compares rows across the whole source" }
        guard let st = try PrepState.load(source.name, db: db) else { return "no previous state" }
        if st.configHash != hash { return "the preparation configuration changed" }
        if !asView, try db.isView(table) || !db.tableExists(table) { return "table \(table) is missing" }
        let args: [Value] = [.text(source.name), .integer(st.run), .integer(run)]
        if try db.scalar("SELECT count(*) FROM change_counts WHERE source = ? AND run_id > ? AND run_id <= ? AND first = 1", args)?.doubleValue ?? 0 > 0 {
            return "the source has a first snapshot since"
        }
        if try db.scalar("SELECT count(*) FROM change_sets WHERE source = ? AND run_id > ? AND run_id <= ? AND rid IS NULL", args)?.doubleValue ?? 0 > 0 {
            return "a change set since has no row ids"
        }
        return nil
    }

    private func record(_ source: String, _ check: String, _ rule: String, _ n: Int) throws {
        try db.run("""
            INSERT INTO quality_counts(run_id, source, check_name, rule, count) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(run_id, source, check_name, rule) DO UPDATE SET count = count + excluded.count
            """, [.integer(run), .text(source), .text(check), .text(rule), .integer(Int64(n))])
    }

    /// Moves the rows matching `condition` from the work table to the quarantine, with their staged
    /// values, row id and key.
    @discardableResult
    private func quarantineRows(source: SourceSpec, src: String, table: String, where condition: (String) -> String, rule: String, reason: String) throws -> Int {
        let st = try db.prepare("""
            SELECT s.* FROM \(sqlIdent(src)) s JOIN \(sqlIdent(table)) w ON w.\(StagedColumns.rid) = s.\(StagedColumns.rid)
            WHERE \(condition("w.")) ORDER BY s.\(StagedColumns.rid)
            """)
        let names = (0..<st.columnCount).map(st.columnName)
        let ins = try db.prepare("INSERT INTO quarantine(run_id, source, step, line, rule, reason, raw, rid, source_key, checked_run) VALUES (?, ?, 'quality', ?, ?, ?, ?, ?, ?, ?)")
        var n = 0
        while try st.step() {
            var members: [(String, JSON)] = []
            var line: Value = .null, rid: Value = .null, key: Value = .null
            for (i, name) in names.enumerated() {
                if name == StagedColumns.line { line = st.column(i) }
                if name == StagedColumns.rid { rid = st.column(i) }
                if name == StagedColumns.key { key = st.column(i) }
                if StagedColumns.all.contains(name) { continue }
                members.append((name, JSON(st.column(i))))
            }
            try ins.bind([.integer(run), .text(source.name), line, .text(rule), .text(reason), .text(JSON.object(members).compact), rid, key, .integer(run)])
            try ins.step()
            ins.reset()
            n += 1
        }
        try db.execute("DELETE FROM \(sqlIdent(table)) WHERE \(condition(""))")
        return n
    }

    /// Decides whether a rule applies to this source, checking its expression against the columns.
    func applicable(_ rule: RuleSpec, index: Int, columns: [String], source: SourceSpec) throws -> AppliedRule? {
        let has = { (c: String) in columns.contains { $0.lowercased() == c.lowercased() } }
        let explicit = rule.source != nil
        let exprKey = catalog.dialect == .catalog ? "expression" : "transformation_logic"
        let colKey = catalog.dialect == .catalog ? "column" : "source_column"
        if let sc = rule.sourceColumn, rule.kind != .validation, rule.kind != .calculation || rule.expression == nil {
            if !has(sc) {
                if explicit {
                    throw AurumError(.expression, "unknown column '\(sc)' in source '\(source.name)'", at: "\(rule.location).\(colKey)",
                                     hint: suggestion(sc, columns).map { "did you mean '\($0)'?" } ?? "columns: \(columns.joined(separator: ", "))")
                }
                return nil
            }
        }
        guard let expr = rule.expression else {
            return AppliedRule(rule: rule, index: index, reads: rule.sourceColumn.map { [$0] } ?? [])
        }
        do {
            let reads = try ExpressionChecker.check(expr, columns: columns, db: db)
            return AppliedRule(rule: rule, index: index, reads: reads)
        } catch {
            let (msg, hint) = ExpressionChecker.explain(error, columns: columns)
            if msg.hasPrefix("unknown column") && !explicit { return nil }
            throw AurumError(.expression, "\(msg) (rule '\(rule.name)', source '\(source.name)')", at: "\(rule.location).\(exprKey)", hint: hint)
        }
    }

    private func apply(_ a: AppliedRule, to layer: Layer, origins: inout [String: ColumnOrigin]) -> Layer {
        let rule = a.rule
        var cols = layer.columns
        var hidden = layer.hidden
        var list = [sqlIdent(StagedColumns.rid)] + hidden.map(sqlIdent)
        var origin = ColumnOrigin(sources: [], via: [])
        for r in a.reads { if let o = origins[r] ?? origins.first(where: { $0.key.lowercased() == r.lowercased() })?.value { origin.merge(o) } }
        origin.via.append(rule.name)
        let real = { (c: String) in cols.first { $0.lowercased() == c.lowercased() } ?? c }

        if rule.kind == .validation {
            list += cols.map(sqlIdent)
            list.append("(\(rule.expression!)) AS \(sqlIdent("__v\(a.index)"))")
            hidden.append("__v\(a.index)")
            return Layer(columns: cols, hidden: hidden, sql: "SELECT \(list.joined(separator: ", ")) FROM (\(layer.sql))")
        }
        // The new value of the target column.
        let value: String
        if let expr = rule.expression {
            value = "(\(expr))"
        } else if let map = rule.valueMap {
            let sc = sqlIdent(real(rule.sourceColumn!))
            let cases = map.map { "WHEN '\($0.0.replacingOccurrences(of: "'", with: "''"))' THEN \(Self.literal($0.1))" }.joined(separator: " ")
            value = "CASE CAST(\(sc) AS TEXT) \(cases) ELSE \(rule.mapDefault.map(Self.literal) ?? sc) END"
        } else {
            value = sqlIdent(real(rule.sourceColumn!))
        }
        let target = real(rule.targetColumn ?? rule.sourceColumn!)
        // A mapping renames: its source column is consumed.
        var dropped: String? = nil
        if rule.kind == .mapping, let sc = rule.sourceColumn, real(sc).lowercased() != target.lowercased() { dropped = real(sc) }
        if rule.kind == .mapping && rule.expression == nil, let sc = rule.sourceColumn, let o = origins[real(sc)] {
            origin = o
            origin.via.append(rule.name)
        }
        var emitted = false
        for c in cols {
            if c.lowercased() == dropped?.lowercased() { continue }
            if c.lowercased() == target.lowercased() {
                list.append("\(value) AS \(sqlIdent(target))")
                emitted = true
            } else {
                list.append(sqlIdent(c))
            }
        }
        if let d = dropped {
            cols.removeAll { $0.lowercased() == d.lowercased() }
        }
        if !emitted {
            list.append("\(value) AS \(sqlIdent(target))")
            cols.append(target)
        } else if let i = cols.firstIndex(where: { $0.lowercased() == target.lowercased() }) {
            cols[i] = target
        }
        // Success flag: a NULL result from non-NULL inputs counts as a failed transformation.
        if rule.expression != nil || rule.valueMap != nil {
            let inputs = a.reads.isEmpty ? "1" : a.reads.map { "\(sqlIdent($0)) IS NOT NULL" }.joined(separator: " AND ")
            list.append("(\(value) IS NULL AND \(inputs)) AS \(sqlIdent("__t\(a.index)"))")
            hidden.append("__t\(a.index)")
        }
        if let d = dropped { origins[d] = nil }
        origins[target] = origin
        return Layer(columns: cols, hidden: hidden, sql: "SELECT \(list.joined(separator: ", ")) FROM (\(layer.sql))")
    }

    static func literal(_ v: Value) -> String {
        switch v {
        case .null: "NULL"
        case .integer(let i): String(i)
        case .real(let d): Value.format(d)
        case .text(let s): "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
        case .blob(let b): "X'" + b.map { String(format: "%02X", $0) }.joined() + "'"
        }
    }
}
