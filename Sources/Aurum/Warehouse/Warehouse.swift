import Foundation

/// The staging warehouse: one SQLite file (WAL) holding snapshots, quarantine, lineage and the run ledger.
///
/// Its schema comes from the numbered files in `migrations/` (embedded in the binary), applied in
/// order at open, each in one transaction with its ledger entry. A warehouse written by a newer
/// Aurum is refused.
public final class Warehouse: @unchecked Sendable {
    public let db: SQLiteDatabase
    public let path: String

    /// The schema version this binary writes.
    public static var schemaVersion: Int { EmbeddedMigrations.all.last?.version ?? 0 }

    /// Opens (creating and migrating when needed) the warehouse at `path`, with Aurum's SQL
    /// functions registered using `functions` (the catalog's defaults).
    public init(path: String, functions: FunctionSettings = .init()) throws {
        self.path = path
        do {
            db = try SQLiteDatabase(path: path)
            try db.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY")
            db.persistWAL()
            try db.execute("PRAGMA journal_size_limit = \(Self.keptWAL)")
            try SQLFunctionLibrary.register(on: db, settings: functions)
            try migrate()
        } catch let e as AurumError {
            throw e
        } catch {
            throw AurumError(.warehouse, "\(error)", at: path)
        }
    }

    /// The WAL file is kept between runs, up to this size (PostgreSQL's `max_wal_size` default),
    /// like PostgreSQL recycles its WAL segments: a run writes its WAL over the blocks of the last
    /// one instead of having the file system allocate and zero new ones (writing a 4,120-byte
    /// frame into a new block zeroes the rest of it: on this machine a fresh WAL made an
    /// incremental run 1–1.6 s slower, all of it system time). SQLite truncates the WAL to this
    /// size when a commit starts it over (`journal_size_limit`).
    static let keptWAL = 1 << 30

    /// Whether this connection began a run (`beginRun`): only then does `close` write.
    private var ranRun = false

    /// Closes the warehouse, leaving its WAL for the next open to write over. After a run, the
    /// WAL is checkpointed and a last write (the unchanged `user_version`) starts it over, so new
    /// salts keep the next open's recovery from reading its old frames, and truncates it to
    /// `keptWAL`; the file is then kept. A command that began no run writes nothing here. Nothing
    /// here waits: when another connection is busy, the WAL is left as it is.
    public func close() {
        guard !db.isClosed else { return }
        try? db.execute("PRAGMA busy_timeout = 0")
        if ranRun, let r = try? db.query("PRAGMA wal_checkpoint(PASSIVE)").first, r.count == 3,
           r[0] == .integer(0), r[1] == r[2],
           let version = try? db.scalar("PRAGMA user_version"), case .integer(let v) = version,
           (try? db.execute("BEGIN IMMEDIATE; PRAGMA user_version = \(v); COMMIT")) != nil {
            _ = try? db.query("PRAGMA wal_checkpoint(PASSIVE)")
        }
        try? db.execute("ROLLBACK")
        try? db.execute("PRAGMA journal_size_limit = -1")
        db.close()
    }

    private func migrate() throws {
        try db.execute("CREATE TABLE IF NOT EXISTS aurum_schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        let current = Int(try db.scalar("SELECT max(version) FROM aurum_schema_version")?.doubleValue ?? 0)
        if current > Warehouse.schemaVersion {
            throw AurumError(.warehouse,
                             "warehouse schema version \(current) is newer than this aurum supports (\(Warehouse.schemaVersion))",
                             at: path, hint: "upgrade aurum, or point --warehouse at another file")
        }
        // Every migration not yet recorded, in order (not only those above the highest applied:
        // numbers can be taken out of order by work that lands separately).
        let applied = Set(try db.query("SELECT version FROM aurum_schema_version").compactMap { $0[0].doubleValue.map(Int.init) })
        for m in EmbeddedMigrations.all where !applied.contains(m.version) {
            try db.transaction {
                // Checked again under the write lock: another process opening a new warehouse at
                // the same instant may have applied it since.
                guard try db.scalar("SELECT 1 FROM aurum_schema_version WHERE version = ?", [.integer(Int64(m.version))]) == nil else { return }
                try db.execute(m.sql)
                try db.run("INSERT INTO aurum_schema_version(version, name, applied_at) VALUES (?, ?, ?)",
                           [.integer(Int64(m.version)), .text(m.name), .text(Timestamp.now())])
                FaultPoints.hit("warehouse.migration")
            }
        }
    }

    public var appliedVersion: Int {
        get throws { Int(try db.scalar("SELECT max(version) FROM aurum_schema_version")?.doubleValue ?? 0) }
    }

    // MARK: Run ledger

    /// Starts a run; refuses when another live process is running the same warehouse. A run
    /// left 'running' by a process that is gone (killed, or its pid now another program's) is
    /// marked failed, "interrupted", with its open steps.
    ///
    /// Race-free: the check and the new run's row are one write transaction (BEGIN IMMEDIATE), so
    /// of two processes starting at once the second sees the first's row. The check is also made
    /// before waiting for the write lock, so a run holding a long transaction is named at once.
    public func beginRun(catalog: String, command: String) throws -> Int64 {
        if let live = try liveRun() { throw refusal(live) }
        let id = try db.transaction {
            if let live = try liveRun() { throw refusal(live) }
            for row in try db.query("SELECT run_id FROM runs WHERE status = 'running'") {
                try db.run("UPDATE runs SET status = 'failed', ended_at = ?, error = 'interrupted (process ended before finishing)' WHERE run_id = ?",
                           [.text(Timestamp.now()), row[0]])
                try db.run("UPDATE run_steps SET status = 'failed', error = 'interrupted' WHERE run_id = ? AND status = 'running'", [row[0]])
            }
            try db.run("INSERT INTO runs(catalog, command, started_at, status, pid) VALUES (?, ?, ?, 'running', ?)",
                       [.text(catalog), .text(command), .text(Timestamp.now()), .integer(Int64(getpid()))])
            return db.lastInsertRowID
        }
        ranRun = true
        return id
    }

    /// A run marked 'running' whose process is alive: the pid exists, is not this process, and
    /// (where the system says) started before the run did, so a reused pid does not count.
    private func liveRun() throws -> (run: Int64, pid: Int32)? {
        for row in try db.query("SELECT run_id, pid, started_at FROM runs WHERE status = 'running'") {
            let pid = Int32(row[1].doubleValue ?? 0)
            guard pid > 0, pid != getpid(), kill(pid, 0) == 0 || errno == EPERM else { continue }
            if let began = row[2].textValue.flatMap(Timestamp.parse), let started = ProcessStart.of(pid),
               started > began.addingTimeInterval(5) { continue }
            return (Int64(row[0].doubleValue ?? 0), pid)
        }
        return nil
    }

    private func refusal(_ live: (run: Int64, pid: Int32)) -> AurumError {
        AurumError(.warehouse, "run \(live.run) is still in progress (process \(live.pid)) on this warehouse",
                   at: path, hint: "wait for it to finish; concurrent runs of one warehouse are refused")
    }

    public func endRun(_ run: Int64, error: String?, report: String?) throws {
        try db.run("UPDATE runs SET status = ?, ended_at = ?, error = ?, report = ? WHERE run_id = ?",
                   [.text(error == nil ? "succeeded" : "failed"), .text(Timestamp.now()),
                    error.map(Value.text) ?? .null, report.map(Value.text) ?? .null, .integer(run)])
    }

    public func beginStep(_ run: Int64, _ name: String, recordsIn: Int? = nil) throws -> Int {
        let next = Int(try db.scalar("SELECT coalesce(max(step_no), 0) + 1 FROM run_steps WHERE run_id = ?", [.integer(run)])?.doubleValue ?? 1)
        try db.run("INSERT INTO run_steps(run_id, step_no, name, started_at, records_in, status) VALUES (?, ?, ?, ?, ?, 'running')",
                   [.integer(run), .integer(Int64(next)), .text(name), .text(Timestamp.now()),
                    recordsIn.map { .integer(Int64($0)) } ?? .null])
        return next
    }

    public func endStep(_ run: Int64, _ step: Int, recordsIn: Int? = nil, recordsOut: Int?, error: String? = nil) throws {
        try db.run("""
            UPDATE run_steps SET ended_at = ?, records_in = coalesce(?, records_in), records_out = ?, status = ?, error = ?
            WHERE run_id = ? AND step_no = ?
            """,
                   [.text(Timestamp.now()), recordsIn.map { .integer(Int64($0)) } ?? .null,
                    recordsOut.map { .integer(Int64($0)) } ?? .null,
                    .text(error == nil ? "succeeded" : "failed"), error.map(Value.text) ?? .null,
                    .integer(run), .integer(Int64(step))])
    }

    // MARK: Watermarks

    /// The watermark an incremental source resumes from: the value recorded by the latest
    /// succeeded run that read `column`, or nil.
    public func watermark(source: String, column: String) throws -> String? {
        try Watermarks.latest(db, source: source, column: column)
    }

    // MARK: Quarantine and counts

    public func quarantine(run: Int64, source: String, step: String, line: Int?, rule: String, reason: String, raw: String?) throws {
        try db.run("INSERT INTO quarantine(run_id, source, step, line, rule, reason, raw) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [.integer(run), .text(source), .text(step), line.map { .integer(Int64($0)) } ?? .null,
                    .text(rule), .text(reason), raw.map(Value.text) ?? .null])
    }

    public func addQualityCount(run: Int64, source: String, check: String, rule: String, count: Int) throws {
        guard count > 0 else { return }
        try db.run("""
            INSERT INTO quality_counts(run_id, source, check_name, rule, count) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(run_id, source, check_name, rule) DO UPDATE SET count = count + excluded.count
            """, [.integer(run), .text(source), .text(check), .text(rule), .integer(Int64(count))])
    }
}

/// Timestamps as the warehouse stores them: UTC, ISO 8601 with milliseconds.
public enum Timestamp {
    public static func now() -> String { format(Date()) }
    public static func format(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }
    public static func parse(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: s)
    }
}

/// When a process started (Linux: /proc/PID/stat field 22, in clock ticks after /proc/stat's
/// btime); nil where the system does not say.
enum ProcessStart {
    static func of(_ pid: Int32) -> Date? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may hold spaces) start at field 3.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]), let boot = bootTime else { return nil }
        return Date(timeIntervalSince1970: boot + ticks / Double(sysconf(Int32(_SC_CLK_TCK))))
    }

    static let bootTime: Double? = {
        guard let s = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        return s.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap { Double($0.dropFirst(6)) }
    }()
}

/// Quotes an SQL identifier.
@inline(__always)
public func sqlIdent(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
