import TenkenBase

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

    /// The same policy with only the named rules, in the policy's order; nil names an unknown rule.
    public func selecting(_ ids: [String]) -> Result<Policy, PolicyError> {
        let known = Set(rules.map(\.id))
        if let unknown = ids.first(where: { !known.contains($0) }) {
            return .failure(
                PolicyError(
                    file: id, message: "no rule '\(unknown)'; rules: \(rules.map(\.id).joined(separator: ", "))"))
        }
        let selected = rules.filter { ids.contains($0.id) }
        guard selected.count < rules.count else { return .success(self) }
        // A check of some rules is not a check of the policy: its reports name another digest,
        // so a collector that expects the policy's never counts one as the full check.
        return .success(
            Policy(
                id: id, version: version, title: title, rules: selected, catalog: catalog,
                digest: PolicyDigest.subset(of: digest, rules: selected.map(\.id))))
    }

    /// The extra facts this policy's rules need collected.
    public var factRequest: HostFacts.Request {
        var request = HostFacts.Request()
        request.programNames = []
        request.pendingUpdates = false
        var inspected: [String] = []
        for rule in rules {
            if case .software(.forbiddenSoftware(let categories)) = rule.kind {
                inspected += categories.filter { !inspected.contains($0) }
            }
            request.sources.formUnion(rule.kind.family.sources)
            rule.kind.family.refine(&request)
            for entry in catalog.entries(in: rule.kind.categories) {
                request.probePaths.formUnion(entry.paths)
                request.socketPorts += entry.ports
                for name in entry.executables + entry.wine {
                    request.programNames?.insert(name.lowercased())
                    request.processNames.insert(name.lowercased())
                    request.processNames.insert(String(decoding: name.lowercased().utf8.prefix(15), as: UTF8.self))
                }
            }
        }
        if !inspected.isEmpty { request.content = catalog.contentRules(for: inspected) }
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
