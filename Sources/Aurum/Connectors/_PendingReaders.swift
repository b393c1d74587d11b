// TEMPORARY stand-ins until the CSV and JSON readers land; deleted then (they clash on purpose).
public enum JSONLayout: Sendable { case array, ndjson }
public struct JSONReadOptions: Sendable {
    public var layout: JSONLayout = .array
    public var recordPath: [String] = []
    public var flatten: Bool = true
    public init() {}
    public static func parsePath(_ s: String) -> [String] { s.hasPrefix("$.") ? s.dropFirst(2).split(separator: ".").map(String.init) : s.split(separator: ".").map(String.init) }
}
public struct JSONRecord: Sendable { public var fields: [(String, Value)]; public var line: Int }
public enum JSONReadItem: Sendable { case record(JSONRecord), problem(line: Int, reason: String, raw: String) }
public final class JSONRecordReader {
    public init(path: String, options: JSONReadOptions) throws {}
    public func next() throws -> JSONReadItem? { nil }
    public private(set) var itemsRead: Int = 0
}
