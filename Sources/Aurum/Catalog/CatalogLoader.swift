import Foundation
import Yams

/// Reads a catalog file (YAML or JSON; Aurum's catalog or the original integration config),
/// reporting every problem with its file, line and config path.
public enum CatalogLoader {
    public static func load(path: String, warehouseOverride: String? = nil) throws -> Catalog {
        let url = URL(fileURLWithPath: path)
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDir: ObjCBool = false
            let why = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
                ? (isDir.boolValue ? "is a directory" : "cannot be read") : "file not found"
            throw AurumErrors([AurumError(.invalidCatalog, why, at: path)])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw AurumErrors([AurumError(.invalidCatalog, "not UTF-8 text", at: path)])
        }
        return try parse(text: text, file: path, baseDirectory: url.deletingLastPathComponent().path,
                         warehouseOverride: warehouseOverride)
    }

    public static func parse(text: String, file: String, baseDirectory: String, warehouseOverride: String? = nil) throws -> Catalog {
        let diagnostics = ConfigDiagnostics(file: file)
        let root: Node
        do {
            guard let n = try Yams.compose(yaml: text) else {
                throw AurumErrors([AurumError(.invalidCatalog, "the file is empty", at: file)])
            }
            root = n
        } catch let e as YamlError {
            throw AurumErrors([yamlError(e, file: file)])
        }
        let top = ConfigNode(node: root, path: "", diagnostics: diagnostics)
        guard top.isMapping else {
            throw AurumErrors([AurumError(.invalidCatalog, "expected an object at the top level, found \(top.kindName)", at: file)])
        }
        let reader = Reader(base: baseDirectory, diagnostics: diagnostics)
        var catalog: Catalog
        if top["integration_config"] != nil || top["data_sources"] != nil {
            catalog = reader.integrationConfig(top, file: file)
        } else {
            catalog = reader.catalog(top, file: file)
        }
        if let w = warehouseOverride { catalog.warehouse = w }
        reader.checkSemantics(&catalog)
        if !diagnostics.errors.isEmpty { throw AurumErrors(diagnostics.errors) }
        return catalog
    }

    static func yamlError(_ e: YamlError, file: String) -> AurumError {
        switch e {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return AurumError(.invalidCatalog, "syntax error: \(problem)", at: "\(file):\(mark.line):\(mark.column)")
        default:
            return AurumError(.invalidCatalog, "cannot parse: \(e)", at: file)
        }
    }
}

/// Resolves a path against the catalog's folder.
/// A trailing `/` is kept: it marks a directory (`out/` writes `out/integrated.csv`).
func resolvePath(_ p: String, base: String) -> String {
    let expanded = (p as NSString).expandingTildeInPath
    let slash = expanded.hasSuffix("/") && expanded.count > 1 ? "/" : ""
    if expanded.hasPrefix("/") { return expanded }
    return URL(fileURLWithPath: base).appendingPathComponent(expanded).standardizedFileURL.path + slash
}

struct Reader {
    let base: String
    let diagnostics: ConfigDiagnostics

    // MARK: Aurum's own catalog

    func catalog(_ top: ConfigNode, file: String) -> Catalog {
        top.checkKeys(["version", "name", "warehouse", "defaults", "sources", "rules", "quality", "integration", "entities", "outputs"])
        if let v = top["version"], let i = v.int, i != 1 { v.fail("unsupported catalog version \(i) (this aurum reads version 1)") }
        var functions = FunctionSettings()
        if let d = top["defaults"], d.expectMapping() {
            d.checkKeys(["phone_country"])
            if let c = d["phone_country"]?.string { functions.defaultPhoneCountry = c.uppercased() }
        }
        var sources: [SourceSpec] = []
        if let s = top["sources"] {
            if !s.isSequence { s.fail("expected a list of sources") }
            for n in s.elements { if let src = source(n) { sources.append(src) } }
        } else {
            top.fail("missing 'sources'", hint: "a catalog needs at least one source")
        }
        var rules: [RuleSpec] = []
        if let r = top["rules"] {
            if !r.isSequence { r.fail("expected a list of rules") }
            for n in r.elements { if let rule = rule(n) { rules.append(rule) } }
        }
        let quality = top["quality"].map(qualitySpec) ?? QualitySpec()
        let integration = top["integration"].flatMap(integrationSpec)
        var outputs: [OutputSpec] = []
        if let o = top["outputs"] {
            if !o.isSequence { o.fail("expected a list of outputs") }
            for n in o.elements { if let out = output(n) { outputs.append(out) } }
        }
        let warehouse = top["warehouse"]?.string.map { resolvePath($0, base: base) }
            ?? resolvePath("aurum.db", base: base)
        let entities = top["entities"].map(entitySpecs) ?? []
        return Catalog(file: file, dialect: .catalog, baseDirectory: base, warehouse: warehouse, functions: functions,
                       sources: sources, rules: rules, quality: quality, integration: integration, outputs: outputs,
                       entities: entities)
    }

    func source(_ n: ConfigNode) -> SourceSpec? {
        guard n.expectMapping() else { return nil }
        n.checkKeys(["name", "type", "path", "query", "table", "delimiter", "header", "encoding", "columns", "records", "flatten", "key",
                     "connection", "auth", "options"])
        guard let name = n["name"]?.string else { n.fail("missing 'name'"); return nil }
        guard let typeNode = n["type"] else { n.fail("missing 'type'", hint: "one of: \(SourceType.allCases.map(\.rawValue).joined(separator: ", "))"); return nil }
        guard let type = typeNode.enumValue(SourceType.self, what: "source type") else { return nil }
        var spec = SourceSpec(name: name, type: type, path: "", location: n.path)
        let serverTypes: [SourceType] = [.postgresql, .mongodb, .redis, .api]
        if let c = n["connection"] { spec.connection = expanded(c) }
        if let a = n["auth"] { spec.credentials = credentials(a) }
        if let o = n["options"], o.expectMapping() {
            spec.options = Dictionary(o.pairs.map { ($0.0, $0.1.json) }, uniquingKeysWith: { $1 })
            if let f = o["full_diff_every"], let every = f.int {
                if every < 1 {
                    f.fail("expected a whole number of runs, at least 1", hint: "e.g. full_diff_every: 24 (every 24th read is a full read)")
                } else if o["cursor"] == nil {
                    f.fail("a periodic full diff needs options.cursor (the reads in between are incremental)")
                }
            }
        }
        if let p = n["path"]?.string { spec.path = resolvePath(p, base: base) }
        else if !serverTypes.contains(type) { n.fail("missing 'path'") }
        else if spec.connection == nil { n.fail("missing 'connection'", hint: "a \(type.rawValue) source needs a connection string") }
        if type == .tsv { spec.delimiter = UInt8(ascii: "\t") }
        if let d = n["delimiter"] { spec.delimiter = delimiter(d) ?? spec.delimiter }
        if let h = n["header"]?.bool { spec.header = h }
        if let e = n["encoding"]?.string {
            switch e.lowercased() {
            case "utf-8", "utf8": spec.encoding = .utf8
            case "latin-1", "latin1", "iso-8859-1": spec.encoding = .latin1
            default: n["encoding"]?.fail("unknown encoding '\(e)'", hint: "utf-8 or latin-1")
            }
        }
        if let c = n["columns"]?.stringList { spec.columns = c }
        if let r = n["records"]?.string { spec.recordPath = JSONReadOptions.parsePath(r) }
        if let f = n["flatten"]?.bool { spec.flatten = f }
        if let k = n["key"]?.stringList { spec.key = k }
        if let q = n["query"] {
            if q.isMapping || q.isSequence { spec.queryJSON = q.json } else { spec.query = q.string }
        }
        if let t = n["table"]?.string { spec.query = t }
        if type == .sqlite && spec.query == nil { n.fail("a sqlite source needs 'query' (a SELECT) or 'table'") }
        return spec
    }

    func delimiter(_ n: ConfigNode) -> UInt8? {
        guard let s = n.string else { return nil }
        let named: [String: String] = ["tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"]
        let d = named[s.lowercased()] ?? s
        guard d.utf8.count == 1, let b = d.utf8.first, b != UInt8(ascii: "\""), b != 10, b != 13 else {
            n.fail("a delimiter must be one ASCII character other than a quote or newline, found '\(s)'")
            return nil
        }
        return b
    }

    func rule(_ n: ConfigNode) -> RuleSpec? {
        guard n.expectMapping() else { return nil }
        n.checkKeys(["name", "type", "source", "column", "target", "expression", "values", "default"])
        guard let name = n["name"]?.string else { n.fail("missing 'name'"); return nil }
        guard let kindNode = n["type"] else { n.fail("missing 'type'", hint: "mapping, calculation, formatting or validation"); return nil }
        guard let kind = kindNode.enumValue(RuleKind.self, what: "rule type") else { return nil }
        var rule = RuleSpec(name: name, kind: kind, source: n["source"]?.string, sourceColumn: n["column"]?.string,
                            targetColumn: n["target"]?.string, expression: n["expression"]?.string, location: n.path)
        if let v = n["values"] {
            if v.expectMapping() { rule.valueMap = v.pairs.map { ($0.0, $0.1.value) } }
        }
        if let d = n["default"] { rule.mapDefault = d.value }
        return finish(rule, n, expressionKey: "expression", columnKey: "column", targetKey: "target")
    }

    /// Checks that a rule has what its kind needs, and fills the defaults.
    func finish(_ r: RuleSpec, _ n: ConfigNode, expressionKey: String, columnKey: String, targetKey: String) -> RuleSpec? {
        var rule = r
        switch rule.kind {
        case .mapping:
            guard rule.sourceColumn != nil else { n.fail("a mapping rule needs '\(columnKey)'"); return nil }
            if rule.targetColumn == nil { rule.targetColumn = rule.sourceColumn }
        case .calculation:
            guard rule.targetColumn != nil else { n.fail("a calculation rule needs '\(targetKey)'"); return nil }
            guard rule.expression != nil else { n.fail("a calculation rule needs '\(expressionKey)'"); return nil }
        case .formatting:
            guard rule.sourceColumn != nil || rule.targetColumn != nil else { n.fail("a formatting rule needs '\(columnKey)'"); return nil }
            guard let e = rule.expression else { n.fail("a formatting rule needs '\(expressionKey)'"); return nil }
            if rule.targetColumn == nil { rule.targetColumn = rule.sourceColumn }
            if rule.sourceColumn == nil { rule.sourceColumn = rule.targetColumn }
            // A bare function name is applied to the column: `upper` means upper(column).
            if e.range(of: #"^[A-Za-z_][A-Za-z0-9_]*$"#, options: .regularExpression) != nil {
                rule.expression = "\(e)(\(sqlIdent(rule.sourceColumn!)))"
            }
        case .validation:
            guard rule.expression != nil else { n.fail("a validation rule needs '\(expressionKey)'"); return nil }
        }
        return rule
    }

    func qualitySpec(_ n: ConfigNode) -> QualitySpec {
        var q = QualitySpec()
        guard n.expectMapping() else { return q }
        n.checkKeys(["duplicates", "nulls", "formats", "business_rules"])
        if let d = n["duplicates"] {
            if d.isMapping {
                d.checkKeys(["columns"])
                q.duplicates = true
                q.duplicateColumns = d["columns"]?.stringList ?? []
            } else if let b = d.bool { q.duplicates = b }
        }
        if let nn = n["nulls"] {
            if nn.isMapping {
                nn.checkKeys(["policy", "tokens", "columns"])
                q.nulls = true
                if let p = nn["policy"] { q.nullDefault = nullPolicy(p) ?? .keep }
                if let t = nn["tokens"]?.stringList { q.nullTokens = t }
                for (col, p) in nn["columns"]?.pairs ?? [] { if let pol = nullPolicy(p) { q.nullColumns[col] = pol } }
            } else if let b = nn.bool { q.nulls = b }
        }
        if let f = n["formats"] {
            if f.isMapping {
                q.formats = true
                for (col, k) in f.pairs { if let kind = k.enumValue(FormatKind.self, what: "format") { q.formatColumns[col] = kind } }
            } else if let b = f.bool { q.formats = b }
        }
        if let b = n["business_rules"]?.bool { q.businessRules = b }
        return q
    }

    /// `keep`, `reject`, or `{default: VALUE}`.
    func nullPolicy(_ n: ConfigNode) -> NullPolicy? {
        if n.isMapping {
            n.checkKeys(["default"])
            guard let d = n["default"] else { n.fail("expected {default: VALUE}"); return nil }
            return .defaultValue(d.value)
        }
        switch n.string?.lowercased() {
        case "keep": return .keep
        case "reject": return .reject
        default: n.fail("unknown null policy '\(n.string ?? "")'", hint: "keep, reject or {default: VALUE}"); return nil
        }
    }

    func integrationSpec(_ n: ConfigNode) -> IntegrationSpec? {
        guard n.expectMapping() else { return nil }
        n.checkKeys(["join", "keys", "merge", "conflict"])
        var spec = IntegrationSpec(location: n.path)
        if let j = n["join"]?.enumValue(JoinType.self, what: "join type") { spec.join = j }
        if let m = n["merge"]?.enumValue(MergeStrategy.self, what: "merge strategy") { spec.merge = m }
        for k in n["keys"]?.elements ?? [] {
            guard k.expectMapping() else { continue }
            k.checkKeys(["left", "right"])
            guard let l = k["left"]?.string, let r = k["right"]?.string else { k.fail("a join key needs 'left' and 'right'"); continue }
            spec.keys.append(JoinKey(left: l, right: r, location: k.path))
        }
        if let c = n["conflict"] {
            if c.isMapping {
                c.checkKeys(["default", "columns"])
                if let d = c["default"], let r = conflictRule(d, custom: nil) { spec.conflict = r }
                for (col, r) in c["columns"]?.pairs ?? [] { if let rule = conflictRule(r, custom: nil) { spec.conflictColumns[col] = rule } }
            } else if let r = conflictRule(c, custom: nil) {
                spec.conflict = r
            }
        }
        return spec
    }

    /// `first`, `last`, `average`, `sum`, `custom: EXPR`, or `{custom: EXPR}`.
    func conflictRule(_ n: ConfigNode, custom: String?) -> ConflictRule? {
        if n.isMapping {
            n.checkKeys(["custom"])
            guard let e = n["custom"]?.string else { n.fail("expected {custom: SQL aggregate over value}"); return nil }
            return .custom(e)
        }
        guard let s = n.string else { return nil }
        let lower = s.lowercased().trimmingCharacters(in: .whitespaces)
        switch lower {
        case "first": return .first
        case "last": return .last
        case "average", "avg", "mean": return .average
        case "sum": return .sum
        case "custom":
            guard let custom else {
                n.fail("conflict resolution 'custom' needs an SQL aggregate", hint: "write custom: max(value), or set custom_resolution")
                return nil
            }
            return .custom(custom)
        default:
            if lower.hasPrefix("custom:") { return .custom(String(s.drop(while: { $0 != ":" }).dropFirst()).trimmingCharacters(in: .whitespaces)) }
            n.fail("unknown conflict resolution '\(s)'", hint: "first, last, average, sum or custom")
            return nil
        }
    }

    func output(_ n: ConfigNode) -> OutputSpec? {
        guard n.expectMapping() else { return nil }
        n.checkKeys(["format", "path", "table", "partition", "connection", "auth", "options", "data", "name", "sync", "key"])
        guard let f = n["format"]?.enumValue(OutputFormat.self, what: "output format") else {
            if n["format"] == nil { n.fail("missing 'format'") }
            return nil
        }
        let server: [OutputFormat] = [.postgresql, .mongodb, .redis]
        let conn = n["connection"].flatMap(expanded)
        let p = n["path"]?.string
        if p == nil && !(server.contains(f) && conn != nil) {
            n.fail(server.contains(f) ? "missing 'connection'" : "missing 'path'")
            return nil
        }
        var spec = OutputSpec(format: f, path: p.map { resolvePath($0, base: base) } ?? "", table: n["table"]?.string, location: n.path)
        spec.connection = conn
        if let d = n["data"]?.string { spec.data = d }
        syncFields(n, &spec)
        if let a = n["auth"] { spec.credentials = credentials(a) }
        if let o = n["options"], o.expectMapping() { spec.options = Dictionary(o.pairs.map { ($0.0, $0.1.json) }, uniquingKeysWith: { $1 }) }
        if let part = n["partition"], part.expectMapping() {
            part.checkKeys(["by", "type", "buckets"])
            spec.partition = partition(part, byKey: "by", typeKey: "type")
        }
        return spec
    }

    func partition(_ n: ConfigNode, byKey: String, typeKey: String) -> PartitionSpec? {
        guard let by = n[byKey]?.string else { n.fail("missing '\(byKey)'"); return nil }
        guard let t = n[typeKey]?.enumValue(PartitionType.self, what: "partition type") else {
            if n[typeKey] == nil { n.fail("missing '\(typeKey)'", hint: "date, category or hash") }
            return nil
        }
        var p = PartitionSpec(column: by, type: t)
        if let b = n["buckets"] {
            if let i = b.int {
                if (1...4096).contains(i) { p.buckets = i } else { b.fail("buckets must be between 1 and 4096, found \(i)") }
            }
        }
        return p
    }

    // MARK: The original JSON integration config

    func integrationConfig(_ top: ConfigNode, file: String) -> Catalog {
        let cfg: ConfigNode
        if let inner = top["integration_config"] {
            top.checkKeys(["integration_config"])
            cfg = inner
        } else {
            cfg = top
        }
        var catalog = Catalog(file: file, dialect: .integrationConfig, baseDirectory: base,
                              warehouse: resolvePath("aurum.db", base: base), functions: FunctionSettings(),
                              sources: [], rules: [], quality: QualitySpec(), integration: nil, outputs: [])
        guard cfg.expectMapping() else { return catalog }
        cfg.checkKeys(["data_sources", "integration_strategy", "transformation_rules", "data_quality_checks", "output_config"])
        if let ds = cfg["data_sources"] {
            if !ds.isSequence { ds.fail("expected a list of data sources") }
            for n in ds.elements { if let s = dataSource(n) { catalog.sources.append(s) } }
        } else {
            cfg.fail("missing 'data_sources'")
        }
        for n in cfg["transformation_rules"]?.elements ?? [] {
            if let r = transformationRule(n) { catalog.rules.append(r) }
        }
        if let q = cfg["data_quality_checks"], q.expectMapping() {
            q.checkKeys(["duplicate_check", "null_check", "format_check", "business_rule_check"])
            catalog.quality.duplicates = q["duplicate_check"]?.bool ?? false
            catalog.quality.nulls = q["null_check"]?.bool ?? false
            catalog.quality.formats = q["format_check"]?.bool ?? false
            catalog.quality.businessRules = q["business_rule_check"]?.bool ?? false
        }
        if let s = cfg["integration_strategy"], s.expectMapping() {
            s.checkKeys(["join_type", "join_keys", "merge_strategy", "conflict_resolution", "custom_resolution"])
            var spec = IntegrationSpec(location: s.path)
            if let j = s["join_type"]?.enumValue(JoinType.self, what: "join type") { spec.join = j }
            if let m = s["merge_strategy"]?.enumValue(MergeStrategy.self, what: "merge strategy") { spec.merge = m }
            for k in s["join_keys"]?.elements ?? [] {
                guard k.expectMapping() else { continue }
                k.checkKeys(["source1_key", "source2_key"])
                guard let l = k["source1_key"]?.string, let r = k["source2_key"]?.string else {
                    k.fail("a join key needs 'source1_key' and 'source2_key'"); continue
                }
                spec.keys.append(JoinKey(left: l, right: r, location: k.path))
            }
            if let c = s["conflict_resolution"], let rule = conflictRule(c, custom: s["custom_resolution"]?.string) {
                spec.conflict = rule
            }
            catalog.integration = spec
        }
        if let o = cfg["output_config"], o.expectMapping() {
            if let out = outputConfig(o) { catalog.outputs.append(out) }
        } else if cfg["output_config"] == nil {
            cfg.fail("missing 'output_config'")
        }
        return catalog
    }

    func dataSource(_ n: ConfigNode) -> SourceSpec? {
        guard n.expectMapping() else { return nil }
        n.checkKeys(["source_name", "source_type", "connection_string", "query", "authentication", "key"])
        guard let name = n["source_name"]?.string else { n.fail("missing 'source_name'"); return nil }
        guard let typeNode = n["source_type"], let t = typeNode.string else { n.fail("missing 'source_type'"); return nil }
        guard let conn = n["connection_string"]?.string else { n.fail("missing 'connection_string'"); return nil }
        let query = n["query"].flatMap { $0.isMapping || $0.isSequence ? nil : $0.string }
        var spec: SourceSpec
        switch t.lowercased() {
        case "csv":
            spec = SourceSpec(name: name, type: .csv, path: resolvePath(conn, base: base), location: n.path)
            if conn.lowercased().hasSuffix(".tsv") || conn.lowercased().hasSuffix(".tab") { spec.type = .tsv; spec.delimiter = UInt8(ascii: "\t") }
        case "json":
            let lower = conn.lowercased()
            let nd = lower.hasSuffix(".ndjson") || lower.hasSuffix(".jsonl") || query?.lowercased() == "ndjson"
            spec = SourceSpec(name: name, type: nd ? .ndjson : .json, path: resolvePath(conn, base: base), location: n.path)
            if let q = query, !nd { spec.recordPath = JSONReadOptions.parsePath(q) }
        case "sql":
            let lower = conn.lowercased()
            if lower.hasPrefix("sqlite://") {
                spec = SourceSpec(name: name, type: .sqlite, path: resolvePath(sqlitePath(conn), base: base), location: n.path)
            } else if lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://") || conn.contains("=") {
                spec = SourceSpec(name: name, type: .postgresql, path: "", location: n.path)
                spec.connection = expandedString(conn, n["connection_string"]!)
            } else {
                n["connection_string"]?.fail("unsupported connection string for a sql source",
                                             hint: "sqlite:///PATH or postgresql://HOST/DATABASE")
                return nil
            }
            guard let q = query else { n.fail("a sql source needs 'query' (a SELECT or a table name)"); return nil }
            spec.query = q
        case "excel", "parquet", "xml":
            spec = SourceSpec(name: name, type: SourceType(rawValue: t.lowercased())!, path: resolvePath(conn, base: base), location: n.path)
            spec.query = query
        case "mongodb", "redis", "api":
            spec = SourceSpec(name: name, type: SourceType(rawValue: t.lowercased())!, path: "", location: n.path)
            spec.connection = expandedString(conn, n["connection_string"]!)
            spec.query = query
            if let q = n["query"], q.isMapping || q.isSequence { spec.queryJSON = q.json }
            else if let q = query, t.lowercased() == "mongodb", q.hasPrefix("{"), let node = try? Yams.compose(yaml: q) {
                spec.queryJSON = ConfigNode(node: node, path: n.path + ".query", diagnostics: diagnostics).json
            }
        default:
            typeNode.fail("unknown source type '\(t)'",
                          hint: suggestion(t.lowercased(), ["csv", "json", "excel", "sql", "mongodb", "redis", "api", "parquet", "xml"]).map { "did you mean '\($0)'?" }
                              ?? "expected one of: csv, json, excel, sql, mongodb, redis, api, parquet, xml")
            return nil
        }
        if let k = n["key"]?.stringList { spec.key = k }
        if let a = n["authentication"] { spec.credentials = credentials(a) }
        return spec
    }

    /// `{username, password, api_key, token}`, each possibly a `${ENV}` reference.
    func credentials(_ n: ConfigNode) -> Credentials? {
        guard n.expectMapping() else { return nil }
        n.checkKeys(["username", "password", "api_key", "token"])
        return Credentials(username: n["username"].flatMap(expanded), password: n["password"].flatMap(expanded),
                           apiKey: n["api_key"].flatMap(expanded), token: n["token"].flatMap(expanded))
    }

    /// A string with `${ENV}` references expanded; a missing variable is reported by name.
    func expanded(_ n: ConfigNode) -> String? {
        guard let s = n.string else { return nil }
        return expandedString(s, n)
    }

    func expandedString(_ s: String, _ n: ConfigNode) -> String {
        let (v, missing) = Secrets.expand(s)
        for m in missing { n.fail("environment variable '\(m)' is not set", hint: "export \(m)=… before running") }
        return v
    }

    func transformationRule(_ n: ConfigNode) -> RuleSpec? {
        guard n.expectMapping() else { return nil }
        n.checkKeys(["rule_name", "source_column", "target_column", "transformation_type", "transformation_logic"])
        guard let name = n["rule_name"]?.string else { n.fail("missing 'rule_name'"); return nil }
        guard let kindNode = n["transformation_type"] else { n.fail("missing 'transformation_type'"); return nil }
        guard let kind = kindNode.enumValue(RuleKind.self, what: "transformation type") else { return nil }
        var rule = RuleSpec(name: name, kind: kind, source: nil, sourceColumn: n["source_column"]?.string,
                            targetColumn: n["target_column"]?.string, expression: nil, location: n.path)
        if let logic = n["transformation_logic"] {
            if logic.isMapping {
                rule.valueMap = logic.pairs.map { ($0.0, $0.1.value) }
            } else if let s = logic.string {
                let trimmed = s.trimmingCharacters(in: .whitespacesAndNewlines)
                if kind == .mapping, trimmed.hasPrefix("{"), let map = jsonValueMap(trimmed) {
                    rule.valueMap = map
                } else if !trimmed.isEmpty {
                    rule.expression = trimmed
                }
            }
        }
        if rule.kind == .mapping, rule.targetColumn == nil, rule.expression == nil, rule.valueMap == nil {
            n.fail("a mapping rule needs 'target_column' (a rename) or 'transformation_logic' (a value map or expression)")
            return nil
        }
        return finish(rule, n, expressionKey: "transformation_logic", columnKey: "source_column", targetKey: "target_column")
    }

    /// A value map written as a JSON object string: `{"M": "male", "F": "female"}`.
    func jsonValueMap(_ s: String) -> [(String, Value)]? {
        guard let node = try? Yams.compose(yaml: s), node.mapping != nil else { return nil }
        let c = ConfigNode(node: node, path: "", diagnostics: ConfigDiagnostics(file: ""))
        return c.pairs.map { ($0.0, $0.1.value) }
    }

    func outputConfig(_ o: ConfigNode) -> OutputSpec? {
        o.checkKeys(["output_format", "output_destination", "partitioning", "name", "sync", "key"])
        guard let fnode = o["output_format"], let f = fnode.string else { o.fail("missing 'output_format'"); return nil }
        guard let dest = o["output_destination"]?.string else { o.fail("missing 'output_destination'"); return nil }
        var spec: OutputSpec
        switch f.lowercased() {
        case "csv", "json", "ndjson", "tsv", "parquet", "excel":
            spec = OutputSpec(format: OutputFormat(rawValue: f.lowercased())!, path: resolvePath(dest, base: base), location: o.path)
        case "sql":
            let (path, params) = splitQuery(dest)
            guard let table = params["table"], !table.isEmpty else {
                o["output_destination"]?.fail("a sql destination needs a table: sqlite:///PATH?table=NAME or postgresql://HOST/DB?table=NAME")
                return nil
            }
            let lower = dest.lowercased()
            if lower.hasPrefix("sqlite://") {
                spec = OutputSpec(format: .sqlite, path: resolvePath(sqlitePath(path), base: base), table: table, location: o.path)
            } else if lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://") {
                spec = OutputSpec(format: .postgresql, path: "", table: table, location: o.path)
                spec.connection = expandedString(removingQueryParameter(dest, "table"), o["output_destination"]!)
            } else {
                o["output_destination"]?.fail("unsupported destination for the sql output format",
                                              hint: "sqlite:///PATH?table=NAME or postgresql://HOST/DB?table=NAME")
                return nil
            }
        case "mongodb":
            let (_, params) = splitQuery(dest)
            guard let coll = params["collection"], !coll.isEmpty else {
                o["output_destination"]?.fail("a mongodb destination needs a collection: mongodb://HOST:PORT/DB?collection=NAME")
                return nil
            }
            spec = OutputSpec(format: .mongodb, path: "", table: coll, location: o.path)
            spec.connection = expandedString(removingQueryParameter(dest, "collection"), o["output_destination"]!)
        default:
            fnode.fail("unknown output format '\(f)'", hint: "expected one of: csv, json, parquet, excel, sql, mongodb")
            return nil
        }
        if let p = o["partitioning"], p.expectMapping() {
            p.checkKeys(["partition_by", "partition_type", "buckets"])
            spec.partition = partition(p, byKey: "partition_by", typeKey: "partition_type")
        }
        syncFields(o, &spec)
        return spec
    }

    /// `name:`, `sync:` and `key:` of an output (both dialects).
    func syncFields(_ n: ConfigNode, _ spec: inout OutputSpec) {
        if let nm = n["name"] {
            if let s = nm.string, !s.isEmpty, !s.contains(where: { $0.isWhitespace || $0.isNewline }) { spec.name = s }
            else { nm.fail("an output name must be non-empty text without spaces") }
        }
        if let b = n["sync"] {
            if let v = b.bool { spec.sync = v }
        }
        if let k = n["key"] {
            if let list = k.stringList, !list.isEmpty, !list.contains(where: \.isEmpty) {
                spec.key = list.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
            } else {
                k.fail("expected a column name or a list of column names")
            }
        }
    }

    // MARK: Checks across the whole catalog

    func checkSemantics(_ c: inout Catalog) {
        let d = diagnostics
        var names: [String: String] = [:]
        for s in c.sources {
            if let prev = names[s.name] {
                d.error(nil, "\(s.location).name", "duplicate source name '\(s.name)' (also \(prev))")
            }
            names[s.name] = s.location
            if s.name.isEmpty || s.name.contains(where: { $0 == "." || $0.isNewline }) {
                d.error(nil, "\(s.location).name", "a source name must be non-empty and contain no '.'")
            }
            if !SourceType.available.contains(s.type) {
                d.error(nil, "\(s.location)\(c.dialect == .catalog ? ".type" : ".source_type")",
                        "source type '\(s.type.rawValue)' is not supported by this build yet",
                        hint: "supported: \(SourceType.available.map(\.rawValue).joined(separator: ", "))")
                continue
            }
            if let connector = ConnectorRegistry.shared.source(s.type) {
                for (path, msg) in connector.validate(s) { d.error(nil, path, msg) }
            }
            if [.postgresql, .mongodb, .redis, .api].contains(s.type) { continue }
            let pathKey = c.dialect == .catalog ? "path" : "connection_string"
            var isDir: ObjCBool = false
            if !FileManager.default.fileExists(atPath: s.path, isDirectory: &isDir) {
                d.error(nil, "\(s.location).\(pathKey)", "file not found: \(s.path)")
            } else if isDir.boolValue {
                d.error(nil, "\(s.location).\(pathKey)", "is a directory, not a file: \(s.path)")
            } else if !FileManager.default.isReadableFile(atPath: s.path) {
                d.error(nil, "\(s.location).\(pathKey)", "file is not readable: \(s.path)")
            }
        }
        for i in c.rules.indices {
            // `source.column` names the one source the rule applies to (a dotted name whose
            // prefix is no source is a flattened JSON column).
            if c.rules[i].source == nil, let sc = c.rules[i].sourceColumn, let dot = sc.firstIndex(of: "."),
               names[String(sc[..<dot])] != nil {
                c.rules[i].source = String(sc[..<dot])
                c.rules[i].sourceColumn = String(sc[sc.index(after: dot)...])
                if c.rules[i].kind == .formatting, c.rules[i].targetColumn == sc { c.rules[i].targetColumn = c.rules[i].sourceColumn }
                if c.rules[i].kind == .mapping, c.rules[i].targetColumn == sc { c.rules[i].targetColumn = c.rules[i].sourceColumn }
                if let e = c.rules[i].expression {
                    c.rules[i].expression = e.replacingOccurrences(of: sqlIdent(sc), with: sqlIdent(c.rules[i].sourceColumn!))
                }
            }
        }
        for r in c.rules {
            if let s = r.source, names[s] == nil {
                d.error(nil, r.location, "rule '\(r.name)' names unknown source '\(s)'",
                        hint: suggestion(s, Array(names.keys)).map { "did you mean '\($0)'?" })
            }
        }
        if let i = c.integration {
            if c.sources.count > 1, i.join != .cross, i.keys.isEmpty {
                d.error(nil, i.location, "joining \(c.sources.count) sources with a \(i.join.rawValue) join needs join keys")
            }
            for k in i.keys {
                for side in [k.left, k.right] {
                    if let dot = side.firstIndex(of: "."), names[String(side[..<dot])] == nil, c.sources.count > 0 {
                        let src = String(side[..<dot])
                        // A dotted name may also be a flattened JSON column; only complain when no source could own it.
                        if !c.sources.contains(where: { $0.type == .json || $0.type == .ndjson }) {
                            d.error(nil, k.location, "join key '\(side)' names unknown source '\(src)'")
                        }
                    }
                }
            }
        } else if c.sources.count > 1 && c.entities.isEmpty {
            d.error(nil, c.dialect == .catalog ? "integration" : "integration_strategy",
                    "\(c.sources.count) sources but no integration strategy", hint: "say how the sources join: join type and keys")
        }
        if c.outputs.isEmpty && c.dialect == .catalog && c.entities.isEmpty {
            d.error(nil, "outputs", "no outputs", hint: "add at least one output")
        }
        checkEntities(c, sourceNames: names)
        for o in c.outputs {
            if let connector = ConnectorRegistry.shared.target(o.format) {
                for (path, msg) in connector.validate(o) { d.error(nil, path, msg) }
            }
            if !OutputFormat.available.contains(o.format) {
                d.error(nil, o.location, "output format '\(o.format.rawValue)' is not supported by this build yet",
                        hint: "supported: csv, json, ndjson, tsv, sql (sqlite:///PATH?table=NAME)")
            }
            if o.partition != nil && !o.format.isFile {
                d.error(nil, "\(o.location).partitioning", "partitioning applies to file outputs, not to \(o.format.rawValue)")
            }
            if (o.format == .sqlite || o.format == .postgresql) && (o.table ?? "").isEmpty {
                d.error(nil, o.location, "a sqlite output needs 'table'")
            }
        }
        OutputNames.assign(&c, diagnostics: d)
    }
}

/// `sqlite:///relative.db` → `relative.db`; `sqlite:////abs/x.db` → `/abs/x.db` (SQLAlchemy's form).
func sqlitePath(_ conn: String) -> String {
    var s = conn
    if let r = s.range(of: "sqlite://", options: [.caseInsensitive, .anchored]) { s.removeSubrange(r) }
    if s.hasPrefix("/") { s.removeFirst() }
    if let q = s.firstIndex(of: "?") { s = String(s[..<q]) }
    return s.removingPercentEncoding ?? s
}

/// The connection string without one query parameter (Aurum's own, like `table`), as a driver wants it.
func removingQueryParameter(_ s: String, _ name: String) -> String {
    guard let q = s.firstIndex(of: "?") else { return s }
    let kept = s[s.index(after: q)...].split(separator: "&").filter { !$0.hasPrefix(name + "=") && $0 != Substring(name) }
    return String(s[..<q]) + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
}

/// Splits `base?x=1&y=2` into the base and its query parameters.
func splitQuery(_ s: String) -> (String, [String: String]) {
    guard let q = s.firstIndex(of: "?") else { return (s, [:]) }
    var params: [String: String] = [:]
    for part in s[s.index(after: q)...].split(separator: "&") {
        let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
        let k = kv[0].removingPercentEncoding ?? kv[0]
        let v = kv.count > 1 ? (kv[1].removingPercentEncoding ?? kv[1]) : ""
        params[k] = v
    }
    return (String(s[..<q]), params)
}
