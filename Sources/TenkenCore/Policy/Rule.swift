/// How much a failed rule matters; shown with every finding and used to order them.
public enum Severity: String, Sendable, Codable, CaseIterable, Comparable {
    case critical, high, medium, low, info

    private var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank > rhs.rank }
}

/// What a violated rule does to the verdict: `fail` makes the machine non-compliant,
/// `warn` flags it for a person to look at and leaves the verdict alone.
public enum RuleAction: String, Sendable, Codable { case fail, warn }

/// The checks tenken knows. Each is declarative: parameters only, nothing that runs a command.
public enum RuleKind: Sendable, Hashable {
    /// None of the catalog categories' software may be present.
    case forbiddenSoftware(categories: [String])
    /// Some software of the categories must be installed (or, with `mustRun`, running).
    case requiredSoftware(categories: [String], mustRun: Bool)
    /// No pending update (security ones, or the others) older than `maxDays` since the last upgrade.
    case pendingUpdates(security: Bool, maxDays: Int)
    /// `apt update` ran within `maxAgeDays`.
    case packageListsFresh(maxAgeDays: Int)
    /// No reboot pending for an installed kernel or library.
    case rebootNotRequired
    /// unattended-upgrades installed and enabled in APT::Periodic.
    case automaticUpdates
    /// Antivirus patterns built within `maxAgeHours`.
    case antivirusDefinitions(maxAgeHours: Int)
    /// This PC is in the ledger (else it is a private PC).
    case machineRegistered
    /// Every storage device connected now or within `historyDays` is in the ledger.
    case mediaRegistered(historyDays: Int)
    /// Phones, USB tethering and Bluetooth pairings are reported.
    case mobileDevices(historyDays: Int)
    /// Connected media the ledger marks `encrypted` are LUKS-encrypted.
    case mediaEncrypted
    /// / and /home are on LUKS.
    case diskEncryption
    /// No account without a password, no display-manager autologin.
    case authentication
    /// GNOME locks the screen after at most `maxIdleMinutes`.
    case screenLock(maxIdleMinutes: Int)
    /// sshd refuses root and empty-password logins and password authentication.
    case sshLogin
    /// Logs are kept at least `minDays` (persistent journal or rsyslog rotation).
    case logRetention(minDays: Int)
    /// A firewall is enabled at boot.
    case firewallEnabled
    /// Members of sudo, wheel, adm and admin are reported.
    case privilegedUsers

    public var name: String {
        switch self {
        case .forbiddenSoftware: return "forbidden-software"
        case .requiredSoftware: return "required-software"
        case .pendingUpdates: return "pending-updates"
        case .packageListsFresh: return "package-lists-fresh"
        case .rebootNotRequired: return "reboot-not-required"
        case .automaticUpdates: return "automatic-updates"
        case .antivirusDefinitions: return "antivirus-definitions"
        case .machineRegistered: return "machine-registered"
        case .mediaRegistered: return "media-registered"
        case .mobileDevices: return "mobile-devices"
        case .mediaEncrypted: return "media-encrypted"
        case .diskEncryption: return "disk-encryption"
        case .authentication: return "authentication"
        case .screenLock: return "screen-lock"
        case .sshLogin: return "ssh-login"
        case .logRetention: return "log-retention"
        case .firewallEnabled: return "firewall-enabled"
        case .privilegedUsers: return "privileged-users"
        }
    }

    /// Catalog categories the rule refers to (checked when the policy loads).
    public var categories: [String] {
        switch self {
        case .forbiddenSoftware(let categories), .requiredSoftware(let categories, _): return categories
        case .antivirusDefinitions: return ["antivirus"]
        default: return []
        }
    }
}

public struct Rule: Sendable, Hashable {
    public let id: String
    public let kind: RuleKind
    public let severity: Severity
    public let action: RuleAction
    public let title: Localized
    public let remediation: Localized
    /// Contract clauses this rule enforces, cited as "<file prefix> <article>", e.g. "002 第11条(10)キ".
    public let clauses: [String]
}
