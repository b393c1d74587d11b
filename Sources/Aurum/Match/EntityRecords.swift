import Foundation

/// The standardised records of one entity, column by column, as matching and survivorship read them.
///
/// Records are ordered by source (catalog order) and then by their order in the source's snapshot;
/// that order is the deterministic tie-break of every later step.
public struct EntityRecords: Sendable {
    public let entity: String
    /// Attribute names, in the entity's order.
    public let attributes: [String]
    /// Source names feeding the entity, in catalog order.
    public let sources: [String]
    /// Per record: index into `sources`.
    public var source: [Int32]
    /// Per record: its stable source key (`__key` of the snapshot).
    public var sourceKey: [String]
    /// `values[a][r]`: attribute `a` of record `r`, standardised.
    public var values: [[Value]]

    public init(entity: String, attributes: [String], sources: [String], source: [Int32] = [], sourceKey: [String] = [],
                values: [[Value]]? = nil) {
        self.entity = entity; self.attributes = attributes; self.sources = sources
        self.source = source; self.sourceKey = sourceKey
        self.values = values ?? Array(repeating: [], count: attributes.count)
    }

    public var count: Int { sourceKey.count }

    /// `source:key`, the way lineage and commands name a record.
    public func reference(_ r: Int) -> String { "\(sources[Int(source[r])]):\(sourceKey[r])" }
}
