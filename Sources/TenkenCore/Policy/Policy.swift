/// A loaded policy: rules, the catalog they refer to, and a digest that identifies exactly which
/// policy a report was made under.
public struct Policy: Sendable {
    public let id: String
    public let version: Int
    public let title: Localized
    public let rules: [Rule]
    public let catalog: SoftwareCatalog
    /// "sha256:<hex>" over the policy file and every catalog file it loaded.
    public let digest: String

    /// The extra facts this policy's rules need collected.
    public var factRequest: HostFacts.Request {
        var request = HostFacts.Request()
        for rule in rules {
            switch rule.kind {
            case .forbiddenSoftware(let categories):
                for entry in catalog.entries(in: categories) { request.probePaths.formUnion(entry.paths) }
            }
        }
        return request
    }
}

/// The YAML shape of a policy file.
struct PolicyDocument: Decodable {
    let id: String
    let version: Int
    let title: Localized
    let catalog: [String]
    let rules: [RuleDocument]

    enum CodingKeys: String, CodingKey, CaseIterable { case id, version, title, catalog, rules }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        version = try container.decode(Int.self, forKey: .version)
        title = try container.decode(Localized.self, forKey: .title)
        catalog = try container.decodeIfPresent([String].self, forKey: .catalog) ?? []
        rules = try container.decode([RuleDocument].self, forKey: .rules)
    }
}

struct RuleDocument: Decodable {
    let id: String
    let kind: String
    let severity: Severity
    let action: RuleAction
    let title: Localized
    let remediation: Localized
    let clauses: [String]
    let categories: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, kind, severity, action, title, remediation, clauses, categories
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        kind = try container.decode(String.self, forKey: .kind)
        severity = try container.decode(Severity.self, forKey: .severity)
        action = try container.decodeIfPresent(RuleAction.self, forKey: .action) ?? .fail
        title = try container.decode(Localized.self, forKey: .title)
        remediation = try container.decode(Localized.self, forKey: .remediation)
        clauses = try container.decode([String].self, forKey: .clauses)
        categories = try container.decodeIfPresent([String].self, forKey: .categories)
    }
}
