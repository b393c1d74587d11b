// TEMPORARY stand-in until the real TextFunctions land; deleted then (they clash on purpose).
import Foundation
enum TextFunctions {
    static func normalizeEmail(_ s: String) -> String? { let t = s.trimmingCharacters(in: .whitespaces).lowercased(); return t.contains("@") ? t : nil }
    static func normalizePhone(_ s: String, defaultCountry: String = "US") -> String? { nil }
    static func normalizePostcode(_ s: String, country: String = "") -> String? { s.uppercased() }
    static func parseDate(_ s: String, formats: [String]) -> String? { s }
    static func formatDate(_ s: String, _ f: String) -> String? { s }
    static func stripAccents(_ s: String) -> String { s }
    static func titleCase(_ s: String) -> String { s.capitalized }
    static func soundex(_ s: String) -> String { s }
    static func metaphone(_ s: String) -> String { s }
    static func doubleMetaphone(_ s: String) -> (primary: String, alternate: String) { (s, s) }
    static func levenshtein(_ a: String, _ b: String) -> Int { 0 }
    static func damerauLevenshtein(_ a: String, _ b: String) -> Int { 0 }
    static func jaro(_ a: String, _ b: String) -> Double { 0 }
    static func jaroWinkler(_ a: String, _ b: String) -> Double { 0 }
    static func jaccardTokens(_ a: String, _ b: String) -> Double { 0 }
    static func regexpLike(_ s: String, _ p: String, flags: String = "") throws -> Bool { s.contains(p) }
    static func regexpReplace(_ s: String, _ p: String, _ r: String, flags: String = "") throws -> String { s }
    static func regexpExtract(_ s: String, _ p: String, group: Int = 0) throws -> String? { nil }
}
