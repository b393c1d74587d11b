import Aurum
import Foundation
internal import CHiredis

/// Where a Redis server is: parsed from `redis://[user:password@]host:port/db`.
///
/// `description` never shows the password.
struct RedisEndpoint: Sendable, CustomStringConvertible {
    var host: String = "127.0.0.1"
    var port: Int = 6379
    var db: Int = 0
    var username: String?
    var password: String?
    /// Seconds for connecting and for each reply.
    var timeout: Double = 10

    /// Parses a connection string; `credentials` (a catalog's `auth`) override the URL's user info.
    init(_ connection: String, credentials: Credentials?) throws(RedisError) {
        let trimmed = connection.trimmingCharacters(in: .whitespaces)
        guard let comps = URLComponents(string: trimmed), let scheme = comps.scheme?.lowercased() else {
            throw RedisError("invalid redis connection string '\(Secrets.redact(trimmed))'",
                             hint: "expected redis://[user:password@]host:port/db")
        }
        if scheme == "rediss" {
            throw RedisError("TLS (rediss://) is not supported by this build's hiredis 0.14", hint: "use redis:// on a trusted network or a TLS tunnel")
        }
        guard scheme == "redis" else {
            throw RedisError("invalid redis connection string '\(Secrets.redact(trimmed))': scheme must be redis://")
        }
        if let h = comps.host, !h.isEmpty { host = h }
        if let p = comps.port { port = p }
        let path = comps.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !path.isEmpty {
            guard let d = Int(path), d >= 0 else {
                throw RedisError("invalid redis database '\(path)' in '\(Secrets.redact(trimmed))'", hint: "the path is a database number: redis://host:6379/0")
            }
            db = d
        }
        if let u = comps.percentEncodedUser, !u.isEmpty { username = u.removingPercentEncoding ?? u }
        if let p = comps.percentEncodedPassword, !p.isEmpty { password = p.removingPercentEncoding ?? p }
        for item in comps.queryItems ?? [] {
            if item.name == "timeout", let v = item.value.flatMap(Double.init), v > 0 { timeout = v }
            if item.name == "db", let v = item.value.flatMap(Int.init) { db = v }
        }
        if let c = credentials {
            if let u = c.username, !u.isEmpty { username = u }
            if let p = c.password, !p.isEmpty { password = p }
        }
    }

    var description: String { "redis \(host):\(port)/\(db)" }
    var secrets: [String] { [password].compactMap { $0 }.filter { !$0.isEmpty } }
}

/// A Redis failure: the message is the server's or hiredis's, already free of secrets.
struct RedisError: Error, CustomStringConvertible {
    var message: String
    var hint: String?
    init(_ message: String, hint: String? = nil) { self.message = message; self.hint = hint }
    var description: String { message }

    func aurum(_ code: AurumError.Code, at location: String?) -> AurumError {
        AurumError(code, message, at: location, hint: hint)
    }
}

/// A decoded reply (hiredis's `redisReply` tree, copied out so it can be freed at once).
enum RedisReply: Equatable {
    case string([UInt8])
    case status(String)
    case integer(Int64)
    case array([RedisReply])
    case null
    case error(String)

    var text: String? {
        switch self {
        case .string(let b): String(decoding: b, as: UTF8.self)
        case .status(let s): s
        case .integer(let i): String(i)
        default: nil
        }
    }
}

/// One command's arguments, packed in one buffer (binary-safe), for `redisAppendCommandArgv`.
struct RedisCommand {
    var bytes: [UInt8] = []
    var lengths: [Int] = []
    var name: String { lengths.isEmpty ? "" : String(decoding: bytes[0..<lengths[0]], as: UTF8.self) }

    init() {}
    init(_ args: [String]) { for a in args { add(a) } }

    mutating func add(_ s: String) {
        let before = bytes.count
        bytes.append(contentsOf: s.utf8)
        lengths.append(bytes.count - before)
    }
    mutating func add(_ b: [UInt8]) {
        bytes.append(contentsOf: b)
        lengths.append(b.count)
    }
    mutating func add(_ i: Int) { add(String(i)) }
    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        lengths.removeAll(keepingCapacity: true)
    }
}

/// One connection to a Redis server: the single owner of a `redisContext`, freed exactly once
/// (by `close()` or, failing that, `deinit`). Not thread-safe; one reader or writer owns it.
final class RedisConnection {
    private var ctx: UnsafeMutablePointer<redisContext>?
    let endpoint: RedisEndpoint
    /// Commands appended and not yet answered.
    private(set) var pending = 0
    private var pointers: [UnsafePointer<CChar>?] = []

    init(_ endpoint: RedisEndpoint) throws(RedisError) {
        self.endpoint = endpoint
        let tv = RedisConnection.timeval(endpoint.timeout)
        guard let c = redisConnectWithTimeout(endpoint.host, Int32(endpoint.port), tv) else {
            throw RedisError("cannot connect to \(endpoint): out of memory")
        }
        if c.pointee.err != 0 {
            let why = RedisConnection.errstr(c)
            redisFree(c)
            throw RedisError("cannot connect to \(endpoint): \(why)", hint: "is the server running? (scripts/servers/redis.sh starts one)")
        }
        _ = redisSetTimeout(c, tv)
        ctx = c
        do throws(RedisError) {
            if let pw = endpoint.password {
                var args = ["AUTH"]
                if let u = endpoint.username { args.append(u) }
                args.append(pw)
                if case .error(let e) = try command(RedisCommand(args)) {
                    throw RedisError(scrub("authentication failed at \(endpoint)\(endpoint.username.map { " as user '\($0)'" } ?? ""): \(e)"),
                                     hint: "check the password in the connection string or auth")
                }
            }
            if endpoint.db != 0, case .error(let e) = try command(RedisCommand(["SELECT", String(endpoint.db)])) {
                throw RedisError(scrub("cannot select database \(endpoint.db) at \(endpoint): \(e)"))
            }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Frees the context; later calls do nothing.
    func close() {
        if let c = ctx {
            ctx = nil
            redisFree(c)
        }
    }

    private func scrub(_ s: String) -> String { Secrets.scrub(s, endpoint.secrets) }

    static func timeval(_ seconds: Double) -> Glibc.timeval {
        let s = max(seconds, 0.001)
        return Glibc.timeval(tv_sec: Int(s), tv_usec: Int((s - s.rounded(.down)) * 1e6))
    }

    static func errstr(_ c: UnsafeMutablePointer<redisContext>) -> String {
        var e = c.pointee.errstr
        return withUnsafeBytes(of: &e) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private func liveContext() throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        guard let c = ctx else { throw RedisError("connection to \(endpoint) is closed") }
        return c
    }

    /// Queues a command in the output buffer (sent by the next `readReply`).
    func append(_ cmd: RedisCommand) throws(RedisError) {
        let c = try liveContext()
        pointers.removeAll(keepingCapacity: true)
        let rc: Int32 = cmd.bytes.withUnsafeBufferPointer { buf in
            let base = UnsafeRawPointer(buf.baseAddress!)
            var off = 0
            for l in cmd.lengths {
                pointers.append(base.advanced(by: off).assumingMemoryBound(to: CChar.self))
                off += l
            }
            return pointers.withUnsafeMutableBufferPointer { p in
                cmd.lengths.withUnsafeBufferPointer { l in
                    redisAppendCommandArgv(c, Int32(cmd.lengths.count), p.baseAddress, l.baseAddress)
                }
            }
        }
        if rc != REDIS_OK { throw RedisError("\(endpoint): cannot queue \(cmd.name): \(RedisConnection.errstr(c))") }
        pending += 1
    }

    /// Flushes queued commands if needed and reads one reply. An I/O error closes the connection.
    func readReply() throws(RedisError) -> RedisReply {
        let c = try liveContext()
        var raw: UnsafeMutableRawPointer?
        if redisGetReply(c, &raw) != REDIS_OK || raw == nil {
            let why = RedisConnection.errstr(c)
            close()
            throw RedisError("\(endpoint): connection failed: \(why.isEmpty ? "no reply" : why)")
        }
        pending -= 1
        let r = raw!.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return RedisConnection.convert(r)
    }

    /// Sends one command and waits for its reply (errors from the server come back as `.error`).
    func command(_ cmd: RedisCommand) throws(RedisError) -> RedisReply {
        try append(cmd)
        return try readReply()
    }

    /// Reads every pending reply; throws the first server error, naming `what` (the command or object).
    func drain(_ what: String) throws(RedisError) {
        var first: String?
        while pending > 0 {
            if case .error(let e) = try readReply(), first == nil { first = e }
        }
        if let first { throw RedisError(scrub("\(endpoint): \(what): \(first)")) }
    }

    /// Sends EXEC for the MULTI that opened the pending commands and reads every reply; throws
    /// the first error (a command refused when queued, EXECABORT, or one failing inside EXEC).
    func exec(_ what: String) throws(RedisError) {
        try append(RedisCommand(["EXEC"]))
        var first: String?
        while pending > 0 {
            let r = try readReply()
            switch r {
            case .error(let e): if first == nil { first = e }
            case .array(let items) where pending == 0:
                for case .error(let e) in items where first == nil { first = e }
            case .null where pending == 0:
                if first == nil { first = "the transaction was aborted" }
            default: break
            }
        }
        if let first { throw RedisError(scrub("\(endpoint): \(what): \(first)")) }
    }

    private static func convert(_ r: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let p = r.pointee
        func bytes() -> [UInt8] {
            guard let s = p.str else { return [] }
            return Array(UnsafeRawBufferPointer(start: s, count: p.len))
        }
        switch p.type {
        case REDIS_REPLY_STRING: return .string(bytes())
        case REDIS_REPLY_STATUS: return .status(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_INTEGER: return .integer(p.integer)
        case REDIS_REPLY_ARRAY:
            var out: [RedisReply] = []
            out.reserveCapacity(p.elements)
            for i in 0..<p.elements {
                if let e = p.element[i] { out.append(convert(e)) } else { out.append(.null) }
            }
            return .array(out)
        default: return .null
        }
    }
}
