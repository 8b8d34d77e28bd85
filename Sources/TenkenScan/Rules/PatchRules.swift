import TenkenBase

/// Rules on patching (001 第6条7, 002 第11条(10)エ): pending updates, fresh package lists,
/// pending reboot, automatic updates.
public enum PatchRule: RuleFamily {
    /// No pending update (security ones, or the others) first seen more than `maxDays` ago;
    /// `unknownAge` is the status of one whose age is not known (no history yet).
    case pendingUpdates(security: Bool, maxDays: Int, unknownAge: UnknownAge)
    /// `apt update` ran within `maxAgeDays`.
    case packageListsFresh(maxAgeDays: Int)
    /// No reboot pending for an installed kernel or library.
    case rebootNotRequired
    /// unattended-upgrades installed and enabled in APT::Periodic.
    case automaticUpdates
    /// The release still gets security updates (distro-info's dates); warns `warnDays` before the end.
    case releaseSupported(warnDays: Int)

    /// What an update of unknown age makes of the rule: its action, or a warning.
    public enum UnknownAge: String, Sendable, Hashable {
        case fail, warn
    }

    /// The family's rule kinds as a policy's `kind:` names them.
    public enum Name: String, CaseIterable, Sendable {
        case pendingUpdates = "pending-updates"
        case packageListsFresh = "package-lists-fresh"
        case rebootNotRequired = "reboot-not-required"
        case automaticUpdates = "automatic-updates"
        case releaseSupported = "release-supported"
    }

    public var name: Name {
        switch self {
        case .pendingUpdates: return .pendingUpdates
        case .packageListsFresh: return .packageListsFresh
        case .rebootNotRequired: return .rebootNotRequired
        case .automaticUpdates: return .automaticUpdates
        case .releaseSupported: return .releaseSupported
        }
    }

    static func parameters(of name: Name) -> Set<String> {
        switch name {
        case .pendingUpdates: return ["updates", "max-days", "unknown-age"]
        case .packageListsFresh: return ["max-age-days"]
        case .rebootNotRequired, .automaticUpdates: return []
        case .releaseSupported: return ["warn-days"]
        }
    }

    init(_ name: Name, from yaml: YAMLObject) throws(PolicyError) {
        switch name {
        case .pendingUpdates:
            let updates = try yaml.optionalString("updates") ?? "security"
            guard updates == "security" || updates == "other" else {
                throw yaml.error("updates", "'\(updates)' is not security or other")
            }
            // The clauses want patches applied before work starts: an unknown age fails a security update.
            let unknown = try yaml.optionalString("unknown-age") ?? (updates == "security" ? "fail" : "warn")
            guard let unknownAge = UnknownAge(rawValue: unknown) else {
                throw yaml.error("unknown-age", "'\(unknown)' is not fail or warn")
            }
            self = .pendingUpdates(
                security: updates == "security", maxDays: try yaml.count("max-days", default: 7), unknownAge: unknownAge
            )
        case .packageListsFresh: self = .packageListsFresh(maxAgeDays: try yaml.count("max-age-days", default: 7))
        case .rebootNotRequired: self = .rebootNotRequired
        case .automaticUpdates: self = .automaticUpdates
        case .releaseSupported: self = .releaseSupported(warnDays: try yaml.count("warn-days", default: 90))
        }
    }

    var ruleKind: RuleKind { .patches(self) }
    var sources: Set<FactSource> {
        if case .releaseSupported = self { return [.dpkg, .release] }
        return [.dpkg, .apt]
    }

    func refine(_ request: inout HostFacts.Request) {
        if case .releaseSupported = self { return }
        request.pendingUpdates = true
    }

    static let day = 86_400

    /// What of apt's facts each rule reads: a gap elsewhere does not hold it back.
    var parts: Set<FactPart> {
        switch self {
        case .pendingUpdates: [.packageLists, .updateHistory]
        case .packageListsFresh: [.listsUpdated]
        case .rebootNotRequired: [.rebootState]
        case .automaticUpdates: [.updateSettings]
        // Not apt's: every gap of the release source concerns it.
        case .releaseSupported: []
        }
    }

    func evaluate(_ rule: Rule, in context: EvaluationContext) -> Finding {
        if case .releaseSupported(let warnDays) = self {
            return ReleaseSupport.evaluate(rule, warnDays: warnDays, in: context)
        }
        let facts = context.facts
        let now = context.now
        let issues = context.issues(from: sources, about: parts)
        guard let apt = facts.apt else {
            // An unreadable dpkg database is an error; a root without one is simply not Debian.
            if issues.contains(where: { $0.level == .error }) {
                return Evaluator.finding(rule, status: .error, evidence: [], issues: issues)
            }
            // The missing database is this rule's reason, said once in its own words.
            return Evaluator.finding(
                rule, status: .notApplicable, evidence: [],
                issues: issues.filter { !($0.source == .dpkg && $0.kind == .missing) },
                notes: [
                    Localized(
                        ja: "dpkg のデータベースがないため対象外です", en: "no dpkg database under the root")
                ])
        }
        var evidence: [Evidence] = []
        let status: Finding.Status
        switch self {
        case .pendingUpdates(let security, let maxDays, let unknownAge):
            // A pin does not excuse a security update any more than a hold does.
            let updates = (apt.pendingUpdates + (security ? apt.pinnedSecurityUpdates : [])).filter {
                $0.isSecurity == security
            }
            let judged = UpdateAge.judge(
                updates, maxDays: maxDays, unknownAge: unknownAge, rule: rule, now: now,
                incomplete: issues.contains { $0.level == .error })
            return Evaluator.finding(
                rule, status: judged.status, evidence: judged.evidence, issues: issues, notes: judged.notes)
        case .packageListsFresh(let maxAgeDays):
            if let updated = apt.listsUpdatedAt, updated <= now + Self.day {
                let days = max(0, now - updated) / Self.day
                evidence.append(
                    Evidence(
                        source: .state, software: "", item: AptFacts.listsPath,
                        note: Localized(
                            ja: "パッケージ一覧の最終更新: \(Timestamp.date(updated)) (\(days) 日前、上限 \(maxAgeDays) 日)",
                            en: "package lists last updated \(Timestamp.date(updated)) "
                                + "(\(days) days ago, limit \(maxAgeDays))"
                        )))
                status = now - updated > maxAgeDays * Self.day ? Evaluator.violated(rule) : .pass
            } else {
                evidence.append(
                    Evidence(
                        source: .state, software: "", item: AptFacts.listsPath,
                        note: Localized(
                            ja: "パッケージ一覧が一度も取得されていません", en: "the package lists were never downloaded")))
                status = Evaluator.violated(rule)
            }
        case .rebootNotRequired:
            if apt.reboot.flagged {
                let packages = apt.reboot.packages.joined(separator: ", ")
                evidence.append(
                    Evidence(
                        source: .state, software: "", item: "/run/reboot-required",
                        note: Localized(
                            ja: "再起動が必要です" + (packages.isEmpty ? "" : " (\(packages))"),
                            en: "a reboot is required" + (packages.isEmpty ? "" : " (\(packages))"))))
            }
            if let newer = apt.reboot.newerKernel, let running = apt.reboot.runningKernel {
                evidence.append(
                    Evidence(
                        source: .state, software: "", item: "linux-image-" + newer, version: newer, installed: running,
                        note: Localized(
                            ja: "実行中のカーネル \(running) より新しいカーネル \(newer) がインストール済みです",
                            en: "kernel \(newer) is installed but \(running) is running")))
            }
            status = evidence.isEmpty ? .pass : Evaluator.violated(rule)
        case .automaticUpdates:
            let automatic = apt.automaticUpdates
            let value = automatic.unattendedUpgrade ?? "0"
            let enabled = automatic.packageInstalled && value != "0" && !value.isEmpty
            let place = automatic.setIn ?? "/etc/apt/apt.conf.d"
            let shown =
                automatic.unattendedUpgrade.map { Localized(ja: "\"\($0)\"", en: "\"\($0)\"") }
                ?? Localized(ja: "未設定", en: "not set")
            evidence.append(
                Evidence(
                    source: .state, software: "", item: place,
                    note: Localized(
                        ja: "unattended-upgrades: " + (automatic.packageInstalled ? "インストール済み" : "未インストール")
                            + "、APT::Periodic::Unattended-Upgrade " + shown.ja,
                        en: "unattended-upgrades " + (automatic.packageInstalled ? "installed" : "not installed")
                            + ", APT::Periodic::Unattended-Upgrade " + shown.en)))
            status = enabled ? .pass : Evaluator.violated(rule)
        case .releaseSupported(let warnDays):
            // Decided above, without apt's facts; here only for the switch to be exhaustive.
            return ReleaseSupport.evaluate(rule, warnDays: warnDays, in: context)
        }
        return Evaluator.finding(rule, status: status, evidence: evidence, issues: issues)
    }
}
