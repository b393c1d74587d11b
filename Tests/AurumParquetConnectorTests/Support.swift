import Foundation
@_exported import AurumTestSupport
@testable import Aurum

func loadCatalog(_ dir: TempDir, _ text: String) throws -> Catalog {
    try CatalogLoader.load(path: dir.write("catalog.yaml", text))
}

