import Testing
import Aurum
import AurumMongo
import AurumPostgres
import AurumRedis

/// Each connector states what it can do; the registry answers for the built-in formats too.
@Suite struct CapabilitiesTests {
    @Test func connectorsStateTheirCapabilities() throws {
        AurumPostgres.register()
        AurumRedis.register()
        AurumMongo.register()
        let r = ConnectorRegistry.shared
        #expect(r.capabilities(of: SourceType.postgresql) == .incrementalCursor)
        #expect(r.capabilities(of: SourceType.redis) == [])
        #expect(r.capabilities(of: SourceType.mongodb) == [])
        #expect(r.capabilities(of: SourceType.csv) == [])
        #expect(r.capabilities(of: OutputFormat.postgresql) == [.keyedUpsert, .delete, .transactional])
        #expect(r.capabilities(of: OutputFormat.redis) == [.keyedUpsert, .delete, .transactional])
        #expect(r.capabilities(of: OutputFormat.mongodb) == [.keyedUpsert, .delete])
        for f in [OutputFormat.csv, .tsv, .json, .ndjson, .sqlite] { #expect(r.capabilities(of: f) == .transactional, "\(f)") }
        #expect(PostgresTarget().capabilities.description == "keyed upsert, delete, transactional")
        #expect(ConnectorCapabilities().description == "none")
    }
}
