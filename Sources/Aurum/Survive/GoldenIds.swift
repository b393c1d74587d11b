import Foundation

/// What the previous runs left for one entity: each current record's golden id and the ids' history.
public struct PreviousGoldenState: Sendable, Equatable {
    /// Per current record: its golden id after the previous run, or 0 for a record seen first now.
    public var ids: [Int64]
    /// Every active golden id of the entity → the run that created it.
    public var active: [Int64: Int64]
    /// Per golden id of the previous xref: how many records it had (those gone since included).
    public var recordCounts: [Int64: Int]
    /// The largest golden id ever minted for the entity (0 when none).
    public var maxMinted: Int64
    /// Records of the previous xref that are no longer among the records.
    public var vanished: [RecordRef] = []

    public init(ids: [Int64], active: [Int64: Int64] = [:], recordCounts: [Int64: Int] = [:], maxMinted: Int64 = 0) {
        self.ids = ids; self.active = active; self.recordCounts = recordCounts; self.maxMinted = maxMinted
    }

    /// A first run: no record has an id yet.
    public static func none(records: Int) -> PreviousGoldenState { PreviousGoldenState(ids: Array(repeating: 0, count: records)) }
}

/// The golden id of every cluster of this run, and what happened to the previous ids.
public struct GoldenIdAssignment: Sendable, Equatable {
    public struct Split: Sendable, Equatable {
        /// The previous id whose records (some of them) are now in the cluster of `id`.
        public var original: Int64
        public var id: Int64
    }
    public struct Merge: Sendable, Equatable {
        public var id: Int64
        public var into: Int64
    }
    /// Per cluster: its golden id.
    public var ids: [Int64]
    /// Ids minted for clusters none of whose records had an id, ascending.
    public var created: [Int64]
    /// Ids minted for clusters made of parts of previous ids (one entry per original), by id then original.
    public var splits: [Split]
    /// Previous ids merged into another cluster's id, by id.
    public var merges: [Merge]
    /// Previous ids none of whose records is left, ascending.
    public var retired: [Int64]
    /// Clusters that kept their id with exactly the records it had.
    public var unchanged: Int
    /// Clusters that kept their id but gained or lost records.
    public var changed: Int

    /// Number of ids minted from splits (a cluster made of parts of two ids counts once).
    public var splitIds: Int {
        var n = 0
        var last: Int64 = 0
        for s in splits where s.id != last { n += 1; last = s.id }
        return n
    }
}

/// Stable golden ids across runs.
///
/// The assignment, for the clusters of this run given each record's previous id:
/// 1. **Claim.** Every previous id that still has records is claimed by the cluster holding most
///    of them (ties: the cluster holding the earliest of them, in record order).
/// 2. **Keep.** A cluster that claimed ids keeps the oldest (smallest created run, then smallest
///    id). The other ids it claimed are *merged* into it (the clusters came together).
/// 3. **Mint.** A cluster that claimed nothing gets a new id, `max ever minted + 1`, in cluster
///    order. If some of its records had ids (parts of clusters that now live elsewhere), the new
///    id is *split* from each of those originals; otherwise it is *created*.
/// 4. **Retire.** An active id none of whose records is left is *retired*.
///
/// So a split leaves the id with the part holding most of its records, a merge keeps the oldest
/// id, the same clusters keep the same ids, and the result depends only on the records, their
/// order and the clusters. Ids are never reused.
public enum GoldenIds {
    public static func assign(previous: PreviousGoldenState, members: ClusterMembers) -> GoldenIdAssignment {
        let clusterCount = members.clusterCount
        let recordCount = previous.ids.count
        precondition(recordCount == members.members.count, "previous ids and clusters cover different records")
        var cluster = [Int32](repeating: 0, count: recordCount)
        for c in 0..<clusterCount { for i in members.range(c) { cluster[Int(members.members[i])] = Int32(c) } }

        // Previous ids that still have records, densely numbered in ascending order.
        let prevIds = Array(Set(previous.ids.lazy.filter { $0 != 0 })).sorted()
        var dense: [Int64: Int32] = [:]
        dense.reserveCapacity(prevIds.count)
        for (i, id) in prevIds.enumerated() { dense[id] = Int32(i) }
        let p = prevIds.count

        // Records grouped by previous id (counting sort, record order kept).
        var start = [Int32](repeating: 0, count: p + 1)
        var denseOf = [Int32](repeating: -1, count: recordCount)
        for (r, id) in previous.ids.enumerated() where id != 0 {
            let d = dense[id]!
            denseOf[r] = d
            start[Int(d) + 1] += 1
        }
        for d in 0..<p { start[d + 1] += start[d] }
        var next = start
        var byId = [Int32](repeating: 0, count: Int(start[p]))
        for r in 0..<recordCount where denseOf[r] >= 0 {
            let d = Int(denseOf[r])
            byId[Int(next[d])] = Int32(r)
            next[d] += 1
        }

        // 1. Claim.
        var claim = [Int32](repeating: -1, count: p)
        var claimCount = [Int32](repeating: 0, count: p)
        var count = [Int32](repeating: 0, count: clusterCount)
        var touched: [Int32] = []
        for d in 0..<p {
            touched.removeAll(keepingCapacity: true)
            for i in Int(start[d])..<Int(start[d + 1]) {
                let c = cluster[Int(byId[i])]
                if count[Int(c)] == 0 { touched.append(c) }
                count[Int(c)] += 1
            }
            // `touched` is in order of each cluster's earliest record, so the first maximum wins ties.
            var best = touched[0]
            for c in touched.dropFirst() where count[Int(c)] > count[Int(best)] { best = c }
            claim[d] = best
            claimCount[d] = count[Int(best)]
            for c in touched { count[Int(c)] = 0 }
        }

        // 2. Keep the oldest claimed id; merge the others into it.
        func older(_ a: Int64, _ b: Int64) -> Bool {
            let ca = previous.active[a] ?? .max, cb = previous.active[b] ?? .max
            return ca != cb ? ca < cb : a < b
        }
        var ids = [Int64](repeating: 0, count: clusterCount)
        for d in 0..<p {
            let c = Int(claim[d]), id = prevIds[d]
            if ids[c] == 0 || older(id, ids[c]) { ids[c] = id }
        }
        var merges: [GoldenIdAssignment.Merge] = []
        for d in 0..<p where ids[Int(claim[d])] != prevIds[d] {
            merges.append(.init(id: prevIds[d], into: ids[Int(claim[d])]))
        }

        // 3. Mint, in cluster order; unchanged or changed for the clusters that kept an id.
        var minted = previous.maxMinted
        var created: [Int64] = []
        var splits: [GoldenIdAssignment.Split] = []
        var unchanged = 0, changed = 0
        var originals: [Int64] = []
        for c in 0..<clusterCount {
            let size = members.range(c).count
            if ids[c] != 0 {
                let d = Int(dense[ids[c]]!)
                let kept = Int(claimCount[d])
                if kept == size && (previous.recordCounts[ids[c]] ?? kept) == kept { unchanged += 1 } else { changed += 1 }
                continue
            }
            minted += 1
            ids[c] = minted
            originals.removeAll(keepingCapacity: true)
            for i in members.range(c) {
                let id = previous.ids[Int(members.members[i])]
                if id != 0 && !originals.contains(id) { originals.append(id) }
            }
            if originals.isEmpty {
                created.append(minted)
            } else {
                for o in originals.sorted() { splits.append(.init(original: o, id: minted)) }
            }
        }

        // 4. Retire the active ids that lost every record.
        let retired = previous.active.keys.filter { dense[$0] == nil }.sorted()
        return GoldenIdAssignment(ids: ids, created: created, splits: splits, merges: merges, retired: retired,
                                  unchanged: unchanged, changed: changed)
    }

    /// Reads the entity's previous state from the warehouse (xref and golden_ids) for `records`.
    public static func loadPrevious(entity: String, records: EntityRecords, db: SQLiteDatabase) throws -> PreviousGoldenState {
        try loadPrevious(entity: entity, records: records, byKey: RecordKeyOrder(records), db: db)
    }

    /// The same, with the records already in key order: a merge join of that order with the xref's
    /// primary-key order, so no index of a million keys is built.
    static func loadPrevious(entity: String, records: EntityRecords, byKey: RecordKeyOrder, db: SQLiteDatabase) throws -> PreviousGoldenState {
        var state = PreviousGoldenState.none(records: records.count)
        for row in try db.query("SELECT golden_id, created_run FROM golden_ids WHERE entity = ? AND status = 'active'", [.text(entity)]) {
            if case .integer(let id) = row[0], case .integer(let run) = row[1] { state.active[id] = run }
        }
        if case .integer(let m)? = try db.scalar("SELECT max(golden_id) FROM golden_ids WHERE entity = ?", [.text(entity)]) {
            state.maxMinted = m
        }
        // Both sides in BINARY (byte) order of (source, key), as the primary key stores them.
        let st = try db.prepare("SELECT source, source_key, golden_id FROM xref WHERE entity = ? ORDER BY source, source_key")
        try st.bind([.text(entity)])
        let order = byKey.order
        var i = 0
        while try st.step() {
            guard case .text(let source) = st.column(0), case .text(let key) = st.column(1),
                  case .integer(let id) = st.column(2) else { continue }
            guard state.active[id] != nil else {
                throw AurumError(.warehouse, "xref maps \(source):\(key) of entity '\(entity)' to golden id \(id), which is not active in golden_ids",
                                 at: db.path, hint: "the warehouse's golden tables are inconsistent; restore it or rebuild the entity")
            }
            state.recordCounts[id, default: 0] += 1
            var cmp = -1
            while i < order.count {
                let r = Int(order[i])
                cmp = Survivorship.compareBytes(records.sources[Int(records.source[r])], source)
                if cmp == 0 { cmp = Survivorship.compareBytes(records.sourceKey[r], key) }
                if cmp >= 0 { break }
                i += 1
            }
            if cmp == 0 {
                state.ids[Int(order[i])] = id
                i += 1
            } else {
                state.vanished.append(.init(source: source, key: key))
            }
        }
        return state
    }
}

/// The records sorted by (source name, source key) in byte order — the xref's primary-key order, so
/// rows are read by a merge join and inserted at the end of its index. Building it refuses
/// duplicate keys, which sit next to each other in this order.
struct RecordKeyOrder {
    let order: [Int32]

    init(_ records: EntityRecords) throws {
        let n = records.count
        let names = records.sources
        var sourceRank = [Int32](repeating: 0, count: names.count)
        for (rank, s) in names.indices.sorted(by: { Survivorship.compareBytes(names[$0], names[$1]) < 0 }).enumerated() {
            sourceRank[s] = Int32(rank)
        }
        // The first 8 bytes of each key, big-endian: most comparisons end there.
        var prefix = [UInt64](repeating: 0, count: n)
        for r in 0..<n {
            var p: UInt64 = 0
            var k = 0
            for b in records.sourceKey[r].utf8 {
                if k == 8 { break }
                p |= UInt64(b) << UInt64(56 - 8 * k)
                k += 1
            }
            prefix[r] = p
        }
        var order = (0..<Int32(n)).map { $0 }
        let src = records.source, keys = records.sourceKey
        order.sort { a, b in
            let ra = sourceRank[Int(src[Int(a)])], rb = sourceRank[Int(src[Int(b)])]
            if ra != rb { return ra < rb }
            let pa = prefix[Int(a)], pb = prefix[Int(b)]
            if pa != pb { return pa < pb }
            let c = Survivorship.compareBytes(keys[Int(a)], keys[Int(b)])
            return c != 0 ? c < 0 : a < b
        }
        for i in order.indices.dropFirst() {
            let a = Int(order[i - 1]), b = Int(order[i])
            if src[a] == src[b] && prefix[a] == prefix[b] && keys[a].utf8.elementsEqual(keys[b].utf8) {
                throw GoldenIds.duplicateKey(records, a, b)
            }
        }
        self.order = order
    }
}

extension GoldenIds {
    static func duplicateKey(_ records: EntityRecords, _ a: Int, _ b: Int) -> AurumError {
        AurumError(.integration, "entity '\(records.entity)': records \(min(a, b) + 1) and \(max(a, b) + 1) share the source key \(records.reference(b))",
                   hint: "every record of a source needs its own key; declare the source's key columns")
    }
}
