import Foundation
import Testing

@testable import Aurum

/// Properties shared by all the functions: determinism and safety under concurrent calls.
struct TextFunctionsTests {
    @Test func concurrentCallsGiveTheSameResults() async {
        let names = ["Müller", "Mueller", "O'Neill", "Jean-Luc", "Smith", "Schmidt", "José", "Zoë", "北京"]
        func compute() -> [String] {
            var out: [String] = []
            for a in names {
                for b in names {
                    out.append("\(TextFunctions.jaroWinkler(a, b)) \(TextFunctions.levenshtein(a, b)) \(TextFunctions.damerauLevenshtein(a, b))")
                }
                let dm = TextFunctions.doubleMetaphone(a)
                out.append("\(TextFunctions.soundex(a)) \(TextFunctions.metaphone(a)) \(dm.primary) \(dm.alternate)")
                out.append("\(TextFunctions.stripAccents(a)) \(TextFunctions.titleCase(a))")
            }
            out.append(TextFunctions.parseDate("Tue, 05 Mar 2024 10:00:00 +0100", formats: []) ?? "nil")
            out.append(TextFunctions.normalizePhone("020 7946 0018", defaultCountry: "GB") ?? "nil")
            return out
        }
        let expected = compute()
        await withTaskGroup(of: [String].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var last: [String] = []
                    for _ in 0..<20 { last = compute() }
                    return last
                }
            }
            for await result in group { #expect(result == expected) }
        }
    }

    @Test func errorDescriptionsNameThePattern() {
        #expect(TextFunctionError.invalidPattern("(a", "missing )").description == "invalid regular expression '(a': missing )")
        #expect(TextFunctionError.invalidGroup("(a)", 2, 1).description == "regular expression '(a)' has no group 2 (it has 1)")
    }
}
