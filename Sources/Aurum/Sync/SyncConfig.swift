import Foundation

/// Output names and sync keys, resolved once the whole catalog is read.
///
/// Default names (documented in the README, *Sync*): the table of a SQLite or PostgreSQL output,
/// the collection of a MongoDB one, the literal prefix of a Redis key template (`customer:{id}` →
/// `customer`), the file or directory name without its extension for files (`out/customers.csv` →
/// `customers`). When two outputs would get the same default, each becomes `NAME.FORMAT`, and if
/// that is still taken, `NAME-N` with N the output's position (1-based). An explicit `name:` is
/// kept as written; two equal explicit names are an error.
enum OutputNames {
    static func assign(_ c: inout Catalog, diagnostics d: ConfigDiagnostics) {
        var taken: [String: String] = [:]
        for o in c.outputs where !o.name.isEmpty {
            if let prev = taken[o.name] {
                d.error(nil, "\(o.location).name", "duplicate output name '\(o.name)' (also \(prev))")
            }
            taken[o.name] = o.location
        }
        let bases = c.outputs.map { $0.name.isEmpty ? base($0) : $0.name }
        var counts: [String: Int] = [:]
        for b in bases { counts[b, default: 0] += 1 }
        for i in c.outputs.indices where c.outputs[i].name.isEmpty {
            let b = bases[i]
            var name = counts[b, default: 0] > 1 || taken[b] != nil ? "\(b).\(c.outputs[i].format.rawValue)" : b
            if taken[name] != nil { name = "\(b)-\(i + 1)" }
            c.outputs[i].name = name
            taken[name] = c.outputs[i].location
        }
        for i in c.outputs.indices { resolveKey(&c.outputs[i], c, d) }
    }

    /// What a default name is made from.
    static func base(_ o: OutputSpec) -> String {
        switch o.format {
        case .sqlite, .postgresql, .mongodb:
            if let t = o.table, !t.isEmpty { return t }
        case .redis:
            if case .string(let k)? = o.options["key"] {
                let prefix = k.prefix { $0 != "{" }.trimmingCharacters(in: CharacterSet(charactersIn: ":_-./ "))
                if !prefix.isEmpty { return prefix }
            }
        default:
            let p = o.path.hasSuffix("/") ? String(o.path.dropLast()) : o.path
            let last = (p as NSString).lastPathComponent
            let stem = (last as NSString).deletingPathExtension
            if !stem.isEmpty { return stem }
        }
        return o.format.rawValue
    }

    /// The data kind and entity an output writes (`golden`, `person`).
    static func data(_ o: OutputSpec, _ c: Catalog) -> (kind: String, entity: String?) {
        let spec = o.data ?? (c.entities.isEmpty ? "integrated" : "golden")
        let parts = spec.split(separator: ".", maxSplits: 1).map(String.init)
        return (parts.first ?? spec, parts.count > 1 ? parts[1] : c.entities.first?.name)
    }

    /// The default key of what an output writes, or nil when there is none.
    static func defaultKey(_ o: OutputSpec, _ c: Catalog) -> [String]? {
        switch data(o, c).kind {
        case "golden": return ["golden_id"]
        case "xref": return ["source", "source_key"]
        case "pairs": return ["source_l", "key_l", "source_r", "key_r"]
        case "integrated":
            var names: [String] = []
            let sourceNames = Set(c.sources.map(\.name))
            for k in c.integration?.keys ?? [] {
                var n = k.left
                if let dot = n.firstIndex(of: "."), sourceNames.contains(String(n[..<dot])) { n = String(n[n.index(after: dot)...]) }
                if !names.contains(where: { $0.lowercased() == n.lowercased() }) { names.append(n) }
            }
            if names.isEmpty, c.sources.count == 1, !c.sources[0].key.isEmpty { names = c.sources[0].key }
            return names.isEmpty ? nil : names
        default: return nil
        }
    }

    static func resolveKey(_ o: inout OutputSpec, _ c: Catalog, _ d: ConfigDiagnostics) {
        let (kind, entityName) = data(o, c)
        if o.key.isEmpty, let k = defaultKey(o, c) { o.key = k }
        if kind == "golden", let e = c.entities.first(where: { $0.name == entityName }) {
            let columns = ["golden_id"] + e.attributes.map(\.name) + ["record_count", "sources"]
            for k in o.key where !columns.contains(k) {
                d.error(nil, "\(o.location).key", "key column '\(k)' is not a column of the golden records",
                        hint: suggestion(k, columns).map { "did you mean '\($0)'?" } ?? "columns: \(columns.joined(separator: ", "))")
            }
        }
        guard o.sync else { return }
        if o.key.isEmpty {
            d.error(nil, "\(o.location).key", "a sync output needs a key, and \(kind) rows have none by default",
                    hint: "name the column(s) that identify a row: key: [id]")
        }
        if !ConnectorRegistry.shared.canSync(o.format) {
            d.error(nil, "\(o.location).sync", "output format '\(o.format.rawValue)' cannot be synced (it has no keyed upsert and delete)",
                    hint: "write it whole: remove sync: true")
        }
    }
}

extension ConnectorRegistry {
    /// Whether an output format can be synced: the built-in files and SQLite tables, file formats
    /// written through the publisher (by partition), and connectors with keyed upsert and delete.
    public func canSync(_ f: OutputFormat) -> Bool {
        if OutputFormat.builtIn.contains(f) { return true }
        guard let c = target(f) else { return false }
        return c is FileFormatConnector || c.capabilities.isSuperset(of: [.keyedUpsert, .delete])
    }
}
