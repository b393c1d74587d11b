import ArgumentParser
import Aurum
import Foundation

struct SyncTargets: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Write to each sync target only what changed since its last sync (from the warehouse; the pipeline is not run).")

    @Argument(help: "The catalog (YAML or JSON).") var catalog: String
    @Option(name: .long, help: "Only the output of this name.") var target: String?
    @Flag(name: .long, help: "Rebuild the target (write every row, reset its state), then reconcile it.") var full = false
    @Flag(name: .long, help: "Dry run: print what would be inserted, updated and deleted; write nothing.") var plan = false
    @Flag(name: .long, help: "With --plan: every key and the attributes that change.") var show = false
    @Flag(name: .long, help: "JSON on standard output.") var json = false
    @OptionGroup var options: RunOptions

    func validate() throws {
        if show && !plan { throw ValidationError("--show needs --plan") }
    }

    func run() throws {
        do {
            let c = try CatalogLoader.load(path: catalog, warehouseOverride: options.warehouse)
            if plan {
                let plans = try Syncer.plan(c, target: target, full: full, show: show)
                if json {
                    Console.out(JSON.object([("plan", .bool(true)), ("targets", .array(plans.map(\.json)))]).pretty())
                    return
                }
                for p in plans {
                    Console.out(p.line(plan: true))
                    for ch in p.changes {
                        Console.out(ch.change == "update" ? "  update \(ch.key): \(ch.attributes.joined(separator: ", "))" : "  \(ch.change) \(ch.key)")
                    }
                }
                if plans.isEmpty { Console.error("no output of \(catalog) is configured for sync (sync: true)") }
                return
            }
            let results = try Syncer.run(c, target: target, full: full, observer: StderrObserver(enabled: !options.quiet))
            if json {
                Console.out(JSON.object([("targets", .array(results.map(\.json)))]).pretty())
            } else {
                for r in results {
                    Console.out(r.line(plan: false))
                    if let rec = r.reconcile { Console.out(rec.text.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")) }
                }
                if results.isEmpty { Console.error("no output of \(catalog) is configured for sync (sync: true)") }
            }
            if results.contains(where: { !($0.reconcile?.clean ?? true) }) { throw ExitCode(ExitStatus.failed) }
        } catch let e as ExitCode {
            throw e
        } catch {
            reportAndExit(error)
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Per output: the last synced run and the changes a sync would write.")

    @Argument(help: "The catalog (YAML or JSON).") var catalog: String
    @Flag(name: .long, help: "JSON on standard output.") var json = false
    @OptionGroup var options: RunOptions

    func run() throws {
        do {
            let c = try CatalogLoader.load(path: catalog, warehouseOverride: options.warehouse)
            let all = try Syncer.status(c)
            if json {
                Console.out(JSON.object([("targets", .array(all.map(\.json)))]).pretty())
            } else {
                for s in all { Console.out(s.line) }
            }
        } catch {
            reportAndExit(error)
        }
    }
}

struct Reconcile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read a target back and compare it with what it should hold; exit code 1 when anything differs.")

    @Argument(help: "The catalog (YAML or JSON).") var catalog: String
    @Argument(help: "The output's name (see aurum status).") var target: String
    @Flag(name: .long, help: "JSON on standard output.") var json = false
    @OptionGroup var options: RunOptions

    func run() throws {
        let report: ReconcileReport
        do {
            let c = try CatalogLoader.load(path: catalog, warehouseOverride: options.warehouse)
            report = try Syncer.reconcile(c, target: target)
        } catch {
            reportAndExit(error)
        }
        Console.out(json ? report.json.pretty() : report.text)
        if !report.clean { throw ExitCode(ExitStatus.failed) }
    }
}
