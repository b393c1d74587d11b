import Foundation

/// What `aurum dedupe` was asked to do.
public struct DedupeOptions: Sendable {
    public var files: [String]
    /// Folder of the warehouse (`aurum.db`), `clusters.csv`, `pairs.csv` and `model.yaml`.
    public var outDirectory: String
    /// The record id column (excluded from matching); nil: the 1-based row number.
    public var idColumn: String?
    /// Link threshold (nil: 0.9); the review band starts at min(0.5, threshold).
    public var threshold: Double?
    /// Refuse blocking rules beyond this many candidate pairs (the worst rules are dropped first).
    public var pairBudget: Int = 50_000_000

    public init(files: [String], outDirectory: String, idColumn: String? = nil, threshold: Double? = nil) {
        self.files = files; self.outDirectory = outDirectory; self.idColumn = idColumn; self.threshold = threshold
    }
}

/// What `aurum dedupe` did.
public struct DedupeResult: Sendable {
    public struct FileColumns: Sendable {
        public var file: String
        public var source: String
        public var records: Int
        public var profiles: [ColumnProfile]
    }
    public var files: [FileColumns]
    public var records: Int
    public var clusters: Int
    public var pairs: Int
    public var blocking: [(rule: String, pairs: Int)]
    public var notes: [String]
    public var clustersPath: String
    public var pairsPath: String
    public var modelPath: String
    public var entity: EntitySpec
    public var seconds: Double

    public var json: JSON {
        .object([
            ("records", .int(Int64(records))), ("clusters", .int(Int64(clusters))), ("pairs", .int(Int64(pairs))),
            ("files", .array(files.map { f in
                .object([("file", .string(f.file)), ("source", .string(f.source)), ("records", .int(Int64(f.records))),
                         ("columns", .array(f.profiles.map { p in
                             .object([("column", .string(p.column)), ("kind", p.kind.map { .string($0.rawValue) } ?? .null),
                                      ("score", .double((p.score * 1000).rounded() / 1000)), ("by_name", .bool(p.byName)),
                                      ("reason", p.reason.isEmpty ? .null : .string(p.reason))])
                         }))])
            })),
            ("blocking", .array(blocking.map { .object([("rule", .string($0.rule)), ("pairs", .int(Int64($0.pairs)))]) })),
            ("notes", .array(notes.map(JSON.string))),
            ("clusters_csv", .string(clustersPath)), ("pairs_csv", .string(pairsPath)), ("model", .string(modelPath)),
            ("seconds", .double((seconds * 100).rounded() / 100)),
        ])
    }
}

/// Zero-configuration matching: profiles the files, chooses a person-matching model from the
/// column kinds it recognises, runs it through the normal pipeline, and writes the clusters, the
/// scored pairs and the model as a catalog the user can edit and re-run with `aurum run`.
public enum ZeroConfig {
    public static let entityName = "person"
    static let sampleRows = 5000

    public static func dedupe(_ options: DedupeOptions, observer: RunObserver = SilentObserver()) throws -> DedupeResult {
        let started = Date()
        let fm = FileManager.default
        guard !options.files.isEmpty else { throw AurumError(.source, "no input files", hint: "aurum dedupe FILE… --out DIR") }
        let out = URL(fileURLWithPath: options.outDirectory).standardizedFileURL.path
        do { try fm.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
            throw AurumError(.output, "cannot create the output folder: \(error.localizedDescription)", at: out)
        }
        var sources: [SourceSpec] = []
        var fileNames: [String] = []
        var used = Set<String>()
        for (i, f) in options.files.enumerated() {
            let url = URL(fileURLWithPath: f).standardizedFileURL
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue else {
                throw AurumError(.source, "no such file", at: f)
            }
            let ext = url.pathExtension.lowercased()
            let type: SourceType
            switch ext {
            case "csv", "txt": type = .csv
            case "tsv", "tab": type = .tsv
            case "json": type = .json
            case "ndjson", "jsonl": type = .ndjson
            default:
                throw AurumError(.source, "cannot tell the format of '\(url.lastPathComponent)' from its extension '.\(ext)'", at: f,
                                 hint: "name it .csv, .tsv, .json or .ndjson")
            }
            var name = sanitised(url.deletingPathExtension().lastPathComponent)
            if used.contains(name) {
                var k = 2
                while used.contains("\(name)_\(k)") { k += 1 }
                name = "\(name)_\(k)"
            }
            used.insert(name)
            var s = SourceSpec(name: name, type: type, path: url.path, location: "files[\(i)]")
            if type == .tsv { s.delimiter = UInt8(ascii: "\t") }
            sources.append(s)
            fileNames.append(url.lastPathComponent)
        }
        let warehousePath = (out as NSString).appendingPathComponent("aurum.db")
        let modelPath = (out as NSString).appendingPathComponent("model.yaml")
        var catalog = Catalog(file: modelPath, dialect: .catalog, baseDirectory: out, warehouse: warehousePath,
                              functions: FunctionSettings(), sources: sources, rules: [], quality: QualitySpec(),
                              integration: nil, outputs: [])

        // Profile the staged columns.
        let snaps = try Pipeline.snapshotOnly(catalog, observer: observer)
        var files: [DedupeResult.FileColumns] = []
        var idFound = false
        do {
            let wh = try Warehouse(path: warehousePath, functions: catalog.functions)
            defer { wh.close() }
            for (i, snap) in snaps.enumerated() {
                var profiles: [ColumnProfile] = []
                let cols = snap.columns
                if let id = options.idColumn, let c = cols.first(where: { $0.lowercased() == id.lowercased() }) {
                    idFound = true
                    let dup = try wh.db.scalar("SELECT count(*) - count(DISTINCT \(sqlIdent(c))) FROM \(sqlIdent(snap.table))")?.doubleValue ?? 0
                    if dup > 0 {
                        throw AurumError(.source, "the id column '\(c)' repeats values (\(Int(dup)) duplicate(s))", at: options.files[i],
                                         hint: "name a column that identifies each row, or leave --id-column out to use row numbers")
                    }
                    sources[i].key = [c]
                }
                let rows = try wh.db.query("SELECT \(cols.isEmpty ? "NULL" : cols.map(sqlIdent).joined(separator: ", ")) FROM \(sqlIdent(snap.table)) ORDER BY __rid LIMIT \(sampleRows)")
                for (ci, c) in cols.enumerated() {
                    if sources[i].key.first == c {
                        profiles.append(ColumnProfile(column: c, kind: nil, score: 0, byName: false, nonEmpty: rows.count, reason: "the id column"))
                        continue
                    }
                    profiles.append(ColumnProfiler.profile(column: c, values: rows.compactMap { ci < $0.count ? $0[ci].textValue : nil }))
                }
                // One column per kind and file: the best evidence wins (a name hint, then the score, then column order).
                var best: [ColumnKind: Int] = [:]
                for (pi, p) in profiles.enumerated() {
                    guard let k = p.kind else { continue }
                    if let b = best[k] {
                        let q = profiles[b]
                        if (p.byName && !q.byName) || (p.byName == q.byName && p.score > q.score) {
                            profiles[b].kind = nil; profiles[b].reason = "another column (\(p.column)) looks more like \(k.label)"
                            best[k] = pi
                        } else {
                            profiles[pi].kind = nil; profiles[pi].reason = "another column (\(q.column)) looks more like \(k.label)"
                        }
                    } else {
                        best[k] = pi
                    }
                }
                if !profiles.contains(where: { $0.kind != nil }) {
                    throw AurumError(.source, "no column of '\(fileNames[i])' is recognisable for matching (columns: \(cols.joined(separator: ", ")))",
                                     at: options.files[i],
                                     hint: "zero-configuration matching needs names, e-mails, phones, dates of birth, addresses or identifiers; write a catalog with an entities section for other data")
                }
                files.append(.init(file: fileNames[i], source: sources[i].name, records: snap.rowsStaged, profiles: profiles))
            }
        }
        if let id = options.idColumn, !idFound {
            throw AurumError(.source, "no input file has the id column '\(id)'", at: options.files.joined(separator: ", "),
                             hint: "columns of \(fileNames[0]): \(snaps[0].columns.joined(separator: ", "))")
        }
        catalog.sources = sources

        let records = files.reduce(0) { $0 + $1.records }
        var entity = model(files: files, records: records, threshold: options.threshold, pairBudget: options.pairBudget)
        var notes: [String] = []
        let counts = try fitBlocking(&entity, catalog: catalog, snaps: snaps, notes: &notes)
        catalog.entities = [entity]

        _ = try Pipeline.run(catalog, command: "dedupe", observer: observer)

        // Results, mapped back to file names and record ids.
        let wh = try Warehouse(path: warehousePath, functions: catalog.functions)
        defer { wh.close() }
        let fileOf = Dictionary(uniqueKeysWithValues: zip(sources.map(\.name), fileNames))
        var clusterRows: [(String, String, String)] = []
        for r in try wh.db.query("SELECT source, source_key, golden_id FROM xref WHERE entity = ?", [.text(entityName)]) {
            guard let s = r[0].textValue, let f = fileOf[s] else { continue }
            clusterRows.append((f, r[1].textValue ?? "", r[2].textValue ?? ""))
        }
        clusterRows.sort { recordBefore(($0.0, $0.1), ($1.0, $1.1)) }
        var pairRows: [(String, String, String, String, Double)] = []
        for r in try wh.db.query("SELECT source_l, key_l, source_r, key_r, probability FROM match_pairs WHERE entity = ? AND probability >= ?",
                                 [.text(entityName), .real(entity.match.reviewThreshold)]) {
            guard let sl = r[0].textValue, let fl = fileOf[sl], let sr = r[2].textValue, let fr = fileOf[sr] else { continue }
            var a = (fl, r[1].textValue ?? ""), b = (fr, r[3].textValue ?? "")
            if recordBefore(b, a) { swap(&a, &b) }
            pairRows.append((a.0, a.1, b.0, b.1, r[4].doubleValue ?? 0))
        }
        pairRows.sort { x, y in
            if (x.0, x.1) != (y.0, y.1) { return recordBefore((x.0, x.1), (y.0, y.1)) }
            return recordBefore((x.2, x.3), (y.2, y.3))
        }
        let clustersPath = (out as NSString).appendingPathComponent("clusters.csv")
        let pairsPath = (out as NSString).appendingPathComponent("pairs.csv")
        var c = "source,record_id,cluster_id\n"
        for r in clusterRows { c += "\(csvField(r.0)),\(csvField(r.1)),\(csvField(r.2))\n" }
        var p = "source_l,record_id_l,source_r,record_id_r,probability\n"
        for r in pairRows { p += "\(csvField(r.0)),\(csvField(r.1)),\(csvField(r.2)),\(csvField(r.3)),\(String(format: "%.6f", r.4))\n" }
        let yaml = ModelWriter.yaml(catalog: catalog, fileNames: fileNames, files: files)
        for (path, text) in [(clustersPath, c), (pairsPath, p), (modelPath, yaml)] {
            do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw AurumError(.output, "cannot write: \(error.localizedDescription)", at: path)
            }
        }
        return DedupeResult(files: files, records: records, clusters: Set(clusterRows.map(\.2)).count, pairs: pairRows.count,
                            blocking: zip(entity.match.blocking, counts).map { ($0.description, $1) }, notes: notes,
                            clustersPath: clustersPath, pairsPath: pairsPath, modelPath: modelPath, entity: entity,
                            seconds: Date().timeIntervalSince(started))
    }

    /// Record order: by file, then numerically when both ids are numbers, else as text.
    static func recordBefore(_ a: (String, String), _ b: (String, String)) -> Bool {
        if a.0 != b.0 { return a.0 < b.0 }
        if let x = Int(a.1), let y = Int(b.1), x != y { return x < y }
        return a.1 < b.1
    }

    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A file stem as a source name: lower case letters, digits and `_`, starting with a letter.
    static func sanitised(_ stem: String) -> String {
        var s = ""
        for ch in stem.lowercased().unicodeScalars {
            if (ch >= "a" && ch <= "z") || (ch >= "0" && ch <= "9") { s.unicodeScalars.append(ch) } else if !s.hasSuffix("_") { s += "_" }
        }
        while s.hasSuffix("_") { s.removeLast() }
        if s.isEmpty || s.first!.isNumber { s = "s_" + s }
        return s
    }

    // MARK: the model

    static let attributeOrder: [ColumnKind] = [.givenName, .familyName, .fullName, .dob, .gender, .email, .phone, .street, .city, .postcode, .nationalID]

    static func standardisers(_ k: ColumnKind) -> [Standardizer] {
        switch k {
        case .givenName: [.trim, .lower, .foldAccents, .punctuation, .nickname]
        case .familyName, .fullName: [.trim, .lower, .foldAccents, .punctuation]
        case .dob: [.date([])]
        case .gender: [.trim, .upper]
        case .email: [.email]
        case .phone: [.phone]
        case .street, .city: [.lower, .foldAccents, .punctuation]
        case .postcode: [.postcode]
        case .nationalID: [.digits]
        }
    }

    static func levels(_ k: ColumnKind, has: Set<ColumnKind>) -> [ComparisonLevel] {
        switch k {
        case .givenName: [.exact, .jaroWinkler(0.92), .jaroWinkler(0.8)] + (has.contains(.familyName) ? [.swapped(ColumnKind.familyName.rawValue)] : [])
        case .familyName: [.exact, .jaroWinkler(0.92), .jaroWinkler(0.8)]
        case .fullName: [.exact, .jaccard(0.6), .jaroWinkler(0.9), .jaroWinkler(0.8)]
        case .dob: [.exact, .dateTransposed, .levenshtein(1)]
        case .gender: [.exact]
        case .email: [.exact, .levenshtein(2)]
        case .phone: [.exact, .damerauLevenshtein(1)]
        case .street: [.exact, .jaccard(0.6), .jaroWinkler(0.85)]
        case .city: [.exact, .jaroWinkler(0.9)]
        case .postcode: [.exact, .levenshtein(1)]
        case .nationalID: [.exact, .damerauLevenshtein(1)]
        }
    }

    /// The source expression feeding `kind` from a column of a file.
    static func expression(_ kind: ColumnKind, _ p: ColumnProfile) -> String {
        let c = sqlIdent(p.column)
        switch kind {
        case .dob where p.dateOrder == .dayFirst: return "parse_date(\(c), '%d/%m/%Y')"
        case .gender: return "upper(substr(trim(\(c)), 1, 1))"
        default: return c
        }
    }

    /// Given and family name out of a full name: `SMITH, John` (family first, before the comma) or `John Smith`.
    static func splitName(_ p: ColumnProfile) -> (given: String, family: String) {
        let c = sqlIdent(p.column)
        return ("CASE WHEN instr(\(c), ',') > 0 THEN trim(substr(\(c), instr(\(c), ',') + 1)) ELSE regexp_extract(trim(\(c)), '^(\\S+)', 1) END",
                "CASE WHEN instr(\(c), ',') > 0 THEN trim(substr(\(c), 1, instr(\(c), ',') - 1)) ELSE regexp_extract(trim(\(c)), '^\\S+\\s+(.+)$', 1) END")
    }

    static func model(files: [DedupeResult.FileColumns], records: Int, threshold: Double?, pairBudget: Int) -> EntitySpec {
        let present = Set(files.flatMap { $0.profiles.compactMap(\.kind) })
        // A full name is split when another file has given or family names; otherwise it is one attribute.
        let split = present.contains(.givenName) || present.contains(.familyName)
        var has = present
        if split && present.contains(.fullName) { has.remove(.fullName); has.insert(.givenName); has.insert(.familyName) }
        let kinds = attributeOrder.filter { has.contains($0) }
        let attributes = kinds.map { k in AttributeSpec(name: k.rawValue, type: k == .dob ? .date : .text, standardize: standardisers(k)) }
        var mappings: [EntitySourceMapping] = []
        for f in files {
            var e: [String: String] = [:]
            for p in f.profiles {
                guard let k = p.kind else { continue }
                if k == .fullName && split {
                    let (g, fam) = splitName(p)
                    if e[ColumnKind.givenName.rawValue] == nil { e[ColumnKind.givenName.rawValue] = g }
                    if e[ColumnKind.familyName.rawValue] == nil { e[ColumnKind.familyName.rawValue] = fam }
                } else {
                    e[k.rawValue] = expression(k, p)
                }
            }
            mappings.append(EntitySourceMapping(source: f.source, expressions: e, location: "entities.\(entityName).sources.\(f.source)"))
        }
        var m = MatchSpec()
        m.location = "entities.\(entityName).match"
        m.linkType = .linkAndDedupe
        m.pairBudget = pairBudget
        m.blocking = blockingRules(has).enumerated().map { BlockingRule(keys: $1, location: "entities.\(entityName).match.blocking[\($0)]") }
        if has.contains(.familyName) && has.contains(.dob) {
            // EM learns contact details best on surname and birth year: mostly non-matches, with
            // the matches still inside, and few of the household members that crowd e-mail and
            // phone blocks.
            let loc = "entities.\(entityName).match.training.em_blocks"
            let surnameRules = Set([[ColumnKind.familyName.rawValue, ColumnKind.dob.rawValue],
                                    [ColumnKind.familyName.rawValue, ColumnKind.givenName.rawValue, "year(dob)"]])
            m.training.emBlocks = [BlockingRule(keys: [ColumnKind.familyName.rawValue, "year(dob)"], location: loc)]
                + m.blocking.filter { !surnameRules.contains($0.keys) }.map { BlockingRule(keys: $0.keys, location: loc) }
        }
        m.comparisons = kinds.map { k in
            ComparisonSpec(name: k.rawValue, attribute: k.rawValue, levels: levels(k, has: has),
                           termFrequency: [.givenName, .familyName, .fullName].contains(k), location: "entities.\(entityName).match.comparisons.\(k.rawValue)")
        }
        // Household members share address, phone and often e-mail; another date of birth is
        // another person.
        if has.contains(.dob) {
            m.exclusions = [DeterministicRule(attributes: [ColumnKind.dob.rawValue], location: "entities.\(entityName).match.exclusions[0]")]
        }
        // Small inputs need far fewer random pairs to estimate u than the engine's default.
        m.training.uSamplePairs = min(1_000_000, max(1000, 50 * records))
        m.linkThreshold = threshold ?? 0.9
        m.reviewThreshold = min(0.5, m.linkThreshold)
        var s = SurvivorshipSpec()
        s.location = "entities.\(entityName).survivorship"
        s.defaultRule = .mostFrequent
        if has.contains(.givenName) { s.attributes[ColumnKind.givenName.rawValue] = .longest }
        if has.contains(.fullName) { s.attributes[ColumnKind.fullName.rawValue] = .longest }
        return EntitySpec(name: entityName, attributes: attributes, sources: mappings, match: m, survivorship: s, location: "entities.\(entityName)")
    }

    /// Blocking rules for the kinds present, strongest evidence first (as in the hand-written people model).
    static func blockingRules(_ has: Set<ColumnKind>) -> [[String]] {
        var r: [[String]] = []
        func a(_ k: ColumnKind) -> String { k.rawValue }
        let dob = has.contains(.dob)
        if has.contains(.familyName) {
            if dob {
                // Surname and full date of birth, and surname, given name and birth year: tight
                // enough at a million records (surname and birth year alone make tens of millions
                // of pairs, most of them people born on other days). The looser block still
                // trains the model (see `model`).
                r.append([a(.familyName), a(.dob)])
                if has.contains(.givenName) { r.append([a(.familyName), a(.givenName), "year(dob)"]) }
            } else {
                r.append(has.contains(.givenName) ? [a(.givenName), a(.familyName)] : [a(.familyName)])
            }
        }
        if has.contains(.givenName) {
            if dob { r.append([a(.givenName), a(.dob)]) } else if has.contains(.postcode) { r.append([a(.givenName), a(.postcode)]) }
        }
        if has.contains(.fullName) { r.append(dob ? [a(.fullName), "year(dob)"] : [a(.fullName)]) }
        if has.contains(.email) { r.append([a(.email)]) }
        if has.contains(.phone) { r.append([a(.phone)]) }
        if has.contains(.postcode) {
            if dob { r.append([a(.dob), a(.postcode)]) } else if has.contains(.familyName) { r.append([a(.familyName), a(.postcode)]) } else if has.contains(.street) { r.append([a(.street), a(.postcode)]) }
        }
        if has.contains(.nationalID) { r.append([a(.nationalID)]) }
        if r.isEmpty {
            if has.contains(.street) { r.append(has.contains(.city) ? [a(.street), a(.city)] : [a(.street)]) }
            if has.contains(.dob) { r.append([a(.dob)]) }
            if has.contains(.city) && r.isEmpty { r.append([a(.city)]) }
            if has.contains(.gender) && r.isEmpty { r.append([a(.gender)]) }
        }
        return r
    }

    /// Small inputs leave some comparisons without a training block (EM skips blocks of fewer than
    /// 10 pairs, and no block may use the attribute it trains): add single-attribute training
    /// blocks until every comparison has one.
    static func addTrainingBlocks(_ entity: inout EntitySpec, counts: [Int], records: EntityRecords, db: SQLiteDatabase,
                                  notes: inout [String]) throws {
        let minPairs = 10
        var blocks = zip(entity.match.blocking, counts).map { ($0, $1) }
        func covered(_ c: ComparisonSpec) -> Bool {
            blocks.contains { b, n in
                n >= minPairs && !b.keys.contains { k in Matcher.mentions(k, c.attribute)
                    || c.levels.contains { if case .swapped(let o) = $0 { return Matcher.mentions(k, o) } else { return false } } }
            }
        }
        let missing = entity.match.comparisons.filter { !covered($0) }
        guard !missing.isEmpty else { return }
        let order: [ColumnKind] = [.familyName, .postcode, .dob, .city, .email, .phone, .nationalID, .street, .givenName, .fullName, .gender]
        let candidates = order.map(\.rawValue).filter { a in entity.attributes.contains { $0.name == a } }
            .map { BlockingRule(keys: [$0], location: "\(entity.match.location).training.em_blocks") }
        let cb = try Blocker(rules: candidates, linkType: entity.match.linkType, records: records, db: db,
                             table: EntityBuilder.table(entity.name), location: entity.match.location)
        let cc = cb.pairCounts()
        for c in missing where !covered(c) {
            let avoid = [c.attribute] + c.levels.compactMap { if case .swapped(let o) = $0 { return o } else { return nil } }
            guard let i = candidates.indices.first(where: { cc[$0] >= minPairs && cc[$0] <= entity.match.pairBudget && !avoid.contains(candidates[$0].keys[0]) })
            else { continue }
            blocks.append((candidates[i], cc[i]))
        }
        // Still nothing to learn from (a tiny file): typical m probabilities, set by hand.
        for k in entity.match.comparisons.indices where !covered(entity.match.comparisons[k]) {
            let n = entity.match.comparisons[k].levels.count
            entity.match.comparisons[k].m = n == 1 ? [0.9, 0.1] : [0.85] + Array(repeating: 0.1 / Double(n - 1), count: n - 1) + [0.05]
            notes.append("comparison '\(entity.match.comparisons[k].name)': too few candidate pairs to train it; m set by hand")
        }
        let extra = blocks.dropFirst(counts.count).map(\.0)
        if !extra.isEmpty {
            entity.match.training.emBlocks = (entity.match.training.emBlocks.isEmpty ? entity.match.blocking : entity.match.training.emBlocks) + extra
            notes.append("training blocks added for small blocks: " + extra.map { "[\($0.description)]" }.joined(separator: ", "))
        }
    }

    /// Counts each blocking rule's candidate pairs with the engine's own blocker (over the
    /// records as the run will build them) and drops the largest rules until the set fits the budget.
    static func fitBlocking(_ entity: inout EntitySpec, catalog: Catalog, snaps: [SnapshotResult], notes: inout [String]) throws -> [Int] {
        let wh = try Warehouse(path: catalog.warehouse, functions: catalog.functions)
        defer { wh.close() }
        let run = try wh.beginRun(catalog: catalog.file, command: "dedupe-profile")
        do {
            var prepared: [PreparedSource] = []
            for (snap, source) in zip(snaps, catalog.sources) {
                prepared.append(try wh.db.transaction { try Preparer(db: wh.db, catalog: catalog, run: run).prepare(snap, source: source) })
            }
            var n = EntityBuilder.Notes()
            let records = try EntityBuilder(db: wh.db, entity: entity, prepared: prepared).build(notes: &n)
            var counts: [Int] = []
            while true {
                let blocker = try Blocker(rules: entity.match.blocking, linkType: entity.match.linkType, records: records, db: wh.db,
                                          table: EntityBuilder.table(entity.name), location: entity.match.location)
                counts = blocker.pairCounts()
                let total = counts.reduce(0, +)
                guard total > entity.match.pairBudget, entity.match.blocking.count > 1,
                      let worst = counts.indices.max(by: { counts[$0] < counts[$1] }) else { break }
                notes.append("blocking rule [\(entity.match.blocking[worst].description)] dropped: \(counts[worst]) candidate pairs (\(total) in all, over the pair budget of \(entity.match.pairBudget))")
                entity.match.blocking.remove(at: worst)
            }
            try addTrainingBlocks(&entity, counts: counts, records: records, db: wh.db, notes: &notes)
            try wh.db.execute("DROP TABLE IF EXISTS \(sqlIdent(EntityBuilder.table(entity.name)))")
            try wh.endRun(run, error: nil, report: nil)
            return counts
        } catch {
            let e = (error as? AurumError) ?? AurumError(.runtime, "\(error)")
            try? wh.endRun(run, error: e.description, report: nil)
            throw e
        }
    }
}
