import Crypto
import TenkenBase

/// Where the collector keeps machines, tokens and reports. SQLite (GRDB, WAL) is the embedded
/// default (`SQLiteReportStore`); another database goes behind the same protocol.
public protocol ReportStore: Sendable {
    /// A one-time enrollment token, good until `expiresAt`; `policyDigest` names the policy its
    /// machine must be checked with (nil: the collector's default); `machine` (a machine's key
    /// id) makes it a token that gives that machine a new key.
    func addEnrollmentToken(hash: String, now: Int, policyDigest: String?, expiresAt: Int, machine: String?)
        async throws
    /// Every enrollment token, used or not, newest first (never the token itself: only its hash is kept).
    func enrollmentTokens() async throws -> [EnrollmentTokenRecord]
    /// Revokes the unused tokens whose id (`EnrollmentTokenRecord.id`) is `id`; how many.
    func revokeEnrollmentToken(id: String, now: Int) async throws -> Int
    /// Removes a machine: its keys are retired, it leaves the fleet views, and its reports stay,
    /// for the record. False when no such machine is enrolled.
    func removeMachine(keyID: String, now: Int) async throws -> Bool
    /// Sets the policy a machine must be checked with from now on; false when no such machine is enrolled.
    func setPolicy(keyID: String, digest: String) async throws -> Bool
    /// Binds a key with a one-time token (see `EnrollmentOutcome`); the token is used only when
    /// the key is bound.
    func enroll(tokenHash: String, machine: EnrolledMachine, now: Int) async throws -> EnrollmentOutcome
    /// A new key for the machine whose key `currentKeyID` is: good at once, and the current one
    /// stays good until a report signed with the new one is stored (reports still spooled).
    func rotateKey(from currentKeyID: String, to newKeyID: String, publicKey: String, now: Int) async throws
        -> RotationOutcome
    /// The key a report is signed with and the machine it speaks for (`retired` when replaced
    /// by a newer one or its machine removed); nil for a key never enrolled.
    func signingKey(keyID: String) async throws -> SigningKey?
    func machine(keyID: String) async throws -> EnrolledMachine?
    /// Stores a report whose signature was verified: `.stored`, `.duplicate` (same report id:
    /// acknowledge again), or `.replayed` (sequence not above the last one).
    func store(_ report: StoredReport) async throws -> StoreOutcome
    func reports(keyID: String) async throws -> [StoredReport]
    /// A machine's reports without their contents, oldest first.
    func reportHeaders(keyID: String) async throws -> [ReportHeader]
    func report(id: String) async throws -> StoredReport?
    /// Every enrolled machine with its latest report's problems, for the fleet views.
    func fleet() async throws -> [MachineState]

    /// Registers a policy whose full checks the collector accepts, with its rule ids (again: replaced).
    func addPolicy(_ policy: RegisteredPolicy) async throws
    /// The registered policies (not the built-in one), by digest.
    func policies() async throws -> [RegisteredPolicy]
    func policy(digest: String) async throws -> RegisteredPolicy?
    /// False when no such policy was registered; machines still expected to be checked with it
    /// then have no full check until their policy is set again.
    func removePolicy(digest: String) async throws -> Bool

    func addAdminToken(hash: String, now: Int) async throws
    func isAdminToken(hash: String) async throws -> Bool
}

extension ReportStore {
    /// How long a token is good for when not said otherwise.
    public static var enrollmentTokenLifetime: Int { 7 * 86_400 }

    public func addEnrollmentToken(
        hash: String, now: Int, policyDigest: String? = nil, expiresAt: Int? = nil, machine: String? = nil
    ) async throws {
        try await addEnrollmentToken(
            hash: hash, now: now, policyDigest: policyDigest,
            expiresAt: expiresAt ?? now + Self.enrollmentTokenLifetime,
            machine: machine)
    }
}

/// An enrollment token as the collector keeps it: by the start of its hash, with its times.
public struct EnrollmentTokenRecord: Sendable, Equatable {
    /// The first 12 hex digits of the token's hash: what `tokens revoke` takes.
    public let id: String
    public let createdAt: Int
    public let expiresAt: Int
    public let usedAt: Int?
    public let revokedAt: Int?
    public let policyDigest: String?
    /// The machine whose key it replaces, for a token made with `token --machine`.
    public var machine: String?
}

/// What `enroll` did.
public enum EnrollmentOutcome: Sendable, Equatable {
    /// A new machine, or the same key enrolled again (run twice, or after `machines remove`).
    case enrolled(machine: String, lastSequence: Int)
    /// A token issued for `machine` gave it this key; its earlier keys are retired.
    case replacedKey(machine: String, lastSequence: Int)
    /// The token is unknown, used, revoked or expired, or its machine was removed.
    case tokenRefused
    /// A machine with this machine-id (and DMI serial) is enrolled with another key: a new key
    /// for it needs a token issued for it, or a rotation signed by its key. Cloned images share
    /// machine-ids, so the machine-id alone never replaces a key.
    case alreadyEnrolled(machine: String)
    /// The key was replaced by a newer one, or its machine removed: never bound again.
    case keyRetired
    /// The key is enrolled for a machine with another identity (machine-id, DMI serial): moving
    /// it needs a token issued for that machine.
    case identityChanged(machine: String)

    /// Whether the key is now enrolled (and the token used).
    public var isBound: Bool {
        switch self {
        case .enrolled, .replacedKey: true
        case .tokenRefused, .alreadyEnrolled, .keyRetired, .identityChanged: false
        }
    }
}

/// What `rotateKey` did.
public enum RotationOutcome: Sendable, Equatable {
    /// The new key is the machine's (asked again: the same answer).
    case rotated(machine: String)
    /// The signing key is not a current key of an enrolled machine.
    case unknownKey
    /// The new key is already some machine's.
    case keyInUse
    /// A rotation to another key is pending: only the same request, or one signed by the
    /// pending key, is taken (a stolen old key cannot replace the machine's new one).
    case rotationPending
}

/// An enrolled key and the machine it speaks for.
public struct SigningKey: Sendable, Equatable {
    public let keyID: String
    /// base64url, as enrolled.
    public let publicKey: String
    public let machine: EnrolledMachine
    /// Replaced by a newer key, or its machine removed: it never signs a stored report again.
    public var retired = false
}

/// A machine bound to its Ed25519 key at enrollment, with the identity it gave and its last sequence
/// number (the replay check).
public struct EnrolledMachine: Sendable, Equatable, Codable {
    /// The id of the key it first enrolled with: the machine's id in the fleet, whatever keys replace it.
    public let keyID: String
    /// Its current key (base64url).
    public var publicKey: String
    public var machineID: String
    public var hostname: String
    public var dmiSerial: String?
    public var lastSequence = 0
    /// When it enrolled (unix seconds; 0 before it is stored): no report of it is older.
    public var enrolledAt = 0
    /// The digest of the policy it must be checked with: only a report made with it, on the
    /// machine's own root, is a full check.
    public var policyDigest = ""

    public init(
        keyID: String, publicKey: String, machineID: String, hostname: String, dmiSerial: String?,
        lastSequence: Int = 0,
        enrolledAt: Int = 0, policyDigest: String = PolicyDigest.embeddedDefault
    ) {
        self.keyID = keyID
        self.publicKey = publicKey
        self.machineID = machineID
        self.hostname = hostname
        self.dmiSerial = dmiSerial
        self.lastSequence = lastSequence
        self.enrolledAt = enrolledAt
        self.policyDigest = policyDigest
    }
}

/// A verified report as stored: the signed report itself (re-verifiable later) and the fields
/// the fleet views need.
public struct StoredReport: Sendable, Equatable {
    public let reportID: String
    /// The machine's key id (`EnrolledMachine.keyID`).
    public let keyID: String
    public let sequence: Int
    public let receivedAt: Int
    public let startedAt: Int
    public let hostname: String
    public let policyID: String
    public let verdict: String
    public let signed: CompactToken
    /// Rules that did not pass (fail, warn, error); passes are in the token.
    public let problems: [StoredFinding]
    /// The pending security updates it names, each with the earlier of when the machine says it
    /// first saw it and when this report was made.
    public var securityUpdates: [UpdateSighting] = []
    /// Made with the machine's expected policy, all its rules, on the machine's own root: only
    /// such a report may show the machine compliant. Decided by `isFullCheck` when stored.
    public var fullCheck = true
    /// The key that signed it (the machine's, or a newer one of the same machine); "" when read back.
    public var signingKeyID = ""
    /// The digest of the policy it says it was made with, and whether of the machine's own root
    /// ("/"): as received, for `isFullCheck`.
    public var policyDigest = ""
    public var ownRoot = true
    /// Its findings are exactly one per rule of the policy it names (a policy the collector
    /// knows: `KnownPolicies`): a report cannot claim a full check of rules it left out.
    public var findingsCoverPolicy = false

    /// Only a check of the whole expected policy on the machine itself (not --rules, another
    /// policy, --root over a copy, or a report whose findings leave rules out) can show the
    /// machine compliant. Decided when stored, against the policy the machine must be checked
    /// with at that moment (`machines set-policy`).
    public func isFullCheck(expectedPolicy: String) -> Bool {
        ownRoot && policyDigest == expectedPolicy && findingsCoverPolicy
    }

    /// The signed report as the machine sent it ("" if its stored copy is damaged).
    public var token: String { signed.token ?? "" }
}

/// A pending security update as a report names it, with when it was first seen.
public struct UpdateSighting: Sendable, Equatable {
    public let package: String
    public let installed: String
    public let firstSeen: Int

    public init(package: String, installed: String, firstSeen: Int) {
        self.package = package
        self.installed = installed
        self.firstSeen = firstSeen
    }

    /// Which updates (package and installed version) a report names, as SHA-256 of the sorted
    /// names and versions (stable: it is stored). A report naming the same ones as the machine's
    /// previous report changes no sighting but by a claim of an earlier one, which only the
    /// machine's own record loses.
    static func digest(_ sightings: [UpdateSighting]) -> String {
        let text = sightings.map { $0.package + "\u{0}" + $0.installed }.sorted().joined(separator: "\n")
        return SHA256.hash(data: Array(text.utf8)).map { String($0, radix: 16) }.joined()
    }
}

/// A rule that did not pass in a stored report, kept beside the token for the fleet views.
public struct StoredFinding: Sendable, Equatable, Codable {
    public let ruleID: String
    public let status: String
    public let severity: String
    public let titleJa: String
    public let titleEn: String
    public let clauses: [String]
}

/// A machine as the fleet views show it.
public struct MachineState: Sendable, Equatable {
    public let machine: EnrolledMachine
    public let enrolledAt: Int
    /// When its latest report arrived, and what it said; nil before the first report.
    public let lastSeen: Int?
    public let lastReport: ReportHeader?
    public let problems: [StoredFinding]
    /// Since when, by the collector's record, the oldest security update its latest report names
    /// has been pending: the earliest sighting in any of its reports, whatever the machine keeps.
    public var securityPendingSince: Int?
    /// The hostname its latest report gives, when that is not the enrolled one.
    public var reportedHostname: String?
}

/// A stored report without its contents: enough to list a machine's reports.
public struct ReportHeader: Sendable, Equatable, Codable {
    public let reportID: String
    public let sequence: Int
    public let startedAt: Int
    public let receivedAt: Int
    public let verdict: String
    public let policyID: String
    /// See `StoredReport.fullCheck`; false for reports stored before it was recorded.
    public var fullCheck = true
}

/// What `store` did with a report; the collector acknowledges or refuses it accordingly.
public enum StoreOutcome: Sendable, Equatable {
    case stored
    /// This machine sent this report before: acknowledge it again.
    case duplicate
    /// The sequence is not above the machine's last one.
    case replayed
    /// The sequence is more than `Ingest.maximumSequenceStep` above the machine's last one: stored,
    /// it would make every later report of the machine a replay.
    case sequenceTooFarAhead(last: Int)
    /// Another machine's report has this id.
    case idTaken
    /// The machine was removed, or its key replaced by a newer one that signed a stored report.
    case unknownMachine
}
