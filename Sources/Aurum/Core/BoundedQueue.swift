import Foundation

/// A blocking FIFO of bounded capacity between one producer thread and one consumer thread.
///
/// `@unchecked Sendable`: every access to `items` and `closed` happens under `condition`'s lock.
package final class BoundedQueue<T>: @unchecked Sendable {
    private var items: [T] = []
    private var closed = false
    private var failure: Error?
    private let capacity: Int
    private let condition = NSCondition()

    package init(capacity: Int) { self.capacity = capacity }

    /// Blocks while full. Returns false when the consumer has closed the queue.
    @discardableResult
    package func push(_ item: T) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !closed { condition.wait() }
        if closed { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// Blocks while empty; nil once closed and drained. Rethrows the producer's failure.
    package func pop() throws -> T? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        if let failure { throw failure }
        if items.isEmpty { return nil }
        let item = items.removeFirst()
        condition.broadcast()
        return item
    }

    /// The first item, or nil at once when there is none (never blocks, never throws).
    func tryPop() -> T? {
        condition.lock()
        defer { condition.unlock() }
        if items.isEmpty { return nil }
        let item = items.removeFirst()
        condition.broadcast()
        return item
    }

    /// Ends the stream (producer: done or failed; consumer: stop the producer).
    package func close(error: Error? = nil) {
        condition.lock()
        if failure == nil, let error { failure = error }
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Runs `body` on a new thread and returns a handle to wait for it.
///
/// `@unchecked Sendable`: `joined` is only touched by the thread that created the worker.
package final class WorkerThread: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var joined = false
    package init(name: String, _ body: @escaping @Sendable () -> Void) {
        let t = Thread { [done] in
            body()
            done.signal()
        }
        t.name = name
        t.stackSize = 8 << 20
        t.start()
    }
    /// Waits for the thread to finish; later calls return at once.
    package func join() {
        if joined { return }
        done.wait()
        joined = true
    }
}
