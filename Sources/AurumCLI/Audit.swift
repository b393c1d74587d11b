import ArgumentParser
import Aurum
import Foundation

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Audit queries over the warehouse: the history of a golden record.",
        subcommands: [Golden.self])

    struct Golden: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A golden record as it was at a run (default: now), its versions, and its source records.",
            discussion: "aurum audit golden 17 --warehouse aurum.db\naurum audit golden 17 people.yaml --at 3 --json")
        @Argument(help: "The golden id.") var id: Int64
        @Argument(help: "The catalog (YAML or JSON): its warehouse, and its first entity by default.") var catalog: String?
        @Option(name: .long, help: "The run to show the record at (default: its current state).") var at: Int64?
        @Option(name: .long, help: "Entity (default: the catalog's first, or the warehouse's only one).") var entity: String?
        @Option(name: .long, help: "Staging warehouse file (default: the catalog's, else aurum.db).") var warehouse: String?
        @Flag(name: .long, help: "JSON on standard output.") var json = false

        func run() throws {
            do {
                var path = warehouse ?? "aurum.db"
                var entity = self.entity
                if let catalog {
                    let c = try CatalogLoader.load(path: catalog, warehouseOverride: warehouse)
                    path = c.warehouse
                    entity = entity ?? c.entities.first?.name
                }
                let r = try GoldenAudit.golden(warehouse: path, entity: entity, id: id, at: at)
                Console.out(json ? r.json.pretty() : r.text)
            } catch {
                reportAndExit(error)
            }
        }
    }
}
