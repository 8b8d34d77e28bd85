import TenkenBase

/// The fleet and per-contract views as CSV (see `CSVTable`), headers in the reader's language.
enum FleetCSV {
    /// One row per machine and problem; a machine without problems gets one row with its verdict.
    static func fleet(_ summary: FleetSummary, language: Language) -> String {
        let ja = language == .ja
        var table = CSVTable(
            header: ja
                ? [
                    "ホスト名", "報告上のホスト名", "machine-id", "DMIシリアル", "鍵ID", "最終受信", "報告途絶", "判定", "ルール", "状態", "重要度", "項目",
                    "条項",
                ]
                : [
                    "hostname", "reported hostname", "machine-id", "dmi serial", "key id", "last seen", "silent",
                    "verdict", "rule",
                    "status", "severity", "title", "clauses",
                ])
        for machine in summary.machines {
            let head = [
                machine.hostname, machine.reportedHostname ?? "", machine.machineId, machine.dmiSerial ?? "",
                machine.keyId, machine.lastSeen ?? "",
                machine.silent ? (ja ? "はい" : "yes") : "", machine.verdict ?? (ja ? "報告なし" : "no report"),
            ]
            if machine.problems.isEmpty { table.append(head + ["", "", "", "", ""]) }
            for problem in machine.problems {
                table.append(
                    head + [
                        problem.ruleId, problem.status, problem.severity, problem.title[language],
                        problem.clauses.joined(separator: "; "),
                    ])
            }
        }
        return table.text
    }

    /// One row per machine: its standing under the contract and the clauses it fails.
    static func contract(_ contract: FleetSummary.Contract, summary: FleetSummary, language: Language) -> String {
        let ja = language == .ja
        var table = CSVTable(
            header: ja
                ? ["契約", "発注者", "ホスト名", "最終受信", "状態", "不適合の条項", "ルール"]
                : ["contract", "issuer", "hostname", "last seen", "standing", "clauses failed", "rules"])
        for machine in summary.machines {
            let standing =
                contract.nonCompliant.contains(machine.keyId)
                ? (ja ? "不適合" : "non-compliant")
                : contract.compliant.contains(machine.keyId) ? (ja ? "適合" : "compliant") : (ja ? "不明" : "unknown")
            let clauses = contract.clauses.filter { $0.failing.contains(machine.keyId) }
            table.append([
                contract.id, contract.issuer[language], machine.hostname, machine.lastSeen ?? "", standing,
                clauses.map(\.clause).joined(separator: "; "),
                Array(Set(clauses.flatMap(\.rules))).sorted().joined(separator: "; "),
            ])
        }
        return table.text
    }
}
