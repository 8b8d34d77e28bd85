/// The result of one rule on one host.
public struct Finding: Sendable, Codable, Hashable {
    /// The rule's outcome on this host; `error` means it could not be checked completely.
    public enum Status: String, Sendable, Codable, CaseIterable {
        case pass, fail, warn, error
        case notApplicable = "not-applicable"
    }

    public let ruleID: String
    public let kind: String
    public let status: Status
    public let severity: Severity
    public let title: Localized
    public let remediation: Localized
    public let clauses: [String]
    public let evidence: [Evidence]
    /// Why the rule could not be checked completely (status `error` when nothing failed).
    public let errors: [Localized]
    /// Narrowed visibility that did not stop the check (e.g. not running as root).
    public let notes: [Localized]

    public init(
        ruleID: String, kind: String, status: Status, severity: Severity, title: Localized,
        remediation: Localized, clauses: [String], evidence: [Evidence], errors: [Localized], notes: [Localized]
    ) {
        self.ruleID = ruleID
        self.kind = kind
        self.status = status
        self.severity = severity
        self.title = title
        self.remediation = remediation
        self.clauses = clauses
        self.evidence = evidence
        self.errors = errors
        self.notes = notes
    }

    enum CodingKeys: String, CodingKey {
        case ruleID = "ruleId"
        case kind, status, severity, title, remediation, clauses, evidence, errors, notes
    }
}

/// Exactly what was seen, so a reader can find it again on the machine.
public struct Evidence: Sendable, Codable, Hashable {
    /// Where the evidence was seen, which says how `item` is to be read (a package, a path, a socket, ...).
    public enum Source: String, Sendable, Codable {
        case dpkg, snap, flatpak, file, wine, path, process, socket
        /// A pending update (item: package, version: candidate, installed, archive).
        case update
        /// A USB device connected now or in the journal's history, or a Bluetooth pairing.
        case device
        /// A state read from the system (list age, last upgrade, reboot flag, apt setting,
        /// antivirus database), described by `note`.
        case state
    }

    /// How sure the match is; the README lists which reasons give which.
    /// - `confirmed`: the catalog names what was seen (a package, a program, a process).
    /// - `strong`: what it is made of says so (it links a P2P engine, depends on one, carries
    ///   two signatures of one protocol, has the category's Debian tag).
    /// - `weak`: a hint only (one protocol signature; a default port held by a process tenken
    ///   could not see). A weak match warns; the others apply the rule's action.
    public enum Confidence: String, Sendable, Codable {
        case confirmed, strong, weak

        public init(from decoder: Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            // Reports made before strong and weak existed said "suspected" for a weak match.
            guard let value = text == "suspected" ? .weak : Self(rawValue: text) else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "unknown confidence '\(text)'"))
            }
            self = value
        }

        /// Enough to apply the rule's action.
        public var isEnough: Bool { self != .weak }
    }

    public let source: Source
    public let confidence: Confidence
    /// The catalog entry it matched.
    public let software: String
    /// Package name, file path, process executable or socket endpoint.
    public let item: String
    public var version: String?
    public var pid: Int32?
    public var user: String?
    public var detail: String?
    public var installed: String?
    public var archive: String?
    /// What a state evidence says, in both languages.
    public var note: Localized?
    /// Why content or metadata made the match ("links libtorrent-rasterbar.so.2.0").
    public var reason: Localized?
    /// True when what was seen can do what the rule forbids but is not made for it (a podcast
    /// client that can fetch torrents): it warns, named as dual-use. Absent otherwise.
    public var dualUse: Bool?
    /// A pending update: when tenken first saw it pending (RFC 3339 UTC), and how many whole
    /// days ago that was; absent when not known.
    public var firstSeen: String?
    public var ageDays: Int?
    /// A pending update held back (`apt-mark hold`), or kept from being the candidate by an APT
    /// pin; absent otherwise.
    public var held: Bool?
    public var pinned: Bool?

    public init(
        source: Source, confidence: Confidence = .confirmed, software: String, item: String,
        version: String? = nil, pid: Int32? = nil, user: String? = nil, detail: String? = nil,
        installed: String? = nil, archive: String? = nil, note: Localized? = nil, reason: Localized? = nil,
        dualUse: Bool = false
    ) {
        self.source = source
        self.confidence = confidence
        self.software = software
        self.item = item
        self.version = version
        self.pid = pid
        self.user = user
        self.detail = detail
        self.installed = installed
        self.archive = archive
        self.note = note
        self.reason = reason
        self.dualUse = dualUse ? true : nil
    }

    /// Enough to apply a forbidding rule's action: not weak, and not dual-use.
    public var decides: Bool { confidence.isEnough && dualUse != true }
}
