import Foundation

/// The catalog's `entities:` section: attributes, source mappings, matching and survivorship.
extension Reader {
    func entitySpecs(_ n: ConfigNode) -> [EntitySpec] {
        guard n.expectMapping() else { return [] }
        return n.pairs.compactMap { entitySpec(name: $0.0, $0.1) }
    }

    func entitySpec(name: String, _ n: ConfigNode) -> EntitySpec? {
        guard n.expectMapping() else { return nil }
        n.checkKeys(["attributes", "sources", "match", "survivorship"])
        if name.isEmpty || name.range(of: #"^[A-Za-z_][A-Za-z0-9_]*$"#, options: .regularExpression) == nil {
            n.fail("an entity name must be a letter or '_' followed by letters, digits or '_', found '\(name)'")
        }
        var attributes: [AttributeSpec] = []
        if let a = n["attributes"] {
            if a.isSequence {
                for e in a.elements { if let s = e.string { attributes.append(AttributeSpec(name: s)) } }
            } else if a.expectMapping() {
                for (attr, spec) in a.pairs { if let s = attributeSpec(attr, spec) { attributes.append(s) } }
            }
        } else {
            n.fail("missing 'attributes'", hint: "list the entity's canonical attributes, e.g. given_name, family_name, dob")
        }
        let names = attributes.map(\.name)
        var mappings: [EntitySourceMapping] = []
        if let s = n["sources"], s.expectMapping() {
            for (source, m) in s.pairs {
                if m.isSequence {
                    // `crm: [given_name, family_name]`: the source's columns carry the attribute names.
                    let listed = m.elements.compactMap(\.string)
                    mappings.append(EntitySourceMapping(source: source, expressions: Dictionary(listed.map { ($0, sqlIdent($0)) },
                                                                                                uniquingKeysWith: { a, _ in a }),
                                                        location: m.path))
                    for (i, l) in listed.enumerated() where !names.contains(l) { m.elements[i].fail(unknownAttribute(l, names)) }
                    continue
                }
                guard m.expectMapping() else { continue }
                var exprs: [String: String] = [:]
                for (attr, e) in m.pairs {
                    if !names.contains(attr) { e.fail(unknownAttribute(attr, names)); continue }
                    guard let text = e.string else { continue }
                    exprs[attr] = isPlainColumn(text) ? sqlIdent(text) : text
                }
                mappings.append(EntitySourceMapping(source: source, expressions: exprs, location: m.path))
            }
        } else if n["sources"] == nil {
            n.fail("missing 'sources'", hint: "map each source's columns to the attributes: sources: {crm: {given_name: first_name}}")
        }
        let match = n["match"].map { matchSpec($0, attributes: attributes) } ?? MatchSpec()
        let survivorship = n["survivorship"].map { survivorshipSpec($0, attributes: names) } ?? SurvivorshipSpec()
        var spec = EntitySpec(name: name, attributes: attributes, sources: mappings, match: match,
                              survivorship: survivorship, location: n.path)
        if spec.match.location.isEmpty { spec.match.location = "\(n.path).match" }
        return spec
    }

    /// A column name as written in a catalog (letters, digits, `_` and the `.` of flattened JSON).
    func isPlainColumn(_ s: String) -> Bool {
        s.range(of: #"^[A-Za-z_][A-Za-z0-9_.]*$"#, options: .regularExpression) != nil
    }

    func unknownAttribute(_ a: String, _ names: [String]) -> String {
        let hint = suggestion(a, names).map { " (did you mean '\($0)'?)" } ?? ""
        return "unknown attribute '\(a)'\(hint); attributes: \(names.joined(separator: ", "))"
    }

    func attributeSpec(_ name: String, _ n: ConfigNode) -> AttributeSpec? {
        var spec = AttributeSpec(name: name)
        if n.isNull { return spec }
        if n.isSequence || n.node.scalar != nil {
            // `given_name: [trim, lower, nickname]`: the standardisers alone.
            spec.standardize = (n.isSequence ? n.elements : [n]).compactMap(standardizer)
            return spec
        }
        guard n.expectMapping() else { return nil }
        n.checkKeys(["type", "standardize"])
        if let t = n["type"]?.enumValue(AttributeType.self, what: "attribute type") { spec.type = t }
        if let s = n["standardize"] {
            spec.standardize = (s.isSequence ? s.elements : [s]).compactMap(standardizer)
        }
        if spec.type == .date && !spec.standardize.contains(where: { if case .date = $0 { return true } else { return false } }) {
            spec.standardize.append(.date([]))
        }
        return spec
    }

    static let standardizerNames = ["trim", "lower", "upper", "fold_accents", "punctuation", "digits", "nickname",
                                    "email", "phone", "postcode", "date", "sql"]

    func standardizer(_ n: ConfigNode) -> Standardizer? {
        if n.isMapping {
            n.checkKeys(["date", "sql"])
            if let d = n["date"] { return .date(d.stringList ?? []) }
            if let e = n["sql"]?.string { return .sql(e) }
            n.fail("expected {date: [FORMATS]} or {sql: EXPR over value}")
            return nil
        }
        guard let s = n.string else { return nil }
        switch s.lowercased() {
        case "trim": return .trim
        case "lower", "lowercase": return .lower
        case "upper", "uppercase": return .upper
        case "fold_accents", "accents", "strip_accents": return .foldAccents
        case "punctuation": return .punctuation
        case "digits": return .digits
        case "nickname", "nicknames": return .nickname
        case "email": return .email
        case "phone": return .phone
        case "postcode": return .postcode
        case "date": return .date([])
        default:
            n.fail("unknown standardiser '\(s)'", hint: suggestion(s.lowercased(), Reader.standardizerNames).map { "did you mean '\($0)'?" }
                   ?? "one of: \(Reader.standardizerNames.joined(separator: ", "))")
            return nil
        }
    }

    /// Cross-checks of the entities against the sources and outputs.
    func checkEntities(_ c: Catalog, sourceNames: [String: String]) {
        let d = diagnostics
        var seen = Set<String>()
        for e in c.entities {
            if !seen.insert(e.name).inserted { d.error(nil, e.location, "duplicate entity '\(e.name)'") }
            for m in e.sources where sourceNames[m.source] == nil {
                d.error(nil, m.location, "unknown source '\(m.source)'",
                        hint: suggestion(m.source, Array(sourceNames.keys)).map { "did you mean '\($0)'?" } ?? "sources: \(sourceNames.keys.sorted().joined(separator: ", "))")
            }
            for (attr, rule) in e.survivorship.attributes.sorted(by: { $0.key < $1.key }) {
                if case .sourcePriority(let order) = rule {
                    for s in order where !e.sources.contains(where: { $0.source == s }) {
                        d.error(nil, "\(e.location).survivorship.attributes.\(attr)", "source '\(s)' does not feed entity '\(e.name)'",
                                hint: "sources of \(e.name): \(e.sources.map(\.source).joined(separator: ", "))")
                    }
                }
            }
        }
        for o in c.outputs {
            guard let data = o.data else { continue }
            let parts = data.split(separator: ".", maxSplits: 1).map(String.init)
            let kinds = ["integrated", "golden", "xref", "pairs"]
            if !kinds.contains(parts.first ?? "") {
                d.error(nil, "\(o.location).data", "unknown data '\(data)'", hint: "one of: \(kinds.joined(separator: ", ")) (golden, xref and pairs may name an entity: golden.customer)")
            } else if parts.count > 1, !c.entities.contains(where: { $0.name == parts[1] }) {
                d.error(nil, "\(o.location).data", "unknown entity '\(parts[1])'", hint: "entities: \(c.entities.map(\.name).joined(separator: ", "))")
            } else if parts[0] != "integrated", c.entities.isEmpty {
                d.error(nil, "\(o.location).data", "data '\(data)' needs an entity, and the catalog has none")
            }
        }
    }

    // MARK: match

    func matchSpec(_ n: ConfigNode, attributes: [AttributeSpec]) -> MatchSpec {
        var m = MatchSpec()
        m.location = n.path
        guard n.expectMapping() else { return m }
        n.checkKeys(["mode", "link_type", "blocking", "pair_budget", "comparisons", "deterministic", "exclusions", "training", "prior",
                     "thresholds", "chain_bound"])
        let names = attributes.map(\.name)
        if let v = n["mode"]?.enumValue(MatchMode.self, what: "match mode") { m.mode = v }
        if let v = n["link_type"]?.enumValue(LinkType.self, what: "link type") { m.linkType = v }
        if let b = n["blocking"] {
            if !b.isSequence { b.fail("expected a list of blocking rules") }
            m.blocking = b.elements.compactMap(blockingRule)
        }
        if let b = n["pair_budget"], let i = b.int {
            if i > 0 { m.pairBudget = i } else { b.fail("pair_budget must be positive") }
        }
        if let c = n["comparisons"] {
            if c.isSequence {
                for e in c.elements {
                    guard e.expectMapping() else { continue }
                    guard let name = e["name"]?.string ?? e["attribute"]?.string else { e.fail("a comparison needs 'attribute'"); continue }
                    if let s = comparison(name: name, e, attributes: attributes) { m.comparisons.append(s) }
                }
            } else if c.expectMapping() {
                for (name, e) in c.pairs { if let s = comparison(name: name, e, attributes: attributes) { m.comparisons.append(s) } }
            }
        }
        if let d = n["deterministic"] {
            if !d.isSequence { d.fail("expected a list of rules, each a list of attributes that must all be equal") }
            for e in d.elements {
                guard let list = e.stringList else { continue }
                for a in list where !names.contains(a) { e.fail(unknownAttribute(a, names)) }
                m.deterministic.append(DeterministicRule(attributes: list, location: e.path))
            }
        }
        if let x = n["exclusions"] {
            if !x.isSequence { x.fail("expected a list of rules, each a list of attributes whose comparisons must all disagree") }
            for e in x.elements {
                guard let list = e.stringList else { continue }
                for a in list where !m.comparisons.contains(where: { $0.attribute == a }) {
                    e.fail("exclusion on '\(a)', which no comparison compares", hint: "add a comparison of '\(a)', or remove it from the rule")
                }
                m.exclusions.append(DeterministicRule(attributes: list, location: e.path))
            }
        }
        if let t = n["training"], t.expectMapping() {
            t.checkKeys(["u_sample_pairs", "em_blocks", "max_iterations", "tolerance", "seed", "max_block_pairs"])
            if let v = t["max_block_pairs"]?.int { if v >= 100 { m.training.maxBlockPairs = v } else { t["max_block_pairs"]?.fail("max_block_pairs must be at least 100") } }
            if let v = t["u_sample_pairs"]?.int { if v >= 1000 { m.training.uSamplePairs = v } else { t["u_sample_pairs"]?.fail("u_sample_pairs must be at least 1000") } }
            if let b = t["em_blocks"] {
                if !b.isSequence { b.fail("expected a list of training blocks (each like a blocking rule)") }
                m.training.emBlocks = b.elements.compactMap(blockingRule)
            }
            if let v = t["max_iterations"]?.int { if v > 0 { m.training.maxIterations = v } else { t["max_iterations"]?.fail("must be positive") } }
            if let v = t["tolerance"] { if let d = v.value.doubleValue, d > 0 { m.training.tolerance = d } else { v.fail("expected a positive number") } }
            if let v = t["seed"]?.int { m.training.seed = UInt64(truncatingIfNeeded: v) }
        }
        if let p = n["prior"] { m.prior = probability(p) }
        if let t = n["thresholds"], t.expectMapping() {
            t.checkKeys(["link", "review"])
            if let l = t["link"], let v = probability(l) { m.linkThreshold = v }
            if let r = t["review"], let v = probability(r) { m.reviewThreshold = v }
            if m.reviewThreshold > m.linkThreshold {
                t.fail("the review threshold (\(Value.format(m.reviewThreshold))) must not be above the link threshold (\(Value.format(m.linkThreshold)))")
            }
        }
        if let c = n["chain_bound"], let v = probability(c) { m.chainBound = v }
        if m.mode != .deterministic && m.comparisons.isEmpty {
            n.fail("a \(m.mode.rawValue) match needs 'comparisons'", hint: "e.g. comparisons: {family_name: [exact, {jaro_winkler: 0.9}]}")
        }
        if m.mode != .probabilistic && m.deterministic.isEmpty {
            n.fail("a \(m.mode.rawValue) match needs 'deterministic' rules", hint: "e.g. deterministic: [[email], [given_name, family_name, dob]]")
        }
        if m.mode != .deterministic && m.blocking.isEmpty {
            n.fail("missing 'blocking'", hint: "compare only records that share a key, e.g. blocking: [[family_name, year(dob)], [email]]")
        }
        return m
    }

    func probability(_ n: ConfigNode) -> Double? {
        guard let d = n.value.doubleValue, d > 0, d < 1 || d == 1 else {
            n.fail("expected a probability between 0 and 1, found \(n.node.scalar?.string ?? n.kindName)")
            return nil
        }
        return d
    }

    /// `[key, key]`, `"key"`, or `{keys: [key, key]}`: each key an SQL expression over attributes.
    func blockingRule(_ n: ConfigNode) -> BlockingRule? {
        var keys: [String]?
        if n.isMapping {
            n.checkKeys(["keys"])
            keys = n["keys"]?.stringList
        } else {
            keys = n.stringList
        }
        guard let k = keys else { return nil }
        if k.isEmpty { n.fail("a blocking rule needs at least one key"); return nil }
        return BlockingRule(keys: k, location: n.path)
    }

    func comparison(name: String, _ n: ConfigNode, attributes: [AttributeSpec]) -> ComparisonSpec? {
        let names = attributes.map(\.name)
        var attr = name
        var levelNodes: [ConfigNode] = []
        var tf = false
        var m: [Double]?
        var u: [Double]?
        if n.isSequence {
            levelNodes = n.elements
        } else if n.expectMapping() {
            n.checkKeys(["name", "attribute", "levels", "term_frequency", "m", "u"])
            if let a = n["attribute"]?.string { attr = a }
            if let l = n["levels"] {
                if l.isSequence { levelNodes = l.elements } else { l.fail("expected a list of levels") }
            } else {
                n.fail("a comparison needs 'levels'", hint: "e.g. levels: [exact, {jaro_winkler: 0.9}]")
            }
            if let t = n["term_frequency"]?.bool { tf = t }
            m = n["m"].flatMap(probabilities)
            u = n["u"].flatMap(probabilities)
        } else {
            return nil
        }
        guard let attribute = attributes.first(where: { $0.name == attr }) else {
            (n["attribute"] ?? n).fail(unknownAttribute(attr, names))
            return nil
        }
        var levels: [ComparisonLevel] = []
        for l in levelNodes {
            guard let level = comparisonLevel(l, attribute: attribute, attributes: names) else { continue }
            levels.append(level)
        }
        if levels.isEmpty && !levelNodes.isEmpty { return nil }
        if levels.isEmpty { n.fail("a comparison needs at least one level"); return nil }
        for (label, p) in [("m", m), ("u", u)] {
            if let p, p.count != levels.count + 1 {
                n[label]?.fail("expected \(levels.count + 1) probabilities (one per level, then one for 'else'), found \(p.count)")
            }
        }
        return ComparisonSpec(name: name, attribute: attr, levels: levels, termFrequency: tf, m: m, u: u, location: n.path)
    }

    func probabilities(_ n: ConfigNode) -> [Double]? {
        guard n.isSequence else { n.fail("expected a list of probabilities"); return nil }
        var out: [Double] = []
        for e in n.elements {
            guard let d = e.value.doubleValue, d > 0, d <= 1 else { e.fail("expected a probability in (0, 1]"); return nil }
            out.append(d)
        }
        return out
    }

    /// `name` or `{name: PARAMETER}` (lowercased name, the parameter's node if any).
    func namedParameter(_ n: ConfigNode, what: String, example: String) -> (String, ConfigNode?)? {
        if n.isMapping {
            guard n.pairs.count == 1, let (k, v) = n.pairs.first else {
                n.fail("\(what) is one name with its parameter, e.g. \(example)")
                return nil
            }
            return (k.lowercased(), v)
        }
        guard let s = n.string else { return nil }
        return (s.lowercased(), nil)
    }

    static let levelNames = ["exact", "jaro_winkler", "levenshtein", "damerau_levenshtein", "jaccard", "soundex",
                             "double_metaphone", "abs_diff", "rel_diff", "date_days", "day_month_transposed", "swapped_with", "sql"]

    func comparisonLevel(_ n: ConfigNode, attribute: AttributeSpec, attributes: [String]) -> ComparisonLevel? {
        guard let (kind, arg) = namedParameter(n, what: "a level", example: "{jaro_winkler: 0.9}") else { return nil }
        func number() -> Double? {
            guard let a = arg else { n.fail("'\(kind)' needs a parameter, e.g. {\(kind): 1}"); return nil }
            guard let d = a.value.doubleValue, d >= 0 else { a.fail("expected a non-negative number"); return nil }
            return d
        }
        func needs(_ t: AttributeType) -> Bool {
            if attribute.type != t {
                n.fail("level '\(kind)' compares \(t.rawValue)s, but attribute '\(attribute.name)' is \(attribute.type.rawValue)",
                       hint: "declare the attribute with type: \(t.rawValue), or choose another level")
                return false
            }
            return true
        }
        switch kind {
        case "exact": return .exact
        case "soundex": return .soundex
        case "double_metaphone", "metaphone": return .metaphone
        case "jaro_winkler":
            guard let t = number() else { return nil }
            if t > 1 { arg?.fail("a Jaro-Winkler threshold is between 0 and 1"); return nil }
            return .jaroWinkler(t)
        case "jaccard":
            guard let t = number() else { return nil }
            if t > 1 { arg?.fail("a Jaccard threshold is between 0 and 1"); return nil }
            return .jaccard(t)
        case "levenshtein": return number().map { .levenshtein(Int($0)) }
        case "damerau_levenshtein": return number().map { .damerauLevenshtein(Int($0)) }
        case "abs_diff":
            guard needs(.number), let d = number() else { return nil }
            return .numberAbsolute(d)
        case "rel_diff":
            guard needs(.number), let d = number() else { return nil }
            return .numberRelative(d)
        case "date_days":
            guard needs(.date), let d = number() else { return nil }
            return .dateDays(Int(d))
        case "day_month_transposed":
            guard needs(.date) else { return nil }
            return .dateTransposed
        case "swapped_with":
            guard let o = arg?.string else { n.fail("swapped_with needs the other attribute, e.g. {swapped_with: family_name}"); return nil }
            if !attributes.contains(o) { arg?.fail(unknownAttribute(o, attributes)); return nil }
            return .swapped(o)
        case "sql":
            guard let e = arg?.string else { n.fail("sql needs a boolean expression over l.<attribute> and r.<attribute>"); return nil }
            return .sql(e)
        default:
            n.fail("unknown comparison level '\(kind)'",
                   hint: suggestion(kind, Reader.levelNames).map { "did you mean '\($0)'?" } ?? "one of: \(Reader.levelNames.joined(separator: ", "))")
            return nil
        }
    }

    // MARK: survivorship

    static let survivorshipNames = ["source_priority", "most_recent", "most_frequent", "longest", "first", "last", "average", "sum", "custom"]

    func survivorshipSpec(_ n: ConfigNode, attributes: [String]) -> SurvivorshipSpec {
        var s = SurvivorshipSpec()
        s.location = n.path
        guard n.expectMapping() else { return s }
        n.checkKeys(["default", "attributes"])
        if let d = n["default"], let r = survivorshipRule(d, attributes: attributes) { s.defaultRule = r }
        if let a = n["attributes"], a.expectMapping() {
            for (attr, r) in a.pairs {
                if !attributes.contains(attr) { r.fail(unknownAttribute(attr, attributes)); continue }
                if let rule = survivorshipRule(r, attributes: attributes) { s.attributes[attr] = rule }
            }
        }
        return s
    }

    /// `most_frequent`, `{source_priority: [crm, shop]}`, `{most_recent: updated_at}`, `{custom: max(x)}` …
    func survivorshipRule(_ n: ConfigNode, attributes: [String]) -> SurvivorshipRule? {
        guard let (kind, arg) = namedParameter(n, what: "a survivorship rule", example: "{most_recent: updated_at}") else { return nil }
        switch kind {
        case "source_priority": return .sourcePriority(arg?.stringList ?? [])
        case "most_recent":
            guard let a = arg?.string else { n.fail("most_recent needs the timestamp attribute, e.g. {most_recent: updated_at}"); return nil }
            if !attributes.contains(a) { arg?.fail(unknownAttribute(a, attributes)); return nil }
            return .mostRecent(a)
        case "most_frequent": return .mostFrequent
        case "longest", "most_complete": return .longest
        case "first": return .first
        case "last": return .last
        case "average", "avg", "mean": return .average
        case "sum": return .sum
        case "custom":
            guard let e = arg?.string else { n.fail("custom needs an SQL aggregate, e.g. {custom: max(email)}"); return nil }
            return .custom(e)
        default:
            n.fail("unknown survivorship rule '\(kind)'",
                   hint: suggestion(kind, Reader.survivorshipNames).map { "did you mean '\($0)'?" } ?? "one of: \(Reader.survivorshipNames.joined(separator: ", "))")
            return nil
        }
    }
}
