import TenkenBase

/// The fleet at a glance, from each machine's latest report: who is compliant, what fails where,
/// who went silent, and how that maps onto each contract. The JSON API returns it as is; the
/// dashboard and CSV are drawn from it.
public struct FleetSummary: Sendable, Encodable {
    /// How many machines are enrolled, how many have each verdict, and how many are silent or never reported.
    public struct Counts: Sendable, Encodable, Equatable {
        public var machines = 0
        public var compliant = 0
        public var nonCompliant = 0
        public var incomplete = 0
        /// Not heard from within the silent limit (counted whatever their last verdict).
        public var silent = 0
        public var neverReported = 0
    }

    /// A rule that did not pass in a machine's latest report (fail, warn or error).
    public struct Problem: Sendable, Encodable, Equatable {
        public let ruleId: String
        public let status: String
        public let severity: String
        public let title: Localized
        public let clauses: [String]
        /// True when the collector's own record, not the machine's report, says it fails.
        public var byCollector: Bool?
    }

    /// One enrolled machine: who it is, when it was last heard from, and its latest verdict and problems.
    public struct Machine: Sendable, Encodable {
        public let keyId: String
        /// The name it enrolled with; a machine does not rename itself in the fleet.
        public let hostname: String
        /// The name its latest report gives, when another.
        public let reportedHostname: String?
        public let machineId: String
        public let dmiSerial: String?
        public let enrolledAt: String
        public let lastSeen: String?
        public let silent: Bool
        /// compliant, non-compliant or incomplete from the latest report; nil before the first.
        public let verdict: String?
        /// Whether the latest report checked the machine's whole expected policy on its own root;
        /// one that did not is never shown compliant.
        public let fullCheck: Bool?
        public let report: ReportHeader?
        public let problems: [Problem]
        /// Since when, by the collector's record, its oldest pending security update has waited.
        public let securityUpdatesPendingSince: String?
        public let securityUpdatesPendingDays: Int?
    }

    /// One rule across the fleet: the machines where it fails, warns or could not be checked.
    public struct Rule: Sendable, Encodable {
        public let ruleId: String
        public let title: Localized
        public let severity: String
        public let clauses: [String]
        /// Key ids of the machines where the rule fails, warns, or could not be checked.
        public var fail: [String] = []
        public var warn: [String] = []
        public var error: [String] = []
    }

    /// One contract across the fleet: which machines comply, fail or are unknown, clause by clause.
    public struct Contract: Sendable, Encodable {
        /// One clause of the contract: the rules that cite it and the machines failing them.
        public struct Clause: Sendable, Encodable {
            public let clause: String
            public var rules: [String]
            /// Key ids of machines whose latest report fails a rule citing this clause.
            public var failing: [String]
        }
        public let id: String
        public let issuer: Localized
        public let title: Localized
        /// Key ids of machines whose latest report fails no rule citing this contract, and of those that do.
        public var compliant: [String] = []
        public var nonCompliant: [String] = []
        /// Machines with no report, silent, or with a rule citing this contract that could not be
        /// checked: their state under this contract is not known now.
        public var unknown: [String] = []
        public var clauses: [Clause] = []
    }

    public let generatedAt: String
    public let silentAfterHours: Int
    public let counts: Counts
    public let machines: [Machine]
    public let rules: [Rule]
    public let contracts: [Contract]

    /// `securityUpdateDays`: how long a security update may wait by the collector's record before
    /// the machine fails, whatever its report says (the default policy's limit).
    public init(
        _ states: [MachineState], now: Int, silentAfterHours: Int, contracts index: ContractIndex,
        securityUpdateDays: Int = 7
    ) {
        generatedAt = Timestamp.format(seconds: now)
        self.silentAfterHours = silentAfterHours
        var counts = Counts()
        var machines: [Machine] = []
        var rules: [String: Rule] = [:]
        for state in states {
            let silent = (state.lastSeen ?? state.enrolledAt) < now - silentAfterHours * 3600
            var problems = state.problems.map {
                Problem(
                    ruleId: $0.ruleID, status: $0.status, severity: $0.severity,
                    title: Localized(ja: $0.titleJa, en: $0.titleEn), clauses: $0.clauses)
            }
            var verdict = state.lastReport?.verdict
            let pendingDays = state.securityPendingSince.map { max(0, now - $0) / 86_400 }
            // A machine that deleted its own update history reports its updates as new; the
            // collector remembers when it first saw them.
            if let pendingDays, pendingDays > securityUpdateDays,
                !problems.contains(where: { $0.ruleId == Self.securityRule && $0.status == "fail" })
            {
                problems.removeAll { $0.ruleId == Self.securityRule }
                problems.append(Self.securityProblem(days: pendingDays, limit: securityUpdateDays))
                if verdict == "compliant" { verdict = "non-compliant" }
            }
            // A check of some rules, of another policy or of another root found nothing to fail,
            // but it did not look at everything the policy asks for.
            if let report = state.lastReport, !report.fullCheck, verdict == "compliant" {
                verdict = "incomplete"
                problems.append(Self.partialCheckProblem)
            }
            let machine = Machine(
                keyId: state.machine.keyID, hostname: state.machine.hostname,
                reportedHostname: state.reportedHostname, machineId: state.machine.machineID,
                dmiSerial: state.machine.dmiSerial, enrolledAt: Timestamp.format(seconds: state.enrolledAt),
                lastSeen: state.lastSeen.map { Timestamp.format(seconds: $0) }, silent: silent,
                verdict: verdict, fullCheck: state.lastReport?.fullCheck, report: state.lastReport, problems: problems,
                securityUpdatesPendingSince: state.securityPendingSince.map { Timestamp.format(seconds: $0) },
                securityUpdatesPendingDays: pendingDays)
            machines.append(machine)
            counts.machines += 1
            if silent { counts.silent += 1 }
            switch machine.verdict {
            case "compliant": counts.compliant += 1
            case "non-compliant": counts.nonCompliant += 1
            case "incomplete": counts.incomplete += 1
            default: counts.neverReported += 1
            }
            for problem in problems {
                var rule =
                    rules[problem.ruleId]
                    ?? Rule(
                        ruleId: problem.ruleId, title: problem.title, severity: problem.severity,
                        clauses: problem.clauses)
                switch problem.status {
                case "fail": rule.fail.append(machine.keyId)
                case "warn": rule.warn.append(machine.keyId)
                default: rule.error.append(machine.keyId)
                }
                rules[problem.ruleId] = rule
            }
        }
        self.counts = counts
        self.machines = machines
        self.rules = rules.values.sorted {
            ($0.fail.count, $0.warn.count, $1.ruleId) > ($1.fail.count, $1.warn.count, $0.ruleId)
        }
        contracts = index.contracts.map { Self.contract($0, machines: machines) }
    }

    static let securityRule = "security-updates-applied"

    /// The security rule failed by the collector's record.
    static let partialCheck = "full-check"

    static let partialCheckProblem = Problem(
        ruleId: partialCheck, status: "error", severity: "high",
        title: Localized(
            ja: "全項目の点検ではありません (指定されたポリシーの全ルールを端末自身に対して点検した報告ではない)",
            en: "not a full check (the report is not of every rule of the machine's policy, on the machine itself)"),
        clauses: [], byCollector: true)

    static func securityProblem(days: Int, limit: Int) -> Problem {
        Problem(
            ruleId: securityRule, status: "fail", severity: "high",
            title: Localized(
                ja: "セキュリティ更新が \(days) 日間未適用です (上限 \(limit) 日、集計サーバーの記録による)",
                en: "security updates pending for \(days) days (limit \(limit), by the collector's record)"),
            clauses: ["001 第6条7", "002 第11条(10)エ"], byCollector: true)
    }

    /// One contract's view: a machine complies when its latest, current report fails no rule
    /// citing one of the contract's clauses and could check all of them.
    static func contract(_ contract: ContractIndex.Contract, machines: [Machine]) -> Contract {
        var result = Contract(id: contract.id, issuer: contract.issuer, title: contract.title)
        var clauses: [String: Contract.Clause] = [:]
        for machine in machines {
            guard machine.report != nil, !machine.silent else {
                result.unknown.append(machine.keyId)
                continue
            }
            var failing = false
            for problem in machine.problems where problem.status == "fail" {
                for clause in problem.clauses where ContractIndex.contractID(of: clause) == contract.id {
                    failing = true
                    var entry = clauses[clause] ?? Contract.Clause(clause: clause, rules: [], failing: [])
                    if !entry.rules.contains(problem.ruleId) { entry.rules.append(problem.ruleId) }
                    if !entry.failing.contains(machine.keyId) { entry.failing.append(machine.keyId) }
                    clauses[clause] = entry
                }
            }
            // A partial check fails what it found failing, and leaves the rest unknown.
            let unchecked =
                machine.fullCheck != true
                || machine.problems.contains { problem in
                    problem.status == "error"
                        && problem.clauses.contains { ContractIndex.contractID(of: $0) == contract.id }
                }
            if failing {
                result.nonCompliant.append(machine.keyId)
            } else if unchecked {
                result.unknown.append(machine.keyId)
            } else {
                result.compliant.append(machine.keyId)
            }
        }
        result.clauses = clauses.values.sorted { $0.clause < $1.clause }
        return result
    }
}
