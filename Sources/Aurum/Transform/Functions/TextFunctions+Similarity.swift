import Foundation

// String similarity for record matching. These run millions of times per match job, so they work
// on scalar buffers in temporary (stack) storage, strip common affixes before the quadratic part,
// and use the bit-parallel algorithms of Myers/Hyyrö when the shorter string fits in 64 scalars.
// Memory is linear in the shorter string in every case.
//
// All comparisons are case-sensitive and exact on NFC scalars; callers that want case-insensitive
// or accent-insensitive matching lower-case or ``TextFunctions/stripAccents(_:)`` first.

extension TextFunctions {
    // MARK: Levenshtein

    /// The Levenshtein distance: the fewest single-scalar insertions, deletions and substitutions
    /// that turn `a` into `b`. `levenshtein("kitten", "sitting") == 3`.
    public static func levenshtein(_ a: String, _ b: String) -> Int {
        if a == b { return 0 }
        return withScalars(a) { x in withScalars(b) { y in levenshteinDistance(x, y) } }
    }

    /// ``levenshtein(_:_:)-(String,String)`` on pre-decoded scalars (see ``scalars(_:)``).
    public static func levenshtein(_ a: [UInt32], _ b: [UInt32]) -> Int {
        a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in levenshteinDistance(x, y) } }
    }

    /// The Levenshtein distance scaled to a similarity: `1 - distance / max(count(a), count(b))`.
    ///
    /// Returns 0.0 when either string is empty (no evidence of similarity), like the other
    /// similarity measures here.
    public static func levenshteinSimilarity(_ a: String, _ b: String) -> Double {
        withScalars(a) { x in
            withScalars(b) { y in
                if x.isEmpty || y.isEmpty { return 0.0 }
                let d = levenshteinDistance(x, y)
                return 1.0 - Double(d) / Double(max(x.count, y.count))
            }
        }
    }

    static func levenshteinDistance(_ x: UnsafeBufferPointer<UInt32>, _ y: UnsafeBufferPointer<UInt32>) -> Int {
        let (s, t) = x.count <= y.count ? (x, y) : (y, x)
        let (start, m, n) = trimCommonAffixes(s, t)
        if m == 0 { return n }
        guard let sp = s.baseAddress, let tp = t.baseAddress else { return n }
        let p = sp + start
        let q = tp + start
        if m <= 64 {
            return levenshteinBitParallel(p, m, q, n)
        }
        return levenshteinDP(p, m, q, n)
    }

    /// Hyyrö's bit-parallel formulation of Myers' algorithm; `p` is the shorter string (m <= 64).
    @inline(__always)
    static func levenshteinBitParallel(
        _ p: UnsafePointer<UInt32>, _ m: Int, _ q: UnsafePointer<UInt32>, _ n: Int
    ) -> Int {
        withPatternMasks(p, m) { masks in
            var vp = UInt64.max
            var vn: UInt64 = 0
            var dist = m
            let last: UInt64 = 1 << UInt64(m - 1)
            for j in 0..<n {
                let x = masks.mask(q[j])
                let d0 = (((x & vp) &+ vp) ^ vp) | x | vn
                var hp = vn | ~(d0 | vp)
                var hn = d0 & vp
                if hp & last != 0 { dist += 1 }
                if hn & last != 0 { dist -= 1 }
                hp = (hp << 1) | 1
                hn = hn << 1
                vp = hn | ~(d0 | hp)
                vn = hp & d0
            }
            return dist
        }
    }

    /// The classic dynamic programme over one row (the shorter string's length + 1).
    static func levenshteinDP(
        _ p: UnsafePointer<UInt32>, _ m: Int, _ q: UnsafePointer<UInt32>, _ n: Int
    ) -> Int {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: m + 1) { row in
            for i in 0...m { row[i] = i }
            for j in 1...n {
                let cj = q[j - 1]
                var diagonal = row[0]
                row[0] = j
                for i in 1...m {
                    let above = row[i]
                    let substitution = diagonal + (p[i - 1] == cj ? 0 : 1)
                    row[i] = min(substitution, min(above, row[i - 1]) + 1)
                    diagonal = above
                }
            }
            return row[m]
        }
    }

    // MARK: Damerau-Levenshtein (optimal string alignment)

    /// The optimal-string-alignment distance (restricted Damerau-Levenshtein): Levenshtein plus the
    /// transposition of two adjacent scalars at cost 1, where no substring is edited twice.
    /// `damerauLevenshtein("ca", "abc") == 3` (the unrestricted distance would be 2).
    public static func damerauLevenshtein(_ a: String, _ b: String) -> Int {
        if a == b { return 0 }
        return withScalars(a) { x in withScalars(b) { y in osaDistance(x, y) } }
    }

    /// ``damerauLevenshtein(_:_:)-(String,String)`` on pre-decoded scalars (see ``scalars(_:)``).
    public static func damerauLevenshtein(_ a: [UInt32], _ b: [UInt32]) -> Int {
        a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in osaDistance(x, y) } }
    }

    static func osaDistance(_ x: UnsafeBufferPointer<UInt32>, _ y: UnsafeBufferPointer<UInt32>) -> Int {
        let (s, t) = x.count <= y.count ? (x, y) : (y, x)
        let (start, m, n) = trimCommonAffixes(s, t)
        if m == 0 { return n }
        guard let sp = s.baseAddress, let tp = t.baseAddress else { return n }
        let p = sp + start
        let q = tp + start
        if m <= 64 {
            return osaBitParallel(p, m, q, n)
        }
        return osaDP(p, m, q, n)
    }

    /// Hyyrö's (2003) bit-parallel OSA distance; `p` is the shorter string (m <= 64).
    @inline(__always)
    static func osaBitParallel(
        _ p: UnsafePointer<UInt32>, _ m: Int, _ q: UnsafePointer<UInt32>, _ n: Int
    ) -> Int {
        withPatternMasks(p, m) { masks in
            var vp = UInt64.max
            var vn: UInt64 = 0
            var d0: UInt64 = 0
            var previousMask: UInt64 = 0
            var dist = m
            let last: UInt64 = 1 << UInt64(m - 1)
            for j in 0..<n {
                let x = masks.mask(q[j])
                let transposed = (((~d0) & x) << 1) & previousMask
                d0 = ((((x & vp) &+ vp) ^ vp) | x | vn) | transposed
                var hp = vn | ~(d0 | vp)
                var hn = d0 & vp
                if hp & last != 0 { dist += 1 }
                if hn & last != 0 { dist -= 1 }
                hp = (hp << 1) | 1
                hn = hn << 1
                vp = hn | ~(d0 | hp)
                vn = hp & d0
                previousMask = x
            }
            return dist
        }
    }

    /// The OSA dynamic programme over three rows of the shorter string's length + 1.
    static func osaDP(
        _ p: UnsafePointer<UInt32>, _ m: Int, _ q: UnsafePointer<UInt32>, _ n: Int
    ) -> Int {
        let width = m + 1
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * width) { rows in
            guard let base = rows.baseAddress else { return 0 }
            var twoBack = base
            var previous = base + width
            var current = base + 2 * width
            for i in 0...m { previous[i] = i; twoBack[i] = 0 }
            for j in 1...n {
                let cj = q[j - 1]
                current[0] = j
                for i in 1...m {
                    let ci = p[i - 1]
                    var v = min(previous[i - 1] + (ci == cj ? 0 : 1), min(previous[i], current[i - 1]) + 1)
                    if i > 1 && j > 1 && ci == q[j - 2] && p[i - 2] == cj {
                        v = min(v, twoBack[i - 2] + 1)
                    }
                    current[i] = v
                }
                let recycled = twoBack
                twoBack = previous
                previous = current
                current = recycled
            }
            return previous[m]
        }
    }

    // MARK: Jaro and Jaro-Winkler

    /// The Jaro similarity in [0, 1], as defined by Jaro (1989) and computed by jellyfish and
    /// rapidfuzz: matches are equal scalars no further apart than `max(count) / 2 - 1`, and half the
    /// out-of-order matches count as transpositions.
    ///
    /// Returns 0.0 when either string is empty (also when both are), like jellyfish.
    public static func jaro(_ a: String, _ b: String) -> Double {
        withScalars(a) { x in withScalars(b) { y in jaroSimilarity(x, y, winklerScale: 0) } }
    }

    /// ``jaro(_:_:)-(String,String)`` on pre-decoded scalars (see ``scalars(_:)``).
    public static func jaro(_ a: [UInt32], _ b: [UInt32]) -> Double {
        a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in jaroSimilarity(x, y, winklerScale: 0) } }
    }

    /// The Jaro-Winkler similarity in [0, 1]: the Jaro similarity boosted by `prefixScale` for
    /// each of up to 4 leading scalars in common, when the Jaro similarity is above 0.7 (Winkler's
    /// boost threshold, as jellyfish and rapidfuzz apply it).
    ///
    /// `prefixScale` is clamped to [0, 0.25] so the result stays within [0, 1]. Returns 0.0 when
    /// either string is empty. `jaroWinkler("MARTHA", "MARHTA") == 0.9611111111111111`.
    public static func jaroWinkler(_ a: String, _ b: String, prefixScale: Double = 0.1) -> Double {
        let scale = min(max(prefixScale, 0), 0.25)
        return withScalars(a) { x in withScalars(b) { y in jaroSimilarity(x, y, winklerScale: scale) } }
    }

    /// ``jaroWinkler(_:_:prefixScale:)-(String,String,_)`` on pre-decoded scalars (see ``scalars(_:)``).
    public static func jaroWinkler(_ a: [UInt32], _ b: [UInt32], prefixScale: Double = 0.1) -> Double {
        let scale = min(max(prefixScale, 0), 0.25)
        return a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in jaroSimilarity(x, y, winklerScale: scale) }
        }
    }

    static func jaroSimilarity(
        _ x: UnsafeBufferPointer<UInt32>, _ y: UnsafeBufferPointer<UInt32>, winklerScale: Double
    ) -> Double {
        let l1 = x.count
        let l2 = y.count
        guard l1 > 0, l2 > 0, let xp = x.baseAddress, let yp = y.baseAddress else { return 0 }
        let range = max(max(l1, l2) / 2 - 1, 0)
        let (common, transpositions): (Int, Int)
        if l1 <= 64 && l2 <= 64 {
            (common, transpositions) = jaroMatchesSmall(xp, l1, yp, l2, range)
        } else {
            (common, transpositions) = jaroMatchesLarge(xp, l1, yp, l2, range)
        }
        if common == 0 { return 0 }
        let c = Double(common)
        var weight = (c / Double(l1) + c / Double(l2) + Double(common - transpositions) / c) / 3.0
        if winklerScale > 0 && weight > 0.7 {
            let limit = min(4, min(l1, l2))
            var prefix = 0
            while prefix < limit && xp[prefix] == yp[prefix] { prefix += 1 }
            weight += Double(prefix) * winklerScale * (1.0 - weight)
        }
        return weight
    }

    /// Jaro's matching pass when both strings have at most 64 scalars: the positions of each
    /// scalar in `y` are a bit mask, so the first free match in the window is the lowest set bit
    /// of (positions & ~taken & window), and the window slides by a shift.
    @inline(__always)
    static func jaroMatchesSmall(
        _ x: UnsafePointer<UInt32>, _ l1: Int, _ y: UnsafePointer<UInt32>, _ l2: Int, _ range: Int
    ) -> (Int, Int) {
        withPatternMasks(y, l2) { masks in
            var taken: UInt64 = 0
            var matchedX: UInt64 = 0
            var common = 0
            // Bits max(0, i - range)...(i + range).
            var window: UInt64 = range >= 63 ? UInt64.max : (UInt64(1) << UInt64(range + 1)) &- 1
            for i in 0..<l1 {
                let candidates = masks.mask(x[i]) & ~taken & window
                if candidates != 0 {
                    taken |= candidates & (0 &- candidates)
                    matchedX |= UInt64(1) << UInt64(i)
                    common &+= 1
                }
                window = i < range ? (window << 1) | 1 : window << 1
            }
            if common == 0 { return (0, 0) }
            var halfTranspositions = 0
            var xs = matchedX
            var ys = taken
            while xs != 0 {
                if x[xs.trailingZeroBitCount] != y[ys.trailingZeroBitCount] { halfTranspositions &+= 1 }
                xs &= xs &- 1
                ys &= ys &- 1
            }
            return (common, halfTranspositions / 2)
        }
    }

    /// Jaro's matching pass with a flag array for `y`.
    static func jaroMatchesLarge(
        _ x: UnsafePointer<UInt32>, _ l1: Int, _ y: UnsafePointer<UInt32>, _ l2: Int, _ range: Int
    ) -> (Int, Int) {
        withUnsafeTemporaryAllocation(of: Bool.self, capacity: l2) { flags2 in
            flags2.initialize(repeating: false)
            return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: l1) { matched in
                var common = 0
                for i in 0..<l1 {
                    let lo = max(0, i - range)
                    let hi = min(i + range, l2 - 1)
                    if lo > hi { continue }
                    let c = x[i]
                    var j = lo
                    while j <= hi {
                        if !flags2[j] && y[j] == c {
                            flags2[j] = true
                            matched[common] = c
                            common += 1
                            break
                        }
                        j += 1
                    }
                }
                if common == 0 { return (0, 0) }
                var halfTranspositions = 0
                var k = 0
                for j in 0..<l2 where flags2[j] {
                    if y[j] != matched[k] { halfTranspositions += 1 }
                    k += 1
                }
                return (common, halfTranspositions / 2)
            }
        }
    }

    // MARK: Token Jaccard

    /// The Jaccard similarity of the two strings' token sets: |A ∩ B| / |A ∪ B|.
    ///
    /// Tokens are the maximal runs of letters, digits and combining marks (so whitespace and
    /// punctuation split), lower-cased. Returns 0.0 when either string has no token (also when
    /// neither has). `jaccardTokens("Acme Corp.", "ACME corporation") == 1.0 / 3.0`.
    public static func jaccardTokens(_ a: String, _ b: String) -> Double {
        let ta = tokenSet(a)
        let tb = tokenSet(b)
        if ta.isEmpty || tb.isEmpty { return 0 }
        let (small, large) = ta.count <= tb.count ? (ta, tb) : (tb, ta)
        var intersection = 0
        for t in small where large.contains(t) { intersection += 1 }
        return Double(intersection) / Double(ta.count + tb.count - intersection)
    }

    /// The lower-cased word tokens of `s` (see ``jaccardTokens(_:_:)``).
    static func tokenSet(_ s: String) -> Set<String> {
        var tokens = Set<String>()
        var current = String.UnicodeScalarView()
        let normalized = mayNeedNFC(s) ? s.precomposedStringWithCanonicalMapping : s
        for scalar in normalized.unicodeScalars {
            let isWordScalar: Bool
            if scalar.value < 0x80 {
                let v = scalar.value
                isWordScalar = (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
            } else {
                let props = scalar.properties
                isWordScalar = props.isAlphabetic || props.numericType != nil
                    || props.generalCategory == .nonspacingMark || props.generalCategory == .spacingMark
            }
            if isWordScalar {
                current.append(scalar)
            } else if !current.isEmpty {
                tokens.insert(String(current).lowercased())
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { tokens.insert(String(current).lowercased()) }
        return tokens
    }

    // MARK: Shared pieces

    /// Strips the common prefix and suffix of `s` (the shorter) and `t`; returns the prefix length
    /// and the remaining lengths. Exact for Levenshtein and OSA distances.
    @inline(__always)
    static func trimCommonAffixes(
        _ s: UnsafeBufferPointer<UInt32>, _ t: UnsafeBufferPointer<UInt32>
    ) -> (start: Int, m: Int, n: Int) {
        var start = 0
        let sc = s.count
        while start < sc && s[start] == t[start] { start += 1 }
        var e1 = sc
        var e2 = t.count
        while e1 > start && s[e1 - 1] == t[e2 - 1] {
            e1 -= 1
            e2 -= 1
        }
        return (start, e1 - start, e2 - start)
    }

    /// For each scalar, the bit set of its positions in a pattern of at most 64 scalars: a table
    /// for ASCII and a short list for the rest.
    struct PatternMasks {
        let ascii: UnsafeMutablePointer<UInt64>
        let otherKeys: UnsafeMutablePointer<UInt32>
        let otherMasks: UnsafeMutablePointer<UInt64>
        let otherCount: Int

        @inline(__always)
        func mask(_ c: UInt32) -> UInt64 {
            if c < 128 { return ascii[Int(c)] }
            var k = 0
            while k < otherCount {
                if otherKeys[k] == c { return otherMasks[k] }
                k += 1
            }
            return 0
        }
    }

    /// Calls `body` with the position masks of the scalars of `p` (m <= 64).
    @inline(__always)
    static func withPatternMasks<R>(_ p: UnsafePointer<UInt32>, _ m: Int, _ body: (PatternMasks) -> R) -> R {
        // Each temporary allocation stays within 1 KiB, the most the standard library puts on the
        // stack unconditionally (a larger one may go to the heap).
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 128) { table in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 64) { others in
                withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { keys in
                    let ascii = table.baseAddress!
                    let otherMasks = others.baseAddress!
                    let otherKeys = keys.baseAddress!
                    ascii.initialize(repeating: 0, count: 128)
                    var otherCount = 0
                    for i in 0..<m {
                        let c = p[i]
                        let bit: UInt64 = 1 << UInt64(i)
                        if c < 128 {
                            ascii[Int(c)] |= bit
                        } else {
                            var k = 0
                            while k < otherCount && otherKeys[k] != c { k += 1 }
                            if k == otherCount {
                                otherKeys[k] = c
                                otherMasks[k] = 0
                                otherCount += 1
                            }
                            otherMasks[k] |= bit
                        }
                    }
                    return body(
                        PatternMasks(
                            ascii: ascii, otherKeys: otherKeys, otherMasks: otherMasks, otherCount: otherCount))
                }
            }
        }
    }
}
