import Testing
@testable import AurumPostgres

/// `CopyText.needsEscape` reads 8 bytes at a time: every special byte at every offset of strings
/// longer than a word must be found, and no other byte may count as one.
struct CopyTextTests {
    func needs(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBufferPointer(CopyText.needsEscape) }

    @Test func everySpecialByteAtEveryOffsetIsFound() {
        for special: UInt8 in [92, 9, 10, 13] {
            for length in 1...40 {
                for at in 0..<length {
                    var s = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    s[at] = special
                    #expect(needs(s), "byte \(special) at \(at) of \(length)")
                }
            }
        }
    }

    @Test func noOtherByteCounts() {
        for b in 0...255 where ![92, 9, 10, 13].contains(b) {
            for length in [1, 7, 8, 9, 17] {
                #expect(!needs([UInt8](repeating: UInt8(b), count: length)), "byte \(b) × \(length)")
            }
        }
        #expect(!needs([]))
        #expect(!needs(Array("Zoë ✓ 0123456789 plain text, longer than a word".utf8)))
    }
}
