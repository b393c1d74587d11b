import Testing

@testable import Aurum

/// Reference values computed with jellyfish 1.3 (Jaro, Jaro-Winkler) and rapidfuzz 3.14
/// (Levenshtein, OSA); `tools/diff_reference.py` in the scratch package compares many more.
struct TextFunctionsSimilarityTests {
    struct Pair: Sendable, CustomTestStringConvertible {
        let a: String
        let b: String
        let levenshtein: Int
        let osa: Int
        let jaro: Double
        let jaroWinkler: Double
        var testDescription: String { "\"\(a)\" / \"\(b)\"" }
    }

    static let pairs: [Pair] = [
        ("MARTHA", "MARHTA", 2, 1, 0.9444444444444445, 0.9611111111111111),
        ("DIXON", "DICKSONX", 4, 4, 0.7666666666666666, 0.8133333333333332),
        ("DWAYNE", "DUANE", 2, 2, 0.8222222222222223, 0.8400000000000001),
        ("JELLYFISH", "SMELLYFISH", 2, 2, 0.8962962962962964, 0.8962962962962964),
        ("kitten", "sitting", 3, 3, 0.746031746031746, 0.746031746031746),
        ("", "abc", 3, 3, 0.0, 0.0),
        ("abc", "", 3, 3, 0.0, 0.0),
        ("", "", 0, 0, 0.0, 0.0),
        ("a", "a", 0, 0, 1.0, 1.0),
        ("ca", "abc", 3, 3, 0.0, 0.0),
        ("abcdef", "badcfe", 4, 3, 0.8333333333333334, 0.8333333333333334),
        ("Müller", "Mueller", 2, 2, 0.7825396825396825, 0.8042857142857143),
        ("José", "Jose", 1, 1, 0.8333333333333334, 0.8833333333333334),
        ("北京市", "北京", 1, 1, 0.8888888888888888, 0.9111111111111111),
        ("Zoë", "Zoe", 1, 1, 0.7777777777777777, 0.8222222222222222),
        ("Jonathan", "Johnathan", 1, 1, 0.8796296296296297, 0.9037037037037037),
        ("Katherine", "Catherine", 1, 1, 0.9259259259259259, 0.9259259259259259),
        ("abc", "abc", 0, 0, 1.0, 1.0),
        ("a", "b", 1, 1, 0.0, 0.0),
        ("Saturday", "Sunday", 3, 3, 0.7527777777777779, 0.7775000000000001),
        ("CRATE", "TRACE", 2, 2, 0.7333333333333334, 0.7333333333333334),
        ("Smith", "Smyth", 1, 1, 0.8666666666666667, 0.8933333333333333),
        ("Christopher", "Kristopher", 2, 2, 0.9060606060606061, 0.9060606060606061),
        ("The quick brown fox jumps over the lazy dog near the riverbank today", "The quick brown fox jumped over a lazy dog near the river bank today", 6, 6, 0.9090497737556561, 0.9454298642533937),
    ].map { Pair(a: $0.0, b: $0.1, levenshtein: $0.2, osa: $0.3, jaro: $0.4, jaroWinkler: $0.5) }

    @Test(arguments: pairs)
    func levenshteinMatchesReference(_ p: Pair) {
        #expect(TextFunctions.levenshtein(p.a, p.b) == p.levenshtein)
        #expect(TextFunctions.levenshtein(p.b, p.a) == p.levenshtein)
        #expect(TextFunctions.levenshtein(TextFunctions.scalars(p.a), TextFunctions.scalars(p.b)) == p.levenshtein)
    }

    @Test(arguments: pairs)
    func damerauLevenshteinMatchesReference(_ p: Pair) {
        #expect(TextFunctions.damerauLevenshtein(p.a, p.b) == p.osa)
        #expect(TextFunctions.damerauLevenshtein(p.b, p.a) == p.osa)
        #expect(TextFunctions.damerauLevenshtein(TextFunctions.scalars(p.a), TextFunctions.scalars(p.b)) == p.osa)
    }

    @Test(arguments: pairs)
    func jaroMatchesReference(_ p: Pair) {
        #expect(abs(TextFunctions.jaro(p.a, p.b) - p.jaro) < 1e-12)
        #expect(abs(TextFunctions.jaro(TextFunctions.scalars(p.a), TextFunctions.scalars(p.b)) - p.jaro) < 1e-12)
    }

    @Test(arguments: pairs)
    func jaroWinklerMatchesReference(_ p: Pair) {
        #expect(abs(TextFunctions.jaroWinkler(p.a, p.b) - p.jaroWinkler) < 1e-12)
        #expect(abs(TextFunctions.jaroWinkler(p.b, p.a) - p.jaroWinkler) < 1e-12)
        #expect(
            abs(TextFunctions.jaroWinkler(TextFunctions.scalars(p.a), TextFunctions.scalars(p.b)) - p.jaroWinkler)
                < 1e-12)
    }

    @Test func briefExamples() {
        #expect(abs(TextFunctions.jaroWinkler("MARTHA", "MARHTA") - 0.961111111111111) < 1e-9)
        #expect(abs(TextFunctions.jaroWinkler("DIXON", "DICKSONX") - 0.813333333333333) < 1e-9)
        #expect(abs(TextFunctions.jaroWinkler("DWAYNE", "DUANE") - 0.84) < 1e-9)
        #expect(TextFunctions.levenshtein("kitten", "sitting") == 3)
        // OSA counts a transposition once but never edits a transposed pair again.
        #expect(TextFunctions.damerauLevenshtein("ab", "ba") == 1)
        #expect(TextFunctions.damerauLevenshtein("ca", "abc") == 3)
    }

    @Test func comparesNFCScalars() {
        let composed = "Andr\u{E9}"
        let decomposed = "Andre\u{301}"
        #expect(TextFunctions.levenshtein(composed, decomposed) == 0)
        #expect(TextFunctions.damerauLevenshtein(composed, decomposed) == 0)
        #expect(TextFunctions.jaro(composed, decomposed) == 1.0)
        #expect(TextFunctions.scalars(decomposed) == [0x41, 0x6E, 0x64, 0x72, 0xE9])
        #expect(TextFunctions.levenshtein("e\u{301}", "e") == 1)
        #expect(TextFunctions.levenshtein("🙂a", "a🙂") == 2)
        #expect(TextFunctions.damerauLevenshtein("🙂a", "a🙂") == 1)
    }

    @Test func prefixScaleIsClampedAndOptional() {
        #expect(TextFunctions.jaroWinkler("MARTHA", "MARHTA", prefixScale: 0) == TextFunctions.jaro("MARTHA", "MARHTA"))
        #expect(TextFunctions.jaroWinkler("MARTHA", "MARHTA", prefixScale: 5) <= 1.0)
        #expect(
            abs(TextFunctions.jaroWinkler("MARTHA", "MARHTA", prefixScale: 0.2) - (0.9444444444444445 + 0.6 * (1 - 0.9444444444444445)))
                < 1e-12)
        // Below the 0.7 boost threshold there is no prefix bonus.
        #expect(TextFunctions.jaroWinkler("Saturday", "Sunday") > TextFunctions.jaro("Saturday", "Sunday"))
        #expect(TextFunctions.jaroWinkler("abcxyzuvw", "abqrstmno") == TextFunctions.jaro("abcxyzuvw", "abqrstmno"))
    }

    /// The bit-parallel paths (shorter string <= 64 scalars) against the plain dynamic programmes.
    @Test func bitParallelAgreesWithDynamicProgramming() {
        var generator = SplitMix64(seed: 7)
        let alphabet: [UInt32] = Array("abcde".unicodeScalars.map(\.value)) + [0xE9, 0x4E2D, 0x1F642]
        for _ in 0..<3000 {
            let a = (0..<generator.below(70)).map { _ in alphabet[generator.below(alphabet.count)] }
            let b = (0..<generator.below(70)).map { _ in alphabet[generator.below(alphabet.count)] }
            let (s, t) = a.count <= b.count ? (a, b) : (b, a)
            guard !s.isEmpty, !t.isEmpty else { continue }
            s.withUnsafeBufferPointer { sp in
                t.withUnsafeBufferPointer { tp in
                    let dp = TextFunctions.levenshteinDP(sp.baseAddress!, s.count, tp.baseAddress!, t.count)
                    let osa = TextFunctions.osaDP(sp.baseAddress!, s.count, tp.baseAddress!, t.count)
                    if s.count <= 64 {
                        #expect(TextFunctions.levenshteinBitParallel(sp.baseAddress!, s.count, tp.baseAddress!, t.count) == dp)
                        #expect(TextFunctions.osaBitParallel(sp.baseAddress!, s.count, tp.baseAddress!, t.count) == osa)
                    }
                    let small = TextFunctions.jaroMatchesSmall(sp.baseAddress!, s.count, tp.baseAddress!, t.count, max(t.count / 2 - 1, 0))
                    let large = TextFunctions.jaroMatchesLarge(sp.baseAddress!, s.count, tp.baseAddress!, t.count, max(t.count / 2 - 1, 0))
                    if s.count <= 64 && t.count <= 64 { #expect(small == large) }
                }
            }
        }
    }

    @Test func longStringsUseTheGeneralPaths() {
        let a = String(repeating: "abcdefghij", count: 12)
        let b = String(repeating: "abcdefghij", count: 11) + "abcdefghji"
        #expect(TextFunctions.levenshtein(a, b) == 2)
        #expect(TextFunctions.damerauLevenshtein(a, b) == 1)
        #expect(TextFunctions.levenshtein("x" + a, a + "y") == 2)
        #expect(abs(TextFunctions.jaro(a, b) - (1.0 + 1.0 + 119.0 / 120.0) / 3.0) < 1e-12)
    }

    @Test func levenshteinSimilarity() {
        #expect(TextFunctions.levenshteinSimilarity("kitten", "sitting") == 1.0 - 3.0 / 7.0)
        #expect(TextFunctions.levenshteinSimilarity("same", "same") == 1.0)
        #expect(TextFunctions.levenshteinSimilarity("", "") == 0.0)
        #expect(TextFunctions.levenshteinSimilarity("a", "") == 0.0)
    }

    @Test func jaccardTokens() {
        #expect(TextFunctions.jaccardTokens("Acme Corp.", "ACME corporation") == 1.0 / 3.0)
        #expect(TextFunctions.jaccardTokens("New York, NY", "ny new-york") == 1.0)
        #expect(TextFunctions.jaccardTokens("a b c", "c d") == 0.25)
        #expect(TextFunctions.jaccardTokens("São Paulo", "SÃO PAULO") == 1.0)
        #expect(TextFunctions.jaccardTokens("", "") == 0.0)
        #expect(TextFunctions.jaccardTokens("word", "  ...  ") == 0.0)
        #expect(TextFunctions.jaccardTokens("x", "") == 0.0)
    }

    /// A small deterministic generator for the randomized checks.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }
}
