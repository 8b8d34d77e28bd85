/// Rules that need some software present: antivirus installed, an on-access scanner running.
enum RequiredSoftware {
    static func evaluate(_ rule: Rule, entries: [CatalogEntry], mustRun: Bool, index: FactIndex) -> Finding {
        let evidence = SoftwareMatcher.evidence(for: entries, in: index)
        let counted = evidence.filter { item in
            guard item.confidence == .confirmed else { return false }
            return mustRun ? item.source == .process : item.source != .process && item.source != .socket
        }
        let issues = index.facts.issues(from: Evaluator.softwareSources)
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
