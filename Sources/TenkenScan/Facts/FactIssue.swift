import TenkenBase

/// Something a source could not read fully. `error` means the facts are incomplete in a way that
/// can hide a violation (a corrupt dpkg status); `limited` means visibility was narrowed for an
/// expected reason (another user's processes when not running as root). Each issue is one gap in
/// its source's coverage, with the kind of shortfall and the path it concerns.
public struct FactIssue: Sendable, Hashable {
    /// `error` or `limited`: the same levels as the coverage gap the issue becomes.
    public typealias Level = SourceCoverage.Gap.Level
    /// The kind of shortfall, shared with the coverage gap (cut short, unreadable, damaged, ...).
    public typealias Kind = SourceCoverage.Gap.Kind

    public let source: FactSource
    public let level: Level
    public let kind: Kind
    public let path: String?
    public let message: Localized
    /// The part of the source's facts the gap leaves unknown; nil: all of them. A rule that does
    /// not read that part is not held back by it (an unreadable dpkg.log says nothing of a reboot).
    public let part: FactPart?

    public init(
        _ source: FactSource, _ level: Level, _ kind: Kind, path: String?, _ message: Localized,
        about part: FactPart? = nil
    ) {
        self.source = source
        self.level = level
        self.kind = kind
        self.path = path
        self.message = message
        self.part = part
    }

    /// A read that failed: the kind follows from why (a size limit cuts short, a missing file is
    /// missing, bad compressed data is damaged, anything else is unreadable). `hint` is added to
    /// the message.
    static func unreadable(
        _ source: FactSource, _ error: HostReadError, level: Level = .error, hint: Localized? = nil,
        about part: FactPart? = nil
    ) -> FactIssue {
        let kind: Kind
        switch error.reason {
        case .notFound: kind = .missing
        case .tooLarge: kind = .cutShort
        case .corrupt: kind = .damaged
        case .permissionDenied, .notARegularFile, .notADirectory, .unconfined, .system, .refused: kind = .unreadable
        }
        return FactIssue(
            source, level, kind, path: error.path,
            Localized(ja: error.message(in: .ja) + (hint?.ja ?? ""), en: error.message(in: .en) + (hint?.en ?? "")),
            about: part)
    }

    /// The issue as a gap in its source's coverage.
    var gap: SourceCoverage.Gap { SourceCoverage.Gap(kind: kind, level: level, path: path, message: message) }
}
