import Aurum
import Foundation
internal import CHiredis

/// A key template such as `customer:{customer_id}`: literal text and `{column}` references.
struct RedisKeyTemplate: Sendable {
    enum Part: Sendable { case literal(String), column(String) }
    let text: String
    let parts: [Part]

    init(_ text: String) throws(RedisError) {
        self.text = text
        var parts: [Part] = []
        var lit = ""
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c == "{" {
                guard let close = text[i...].firstIndex(of: "}") else {
                    throw RedisError("key template '\(text)' has an unclosed '{'")
                }
                let name = String(text[text.index(after: i)..<close])
                guard !name.isEmpty else { throw RedisError("key template '\(text)' has an empty {}") }
                if !lit.isEmpty { parts.append(.literal(lit)); lit = "" }
                parts.append(.column(name))
                i = text.index(after: close)
            } else {
                lit.append(c)
                i = text.index(after: i)
            }
        }
        if !lit.isEmpty { parts.append(.literal(lit)) }
        guard parts.contains(where: { if case .column = $0 { true } else { false } }) else {
            throw RedisError("key template '\(text)' names no column", hint: "e.g. customer:{customer_id}")
        }
        self.parts = parts
    }

    var columnNames: [String] { parts.compactMap { if case .column(let c) = $0 { c } else { nil } } }

    /// Column positions for `columns`, or an error naming the missing column.
    func bind(_ columns: [String]) throws(RedisError) -> [Int?] {
        var index: [String: Int] = [:]
        for (i, c) in columns.enumerated() where index[c] == nil { index[c] = i }
        var out: [Int?] = []
        for p in parts {
            switch p {
            case .literal: out.append(nil)
            case .column(let c):
                guard let i = index[c] else {
                    throw RedisError("key template '\(text)' names column '\(c)', which the output does not have",
                                     hint: "columns: \(columns.prefix(20).joined(separator: ", "))")
                }
                out.append(i)
            }
        }
        return out
    }

    func render(_ row: [Value], _ bound: [Int?]) throws(RedisError) -> String {
        var s = ""
        for (p, i) in zip(parts, bound) {
            switch p {
            case .literal(let l): s += l
            case .column(let c):
                guard let i, i < row.count, let t = row[i].textValue else {
                    throw RedisError("key template '\(text)': column '\(c)' is null")
                }
                s += t
            }
        }
        return s
    }
}

/// Writes rows into Redis: one key per row from a key template, as a hash (default) or a JSON
/// string, with an optional TTL, pipelined in batches. Also the keyed upsert and delete that sync uses.
///
/// Options (`OutputSpec.options` or the `options` argument):
/// - `key` (required): template, e.g. `customer:{customer_id}`;
/// - `value`: `hash` (default; NULL fields are left out) or `json` (one compact JSON object, NULLs kept);
/// - `mode`: `replace` (default; the key is deleted first, so it holds exactly the row) or `merge`
///   (hash fields are set over what is there);
/// - `ttl`: seconds, set with EXPIRE / SET … EX;
/// - `batch`: commands per round trip (default 1000). Each round trip is one MULTI/EXEC
///   transaction: a connection lost mid-batch leaves nothing of that batch, and the error says how
///   many rows the batches before it committed. Keys are written whole, so running again converges.
///
/// Not thread-safe; one owner. `close()` releases the connection (also done by `deinit`).
public final class RedisWriter {
    private let conn: RedisConnection
    private let template: RedisKeyTemplate
    private let json: Bool
    private let merge: Bool
    private let ttl: Int?
    private let batch: Int
    private let location: String
    private var cmd = RedisCommand()

    /// Opens a connection; throws `AurumError(.output)` for bad options or a server that cannot be reached.
    public init(connection: String, credentials: Credentials? = nil, options: [String: JSON], location: String = "redis") throws {
        self.location = location
        do throws(RedisError) {
            let s = try RedisWriter.settings(options)
            template = s.template
            json = s.json
            merge = s.merge
            ttl = s.ttl
            batch = s.batch
            conn = try RedisConnection(RedisEndpoint(connection, credentials: credentials))
        } catch {
            throw error.aurum(.output, at: location)
        }
    }

    struct Settings { var template: RedisKeyTemplate; var json: Bool; var merge: Bool; var ttl: Int?; var batch: Int }

    static func settings(_ options: [String: JSON]) throws(RedisError) -> Settings {
        guard let k = options["key"].flatMap(RedisOptions.string), !k.isEmpty else {
            throw RedisError("a redis output needs options.key, a key template", hint: "e.g. key: \"customer:{customer_id}\"")
        }
        let template = try RedisKeyTemplate(k)
        var json = false
        if let v = options["value"] {
            switch RedisOptions.string(v)?.lowercased() {
            case "hash": json = false
            case "json": json = true
            default: throw RedisError("unknown redis value type \(v.compact)", hint: "hash or json")
            }
        }
        var merge = false
        if let m = options["mode"] {
            switch RedisOptions.string(m)?.lowercased() {
            case "replace": merge = false
            case "merge": merge = true
            default: throw RedisError("unknown redis write mode \(m.compact)", hint: "replace or merge")
            }
        }
        var ttl: Int?
        if let t = options["ttl"] {
            guard let v = RedisOptions.int(t), v > 0 else { throw RedisError("options.ttl must be a positive number of seconds, not \(t.compact)") }
            ttl = v
        }
        let batch = options["batch"].flatMap(RedisOptions.int).map { max(1, $0) } ?? 1000
        return Settings(template: template, json: json, merge: merge, ttl: ttl, batch: batch)
    }

    deinit { conn.close() }

    /// Releases the connection; later calls do nothing.
    public func close() { conn.close() }

    /// The key a row is written under.
    public func key(columns: [String], row: [Value]) throws -> String {
        do { return try template.render(row, template.bind(columns)) } catch { throw error.aurum(.output, at: location) }
    }

    /// Writes (inserts or replaces, per `mode`) every row; returns how many were written.
    @discardableResult
    public func upsert(columns: [String], rows: [[Value]]) throws -> Int {
        var i = 0
        return try upsert(columns: columns) { () -> [Value]? in
            guard i < rows.count else { return nil }
            defer { i += 1 }
            return rows[i]
        }
    }

    /// Streams rows from `next` until it returns nil, one MULTI/EXEC transaction per batch; returns
    /// how many were written. A failure keeps the batches committed before it; the thrown error's
    /// `rowsCommitted` says how many rows they held.
    @discardableResult
    public func upsert(columns: [String], next: () throws -> [Value]?) throws -> Int {
        var committed = 0
        do {
            let bound = try template.bind(columns)
            let names = columns.map { Array($0.utf8) }
            var inBatch = 0
            let what = "writing \(template.text)"
            while let row = try next() {
                let key = try template.render(row, bound)
                if inBatch == 0 { try conn.append(RedisCommand(["MULTI"])) }
                try appendRow(key: key, names: names, columns: columns, row: row)
                inBatch += 1
                if conn.pending >= batch {
                    try conn.exec(what)
                    committed += inBatch
                    inBatch = 0
                }
            }
            if inBatch > 0 {
                try conn.exec(what)
                committed += inBatch
            }
            return committed
        } catch {
            var e: AurumError
            switch error {
            case let r as RedisError: e = r.aurum(.output, at: location)
            case let a as AurumError: e = a
            default: e = AurumError(.output, "\(error)", at: location)
            }
            e.message += " (\(committed) rows committed in earlier batches; running again rewrites every key)"
            e.rowsCommitted = committed
            throw e
        }
    }

    private func appendRow(key: String, names: [[UInt8]], columns: [String], row: [Value]) throws(RedisError) {
        if json {
            var members: [(String, JSON)] = []
            members.reserveCapacity(columns.count)
            for (i, c) in columns.enumerated() { members.append((c, JSON(i < row.count ? row[i] : .null))) }
            cmd.removeAll()
            cmd.add("SET"); cmd.add(key); cmd.add(JSON.object(members).compact)
            if let ttl { cmd.add("EX"); cmd.add(ttl) }
            try conn.append(cmd)
            return
        }
        if !merge {
            cmd.removeAll(); cmd.add("DEL"); cmd.add(key)
            try conn.append(cmd)
        }
        cmd.removeAll(); cmd.add("HSET"); cmd.add(key)
        var fields = 0
        for (i, v) in row.enumerated() where i < names.count {
            switch v {
            case .null: continue
            case .blob(let b): cmd.add(names[i]); cmd.add(b)
            case .text(let s): cmd.add(names[i]); cmd.add(s)
            default: cmd.add(names[i]); cmd.add(v.textValue ?? "")
            }
            fields += 1
        }
        if fields > 0 { try conn.append(cmd) }
        if let ttl, fields > 0 {
            cmd.removeAll(); cmd.add("EXPIRE"); cmd.add(key); cmd.add(ttl)
            try conn.append(cmd)
        }
    }

    /// Deletes keys (full Redis keys, e.g. from `key(columns:row:)`), pipelined; returns how many existed.
    @discardableResult
    public func delete(keys: [String]) throws -> Int {
        do {
            var deleted = 0
            var start = 0
            while start < keys.count {
                let end = min(keys.count, start + batch)
                cmd.removeAll(); cmd.add("DEL")
                for k in keys[start..<end] { cmd.add(k) }
                let r = try conn.command(cmd)
                guard case .integer(let n) = r else {
                    if case .error(let e) = r { throw RedisError(Secrets.scrub("\(conn.endpoint): DEL: \(e)", conn.endpoint.secrets)) }
                    throw RedisError("\(conn.endpoint): DEL: unexpected reply")
                }
                deleted += Int(n)
                start = end
            }
            return deleted
        } catch let e as RedisError {
            throw e.aurum(.output, at: location)
        }
    }

    /// The columns the key template names.
    public var keyColumns: [String] { template.columnNames }

    /// The glob pattern of every key the template can make (`customer:{id}` → `customer:*`).
    public var keyPattern: String {
        template.parts.map { p -> String in
            switch p {
            case .column: return "*"
            case .literal(let l): return l.map { "*?[]\\".contains($0) ? "\\\($0)" : String($0) }.joined()
            }
        }.joined()
    }

    /// Deletes every key matching the template's pattern (SCAN, then DEL per page); returns how many.
    @discardableResult
    public func deleteAll() throws -> Int {
        var cursor = "0", deleted = 0
        repeat {
            let reply: RedisReply
            do { reply = try conn.command(RedisCommand(["SCAN", cursor, "MATCH", keyPattern, "COUNT", "1000"])) } catch { throw error.aurum(.output, at: location) }
            guard case .array(let parts) = reply, parts.count == 2, let next = parts[0].text, case .array(let keys) = parts[1] else {
                throw AurumError(.output, "\(conn.endpoint): SCAN MATCH \(keyPattern): unexpected reply", at: location)
            }
            cursor = next
            let names = keys.compactMap { k -> String? in if case .string(let b) = k { String(decoding: b, as: UTF8.self) } else { nil } }
            if !names.isEmpty { deleted += try delete(keys: names) }
        } while cursor != "0"
        return deleted
    }

    /// Deletes the keys of rows (rendered with the key template); returns how many existed.
    @discardableResult
    public func delete(columns: [String], rows: [[Value]]) throws -> Int {
        try delete(keys: rows.map { try key(columns: columns, row: $0) })
    }
}

struct RedisTargetConnector: TargetConnector {
    var formats: [OutputFormat] { [.redis] }
    /// Each batch is one MULTI/EXEC transaction.
    var capabilities: ConnectorCapabilities { [.keyedUpsert, .delete, .transactional] }

    func validate(_ spec: OutputSpec) -> [(String, String)] {
        var problems: [(String, String)] = []
        do { _ = try RedisWriter.settings(spec.options) } catch {
            problems.append(("\(spec.location).options", error.message + (error.hint.map { " (\($0))" } ?? "")))
        }
        if let c = spec.connection {
            do { _ = try RedisEndpoint(c, credentials: spec.credentials) } catch { problems.append(("\(spec.location).connection", error.message)) }
        }
        return problems
    }

    func write(_ spec: OutputSpec, rows: RowCursor) throws -> (path: String, rows: Int) {
        let conn = spec.connection ?? "redis://127.0.0.1:6379/0"
        let w = try RedisWriter(connection: conn, credentials: spec.credentials, options: spec.options, location: spec.location)
        defer { w.close() }
        let n = try w.upsert(columns: rows.columns) { try rows.next() }
        let key = spec.options["key"].flatMap(RedisOptions.string) ?? ""
        return (Secrets.redact(conn) + (key.isEmpty ? "" : "?key=\(key)"), n)
    }
}

/// Registers the Redis source (`type: redis`) and target (`format: redis`) with Aurum.
public enum AurumRedis {
    public static func register() {
        ConnectorRegistry.shared.register(source: RedisSourceConnector())
        ConnectorRegistry.shared.register(target: RedisTargetConnector())
    }
}
