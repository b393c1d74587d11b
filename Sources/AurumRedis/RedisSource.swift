import Aurum
import Foundation
internal import CHiredis

/// How a key's value is read: detected per key with `TYPE`, or declared by `options.value`.
enum RedisValueKind: String, Sendable {
    case hash, json, string
}

/// Reads a Redis source: keys matching a pattern (SCAN, never KEYS), or a stream (XRANGE).
///
/// Key mode (`query` = a pattern such as `customer:*`), one record per key:
/// - `_key`: the full key (text; a key that is not UTF-8 is decoded lossily); `_key_part`: the key without the pattern's literal prefix (before its
///   first glob character) and literal suffix (after its last one), so `customer:*` and
///   `customer:42` give `42`;
/// - a hash: one text column per field (Redis stores text; a value that is not UTF-8 is a blob);
/// - a string holding JSON (detected when it starts with `{`, or declared `value: json`): flattened
///   to dotted columns exactly as the JSON reader does (`flatten: false` keeps nested objects as
///   JSON text); a string that is not JSON (or declared `value: string`): column `value`;
/// - any other type (list, set, zset, stream), or a string declared JSON that does not parse:
///   quarantined with the reason; a key deleted between SCAN and the read is skipped; a key SCAN
///   returns twice is read once; a hash field or JSON member named `_key`/`_key_part` is dropped
///   (the reader's own columns win, so writing a read back does not clash).
/// Options: `value` (hash|json|string), `count` (SCAN COUNT hint, default 1000).
///
/// Stream mode (`options.stream` = a stream key): every entry a record, `_id` (the entry id) then
/// its fields (a field named `_id` is dropped), read in pages of `count` with XRANGE from `options.after` (exclusive; default: the start).
final class RedisSourceReader: RowReader {
    private(set) var columns: [String]
    private(set) var itemsRead = 0
    private let conn: RedisConnection
    private let spec: SourceSpec
    private let pattern: String
    private let stream: String?
    private let declared: RedisValueKind?
    private let count: Int
    private let flatten: Bool
    private let prefix: String
    private let suffix: String
    private var cursor = "0"
    private var streamStart: String
    private var done = false
    private var queue: [RowItem] = []
    private var queueIndex = 0
    private var seen = Set<[UInt8]>()
    private var line = 0

    init(_ spec: SourceSpec) throws {
        self.spec = spec
        let options = spec.options
        stream = options["stream"].flatMap(RedisOptions.string)
        pattern = spec.query ?? "*"
        if let v = options["value"].flatMap(RedisOptions.string) {
            guard let k = RedisValueKind(rawValue: v.lowercased()) else {
                throw AurumError(.source, "unknown redis value type '\(v)'", at: "\(spec.location).options.value", hint: "hash, json or string")
            }
            declared = k
        } else {
            declared = nil
        }
        count = options["count"].flatMap(RedisOptions.int).map { max(1, $0) } ?? 1000
        flatten = options["flatten"].flatMap(RedisOptions.bool) ?? spec.flatten
        (prefix, suffix) = RedisSourceReader.literalEnds(pattern)
        streamStart = options["after"].flatMap(RedisOptions.string).map { "(" + $0 } ?? "-"
        columns = stream == nil ? ["_key", "_key_part"] : ["_id"]
        let endpoint: RedisEndpoint
        do {
            endpoint = try RedisEndpoint(spec.connection ?? "redis://127.0.0.1:6379/0", credentials: spec.credentials)
            conn = try RedisConnection(endpoint)
        } catch {
            throw error.aurum(.source, at: spec.location)
        }
    }

    /// The literal text before the first and after the last glob character of a pattern.
    static func literalEnds(_ pattern: String) -> (String, String) {
        let glob: Set<Character> = ["*", "?", "["]
        guard let first = pattern.firstIndex(where: { glob.contains($0) }) else { return (pattern, "") }
        var last = pattern.lastIndex(where: { glob.contains($0) || $0 == "]" })!
        if pattern[last] == "[" { last = pattern.index(after: last) } else { last = pattern.index(after: last) }
        return (String(pattern[..<first]), String(pattern[last...]))
    }

    func keyPart(_ key: String) -> String {
        guard key.hasPrefix(prefix), key.hasSuffix(suffix), key.count >= prefix.count + suffix.count else { return key }
        return String(key.dropFirst(prefix.count).dropLast(suffix.count))
    }

    func next() throws -> RowItem? {
        while queueIndex >= queue.count {
            if done { return nil }
            queue.removeAll(keepingCapacity: true)
            queueIndex = 0
            do {
                if stream != nil { try fetchStreamPage() } else { try fetchKeyPage() }
            } catch let e as RedisError {
                throw e.aurum(.source, at: spec.location)
            }
        }
        let item = queue[queueIndex]
        queueIndex += 1
        itemsRead += 1
        return item
    }

    func close() { conn.close() }

    private func fail(_ what: String, _ reply: RedisReply) -> RedisError {
        if case .error(let e) = reply { return RedisError(Secrets.scrub("\(conn.endpoint): \(what): \(e)", conn.endpoint.secrets)) }
        return RedisError("\(conn.endpoint): \(what): unexpected reply")
    }

    private func fetchKeyPage() throws {
        var cmd = RedisCommand(["SCAN", cursor, "MATCH", pattern, "COUNT"])
        cmd.add(count)
        let reply = try conn.command(cmd)
        guard case .array(let parts) = reply, parts.count == 2, let next = parts[0].text, case .array(let keyReplies) = parts[1] else {
            throw fail("SCAN MATCH \(pattern)", reply)
        }
        cursor = next
        if cursor == "0" { done = true }
        var keys: [[UInt8]] = []
        for k in keyReplies { if case .string(let b) = k, seen.insert(b).inserted { keys.append(b) } }
        if keys.isEmpty { return }
        var kinds: [RedisValueKind?]
        if let declared {
            kinds = Array(repeating: declared, count: keys.count)
        } else {
            for k in keys {
                var c = RedisCommand(); c.add("TYPE"); c.add(k)
                try conn.append(c)
            }
            kinds = []
            var typeNames: [String] = []
            for _ in keys {
                let r = try conn.readReply()
                let t = r.text ?? "none"
                typeNames.append(t)
                switch t {
                case "hash": kinds.append(.hash)
                case "string": kinds.append(.string)
                default: kinds.append(nil)
                }
            }
            for (i, k) in keys.enumerated() where kinds[i] == nil && typeNames[i] != "none" {
                line += 1
                queue.append(.problem(line: line, reason: "key '\(String(decoding: k, as: UTF8.self))' is a \(typeNames[i]); only hashes and strings are read (streams: options.stream)", raw: nil))
            }
        }
        var asked: [(Int, RedisValueKind)] = []
        for (i, k) in keys.enumerated() {
            guard let kind = kinds[i] else { continue }
            var c = RedisCommand()
            c.add(kind == .hash ? "HGETALL" : "GET")
            c.add(k)
            try conn.append(c)
            asked.append((i, kind))
        }
        for (i, kind) in asked {
            let r = try conn.readReply()
            let key = String(decoding: keys[i], as: UTF8.self)
            let head: [(String, Value)] = [("_key", .text(key)), ("_key_part", .text(keyPart(key)))]
            switch r {
            case .array(let flat):
                if flat.isEmpty { continue } // gone since SCAN
                var fields = head
                fields.reserveCapacity(head.count + flat.count / 2)
                var j = 0
                while j + 1 < flat.count {
                    if case .string(let f) = flat[j], case .string(let v) = flat[j + 1] {
                        let name = String(decoding: f, as: UTF8.self)
                        if name != "_key" && name != "_key_part" { fields.append((name, RedisSourceReader.value(v))) }
                    }
                    j += 2
                }
                line += 1
                queue.append(.fields(fields, line: line))
            case .string(let bytes):
                line += 1
                queue.append(stringItem(key: key, head: head, bytes: bytes, kind: kind))
            case .null:
                continue
            case .error(let e):
                if e.hasPrefix("WRONGTYPE") {
                    line += 1
                    queue.append(.problem(line: line, reason: "key '\(key)' is not a \(kind == .hash ? "hash" : "string"): \(e)", raw: nil))
                } else {
                    throw fail(kind == .hash ? "HGETALL" : "GET", r)
                }
            default:
                throw fail(kind == .hash ? "HGETALL" : "GET", r)
            }
        }
    }

    private func stringItem(key: String, head: [(String, Value)], bytes: [UInt8], kind: RedisValueKind) -> RowItem {
        let looksJSON = bytes.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D } == UInt8(ascii: "{")
        // Declared `string`: as is; declared `json`: must parse; detected (a string by TYPE): JSON when it starts with `{`.
        if declared == .string || (declared == nil && !looksJSON) {
            return .fields(head + [("value", RedisSourceReader.value(bytes))], line: line)
        }
        var options = JSONReadOptions()
        options.layout = .array
        options.flatten = flatten
        var wrapped: [UInt8] = [UInt8(ascii: "[")]
        wrapped.append(contentsOf: bytes)
        wrapped.append(UInt8(ascii: "]"))
        options.chunkSize = max(256, wrapped.count) // the whole value in one read, no 1 MiB buffer per key
        let raw = String(decoding: bytes.prefix(4096), as: UTF8.self)
        do {
            let reader = try JSONRecordReader(bytes: wrapped, name: "key '\(key)'", options: options)
            var records: [[(String, Value)]] = []
            while let item = try reader.next() {
                switch item {
                case .record(let r): records.append(r.fields)
                case .problem(_, let reason, _): return .problem(line: line, reason: "key '\(key)': \(reason)", raw: raw)
                }
            }
            guard records.count == 1 else {
                return .problem(line: line, reason: "key '\(key)': expected one JSON object, found \(records.count) values", raw: raw)
            }
            return .fields(head + records[0].filter { $0.0 != "_key" && $0.0 != "_key_part" }, line: line)
        } catch {
            return .problem(line: line, reason: "key '\(key)': invalid JSON: \(error)", raw: raw)
        }
    }

    private func fetchStreamPage() throws {
        let name = stream!
        var cmd = RedisCommand(["XRANGE", name, streamStart, "+", "COUNT"])
        cmd.add(count)
        let reply = try conn.command(cmd)
        guard case .array(let entries) = reply else { throw fail("XRANGE \(name)", reply) }
        if entries.count < count { done = true }
        for e in entries {
            guard case .array(let pair) = e, pair.count == 2, let id = pair[0].text else { continue }
            var fields: [(String, Value)] = [("_id", .text(id))]
            if case .array(let flat) = pair[1] {
                var j = 0
                while j + 1 < flat.count {
                    if case .string(let f) = flat[j], case .string(let v) = flat[j + 1] {
                        let name = String(decoding: f, as: UTF8.self)
                        if name != "_id" { fields.append((name, RedisSourceReader.value(v))) }
                    }
                    j += 2
                }
            }
            line += 1
            queue.append(.fields(fields, line: line))
            streamStart = "(" + id
        }
    }

    static func value(_ bytes: [UInt8]) -> Value {
        if let s = String(validating: bytes, as: UTF8.self) { return .text(s) }
        return .blob(bytes)
    }
}

/// Reads the connector options (`JSON` values from the catalog).
enum RedisOptions {
    static func string(_ j: JSON) -> String? {
        switch j {
        case .string(let s): s
        case .int(let i): String(i)
        default: nil
        }
    }
    static func int(_ j: JSON) -> Int? {
        switch j {
        case .int(let i): Int(i)
        case .double(let d) where d == d.rounded(): Int(d)
        case .string(let s): Int(s)
        default: nil
        }
    }
    static func bool(_ j: JSON) -> Bool? {
        switch j {
        case .bool(let b): b
        case .string(let s): ["true", "yes", "1"].contains(s.lowercased()) ? true : (["false", "no", "0"].contains(s.lowercased()) ? false : nil)
        case .int(let i): i != 0
        default: nil
        }
    }
}

struct RedisSourceConnector: SourceConnector {
    var types: [SourceType] { [.redis] }

    func validate(_ spec: SourceSpec) -> [(String, String)] {
        var problems: [(String, String)] = []
        if let c = spec.connection {
            do { _ = try RedisEndpoint(c, credentials: spec.credentials) } catch { problems.append(("\(spec.location).connection", error.message)) }
        }
        if let v = spec.options["value"] {
            if RedisOptions.string(v).flatMap({ RedisValueKind(rawValue: $0.lowercased()) }) == nil {
                problems.append(("\(spec.location).options.value", "unknown redis value type \(v.compact): expected hash, json or string"))
            }
        }
        if spec.options["stream"] == nil, (spec.query ?? "").isEmpty {
            problems.append(("\(spec.location).query", "a redis source needs 'query' (a key pattern such as customer:*) or options.stream"))
        }
        return problems
    }

    func open(_ spec: SourceSpec) throws -> RowReader { try RedisSourceReader(spec) }
}
