import Foundation

/// Writes the model `aurum dedupe` chose as a complete catalog (sources and the `entities:`
/// section) that `aurum run` loads back into the same specification.
enum ModelWriter {
    static func yaml(catalog: Catalog, fileNames: [String], files: [DedupeResult.FileColumns]) -> String {
        var y = """
            # The model `aurum dedupe` chose for \(fileNames.joined(separator: ", ")).
            # Edit it and run `aurum run model.yaml` (the warehouse is aurum.db beside this file).
            version: 1
            warehouse: aurum.db

            sources:

            """
        for (i, s) in catalog.sources.enumerated() {
            let f = files[i]
            y += "  # \(fileNames[i]) (\(f.records) records):\n"
            for p in f.profiles {
                if let k = p.kind {
                    let how = p.byName ? "by name and content" : "by content"
                    let order = p.dateOrder == .dayFirst ? ", day first" : ""
                    y += "  #   \(p.column): \(k.label) (\(how), \(Int((p.score * 100).rounded())) % of values\(order))\n"
                } else {
                    y += "  #   \(p.column): not used (\(p.reason))\n"
                }
            }
            var parts = ["name: \(s.name)", "type: \(s.type.rawValue)", "path: \(quoted(s.path))"]
            if !s.key.isEmpty { parts.append("key: \(scalar(s.key[0]))") }
            y += "  - {\(parts.joined(separator: ", "))}\n"
        }
        guard let e = catalog.entities.first else { return y }
        y += "\nentities:\n  \(e.name):\n    attributes:\n"
        for a in e.attributes {
            if a.type == .date {
                let rest = a.standardize.filter { $0 != .date([]) }
                y += "      \(a.name): {type: date\(rest.isEmpty ? "" : ", standardize: [\(rest.map(standardizer).joined(separator: ", "))]")}\n"
            } else {
                y += "      \(a.name): [\(a.standardize.map(standardizer).joined(separator: ", "))]\n"
            }
        }
        y += "    sources:\n"
        for m in e.sources {
            y += "      \(m.source):\n"
            for a in e.attributes {
                guard let x = m.expressions[a.name] else { continue }
                y += "        \(a.name): \(expression(x))\n"
            }
        }
        let mt = e.match
        y += "    match:\n      link_type: \(mt.linkType.rawValue)\n      pair_budget: \(mt.pairBudget)\n      blocking:\n"
        for r in mt.blocking { y += "        - [\(r.keys.map(scalar).joined(separator: ", "))]\n" }
        y += "      comparisons:\n"
        for c in mt.comparisons {
            let levels = "[\(c.levels.map(level).joined(separator: ", "))]"
            let attr = c.attribute == c.name ? "" : "attribute: \(c.attribute), "
            let m = c.m.map { ", m: [\($0.map { Value.format(($0 * 1e6).rounded() / 1e6) }.joined(separator: ", "))]" } ?? ""
            y += "        \(c.name): " + (c.termFrequency || !attr.isEmpty || !m.isEmpty ? "{\(attr)levels: \(levels)\(c.termFrequency ? ", term_frequency: true" : "")\(m)}" : levels) + "\n"
        }
        if mt.training.emBlocks.isEmpty {
            y += "      training: {u_sample_pairs: \(mt.training.uSamplePairs)}\n"
        } else {
            y += "      training:\n        u_sample_pairs: \(mt.training.uSamplePairs)\n        em_blocks:\n"
            for r in mt.training.emBlocks { y += "          - [\(r.keys.map(scalar).joined(separator: ", "))]\n" }
        }
        if !mt.exclusions.isEmpty {
            y += "      exclusions: [\(mt.exclusions.map { "[\($0.attributes.map(scalar).joined(separator: ", "))]" }.joined(separator: ", "))]\n"
        }
        y += "      thresholds: {link: \(Value.format(mt.linkThreshold)), review: \(Value.format(mt.reviewThreshold))}\n"
        y += "    survivorship:\n      default: \(rule(e.survivorship.defaultRule))\n"
        if !e.survivorship.attributes.isEmpty {
            y += "      attributes:\n"
            for (a, r) in e.survivorship.attributes.sorted(by: { $0.key < $1.key }) { y += "        \(a): \(rule(r))\n" }
        }
        return y
    }

    static func standardizer(_ s: Standardizer) -> String {
        switch s {
        case .date(let f): f.isEmpty ? "date" : "{date: [\(f.map(quoted).joined(separator: ", "))]}"
        case .sql(let e): "{sql: \(quoted(e))}"
        default: s.name
        }
    }

    static func level(_ l: ComparisonLevel) -> String {
        switch l {
        case .exact: "exact"
        case .jaroWinkler(let t): "{jaro_winkler: \(Value.format(t))}"
        case .levenshtein(let k): "{levenshtein: \(k)}"
        case .damerauLevenshtein(let k): "{damerau_levenshtein: \(k)}"
        case .jaccard(let t): "{jaccard: \(Value.format(t))}"
        case .soundex: "soundex"
        case .metaphone: "double_metaphone"
        case .numberAbsolute(let d): "{abs_diff: \(Value.format(d))}"
        case .numberRelative(let d): "{rel_diff: \(Value.format(d))}"
        case .dateDays(let n): "{date_days: \(n)}"
        case .dateTransposed: "day_month_transposed"
        case .swapped(let o): "{swapped_with: \(o)}"
        case .sql(let e): "{sql: \(quoted(e))}"
        }
    }

    static func rule(_ r: SurvivorshipRule) -> String {
        switch r {
        case .sourcePriority(let s): "{source_priority: [\(s.joined(separator: ", "))]}"
        case .mostRecent(let a): "{most_recent: \(a)}"
        case .custom(let e): "{custom: \(quoted(e))}"
        default: r.name
        }
    }

    /// A mapping expression as the loader reads it back: a plain column bare, anything else quoted.
    static func expression(_ x: String) -> String {
        if x.hasPrefix("\""), x.hasSuffix("\""), x.count > 2 {
            let inner = String(x.dropFirst().dropLast())
            if !inner.contains("\""), inner.range(of: #"^[A-Za-z_][A-Za-z0-9_.]*$"#, options: .regularExpression) != nil,
               !yamlWords.contains(inner.lowercased()) {
                return inner
            }
        }
        return quoted(x)
    }

    static let yamlWords: Set<String> = ["true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"]

    static func scalar(_ s: String) -> String {
        if s.range(of: #"^[A-Za-z_][A-Za-z0-9_]*$"#, options: .regularExpression) != nil, !yamlWords.contains(s.lowercased()) { return s }
        return quoted(s)
    }

    static func quoted(_ s: String) -> String {
        var o = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\\": o += "\\\\"
            case "\"": o += "\\\""
            case "\n": o += "\\n"
            case "\t": o += "\\t"
            default: o.unicodeScalars.append(ch)
            }
        }
        return o + "\""
    }
}
