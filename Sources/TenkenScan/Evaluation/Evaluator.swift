import TenkenBase

/// Turns host facts and a policy into findings. Reads nothing from the host itself; `now`
/// (unix seconds) is passed in so ages are reproducible. Each rule is evaluated by its family;
/// a rule whose sources were not read at all is an error, whatever its family would say.
public enum Evaluator {
    public static func evaluate(
        _ policy: Policy, facts: HostFacts, now: Int,
        ledger: LedgerState = .missing(path: Ledger.defaultPath)
    ) -> [Finding] {
        let context = EvaluationContext(
            facts: facts, index: FactIndex(facts), catalog: policy.catalog, now: now,
            ledger: ledger)
        return policy.rules.map { rule in
            let unread = rule.kind.family.sources.subtracting(facts.collected)
            guard unread.isEmpty else { return notRead(rule, sources: unread) }
            return unsure(rule.kind.family.evaluate(rule, in: context))
        }
    }

    /// A rule that found nothing cannot pass, nor be set aside as not applicable, while a source
    /// it depends on was not fully read: the errors say what was missed. A violation it did find
    /// stands, with the errors beside it, and so does a pass proven by what was seen (the
    /// required antivirus found, the PC found in the ledger).
    static func unsure(_ finding: Finding) -> Finding {
        guard finding.status == .pass || finding.status == .notApplicable, !finding.errors.isEmpty,
            finding.evidence.isEmpty
        else {
            return finding
        }
        return Finding(
            ruleID: finding.ruleID, kind: finding.kind, status: .error, severity: finding.severity,
            title: finding.title, remediation: finding.remediation, clauses: finding.clauses,
            evidence: finding.evidence, errors: finding.errors, notes: finding.notes)
    }

    /// The collection and the rule disagree on what to read: a bug, and never a pass.
    private static func notRead(_ rule: Rule, sources: Set<FactSource>) -> Finding {
        let names = sources.map(\.rawValue).sorted().joined(separator: ", ")
        return finding(
            rule, status: .error, evidence: [], issues: [], notes: [],
            errors: [
                Localized(
                    ja: "この項目に必要な情報源 (\(names)) が読み取られていません", en: "the sources this rule needs (\(names)) were not read"
                )
            ])
    }

    /// A confirmed or strong sighting applies the rule's action; a weak or dual-use one only
    /// warns; an incomplete read with nothing found is an error, never a pass.
    static func finding(_ rule: Rule, evidence: [Evidence], issues: [FactIssue]) -> Finding {
        let errors = issues.filter { $0.level == .error }.map(\.message)
        let status: Finding.Status
        if evidence.contains(where: \.decides) {
            status = violated(rule)
        } else if !errors.isEmpty {
            status = .error
        } else if !evidence.isEmpty {
            status = .warn
        } else {
            status = .pass
        }
        return finding(rule, status: status, evidence: evidence, issues: issues)
    }

    /// A finding with a status the rule decided; errors and notes come from the issues.
    static func finding(
        _ rule: Rule, status: Finding.Status, evidence: [Evidence], issues: [FactIssue],
        notes extra: [Localized] = [], errors extraErrors: [Localized] = []
    ) -> Finding {
        Finding(
            ruleID: rule.id, kind: rule.kind.name, status: status, severity: rule.severity,
            title: rule.title, remediation: rule.remediation, clauses: rule.clauses, evidence: evidence,
            errors: issues.filter { $0.level == .error }.map(\.message) + extraErrors,
            notes: issues.filter { $0.level == .limited }.map(\.message) + extra)
    }

    /// The rule's action when violated: fail, or warn for rules that only flag.
    static func violated(_ rule: Rule) -> Finding.Status { rule.action == .fail ? .fail : .warn }
}
