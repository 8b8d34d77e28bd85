import FoundationEssentials

/// The outcome of one check: host, policy, time and findings. Its JSON form is what `--json`
/// prints and, from the agent, what the collector stores.
public struct CheckReport: Sendable, Codable {
    /// The report's overall result; it sets `tenken check`'s exit status and the fleet's counts.
    public enum Verdict: String, Sendable, Codable {
        /// No rule failed and every rule could be checked.
        case compliant
        /// At least one rule with action `fail` found a violation.
        case nonCompliant = "non-compliant"
        /// Nothing failed, but some rule could not be checked: compliance is not shown.
        case incomplete

        /// The verdict findings of these statuses give: any failure is non-compliant; else any
        /// rule that could not check makes it incomplete. The collector applies it to what a
        /// machine sends, so a report cannot call itself compliant over its own errors.
        public init(following statuses: some Sequence<Finding.Status>) {
            var sawError = false
            for status in statuses {
                if status == .fail {
                    self = .nonCompliant
                    return
                }
                if status == .error { sawError = true }
            }
            self = sawError ? .incomplete : .compliant
        }

        /// The verdict in a word, for logs and the dashboard.
        public var title: Localized {
            switch self {
            case .compliant: return Localized(ja: "適合", en: "compliant")
            case .nonCompliant: return Localized(ja: "不適合", en: "non-compliant")
            case .incomplete: return Localized(ja: "確認できず", en: "incomplete")
            }
        }

        /// `tenken check` exit status: 0 compliant, 1 non-compliant, 2 could not check.
        public var exitCode: Int32 {
            switch self {
            case .compliant: return 0
            case .nonCompliant: return 1
            case .incomplete: return 2
            }
        }
    }

    /// The machine checked, identified by hostname, machine-id and DMI serial (as the ledger and
    /// enrollment match it), with its OS name.
    public struct Host: Sendable, Codable {
        public let hostname: String
        public let machineID: String
        public let dmiSerial: String?
        public let os: String

        public init(hostname: String, machineID: String, dmiSerial: String?, os: String) {
            self.hostname = hostname
            self.machineID = machineID
            self.dmiSerial = dmiSerial
            self.os = os
        }

        enum CodingKeys: String, CodingKey {
            case hostname
            case machineID = "machineId"
            case dmiSerial, os
        }
    }

    /// Which policy the report was checked against: its id and version, and the digest of exactly what was loaded.
    public struct PolicyReference: Sendable, Codable {
        public let id: String
        public let version: Int
        public let digest: String

        public init(id: String, version: Int, digest: String) {
            self.id = id
            self.version = version
            self.digest = digest
        }
    }

    public var schema = "tenken.check/1"
    /// Unique per report: the collector acknowledges and de-duplicates by it.
    public var reportID: String
    /// Per machine, strictly increasing; set when the report is signed (replays are refused).
    public var sequence: Int?
    public let tool: String
    /// Set by the check; a benchmark stands a fleet of machines on one report by changing it.
    public var host: Host
    public let root: String
    public let policy: PolicyReference
    public let startedAt: String
    public let durationMilliseconds: Double
    public let verdict: Verdict
    public let counts: [String: Int]
    /// What each fact source could read: complete, or what it missed and where.
    public let coverage: [SourceCoverage]
    public let findings: [Finding]

    enum CodingKeys: String, CodingKey {
        case schema
        case reportID = "reportId"
        case sequence, tool, host, root, policy, startedAt
        case durationMilliseconds = "durationMs"
        case verdict, counts, coverage, findings
    }

    /// Reads a report; one made before coverage was reported reads with none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        schema = try container.decode(String.self, forKey: .schema)
        reportID = try container.decode(String.self, forKey: .reportID)
        sequence = try container.decodeIfPresent(Int.self, forKey: .sequence)
        tool = try container.decode(String.self, forKey: .tool)
        host = try container.decode(Host.self, forKey: .host)
        root = try container.decode(String.self, forKey: .root)
        policy = try container.decode(PolicyReference.self, forKey: .policy)
        startedAt = try container.decode(String.self, forKey: .startedAt)
        durationMilliseconds = try container.decode(Double.self, forKey: .durationMilliseconds)
        verdict = try container.decode(Verdict.self, forKey: .verdict)
        counts = try container.decode([String: Int].self, forKey: .counts)
        coverage = try container.decodeIfPresent([SourceCoverage].self, forKey: .coverage) ?? []
        findings = try container.decode([Finding].self, forKey: .findings)
    }

    /// Findings by status, every status counted (0 for none): what a report's `counts` must be.
    public static func counts(of statuses: some Sequence<Finding.Status>) -> [String: Int] {
        var counts = Dictionary(uniqueKeysWithValues: Finding.Status.allCases.map { ($0.rawValue, 0) })
        for status in statuses { counts[status.rawValue, default: 0] += 1 }
        return counts
    }

    /// A report of `findings`; the verdict and the counts follow from them.
    public init(
        host: Host, root: String, policy: PolicyReference, coverage: [SourceCoverage], findings: [Finding],
        startedAt: String, duration: Double
    ) {
        tool = "tenken/\(TenkenVersion.current)"
        reportID = UUID().uuidString.lowercased()
        self.host = host
        self.root = root
        self.policy = policy
        self.startedAt = startedAt
        durationMilliseconds = (duration * 1_000_000).rounded() / 1000
        self.coverage = coverage
        self.findings = findings
        counts = Self.counts(of: findings.map(\.status))
        verdict = Verdict(following: findings.map(\.status))
    }

    /// Pretty for people (`--json`); compact for signing, a third smaller to send, parse and keep.
    public func json(pretty: Bool = true) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
