/// The human-readable verdict `tenken check` prints, in one language.
public struct TextReport {
    public let report: CheckReport
    public let language: Language

    public init(_ report: CheckReport, language: Language) {
        self.report = report
        self.language = language
    }

    public func render() -> String {
        let text = Messages(language)
        var lines: [String] = []
        lines.append("tenken \(TenkenVersion.current) — \(text.checkTitle)")
        let host = report.host.hostname.isEmpty ? text.unknown : report.host.hostname
        let os = report.host.os.isEmpty ? "" : " (\(report.host.os))"
        lines.append("\(text.hostLabel): \(host)\(os)")
        lines.append("\(text.rootLabel): \(report.root)")
        lines.append(
            "\(text.policyLabel): \(report.policy.id) v\(report.policy.version)  \(report.policy.digest.prefix(19))…")
        lines.append("")
        let ordered = report.findings.sorted { ($0.status.order, $1.severity) < ($1.status.order, $0.severity) }
        for finding in ordered {
            lines.append(
                "\(text.statusMark(finding.status)) [\(finding.severity.rawValue)] "
                    + "\(finding.ruleID) — \(finding.title[language])"
            )
            for evidence in finding.evidence.prefix(30) {
                lines.append("    ・\(text.describe(evidence))")
            }
            if finding.evidence.count > 30 {
                lines.append("    ・\(text.more(finding.evidence.count - 30))")
            }
            for error in finding.errors { lines.append("    \(text.errorLabel): \(error[language])") }
            for note in finding.notes { lines.append("    \(text.noteLabel): \(note[language])") }
            if finding.status == .fail || finding.status == .warn || finding.status == .error {
                lines.append("    \(text.remediationLabel): \(finding.remediation[language])")
            }
            lines.append("    \(text.clausesLabel): \(finding.clauses.joined(separator: ", "))")
        }
        // Where a source missed something that could hide a violation; narrowed visibility (not
        // root) is already in the findings' notes.
        let incomplete = report.coverage.filter { $0.state == .incomplete }
        if !incomplete.isEmpty {
            lines.append("")
            lines.append(text.coverageTitle)
            for coverage in incomplete { lines.append(text.coverageLine(coverage)) }
        }
        lines.append("")
        lines.append(text.verdictLine(report))
        // Every line is escaped whole: tenken's own wording has no control characters, so what is
        // escaped is what came from the machine or the policy.
        return lines.map(TerminalText.escaped).joined(separator: "\n") + "\n"
    }
}

extension Finding.Status {
    /// Failures first: what needs doing is at the top.
    var order: Int { [.fail, .error, .warn, .pass, .notApplicable].firstIndex(of: self)! }
}
