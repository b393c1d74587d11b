import Foundation
import Testing
@testable import Aurum

@Suite struct WarehouseTests {
    @Test func migrationsApplyAndRecordTheVersion() throws {
        let dir = TempDir()
        let w = try Warehouse(path: dir.file("w.db"))
        #expect(try w.appliedVersion == Warehouse.schemaVersion)
        #expect(try w.db.scalar("PRAGMA journal_mode")?.textValue == "wal")
        for t in ["runs", "run_steps", "sources", "snapshots", "quarantine", "quality_counts", "column_lineage"] {
            #expect(try w.db.tableExists(t), "table \(t)")
        }
        w.close()
        // Opening again applies nothing twice.
        let again = try Warehouse(path: dir.file("w.db"))
        #expect(try again.db.scalar("SELECT count(*) FROM aurum_schema_version")?.doubleValue == Double(EmbeddedMigrations.all.count))
        again.close()
    }

    @Test func aNewerWarehouseIsRefused() throws {
        let dir = TempDir()
        let w = try Warehouse(path: dir.file("w.db"))
        try w.db.run("INSERT INTO aurum_schema_version VALUES (999, 'future', 'x')")
        w.close()
        #expect {
            try Warehouse(path: dir.file("w.db"))
        } throws: { error in
            "\(error)".contains("schema version 999 is newer than this aurum supports")
        }
    }

    /// The binary ships its migrations; this fails when EmbeddedMigrations.swift is stale.
    @Test func embeddedMigrationsMatchTheMigrationsFolder() throws {
        let folder = Repo.root + "/migrations"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files.count == EmbeddedMigrations.all.count, "run scripts/embed-migrations.sh")
        for (file, m) in zip(files, EmbeddedMigrations.all) {
            let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
            #expect(file == m.name + ".sql")
            #expect(text.trimmingCharacters(in: .newlines) == m.sql.trimmingCharacters(in: .newlines), "\(file) differs: run scripts/embed-migrations.sh")
        }
    }

    @Test func runLedgerRecordsStepsAndRefusesAConcurrentRun() throws {
        let dir = TempDir()
        let w = try Warehouse(path: dir.file("w.db"))
        let run = try w.beginRun(catalog: "c.yaml", command: "run")
        let s = try w.beginStep(run, "snapshot:crm")
        try w.endStep(run, s, recordsIn: 10, recordsOut: 9)
        try w.endRun(run, error: nil, report: "{}")
        let row = try w.db.query("SELECT name, records_in, records_out, status FROM run_steps WHERE run_id = ?", [.integer(run)])[0]
        #expect(row == [.text("snapshot:crm"), .integer(10), .integer(9), .text("succeeded")])
        // A run left 'running' by a live process (here: pid 1) blocks a new one.
        try w.db.run("INSERT INTO runs(catalog, command, started_at, status, pid) VALUES ('c', 'run', 'x', 'running', 1)")
        #expect { try w.beginRun(catalog: "c.yaml", command: "run") } throws: { "\($0)".contains("still in progress") }
        // One left by a dead process is marked failed and the new run goes ahead.
        try w.db.run("UPDATE runs SET pid = 999999999 WHERE status = 'running'")
        let next = try w.beginRun(catalog: "c.yaml", command: "run")
        #expect(next > run)
        #expect(try w.db.scalar("SELECT count(*) FROM runs WHERE error LIKE 'interrupted%'")?.doubleValue == 1)
        w.close()
    }
}
