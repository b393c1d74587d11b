import Foundation

/// What `aurum reconcile` found: the target read back and compared, key by key, with what it should
/// hold — the published state of a sync target, or the warehouse's current rows for a target that
/// is written whole.
public struct ReconcileReport: Sendable {
    /// One range of keys (in key order) with the row count and checksum of each side.
    public struct KeyRange: Sendable, Equatable {
        public var first: String
        public var last: String
        public var expectedRows: Int
        public var targetRows: Int
        public var expectedChecksum: UInt64
        public var targetChecksum: UInt64
        public var matches: Bool { expectedRows == targetRows && expectedChecksum == targetChecksum }
    }

    /// One key that differs: `missing` (expected, not in the target), `extra` (in the target, not
    /// expected), `differs` (in both, with other values; `attributes` names the columns), or
    /// `duplicate` (the target holds the key more than once).
    public struct Difference: Sendable, Equatable {
        public var kind: String
        public var key: String
        public var attributes: [String]
    }

    public var name: String
    public var format: String
    /// What the target was compared with: `published state` or `warehouse rows`.
    public var against: String
    public var expectedRows: Int
    public var targetRows: Int
    public var ranges: [KeyRange]
    public var differences: [Difference]
    public var clean: Bool { differences.isEmpty }

    public var json: JSON {
        .object([
            ("name", .string(name)), ("format", .string(format)), ("against", .string(against)),
            ("expected_rows", .int(Int64(expectedRows))), ("target_rows", .int(Int64(targetRows))),
            ("ranges", .int(Int64(ranges.count))),
            ("differing_ranges", .array(ranges.filter { !$0.matches }.map { r in
                .object([("first", .string(r.first)), ("last", .string(r.last)),
                         ("expected_rows", .int(Int64(r.expectedRows))), ("target_rows", .int(Int64(r.targetRows))),
                         ("expected_checksum", .string(String(format: "%016llx", r.expectedChecksum))),
                         ("target_checksum", .string(String(format: "%016llx", r.targetChecksum)))])
            })),
            ("differences", .array(differences.map { d in
                var o: [(String, JSON)] = [("kind", .string(d.kind)), ("key", .string(d.key))]
                if d.kind == "differs" { o.append(("attributes", .array(d.attributes.map(JSON.string)))) }
                return .object(o)
            })),
        ])
    }

    public var text: String {
        var lines = ["\(name) (\(format)): \(targetRows) row(s) in the target, \(expectedRows) expected (\(against)); "
            + (clean ? "no differences" : "\(differences.count) difference(s)")]
        let bad = ranges.filter { !$0.matches }
        if !bad.isEmpty {
            lines.append("  \(bad.count) of \(ranges.count) key range(s) differ:")
            for r in bad {
                lines.append("    keys \(r.first) … \(r.last): target \(r.targetRows) row(s) checksum \(String(format: "%016llx", r.targetChecksum)), expected \(r.expectedRows) checksum \(String(format: "%016llx", r.expectedChecksum))")
            }
        }
        for d in differences {
            switch d.kind {
            case "missing": lines.append("  missing in target: \(d.key)")
            case "extra": lines.append("  extra in target: \(d.key)")
            case "duplicate": lines.append("  duplicate in target: \(d.key)")
            default: lines.append("  differs: \(d.key) (\(d.attributes.joined(separator: ", ")))")
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension Syncer {
    /// Keys per range in a reconcile report.
    static let rangeSize = 1000

    /// Reads `out`'s target back and compares it with what it should hold: row counts and
    /// checksums per range of keys, then, inside each range that differs, the keys and columns.
    public func reconcile(_ out: OutputSpec) throws -> ReconcileReport {
        let ds = try SyncDataset.resolve(out, catalog: catalog, db: db)
        let st = try state(out.name)
        // The expected side: the published state, or (never synced) the current rows.
        var columns = ds.columns, key = ds.key, against = "published state"
        try db.execute("DROP TABLE IF EXISTS temp.aurum_rec_expected; CREATE TEMP TABLE aurum_rec_expected (key TEXT PRIMARY KEY, hash INTEGER NOT NULL, cols BLOB NOT NULL) WITHOUT ROWID")
        try db.execute("DROP TABLE IF EXISTS temp.aurum_rec_target; CREATE TEMP TABLE aurum_rec_target (key TEXT PRIMARY KEY, hash INTEGER NOT NULL, cols BLOB NOT NULL, n INTEGER NOT NULL) WITHOUT ROWID")
        defer { try? db.execute("DROP TABLE IF EXISTS temp.aurum_rec_expected; DROP TABLE IF EXISTS temp.aurum_rec_target") }
        if let st, out.sync {
            columns = st.columns
            key = st.key
            try db.run("INSERT INTO temp.aurum_rec_expected SELECT key, hash, cols FROM sync_rows WHERE target = ?", [.text(out.name)])
        } else {
            against = "warehouse rows"
            try ds.checkKey(db, out)
            try db.execute("""
                INSERT INTO temp.aurum_rec_expected SELECT \(ds.keyExpr()), aurum_sync_hash(\(ds.columnList())), aurum_sync_cols(\(ds.columnList()))
                FROM \(sqlIdent(ds.table))
                """)
        }
        // The target side, read back as a source would read it.
        let reader = try TargetReader.open(out, catalog: catalog)
        defer { reader.close() }
        let ins = try db.prepare("""
            INSERT INTO temp.aurum_rec_target (key, hash, cols, n) VALUES (?, ?, ?, 1)
            ON CONFLICT (key) DO UPDATE SET n = n + 1
            """)
        var map: [Int] = []           // target column of each expected column (-1: absent)
        var mapped: [String]? = nil
        var targetRows = 0
        func remap(_ names: [String]) {
            map = columns.map { c in names.firstIndex(of: c) ?? names.firstIndex { $0.lowercased() == c.lowercased() } ?? -1 }
            mapped = names
        }
        let keyIdx = key.map { k in columns.firstIndex(of: k) ?? 0 }
        try db.transaction {
            while let values = try reader.next() {
                if reader.columns != mapped { remap(reader.columns) }
                let row = map.map { $0 >= 0 && $0 < values.count ? values[$0] : Value.null }
                targetRows += 1
                guard let k = SyncKey.text(row, keyIdx) else { continue }
                let h = SyncHash.of(row)
                try ins.bind([.text(k), .integer(h.hash), .blob(h.cols)])
                try ins.step()
                ins.reset()
            }
        }
        // Both sides in key order, counted and summed per range of keys; the keys that differ.
        let st2 = try db.prepare("""
            SELECT key, e_hash, t_hash, e_cols, t_cols, n FROM (
              SELECT e.key AS key, e.hash AS e_hash, t.hash AS t_hash, e.cols AS e_cols, t.cols AS t_cols, t.n AS n
              FROM temp.aurum_rec_expected e LEFT JOIN temp.aurum_rec_target t ON t.key = e.key
              UNION ALL
              SELECT t.key, NULL, t.hash, NULL, t.cols, t.n FROM temp.aurum_rec_target t
              WHERE NOT EXISTS (SELECT 1 FROM temp.aurum_rec_expected e WHERE e.key = t.key))
            ORDER BY key
            """)
        var ranges: [ReconcileReport.KeyRange] = []
        var differences: [ReconcileReport.Difference] = []
        var current: ReconcileReport.KeyRange? = nil
        var inRange = 0
        var expectedRows = 0
        while try st2.step() {
            let k = st2.column(0).textValue ?? ""
            let shown = SyncKey.display(k)
            if current == nil || inRange >= Self.rangeSize {
                if let c = current { ranges.append(c) }
                current = ReconcileReport.KeyRange(first: shown, last: shown, expectedRows: 0, targetRows: 0, expectedChecksum: 0, targetChecksum: 0)
                inRange = 0
            }
            inRange += 1
            current!.last = shown
            let e = st2.column(1), t = st2.column(2)
            let n = Int(st2.column(5).doubleValue ?? 0)
            if case .integer(let h) = e {
                expectedRows += 1
                current!.expectedRows += 1
                current!.expectedChecksum = current!.expectedChecksum &+ UInt64(bitPattern: h)
            }
            if case .integer(let h) = t {
                current!.targetRows += n
                current!.targetChecksum = current!.targetChecksum &+ UInt64(bitPattern: h) &* UInt64(n)
            }
            switch (e, t) {
            case (.integer, .null): differences.append(.init(kind: "missing", key: shown, attributes: []))
            case (.null, .integer): differences.append(.init(kind: "extra", key: shown, attributes: []))
            case (.integer(let a), .integer(let b)):
                if a != b, case .blob(let ec) = st2.column(3), case .blob(let tc) = st2.column(4) {
                    let x = SyncHash.columns(ec), y = SyncHash.columns(tc)
                    let attrs = columns.indices.filter { $0 < x.count && $0 < y.count && x[$0] != y[$0] }.map { columns[$0] }
                    differences.append(.init(kind: "differs", key: shown, attributes: attrs))
                }
                if n > 1 { differences.append(.init(kind: "duplicate", key: shown, attributes: [])) }
            default: break
            }
        }
        if let c = current { ranges.append(c) }
        let rank = ["missing": 0, "extra": 1, "differs": 2, "duplicate": 3]
        differences.sort { a, b in a.kind != b.kind ? rank[a.kind]! < rank[b.kind]! : SyncKey.less(a.key, b.key) }
        return ReconcileReport(name: out.name, format: out.format.rawValue, against: against, expectedRows: expectedRows,
                               targetRows: targetRows, ranges: ranges, differences: differences)
    }
}

/// A target read back as rows: files with the built-in readers (every partition file of a
/// partitioned output), SQLite tables directly, and the rest through their source connectors.
final class TargetReader {
    private(set) var columns: [String] = []
    private var source: () throws -> [Value]?
    private var closeAll: () -> Void

    private init(_ next: @escaping () throws -> [Value]?, close: @escaping () -> Void) { source = next; closeAll = close }

    func next() throws -> [Value]? { try source() }
    func close() { closeAll() }

    static func open(_ out: OutputSpec, catalog: Catalog) throws -> TargetReader {
        switch out.format {
        case .sqlite:
            let db: SQLiteDatabase
            do { db = try SQLiteDatabase(path: out.path, readOnly: true) } catch { throw AurumError(.output, "\(error)", at: out.path) }
            let table = out.table ?? "integrated"
            guard try db.tableExists(table) else { db.close(); return empty() }
            let st = try db.prepare("SELECT * FROM \(sqlIdent(table))")
            let r = TargetReader({ try st.step() ? st.row() : nil }, close: { db.close() })
            r.columns = (0..<st.columnCount).map(st.columnName)
            return r
        case .csv, .tsv, .json, .ndjson, .parquet, .excel:
            return try files(out)
        default:
            return try connector(out, sourceSpec(out, path: ""))
        }
    }

    static func empty() -> TargetReader { TargetReader({ nil }, close: {}) }

    /// The source spec that reads a target back.
    static func sourceSpec(_ out: OutputSpec, path: String) throws -> SourceSpec {
        guard let type = SourceType(rawValue: out.format.rawValue) else {
            throw AurumError(.output, "output format '\(out.format.rawValue)' cannot be read back for reconcile", at: out.location)
        }
        var spec = SourceSpec(name: out.name, type: type, path: path, location: out.location)
        spec.connection = out.connection
        spec.credentials = out.credentials
        switch out.format {
        case .postgresql, .mongodb: spec.query = out.table
        case .redis:
            let template = out.options["key"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? ""
            var pattern = "", inColumn = false
            for ch in template {
                if ch == "{" { inColumn = true; pattern += "*"; continue }
                if ch == "}" { inColumn = false; continue }
                if inColumn { continue }
                if "*?[]\\".contains(ch) { pattern += "\\" }
                pattern.append(ch)
            }
            spec.query = pattern
            if let v = out.options["value"] { spec.options["value"] = v }
        default: break
        }
        if out.format == .mongodb { spec.options["allow_missing"] = .bool(true) }
        return spec
    }

    static func connector(_ out: OutputSpec, _ spec: SourceSpec) throws -> TargetReader {
        guard let c = ConnectorRegistry.shared.source(spec.type) else {
            throw AurumError(.output, "output format '\(out.format.rawValue)' cannot be read back by this build", at: out.location)
        }
        let reader = try c.open(spec)
        let r = TargetReader({ nil }, close: { reader.close() })
        r.source = { [unowned r] in
            while let item = try reader.next() {
                switch item {
                case .row(let v, _):
                    r.columns = reader.columns
                    return v
                case .fields(let f, _):
                    r.columns = f.map(\.0)
                    return f.map(\.1)
                case .problem: continue
                }
            }
            return nil
        }
        r.columns = reader.columns
        return r
    }

    /// Every file of a file output: the file, or each partition's files under the directory.
    static func files(_ out: OutputSpec) throws -> TargetReader {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        var paths: [String] = []
        let base = out.path.hasSuffix("/") ? String(out.path.dropLast()) : out.path
        if out.partition != nil || (fm.fileExists(atPath: base, isDirectory: &isDir) && isDir.boolValue) {
            let ext = "." + out.format.fileExtension
            if out.partition == nil { paths = [base + "/integrated" + ext] } else {
                let e = fm.enumerator(atPath: base)
                while let p = e?.nextObject() as? String { if p.hasSuffix(ext) { paths.append(base + "/" + p) } }
                paths.sort()
            }
        } else {
            paths = [base]
        }
        paths = paths.filter { fm.fileExists(atPath: $0) }
        var index = 0
        var current: TargetReader? = nil
        let r = TargetReader({ nil }, close: {})
        r.closeAll = { current?.close() }
        r.source = { [unowned r] in
            while true {
                if current == nil {
                    guard index < paths.count else { return nil }
                    current = try file(out, paths[index])
                    index += 1
                }
                if let v = try current!.next() { r.columns = current!.columns; return v }
                current!.close()
                current = nil
            }
        }
        return r
    }

    static func file(_ out: OutputSpec, _ path: String) throws -> TargetReader {
        switch out.format {
        case .csv, .tsv:
            let reader: CSVReader
            do { reader = try CSVReader(path: path, options: out.format == .tsv ? .tsv : CSVOptions()) } catch {
                throw AurumError(.output, "\(error)", at: path)
            }
            var batch: CSVBatch? = nil
            var row = 0
            let r = TargetReader({ nil }, close: {})
            r.source = { [unowned r] in
                while batch == nil || row >= batch!.rowCount {
                    do { batch = try reader.nextBatch(maxRows: 8192) } catch { throw AurumError(.output, "\(error)", at: path) }
                    row = 0
                    r.columns = reader.header
                    guard batch != nil else { return nil }
                }
                let b = batch!
                defer { row += 1 }
                return (0..<b.width).map { c in
                    let f = b.field(row, c)
                    return f.isEmpty && !b.isQuoted(row, c) ? .null : .text(f)
                }
            }
            return r
        case .json, .ndjson:
            var options = JSONReadOptions()
            options.layout = out.format == .ndjson ? .ndjson : .array
            let reader: JSONRecordReader
            do { reader = try JSONRecordReader(path: path, options: options) } catch { throw AurumError(.output, "\(error)", at: path) }
            let r = TargetReader({ nil }, close: {})
            r.source = { [unowned r] in
                while let item = try reader.next() {
                    if case .record(let rec) = item {
                        r.columns = rec.fields.map(\.0)
                        return rec.fields.map(\.1)
                    }
                }
                return nil
            }
            return r
        default:
            return try connector(out, sourceSpec(out, path: path))
        }
    }
}
