import Foundation
@_exported import AurumTestSupport
import Testing
@testable import Aurum

func loadCatalog(_ dir: TempDir, _ text: String) throws -> Catalog {
    try CatalogLoader.load(path: dir.write("catalog.yaml", text))
}

/// Reads every item of a source through its registered connector.
func readAll(_ spec: SourceSpec) throws -> (columns: [String], records: [[String: Value]], lines: [Int]) {
    let c = try #require(ConnectorRegistry.shared.source(spec.type))
    let r = try c.open(spec)
    defer { r.close() }
    var records: [[String: Value]] = [], lines: [Int] = []
    while let item = try r.next() {
        switch item {
        case .fields(let f, let line):
            records.append(Dictionary(f, uniquingKeysWith: { a, _ in a })); lines.append(line)
        case .row(let v, let line):
            records.append(Dictionary(zip(r.columns, v).map { ($0, $1) }, uniquingKeysWith: { a, _ in a })); lines.append(line)
        case .problem(let line, let reason, _):
            Issue.record("problem at \(String(describing: line)): \(reason)")
        }
    }
    return (r.columns, records, lines)
}
