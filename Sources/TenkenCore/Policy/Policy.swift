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
                for entry in catalog.entries(in: categories) {
                    request.probePaths.formUnion(entry.paths)
                    request.socketPorts += entry.ports
                    for name in entry.executables + entry.wine {
                        request.processNames.insert(name.lowercased())
                        request.processNames.insert(String(decoding: name.lowercased().utf8.prefix(15), as: UTF8.self))
                    }
                }
            }
        }
        return request
    }
}

/// The YAML shape of a policy file.
struct PolicyDocument {
    let id: String
    let version: Int
    let title: Localized
    let catalog: [String]
    let rules: [Rule]

    init(_ text: String, file: String) throws(PolicyError) {
        let yaml = try YAMLObject.document(text, file: file, keys: ["id", "version", "title", "catalog", "rules"])
        id = try yaml.string("id")
        version = try yaml.int("version")
        title = try yaml.localized("title")
        catalog = try yaml.strings("catalog")
        var rules: [Rule] = []
        for rule in try yaml.objects("rules", keys: Rule.keys) { rules.append(try Rule(rule)) }
        self.rules = rules
    }
}

extension Rule {
    static let keys: Set<String> = ["id", "kind", "severity", "action", "title", "remediation", "clauses", "categories"]

    /// Reads a rule and checks its parameters; catalog references are checked once the catalog is loaded.
    init(_ yaml: YAMLObject) throws(PolicyError) {
        let id = try yaml.string("id")
        let kindName = try yaml.string("kind")
        let kind: RuleKind
        switch kindName {
        case "forbidden-software":
            let categories = try yaml.strings("categories")
            guard !categories.isEmpty else { throw yaml.error("categories", "forbidden-software needs at least one catalog category") }
            kind = .forbiddenSoftware(categories: categories)
        default:
            throw yaml.error("kind", "unknown rule kind '\(kindName)'; known: forbidden-software")
        }
        let severityName = try yaml.string("severity")
        guard let severity = Severity(rawValue: severityName) else {
            throw yaml.error("severity", "'\(severityName)' is not one of \(Severity.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let actionName = try yaml.optionalString("action") ?? RuleAction.fail.rawValue
        guard let action = RuleAction(rawValue: actionName) else { throw yaml.error("action", "'\(actionName)' is not fail or warn") }
        let clauses = try yaml.strings("clauses")
        guard !clauses.isEmpty else { throw yaml.error("clauses", "every rule must cite the contract clauses it enforces") }
        self.init(id: id, kind: kind, severity: severity, action: action, title: try yaml.localized("title"),
                  remediation: try yaml.localized("remediation"), clauses: clauses)
    }
}
