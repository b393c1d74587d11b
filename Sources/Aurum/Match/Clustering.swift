import Foundation

/// Connected components over links, strongest link first (Kruskal's order), honouring steward
/// decisions: must-links join first, and no merge may put two records with a cannot-link decision
/// into one cluster.
struct Clusterer {
    struct Link {
        var i: Int32
        var j: Int32
        var weight: Double
    }

    struct Result {
        /// Cluster index per record, numbered in order of each cluster's first record.
        var clusters: [Int32]
        var clusterCount: Int
        /// Per cluster: the weakest link that joined it (+inf for singletons and must-links only).
        var weakest: [Double]
        /// Links refused because they would join records a steward kept apart.
        var refused: Int
    }

    static func cluster(count n: Int, links: [Link], mustLink: [(Int32, Int32)], cannotLink: [(Int32, Int32)]) -> Result {
        var parent = [Int32](0..<Int32(n))
        var size = [Int32](repeating: 1, count: n)
        var weakest = [Double](repeating: .infinity, count: n)
        // Per root: the records it must never be joined with.
        var forbidden: [Int32: [Int32]] = [:]
        for (a, b) in cannotLink {
            forbidden[a, default: []].append(b)
            forbidden[b, default: []].append(a)
        }

        func find(_ x: Int32) -> Int32 {
            var r = x
            while parent[Int(r)] != r { r = parent[Int(r)] }
            var y = x
            while parent[Int(y)] != r { let nx = parent[Int(y)]; parent[Int(y)] = r; y = nx }
            return r
        }

        func blocked(_ ra: Int32, _ rb: Int32) -> Bool {
            guard !forbidden.isEmpty else { return false }
            for x in forbidden[ra] ?? [] where find(x) == rb { return true }
            for x in forbidden[rb] ?? [] where find(x) == ra { return true }
            return false
        }

        func union(_ a: Int32, _ b: Int32, weight: Double) -> Bool {
            var ra = find(a), rb = find(b)
            if ra == rb { return true }
            if blocked(ra, rb) { return false }
            if size[Int(ra)] < size[Int(rb)] || (size[Int(ra)] == size[Int(rb)] && rb < ra) { swap(&ra, &rb) }
            parent[Int(rb)] = ra
            size[Int(ra)] += size[Int(rb)]
            weakest[Int(ra)] = min(weakest[Int(ra)], weakest[Int(rb)], weight)
            if let f = forbidden.removeValue(forKey: rb) { forbidden[ra, default: []].append(contentsOf: f) }
            return true
        }

        var refused = 0
        for (a, b) in mustLink where !union(a, b, weight: .infinity) { refused += 1 }
        let order = links.indices.sorted { x, y in
            let l = links[x], r = links[y]
            if l.weight != r.weight { return l.weight > r.weight }
            if l.i != r.i { return l.i < r.i }
            return l.j < r.j
        }
        for x in order where !union(links[x].i, links[x].j, weight: links[x].weight) { refused += 1 }

        var clusterOfRoot = [Int32](repeating: -1, count: n)
        var clusters = [Int32](repeating: 0, count: n)
        var weakestOut: [Double] = []
        var next: Int32 = 0
        for r in 0..<n {
            let root = Int(find(Int32(r)))
            if clusterOfRoot[root] < 0 {
                clusterOfRoot[root] = next
                weakestOut.append(weakest[root])
                next += 1
            }
            clusters[r] = clusterOfRoot[root]
        }
        return Result(clusters: clusters, clusterCount: Int(next), weakest: weakestOut, refused: refused)
    }

    /// Cluster sizes bucketed: 1, 2, 3, 4, 5, 6–10, 11–50, 51+.
    static func sizeDistribution(_ clusters: [Int32], count: Int) -> [(String, Int)] {
        var sizes = [Int](repeating: 0, count: count)
        for c in clusters { sizes[Int(c)] += 1 }
        let buckets: [(String, ClosedRange<Int>)] = [("1", 1...1), ("2", 2...2), ("3", 3...3), ("4", 4...4), ("5", 5...5),
                                                     ("6-10", 6...10), ("11-50", 11...50), ("51+", 51...Int.max)]
        return buckets.map { b in (b.0, sizes.filter { b.1.contains($0) }.count) }
    }
}
