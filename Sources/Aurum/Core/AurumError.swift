/// The one error type of the pipeline: what failed, where, and why, like a compiler message.
///
/// `location` names the file, `file:line` or config path (`sources[2].path`) the problem is at.
/// Messages never carry secrets; connection strings are redacted before they get here.
public struct AurumError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        /// The catalog or integration config is invalid (exit code 2).
        case invalidCatalog = "invalid-catalog"
        /// A source could not be opened or read.
        case source
        /// A rule or expression is invalid or was refused.
        case expression
        /// Integration (joins, merges) could not be done as configured.
        case integration
        /// Matching (blocking, training, scoring, clustering) could not be done as configured.
        case matching
        /// An output could not be written.
        case output
        /// The staging warehouse failed or is incompatible.
        case warehouse
        /// Anything else at run time.
        case runtime
    }

    public var code: Code
    public var location: String?
    public var message: String
    /// A hint on what to do about it, printed after the message.
    public var hint: String?
    /// For a target that failed part-way: the rows it had committed (durably written) before the
    /// failure; the run ledger records them as the failed step's `records_out`.
    public var rowsCommitted: Int?

    public init(_ code: Code, _ message: String, at location: String? = nil, hint: String? = nil) {
        self.code = code
        self.location = location
        self.message = message
        self.hint = hint
    }

    public var description: String {
        var s = location.map { "\($0): " } ?? ""
        s += message
        if let hint { s += " (\(hint))" }
        return s
    }
}

/// Several problems found at once (catalog validation reports every problem, not only the first).
public struct AurumErrors: Error, CustomStringConvertible, Sendable {
    public var errors: [AurumError]
    public init(_ errors: [AurumError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
