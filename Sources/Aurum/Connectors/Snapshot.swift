import Foundation

/// Reads each source as a stream and stages it; every row read is staged or quarantined.
enum Snapshotter {
    /// `nullTokens`: the null check's tokens when it is on (CSV/TSV columns are typed as the
    /// transform reads them: a token is no value), else nil. `configure` sets up the staging
    /// writer before the first row (the streamed load's batch hand-over).
    static func snapshot(_ source: SourceSpec, into db: SQLiteDatabase, run: Int64, nullTokens: [String]? = nil,
                         progress: @escaping (Int) -> Void = { _ in },
                         configure: (StagingWriter) -> Void = { _ in }) throws -> SnapshotResult {
        let writer = try StagingWriter(db: db, source: source, run: run)
        // Staging commits its load table in chunks (`StagingWriter.commitsInChunks`); the WAL is
        // checkpointed when it passes 32 MiB (the default is 4 MiB): a tenth of the checkpoints and
        // their fsyncs, and the WAL still starts over after each one, so its pages are reused. (A
        // checkpoint on a thread of its own, tried, never lets the WAL start over while staging
        // writes on, and the growing WAL cost more than it saved.)
        try db.execute("PRAGMA wal_autocheckpoint = 8192")
        defer { try? db.execute("PRAGMA wal_autocheckpoint = 1000") }
        writer.progress = progress
        writer.nullTokens = nullTokens
        configure(writer)
        do {
            let read: Int
            switch source.type {
            case .csv, .tsv: read = try csv(source, writer)
            case .json, .ndjson: read = try json(source, writer)
            case .sqlite: read = try sqlite(source, writer)
            default:
                guard let connector = ConnectorRegistry.shared.source(source.type) else {
                    throw AurumError(.source, "source type '\(source.type.rawValue)' is not supported by this build", at: source.location)
                }
                read = try connected(connector, source, writer)
            }
            var result = try writer.finish(rowsRead: read)
            if (source.type == .csv || source.type == .tsv) && result.rowsCarried == 0 && writer.csvNumberKinds.count == result.columns.count {
                result.numberKinds = writer.csvNumberKinds
                result.numberKindTokens = nullTokens
            }
            return result
        } catch {
            writer.abort()
            throw error
        }
    }

    /// CSV: the parser runs on its own thread and hands batches to this one, which writes them.
    static func csv(_ source: SourceSpec, _ writer: StagingWriter) throws -> Int {
        var options = CSVOptions()
        options.delimiter = source.delimiter
        options.header = source.header
        options.encoding = source.encoding
        options.columns = source.columns
        let reader: CSVReader
        do {
            reader = try CSVReader(path: source.path, options: options)
        } catch {
            throw AurumError(.source, "\(error)", at: nil)
        }
        let queue = BoundedQueue<CSVBatch>(capacity: 4)
        // The first batch fixes the header, so read it here before starting the thread.
        let first = try readBatch(reader, source)
        try writer.addColumns(reader.header)
        let box = ReaderBox(reader)
        let worker = WorkerThread(name: "aurum.csv.\(source.name)") {
            do {
                while let b = try box.reader.nextBatch(maxRows: 8192) {
                    if !queue.push(b) { return }
                }
                queue.close()
            } catch {
                queue.close(error: AurumError(.source, "\(error)", at: nil))
            }
        }
        defer { queue.close(); worker.join() }
        if let first { try stage(first, writer, source) }
        while let batch = try queue.pop() { try stage(batch, writer, source) }
        worker.join()
        return reader.rowsRead
    }

    /// `@unchecked Sendable`: the reader is used by the worker thread only, after this thread's first read.
    final class ReaderBox: @unchecked Sendable {
        let reader: CSVReader
        init(_ r: CSVReader) { reader = r }
    }

    private static func readBatch(_ reader: CSVReader, _ source: SourceSpec) throws -> CSVBatch? {
        do { return try reader.nextBatch(maxRows: 8192) } catch { throw AurumError(.source, "\(error)", at: nil) }
    }

    private static func stage(_ batch: CSVBatch, _ writer: StagingWriter, _ source: SourceSpec) throws {
        try writer.write(batch)
        FaultPoints.hit("snapshot.batch")
        for p in batch.problems {
            try writer.quarantine(line: p.line, rule: "parse", reason: p.reason, raw: p.raw)
        }
    }

    static func json(_ source: SourceSpec, _ writer: StagingWriter) throws -> Int {
        var options = JSONReadOptions()
        options.layout = source.type == .ndjson ? .ndjson : .array
        options.recordPath = source.recordPath
        options.flatten = source.flatten
        let reader: JSONRecordReader
        do {
            reader = try JSONRecordReader(path: source.path, options: options)
        } catch {
            throw AurumError(.source, "\(error)", at: nil)
        }
        var index: [String: Int] = [:]
        do {
            while let item = try reader.next() {
                switch item {
                case .record(let r): try writer.write(fields: r.fields, line: r.line, columnIndex: &index)
                case .problem(let line, let reason, let raw): try writer.quarantine(line: line, rule: "parse", reason: reason, raw: raw)
                }
            }
        } catch let e as AurumError {
            throw e
        } catch let e as SQLiteError {
            throw AurumError(.warehouse, "\(e)", at: source.path)
        } catch {
            throw AurumError(.source, "\(error)", at: nil)
        }
        return reader.itemsRead
    }

    /// A source read through a registered connector. With an incremental cursor (`options.cursor`
    /// on a connector that can, and a declared key), the read resumes from the watermark of the last
    /// succeeded run (an explicit `options.watermark` overrides it) and the rows read are merged
    /// into the previous snapshot by key; the largest cursor value read is recorded for the next run.
    ///
    /// With `options.full_diff_every: N`, every Nth read is a full read instead (after N − 1
    /// incremental ones): the cursor and any watermark are ignored, the whole source is read, and
    /// the keys it no longer holds are deletes of the change set; its watermark is recorded as usual.
    static func connected(_ connector: SourceConnector, _ source: SourceSpec, _ writer: StagingWriter) throws -> Int {
        var spec = source
        var cursor: String? = nil
        if connector.capabilities.contains(.incrementalCursor), case .string(let c)? = source.options["cursor"] {
            cursor = c
            if !source.key.isEmpty {
                if let every = try fullDiffEvery(source),
                   try Watermarks.incrementalReadsSinceFullRead(writer.db, source: source.name, column: c) >= every - 1 {
                    spec.options["watermark"] = nil
                    spec.options["overlap"] = nil
                } else if spec.options["watermark"] == nil, let w = try Watermarks.latest(writer.db, source: source.name, column: c) {
                    spec.options["watermark"] = .string(w)
                }
                writer.carryOver = spec.options["watermark"] != nil
            }
        }
        let reader = try connector.open(spec)
        defer { reader.close() }
        try writer.addColumns(reader.columns)
        if let batched = reader as? BatchRowReader {
            try stageBatches(batched, source, writer)
        } else {
            try stageItems(reader, source, writer)
        }
        if let cursor {
            // Inside the snapshot's transaction: recorded only when the snapshot commits.
            try Watermarks.record(writer.db, run: writer.run, source: source.name, column: cursor,
                                  value: reader.watermark, rowsRead: reader.itemsRead, fullRead: !writer.carryOver)
        }
        return reader.itemsRead
    }

    /// Rows per `RowBatch` the reader thread hands over, and the bytes at which it hands one over early.
    static let batchRows = 4096, batchBytes = 4 << 20

    /// The fast path: the reader thread decodes rows into `RowBatch`es (bytes and hashes), this one
    /// binds them in place. Batches are recycled between the threads, so memory stays a few
    /// batches whatever the source's size.
    static func stageBatches(_ reader: BatchRowReader, _ source: SourceSpec, _ writer: StagingWriter) throws {
        let width = reader.columns.count
        let full = BoundedQueue<RowBatch>(capacity: 3)
        // At most five batches exist (three queued, one being filled, one being written), so
        // handing one back never blocks.
        let empty = BoundedQueue<RowBatch>(capacity: 8)
        let box = BatchReaderBox(reader)
        let worker = WorkerThread(name: "aurum.read.\(source.name)") {
            do {
                var more = true
                while more {
                    var b = empty.tryPop() ?? RowBatch(width: width, reservingRows: batchRows, bytes: 256 * batchRows)
                    b.removeAll()
                    more = try box.reader.nextBatch(into: &b, maxRows: batchRows, maxBytes: batchBytes)
                    if b.rowCount > 0, !full.push(b) { return }
                }
                full.close()
            } catch {
                full.close(error: error)
            }
        }
        defer { full.close(); empty.close(); worker.join() }
        while let batch = try full.pop() {
            try writer.write(batch)
            empty.push(batch)
        }
        worker.join()
    }

    /// `@unchecked Sendable`: as `RowReaderBox`.
    final class BatchReaderBox: @unchecked Sendable {
        let reader: BatchRowReader
        init(_ r: BatchRowReader) { reader = r }
    }

    static func stageItems(_ reader: RowReader, _ source: SourceSpec, _ writer: StagingWriter) throws {
        var index: [String: Int] = [:]
        for (i, c) in writer.columns.enumerated() { index[c] = i }
        // The reader (the server's protocol, decoding) runs on a thread of its own while this one
        // stages: batches of items, each with the columns the reader added while reading it.
        let queue = BoundedQueue<ReadBatch>(capacity: 4)
        let box = RowReaderBox(reader)
        let known = reader.columns.count
        let worker = WorkerThread(name: "aurum.read.\(source.name)") {
            var known = known
            do {
                var ended = false
                while !ended {
                    var b = ReadBatch()
                    b.items.reserveCapacity(ReadBatch.size)
                    while b.items.count < ReadBatch.size {
                        guard let item = try box.reader.next() else { ended = true; break }
                        b.items.append(item)
                    }
                    let columns = box.reader.columns
                    if columns.count > known { b.newColumns = Array(columns[known...]); known = columns.count }
                    if !b.items.isEmpty || !b.newColumns.isEmpty, !queue.push(b) { return }
                }
                queue.close()
            } catch {
                queue.close(error: error)
            }
        }
        defer { queue.close(); worker.join() }
        // Columns the reader added, applied before the next `.row` (rows gathered before a column
        // appeared leave it NULL). A `.fields` record adds its own new names, so columns that only
        // such records brought are not added twice.
        var pending: [String] = []
        while let batch = try queue.pop() {
            pending += batch.newColumns
            for item in batch.items {
                switch item {
                case .row(let values, let line):
                    if !pending.isEmpty {
                        try writer.addColumns(pending)
                        pending.removeAll()
                    }
                    try writer.write(values: values, line: line)
                case .fields(let fields, let line):
                    try writer.write(fields: fields, line: line, columnIndex: &index)
                case .problem(let line, let reason, let raw):
                    try writer.quarantine(line: line, rule: "parse", reason: reason, raw: raw)
                }
            }
        }
        worker.join()
    }

    /// `options.full_diff_every` of a cursor source: a whole number of reads, at least 1 (nil when not set).
    static func fullDiffEvery(_ source: SourceSpec) throws -> Int? {
        guard let v = source.options["full_diff_every"] else { return nil }
        let n: Int?
        switch v {
        case .int(let i): n = Int(i)
        case .double(let d) where d == d.rounded(): n = Int(d)
        case .string(let t): n = Int(t)
        default: n = nil
        }
        guard let n, n >= 1 else {
            throw AurumError(.invalidCatalog, "full_diff_every must be a whole number of runs, at least 1, not \(v.compact)",
                             at: "\(source.location).options.full_diff_every", hint: "e.g. full_diff_every: 24 (every 24th read is a full read)")
        }
        return n
    }

    /// Items read by a connector's reader thread, and the columns it added meanwhile.
    struct ReadBatch: Sendable {
        static let size = 1024
        var items: [RowItem] = []
        var newColumns: [String] = []
    }

    /// `@unchecked Sendable`: the reader is used by the reader thread only, from its start until
    /// it is joined; this thread touches it before the start and after the join.
    final class RowReaderBox: @unchecked Sendable {
        let reader: RowReader
        init(_ r: RowReader) { reader = r }
    }

    static func sqlite(_ source: SourceSpec, _ writer: StagingWriter) throws -> Int {
        let src: SQLiteDatabase
        do {
            src = try SQLiteDatabase(path: source.path, readOnly: true)
        } catch {
            throw AurumError(.source, "\(error)", at: source.path)
        }
        defer { src.close() }
        let q = source.query ?? ""
        let sql = q.range(of: #"^[A-Za-z_][A-Za-z0-9_]*$"#, options: .regularExpression) != nil
            ? "SELECT * FROM \(sqlIdent(q))" : q
        let st: SQLiteStatement
        do {
            st = try src.prepare(sql)
        } catch {
            throw AurumError(.source, "query failed: \(error)", at: "\(source.path) (\(source.location).query)")
        }
        if !st.tail.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ";"))).isEmpty {
            throw AurumError(.source, "the query holds more than one statement", at: "\(source.location).query")
        }
        try writer.addColumns((0..<st.columnCount).map(st.columnName))
        var n = 0
        do {
            while try st.step() {
                n += 1
                try writer.write(values: st.row(), line: n)
            }
        } catch let e as SQLiteError {
            throw AurumError(.source, "reading row \(n + 1): \(e.message)", at: source.path)
        }
        return n
    }
}

/// The `watermarks` table: the largest cursor value each run read from an incremental source.
enum Watermarks {
    /// The value recorded by the latest succeeded run that read `column` of `source` (a failed
    /// run's value is never used), or nil.
    static func latest(_ db: SQLiteDatabase, source: String, column: String) throws -> String? {
        try db.query("""
            SELECT w.value FROM watermarks w JOIN runs r ON r.run_id = w.run_id
            WHERE w.source = ? AND w.column_name = ? AND r.status = 'succeeded' AND w.value IS NOT NULL
            ORDER BY w.run_id DESC LIMIT 1
            """, [.text(source), .text(column)]).first?.first?.textValue
    }

    /// Records what a run read (the value it resumes from when it read nothing new; nil when it
    /// never had one and read no rows).
    /// `fullRead`: the run read the whole source (no watermark), so its snapshot diffed every key.
    static func record(_ db: SQLiteDatabase, run: Int64, source: String, column: String, value: String?, rowsRead: Int,
                       fullRead: Bool) throws {
        try db.run("INSERT OR REPLACE INTO watermarks(source, run_id, column_name, value, rows_read, recorded_at, full_read) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [.text(source), .integer(run), .text(column), value.map(Value.text) ?? .null,
                    .integer(Int64(rowsRead)), .text(Timestamp.now()), .integer(fullRead ? 1 : 0)])
    }

    /// How many reads of `column` of `source` since its last full read were incremental (every
    /// recorded read when no full one is known). A read is recorded with its snapshot, so a read
    /// whose run failed later counts: its snapshot was kept.
    static func incrementalReadsSinceFullRead(_ db: SQLiteDatabase, source: String, column: String) throws -> Int {
        Int(try db.scalar("""
            SELECT count(*) FROM watermarks WHERE source = ?1 AND column_name = ?2 AND coalesce(full_read, 0) = 0
              AND run_id > coalesce((SELECT max(run_id) FROM watermarks WHERE source = ?1 AND column_name = ?2 AND full_read = 1), 0)
            """, [.text(source), .text(column)])?.doubleValue ?? 0)
    }
}
