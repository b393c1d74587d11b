import Foundation
import Testing
@testable import Aurum

/// Pairwise precision/recall/F1 from contingency counts, on cases worked by hand.
@Suite struct PairwiseEvaluationTests {
    func labels(_ groups: [[Int]]) -> [RecordKey: String] {
        var m: [RecordKey: String] = [:]
        for (g, members) in groups.enumerated() {
            for r in members { m[RecordKey(source: "a.csv", recordID: String(r))] = "g\(g)" }
        }
        return m
    }

    /// Truth {1,2,3} {4,5} {6}; clusters {1,2} {3,4,5} {6}. True pairs 3 + 1 = 4, predicted 1 + 3 = 4,
    /// true positives (1,2) and (4,5) = 2: precision = recall = F1 = 0.5.
    @Test func handWorkedCase() {
        let e = PairwiseEvaluation.evaluate(truth: labels([[1, 2, 3], [4, 5], [6]]), clusters: labels([[1, 2], [3, 4, 5], [6]]))
        #expect(e.truePositives == 2 && e.falsePositives == 2 && e.falseNegatives == 2)
        #expect(e.truePairs == 4 && e.predictedPairs == 4)
        #expect(e.precision == 0.5 && e.recall == 0.5 && e.f1 == 0.5)
        #expect(e.records == 6 && e.entities == 3 && e.clusters == 3 && e.largestCluster == 3 && e.largestEntity == 3)
    }

    @Test func perfectAllSingletonsAndOneBigCluster() {
        let truth = labels([[1, 2, 3], [4, 5], [6]])
        let perfect = PairwiseEvaluation.evaluate(truth: truth, clusters: labels([[6], [4, 5], [3, 1, 2]]))
        #expect(perfect.precision == 1 && perfect.recall == 1 && perfect.f1 == 1)
        // No predicted pairs: nothing wrong (precision 1), everything missed (recall 0).
        let singletons = PairwiseEvaluation.evaluate(truth: truth, clusters: [:])
        #expect(singletons.precision == 1 && singletons.recall == 0 && singletons.f1 == 0)
        #expect(singletons.unclusteredRecords == 6 && singletons.clusters == 6)
        // One cluster of 6: 15 predicted pairs, 4 of them true.
        let one = PairwiseEvaluation.evaluate(truth: truth, clusters: labels([[1, 2, 3, 4, 5, 6]]))
        #expect(one.truePositives == 4 && one.falsePositives == 11 && one.falseNegatives == 0)
        #expect(one.precision == 4.0 / 15 && one.recall == 1)
        #expect(abs(one.f1 - 2 * (4.0 / 15) / (4.0 / 15 + 1)) < 1e-12)
    }

    /// Records the truth does not know are ignored and counted; the same id in two sources is two records.
    @Test func unknownRecordsAndSourcesAreKeptApart() {
        var truth = labels([[1, 2]])
        truth[RecordKey(source: "b.csv", recordID: "1")] = "g0"
        var clusters = labels([[1, 2, 9]])
        clusters[RecordKey(source: "b.csv", recordID: "1")] = "other"
        let e = PairwiseEvaluation.evaluate(truth: truth, clusters: clusters)
        #expect(e.unknownRecords == 1 && e.records == 3)
        #expect(e.truePositives == 1 && e.falsePositives == 0 && e.falseNegatives == 2)
    }

    /// The contingency counts agree with enumerating every pair, on random labellings.
    @Test func agreesWithPairEnumeration() {
        var r = SplitMix64(state: 3)
        for _ in 0..<20 {
            let n = 1 + r.int(150)
            var truth: [RecordKey: String] = [:], clusters: [RecordKey: String] = [:]
            var keys: [RecordKey] = []
            for i in 0..<n {
                let k = RecordKey(source: r.chance(0.5) ? "x.csv" : "y.csv", recordID: String(i))
                keys.append(k)
                truth[k] = String(r.int(1 + n / 3))
                if r.chance(0.9) { clusters[k] = String(r.int(1 + n / 2)) }
            }
            var tp = 0, fp = 0, fn = 0
            for i in 0..<n {
                for j in (i + 1)..<max(i + 1, n) {
                    let same = truth[keys[i]] == truth[keys[j]]
                    let together = clusters[keys[i]] != nil && clusters[keys[i]] == clusters[keys[j]]
                    if same && together { tp += 1 } else if together { fp += 1 } else if same { fn += 1 }
                }
            }
            let e = PairwiseEvaluation.evaluate(truth: truth, clusters: clusters)
            #expect(e.truePositives == tp && e.falsePositives == fp && e.falseNegatives == fn)
        }
    }

    @Test func readsTruthAndClusterFiles() throws {
        let dir = TempDir()
        let t = dir.write("truth.csv", "source,record_id,entity_id\na.csv,1,E1\na.csv,2,E1\na.csv,3,E1\nb.csv,4,E2\nb.csv,5,E2\nb.csv,6,E3\n")
        let c = dir.write("clusters.csv", "source,record_id,cluster_id\nb.csv,6,9\na.csv,1,1\na.csv,2,1\na.csv,3,2\nb.csv,4,2\nb.csv,5,2\nz.csv,1,1\n")
        let e = try PairwiseEvaluation.evaluate(truthPath: t, clustersPath: c)
        #expect(e.truePositives == 2 && e.falsePositives == 2 && e.falseNegatives == 2 && e.unknownRecords == 1)

        let twice = dir.write("twice.csv", "source,record_id,cluster_id\na.csv,1,1\na.csv,1,2\n")
        #expect(throws: AurumError.self) { try PairwiseEvaluation.evaluate(truthPath: t, clustersPath: twice) }
        let wrong = dir.write("wrong.csv", "src,id,cluster\n")
        do {
            _ = try PairwiseEvaluation.evaluate(truthPath: t, clustersPath: wrong)
            Issue.record("expected an error")
        } catch let e as AurumError {
            #expect(e.description == "\(wrong): expected the columns source,record_id,cluster_id; found src,id,cluster")
        }
    }

    @Test func evaluateCommandPrintsTheFigures() throws {
        let dir = TempDir()
        let g = try runAurum(["generate", "people", "--records", "2000", "--seed", "3", "--out", dir.path, "-q"])
        #expect(g.status == 0, "\(g.stderr)")
        // The truth itself as clusters is perfect; merging everything is not.
        let truth = try #require(dir.read("truth.csv"))
        dir.write("perfect.csv", truth.replacingOccurrences(of: "entity_id", with: "cluster_id"))
        var lines = truth.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[0...1].joined(separator: ",") + ",1" }
        lines.insert("source,record_id,cluster_id", at: 0)
        dir.write("one.csv", lines.joined(separator: "\n") + "\n")
        let p = try runAurum(["evaluate", "--truth", dir.file("truth.csv"), "--clusters", dir.file("perfect.csv"), "--json"])
        #expect(p.status == 0, "\(p.stderr)")
        let j = try JSONText.parse(p.stdout)
        #expect(j["f1"]?.doubleValue == 1 && j["records"]?.intValue == 2000 && j["false_positives"]?.intValue == 0)
        let o = try runAurum(["evaluate", "--truth", dir.file("truth.csv"), "--clusters", dir.file("one.csv")])
        #expect(o.status == 0)
        #expect(o.stdout.hasPrefix("precision 0.00"), "\(o.stdout)")
        #expect(o.stdout.contains("recall 1.0000"))
        let missing = try runAurum(["evaluate", "--truth", dir.file("truth.csv"), "--clusters", dir.file("nope.csv")])
        #expect(missing.status == 1 && missing.stderr.contains("nope.csv"), "\(missing.stderr)")
    }
}
