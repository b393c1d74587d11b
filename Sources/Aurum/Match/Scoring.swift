import Foundation

/// Term frequencies a model scores exact matches with: per attribute index, each value's count
/// among the records, the attribute's non-null count, and the record count.
///
/// A full run takes them from its own records (and records them with the model); an incremental
/// run reads the recorded ones, so a pair gets the same weight whichever path scores it.
struct TermFrequencies {
    var counts: [[String: Int]]
    var nonNull: [Int]
    var records: Int
}

/// Scores candidate pairs: steward-free match weight, exclusions and deterministic rules, the
/// one formula of the full and the incremental path.
struct PairScorer {
    let model: MatchModel?
    let comparators: [Comparator]
    /// Per comparison: whether its exact level is weighed by term frequency.
    let tfExact: [Bool]
    /// Per exclusion rule: (comparison, its `else` level).
    let exclusions: [[(Int, UInt64)]]
    /// Per deterministic rule: its attribute indexes.
    let ruleAttrs: [[Int]]
    let reviewWeight: Double

    init(spec: MatchSpec, comparators: [Comparator], model: MatchModel?, attributes: [String]) {
        self.model = model
        self.comparators = comparators
        ruleAttrs = spec.mode == .probabilistic ? [] : spec.deterministic.map { $0.attributes.compactMap { attributes.firstIndex(of: $0) } }
        exclusions = spec.exclusions.map { rule in
            rule.attributes.compactMap { a in
                comparators.firstIndex { $0.spec.attribute == a }.map { ($0, UInt64(comparators[$0].levelCount - 1)) }
            }
        }
        tfExact = (model?.comparisons ?? []).indices.map { k in
            model!.comparisons[k].termFrequency && { if case .exact = comparators[k].spec.levels[0] { true } else { false } }()
        }
        reviewWeight = log2(spec.reviewThreshold / (1 - spec.reviewThreshold))
    }

    func ruleHolds(_ f: Features, _ i: Int, _ j: Int) -> Bool {
        ruleAttrs.contains { ra in ra.allSatisfy { a in f.ids[a][i] >= 0 && f.ids[a][i] == f.ids[a][j] } }
    }

    enum Verdict {
        /// Dropped: below the review band, or excluded (`excluded`).
        case drop(excluded: Bool)
        case keep(weight: Double, rule: Bool)
    }

    /// The verdict on pair (i, j) (i first in record order) with comparison vector `g`;
    /// `tf(k, i)` is comparison k's exact-level weight for record i's value.
    @inline(__always)
    func score(_ g: UInt64, _ i: Int, _ j: Int, _ f: Features, tf: (Int, Int) -> Double) -> Verdict {
        let rule = !ruleAttrs.isEmpty && ruleHolds(f, i, j)
        guard let model else { return rule ? .keep(weight: .infinity, rule: true) : .drop(excluded: false) }
        if !rule && exclusions.contains(where: { r in !r.isEmpty && r.allSatisfy { (k, e) in (g >> (4 * UInt64(k))) & 0xF == e } }) {
            return .drop(excluded: true)
        }
        var w = model.priorWeight
        for k in model.comparisons.indices {
            let l = Int((g >> (4 * UInt64(k))) & 0xF)
            if l == 1 && tfExact[k] {
                w += tf(k, i)
            } else {
                w += model.comparisons[k].weights[l]
            }
        }
        if rule { return .keep(weight: .infinity, rule: true) }
        return w >= reviewWeight ? .keep(weight: w, rule: false) : .drop(excluded: false)
    }

    /// The exact level's weight of comparison k for record i, from this run's features.
    func featureTF(_ k: Int, _ f: Features, _ records: Int, _ i: Int) -> Double {
        let a = comparators[k].attribute
        return model!.comparisons[k].exactWeight(termFrequency: f.termFrequency(a, f.ids[a][i]), records: records)
    }

    /// The same from recorded term frequencies (a value unseen then counts once).
    func recordedTF(_ k: Int, _ tf: TermFrequencies, _ records: EntityRecords, _ i: Int) -> Double {
        let a = comparators[k].attribute
        let count = Features.text(records.values[a][i]).flatMap { tf.counts[a][$0] } ?? 1
        return model!.comparisons[k].exactWeight(termFrequency: Features.share(count, of: tf.nonNull[a]), records: tf.records)
    }
}
