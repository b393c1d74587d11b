import Foundation

/// `aurum audit golden`: a golden record as it was at any run, its versions, and its source records
/// — a query over `golden_versions`, `golden_ids`, `xref` and `ent_<entity>`.
public enum GoldenAudit {
    public struct Version: Sendable {
        public var version: Int
        public var validFrom: Int64
        /// The run that replaced or ended it; nil while current.
        public var validTo: Int64?
        public var reason: String
        /// `superseded`, `merged` or `retired`; nil while current.
        public var endReason: String?
        public var mergedInto: Int64?
        /// The golden values, in attribute order.
        public var values: [(attribute: String, value: Value)]
        /// `source:key` of the member records, in byte order.
        public var members: [String]
        /// Against the previous version (empty for the first): attributes whose value changed
        /// (or that appeared or went), and member records gained and lost.
        public var changedAttributes: [String] = []
        public var recordsAdded: [String] = []
        public var recordsRemoved: [String] = []

        public func contains(run: Int64) -> Bool { validFrom <= run && (validTo.map { $0 > run } ?? true) }

        var validity: String { "from run \(validFrom)" + (validTo.map { " to run \($0)" } ?? "") }

        var json: JSON {
            .object([
                ("version", .int(Int64(version))), ("valid_from_run", .int(validFrom)), ("valid_to_run", validTo.map(JSON.int) ?? .null),
                ("reason", .string(reason)), ("end_reason", endReason.map(JSON.string) ?? .null),
                ("merged_into", mergedInto.map(JSON.int) ?? .null), ("record_count", .int(Int64(members.count))),
                ("changed_attributes", .array(changedAttributes.map(JSON.string))),
                ("records_added", .array(recordsAdded.map(JSON.string))), ("records_removed", .array(recordsRemoved.map(JSON.string))),
            ])
        }
    }

    public struct SourceRecord: Sendable {
        public var record: String
        /// Its current values in `ent_<entity>` (only for the current state; nil when gone).
        public var values: [(attribute: String, value: Value)]?
    }

    public struct Report: Sendable {
        public var entity: String
        public var goldenID: Int64
        /// The run asked for; nil for the current state.
        public var atRun: Int64?
        /// From golden_ids: `active`, `merged` or `retired`.
        public var status: String
        public var mergedInto: Int64?
        public var versions: [Version]
        /// Index in `versions` of the state shown.
        public var shown: Int
        public var sourceRecords: [SourceRecord]

        public var state: Version { versions[shown] }

        public var json: JSON {
            let s = state
            return .object([
                ("entity", .string(entity)), ("golden_id", .int(goldenID)), ("at_run", atRun.map(JSON.int) ?? .null),
                ("status", .string(status)), ("merged_into", mergedInto.map(JSON.int) ?? .null),
                ("version", .int(Int64(s.version))), ("valid_from_run", .int(s.validFrom)), ("valid_to_run", s.validTo.map(JSON.int) ?? .null),
                ("reason", .string(s.reason)),
                ("values", .object(s.values.map { ($0.attribute, JSON($0.value)) })),
                ("source_records", .array(sourceRecords.map { r in
                    var m: [(String, JSON)] = [("record", .string(r.record))]
                    if let v = r.values { m.append(("values", .object(v.map { ($0.attribute, JSON($0.value)) }))) }
                    return .object(m)
                })),
                ("versions", .array(versions.map(\.json))),
            ])
        }

        public var text: String {
            let s = state
            func show(_ v: Value) -> String {
                switch v {
                case .null: return "NULL"
                case .text(let t): return "'\(t)'"
                default: return v.textValue ?? ""
                }
            }
            func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
            var out = ["\(entity) golden record \(goldenID)\(atRun.map { " at run \($0)" } ?? ""): version \(s.version) of \(versions.count), valid \(s.validity), \(s.reason)"]
            let w = s.values.map(\.attribute.count).max() ?? 0
            for (a, v) in s.values { out.append("  \(pad(a, w))  \(show(v))") }
            out.append("versions:")
            let vw = versions.map(\.validity.count).max() ?? 0
            let rw = versions.map(\.reason.count).max() ?? 0
            for (i, v) in versions.enumerated() {
                var changes: [String] = []
                if !v.changedAttributes.isEmpty { changes.append(v.changedAttributes.joined(separator: ", ")) }
                let records = v.recordsAdded.map { "+" + $0 } + v.recordsRemoved.map { "-" + $0 }
                if !records.isEmpty { changes.append(records.joined(separator: " ")) }
                let line = "\(i == shown ? "*" : " ") \(String(repeating: " ", count: max(0, 3 - String(v.version).count)))\(v.version)  \(pad(v.validity, vw))  \(pad(v.reason, rw))  \(changes.joined(separator: "; "))"
                out.append(line.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
            }
            if let last = versions.last, let to = last.validTo, last.endReason != "superseded" {
                out.append(last.endReason == "merged" ? "  ended in run \(to): merged into golden record \(last.mergedInto.map(String.init) ?? "?")"
                                                      : "  ended in run \(to): retired (no source record left)")
            }
            let withValues = sourceRecords.contains { $0.values != nil }
            out.append("source records (\(sourceRecords.count))\(withValues ? ", with their current values" : atRun.map { " at run \($0)" } ?? ""):")
            for r in sourceRecords {
                out.append("  \(r.record)" + (r.values.map { "  " + $0.map { "\($0.attribute)=\(show($0.value))" }.joined(separator: ", ") } ?? ""))
            }
            return out.joined(separator: "\n")
        }
    }

    /// The report for golden record `id`, at run `at` (nil: now), from the warehouse file at `path`.
    public static func golden(warehouse path: String, entity: String?, id: Int64, at: Int64?) throws -> Report {
        guard FileManager.default.fileExists(atPath: path) else {
            throw AurumError(.warehouse, "no warehouse here", at: path, hint: "pass --warehouse PATH or the catalog")
        }
        let w = try Warehouse(path: path)
        defer { w.close() }
        return try golden(warehouse: w, entity: entity, id: id, at: at)
    }

    public static func golden(warehouse w: Warehouse, entity name: String?, id: Int64, at: Int64?) throws -> Report {
        let db = w.db
        let entity = try resolveEntity(db, name, path: w.path)
        let rows = try db.query("""
            SELECT version, valid_from_run, valid_to_run, reason, end_reason, merged_into, attribute_values, members
            FROM golden_versions WHERE entity = ? AND golden_id = ? ORDER BY version
            """, [.text(entity), .integer(id)])
        let ids = try db.query("SELECT status, merged_into, changed_run FROM golden_ids WHERE entity = ? AND golden_id = ?", [.text(entity), .integer(id)]).first
        let status = ids?[0].textValue ?? "active"
        let mergedInto = ids.flatMap { int($0[1]) }
        guard !rows.isEmpty else {
            guard let ids else {
                let max = try db.scalar("SELECT max(golden_id) FROM golden_ids WHERE entity = ?", [.text(entity)]).flatMap(int)
                throw AurumError(.matching, "no golden record \(id) in entity '\(entity)'", at: w.path,
                                 hint: max.map { "golden ids of '\(entity)' run from 1 to \($0)" } ?? "entity '\(entity)' has no golden records yet")
            }
            let ended = ended(status, mergedInto, int(ids[2]))
            throw AurumError(.matching, "golden record \(id) of entity '\(entity)' has no recorded versions\(ended.map { ": it \($0), before versions were recorded" } ?? "")",
                             at: w.path, hint: "versions are recorded from the first run with this version of aurum on")
        }
        var versions: [Version] = []
        for r in rows {
            let values = try db.query("SELECT key, value FROM json_each(?)", [r[6]]).map { (attribute: $0[0].textValue ?? "", value: $0[1]) }
            let members = try db.query("SELECT value FROM json_each(?)", [r[7]]).map { $0[0].textValue ?? "" }
            var v = Version(version: Int(int(r[0]) ?? 0), validFrom: int(r[1]) ?? 0, validTo: int(r[2]), reason: r[3].textValue ?? "",
                            endReason: r[4].textValue, mergedInto: int(r[5]), values: values, members: members)
            if let p = versions.last {
                let old = Dictionary(p.values.map { ($0.attribute, $0.value) }, uniquingKeysWith: { a, _ in a })
                let new = Set(values.map(\.attribute))
                v.changedAttributes = values.filter { old[$0.attribute] != $0.value }.map(\.attribute)
                    + p.values.map(\.attribute).filter { !new.contains($0) }
                let before = Set(p.members), now = Set(members)
                v.recordsAdded = members.filter { !before.contains($0) }
                v.recordsRemoved = p.members.filter { !now.contains($0) }
            }
            versions.append(v)
        }

        let shown: Int
        if let at {
            guard try db.scalar("SELECT count(*) FROM runs WHERE run_id = ?", [.integer(at)])?.doubleValue ?? 0 > 0 else {
                let last = try db.scalar("SELECT max(run_id) FROM runs").flatMap(int)
                throw AurumError(.warehouse, "no run \(at) in this warehouse", at: w.path, hint: last.map { "runs go from 1 to \($0)" } ?? "nothing has run yet")
            }
            guard let i = versions.firstIndex(where: { $0.contains(run: at) }) else {
                if at < versions[0].validFrom {
                    throw AurumError(.matching, "golden record \(id) of entity '\(entity)' did not exist yet at run \(at): its first version is from run \(versions[0].validFrom)",
                                     at: w.path, hint: "pass --at \(versions[0].validFrom) or later")
                }
                let last = versions[versions.count - 1]
                throw AurumError(.matching, "golden record \(id) of entity '\(entity)' no longer existed at run \(at): it \(endText(last))",
                                 at: w.path, hint: "pass --at \(last.validFrom) (its last version)")
            }
            shown = i
        } else {
            guard let i = versions.firstIndex(where: { $0.validTo == nil }) else {
                let last = versions[versions.count - 1]
                throw AurumError(.matching, "golden record \(id) of entity '\(entity)' is no longer active: it \(endText(last))", at: w.path,
                                 hint: (last.mergedInto.map { "`aurum audit golden \($0)` shows the record it went into; " } ?? "")
                                     + "--at \(last.validFrom) shows its last version")
            }
            shown = i
        }

        var records: [SourceRecord]
        if versions[shown].validTo == nil {
            // The current state: the members by xref, with their current standardised values.
            let table = EntityBuilder.table(entity)
            let present = try db.tableExists(table) ? Set(try db.columns(of: table)) : []
            let attrs = versions[shown].values.map(\.attribute).filter { present.contains($0) }
            let lookup = attrs.isEmpty ? nil : try db.prepare("SELECT \(attrs.map(sqlIdent).joined(separator: ", ")) FROM \(sqlIdent(table)) WHERE source = ? AND source_key = ?")
            records = []
            for m in try db.query("SELECT source, source_key FROM xref WHERE entity = ? AND golden_id = ? ORDER BY source, source_key", [.text(entity), .integer(id)]) {
                var values: [(attribute: String, value: Value)]?
                if let lookup {
                    try lookup.bind([m[0], m[1]])
                    if try lookup.step() { values = attrs.enumerated().map { (attribute: $0.element, value: lookup.column($0.offset)) } }
                    lookup.reset()
                }
                records.append(SourceRecord(record: "\(m[0].textValue ?? ""):\(m[1].textValue ?? "")", values: values))
            }
        } else {
            records = versions[shown].members.map { SourceRecord(record: $0, values: nil) }
        }
        return Report(entity: entity, goldenID: id, atRun: at, status: status, mergedInto: mergedInto, versions: versions, shown: shown,
                      sourceRecords: records)
    }

    /// The entity asked for, or the only one with versions.
    static func resolveEntity(_ db: SQLiteDatabase, _ name: String?, path: String) throws -> String {
        let known = try db.query("SELECT DISTINCT entity FROM golden_version_runs UNION SELECT DISTINCT entity FROM golden_ids ORDER BY 1").compactMap { $0[0].textValue }
        if let name {
            guard known.contains(name) else {
                throw AurumError(.matching, "entity '\(name)' has no golden records in this warehouse", at: path,
                                 hint: known.isEmpty ? "run the catalog first" : "entities: \(known.joined(separator: ", "))")
            }
            return name
        }
        guard let first = known.first else {
            throw AurumError(.matching, "this warehouse has no golden records", at: path, hint: "run a catalog with entities first")
        }
        guard known.count == 1 else {
            throw AurumError(.matching, "this warehouse has golden records of several entities (\(known.joined(separator: ", ")))", at: path,
                             hint: "pass --entity NAME (or the catalog, whose first entity is the default)")
        }
        return first
    }

    static func int(_ v: Value) -> Int64? { if case .integer(let i) = v { return i } else { return nil } }

    static func ended(_ status: String, _ into: Int64?, _ run: Int64?) -> String? {
        let when = run.map { " in run \($0)" } ?? ""
        switch status {
        case "merged": return "was merged into golden record \(into.map(String.init) ?? "?")\(when)"
        case "retired": return "was retired (no source record left)\(when)"
        default: return nil
        }
    }

    static func endText(_ last: Version) -> String {
        ended(last.endReason == "merged" ? "merged" : "retired", last.mergedInto, last.validTo) ?? ""
    }
}
