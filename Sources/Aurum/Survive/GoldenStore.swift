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
    public var lineageRows: Int
    /// Wall-clock seconds per phase (`survive`, `ids`, `golden`, `xref`, `lineage`), in order.
    public var seconds: [(phase: String, seconds: Double)]
}

/// The golden-record stage of an entity: stable ids, survived values, and the warehouse state
/// that records them (`golden_<entity>`, xref, golden_lineage, golden_ids, golden_events).
public enum GoldenStage {
    /// Columns of the golden table besides the attributes.
    public static let idColumn = "golden_id", recordsColumn = "__records", sourcesColumn = "__sources"

    public static func tableName(_ entity: String) -> String { "golden_" + entity }

    /// Assigns golden ids to this run's clusters, survives their values, and rewrites the entity's
    /// golden state in the warehouse.
    ///
    /// `clusters[r]` is the cluster (0..<clusterCount) of record `r`; every cluster holds a record.
    /// Writes happen in a savepoint: on any error the warehouse is left as it was (inside the
    /// caller's transaction when there is one, in a transaction of its own otherwise). `run` must
    /// exist in `runs`.
    ///
    /// Rewritten for the entity: `golden_<entity>` (`golden_id INTEGER PRIMARY KEY`, the attributes
    /// in order, `__records` = record count, `__sources` = distinct source names in catalog order,
    /// `;`-separated), its xref rows (every record → golden id, this run), its golden_lineage rows
    /// (one per non-null golden value: rule and contributing `source:key` records, `;`-separated,
    /// in record order). Added: golden_ids rows of minted ids, status changes of merged and retired
    /// ids, and one golden_events row per created, split (golden_id = original, other_id = new),
    /// merged (golden_id = merged, other_id = survivor) and retired id.
    public static func build(entity: EntitySpec, records: EntityRecords, clusters: [Int32], clusterCount: Int,
                             db: SQLiteDatabase, run: Int64) throws -> GoldenSummary {
        precondition(clusters.count == records.count, "one cluster per record")
        precondition(records.attributes == entity.attributes.map(\.name), "records carry the entity's attributes")
        try checkColumns(entity, records)
        var seconds: [(phase: String, seconds: Double)] = []
        var clock = Date()
        func lap(_ phase: String) {
            let now = Date()
            seconds.append((phase, now.timeIntervalSince(clock)))
            clock = now
        }

        try db.execute("SAVEPOINT aurum_golden")
        do {
            let members = ClusterMembers(clusters: clusters, clusterCount: clusterCount)
            let survived = try Survivorship.survive(entity: entity, records: records, members: members, db: db)
            lap("survive")
            let previous = try GoldenIds.loadPrevious(entity: entity.name, records: records, db: db)
            let ids = GoldenIds.assign(previous: previous, members: members)
            try writeIds(entity.name, ids, run: run, db: db)
            lap("ids")
            let table = tableName(entity.name)
            try writeGoldenTable(table, records: records, members: members, survived: survived, ids: ids.ids, db: db)
            lap("golden")
            try writeXref(entity.name, records: records, clusters: clusters, ids: ids.ids, run: run, db: db)
            lap("xref")
            let lineageRows = try writeLineage(entity.name, records: records, survived: survived, ids: ids.ids, run: run, db: db)
            lap("lineage")
            try db.execute("RELEASE aurum_golden")
            return GoldenSummary(entity: entity.name, table: table, records: records.count, goldenRecords: clusterCount,
                                 created: ids.created.count, merged: ids.merges.count, split: ids.splitIds,
                                 retired: ids.retired.count, unchanged: ids.unchanged, changed: ids.changed,
                                 lineageRows: lineageRows, seconds: seconds)
        } catch {
            try? db.execute("ROLLBACK TO aurum_golden")
            try? db.execute("RELEASE aurum_golden")
            throw error
        }
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
                                 ids: [Int64], db: SQLiteDatabase) throws {
        let t = sqlIdent(table)
        try db.execute("DROP TABLE IF EXISTS \(t)")
        // Attribute columns have no declared type, so each value keeps the type survivorship gave it.
        let attrs = records.attributes.map { ", " + sqlIdent($0) }.joined()
        try db.execute("CREATE TABLE \(t) (\(idColumn) INTEGER PRIMARY KEY\(attrs), \(recordsColumn) INTEGER NOT NULL, \(sourcesColumn) TEXT NOT NULL)")
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

    static func writeXref(_ entity: String, records: EntityRecords, clusters: [Int32], ids: [Int64], run: Int64, db: SQLiteDatabase) throws {
        try db.run("DELETE FROM xref WHERE entity = ?", [.text(entity)])
        let st = try db.prepare("INSERT INTO xref(entity, source, source_key, golden_id, run_id) VALUES (?, ?, ?, ?, ?)")
        try st.bind([.text(entity)])
        st.bindInt(run, at: 5)
        let sources = records.sources.map(Value.text)
        do {
            for r in 0..<records.count {
                try st.bind(sources[Int(records.source[r])], at: 2)
                try st.bind(.text(records.sourceKey[r]), at: 3)
                st.bindInt(ids[Int(clusters[r])], at: 4)
                try st.step()
                st.resetKeepingBindings()
            }
        } catch let e as SQLiteError where e.code & 0xFF == 19 /* SQLITE_CONSTRAINT */ {
            _ = try GoldenIds.keyIndex(records)  // names the duplicate key
            throw e
        }
    }

    static func writeLineage(_ entity: String, records: EntityRecords, survived: SurvivedValues, ids: [Int64], run: Int64,
                             db: SQLiteDatabase) throws -> Int {
        try db.run("DELETE FROM golden_lineage WHERE entity = ?", [.text(entity)])
        let st = try db.prepare("INSERT INTO golden_lineage(entity, golden_id, attribute, rule, records, run_id) VALUES (?, ?, ?, ?, ?, ?)")
        try st.bind([.text(entity)])
        st.bindInt(run, at: 6)
        let attributes = records.attributes.map(Value.text)
        let rules = survived.rules.map { Value.text($0.lineageLabel) }
        var text = ""
        text.reserveCapacity(256)
        var rows = 0
        for c in byId(ids) {
            st.bindInt(ids[c], at: 2)
            for a in attributes.indices where !survived.values[a][c].isNull {
                text.removeAll(keepingCapacity: true)
                for r in survived.contributors(attribute: a, cluster: c) {
                    if !text.isEmpty { text += ";" }
                    text += records.sources[Int(records.source[Int(r)])]
                    text += ":"
                    text += records.sourceKey[Int(r)]
                }
                try st.bind(attributes[a], at: 3)
                try st.bind(rules[a], at: 4)
                try st.bind(.text(text), at: 5)
                try st.step()
                st.resetKeepingBindings()
                rows += 1
            }
        }
        return rows
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
