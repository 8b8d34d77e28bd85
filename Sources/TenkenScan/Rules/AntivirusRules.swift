import TenkenBase

/// Antivirus patterns must be current (002 第11条(10)ウ): ClamAV database build times against
/// the policy's limit; other products' formats are not readable and are reported as such.
public enum AntivirusRule: RuleFamily {
    /// Antivirus patterns built within `maxAgeHours`.
    case antivirusDefinitions(maxAgeHours: Int)

    /// The family's rule kinds as a policy's `kind:` names them.
    public enum Name: String, CaseIterable, Sendable {
        case antivirusDefinitions = "antivirus-definitions"
    }

    public var name: Name {
        switch self {
        case .antivirusDefinitions: return .antivirusDefinitions
        }
    }

    static func parameters(of name: Name) -> Set<String> {
        switch name {
        case .antivirusDefinitions: return ["max-age-hours"]
        }
    }

    init(_ name: Name, from yaml: YAMLObject) throws(PolicyError) {
        switch name {
        case .antivirusDefinitions:
            self = .antivirusDefinitions(maxAgeHours: try yaml.count("max-age-hours", default: 48))
        }
    }

    var ruleKind: RuleKind { .antivirus(self) }
    /// The databases, and where the installed antivirus products are seen.
    var sources: Set<FactSource> { [.antivirus, .dpkg, .snap, .flatpak, .files, .paths] }
    var categories: [String] { ["antivirus"] }

    func evaluate(_ rule: Rule, in context: EvaluationContext) -> Finding {
        switch self {
        case .antivirusDefinitions(let maxAgeHours): return definitions(rule, maxAgeHours: maxAgeHours, in: context)
        }
    }

    private func definitions(_ rule: Rule, maxAgeHours: Int, in context: EvaluationContext) -> Finding {
        let facts = context.facts
        let now = context.now
        // The patterns' age depends on the databases alone; which product is installed, on where
        // software is seen.
        let issues = context.issues(from: [.antivirus])
        let entries = context.catalog.entries(in: categories)
        let installed = Set(
            SoftwareMatcher.evidence(for: entries, in: context.index)
                .filter { $0.confidence == .confirmed && $0.source != .process && $0.source != .socket }.map(\.software)
        )
        let clamName = entries.first { $0.id == "clamav" }?.name ?? "ClamAV"
        var evidence: [Evidence] = []
        if let clam = facts.clamav, let newest = clam.newestBuild {
            for database in clam.databases {
                let hours = max(0, now - database.builtAt) / 3600
                evidence.append(
                    Evidence(
                        source: .state, software: clamName, item: database.file, version: String(database.version),
                        note: Localized(
                            ja: "\(database.signatures) 件のシグネチャ、\(Timestamp.date(database.builtAt)) 作成 (\(hours) 時間前)",
                            en: "\(database.signatures) signatures, built \(Timestamp.date(database.builtAt)) "
                                + "(\(hours) hours ago)"
                        )))
            }
            for line in clam.updaterErrors {
                evidence.append(
                    Evidence(
                        source: .state, software: clamName, item: ClamAVFacts.logPath,
                        note: Localized(ja: "freshclam のエラー: " + line, en: "freshclam error: " + line)))
            }
            // A build time in the future (a wrong clock, a forged header) does not make patterns current.
            let status: Finding.Status =
                issues.contains { $0.level == .error }
                ? .error
                : (now - newest > maxAgeHours * 3600 || newest > now + 86_400) ? Evaluator.violated(rule) : .pass
            return Evaluator.finding(rule, status: status, evidence: evidence, issues: issues)
        }
        if installed.contains(clamName) {
            evidence.append(
                Evidence(
                    source: .state, software: clamName, item: ClamAVFacts.databasePath,
                    note: Localized(
                        ja: "ClamAV のパターンファイルがありません (freshclam が一度も成功していません)",
                        en: "ClamAV has no signature database (freshclam never succeeded)")))
            let status: Finding.Status = issues.contains { $0.level == .error } ? .error : Evaluator.violated(rule)
            return Evaluator.finding(rule, status: status, evidence: evidence, issues: issues)
        }
        let others = installed.sorted().joined(separator: ", ")
        let note =
            others.isEmpty
            ? Localized(ja: "ウイルス対策ソフトウェアがインストールされていません", en: "no antivirus software is installed")
            : Localized(
                ja: "\(others) のパターン更新日時は tenken では読み取れません。製品の管理画面で確認してください",
                en: "the pattern age of \(others) is not readable by tenken; check the product's console")
        // "No antivirus installed" is only known when every place software is seen was read.
        let softwareIssues = context.issues(from: sources)
        let unseen = softwareIssues.contains { $0.level == .error }
        return Evaluator.finding(
            rule, status: unseen ? .error : .notApplicable, evidence: [], issues: softwareIssues, notes: [note])
    }
}
