internal import CSQLite3
import Foundation

/// A scalar function implemented in Swift and callable from SQL.
struct ScalarFunction: Sendable {
    var name: String
    /// Number of arguments, or -1 for any.
    var arity: Int32
    var deterministic: Bool = true
    var body: @Sendable ([Value]) throws -> Value
}

/// An error raised inside a SQL function; its message becomes the SQL error.
struct SQLFunctionError: Error, CustomStringConvertible {
    var description: String
}

private final class FunctionBox {
    let body: @Sendable ([Value]) throws -> Value
    init(_ body: @escaping @Sendable ([Value]) throws -> Value) { self.body = body }
}

@inline(__always)
func sqliteValue(_ v: OpaquePointer?) -> Value {
    switch sqlite3_value_type(v) {
    case SQLITE_INTEGER: return .integer(sqlite3_value_int64(v))
    case SQLITE_FLOAT: return .real(sqlite3_value_double(v))
    case SQLITE_TEXT:
        let n = Int(sqlite3_value_bytes(v))
        guard let p = sqlite3_value_text(v) else { return .text("") }
        return .text(String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self))
    case SQLITE_BLOB:
        let n = Int(sqlite3_value_bytes(v))
        guard let p = sqlite3_value_blob(v) else { return .blob([]) }
        return .blob(Array(UnsafeRawBufferPointer(start: p, count: n)))
    default: return .null
    }
}

private func setResult(_ ctx: OpaquePointer?, _ v: Value) {
    switch v {
    case .null: sqlite3_result_null(ctx)
    case .integer(let i): sqlite3_result_int64(ctx, i)
    case .real(let d): sqlite3_result_double(ctx, d)
    case .text(let s): sqlite3_result_text(ctx, s, -1, SQLITE_TRANSIENT)
    case .blob(let b): b.withUnsafeBytes { sqlite3_result_blob(ctx, $0.baseAddress, Int32($0.count), SQLITE_TRANSIENT) }
    }
}

extension SQLiteDatabase {
    func register(_ f: ScalarFunction) throws {
        let box = FunctionBox(f.body)
        functionBoxes.append(box)
        let flags = SQLITE_UTF8 | (f.deterministic ? SQLITE_DETERMINISTIC : 0)
        let rc = sqlite3_create_function_v2(
            handle, f.name, f.arity, flags, Unmanaged.passUnretained(box).toOpaque(),
            { ctx, argc, argv in
                let box = Unmanaged<FunctionBox>.fromOpaque(sqlite3_user_data(ctx)).takeUnretainedValue()
                var args: [Value] = []
                args.reserveCapacity(Int(argc))
                for i in 0..<Int(argc) { args.append(sqliteValue(argv?[i])) }
                do {
                    setResult(ctx, try box.body(args))
                } catch {
                    sqlite3_result_error(ctx, "\(error)", -1)
                }
            }, nil, nil, nil)
        try check(rc)
    }
}

// MARK: - Authorizer

/// What a user expression may do: read columns of the named tables and call functions.
struct ExpressionPolicy: Sendable {
    var readableTables: Set<String>
    /// The one table Aurum's own wrapper statement may insert into (nil: none).
    var insertTable: String? = nil
    static let deniedFunctions: Set<String> = ["load_extension", "readfile", "writefile", "edit", "fts3_tokenizer", "zipfile", "sqlar_compress", "sqlar_uncompress"]
}

final class AuthorizerBox {
    let policy: ExpressionPolicy
    var refusal: String?
    /// Columns the statement reads, in first-read order (for column lineage).
    var reads: [String] = []
    init(_ policy: ExpressionPolicy) { self.policy = policy }

    func decide(_ action: Int32, _ a: String?, _ b: String?) -> Int32 {
        switch action {
        case SQLITE_SELECT:
            return SQLITE_OK
        case SQLITE_READ:
            if let a, policy.readableTables.contains(a) {
                if let b, !b.isEmpty, !reads.contains(b) { reads.append(b) }
                return SQLITE_OK
            }
            return refuse("reading table '\(a ?? "?")' is not allowed in an expression")
        case SQLITE_FUNCTION:
            let name = (b ?? "").lowercased()
            if ExpressionPolicy.deniedFunctions.contains(name) { return refuse("function \(name)() is not allowed") }
            return SQLITE_OK
        case _ where (action == SQLITE_INSERT || action == SQLITE_UPDATE || action == SQLITE_DELETE)
            && (a == "sqlite_master" || a == "sqlite_temp_master"):
            return refuse("creating or dropping schema objects is not allowed")
        case SQLITE_INSERT:
            if let a, a == policy.insertTable { return SQLITE_OK }
            return refuse("writing (INSERT into '\(a ?? "?")') is not allowed")
        case SQLITE_UPDATE: return refuse("writing (UPDATE of '\(a ?? "?")') is not allowed")
        case SQLITE_DELETE: return refuse("writing (DELETE from '\(a ?? "?")') is not allowed")
        case SQLITE_ATTACH: return refuse("ATTACH is not allowed")
        case SQLITE_DETACH: return refuse("DETACH is not allowed")
        case SQLITE_PRAGMA: return refuse("PRAGMA is not allowed")
        case SQLITE_TRANSACTION: return refuse("transaction control is not allowed")
        case SQLITE_CREATE_TABLE, SQLITE_CREATE_TEMP_TABLE, SQLITE_CREATE_INDEX, SQLITE_CREATE_VIEW,
             SQLITE_CREATE_TRIGGER, SQLITE_CREATE_TEMP_VIEW, SQLITE_CREATE_TEMP_TRIGGER, SQLITE_CREATE_TEMP_INDEX,
             SQLITE_CREATE_VTABLE:
            return refuse("creating or dropping schema objects is not allowed")
        case SQLITE_DROP_TABLE, SQLITE_DROP_INDEX, SQLITE_DROP_VIEW, SQLITE_DROP_TRIGGER, SQLITE_DROP_TEMP_TABLE,
             SQLITE_DROP_TEMP_INDEX, SQLITE_DROP_TEMP_VIEW, SQLITE_DROP_TEMP_TRIGGER, SQLITE_DROP_VTABLE:
            return refuse("creating or dropping schema objects is not allowed")
        case SQLITE_ALTER_TABLE: return refuse("ALTER TABLE is not allowed")
        default:
            return refuse("this SQL operation (authorizer action \(action)) is not allowed")
        }
    }

    private func refuse(_ reason: String) -> Int32 {
        if refusal == nil { refusal = reason }
        return SQLITE_DENY
    }
}

extension SQLiteDatabase {
    /// Prepares `sql` with the authorizer enforcing `policy`; throws with the refusal reason.
    func prepareGuarded(_ sql: String, policy: ExpressionPolicy) throws -> (SQLiteStatement, reads: [String]) {
        let box = AuthorizerBox(policy)
        authorizerBox = box
        sqlite3_set_authorizer(handle, { ud, action, a, b, _, _ in
            let box = Unmanaged<AuthorizerBox>.fromOpaque(ud!).takeUnretainedValue()
            return box.decide(action, a.map { String(cString: $0) }, b.map { String(cString: $0) })
        }, Unmanaged.passUnretained(box).toOpaque())
        defer {
            sqlite3_set_authorizer(handle, nil, nil)
            authorizerBox = nil
        }
        do {
            let st = try prepare(sql)
            return (st, box.reads)
        } catch let e as SQLiteError {
            if let r = box.refusal { throw SQLFunctionError(description: r) }
            throw e
        }
    }
}
