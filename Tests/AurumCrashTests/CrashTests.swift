import Foundation
import Testing
@testable import Aurum
import AurumPostgres

/// The SIGKILL crash harness: the built `aurum` is killed at every named fault point (and at random
/// moments), run again to completion, and the warehouse and every target must then equal those of
/// a run that was never interrupted — no duplicates, nothing missing, no orphan rows, no leftovers.
@Suite(.enabled(if: Servers.pg, "PostgreSQL server not reachable (set CI=true to fail instead)"))
struct CrashTests {
    struct References {
        var first: WorldState
        /// The first run, then a run over the same data.
        var twice: WorldState
        var second: WorldState
        /// Wall-clock seconds of the uninterrupted first and second runs (for the random kills).
        var seconds: (first: Double, second: Double)
    }

    /// The uninterrupted run and the run after it with the change set, computed once.
    static let references: Result<References, HarnessFailure> = {
        do {
            let w = try World()
            let t0 = Date()
            try w.runToCompletion("reference run 1")
            let s1 = Date().timeIntervalSince(t0)
            let p1 = try Soundness.problems(w, killedRun: nil)
            guard p1.isEmpty else { throw HarnessFailure("the reference's first run is not sound: \(p1)") }
            let first = try WorldState.capture(w)
            let again = try World()
            try again.runToCompletion("reference run 1 of two")
            try again.runToCompletion("reference run 2 of two")
            let twice = try WorldState.capture(again)
            w.write(changed: true)
            let t1 = Date()
            try w.runToCompletion("reference run 2")
            let s2 = Date().timeIntervalSince(t1)
            let p2 = try Soundness.problems(w, killedRun: nil)
            guard p2.isEmpty else { throw HarnessFailure("the reference's second run is not sound: \(p2)") }
            let second = try WorldState.capture(w)
            guard first != second else { throw HarnessFailure("the change set changed nothing") }
            return .success(References(first: first, twice: twice, second: second, seconds: (s1, s2)))
        } catch let e as HarnessFailure {
            return .failure(e)
        } catch {
            return .failure(HarnessFailure("\(error)"))
        }
    }()

    /// The run died by SIGKILL, at the point (its last words name it).
    func expectKilled(_ r: Launch.Result, at p: CrashPoint, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try #require(r.killedBySIGKILL, "\(p.setting): expected death by SIGKILL, got \(r.how) — is the point reached? \(r.stderr)",
                     sourceLocation: sourceLocation)
        #expect(r.stderr.contains("aurum: killed at fault point \(p.name) (hit \(p.hit))"), "\(r.stderr)", sourceLocation: sourceLocation)
    }

    /// The world is sound and equals the reference.
    func expectSame(_ w: World, as reference: WorldState, killedRun: Int64?, _ what: String,
                    sourceLocation: SourceLocation = #_sourceLocation) throws {
        let problems = try Soundness.problems(w, killedRun: killedRun)
        #expect(problems.isEmpty, "\(what): \(problems.joined(separator: "; "))", sourceLocation: sourceLocation)
        let differences = try WorldState.capture(w).differences(from: reference)
        #expect(differences.isEmpty, "\(what): differs from the uninterrupted run:\n\(differences.joined(separator: "\n"))",
                sourceLocation: sourceLocation)
    }

    /// The id of the run that did not succeed (the killed one), if it reached the ledger.
    func unfinishedRun(_ w: World) throws -> Int64? {
        guard FileManager.default.fileExists(atPath: w.warehouse) else { return nil }
        let db = try SQLiteDatabase(path: w.warehouse, readOnly: true)
        defer { db.close() }
        guard try db.tableExists("runs") else { return nil }
        let ids = try db.query("SELECT run_id FROM runs WHERE status <> 'succeeded'").compactMap { r -> Int64? in
            if case .integer(let i) = r[0] { return i }
            return nil
        }
        return ids.count == 1 ? ids[0] : nil
    }

    @Test(.timeLimit(.minutes(3)), arguments: CrashPoints.firstRun)
    func killedInTheFirstRun(_ point: CrashPoint) throws {
        let reference = try Self.references.get()
        let w = try World()
        try expectKilled(try w.start(killAt: point.setting).wait(), at: point)
        let whole = try WorldState.capture(w).wholeTargetProblems(previous: nil, next: reference.first)
        #expect(whole.isEmpty, "\(point.setting), after the kill: \(whole.joined(separator: "; "))")
        try w.runToCompletion("the run after the kill")
        if point.afterEnd {
            try expectSame(w, as: reference.twice, killedRun: nil, point.setting)
        } else {
            try expectSame(w, as: reference.first, killedRun: point.ledger ? 1 : nil, point.setting)
        }
    }

    @Test(.timeLimit(.minutes(3)), arguments: CrashPoints.secondRun)
    func killedInTheRunThatAppliesAChangeSet(_ point: CrashPoint) throws {
        let reference = try Self.references.get()
        let w = try World()
        try w.runToCompletion("the first run")
        w.write(changed: true)
        try expectKilled(try w.start(killAt: point.setting).wait(), at: point)
        let whole = try WorldState.capture(w).wholeTargetProblems(previous: reference.first, next: reference.second)
        #expect(whole.isEmpty, "\(point.setting), after the kill: \(whole.joined(separator: "; "))")
        try w.runToCompletion("the run after the kill")
        try expectSame(w, as: reference.second, killedRun: point.ledger ? 2 : nil, point.setting)
    }

    /// SIGKILL from outside after a seeded random delay within 70% of the uninterrupted run's duration,
    /// in the first run and in the change-set run. AURUM_CRASH_SEED picks another sequence.
    @Test(.timeLimit(.minutes(3)))
    func killedAtRandomMoments() throws {
        let reference = try Self.references.get()
        let seed = UInt64(ProcessInfo.processInfo.environment["AURUM_CRASH_SEED"] ?? "") ?? 0xA0_2026
        var random = SplitMix64(state: seed)
        var interrupted = 0
        let trials = [(second: false, n: 6), (second: true, n: 4)]
        for (second, n) in trials {
            for i in 0..<n {
                let w = try World()
                if second {
                    try w.runToCompletion("the first run")
                    w.write(changed: true)
                }
                let span = second ? reference.seconds.second : reference.seconds.first
                let delay = 0.02 + Double(random.next() % 1000) / 1000 * span * 0.7
                let run = try w.start()
                Thread.sleep(forTimeInterval: delay)
                kill(run.pid, SIGKILL)
                let r = run.wait()
                let what = "seed \(seed), \(second ? "change-set run" : "first run") kill \(i + 1) after \(String(format: "%.3f", delay)) s"
                if !r.killedBySIGKILL {
                    #expect(r.exitedNormally && r.status == 0, "\(what): \(r.how) \(r.stderr)")
                }
                let expected = second ? reference.second : reference.first
                let whole = try WorldState.capture(w).wholeTargetProblems(previous: second ? reference.first : nil, next: expected)
                #expect(whole.isEmpty, "\(what), after the kill: \(whole.joined(separator: "; "))")
                let runs = try Ledger(w).runs()
                if runs.count == (second ? 2 : 1) && runs.last?.status == "succeeded" {
                    // The kill came after the run's end: nothing to run again.
                    try expectSame(w, as: expected, killedRun: nil, what)
                    continue
                }
                interrupted += 1
                let killed = try unfinishedRun(w)
                try w.runToCompletion("\(what): the run after the kill")
                try expectSame(w, as: expected, killedRun: killed, what)
            }
        }
        // Most delays fall inside the run; on a busy machine some runs end first.
        #expect(interrupted >= 5, "only \(interrupted) of 10 runs were killed before they ended")
    }

    /// Two `aurum run` of one catalog started at the same instant, on a fresh warehouse and on one
    /// that exists: one runs, the other exits 1 naming the running process; the warehouse is sound.
    @Test(.timeLimit(.minutes(3)))
    func concurrentRunsAreRefused() throws {
        let reference = try Self.references.get()
        var refusals = 0
        for i in 0..<6 {
            let w = try World()
            let existing = i >= 3
            if existing { try w.runToCompletion("the first run") }
            let a = try w.start(), b = try w.start()
            let ra = a.wait(), rb = b.wait()
            let what = "attempt \(i + 1) (\(existing ? "existing" : "fresh") warehouse)"
            #expect(ra.exitedNormally && rb.exitedNormally, "\(what): \(ra.how), \(rb.how)")
            let runs = try Ledger(w).runs()
            if ra.status == 0 && rb.status == 0 {
                // Both ran: only right if one started after the other had ended.
                #expect(runs.count == (existing ? 3 : 2) && runs.allSatisfy { $0.status == "succeeded" }, "\(what): \(runs)")
                let last = runs.suffix(2)
                #expect(last.last!.started >= last.first!.ended, "\(what): two runs overlapped: \(runs)")
                continue
            }
            let (winner, loserResult) = ra.status == 0 ? (a, rb) : (b, ra)
            refusals += 1
            #expect(loserResult.status == 1, "\(what): \(loserResult.how) \(loserResult.stderr)")
            #expect(loserResult.stderr.contains("is still in progress (process \(winner.pid)) on this warehouse"), "\(what): \(loserResult.stderr)")
            #expect(loserResult.stderr.contains(w.warehouse), "\(what): \(loserResult.stderr)")
            #expect(runs.count == (existing ? 2 : 1) && runs.allSatisfy { $0.status == "succeeded" }, "\(what): \(runs)")
            try expectSame(w, as: existing ? reference.twice : reference.first, killedRun: nil, what)
        }
        #expect(refusals >= 4, "only \(refusals) of 6 attempts overlapped")
    }

    /// A run left 'running' whose pid now belongs to a process that started after it (pid reuse)
    /// is marked interrupted; one whose process is alive and older is refused, naming the pid.
    @Test func aReusedPidDoesNotHoldTheWarehouse() throws {
        let w = try World()
        try w.runToCompletion("the first run")
        let other = Process()
        other.executableURL = URL(fileURLWithPath: "/bin/sleep")
        other.arguments = ["30"]
        try other.run()
        // SIGKILL: the test process's children may inherit a blocked SIGTERM.
        defer { kill(other.processIdentifier, SIGKILL); other.waitUntilExit() }
        func addRunning(startedAt: String) throws {
            let db = try SQLiteDatabase(path: w.warehouse)
            defer { db.close() }
            try db.run("INSERT INTO runs(catalog, command, started_at, status, pid) VALUES ('x', 'run', ?, 'running', ?)",
                       [.text(startedAt), .integer(Int64(other.processIdentifier))])
        }
        try addRunning(startedAt: Timestamp.format(Date().addingTimeInterval(-3600)))
        try w.runToCompletion("the run after a stale row")
        let runs = try Ledger(w).runs()
        #expect(runs.map(\.status) == ["succeeded", "failed", "succeeded"], "\(runs)")
        try addRunning(startedAt: Timestamp.now())
        let r = try w.start().wait()
        #expect(r.exitedNormally && r.status == 1)
        #expect(r.stderr.contains("run 4 is still in progress (process \(other.processIdentifier)) on this warehouse"), "\(r.stderr)")
    }

    @Test func killAtSettingNamesAPointAndAHit() {
        #expect(FaultPoints.parse(nil) == nil && FaultPoints.parse("") == nil && FaultPoints.parse("  ") == nil)
        #expect(FaultPoints.parse("golden.xref").map { [$0.name, String($0.count)] } == ["golden.xref", "1"])
        #expect(FaultPoints.parse("golden.xref:700").map { [$0.name, String($0.count)] } == ["golden.xref", "700"])
        // Not a hit count: the whole text is the name (and never matches a point).
        #expect(FaultPoints.parse("a:b").map { [$0.name, String($0.count)] } == ["a:b", "1"])
        #expect(FaultPoints.parse("a:0").map { [$0.name, String($0.count)] } == ["a:0", "1"])
    }

    /// Every `FaultPoints.hit` in Sources/ is killed at by the harness, and every harness point exists.
    @Test func everyFaultPointInTheSourcesIsExercised() throws {
        var inSources: Set<String> = []
        let fm = FileManager.default
        let root = Repo.root + "/Sources"
        let pattern = try NSRegularExpression(pattern: #"FaultPoints\.hit\("([^"]+)"\)"#)
        for rel in fm.enumerator(atPath: root)?.compactMap({ $0 as? String }) ?? [] where rel.hasSuffix(".swift") {
            // Code lines only (the doc comments show the call with placeholder names).
            let text = try String(contentsOfFile: root + "/" + rel, encoding: .utf8).split(separator: "\n")
                .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }.joined(separator: "\n")
            for m in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                inSources.insert((text as NSString).substring(with: m.range(at: 1)))
            }
        }
        let inHarness = Set((CrashPoints.firstRun + CrashPoints.secondRun + CrashPoints.streamed).map(\.name))
        #expect(inSources.subtracting(inHarness).isEmpty, "points no harness run kills at: \(inSources.subtracting(inHarness).sorted())")
        #expect(inHarness.subtracting(inSources).isEmpty, "harness points not in Sources/: \(inHarness.subtracting(inSources).sorted())")
        #expect(inSources.count >= 20)
    }
}

/// The run ledger, for the concurrency test.
struct Ledger {
    let path: String
    init(_ w: World) { path = w.warehouse }

    struct Run: CustomStringConvertible {
        var id: Int64, status: String, started: String, ended: String
        var description: String { "run \(id) \(status) \(started)–\(ended)" }
    }

    func runs() throws -> [Run] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let db = try SQLiteDatabase(path: path, readOnly: true)
        defer { db.close() }
        guard try db.tableExists("runs") else { return [] }
        return try db.query("SELECT run_id, status, started_at, coalesce(ended_at, '') FROM runs ORDER BY run_id").map {
            Run(id: Int64($0[0].doubleValue ?? 0), status: $0[1].textValue ?? "", started: $0[2].textValue ?? "", ended: $0[3].textValue ?? "")
        }
    }
}
