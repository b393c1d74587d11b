import Foundation
import Testing

@testable import Aurum

struct TextFunctionsRegexTests {
    @Test func like() throws {
        #expect(try TextFunctions.regexpLike("Order #12345", "\\d{5}"))
        #expect(try !TextFunctions.regexpLike("Order #1234", "\\d{5}"))
        #expect(try TextFunctions.regexpLike("ACME Corp", "^acme", flags: "i"))
        #expect(try !TextFunctions.regexpLike("ACME Corp", "^acme"))
        #expect(try TextFunctions.regexpLike("one\ntwo", "^two$", flags: "m"))
        #expect(try !TextFunctions.regexpLike("one\ntwo", "^two$"))
        #expect(try TextFunctions.regexpLike("a\nb", "a.b", flags: "s"))
        #expect(try !TextFunctions.regexpLike("a\nb", "a.b"))
        #expect(try TextFunctions.regexpLike("abc", "a b c # spaced", flags: "x"))
        #expect(try TextFunctions.regexpLike("Zoë", "^Zo\\p{L}$"))
        #expect(try TextFunctions.regexpLike("", "^$"))
    }

    @Test func replace() throws {
        #expect(try TextFunctions.regexpReplace("a1b22c333", "\\d+", "#") == "a#b#c#")
        #expect(try TextFunctions.regexpReplace("John Smith", "(\\w+) (\\w+)", "$2, $1") == "Smith, John")
        #expect(try TextFunctions.regexpReplace("John Smith", "(\\w+) (\\w+)", "\\2 \\1") == "Smith John")
        #expect(try TextFunctions.regexpReplace("John Smith", "(\\w+) (\\w+)", "${2}x") == "Smithx")
        #expect(try TextFunctions.regexpReplace("2024-03-05", "(?<y>\\d+)-(?<m>\\d+)-(?<d>\\d+)", "${d}.${m}.${y}") == "05.03.2024")
        #expect(try TextFunctions.regexpReplace("cost: 5", "\\d", "$$$0") == "cost: $5")
        #expect(try TextFunctions.regexpReplace("a.b", "\\.", "\\\\") == "a\\b")
        #expect(try TextFunctions.regexpReplace("ab", "(a)(x)?b", "[$2]") == "[]")
        #expect(try TextFunctions.regexpReplace("abc", "(a)", "$10") == "a0bc")
        #expect(try TextFunctions.regexpReplace("HELLO hello", "hello", "bye", flags: "ig") == "bye bye")
        #expect(try TextFunctions.regexpReplace("nothing", "x", "y") == "nothing")
        #expect(try TextFunctions.regexpReplace("aaa", "a*", "-") == "--")
        #expect(try TextFunctions.regexpReplace("naïve café", "\\p{L}+", "w") == "w w")
        #expect(throws: TextFunctionError.invalidGroup("(a)", 2, 1)) {
            try TextFunctions.regexpReplace("a", "(a)", "$2")
        }
    }

    @Test func extract() throws {
        #expect(try TextFunctions.regexpExtract("Order #12345 shipped", "#(\\d+)") == "#12345")
        #expect(try TextFunctions.regexpExtract("Order #12345 shipped", "#(\\d+)", group: 1) == "12345")
        #expect(try TextFunctions.regexpExtract("no digits", "\\d+") == nil)
        #expect(try TextFunctions.regexpExtract("ab", "a(x)?b", group: 1) == nil)
        #expect(try TextFunctions.regexpExtract("Zoë Ångström", "(\\p{L}+)$", group: 1) == "Ångström")
        #expect(try TextFunctions.regexpExtract("KEY=value", "key=(\\w+)", group: 1, flags: "i") == "value")
        #expect(throws: TextFunctionError.invalidGroup("(a)", 2, 1)) {
            try TextFunctions.regexpExtract("a", "(a)", group: 2)
        }
    }

    @Test(arguments: [
        ("(unclosed", "missing ')'"),
        ("a)b", "unmatched ')'"),
        ("[a-", "unterminated character class '['"),
        ("*start", "quantifier '*' has nothing to repeat"),
        ("x|+", "quantifier '+' has nothing to repeat"),
        ("abc\\", "trailing backslash"),
        ("a{2,1}", "syntax error (ICU regular expression syntax)"),
        ("(?<1bad>x)", "syntax error (ICU regular expression syntax)"),
    ])
    func invalidPatternsThrow(_ pattern: String, _ message: String) {
        #expect(throws: TextFunctionError.invalidPattern(pattern, message)) {
            try TextFunctions.regexpLike("x", pattern)
        }
        #expect(throws: TextFunctionError.invalidPattern(pattern, message)) {
            try TextFunctions.regexpReplace("x", pattern, "y")
        }
    }

    @Test func invalidFlagsAndGroupNames() throws {
        #expect(throws: TextFunctionError.invalidGroupName("(?<y>a)", "nope")) {
            try TextFunctions.regexpReplace("a", "(?<y>a)", "${nope}")
        }
        #expect(try TextFunctions.regexpLike("(?x)", "\\(\\?x\\)"))
        #expect(throws: TextFunctionError.invalidFlags("iq")) {
            try TextFunctions.regexpLike("x", "x", flags: "iq")
        }
        #expect(TextFunctionError.invalidFlags("q").description.contains("'q'"))
    }

    @Test func cacheIsBoundedAndSharedAcrossThreads() async throws {
        let cache = TextFunctions.RegexCache(capacity: 4)
        for k in 0..<10 {
            let pattern = "p\(k)"
            cache.store(.init(pattern: pattern, options: 0), try NSRegularExpression(pattern: pattern))
        }
        #expect(cache.count == 4)
        #expect(cache.lookup(.init(pattern: "p9", options: 0)) != nil)
        #expect(cache.lookup(.init(pattern: "p0", options: 0)) == nil)

        // Many tasks compiling and matching the same and different patterns at once.
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var ok = true
                    for i in 0..<300 {
                        let pattern = "^item-\((i + task) % 300)$"
                        ok = try ok && TextFunctions.regexpLike("item-\((i + task) % 300)", pattern)
                        ok = try ok && TextFunctions.regexpReplace("a-b", "-", "+") == "a+b"
                    }
                    return ok
                }
            }
            for try await ok in group { #expect(ok) }
        }
        #expect(TextFunctions.regexCache.count <= 256)
    }
}
