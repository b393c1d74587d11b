import Foundation

extension TextFunctions {
    // MARK: Accents

    /// `s` without diacritics: canonically decomposed, with the combining diacritical marks
    /// dropped, then recomposed ("Crème Brûlée" → "Creme Brulee", "Ångström" → "Angstrom").
    ///
    /// Letters that do not decompose are spelled out: ß → ss, ẞ → SS, æ → ae, œ → oe, ø → o,
    /// ł → l, đ/ð → d, þ → th, ı → i, ħ → h, ŧ → t, ŀ → l (and their capitals). Only the marks of
    /// the combining-diacritics blocks are dropped, so the vowel signs of Indic scripts and other
    /// marks that change a letter's identity stay.
    public static func stripAccents(_ s: String) -> String {
        if isASCII(s) { return s }
        var out = String.UnicodeScalarView()
        var changed = false
        let scalars = Array(s.decomposedStringWithCanonicalMapping.unicodeScalars)
        for (k, scalar) in scalars.enumerated() {
            let v = scalar.value
            if v < 0x80 {
                out.append(scalar)
                continue
            }
            if isCombiningDiacritic(v) {
                changed = true
                continue
            }
            if var replacement = letterFolds[v] {
                // A capital spelled with two letters keeps the case of the word: "Æsir" → "Aesir",
                // "ÆSIR" → "AESIR".
                if replacement.count > 1, replacement.first!.isUppercase,
                    let next = scalars[(k + 1)...].first(where: { !isCombiningDiacritic($0.value) }),
                    next.properties.isLowercase
                {
                    replacement = replacement.prefix(1) + replacement.dropFirst().lowercased()
                }
                out.append(contentsOf: replacement.unicodeScalars)
                changed = true
                continue
            }
            out.append(scalar)
        }
        if !changed { return s }
        return String(out).precomposedStringWithCanonicalMapping
    }

    @inline(__always)
    static func isCombiningDiacritic(_ v: UInt32) -> Bool {
        (v >= 0x0300 && v <= 0x036F) || (v >= 0x1AB0 && v <= 0x1AFF) || (v >= 0x1DC0 && v <= 0x1DFF)
            || (v >= 0x20D0 && v <= 0x20FF) || (v >= 0xFE20 && v <= 0xFE2F)
    }

    /// Latin letters that canonical decomposition leaves alone, spelled in ASCII.
    static let letterFolds: [UInt32: String] = [
        0x00DF: "ss", 0x1E9E: "SS",  // ß ẞ
        0x00E6: "ae", 0x00C6: "AE",  // æ Æ
        0x0153: "oe", 0x0152: "OE",  // œ Œ
        0x00F8: "o", 0x00D8: "O",  // ø Ø
        0x0142: "l", 0x0141: "L",  // ł Ł
        0x0111: "d", 0x0110: "D",  // đ Đ
        0x00F0: "d", 0x00D0: "D",  // ð Ð
        0x00FE: "th", 0x00DE: "TH",  // þ Þ
        0x0131: "i",  // ı
        0x0127: "h", 0x0126: "H",  // ħ Ħ
        0x0167: "t", 0x0166: "T",  // ŧ Ŧ
        0x0140: "l", 0x013F: "L",  // ŀ Ŀ
        0x0138: "k",  // ĸ
        0x014B: "n", 0x014A: "N",  // ŋ Ŋ
        0x0180: "b", 0x0181: "B",  // ƀ Ɓ
        0x0188: "c", 0x0187: "C",  // ƈ Ƈ
        0x0257: "d", 0x018A: "D",  // ɗ Ɗ
        0x0192: "f", 0x0191: "F",  // ƒ Ƒ
        0x0268: "i", 0x0197: "I",  // ɨ Ɨ
        0x0199: "k", 0x0198: "K",  // ƙ Ƙ
        0x019A: "l", 0x023D: "L",  // ƚ Ƚ
        0x0272: "n", 0x019D: "N",  // ɲ Ɲ
        0x01A5: "p", 0x01A4: "P",  // ƥ Ƥ
        0x01AB: "t", 0x01AD: "t", 0x01AC: "T", 0x01AE: "T",  // ƫ ƭ Ƭ Ʈ
        0x01B4: "y", 0x01B3: "Y",  // ƴ Ƴ
        0x01B6: "z", 0x01B5: "Z",  // ƶ Ƶ
        0x0133: "ij", 0x0132: "IJ",  // ĳ Ĳ
        0x0149: "n",  // ŉ
        0x017F: "s",  // ſ
    ]

    // MARK: Title case

    /// Upper-cases the first letter of each word and lower-cases the rest:
    /// "jean-luc o'neill" → "Jean-Luc O'Neill", "MARY ANN" → "Mary Ann".
    ///
    /// A word starts at a letter that follows anything but a letter, digit, combining mark or
    /// apostrophe (so hyphens, slashes, periods and brackets start words, and "3rd" stays "3rd").
    /// After an apostrophe (' or ’) the next letter is capitalised only when a single letter stands
    /// before it at the start of the word ("O'Neill", "D'Angelo", but "Don't", "Rock'n'roll").
    /// The first letter takes its Unicode titlecase form ("ǆemal" → "ǅemal").
    public static func titleCase(_ s: String) -> String {
        let lower = s.precomposedStringWithCanonicalMapping.lowercased()
        var out = ""
        out.reserveCapacity(lower.utf8.count)
        // Letters since the current word started, or -1 when not in a word.
        var lettersInWord = -1
        var previous: Character? = nil
        var beforePrevious: Character? = nil
        for ch in lower {
            let isApostrophe: (Character?) -> Bool = { $0 == "'" || $0 == "\u{2019}" }
            if ch.isLetter {
                var capitalise = false
                if let p = previous {
                    if isApostrophe(p) {
                        // "o'neill": one letter, then the apostrophe, then this letter; or an
                        // apostrophe that itself starts the word ("'tis").
                        if let bp = beforePrevious, bp.isLetter || bp.isNumber {
                            capitalise = lettersInWord == 1 && bp.isLetter
                        } else {
                            capitalise = true
                        }
                    } else if !(p.isLetter || p.isNumber || isCombiningMark(p)) {
                        capitalise = true
                    }
                } else {
                    capitalise = true
                }
                if capitalise {
                    out.append(titlecased(ch))
                    lettersInWord = 1
                } else {
                    out.append(ch)
                    if lettersInWord >= 0 { lettersInWord += 1 }
                }
            } else {
                out.append(ch)
                if !(ch.isNumber || isApostrophe(ch) || isCombiningMark(ch)) { lettersInWord = -1 }
            }
            beforePrevious = previous
            previous = ch
        }
        return out
    }

    static func isCombiningMark(_ ch: Character) -> Bool {
        guard let first = ch.unicodeScalars.first else { return false }
        switch first.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    /// The character with its first scalar in Unicode titlecase ("ß" → "Ss", "ǆ" → "ǅ").
    static func titlecased(_ ch: Character) -> String {
        let scalars = ch.unicodeScalars
        guard let first = scalars.first else { return String(ch) }
        if first.value < 0x80 {
            return first.value >= 0x61 && first.value <= 0x7A ? String(ch).uppercased() : String(ch)
        }
        var result = first.properties.titlecaseMapping
        result.unicodeScalars.append(contentsOf: scalars.dropFirst())
        return result.precomposedStringWithCanonicalMapping
    }
}

extension TextFunctions {
    /// Punctuation and symbols become spaces; runs of whitespace collapse to one space; the ends are trimmed.
    public static func stripPunctuation(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for c in s.unicodeScalars {
            let p = c.properties
            let isSeparator = c.value == 32 || c.value == 9 || c.value == 10 || c.value == 13 || p.isWhitespace
                || (p.generalCategory.isPunctuation || p.generalCategory.isSymbol) && c != "'"
            if c == "'" || c == "\u{2019}" { continue }
            if isSeparator { pendingSpace = !out.isEmpty; continue }
            if pendingSpace { out.append(" "); pendingSpace = false }
            out.append(c)
        }
        return String(out)
    }
}

extension Unicode.GeneralCategory {
    var isPunctuation: Bool {
        switch self {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation: true
        default: false
        }
    }
    var isSymbol: Bool {
        switch self {
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol: true
        default: false
        }
    }
}
