import ArgumentParser
import Aurum
import Foundation

struct Dedupe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find duplicate people in files with no catalog: recognise the columns, choose and train a model, write clusters.",
        discussion: """
            Writes DIR/clusters.csv (source,record_id,cluster_id), DIR/pairs.csv (scored pairs at or above the review \
            threshold) and DIR/model.yaml, the chosen model as a catalog to edit and re-run with `aurum run`. \
            With several files it links them and deduplicates within each.
            """)

    @Argument(help: "Input files (.csv, .tsv, .json, .ndjson).") var files: [String]
    @Option(name: .long, help: "Output folder (created if missing).") var out: String
    @Option(name: .long, help: "Column holding each record's id (excluded from matching; default: the 1-based row number).")
    var idColumn: String?
    @Option(name: .long, help: "Link probability threshold (default 0.9).") var threshold: Double?
    @Flag(name: .long, help: "Print a JSON summary on standard output.") var json = false
    @Flag(name: .shortAndLong, help: "No progress on standard error.") var quiet = false

    func validate() throws {
        if let t = threshold, !(t > 0 && t <= 1) { throw ValidationError("--threshold must be a probability in (0, 1]") }
    }

    func run() throws {
        do {
            let r = try ZeroConfig.dedupe(DedupeOptions(files: files, outDirectory: out, idColumn: idColumn, threshold: threshold),
                                          observer: StderrObserver(enabled: !quiet))
            if json { Console.out(r.json.pretty()) }
            if !quiet {
                for f in r.files {
                    let cols = f.profiles.compactMap { p in p.kind.map { "\(p.column)=\($0.rawValue)" } }
                    Console.error("\(f.file): \(f.records) records; \(cols.joined(separator: ", "))")
                }
                for n in r.notes { Console.error("note: \(n)") }
                Console.error("\(r.records) records in \(r.clusters) clusters, \(r.pairs) scored pairs, in \(String(format: "%.2f", r.seconds))s")
                Console.error("  wrote \(r.clustersPath)\n  wrote \(r.pairsPath)\n  wrote \(r.modelPath)")
            }
        } catch {
            reportAndExit(error)
        }
    }
}
