/// Every fixed string tenken prints, in Japanese and English.
struct Messages {
    let language: Language

    init(_ language: Language) { self.language = language }

    private func pick(_ ja: String, _ en: String) -> String { language == .ja ? ja : en }

    var checkTitle: String { pick("業務着手前確認 (情報セキュリティ特記仕様書)", "pre-engagement compliance check") }
    var hostLabel: String { pick("ホスト", "Host") }
    var rootLabel: String { pick("対象ルート", "Root") }
    var policyLabel: String { pick("ポリシー", "Policy") }
    var errorLabel: String { pick("エラー", "Error") }
    var noteLabel: String { pick("注記", "Note") }
    var remediationLabel: String { pick("対処", "Fix") }
    var clausesLabel: String { pick("根拠条項", "Clauses") }
    var unknown: String { pick("(不明)", "(unknown)") }

    func statusMark(_ status: Finding.Status) -> String {
        switch status {
        case .pass: return pick("✓ 合格  ", "✓ PASS ")
        case .fail: return pick("✗ 不合格", "✗ FAIL ")
        case .warn: return pick("! 要確認", "! WARN ")
        case .error: return pick("? エラー", "? ERROR")
        case .notApplicable: return pick("- 対象外", "- N/A  ")
        }
    }

    var coverageTitle: String { pick("読み取れなかった範囲:", "Not fully read:") }

    /// One source's gaps on one line: up to five places, each once.
    func coverageLine(_ coverage: SourceCoverage) -> String {
        var places: [String] = []
        for gap in coverage.gaps where gap.level == .error {
            let place = gap.path ?? gap.message[language]
            if !places.contains(place) { places.append(place) }
        }
        let shown = places.prefix(5).joined(separator: ", ")
        let rest = places.count > 5 ? pick(" ほか \(places.count - 5) 件", " and \(places.count - 5) more") : ""
        return "  \(coverage.source): \(shown)\(rest)"
    }

    func more(_ count: Int) -> String { pick("ほか \(count) 件 (--json で全件)", "\(count) more (all in --json)") }

    func describe(_ evidence: Evidence) -> String {
        let version = evidence.version.map { " " + $0 } ?? ""
        let owner = [evidence.pid.map { "pid \($0)" }, evidence.user].compactMap { $0 }.joined(separator: ", ")
        let what: String
        switch evidence.source {
        case .dpkg:
            what = pick(
                "deb パッケージ \(evidence.item)\(version) (\(evidence.detail ?? ""))",
                "deb package \(evidence.item)\(version) (\(evidence.detail ?? ""))")
        case .snap:
            what = pick("snap \(evidence.item) (リビジョン\(version))", "snap \(evidence.item) (revision\(version))")
        case .flatpak:
            let scope = evidence.detail == "system" ? pick("システム", "system") : (evidence.detail ?? "")
            what = pick("Flatpak \(evidence.item) (\(scope))", "Flatpak \(evidence.item) (\(scope))")
        case .file:
            what = pick("プログラムファイル \(evidence.item)", "program file \(evidence.item)")
        case .wine:
            what = pick("Wine 環境内の Windows プログラム \(evidence.item)", "Windows program in a Wine prefix \(evidence.item)")
        case .path:
            what = pick("インストール先 \(evidence.item)", "install path \(evidence.item)")
        case .process:
            what = pick("実行中のプロセス \(evidence.item) (\(owner))", "running process \(evidence.item) (\(owner))")
        case .socket where evidence.confidence == .weak:
            return pick(
                "\(evidence.item) で待ち受けています: \(evidence.software) の既定ポート (\(evidence.detail ?? "")) "
                    + "ですが、プロセスを確認できません (推定)",
                "\(evidence.item) is listening: a default port of \(evidence.software) (\(evidence.detail ?? "")), "
                    + "owner not visible (suspected)"
            )
        case .socket:
            what = pick("\(evidence.item) で待ち受け (\(owner))", "listening on \(evidence.item) (\(owner))")
        case .update:
            let kind = evidence.detail == "security" ? pick("セキュリティ更新", "security update") : pick("更新", "update")
            what =
                "\(kind) \(evidence.item) \(evidence.installed ?? "") → "
                + "\(evidence.version ?? "") (\(evidence.archive ?? ""))"
                + (evidence.note.map { ": " + $0[language] } ?? "")
        case .state, .device:
            let note = evidence.note?[language] ?? ""
            what = evidence.item.isEmpty ? note : "\(evidence.item): \(note)"
        }
        let named = evidence.software.isEmpty ? what : "\(what) — \(evidence.software)"
        guard let reason = evidence.reason else { return named }
        return "\(named): \(reason[language]) (\(judgement(evidence)))"
    }

    /// How much a content or metadata match weighs, in words.
    func judgement(_ evidence: Evidence) -> String {
        let confidence: String
        switch evidence.confidence {
        case .confirmed: confidence = pick("確定", "confirmed")
        case .strong: confidence = pick("確度高", "strong")
        case .weak: confidence = pick("確度低", "weak")
        }
        guard evidence.dualUse == true else { return confidence }
        return pick("\(confidence)、用途が広いソフトウェアのため要確認", "\(confidence), dual-use: a warning only")
    }

    func verdictLine(_ report: CheckReport) -> String {
        let counts = report.counts
        let tally = pick(
            "不合格 \(counts["fail"] ?? 0) / 要確認 \(counts["warn"] ?? 0) / "
                + "エラー \(counts["error"] ?? 0) / 合格 \(counts["pass"] ?? 0)",
            "\(counts["fail"] ?? 0) failed, \(counts["warn"] ?? 0) warnings, "
                + "\(counts["error"] ?? 0) errors, \(counts["pass"] ?? 0) passed"
        )
        let seconds = String(Int(report.durationMilliseconds.rounded())) + " ms"
        switch report.verdict {
        case .compliant:
            return pick("判定: 適合 — \(tally) (\(seconds))", "Verdict: COMPLIANT — \(tally) (\(seconds))")
        case .nonCompliant:
            return pick("判定: 不適合 — \(tally) (\(seconds))", "Verdict: NON-COMPLIANT — \(tally) (\(seconds))")
        case .incomplete:
            return pick(
                "判定: 確認できず — 一部の項目を確認できませんでした。\(tally) (\(seconds))",
                "Verdict: INCOMPLETE — some rules could not be checked. \(tally) (\(seconds))")
        }
    }
}
