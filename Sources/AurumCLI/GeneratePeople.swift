import ArgumentParser
import Aurum
import Foundation

extension Generate {
    struct People: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Person records in several source files with realistic noise, and their ground truth.",
            discussion: "Writes DIR/<source>.csv for each source and DIR/truth.csv (source,record_id,entity_id). See the README for the noise model and the columns of each source.")
        @Option(name: .long, help: "Total number of records over all sources.") var records: Int = 10_000
        @Option(name: .long, help: "Number of source files.") var sources: Int = 3
        @Option(name: .long, help: "Random seed.") var seed: UInt64 = 1
        @Option(name: .long, help: "Output folder.") var out: String
        @Flag(name: .shortAndLong, help: "Print nothing.") var quiet = false

        func validate() throws {
            guard records >= 0 else { throw ValidationError("--records must be 0 or more") }
            guard sources >= 1 else { throw ValidationError("--sources must be 1 or more") }
        }

        func run() throws {
            do {
                let s = try PeopleGenerator.generate(records: records, sources: sources, seed: seed, into: out)
                guard !quiet else { return }
                for (f, n) in zip(s.files, s.recordsPerSource) { Console.error("wrote \(f) (\(n) records)") }
                Console.error("wrote \(s.truthPath) (\(s.recordsPerSource.reduce(0, +)) records of \(s.entityCount) entities)")
            } catch {
                reportAndExit(error)
            }
        }
    }
}
