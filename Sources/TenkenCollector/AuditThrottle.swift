import Synchronization

/// At most `limit` refusals a minute from one client address reach the audit log; the rest are
/// counted, and the next one logged says how many were left out. Anyone can make the collector
/// refuse something: unthrottled, a flood of it would spend journald's rate limit for the
/// whole service and push out what matters (a stolen key, an administrator's login).
final class AuditThrottle: Sendable {
    struct Window {
        var start: Int
        var logged = 0
        var suppressed = 0
    }

    let limit: Int
    let seconds: Int
    /// Addresses remembered at once; past it, the ones whose minute is over are forgotten, and
    /// new ones share one window.
    static let capacity = 4096
    private let windows = Mutex<[String: Window]>([:])

    init(limit: Int = 30, seconds: Int = 60) {
        self.limit = limit
        self.seconds = seconds
    }

    /// Whether a refusal from `address` is logged now, and how many before it were left out.
    func admit(_ address: String, now: Int) -> (log: Bool, suppressed: Int) {
        windows.withLock { windows in
            var key = address
            if windows[key] == nil, windows.count >= Self.capacity {
                windows = windows.filter { now - $0.value.start < seconds }
                if windows.count >= Self.capacity { key = "*" }
            }
            var window = windows[key] ?? Window(start: now)
            var reported = 0
            if now - window.start >= seconds {
                reported = window.suppressed
                window = Window(start: now)
            }
            defer { windows[key] = window }
            guard window.logged < limit else {
                window.suppressed += 1
                return (false, 0)
            }
            window.logged += 1
            return (true, reported)
        }
    }
}
