import Synchronization

@testable import TenkenBase
@testable import TenkenCollector

/// The collector's store in memory, for handler tests in this process. It decides as the
/// SQLite store does, with the same rules (`ReportAdmission`, `SightingMerge`, `KeyBinding`);
/// `StoreConformanceTests` runs one suite against both.
public final class InMemoryReportStore: ReportStore {
    struct Token {
        let createdAt: Int
        let expiresAt: Int
        var usedAt: Int?
        var revokedAt: Int?
        let policyDigest: String?
        let machine: String?
    }

    struct Key {
        let machine: String
        let publicKey: String
        var retired = false
        var retiredAt = 0
        /// The order keys were retired in by rotation: the newest `ReportAdmission.retiredKeysKept` stay.
        var retirement = 0
    }

    struct Machine {
        var enrolled: EnrolledMachine
        var removed = false
        var pendingKeyID: String?
        var lastSeen: Int?
        var lastReportID: String?
        var reportedHostname: String?
        var securityPendingSince: Int?
        var sightings: [String: [String: Int]] = [:]
    }

    struct State {
        var tokens: [String: Token] = [:]
        var keys: [String: Key] = [:]
        var machines: [String: Machine] = [:]
        var reports: [String: StoredReport] = [:]
        var policies: [String: RegisteredPolicy] = [:]
        var retirements = 0
        var admins: Set<String> = []

        func live(_ machine: String) -> Machine? {
            machines[machine].flatMap { $0.removed ? nil : $0 }
        }
    }

    private let state = Mutex(State())

    public init() {}

    public func addEnrollmentToken(hash: String, now: Int, policyDigest: String?, expiresAt: Int, machine: String?)
        async throws
    {
        state.withLock {
            $0.tokens[hash] = Token(createdAt: now, expiresAt: expiresAt, policyDigest: policyDigest, machine: machine)
        }
    }

    public func enrollmentTokens() async throws -> [EnrollmentTokenRecord] {
        state.withLock { state in
            state.tokens.sorted { ($0.value.createdAt, $1.key) > ($1.value.createdAt, $0.key) }.map { hash, token in
                EnrollmentTokenRecord(
                    id: String(hash.prefix(12)), createdAt: token.createdAt, expiresAt: token.expiresAt,
                    usedAt: token.usedAt, revokedAt: token.revokedAt, policyDigest: token.policyDigest,
                    machine: token.machine)
            }
        }
    }

    public func revokeEnrollmentToken(id: String, now: Int) async throws -> Int {
        state.withLock { state in
            let hashes = state.tokens.filter { hash, token in
                id.count == 12 && hash.hasPrefix(id) && token.usedAt == nil && token.revokedAt == nil
            }.keys
            for hash in hashes { state.tokens[hash]?.revokedAt = now }
            return hashes.count
        }
    }

    public func removeMachine(keyID: String, now: Int) async throws -> Bool {
        state.withLock { state in
            guard state.live(keyID) != nil else { return false }
            state.machines[keyID]?.removed = true
            state.machines[keyID]?.sightings = [:]
            state.machines[keyID]?.securityPendingSince = nil
            state.machines[keyID]?.pendingKeyID = nil
            for (id, key) in state.keys where key.machine == keyID { state.keys[id]?.retired = true }
            return true
        }
    }

    public func setPolicy(keyID: String, digest: String) async throws -> Bool {
        state.withLock { state in
            guard var machine = state.live(keyID) else { return false }
            machine.enrolled.policyDigest = digest
            state.machines[keyID] = machine
            return true
        }
    }

    public func enroll(tokenHash: String, machine: EnrolledMachine, now: Int) async throws -> EnrollmentOutcome {
        state.withLock { state in
            guard let token = state.tokens[tokenHash], token.usedAt == nil, token.revokedAt == nil,
                token.expiresAt > now
            else { return .tokenRefused }
            let known = KeyBinding.Known(
                key: state.keys[machine.keyID].map { key in
                    (
                        machine: key.machine, retired: key.retired,
                        sameMachine: state.machines[key.machine].map {
                            KeyBinding.isSameMachine($0.enrolled, as: machine)
                        } ?? false
                    )
                },
                target: token.machine.map { (machine: $0, lastSequence: state.live($0)?.enrolled.lastSequence) },
                sameMachines: state.machines.values.filter { !$0.removed }.map(\.enrolled)
                    .sorted { $0.keyID < $1.keyID }.filter { KeyBinding.isSameMachine($0, as: machine) }.map(\.keyID))
            /// The machine as it now says it is, its policy kept unless the token names one.
            func rebound(_ record: inout Machine) {
                record.enrolled.machineID = machine.machineID
                record.enrolled.hostname = machine.hostname
                record.enrolled.dmiSerial = machine.dmiSerial
                record.enrolled.policyDigest = token.policyDigest ?? record.enrolled.policyDigest
            }
            let outcome: EnrollmentOutcome
            switch KeyBinding.decide(known) {
            case .refuse(let refused):
                return refused
            case .updateInPlace(let owner):
                var record = state.machines[owner]!
                rebound(&record)
                state.machines[owner] = record
                outcome = .enrolled(machine: owner, lastSequence: record.enrolled.lastSequence)
            case .replaceKeys(let target, let last):
                for (keyID, key) in state.keys where key.machine == target { state.keys[keyID]?.retired = true }
                state.keys[machine.keyID] = Key(machine: target, publicKey: machine.publicKey)
                var record = state.machines[target]!
                rebound(&record)
                record.enrolled.publicKey = machine.publicKey
                record.pendingKeyID = nil
                state.machines[target] = record
                outcome = .replacedKey(machine: target, lastSequence: last)
            case .newMachine:
                var enrolled = machine
                enrolled.enrolledAt = now
                enrolled.lastSequence = 0
                enrolled.policyDigest = token.policyDigest ?? machine.policyDigest
                state.machines[machine.keyID] = Machine(enrolled: enrolled)
                state.keys[machine.keyID] = Key(machine: machine.keyID, publicKey: machine.publicKey)
                outcome = .enrolled(machine: machine.keyID, lastSequence: 0)
            }
            state.tokens[tokenHash]?.usedAt = now
            return outcome
        }
    }

    public func rotateKey(from currentKeyID: String, to newKeyID: String, publicKey: String, now: Int) async throws
        -> RotationOutcome
    {
        state.withLock { state in
            guard let current = state.keys[currentKeyID], !current.retired, let machine = state.live(current.machine)
            else { return .unknownKey }
            if machine.pendingKeyID == newKeyID { return .rotated(machine: current.machine) }
            if let pending = machine.pendingKeyID, pending != currentKeyID { return .rotationPending }
            guard state.keys[newKeyID] == nil else { return .keyInUse }
            if let pending = machine.pendingKeyID { state.keys[pending]?.retired = true }
            state.keys[newKeyID] = Key(machine: current.machine, publicKey: publicKey)
            state.machines[current.machine]?.pendingKeyID = newKeyID
            return .rotated(machine: current.machine)
        }
    }

    public func signingKey(keyID: String) async throws -> SigningKey? {
        state.withLock { state in
            guard let key = state.keys[keyID], let machine = state.machines[key.machine] else { return nil }
            return SigningKey(
                keyID: keyID, publicKey: key.publicKey, machine: machine.enrolled,
                retired: key.retired || machine.removed)
        }
    }

    public func machine(keyID: String) async throws -> EnrolledMachine? {
        state.withLock { $0.live(keyID)?.enrolled }
    }

    public func store(_ report: StoredReport) async throws -> StoreOutcome {
        state.withLock { state in
            let key = state.keys[report.signingKeyID]
            let record =
                key.flatMap { $0.retired || $0.machine != report.keyID ? nil : state.live($0.machine) }
            let decision = ReportAdmission.decide(
                report, owner: state.reports[report.reportID]?.keyID,
                machine: record.map {
                    ReportAdmission.Machine(
                        lastSequence: $0.enrolled.lastSequence, pendingKeyID: $0.pendingKeyID,
                        policyDigest: $0.enrolled.policyDigest)
                })
            guard case .success(let admitted) = decision, var machine = record else {
                if case .failure(let refused) = decision { return refused.outcome }
                return .unknownMachine
            }
            if admitted.completesRotation {
                for (keyID, key) in state.keys
                where key.machine == report.keyID && keyID != report.signingKeyID && !key.retired {
                    state.keys[keyID]?.retired = true
                    state.keys[keyID]?.retiredAt = report.receivedAt
                    state.retirements += 1
                    state.keys[keyID]?.retirement = state.retirements
                }
                let retired = state.keys.filter { $0.value.machine == report.keyID && $0.value.retired }
                for (keyID, _) in retired.sorted(by: { $0.value.retirement > $1.value.retirement })
                    .dropFirst(ReportAdmission.retiredKeysKept)
                {
                    state.keys[keyID] = nil
                }
                machine.pendingKeyID = nil
                machine.enrolled.publicKey = key!.publicKey
            }
            var stored = report
            stored.fullCheck = admitted.fullCheck
            state.reports[report.reportID] = stored
            if admitted.fullCheck {
                let merge = SightingMerge(known: machine.sightings, reported: report.securityUpdates)
                for sighting in merge.writes {
                    machine.sightings[sighting.package, default: [:]][sighting.installed] = sighting.firstSeen
                }
                for stale in merge.deletes { machine.sightings[stale.package]?[stale.installed] = nil }
                machine.securityPendingSince = merge.oldest
            }
            machine.enrolled.lastSequence = report.sequence
            machine.lastSeen = report.receivedAt
            machine.lastReportID = report.reportID
            machine.reportedHostname = ReportAdmission.reportedHostname(
                report.hostname, enrolled: machine.enrolled.hostname)
            state.machines[report.keyID] = machine
            return .stored
        }
    }

    public func reports(keyID: String) async throws -> [StoredReport] {
        state.withLock { $0.reports.values.filter { $0.keyID == keyID }.sorted { $0.sequence < $1.sequence } }
    }

    public func reportHeaders(keyID: String) async throws -> [ReportHeader] {
        try await reports(keyID: keyID).map(Self.header)
    }

    public func report(id: String) async throws -> StoredReport? {
        state.withLock { $0.reports[id] }
    }

    public func fleet() async throws -> [MachineState] {
        state.withLock { state in
            state.machines.values.filter { !$0.removed }
                .sorted { ($0.enrolled.hostname, $0.enrolled.keyID) < ($1.enrolled.hostname, $1.enrolled.keyID) }
                .map { machine in
                    let last = machine.lastReportID.flatMap { state.reports[$0] }
                    return MachineState(
                        machine: machine.enrolled, enrolledAt: machine.enrolled.enrolledAt, lastSeen: machine.lastSeen,
                        lastReport: last.map(Self.header), problems: last?.problems ?? [],
                        securityPendingSince: machine.securityPendingSince, reportedHostname: machine.reportedHostname)
                }
        }
    }

    public func addPolicy(_ policy: RegisteredPolicy) async throws {
        state.withLock { $0.policies[policy.digest] = policy }
    }

    public func policies() async throws -> [RegisteredPolicy] {
        state.withLock { $0.policies.values.sorted { ($0.addedAt, $0.digest) < ($1.addedAt, $1.digest) } }
    }

    public func policy(digest: String) async throws -> RegisteredPolicy? {
        state.withLock { $0.policies[digest] }
    }

    public func removePolicy(digest: String) async throws -> Bool {
        state.withLock { $0.policies.removeValue(forKey: digest) != nil }
    }

    public func addAdminToken(hash: String, now: Int) async throws {
        _ = state.withLock { $0.admins.insert(hash) }
    }

    public func isAdminToken(hash: String) async throws -> Bool {
        state.withLock { $0.admins.contains(hash) }
    }

    static func header(_ report: StoredReport) -> ReportHeader {
        ReportHeader(
            reportID: report.reportID, sequence: report.sequence, startedAt: report.startedAt,
            receivedAt: report.receivedAt, verdict: report.verdict, policyID: report.policyID,
            fullCheck: report.fullCheck)
    }
}
