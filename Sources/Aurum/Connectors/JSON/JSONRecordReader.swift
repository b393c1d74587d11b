import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How the records of a JSON source are laid out.
public enum JSONLayout: Sendable {
    /// A top-level array of objects, or the array found at ``JSONReadOptions/recordPath``.
    case array
    /// Newline-delimited JSON: one JSON value per line, strictly (a value may not span lines).
    case ndjson
}

/// Options for ``JSONRecordReader``.
public struct JSONReadOptions: Sendable {
    public var layout: JSONLayout = .array
    /// Keys to walk from the top-level object to the records array, e.g. `["data", "customers"]`.
    /// `[]` means the top-level value itself is the array. Ignored for ``JSONLayout/ndjson``.
    public var recordPath: [String] = []
    /// Nested objects become dotted columns (`address.city`); `false` keeps them as JSON text.
    public var flatten: Bool = true
    /// Bytes asked of the file per read. The buffer holds about two chunks, or the longest single
    /// token (string or number) if that is bigger. Small values exist for tests.
    public var chunkSize: Int = 1 << 20
    /// Deepest nesting of objects and arrays accepted (the top-level value is depth 1).
    public var maxDepth: Int = 512

    public init() {}

    /// Parses a record path written as `data.customers`, `$.data.customers`, `/data/customers`
    /// (JSON Pointer, with `~1` and `~0` escapes) or `$['data']['customers']` (forms may mix).
    /// `""`, `"$"` and `"/"` mean the top level; a trailing `*` / `[*]` is dropped.
    public static func parsePath(_ s: String) -> [String] {
        let t = s.trimmingCharacters(in: .whitespaces)
        if t.isEmpty || t == "$" || t == "/" { return [] }
        var keys: [String] = []
        if t.hasPrefix("/") {
            keys = t.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
                String($0).replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            }
        } else {
            let c = Array(t)
            var i = c[0] == "$" ? 1 : 0
            while i < c.count {
                if c[i] == "." { i += 1; continue }
                var key = ""
                if c[i] == "[" {
                    i += 1
                    if i < c.count, c[i] == "'" || c[i] == "\"" {
                        let quote = c[i]
                        i += 1
                        while i < c.count, c[i] != quote {
                            if c[i] == "\\", i + 1 < c.count { i += 1 }
                            key.append(c[i])
                            i += 1
                        }
                        while i < c.count, c[i] != "]" { i += 1 }
                    } else {
                        while i < c.count, c[i] != "]" { key.append(c[i]); i += 1 }
                        key = key.trimmingCharacters(in: .whitespaces)
                    }
                    i += 1
                } else {
                    while i < c.count, c[i] != ".", c[i] != "[" { key.append(c[i]); i += 1 }
                }
                keys.append(key)
            }
        }
        if keys.last == "*" { keys.removeLast() }
        return keys
    }
}

/// One record: its columns in document order, and the 1-based line where it starts.
public struct JSONRecord: Sendable {
    public var fields: [(String, Value)]
    public var line: Int

    public init(fields: [(String, Value)], line: Int) {
        self.fields = fields
        self.line = line
    }

    /// The value of the column named `name`, if the record has it.
    public subscript(name: String) -> Value? {
        fields.first(where: { $0.0 == name })?.1
    }
}

/// What ``JSONRecordReader/next()`` hands out: a record, or a problem that did not stop reading
/// (a record that is not an object; in NDJSON also a line that is not valid JSON).
public enum JSONReadItem: Sendable {
    case record(JSONRecord)
    /// `raw` is the offending line (NDJSON) or value as compact JSON (array), at most 4 KiB.
    case problem(line: Int, reason: String, raw: String)
}

/// A JSON source that cannot be read: it names the file and, where there is one, the line and
/// column (counted in Unicode scalars, 1-based; `line == 0` when the error has no position).
public struct JSONReadError: Error, CustomStringConvertible {
    public var path: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(path: String, line: Int, column: Int, message: String) {
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }

    /// `shop.json:12:7: expected ',' or '}' after object member`, or `shop.json: empty file`.
    public var description: String {
        line > 0 ? "\(path):\(line):\(column): \(message)" : "\(path): \(message)"
    }
}

extension JSONReadError: LocalizedError {
    public var errorDescription: String? { description }
}

/// A streaming reader of JSON (array layout) or NDJSON records.
///
/// The file is read in chunks and parsed byte by byte, so memory stays bounded by the chunk size
/// and the largest single record, whatever the file's size. In the array layout a syntax error is
/// fatal (thrown with line and column: the parser cannot resynchronise); in NDJSON a bad line
/// becomes a ``JSONReadItem/problem`` and reading goes on with the next line. A record that is not
/// an object is a problem in both layouts. A reader is single-pass and not thread-safe.
///
/// How values map:
/// - strings → `.text`; `true`/`false` → `.integer(1)`/`.integer(0)`; `null` → `.null`;
/// - an integer literal that fits Int64 → `.integer`; any other number → `.real` when the Double
///   prints back as the literal's digits (`0.1`, `1.50`, `1e3`), else `.text` holding the exact
///   literal (`9223372036854775808`, `3.14159265358979323846`, `1e400`): no silent precision loss;
/// - nested objects → dotted columns (`address.city`) when flattening, else compact JSON text;
///   an empty nested object → its key with `.null` (so the key is not lost);
/// - arrays → `.text` of compact canonical JSON: keys in document order, numbers as written,
///   strings re-escaped minimally (only `"`, `\` and control characters);
/// - a key repeated in one object: the last value wins, in the first one's column position (all
///   columns of the first value go if it was an object). Flattened names that collide
///   (`{"a.b": 1, "a": {"b": 2}}`) are one column, last value wins.
///
/// Also: a UTF-8 BOM is skipped; CRLF works; the record path follows the first member with each
/// key; after the records array the rest of the document is still checked (without being built),
/// so a truncated file is reported; columns in errors count Unicode scalars from 1;
/// ``JSONReadOptions/recordPath`` is ignored for NDJSON; an empty (or all-blank) file has no
/// records in NDJSON and is an error ("empty file") in the array layout.
public final class JSONRecordReader {
    /// Items (records and problems) handed out by ``next()`` so far.
    public private(set) var itemsRead: Int = 0
    private var core: JSONCore
    private var failure: JSONReadError?
    private var finished = false

    /// Opens the file at `path`. In the array layout this already walks to the records array, so
    /// a missing ``JSONReadOptions/recordPath``, an empty file or a syntax error before the array
    /// throws here. Errors name `path`.
    public convenience init(path: String, options: JSONReadOptions) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw JSONReadError(path: path, line: 0, column: 0, message: "cannot open file: \(reason)")
        }
        try self.init(input: .file(fd), name: path, options: options)
    }

    /// Reads JSON held in memory; `name` stands for the path in errors.
    public convenience init(bytes: [UInt8], name: String, options: JSONReadOptions) throws {
        try self.init(input: .bytes(bytes), name: name, options: options)
    }

    init(input: JSONCore.Input, name: String, options: JSONReadOptions) throws {
        core = JSONCore(input: input, name: name, options: options)
        do throws(JSONReadError) {
            try core.start()
        } catch {
            core.release()
            throw error
        }
    }

    deinit {
        core.release()
    }

    /// The next record or problem; `nil` at the end. A thrown error is final: later calls throw it again.
    public func next() throws -> JSONReadItem? {
        if let failure { throw failure }
        if finished { return nil }
        do throws(JSONReadError) {
            guard let item = try core.next() else {
                finished = true
                core.release()
                return nil
            }
            itemsRead += 1
            return item
        } catch {
            failure = error
            core.release()
            throw error
        }
    }
}
