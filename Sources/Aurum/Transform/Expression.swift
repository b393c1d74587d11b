import Foundation

/// Checks user SQL expressions before Aurum embeds them in its own statements.
///
/// An expression may read columns and call functions, nothing else. Two guards: a lexical check
/// (balanced parentheses, no `;`, no comments outside quotes), so the expression cannot break out
/// of the parentheses Aurum puts around it, and compilation of `SELECT (expr) FROM t` under an
/// authorizer that refuses writes, ATTACH, PRAGMA, schema changes and extension loading.
enum ExpressionChecker {
    static let checkTable = "__aurum_check"

    /// The columns the expression reads, or a thrown error saying why it is refused.
    static func check(_ expr: String, columns: [String], db: SQLiteDatabase) throws -> [String] {
        try lexicalCheck(expr)
        try db.execute("DROP TABLE IF EXISTS temp.\(checkTable)")
        let cols = columns.isEmpty ? "\"__none\"" : columns.map(sqlIdent).joined(separator: ", ")
        try db.execute("CREATE TEMP TABLE \(checkTable) (\(cols))")
        defer { try? db.execute("DROP TABLE IF EXISTS temp.\(checkTable)") }
        let (st, reads) = try db.prepareGuarded("SELECT (\(expr)) FROM temp.\(checkTable)",
                                                policy: ExpressionPolicy(readableTables: [checkTable]))
        if !st.tail.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw SQLFunctionError(description: "a second statement is not allowed in an expression")
        }
        return reads
    }

    static func lexicalCheck(_ expr: String) throws {
        let u = Array(expr.utf8)
        var depth = 0
        var i = 0
        if u.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }) {
            throw SQLFunctionError(description: "the expression is empty")
        }
        while i < u.count {
            let c = u[i]
            switch c {
            case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "`"):
                i += 1
                while i < u.count {
                    if u[i] == c {
                        if i + 1 < u.count && u[i + 1] == c { i += 2; continue }
                        break
                    }
                    i += 1
                }
                if i >= u.count { throw SQLFunctionError(description: "unterminated quote in the expression") }
            case UInt8(ascii: "["):
                while i < u.count && u[i] != UInt8(ascii: "]") { i += 1 }
                if i >= u.count { throw SQLFunctionError(description: "unterminated [identifier] in the expression") }
            case UInt8(ascii: "("): depth += 1
            case UInt8(ascii: ")"):
                depth -= 1
                if depth < 0 { throw SQLFunctionError(description: "unbalanced ')' in the expression") }
            case UInt8(ascii: ";"):
                throw SQLFunctionError(description: "a second statement is not allowed in an expression (found ';')")
            case UInt8(ascii: "-") where i + 1 < u.count && u[i + 1] == UInt8(ascii: "-"),
                 UInt8(ascii: "/") where i + 1 < u.count && u[i + 1] == UInt8(ascii: "*"):
                throw SQLFunctionError(description: "comments are not allowed in an expression")
            default: break
            }
            i += 1
        }
        if depth != 0 { throw SQLFunctionError(description: "unbalanced '(' in the expression") }
    }

    /// Turns SQLite's compile error into a message with a hint (closest column or function).
    static func explain(_ error: Error, columns: [String]) -> (String, String?) {
        let msg: String
        if let e = error as? SQLiteError { msg = e.message } else { msg = "\(error)" }
        if let r = msg.range(of: "no such column: ") {
            let name = String(msg[r.upperBound...])
            let hint = suggestion(name, columns).map { "did you mean '\($0)'?" }
                ?? "columns: \(columns.prefix(30).joined(separator: ", "))"
            return ("unknown column '\(name)'", hint)
        }
        if let r = msg.range(of: "no such function: ") {
            let name = String(msg[r.upperBound...])
            let known = SQLFunctionLibrary.names + ["upper", "lower", "trim", "ltrim", "rtrim", "substr", "replace", "length",
                                                    "coalesce", "ifnull", "nullif", "round", "abs", "printf", "date", "datetime", "strftime"]
            return ("unknown function '\(name)'", suggestion(name, known).map { "did you mean '\($0)'?" })
        }
        return (msg, nil)
    }
}
