import Foundation

/// `aurum explain`: why two records match (every comparison's level and weight, and the total),
/// and where a golden value came from (the rule and the source records).
public enum Explainer {
    public struct Line: Sendable {
        public var comparison: String
        public var attribute: String
        public var left: String?
        public var right: String?
        public var level: String
        public var weight: Double
        public var note: String?
    }

    public struct PairExplanation: Sendable {
        public var entity: String
        public var left: RecordRef
        public var right: RecordRef
        public var priorWeight: Double
        public var lines: [Line]
        public var total: Double
        public var probability: Double
        public var status: String
        public var decision: String?
        public var goldenLeft: Int64?
        public var goldenRight: Int64?

        public var json: JSON {
            .object([
                ("entity", .string(entity)), ("left", .string(left.description)), ("right", .string(right.description)),
                ("prior_weight", .double(priorWeight)),
                ("comparisons", .array(lines.map { l in
                    .object([("comparison", .string(l.comparison)), ("attribute", .string(l.attribute)),
                             ("left", l.left.map(JSON.string) ?? .null), ("right", l.right.map(JSON.string) ?? .null),
                             ("level", .string(l.level)), ("weight", .double(l.weight)), ("note", l.note.map(JSON.string) ?? .null)])
                })),
                ("match_weight", .double(total)), ("probability", .double(probability)), ("status", .string(status)),
                ("decision", decision.map(JSON.string) ?? .null),
                ("golden_left", goldenLeft.map(JSON.int) ?? .null), ("golden_right", goldenRight.map(JSON.int) ?? .null),
            ])
        }

        public var text: String {
            var out = ["\(entity): \(left) vs \(right)"]
            let w1 = max(12, lines.map { $0.comparison.count }.max() ?? 0)
            func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
            func show(_ s: String?) -> String { s.map { "'\($0)'" } ?? "NULL" }
            out.append("  \(pad("prior", w1))  \(String(format: "%+7.2f", priorWeight))")
            for l in lines {
                out.append("  \(pad(l.comparison, w1))  \(String(format: "%+7.2f", l.weight))  \(pad(l.level, 24)) \(show(l.left)) vs \(show(l.right))\(l.note.map { "  (\($0))" } ?? "")")
            }
            out.append("  \(pad("total", w1))  \(String(format: "%+7.2f", total))  probability \(String(format: "%.6f", probability)) → \(status)")
            if let decision { out.append("  steward decision: \(decision) (wins over the model)") }
            if let g = goldenLeft, let h = goldenRight {
                out.append(g == h ? "  both records are in golden record \(g)" : "  golden records \(g) and \(h)")
            }
            return out.joined(separator: "\n")
        }
    }

    static func entitySpec(_ catalog: Catalog, _ name: String?) throws -> EntitySpec {
        guard let e = name.map({ n in catalog.entities.first { $0.name == n } }) ?? catalog.entities.first else {
            throw AurumError(.invalidCatalog, name.map { "unknown entity '\($0)'" } ?? "the catalog has no entities", at: catalog.file,
                             hint: catalog.entities.isEmpty ? "add an entities section" : "entities: \(catalog.entities.map(\.name).joined(separator: ", "))")
        }
        return e
    }

    static func record(_ db: SQLiteDatabase, _ entity: EntitySpec, _ r: RecordRef) throws -> [Value] {
        let table = EntityBuilder.table(entity.name)
        guard try db.tableExists(table) else {
            throw AurumError(.matching, "entity '\(entity.name)' has not been matched in this warehouse yet", hint: "run the catalog first")
        }
        let cols = entity.attributes.map { sqlIdent($0.name) }.joined(separator: ", ")
        guard let row = try db.query("SELECT \(cols) FROM \(sqlIdent(table)) WHERE source = ? AND source_key = ?", [.text(r.source), .text(r.key)]).first else {
            throw AurumError(.matching, "no record \(r) in entity '\(entity.name)'", hint: "name records as SOURCE:KEY")
        }
        return row
    }

    public static func pair(catalog: Catalog, warehouse: Warehouse, entity name: String?, _ a: RecordRef, _ b: RecordRef) throws -> PairExplanation {
        let db = warehouse.db
        let entity = try entitySpec(catalog, name)
        guard let text = try db.scalar("SELECT model FROM match_models WHERE entity = ? ORDER BY run_id DESC LIMIT 1", [.text(entity.name)])?.textValue else {
            throw AurumError(.matching, "entity '\(entity.name)' has no trained model in this warehouse", hint: "run the catalog first")
        }
        let model = try MatchModel(json: JSONText.parse(text))
        let specs = entity.match.comparisons
        guard model.comparisons.map(\.name) == specs.map(\.name) else {
            throw AurumError(.matching, "the catalog's comparisons of '\(entity.name)' changed since the last run", hint: "re-run the catalog, then explain")
        }
        let ra = try record(db, entity, a), rb = try record(db, entity, b)
        let attrs = entity.attributes.map(\.name)
        let two = EntityRecords(entity: entity.name, attributes: attrs, sources: [a.source, b.source], source: [0, 1],
                                sourceKey: [a.key, b.key], values: attrs.indices.map { [ra[$0], rb[$0]] })
        let comparators = specs.map { Comparator($0, attributes: attrs) }
        var tokens = Set<Int>(), phonetic = Set<Int>()
        for c in comparators { tokens.insert(c.attribute); phonetic.insert(c.attribute) }
        let f = Features(records: two, types: entity.attributes.map(\.type), needTokens: tokens, needPhonetic: phonetic)
        let sql = comparators.contains { $0.sqlLevels } ? try SQLLevelEvaluator(records: two, settings: catalog.functions) : nil
        var lines: [Line] = []
        var total = model.priorWeight
        let table = EntityBuilder.table(entity.name)
        for (k, c) in comparators.enumerated() {
            let l = Int(f.scalarData.withUnsafeBufferPointer { c.level(f, $0, 0, 1, sql: sql) })
            let mc = model.comparisons[k]
            var w = mc.weights.indices.contains(l) ? mc.weights[l] : 0
            var note: String?
            if mc.termFrequency && l == 1, case .exact = c.spec.levels[0], let v = ra[c.attribute].textValue {
                let col = sqlIdent(c.spec.attribute)
                let row = try db.query("SELECT (SELECT count(*) FROM \(sqlIdent(table)) WHERE \(col) = ?), count(\(col)), count(*) FROM \(sqlIdent(table))", [.text(v)])[0]
                let tf = (row[0].doubleValue ?? 1) / max(row[1].doubleValue ?? 1, 1)
                w = mc.exactWeight(termFrequency: tf, records: Int(row[2].doubleValue ?? 1))
                note = String(format: "term frequency %.5f", tf)
            }
            total += w
            lines.append(Line(comparison: c.spec.name, attribute: c.spec.attribute, left: ra[c.attribute].textValue, right: rb[c.attribute].textValue,
                              level: mc.labels.indices.contains(l) ? mc.labels[l] : "?", weight: w, note: note))
        }
        var excludedBy: String?
        for rule in entity.match.exclusions {
            let ks = rule.attributes.compactMap { a in comparators.firstIndex { $0.spec.attribute == a } }
            if !ks.isEmpty && ks.allSatisfy({ lines[$0].level == "else" }) { excludedBy = rule.attributes.joined(separator: " & ") }
        }
        let p = excludedBy == nil ? MatchModel.probability(total) : 0
        let (l, r) = RecordRef.ordered(a, b)
        let decision = try db.scalar("SELECT decision FROM match_decisions WHERE entity = ? AND source_l = ? AND key_l = ? AND source_r = ? AND key_r = ?",
                                     [.text(entity.name), .text(l.source), .text(l.key), .text(r.source), .text(r.key)])?.textValue
        let stored = try db.scalar("SELECT status FROM match_pairs WHERE entity = ? AND source_l = ? AND key_l = ? AND source_r = ? AND key_r = ?",
                                   [.text(entity.name), .text(l.source), .text(l.key), .text(r.source), .text(r.key)])?.textValue
        let status = excludedBy.map { "excluded: \($0) disagree" } ?? stored ?? (p >= model.linkThreshold ? "link (not a candidate pair: no blocking rule brings them together)"
            : p >= model.reviewThreshold ? "review (not a candidate pair)" : "no link")
        func golden(_ x: RecordRef) throws -> Int64? {
            try db.scalar("SELECT golden_id FROM xref WHERE entity = ? AND source = ? AND source_key = ?", [.text(entity.name), .text(x.source), .text(x.key)])
                .flatMap { if case .integer(let i) = $0 { return i } else { return nil } }
        }
        return PairExplanation(entity: entity.name, left: a, right: b, priorWeight: model.priorWeight, lines: lines, total: total,
                               probability: p, status: status, decision: decision, goldenLeft: try golden(a), goldenRight: try golden(b))
    }

    public struct GoldenExplanation: Sendable {
        public struct Value_: Sendable {
            public var attribute: String
            public var value: String?
            public var rule: String
            public var records: [(RecordRef, String?)]
        }
        public var entity: String
        public var goldenID: Int64
        public var values: [Value_]
        public var members: [RecordRef]

        public var json: JSON {
            .object([
                ("entity", .string(entity)), ("golden_id", .int(goldenID)),
                ("records", .array(members.map { .string($0.description) })),
                ("values", .array(values.map { v in
                    .object([("attribute", .string(v.attribute)), ("value", v.value.map(JSON.string) ?? .null), ("rule", .string(v.rule)),
                             ("from", .array(v.records.map { .object([("record", .string($0.0.description)), ("value", $0.1.map(JSON.string) ?? .null)]) }))])
                })),
            ])
        }

        public var text: String {
            var out = ["\(entity) golden record \(goldenID): \(members.count) source record(s): \(members.map(\.description).joined(separator: ", "))"]
            for v in values {
                out.append("  \(v.attribute) = \(v.value.map { "'\($0)'" } ?? "NULL")  by \(v.rule)")
                for (r, val) in v.records { out.append("      from \(r): \(val.map { "'\($0)'" } ?? "NULL")") }
            }
            return out.joined(separator: "\n")
        }
    }

    public static func golden(catalog: Catalog, warehouse: Warehouse, entity name: String?, id: Int64, attribute: String?) throws -> GoldenExplanation {
        let db = warehouse.db
        let entity = try entitySpec(catalog, name)
        let table = "golden_\(entity.name)"
        guard try db.tableExists(table) else {
            throw AurumError(.matching, "entity '\(entity.name)' has no golden records in this warehouse yet", hint: "run the catalog first")
        }
        let attrs = entity.attributes.map(\.name).filter { attribute == nil || $0 == attribute }
        if let attribute, attrs.isEmpty {
            throw AurumError(.matching, "unknown attribute '\(attribute)'", hint: "attributes: \(entity.attributes.map(\.name).joined(separator: ", "))")
        }
        guard let row = try db.query("SELECT \(attrs.map(sqlIdent).joined(separator: ", ")) FROM \(sqlIdent(table)) WHERE golden_id = ?", [.integer(id)]).first else {
            var hint = "list golden ids with: sqlite3 \(warehouse.path) 'SELECT golden_id FROM \(table) LIMIT 10'"
            if let into = try db.scalar("SELECT merged_into FROM golden_ids WHERE entity = ? AND golden_id = ? AND status = 'merged'",
                                        [.text(entity.name), .integer(id)]), case .integer(let i) = into {
                hint = "it was merged into golden record \(i)"
            }
            throw AurumError(.matching, "no active golden record \(id) in entity '\(entity.name)'", hint: hint)
        }
        let members = try db.query("SELECT source, source_key FROM xref WHERE entity = ? AND golden_id = ? ORDER BY source, source_key",
                                   [.text(entity.name), .integer(id)]).map { RecordRef(source: $0[0].textValue ?? "", key: $0[1].textValue ?? "") }
        var values: [GoldenExplanation.Value_] = []
        let ent = EntityBuilder.table(entity.name)
        let lineageTable = "\(table)__lineage"
        let lineage = try db.query("SELECT \(attrs.map(sqlIdent).joined(separator: ", ")) FROM \(sqlIdent(lineageTable)) WHERE golden_id = ?",
                                   [.integer(id)]).first
        var rules: [String: String] = [:]
        for r in try db.query("SELECT attribute, rule FROM golden_rules WHERE entity = ?", [.text(entity.name)]) {
            rules[r[0].textValue ?? ""] = r[1].textValue
        }
        for (i, a) in attrs.enumerated() {
            var from: [(RecordRef, String?)] = []
            for ref in (lineage?[i].textValue ?? "").split(separator: ";").compactMap({ RecordRef(String($0)) }) {
                let v = try db.scalar("SELECT \(sqlIdent(a)) FROM \(sqlIdent(ent)) WHERE source = ? AND source_key = ?", [.text(ref.source), .text(ref.key)])
                from.append((ref, v?.textValue))
            }
            values.append(.init(attribute: a, value: row[i].textValue, rule: rules[a] ?? "?", records: from))
        }
        return GoldenExplanation(entity: entity.name, goldenID: id, values: values, members: members)
    }
}
