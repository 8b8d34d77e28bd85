#if canImport(Glibc)
    import Glibc
#endif

/// RFC 3339 UTC timestamps ("2026-11-21T09:30:00.123Z") from the system clock. Foundation's
/// ISO-8601 format style costs milliseconds to set up on first use; this is one gmtime_r.
public enum Timestamp {
    public static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return format(seconds: Int(spec.tv_sec), milliseconds: Int(spec.tv_nsec / 1_000_000))
    }

    /// Unix seconds of an RFC 3339 UTC time as `format` writes it; nil for anything else.
    public static func parse(_ text: String) -> Int? {
        let digits = text.split(whereSeparator: { "-T:.Z".contains($0) }).map { Int($0) }
        guard text.hasSuffix("Z"), digits.count >= 6, !digits.contains(nil) else { return nil }
        let values = digits.map { $0! }
        var parts = tm()
        parts.tm_year = Int32(clamping: values[0] - 1900)
        parts.tm_mon = Int32(clamping: values[1] - 1)
        parts.tm_mday = Int32(clamping: values[2])
        parts.tm_hour = Int32(clamping: values[3])
        parts.tm_min = Int32(clamping: values[4])
        parts.tm_sec = Int32(clamping: values[5])
        let seconds = timegm(&parts)
        return seconds == -1 ? nil : Int(seconds)
    }

    /// Unix seconds now.
    public static func seconds() -> Int {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int(spec.tv_sec)
    }

    /// "2026-11-20 09:26 UTC", for evidence a person reads.
    public static func date(_ seconds: Int) -> String {
        let full = format(seconds: seconds)
        return String(full.prefix(10)) + " " + String(full.dropFirst(11).prefix(5)) + " UTC"
    }

    /// The date in Japan time (UTC+9, no daylight saving), "2026-12-03": the day a person in
    /// the client's office would write.
    public static func japanDate(_ seconds: Int) -> String {
        String(format(seconds: seconds + 9 * 3600).prefix(10))
    }

    /// "2026-12-03 21:05 JST": a time a person reads, in Japan time.
    public static func japanTime(_ seconds: Int) -> String {
        let full = format(seconds: seconds + 9 * 3600)
        return String(full.prefix(10)) + " " + String(full.dropFirst(11).prefix(5)) + " JST"
    }

    /// Times read from disk outside 1970-9999 are not dates (and would overflow gmtime).
    public static let plausible = 0...253_402_300_799

    public static func format(seconds: Int, milliseconds: Int = 0) -> String {
        var time = time_t(min(max(seconds, plausible.lowerBound), plausible.upperBound))
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds), 3))Z"
    }
}
