/// SplitMix64: small, fast, and the same sequence everywhere for a seed — what makes the
/// generators' output byte-identical across runs and machines, and matching's samples repeatable.
struct SplitMix64 {
    var state: UInt64

    init(state: UInt64) { self.state = state }

    /// An independent stream for one item of a generation (an entity, a record), so that what an
    /// item looks like does not depend on how many random numbers the items before it used.
    init(seed: UInt64, stream: UInt64, salt: UInt64) {
        state = Self.finalize(seed &+ Self.finalize(stream &* 0xD1B5_4A32_D192_ED03 &+ salt))
    }

    static func finalize(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + int(r.count) }
    mutating func pick<T>(_ a: [T]) -> T { a[int(a.count)] }
    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { unit() < p }
}
