import FoundationEssentials
import TenkenCore

/// Receiving one signed report: signature, enrolled key, well-formed payload, clock, sequence;
/// then stored once. Kept apart from HTTP so its rules read in one place.
public struct Ingest: Sendable {
    public let store: any ReportStore
    /// Reports dated further ahead of the collector's clock are refused; old ones (spooled
    /// while offline) are fine.
    public let maximumClockAhead: Int

    public enum Accepted: Sendable, Equatable {
        case stored(reportID: String)
        case duplicate(reportID: String)
    }

    /// Why a report was not taken, as an HTTP status the agent acts on: 400/409/413 it sets the
    /// report aside, 403/422 it tries again later.
    public struct Refusal: Error, Sendable, Equatable {
        public enum Reason: String, Sendable, CaseIterable {
            case invalid, unknownKey = "unknown_key", future, replayed
        }
        public let reason: Reason
        public let message: String

        public var status: Int {
            switch reason {
            case .invalid: return 400
            case .unknownKey: return 403
            case .future: return 422
            case .replayed: return 409
            }
        }
    }

    private let keys: EnrolledKeyCache

    public init(store: any ReportStore, maximumClockAhead: Int = 300) {
        self.store = store
        self.maximumClockAhead = maximumClockAhead
        keys = EnrolledKeyCache(store: store)
    }

    public func receive(_ body: [UInt8], now: Int) async throws -> Accepted {
        let verified: JWS.Verified
        do { verified = try JWS.verify(bytes: body[...]) } catch {
            throw Refusal(reason: .invalid, message: "invalid signature: \(error.reason)")
        }
        guard let enrolled = try await keys.publicKey(keyID: verified.keyID), enrolled == Array(verified.publicKey.rawRepresentation) else {
            throw Refusal(reason: .unknownKey, message: "the signing key is not enrolled")
        }
        let report: IngestedReport
        do { report = try JSONDecoder().decode(IngestedReport.self, from: Data(verified.payload)) } catch {
            throw Refusal(reason: .invalid, message: "the payload is not a tenken report")
        }
        if let problem = report.problem { throw Refusal(reason: .invalid, message: problem) }
        guard let started = Timestamp.parse(report.startedAt) else {
            throw Refusal(reason: .invalid, message: "startedAt is not an RFC 3339 UTC time")
        }
        guard started <= now + maximumClockAhead else {
            throw Refusal(reason: .future, message: "the report is dated \(started - now) s in the future (check the machine's clock)")
        }
        guard let signed = CompactToken(verified) else { throw Refusal(reason: .invalid, message: "the payload cannot be stored") }
        let stored = StoredReport(
            reportID: report.reportId, keyID: verified.keyID, sequence: report.sequence, receivedAt: now, startedAt: started,
            hostname: report.host.hostname, policyID: report.policy.id, verdict: report.verdict, signed: signed,
            problems: report.findings.filter { $0.status != "pass" && $0.status != "not-applicable" }.map {
                StoredFinding(ruleID: $0.ruleId, status: $0.status, severity: $0.severity,
                              titleJa: $0.title.ja, titleEn: $0.title.en, clauses: $0.clauses)
            })
        switch try await store.store(stored) {
        case .stored: return .stored(reportID: report.reportId)
        case .duplicate: return .duplicate(reportID: report.reportId)
        case .replayed:
            throw Refusal(reason: .replayed, message: "sequence \(report.sequence) is not above the last one stored (replay)")
        case .idTaken:
            throw Refusal(reason: .replayed, message: "report id \(report.reportId) belongs to another machine's report")
        }
    }
}

/// The parts of a signed report the collector reads (the rest stays in the stored token).
/// Signed by an enrolled key is not the same as well formed: sizes and values are checked.
struct IngestedReport: Decodable {
    struct Host: Decodable { let hostname: String }
    struct Policy: Decodable { let id: String }
    struct Finding: Decodable {
        let ruleId: String
        let status: String
        let severity: String
        let title: Localized
        let clauses: [String]
    }

    let schema: String
    let reportId: String
    let sequence: Int
    let startedAt: String
    let verdict: String
    let host: Host
    let policy: Policy
    let findings: [Finding]

    static let verdicts: Set = ["compliant", "non-compliant", "incomplete"]
    static let statuses = Set(TenkenCore.Finding.Status.allCases.map(\.rawValue))
    static let severities = Set(Severity.allCases.map(\.rawValue))

    var problem: String? {
        guard schema.hasPrefix("tenken.check/") else { return "unknown schema \(schema.prefix(40))" }
        guard (1...64).contains(reportId.utf8.count), reportId.utf8.allSatisfy({ $0 == 0x2D || (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) })
        else { return "reportId must be 1 to 64 of [0-9a-z-]" }
        guard sequence > 0 else { return "sequence must be positive" }
        guard Self.verdicts.contains(verdict) else { return "unknown verdict" }
        guard host.hostname.utf8.count <= 255, policy.id.utf8.count <= 200, findings.count <= 2000 else { return "oversized field" }
        guard Set(findings.map(\.ruleId)).count == findings.count else { return "a rule appears twice among the findings" }
        for finding in findings {
            guard Self.statuses.contains(finding.status), Self.severities.contains(finding.severity) else {
                return "finding \(finding.ruleId.prefix(60)): unknown status or severity"
            }
            guard finding.ruleId.utf8.count <= 200, finding.title.ja.utf8.count <= 1000, finding.title.en.utf8.count <= 1000,
                  finding.clauses.count <= 100, finding.clauses.allSatisfy({ $0.utf8.count <= 200 && !$0.contains("\n") }) else {
                return "finding \(finding.ruleId.prefix(60)): oversized field"
            }
        }
        return nil
    }
}
