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
    /// Rows read that the source's soft-delete column (`options.deleted_column`) marks as deleted:
    /// neither staged nor quarantined, but a `delete` in the change set when their key was staged
    /// before (included in `rowsRead`, not in `rowsStaged`).
    public var rowsDeleted: Int = 0

    /// For a CSV/TSV snapshot: per column, the smallest `SQLFunctionLibrary.numberKind` of its staged
    /// values, computed while staging (so typing the columns needs no second pass); nil otherwise.
    /// Every snapshot of a CSV/TSV source reads every row, so a delete lifts a column's kind back.
    public var numberKinds: [Int64]? = nil
    /// The null tokens `numberKinds` counted as empty (kind 3): the quality check's tokens when the
    /// null check was on while staging, nil when no value counted as a token.
    public var numberKindTokens: [String]? = nil
    /// Whether a key was staged more than once, in this snapshot or the previous one (a key then
    /// does not name one row, and an incremental transform by key cannot run).
    public var duplicateKeys = false
}

/// Writes one source's rows into a fresh load table, then swaps it in as `src_<name>`, carrying
/// each row's first-seen run over from the previous snapshot. A keyed source staged before with the
/// same columns is patched in place instead (`patching`): only its changed rows are written.
///
/// A crash before the swap (or the patch's COMMIT) leaves the previous snapshot untouched; the next
/// run drops the stale load table.
final class StagingWriter {
    let db: SQLiteDatabase
    let source: SourceSpec
    let run: Int64
    let table: String
    let loadTable: String
    private(set) var columns: [String] = []
    private var lowerNames: Set<String> = Set(StagedColumns.all)
    private var insert: SQLiteStatement?
    private var group: (RowFeed, rows: Int32, width: Int32)?
    private var keyIndexes: [Int]? = nil
    private(set) var rowsStaged = 0
    private(set) var rowsCarried = 0
    private(set) var rowsQuarantined = 0
    private(set) var rowsDeleted = 0
    /// The previous snapshot's keys, when the source has a key and was staged before (see `PreviousKeys`).
    private var previous: PreviousKeys? = nil
    private var changeInsert: SQLiteStatement?
    private var deletedIndex: Int?? = .none
    /// Set for an incremental read (rows past a watermark): the previous snapshot's rows whose key
    /// was not read again are carried over, so the snapshot stays the source's whole current state.
    var carryOver = false
    /// The next row id to give. A keyed source's rows keep their rid across snapshots (taken
    /// from the previous snapshot as each key is looked up); new keys get ids above the largest
    /// ever given (`sources.max_rid`), so a deleted key's id is never given again.
    private var nextRid: Int64 = 1
    /// Whether the rows staged get increasing rids into a load table that holds nothing else
    /// (no previous snapshot to look keys up in): a row whose rid is the last one's + 1 is then
    /// inserted with a NULL rid (`bindStaged`). `appendedRid` is the last rid staged.
    private var appendsRids = false
    private var appendedRid: Int64 = 0
    private(set) var duplicateKeys = false
    /// When set, CSV values that trim to one of these tokens count as empty for `csvNumberKinds`
    /// (as the null check reads them).
    var nullTokens: [String]? = nil {
        didSet { tokenBytes = nullTokens?.map { Array($0.utf8) } }
    }
    private var tokenBytes: [[UInt8]]? = nil
    /// Per column, the smallest number kind of the values staged by `write(_: CSVBatch)` (3 = none seen).
    private(set) var csvNumberKinds: [Int64] = []
    /// Told the rows staged so far, every 65,536 rows.
    var progress: (Int) -> Void = { _ in }
    /// When set (the streamed load, `Pipeline+StreamedLoad.swift`), told every CSV batch once its
    /// rows are inserted, with the column number kinds so far (`csvNumberKinds` after the batch).
    var stagedBatches: ((_ batch: CSVBatch, _ kinds: [Int64]) -> Void)? = nil
    /// Whether every row gets a new rid in file order (a keyless source, or a keyed source's first
    /// snapshot), so that the staged table's order is the file's.
    var stagesInFileOrder: Bool { previous == nil }
    private var lastProgress = 0

    /// Tells `progress` every 65,536 rows, and commits the load table every `chunkRows` rows
    /// while `commitsInChunks`.
    private func reportProgress() throws {
        if rowsStaged - lastProgress >= 65_536 {
            lastProgress = rowsStaged
            progress(rowsStaged)
        }
        if rowsStaged - lastChunkCommit >= Self.chunkRows, commitsInChunks {
            try db.execute("COMMIT")
            try db.execute("BEGIN IMMEDIATE")
            lastChunkCommit = rowsStaged
            FaultPoints.hit("snapshot.chunk-committed")
        }
    }

    /// Rows between two commits of the load table while the transaction holds nothing else.
    static let chunkRows = 32_768
    private var lastChunkCommit = 0
    /// Whether the load table is committed every `chunkRows` rows: while the transaction makes
    /// nothing durable but load-table rows (a keyed source's changes wait in a temporary table;
    /// nothing quarantined). A crash then leaves a load table that the next snapshot drops, and
    /// the previous snapshot untouched. Small transactions never spill pages to the WAL before their
    /// COMMIT (a spilled page written again makes COMMIT re-read every later frame to fix its
    /// checksum), and the checkpoints that follow them keep the WAL small and its pages reused.
    var commitsInChunks: Bool { rowsQuarantined == 0 && !patching }

    /// Set when a keyed re-snapshot writes into the staged table itself instead of a load table
    /// (`choosePath`): rows whose key's previous version is unchanged are not written, changed and
    /// new ones replace or join it, and `finish` deletes the keys not read again. A 1% change then
    /// writes 1% of the rows. The whole snapshot is one transaction (a crash leaves the previous
    /// snapshot). An unchanged row keeps its `__line` and `__last_run` from the run that staged it,
    /// except the rows the last quality check quarantined (`refreshLines`), which are rewritten
    /// with their current line: that is the line their carried-over quarantine entry names.
    private(set) var patching = false
    private var pathChosen = false
    private var refreshLines: Set<Int64> = []

    /// The statement head rows are written with.
    private var insertInto: String {
        patching ? "INSERT OR REPLACE INTO \(sqlIdent(table))" : "INSERT INTO \(sqlIdent(loadTable))"
    }

    /// Before the first batch of a keyed re-snapshot: patches the staged table when its columns are
    /// this read's (same names, same order) and its keys name one row each; else stages a load table.
    /// Only the batch paths patch: their readers fix the columns before the first row.
    private func choosePath() throws {
        guard !pathChosen else { return }
        pathChosen = true
        // Every previous row must be an entry (a row staged while the source had no key is none,
        // and would never be deleted).
        guard let previous, previous.duplicates.isEmpty, previous.rows == previous.rid.count, rowsStaged == 0 else { return }
        let staged = try db.query("SELECT name FROM pragma_table_info(?) ORDER BY cid", [.text(table)]).compactMap { $0[0].textValue }
        guard staged == StagedColumns.all + columns else { return }
        try db.execute("DROP TABLE \(sqlIdent(loadTable))")
        patching = true
        insert = nil
        group = nil
        refreshLines = Set(try db.query("""
            SELECT DISTINCT rid FROM quarantine WHERE source = ?1 AND step = 'quality' AND rid IS NOT NULL
              AND run_id = (SELECT max(run_id) FROM quarantine WHERE source = ?1 AND step = 'quality')
            """, [.text(source.name)]).compactMap { row -> Int64? in
                if case .integer(let r) = row[0] { return r }
                return nil
            })
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
        if !source.key.isEmpty {
            let recorded = Int64(try db.scalar("SELECT max_rid FROM sources WHERE name = ?", [.text(source.name)])?.doubleValue ?? 0)
            if try db.tableExists(table) {
                let p = try PreviousKeys(db, table: table)
                previous = p
                duplicateKeys = !p.duplicates.isEmpty
                nextRid = max(recorded, p.maxRid) + 1
                try db.run("DELETE FROM change_sets WHERE run_id = ? AND source = ?", [.integer(run), .text(source.name)])
                // The inserts and updates found while staging wait in a temporary table (gone with
                // the connection) until `finish` moves them into change_sets, so that chunk commits
                // make nothing but load-table rows durable.
                try db.execute("CREATE TEMP TABLE IF NOT EXISTS aurum_changes (change TEXT, source_key TEXT, hash INTEGER, rid INTEGER); DELETE FROM temp.aurum_changes")
                changeInsert = try db.prepare("INSERT INTO temp.aurum_changes VALUES (?, ?, ?, ?)")
            } else {
                nextRid = recorded + 1
            }
        }
        appendsRids = previous == nil
    }

    /// A new row id.
    @inline(__always)
    private func mint() -> Int64 {
        defer { nextRid += 1 }
        return nextRid
    }

    /// What `bindStaged` did with a row.
    enum Staged { case bound, deleted, unchanged }

    /// Binds a row's staged columns (rid, line, key, hash, first and last run): a keyed row's rid
    /// and first run come from the previous snapshot (`lookUp`), a keyless row gets a new rid.
    /// Binds nothing when a keyed row marks its key deleted (`softDelete`), or when the snapshot
    /// is `patching` and the row is its key's previous version (the staged table holds it).
    @inline(__always)
    private func bindStaged<B: RowBinder>(_ st: B, at offset: Int32 = 0, key: String?, deleted: @autoclosure () throws -> Bool, hash: Int64, line: Int) throws -> Staged {
        var first = run, rid: Int64
        if let key {
            if try deleted() {
                try softDelete(key: key)
                return .deleted
            }
            let changed: Bool
            (first, rid, changed) = try lookUp(key: key, hash: hash)
            if patching && !changed && (refreshLines.isEmpty || !refreshLines.contains(rid)) { return .unchanged }
            try st.bind(.text(key), at: offset + 3)
        } else {
            rid = mint()
            st.bindNull(at: offset + 3)
        }
        // Appending the next rid: NULL makes SQLite give it (the largest + 1) without a seek to
        // check that the key is new. `finish` checks the largest.
        if appendsRids && rid == appendedRid &+ 1 && appendedRid > 0 {
            st.bindNull(at: offset + 1)
        } else {
            st.bindInt(rid, at: offset + 1)
        }
        appendedRid = rid
        st.bindInt(Int64(line), at: offset + 2)
        st.bindInt(hash, at: offset + 4)
        st.bindInt(first, at: offset + 5)
        st.bindInt(run, at: offset + 6)
        return .bound
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
        group = nil
        keyIndexes = nil
        return out
    }

    private func statement() throws -> SQLiteStatement {
        if let insert { return insert }
        let cols = (StagedColumns.all + columns).map(sqlIdent).joined(separator: ", ")
        let marks = Array(repeating: "?", count: StagedColumns.all.count + columns.count).joined(separator: ", ")
        let st = try db.prepare("\(insertInto) (\(cols)) VALUES (\(marks))")
        insert = st
        return st
    }

    /// The batch paths' insert: up to a batch's rows per statement step, read by SQLite from a
    /// `RowFeed` (no parameter binding per value). Row `slot` of a group sets its staged and source
    /// columns from cell `slot × width + 1` on; `flushGroup` inserts a part-full group.
    private func groupStatement() throws -> (RowFeed, rows: Int32, width: Int32) {
        if let group { return group }
        let all = StagedColumns.all + columns
        // Every row's last run is this run; so is its first run in a first snapshot (and always
        // for a keyless source, which has no previous keys), and a keyless row's key is NULL.
        let at = { (name: String) in StagedColumns.all.firstIndex(of: name)! }
        var fixed: [Int: Value] = [at(StagedColumns.lastRun): .integer(run)]
        if previous == nil { fixed[at(StagedColumns.firstRun)] = .integer(run) }
        if source.key.isEmpty { fixed[at(StagedColumns.key)] = .null }
        // At most ~1M cells (24 MB) for a wide source.
        let feed = try RowFeed(db: db, head: insertInto, columns: all, capacity: min(Self.groupRows, max(1, (1 << 20) / all.count)), fixed: fixed)
        group = (feed, Int32(feed.capacity), feed.width)
        return group!
    }

    /// Rows per feed insert: a CSV batch's (`Snapshot.csv` reads 8,192 rows at a time).
    static let groupRows = 8192

    /// Ends the row in `slot` of a group whose first `bound` source columns were set: the
    /// columns added after the reader fixed its own stay NULL; a full group is inserted.
    @inline(__always)
    private func endRow(_ g: (RowFeed, rows: Int32, width: Int32), _ slot: inout Int32, bound: Int) throws {
        let first = slot * g.width + Int32(StagedColumns.all.count)
        for i in bound..<max(bound, columns.count) { g.0.bindNull(at: first + Int32(i) + 1) }
        slot += 1
        if slot == g.rows {
            try g.0.insert(rows: Int(slot))
            slot = 0
        }
    }

    /// Inserts the first `filled` slots of a group.
    private func flushGroup(_ g: (RowFeed, rows: Int32, width: Int32), filled: Int32) throws {
        try g.0.insert(rows: Int(filled))
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

    /// The index of the soft-delete column (`options.deleted_column`), or nil when none is declared.
    func deletedColumnIndex() throws -> Int? {
        if case .some(let i) = deletedIndex { return i }
        guard case .string(let name)? = source.options["deleted_column"] else {
            deletedIndex = .some(nil)
            return nil
        }
        guard !source.key.isEmpty else {
            throw AurumError(.source, "a soft-delete column needs the source's key, so that the deleted row's previous version can be found",
                             at: "\(source.location).options.deleted_column", hint: "add key: COLUMN")
        }
        guard let i = columns.firstIndex(where: { $0.lowercased() == name.lowercased() }) else {
            throw AurumError(.source, "soft-delete column '\(name)' is not a column of source '\(source.name)'",
                             at: "\(source.location).options.deleted_column", hint: "columns: \(columns.prefix(20).joined(separator: ", "))")
        }
        deletedIndex = .some(i)
        return i
    }

    /// Whether a soft-delete column's value marks its row as deleted: anything but NULL, an empty
    /// text, 0 and the usual spellings of false (so a boolean `is_deleted` and a `deleted_at`
    /// timestamp both work).
    static func marksDeleted(_ v: Value) -> Bool {
        switch v {
        case .null: false
        case .integer(let i): i != 0
        case .real(let d): d != 0
        case .text(let t): !["", "0", "f", "false", "n", "no"].contains(t.trimmingCharacters(in: .whitespaces).lowercased())
        case .blob(let b): !b.isEmpty
        }
    }

    /// Looks a staged row's key up in the previous snapshot (once, while staging): records an
    /// `insert` or an `update` in the change set and returns the run the key was first seen in,
    /// the row's id (the previous row's for a key read again, a new one for a new key) and whether
    /// the row is anything but its key's previous version.
    @inline(__always)
    private func lookUp(key: String, hash: Int64) throws -> (first: Int64, rid: Int64, changed: Bool) {
        guard let previous else { return (run, mint(), true) }
        guard let i = previous.index(of: key) else {
            let rid = mint()
            try recordChange("insert", key, hash, rid)
            return (run, rid, true)
        }
        // A key read twice in this snapshot (or after its soft delete): the later row is a row of its own.
        let rid: Int64
        var again = false
        if previous.state[i] == 0 {
            previous.state[i] = 1
            rid = previous.rid[i]
        } else {
            duplicateKeys = true
            rid = mint()
            again = true
        }
        let updated = previous.hash[i] != hash
        if updated { try recordChange("update", key, hash, rid) }
        return (previous.first[i], rid, updated || again)
    }

    /// A row the soft-delete column marks as deleted: a `delete` of its key's previous version.
    private func softDelete(key: String) throws {
        rowsDeleted += 1
        guard let previous, let i = previous.index(of: key), previous.state[i] != 2 else { return }
        previous.state[i] = 2
        try recordChange("delete", key, previous.hash[i], previous.rid[i])
    }

    private func recordChange(_ change: String, _ key: String, _ hash: Int64, _ rid: Int64) throws {
        guard let st = changeInsert else { return }
        try st.bind([.text(change), .text(key), .integer(hash), .integer(rid)])
        try st.step()
        st.reset()
    }

    /// Whether a CSV field trims (spaces, as SQLite's `trim`) to one of the null tokens.
    @inline(__always)
    private static func isToken(_ field: UnsafeBufferPointer<UInt8>, _ tokens: [[UInt8]]) -> Bool {
        var lo = 0, hi = field.count
        while lo < hi && field[lo] == 0x20 { lo += 1 }
        while hi > lo && field[hi - 1] == 0x20 { hi -= 1 }
        let n = hi - lo
        for t in tokens where t.count == n {
            var same = true
            for j in 0..<n where t[j] != field[lo + j] { same = false; break }
            if same { return true }
        }
        return false
    }

    // MARK: CSV fast path

    /// Inserts a parsed CSV batch, binding field bytes in place.
    func write(_ batch: CSVBatch) throws {
        try choosePath()
        let g = try groupStatement()
        let st = g.0
        var slot: Int32 = 0
        let keys = try keyColumnIndexes()
        let deleted = try deletedColumnIndex()
        let rowsBefore = rowsDeleted
        let width = batch.width
        let base = Int32(StagedColumns.all.count)
        if csvNumberKinds.count < width { csvNumberKinds += Array(repeating: 3, count: width - csvNumberKinds.count) }
        var kinds = csvNumberKinds
        let tokens = tokenBytes
        defer { csvNumberKinds = kinds }
        try batch.bytes.withUnsafeBufferPointer { bytes in
            try batch.fieldEnds.withUnsafeBufferPointer { ends in
                for r in 0..<batch.rowCount {
                    func field(_ ci: Int) -> String {
                        let f = r * width + ci
                        let start = f == 0 ? 0 : Int(ends[f - 1])
                        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<Int(ends[f])]), as: UTF8.self)
                    }
                    let hash = Int64(bitPattern: batch.hashes[r])
                    var key: String? = nil
                    if let keys {
                        var k = ""
                        for (j, ci) in keys.enumerated() {
                            if j > 0 { k += "\u{1F}" }
                            k += field(ci)
                        }
                        key = k
                    }
                    let offset = slot * g.width
                    let staged = try bindStaged(st, at: offset, key: key, deleted: deleted.map { Self.marksDeleted(.text(field($0))) } ?? false,
                                                hash: hash, line: batch.lines[r])
                    if staged == .deleted { continue }
                    // An unchanged row of a patching snapshot binds nothing, but its values still count.
                    let bind = staged == .bound
                    let first = r * width
                    var start = first == 0 ? 0 : Int(ends[first - 1])
                    for c in 0..<width {
                        let end = Int(ends[first + c])
                        let p = bytes.baseAddress.map { $0 + start }
                        if bind { st.bindText(p, end - start, at: offset + base + Int32(c) + 1) }
                        if kinds[c] > 0 {
                            let field = UnsafeBufferPointer(start: p, count: end - start)
                            var k = SQLFunctionLibrary.numberKind(utf8: field)
                            if let tokens, k < 3, Self.isToken(field, tokens) { k = 3 }
                            if k < kinds[c] { kinds[c] = k }
                        }
                        start = end
                    }
                    if bind { try endRow(g, &slot, bound: width) }
                }
                try flushGroup(g, filled: slot)
            }
        }
        rowsStaged += batch.rowCount - (rowsDeleted - rowsBefore)
        try reportProgress()
        stagedBatches?(batch, kinds)
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
        let hash = Int64(bitPattern: h.value)
        let key = try keyColumnIndexes().map { keys in
            keys.map { values.indices.contains($0) ? (values[$0].textValue ?? "") : "" }.joined(separator: "\u{1F}")
        }
        switch try bindStaged(st, key: key, deleted: try deletedColumnIndex().map { values.indices.contains($0) && Self.marksDeleted(values[$0]) } ?? false,
                              hash: hash, line: line) {
        case .deleted: return
        case .unchanged:
            rowsStaged += 1
            FaultPoints.hit("snapshot.row")
            try reportProgress()
            return
        case .bound: break
        }
        for (i, v) in values.enumerated() { try st.bind(v, at: Int32(StagedColumns.all.count + i + 1)) }
        // Columns added after this row's values were gathered stay NULL.
        for i in values.count..<columns.count { st.bindNull(at: Int32(StagedColumns.all.count + i + 1)) }
        try st.step()
        st.resetKeepingBindings()
        rowsStaged += 1
        FaultPoints.hit("snapshot.row")
        try reportProgress()
    }

    /// Inserts a batch of rows a connector decoded into one buffer (`RowBatch`): the same rows,
    /// keys, hashes and change set as `write(values:line:)` on each row's values, but the fields'
    /// bytes are bound in place and the hash was computed by the reader.
    func write(_ batch: RowBatch) throws {
        try choosePath()
        let g = try groupStatement()
        let st = g.0
        var slot: Int32 = 0
        let keys = try keyColumnIndexes()
        let deleted = try deletedColumnIndex()
        let width = batch.width
        let base = Int32(StagedColumns.all.count)
        try batch.bytes.withUnsafeBufferPointer { bytes in
            try batch.kinds.withUnsafeBufferPointer { kinds in
                try batch.nums.withUnsafeBufferPointer { nums in
                    try batch.ends.withUnsafeBufferPointer { ends in
                        for r in 0..<batch.rowCount {
                            let hash = Int64(bitPattern: batch.hash(ofRow: r))
                            let key = keys.map { $0.map { $0 < width ? (batch.value(r, $0).textValue ?? "") : "" }.joined(separator: "\u{1F}") }
                            let offset = slot * g.width
                            switch try bindStaged(st, at: offset, key: key, deleted: deleted.map { $0 < width && Self.marksDeleted(batch.value(r, $0)) } ?? false,
                                                  hash: hash, line: batch.line(ofRow: r)) {
                            case .deleted: continue
                            case .unchanged:
                                rowsStaged += 1
                                FaultPoints.hit("snapshot.row")
                                continue
                            case .bound: break
                            }
                            let row = r * width
                            for c in 0..<width {
                                let f = row + c
                                let at = offset + base + Int32(c) + 1
                                switch RowBatch.Kind(rawValue: kinds[f]) {
                                case .integer: st.bindInt(nums[f], at: at)
                                case .real: st.bindDouble(Double(bitPattern: UInt64(bitPattern: nums[f])), at: at)
                                case .text:
                                    let start = Int(nums[f])
                                    st.bindText(bytes.baseAddress.map { $0 + start }, ends[f] - start, at: at)
                                case .blob:
                                    let start = Int(nums[f])
                                    if ends[f] > start, let p = bytes.baseAddress {
                                        st.bindBlob(UnsafeRawPointer(p + start), ends[f] - start, at: at)
                                    } else {
                                        try st.bind(.blob([]), at: at)
                                    }
                                case .null, nil: st.bindNull(at: at)
                                }
                            }
                            try endRow(g, &slot, bound: width)
                            rowsStaged += 1
                            FaultPoints.hit("snapshot.row")
                        }
                        try flushGroup(g, filled: slot)
                    }
                }
            }
        }
        try reportProgress()
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
        group = nil
        if patching, let previous {
            try recordKeyedChanges()
            // The keys soft-deleted by this read, and those not read again unless the read was
            // incremental (then they are carried over: they stay).
            var gone = previous.state.indices.filter { previous.state[$0] == 2 }.map { previous.rid[$0] }
            let unseen = previous.unseenRids()
            if carryOver { rowsCarried = unseen.count } else { gone += unseen }
            let delete = try db.prepare("DELETE FROM \(sqlIdent(table)) WHERE \(StagedColumns.rid) = ?")
            for r in gone.sorted() {
                delete.bindInt(r, at: 1)
                try delete.step()
                delete.resetKeepingBindings()
            }
            FaultPoints.hit("snapshot.loaded")
            return try recordSnapshot(rowsRead: rowsRead)
        }
        if appendsRids, appendedRid > 0 {
            let largest = try db.scalar("SELECT max(\(StagedColumns.rid)) FROM \(sqlIdent(loadTable))")
            guard case .integer(appendedRid)? = largest else {
                throw AurumError(.warehouse, "staging \(source.name): the load table's largest row id is \(largest.map { "\($0)" } ?? "none"), not \(appendedRid), the last one given",
                                 at: source.location, hint: "this is a bug in Aurum; run again with a new warehouse and report it")
            }
        }
        if previous != nil {
            try recordKeyedChanges()
        } else {
            try recordChanges()
        }
        if try db.tableExists(table) {
            if source.key.isEmpty {
                // Carry first-seen over by identical content (a keyed source's was looked up while staging).
                let hash = StagedColumns.hash
                try db.execute("CREATE INDEX IF NOT EXISTS \(sqlIdent(table + "__by" + hash)) ON \(sqlIdent(table))(\(hash))")
                try db.execute("""
                    UPDATE \(sqlIdent(loadTable)) SET \(StagedColumns.firstRun) = p.f
                    FROM (SELECT \(hash) AS m, min(\(StagedColumns.firstRun)) AS f FROM \(sqlIdent(table)) GROUP BY \(hash)) AS p
                    WHERE p.m = \(sqlIdent(loadTable)).\(hash)
                    """)
            }
            if carryOver, let previous {
                // The previous rows whose key was neither read again nor soft-deleted, in their order.
                let names = Set(try db.query("SELECT name FROM pragma_table_info(?)", [.text(table)]).compactMap { $0[0].textValue })
                let common = (StagedColumns.all + columns.filter(names.contains)).map(sqlIdent).joined(separator: ", ")
                try db.execute("CREATE TEMP TABLE aurum_carry (rid INTEGER PRIMARY KEY)")
                defer { try? db.execute("DROP TABLE temp.aurum_carry") }
                let add = try db.prepare("INSERT INTO temp.aurum_carry VALUES (?)")
                for r in previous.unseenRids() {
                    add.bindInt(r, at: 1)
                    try add.step()
                    add.resetKeepingBindings()
                }
                try db.execute("""
                    INSERT INTO \(sqlIdent(loadTable)) (\(common)) SELECT \(common) FROM \(sqlIdent(table))
                    WHERE \(StagedColumns.rid) IN (SELECT rid FROM temp.aurum_carry) ORDER BY \(StagedColumns.rid)
                    """)
                rowsCarried = db.changes
            }
            try db.execute("DROP TABLE \(sqlIdent(table))")
        }
        FaultPoints.hit("snapshot.loaded")
        // Legacy rename: the last run's work views name `src_<source>` and are left alone (the
        // modern rename checks every view and fails on one whose table was just dropped).
        try db.execute("PRAGMA legacy_alter_table = ON")
        defer { try? db.execute("PRAGMA legacy_alter_table = OFF") }
        try db.execute("ALTER TABLE \(sqlIdent(loadTable)) RENAME TO \(sqlIdent(table))")
        return try recordSnapshot(rowsRead: rowsRead)
    }

    /// Records the staged table as the source's snapshot of this run; commits.
    private func recordSnapshot(rowsRead: Int) throws -> SnapshotResult {
        let colsJSON = JSONText.array(columns.map { .text($0) })
        try db.run("""
            INSERT INTO sources(name, type, staged_table, columns, key_columns, last_run, max_rid) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(name) DO UPDATE SET type = excluded.type, staged_table = excluded.staged_table,
              columns = excluded.columns, key_columns = excluded.key_columns, last_run = excluded.last_run,
              max_rid = max(coalesce(max_rid, 0), excluded.max_rid)
            """, [.text(source.name), .text(source.type.rawValue), .text(table), .text(colsJSON),
                  .text(JSONText.array(source.key.map { .text($0) })), .integer(run), .integer(nextRid - 1)])
        try db.run("INSERT OR REPLACE INTO snapshots(run_id, source, rows_read, rows_staged, rows_quarantined) VALUES (?, ?, ?, ?, ?)",
                   [.integer(run), .text(source.name), .integer(Int64(rowsRead)), .integer(Int64(rowsStaged)), .integer(Int64(rowsQuarantined))])
        FaultPoints.hit("snapshot.swapped")
        try db.execute("COMMIT")
        return SnapshotResult(source: source.name, table: table, columns: columns, rowsRead: rowsRead,
                              rowsStaged: rowsStaged + rowsCarried, rowsQuarantined: rowsQuarantined, rowsCarried: rowsCarried,
                              rowsDeleted: rowsDeleted, duplicateKeys: duplicateKeys)
    }

    /// The rest of a keyed source's change set, whose inserts and updates were recorded while
    /// staging: the previous keys not read again are deleted (unless the read was incremental:
    /// then they are carried over), then the counts.
    func recordKeyedChanges() throws {
        guard let previous else { return }
        changeInsert = nil
        let source = Value.text(self.source.name), run = Value.integer(self.run)
        try db.run("""
            INSERT INTO change_sets(run_id, source, change, source_key, hash, rid)
            SELECT ?, ?, change, source_key, hash, rid FROM temp.aurum_changes ORDER BY rowid
            """, [run, source])
        try db.execute("DROP TABLE temp.aurum_changes")
        if !carryOver {
            let ins = try db.prepare("""
                INSERT INTO change_sets(run_id, source, change, source_key, hash, rid)
                SELECT ?, ?, 'delete', \(StagedColumns.key), \(StagedColumns.hash), \(StagedColumns.rid) FROM \(sqlIdent(table)) WHERE \(StagedColumns.rid) = ?
                """)
            for r in previous.unseenRids() {
                try ins.bind([run, source, .integer(r)])
                try ins.step()
                ins.reset()
            }
        }
        try recordCounts(previous: Int64(previous.rows))
    }

    private func recordCounts(previous: Int64) throws {
        let source = Value.text(self.source.name), run = Value.integer(self.run)
        let counts = try db.query("SELECT change, count(*) FROM change_sets WHERE run_id = ? AND source = ? GROUP BY change", [run, source])
        func count(_ c: String) -> Int64 { Int64(counts.first { $0[0].textValue == c }?[1].doubleValue ?? 0) }
        // Unchanged: the previous records that were neither deleted nor updated (carried-over rows included).
        try db.run("INSERT OR REPLACE INTO change_counts VALUES (?, ?, 0, ?, ?, ?, ?)",
                   [run, source, .integer(count("insert")), .integer(count("update")), .integer(count("delete")),
                    .integer(previous - count("delete") - count("update"))])
    }

    /// The change set of this snapshot against the previous one (before it is replaced), for a
    /// source without a key (by content hash), and the counts of a first snapshot.
    func recordChanges() throws {
        let load = sqlIdent(loadTable), old = sqlIdent(table)
        let key = StagedColumns.key, hash = StagedColumns.hash
        let source = Value.text(self.source.name), run = Value.integer(self.run)
        guard try db.tableExists(table) else {
            // A first snapshot's load table holds exactly the rows staged (counting them would
            // read the whole table back).
            try db.run("INSERT OR REPLACE INTO change_counts VALUES (?, ?, 1, ?, 0, 0, 0)", [run, source, .integer(Int64(rowsStaged))])
            return
        }
        try db.run("DELETE FROM change_sets WHERE run_id = ? AND source = ?", [run, source])
        let insert = "INSERT INTO change_sets(run_id, source, change, source_key, hash, rid)"
        if !self.source.key.isEmpty {
            try db.execute("CREATE INDEX IF NOT EXISTS \(sqlIdent(table + "__by" + key)) ON \(old)(\(key))")
            try db.execute("CREATE INDEX \(sqlIdent(loadTable + "__by" + key)) ON \(load)(\(key))")
            try db.run("""
                \(insert) SELECT ?, ?, CASE WHEN o.\(key) IS NULL THEN 'insert' ELSE 'update' END, n.\(key), n.\(hash), n.\(StagedColumns.rid)
                FROM \(load) AS n LEFT JOIN \(old) AS o ON o.\(key) = n.\(key)
                WHERE o.\(key) IS NULL OR o.\(hash) IS NOT n.\(hash) ORDER BY n.\(StagedColumns.rid)
                """, [run, source])
            if !carryOver {
                try db.run("""
                    \(insert) SELECT ?, ?, 'delete', o.\(key), o.\(hash), o.\(StagedColumns.rid) FROM \(old) AS o
                    WHERE NOT EXISTS (SELECT 1 FROM \(load) AS n WHERE n.\(key) = o.\(key)) ORDER BY o.\(StagedColumns.rid)
                    """, [run, source])
            }
            try db.execute("DROP INDEX \(sqlIdent(loadTable + "__by" + key))")
        } else {
            // Without a key a row is its content: count copies of each hash on both sides.
            try db.run("""
                \(insert) SELECT ?, ?, change, NULL, h, NULL FROM (
                  WITH n AS (SELECT \(hash) AS h, count(*) AS c FROM \(load) GROUP BY \(hash)),
                       o AS (SELECT \(hash) AS h, count(*) AS c FROM \(old) GROUP BY \(hash)),
                       d AS (SELECT n.h AS h, n.c - coalesce(o.c, 0) AS k FROM n LEFT JOIN o ON o.h = n.h
                             UNION ALL SELECT o.h, -o.c FROM o WHERE NOT EXISTS (SELECT 1 FROM n WHERE n.h = o.h)),
                       r(h, k, change) AS (SELECT h, abs(k), CASE WHEN k > 0 THEN 'insert' ELSE 'delete' END FROM d WHERE k != 0
                                           UNION ALL SELECT h, k - 1, change FROM r WHERE k > 1)
                  SELECT change, h FROM r ORDER BY change DESC, h)
                """, [run, source])
        }
        try recordCounts(previous: Int64(try db.scalar("SELECT count(*) FROM \(old)")?.doubleValue ?? 0))
    }

    func abort() {
        insert = nil
        changeInsert = nil
        try? db.execute("ROLLBACK")
    }
}

/// The previous snapshot of a keyed source, read once before staging so that each staged row's key
/// is looked up as it is written (first-seen carried over, the change set's inserts and updates
/// recorded) instead of joining the two tables afterwards.
///
/// Holds the whole previous snapshot's keys in memory, about 50 bytes a row plus the key's bytes (a
/// 10,000,000-row source needs some 600 MB): the price of one pass. The keys sit in one byte buffer
/// under an open-addressing table of their FNV-1a fingerprints (a hit is confirmed byte by byte), so
/// loading and looking up allocate nothing per key. A key staged more than once before is looked up
/// as its first row (lowest rid), with the smallest first-seen run of its rows; when the key is not
/// read again, each of its rows is deleted (or carried over).
final class PreviousKeys {
    // Unchecked exclusivity: the object is used by the staging writer's thread only, and no
    // access to these arrays overlaps another.
    @exclusivity(unchecked) private var bytes: [UInt8] = []
    @exclusivity(unchecked) private var ends: [Int] = []
    @exclusivity(unchecked) private var fingerprints: [UInt64] = []
    @exclusivity(unchecked) private var slots: [Int32] = []
    private var shift: UInt64 = 60
    private var next = 0
    @exclusivity(unchecked) var rid: [Int64] = []
    @exclusivity(unchecked) var hash: [Int64] = []
    @exclusivity(unchecked) var first: [Int64] = []
    /// 0: not read again (deleted, or carried over by an incremental read); 1: read again;
    /// 2: soft-deleted by this read; 3: a later entry of a key staged more than once (in
    /// `duplicates`, never looked up).
    @exclusivity(unchecked) var state: [UInt8] = []
    /// The previous snapshot's row count (with keys staged more than once).
    var rows = 0
    /// The previous snapshot's largest row id.
    var maxRid: Int64 = 0
    /// The later rows (entry, rid) of keys staged more than once: deleted or carried over with their entry.
    var duplicates: [(entry: Int, rid: Int64)] = []

    /// The rids of the previous rows whose key was not read again (state 0), in rid order.
    func unseenRids() -> [Int64] {
        var out = state.indices.filter { state[$0] == 0 }.map { rid[$0] }
        let extra = duplicates.filter { state[$0.entry] == 0 }.map(\.rid)
        if !extra.isEmpty {
            out += extra
            out.sort()
        }
        return out
    }

    init(_ db: SQLiteDatabase, table: String) throws {
        let expected = Int(try db.scalar("SELECT max(\(StagedColumns.rid)) FROM \(sqlIdent(table))")?.doubleValue ?? 0)
        rid.reserveCapacity(expected); hash.reserveCapacity(expected); first.reserveCapacity(expected)
        ends.reserveCapacity(expected); fingerprints.reserveCapacity(expected)
        let st = try db.prepare("SELECT \(StagedColumns.rid), \(StagedColumns.key), \(StagedColumns.hash), \(StagedColumns.firstRun) FROM \(sqlIdent(table)) ORDER BY \(StagedColumns.rid)")
        while try st.step() {
            rows += 1
            maxRid = st.columnInt(0)
            // A row without a key (staged while the source had none) is no entry.
            _ = st.withColumnText(1) { key in
                bytes.append(contentsOf: UnsafeBufferPointer(start: key.baseAddress?.assumingMemoryBound(to: UInt8.self), count: key.count))
                ends.append(bytes.count)
                fingerprints.append(Self.fingerprint(key))
                rid.append(st.columnInt(0))
                hash.append(st.columnInt(2))
                first.append(st.columnInt(3))
            }
        }
        state = Array(repeating: 0, count: rid.count)
        build()
    }

    /// Places every entry in the slot table, in the order of their home slots (a counting sort by
    /// the slots' top bits first), so that placing writes the table's memory in order instead of
    /// missing the cache once per key. A key's later entries (a key staged more than once) find
    /// its first one while they probe: they are marked dead (state 3, never placed) and listed in
    /// `duplicates`, and the first entry takes the smallest first-seen run.
    private func build() {
        let n = rid.count
        var size = 16, bits: UInt64 = 4
        while size < 2 * n { size <<= 1; bits += 1 }
        slots = Array(repeating: -1, count: size)
        shift = 64 - bits
        // Buckets of 4,096 slots (16 KB of the table each).
        let bucketShift = bits > 12 ? Int(bits) - 12 : 0
        let buckets = 1 << bucketShift
        var starts = Array(repeating: 0, count: buckets + 1)
        for fp in fingerprints { starts[home(fp) >> 12 + 1] += 1 }
        for b in 0..<buckets { starts[b + 1] += starts[b] }
        var order = Array(repeating: Int32(0), count: n)
        for (e, fp) in fingerprints.enumerated() {
            let b = home(fp) >> 12
            order[starts[b]] = Int32(e)
            starts[b] += 1
        }
        let mask = size - 1
        for o in order {
            let e = Int(o), fp = fingerprints[e]
            var s = home(fp)
            while true {
                let other = Int(slots[s])
                if other < 0 {
                    slots[s] = Int32(e)
                    break
                }
                if fingerprints[other] == fp && sameKey(other, e) {
                    // Stable buckets: the key's first entry (lowest rid) was placed first.
                    first[other] = min(first[other], first[e])
                    duplicates.append((other, rid[e]))
                    state[e] = 3
                    break
                }
                s = (s + 1) & mask
            }
        }
        if !duplicates.isEmpty { duplicates.sort { $0.rid < $1.rid } }
    }

    @inline(__always)
    private func home(_ fp: UInt64) -> Int { Int(truncatingIfNeeded: (fp &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    private func sameKey(_ a: Int, _ b: Int) -> Bool {
        let sa = a == 0 ? 0 : ends[a - 1], sb = b == 0 ? 0 : ends[b - 1]
        let n = ends[a] - sa
        guard ends[b] - sb == n else { return false }
        return bytes.withUnsafeBytes { n == 0 || memcmp($0.baseAddress! + sa, $0.baseAddress! + sb, n) == 0 }
    }

    /// The index of `key`'s entry, or nil when the previous snapshot does not hold it.
    ///
    /// A source usually lists its rows in the same order as last time, so the entry after the
    /// last one found is tried first: then the lookup reads memory in order instead of probing.
    func index(of key: String) -> Int? {
        var key = key
        return key.withUTF8 { utf8 in
            let key = UnsafeRawBufferPointer(utf8)
            let fp = Self.fingerprint(key)
            let guess = next
            if guess < fingerprints.count && fingerprints[guess] == fp && state[guess] != 3 && equal(guess, key) {
                next = guess + 1
                return guess
            }
            let found = find(key, fp)
            if let found { next = found + 1 }
            return found
        }
    }

    @inline(__always)
    private func equal(_ e: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let start = e == 0 ? 0 : ends[e - 1]
        return bytes.withUnsafeBytes { all in
            ends[e] - start == key.count && (key.isEmpty || memcmp(all.baseAddress! + start, key.baseAddress!, key.count) == 0)
        }
    }

    @inline(__always)
    private static func fingerprint(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var h = FNV1a()
        h.add(key)
        return h.value
    }

    @inline(__always)
    private func find(_ key: UnsafeRawBufferPointer, _ fp: UInt64) -> Int? {
        let mask = slots.count - 1
        var s = home(fp)
        while true {
            let e = Int(slots[s])
            if e < 0 { return nil }
            if fingerprints[e] == fp && equal(e, key) { return e }
            s = (s + 1) & mask
        }
    }
}
