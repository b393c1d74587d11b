/// One cell of a record, in the staging warehouse's own type system (SQLite's storage classes).
///
/// Booleans are stored as integers 0/1 and dates/timestamps as ISO-8601 text, as SQLite does.
public enum Value: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value as text, the way SQLite's `CAST(x AS TEXT)` would show it; `nil` for NULL.
    public var textValue: String? {
        switch self {
        case .null: return nil
        case .integer(let i): return String(i)
        case .real(let d): return Value.format(d)
        case .text(let s): return s
        case .blob(let b): return String(decoding: b, as: UTF8.self)
        }
    }

    /// The value as a number when it is one or is text that reads as one.
    public var doubleValue: Double? {
        switch self {
        case .integer(let i): return Double(i)
        case .real(let d): return d
        case .text(let s): return Double(s.trimmingCharacters(in: .whitespaces))
        default: return nil
        }
    }

    /// Formats a double as the shortest text that reads back as the same double (`15.0`, `0.1`).
    public static func format(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "Inf" : "-Inf" }
        return d.description
    }
}

import Foundation
