import TenkenBase

/// Receiving one signed report: signature, enrolled key, well-formed payload, clock, sequence;
/// then stored once. Kept apart from HTTP so its rules read in one place.
public struct Ingest: Sendable {
    public let store: any ReportStore
    /// Reports dated further ahead of the collector's clock are refused; old ones (spooled
    /// while offline) are fine.
    public let maximumClockAhead: Int
    /// The most bytes of JSON a compressed report may inflate to.
    public let maximumReportSize: Int

    /// A report the agent may forget: stored now, or stored before (a retry); acknowledged by its id either way.
    public enum Accepted: Sendable, Equatable {
        case stored(reportID: String)
        case duplicate(reportID: String)
    }

    /// Why a report was not taken, as an HTTP status the agent acts on: 400/409/413 it sets the
    /// report aside, 403/422 it tries again later.
    public struct Refusal: Error, Sendable, Equatable {
        /// What was wrong with the report; the raw value labels the refusal in the metrics.
        public enum Reason: String, Sendable, CaseIterable {
            case invalid
            case unknownKey = "unknown_key"
            case future, replayed
            case tooLarge = "too_large"
            /// The report names another machine than the enrolled one (machine-id, DMI serial).
            case otherMachine = "other_machine"
            /// Dated before the machine enrolled, or its sequence jumps far ahead.
            case implausible
            /// Signed by a key replaced by a newer one, or of a removed machine: never stored.
            case retiredKey = "retired_key"
            /// More reports a minute than a machine may send (`MachineLimits`): try again later.
            case rateLimited = "rate_limited"
            /// More bytes of reports today than a machine may send: try again tomorrow.
            case quotaExceeded = "quota_exceeded"
        }
        public let reason: Reason
        public let message: String
        /// The key the report says signed it, when its signature could be read (for the audit log).
        public var keyID: String?
        /// Seconds before the report may be sent again (Retry-After), for a limit.
        public var retryAfter: Int?

        public init(reason: Reason, message: String, keyID: String? = nil, retryAfter: Int? = nil) {
            self.reason = reason
            self.message = message
            self.keyID = keyID
            self.retryAfter = retryAfter
        }

        public var status: Int {
            switch reason {
            case .invalid: return 400
            case .unknownKey: return 403
            case .future: return 422
            case .replayed, .implausible, .retiredKey: return 409
            case .tooLarge: return 413
            case .otherMachine: return 400
            case .rateLimited, .quotaExceeded: return 429
            }
        }
    }

    let keys: EnrolledKeyCache
    let policies: KnownPolicies
    let reportsPerMinute: WindowedLimit
    let bytesPerDay: WindowedLimit
    /// The most a report's sequence may be above the machine's last stored one. An agent counts
    /// one per check (a few a day); a report far ahead would make all its later ones replays.
    public static let maximumSequenceStep = 10_000

    public init(
        store: any ReportStore, maximumClockAhead: Int = 300, maximumReportSize: Int = 1 << 20,
        limits: MachineLimits = MachineLimits()
    ) {
        self.init(
            store: store, keys: EnrolledKeyCache(store: store), maximumClockAhead: maximumClockAhead,
            maximumReportSize: maximumReportSize, limits: limits)
    }

    /// `keys` shared with enrollment, which forgets what it rebinds.
    init(
        store: any ReportStore, keys: EnrolledKeyCache, maximumClockAhead: Int, maximumReportSize: Int,
        limits: MachineLimits
    ) {
        self.store = store
        self.keys = keys
        policies = KnownPolicies(store: store)
        reportsPerMinute = WindowedLimit(limit: limits.reportsPerMinute, seconds: 60)
        bytesPerDay = WindowedLimit(limit: limits.bytesPerDay, seconds: 86_400)
        self.maximumClockAhead = maximumClockAhead
        self.maximumReportSize = maximumReportSize
    }

    static let retired = Refusal(
        reason: .retiredKey,
        message: "the signing key was replaced by a newer one, or its machine removed: this report is never stored")

    public func receive(_ body: [UInt8], now: Int) async throws -> Accepted {
        let verified: JWS.Verified
        do { verified = try JWS.verify(bytes: body[...]) } catch {
            throw Refusal(reason: .invalid, message: "invalid signature: \(error.reason)")
        }
        do { return try await receive(verified, size: body.count, now: now) } catch var refusal as Refusal {
            refusal.keyID = verified.keyID
            throw refusal
        }
    }

    private func receive(_ verified: JWS.Verified, size: Int, now: Int) async throws -> Accepted {
        guard let enrolled = try await keys.key(verified.keyID),
            enrolled.publicKey == Array(verified.publicKey.rawRepresentation)
        else {
            throw Refusal(reason: .unknownKey, message: "the signing key is not enrolled")
        }
        // 409, which the agent sets aside: a 403 it would retry for ever, and the reports behind it wait.
        guard !enrolled.retired else { throw Self.retired }
        // Counted before anything else is done for it: a flood of one machine's reports, stored
        // or not, costs the single writer and the disk only so much.
        if let wait = reportsPerMinute.admit(enrolled.machine, now: now) {
            throw Refusal(
                reason: .rateLimited,
                message: "more than \(reportsPerMinute.limit) reports a minute from this machine: "
                    + "try again in \(wait) s", retryAfter: wait)
        }
        if let wait = bytesPerDay.admit(enrolled.machine, amount: size, now: now) {
            throw Refusal(
                reason: .quotaExceeded,
                message: "more than \(bytesPerDay.limit) bytes of reports today from this machine: "
                    + "try again in \(wait) s", retryAfter: wait)
        }
        // Inflated only now: what an enrolled key signed.
        let json: [UInt8]
        do { json = try ReportPayload.json(of: verified, limit: maximumReportSize) } catch {
            throw Refusal(
                reason: error.tooLarge ? .tooLarge : .invalid, message: "the payload cannot be read: \(error)")
        }
        let report: IngestedReport
        do { report = try IngestedReport(json: json) } catch {
            throw Refusal(reason: .invalid, message: "the payload is not a tenken report: \(error)")
        }
        if let problem = report.problem { throw Refusal(reason: .invalid, message: problem) }
        guard let started = Timestamp.parse(report.startedAt) else {
            throw Refusal(reason: .invalid, message: "startedAt is not an RFC 3339 UTC time")
        }
        guard started <= now + maximumClockAhead else {
            throw Refusal(
                reason: .future,
                message: "the report is dated \(started - now) s in the future (check the machine's clock)")
        }
        // A key speaks for the machine it enrolled: a report of another (a copied key, a key
        // moved to a clean machine) is not that machine's.
        guard report.machineID == enrolled.machineID else {
            throw Refusal(reason: .otherMachine, message: "the report's machine-id is not the enrolled machine's")
        }
        if let serial = enrolled.dmiSerial, !serial.isEmpty, report.dmiSerial != serial {
            throw Refusal(reason: .otherMachine, message: "the report's DMI serial is not the enrolled machine's")
        }
        guard started >= enrolled.enrolledAt - maximumClockAhead else {
            throw Refusal(reason: .implausible, message: "the report is dated before the machine enrolled")
        }
        guard let signed = CompactToken(verified) else {
            throw Refusal(reason: .invalid, message: "the payload cannot be stored")
        }
        // A machine's own first sighting is believed only when it is earlier: it can only make
        // an update older, never younger than this report.
        let sightings = report.securityUpdates.map { update in
            UpdateSighting(
                package: update.package, installed: update.installed,
                firstSeen: min(started, update.firstSeen.flatMap(Timestamp.parse).map { max(0, $0) } ?? started))
        }
        // Stored either way; whether it is a full check is decided as it is stored.
        let stored = StoredReport(
            reportID: report.reportId, keyID: enrolled.machine, sequence: report.sequence, receivedAt: now,
            startedAt: started,
            hostname: report.hostname, policyID: report.policyID, verdict: report.verdict, signed: signed,
            problems: report.problems, securityUpdates: sightings, signingKeyID: verified.keyID,
            policyDigest: report.policyDigest, ownRoot: report.root == "/",
            findingsCoverPolicy: try await policies.covered(report.policyDigest, by: report.findings.map(\.ruleId)))
        switch try await store.store(stored) {
        case .stored: return .stored(reportID: report.reportId)
        case .duplicate: return .duplicate(reportID: report.reportId)
        case .replayed:
            throw Refusal(
                reason: .replayed, message: "sequence \(report.sequence) is not above the last one stored (replay)")
        case .sequenceTooFarAhead(let last):
            throw Refusal(
                reason: .implausible,
                message: "sequence \(report.sequence) is more than \(Self.maximumSequenceStep) above the last one "
                    + "stored (\(last))")
        case .unknownMachine:
            throw Self.retired
        case .idTaken:
            throw Refusal(
                reason: .replayed, message: "report id \(report.reportId) belongs to another machine's report")
        }
    }
}
