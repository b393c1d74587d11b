import Foundation
@_exported import AurumTestSupport
@testable import Aurum


/// Loads a catalog from text written into `dir`.
func loadCatalog(_ dir: TempDir, _ name: String = "catalog.yaml", _ text: String) throws -> Catalog {
    let p = dir.write(name, text)
    return try CatalogLoader.load(path: p)
}

extension JSON {
    var intValue: Int64? { if case .int(let i) = self { return i }; return nil }
    var doubleValue: Double? {
        switch self { case .double(let d): return d; case .int(let i): return Double(i); default: return nil }
    }
    var stringValue: String? { if case .string(let s) = self { return s }; return nil }
}
