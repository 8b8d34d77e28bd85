/// How long to wait before trying the collector again: doubling from `first` up to `limit`,
/// each wait drawn between half and all of it so a fleet that lost its collector at once does
/// not come back at once.
public struct Backoff: Sendable {
    public let first: Duration
    public let limit: Duration
    private var current: Duration?

    public init(first: Duration = .seconds(2), limit: Duration = .seconds(300)) {
        self.first = first
        self.limit = limit
    }

    public mutating func next() -> Duration {
        let ceiling = current.map { min($0 * 2, limit) } ?? first
        current = ceiling
        return ceiling * Double.random(in: 0.5...1.0)
    }

    public mutating func reset() {
        current = nil
    }
}
