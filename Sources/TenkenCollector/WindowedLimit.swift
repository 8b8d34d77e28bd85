import Synchronization

/// At most `limit` (reports, bytes, rotations) per key (a machine) in each window of `seconds`
/// (fixed windows from the epoch, so a day is a UTC day). What is over it is refused with the
/// seconds until the window ends, which the collector answers as 429 and Retry-After. Keys are
/// machines whose signature already checked out: one entry each, pruned as windows end.
final class WindowedLimit: Sendable {
    let limit: Int
    let seconds: Int

    private struct Window {
        var start: Int
        var used = 0
    }

    private let windows = Mutex<[String: Window]>([:])

    init(limit: Int, seconds: Int) {
        precondition(limit > 0 && seconds > 0)
        self.limit = limit
        self.seconds = seconds
    }

    /// nil: `amount` is counted and allowed; else the seconds until it may be tried again.
    func admit(_ key: String, amount: Int = 1, now: Int) -> Int? {
        let start = now - now % seconds
        return windows.withLock { windows in
            if windows[key] == nil, windows.count >= 4096, windows.count.isMultiple(of: 4096) {
                windows = windows.filter { $0.value.start == start }
            }
            var window = windows[key].flatMap { $0.start == start ? $0 : nil } ?? Window(start: start)
            guard window.used + amount <= limit else { return start + seconds - now }
            window.used += amount
            windows[key] = window
            return nil
        }
    }
}

/// What one enrolled machine may send, each limit generous for the agent's real schedule (a
/// check every 6 hours, and one after each change or USB device, a week's spool sent at once
/// after an outage) and small against a machine whose root wants to flood the collector.
public struct MachineLimits: Sendable {
    /// Reports a minute (each verified, and read in a write transaction).
    public var reportsPerMinute = 30
    /// Bytes of reports a day (what it sends is what is stored: 38 KB a report, 10 KB compressed).
    public var bytesPerDay = 64 << 20
    /// Key rotations a day (each one a key row and an audit entry).
    public var rotationsPerDay = 10

    public init() {}
}
