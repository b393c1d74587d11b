import Foundation
import Testing
@testable import Aurum

/// User expressions may read columns and call functions; everything else is refused.
@Suite struct ExpressionGuardTests {
    let db: SQLiteDatabase
    init() throws {
        db = try SQLiteDatabase(path: ":memory:")
        try SQLFunctionLibrary.register(on: db)
        try db.execute("CREATE TABLE secret (x); CREATE TABLE t (price, quantity)")
    }

    func refused(_ expr: String) -> String? {
        do {
            _ = try ExpressionChecker.check(expr, columns: ["price", "quantity", "name"], db: db)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func columnsAndFunctionsAreAllowedAndReadsAreRecorded() throws {
        let reads = try ExpressionChecker.check("price * quantity + length(upper(trim(name)))", columns: ["price", "quantity", "name"], db: db)
        #expect(reads == ["price", "quantity", "name"])
        #expect(refused("CASE WHEN price > 0 THEN 'ok' END") == nil)
        #expect(refused("(SELECT 1)") == nil)
    }

    @Test func aSecondStatementIsRefused() {
        #expect(refused("1; DELETE FROM secret")?.contains("second statement") == true)
        #expect(refused("(1); DROP TABLE secret")?.contains("second statement") == true)
    }

    @Test func breakingOutOfTheParenthesesIsRefused() {
        #expect(refused("1) FROM t UNION SELECT (x")?.contains("unbalanced") == true)
        #expect(refused("price -- )")?.contains("comments") == true)
    }

    @Test func readingOtherTablesIsRefused() {
        #expect(refused("(SELECT x FROM secret)")?.contains("reading table 'secret'") == true)
        #expect(refused("(SELECT sql FROM sqlite_master)")?.contains("not allowed") == true)
    }

    @Test func extensionLoadingAndFileFunctionsAreRefused() {
        #expect(refused("load_extension('/tmp/evil.so')")?.contains("load_extension() is not allowed") == true)
    }

    @Test func pragmaFunctionsAreRefused() {
        #expect(refused("(SELECT name FROM pragma_table_info('secret'))") != nil)
    }

    /// The authorizer itself, on statements an expression can't even spell: each is refused.
    @Test(arguments: [
        ("INSERT INTO secret VALUES (1)", "INSERT"),
        ("UPDATE secret SET x = 1", "UPDATE"),
        ("DELETE FROM secret", "DELETE"),
        ("ATTACH DATABASE ':memory:' AS other", "ATTACH"),
        ("PRAGMA journal_mode = DELETE", "PRAGMA"),
        ("CREATE TABLE evil (x)", "creating or dropping schema objects"),
        ("DROP TABLE secret", "creating or dropping schema objects"),
        ("ALTER TABLE secret ADD COLUMN y", "ALTER"),
        ("BEGIN", "transaction"),
        ("SELECT load_extension('x')", "load_extension"),
    ])
    func authorizerRefuses(sql: String, word: String) {
        #expect {
            _ = try db.prepareGuarded(sql, policy: ExpressionPolicy(readableTables: ["t"]))
        } throws: { error in
            "\(error)".contains(word)
        }
    }

    @Test func unknownColumnsAndFunctionsGetHints() {
        let (m1, h1) = ExpressionChecker.explain(SQLiteError(code: 1, message: "no such column: pricee"), columns: ["price"])
        #expect(m1 == "unknown column 'pricee'")
        #expect(h1 == "did you mean 'price'?")
        let (m2, h2) = ExpressionChecker.explain(SQLiteError(code: 1, message: "no such function: normalise_email"), columns: [])
        #expect(m2 == "unknown function 'normalise_email'")
        #expect(h2 == "did you mean 'normalize_email'?")
    }
}
