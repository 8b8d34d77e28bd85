/// How much of what one fact source should have read it did read, with the paths of what it
/// missed. A source is `complete` only when nothing was cut short, unreadable, damaged,
/// unrepresentable or missing; a rule that depends on an incomplete source cannot be sure.
public struct SourceCoverage: Sendable, Codable, Hashable {
    /// The whole of a source's reading, in a word.
    public enum State: String, Sendable, Codable {
        /// Everything the source looks at was read.
        case complete
        /// Visibility was narrowed for an expected reason (not running as root); shown as notes.
        case limited
        /// Something that could hide a violation was not read.
        case incomplete
        /// No rule of the policy needed this source, so it was not read.
        case notRequested = "not-requested"
    }

    /// One thing a source did not read fully.
    public struct Gap: Sendable, Codable, Hashable {
        /// What kind of shortfall it was.
        public enum Kind: String, Sendable, Codable {
            /// The source stopped at a limit (entries walked, bytes read).
            case cutShort = "cut-short"
            /// Permission denied, or an I/O error.
            case unreadable
            /// Read, but not in the expected form (corrupt, truncated, unparsable).
            case damaged
            /// A name tenken could not represent. No longer made (names that are not UTF-8 are walked
            /// and shown escaped); kept so reports of earlier versions still decode.
            case unrepresentable
            /// Expected and not there.
            case missing
        }

        /// `error` can hide a violation; `limited` narrows what is seen for an expected reason.
        public enum Level: String, Sendable, Codable { case error, limited }

        public let kind: Kind
        public let level: Level
        /// The path as seen inside the root, when the gap has one.
        public let path: String?
        public let message: Localized

        public init(kind: Kind, level: Level, path: String?, message: Localized) {
            self.kind = kind
            self.level = level
            self.path = path
            self.message = message
        }
    }

    /// The source's name, as the fact-source registry declares it ("dpkg", "files", "sshd").
    public let source: String
    public let state: State
    public let gaps: [Gap]

    /// The coverage of a source that was `read` (or not, because no rule asked) with its gaps.
    public init(source: String, read: Bool, gaps: [Gap]) {
        self.source = source
        self.gaps = gaps
        if !read {
            state = .notRequested
        } else if gaps.contains(where: { $0.level == .error }) {
            state = .incomplete
        } else if !gaps.isEmpty {
            state = .limited
        } else {
            state = .complete
        }
    }
}
