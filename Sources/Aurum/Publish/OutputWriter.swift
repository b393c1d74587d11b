import Foundation

/// A buffered file sink.
final class FileSink {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    let path: String

    init(path: String) throws {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let h = FileHandle(forWritingAtPath: path) else {
            throw AurumError(.output, "cannot create file: \(String(cString: strerror(errno)))", at: path)
        }
        handle = h
        buffer.reserveCapacity(1 << 20)
    }

    func write(_ s: String) throws {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= 1 << 20 { try flush() }
    }

    func write(_ bytes: [UInt8]) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 20 { try flush() }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        do { try handle.write(contentsOf: buffer) } catch { throw AurumError(.output, "write failed: \(error)", at: path) }
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        try handle.close()
    }
}

/// Writes rows in one file format (one file; a partitioned output opens one per partition).
public protocol RowFileWriter: AnyObject {
    func write(_ row: [Value]) throws
    func close() throws
}

final class CSVFileWriter: RowFileWriter {
    let sink: FileSink
    let delimiter: Character
    init(path: String, columns: [String], delimiter: Character = ",") throws {
        sink = try FileSink(path: path)
        self.delimiter = delimiter
        try sink.write(columns.map { field($0) }.joined(separator: String(delimiter)) + "\n")
    }

    /// RFC 4180 quoting when needed; NULL is an empty field and the empty string is `""`.
    func field(_ s: String) -> String {
        if s.isEmpty { return "\"\"" }
        if s.contains(where: { $0 == delimiter || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || s.first == " " || s.last == " " {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    func write(_ row: [Value]) throws {
        var line = ""
        for (i, v) in row.enumerated() {
            if i > 0 { line.append(delimiter) }
            if let t = v.textValue { line += field(t) }
        }
        line += "\n"
        try sink.write(line)
    }

    func close() throws { try sink.close() }
}

final class JSONFileWriter: RowFileWriter {
    let sink: FileSink
    let columns: [String]
    let lines: Bool
    var count = 0
    init(path: String, columns: [String], ndjson: Bool) throws {
        sink = try FileSink(path: path)
        self.columns = columns
        self.lines = ndjson
        if !ndjson { try sink.write("[") }
    }

    func write(_ row: [Value]) throws {
        let obj = JSON.object(zip(columns, row).map { ($0, JSON($1)) }).compact
        if lines {
            try sink.write(obj + "\n")
        } else {
            try sink.write((count == 0 ? "\n" : ",\n") + obj)
        }
        count += 1
    }

    func close() throws {
        if !lines { try sink.write(count == 0 ? "]\n" : "\n]\n") }
        try sink.close()
    }
}

/// The integrated table's rows in order, for target connectors.
final class TableCursor: RawRowCursor {
    let columns: [String]
    private let st: SQLiteStatement
    init(db: SQLiteDatabase, table: String, columns: [String]) throws {
        self.columns = columns
        st = try db.prepare("SELECT \(columns.map(sqlIdent).joined(separator: ", ")) FROM \(sqlIdent(table)) ORDER BY \(try OutputPublisher.order(db, table))")
    }
    func next() throws -> [Value]? {
        guard try st.step() else { return nil }
        return (0..<columns.count).map(st.column)
    }
    func advance() throws -> Bool { try st.step() }
    func field(_ i: Int) -> RawField { st.rawColumn(i) }
}

/// Publishes the integrated table to one output: a file, a partitioned directory, or a SQLite table.
struct OutputPublisher {
    let db: SQLiteDatabase
    let table: String
    let columns: [String]

    /// The row order of the integrated table: rowid, or the `__order` column of a view.
    static func order(_ db: SQLiteDatabase, _ table: String) throws -> String {
        try db.isView(table) ? sqlIdent(KeyIntegrator.order) : "rowid"
    }

    /// Writes the output; returns the path written (file, directory, or `sqlite:///path?table=`).
    func publish(_ out: OutputSpec) throws -> (path: String, rows: Int) {
        switch out.format {
        case .sqlite: return try sqlite(out)
        case .csv, .tsv, .json, .ndjson: return try files(out)
        default:
            guard let connector = ConnectorRegistry.shared.target(out.format) else {
                throw AurumError(.output, "output format '\(out.format.rawValue)' is not supported by this build", at: out.location)
            }
            if let fileFormat = connector as? FileFormatConnector { return try files(out, fileFormat) }
            let cursor = try TableCursor(db: db, table: table, columns: columns)
            return try connector.write(out, rows: cursor)
        }
    }

    func makeWriter(_ format: OutputFormat, _ path: String, _ fileFormat: FileFormatConnector? = nil,
                            _ out: OutputSpec? = nil, _ profile: () throws -> [OutputColumn] = { [] }) throws -> RowFileWriter {
        if let fileFormat, let out { return try fileFormat.makeWriter(out, path: path, columns: try profile()) }
        switch format {
        case .csv: return try CSVFileWriter(path: path, columns: columns)
        case .tsv: return try CSVFileWriter(path: path, columns: columns, delimiter: "\t")
        case .json: return try JSONFileWriter(path: path, columns: columns, ndjson: false)
        default: return try JSONFileWriter(path: path, columns: columns, ndjson: true)
        }
    }

    /// What each output column holds over the whole table (for formats that declare column types).
    func columnProfile() throws -> [OutputColumn] {
        guard !columns.isEmpty else { return [] }
        let kinds = try db.query("SELECT \(columns.map { "group_concat(DISTINCT typeof(\(sqlIdent($0))))" }.joined(separator: ", ")) FROM \(sqlIdent(table))")[0]
        return zip(columns, kinds).map { c, k in
            let set = Set((k.textValue ?? "").split(separator: ",").map(String.init))
            return OutputColumn(name: c, kinds: set.subtracting(["null"]), hasNulls: set.contains("null"))
        }
    }

    private func files(_ out: OutputSpec, _ fileFormat: FileFormatConnector? = nil) throws -> (path: String, rows: Int) {
        var cachedProfile: [OutputColumn]? = nil
        let profile = { () throws -> [OutputColumn] in
            if let p = cachedProfile { return p }
            let p = try self.columnProfile()
            cachedProfile = p
            return p
        }
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let ext = out.format.fileExtension
        let list = columns.map(sqlIdent).joined(separator: ", ")
        if let part = out.partition {
            guard let pcol = columns.first(where: { $0.lowercased() == part.column.lowercased() }) else {
                throw AurumError(.output, "partition column '\(part.column)' is not an output column",
                                 at: "\(out.location).partitioning",
                                 hint: suggestion(part.column, columns).map { "did you mean '\($0)'?" } ?? "columns: \(columns.joined(separator: ", "))")
            }
            let dest = out.path.hasSuffix("/") ? String(out.path.dropLast()) : out.path
            Self.removeLeftovers(of: dest)
            let tmp = dest + ".aurum-tmp-\(getpid())"
            try? fm.removeItem(atPath: tmp)
            try createDirectory(tmp)
            let st = try db.prepare("SELECT \(sqlIdent(pcol)), \(list) FROM \(sqlIdent(table)) ORDER BY \(partitionOrder(part, pcol)), \(try Self.order(db, table))")
            var current: [String]? = nil
            var writer: RowFileWriter? = nil
            var rows = 0
            do {
                while try st.step() {
                    let segs = PartitionPath.segments(part, st.column(0))
                    if segs != current {
                        try writer?.close()
                        FaultPoints.hit("output.partition")
                        let dir = try PartitionPath.directory(root: tmp, segs)
                        try createDirectory(dir)
                        writer = try makeWriter(out.format, dir + "/part-00000.\(ext)", fileFormat, out, profile)
                        current = segs
                    }
                    try writer!.write((1...columns.count).map(st.column))
                    rows += 1
                }
                try writer?.close()
            } catch {
                try? writer?.close()
                try? fm.removeItem(atPath: tmp)
                throw error
            }
            try replace(dest, with: tmp)
            return (dest, rows)
        }
        var path = out.path
        if path.hasSuffix("/") || (fm.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue) {
            path = (path.hasSuffix("/") ? String(path.dropLast()) : path) + "/integrated.\(ext)"
        }
        try createDirectory((path as NSString).deletingLastPathComponent)
        Self.removeLeftovers(of: path)
        let tmp = path + ".aurum-tmp-\(getpid())"
        let writer = try makeWriter(out.format, tmp, fileFormat, out, profile)
        var rows = 0
        do {
            let st = try db.prepare("SELECT \(list) FROM \(sqlIdent(table)) ORDER BY \(try Self.order(db, table))")
            while try st.step() {
                try writer.write((0..<columns.count).map(st.column))
                FaultPoints.hit("output.file-row")
                rows += 1
            }
            try writer.close()
            FaultPoints.hit("output.file-written")
        } catch {
            try? writer.close()
            try? fm.removeItem(atPath: tmp)
            throw error
        }
        try replace(path, with: tmp)
        return (path, rows)
    }

    /// Sort key that groups rows of one partition together (in SQL, so rows stream in order).
    func partitionOrder(_ p: PartitionSpec, _ col: String) -> String {
        switch p.type {
        case .category: return "CAST(\(sqlIdent(col)) AS TEXT)"
        case .date: return "parse_date(CAST(\(sqlIdent(col)) AS TEXT))"
        case .hash: return "aurum_bucket(\(sqlIdent(col)), \(p.buckets))"
        }
    }

    func createDirectory(_ dir: String) throws {
        guard !dir.isEmpty else { return }
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw AurumError(.output, "cannot create directory: \(error.localizedDescription)", at: dir)
        }
    }

    /// Removes what killed writers left beside `path`: `NAME.aurum-tmp-PID` (a half-written file or
    /// partition set) and `NAME.aurum-old-PID` (a replaced output), of processes that are gone.
    static func removeLeftovers(of path: String) {
        let fm = FileManager.default
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path, name = url.lastPathComponent
        guard let entries = try? fm.contentsOfDirectory(atPath: dir) else { return }
        for e in entries {
            for marker in [".aurum-tmp-", ".aurum-old-"] where e.hasPrefix(name + marker) {
                guard let pid = Int32(e.dropFirst(name.count + marker.count)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
                try? fm.removeItem(atPath: dir + "/" + e)
            }
        }
    }

    /// Moves `tmp` into place at `path`, replacing what was there, so that a reader — or a kill at
    /// any moment — sees the previous output or the new one, never neither: a file by rename(2),
    /// which replaces its target atomically; a directory (a partition set) by exchanging the two
    /// (renameat2 RENAME_EXCHANGE), then removing the old one. Where exchanging is not available
    /// (or a file replaces a directory, or the reverse), the old output is moved aside first
    /// (`NAME.aurum-old-PID`, removed by the next write).
    func replace(_ path: String, with tmp: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
            guard rename(tmp, path) == 0 else {
                throw AurumError(.output, "cannot move the output into place: \(String(cString: strerror(errno)))", at: path)
            }
            return
        }
        var tmpIsDir: ObjCBool = false
        _ = fm.fileExists(atPath: tmp, isDirectory: &tmpIsDir)
        if !isDir.boolValue && !tmpIsDir.boolValue {
            guard rename(tmp, path) == 0 else {
                throw AurumError(.output, "cannot replace the previous output: \(String(cString: strerror(errno)))", at: path)
            }
            return
        }
        if isDir.boolValue && tmpIsDir.boolValue && exchangePaths(tmp, path) {
            FaultPoints.hit("output.replace")
            try? fm.removeItem(atPath: tmp)
            return
        }
        let old = path + ".aurum-old-\(getpid())"
        try? fm.removeItem(atPath: old)
        do {
            try fm.moveItem(atPath: path, toPath: old)
            FaultPoints.hit("output.replace")
            try fm.moveItem(atPath: tmp, toPath: path)
        } catch {
            throw AurumError(.output, "cannot replace the previous output: \(error.localizedDescription)", at: path)
        }
        try? fm.removeItem(atPath: old)
    }

    private func sqlite(_ out: OutputSpec) throws -> (path: String, rows: Int) {
        let name = out.table ?? "integrated"
        try createDirectory((out.path as NSString).deletingLastPathComponent)
        let target: SQLiteDatabase
        do { target = try SQLiteDatabase(path: out.path) } catch { throw AurumError(.output, "\(error)", at: out.path) }
        defer { target.close() }
        let list = columns.map(sqlIdent).joined(separator: ", ")
        // Declared types follow what the column holds, when it holds one kind of value.
        let kinds = try db.query("SELECT \(columns.map { "group_concat(DISTINCT typeof(\(sqlIdent($0))))" }.joined(separator: ", ")) FROM \(sqlIdent(table))")[0]
        let decls = zip(columns, kinds).map { c, k -> String in
            let set = Set((k.textValue ?? "").split(separator: ",").map(String.init)).subtracting(["null"])
            let t: String
            if set == ["integer"] { t = " INTEGER" } else if set == ["real"] || set == ["integer", "real"] { t = " REAL" } else if set == ["text"] { t = " TEXT" } else { t = "" }
            return sqlIdent(c) + t
        }
        var rows = 0
        do {
            try target.transaction {
                try target.execute("DROP TABLE IF EXISTS \(sqlIdent(name))")
                try target.execute("CREATE TABLE \(sqlIdent(name)) (\(decls.joined(separator: ", ")))")
                let ins = try target.prepare("INSERT INTO \(sqlIdent(name)) (\(list)) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))")
                let st = try db.prepare("SELECT \(list) FROM \(sqlIdent(table)) ORDER BY \(try Self.order(db, table))")
                while try st.step() {
                    for i in 0..<columns.count { try ins.bind(st.column(i), at: Int32(i + 1)) }
                    try ins.step()
                    ins.reset()
                    FaultPoints.hit("output.sqlite-row")
                    rows += 1
                }
                FaultPoints.hit("output.sqlite-written")
            }
        } catch let e as AurumError {
            throw e
        } catch {
            throw AurumError(.output, "\(error)", at: "\(out.path) (table \(name))")
        }
        return ("sqlite:///\(out.path)?table=\(name)", rows)
    }
}

#if os(Linux)
/// renameat2(2), looked up at run time: Glibc's Swift module leaves it out (it needs _GNU_SOURCE).
private let renameat2Call: (@convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32)? = {
    guard let symbol = dlsym(nil, "renameat2") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32).self)
}()
#endif

/// Swaps two existing paths atomically (Linux renameat2 with RENAME_EXCHANGE); false when the
/// system or file system cannot.
func exchangePaths(_ a: String, _ b: String) -> Bool {
    #if os(Linux)
    let renameExchange: UInt32 = 1 << 1
    guard let call = renameat2Call else { return false }
    return call(AT_FDCWD, a, AT_FDCWD, b, renameExchange) == 0
    #else
    return false
    #endif
}
