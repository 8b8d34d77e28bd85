import Dispatch

/// Work started on another thread now and joined later: the package database parse overlaps
/// the file-system walks and the policy load on a 2-core machine.
final class BackgroundWork<Value: Sendable>: @unchecked Sendable {
    // Written once by the worker before `finished` is signalled, read only after waiting on it.
    private var value: Value?
    private let finished = DispatchSemaphore(value: 0)

    init(_ work: @escaping @Sendable () -> Value) {
        DispatchQueue.global(qos: .userInitiated).async {
            self.value = work()
            self.finished.signal()
        }
    }

    func wait() -> Value {
        finished.wait()
        finished.signal()  // a second wait() returns at once
        return value!
    }
}
