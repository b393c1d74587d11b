import Foundation

/// A record in a set of source files: the file's base name (with its extension) and its id.
public struct RecordKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var source: String
    public var recordID: String

    public init(source: String, recordID: String) {
        self.source = source
        self.recordID = recordID
    }

    public static func < (a: RecordKey, b: RecordKey) -> Bool {
        (a.source, a.recordID) < (b.source, b.recordID)
    }

    public var description: String { "\(source):\(recordID)" }
}

/// Pairwise precision, recall and F1 of a predicted clustering against the true entities.
///
/// A pair of records is a true positive when both are in one entity and in one cluster. The counts
/// come from the contingency table of entity × cluster in O(n), never by enumerating pairs:
/// TP = Σ C(n_ec, 2) over the cells, predicted pairs = Σ C(n_c, 2), true pairs = Σ C(n_e, 2).
///
/// Records of the truth that no cluster lists count as singletons; records a cluster lists that
/// the truth does not know are left out and counted in ``unknownRecords``. With no predicted
/// pairs precision is 1, with no true pairs recall is 1 (nothing was wrong, nothing was missed).
public struct PairwiseEvaluation: Sendable, Equatable {
    public var records: Int
    public var entities: Int
    public var clusters: Int
    public var truePositives: Int
    public var falsePositives: Int
    public var falseNegatives: Int
    /// Records of the truth missing from the clusters (counted as singletons).
    public var unclusteredRecords: Int
    /// Records in the clusters that the truth does not have (ignored).
    public var unknownRecords: Int
    public var largestCluster: Int
    public var largestEntity: Int

    public var predictedPairs: Int { truePositives + falsePositives }
    public var truePairs: Int { truePositives + falseNegatives }
    public var precision: Double { predictedPairs == 0 ? 1 : Double(truePositives) / Double(predictedPairs) }
    public var recall: Double { truePairs == 0 ? 1 : Double(truePositives) / Double(truePairs) }
    public var f1: Double {
        let p = precision, r = recall
        return p + r == 0 ? 0 : 2 * p * r / (p + r)
    }

    /// Evaluates `clusters` (record → cluster id) against `truth` (record → entity id).
    public static func evaluate(truth: [RecordKey: String], clusters: [RecordKey: String]) -> PairwiseEvaluation {
        var t = Labels(), c = Labels()
        var unknown = 0
        for (k, e) in truth { t.add(k, e) }
        for (k, cl) in clusters {
            if truth[k] == nil { unknown += 1 } else { c.add(k, cl) }
        }
        return evaluate(truth: t, clusters: c, unknown: unknown)
    }

    /// Reads `truth.csv` (`source,record_id,entity_id`) and a `clusters.csv`
    /// (`source,record_id,cluster_id`) and evaluates. Extra columns are ignored; a record listed
    /// twice in one file is an error.
    public static func evaluate(truthPath: String, clustersPath: String) throws -> PairwiseEvaluation {
        let (t, _) = try read(truthPath, label: "entity_id", known: nil)
        let (c, unknown) = try read(clustersPath, label: "cluster_id", known: t)
        return evaluate(truth: t, clusters: c, unknown: unknown)
    }

    /// Labels interned to dense integers, so counting needs no string hashing after reading.
    struct Labels {
        var index: [RecordKey: Int32] = [:]
        var label: [Int32] = []
        var ids: [String: Int32] = [:]

        /// Returns false when `key` was already labelled.
        @discardableResult
        mutating func add(_ key: RecordKey, _ l: String) -> Bool {
            guard index[key] == nil else { return false }
            let id: Int32
            if let x = ids[l] { id = x } else {
                id = Int32(ids.count)
                ids[l] = id
            }
            index[key] = Int32(label.count)
            label.append(id)
            return true
        }
    }

    static func evaluate(truth t: Labels, clusters c: Labels, unknown: Int) -> PairwiseEvaluation {
        let n = t.label.count
        // Cluster of each truth record (by position), or a fresh singleton cluster.
        var clusterOf = [Int32](repeating: -1, count: n)
        for (k, i) in c.index { if let j = t.index[k] { clusterOf[Int(j)] = c.label[Int(i)] } }
        var next = Int32(c.ids.count)
        var unclustered = 0
        for i in 0..<n where clusterOf[i] < 0 {
            clusterOf[i] = next
            next += 1
            unclustered += 1
        }
        var entitySize = [Int](repeating: 0, count: t.ids.count)
        var clusterSize = [Int](repeating: 0, count: Int(next))
        var cell: [UInt64: Int] = [:]
        cell.reserveCapacity(n)
        for i in 0..<n {
            let e = t.label[i], k = clusterOf[i]
            entitySize[Int(e)] += 1
            clusterSize[Int(k)] += 1
            cell[UInt64(UInt32(e)) << 32 | UInt64(UInt32(k)), default: 0] += 1
        }
        func pairs(_ m: Int) -> Int { m * (m - 1) / 2 }
        let tp = cell.values.reduce(0) { $0 + pairs($1) }
        let truePairs = entitySize.reduce(0) { $0 + pairs($1) }
        let predicted = clusterSize.reduce(0) { $0 + pairs($1) }
        return PairwiseEvaluation(
            records: n, entities: entitySize.count, clusters: clusterSize.filter { $0 > 0 }.count,
            truePositives: tp, falsePositives: predicted - tp, falseNegatives: truePairs - tp,
            unclusteredRecords: unclustered, unknownRecords: unknown,
            largestCluster: clusterSize.max() ?? 0, largestEntity: entitySize.max() ?? 0)
    }

    /// Reads one labelling; records `known` does not have are skipped and counted.
    private static func read(_ path: String, label: String, known: Labels?) throws -> (Labels, unknown: Int) {
        var labels = Labels()
        var unknown = 0
        let reader: CSVReader
        do { reader = try CSVReader(path: path) } catch let e as CSVError {
            throw AurumError(.source, e.message, at: path)
        }
        var batch = try reader.nextBatch()
        let header = reader.header.map { $0.lowercased() }
        guard let s = header.firstIndex(of: "source"), let r = header.firstIndex(of: "record_id"),
              let l = header.firstIndex(of: label) else {
            throw AurumError(.source, "expected the columns source,record_id,\(label); found \(reader.header.joined(separator: ","))", at: path)
        }
        while let b = batch {
            if let p = b.problems.first { throw AurumError(.source, p.reason, at: "\(path):\(p.line)") }
            for i in 0..<b.rowCount {
                let key = RecordKey(source: b.field(i, s), recordID: b.field(i, r))
                if let known, known.index[key] == nil {
                    unknown += 1
                    continue
                }
                if !labels.add(key, b.field(i, l)) {
                    throw AurumError(.source, "record \(key) is listed twice", at: "\(path):\(b.lines[i])")
                }
            }
            batch = try reader.nextBatch()
        }
        return (labels, unknown)
    }
}

extension PairwiseEvaluation {
    /// The figures as a JSON object (for `aurum evaluate --json`).
    public var json: JSON {
        .object([
            ("precision", .double(precision)), ("recall", .double(recall)), ("f1", .double(f1)),
            ("true_positives", .int(Int64(truePositives))), ("false_positives", .int(Int64(falsePositives))),
            ("false_negatives", .int(Int64(falseNegatives))), ("predicted_pairs", .int(Int64(predictedPairs))),
            ("true_pairs", .int(Int64(truePairs))), ("records", .int(Int64(records))),
            ("entities", .int(Int64(entities))), ("clusters", .int(Int64(clusters))),
            ("largest_cluster", .int(Int64(largestCluster))), ("largest_entity", .int(Int64(largestEntity))),
            ("unclustered_records", .int(Int64(unclusteredRecords))), ("unknown_records", .int(Int64(unknownRecords))),
        ])
    }

    /// The figures as lines of text.
    public var text: String {
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        var lines = [
            "precision \(f(precision))  recall \(f(recall))  F1 \(f(f1))",
            "pairs: \(truePositives) true positive, \(falsePositives) false positive, \(falseNegatives) false negative (\(predictedPairs) predicted, \(truePairs) true)",
            "records \(records), entities \(entities), clusters \(clusters) (largest \(largestCluster); largest entity \(largestEntity))",
        ]
        if unclusteredRecords > 0 { lines.append("\(unclusteredRecords) record(s) of the truth not in the clusters (counted as singletons)") }
        if unknownRecords > 0 { lines.append("\(unknownRecords) record(s) in the clusters not in the truth (ignored)") }
        return lines.joined(separator: "\n")
    }
}
