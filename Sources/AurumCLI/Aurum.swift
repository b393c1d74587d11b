import ArgumentParser
import Aurum
import AurumAPI
import AurumMongo
import AurumParquetConnector
import AurumPostgres
import AurumRedis
import AurumXML
import Foundation

@main
struct AurumCommand: ParsableCommand {
    /// Registers the connectors this binary ships, then parses and runs the command.
    static func main() {
        AurumParquetConnector.register()
        AurumPostgres.register()
        AurumRedis.register()
        AurumMongo.register()
        AurumXML.register()
        AurumAPI.register()
        main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "aurum",
        abstract: "Master-data management and data migration: snapshot, transform, check, integrate, publish.",
        version: "0.1.0",
        subcommands: [Integrate.self, Run.self, Snapshot.self, Validate.self, Schema.self, Quarantine.self, Generate.self,
                      Evaluate.self, Dedupe.self, Review.self, Explain.self, Changes.self, SyncTargets.self, Status.self, Reconcile.self,
                      Audit.self]
    )
}

/// Options every running command shares.
struct RunOptions: ParsableArguments {
    @Option(name: .long, help: "Staging warehouse file (default: aurum.db beside the catalog).")
    var warehouse: String?

    @Flag(name: .shortAndLong, help: "No progress on standard error.")
    var quiet = false
}

/// Exit codes scripts can rely on: 0 success, 1 the run failed, 2 invalid catalog or config.
enum ExitStatus {
    static let failed: Int32 = 1
    static let invalid: Int32 = 2
}

/// Turns errors into text on standard error and an exit code, in one place.
func reportAndExit(_ error: Error) -> Never {
    switch error {
    case let e as AurumErrors:
        for x in e.errors { Console.error("error: \(x.description)") }
        Console.error("\(e.errors.count) problem(s) found")
        exit(e.errors.contains { $0.code != .invalidCatalog } ? ExitStatus.failed : ExitStatus.invalid)
    case let e as AurumError:
        Console.error("error: \(e.description)")
        exit(e.code == .invalidCatalog ? ExitStatus.invalid : ExitStatus.failed)
    default:
        Console.error("error: \(error)")
        exit(ExitStatus.failed)
    }
}

enum Console {
    static let isTerminal = isatty(STDERR_FILENO) == 1
    static func error(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
    static func out(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }
}

/// Step progress on standard error (only on a terminal unless asked, never with --quiet).
struct StderrObserver: RunObserver {
    let enabled: Bool
    func stepStarted(_ name: String) {
        if enabled && Console.isTerminal { FileHandle.standardError.write(Data("… \(name)\r".utf8)) }
    }
    func stepFinished(_ name: String, records: Int?, seconds: Double) {
        guard enabled else { return }
        let r = records.map { " \($0) records" } ?? ""
        Console.error(String(format: "%@✓ %@%@ in %.2fs", Console.isTerminal ? "\u{1B}[2K" : "", name, r, seconds))
    }
    func note(_ message: String) { if enabled { Console.error("note: \(message)") } }
    func progress(_ name: String, records: Int) {
        if enabled && Console.isTerminal { FileHandle.standardError.write(Data("… \(name) \(records) records\r".utf8)) }
    }
}

struct Integrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an integration config of the original JSON interface; print its output object on standard output.")

    @Argument(help: "The integration config (JSON).") var config: String
    @OptionGroup var options: RunOptions

    func run() throws {
        do {
            let catalog = try CatalogLoader.load(path: config, warehouseOverride: options.warehouse)
            let outcome = try Pipeline.run(catalog, command: "integrate", observer: StderrObserver(enabled: !options.quiet))
            Console.out(outcome.report.pretty())
        } catch {
            reportAndExit(error)
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a catalog: snapshot, transform, check, integrate, publish.")

    @Argument(help: "The catalog (YAML or JSON).") var catalog: String
    @OptionGroup var options: RunOptions
    @Flag(name: .long, help: "Print the run report as JSON on standard output.") var json = false
    @Flag(name: .long, help: "Rebuild, re-match and re-survive every entity whole, even when an incremental run could.") var full = false

    func run() throws {
        do {
            let c = try CatalogLoader.load(path: catalog, warehouseOverride: options.warehouse)
            let outcome = try Pipeline.run(c, command: "run", full: full, observer: StderrObserver(enabled: !options.quiet))
            if json {
                Console.out(outcome.report.pretty())
            } else if !options.quiet {
                Console.error(summary(outcome.report))
            }
        } catch {
            reportAndExit(error)
        }
    }

    func summary(_ r: JSON) -> String {
        let rep = r["integration_report"]
        func i(_ j: JSON?) -> String { if case .int(let x) = j { return String(x) }; return "?" }
        var lines = ["run \(i(r["run_id"])) succeeded: \(i(rep?["total_records"])) records read, \(i(rep?["successful_integrations"])) integrated, \(i(rep?["failed_integrations"])) not"]
        if case .array(let outs) = r["outputs"] {
            for o in outs { if case .string(let s) = o { lines.append("  wrote \(s)") } }
        }
        return lines.joined(separator: "\n")
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a catalog or integration config and report every problem (exit code 2 when invalid).")

    @Argument(help: "The catalog or integration config.") var catalog: String

    func run() throws {
        do {
            let c = try CatalogLoader.load(path: catalog)
            Console.out("\(catalog): valid (\(c.dialect == .catalog ? "catalog" : "integration config"), \(c.sources.count) source(s), \(c.rules.count) rule(s), \(c.outputs.count) output(s))")
        } catch {
            reportAndExit(error)
        }
    }
}

struct Schema: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the catalog's JSON Schema (for editors).")
    func run() throws { Console.out(CatalogSchema.json) }
}

struct Quarantine: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect quarantined rows, and send them through the pipeline again.", subcommands: [List.self, Replay.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List quarantined rows with their reasons.")
        @Option(name: .long, help: "Staging warehouse file.") var warehouse: String = "aurum.db"
        @Option(name: .customLong("run"), help: "Run id (default: the latest run).") var runID: Int64?
        @Flag(name: .long, help: "Include the raw row (may contain personal data).") var raw = false
        @Flag(name: .long, help: "JSON lines on standard output.") var json = false

        func run() throws {
            do {
                let items = try QuarantineQuery.list(warehouse: warehouse, run: runID)
                for q in items {
                    if json {
                        var m: [(String, JSON)] = [("run_id", .int(q.run)), ("source", .string(q.source)), ("step", .string(q.step)),
                                                   ("line", q.line.map { .int(Int64($0)) } ?? .null), ("rule", .string(q.rule)), ("reason", .string(q.reason))]
                        m.append(("id", .int(q.id)))
                        m.append(("replay_run", q.replayRun.map(JSON.int) ?? .null))
                        m.append(("replay_outcome", q.replayOutcome.map(JSON.string) ?? .null))
                        if raw { m.append(("raw", q.raw.map(JSON.string) ?? .null)) }
                        Console.out(JSON.object(m).compact)
                    } else {
                        let replay = q.replayRun.map { " (replayed in run \($0): \(q.replayOutcome ?? "?"))" } ?? ""
                        Console.out("run \(q.run) \(q.source)\(q.line.map { ":\($0)" } ?? "") [\(q.step)/\(q.rule)] \(q.reason)\(replay)\(raw ? " | \(q.raw ?? "")" : "")")
                    }
                }
                if !json { Console.error("\(items.count) quarantined row(s)") }
            } catch {
                reportAndExit(error)
            }
        }
    }
}

extension Quarantine {
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send quarantined rows through the pipeline again (after a rule or the data is fixed), as a run of its own.",
            discussion: """
                Rows quarantined while reading are re-parsed from their raw text; rows quarantined by a rule are \
                re-checked with the catalog's current rules. Rows that now pass go on through matching and outputs; \
                the others are quarantined again with their new reason. Exit code 0 even when rows still fail.
                """)
        @Argument(help: "The catalog (YAML or JSON).") var catalog: String
        @Option(name: .customLong("run"), help: "Replay the quarantined rows of this run (default: the latest run).") var runID: Int64?
        @Option(name: .long, help: "Only this source's rows.") var source: String?
        @Flag(name: .long, help: "Print the outcome as JSON on standard output.") var json = false
        @OptionGroup var options: RunOptions

        func run() throws {
            do {
                let c = try CatalogLoader.load(path: catalog, warehouseOverride: options.warehouse)
                let r = try Pipeline.replayQuarantine(c, from: runID, source: source, observer: StderrObserver(enabled: !options.quiet))
                if json {
                    var m: [(String, JSON)] = [("replayed_run", .int(r.fromRun)), ("run_id", r.outcome.map { .int($0.runID) } ?? .null),
                                               ("replayed", .int(Int64(r.replayed))), ("passed", .int(Int64(r.passed))),
                                               ("failed", .int(Int64(r.failed))), ("gone", .int(Int64(r.gone)))]
                    m.append(("sources", .array(r.sources.map {
                        .object([("source", .string($0.source)), ("replayed", .int(Int64($0.replayed))), ("passed", .int(Int64($0.passed))),
                                 ("failed", .int(Int64($0.failed))), ("gone", .int(Int64($0.gone)))])
                    })))
                    Console.out(JSON.object(m).compact)
                } else if let o = r.outcome {
                    Console.out("run \(o.runID) replayed \(r.replayed) quarantined row(s) of run \(r.fromRun): \(r.passed) passed, \(r.failed) still failing, \(r.gone) gone")
                    for s in r.sources {
                        Console.out("  \(s.source): \(s.replayed) replayed, \(s.passed) passed, \(s.failed) still failing, \(s.gone) gone")
                    }
                } else {
                    Console.out("nothing to replay: run \(r.fromRun) has no quarantined row that has not passed a replay")
                }
            } catch {
                reportAndExit(error)
            }
        }
    }
}

struct Snapshot: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Snapshot the catalog's sources into the staging warehouse (no transform, no outputs).")

    @Argument(help: "The catalog (YAML or JSON).") var catalog: String
    @OptionGroup var options: RunOptions

    func run() throws {
        do {
            let c = try CatalogLoader.load(path: catalog, warehouseOverride: options.warehouse)
            let results = try Pipeline.snapshotOnly(c, observer: StderrObserver(enabled: !options.quiet))
            for r in results {
                Console.out("\(r.source): \(r.rowsRead) read, \(r.rowsStaged) staged, \(r.rowsQuarantined) quarantined → \(r.table)")
            }
        } catch {
            reportAndExit(error)
        }
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write deterministic synthetic data.", subcommands: [Customers.self, People.self])

    struct Customers: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A customer CSV of 12 columns with the mess real exports have.")
        @Option(name: .long, help: "Number of rows.") var rows: Int = 1000
        @Option(name: .long, help: "Random seed.") var seed: UInt64 = 1
        @Option(name: .long, help: "Output CSV file.") var out: String

        func run() throws {
            do { try CustomerGenerator.writeCSV(path: out, rows: rows, seed: seed) } catch { reportAndExit(error) }
        }
    }
}
