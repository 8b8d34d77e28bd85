import TenkenBase

/// Rules on software (001 第6条2, 002 第11条(10)ア・ウ, 004 第8 2): none of the forbidden
/// categories' software present; some of the required categories' installed (or running).
public enum SoftwareRule: RuleFamily {
    /// None of the catalog categories' software may be present.
    case forbiddenSoftware(categories: [String])
    /// Some software of the categories must be installed (or, with `mustRun`, running).
    case requiredSoftware(categories: [String], mustRun: Bool)

    /// The family's rule kinds as a policy's `kind:` names them.
    public enum Name: String, CaseIterable, Sendable {
        case forbiddenSoftware = "forbidden-software"
        case requiredSoftware = "required-software"
    }

    public var name: Name {
        switch self {
        case .forbiddenSoftware: return .forbiddenSoftware
        case .requiredSoftware: return .requiredSoftware
        }
    }

    static func parameters(of name: Name) -> Set<String> {
        switch name {
        case .forbiddenSoftware: return ["categories"]
        case .requiredSoftware: return ["categories", "must-run"]
        }
    }

    init(_ name: Name, from yaml: YAMLObject) throws(PolicyError) {
        let categories = try yaml.strings("categories")
        guard !categories.isEmpty else {
            throw yaml.error("categories", "\(name.rawValue) needs at least one catalog category")
        }
        switch name {
        case .forbiddenSoftware: self = .forbiddenSoftware(categories: categories)
        case .requiredSoftware:
            self = .requiredSoftware(categories: categories, mustRun: try yaml.bool("must-run", default: false))
        }
    }

    var ruleKind: RuleKind { .software(self) }

    /// Everything software can be seen in: packages, files, install paths, processes, sockets.
    static let softwareSources: Set<FactSource> = [.dpkg, .snap, .flatpak, .files, .paths, .processes, .sockets]
    /// Forbidden software is also known by what it is: package tags in apt's lists, program content.
    var sources: Set<FactSource> {
        switch self {
        case .forbiddenSoftware: return Self.softwareSources.union([.apt, .content])
        case .requiredSoftware: return Self.softwareSources
        }
    }

    var categories: [String] {
        switch self {
        case .forbiddenSoftware(let categories), .requiredSoftware(let categories, _): return categories
        }
    }

    func evaluate(_ rule: Rule, in context: EvaluationContext) -> Finding {
        let entries = context.catalog.entries(in: categories)
        var evidence = SoftwareMatcher.evidence(for: entries, in: context.index)
        // Of apt's facts only the lists' contents (tags) are read: a stale list says nothing of software.
        let issues = context.issues(from: sources, about: [.packageLists])
        switch self {
        case .forbiddenSoftware:
            evidence += ContentMatcher.evidence(
                for: categories, catalog: context.catalog, named: entries, in: context.index)
            return Evaluator.finding(rule, evidence: evidence, issues: issues)
        case .requiredSoftware(_, let mustRun):
            let counted = evidence.filter { item in
                guard item.confidence == .confirmed else { return false }
                return mustRun ? item.source == .process : item.source != .process && item.source != .socket
            }
            let status: Finding.Status
            if !counted.isEmpty {
                status = .pass
            } else if issues.contains(where: { $0.level == .error }) {
                status = .error
            } else {
                status = Evaluator.violated(rule)
            }
            return Evaluator.finding(rule, status: status, evidence: evidence, issues: issues)
        }
    }
}
