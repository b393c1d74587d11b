import Foundation

/// A validated catalog: what to read, how to transform and check it, how to integrate, where to write.
///
/// Both dialects — Aurum's own YAML/JSON catalog and the original JSON integration config — decode
/// into this one model, so the pipeline never knows which one the user wrote.
public struct Catalog: Sendable {
    public enum Dialect: String, Sendable { case catalog, integrationConfig = "integration_config" }

    /// The file the catalog came from.
    public var file: String
    public var dialect: Dialect
    /// Folder that relative paths resolve against (the catalog's own folder).
    public var baseDirectory: String
    public var warehouse: String
    public var functions: FunctionSettings
    public var sources: [SourceSpec]
    public var rules: [RuleSpec]
    public var quality: QualitySpec
    public var integration: IntegrationSpec?
    public var outputs: [OutputSpec]
    /// Entities built by matching and survivorship (empty: key integration only).
    public var entities: [EntitySpec] = []
}

public enum SourceType: String, Sendable, CaseIterable {
    case csv, tsv, json, ndjson, sqlite
    // Named by the specification; their connectors arrive with later work.
    case excel, parquet, postgresql, mongodb, redis, api, xml

    public static let builtIn: [SourceType] = [.csv, .tsv, .json, .ndjson, .sqlite]
    /// Built-in types plus those a registered connector reads.
    public static var available: [SourceType] {
        allCases.filter { builtIn.contains($0) || ConnectorRegistry.shared.source($0) != nil }
    }
}

/// Credentials from a catalog or the `authentication` object; never printed (see `description`).
public struct Credentials: Sendable, CustomStringConvertible {
    public var username: String?
    public var password: String?
    public var apiKey: String?
    public var token: String?
    public init(username: String? = nil, password: String? = nil, apiKey: String? = nil, token: String? = nil) {
        self.username = username; self.password = password; self.apiKey = apiKey; self.token = token
    }
    public var description: String { "Credentials(username: \(username ?? "-"), secrets redacted)" }
    /// The secret values, for scrubbing them from any text that leaves the process.
    public var secrets: [String] { [password, apiKey, token].compactMap { $0 }.filter { !$0.isEmpty } }
}

public struct SourceSpec: Sendable {
    public var name: String
    public var type: SourceType
    /// Resolved file path (file sources and SQLite).
    public var path: String
    /// SQL query or table name (sqlite).
    public var query: String?
    public var delimiter: UInt8 = UInt8(ascii: ",")
    public var header: Bool = true
    public var encoding: CSVEncoding = .utf8
    public var columns: [String]? = nil
    public var recordPath: [String] = []
    public var flatten: Bool = true
    /// Declared source key columns ([] = the row's ordinal is its key).
    public var key: [String] = []
    /// Config path of this source, for messages (`sources[1]`).
    public var location: String
    /// Connection string of a server or API source (`${ENV}` references expanded).
    public var connection: String? = nil
    public var credentials: Credentials? = nil
    /// A structured query (MongoDB's `{"collection": …, "filter": …}`), when the query is not text.
    public var queryJSON: JSON? = nil
    /// Connector-specific settings (`options:` in a catalog).
    public var options: [String: JSON] = [:]
}

public enum RuleKind: String, Sendable, CaseIterable { case mapping, calculation, formatting, validation }

public struct RuleSpec: Sendable {
    public var name: String
    public var kind: RuleKind
    /// Restricts the rule to one source (nil: every source that has the columns it reads).
    public var source: String?
    public var sourceColumn: String?
    public var targetColumn: String?
    /// SQL expression (nil for a pure rename or a value map).
    public var expression: String?
    /// Value map for mapping rules: source text → replacement.
    public var valueMap: [(String, Value)]? = nil
    /// Replacement for values the map does not list (nil: keep the value).
    public var mapDefault: Value? = nil
    public var location: String
}

public enum NullPolicy: Sendable, Equatable {
    case keep
    case defaultValue(Value)
    case reject
}

public enum FormatKind: String, Sendable, CaseIterable { case email, phone, date, postcode }

public struct QualitySpec: Sendable {
    public var duplicates: Bool = false
    /// Columns whose values decide duplicates ([] = every column).
    public var duplicateColumns: [String] = []
    public var nulls: Bool = false
    public var nullTokens: [String] = ["", "null", "NULL", "Null", "none", "None", "NONE", "n/a", "N/A", "NA", "nan", "NaN", "-", "?"]
    public var nullDefault: NullPolicy = .keep
    public var nullColumns: [String: NullPolicy] = [:]
    public var formats: Bool = false
    /// Declared formats per column; when empty, formats are inferred from column names.
    public var formatColumns: [String: FormatKind] = [:]
    public var businessRules: Bool = false
}

public enum JoinType: String, Sendable, CaseIterable { case inner, left, right, outer, cross }
public enum MergeStrategy: String, Sendable, CaseIterable { case union, intersection, complement }

public enum ConflictRule: Sendable, Equatable {
    case first, last, average, sum
    /// An SQL aggregate over `value` (and `source`, `source_index`), e.g. `max(value)`.
    case custom(String)

    public var name: String {
        switch self {
        case .first: "first"
        case .last: "last"
        case .average: "average"
        case .sum: "sum"
        case .custom: "custom"
        }
    }
}

public struct JoinKey: Sendable, Equatable {
    /// Left key: a column name of the accumulated left side, or `source.column`.
    public var left: String
    /// Right key: a column of the source being joined, or `source.column`.
    public var right: String
    public var location: String
}

public struct IntegrationSpec: Sendable {
    public var join: JoinType = .outer
    public var keys: [JoinKey] = []
    public var merge: MergeStrategy = .union
    public var conflict: ConflictRule = .first
    public var conflictColumns: [String: ConflictRule] = [:]
    public var location: String
}

public enum OutputFormat: String, Sendable, CaseIterable {
    case csv, tsv, json, ndjson, sqlite
    case parquet, excel, postgresql, mongodb, redis

    public static let builtIn: [OutputFormat] = [.csv, .tsv, .json, .ndjson, .sqlite]
    /// Built-in formats plus those a registered connector writes.
    public static var available: [OutputFormat] {
        allCases.filter { builtIn.contains($0) || ConnectorRegistry.shared.target($0) != nil }
    }
    public var isFile: Bool { self != .sqlite && self != .postgresql && self != .mongodb && self != .redis }
    public var fileExtension: String {
        switch self {
        case .excel: "xlsx"
        default: rawValue
        }
    }
}

public enum PartitionType: String, Sendable, CaseIterable { case date, category, hash }

public struct PartitionSpec: Sendable {
    public var column: String
    public var type: PartitionType
    public var buckets: Int = 16
}

public struct OutputSpec: Sendable {
    public var format: OutputFormat
    /// File or directory path (files), or database path (sqlite).
    public var path: String
    /// Table to write (sqlite).
    public var table: String?
    public var partition: PartitionSpec?
    public var location: String
    /// Connection string of a server target (`table`/`collection` parameter removed).
    public var connection: String? = nil
    public var credentials: Credentials? = nil
    /// Connector-specific settings (`options:` in a catalog).
    public var options: [String: JSON] = [:]
    /// What to write: `integrated` (the key integration's result), `golden`, `xref` or `pairs`,
    /// optionally naming the entity (`golden.customer`). Nil: golden records of the first entity
    /// when the catalog has entities, otherwise the integrated rows.
    public var data: String? = nil
    /// The output's name, unique in the catalog (`name:`, or a default from what it writes: the
    /// table, collection, key prefix or file name; see `OutputNames`). Used by `aurum sync
    /// --target`, `aurum status` and `aurum reconcile`.
    public var name: String = ""
    /// Written by sync (only what changed since the last sync) instead of whole (`sync: true`).
    public var sync: Bool = false
    /// The key that identifies a row in the target, for sync and reconcile (`key:`; default
    /// `golden_id` for golden records, `source, source_key` for xref, the integration's join key
    /// for integrated rows). Empty when there is none.
    public var key: [String] = []
}
