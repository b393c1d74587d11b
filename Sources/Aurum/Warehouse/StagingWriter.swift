import Foundation

/// The columns every staged table has before the source's own columns.
enum StagedColumns {
    static let rid = "__rid", line = "__line", key = "__key", hash = "__hash", firstRun = "__first_run", lastRun = "__last_run"
    static let all = [rid, line, key, hash, firstRun, lastRun]
}

/// What one source's snapshot did.
public struct SnapshotResult: Sendable {
    public var source: String
    public var table: String
    public var columns: [String]
    public var rowsRead: Int
    public var rowsStaged: Int
    public var rowsQuarantined: Int
    /// Rows of the previous snapshot kept because an incremental read did not see their key again
    /// (included in `rowsStaged`, not in `rowsRead`).
    public var rowsCarried: Int = 0
    /// For a CSV/TSV snapshot: per column, the smallest `SQLFunctionLibrary.numberKind` of its staged
    /// values, computed while staging (so typing the columns needs no second pass); nil otherwise.
    public var numberKinds: [Int64]? = nil
}

/// Writes one source's rows into a fresh load table inside one transaction, then swaps it in as
/// `src_<name>`, carrying each row's first-seen run over from the previous snapshot.
///
/// A crash before the swap leaves the previous snapshot untouched; the next run drops the stale
/// load table.
final class StagingWriter {
    let db: SQLiteDatabase
    let source: SourceSpec
    let run: Int64
    let table: String
    let loadTable: String
    private(set) var columns: [String] = []
    private var lowerNames: Set<String> = Set(StagedColumns.all)
    private var insert: SQLiteStatement?
    private var keyIndexes: [Int]? = nil
    private(set) var rowsStaged = 0
    private(set) var rowsCarried = 0
    private(set) var rowsQuarantined = 0
    /// Set for an incremental read (rows past a watermark): the previous snapshot's rows whose key
    /// was not read again are carried over, so the snapshot stays the source's whole current state.
    var carryOver = false
    private var nextRid: Int64 = 1
    /// Per column, the smallest number kind of the values staged by `write(_: CSVBatch)` (3 = none seen).
    private(set) var csvNumberKinds: [Int64] = []
    /// Told the rows staged so far, every 65,536 rows.
    var progress: (Int) -> Void = { _ in }
    private var lastProgress = 0

    private func reportProgress() {
        if rowsStaged - lastProgress >= 65_536 {
            lastProgress = rowsStaged
            progress(rowsStaged)
        }
    }

    init(db: SQLiteDatabase, source: SourceSpec, run: Int64) throws {
        self.db = db
        self.source = source
        self.run = run
        self.table = Self.stagedTable(source.name)
        self.loadTable = table + "__load"
        try db.execute("BEGIN IMMEDIATE")
        try db.execute("DROP TABLE IF EXISTS \(sqlIdent(loadTable))")
        try db.execute("CREATE TABLE \(sqlIdent(loadTable)) (\(StagedColumns.rid) INTEGER PRIMARY KEY, \(StagedColumns.line) INTEGER, \(StagedColumns.key) TEXT, \(StagedColumns.hash) INTEGER, \(StagedColumns.firstRun) INTEGER, \(StagedColumns.lastRun) INTEGER)")
    }

    static func stagedTable(_ source: String) -> String { "src_" + source }

    /// Adds source columns (de-duplicated case-insensitively, as SQLite names are); returns their final names.
    @discardableResult
    func addColumns(_ names: [String]) throws -> [String] {
        var out: [String] = []
        for raw in names {
            var name = raw.isEmpty ? "c\(columns.count + 1)" : raw
            if lowerNames.contains(name.lowercased()) {
                var i = 2
                while lowerNames.contains("\(name)_\(i)".lowercased()) { i += 1 }
                name = "\(name)_\(i)"
            }
            lowerNames.insert(name.lowercased())
            columns.append(name)
            out.append(name)
            try db.execute("ALTER TABLE \(sqlIdent(loadTable)) ADD COLUMN \(sqlIdent(name))")
        }
        insert = nil
        keyIndexes = nil
        return out
    }

    private func statement() throws -> SQLiteStatement {
        if let insert { return insert }
        let cols = (StagedColumns.all + columns).map(sqlIdent).joined(separator: ", ")
        let marks = Array(repeating: "?", count: StagedColumns.all.count + columns.count).joined(separator: ", ")
        let st = try db.prepare("INSERT INTO \(sqlIdent(loadTable)) (\(cols)) VALUES (\(marks))")
        insert = st
        return st
    }

    /// Indexes of the declared key columns, or nil when the source has none (or they are missing).
    func keyColumnIndexes() throws -> [Int]? {
        if let keyIndexes { return keyIndexes }
        guard !source.key.isEmpty else { return nil }
        var idx: [Int] = []
        for k in source.key {
            guard let i = columns.firstIndex(where: { $0.lowercased() == k.lowercased() }) else {
                throw AurumError(.source, "key column '\(k)' is not a column of source '\(source.name)'",
                                 at: "\(source.location).key", hint: "columns: \(columns.prefix(20).joined(separator: ", "))")
            }
            idx.append(i)
        }
        keyIndexes = idx
        return idx
    }

    // MARK: CSV fast path

    /// Inserts a parsed CSV batch, binding field bytes in place.
    func write(_ batch: CSVBatch) throws {
        let st = try statement()
        let keys = try keyColumnIndexes()
        let width = batch.width
        let base = Int32(StagedColumns.all.count)
        if csvNumberKinds.count < width { csvNumberKinds += Array(repeating: 3, count: width - csvNumberKinds.count) }
        var kinds = csvNumberKinds
        defer { csvNumberKinds = kinds }
        try batch.bytes.withUnsafeBufferPointer { bytes in
            try batch.fieldEnds.withUnsafeBufferPointer { ends in
                for r in 0..<batch.rowCount {
                    st.bindInt(nextRid, at: 1)
                    st.bindInt(Int64(batch.lines[r]), at: 2)
                    if let keys {
                        var k = ""
                        for (j, ci) in keys.enumerated() {
                            if j > 0 { k += "\u{1F}" }
                            let f = r * width + ci
                            let start = f == 0 ? 0 : Int(ends[f - 1])
                            k += String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<Int(ends[f])]), as: UTF8.self)
                        }
                        try st.bind(.text(k), at: 3)
                    } else {
                        st.bindNull(at: 3)
                    }
                    st.bindInt(Int64(bitPattern: batch.hashes[r]), at: 4)
                    st.bindInt(run, at: 5)
                    st.bindInt(run, at: 6)
                    let first = r * width
                    var start = first == 0 ? 0 : Int(ends[first - 1])
                    for c in 0..<width {
                        let end = Int(ends[first + c])
                        let p = bytes.baseAddress.map { $0 + start }
                        st.bindText(p, end - start, at: base + Int32(c) + 1)
                        if kinds[c] > 0 {
                            let k = SQLFunctionLibrary.numberKind(utf8: UnsafeBufferPointer(start: p, count: end - start))
                            if k < kinds[c] { kinds[c] = k }
                        }
                        start = end
                    }
                    try st.step()
                    st.resetKeepingBindings()
                    nextRid += 1
                }
            }
        }
        rowsStaged += batch.rowCount
        reportProgress()
    }

    // MARK: Generic rows

    /// Inserts one record given as named values; new names become new columns.
    func write(fields: [(String, Value)], line: Int, columnIndex: inout [String: Int]) throws {
        var values = Array(repeating: Value.null, count: columns.count)
        var newNames: [String] = []
        var pendingNew: [(String, Value)] = []
        for (name, v) in fields {
            if let i = columnIndex[name] {
                values[i] = v
            } else {
                newNames.append(name)
                pendingNew.append((name, v))
            }
        }
        if !newNames.isEmpty {
            let finals = try addColumns(newNames)
            for (j, (orig, v)) in pendingNew.enumerated() {
                columnIndex[orig] = columns.count - finals.count + j
                values.append(v)
            }
        }
        try write(values: values, line: line)
    }

    func write(values: [Value], line: Int) throws {
        let st = try statement()
        var h = FNV1a()
        for v in values { h.add(v) }
        st.bindInt(nextRid, at: 1)
        st.bindInt(Int64(line), at: 2)
        if let keys = try keyColumnIndexes() {
            try st.bind(.text(keys.map { values.indices.contains($0) ? (values[$0].textValue ?? "") : "" }.joined(separator: "\u{1F}")), at: 3)
        } else {
            st.bindNull(at: 3)
        }
        st.bindInt(Int64(bitPattern: h.value), at: 4)
        st.bindInt(run, at: 5)
        st.bindInt(run, at: 6)
        for (i, v) in values.enumerated() { try st.bind(v, at: Int32(StagedColumns.all.count + i + 1)) }
        // Columns added after this row's values were gathered stay NULL.
        for i in values.count..<columns.count { st.bindNull(at: Int32(StagedColumns.all.count + i + 1)) }
        try st.step()
        st.resetKeepingBindings()
        nextRid += 1
        rowsStaged += 1
        reportProgress()
    }

    func quarantine(line: Int?, rule: String, reason: String, raw: String?) throws {
        try db.run("INSERT INTO quarantine(run_id, source, step, line, rule, reason, raw) VALUES (?, ?, 'snapshot', ?, ?, ?, ?)",
                   [.integer(run), .text(source.name), line.map { .integer(Int64($0)) } ?? .null,
                    .text(rule), .text(reason), raw.map(Value.text) ?? .null])
        rowsQuarantined += 1
    }

    /// Swaps the load table in and records the snapshot; commits.
    func finish(rowsRead: Int) throws -> SnapshotResult {
        insert = nil
        try recordChanges()
        if try db.tableExists(table) {
            // Carry first-seen over: by declared key, else by identical content.
            let match = source.key.isEmpty ? StagedColumns.hash : StagedColumns.key
            try db.execute("CREATE INDEX IF NOT EXISTS \(sqlIdent(table + "__by" + match)) ON \(sqlIdent(table))(\(match))")
            try db.execute("""
                UPDATE \(sqlIdent(loadTable)) SET \(StagedColumns.firstRun) = p.f
                FROM (SELECT \(match) AS m, min(\(StagedColumns.firstRun)) AS f FROM \(sqlIdent(table)) GROUP BY \(match)) AS p
                WHERE p.m = \(sqlIdent(loadTable)).\(match)
                """)
            if carryOver && !source.key.isEmpty {
                let previous = Set(try db.query("SELECT name FROM pragma_table_info(?)", [.text(table)]).compactMap { $0[0].textValue })
                let common = (StagedColumns.all.filter { $0 != StagedColumns.rid } + columns.filter(previous.contains)).map(sqlIdent).joined(separator: ", ")
                try db.execute("""
                    INSERT INTO \(sqlIdent(loadTable)) (\(common)) SELECT \(common) FROM \(sqlIdent(table))
                    WHERE \(StagedColumns.key) NOT IN (SELECT \(StagedColumns.key) FROM \(sqlIdent(loadTable)) WHERE \(StagedColumns.key) IS NOT NULL)
                    ORDER BY \(StagedColumns.rid)
                    """)
                rowsCarried = db.changes
            }
            try db.execute("DROP TABLE \(sqlIdent(table))")
        }
        // Legacy rename: the last run's work views name `src_<source>` and are left alone (the
        // modern rename checks every view and fails on one whose table was just dropped).
        try db.execute("PRAGMA legacy_alter_table = ON")
        defer { try? db.execute("PRAGMA legacy_alter_table = OFF") }
        try db.execute("ALTER TABLE \(sqlIdent(loadTable)) RENAME TO \(sqlIdent(table))")
        let colsJSON = JSONText.array(columns.map { .text($0) })
        try db.run("""
            INSERT INTO sources(name, type, staged_table, columns, key_columns, last_run) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(name) DO UPDATE SET type = excluded.type, staged_table = excluded.staged_table,
              columns = excluded.columns, key_columns = excluded.key_columns, last_run = excluded.last_run
            """, [.text(source.name), .text(source.type.rawValue), .text(table), .text(colsJSON),
                  .text(JSONText.array(source.key.map { .text($0) })), .integer(run)])
        try db.run("INSERT OR REPLACE INTO snapshots(run_id, source, rows_read, rows_staged, rows_quarantined) VALUES (?, ?, ?, ?, ?)",
                   [.integer(run), .text(source.name), .integer(Int64(rowsRead)), .integer(Int64(rowsStaged)), .integer(Int64(rowsQuarantined))])
        try db.execute("COMMIT")
        return SnapshotResult(source: source.name, table: table, columns: columns, rowsRead: rowsRead,
                              rowsStaged: rowsStaged + rowsCarried, rowsQuarantined: rowsQuarantined, rowsCarried: rowsCarried)
    }

    /// The change set of this snapshot against the previous one (before it is replaced): by key,
    /// or by content hash for a source without a key. An incremental read (rows carried over)
    /// deletes nothing. A first snapshot records its counts only.
    func recordChanges() throws {
        let load = sqlIdent(loadTable), old = sqlIdent(table)
        let key = StagedColumns.key, hash = StagedColumns.hash
        let source = Value.text(self.source.name), run = Value.integer(self.run)
        guard try db.tableExists(table) else {
            let n = try db.scalar("SELECT count(*) FROM \(load)")?.doubleValue ?? 0
            try db.run("INSERT OR REPLACE INTO change_counts VALUES (?, ?, 1, ?, 0, 0, 0)", [run, source, .integer(Int64(n))])
            return
        }
        try db.run("DELETE FROM change_sets WHERE run_id = ? AND source = ?", [run, source])
        let insert = "INSERT INTO change_sets(run_id, source, change, source_key, hash)"
        if !self.source.key.isEmpty {
            try db.execute("CREATE INDEX IF NOT EXISTS \(sqlIdent(table + "__by" + key)) ON \(old)(\(key))")
            try db.execute("CREATE INDEX \(sqlIdent(loadTable + "__by" + key)) ON \(load)(\(key))")
            try db.run("""
                \(insert) SELECT ?, ?, CASE WHEN o.\(key) IS NULL THEN 'insert' ELSE 'update' END, n.\(key), n.\(hash)
                FROM \(load) AS n LEFT JOIN \(old) AS o ON o.\(key) = n.\(key)
                WHERE o.\(key) IS NULL OR o.\(hash) IS NOT n.\(hash) ORDER BY n.\(StagedColumns.rid)
                """, [run, source])
            if !carryOver {
                try db.run("""
                    \(insert) SELECT ?, ?, 'delete', o.\(key), o.\(hash) FROM \(old) AS o
                    WHERE NOT EXISTS (SELECT 1 FROM \(load) AS n WHERE n.\(key) = o.\(key)) ORDER BY o.\(StagedColumns.rid)
                    """, [run, source])
            }
            try db.execute("DROP INDEX \(sqlIdent(loadTable + "__by" + key))")
        } else {
            // Without a key a row is its content: count copies of each hash on both sides.
            try db.run("""
                \(insert) SELECT ?, ?, change, NULL, h FROM (
                  WITH n AS (SELECT \(hash) AS h, count(*) AS c FROM \(load) GROUP BY \(hash)),
                       o AS (SELECT \(hash) AS h, count(*) AS c FROM \(old) GROUP BY \(hash)),
                       d AS (SELECT n.h AS h, n.c - coalesce(o.c, 0) AS k FROM n LEFT JOIN o ON o.h = n.h
                             UNION ALL SELECT o.h, -o.c FROM o WHERE NOT EXISTS (SELECT 1 FROM n WHERE n.h = o.h)),
                       r(h, k, change) AS (SELECT h, abs(k), CASE WHEN k > 0 THEN 'insert' ELSE 'delete' END FROM d WHERE k != 0
                                           UNION ALL SELECT h, k - 1, change FROM r WHERE k > 1)
                  SELECT change, h FROM r ORDER BY change DESC, h)
                """, [run, source])
        }
        let counts = try db.query("SELECT change, count(*) FROM change_sets WHERE run_id = ? AND source = ? GROUP BY change", [run, source])
        func count(_ c: String) -> Int64 { Int64(counts.first { $0[0].textValue == c }?[1].doubleValue ?? 0) }
        // Unchanged: the previous records that were neither deleted nor updated (carried-over rows included).
        let previous = Int64(try db.scalar("SELECT count(*) FROM \(old)")?.doubleValue ?? 0)
        try db.run("INSERT OR REPLACE INTO change_counts VALUES (?, ?, 0, ?, ?, ?, ?)",
                   [run, source, .integer(count("insert")), .integer(count("update")), .integer(count("delete")),
                    .integer(previous - count("delete") - count("update"))])
    }

    func abort() {
        insert = nil
        try? db.execute("ROLLBACK")
    }
}
