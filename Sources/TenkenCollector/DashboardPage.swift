import TenkenBase

/// The fleet dashboard: one server-rendered HTML page, no scripts, every value escaped.
enum DashboardPage {
    static func render(_ summary: FleetSummary, language: Language) -> String {
        let ja = language == .ja
        func t(_ japanese: String, _ english: String) -> String { ja ? japanese : english }
        let names = Dictionary(
            summary.machines.map { ($0.keyId, $0.hostname) }, uniquingKeysWith: { first, _ in first })
        func hosts(_ keys: [String]) -> String { keys.map { escape(names[$0] ?? $0) }.joined(separator: ", ") }
        let counts = summary.counts
        var html = """
            <!doctype html>
            <html lang="\(ja ? "ja" : "en")"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(t("tenken 点検状況", "tenken fleet"))</title>
            <style>
            body{font-family:system-ui,"Noto Sans JP",sans-serif;margin:1.5rem;color:#222}
            table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}
            th{background:#f3f3f3}.compliant{color:#176b2c}.non-compliant{color:#b3261e;font-weight:bold}.incomplete,.silent{color:#8a5a00}
            .counts span{display:inline-block;margin-right:1.5rem;font-size:1.2rem}
            </style></head><body>
            <h1>\(t("tenken 点検状況", "tenken fleet"))</h1>
            <p>\(t("作成", "Generated")) \(escape(summary.generatedAt)) ·
            <a href="?lang=\(ja ? "en" : "ja")">\(ja ? "English" : "日本語")</a> ·
            <a href="/api/v1/fleet">JSON</a> · <a href="/api/v1/fleet?format=csv&amp;lang=\(language.rawValue)">CSV</a></p>
            <p class="counts"><span>\(t("台数", "Machines")) \(counts.machines)</span>
            <span class="compliant">\(t("適合", "Compliant")) \(counts.compliant)</span>
            <span class="non-compliant">\(t("不適合", "Non-compliant")) \(counts.nonCompliant)</span>
            <span class="incomplete">\(t("確認できず", "Incomplete")) \(counts.incomplete)</span>
            <span class="silent">\(t("\(summary.silentAfterHours) 時間以上報告なし", "Silent over \(summary.silentAfterHours) h")) \(counts.silent)</span>
            <span>\(t("未報告", "Never reported")) \(counts.neverReported)</span></p>

            <h2>\(t("端末", "Machines"))</h2>
            <table><tr><th>\(t("ホスト名", "Hostname"))</th><th>\(t("判定", "Verdict"))</th><th>\(t("最終受信", "Last seen"))</th><th>\(t("問題", "Problems"))</th></tr>

            """
        for machine in summary.machines {
            let verdict = machine.verdict ?? "none"
            let problems = machine.problems.map { "\(escape($0.status)): \(escape($0.title[language]))" }.joined(
                separator: "<br>")
            let reportedName = machine.reportedHostname.map {
                "<br><small>\(t("報告上の名前: ", "reports itself as "))\(escape($0))</small>"
            }
            html +=
                "<tr><td>\(escape(machine.hostname))\(reportedName ?? "")<br><small>\(escape(machine.machineId))</small></td>"
                + "<td class=\"\(escape(verdict))\">\(escape(verdictText(machine.verdict, ja: ja)))</td>"
                + "<td class=\"\(machine.silent ? "silent" : "")\">\(escape(machine.lastSeen ?? "-"))"
                + "\(machine.silent ? t("（報告途絶）", " (silent)") : "")</td>"
                + "<td>\(problems)</td></tr>\n"
        }
        html +=
            "</table>\n<h2>\(t("ルール別の不適合", "Failing rules"))</h2>\n"
            + "<table><tr><th>\(t("ルール", "Rule"))</th><th>\(t("条項", "Clauses"))</th><th>\(t("不適合", "Fail"))</th>"
            + "<th>\(t("警告", "Warn"))</th><th>\(t("確認不能", "Error"))</th></tr>\n"
        for rule in summary.rules {
            html +=
                "<tr><td>\(escape(rule.title[language]))<br><small>\(escape(rule.ruleId))</small></td>"
                + "<td>\(escape(rule.clauses.joined(separator: ", ")))</td>"
                + "<td>\(hosts(rule.fail))</td><td>\(hosts(rule.warn))</td><td>\(hosts(rule.error))</td></tr>\n"
        }
        html +=
            "</table>\n<h2>\(t("契約別", "By contract"))</h2>\n<table><tr><th>\(t("契約", "Contract"))</th>"
            + "<th>\(t("適合", "Compliant"))</th><th>\(t("不適合", "Non-compliant"))</th><th>\(t("不明", "Unknown"))</th>"
            + "<th>\(t("不適合の条項", "Clauses failed"))</th></tr>\n"
        for contract in summary.contracts {
            let clauses = contract.clauses.map { "\(escape($0.clause)): \(hosts($0.failing))" }.joined(
                separator: "<br>")
            html +=
                "<tr><td>\(escape(contract.id)) \(escape(contract.issuer[language]))"
                + "<br><small>\(escape(contract.title[language]))</small>"
                + "<br><a href=\"/api/v1/contracts/\(escape(contract.id))"
                + "?format=csv&amp;lang=\(language.rawValue)\">CSV</a></td>"
                + "<td>\(contract.compliant.count)</td><td class=\"non-compliant\">\(hosts(contract.nonCompliant))</td>"
                + "<td>\(hosts(contract.unknown))</td><td>\(clauses)</td></tr>\n"
        }
        return html + "</table>\n</body></html>\n"
    }

    static func verdictText(_ verdict: String?, ja: Bool) -> String {
        verdict.flatMap(CheckReport.Verdict.init(rawValue:))?.title[ja ? .ja : .en] ?? (ja ? "報告なし" : "no report")
    }

    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}
