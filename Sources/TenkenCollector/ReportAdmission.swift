/// Whether a verified report may be stored, from what the store holds about it: the rules every
/// store applies in its write transaction (so the SQLite store and the test double agree).
public enum ReportAdmission {
    /// What the store holds about the report's machine and signing key, read in the transaction.
    public struct Machine: Sendable {
        public let lastSequence: Int
        /// The key rotated to and not yet used, if any.
        public let pendingKeyID: String?
        /// The policy the machine must be checked with now.
        public let policyDigest: String

        public init(lastSequence: Int, pendingKeyID: String?, policyDigest: String) {
            self.lastSequence = lastSequence
            self.pendingKeyID = pendingKeyID
            self.policyDigest = policyDigest
        }
    }

    /// Retired keys a machine keeps (its reports signed by them answered 409, set aside); older
    /// ones are forgotten as a rotation completes, so rotating without end grows nothing.
    public static let retiredKeysKept = 8

    /// What storing the report does beside storing it.
    public struct Admitted: Sendable, Equatable {
        /// Made with the expected policy, all its rules, on the machine's own root.
        public let fullCheck: Bool
        /// Signed with the pending key: that key is now the machine's, its older ones retired (and
        /// only the newest `retiredKeysKept` of those kept).
        public let completesRotation: Bool
    }

    /// `owner`: the machine of a stored report with the same id; `machine`: nil when the
    /// machine was removed or the signing key retired.
    public static func decide(_ report: StoredReport, owner: String?, machine: Machine?) -> Result<Admitted, Refused> {
        if let owner { return .failure(owner == report.keyID ? .duplicate : .idTaken) }
        guard let machine else { return .failure(.unknownMachine) }
        guard report.sequence > machine.lastSequence else { return .failure(.replayed) }
        guard report.sequence - machine.lastSequence <= Ingest.maximumSequenceStep else {
            return .failure(.sequenceTooFarAhead(last: machine.lastSequence))
        }
        return .success(
            Admitted(
                fullCheck: report.isFullCheck(expectedPolicy: machine.policyDigest),
                completesRotation: machine.pendingKeyID == report.signingKeyID))
    }

    /// A report not stored, as `StoreOutcome` names it.
    public struct Refused: Error, Sendable, Equatable {
        public let outcome: StoreOutcome
        static let duplicate = Refused(outcome: .duplicate)
        static let idTaken = Refused(outcome: .idTaken)
        static let unknownMachine = Refused(outcome: .unknownMachine)
        static let replayed = Refused(outcome: .replayed)
        static func sequenceTooFarAhead(last: Int) -> Refused { Refused(outcome: .sequenceTooFarAhead(last: last)) }
    }

    /// The name a fleet view shows beside the enrolled one: the reported one when it differs.
    /// A machine cannot rename itself into another's place in the fleet.
    public static func reportedHostname(_ reported: String, enrolled: String) -> String? {
        reported == enrolled ? nil : reported
    }
}
