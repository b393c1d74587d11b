import ArgumentParser
import Aurum
import Foundation

/// The catalog and warehouse a steward command works on.
struct CatalogOptions: ParsableArguments {
    @Argument(help: "The catalog (YAML or JSON).") var catalog: String
    @Option(name: .long, help: "Staging warehouse file (default: the catalog's).") var warehouse: String?
    @Option(name: .long, help: "Entity (default: the catalog's first).") var entity: String?

    func open() throws -> (Catalog, Warehouse, String) {
        let c = try CatalogLoader.load(path: catalog, warehouseOverride: warehouse)
        guard let e = entity ?? c.entities.first?.name else {
            throw AurumError(.invalidCatalog, "the catalog has no entities", at: catalog, hint: "add an entities section")
        }
        guard c.entities.contains(where: { $0.name == e }) else {
            throw AurumError(.invalidCatalog, "unknown entity '\(e)'", at: catalog, hint: "entities: \(c.entities.map(\.name).joined(separator: ", "))")
        }
        return (c, try Warehouse(path: c.warehouse, functions: c.functions), e)
    }
}

func recordRef(_ s: String) throws -> RecordRef {
    guard let r = RecordRef(s) else {
        throw AurumError(.invalidCatalog, "'\(s)' does not name a record", hint: "write SOURCE:KEY, e.g. crm:C0000001")
    }
    return r
}

struct Review: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The steward's queue: pairs in the review band, and must-link / cannot-link decisions the next run honours.",
        subcommands: [List.self, Accept.self, Reject.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List undecided pairs in the review band, most likely first.")
        @OptionGroup var options: CatalogOptions
        @Option(name: .long, help: "At most this many pairs.") var limit: Int = 50
        @Flag(name: .long, help: "Include pairs already decided.") var all = false
        @Flag(name: .long, help: "JSON lines on standard output.") var json = false

        func run() throws {
            do {
                let (_, w, e) = try options.open()
                defer { w.close() }
                let pairs = try Steward.reviewQueue(warehouse: w, entity: e, limit: limit, includeDecided: all)
                for p in pairs {
                    if json {
                        Console.out(JSON.object([("entity", .string(p.entity)), ("left", .string(p.left.description)),
                                                 ("right", .string(p.right.description)), ("probability", .double(p.probability)),
                                                 ("weight", .double(p.weight)), ("decision", p.decision.map(JSON.string) ?? .null)]).compact)
                    } else {
                        Console.out(String(format: "%.4f  %@  %@%@", p.probability, p.left.description, p.right.description,
                                           p.decision.map { "  [\($0)]" } ?? ""))
                    }
                }
                if !json { Console.error("\(pairs.count) pair(s) to review; decide with `aurum review accept|reject CATALOG A B`, explain with `aurum explain CATALOG A B`") }
            } catch {
                reportAndExit(error)
            }
        }
    }

    struct Accept: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record that two records are the same entity (must-link).")
        @OptionGroup var options: CatalogOptions
        @Argument(help: "SOURCE:KEY") var left: String
        @Argument(help: "SOURCE:KEY") var right: String
        @Option(name: .long, help: "Why (kept with the decision).") var note: String?
        func run() throws { decide(options, left, right, .mustLink, note) }
    }

    struct Reject: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record that two records are different entities (cannot-link).")
        @OptionGroup var options: CatalogOptions
        @Argument(help: "SOURCE:KEY") var left: String
        @Argument(help: "SOURCE:KEY") var right: String
        @Option(name: .long, help: "Why (kept with the decision).") var note: String?
        func run() throws { decide(options, left, right, .cannotLink, note) }
    }

    static func decide(_ options: CatalogOptions, _ l: String, _ r: String, _ d: Steward.Decision, _ note: String?) {
        do {
            let (_, w, e) = try options.open()
            defer { w.close() }
            try Steward.decide(warehouse: w, entity: e, try recordRef(l), try recordRef(r), d,
                               by: ProcessInfo.processInfo.environment["USER"], note: note)
            Console.error("recorded \(d.rawValue) for \(l) and \(r); the next run honours it")
        } catch {
            reportAndExit(error)
        }
    }
}

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Why two records match (each comparison's level and weight), or where a golden value came from.",
        discussion: "aurum explain CATALOG crm:C1 shop:42      every comparison of the pair\naurum explain CATALOG --golden 17 [--attribute email]")
    @OptionGroup var options: CatalogOptions
    @Argument(help: "Two records, SOURCE:KEY each.") var records: [String] = []
    @Option(name: .long, help: "A golden record id.") var golden: Int64?
    @Option(name: .long, help: "Only this attribute of the golden record.") var attribute: String?
    @Flag(name: .long, help: "JSON on standard output.") var json = false

    func run() throws {
        do {
            let (c, w, e) = try options.open()
            defer { w.close() }
            if let g = golden {
                let x = try Explainer.golden(catalog: c, warehouse: w, entity: e, id: g, attribute: attribute)
                Console.out(json ? x.json.pretty() : x.text)
            } else {
                guard records.count == 2 else {
                    throw AurumError(.invalidCatalog, "explain needs two records (SOURCE:KEY SOURCE:KEY) or --golden ID")
                }
                let x = try Explainer.pair(catalog: c, warehouse: w, entity: e, try recordRef(records[0]), try recordRef(records[1]))
                Console.out(json ? x.json.pretty() : x.text)
            }
        } catch {
            reportAndExit(error)
        }
    }
}

struct Changes: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What a run's snapshots inserted, updated and deleted, per source (by key, or by content for sources without one).")
    @Argument(help: "Run id (default: the latest run that snapshotted sources).") var runID: Int64?
    @Option(name: .long, help: "Staging warehouse file.") var warehouse: String = "aurum.db"
    @Option(name: .long, help: "Only this source.") var source: String?
    @Option(name: .long, help: "At most this many changed records per run.") var limit: Int = 1000
    @Flag(name: .long, help: "Counts only.") var summary = false
    @Flag(name: .long, help: "JSON lines on standard output.") var json = false

    func run() throws {
        do {
            let (r, counts) = try ChangeQuery.counts(warehouse: warehouse, run: runID)
            guard let r else { Console.error("no snapshot has been recorded in \(warehouse)"); return }
            for c in counts where source == nil || c.source == source {
                if json {
                    Console.out(JSON.object([("run_id", .int(r)), ("source", .string(c.source)), ("first_snapshot", .bool(c.first)),
                                             ("inserted", .int(Int64(c.inserted))), ("updated", .int(Int64(c.updated))),
                                             ("deleted", .int(Int64(c.deleted))), ("unchanged", .int(Int64(c.unchanged)))]).compact)
                } else {
                    Console.out("run \(r) \(c.source): \(c.inserted) inserted, \(c.updated) updated, \(c.deleted) deleted, \(c.unchanged) unchanged\(c.first ? " (first snapshot)" : "")")
                }
            }
            guard !summary else { return }
            for c in try ChangeQuery.changes(warehouse: warehouse, run: r, source: source, limit: limit) {
                if json {
                    Console.out(JSON.object([("run_id", .int(r)), ("source", .string(c.source)), ("change", .string(c.change)),
                                             ("key", c.key.map(JSON.string) ?? .null), ("hash", c.hash.map(JSON.int) ?? .null)]).compact)
                } else {
                    Console.out("  \(c.change) \(c.source):\(c.key ?? "#\(String(UInt64(bitPattern: c.hash ?? 0), radix: 16))")")
                }
            }
        } catch {
            reportAndExit(error)
        }
    }
}
