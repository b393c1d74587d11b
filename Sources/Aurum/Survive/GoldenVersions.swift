internal import CSQLite3
import Foundation

/// Versions of golden records (`golden_versions`): every change to a golden record's values or
/// member records opens a new version, valid from the run that made it until the run that replaced
/// or ended it, with the reason.
///
/// Reasons a version begins, the first that applies:
/// - `created` — a new id minted for records that had none;
/// - `steward decision` — a steward decision recorded since the entity's previous run names one of
///   its records (now or in its previous version);
/// - `merge` — it absorbed another id this run;
/// - `split` — it was minted from, or lost records to, a split this run;
/// - `source change` — its values or records changed because source records did.
///
/// A version ends `superseded` (by the next one), or with its id `merged` (into `merged_into`) or
/// `retired`.
public enum GoldenVersions {
    public static let table = "golden_versions"

    /// What one recording did.
    public struct Summary: Sendable, Equatable {
        /// Golden records compared with their open version.
        public var compared: Int
        /// Versions opened, by reason.
        public var opened: [String: Int]
        /// Versions closed, by end reason (`superseded`, `merged`, `retired`).
        public var closed: [String: Int]
        public var openedCount: Int { opened.values.reduce(0, +) }
        public var closedCount: Int { closed.values.reduce(0, +) }
    }

    /// Compares the entity's golden records, as its golden stage has just written them in `run`,
    /// with their open versions, and records what changed.
    ///
    /// `touched`: the golden ids the stage may have changed (nil: all of them); ids named by this
    /// run's merge, split and retire events are added. Ids outside it are taken as unchanged and
    /// not read. Inside the caller's transaction when there is one (which it must roll back when
    /// this throws), else in one of its own.
    ///
    /// Cost: one pass over `golden_<entity>`, the entity's xref and its open versions in golden id
    /// order, hashing raw column bytes; values and member lists are built only for changed records.
    @discardableResult
    public static func record(entity: EntitySpec, run: Int64, db: SQLiteDatabase, touched: Set<Int64>? = nil) throws -> Summary {
        let own = !db.isInTransaction
        if own { try db.execute("BEGIN IMMEDIATE") }
        do {
            var recorder = Recorder(entity: entity.name, attributes: entity.attributes.map(\.name), run: run, db: db, touched: touched)
            let summary = try recorder.compareAndRecord()
            if own { try db.execute("COMMIT") }
            return summary
        } catch {
            if own { try? db.execute("ROLLBACK") }
            throw error
        }
    }

    /// The content hash of a golden record: attribute names and typed values, and the member set.
    struct ContentHash {
        var values: FNV1a
        var members: UInt64 = 0
        var count: UInt64 = 0

        init(seed: FNV1a) { values = seed }

        static func seed(_ attributes: [String]) -> FNV1a {
            var h = FNV1a()
            for a in attributes { h.add(a); h.add(byte: 0x1F) }
            return h
        }

        /// Members are summed (each hashed and mixed), so their order does not matter.
        mutating func addMember(source: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer) {
            var h = FNV1a()
            h.add(source)
            h.add(byte: 0x1F)
            h.add(key)
            members &+= SplitMix64.finalize(h.value)
            count += 1
        }

        var value: Int64 {
            Int64(bitPattern: SplitMix64.finalize(values.value ^ SplitMix64.finalize(members &+ count)))
        }
    }
}

extension GoldenVersions {
    struct Recorder {
        let entity: String
        let attributes: [String]
        let run: Int64
        let db: SQLiteDatabase
        var touched: Set<Int64>?

        /// This run's events: absorbed id → survivor, survivors, ids in splits, retired ids.
        var mergedInto: [Int64: Int64] = [:]
        var survivors: Set<Int64> = []
        var splitIds: Set<Int64> = []
        var retired: Set<Int64> = []
        /// Records named by steward decisions since the previous run, and their golden ids now.
        var decided: [String] = []
        var decidedIds: Set<Int64> = []

        var summary = Summary(compared: 0, opened: [:], closed: [:])

        init(entity: String, attributes: [String], run: Int64, db: SQLiteDatabase, touched: Set<Int64>?) {
            self.entity = entity; self.attributes = attributes; self.run = run; self.db = db; self.touched = touched
        }

        mutating func compareAndRecord() throws -> Summary {
            try loadEvents()
            try loadDecisions()
            let filter: String
            if var ids = touched {
                ids.formUnion(mergedInto.keys)
                ids.formUnion(survivors)
                ids.formUnion(splitIds)
                ids.formUnion(retired)
                try db.execute("DROP TABLE IF EXISTS temp.aurum_golden_touched")
                try db.execute("CREATE TEMP TABLE aurum_golden_touched (golden_id INTEGER PRIMARY KEY)")
                let ins = try db.prepare("INSERT INTO temp.aurum_golden_touched VALUES (?)")
                for id in ids.sorted() {
                    ins.bindInt(id, at: 1)
                    try ins.step()
                    ins.resetKeepingBindings()
                }
                filter = " AND golden_id IN (SELECT golden_id FROM temp.aurum_golden_touched)"
            } else {
                filter = ""
            }
            defer { if touched != nil { try? db.execute("DROP TABLE IF EXISTS temp.aurum_golden_touched") } }

            // The open versions first, whole (id, hash, rowid: 24 bytes each), so that the pass
            // below writes golden_versions without a statement reading it.
            var openIds: [Int64] = [], openHashes: [Int64] = [], openRows: [Int64] = []
            let open = try db.prepare("""
                SELECT golden_id, content_hash, rowid FROM golden_versions WHERE entity = ? AND valid_to_run IS NULL\(filter) ORDER BY golden_id
                """)
            try open.bind([.text(entity)])
            while try open.step() {
                openIds.append(open.columnInt(0)); openHashes.append(open.columnInt(1)); openRows.append(open.columnInt(2))
            }

            let writer = try Writer(entity: entity, attributes: attributes, run: run, db: db)
            let goldenTable = GoldenStage.tableName(entity)
            var o = 0
            if try db.tableExists(goldenTable) {
                let cols = attributes.map { ", " + sqlIdent($0) }.joined()
                let golden = try db.prepare("""
                    SELECT \(GoldenStage.idColumn)\(cols), \(GoldenStage.recordsColumn) FROM \(sqlIdent(goldenTable))
                    WHERE 1\(filter) ORDER BY \(GoldenStage.idColumn)
                    """)
                // All ids: one scan of the xref in table order (golden id order would cost a random
                // row lookup per record: 5.3 s against 0.5 s at 1M), members summed per id. Touched
                // ids: their rows through the golden-id index.
                let scan = touched == nil ? try MemberScan(entity: entity, db: db, open: openIds) : nil
                var pending = 0
                let xref = try db.prepare("SELECT golden_id, source, source_key FROM xref WHERE entity = ?\(filter) ORDER BY golden_id")
                try xref.bind([.text(entity)])
                var more = scan == nil ? try xref.step() : false
                let seed = ContentHash.seed(attributes)
                let width = Int32(attributes.count)
                var members: [(String, String)] = []
                while try golden.step() {
                    let id = golden.columnInt(0)
                    summary.compared += 1
                    while o < openIds.count && openIds[o] < id {
                        try end(openIds[o], row: openRows[o], writer)
                        o += 1
                    }
                    let hasOpen = o < openIds.count && openIds[o] == id
                    var hash = ContentHash(seed: seed)
                    for c in Int32(1)..<(width + 1) { golden.hashColumn(c, into: &hash.values) }
                    // Member names are kept only where they will be written: a record with no open version.
                    members.removeAll(keepingCapacity: true)
                    if let scan {
                        if id >= 0 && Int(id) < scan.sums.count {
                            hash.members = scan.sums[Int(id)]
                            hash.count = UInt64(scan.counts[Int(id)])
                        }
                        while pending < scan.pending.count && scan.pending[pending].id < id { pending += 1 }
                        while pending < scan.pending.count && scan.pending[pending].id == id {
                            members.append((scan.pending[pending].source, scan.pending[pending].key))
                            pending += 1
                        }
                    }
                    while more {
                        let x = xref.columnInt(0)
                        if x > id { break }
                        if x == id {
                            _ = xref.withColumnText(1) { s in xref.withColumnText(2) { k in hash.addMember(source: s, key: k) } }
                            if !hasOpen { members.append((xref.columnText(1), xref.columnText(2))) }
                        }
                        more = try xref.step()
                    }
                    let content = hash.value
                    if hasOpen {
                        let same = openHashes[o] == content
                        let row = openRows[o]
                        o += 1
                        if same { continue }
                        try writer.close(row: row, end: "superseded", into: nil)
                        summary.closed["superseded", default: 0] += 1
                        let reason = try reason(id, previousRow: row)
                        try writer.open(id, golden, width: width, members: nil, hash: content, reason: reason)
                        summary.opened[reason, default: 0] += 1
                    } else {
                        let reason = splitIds.contains(id) ? (decidedIds.contains(id) ? "steward decision" : "split") : "created"
                        try writer.open(id, golden, width: width, members: members, hash: content, reason: reason)
                        summary.opened[reason, default: 0] += 1
                    }
                }
            }
            while o < openIds.count {
                try end(openIds[o], row: openRows[o], writer)
                o += 1
            }
            try db.run("INSERT OR REPLACE INTO golden_version_runs(entity, run_id, opened, closed) VALUES (?, ?, ?, ?)",
                       [.text(entity), .integer(run), .integer(Int64(summary.openedCount)), .integer(Int64(summary.closedCount))])
            return summary
        }

        /// Closes the open version of an id that has no golden record any more.
        mutating func end(_ id: Int64, row: Int64, _ writer: Writer) throws {
            var into = mergedInto[id]
            var how = into != nil ? "merged" : "retired"
            if into == nil && !retired.contains(id),
               let r = try db.query("SELECT status, merged_into FROM golden_ids WHERE entity = ? AND golden_id = ?", [.text(entity), .integer(id)]).first,
               r[0].textValue == "merged", case .integer(let i) = r[1] {
                how = "merged"; into = i
            }
            try writer.close(row: row, end: how, into: into)
            summary.closed[how, default: 0] += 1
        }

        /// Why an id that had an open version changed.
        func reason(_ id: Int64, previousRow: Int64) throws -> String {
            if decidedIds.contains(id) { return "steward decision" }
            if !decided.isEmpty {
                let hit = try db.scalar("""
                    SELECT count(*) FROM golden_versions v, json_each(v.members) m
                    WHERE v.rowid = ? AND m.value IN (SELECT value FROM json_each(?))
                    """, [.integer(previousRow), .text(JSON.array(decided.map(JSON.string)).compact)])
                if (hit?.doubleValue ?? 0) > 0 { return "steward decision" }
            }
            if survivors.contains(id) { return "merge" }
            if splitIds.contains(id) { return "split" }
            return "source change"
        }

        mutating func loadEvents() throws {
            for r in try db.query("""
                SELECT golden_id, event, other_id FROM golden_events WHERE run_id = ? AND entity = ? AND event IN ('merged', 'split', 'retired')
                """, [.integer(run), .text(entity)]) {
                guard case .integer(let id) = r[0] else { continue }
                let other: Int64? = if case .integer(let o) = r[2] { o } else { nil }
                switch r[1].textValue {
                case "merged":
                    if let other { mergedInto[id] = other; survivors.insert(other) }
                case "split":
                    splitIds.insert(id)
                    if let other { splitIds.insert(other) }
                default:
                    retired.insert(id)
                }
            }
        }

        /// Steward decisions recorded since the start of the entity's previous recorded run.
        mutating func loadDecisions() throws {
            guard let since = try db.scalar("""
                SELECT r.started_at FROM golden_version_runs g JOIN runs r ON r.run_id = g.run_id
                WHERE g.entity = ? AND g.run_id < ? ORDER BY g.run_id DESC LIMIT 1
                """, [.text(entity), .integer(run)])?.textValue else { return }
            var refs: Set<String> = []
            let lookup = try db.prepare("SELECT golden_id FROM xref WHERE entity = ? AND source = ? AND source_key = ?")
            for d in try db.query("SELECT source_l, key_l, source_r, key_r FROM match_decisions WHERE entity = ? AND decided_at > ?",
                                  [.text(entity), .text(since)]) {
                for (s, k) in [(d[0], d[1]), (d[2], d[3])] {
                    guard let s = s.textValue, let k = k.textValue, refs.insert(s + ":" + k).inserted else { continue }
                    try lookup.bind([.text(entity), .text(s), .text(k)])
                    if try lookup.step() { decidedIds.insert(lookup.columnInt(0)) }
                    lookup.reset()
                }
            }
            decided = refs.sorted()
        }
    }

    /// The entity's xref in one pass: per golden id the member hash and count, and the member
    /// names of ids without an open version (they will be written), in id order.
    struct MemberScan {
        var sums: [UInt64] = []
        var counts: [UInt32] = []
        var pending: [(id: Int64, source: String, key: String)] = []

        init(entity: String, db: SQLiteDatabase, open: [Int64]) throws {
            var hasOpen: [Bool] = []
            func grow(_ id: Int) {
                let n = max(id + 1, sums.count * 2, 1024)
                sums += repeatElement(0, count: n - sums.count)
                counts += repeatElement(0, count: n - counts.count)
                hasOpen += repeatElement(false, count: n - hasOpen.count)
            }
            if let last = open.last, last >= 0 { grow(Int(last)) }
            for id in open where id >= 0 { hasOpen[Int(id)] = true }
            // `+entity`: a table scan, not the primary-key index (the rows are few entities' anyway).
            let st = try db.prepare("SELECT golden_id, source, source_key FROM xref WHERE +entity = ?")
            try st.bind([.text(entity)])
            var sorted = true
            var last: Int64 = .min
            while try st.step() {
                let id = st.columnInt(0)
                guard id >= 0 else { continue }
                if Int(id) >= sums.count { grow(Int(id)) }
                var h = ContentHash(seed: FNV1a())
                _ = st.withColumnText(1) { s in st.withColumnText(2) { k in h.addMember(source: s, key: k) } }
                sums[Int(id)] &+= h.members
                counts[Int(id)] += 1
                if !hasOpen[Int(id)] {
                    if id < last { sorted = false }
                    last = id
                    pending.append((id, st.columnText(1), st.columnText(2)))
                }
            }
            if !sorted { pending.sort { $0.id < $1.id } }
        }
    }

    /// The statements that open and close versions.
    struct Writer {
        let insert: SQLiteStatement
        let members: SQLiteStatement
        let close: SQLiteStatement
        let attributes: [String]

        init(entity: String, attributes: [String], run: Int64, db: SQLiteDatabase) throws {
            self.attributes = attributes
            insert = try db.prepare("""
                INSERT INTO golden_versions(entity, golden_id, version, valid_from_run, reason, attribute_values, members, record_count, content_hash)
                VALUES (?1, ?2, coalesce((SELECT max(version) FROM golden_versions WHERE entity = ?1 AND golden_id = ?2), 0) + 1, ?3, ?4, ?5, ?6, ?7, ?8)
                """)
            try insert.bind([.text(entity)])
            insert.bindInt(run, at: 3)
            members = try db.prepare("SELECT source, source_key FROM xref WHERE entity = ? AND golden_id = ?")
            try members.bind([.text(entity)])
            close = try db.prepare("UPDATE golden_versions SET valid_to_run = ?, end_reason = ?, merged_into = ? WHERE rowid = ?")
            close.bindInt(run, at: 1)
        }

        /// Opens a version of `id` from the golden row `golden` is on; `members` nil: read them.
        func open(_ id: Int64, _ golden: SQLiteStatement, width: Int32, members given: [(String, String)]?, hash: Int64, reason: String) throws {
            var list = given ?? []
            if given == nil {
                members.bindInt(id, at: 2)
                while try members.step() { list.append((members.columnText(0), members.columnText(1))) }
                members.resetKeepingBindings()
            }
            list.sort { a, b in
                let c = Survivorship.compareBytes(a.0, b.0)
                return c != 0 ? c < 0 : Survivorship.compareBytes(a.1, b.1) < 0
            }
            // The same text JSON(Value).compact writes, built directly (600k records at a first run).
            var values = "{"
            for (a, name) in attributes.enumerated() {
                if a > 0 { values += "," }
                Self.appendString(name, to: &values)
                values += ":"
                switch golden.column(a + 1) {
                case .null: values += "null"
                case .integer(let i): values += String(i)
                case .real(let d): values += d.isFinite ? JSONText.number(d) : "null"
                case .text(let t): Self.appendString(t, to: &values)
                case .blob(let b): Self.appendString(Data(b).base64EncodedString(), to: &values)
                }
            }
            values += "}"
            var refs = "["
            for (i, m) in list.enumerated() {
                if i > 0 { refs += "," }
                Self.appendString(m.0 + ":" + m.1, to: &refs)
            }
            refs += "]"
            insert.bindInt(id, at: 2)
            try insert.bind(.text(reason), at: 4)
            try insert.bind(.text(values), at: 5)
            try insert.bind(.text(refs), at: 6)
            insert.bindInt(Int64(list.count), at: 7)
            insert.bindInt(hash, at: 8)
            try insert.step()
            insert.resetKeepingBindings()
        }

        /// A JSON string; text with nothing to escape (no control character, quote, backslash or
        /// U+2028/2029, whose UTF-8 starts with 0xE2) is copied as is.
        static func appendString(_ s: String, to out: inout String) {
            if s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0xE2 }) {
                JSONText.quote(s, into: &out)
            } else {
                out += "\""
                out += s
                out += "\""
            }
        }

        func close(row: Int64, end: String, into: Int64?) throws {
            try close.bind(.text(end), at: 2)
            if let into { close.bindInt(into, at: 3) } else { close.bindNull(at: 3) }
            close.bindInt(row, at: 4)
            try close.step()
            close.resetKeepingBindings()
        }
    }
}

extension SQLiteStatement {
    /// Adds a column's storage class and raw bytes to a hash, without building a `Value`.
    func hashColumn(_ i: Int32, into h: inout FNV1a) {
        let type = sqlite3_column_type(stmt, i)
        h.add(byte: UInt8(truncatingIfNeeded: type))
        switch type {
        case SQLITE_INTEGER:
            var x = sqlite3_column_int64(stmt, i)
            withUnsafeBytes(of: &x) { h.add($0) }
        case SQLITE_FLOAT:
            var x = sqlite3_column_double(stmt, i).bitPattern
            withUnsafeBytes(of: &x) { h.add($0) }
        case SQLITE_TEXT:
            _ = withColumnText(Int(i)) { h.add($0) }
        case SQLITE_BLOB:
            if let p = sqlite3_column_blob(stmt, i) { h.add(UnsafeRawBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, i)))) }
        default:
            break
        }
        h.add(byte: 0x1F)
    }
}
