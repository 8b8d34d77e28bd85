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

extension Rule {
    static let commonKeys: Set<String> = ["id", "kind", "severity", "action", "title", "remediation", "clauses"]
    static let keys = commonKeys.union(RuleKind.parameters.values.joined())

    /// Reads a rule and checks its parameters; catalog references are checked once the catalog is loaded.
    init(_ yaml: YAMLObject) throws(PolicyError) {
        let id = try yaml.string("id")
        let kindName = try yaml.string("kind")
        let unknown = yaml.error(
            "kind",
            "unknown rule kind '\(kindName)'; known: "
                + RuleKind.parameters.keys.sorted().joined(separator: ", "))
        guard let allowed = RuleKind.parameters[kindName] else { throw unknown }
        for key in Self.keys.subtracting(Self.commonKeys).subtracting(allowed) where yaml.has(key) {
            throw yaml.error(key, "'\(key)' is not a parameter of \(kindName)")
        }
        guard let kind = try RuleKind.named(kindName, from: yaml) else { throw unknown }
        let severityName = try yaml.string("severity")
        guard let severity = Severity(rawValue: severityName) else {
            throw yaml.error(
                "severity",
                "'\(severityName)' is not one of \(Severity.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let actionName = try yaml.optionalString("action") ?? RuleAction.fail.rawValue
        guard let action = RuleAction(rawValue: actionName) else {
            throw yaml.error("action", "'\(actionName)' is not fail or warn")
        }
        let clauses = try yaml.strings("clauses")
        guard !clauses.isEmpty else {
            throw yaml.error("clauses", "every rule must cite the contract clauses it enforces")
        }
        self.init(
            id: id, kind: kind, severity: severity, action: action, title: try yaml.localized("title"),
            remediation: try yaml.localized("remediation"), clauses: clauses)
    }
}
