/// Turns host facts and a policy into findings. Reads nothing from the host itself.
public enum Evaluator {
    public static func evaluate(_ policy: Policy, facts: HostFacts) -> [Finding] {
        let index = FactIndex(facts)
        return policy.rules.map { rule in
            switch rule.kind {
            case .forbiddenSoftware(let categories):
                let evidence = ForbiddenSoftwareMatcher.evidence(for: policy.catalog.entries(in: categories), in: index)
                let sources: Set<FactSource> = [.dpkg, .snap, .flatpak, .files, .processes, .sockets]
                return finding(rule, evidence: evidence, issues: facts.issues(from: sources))
            }
        }
    }

    /// A confirmed sighting applies the rule's action; a suspected one only warns; an
    /// incomplete read with nothing found is an error, never a pass.
    static func finding(_ rule: Rule, evidence: [Evidence], issues: [FactIssue]) -> Finding {
        let errors = issues.filter { $0.level == .error }.map(\.message)
        let notes = issues.filter { $0.level == .limited }.map(\.message)
        let status: Finding.Status
        if evidence.contains(where: { $0.confidence == .confirmed }) {
            status = rule.action == .fail ? .fail : .warn
        } else if !evidence.isEmpty {
            status = .warn
        } else if !errors.isEmpty {
            status = .error
        } else {
            status = .pass
        }
        return Finding(ruleID: rule.id, kind: rule.kind.name, status: status, severity: rule.severity,
                       title: rule.title, remediation: rule.remediation, clauses: rule.clauses,
                       evidence: evidence, errors: errors, notes: notes)
    }
}
