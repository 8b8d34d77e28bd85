import TenkenBase

/// A family of rule kinds, kept in one file: the kinds with their parameters (read from the
/// policy's YAML), the fact sources they need and how they are evaluated. Every switch over a
/// family's kinds is exhaustive, so adding a kind to a family makes the compiler list what that
/// kind still lacks.
protocol RuleFamily: Sendable, Hashable {
    /// The kinds' names as policies write them ("pending-updates").
    associatedtype Name: RawRepresentable, CaseIterable where Name.RawValue == String

    var name: Name { get }
    /// The YAML keys a kind takes besides the common ones (id, kind, severity, ...).
    static func parameters(of name: Name) -> Set<String>
    /// Reads the kind's parameters; only `parameters(of:)` keys are present.
    init(_ name: Name, from yaml: YAMLObject) throws(PolicyError)
    /// This kind inside `RuleKind`.
    var ruleKind: RuleKind { get }
    /// The fact sources the kind reads; the evaluation is `error` when one could not be read.
    var sources: Set<FactSource> { get }
    /// Catalog categories the kind refers to (checked when the policy loads).
    var categories: [String] { get }
    /// Adds what the sources need beyond being turned on (history depth).
    func refine(_ request: inout HostFacts.Request)
    func evaluate(_ rule: Rule, in context: EvaluationContext) -> Finding
}

extension RuleFamily {
    /// The kind's name as policies write it.
    var nameText: String { name.rawValue }
    var categories: [String] { [] }
    func refine(_ request: inout HostFacts.Request) {}

    static var parametersByName: [String: Set<String>] {
        Dictionary(uniqueKeysWithValues: Name.allCases.map { ($0.rawValue, parameters(of: $0)) })
    }

    /// The kind called `name` in this family, or nil when the family has no such kind.
    static func kind(named name: String, from yaml: YAMLObject) throws(PolicyError) -> RuleKind? {
        guard let name = Name(rawValue: name) else { return nil }
        return try Self(name, from: yaml).ruleKind
    }
}
