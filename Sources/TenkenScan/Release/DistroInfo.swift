import TenkenBase
import TenkenPolicies

/// One release as distro-info-data lists it (`/usr/share/distro-info/debian.csv`, `ubuntu.csv`):
/// "12,Bookworm,bookworm,2021-08-14,2023-06-10,2026-07-11,2028-06-30,2033-06-30".
public struct DistroRelease: Sendable, Hashable, Codable {
    /// "12", "24.04 LTS"; empty for sid and experimental.
    public let version: String
    /// "Bookworm", "Noble Numbat".
    public let codename: String
    /// "bookworm", "noble": what apt's suites and os-release's VERSION_CODENAME say.
    public let series: String
    /// Unix seconds at 00:00 UTC of each date, by its column ("release", "eol", "eol-lts", ...).
    public var dates: [String: Int]
    /// Where the dates came from: the root's file, tenken's copy, or both (each date then the
    /// earlier of the two).
    public var origin: Origin

    /// Which file gave a release's dates.
    public enum Origin: String, Sendable, Codable {
        case root, builtIn, both
    }

    /// The version number alone ("24.04 LTS" → "24.04").
    var number: String { String(version.prefix { $0 != " " }) }
}

/// Reads distro-info-data's CSV files, and merges the root's with the copy built into tenken so
/// that a planted file cannot extend a release's support: where both give a date, the earlier
/// wins, and a date only the root's file gives is ignored for a release tenken's copy knows; a
/// release only the root's file knows (one newer than this tenken) is taken from it.
public enum DistroInfo {
    /// The copy of distro-info-data built in (Debian's 0.58+deb12u7), by distribution.
    static let builtIn: [String: [UInt8]] = [
        "debian": EmbeddedPolicies.distroInfo["debian.csv"] ?? [],
        "ubuntu": EmbeddedPolicies.distroInfo["ubuntu.csv"] ?? [],
    ]

    /// Where the root keeps them.
    static func path(_ distribution: String) -> String { "/usr/share/distro-info/\(distribution).csv" }

    /// The releases of one file; nil when it is not distro-info's (the header does not start
    /// with version,codename,series,created) or a row is damaged.
    static func parse(_ bytes: [UInt8], origin: DistroRelease.Origin) -> [DistroRelease]? {
        guard let text = ByteText.utf8(bytes[...]) else { return nil }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
        guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false).map(String.init),
            header.starts(with: ["version", "codename", "series", "created"])
        else { return nil }
        lines.removeFirst()
        var releases: [DistroRelease] = []
        for line in lines {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 4, fields.count <= header.count, !fields[2].isEmpty else { return nil }
            var dates: [String: Int] = [:]
            for (column, value) in zip(header, fields).dropFirst(3) where !value.isEmpty {
                guard let seconds = day(value) else { return nil }
                dates[column] = seconds
            }
            releases.append(
                DistroRelease(version: fields[0], codename: fields[1], series: fields[2], dates: dates, origin: origin))
        }
        return releases
    }

    /// "2028-06-30" as unix seconds at 00:00 UTC.
    static func day(_ text: String) -> Int? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) })
        else { return nil }
        return Timestamp.parse(text + "T00:00:00.000Z")
    }

    /// The root's releases merged into the built-in ones.
    static func merge(builtIn: [DistroRelease], root: [DistroRelease]?) -> [DistroRelease] {
        guard let root else { return builtIn }
        var merged = builtIn
        var index = [String: Int](builtIn.enumerated().map { ($1.series, $0) }) { first, _ in first }
        for release in root {
            guard let at = index[release.series] else {
                index[release.series] = merged.count
                merged.append(release)
                continue
            }
            // Only a date tenken's copy has too: one the root's file adds (an LTS end for a
            // release that has none) could extend support.
            for (column, date) in release.dates {
                if let known = merged[at].dates[column] { merged[at].dates[column] = min(known, date) }
            }
            merged[at].origin = .both
        }
        return merged
    }
}
