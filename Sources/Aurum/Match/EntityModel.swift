import Foundation

/// An entity of the catalog (`customer`, `product` …): its canonical attributes, where each source's
/// records feed them, how records are matched, and how golden values survive.
public struct EntitySpec: Sendable {
    public var name: String
    public var attributes: [AttributeSpec]
    /// Per source (by name, in catalog order): attribute → SQL expression over the source's
    /// prepared columns. A source absent here does not feed the entity.
    public var sources: [EntitySourceMapping]
    public var match: MatchSpec
    public var survivorship: SurvivorshipSpec
    /// Config path, for messages (`entities.customer`).
    public var location: String

    public init(name: String, attributes: [AttributeSpec], sources: [EntitySourceMapping], match: MatchSpec,
                survivorship: SurvivorshipSpec, location: String) {
        self.name = name; self.attributes = attributes; self.sources = sources; self.match = match
        self.survivorship = survivorship; self.location = location
    }

    public func attribute(_ name: String) -> AttributeSpec? { attributes.first { $0.name == name } }
}

public struct EntitySourceMapping: Sendable {
    public var source: String
    /// Attribute name → SQL expression over the source's columns (a bare column name is the usual case).
    public var expressions: [String: String]
    public var location: String
    public init(source: String, expressions: [String: String], location: String) {
        self.source = source; self.expressions = expressions; self.location = location
    }
}

public enum AttributeType: String, Sendable, CaseIterable { case text, date, number }

/// One standardisation step applied to an attribute's value before matching (in order).
public enum Standardizer: Sendable, Equatable {
    case trim, lower, upper
    /// Removes accents (`é` → `e`).
    case foldAccents
    /// Replaces punctuation with spaces and collapses runs of whitespace.
    case punctuation
    /// Keeps only the digits.
    case digits
    /// Replaces a given name by its canonical form (`bill` → `william`).
    case nickname
    case email, phone, postcode
    /// Parses a date with these formats (empty: the usual ones) into ISO `YYYY-MM-DD`.
    case date([String])
    /// A custom SQL expression over `value`.
    case sql(String)

    public var name: String {
        switch self {
        case .trim: "trim"
        case .lower: "lower"
        case .upper: "upper"
        case .foldAccents: "fold_accents"
        case .punctuation: "punctuation"
        case .digits: "digits"
        case .nickname: "nickname"
        case .email: "email"
        case .phone: "phone"
        case .postcode: "postcode"
        case .date: "date"
        case .sql: "sql"
        }
    }
}

public struct AttributeSpec: Sendable {
    public var name: String
    public var type: AttributeType
    public var standardize: [Standardizer]
    public init(name: String, type: AttributeType = .text, standardize: [Standardizer] = []) {
        self.name = name; self.type = type; self.standardize = standardize
    }
}

// MARK: Matching

public enum LinkType: String, Sendable, CaseIterable {
    /// Pairs within and across sources.
    case linkAndDedupe = "link_and_dedupe"
    /// Pairs across sources only (each source is already free of duplicates).
    case linkOnly = "link_only"
    /// Pairs within each source only.
    case dedupeOnly = "dedupe_only"
}

/// A blocking rule: records are compared when every key expression is equal (and not NULL).
public struct BlockingRule: Sendable, Equatable {
    /// SQL expressions over attribute names (`family_name`, `substr(family_name, 1, 3)`, `year(dob)`).
    public var keys: [String]
    public var location: String
    public init(keys: [String], location: String) { self.keys = keys; self.location = location }
    public var description: String { keys.joined(separator: " & ") }
}

/// One level of a comparison, strongest first. `null` and `else` levels are implicit.
public enum ComparisonLevel: Sendable, Equatable {
    case exact
    case jaroWinkler(Double)
    case levenshtein(Int)
    case damerauLevenshtein(Int)
    case jaccard(Double)
    case soundex
    case metaphone
    case numberAbsolute(Double)
    case numberRelative(Double)
    case dateDays(Int)
    case dateTransposed
    /// Exact match of this attribute with another one the other way round (given/family names swapped).
    case swapped(String)
    /// A boolean SQL expression over `l.<attribute>` and `r.<attribute>`.
    case sql(String)

    public var label: String {
        switch self {
        case .exact: "exact"
        case .jaroWinkler(let t): "jaro_winkler >= \(Value.format(t))"
        case .levenshtein(let k): "levenshtein <= \(k)"
        case .damerauLevenshtein(let k): "damerau_levenshtein <= \(k)"
        case .jaccard(let t): "jaccard >= \(Value.format(t))"
        case .soundex: "soundex"
        case .metaphone: "double_metaphone"
        case .numberAbsolute(let d): "abs_diff <= \(Value.format(d))"
        case .numberRelative(let r): "rel_diff <= \(Value.format(r))"
        case .dateDays(let n): "date_diff_days <= \(n)"
        case .dateTransposed: "day_month_transposed"
        case .swapped(let other): "swapped_with \(other)"
        case .sql(let e): "sql: \(e)"
        }
    }
}

public struct ComparisonSpec: Sendable {
    /// Name of the comparison (the attribute's name unless given).
    public var name: String
    public var attribute: String
    public var levels: [ComparisonLevel]
    /// Term-frequency adjustment of the exact level.
    public var termFrequency: Bool
    /// Hand-set m and u per level (levels then `else`), or nil to estimate.
    public var m: [Double]?
    public var u: [Double]?
    public var location: String
    public init(name: String, attribute: String, levels: [ComparisonLevel], termFrequency: Bool = false,
                m: [Double]? = nil, u: [Double]? = nil, location: String) {
        self.name = name; self.attribute = attribute; self.levels = levels; self.termFrequency = termFrequency
        self.m = m; self.u = u; self.location = location
    }
}

public struct TrainingSpec: Sendable {
    /// Random record pairs sampled to estimate u.
    public var uSamplePairs: Int = 1_000_000
    /// Blocking rules whose pairs train m by expectation-maximisation ([] = derived from the blocking rules).
    public var emBlocks: [BlockingRule] = []
    public var maxIterations: Int = 250
    public var tolerance: Double = 1e-5
    /// Pairs of one training block used at most (a uniform sample of larger blocks).
    public var maxBlockPairs: Int = 1_000_000
    public var seed: UInt64 = 42
    public init() {}
}

/// A deterministic rule: the pair links when every listed attribute is equal and not NULL.
public struct DeterministicRule: Sendable, Equatable {
    public var attributes: [String]
    public var location: String
    public init(attributes: [String], location: String) { self.attributes = attributes; self.location = location }
}

public enum MatchMode: String, Sendable, CaseIterable { case probabilistic, deterministic, both }

public struct MatchSpec: Sendable {
    public var mode: MatchMode = .probabilistic
    public var linkType: LinkType = .linkAndDedupe
    public var blocking: [BlockingRule] = []
    /// Refuse a blocking rule set producing more candidate pairs than this.
    public var pairBudget: Int = 50_000_000
    public var comparisons: [ComparisonSpec] = []
    public var deterministic: [DeterministicRule] = []
    /// Never link a pair whose comparisons on all of a rule's attributes fell to `else` (both
    /// values present and unlike): a person with another date of birth is another person, however
    /// much household data (address, phone) the two records share.
    public var exclusions: [DeterministicRule] = []
    public var training = TrainingSpec()
    /// Prior probability that two records, drawn at random, match (nil: estimated as the matches
    /// EM expects among the candidate pairs over all pairs).
    public var prior: Double? = nil
    /// Link at or above this probability; pairs in [review, link) go to the review queue.
    public var linkThreshold: Double = 0.9
    public var reviewThreshold: Double = 0.5
    /// Clusters whose weakest internal link is below this probability are reported as possible chains.
    public var chainBound: Double = 0.95
    public var location: String = ""
    public init() {}
}

// MARK: Survivorship

public enum SurvivorshipRule: Sendable, Equatable {
    /// The first non-null value in this order of sources (the catalog's source order when empty).
    case sourcePriority([String])
    /// The value of the record with the latest value of this attribute.
    case mostRecent(String)
    case mostFrequent
    /// The longest (most complete) value.
    case longest
    case first, last, average, sum
    /// An SQL aggregate over the cluster's records, e.g. `max(email)`.
    case custom(String)

    public var name: String {
        switch self {
        case .sourcePriority: "source_priority"
        case .mostRecent: "most_recent"
        case .mostFrequent: "most_frequent"
        case .longest: "longest"
        case .first: "first"
        case .last: "last"
        case .average: "average"
        case .sum: "sum"
        case .custom: "custom"
        }
    }
}

public struct SurvivorshipSpec: Sendable {
    public var defaultRule: SurvivorshipRule = .mostFrequent
    public var attributes: [String: SurvivorshipRule] = [:]
    /// Config path of the survivorship section (`entities.customer.survivorship`), for messages.
    public var location: String = ""
    /// Config path of each attribute's rule, when the catalog knows it better than
    /// `location` + `.attributes.<name>`.
    public var ruleLocations: [String: String] = [:]
    public init() {}
    public func rule(for attribute: String) -> SurvivorshipRule { attributes[attribute] ?? defaultRule }
}
