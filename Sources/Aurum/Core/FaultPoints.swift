import Foundation

/// A test hook: named points in the pipeline where the crash harness (`Tests/AurumCrashTests`) has
/// the process kill itself with SIGKILL — no cleanup, no `defer`, no flush, exactly like a real kill.
///
/// `AURUM_KILL_AT=NAME` kills at the first time `FaultPoints.hit("NAME")` is reached;
/// `AURUM_KILL_AT=NAME:N` at the N-th time (points inside loops: a row, a batch, a source). Just
/// before dying the process writes `aurum: killed at fault point NAME (hit N)` to standard error, so
/// the harness knows where it died. The variable is read once; when it is unset, `hit` is one test
/// of a constant.
///
/// Adding a point is one line, `FaultPoints.hit("stage.what")`, plus its entry in the harness's
/// list of points (`CrashPoints.all` in `Tests/AurumCrashTests`).
public enum FaultPoints {
    struct Target: Sendable {
        var name: String
        var count: Int
    }

    /// The point named by AURUM_KILL_AT, or nil (the usual case).
    static let target: Target? = parse(ProcessInfo.processInfo.environment["AURUM_KILL_AT"])

    static func parse(_ setting: String?) -> Target? {
        guard let s = setting?.trimmingCharacters(in: .whitespaces), !s.isEmpty else { return nil }
        if let colon = s.lastIndex(of: ":"), let n = Int(s[s.index(after: colon)...]), n >= 1 {
            return Target(name: String(s[..<colon]), count: n)
        }
        return Target(name: s, count: 1)
    }

    /// Kills the process here when AURUM_KILL_AT names this point (and this is its N-th hit).
    @inline(__always)
    public static func hit(_ name: String) {
        guard let t = target else { return }
        reached(name, t)
    }

    private static let hits = Hits()

    @inline(never)
    private static func reached(_ name: String, _ t: Target) {
        guard name == t.name else { return }
        let n = hits.increment()
        guard n == t.count else { return }
        let line = "aurum: killed at fault point \(name) (hit \(n))\n"
        _ = line.withCString { write(STDERR_FILENO, $0, strlen($0)) }
        kill(getpid(), SIGKILL)
        // A signal sent to oneself is delivered before kill(2) returns; never run on regardless.
        while true { pause() }
    }

    /// The hits of the named point so far (any thread).
    private final class Hits: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func increment() -> Int {
            lock.lock(); defer { lock.unlock() }
            count += 1
            return count
        }
    }
}
