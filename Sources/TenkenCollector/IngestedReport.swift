import TenkenBase

/// The parts of a signed report the collector reads (the rest stays in the stored token).
/// Read with `JSONReader`, which skips the evidence instead of mapping it (most of a report's
/// bytes). Signed by an enrolled key is not the same as well formed: a field given twice,
/// sizes and values are checked too.
public struct IngestedReport: Equatable, Sendable {
    /// The fields of one finding the collector keeps; of its evidence, only pending security updates.
    public struct Finding: Equatable, Sendable {
        var ruleId: String
        var status: String
        var severity: String
        var title: Localized
        var clauses: [String]
        var securityUpdates: [SecurityUpdate] = []
    }

    /// A pending security update a finding names: the collector keeps when it first saw each, so
    /// a machine that deletes its own history does not make its updates young again.
    public struct SecurityUpdate: Equatable, Sendable {
        var package: String
        var installed: String
        /// When the machine says it first saw it pending (RFC 3339), if it says.
        var firstSeen: String?
    }

    /// Every pending security update the findings name.
    var securityUpdates: [SecurityUpdate] { findings.flatMap(\.securityUpdates) }

    var schema: String
    var reportId: String
    var sequence: Int
    var startedAt: String
    var verdict: String
    var hostname: String
    var machineID: String
    var dmiSerial: String?
    /// What was checked: "/" for the machine itself, another directory for an image or a copy.
    var root: String
    var policyID: String
    var policyDigest: String
    /// Findings by status as the report counts them; they must be what its findings give.
    var counts: [String: Int]
    var findings: [Finding]

    struct Unreadable: Error, CustomStringConvertible {
        let description: String
    }

    public init(json: [UInt8]) throws {
        var schema: String?
        var reportId: String?
        var sequence: Int?
        var startedAt: String?
        var verdict: String?
        var host: [String: String?]?
        var root: String?
        var policy: [String: String?]?
        var counts: [String: Int]?
        var findings: [Finding]?
        var reader = JSONReader(json)
        try reader.object { reader, key in
            switch key {
            case "schema": try Self.once(&schema, key) { try reader.string() }
            case "reportId": try Self.once(&reportId, key) { try reader.string() }
            case "sequence": try Self.once(&sequence, key) { try reader.integer() }
            case "startedAt": try Self.once(&startedAt, key) { try reader.string() }
            case "verdict": try Self.once(&verdict, key) { try reader.string() }
            case "root": try Self.once(&root, key) { try reader.string() }
            case "host":
                try Self.once(&host, key) {
                    try Self.strings(["hostname", "machineId", "dmiSerial"], of: &reader, in: key)
                }
            case "policy": try Self.once(&policy, key) { try Self.strings(["id", "digest"], of: &reader, in: key) }
            case "counts":
                try Self.once(&counts, key) {
                    var all: [String: Int] = [:]
                    try reader.object { reader, status in
                        guard all[status] == nil else {
                            throw Unreadable(description: "counts.\(status) is given twice")
                        }
                        all[status] = try reader.integer()
                    }
                    return all
                }
            case "findings":
                try Self.once(&findings, key) {
                    var all: [Finding] = []
                    try reader.array { all.append(try Finding(&$0)) }
                    return all
                }
            default: try reader.skipValue()
            }
        }
        try reader.end()
        self.schema = try Self.required(schema, "schema")
        self.reportId = try Self.required(reportId, "reportId")
        self.sequence = try Self.required(sequence, "sequence")
        self.startedAt = try Self.required(startedAt, "startedAt")
        self.verdict = try Self.required(verdict, "verdict")
        let hostFields = try Self.required(host, "host")
        hostname = try Self.required(hostFields["hostname"] ?? nil, "host.hostname")
        machineID = try Self.required(hostFields["machineId"] ?? nil, "host.machineId")
        dmiSerial = hostFields["dmiSerial"] ?? nil
        self.root = try Self.required(root, "root")
        let policyFields = try Self.required(policy, "policy")
        policyID = try Self.required(policyFields["id"] ?? nil, "policy.id")
        policyDigest = try Self.required(policyFields["digest"] ?? nil, "policy.digest")
        self.counts = try Self.required(counts, "counts")
        self.findings = try Self.required(findings, "findings")
    }

    /// The string members `names` of an object (null for an absent optional one); others skipped.
    private static func strings(
        _ names: Set<String>, of reader: inout JSONReader, in object: String
    ) throws -> [String: String?] {
        var values: [String: String?] = [:]
        try reader.object { reader, key in
            guard names.contains(key) else { return try reader.skipValue() }
            guard values[key] == nil else { throw Unreadable(description: "\(object).\(key) is given twice") }
            values[key] = try reader.null() ? nil as String? : try reader.string()
        }
        return values
    }

    static let verdicts: Set = ["compliant", "non-compliant", "incomplete"]
    static let statuses = Set(TenkenBase.Finding.Status.allCases.map(\.rawValue))
    static let severities = Set(Severity.allCases.map(\.rawValue))

    public var problem: String? {
        guard schema.hasPrefix("tenken.check/") else { return "unknown schema \(schema.prefix(40))" }
        guard (1...64).contains(reportId.utf8.count),
            reportId.utf8.allSatisfy({ $0 == 0x2D || (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) })
        else { return "reportId must be 1 to 64 of [0-9a-z-]" }
        guard sequence > 0 else { return "sequence must be positive" }
        guard Self.verdicts.contains(verdict) else { return "unknown verdict" }
        guard hostname.utf8.count <= 255, machineID.utf8.count <= 200, (dmiSerial?.utf8.count ?? 0) <= 200,
            root.utf8.count <= 4096, policyID.utf8.count <= 200, policyDigest.utf8.count <= 200, findings.count <= 2000
        else {
            return "oversized field"
        }
        guard Set(findings.map(\.ruleId)).count == findings.count else {
            return "a rule appears twice among the findings"
        }
        // Kept one per row, so every name fits a row and one report cannot fill the database.
        guard securityUpdates.count <= 20_000,
            securityUpdates.allSatisfy({
                (1...200).contains($0.package.utf8.count) && (1...200).contains($0.installed.utf8.count)
                    && ($0.firstSeen?.utf8.count ?? 0) <= 40
            })
        else { return "oversized pending update" }
        for finding in findings {
            guard Self.statuses.contains(finding.status), Self.severities.contains(finding.severity) else {
                return "finding \(finding.ruleId.prefix(60)): unknown status or severity"
            }
            // Clauses are stored one per line, so none may hold a line break.
            guard finding.ruleId.utf8.count <= 200, finding.title.ja.utf8.count <= 1000,
                finding.title.en.utf8.count <= 1000,
                finding.clauses.count <= 100,
                finding.clauses.allSatisfy({ $0.utf8.count <= 200 && !$0.utf8.contains(0x0A) })
            else {
                return "finding \(finding.ruleId.prefix(60)): oversized field"
            }
        }
        // The machine's word is not taken for it: the verdict must be the one its findings give.
        let statuses = findings.compactMap { TenkenBase.Finding.Status(rawValue: $0.status) }
        guard verdict == CheckReport.Verdict(following: statuses).rawValue else {
            return "the verdict \(verdict) does not follow from the findings"
        }
        // Nor its counts: every status, each the number of findings that have it.
        guard counts == CheckReport.counts(of: statuses) else { return "the counts do not follow from the findings" }
        return nil
    }

    static func once<Value>(_ field: inout Value?, _ name: String, _ read: () throws -> Value) throws {
        guard field == nil else { throw Unreadable(description: "\(name) is given twice") }
        field = try read()
    }

    static func required<Value>(_ field: Value?, _ name: String) throws -> Value {
        guard let field else { throw Unreadable(description: "\(name) is missing") }
        return field
    }
}

extension IngestedReport.Finding {
    init(_ reader: inout JSONReader) throws {
        var ruleId: String?
        var status: String?
        var severity: String?
        var title: Localized?
        var clauses: [String]?
        var updates: [IngestedReport.SecurityUpdate]?
        try reader.object { reader, key in
            switch key {
            case "evidence":
                try IngestedReport.once(&updates, key) {
                    var all: [IngestedReport.SecurityUpdate] = []
                    try reader.array { reader in
                        if let update = try Self.securityUpdate(&reader) { all.append(update) }
                    }
                    return all
                }
            case "ruleId": try IngestedReport.once(&ruleId, key) { try reader.string() }
            case "status": try IngestedReport.once(&status, key) { try reader.string() }
            case "severity": try IngestedReport.once(&severity, key) { try reader.string() }
            case "title": try IngestedReport.once(&title, key) { try Self.localized(&reader) }
            case "clauses":
                try IngestedReport.once(&clauses, key) {
                    var all: [String] = []
                    try reader.array { all.append(try $0.string()) }
                    return all
                }
            default: try reader.skipValue()
            }
        }
        self.init(
            ruleId: try IngestedReport.required(ruleId, "ruleId"),
            status: try IngestedReport.required(status, "status"),
            severity: try IngestedReport.required(severity, "severity"),
            title: try IngestedReport.required(title, "title"),
            clauses: try IngestedReport.required(clauses, "clauses"), securityUpdates: updates ?? [])
    }

    /// One evidence item, read only as far as a pending security update needs: its source,
    /// package, installed version, kind and first sighting; nil for every other evidence.
    private static func securityUpdate(_ reader: inout JSONReader) throws -> IngestedReport.SecurityUpdate? {
        var source: String?
        var item: String?
        var installed: String?
        var detail: String?
        var firstSeen: String?
        try reader.object { reader, key in
            switch key {
            case "source": try IngestedReport.once(&source, "evidence.source") { try reader.string() }
            case "item": try IngestedReport.once(&item, "evidence.item") { try reader.string() }
            case "installed": try IngestedReport.once(&installed, "evidence.installed") { try reader.string() }
            case "detail": try IngestedReport.once(&detail, "evidence.detail") { try reader.string() }
            case "firstSeen": try IngestedReport.once(&firstSeen, "evidence.firstSeen") { try reader.string() }
            default: try reader.skipValue()
            }
        }
        guard source == "update", detail == "security", let item, let installed else { return nil }
        return IngestedReport.SecurityUpdate(package: item, installed: installed, firstSeen: firstSeen)
    }

    private static func localized(_ reader: inout JSONReader) throws -> Localized {
        var ja: String?
        var en: String?
        try reader.object { reader, key in
            switch key {
            case "ja": try IngestedReport.once(&ja, "title.ja") { try reader.string() }
            case "en": try IngestedReport.once(&en, "title.en") { try reader.string() }
            default: try reader.skipValue()
            }
        }
        return Localized(
            ja: try IngestedReport.required(ja, "title.ja"), en: try IngestedReport.required(en, "title.en"))
    }
}

extension IngestedReport {
    /// The rules that did not pass (fail, warn, error) as the fleet views keep them, by rule id.
    var problems: [StoredFinding] {
        findings.filter { $0.status != "pass" && $0.status != "not-applicable" }.map {
            StoredFinding(
                ruleID: $0.ruleId, status: $0.status, severity: $0.severity,
                titleJa: $0.title.ja, titleEn: $0.title.en, clauses: $0.clauses)
        }.sorted { $0.ruleID < $1.ruleID }
    }
}
