/// A duration as an option gives it: 90, 90s, 30m, 6h or 1d (fractions allowed).
public struct Interval: Sendable, Equatable {
    public let duration: Duration

    public init(_ duration: Duration) { self.duration = duration }

    public init?(text: String) {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        let unit = text.last.flatMap { units[$0] }
        guard let value = Double(unit == nil ? text : String(text.dropLast())), value > 0, value.isFinite, value < 1e9
        else { return nil }
        duration = .milliseconds(Int64(value * (unit ?? 1) * 1000))
    }
}
