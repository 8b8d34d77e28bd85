import TenkenBase

/// What a violated rule does to the verdict: `fail` makes the machine non-compliant,
/// `warn` flags it for a person to look at and leaves the verdict alone.
public enum RuleAction: String, Sendable, Codable { case fail, warn }

/// One rule of a policy: a kind with its parameters, and what a violation means.
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
