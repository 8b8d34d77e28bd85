import TenkenBase

/// Rules on the host's own controls: 001 第6条8(2)(3), 002 第11条(3)(10)ア・イ, 004 第8 2.
public enum HostControlRule: RuleFamily {
    /// / and /home are on LUKS.
    case diskEncryption
    /// No account without a password, no display-manager autologin.
    case authentication
    /// GNOME locks the screen after at most `maxIdleMinutes`.
    case screenLock(maxIdleMinutes: Int)
    /// sshd refuses root and empty-password logins and password authentication.
    case sshLogin
    /// Logs are kept at least `minDays` (persistent journal or rsyslog rotation).
    case logRetention(minDays: Int)
    /// A firewall is enabled at boot.
    case firewallEnabled
    /// Members of sudo, wheel, adm and admin are reported.
    case privilegedUsers

    /// The family's rule kinds as a policy's `kind:` names them.
    public enum Name: String, CaseIterable, Sendable {
        case diskEncryption = "disk-encryption"
        case authentication
        case screenLock = "screen-lock"
        case sshLogin = "ssh-login"
        case logRetention = "log-retention"
        case firewallEnabled = "firewall-enabled"
        case privilegedUsers = "privileged-users"
    }

    public var name: Name {
        switch self {
        case .diskEncryption: return .diskEncryption
        case .authentication: return .authentication
        case .screenLock: return .screenLock
        case .sshLogin: return .sshLogin
        case .logRetention: return .logRetention
        case .firewallEnabled: return .firewallEnabled
        case .privilegedUsers: return .privilegedUsers
        }
    }

    static func parameters(of name: Name) -> Set<String> {
        switch name {
        case .screenLock: return ["max-idle-minutes"]
        case .logRetention: return ["min-days"]
        case .diskEncryption, .authentication, .sshLogin, .firewallEnabled, .privilegedUsers: return []
        }
    }

    init(_ name: Name, from yaml: YAMLObject) throws(PolicyError) {
        switch name {
        case .diskEncryption: self = .diskEncryption
        case .authentication: self = .authentication
        case .screenLock: self = .screenLock(maxIdleMinutes: try yaml.count("max-idle-minutes", default: 15))
        case .sshLogin: self = .sshLogin
        case .logRetention: self = .logRetention(minDays: try yaml.count("min-days", default: 365))
        case .firewallEnabled: self = .firewallEnabled
        case .privilegedUsers: self = .privilegedUsers
        }
    }

    var ruleKind: RuleKind { .hostControls(self) }

    /// Each rule reads its own source; screen lock, sshd, rsyslog and firewalls are also looked
    /// for among installed packages.
    var sources: Set<FactSource> {
        switch self {
        case .diskEncryption: return [.disks]
        case .authentication: return [.accounts]
        case .privilegedUsers: return [.groups]
        case .screenLock: return [.desktop, .dpkg]
        case .sshLogin: return [.sshd, .dpkg]
        case .logRetention: return [.logs, .dpkg]
        case .firewallEnabled: return [.firewall, .dpkg]
        }
    }

    func evaluate(_ rule: Rule, in context: EvaluationContext) -> Finding {
        let facts = context.facts
        let issues = context.issues(from: sources)
        let unreadable = issues.contains { $0.level == .error }
        guard let controls = facts.hostControls else {
            return Evaluator.finding(rule, status: .notApplicable, evidence: [], issues: issues)
        }
        func state(_ item: String, _ ja: String, _ en: String) -> Evidence {
            Evidence(source: .state, software: "", item: item, note: Localized(ja: ja, en: en))
        }
        /// Does not apply (no GNOME, no sshd, no mount table), unless what told us so could not be read.
        func notApplicable(notes: [Localized]) -> Finding {
            Evaluator.finding(
                rule, status: unreadable ? .error : .notApplicable, evidence: [], issues: issues, notes: notes)
        }
        /// What was seen and violates the rule fails it; nothing seen passes only when every file
        /// the rule needed was read. When the violation is that something was not found (no
        /// firewall, logs not kept), a file that could not be read may hold it: error, not fail.
        func result(_ evidence: [Evidence], violated: Bool, byAbsence: Bool = false, notes: [Localized] = []) -> Finding
        {
            let status: Finding.Status =
                unreadable && (!violated || byAbsence)
                ? .error
                : violated ? Evaluator.violated(rule) : .pass
            return Evaluator.finding(rule, status: status, evidence: evidence, issues: issues, notes: notes)
        }
        switch self {
        case .diskEncryption:
            guard let mounts = controls.mounts, !mounts.isEmpty else {
                return notApplicable(notes: [
                    Localized(
                        ja: "マウント情報 (/proc/self/mountinfo) がないため確認できません (ディスクイメージの検査など)",
                        en: "no mount table (/proc/self/mountinfo) under the root, as when scanning a disk image")
                ])
            }
            let evidence = mounts.map { mount in
                state(
                    mount.mountPoint,
                    (mount.encrypted ? "LUKS で暗号化: " : "暗号化されていません: ") + mount.chain.joined(separator: " → "),
                    (mount.encrypted ? "on LUKS: " : "not encrypted: ") + mount.chain.joined(separator: " → "))
            }
            return result(evidence, violated: mounts.contains { !$0.encrypted })
        case .authentication:
            var evidence = controls.emptyPasswordAccounts.map {
                state($0, "パスワードなしでログインできるアカウント", "account with an empty password")
            }
            evidence += controls.autologins.map {
                state($0, "ディスプレイマネージャーの自動ログイン", "display manager logs in automatically")
            }
            if evidence.isEmpty && !controls.shadowReadable {
                return Evaluator.finding(
                    rule, status: .error, evidence: [], issues: issues,
                    notes: [
                        Localized(
                            ja: "/etc/shadow を読めないため空パスワードを確認できません (root で実行してください)",
                            en: "/etc/shadow is not readable, so empty passwords cannot be checked (run as root)")
                    ])
            }
            return result(evidence, violated: !evidence.isEmpty)
        case .screenLock(let maxIdleMinutes):
            guard let lock = controls.screenLock else {
                return notApplicable(notes: [
                    Localized(
                        ja: "GNOME がインストールされていません", en: "GNOME is not installed")
                ])
            }
            let place = lock.setIn.last ?? "GNOME defaults"
            let evidence = [
                state(
                    place, "画面ロック \(lock.lockEnabled ? "有効" : "無効")、\(lock.idleDelaySeconds / 60) 分で待機",
                    "screen lock \(lock.lockEnabled ? "on" : "off"), idle after \(lock.idleDelaySeconds / 60) minutes")
            ]
            let tooLong = lock.idleDelaySeconds == 0 || lock.idleDelaySeconds > maxIdleMinutes * 60
            return result(
                evidence, violated: !lock.lockEnabled || tooLong,
                notes: [
                    Localized(
                        ja: "ユーザー個別の設定 (~/.config/dconf) は読み取りません",
                        en: "per-user settings (~/.config/dconf) are not read")
                ])
        case .sshLogin:
            guard let sshd = controls.sshd else {
                return notApplicable(notes: [
                    Localized(
                        ja: "openssh-server がインストールされていません", en: "openssh-server is not installed")
                ])
            }
            var evidence: [Evidence] = []
            if (sshd["permitrootlogin"] ?? "prohibit-password") == "yes" {
                evidence.append(state("PermitRootLogin yes", "root がパスワードでログインできます", "root may log in with a password"))
            }
            if sshd["permitemptypasswords"] == "yes" {
                evidence.append(state("PermitEmptyPasswords yes", "空パスワードでログインできます", "empty passwords are accepted"))
            }
            // sshd's default allows passwords: a violation only by default is one an unreadable
            // file could have set right, unlike a "yes" that was read.
            let passwordsByDefault = sshd["passwordauthentication"] == nil
            if (sshd["passwordauthentication"] ?? "yes") == "yes" {
                evidence.append(
                    state(
                        "PasswordAuthentication yes", "パスワード認証が有効です (公開鍵認証を推奨)",
                        "password logins are enabled (use keys)"))
            }
            return result(evidence, violated: !evidence.isEmpty, byAbsence: evidence.count == 1 && passwordsByDefault)
        case .logRetention(let minDays):
            let logs = controls.logRetention
            let journalDays = logs.journalMaxRetention == 0 ? Int.max : logs.journalMaxRetention / 86_400
            let journalOK = logs.journalPersistent && journalDays >= minDays
            let rsyslogOK = (logs.rsyslogDays ?? 0) >= minDays
            var evidence = [
                state(
                    "/etc/systemd/journald.conf",
                    "journald: " + (logs.journalPersistent ? "永続保存" : "再起動で消える (永続保存なし)")
                        + (logs.journalMaxRetention > 0 ? "、MaxRetentionSec \(journalDays) 日" : ""),
                    "journald: " + (logs.journalPersistent ? "persistent" : "lost at reboot (not persistent)")
                        + (logs.journalMaxRetention > 0 ? ", MaxRetentionSec \(journalDays) days" : ""))
            ]
            if let days = logs.rsyslogDays {
                evidence.append(
                    state("/etc/logrotate.d/rsyslog", "rsyslog のログは \(days) 日保存", "rsyslog logs are kept \(days) days"))
            }
            return result(
                evidence, violated: !(journalOK || rsyslogOK), byAbsence: true,
                notes: journalOK
                    ? [
                        Localized(
                            ja: "journald は容量上限 (SystemMaxUse) に達すると古いログを削除します。1 年分の容量があることを確認してください",
                            en: "journald drops old logs when it reaches SystemMaxUse; make sure a year of logs fits")
                    ] : [])
        case .firewallEnabled:
            let evidence = controls.firewalls.map { state($0, "起動時に有効", "enabled at boot") }
            return result(evidence, violated: evidence.isEmpty, byAbsence: true)
        case .privilegedUsers:
            let evidence = controls.privilegedMembers.keys.sorted().map { group in
                let members = controls.privilegedMembers[group]!.joined(separator: ", ")
                return state(
                    group, "メンバー: " + (members.isEmpty ? "(なし)" : members),
                    "members: " + (members.isEmpty ? "(none)" : members))
            }
            return Evaluator.finding(rule, status: unreadable ? .error : .pass, evidence: evidence, issues: issues)
        }
    }
}
