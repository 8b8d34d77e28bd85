/// Turns host facts and a policy into findings. Reads nothing from the host itself; `now`
/// (unix seconds) is passed in so ages are reproducible.
public enum Evaluator {
    public static func evaluate(_ policy: Policy, facts: HostFacts, now: Int,
                                ledger: LedgerState = .missing(path: Ledger.defaultPath)) -> [Finding] {
        let index = FactIndex(facts)
        return policy.rules.map { rule in
            switch rule.kind {
            case .forbiddenSoftware(let categories):
                let evidence = SoftwareMatcher.evidence(for: policy.catalog.entries(in: categories), in: index)
                return finding(rule, evidence: evidence, issues: facts.issues(from: softwareSources))
            case .requiredSoftware(let categories, let mustRun):
                return RequiredSoftware.evaluate(rule, entries: policy.catalog.entries(in: categories), mustRun: mustRun,
                                                 index: index)
            case .pendingUpdates, .packageListsFresh, .rebootNotRequired, .automaticUpdates:
                return PatchRules.evaluate(rule, facts: facts, now: now)
            case .diskEncryption, .authentication, .screenLock, .sshLogin, .logRetention, .firewallEnabled, .privilegedUsers:
                return HostControlRules.evaluate(rule, facts: facts)
            case .machineRegistered, .mediaRegistered, .mobileDevices, .mediaEncrypted:
                return DeviceRules.evaluate(rule, facts: facts, ledger: ledger)
            case .antivirusDefinitions(let maxAgeHours):
                return AntivirusDefinitions.evaluate(rule, maxAgeHours: maxAgeHours, facts: facts, index: index,
                                                     catalog: policy.catalog, now: now)
            }
        }
    }

    static let softwareSources: Set<FactSource> = [.dpkg, .snap, .flatpak, .files, .processes, .sockets]

    /// A confirmed sighting applies the rule's action; a suspected one only warns; an
    /// incomplete read with nothing found is an error, never a pass.
    static func finding(_ rule: Rule, evidence: [Evidence], issues: [FactIssue]) -> Finding {
        let errors = issues.filter { $0.level == .error }.map(\.message)
        let status: Finding.Status
        if evidence.contains(where: { $0.confidence == .confirmed }) {
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
    static func finding(_ rule: Rule, status: Finding.Status, evidence: [Evidence], issues: [FactIssue],
                        notes extra: [Localized] = []) -> Finding {
        Finding(ruleID: rule.id, kind: rule.kind.name, status: status, severity: rule.severity,
                title: rule.title, remediation: rule.remediation, clauses: rule.clauses, evidence: evidence,
                errors: issues.filter { $0.level == .error }.map(\.message),
                notes: issues.filter { $0.level == .limited }.map(\.message) + extra)
    }

    /// The rule's action when violated: fail, or warn for rules that only flag.
    static func violated(_ rule: Rule) -> Finding.Status { rule.action == .fail ? .fail : .warn }
}
