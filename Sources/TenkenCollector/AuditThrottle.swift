import Synchronization

/// What the network can make the collector log, kept within what journald carries (its default
/// rate limit is 10,000 entries in 30 s for the whole service) and in bounded memory, without
/// hiding a new kind of event. Each kind of refusal (event and reason) may log `perKind` entries
/// a window, and `perAddress` of them from one bucket of client addresses (an address's hash,
/// 256 buckets a kind): a flood from one host or from thousands cannot spend another kind's
/// entries, and the first of each kind in a window is always logged. What is left out is counted,
/// and said once its window ends in one summary entry per kind (how many, from how many address
/// buckets, a few addresses).
final class AuditThrottle: Sendable {
    /// One kind of event as the throttle counts it.
    struct Kind: Hashable, Sendable {
        let event: AuditEvent.Kind
        let reason: String
    }

    /// What one kind left out in a window that has ended.
    struct Summary: Sendable, Equatable {
        let kind: Kind
        let suppressed: Int
        /// Address buckets something was left out from.
        let buckets: Int
        /// The first few addresses left out (the rest are in the counts only).
        let samples: [String]
        /// When the window began (unix seconds).
        let since: Int
    }

    private struct Window {
        var start: Int
        var logged = 0
        var suppressed = 0
        var perBucket = [UInt8](repeating: 0, count: AuditThrottle.buckets)
        var suppressedBuckets = [UInt64](repeating: 0, count: AuditThrottle.buckets / 64)
        var samples: [String] = []

        func summary(of kind: Kind) -> Summary? {
            guard suppressed > 0 else { return nil }
            return Summary(
                kind: kind, suppressed: suppressed, buckets: suppressedBuckets.map(\.nonzeroBitCount).reduce(0, +),
                samples: samples, since: start)
        }
    }

    static let buckets = 256
    /// Kinds counted at once: the code names fewer (events times their reasons); a reason made
    /// up past it shares the last one.
    static let kinds = 64
    static let samplesKept = 3

    let perKind: Int
    let perAddress: Int
    let seconds: Int
    /// An address's bucket, 0 to 255: its hash, seeded anew in each process.
    private let bucket: @Sendable (String) -> Int
    private let windows = Mutex<[Kind: Window]>([:])

    init(
        perKind: Int = 120, perAddress: Int = 30, seconds: Int = 60,
        bucket: @escaping @Sendable (String) -> Int = AuditThrottle.hashedBucket
    ) {
        precondition(perAddress <= Int(UInt8.max))
        self.perKind = perKind
        self.perAddress = perAddress
        self.seconds = seconds
        self.bucket = bucket
    }

    static func hashedBucket(_ address: String) -> Int {
        var hasher = Hasher()
        hasher.combine(address)
        return Int(UInt8(truncatingIfNeeded: hasher.finalize()))
    }

    /// Whether an event of `kind` from `address` is logged now, and the summaries of windows that
    /// ended before it (to be logged first).
    func admit(_ kind: Kind, address: String, now: Int) -> (log: Bool, summaries: [Summary]) {
        windows.withLock { windows in
            let summaries = Self.ended(&windows, now: now, seconds: seconds)
            var kind = kind
            if windows[kind] == nil, windows.count >= Self.kinds {
                kind = Kind(event: kind.event, reason: "other")
            }
            var window = windows[kind] ?? Window(start: now)
            defer { windows[kind] = window }
            let bucket = self.bucket(address) & (Self.buckets - 1)
            guard window.logged < perKind, Int(window.perBucket[bucket]) < perAddress else {
                window.suppressed += 1
                window.suppressedBuckets[bucket / 64] |= 1 << UInt64(bucket % 64)
                if window.samples.count < Self.samplesKept, !window.samples.contains(address) {
                    window.samples.append(address)
                }
                return (false, summaries)
            }
            window.logged += 1
            window.perBucket[bucket] += 1
            return (true, summaries)
        }
    }

    /// The summaries of windows that have ended, for a clock that ticks while nothing is refused.
    func due(now: Int) -> [Summary] {
        windows.withLock { Self.ended(&$0, now: now, seconds: seconds) }
    }

    /// Removes the windows that have ended and returns what they left out.
    private static func ended(_ windows: inout [Kind: Window], now: Int, seconds: Int) -> [Summary] {
        var summaries: [Summary] = []
        for (kind, window) in windows where now - window.start >= seconds {
            if let summary = window.summary(of: kind) { summaries.append(summary) }
            windows[kind] = nil
        }
        return summaries
    }
}
