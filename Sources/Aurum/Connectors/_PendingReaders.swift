// TEMPORARY stand-ins until the CSV and JSON readers land; deleted then (they clash on purpose).
public enum CSVEncoding: String, Sendable { case utf8 = "utf-8", latin1 = "latin-1" }
public struct CSVOptions: Sendable {
    public var delimiter: UInt8 = UInt8(ascii: ",")
    public var quote: UInt8 = UInt8(ascii: "\"")
    public var header: Bool = true
    public var encoding: CSVEncoding = .utf8
    public var columns: [String]? = nil
    public init() {}
}
public struct CSVProblem: Sendable, Equatable { public var line: Int; public var reason: String; public var raw: String }
public struct CSVBatch: Sendable {
    public var bytes: [UInt8] = []
    public var fieldEnds: [Int32] = []
    public var rowCount: Int = 0
    public var width: Int = 0
    public var lines: [Int] = []
    public var hashes: [UInt64] = []
    public var problems: [CSVProblem] = []
}
public final class CSVReader {
    public init(path: String, options: CSVOptions = .init()) throws {}
    public private(set) var header: [String] = []
    public func nextBatch(maxRows: Int = 8192) throws -> CSVBatch? { nil }
    public private(set) var rowsRead: Int = 0
}
public enum JSONLayout: Sendable { case array, ndjson }
public struct JSONReadOptions: Sendable {
    public var layout: JSONLayout = .array
    public var recordPath: [String] = []
    public var flatten: Bool = true
    public init() {}
    public static func parsePath(_ s: String) -> [String] { s.split(separator: ".").map(String.init) }
}
public struct JSONRecord: Sendable { public var fields: [(String, Value)]; public var line: Int }
public enum JSONReadItem: Sendable { case record(JSONRecord), problem(line: Int, reason: String, raw: String) }
public final class JSONRecordReader {
    public init(path: String, options: JSONReadOptions) throws {}
    public func next() throws -> JSONReadItem? { nil }
    public private(set) var itemsRead: Int = 0
}
