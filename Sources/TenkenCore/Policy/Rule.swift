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
    case forbiddenSoftware(categories: [String])

    public var name: String {
        switch self {
        case .forbiddenSoftware: return "forbidden-software"
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
