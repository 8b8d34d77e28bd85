/// Rules on patching (001 第6条7, 002 第11条(10)エ): pending updates, fresh package lists,
/// pending reboot, automatic updates.
enum PatchRules {
    static let day = 86_400

    static func evaluate(_ rule: Rule, facts: HostFacts, now: Int) -> Finding {
        var issues = facts.issues(from: [.dpkg, .apt])
        guard let apt = facts.apt else {
            // An unreadable dpkg database is an error; a root without one is simply not Debian.
            if issues.contains(where: { $0.level == .error }) {
                return Evaluator.finding(rule, status: .error, evidence: [], issues: issues)
            }
            return Evaluator.finding(rule, status: .notApplicable, evidence: [], issues: issues, notes: [Localized(
                ja: "dpkg のデータベースがないため対象外です", en: "no dpkg database under the root")])
        }
        var evidence: [Evidence] = []
        let status: Finding.Status
        switch rule.kind {
        case .pendingUpdates(let security, let maxDays):
            if apt.listFiles.isEmpty {
                issues.append(FactIssue(.apt, .error, Localized(
                    ja: "パッケージ一覧 (/var/lib/apt/lists) がないため、保留中の更新を確認できません (apt update を実行してください)",
                    en: "no package lists in /var/lib/apt/lists: pending updates cannot be known (run apt update)")))
            }
            let updates = apt.pendingUpdates.filter { $0.isSecurity == security }
            evidence = updates.map {
                Evidence(source: .update, software: "", item: $0.name, version: $0.candidate,
                         detail: $0.isSecurity ? "security" : nil, installed: $0.installed, archive: $0.archives.joined(separator: ","))
            }
            // An upgrade "in the future" (a wrong clock, an edited log) proves nothing.
            let age = apt.lastUpgradeAt.flatMap { $0 <= now + day ? now - $0 : nil }
            if !updates.isEmpty { evidence.append(lastUpgradeEvidence(age)) }
            if !updates.isEmpty {
                status = (age ?? .max) > maxDays * day ? Evaluator.violated(rule) : .warn
            } else {
                status = issues.contains { $0.level == .error } ? .error : .pass
            }
        case .packageListsFresh(let maxAgeDays):
            if let updated = apt.listsUpdatedAt, updated <= now + day {
                let days = max(0, now - updated) / day
                evidence.append(Evidence(source: .state, software: "", item: AptSource.listsPath, note: Localized(
                    ja: "パッケージ一覧の最終更新: \(Timestamp.date(updated)) (\(days) 日前、上限 \(maxAgeDays) 日)",
                    en: "package lists last updated \(Timestamp.date(updated)) (\(days) days ago, limit \(maxAgeDays))")))
                status = now - updated > maxAgeDays * day ? Evaluator.violated(rule) : .pass
            } else {
                evidence.append(Evidence(source: .state, software: "", item: AptSource.listsPath, note: Localized(
                    ja: "パッケージ一覧が一度も取得されていません", en: "the package lists were never downloaded")))
                status = Evaluator.violated(rule)
            }
        case .rebootNotRequired:
            if apt.reboot.flagged {
                let packages = apt.reboot.packages.joined(separator: ", ")
                evidence.append(Evidence(source: .state, software: "", item: "/run/reboot-required", note: Localized(
                    ja: "再起動が必要です" + (packages.isEmpty ? "" : " (\(packages))"),
                    en: "a reboot is required" + (packages.isEmpty ? "" : " (\(packages))"))))
            }
            if let newer = apt.reboot.newerKernel, let running = apt.reboot.runningKernel {
                evidence.append(Evidence(source: .state, software: "", item: "linux-image-" + newer, version: newer, installed: running,
                                         note: Localized(ja: "実行中のカーネル \(running) より新しいカーネル \(newer) がインストール済みです",
                                                         en: "kernel \(newer) is installed but \(running) is running")))
            }
            status = evidence.isEmpty ? .pass : Evaluator.violated(rule)
        case .automaticUpdates:
            let automatic = apt.automaticUpdates
            let value = automatic.unattendedUpgrade ?? "0"
            let enabled = automatic.packageInstalled && value != "0" && !value.isEmpty
            let place = automatic.setIn ?? "/etc/apt/apt.conf.d"
            let shown = automatic.unattendedUpgrade.map { Localized(ja: "\"\($0)\"", en: "\"\($0)\"") }
                ?? Localized(ja: "未設定", en: "not set")
            evidence.append(Evidence(source: .state, software: "", item: place, note: Localized(
                ja: "unattended-upgrades: " + (automatic.packageInstalled ? "インストール済み" : "未インストール")
                    + "、APT::Periodic::Unattended-Upgrade " + shown.ja,
                en: "unattended-upgrades " + (automatic.packageInstalled ? "installed" : "not installed")
                    + ", APT::Periodic::Unattended-Upgrade " + shown.en)))
            status = enabled ? .pass : Evaluator.violated(rule)
        default:
            status = .notApplicable
        }
        return Evaluator.finding(rule, status: status, evidence: evidence, issues: issues)
    }

    private static func lastUpgradeEvidence(_ age: Int?) -> Evidence {
        guard let age else {
            return Evidence(source: .state, software: "", item: "/var/log/dpkg.log", note: Localized(
                ja: "パッケージ更新の記録がありません", en: "no package upgrade is recorded"))
        }
        let days = max(0, age) / day
        return Evidence(source: .state, software: "", item: "/var/log/dpkg.log", note: Localized(
            ja: "最後のパッケージ更新は \(days) 日前です", en: "the last package upgrade was \(days) days ago"))
    }
}
