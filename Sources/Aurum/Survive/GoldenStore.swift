import Foundation

/// What the golden-record stage did for one entity, for the run report.
public struct GoldenSummary: Sendable {
    public var entity: String
    /// The table holding the golden records (`golden_<entity>`).
    public var table: String
    public var records: Int
    public var goldenRecords: Int
    /// Ids minted for clusters of records that had none.
    public var created: Int
    /// Previous ids merged into another id.
    public var merged: Int
    /// Ids minted for parts split off previous ids.
    public var split: Int
    /// Previous ids whose records are all gone.
    public var retired: Int
    /// Golden records that kept their id and exactly their records.
    public var unchanged: Int
    /// Golden records that kept their id but gained or lost records.
    public var changed: Int
    /// Xref rows inserted, updated or deleted (unchanged records are not rewritten).
    public var xrefRowsWritten: Int
    /// Golden values with lineage (the non-null ones).
    public var lineageValues: Int
    /// Wall-clock seconds per phase (`survive`, `ids`, `xref`, `golden`, `lineage`, `swap`), in order.
    public var seconds: [(phase: String, seconds: Double)]
}

/// The golden-record stage of an entity: stable ids, survived values, and the warehouse state
/// that records them (`golden_<entity>`, `golden_<entity>__lineage`, golden_rules, xref, golden_ids,
/// golden_events).
public enum GoldenStage {
    /// Columns of the golden table besides the attributes.
    public static let idColumn = "golden_id", recordsColumn = "__records", sourcesColumn = "__sources"

    public static func tableName(_ entity: String) -> String { "golden_" + entity }

    /// Assigns golden ids to this run's clusters, survives their values, and rewrites the entity's
    /// golden state in the warehouse.
    ///
    /// `clusters[r]` is the cluster (0..<clusterCount) of record `r`; every cluster holds a record.
    /// Inside the caller's transaction when there is one — which the caller must roll back when
    /// this throws — else in a transaction of its own, rolled back on error: either way a failure
    /// leaves no partial golden state. `run` must exist in `runs`.
    ///
    /// Rewritten for the entity: `golden_<entity>` (`golden_id INTEGER PRIMARY KEY`, the attributes
    /// in order, `__records` = record count, `__sources` = distinct source names in catalog order,
    /// `;`-separated); `golden_<entity>__lineage` (`golden_id`, then per attribute the `source:key`
    /// records behind the value, `;`-separated, in record order; NULL for a NULL value); its
    /// golden_rules rows (the rule of each attribute). Updated: xref (new records, records whose
    /// golden id changed — with this run — and records gone; the rest are left alone). Added:
    /// golden_ids rows of minted ids, status changes of merged and retired ids, and one
    /// golden_events row per created, split (golden_id = original, other_id = new), merged
    /// (golden_id = merged, other_id = survivor) and retired id.
    public static func build(entity: EntitySpec, records: EntityRecords, clusters: [Int32], clusterCount: Int,
                             db: SQLiteDatabase, run: Int64) throws -> GoldenSummary {
        precondition(clusters.count == records.count, "one cluster per record")
        precondition(records.attributes == entity.attributes.map(\.name), "records carry the entity's attributes")
        try checkColumns(entity, records)
        let byKey = try RecordKeyOrder(records)
        var seconds: [(phase: String, seconds: Double)] = []
        var clock = Date()
        func lap(_ phase: String) {
            let now = Date()
            seconds.append((phase, now.timeIntervalSince(clock)))
            clock = now
        }

        // Not a savepoint inside the caller's transaction: SQLite keeps a savepoint's undo pages in
        // an in-memory sub-journal that grows with the whole stage, and statements slow down with it
        // (measured at 300k records: 6,833 xref upserts 0.1 s → 8.9 s).
        let own = !db.isInTransaction
        if own { try db.execute("BEGIN IMMEDIATE") }
        do {
            let members = ClusterMembers(clusters: clusters, clusterCount: clusterCount)
            let survived = try Survivorship.survive(entity: entity, records: records, members: members, db: db)
            lap("survive")
            let previous = try GoldenIds.loadPrevious(entity: entity.name, records: records, byKey: byKey, db: db)
            let ids = GoldenIds.assign(previous: previous, members: members)
            try writeIds(entity.name, ids, run: run, db: db)
            FaultPoints.hit("golden.ids")
            lap("ids")
            let xrefRows = try writeXref(entity.name, records: records, byKey: byKey, previous: previous, clusters: clusters,
                                         ids: ids.ids, run: run, db: db)
            lap("xref")
            // The new tables are filled under load names and swapped in last, so the old ones stay
            // readable until the end and their freed pages are not reused mid-stage.
            let table = tableName(entity.name), lineageTable = lineageTableName(entity.name)
            try writeGoldenTable(table + "__load", records: records, members: members, survived: survived, ids: ids.ids, db: db)
            lap("golden")
            let lineageValues = try writeLineage(entity.name, table: lineageTable + "__load", records: records, survived: survived,
                                                 ids: ids.ids, run: run, db: db)
            lap("lineage")
            FaultPoints.hit("golden.lineage")
            for t in [table, lineageTable] {
                try db.execute("DROP TABLE IF EXISTS \(sqlIdent(t))")
                try db.execute("ALTER TABLE \(sqlIdent(t + "__load")) RENAME TO \(sqlIdent(t))")
            }
            lap("swap")
            FaultPoints.hit("golden.swapped")
            if own { try db.execute("COMMIT") }
            return GoldenSummary(entity: entity.name, table: tableName(entity.name), records: records.count, goldenRecords: clusterCount,
                                 created: ids.created.count, merged: ids.merges.count, split: ids.splitIds,
                                 retired: ids.retired.count, unchanged: ids.unchanged, changed: ids.changed,
                                 xrefRowsWritten: xrefRows, lineageValues: lineageValues, seconds: seconds)
        } catch {
            if own { try? db.execute("ROLLBACK") }
            throw error
        }
    }

    /// The incremental golden stage: golden ids, survival and in-place writes for the affected
    /// records only (`records`: the affected records that still exist, in record order, with their
    /// clusters; `previous`: their previous ids, and the affected ids' history). The golden records
    /// of no affected record (`untouched` of them) are not read or written. Returns the summary
    /// and the golden ids whose rows were written or removed, ascending.
    static func update(entity: EntitySpec, records: EntityRecords, clusters: [Int32], clusterCount: Int,
                       previous: PreviousGoldenState, untouched: Int, db: SQLiteDatabase, run: Int64) throws -> (GoldenSummary, [Int64]) {
        precondition(clusters.count == records.count, "one cluster per record")
        try checkColumns(entity, records)
        let byKey = try RecordKeyOrder(records)
        var seconds: [(phase: String, seconds: Double)] = []
        var clock = Date()
        func lap(_ phase: String) {
            let now = Date()
            seconds.append((phase, now.timeIntervalSince(clock)))
            clock = now
        }
        let members = ClusterMembers(clusters: clusters, clusterCount: clusterCount)
        let survived = try Survivorship.survive(entity: entity, records: records, members: members, db: db)
        lap("survive")
        let ids = GoldenIds.assign(previous: previous, members: members)
        try writeIds(entity.name, ids, run: run, db: db)
        lap("ids")
        FaultPoints.hit("golden.ids")
        let xrefRows = try writeXref(entity.name, records: records, byKey: byKey, previous: previous, clusters: clusters,
                                     ids: ids.ids, run: run, db: db)
        lap("xref")
        let table = tableName(entity.name), lineageTable = lineageTableName(entity.name)
        for t in [table, lineageTable] {
            let del = try db.prepare("DELETE FROM \(sqlIdent(t)) WHERE \(idColumn) = ?")
            for id in previous.active.keys.sorted() {
                del.bindInt(id, at: 1)
                try del.step()
                del.resetKeepingBindings()
            }
        }
        try writeGoldenTable(table, records: records, members: members, survived: survived, ids: ids.ids, db: db, create: false)
        lap("golden")
        FaultPoints.hit("golden.lineage")
        let lineageValues = try writeLineage(entity.name, table: lineageTable, records: records, survived: survived,
                                             ids: ids.ids, run: run, db: db, create: false)
        lap("lineage")
        FaultPoints.hit("golden.swapped")
        let golden = Int(try db.scalar("SELECT count(*) FROM \(sqlIdent(table))")?.doubleValue ?? 0)
        let touched = Set(previous.active.keys).union(ids.ids).sorted()
        return (GoldenSummary(entity: entity.name, table: table, records: records.count, goldenRecords: golden,
                              created: ids.created.count, merged: ids.merges.count, split: ids.splitIds,
                              retired: ids.retired.count, unchanged: ids.unchanged + untouched, changed: ids.changed,
                              xrefRowsWritten: xrefRows, lineageValues: lineageValues, seconds: seconds), touched)
    }

    /// Attribute names must not collide with each other or with the golden table's own columns.
    static func checkColumns(_ entity: EntitySpec, _ records: EntityRecords) throws {
        var seen: Set<String> = [idColumn, recordsColumn, sourcesColumn]
        for a in records.attributes where !seen.insert(a.lowercased()).inserted {
            throw AurumError(.invalidCatalog, "attribute '\(a)' of entity '\(entity.name)' collides with another column of \(tableName(entity.name))",
                             at: "\(entity.location).attributes", hint: "golden_id, __records and __sources are reserved; attribute names are case-insensitive")
        }
    }

    static func writeIds(_ entity: String, _ a: GoldenIdAssignment, run: Int64, db: SQLiteDatabase) throws {
        let mint = try db.prepare("INSERT INTO golden_ids(entity, golden_id, created_run, status) VALUES (?, ?, ?, 'active')")
        let event = try db.prepare("INSERT INTO golden_events(run_id, entity, golden_id, event, other_id) VALUES (?, ?, ?, ?, ?)")
        let status = try db.prepare("UPDATE golden_ids SET status = ?, merged_into = ?, changed_run = ? WHERE entity = ? AND golden_id = ?")
        try mint.bind([.text(entity), .null, .integer(run)])
        try event.bind([.integer(run), .text(entity)])
        try status.bind([.null, .null, .integer(run), .text(entity)])
        func addEvent(_ id: Int64, _ kind: String, _ other: Int64?) throws {
            event.bindInt(id, at: 3)
            try event.bind(.text(kind), at: 4)
            if let other { event.bindInt(other, at: 5) } else { event.bindNull(at: 5) }
            try event.step()
            event.resetKeepingBindings()
        }
        func mintId(_ id: Int64) throws {
            mint.bindInt(id, at: 2)
            try mint.step()
            mint.resetKeepingBindings()
        }
        for id in a.created {
            try mintId(id)
            try addEvent(id, "created", nil)
        }
        var last: Int64 = 0
        for s in a.splits {
            if s.id != last { try mintId(s.id); last = s.id }
            try addEvent(s.original, "split", s.id)
        }
        for m in a.merges {
            try status.bind(.text("merged"), at: 1)
            status.bindInt(m.into, at: 2)
            status.bindInt(m.id, at: 5)
            try status.step()
            status.resetKeepingBindings()
            try addEvent(m.id, "merged", m.into)
        }
        for id in a.retired {
            try status.bind(.text("retired"), at: 1)
            status.bindNull(at: 2)
            status.bindInt(id, at: 5)
            try status.step()
            status.resetKeepingBindings()
            try addEvent(id, "retired", nil)
        }
    }

    static func writeGoldenTable(_ table: String, records: EntityRecords, members: ClusterMembers, survived: SurvivedValues,
                                 ids: [Int64], db: SQLiteDatabase, create: Bool = true) throws {
        let t = sqlIdent(table)
        if create {
            try db.execute("DROP TABLE IF EXISTS \(t)")
            // Attribute columns have no declared type, so each value keeps the type survivorship gave it.
            let attrs = records.attributes.map { ", " + sqlIdent($0) }.joined()
            try db.execute("CREATE TABLE \(t) (\(idColumn) INTEGER PRIMARY KEY\(attrs), \(recordsColumn) INTEGER NOT NULL, \(sourcesColumn) TEXT NOT NULL)")
        }
        let width = records.attributes.count
        let st = try db.prepare("INSERT INTO \(t) VALUES (?\(String(repeating: ", ?", count: width + 2)))")
        var sourceNames = SourceSets(records.sources)
        for c in byId(ids) {
            st.bindInt(ids[c], at: 1)
            for a in 0..<width { try st.bind(survived.values[a][c], at: Int32(a + 2)) }
            let range = members.range(c)
            st.bindInt(Int64(range.count), at: Int32(width + 2))
            try st.bind(.text(sourceNames.names(members.members[range], records.source)), at: Int32(width + 3))
            try st.step()
            st.resetKeepingBindings()
        }
    }

    /// Clusters in ascending golden id order, so rows append to the tables' b-trees.
    static func byId(_ ids: [Int64]) -> [Int] {
        var sorted = true
        for c in ids.indices.dropFirst() where ids[c] < ids[c - 1] { sorted = false; break }
        return sorted ? Array(ids.indices) : ids.indices.sorted { ids[$0] < ids[$1] }
    }

    /// Writes the xref rows that changed: new records, records whose golden id changed (both with
    /// this run), and deletes those of records that are gone. Rows go in primary-key order.
    static func writeXref(_ entity: String, records: EntityRecords, byKey: RecordKeyOrder, previous: PreviousGoldenState,
                          clusters: [Int32], ids: [Int64], run: Int64, db: SQLiteDatabase) throws -> Int {
        let delete = try db.prepare("DELETE FROM xref WHERE entity = ? AND source = ? AND source_key = ?")
        try delete.bind([.text(entity)])
        for v in previous.vanished {
            try delete.bind(.text(v.source), at: 2)
            try delete.bind(.text(v.key), at: 3)
            try delete.step()
            delete.resetKeepingBindings()
        }
        var changed = 0
        for r in 0..<records.count where previous.ids[r] != ids[Int(clusters[r])] { changed += 1 }
        // Rows go in key order, so the primary key grows at its end but xref_by_golden takes them
        // in random order; for a bulk write, rebuilding that index afterwards is twice as fast
        // (1M rows: 4.3 s → 2.4 s of CPU). Same definition as in migrations/0002_matching.sql.
        let total = Int(try db.scalar("SELECT count(*) FROM xref")?.doubleValue ?? 0)
        let rebuild = changed >= 50_000 && changed * 2 >= total
        if rebuild { try db.execute("DROP INDEX IF EXISTS xref_by_golden") }
        let st = try db.prepare("""
            INSERT INTO xref(entity, source, source_key, golden_id, run_id) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(entity, source, source_key) DO UPDATE SET golden_id = excluded.golden_id, run_id = excluded.run_id
            """)
        try st.bind([.text(entity)])
        st.bindInt(run, at: 5)
        let sources = records.sources.map(Value.text)
        var written = 0
        for r32 in byKey.order {
            let r = Int(r32)
            let id = ids[Int(clusters[r])]
            if previous.ids[r] == id { continue }
            try st.bind(sources[Int(records.source[r])], at: 2)
            try st.bind(.text(records.sourceKey[r]), at: 3)
            st.bindInt(id, at: 4)
            try st.step()
            st.resetKeepingBindings()
            written += 1
            FaultPoints.hit("golden.xref")
        }
        if rebuild { try db.execute("CREATE INDEX xref_by_golden ON xref(entity, golden_id)") }
        return written + previous.vanished.count
    }

    public static func lineageTableName(_ entity: String) -> String { tableName(entity) + "__lineage" }

    /// Rewrites `golden_<entity>__lineage` (one row per golden record, one column of contributing
    /// records per attribute) and the entity's rows of golden_rules. Returns the number of values
    /// with lineage.
    static func writeLineage(_ entity: String, table: String, records: EntityRecords, survived: SurvivedValues, ids: [Int64], run: Int64,
                             db: SQLiteDatabase, create: Bool = true) throws -> Int {
        try db.run("DELETE FROM golden_rules WHERE entity = ?", [.text(entity)])
        let rule = try db.prepare("INSERT INTO golden_rules(entity, attribute, position, rule, run_id) VALUES (?, ?, ?, ?, ?)")
        for (a, name) in records.attributes.enumerated() {
            try rule.bind([.text(entity), .text(name), .integer(Int64(a + 1)), .text(survived.rules[a].lineageLabel), .integer(run)])
            try rule.step()
            rule.reset()
        }
        let t = sqlIdent(table)
        if create {
            try db.execute("DROP TABLE IF EXISTS \(t)")
            let cols = records.attributes.map { ", " + sqlIdent($0) + " TEXT" }.joined()
            try db.execute("CREATE TABLE \(t) (\(idColumn) INTEGER PRIMARY KEY\(cols))")
        }
        let width = records.attributes.count
        let st = try db.prepare("INSERT INTO \(t) VALUES (?\(String(repeating: ", ?", count: width)))")
        var text = ""
        text.reserveCapacity(256)
        var values = 0
        for c in byId(ids) {
            st.bindInt(ids[c], at: 1)
            for a in 0..<width {
                if survived.values[a][c].isNull { st.bindNull(at: Int32(a + 2)); continue }
                text.removeAll(keepingCapacity: true)
                for r in survived.contributors(attribute: a, cluster: c) {
                    if !text.isEmpty { text += ";" }
                    text += records.sources[Int(records.source[Int(r)])]
                    text += ":"
                    text += records.sourceKey[Int(r)]
                }
                try st.bind(.text(text), at: Int32(a + 2))
                values += 1
            }
            try st.step()
            st.resetKeepingBindings()
        }
        return values
    }

    /// One golden value and where it came from, as `aurum explain` shows it.
    public struct ValueLineage: Sendable, Equatable {
        public var attribute: String
        public var value: Value
        public var rule: String
        /// `source:key` of the contributing records, in record order (empty for a NULL value).
        public var records: [String]
    }

    /// Every attribute of golden record `goldenId` of `entity`, with its rule and records; nil when
    /// the entity has no such golden record.
    public static func lineage(entity: String, goldenId: Int64, db: SQLiteDatabase) throws -> [ValueLineage]? {
        let rules = try db.query("SELECT attribute, rule FROM golden_rules WHERE entity = ? ORDER BY position", [.text(entity)])
        guard !rules.isEmpty, try db.tableExists(tableName(entity)), try db.tableExists(lineageTableName(entity)) else { return nil }
        let names = rules.map { $0[0].textValue ?? "" }
        let cols = names.map { "g." + sqlIdent($0) + ", l." + sqlIdent($0) }.joined(separator: ", ")
        let rows = try db.query("""
            SELECT \(cols) FROM \(sqlIdent(tableName(entity))) AS g JOIN \(sqlIdent(lineageTableName(entity))) AS l USING (\(idColumn))
            WHERE \(idColumn) = ?
            """, [.integer(goldenId)])
        guard let row = rows.first else { return nil }
        return names.enumerated().map { a, name in
            ValueLineage(attribute: name, value: row[2 * a], rule: rules[a][1].textValue ?? "",
                         records: row[2 * a + 1].textValue.map { $0.split(separator: ";").map(String.init) } ?? [])
        }
    }
}

/// Distinct source names of a cluster, in catalog order, `;`-separated; cached per set of sources.
struct SourceSets {
    let sources: [String]
    var cache: [UInt64: String] = [:]
    var seen: [Bool]
    init(_ sources: [String]) {
        self.sources = sources
        self.seen = Array(repeating: false, count: sources.count)
    }

    mutating func names(_ records: ArraySlice<Int32>, _ source: [Int32]) -> String {
        if sources.count <= 64 {
            var mask: UInt64 = 0
            for r in records { mask |= 1 << UInt64(source[Int(r)]) }
            if let s = cache[mask] { return s }
            let s = sources.indices.filter { mask & (1 << UInt64($0)) != 0 }.map { sources[$0] }.joined(separator: ";")
            cache[mask] = s
            return s
        }
        for i in seen.indices { seen[i] = false }
        for r in records { seen[Int(source[Int(r)])] = true }
        return sources.indices.filter { seen[$0] }.map { sources[$0] }.joined(separator: ";")
    }
}
