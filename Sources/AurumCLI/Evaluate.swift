import ArgumentParser
import Aurum
import Foundation

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pairwise precision, recall and F1 of clusters against a ground truth.",
        discussion: "--truth has the columns source,record_id,entity_id (as `aurum generate people` writes it); --clusters has source,record_id,cluster_id (as `aurum dedupe` writes it). Records missing from the clusters count as singletons.")
    @Option(name: .long, help: "The ground truth CSV.") var truth: String
    @Option(name: .long, help: "The predicted clusters CSV.") var clusters: String
    @Flag(name: .long, help: "Print the figures as JSON on standard output.") var json = false

    func run() throws {
        do {
            let e = try PairwiseEvaluation.evaluate(truthPath: truth, clustersPath: clusters)
            Console.out(json ? e.json.pretty() : e.text)
        } catch {
            reportAndExit(error)
        }
    }
}
